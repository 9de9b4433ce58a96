//! `/notifications`: the caller's notification centre (staff) and their
//! preferences; `/settings/mail-templates`: the organization's mail texts
//! (admins).

use super::{ApiJson, ApiQuery};
use crate::domain::ApiError;
use crate::domain::notification::{
    MailTemplate, MailTemplateText, MarkRead, MarkedRead, NotificationList, NotificationPreferences,
};
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::notifications::{self, templates};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read", post(mark_read))
        .route(
            "/notifications/preferences",
            get(preferences).put(save_preferences),
        )
        .route("/settings/mail-templates", get(list_templates))
        .route(
            "/settings/mail-templates/{key}",
            get(get_template).put(save_template).delete(reset_template),
        )
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(
    list,
    mark_read,
    preferences,
    save_preferences,
    list_templates,
    get_template,
    save_template,
    reset_template
))]
pub struct Api;

/// The list's query string.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: unread ones only.
    pub unread: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Rows per page (1–200, default 30).
    pub limit: Option<String>,
}

/// The caller's notifications, newest first, with the count of all their
/// unread ones; `next_cursor` continues the list (null on the last page).
#[utoipa::path(get, path = "/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of the caller's notifications", body = NotificationList),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers have no notification centre", body = ApiError),
        (status = 422, description = "A cursor or limit that does not parse", body = ApiError),
    ))]
async fn list(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<NotificationList>> {
    let unread = q.unread.unwrap_or(false);
    Ok(Json(
        notifications::list(&s, &c.principal, unread, &q.cursor, &q.limit).await?,
    ))
}

/// Marks the caller's notifications read: `{"ids": [...]}` or `{"all": true}`.
/// Ids that are not the caller's change nothing.
#[utoipa::path(post, path = "/notifications/read", tag = "notifications", security(("bearer" = [])),
    request_body = MarkRead,
    responses(
        (status = 200, description = "How many were marked, and what is left unread", body = MarkedRead),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers have no notification centre", body = ApiError),
        (status = 422, description = "Neither ids nor all, or too many ids", body = ApiError),
    ))]
async fn mark_read(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(b): ApiJson<MarkRead>,
) -> AppResult<Json<MarkedRead>> {
    Ok(Json(notifications::mark_read(&s, &c.principal, &b).await?))
}

/// For each kind, whether the caller is told by mail and in the app.
#[utoipa::path(get, path = "/notifications/preferences", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "One preference per kind", body = NotificationPreferences),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers have no notification centre", body = ApiError),
    ))]
async fn preferences(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<NotificationPreferences>> {
    Ok(Json(notifications::preferences(&s, &c.principal).await?))
}

/// Changes the caller's preferences for the kinds listed (others stay).
#[utoipa::path(put, path = "/notifications/preferences", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationPreferences,
    responses(
        (status = 200, description = "Every preference, as now stored", body = NotificationPreferences),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers have no notification centre", body = ApiError),
        (status = 422, description = "An unknown kind", body = ApiError),
    ))]
async fn save_preferences(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(b): ApiJson<NotificationPreferences>,
) -> AppResult<Json<NotificationPreferences>> {
    Ok(Json(
        notifications::save_preferences(&s, &c.principal, &b.items).await?,
    ))
}

/// Every mail template of the organization (the default text where none
/// was changed), with the placeholders each may use.
#[utoipa::path(get, path = "/settings/mail-templates", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "The templates", body = Vec<MailTemplate>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Admins only", body = ApiError),
    ))]
async fn list_templates(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Vec<MailTemplate>>> {
    Ok(Json(templates::list(&s, &c.principal).await?))
}

#[utoipa::path(get, path = "/settings/mail-templates/{key}", tag = "notifications", security(("bearer" = [])),
    params(("key" = String, Path, description = "Template key, e.g. ticket_received")),
    responses(
        (status = 200, description = "The template", body = MailTemplate),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Admins only", body = ApiError),
        (status = 404, description = "No such template", body = ApiError),
    ))]
async fn get_template(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
) -> AppResult<Json<MailTemplate>> {
    Ok(Json(templates::get(&s, &c.principal, &key).await?))
}

/// Replaces a template's text. The subject always carries the ticket
/// number when sent, even if this text leaves it out.
#[utoipa::path(put, path = "/settings/mail-templates/{key}", tag = "notifications", security(("bearer" = [])),
    params(("key" = String, Path, description = "Template key, e.g. ticket_received")),
    request_body = MailTemplateText,
    responses(
        (status = 200, description = "The template as now stored", body = MailTemplate),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Admins only", body = ApiError),
        (status = 404, description = "No such template", body = ApiError),
        (status = 422, description = "An empty or overlong part, or an unknown placeholder (per-field messages)", body = ApiError),
    ))]
async fn save_template(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(key): Path<String>,
    ApiJson(b): ApiJson<MailTemplateText>,
) -> AppResult<Json<MailTemplate>> {
    Ok(Json(templates::save(&s, &c.principal, &o, &key, &b).await?))
}

/// Restores a template's default text.
#[utoipa::path(delete, path = "/settings/mail-templates/{key}", tag = "notifications", security(("bearer" = [])),
    params(("key" = String, Path, description = "Template key, e.g. ticket_received")),
    responses(
        (status = 200, description = "The template with its default text", body = MailTemplate),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Admins only", body = ApiError),
        (status = 404, description = "No such template", body = ApiError),
    ))]
async fn reset_template(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(key): Path<String>,
) -> AppResult<Json<MailTemplate>> {
    Ok(Json(templates::reset(&s, &c.principal, &o, &key).await?))
}
