//! @mentions: a colleague named in a note or reply (`@dana`) is mailed a
//! link to the ticket. An outbox subscriber on `ticket.commented`, like the
//! magic-link mails: every way of writing a message is covered, and each
//! mention is mailed once.

use crate::domain::event::DomainEvent;
use crate::engine::mail::{TicketLink, mention_mail};
use crate::engine::mentions;
use crate::server::db::events::Event;
use crate::server::db::mail::NewMail;
use crate::server::db::{tickets, users};
use crate::server::runtime::{BoxFuture, Reaction, Subscriber};
use crate::server::state::AppState;
use uuid::Uuid;

/// A message naming more people than this is a list, not a mention; only
/// the first ones are mailed.
const MAX_MENTIONS: usize = 20;

pub struct MentionMails;

impl Subscriber for MentionMails {
    fn name(&self) -> &'static str {
        "mention-mail"
    }

    fn wants(&self, kind: &str) -> bool {
        kind == "ticket.commented"
    }

    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        event: &'a Event,
        decoded: &'a DomainEvent,
    ) -> BoxFuture<'a, anyhow::Result<Reaction>> {
        Box::pin(async move {
            let DomainEvent::TicketCommented(change) = decoded else {
                return Ok(Reaction::default());
            };
            let Some(comment_id) = change.comment_id else {
                return Ok(Reaction::default());
            };
            let mails =
                mention_mails_for(state, event.organization_id, change.ticket_id, comment_id)
                    .await?;
            Ok(Reaction {
                mails,
                ..Reaction::default()
            })
        })
    }
}

async fn mention_mails_for(
    state: &AppState,
    org: Uuid,
    ticket_id: Uuid,
    comment_id: Uuid,
) -> anyhow::Result<Vec<NewMail>> {
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
    let Some(row) = tickets::find(&state.db, org, ticket_id).await? else {
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
