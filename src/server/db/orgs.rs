//! Organizations (tenants).

use super::{Db, query};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organization {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(db: &Db, slug: &str, name: &str) -> Result<Organization, sqlx::Error> {
    let org = Organization {
        id: Uuid::now_v7(),
        slug: slug.to_owned(),
        name: name.to_owned(),
        created_at: Utc::now(),
    };
    query("INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .execute(db.writer())
        .await?;
    Ok(org)
}

/// The organization with this slug (its portal name), if any.
pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Organization>, sqlx::Error> {
    query("SELECT id, slug, name, created_at FROM organizations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(db)
        .await
}

/// Whether the database holds any tenant yet (demo seeding only runs on an empty one).
pub async fn any_exist(db: &Db) -> Result<bool, sqlx::Error> {
    let found: Option<(Uuid,)> = query("SELECT id FROM organizations LIMIT 1")
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}
