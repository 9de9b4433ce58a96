//! The `notifications` subscriber: who is told what about each ticket
//! event. Customers get mails (ticket received — with the magic link for
//! those who follow by link —, a public agent reply, pending, resolved
//! with the rating link, closed); staff get in-app rows and mails per
//! their preferences (assigned, @mentioned, a customer's reply on their
//! ticket, escalations, SLA warnings and breaches). The person who acted
//! is never told about their own action — except a customer's receipt for
//! the ticket they opened, which starts the ticket's mail thread.

use super::templates;
use crate::domain::Role;
use crate::domain::event::{DomainEvent, SlaAlert, TicketChanged};
use crate::domain::notification::{MailTemplateKey, NotificationKind};
use crate::domain::ticket::{Ticket, TicketStatus};
use crate::engine::mail::{TicketLink, mention_mail};
use crate::engine::mentions;
use crate::engine::notify::{
    effective_preferences, in_app_text, mail_host, render, target_label, template_of, threading,
};
use crate::engine::placeholders::first_name;
use crate::server::db::events::Event;
use crate::server::db::mail::NewMail;
use crate::server::db::notifications::{self as store, NewNotification};
use crate::server::db::tickets;
use crate::server::db::users::{self, UserRecord};
use crate::server::magic_link::requester_link;
use crate::server::runtime::{BoxFuture, Reaction, Subscriber};
use crate::server::state::AppState;
use std::collections::HashSet;
use uuid::Uuid;

/// A message naming more people than this is a list, not a mention; only
/// the first ones are told.
const MAX_MENTIONS: usize = 20;

/// Who the mails name as acting when nobody did (rules, SLA, imports).
const SYSTEM_NAME: &str = "Fieldesk";

pub struct Notifications;

impl Subscriber for Notifications {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn wants(&self, kind: &str) -> bool {
        matches!(
            kind,
            "ticket.created"
                | "ticket.commented"
                | "ticket.updated"
                | "ticket.assigned"
                | "ticket.escalated"
                | "ticket.sla_warning"
                | "ticket.sla_breached"
        )
    }

    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        event: &'a Event,
        decoded: &'a DomainEvent,
    ) -> BoxFuture<'a, anyhow::Result<Reaction>> {
        Box::pin(async move {
            let org = event.organization_id;
            let ticket = match decoded {
                DomainEvent::TicketCreated { ticket, .. } => Some((**ticket).clone()),
                // None: deleted since.
                other => tickets::find(&state.db, org, other.aggregate_id())
                    .await?
                    .map(|row| row.into_ticket()),
            };
            let Some(ticket) = ticket else {
                return Ok(Reaction::default());
            };
            let requester = users::find_by_id(&state.db, ticket.requester_id).await?;
            let mut out = Compose {
                state,
                org,
                host: mail_host(&state.config.public_url()),
                ticket,
                requester,
                reaction: Reaction::default(),
            };
            match decoded {
                DomainEvent::TicketCreated { actor, .. } => {
                    out.customer_mail(MailTemplateKey::TicketReceived, None, &[])
                        .await?;
                    if let Some(assignee) = out.ticket.assignee_id {
                        let who = out.name_of(actor.user_id).await?;
                        let lines = [("agent.name", who.clone())];
                        out.staff(
                            NotificationKind::Assigned,
                            assignee,
                            actor.user_id,
                            &who,
                            "",
                            &lines,
                        )
                        .await?;
                    }
                }
                DomainEvent::TicketCommented(change) => out.commented(change).await?,
                DomainEvent::TicketUpdated(change) | DomainEvent::TicketAssigned(change) => {
                    out.updated(change).await?
                }
                DomainEvent::TicketEscalated(change) => out.escalated(change).await?,
                DomainEvent::TicketSlaWarning(alert) => {
                    out.sla(NotificationKind::SlaWarning, alert, false).await?
                }
                DomainEvent::TicketSlaBreached(alert) => {
                    out.sla(NotificationKind::SlaBreached, alert, true).await?
                }
                _ => {}
            }
            Ok(out.reaction)
        })
    }
}

/// One event's notifications, as they are decided.
struct Compose<'a> {
    state: &'a AppState,
    org: Uuid,
    host: String,
    ticket: Ticket,
    requester: Option<UserRecord>,
    reaction: Reaction,
}

