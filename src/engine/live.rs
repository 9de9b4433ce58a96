//! Live updates, the pure part: what a domain event becomes for the people
//! following it (`views`), and which of a subscriber's topics it reaches
//! (`deliveries`). The server looks up the facts an event does not carry
//! (is the message public, which files are) once per instance, then hands
//! every subscriber one of two views: the full one for those who read
//! internal notes, the customer's one (or nothing) for the others.

use crate::domain::desk::CustomField;
use crate::domain::event::{DomainEvent, TicketChanged};
use crate::domain::live::NotificationCreated as NotificationView;
use crate::domain::live::{CommentCreated, LiveEvent, TicketUpdate, Topic};
use crate::domain::ticket::{Comment, Ticket};
use crate::engine::custom_fields::visible_to_customer;
use crate::engine::ticket_change::FieldChange;
use uuid::Uuid;

/// Ticket fields a customer may see change (custom fields are decided by
/// their definition). Everything else — escalations, SLA, file lines
/// (customers get the public files' ids instead) — is staff-only.
const CUSTOMER_FIELDS: &[&str] = &[
    "subject",
    "description",
    "status",
    "priority",
    "severity",
    "category_id",
    "team_id",
    "assignee_id",
    "tags",
    "satisfaction_score",
    "satisfaction_comment",
    "deleted_at",
    "merged_into_id",
    "merged_from",
    "split_to",
];

/// What the server looked up about one event.
#[derive(Debug, Default)]
pub struct Facts {
    /// The event's message, if it is still on the ticket.
    pub comment: Option<Comment>,
    /// Which of the event's files customers may see.
    pub public_attachments: Vec<Uuid>,
    /// The organization's custom field definitions (for customer views).
    pub custom_fields: Vec<CustomField>,
}

/// Which topics an event can reach at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Queue-level ticket events: `org` and the ticket's topic.
    Queue,
    /// `presence` and the ticket's topic.
    Presence,
    /// `user`, for the recipient only.
    Notification(Uuid),
}

/// An event made ready for subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct Views {
    pub reach: Reach,
    pub ticket_id: Option<Uuid>,
    /// For staff who read internal notes (and a notification's recipient).
    pub full: LiveEvent,
    /// For everyone else who follows the ticket; None: nothing for them.
    pub customer: Option<LiveEvent>,
}

/// Which view a subscriber gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Full,
    Customer,
}

/// The subscriber, as far as delivery is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: Uuid,
    /// May read internal notes (staff): the full view.
    pub reads_internal: bool,
}

/// What `event` becomes for subscribers.
pub fn views(event: &DomainEvent, facts: &Facts) -> Views {
    use DomainEvent::*;
    let queue = |ticket_id, full, customer| Views {
        reach: Reach::Queue,
        ticket_id: Some(ticket_id),
        full,
        customer,
    };
    match event {
        TicketCreated { ticket, .. } | TicketImported { ticket, .. } => {
            let mut shown = ticket.as_ref().clone();
            as_customer_sees(&mut shown, &facts.custom_fields);
            queue(
                ticket.id,
                LiveEvent::TicketCreated {
                    ticket: ticket.clone(),
                },
                Some(LiveEvent::TicketCreated {
                    ticket: Box::new(shown),
                }),
            )
        }
        TicketAssigned(c) => {
            let (full, customer) = updates(event.kind(), c, facts);
            queue(
                c.ticket_id,
                LiveEvent::TicketAssigned(full),
                customer.map(LiveEvent::TicketAssigned),
            )
        }
        TicketCommented(c) => {
            // A message not found any more (moved by a merge) is treated as internal.
            let public = facts.comment.as_ref().is_some_and(|m| m.public);
            let comment = |changes, attachment_ids| {
                LiveEvent::CommentCreated(CommentCreated {
                    ticket_id: c.ticket_id,
                    comment_id: c.comment_id.unwrap_or_default(),
                    public,
                    comment: facts.comment.clone(),
                    changes,
                    attachment_ids,
                })
            };
            let full = comment(c.changes.clone(), c.attachment_ids.clone());
            let customer = public.then(|| {
                comment(
                    customer_changes(&c.changes, &facts.custom_fields),
                    facts.public_attachments.clone(),
                )
            });
            queue(c.ticket_id, full, customer)
        }
        TicketUpdated(c)
        | TicketReimported(c)
        | TicketAttachmentAdded(c)
        | TicketRated(c)
        | TicketEscalated(c)
        | TicketMerged(c)
        | TicketMergedInto(c)
        | TicketSplit(c)
        | TicketDeleted(c) => {
            let (full, customer) = updates(event.kind(), c, facts);
            queue(
                c.ticket_id,
                LiveEvent::TicketUpdated(full),
                customer.map(LiveEvent::TicketUpdated),
            )
        }
        TicketSlaWarning(alert) => {
            queue(alert.ticket_id, LiveEvent::SlaWarning(alert.clone()), None)
        }
        TicketSlaBreached(alert) => {
            queue(alert.ticket_id, LiveEvent::SlaBreached(alert.clone()), None)
        }
        PresenceChanged(presence) => Views {
            reach: Reach::Presence,
            ticket_id: Some(presence.ticket_id),
            full: LiveEvent::PresenceChanged(presence.clone()),
            customer: Some(LiveEvent::PresenceChanged(presence.clone())),
        },
        NotificationCreated(n) => Views {
            reach: Reach::Notification(n.user_id),
            ticket_id: n.ticket_id,
            full: LiveEvent::NotificationCreated(NotificationView {
                notification_id: n.notification_id,
                kind: n.kind,
                ticket_id: n.ticket_id,
                title: n.title.clone(),
            }),
            customer: None,
        },
    }
}

