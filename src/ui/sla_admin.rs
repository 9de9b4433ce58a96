//! `/admin/sla` and `/manager/sla`: business calendars and the ordered SLA
//! policies (create, edit, reorder, deactivate), with the simulator on the
//! policy form, so whoever sets a policy up sees what a ticket created now
//! would get before any ticket does. Managers and administrators
//! (`manage_sla`); the server checks every call.

use super::forms::{FieldMessage, FormAlert};
use super::status_pages::ErrorNotice;
use super::tickets::when;
use crate::api::sla::{
    import_sla_holidays, list_sla_calendars, list_sla_policies, load_sla_policy_choices,
    reorder_sla_policies, save_sla_calendar, save_sla_policy, simulate_sla_policy,
};
use crate::domain::ApiError;
use crate::domain::sla::{
    HolidayImport, MAX_ICAL_BYTES, PolicyChoices, PolicyConditions, PolicyOrder, SimulatedDue,
    SlaCalendar, SlaCalendarInput, SlaPolicy, SlaPolicyInput,
};
use crate::domain::ticket::{Channel, Priority, Severity};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{Blob, FormData};
use leptos_meta::Title;
use std::collections::{BTreeMap, BTreeSet};
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
    // The organization's categories, teams and companies, by name.
    let choices = Resource::new(|| (), |_| load_sla_policy_choices());
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
                match (calendars.await, policies.await, choices.await) {
                    (Ok(calendars), Ok(policies), Ok(choices)) => view! {
                        <Policies policies calendars=calendars.clone() choices on_saved />
                        <Calendars calendars on_saved />
                    }.into_any(),
                    (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                        view! { <ErrorNotice error /> }.into_any()
                    }
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
    // An import saves holidays while the form stays open: its row is
    // updated in place (reloading the lists would close the form).
    let calendars = RwSignal::new(calendars);
    let on_imported = Callback::new(move |changed: SlaCalendar| {
        calendars.update(|all| {
            if let Some(row) = all.iter_mut().find(|c| c.id == changed.id) {
                *row = changed;
            }
        })
    });
    let rows = move || {
        calendars.get().into_iter().map(|calendar| {
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
        .collect_view()
    };
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
                Editing::New => Some(view! { <CalendarForm calendar=None editing on_saved on_imported /> }),
                Editing::Existing(c) => Some(view! { <CalendarForm calendar=Some(c) editing on_saved on_imported /> }),
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
    on_imported: Callback<SlaCalendar>,
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
            {id.map(|id| view! { <IcalImport id holidays on_imported /> })}
            <label class="check"><input type="checkbox" bind:checked=active />" Active"</label>
            <FieldErrors error />
            <div class="actions">
                <button type="submit" class="btn" disabled=move || save.pending().get()>"Save calendar"</button>
                <button type="button" class="btn btn-quiet" on:click=move |_| editing.set(Editing::Nothing)>"Cancel"</button>
            </div>
        </form>
    }
}

/// Adds the all-day events of an iCal file to the stored calendar `id`:
/// the browser reads the file (at most `MAX_ICAL_BYTES`) and sends its
/// text; the days added join the form's holiday list and the calendar's row.
#[component]
fn IcalImport(
    id: Uuid,
    holidays: RwSignal<String>,
    on_imported: Callback<SlaCalendar>,
) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let import = Action::new_local(move |file: &Blob| {
        let file = file.clone();
        async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|text| text.as_string())
                .ok_or_else(|| ical_problem("The file could not be read"))?;
            import_sla_holidays(id, text).await
        }
    });
    // A problem found before sending (no file, too large).
    let problem = RwSignal::new(None::<ApiError>);
    let start = move |_| match chosen_file(file_input) {
        None => problem.set(Some(ical_problem("Choose an .ics file first"))),
        Some(file) if file.size() > MAX_ICAL_BYTES as f64 => problem.set(Some(ical_problem(
            &format!("The file is larger than {} KiB", MAX_ICAL_BYTES / 1024),
        ))),
        Some(file) => {
            problem.set(None);
            import.dispatch_local(file);
        }
    };
    Effect::new(move |_| {
        if let Some(Ok(done)) = import.value().get() {
            holidays.update(|text| {
                for day in &done.added {
                    if !text.lines().any(|line| line.trim() == day) {
                        if !text.is_empty() && !text.ends_with('\n') {
                            text.push('\n');
                        }
                        text.push_str(day);
                    }
                }
            });
            on_imported.run(done.calendar);
        }
    });
    // The field's message, else the answer's (not found, forbidden…).
    let message = Signal::derive(move || {
        let error = problem.get().or_else(|| import.value().get()?.err())?;
        Some(
            error
                .field("ical")
                .map(str::to_owned)
                .unwrap_or(error.error),
        )
    });
    let outcome = move || match (problem.get(), import.value().get()) {
        (None, Some(Ok(done))) => Some(imported_text(&done)),
        _ => None,
    };
    view! {
        <div class="field ical-import">
            <label for="calendar-ical">"Import holidays from an iCal file (.ics)"</label>
            <input id="calendar-ical" name="ical" type="file" accept=".ics,text/calendar" node_ref=file_input
                aria-describedby="ical-message" />
            <FieldMessage name="ical" message
                hint=format!("All-day events become holidays; yearly ones repeat. At most {} KiB.", MAX_ICAL_BYTES / 1024) />
            <div class="actions">
                <button type="button" class="btn btn-quiet" on:click=start
                    disabled=move || import.pending().get()>"Import holidays"</button>
            </div>
            <p role="status" class="import-outcome">{outcome}</p>
        </div>
    }
}

