//! `/tickets…`: create, read, list, update, status, assign, comments, history.

use super::{ApiJson, ApiQuery, Page, path_id, present, whole_page};
use crate::domain::desk::AgentRating;
use crate::domain::ticket::{
    Channel, Comment, CustomValues, HistoryEntry, Priority, Severity, Ticket, TicketStats,
    TicketStatus,
};
use crate::domain::{ApiError, FieldErrors};
use crate::engine::ticket_change::TicketPatch;
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::ticket_query::{self, ListQuery};
use crate::server::tickets::{self, AssignRequest, BulkChange, CommentsQuery, CreateTicket};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets", post(create).get(list))
        .route("/tickets/stats", get(stats))
        .route("/tickets/bulk", post(bulk))
        .route(
            "/tickets/{id}",
            get(show).patch(update).put(update).delete(delete),
        )
        .route("/tickets/{id}/escalate", post(escalate))
        .route("/tickets/{id}/merge", post(merge))
        .route("/tickets/{id}/split", post(split))
        .route("/tickets/{id}/status", put(set_status))
        .route("/tickets/{id}/assign", post(assign))
        .route("/tickets/{id}/comments", get(comments).post(add_comment))
        .route("/tickets/{id}/history", get(history))
        .route("/tickets/{id}/rating", post(rate))
        .route(
            "/tickets/{id}/agent-ratings",
            get(agent_ratings).post(rate_agent),
        )
        .route("/tickets/{id}/canned-responses/{canned_id}", get(canned))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(
    create,
    list,
    stats,
    show,
    update,
    delete,
    escalate,
    merge,
    split,
    set_status,
    assign,
    comments,
    add_comment,
    history,
    rate,
    bulk,
    agent_ratings,
    rate_agent,
    canned
))]
pub struct Api;

#[derive(Deserialize, ToSchema)]
#[schema(as = NewTicket)]
struct CreateBody {
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    subject: String,
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    description: String,
    /// Default `medium`.
    #[schema(value_type = Option<Priority>)]
    priority: Option<String>,
    /// Staff only; customers' tickets are always `portal`. Default `api`.
    #[schema(value_type = Option<Channel>)]
    channel: Option<String>,
    /// Staff only: open the ticket for someone else (default: the caller).
    requester_id: Option<Uuid>,
    /// Staff only: the requester by email; an unknown address becomes a
    /// customer contact, who is mailed a link to follow the ticket.
    requester_email: Option<String>,
    /// Staff only.
    assignee_id: Option<Uuid>,
    /// Staff only.
    #[serde(default)]
    tags: Vec<String>,
    #[schema(value_type = Option<Severity>)]
    severity: Option<String>,
    team_id: Option<Uuid>,
    category_id: Option<Uuid>,
    /// Custom field key → value.
    #[serde(default)]
    #[schema(value_type = Object)]
    custom_fields: CustomValues,
}

/// Opens a ticket. Customers open their own; staff may name the requester,
/// assignee and channel.
#[utoipa::path(post, path = "/tickets", tag = "tickets", security(("bearer" = [])),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "A customer naming another requester, or setting a staff-only field (assignee, team, severity, tags)", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> AppResult<(StatusCode, Json<Ticket>)> {
    let input = CreateTicket {
        subject: body.subject,
        description: body.description,
        priority: body.priority,
        channel: body.channel,
        requester_id: body.requester_id,
        requester_email: body.requester_email,
        assignee_id: body.assignee_id,
        tags: body.tags,
        attachments: Vec::new(),
        severity: body.severity,
        team_id: body.team_id,
        category_id: body.category_id,
        custom_fields: body.custom_fields,
    };
    let ticket = tickets::create(&state, &session.principal, input, &origin).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[utoipa::path(get, path = "/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = Ticket),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
    ))]
async fn show(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Ticket>> {
    Ok(Json(
        tickets::get(&state, &session.principal, path_id(&id)?).await?,
    ))
}

/// Only the fields present change.
#[derive(Deserialize, ToSchema)]
#[schema(as = TicketPatch)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    subject: Option<String>,
    #[schema(value_type = Option<TicketStatus>)]
    status: Option<String>,
    #[schema(value_type = Option<Priority>)]
    priority: Option<String>,
    /// `null` unassigns (staff only).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    assignee_id: Option<Option<Uuid>>,
    tags: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Severity>)]
    severity: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    team_id: Option<Option<Uuid>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    category_id: Option<Option<Uuid>>,
    /// The custom fields to change, key → value (`null`, `""` or `[]` clears one).
    #[schema(value_type = Option<Object>)]
    custom_fields: Option<CustomValues>,
}

