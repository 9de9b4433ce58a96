//! The outbox and its subscribers' bookkeeping: events are written inside
//! the changing transaction with the organization's next sequence number;
//! each subscriber keeps its position per organization, and the events it
//! failed on wait in `event_retries`.

use super::{Db, Query, Tx, dialect, query};
use crate::domain::event::{DomainEvent, EVENT_VERSION, StoredEvent};
use chrono::{DateTime, Utc};
use std::sync::LazyLock;
use uuid::Uuid;

static PUBLISH: LazyLock<[String; 2]> =
    LazyLock::new(|| dialect::both(|d| dialect::publish_event(d, &[])));

/// Records `event` in the outbox inside `tx`, with the organization's next
/// sequence number.
pub async fn publish(
    tx: &mut Tx,
    org: Uuid,
    event: &DomainEvent,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = tx.dialect().pick(&PUBLISH);
    publish_with(tx, sql, org, event, now, |q| q).await
}

/// Runs `sql` — `dialect::publish_event` with a statement of the caller's
/// before it — binding the event, then the caller's `more` ($7 on). Nothing
/// is read back: on SQLite every returned row is one more hand-off between
/// threads inside the one-writer section.
pub async fn publish_with<'q>(
    tx: &mut Tx,
    sql: &'q str,
    org: Uuid,
    event: &DomainEvent,
    now: DateTime<Utc>,
    more: impl FnOnce(Query<'q>) -> Query<'q>,
) -> Result<(), sqlx::Error> {
    let sql = query(sql)
        .bind(org)
        .bind(Uuid::now_v7())
        .bind(event.kind())
        .bind(event.aggregate_id())
        .bind(payload(event))
        .bind(now);
    more(sql).execute(&mut *tx).await?;
    tx.wrote_events();
    Ok(())
}

/// The JSON stored for `event`.
pub fn payload(event: &DomainEvent) -> String {
    let stored = StoredEvent {
        v: EVENT_VERSION,
        event: event.clone(),
    };
    // Our own types always serialize.
    serde_json::to_string(&stored).unwrap_or_default()
}

/// An event read back from the outbox.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    /// The event's kind (`ticket.created`…), readable without decoding.
    pub kind: String,
    payload: String,
}

impl Event {
    /// The event itself; an error for a payload this build cannot read.
    pub fn decode(&self) -> Result<DomainEvent, serde_json::Error> {
        serde_json::from_str::<StoredEvent>(&self.payload).map(|stored| stored.event)
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    organization_id: Uuid,
    seq: i64,
    created_at: DateTime<Utc>,
    topic: String,
    payload: String,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            id: r.id,
            organization_id: r.organization_id,
            seq: r.seq,
            created_at: r.created_at,
            kind: r.topic,
            payload: r.payload,
        }
    }
}

const EVENT_COLUMNS: &str = "o.id, o.organization_id, o.seq, o.created_at, o.topic, o.payload";

/// Registers `subscriber` if it is new: it starts at the present in every
/// organization (a new subscriber does not act on history).
pub async fn register_subscriber(
    db: &Db,
    subscriber: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let added = query(
        "INSERT INTO event_subscribers (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(subscriber)
    .bind(now)
    .execute(&mut tx)
    .await?;
    if added == 1 {
        query(
            "INSERT INTO event_positions (subscriber, organization_id, seq) \
             SELECT $1, organization_id, last_seq FROM event_counters",
        )
        .bind(subscriber)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await
}

/// Where `subscriber` is in one organization's sequence.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Position {
    pub organization_id: Uuid,
    /// The last event dealt with (handled, or handed to the retries).
    pub seq: i64,
}

/// Every organization's last event number.
pub async fn counters(db: &Db) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    query("SELECT organization_id, last_seq FROM event_counters")
        .fetch_all(db)
        .await
}

/// Where `subscriber` stands in `org` (0: it has seen nothing there).
pub async fn position(db: &Db, subscriber: &str, org: Uuid) -> Result<i64, sqlx::Error> {
    let seq: Option<(i64,)> =
        query("SELECT seq FROM event_positions WHERE subscriber = $1 AND organization_id = $2")
            .bind(subscriber)
            .bind(org)
            .fetch_optional(db)
            .await?;
    Ok(seq.map_or(0, |(seq,)| seq))
}

/// The next events of one organization after `position`, in order.
pub async fn after(db: &Db, position: Position, limit: u32) -> Result<Vec<Event>, sqlx::Error> {
    let rows: Vec<EventRow> = query(format!(
        "SELECT {EVENT_COLUMNS} FROM outbox o WHERE o.organization_id = $1 AND o.seq > $2 \
         ORDER BY o.seq LIMIT $3"
    ))
    .bind(position.organization_id)
    .bind(position.seq)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Event::from).collect())
}

/// What the outbox still holds of one organization: the oldest retained
/// event's number (None: none retained) and the last event's number (0:
/// none ever).
pub async fn retained(db: &Db, org: Uuid) -> Result<(Option<i64>, i64), sqlx::Error> {
    query(
        "SELECT (SELECT MIN(seq) FROM outbox WHERE organization_id = $1), \
         COALESCE((SELECT last_seq FROM event_counters WHERE organization_id = $1), 0)",
    )
    .bind(org)
    .fetch_one(db)
    .await
}

