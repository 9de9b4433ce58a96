//! Tickets as the API and the UI see them, with the rules both sides use.

use super::attachment::Attachment;
use super::desk::AgentRating;
use super::error::{ApiError, FieldErrors};
use super::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

wire_enum!(
    /// Where a ticket is in its life.
    TicketStatus {
        New => "new",
        Open => "open",
        Pending => "pending",
        OnHold => "on_hold",
        Resolved => "resolved",
        Closed => "closed",
    }
);

wire_enum!(Priority { Low => "low", Medium => "medium", High => "high", Urgent => "urgent" });

wire_enum!(
    /// How badly the problem hurts the customer (priority is how soon we act).
    Severity {
        Critical => "critical",
        Major => "major",
        Minor => "minor",
        Cosmetic => "cosmetic",
    }
);

wire_enum!(
    /// How the ticket reached us.
    Channel {
        Web => "web",
        Portal => "portal",
        Email => "email",
        Whatsapp => "whatsapp",
        Sms => "sms",
        Phone => "phone",
        Api => "api",
    }
);

impl TicketStatus {
    /// Still needs work from someone.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::New => "New",
            TicketStatus::Open => "Open",
            TicketStatus::Pending => "Pending",
            TicketStatus::OnHold => "On hold",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Closed => "Closed",
        }
    }
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::Major => "Major",
            Severity::Minor => "Minor",
            Severity::Cosmetic => "Cosmetic",
        }
    }
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::Web => "Web form",
            Channel::Portal => "Portal",
            Channel::Email => "Email",
            Channel::Whatsapp => "WhatsApp",
            Channel::Sms => "SMS",
            Channel::Phone => "Phone",
            Channel::Api => "API",
        }
    }
}

impl Priority {
    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Medium => "Medium",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }
}

/// Custom field values by field key (JSON: text, number, date string,
/// option, list of options, or boolean).
pub type CustomValues = BTreeMap<String, serde_json::Value>;

/// `TCK-000123`: what people say on the phone.
pub fn display_number(number: i64) -> String {
    format!("TCK-{number:06}")
}

/// The number a person means by `TCK-000012`, `tck-12`, `#12` or `12`;
/// `None` for anything else.
pub fn parse_display_number(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = match text.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("TCK-") => &text[4..],
        _ => text.strip_prefix('#').unwrap_or(text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// A ticket as returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Ticket {
    pub id: Uuid,
    pub number: i64,
    pub display_number: String,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub severity: Option<Severity>,
    pub channel: Channel,
    pub requester_id: Uuid,
    /// The requester's company, as it was when the ticket was created.
    pub company_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub tags: Vec<String>,
    /// Custom field key → value; customers only receive the fields marked
    /// visible to them.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub custom_fields: CustomValues,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The requester's rating of how the ticket was handled, once given.
    pub satisfaction: Option<Satisfaction>,
    /// When and why the ticket was escalated to the managers.
    pub escalated_at: Option<DateTime<Utc>>,
    pub escalation_reason: Option<String>,
    /// Set on a ticket that was merged into another (it is then closed).
    pub merged_into_id: Option<Uuid>,
    /// Set on a ticket split off another.
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The earliest pending SLA due time (null: none pending, or no policy
    /// applies).
    #[serde(default)]
    pub sla_due_at: Option<DateTime<Utc>>,
    /// null when no SLA policy applies.
    #[serde(default)]
    pub sla_state: Option<crate::domain::sla::SlaState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Satisfaction {
    /// 1 (very unhappy) to 5 (very happy).
    pub score: i32,
    pub comment: Option<String>,
}

pub const MAX_RATING_COMMENT_LEN: usize = 2_000;

/// A 1–5 rating with an optional short comment (a requester's satisfaction,
/// or a manager's rating of an agent).
pub fn check_rating(errs: &mut FieldErrors, score: i64, comment: &str) {
    errs.check(
        (1..=5).contains(&score),
        "score",
        "Choose a rating from 1 to 5",
    );
    errs.check(
        comment.chars().count() <= MAX_RATING_COMMENT_LEN,
        "comment",
        "Keep the comment under 2,000 characters",
    );
}

/// A message on a ticket: a public reply, or an internal note staff only see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub author_id: Uuid,
    pub author_name: String,
    /// As written (Markdown).
    pub body: String,
    /// `body` rendered and sanitized on the server: safe to show as HTML.
    #[serde(default)]
    pub body_html: String,
    pub public: bool,
    pub created_at: DateTime<Utc>,
}

/// A page of a ticket's conversation: its messages oldest first, and where
/// the page of older messages starts, if there are any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentPage {
    pub items: Vec<Comment>,
    /// Opaque; pass it back as `before` for the older messages.
    pub older: Option<String>,
}

/// One line of a ticket's audit trail: who changed which field, from what
/// to what, and through which channel (ui, api, rule, email, import).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct HistoryEntry {
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub source: String,
    pub field: String,
    #[cfg_attr(feature = "ssr", sqlx(rename = "old_value"))]
    pub old: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(rename = "new_value"))]
    pub new: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(rename = "created_at"))]
    pub at: DateTime<Utc>,
}