impl Compose<'_> {
    /// The requester, if they are a customer who is told by mail.
    fn customer(&self) -> Option<&UserRecord> {
        self.requester
            .as_ref()
            .filter(|r| r.active && r.role() == Role::Customer && r.organization_id == self.org)
    }

    async fn name_of(&self, user: Option<Uuid>) -> anyhow::Result<String> {
        let Some(id) = user else {
            return Ok(SYSTEM_NAME.to_owned());
        };
        Ok(users::find_by_id(&self.state.db, id)
            .await?
            .map_or_else(|| SYSTEM_NAME.to_owned(), |u| u.name))
    }

    /// The placeholder values every mail of this ticket shares.
    fn base_values(&self) -> Vec<(&'static str, String)> {
        let t = &self.ticket;
        let (name, email) = self
            .requester
            .as_ref()
            .map_or((String::new(), String::new()), |r| {
                (r.name.clone(), r.email.clone())
            });
        let org = self
            .requester
            .as_ref()
            .map(|r| r.organization_name.clone())
            .unwrap_or_default();
        vec![
            ("ticket.number", t.display_number.clone()),
            ("ticket.subject", t.subject.clone()),
            ("ticket.status", t.status.label().to_owned()),
            ("ticket.priority", t.priority.to_string()),
            ("customer.first_name", first_name(&name).to_owned()),
            ("customer.name", name),
            ("customer.email", email),
            ("organization.name", org),
        ]
    }

    /// Renders `key` for one recipient and queues it, threaded on the ticket.
    async fn queue_mail(
        &mut self,
        key: MailTemplateKey,
        to: &str,
        values: &[(&'static str, String)],
    ) -> anyhow::Result<()> {
        let text = templates::text(&self.state.db, self.org, key).await?;
        let mut all = self.base_values();
        all.extend(values.iter().cloned());
        let lookup = |name: &str| {
            // Later values (the recipient's, the event's) win.
            all.iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let mail = render(&text, &self.ticket.display_number, lookup);
        self.push_mail(
            to,
            mail.subject,
            mail.body,
            key == MailTemplateKey::TicketReceived,
        );
        Ok(())
    }

    fn push_mail(&mut self, to: &str, subject: String, body: String, starts_thread: bool) {
        let id = Uuid::now_v7();
        self.reaction.mails.push(NewMail {
            id,
            organization_id: self.org,
            to: to.to_owned(),
            subject,
            body,
            threading: threading(self.ticket.id, id, &self.host, starts_thread),
        });
    }

    /// A mail to the requester, when they are a customer and did not act
    /// themselves (`actor`: None for a receipt, which they always get).
    async fn customer_mail(
        &mut self,
        key: MailTemplateKey,
        actor: Option<Uuid>,
        values: &[(&'static str, String)],
    ) -> anyhow::Result<()> {
        let Some(customer) = self.customer().cloned() else {
            return Ok(());
        };
        if actor == Some(customer.id) {
            return Ok(());
        }
        let (link, note) = requester_link(self.state, &customer, self.ticket.id);
        let mut all = vec![
            ("recipient.name", customer.name.clone()),
            ("rating.link", format!("{link}#rating")),
            ("ticket.link", link),
            ("ticket.link_note", note),
        ];
        all.extend(values.iter().cloned());
        self.queue_mail(key, &customer.email, &all).await
    }

    /// Tells staff member `user` about `kind` (not when they are `actor`),
    /// in the app and by mail as they prefer. `who` and `detail` go into
    /// the in-app text; `values` into the mail.
    async fn staff(
        &mut self,
        kind: NotificationKind,
        user: Uuid,
        actor: Option<Uuid>,
        who: &str,
        detail: &str,
        values: &[(&'static str, String)],
    ) -> anyhow::Result<()> {
        if actor == Some(user) {
            return Ok(());
        }
        let Some(person) = users::find_by_id(&self.state.db, user).await? else {
            return Ok(());
        };
        if !person.active || !person.role().is_staff() || person.organization_id != self.org {
            return Ok(());
        }
        let stored = store::preferences(&self.state.db, user).await?;
        let pref = effective_preferences(&stored)
            .into_iter()
            .find(|p| p.kind == kind)
            .unwrap_or_else(|| kind.default_preference());
        let number = self.ticket.display_number.clone();
        if pref.in_app {
            let (title, body) = in_app_text(kind, &number, &self.ticket.subject, who, detail);
            self.reaction.notifications.push(NewNotification {
                organization_id: self.org,
                user_id: user,
                kind,
                ticket_id: Some(self.ticket.id),
                ticket_number: Some(number),
                title,
                body,
            });
        }
        if pref.email {
            let link = self.desk_link();
            match template_of(kind) {
                Some(key) => {
                    let mut all = vec![
                        ("recipient.name", person.name.clone()),
                        ("ticket.link", link),
                    ];
                    all.extend(values.iter().cloned());
                    self.queue_mail(key, &person.email, &all).await?;
                }
                None => {
                    // A mention: its own text, quoting the message.
                    let ticket = TicketLink {
                        number: &self.ticket.display_number,
                        subject: &self.ticket.subject,
                        url: &link,
                    };
                    let public = values.iter().any(|(k, v)| *k == "public" && v == "true");
                    let text = mention_mail(who, &ticket, detail, public);
                    self.push_mail(&person.email, text.subject, text.body, false);
                }
            }
        }
        Ok(())
    }

    fn desk_link(&self) -> String {
        format!(
            "{}/desk/tickets/{}",
            self.state.config.public_url(),
            self.ticket.id
        )
    }

    /// A message: a public agent reply mails the customer; a customer's
    /// message tells the assignee; @mentions tell the colleagues named.
    async fn commented(&mut self, change: &TicketChanged) -> anyhow::Result<()> {
        let Some(comment_id) = change.comment_id else {
            return Ok(());
        };
        let Some(comment) = tickets::comment(&self.state.db, self.org, comment_id).await? else {
            return Ok(());
        };
        let author = users::find_by_id(&self.state.db, comment.author_id).await?;
        let Some(author) = author else {
            return Ok(());
        };
        if author.role().is_staff() {
            if comment.public {
                let values = [
                    ("agent.name", author.name.clone()),
                    ("message", comment.body.clone()),
                ];
                self.customer_mail(MailTemplateKey::AgentReply, Some(author.id), &values)
                    .await?;
            }
            // Only staff mention: a customer's message cannot make the desk
            // tell anyone.
            let handles = mentions::handles(&comment.body);
            let mut told = HashSet::new();
            for handle in handles.iter().take(MAX_MENTIONS) {
                let colleague = users::staff_by_handle(&self.state.db, self.org, handle).await?;
                let Some(colleague) = colleague.filter(|c| c.id != author.id) else {
                    continue;
                };
                if !told.insert(colleague.id) {
                    continue;
                }
                let public = ("public", comment.public.to_string());
                self.staff(
                    NotificationKind::Mention,
                    colleague.id,
                    Some(author.id),
                    &author.name,
                    &comment.body,
                    &[public],
                )
                .await?;
            }
        } else if let Some(assignee) = self.ticket.assignee_id {
            let values = [("message", comment.body.clone())];
            self.staff(
                NotificationKind::CustomerReply,
                assignee,
                Some(author.id),
                &author.name,
                &comment.body,
                &values,
            )
            .await?;
        }
        Ok(())
    }

    /// A field change: a new assignee is told; pending, resolved and
    /// closed are mailed to the customer.
    async fn updated(&mut self, change: &TicketChanged) -> anyhow::Result<()> {
        let actor = change.actor.user_id;
        let new_value = |field: &str| {
            change
                .changes
                .iter()
                .find(|c| c.field == field)
                .and_then(|c| c.new.clone())
        };
        if let Some(assignee) = new_value("assignee_id").and_then(|v| Uuid::parse_str(&v).ok()) {
            let who = self.name_of(actor).await?;
            let values = [("agent.name", who.clone())];
            self.staff(
                NotificationKind::Assigned,
                assignee,
                actor,
                &who,
                "",
                &values,
            )
            .await?;
        }
        let status = new_value("status").and_then(|s| TicketStatus::parse(&s));
        let key = match status {
            Some(TicketStatus::Pending) => Some(MailTemplateKey::TicketPending),
            Some(TicketStatus::Resolved) => Some(MailTemplateKey::TicketResolved),
            Some(TicketStatus::Closed) => Some(MailTemplateKey::TicketClosed),
            _ => None,
        };
        if let Some(key) = key {
            let who = self.name_of(actor).await?;
            self.customer_mail(key, actor, &[("agent.name", who)])
                .await?;
        }
        Ok(())
    }

    /// An escalation tells the managers and the assignee.
    async fn escalated(&mut self, change: &TicketChanged) -> anyhow::Result<()> {
        let actor = change.actor.user_id;
        let reason = self.ticket.escalation_reason.clone().unwrap_or_default();
        if actor.is_none() && crate::server::sla::is_breach_reason(&reason) {
            // The SLA's escalation: the `ticket.sla_breached` published with
            // it tells the same people, once.
            return Ok(());
        }
        let who = self.name_of(actor).await?;
        let values = [
            ("escalation.reason", reason.clone()),
            ("agent.name", who.clone()),
        ];
        for user in self.managers_and_assignee(true).await? {
            self.staff(
                NotificationKind::Escalated,
                user,
                actor,
                &who,
                &reason,
                &values,
            )
            .await?;
        }
        Ok(())
    }

    /// An SLA warning tells the assignee; a breach the managers too.
    async fn sla(
        &mut self,
        kind: NotificationKind,
        alert: &SlaAlert,
        managers: bool,
    ) -> anyhow::Result<()> {
        let due = alert.due_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let values = [
            ("sla.target", target_label(&alert.target)),
            ("sla.due_at", due.clone()),
            ("agent.name", SYSTEM_NAME.to_owned()),
        ];
        for user in self.managers_and_assignee(managers).await? {
            self.staff(kind, user, None, &alert.target, &due, &values)
                .await?;
        }
        Ok(())
    }

    /// The assignee, and the organization's managers if asked; each once.
    async fn managers_and_assignee(&self, managers: bool) -> anyhow::Result<Vec<Uuid>> {
        let mut people: Vec<Uuid> = self.ticket.assignee_id.into_iter().collect();
        if managers {
            for m in store::managers(&self.state.db, self.org).await? {
                if !people.contains(&m) {
                    people.push(m);
                }
            }
        }
        Ok(people)
    }
}
