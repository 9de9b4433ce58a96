//! Service levels: the simulator (a calendar and targets tried on a
//! ticket's events with the clock that computes real tickets), calendars
//! and policies (`admin`), the SLA of real tickets, kept in the change path
//! (`track`), the timers that warn and record breaches (`timers`), and a
//! ticket's SLA as staff read it (`ticket_sla`), and the walk over the open
//! tickets after a policy or calendar change (`reevaluate`).

pub mod admin;
pub(crate) mod reevaluate;
mod timers;
pub mod track;

pub use reevaluate::Reevaluation;
pub use timers::{SlaBreaches, SlaWarnings, breach_reason, is_breach_reason};
pub use track::reevaluate_ticket;

use crate::domain::sla::{
    CalendarSummary, PolicyRef, SimulatedDue, SlaBreachView, SlaPolicyInput, SlaTimelineEntry,
    TicketSla,
};
use crate::domain::{ApiError, Capability};
use crate::engine::sla::simulation::{
    CalendarSpec, EventSpec, SimulationRequest, TargetsSpec, validate,
};
use crate::engine::sla::{SlaReport, evaluate};
use crate::server::auth::Principal;
use crate::server::db::sla as store;
use crate::server::db::tickets;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use uuid::Uuid;

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

/// What a ticket created `now` would get under a policy being edited: its
/// calendar (stored; another organization's is not found) and its targets,
/// through the simulator, so the policy page shows exactly what the clock
/// of real tickets will do.
pub async fn simulate_policy(
    state: &AppState,
    caller: &Principal,
    policy: SlaPolicyInput,
    now: DateTime<Utc>,
) -> AppResult<SimulatedDue> {
    caller.require(Capability::ManageSla)?;
    let Some(calendar_id) = policy.calendar_id else {
        let field = ("calendar_id".to_string(), "Choose a calendar".to_string());
        return Err(ApiError::validation([field].into()).into());
    };
    let calendar = admin::calendar(state, caller, calendar_id).await?;
    let request = SimulationRequest {
        calendar: CalendarSpec {
            timezone: calendar.timezone,
            hours: calendar.hours,
            holidays: calendar.holidays,
            always_open: calendar.always_open,
        },
        targets: TargetsSpec {
            first_response_minutes: policy.first_response_minutes,
            next_response_minutes: policy.next_response_minutes,
            resolution_minutes: policy.resolution_minutes,
            business_hours: policy.business_hours,
        },
        events: vec![EventSpec {
            at: now.to_rfc3339(),
            kind: "created".into(),
            status: None,
        }],
        now: Some(now.to_rfc3339()),
    };
    let report = simulate(caller, request, now).await?;
    Ok(SimulatedDue {
        created_at: now,
        first_response_due_at: report.first_response_due_at,
        resolution_due_at: report.resolution_due_at,
    })
}

/// A ticket's SLA for staff who read all tickets: the policy that applies
/// and why, its calendar, due times and verdicts as of now, the recorded
/// breaches and the clock's timeline. Another organization's ticket is
/// not found; a customer's own ticket is forbidden (the SLA is internal).
pub async fn ticket_sla(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<TicketSla> {
    crate::server::tickets::get(state, caller, id).await?;
    caller.require(Capability::ReadAllTickets)?;
    let org = caller.org();
    let row = tickets::find(&state.db, org, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = Utc::now();
    let org_sla = track::org_sla(&state.db, org).await?;
    let breaches = store::breaches(&state.db, id)
        .await?
        .into_iter()
        .map(|(target, due_at, breached_at)| SlaBreachView {
            target,
            due_at,
            breached_at,
        })
        .collect();
    let Some(applies) = track::applies(&org_sla, &row) else {
        return Ok(TicketSla {
            breaches,
            ..TicketSla::default()
        });
    };
    let events = store::history(&state.db, id, row.created_at).await?;
    let (report, standing) = track::evaluate_with(&applies, &events, now.max(row.created_at));
    let (calendar, _) = applies.calendar;
    let due_at = standing.due_at();
    Ok(TicketSla {
        policy: Some(PolicyRef {
            id: applies.policy.id,
            name: applies.policy.name.clone(),
        }),
        matched: applies.matched.clone(),
        calendar: Some(CalendarSummary {
            id: calendar.id,
            name: calendar.name.clone(),
            timezone: calendar.timezone.clone(),
            always_open: calendar.always_open,
            business_hours: applies.policy.business_hours,
        }),
        first_response_due_at: report.first_response_due_at,
        next_response_due_at: report.next_response_due_at,
        resolution_due_at: report.resolution_due_at,
        first_response_met: report.first_response_met,
        resolution_met: report.resolution_met,
        due_at,
        warning_at: standing.warning_at(),
        state: Some(standing.state),
        remaining_minutes: due_at.map(|due| (due - now).num_minutes()),
        breaches,
        timeline: report
            .timeline
            .iter()
            .map(|e| SlaTimelineEntry {
                at: e.at,
                target: e.target.as_str().to_owned(),
                event: e.event.as_str().to_owned(),
                due_at: e.due_at,
                remaining_minutes: e.remaining_minutes,
            })
            .collect(),
    })
}
