//! Outbound mail. Services queue mail in the `outbound_mail` table (see
//! `db::mail`); one background worker, started with the server, sends due
//! mail over SMTP with lettre and retries failures with backoff, so a mail
//! server that is down or slow loses nothing. The same worker runs the
//! outbox subscriber that mails magic links for new tickets.

use crate::engine::mail::{SEND_LEASE, next_attempt};
use crate::server::db::mail::{self as store, QueuedMail};
use crate::server::state::AppState;
use crate::server::{magic_link, mentions};
use anyhow::Context;
use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// How often the worker looks for new events and due mail.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Mails sent per round (the rest wait for the next one).
const BATCH: i64 = 20;
/// One SMTP conversation may take this long before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The SMTP connection settings and the sender address.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why a delivery failed, and whether trying again can help.
struct SendError {
    message: String,
    permanent: bool,
}

impl Mailer {
    /// The mailer the configuration describes; None when no SMTP server is set.
    pub fn from_config(config: &crate::server::config::Config) -> anyhow::Result<Option<Mailer>> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .context("FIELDESK_MAIL_FROM is not a valid mail address")?;
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        // smtp:// is plain (a local relay); smtps:// and ?tls=required use
        // rustls with the system's trust roots.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("FIELDESK_SMTP_URL is not a valid SMTP URL")?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Some(Mailer { transport, from }))
    }

    async fn send(&self, mail: &QueuedMail) -> Result<(), SendError> {
        let refused = |message: String| SendError {
            message,
            permanent: true,
        };
        let to: Mailbox = mail
            .to_address
            .parse()
            .map_err(|e| refused(format!("invalid recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body_text.clone())
            .map_err(|e| refused(format!("cannot build the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                message: e.to_string(),
                permanent: e.is_permanent(),
            })
    }
}

/// Checks the mail settings and starts the worker; fails (so the server
/// does not start) when they are invalid.
pub fn start(state: AppState) -> anyhow::Result<()> {
    let mailer = Mailer::from_config(&state.config)?;
    tokio::spawn(run(state, mailer));
    Ok(())
}

async fn run(state: AppState, mailer: Option<Mailer>) {
    let mut said_unset = false;
    loop {
        if let Err(e) = magic_link::mail_new_tickets(&state).await {
            tracing::error!(error = ?e, "magic-link mails for new tickets failed; retrying");
        }
        if let Err(e) = mentions::mail_mentions(&state).await {
            tracing::error!(error = ?e, "@mention mails failed; retrying");
        }
        match &mailer {
            Some(mailer) => {
                if let Err(e) = send_due(&state, mailer).await {
                    tracing::error!(error = ?e, "sending queued mail failed; retrying");
                }
            }
            None if !said_unset => {
                said_unset = true;
                tracing::info!("FIELDESK_SMTP_URL is not set: mail stays queued until it is");
            }
            None => {}
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Sends the mails that are due, each claimed first so that two workers
/// never send the same one.
async fn send_due(state: &AppState, mailer: &Mailer) -> anyhow::Result<()> {
    let now = Utc::now();
    for mail in store::due(&state.db, now, BATCH).await? {
        if !store::claim(&state.db, &mail, now, SEND_LEASE).await? {
            continue;
        }
        let attempts = mail.attempts + 1;
        match mailer.send(&mail).await {
            Ok(()) => {
                store::mark_sent(&state.db, mail.id, Utc::now()).await?;
                tracing::info!(mail = %mail.id, attempts, "mail sent");
            }
            Err(e) => {
                let retry_at = (!e.permanent).then(|| next_attempt(attempts, Utc::now()));
                tracing::warn!(
                    mail = %mail.id, attempts, error = %e.message, permanent = e.permanent,
                    "mail not delivered"
                );
                store::mark_failed_attempt(&state.db, mail.id, &e.message, retry_at).await?;
            }
        }
    }
    Ok(())
}
