//! Staff availability for the UI: the manager's pulse and the top bar's
//! away toggle (the same services as `/api/v1/desk/pulse` and
//! `/api/v1/users/me/availability`).

use crate::domain::ApiError;
use crate::domain::availability::{DeskPulse, StaffAvailability};
use leptos::prelude::*;

/// The desk's people with their availability, and its counters.
#[server(prefix = "/api", endpoint = "load_desk_pulse", output = crate::api::JsonResponse)]
pub async fn load_desk_pulse() -> Result<DeskPulse, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::availability;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(availability::pulse(&state, &caller).await)
}

/// Whether the caller is away. Loaded on every page by the top bar's
/// toggle, it also marks the caller seen (they have a page open).
#[server(prefix = "/api", endpoint = "load_away", output = crate::api::JsonResponse)]
pub async fn load_away() -> Result<bool, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::availability;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(availability::is_away(&state, &caller).await)
}

/// The caller says they are away (`true`) or back (`false`).
#[server(prefix = "/api", endpoint = "set_away", output = crate::api::JsonResponse)]
pub async fn set_away(away: bool) -> Result<StaffAvailability, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::availability;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(availability::set_away(&state, &caller, away).await)
}
