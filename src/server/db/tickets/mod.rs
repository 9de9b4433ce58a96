//! Tickets: the row and how it reads as a `Ticket`, and single-ticket
//! reads (the ticket, its conversation, its audit trail). Writes are in
//! `write` (inside a transaction the service began), queue listing, search
//! and counts in `list`.

mod list;
mod write;

pub use list::{AssigneeFilter, ListFilter, NO_SLA_DUE, SortKey, list, queue_counts, stats};
pub(super) use list::{push_filters, push_page};
pub use write::{
    Applied, Change, Moving, NewComment, NewTicket, apply, has_comment, insert, insert_comment,
    move_conversation, set_created_at, set_description,
};

use super::{Conn, Db, Tx, query};
use crate::domain::sla::SlaState;
use crate::domain::ticket::{
    Channel, Comment, CustomValues, Priority, Satisfaction, Severity, Ticket, TicketStatus,
    display_number,
};
use crate::engine::markdown::to_safe_html;
use crate::engine::ticket_change::TicketState;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub channel: Channel,
    pub requester_id: Uuid,
    pub assignee_id: Option<Uuid>,
    pub tags: String,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub satisfaction_score: Option<i32>,
    pub satisfaction_comment: Option<String>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub escalation_reason: Option<String>,
    pub merged_into_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub severity: Option<Severity>,
    pub category_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub custom_fields: Json<CustomValues>,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub sla_state: Option<SlaState>,
}

pub(in crate::server::db) const TICKET_COLUMNS: &str = "id, organization_id, number, subject, description, status, priority, channel, \
     requester_id, assignee_id, tags, first_response_at, resolved_at, closed_at, created_at, updated_at, version, \
     satisfaction_score, satisfaction_comment, escalated_at, escalation_reason, merged_into_id, parent_id, \
     severity, category_id, team_id, company_id, custom_fields, sla_due_at, sla_state";

fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl TicketRow {
    pub fn state(&self) -> TicketState {
        TicketState {
            subject: self.subject.clone(),
            status: self.status,
            priority: self.priority,
            severity: self.severity,
            category_id: self.category_id,
            team_id: self.team_id,
            assignee_id: self.assignee_id,
            tags: split_tags(&self.tags),
            custom_fields: self.custom_fields.0.clone(),
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            satisfaction_score: self.satisfaction_score,
            satisfaction_comment: self.satisfaction_comment.clone(),
            escalated_at: self.escalated_at,
            escalation_reason: self.escalation_reason.clone(),
            merged_into_id: self.merged_into_id,
            // Only live tickets are ever loaded.
            deleted_at: None,
        }
    }

    pub fn into_ticket(self) -> Ticket {
        Ticket {
            display_number: display_number(self.number),
            status: self.status,
            priority: self.priority,
            severity: self.severity,
            channel: self.channel,
            tags: split_tags(&self.tags),
            company_id: self.company_id,
            team_id: self.team_id,
            category_id: self.category_id,
            custom_fields: self.custom_fields.0,
            id: self.id,
            number: self.number,
            subject: self.subject,
            description: self.description,
            requester_id: self.requester_id,
            assignee_id: self.assignee_id,
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            satisfaction: self.satisfaction_score.map(|score| Satisfaction {
                score,
                comment: self.satisfaction_comment,
            }),
            escalated_at: self.escalated_at,
            escalation_reason: self.escalation_reason,
            merged_into_id: self.merged_into_id,
            parent_id: self.parent_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            sla_due_at: self.sla_due_at,
            sla_state: self.sla_state,
        }
    }
}

/// A live (not deleted) ticket of `org`.
/// Read on `conn`: the read pool, or a transaction that is about to change it.
pub async fn find<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
    id: Uuid,
) -> Result<Option<TicketRow>, sqlx::Error> {
    query(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL"
    ))
    .bind(id)
    .bind(org)
    .fetch_optional(conn)
    .await
}

/// A live ticket of `org` by the id it had in the help desk it was imported from.
pub async fn find_by_external_id(
    tx: &mut Tx,
    org: Uuid,
    external_id: &str,
) -> Result<Option<TicketRow>, sqlx::Error> {
    query(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets \
         WHERE organization_id = $1 AND external_id = $2 AND deleted_at IS NULL"
    ))
    .bind(org)
    .bind(external_id)
    .fetch_optional(tx)
    .await
}

/// A live ticket by its number in the organization (`TCK-000012` is 12).
pub async fn find_by_number(
    db: &Db,
    org: Uuid,
    number: i64,
) -> Result<Option<TicketRow>, sqlx::Error> {
    query(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE organization_id = $1 AND number = $2 AND deleted_at IS NULL"
    ))
    .bind(org)
    .bind(number)
    .fetch_optional(db)
    .await
}

