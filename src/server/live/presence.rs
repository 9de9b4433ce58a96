//! Presence: a person's state on a ticket (viewing, replying, idle),
//! published in the outbox like any change so that every instance's
//! subscribers see it, in order, with a sequence number.

use crate::domain::event::DomainEvent;
use crate::domain::live::{Presence, PresenceState};
use crate::server::auth::Person;
use crate::server::db::events;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use chrono::Utc;
use uuid::Uuid;

/// Publishes `person`'s `state` on `ticket_id`. The caller checked that
/// they see the ticket.
pub async fn publish(
    state: &AppState,
    person: &Person,
    ticket_id: Uuid,
    presence: PresenceState,
) -> AppResult<()> {
    let now = Utc::now();
    let event = DomainEvent::PresenceChanged(Presence {
        ticket_id,
        user_id: person.id,
        name: person.name.clone(),
        state: presence,
        at: now,
    });
    let mut tx = state.db.begin().await?;
    events::publish(&mut tx, person.org, &event, now).await?;
    tx.commit().await?;
    Ok(())
}
