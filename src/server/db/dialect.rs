//! The statements that really differ between SQLite and PostgreSQL, in one
//! place: a new ticket's number and row in one statement, full-text search,
//! date arithmetic, claiming jobs, and waking other instances. Everything
//! else is written once (`query::Query`).

use super::tickets::{ListFilter, TICKET_COLUMNS, TicketRow, push_filters, push_page};
use super::{Db, query};
use crate::engine::search;
use sqlx::Postgres;
use uuid::Uuid;

/// The backend a query will run on, for choosing among the variants below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// This dialect's statement of a pair made by `both`.
    pub fn pick(self, pair: &[String; 2]) -> &str {
        match self {
            Dialect::Sqlite => &pair[0],
            Dialect::Postgres => &pair[1],
        }
    }
}

/// A statement assembled from parts, for each dialect; kept in a
/// `LazyLock` so that the hot paths (a ticket's creation, an event) do not
/// format their SQL again on every call.
pub fn both(build: impl Fn(Dialect) -> String) -> [String; 2] {
    [build(Dialect::Sqlite), build(Dialect::Postgres)]
}

/// The channel other instances `LISTEN` on (see `server::runtime`).
pub const WAKE_CHANNEL: &str = "fieldesk_wake";

/// Tells every instance's runtime, on commit, that events or jobs arrived.
/// (SQLite is one process: its in-process wake-up is enough.)
pub(super) async fn notify_wake(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    events: bool,
    jobs: bool,
) -> Result<(), sqlx::Error> {
    let what = match (events, jobs) {
        (false, false) => return Ok(()),
        (true, false) => "events",
        (false, true) => "jobs",
        (true, true) => "events,jobs",
    };
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(WAKE_CHANNEL)
        .bind(what)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Seconds from `from` to `to` (two timestamp columns), as a float.
pub fn seconds_between(dialect: Dialect, from: &str, to: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("(julianday({to}) - julianday({from})) * 86400.0"),
        Dialect::Postgres => format!("EXTRACT(EPOCH FROM ({to} - {from}))::float8"),
    }
}

/// The new ticket's columns and values; `{number}` is the organization's
/// next number. Binds: see `tickets::write::insert`. A ticket without a
/// company ($16) gets its requester's.
const NEW_TICKET_VALUES: &str = "(id, organization_id, number, subject, description, status, priority, channel, \
     requester_id, assignee_id, tags, parent_id, external_id, created_at, updated_at, \
     severity, category_id, team_id, company_id, custom_fields, \
     sla_policy_id, first_response_due_at, next_response_due_at, resolution_due_at, sla_due_at, sla_warning_at, sla_state) \
     VALUES ($1, $2, {number}, $3, $4, 'new', $5, $6, $7, $8, $9, $10, $12, $11, $11, $13, $14, $15, \
     COALESCE($16, (SELECT company_id FROM users WHERE id = $7 AND organization_id = $2)), $17, \
     $18, $19, $20, $21, $22, $23, $24)";
const NEXT_TICKET_NUMBER: &str = "INSERT INTO ticket_counters (organization_id, last_number) VALUES ($2, 1) \
     ON CONFLICT (organization_id) DO UPDATE SET last_number = ticket_counters.last_number + 1";

/// Takes the organization's next ticket number and inserts the ticket, in
/// one statement (one round trip inside SQLite's one-writer section, where
/// round trips bounded creation throughput; docs/PERFORMANCE.md). SQLite
/// runs `;`-separated statements in one call; PostgreSQL takes a
/// data-modifying CTE. Returns `returning` of the new row.
pub fn insert_ticket(dialect: Dialect, returning: &str) -> String {
    match dialect {
        Dialect::Sqlite => {
            let values = NEW_TICKET_VALUES.replace(
                "{number}",
                "(SELECT last_number FROM ticket_counters WHERE organization_id = $2)",
            );
            format!("{NEXT_TICKET_NUMBER}; INSERT INTO tickets {values} RETURNING {returning}")
        }
        Dialect::Postgres => {
            let values = NEW_TICKET_VALUES
                .replace("{number}", "(SELECT last_number FROM next)")
                .replacen("VALUES (", "SELECT ", 1);
            let values = values.strip_suffix(')').unwrap_or(&values);
            format!(
                "WITH next AS ({NEXT_TICKET_NUMBER} RETURNING last_number) INSERT INTO tickets {values} RETURNING {returning}"
            )
        }
    }
}

const NEXT_EVENT_SEQ: &str = "INSERT INTO event_counters (organization_id, last_seq) VALUES ($1, 1) \
     ON CONFLICT (organization_id) DO UPDATE SET last_seq = event_counters.last_seq + 1";
const OUTBOX_COLUMNS: &str =
    "outbox (id, organization_id, seq, topic, aggregate_id, payload, created_at)";

/// Takes the organization's next event number and writes the event, in one
/// statement. Binds: $1 organization, $2 event id, $3 kind,
/// $4 aggregate id, $5 payload, $6 time. The counter row stays locked until
/// commit, so an organization's events commit in the order of their numbers
/// and a reader that has seen number n has seen everything before it.
/// `before` run before it in the same round trip (their own binds from $7
/// on; they may use the event's): on SQLite as `;`-separated statements, on
/// PostgreSQL as data-modifying CTEs.
pub fn publish_event(dialect: Dialect, before: &[&str]) -> String {
    match dialect {
        Dialect::Sqlite => format!(
            "{}{NEXT_EVENT_SEQ}; INSERT INTO {OUTBOX_COLUMNS} VALUES ($2, $1, \
             (SELECT last_seq FROM event_counters WHERE organization_id = $1), $3, $4, $5, $6)",
            before.iter().map(|f| format!("{f}; ")).collect::<String>()
        ),
        Dialect::Postgres => format!(
            "WITH {}next AS ({NEXT_EVENT_SEQ} RETURNING last_seq) INSERT INTO {OUTBOX_COLUMNS} \
             SELECT $2, $1, last_seq, $3, $4, $5, $6 FROM next",
            before
                .iter()
                .enumerate()
                .map(|(i, f)| format!("before{i} AS ({f}), "))
                .collect::<String>()
        ),
    }
}

