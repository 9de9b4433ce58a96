//! One query type for both backends, and the one transaction type services
//! pass to store functions.
//!
//! A store function builds a `Query` — SQL written once with `$n`
//! placeholders, which SQLite and PostgreSQL both accept, and its arguments
//! — and runs it on a `Conn`: the database's read pool (`&Db`), SQLite's
//! writer for a one-off write (`db.writer()`), or an open transaction
//! (`&mut Tx`). The match on the backend happens here, once per way of
//! running a query, instead of in every store function.

use super::{Backend, Db, Wake};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgRow};
use sqlx::query::Query as SqlxQuery;
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::types::Json;
use sqlx::{Database, Encode, FromRow, Postgres, Sqlite, Type};
use std::borrow::Cow;
use std::sync::Arc;
use uuid::Uuid;

/// A value bound to a `$n` placeholder. `None` binds SQL `NULL` of that type.
#[derive(Debug, Clone)]
pub enum Arg<'q> {
    Uuid(Option<Uuid>),
    Text(Option<Cow<'q, str>>),
    Int(Option<i64>),
    Int32(Option<i32>),
    Bool(Option<bool>),
    Float(Option<f64>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Json(Option<serde_json::Value>),
}

macro_rules! arg_from {
    ($variant:ident, $($ty:ty => $conv:expr),+ $(,)?) => {
        $(
            impl<'q> From<$ty> for Arg<'q> {
                fn from(value: $ty) -> Self {
                    #[allow(clippy::redundant_closure_call)]
                    Arg::$variant(($conv)(value))
                }
            }
        )+
    };
}
arg_from!(Uuid, Uuid => Some, Option<Uuid> => |v| v, &Uuid => |v: &Uuid| Some(*v));
arg_from!(
    Text,
    &'q str => |v| Some(Cow::Borrowed(v)),
    String => |v| Some(Cow::Owned(v)),
    &'q String => |v: &'q String| Some(Cow::Borrowed(v.as_str())),
    Option<&'q str> => |v: Option<&'q str>| v.map(Cow::Borrowed),
    Option<String> => |v: Option<String>| v.map(Cow::Owned),
);
arg_from!(Int, i64 => Some, Option<i64> => |v| v, u32 => |v| Some(i64::from(v)));
arg_from!(Int32, i32 => Some, Option<i32> => |v| v);
arg_from!(Bool, bool => Some, Option<bool> => |v| v);
arg_from!(Float, f64 => Some, Option<f64> => |v| v);
arg_from!(Time, DateTime<Utc> => Some, Option<DateTime<Utc>> => |v| v);
arg_from!(Date, NaiveDate => Some, Option<NaiveDate> => |v| v);

/// A JSON argument (a JSONB column on PostgreSQL, TEXT on SQLite).
pub fn json<T: serde::Serialize>(value: &T) -> Arg<'static> {
    // Serializing our own types into a `Value` cannot fail.
    Arg::Json(serde_json::to_value(value).ok())
}

/// SQL and its arguments, run with `execute` or one of the `fetch_*`.
#[derive(Debug, Clone)]
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Arg<'q>>,
}

/// A query from SQL written with `$n` placeholders; bind them in order.
pub fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// A row type both backends can decode (`#[derive(sqlx::FromRow)]` and
/// tuples qualify).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<'q> Query<'q> {
    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Arg<'q>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text, for queries assembled from optional parts.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends a new placeholder (`$n`) bound to `value`.
    pub fn push_bind(&mut self, value: impl Into<Arg<'q>>) -> &mut Self {
        self.args.push(value.into());
        let n = self.args.len();
        self.sql.to_mut().push_str(&format!("${n}"));
        self
    }

    /// Appends `(…)`: a placeholder per value, for `IN` lists (callers
    /// make sure there is at least one value).
    pub fn push_list<T: Into<Arg<'q>>>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self.push(")")
    }

    /// Appends `VALUES (…), (…)`: one row of placeholders per item, bound to
    /// the values `row` gives for it (as sqlx's `QueryBuilder::push_values`).
    pub fn push_values<T, const N: usize>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(T) -> [Arg<'q>; N],
    ) -> &mut Self {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            for (j, value) in row(item).into_iter().enumerate() {
                if j > 0 {
                    self.push(", ");
                }
                self.push_bind(value);
            }
            self.push(")");
        }
        self
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute<'c>(mut self, on: impl Into<Conn<'c>>) -> Result<u64, sqlx::Error> {
        Ok(match on.into().hold().await? {
            Held::Sqlite(mut c) => self.sqlite().execute(&mut *c).await?.rows_affected(),
            Held::Postgres(mut c) => self.postgres().execute(&mut *c).await?.rows_affected(),
        })
    }

    pub async fn fetch_all<'c, T: Record>(
        mut self,
        on: impl Into<Conn<'c>>,
    ) -> Result<Vec<T>, sqlx::Error> {
        match on.into().hold().await? {
            Held::Sqlite(mut c) => decode_all(self.sqlite().fetch_all(&mut *c).await?),
            Held::Postgres(mut c) => decode_all(self.postgres().fetch_all(&mut *c).await?),
        }
    }

    pub async fn fetch_optional<'c, T: Record>(
        mut self,
        on: impl Into<Conn<'c>>,
    ) -> Result<Option<T>, sqlx::Error> {
        match on.into().hold().await? {
            Held::Sqlite(mut c) => self
                .sqlite()
                .fetch_optional(&mut *c)
                .await?
                .map(|r| T::from_row(&r)),
            Held::Postgres(mut c) => self
                .postgres()
                .fetch_optional(&mut *c)
                .await?
                .map(|r| T::from_row(&r)),
        }
        .transpose()
    }

    pub async fn fetch_one<'c, T: Record>(self, on: impl Into<Conn<'c>>) -> Result<T, sqlx::Error> {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    fn sqlite(&mut self) -> SqlxQuery<'_, Sqlite, SqliteArguments<'_>> {
        if self.args.len() > MANY_ARGS
            && let Some(positional) = positional(&self.sql, self.args.len())
        {
            self.sql = Cow::Owned(positional);
        }
        bind_all(sqlx::query(&self.sql), &self.args)
    }

    fn postgres(&self) -> SqlxQuery<'_, Postgres, PgArguments> {
        bind_all(sqlx::query(&self.sql), &self.args)
    }
}

