//! URL-based access for API clients: `POST /auth/magic-link` (ask for
//! links by mail), and with a link's token `GET /access/{token}`,
//! `GET|POST /access/{token}/comments`, `GET /access/{token}/attachments/{id}`.
//! Thin shells over `server::access`, like the page's server functions.

use super::attachments::{FileBytes, file_response};
use super::{ApiJson, ApiQuery, Page, path_id};
use crate::domain::ApiError;
use crate::domain::access::LinkedTicket;
use crate::domain::ticket::Comment;
use crate::server::access;
use crate::server::audit::Origin;
use crate::server::error::AppResult;
use crate::server::magic_link;
use crate::server::state::AppState;
use crate::server::tickets::CommentsQuery;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/magic-link", post(request_links))
        .route("/access/{token}", get(show))
        .route("/access/{token}/comments", get(comments).post(reply))
        .route("/access/{token}/attachments/{id}", get(download))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(request_links, show, comments, reply, download))]
pub struct Api;

#[derive(Deserialize, ToSchema)]
struct LinkRequest {
    /// The organization's slug (as in its portal address).
    #[serde(default)]
    #[schema(required = true)]
    organization: String,
    #[serde(default)]
    #[schema(required = true)]
    email: String,
}

#[derive(Serialize, ToSchema)]
struct Accepted {
    message: &'static str,
}

/// Mails the address a link to each of its open requests with the
/// organization. The answer is the same whether or not the address is
/// known, so it cannot be used to find out who is a customer.
#[utoipa::path(post, path = "/auth/magic-link", tag = "access",
    request_body = LinkRequest,
    responses(
        (status = 202, description = "Accepted (also for unknown addresses)", body = Accepted),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 422, description = "No organization, or not an email address", body = ApiError),
        (status = 429, description = "Too many requests from this IP address", body = ApiError),
    ))]
async fn request_links(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LinkRequest>,
) -> AppResult<(StatusCode, Json<Accepted>)> {
    magic_link::request_links(&state, &body.organization, &body.email, peer.ip()).await?;
    let message = "If this address has requests with the organization, a link is on its way.";
    Ok((StatusCode::ACCEPTED, Json(Accepted { message })))
}

/// The ticket a link opens, as its requester sees it: public replies and
/// files only. The token is the credential; no bearer token is needed.
#[utoipa::path(get, path = "/access/{token}", tag = "access",
    params(("token" = String, Path, description = "The token from the mailed link")),
    responses(
        (status = 200, description = "The ticket and its public conversation", body = LinkedTicket),
        (status = 404, description = "The link has expired or is not valid (one answer for every cause)", body = ApiError),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Json<LinkedTicket>> {
    let link = access::open(&state, &token).await?;
    Ok(Json(access::view(&state, &link).await?))
}

#[derive(Deserialize, ToSchema)]
struct ReplyBody {
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    body: String,
}

/// The public conversation a page at a time, newest page first (the
/// ticket's `comments` are the first page; its `older_comments` the first
/// `before`).
#[utoipa::path(get, path = "/access/{token}/comments", tag = "access",
    params(("token" = String, Path, description = "The token from the mailed link"), CommentsQuery),
    responses(
        (status = 200, description = "Up to `limit` public messages before `before`, oldest first; `next_cursor` is the `before` of the older ones", body = Page<Comment>),
        (status = 404, description = "The link has expired or is not valid (one answer for every cause)", body = ApiError),
        (status = 422, description = "An invalid `before` or `limit`", body = ApiError),
    ))]
async fn comments(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiQuery(query): ApiQuery<CommentsQuery>,
) -> AppResult<Json<Page<Comment>>> {
    let link = access::open(&state, &token).await?;
    let page = access::comments(&state, &link, &query).await?;
    Ok(Json(page.into()))
}

/// A public reply from the requester.
#[utoipa::path(post, path = "/access/{token}/comments", tag = "access",
    params(("token" = String, Path, description = "The token from the mailed link")),
    request_body = ReplyBody,
    responses(
        (status = 201, description = "The reply", body = Comment),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 404, description = "The link has expired or is not valid (one answer for every cause)", body = ApiError),
        (status = 409, description = "The ticket no longer takes replies (e.g. merged)", body = ApiError),
        (status = 422, description = "An empty or too long body", body = ApiError),
    ))]
async fn reply(
    State(state): State<AppState>,
    origin: Origin,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    let link = access::open(&state, &token).await?;
    let comment = access::reply(&state, &link, &body.body, &origin).await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// A public file of the linked ticket.
#[utoipa::path(get, path = "/access/{token}/attachments/{id}", tag = "access",
    params(
        ("token" = String, Path, description = "The token from the mailed link"),
        ("id" = Uuid, Path, description = "Attachment id"),
    ),
    responses(
        (status = 200, description = "The file, under its sniffed content type", content_type = "*/*",
            body = inline(FileBytes)),
        (status = 404, description = "The link has expired or is not valid, or no such public file on its ticket", body = ApiError),
    ))]
async fn download(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let link = access::open(&state, &token).await?;
    let (file, bytes) = access::download(&state, &link, path_id(&id)?).await?;
    file_response(&file, bytes)
}
