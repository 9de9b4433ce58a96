//! What a change to a ticket means: which fields change (for the audit
//! trail), which timestamps follow (first response, resolved, closed), and
//! whether the actor may make it at all. Every path that changes a ticket —
//! UI, API, import, later email and rules — asks here first.

use crate::domain::desk::CustomField;
use crate::domain::policy::{Capability, permits};
use crate::domain::ticket::{CustomValues, Priority, Severity, TicketStatus, normalize_tags};
use crate::domain::{ApiError, ErrorKind, FieldErrors, Role};
use crate::engine::custom_fields::{self, Writer};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::borrow::Cow;
use uuid::Uuid;

/// The fields of a ticket that changes act on.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketState {
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub severity: Option<Severity>,
    pub category_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub custom_fields: CustomValues,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction_score: Option<i32>,
    pub satisfaction_comment: Option<String>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub escalation_reason: Option<String>,
    /// Set when an admin deletes the ticket (soft: kept for the audit trail).
    pub deleted_at: Option<DateTime<Utc>>,
    pub merged_into_id: Option<Uuid>,
}

/// A partial update; `None` leaves a field alone. `assignee_id:
/// Some(None)` unassigns (likewise severity, category and team).
/// `custom_fields` holds only the fields to change (a blank value clears
/// one); they are checked against the definitions and merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPatch {
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub severity: Option<Option<Severity>>,
    pub category_id: Option<Option<Uuid>>,
    pub team_id: Option<Option<Uuid>>,
    pub assignee_id: Option<Option<Uuid>>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<CustomValues>,
}

/// One line of the audit trail: field, old → new (as text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    /// A ticket column, or `custom_fields.<key>`.
    pub field: Cow<'static, str>,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub next: TicketState,
    pub changes: Vec<FieldChange>,
}

fn conflict(message: &str) -> ApiError {
    ApiError::new(ErrorKind::Conflict, message)
}

/// Closed tickets are final: a follow-up is a new ticket.
fn refuse_if_closed(current: &TicketState) -> Result<(), ApiError> {
    if current.status == TicketStatus::Closed {
        return Err(conflict(
            "This ticket is closed; open a follow-up ticket instead",
        ));
    }
    Ok(())
}