/// A change as staff see it, and as a customer does (None when nothing
/// of it is theirs to see).
fn updates(cause: &str, c: &TicketChanged, facts: &Facts) -> (TicketUpdate, Option<TicketUpdate>) {
    let full = TicketUpdate {
        ticket_id: c.ticket_id,
        actor_id: c.actor.user_id,
        cause: cause.to_owned(),
        changes: c.changes.clone(),
        attachment_ids: c.attachment_ids.clone(),
    };
    let changes = customer_changes(&c.changes, &facts.custom_fields);
    let attachment_ids = facts.public_attachments.clone();
    let customer = (!changes.is_empty() || !attachment_ids.is_empty()).then(|| TicketUpdate {
        changes,
        attachment_ids,
        ..full.clone()
    });
    (full, customer)
}

fn customer_changes(changes: &[FieldChange], fields: &[CustomField]) -> Vec<FieldChange> {
    changes
        .iter()
        .filter(|change| match change.field.strip_prefix("custom_fields.") {
            Some(key) => fields.iter().any(|f| f.key == key && f.customer_visible),
            None => CUSTOMER_FIELDS.contains(&change.field.as_ref()),
        })
        .cloned()
        .collect()
}

/// Narrows a ticket to what its customer may see: no escalation (an
/// internal hand-off with staff's reason), no service levels, only the
/// custom fields shown to customers.
pub fn as_customer_sees(ticket: &mut Ticket, fields: &[CustomField]) {
    ticket.escalated_at = None;
    ticket.escalation_reason = None;
    ticket.sla_due_at = None;
    ticket.sla_state = None;
    ticket.custom_fields = visible_to_customer(fields, &ticket.custom_fields);
}

