//! `/audit`: the organization's audit log (admins), newest first.

use super::{ApiQuery, Page};
use crate::domain::ApiError;
use crate::domain::audit::{AuditEntry, AuditQuery};
use crate::server::audit;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(list))]
pub struct Api;

/// Who changed what, when, through what and from where — tickets, users
/// (with sign-ins, failed sign-ins and sign-outs) and desk settings — in the
/// caller's organization, newest first. Filters combine; `next_cursor`
/// continues the same filters (null on the last page).
#[utoipa::path(get, path = "/audit", tag = "system", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit rows, newest first", body = Page<AuditEntry>),
        (status = 400, description = "A malformed query string (e.g. a repeated parameter)", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Admins only", body = ApiError),
        (status = 422, description = "An unknown owner type, an id, date, cursor or limit that does not parse (per-field messages)", body = ApiError),
    ))]
async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> AppResult<Json<Page<AuditEntry>>> {
    let page = audit::page(&state, &session.principal, &query).await?;
    Ok(Json(Page {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
