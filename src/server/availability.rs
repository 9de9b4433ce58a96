//! Staff availability: who of the desk is online, away or offline, and
//! the desk's pulse (its people and counters) for managers. A person is
//! marked seen while a socket of theirs is open (the sockets' access
//! re-check calls `record_seen`), when the top bar's away toggle loads
//! (`is_away`, on every page) and when they set their availability;
//! `engine::availability` turns that into online, away or offline.

use crate::domain::availability::{Availability, DESK_STAFF, DeskPulse, StaffAvailability};
use crate::domain::{ApiError, Capability, Role};
use crate::engine::availability::{day_start, stale_before};
use crate::server::auth::Principal;
use crate::server::db::availability::{self as store, StaffRow};
use crate::server::db::{Db, sla, tickets};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// People marked seen per statement.
const CHUNK: usize = 500;

fn to_staff(row: &StaffRow, role: Role, now: DateTime<Utc>) -> StaffAvailability {
    let status = row.seen().status(now);
    StaffAvailability {
        user_id: row.id,
        name: row.name.clone(),
        role,
        availability: status.availability,
        since: status.since,
    }
}

/// The organization's desk staff (active agents and managers, by name)
/// with their availability, and the counters: open tickets, unassigned
/// open tickets, SLA breaches since the start of today (UTC) and agents
/// online (not away). For those who see the desk's figures (managers,
/// executives, admins).
pub async fn pulse(state: &AppState, caller: &Principal) -> AppResult<DeskPulse> {
    caller.require(Capability::ViewAnalytics)?;
    let org = caller.org();
    let now = Utc::now();
    let rows = store::staff(&state.db, org, DESK_STAFF).await?;
    let staff: Vec<StaffAvailability> = rows
        .iter()
        .filter_map(|row| Some(to_staff(row, row.role.parse().ok()?, now)))
        .collect();
    let me = caller.user_id().unwrap_or_default();
    let counts = tickets::queue_counts(&state.db, org, me).await?;
    let breaches_today = sla::breaches_since(&state.db, org, day_start(now)).await?;
    let agents_online = staff
        .iter()
        .filter(|s| s.role == Role::Agent && s.availability == Availability::Online)
        .count() as i64;
    Ok(DeskPulse {
        staff,
        open_tickets: counts.all_open,
        unassigned: counts.unassigned,
        breaches_today,
        agents_online,
    })
}

/// Marks `user_ids` seen at `now`: one UPDATE per few hundred people,
/// writing only those not written within `SEEN_EVERY`; someone who was
/// offline comes online now. The number of people written.
pub async fn record_seen(
    db: &Db,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut written = 0;
    for chunk in user_ids.chunks(CHUNK) {
        written += store::mark_seen(db.writer(), chunk, now).await?;
    }
    Ok(written)
}

/// The caller (desk staff) says they are away, or back. Saying so is a
/// sign they are there: it marks them seen. Their availability after it.
pub async fn set_away(
    state: &AppState,
    caller: &Principal,
    away: bool,
) -> AppResult<StaffAvailability> {
    caller.require(Capability::ReadAllTickets)?;
    let me = caller.person()?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    store::mark_seen(&mut tx, &[me.id], now).await?;
    let mut row = store::staff_member(&mut tx, me.org, me.id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let was_away = row.seen().status(now).availability == Availability::Away;
    // Already away stays away since when they first said so.
    if away != was_away {
        store::set_away_since(&mut tx, me.id, away.then_some(now)).await?;
        // As stored (PostgreSQL keeps microseconds).
        row = store::staff_member(&mut tx, me.org, me.id)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
    }
    tx.commit().await?;
    Ok(to_staff(&row, me.role, now))
}

/// Whether the caller (desk staff) is away. The top bar's toggle asks on
/// every page the person opens, which is as good a sign that they are
/// there as an open socket: it marks them seen.
pub async fn is_away(state: &AppState, caller: &Principal) -> AppResult<bool> {
    caller.require(Capability::ReadAllTickets)?;
    let me = caller.person()?;
    let now = Utc::now();
    let read = || store::staff_member(&state.db, me.org, me.id);
    let mut row = read().await?.ok_or_else(ApiError::unauthorized)?;
    // Most page loads come within `SEEN_EVERY` of the last one: a read,
    // and no write (SQLite has one writer).
    if row.last_seen_at.is_none_or(|at| at < stale_before(now)) {
        record_seen(&state.db, &[me.id], now).await?;
        row = read().await?.ok_or_else(ApiError::unauthorized)?;
    }
    Ok(row.seen().status(now).availability == Availability::Away)
}
