//! Changing one ticket: the loop every change takes (read, plan with the
//! engine, store in one transaction guarded by the row's version, re-plan
//! when another writer got there first), the changes made with it, and
//! bulk changes from a queue.

use super::{MAX_ATTEMPTS, check_assignee, check_category, check_team, load_visible, shown_to};
use crate::domain::event::{ChangeEvent, DomainEvent};
use crate::domain::ticket::{
    Comment, Priority, Ticket, TicketStatus, normalize_tags, validate_comment_body,
};
use crate::domain::{ApiError, Capability, ErrorKind, FieldErrors};
use crate::engine::ticket_change::{
    Plan, TicketPatch, may_patch, plan_comment, plan_deletion, plan_escalation, plan_rating,
    plan_update,
};
use crate::server::audit::Origin;
use crate::server::auth::Principal;
use crate::server::db::attachments::NewAttachment;
use crate::server::db::desk;
use crate::server::db::tickets::{self, Change, NewComment, TicketRow};
use crate::server::error::{AppError, AppResult};
use crate::server::state::AppState;
use chrono::Utc;
use uuid::Uuid;

pub(super) fn lost_race() -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        "The ticket changed while you were saving; reload and try again",
    )
}

/// What a change carries besides field updates.
#[derive(Default, Clone, Copy)]
pub(super) struct Extras<'a> {
    pub(super) comment: Option<NewComment<'a>>,
    pub(super) attachments: &'a [NewAttachment],
}

/// Loads, plans and stores a change, re-planning if another writer got there
/// first. Returns the stored ticket and, for replies, the stored message.
pub(super) async fn change(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    origin: &Origin,
    event: ChangeEvent,
    extras: Extras<'_>,
    plan: impl Fn(&TicketRow) -> Result<Plan, ApiError>,
) -> AppResult<(Ticket, Option<Comment>)> {
    for _ in 0..MAX_ATTEMPTS {
        let row = load_visible(state, caller, id).await?;
        let planned = plan(&row)?;
        if planned.changes.is_empty() && extras.comment.is_none() {
            return Ok((shown_to(state, caller, row.into_ticket()).await?, None));
        }
        let change = Change {
            ticket: &row,
            next: &planned.next,
            changes: &planned.changes,
            actor: caller.actor(origin.source),
            origin,
            event,
            comment: extras.comment,
            attachments: extras.attachments,
        };
        let mut tx = state.db.begin().await?;
        // None: someone changed the ticket since it was read; the dropped
        // transaction rolls back and the loop re-reads and re-plans.
        if let Some(applied) = tickets::apply(&mut tx, &change, Utc::now()).await? {
            tx.commit().await?;
            let stored_comment = applied.comment.map(|c| Comment {
                author_name: caller.display_name().to_owned(),
                ..c
            });
            return Ok((
                shown_to(state, caller, applied.ticket).await?,
                stored_comment,
            ));
        }
    }
    Err(lost_race().into())
}

pub async fn update(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    patch: TicketPatch,
    origin: &Origin,
) -> AppResult<Ticket> {
    // Visibility, then what the caller may change, then the input.
    load_visible(state, caller, id).await?;
    let role = caller.acting_role();
    may_patch(role, &patch)?;
    let org = caller.org();
    let mut errs = FieldErrors::new();
    if let Some(Some(assignee)) = patch.assignee_id {
        check_assignee(state, org, assignee, &mut errs).await?;
    }
    if let Some(Some(team)) = patch.team_id {
        check_team(state, org, team, &mut errs).await?;
    }
    if let Some(Some(category)) = patch.category_id {
        check_category(state, org, category, &mut errs).await?;
    }
    errs.into_result()?;
    let fields = match patch.custom_fields {
        Some(_) => desk::custom_fields(&state.db, org).await?,
        None => Vec::new(),
    };
    let now = Utc::now();
    let (ticket, _) = change(
        state,
        caller,
        id,
        origin,
        DomainEvent::TicketUpdated,
        Extras::default(),
        |row| plan_update(&row.state(), &patch, role, &fields, now),
    )
    .await?;
    Ok(ticket)
}

pub async fn add_comment(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    body: &str,
    public: bool,
    origin: &Origin,
) -> AppResult<Comment> {
    load_visible(state, caller, id).await?;
    caller.require(if public {
        Capability::Reply
    } else {
        Capability::WriteInternalNotes
    })?;
    let author = caller.person()?;
    validate_comment_body(body)?;
    let now = Utc::now();
    let comment = NewComment {
        author_id: author.id,
        body,
        public,
    };
    let (_, stored) = change(
        state,
        caller,
        id,
        origin,
        DomainEvent::TicketCommented,
        Extras {
            comment: Some(comment),
            ..Extras::default()
        },
        |row| plan_comment(&row.state(), author.role, public, now),
    )
    .await?;
    stored.ok_or_else(|| ApiError::internal().into())
}