/// Changes some fields of a ticket (`PUT` is accepted as a synonym). What
/// each role may change is checked per field.
#[utoipa::path(method(patch, put), path = "/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = PatchBody,
    responses(
        (status = 200, description = "The changed ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "The caller may not change one of these fields", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The change conflicts with the ticket's state", body = ApiError),
        (status = 422, description = "An unknown field or an invalid value (per-field messages)", body = ApiError),
    ))]
async fn update(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    let mut errs = FieldErrors::new();
    let patch = TicketPatch {
        subject: body.subject,
        status: errs.parse("status", body.status.as_deref(), TicketStatus::parse),
        priority: errs.parse("priority", body.priority.as_deref(), Priority::parse),
        assignee_id: body.assignee_id,
        tags: body.tags,
        severity: body
            .severity
            .map(|s| errs.parse("severity", s.as_deref(), Severity::parse)),
        team_id: body.team_id,
        category_id: body.category_id,
        custom_fields: body.custom_fields,
    };
    errs.into_result()?;
    Ok(Json(
        tickets::update(&state, &session.principal, id, patch, &origin).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = StatusChange)]
struct StatusBody {
    #[serde(default)]
    #[schema(value_type = TicketStatus, required = true)]
    status: String,
}

#[utoipa::path(put, path = "/tickets/{id}/status", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The changed ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "The caller may not set this status", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The change conflicts with the ticket's state", body = ApiError),
        (status = 422, description = "Missing or unknown status", body = ApiError),
    ))]
async fn set_status(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    let mut errs = FieldErrors::new();
    let status = errs.parse("status", Some(&body.status), TicketStatus::parse);
    errs.check(!body.status.is_empty(), "status", "Choose a status");
    errs.into_result()?;
    let patch = TicketPatch {
        status,
        ..Default::default()
    };
    Ok(Json(
        tickets::update(&state, &session.principal, id, patch, &origin).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = Assignment)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    /// The agent, or `null` to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    assignee_id: Option<Option<Uuid>>,
    /// Assign to a team (with `auto`, pick an agent of it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    team_id: Option<Option<Uuid>>,
    /// Pick an agent by the organization's routing rule.
    #[serde(default)]
    auto: bool,
}

/// `{assignee_id}` (null unassigns), `{team_id}`, or `{auto: true}` (with
/// an optional `team_id`). Staff only.
#[utoipa::path(post, path = "/tickets/{id}/assign", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The changed ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not assign", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The change conflicts with the ticket's state", body = ApiError),
        (status = 422, description = "Neither an assignee, a team nor `auto`; or one not of the organization", body = ApiError),
    ))]
async fn assign(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    let request = AssignRequest {
        assignee_id: body.assignee_id,
        team_id: body.team_id,
        auto: body.auto,
    };
    Ok(Json(
        tickets::assign(&state, &session.principal, id, request, &origin).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = BulkChange)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    /// Up to 100 tickets.
    #[serde(default)]
    #[schema(required = true)]
    ticket_ids: Vec<Uuid>,
    #[schema(value_type = Option<TicketStatus>)]
    status: Option<String>,
    #[schema(value_type = Option<Priority>)]
    priority: Option<String>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    assignee_id: Option<Option<Uuid>>,
    #[serde(default)]
    add_tags: Vec<String>,
}

/// `POST /tickets/bulk`: one change to many tickets; each ticket's outcome.
#[utoipa::path(post, path = "/tickets/bulk", tag = "tickets", security(("bearer" = [])),
    request_body = BulkBody,
    responses(
        (status = 200, description = "Each ticket's outcome (a refused ticket does not stop the others)", body = Page<tickets::BulkOutcome>),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not change tickets in bulk", body = ApiError),
        (status = 422, description = "No tickets, too many, or an invalid value (per-field messages)", body = ApiError),
    ))]
async fn bulk(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    ApiJson(body): ApiJson<BulkBody>,
) -> AppResult<Json<Page<tickets::BulkOutcome>>> {
    let mut errs = FieldErrors::new();
    let change = BulkChange {
        status: errs.parse("status", body.status.as_deref(), TicketStatus::parse),
        priority: errs.parse("priority", body.priority.as_deref(), Priority::parse),
        assignee_id: body.assignee_id,
        add_tags: body.add_tags,
    };
    errs.into_result()?;
    let items = tickets::bulk_update(
        &state,
        &session.principal,
        &body.ticket_ids,
        change,
        &origin,
    )
    .await?;
    Ok(whole_page(items))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewAgentRating)]