/// Above this many arguments, SQLite gets plain `?` placeholders where it
/// can: it looks each `$n` up among the names it has seen, so parsing a
/// bulk insert with 14,000 of them took 0.7 s where `?` takes 5 ms.
const MANY_ARGS: usize = 64;

/// `sql` with `$1`, `$2`, … `$n` replaced by `?`, if each appears once and
/// in that order (as `push_bind` writes them); otherwise None.
fn positional(sql: &str, n: usize) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1;
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let digits = rest[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let number: usize = rest[i + 1..i + 1 + digits].parse().ok()?;
        if number != expected {
            return None;
        }
        out.push('?');
        expected += 1;
        rest = &rest[i + 1 + digits..];
    }
    out.push_str(rest);
    (expected == n + 1).then_some(out)
}

fn decode_all<R: sqlx::Row, T: for<'r> FromRow<'r, R>>(
    rows: Vec<R>,
) -> Result<Vec<T>, sqlx::Error> {
    rows.iter().map(T::from_row).collect()
}

/// Binds every argument, whichever the backend: each kind of value is
/// encoded by the backend's own sqlx type.
fn bind_all<'q, DB: Database>(
    mut query: SqlxQuery<'q, DB, <DB as Database>::Arguments<'q>>,
    args: &'q [Arg<'q>],
) -> SqlxQuery<'q, DB, <DB as Database>::Arguments<'q>>
where
    Option<Uuid>: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<i32>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    Option<Json<&'q serde_json::Value>>: Encode<'q, DB> + Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Uuid(v) => query.bind(*v),
            Arg::Text(v) => query.bind(v.as_deref()),
            Arg::Int(v) => query.bind(*v),
            Arg::Int32(v) => query.bind(*v),
            Arg::Bool(v) => query.bind(*v),
            Arg::Float(v) => query.bind(*v),
            Arg::Time(v) => query.bind(*v),
            Arg::Date(v) => query.bind(*v),
            Arg::Json(v) => query.bind(v.as_ref().map(Json)),
        };
    }
    query
}

/// Where a query runs: a pool (each query takes a connection for itself)
/// or an open transaction.
pub enum Conn<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PostgresPool(&'c PgPool),
    Postgres(&'c mut PgConnection),
}

/// Reads on the read pool. (On PostgreSQL there is one pool for all.)
impl<'c> From<&'c Db> for Conn<'c> {
    fn from(db: &'c Db) -> Self {
        match &db.backend {
            Backend::Sqlite { pool, .. } => Conn::SqlitePool(pool),
            Backend::Postgres(pool) => Conn::PostgresPool(pool),
        }
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        match &mut tx.inner {
            Inner::Sqlite(t) => Conn::Sqlite(&mut *t),
            Inner::Postgres(t) => Conn::Postgres(&mut *t),
        }
    }
}

/// A connection held for one query.
enum Held<'c> {
    Sqlite(Either<'c, Sqlite>),
    Postgres(Either<'c, Postgres>),
}

enum Either<'c, DB: Database> {
    Borrowed(&'c mut DB::Connection),
    Pooled(PoolConnection<DB>),
}

impl<DB: Database> std::ops::Deref for Either<'_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        match self {
            Either::Borrowed(c) => c,
            Either::Pooled(c) => c,
        }
    }
}

impl<DB: Database> std::ops::DerefMut for Either<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Either::Borrowed(c) => c,
            Either::Pooled(c) => c,
        }
    }
}

