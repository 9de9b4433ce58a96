//! Users of every role. Every query that a client can steer is scoped by
//! organization; lookups by email or id alone are for sign-in and sessions.

use super::{Db, Tx, query};
use crate::domain::{Role, User};
use crate::engine::mentions::handle_of;
use crate::server::auth::principal::Person;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A user row with what sign-in needs (hash, active flag, organization name).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
}

/// The password hash of a contact (imported, or named on a ticket by
/// staff): it matches no password, so they cannot sign in.
pub const NO_PASSWORD: &str = "!";

impl UserRecord {
    /// Contacts follow their tickets by magic link instead.
    pub fn can_sign_in(&self) -> bool {
        self.password_hash != NO_PASSWORD
    }

    pub fn role(&self) -> Role {
        // The CHECK constraint guarantees a known role.
        self.role.parse().unwrap_or(Role::Customer)
    }

    pub fn to_user(&self) -> User {
        User {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role(),
            organization_id: self.organization_id,
            active: self.active,
        }
    }
}

const SELECT_RECORD: &str = "SELECT u.id, u.organization_id, o.name AS organization_name, u.email, \
     u.name, u.role, u.password_hash, u.active \
     FROM users u JOIN organizations o ON o.id = u.organization_id";

pub struct NewUser<'a> {
    pub organization_id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

/// Inserts an active user, in the transaction that audits it.
pub async fn insert(tx: &mut Tx, new: &NewUser<'_>) -> Result<User, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    query(
        "INSERT INTO users (id, organization_id, email, name, role, password_hash, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7)",
    )
    .bind(id)
    .bind(new.organization_id)
    .bind(new.email)
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(User {
        id,
        email: new.email.to_owned(),
        name: new.name.to_owned(),
        role: new.role,
        organization_id: new.organization_id,
        active: true,
    })
}

/// A person an import refers to who has no account yet: becomes a
/// customer contact (no password; they cannot sign in until given one).
pub struct NewContact {
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

/// Records an import's new contact inside the import's transaction.
pub async fn insert_contact(
    tx: &mut Tx,
    org: Uuid,
    contact: &NewContact,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO users (id, organization_id, email, name, role, password_hash, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'customer', '!', TRUE, $5, $5)",
    )
    .bind(contact.id)
    .bind(org)
    .bind(&contact.email)
    .bind(&contact.name)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

/// For sign-in: `email` must already be normalized.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    let sql = format!("{SELECT_RECORD} WHERE u.email = $1");
    query(sql).bind(email).fetch_optional(db).await
}

/// For session refresh, where the id comes from our own token store.
pub async fn find_by_id(db: &Db, id: Uuid) -> Result<Option<UserRecord>, sqlx::Error> {
    let sql = format!("{SELECT_RECORD} WHERE u.id = $1");
    query(sql).bind(id).fetch_optional(db).await
}

/// Who a signed-in person is right now, read on every request: an access
/// token names the person, this row says what they may do. `None` once they
/// are deactivated (or gone), so their tokens stop working at once.
pub async fn standing(db: &Db, org: Uuid, id: Uuid) -> Result<Option<Person>, sqlx::Error> {
    let row: Option<(String, String)> = query(
        "SELECT role, name FROM users WHERE id = $1 AND organization_id = $2 AND active = TRUE",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(role, name)| Person {
        id,
        org,
        // The CHECK constraint guarantees a known role.
        role: role.parse().unwrap_or(Role::Customer),
        name,
    }))
}

/// A user of `org`; another organization's user is indistinguishable from a missing one.
pub async fn find_in_org(db: &Db, org: Uuid, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("{SELECT_RECORD} WHERE u.id = $1 AND u.organization_id = $2");
    let record: Option<UserRecord> = query(sql).bind(id).bind(org).fetch_optional(db).await?;
    Ok(record.map(|r| r.to_user()))
}

