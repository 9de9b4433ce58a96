//! Tickets, comments, the audit trail and the outbox. Every write goes
//! through `insert` or `apply`, which record the audit rows and the domain
//! event in the same transaction as the change itself.

use super::attachments::{INSERT_ATTACHMENT, NewAttachment};
use super::{BeginWrite, Db, on_db, on_db_write};
use crate::domain::ticket::{
    Channel, Comment, CustomValues, Priority, Satisfaction, Severity, Ticket, TicketStats,
    TicketStatus, display_number,
};
use crate::engine::import::{ImportedDates, ValidTicket};
use crate::engine::markdown::to_safe_html;
use crate::engine::search;
use crate::engine::ticket_change::{FieldChange, TicketState, diff};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use std::sync::LazyLock;
use uuid::Uuid;

/// Where a change came from, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Ui,
    Api,
    Rule,
    Email,
    Import,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ui => "ui",
            Source::Api => "api",
            Source::Rule => "rule",
            Source::Email => "email",
            Source::Import => "import",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub channel: String,
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
    pub severity: Option<String>,
    pub category_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub custom_fields: Json<CustomValues>,
}

const TICKET_COLUMNS: &str = "id, organization_id, number, subject, description, status, priority, channel, \
     requester_id, assignee_id, tags, first_response_at, resolved_at, closed_at, created_at, updated_at, version, \
     satisfaction_score, satisfaction_comment, escalated_at, escalation_reason, merged_into_id, parent_id, \
     severity, category_id, team_id, company_id, custom_fields";

fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl TicketRow {
    // CHECK constraints guarantee known values; the fallbacks are never used.
    fn status(&self) -> TicketStatus {
        TicketStatus::parse(&self.status).unwrap_or(TicketStatus::Open)
    }

    fn priority(&self) -> Priority {
        Priority::parse(&self.priority).unwrap_or(Priority::Medium)
    }

    fn severity(&self) -> Option<Severity> {
        self.severity.as_deref().and_then(Severity::parse)
    }

    pub fn state(&self) -> TicketState {
        TicketState {
            subject: self.subject.clone(),
            status: self.status(),
            priority: self.priority(),
            severity: self.severity(),
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
            status: self.status(),
            priority: self.priority(),
            severity: self.severity(),
            channel: Channel::parse(&self.channel).unwrap_or(Channel::Web),
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
        }
    }
}

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

/// Who did it and through what, for audit rows and events.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub source: Source,
}

