//! The application context every handler and server function reaches:
//! database, configuration, signing keys, rate limiters.

use super::auth::JwtKeys;
use super::config::Config;
use super::db::Db;
use super::storage::Storage;
use anyhow::Context;
use axum::extract::FromRef;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use leptos::config::{Env, LeptosOptions};
use rand::RngCore;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

/// "Email me a link" requests honoured per address and hour.
const MAGIC_LINKS_PER_HOUR: NonZeroU32 = NonZeroU32::new(5).expect("non-zero");

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Config,
    pub keys: JwtKeys,
    pub storage: Storage,
    pub login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// Magic-link mails requested per email address.
    pub magic_link_limiter: DefaultKeyedRateLimiter<String>,
    /// Callers' roles and active flags read in the last second.
    pub standings: crate::server::auth::standings::Standings,
    /// Live updates: this instance's WebSockets and what they receive.
    pub live: crate::server::live::Live,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Prepares the data dir, secrets and options around an open database.
    pub fn new(config: Config, db: Db) -> anyhow::Result<AppState> {
        let secret = match &config.jwt_secret {
            Some(secret) if secret.len() >= 32 => secret.as_bytes().to_vec(),
            Some(_) => anyhow::bail!("FIELDESK_JWT_SECRET must be at least 32 characters"),
            None => load_or_create_secret(&config.data_dir.join("jwt-secret"))?,
        };
        let per_minute =
            NonZeroU32::new(config.login_rate_per_minute.max(1)).expect("max(1) is non-zero");
        let leptos_options = LeptosOptions::builder()
            .output_name("fieldesk")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .env(Env::PROD)
            .site_addr(config.addr)
            .build();
        let storage = match config.s3_bucket() {
            Some(bucket) => Storage::s3(&bucket)?,
            None => Storage::local(&config.data_dir.join("files"))?,
        };
        Ok(AppState(Arc::new(Inner {
            leptos_options,
            db,
            storage,
            keys: JwtKeys::new(&secret),
            login_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            magic_link_limiter: RateLimiter::keyed(Quota::per_hour(MAGIC_LINKS_PER_HOUR)),
            standings: Default::default(),
            live: crate::server::live::Live::new(&config),
            config,
        })))
    }
}

/// The signing secret survives restarts (sessions stay valid) but is never
/// compiled in: each installation makes its own on first start.
fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return STANDARD
            .decode(existing.trim())
            .with_context(|| format!("{} is not valid base64", path.display()));
    }
    let mut secret = [0u8; 64];
    rand::rng().fill_bytes(&mut secret);
    write_private(path, STANDARD.encode(secret).as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret.to_vec())
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}
