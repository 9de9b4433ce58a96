//! Storage. One `Db` handle for either backend; one module per area with the
//! queries for that area, as plain `async fn`s. Queries are written once in
//! SQL both backends accept (`$n` placeholders, `RETURNING`, `ON CONFLICT`)
//! and run through `query::Query` on the read pool, SQLite's writer or a
//! `Tx` that a service began and hands to each store function it composes.
//! The few statements that really differ per backend live in `dialect`.

pub mod attachments;
pub mod audit;
pub mod availability;
pub mod desk;
pub mod dialect;
pub mod events;
pub mod jobs;
pub mod mail;
pub mod notifications;
pub mod orgs;
pub mod query;
pub mod sessions;
pub mod sla;
pub mod tickets;
pub mod users;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::Notify;

pub use dialect::Dialect;
pub use query::{Conn, Query, Record, Tx, json, query};
use std::time::Duration;

/// The database: either backend's pools, and the signal that wakes the
/// background runtime when a commit wrote events or jobs.
#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    wake: Arc<Wake>,
}

#[derive(Clone, Debug)]
enum Backend {
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

/// In-process wake-ups for the runtime (`server::runtime`) and live
/// updates (`server::live`): one permit each is kept when nobody waits, so
/// a commit between two looks is not missed.
#[derive(Debug, Default)]
pub struct Wake {
    /// The event subscribers.
    pub events: Notify,
    pub jobs: Notify,
    /// The live fan-out, which reads the same committed events.
    pub live: Notify,
}

impl Wake {
    /// Events were committed (here, or by another instance).
    pub fn events_committed(&self) {
        self.events.notify_one();
        self.live.notify_one();
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
            Ok(Db::new(Backend::Postgres(pool)))
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
            // No ping before handing out a connection (sqlx's default): a
            // connection to a local file cannot have gone away, and on the
            // writer the ping was one more round trip to its thread while
            // every other write waits (docs/PERFORMANCE.md).
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
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
                .test_before_acquire(false)
                .connect_with(opts)
                .await
                .context("opening the SQLite database")?;
            Ok(Db::new(Backend::Sqlite { pool, writer }))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://")
        }
    }

    fn new(backend: Backend) -> Db {
        Db {
            backend,
            wake: Arc::default(),
        }
    }

    /// Begins a write transaction (see `Tx`).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Tx::begin(self).await
    }

    /// Where a one-off write outside a transaction runs: SQLite's writer.
    pub fn writer(&self) -> Conn<'_> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => Conn::SqlitePool(writer),
            Backend::Postgres(pool) => Conn::PostgresPool(pool),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The PostgreSQL pool, for the few statements only PostgreSQL has
    /// (`dialect`, `LISTEN`); None on SQLite.
    pub(crate) fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite { .. } => None,
        }
    }

    pub fn wake(&self) -> &Wake {
        &self.wake
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                sqlx::migrate!("migrations/sqlite").run(writer).await?
            }
            Backend::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        query("SELECT 1").execute(self).await.map(|_| ())
    }

    pub fn backend(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { pool, writer } => {
                writer.close().await;
                pool.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
