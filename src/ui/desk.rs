//! Desk tools around tickets: custom field inputs, the queue's filter bar,
//! saved views and bulk bar, the ticket's routing panel (severity,
//! category, team, custom fields, assignment), managers' agent ratings and
//! keyboard shortcuts.

use super::forms::{
    FieldMessage, FormAlert, UploadAction, UploadForm, field_message, last_error, upload_action,
};
use crate::api::desk::{
    AssignTicket, DeskOptions, RateAgent, SaveView, bulk_update, delete_view, next_ticket,
    update_ticket_fields,
};
use crate::api::tickets::ticket_path;
use crate::domain::desk::{AgentRating, CustomField, FieldKind};
use crate::domain::ticket::{CustomValues, Priority, Severity, Ticket, TicketStatus};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

/// Inputs for custom fields, named `cf.<key>`, filled with `values`.
#[component]
pub fn CustomFieldInputs(fields: Vec<CustomField>, values: CustomValues) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let name = format!("cf.{}", field.key);
            let id = format!("cf-{}", field.key);
            let value = values.get(&field.key).cloned();
            let text = value
                .as_ref()
                .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                .unwrap_or_default();
            let label = if field.required {
                format!("{} (required)", field.label)
            } else {
                field.label.clone()
            };
            let input = match field.kind {
                FieldKind::Text => view! { <input id=id.clone() name=name type="text" value=text /> }.into_any(),
                FieldKind::Number => view! { <input id=id.clone() name=name type="number" step="any" value=text /> }.into_any(),
                FieldKind::Date => view! { <input id=id.clone() name=name type="date" value=text /> }.into_any(),
                FieldKind::Checkbox => {
                    let checked = value.and_then(|v| v.as_bool()).unwrap_or(false);
                    view! { <input id=id.clone() name=name type="checkbox" value="on" checked=checked /> }.into_any()
                }
                FieldKind::Select => {
                    let options = field
                        .options
                        .iter()
                        .map(|o| view! { <option value=o.clone() selected=*o == text>{o.clone()}</option> })
                        .collect_view();
                    view! {
                        <select id=id.clone() name=name>
                            <option value="">"—"</option>
                            {options}
                        </select>
                    }
                    .into_any()
                }
                FieldKind::MultiSelect => {
                    let chosen: Vec<String> = value
                        .and_then(|v| serde_json::from_value(v).ok())
                        .unwrap_or_default();
                    let boxes = field
                        .options
                        .iter()
                        .map(|o| {
                            view! {
                                <label class="checkbox">
                                    <input type="checkbox" name=name.clone() value=o.clone() checked=chosen.contains(o) />
                                    {format!(" {o}")}
                                </label>
                            }
                        })
                        .collect_view();
                    view! { <fieldset id=id.clone() class="choices">{boxes}</fieldset> }.into_any()
                }
            };
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    {input}
                </div>
            }
        })
        .collect_view()
}

/// `<option>`s for (id, name) pairs, with `selected` chosen.
fn choices(items: Vec<(uuid::Uuid, String)>, selected: Option<uuid::Uuid>) -> impl IntoView {
    items
        .into_iter()
        .map(|(id, name)| view! { <option value=id.to_string() selected=selected == Some(id)>{name}</option> })
        .collect_view()
}

fn named_teams(options: &DeskOptions) -> Vec<(uuid::Uuid, String)> {
    options
        .teams
        .iter()
        .map(|t| (t.id, t.name.clone()))
        .collect()
}

fn named_categories(options: &DeskOptions) -> Vec<(uuid::Uuid, String)> {
    options
        .categories
        .iter()
        .map(|c| (c.id, c.name.clone()))
        .collect()
}

