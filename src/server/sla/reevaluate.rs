//! Re-evaluating an organization's open tickets after its policies or
//! calendars changed: the `sla.reevaluate` job, planned in the change's
//! transaction under one key per organization, walks the open tickets in id
//! order, a chunk per run, and plans its own next run with its cursor.
//!
//! A chunk is read and computed outside any transaction (requests are not
//! held up while histories are read); only tickets whose stored SLA differs
//! are written, each only while it is still at the version that was read —
//! a ticket changed meanwhile went through the change path, which already
//! used the new policies. A change made while the walk runs starts it over.
//!
//! A policy change is not an event in a ticket's life: a clock it makes
//! overdue is recorded as breached at its due time, silently — nobody is
//! paged about the past, and it is not escalated later either — while due
//! times still ahead get their warning and breach timers as usual.

use super::track::{self, BREACH_JOB};
use crate::server::db::Tx;
use crate::server::db::jobs::{self, ClaimedJob, NewJob};
use crate::server::db::sla::{self as store, StoredSla};
use crate::server::runtime::{BoxFuture, JobError, JobHandler, payload};
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

pub const REEVALUATE_JOB: &str = "sla.reevaluate";

/// Tickets per run: a run's writes hold SQLite's single writer for tens of
/// milliseconds at most.
const CHUNK: i64 = 500;

/// Where a walk stands.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Walk {
    organization_id: Uuid,
    /// The change that started the walk: clocks due before it are not fired.
    requested_at: DateTime<Utc>,
    /// The last ticket done (None: from the start).
    after: Option<Uuid>,
    /// Open tickets looked at so far, and of those, re-stored.
    seen: u64,
    changed: u64,
}

fn walk_job(walk: &Walk, now: DateTime<Utc>) -> NewJob {
    NewJob {
        organization_id: Some(walk.organization_id),
        kind: REEVALUATE_JOB,
        payload: serde_json::to_string(walk).unwrap_or_default(),
        run_at: now,
        max_attempts: 10,
        unique_key: Some(format!("{REEVALUATE_JOB}:{}", walk.organization_id)),
    }
}

/// Plans the re-evaluation of `org`'s open tickets, from the start, inside
/// the transaction of the change to its policies or calendars (a walk under
/// way starts over).
pub async fn plan(tx: &mut Tx, org: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let walk = Walk {
        organization_id: org,
        requested_at: now,
        after: None,
        seen: 0,
        changed: 0,
    };
    jobs::enqueue(tx, &walk_job(&walk, now), now).await
}

pub struct Reevaluation;

impl JobHandler for Reevaluation {
    fn kind(&self) -> &'static str {
        REEVALUATE_JOB
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let walk: Walk = payload(job)?;
            let org = walk.organization_id;
            let chunk = store::open_tickets_after(&state.db, org, walk.after, CHUNK).await?;
            // The policies as they are now, not as another instance cached
            // them, and read after the tickets: at least as new as those the
            // tickets' own changes used.
            track::forget(org);
            let org_sla = track::org_sla(&state.db, org).await?;
            let now = Utc::now();
            let covered: Vec<_> = chunk
                .iter()
                .filter_map(|t| Some((t, track::applies(&org_sla, &t.row)?)))
                .collect();
            let lives: Vec<_> = covered
                .iter()
                .map(|(t, _)| (t.row.id, t.row.created_at))
                .collect();
            let mut lives = store::histories(&state.db, &lives).await?;
            let mut evaluated: HashMap<Uuid, _> = covered
                .iter()
                .map(|(t, applies)| {
                    let row = &t.row;
                    let events = lives.remove(&row.id).unwrap_or_default();
                    let (report, standing) =
                        track::evaluate_with(applies, &events, now.max(row.created_at));
                    let stored = track::stored(Some(applies.policy.id), &standing);
                    (row.id, (stored, report, standing))
                })
                .collect();

            let mut tx = state.db.begin().await?;
            let Some(now_payload) = jobs::complete_as_is(&mut tx, job).await? else {
                return Ok(());
            };
            let mut changed = 0;
            let mut timers = Vec::new();
            for ticket in &chunk {
                let row = &ticket.row;
                let evaluation = evaluated.remove(&row.id);
                let stored = evaluation
                    .as_ref()
                    .map_or_else(StoredSla::default, |(stored, _, _)| stored.clone());
                if stored == ticket.stored()
                    || !store::set_ticket(&mut tx, row.id, Some(row.version), &stored).await?
                {
                    continue;
                }
                changed += 1;
                let Some((_, report, standing)) = evaluation else {
                    continue;
                };
                timers.extend(track::next_timer(
                    row.organization_id,
                    row.id,
                    &standing,
                    now,
                ));
                let (past, since): (Vec<_>, Vec<_>) = report
                    .breaches
                    .iter()
                    .partition(|b| b.due_at < walk.requested_at);
                for breach in past {
                    let target = breach.target.as_str();
                    store::record_breach(&mut tx, org, row.id, target, breach.due_at, now).await?;
                }
                if !since.is_empty() {
                    // Due while the walk ran: the breach timer fires them now.
                    timers.push(track::timer(BREACH_JOB, row.organization_id, row.id, now));
                }
            }
            jobs::enqueue_all(&mut tx, &timers, now).await?;
            let next = if now_payload != job.payload {
                // Changed again while this chunk ran: start over.
                serde_json::from_str::<Walk>(&now_payload).ok()
            } else if chunk.len() as i64 == CHUNK {
                Some(Walk {
                    after: chunk.last().map(|t| t.row.id),
                    seen: walk.seen + chunk.len() as u64,
                    changed: walk.changed + changed,
                    ..walk.clone()
                })
            } else {
                tracing::info!(
                    organization = %org,
                    open_tickets = walk.seen + chunk.len() as u64,
                    changed = walk.changed + changed,
                    "SLA re-evaluated after a policy or calendar change"
                );
                None
            };
            if let Some(next) = next {
                jobs::enqueue(&mut tx, &walk_job(&next, now), now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
