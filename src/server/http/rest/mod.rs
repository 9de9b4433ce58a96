//! The REST API under `/api/v1`: thin handlers over the same services the
//! browser's server functions use.

mod access;
mod attachments;
mod audit;
mod auth;
mod desk;
mod import;
mod runtime;
mod tickets;
mod users;

use crate::domain::ticket::{Comment, CommentPage};
use crate::domain::{ApiError, ErrorKind};
use crate::server::error::AppError;
use crate::server::state::AppState;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(access::router())
        .merge(users::router())
        .merge(tickets::router())
        .merge(attachments::router())
        .merge(import::router())
        .merge(desk::router())
        .merge(runtime::router())
        .merge(audit::router())
        .fallback(not_found)
}

/// The paths of every route above, each module documenting its own next to
/// its router (`http::openapi` adds the title, servers and security scheme).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = auth::Api::openapi();
    for part in [
        access::Api::openapi(),
        users::Api::openapi(),
        tickets::Api::openapi(),
        attachments::Api::openapi(),
        import::Api::openapi(),
        desk::Api::openapi(),
        runtime::Api::openapi(),
        audit::Api::openapi(),
    ] {
        doc.merge(part);
    }
    doc
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

/// A page of a list; `next_cursor` continues it (null on the last page).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A conversation's page: `next_cursor` goes back to the older messages.
impl From<CommentPage> for Page<Comment> {
    fn from(page: CommentPage) -> Self {
        Page {
            items: page.items,
            next_cursor: page.older,
        }
    }
}

/// A list that always fits one page (a ticket's messages, a setup list).
pub fn whole_page<T>(items: Vec<T>) -> axum::Json<Page<T>> {
    axum::Json(Page {
        items,
        next_cursor: None,
    })
}

/// `Query` whose rejections (e.g. a repeated parameter) use our error body
/// instead of axum's plain text.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::kind(ErrorKind::BadRequest, rejection.body_text())
    }
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
