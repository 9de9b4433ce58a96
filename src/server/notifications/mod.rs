//! Notifications across a ticket's life. One event subscriber
//! (`subscriber::Notifications`) turns domain events into in-app rows and
//! queued mails, per the recipient's preferences, in its reaction's
//! transaction: a notification never blocks or fails the request that
//! caused it, and a failed send is retried by the mail job. This module is
//! the staff's notification centre (their list, marking read, their
//! preferences); `templates` is the organization's mail texts.

mod subscriber;
pub mod templates;

pub use subscriber::Notifications;

use crate::domain::notification::{
    MarkRead, MarkedRead, NotificationList, NotificationPreference, NotificationPreferences,
};
use crate::domain::{ApiError, Capability, FieldErrors};
use crate::engine::notify::effective_preferences;
use crate::server::auth::Principal;
use crate::server::db::notifications as store;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::ticket_query::{encode_position, page_limit, position};
use chrono::Utc;
use uuid::Uuid;

/// Notifications per page unless `limit=` says otherwise.
pub const DEFAULT_PAGE: u32 = 30;
/// Ids one "mark read" may name.
pub const MAX_MARK_IDS: usize = 500;

/// The person the centre belongs to: staff who read the organization's
/// tickets (what notifications are about); customers are refused.
fn owner(caller: &Principal) -> Result<Uuid, ApiError> {
    caller.require(Capability::ReadAllTickets)?;
    Ok(caller.person()?.id)
}

/// The caller's notifications, newest first (only unread ones if asked),
/// with their unread count.
pub async fn list(
    state: &AppState,
    caller: &Principal,
    unread: bool,
    cursor: &Option<String>,
    limit: &Option<String>,
) -> AppResult<NotificationList> {
    let user = owner(caller)?;
    let mut errs = FieldErrors::new();
    let limit = page_limit(&mut errs, limit, DEFAULT_PAGE);
    let before = position(&mut errs, "cursor", cursor);
    errs.into_result()?;
    let mut items = store::page(&state.db, user, unread, before, limit + 1).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|n| encode_position(n.created_at, n.id))
    } else {
        None
    };
    let unread_count = store::unread_count(&state.db, user).await?;
    Ok(NotificationList {
        items,
        unread_count,
        next_cursor,
    })
}

/// How many unread notifications the caller has (the header's bell).
pub async fn unread_count(state: &AppState, caller: &Principal) -> AppResult<i64> {
    let user = owner(caller)?;
    Ok(store::unread_count(&state.db, user).await?)
}

/// Marks the caller's notifications read: the listed ones (others' ids
/// are simply not theirs and change nothing) or all.
pub async fn mark_read(
    state: &AppState,
    caller: &Principal,
    request: &MarkRead,
) -> AppResult<MarkedRead> {
    let user = owner(caller)?;
    let mut errs = FieldErrors::new();
    errs.check(
        request.all || !request.ids.is_empty(),
        "ids",
        "Name the notifications to mark read, or mark all",
    );
    errs.check(
        request.ids.len() <= MAX_MARK_IDS,
        "ids",
        "Mark at most 500 at once",
    );
    errs.into_result()?;
    let ids = (!request.all).then_some(request.ids.as_slice());
    let mut tx = state.db.begin().await?;
    let updated = store::mark_read(&mut tx, user, ids, Utc::now()).await?;
    tx.commit().await?;
    let unread_count = store::unread_count(&state.db, user).await?;
    Ok(MarkedRead {
        updated,
        unread_count,
    })
}

/// The caller's preference for every kind (defaults where they never chose).
pub async fn preferences(
    state: &AppState,
    caller: &Principal,
) -> AppResult<NotificationPreferences> {
    let user = owner(caller)?;
    let stored = store::preferences(&state.db, user).await?;
    Ok(NotificationPreferences {
        items: effective_preferences(&stored),
    })
}

/// Stores the caller's choices for the kinds listed (the others stay).
pub async fn save_preferences(
    state: &AppState,
    caller: &Principal,
    items: &[NotificationPreference],
) -> AppResult<NotificationPreferences> {
    let user = owner(caller)?;
    let mut tx = state.db.begin().await?;
    for p in items {
        store::save_preference(&mut tx, user, p).await?;
    }
    tx.commit().await?;
    preferences(state, caller).await
}
