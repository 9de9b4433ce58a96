//! Running jobs: claim what is due (each job leased for one attempt), run
//! up to `PARALLEL` at once, complete each in the transaction of its
//! effects, and back off or give up on failures.

use super::{BoxFuture, SAFETY_POLL};
use crate::engine::retry::RetryPolicy;
use crate::server::db::jobs::{self, ClaimedJob, NewJob};
use crate::server::state::AppState;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Jobs run at the same time by one process (a slow SMTP server must not
/// hold up every other job).
const PARALLEL: usize = 4;

/// Does one kind of job.
pub trait JobHandler: Send + Sync + 'static {
    /// The `jobs.kind` it runs (a fixed name).
    fn kind(&self) -> &'static str;

    /// Does the job. Effects on the database go in one transaction that
    /// also calls `db::jobs::complete(tx, job)` — and is rolled back when
    /// that returns false (the lease ran out and another worker has the
    /// job) — so they happen once. A handler that returns Ok without
    /// completing the job has it completed for it.
    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>>;

    /// How long an attempt may take before another worker may take the job.
    fn lease(&self) -> TimeDelta {
        TimeDelta::minutes(5)
    }

    fn retry(&self) -> RetryPolicy {
        RetryPolicy::BACKGROUND
    }

    /// For recurring jobs: the first run, enqueued at start unless queued.
    fn recurring(&self, _now: DateTime<Utc>) -> Option<NewJob> {
        None
    }
}

/// Why an attempt failed.
#[derive(Debug)]
pub enum JobError {
    /// Worth trying again later (a server down, a timeout).
    Retry(String),
    /// Trying again cannot help: the job fails for good.
    Fatal(String),
}

/// The job's payload as `T`; one this build cannot read fails for good.
pub fn payload<T: serde::de::DeserializeOwned>(job: &ClaimedJob) -> Result<T, JobError> {
    serde_json::from_str(&job.payload).map_err(|e| JobError::Fatal(format!("bad payload: {e}")))
}

impl<E: Into<anyhow::Error>> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError::Retry(format!("{:#}", e.into()))
    }
}

pub(super) async fn run(state: AppState, handlers: Vec<Arc<dyn JobHandler>>) {
    let by_kind: HashMap<&'static str, Arc<dyn JobHandler>> =
        handlers.iter().map(|h| (h.kind(), h.clone())).collect();
    let kinds: Vec<&'static str> = by_kind.keys().copied().collect();
    let longest_lease = handlers.iter().map(|h| h.lease()).max().unwrap_or_default();
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let free = PARALLEL - running.len();
        let now = Utc::now();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            // One claim for every kind, leased for the longest of their leases.
            match jobs::claim(&state.db, &kinds, now, now + longest_lease, free as u32).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::error!(error = %e, "claiming jobs failed; retrying");
                    Vec::new()
                }
            }
        };
        let got_some = !claimed.is_empty();
        for job in claimed {
            let Some(handler) = by_kind.get(job.kind.as_str()).cloned() else {
                continue;
            };
            let state = state.clone();
            running.spawn(async move { attempt(&state, handler.as_ref(), job).await });
        }
        if got_some && running.len() < PARALLEL {
            continue;
        }
        let wait = match jobs::next_due(&state.db, &kinds).await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or_default()
                .min(SAFETY_POLL),
            Ok(None) => SAFETY_POLL,
            Err(e) => {
                tracing::error!(error = %e, "looking for due jobs failed; retrying");
                SAFETY_POLL
            }
        };
        tokio::select! {
            _ = state.db.wake().jobs.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
}

async fn attempt(state: &AppState, handler: &dyn JobHandler, job: ClaimedJob) {
    let started = std::time::Instant::now();
    let result = handler.run(state, &job).await;
    metrics::histogram!("fieldesk_job_seconds", "kind" => handler.kind())
        .record(started.elapsed().as_secs_f64());
    let now = Utc::now();
    let recorded = match result {
        Ok(()) => complete(state, &job).await,
        Err(e) => {
            let (error, retry_at) = match e {
                JobError::Retry(error) => (error, handler.retry().next_attempt(job.attempts, now)),
                JobError::Fatal(error) => (error, None),
            };
            if retry_at.is_none() {
                tracing::error!(job = %job.id, kind = job.kind, attempts = job.attempts, error, "job failed for good");
            } else {
                tracing::warn!(job = %job.id, kind = job.kind, attempts = job.attempts, error, "job failed; will retry");
            }
            jobs::fail(&state.db, &job, &error, retry_at, now).await
        }
    };
    if let Err(e) = recorded {
        // The lease runs out and the job is tried again.
        tracing::error!(job = %job.id, error = %e, "recording a job's outcome failed");
    }
}

/// Completes a job its handler did not complete itself.
async fn complete(state: &AppState, job: &ClaimedJob) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    if jobs::complete(&mut tx, job).await? {
        tx.commit().await?;
    }
    Ok(())
}
