//! The one place background work runs. Two kinds of work:
//!
//! - **Subscribers** react to domain events. Each reads the outbox in each
//!   organization's sequence order from its own position, and writes what it
//!   decided (mails to queue, jobs to enqueue) in one transaction with its new
//!   position, so every reaction happens once. An event it fails on is
//!   retried with backoff and finally parked, while it goes on with the rest.
//! - **Jobs** are work due at a time, from the `jobs` table: enqueued in the
//!   transaction of the change that causes them, claimed with a lease (a
//!   crashed worker's job is taken again when its lease ends), completed in
//!   the transaction of their effects.
//!
//! Both wake when a commit wrote events or jobs (in-process, and through
//! PostgreSQL's `NOTIFY` from other instances), and otherwise sleep until the
//! next job is due, with a slow poll as a safety net. A new capability adds
//! its `Subscriber`s and `JobHandler`s to `Runtime::standard`.

mod jobs;
mod prune;
mod subscribers;

pub use jobs::{JobError, JobHandler, payload};
pub use subscribers::{Reaction, Subscriber};

use crate::engine::retry::RetryPolicy;
use crate::server::db::dialect::WAKE_CHANNEL;
use crate::server::state::AppState;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// What trait methods of subscribers and job handlers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Without a wake-up, look for work this often anyway (a lost `NOTIFY`, a
/// retry coming due).
pub(crate) const SAFETY_POLL: Duration = Duration::from_secs(5);

/// The subscribers and job handlers of one process, before they start.
pub struct Runtime {
    state: AppState,
    subscribers: Vec<Arc<dyn Subscriber>>,
    jobs: Vec<Arc<dyn JobHandler>>,
    event_retry: RetryPolicy,
}

impl Runtime {
    /// A runtime with nothing to run yet.
    pub fn new(state: &AppState) -> Runtime {
        Runtime {
            state: state.clone(),
            subscribers: Vec::new(),
            jobs: Vec::new(),
            event_retry: RetryPolicy::BACKGROUND,
        }
    }

    /// The application's own subscribers and jobs.
    pub fn standard(state: &AppState) -> anyhow::Result<Runtime> {
        let mut runtime = Runtime::new(state)
            .subscriber(crate::server::notifications::Notifications)
            .job(crate::server::magic_link::RequestedLinks)
            .job(crate::server::sla::SlaWarnings)
            .job(crate::server::sla::SlaBreaches)
            .job(crate::server::sla::Reevaluation)
            .job(prune::PruneEvents);
        // Without an SMTP server, mail stays queued (its jobs wait) until one is set.
        match crate::server::mail::Mailer::from_config(&state.config)? {
            Some(mailer) => runtime = runtime.job(mailer),
            None => tracing::info!("FIELDESK_SMTP_URL is not set: mail stays queued until it is"),
        }
        Ok(runtime)
    }

    pub fn subscriber(mut self, subscriber: impl Subscriber) -> Runtime {
        self.subscribers.push(Arc::new(subscriber));
        self
    }

    pub fn job(mut self, handler: impl JobHandler) -> Runtime {
        self.jobs.push(Arc::new(handler));
        self
    }

    /// How events a subscriber failed on are retried (tests shorten it).
    pub fn event_retry(mut self, policy: RetryPolicy) -> Runtime {
        self.event_retry = policy;
        self
    }

