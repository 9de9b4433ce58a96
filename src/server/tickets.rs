//! The ticket service: the one path every ticket change takes — validate,
//! ask the engine what the change means, store it with its audit rows and
//! domain event in one transaction. REST handlers and server functions are
//! thin shells over these functions.

use crate::domain::ticket::{
    Channel, Comment, HistoryEntry, Priority, Ticket, TicketStatus, normalize_tags,
    validate_comment_body, validate_new_ticket,
};
use crate::domain::{ApiError, ErrorKind, FieldErrors, Role};
use crate::engine::ticket_change::{Plan, TicketPatch, plan_comment, plan_update};
use crate::server::auth::Claims;
use crate::server::db::tickets::{
    self, Actor, Change, ListFilter, NewComment, NewTicket, Source, TicketRow,
};
use crate::server::db::users;
use crate::server::error::AppResult;
use crate::server::state::AppState;
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
}

fn actor(caller: &Claims, source: Source) -> Actor {
    Actor {
        user_id: Some(caller.sub),
        source,
    }
}

/// Checks that `id` may own tickets: support staff of the caller's organization.
async fn check_assignee(
    state: &AppState,
    org: Uuid,
    id: Uuid,
    errs: &mut FieldErrors,
) -> AppResult<()> {
    let user = users::find_in_org(&state.db, org, id).await?;
    let can_work =
        user.is_some_and(|u| matches!(u.role, Role::Agent | Role::Manager | Role::Admin));
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
    let channel = match (customer, channel, source) {
        (true, _, _) => Channel::Portal,
        (false, Some(channel), _) => channel,
        (false, None, Source::Ui) => Channel::Web,
        (false, None, _) => Channel::Api,
    };
    let ticket = tickets::insert(
        &state.db,
        &NewTicket {
            organization_id: caller.org,
            subject: input.subject.trim(),
            description: &input.description,
            priority: priority.unwrap_or(Priority::Medium),
            channel,
            requester_id,
            assignee_id: input.assignee_id,
            tags: &tags,
        },
        actor(caller, source),
        Utc::now(),
    )
    .await?;
    Ok(ticket)
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
    Ok(load_visible(state, caller, id).await?.into_ticket())
}

fn lost_race() -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        "The ticket changed while you were saving; reload and try again",
    )
}

/// Loads, plans and stores a change, re-planning if another writer got there
/// first. Returns the stored ticket and, for replies, the stored message.
async fn change(
    state: &AppState,
    caller: &Claims,
    id: Uuid,
    source: Source,
    topic: &str,
    comment: Option<NewComment<'_>>,
    plan: impl Fn(&TicketRow) -> Result<Plan, ApiError>,
) -> AppResult<(Ticket, Option<Comment>)> {
    for _ in 0..MAX_ATTEMPTS {
        let row = load_visible(state, caller, id).await?;
        let planned = plan(&row)?;
        if planned.changes.is_empty() && comment.is_none() {
            return Ok((row.into_ticket(), None));
        }
        let stored = tickets::apply(
            &state.db,
            &Change {
                ticket: &row,
                next: &planned.next,
                changes: &planned.changes,
                actor: actor(caller, source),
                topic,
                comment: comment.as_ref().map(|c| NewComment {
                    author_id: c.author_id,
                    body: c.body,
                    public: c.public,
                }),
            },
            Utc::now(),
        )
        .await?;
        if let Some(stored_comment) = stored {
            let ticket = load_visible(state, caller, id).await?.into_ticket();
            let stored_comment = stored_comment.map(|c| Comment {
                author_name: caller.name.clone(),
                ..c
            });
            return Ok((ticket, stored_comment));
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
    let (ticket, _) = change(state, caller, id, source, "ticket.updated", None, |row| {
        plan_update(&row.state(), &patch, caller.role, now)
    })
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
        Some(comment),
        |row| plan_comment(&row.state(), caller.role, public, now),
    )
    .await?;
    stored.ok_or_else(|| ApiError::internal().into())
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
    if !caller.role.is_staff() {
        filter.requester_id = Some(caller.sub);
    }
    Ok(tickets::list(&state.db, &filter).await?)
}

/// Statuses a queue shows when none are asked for explicitly.
pub fn open_statuses() -> Vec<TicketStatus> {
    TicketStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect()
}
