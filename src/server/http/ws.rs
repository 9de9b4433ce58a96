//! `GET /ws`: the live-updates WebSocket (`server::live`). Signed in like
//! any request — `Authorization: Bearer` or the session cookie, whose
//! upgrade must come from this site (cross-site WebSocket hijacking) —
//! else 401 without upgrading; then admitted within the connection limits.

use crate::domain::ApiError;
use crate::domain::ErrorKind;
use crate::server::auth::Caller;
use crate::server::auth::Principal;
use crate::server::auth::session::{bearer_token, same_origin};
use crate::server::error::{AppError, AppResult};
use crate::server::live::{self, Live, Refusal};
use crate::server::state::AppState;
use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    /// The protocol version the client speaks (`domain::live::PROTOCOL_VERSION`).
    v: Option<u32>,
}

pub async fn upgrade(
    State(state): State<AppState>,
    Caller(session): Caller,
    headers: HeaderMap,
    Query(params): Query<Params>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let Principal::User(person) = session.principal else {
        return Err(ApiError::unauthorized().into());
    };
    if bearer_token(&headers).is_none() && !same_origin(&headers) {
        return Err(AppError::kind(
            ErrorKind::Forbidden,
            "Cross-origin WebSocket refused",
        ));
    }
    let conn = match Live::admit(&state, &person, session.claims.sid) {
        Ok(conn) => conn,
        Err(Refusal::InstanceFull) => {
            let refusal = ApiError::new(
                ErrorKind::Internal,
                "This server has no room for another live connection; try another",
            );
            return Ok((StatusCode::SERVICE_UNAVAILABLE, Json(refusal)).into_response());
        }
        Err(Refusal::TooManyForUser) => {
            return Err(AppError::kind(
                ErrorKind::TooManyRequests,
                "Too many live connections for this account; close a tab",
            ));
        }
    };
    Ok(ws
        .max_message_size(live::socket::MAX_MESSAGE_BYTES)
        .read_buffer_size(live::socket::READ_BUFFER_BYTES)
        .on_upgrade(move |socket| live::socket::run(state, conn, person, socket, params.v)))
}
