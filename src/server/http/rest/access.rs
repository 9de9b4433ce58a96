//! URL-based access for API clients: `POST /auth/magic-link` (ask for
//! links by mail), and with a link's token `GET /access/{token}`,
//! `POST /access/{token}/comments`, `GET /access/{token}/attachments/{id}`.
//! Thin shells over `server::access`, like the page's server functions.

use super::attachments::file_response;
use super::{ApiJson, path_id};
use crate::domain::access::LinkedTicket;
use crate::domain::ticket::Comment;
use crate::server::access;
use crate::server::db::tickets::Source;
use crate::server::error::AppResult;
use crate::server::magic_link;
use crate::server::state::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/magic-link", post(request_links))
        .route("/access/{token}", get(show))
        .route("/access/{token}/comments", post(reply))
        .route("/access/{token}/attachments/{id}", get(download))
}

#[derive(Deserialize)]
struct LinkRequest {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    email: String,
}

/// 202 whether or not the address is known.
async fn request_links(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LinkRequest>,
) -> AppResult<(StatusCode, Json<Value>)> {
    magic_link::request_links(&state, &body.organization, &body.email, peer.ip()).await?;
    let message = "If this address has requests with the organization, a link is on its way.";
    Ok((StatusCode::ACCEPTED, Json(json!({ "message": message }))))
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Json<LinkedTicket>> {
    let link = access::open(&state, &token).await?;
    Ok(Json(access::view(&state, &link).await?))
}

#[derive(Deserialize)]
struct ReplyBody {
    #[serde(default)]
    body: String,
}

async fn reply(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    let link = access::open(&state, &token).await?;
    let comment = access::reply(&state, &link, &body.body, Source::Api).await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

async fn download(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let link = access::open(&state, &token).await?;
    let (file, bytes) = access::download(&state, &link, path_id(&id)?).await?;
    file_response(&file, bytes)
}
