//! Links between tickets: merging one into another and splitting messages
//! off into a new ticket, each all or nothing across both tickets.

use super::change::lost_race;
use super::{MAX_ATTEMPTS, load_visible};
use crate::domain::event::DomainEvent;
use crate::domain::ticket::Ticket;
use crate::domain::{Capability, FieldErrors};
use crate::engine::ticket_change::{MergePair, plan_merge, plan_split};
use crate::server::audit::Origin;
use crate::server::auth::Principal;
use crate::server::db::tickets::{self, Change, Moving, NewComment, NewTicket};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use chrono::Utc;
use uuid::Uuid;

/// Merges ticket `id` into `target_id`: its conversation and files move to
/// the target, it closes and points there. Returns the target.
pub async fn merge(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    target_id: Uuid,
    origin: &Origin,
) -> AppResult<Ticket> {
    load_visible(state, caller, id).await?;
    caller.require(Capability::MergeTickets)?;
    // The merge note is written by a person.
    let author_id = caller.person()?.id;
    if id == target_id {
        let mut errs = FieldErrors::new();
        errs.add("target_id", "Choose another ticket to merge into");
        errs.into_result()?;
    }
    let now = Utc::now();
    let role = caller.acting_role();
    for _ in 0..MAX_ATTEMPTS {
        let from = load_visible(state, caller, id).await?;
        // The target is form input: an unknown one is a field error, not a 404.
        let Some(into) = tickets::find(&state.db, caller.org(), target_id).await? else {
            let mut errs = FieldErrors::new();
            errs.add("target_id", "No such ticket");
            return Err(errs.into_result().unwrap_err().into());
        };
        let from_number = crate::domain::ticket::display_number(from.number);
        let pair = MergePair {
            target_id,
            source_number: &from_number,
            same_requester: from.requester_id == into.requester_id,
        };
        let plan = plan_merge(&from.state(), &into.state(), &pair, role, now)?;
        // The source's request text would vanish from view: keep it on the
        // target as an internal note (same requester, so nothing leaks).
        let note = format!(
            "Merged {from_number} (“{}”) into this ticket. Its original request:\n\n{}",
            from.subject, from.description
        );
        let source_change = Change {
            ticket: &from,
            next: &plan.source.next,
            changes: &plan.source.changes,
            actor: caller.actor(origin.source),
            origin,
            event: DomainEvent::TicketMerged,
            comment: None,
            attachments: &[],
        };
        let target_change = Change {
            ticket: &into,
            next: &plan.target.next,
            changes: &plan.target.changes,
            actor: caller.actor(origin.source),
            origin,
            event: DomainEvent::TicketMergedInto,
            comment: Some(NewComment {
                author_id,
                body: &note,
                public: false,
            }),
            attachments: &[],
        };
        // All or nothing across both tickets; either one changed since it
        // was read: roll back (drop) and re-plan.
        let mut tx = state.db.begin().await?;
        let moving = Moving::Everything;
        tickets::move_conversation(&mut tx, caller.org(), from.id, into.id, moving).await?;
        let Some(_) = tickets::apply(&mut tx, &source_change, now).await? else {
            continue;
        };
        let Some(target) = tickets::apply(&mut tx, &target_change, now).await? else {
            continue;
        };
        tx.commit().await?;
        return Ok(target.ticket);
    }
    Err(lost_race().into())
}

/// Splits the chosen messages of ticket `id` off into a new ticket for the
/// same requester, linked to it as its parent. Returns the new ticket.
pub async fn split(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    comment_ids: &[Uuid],
    subject: &str,
    origin: &Origin,
) -> AppResult<Ticket> {
    load_visible(state, caller, id).await?;
    caller.require(Capability::MergeTickets)?;
    let mut errs = FieldErrors::new();
    crate::domain::ticket::check_subject(&mut errs, subject);
    let mut chosen = comment_ids.to_vec();
    chosen.sort();
    chosen.dedup();
    errs.into_result()?;
    let now = Utc::now();
    let role = caller.acting_role();
    let internal = caller.may(Capability::ReadInternalNotes);
    for _ in 0..MAX_ATTEMPTS {
        let parent = load_visible(state, caller, id).await?;
        let conversation = tickets::comments(&state.db, caller.org(), parent.id, internal).await?;
        let mut errs = FieldErrors::new();
        errs.check(
            chosen
                .iter()
                .all(|c| conversation.iter().any(|m| m.id == *c)),
            "comment_ids",
            "Choose messages of this ticket",
        );
        errs.into_result()?;
        let child_id = Uuid::now_v7();
        let plan = plan_split(&parent.state(), role, chosen.len(), child_id)?;
        let parent_number = crate::domain::ticket::display_number(parent.number);
        let description = format!("Split from {parent_number} (“{}”).", parent.subject);
        let parent_ticket = parent.clone().into_ticket();
        let child = NewTicket {
            id: child_id,
            severity: parent_ticket.severity,
            company_id: parent_ticket.company_id,
            assignee_id: parent.assignee_id,
            team_id: parent_ticket.team_id,
            category_id: parent_ticket.category_id,
            tags: &parent_ticket.tags,
            custom_fields: &parent_ticket.custom_fields,
            parent_id: Some(parent.id),
            ..NewTicket::plain(
                caller.org(),
                parent.requester_id,
                subject.trim(),
                &description,
                parent_ticket.priority,
                parent_ticket.channel,
            )
        };
        let parent_change = Change {
            ticket: &parent,
            next: &plan.next,
            changes: &plan.changes,
            actor: caller.actor(origin.source),
            origin,
            event: DomainEvent::TicketSplit,
            comment: None,
            attachments: &[],
        };
        let mut tx = state.db.begin().await?;
        let Some(_) = tickets::apply(&mut tx, &parent_change, now).await? else {
            continue;
        };
        let child = tickets::insert(
            &mut tx,
            &child,
            caller.actor(origin.source),
            origin,
            false,
            now,
        )
        .await?;
        let moving = Moving::Messages(&chosen);
        tickets::move_conversation(&mut tx, caller.org(), parent.id, child.id, moving).await?;
        tx.commit().await?;
        return Ok(child.into_ticket());
    }
    Err(lost_race().into())
}
