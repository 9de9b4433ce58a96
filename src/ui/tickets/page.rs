//! The ticket pages: the requester's in the portal and the staff's on the
//! desk, two components so the portal's bundle carries none of the desk's
//! tools. They share the header with the ticket's facts and the
//! conversation (also shown on the magic-link page); around it the reply
//! and files, for the requester reopen and rating, for staff the history
//! and the side panel.

use super::attachments::Attachments;
use super::history::History;
use super::live::{ChangedNotice, LivePriority, LiveStatusBadge, LiveTicket, PresenceLine};
use super::rating::RatingForm;
use super::reply::ReplyForm;
use super::side_panel::{MoreActions, TriagePanel};
use super::sla::SlaPanel;
use super::when;
use crate::api::desk::{AssignTicket, load_desk_options};
use crate::api::sla::load_ticket_sla;
use crate::api::tickets::{
    EscalateTicket, MergeTicket, RateTicket, ReplyToTicket, UpdateTicket, attach_files,
    load_older_comments, load_ticket, ticket_path,
};
use crate::domain::policy::permits;
use crate::domain::sla::TicketSla;
use crate::domain::ticket::{Comment, CommentPage, TicketDetail, TicketStatus};
use crate::domain::{ApiError, Capability};
use crate::ui::desk::{AgentRatingForm, RoutingPanel, Shortcuts, fields_action};
use crate::ui::forms::{FormAlert, last_error, upload_action};
use crate::ui::frame::CurrentUser;
use crate::ui::status_pages::ErrorNotice;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// One message of a conversation.
fn message(c: Comment) -> impl IntoView {
    let kind = if c.public {
        "message"
    } else {
        "message message-internal"
    };
    view! {
        <li class=kind>
            <header class="message-meta">
                <strong>{c.author_name}</strong>
                {(!c.public).then(|| view! { <span class="badge badge-internal">"Internal note"</span> })}
                <span class="muted">{when(c.created_at)}</span>
            </header>
            <div class="message-body markdown" inner_html=c.body_html></div>
        </li>
    }
}

/// The original request and the newest page of messages; "Load older
/// messages" fetches the pages before them with `load_older` and shows them
/// above (nothing of it differs between the server's HTML and hydration:
/// the older pages exist only after a click).
#[component]
pub(crate) fn Conversation<F, Fut>(
    /// The ticket's description as safe HTML (rendered on the server).
    description_html: String,
    requester: String,
    created: String,
    /// The newest messages, oldest first.
    comments: Vec<Comment>,
    /// Where the older messages start; None when `comments` are all of them.
    older: Option<String>,
    /// The page of messages before a cursor.
    load_older: F,
    /// The ticket as it is live: messages arriving after `comments`.
    #[prop(optional)]
    live: Option<LiveTicket>,
) -> impl IntoView
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CommentPage, ApiError>> + Send + 'static,
{
    let earlier = RwSignal::new(Vec::<Comment>::new());
    let cursor = RwSignal::new(older);
    let fetch = Action::new(move |before: &String| {
        let page = load_older(before.clone());
        async move {
            let page = page.await?;
            earlier.update(|shown| {
                let newer = std::mem::replace(shown, page.items);
                shown.extend(newer);
            });
            cursor.set(page.older);
            Ok::<(), ApiError>(())
        }
    });
    let error = Signal::derive(move || fetch.value().get().and_then(Result::err));
    let shown: Vec<uuid::Uuid> = comments.iter().map(|c| c.id).collect();
    view! {
        <ol class="conversation" aria-label="Conversation">
            <li class="message">
                <header class="message-meta">
                    <strong>{requester}</strong>
                    <span class="muted">{created}</span>
                </header>
                <div class="message-body markdown" inner_html=description_html></div>
            </li>
            {move || cursor.get().map(|before| view! {
                <li class="older-messages">
                    <FormAlert error />
                    <button
                        type="button"
                        class="btn btn-quiet"
                        disabled=move || fetch.pending().get()
                        on:click=move |_| {
                            fetch.dispatch(before.clone());
                        }
                    >
                        "Load older messages"
                    </button>
                </li>
            })}
            {move || earlier.get().into_iter().map(message).collect_view()}
            {comments.into_iter().map(message).collect_view()}
            {move || live.map(|live| live.arrived_except(&shown).into_iter().map(message).collect_view())}
        </ol>
    }
    // Erased: the pages that hold it would otherwise have types too deep
    // for the compiler.
    .into_any()
}

/// The ticket id in the route (`/portal/tickets/:id`, `/desk/tickets/:id`).
fn ticket_id_param() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("id").unwrap_or_default()
}

fn loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading ticket…"</p> }
}

