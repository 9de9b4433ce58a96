//! Writing tickets inside a transaction the service began: a new ticket,
//! a planned change (guarded by the row's `version`), and moving a
//! conversation between tickets. Each write records its audit rows and
//! its domain event in the same transaction.

use super::{TICKET_COLUMNS, TicketRow};
use crate::domain::audit::OwnerType;
use crate::domain::event::{Actor, ChangeEvent, DomainEvent, TicketChanged};
use crate::domain::sla::SlaState;
use crate::domain::ticket::{Channel, Comment, CustomValues, Priority, Severity, Ticket};
use crate::engine::markdown::to_safe_html;
use crate::engine::ticket_change::{FieldChange, TicketState};
use crate::server::audit::Origin;
use crate::server::db::attachments::{self, NewAttachment};
use crate::server::db::sla::StoredSla;
use crate::server::db::{Tx, audit, dialect, events, jobs, json, query};
use crate::server::sla;
use chrono::{DateTime, Utc};
use std::sync::LazyLock;
use uuid::Uuid;

pub struct NewTicket<'a> {
    /// Chosen by the caller, so a split can name the new ticket in its
    /// parent's trail before it exists.
    pub id: Uuid,
    pub organization_id: Uuid,
    pub subject: &'a str,
    pub description: &'a str,
    pub priority: Priority,
    pub severity: Option<Severity>,
    pub channel: Channel,
    pub requester_id: Uuid,
    /// None: the requester's company.
    pub company_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub tags: &'a [String],
    pub custom_fields: &'a CustomValues,
    /// Files sent with the request; their bytes are already stored.
    pub attachments: &'a [NewAttachment],
    /// The ticket this one was split from.
    pub parent_id: Option<Uuid>,
    /// The ticket's id in the help desk it was imported from.
    pub external_id: Option<&'a str>,
}

static NO_CUSTOM_VALUES: std::sync::LazyLock<CustomValues> =
    std::sync::LazyLock::new(CustomValues::new);

impl<'a> NewTicket<'a> {
    /// A ticket with only what every ticket has; the rest unset (the
    /// seeder and imports start here).
    pub fn plain(
        organization_id: Uuid,
        requester_id: Uuid,
        subject: &'a str,
        description: &'a str,
        priority: Priority,
        channel: Channel,
    ) -> NewTicket<'a> {
        NewTicket {
            id: Uuid::now_v7(),
            organization_id,
            subject,
            description,
            priority,
            severity: None,
            channel,
            requester_id,
            company_id: None,
            assignee_id: None,
            team_id: None,
            category_id: None,
            tags: &[],
            custom_fields: &NO_CUSTOM_VALUES,
            attachments: &[],
            parent_id: None,
            external_id: None,
        }
    }
}

/// The "created" audit row, in the same statement as the event (one round
/// trip, not two; see `dialect::insert_ticket`). $1, $4 and $6 are the
/// event's organization, ticket and time.
const CREATED_AUDIT: &str = "INSERT INTO audit_log (id, organization_id, owner_type, owner_id, actor_id, source, field, old_value, new_value, ip, user_agent, created_at) \
     VALUES ($7, $1, 'ticket', $4, $8, $9, 'ticket', NULL, 'created', $10, $11, $6)";
static CREATED: LazyLock<[String; 2]> =
    LazyLock::new(|| dialect::both(|d| dialect::publish_event(d, &[CREATED_AUDIT])));
/// `CREATED` with the ticket's first SLA timer (its binds from $12).
static CREATED_WITH_TIMER: LazyLock<[String; 2]> = LazyLock::new(|| {
    let timer = jobs::enqueue_statement(12);
    dialect::both(|d| dialect::publish_event(d, &[CREATED_AUDIT, &timer]))
});
static INSERT: LazyLock<[String; 2]> =
    LazyLock::new(|| dialect::both(|d| dialect::insert_ticket(d, TICKET_COLUMNS)));

