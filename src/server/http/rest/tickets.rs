//! `/tickets…`: create, read, list, update, status, assign, comments, history.

use super::{ApiJson, Page, path_id, present};
use crate::domain::FieldErrors;
use crate::domain::desk::AgentRating;
use crate::domain::ticket::{
    Comment, CustomValues, HistoryEntry, Priority, Severity, Ticket, TicketStats, TicketStatus,
};
use crate::engine::ticket_change::TicketPatch;
use crate::server::auth::Caller;
use crate::server::db::tickets::Source;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::ticket_query::{self, ListQuery};
use crate::server::tickets::{self, AssignRequest, BulkChange, CreateTicket};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
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

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    priority: Option<String>,
    channel: Option<String>,
    requester_id: Option<Uuid>,
    requester_email: Option<String>,
    assignee_id: Option<Uuid>,
    #[serde(default)]
    tags: Vec<String>,
    severity: Option<String>,
    team_id: Option<Uuid>,
    category_id: Option<Uuid>,
    #[serde(default)]
    custom_fields: CustomValues,
}

async fn create(
    State(state): State<AppState>,
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
    let ticket = tickets::create(&state, &session.claims, input, Source::Api).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

async fn show(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Ticket>> {
    Ok(Json(
        tickets::get(&state, &session.claims, path_id(&id)?).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    subject: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    assignee_id: Option<Option<Uuid>>,
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    severity: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    team_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    category_id: Option<Option<Uuid>>,
    custom_fields: Option<CustomValues>,
}

async fn update(
    State(state): State<AppState>,
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
        tickets::update(&state, &session.claims, id, patch, Source::Api).await?,
    ))
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
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
        tickets::update(&state, &session.claims, id, patch, Source::Api).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    #[serde(default, deserialize_with = "present")]
    assignee_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    team_id: Option<Option<Uuid>>,
    #[serde(default)]
    auto: bool,
}

/// `{assignee_id}` (null unassigns), `{team_id}`, or `{auto: true}` (with
/// an optional `team_id`). Staff only.
async fn assign(
    State(state): State<AppState>,
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
        tickets::assign(&state, &session.claims, id, request, Source::Api).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    #[serde(default)]
    ticket_ids: Vec<Uuid>,
    status: Option<String>,
    priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    assignee_id: Option<Option<Uuid>>,
    #[serde(default)]
    add_tags: Vec<String>,
}

/// `POST /tickets/bulk`: one change to many tickets; each ticket's outcome.
async fn bulk(
    State(state): State<AppState>,
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
        &session.claims,
        &body.ticket_ids,
        change,
        Source::Api,
    )
    .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Deserialize)]
struct AgentRatingBody {
    agent_id: Option<Uuid>,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    comment: String,
}

/// A manager rates how an agent (default: the assignee) handled the ticket.
async fn rate_agent(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentRatingBody>,
) -> AppResult<(StatusCode, Json<AgentRating>)> {
    let rating = tickets::rate_agent(
        &state,
        &session.claims,
        path_id(&id)?,
        body.agent_id,
        body.score,
        &body.comment,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(rating)))
}

async fn agent_ratings(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<AgentRating>>> {
    let items = tickets::agent_ratings(&state, &session.claims, path_id(&id)?).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// A canned response filled in for this ticket: `{"body": "..."}`.
async fn canned(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path((id, canned_id)): Path<(String, String)>,
) -> AppResult<Json<serde_json::Value>> {
    let body = tickets::render_canned(&state, &session.claims, path_id(&canned_id)?, path_id(&id)?)
        .await?;
    Ok(Json(serde_json::json!({ "body": body })))
}

#[derive(Deserialize)]
struct CommentBody {
    #[serde(default)]
    body: String,
    #[serde(default = "default_public")]
    public: bool,
}

fn default_public() -> bool {
    true
}

async fn add_comment(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    let id = path_id(&id)?;
    let comment = tickets::add_comment(
        &state,
        &session.claims,
        id,
        &body.body,
        body.public,
        Source::Api,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

async fn stats(
    State(state): State<AppState>,
    Caller(session): Caller,
) -> AppResult<Json<TicketStats>> {
    Ok(Json(tickets::stats(&state, &session.claims).await?))
}

/// Soft delete (admins): the ticket disappears from every view and answers
/// 404, while its audit trail is kept.
async fn delete(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    tickets::delete(&state, &session.claims, path_id(&id)?, Source::Api).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EscalateBody {
    #[serde(default)]
    reason: String,
}

async fn escalate(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EscalateBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    Ok(Json(
        tickets::escalate(&state, &session.claims, id, &body.reason, Source::Api).await?,
    ))
}

#[derive(Deserialize)]
struct MergeBody {
    target_id: Option<Uuid>,
}

/// Merges this ticket into `target_id`; answers with the target.
async fn merge(
    State(state): State<AppState>,
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
        tickets::merge(&state, &session.claims, id, target_id, Source::Api).await?,
    ))
}

#[derive(Deserialize)]
struct SplitBody {
    #[serde(default)]
    comment_ids: Vec<Uuid>,
    #[serde(default)]
    subject: String,
}

/// Moves the chosen messages to a new linked ticket; 201 with it.
async fn split(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SplitBody>,
) -> AppResult<(StatusCode, Json<Ticket>)> {
    let id = path_id(&id)?;
    let ticket = tickets::split(
        &state,
        &session.claims,
        id,
        &body.comment_ids,
        &body.subject,
        Source::Api,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[derive(Deserialize)]
struct RatingBody {
    score: Option<i64>,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(state): State<AppState>,
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
            &session.claims,
            id,
            score,
            &body.comment,
            Source::Api,
        )
        .await?,
    ))
}

async fn comments(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<Comment>>> {
    let items = tickets::comments(&state, &session.claims, path_id(&id)?).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

async fn history(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<HistoryEntry>>> {
    let items = tickets::history(&state, &session.claims, path_id(&id)?).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// `GET /tickets?…` (see `ticket_query::ListQuery` for every filter).
async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    Query(query): Query<ListQuery>,
) -> AppResult<Json<Page<Ticket>>> {
    let (filter, limit) = ticket_query::parse(&query, &session.claims)?;
    let sort = filter.sort;
    let items = tickets::list(&state, &session.claims, filter).await?;
    let (items, next_cursor) = ticket_query::paginate(items, limit, sort);
    Ok(Json(Page { items, next_cursor }))
}
