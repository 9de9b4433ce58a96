//! Attachment metadata, keyed by owner (`owner_type`, `owner_id`: a ticket
//! today, later a work order or a service report). Rows are written inside
//! the owner's change (see `tickets::insert` and `tickets::apply`), through
//! `insert`; and read here. Who may see a file is the owner's service's
//! decision (a ticket's internal files: staff only).

use super::{Db, Tx, query};
use crate::domain::attachment::Attachment;
use crate::domain::audit::OwnerType;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A file about to be recorded; its bytes are already in the store.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: Uuid,
    pub uploader_id: Option<Uuid>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub public: bool,
    pub storage_key: String,
}

/// Records `file` on `owner` (its type and id) inside the open transaction `tx`.
pub async fn insert(
    tx: &mut Tx,
    org: Uuid,
    owner: (OwnerType, Uuid),
    file: &NewAttachment,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO attachments \
         (id, organization_id, owner_type, owner_id, uploader_id, filename, content_type, size, public, storage_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(file.id)
    .bind(org)
    .bind(owner.0.as_str())
    .bind(owner.1)
    .bind(file.uploader_id)
    .bind(&file.filename)
    .bind(&file.content_type)
    .bind(file.size)
    .bind(file.public)
    .bind(&file.storage_key)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

/// `ticket_id` is derived for the JSON of a ticket's file (clients of the
/// first API version read it).
const COLUMNS: &str = "id, owner_type, owner_id, \
     CASE WHEN owner_type = 'ticket' THEN owner_id END AS ticket_id, \
     filename, content_type, size, public, uploader_id, created_at";

/// A ticket's files, oldest first; internal ones only when asked.
pub async fn for_ticket(
    db: &Db,
    org: Uuid,
    ticket: Uuid,
    include_internal: bool,
) -> Result<Vec<Attachment>, sqlx::Error> {
    for_owner(db, org, (OwnerType::Ticket, ticket), include_internal).await
}

/// An owner's files, oldest first; internal ones only when asked.
pub async fn for_owner(
    db: &Db,
    org: Uuid,
    owner: (OwnerType, Uuid),
    include_internal: bool,
) -> Result<Vec<Attachment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments \
         WHERE owner_type = $1 AND owner_id = $2 AND organization_id = $3 AND (public OR $4) \
         ORDER BY created_at, id"
    );
    query(sql)
        .bind(owner.0.as_str())
        .bind(owner.1)
        .bind(org)
        .bind(include_internal)
        .fetch_all(db)
        .await
}

/// One file of `org`, with where its bytes are.
pub async fn find(
    db: &Db,
    org: Uuid,
    id: Uuid,
) -> Result<Option<(Attachment, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        attachment: Attachment,
        storage_key: String,
    }
    let sql = format!(
        "SELECT {COLUMNS}, storage_key FROM attachments WHERE id = $1 AND organization_id = $2"
    );
    let row: Option<Row> = query(sql).bind(id).bind(org).fetch_optional(db).await?;
    Ok(row.map(|r| (r.attachment, r.storage_key)))
}

/// Which of `ids` (files of `org`) customers may see.
pub async fn public_among(db: &Db, org: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q =
        query("SELECT id FROM attachments WHERE organization_id = $1 AND public = TRUE AND id IN ")
            .bind(org);
    q.push_list(ids.iter().copied());
    let rows: Vec<(Uuid,)> = q.fetch_all(db).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
