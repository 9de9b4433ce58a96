//! Ticket screens: the customer's requests, the desk queues, the new-request
//! form and the ticket page with its conversation, triage (fields,
//! escalation, merge) and history.

use super::desk::{
    AgentRatingForm, BulkBar, CustomFieldInputs, QueueFilters, RoutingPanel, SavedViews, Shortcuts,
    fields_action,
};
use super::forms::{
    Field, FieldMessage, FormAlert, TextAreaField, UploadAction, UploadForm, last_error,
    reset_on_success, upload_action,
};
use super::frame::CurrentUser;
use super::status_pages::ErrorNotice;
use crate::api::desk::{AssignTicket, DeskOptions, fill_canned, load_desk_options};
use crate::api::tickets::{
    EscalateTicket, MergeTicket, Queue, RateTicket, ReplyToTicket, UpdateTicket, attach_files,
    create_ticket, list_tickets, load_ticket, ticket_path,
};
use crate::domain::ApiError;
use crate::domain::Role;
use crate::domain::attachment::{Attachment, MAX_FILES_PER_REQUEST, download_path, human_size};
use crate::domain::desk::{CannedResponse, CustomField};
use crate::domain::ticket::{
    Channel, Comment, CustomValues, HistoryEntry, Priority, Satisfaction, Ticket, TicketStatus,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

pub(crate) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub(crate) fn StatusBadge(status: TicketStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str())>{status.label()}</span> }
}