/// The active colleague of `org` an @mention names (`dana` → `dana@…`);
/// customers are never mentioned.
pub async fn staff_by_handle(
    db: &Db,
    org: Uuid,
    handle: &str,
) -> Result<Option<UserRecord>, sqlx::Error> {
    let sql =
        format!("{SELECT_RECORD} WHERE u.organization_id = $1 AND u.email LIKE $2 AND u.active");
    // LIKE narrows (`_` in a handle is a wildcard there); the exact
    // comparison decides.
    let candidates: Vec<UserRecord> = query(sql)
        .bind(org)
        .bind(format!("{handle}@%"))
        .fetch_all(db)
        .await?;
    Ok(candidates
        .into_iter()
        .find(|u| u.role().is_staff() && handle_of(&u.email) == handle))
}

/// One page of an organization's users ordered by email (unique, so it is
/// its own keyset cursor).
pub async fn list_in_org(
    db: &Db,
    org: Uuid,
    role: Option<Role>,
    after_email: Option<&str>,
    limit: u32,
) -> Result<Vec<User>, sqlx::Error> {
    let sql = format!(
        "{SELECT_RECORD} WHERE u.organization_id = $1 \
         AND ($2 IS NULL OR u.role = $2) AND ($3 IS NULL OR u.email > $3) \
         ORDER BY u.email LIMIT $4"
    );
    let role = role.map(Role::as_str);
    let records: Vec<UserRecord> = query(sql)
        .bind(org)
        .bind(role)
        .bind(after_email)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    Ok(records.iter().map(UserRecord::to_user).collect())
}

/// Sets a new password hash and ends every session of the user, in the
/// caller's transaction: a stolen session must not outlive the password it
/// was opened with.
pub async fn replace_password(tx: &mut Tx, id: Uuid, hash: &str) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// What an administrator changes on a user; `None` leaves a column alone.
#[derive(Debug, Default)]
pub struct UserChanges<'a> {
    pub name: Option<&'a str>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password_hash: Option<&'a str>,
}

impl UserChanges<'_> {
    /// A deactivation or a new password ends every session of the user.
    fn ends_sessions(&self) -> bool {
        self.active == Some(false) || self.password_hash.is_some()
    }
}

/// Applies `changes` to a user of `org` in the caller's transaction (which
/// audits them) and, when the account is deactivated or its password
/// replaced, revokes all its refresh tokens (as `replace_password` does). None when `org` has no such user.
pub async fn update_in_org(
    tx: &mut Tx,
    org: Uuid,
    id: Uuid,
    changes: &UserChanges<'_>,
) -> Result<Option<User>, sqlx::Error> {
    let now = Utc::now();
    let select = format!("{SELECT_RECORD} WHERE u.id = $1 AND u.organization_id = $2");
    let updated = query(
        "UPDATE users SET name = COALESCE($1, name), role = COALESCE($2, role), \
         active = COALESCE($3, active), password_hash = COALESCE($4, password_hash), \
         updated_at = $5 WHERE id = $6 AND organization_id = $7",
    )
    .bind(changes.name)
    .bind(changes.role.map(Role::as_str))
    .bind(changes.active)
    .bind(changes.password_hash)
    .bind(now)
    .bind(id)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    if updated == 0 {
        return Ok(None);
    }
    if changes.ends_sessions() {
        query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    // A reset password is how an admin lets a locked-out user back in.
    if changes.password_hash.is_some() {
        query("DELETE FROM login_throttle WHERE email = (SELECT email FROM users WHERE id = $1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let record: Option<UserRecord> = query(select).bind(id).bind(org).fetch_optional(tx).await?;
    Ok(record.as_ref().map(UserRecord::to_user))
}

/// The roles of those of `ids` who are still active (any organization:
/// the ids come from verified sessions).
pub async fn active_roles(db: &Db, ids: &[Uuid]) -> Result<Vec<(Uuid, Role)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = query("SELECT id, role FROM users WHERE active = TRUE AND id IN ");
    q.push_list(ids.iter().copied());
    let rows: Vec<(Uuid, String)> = q.fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, role)| Some((id, role.parse().ok()?)))
        .collect())
}
