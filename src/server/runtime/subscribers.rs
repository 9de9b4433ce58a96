//! Running event subscribers: for each organization with new events, a
//! round of up to `ROUND` events is handled and its reactions stored with
//! the subscriber's new position in one transaction (one per round, not
//! per event: on SQLite every transaction takes the writer that ticket
//! changes wait for).

use super::{BoxFuture, SAFETY_POLL};
use crate::domain::event::DomainEvent;
use crate::engine::retry::RetryPolicy;
use crate::server::db::Tx;
use crate::server::db::events::{self, Event, Position};
use crate::server::db::jobs::{self, NewJob};
use crate::server::db::mail::{self, NewMail};
use crate::server::db::notifications::{self, NewNotification};
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Events handled per round and organization.
const ROUND: u32 = 100;
/// Rounds start at least this far apart: under a burst of commits, events
/// are handled in batches instead of one write transaction per commit
/// (each would take SQLite's one writer from the requests). Well inside
/// the 50 ms delivery target.
const ROUND_GAP: Duration = Duration::from_millis(20);
/// Retries looked at per round.
const RETRIES: u32 = 20;

/// Reacts to domain events. `handle` reads what it needs and decides; the
/// runtime stores the reaction with the subscriber's position, so it takes
/// effect exactly once. Work that must happen later, or that talks to the
/// outside world, is a job in the reaction.
pub trait Subscriber: Send + Sync + 'static {
    /// Its name in `event_positions` (keep it stable).
    fn name(&self) -> &'static str;
    /// Whether it cares about events of this kind at all (others are
    /// passed over without being decoded).
    fn wants(&self, kind: &str) -> bool;
    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        event: &'a Event,
        decoded: &'a DomainEvent,
    ) -> BoxFuture<'a, anyhow::Result<Reaction>>;
}

/// What a subscriber decided to do about one event.
#[derive(Default)]
pub struct Reaction {
    pub mails: Vec<NewMail>,
    pub jobs: Vec<NewJob>,
    /// In-app notifications (`server::notifications`).
    pub notifications: Vec<NewNotification>,
}

impl Reaction {
    fn is_empty(&self) -> bool {
        self.mails.is_empty() && self.jobs.is_empty() && self.notifications.is_empty()
    }

    async fn store(self, tx: &mut Tx, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        for m in &self.mails {
            mail::enqueue(tx, m, now).await?;
        }
        for job in &self.jobs {
            jobs::enqueue(tx, job, now).await?;
        }
        for n in &self.notifications {
            notifications::insert(tx, n, now).await?;
        }
        Ok(())
    }
}

pub(super) async fn run(
    state: AppState,
    subscribers: Vec<Arc<dyn Subscriber>>,
    retry: RetryPolicy,
) {
    let mut progress = Progress::default();
    // Retries are looked for when one is due, and every `SAFETY_POLL`
    // (another instance may have recorded some), not on every round.
    let mut retries_due = Utc::now();
    loop {
        let started = tokio::time::Instant::now();
        match catch_up(&state, &subscribers, retry, &mut progress).await {
            Ok(Some(first_retry)) => retries_due = retries_due.min(first_retry),
            Ok(None) => {}
            Err(e) => tracing::error!(error = ?e, "event subscribers failed; retrying"),
        }
        if Utc::now() >= retries_due {
            retries_due = Utc::now() + SAFETY_POLL;
            for s in &subscribers {
                match handle_retries(&state, s.as_ref(), retry).await {
                    Ok(Some(next)) => retries_due = retries_due.min(next),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(subscriber = s.name(), error = ?e, "event retries failed; retrying")
                    }
                }
            }
        }
        // A commit since the last look left a permit: no event is missed.
        let until_retry = (retries_due - Utc::now()).to_std().unwrap_or_default();
        let _ = tokio::time::timeout(
            SAFETY_POLL.min(until_retry),
            state.db.wake().events.notified(),
        )
        .await;
        tokio::time::sleep_until(started + ROUND_GAP).await;
    }
}

