//! Live updates: the messages of the `/ws` WebSocket, shared by the server
//! and the browser so both agree on every shape (docs/LIVE.md is the
//! protocol for integrations). JSON text frames, one message each, told
//! apart by `type`; events inside them by `kind`.

use crate::domain::event::SlaAlert;
use crate::domain::notification::NotificationKind;
use crate::domain::ticket::{Comment, Ticket};
use crate::domain::wire_enum;
use crate::engine::ticket_change::FieldChange;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The protocol this build speaks. A client names its own in the upgrade
/// URL (`/ws?v=1`); a server that speaks another answers `reload` and
/// closes with `CLOSE_RELOAD`, so a tab left open across a deploy asks its
/// person to reload instead of misreading messages.
pub const PROTOCOL_VERSION: u32 = 1;

/// Close codes the server uses besides the standard ones (1001: the server
/// is shutting down, reconnect — to another instance if there is one).
pub const CLOSE_RELOAD: u16 = 4000;
/// The session ended, the person was deactivated or their role changed:
/// sign in (or refresh the token) and connect again.
pub const CLOSE_ACCESS_ENDED: u16 = 4001;
/// The client fell too far behind (or stopped answering pings): reconnect
/// and re-synchronise with `GET /api/v1/events?after=`.
pub const CLOSE_TOO_SLOW: u16 = 4008;

/// What a client can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Queue-level events of the caller's organization (staff who read all tickets).
    Org,
    /// One ticket: a customer's own, any of the organization's for staff.
    Ticket(Uuid),
    /// The caller's own notifications.
    User,
    /// Who is viewing or replying to which ticket (staff who read all tickets).
    Presence,
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Org => f.write_str("org"),
            Topic::Ticket(id) => write!(f, "ticket:{id}"),
            Topic::User => f.write_str("user"),
            Topic::Presence => f.write_str("presence"),
        }
    }
}

impl FromStr for Topic {
    type Err = ();

    fn from_str(s: &str) -> Result<Topic, ()> {
        match s {
            "org" => Ok(Topic::Org),
            "user" => Ok(Topic::User),
            "presence" => Ok(Topic::Presence),
            _ => {
                let id = s.strip_prefix("ticket:").ok_or(())?;
                Uuid::parse_str(id).map(Topic::Ticket).map_err(|_| ())
            }
        }
    }
}

impl Serialize for Topic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Topic, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|()| serde::de::Error::custom(format!("unknown topic {text:?}")))
    }
}

wire_enum! {
    /// What a person is doing on a ticket.
    PresenceState {
        Viewing => "viewing",
        Replying => "replying",
        Idle => "idle",
    }
}

wire_enum! {
    /// Why a request of the client was refused (`internal`: the server
    /// failed, logged on its side; try again later).
    LiveErrorCode {
        Forbidden => "forbidden",
        NotFound => "not_found",
        BadRequest => "bad_request",
        Internal => "internal",
    }
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Subscribe {
        topic: Topic,
    },
    Unsubscribe {
        topic: Topic,
    },
    /// The sender's state on one ticket (sent when it changes).
    Presence {
        state: PresenceState,
        ticket_id: Uuid,
    },
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The subscription is active: every event of the topic after `seq`
    /// (the organization's sequence number when it started) will follow.
    Subscribed {
        topic: Topic,
        seq: i64,
    },
    Event {
        topic: Topic,
        /// Strictly increasing per organization; numbers of events the
        /// client may not see are skipped.
        seq: i64,
        event: Box<LiveEvent>,
    },
    Error {
        code: LiveErrorCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<Topic>,
    },
    Pong,
    /// The client speaks another protocol version: reload the page (the
    /// server then closes with `CLOSE_RELOAD`).
    Reload {
        version: u32,
    },
}

