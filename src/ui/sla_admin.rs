//! `/admin/sla` and `/manager/sla`: business calendars and the ordered SLA
//! policies (create, edit, reorder, deactivate), with the simulator on the
//! policy form, so whoever sets a policy up sees what a ticket created now
//! would get before any ticket does. Managers and administrators
//! (`manage_sla`); the server checks every call.

use super::forms::FormAlert;
use super::status_pages::ErrorNotice;
use super::tickets::when;
use crate::api::sla::{
    list_sla_calendars, list_sla_policies, reorder_sla_policies, save_sla_calendar,
    save_sla_policy, simulate_sla_policy,
};
use crate::domain::ApiError;
use crate::domain::sla::{
    PolicyConditions, PolicyOrder, SimulatedDue, SlaCalendar, SlaCalendarInput, SlaPolicy,
    SlaPolicyInput,
};
use crate::domain::ticket::{Channel, Priority, Severity};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;
use uuid::Uuid;

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// What the page is editing: nothing, a new record, or an existing one.
#[derive(Clone, PartialEq)]
enum Editing<T> {
    Nothing,
    New,
    Existing(T),
}

#[component]
pub fn SlaAdminPage() -> impl IntoView {
    // Bumped after every save, so both lists reload.
    let saved = RwSignal::new(0u32);
    let calendars = Resource::new(move || saved.get(), |_| list_sla_calendars());
    let policies = Resource::new(move || saved.get(), |_| list_sla_policies());
    let on_saved = Callback::new(move |()| saved.update(|n| *n += 1));
    view! {
        <Title text="Service levels" />
        <header class="page-header">
            <h1>"Service levels"</h1>
            <p class="lead">
                "Business calendars say when the clock runs; policies say which tickets get which \
                 targets. The first active policy whose conditions match a ticket applies."
            </p>
        </header>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading service levels…"</p> }>
            {move || Suspend::new(async move {
                match (calendars.await, policies.await) {
                    (Ok(calendars), Ok(policies)) => view! {
                        <Policies policies calendars=calendars.clone() on_saved />
                        <Calendars calendars on_saved />
                    }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Each field's message of a refused save, under the form.
#[component]
fn FieldErrors(error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| !e.fields.is_empty()).map(|e| {
            let items = e
                .fields
                .into_iter()
                .map(|(field, message)| view! { <li><code>{field}</code>": "{message}</li> })
                .collect_view();
            view! { <ul class="field-errors" role="alert">{items}</ul> }
        })
    }
}

/// Closes the editor and reloads the lists once a save succeeds; the
/// error of a refused one, for the form.
fn close_when_saved<I, T, E>(
    save: Action<I, Result<T, ApiError>>,
    editing: RwSignal<Editing<E>>,
    on_saved: Callback<()>,
) -> Signal<Option<ApiError>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            editing.set(Editing::Nothing);
            on_saved.run(());
        }
    });
    Signal::derive(move || save.value().get().and_then(Result::err))
}

// ------------------------------------------------------------------ calendars

