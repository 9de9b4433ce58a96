//! The durable job table: work due at a time, enqueued in the transaction
//! of the change that causes it, claimed with a lease, and deleted in the
//! transaction of its effects (see `server::runtime::jobs`).

use super::{Db, Query, Tx, dialect, query};
use crate::domain::wire_enum;
use chrono::{DateTime, Utc};
use uuid::Uuid;

wire_enum! {
    /// Where a job stands; a done job is deleted with its effects. (No
    /// CHECK list in the schema: validated here, extended without a table
    /// rebuild on SQLite.)
    JobStatus {
        Queued => "queued",
        Running => "running",
        Failed => "failed",
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub organization_id: Option<Uuid>,
    pub kind: &'static str,
    /// JSON the job's handler reads.
    pub payload: String,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    /// At most one queued or running job per key: enqueueing again moves
    /// the existing one to the new time (a re-planned timer, a recurring job).
    pub unique_key: Option<String>,
}

const MOVE_EXISTING: &str = "DO UPDATE SET payload = excluded.payload, run_at = excluded.run_at, updated_at = excluded.updated_at";
const JOB_COLUMNS: &str = "jobs (id, organization_id, kind, payload, unique_key, status, run_at, attempts, max_attempts, created_at, updated_at)";

/// `enqueue` of one job as a statement that runs in another's round trip
/// (a new ticket's SLA timer beside its event), its binds numbered from
/// `$first`: see `bind_enqueued`. The caller notes the job on its
/// transaction (`Tx::wrote_jobs`) for the wake-up on commit.
pub fn enqueue_statement(first: usize) -> String {
    let p: Vec<String> = (first..first + 8).map(|n| format!("${n}")).collect();
    format!(
        "INSERT INTO {JOB_COLUMNS} VALUES ({}, {}, {}, {}, {}, 'queued', {}, 0, {}, {}, {}) ON CONFLICT (unique_key) {MOVE_EXISTING}",
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[7]
    )
}

/// Binds `job`, enqueued at `now`, to `enqueue_statement`'s placeholders.
pub fn bind_enqueued<'q>(q: Query<'q>, job: &'q NewJob, now: DateTime<Utc>) -> Query<'q> {
    q.bind(Uuid::now_v7())
        .bind(job.organization_id)
        .bind(job.kind)
        .bind(job.payload.as_str())
        .bind(job.unique_key.as_deref())
        .bind(job.run_at)
        .bind(job.max_attempts)
        .bind(now)
}

/// Enqueues `job` inside `tx`: it exists exactly when the change commits.
/// A job with the `unique_key` of a queued one moves that one instead.
pub async fn enqueue(tx: &mut Tx, job: &NewJob, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    insert(tx, std::slice::from_ref(job), now, MOVE_EXISTING).await
}

/// Enqueues `jobs` like `enqueue`, in one statement. Of jobs sharing a
/// `unique_key`, the last one counts.
pub async fn enqueue_all(
    tx: &mut Tx,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // One statement may not move the same row twice (PostgreSQL refuses).
    let mut seen = std::collections::HashSet::new();
    let mut last_per_key: Vec<NewJob> = jobs
        .iter()
        .rev()
        .filter(|job| job.unique_key.as_ref().is_none_or(|key| seen.insert(key)))
        .cloned()
        .collect();
    last_per_key.reverse();
    // Eleven parameters a job: far below either database's limit per statement.
    for chunk in last_per_key.chunks(1_000) {
        insert(tx, chunk, now, MOVE_EXISTING).await?;
    }
    Ok(())
}

/// Enqueues `job` unless one with its `unique_key` is already there (a
/// recurring job at start-up keeps the time it has).
pub async fn enqueue_once(
    tx: &mut Tx,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    insert(tx, std::slice::from_ref(job), now, "DO NOTHING").await
}

async fn insert(
    tx: &mut Tx,
    jobs: &[NewJob],
    now: DateTime<Utc>,
    on_conflict: &str,
) -> Result<(), sqlx::Error> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut insert = query(format!("INSERT INTO {JOB_COLUMNS} "));
    insert.push_values(jobs, |job| {
        [
            Uuid::now_v7().into(),
            job.organization_id.into(),
            job.kind.into(),
            job.payload.as_str().into(),
            job.unique_key.as_deref().into(),
            JobStatus::Queued.as_str().into(),
            job.run_at.into(),
            0i32.into(),
            job.max_attempts.into(),
            now.into(),
            now.into(),
        ]
    });
    insert.push(&format!(" ON CONFLICT (unique_key) {on_conflict}"));
    insert.execute(&mut *tx).await?;
    if let Some(earliest) = jobs.iter().map(|job| job.run_at).min() {
        tx.wrote_jobs(earliest);
    }
    Ok(())
}

