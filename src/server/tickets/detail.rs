//! Reading one ticket for its page: authorized once, then the
//! conversation, files, names, the readable audit trail and the managers'
//! ratings, each as the caller may see them.

use super::{load_visible, shown_to, visible_to};
use crate::domain::ticket::{CommentPage, HistoryEntry, TicketDetail};
use crate::domain::{ApiError, Capability, FieldErrors};
use crate::server::auth::Principal;
use crate::server::db::{attachments, desk, tickets, users};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::ticket_query::{Position, encode_position, page_limit, position};
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

/// How many messages a page of a conversation shows unless asked otherwise
/// (the ticket page's first load, `GET …/comments` without `limit`).
pub const CONVERSATION_PAGE: u32 = 50;

/// `before=<cursor>&limit=`: which page of a conversation.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentsQuery {
    /// `next_cursor` of the newer page (omit for the newest messages).
    pub before: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

impl CommentsQuery {
    /// The default-sized page before `cursor`.
    pub fn before(cursor: String) -> Self {
        CommentsQuery {
            before: Some(cursor),
            limit: None,
        }
    }

    fn parse(&self) -> Result<(Option<Position>, u32), ApiError> {
        let mut errs = FieldErrors::new();
        let before = position(&mut errs, "before", &self.before);
        let limit = page_limit(&mut errs, &self.limit, CONVERSATION_PAGE);
        errs.into_result()?;
        Ok((before, limit))
    }
}

/// Everything the ticket page shows.
pub async fn detail(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<TicketDetail> {
    let row = load_visible(state, caller, id).await?;
    let staff = caller.may(Capability::ReadInternalNotes);
    let (org, id) = (caller.org(), row.id);
    let ticket = shown_to(state, caller, row.into_ticket()).await?;
    let conversation = conversation(state, org, id, staff, None, CONVERSATION_PAGE).await?;
    let attachments = attachments::for_ticket(&state.db, org, id, staff).await?;
    let requester_name = name_of(state, org, ticket.requester_id)
        .await?
        .unwrap_or_default();
    let assignee_name = match ticket.assignee_id {
        Some(a) => name_of(state, org, a).await?,
        None => None,
    };
    let merged_into_number = match ticket.merged_into_id {
        Some(target) => number_of(state, caller, target).await?,
        None => None,
    };
    let (history, agent_ratings) = if staff {
        let mut history = tickets::history(&state.db, org, id).await?;
        name_ids(state, caller, &mut history).await?;
        (history, desk::agent_ratings(&state.db, org, id).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(TicketDetail {
        description_html: crate::engine::markdown::to_safe_html(&ticket.description),
        ticket,
        requester_name,
        assignee_name,
        comments: conversation.items,
        older_comments: conversation.older,
        attachments,
        merged_into_number,
        history,
        agent_ratings,
    })
}

async fn name_of(state: &AppState, org: Uuid, user: Uuid) -> AppResult<Option<String>> {
    Ok(users::find_in_org(&state.db, org, user)
        .await?
        .map(|u| u.name))
}

/// A ticket's number, if the caller may see that ticket.
async fn number_of(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<Option<String>> {
    let row = tickets::find(&state.db, caller.org(), id).await?;
    Ok(row
        .filter(|row| visible_to(caller, row))
        .map(|row| crate::domain::ticket::display_number(row.number)))
}

/// Ids in the trail become the names people know them by.
async fn name_ids(
    state: &AppState,
    caller: &Principal,
    history: &mut [HistoryEntry],
) -> AppResult<()> {
    let org = caller.org();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for entry in history {
        for value in [&mut entry.old, &mut entry.new] {
            let Some(id) = value.as_deref().and_then(|v| Uuid::parse_str(v).ok()) else {
                continue;
            };
            let name = match (names.get(&id).cloned(), entry.field.as_str()) {
                (Some(known), _) => Some(known),
                (None, "assignee_id") => name_of(state, org, id).await?,
                (None, "merged_into_id" | "split_to") => number_of(state, caller, id).await?,
                (None, "team_id") => desk::find_team(&state.db, org, id)
                    .await?
                    .map(|t| t.team.name),
                (None, "category_id") => desk::find_category(&state.db, org, id)
                    .await?
                    .map(|c| c.name),
                _ => continue,
            };
            if let Some(name) = name {
                names.insert(id, name.clone());
                *value = Some(name);
            }
        }
    }
    Ok(())
}

/// A page of the conversation as the caller may see it: customers never
/// see internal notes (they are filtered before the page is cut, so a page
/// of a customer's is full and its cursor skips nothing they may see).
pub async fn comments(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    page: &CommentsQuery,
) -> AppResult<CommentPage> {
    let row = load_visible(state, caller, id).await?;
    let (before, limit) = page.parse()?;
    let staff = caller.may(Capability::ReadInternalNotes);
    conversation(state, caller.org(), row.id, staff, before, limit).await
}

/// `limit` messages before `before`, oldest first, with the cursor to the
/// ones before them.
async fn conversation(
    state: &AppState,
    org: Uuid,
    ticket: Uuid,
    staff: bool,
    before: Option<Position>,
    limit: u32,
) -> AppResult<CommentPage> {
    // One more than the page: whether older messages exist.
    let mut items = tickets::comment_page(&state.db, org, ticket, staff, before, limit + 1).await?;
    let older = (items.len() > limit as usize).then(|| {
        items.truncate(limit as usize);
        items
            .last()
            .map(|oldest| encode_position(oldest.created_at, oldest.id))
    });
    items.reverse();
    Ok(CommentPage {
        items,
        older: older.flatten(),
    })
}

/// The audit trail: for those who read internal things (it names internal
/// actors and fields).
pub async fn history(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> AppResult<Vec<HistoryEntry>> {
    let row = load_visible(state, caller, id).await?;
    caller.require(Capability::ReadInternalNotes)?;
    Ok(tickets::history(&state.db, caller.org(), row.id).await?)
}
