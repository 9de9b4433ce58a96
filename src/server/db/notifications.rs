//! Notifications: in-app rows (`notifications`), each person's preferences
//! (`notification_preferences`, a row only where they chose), and the
//! organization's changed mail templates (`mail_templates`, a row only
//! where an administrator replaced the default).

use super::{Db, Tx, query};
use crate::domain::Role;
use crate::domain::event::{DomainEvent, NotificationStored};
use crate::domain::notification::{
    MailTemplateKey, NotificationItem, NotificationKind, NotificationPreference,
};
use crate::engine::notify::TemplateText;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One in-app notification to write.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub kind: NotificationKind,
    pub ticket_id: Option<Uuid>,
    pub ticket_number: Option<String>,
    pub title: String,
    pub body: String,
}

/// Stores an in-app notification with its `notification.created` event
/// (which live updates send to the recipient).
pub async fn insert(
    tx: &mut Tx,
    n: &NewNotification,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let id = Uuid::now_v7();
    query(
        "INSERT INTO notifications (id, organization_id, user_id, kind, ticket_id, ticket_number, \
         title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(n.organization_id)
    .bind(n.user_id)
    .bind(n.kind.as_str())
    .bind(n.ticket_id)
    .bind(n.ticket_number.as_deref())
    .bind(&n.title)
    .bind(&n.body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let event = DomainEvent::NotificationCreated(NotificationStored {
        notification_id: id,
        user_id: n.user_id,
        kind: n.kind,
        ticket_id: n.ticket_id,
        title: n.title.clone(),
    });
    super::events::publish(tx, n.organization_id, &event, now).await
}

/// Up to `limit` of `user`'s notifications, newest first (keyset on
/// (created_at, id) after `before`), only unread ones if asked.
pub async fn page(
    db: &Db,
    user: Uuid,
    unread: bool,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<NotificationItem>, sqlx::Error> {
    let mut q = query(
        "SELECT id, kind, ticket_id, ticket_number, title, body, created_at, read_at \
         FROM notifications WHERE user_id = $1",
    )
    .bind(user);
    if unread {
        q.push(" AND read_at IS NULL");
    }
    if let Some((at, id)) = before {
        q.push(" AND (created_at < ").push_bind(at);
        q.push(" OR (created_at = ").push_bind(at);
        q.push(" AND id < ").push_bind(id).push("))");
    }
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(limit);
    q.fetch_all(db).await
}

pub async fn unread_count(db: &Db, user: Uuid) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        query("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user)
            .fetch_one(db)
            .await?;
    Ok(n)
}

/// Marks `user`'s unread notifications among `ids` (all of them when
/// `ids` is None) read; others' ids change nothing. Returns how many.
pub async fn mark_read(
    tx: &mut Tx,
    user: Uuid,
    ids: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut q =
        query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now)
            .bind(user);
    if let Some(ids) = ids {
        if ids.is_empty() {
            return Ok(0);
        }
        q.push(" AND id IN ").push_list(ids.iter().copied());
    }
    q.execute(tx).await
}

/// The preferences `user` stored (kinds they never chose are absent).
pub async fn preferences(db: &Db, user: Uuid) -> Result<Vec<NotificationPreference>, sqlx::Error> {
    let rows: Vec<(NotificationKind, bool, bool)> =
        query("SELECT kind, email, in_app FROM notification_preferences WHERE user_id = $1")
            .bind(user)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, email, in_app)| NotificationPreference {
            kind,
            email,
            in_app,
        })
        .collect())
}

pub async fn save_preference(
    tx: &mut Tx,
    user: Uuid,
    p: &NotificationPreference,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO notification_preferences (user_id, kind, email, in_app) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email, in_app = excluded.in_app",
    )
    .bind(user)
    .bind(p.kind.as_str())
    .bind(p.email)
    .bind(p.in_app)
    .execute(tx)
    .await?;
    Ok(())
}

/// An organization's changed template: its row id and text.
pub async fn template(
    db: &Db,
    org: Uuid,
    key: MailTemplateKey,
) -> Result<Option<(Uuid, TemplateText)>, sqlx::Error> {
    let row: Option<(Uuid, String, String)> = query(
        "SELECT id, subject, body FROM mail_templates WHERE organization_id = $1 AND template_key = $2",
    )
    .bind(org)
    .bind(key.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, subject, body)| (id, TemplateText { subject, body })))
}

/// Every changed template of an organization.
pub async fn templates(
    db: &Db,
    org: Uuid,
) -> Result<Vec<(MailTemplateKey, TemplateText)>, sqlx::Error> {
    let rows: Vec<(MailTemplateKey, String, String)> =
        query("SELECT template_key, subject, body FROM mail_templates WHERE organization_id = $1")
            .bind(org)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(key, subject, body)| (key, TemplateText { subject, body }))
        .collect())
}

/// Stores an administrator's text for `key`; returns the row's id.
pub async fn save_template(
    tx: &mut Tx,
    org: Uuid,
    key: MailTemplateKey,
    text: &TemplateText,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let (id,): (Uuid,) = query(
        "INSERT INTO mail_templates (id, organization_id, template_key, subject, body, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (organization_id, template_key) DO UPDATE SET subject = excluded.subject, \
         body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at \
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(key.as_str())
    .bind(&text.subject)
    .bind(&text.body)
    .bind(by)
    .bind(now)
    .fetch_one(tx)
    .await?;
    Ok(id)
}

/// Drops the organization's text for `key` (the default applies again).
pub async fn delete_template(
    tx: &mut Tx,
    org: Uuid,
    key: MailTemplateKey,
) -> Result<(), sqlx::Error> {
    query("DELETE FROM mail_templates WHERE organization_id = $1 AND template_key = $2")
        .bind(org)
        .bind(key.as_str())
        .execute(tx)
        .await?;
    Ok(())
}

/// The active managers of an organization (escalations and breaches).
pub async fn managers(db: &Db, org: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    let rows: Vec<(Uuid,)> =
        query("SELECT id FROM users WHERE organization_id = $1 AND role = $2 AND active")
            .bind(org)
            .bind(Role::Manager.as_str())
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