/// The topics of a subscriber that `views` reaches, each with the view it
/// gets there. Subscriptions were authorized when made (`org` and
/// `presence` for staff who read all tickets, a ticket the subscriber may
/// see), and the server only looks at the subscriber's own organization.
pub fn deliveries<'a>(
    views: &'a Views,
    viewer: Viewer,
    topics: &'a [Topic],
) -> impl Iterator<Item = (Topic, View)> + 'a {
    let ticket_view = if viewer.reads_internal {
        Some(View::Full)
    } else {
        views.customer.as_ref().map(|_| View::Customer)
    };
    topics.iter().filter_map(move |topic| {
        let view = match (topic, views.reach) {
            (Topic::Org, Reach::Queue) | (Topic::Presence, Reach::Presence) => Some(View::Full),
            (Topic::Ticket(id), Reach::Queue | Reach::Presence) if views.ticket_id == Some(*id) => {
                ticket_view
            }
            (Topic::User, Reach::Notification(recipient)) if recipient == viewer.user_id => {
                Some(View::Full)
            }
            _ => None,
        };
        view.map(|view| (*topic, view))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{Actor, NotificationStored, Source};
    use crate::domain::live::{Presence, PresenceState};
    use crate::domain::notification::NotificationKind;

    fn change(fields: &[&str]) -> TicketChanged {
        TicketChanged {
            ticket_id: Uuid::now_v7(),
            actor: Actor {
                user_id: Some(Uuid::now_v7()),
                source: Source::Ui,
            },
            comment_id: Some(Uuid::now_v7()),
            attachment_ids: vec![Uuid::now_v7(), Uuid::now_v7()],
            changes: fields
                .iter()
                .map(|f| FieldChange {
                    field: f.to_string().into(),
                    old: None,
                    new: Some("x".into()),
                })
                .collect(),
        }
    }

    fn field(key: &str, customer_visible: bool) -> CustomField {
        CustomField {
            id: Uuid::now_v7(),
            key: key.into(),
            label: key.into(),
            kind: crate::domain::desk::FieldKind::Text,
            options: Vec::new(),
            required: false,
            customer_visible,
            position: 0,
        }
    }

    fn message(c: &TicketChanged, public: bool) -> Comment {
        Comment {
            id: c.comment_id.unwrap(),
            ticket_id: c.ticket_id,
            author_id: Uuid::now_v7(),
            author_name: "Priya".into(),
            body: "Hello".into(),
            body_html: "<p>Hello</p>".into(),
            public,
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    const STAFF: Viewer = Viewer {
        user_id: Uuid::nil(),
        reads_internal: true,
    };
    const CUSTOMER: Viewer = Viewer {
        user_id: Uuid::nil(),
        reads_internal: false,
    };

    #[test]
    fn customers_never_see_internal_notes_or_their_files() {
        let c = change(&["status"]);
        let note = Facts {
            comment: Some(message(&c, false)),
            ..Facts::default()
        };
        let of_note = views(&DomainEvent::TicketCommented(c.clone()), &note);
        assert_eq!(of_note.customer, None);
        let topics = [Topic::Ticket(c.ticket_id)];
        assert_eq!(deliveries(&of_note, CUSTOMER, &topics).count(), 0);
        assert_eq!(
            deliveries(&of_note, STAFF, &topics).collect::<Vec<_>>(),
            [(topics[0], View::Full)]
        );

        let public_file = c.attachment_ids[0];
        let reply = Facts {
            comment: Some(message(&c, true)),
            public_attachments: vec![public_file],
            ..Facts::default()
        };
        let of_reply = views(&DomainEvent::TicketCommented(c), &reply);
        let Some(LiveEvent::CommentCreated(shown)) = of_reply.customer else {
            panic!("a public reply reaches the customer");
        };
        assert!(shown.public);
        assert_eq!(shown.attachment_ids, [public_file]);
    }

    #[test]
    fn customers_see_only_their_fields_change() {
        let c = change(&[
            "status",
            "escalated_at",
            "escalation_reason",
            "attachment",
            "custom_fields.serial",
            "custom_fields.internal_score",
        ]);
        let facts = Facts {
            custom_fields: vec![field("serial", true), field("internal_score", false)],
            ..Facts::default()
        };
        let views = views(&DomainEvent::TicketUpdated(c), &facts);
        let Some(LiveEvent::TicketUpdated(update)) = &views.customer else {
            panic!("the status change reaches the customer");
        };
        let fields: Vec<&str> = update.changes.iter().map(|c| c.field.as_ref()).collect();
        assert_eq!(fields, ["status", "custom_fields.serial"]);
        assert!(update.attachment_ids.is_empty());
        let LiveEvent::TicketUpdated(full) = &views.full else {
            panic!("staff get the update");
        };
        assert_eq!(full.changes.len(), 6);
        assert_eq!(full.cause, "ticket.updated");

        let escalation = change(&["escalated_at", "escalation_reason"]);
        let views = views_of(DomainEvent::TicketEscalated(escalation));
        assert_eq!(views.customer, None);
    }

    fn views_of(event: DomainEvent) -> Views {
        views(&event, &Facts::default())
    }

    #[test]
    fn topics_reach_what_they_name() {
        let c = change(&["assignee_id"]);
        let ticket = c.ticket_id;
        let assigned = views_of(DomainEvent::TicketAssigned(c));
        let all = [
            Topic::Org,
            Topic::Ticket(ticket),
            Topic::Ticket(Uuid::now_v7()),
            Topic::User,
            Topic::Presence,
        ];
        let reached: Vec<Topic> = deliveries(&assigned, STAFF, &all).map(|(t, _)| t).collect();
        assert_eq!(reached, [Topic::Org, Topic::Ticket(ticket)]);

        let presence = views_of(DomainEvent::PresenceChanged(Presence {
            ticket_id: ticket,
            user_id: Uuid::now_v7(),
            name: "Priya".into(),
            state: PresenceState::Replying,
            at: chrono::DateTime::UNIX_EPOCH,
        }));
        let reached: Vec<Topic> = deliveries(&presence, STAFF, &all).map(|(t, _)| t).collect();
        assert_eq!(reached, [Topic::Ticket(ticket), Topic::Presence]);
        let reached: Vec<_> = deliveries(&presence, CUSTOMER, &[Topic::Ticket(ticket)]).collect();
        assert_eq!(reached, [(Topic::Ticket(ticket), View::Customer)]);

        let recipient = Uuid::now_v7();
        let notification = views_of(DomainEvent::NotificationCreated(NotificationStored {
            notification_id: Uuid::now_v7(),
            user_id: recipient,
            kind: NotificationKind::Assigned,
            ticket_id: Some(ticket),
            title: "Assigned".into(),
        }));
        assert_eq!(deliveries(&notification, STAFF, &all).count(), 0);
        let me = Viewer {
            user_id: recipient,
            reads_internal: true,
        };
        let reached: Vec<Topic> = deliveries(&notification, me, &all)
            .map(|(t, _)| t)
            .collect();
        assert_eq!(reached, [Topic::User]);
    }
}