/// Whether `actor` may make this kind of change at all: those who change
/// ticket fields any field; a customer (on their own ticket — visibility
/// sees to that) only its status; nobody else anything.
pub fn may_patch(actor: Role, patch: &TicketPatch) -> Result<(), ApiError> {
    if permits(actor, Capability::ChangeTicketFields) {
        return Ok(());
    }
    let status_only = patch.subject.is_none()
        && patch.priority.is_none()
        && patch.severity.is_none()
        && patch.category_id.is_none()
        && patch.team_id.is_none()
        && patch.assignee_id.is_none()
        && patch.tags.is_none()
        && patch.custom_fields.is_none();
    if actor == Role::Customer && status_only {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// Plans a field update by `actor` (see `may_patch`). Customers may only
/// reopen or resolve their ticket; closed tickets are final (a follow-up is
/// a new ticket).
pub fn plan_update(
    current: &TicketState,
    patch: &TicketPatch,
    actor: Role,
    fields: &[CustomField],
    now: DateTime<Utc>,
) -> Result<Plan, ApiError> {
    may_patch(actor, patch)?;
    refuse_if_closed(current)?;
    let mut errs = FieldErrors::new();
    if !permits(actor, Capability::ChangeTicketFields)
        && let Some(status) = patch.status
    {
        errs.check(
            matches!(status, TicketStatus::Open | TicketStatus::Resolved),
            "status",
            "You can reopen or resolve your ticket",
        );
    }
    let mut next = current.clone();
    if let Some(subject) = &patch.subject {
        crate::domain::ticket::check_subject(&mut errs, subject);
        next.subject = subject.trim().to_owned();
    }
    if let Some(tags) = &patch.tags {
        next.tags = normalize_tags(&mut errs, tags);
    }
    if let Some(changes) = &patch.custom_fields {
        next.custom_fields = custom_fields::merge(
            &mut errs,
            fields,
            &current.custom_fields,
            changes,
            Writer::Staff,
            false,
        );
    }
    errs.into_result()?;
    if let Some(priority) = patch.priority {
        next.priority = priority;
    }
    if let Some(assignee) = patch.assignee_id {
        next.assignee_id = assignee;
    }
    if let Some(severity) = patch.severity {
        next.severity = severity;
    }
    if let Some(category) = patch.category_id {
        next.category_id = category;
    }
    if let Some(team) = patch.team_id {
        next.team_id = team;
    }
    if let Some(status) = patch.status {
        apply_status(&mut next, status, now);
    }
    Ok(Plan {
        changes: diff(current, &next),
        next,
    })
}

/// Moves to `status` and keeps the lifecycle timestamps consistent.
fn apply_status(next: &mut TicketState, status: TicketStatus, now: DateTime<Utc>) {
    next.status = status;
    match status {
        TicketStatus::Resolved => {
            next.resolved_at.get_or_insert(now);
        }
        TicketStatus::Closed => {
            next.resolved_at.get_or_insert(now);
            next.closed_at = Some(now);
        }
        _ => next.resolved_at = None,
    }
}

/// What writing a message or adding a file takes: public ones are replies,
/// the others internal notes.
pub fn writing(public: bool) -> Capability {
    if public {
        Capability::Reply
    } else {
        Capability::WriteInternalNotes
    }
}

/// Plans the side effects of a new message: the first public staff reply
/// is the first response and opens a new ticket; a customer's reply wakes a
/// pending or resolved ticket up.
pub fn plan_comment(
    current: &TicketState,
    author: Role,
    public: bool,
    now: DateTime<Utc>,
) -> Result<Plan, ApiError> {
    refuse_if_closed(current)?;
    if !permits(author, writing(public)) {
        return Err(ApiError::forbidden());
    }
    let mut next = current.clone();
    if author.is_staff() && public {
        next.first_response_at.get_or_insert(now);
        if next.status == TicketStatus::New {
            apply_status(&mut next, TicketStatus::Open, now);
        }
    }
    if author == Role::Customer
        && matches!(
            current.status,
            TicketStatus::Pending | TicketStatus::Resolved | TicketStatus::OnHold
        )
    {
        apply_status(&mut next, TicketStatus::Open, now);
    }
    Ok(Plan {
        changes: diff(current, &next),
        next,
    })
}

/// Plans adding files. Like messages, they need a ticket that is not
/// closed, and customers cannot add internal ones. The ticket's fields do
/// not change; the audit trail names each file.
pub fn plan_attachments(
    current: &TicketState,
    author: Role,
    public: bool,
    filenames: &[String],
) -> Result<Plan, ApiError> {
    refuse_if_closed(current)?;
    if !permits(author, writing(public)) {
        return Err(ApiError::forbidden());
    }
    Ok(Plan {
        next: current.clone(),
        changes: filenames
            .iter()
            .map(|name| FieldChange {
                field: "attachment".into(),
                old: None,
                new: Some(name.clone()),
            })
            .collect(),
    })
}

/// Plans the requester's satisfaction rating: only the person who asked
/// rates, only once the ticket is resolved (or closed), and may change
/// their mind later.
pub fn plan_rating(
    current: &TicketState,
    is_requester: bool,
    score: i64,
    comment: &str,
) -> Result<Plan, ApiError> {
    if !is_requester {
        return Err(ApiError::forbidden());
    }
    if current.status.is_open() {
        return Err(conflict(
            "You can rate the help you got once the ticket is resolved",
        ));
    }
    let mut errs = FieldErrors::new();
    crate::domain::ticket::check_rating(&mut errs, score, comment);
    errs.into_result()?;
    let mut next = current.clone();
    next.satisfaction_score = Some(score as i32);
    next.satisfaction_comment = Some(comment.trim().to_owned()).filter(|c| !c.is_empty());
    Ok(Plan {
        changes: diff(current, &next),
        next,
    })
}

pub const MAX_REASON_LEN: usize = 2_000;

/// Plans an escalation to the managers: by those who change ticket
/// fields, with a reason, once.
pub fn plan_escalation(
    current: &TicketState,
    actor: Role,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Plan, ApiError> {
    if !permits(actor, Capability::ChangeTicketFields) {
        return Err(ApiError::forbidden());
    }
    refuse_if_closed(current)?;
    if current.escalated_at.is_some() {
        return Err(conflict("This ticket is already escalated"));
    }
    let reason = reason.trim();
    let mut errs = FieldErrors::new();
    errs.check(!reason.is_empty(), "reason", "Say why this needs a manager");
    errs.check(
        reason.chars().count() <= MAX_REASON_LEN,
        "reason",
        "Keep the reason under 2,000 characters",
    );
    errs.into_result()?;
    let mut next = current.clone();
    next.escalated_at = Some(now);
    next.escalation_reason = Some(reason.to_owned());
    Ok(Plan {
        changes: diff(current, &next),
        next,
    })
}

/// Plans a (soft) deletion: admins only.
pub fn plan_deletion(
    current: &TicketState,
    actor: Role,
    now: DateTime<Utc>,
) -> Result<Plan, ApiError> {
    if !permits(actor, Capability::DeleteTickets) {
        return Err(ApiError::forbidden());
    }
    let mut next = current.clone();
    next.deleted_at = Some(now);
    Ok(Plan {
        changes: diff(current, &next),
        next,
    })
}

/// The two halves of a merge: the source closes and points at the target;
/// the target's trail records what was merged into it.
#[derive(Debug, Clone, PartialEq)]
pub struct MergePlan {
    pub source: Plan,
    pub target: Plan,
}

/// What a merge needs to know about the pair besides their states.
pub struct MergePair<'a> {
    pub target_id: Uuid,
    pub source_number: &'a str,
    /// Merging tickets of different requesters would show one customer's
    /// conversation to another, so it is refused.
    pub same_requester: bool,
}

/// Plans merging `source` into `target`: staff only, both still open to
/// change, same requester.
pub fn plan_merge(
    source: &TicketState,
    target: &TicketState,
    pair: &MergePair<'_>,
    actor: Role,
    now: DateTime<Utc>,
) -> Result<MergePlan, ApiError> {
    if !permits(actor, Capability::MergeTickets) {
        return Err(ApiError::forbidden());
    }
    refuse_if_closed(source)?;
    if target.status == TicketStatus::Closed {
        return Err(conflict("The ticket to merge into is closed"));
    }
    let mut errs = FieldErrors::new();
    errs.check(
        pair.same_requester,
        "target_id",
        "Only tickets from the same requester can be merged",
    );
    errs.into_result()?;
    let mut next = source.clone();
    next.merged_into_id = Some(pair.target_id);
    apply_status(&mut next, TicketStatus::Closed, now);
    Ok(MergePlan {
        source: Plan {
            changes: diff(source, &next),
            next,
        },
        target: Plan {
            next: target.clone(),
            changes: vec![FieldChange {
                field: "merged_from".into(),
                old: None,
                new: Some(pair.source_number.to_owned()),
            }],
        },
    })
}

/// Plans the parent's side of a split: staff only, not closed, at least one
/// message chosen. The new ticket's id goes into the parent's trail.
pub fn plan_split(
    parent: &TicketState,
    actor: Role,
    chosen_messages: usize,
    child_id: Uuid,
) -> Result<Plan, ApiError> {
    if !permits(actor, Capability::MergeTickets) {
        return Err(ApiError::forbidden());
    }
    refuse_if_closed(parent)?;
    let mut errs = FieldErrors::new();
    errs.check(
        chosen_messages > 0,
        "comment_ids",
        "Choose the messages that become the new ticket",
    );
    errs.into_result()?;
    Ok(Plan {
        next: parent.clone(),
        changes: vec![FieldChange {
            field: "split_to".into(),
            old: None,
            new: Some(child_id.to_string()),
        }],
    })
}

fn text<T: ToString>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(ToString::to_string)
}

fn time(value: &Option<DateTime<Utc>>) -> Option<String> {
    value.map(|t| t.to_rfc3339())
}

/// Text as written; other values as JSON (`3`, `true`, `["a","b"]`).
fn audit_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One audit line per custom field that changed, named `custom_fields.<key>`.
fn custom_field_changes(changes: &mut Vec<FieldChange>, old: &CustomValues, new: &CustomValues) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (before, after) = (old.get(key), new.get(key));
        if before != after {
            changes.push(FieldChange {
                field: format!("custom_fields.{key}").into(),
                old: before.map(audit_text),
                new: after.map(audit_text),
            });
        }
    }
}

