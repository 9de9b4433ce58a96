//! `/runtime`: how background work stands (admins): subscribers' backlog,
//! retried and parked events, jobs, queued mail.

use crate::domain::ApiError;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::runtime::{self, RuntimeHealth};
use crate::server::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/runtime", get(show))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(show))]
pub struct Api;

/// Background work: each event subscriber's backlog and failed events
/// (parked ones of the caller's organization listed), jobs by state and
/// the most overdue job's lag, and mail waiting to be sent.
#[utoipa::path(get, path = "/runtime", tag = "system", security(("bearer" = [])),
    responses(
        (status = 200, description = "The runtime's state", body = RuntimeHealth),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Admins only", body = ApiError),
    ))]
async fn show(
    State(state): State<AppState>,
    Caller(session): Caller,
) -> AppResult<Json<RuntimeHealth>> {
    runtime::health(&state, &session.principal).await.map(Json)
}
