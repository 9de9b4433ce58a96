//! A ticket page kept live: messages arriving, changes made by others, and
//! who else is on the ticket and what they are doing (collision detection:
//! "Jordan is replying…"), for the desk and for the requester in the portal.

use super::StatusBadge;
use super::history::describe_change;
use crate::domain::live::{LiveEvent, Presence, PresenceState, Topic};
use crate::domain::ticket::{Comment, HistoryEntry, Priority, TicketDetail, TicketStatus};
use crate::engine::ticket_change::FieldChange;
use crate::ui::live::{Delivery, follow, show_presence};
use leptos::prelude::*;
use uuid::Uuid;

/// Changes made by someone else since the page loaded the ticket.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Change {
    actor_id: Option<Uuid>,
    fields: Vec<FieldChange>,
}

/// What arrived live for the ticket on screen. Created by the page itself
/// (outside its `Suspend`), so it outlives every reload of the ticket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LiveTicket {
    /// Messages that arrived after the ticket was loaded, oldest first.
    arrived: RwSignal<Vec<Comment>>,
    /// Others on the ticket who are viewing or replying.
    others: RwSignal<Vec<Presence>>,
    changes: RwSignal<Vec<Change>>,
    /// Bumped when the page should load the ticket again.
    pub reloads: RwSignal<u32>,
    /// Who is looking (their own presence and changes are not news).
    me: Uuid,
}

impl LiveTicket {
    /// Follows the ticket of the route (`id`) and shows this person as
    /// viewing it, for as long as the page is open.
    pub fn watch(id: impl Fn() -> String + Send + Sync + 'static, me: Uuid) -> LiveTicket {
        let live = LiveTicket {
            arrived: RwSignal::new(Vec::new()),
            others: RwSignal::new(Vec::new()),
            changes: RwSignal::new(Vec::new()),
            reloads: RwSignal::new(0),
            me,
        };
        // Effects run in the browser only; moving to another ticket runs it again.
        Effect::new(move |_| {
            let Ok(ticket_id) = Uuid::parse_str(&id()) else {
                return;
            };
            live.arrived.set(Vec::new());
            live.others.set(Vec::new());
            live.changes.set(Vec::new());
            follow(Topic::Ticket(ticket_id), move |d| live.receive(d));
            show_presence(ticket_id, PresenceState::Viewing);
            on_cleanup(move || show_presence(ticket_id, PresenceState::Idle));
        });
        live
    }

    fn receive(self, delivery: Delivery<'_>) {
        let event = match delivery {
            Delivery::Event(event) => event,
            Delivery::Reload => {
                self.reloads.try_update(|n| *n += 1);
                return;
            }
        };
        match event {
            LiveEvent::CommentCreated(c) => {
                if let Some(comment) = &c.comment {
                    self.arrived.try_update(|arrived| {
                        if !arrived.iter().any(|a| a.id == comment.id) {
                            arrived.push(comment.clone());
                        }
                    });
                }
                let author = c.comment.as_ref().map(|m| m.author_id);
                self.note_change(author, &c.changes);
            }
            LiveEvent::TicketUpdated(u) | LiveEvent::TicketAssigned(u) => {
                self.note_change(u.actor_id, &u.changes);
            }
            LiveEvent::PresenceChanged(p) if p.user_id != self.me => {
                self.others.try_update(|others| {
                    others.retain(|o| o.user_id != p.user_id);
                    if p.state != PresenceState::Idle {
                        others.push(p.clone());
                    }
                });
            }
            _ => {}
        }
    }

    fn note_change(self, actor_id: Option<Uuid>, fields: &[FieldChange]) {
        if actor_id != Some(self.me) && !fields.is_empty() {
            self.changes.try_update(|changes| {
                changes.push(Change {
                    actor_id,
                    fields: fields.to_vec(),
                })
            });
        }
    }

    /// The ticket was (re)loaded: what it shows is no longer news. Called
    /// while the page draws the loaded ticket, so nothing is notified: the
    /// new view reads these as it is built, and the old one, about to be
    /// dropped, must not run again (it would read its disposed signals).
    pub fn loaded(self, detail: &TicketDetail) {
        self.arrived.update_untracked(|arrived| {
            arrived.retain(|a| !detail.comments.iter().any(|c| c.id == a.id))
        });
        self.changes.update_untracked(Vec::clear);
    }

    // Views of the page read these from closures that may still run once
    // after a reload dropped their view (a message and the reload's answer
    // arriving in the same moment): the reads are `try_` reads of the
    // page's own signals, never of signals made for one drawing.

