//! The ticket service: the one path every ticket change takes — validate,
//! ask the engine what the change means, store it with its audit rows and
//! domain event in one transaction. REST handlers and server functions are
//! thin shells over these functions.

use crate::domain::attachment::Attachment;
use crate::domain::desk::{AgentRating, Category};
use crate::domain::ticket::{
    Channel, Comment, CustomValues, HistoryEntry, Priority, Severity, Ticket, TicketStats,
    TicketStatus, display_number, normalize_tags, validate_comment_body, validate_new_ticket,
};
use crate::domain::user::check_new_email;
use crate::domain::{ApiError, ErrorKind, FieldErrors, Role};
use crate::engine::assignment::{self, NoCandidate};
use crate::engine::custom_fields::{self, Writer};
use crate::engine::placeholders;
use crate::engine::ticket_change::{
    MergePair, Plan, TicketPatch, plan_attachments, plan_comment, plan_deletion, plan_escalation,
    plan_merge, plan_rating, plan_split, plan_update,
};
use crate::server::auth::Claims;
use crate::server::db::attachments::{self, NewAttachment};
use crate::server::db::desk;
use crate::server::db::tickets::{
    self, Actor, Change, ListFilter, NewComment, NewTicket, Source, TicketRow,
};
use crate::server::db::users;
use crate::server::error::{AppError, AppResult};
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
    /// Staff may name the requester by email instead; an unknown one becomes
    /// a customer contact, who follows the ticket by magic link.
    pub requester_email: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub attachments: Vec<Upload>,
    /// Staff only.
    pub severity: Option<String>,
    pub team_id: Option<Uuid>,
    /// New tickets of a category go to its team unless a team is named.
    pub category_id: Option<Uuid>,
    /// Customers may fill in only the fields shown to them.
    pub custom_fields: CustomValues,
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

/// The category `id` of the organization, or a field error.
async fn check_category(
    state: &AppState,
    org: Uuid,
    id: Uuid,
    errs: &mut FieldErrors,
) -> AppResult<Option<Category>> {
    let category = desk::find_category(&state.db, org, id).await?;
    errs.check(category.is_some(), "category_id", "No such category");
    Ok(category)
}

/// The team `id` of the organization, or a field error.
async fn check_team(
    state: &AppState,
    org: Uuid,
    id: Uuid,
    errs: &mut FieldErrors,
) -> AppResult<Option<desk::TeamRecord>> {
    let team = desk::find_team(&state.db, org, id).await?;
    errs.check(team.is_some(), "team_id", "No such team");
    Ok(team)
}

