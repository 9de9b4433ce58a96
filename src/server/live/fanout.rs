//! The outbox → this instance's sockets. Woken by commits (`Wake::live`:
//! this process's, and other instances' through the runtime's `LISTEN`),
//! with the runtime's safety poll; reads each organization's new events
//! once, in sequence order, and sends them into the broadcast.

use super::Live;
use crate::domain::event::DomainEvent;
use crate::engine::live::{Facts, Views, views};
use crate::server::db::events::{self, Event, Position};
use crate::server::db::{attachments, desk, tickets};
use crate::server::runtime::SAFETY_POLL;
use crate::server::state::AppState;
use chrono::Utc;
use std::time::Duration;
use tokio::time::Instant;

/// Events read per query.
const BATCH: u32 = 500;
/// The shortest time between two passes over the outbox (what an event
/// waits at most, under load, for the ones behind it).
const PASS_AT_MOST_EVERY: Duration = Duration::from_millis(50);

pub(super) async fn run(state: AppState) {
    loop {
        let started = Instant::now();
        if let Err(e) = catch_up(&state).await {
            tracing::error!(error = ?e, "live updates: reading the outbox failed; retrying");
        }
        // A commit since the last look left a permit: no event is missed.
        let _ = tokio::time::timeout(SAFETY_POLL, state.db.wake().live.notified()).await;
        // Under load, let the commits of a few milliseconds gather and send
        // them together: each socket then wakes and writes once for all of
        // them instead of once for each. An event after a quiet spell goes
        // out at once.
        tokio::time::sleep_until(started + PASS_AT_MOST_EVERY).await;
    }
}

async fn catch_up(state: &AppState) -> anyhow::Result<()> {
    let live: &Live = &state.live;
    for (org, last) in events::counters(&state.db).await? {
        let mut at = live.lock().positions.get(&org).copied().unwrap_or(0);
        while at < last {
            let position = Position {
                organization_id: org,
                seq: at,
            };
            let batch = events::after(&state.db, position, BATCH).await?;
            let Some(end) = batch.last().map(|e| e.seq) else {
                break;
            };
            // Looked up first, then sent back to back (`deliver_burst`).
            let mut prepared = Vec::with_capacity(batch.len());
            for event in &batch {
                prepared.push(match prepare(state, event).await {
                    Ok(views) => Some(views),
                    Err(e) => {
                        tracing::warn!(event = %event.id, error = ?e, "live updates: event skipped");
                        None
                    }
                });
            }
            for (event, views) in batch.iter().zip(prepared) {
                record_delay(event);
                live.send(org, event.seq, views);
            }
            at = end;
        }
    }
    Ok(())
}

fn record_delay(event: &Event) {
    let delay = (Utc::now() - event.created_at)
        .num_microseconds()
        .unwrap_or(0) as f64
        / 1e6;
    metrics::histogram!("fieldesk_event_delivery_seconds", "subscriber" => "live").record(delay);
}

/// An outbox event made ready for subscribers, with what it does not carry
/// looked up: the message (is it public), which files are public, and the
/// custom fields customers see.
pub(super) async fn prepare(state: &AppState, event: &Event) -> anyhow::Result<Views> {
    let decoded = event.decode()?;
    let org = event.organization_id;
    let mut facts = Facts::default();
    let change = decoded.ticket_change();
    if let Some(c) = change {
        if let Some(comment) = c.comment_id {
            facts.comment = tickets::comment(&state.db, org, comment).await?;
        }
        facts.public_attachments =
            attachments::public_among(&state.db, org, &c.attachment_ids).await?;
    }
    let names_custom_fields = match &decoded {
        DomainEvent::TicketCreated { ticket, .. } | DomainEvent::TicketImported { ticket, .. } => {
            !ticket.custom_fields.is_empty()
        }
        _ => change.is_some_and(|c| {
            c.changes
                .iter()
                .any(|line| line.field.starts_with("custom_fields."))
        }),
    };
    if names_custom_fields {
        facts.custom_fields = desk::custom_fields(&state.db, org).await?;
    }
    Ok(views(&decoded, &facts))
}