/// An event as a subscriber receives it: the ids and changed fields a view
/// needs to update in place, already narrowed to what the subscriber may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind")]
pub enum LiveEvent {
    /// A new ticket (as the subscriber may see it).
    #[serde(rename = "ticket.created")]
    TicketCreated { ticket: Box<Ticket> },
    /// Fields of a ticket changed (status, priority, tags…; a rating, an
    /// escalation, a merge, a split, a deletion, files).
    #[serde(rename = "ticket.updated")]
    TicketUpdated(TicketUpdate),
    /// The ticket's assignee or team changed.
    #[serde(rename = "ticket.assigned")]
    TicketAssigned(TicketUpdate),
    /// A message on a ticket; `public: false` is an internal note, never
    /// sent to customers. Fields changed with it are in `changes`.
    #[serde(rename = "comment.created")]
    CommentCreated(CommentCreated),
    /// Someone's state on a ticket changed.
    #[serde(rename = "presence.changed")]
    PresenceChanged(Presence),
    /// A notification for the subscriber (topic `user`).
    #[serde(rename = "notification.created")]
    NotificationCreated(NotificationCreated),
    /// An SLA target of the ticket reached its warning threshold (staff).
    #[serde(rename = "sla.warning")]
    SlaWarning(SlaAlert),
    /// An SLA target of the ticket was breached (staff).
    #[serde(rename = "sla.breached")]
    SlaBreached(SlaAlert),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TicketUpdate {
    pub ticket_id: Uuid,
    /// Who changed it (null: the system).
    pub actor_id: Option<Uuid>,
    /// The domain event behind it (`ticket.escalated`, `ticket.merged`…).
    pub cause: String,
    /// Field, old → new, as the audit trail has them (`custom_fields.<key>`
    /// for custom fields).
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Object>))]
    pub changes: Vec<FieldChange>,
    /// Files added by the change.
    pub attachment_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentCreated {
    pub ticket_id: Uuid,
    pub comment_id: Uuid,
    pub public: bool,
    /// The message (its HTML ready to show); null if it is no longer on
    /// this ticket (merged away since).
    pub comment: Option<Comment>,
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Object>))]
    pub changes: Vec<FieldChange>,
    pub attachment_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Presence {
    pub ticket_id: Uuid,
    pub user_id: Uuid,
    /// The person's name, to show "Priya is replying…".
    pub name: String,
    pub state: PresenceState,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationCreated {
    pub notification_id: Uuid,
    pub kind: NotificationKind,
    pub ticket_id: Option<Uuid>,
    pub title: String,
}

/// Events a client missed, as `GET /api/v1/events?after=` answers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Missed {
    /// The events after `after` the caller receives on the topics asked
    /// for, in order: each as the WebSocket's `event` message has it.
    pub items: Vec<MissedEvent>,
    /// Ask again with `after` = this to continue.
    pub next_after: i64,
    /// True when there may be more after `next_after` (the page was full).
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MissedEvent {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "org"))]
    pub topic: Topic,
    pub seq: i64,
    pub event: LiveEvent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_messages_are_the_contract_json() {
        let id = Uuid::now_v7();
        let cases = [
            (
                json!({"type": "subscribe", "topic": format!("ticket:{id}")}),
                ClientMessage::Subscribe {
                    topic: Topic::Ticket(id),
                },
            ),
            (
                json!({"type": "unsubscribe", "topic": "org"}),
                ClientMessage::Unsubscribe { topic: Topic::Org },
            ),
            (
                json!({"type": "presence", "state": "replying", "ticket_id": id}),
                ClientMessage::Presence {
                    state: PresenceState::Replying,
                    ticket_id: id,
                },
            ),
            (json!({"type": "ping"}), ClientMessage::Ping),
        ];
        for (wire, message) in cases {
            assert_eq!(serde_json::to_value(&message).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<ClientMessage>(wire).unwrap(),
                message
            );
        }
    }

    #[test]
    fn server_messages_are_the_contract_json() {
        let error = ServerMessage::Error {
            code: LiveErrorCode::NotFound,
            topic: Some(Topic::User),
        };
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"type": "error", "code": "not_found", "topic": "user"})
        );
        assert_eq!(
            serde_json::to_value(ServerMessage::Pong).unwrap(),
            json!({"type": "pong"})
        );
        let presence = ServerMessage::Event {
            topic: Topic::Presence,
            seq: 7,
            event: Box::new(LiveEvent::PresenceChanged(Presence {
                ticket_id: Uuid::nil(),
                user_id: Uuid::nil(),
                name: "Priya".into(),
                state: PresenceState::Viewing,
                at: DateTime::UNIX_EPOCH,
            })),
        };
        let wire = serde_json::to_value(&presence).unwrap();
        assert_eq!(wire["type"], "event");
        assert_eq!(wire["topic"], "presence");
        assert_eq!(wire["seq"], 7);
        assert_eq!(wire["event"]["kind"], "presence.changed");
        assert_eq!(wire["event"]["state"], "viewing");
        assert_eq!(
            serde_json::from_value::<ServerMessage>(wire).unwrap(),
            presence
        );
    }

    #[test]
    fn topics_parse_only_their_names() {
        for topic in [
            Topic::Org,
            Topic::User,
            Topic::Presence,
            Topic::Ticket(Uuid::now_v7()),
        ] {
            assert_eq!(topic.to_string().parse::<Topic>(), Ok(topic));
        }
        for bad in ["", "orgs", "ticket:", "ticket:12", "ticket", "USER"] {
            assert!(bad.parse::<Topic>().is_err(), "{bad}");
        }
    }
}