const INSERT_EVENT: &str = "INSERT INTO ticket_events (id, organization_id, ticket_id, actor_id, source, field, old_value, new_value, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const INSERT_OUTBOX: &str = "INSERT INTO outbox (id, organization_id, topic, aggregate_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// Records `$files` on ticket `$ticket` inside the open transaction `$tx`.
macro_rules! insert_attachments {
    ($tx:ident, $org:expr, $ticket:expr, $files:expr, $now:expr) => {
        for file in $files {
            sqlx::query(INSERT_ATTACHMENT)
                .bind(file.id)
                .bind($org)
                .bind($ticket)
                .bind(file.uploader_id)
                .bind(&file.filename)
                .bind(&file.content_type)
                .bind(file.size)
                .bind(file.public)
                .bind(&file.storage_key)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

const INSERT_COMMENT: &str = "INSERT INTO ticket_comments (id, organization_id, ticket_id, author_id, body, public, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Writes one audit row inside the open transaction `$tx`.
macro_rules! audit {
    ($tx:ident, $org:expr, $ticket:expr, $actor:expr, $field:expr, $old:expr, $new:expr, $now:expr) => {
        sqlx::query(INSERT_EVENT)
            .bind(Uuid::now_v7())
            .bind($org)
            .bind($ticket)
            .bind($actor.user_id)
            .bind($actor.source.as_str())
            .bind($field)
            .bind($old)
            .bind($new)
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

/// Records a domain event inside the open transaction `$tx`.
macro_rules! outbox {
    ($tx:ident, $org:expr, $topic:expr, $ticket:expr, $payload:expr, $now:expr) => {
        sqlx::query(INSERT_OUTBOX)
            .bind(Uuid::now_v7())
            .bind($org)
            .bind($topic)
            .bind($ticket)
            .bind($payload.to_string())
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

/// Whether `tx` is SQLite's, for the few statements written per backend.
fn is_sqlite<DB: sqlx::Database>(_tx: &sqlx::Transaction<'_, DB>) -> bool {
    DB::NAME == "SQLite"
}

/// The columns and values of a new ticket; `$n` are `insert_in_tx!`'s
/// binds, `{number}` the organization's next number. A ticket without a
/// company ($16) gets its requester's.
const NEW_TICKET_VALUES: &str = "(id, organization_id, number, subject, description, status, priority, channel, \
     requester_id, assignee_id, tags, parent_id, external_id, created_at, updated_at, \
     severity, category_id, team_id, company_id, custom_fields) \
     VALUES ($1, $2, {number}, $3, $4, 'new', $5, $6, $7, $8, $9, $10, $12, $11, $11, $13, $14, $15, \
     COALESCE($16, (SELECT company_id FROM users WHERE id = $7 AND organization_id = $2)), $17)";
const NEXT_NUMBER: &str = "INSERT INTO ticket_counters (organization_id, last_number) VALUES ($2, 1) \
     ON CONFLICT (organization_id) DO UPDATE SET last_number = ticket_counters.last_number + 1";
static INSERT_TICKET_SQLITE: LazyLock<String> = LazyLock::new(|| {
    let values = NEW_TICKET_VALUES.replace(
        "{number}",
        "(SELECT last_number FROM ticket_counters WHERE organization_id = $2)",
    );
    format!("{NEXT_NUMBER}; INSERT INTO tickets {values} RETURNING {TICKET_COLUMNS}")
});
static INSERT_TICKET_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    let values = NEW_TICKET_VALUES
        .replace("{number}", "(SELECT last_number FROM next)")
        .replacen("VALUES (", "SELECT ", 1);
    let values = values.strip_suffix(')').unwrap_or(&values);
    format!(
        "WITH next AS ({NEXT_NUMBER} RETURNING last_number) INSERT INTO tickets {values} RETURNING {TICKET_COLUMNS}"
    )
});
/// The "created" audit row and the `ticket.created` event.
const CREATED_AUDIT: &str = "INSERT INTO ticket_events (id, organization_id, ticket_id, actor_id, source, field, old_value, new_value, created_at) \
     VALUES ($1, $2, $3, $4, $5, 'ticket', NULL, 'created', $6)";
const CREATED_EVENT: &str = "INSERT INTO outbox (id, organization_id, topic, aggregate_id, payload, created_at) \
     VALUES ($7, $2, 'ticket.created', $3, $8, $6)";
static CREATED_SQLITE: LazyLock<String> =
    LazyLock::new(|| format!("{CREATED_AUDIT}; {CREATED_EVENT}"));
static CREATED_POSTGRES: LazyLock<String> =
    LazyLock::new(|| format!("WITH audit AS ({CREATED_AUDIT}) {CREATED_EVENT}"));

/// Inserts `$new` (a `NewTicket`) with the organization's next number, its
/// audit rows and its `ticket.created` event inside `$tx`; yields the row.
macro_rules! insert_in_tx {
    ($tx:ident, $new:expr, $actor:expr, $now:expr) => {{
        let new: &NewTicket<'_> = $new;
        let actor: Actor = $actor;
        let id = new.id;
        // Two statements, not five (counter, ticket; audit, event): each
        // statement is a round trip to SQLite's worker thread inside the
        // one-writer section, and these round trips bounded creation
        // throughput (docs/PERFORMANCE.md). SQLite runs `;`-separated
        // statements in one call; PostgreSQL takes data-modifying CTEs.
        let sqlite = is_sqlite(&$tx);
        // Taken first so that "created" sorts before the attachment lines.
        let created_audit_id = Uuid::now_v7();
        let row: TicketRow = sqlx::query_as(if sqlite {
            &*INSERT_TICKET_SQLITE
        } else {
            &*INSERT_TICKET_POSTGRES
        })
        .bind(id)
        .bind(new.organization_id)
        .bind(new.subject)
        .bind(new.description)
        .bind(new.priority.as_str())
        .bind(new.channel.as_str())
        .bind(new.requester_id)
        .bind(new.assignee_id)
        .bind(new.tags.join(","))
        .bind(new.parent_id)
        .bind($now)
        .bind(new.external_id)
        .bind(new.severity.map(Severity::as_str))
        .bind(new.category_id)
        .bind(new.team_id)
        .bind(new.company_id)
        .bind(Json(new.custom_fields))
        .fetch_one(&mut *$tx)
        .await?;
        insert_attachments!($tx, new.organization_id, id, new.attachments, $now);
        for file in new.attachments {
            audit!($tx, new.organization_id, id, actor, "attachment", None::<String>, Some(&file.filename), $now);
        }
        let attachment_ids: Vec<Uuid> = new.attachments.iter().map(|a| a.id).collect();
        let payload = serde_json::json!({
            "ticket": row.clone().into_ticket(),
            "attachment_ids": attachment_ids,
            "actor_id": actor.user_id,
            "source": actor.source.as_str(),
        });
        sqlx::query(if sqlite { &*CREATED_SQLITE } else { &*CREATED_POSTGRES })
            .bind(created_audit_id)
            .bind(new.organization_id)
            .bind(id)
            .bind(actor.user_id)
            .bind(actor.source.as_str())
            .bind($now)
            .bind(Uuid::now_v7())
            .bind(payload.to_string())
            .execute(&mut *$tx)
            .await?;
        row
    }};
}

/// Creates a ticket, its audit rows and its event, atomically.
pub async fn insert(
    db: &Db,
    new: &NewTicket<'_>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Ticket, sqlx::Error> {
    on_db_write!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let row = insert_in_tx!(tx, new, actor, now);
        tx.commit().await?;
        Ok(row.into_ticket())
    })
}

/// A live (not deleted) ticket of `org`.
pub async fn find(db: &Db, org: Uuid, id: Uuid) -> Result<Option<TicketRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).bind(org).fetch_optional(pool).await)
}

/// A live ticket by its number in the organization (`TCK-000012` is 12).
pub async fn find_by_number(
    db: &Db,
    org: Uuid,
    number: i64,
) -> Result<Option<TicketRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE organization_id = $1 AND number = $2 AND deleted_at IS NULL"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(org).bind(number).fetch_optional(pool).await)
}

