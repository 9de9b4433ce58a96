//! @mentions: a colleague named in a note or reply (`@dana`) is mailed a
//! link to the ticket. An outbox subscriber on `ticket.commented`, like the
//! magic-link mails: every way of writing a message is covered, and each
//! mention is mailed once.

use crate::engine::mail::{TicketLink, mention_mail};
use crate::engine::mentions;
use crate::server::db::mail::{self as store, Event, NewMail};
use crate::server::db::{tickets, users};
use crate::server::state::AppState;
use chrono::Utc;
use uuid::Uuid;

/// This subscriber's name in `outbox_handled`.
const SUBSCRIBER: &str = "mention-mail";
/// Events looked at per round.
const EVENTS_PER_ROUND: i64 = 50;
/// A message naming more people than this is a list, not a mention; only
/// the first ones are mailed.
const MAX_MENTIONS: usize = 20;

pub async fn mail_mentions(state: &AppState) -> anyhow::Result<()> {
    let now = Utc::now();
    let events = store::unhandled_events(
        &state.db,
        SUBSCRIBER,
        "ticket.commented",
        now,
        EVENTS_PER_ROUND,
    )
    .await?;
    let mut handled = Vec::with_capacity(events.len());
    for event in &events {
        handled.push((event, mention_mails_for(state, event).await?));
    }
    store::handle_events(&state.db, SUBSCRIBER, &handled, now).await?;
    Ok(())
}

async fn mention_mails_for(state: &AppState, event: &Event) -> anyhow::Result<Vec<NewMail>> {
    let payload: serde_json::Value = serde_json::from_str(&event.payload)?;
    let Some(comment_id) = payload["comment_id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
    else {
        return Ok(Vec::new());
    };
    let org = event.organization_id;
    let Some(comment) = tickets::comment(&state.db, org, comment_id).await? else {
        return Ok(Vec::new());
    };
    let handles = mentions::handles(&comment.body);
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    // Only staff mention: a customer's reply cannot make the desk mail anyone.
    let author = users::find_by_id(&state.db, comment.author_id).await?;
    let Some(author) = author.filter(|a| a.role().is_staff()) else {
        return Ok(Vec::new());
    };
    let Some(row) = tickets::find(&state.db, org, event.aggregate_id).await? else {
        return Ok(Vec::new()); // deleted since
    };
    let ticket = row.into_ticket();
    let url = format!("{}/desk/tickets/{}", state.config.public_url(), ticket.id);
    let link = TicketLink {
        number: &ticket.display_number,
        subject: &ticket.subject,
        url: &url,
    };
    let mut mails = Vec::new();
    for handle in handles.iter().take(MAX_MENTIONS) {
        let colleague = users::staff_by_handle(&state.db, org, handle).await?;
        let Some(colleague) = colleague.filter(|c| c.id != author.id) else {
            continue;
        };
        let text = mention_mail(&author.name, &link, &comment.body, comment.public);
        mails.push(NewMail {
            organization_id: org,
            to: colleague.email,
            subject: text.subject,
            body: text.body,
        });
    }
    Ok(mails)
}