/// The title and the header with the ticket's facts; for staff also the
/// escalation, and the team and category by name.
fn ticket_header(
    detail: &TicketDetail,
    live: LiveTicket,
    staff: bool,
    team_name: Option<String>,
    category_name: Option<String>,
) -> impl IntoView + use<> {
    let t = &detail.ticket;
    view! {
        <Title text=format!("{} {}", t.display_number, t.subject) />
        <header class="page-header">
            <p class="muted">{t.display_number.clone()}</p>
            <h1>{t.subject.clone()}</h1>
            <p class="ticket-facts">
                <LiveStatusBadge live loaded=t.status />
                <span><LivePriority live loaded=t.priority /></span>
                <span>{format!("Requester: {}", detail.requester_name)}</span>
                <span>{format!("Assignee: {}", detail.assignee_name.clone().unwrap_or_else(|| "Unassigned".into()))}</span>
                {t.severity.map(|s| view! { <span>{format!("Severity: {}", s.label())}</span> })}
                {team_name.map(|n| view! { <span>{format!("Team: {n}")}</span> })}
                {category_name.map(|n| view! { <span>{format!("Category: {n}")}</span> })}
                {(staff && t.escalated_at.is_some()).then(|| view! {
                    <span class="badge badge-escalated">"Escalated"</span>
                })}
            </p>
            {staff.then(|| t.escalation_reason.clone()).flatten().map(|reason| view! {
                <p class="ticket-note note-escalated">
                    <strong>"Escalation reason: "</strong>
                    <span class="message-body">{reason}</span>
                </p>
            })}
            {t.merged_into_id.map(|target| {
                let number = detail.merged_into_number.clone().unwrap_or_else(|| "another ticket".into());
                view! {
                    <p class="ticket-note">
                        "Merged into "
                        <a href=ticket_path(staff, &target.to_string())>{number}</a>
                    </p>
                }
            })}
        </header>
    }
}

/// The ticket's conversation, with its older messages on demand and the
/// new ones as they arrive.
fn ticket_conversation(detail: &TicketDetail, live: LiveTicket) -> impl IntoView + use<> {
    let id = detail.ticket.id.to_string();
    view! {
        <Conversation
            description_html=detail.description_html.clone()
            requester=detail.requester_name.clone()
            created=when(detail.ticket.created_at)
            comments=detail.comments.clone()
            older=detail.older_comments.clone()
            load_older=move |before| load_older_comments(id.clone(), before)
            live
        />
    }
}

