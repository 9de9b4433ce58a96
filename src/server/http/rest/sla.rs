//! `/sla`: service levels (managers and administrators).

use super::ApiJson;
use crate::domain::ApiError;
use crate::engine::sla::SlaReport;
use crate::engine::sla::simulation::SimulationRequest;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::sla;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use utoipa::OpenApi;

pub fn router() -> Router<crate::server::state::AppState> {
    Router::new().route("/sla/simulate", post(simulate))
}

/// The document of the route above.
#[derive(OpenApi)]
#[openapi(paths(simulate))]
pub struct Api;

/// Tries a calendar and targets on a ticket's events, with the clock that
/// computes real tickets: when each target is due, whether it was met,
/// which were breached and when, and the timeline of each clock. Business
/// time is the real time that passes while the calendar's wall clock shows
/// an open interval: daylight-saving changes cost and add no minute.
/// Resolution pauses while pending or on hold and stops when resolved or
/// closed; a reopened ticket resumes with the time it had left. Instants
/// are answered in UTC; null where a target does not apply or is
/// undecided. At most 200 events, 8 intervals a day and 400 holidays.
#[utoipa::path(post, path = "/sla/simulate", tag = "sla", security(("bearer" = [])),
    request_body = SimulationRequest,
    responses(
        (status = 200, description = "Due times, verdicts, breaches and the timeline", body = SlaReport),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 422, description = "Fields are named by path, e.g. `calendar.timezone` (unknown zone), `calendar.hours.mon[0]` (malformed or inverted interval), `events[0].type` (the first event must be `created`)", body = ApiError),
    ))]
async fn simulate(
    Caller(session): Caller,
    ApiJson(request): ApiJson<SimulationRequest>,
) -> AppResult<Json<SlaReport>> {
    sla::simulate(&session.principal, request, Utc::now())
        .await
        .map(Json)
}