impl<'c> Conn<'c> {
    async fn hold(self) -> Result<Held<'c>, sqlx::Error> {
        Ok(match self {
            Conn::SqlitePool(pool) => Held::Sqlite(Either::Pooled(pool.acquire().await?)),
            Conn::Sqlite(c) => Held::Sqlite(Either::Borrowed(c)),
            Conn::PostgresPool(pool) => Held::Postgres(Either::Pooled(pool.acquire().await?)),
            Conn::Postgres(c) => Held::Postgres(Either::Borrowed(c)),
        })
    }
}

/// A write transaction on either backend. Services begin one with
/// `Db::begin`, pass `&mut tx` to store functions, and `commit`; dropped
/// without a commit, it rolls back. On SQLite it holds the one writer
/// (`BEGIN IMMEDIATE`: the write lock is taken up front, so a transaction
/// that reads before it writes cannot fail to upgrade its lock).
pub struct Tx {
    inner: Inner,
    wake: Arc<Wake>,
    wrote_events: bool,
    /// The earliest `run_at` of the jobs it wrote.
    wrote_jobs: Option<DateTime<Utc>>,
}

enum Inner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub(super) async fn begin(db: &Db) -> Result<Tx, sqlx::Error> {
        // The BEGIN runs in a task of its own, which a caller that is
        // cancelled (a request whose client went away) cannot interrupt:
        // sqlx 0.8.6 leaks a transaction when `begin_with` is cancelled
        // after its BEGIN ran, and SQLite's one writer connection then
        // refused every later BEGIN until a restart. If nobody is left to
        // take the transaction, the task drops it, which rolls it back.
        let inner = match &db.backend {
            Backend::Sqlite { writer, .. } => {
                let writer = writer.clone();
                let begun = tokio::spawn(async move { writer.begin_with("BEGIN IMMEDIATE").await });
                Inner::Sqlite(
                    begun
                        .await
                        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??,
                )
            }
            Backend::Postgres(pool) => {
                let pool = pool.clone();
                let begun = tokio::spawn(async move { pool.begin().await });
                Inner::Postgres(
                    begun
                        .await
                        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??,
                )
            }
        };
        Ok(Tx {
            inner,
            wake: db.wake.clone(),
            wrote_events: false,
            wrote_jobs: None,
        })
    }

    pub fn dialect(&self) -> super::Dialect {
        match self.inner {
            Inner::Sqlite(_) => super::Dialect::Sqlite,
            Inner::Postgres(_) => super::Dialect::Postgres,
        }
    }

    /// Called by the stores that write to the outbox and the job table, so
    /// that the commit wakes the background runtime.
    pub(crate) fn wrote_events(&mut self) {
        self.wrote_events = true;
    }

    pub(crate) fn wrote_jobs(&mut self, run_at: DateTime<Utc>) {
        self.wrote_jobs = Some(self.wrote_jobs.map_or(run_at, |at| at.min(run_at)));
    }

    /// Commits; then wakes the runtime of this process (and, on PostgreSQL,
    /// of every instance, through `NOTIFY`, which is delivered on commit).
    /// Jobs due later than the runtime's safety poll wake nobody: the poll
    /// finds them before they are due (a timer planned for every new ticket
    /// would otherwise cost a claim per ticket).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let soon = Utc::now() + crate::server::runtime::SAFETY_POLL;
        let wake_jobs = self.wrote_jobs.is_some_and(|at| at <= soon);
        if let Inner::Postgres(tx) = &mut self.inner {
            super::dialect::notify_wake(tx, self.wrote_events, wake_jobs).await?;
        }
        match self.inner {
            Inner::Sqlite(tx) => tx.commit().await?,
            Inner::Postgres(tx) => tx.commit().await?,
        }
        if self.wrote_events {
            self.wake.events_committed();
        }
        if wake_jobs {
            self.wake.jobs.notify_one();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_binds_take_the_next_placeholder_numbers() {
        let mut q = query("SELECT id FROM tickets WHERE organization_id = $1").bind(Uuid::nil());
        q.push(" AND status = ").push_bind("open");
        q.push(" LIMIT ").push_bind(20_u32);
        assert_eq!(
            q.sql,
            "SELECT id FROM tickets WHERE organization_id = $1 AND status = $2 LIMIT $3"
        );
        assert_eq!(q.args.len(), 3);
        assert!(matches!(q.args[2], Arg::Int(Some(20))));
    }

    #[test]
    fn numbered_placeholders_in_order_become_positional() {
        assert_eq!(
            positional("INSERT INTO t VALUES ($1, $2), ($3, $4)", 4).as_deref(),
            Some("INSERT INTO t VALUES (?, ?), (?, ?)")
        );
        assert_eq!(positional("SELECT $1 WHERE a = $1", 1), None, "reused");
        assert_eq!(positional("SELECT $2, $1", 2), None, "out of order");
        assert_eq!(
            positional("SELECT $1", 2),
            None,
            "an argument without a place"
        );
    }

    #[test]
    fn absent_values_bind_null_of_their_type() {
        let q = query("$1 $2").bind(None::<Uuid>).bind(None::<&str>);
        assert!(matches!(q.args[0], Arg::Uuid(None)));
        assert!(matches!(q.args[1], Arg::Text(None)));
    }
}
