//! Staff availability: who of the desk is online, away or offline (and
//! since when), and the desk's pulse a manager's home shows with it.
//! `engine::availability` decides a person's availability from when they
//! were last seen; docs/LIVE.md ("Availability") says what each means.

use super::{Role, wire_enum};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The roles whose availability the pulse shows: the people who work
/// tickets at the desk.
pub const DESK_STAFF: &[Role] = &[Role::Agent, Role::Manager];

wire_enum! {
    /// Whether a person of the desk is there: online (seen within the
    /// grace period: a tab of theirs is open, or they acted), away (online,
    /// and they said they are away) or offline (not seen within it).
    Availability {
        Online => "online",
        Away => "away",
        Offline => "offline",
    }
}

impl Availability {
    /// How the UI says it.
    pub fn label(self) -> &'static str {
        match self {
            Availability::Online => "Online",
            Availability::Away => "Away",
            Availability::Offline => "Offline",
        }
    }
}

/// One person of the desk and their availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StaffAvailability {
    pub user_id: Uuid,
    pub name: String,
    pub role: Role,
    pub availability: Availability,
    /// Online: since they came online; away: since they said so; offline:
    /// when they were last seen (null: never).
    pub since: Option<DateTime<Utc>>,
}

/// The desk at a glance: its people and four counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeskPulse {
    /// The organization's active agents and managers, by name.
    pub staff: Vec<StaffAvailability>,
    /// Tickets not resolved or closed.
    pub open_tickets: i64,
    /// Open tickets without an assignee.
    pub unassigned: i64,
    /// SLA breaches since the start of today (UTC).
    pub breaches_today: i64,
    /// Agents online (not away).
    pub agents_online: i64,
}
