//! Importing historical tickets from another help desk (admins): validate
//! the whole batch (engine) and resolve people — unknown requesters become
//! customer contacts — before anything is written, then store each ticket
//! in a transaction of its own: created or updated (found by external id)
//! with its new messages, audit rows and event, all or nothing. One ticket
//! at a time keeps SQLite's single writer free for everyone else between
//! tickets (a ticket brings at most `MAX_COMMENTS_PER_TICKET` messages).
//! Messages already present (same author, time and text) are not added
//! twice, so importing the same batch again changes nothing — which is how
//! a batch that failed part-way is completed: send it again.

use crate::domain::event::{Actor, DomainEvent, Source};
use crate::domain::ticket::{Channel, Ticket};
use crate::domain::{ApiError, Capability, ErrorKind, FieldErrors};
use crate::engine::import::{
    ImportBatch, ImportResult, ImportedDates, ValidTicket, imported_dates, validate_batch,
};
use crate::engine::ticket_change::{FieldChange, diff};
use crate::server::audit::Origin;
use crate::server::auth::Principal;
use crate::server::db::tickets::{self, Change, NewComment, NewTicket};
use crate::server::db::users::{self, NewContact};
use crate::server::db::{Tx, audit};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::tickets::MAX_ATTEMPTS;
use chrono::Utc;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// New customer contacts made for unknown requesters and authors.
    pub contacts_created: usize,
    pub items: Vec<ImportedTicket>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportedTicket {
    pub external_id: String,
    pub id: Uuid,
    pub display_number: String,
    pub result: ImportResult,
}

/// Someone named in the batch: an account of ours, or a contact to create.
#[derive(Clone, Copy)]
struct Person {
    id: Uuid,
    staff: bool,
}

pub async fn import_tickets(
    state: &AppState,
    caller: &Principal,
    batch: ImportBatch,
    origin: &Origin,
) -> AppResult<ImportReport> {
    caller.require(Capability::ManageSettings)?;
    let valid = validate_batch(batch)?;
    let (people, contacts) = resolve_people(state, caller.org(), &valid).await?;
    check_internal_notes_are_by_staff(&valid, &people)?;
    let items: Vec<Item<'_>> = valid
        .iter()
        .map(|t| Item {
            ticket: t,
            requester_id: people[&t.requester_email].id,
            author_ids: t
                .comments
                .iter()
                .map(|c| people[&c.author_email].id)
                .collect(),
            dates: imported_dates(t, |email| people[email].staff),
        })
        .collect();
    let actor = caller.actor(Source::Import);
    let stored = store(state, caller.org(), actor, origin, &contacts, &items).await?;
    let count = |wanted: ImportResult| stored.iter().filter(|(r, _)| *r == wanted).count();
    Ok(ImportReport {
        created: count(ImportResult::Created),
        updated: count(ImportResult::Updated),
        unchanged: count(ImportResult::Unchanged),
        contacts_created: contacts.len(),
        items: valid
            .iter()
            .zip(&stored)
            .map(|(t, (result, ticket))| ImportedTicket {
                external_id: t.external_id.clone(),
                id: ticket.id,
                display_number: ticket.display_number.clone(),
                result: *result,
            })
            .collect(),
    })
}

/// An imported ticket with its people resolved to ids.
struct Item<'a> {
    ticket: &'a ValidTicket,
    requester_id: Uuid,
    /// One per message, in the ticket's message order.
    author_ids: Vec<Uuid>,
    dates: ImportedDates,
}