    /// Registers the subscribers (a new one starts at the present), makes
    /// sure the recurring jobs exist, and starts the workers.
    pub async fn start(self) -> anyhow::Result<RuntimeHandle> {
        let Runtime {
            state,
            subscribers,
            jobs,
            event_retry,
        } = self;
        let now = chrono::Utc::now();
        for s in &subscribers {
            crate::server::db::events::register_subscriber(&state.db, s.name(), now).await?;
        }
        for handler in &jobs {
            if let Some(job) = handler.recurring(now) {
                let mut tx = state.db.begin().await?;
                crate::server::db::jobs::enqueue_once(&mut tx, &job, now).await?;
                tx.commit().await?;
            }
        }
        let mut tasks = Vec::new();
        if let Some(pool) = state.db.postgres_pool() {
            tasks.push(tokio::spawn(listen(state.clone(), pool.clone())));
        }
        if !subscribers.is_empty() {
            tasks.push(tokio::spawn(subscribers::run(
                state.clone(),
                subscribers,
                event_retry,
            )));
        }
        if !jobs.is_empty() {
            tasks.push(tokio::spawn(jobs::run(state, jobs)));
        }
        Ok(RuntimeHandle { tasks })
    }
}

/// The running workers; dropping it stops them (as a crash would).
pub struct RuntimeHandle {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RuntimeHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Turns other instances' `NOTIFY`s into this process's wake-ups.
async fn listen(state: AppState, pool: sqlx::PgPool) {
    loop {
        let result: Result<(), sqlx::Error> = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(WAKE_CHANNEL).await?;
            // Whatever was missed while not listening is found by a look now.
            wake_all(&state);
            loop {
                let note = listener.recv().await?;
                for what in note.payload().split(',') {
                    match what {
                        "events" => state.db.wake().events_committed(),
                        "jobs" => state.db.wake().jobs.notify_one(),
                        _ => {}
                    }
                }
            }
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "LISTEN for wake-ups failed; reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn wake_all(state: &AppState) {
    state.db.wake().events_committed();
    state.db.wake().jobs.notify_one();
}

/// The runtime's state, for admins and `/metrics`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RuntimeHealth {
    pub subscribers: Vec<crate::server::db::events::SubscriberHealth>,
    pub jobs: crate::server::db::jobs::JobHealth,
    /// Queued mail not yet sent.
    pub mail_pending: i64,
    /// The newest parked events of the caller's organization.
    pub parked_events: Vec<crate::server::db::events::ParkedEvent>,
}

/// How background work stands (admins).
pub async fn health(
    state: &AppState,
    caller: &crate::server::auth::Principal,
) -> crate::server::AppResult<RuntimeHealth> {
    caller.require(crate::domain::Capability::ManageSettings)?;
    let health = RuntimeHealth {
        subscribers: crate::server::db::events::health(&state.db).await?,
        jobs: crate::server::db::jobs::health(&state.db, chrono::Utc::now()).await?,
        mail_pending: crate::server::db::mail::pending_count(&state.db).await?,
        parked_events: crate::server::db::events::parked(&state.db, caller.org(), 50).await?,
    };
    Ok(health)
}

/// Sets the runtime's gauges (called when `/metrics` is read, so the
/// numbers are current and cost nothing between scrapes).
pub async fn record_gauges(state: &AppState) -> Result<(), sqlx::Error> {
    for s in crate::server::db::events::health(&state.db).await? {
        let name = s.subscriber.clone();
        metrics::gauge!("fieldesk_events_behind", "subscriber" => name.clone())
            .set(s.behind as f64);
        metrics::gauge!("fieldesk_events_retrying", "subscriber" => name.clone())
            .set(s.retrying as f64);
        metrics::gauge!("fieldesk_events_parked", "subscriber" => name).set(s.parked as f64);
    }
    let jobs = crate::server::db::jobs::health(&state.db, chrono::Utc::now()).await?;
    metrics::gauge!("fieldesk_jobs_queued").set(jobs.queued as f64);
    metrics::gauge!("fieldesk_jobs_running").set(jobs.running as f64);
    metrics::gauge!("fieldesk_jobs_failed").set(jobs.failed as f64);
    metrics::gauge!("fieldesk_jobs_oldest_due_lag_seconds").set(jobs.oldest_due_lag_seconds);
    let mail = crate::server::db::mail::pending_count(&state.db).await?;
    metrics::gauge!("fieldesk_mail_pending").set(mail as f64);
    Ok(())
}
