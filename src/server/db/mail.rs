//! Outbound mail (queued, sent by the mail worker) and the bookkeeping of
//! outbox subscribers (which domain events each one has dealt with).

use super::{BeginWrite, Db, on_db, on_db_write};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

pub struct NewMail {
    pub organization_id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub attempts: i64,
}

const INSERT_MAIL: &str = "INSERT INTO outbound_mail (id, organization_id, to_address, subject, body_text, status, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)";

/// Queues `$mail` inside the open transaction `$tx`.
macro_rules! insert_mail {
    ($tx:expr, $mail:expr, $now:expr) => {
        sqlx::query(INSERT_MAIL)
            .bind(Uuid::now_v7())
            .bind($mail.organization_id)
            .bind(&$mail.to)
            .bind(&$mail.subject)
            .bind(&$mail.body)
            .bind($now)
            .execute($tx)
            .await
    };
}

/// Queues a mail for the worker to send.
pub async fn enqueue(db: &Db, mail: &NewMail, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    on_db_write!(db, pool => insert_mail!(pool, mail, now).map(|_| ()))
}

/// Pending mails whose next attempt is due, oldest first.
pub async fn due(db: &Db, now: DateTime<Utc>, limit: i64) -> Result<Vec<QueuedMail>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, to_address, subject, body_text, attempts FROM outbound_mail \
         WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// Takes a due mail for one sending attempt: counts the attempt and holds
/// the mail for `lease` so no other worker sends it meanwhile. False when
/// another worker took it first.
pub async fn claim(
    db: &Db,
    mail: &QueuedMail,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<bool, sqlx::Error> {
    let taken = on_db_write!(db, pool => sqlx::query(
        "UPDATE outbound_mail SET attempts = attempts + 1, next_attempt_at = $1 \
         WHERE id = $2 AND status = 'pending' AND attempts = $3",
    )
    .bind(now + lease)
    .bind(mail.id)
    .bind(mail.attempts)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(taken == 1)
}

pub async fn mark_sent(db: &Db, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    on_db_write!(db, pool => sqlx::query(
        "UPDATE outbound_mail SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Records a failed attempt: tried again at `retry_at`, or, when `None`
/// (the server refused the mail for good), given up as `failed`.
pub async fn mark_failed_attempt(
    db: &Db,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    on_db_write!(db, pool => sqlx::query(
        "UPDATE outbound_mail SET status = $1, last_error = $2, \
         next_attempt_at = COALESCE($3, next_attempt_at) WHERE id = $4",
    )
    .bind(status)
    .bind(error)
    .bind(retry_at)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// A domain event from the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub aggregate_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// JSON, as the change path wrote it.
    pub payload: String,
}

/// Events committed out of order (a transaction that started earlier but
/// committed later) are still picked up if they are at most this much older
/// than the newest event the subscriber has handled.
const LATE_COMMIT_WINDOW: TimeDelta = TimeDelta::minutes(10);

/// Events of `topic` that `subscriber` has not dealt with yet, oldest first.
/// A subscriber that has handled nothing yet starts from `now` minus the
/// window, so a new subscriber does not act on an old history.
pub async fn unhandled_events(
    db: &Db,
    subscriber: &str,
    topic: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let latest: Option<(DateTime<Utc>,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT event_created_at FROM outbox_handled WHERE subscriber = $1 \
         ORDER BY event_created_at DESC LIMIT 1",
    )
    .bind(subscriber)
    .fetch_optional(pool)
    .await)?;
    let since = latest.map_or(now, |(at,)| at) - LATE_COMMIT_WINDOW;
    on_db!(db, pool => sqlx::query_as(
        "SELECT o.id, o.organization_id, o.aggregate_id, o.created_at, o.payload FROM outbox o \
         WHERE o.topic = $1 AND o.created_at > $2 AND NOT EXISTS \
         (SELECT 1 FROM outbox_handled h WHERE h.subscriber = $3 AND h.event_id = o.id) \
         ORDER BY o.created_at LIMIT $4",
    )
    .bind(topic)
    .bind(since)
    .bind(subscriber)
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// Marks a round of events handled by `subscriber` and queues the mails
/// each called for, in one transaction: each mail is queued exactly once.
/// One transaction per round, not per event, because on SQLite every
/// transaction takes the single writer that ticket changes wait for.
pub async fn handle_events(
    db: &Db,
    subscriber: &str,
    handled: &[(&Event, Vec<NewMail>)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if handled.is_empty() {
        return Ok(());
    }
    on_db_write!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for (event, mails) in handled {
            let marked = sqlx::query(
                "INSERT INTO outbox_handled (subscriber, event_id, event_created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(subscriber)
            .bind(event.id)
            .bind(event.created_at)
            .execute(&mut *tx)
            .await?;
            // Another worker handled it first: leave its mails as the only ones.
            if marked.rows_affected() == 1 {
                for mail in mails {
                    insert_mail!(&mut *tx, mail, now)?;
                }
            }
        }
        tx.commit().await
    })
}