/// The new contacts in one transaction, then each ticket in its own (see
/// the module comment); a failure stops the batch there, with the tickets
/// before it stored.
async fn store(
    state: &AppState,
    org: Uuid,
    actor: Actor,
    origin: &Origin,
    contacts: &[NewContact],
    items: &[Item<'_>],
) -> AppResult<Vec<(ImportResult, Ticket)>> {
    let now = Utc::now();
    if !contacts.is_empty() {
        let mut tx = state.db.begin().await?;
        for contact in contacts {
            users::insert_contact(&mut tx, org, contact, now).await?;
        }
        tx.commit().await?;
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        results.push(store_ticket(state, org, actor, origin, item, now).await?);
    }
    Ok(results)
}

/// One ticket in one transaction, re-read and written again if it changed
/// meanwhile.
async fn store_ticket(
    state: &AppState,
    org: Uuid,
    actor: Actor,
    origin: &Origin,
    item: &Item<'_>,
    now: chrono::DateTime<Utc>,
) -> AppResult<(ImportResult, Ticket)> {
    for _ in 0..MAX_ATTEMPTS {
        let mut tx = state.db.begin().await?;
        if let Some(stored) = store_one(&mut tx, org, actor, origin, item, now).await? {
            tx.commit().await?;
            return Ok(stored);
        }
    }
    Err(ApiError::new(
        ErrorKind::Conflict,
        format!(
            "Ticket {} kept changing while it was imported; it and the tickets after it were \
             not imported. Send the batch again: tickets already imported stay unchanged",
            item.ticket.external_id
        ),
    )
    .into())
}

async fn store_one(
    tx: &mut Tx,
    org: Uuid,
    actor: Actor,
    origin: &Origin,
    item: &Item<'_>,
    now: chrono::DateTime<Utc>,
) -> AppResult<Option<(ImportResult, Ticket)>> {
    let t = item.ticket;
    let (row, created) = match tickets::find_by_external_id(tx, org, &t.external_id).await? {
        Some(row) => (row, false),
        None => {
            let mut new = NewTicket::plain(
                org,
                item.requester_id,
                &t.subject,
                &t.description,
                t.priority,
                Channel::Api,
            );
            new.external_id = Some(&t.external_id);
            let row = tickets::insert(tx, &new, actor, origin, true, now).await?;
            // Keep the original creation time (the audit row says when it was imported).
            tickets::set_created_at(tx, row.id, t.created_at).await?;
            (
                tickets::TicketRow {
                    created_at: t.created_at,
                    ..row
                },
                true,
            )
        }
    };
    let mut changed = false;
    if row.description != t.description {
        tickets::set_description(tx, row.id, &t.description).await?;
        let line = FieldChange {
            field: "description".into(),
            old: Some(row.description.clone()),
            new: Some(t.description.clone()),
        };
        audit::record(tx, org, row.id, actor, origin, &line, now).await?;
        changed = true;
    }
    for (comment, &author_id) in t.comments.iter().zip(&item.author_ids) {
        let message = NewComment {
            author_id,
            body: &comment.body,
            public: comment.public,
        };
        if tickets::has_comment(tx, row.id, message, comment.created_at).await? {
            continue;
        }
        tickets::insert_comment(tx, org, row.id, message, comment.created_at).await?;
        let line = FieldChange {
            field: "comment".into(),
            old: None,
            new: Some(if comment.public { "public" } else { "internal" }.into()),
        };
        audit::record(tx, org, row.id, actor, origin, &line, now).await?;
        changed = true;
    }
    let mut next = row.state();
    next.subject = t.subject.clone();
    next.status = t.status;
    next.priority = t.priority;
    next.first_response_at = item.dates.first_response_at;
    next.resolved_at = item.dates.resolved_at;
    next.closed_at = item.dates.closed_at;
    let changes = diff(&row.state(), &next);
    let ticket = if changes.is_empty() {
        row.into_ticket()
    } else {
        let change = Change {
            ticket: &row,
            next: &next,
            changes: &changes,
            actor,
            origin,
            event: DomainEvent::TicketReimported,
            comment: None,
            attachments: &[],
        };
        changed = true;
        match tickets::apply(tx, &change, now).await? {
            Some(applied) => applied.ticket,
            None => return Ok(None),
        }
    };
    Ok(Some((ImportResult::of(created, changed), ticket)))
}

/// Every email in the batch mapped to a person of the caller's organization;
/// unknown ones become new customer contacts. An email that belongs to
/// another organization's account is refused where it first appears.
async fn resolve_people(
    state: &AppState,
    org: Uuid,
    valid: &[ValidTicket],
) -> AppResult<(HashMap<String, Person>, Vec<NewContact>)> {
    let mut people: HashMap<String, Person> = HashMap::new();
    let mut contacts = Vec::new();
    let mut errs = FieldErrors::new();
    // Every email with where it first appears, collected up front (nothing
    // borrowed from the batch is held across the lookups below).
    let mut places: Vec<(String, String)> = Vec::new();
    for (i, t) in valid.iter().enumerate() {
        places.push((
            t.requester_email.clone(),
            format!("tickets[{i}].requester_email"),
        ));
        for (j, c) in t.comments.iter().enumerate() {
            places.push((
                c.author_email.clone(),
                format!("tickets[{i}].comments[{j}].author_email"),
            ));
        }
    }
    for (email, place) in places {
        if people.contains_key(&email) {
            continue;
        }
        match users::find_by_email(&state.db, &email).await? {
            Some(user) if user.organization_id == org => {
                people.insert(
                    email,
                    Person {
                        id: user.id,
                        staff: user.role().is_staff(),
                    },
                );
            }
            Some(_) => errs.add(&place, crate::server::users::EMAIL_ELSEWHERE),
            None => {
                let id = Uuid::now_v7();
                let name = email.split('@').next().unwrap_or_default().to_owned();
                contacts.push(NewContact {
                    id,
                    email: email.clone(),
                    name,
                });
                people.insert(email, Person { id, staff: false });
            }
        }
    }
    errs.into_result()?;
    Ok((people, contacts))
}

/// Customers write public messages only, in an import as anywhere else.
fn check_internal_notes_are_by_staff(
    valid: &[ValidTicket],
    people: &HashMap<String, Person>,
) -> Result<(), ApiError> {
    let mut errs = FieldErrors::new();
    for (i, t) in valid.iter().enumerate() {
        for (j, c) in t.comments.iter().enumerate() {
            errs.check(
                c.public || people[&c.author_email].staff,
                &format!("tickets[{i}].comments[{j}].public"),
                "Internal notes can only be written by staff",
            );
        }
    }
    errs.into_result()
}
