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
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Events handled per round and organization.
const ROUND: u32 = 100;
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
}

impl Reaction {
    async fn store(self, tx: &mut Tx, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        for m in &self.mails {
            mail::enqueue(tx, m, now).await?;
        }
        for job in &self.jobs {
            jobs::enqueue(tx, job, now).await?;
        }
        Ok(())
    }
}

pub(super) async fn run(
    state: AppState,
    subscribers: Vec<Arc<dyn Subscriber>>,
    retry: RetryPolicy,
) {
    loop {
        for s in &subscribers {
            if let Err(e) = catch_up(&state, s.as_ref(), retry).await {
                tracing::error!(subscriber = s.name(), error = ?e, "event subscriber failed; retrying");
            }
        }
        // A commit since the last look left a permit: no event is missed.
        let _ = tokio::time::timeout(SAFETY_POLL, state.db.wake().events.notified()).await;
    }
}

/// Handles everything `s` is behind on, then its due retries.
async fn catch_up(state: &AppState, s: &dyn Subscriber, retry: RetryPolicy) -> anyhow::Result<()> {
    for mut position in events::behind(&state.db, s.name()).await? {
        loop {
            let batch = events::after(&state.db, position, ROUND).await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            let mut outcomes = Vec::with_capacity(batch.len());
            for event in batch.iter().filter(|e| s.wants(&e.kind)) {
                outcomes.push((event, attempt(state, s, event).await));
            }
            let now = Utc::now();
            let mut tx = state.db.begin().await?;
            for (event, outcome) in outcomes {
                match outcome {
                    Ok(reaction) => reaction.store(&mut tx, now).await?,
                    Err(e) => {
                        let error = format!("{e:#}");
                        tracing::warn!(subscriber = s.name(), event = %event.id, error, "event failed; will retry");
                        let retry_at = retry.next_attempt(1, now);
                        events::record_failure(&mut tx, s.name(), event, 1, &error, retry_at, now)
                            .await?;
                    }
                }
            }
            if !events::advance(&mut tx, s.name(), position, last).await? {
                // Another instance handled these first; its reactions stand.
                break;
            }
            tx.commit().await?;
            position = Position {
                seq: last,
                ..position
            };
        }
    }
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
            }
        }
        tx.commit().await?;
    }
    Ok(())
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
