//! Importing historical tickets from another help desk (admins): validate
//! the batch (engine), resolve people — unknown requesters become customer
//! contacts — and store everything in one transaction.

use crate::domain::{ApiError, ErrorKind, FieldErrors, Role};
use crate::engine::import::{ImportBatch, ValidTicket, imported_dates, validate_batch};
use crate::server::auth::Claims;
use crate::server::db::tickets::{self, Actor, ImportItem, ImportResult, NewContact, Source};
use crate::server::db::users;
use crate::server::error::AppResult;
use crate::server::state::AppState;
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
    caller: &Claims,
    batch: ImportBatch,
) -> AppResult<ImportReport> {
    if caller.role != Role::Admin {
        return Err(ApiError::forbidden().into());
    }
    let valid = validate_batch(batch)?;
    let (people, contacts) = resolve_people(state, caller.org, &valid).await?;
    check_internal_notes_are_by_staff(&valid, &people)?;
    let items: Vec<ImportItem<'_>> = valid
        .iter()
        .map(|t| ImportItem {
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
    let actor = Actor {
        user_id: Some(caller.sub),
        source: Source::Import,
    };
    let stored = tickets::import(&state.db, caller.org, actor, &contacts, &items, Utc::now())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::Conflict,
                "A ticket changed while the import was running; nothing was imported, send it again",
            )
        })?;
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