/// `/portal/tickets/:id`: the requester's own ticket — the public
/// conversation, reply, files, and once it is resolved reopen and rating.
/// None of the desk's tools, so the portal's bundle does not carry them.
#[component]
pub fn PortalTicketPage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let id = ticket_id_param();
    let live = LiveTicket::watch(id, user.id);
    let reply = ServerAction::<ReplyToTicket>::new();
    let update = ServerAction::<UpdateTicket>::new();
    let rate = ServerAction::<RateTicket>::new();
    let attach = upload_action(attach_files);
    let detail_version = move || {
        (
            reply.version().get(),
            update.version().get(),
            rate.version().get(),
            attach.version().get(),
            live.reloads.get(),
        )
    };
    let detail = Resource::new(move || (id(), detail_version()), |(id, _)| load_ticket(id));
    let rate_error = last_error(rate.value());
    let reply_error = last_error(reply.value());
    let update_error = last_error(update.value());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let detail = match detail.await {
                    Ok(detail) => detail,
                    Err(error) => return view! { <ErrorNotice error /> }.into_any(),
                };
                live.loaded(&detail);
                let t = detail.ticket.clone();
                let id = t.id.to_string();
                let closed = t.status == TicketStatus::Closed;
                view! {
                    {ticket_header(&detail, live, false, None, None)}
                    <div class="ticket-layout">
                        <section aria-label="Messages">
                            <ChangedNotice live names=Vec::new() unknown="The support team" />
                            {ticket_conversation(&detail, live)}
                            <PresenceLine live />
                            <ReplyForm action=reply error=reply_error ticket_id=id.clone() staff=false closed canned=Vec::new() />
                            <Attachments files=detail.attachments action=attach ticket_id=id.clone() staff=false closed />
                            {(t.status == TicketStatus::Resolved).then(|| view! {
                                <ReopenForm action=update error=update_error ticket_id=id.clone() />
                            })}
                            {(!t.status.is_open()).then(|| view! {
                                <RatingForm action=rate error=rate_error ticket=t.clone() />
                            })}
                        </section>
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// `/desk/tickets/:id`: the ticket as staff work it — internal notes,
/// shortcuts, history, and the side panel (fields, SLA, routing, the
/// managers' rating, escalation and merge).
#[component]
pub fn DeskTicketPage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let id = ticket_id_param();
    let reply = ServerAction::<ReplyToTicket>::new();
    let update = ServerAction::<UpdateTicket>::new();
    let escalate = ServerAction::<EscalateTicket>::new();
    let merge = ServerAction::<MergeTicket>::new();
    let attach = upload_action(attach_files);
    let routed = fields_action();
    let assign = ServerAction::<AssignTicket>::new();
    let manager = permits(user.role, Capability::RateAgents);
    let live = LiveTicket::watch(id, user.id);
    let options = Resource::new(|| (), |()| load_desk_options());
    let detail_version = move || {
        (
            reply.version().get(),
            update.version().get(),
            attach.version().get(),
            escalate.version().get(),
            merge.version().get(),
            routed.version().get(),
            assign.version().get(),
            live.reloads.get(),
        )
    };
    let detail = Resource::new(move || (id(), detail_version()), |(id, _)| load_ticket(id));
    // The SLA panel, reloaded with the ticket.
    let sla = Resource::new(
        move || (id(), detail_version()),
        |(id, _)| async move {
            match uuid::Uuid::parse_str(&id) {
                Ok(id) => load_ticket_sla(id).await,
                Err(_) => Ok(TicketSla::default()),
            }
        },
    );
    let reply_error = last_error(reply.value());
    let update_error = last_error(update.value());
    let escalate_error = last_error(escalate.value());
    let merge_error = last_error(merge.value());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let detail = match detail.await {
                    Ok(detail) => detail,
                    Err(error) => return view! { <ErrorNotice error /> }.into_any(),
                };
                let options = options.await.unwrap_or_default();
                let sla = sla.await.ok();
                let name_in = |id: Option<uuid::Uuid>, names: Vec<(uuid::Uuid, String)>| {
                    id.and_then(|id| names.into_iter().find(|(i, _)| *i == id).map(|(_, n)| n))
                };
                let team_name = name_in(detail.ticket.team_id, options.teams.iter().map(|t| (t.id, t.name.clone())).collect());
                let category_name = name_in(detail.ticket.category_id, options.categories.iter().map(|c| (c.id, c.name.clone())).collect());
                live.loaded(&detail);
                let agents = options.agents.iter().map(|a| (a.id, a.name.clone())).collect::<Vec<_>>();
                let t = detail.ticket.clone();
                let id = t.id.to_string();
                let closed = t.status == TicketStatus::Closed;
                view! {
                    {ticket_header(&detail, live, true, team_name, category_name)}
                    <div class="ticket-layout with-panel">
                        <section aria-label="Messages">
                            <ChangedNotice live names=agents unknown="Someone" />
                            {ticket_conversation(&detail, live)}
                            <PresenceLine live />
                            <Shortcuts ticket_id=id.clone() />
                            <ReplyForm
                                action=reply
                                error=reply_error
                                ticket_id=id.clone()
                                staff=true
                                closed
                                canned=options.canned.clone()
                                live
                            />
                            <Attachments files=detail.attachments.clone() action=attach ticket_id=id.clone() staff=true closed />
                            <History entries=detail.history.clone() fields=options.fields.clone() />
                        </section>
                        <div class="side-panel">
                            <TriagePanel action=update error=update_error ticket=t.clone() />
                            {sla.map(|sla| view! { <SlaPanel sla /> })}
                            <RoutingPanel ticket=t.clone() options=options.clone() fields_action=routed assign />
                            {manager.then(|| view! { <AgentRatingForm ticket_id=id.clone() ratings=detail.agent_ratings.clone() /> })}
                            {(!closed).then(|| view! {
                                <MoreActions
                                    escalate
                                    escalate_error
                                    merge
                                    merge_error
                                    ticket=t.clone()
                                />
                            })}
                        </div>
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The requester changes their mind about a resolved ticket.
#[component]
fn ReopenForm(
    action: ServerAction<UpdateTicket>,
    error: Signal<Option<crate::domain::ApiError>>,
    ticket_id: String,
) -> impl IntoView {
    view! {
        <section class="card reopen" aria-labelledby="reopen-title">
            <h2 id="reopen-title">"Not solved after all?"</h2>
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <p class="muted">"Reopen the request and the team will pick it up again."</p>
                    <input type="hidden" name="ticket_id" value=ticket_id />
                    <input type="hidden" name="status" value=TicketStatus::Open.as_str() />
                    <button type="submit" class="btn btn-quiet" disabled=move || action.pending().get()>"Reopen"</button>
                </div>
            </ActionForm>
        </section>
    }
}
