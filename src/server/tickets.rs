//! The ticket service: the one path every ticket change takes — validate,
//! ask the engine what the change means, store it with its audit rows and
//! domain event in one transaction. REST handlers and server functions are
//! thin shells over these functions.

use crate::domain::attachment::Attachment;
use crate::domain::ticket::{
    Channel, Comment, HistoryEntry, Priority, Ticket, TicketStats, TicketStatus, normalize_tags,
    validate_comment_body, validate_new_ticket,
};
use crate::domain::{ApiError, ErrorKind, FieldErrors, Role};
use crate::engine::ticket_change::{
    MergePair, Plan, TicketPatch, plan_attachments, plan_comment, plan_deletion, plan_escalation,
    plan_merge, plan_rating, plan_split, plan_update,
};
use crate::server::auth::Claims;
use crate::server::db::attachments::{self, NewAttachment};
use crate::server::db::tickets::{
    self, Actor, Change, ListFilter, NewComment, NewTicket, Source, TicketRow,
};
use crate::server::db::users;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::uploads::{Upload, sniff_content_type};
use bytes::Bytes;
use chrono::Utc;
use uuid::Uuid;

/// How often a change is re-planned when another writer got there first.
const MAX_ATTEMPTS: usize = 3;

pub struct CreateTicket {
    pub subject: String,
    pub description: String,
    /// Wire names (`high`, `email`…); unknown ones are field errors.
    pub priority: Option<String>,
    pub channel: Option<String>,
    pub requester_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub attachments: Vec<Upload>,
}

fn actor(caller: &Claims, source: Source) -> Actor {
    Actor {
        user_id: Some(caller.sub),
        source,
    }
}

/// Checks that `id` may own tickets: active support staff of the caller's organization.
async fn check_assignee(
    state: &AppState,
    org: Uuid,
    id: Uuid,
    errs: &mut FieldErrors,
) -> AppResult<()> {
    let user = users::find_in_org(&state.db, org, id).await?;
    let can_work = user
        .is_some_and(|u| u.active && matches!(u.role, Role::Agent | Role::Manager | Role::Admin));
    errs.check(
        can_work,
        "assignee_id",
        "Choose an agent, manager or admin of your organization",
    );
    Ok(())
}

pub async fn create(
    state: &AppState,
    caller: &Claims,
    input: CreateTicket,
    source: Source,
) -> AppResult<Ticket> {
    let customer = caller.role == Role::Customer;
    if customer
        && (input.assignee_id.is_some() || input.requester_id.is_some_and(|r| r != caller.sub))
    {
        return Err(ApiError::forbidden().into());
    }
    if !customer && !caller.role.is_staff() {
        return Err(ApiError::forbidden().into());
    }
    let mut errs = FieldErrors::new();
    if let Err(e) = validate_new_ticket(&input.subject, &input.description) {
        for (field, message) in e.fields {
            errs.add(&field, message);
        }
    }
    let tags = normalize_tags(&mut errs, &input.tags);
    let priority = errs.parse("priority", input.priority.as_deref(), Priority::parse);
    let channel = errs.parse("channel", input.channel.as_deref(), Channel::parse);
    let requester_id = input.requester_id.unwrap_or(caller.sub);
    if requester_id != caller.sub {
        let exists = users::find_in_org(&state.db, caller.org, requester_id)
            .await?
            .is_some();
        errs.check(
            exists,
            "requester_id",
            "No such person in your organization",
        );
    }
    if let Some(assignee) = input.assignee_id {
        check_assignee(state, caller.org, assignee, &mut errs).await?;
    }
    errs.into_result()?;
    let staged = stage(state, caller, &input.attachments, true).await?;
    let channel = match (customer, channel, source) {
        (true, _, _) => Channel::Portal,
        (false, Some(channel), _) => channel,
        (false, None, Source::Ui) => Channel::Web,
        (false, None, _) => Channel::Api,
    };
    let ticket = tickets::insert(
        &state.db,
        &NewTicket {
            id: Uuid::now_v7(),
            organization_id: caller.org,
            subject: input.subject.trim(),
            description: &input.description,
            priority: priority.unwrap_or(Priority::Medium),
            channel,
            requester_id,
            assignee_id: input.assignee_id,
            tags: &tags,
            attachments: &staged,
            parent_id: None,
            external_id: None,
        },
        actor(caller, source),
        Utc::now(),
    )
    .await;
    if ticket.is_err() {
        discard(state, &staged).await;
    }
    Ok(ticket?)
}

