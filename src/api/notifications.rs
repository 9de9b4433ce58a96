//! The notification centre (staff) and the mail templates (admins) for
//! the UI: the same services as `/api/v1/notifications` and
//! `/api/v1/settings/mail-templates`.

use crate::domain::ApiError;
use crate::domain::notification::{
    MailTemplate, MarkedRead, NotificationList, NotificationPreferences,
};
use leptos::prelude::*;

/// A page of the caller's notifications, newest first.
#[server(prefix = "/api", endpoint = "list_notifications", output = crate::api::JsonResponse)]
pub async fn list_notifications(
    unread: Option<bool>,
    cursor: Option<String>,
) -> Result<NotificationList, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::notifications;

    let state = state()?;
    let caller = require_session()?.principal;
    let unread = unread.unwrap_or(false);
    respond(notifications::list(&state, &caller, unread, &cursor, &None).await)
}

/// The caller's unread count (the header's bell).
#[server(prefix = "/api", endpoint = "unread_notifications", output = crate::api::JsonResponse)]
pub async fn unread_notifications() -> Result<i64, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::notifications;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(notifications::unread_count(&state, &caller).await)
}

/// Marks one of the caller's notifications read (`id`), or all of them.
#[server(prefix = "/api", endpoint = "mark_notifications_read", output = crate::api::JsonResponse)]
pub async fn mark_notifications_read(
    id: Option<String>,
    all: Option<bool>,
) -> Result<MarkedRead, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::domain::notification::MarkRead;
    use crate::server::notifications;

    let state = state()?;
    let caller = require_session()?.principal;
    let ids = id
        .as_deref()
        .and_then(|id| uuid::Uuid::parse_str(id.trim()).ok())
        .into_iter()
        .collect();
    let request = MarkRead {
        ids,
        all: all.unwrap_or(false),
    };
    respond(notifications::mark_read(&state, &caller, &request).await)
}

/// The caller's preferences, one per kind.
#[server(prefix = "/api", endpoint = "load_notification_preferences", output = crate::api::JsonResponse)]
pub async fn load_notification_preferences() -> Result<NotificationPreferences, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::notifications;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(notifications::preferences(&state, &caller).await)
}

/// Saves the caller's choice for one kind (a checkbox sends a value when
/// ticked, nothing when not).
#[server(prefix = "/api", endpoint = "save_notification_preference", output = crate::api::JsonResponse)]
pub async fn save_notification_preference(
    kind: String,
    email: Option<String>,
    in_app: Option<String>,
) -> Result<NotificationPreferences, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::domain::FieldErrors;
    use crate::domain::notification::{NotificationKind, NotificationPreference};
    use crate::server::notifications;

    let state = state()?;
    let caller = require_session()?.principal;
    let mut errs = FieldErrors::new();
    let kind = errs.parse("kind", Some(kind.as_str()), NotificationKind::parse);
    respond(errs.into_result().map_err(Into::into))?;
    let Some(kind) = kind else {
        return respond(Err(ApiError::not_found().into()));
    };
    let choice = NotificationPreference {
        kind,
        email: email.is_some(),
        in_app: in_app.is_some(),
    };
    respond(notifications::save_preferences(&state, &caller, &[choice]).await)
}

/// Every mail template of the organization (admins).
#[server(prefix = "/api", endpoint = "list_mail_templates", output = crate::api::JsonResponse)]
pub async fn list_mail_templates() -> Result<Vec<MailTemplate>, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::notifications::templates;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(templates::list(&state, &caller).await)
}

/// Saves a template's text (admins); 422 names the field.
#[server(prefix = "/api", endpoint = "save_mail_template", output = crate::api::JsonResponse)]
pub async fn save_mail_template(
    key: String,
    subject: String,
    body: String,
) -> Result<MailTemplate, ApiError> {
    use super::context::{origin, require_session, respond, state};
    use crate::domain::notification::MailTemplateText;
    use crate::server::notifications::templates;

    let state = state()?;
    let caller = require_session()?.principal;
    let text = MailTemplateText { subject, body };
    respond(templates::save(&state, &caller, &origin(), &key, &text).await)
}

/// Restores a template's default text (admins).
#[server(prefix = "/api", endpoint = "reset_mail_template", output = crate::api::JsonResponse)]
pub async fn reset_mail_template(key: String) -> Result<MailTemplate, ApiError> {
    use super::context::{origin, require_session, respond, state};
    use crate::server::notifications::templates;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(templates::reset(&state, &caller, &origin(), &key).await)
}
