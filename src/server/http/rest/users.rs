//! `/users/me`, `/users`, `/users/{id}`.

use super::{ApiJson, Page, path_id};
use crate::domain::{ApiError, Area, FieldErrors, Role, User};
use crate::server::auth::Caller;
use crate::server::db::users;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::users::{self as service, NewAccount, UserPatch};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/me", get(me))
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(show).patch(update))
}

async fn me(State(state): State<AppState>, Caller(session): Caller) -> AppResult<Json<User>> {
    let claims = &session.claims;
    users::find_in_org(&state.db, claims.org, claims.sub)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::unauthorized().into())
}

#[derive(Deserialize)]
struct ListQuery {
    role: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

const MAX_PAGE: u32 = 500;

async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    Query(query): Query<ListQuery>,
) -> AppResult<Json<Page<User>>> {
    session.require_staff()?;
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
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errs.add("limit", format!("Use a number from 1 to {MAX_PAGE}"));
                100
            }
        },
    };
    errs.into_result()?;
    // Fetch one extra row to know whether another page exists.
    let mut items = users::list_in_org(
        &state.db,
        session.claims.org,
        role,
        query.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|u| u.email.clone())
    } else {
        None
    };
    Ok(Json(Page { items, next_cursor }))
}

async fn show(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<User>> {
    session.require_staff()?;
    // A malformed id cannot name anything: same answer as another tenant's id.
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    users::find_in_org(&state.db, session.claims.org, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found().into())
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// Admin only: a user of any role in the admin's organization.
async fn create(
    State(state): State<AppState>,
    Caller(session): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> AppResult<(StatusCode, Json<User>)> {
    session.require_area(Area::Admin)?;
    let form = NewAccount {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
    };
    let user = service::create(&state, &session.claims, form).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    role: Option<String>,
    active: Option<bool>,
    password: Option<String>,
}

/// Admin only: partial change of name, role, active, password. A role change
/// reaches the user's session at their next token refresh.
async fn update(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> AppResult<Json<User>> {
    // Role first: a non-admin gets 403 whatever the id.
    session.require_area(Area::Admin)?;
    let patch = UserPatch {
        name: body.name,
        role: body.role,
        active: body.active,
        password: body.password,
    };
    Ok(Json(
        service::update(&state, &session.claims, path_id(&id)?, patch).await?,
    ))
}