/// Inserts `new` with the organization's next number, its audit rows (by
/// `actor`, from `origin`'s client) and its event (`ticket.created`, or
/// `ticket.imported` for history).
pub async fn insert(
    tx: &mut Tx,
    new: &NewTicket<'_>,
    actor: Actor,
    origin: &Origin,
    imported: bool,
    now: DateTime<Utc>,
) -> Result<TicketRow, sqlx::Error> {
    // Taken first so that "created" sorts before the attachment lines.
    let created_audit_id = Uuid::now_v7();
    // History brought in by an import starts no clock.
    let sla = match imported {
        true => None,
        false => sla::track::for_new(tx, new, now).await?,
    };
    let (company_id, stored_sla, timer) = match sla {
        Some(sla) => (sla.company_id, sla.stored, sla.timer),
        None => (new.company_id, StoredSla::default(), None),
    };
    let row: TicketRow = query(tx.dialect().pick(&INSERT))
        .bind(new.id)
        .bind(new.organization_id)
        .bind(new.subject)
        .bind(new.description)
        .bind(new.priority.as_str())
        .bind(new.channel.as_str())
        .bind(new.requester_id)
        .bind(new.assignee_id)
        .bind(new.tags.join(","))
        .bind(new.parent_id)
        .bind(now)
        .bind(new.external_id)
        .bind(new.severity.map(Severity::as_str))
        .bind(new.category_id)
        .bind(new.team_id)
        .bind(company_id)
        .bind(json(new.custom_fields))
        .bind(stored_sla.policy_id)
        .bind(stored_sla.first_response_due_at)
        .bind(stored_sla.next_response_due_at)
        .bind(stored_sla.resolution_due_at)
        .bind(stored_sla.due_at)
        .bind(stored_sla.warning_at)
        .bind(stored_sla.state.map(SlaState::as_str))
        .fetch_one(&mut *tx)
        .await?;
    for file in new.attachments {
        attachments::insert(
            tx,
            new.organization_id,
            (OwnerType::Ticket, new.id),
            file,
            now,
        )
        .await?;
        audit::record(
            tx,
            new.organization_id,
            new.id,
            actor,
            origin,
            &attachment_line(file),
            now,
        )
        .await?;
    }
    let ticket = Box::new(row.clone().into_ticket());
    let event = if imported {
        DomainEvent::TicketImported { ticket, actor }
    } else {
        DomainEvent::TicketCreated {
            ticket,
            attachment_ids: new.attachments.iter().map(|a| a.id).collect(),
            actor,
        }
    };
    let sql = match &timer {
        Some(timer) => {
            tx.wrote_jobs(timer.run_at);
            tx.dialect().pick(&CREATED_WITH_TIMER)
        }
        None => tx.dialect().pick(&CREATED),
    };
    events::publish_with(tx, sql, new.organization_id, &event, now, |q| {
        let q = q
            .bind(created_audit_id)
            .bind(actor.user_id)
            .bind(actor.source.as_str())
            .bind(origin.ip_text())
            .bind(origin.user_agent.clone());
        match &timer {
            Some(timer) => jobs::bind_enqueued(q, timer, now),
            None => q,
        }
    })
    .await?;
    Ok(row)
}

fn attachment_line(file: &NewAttachment) -> FieldChange {
    FieldChange {
        field: "attachment".into(),
        old: None,
        new: Some(file.filename.clone()),
    }
}

#[derive(Clone, Copy)]
pub struct NewComment<'a> {
    pub author_id: Uuid,
    pub body: &'a str,
    pub public: bool,
}

/// One planned change to store: the ticket's next state, the audit lines,
/// the event it makes, and optionally the message that caused it.
pub struct Change<'a> {
    pub ticket: &'a TicketRow,
    pub next: &'a TicketState,
    pub changes: &'a [FieldChange],
    pub actor: Actor,
    /// Where the request came from (the audit rows keep its client).
    pub origin: &'a Origin,
    pub event: ChangeEvent,
    pub comment: Option<NewComment<'a>>,
    pub attachments: &'a [NewAttachment],
}

/// What a stored change produced: the ticket as it now is, and the stored
/// message if the change carried one.
pub struct Applied {
    pub ticket: Ticket,
    pub comment: Option<Comment>,
}

const UPDATE_TICKET: &str = "UPDATE tickets SET subject = $1, status = $2, priority = $3, assignee_id = $4, tags = $5, \
     first_response_at = $6, resolved_at = $7, closed_at = $8, updated_at = $9, version = version + 1, \
     satisfaction_score = $13, satisfaction_comment = $14, escalated_at = $15, escalation_reason = $16, \
     deleted_at = $17, merged_into_id = $18, severity = $19, category_id = $20, team_id = $21, custom_fields = $22 \
     WHERE id = $10 AND organization_id = $11 AND version = $12 RETURNING ";

