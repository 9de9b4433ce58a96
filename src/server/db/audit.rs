//! The audit trail: one row per changed field, written inside the change's
//! transaction (`ticket_events`).

use super::{Tx, query};
use crate::domain::event::Actor;
use crate::engine::ticket_change::FieldChange;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Records one changed field of ticket `ticket`.
pub async fn record(
    tx: &mut Tx,
    org: Uuid,
    ticket: Uuid,
    actor: Actor,
    line: &FieldChange,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO ticket_events (id, organization_id, ticket_id, actor_id, source, field, old_value, new_value, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(ticket)
    .bind(actor.user_id)
    .bind(actor.source.as_str())
    .bind(&*line.field)
    .bind(line.old.as_deref())
    .bind(line.new.as_deref())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
