//! The notification centre: the header's bell with the unread count,
//! `/notifications` (the list, "Mark read" / "Mark all read", and which
//! kinds reach one by mail and in the app), and the administrators' mail
//! templates at `/admin/mail-templates`.

use super::live::{Delivery, follow};
use super::status_pages::ErrorNotice;
use super::tickets::when;
use crate::api::notifications::{
    MarkNotificationsRead, ResetMailTemplate, SaveMailTemplate, SaveNotificationPreference,
    list_mail_templates, list_notifications, load_notification_preferences, unread_notifications,
};
use crate::api::tickets::ticket_path;
use crate::domain::ApiError;
use crate::domain::live::{LiveEvent, NotificationCreated, Topic};
use crate::domain::notification::{MailTemplate, NotificationItem, NotificationList};
use crate::ui::forms::{FormAlert, last_error};
use leptos::prelude::*;
use leptos_meta::Title;

pub const PATH: &str = "/notifications";
pub const TEMPLATES_PATH: &str = "/admin/mail-templates";

/// What the bell says to a screen reader (and as its tooltip).
fn bell_label(unread: i64) -> String {
    match unread {
        0 => "Notifications, none unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    }
}

/// The header's link to the centre, with the unread count (counting up as
/// notifications arrive live).
#[component]
pub fn NotificationBell() -> impl IntoView {
    let unread = Resource::new(|| (), |_| unread_notifications());
    let arrived = RwSignal::new(0i64);
    follow(Topic::User, move |delivery| match delivery {
        Delivery::Event(LiveEvent::NotificationCreated(_)) => {
            arrived.try_update(|n| *n += 1);
        }
        Delivery::Reload => unread.refetch(),
        Delivery::Event(_) => {}
    });
    view! {
        <Suspense fallback=|| view! { <a class="bell" href=PATH>"Notifications"</a> }>
            {move || Suspend::new(async move {
                let loaded = unread.await.unwrap_or(0);
                let n = move || loaded + arrived.try_get().unwrap_or(0);
                view! {
                    <a class="bell" href=PATH aria-label=move || bell_label(n()) title=move || bell_label(n())>
                        <span class="bell-icon" aria-hidden="true">"🔔"</span>
                        {move || (n() > 0).then(|| view! { <span class="bell-count" aria-hidden="true">{n()}</span> })}
                    </a>
                }
            })}
        </Suspense>
    }
}

/// How long a toast stays.
const TOAST_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// Notifications as they arrive (assignments, mentions, SLA warnings and
/// breaches…), each for a few seconds or until dismissed.
#[component]
pub fn Toasts() -> impl IntoView {
    let toasts = RwSignal::new(Vec::<NotificationCreated>::new());
    let dismiss = move |id: uuid::Uuid| {
        toasts.try_update(|t| t.retain(|n| n.notification_id != id));
    };
    follow(Topic::User, move |delivery| {
        if let Delivery::Event(LiveEvent::NotificationCreated(n)) = delivery {
            let id = n.notification_id;
            toasts.try_update(|t| t.push(n.clone()));
            set_timeout(move || dismiss(id), TOAST_FOR);
        }
    });
    view! {
        <section class="toasts" aria-label="New notifications" aria-live="polite">
            <For each=move || toasts.try_get().unwrap_or_default() key=|n| n.notification_id let:n>
                <div class=format!("toast toast-{}", n.kind.as_str())>
                    {match n.ticket_id {
                        Some(ticket) => view! { <a href=ticket_path(true, &ticket.to_string())>{n.title.clone()}</a> }.into_any(),
                        None => view! { <span>{n.title.clone()}</span> }.into_any(),
                    }}
                    <button type="button" class="btn btn-quiet" aria-label="Dismiss" on:click=move |_| dismiss(n.notification_id)>"×"</button>
                </div>
            </For>
        </section>
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let list = Resource::new(
        move || mark.version().get(),
        |_| list_notifications(None, None),
    );
    let error = last_error(mark.value());
    view! {
        <Title text="Notifications" />
        <header class="page-header">
            <h1>"Notifications"</h1>
            <p class="lead">"Assignments, mentions, customer replies, escalations and SLA alerts, newest first."</p>
        </header>
        <FormAlert error />
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading notifications…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <NotificationRows list mark /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
        <Preferences />
    }
}

#[component]
fn NotificationRows(
    list: NotificationList,
    mark: ServerAction<MarkNotificationsRead>,
) -> impl IntoView {
    if list.items.is_empty() {
        return view! { <p class="muted">"Nothing yet."</p> }.into_any();
    }
    let rows = list
        .items
        .into_iter()
        .map(|n| view! { <NotificationRow n mark /> })
        .collect_view();
    view! {
        <section aria-labelledby="notifications-title">
            <div class="notifications-bar">
                <h2 id="notifications-title">{format!("{} unread", list.unread_count)}</h2>
                <ActionForm action=mark>
                    <input type="hidden" name="all" value="true" />
                    <button type="submit" class="btn btn-quiet" disabled=list.unread_count == 0>
                        "Mark all read"
                    </button>
                </ActionForm>
            </div>
            <ul class="notification-list">{rows}</ul>
        </section>
    }
    .into_any()
}

#[component]
fn NotificationRow(
    n: NotificationItem,
    mark: ServerAction<MarkNotificationsRead>,
) -> impl IntoView {
    let unread = n.read_at.is_none();
    let href = n.ticket_id.map(|id| format!("/desk/tickets/{id}"));
    let title = n.title.clone();
    view! {
        <li class=if unread { "notification unread" } else { "notification" }>
            <div class="notification-text">
                {match href {
                    Some(href) => view! { <a href=href class="notification-title">{n.title.clone()}</a> }.into_any(),
                    None => view! { <span class="notification-title">{n.title.clone()}</span> }.into_any(),
                }}
                <p>{n.body}</p>
                <p class="muted"><time datetime=n.created_at.to_rfc3339()>{when(n.created_at)}</time>
                    {(!unread).then_some(" · read")}</p>
            </div>
            {unread.then(|| view! {
                <ActionForm action=mark>
                    <input type="hidden" name="id" value=n.id.to_string() />
                    <button type="submit" class="btn btn-quiet" aria-label=format!("Mark read: {title}")>
                        "Mark read"
                    </button>
                </ActionForm>
            })}
        </li>
    }
}

/// One form per kind: by mail, in the app.
#[component]
fn Preferences() -> impl IntoView {
    let save = ServerAction::<SaveNotificationPreference>::new();
    let prefs = Resource::new(
        move || save.version().get(),
        |_| load_notification_preferences(),
    );
    let error = last_error(save.value());
    view! {
        <section class="card" aria-labelledby="preferences-title">
            <h2 id="preferences-title">"How you are told"</h2>
            <FormAlert error />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(prefs) = prefs.await else { return ().into_any() };
                    prefs.items.into_iter().map(|p| {
                        let kind = p.kind.as_str();
                        let (email_id, app_id) = (format!("pref-{kind}-email"), format!("pref-{kind}-app"));
                        view! {
                            <ActionForm action=save>
                                <fieldset class="preference">
                                    <legend>{p.kind.label()}</legend>
                                    <input type="hidden" name="kind" value=kind />
                                    <input type="checkbox" id=email_id.clone() name="email" value="on" checked=p.email />
                                    <label for=email_id>"By email"</label>
                                    <input type="checkbox" id=app_id.clone() name="in_app" value="on" checked=p.in_app />
                                    <label for=app_id>"In the app"</label>
                                    <button type="submit" class="btn btn-quiet"
                                        aria-label=format!("Save: {}", p.kind.label())>"Save"</button>
                                </fieldset>
                            </ActionForm>
                        }
                    }).collect_view().into_any()
                })}
            </Suspense>
        </section>
    }
}

