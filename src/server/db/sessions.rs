//! Refresh tokens (sessions) and the per-account sign-in throttle.

use super::{Db, query};
use crate::server::auth::refresh::{RefreshDecision, StoredRefresh};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct NewRefresh<'a> {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub async fn insert_refresh(db: &Db, new: &NewRefresh<'_>) -> Result<(), sqlx::Error> {
    query(INSERT_REFRESH)
        .bind(Uuid::now_v7())
        .bind(new.family_id)
        .bind(new.user_id)
        .bind(new.token_hash)
        .bind(Utc::now())
        .bind(new.expires_at)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// What happened to a presented refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was valid and is now spent; `successor` was stored in its place.
    Rotated { user_id: Uuid, family_id: Uuid },
    /// A token spent a moment ago by a parallel request of the same browser:
    /// the session continues without a new refresh token.
    Continued { user_id: Uuid, family_id: Uuid },
    /// Unknown, expired, revoked, or replayed (and the family is now revoked).
    Rejected,
}

/// Spends the token with hash `presented` and stores `successor` in the same
/// family, atomically. `decide` is the pure policy (see `auth::refresh`).
pub async fn rotate_refresh(
    db: &Db,
    presented: &str,
    successor: &str,
    successor_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    decide: impl Fn(&StoredRefresh) -> RefreshDecision,
) -> Result<RotateOutcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    let stored: Option<StoredRefresh> = query(
        "SELECT user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(presented)
    .fetch_optional(&mut tx)
    .await?;
    let Some(stored) = stored else {
        return Ok(RotateOutcome::Rejected);
    };
    let outcome = match decide(&stored) {
        RefreshDecision::Rotate => {
            // The guard on used_at makes two racing rotations spend the token once.
            let spent = query(
                "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
            )
            .bind(now)
            .bind(presented)
            .execute(&mut tx)
            .await?;
            if spent == 1 {
                query(INSERT_REFRESH)
                    .bind(Uuid::now_v7())
                    .bind(stored.family_id)
                    .bind(stored.user_id)
                    .bind(successor)
                    .bind(now)
                    .bind(successor_expires_at)
                    .execute(&mut tx)
                    .await?;
                RotateOutcome::Rotated {
                    user_id: stored.user_id,
                    family_id: stored.family_id,
                }
            } else {
                RotateOutcome::Continued {
                    user_id: stored.user_id,
                    family_id: stored.family_id,
                }
            }
        }
        RefreshDecision::Continue => RotateOutcome::Continued {
            user_id: stored.user_id,
            family_id: stored.family_id,
        },
        RefreshDecision::RevokeFamily => {
            query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(stored.family_id)
                .execute(&mut tx)
                .await?;
            RotateOutcome::Rejected
        }
        RefreshDecision::Reject => RotateOutcome::Rejected,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Ends the session the token belongs to. Unknown tokens are ignored.
pub async fn revoke_family_of(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    query(
        "UPDATE refresh_tokens SET revoked_at = $1 \
         WHERE revoked_at IS NULL AND family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = $2)",
    )
    .bind(Utc::now())
    .bind(token_hash)
    .execute(db.writer())
    .await?;
    Ok(())
}

pub async fn revoke_family(db: &Db, family_id: Uuid) -> Result<(), sqlx::Error> {
    query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(Utc::now())
        .bind(family_id)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Until when sign-in for this email is locked, if it is.
pub async fn locked_until(db: &Db, email: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let row: Option<(Option<DateTime<Utc>>,)> =
        query("SELECT locked_until FROM login_throttle WHERE email = $1")
            .bind(email)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(until,)| until))
}

/// Counts a failed sign-in; the `threshold`-th consecutive failure locks the
/// email until `lock_until` and restarts the count. Returns the lock, if set.
pub async fn record_failed_login(
    db: &Db,
    email: &str,
    threshold: i32,
    now: DateTime<Utc>,
    lock_until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let (locked,): (Option<DateTime<Utc>>,) = query(
        "INSERT INTO login_throttle (email, failures, locked_until, updated_at) VALUES ($1, 1, NULL, $2) \
         ON CONFLICT (email) DO UPDATE SET \
           failures = CASE WHEN login_throttle.failures + 1 >= $3 THEN 0 ELSE login_throttle.failures + 1 END, \
           locked_until = CASE WHEN login_throttle.failures + 1 >= $3 THEN $4 ELSE login_throttle.locked_until END, \
           updated_at = $2 \
         RETURNING locked_until",
    )
    .bind(email)
    .bind(now)
    .bind(threshold)
    .bind(lock_until)
    .fetch_one(db.writer())
    .await?;
    Ok(locked.filter(|until| *until > now))
}

pub async fn clear_failed_logins(db: &Db, email: &str) -> Result<(), sqlx::Error> {
    query("DELETE FROM login_throttle WHERE email = $1")
        .bind(email)
        .execute(db.writer())
        .await?;
    Ok(())
}
