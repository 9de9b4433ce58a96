//! URL-based access: the magic-link page's server functions, where the
//! link's token stands in for a session, and "email me a link to my
//! requests". Thin shells over `server::access` and `server::magic_link`.

use crate::domain::ApiError;
use crate::domain::access::LinkedTicket;
use crate::domain::ticket::CommentPage;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "load_linked_ticket", output = crate::api::JsonResponse)]
pub async fn load_linked_ticket(token: String) -> Result<LinkedTicket, ApiError> {
    use super::context::{respond, state};
    use crate::server::access;

    let state = state()?;
    let link = respond(access::open(&state, &token).await)?;
    respond(access::view(&state, &link).await)
}

/// The page of the public conversation before `before` ("Load older messages").
#[server(prefix = "/api", endpoint = "load_older_linked_comments", output = crate::api::JsonResponse)]
pub async fn load_older_linked_comments(
    token: String,
    before: String,
) -> Result<CommentPage, ApiError> {
    use super::context::{respond, state};
    use crate::server::access;
    use crate::server::tickets::CommentsQuery;

    let state = state()?;
    let link = respond(access::open(&state, &token).await)?;
    respond(access::comments(&state, &link, &CommentsQuery::before(before)).await)
}

#[server(prefix = "/api", endpoint = "reply_via_link", output = crate::api::JsonResponse)]
pub async fn reply_via_link(token: String, body: String) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{respond, state};
    use crate::server::access;

    let state = state()?;
    let link = respond(access::open(&state, &token).await)?;
    respond(access::reply(&state, &link, &body, &origin()).await)?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "reopen_via_link", output = crate::api::JsonResponse)]
pub async fn reopen_via_link(token: String) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{respond, state};
    use crate::server::access;

    let state = state()?;
    let link = respond(access::open(&state, &token).await)?;
    respond(access::reopen(&state, &link, &origin()).await)
}

#[server(prefix = "/api", endpoint = "rate_via_link", output = crate::api::JsonResponse)]
pub async fn rate_via_link(
    token: String,
    score: Option<String>,
    comment: String,
) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{respond, state};
    use crate::server::access;

    let state = state()?;
    let link = respond(access::open(&state, &token).await)?;
    // A missing or garbled score is the engine's "choose 1 to 5".
    let score = score.and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    respond(access::rate(&state, &link, score, &comment, &origin()).await)
}

/// Answers the same whether or not the address is known.
#[server(prefix = "/api", endpoint = "request_magic_link", output = crate::api::JsonResponse)]
pub async fn request_magic_link(organization: String, email: String) -> Result<(), ApiError> {
    use super::context::{client_ip, respond, state};
    use crate::server::magic_link;

    let state = state()?;
    respond(magic_link::request_links(&state, &organization, &email, client_ip()).await)
}