/// The conversation of a ticket, oldest first; internal notes only when asked.
pub async fn comments(
    db: &Db,
    org: Uuid,
    ticket: Uuid,
    include_internal: bool,
) -> Result<Vec<Comment>, sqlx::Error> {
    let sql = format!(
        "{SELECT_COMMENT} WHERE c.ticket_id = $1 AND c.organization_id = $2 AND (c.public OR $3) \
         ORDER BY c.created_at, c.id"
    );
    let rows: Vec<CommentRow> = query(sql)
        .bind(ticket)
        .bind(org)
        .bind(include_internal)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(CommentRow::into_comment).collect())
}

/// Up to `limit` messages of a ticket before `before` (a (created_at, id)
/// position; None: the newest), newest first; internal notes only when
/// asked. Messages written before their HTML was stored are rendered here
/// once and saved.
pub async fn comment_page(
    db: &Db,
    org: Uuid,
    ticket: Uuid,
    include_internal: bool,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<Comment>, sqlx::Error> {
    let mut q = query(format!(
        "{SELECT_COMMENT} WHERE c.ticket_id = $1 AND c.organization_id = $2 AND (c.public OR $3)"
    ))
    .bind(ticket)
    .bind(org)
    .bind(include_internal);
    if let Some((at, id)) = before {
        q.push(" AND (c.created_at < ").push_bind(at);
        q.push(" OR (c.created_at = ").push_bind(at);
        q.push(" AND c.id < ").push_bind(id).push("))");
    }
    q.push(" ORDER BY c.created_at DESC, c.id DESC LIMIT ")
        .push_bind(limit);
    let mut rows: Vec<CommentRow> = q.fetch_all(db).await?;
    let unrendered: Vec<(Uuid, String)> = rows
        .iter_mut()
        .filter(|row| row.body_html.is_none())
        .map(|row| {
            let html = to_safe_html(&row.body);
            row.body_html = Some(html.clone());
            (row.id, html)
        })
        .collect();
    if !unrendered.is_empty() {
        save_rendered(db, &unrendered).await?;
    }
    Ok(rows.into_iter().map(CommentRow::into_comment).collect())
}

/// Stores HTML rendered for older messages, in one transaction (at most a
/// page of them, once per message).
async fn save_rendered(db: &Db, rendered: &[(Uuid, String)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    for (id, html) in rendered {
        query("UPDATE ticket_comments SET body_html = $1 WHERE id = $2 AND body_html IS NULL")
            .bind(html.as_str())
            .bind(*id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await
}

/// One comment of `org` (a note or a reply), for event subscribers.
pub async fn comment(db: &Db, org: Uuid, id: Uuid) -> Result<Option<Comment>, sqlx::Error> {
    let sql = format!("{SELECT_COMMENT} WHERE c.id = $1 AND c.organization_id = $2");
    let row: Option<CommentRow> = query(sql).bind(id).bind(org).fetch_optional(db).await?;
    Ok(row.map(CommentRow::into_comment))
}

const SELECT_COMMENT: &str = "SELECT c.id, c.ticket_id, c.author_id, u.name AS author_name, \
     c.body, c.body_html, c.public, c.created_at FROM ticket_comments c JOIN users u ON u.id = c.author_id";

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: Uuid,
    ticket_id: Uuid,
    author_id: Uuid,
    author_name: String,
    body: String,
    /// None for messages stored before the HTML was (see `comment_page`).
    body_html: Option<String>,
    public: bool,
    created_at: DateTime<Utc>,
}

impl CommentRow {
    fn into_comment(self) -> Comment {
        Comment {
            id: self.id,
            ticket_id: self.ticket_id,
            author_id: self.author_id,
            author_name: self.author_name,
            body_html: self.body_html.unwrap_or_else(|| to_safe_html(&self.body)),
            body: self.body,
            public: self.public,
            created_at: self.created_at,
        }
    }
}

/// The audit trail of a ticket, oldest first.
pub async fn history(db: &Db, org: Uuid, ticket: Uuid) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let sql = "SELECT e.actor_id, u.name AS actor_name, e.source, e.field, e.old_value, e.new_value, e.created_at \
         FROM audit_log e LEFT JOIN users u ON u.id = e.actor_id \
         WHERE e.owner_type = 'ticket' AND e.owner_id = $1 AND e.organization_id = $2 \
         ORDER BY e.created_at, e.id";
    query(sql).bind(ticket).bind(org).fetch_all(db).await
}

pub use crate::domain::ticket::HistoryEntry;
