//! Domain events: what happened, as the change path records it in the
//! outbox inside the changing transaction. Subscribers (mail, later SLA,
//! rules and live updates) read them back in order, typed — never by
//! indexing into JSON. Stored with a schema version (`StoredEvent`), so a
//! later change to a variant can still read what older builds wrote.

use crate::domain::live::Presence;
use crate::domain::notification::NotificationKind;
use crate::domain::ticket::Ticket;
use crate::domain::wire_enum;
use crate::engine::ticket_change::FieldChange;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum! {
    /// Where a change came from, for the audit trail and events.
    Source {
        Ui => "ui",
        Api => "api",
        Rule => "rule",
        Email => "email",
        Import => "import",
    }
}

/// Who did it and through what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// None for the system (rules, SLA, imports of unknown people).
    pub user_id: Option<Uuid>,
    pub source: Source,
}

/// A change to an existing ticket: its fields (as the audit trail has
/// them), and the message and files it carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketChanged {
    pub ticket_id: Uuid,
    pub actor: Actor,
    pub comment_id: Option<Uuid>,
    pub attachment_ids: Vec<Uuid>,
    pub changes: Vec<FieldChange>,
}

/// Everything the outbox records. The `kind` is also stored in its own
/// column (`outbox.topic`), so subscribers skip what they don't want
/// without decoding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum DomainEvent {
    #[serde(rename = "ticket.created")]
    TicketCreated {
        ticket: Box<Ticket>,
        attachment_ids: Vec<Uuid>,
        actor: Actor,
    },
    /// A ticket created by an import of history: nobody is told.
    #[serde(rename = "ticket.imported")]
    TicketImported { ticket: Box<Ticket>, actor: Actor },
    #[serde(rename = "ticket.updated")]
    TicketUpdated(TicketChanged),
    /// A field change an import brought to an imported ticket.
    #[serde(rename = "ticket.reimported")]
    TicketReimported(TicketChanged),
    #[serde(rename = "ticket.assigned")]
    TicketAssigned(TicketChanged),
    #[serde(rename = "ticket.commented")]
    TicketCommented(TicketChanged),
    #[serde(rename = "ticket.attachment_added")]
    TicketAttachmentAdded(TicketChanged),
    #[serde(rename = "ticket.rated")]
    TicketRated(TicketChanged),
    #[serde(rename = "ticket.escalated")]
    TicketEscalated(TicketChanged),
    /// This ticket was merged into another (its conversation moved there).
    #[serde(rename = "ticket.merged")]
    TicketMerged(TicketChanged),
    /// Another ticket was merged into this one.
    #[serde(rename = "ticket.merged_into")]
    TicketMergedInto(TicketChanged),
    #[serde(rename = "ticket.split")]
    TicketSplit(TicketChanged),
    #[serde(rename = "ticket.deleted")]
    TicketDeleted(TicketChanged),
    /// An SLA target of this ticket reached its warning threshold.
    #[serde(rename = "ticket.sla_warning")]
    TicketSlaWarning(SlaAlert),
    /// An SLA target of this ticket was breached (recorded once).
    #[serde(rename = "ticket.sla_breached")]
    TicketSlaBreached(SlaAlert),
    /// Someone's state on a ticket changed (viewing, replying, idle): live
    /// updates only, published so that it reaches every instance.
    #[serde(rename = "presence.changed")]
    PresenceChanged(Presence),
    /// An in-app notification was stored for `user_id`.
    #[serde(rename = "notification.created")]
    NotificationCreated(NotificationStored),
}

/// An in-app notification, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationStored {
    pub notification_id: Uuid,
    /// Whose notification it is.
    pub user_id: Uuid,
    pub kind: NotificationKind,
    pub ticket_id: Option<Uuid>,
    pub title: String,
}

/// An SLA target of a ticket that reached its warning threshold or was
/// breached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlaAlert {
    pub ticket_id: Uuid,
    /// "first_response" | "next_response" | "resolution"
    pub target: String,
    pub due_at: DateTime<Utc>,
}

/// Makes the event for a stored ticket change (`DomainEvent::TicketUpdated`…).
pub type ChangeEvent = fn(TicketChanged) -> DomainEvent;

