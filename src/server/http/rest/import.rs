//! `POST /import/tickets`: historical tickets from another help desk (admins).

use super::ApiJson;
use crate::engine::import::ImportBatch;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::import::{ImportReport, import_tickets};
use crate::server::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};

/// A thousand tickets with their conversations is more than the usual 2 MB.
const MAX_IMPORT_BODY: usize = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/import/tickets",
        post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY)),
    )
}

async fn import(
    State(state): State<AppState>,
    Caller(session): Caller,
    ApiJson(batch): ApiJson<ImportBatch>,
) -> AppResult<Json<ImportReport>> {
    Ok(Json(import_tickets(&state, &session.claims, batch).await?))
}