/// Sniffs and stores uploaded files ahead of the transaction that records
/// them; `discard` removes them again if that transaction fails.
async fn stage(
    state: &AppState,
    caller: &Claims,
    uploads: &[Upload],
    public: bool,
) -> AppResult<Vec<NewAttachment>> {
    let mut staged = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let id = Uuid::now_v7();
        let file = NewAttachment {
            id,
            uploader_id: Some(caller.sub),
            filename: upload.filename.clone(),
            content_type: sniff_content_type(&upload.bytes),
            size: upload.bytes.len() as i64,
            public,
            storage_key: format!("attachments/{}/{id}", caller.org),
        };
        if let Err(e) = state
            .storage
            .put(&file.storage_key, upload.bytes.clone())
            .await
        {
            discard(state, &staged).await;
            return Err(e.into());
        }
        staged.push(file);
    }
    Ok(staged)
}

async fn discard(state: &AppState, staged: &[NewAttachment]) {
    for file in staged {
        state.storage.delete(&file.storage_key).await;
    }
}

/// A ticket as the caller may see it: an escalation is an internal hand-off
/// (with staff's reason), so customers never receive it.
fn shown_to(caller: &Claims, mut ticket: Ticket) -> Ticket {
    if !caller.role.is_staff() {
        ticket.escalated_at = None;
        ticket.escalation_reason = None;
    }
    ticket
}

/// A ticket the caller may see: their own for customers, any of the
/// organization's for staff. Anything else is "not found".
async fn load_visible(state: &AppState, caller: &Claims, id: Uuid) -> AppResult<TicketRow> {
    match tickets::find(&state.db, caller.org, id).await? {
        Some(row) if caller.role.is_staff() || row.requester_id == caller.sub => Ok(row),
        _ => Err(ApiError::not_found().into()),
    }
}

pub async fn get(state: &AppState, caller: &Claims, id: Uuid) -> AppResult<Ticket> {
    Ok(shown_to(
        caller,
        load_visible(state, caller, id).await?.into_ticket(),
    ))
}

/// The ticket a person names by its number (`TCK-000012`, `#12`, `12`) in
/// a form: one the caller may see, else a 422 on `field` — the number is
/// form input, not a resource path.
pub async fn find_by_number(
    state: &AppState,
    caller: &Claims,
    text: &str,
    field: &str,
) -> AppResult<Ticket> {
    let mut errs = FieldErrors::new();
    let Some(number) = crate::domain::ticket::parse_display_number(text) else {
        errs.add(field, "Enter a ticket number, like TCK-000012");
        return Err(errs.into_result().unwrap_err().into());
    };
    match tickets::find_by_number(&state.db, caller.org, number).await? {
        Some(row) if caller.role.is_staff() || row.requester_id == caller.sub => {
            Ok(row.into_ticket())
        }
        _ => {
            errs.add(field, "There is no ticket with this number");
            Err(errs.into_result().unwrap_err().into())
        }
    }
}

fn lost_race() -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        "The ticket changed while you were saving; reload and try again",
    )
}

/// What a change carries besides field updates.
#[derive(Default, Clone, Copy)]
struct Extras<'a> {
    comment: Option<NewComment<'a>>,
    attachments: &'a [NewAttachment],
}

