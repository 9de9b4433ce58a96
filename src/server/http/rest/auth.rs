//! `/auth/login`, `/auth/register`, `/auth/refresh`, `/auth/logout`.

use super::ApiJson;
use crate::domain::User;
use crate::server::auth::refresh::Presenter;
use crate::server::auth::service::{self, IssuedSession};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::users::{self, Registration};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/register", post(register))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct RegisterRequest {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct RefreshRequest {
    #[serde(default)]
    refresh_token: String,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
    user: User,
}

impl From<IssuedSession> for TokenResponse {
    fn from(issued: IssuedSession) -> Self {
        let user = issued.claims.session_user();
        TokenResponse {
            access_token: issued.access_token,
            // API clients always rotate strictly, so a successor always exists.
            refresh_token: issued.refresh_token.unwrap_or_default(),
            token_type: "Bearer",
            expires_in: issued.expires_in,
            user: User {
                id: user.id,
                email: user.email,
                name: user.name,
                role: user.role,
                organization_id: user.organization_id,
                // Only active accounts get sessions (sign-in and refresh check).
                active: true,
            },
        }
    }
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let issued = service::login(&state, &body.email, &body.password, peer.ip()).await?;
    Ok(Json(issued.into()))
}

/// Customer self sign-up; answers like a login, with 201.
async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> AppResult<(StatusCode, Json<TokenResponse>)> {
    let form = Registration {
        organization: body.organization,
        email: body.email,
        name: body.name,
        password: body.password,
    };
    let issued = users::register(&state, form, peer.ip()).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenResponse>> {
    let issued = service::refresh(&state, &body.refresh_token, Presenter::ApiClient).await?;
    Ok(Json(issued.into()))
}

async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> AppResult<StatusCode> {
    service::logout(&state, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
