//! `POST /import/tickets`: historical tickets from another help desk (admins).

use super::ApiJson;
use crate::domain::ApiError;
use crate::engine::import::ImportBatch;
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::import::{ImportReport, import_tickets};
use crate::server::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use utoipa::OpenApi;

/// A thousand tickets with their conversations is more than the usual 2 MB.
const MAX_IMPORT_BODY: usize = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/import/tickets",
        post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY)),
    )
}

/// The document of the route above.
#[derive(OpenApi)]
#[openapi(paths(import))]
pub struct Api;

/// Creates or updates (by `external_id`) up to 1,000 historical tickets with
/// their original dates and up to 10,000 messages each. The batch is checked
/// as a whole first (any problem: 422, nothing written); then each ticket is
/// stored all or nothing, one after another. If storing stops part-way (409
/// or 500), the tickets before were imported: send the batch again, they come
/// back `unchanged`. Admins only.
#[utoipa::path(post, path = "/import/tickets", tag = "import", security(("bearer" = [])),
    request_body = ImportBatch,
    responses(
        (status = 200, description = "What happened to each ticket", body = ImportReport),
        (status = 400, description = "The body is not JSON or exceeds 64 MiB", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only administrators import", body = ApiError),
        (status = 409, description = "A ticket kept changing while it was imported (it and the ones after it were not imported)", body = ApiError),
        (status = 422, description = "Invalid tickets, nothing imported; fields are named by path, e.g. `tickets[3].subject`, `tickets[3].comments` (too many messages)", body = ApiError),
    ))]
async fn import(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    ApiJson(batch): ApiJson<ImportBatch>,
) -> AppResult<Json<ImportReport>> {
    Ok(Json(
        import_tickets(&state, &session.principal, batch, &origin).await?,
    ))
}