impl DomainEvent {
    /// The wire name, as in the JSON's `kind` and the outbox's `topic`.
    pub fn kind(&self) -> &'static str {
        use DomainEvent::*;
        match self {
            TicketCreated { .. } => "ticket.created",
            TicketImported { .. } => "ticket.imported",
            TicketUpdated(_) => "ticket.updated",
            TicketReimported(_) => "ticket.reimported",
            TicketAssigned(_) => "ticket.assigned",
            TicketCommented(_) => "ticket.commented",
            TicketAttachmentAdded(_) => "ticket.attachment_added",
            TicketRated(_) => "ticket.rated",
            TicketEscalated(_) => "ticket.escalated",
            TicketMerged(_) => "ticket.merged",
            TicketMergedInto(_) => "ticket.merged_into",
            TicketSplit(_) => "ticket.split",
            TicketDeleted(_) => "ticket.deleted",
            TicketSlaWarning(_) => "ticket.sla_warning",
            TicketSlaBreached(_) => "ticket.sla_breached",
            PresenceChanged(_) => "presence.changed",
            NotificationCreated(_) => "notification.created",
        }
    }

    /// The ticket (or, later, work order) the event is about; a
    /// notification's own id for a notification.
    pub fn aggregate_id(&self) -> Uuid {
        use DomainEvent::*;
        if let Some(change) = self.ticket_change() {
            return change.ticket_id;
        }
        match self {
            TicketCreated { ticket, .. } | TicketImported { ticket, .. } => ticket.id,
            TicketSlaWarning(a) | TicketSlaBreached(a) => a.ticket_id,
            PresenceChanged(p) => p.ticket_id,
            NotificationCreated(n) => n.notification_id,
            // Every other variant is a ticket change (above).
            _ => Uuid::nil(),
        }
    }

    /// The stored change to an existing ticket, for the events that are one.
    pub fn ticket_change(&self) -> Option<&TicketChanged> {
        use DomainEvent::*;
        match self {
            TicketUpdated(c)
            | TicketReimported(c)
            | TicketAssigned(c)
            | TicketCommented(c)
            | TicketAttachmentAdded(c)
            | TicketRated(c)
            | TicketEscalated(c)
            | TicketMerged(c)
            | TicketMergedInto(c)
            | TicketSplit(c)
            | TicketDeleted(c) => Some(c),
            TicketCreated { .. }
            | TicketImported { .. }
            | TicketSlaWarning(_)
            | TicketSlaBreached(_)
            | PresenceChanged(_)
            | NotificationCreated(_) => None,
        }
    }
}

/// The schema version this build writes.
pub const EVENT_VERSION: u32 = 1;

/// An event as stored: `{"v": 1, "kind": "ticket.created", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub v: u32,
    #[serde(flatten)]
    pub event: DomainEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed() -> TicketChanged {
        TicketChanged {
            ticket_id: Uuid::now_v7(),
            actor: Actor {
                user_id: Some(Uuid::now_v7()),
                source: Source::Api,
            },
            comment_id: None,
            attachment_ids: vec![Uuid::now_v7()],
            changes: vec![FieldChange {
                field: "status".into(),
                old: Some("new".into()),
                new: Some("open".into()),
            }],
        }
    }

    #[test]
    fn stored_events_round_trip_with_their_kind_and_version() {
        let event = DomainEvent::TicketAssigned(changed());
        let json = serde_json::to_value(StoredEvent {
            v: EVENT_VERSION,
            event: event.clone(),
        })
        .unwrap();
        assert_eq!(json["v"], 1);
        assert_eq!(json["kind"], event.kind());
        assert_eq!(json["changes"][0]["field"], "status");
        let back: StoredEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back.event, event);
    }

    #[test]
    fn every_kind_is_its_serde_name() {
        let c = changed();
        let events = [
            DomainEvent::TicketUpdated(c.clone()),
            DomainEvent::TicketReimported(c.clone()),
            DomainEvent::TicketCommented(c.clone()),
            DomainEvent::TicketAttachmentAdded(c.clone()),
            DomainEvent::TicketRated(c.clone()),
            DomainEvent::TicketEscalated(c.clone()),
            DomainEvent::TicketMerged(c.clone()),
            DomainEvent::TicketMergedInto(c.clone()),
            DomainEvent::TicketSplit(c.clone()),
            DomainEvent::TicketDeleted(c.clone()),
            DomainEvent::TicketAssigned(c),
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["kind"], event.kind());
        }
    }
}
