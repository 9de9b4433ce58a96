//! Who works a ticket: assignment (named, by team, or automatic by the
//! team's strategy), managers' ratings of the agents' handling, and canned
//! responses filled from the ticket.

use super::change::{Extras, change};
use super::{check_assignee, check_team, load_visible};
use crate::domain::desk::AgentRating;
use crate::domain::event::DomainEvent;
use crate::domain::ticket::{Ticket, display_number};
use crate::domain::{ApiError, Capability, FieldErrors};
use crate::engine::assignment::{self, NoCandidate};
use crate::engine::placeholders;
use crate::engine::ticket_change::{TicketPatch, plan_update};
use crate::server::audit::Origin;
use crate::server::auth::Principal;
use crate::server::db::tickets::TicketRow;
use crate::server::db::{desk, users};
use crate::server::error::{AppError, AppResult};
use crate::server::state::AppState;
use chrono::Utc;
use uuid::Uuid;

/// `POST /tickets/{id}/assign`: an agent (`assignee_id`, null unassigns), a
/// team (`team_id`), or automatic assignment (`auto`) within the named team,
/// the ticket's team, or its category's team, by the team's strategy.
#[derive(Debug, Default)]
pub struct AssignRequest {
    pub assignee_id: Option<Option<Uuid>>,
    pub team_id: Option<Option<Uuid>>,
    pub auto: bool,
}

pub(super) fn refuse(field: &str, message: &str) -> AppError {
    let mut errs = FieldErrors::new();
    errs.add(field, message);
    errs.into_result().unwrap_err().into()
}

pub async fn assign(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    request: AssignRequest,
    origin: &Origin,
) -> AppResult<Ticket> {
    // Visibility, then capability, then the input.
    let row = load_visible(state, caller, id).await?;
    caller.require(Capability::ChangeTicketFields)?;
    let org = caller.org();
    let nothing = request.assignee_id.is_none() && request.team_id.is_none() && !request.auto;
    if nothing {
        return Err(refuse(
            "assignee_id",
            "Name the agent (assignee_id), the team (team_id), or ask for auto: true",
        ));
    }
    if request.auto && request.assignee_id.is_some() {
        return Err(refuse(
            "auto",
            "Either name the agent or ask for automatic assignment, not both",
        ));
    }
    let mut errs = FieldErrors::new();
    let team = match request.team_id {
        Some(Some(team)) => check_team(state, org, team, &mut errs).await?,
        _ => None,
    };
    if let Some(Some(assignee)) = request.assignee_id {
        check_assignee(state, org, assignee, &mut errs).await?;
    }
    errs.into_result()?;
    let mut patch = TicketPatch {
        assignee_id: request.assignee_id,
        team_id: request.team_id,
        ..TicketPatch::default()
    };
    let members = team.as_ref().map(|t| t.team.member_ids.clone());
    let mut picked = None;
    if request.auto {
        let (team, skill) = auto_team(state, org, &row, team).await?;
        let candidates = desk::candidates(&state.db, org, team.team.id, skill).await?;
        let chosen = assignment::pick(
            team.team.assignment,
            &candidates,
            team.last_assignee_id,
            skill.is_some(),
        )
        .map_err(|why| match why {
            NoCandidate::EmptyTeam => refuse("team_id", "This team has no active agents"),
            NoCandidate::NoSkill => refuse(
                "team_id",
                "Nobody in this team has the skill this ticket's category needs",
            ),
        })?;
        patch.team_id = Some(Some(team.team.id));
        patch.assignee_id = Some(Some(chosen));
        picked = Some((team.team.id, chosen));
    }
    let now = Utc::now();
    let role = caller.acting_role();
    let (ticket, _) = change(
        state,
        caller,
        id,
        origin,
        DomainEvent::TicketAssigned,
        Extras::default(),
        |row| {
            let mut patch = patch.clone();
            // A new team without a named agent: keep the agent only if they are in it.
            if let (Some(members), None) = (&members, patch.assignee_id)
                && row.assignee_id.is_some_and(|a| !members.contains(&a))
            {
                patch.assignee_id = Some(None);
            }
            plan_update(&row.state(), &patch, role, &[], now)
        },
    )
    .await?;
    if let Some((team, agent)) = picked {
        // Round-robin's turn; outside the ticket's transaction, so two
        // simultaneous picks may both go to the same agent (never lost).
        desk::set_last_assignee(&state.db, team, agent).await?;
    }
    Ok(ticket)
}

