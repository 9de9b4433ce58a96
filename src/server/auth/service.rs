//! Sign-in, session refresh, sign-out and password change: the one path both
//! the REST API and the browser's server functions go through.

use super::password::{hash_password_blocking, verify_password_blocking};
use super::refresh::{Presenter, decide, hash_token, new_token};
use super::token::Claims;
use crate::domain::audit::OwnerType;
use crate::domain::user::{MAX_EMAIL_LEN, normalize_email, validate_new_password};
use crate::domain::{ErrorKind, FieldErrors, SessionUser};
use crate::engine::ticket_change::FieldChange;
use crate::server::audit::{self, Origin, Owner};
use crate::server::config::{LOCKOUT_DURATION, LOCKOUT_THRESHOLD};
use crate::server::db::Tx;
use crate::server::db::sessions::{self, NewRefresh, NewToken, RotateOutcome};
use crate::server::db::users::{self, UserRecord};
use crate::server::error::{AppError, AppResult};
use crate::server::state::AppState;
use chrono::Utc;
use std::net::{IpAddr, Ipv6Addr};
use uuid::Uuid;

pub const INVALID_CREDENTIALS: &str = "Invalid email or password";

/// A signed-in session as handed to a client.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub claims: Claims,
    pub access_token: String,
    /// None when a browser's parallel request already rotated the cookie.
    pub refresh_token: Option<String>,
    pub expires_in: u64,
}

fn session_user(record: &UserRecord) -> SessionUser {
    SessionUser {
        id: record.id,
        email: record.email.clone(),
        name: record.name.clone(),
        role: record.role(),
        organization_id: record.organization_id,
        organization_name: record.organization_name.clone(),
    }
}

fn too_many_attempts() -> AppError {
    AppError::kind(
        ErrorKind::TooManyRequests,
        "Too many sign-in attempts. Wait a few minutes and try again.",
    )
}

fn session_expired() -> AppError {
    AppError::kind(
        ErrorKind::Unauthorized,
        "Your session has ended; sign in again",
    )
}

/// Signs in; the session's refresh token is handed to `client`.
/// Both outcomes are audited: a sign-in on the account, a failure with the
/// email tried (never the password) on the account it names, or on no
/// organization when it names none.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    origin: &Origin,
    client: Presenter,
) -> AppResult<IssuedSession> {
    let ip = origin.ip;
    let email = normalize_email(email);
    let mut errs = FieldErrors::new();
    errs.check(!email.is_empty(), "email", "Enter your email address");
    // No account has a longer one; refused before it reaches the throttle table.
    errs.check(
        email.len() <= MAX_EMAIL_LEN,
        "email",
        "Email address is too long",
    );
    errs.check(!password.is_empty(), "password", "Enter your password");
    errs.check(password.len() <= 1024, "password", "Password is too long");
    errs.into_result()?;

    spend_ip_attempt(state, ip)?;
    let source = throttle_source(ip);
    let now = Utc::now();
    if sessions::locked_until(&state.db, &email, &source)
        .await?
        .is_some_and(|until| until > now)
    {
        return Err(too_many_attempts());
    }

    let account = users::find_by_email(&state.db, &email).await?;
    // Whose log a failure goes to: the account's, also when it is deactivated.
    let named = account.as_ref().map(|r| (r.organization_id, r.id));
    let record = account.filter(|u| u.active);
    // No record, or a contact's placeholder hash: verified against the dummy,
    // at the same cost.
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    let verified = verify_password_blocking(password.to_owned(), hash).await;
    match record {
        Some(record) if verified => {
            sessions::clear_failed_logins(&state.db, &email, &source).await?;
            tracing::info!(user = %record.id, "signed in");
            let signed_in = audit::line("sign_in", None, Some(email));
            start_session(
                state,
                &session_user(&record),
                client,
                origin,
                Some(signed_in),
            )
            .await
        }
        _ => {
            let mut tx = state.db.begin().await?;
            audit::record(
                &mut tx,
                named.map(|(org, _)| org),
                None,
                origin,
                Owner {
                    kind: OwnerType::User,
                    id: named.map(|(_, id)| id),
                },
                &[audit::line("sign_in_failed", None, Some(email.clone()))],
            )
            .await?;
            tx.commit().await?;
            let lock_until = now + LOCKOUT_DURATION;
            if sessions::record_failed_login(
                &state.db,
                &email,
                &source,
                LOCKOUT_THRESHOLD,
                now,
                lock_until,
            )
            .await?
            .is_some()
            {
                tracing::warn!("sign-in locked after repeated failures");
            }
            Err(AppError::kind(ErrorKind::Unauthorized, INVALID_CREDENTIALS))
        }
    }
}

/// Where failed sign-ins are counted from: the client's address, or an IPv6
/// client's /64 — one host usually has a whole /64, and counting each of its
/// addresses apart would give it endless attempts.
fn throttle_source(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", Ipv6Addr::from(network))
            }
        },
    }
}

/// Spends one attempt from the client IP's per-minute budget, which sign-in
/// and sign-up share; 429 when it is used up.
pub fn spend_ip_attempt(state: &AppState, ip: IpAddr) -> AppResult<()> {
    if state.login_limiter.check_key(&ip).is_err() {
        return Err(too_many_attempts());
    }
    Ok(())
}

