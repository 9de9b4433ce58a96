//! Housekeeping: events every subscriber is past are deleted after the
//! retention window, a bounded batch at a time, by a job that re-enqueues
//! itself.

use super::{BoxFuture, JobError, JobHandler};
use crate::engine::retry::RetryPolicy;
use crate::server::db::events;
use crate::server::db::jobs::{self, ClaimedJob, NewJob};
use crate::server::state::AppState;
use chrono::{DateTime, TimeDelta, Utc};

/// How long handled events are kept (live updates re-synchronise from them).
const RETENTION: TimeDelta = TimeDelta::days(7);
/// How often the prune runs.
const EVERY: TimeDelta = TimeDelta::hours(1);
/// Events deleted per statement: SQLite's writer is held only briefly.
const BATCH: u32 = 5_000;

pub struct PruneEvents;

const KIND: &str = "events.prune";

fn at(run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        organization_id: None,
        kind: KIND,
        payload: "{}".into(),
        run_at,
        max_attempts: RetryPolicy::BACKGROUND.max_attempts,
        unique_key: Some(KIND.into()),
    }
}

impl JobHandler for PruneEvents {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn recurring(&self, now: DateTime<Utc>) -> Option<NewJob> {
        Some(at(now))
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let now = Utc::now();
            let mut pruned = 0;
            loop {
                let deleted = events::prune(&state.db, now - RETENTION, BATCH).await?;
                pruned += deleted;
                if deleted < u64::from(BATCH) {
                    break;
                }
            }
            if pruned > 0 {
                tracing::info!(pruned, "old events pruned");
            }
            let mut tx = state.db.begin().await?;
            if jobs::complete(&mut tx, job).await? {
                jobs::enqueue(&mut tx, &at(now + EVERY), now).await?;
                tx.commit().await?;
            }
            Ok(())
        })
    }
}