/// The audited differences between two states (timestamps that follow from
/// a status change are not listed separately).
pub fn diff(old: &TicketState, new: &TicketState) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut push = |field: &'static str, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push(FieldChange {
                field: field.into(),
                old,
                new,
            });
        }
    };
    push(
        "subject",
        Some(old.subject.clone()),
        Some(new.subject.clone()),
    );
    push(
        "status",
        Some(old.status.to_string()),
        Some(new.status.to_string()),
    );
    push(
        "priority",
        Some(old.priority.to_string()),
        Some(new.priority.to_string()),
    );
    push("severity", text(&old.severity), text(&new.severity));
    push(
        "category_id",
        text(&old.category_id),
        text(&new.category_id),
    );
    push("team_id", text(&old.team_id), text(&new.team_id));
    push(
        "assignee_id",
        text(&old.assignee_id),
        text(&new.assignee_id),
    );
    push("tags", Some(old.tags.join(",")), Some(new.tags.join(",")));
    push(
        "satisfaction_score",
        text(&old.satisfaction_score),
        text(&new.satisfaction_score),
    );
    push(
        "satisfaction_comment",
        old.satisfaction_comment.clone(),
        new.satisfaction_comment.clone(),
    );
    push(
        "escalated_at",
        time(&old.escalated_at),
        time(&new.escalated_at),
    );
    push(
        "escalation_reason",
        old.escalation_reason.clone(),
        new.escalation_reason.clone(),
    );
    push("deleted_at", time(&old.deleted_at), time(&new.deleted_at));
    push(
        "merged_into_id",
        text(&old.merged_into_id),
        text(&new.merged_into_id),
    );
    custom_field_changes(&mut changes, &old.custom_fields, &new.custom_fields);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn ticket(status: TicketStatus) -> TicketState {
        TicketState {
            subject: "Printer on fire".into(),
            status,
            priority: Priority::Medium,
            severity: None,
            category_id: None,
            team_id: None,
            assignee_id: None,
            tags: vec![],
            custom_fields: CustomValues::new(),
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            satisfaction_score: None,
            satisfaction_comment: None,
            escalated_at: None,
            escalation_reason: None,
            deleted_at: None,
            merged_into_id: None,
        }
    }

    #[test]
    fn merging_closes_the_source_and_records_both_sides() {
        let now = Utc::now();
        let target_id = Uuid::now_v7();
        let pair = MergePair {
            target_id,
            source_number: "TCK-000007",
            same_requester: true,
        };
        let (source, target) = (ticket(TicketStatus::Open), ticket(TicketStatus::Pending));
        let plan = plan_merge(&source, &target, &pair, Role::Agent, now).unwrap();
        assert_eq!(plan.source.next.status, TicketStatus::Closed);
        assert_eq!(plan.source.next.closed_at, Some(now));
        assert_eq!(plan.source.next.merged_into_id, Some(target_id));
        let fields: Vec<_> = plan.source.changes.iter().map(|c| &*c.field).collect();
        assert!(fields.contains(&"merged_into_id") && fields.contains(&"status"));
        assert_eq!(plan.target.next, target);
        assert_eq!(plan.target.changes[0].field, "merged_from");
        assert_eq!(plan.target.changes[0].new.as_deref(), Some("TCK-000007"));

        let err = |r: Result<MergePlan, ApiError>| r.unwrap_err();
        assert_eq!(
            err(plan_merge(&source, &target, &pair, Role::Customer, now)).kind,
            ErrorKind::Forbidden
        );
        let closed = ticket(TicketStatus::Closed);
        assert_eq!(
            err(plan_merge(&closed, &target, &pair, Role::Agent, now)).kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            err(plan_merge(&source, &closed, &pair, Role::Agent, now)).kind,
            ErrorKind::Conflict
        );
        let strangers = MergePair {
            same_requester: false,
            ..pair
        };
        assert!(
            err(plan_merge(&source, &target, &strangers, Role::Agent, now))
                .field("target_id")
                .is_some()
        );
    }

    #[test]
    fn splitting_needs_staff_an_open_ticket_and_messages() {
        let child = Uuid::now_v7();
        let open = ticket(TicketStatus::Open);
        let plan = plan_split(&open, Role::Agent, 2, child).unwrap();
        assert_eq!(plan.next, open);
        assert_eq!(plan.changes[0].field, "split_to");
        assert_eq!(plan.changes[0].new, Some(child.to_string()));
        assert!(
            plan_split(&open, Role::Agent, 0, child)
                .unwrap_err()
                .field("comment_ids")
                .is_some()
        );
        assert_eq!(
            plan_split(&open, Role::Customer, 1, child)
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
        assert_eq!(
            plan_split(&ticket(TicketStatus::Closed), Role::Agent, 1, child)
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
    }

    #[test]
    fn escalation_needs_staff_a_reason_and_happens_once() {
        let now = Utc::now();
        let open = ticket(TicketStatus::Open);
        assert_eq!(
            plan_escalation(&open, Role::Customer, "help", now)
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
        assert!(
            plan_escalation(&open, Role::Agent, "   ", now)
                .unwrap_err()
                .field("reason")
                .is_some()
        );
        let plan = plan_escalation(&open, Role::Agent, " VIP is angry ", now).unwrap();
        assert_eq!(plan.next.escalated_at, Some(now));
        assert_eq!(plan.next.escalation_reason.as_deref(), Some("VIP is angry"));
        let fields: Vec<_> = plan.changes.iter().map(|c| &*c.field).collect();
        assert_eq!(fields, ["escalated_at", "escalation_reason"]);
        assert_eq!(
            plan_escalation(&plan.next, Role::Manager, "again", now)
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            plan_escalation(&ticket(TicketStatus::Closed), Role::Agent, "late", now)
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
    }

    #[test]
    fn only_admins_delete() {
        let now = Utc::now();
        let open = ticket(TicketStatus::Open);
        for role in [Role::Customer, Role::Agent, Role::Manager] {
            assert_eq!(
                plan_deletion(&open, role, now).unwrap_err().kind,
                ErrorKind::Forbidden
            );
        }
        let plan = plan_deletion(&open, Role::Admin, now).unwrap();
        assert_eq!(plan.next.deleted_at, Some(now));
        assert_eq!(plan.changes[0].field, "deleted_at");
    }

    #[test]
    fn staff_update_lists_each_changed_field() {
        let now = Utc::now();
        let agent = Uuid::now_v7();
        let patch = TicketPatch {
            priority: Some(Priority::Urgent),
            assignee_id: Some(Some(agent)),
            tags: Some(vec!["VIP".into(), "hardware".into()]),
            ..Default::default()
        };
        let plan = plan_update(&ticket(TicketStatus::New), &patch, Role::Agent, &[], now).unwrap();
        let fields: Vec<_> = plan.changes.iter().map(|c| &*c.field).collect();
        assert_eq!(fields, ["priority", "assignee_id", "tags"]);
        assert_eq!(plan.next.tags, ["hardware", "vip"]);
        assert_eq!(plan.changes[0].old.as_deref(), Some("medium"));
        assert_eq!(plan.changes[0].new.as_deref(), Some("urgent"));
    }

    #[test]
    fn a_no_op_patch_changes_nothing() {
        let current = ticket(TicketStatus::Open);
        let patch = TicketPatch {
            status: Some(TicketStatus::Open),
            subject: Some(" Printer on fire ".into()),
            ..Default::default()
        };
        assert!(
            plan_update(&current, &patch, Role::Agent, &[], Utc::now())
                .unwrap()
                .changes
                .is_empty()
        );
    }

    #[test]
    fn resolving_and_reopening_keep_timestamps_consistent() {
        let t0 = Utc::now();
        let resolve = TicketPatch {
            status: Some(TicketStatus::Resolved),
            ..Default::default()
        };
        let resolved = plan_update(&ticket(TicketStatus::Open), &resolve, Role::Agent, &[], t0)
            .unwrap()
            .next;
        assert_eq!(resolved.resolved_at, Some(t0));
        let reopen = TicketPatch {
            status: Some(TicketStatus::Open),
            ..Default::default()
        };
        let reopened = plan_update(
            &resolved,
            &reopen,
            Role::Customer,
            &[],
            t0 + TimeDelta::hours(1),
        )
        .unwrap()
        .next;
        assert_eq!(reopened.resolved_at, None);
        let close = TicketPatch {
            status: Some(TicketStatus::Closed),
            ..Default::default()
        };
        let closed = plan_update(
            &reopened,
            &close,
            Role::Agent,
            &[],
            t0 + TimeDelta::hours(2),
        )
        .unwrap()
        .next;
        assert_eq!(closed.closed_at, Some(t0 + TimeDelta::hours(2)));
        assert!(closed.resolved_at.is_some());
    }

    #[test]
    fn closed_tickets_are_final() {
        let closed = ticket(TicketStatus::Closed);
        let patch = TicketPatch {
            priority: Some(Priority::Low),
            ..Default::default()
        };
        assert_eq!(
            plan_update(&closed, &patch, Role::Admin, &[], Utc::now())
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            plan_comment(&closed, Role::Customer, true, Utc::now())
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
    }

    #[test]
    fn customers_may_only_reopen_or_resolve() {
        let current = ticket(TicketStatus::Pending);
        let escalate = TicketPatch {
            priority: Some(Priority::Urgent),
            ..Default::default()
        };
        assert_eq!(
            plan_update(&current, &escalate, Role::Customer, &[], Utc::now())
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
        let hold = TicketPatch {
            status: Some(TicketStatus::OnHold),
            ..Default::default()
        };
        assert!(
            plan_update(&current, &hold, Role::Customer, &[], Utc::now())
                .unwrap_err()
                .field("status")
                .is_some()
        );
        let resolve = TicketPatch {
            status: Some(TicketStatus::Resolved),
            ..Default::default()
        };
        assert!(plan_update(&current, &resolve, Role::Customer, &[], Utc::now()).is_ok());
    }

    #[test]
    fn first_public_staff_reply_is_the_first_response() {
        let t0 = Utc::now();
        let note = plan_comment(&ticket(TicketStatus::New), Role::Agent, false, t0).unwrap();
        assert_eq!(
            note.next.first_response_at, None,
            "internal notes are not responses"
        );
        assert!(note.changes.is_empty());
        let reply = plan_comment(&ticket(TicketStatus::New), Role::Agent, true, t0).unwrap();
        assert_eq!(reply.next.first_response_at, Some(t0));
        assert_eq!(reply.next.status, TicketStatus::Open);
        let again =
            plan_comment(&reply.next, Role::Manager, true, t0 + TimeDelta::minutes(5)).unwrap();
        assert_eq!(
            again.next.first_response_at,
            Some(t0),
            "only the first counts"
        );
    }

    #[test]
    fn customer_reply_reopens_waiting_tickets_and_cannot_be_internal() {
        for status in [
            TicketStatus::Pending,
            TicketStatus::Resolved,
            TicketStatus::OnHold,
        ] {
            let plan = plan_comment(&ticket(status), Role::Customer, true, Utc::now()).unwrap();
            assert_eq!(plan.next.status, TicketStatus::Open);
            assert_eq!(plan.changes[0].field, "status");
        }
        assert_eq!(
            plan_comment(
                &ticket(TicketStatus::Open),
                Role::Customer,
                false,
                Utc::now()
            )
            .unwrap_err()
            .kind,
            ErrorKind::Forbidden
        );
    }

    #[test]
    fn attachments_are_audited_and_follow_the_message_rules() {
        let open = ticket(TicketStatus::Open);
        let names = ["a.pdf".to_owned(), "b.png".to_owned()];
        let plan = plan_attachments(&open, Role::Customer, true, &names).unwrap();
        assert_eq!(plan.next, open);
        let audited: Vec<_> = plan.changes.iter().map(|c| c.new.as_deref()).collect();
        assert_eq!(audited, [Some("a.pdf"), Some("b.png")]);
        assert!(plan.changes.iter().all(|c| c.field == "attachment"));
        assert_eq!(
            plan_attachments(&open, Role::Customer, false, &names)
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
        assert!(plan_attachments(&open, Role::Agent, false, &names).is_ok());
        let closed = ticket(TicketStatus::Closed);
        assert_eq!(
            plan_attachments(&closed, Role::Agent, true, &names)
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
    }

    #[test]
    fn only_the_requester_rates_and_only_after_resolution() {
        let open = ticket(TicketStatus::Open);
        assert_eq!(
            plan_rating(&open, true, 5, "").unwrap_err().kind,
            ErrorKind::Conflict
        );
        let resolved = ticket(TicketStatus::Resolved);
        assert_eq!(
            plan_rating(&resolved, false, 5, "").unwrap_err().kind,
            ErrorKind::Forbidden
        );
        for bad in [0, 6, -1] {
            assert!(
                plan_rating(&resolved, true, bad, "")
                    .unwrap_err()
                    .field("score")
                    .is_some()
            );
        }
        let rated = plan_rating(&resolved, true, 4, "  Quick and friendly ").unwrap();
        assert_eq!(rated.next.satisfaction_score, Some(4));
        assert_eq!(
            rated.next.satisfaction_comment.as_deref(),
            Some("Quick and friendly")
        );
        let fields: Vec<_> = rated.changes.iter().map(|c| &*c.field).collect();
        assert_eq!(fields, ["satisfaction_score", "satisfaction_comment"]);
        // Closed tickets can still be rated, and a rating can be revised.
        let mut closed = rated.next.clone();
        closed.status = TicketStatus::Closed;
        let revised = plan_rating(&closed, true, 2, "").unwrap();
        assert_eq!(revised.next.satisfaction_score, Some(2));
        assert_eq!(revised.next.satisfaction_comment, None);
    }

    proptest::proptest! {
        /// Whatever sequence of status changes staff make, a ticket that is
        /// resolved or closed has resolved_at, an open one does not, and only
        /// closed tickets have closed_at.
        #[test]
        fn lifecycle_timestamps_follow_status(steps in proptest::collection::vec(0usize..6, 1..20)) {
            let mut state = ticket(TicketStatus::New);
            let mut now = Utc::now();
            for step in steps {
                now += TimeDelta::minutes(1);
                let patch = TicketPatch { status: Some(TicketStatus::ALL[step]), ..Default::default() };
                match plan_update(&state, &patch, Role::Agent, &[], now) {
                    Ok(plan) => state = plan.next,
                    Err(e) => proptest::prop_assert_eq!(state.status, TicketStatus::Closed, "{:?}", e),
                }
                proptest::prop_assert_eq!(state.resolved_at.is_some(), !state.status.is_open());
                proptest::prop_assert_eq!(state.closed_at.is_some(), state.status == TicketStatus::Closed);
            }
        }
    }
}
