//! Attachment metadata. Rows are written inside ticket changes (see
//! `tickets::insert` and `tickets::apply`); here are the reads.

use super::{Db, on_db};
use crate::domain::attachment::Attachment;
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

pub(super) const INSERT_ATTACHMENT: &str = "INSERT INTO attachments \
     (id, organization_id, ticket_id, uploader_id, filename, content_type, size, public, storage_key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

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
    on_db!(db, pool => sqlx::query_as(&sql)
        .bind(ticket)
        .bind(org)
        .bind(include_internal)
        .fetch_all(pool)
        .await)
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
    let row: Option<Row> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .bind(org)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| (r.attachment, r.storage_key)))
}