#[component]
fn Calendars(calendars: Vec<SlaCalendar>, on_saved: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(Editing::<SlaCalendar>::Nothing);
    let rows = calendars
        .into_iter()
        .map(|calendar| {
            let edit = calendar.clone();
            let label = format!("Edit calendar {}", calendar.name);
            view! {
                <tr>
                    <th scope="row">{calendar.name.clone()}</th>
                    <td>{calendar_zone(&calendar)}</td>
                    <td>{hours_summary(&calendar)}</td>
                    <td>{calendar.holidays.len()}</td>
                    <td>{if calendar.active { "Active" } else { "Inactive" }}</td>
                    <td>
                        <button type="button" class="btn btn-quiet" aria-label=label
                            on:click=move |_| editing.set(Editing::Existing(edit.clone()))>"Edit"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="calendars-title" class="card sla-admin">
            <div class="section-head">
                <h2 id="calendars-title">"Business calendars"</h2>
                <button type="button" class="btn" on:click=move |_| editing.set(Editing::New)>"New calendar"</button>
            </div>
            <div class="table-scroll"><table class="table sla-table">
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Time zone"</th>
                    <th scope="col">"Working hours"</th><th scope="col">"Holidays"</th>
                    <th scope="col">"State"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
            {move || match editing.get() {
                Editing::Nothing => None,
                Editing::New => Some(view! { <CalendarForm calendar=None editing on_saved /> }),
                Editing::Existing(c) => Some(view! { <CalendarForm calendar=Some(c) editing on_saved /> }),
            }}
        </section>
    }
}

fn calendar_zone(calendar: &SlaCalendar) -> String {
    if calendar.always_open {
        "Always open (24/7)".into()
    } else {
        calendar.timezone.clone().unwrap_or_default()
    }
}

fn hours_summary(calendar: &SlaCalendar) -> String {
    if calendar.always_open {
        return "Every minute".into();
    }
    DAYS.iter()
        .filter_map(|(key, name)| {
            let intervals = calendar.hours.get(*key)?;
            (!intervals.is_empty()).then(|| format!("{} {}", &name[..3], intervals_text(intervals)))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `[["08:00","12:00"],["13:00","18:00"]]` → `08:00-12:00, 13:00-18:00`.
fn intervals_text(intervals: &[Vec<String>]) -> String {
    intervals
        .iter()
        .map(|i| i.join("-"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The inverse of `intervals_text`; a piece without a dash goes to the
/// server as it is, which names the day in its answer.
fn parse_intervals(text: &str) -> Vec<Vec<String>> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            piece
                .split(['-', '–'])
                .map(|end| end.trim().to_string())
                .collect()
        })
        .collect()
}

#[component]
fn CalendarForm(
    calendar: Option<SlaCalendar>,
    editing: RwSignal<Editing<SlaCalendar>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let id = calendar.as_ref().map(|c| c.id);
    let c = calendar.unwrap_or_else(|| SlaCalendar {
        id: Uuid::nil(),
        name: String::new(),
        timezone: Some("UTC".into()),
        always_open: false,
        hours: DAYS[..5]
            .iter()
            .map(|(key, _)| (key.to_string(), vec![vec!["09:00".into(), "17:00".into()]]))
            .collect(),
        holidays: Vec::new(),
        active: true,
        created_at: Default::default(),
        updated_at: Default::default(),
    });
    let name = RwSignal::new(c.name.clone());
    let timezone = RwSignal::new(c.timezone.clone().unwrap_or_default());
    let always_open = RwSignal::new(c.always_open);
    let hours = DAYS.map(|(key, _)| {
        RwSignal::new(
            c.hours
                .get(key)
                .map(|i| intervals_text(i))
                .unwrap_or_default(),
        )
    });
    let holidays = RwSignal::new(c.holidays.join("\n"));
    let active = RwSignal::new(c.active);

    let save = Action::new(move |input: &SlaCalendarInput| save_sla_calendar(id, input.clone()));
    let error = close_when_saved(save, editing, on_saved);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut by_day = BTreeMap::new();
        for (i, (key, _)) in DAYS.iter().enumerate() {
            let intervals = parse_intervals(&hours[i].get_untracked());
            if !intervals.is_empty() {
                by_day.insert(key.to_string(), intervals);
            }
        }
        save.dispatch(SlaCalendarInput {
            name: name.get_untracked(),
            timezone: Some(timezone.get_untracked()).filter(|z| !z.trim().is_empty()),
            always_open: always_open.get_untracked(),
            hours: by_day,
            holidays: holidays
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            active: Some(active.get_untracked()),
        });
    };
    let day_inputs = DAYS
        .iter()
        .enumerate()
        .map(|(i, (key, day))| {
            let input_id = format!("calendar-hours-{key}");
            view! {
                <div class="field">
                    <label for=input_id.clone()>{format!("{day} hours")}</label>
                    <input id=input_id type="text" placeholder="closed" bind:value=hours[i]
                        disabled=move || always_open.get() />
                </div>
            }
        })
        .collect_view();
    let title = if id.is_some() {
        "Edit calendar"
    } else {
        "New calendar"
    };
    view! {
        <form class="stack sla-editor" aria-label=title on:submit=submit>
            <h3>{title}</h3>
            <FormAlert error />
            <div class="field">
                <label for="calendar-name">"Calendar name"</label>
                <input id="calendar-name" type="text" required bind:value=name />
            </div>
            <div class="field">
                <label for="calendar-timezone">"Time zone"</label>
                <input id="calendar-timezone" type="text" placeholder="Europe/Berlin" bind:value=timezone
                    aria-describedby="calendar-timezone-hint" disabled=move || always_open.get() />
                <p id="calendar-timezone-hint" class="field-hint">"An IANA zone name, e.g. Europe/Berlin or America/New_York."</p>
            </div>
            <label class="check"><input type="checkbox" bind:checked=always_open />" Always open (24/7)"</label>
            <fieldset>
                <legend>"Working hours (local time; e.g. 08:00-12:00, 13:00-18:00; 24:00 ends a day; empty: closed)"</legend>
                {day_inputs}
            </fieldset>
            <div class="field">
                <label for="calendar-holidays">"Holidays"</label>
                <textarea id="calendar-holidays" rows="4" bind:value=holidays
                    aria-describedby="calendar-holidays-hint"></textarea>
                <p id="calendar-holidays-hint" class="field-hint">"One per line: 2026-12-24 for one day, 12-25 for every year."</p>
            </div>
            <label class="check"><input type="checkbox" bind:checked=active />" Active"</label>
            <FieldErrors error />
            <div class="actions">
                <button type="submit" class="btn" disabled=move || save.pending().get()>"Save calendar"</button>
                <button type="button" class="btn btn-quiet" on:click=move |_| editing.set(Editing::Nothing)>"Cancel"</button>
            </div>
        </form>
    }
}

// ------------------------------------------------------------------ policies

#[component]
fn Policies(
    policies: Vec<SlaPolicy>,
    calendars: Vec<SlaCalendar>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let editing = RwSignal::new(Editing::<SlaPolicy>::Nothing);
    let order: Vec<Uuid> = policies.iter().map(|p| p.id).collect();
    let reorder =
        Action::new(move |ids: &Vec<Uuid>| reorder_sla_policies(PolicyOrder { ids: ids.clone() }));
    let reorder_error = Signal::derive(move || reorder.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if matches!(reorder.value().get(), Some(Ok(_))) {
            on_saved.run(());
        }
    });
    let count = policies.len();
    let calendar_names: BTreeMap<Uuid, String> =
        calendars.iter().map(|c| (c.id, c.name.clone())).collect();
    let rows = policies
        .into_iter()
        .enumerate()
        .map(|(i, policy)| {
            let moved = |from: usize, to: usize| {
                let mut ids = order.clone();
                ids.swap(from, to);
                ids
            };
            let up = (i > 0).then(|| moved(i, i - 1));
            let down = (i + 1 < count).then(|| moved(i, i + 1));
            let edit = policy.clone();
            let name = policy.name.clone();
            view! {
                <tr>
                    <td>{i + 1}</td>
                    <th scope="row">{policy.name.clone()}</th>
                    <td>{conditions_text(&policy.conditions)}</td>
                    <td>{targets_text(&policy)}</td>
                    <td>{calendar_names.get(&policy.calendar_id).cloned().unwrap_or_default()}</td>
                    <td>{if policy.active { "Active" } else { "Inactive" }}</td>
                    <td class="row-actions">
                        {up.map(|ids| view! {
                            <button type="button" class="btn btn-quiet" aria-label=format!("Move {name} up")
                                on:click=move |_| { reorder.dispatch(ids.clone()); }>"↑"</button>
                        })}
                        {down.map(|ids| view! {
                            <button type="button" class="btn btn-quiet" aria-label=format!("Move {} down", policy.name)
                                on:click=move |_| { reorder.dispatch(ids.clone()); }>"↓"</button>
                        })}
                        <button type="button" class="btn btn-quiet" aria-label=format!("Edit policy {}", edit.name)
                            on:click=move |_| editing.set(Editing::Existing(edit.clone()))>"Edit"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let no_calendar = calendars.is_empty();
    view! {
        <section aria-labelledby="policies-title" class="card sla-admin">
            <div class="section-head">
                <h2 id="policies-title">"Policies"</h2>
                <button type="button" class="btn" disabled=no_calendar
                    on:click=move |_| editing.set(Editing::New)>"New policy"</button>
            </div>
            {no_calendar.then(|| view! { <p class="muted">"Create a business calendar first: every policy counts time on one."</p> })}
            <FormAlert error=reorder_error />
            <div class="table-scroll"><table class="table sla-table">
                <caption class="sr-only">"Policies, first tried first"</caption>
                <thead><tr>
                    <th scope="col">"Order"</th><th scope="col">"Name"</th><th scope="col">"Applies to"</th>
                    <th scope="col">"Targets"</th><th scope="col">"Calendar"</th><th scope="col">"State"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
            {move || {
                let calendars = calendars.clone();
                match editing.get() {
                    Editing::Nothing => None,
                    Editing::New => Some(view! { <PolicyForm policy=None calendars editing on_saved /> }),
                    Editing::Existing(p) => Some(view! { <PolicyForm policy=Some(p) calendars editing on_saved /> }),
                }
            }}
        </section>
    }
}

fn conditions_text(c: &PolicyConditions) -> String {
    let mut parts = Vec::new();
    let mut list = |label: &str, values: &[String]| {
        if !values.is_empty() {
            parts.push(format!("{label}: {}", values.join(", ")));
        }
    };
    list("priority", &c.priority);
    list("severity", &c.severity);
    list("channel", &c.channel);
    list("tags", &c.tags);
    for (label, ids) in [
        ("category", &c.category),
        ("team", &c.team),
        ("company", &c.company),
    ] {
        if !ids.is_empty() {
            parts.push(format!("{label}: {} chosen", ids.len()));
        }
    }
    if parts.is_empty() {
        "Every ticket".into()
    } else {
        parts.join("; ")
    }
}

fn minutes_text(minutes: Option<i64>) -> String {
    match minutes {
        None => "—".into(),
        Some(m) if m % 60 == 0 => format!("{} h", m / 60),
        Some(m) => format!("{m} min"),
    }
}

fn targets_text(p: &SlaPolicy) -> String {
    format!(
        "first response {}, next {}, resolution {} ({})",
        minutes_text(p.first_response_minutes),
        minutes_text(p.next_response_minutes),
        minutes_text(p.resolution_minutes),
        if p.business_hours {
            "business time"
        } else {
            "calendar time"
        }
    )
}

/// A number input's text as minutes: empty is no target; anything else
/// goes to the server, which says what is wrong with it.
fn minutes_value(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        None
    } else {
        Some(text.parse().unwrap_or(-1))
    }
}

/// Checkboxes for an enum's values, bound to a list of wire names.
#[component]
fn ChoiceSet(
    legend: &'static str,
    name: &'static str,
    choices: Vec<(&'static str, &'static str)>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    let boxes = choices
        .into_iter()
        .map(|(value, label)| {
            let id = format!("{name}-{value}");
            view! {
                <label class="check">
                    <input type="checkbox" id=id
                        prop:checked=move || chosen.with(|c| c.iter().any(|v| v == value))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|v| v != value);
                                if on { c.push(value.to_string()); }
                            });
                        } />
                    " " {label}
                </label>
            }
        })
        .collect_view();
    view! { <fieldset class="choices"><legend>{legend}</legend>{boxes}</fieldset> }
}

#[component]
fn PolicyForm(
    policy: Option<SlaPolicy>,
    calendars: Vec<SlaCalendar>,
    editing: RwSignal<Editing<SlaPolicy>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let id = policy.as_ref().map(|p| p.id);
    let first_calendar = calendars.first().map(|c| c.id).unwrap_or_default();
    let text = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_default();
    let p = policy.as_ref();
    let name = RwSignal::new(p.map(|p| p.name.clone()).unwrap_or_default());
    let calendar = RwSignal::new(p.map_or(first_calendar, |p| p.calendar_id).to_string());
    let priority = RwSignal::new(p.map(|p| p.conditions.priority.clone()).unwrap_or_default());
    let severity = RwSignal::new(p.map(|p| p.conditions.severity.clone()).unwrap_or_default());
    let channel = RwSignal::new(p.map(|p| p.conditions.channel.clone()).unwrap_or_default());
    let tags = RwSignal::new(p.map(|p| p.conditions.tags.join(", ")).unwrap_or_default());
    let first = RwSignal::new(text(p.map_or(Some(240), |p| p.first_response_minutes)));
    let next = RwSignal::new(text(p.and_then(|p| p.next_response_minutes)));
    let resolution = RwSignal::new(text(p.and_then(|p| p.resolution_minutes)));
    let business = RwSignal::new(p.is_none_or(|p| p.business_hours));
    let warning = RwSignal::new(p.map_or(75, |p| p.warning_percent).to_string());
    let raise = RwSignal::new(
        p.and_then(|p| p.raise_priority)
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
    );
    let active = RwSignal::new(p.is_none_or(|p| p.active));
    // Conditions this form does not edit (categories, teams, companies) are kept.
    let kept = p.map(|p| p.conditions.clone()).unwrap_or_default();
    let reassign = p.and_then(|p| p.reassign_team_id);

    let input = move || SlaPolicyInput {
        name: name.get_untracked(),
        active: Some(active.get_untracked()),
        calendar_id: calendar.get_untracked().parse().ok(),
        conditions: PolicyConditions {
            priority: priority.get_untracked(),
            severity: severity.get_untracked(),
            channel: channel.get_untracked(),
            tags: tags
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            ..kept.clone()
        },
        first_response_minutes: minutes_value(&first.get_untracked()),
        next_response_minutes: minutes_value(&next.get_untracked()),
        resolution_minutes: minutes_value(&resolution.get_untracked()),
        business_hours: business.get_untracked(),
        warning_percent: warning.get_untracked().trim().parse().ok(),
        raise_priority: Some(raise.get_untracked()).filter(|r| !r.is_empty()),
        reassign_team_id: reassign,
    };
    let save = Action::new(move |input: &SlaPolicyInput| save_sla_policy(id, input.clone()));
    let error = close_when_saved(save, editing, on_saved);
    let submit = {
        let input = input.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch(input());
        }
    };
    let simulate = Action::new(move |input: &SlaPolicyInput| simulate_sla_policy(input.clone()));

    let calendar_options = calendars
        .into_iter()
        .map(|c| {
            let value = c.id.to_string();
            view! { <option value=value.clone() selected=move || calendar.get() == value>{c.name}</option> }
        })
        .collect_view();
    let raise_options = Priority::ALL
        .iter()
        .map(|p| view! { <option value=p.as_str() selected=move || raise.get() == p.as_str()>{p.label()}</option> })
        .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|p| (p.as_str(), p.label()))
        .collect();
    let severities = Severity::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let channels = Channel::ALL
        .iter()
        .map(|c| (c.as_str(), c.label()))
        .collect();
    let title = if id.is_some() {
        "Edit policy"
    } else {
        "New policy"
    };
    view! {
        <form class="stack sla-editor" aria-label=title on:submit=submit>
            <h3>{title}</h3>
            <FormAlert error />
            <div class="field">
                <label for="policy-name">"Policy name"</label>
                <input id="policy-name" type="text" required bind:value=name />
            </div>
            <div class="field">
                <label for="policy-calendar">"Calendar"</label>
                <select id="policy-calendar" on:change=move |ev| calendar.set(event_target_value(&ev))>
                    {calendar_options}
                </select>
            </div>
            <ChoiceSet legend="Priority (none ticked: any)" name="policy-priority" choices=priorities chosen=priority />
            <ChoiceSet legend="Severity (none ticked: any)" name="policy-severity" choices=severities chosen=severity />
            <ChoiceSet legend="Channel (none ticked: any)" name="policy-channel" choices=channels chosen=channel />
            <div class="field">
                <label for="policy-tags">"Tags (any of; comma-separated)"</label>
                <input id="policy-tags" type="text" bind:value=tags />
            </div>
            <fieldset>
                <legend>"Targets in minutes (empty: no target)"</legend>
                <div class="field"><label for="policy-first">"First response"</label>
                    <input id="policy-first" type="number" min="1" bind:value=first /></div>
                <div class="field"><label for="policy-next">"Next response"</label>
                    <input id="policy-next" type="number" min="1" bind:value=next /></div>
                <div class="field"><label for="policy-resolution">"Resolution"</label>
                    <input id="policy-resolution" type="number" min="1" bind:value=resolution /></div>
                <label class="check"><input type="checkbox" bind:checked=business />" Count business hours only"</label>
                <div class="field"><label for="policy-warning">"Warn at (% of the target)"</label>
                    <input id="policy-warning" type="number" min="1" max="99" bind:value=warning /></div>
            </fieldset>
            <div class="field">
                <label for="policy-raise">"On breach, raise the priority to"</label>
                <select id="policy-raise" on:change=move |ev| raise.set(event_target_value(&ev))>
                    <option value="" selected=move || raise.get().is_empty()>"Leave it"</option>
                    {raise_options}
                </select>
            </div>
            <label class="check"><input type="checkbox" bind:checked=active />" Active"</label>
            <FieldErrors error />
            <div class="actions">
                <button type="submit" class="btn" disabled=move || save.pending().get()>"Save policy"</button>
                <button type="button" class="btn btn-quiet"
                    on:click=move |_| { simulate.dispatch(input()); }>"Simulate a ticket created now"</button>
                <button type="button" class="btn btn-quiet" on:click=move |_| editing.set(Editing::Nothing)>"Cancel"</button>
            </div>
            <Simulation result=Signal::derive(move || simulate.value().get()) pending=simulate.pending() />
        </form>
    }
}

/// What the simulator says a ticket created now would get.
#[component]
fn Simulation(
    result: Signal<Option<Result<SimulatedDue, ApiError>>>,
    pending: Memo<bool>,
) -> impl IntoView {
    let due = |label: &'static str, at: Option<chrono::DateTime<chrono::Utc>>| {
        view! { <dt>{label}</dt><dd>{at.map(when).unwrap_or_else(|| "no target".into())}</dd> }
    };
    view! {
        <section class="simulation" aria-label="Simulation" aria-live="polite">
            {move || pending.get().then(|| view! { <p class="loading" role="status">"Simulating…"</p> })}
            {move || result.get().map(|r| match r {
                Ok(s) => view! {
                    <h4>{format!("A ticket created {} would be due", when(s.created_at))}</h4>
                    <dl class="facts">
                        {due("First response", s.first_response_due_at)}
                        {due("Resolution", s.resolution_due_at)}
                    </dl>
                }.into_any(),
                Err(error) => {
                    let error = Signal::derive(move || Some(error.clone()));
                    view! { <FormAlert error /><FieldErrors error /> }.into_any()
                }
            })}
        </section>
    }
}
