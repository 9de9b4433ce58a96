//! Ticket screens: the customer's requests, the desk queues, the new-request
//! form and the ticket page with its conversation, triage (fields,
//! escalation, merge) and history.
//!
//! This file holds the queue pages (the portal's requests, the desk's queues)
//! and what the screens share (`when`, `StatusBadge`, also used by the
//! magic-link page); each other part has its own file in this folder.

mod attachments;
mod history;
mod live;
mod new_ticket;
mod page;
mod rating;
mod reply;
mod side_panel;
mod sla;

pub use new_ticket::NewTicketPage;
pub(crate) use page::Conversation;
pub use page::{DeskTicketPage, PortalTicketPage};
pub(crate) use rating::{RatingCard, RatingFields};
pub(crate) use sla::SlaBadge;

use super::desk::{BulkBar, QueueFilters, SavedViews};
use super::live::{changes_tickets, reload_on};
use super::status_pages::ErrorNotice;
use crate::api::desk::load_desk_options;
use crate::api::tickets::{Queue, list_tickets, load_queue_counts, ticket_path};
use crate::domain::ApiError;
use crate::domain::live::Topic;
use crate::domain::ticket::{QueueCounts, Ticket, TicketStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::collections::HashSet;
use uuid::Uuid;

/// A moment as the pages show it: `2026-11-30 14:05 UTC`. Written out
/// rather than with chrono's `format`, whose pattern interpreter would be
/// in the browser's bundle of every page that shows a date.
pub(crate) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[component]
pub(crate) fn StatusBadge(status: TicketStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str())>{status.label()}</span> }
}

/// One row of a queue table.
fn ticket_row(t: Ticket, staff: bool, changed: RwSignal<HashSet<Uuid>>) -> impl IntoView {
    let href = ticket_path(staff, &t.id.to_string());
    let id = t.id;
    // Staff tick rows for the bulk bar around the table.
    let pick = staff.then(|| {
        let label = format!("Select {}", t.display_number);
        view! { <td class="pick"><input type="checkbox" name="ticket_ids" value=t.id.to_string() aria-label=label /></td> }
    });
    view! {
        <tr class=("row-changed", move || changed.try_with(|c| c.contains(&id)).unwrap_or(false))>
            {pick}
            <td class="nowrap" data-label="Number">{t.display_number.clone()}</td>
            <td class="subject" data-label="Subject"><a href=href>{t.subject.clone()}</a></td>
            <td data-label="Status"><StatusBadge status=t.status /></td>
            <td data-label="Priority">{t.priority.label()}</td>
            {staff.then(|| view! { <td class="nowrap" data-label="SLA"><SlaBadge state=t.sla_state due=t.sla_due_at /></td> })}
            <td class="nowrap" data-label="Created">{when(t.created_at)}</td>
        </tr>
    }
}

/// What makes a row worth drawing again (and flashing).
fn row_key(
    t: &Ticket,
) -> (
    Uuid,
    chrono::DateTime<chrono::Utc>,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    (t.id, t.updated_at, t.sla_due_at)
}

/// Tickets of a queue shown at most: the portal follows each one's topic.
const PORTAL_FOLLOWED: usize = 20;
/// Events arriving within this long after the first one cost one reload.
const RELOAD_AFTER: std::time::Duration = std::time::Duration::from_millis(300);