    /// Messages that arrived and are not among `shown` (the loaded ones).
    pub fn arrived_except(self, shown: &[Uuid]) -> Vec<Comment> {
        self.arrived
            .try_with(|arrived| {
                arrived
                    .iter()
                    .filter(|a| !shown.contains(&a.id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Public messages by others that arrived since the page loaded: what a
    /// reply about to be sent may be repeating.
    pub fn replied_since(self) -> Vec<Comment> {
        self.arrived
            .try_with(|arrived| {
                arrived
                    .iter()
                    .filter(|c| c.public && c.author_id != self.me)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The newest value of `field` changed by someone else, if any.
    fn latest(self, field: &str) -> Option<String> {
        self.changes
            .try_with(|changes| {
                changes
                    .iter()
                    .rev()
                    .flat_map(|c| c.fields.iter().rev())
                    .find(|f| f.field == field)
                    .and_then(|f| f.new.clone())
            })
            .flatten()
    }
}

/// The ticket's status, as it is now.
#[component]
pub(super) fn LiveStatusBadge(live: LiveTicket, loaded: TicketStatus) -> impl IntoView {
    move || {
        let status = live
            .latest("status")
            .and_then(|s| TicketStatus::parse(&s))
            .unwrap_or(loaded);
        view! { <StatusBadge status /> }
    }
}

/// "Priority: High", as it is now.
#[component]
pub(super) fn LivePriority(live: LiveTicket, loaded: Priority) -> impl IntoView {
    move || {
        let priority = live
            .latest("priority")
            .and_then(|p| Priority::parse(&p))
            .unwrap_or(loaded);
        format!("Priority: {}", priority.label())
    }
}

/// "Jordan Agent is viewing", "Alex Agent is replying…".
#[component]
pub(super) fn PresenceLine(live: LiveTicket) -> impl IntoView {
    let text = move || {
        live.others
            .try_with(|others| {
                others
                    .iter()
                    .map(|p| match p.state {
                        PresenceState::Replying => format!("{} is replying…", p.name),
                        _ => format!("{} is viewing", p.name),
                    })
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default()
    };
    view! {
        <p class="presence-line" aria-live="polite" aria-label="Also on this ticket">
            {move || {
                let text = text();
                (!text.is_empty()).then(|| view! { <span class="presence-dot" aria-hidden="true"></span>{text} })
            }}
        </p>
    }
}

/// What others changed since the page loaded, and a way to see it all.
/// `names` names the people who may have changed it (staff: the agents);
/// anyone else is `unknown`.
#[component]
pub(super) fn ChangedNotice(
    live: LiveTicket,
    names: Vec<(Uuid, String)>,
    unknown: &'static str,
) -> impl IntoView {
    let name_of = move |id: Option<Uuid>| {
        id.and_then(|id| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()))
    };
    let lines = move || {
        live.changes
            .try_with(|changes| {
                changes
                    .iter()
                    .flat_map(|change| {
                        let who = name_of(change.actor_id).unwrap_or_else(|| unknown.to_owned());
                        let name_of = name_of.clone();
                        change.fields.iter().map(move |f| {
                            // Assignees travel as ids; the history reads names.
                            let person = |v: &Option<String>| {
                                v.as_deref()
                                    .and_then(|v| Uuid::parse_str(v).ok())
                                    .and_then(|id| name_of(Some(id)))
                                    .or_else(|| v.clone())
                            };
                            let (old, new) = if f.field == "assignee_id" {
                                (person(&f.old), person(&f.new))
                            } else {
                                (f.old.clone(), f.new.clone())
                            };
                            let entry = HistoryEntry {
                                actor_id: change.actor_id,
                                actor_name: None,
                                source: String::new(),
                                field: f.field.to_string(),
                                old,
                                new,
                                at: chrono::DateTime::UNIX_EPOCH,
                            };
                            let (label, what) = describe_change(&entry, &[]);
                            format!("{who} changed {label}: {what}")
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    view! {
        {move || {
            let lines = lines();
            (!lines.is_empty()).then(|| view! {
                <div class="alert alert-info changed-notice" role="status" aria-label="Changed meanwhile">
                    <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    <button type="button" class="btn btn-quiet" on:click=move |_| {
                        live.reloads.try_update(|n| *n += 1);
                    }>"Show the latest"</button>
                </div>
            })
        }}
    }
}
