//! `/tickets…`: create, read, list, update, status, assign, comments, history.

use super::{ApiJson, Page, path_id};
use crate::domain::FieldErrors;
use crate::domain::ticket::{Comment, HistoryEntry, Priority, Ticket, TicketStats, TicketStatus};
use crate::engine::ticket_change::TicketPatch;
use crate::server::auth::Caller;
use crate::server::db::tickets::{AssigneeFilter, ListFilter, Source};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::tickets::{self, CreateTicket, open_statuses};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets", post(create).get(list))
        .route("/tickets/stats", get(stats))
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
    assignee_id: Option<Uuid>,
    #[serde(default)]
    tags: Vec<String>,
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
        assignee_id: body.assignee_id,
        tags: body.tags,
        attachments: Vec::new(),
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

/// Distinguishes an absent field (leave alone) from `null` (clear it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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
struct AssignBody {
    #[serde(default, deserialize_with = "present")]
    assignee_id: Option<Option<Uuid>>,
}

/// Assigns to an agent (or unassigns with `null`). Staff only.
async fn assign(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> AppResult<Json<Ticket>> {
    let id = path_id(&id)?;
    session.require_staff()?;
    let Some(assignee) = body.assignee_id else {
        let mut errs = FieldErrors::new();
        errs.add(
            "assignee_id",
            "Name the agent to assign, or null to unassign",
        );
        return Err(errs.into_result().unwrap_err().into());
    };
    let patch = TicketPatch {
        assignee_id: Some(assignee),
        ..Default::default()
    };
    Ok(Json(
        tickets::update(&state, &session.claims, id, patch, Source::Api).await?,
    ))
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

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    tag: Option<String>,
    escalated: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

const DEFAULT_PAGE: u32 = 25;
const MAX_PAGE: u32 = 100;

fn encode_cursor(ticket: &Ticket) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", ticket.created_at.to_rfc3339(), ticket.id))
}

fn decode_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

/// `GET /tickets?status=open,pending&priority=&assignee=me|none|<id>&tag=&q=&sort=-created_at&limit=&cursor=`
async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    Query(query): Query<ListQuery>,
) -> AppResult<Json<Page<Ticket>>> {
    let mut errs = FieldErrors::new();
    let statuses = match query.status.as_deref() {
        None | Some("") => open_statuses(),
        Some("all") => Vec::new(),
        Some(list) => list
            .split(',')
            .filter_map(|s| errs.parse("status", Some(s), TicketStatus::parse))
            .collect(),
    };
    let priority = errs.parse("priority", query.priority.as_deref(), Priority::parse);
    let assignee = match query.assignee.as_deref() {
        None | Some("") | Some("any") => AssigneeFilter::Any,
        Some("me") => AssigneeFilter::User(session.claims.sub),
        Some("none") => AssigneeFilter::Unassigned,
        Some(id) => match Uuid::parse_str(id) {
            Ok(id) => AssigneeFilter::User(id),
            Err(_) => {
                errs.add("assignee", "Use me, none, or a user id");
                AssigneeFilter::Any
            }
        },
    };
    let oldest_first = match query.sort.as_deref() {
        None | Some("") | Some("-created_at") => false,
        Some("created_at") => true,
        Some(_) => {
            errs.add("sort", "Sort by created_at or -created_at");
            false
        }
    };
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_PAGE,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errs.add("limit", format!("Use a number from 1 to {MAX_PAGE}"));
                DEFAULT_PAGE
            }
        },
    };
    let escalated = match query.escalated.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errs.add("escalated", "Use true or false");
            false
        }
    };
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => {
            let decoded = decode_cursor(raw);
            errs.check(
                decoded.is_some(),
                "cursor",
                "This cursor is not valid; start from the first page",
            );
            decoded
        }
    };
    errs.into_result()?;
    let filter = ListFilter {
        organization_id: session.claims.org,
        requester_id: None,
        statuses,
        priority,
        assignee,
        tag: query
            .tag
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty()),
        escalated,
        text: query
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
        include_internal: false, // set by the service from the caller's role
        oldest_first,
        after,
        limit: limit + 1,
    };
    let mut items = tickets::list(&state, &session.claims, filter).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(Json(Page { items, next_cursor }))
}
