//! The `fieldesk` server binary: `serve` (default), `migrate`, `seed --demo | --tickets N`.

use clap::Parser;
use fieldesk::server::config::{Cli, Command};
use fieldesk::server::{self, seed, seed_scale};
use tracing_subscriber::EnvFilter;

// Server-side rendering allocates many short-lived objects; mimalloc handles
// that pattern far better than glibc's allocator (see docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.config.log_json);
    let config = cli.config;

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let started = std::time::Instant::now();
            let addr = config.addr;
            let state = server::init(config).await?;
            if let Some(banner) = server::seed_demo_if_empty(&state).await? {
                println!("{banner}");
            }
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(
                %addr,
                database = state.db.backend(),
                startup_ms = started.elapsed().as_millis() as u64,
                "Fieldesk is serving on http://{addr}"
            );
            server::http::serve(state.clone(), listener).await?;
            state.db.close().await;
        }
        Command::Migrate => {
            let state = server::init(config).await?;
            tracing::info!(database = state.db.backend(), "migrations applied");
        }
        Command::Seed { demo, tickets } => {
            if !demo && tickets.is_none() {
                anyhow::bail!("nothing to seed: pass --demo and/or --tickets N");
            }
            let state = server::init(config).await?;
            let password = state.config.demo_password.clone().ok_or_else(|| {
                anyhow::anyhow!("set FIELDESK_DEMO_PASSWORD for the seeded users")
            })?;
            if demo {
                seed::demo(&state.db, &password).await?;
                println!("{}", seed::credentials_banner(&password));
            }
            if let Some(count) = tickets {
                let started = std::time::Instant::now();
                let report = seed_scale::scale(&state.db, count, &password).await?;
                println!(
                    "Seeded organization `{}`: {} tickets, {} messages in {:.1} s",
                    seed_scale::SCALE_ORG,
                    report.tickets,
                    report.messages,
                    started.elapsed().as_secs_f64()
                );
            }
            state.db.close().await;
        }
    }
    Ok(())
}

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
