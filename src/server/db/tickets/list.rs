//! Queue listing (filters, keyset pages, full-text search) and counts.

use super::{TICKET_COLUMNS, TicketRow};
use crate::domain::ticket::{
    Channel, Priority, QueueCounts, Severity, Ticket, TicketStats, TicketStatus,
};
use crate::engine::search;
use crate::server::db::{Db, Query, dialect, query};
use chrono::{DateTime, Utc};
use uuid::Uuid;

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
    /// The earliest pending SLA due time; tickets without one sort as if
    /// due at `NO_SLA_DUE` (last when soonest comes first).
    SlaDue,
}

/// Where a ticket without a pending SLA due time sorts (and what its
/// cursor holds): later than any real due time. Written as SQL literal and
/// as the cursor's instant; both backends compare them as instants
/// (SQLite: as the same RFC 3339 text it stores).
pub const NO_SLA_DUE: &str = "9999-12-31T23:59:59+00:00";

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

/// One page of tickets in (created_at, id) order — keyset pagination, so a
/// page deep in the list costs the same as the first.
pub async fn list(db: &Db, f: &ListFilter) -> Result<Vec<Ticket>, sqlx::Error> {
    let terms = f.text.as_deref().map(search::terms).unwrap_or_default();
    let rows: Vec<TicketRow> = if terms.is_empty() {
        let mut q = query(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE TRUE"));
        push_filters(&mut q, f);
        push_page(&mut q, f, f.limit);
        q.fetch_all(db).await?
    } else {
        dialect::search_tickets(db, f, &terms).await?
    };
    Ok(rows.into_iter().map(TicketRow::into_ticket).collect())
}

/// Appends every condition of `f` on the ticket row and its keyset cursor,
/// after a WHERE that already has a condition.
pub(in crate::server::db) fn push_filters(q: &mut Query<'_>, f: &ListFilter) {
    q.push(" AND deleted_at IS NULL AND organization_id = ")
        .push_bind(f.organization_id);
    if let Some(requester) = f.requester_id {
        q.push(" AND requester_id = ").push_bind(requester);
    }
    if !f.statuses.is_empty() {
        // Literals, not parameters: the planner can then use the partial
        // queue indexes (0010_queue_indexes.sql). Safe: they are our own
        // fixed wire names.
        let list: Vec<String> = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        q.push(&format!(" AND status IN ({})", list.join(", ")));
    }
    if let Some(priority) = f.priority {
        q.push(" AND priority = ").push_bind(priority.as_str());
    }
    if let Some(severity) = f.severity {
        q.push(" AND severity = ").push_bind(severity.as_str());
    }
    if let Some(channel) = f.channel {
        q.push(" AND channel = ").push_bind(channel.as_str());
    }
    if let Some(team) = f.team_id {
        q.push(" AND team_id = ").push_bind(team);
    }
    if let Some(category) = f.category_id {
        q.push(" AND category_id = ").push_bind(category);
    }
    if let Some(from) = f.created_from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.created_to {
        q.push(" AND created_at < ").push_bind(to);
    }
    match f.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => {
            q.push(" AND assignee_id IS NULL");
        }
        AssigneeFilter::User(id) => {
            q.push(" AND assignee_id = ").push_bind(id);
        }
    }
    if let Some(tag) = &f.tag {
        q.push(" AND (',' || tags || ',') LIKE ")
            .push_bind(format!("%,{},%", like_escape(tag)))
            .push(" ESCAPE '\\'");
    }
    if f.escalated {
        q.push(" AND escalated_at IS NOT NULL");
    }
    if let Some((at, id)) = f.after {
        let (key, cmp, _) = order(f);
        q.push(&format!(" AND ({key} {cmp} ")).push_bind(at);
        q.push(&format!(" OR ({key} = ")).push_bind(at);
        q.push(&format!(" AND id {cmp} ")).push_bind(id).push("))");
    }
}

/// Appends the list's order and a limit of `rows`.
pub(in crate::server::db) fn push_page(q: &mut Query<'_>, f: &ListFilter, rows: u32) {
    let (key, _, dir) = order(f);
    q.push(&format!(" ORDER BY {key} {dir}, id {dir} LIMIT "))
        .push_bind(rows);
}

/// The sort column, the keyset comparison and the direction.
fn order(f: &ListFilter) -> (&'static str, &'static str, &'static str) {
    let key = match f.sort {
        SortKey::Created => "created_at",
        SortKey::Updated => "updated_at",
        SortKey::SlaDue => "COALESCE(sla_due_at, '9999-12-31T23:59:59+00:00')",
    };
    if f.oldest_first {
        (key, ">", "ASC")
    } else {
        (key, "<", "DESC")
    }
}

/// How many of the organization's open tickets (not resolved or closed)
/// each desk queue holds, for the person `me`, in one query over the
/// `(organization_id, status)` index.
pub async fn queue_counts(db: &Db, org: Uuid, me: Uuid) -> Result<QueueCounts, sqlx::Error> {
    let mut q = query(
        "SELECT COUNT(*), \
         SUM(CASE WHEN assignee_id = $1 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END) \
         FROM tickets WHERE organization_id = $3 AND deleted_at IS NULL AND status IN ",
    )
    .bind(me)
    .bind(TicketStatus::Pending.as_str())
    .bind(org);
    q.push_list(
        TicketStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str()),
    );
    // SUM over no rows is NULL.
    let (all_open, my_open, unassigned, pending, escalated): (
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    ) = q.fetch_one(db).await?;
    Ok(QueueCounts {
        my_open: my_open.unwrap_or(0),
        unassigned: unassigned.unwrap_or(0),
        all_open,
        pending: pending.unwrap_or(0),
        escalated: escalated.unwrap_or(0),
    })
}

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
    let first_response = dialect::seconds_between(db.dialect(), "created_at", "first_response_at");
    let resolution = dialect::seconds_between(db.dialect(), "created_at", "resolved_at");
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
    let counts: Vec<Count> = query(counts_sql)
        .bind(org)
        .bind(requester)
        .fetch_all(db)
        .await?;
    let window: Window = query(window_sql)
        .bind(org)
        .bind(requester)
        .bind(since)
        .fetch_one(db)
        .await?;
    let mut stats = TicketStats {
        created_in_window: window.0.unwrap_or(0),
        resolved_in_window: window.1.unwrap_or(0),
        avg_first_response_minutes: window.2.map(|s| (s / 60.0 * 10.0).round() / 10.0),
        avg_resolution_minutes: window.3.map(|s| (s / 60.0 * 10.0).round() / 10.0),
        rated: window.4,
        avg_satisfaction: window.5.map(|a| (a * 100.0).round() / 100.0),
        ..TicketStats::empty(window_days)
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