/// The file chosen in the form's `ical` input (the form's data holds it
/// as a Blob; an input with no file gives an empty one).
fn chosen_file(input: NodeRef<leptos::html::Input>) -> Option<Blob> {
    let form = input.get_untracked()?.form()?;
    let file = FormData::new_with_form(&form).ok()?.get("ical");
    file.dyn_into::<Blob>().ok().filter(|f| f.size() > 0.0)
}

/// A problem with the iCal file, as the server would name it.
fn ical_problem(message: &str) -> ApiError {
    ApiError::validation([("ical".to_owned(), message.to_owned())].into())
}

fn imported_text(done: &HolidayImport) -> String {
    let added = match done.added.len() {
        0 => "No new holidays: the calendar already has every day in the file.".to_owned(),
        1 => format!("Added 1 holiday: {}.", done.added[0]),
        n => format!("Added {n} holidays: {}.", done.added.join(", ")),
    };
    match done.skipped {
        0 => added,
        1 => format!("{added} Skipped 1 event with a time of day."),
        n => format!("{added} Skipped {n} events with a time of day."),
    }
}

// ------------------------------------------------------------------ policies

#[component]
fn Policies(
    policies: Vec<SlaPolicy>,
    calendars: Vec<SlaCalendar>,
    choices: PolicyChoices,
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
    let names = choice_names(&choices);
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
                    <td>{conditions_text(&policy.conditions, &names)}</td>
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
                let (calendars, choices) = (calendars.clone(), choices.clone());
                match editing.get() {
                    Editing::Nothing => None,
                    Editing::New => Some(view! { <PolicyForm policy=None calendars choices editing on_saved /> }),
                    Editing::Existing(p) => Some(view! { <PolicyForm policy=Some(p) calendars choices editing on_saved /> }),
                }
            }}
        </section>
    }
}

/// Every category, team and company of the organization: id → name.
fn choice_names(choices: &PolicyChoices) -> BTreeMap<Uuid, String> {
    let categories = choices.categories.iter().map(|c| (c.id, c.name.clone()));
    let teams = choices.teams.iter().map(|t| (t.id, t.name.clone()));
    let companies = choices.companies.iter().map(|c| (c.id, c.name.clone()));
    categories.chain(teams).chain(companies).collect()
}

