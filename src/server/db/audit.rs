//! The audit log (`audit_log`): one row per changed field or action of one
//! owner (a ticket, a user, a setting…), written inside the change's
//! transaction; and the organization's log, newest first, for admins.

use super::{Db, Tx, query};
use crate::domain::audit::{AuditEntry, OwnerType};
use crate::domain::event::{Actor, Source};
use crate::engine::ticket_change::FieldChange;
use crate::server::audit::Origin;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What every row of one change shares: whose, what it belongs to, who
/// did it, through what and from where.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// None only for a failed sign-in with an email that is no account.
    pub org: Option<Uuid>,
    pub owner_type: OwnerType,
    pub owner_id: Option<Uuid>,
    /// None for the system, or nobody signed in.
    pub actor_id: Option<Uuid>,
    pub source: Source,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Writes one row per line, all with `stamp`.
pub async fn insert(
    tx: &mut Tx,
    stamp: &Stamp<'_>,
    lines: &[FieldChange],
) -> Result<(), sqlx::Error> {
    for line in lines {
        query(
            "INSERT INTO audit_log (id, organization_id, owner_type, owner_id, actor_id, source, \
             field, old_value, new_value, ip, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(Uuid::now_v7())
        .bind(stamp.org)
        .bind(stamp.owner_type.as_str())
        .bind(stamp.owner_id)
        .bind(stamp.actor_id)
        .bind(stamp.source.as_str())
        .bind(&*line.field)
        .bind(line.old.as_deref())
        .bind(line.new.as_deref())
        .bind(stamp.ip)
        .bind(stamp.user_agent)
        .bind(stamp.at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Records one changed field of ticket `ticket`, done by `actor` (whose
/// source the row keeps) from the client of `origin`.
pub async fn record(
    tx: &mut Tx,
    org: Uuid,
    ticket: Uuid,
    actor: Actor,
    origin: &Origin,
    line: &FieldChange,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let ip = origin.ip_text();
    let stamp = Stamp {
        org: Some(org),
        owner_type: OwnerType::Ticket,
        owner_id: Some(ticket),
        actor_id: actor.user_id,
        source: actor.source,
        ip: ip.as_deref(),
        user_agent: origin.user_agent.as_deref(),
        at,
    };
    insert(tx, &stamp, std::slice::from_ref(line)).await
}

/// Which rows of one organization a page of the log holds.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub owner_type: Option<OwnerType>,
    pub owner_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// On or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// The keyset position of the previous page's last row.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

/// Up to `f.limit` rows of `org`'s log, newest first (keyset on
/// (created_at, id), so a deep page costs what the first does).
pub async fn page(db: &Db, org: Uuid, f: &LogFilter) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let mut q = query(
        "SELECT a.id, a.owner_type, a.owner_id, a.actor_id, u.name AS actor_name, a.source, a.field, \
         a.old_value, a.new_value, a.ip, a.user_agent, a.created_at \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.organization_id = $1",
    )
    .bind(org);
    if let Some(kind) = f.owner_type {
        q.push(" AND a.owner_type = ").push_bind(kind.as_str());
    }
    if let Some(owner) = f.owner_id {
        q.push(" AND a.owner_id = ").push_bind(owner);
    }
    if let Some(actor) = f.actor_id {
        q.push(" AND a.actor_id = ").push_bind(actor);
    }
    if let Some(from) = f.from {
        q.push(" AND a.created_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND a.created_at < ").push_bind(to);
    }
    if let Some((at, id)) = f.before {
        q.push(" AND (a.created_at < ").push_bind(at);
        q.push(" OR (a.created_at = ").push_bind(at);
        q.push(" AND a.id < ").push_bind(id).push("))");
    }
    q.push(" ORDER BY a.created_at DESC, a.id DESC LIMIT ")
        .push_bind(f.limit);
    q.fetch_all(db).await
}
