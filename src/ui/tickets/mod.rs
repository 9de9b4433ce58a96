//! Ticket screens: the customer's requests, the desk queues, the new-request
//! form and the ticket page with its conversation, triage (fields,
//! escalation, merge) and history.
//!
//! This file holds the queue pages (the portal's requests, the desk's queues)
//! and what the screens share (`when`, `StatusBadge`, also used by the
//! magic-link page); each other part has its own file in this folder.

mod attachments;
mod history;
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
use super::status_pages::ErrorNotice;
use crate::api::desk::load_desk_options;
use crate::api::tickets::{Queue, list_tickets, ticket_path};
use crate::domain::ApiError;
use crate::domain::ticket::{Ticket, TicketStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

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
                    {staff.then(|| view! { <td class="nowrap"><SlaBadge state=t.sla_state due=t.sla_due_at /></td> })}
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
                    {staff.then(|| view! { <th scope="col">"SLA"</th> })}
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