/// The team automatic assignment picks from, and the skill the ticket's
/// category asks for.
async fn auto_team(
    state: &AppState,
    org: Uuid,
    row: &TicketRow,
    named: Option<desk::TeamRecord>,
) -> AppResult<(desk::TeamRecord, Option<Uuid>)> {
    let category = match row.category_id {
        Some(id) => desk::find_category(&state.db, org, id).await?,
        None => None,
    };
    let skill = category.as_ref().and_then(|c| c.skill_id);
    if let Some(team) = named {
        return Ok((team, skill));
    }
    let team_id = row.team_id.or(category.and_then(|c| c.team_id));
    let team = match team_id {
        Some(id) => desk::find_team(&state.db, org, id).await?,
        None => None,
    };
    let team = team.ok_or_else(|| {
        refuse(
            "team_id",
            "The ticket has no team; name the team to assign within",
        )
    })?;
    Ok((team, skill))
}

/// A manager's 1–5 rating of how an agent handled a ticket (the assignee
/// unless another agent is named). Rating again replaces the rating.
pub async fn rate_agent(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    agent_id: Option<Uuid>,
    score: i64,
    comment: &str,
) -> AppResult<AgentRating> {
    let row = load_visible(state, caller, id).await?;
    caller.require(Capability::RateAgents)?;
    let rated_by = caller.person()?.id;
    let mut errs = FieldErrors::new();
    match agent_id.or(row.assignee_id) {
        Some(agent) => check_assignee(state, caller.org(), agent, &mut errs).await?,
        None => errs.add("agent_id", "The ticket has no assignee; name the agent"),
    }
    crate::domain::ticket::check_rating(&mut errs, score, comment);
    errs.into_result()?;
    let rating = AgentRating {
        ticket_id: row.id,
        agent_id: agent_id.or(row.assignee_id).unwrap_or_default(),
        rated_by,
        score: score as i32,
        comment: Some(comment.trim().to_owned()).filter(|c| !c.is_empty()),
        created_at: Utc::now(),
    };
    desk::upsert_agent_rating(&state.db, caller.org(), &rating).await?;
    Ok(rating)
}

/// Managers' ratings of the agents on a ticket (never shown to customers).
pub async fn agent_ratings(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> AppResult<Vec<AgentRating>> {
    let row = load_visible(state, caller, id).await?;
    caller.require(Capability::ReadInternalNotes)?;
    Ok(desk::agent_ratings(&state.db, caller.org(), row.id).await?)
}

/// A canned response with its placeholders filled from ticket `id`.
pub async fn render_canned(
    state: &AppState,
    caller: &Principal,
    canned_id: Uuid,
    id: Uuid,
) -> AppResult<String> {
    let row = load_visible(state, caller, id).await?;
    caller.require(Capability::WriteInternalNotes)?;
    let canned = desk::find_canned_response(&state.db, caller.org(), canned_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let requester = users::find_in_org(&state.db, caller.org(), row.requester_id).await?;
    let (name, email) = requester.map(|u| (u.name, u.email)).unwrap_or_default();
    Ok(placeholders::fill(&canned.body, |placeholder| {
        Some(match placeholder {
            "customer.name" => name.clone(),
            "customer.first_name" => placeholders::first_name(&name).to_owned(),
            "customer.email" => email.clone(),
            "ticket.number" => display_number(row.number),
            "ticket.subject" => row.subject.clone(),
            "agent.name" => caller.display_name().to_owned(),
            _ => return None,
        })
    }))
}