/// The queue's filters as a GET form: the URL is the state, so a filtered
/// queue can be bookmarked, shared or saved as a view.
#[component]
pub fn QueueFilters(
    options: DeskOptions,
    queue: &'static str,
    query: Vec<(String, String)>,
) -> impl IntoView {
    let value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let pick = |name: &str| uuid::Uuid::parse_str(&value(name)).ok();
    let wire = |all: Vec<&'static str>, name: &str| {
        let current = value(name);
        all.into_iter()
            .map(|w| view! { <option value=w selected=current == w>{w}</option> })
            .collect_view()
    };
    let priorities = Priority::ALL.iter().map(|p| p.as_str()).collect();
    let severities = Severity::ALL.iter().map(|s| s.as_str()).collect();
    let channels = crate::domain::ticket::Channel::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let sort = value("sort");
    view! {
        <form method="get" action="/desk" class="filters" aria-label="Filters">
            <input type="hidden" name="queue" value=queue />
            <label>"Search" <input type="search" name="q" value=value("q") /></label>
            <label>"Priority" <select name="priority"><option value="">"Any"</option>{wire(priorities, "priority")}</select></label>
            <label>"Severity" <select name="severity"><option value="">"Any"</option>{wire(severities, "severity")}</select></label>
            <label>"Channel" <select name="channel"><option value="">"Any"</option>{wire(channels, "channel")}</select></label>
            <label>"Team" <select name="team"><option value="">"Any"</option>
                {choices(named_teams(&options), pick("team"))}</select></label>
            <label>"Category" <select name="category"><option value="">"Any"</option>
                {choices(named_categories(&options), pick("category"))}</select></label>
            <label>"Tag" <input type="text" name="tag" size="10" value=value("tag") /></label>
            <label>"From" <input type="date" name="created_from" value=value("created_from") /></label>
            <label>"To" <input type="date" name="created_to" value=value("created_to") /></label>
            <label>"Sort" <select name="sort">
                <option value="">"Queue order"</option>
                <option value="-created_at" selected=sort == "-created_at">"Newest"</option>
                <option value="created_at" selected=sort == "created_at">"Oldest"</option>
                <option value="-updated_at" selected=sort == "-updated_at">"Recently updated"</option>
            </select></label>
            <button type="submit" class="btn btn-quiet">"Filter"</button>
        </form>
    }
}

/// The caller's saved views, and a form to save the current filters.
#[component]
pub fn SavedViews(options: DeskOptions, filters: String) -> impl IntoView {
    let save = ServerAction::<SaveView>::new();
    let remove = Action::new(|id: &String| delete_view(id.clone()));
    let error = last_error(save.value());
    let saved = Signal::derive(move || save.version().get() + remove.version().get() > 0);
    let links = options
        .views
        .into_iter()
        .map(|v| {
            let id = v.id.to_string();
            view! {
                <li>
                    <a href=format!("/desk?queue=all-open&{}", v.query)>{v.name}</a>
                    <button type="button" class="btn-link" aria-label="Delete view"
                        on:click=move |_| { remove.dispatch(id.clone()); }>"×"</button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="saved-views" aria-label="Saved views">
            <ul class="view-list">{links}</ul>
            {move || saved.get().then(|| view! { <p role="status" class="muted">"Views changed — reload to see them."</p> })}
            <ActionForm action=save>
                <FormAlert error />
                <input type="hidden" name="query" value=filters.clone() />
                <label>"Save these filters as " <input type="text" name="name" required size="14" /></label>
                <button type="submit" class="btn btn-quiet">"Save view"</button>
            </ActionForm>
        </section>
    }
}

/// Bulk changes for the ticked rows of a queue (the rows' checkboxes are
/// named `ticket_ids` and belong to this form).
#[component]
pub fn BulkBar(options: DeskOptions, children: Children) -> impl IntoView {
    let action = upload_action(bulk_update);
    let error = last_error(action.value());
    let statuses = TicketStatus::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
        .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|p| view! { <option value=p.as_str()>{p.label()}</option> })
        .collect_view();
    let agents = options
        .agents
        .iter()
        .map(|a| view! { <option value=a.id.to_string()>{a.name.clone()}</option> })
        .collect_view();
    view! {
        <UploadForm action endpoint="/api/bulk_update">
            <div class="bulk-bar" aria-label="Change the ticked tickets">
                <FormAlert error />
                {move || matches!(action.value().get(), Some(Ok(()))).then(|| view! {
                    <p role="status" class="alert alert-success">"Tickets updated. Reload to see the queue as it is now."</p>
                })}
                <label>"Status" <select name="status"><option value="">"—"</option>{statuses}</select></label>
                <label>"Priority" <select name="priority"><option value="">"—"</option>{priorities}</select></label>
                <label>"Assign" <select name="assignee_id"><option value="">"—"</option><option value="none">"Nobody"</option>{agents}</select></label>
                <label>"Add tag" <input type="text" name="add_tag" size="10" /></label>
                <button type="submit" class="btn btn-quiet" disabled=move || action.pending().get()>"Apply to ticked"</button>
            </div>
            <FieldMessage
                name="ticket_ids"
                hint="Tick tickets below, choose what changes, then apply.".into()
                message=field_message("ticket_ids", error)
            />
            {children()}
        </UploadForm>
    }
}

/// Severity, category, team and custom fields; assignment to a team or
/// automatically within it.
#[component]
pub fn RoutingPanel(
    ticket: Ticket,
    options: DeskOptions,
    fields_action: UploadAction,
    /// Owned by the page, which reloads the ticket when it is done.
    assign: ServerAction<AssignTicket>,
) -> impl IntoView {
    let fields_error = last_error(fields_action.value());
    let assign_error = last_error(assign.value());
    let id = ticket.id.to_string();
    let severities = Severity::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str() selected=ticket.severity == Some(*s)>{s.label()}</option> })
        .collect_view();
    let (teams, assign_teams) = (named_teams(&options), named_teams(&options));
    let (fields_id, assign_id) = (id.clone(), id);
    view! {
        <aside class="card triage" aria-label="Routing">
            <h2>"Routing"</h2>
            <UploadForm action=fields_action endpoint="/api/update_ticket_fields">
                <div class="stack">
                    <FormAlert error=fields_error />
                    <input type="hidden" name="ticket_id" value=fields_id />
                    <div class="field">
                        <label for="severity">"Severity"</label>
                        <select id="severity" name="severity"><option value="">"—"</option>{severities}</select>
                    </div>
                    <div class="field">
                        <label for="category_id">"Category"</label>
                        <select id="category_id" name="category_id"><option value="">"—"</option>
                            {choices(named_categories(&options), ticket.category_id)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="team_id">"Team"</label>
                        <select id="team_id" name="team_id"><option value="">"—"</option>{choices(teams, ticket.team_id)}</select>
                    </div>
                    <CustomFieldInputs fields=options.fields.clone() values=ticket.custom_fields.clone() />
                    <button type="submit" class="btn btn-primary">"Save fields"</button>
                </div>
            </UploadForm>
            <ActionForm action=assign>
                <div class="stack">
                    <FormAlert error=assign_error />
                    <input type="hidden" name="ticket_id" value=assign_id />
                    <div class="field">
                        <label for="assign-team">"Assign within team"</label>
                        <select id="assign-team" name="team_id"><option value="">"The ticket's team"</option>{choices(assign_teams, None)}</select>
                    </div>
                    <input type="hidden" name="auto" value="on" />
                    <button type="submit" class="btn btn-quiet" disabled=move || assign.pending().get()>"Auto-assign"</button>
                </div>
            </ActionForm>
        </aside>
    }
}