#[component]
fn TicketTable(tickets: Vec<Ticket>, staff: bool, caption: &'static str) -> impl IntoView {
    // Staff tick rows for the bulk bar around the table.
    if tickets.is_empty() {
        return view! { <p class="empty">"No tickets here."</p> }.into_any();
    }
    let rows = tickets
        .into_iter()
        .map(|t| {
            let href = ticket_path(staff, &t.id.to_string());
            let pick = staff.then(|| {
                let label = format!("Select {}", t.display_number);
                view! { <td><input type="checkbox" name="ticket_ids" value=t.id.to_string() aria-label=label /></td> }
            });
            view! {
                <tr>
                    {pick}
                    <td class="nowrap">{t.display_number.clone()}</td>
                    <td><a href=href>{t.subject.clone()}</a></td>
                    <td><StatusBadge status=t.status /></td>
                    <td>{t.priority.label()}</td>
                    <td class="nowrap">{when(t.created_at)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <caption class="sr-only">{caption}</caption>
            <thead>
                <tr>
                    {staff.then(|| view! { <th scope="col"><span class="sr-only">"Select"</span></th> })}
                    <th scope="col">"Number"</th>
                    <th scope="col">"Subject"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Priority"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// A queue's tickets, narrowed by `filters` (a query string).
type QueueTickets = Resource<Result<Vec<Ticket>, ApiError>>;

/// Created where the page's other resources are, never inside a `Suspend`:
/// the server and the hydrating browser must create resources in the same
/// order to match each one's data.
fn queue_tickets(queue: Signal<Queue>, filters: Signal<String>) -> QueueTickets {
    Resource::new(
        move || (queue.get(), filters.get()),
        |(queue, filters)| list_tickets(queue, filters),
    )
}

/// A list of tickets loaded from a queue.
#[component]
fn QueueList(tickets: QueueTickets, caption: &'static str, staff: bool) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading tickets…"</p> }>
            {move || Suspend::new(async move {
                match tickets.await {
                    Ok(list) => view! { <TicketTable tickets=list staff caption /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The customer's requests (the portal home).
#[component]
pub fn MyRequests() -> impl IntoView {
    view! {
        <div class="toolbar">
            <h2>"My requests"</h2>
            <a class="btn btn-primary" href="/portal/new">"New request"</a>
        </div>
        <QueueList tickets=queue_tickets(Queue::Mine.into(), Signal::stored(String::new())) caption=Queue::Mine.label() staff=false />
    }
}

/// The desk's queue views, picked with `?queue=`, narrowed by the filter
/// bar (the rest of the query string), with saved views and bulk changes.
#[component]
pub fn DeskQueues() -> impl IntoView {
    let query = use_query_map();
    let queue = Signal::derive(move || {
        query
            .read()
            .get("queue")
            .and_then(|q| Queue::from_slug(&q))
            .unwrap_or(Queue::Unassigned)
    });
    let pairs = Signal::derive(move || {
        query
            .read()
            .latest_values()
            .filter(|(k, v)| *k != "queue" && !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_owned()))
            .collect::<Vec<_>>()
    });
    let filters = Signal::derive(move || {
        let map: leptos_router::params::ParamsMap = pairs.get().into_iter().collect();
        map.to_query_string().trim_start_matches('?').to_owned()
    });
    let options = Resource::new(|| (), |()| load_desk_options());
    let tickets = queue_tickets(queue, filters);
    let tabs = Queue::DESK
        .into_iter()
        .map(|q| {
            view! {
                <li>
                    <a
                        href=format!("/desk?queue={}", q.slug())
                        aria-current=move || (queue.get() == q).then_some("page")
                    >
                        {q.label()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <nav aria-label="Queues" class="tabs"><ul>{tabs}</ul></nav>
            <a class="btn btn-primary" href="/desk/new">"New ticket"</a>
        </div>
        <Suspense fallback=|| ()>
            {move || {
                // Tracked here, so moving to another queue or filter redraws the bars.
                let (queue, query, filters) = (queue.get(), pairs.get(), filters.get());
                Suspend::new(async move {
                    let options = options.await.unwrap_or_default();
                    view! {
                        <QueueFilters options=options.clone() queue=queue.slug() query />
                        <SavedViews options=options.clone() filters />
                        <BulkBar options>
                            <QueueList tickets caption=queue.label() staff=true />
                        </BulkBar>
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn NewTicketPage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let create = upload_action(create_ticket);
    let error = last_error(create.value());
    let options = Resource::new(|| (), |()| load_desk_options());
    let staff = user.role.is_staff();
    let heading = if staff { "New ticket" } else { "New request" };
    // How the request reached the agent who types it in.
    let channels = [
        Channel::Phone,
        Channel::Email,
        Channel::Web,
        Channel::Whatsapp,
        Channel::Sms,
    ]
    .iter()
    .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
    .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|p| view! { <option value=p.as_str() selected=*p == Priority::Medium>{p.label()}</option> })
        .collect_view();
    view! {
        <Title text=heading />
        <h1>{heading}</h1>
        <section class="card narrow">
            <UploadForm action=create endpoint="/api/create_ticket">
                <div class="stack">
                    <FormAlert error />
                    {staff.then(|| view! {
                        <Field
                            name="requester_email"
                            label="Requester email"
                            kind="email"
                            autocomplete="off"
                            optional=true
                            hint="Who the ticket is for. Someone new becomes a contact and is mailed a link to follow it. Empty: yourself."
                            error
                        />
                        <div class="field">
                            <label for="channel">"Channel"</label>
                            <select id="channel" name="channel">{channels}</select>
                        </div>
                    })}
                    <Field name="subject" label="Subject" error />
                    <div class="field">
                        <label for="description">"Description"</label>
                        <textarea id="description" name="description" rows="8" required></textarea>
                        <p class="field-hint">"What happened, what you expected, and any error messages."</p>
                    </div>
                    <div class="field">
                        <label for="priority">"Priority"</label>
                        <select id="priority" name="priority">{priorities}</select>
                    </div>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let options = options.await.unwrap_or_default();
                            let categories = options
                                .categories
                                .iter()
                                .map(|c| view! { <option value=c.id.to_string()>{c.name.clone()}</option> })
                                .collect_view();
                            view! {
                                {(!options.categories.is_empty()).then(|| view! {
                                    <div class="field">
                                        <label for="category_id">"Category"</label>
                                        <select id="category_id" name="category_id">
                                            <option value="">"—"</option>
                                            {categories}
                                        </select>
                                    </div>
                                })}
                                <CustomFieldInputs fields=options.fields values=CustomValues::new() />
                            }
                        })}
                    </Suspense>
                    <FileInput label="Attachments" error />
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        "Submit"
                    </button>
                </div>
            </UploadForm>
        </section>
    }
}

/// A multi-file picker with its server message (the upload reader reports
/// size problems on `file`, the form's input is `files`).
#[component]
fn FileInput(label: &'static str, error: Signal<Option<ApiError>>) -> impl IntoView {
    let message = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.field("file").or(e.field("files")).map(str::to_owned))
    });
    let hint = format!("Optional. Up to {MAX_FILES_PER_REQUEST} files; screenshots, PDFs, logs.");
    view! {
        <div class="field">
            <label for="files">{label}</label>
            <input id="files" name="files" type="file" multiple aria-describedby="files-message" />
            <FieldMessage name="files" hint message />
        </div>
    }
}

/// The ticket's files, with a way to add more while it is not closed.
#[component]
fn Attachments(
    files: Vec<Attachment>,
    action: UploadAction,
    ticket_id: String,
    staff: bool,
    closed: bool,
) -> impl IntoView {
    let error = last_error(action.value());
    let items = files
        .into_iter()
        .map(|f| {
            view! {
                <li>
                    <a href=download_path(f.id)>{f.filename}</a>
                    <span class="muted">{format!(" {}", human_size(f.size))}</span>
                    {(!f.public).then(|| view! { <span class="badge badge-internal">"Internal"</span> })}
                </li>
            }
        })
        .collect::<Vec<_>>();
    let empty = items.is_empty();
    view! {
        <section class="card attachments" aria-labelledby="attachments-title">
            <h2 id="attachments-title">"Attachments"</h2>
            {if empty {
                view! { <p class="muted">"No files yet."</p> }.into_any()
            } else {
                view! { <ul class="file-list">{items}</ul> }.into_any()
            }}
            {(!closed).then(|| view! {
                <UploadForm action endpoint="/api/attach_files">
                    <div class="stack">
                        <FormAlert error />
                        <input type="hidden" name="ticket_id" value=ticket_id />
                        <FileInput label="Add files" error />
                        {staff.then(|| view! {
                            <label class="checkbox">
                                <input type="checkbox" name="internal" value="on" />
                                " Internal (only staff can see these files)"
                            </label>
                        })}
                        <button type="submit" class="btn btn-quiet" disabled=move || action.pending().get()>
                            "Upload"
                        </button>
                    </div>
                </UploadForm>
            })}
        </section>
    }
}

#[component]
pub(crate) fn Conversation(
    /// The ticket's description as safe HTML (rendered on the server).
    description_html: String,
    requester: String,
    created: String,
    comments: Vec<Comment>,
) -> impl IntoView {
    let items = comments
        .into_iter()
        .map(|c| {
            let kind = if c.public { "message" } else { "message message-internal" };
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
        })
        .collect_view();
    view! {
        <ol class="conversation" aria-label="Conversation">
            <li class="message">
                <header class="message-meta">
                    <strong>{requester}</strong>
                    <span class="muted">{created}</span>
                </header>
                <div class="message-body markdown" inner_html=description_html></div>
            </li>
            {items}
        </ol>
    }
}

#[component]
pub fn TicketPage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let staff = user.role.is_staff();
    let params = use_params_map();
    let reply = ServerAction::<ReplyToTicket>::new();
    let update = ServerAction::<UpdateTicket>::new();
    let rate = ServerAction::<RateTicket>::new();
    let escalate = ServerAction::<EscalateTicket>::new();
    let merge = ServerAction::<MergeTicket>::new();
    let attach = upload_action(attach_files);
    let routed = fields_action();
    let assign = ServerAction::<AssignTicket>::new();
    let manager = matches!(user.role, Role::Manager | Role::Admin);
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
    let detail = Resource::new(
        move || {
            (
                id(),
                reply.version().get(),
                update.version().get(),
                rate.version().get(),
                attach.version().get(),
                escalate.version().get(),
                merge.version().get(),
                routed.version().get(),
                assign.version().get(),
            )
        },
        |(id, ..)| load_ticket(id),
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

#[component]
fn ReplyForm(
    action: ServerAction<ReplyToTicket>,
    error: Signal<Option<crate::domain::ApiError>>,
    ticket_id: String,
    staff: bool,
    closed: bool,
    canned: Vec<CannedResponse>,
) -> impl IntoView {
    if closed {
        return view! { <p class="muted">"This ticket is closed. Open a new request for anything further."</p> }.into_any();
    }
    let form = reset_on_success(action.value());
    let draft = Draft::for_ticket(&ticket_id);
    let body = NodeRef::<leptos::html::Textarea>::new();
    // A canned response, filled in for this ticket, goes into the reply box.
    let fill = Action::new({
        let ticket_id = ticket_id.clone();
        move |canned_id: &String| fill_canned(ticket_id.clone(), canned_id.clone())
    });
    Effect::new({
        let draft = draft.clone();
        move |_| {
            if let (Some(Ok(text)), Some(el)) = (fill.value().get(), body.get()) {
                el.set_value(&text);
                draft.save(&text);
            }
        }
    });
    let canned_picker = (staff && !canned.is_empty()).then(|| {
        let choices = canned
            .into_iter()
            .map(|c| view! { <option value=c.id.to_string()>{c.title}</option> })
            .collect_view();
        view! {
            <div class="field canned">
                <label for="canned">"Canned response"</label>
                <select id="canned" on:change=move |ev| {
                    let id = event_target_value(&ev);
                    if !id.is_empty() {
                        fill.dispatch(id);
                    }
                }>
                    <option value="">"Insert…"</option>
                    {choices}
                </select>
            </div>
        }
    });
    // Restore a reply that was being written before a reload...
    Effect::new({
        let draft = draft.clone();
        move |_| {
            if let (Some(text), Some(el)) = (draft.load(), body.get()) {
                el.set_value(&text);
            }
        }
    });
    // ...and forget it once it is sent.
    Effect::new({
        let draft = draft.clone();
        move |_| {
            if matches!(action.value().get(), Some(Ok(_))) {
                draft.clear();
            }
        }
    });
    view! {
        <ActionForm action node_ref=form>
            <div class="stack reply-form">
                <FormAlert error />
                <input type="hidden" name="ticket_id" value=ticket_id />
                {canned_picker}
                <div class="field">
                    <label for="body">{if staff { "Reply or note" } else { "Your reply" }}</label>
                    <textarea
                        id="body"
                        name="body"
                        rows="5"
                        required
                        node_ref=body
                        on:input=move |ev| draft.save(&event_target_value(&ev))
                    ></textarea>
                    <p class="field-hint">
                        "Markdown works: **bold**, _italic_, lists, `code`, [links](https://…). "
                        {staff.then_some("Mention a colleague with @ and their email name (@dana for dana@…): they are mailed a link. ")}
                        "Drafts are kept in this browser until you send them."
                    </p>
                </div>
                {staff.then(|| view! {
                    <label class="checkbox">
                        <input type="checkbox" id="internal" name="internal" value="on" />
                        " Internal note (only staff can see it)"
                    </label>
                })}
                <button type="submit" class="btn btn-primary" disabled=move || action.pending().get()>"Send"</button>
            </div>
        </ActionForm>
    }
    .into_any()
}

/// A reply being written, kept in the browser's local storage so a reload
/// or a crash does not lose it.
#[derive(Clone)]
struct Draft {
    key: String,
}

impl Draft {
    fn for_ticket(ticket_id: &str) -> Draft {
        Draft {
            key: format!("fieldesk.draft.{ticket_id}"),
        }
    }

    fn storage() -> Option<leptos::web_sys::Storage> {
        window().local_storage().ok().flatten()
    }

    fn load(&self) -> Option<String> {
        Self::storage()?
            .get_item(&self.key)
            .ok()
            .flatten()
            .filter(|text| !text.is_empty())
    }

    fn save(&self, text: &str) {
        if let Some(storage) = Self::storage() {
            let _ = if text.is_empty() {
                storage.remove_item(&self.key)
            } else {
                storage.set_item(&self.key, text)
            };
        }
    }

    fn clear(&self) {
        self.save("");
    }
}

/// How was the help? Shown to the requester once the ticket is resolved.
#[component]
fn RatingForm(
    action: ServerAction<RateTicket>,
    error: Signal<Option<crate::domain::ApiError>>,
    ticket: Ticket,
) -> impl IntoView {
    view! {
        <RatingCard satisfaction=ticket.satisfaction.clone()>
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <input type="hidden" name="ticket_id" value=ticket.id.to_string() />
                    <RatingFields satisfaction=ticket.satisfaction.clone() />
                </div>
            </ActionForm>
        </RatingCard>
    }
}

/// The rating card around a rating form: heading, and thanks once rated.
#[component]
pub(crate) fn RatingCard(satisfaction: Option<Satisfaction>, children: Children) -> impl IntoView {
    view! {
        <section class="card rating" aria-labelledby="rating-title">
            <h2 id="rating-title">"Rate the help you got"</h2>
            {satisfaction.map(|s| view! {
                <p role="status" class="alert alert-success">{format!("Thank you! You rated this {} out of 5.", s.score)}</p>
            })}
            {children()}
        </section>
    }
}

/// A rating form's score, comment and submit button, showing the current rating.
#[component]
pub(crate) fn RatingFields(satisfaction: Option<Satisfaction>) -> impl IntoView {
    let current = satisfaction.as_ref().map(|s| s.score);
    let scores = (1..=5)
        .rev()
        .map(|n| {
            let label = match n {
                5 => "5 — Excellent",
                4 => "4 — Good",
                3 => "3 — Okay",
                2 => "2 — Poor",
                _ => "1 — Very poor",
            };
            view! { <option value=n.to_string() selected=current == Some(n)>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="score">"Rating"</label>
            <select id="score" name="score">{scores}</select>
        </div>
        <div class="field">
            <label for="comment">"Comment (optional)"</label>
            <textarea id="comment" name="comment" rows="3">
                {satisfaction.and_then(|s| s.comment).unwrap_or_default()}
            </textarea>
        </div>
        <button type="submit" class="btn btn-primary">"Send rating"</button>
    }
}

#[component]
fn TriagePanel(
    action: ServerAction<UpdateTicket>,
    error: Signal<Option<crate::domain::ApiError>>,
    ticket: Ticket,
) -> impl IntoView {
    let id = ticket.id.to_string();
    let assign_id = id.clone();
    let statuses = TicketStatus::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str() selected=*s == ticket.status>{s.label()}</option> })
        .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|p| view! { <option value=p.as_str() selected=*p == ticket.priority>{p.label()}</option> })
        .collect_view();
    view! {
        <aside class="card triage" aria-label="Ticket fields">
            <h2>"Fields"</h2>
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <input type="hidden" name="ticket_id" value=id />
                    <div class="field">
                        <label for="status">"Status"</label>
                        <select id="status" name="status">{statuses}</select>
                    </div>
                    <div class="field">
                        <label for="priority">"Priority"</label>
                        <select id="priority" name="priority">{priorities}</select>
                    </div>
                    <button type="submit" class="btn btn-primary">"Update"</button>
                </div>
            </ActionForm>
            <ActionForm action>
                <input type="hidden" name="ticket_id" value=assign_id />
                <input type="hidden" name="assign_to_me" value="on" />
                <button type="submit" class="btn btn-quiet">"Assign to me"</button>
            </ActionForm>
            <A href="/desk">"Back to the queues"</A>
        </aside>
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

/// Escalation to the managers and merging into another ticket.
#[component]
fn MoreActions(
    escalate: ServerAction<EscalateTicket>,
    escalate_error: Signal<Option<crate::domain::ApiError>>,
    merge: ServerAction<MergeTicket>,
    merge_error: Signal<Option<crate::domain::ApiError>>,
    ticket: Ticket,
) -> impl IntoView {
    let id = ticket.id.to_string();
    let escalate_id = id.clone();
    let escalation = if ticket.escalated_at.is_some() {
        view! { <p class="muted">"Already escalated to the managers."</p> }.into_any()
    } else {
        view! {
            <ActionForm action=escalate>
                <div class="stack">
                    <FormAlert error=escalate_error />
                    <input type="hidden" name="ticket_id" value=escalate_id />
                    <TextAreaField
                        name="reason"
                        label="Reason"
                        hint="What the managers need to know"
                        error=escalate_error
                    />
                    <button type="submit" class="btn btn-quiet" disabled=move || escalate.pending().get()>"Escalate"</button>
                </div>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <section class="card triage" aria-labelledby="escalate-title">
            <h2 id="escalate-title">"Escalate"</h2>
            {escalation}
        </section>
        <section class="card triage" aria-labelledby="merge-title">
            <h2 id="merge-title">"Merge into"</h2>
            <ActionForm action=merge>
                <div class="stack">
                    <FormAlert error=merge_error />
                    <input type="hidden" name="ticket_id" value=id />
                    <Field
                        name="target_id"
                        label="Merge into ticket"
                        autocomplete="off"
                        hint="Its number, e.g. TCK-000012. This ticket closes; its messages move there."
                        error=merge_error
                    />
                    <button type="submit" class="btn btn-quiet" disabled=move || merge.pending().get()>"Merge"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The audit trail, oldest first: who changed what, when, and from where.
#[component]
fn History(
    entries: Vec<HistoryEntry>,
    /// To name custom fields by their labels.
    fields: Vec<CustomField>,
) -> impl IntoView {
    let items = entries
        .into_iter()
        .map(|entry| {
            let (label, change) = describe_change(&entry, &fields);
            let meta = format!(
                "{} · {} · via {}",
                entry.actor_name.clone().unwrap_or_else(|| "System".into()),
                when(entry.at),
                source_label(&entry.source),
            );
            view! {
                <li class="history-item">
                    <span><strong>{label}</strong>": "<span class="history-change">{change}</span></span>
                    <span class="muted history-meta">{meta}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card history" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <ol class="history-list">{items}</ol>
        </section>
    }
}

fn source_label(source: &str) -> String {
    match source {
        "ui" => "web app".into(),
        "api" => "API".into(),
        other => other.replace('_', " "),
    }
}

/// A field name and its old → new values as people read them.
fn describe_change(entry: &HistoryEntry, fields: &[CustomField]) -> (String, String) {
    let field = entry.field.as_str();
    if let Some(key) = field.strip_prefix("custom_fields.") {
        let label = fields
            .iter()
            .find(|f| f.key == key)
            .map_or_else(|| humanize(key), |f| f.label.clone());
        return (label, arrow(entry.old.clone(), entry.new.clone()));
    }
    let label = match field {
        "ticket" => "Ticket",
        "subject" => "Subject",
        "status" => "Status",
        "priority" => "Priority",
        "assignee_id" => "Assignee",
        "tags" => "Tags",
        "satisfaction_score" => "Rating",
        "satisfaction_comment" => "Rating comment",
        "escalated_at" => "Escalated on",
        "escalation_reason" => "Escalation reason",
        "deleted_at" => "Deleted on",
        "merged_into_id" => "Merged into",
        "merged_from" => "Merged in",
        "split_to" => "Split off to",
        "attachment" => "File added",
        "first_response_at" => "First response",
        "resolved_at" => "Resolved on",
        "closed_at" => "Closed on",
        other => return (humanize(other), arrow(entry.old.clone(), entry.new.clone())),
    };
    let value = |v: &Option<String>| -> Option<String> {
        let v = v.as_deref().filter(|v| !v.is_empty())?;
        Some(match field {
            "status" => TicketStatus::parse(v).map_or(v.to_owned(), |s| s.label().to_owned()),
            "priority" => Priority::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
            "tags" => v.replace(',', ", "),
            _ if field.ends_with("_at") => chrono::DateTime::parse_from_rfc3339(v)
                .map_or(v.to_owned(), |t| when(t.with_timezone(&chrono::Utc))),
            _ => v.to_owned(),
        })
    };
    let (old, new) = (value(&entry.old), value(&entry.new));
    let change = match field {
        // Events rather than edits: only what happened.
        "ticket" | "attachment" | "merged_from" | "split_to" | "merged_into_id" => {
            new.unwrap_or_default()
        }
        "assignee_id" => format!(
            "{} → {}",
            old.unwrap_or_else(|| "Unassigned".into()),
            new.unwrap_or_else(|| "Unassigned".into())
        ),
        _ => arrow(old, new),
    };
    (label.to_owned(), change)
}

/// `old → new`; just the new value when the field was empty before.
fn arrow(old: Option<String>, new: Option<String>) -> String {
    let show = |v: Option<String>| v.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".into());
    match old.filter(|v| !v.is_empty()) {
        None => show(new),
        old => format!("{} → {}", show(old), show(new)),
    }
}

fn humanize(field: &str) -> String {
    let text = field.trim_end_matches("_id").replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(field: &str, old: Option<&str>, new: Option<&str>) -> HistoryEntry {
        HistoryEntry {
            actor_id: None,
            actor_name: None,
            source: "ui".into(),
            field: field.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn history_lines_read_like_sentences() {
        let line = |field, old, new| describe_change(&entry(field, old, new), &[]);
        assert_eq!(
            line("status", Some("on_hold"), Some("resolved")),
            ("Status".into(), "On hold → Resolved".into())
        );
        assert_eq!(
            line("assignee_id", None, Some("Alex Agent")),
            ("Assignee".into(), "Unassigned → Alex Agent".into())
        );
        assert_eq!(
            line("escalated_at", None, Some("2026-01-02T03:04:05+00:00")),
            ("Escalated on".into(), "2026-01-02 03:04 UTC".into())
        );
        assert_eq!(
            line("tags", Some("vip"), Some("vip,billing")),
            ("Tags".into(), "vip → vip, billing".into())
        );
        assert_eq!(
            line("attachment", None, Some("a.pdf")),
            ("File added".into(), "a.pdf".into())
        );
        assert_eq!(
            line("some_new_field", Some("a"), None),
            ("Some new field".into(), "a → —".into())
        );
        assert_eq!(source_label("ui"), "web app");
    }

    #[test]
    fn custom_fields_are_named_by_their_labels() {
        let churn = CustomField {
            id: uuid::Uuid::nil(),
            key: "churn_risk".into(),
            label: "Churn risk".into(),
            kind: crate::domain::desk::FieldKind::Select,
            options: vec!["Low".into(), "High".into()],
            required: false,
            customer_visible: false,
            position: 0,
        };
        let field = entry("custom_fields.churn_risk", None, Some("High"));
        assert_eq!(
            describe_change(&field, &[churn]),
            ("Churn risk".into(), "High".into())
        );
        // A field deleted since: its key, readable.
        let gone = entry("custom_fields.old_key", Some("x"), None);
        assert_eq!(
            describe_change(&gone, &[]),
            ("Old key".into(), "x → —".into())
        );
    }
}