/// Claims up to `$3` due jobs of the given kinds (our own constant names,
/// written into the SQL) for one attempt each, leased until `$2`: queued
/// ones whose time has come and running ones whose lease ran out (their
/// worker died). PostgreSQL skips rows another worker is claiming, so
/// several instances share the work; SQLite has one writer.
pub fn claim_jobs(dialect: Dialect, kinds: &[&str], returning: &str) -> String {
    let kinds: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
    let lock = match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1 \
         WHERE id IN (SELECT id FROM jobs WHERE kind IN ({kinds}) \
         AND ((status = 'queued' AND run_at <= $1) OR (status = 'running' AND lease_until <= $1)) \
         ORDER BY run_at LIMIT $3{lock}) RETURNING {returning}",
        kinds = kinds.join(", ")
    )
}

/// How many of the newest tickets a PostgreSQL search checks one by one
/// before it collects every hit from the GIN indexes instead.
const SEARCH_WINDOW: u32 = 5_000;

/// One page of the tickets matching every search term under the list's
/// filters: SQLite's FTS5 tables or PostgreSQL's tsvector columns.
pub(super) async fn search_tickets(
    db: &Db,
    f: &ListFilter,
    terms: &[String],
) -> Result<Vec<TicketRow>, sqlx::Error> {
    match db.dialect() {
        Dialect::Sqlite => {
            // FTS5 drives: the first page of the tickets whose subject or
            // description match, and the first page of those with a matching
            // message, each filtered and ordered on its own, then the first
            // page of both. CROSS JOIN: SQLite keeps this join order.
            let fts = search::fts5_query(terms);
            let mut q = query(format!(
                "SELECT {TICKET_COLUMNS} FROM (SELECT hit_id FROM (SELECT tickets.id AS hit_id \
                 FROM tickets_fts JOIN search_keys k ON k.key = tickets_fts.rowid \
                 CROSS JOIN tickets ON tickets.id = k.item_id WHERE tickets_fts MATCH "
            ));
            q.push_bind(fts.clone());
            push_filters(&mut q, f);
            push_page(&mut q, f, f.limit);
            q.push(
                ") UNION SELECT hit_id FROM (SELECT tickets.id AS hit_id FROM \
                 (SELECT ticket_id FROM comments_fts WHERE comments_fts MATCH ",
            )
            .push_bind(fts)
            .push(" AND (public OR ")
            .push_bind(f.include_internal)
            .push(")) AS c CROSS JOIN tickets ON tickets.id = c.ticket_id WHERE TRUE");
            push_filters(&mut q, f);
            push_page(&mut q, f, f.limit);
            q.push(")) AS hits CROSS JOIN tickets ON tickets.id = hits.hit_id");
            push_page(&mut q, f, f.limit);
            q.fetch_all(db).await
        }
        Dialect::Postgres => {
            let tsquery = search::tsquery(terms);
            // First the newest tickets (under the same filters), each
            // checked for a match: when hits are common this finds a page
            // in a few thousand rows, where collecting every hit took
            // ~115 ms at a million tickets. A full page from the window is
            // the true first page, because the window is the newest rows.
            let mut q = query(format!(
                "SELECT {TICKET_COLUMNS} FROM (SELECT * FROM tickets WHERE TRUE"
            ));
            push_filters(&mut q, f);
            push_page(&mut q, f, SEARCH_WINDOW);
            q.push(") AS recent WHERE search @@ to_tsquery('simple', ")
                .push_bind(tsquery.clone())
                // OFFSET 0 keeps the check per row, after the subject's
                // (the planner would otherwise collect every matching
                // message first: 0.8 s for a common word).
                .push(
                    ") OR EXISTS (SELECT 1 FROM ticket_comments c WHERE c.ticket_id = recent.id \
                     AND c.search @@ to_tsquery('simple', ",
                )
                .push_bind(tsquery.clone())
                .push(") AND (c.public OR ")
                .push_bind(f.include_internal)
                .push(") OFFSET 0)");
            push_page(&mut q, f, f.limit);
            let rows: Vec<TicketRow> = q.fetch_all(db).await?;
            if rows.len() >= f.limit as usize {
                return Ok(rows);
            }
            // Rare hits: collect them all from the GIN indexes, then fetch
            // those by key. (In one query the planner walks the time index
            // for these too, and a word that matches nothing read every
            // ticket: ~2 s.) The keys travel as one JSON array.
            let hits: Vec<(Uuid,)> = query(
                "SELECT id FROM tickets WHERE search @@ to_tsquery('simple', $1) AND organization_id = $3 \
                 UNION SELECT ticket_id FROM ticket_comments \
                 WHERE search @@ to_tsquery('simple', $1) AND (public OR $2) AND organization_id = $3",
            )
            .bind(tsquery)
            .bind(f.include_internal)
            .bind(f.organization_id)
            .fetch_all(db)
            .await?;
            let hits: Vec<Uuid> = hits.into_iter().map(|(id,)| id).collect();
            let mut q = query(format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN \
                 (SELECT value::uuid FROM json_array_elements_text("
            ));
            q.push_bind(serde_json::to_string(&hits).unwrap_or_default())
                .push("::json))");
            push_filters(&mut q, f);
            push_page(&mut q, f, f.limit);
            q.fetch_all(db).await
        }
    }
}
