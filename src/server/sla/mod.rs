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
///
/// A usual ticket takes microseconds, but the worst request the bounds
/// allow (a calendar open a few minutes a day, targets of a year, 200
/// events) walks three years of days per clock: tens of milliseconds
/// (docs/PERFORMANCE.md, "SLA clock"), so it runs on the blocking pool,
/// not on a thread that serves other requests.
pub async fn simulate(
    caller: &Principal,
    request: SimulationRequest,
    server_now: DateTime<Utc>,
) -> AppResult<SlaReport> {
    caller.require(Capability::ManageSla)?;
    let simulation = validate(request)?;
    let now = simulation.now_or(server_now);
    let report = tokio::task::spawn_blocking(move || {
        evaluate(
            &simulation.calendar,
            &simulation.targets,
            &simulation.events,
            now,
        )
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(report)
}
