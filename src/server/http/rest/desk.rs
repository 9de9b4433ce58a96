//! Desk setup: `/teams`, `/skills`, `/users/{id}/skills`,
//! `/users/{id}/company`, `/categories`, `/ticket-fields`, `/companies`,
//! `/canned-responses`, `/views`. Lists answer `{items, next_cursor: null}`
//! (they are short), changes answer the saved object.

use super::{ApiJson, Page, path_id, present, whole_page};
use crate::domain::ApiError;
use crate::domain::desk::{
    AgentSkill, AssignmentStrategy, CannedResponse, Category, Company, CustomField, FieldKind,
    SavedView, Skill, Team,
};
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::desk::{self, CategoryInput, FieldInput, TeamInput};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
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

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(
    teams,
    create_team,
    update_team,
    skills,
    create_skill,
    agent_skills,
    set_agent_skills,
    set_company,
    categories,
    create_category,
    update_category,
    fields,
    create_field,
    update_field,
    companies,
    create_company,
    canned,
    create_canned,
    update_canned,
    delete_canned,
    views,
    create_view,
    delete_view
))]
pub struct Api;

#[utoipa::path(get, path = "/teams", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The teams", body = Page<Team>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
    ))]
async fn teams(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<Team>>> {
    Ok(whole_page(desk::teams(&s, &c.principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TeamInput)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    name: Option<String>,
    #[schema(value_type = Option<AssignmentStrategy>)]
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

#[utoipa::path(post, path = "/teams", tag = "desk", security(("bearer" = [])),
    request_body = TeamBody,
    responses(
        (status = 201, description = "The new team", body = Team),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_team(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<TeamBody>,
) -> AppResult<(StatusCode, Json<Team>)> {
    let team = desk::save_team(&s, &c.principal, None, body.into(), &o).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

#[utoipa::path(patch, path = "/teams/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Team id")),
    request_body = TeamBody,
    responses(
        (status = 200, description = "The changed team", body = Team),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 404, description = "No such team in the organization", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn update_team(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TeamBody>,
) -> AppResult<Json<Team>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_team(&s, &c.principal, Some(id), body.into(), &o).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewName)]
struct NameBody {
    #[serde(default)]
    name: String,
}

#[utoipa::path(get, path = "/skills", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The skills", body = Page<Skill>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
    ))]
async fn skills(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<Skill>>> {
    Ok(whole_page(desk::skills(&s, &c.principal).await?))
}

#[utoipa::path(post, path = "/skills", tag = "desk", security(("bearer" = [])),
    request_body = NameBody,
    responses(
        (status = 201, description = "The new skill", body = Skill),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_skill(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<NameBody>,
) -> AppResult<(StatusCode, Json<Skill>)> {
    let skill = desk::create_skill(&s, &c.principal, &body.name, &o).await?;
    Ok((StatusCode::CREATED, Json(skill)))
}

#[utoipa::path(get, path = "/users/{id}/skills", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agent id")),
    responses(
        (status = 200, description = "The agent's skills", body = Page<AgentSkill>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
        (status = 404, description = "No such agent in the organization", body = ApiError),
    ))]
async fn agent_skills(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<AgentSkill>>> {
    Ok(whole_page(
        desk::agent_skills(&s, &c.principal, path_id(&id)?).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = AgentSkills)]
struct AgentSkillsBody {
    #[serde(default)]
    skills: Vec<AgentSkill>,
}

/// Replaces the agent's skills: `{"skills": [{"skill_id", "proficiency"}]}`.
#[utoipa::path(put, path = "/users/{id}/skills", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agent id")),
    request_body = AgentSkillsBody,
    responses(
        (status = 200, description = "The agent's skills now", body = Page<AgentSkill>),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 404, description = "No such agent in the organization", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn set_agent_skills(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentSkillsBody>,
) -> AppResult<Json<Page<AgentSkill>>> {
    let id = path_id(&id)?;
    Ok(whole_page(
        desk::set_agent_skills(&s, &c.principal, id, body.skills, &o).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = UserCompany)]
struct CompanyBody {
    company_id: Option<Uuid>,
}

/// `{"company_id": <id> | null}`.
#[utoipa::path(put, path = "/users/{id}/company", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = CompanyBody,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 404, description = "No such user or company in the organization", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn set_company(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompanyBody>,
) -> AppResult<StatusCode> {
    desk::set_user_company(&s, &c.principal, path_id(&id)?, body.company_id, &o).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/categories", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The categories (customers too: the portal form offers them)", body = Page<Category>),
        (status = 401, description = "No valid bearer token", body = ApiError),
    ))]
async fn categories(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<Category>>> {
    Ok(whole_page(desk::categories(&s, &c.principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CategoryInput)]
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

#[utoipa::path(post, path = "/categories", tag = "desk", security(("bearer" = [])),
    request_body = CategoryBody,
    responses(
        (status = 201, description = "The new category", body = Category),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_category(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<CategoryBody>,
) -> AppResult<(StatusCode, Json<Category>)> {
    let category = desk::save_category(&s, &c.principal, None, body.into(), &o).await?;
    Ok((StatusCode::CREATED, Json(category)))
}

#[utoipa::path(patch, path = "/categories/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Category id")),
    request_body = CategoryBody,
    responses(
        (status = 200, description = "The changed category", body = Category),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 404, description = "No such category in the organization", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn update_category(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CategoryBody>,
) -> AppResult<Json<Category>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_category(&s, &c.principal, Some(id), body.into(), &o).await?,
    ))
}

#[utoipa::path(get, path = "/ticket-fields", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The custom ticket fields (customers: the customer-visible ones)", body = Page<CustomField>),
        (status = 401, description = "No valid bearer token", body = ApiError),
    ))]
async fn fields(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<CustomField>>> {
    Ok(whole_page(desk::custom_fields(&s, &c.principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TicketFieldInput)]
#[serde(deny_unknown_fields)]
struct FieldBody {
    key: Option<String>,
    #[schema(value_type = Option<FieldKind>)]
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

#[utoipa::path(post, path = "/ticket-fields", tag = "desk", security(("bearer" = [])),
    request_body = FieldBody,
    responses(
        (status = 201, description = "The new field", body = CustomField),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 409, description = "That key is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_field(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<FieldBody>,
) -> AppResult<(StatusCode, Json<CustomField>)> {
    let field = desk::save_custom_field(&s, &c.principal, None, body.into(), &o).await?;
    Ok((StatusCode::CREATED, Json(field)))
}

#[utoipa::path(patch, path = "/ticket-fields/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Field id")),
    request_body = FieldBody,
    responses(
        (status = 200, description = "The changed field", body = CustomField),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 404, description = "No such field in the organization", body = ApiError),
        (status = 409, description = "That key is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn update_field(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FieldBody>,
) -> AppResult<Json<CustomField>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_custom_field(&s, &c.principal, Some(id), body.into(), &o).await?,
    ))
}

#[utoipa::path(get, path = "/companies", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The companies", body = Page<Company>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
    ))]
