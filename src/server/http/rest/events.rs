//! `/events`: what a live-updates client missed while disconnected.

use super::ApiQuery;
use crate::domain::ApiError;
use crate::domain::live::Missed;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::live::{self, MissedQuery};
use crate::server::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(missed))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(missed))]
pub struct Api;

/// The events after `after` on the topics a WebSocket client follows, in
/// order and filtered as the WebSocket filters them (docs/LIVE.md): what a
/// reconnecting client missed. Continue with `after=next_after` while
/// `more` is true.
#[utoipa::path(get, path = "/events", tag = "live", security(("bearer" = [])),
    params(MissedQuery),
    responses(
        (status = 200, description = "A page of missed events", body = Missed),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "A topic the caller may not follow (`org`, `presence`: staff)", body = ApiError),
        (status = 404, description = "A ticket topic the caller does not see", body = ApiError),
        (status = 410, description = "Events after `after` are no longer kept: reload instead", body = ApiError),
        (status = 422, description = "A missing or malformed `after`, `topics` or `limit`", body = ApiError),
    ))]
async fn missed(
    State(state): State<AppState>,
    Caller(session): Caller,
    ApiQuery(query): ApiQuery<MissedQuery>,
) -> AppResult<Json<Missed>> {
    Ok(Json(
        live::missed(&state, &session.principal, &query).await?,
    ))
}