/// `names`: the organization's categories, teams and companies by id (a
/// condition may still name one that was deleted since).
fn conditions_text(c: &PolicyConditions, names: &BTreeMap<Uuid, String>) -> String {
    let mut parts = Vec::new();
    let mut list = |label: &str, values: Vec<String>| {
        if !values.is_empty() {
            parts.push(format!("{label}: {}", values.join(", ")));
        }
    };
    list("priority", c.priority.clone());
    list("severity", c.severity.clone());
    list("category", named(&c.category, names));
    list("team", named(&c.team, names));
    list("channel", c.channel.clone());
    list("company", named(&c.company, names));
    list("tags", c.tags.clone());
    if parts.is_empty() {
        "Every ticket".into()
    } else {
        parts.join("; ")
    }
}

fn named(ids: &[Uuid], names: &BTreeMap<Uuid, String>) -> Vec<String> {
    ids.iter()
        .map(|id| names.get(id).cloned().unwrap_or_else(|| "(deleted)".into()))
        .collect()
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

/// Up to this many unticked choices are listed at once; a longer list
/// (an organization's companies) gets a search box.
const LISTED_CHOICES: usize = 12;

/// Checkboxes for a condition's values (`(value, label)`), bound to the
/// chosen values. Ticked ones are always listed; of a long list, the
/// others only as far as they match the search.
#[component]
fn ChoiceSet(
    legend: &'static str,
    name: &'static str,
    /// What the list holds, for the search box: "companies".
    plural: &'static str,
    choices: Vec<(String, String)>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    let total = choices.len();
    let long = total > LISTED_CHOICES;
    let none = (total == 0).then(|| view! { <p class="muted">{format!("No {plural} yet.")}</p> });
    let query = RwSignal::new(String::new());
    // Of a long list, the values listed now: the ticked ones and the first
    // matches of the search. Every box is rendered once; the others are
    // hidden, so ticking one keeps the focus where it is.
    let values = if long { choices.clone() } else { Vec::new() };
    let shown = Memo::new(move |_| {
        let query = query.get().trim().to_lowercase();
        let mut unticked = 0;
        chosen.with(|chosen| {
            values
                .iter()
                .filter(|(value, label)| {
                    if chosen.contains(value) {
                        return true;
                    }
                    let hit = label.to_lowercase().contains(&query);
                    unticked += usize::from(hit);
                    hit && unticked <= LISTED_CHOICES
                })
                .map(|(value, _)| value.clone())
                .collect::<BTreeSet<String>>()
        })
    });
    let search_id = format!("{name}-search");
    let search = long.then(|| {
        view! {
            <div class="field choice-search">
                <label for=search_id.clone()>{format!("Find {plural}")}</label>
                <input id=search_id.clone() type="search" bind:value=query
                    aria-describedby=format!("{search_id}-hint") />
                <p id=format!("{search_id}-hint") class="field-hint">
                    {format!("{total} {plural}; the ticked ones and up to {LISTED_CHOICES} matches are listed.")}
                </p>
            </div>
        }
    });
    let boxes = choices
        .into_iter()
        .map(|(value, label)| {
            let id = format!("{name}-{value}");
            let (ticked, listed) = (value.clone(), value.clone());
            view! {
                <label class="check" hidden=move || long && !shown.with(|s| s.contains(&listed))>
                    <input type="checkbox" id=id
                        prop:checked=move || chosen.with(|c| c.contains(&ticked))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|v| *v != value);
                                if on { c.push(value.clone()); }
                            });
                        } />
                    " " {label}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="choices">
            <legend>{legend}</legend>
            {none}
            {search}
            {boxes}
        </fieldset>
    }
}