async fn companies(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<Company>>> {
    Ok(whole_page(desk::companies(&s, &c.principal).await?))
}

#[utoipa::path(post, path = "/companies", tag = "desk", security(("bearer" = [])),
    request_body = NameBody,
    responses(
        (status = 201, description = "The new company", body = Company),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_company(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(body): ApiJson<NameBody>,
) -> AppResult<(StatusCode, Json<Company>)> {
    let company = desk::create_company(&s, &c.principal, &body.name, &o).await?;
    Ok((StatusCode::CREATED, Json(company)))
}

#[utoipa::path(get, path = "/canned-responses", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The canned responses", body = Page<CannedResponse>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
    ))]
async fn canned(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> AppResult<Json<Page<CannedResponse>>> {
    Ok(whole_page(desk::canned_responses(&s, &c.principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CannedInput)]
struct CannedBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

#[utoipa::path(post, path = "/canned-responses", tag = "desk", security(("bearer" = [])),
    request_body = CannedBody,
    responses(
        (status = 201, description = "The new canned response", body = CannedResponse),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 409, description = "That title is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_canned(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    ApiJson(b): ApiJson<CannedBody>,
) -> AppResult<(StatusCode, Json<CannedResponse>)> {
    let canned = desk::save_canned_response(&s, &c.principal, None, &b.title, &b.body, &o).await?;
    Ok((StatusCode::CREATED, Json(canned)))
}

#[utoipa::path(patch, path = "/canned-responses/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Canned response id")),
    request_body = CannedBody,
    responses(
        (status = 200, description = "The changed canned response", body = CannedResponse),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins change the desk setup", body = ApiError),
        (status = 404, description = "No such canned response in the organization", body = ApiError),
        (status = 409, description = "That title is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn update_canned(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CannedBody>,
) -> AppResult<Json<CannedResponse>> {
    let id = path_id(&id)?;
    Ok(Json(
        desk::save_canned_response(&s, &c.principal, Some(id), &b.title, &b.body, &o).await?,
    ))
}

#[utoipa::path(delete, path = "/canned-responses/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Canned response id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Only admins delete these", body = ApiError),
        (status = 404, description = "No such canned response in the organization", body = ApiError),
    ))]
async fn delete_canned(
    State(s): State<AppState>,
    Caller(c): Caller,
    o: Origin,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    desk::delete_canned_response(&s, &c.principal, path_id(&id)?, &o).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/views", tag = "desk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's saved views", body = Page<SavedView>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
    ))]
async fn views(State(s): State<AppState>, Caller(c): Caller) -> AppResult<Json<Page<SavedView>>> {
    Ok(whole_page(desk::saved_views(&s, &c.principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewView)]
struct ViewBody {
    #[serde(default)]
    name: String,
    /// The `GET /tickets` query string of the view's filters.
    #[serde(default)]
    query: String,
}

#[utoipa::path(post, path = "/views", tag = "desk", security(("bearer" = [])),
    request_body = ViewBody,
    responses(
        (status = 201, description = "The new view", body = SavedView),
        (status = 400, description = "The body is not JSON", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
        (status = 409, description = "That name is already in use", body = ApiError),
        (status = 422, description = "A field is missing or invalid (per-field messages)", body = ApiError),
    ))]
async fn create_view(
    State(s): State<AppState>,
    Caller(c): Caller,
    ApiJson(b): ApiJson<ViewBody>,
) -> AppResult<(StatusCode, Json<SavedView>)> {
    let view = desk::create_saved_view(&s, &c.principal, &b.name, &b.query).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(delete, path = "/views/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "View id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "Customers may not see this", body = ApiError),
        (status = 404, description = "No such view of the caller in the organization", body = ApiError),
    ))]
async fn delete_view(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    desk::delete_saved_view(&s, &c.principal, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
