//! Desk setup and routing for the browser: what the forms offer, the
//! ticket's routing fields, assignment, canned responses, managers' ratings
//! of agents, saved views and bulk changes. Thin shells over the services.

use crate::domain::ApiError;
use crate::domain::desk::{CannedResponse, Category, CustomField, SavedView, Team};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Someone a ticket can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignable {
    pub id: Uuid,
    pub name: String,
}

/// Everything the desk's forms choose from. Customers get the categories
/// and the custom fields shown to them; the rest stays empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeskOptions {
    pub categories: Vec<Category>,
    pub fields: Vec<CustomField>,
    pub teams: Vec<Team>,
    pub agents: Vec<Assignable>,
    pub canned: Vec<CannedResponse>,
    pub views: Vec<SavedView>,
}

#[cfg(feature = "ssr")]
fn parse_id(raw: &str, field: &str) -> Result<Option<Uuid>, ApiError> {
    use crate::domain::FieldErrors;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let mut errs = FieldErrors::new();
    let id = Uuid::parse_str(raw).ok();
    errs.check(id.is_some(), field, "Choose from the list");
    errs.into_result()
        .map_err(super::context::reject)
        .map(|()| id)
}

#[server(prefix = "/api", endpoint = "load_desk_options", output = crate::api::JsonResponse)]
pub async fn load_desk_options() -> Result<DeskOptions, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::domain::Capability;
    use crate::domain::policy::permits;
    use crate::server::{desk, users};

    let state = state()?;
    let caller = require_session()?.principal;
    let mut options = DeskOptions {
        categories: respond(desk::categories(&state, &caller).await)?,
        fields: respond(desk::custom_fields(&state, &caller).await)?,
        ..DeskOptions::default()
    };
    if caller.may(Capability::ReadDeskSetup) {
        options.teams = respond(desk::teams(&state, &caller).await)?;
        options.canned = respond(desk::canned_responses(&state, &caller).await)?;
        options.views = respond(desk::saved_views(&state, &caller).await)?;
        let (people, _) =
            respond(users::list(&state, &caller, None, None, users::MAX_USER_PAGE).await)?;
        options.agents = people
            .into_iter()
            .filter(|u| u.active && permits(u.role, Capability::ChangeTicketFields))
            .map(|u| Assignable {
                id: u.id,
                name: u.name,
            })
            .collect();
    }
    Ok(options)
}

/// The ticket page's routing form: severity, category, team and custom
/// fields (`cf.<key>`). Multipart, since a multi-select sends its key once
/// per choice. An empty choice clears the field.
#[server(prefix = "/api", endpoint = "update_ticket_fields", output = crate::api::JsonResponse, input = MultipartFormData)]
#[middleware(crate::server::uploads::RequireMultipart)]
pub async fn update_ticket_fields(data: MultipartData) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::domain::FieldErrors;
    use crate::domain::ticket::Severity;
    use crate::engine::ticket_change::TicketPatch;
    use crate::server::{desk, tickets};

    let state = state()?;
    let caller = require_session()?.principal;
    let form = super::tickets::read_form(&state, data).await?;
    let id = super::tickets::ticket_id(form.text("ticket_id").unwrap_or_default())?;
    let fields = respond(desk::custom_fields(&state, &caller).await)?;
    let mut errs = FieldErrors::new();
    let severity = form
        .text("severity")
        .map(|s| errs.parse("severity", Some(s), Severity::parse));
    respond(errs.into_result().map_err(Into::into))?;
    let patch = TicketPatch {
        severity,
        category_id: form
            .text("category_id")
            .map(|raw| parse_id(raw, "category_id"))
            .transpose()?,
        team_id: form
            .text("team_id")
            .map(|raw| parse_id(raw, "team_id"))
            .transpose()?,
        custom_fields: Some(super::tickets::custom_values_from_form(&fields, &form)),
        ..TicketPatch::default()
    };
    respond(tickets::update(&state, &caller, id, patch, &origin()).await)?;
    Ok(())
}

/// Assigns to an agent, to a team, or automatically within the team.
#[server(prefix = "/api", endpoint = "assign_ticket", output = crate::api::JsonResponse)]
pub async fn assign_ticket(
    ticket_id: String,
    assignee_id: Option<String>,
    team_id: Option<String>,
    auto: Option<String>,
) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets::{self, AssignRequest};

    let state = state()?;
    let caller = require_session()?.principal;
    let id = super::tickets::ticket_id(&ticket_id)?;
    let request = AssignRequest {
        assignee_id: assignee_id
            .map(|raw| parse_id(&raw, "assignee_id"))
            .transpose()?,
        team_id: team_id.map(|raw| parse_id(&raw, "team_id")).transpose()?,
        auto: auto.is_some(),
    };
    respond(tickets::assign(&state, &caller, id, request, &origin()).await)?;
    Ok(())
}

