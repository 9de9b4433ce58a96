//! Service levels: an organization's calendars and policies, a ticket's
//! stored SLA columns, its SLA-relevant history (read from what the change
//! path already stores: creation, messages, status lines of the audit
//! trail), and breaches, recorded once.

use super::tickets::{TICKET_COLUMNS, TicketRow};
use super::{Conn, Tx, query};
use crate::domain::sla::{PolicyConditions, SlaCalendar, SlaPolicy, SlaState};
use crate::domain::ticket::{Priority, TicketStatus};
use crate::engine::sla::{SlaEvent, SlaEventKind};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct CalendarRow {
    id: Uuid,
    name: String,
    timezone: Option<String>,
    always_open: bool,
    hours: String,
    holidays: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CalendarRow {
    fn into_calendar(self) -> SlaCalendar {
        SlaCalendar {
            id: self.id,
            name: self.name,
            timezone: self.timezone,
            always_open: self.always_open,
            hours: serde_json::from_str(&self.hours).unwrap_or_default(),
            holidays: serde_json::from_str(&self.holidays).unwrap_or_default(),
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const CALENDAR_COLUMNS: &str =
    "id, name, timezone, always_open, hours, holidays, active, created_at, updated_at";

pub async fn calendars<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
) -> Result<Vec<SlaCalendar>, sqlx::Error> {
    let rows: Vec<CalendarRow> = query(format!(
        "SELECT {CALENDAR_COLUMNS} FROM sla_calendars WHERE organization_id = $1 ORDER BY name, id"
    ))
    .bind(org)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(CalendarRow::into_calendar).collect())
}

pub async fn find_calendar<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
    id: Uuid,
) -> Result<Option<SlaCalendar>, sqlx::Error> {
    let row: Option<CalendarRow> = query(format!(
        "SELECT {CALENDAR_COLUMNS} FROM sla_calendars WHERE organization_id = $1 AND id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(CalendarRow::into_calendar))
}

/// Inserts or replaces calendar `c` of `org`.
pub async fn save_calendar(tx: &mut Tx, org: Uuid, c: &SlaCalendar) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO sla_calendars (id, organization_id, name, timezone, always_open, hours, holidays, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, \
         always_open = excluded.always_open, hours = excluded.hours, holidays = excluded.holidays, \
         active = excluded.active, updated_at = excluded.updated_at",
    )
    .bind(c.id)
    .bind(org)
    .bind(c.name.as_str())
    .bind(c.timezone.as_deref())
    .bind(c.always_open)
    .bind(serde_json::to_string(&c.hours).unwrap_or_default())
    .bind(serde_json::to_string(&c.holidays).unwrap_or_default())
    .bind(c.active)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn delete_calendar(tx: &mut Tx, org: Uuid, id: Uuid) -> Result<u64, sqlx::Error> {
    query("DELETE FROM sla_calendars WHERE organization_id = $1 AND id = $2")
        .bind(org)
        .bind(id)
        .execute(tx)
        .await
}

/// How many policies use calendar `id`.
pub async fn policies_using(tx: &mut Tx, org: Uuid, id: Uuid) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        query("SELECT COUNT(*) FROM sla_policies WHERE organization_id = $1 AND calendar_id = $2")
            .bind(org)
            .bind(id)
            .fetch_one(tx)
            .await?;
    Ok(n)
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: Uuid,
    name: String,
    position: i64,
    active: bool,
    calendar_id: Uuid,
    conditions: String,
    first_response_minutes: Option<i64>,
    next_response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
    business_hours: bool,
    warning_percent: i64,
    raise_priority: Option<Priority>,
    reassign_team_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PolicyRow {
    fn into_policy(self) -> SlaPolicy {
        SlaPolicy {
            id: self.id,
            name: self.name,
            position: self.position,
            active: self.active,
            calendar_id: self.calendar_id,
            conditions: serde_json::from_str::<PolicyConditions>(&self.conditions)
                .unwrap_or_default(),
            first_response_minutes: self.first_response_minutes,
            next_response_minutes: self.next_response_minutes,
            resolution_minutes: self.resolution_minutes,
            business_hours: self.business_hours,
            warning_percent: self.warning_percent,
            raise_priority: self.raise_priority,
            reassign_team_id: self.reassign_team_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const POLICY_COLUMNS: &str = "id, name, CAST(position AS BIGINT) AS position, active, calendar_id, conditions, \
     CAST(first_response_minutes AS BIGINT) AS first_response_minutes, \
     CAST(next_response_minutes AS BIGINT) AS next_response_minutes, \
     CAST(resolution_minutes AS BIGINT) AS resolution_minutes, business_hours, \
     CAST(warning_percent AS BIGINT) AS warning_percent, raise_priority, reassign_team_id, created_at, updated_at";

/// The organization's policies, first tried first.
pub async fn policies<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
) -> Result<Vec<SlaPolicy>, sqlx::Error> {
    let rows: Vec<PolicyRow> = query(format!(
        "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE organization_id = $1 ORDER BY position, id"
    ))
    .bind(org)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(PolicyRow::into_policy).collect())
}

pub async fn find_policy<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
    id: Uuid,
) -> Result<Option<SlaPolicy>, sqlx::Error> {
    let row: Option<PolicyRow> = query(format!(
        "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE organization_id = $1 AND id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(PolicyRow::into_policy))
}

/// Inserts or replaces policy `p` of `org`.
pub async fn save_policy(tx: &mut Tx, org: Uuid, p: &SlaPolicy) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO sla_policies (id, organization_id, name, position, active, calendar_id, conditions, \
         first_response_minutes, next_response_minutes, resolution_minutes, business_hours, warning_percent, \
         raise_priority, reassign_team_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, position = excluded.position, \
         active = excluded.active, calendar_id = excluded.calendar_id, conditions = excluded.conditions, \
         first_response_minutes = excluded.first_response_minutes, \
         next_response_minutes = excluded.next_response_minutes, \
         resolution_minutes = excluded.resolution_minutes, business_hours = excluded.business_hours, \
         warning_percent = excluded.warning_percent, raise_priority = excluded.raise_priority, \
         reassign_team_id = excluded.reassign_team_id, updated_at = excluded.updated_at",
    )
    .bind(p.id)
    .bind(org)
    .bind(p.name.as_str())
    .bind(p.position)
    .bind(p.active)
    .bind(p.calendar_id)
    .bind(serde_json::to_string(&p.conditions).unwrap_or_default())
    .bind(p.first_response_minutes)
    .bind(p.next_response_minutes)
    .bind(p.resolution_minutes)
    .bind(p.business_hours)
    .bind(p.warning_percent)
    .bind(p.raise_priority.map(Priority::as_str))
    .bind(p.reassign_team_id)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn delete_policy(tx: &mut Tx, org: Uuid, id: Uuid) -> Result<u64, sqlx::Error> {
    query("DELETE FROM sla_policies WHERE organization_id = $1 AND id = $2")
        .bind(org)
        .bind(id)
        .execute(tx)
        .await
}

pub async fn set_position(
    tx: &mut Tx,
    org: Uuid,
    id: Uuid,
    position: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE sla_policies SET position = $1, updated_at = $2 WHERE organization_id = $3 AND id = $4",
    )
    .bind(position)
    .bind(now)
    .bind(org)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// A ticket's stored SLA columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredSla {
    pub policy_id: Option<Uuid>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub next_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub warning_at: Option<DateTime<Utc>>,
    pub state: Option<SlaState>,
}

/// Stores the ticket's SLA columns; with `version`, only while the ticket
/// is still at that version (false when it changed since it was read).
pub async fn set_ticket(
    tx: &mut Tx,
    ticket: Uuid,
    version: Option<i64>,
    s: &StoredSla,
) -> Result<bool, sqlx::Error> {
    let guard = if version.is_some() {
        " AND version = $9"
    } else {
        ""
    };
    let mut update = query(format!(
        "UPDATE tickets SET sla_policy_id = $1, first_response_due_at = $2, next_response_due_at = $3, \
         resolution_due_at = $4, sla_due_at = $5, sla_warning_at = $6, sla_state = $7 WHERE id = $8{guard}"
    ))
    .bind(s.policy_id)
    .bind(s.first_response_due_at)
    .bind(s.next_response_due_at)
    .bind(s.resolution_due_at)
    .bind(s.due_at)
    .bind(s.warning_at)
    .bind(s.state.map(SlaState::as_str))
    .bind(ticket);
    if let Some(version) = version {
        update = update.bind(version);
    }
    Ok(update.execute(tx).await? == 1)
}

/// An open ticket as the re-evaluation reads it: the row and its stored SLA.
#[derive(sqlx::FromRow)]
pub struct OpenTicket {
    #[sqlx(flatten)]
    pub row: TicketRow,
    sla_policy_id: Option<Uuid>,
    first_response_due_at: Option<DateTime<Utc>>,
    next_response_due_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    sla_warning_at: Option<DateTime<Utc>>,
}

impl OpenTicket {
    pub fn stored(&self) -> StoredSla {
        StoredSla {
            policy_id: self.sla_policy_id,
            first_response_due_at: self.first_response_due_at,
            next_response_due_at: self.next_response_due_at,
            resolution_due_at: self.resolution_due_at,
            due_at: self.row.sla_due_at,
            warning_at: self.sla_warning_at,
            state: self.row.sla_state,
        }
    }
}

/// Up to `limit` of the organization's open (not resolved or closed) live
/// tickets with ids after `after`, in id order.
pub async fn open_tickets_after<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<OpenTicket>, sqlx::Error> {
    query(format!(
        "SELECT {TICKET_COLUMNS}, sla_policy_id, first_response_due_at, next_response_due_at, \
         resolution_due_at, sla_warning_at FROM tickets \
         WHERE organization_id = $1 AND id > $2 AND deleted_at IS NULL \
         AND status NOT IN ('resolved', 'closed') ORDER BY id LIMIT $3"
    ))
    .bind(org)
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The ticket's SLA-relevant life, oldest first, from what the change path
/// stores: its creation, its messages (public staff replies answer;
/// customers' messages ask; internal notes are nothing) and the status
/// lines of its audit trail. At one instant, a reopening comes before the
/// message that caused it, an answer before the status it set.
pub async fn history<'c>(
    conn: impl Into<Conn<'c>>,
    ticket: Uuid,
    created_at: DateTime<Utc>,
) -> Result<Vec<SlaEvent>, sqlx::Error> {
    let mut lives = histories(conn, &[(ticket, created_at)]).await?;
    Ok(lives.remove(&ticket).unwrap_or_default())
}

/// `history` of several tickets (id, creation) in one query.
pub async fn histories<'c>(
    conn: impl Into<Conn<'c>>,
    tickets: &[(Uuid, DateTime<Utc>)],
) -> Result<HashMap<Uuid, Vec<SlaEvent>>, sqlx::Error> {
    if tickets.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = (1..=tickets.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows = query(format!(
        "SELECT c.ticket_id, c.created_at, CASE WHEN u.role = 'customer' THEN 'customer' \
         WHEN c.public THEN 'agent' ELSE 'note' END FROM ticket_comments c \
         LEFT JOIN users u ON u.id = c.author_id WHERE c.ticket_id IN ({ids}) \
         UNION ALL SELECT owner_id, created_at, 'status:' || new_value FROM audit_log \
         WHERE owner_type = 'ticket' AND owner_id IN ({ids}) AND field = 'status' AND new_value IS NOT NULL"
    ));
    for (id, _) in tickets {
        rows = rows.bind(*id);
    }
    let rows: Vec<(Uuid, DateTime<Utc>, String)> = rows.fetch_all(conn).await?;
    let mut ranked: HashMap<Uuid, Vec<(u8, SlaEvent)>> = HashMap::new();
    for (ticket, at, what) in rows {
        // At one instant: a reopening, then a customer's message, then an
        // answer, then any other status.
        let (rank, kind) = match what.as_str() {
            "customer" => (1, SlaEventKind::CustomerReply),
            "agent" => (2, SlaEventKind::AgentReply),
            other => match other.strip_prefix("status:").and_then(TicketStatus::parse) {
                Some(s @ (TicketStatus::New | TicketStatus::Open)) => (0, SlaEventKind::Status(s)),
                Some(s) => (3, SlaEventKind::Status(s)),
                None => continue,
            },
        };
        ranked
            .entry(ticket)
            .or_default()
            .push((rank, SlaEvent { at, kind }));
    }
    Ok(tickets
        .iter()
        .map(|(ticket, created_at)| {
            let created_at = *created_at;
            let mut events = ranked.remove(ticket).unwrap_or_default();
            events.sort_by_key(|(rank, e)| (e.at.max(created_at), *rank));
            let mut life = Vec::with_capacity(events.len() + 1);
            life.push(SlaEvent {
                at: created_at,
                kind: SlaEventKind::Created,
            });
            life.extend(events.into_iter().map(|(_, e)| SlaEvent {
                at: e.at.max(created_at),
                kind: e.kind,
            }));
            (*ticket, life)
        })
        .collect())
}

/// Records a breach unless it is recorded already; true when it is new.
pub async fn record_breach(
    tx: &mut Tx,
    org: Uuid,
    ticket: Uuid,
    target: &str,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n = query(
        "INSERT INTO ticket_sla_breaches (id, organization_id, ticket_id, target, due_at, breached_at, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (ticket_id, target, due_at) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(ticket)
    .bind(target)
    .bind(due_at)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(n == 1)
}

/// The ticket's recorded breaches, oldest first: (target, due, breached).
pub async fn breaches<'c>(
    conn: impl Into<Conn<'c>>,
    ticket: Uuid,
) -> Result<Vec<(String, DateTime<Utc>, DateTime<Utc>)>, sqlx::Error> {
    query(
        "SELECT target, due_at, breached_at FROM ticket_sla_breaches WHERE ticket_id = $1 ORDER BY due_at, target",
    )
    .bind(ticket)
    .fetch_all(conn)
    .await
}

/// How many breaches of `org` happened at or after `since`.
pub async fn breaches_since<'c>(
    conn: impl Into<Conn<'c>>,
    org: Uuid,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = query(
        "SELECT COUNT(*) FROM ticket_sla_breaches WHERE organization_id = $1 AND breached_at >= $2",
    )
    .bind(org)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(n)
}
