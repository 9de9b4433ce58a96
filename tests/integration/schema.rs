//! Schema parity: both databases, migrated from scratch, have the same
//! tables, columns and nullability, and every enum column allows exactly
//! the values of its Rust enum (on both, where the column has a CHECK
//! list; enum columns added since 0022 have none and are validated in
//! Rust, so extending them needs no SQLite table rebuild).

use crate::common::*;
use fieldesk::domain::Role;
use fieldesk::domain::audit::OwnerType;
use fieldesk::domain::desk::{AssignmentStrategy, FieldKind};
use fieldesk::domain::event::Source;
use fieldesk::domain::ticket::{Channel, Priority, Severity, TicketStatus};
use fieldesk::server::db::jobs::JobStatus;
use fieldesk::server::db::mail::MailStatus;
use fieldesk::server::db::query;
use std::collections::{BTreeMap, BTreeSet};

/// What exists on one backend only, and why.
const SQLITE_ONLY: &[&str] = &[
    // Full-text search: FTS5 tables (and their shadow tables) and the key
    // map they index by; PostgreSQL has `search` tsvector columns instead.
    "tickets_fts",
    "comments_fts",
    "search_keys",
];
const POSTGRES_ONLY_COLUMNS: &[(&str, &str)] =
    &[("tickets", "search"), ("ticket_comments", "search")];

/// table → column → NOT NULL
type Columns = BTreeMap<String, BTreeMap<String, bool>>;

async fn sqlite_columns(app: &TestApp) -> Columns {
    let rows: Vec<(String, String, i64, i64)> = query(
        "SELECT m.name, c.name, c.\"notnull\", c.pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) c WHERE m.type = 'table' \
         AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    let mut columns = Columns::new();
    for (table, column, not_null, pk) in rows {
        if SQLITE_ONLY.iter().any(|t| table.starts_with(t)) {
            continue;
        }
        columns
            .entry(table)
            .or_default()
            .insert(column, not_null == 1 || pk > 0);
    }
    columns
}

async fn postgres_columns(app: &TestApp) -> Columns {
    let rows: Vec<(String, String, String)> = query(
        "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    let mut columns = Columns::new();
    for (table, column, nullable) in rows {
        if POSTGRES_ONLY_COLUMNS.contains(&(table.as_str(), column.as_str())) {
            continue;
        }
        columns
            .entry(table)
            .or_default()
            .insert(column, nullable == "NO");
    }
    columns
}

/// (table, column) → the values its `CHECK (column IN (…))` allows.
type Checks = BTreeMap<(String, String), BTreeSet<String>>;

/// The quoted words after `column IN (` in a CHECK text.
fn check_lists(table: &str, sql: &str, checks: &mut Checks) {
    let re_in = |s: &str| -> Option<(String, BTreeSet<String>)> {
        let (before, after) = s.split_once(" IN (")?;
        let column = before
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()?;
        let list = after.split(')').next()?;
        let values = list
            .split(',')
            .map(|v| v.trim().trim_matches('\'').to_owned())
            .collect();
        Some((column.to_owned(), values))
    };
    for part in sql.split("CHECK (").skip(1) {
        if let Some((column, values)) = re_in(part) {
            checks.insert((table.to_owned(), column), values);
        }
    }
}

async fn sqlite_checks(app: &TestApp) -> Checks {
    let rows: Vec<(String, String)> =
        query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%CHECK%'")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    let mut checks = Checks::new();
    for (table, sql) in rows {
        check_lists(&table, &sql, &mut checks);
    }
    checks
}

async fn postgres_checks(app: &TestApp) -> Checks {
    // PostgreSQL shows `status IN ('a','b')` as `status = ANY (ARRAY['a'::text, …])`.
    let rows: Vec<(String, String)> = query(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    let mut checks = Checks::new();
    for (table, def) in rows {
        let normalized = def
            .replace("::text", "")
            .replace(" = ANY (ARRAY[", " IN (")
            .replace("]))", ")")
            .replace("((", "(");
        check_lists(&table, &normalized, &mut checks);
    }
    checks
}

fn values(all: &[&str]) -> BTreeSet<String> {
    all.iter().map(|v| (*v).to_owned()).collect()
}

/// Every enum column and its Rust enum's wire names.
fn rust_enums() -> BTreeMap<(String, String), BTreeSet<String>> {
    let col = |t: &str, c: &str| (t.to_owned(), c.to_owned());
    BTreeMap::from([
        (col("users", "role"), values(&Role::ALL.map(Role::as_str))),
        (
            col("tickets", "status"),
            values(
                &TicketStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            col("tickets", "priority"),
            values(&Priority::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
        (
            col("tickets", "channel"),
            values(&Channel::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
        (
            col("tickets", "severity"),
            values(&Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
        (
            col("teams", "assignment"),
            values(
                &AssignmentStrategy::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            col("custom_fields", "kind"),
            values(
                &FieldKind::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            col("outbound_mail", "status"),
            values(
                &MailStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            ),
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_have_the_same_schema_and_enum_values() {
    let sqlite = TestApp::start(Backend::Sqlite).await;
    let postgres = TestApp::start(Backend::Postgres).await;

    let (lite, pg) = (
        sqlite_columns(&sqlite).await,
        postgres_columns(&postgres).await,
    );
    let lite_tables: BTreeSet<_> = lite.keys().collect();
    let pg_tables: BTreeSet<_> = pg.keys().collect();
    assert_eq!(lite_tables, pg_tables, "the same tables");
    for (table, columns) in &lite {
        assert_eq!(
            columns, &pg[table],
            "columns and NOT NULL of {table} (SQLite left, PostgreSQL right)"
        );
    }

    let (lite_checks, pg_checks) = (
        sqlite_checks(&sqlite).await,
        postgres_checks(&postgres).await,
    );
    assert_eq!(lite_checks, pg_checks, "the same CHECK lists");
    let enums = rust_enums();
    for (column, allowed) in &lite_checks {
        let rust = enums
            .get(column)
            .unwrap_or_else(|| panic!("{column:?} has a CHECK list but no Rust enum in this test"));
        assert_eq!(
            allowed, rust,
            "{column:?}: the database allows what the Rust enum has"
        );
    }
    for column in enums.keys() {
        assert!(
            lite_checks.contains_key(column),
            "{column:?} lost its CHECK list"
        );
    }
    // Enum columns from 0022 on are checked in Rust only: no CHECK to rebuild.
    assert!(!lite_checks.contains_key(&("jobs".to_owned(), "status".to_owned())));
    for column in ["source", "owner_type"] {
        assert!(!lite_checks.contains_key(&("audit_log".to_owned(), column.to_owned())));
    }
    assert!(!lite_checks.contains_key(&("attachments".to_owned(), "owner_type".to_owned())));
    assert!(Source::ALL.contains(&Source::Ui) && OwnerType::ALL.contains(&OwnerType::Ticket));
    let statuses: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(statuses, ["queued", "running", "failed"]);
}
