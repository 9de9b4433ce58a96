//! Service levels as the API and the pages exchange them: business
//! calendars and ordered policies (what admins and managers set up), and a
//! ticket's SLA as staff read it (which policy applied and why, due times,
//! breaches, the timeline). The clock itself is `engine::sla` (server only:
//! the time-zone database stays out of the WASM bundle).

use crate::domain::desk::{Category, Company, Team};
use crate::domain::ticket::Priority;
use crate::domain::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

wire_enum!(
    /// Where a ticket's SLA stands: every pending target within time,
    /// one past its warning threshold, or a target breached.
    SlaState {
        Ok => "ok",
        Warning => "warning",
        Breached => "breached",
    }
);

/// A business calendar, in the simulator's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlaCalendar {
    pub id: Uuid,
    pub name: String,
    /// IANA zone, e.g. `Europe/Berlin`; null when always open.
    pub timezone: Option<String>,
    pub always_open: bool,
    /// `mon` … `sun`: intervals `["HH:MM", "HH:MM"]` in local wall-clock
    /// time; `"24:00"` ends a day.
    pub hours: BTreeMap<String, Vec<Vec<String>>>,
    /// `YYYY-MM-DD` once, `MM-DD` every year.
    pub holidays: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A calendar to create or replace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"name": "Business hours",
    "timezone": "Europe/Berlin", "hours": {"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]]},
    "holidays": ["12-25", "2026-12-24"]})))]
pub struct SlaCalendarInput {
    #[serde(default)]
    pub name: String,
    pub timezone: Option<String>,
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<Vec<String>>>,
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Default true.
    pub active: Option<bool>,
}

/// Which tickets a policy applies to: each list names the allowed values,
/// and an empty list allows any. A ticket matches when every list does
/// (`tags`: the ticket has at least one of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyConditions {
    #[serde(default)]
    pub priority: Vec<String>,
    #[serde(default)]
    pub severity: Vec<String>,
    #[serde(default)]
    pub category: Vec<Uuid>,
    #[serde(default)]
    pub team: Vec<Uuid>,
    #[serde(default)]
    pub channel: Vec<String>,
    #[serde(default)]
    pub company: Vec<Uuid>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// An SLA policy: conditions, a calendar, targets and what a breach does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlaPolicy {
    pub id: Uuid,
    pub name: String,
    /// 1 is tried first.
    pub position: i64,
    pub active: bool,
    pub calendar_id: Uuid,
    pub conditions: PolicyConditions,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// Count the calendar's open minutes (true) or all minutes.
    pub business_hours: bool,
    /// The share of a target after which the ticket is in warning.
    pub warning_percent: i64,
    /// On breach: raise the priority to this.
    pub raise_priority: Option<Priority>,
    /// On breach: hand the ticket to this team.
    pub reassign_team_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A policy to create or replace. A new policy goes last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"name": "Urgent",
    "calendar_id": "0193f4a2-0000-7000-8000-000000000000",
    "conditions": {"priority": ["urgent"]},
    "first_response_minutes": 60, "next_response_minutes": 240, "resolution_minutes": 480})))]
pub struct SlaPolicyInput {
    #[serde(default)]
    pub name: String,
    /// Default true.
    pub active: Option<bool>,
    pub calendar_id: Option<Uuid>,
    #[serde(default)]
    pub conditions: PolicyConditions,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    #[serde(default = "default_true")]
    pub business_hours: bool,
    /// 1–99, default 75.
    pub warning_percent: Option<i64>,
    /// `low` … `urgent`.
    pub raise_priority: Option<String>,
    pub reassign_team_id: Option<Uuid>,
}

impl Default for SlaPolicyInput {
    fn default() -> Self {
        SlaPolicyInput {
            name: String::new(),
            active: None,
            calendar_id: None,
            conditions: PolicyConditions::default(),
            first_response_minutes: None,
            next_response_minutes: None,
            resolution_minutes: None,
            business_hours: true,
            warning_percent: None,
            raise_priority: None,
            reassign_team_id: None,
        }
    }
}

fn default_true() -> bool {
    true
}

pub const DEFAULT_WARNING_PERCENT: i64 = 75;

/// The largest iCalendar file a holiday import reads (a year of public
/// holidays of several regions is a few kilobytes). The page checks it
/// before reading the file; the server checks it again.
pub const MAX_ICAL_BYTES: usize = 256 * 1024;

/// What an iCalendar import added to a calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayImport {
    /// The calendar with its holidays now.
    pub calendar: SlaCalendar,
    /// The holidays it did not have before, in file order.
    pub added: Vec<String>,
    /// Events with a time of day (not holidays), skipped.
    pub skipped: usize,
}

/// What a policy's conditions and breach action choose from: the
/// organization's categories, teams and customer companies, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChoices {
    pub categories: Vec<Category>,
    pub teams: Vec<Team>,
    pub companies: Vec<Company>,
}

/// The new order of the organization's policies: every policy's id, first
/// tried first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyOrder {
    #[serde(default)]
    pub ids: Vec<Uuid>,
}

/// What a ticket created at `created_at` would get under a policy: the
/// policy page's simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatedDue {
    pub created_at: DateTime<Utc>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
}

/// A policy by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyRef {
    pub id: Uuid,
    pub name: String,
}

/// The calendar a ticket's clock runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarSummary {
    pub id: Uuid,
    pub name: String,
    pub timezone: Option<String>,
    pub always_open: bool,
    /// Whether the targets count the calendar's open minutes.
    pub business_hours: bool,
}

/// A breach as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlaBreachView {
    /// `first_response`, `next_response` or `resolution`.
    pub target: String,
    pub due_at: DateTime<Utc>,
    pub breached_at: DateTime<Utc>,
}

/// One step of a target's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlaTimelineEntry {
    pub at: DateTime<Utc>,
    /// `first_response`, `next_response` or `resolution`.
    pub target: String,
    /// `started`, `paused`, `resumed`, `met`, `breached` or `stopped`.
    pub event: String,
    pub due_at: Option<DateTime<Utc>>,
    /// Time left when the resolution clock paused or stopped (negative:
    /// overdue).
    pub remaining_minutes: Option<i64>,
}

/// A ticket's SLA as staff see it (`GET /api/v1/tickets/{id}/sla`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TicketSla {
    /// The policy that applies; null when none matches.
    pub policy: Option<PolicyRef>,
    /// Why it applies: its conditions, e.g. `priority = urgent`.
    pub matched: Vec<String>,
    pub calendar: Option<CalendarSummary>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub next_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub first_response_met: Option<bool>,
    pub resolution_met: Option<bool>,
    /// The earliest pending due time, and when the warning threshold is
    /// (or was) reached.
    pub due_at: Option<DateTime<Utc>>,
    pub warning_at: Option<DateTime<Utc>>,
    pub state: Option<SlaState>,
    /// Minutes until `due_at` (negative: overdue), as of the read.
    pub remaining_minutes: Option<i64>,
    pub breaches: Vec<SlaBreachView>,
    pub timeline: Vec<SlaTimelineEntry>,
}
