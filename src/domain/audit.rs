//! The organization's audit log as the API and the admin page see it: what
//! was changed (an owner: a ticket, a user, a setting…), by whom, through
//! what and from where. Rows are written by the server inside the change's
//! transaction (`server::audit`).

use crate::domain::event::Source;
use crate::domain::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum! {
    /// What an audit row (or an attachment) belongs to. Stored as text
    /// without a CHECK list: a new kind of owner is one line here. `user`:
    /// a person's account, role, sign-ins; `setting`: desk setup (teams,
    /// skills, categories, custom fields, companies, canned responses),
    /// owner_id the setting's id, the field saying which kind (`team`,
    /// `team.name`…).
    OwnerType {
        Ticket => "ticket",
        User => "user",
        Setting => "setting",
        WorkOrder => "work_order",
        ServiceReport => "service_report",
    }
}

impl OwnerType {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            OwnerType::Ticket => "Ticket",
            OwnerType::User => "User",
            OwnerType::Setting => "Setting",
            OwnerType::WorkOrder => "Work order",
            OwnerType::ServiceReport => "Service report",
        }
    }
}

/// One audit row: one changed field, or one action (`sign_in`,
/// `sign_in_failed`, `sign_out`, `attachment`…), of one owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: Uuid,
    pub owner_type: OwnerType,
    /// The owner's id (a ticket, user or setting id).
    pub owner_id: Option<Uuid>,
    /// None for the system, or for nobody signed in (a failed sign-in).
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub source: Source,
    /// The changed field or the action.
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    /// The client's address, where the change came from a request.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A page of the log, newest first; `next_cursor` continues it (None on the
/// last page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The log's filters as a client sends them (`GET /api/v1/audit?…` and the
/// admin page's server function): text as typed, checked by the server with
/// a message per field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct AuditQuery {
    /// Only rows of this kind of owner.
    #[cfg_attr(feature = "ssr", param(value_type = Option<OwnerType>))]
    pub owner_type: Option<String>,
    /// Only rows of this owner (a ticket, user or setting id).
    #[cfg_attr(feature = "ssr", param(value_type = Option<Uuid>))]
    pub owner_id: Option<String>,
    /// Only what this user did.
    #[cfg_attr(feature = "ssr", param(value_type = Option<Uuid>))]
    pub actor_id: Option<String>,
    /// On or after: a date (`2026-11-24`, UTC) or an RFC 3339 time.
    pub from: Option<String>,
    /// On or before: a date (the whole day) or an RFC 3339 time.
    pub to: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[cfg_attr(feature = "ssr", param(value_type = Option<u32>, minimum = 1, maximum = 100))]
    pub limit: Option<String>,
}
