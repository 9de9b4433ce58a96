//! Outbound mail. Services and subscribers queue mail in the
//! `outbound_mail` table with a `mail.send` job each (see `db::mail`); the
//! job runtime runs them here: one SMTP delivery per job with lettre,
//! retried with backoff (`RetryPolicy::MAIL`), so a mail server that is
//! down or slow loses nothing, and a restart loses no queued mail.

use crate::engine::mail::SEND_LEASE;
use crate::engine::retry::RetryPolicy;
use crate::server::db::jobs::{self, ClaimedJob};
use crate::server::db::mail::{self as store, Attempt, QueuedMail, SEND_JOB, SendMail};
use crate::server::runtime::{BoxFuture, JobError, JobHandler, payload};
use crate::server::state::AppState;
use anyhow::Context;
use chrono::{TimeDelta, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

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
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(mail.message_id.clone());
        // A ticket's mails name its root id, so mail clients thread them.
        if let Some(id) = &mail.in_reply_to {
            builder = builder.in_reply_to(id.clone());
        }
        if let Some(ids) = &mail.mail_references {
            builder = builder.references(ids.clone());
        }
        let message = builder
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

impl JobHandler for Mailer {
    fn kind(&self) -> &'static str {
        SEND_JOB
    }

    fn lease(&self) -> TimeDelta {
        SEND_LEASE
    }

    fn retry(&self) -> RetryPolicy {
        RetryPolicy::MAIL
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let SendMail { mail_id } = payload(job)?;
            let Some(mail) = store::pending(&state.db, mail_id).await? else {
                return Ok(()); // sent or given up on already
            };
            let result = self.send(&mail).await;
            let now = Utc::now();
            let (attempt, outcome) = match &result {
                Ok(()) => (Attempt::Sent, Ok(())),
                Err(e) if e.permanent => (Attempt::Refused(&e.message), Ok(())),
                Err(e) => match RetryPolicy::MAIL.next_attempt(job.attempts, now) {
                    Some(at) => (
                        Attempt::Retry(&e.message, at),
                        Err(JobError::Retry(e.message.clone())),
                    ),
                    None => (Attempt::Refused(&e.message), Ok(())),
                },
            };
            match &result {
                Ok(()) => tracing::info!(mail = %mail.id, attempts = job.attempts, "mail sent"),
                Err(e) => tracing::warn!(
                    mail = %mail.id, attempts = job.attempts, error = %e.message, permanent = e.permanent,
                    "mail not delivered"
                ),
            }
            let mut tx = state.db.begin().await?;
            store::record_attempt(&mut tx, mail.id, attempt, now).await?;
            // A failed attempt leaves the job to the runtime's retry.
            if outcome.is_ok() && !jobs::complete(&mut tx, job).await? {
                return Ok(()); // another worker took over after our lease ran out
            }
            tx.commit().await?;
            outcome
        })
    }
}