/// How many tickets the desk's queues hold (their tabs show it): open
/// ones assigned to the caller, without an assignee, all, pending, and
/// escalated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    pub my_open: i64,
    pub unassigned: i64,
    pub all_open: i64,
    pub pending: i64,
    pub escalated: i64,
}

/// Counts and averages over the tickets a caller may see (`GET /tickets/stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TicketStats {
    /// Live (not deleted) tickets.
    pub total: i64,
    /// Every status, zeros included.
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Open (not resolved or closed) tickets by priority, zeros included.
    pub open_by_priority: std::collections::BTreeMap<String, i64>,
    pub open: i64,
    pub unassigned_open: i64,
    /// Always 0 for customers: escalation is internal.
    pub escalated_open: i64,
    /// Over the last `window_days` days.
    pub window_days: i64,
    pub created_in_window: i64,
    pub resolved_in_window: i64,
    /// Averages over tickets created in the window that got there.
    pub avg_first_response_minutes: Option<f64>,
    pub avg_resolution_minutes: Option<f64>,
    pub rated: i64,
    pub avg_satisfaction: Option<f64>,
}

impl TicketStats {
    /// The figures of no tickets: every status and priority at zero.
    pub fn empty(window_days: i64) -> TicketStats {
        TicketStats {
            total: 0,
            by_status: TicketStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), 0))
                .collect(),
            open_by_priority: Priority::ALL
                .iter()
                .map(|p| (p.as_str().to_owned(), 0))
                .collect(),
            open: 0,
            unassigned_open: 0,
            escalated_open: 0,
            window_days,
            created_in_window: 0,
            resolved_in_window: 0,
            avg_first_response_minutes: None,
            avg_resolution_minutes: None,
            rated: 0,
            avg_satisfaction: None,
        }
    }
}

pub const MAX_SUBJECT_LEN: usize = 250;
pub const MAX_BODY_LEN: usize = 100_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 50;

/// Trims and checks a new ticket's subject and description.
pub fn validate_new_ticket(subject: &str, description: &str) -> Result<(), ApiError> {
    let mut errs = FieldErrors::new();
    check_subject(&mut errs, subject);
    errs.check(
        !description.trim().is_empty(),
        "description",
        "Describe the problem",
    );
    errs.check(
        description.len() <= MAX_BODY_LEN,
        "description",
        "The description is too long",
    );
    errs.into_result()
}

pub fn check_subject(errs: &mut FieldErrors, subject: &str) {
    errs.check(!subject.trim().is_empty(), "subject", "Enter a subject");
    errs.check(
        subject.trim().chars().count() <= MAX_SUBJECT_LEN,
        "subject",
        &format!("Keep the subject under {MAX_SUBJECT_LEN} characters"),
    );
}

