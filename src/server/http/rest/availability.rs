//! `/desk/pulse`: the desk's people with their availability, and its
//! counters (managers); `/users/me/availability`: the caller says they are
//! away, or back (desk staff).

use super::ApiJson;
use crate::domain::ApiError;
use crate::domain::availability::{DeskPulse, StaffAvailability};
use crate::server::auth::Caller;
use crate::server::availability;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/desk/pulse", get(pulse))
        .route("/users/me/availability", put(set_availability))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(pulse, set_availability))]
pub struct Api;

/// The organization's agents and managers, each online, away or offline
/// and since when, with the open tickets, the unassigned ones, today's SLA
/// breaches (UTC) and the agents online.
#[utoipa::path(get, path = "/desk/pulse", tag = "availability", security(("bearer" = [])),
    responses(
        (status = 200, description = "The desk's people and counters", body = DeskPulse),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only managers, executives and admins see the desk's figures", body = ApiError),
    ))]
async fn pulse(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<DeskPulse>> {
    Ok(Json(availability::pulse(&s, &c.principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = AvailabilityChange)]
#[serde(deny_unknown_fields)]
struct AvailabilityBody {
    /// `true`: the caller is away; `false`: back.
    away: bool,
}

/// The caller says they are away, or back. It counts as being seen, so
/// they are online (or away) afterwards.
#[utoipa::path(put, path = "/users/me/availability", tag = "availability", security(("bearer" = [])),
    request_body = AvailabilityBody,
    responses(
        (status = 200, description = "The caller's availability now", body = StaffAvailability),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only staff who work tickets have an availability", body = ApiError),
        (status = 422, description = "`away` is missing or not a boolean", body = ApiError),
    ))]
async fn set_availability(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(body): ApiJson<AvailabilityBody>,
) -> AppResult<Json<StaffAvailability>> {
    Ok(Json(
        availability::set_away(&s, &c.principal, body.away).await?,
    ))
}
