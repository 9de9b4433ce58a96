//! Runtime configuration, read from the command line and the environment.
//! clap documents every variable in `fieldesk --help`.

use crate::server::storage::S3Bucket;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "fieldesk",
    version,
    about = "Fieldesk: self-hosted help desk and field service management",
    after_help = "Every option can also be set by the environment variable shown beside it.\n\
                  With no subcommand, `fieldesk` runs `serve`."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, seed demo data into an empty database, and serve HTTP (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Insert data: `--demo` creates the demo organizations and users;
    /// `--tickets N` a large organization for benchmarks.
    Seed {
        /// Create the demo organizations `acme` and `globex` with one user per role.
        /// Refuses to run against a database that already has data.
        #[arg(long)]
        demo: bool,
        /// Create the organization `scale`: N tickets with about five messages each,
        /// 10,000 customers and 200 agents (`agent0001@scale.test`…, `admin@scale.test`),
        /// all with FIELDESK_DEMO_PASSWORD. Refuses to run if `scale` exists.
        #[arg(long, value_name = "N")]
        tickets: Option<usize>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FIELDESK_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory for the SQLite database, uploads and generated secrets.
    #[arg(long, env = "FIELDESK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://…` or `postgres://…`. Default: SQLite file `fieldesk.db` in the data dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Password given to the demo users. Generated and printed when unset.
    #[arg(long, env = "FIELDESK_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,

    /// Directory with the compiled site (`pkg/` with WASM, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Secret for signing access tokens. Default: generated once and kept in `<data dir>/jwt-secret`.
    #[arg(long, env = "FIELDESK_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "FIELDESK_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Lifetime of a refresh token (a browser session), in seconds; renewed on use.
    #[arg(long, env = "FIELDESK_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u64,

    /// Sign-in attempts allowed per client IP address per minute.
    #[arg(long, env = "FIELDESK_LOGIN_RATE_PER_MINUTE", default_value_t = 60)]
    pub login_rate_per_minute: u32,

    /// Largest file accepted as an attachment, in bytes (larger ones get 413).
    #[arg(long, env = "FIELDESK_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Mark cookies `Secure` (set this when serving over HTTPS).
    #[arg(long, env = "FIELDESK_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// SMTP server for outbound mail: `smtp://host:port` (plain, for a local relay),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`.
    /// Unset: mails are queued in the database and sent once it is set.
    #[arg(long, env = "FIELDESK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of outbound mail, e.g. `Acme Support <support@acme.example>`.
    #[arg(
        long,
        env = "FIELDESK_MAIL_FROM",
        default_value = "Fieldesk <fieldesk@localhost>"
    )]
    pub mail_from: String,

    /// Base URL people reach Fieldesk at, for links in mails. Default: `http://<FIELDESK_ADDR>`.
    #[arg(long, env = "FIELDESK_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Lifetime of a magic link (a customer's emailed link to one ticket), in seconds.
    #[arg(long, env = "FIELDESK_MAGIC_LINK_TTL", default_value_t = 7 * 24 * 3600)]
    pub magic_link_ttl_secs: u64,

    /// S3-compatible bucket for attachment files. Unset: files are kept under the data dir.
    #[arg(long, env = "FIELDESK_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// Endpoint of an S3-compatible service (MinIO, Ceph, Garage, R2…), addressed
    /// path-style; `http://` endpoints are allowed. Unset: AWS S3.
    #[arg(long, env = "FIELDESK_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// Region of the bucket.
    #[arg(long, env = "FIELDESK_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// Access key for the bucket. Unset: `AWS_ACCESS_KEY_ID` or the instance's role.
    #[arg(long, env = "FIELDESK_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,

    /// Secret key for the bucket. Unset: `AWS_SECRET_ACCESS_KEY` or the instance's role.
    #[arg(long, env = "FIELDESK_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,

    /// Live updates: WebSocket connections this instance accepts at once (503 beyond).
    #[arg(long, env = "FIELDESK_WS_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub ws_max_connections: usize,

    /// Live updates: WebSocket connections one person may hold on this instance (429 beyond).
    #[arg(long, env = "FIELDESK_WS_MAX_PER_USER", default_value_t = 20)]
    pub ws_max_per_user: usize,

    /// Live updates: messages queued for one client before it is disconnected as too
    /// slow (it then reconnects and re-synchronises).
    #[arg(long, env = "FIELDESK_WS_QUEUE", default_value_t = 256)]
    pub ws_queue: usize,

    /// Live updates: seconds between pings; a client silent for two intervals is disconnected.
    #[arg(long, env = "FIELDESK_WS_PING_SECS", default_value_t = 30)]
    pub ws_ping_secs: u64,

    /// Live updates: seconds between re-checks of every connection's session and
    /// person (a deactivated person or an ended session is disconnected).
    #[arg(long, env = "FIELDESK_WS_RECHECK_SECS", default_value_t = 5)]
    pub ws_recheck_secs: u64,

    /// Emit logs as JSON lines instead of human-readable text.
    #[arg(long, env = "FIELDESK_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
}

/// Consecutive failed sign-ins that lock an account, and for how long.
pub const LOCKOUT_THRESHOLD: i32 = 10;
pub const LOCKOUT_DURATION: Duration = Duration::from_secs(15 * 60);

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("fieldesk.db").display()))
    }

    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_secs)
    }

    pub fn magic_link_ttl(&self) -> Duration {
        Duration::from_secs(self.magic_link_ttl_secs)
    }

    /// The base of links in mails, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }

    /// The attachment bucket, when files go to S3 instead of the data dir.
    pub fn s3_bucket(&self) -> Option<S3Bucket> {
        Some(S3Bucket {
            name: self.s3_bucket.clone()?,
            region: self.s3_region.clone(),
            endpoint: self.s3_endpoint.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
        })
    }

    /// A configuration for tests and tools: everything default, data in `dir`.
    pub fn for_data_dir(dir: impl Into<PathBuf>) -> Config {
        let mut config = Cli::parse_from(["fieldesk"]).config;
        config.data_dir = dir.into();
        config
    }
}
