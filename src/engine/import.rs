//! Historical tickets from another help desk: validating a batch and working
//! out each ticket's state from its original dates and messages. Pure; the
//! service resolves people and the store writes it.

use crate::domain::ticket::{MAX_BODY_LEN, MAX_SUBJECT_LEN, Priority, TicketStatus};
use crate::domain::user::{is_plausible_email, normalize_email};
use crate::domain::{ApiError, FieldErrors};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashSet;

pub const MAX_TICKETS_PER_IMPORT: usize = 1_000;
/// A ticket is stored in one transaction, which on SQLite holds the one
/// writer: this bounds how long. Longer conversations come in several
/// imports of the same ticket (messages already there are skipped).
pub const MAX_COMMENTS_PER_TICKET: usize = 10_000;
const MAX_EXTERNAL_ID_LEN: usize = 200;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportBatch {
    #[serde(default)]
    pub tickets: Vec<ImportTicket>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportTicket {
    #[serde(default)]
    pub external_id: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub requester_email: String,
    pub created_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub comments: Vec<ImportComment>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportComment {
    #[serde(default)]
    pub body: String,
    #[serde(default = "public_by_default")]
    pub public: bool,
    #[serde(default)]
    pub author_email: String,
    pub created_at: Option<DateTime<Utc>>,
}

fn public_by_default() -> bool {
    true
}

/// A ticket of the batch, checked and normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTicket {
    pub external_id: String,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub requester_email: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub comments: Vec<ValidComment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidComment {
    pub body: String,
    pub public: bool,
    pub author_email: String,
    pub created_at: DateTime<Utc>,
}

/// Checks the whole batch and reports every problem at once, keyed like
/// `tickets[3].subject` and `tickets[3].comments[0].created_at`.
pub fn validate_batch(batch: ImportBatch) -> Result<Vec<ValidTicket>, ApiError> {
    let mut errs = FieldErrors::new();
    errs.check(
        !batch.tickets.is_empty(),
        "tickets",
        "Send at least one ticket",
    );
    errs.check(
        batch.tickets.len() <= MAX_TICKETS_PER_IMPORT,
        "tickets",
        &format!("Send at most {MAX_TICKETS_PER_IMPORT} tickets per request"),
    );
    let mut seen = HashSet::new();
    let mut valid = Vec::with_capacity(batch.tickets.len());
    for (i, t) in batch.tickets.into_iter().enumerate() {
        let at = |field: &str| format!("tickets[{i}].{field}");
        let external_id = t.external_id.trim().to_owned();
        errs.check(
            !external_id.is_empty(),
            &at("external_id"),
            "Give each ticket its id in the old system",
        );
        errs.check(
            external_id.chars().count() <= MAX_EXTERNAL_ID_LEN,
            &at("external_id"),
            "The id is too long",
        );
        errs.check(
            external_id.is_empty() || seen.insert(external_id.clone()),
            &at("external_id"),
            "This id appears twice in the batch",
        );
        let subject = t.subject.trim().to_owned();
        errs.check(!subject.is_empty(), &at("subject"), "Enter a subject");
        errs.check(
            subject.chars().count() <= MAX_SUBJECT_LEN,
            &at("subject"),
            &format!("Keep the subject under {MAX_SUBJECT_LEN} characters"),
        );
        errs.check(
            t.description.len() <= MAX_BODY_LEN,
            &at("description"),
            "The description is too long",
        );
        let status = TicketStatus::parse(t.status.trim());
        errs.check(
            status.is_some(),
            &at("status"),
            "Use new, open, pending, on_hold, resolved or closed",
        );
        let priority = match t.priority.trim() {
            "" => Some(Priority::Medium),
            p => Priority::parse(p),
        };
        errs.check(
            priority.is_some(),
            &at("priority"),
            "Use low, medium, high or urgent",
        );
        let requester_email = normalize_email(&t.requester_email);
        errs.check(
            is_plausible_email(&requester_email),
            &at("requester_email"),
            "Enter the requester's email address",
        );
        errs.check(
            t.created_at.is_some(),
            &at("created_at"),
            "Give the original creation time (RFC 3339)",
        );
        if let (Some(created), Some(closed)) = (t.created_at, t.closed_at) {
            errs.check(
                closed >= created,
                &at("closed_at"),
                "A ticket cannot close before it was created",
            );
        }
        let within_cap = t.comments.len() <= MAX_COMMENTS_PER_TICKET;
        errs.check(
            within_cap,
            &at("comments"),
            &format!(
                "Send at most {MAX_COMMENTS_PER_TICKET} messages per ticket; \
                 import the rest of this ticket in another batch"
            ),
        );
        // Refused as a whole: no point checking each of them.
        let listed = if within_cap { t.comments } else { Vec::new() };
        let mut comments = Vec::with_capacity(listed.len());
        for (j, c) in listed.into_iter().enumerate() {
            let at = |field: &str| format!("tickets[{i}].comments[{j}].{field}");
            errs.check(!c.body.trim().is_empty(), &at("body"), "Write a message");
            errs.check(
                c.body.len() <= MAX_BODY_LEN,
                &at("body"),
                "The message is too long",
            );
            let author_email = normalize_email(&c.author_email);
            errs.check(
                is_plausible_email(&author_email),
                &at("author_email"),
                "Enter the author's email address",
            );
            errs.check(
                c.created_at.is_some(),
                &at("created_at"),
                "Give the original time (RFC 3339)",
            );
            if let Some(created_at) = c.created_at {
                comments.push(ValidComment {
                    body: c.body,
                    public: c.public,
                    author_email,
                    created_at,
                });
            }
        }
        comments.sort_by_key(|c| c.created_at);
        if let (Some(status), Some(priority), Some(created_at)) = (status, priority, t.created_at) {
            valid.push(ValidTicket {
                external_id,
                subject,
                description: t.description,
                status,
                priority,
                requester_email,
                created_at,
                closed_at: t.closed_at,
                comments,
            });
        }
    }
    errs.into_result()?;
    Ok(valid)
}

/// The lifecycle dates an imported ticket ends up with.
/// What an import did to one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportResult {
    Created,
    Updated,
    Unchanged,
}

impl ImportResult {
    /// A ticket created by this import, or an existing one it changed or not.
    pub fn of(created: bool, changed: bool) -> ImportResult {
        match (created, changed) {
            (true, _) => ImportResult::Created,
            (false, true) => ImportResult::Updated,
            (false, false) => ImportResult::Unchanged,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedDates {
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// First response: the earliest public message by staff. Resolved and
/// closed tickets take `closed_at`, or failing that their last message, or
/// their creation time; open ones have neither date.
pub fn imported_dates(ticket: &ValidTicket, is_staff: impl Fn(&str) -> bool) -> ImportedDates {
    let first_response_at = ticket
        .comments
        .iter()
        .filter(|c| c.public && is_staff(&c.author_email))
        .map(|c| c.created_at)
        .min();
    let ended = ticket
        .closed_at
        .or_else(|| ticket.comments.iter().map(|c| c.created_at).max())
        .unwrap_or(ticket.created_at);
    let (resolved_at, closed_at) = match ticket.status {
        TicketStatus::Resolved => (Some(ended), None),
        TicketStatus::Closed => (Some(ended), Some(ended)),
        _ => (None, None),
    };
    ImportedDates {
        first_response_at,
        resolved_at,
        closed_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch(value: serde_json::Value) -> ImportBatch {
        serde_json::from_value(value).unwrap()
    }

    fn one() -> serde_json::Value {
        json!({"tickets": [{
            "external_id": "ZD-1", "subject": " Printer ", "description": "Jammed",
            "status": "closed", "priority": "high", "requester_email": "Ann@Example.com",
            "created_at": "2024-01-01T10:00:00Z", "closed_at": "2024-01-02T10:00:00Z",
            "comments": [
                {"body": "Fixed", "public": true, "author_email": "agent@acme.test", "created_at": "2024-01-01T12:00:00Z"},
                {"body": "Thanks", "author_email": "ann@example.com", "created_at": "2024-01-01T11:00:00Z"}
            ]
        }]})
    }

    #[test]
    fn a_valid_batch_is_normalized() {
        let valid = validate_batch(batch(one())).unwrap();
        let t = &valid[0];
        assert_eq!(t.subject, "Printer");
        assert_eq!(t.requester_email, "ann@example.com");
        assert_eq!(t.status, TicketStatus::Closed);
        // Messages in time order; `public` defaults to true.
        assert_eq!(t.comments[0].body, "Thanks");
        assert!(t.comments[0].public);
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let err = validate_batch(batch(json!({"tickets": [
            {"external_id": "A", "subject": "", "status": "done", "priority": "meh",
             "requester_email": "nope", "comments": [{"body": " ", "author_email": "x"}]},
            {"external_id": "A", "subject": "ok", "status": "open", "requester_email": "a@b.c",
             "created_at": "2024-01-02T00:00:00Z", "closed_at": "2024-01-01T00:00:00Z"}
        ]})))
        .unwrap_err();
        for field in [
            "tickets[0].subject",
            "tickets[0].status",
            "tickets[0].priority",
            "tickets[0].requester_email",
            "tickets[0].created_at",
            "tickets[0].comments[0].body",
            "tickets[0].comments[0].author_email",
            "tickets[0].comments[0].created_at",
            "tickets[1].external_id",
            "tickets[1].closed_at",
        ] {
            assert!(err.field(field).is_some(), "{field}: {err:?}");
        }
        assert!(
            validate_batch(batch(json!({"tickets": []})))
                .unwrap_err()
                .field("tickets")
                .is_some()
        );
    }

    #[test]
    fn a_ticket_brings_at_most_the_cap_of_messages() {
        let message =
            json!({"body": "Hi", "author_email": "a@b.c", "created_at": "2024-01-01T11:00:00Z"});
        let with = |n: usize| {
            let mut value = one();
            value["tickets"][0]["comments"] = json!(vec![message.clone(); n]);
            validate_batch(batch(value))
        };
        assert_eq!(
            with(MAX_COMMENTS_PER_TICKET).unwrap()[0].comments.len(),
            MAX_COMMENTS_PER_TICKET
        );
        let err = with(MAX_COMMENTS_PER_TICKET + 1).unwrap_err();
        assert!(err.field("tickets[0].comments").is_some(), "{err:?}");
    }

    #[test]
    fn dates_follow_status_and_staff_replies() {
        let t = &validate_batch(batch(one())).unwrap()[0];
        let dates = imported_dates(t, |email| email == "agent@acme.test");
        assert_eq!(
            dates.first_response_at.unwrap().to_rfc3339(),
            "2024-01-01T12:00:00+00:00"
        );
        assert_eq!(dates.closed_at, t.closed_at);
        assert_eq!(dates.resolved_at, t.closed_at);
        let mut open = t.clone();
        open.status = TicketStatus::Open;
        let dates = imported_dates(&open, |_| false);
        assert_eq!(
            dates,
            ImportedDates {
                first_response_at: None,
                resolved_at: None,
                closed_at: None
            }
        );
        let mut resolved = t.clone();
        resolved.status = TicketStatus::Resolved;
        resolved.closed_at = None;
        // No closing date: the last message marks the end.
        let dates = imported_dates(&resolved, |_| false);
        assert_eq!(
            dates.resolved_at.unwrap().to_rfc3339(),
            "2024-01-01T12:00:00+00:00"
        );
    }
}