/// A manager's 1–5 rating of how the assignee handled the ticket.
#[component]
pub fn AgentRatingForm(ticket_id: String, ratings: Vec<AgentRating>) -> impl IntoView {
    let action = ServerAction::<RateAgent>::new();
    let error = last_error(action.value());
    let current = ratings.last().map(|r| r.score);
    let scores = (1..=5)
        .rev()
        .map(|n| view! { <option value=n.to_string() selected=current == Some(n)>{n.to_string()}</option> })
        .collect_view();
    view! {
        <section class="card triage" aria-labelledby="agent-rating-title">
            <h2 id="agent-rating-title">"Rate the handling"</h2>
            {current.map(|score| view! { <p class="muted">{format!("Rated {score} of 5.")}</p> })}
            {move || matches!(action.value().get(), Some(Ok(()))).then(|| view! {
                <p role="status" class="alert alert-success">"Rating saved."</p>
            })}
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <input type="hidden" name="ticket_id" value=ticket_id />
                    <div class="field">
                        <label for="agent-score">"Score (1–5)"</label>
                        <select id="agent-score" name="score">{scores}</select>
                    </div>
                    <div class="field">
                        <label for="agent-comment">"Comment"</label>
                        <textarea id="agent-comment" name="comment" rows="2"></textarea>
                    </div>
                    <button type="submit" class="btn btn-quiet">"Save rating"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// `r` reply, `n` internal note, `j` next ticket — while not typing.
#[component]
pub fn Shortcuts(ticket_id: String) -> impl IntoView {
    let next = Action::new(|id: &String| next_ticket(id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(Some(id))) = next.value().get() {
            let _ = window()
                .location()
                .set_href(&ticket_path(true, &id.to_string()));
        }
    });
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let document = document();
        let focus_reply = |internal: bool| {
            if let Some(box_) = document.get_element_by_id("internal") {
                box_.unchecked_into::<leptos::web_sys::HtmlInputElement>()
                    .set_checked(internal);
            }
            if let Some(body) = document.get_element_by_id("body") {
                let _ = body
                    .unchecked_into::<leptos::web_sys::HtmlElement>()
                    .focus();
            }
        };
        match ev.key().as_str() {
            "r" => focus_reply(false),
            "n" => focus_reply(true),
            "j" => {
                next.dispatch(ticket_id.clone());
            }
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || handle.remove());
    view! {
        <p class="muted shortcuts">
            "Shortcuts: " <kbd>"r"</kbd> " reply · " <kbd>"n"</kbd> " internal note · " <kbd>"j"</kbd> " next ticket"
        </p>
    }
}

/// The routing form's action: a multipart server function (multi-selects).
pub fn fields_action() -> UploadAction {
    upload_action(update_ticket_fields)
}
