//! `/auth/login`, `/auth/register`, `/auth/refresh`, `/auth/logout`.

use super::ApiJson;
use crate::domain::{ApiError, User};
use crate::server::audit::Origin;
use crate::server::auth::refresh::Presenter;
use crate::server::auth::service::{self, IssuedSession};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::users::{self, Registration};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/register", post(register))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
}

/// The document of the routes above (public: no bearer token needed).
#[derive(OpenApi)]
#[openapi(paths(login, register, refresh, logout))]
pub struct Api;

#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    #[serde(default)]
    #[schema(required = true)]
    email: String,
    #[serde(default)]
    #[schema(required = true)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
struct RegisterRequest {
    #[serde(default)]
    #[schema(required = true)]
    organization: String,
    #[serde(default)]
    #[schema(required = true)]
    email: String,
    #[serde(default)]
    #[schema(required = true)]
    name: String,
    #[serde(default)]
    #[schema(required = true)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
struct RefreshRequest {
    #[serde(default)]
    #[schema(required = true)]
    refresh_token: String,
}

#[derive(Serialize, ToSchema)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
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

/// Signs in with email and password; the access token goes in
/// `Authorization: Bearer`, the refresh token buys the next one.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "Wrong email or password, or the account is deactivated", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
        (status = 429, description = "Too many sign-in attempts", body = ApiError),
    ))]
async fn login(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let issued = service::login(
        &state,
        &body.email,
        &body.password,
        &origin,
        Presenter::ApiClient,
    )
    .await?;
    Ok(Json(issued.into()))
}

/// Customer self sign-up; answers like a login, with 201.
#[utoipa::path(post, path = "/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in", body = TokenResponse),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 409, description = "The email is already registered", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
        (status = 429, description = "Too many attempts from this address", body = ApiError),
    ))]
async fn register(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> AppResult<(StatusCode, Json<TokenResponse>)> {
    let form = Registration {
        organization: body.organization,
        email: body.email,
        name: body.name,
        password: body.password,
    };
    let issued = users::register(&state, form, &origin, Presenter::ApiClient).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Spends a refresh token for a new access token and its successor; a spent
/// token presented again revokes the whole family.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "The refresh token is unknown, spent or expired", body = ApiError),
        (status = 422, description = "A field has the wrong type", body = ApiError),
    ))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenResponse>> {
    let issued = service::refresh(&state, &body.refresh_token, Presenter::ApiClient).await?;
    Ok(Json(issued.into()))
}

/// Ends the session the refresh token belongs to.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out (also when the token was already spent)"),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 422, description = "A field has the wrong type", body = ApiError),
    ))]
async fn logout(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> AppResult<StatusCode> {
    service::logout(&state, &body.refresh_token, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
