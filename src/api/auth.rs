//! Sign-in, sign-out, the current user and password change for the browser.
//! Tokens live in HttpOnly cookies; scripts never see them.

use crate::domain::{ApiError, SessionUser};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "login", output = crate::api::JsonResponse)]
pub async fn login(email: String, password: String) -> Result<(), ApiError> {
    use super::context::{origin, respond, set_cookies, state};
    use crate::server::auth::refresh::Presenter;
    use crate::server::auth::service;
    use crate::server::auth::session::session_cookies;

    let state = state()?;
    let origin = origin();
    let issued =
        respond(service::login(&state, &email, &password, &origin, Presenter::Browser).await)?;
    set_cookies(session_cookies(&state.config, &issued));
    leptos_axum::redirect(issued.claims.role.home_path());
    Ok(())
}

/// Customer sign-up on the portal of the organization with the slug
/// `organization`; signs the new customer in like `login` does.
#[server(prefix = "/api", endpoint = "register", output = crate::api::JsonResponse)]
pub async fn register(
    organization: String,
    name: String,
    email: String,
    password: String,
) -> Result<(), ApiError> {
    use super::context::{origin, respond, set_cookies, state};
    use crate::server::auth::refresh::Presenter;
    use crate::server::auth::session::session_cookies;
    use crate::server::users::{self, Registration};

    let state = state()?;
    let form = Registration {
        organization,
        email,
        name,
        password,
    };
    let issued = respond(users::register(&state, form, &origin(), Presenter::Browser).await)?;
    set_cookies(session_cookies(&state.config, &issued));
    leptos_axum::redirect(issued.claims.role.home_path());
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout", output = crate::api::JsonResponse)]
pub async fn logout() -> Result<(), ApiError> {
    use super::context::{origin, respond, session, set_cookies, state};
    use crate::server::auth::service;
    use crate::server::auth::session::{REFRESH_COOKIE, clearing_cookies, request_cookie};
    use axum::http::request::Parts;

    let state = state()?;
    let origin = origin();
    let refresh = use_context::<Parts>().and_then(|p| request_cookie(&p.headers, REFRESH_COOKIE));
    let ended = match (refresh, session()) {
        (Some(token), _) => service::logout(&state, &token, &origin).await,
        (None, Some(session)) => service::end_session(&state, &session.claims, &origin).await,
        (None, None) => Ok(()),
    };
    set_cookies(clearing_cookies(&state.config));
    respond(ended)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or None for a visitor.
#[server(prefix = "/api", endpoint = "current_user", output = crate::api::JsonResponse)]
pub async fn current_user() -> Result<Option<SessionUser>, ApiError> {
    Ok(super::context::session().map(|s| s.user()))
}

#[server(prefix = "/api", endpoint = "change_password", output = crate::api::JsonResponse)]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), ApiError> {
    use super::context::{origin, require_session, respond, set_cookies, state};
    use crate::server::auth::refresh::Presenter;
    use crate::server::auth::service;
    use crate::server::auth::session::session_cookies;

    let state = state()?;
    let caller = require_session()?;
    let issued = respond(
        service::change_password(
            &state,
            &caller.claims,
            &current_password,
            &new_password,
            &confirm_password,
            Presenter::Browser,
            &origin(),
        )
        .await,
    )?;
    set_cookies(session_cookies(&state.config, &issued));
    Ok(())
}
