//! How an organization's desk is set up: teams and their members, skills,
//! categories, custom ticket fields, companies, canned responses, saved
//! views, and managers' ratings of agents. Every query is scoped by
//! organization.

use super::{Db, Record, Tx, json, query};
use crate::domain::desk::{
    AgentRating, AgentSkill, AssignmentStrategy, CannedResponse, Category, Company, CustomField,
    FieldKind, SavedView, Skill, Team,
};
use crate::engine::assignment::Candidate;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    name: String,
    assignment: AssignmentStrategy,
    created_at: DateTime<Utc>,
    last_assignee_id: Option<Uuid>,
}

/// A team with its members, and the member who got its last ticket.
pub struct TeamRecord {
    pub team: Team,
    pub last_assignee_id: Option<Uuid>,
}

pub async fn teams(db: &Db, org: Uuid) -> Result<Vec<Team>, sqlx::Error> {
    let rows: Vec<TeamRow> = query(
        "SELECT id, name, assignment, created_at, last_assignee_id FROM teams WHERE organization_id = $1 ORDER BY lower(name)",
    )
    .bind(org)
    .fetch_all(db)
    .await?;
    let members = memberships(db, "m.organization_id", org).await?;
    Ok(rows
        .into_iter()
        .map(|row| into_team(row, &members))
        .collect())
}

/// (team, user) pairs of the memberships whose `column` (ours, never input)
/// is `value`, each team's members in name order.
async fn memberships(
    db: &Db,
    column: &'static str,
    value: Uuid,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    query(format!(
        "SELECT m.team_id, m.user_id FROM team_members m JOIN users u ON u.id = m.user_id \
         WHERE {column} = $1 ORDER BY lower(u.name), u.id"
    ))
    .bind(value)
    .fetch_all(db)
    .await
}

fn into_team(row: TeamRow, members: &[(Uuid, Uuid)]) -> Team {
    Team {
        member_ids: members
            .iter()
            .filter(|(team, _)| *team == row.id)
            .map(|(_, user)| *user)
            .collect(),
        assignment: row.assignment,
        id: row.id,
        name: row.name,
        created_at: row.created_at,
    }
}

pub async fn find_team(db: &Db, org: Uuid, id: Uuid) -> Result<Option<TeamRecord>, sqlx::Error> {
    let found: Option<TeamRow> = query(
        "SELECT id, name, assignment, created_at, last_assignee_id FROM teams WHERE id = $1 AND organization_id = $2",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(db)
    .await?;
    let Some(row) = found else {
        return Ok(None);
    };
    let members = memberships(db, "m.team_id", id).await?;
    let last_assignee_id = row.last_assignee_id;
    Ok(Some(TeamRecord {
        team: into_team(row, &members),
        last_assignee_id,
    }))
}

/// What a team is saved as; `members` replaces the whole membership.
pub struct TeamChanges<'a> {
    pub name: Option<&'a str>,
    pub assignment: Option<AssignmentStrategy>,
    pub members: Option<&'a [Uuid]>,
}

