//! Staff availability in the UI: the manager home's `DeskPulsePanel` (the
//! desk's counters and who is online, away or offline, reloaded every ten
//! seconds while the page is open, and after the organization's ticket
//! events) and the top bar's `AwayToggle`.

use super::live::{changes_tickets, reload_on};
use super::status_pages::ErrorNotice;
use super::tickets::when;
use crate::api::availability::{SetAway, load_away, load_desk_pulse};
use crate::domain::availability::{Availability, DeskPulse, StaffAvailability};
use crate::domain::live::Topic;
use crate::ui::forms::{FormAlert, last_error};
use leptos::prelude::*;
use std::time::Duration;

/// How often the open panel asks again.
const RELOAD_EVERY: Duration = Duration::from_secs(10);

/// The desk at a glance: open tickets, unassigned, breaches today, agents
/// online, and each agent's and manager's availability. The server renders
/// the first load; the browser reloads it every `RELOAD_EVERY` until the
/// page is left.
#[component]
pub fn DeskPulsePanel() -> impl IntoView {
    let reloads = RwSignal::new(0_u32);
    let pulse = Resource::new(move || reloads.get(), |_| load_desk_pulse());
    // Effects run in the browser only (there is no window on the server).
    Effect::new(move |_| {
        let tick = move || reloads.update(|n| *n = n.wrapping_add(1));
        let handle = set_interval_with_handle(tick, RELOAD_EVERY).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    // Tickets created, assigned, answered or breached move the counters.
    reload_on(
        Topic::Org,
        Duration::from_secs(1),
        changes_tickets,
        move || async move {
            reloads.try_update(|n| *n = n.wrapping_add(1));
        },
    );
    view! {
        <section class="pulse" aria-labelledby="pulse-title">
            <h2 id="pulse-title">"The desk now"</h2>
            // A reload keeps the figures shown until the new ones arrive.
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading the desk…"</p> }>
                {move || Suspend::new(async move {
                    match pulse.await {
                        Ok(pulse) => view! { <PulseFigures pulse /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PulseFigures(pulse: DeskPulse) -> impl IntoView {
    let counters = [
        (pulse.open_tickets, "Open tickets"),
        (pulse.unassigned, "Unassigned"),
        (pulse.breaches_today, "SLA breaches today"),
        (pulse.agents_online, "Agents online"),
    ];
    let kpis = counters
        .into_iter()
        .map(|(value, label)| {
            view! {
                <div class="kpi">
                    <span class="kpi-value">{value}</span>
                    <span class="kpi-label">{label}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="kpis">{kpis}</div>
        <StaffTable staff=pulse.staff />
    }
}

#[component]
fn StaffTable(staff: Vec<StaffAvailability>) -> impl IntoView {
    if staff.is_empty() {
        return view! { <p class="empty">"No agents or managers yet."</p> }.into_any();
    }
    let rows = staff
        .into_iter()
        .map(|person| {
            let since = person.since.map(when).unwrap_or_else(|| "Never seen".into());
            view! {
                <tr>
                    <th scope="row">{person.name}</th>
                    <td><span class=format!("badge badge-{}", person.role.as_str())>{person.role.label()}</span></td>
                    <td><AvailabilityBadge availability=person.availability /></td>
                    <td class="nowrap">{since}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table staff-availability">
            <caption>"Agents and managers"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Availability"</th>
                    <th scope="col">"Since"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// A status dot and its word (the word is what a screen reader reads).
#[component]
fn AvailabilityBadge(availability: Availability) -> impl IntoView {
    view! {
        <span class=format!("availability availability-{}", availability.as_str())>
            <span class="availability-dot" aria-hidden="true"></span>
            {availability.label()}
        </span>
    }
}

/// The top bar's "Away" button (pressed while the person is away), for
/// staff who work tickets. A form, so it works before the page hydrates
/// too. Loading it on a page marks the person seen.
#[component]
pub fn AwayToggle() -> impl IntoView {
    let set = ServerAction::<SetAway>::new();
    let away = Resource::new(move || set.version().get(), |_| load_away());
    let error = last_error(set.value());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                // Unknown (the request failed): shown as not away; pressing
                // says away, which is what the person means.
                let away = away.await.unwrap_or(false);
                let title = if away {
                    "You are shown as away; press to be shown as online"
                } else {
                    "Show yourself as away to your managers"
                };
                view! {
                    <ActionForm action=set attr:class="away-toggle">
                        <input type="hidden" name="away" value=(!away).to_string() />
                        <button type="submit" class="btn btn-quiet away-button" aria-pressed=away.to_string() title=title>
                            {away.then(|| view! { <span class="availability-dot" aria-hidden="true"></span> })}
                            "Away"
                        </button>
                    </ActionForm>
                }
            })}
        </Transition>
        <FormAlert error />
    }
}
