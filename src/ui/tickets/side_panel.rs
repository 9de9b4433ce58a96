//! The ticket page's side panel for staff: triage (status, priority, assign
//! to me), escalation to the managers and merging into another ticket.

use crate::api::tickets::{EscalateTicket, MergeTicket, UpdateTicket};
use crate::domain::ticket::{Priority, Ticket, TicketStatus};
use crate::ui::forms::{Field, FormAlert, TextAreaField};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub(super) fn TriagePanel(
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

/// Escalation to the managers and merging into another ticket.
#[component]
pub(super) fn MoreActions(
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