/// Creates (`create`) or changes team `id`, with its members, in the
/// caller's transaction. False if there is no such team to change.
pub async fn save_team(
    tx: &mut Tx,
    org: Uuid,
    id: Uuid,
    create: bool,
    changes: &TeamChanges<'_>,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let written = if create {
        query("INSERT INTO teams (id, organization_id, name, assignment, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(org)
            .bind(changes.name.unwrap_or_default())
            .bind(changes.assignment.unwrap_or(AssignmentStrategy::RoundRobin).as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
    } else {
        query("UPDATE teams SET name = COALESCE($1, name), assignment = COALESCE($2, assignment) WHERE id = $3 AND organization_id = $4")
            .bind(changes.name)
            .bind(changes.assignment.map(AssignmentStrategy::as_str))
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?
    };
    if written == 0 {
        return Ok(false);
    }
    if let Some(members) = changes.members {
        query("DELETE FROM team_members WHERE team_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for user in members {
            query(
                "INSERT INTO team_members (team_id, user_id, organization_id) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(user)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(true)
}

/// Remembers who got the team's last ticket (round-robin's turn).
pub async fn set_last_assignee(db: &Db, team: Uuid, user: Uuid) -> Result<(), sqlx::Error> {
    query("UPDATE teams SET last_assignee_id = $1 WHERE id = $2")
        .bind(user)
        .bind(team)
        .execute(db.writer())
        .await
        .map(|_| ())
}

/// The active agents of a team in turn order, with their open workload and
/// their proficiency in `skill`.
pub async fn candidates(
    db: &Db,
    org: Uuid,
    team: Uuid,
    skill: Option<Uuid>,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let rows: Vec<(Uuid, i64, Option<i32>)> = query(
        "SELECT u.id, \
           (SELECT COUNT(*) FROM tickets t WHERE t.organization_id = $1 AND t.assignee_id = u.id \
              AND t.deleted_at IS NULL AND t.status IN ('new', 'open', 'pending', 'on_hold')), \
           (SELECT s.proficiency FROM agent_skills s WHERE s.user_id = u.id AND s.skill_id = $3) \
         FROM team_members m JOIN users u ON u.id = m.user_id \
         WHERE m.team_id = $2 AND m.organization_id = $1 AND u.active \
           AND u.role IN ('agent', 'manager', 'admin') \
         ORDER BY lower(u.name), u.id",
    )
    .bind(org)
    .bind(team)
    .bind(skill)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, open_tickets, proficiency)| Candidate {
            user_id,
            open_tickets,
            proficiency,
        })
        .collect())
}

/// Lists the rows of a simple named setup table, by name.
async fn list_named<T: Record>(db: &Db, org: Uuid, sql: &str) -> Result<Vec<T>, sqlx::Error> {
    query(sql).bind(org).fetch_all(db).await
}

pub async fn skills(db: &Db, org: Uuid) -> Result<Vec<Skill>, sqlx::Error> {
    list_named(
        db,
        org,
        "SELECT id, name FROM skills WHERE organization_id = $1 ORDER BY lower(name)",
    )
    .await
}

pub async fn insert_skill(tx: &mut Tx, org: Uuid, skill: &Skill) -> Result<(), sqlx::Error> {
    query("INSERT INTO skills (id, organization_id, name) VALUES ($1, $2, $3)")
        .bind(skill.id)
        .bind(org)
        .bind(&skill.name)
        .execute(tx)
        .await
        .map(|_| ())
}

pub async fn agent_skills(db: &Db, org: Uuid, user: Uuid) -> Result<Vec<AgentSkill>, sqlx::Error> {
    query(
        "SELECT skill_id, proficiency FROM agent_skills WHERE user_id = $1 AND organization_id = $2 ORDER BY skill_id",
    )
    .bind(user)
    .bind(org)
    .fetch_all(db)
    .await
}

/// Replaces an agent's skills, in the caller's transaction.
pub async fn set_agent_skills(
    tx: &mut Tx,
    org: Uuid,
    user: Uuid,
    skills: &[AgentSkill],
) -> Result<(), sqlx::Error> {
    query("DELETE FROM agent_skills WHERE user_id = $1 AND organization_id = $2")
        .bind(user)
        .bind(org)
        .execute(&mut *tx)
        .await?;
    for s in skills {
        query("INSERT INTO agent_skills (user_id, skill_id, organization_id, proficiency) VALUES ($1, $2, $3, $4)")
            .bind(user)
            .bind(s.skill_id)
            .bind(org)
            .bind(s.proficiency)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

pub async fn categories(db: &Db, org: Uuid) -> Result<Vec<Category>, sqlx::Error> {
    list_named(
        db,
        org,
        "SELECT id, name, team_id, skill_id FROM categories WHERE organization_id = $1 ORDER BY lower(name)",
    )
    .await
}

pub async fn find_category(db: &Db, org: Uuid, id: Uuid) -> Result<Option<Category>, sqlx::Error> {
    query(
        "SELECT id, name, team_id, skill_id FROM categories WHERE id = $1 AND organization_id = $2",
    )
    .bind(id)
    .bind(org)
    .fetch_optional(db)
    .await
}

/// Inserts a category, or replaces the one with its id.
pub async fn save_category(tx: &mut Tx, org: Uuid, c: &Category) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO categories (id, organization_id, name, team_id, skill_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, team_id = excluded.team_id, skill_id = excluded.skill_id \
         WHERE categories.organization_id = excluded.organization_id",
    )
    .bind(c.id)
    .bind(org)
    .bind(&c.name)
    .bind(c.team_id)
    .bind(c.skill_id)
    .bind(Utc::now())
    .execute(tx)
    .await
    .map(|_| ())
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: Uuid,
    key: String,
    label: String,
    kind: FieldKind,
    options: Json<Vec<String>>,
    required: bool,
    customer_visible: bool,
    position: i32,
}

pub async fn custom_fields(db: &Db, org: Uuid) -> Result<Vec<CustomField>, sqlx::Error> {
    let rows: Vec<FieldRow> = list_named(
        db,
        org,
        "SELECT id, key, label, kind, options, required, customer_visible, position \
         FROM custom_fields WHERE organization_id = $1 ORDER BY position, created_at",
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CustomField {
            id: r.id,
            key: r.key,
            label: r.label,
            kind: r.kind,
            options: r.options.0,
            required: r.required,
            customer_visible: r.customer_visible,
            position: r.position,
        })
        .collect())
}

/// Inserts a custom field, or replaces the one with its id (the service
/// keeps its key and kind: tickets hold values under them).
pub async fn save_custom_field(tx: &mut Tx, org: Uuid, f: &CustomField) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO custom_fields (id, organization_id, key, kind, label, options, required, customer_visible, position, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (id) DO UPDATE SET label = excluded.label, options = excluded.options, required = excluded.required, \
         customer_visible = excluded.customer_visible, position = excluded.position \
         WHERE custom_fields.organization_id = excluded.organization_id",
    )
    .bind(f.id)
    .bind(org)
    .bind(&f.key)
    .bind(f.kind.as_str())
    .bind(&f.label)
    .bind(json(&f.options))
    .bind(f.required)
    .bind(f.customer_visible)
    .bind(f.position)
    .bind(Utc::now())
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn companies(db: &Db, org: Uuid) -> Result<Vec<Company>, sqlx::Error> {
    list_named(
        db,
        org,
        "SELECT id, name FROM companies WHERE organization_id = $1 ORDER BY lower(name)",
    )
    .await
}

pub async fn insert_company(tx: &mut Tx, org: Uuid, company: &Company) -> Result<(), sqlx::Error> {
    query("INSERT INTO companies (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(company.id)
        .bind(org)
        .bind(&company.name)
        .bind(Utc::now())
        .execute(tx)
        .await
        .map(|_| ())
}

/// The company a user of `org` is in (None: no such user; Some(None): none).
pub async fn user_company(
    tx: &mut Tx,
    org: Uuid,
    user: Uuid,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    let row: Option<(Option<Uuid>,)> =
        query("SELECT company_id FROM users WHERE id = $1 AND organization_id = $2")
            .bind(user)
            .bind(org)
            .fetch_optional(tx)
            .await?;
    Ok(row.map(|(company,)| company))
}

/// Puts a user in a company (or none). False if `org` has no such user.
pub async fn set_user_company(
    tx: &mut Tx,
    org: Uuid,
    user: Uuid,
    company: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    query("UPDATE users SET company_id = $1 WHERE id = $2 AND organization_id = $3")
        .bind(company)
        .bind(user)
        .bind(org)
        .execute(tx)
        .await
        .map(|n| n == 1)
}

pub async fn canned_responses(db: &Db, org: Uuid) -> Result<Vec<CannedResponse>, sqlx::Error> {
    list_named(
        db,
        org,
        "SELECT id, title, body FROM canned_responses WHERE organization_id = $1 ORDER BY lower(title)",
    )
    .await
}

pub async fn find_canned_response(
    db: &Db,
    org: Uuid,
    id: Uuid,
) -> Result<Option<CannedResponse>, sqlx::Error> {
    query("SELECT id, title, body FROM canned_responses WHERE id = $1 AND organization_id = $2")
        .bind(id)
        .bind(org)
        .fetch_optional(db)
        .await
}

/// Inserts a canned response, or replaces the one with its id.
pub async fn save_canned_response(
    tx: &mut Tx,
    org: Uuid,
    c: &CannedResponse,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO canned_responses (id, organization_id, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at \
         WHERE canned_responses.organization_id = excluded.organization_id",
    )
    .bind(c.id)
    .bind(org)
    .bind(&c.title)
    .bind(&c.body)
    .bind(Utc::now())
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn delete_canned_response(tx: &mut Tx, org: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    query("DELETE FROM canned_responses WHERE id = $1 AND organization_id = $2")
        .bind(id)
        .bind(org)
        .execute(tx)
        .await
        .map(|n| n == 1)
}

/// A person's saved views.
pub async fn saved_views(db: &Db, org: Uuid, owner: Uuid) -> Result<Vec<SavedView>, sqlx::Error> {
    query(
        "SELECT id, name, query FROM saved_views WHERE organization_id = $1 AND owner_id = $2 ORDER BY lower(name), id",
    )
    .bind(org)
    .bind(owner)
    .fetch_all(db)
    .await
}

pub async fn insert_saved_view(
    db: &Db,
    org: Uuid,
    owner: Uuid,
    view: &SavedView,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO saved_views (id, organization_id, owner_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(view.id)
    .bind(org)
    .bind(owner)
    .bind(&view.name)
    .bind(&view.query)
    .bind(Utc::now())
    .execute(db.writer())
    .await
    .map(|_| ())
}

/// Deletes one of `owner`'s views. False if they have no such view.
pub async fn delete_saved_view(
    db: &Db,
    org: Uuid,
    owner: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    query("DELETE FROM saved_views WHERE id = $1 AND organization_id = $2 AND owner_id = $3")
        .bind(id)
        .bind(org)
        .bind(owner)
        .execute(db.writer())
        .await
        .map(|n| n == 1)
}

/// Records (or replaces) a manager's rating of an agent on a ticket.
pub async fn upsert_agent_rating(
    db: &Db,
    org: Uuid,
    rating: &AgentRating,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO agent_ratings (id, organization_id, ticket_id, agent_id, rated_by, score, comment, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (ticket_id, agent_id) DO UPDATE SET rated_by = excluded.rated_by, \
         score = excluded.score, comment = excluded.comment, created_at = excluded.created_at",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(rating.ticket_id)
    .bind(rating.agent_id)
    .bind(rating.rated_by)
    .bind(rating.score)
    .bind(rating.comment.as_deref())
    .bind(rating.created_at)
    .execute(db.writer())
    .await
    .map(|_| ())
}

pub async fn agent_ratings(
    db: &Db,
    org: Uuid,
    ticket: Uuid,
) -> Result<Vec<AgentRating>, sqlx::Error> {
    query(
        "SELECT ticket_id, agent_id, rated_by, score, comment, created_at FROM agent_ratings \
         WHERE organization_id = $1 AND ticket_id = $2 ORDER BY created_at",
    )
    .bind(org)
    .bind(ticket)
    .fetch_all(db)
    .await
}