struct AgentRatingBody {
    /// Default: the ticket's assignee.
    agent_id: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true, minimum = 1, maximum = 5)]
    score: i64,
    #[serde(default)]
    comment: String,
}

/// A manager rates how an agent (default: the assignee) handled the ticket.
#[utoipa::path(post, path = "/tickets/{id}/agent-ratings", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = AgentRatingBody,
    responses(
        (status = 201, description = "The new rating", body = AgentRating),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only managers and admins rate agents", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 422, description = "No agent to rate, or an invalid score (per-field messages)", body = ApiError),
    ))]
async fn rate_agent(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentRatingBody>,
) -> AppResult<(StatusCode, Json<AgentRating>)> {
    let rating = tickets::rate_agent(
        &state,
        &session.principal,
        path_id(&id)?,
        body.agent_id,
        body.score,
        &body.comment,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(rating)))
}

/// The managers' ratings of agents on this ticket.
#[utoipa::path(get, path = "/tickets/{id}/agent-ratings", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ratings", body = Page<AgentRating>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see agent ratings", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
    ))]
async fn agent_ratings(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<AgentRating>>> {
    let items = tickets::agent_ratings(&state, &session.principal, path_id(&id)?).await?;
    Ok(whole_page(items))
}

/// A canned response filled in for this ticket: `{"body": "..."}`.
#[utoipa::path(get, path = "/tickets/{id}/canned-responses/{canned_id}", tag = "tickets", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Ticket id"),
        ("canned_id" = Uuid, Path, description = "Canned response id"),
    ),
    responses(
        (status = 200, description = "The filled-in text", body = CannedText),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not use canned responses", body = ApiError),
        (status = 404, description = "No such ticket or canned response", body = ApiError),
    ))]
async fn canned(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path((id, canned_id)): Path<(String, String)>,
) -> AppResult<Json<CannedText>> {
    let body = tickets::render_canned(
        &state,
        &session.principal,
        path_id(&canned_id)?,
        path_id(&id)?,
    )
    .await?;
    Ok(Json(CannedText { body }))
}

/// A canned response with the ticket's placeholders filled in.
#[derive(Serialize, ToSchema)]
struct CannedText {
    body: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewComment)]
struct CommentBody {
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    body: String,
    /// `false` makes an internal note (staff only). Default `true`.
    #[serde(default = "default_public")]
    public: bool,
}

fn default_public() -> bool {
    true
}

/// Replies on a ticket, or adds an internal note.
#[utoipa::path(post, path = "/tickets/{id}/comments", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = CommentBody,
    responses(
        (status = 201, description = "The new message", body = Comment),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "A customer writing an internal note", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The ticket no longer takes messages (e.g. merged)", body = ApiError),
        (status = 422, description = "An empty or too long message", body = ApiError),
    ))]
async fn add_comment(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    let id = path_id(&id)?;
    let comment = tickets::add_comment(
        &state,
        &session.principal,
        id,
        &body.body,
        body.public,
        &origin,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// Counts and averages: the organization's for staff, their own for customers.
#[utoipa::path(get, path = "/tickets/stats", tag = "tickets", security(("bearer" = [])),
    responses(
        (status = 200, description = "The numbers", body = TicketStats),
        (status = 401, description = "No valid bearer token", body = ApiError),
    ))]
async fn stats(
    State(state): State<AppState>,
    Caller(session): Caller,
) -> AppResult<Json<TicketStats>> {
    Ok(Json(tickets::stats(&state, &session.principal).await?))
}

/// Soft delete (admins): the ticket disappears from every view and answers
/// 404, while its audit trail is kept.
#[utoipa::path(delete, path = "/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only administrators delete tickets", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The ticket changed meanwhile", body = ApiError),
    ))]
async fn delete(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    tickets::delete(&state, &session.principal, path_id(&id)?, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[schema(as = Escalation)]
struct EscalateBody {
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    reason: String,
}

/// Raises a ticket to the managers with a reason.
#[utoipa::path(post, path = "/tickets/{id}/escalate", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = EscalateBody,
    responses(
        (status = 200, description = "The escalated ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not escalate", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "Already escalated, or closed", body = ApiError),
        (status = 422, description = "No reason given, or too long", body = ApiError),
    ))]