/// A queue's table, kept current by live updates: an event about its
/// tickets (the organization's for staff, each listed ticket's for a
/// customer) loads the queue again in the background, once per burst, and
/// only the rows that changed are drawn again and flash.
#[component]
fn TicketTable(
    tickets: Vec<Ticket>,
    queue: Signal<Queue>,
    filters: Signal<String>,
    staff: bool,
    caption: &'static str,
) -> impl IntoView {
    let shown = RwSignal::new(tickets);
    let changed = RwSignal::new(HashSet::<Uuid>::new());
    let reload = move || async move {
        let (Some(queue), Some(filters)) = (queue.try_get_untracked(), filters.try_get_untracked())
        else {
            return;
        };
        if let Ok(fresh) = list_tickets(queue, filters).await {
            let Some(before) =
                shown.try_with_untracked(|s| s.iter().map(row_key).collect::<HashSet<_>>())
            else {
                return;
            };
            let now_changed = fresh
                .iter()
                .filter(|t| !before.contains(&row_key(t)))
                .map(|t| t.id)
                .collect();
            changed.try_set(now_changed);
            shown.try_set(fresh);
        }
    };
    if staff {
        reload_on(Topic::Org, RELOAD_AFTER, changes_tickets, reload);
    } else {
        for t in shown.get_untracked().iter().take(PORTAL_FOLLOWED) {
            reload_on(Topic::Ticket(t.id), RELOAD_AFTER, changes_tickets, reload);
        }
    }
    view! {
        <Show when=move || shown.try_with(|s| !s.is_empty()).unwrap_or(false) fallback=|| view! { <p class="empty">"No tickets here."</p> }>
            <table class="table queue-table">
                <caption class="sr-only">{caption}</caption>
                <thead>
                    <tr>
                        {staff.then(|| view! { <th scope="col"><span class="sr-only">"Select"</span></th> })}
                        <th scope="col">"Number"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Priority"</th>
                        {staff.then(|| view! { <th scope="col">"SLA"</th> })}
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || shown.try_get().unwrap_or_default() key=row_key children=move |t| ticket_row(t, staff, changed) />
                </tbody>
            </table>
        </Show>
    }
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

/// A list of tickets loaded from a queue, kept current (`TicketTable`).
#[component]
fn QueueList(
    tickets: QueueTickets,
    queue: Signal<Queue>,
    filters: Signal<String>,
    caption: &'static str,
    staff: bool,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading tickets…"</p> }>
            {move || Suspend::new(async move {
                match tickets.await {
                    Ok(list) => view! { <TicketTable tickets=list queue filters staff caption /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The customer's requests (the portal home).
#[component]
pub fn MyRequests() -> impl IntoView {
    let (queue, filters) = (Signal::stored(Queue::Mine), Signal::stored(String::new()));
    view! {
        <div class="toolbar">
            <h2>"My requests"</h2>
            <a class="btn btn-primary" href="/portal/new">"New request"</a>
        </div>
        <QueueList
            tickets=queue_tickets(queue, filters)
            queue
            filters
            caption=Queue::Mine.label()
            staff=false
        />
    }
}

/// How many tickets each desk queue holds, for its tab: loaded in the
/// browser after hydration (the server renders the tabs without), and
/// again once per burst of the organization's ticket events.
fn queue_counts() -> RwSignal<Option<QueueCounts>> {
    let counts = RwSignal::new(None);
    let load = move || async move {
        if let Ok(fresh) = load_queue_counts().await {
            counts.try_set(Some(fresh));
        }
    };
    Effect::new(move || leptos::task::spawn_local(load()));
    reload_on(Topic::Org, RELOAD_AFTER, changes_tickets, load);
    counts
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
    let counts = queue_counts();
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
                        {move || {
                            let count = counts.try_get().flatten().and_then(|c| q.count(&c))?;
                            Some(view! { <span class="tab-count">{count}</span> })
                        }}
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
                let (queue_signal, filters_signal) = (queue, filters);
                let (queue, query, filters) = (queue.get(), pairs.get(), filters.get());
                Suspend::new(async move {
                    let options = options.await.unwrap_or_default();
                    view! {
                        <QueueFilters options=options.clone() queue=queue.slug() query />
                        <SavedViews options=options.clone() filters />
                        <BulkBar options>
                            <QueueList tickets queue=queue_signal filters=filters_signal caption=queue.label() staff=true />
                        </BulkBar>
                    }
                })
            }}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::when;
    use chrono::{DateTime, Utc};

    #[test]
    fn when_reads_like_its_strftime_pattern() {
        for seconds in [0, 59, 951_782_400, 1_764_511_500, 4_102_444_799] {
            let at = DateTime::<Utc>::from_timestamp(seconds, 0).unwrap();
            assert_eq!(when(at), at.format("%Y-%m-%d %H:%M UTC").to_string());
        }
    }
}