/// Stores `change` if the ticket is still the version that was read
/// (optimistic concurrency). None when someone else changed it first: the
/// caller rolls back, re-reads and re-plans.
pub async fn apply(
    tx: &mut Tx,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Applied>, sqlx::Error> {
    let (t, next) = (change.ticket, change.next);
    let updated: Option<TicketRow> = query(format!("{UPDATE_TICKET}{TICKET_COLUMNS}"))
        .bind(&next.subject)
        .bind(next.status.as_str())
        .bind(next.priority.as_str())
        .bind(next.assignee_id)
        .bind(next.tags.join(","))
        .bind(next.first_response_at)
        .bind(next.resolved_at)
        .bind(next.closed_at)
        .bind(now)
        .bind(t.id)
        .bind(t.organization_id)
        .bind(t.version)
        .bind(next.satisfaction_score)
        .bind(next.satisfaction_comment.as_deref())
        .bind(next.escalated_at)
        .bind(next.escalation_reason.as_deref())
        .bind(next.deleted_at)
        .bind(next.merged_into_id)
        .bind(next.severity.map(Severity::as_str))
        .bind(next.category_id)
        .bind(next.team_id)
        .bind(json(&next.custom_fields))
        .fetch_optional(&mut *tx)
        .await?;
    let Some(mut updated) = updated else {
        return Ok(None);
    };
    let comment = match change.comment {
        Some(c) => Some(insert_comment(tx, t.organization_id, t.id, c, now).await?),
        None => None,
    };
    for file in change.attachments {
        attachments::insert(tx, t.organization_id, (OwnerType::Ticket, t.id), file, now).await?;
    }
    for line in change.changes {
        audit::record(
            tx,
            t.organization_id,
            t.id,
            change.actor,
            change.origin,
            line,
            now,
        )
        .await?;
    }
    // After the message and the status lines: the clock replays them.
    crate::server::sla::track::on_change(tx, change, &mut updated, now).await?;
    let event = (change.event)(TicketChanged {
        ticket_id: t.id,
        actor: change.actor,
        comment_id: comment.as_ref().map(|c| c.id),
        attachment_ids: change.attachments.iter().map(|a| a.id).collect(),
        changes: change.changes.to_vec(),
    });
    events::publish(tx, t.organization_id, &event, now).await?;
    Ok(Some(Applied {
        ticket: updated.into_ticket(),
        comment,
    }))
}

/// Adds a message to ticket `ticket` (its author's name is not filled in).
pub async fn insert_comment(
    tx: &mut Tx,
    org: Uuid,
    ticket: Uuid,
    c: NewComment<'_>,
    at: DateTime<Utc>,
) -> Result<Comment, sqlx::Error> {
    let id = Uuid::now_v7();
    // Rendered once, here: every read shows the stored HTML.
    let body_html = to_safe_html(c.body);
    query(
        "INSERT INTO ticket_comments (id, organization_id, ticket_id, author_id, body, body_html, public, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(org)
    .bind(ticket)
    .bind(c.author_id)
    .bind(c.body)
    .bind(body_html.as_str())
    .bind(c.public)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(Comment {
        id,
        ticket_id: ticket,
        author_id: c.author_id,
        author_name: String::new(),
        body: c.body.to_owned(),
        body_html,
        public: c.public,
        created_at: at,
    })
}

/// Which messages move from one ticket to another.
pub enum Moving<'a> {
    /// The whole conversation and the files (a merge).
    Everything,
    /// The chosen messages (a split); files stay.
    Messages(&'a [Uuid]),
}

/// Moves messages (and for merges, files) from ticket `from` to `to`.
pub async fn move_conversation(
    tx: &mut Tx,
    org: Uuid,
    from: Uuid,
    to: Uuid,
    moving: Moving<'_>,
) -> Result<(), sqlx::Error> {
    match moving {
        Moving::Everything => {
            for sql in [
                "UPDATE ticket_comments SET ticket_id = $1 WHERE ticket_id = $2 AND organization_id = $3",
                "UPDATE attachments SET owner_id = $1 \
                 WHERE owner_type = 'ticket' AND owner_id = $2 AND organization_id = $3",
            ] {
                query(sql)
                    .bind(to)
                    .bind(from)
                    .bind(org)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Moving::Messages(ids) => {
            for id in ids {
                query(
                    "UPDATE ticket_comments SET ticket_id = $1 WHERE id = $2 AND ticket_id = $3 AND organization_id = $4",
                )
                .bind(to)
                .bind(id)
                .bind(from)
                .bind(org)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    Ok(())
}

/// An imported ticket keeps the creation time it had elsewhere.
pub async fn set_created_at(tx: &mut Tx, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    query("UPDATE tickets SET created_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// An import's new text of the original request (audited by the caller).
pub async fn set_description(tx: &mut Tx, id: Uuid, text: &str) -> Result<(), sqlx::Error> {
    query("UPDATE tickets SET description = $1 WHERE id = $2")
        .bind(text)
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Whether ticket `ticket` already has this message (same author, time and
/// text): an import sent twice adds nothing.
pub async fn has_comment(
    tx: &mut Tx,
    ticket: Uuid,
    c: NewComment<'_>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let (present,): (i64,) = query(
        "SELECT COUNT(*) FROM ticket_comments \
         WHERE ticket_id = $1 AND author_id = $2 AND created_at = $3 AND body = $4",
    )
    .bind(ticket)
    .bind(c.author_id)
    .bind(at)
    .bind(c.body)
    .fetch_one(tx)
    .await?;
    Ok(present > 0)
}
