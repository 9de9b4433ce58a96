//! The REST API under `/api/v1`: thin handlers over the same services the
//! browser's server functions use.

mod auth;
mod users;

use crate::domain::{ApiError, ErrorKind};
use crate::server::error::AppError;
use crate::server::state::AppState;
use axum::Router;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(users::router())
        .fallback(not_found)
}

async fn not_found() -> AppError {
    AppError::Api(ApiError::not_found())
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
