//! Magic links: signed, expiring links that let a customer without an
//! account follow one ticket (`/access/{token}`, see `server::access`).
//! They go into the mails of a contact's ticket (`server::notifications`
//! puts them in the "ticket received" mail and the others), and are mailed
//! on request ("email me a link to my requests").

use crate::domain::access::{MAX_LINKS_PER_MAIL, access_path};
use crate::domain::ticket::TicketStatus;
use crate::domain::user::check_new_email;
use crate::domain::{FieldErrors, Role};
use crate::engine::mail::{TicketLink, link_note, requested_links_mail};
use crate::engine::retry::RetryPolicy;
use crate::server::auth::MagicLinkClaims;
use crate::server::auth::service::spend_ip_attempt;
use crate::server::db::jobs::{self, ClaimedJob, NewJob};
use crate::server::db::mail::{self as store, NewMail};
use crate::server::db::orgs;
use crate::server::db::tickets::{self, AssigneeFilter, ListFilter, SortKey};
use crate::server::db::users::{self, UserRecord};
use crate::server::error::AppResult;
use crate::server::runtime::{BoxFuture, JobError, JobHandler, payload};
use crate::server::state::AppState;
use chrono::Utc;
use std::net::IpAddr;
use uuid::Uuid;

/// A signed link to one ticket for its requester.
fn link(state: &AppState, requester: &UserRecord, ticket: Uuid) -> String {
    let claims = MagicLinkClaims::new(
        requester.id,
        requester.organization_id,
        ticket,
        Utc::now().timestamp(),
        state.config.magic_link_ttl(),
    );
    let token = state.keys.sign_magic_link(&claims);
    format!("{}{}", state.config.public_url(), access_path(&token))
}

/// Who follows tickets by link: active customers who cannot sign in (those
/// who can have the portal).
fn follows_by_link(user: &UserRecord) -> bool {
    user.active && user.role() == Role::Customer && !user.can_sign_in()
}

/// The link a customer follows `ticket` by, with what to say about it:
/// a magic link for those who follow by link (with how long it works),
/// the portal's page for those who sign in.
pub(crate) fn requester_link(
    state: &AppState,
    requester: &UserRecord,
    ticket: Uuid,
) -> (String, String) {
    let portal = state.config.public_url();
    if follows_by_link(requester) {
        (
            link(state, requester, ticket),
            link_note(state.config.magic_link_ttl_secs, &portal),
        )
    } else {
        (
            format!("{portal}/portal/tickets/{ticket}"),
            format!("Sign in at {portal}/login to see all your requests."),
        )
    }
}

/// "Email me a link to my requests": if `email` is a customer of the
/// organization, they get one mail with a link per open (or resolved)
/// ticket. The answer is the same whoever asks — the lookups happen after
/// it, so not even its timing tells whether the address is known.
pub async fn request_links(
    state: &AppState,
    organization: &str,
    email: &str,
    ip: IpAddr,
) -> AppResult<()> {
    let mut errs = FieldErrors::new();
    let slug = organization.trim().to_lowercase();
    errs.check(
        !slug.is_empty(),
        "organization",
        "Name the organization you have requests with",
    );
    let email = check_new_email(&mut errs, "email", email);
    errs.into_result()?;
    spend_ip_attempt(state, ip)?;
    // A budget per address as well, so nobody can flood someone's inbox;
    // spent silently, as the answer must not differ.
    if state.magic_link_limiter.check_key(&email).is_err() {
        tracing::info!("magic-link request over the per-address limit; not mailed");
        return Ok(());
    }
    // The lookups happen in a job, after the answer.
    let now = Utc::now();
    let job = NewJob {
        organization_id: None,
        kind: LINKS_JOB,
        payload: serde_json::to_string(&LinksRequest { slug, email }).unwrap_or_default(),
        run_at: now,
        max_attempts: RetryPolicy::BACKGROUND.max_attempts,
        unique_key: None,
    };
    let mut tx = state.db.begin().await?;
    jobs::enqueue(&mut tx, &job, now).await?;
    tx.commit().await?;
    Ok(())
}

const LINKS_JOB: &str = "magic_link.request";

#[derive(serde::Serialize, serde::Deserialize)]
struct LinksRequest {
    slug: String,
    email: String,
}

/// The job behind "email me a link to my requests".
pub struct RequestedLinks;

impl JobHandler for RequestedLinks {
    fn kind(&self) -> &'static str {
        LINKS_JOB
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let request: LinksRequest = payload(job)?;
            let mail = links_mail(state, &request.slug, &request.email).await?;
            let mut tx = state.db.begin().await?;
            if let Some(mail) = mail {
                store::enqueue(&mut tx, &mail, Utc::now()).await?;
            }
            if jobs::complete(&mut tx, job).await? {
                tx.commit().await?;
            }
            Ok(())
        })
    }
}

/// The mail with links to the open requests of `email`, if that is a
/// customer of the organization `slug`.
async fn links_mail(state: &AppState, slug: &str, email: &str) -> anyhow::Result<Option<NewMail>> {
    let Some(org) = orgs::find_by_slug(&state.db, slug).await? else {
        return Ok(None);
    };
    let user = users::find_by_email(&state.db, email).await?;
    let Some(user) =
        user.filter(|u| u.organization_id == org.id && u.active && u.role() == Role::Customer)
    else {
        return Ok(None);
    };
    let filter = ListFilter {
        organization_id: org.id,
        requester_id: Some(user.id),
        // Resolved ones too: the requester may reopen or rate them.
        statuses: TicketStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != TicketStatus::Closed)
            .collect(),
        priority: None,
        severity: None,
        channel: None,
        assignee: AssigneeFilter::Any,
        team_id: None,
        category_id: None,
        tag: None,
        created_from: None,
        created_to: None,
        escalated: false,
        text: None,
        include_internal: false,
        sort: SortKey::Updated,
        oldest_first: false,
        after: None,
        limit: MAX_LINKS_PER_MAIL as u32,
    };
    let found = tickets::list(&state.db, &filter).await?;
    let urls: Vec<String> = found.iter().map(|t| link(state, &user, t.id)).collect();
    let links: Vec<TicketLink> = found
        .iter()
        .zip(&urls)
        .map(|(t, url)| TicketLink {
            number: &t.display_number,
            subject: &t.subject,
            url,
        })
        .collect();
    let text = requested_links_mail(
        &org.name,
        &links,
        state.config.magic_link_ttl_secs,
        &state.config.public_url(),
    );
    Ok(Some(NewMail::plain(
        org.id,
        user.email.clone(),
        text.subject,
        text.body,
    )))
}