/// A manager rates how the assignee handled the ticket.
#[server(prefix = "/api", endpoint = "rate_agent", output = crate::api::JsonResponse)]
pub async fn rate_agent(ticket_id: String, score: String, comment: String) -> Result<(), ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = super::tickets::ticket_id(&ticket_id)?;
    let score = score.trim().parse::<i64>().unwrap_or(0);
    respond(tickets::rate_agent(&state, &caller, id, None, score, &comment).await)?;
    Ok(())
}

/// A canned response filled in for the ticket, to put in the reply box.
#[server(prefix = "/api", endpoint = "fill_canned", output = crate::api::JsonResponse)]
pub async fn fill_canned(ticket_id: String, canned_id: String) -> Result<String, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = super::tickets::ticket_id(&ticket_id)?;
    let canned = super::tickets::ticket_id(&canned_id)?;
    respond(tickets::render_canned(&state, &caller, canned, id).await)
}

/// Saves the queue's current filters under a name.
#[server(prefix = "/api", endpoint = "save_view", output = crate::api::JsonResponse)]
pub async fn save_view(name: String, query: String) -> Result<(), ApiError> {
    use super::context::{require_session, respond, state};
    let state = state()?;
    let caller = require_session()?.principal;
    respond(crate::server::desk::create_saved_view(&state, &caller, &name, &query).await)?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_view", output = crate::api::JsonResponse)]
pub async fn delete_view(view_id: String) -> Result<(), ApiError> {
    use super::context::{require_session, respond, state};
    let state = state()?;
    let caller = require_session()?.principal;
    let id = super::tickets::ticket_id(&view_id)?;
    respond(crate::server::desk::delete_saved_view(&state, &caller, id).await)
}

/// The queue's bulk bar: the ticked tickets (`ticket_ids`, once each) get
/// the chosen status, priority, assignee and/or tag. Fails (409) naming the
/// tickets that refused, after changing the others.
#[server(prefix = "/api", endpoint = "bulk_update", output = crate::api::JsonResponse, input = MultipartFormData)]
#[middleware(crate::server::uploads::RequireMultipart)]
pub async fn bulk_update(data: MultipartData) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{reject, require_session, respond, state};
    use crate::domain::ticket::{Priority, TicketStatus};
    use crate::domain::{ErrorKind, FieldErrors};
    use crate::server::tickets::{self, BulkChange};

    let state = state()?;
    let caller = require_session()?.principal;
    let form = super::tickets::read_form(&state, data).await?;
    let chosen = |name: &str| form.text(name).map(str::trim).filter(|v| !v.is_empty());
    let ids: Vec<Uuid> = form
        .texts("ticket_ids")
        .into_iter()
        .filter_map(|raw| Uuid::parse_str(raw).ok())
        .collect();
    let mut errs = FieldErrors::new();
    let change = BulkChange {
        status: errs.parse("status", chosen("status"), TicketStatus::parse),
        priority: errs.parse("priority", chosen("priority"), Priority::parse),
        assignee_id: match chosen("assignee_id") {
            None => None,
            Some("none") => Some(None),
            Some(raw) => Some(parse_id(raw, "assignee_id")?),
        },
        add_tags: chosen("add_tag").map(str::to_owned).into_iter().collect(),
    };
    respond(errs.into_result().map_err(Into::into))?;
    let outcomes = respond(tickets::bulk_update(&state, &caller, &ids, change, &origin()).await)?;
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| e.error.clone()))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(reject(ApiError::new(
            ErrorKind::Conflict,
            format!(
                "{} of {} tickets were not changed: {}",
                failed.len(),
                outcomes.len(),
                failed.join("; ")
            ),
        )))
    }
}

/// The ticket after `ticket_id` in the All open queue (oldest first), for
/// the "next ticket" shortcut.
#[server(prefix = "/api", endpoint = "next_ticket", output = crate::api::JsonResponse)]
pub async fn next_ticket(ticket_id: String) -> Result<Option<Uuid>, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::ticket_query::{self, ListQuery};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = super::tickets::ticket_id(&ticket_id)?;
    let current = respond(tickets::get(&state, &caller, id).await)?;
    let query = ListQuery {
        sort: Some("created_at".into()),
        limit: Some("1".into()),
        ..ListQuery::default()
    };
    let (mut filter, _) = ticket_query::parse(&query, &caller).map_err(super::context::reject)?;
    filter.after = Some((current.created_at, current.id));
    filter.limit = 1;
    let next = respond(tickets::list(&state, &caller, filter).await)?;
    Ok(next.first().map(|t| t.id))
}