pub async fn create(
    state: &AppState,
    caller: &Claims,
    input: CreateTicket,
    source: Source,
) -> AppResult<Ticket> {
    let customer = caller.role == Role::Customer;
    let staff_fields = input.assignee_id.is_some()
        || input.team_id.is_some()
        || input.severity.is_some()
        || input.requester_email.is_some();
    if customer && (staff_fields || input.requester_id.is_some_and(|r| r != caller.sub)) {
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
    let severity = errs.parse("severity", input.severity.as_deref(), Severity::parse);
    let category = match input.category_id {
        Some(id) => check_category(state, caller.org, id, &mut errs).await?,
        None => None,
    };
    if let Some(team) = input.team_id {
        check_team(state, caller.org, team, &mut errs).await?;
    }
    let fields = desk::custom_fields(&state.db, caller.org).await?;
    let writer = if customer {
        Writer::Customer
    } else {
        Writer::Staff
    };
    let custom_values = custom_fields::merge(
        &mut errs,
        &fields,
        &CustomValues::new(),
        &input.custom_fields,
        writer,
        true,
    );
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
    let requester_email = input.requester_email.as_deref().map(|email| {
        errs.check(
            input.requester_id.is_none(),
            "requester_email",
            "Name the requester by id or by email, not both",
        );
        check_new_email(&mut errs, "requester_email", email)
    });
    errs.into_result()?;
    let requester_id = match requester_email {
        Some(email) => {
            crate::server::users::contact_for_email(state, caller.org, &email, "requester_email")
                .await?
        }
        None => requester_id,
    };
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
            severity,
            channel,
            requester_id,
            company_id: None,
            assignee_id: input.assignee_id,
            team_id: input.team_id.or(category.as_ref().and_then(|c| c.team_id)),
            category_id: category.map(|c| c.id),
            tags: &tags,
            custom_fields: &custom_values,
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
    shown_to(state, caller, ticket?).await
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

/// Tickets as the caller may see them. Customers never receive an
/// escalation (an internal hand-off with staff's reason) nor the custom
/// fields that are not shown to them.
async fn shown_to_all(
    state: &AppState,
    caller: &Claims,
    mut tickets: Vec<Ticket>,
) -> AppResult<Vec<Ticket>> {
    if caller.role.is_staff() || tickets.is_empty() {
        return Ok(tickets);
    }
    let fields = desk::custom_fields(&state.db, caller.org).await?;
    for ticket in &mut tickets {
        ticket.escalated_at = None;
        ticket.escalation_reason = None;
        ticket.custom_fields = custom_fields::visible_to_customer(&fields, &ticket.custom_fields);
    }
    Ok(tickets)
}

async fn shown_to(state: &AppState, caller: &Claims, ticket: Ticket) -> AppResult<Ticket> {
    let mut shown = shown_to_all(state, caller, vec![ticket]).await?;
    shown.pop().ok_or_else(|| ApiError::internal().into())
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
    let ticket = load_visible(state, caller, id).await?.into_ticket();
    shown_to(state, caller, ticket).await
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
            shown_to(state, caller, row.into_ticket()).await
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
            return Ok((shown_to(state, caller, row.into_ticket()).await?, None));
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
            return Ok((
                shown_to(state, caller, applied.ticket).await?,
                stored_comment,
            ));
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
    let mut errs = FieldErrors::new();
    if let Some(Some(assignee)) = patch.assignee_id {
        check_assignee(state, caller.org, assignee, &mut errs).await?;
    }
    if let Some(Some(team)) = patch.team_id {
        check_team(state, caller.org, team, &mut errs).await?;
    }
    if let Some(Some(category)) = patch.category_id {
        check_category(state, caller.org, category, &mut errs).await?;
    }
    errs.into_result()?;
    let fields = match patch.custom_fields {
        Some(_) => desk::custom_fields(&state.db, caller.org).await?,
        None => Vec::new(),
    };
    let now = Utc::now();
    let (ticket, _) = change(
        state,
        caller,
        id,
        source,
        "ticket.updated",
        Extras::default(),
        |row| plan_update(&row.state(), &patch, caller.role, &fields, now),
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
            severity: parent_ticket.severity,
            channel: parent_ticket.channel,
            requester_id: parent.requester_id,
            company_id: parent_ticket.company_id,
            assignee_id: parent.assignee_id,
            team_id: parent_ticket.team_id,
            category_id: parent_ticket.category_id,
            tags: &parent_ticket.tags,
            custom_fields: &parent_ticket.custom_fields,
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

/// `POST /tickets/{id}/assign`: an agent (`assignee_id`, null unassigns), a
/// team (`team_id`), or automatic assignment (`auto`) within the named team,
/// the ticket's team, or its category's team, by the team's strategy.
#[derive(Debug, Default)]
pub struct AssignRequest {
    pub assignee_id: Option<Option<Uuid>>,
    pub team_id: Option<Option<Uuid>>,
    pub auto: bool,
}

fn refuse(field: &str, message: &str) -> AppError {
    let mut errs = FieldErrors::new();
    errs.add(field, message);
    errs.into_result().unwrap_err().into()
}

pub async fn assign(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    request: AssignRequest,
    source: Source,
) -> AppResult<Ticket> {
    if !caller.role.is_staff() {
        return Err(ApiError::forbidden().into());
    }
    let nothing = request.assignee_id.is_none() && request.team_id.is_none() && !request.auto;
    if nothing {
        return Err(refuse(
            "assignee_id",
            "Name the agent (assignee_id), the team (team_id), or ask for auto: true",
        ));
    }
    if request.auto && request.assignee_id.is_some() {
        return Err(refuse(
            "auto",
            "Either name the agent or ask for automatic assignment, not both",
        ));
    }
    let mut errs = FieldErrors::new();
    let team = match request.team_id {
        Some(Some(team)) => check_team(state, caller.org, team, &mut errs).await?,
        _ => None,
    };
    if let Some(Some(assignee)) = request.assignee_id {
        check_assignee(state, caller.org, assignee, &mut errs).await?;
    }
    errs.into_result()?;
    let mut patch = TicketPatch {
        assignee_id: request.assignee_id,
        team_id: request.team_id,
        ..TicketPatch::default()
    };
    let members = team.as_ref().map(|t| t.team.member_ids.clone());
    let mut picked = None;
    if request.auto {
        let row = load_visible(state, caller, id).await?;
        let (team, skill) = auto_team(state, caller, &row, team).await?;
        let candidates = desk::candidates(&state.db, caller.org, team.team.id, skill).await?;
        let chosen = assignment::pick(
            team.team.assignment,
            &candidates,
            team.last_assignee_id,
            skill.is_some(),
        )
        .map_err(|why| match why {
            NoCandidate::EmptyTeam => refuse("team_id", "This team has no active agents"),
            NoCandidate::NoSkill => refuse(
                "team_id",
                "Nobody in this team has the skill this ticket's category needs",
            ),
        })?;
        patch.team_id = Some(Some(team.team.id));
        patch.assignee_id = Some(Some(chosen));
        picked = Some((team.team.id, chosen));
    }
    let now = Utc::now();
    let (ticket, _) = change(
        state,
        caller,
        id,
        source,
        "ticket.assigned",
        Extras::default(),
        |row| {
            let mut patch = patch.clone();
            // A new team without a named agent: keep the agent only if they are in it.
            if let (Some(members), None) = (&members, patch.assignee_id)
                && row.assignee_id.is_some_and(|a| !members.contains(&a))
            {
                patch.assignee_id = Some(None);
            }
            plan_update(&row.state(), &patch, caller.role, &[], now)
        },
    )
    .await?;
    if let Some((team, agent)) = picked {
        // Round-robin's turn; outside the ticket's transaction, so two
        // simultaneous picks may both go to the same agent (never lost).
        desk::set_last_assignee(&state.db, team, agent).await?;
    }
    Ok(ticket)
}

/// The team automatic assignment picks from, and the skill the ticket's
/// category asks for.
async fn auto_team(
    state: &AppState,
    caller: &Claims,
    row: &TicketRow,
    named: Option<desk::TeamRecord>,
) -> AppResult<(desk::TeamRecord, Option<Uuid>)> {
    let category = match row.category_id {
        Some(id) => desk::find_category(&state.db, caller.org, id).await?,
        None => None,
    };
    let skill = category.as_ref().and_then(|c| c.skill_id);
    if let Some(team) = named {
        return Ok((team, skill));
    }
    let team_id = row.team_id.or(category.and_then(|c| c.team_id));
    let team = match team_id {
        Some(id) => desk::find_team(&state.db, caller.org, id).await?,
        None => None,
    };
    let team = team.ok_or_else(|| {
        refuse(
            "team_id",
            "The ticket has no team; name the team to assign within",
        )
    })?;
    Ok((team, skill))
}

/// A manager's 1–5 rating of how an agent handled a ticket (the assignee
/// unless another agent is named). Rating again replaces the rating.
pub async fn rate_agent(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    agent_id: Option<Uuid>,
    score: i64,
    comment: &str,
) -> AppResult<AgentRating> {
    if !matches!(caller.role, Role::Manager | Role::Admin) {
        return Err(ApiError::forbidden().into());
    }
    let row = load_visible(state, caller, id).await?;
    let mut errs = FieldErrors::new();
    match agent_id.or(row.assignee_id) {
        Some(agent) => check_assignee(state, caller.org, agent, &mut errs).await?,
        None => errs.add("agent_id", "The ticket has no assignee; name the agent"),
    }
    crate::domain::ticket::check_rating(&mut errs, score, comment);
    errs.into_result()?;
    let rating = AgentRating {
        ticket_id: row.id,
        agent_id: agent_id.or(row.assignee_id).unwrap_or_default(),
        rated_by: caller.sub,
        score: score as i32,
        comment: Some(comment.trim().to_owned()).filter(|c| !c.is_empty()),
        created_at: Utc::now(),
    };
    desk::upsert_agent_rating(&state.db, caller.org, &rating).await?;
    Ok(rating)
}

/// Managers' ratings of the agents on a ticket (never shown to customers).
pub async fn agent_ratings(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
) -> AppResult<Vec<AgentRating>> {
    if !caller.role.is_staff() {
        return Err(ApiError::forbidden().into());
    }
    let row = load_visible(state, caller, id).await?;
    Ok(desk::agent_ratings(&state.db, caller.org, row.id).await?)
}

/// A canned response with its placeholders filled from ticket `id`.
pub async fn render_canned(
    state: &AppState,
    caller: &Claims,
    canned_id: Uuid,
    id: Uuid,
) -> AppResult<String> {
    if !caller.role.is_staff() {
        return Err(ApiError::forbidden().into());
    }
    let canned = desk::find_canned_response(&state.db, caller.org, canned_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let row = load_visible(state, caller, id).await?;
    let requester = users::find_in_org(&state.db, caller.org, row.requester_id).await?;
    let (name, email) = requester.map(|u| (u.name, u.email)).unwrap_or_default();
    Ok(placeholders::fill(&canned.body, |placeholder| {
        Some(match placeholder {
            "customer.name" => name.clone(),
            "customer.first_name" => placeholders::first_name(&name).to_owned(),
            "customer.email" => email.clone(),
            "ticket.number" => display_number(row.number),
            "ticket.subject" => row.subject.clone(),
            "agent.name" => caller.name.clone(),
            _ => return None,
        })
    }))
}

/// One change applied to many tickets from a queue.
#[derive(Debug, Default, Clone)]
pub struct BulkChange {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<Option<Uuid>>,
    /// Added to each ticket's tags.
    pub add_tags: Vec<String>,
}

/// What a bulk change did to one ticket.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    pub id: Uuid,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

pub const MAX_BULK: usize = 100;

/// Applies `bulk` to each ticket through the one change path (each ticket
/// its own transaction, audit rows and event); a ticket that refuses the
/// change (closed, say) is reported and the others still change.
pub async fn bulk_update(
    state: &AppState,
    caller: &Claims,
    ids: &[Uuid],
    bulk: BulkChange,
    source: Source,
) -> AppResult<Vec<BulkOutcome>> {
    if !caller.role.is_staff() {
        return Err(ApiError::forbidden().into());
    }
    let mut errs = FieldErrors::new();
    errs.check(
        !ids.is_empty(),
        "ticket_ids",
        "Choose the tickets to change",
    );
    errs.check(
        ids.len() <= MAX_BULK,
        "ticket_ids",
        &format!("Change at most {MAX_BULK} tickets at once"),
    );
    let add_tags = normalize_tags(&mut errs, &bulk.add_tags);
    let nothing = bulk.status.is_none()
        && bulk.priority.is_none()
        && bulk.assignee_id.is_none()
        && add_tags.is_empty();
    errs.check(!nothing, "ticket_ids", "Choose what to change");
    if let Some(Some(assignee)) = bulk.assignee_id {
        check_assignee(state, caller.org, assignee, &mut errs).await?;
    }
    errs.into_result()?;
    let now = Utc::now();
    let mut outcomes = Vec::with_capacity(ids.len());
    for &id in ids {
        let planned = |row: &TicketRow| {
            let mut tags = row.state().tags;
            tags.extend(add_tags.iter().cloned());
            let patch = TicketPatch {
                status: bulk.status,
                priority: bulk.priority,
                assignee_id: bulk.assignee_id,
                tags: (!add_tags.is_empty()).then_some(tags),
                ..TicketPatch::default()
            };
            plan_update(&row.state(), &patch, caller.role, &[], now)
        };
        let result = change(
            state,
            caller,
            id,
            source,
            "ticket.updated",
            Extras::default(),
            planned,
        )
        .await;
        outcomes.push(BulkOutcome {
            id,
            ok: result.is_ok(),
            error: result.err().map(AppError::into_api_error),
        });
    }
    Ok(outcomes)
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
    shown_to_all(state, caller, tickets).await
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
