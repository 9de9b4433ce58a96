//! `/users/me`, `/users`, `/users/{id}`.

use super::{ApiJson, ApiQuery, Page, path_id};
use crate::domain::{ApiError, Capability, FieldErrors, Role, User};
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::db::users;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::users::{self as service, NewAccount, UserPatch};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/me", get(me))
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(show).patch(update))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(me, list, create, show, update))]
pub struct Api;

/// The caller's own account.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "No valid bearer token, or the account is gone", body = ApiError),
    ))]
async fn me(State(state): State<AppState>, Caller(session): Caller) -> AppResult<Json<User>> {
    let me = session.principal.person()?;
    users::find_in_org(&state.db, me.org, me.id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::unauthorized().into())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only users with this role.
    #[param(value_type = Option<Role>)]
    role: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The users of the caller's organization, ordered by email (staff only).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 400, description = "A malformed query string (e.g. a repeated parameter)", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not list users", body = ApiError),
        (status = 422, description = "Unknown role or a limit out of range", body = ApiError),
    ))]
async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<User>>> {
    let mut errs = FieldErrors::new();
    let role = match query.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => r.parse::<Role>().map(Some).unwrap_or_else(|_| {
            errs.add("role", "Unknown role");
            None
        }),
        None => None,
    };
    let limit = match query.limit.as_deref() {
        None | Some("") => 100,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=service::MAX_USER_PAGE).contains(&n) => n,
            _ => {
                let max = service::MAX_USER_PAGE;
                errs.add("limit", format!("Use a number from 1 to {max}"));
                100
            }
        },
    };
    // Capability before input: a customer hears 403 whatever they asked.
    session.principal.require(Capability::ReadDeskSetup)?;
    errs.into_result()?;
    let cursor = query.cursor.as_deref();
    let (items, next_cursor) =
        service::list(&state, &session.principal, role, cursor, limit).await?;
    Ok(Json(Page { items, next_cursor }))
}

/// A user of the caller's organization (staff only).
#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not look up users", body = ApiError),
        (status = 404, description = "No such user in the caller's organization", body = ApiError),
    ))]
async fn show(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<User>> {
    Ok(Json(
        service::find(&state, &session.principal, path_id(&id)?).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewUser)]
struct CreateBody {
    #[serde(default)]
    #[schema(required = true, format = Email)]
    email: String,
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    name: String,
    #[serde(default)]
    #[schema(value_type = Role, required = true)]
    role: String,
    #[serde(default)]
    #[schema(required = true, min_length = 10)]
    password: String,
}

/// Admin only: a user of any role in the admin's organization.
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new user", body = User),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only administrators create users", body = ApiError),
        (status = 409, description = "The email is already registered", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create(
    State(state): State<AppState>,
    Caller(session): Caller,
    origin: Origin,
    ApiJson(body): ApiJson<CreateBody>,
) -> AppResult<(StatusCode, Json<User>)> {
    let form = NewAccount {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
    };
    let user = service::create(&state, &session.principal, form, &origin).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = UserPatch)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    #[schema(value_type = Option<Role>)]
    role: Option<String>,
    active: Option<bool>,
    password: Option<String>,
}

/// Admin only: partial change of name, role, active, password. A role change
/// reaches the user's session at their next token refresh.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = PatchBody,
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only administrators change users", body = ApiError),
        (status = 404, description = "No such user in the caller's organization", body = ApiError),
        (status = 422, description = "An invalid or unknown field, or an administrator demoting or deactivating themself", body = ApiError),
    ))]
async fn update(
    State(state): State<AppState>,
    Caller(session): Caller,
    origin: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> AppResult<Json<User>> {
    let patch = UserPatch {
        name: body.name,
        role: body.role,
        active: body.active,
        password: body.password,
    };
    Ok(Json(
        service::update(&state, &session.principal, path_id(&id)?, patch, &origin).await?,
    ))
}