/// How far each subscriber has got in each organization, in this process:
/// `stored` is the position in the database, `handled` may run ahead of it.
#[derive(Default)]
struct Progress(HashMap<(&'static str, Uuid), Cursor>);

#[derive(Clone, Copy)]
struct Cursor {
    stored: i64,
    handled: i64,
    stored_at: Instant,
}

impl Cursor {
    fn at(seq: i64) -> Cursor {
        Cursor {
            stored: seq,
            handled: seq,
            stored_at: Instant::now(),
        }
    }
}

/// Events that called for nothing (most of them, for most subscribers)
/// move the position in memory only, stored at most this often: a write
/// transaction per round would take SQLite's one writer from the requests.
/// After a crash they are simply looked at again, and call for nothing again.
const STORE_QUIET_EVERY: Duration = Duration::from_secs(1);

/// Hands every subscriber the events it is behind on. The outbox is read
/// once per organization and batch for all of them (they are usually at
/// the same place): under a burst of commits a round costs two reads, not
/// several per subscriber, and leaves the CPU to the requests. Returns when
/// the first retry it recorded is due.
async fn catch_up(
    state: &AppState,
    subscribers: &[Arc<dyn Subscriber>],
    retry: RetryPolicy,
    progress: &mut Progress,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut first_retry = None;
    for (org, last_seq) in events::counters(&state.db).await? {
        loop {
            let mut from = last_seq;
            for s in subscribers {
                let key = (s.name(), org);
                let cursor = match progress.0.get(&key) {
                    Some(cursor) => *cursor,
                    None => {
                        let stored = events::position(&state.db, s.name(), org).await?;
                        *progress.0.entry(key).or_insert(Cursor::at(stored))
                    }
                };
                from = from.min(cursor.handled);
            }
            // Nothing new still lets a quiet position be stored (below).
            let batch = if from < last_seq {
                let position = Position {
                    organization_id: org,
                    seq: from,
                };
                events::after(&state.db, position, ROUND).await?
            } else {
                Vec::new()
            };
            for s in subscribers {
                let retry_at =
                    handle_batch(state, s.as_ref(), org, &batch, retry, progress).await?;
                first_retry = earliest(first_retry, retry_at);
            }
            if batch.len() < ROUND as usize {
                break;
            }
        }
    }
    Ok(first_retry)
}

/// Hands `s` the events of `batch` after its cursor in `org`, storing its
/// reactions (or failures) with its new position. Returns when the retry
/// it recorded, if any, is due.
async fn handle_batch(
    state: &AppState,
    s: &dyn Subscriber,
    org: Uuid,
    batch: &[Event],
    retry: RetryPolicy,
    progress: &mut Progress,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let key = (s.name(), org);
    let Some(cursor) = progress.0.get_mut(&key) else {
        return Ok(None);
    };
    let fresh = batch.iter().filter(|e| e.seq > cursor.handled);
    let last = batch
        .last()
        .map_or(cursor.handled, |e| e.seq.max(cursor.handled));
    let mut outcomes = Vec::new();
    for event in fresh.filter(|e| s.wants(&e.kind)) {
        outcomes.push((event, attempt(state, s, event).await));
    }
    let quiet = outcomes
        .iter()
        .all(|(_, o)| o.as_ref().is_ok_and(Reaction::is_empty));
    if quiet && (cursor.stored_at.elapsed() < STORE_QUIET_EVERY || last == cursor.stored) {
        cursor.handled = last;
        return Ok(None);
    }
    let now = Utc::now();
    let mut first_retry = None;
    let mut tx = state.db.begin().await?;
    for (event, outcome) in outcomes {
        match outcome {
            Ok(reaction) => reaction.store(&mut tx, now).await?,
            Err(e) => {
                let error = format!("{e:#}");
                tracing::warn!(subscriber = s.name(), event = %event.id, error, "event failed; will retry");
                let retry_at = retry.next_attempt(1, now);
                events::record_failure(&mut tx, s.name(), event, 1, &error, retry_at, now).await?;
                first_retry = earliest(first_retry, retry_at);
            }
        }
    }
    let was = Position {
        organization_id: org,
        seq: cursor.stored,
    };
    if !events::advance(&mut tx, s.name(), was, last).await? {
        // Another instance handled these first; its reactions stand. Start
        // again from its position next round.
        progress.0.remove(&key);
        return Ok(None);
    }
    tx.commit().await?;
    *cursor = Cursor::at(last);
    Ok(first_retry)
}

/// Tries again the events `s` failed on whose time has come; returns when
/// the next one it recorded is due.
async fn handle_retries(
    state: &AppState,
    s: &dyn Subscriber,
    retry: RetryPolicy,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut next_due = None;
    for r in events::due_retries(&state.db, s.name(), Utc::now(), RETRIES).await? {
        let outcome = attempt(state, s, &r.event).await;
        let now = Utc::now();
        let mut tx = state.db.begin().await?;
        match outcome {
            Ok(reaction) => {
                if !events::retry_done(&mut tx, s.name(), r.event.id, r.attempts).await? {
                    continue;
                }
                reaction.store(&mut tx, now).await?;
            }
            Err(e) => {
                let attempts = r.attempts + 1;
                let retry_at = retry.next_attempt(attempts, now);
                let error = format!("{e:#}");
                if retry_at.is_none() {
                    tracing::error!(subscriber = s.name(), event = %r.event.id, attempts, error, "event parked");
                }
                events::record_failure(
                    &mut tx,
                    s.name(),
                    &r.event,
                    attempts,
                    &error,
                    retry_at,
                    now,
                )
                .await?;
                next_due = earliest(next_due, retry_at);
            }
        }
        tx.commit().await?;
    }
    Ok(next_due)
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn attempt(state: &AppState, s: &dyn Subscriber, event: &Event) -> anyhow::Result<Reaction> {
    let decoded = event.decode()?;
    let delay = (Utc::now() - event.created_at)
        .num_microseconds()
        .unwrap_or(0) as f64
        / 1e6;
    metrics::histogram!("fieldesk_event_delivery_seconds", "subscriber" => s.name()).record(delay);
    s.handle(state, event, &decoded).await
}
