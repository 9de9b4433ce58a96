//! Staff availability: users' `last_seen_at`, `online_since` and
//! `away_since` (what `engine::availability` reads), and the desk's staff
//! with them.

use super::{Conn, Db, Tx, query};
use crate::domain::Role;
use crate::engine::availability::{Seen, offline_before, stale_before};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A person of the desk with what is stored about their presence.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub online_since: Option<DateTime<Utc>>,
    pub away_since: Option<DateTime<Utc>>,
}

impl StaffRow {
    pub fn seen(&self) -> Seen {
        Seen {
            last_seen_at: self.last_seen_at,
            online_since: self.online_since,
            away_since: self.away_since,
        }
    }
}

const SELECT_STAFF: &str =
    "SELECT id, name, role, last_seen_at, online_since, away_since FROM users";

/// Marks `ids` seen at `now` in one statement (the caller keeps the list
/// to a few hundred): only those last seen before `SEEN_EVERY` ago are
/// written, and those who were offline (or never seen) start a stretch
/// online now. The number of people written.
pub async fn mark_seen<'c>(
    on: impl Into<Conn<'c>>,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    // Each placeholder once and in order (SQLite parses `?` faster).
    let mut q = query(
        "UPDATE users SET last_seen_at = $1, online_since = CASE \
         WHEN last_seen_at IS NULL OR online_since IS NULL OR last_seen_at < $2 THEN $3 \
         ELSE online_since END \
         WHERE (last_seen_at IS NULL OR last_seen_at < $4) AND id IN ",
    )
    .bind(now)
    .bind(offline_before(now))
    .bind(now)
    .bind(stale_before(now));
    q.push_list(ids.iter().copied());
    q.execute(on).await
}

/// Sets or clears when `id` said they are away.
pub async fn set_away_since(
    tx: &mut Tx,
    id: Uuid,
    away_since: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    query("UPDATE users SET away_since = $1 WHERE id = $2")
        .bind(away_since)
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// One person of `org` with their presence columns.
pub async fn staff_member<'c>(
    on: impl Into<Conn<'c>>,
    org: Uuid,
    id: Uuid,
) -> Result<Option<StaffRow>, sqlx::Error> {
    let sql = format!("{SELECT_STAFF} WHERE id = $1 AND organization_id = $2");
    query(sql).bind(id).bind(org).fetch_optional(on).await
}

/// The active people of `org` whose role is one of `roles`, by name.
pub async fn staff(db: &Db, org: Uuid, roles: &[Role]) -> Result<Vec<StaffRow>, sqlx::Error> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = query(format!(
        "{SELECT_STAFF} WHERE organization_id = $1 AND active = TRUE AND role IN "
    ))
    .bind(org);
    q.push_list(roles.iter().map(|r| r.as_str()));
    q.push(" ORDER BY name, id");
    q.fetch_all(db).await
}
