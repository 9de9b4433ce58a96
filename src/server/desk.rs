//! The desk setup service: teams, skills, categories, custom fields,
//! companies and canned responses (administrators change them, staff read
//! them), and each person's saved views. Handlers are thin shells over this.

use crate::domain::desk::{
    AgentSkill, AssignmentStrategy, CannedResponse, Category, Company, CustomField, FieldKind,
    MAX_CANNED_BODY_LEN, SavedView, Skill, Team, check_field_key, check_field_options, check_name,
};
use crate::domain::{ApiError, Capability, ErrorKind, FieldErrors};
use crate::engine::placeholders;
use crate::engine::ticket_change::FieldChange;
use crate::server::audit::{self, Origin, Owner};
use crate::server::auth::Principal;
use crate::server::db::desk::{self, TeamChanges};
use crate::server::db::{Tx, users};
use crate::server::error::{AppError, AppResult, is_unique_violation};
use crate::server::state::AppState;
use crate::server::ticket_query;
use uuid::Uuid;

/// A 409 on `field` when a unique name is already used; other errors pass.
fn name_taken(field: &'static str) -> impl Fn(sqlx::Error) -> AppError {
    move |e| {
        if is_unique_violation(&e) {
            let mut err = ApiError::new(ErrorKind::Conflict, "That name is already in use");
            err.fields
                .insert(field.into(), "That name is already in use".into());
            err.into()
        } else {
            e.into()
        }
    }
}