/// A job taken for one attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub kind: String,
    pub payload: String,
    /// This attempt's number: the fence that makes a late worker's
    /// completion (after its lease ran out and another took the job) fail.
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
}

const CLAIMED_COLUMNS: &str = "id, organization_id, kind, payload, attempts, max_attempts, run_at";

/// Claims due jobs of `kinds`, leased until `lease_until`.
pub async fn claim(
    db: &Db,
    kinds: &[&str],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    query(dialect::claim_jobs(db.dialect(), kinds, CLAIMED_COLUMNS))
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(db.writer())
        .await
}

/// Completes `job` inside the transaction of its effects. False when this
/// attempt no longer holds the job (its lease ran out and another worker
/// took it): the caller must roll back.
pub async fn complete(tx: &mut Tx, job: &ClaimedJob) -> Result<bool, sqlx::Error> {
    Ok(complete_as_is(tx, job).await?.is_some())
}

/// Completes `job` like `complete`, and returns its payload as it is now:
/// enqueueing under the job's key while it ran replaced the claimed
/// payload (a request that came in meanwhile). None: not held any more.
pub async fn complete_as_is(tx: &mut Tx, job: &ClaimedJob) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = query(
        "DELETE FROM jobs WHERE id = $1 AND status = 'running' AND attempts = $2 RETURNING payload",
    )
    .bind(job.id)
    .bind(job.attempts)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|(payload,)| payload))
}

/// Records a failed attempt: queued again at `retry_at`, or `failed` for
/// good when that is None.
pub async fn fail(
    db: &Db,
    job: &ClaimedJob,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let status = if retry_at.is_some() {
        JobStatus::Queued
    } else {
        JobStatus::Failed
    };
    query(
        "UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), lease_until = NULL, last_error = $3, \
         updated_at = $4 WHERE id = $5 AND status = 'running' AND attempts = $6",
    )
    .bind(status.as_str())
    .bind(retry_at)
    .bind(error)
    .bind(now)
    .bind(job.id)
    .bind(job.attempts)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The earliest time a queued job of `kinds` is due, or a running one's
/// lease ends: when the worker should look again.
pub async fn next_due(db: &Db, kinds: &[&str]) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let kinds: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
    let kinds = kinds.join(", ");
    let (at,): (Option<DateTime<Utc>>,) = query(format!(
        "SELECT MIN(at) FROM (\
         SELECT MIN(run_at) AS at FROM jobs WHERE status = 'queued' AND kind IN ({kinds}) \
         UNION ALL SELECT MIN(lease_until) AS at FROM jobs WHERE status = 'running' AND kind IN ({kinds})) AS due"
    ))
    .fetch_one(db)
    .await?;
    Ok(at)
}

/// Counts for `/metrics` and the admins' view.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct JobHealth {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    /// How long the most overdue queued job has waited past its time.
    pub oldest_due_lag_seconds: f64,
}

pub async fn health(db: &Db, now: DateTime<Utc>) -> Result<JobHealth, sqlx::Error> {
    let rows: Vec<(String, i64, Option<DateTime<Utc>>)> =
        query("SELECT status, COUNT(*), MIN(run_at) FROM jobs GROUP BY status")
            .fetch_all(db)
            .await?;
    let mut health = JobHealth::default();
    for (status, count, oldest) in rows {
        match JobStatus::parse(&status) {
            Some(JobStatus::Queued) => {
                health.queued = count;
                health.oldest_due_lag_seconds = oldest
                    .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
                    .unwrap_or(0.0);
            }
            Some(JobStatus::Running) => health.running = count,
            Some(JobStatus::Failed) | None => health.failed += count,
        }
    }
    Ok(health)
}
