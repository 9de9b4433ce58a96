//! `/sla`: service levels (managers and administrators): the simulator,
//! business calendars and ordered policies; and `/tickets/{id}/sla`, a
//! ticket's SLA as staff read it. Lists answer `{items, next_cursor: null}`
//! (they are short); changes answer the saved object.

use super::{ApiJson, Page, path_id, whole_page};
use crate::domain::ApiError;
use crate::domain::sla::{
    PolicyOrder, SlaCalendar, SlaCalendarInput, SlaPolicy, SlaPolicyInput, TicketSla,
};
use crate::engine::sla::SlaReport;
use crate::engine::sla::simulation::SimulationRequest;
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::sla::{self, admin};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sla/simulate", post(simulate))
        .route("/sla/calendars", get(calendars).post(create_calendar))
        .route(
            "/sla/calendars/{id}",
            get(calendar).put(update_calendar).delete(delete_calendar),
        )
        .route("/sla/calendars/{id}/holidays/ical", post(import_ical))
        .route("/sla/policies", get(policies).post(create_policy))
        .route("/sla/policies/order", post(reorder))
        .route(
            "/sla/policies/{id}",
            get(policy).put(update_policy).delete(delete_policy),
        )
        .route("/tickets/{id}/sla", get(ticket_sla))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(
    simulate,
    calendars,
    create_calendar,
    calendar,
    update_calendar,
    delete_calendar,
    import_ical,
    policies,
    create_policy,
    policy,
    update_policy,
    delete_policy,
    reorder,
    ticket_sla
))]
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

/// The organization's business calendars.
#[utoipa::path(get, path = "/sla/calendars", tag = "sla", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every calendar, by name", body = Page<SlaCalendar>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
    ))]
async fn calendars(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<SlaCalendar>>> {
    Ok(whole_page(admin::calendars(&s, &c.principal).await?))
}

/// Creates a calendar: an IANA zone with weekly hours and holidays, or
/// always open; checked as the simulator checks one.
#[utoipa::path(post, path = "/sla/calendars", tag = "sla", security(("bearer" = [])),
    request_body = SlaCalendarInput,
    responses(
        (status = 201, description = "The new calendar", body = SlaCalendar),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 422, description = "Fields named by path: `name`, `timezone`, `hours.mon[0]`, `holidays[2]`", body = ApiError),
    ))]
async fn create_calendar(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<SlaCalendarInput>,
) -> AppResult<(StatusCode, Json<SlaCalendar>)> {
    let calendar = admin::create_calendar(&s, &c.principal, body, &o).await?;
    Ok((StatusCode::CREATED, Json(calendar)))
}

#[utoipa::path(get, path = "/sla/calendars/{id}", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    responses(
        (status = 200, description = "The calendar", body = SlaCalendar),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such calendar in the organization", body = ApiError),
    ))]
async fn calendar(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<SlaCalendar>> {
    Ok(Json(
        admin::calendar(&s, &c.principal, path_id(&id)?).await?,
    ))
}

/// Replaces a calendar. Tickets pick the change up at their next change.
#[utoipa::path(put, path = "/sla/calendars/{id}", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    request_body = SlaCalendarInput,
    responses(
        (status = 200, description = "The calendar now", body = SlaCalendar),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such calendar in the organization", body = ApiError),
        (status = 422, description = "Fields named by path", body = ApiError),
    ))]
async fn update_calendar(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SlaCalendarInput>,
) -> AppResult<Json<SlaCalendar>> {
    let id = path_id(&id)?;
    Ok(Json(
        admin::update_calendar(&s, &c.principal, id, body, &o).await?,
    ))
}

/// Deletes a calendar no policy uses.
#[utoipa::path(delete, path = "/sla/calendars/{id}", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such calendar in the organization", body = ApiError),
        (status = 409, description = "A policy uses the calendar", body = ApiError),
    ))]
async fn delete_calendar(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    admin::delete_calendar(&s, &c.principal, path_id(&id)?, &o).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds holidays from an iCalendar file (the body, as text): every all-day
/// event is a closed day, every yearly one (`RRULE:FREQ=YEARLY`) closed
/// every year; events with a time of day are skipped. At most 256 KiB.
#[utoipa::path(post, path = "/sla/calendars/{id}/holidays/ical", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    request_body(content = String, content_type = "text/calendar",
        description = "BEGIN:VCALENDAR … END:VCALENDAR"),
    responses(
        (status = 200, description = "The calendar with its holidays now", body = SlaCalendar),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such calendar in the organization", body = ApiError),
        (status = 422, description = "`ical`: not a calendar, too large, or too many holidays", body = ApiError),
    ))]
