//! The ticket page: its actions and resources, the header with the ticket's
//! facts, the conversation (also shown on the magic-link page), and the
//! parts around it — reply, files, the requester's reopen and rating, and for
//! staff the history and the side panel.

use super::attachments::Attachments;
use super::history::History;
use super::rating::RatingForm;
use super::reply::ReplyForm;
use super::side_panel::{MoreActions, TriagePanel};
use super::sla::SlaPanel;
use super::{StatusBadge, when};
use crate::api::desk::{AssignTicket, DeskOptions, load_desk_options};
use crate::api::sla::load_ticket_sla;
use crate::api::tickets::{
    EscalateTicket, MergeTicket, RateTicket, ReplyToTicket, UpdateTicket, attach_files,
    load_older_comments, load_ticket, ticket_path,
};
use crate::domain::policy::permits;
use crate::domain::sla::TicketSla;
use crate::domain::ticket::{Comment, CommentPage, TicketStatus};
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
        </ol>
    }
    // Erased: the pages that hold it would otherwise have types too deep
    // for the compiler.
    .into_any()
}

#[component]
pub fn TicketPage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    // Whoever reads internal things gets the desk's view of the ticket.
    let staff = permits(user.role, Capability::ReadInternalNotes);
    let params = use_params_map();
    let reply = ServerAction::<ReplyToTicket>::new();
    let update = ServerAction::<UpdateTicket>::new();
    let rate = ServerAction::<RateTicket>::new();
    let escalate = ServerAction::<EscalateTicket>::new();
    let merge = ServerAction::<MergeTicket>::new();
    let attach = upload_action(attach_files);
    let routed = fields_action();
    let assign = ServerAction::<AssignTicket>::new();
    let manager = permits(user.role, Capability::RateAgents);
    let options = Resource::new(
        || (),
        move |()| async move {
            if staff {
                load_desk_options().await
            } else {
                Ok(DeskOptions::default())
            }
        },
    );
    let id = move || params.read().get("id").unwrap_or_default();
    let detail_version = move || {
        (
            reply.version().get(),
            update.version().get(),
            rate.version().get(),
            attach.version().get(),
            escalate.version().get(),
            merge.version().get(),
            routed.version().get(),
            assign.version().get(),
        )
    };
    let detail = Resource::new(move || (id(), detail_version()), |(id, _)| load_ticket(id));
    // Staff's SLA panel, reloaded with the ticket.
    let sla = Resource::new(
        move || (id(), detail_version()),
        move |(id, _)| async move {
            match uuid::Uuid::parse_str(&id) {
                Ok(id) if staff => load_ticket_sla(id).await,
                _ => Ok(TicketSla::default()),
            }
        },
    );
    let rate_error = last_error(rate.value());
    let reply_error = last_error(reply.value());
    let update_error = last_error(update.value());
    let escalate_error = last_error(escalate.value());
    let merge_error = last_error(merge.value());
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading ticket…"</p> }>
            {move || Suspend::new(async move {
                let detail = match detail.await {
                    Ok(detail) => detail,
                    Err(error) => return view! { <ErrorNotice error /> }.into_any(),
                };
                let options = options.await.unwrap_or_default();
                let sla = sla.await.ok().filter(|_| staff);
                let name_in = |id: Option<uuid::Uuid>, names: Vec<(uuid::Uuid, String)>| {
                    id.and_then(|id| names.into_iter().find(|(i, _)| *i == id).map(|(_, n)| n))
                };
                let team_name = name_in(detail.ticket.team_id, options.teams.iter().map(|t| (t.id, t.name.clone())).collect());
                let category_name = name_in(detail.ticket.category_id, options.categories.iter().map(|c| (c.id, c.name.clone())).collect());
                let t = detail.ticket.clone();
                let id = t.id.to_string();
                view! {
                    <Title text=format!("{} {}", t.display_number, t.subject) />
                    <header class="page-header">
                        <p class="muted">{t.display_number.clone()}</p>
                        <h1>{t.subject.clone()}</h1>
                        <p class="ticket-facts">
                            <StatusBadge status=t.status />
                            <span>{format!("Priority: {}", t.priority.label())}</span>
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
                    <div class=if staff { "ticket-layout with-panel" } else { "ticket-layout" }>
                        <section aria-label="Messages">
                            <Conversation
                                description_html=detail.description_html.clone()
                                requester=detail.requester_name.clone()
                                created=when(t.created_at)
                                comments=detail.comments.clone()
                                older=detail.older_comments.clone()
                                load_older={
                                    let id = id.clone();
                                    move |before| load_older_comments(id.clone(), before)
                                }
                            />
                            {staff.then(|| view! { <Shortcuts ticket_id=id.clone() /> })}
                            <ReplyForm action=reply error=reply_error ticket_id=id.clone() staff closed=t.status == TicketStatus::Closed canned=options.canned.clone() />
                            <Attachments
                                files=detail.attachments.clone()
                                action=attach
                                ticket_id=id.clone()
                                staff
                                closed=t.status == TicketStatus::Closed
                            />
                            {(!staff && t.status == TicketStatus::Resolved).then(|| view! {
                                <ReopenForm action=update error=update_error ticket_id=id.clone() />
                            })}
                            {(!staff && !t.status.is_open()).then(|| view! {
                                <RatingForm action=rate error=rate_error ticket=t.clone() />
                            })}
                            {staff.then(|| view! { <History entries=detail.history.clone() fields=options.fields.clone() /> })}
                        </section>
                        {staff.then(|| view! {
                            <div class="side-panel">
                                <TriagePanel action=update error=update_error ticket=t.clone() />
                                {sla.clone().map(|sla| view! { <SlaPanel sla /> })}
                                <RoutingPanel ticket=t.clone() options=options.clone() fields_action=routed assign />
                                {manager.then(|| view! { <AgentRatingForm ticket_id=id.clone() ratings=detail.agent_ratings.clone() /> })}
                                {(t.status != TicketStatus::Closed).then(|| view! {
                                    <MoreActions
                                        escalate
                                        escalate_error
                                        merge
                                        merge_error
                                        ticket=t.clone()
                                    />
                                })}
                            </div>
                        })}
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