/// A setting's audited fields as text, its name (or key, or title) first.
type Snapshot = Vec<(&'static str, Option<String>)>;

/// The audit lines of setting `kind` going from `before` to `after` (None:
/// it did not exist / no longer does). Creation and deletion are one line
/// named `kind` with the setting's name (creation also shows the other
/// fields that have a value); a change is a line `kind.field` per field
/// whose value changed.
fn setting_lines(
    kind: &'static str,
    before: Option<&Snapshot>,
    after: Option<&Snapshot>,
) -> Vec<FieldChange> {
    let name = |s: &Snapshot| s.first().and_then(|(_, v)| v.clone());
    let field = |f: &str| format!("{kind}.{f}");
    match (before, after) {
        (None, Some(after)) => std::iter::once(audit::line(kind, None, name(after)))
            .chain(
                after
                    .iter()
                    .skip(1)
                    .filter(|(_, v)| v.is_some())
                    .map(|(f, v)| audit::line(field(f), None, v.clone())),
            )
            .collect(),
        (Some(before), None) => vec![audit::line(kind, name(before), None)],
        (Some(before), Some(after)) => before
            .iter()
            .zip(after)
            .filter(|((_, old), (_, new))| old != new)
            .map(|((f, old), (_, new))| audit::line(field(f), old.clone(), new.clone()))
            .collect(),
        (None, None) => Vec::new(),
    }
}

/// Audits a change to setting `id` by the caller, in the change's `tx`.
async fn audit_setting(
    tx: &mut Tx,
    caller: &Principal,
    origin: &Origin,
    id: Uuid,
    kind: &'static str,
    before: Option<&Snapshot>,
    after: Option<&Snapshot>,
) -> Result<(), sqlx::Error> {
    let lines = setting_lines(kind, before, after);
    let (org, by) = (Some(caller.org()), caller.user_id());
    audit::record(tx, org, by, origin, Owner::setting(id), &lines).await
}

fn ids_text(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn team_snapshot(name: &str, assignment: AssignmentStrategy, members: &[Uuid]) -> Snapshot {
    vec![
        ("name", Some(name.to_owned())),
        ("assignment", Some(assignment.as_str().to_owned())),
        ("members", (!members.is_empty()).then(|| ids_text(members))),
    ]
}

fn category_snapshot(c: &Category) -> Snapshot {
    vec![
        ("name", Some(c.name.clone())),
        ("team_id", c.team_id.map(|id| id.to_string())),
        ("skill_id", c.skill_id.map(|id| id.to_string())),
    ]
}

fn field_snapshot(f: &CustomField) -> Snapshot {
    vec![
        ("key", Some(f.key.clone())),
        ("label", Some(f.label.clone())),
        ("kind", Some(f.kind.as_str().to_owned())),
        (
            "options",
            (!f.options.is_empty()).then(|| serde_json::to_string(&f.options).unwrap_or_default()),
        ),
        ("required", Some(f.required.to_string())),
        ("customer_visible", Some(f.customer_visible.to_string())),
        ("position", Some(f.position.to_string())),
    ]
}

fn canned_snapshot(c: &CannedResponse) -> Snapshot {
    vec![
        ("title", Some(c.title.clone())),
        ("body", Some(c.body.clone())),
    ]
}

/// Checks that every id is active support staff of the caller's organization.
async fn check_staff_ids(
    state: &AppState,
    org: Uuid,
    ids: &[Uuid],
    field: &str,
    errs: &mut FieldErrors,
) -> AppResult<()> {
    for id in ids {
        let user = users::find_in_org(&state.db, org, *id).await?;
        let ok = user.is_some_and(|u| {
            u.active && crate::domain::policy::permits(u.role, Capability::ChangeTicketFields)
        });
        errs.check(
            ok,
            field,
            "Choose active agents, managers or admins of your organization",
        );
    }
    Ok(())
}

pub async fn teams(state: &AppState, caller: &Principal) -> AppResult<Vec<Team>> {
    caller.require(Capability::ReadDeskSetup)?;
    Ok(desk::teams(&state.db, caller.org()).await?)
}

/// A team as sent by an administrator; `None` leaves a field alone.
#[derive(Default)]
pub struct TeamInput {
    pub name: Option<String>,
    pub assignment: Option<String>,
    pub member_ids: Option<Vec<Uuid>>,
}

/// Creates a team (`id` None) or changes one.
pub async fn save_team(
    state: &AppState,
    caller: &Principal,
    id: Option<Uuid>,
    input: TeamInput,
    origin: &Origin,
) -> AppResult<Team> {
    caller.require(Capability::ManageSettings)?;
    let mut errs = FieldErrors::new();
    let name = match (&input.name, id) {
        (Some(name), _) => Some(check_name(&mut errs, "name", name)),
        (None, None) => Some(check_name(&mut errs, "name", "")),
        (None, Some(_)) => None,
    };
    let assignment = errs.parse(
        "assignment",
        input.assignment.as_deref(),
        AssignmentStrategy::parse,
    );
    let mut members = input.member_ids.clone();
    if let Some(ids) = &mut members {
        ids.sort();
        ids.dedup();
        check_staff_ids(state, caller.org(), ids, "member_ids", &mut errs).await?;
    }
    errs.into_result()?;
    let changes = TeamChanges {
        name: name.as_deref(),
        assignment,
        members: members.as_deref(),
    };
    let team_id = id.unwrap_or_else(Uuid::now_v7);
    let before = match id {
        Some(id) => desk::find_team(&state.db, caller.org(), id).await?,
        None => None,
    }
    .map(|r| r.team);
    let after = team_snapshot(
        changes
            .name
            .or(before.as_ref().map(|t| t.name.as_str()))
            .unwrap_or_default(),
        changes
            .assignment
            .or(before.as_ref().map(|t| t.assignment))
            .unwrap_or(AssignmentStrategy::RoundRobin),
        changes
            .members
            .or(before.as_ref().map(|t| t.member_ids.as_slice()))
            .unwrap_or_default(),
    );
    let before = before.map(|t| team_snapshot(&t.name, t.assignment, &t.member_ids));
    let mut tx = state.db.begin().await?;
    let saved = desk::save_team(&mut tx, caller.org(), team_id, id.is_none(), &changes)
        .await
        .map_err(name_taken("name"))?;
    if saved {
        audit_setting(
            &mut tx,
            caller,
            origin,
            team_id,
            "team",
            before.as_ref(),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
    }
    match (
        saved,
        desk::find_team(&state.db, caller.org(), team_id).await?,
    ) {
        (true, Some(record)) => Ok(record.team),
        _ => Err(ApiError::not_found().into()),
    }
}

pub async fn skills(state: &AppState, caller: &Principal) -> AppResult<Vec<Skill>> {
    caller.require(Capability::ReadDeskSetup)?;
    Ok(desk::skills(&state.db, caller.org()).await?)
}

pub async fn create_skill(
    state: &AppState,
    caller: &Principal,
    name: &str,
    origin: &Origin,
) -> AppResult<Skill> {
    caller.require(Capability::ManageSettings)?;
    let mut errs = FieldErrors::new();
    let name = check_name(&mut errs, "name", name);
    errs.into_result()?;
    let skill = Skill {
        id: Uuid::now_v7(),
        name,
    };
    let mut tx = state.db.begin().await?;
    desk::insert_skill(&mut tx, caller.org(), &skill)
        .await
        .map_err(name_taken("name"))?;
    let after = vec![("name", Some(skill.name.clone()))];
    audit_setting(
        &mut tx,
        caller,
        origin,
        skill.id,
        "skill",
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(skill)
}

pub async fn agent_skills(
    state: &AppState,
    caller: &Principal,
    user: Uuid,
) -> AppResult<Vec<AgentSkill>> {
    caller.require(Capability::ReadDeskSetup)?;
    if users::find_in_org(&state.db, caller.org(), user)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found().into());
    }
    Ok(desk::agent_skills(&state.db, caller.org(), user).await?)
}

/// Replaces an agent's skills (proficiency 1–5 each).
pub async fn set_agent_skills(
    state: &AppState,
    caller: &Principal,
    user: Uuid,
    mut skills: Vec<AgentSkill>,
    origin: &Origin,
) -> AppResult<Vec<AgentSkill>> {
    caller.require(Capability::ManageSettings)?;
    if users::find_in_org(&state.db, caller.org(), user)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found().into());
    }
    let known = desk::skills(&state.db, caller.org()).await?;
    let mut errs = FieldErrors::new();
    skills.sort_by_key(|s| s.skill_id);
    errs.check(
        skills.windows(2).all(|w| w[0].skill_id != w[1].skill_id),
        "skills",
        "List each skill once",
    );
    for (i, s) in skills.iter().enumerate() {
        errs.check(
            known.iter().any(|k| k.id == s.skill_id),
            &format!("skills[{i}].skill_id"),
            "No such skill",
        );
        errs.check(
            (1..=5).contains(&s.proficiency),
            &format!("skills[{i}].proficiency"),
            "Proficiency is 1 (basic) to 5 (expert)",
        );
    }
    errs.into_result()?;
    let text = |list: &[AgentSkill]| {
        list.iter()
            .map(|s| format!("{}:{}", s.skill_id, s.proficiency))
            .collect::<Vec<_>>()
            .join(",")
    };
    let before = desk::agent_skills(&state.db, caller.org(), user).await?;
    let mut tx = state.db.begin().await?;
    desk::set_agent_skills(&mut tx, caller.org(), user, &skills).await?;
    let lines = audit::changes([("skills", Some(text(&before)), Some(text(&skills)))]);
    let (org, by) = (Some(caller.org()), caller.user_id());
    audit::record(&mut tx, org, by, origin, Owner::user(user), &lines).await?;
    tx.commit().await?;
    Ok(skills)
}