async fn import_ical(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    body: String,
) -> AppResult<Json<SlaCalendar>> {
    let id = path_id(&id)?;
    Ok(Json(
        admin::import_ical(&s, &c.principal, id, &body, &o)
            .await?
            .calendar,
    ))
}

/// The organization's policies, first tried first.
#[utoipa::path(get, path = "/sla/policies", tag = "sla", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every policy, in order", body = Page<SlaPolicy>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
    ))]
async fn policies(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<SlaPolicy>>> {
    Ok(whole_page(admin::policies(&s, &c.principal).await?))
}

/// Creates a policy (tried after the existing ones). The first active
/// policy whose conditions all match a ticket applies to it.
#[utoipa::path(post, path = "/sla/policies", tag = "sla", security(("bearer" = [])),
    request_body = SlaPolicyInput,
    responses(
        (status = 201, description = "The new policy", body = SlaPolicy),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 422, description = "Fields: `name`, `calendar_id`, `*_minutes`, `warning_percent`, `raise_priority`, `reassign_team_id`, `conditions.priority[0]`…", body = ApiError),
    ))]
async fn create_policy(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<SlaPolicyInput>,
) -> AppResult<(StatusCode, Json<SlaPolicy>)> {
    let policy = admin::create_policy(&s, &c.principal, body, &o).await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

#[utoipa::path(get, path = "/sla/policies/{id}", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Policy id")),
    responses(
        (status = 200, description = "The policy", body = SlaPolicy),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such policy in the organization", body = ApiError),
    ))]
async fn policy(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<SlaPolicy>> {
    Ok(Json(admin::policy(&s, &c.principal, path_id(&id)?).await?))
}

/// Replaces a policy (its position stays). Tickets pick the change up at
/// their next change.
#[utoipa::path(put, path = "/sla/policies/{id}", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Policy id")),
    request_body = SlaPolicyInput,
    responses(
        (status = 200, description = "The policy now", body = SlaPolicy),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such policy in the organization", body = ApiError),
        (status = 422, description = "Fields as for creating one", body = ApiError),
    ))]
async fn update_policy(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SlaPolicyInput>,
) -> AppResult<Json<SlaPolicy>> {
    let id = path_id(&id)?;
    Ok(Json(
        admin::update_policy(&s, &c.principal, id, body, &o).await?,
    ))
}

#[utoipa::path(delete, path = "/sla/policies/{id}", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Policy id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 404, description = "No such policy in the organization", body = ApiError),
    ))]
async fn delete_policy(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    admin::delete_policy(&s, &c.principal, path_id(&id)?, &o).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts the policies in a new order: every policy's id once, first tried
/// first.
#[utoipa::path(post, path = "/sla/policies/order", tag = "sla", security(("bearer" = [])),
    request_body = PolicyOrder,
    responses(
        (status = 200, description = "The policies in their new order", body = Page<SlaPolicy>),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Managers and administrators only", body = ApiError),
        (status = 422, description = "`ids` does not list every policy exactly once", body = ApiError),
    ))]
async fn reorder(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<PolicyOrder>,
) -> AppResult<Json<Page<SlaPolicy>>> {
    Ok(whole_page(
        admin::reorder(&s, &c.principal, body, &o).await?,
    ))
}

/// A ticket's SLA (staff who read all tickets): the policy that applies and
/// the conditions that matched, the calendar, each target's due time and
/// verdict as of now, the recorded breaches, and the clock's timeline with
/// the minutes left.
#[utoipa::path(get, path = "/tickets/{id}/sla", tag = "sla", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket's SLA; `policy` null when none applies", body = TicketSla),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "A customer's own ticket: the SLA is internal", body = ApiError),
        (status = 404, description = "No such ticket the caller may see", body = ApiError),
    ))]
async fn ticket_sla(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<TicketSla>> {
    Ok(Json(
        sla::ticket_sla(&s, &c.principal, path_id(&id)?).await?,
    ))
}