/// Moves `subscriber`'s position from `from` to `to` inside `tx`. False
/// when another runner moved it first (two instances on PostgreSQL): the
/// caller rolls back, so the round's effects happen once.
pub async fn advance(
    tx: &mut Tx,
    subscriber: &str,
    from: Position,
    to: i64,
) -> Result<bool, sqlx::Error> {
    let moved = if from.seq == 0 {
        query(
            "INSERT INTO event_positions (subscriber, organization_id, seq) VALUES ($1, $2, $3) \
             ON CONFLICT (subscriber, organization_id) DO UPDATE SET seq = excluded.seq \
             WHERE event_positions.seq = 0",
        )
        .bind(subscriber)
        .bind(from.organization_id)
        .bind(to)
        .execute(&mut *tx)
        .await?
    } else {
        query(
            "UPDATE event_positions SET seq = $1 \
             WHERE subscriber = $2 AND organization_id = $3 AND seq = $4",
        )
        .bind(to)
        .bind(subscriber)
        .bind(from.organization_id)
        .bind(from.seq)
        .execute(&mut *tx)
        .await?
    };
    Ok(moved == 1)
}

/// An event `subscriber` failed on, due for another try.
pub struct Retry {
    pub event: Event,
    pub attempts: i32,
}

/// The retries of `subscriber` that are due, oldest first.
pub async fn due_retries(
    db: &Db,
    subscriber: &str,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Retry>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        event: EventRow,
        attempts: i32,
    }
    let rows: Vec<Row> = query(format!(
        "SELECT {EVENT_COLUMNS}, r.attempts FROM event_retries r JOIN outbox o ON o.id = r.event_id \
         WHERE r.subscriber = $1 AND r.parked_at IS NULL AND r.next_attempt_at <= $2 \
         ORDER BY r.next_attempt_at LIMIT $3"
    ))
    .bind(subscriber)
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Retry {
            event: r.event.into(),
            attempts: r.attempts,
        })
        .collect())
}

/// Records a failed attempt at `event`: tried again at `retry_at`, or
/// parked when that is None.
pub async fn record_failure(
    tx: &mut Tx,
    subscriber: &str,
    event: &Event,
    attempts: i32,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO event_retries (subscriber, event_id, organization_id, attempts, next_attempt_at, last_error, parked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (subscriber, event_id) DO UPDATE SET attempts = excluded.attempts, \
         next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, parked_at = excluded.parked_at",
    )
    .bind(subscriber)
    .bind(event.id)
    .bind(event.organization_id)
    .bind(attempts)
    .bind(retry_at.unwrap_or(now))
    .bind(error)
    .bind(retry_at.is_none().then_some(now))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A retried event was handled: it leaves the retries. False when another
/// runner took it first.
pub async fn retry_done(
    tx: &mut Tx,
    subscriber: &str,
    event_id: Uuid,
    attempts: i32,
) -> Result<bool, sqlx::Error> {
    let done = query(
        "DELETE FROM event_retries WHERE subscriber = $1 AND event_id = $2 AND attempts = $3",
    )
    .bind(subscriber)
    .bind(event_id)
    .bind(attempts)
    .execute(&mut *tx)
    .await?;
    Ok(done == 1)
}

/// A subscriber's state for admins and `/metrics`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SubscriberHealth {
    pub subscriber: String,
    /// Events not yet dealt with, over all organizations.
    pub behind: i64,
    /// Events waiting for another try.
    pub retrying: i64,
    /// Events given up on after every try.
    pub parked: i64,
}

pub async fn health(db: &Db) -> Result<Vec<SubscriberHealth>, sqlx::Error> {
    query(
        "SELECT s.name AS subscriber, \
         (SELECT CAST(COALESCE(SUM(c.last_seq - COALESCE(p.seq, 0)), 0) AS BIGINT) FROM event_counters c \
            LEFT JOIN event_positions p ON p.subscriber = s.name AND p.organization_id = c.organization_id) AS behind, \
         (SELECT COUNT(*) FROM event_retries r WHERE r.subscriber = s.name AND r.parked_at IS NULL) AS retrying, \
         (SELECT COUNT(*) FROM event_retries r WHERE r.subscriber = s.name AND r.parked_at IS NOT NULL) AS parked \
         FROM event_subscribers s ORDER BY s.name",
    )
    .fetch_all(db)
    .await
}

/// A parked event, for the admins' view.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ParkedEvent {
    pub subscriber: String,
    pub event_id: Uuid,
    pub kind: String,
    pub attempts: i32,
    pub last_error: String,
    pub parked_at: DateTime<Utc>,
}

pub async fn parked(db: &Db, org: Uuid, limit: u32) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    query(
        "SELECT r.subscriber, r.event_id, o.topic AS kind, r.attempts, r.last_error, r.parked_at \
         FROM event_retries r JOIN outbox o ON o.id = r.event_id \
         WHERE r.organization_id = $1 AND r.parked_at IS NOT NULL ORDER BY r.parked_at DESC LIMIT $2",
    )
    .bind(org)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Deletes up to `limit` events older than `before` that every subscriber
/// is past and none is retrying; the number deleted. Bounded, so SQLite's
/// writer is held briefly; the prune job repeats until nothing is left.
pub async fn prune(db: &Db, before: DateTime<Utc>, limit: u32) -> Result<u64, sqlx::Error> {
    query(
        "DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.created_at < $1 \
         AND o.seq <= (SELECT COALESCE(MIN(COALESCE(p.seq, 0)), o.seq) FROM event_subscribers s \
             LEFT JOIN event_positions p ON p.subscriber = s.name AND p.organization_id = o.organization_id) \
         AND NOT EXISTS (SELECT 1 FROM event_retries r WHERE r.event_id = o.id) LIMIT $2)",
    )
    .bind(before)
    .bind(limit)
    .execute(db.writer())
    .await
}
