//! Everything that only runs on the server (the `ssr` feature).

pub mod access;
pub mod audit;
pub mod auth;
pub mod availability;
pub mod config;
pub mod db;
pub mod desk;
pub mod error;
pub mod http;
pub mod import;
pub mod live;
pub mod magic_link;
pub mod mail;
pub mod notifications;
pub mod runtime;
pub mod seed;
pub mod seed_scale;
pub mod sla;
pub mod state;
pub mod storage;
pub mod ticket_query;
pub mod tickets;
pub mod uploads;
pub mod users;

pub use error::{AppError, AppResult};
pub use state::AppState;

use config::Config;
use db::Db;

/// Opens the database, applies migrations and builds the app state.
pub async fn init(config: Config) -> anyhow::Result<AppState> {
    // Every TLS client (SMTP, S3) uses ring, the one crypto provider in the
    // tree; S3's HTTP client is built without a provider of its own. A
    // second call (tests start many servers) finds it installed: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&config.data_dir)?;
    let db = Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    AppState::new(config, db)
}

/// Seeds the demo organizations when the database is empty; returns the
/// console banner with the credentials when it did.
pub async fn seed_demo_if_empty(state: &AppState) -> anyhow::Result<Option<String>> {
    if db::orgs::any_exist(&state.db).await? {
        return Ok(None);
    }
    let password = state
        .config
        .demo_password
        .clone()
        .unwrap_or_else(|| auth::refresh::new_token()[..16].to_owned());
    seed::demo(&state.db, &password).await?;
    Ok(Some(seed::credentials_banner(&password)))
}
