//! Outbound mail: each queued mail has a `mail.send` job that sends it
//! (`server::mail`), queued in the same transaction as the mail.

use super::jobs::{self, NewJob};
use super::{Db, Tx, query};
use crate::domain::wire_enum;
use crate::engine::notify::Threading;
use crate::engine::retry::RetryPolicy;
use chrono::{DateTime, Utc};
use uuid::Uuid;

wire_enum! {
    /// Where a queued mail stands.
    MailStatus {
        Pending => "pending",
        Sent => "sent",
        Failed => "failed",
    }
}

/// The job kind that sends one queued mail.
pub const SEND_JOB: &str = "mail.send";

pub struct NewMail {
    /// The row's id; a ticket mail's own Message-ID is made from it.
    pub id: Uuid,
    pub organization_id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Message-ID, In-Reply-To and References of a ticket mail (none:
    /// the mail library makes a Message-ID).
    pub threading: Threading,
}

impl NewMail {
    /// A mail without threading headers, with a fresh id.
    pub fn plain(organization_id: Uuid, to: String, subject: String, body: String) -> NewMail {
        NewMail {
            id: Uuid::now_v7(),
            organization_id,
            to,
            subject,
            body,
            threading: Threading::default(),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub attempts: i64,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub mail_references: Option<String>,
}

/// What a `mail.send` job carries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SendMail {
    pub mail_id: Uuid,
}

/// Queues `mail` and the job that sends it inside `tx`.
pub async fn enqueue(tx: &mut Tx, mail: &NewMail, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let id = mail.id;
    query(
        "INSERT INTO outbound_mail (id, organization_id, to_address, subject, body_text, status, attempts, \
         next_attempt_at, created_at, message_id, in_reply_to, mail_references) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(mail.organization_id)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(now)
    .bind(mail.threading.message_id.as_deref())
    .bind(mail.threading.in_reply_to.as_deref())
    .bind(mail.threading.references.as_deref())
    .execute(&mut *tx)
    .await?;
    let job = NewJob {
        organization_id: Some(mail.organization_id),
        kind: SEND_JOB,
        payload: serde_json::to_string(&SendMail { mail_id: id }).unwrap_or_default(),
        run_at: now,
        max_attempts: RetryPolicy::MAIL.max_attempts,
        unique_key: None,
    };
    jobs::enqueue(tx, &job, now).await
}

/// A mail that is still to be sent.
pub async fn pending(db: &Db, id: Uuid) -> Result<Option<QueuedMail>, sqlx::Error> {
    query(
        "SELECT id, to_address, subject, body_text, attempts, message_id, in_reply_to, mail_references \
         FROM outbound_mail \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The outcome of one sending attempt: sent, refused for good (`failed`),
/// or to be tried again (still `pending`, at `retry_at`).
pub enum Attempt<'a> {
    Sent,
    Refused(&'a str),
    Retry(&'a str, DateTime<Utc>),
}

/// Records an attempt at mail `id` inside `tx`.
pub async fn record_attempt(
    tx: &mut Tx,
    id: Uuid,
    attempt: Attempt<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (status, error, next) = match attempt {
        Attempt::Sent => (MailStatus::Sent, None, None),
        Attempt::Refused(e) => (MailStatus::Failed, Some(e), None),
        Attempt::Retry(e, at) => (MailStatus::Pending, Some(e), Some(at)),
    };
    query(
        "UPDATE outbound_mail SET status = $1, last_error = $2, attempts = attempts + 1, \
         next_attempt_at = COALESCE($3, next_attempt_at), \
         sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(next)
    .bind(now)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Mails waiting to be sent, for `/metrics` and the admins' view.
pub async fn pending_count(db: &Db) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = query("SELECT COUNT(*) FROM outbound_mail WHERE status = 'pending'")
        .fetch_one(db)
        .await?;
    Ok(n)
}