/// Opens a new session family for a user who just proved who they are
/// (signed in, changed their password, or just signed up); its refresh
/// token is handed to `client`. `action` (a sign-in) is audited on the
/// user, from `origin`, with the session.
pub async fn start_session(
    state: &AppState,
    user: &SessionUser,
    client: Presenter,
    origin: &Origin,
    action: Option<FieldChange>,
) -> AppResult<IssuedSession> {
    let refresh_token = new_token();
    let family_id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sessions::insert_refresh(
        &mut tx,
        &NewRefresh {
            family_id,
            user_id: user.id,
            token: NewToken {
                token_hash: &hash_token(&refresh_token),
                expires_at: Utc::now() + state.config.refresh_ttl(),
                issued_to: client,
            },
        },
    )
    .await?;
    if let Some(action) = action {
        let by = Some(user.id);
        let org = Some(user.organization_id);
        audit::record(&mut tx, org, by, origin, Owner::user(user.id), &[action]).await?;
    }
    tx.commit().await?;
    Ok(issue(state, user, family_id, Some(refresh_token)))
}

fn issue(
    state: &AppState,
    user: &SessionUser,
    family_id: Uuid,
    refresh_token: Option<String>,
) -> IssuedSession {
    let ttl = state.config.access_ttl();
    let claims = Claims::new(user, family_id, Utc::now().timestamp(), ttl);
    IssuedSession {
        access_token: state.keys.sign(&claims),
        claims,
        refresh_token,
        expires_in: ttl.as_secs(),
    }
}

pub async fn refresh(
    state: &AppState,
    token: &str,
    presenter: Presenter,
) -> AppResult<IssuedSession> {
    if token.is_empty() || token.len() > 200 {
        return Err(session_expired());
    }
    let now = Utc::now();
    let successor = new_token();
    let outcome = sessions::rotate_refresh(
        &state.db,
        &hash_token(token),
        // The successor goes back the way the token came.
        &NewToken {
            token_hash: &hash_token(&successor),
            expires_at: now + state.config.refresh_ttl(),
            issued_to: presenter,
        },
        now,
        |stored| decide(stored, now, presenter),
    )
    .await?;
    let (user_id, family_id, refresh_token) = match outcome {
        RotateOutcome::Rotated { user_id, family_id } => (user_id, family_id, Some(successor)),
        RotateOutcome::Continued { user_id, family_id } => (user_id, family_id, None),
        RotateOutcome::Rejected => return Err(session_expired()),
    };
    // Re-read the user: a deactivated account or a changed role takes effect
    // at the next refresh at the latest.
    match users::find_by_id(&state.db, user_id)
        .await?
        .filter(|u| u.active)
    {
        Some(record) => Ok(issue(
            state,
            &session_user(&record),
            family_id,
            refresh_token,
        )),
        None => {
            sessions::revoke_family(&state.db, family_id).await?;
            Err(session_expired())
        }
    }
}

/// Ends the session a refresh token belongs to (audited as a sign-out when
/// it was still open).
pub async fn logout(state: &AppState, refresh_token: &str, origin: &Origin) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let ended = sessions::end_family_of(&mut tx, &hash_token(refresh_token), Utc::now()).await?;
    signed_out(&mut tx, ended, origin).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the session an access token was issued for (audited like `logout`).
pub async fn end_session(state: &AppState, claims: &Claims, origin: &Origin) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let ended = sessions::end_family(&mut tx, claims.sid, Utc::now()).await?;
    signed_out(&mut tx, ended, origin).await?;
    tx.commit().await?;
    Ok(())
}

/// The sign-out row of a session that was open: (organization, user).
async fn signed_out(tx: &mut Tx, ended: Option<(Uuid, Uuid)>, origin: &Origin) -> AppResult<()> {
    if let Some((org, user)) = ended {
        let line = audit::line("sign_out", None, None);
        audit::record(
            tx,
            Some(org),
            Some(user),
            origin,
            Owner::user(user),
            &[line],
        )
        .await?;
    }
    Ok(())
}

/// Changes the caller's password, ends all their sessions and opens a new one
/// for the caller (handed to `client`), so a stolen session dies with the
/// old password.
pub async fn change_password(
    state: &AppState,
    caller: &Claims,
    current: &str,
    new: &str,
    confirm: &str,
    client: Presenter,
    origin: &Origin,
) -> AppResult<IssuedSession> {
    validate_new_password(current, new, confirm)?;
    let record = users::find_by_id(&state.db, caller.sub)
        .await?
        .filter(|u| u.active)
        .ok_or_else(session_expired)?;
    if !verify_password_blocking(current.to_owned(), Some(record.password_hash.clone())).await {
        let mut errs = FieldErrors::new();
        errs.add("current_password", "Your current password is not correct");
        return Err(errs.into_result().unwrap_err().into());
    }
    let hash = hash_password_blocking(new.to_owned()).await?;
    let mut tx = state.db.begin().await?;
    users::replace_password(&mut tx, record.id, &hash).await?;
    let changed = audit::line("password", None, Some("changed".into()));
    let (org, by) = (Some(record.organization_id), Some(record.id));
    audit::record(&mut tx, org, by, origin, Owner::user(record.id), &[changed]).await?;
    tx.commit().await?;
    tracing::info!(user = %record.id, "password changed");
    start_session(state, &session_user(&record), client, origin, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_per_address_and_per_ipv6_network() {
        let source = |ip: &str| throttle_source(ip.parse().unwrap());
        assert_eq!(source("203.0.113.7"), "203.0.113.7");
        assert_eq!(source("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(source("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            source("2001:db8:1:2:bbbb::2"),
            source("2001:db8:1:2:aaaa::1")
        );
        assert_ne!(source("2001:db8:1:3::1"), source("2001:db8:1:2::1"));
    }
}