/// Loads, plans and stores a change, re-planning if another writer got there
/// first. Returns the stored ticket and, for replies, the stored message.
async fn change(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    source: Source,
    topic: &str,
    extras: Extras<'_>,
    plan: impl Fn(&TicketRow) -> Result<Plan, ApiError>,
) -> AppResult<(Ticket, Option<Comment>)> {
    for _ in 0..MAX_ATTEMPTS {
        let row = load_visible(state, caller, id).await?;
        let planned = plan(&row)?;
        if planned.changes.is_empty() && extras.comment.is_none() {
            return Ok((shown_to(caller, row.into_ticket()), None));
        }
        let stored = tickets::apply(
            &state.db,
            &Change {
                ticket: &row,
                next: &planned.next,
                changes: &planned.changes,
                actor: actor(caller, source),
                topic,
                comment: extras.comment,
                attachments: extras.attachments,
            },
            Utc::now(),
        )
        .await?;
        if let Some(applied) = stored {
            let stored_comment = applied.comment.map(|c| Comment {
                author_name: caller.name.clone(),
                ..c
            });
            return Ok((shown_to(caller, applied.ticket), stored_comment));
        }
    }
    Err(lost_race().into())
}

pub async fn update(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    patch: TicketPatch,
    source: Source,
) -> AppResult<Ticket> {
    if let Some(Some(assignee)) = patch.assignee_id {
        let mut errs = FieldErrors::new();
        check_assignee(state, caller.org, assignee, &mut errs).await?;
        errs.into_result()?;
    }
    let now = Utc::now();
    let (ticket, _) = change(
        state,
        caller,
        id,
        source,
        "ticket.updated",
        Extras::default(),
        |row| plan_update(&row.state(), &patch, caller.role, now),
    )
    .await?;
    Ok(ticket)
}

pub async fn add_comment(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    body: &str,
    public: bool,
    source: Source,
) -> AppResult<Comment> {
    validate_comment_body(body)?;
    let now = Utc::now();
    let comment = NewComment {
        author_id: caller.sub,
        body,
        public,
    };
    let (_, stored) = change(
        state,
        caller,
        id,
        source,
        "ticket.commented",
        Extras {
            comment: Some(comment),
            ..Extras::default()
        },
        |row| plan_comment(&row.state(), caller.role, public, now),
    )
    .await?;
    stored.ok_or_else(|| ApiError::internal().into())
}

/// The requester rates how their resolved ticket was handled (1–5).
pub async fn rate(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    score: i64,
    comment: &str,
    source: Source,
) -> AppResult<Ticket> {
    let (ticket, _) = change(
        state,
        caller,
        id,
        source,
        "ticket.rated",
        Extras::default(),
        |row| plan_rating(&row.state(), row.requester_id == caller.sub, score, comment),
    )
    .await?;
    Ok(ticket)
}

/// Hands a ticket to the managers with the reason; it shows in their
/// Escalated queue.
pub async fn escalate(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    reason: &str,
    source: Source,
) -> AppResult<Ticket> {
    let now = Utc::now();
    let topic = "ticket.escalated";
    let (ticket, _) = change(state, caller, id, source, topic, Extras::default(), |row| {
        plan_escalation(&row.state(), caller.role, reason, now)
    })
    .await?;
    Ok(ticket)
}

