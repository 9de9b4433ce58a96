//! Storage. One `Db` handle for either backend; one module per area with the
//! queries for that area. Queries are written once in SQL both backends
//! accept (`$n` placeholders, `RETURNING`, `ON CONFLICT`), and `on_db!`
//! instantiates the body for the concrete pool type, so each backend gets
//! fully typed sqlx code without a lowest-common-denominator driver.

pub mod attachments;
pub mod desk;
pub mod mail;
pub mod orgs;
pub mod sessions;
pub mod tickets;
pub mod users;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite admits one writer at a time. Writes queue for `writer`, a
    /// pool of one connection, in order and without sleeping; contending
    /// connections would instead poll the lock from SQLite's busy handler,
    /// sleeping up to 100 ms between tries (docs/PERFORMANCE.md). Reads use
    /// `pool` and never wait for writes (WAL).
    Sqlite {
        pool: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`, for reads.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite { pool: $pool, .. } => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Like `on_db!`, for code that writes: `$pool` is SQLite's writer. Start
/// its transactions with `begin_write`.
macro_rules! on_db_write {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite { writer: $pool, .. } => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db_write;

/// A write transaction. On SQLite, `BEGIN IMMEDIATE` takes the write lock
/// at the start, so a transaction that reads before it writes cannot fail
/// to upgrade its lock when another process (or a one-off write on the
/// read pool) wrote in between.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send
    {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send
    {
        self.begin()
    }
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).context("parsing DATABASE_URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .context("parsing DATABASE_URL")?
                .create_if_missing(true)
                // WAL lets readers proceed while one writer commits.
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                // Reads through a memory map skip a read() syscall per page,
                // and a 16 MiB page cache per connection (default 2 MiB)
                // keeps hot index pages at a million tickets (see
                // docs/PERFORMANCE.md). Both only grow with use.
                .pragma("mmap_size", "1073741824")
                .pragma("cache_size", "-16384")
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(
                    opts.clone()
                        .pragma("mmap_size", "0")
                        .pragma("wal_autocheckpoint", "10000"),
                )
                .await
                .context("opening the SQLite database")?;
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await
                .context("opening the SQLite database")?;
            Ok(Db::Sqlite { pool, writer })
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://")
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("migrations/sqlite").run(writer).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        if let Db::Sqlite { writer, .. } = self {
            writer.close().await;
        }
        on_db!(self, pool => pool.close().await)
    }
}
