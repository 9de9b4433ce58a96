//! URL-based access: what the holder of a magic link may do with the one
//! ticket it names — read it as its requester would in the portal, reply,
//! reopen, rate, download its public files. Every action goes through the
//! ticket service as the requester, so the portal's rules (and the one
//! change path with its audit trail) apply unchanged; the link only stands
//! in for signing in, and never reaches beyond its ticket.

use crate::domain::access::{INVALID_LINK, LinkedTicket};
use crate::domain::attachment::Attachment;
use crate::domain::ticket::{Comment, CommentPage, TicketStatus};
use crate::domain::{ApiError, ErrorKind, Role};
use crate::engine::markdown::to_safe_html;
use crate::engine::ticket_change::TicketPatch;
use crate::server::audit::Origin;
use crate::server::auth::{Person, Principal};
use crate::server::db::users;
use crate::server::error::{AppError, AppResult};
use crate::server::state::AppState;
use crate::server::tickets::{self, CommentsQuery};
use bytes::Bytes;
use uuid::Uuid;

/// A verified link: the requester as a caller, and the ticket it opens.
pub struct LinkAccess {
    caller: Principal,
    organization_name: String,
    ticket_id: Uuid,
}

fn invalid_link() -> AppError {
    ApiError::new(ErrorKind::NotFound, INVALID_LINK).into()
}

/// The ticket's "not found" (deleted since, for instance) reads like any
/// other dead link.
fn as_link_error(e: AppError) -> AppError {
    match e {
        AppError::Api(ref api) if api.kind == ErrorKind::NotFound => invalid_link(),
        other => other,
    }
}

/// Checks a link: our signature, unexpired, a magic link (not an access
/// token), its requester still an active customer of the organization, and
/// the ticket still there for them. Anything else is the same 404.
pub async fn open(state: &AppState, token: &str) -> AppResult<LinkAccess> {
    let claims = state
        .keys
        .verify_magic_link(token)
        .ok_or_else(invalid_link)?;
    let requester = users::find_by_id(&state.db, claims.sub)
        .await?
        .filter(|u| u.organization_id == claims.org && u.active && u.role() == Role::Customer)
        .ok_or_else(invalid_link)?;
    let access = LinkAccess {
        // The requester acts, as in the portal; no session stands behind a link.
        caller: Principal::User(Person {
            id: requester.id,
            org: requester.organization_id,
            role: Role::Customer,
            name: requester.name,
        }),
        organization_name: requester.organization_name,
        ticket_id: claims.tkt,
    };
    tickets::get(state, &access.caller, access.ticket_id)
        .await
        .map_err(as_link_error)?;
    Ok(access)
}

/// The ticket with its public conversation and files.
pub async fn view(state: &AppState, access: &LinkAccess) -> AppResult<LinkedTicket> {
    let (caller, id) = (&access.caller, access.ticket_id);
    let ticket = tickets::get(state, caller, id).await?;
    let conversation = comments(state, access, &CommentsQuery::default()).await?;
    Ok(LinkedTicket {
        description_html: to_safe_html(&ticket.description),
        ticket,
        organization_name: access.organization_name.clone(),
        requester_name: caller.display_name().to_owned(),
        comments: conversation.items,
        older_comments: conversation.older,
        attachments: tickets::attachments(state, caller, id).await?,
    })
}

/// A page of the public conversation (the newest, or the one `page` names).
pub async fn comments(
    state: &AppState,
    access: &LinkAccess,
    page: &CommentsQuery,
) -> AppResult<CommentPage> {
    tickets::comments(state, &access.caller, access.ticket_id, page).await
}

/// A public reply by the requester.
pub async fn reply(
    state: &AppState,
    access: &LinkAccess,
    body: &str,
    origin: &Origin,
) -> AppResult<Comment> {
    tickets::add_comment(state, &access.caller, access.ticket_id, body, true, origin).await
}

/// The requester reopens their resolved ticket.
pub async fn reopen(state: &AppState, access: &LinkAccess, origin: &Origin) -> AppResult<()> {
    let patch = TicketPatch {
        status: Some(TicketStatus::Open),
        ..TicketPatch::default()
    };
    tickets::update(state, &access.caller, access.ticket_id, patch, origin).await?;
    Ok(())
}

/// The requester rates how their resolved ticket was handled.
pub async fn rate(
    state: &AppState,
    access: &LinkAccess,
    score: i64,
    comment: &str,
    origin: &Origin,
) -> AppResult<()> {
    tickets::rate(
        state,
        &access.caller,
        access.ticket_id,
        score,
        comment,
        origin,
    )
    .await?;
    Ok(())
}

/// A public file of the linked ticket (a file of any other ticket is not found).
pub async fn download(
    state: &AppState,
    access: &LinkAccess,
    attachment_id: Uuid,
) -> AppResult<(Attachment, Bytes)> {
    let (file, bytes) = tickets::download(state, &access.caller, attachment_id).await?;
    if file.ticket_id != Some(access.ticket_id) {
        return Err(ApiError::not_found().into());
    }
    Ok((file, bytes))
}