async fn escalate(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EscalateBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    Ok(Json(
        tickets::escalate(&state, &session.principal, id, &body.reason, &origin).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = MergeRequest)]
struct MergeBody {
    #[schema(required = true)]
    target_id: Option<Uuid>,
}

/// Merges this ticket into `target_id`; answers with the target.
#[utoipa::path(post, path = "/tickets/{id}/merge", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket to merge (it is closed)")),
    request_body = MergeBody,
    responses(
        (status = 200, description = "The target ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not merge", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "Either ticket cannot take part (e.g. already merged)", body = ApiError),
        (status = 422, description = "No target, or the target is the ticket itself", body = ApiError),
    ))]
async fn merge(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    let Some(target_id) = body.target_id else {
        let mut errs = FieldErrors::new();
        errs.add("target_id", "Choose the ticket to merge into");
        return Err(errs.into_result().unwrap_err().into());
    };
    Ok(Json(
        tickets::merge(&state, &session.principal, id, target_id, &origin).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = SplitRequest)]
struct SplitBody {
    #[serde(default)]
    #[schema(required = true)]
    comment_ids: Vec<Uuid>,
    #[serde(default)]
    #[schema(required = true)]
    subject: String,
}

/// Moves the chosen messages to a new linked ticket; 201 with it.
#[utoipa::path(post, path = "/tickets/{id}/split", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = SplitBody,
    responses(
        (status = 201, description = "The new ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not split", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The ticket cannot be split (e.g. merged)", body = ApiError),
        (status = 422, description = "No messages chosen, or not messages of this ticket", body = ApiError),
    ))]
async fn split(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SplitBody>,
) -> AppResult<(StatusCode, Json<Ticket>)> {
    let id = path_id(&id)?;
    let ticket = tickets::split(
        &state,
        &session.principal,
        id,
        &body.comment_ids,
        &body.subject,
        &origin,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = Rating)]
struct RatingBody {
    /// 1 (very unhappy) to 5 (very happy).
    #[schema(required = true, minimum = 1, maximum = 5)]
    score: Option<i64>,
    #[serde(default)]
    comment: String,
}

/// The requester rates how a resolved ticket was handled.
#[utoipa::path(post, path = "/tickets/{id}/rating", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = RatingBody,
    responses(
        (status = 200, description = "The rated ticket", body = Ticket),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only the requester rates", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "Not resolved yet, or already rated", body = ApiError),
        (status = 422, description = "A score outside 1 to 5, or a too long comment", body = ApiError),
    ))]
async fn rate(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RatingBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    // A missing score is reported like an out-of-range one.
    let score = body.score.unwrap_or(0);
    Ok(Json(
        tickets::rate(
            &state,
            &session.principal,
            id,
            score,
            &body.comment,
            &origin,
        )
        .await?,
    ))
}

/// The conversation a page at a time, newest page first; customers never
/// see internal notes.
#[utoipa::path(get, path = "/tickets/{id}/comments", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id"), CommentsQuery),
    responses(
        (status = 200, description = "Up to `limit` messages before `before` (default: the newest), oldest first; `next_cursor` is the `before` of the older ones (null: none)", body = Page<Comment>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 422, description = "An invalid `before` or `limit`", body = ApiError),
    ))]
async fn comments(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<CommentsQuery>,
) -> AppResult<Json<Page<Comment>>> {
    let page = tickets::comments(&state, &session.principal, path_id(&id)?, &query).await?;
    Ok(Json(page.into()))
}

/// The audit trail (staff only).
#[utoipa::path(get, path = "/tickets/{id}/history", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "Every change, oldest first (one page)", body = Page<HistoryEntry>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers do not see the audit trail", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
    ))]
async fn history(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<HistoryEntry>>> {
    let items = tickets::history(&state, &session.principal, path_id(&id)?).await?;
    Ok(whole_page(items))
}

/// `GET /tickets?…` (see `ticket_query::ListQuery` for every filter).
#[utoipa::path(get, path = "/tickets", tag = "tickets", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of tickets (customers: their own)", body = Page<Ticket>),
        (status = 400, description = "A malformed query string (e.g. a repeated parameter)", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 422, description = "An invalid filter, limit or cursor, or a search (`q`) without a word of two or more characters", body = ApiError),
    ))]
async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<Ticket>>> {
    let (filter, limit) = ticket_query::parse(&query, &session.principal)?;
    let sort = filter.sort;
    let items = tickets::list(&state, &session.principal, filter).await?;
    let (items, next_cursor) = ticket_query::paginate(items, limit, sort);
    Ok(Json(Page { items, next_cursor }))
}