/// The requester rates how their resolved ticket was handled (1–5).
pub async fn rate(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    score: i64,
    comment: &str,
    origin: &Origin,
) -> AppResult<Ticket> {
    let (ticket, _) = change(
        state,
        caller,
        id,
        origin,
        DomainEvent::TicketRated,
        Extras::default(),
        |row| {
            let is_requester = caller.user_id() == Some(row.requester_id);
            plan_rating(&row.state(), is_requester, score, comment)
        },
    )
    .await?;
    Ok(ticket)
}

/// Hands a ticket to the managers with the reason; it shows in their
/// Escalated queue.
pub async fn escalate(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    reason: &str,
    origin: &Origin,
) -> AppResult<Ticket> {
    load_visible(state, caller, id).await?;
    caller.require(Capability::ChangeTicketFields)?;
    let now = Utc::now();
    let event = DomainEvent::TicketEscalated;
    let role = caller.acting_role();
    let (ticket, _) = change(state, caller, id, origin, event, Extras::default(), |row| {
        plan_escalation(&row.state(), role, reason, now)
    })
    .await?;
    Ok(ticket)
}

/// Soft-deletes a ticket (admins only).
pub async fn delete(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    origin: &Origin,
) -> AppResult<()> {
    load_visible(state, caller, id).await?;
    caller.require(Capability::DeleteTickets)?;
    let now = Utc::now();
    let event = DomainEvent::TicketDeleted;
    let role = caller.acting_role();
    change(state, caller, id, origin, event, Extras::default(), |row| {
        plan_deletion(&row.state(), role, now)
    })
    .await?;
    Ok(())
}

/// One change applied to many tickets from a queue.
#[derive(Debug, Default, Clone)]
pub struct BulkChange {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<Option<Uuid>>,
    /// Added to each ticket's tags.
    pub add_tags: Vec<String>,
}

/// What a bulk change did to one ticket.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    pub id: Uuid,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

pub const MAX_BULK: usize = 100;

/// Applies `bulk` to each ticket through the one change path (each ticket
/// its own transaction, audit rows and event); a ticket that refuses the
/// change (closed, say) is reported and the others still change.
pub async fn bulk_update(
    state: &AppState,
    caller: &Principal,
    ids: &[Uuid],
    bulk: BulkChange,
    origin: &Origin,
) -> AppResult<Vec<BulkOutcome>> {
    caller.require(Capability::BulkEdit)?;
    let mut errs = FieldErrors::new();
    errs.check(
        !ids.is_empty(),
        "ticket_ids",
        "Choose the tickets to change",
    );
    errs.check(
        ids.len() <= MAX_BULK,
        "ticket_ids",
        &format!("Change at most {MAX_BULK} tickets at once"),
    );
    let add_tags = normalize_tags(&mut errs, &bulk.add_tags);
    let nothing = bulk.status.is_none()
        && bulk.priority.is_none()
        && bulk.assignee_id.is_none()
        && add_tags.is_empty();
    errs.check(!nothing, "ticket_ids", "Choose what to change");
    if let Some(Some(assignee)) = bulk.assignee_id {
        check_assignee(state, caller.org(), assignee, &mut errs).await?;
    }
    errs.into_result()?;
    let now = Utc::now();
    let role = caller.acting_role();
    let mut outcomes = Vec::with_capacity(ids.len());
    for &id in ids {
        let planned = |row: &TicketRow| {
            let mut tags = row.state().tags;
            tags.extend(add_tags.iter().cloned());
            let patch = TicketPatch {
                status: bulk.status,
                priority: bulk.priority,
                assignee_id: bulk.assignee_id,
                tags: (!add_tags.is_empty()).then_some(tags),
                ..TicketPatch::default()
            };
            plan_update(&row.state(), &patch, role, &[], now)
        };
        let result = change(
            state,
            caller,
            id,
            origin,
            DomainEvent::TicketUpdated,
            Extras::default(),
            planned,
        )
        .await;
        outcomes.push(BulkOutcome {
            id,
            ok: result.is_ok(),
            error: result.err().map(AppError::into_api_error),
        });
    }
    Ok(outcomes)
}