/// Tags are lower-case words: trimmed, de-duplicated, sorted.
pub fn normalize_tags(errs: &mut FieldErrors, tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    errs.check(
        out.len() <= MAX_TAGS,
        "tags",
        &format!("Use at most {MAX_TAGS} tags"),
    );
    errs.check(
        out.iter().all(|t| {
            t.chars().count() <= MAX_TAG_LEN
                && t.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        }),
        "tags",
        "Tags are single words of letters, digits, - _ or .",
    );
    out
}

pub fn validate_comment_body(body: &str) -> Result<(), ApiError> {
    let mut errs = FieldErrors::new();
    errs.check(!body.trim().is_empty(), "body", "Write a message");
    errs.check(
        body.len() <= MAX_BODY_LEN,
        "body",
        "The message is too long",
    );
    errs.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(TicketStatus::OnHold.as_str(), "on_hold");
        assert_eq!(Priority::parse("urgent"), Some(Priority::Urgent));
        assert_eq!(Channel::parse("whatsapp"), Some(Channel::Whatsapp));
        assert_eq!(Channel::parse("fax"), None);
    }

    #[test]
    fn numbers_display_padded() {
        assert_eq!(display_number(123), "TCK-000123");
        assert_eq!(display_number(1_234_567), "TCK-1234567");
    }

    #[test]
    fn numbers_parse_the_way_people_write_them() {
        for text in ["TCK-000012", "tck-12", " #12 ", "12", "0012"] {
            assert_eq!(parse_display_number(text), Some(12), "{text}");
        }
        assert_eq!(
            parse_display_number(&display_number(1_234_567)),
            Some(1_234_567)
        );
        for text in [
            "",
            "TCK-",
            "TCK-0",
            "-12",
            "+12",
            "12a",
            "TCK 12",
            "99999999999999999999",
            "ÄÖÜ-12",
        ] {
            assert_eq!(parse_display_number(text), None, "{text}");
        }
    }

    #[test]
    fn new_ticket_needs_subject_and_description() {
        let err = validate_new_ticket("  ", "").unwrap_err();
        assert!(err.field("subject").is_some());
        assert!(err.field("description").is_some());
        assert!(validate_new_ticket("Printer on fire", "It is on fire.").is_ok());
        let long = "x".repeat(MAX_SUBJECT_LEN + 1);
        assert!(
            validate_new_ticket(&long, "d")
                .unwrap_err()
                .field("subject")
                .is_some()
        );
    }

    #[test]
    fn tags_are_normalized() {
        let mut errs = FieldErrors::new();
        let tags = normalize_tags(
            &mut errs,
            &[" VIP ".into(), "billing".into(), "vip".into(), "".into()],
        );
        assert_eq!(tags, ["billing", "vip"]);
        assert!(errs.into_result().is_ok());
        let mut errs = FieldErrors::new();
        normalize_tags(&mut errs, &["two words".into()]);
        assert!(errs.into_result().unwrap_err().field("tags").is_some());
    }
}
/// A ticket with its conversation, as the caller may see it, and the names
/// the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketDetail {
    pub ticket: Ticket,
    /// The description as safe HTML (Markdown, rendered on the server).
    pub description_html: String,
    pub requester_name: String,
    pub assignee_name: Option<String>,
    /// The newest messages (a page, oldest first); `older_comments` loads
    /// the ones before them.
    pub comments: Vec<Comment>,
    pub older_comments: Option<String>,
    pub attachments: Vec<Attachment>,
    /// For a merged ticket: the number of the ticket it was merged into.
    pub merged_into_number: Option<String>,
    /// The audit trail, oldest first, for staff (empty for customers). People,
    /// teams, categories and tickets are named (`Alex Agent`, `TCK-000012`)
    /// instead of ids.
    pub history: Vec<HistoryEntry>,
    /// Managers' ratings of the agents' handling (staff only).
    pub agent_ratings: Vec<AgentRating>,
}
