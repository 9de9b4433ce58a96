//! Service levels. For now the simulator: a calendar and targets are tried
//! on a ticket's events before they are used, with the same clock
//! (`engine::sla::evaluate`) that will compute real tickets. Managers and
//! administrators (`ManageSla`); nothing is read or written.

use crate::domain::Capability;
use crate::engine::sla::simulation::{SimulationRequest, validate};
use crate::engine::sla::{SlaReport, evaluate};
use crate::server::auth::Principal;
use crate::server::error::AppResult;
use chrono::{DateTime, Utc};

/// Evaluates the request's events as of its `now` (by default
/// `server_now`, or its last event if that is later).
pub fn simulate(
    caller: &Principal,
    request: SimulationRequest,
    server_now: DateTime<Utc>,
) -> AppResult<SlaReport> {
    caller.require(Capability::ManageSla)?;
    let simulation = validate(request)?;
    let now = simulation.now_or(server_now);
    Ok(evaluate(
        &simulation.calendar,
        &simulation.targets,
        &simulation.events,
        now,
    ))
}
