//! Desk setup: `/teams`, `/skills`, `/users/{id}/skills`,
//! `/users/{id}/company`, `/categories`, `/ticket-fields`, `/companies`,
//! `/canned-responses`, `/views`. Lists answer `{items, next_cursor: null}`
//! (they are short), changes answer the saved object.

use super::{ApiJson, Page, path_id, present};
use crate::domain::desk::{
    AgentSkill, CannedResponse, Category, Company, CustomField, SavedView, Skill, Team,
};
use crate::server::auth::Caller;
use crate::server::desk::{self, CategoryInput, FieldInput, TeamInput};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams", get(teams).post(create_team))
        .route("/teams/{id}", patch(update_team))
        .route("/skills", get(skills).post(create_skill))
        .route(
            "/users/{id}/skills",
            get(agent_skills).put(set_agent_skills),
        )
        .route("/users/{id}/company", put(set_company))
        .route("/categories", get(categories).post(create_category))
        .route("/categories/{id}", patch(update_category))
        .route("/ticket-fields", get(fields).post(create_field))
        .route("/ticket-fields/{id}", patch(update_field))
        .route("/companies", get(companies).post(create_company))
        .route("/canned-responses", get(canned).post(create_canned))
        .route(
            "/canned-responses/{id}",
            patch(update_canned).delete(delete_canned),
        )
        .route("/views", get(views).post(create_view))
        .route("/views/{id}", axum::routing::delete(delete_view))
}

fn page<T>(items: Vec<T>) -> Json<Page<T>> {
    Json(Page {
        items,
        next_cursor: None,
    })
}

async fn teams(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<Team>>> {
    Ok(page(desk::teams(&s, &c.claims).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    name: Option<String>,
    assignment: Option<String>,
    member_ids: Option<Vec<Uuid>>,
}

impl From<TeamBody> for TeamInput {
    fn from(b: TeamBody) -> Self {
        TeamInput {
            name: b.name,
            assignment: b.assignment,
            member_ids: b.member_ids,
        }
    }
}

async fn create_team(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(body): ApiJson<TeamBody>,
) -> AppResult<(StatusCode, Json<Team>)> {
    let team = desk::save_team(&s, &c.claims, None, body.into()).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

async fn update_team(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TeamBody>,
) -> AppResult<Json<Team>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_team(&s, &c.claims, Some(id), body.into()).await?,
    ))
}

#[derive(Deserialize)]
struct NameBody {
    #[serde(default)]
    name: String,
}

async fn skills(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<Skill>>> {
    Ok(page(desk::skills(&s, &c.claims).await?))
}

async fn create_skill(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(body): ApiJson<NameBody>,
) -> AppResult<(StatusCode, Json<Skill>)> {
    let skill = desk::create_skill(&s, &c.claims, &body.name).await?;
    Ok((StatusCode::CREATED, Json(skill)))
}

async fn agent_skills(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<AgentSkill>>> {
    Ok(page(
        desk::agent_skills(&s, &c.claims, path_id(&id)?).await?,
    ))
}

#[derive(Deserialize)]
struct AgentSkillsBody {
    #[serde(default)]
    skills: Vec<AgentSkill>,
}

/// Replaces the agent's skills: `{"skills": [{"skill_id", "proficiency"}]}`.
async fn set_agent_skills(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentSkillsBody>,
) -> AppResult<Json<Page<AgentSkill>>> {
    let id = path_id(&id)?;
    Ok(page(
        desk::set_agent_skills(&s, &c.claims, id, body.skills).await?,
    ))
}

#[derive(Deserialize)]
struct CompanyBody {
    company_id: Option<Uuid>,
}

/// `{"company_id": <id> | null}`.
async fn set_company(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompanyBody>,
) -> AppResult<StatusCode> {
    desk::set_user_company(&s, &c.claims, path_id(&id)?, body.company_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn categories(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<Category>>> {
    Ok(page(desk::categories(&s, &c.claims).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    team_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    skill_id: Option<Option<Uuid>>,
}

impl From<CategoryBody> for CategoryInput {
    fn from(b: CategoryBody) -> Self {
        CategoryInput {
            name: b.name,
            team_id: b.team_id,
            skill_id: b.skill_id,
        }
    }
}

async fn create_category(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(body): ApiJson<CategoryBody>,
) -> AppResult<(StatusCode, Json<Category>)> {
    let category = desk::save_category(&s, &c.claims, None, body.into()).await?;
    Ok((StatusCode::CREATED, Json(category)))
}

async fn update_category(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CategoryBody>,
) -> AppResult<Json<Category>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_category(&s, &c.claims, Some(id), body.into()).await?,
    ))
}

async fn fields(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<CustomField>>> {
    Ok(page(desk::custom_fields(&s, &c.claims).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldBody {
    key: Option<String>,
    kind: Option<String>,
    label: Option<String>,
    options: Option<Vec<String>>,
    required: Option<bool>,
    customer_visible: Option<bool>,
    position: Option<i32>,
}

impl From<FieldBody> for FieldInput {
    fn from(b: FieldBody) -> Self {
        FieldInput {
            key: b.key,
            kind: b.kind,
            label: b.label,
            options: b.options,
            required: b.required,
            customer_visible: b.customer_visible,
            position: b.position,
        }
    }
}

async fn create_field(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(body): ApiJson<FieldBody>,
) -> AppResult<(StatusCode, Json<CustomField>)> {
    let field = desk::save_custom_field(&s, &c.claims, None, body.into()).await?;
    Ok((StatusCode::CREATED, Json(field)))
}

async fn update_field(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FieldBody>,
) -> AppResult<Json<CustomField>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_custom_field(&s, &c.claims, Some(id), body.into()).await?,
    ))
}

async fn companies(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<Company>>> {
    Ok(page(desk::companies(&s, &c.claims).await?))
}

async fn create_company(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(body): ApiJson<NameBody>,
) -> AppResult<(StatusCode, Json<Company>)> {
    let company = desk::create_company(&s, &c.claims, &body.name).await?;
    Ok((StatusCode::CREATED, Json(company)))
}

async fn canned(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<CannedResponse>>> {
    Ok(page(desk::canned_responses(&s, &c.claims).await?))
}

#[derive(Deserialize)]
struct CannedBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn create_canned(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(b): ApiJson<CannedBody>,
) -> AppResult<(StatusCode, Json<CannedResponse>)> {
    let canned = desk::save_canned_response(&s, &c.claims, None, &b.title, &b.body).await?;
    Ok((StatusCode::CREATED, Json(canned)))
}

async fn update_canned(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CannedBody>,
) -> AppResult<Json<CannedResponse>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_canned_response(&s, &c.claims, Some(id), &b.title, &b.body).await?,
    ))
}

async fn delete_canned(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    desk::delete_canned_response(&s, &c.claims, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn views(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<SavedView>>> {
    Ok(page(desk::saved_views(&s, &c.claims).await?))
}

#[derive(Deserialize)]
struct ViewBody {
    #[serde(default)]
    name: String,
    /// The `GET /tickets` query string of the view's filters.
    #[serde(default)]
    query: String,
}

async fn create_view(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(b): ApiJson<ViewBody>,
) -> AppResult<(StatusCode, Json<SavedView>)> {
    let view = desk::create_saved_view(&s, &c.claims, &b.name, &b.query).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn delete_view(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    desk::delete_saved_view(&s, &c.claims, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
