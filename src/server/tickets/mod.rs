//! The ticket service: the one path every ticket change takes — validate,
//! ask the engine what the change means, store it with its audit rows and
//! domain event in one transaction. REST handlers and server functions are
//! thin shells over these functions.
//!
//! Here: creating, reading and listing tickets, and the checks the parts
//! share. `change` is the change loop and the changes made with it,
//! `links` merge and split, `files` attachments, `routing` assignment,
//! agent ratings and canned responses, `detail` the ticket page's read.

mod change;
mod detail;
mod files;
mod links;
mod routing;

pub use change::{
    BulkChange, BulkOutcome, MAX_BULK, add_comment, bulk_update, delete, escalate, rate, update,
};
pub use detail::{CONVERSATION_PAGE, CommentsQuery, comments, detail, history};
pub use files::{add_attachments, attachments, download};
pub use links::{merge, split};
pub use routing::{AssignRequest, agent_ratings, assign, rate_agent, render_canned};

use crate::domain::desk::Category;
use crate::domain::event::Source;
use crate::domain::ticket::{
    Channel, CustomValues, Priority, QueueCounts, Severity, Ticket, TicketStats, TicketStatus,
    normalize_tags, validate_new_ticket,
};
use crate::domain::user::check_new_email;
use crate::domain::{ApiError, Capability, FieldErrors};
use crate::engine::custom_fields::{self, Writer};
use crate::server::audit::Origin;
use crate::server::auth::{Principal, TicketScope};
use crate::server::db::desk;
use crate::server::db::tickets::{self, ListFilter, NewTicket, TicketRow};
use crate::server::db::users;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::uploads::Upload;
use chrono::Utc;
use uuid::Uuid;

/// How often a change is re-planned when another writer got there first.
pub(crate) const MAX_ATTEMPTS: usize = 3;

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
    /// Staff only.
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

/// Checks that `id` may own tickets: active support staff of the caller's organization.
async fn check_assignee(
    state: &AppState,
    org: Uuid,
    id: Uuid,
    errs: &mut FieldErrors,
) -> AppResult<()> {
    let user = users::find_in_org(&state.db, org, id).await?;
    let can_work = user.is_some_and(|u| {
        u.active && crate::domain::policy::permits(u.role, Capability::ChangeTicketFields)
    });
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
    caller: &Principal,
    input: CreateTicket,
    origin: &Origin,
) -> AppResult<Ticket> {
    caller.require(Capability::CreateTickets)?;
    let me = caller.person()?;
    let org = me.org;
    let customer = caller.is_customer();
    // The same fields a customer may not change later (see
    // `engine::ticket_change::plan_update`) may not be set at creation.
    let staff_fields = input.assignee_id.is_some()
        || input.team_id.is_some()
        || input.severity.is_some()
        || !input.tags.is_empty()
        || input.requester_email.is_some();
    if customer && (staff_fields || input.requester_id.is_some_and(|r| r != me.id)) {
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
        Some(id) => check_category(state, org, id, &mut errs).await?,
        None => None,
    };
    if let Some(team) = input.team_id {
        check_team(state, org, team, &mut errs).await?;
    }
    let fields = desk::custom_fields(&state.db, org).await?;
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
    let requester_id = input.requester_id.unwrap_or(me.id);
    if requester_id != me.id {
        let exists = users::find_in_org(&state.db, org, requester_id)
            .await?
            .is_some();
        errs.check(
            exists,
            "requester_id",
            "No such person in your organization",
        );
    }
    if let Some(assignee) = input.assignee_id {
        check_assignee(state, org, assignee, &mut errs).await?;
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
            crate::server::users::contact_for_email(state, org, &email, "requester_email").await?
        }
        None => requester_id,
    };
    let staged = files::stage(state, caller, &input.attachments, true).await?;
    let channel = match (customer, channel, origin.source) {
        (true, _, _) => Channel::Portal,
        (false, Some(channel), _) => channel,
        (false, None, Source::Ui) => Channel::Web,
        (false, None, _) => Channel::Api,
    };
    let now = Utc::now();
    let new = NewTicket {
        id: Uuid::now_v7(),
        organization_id: org,
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
    };
    let ticket = async {
        let mut tx = state.db.begin().await?;
        let row = tickets::insert(
            &mut tx,
            &new,
            caller.actor(origin.source),
            origin,
            false,
            now,
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok(row.into_ticket())
    }
    .await;
    if ticket.is_err() {
        files::discard(state, &staged).await;
    }
    shown_to(state, caller, ticket?).await
}