/// Merges ticket `id` into `target_id`: its conversation and files move to
/// the target, it closes and points there. Returns the target.
pub async fn merge(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    target_id: Uuid,
    source: Source,
) -> AppResult<Ticket> {
    if id == target_id {
        let mut errs = FieldErrors::new();
        errs.add("target_id", "Choose another ticket to merge into");
        errs.into_result()?;
    }
    let now = Utc::now();
    for _ in 0..MAX_ATTEMPTS {
        let from = load_visible(state, caller, id).await?;
        // The target is form input: an unknown one is a field error, not a 404.
        let Some(into) = tickets::find(&state.db, caller.org, target_id).await? else {
            let mut errs = FieldErrors::new();
            errs.add("target_id", "No such ticket");
            return Err(errs.into_result().unwrap_err().into());
        };
        let from_number = crate::domain::ticket::display_number(from.number);
        let pair = MergePair {
            target_id,
            source_number: &from_number,
            same_requester: from.requester_id == into.requester_id,
        };
        let plan = plan_merge(&from.state(), &into.state(), &pair, caller.role, now)?;
        // The source's request text would vanish from view: keep it on the
        // target as an internal note (same requester, so nothing leaks).
        let note = format!(
            "Merged {from_number} (“{}”) into this ticket. Its original request:\n\n{}",
            from.subject, from.description
        );
        let source_change = Change {
            ticket: &from,
            next: &plan.source.next,
            changes: &plan.source.changes,
            actor: actor(caller, source),
            topic: "ticket.merged",
            comment: None,
            attachments: &[],
        };
        let target_change = Change {
            ticket: &into,
            next: &plan.target.next,
            changes: &plan.target.changes,
            actor: actor(caller, source),
            topic: "ticket.merged_into",
            comment: Some(NewComment {
                author_id: caller.sub,
                body: &note,
                public: false,
            }),
            attachments: &[],
        };
        if let Some((_, target)) =
            tickets::merge(&state.db, &source_change, &target_change, now).await?
        {
            return Ok(target.ticket);
        }
    }
    Err(lost_race().into())
}

/// Splits the chosen messages of ticket `id` off into a new ticket for the
/// same requester, linked to it as its parent. Returns the new ticket.
pub async fn split(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    comment_ids: &[Uuid],
    subject: &str,
    source: Source,
) -> AppResult<Ticket> {
    let mut errs = FieldErrors::new();
    crate::domain::ticket::check_subject(&mut errs, subject);
    let mut chosen = comment_ids.to_vec();
    chosen.sort();
    chosen.dedup();
    errs.into_result()?;
    let now = Utc::now();
    for _ in 0..MAX_ATTEMPTS {
        let parent = load_visible(state, caller, id).await?;
        let conversation =
            tickets::comments(&state.db, caller.org, parent.id, caller.role.is_staff()).await?;
        let mut errs = FieldErrors::new();
        errs.check(
            chosen
                .iter()
                .all(|c| conversation.iter().any(|m| m.id == *c)),
            "comment_ids",
            "Choose messages of this ticket",
        );
        errs.into_result()?;
        let child_id = Uuid::now_v7();
        let plan = plan_split(&parent.state(), caller.role, chosen.len(), child_id)?;
        let parent_number = crate::domain::ticket::display_number(parent.number);
        let description = format!("Split from {parent_number} (“{}”).", parent.subject);
        let parent_ticket = parent.clone().into_ticket();
        let child = NewTicket {
            id: child_id,
            organization_id: caller.org,
            subject: subject.trim(),
            description: &description,
            priority: parent_ticket.priority,
            channel: parent_ticket.channel,
            requester_id: parent.requester_id,
            assignee_id: parent.assignee_id,
            tags: &parent_ticket.tags,
            attachments: &[],
            parent_id: Some(parent.id),
            external_id: None,
        };
        let parent_change = Change {
            ticket: &parent,
            next: &plan.next,
            changes: &plan.changes,
            actor: actor(caller, source),
            topic: "ticket.split",
            comment: None,
            attachments: &[],
        };
        if let Some((_, ticket)) =
            tickets::split(&state.db, &parent_change, &child, &chosen, now).await?
        {
            return Ok(ticket);
        }
    }
    Err(lost_race().into())
}

/// Soft-deletes a ticket (admins only).
pub async fn delete(state: &AppState, caller: &Claims, id: Uuid, source: Source) -> AppResult<()> {
    let now = Utc::now();
    let topic = "ticket.deleted";
    change(state, caller, id, source, topic, Extras::default(), |row| {
        plan_deletion(&row.state(), caller.role, now)
    })
    .await?;
    Ok(())
}

