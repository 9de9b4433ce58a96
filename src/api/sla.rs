//! Service levels for the pages: calendars and policies (managers and
//! administrators; the admin pages come later) and a ticket's SLA panel.
//! Bodies are JSON: calendars carry nested hours.

use crate::domain::ApiError;
use crate::domain::sla::{
    HolidayImport, PolicyChoices, PolicyOrder, SimulatedDue, SlaCalendar, SlaCalendarInput,
    SlaPolicy, SlaPolicyInput, TicketSla,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[server(prefix = "/api", endpoint = "list_sla_calendars", output = crate::api::JsonResponse)]
pub async fn list_sla_calendars() -> Result<Vec<SlaCalendar>, ApiError> {
    use super::context::{require_session, respond, state};
    let (state, caller) = (state()?, require_session()?);
    respond(crate::server::sla::admin::calendars(&state, &caller.principal).await)
}

/// Creates a calendar (`id` None) or replaces one.
#[server(prefix = "/api", endpoint = "save_sla_calendar", output = crate::api::JsonResponse, input = Json)]
pub async fn save_sla_calendar(
    id: Option<Uuid>,
    calendar: SlaCalendarInput,
) -> Result<SlaCalendar, ApiError> {
    use super::context::{origin, require_session, respond, state};
    use crate::server::sla::admin;
    let (state, caller, origin) = (state()?, require_session()?, origin());
    let p = &caller.principal;
    respond(match id {
        Some(id) => admin::update_calendar(&state, p, id, calendar, &origin).await,
        None => admin::create_calendar(&state, p, calendar, &origin).await,
    })
}

#[server(prefix = "/api", endpoint = "delete_sla_calendar", output = crate::api::JsonResponse, input = Json)]
pub async fn delete_sla_calendar(id: Uuid) -> Result<(), ApiError> {
    use super::context::{origin, require_session, respond, state};
    let (state, caller, origin) = (state()?, require_session()?, origin());
    respond(
        crate::server::sla::admin::delete_calendar(&state, &caller.principal, id, &origin).await,
    )
}

/// Adds the all-day events of an iCalendar file's text (read in the
/// browser) to the calendar's holidays.
#[server(prefix = "/api", endpoint = "import_sla_holidays", output = crate::api::JsonResponse, input = Json)]
pub async fn import_sla_holidays(id: Uuid, ical: String) -> Result<HolidayImport, ApiError> {
    use super::context::{origin, require_session, respond, state};
    let (state, caller, origin) = (state()?, require_session()?, origin());
    respond(
        crate::server::sla::admin::import_ical(&state, &caller.principal, id, &ical, &origin).await,
    )
}

/// The categories, teams and companies a policy's conditions choose from.
#[server(prefix = "/api", endpoint = "load_sla_policy_choices", output = crate::api::JsonResponse)]
pub async fn load_sla_policy_choices() -> Result<PolicyChoices, ApiError> {
    use super::context::{require_session, respond, state};
    let (state, caller) = (state()?, require_session()?);
    respond(crate::server::sla::admin::policy_choices(&state, &caller.principal).await)
}

#[server(prefix = "/api", endpoint = "list_sla_policies", output = crate::api::JsonResponse)]
pub async fn list_sla_policies() -> Result<Vec<SlaPolicy>, ApiError> {
    use super::context::{require_session, respond, state};
    let (state, caller) = (state()?, require_session()?);
    respond(crate::server::sla::admin::policies(&state, &caller.principal).await)
}

/// Creates a policy (`id` None; it goes last) or replaces one.
#[server(prefix = "/api", endpoint = "save_sla_policy", output = crate::api::JsonResponse, input = Json)]
pub async fn save_sla_policy(
    id: Option<Uuid>,
    policy: SlaPolicyInput,
) -> Result<SlaPolicy, ApiError> {
    use super::context::{origin, require_session, respond, state};
    use crate::server::sla::admin;
    let (state, caller, origin) = (state()?, require_session()?, origin());
    let p = &caller.principal;
    respond(match id {
        Some(id) => admin::update_policy(&state, p, id, policy, &origin).await,
        None => admin::create_policy(&state, p, policy, &origin).await,
    })
}

#[server(prefix = "/api", endpoint = "delete_sla_policy", output = crate::api::JsonResponse, input = Json)]
pub async fn delete_sla_policy(id: Uuid) -> Result<(), ApiError> {
    use super::context::{origin, require_session, respond, state};
    let (state, caller, origin) = (state()?, require_session()?, origin());
    respond(crate::server::sla::admin::delete_policy(&state, &caller.principal, id, &origin).await)
}

#[server(prefix = "/api", endpoint = "reorder_sla_policies", output = crate::api::JsonResponse, input = Json)]
pub async fn reorder_sla_policies(order: PolicyOrder) -> Result<Vec<SlaPolicy>, ApiError> {
    use super::context::{origin, require_session, respond, state};
    let (state, caller, origin) = (state()?, require_session()?, origin());
    respond(crate::server::sla::admin::reorder(&state, &caller.principal, order, &origin).await)
}

/// What a ticket created now would get under the policy being edited.
#[server(prefix = "/api", endpoint = "simulate_sla_policy", output = crate::api::JsonResponse, input = Json)]
pub async fn simulate_sla_policy(policy: SlaPolicyInput) -> Result<SimulatedDue, ApiError> {
    use super::context::{require_session, respond, state};
    let (state, caller) = (state()?, require_session()?);
    respond(
        crate::server::sla::simulate_policy(&state, &caller.principal, policy, chrono::Utc::now())
            .await,
    )
}

/// The ticket page's SLA panel (staff who read all tickets).
#[server(prefix = "/api", endpoint = "load_ticket_sla", output = crate::api::JsonResponse)]
pub async fn load_ticket_sla(id: Uuid) -> Result<TicketSla, ApiError> {
    use super::context::{require_session, respond, state};
    let (state, caller) = (state()?, require_session()?);
    respond(crate::server::sla::ticket_sla(&state, &caller.principal, id).await)
}
