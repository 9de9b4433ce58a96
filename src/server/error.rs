//! The server's one error type. Handlers return `Result<_, AppError>`; the
//! client sees an `ApiError` body with the right status, while internals
//! (SQL, I/O, panics' causes) are logged and never sent.

use crate::domain::{ApiError, ErrorKind};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError::Api(ApiError::new(kind, message))
    }

    /// The client-facing error; logs the cause of internal failures.
    pub fn into_api_error(self) -> ApiError {
        match self {
            AppError::Api(e) => e,
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        api_error_response(self.into_api_error())
    }
}

pub fn api_error_response(err: ApiError) -> Response {
    let status =
        StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(err)).into_response()
}

/// True when a database error is a unique-constraint violation, so callers
/// can answer 409 instead of 500.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
