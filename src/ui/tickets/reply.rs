//! The reply form: canned responses for staff, internal notes, drafts kept
//! in the browser until they are sent, "replying…" shown to the others on
//! the ticket while the box has text, and a warning before sending when
//! someone else replied since the page was opened.

use super::live::LiveTicket;
use crate::api::desk::fill_canned;
use crate::api::tickets::ReplyToTicket;
use crate::domain::desk::CannedResponse;
use crate::domain::live::PresenceState;
use crate::ui::forms::{FormAlert, reset_on_success};
use crate::ui::live::show_presence;
use leptos::prelude::*;

#[component]
pub(super) fn ReplyForm(
    action: ServerAction<ReplyToTicket>,
    error: Signal<Option<crate::domain::ApiError>>,
    ticket_id: String,
    staff: bool,
    closed: bool,
    canned: Vec<CannedResponse>,
    /// The ticket as it is live, to warn of replies by others since the
    /// page was opened (staff).
    #[prop(optional)]
    live: Option<LiveTicket>,
) -> impl IntoView {
    if closed {
        return view! { <p class="muted">"This ticket is closed. Open a new request for anything further."</p> }.into_any();
    }
    let form = reset_on_success(action.value());
    let draft = Draft::for_ticket(&ticket_id);
    let ticket_uuid = uuid::Uuid::parse_str(&ticket_id).ok();
    // Replying while the box has text, viewing otherwise.
    let typing = move |text: &str| {
        if let Some(id) = ticket_uuid {
            let state = if text.trim().is_empty() {
                PresenceState::Viewing
            } else {
                PresenceState::Replying
            };
            show_presence(id, state);
        }
    };
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
                typing(&text);
            }
        }
    });
    // ...and forget it once it is sent.
    Effect::new({
        let draft = draft.clone();
        move |_| {
            if matches!(action.value().get(), Some(Ok(_))) {
                draft.clear();
                typing("");
            }
        }
    });
    // How many of `replied_since` the person saw in the warning.
    let seen = RwSignal::new(0usize);
    let warning_open = RwSignal::new(false);
    let unseen = move || {
        live.is_some_and(|l| l.replied_since().len() > seen.try_get().unwrap_or(usize::MAX))
    };
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
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            draft.save(&text);
                            typing(&text);
                        }
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
                <RepliedSinceWarning live open=warning_open seen form />
                <button
                    type="submit"
                    class="btn btn-primary"
                    disabled=move || action.pending().get()
                    on:click=move |ev| {
                        if unseen() {
                            ev.prevent_default();
                            warning_open.try_set(true);
                        }
                    }
                >
                    "Send"
                </button>
            </div>
        </ActionForm>
    }
    .into_any()
}

/// Shown when Send is pressed while others replied since the page was
/// opened: their replies, and "Send anyway".
#[component]
fn RepliedSinceWarning(
    live: Option<LiveTicket>,
    open: RwSignal<bool>,
    seen: RwSignal<usize>,
    form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    move || {
        let replies = live.map(LiveTicket::replied_since).unwrap_or_default();
        let unseen = replies.len() > seen.try_get().unwrap_or(usize::MAX);
        (open.try_get().unwrap_or(false) && unseen).then(|| {
            let count = replies.len();
            let mut names: Vec<String> = replies.iter().map(|c| c.author_name.clone()).collect();
            names.dedup();
            let items = replies
                .into_iter()
                .map(|c| view! {
                    <li>
                        <strong>{c.author_name}</strong>
                        <div class="message-body markdown" inner_html=c.body_html></div>
                    </li>
                })
                .collect_view();
            view! {
                <div class="alert alert-warning replied-since" role="alert">
                    <p><strong>{format!("{} replied since you opened this ticket:", names.join(", "))}</strong></p>
                    <ul class="replied-since-list">{items}</ul>
                    <div class="actions">
                        <button type="button" class="btn btn-primary" on:click=move |_| {
                            // Submit first: the button goes away with the warning.
                            if let Some(form) = form.get_untracked() {
                                let _ = form.request_submit();
                            }
                            seen.try_set(count);
                            open.try_set(false);
                        }>"Send anyway"</button>
                        <button type="button" class="btn btn-quiet" on:click=move |_| {
                            seen.try_set(count);
                            open.try_set(false);
                        }>"Review first"</button>
                    </div>
                </div>
            }
        })
    }
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
