//! The REST API under `/api/v1`: thin handlers over the same services the
//! browser's server functions use.

mod access;
mod attachments;
mod auth;
mod desk;
mod import;
mod tickets;
mod users;

use crate::domain::{ApiError, ErrorKind};
use crate::server::error::AppError;
use crate::server::state::AppState;
use axum::Router;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Deserializer, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(access::router())
        .merge(users::router())
        .merge(tickets::router())
        .merge(attachments::router())
        .merge(import::router())
        .merge(desk::router())
        .fallback(not_found)
}

async fn not_found() -> AppError {
    AppError::Api(ApiError::not_found())
}

/// A path id that does not parse names nothing: 404, like another tenant's id.
pub fn path_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

/// Distinguishes an absent field (leave alone) from `null` (clear it).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A page of a list; `next_cursor` continues it (None on the last page).
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `Json` whose rejections use our error body instead of axum's plain text.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let kind = match rejection {
            JsonRejection::JsonDataError(_) => ErrorKind::Validation,
            _ => ErrorKind::BadRequest,
        };
        AppError::kind(
            kind,
            format!("Invalid request body: {}", rejection.body_text()),
        )
    }
}