/// The organization's mail texts, each with a form to change it and a
/// button to restore its default.
#[component]
pub fn MailTemplatesPage() -> impl IntoView {
    let save = ServerAction::<SaveMailTemplate>::new();
    let reset = ServerAction::<ResetMailTemplate>::new();
    let list = Resource::new(
        move || (save.version().get(), reset.version().get()),
        |_| list_mail_templates(),
    );
    let error = last_error(save.value());
    view! {
        <Title text="Mail templates" />
        <header class="page-header">
            <h1>"Mail templates"</h1>
            <p class="lead">
                "What customers and staff are mailed through a ticket's life. The subject always \
                 carries the ticket number, even if your text leaves it out."
            </p>
        </header>
        <SaveError error />
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the templates…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(templates) => {
                        let names = templates.first().map(|t| t.placeholders.iter()
                            .map(|p| format!("{{{{{p}}}}}")).collect::<Vec<_>>().join(" ")).unwrap_or_default();
                        view! {
                            <p class="muted">"Placeholders: " <code>{names}</code></p>
                            {templates.into_iter().map(|t| view! { <TemplateForm t save reset /> }).collect_view()}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A refused save: the headline and each field's message.
#[component]
fn SaveError(error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let fields = e
                .fields
                .iter()
                .map(|(field, message)| view! { <li>{format!("{field}: {message}")}</li> })
                .collect_view();
            view! { <div role="alert" class="alert alert-error">{e.error.clone()}<ul>{fields}</ul></div> }
        })
    }
}

#[component]
fn TemplateForm(
    t: MailTemplate,
    save: ServerAction<SaveMailTemplate>,
    reset: ServerAction<ResetMailTemplate>,
) -> impl IntoView {
    let key = t.key.as_str();
    let (subject_id, body_id) = (format!("{key}-subject"), format!("{key}-body"));
    let (heading, labelled_by) = (format!("{key}-title"), format!("{key}-title"));
    view! {
        <section class="card template-card" aria-labelledby=labelled_by>
            <h2 id=heading>{t.label.clone()}</h2>
            <p class="muted">{if t.customized { "Your text" } else { "The default text" }}</p>
            <ActionForm action=save>
                <input type="hidden" name="key" value=key />
                <div class="field">
                    <label for=subject_id.clone()>"Subject"</label>
                    <input id=subject_id type="text" name="subject" value=t.subject.clone() required />
                </div>
                <div class="field">
                    <label for=body_id.clone()>"Text"</label>
                    <textarea id=body_id name="body" rows="8" required>{t.body.clone()}</textarea>
                </div>
                <button type="submit" class="btn">"Save"</button>
            </ActionForm>
            <ActionForm action=reset>
                <input type="hidden" name="key" value=key />
                <button type="submit" class="btn btn-quiet" disabled=!t.customized
                    aria-label=format!("Restore the default: {}", t.label)>"Restore default"</button>
            </ActionForm>
        </section>
    }
}
