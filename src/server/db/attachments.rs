//! Attachment metadata. Rows are written inside ticket changes (see
//! `tickets::insert` and `tickets::apply`), through `insert`; and read here.

use super::{Db, Tx, query};
use crate::domain::attachment::Attachment;
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

/// Records `file` on ticket `ticket` inside the open transaction `tx`.
pub async fn insert(
    tx: &mut Tx,
    org: Uuid,
    ticket: Uuid,
    file: &NewAttachment,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO attachments \
         (id, organization_id, ticket_id, uploader_id, filename, content_type, size, public, storage_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(file.id)
    .bind(org)
    .bind(ticket)
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

const COLUMNS: &str =
    "id, ticket_id, filename, content_type, size, public, uploader_id, created_at";

/// A ticket's files, oldest first; internal ones only when asked.
pub async fn for_ticket(
    db: &Db,
    org: Uuid,
    ticket: Uuid,
    include_internal: bool,
) -> Result<Vec<Attachment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments \
         WHERE ticket_id = $1 AND organization_id = $2 AND (public OR $3) ORDER BY created_at, id"
    );
    query(sql)
        .bind(ticket)
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
