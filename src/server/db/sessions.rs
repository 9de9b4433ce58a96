//! Refresh tokens (sessions) and the sign-in throttle (per account and source).

use super::{Conn, Db, Query, Tx, query};
use crate::server::auth::refresh::{Presenter, RefreshDecision, StoredRefresh};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct NewRefresh<'a> {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub token: NewToken<'a>,
}

/// A token to store: its hash, its end, and the kind of client it is
/// handed to (which decides whether it gets the browser's grace window).
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
    pub issued_to: Presenter,
}

const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens \
     (id, family_id, user_id, token_hash, created_at, expires_at, issued_to) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

fn insert_refresh_query<'q>(
    family_id: Uuid,
    user_id: Uuid,
    token: &NewToken<'q>,
    now: DateTime<Utc>,
) -> Query<'q> {
    query(INSERT_REFRESH)
        .bind(Uuid::now_v7())
        .bind(family_id)
        .bind(user_id)
        .bind(token.token_hash)
        .bind(now)
        .bind(token.expires_at)
        .bind(token.issued_to.as_str())
}

/// Stores a new session's first token, in the transaction that audits it.
pub async fn insert_refresh(tx: &mut Tx, new: &NewRefresh<'_>) -> Result<(), sqlx::Error> {
    insert_refresh_query(new.family_id, new.user_id, &new.token, Utc::now())
        .execute(tx)
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
    successor: &NewToken<'_>,
    now: DateTime<Utc>,
    decide: impl Fn(&StoredRefresh) -> RefreshDecision,
) -> Result<RotateOutcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    let stored: Option<StoredRefresh> = query(
        "SELECT user_id, family_id, expires_at, used_at, revoked_at, issued_to \
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(presented)
    .fetch_optional(&mut tx)
    .await?;
    let Some(stored) = stored else {
        return Ok(RotateOutcome::Rejected);
    };
    let (user_id, family_id) = (stored.user_id, stored.family_id);
    let mut decision = decide(&stored);
    if decision == RefreshDecision::Rotate {
        // The guard on used_at makes two racing rotations spend the token once.
        let spent = query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(presented)
        .execute(&mut tx)
        .await?;
        if spent == 1 {
            insert_refresh_query(family_id, user_id, successor, now)
                .execute(&mut tx)
                .await?;
            tx.commit().await?;
            return Ok(RotateOutcome::Rotated { user_id, family_id });
        }
        // A parallel request spent it first: this use is now a second one,
        // which only a browser's own cookie is forgiven.
        decision = decide(&StoredRefresh {
            used_at: Some(now),
            ..stored
        });
    }
    let outcome = match decision {
        RefreshDecision::Continue => RotateOutcome::Continued { user_id, family_id },
        RefreshDecision::RevokeFamily => {
            revoke_family_on(&mut tx, family_id, now).await?;
            RotateOutcome::Rejected
        }
        RefreshDecision::Rotate | RefreshDecision::Reject => RotateOutcome::Rejected,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Ends the session the token belongs to. Unknown tokens are ignored. The
/// (organization, user) of the session, if it was still open.
pub async fn end_family_of(
    tx: &mut Tx,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let ended: Vec<(Uuid,)> = query(
        "UPDATE refresh_tokens SET revoked_at = $1 \
         WHERE revoked_at IS NULL AND family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = $2) \
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_all(&mut *tx)
    .await?;
    owner_of(tx, ended).await
}

/// Ends session `family_id`; its (organization, user) if it was still open.
pub async fn end_family(
    tx: &mut Tx,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let ended: Vec<(Uuid,)> = query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL \
         RETURNING user_id",
    )
    .bind(now)
    .bind(family_id)
    .fetch_all(&mut *tx)
    .await?;
    owner_of(tx, ended).await
}

/// The (organization, user) of the first of `ended`'s tokens.
async fn owner_of(tx: &mut Tx, ended: Vec<(Uuid,)>) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let Some((user,)) = ended.into_iter().next() else {
        return Ok(None);
    };
    let org: Option<(Uuid,)> = query("SELECT organization_id FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(tx)
        .await?;
    Ok(org.map(|(org,)| (org, user)))
}

pub async fn revoke_family(db: &Db, family_id: Uuid) -> Result<(), sqlx::Error> {
    revoke_family_on(db.writer(), family_id, Utc::now()).await
}

async fn revoke_family_on<'c>(
    on: impl Into<Conn<'c>>,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(family_id)
        .execute(on)
        .await?;
    Ok(())
}

/// Until when sign-in for this email from this source is locked, if it is.
pub async fn locked_until(
    db: &Db,
    email: &str,
    source: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let row: Option<(Option<DateTime<Utc>>,)> =
        query("SELECT locked_until FROM login_throttle WHERE email = $1 AND source = $2")
            .bind(email)
            .bind(source)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(until,)| until))
}

/// Counts a failed sign-in from `source`; the `threshold`-th consecutive
/// failure locks the email for that source until `lock_until` and restarts
/// the count. Returns the lock, if set.
pub async fn record_failed_login(
    db: &Db,
    email: &str,
    source: &str,
    threshold: i32,
    now: DateTime<Utc>,
    lock_until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let (locked,): (Option<DateTime<Utc>>,) = query(
        "INSERT INTO login_throttle (email, source, failures, locked_until, updated_at) \
         VALUES ($1, $2, 1, NULL, $3) \
         ON CONFLICT (email, source) DO UPDATE SET \
           failures = CASE WHEN login_throttle.failures + 1 >= $4 THEN 0 ELSE login_throttle.failures + 1 END, \
           locked_until = CASE WHEN login_throttle.failures + 1 >= $4 THEN $5 ELSE login_throttle.locked_until END, \
           updated_at = $3 \
         RETURNING locked_until",
    )
    .bind(email)
    .bind(source)
    .bind(now)
    .bind(threshold)
    .bind(lock_until)
    .fetch_one(db.writer())
    .await?;
    Ok(locked.filter(|until| *until > now))
}

/// Forgets the failures from `source` after a correct sign-in from it. Other
/// sources keep theirs: someone else's guessing stays locked out.
pub async fn clear_failed_logins(db: &Db, email: &str, source: &str) -> Result<(), sqlx::Error> {
    query("DELETE FROM login_throttle WHERE email = $1 AND source = $2")
        .bind(email)
        .bind(source)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Which of the sessions `family_ids` are still open (not ended, not expired).
pub async fn open_among(
    db: &Db,
    family_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    if family_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = query(
        "SELECT DISTINCT family_id FROM refresh_tokens \
         WHERE revoked_at IS NULL AND expires_at > $1 AND family_id IN ",
    )
    .bind(now);
    q.push_list(family_ids.iter().copied());
    let rows: Vec<(Uuid,)> = q.fetch_all(db).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
