//! Access re-check: every `FIELDESK_WS_RECHECK_SECS`, the people and
//! sessions behind this instance's sockets are read again (two queries per
//! few hundred sockets, not one per socket). A socket whose person was
//! deactivated or changed role, or whose session ended (signed out,
//! revoked, expired), is told to close; it reconnects with fresh
//! credentials if it still has them. The desk staff whose sockets stay
//! open are marked seen (`availability::record_seen`): an open tab keeps
//! its person online.

use crate::domain::availability::DESK_STAFF;
use crate::server::availability;
use crate::server::db::{sessions, users};
use crate::server::state::AppState;
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Ids looked up per query.
const CHUNK: usize = 500;

pub(super) async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.live.limits.recheck_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = recheck(&state).await {
            tracing::error!(error = ?e, "live updates: access re-check failed; retrying");
        }
    }
}

async fn recheck(state: &AppState) -> Result<(), sqlx::Error> {
    let open: Vec<(u64, Uuid, Uuid, crate::domain::Role)> = {
        let hub = state.live.lock();
        hub.sockets
            .iter()
            .map(|(id, s)| (*id, s.user, s.session, s.role))
            .collect()
    };
    if open.is_empty() {
        return Ok(());
    }
    let people: Vec<Uuid> = open
        .iter()
        .map(|s| s.1)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let session_ids: Vec<Uuid> = open
        .iter()
        .map(|s| s.2)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut roles = HashMap::new();
    for chunk in people.chunks(CHUNK) {
        roles.extend(users::active_roles(&state.db, chunk).await?);
    }
    let now = Utc::now();
    let mut sessions_open = HashSet::new();
    for chunk in session_ids.chunks(CHUNK) {
        sessions_open.extend(sessions::open_among(&state.db, chunk, now).await?);
    }
    let mut seen = HashSet::new();
    {
        let mut hub = state.live.lock();
        for (id, user, session, role) in open {
            let still = roles.get(&user) == Some(&role) && sessions_open.contains(&session);
            if still {
                if DESK_STAFF.contains(&role) {
                    seen.insert(user);
                }
            } else if let Some(end) = hub.sockets.get_mut(&id).and_then(|s| s.end.take()) {
                let _ = end.send(());
            }
        }
    }
    let seen: Vec<Uuid> = seen.into_iter().collect();
    availability::record_seen(&state.db, &seen, now).await?;
    Ok(())
}
