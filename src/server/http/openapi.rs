//! The OpenAPI 3 document of `/api/v1`, served at `/api/v1/openapi.json`,
//! and the browsable page at `/api/v1/docs/` (Swagger UI, its files served
//! from the binary: nothing is loaded from another host).
//!
//! Each REST module documents its routes next to its router (`rest::openapi`);
//! this adds what the whole document shares. The integration test
//! `openapi::every_route_is_documented` compares the document with the router.

use super::rest;
use crate::server::state::AppState;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::LazyLock;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
pub const PAGE_PATH: &str = "/api/v1/docs";

/// Swagger UI's own files only: its scripts and styles come from us, the
/// document from the same origin ("Try it out" too), icons are data: URIs.
/// The hash admits the one style element the vendored Swagger UI injects
/// (Chromium names the hash in its CSP report if a new version changes it).
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fieldesk API",
        description = "JSON over HTTP. Sign in with `POST /auth/login` and send the access \
            token as `Authorization: Bearer <token>`; it lasts 15 minutes, `POST /auth/refresh` \
            trades the refresh token for new ones. Errors answer with a 4xx status and \
            `{\"error\": \"...\", \"fields\": {\"field\": \"message\"}}`. Lists are pages: pass \
            `next_cursor` back as `cursor` until it is null. Another organization's resources \
            answer 404.",
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerToken),
    tags(
        (name = "auth", description = "Sessions: sign in, sign up, refresh, sign out (no token needed)"),
        (name = "access", description = "Following a ticket through a mailed link, without an account"),
        (name = "users", description = "People of the caller's organization"),
        (name = "tickets", description = "Tickets, their conversation and audit trail"),
        (name = "attachments", description = "Files on tickets"),
        (name = "import", description = "Historical tickets from another help desk"),
        (name = "desk", description = "Desk setup: teams, skills, categories, custom fields, companies, canned responses, saved views"),
        (name = "notifications", description = "The caller's notification centre and preferences; the organization's mail templates (admins)"),
        (name = "sla", description = "Service levels: business calendars and the SLA clock's simulator (managers, admins)"),
        (name = "availability", description = "Who of the desk is online, away or offline; the desk's counters (managers)"),
        (name = "live", description = "Live updates: what a WebSocket client missed (the protocol: docs/LIVE.md)"),
        (name = "system", description = "How the installation runs: background work (admins)"),
    )
)]
struct Shared;

/// Declares the `bearer` scheme the authenticated routes name.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Shared::openapi();
    doc.merge(rest::openapi());
    doc
}

/// Built once: the document cannot change while the server runs.
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    document()
        .to_json()
        .expect("the OpenAPI document serializes")
});

async fn document_json() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT_JSON.as_str())
}

/// `GET /api/v1/openapi.json` and the pages under `/api/v1/docs/`, public.
pub fn router() -> Router<AppState> {
    let config = Config::new([DOCUMENT_PATH])
        // Swagger UI would otherwise send the document to an online validator.
        .validator_url("none");
    Router::from(SwaggerUi::new(PAGE_PATH).config(config))
        .layer(SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        .route(DOCUMENT_PATH, get(document_json))
}
