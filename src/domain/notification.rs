//! Notifications across a ticket's life: the kinds a person is told about
//! (in the app and by mail), the organization's mail templates, and the
//! shapes the notification centre and the admin page exchange with the
//! server. The texts and rules are in `engine::notify`.

use crate::domain::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum! {
    /// What a staff member is told about. Stored as text without a CHECK
    /// list (validated here).
    NotificationKind {
        Assigned => "assigned",
        Mention => "mention",
        CustomerReply => "customer_reply",
        Escalated => "escalated",
        SlaWarning => "sla_warning",
        SlaBreached => "sla_breached",
    }
}

impl NotificationKind {
    /// As the preferences form names it.
    pub fn label(self) -> &'static str {
        use NotificationKind::*;
        match self {
            Assigned => "A ticket is assigned to me",
            Mention => "Someone @mentions me",
            CustomerReply => "A customer replies on my ticket",
            Escalated => "A ticket is escalated",
            SlaWarning => "An SLA target of my ticket is close",
            SlaBreached => "An SLA target is breached",
        }
    }

    /// Whether a person who never chose is told by mail and in the app.
    pub fn default_preference(self) -> NotificationPreference {
        NotificationPreference {
            kind: self,
            email: true,
            in_app: true,
        }
    }
}

wire_enum! {
    /// The mails of a ticket's life, each with a default text in code that
    /// an organization's administrator may replace.
    MailTemplateKey {
        TicketReceived => "ticket_received",
        AgentReply => "agent_reply",
        TicketPending => "ticket_pending",
        TicketResolved => "ticket_resolved",
        TicketClosed => "ticket_closed",
        TicketAssigned => "ticket_assigned",
        CustomerReply => "customer_reply",
        TicketEscalated => "ticket_escalated",
        SlaBreached => "sla_breached",
        SlaWarning => "sla_warning",
    }
}

impl MailTemplateKey {
    /// When the mail is sent, and to whom.
    pub fn label(self) -> &'static str {
        use MailTemplateKey::*;
        match self {
            TicketReceived => "To the customer: ticket received",
            AgentReply => "To the customer: an agent replied",
            TicketPending => "To the customer: waiting for your answer",
            TicketResolved => "To the customer: resolved (with the rating link)",
            TicketClosed => "To the customer: closed",
            TicketAssigned => "To the agent: a ticket was assigned to you",
            CustomerReply => "To the agent: the customer replied",
            TicketEscalated => "To managers and the assignee: escalated",
            SlaBreached => "To managers and the assignee: SLA breached",
            SlaWarning => "To the assignee: SLA target close",
        }
    }
}

/// One notification of the caller's, as the centre lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct NotificationItem {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub ticket_id: Option<Uuid>,
    pub ticket_number: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// None while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// A page of the caller's notifications, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationList {
    pub items: Vec<NotificationItem>,
    /// All of the caller's unread notifications, not only this page's.
    pub unread_count: i64,
    /// Continues the list (null on the last page).
    pub next_cursor: Option<String>,
}

/// Which notifications to mark read: the listed ones, or all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MarkRead {
    #[serde(default)]
    pub ids: Vec<Uuid>,
    #[serde(default)]
    pub all: bool,
}

/// What marking read did: how many rows changed, and what is left unread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MarkedRead {
    pub updated: u64,
    pub unread_count: i64,
}

/// How one kind reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationPreference {
    pub kind: NotificationKind,
    pub email: bool,
    pub in_app: bool,
}

/// A person's preferences, one per kind (defaults where they never chose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    pub items: Vec<NotificationPreference>,
}

/// A mail template as the admin page edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MailTemplate {
    pub key: MailTemplateKey,
    /// When and to whom it is sent.
    pub label: String,
    pub subject: String,
    pub body: String,
    /// False while the default text is used.
    pub customized: bool,
    /// The placeholders it may use (`{{ticket.number}}`…).
    pub placeholders: Vec<String>,
}

/// A changed template text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MailTemplateText {
    pub subject: String,
    pub body: String,
}