/// Categories: customers read them too (the portal form offers them).
pub async fn categories(state: &AppState, caller: &Principal) -> AppResult<Vec<Category>> {
    Ok(desk::categories(&state.db, caller.org()).await?)
}

#[derive(Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    /// `Some(None)` clears the team (likewise the skill).
    pub team_id: Option<Option<Uuid>>,
    pub skill_id: Option<Option<Uuid>>,
}

pub async fn save_category(
    state: &AppState,
    caller: &Principal,
    id: Option<Uuid>,
    input: CategoryInput,
    origin: &Origin,
) -> AppResult<Category> {
    caller.require(Capability::ManageSettings)?;
    let mut category = match id {
        Some(id) => desk::find_category(&state.db, caller.org(), id)
            .await?
            .ok_or_else(ApiError::not_found)?,
        None => Category {
            id: Uuid::now_v7(),
            name: String::new(),
            team_id: None,
            skill_id: None,
        },
    };
    let before = id.map(|_| category_snapshot(&category));
    let mut errs = FieldErrors::new();
    if input.name.is_some() || id.is_none() {
        category.name = check_name(&mut errs, "name", input.name.as_deref().unwrap_or(""));
    }
    if let Some(team) = input.team_id {
        if let Some(team) = team {
            let exists = desk::find_team(&state.db, caller.org(), team)
                .await?
                .is_some();
            errs.check(exists, "team_id", "No such team");
        }
        category.team_id = team;
    }
    if let Some(skill) = input.skill_id {
        if let Some(skill) = skill {
            let known = desk::skills(&state.db, caller.org()).await?;
            errs.check(
                known.iter().any(|k| k.id == skill),
                "skill_id",
                "No such skill",
            );
        }
        category.skill_id = skill;
    }
    errs.into_result()?;
    let mut tx = state.db.begin().await?;
    desk::save_category(&mut tx, caller.org(), &category)
        .await
        .map_err(name_taken("name"))?;
    let after = category_snapshot(&category);
    audit_setting(
        &mut tx,
        caller,
        origin,
        category.id,
        "category",
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(category)
}

/// Custom fields: staff see all, customers the ones shown to them.
pub async fn custom_fields(state: &AppState, caller: &Principal) -> AppResult<Vec<CustomField>> {
    let all = desk::custom_fields(&state.db, caller.org()).await?;
    Ok(if caller.may(Capability::ReadInternalNotes) {
        all
    } else {
        all.into_iter().filter(|f| f.customer_visible).collect()
    })
}

#[derive(Default)]
pub struct FieldInput {
    /// Set on creation only: tickets keep values under the key.
    pub key: Option<String>,
    pub kind: Option<String>,
    pub label: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    pub customer_visible: Option<bool>,
    pub position: Option<i32>,
}

pub async fn save_custom_field(
    state: &AppState,
    caller: &Principal,
    id: Option<Uuid>,
    input: FieldInput,
    origin: &Origin,
) -> AppResult<CustomField> {
    caller.require(Capability::ManageSettings)?;
    let mut errs = FieldErrors::new();
    let mut field = match id {
        Some(id) => {
            let existing = desk::custom_fields(&state.db, caller.org()).await?;
            let field = existing
                .into_iter()
                .find(|f| f.id == id)
                .ok_or_else(ApiError::not_found)?;
            errs.check(
                input.key.as_ref().is_none_or(|k| *k == field.key),
                "key",
                "A field's key cannot change",
            );
            errs.check(
                input.kind.as_ref().is_none_or(|k| k == field.kind.as_str()),
                "kind",
                "A field's kind cannot change",
            );
            field
        }
        None => {
            let key = input.key.clone().unwrap_or_default();
            check_field_key(&mut errs, &key);
            let kind = errs.parse("kind", input.kind.as_deref(), FieldKind::parse);
            errs.check(input.kind.is_some(), "kind", "Choose the kind of field");
            CustomField {
                id: Uuid::now_v7(),
                key,
                label: String::new(),
                kind: kind.unwrap_or(FieldKind::Text),
                options: Vec::new(),
                required: false,
                customer_visible: false,
                position: 0,
            }
        }
    };
    let before = id.map(|_| field_snapshot(&field));
    if input.label.is_some() || id.is_none() {
        field.label = check_name(&mut errs, "label", input.label.as_deref().unwrap_or(""));
    }
    if let Some(options) = input.options {
        field.options = options.into_iter().map(|o| o.trim().to_owned()).collect();
    }
    check_field_options(&mut errs, field.kind, &field.options);
    field.required = input.required.unwrap_or(field.required);
    field.customer_visible = input.customer_visible.unwrap_or(field.customer_visible);
    field.position = input.position.unwrap_or(field.position);
    errs.into_result()?;
    let mut tx = state.db.begin().await?;
    desk::save_custom_field(&mut tx, caller.org(), &field)
        .await
        .map_err(name_taken("key"))?;
    let after = field_snapshot(&field);
    audit_setting(
        &mut tx,
        caller,
        origin,
        field.id,
        "custom_field",
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(field)
}

pub async fn companies(state: &AppState, caller: &Principal) -> AppResult<Vec<Company>> {
    caller.require(Capability::ReadDeskSetup)?;
    Ok(desk::companies(&state.db, caller.org()).await?)
}

pub async fn create_company(
    state: &AppState,
    caller: &Principal,
    name: &str,
    origin: &Origin,
) -> AppResult<Company> {
    caller.require(Capability::ManageSettings)?;
    let mut errs = FieldErrors::new();
    let name = check_name(&mut errs, "name", name);
    errs.into_result()?;
    let company = Company {
        id: Uuid::now_v7(),
        name,
    };
    let mut tx = state.db.begin().await?;
    desk::insert_company(&mut tx, caller.org(), &company)
        .await
        .map_err(name_taken("name"))?;
    let after = vec![("name", Some(company.name.clone()))];
    audit_setting(
        &mut tx,
        caller,
        origin,
        company.id,
        "company",
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(company)
}

/// Puts a person in a company (or none); their new tickets carry it.
pub async fn set_user_company(
    state: &AppState,
    caller: &Principal,
    user: Uuid,
    company: Option<Uuid>,
    origin: &Origin,
) -> AppResult<()> {
    caller.require(Capability::ManageSettings)?;
    if let Some(company) = company {
        let known = desk::companies(&state.db, caller.org()).await?;
        let mut errs = FieldErrors::new();
        errs.check(
            known.iter().any(|c| c.id == company),
            "company_id",
            "No such company",
        );
        errs.into_result()?;
    }
    let mut tx = state.db.begin().await?;
    let Some(before) = desk::user_company(&mut tx, caller.org(), user).await? else {
        return Err(ApiError::not_found().into());
    };
    desk::set_user_company(&mut tx, caller.org(), user, company).await?;
    let text = |c: Option<Uuid>| c.map(|id| id.to_string());
    let lines = audit::changes([("company_id", text(before), text(company))]);
    let (org, by) = (Some(caller.org()), caller.user_id());
    audit::record(&mut tx, org, by, origin, Owner::user(user), &lines).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn canned_responses(
    state: &AppState,
    caller: &Principal,
) -> AppResult<Vec<CannedResponse>> {
    caller.require(Capability::ReadDeskSetup)?;
    Ok(desk::canned_responses(&state.db, caller.org()).await?)
}

/// Creates (`id` None) or replaces a canned response. Unknown placeholders
/// are refused, so a customer never receives a literal `{{…}}`.
pub async fn save_canned_response(
    state: &AppState,
    caller: &Principal,
    id: Option<Uuid>,
    title: &str,
    body: &str,
    origin: &Origin,
) -> AppResult<CannedResponse> {
    caller.require(Capability::ManageSettings)?;
    let before = match id {
        Some(id) => Some(
            desk::find_canned_response(&state.db, caller.org(), id)
                .await?
                .ok_or_else(ApiError::not_found)?,
        ),
        None => None,
    }
    .map(|c| canned_snapshot(&c));
    let mut errs = FieldErrors::new();
    let title = check_name(&mut errs, "title", title);
    errs.check(!body.trim().is_empty(), "body", "Write the response");
    errs.check(
        body.len() <= MAX_CANNED_BODY_LEN,
        "body",
        "The response is too long",
    );
    let unknown = placeholders::unknown(body);
    if !unknown.is_empty() {
        errs.add(
            "body",
            format!(
                "Unknown placeholder {{{{{}}}}}; use one of: {}",
                unknown[0],
                placeholders::PLACEHOLDERS.join(", ")
            ),
        );
    }
    errs.into_result()?;
    let canned = CannedResponse {
        id: id.unwrap_or_else(Uuid::now_v7),
        title,
        body: body.to_owned(),
    };
    let mut tx = state.db.begin().await?;
    desk::save_canned_response(&mut tx, caller.org(), &canned)
        .await
        .map_err(name_taken("title"))?;
    let after = canned_snapshot(&canned);
    let kind = "canned_response";
    audit_setting(
        &mut tx,
        caller,
        origin,
        canned.id,
        kind,
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(canned)
}

pub async fn delete_canned_response(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    origin: &Origin,
) -> AppResult<()> {
    caller.require(Capability::ManageSettings)?;
    let Some(before) = desk::find_canned_response(&state.db, caller.org(), id).await? else {
        return Err(ApiError::not_found().into());
    };
    let mut tx = state.db.begin().await?;
    if !desk::delete_canned_response(&mut tx, caller.org(), id).await? {
        return Err(ApiError::not_found().into());
    }
    let before = canned_snapshot(&before);
    audit_setting(
        &mut tx,
        caller,
        origin,
        id,
        "canned_response",
        Some(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person's own views of the ticket queues.
fn view_owner(caller: &Principal) -> Result<Uuid, ApiError> {
    caller.require(Capability::ReadAllTickets)?;
    Ok(caller.person()?.id)
}

pub async fn saved_views(state: &AppState, caller: &Principal) -> AppResult<Vec<SavedView>> {
    let owner = view_owner(caller)?;
    Ok(desk::saved_views(&state.db, caller.org(), owner).await?)
}

pub const MAX_VIEW_QUERY_LEN: usize = 2_000;

/// Saves a queue's filters (its query string) under a name.
pub async fn create_saved_view(
    state: &AppState,
    caller: &Principal,
    name: &str,
    query: &str,
) -> AppResult<SavedView> {
    let owner = view_owner(caller)?;
    let mut errs = FieldErrors::new();
    let name = check_name(&mut errs, "name", name);
    let query = query.trim().trim_start_matches('?');
    errs.check(
        query.len() <= MAX_VIEW_QUERY_LEN,
        "query",
        "The filters are too long",
    );
    // Only filters the ticket list understands (a cursor is a position, not a filter).
    let parsed = ticket_query::from_query_string(query)
        .and_then(|q| ticket_query::parse(&q, caller).map(|_| q));
    match parsed {
        Ok(q) => errs.check(q.cursor.is_none(), "query", "A view cannot hold a cursor"),
        Err(e) => errs.add(
            "query",
            e.fields.values().next().cloned().unwrap_or(e.error),
        ),
    }
    errs.into_result()?;
    let view = SavedView {
        id: Uuid::now_v7(),
        name,
        query: query.to_owned(),
    };
    desk::insert_saved_view(&state.db, caller.org(), owner, &view).await?;
    Ok(view)
}

pub async fn delete_saved_view(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<()> {
    let owner = view_owner(caller)?;
    if desk::delete_saved_view(&state.db, caller.org(), owner, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(
        before: Option<&Snapshot>,
        after: Option<&Snapshot>,
    ) -> Vec<(String, Option<String>, Option<String>)> {
        setting_lines("team", before, after)
            .into_iter()
            .map(|l| (l.field.into_owned(), l.old, l.new))
            .collect()
    }

    #[test]
    fn settings_are_audited_as_created_changed_and_deleted() {
        let s = |v: &str| Some(v.to_owned());
        let old: Snapshot = vec![
            ("name", s("Support")),
            ("assignment", s("round_robin")),
            ("members", None),
        ];
        let new: Snapshot = vec![
            ("name", s("Help")),
            ("assignment", s("round_robin")),
            ("members", s("a,b")),
        ];
        assert_eq!(
            lines(None, Some(&old)),
            [
                ("team".into(), None, s("Support")),
                ("team.assignment".into(), None, s("round_robin")),
            ]
        );
        assert_eq!(
            lines(Some(&old), Some(&new)),
            [
                ("team.name".into(), s("Support"), s("Help")),
                ("team.members".into(), None, s("a,b")),
            ]
        );
        assert_eq!(lines(Some(&new), None), [("team".into(), s("Help"), None)]);
        assert!(lines(Some(&new), Some(&new)).is_empty());
    }
}