/// Adds files to a ticket. Customers' files are always public; staff may
/// attach internal ones (`public: false`), which customers never see.
pub async fn add_attachments(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    uploads: &[Upload],
    public: bool,
    source: Source,
) -> AppResult<Vec<Attachment>> {
    if uploads.is_empty() {
        let mut errs = FieldErrors::new();
        errs.add("file", "Choose a file to attach");
        errs.into_result()?;
    }
    // Check access before writing any bytes.
    let row = load_visible(state, caller, id).await?;
    plan_attachments(&row.state(), caller.role, public, &[])?;
    let staged = stage(state, caller, uploads, public).await?;
    let names: Vec<String> = staged.iter().map(|f| f.filename.clone()).collect();
    let extras = Extras {
        attachments: &staged,
        ..Extras::default()
    };
    let stored = change(
        state,
        caller,
        id,
        source,
        "ticket.attachment_added",
        extras,
        |row| plan_attachments(&row.state(), caller.role, public, &names),
    )
    .await;
    if let Err(e) = stored {
        discard(state, &staged).await;
        return Err(e);
    }
    let all = attachments::for_ticket(&state.db, caller.org, id, true).await?;
    Ok(all
        .into_iter()
        .filter(|a| staged.iter().any(|f| f.id == a.id))
        .collect())
}

/// A ticket's files as the caller may see them.
pub async fn attachments(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
) -> AppResult<Vec<Attachment>> {
    let row = load_visible(state, caller, id).await?;
    Ok(attachments::for_ticket(&state.db, caller.org, row.id, caller.role.is_staff()).await?)
}

/// A file and its bytes, if the caller may see the ticket it is on (and,
/// for customers, it is not internal).
pub async fn download(
    state: &AppState,
    caller: &Claims,
    attachment_id: Uuid,
) -> AppResult<(Attachment, Bytes)> {
    let Some((file, key)) = attachments::find(&state.db, caller.org, attachment_id).await? else {
        return Err(ApiError::not_found().into());
    };
    load_visible(state, caller, file.ticket_id).await?;
    if !file.public && !caller.role.is_staff() {
        return Err(ApiError::not_found().into());
    }
    let bytes = state.storage.get(&key).await?;
    Ok((file, bytes))
}

/// The conversation as the caller may see it: customers never see internal notes.
pub async fn comments(state: &AppState, caller: &Claims, id: Uuid) -> AppResult<Vec<Comment>> {
    let row = load_visible(state, caller, id).await?;
    Ok(tickets::comments(&state.db, caller.org, row.id, caller.role.is_staff()).await?)
}

/// The audit trail: staff only (it names internal actors and fields).
pub async fn history(state: &AppState, caller: &Claims, id: Uuid) -> AppResult<Vec<HistoryEntry>> {
    if !caller.role.is_staff() {
        return Err(ApiError::forbidden().into());
    }
    let row = load_visible(state, caller, id).await?;
    Ok(tickets::history(&state.db, caller.org, row.id).await?)
}

/// One page of tickets; customers only ever see their own.
pub async fn list(
    state: &AppState,
    caller: &Claims,
    mut filter: ListFilter,
) -> AppResult<Vec<Ticket>> {
    filter.organization_id = caller.org;
    filter.include_internal = caller.role.is_staff();
    if !caller.role.is_staff() {
        filter.requester_id = Some(caller.sub);
    }
    let tickets = tickets::list(&state.db, &filter).await?;
    Ok(tickets.into_iter().map(|t| shown_to(caller, t)).collect())
}

/// Ticket counts and averages: the organization's for staff, their own for customers.
pub async fn stats(state: &AppState, caller: &Claims) -> AppResult<TicketStats> {
    const WINDOW_DAYS: i64 = 7;
    let requester = (!caller.role.is_staff()).then_some(caller.sub);
    let since = Utc::now() - chrono::TimeDelta::days(WINDOW_DAYS);
    Ok(tickets::stats(&state.db, caller.org, requester, since, WINDOW_DAYS).await?)
}

/// Statuses a queue shows when none are asked for explicitly.
pub fn open_statuses() -> Vec<TicketStatus> {
    TicketStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect()
}