/// Tickets as the caller may see them. Whoever may not read internal
/// things never receives an escalation (an internal hand-off with staff's
/// reason) nor the custom fields that are not shown to customers.
async fn shown_to_all(
    state: &AppState,
    caller: &Principal,
    mut tickets: Vec<Ticket>,
) -> AppResult<Vec<Ticket>> {
    if caller.may(Capability::ReadInternalNotes) || tickets.is_empty() {
        return Ok(tickets);
    }
    let fields = desk::custom_fields(&state.db, caller.org()).await?;
    for ticket in &mut tickets {
        // Service levels are internal too (`GET …/sla` is for staff).
        crate::engine::live::as_customer_sees(ticket, &fields);
    }
    Ok(tickets)
}

async fn shown_to(state: &AppState, caller: &Principal, ticket: Ticket) -> AppResult<Ticket> {
    let mut shown = shown_to_all(state, caller, vec![ticket]).await?;
    shown.pop().ok_or_else(|| ApiError::internal().into())
}

/// A ticket the caller may see (`Principal::ticket_scope`). Anything else —
/// another organization's, another customer's — is "not found", before any
/// capability or input is looked at.
async fn load_visible(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<TicketRow> {
    match tickets::find(&state.db, caller.org(), id).await? {
        Some(row) if visible_to(caller, &row) => Ok(row),
        _ => Err(ApiError::not_found().into()),
    }
}

/// The store only finds the organization's tickets; the scope narrows them.
fn visible_to(caller: &Principal, row: &TicketRow) -> bool {
    match caller.ticket_scope() {
        TicketScope::All => true,
        TicketScope::RequestedBy(person) => row.requester_id == person,
        TicketScope::LinkedToJobsOf(_) => false,
    }
}

pub async fn get(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<Ticket> {
    let ticket = load_visible(state, caller, id).await?.into_ticket();
    shown_to(state, caller, ticket).await
}

/// The ticket a person names by its number (`TCK-000012`, `#12`, `12`) in
/// a form: one the caller may see, else a 422 on `field` — the number is
/// form input, not a resource path.
pub async fn find_by_number(
    state: &AppState,
    caller: &Principal,
    text: &str,
    field: &str,
) -> AppResult<Ticket> {
    let mut errs = FieldErrors::new();
    let Some(number) = crate::domain::ticket::parse_display_number(text) else {
        errs.add(field, "Enter a ticket number, like TCK-000012");
        return Err(errs.into_result().unwrap_err().into());
    };
    match tickets::find_by_number(&state.db, caller.org(), number).await? {
        Some(row) if visible_to(caller, &row) => shown_to(state, caller, row.into_ticket()).await,
        _ => {
            errs.add(field, "There is no ticket with this number");
            Err(errs.into_result().unwrap_err().into())
        }
    }
}

/// One page of tickets in the caller's scope (customers: their own).
pub async fn list(
    state: &AppState,
    caller: &Principal,
    mut filter: ListFilter,
) -> AppResult<Vec<Ticket>> {
    filter.organization_id = caller.org();
    filter.include_internal = caller.may(Capability::ReadInternalNotes);
    if !filter.include_internal {
        // Escalation is internal: narrowing by it would tell a customer
        // which of their tickets are escalated.
        filter.escalated = false;
    }
    match caller.ticket_scope() {
        TicketScope::All => {}
        TicketScope::RequestedBy(person) => filter.requester_id = Some(person),
        TicketScope::LinkedToJobsOf(_) => return Ok(Vec::new()),
    }
    let tickets = tickets::list(&state.db, &filter).await?;
    shown_to_all(state, caller, tickets).await
}

/// Ticket counts and averages of the caller's scope: the organization's
/// for staff, their own for customers, who get no escalation count
/// (escalation is internal).
pub async fn stats(state: &AppState, caller: &Principal) -> AppResult<TicketStats> {
    const WINDOW_DAYS: i64 = 7;
    let requester = match caller.ticket_scope() {
        TicketScope::All => None,
        TicketScope::RequestedBy(person) => Some(person),
        TicketScope::LinkedToJobsOf(_) => return Ok(TicketStats::empty(WINDOW_DAYS)),
    };
    let since = Utc::now() - chrono::TimeDelta::days(WINDOW_DAYS);
    let mut stats = tickets::stats(&state.db, caller.org(), requester, since, WINDOW_DAYS).await?;
    if !caller.may(Capability::ReadInternalNotes) {
        stats.escalated_open = 0;
    }
    Ok(stats)
}

/// How many open tickets each desk queue holds for the caller (staff who
/// read every ticket; the tabs of the desk show it).
pub async fn queue_counts(state: &AppState, caller: &Principal) -> AppResult<QueueCounts> {
    caller.require(Capability::ReadAllTickets)?;
    let me = caller.user_id().unwrap_or_default();
    Ok(tickets::queue_counts(&state.db, caller.org(), me).await?)
}

/// Statuses a queue shows when none are asked for explicitly.
pub fn open_statuses() -> Vec<TicketStatus> {
    TicketStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect()
}