#[derive(Clone, Copy)]
pub struct NewComment<'a> {
    pub author_id: Uuid,
    pub body: &'a str,
    pub public: bool,
}

/// One planned change to store: the ticket's next state, the audit lines,
/// the event topic, and optionally the message that caused it.
pub struct Change<'a> {
    pub ticket: &'a TicketRow,
    pub next: &'a TicketState,
    pub changes: &'a [FieldChange],
    pub actor: Actor,
    pub topic: &'a str,
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

/// Applies `$change` inside `$tx`: returns `Ok(None)` from the enclosing
/// function (rolling back) if the ticket is no longer the version read;
/// otherwise yields the `Applied` result.
macro_rules! apply_in_tx {
    ($tx:ident, $change:expr, $now:expr) => {{
        let change: &Change<'_> = $change;
        let (t, next) = (change.ticket, change.next);
        let updated: Option<TicketRow> = sqlx::query_as(&format!("{UPDATE_TICKET}{TICKET_COLUMNS}"))
            .bind(&next.subject)
            .bind(next.status.as_str())
            .bind(next.priority.as_str())
            .bind(next.assignee_id)
            .bind(next.tags.join(","))
            .bind(next.first_response_at)
            .bind(next.resolved_at)
            .bind(next.closed_at)
            .bind($now)
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
            .bind(Json(&next.custom_fields))
            .fetch_optional(&mut *$tx)
            .await?;
        let Some(updated) = updated else {
            return Ok(None);
        };
        let comment = match change.comment {
            Some(c) => {
                let id = Uuid::now_v7();
                sqlx::query(INSERT_COMMENT)
                    .bind(id)
                    .bind(t.organization_id)
                    .bind(t.id)
                    .bind(c.author_id)
                    .bind(c.body)
                    .bind(c.public)
                    .bind($now)
                    .execute(&mut *$tx)
                    .await?;
                Some(Comment {
                    id,
                    ticket_id: t.id,
                    author_id: c.author_id,
                    author_name: String::new(),
                    body: c.body.to_owned(),
                    body_html: to_safe_html(c.body),
                    public: c.public,
                    created_at: $now,
                })
            }
            None => None,
        };
        insert_attachments!($tx, t.organization_id, t.id, change.attachments, $now);
        for line in change.changes {
            audit!($tx, t.organization_id, t.id, change.actor, &*line.field, line.old.as_deref(), line.new.as_deref(), $now);
        }
        let payload = serde_json::json!({
            "ticket_id": t.id,
            "actor_id": change.actor.user_id,
            "source": change.actor.source.as_str(),
            "comment_id": comment.as_ref().map(|c| c.id),
            "attachment_ids": change.attachments.iter().map(|a| a.id).collect::<Vec<_>>(),
            "changes": change.changes.iter().map(|c| serde_json::json!({"field": c.field, "old": c.old, "new": c.new})).collect::<Vec<_>>(),
        });
        outbox!($tx, t.organization_id, change.topic, t.id, payload, $now);
        Applied { ticket: updated.into_ticket(), comment }
    }};
}