#[component]
fn PolicyForm(
    policy: Option<SlaPolicy>,
    calendars: Vec<SlaCalendar>,
    choices: PolicyChoices,
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
    let ids = |ids: fn(&PolicyConditions) -> &Vec<Uuid>| {
        let ids = p.map(|p| ids(&p.conditions).iter().map(Uuid::to_string).collect());
        RwSignal::new(ids.unwrap_or_default())
    };
    let category = ids(|c| &c.category);
    let team = ids(|c| &c.team);
    let company = ids(|c| &c.company);
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
    let reassign = RwSignal::new(
        p.and_then(|p| p.reassign_team_id)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    );
    let active = RwSignal::new(p.is_none_or(|p| p.active));
    let uuids = |chosen: RwSignal<Vec<String>>| {
        chosen.with_untracked(|c| c.iter().filter_map(|id| id.parse().ok()).collect())
    };

    let input = move || SlaPolicyInput {
        name: name.get_untracked(),
        active: Some(active.get_untracked()),
        calendar_id: calendar.get_untracked().parse().ok(),
        conditions: PolicyConditions {
            priority: priority.get_untracked(),
            severity: severity.get_untracked(),
            category: uuids(category),
            team: uuids(team),
            channel: channel.get_untracked(),
            company: uuids(company),
            tags: tags
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        },
        first_response_minutes: minutes_value(&first.get_untracked()),
        next_response_minutes: minutes_value(&next.get_untracked()),
        resolution_minutes: minutes_value(&resolution.get_untracked()),
        business_hours: business.get_untracked(),
        warning_percent: warning.get_untracked().trim().parse().ok(),
        raise_priority: Some(raise.get_untracked()).filter(|r| !r.is_empty()),
        reassign_team_id: reassign.get_untracked().parse().ok(),
    };
    let save = Action::new(move |input: &SlaPolicyInput| save_sla_policy(id, input.clone()));
    let error = close_when_saved(save, editing, on_saved);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(input());
    };
    let simulate = Action::new(move |input: &SlaPolicyInput| simulate_sla_policy(input.clone()));

    let calendar_options = calendars
        .into_iter()
        .map(|c| {
            let value = c.id.to_string();
            view! { <option value=value.clone() selected=move || calendar.get() == value>{c.name}</option> }
        })
        .collect_view();
    let pair = |value: &str, label: &str| (value.to_owned(), label.to_owned());
    let priorities: Vec<_> = Priority::ALL
        .iter()
        .map(|p| pair(p.as_str(), p.label()))
        .collect();
    let severities = Severity::ALL
        .iter()
        .map(|s| pair(s.as_str(), s.label()))
        .collect();
    let channels = Channel::ALL
        .iter()
        .map(|c| pair(c.as_str(), c.label()))
        .collect();
    let by_id = |id: Uuid, name: &str| (id.to_string(), name.to_owned());
    let categories = choices
        .categories
        .iter()
        .map(|c| by_id(c.id, &c.name))
        .collect();
    let teams: Vec<_> = choices.teams.iter().map(|t| by_id(t.id, &t.name)).collect();
    let companies = choices
        .companies
        .iter()
        .map(|c| by_id(c.id, &c.name))
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
            <ChoiceSet legend="Priority (none ticked: any)" name="policy-priority" plural="priorities"
                choices=priorities.clone() chosen=priority />
            <ChoiceSet legend="Severity (none ticked: any)" name="policy-severity" plural="severities"
                choices=severities chosen=severity />
            <ChoiceSet legend="Category (none ticked: any)" name="policy-category" plural="categories"
                choices=categories chosen=category />
            <ChoiceSet legend="Team (none ticked: any)" name="policy-team" plural="teams"
                choices=teams.clone() chosen=team />
            <ChoiceSet legend="Channel (none ticked: any)" name="policy-channel" plural="channels"
                choices=channels chosen=channel />
            <ChoiceSet legend="Customer company (none ticked: any)" name="policy-company" plural="companies"
                choices=companies chosen=company />
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
            <BreachAction id="policy-raise" label="On breach, raise the priority to"
                options=priorities chosen=raise />
            <BreachAction id="policy-reassign" label="On breach, reassign to team"
                options=teams chosen=reassign />
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

/// What a breach does besides being recorded: a select whose empty
/// choice ("Leave it") does nothing more.
#[component]
fn BreachAction(
    id: &'static str,
    label: &'static str,
    /// `(value, label)`.
    options: Vec<(String, String)>,
    chosen: RwSignal<String>,
) -> impl IntoView {
    let options = options
        .into_iter()
        .map(|(value, text)| {
            let current = value.clone();
            view! { <option value=value selected=move || chosen.get() == current>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| chosen.set(event_target_value(&ev))>
                <option value="" selected=move || chosen.get().is_empty()>"Leave it"</option>
                {options}
            </select>
        </div>
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
