//! Service levels on the desk: the due badge of a queue row and the ticket
//! page's SLA panel (the policy and why it applies, the due times and the
//! clock's timeline). The badge says its state in words, not only colour.

use super::when;
use crate::domain::sla::{SlaState, SlaTimelineEntry, TicketSla};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// Green on track, amber past the warning threshold, red once breached;
/// a dash where no policy applies.
#[component]
pub(crate) fn SlaBadge(state: Option<SlaState>, due: Option<DateTime<Utc>>) -> impl IntoView {
    let Some(state) = state else {
        return view! { <span class="muted" title="No SLA policy applies">"—"</span> }.into_any();
    };
    let (class, label) = match state {
        SlaState::Ok => ("badge sla-ok", "On track"),
        SlaState::Warning => ("badge sla-warning", "Due soon"),
        SlaState::Breached => ("badge sla-breached", "Breached"),
    };
    let due = due.map(|at| format!(" · due {}", when(at)));
    view! { <span class=class>{label}{due}</span> }.into_any()
}

fn target_label(target: &str) -> &'static str {
    match target {
        "first_response" => "First response",
        "next_response" => "Next response",
        "resolution" => "Resolution",
        _ => "Target",
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "breached",
        None => "pending",
    }
}

fn step(e: SlaTimelineEntry) -> impl IntoView {
    let due = e.due_at.map(|at| format!(", due {}", when(at)));
    let left = e.remaining_minutes.map(|m| format!(", {m} min left"));
    view! {
        <li>
            <span class="muted">{when(e.at)}</span>
            " "
            {format!("{} {}", target_label(&e.target), e.event)}
            {due}
            {left}
        </li>
    }
}

/// The ticket's SLA for staff.
#[component]
pub(super) fn SlaPanel(sla: TicketSla) -> impl IntoView {
    let Some(policy) = sla.policy.clone() else {
        return view! {
            <section class="card sla-panel" aria-labelledby="sla-title">
                <h2 id="sla-title">"SLA"</h2>
                <p class="muted">"No SLA policy applies to this ticket."</p>
            </section>
        }
        .into_any();
    };
    let why = if sla.matched.is_empty() {
        "applies to every ticket".to_owned()
    } else {
        format!("because {}", sla.matched.join(", "))
    };
    let calendar = sla.calendar.clone().map(|c| {
        let zone = c.timezone.unwrap_or_else(|| "24/7".into());
        let counts = if c.business_hours {
            "business minutes"
        } else {
            "all minutes"
        };
        format!("Calendar: {} ({zone}, {counts})", c.name)
    });
    let due = |label: &'static str, at: Option<DateTime<Utc>>, met: Option<bool>| {
        at.map(|at| view! { <li>{format!("{label}: due {} ({})", when(at), verdict(met))}</li> })
    };
    view! {
        <section class="card sla-panel" aria-labelledby="sla-title">
            <h2 id="sla-title">"SLA"</h2>
            <p><SlaBadge state=sla.state due=sla.due_at /></p>
            <p>{format!("Policy: {} — {why}", policy.name)}</p>
            {calendar.map(|text| view! { <p class="muted">{text}</p> })}
            <ul class="sla-targets">
                {due("First response", sla.first_response_due_at, sla.first_response_met)}
                {due("Next response", sla.next_response_due_at, None)}
                {due("Resolution", sla.resolution_due_at, sla.resolution_met)}
            </ul>
            <h3>"Timeline"</h3>
            <ol class="sla-timeline">{sla.timeline.into_iter().map(step).collect_view()}</ol>
        </section>
    }
    .into_any()
}