/// Stores a change if the ticket is still as it was read (optimistic
/// concurrency on `version`). Returns None when someone else changed it
/// first; the caller re-reads and re-plans.
pub async fn apply(
    db: &Db,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Applied>, sqlx::Error> {
    on_db_write!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let applied = apply_in_tx!(tx, change, now);
        tx.commit().await?;
        Ok(Some(applied))
    })
}

/// Moves the given conversation (all of it when `comment_ids` is None) and,
/// for merges, the files from one ticket to another inside `$tx`.
macro_rules! move_conversation {
    ($tx:ident, $org:expr, $from:expr, $to:expr, $comment_ids:expr, $with_files:expr) => {{
        match $comment_ids {
            None => {
                sqlx::query("UPDATE ticket_comments SET ticket_id = $1 WHERE ticket_id = $2 AND organization_id = $3")
                    .bind($to)
                    .bind($from)
                    .bind($org)
                    .execute(&mut *$tx)
                    .await?;
            }
            Some(ids) => {
                for id in ids {
                    sqlx::query("UPDATE ticket_comments SET ticket_id = $1 WHERE id = $2 AND ticket_id = $3 AND organization_id = $4")
                        .bind($to)
                        .bind(id)
                        .bind($from)
                        .bind($org)
                        .execute(&mut *$tx)
                        .await?;
                }
            }
        }
        if $with_files {
            sqlx::query("UPDATE attachments SET ticket_id = $1 WHERE ticket_id = $2 AND organization_id = $3")
                .bind($to)
                .bind($from)
                .bind($org)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Merges: the source's conversation and files move to the target, and both
/// tickets' changes are stored — all or nothing. None if either ticket
/// changed since it was read.
pub async fn merge(
    db: &Db,
    source: &Change<'_>,
    target: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(Applied, Applied)>, sqlx::Error> {
    let org = source.ticket.organization_id;
    let (from, to) = (source.ticket.id, target.ticket.id);
    on_db_write!(db, pool => {
        let mut tx = pool.begin_write().await?;
        move_conversation!(tx, org, from, to, None::<&[Uuid]>, true);
        let source = apply_in_tx!(tx, source, now);
        let target = apply_in_tx!(tx, target, now);
        tx.commit().await?;
        Ok(Some((source, target)))
    })
}

/// Splits: creates `new` (linked to its parent) and moves the chosen
/// messages to it, storing the parent's change too — all or nothing.
pub async fn split(
    db: &Db,
    parent: &Change<'_>,
    new: &NewTicket<'_>,
    comment_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Option<(Applied, Ticket)>, sqlx::Error> {
    let (org, from, actor) = (
        parent.ticket.organization_id,
        parent.ticket.id,
        parent.actor,
    );
    on_db_write!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let parent = apply_in_tx!(tx, parent, now);
        let child = insert_in_tx!(tx, new, actor, now);
        move_conversation!(tx, org, from, child.id, Some(comment_ids), false);
        tx.commit().await?;
        Ok(Some((parent, child.into_ticket())))
    })
}

/// A person an import refers to who has no account yet: becomes a
/// customer contact (no password; they cannot sign in until given one).
pub struct NewContact {
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

/// An imported ticket with its people resolved to ids.
pub struct ImportItem<'a> {
    pub ticket: &'a ValidTicket,
    pub requester_id: Uuid,
    /// One per message, in the ticket's message order.
    pub author_ids: Vec<Uuid>,
    pub dates: ImportedDates,
}

/// What an import did to one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportResult {
    Created,
    Updated,
    Unchanged,
}

/// Imports a batch in one transaction: contacts, then each ticket created or
/// updated (found by external id) with its new messages, audit rows and
/// events. Messages already present (same author, time and text) are not
/// added twice, so importing the same batch again changes nothing. None if
/// a ticket changed while the batch was being written.
pub async fn import(
    db: &Db,
    org: Uuid,
    actor: Actor,
    contacts: &[NewContact],
    items: &[ImportItem<'_>],
    now: DateTime<Utc>,
) -> Result<Option<Vec<(ImportResult, Ticket)>>, sqlx::Error> {
    let find_sql = format!(
        "SELECT {TICKET_COLUMNS} FROM tickets \
         WHERE organization_id = $1 AND external_id = $2 AND deleted_at IS NULL"
    );
    on_db_write!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for contact in contacts {
            sqlx::query(
                "INSERT INTO users (id, organization_id, email, name, role, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'customer', '!', TRUE, $5, $5)",
            )
            .bind(contact.id)
            .bind(org)
            .bind(&contact.email)
            .bind(&contact.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let t = item.ticket;
            let existing: Option<TicketRow> = sqlx::query_as(&find_sql)
                .bind(org)
                .bind(&t.external_id)
                .fetch_optional(&mut *tx)
                .await?;
            let mut changed = false;
            let (row, created) = match existing {
                Some(row) => (row, false),
                None => {
                    let new = NewTicket {
                        id: Uuid::now_v7(),
                        organization_id: org,
                        subject: &t.subject,
                        description: &t.description,
                        priority: t.priority,
                        severity: None,
                        channel: Channel::Api,
                        requester_id: item.requester_id,
                        company_id: None,
                        assignee_id: None,
                        team_id: None,
                        category_id: None,
                        tags: &[],
                        custom_fields: &CustomValues::new(),
                        attachments: &[],
                        parent_id: None,
                        external_id: Some(&t.external_id),
                    };
                    let row = insert_in_tx!(tx, &new, actor, now);
                    // Keep the original creation time (the audit row says when it was imported).
                    sqlx::query("UPDATE tickets SET created_at = $1 WHERE id = $2")
                        .bind(t.created_at)
                        .bind(row.id)
                        .execute(&mut *tx)
                        .await?;
                    (TicketRow { created_at: t.created_at, ..row }, true)
                }
            };
            if row.description != t.description {
                sqlx::query("UPDATE tickets SET description = $1 WHERE id = $2")
                    .bind(&t.description)
                    .bind(row.id)
                    .execute(&mut *tx)
                    .await?;
                audit!(tx, org, row.id, actor, "description", Some(&row.description), Some(&t.description), now);
                changed = true;
            }
            for (comment, author) in t.comments.iter().zip(&item.author_ids) {
                let (present,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM ticket_comments \
                     WHERE ticket_id = $1 AND author_id = $2 AND created_at = $3 AND body = $4",
                )
                .bind(row.id)
                .bind(author)
                .bind(comment.created_at)
                .bind(&comment.body)
                .fetch_one(&mut *tx)
                .await?;
                if present == 0 {
                    sqlx::query(INSERT_COMMENT)
                        .bind(Uuid::now_v7())
                        .bind(org)
                        .bind(row.id)
                        .bind(author)
                        .bind(&comment.body)
                        .bind(comment.public)
                        .bind(comment.created_at)
                        .execute(&mut *tx)
                        .await?;
                    audit!(tx, org, row.id, actor, "comment", None::<String>, Some(if comment.public { "public" } else { "internal" }), now);
                    changed = true;
                }
            }
            let mut next = row.state();
            next.subject = t.subject.clone();
            next.status = t.status;
            next.priority = t.priority;
            next.first_response_at = item.dates.first_response_at;
            next.resolved_at = item.dates.resolved_at;
            next.closed_at = item.dates.closed_at;
            let changes = diff(&row.state(), &next);
            let ticket = if changes.is_empty() {
                row.into_ticket()
            } else {
                let change = Change {
                    ticket: &row,
                    next: &next,
                    changes: &changes,
                    actor,
                    topic: "ticket.imported",
                    comment: None,
                    attachments: &[],
                };
                changed = true;
                apply_in_tx!(tx, &change, now).ticket
            };
            let result = match (created, changed) {
                (true, _) => ImportResult::Created,
                (false, true) => ImportResult::Updated,
                (false, false) => ImportResult::Unchanged,
            };
            results.push((result, ticket));
        }
        tx.commit().await?;
        Ok(Some(results))
    })
}

/// Whose tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Any,
    Unassigned,
    User(Uuid),
}

/// Which timestamp a list is ordered (and paged) by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Updated,
}

/// A queue view: filters, order, and the keyset position to continue from.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub organization_id: Uuid,
    /// Set for customers: only their own tickets.
    pub requester_id: Option<Uuid>,
    pub statuses: Vec<TicketStatus>,
    pub priority: Option<Priority>,
    pub severity: Option<Severity>,
    pub channel: Option<Channel>,
    pub assignee: AssigneeFilter,
    pub team_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub tag: Option<String>,
    /// Created in [from, to).
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Only tickets escalated to the managers.
    pub escalated: bool,
    /// Full-text search: every word, as a prefix, in the subject, the
    /// description or a message.
    pub text: Option<String>,
    /// Whether internal notes count as matches (staff) or not (customers).
    pub include_internal: bool,
    pub sort: SortKey,
    pub oldest_first: bool,
    /// (sort timestamp, id) of the last row already seen.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

/// `%`, `_` and `\` in user text match themselves in LIKE patterns.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How many of the newest tickets a PostgreSQL search checks one by one
/// before it collects every hit from the GIN indexes instead.
const SEARCH_WINDOW: u32 = 5_000;

/// One page of tickets in (created_at, id) order — keyset pagination, so a
/// page deep in the list costs the same as the first.
pub async fn list(db: &Db, f: &ListFilter) -> Result<Vec<Ticket>, sqlx::Error> {
    let (cmp, dir) = if f.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let key = match f.sort {
        SortKey::Created => "created_at",
        SortKey::Updated => "updated_at",
    };
    let order = format!(" ORDER BY {key} {dir}, id {dir} LIMIT ");
    // Every condition on the ticket row and the keyset cursor, after a
    // WHERE that already has a condition.
    macro_rules! filters {
        ($qb:ident) => {{
            $qb.push(" AND deleted_at IS NULL AND organization_id = ");
            $qb.push_bind(f.organization_id);
            if let Some(requester) = f.requester_id {
                $qb.push(" AND requester_id = ").push_bind(requester);
            }
            if !f.statuses.is_empty() {
                // Literals, not parameters: the planner can then use the
                // partial queue indexes (0010_queue_indexes.sql). Safe: they
                // are our own fixed wire names.
                let list: Vec<String> = f
                    .statuses
                    .iter()
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect();
                $qb.push(format!(" AND status IN ({})", list.join(", ")));
            }
            if let Some(priority) = f.priority {
                $qb.push(" AND priority = ").push_bind(priority.as_str());
            }
            if let Some(severity) = f.severity {
                $qb.push(" AND severity = ").push_bind(severity.as_str());
            }
            if let Some(channel) = f.channel {
                $qb.push(" AND channel = ").push_bind(channel.as_str());
            }
            if let Some(team) = f.team_id {
                $qb.push(" AND team_id = ").push_bind(team);
            }
            if let Some(category) = f.category_id {
                $qb.push(" AND category_id = ").push_bind(category);
            }
            if let Some(from) = f.created_from {
                $qb.push(" AND created_at >= ").push_bind(from);
            }
            if let Some(to) = f.created_to {
                $qb.push(" AND created_at < ").push_bind(to);
            }
            match f.assignee {
                AssigneeFilter::Any => {}
                AssigneeFilter::Unassigned => {
                    $qb.push(" AND assignee_id IS NULL");
                }
                AssigneeFilter::User(id) => {
                    $qb.push(" AND assignee_id = ").push_bind(id);
                }
            }
            if let Some(tag) = &f.tag {
                $qb.push(" AND (',' || tags || ',') LIKE ")
                    .push_bind(format!("%,{},%", like_escape(tag)))
                    .push(" ESCAPE '\\'");
            }
            if f.escalated {
                $qb.push(" AND escalated_at IS NOT NULL");
            }
            if let Some((at, id)) = f.after {
                $qb.push(format!(" AND ({key} {cmp} ")).push_bind(at);
                $qb.push(format!(" OR ({key} = ")).push_bind(at);
                $qb.push(format!(" AND id {cmp} ")).push_bind(id).push("))");
            }
        }};
    }
    macro_rules! page {
        ($qb:ident, $rows:expr) => {
            $qb.push(&order).push_bind(i64::from($rows))
        };
    }
    let terms = f.text.as_deref().map(search::terms).unwrap_or_default();
    if terms.is_empty() {
        let rows: Vec<TicketRow> = on_db!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE TRUE"));
            filters!(qb);
            page!(qb, f.limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        return Ok(rows.into_iter().map(TicketRow::into_ticket).collect());
    }
    let rows: Vec<TicketRow> = match db {
        Db::Sqlite { pool, .. } => {
            // FTS5 drives: the first page of the tickets whose subject or
            // description match, and the first page of those with a matching
            // message, each filtered and ordered on its own, then the first
            // page of both. CROSS JOIN: SQLite keeps this join order.
            let query = search::fts5_query(&terms);
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                "SELECT {TICKET_COLUMNS} FROM (SELECT hit_id FROM (SELECT tickets.id AS hit_id \
                 FROM tickets_fts JOIN search_keys k ON k.key = tickets_fts.rowid \
                 CROSS JOIN tickets ON tickets.id = k.item_id WHERE tickets_fts MATCH "
            ));
            qb.push_bind(query.clone());
            filters!(qb);
            page!(qb, f.limit);
            qb.push(
                ") UNION SELECT hit_id FROM (SELECT tickets.id AS hit_id FROM \
                     (SELECT ticket_id FROM comments_fts WHERE comments_fts MATCH ",
            )
            .push_bind(query)
            .push(" AND (public OR ")
            .push_bind(f.include_internal)
            .push(")) AS c CROSS JOIN tickets ON tickets.id = c.ticket_id WHERE TRUE");
            filters!(qb);
            page!(qb, f.limit);
            qb.push(")) AS hits CROSS JOIN tickets ON tickets.id = hits.hit_id");
            page!(qb, f.limit);
            qb.build_query_as().fetch_all(pool).await?
        }
        Db::Postgres(pool) => {
            let query = search::tsquery(&terms);
            // First the newest tickets (under the same filters), each
            // checked for a match: when hits are common this finds a page
            // in a few thousand rows, where collecting every hit took
            // ~115 ms at a million tickets. A full page from the window is
            // the true first page, because the window is the newest rows.
            let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
                "SELECT {TICKET_COLUMNS} FROM (SELECT * FROM tickets WHERE TRUE"
            ));
            filters!(qb);
            page!(qb, SEARCH_WINDOW);
            qb.push(") AS recent WHERE search @@ to_tsquery('simple', ")
                .push_bind(query.clone())
                // OFFSET 0 keeps the check per row, after the subject's
                // (the planner would otherwise collect every matching
                // message first: 0.8 s for a common word).
                .push(
                    ") OR EXISTS (SELECT 1 FROM ticket_comments c WHERE c.ticket_id = recent.id \
                       AND c.search @@ to_tsquery('simple', ",
                )
                .push_bind(query.clone())
                .push(") AND (c.public OR ")
                .push_bind(f.include_internal)
                .push(") OFFSET 0)");
            page!(qb, f.limit);
            let rows: Vec<TicketRow> = qb.build_query_as().fetch_all(pool).await?;
            if rows.len() >= f.limit as usize {
                rows
            } else {
                // Rare hits: collect them all from the GIN indexes, then
                // fetch those by key. (In one query the planner walks the
                // time index for these too, and a word that matches
                // nothing read every ticket: ~2 s.)
                let hits: Vec<(Uuid,)> = sqlx::query_as(
                        "SELECT id FROM tickets WHERE search @@ to_tsquery('simple', $1) AND organization_id = $3 \
                     UNION SELECT ticket_id FROM ticket_comments \
                     WHERE search @@ to_tsquery('simple', $1) AND (public OR $2) AND organization_id = $3",
                    )
                    .bind(&query)
                    .bind(f.include_internal)
                    .bind(f.organization_id)
                    .fetch_all(pool)
                    .await?;
                let hits: Vec<Uuid> = hits.into_iter().map(|(id,)| id).collect();
                let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
                    "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ANY("
                ));
                qb.push_bind(hits).push(")");
                filters!(qb);
                page!(qb, f.limit);
                qb.build_query_as().fetch_all(pool).await?
            }
        }
    };
    Ok(rows.into_iter().map(TicketRow::into_ticket).collect())
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
    let rows: Vec<CommentRow> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(ticket)
        .bind(org)
        .bind(include_internal)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(CommentRow::into_comment).collect())
}

