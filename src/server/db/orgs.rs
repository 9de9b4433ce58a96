//! Organizations (tenants).

use super::{Db, on_db, on_db_write};
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
    on_db_write!(db, pool => sqlx::query(
        "INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org.id)
    .bind(&org.slug)
    .bind(&org.name)
    .bind(org.created_at)
    .execute(pool)
    .await
        .map(|_| ()))?;
    Ok(org)
}

/// The organization with this slug (its portal name), if any.
pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Organization>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, slug, name, created_at FROM organizations WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await)
}

/// Whether the database holds any tenant yet (demo seeding only runs on an empty one).
pub async fn any_exist(db: &Db) -> Result<bool, sqlx::Error> {
    let found: Option<(Uuid,)> = on_db!(db, pool =>
        sqlx::query_as("SELECT id FROM organizations LIMIT 1").fetch_optional(pool).await)?;
    Ok(found.is_some())
}
