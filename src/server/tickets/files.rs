//! A ticket's files: staged in storage before the transaction that records
//! them (and removed again if it fails), listed and downloaded as the
//! caller may see them.

use super::change::{Extras, change};
use super::load_visible;
use crate::domain::FieldErrors;
use crate::domain::attachment::Attachment;
use crate::domain::event::DomainEvent;
use crate::domain::{ApiError, Capability};
use crate::engine::ticket_change::{plan_attachments, writing};
use crate::server::audit::Origin;
use crate::server::auth::Principal;
use crate::server::db::attachments::{self, NewAttachment};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::uploads::{Upload, sniff_content_type};
use bytes::Bytes;
use uuid::Uuid;

/// Sniffs and stores uploaded files ahead of the transaction that records
/// them; `discard` removes them again if that transaction fails.
pub(super) async fn stage(
    state: &AppState,
    caller: &Principal,
    uploads: &[Upload],
    public: bool,
) -> AppResult<Vec<NewAttachment>> {
    let mut staged = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let id = Uuid::now_v7();
        let file = NewAttachment {
            id,
            uploader_id: caller.user_id(),
            filename: upload.filename.clone(),
            content_type: sniff_content_type(&upload.bytes),
            size: upload.bytes.len() as i64,
            public,
            storage_key: format!("attachments/{}/{id}", caller.org()),
        };
        if let Err(e) = state
            .storage
            .put(&file.storage_key, upload.bytes.clone())
            .await
        {
            discard(state, &staged).await;
            return Err(e.into());
        }
        staged.push(file);
    }
    Ok(staged)
}

pub(super) async fn discard(state: &AppState, staged: &[NewAttachment]) {
    for file in staged {
        state.storage.delete(&file.storage_key).await;
    }
}

/// Adds files to a ticket. Customers' files are always public; staff may
/// attach internal ones (`public: false`), which customers never see.
pub async fn add_attachments(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    uploads: &[Upload],
    public: bool,
    origin: &Origin,
) -> AppResult<Vec<Attachment>> {
    // Visibility, capability, then the input; all before writing any bytes.
    let row = load_visible(state, caller, id).await?;
    caller.require(writing(public))?;
    if uploads.is_empty() {
        let mut errs = FieldErrors::new();
        errs.add("file", "Choose a file to attach");
        errs.into_result()?;
    }
    let role = caller.acting_role();
    plan_attachments(&row.state(), role, public, &[])?;
    let staged = stage(state, caller, uploads, public).await?;
    let names: Vec<String> = staged.iter().map(|f| f.filename.clone()).collect();
    let extras = Extras {
        attachments: &staged,
        ..Extras::default()
    };
    let stored = change(
        state,
        caller,
        id,
        origin,
        DomainEvent::TicketAttachmentAdded,
        extras,
        |row| plan_attachments(&row.state(), role, public, &names),
    )
    .await;
    if let Err(e) = stored {
        discard(state, &staged).await;
        return Err(e);
    }
    let all = attachments::for_ticket(&state.db, caller.org(), id, true).await?;
    Ok(all
        .into_iter()
        .filter(|a| staged.iter().any(|f| f.id == a.id))
        .collect())
}

/// A ticket's files as the caller may see them.
pub async fn attachments(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> AppResult<Vec<Attachment>> {
    let row = load_visible(state, caller, id).await?;
    let internal = caller.may(Capability::ReadInternalNotes);
    Ok(attachments::for_ticket(&state.db, caller.org(), row.id, internal).await?)
}

/// A file and its bytes, if the caller may see the ticket it is on (and,
/// for customers, it is not internal).
pub async fn download(
    state: &AppState,
    caller: &Principal,
    attachment_id: Uuid,
) -> AppResult<(Attachment, Bytes)> {
    let Some((file, key)) = attachments::find(&state.db, caller.org(), attachment_id).await? else {
        return Err(ApiError::not_found().into());
    };
    // Only tickets have files yet; another owner's would need its own rule.
    let Some(ticket) = file.ticket_id else {
        return Err(ApiError::not_found().into());
    };
    load_visible(state, caller, ticket).await?;
    if !file.public && !caller.may(Capability::ReadInternalNotes) {
        return Err(ApiError::not_found().into());
    }
    let bytes = state.storage.get(&key).await?;
    Ok((file, bytes))
}