/// One comment of `org` (a note or a reply), for event subscribers.
pub async fn comment(db: &Db, org: Uuid, id: Uuid) -> Result<Option<Comment>, sqlx::Error> {
    let sql = format!("{SELECT_COMMENT} WHERE c.id = $1 AND c.organization_id = $2");
    let row: Option<CommentRow> =
        on_db!(db, pool => sqlx::query_as(&sql).bind(id).bind(org).fetch_optional(pool).await)?;
    Ok(row.map(CommentRow::into_comment))
}

const SELECT_COMMENT: &str = "SELECT c.id, c.ticket_id, c.author_id, u.name AS author_name, \
     c.body, c.public, c.created_at FROM ticket_comments c JOIN users u ON u.id = c.author_id";

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: Uuid,
    ticket_id: Uuid,
    author_id: Uuid,
    author_name: String,
    body: String,
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
            body_html: to_safe_html(&self.body),
            body: self.body,
            public: self.public,
            created_at: self.created_at,
        }
    }
}

/// The audit trail of a ticket, oldest first.
pub async fn history(db: &Db, org: Uuid, ticket: Uuid) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let sql = "SELECT e.actor_id, u.name AS actor_name, e.source, e.field, e.old_value, e.new_value, e.created_at \
         FROM ticket_events e LEFT JOIN users u ON u.id = e.actor_id \
         WHERE e.ticket_id = $1 AND e.organization_id = $2 ORDER BY e.created_at, e.id";
    on_db!(db, pool => sqlx::query_as(sql).bind(ticket).bind(org).fetch_all(pool).await)
}

