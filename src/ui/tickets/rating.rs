//! The requester's rating of the help: the form on the ticket page, and the
//! card and fields the magic-link page shares with it.

use crate::api::tickets::RateTicket;
use crate::domain::ticket::{Satisfaction, Ticket};
use crate::ui::forms::FormAlert;
use leptos::prelude::*;

/// How was the help? Shown to the requester once the ticket is resolved.
#[component]
pub(super) fn RatingForm(
    action: ServerAction<RateTicket>,
    error: Signal<Option<crate::domain::ApiError>>,
    ticket: Ticket,
) -> impl IntoView {
    view! {
        <RatingCard satisfaction=ticket.satisfaction.clone()>
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <input type="hidden" name="ticket_id" value=ticket.id.to_string() />
                    <RatingFields satisfaction=ticket.satisfaction.clone() />
                </div>
            </ActionForm>
        </RatingCard>
    }
}

/// The rating card around a rating form: heading, and thanks once rated.
#[component]
pub(crate) fn RatingCard(satisfaction: Option<Satisfaction>, children: Children) -> impl IntoView {
    view! {
        <section class="card rating" aria-labelledby="rating-title">
            <h2 id="rating-title">"Rate the help you got"</h2>
            {satisfaction.map(|s| view! {
                <p role="status" class="alert alert-success">{format!("Thank you! You rated this {} out of 5.", s.score)}</p>
            })}
            {children()}
        </section>
    }
}

/// A rating form's score, comment and submit button, showing the current rating.
#[component]
pub(crate) fn RatingFields(satisfaction: Option<Satisfaction>) -> impl IntoView {
    let current = satisfaction.as_ref().map(|s| s.score);
    let scores = (1..=5)
        .rev()
        .map(|n| {
            let label = match n {
                5 => "5 — Excellent",
                4 => "4 — Good",
                3 => "3 — Okay",
                2 => "2 — Poor",
                _ => "1 — Very poor",
            };
            view! { <option value=n.to_string() selected=current == Some(n)>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="score">"Rating"</label>
            <select id="score" name="score">{scores}</select>
        </div>
        <div class="field">
            <label for="comment">"Comment (optional)"</label>
            <textarea id="comment" name="comment" rows="3">
                {satisfaction.and_then(|s| s.comment).unwrap_or_default()}
            </textarea>
        </div>
        <button type="submit" class="btn btn-primary">"Send rating"</button>
    }
}