pub use crate::domain::ticket::HistoryEntry;

/// Counts by status and priority, then the window's activity and averages,
/// in two aggregate queries. `requester` limits it to one customer's tickets.
pub async fn stats(
    db: &Db,
    org: Uuid,
    requester: Option<Uuid>,
    since: DateTime<Utc>,
    window_days: i64,
) -> Result<TicketStats, sqlx::Error> {
    let scope = "organization_id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR requester_id = $2)";
    let counts_sql = format!(
        "SELECT status, priority, COUNT(*), \
         SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END) \
         FROM tickets WHERE {scope} GROUP BY status, priority"
    );
    // Seconds between two timestamps: each backend's own date arithmetic.
    let (first_response, resolution) = match db {
        Db::Sqlite { .. } => (
            "(julianday(first_response_at) - julianday(created_at)) * 86400.0",
            "(julianday(resolved_at) - julianday(created_at)) * 86400.0",
        ),
        Db::Postgres(_) => (
            "EXTRACT(EPOCH FROM (first_response_at - created_at))::float8",
            "EXTRACT(EPOCH FROM (resolved_at - created_at))::float8",
        ),
    };
    let window_sql = format!(
        "SELECT \
         SUM(CASE WHEN created_at >= $3 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN resolved_at >= $3 THEN 1 ELSE 0 END), \
         AVG(CASE WHEN created_at >= $3 THEN {first_response} END), \
         AVG(CASE WHEN created_at >= $3 THEN {resolution} END), \
         COUNT(satisfaction_score), \
         AVG(CAST(satisfaction_score AS DOUBLE PRECISION)) \
         FROM tickets WHERE {scope}"
    );
    type Window = (
        Option<i64>,
        Option<i64>,
        Option<f64>,
        Option<f64>,
        i64,
        Option<f64>,
    );
    /// status, priority, count, unassigned, escalated
    type Count = (String, String, i64, i64, i64);
    let (counts, window): (Vec<Count>, Window) = on_db!(db, pool => {
        let counts = sqlx::query_as(&counts_sql)
            .bind(org)
            .bind(requester)
            .fetch_all(pool)
            .await?;
        let window = sqlx::query_as(&window_sql)
            .bind(org)
            .bind(requester)
            .bind(since)
            .fetch_one(pool)
            .await?;
        (counts, window)
    });
    let mut stats = TicketStats {
        total: 0,
        by_status: TicketStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect(),
        open_by_priority: Priority::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), 0))
            .collect(),
        open: 0,
        unassigned_open: 0,
        escalated_open: 0,
        window_days,
        created_in_window: window.0.unwrap_or(0),
        resolved_in_window: window.1.unwrap_or(0),
        avg_first_response_minutes: window.2.map(|s| (s / 60.0 * 10.0).round() / 10.0),
        avg_resolution_minutes: window.3.map(|s| (s / 60.0 * 10.0).round() / 10.0),
        rated: window.4,
        avg_satisfaction: window.5.map(|a| (a * 100.0).round() / 100.0),
    };
    for (status, priority, count, unassigned, escalated) in counts {
        stats.total += count;
        *stats.by_status.entry(status.clone()).or_default() += count;
        if TicketStatus::parse(&status).is_some_and(TicketStatus::is_open) {
            stats.open += count;
            stats.unassigned_open += unassigned;
            stats.escalated_open += escalated;
            *stats.open_by_priority.entry(priority).or_default() += count;
        }
    }
    Ok(stats)
}
