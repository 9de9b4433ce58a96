//! The REST API under `/api/v1`: thin handlers over the same services the
//! browser's server functions use.

mod access;
mod attachments;
mod audit;
mod auth;
mod availability;
mod desk;
mod events;
mod import;
mod notifications;
mod runtime;
mod sla;
mod tickets;
mod users;

use crate::domain::policy::Capability::*;
use crate::domain::policy::Gate::{self, *};
use crate::domain::ticket::{Comment, CommentPage};
use crate::domain::{ApiError, ErrorKind};
use crate::server::error::AppError;
use crate::server::state::AppState;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(access::router())
        .merge(users::router())
        .merge(tickets::router())
        .merge(attachments::router())
        .merge(import::router())
        .merge(desk::router())
        .merge(runtime::router())
        .merge(audit::router())
        .merge(sla::router())
        .merge(notifications::router())
        .merge(events::router())
        .merge(availability::router())
        .route_layer(axum::middleware::from_fn(
            crate::server::auth::gate::gate_routes,
        ))
        .fallback(not_found)
}

/// Who may call each route (METHOD, path): the policy decision every route
/// declares (docs/ARCHITECTURE.md, "Authorization"). The gate middleware
/// (`server::auth::gate`) enforces it before the handler runs, the OpenAPI
/// document publishes it as `x-policy`, and tests/integration/policy.rs
/// walks it for every role. A route missing here is refused to everyone.
pub const ROUTE_GATES: &[(&str, &str, Gate)] = &[
    // Signing in, and magic links: each checks its own credential.
    ("POST", "/auth/login", Anyone),
    ("POST", "/auth/register", Anyone),
    ("POST", "/auth/refresh", Anyone),
    ("POST", "/auth/logout", Anyone),
    ("POST", "/auth/magic-link", Anyone),
    ("GET", "/access/{token}", Anyone),
    ("GET", "/access/{token}/comments", Anyone),
    ("POST", "/access/{token}/comments", Anyone),
    ("GET", "/access/{token}/attachments/{id}", Anyone),
    // Tickets: the service scopes what each person sees (their own for a
    // customer, another organization's is a 404) and refines what they may
    // change (a customer only the status; internal notes need
    // write_internal_notes).
    ("GET", "/tickets", SignedIn),
    ("POST", "/tickets", Needs(CreateTickets)),
    ("GET", "/tickets/stats", SignedIn),
    ("POST", "/tickets/bulk", Needs(BulkEdit)),
    ("GET", "/tickets/{id}", SignedIn),
    ("PATCH", "/tickets/{id}", SignedIn),
    ("PUT", "/tickets/{id}", SignedIn),
    ("DELETE", "/tickets/{id}", Needs(DeleteTickets)),
    ("POST", "/tickets/{id}/escalate", Needs(ChangeTicketFields)),
    ("POST", "/tickets/{id}/merge", Needs(MergeTickets)),
    ("POST", "/tickets/{id}/split", Needs(MergeTickets)),
    ("PUT", "/tickets/{id}/status", SignedIn),
    ("POST", "/tickets/{id}/assign", Needs(ChangeTicketFields)),
    ("GET", "/tickets/{id}/comments", SignedIn),
    ("POST", "/tickets/{id}/comments", Needs(Reply)),
    ("GET", "/tickets/{id}/history", Needs(ReadInternalNotes)),
    ("POST", "/tickets/{id}/rating", SignedIn),
    (
        "GET",
        "/tickets/{id}/agent-ratings",
        Needs(ReadInternalNotes),
    ),
    ("POST", "/tickets/{id}/agent-ratings", Needs(RateAgents)),
    (
        "GET",
        "/tickets/{id}/canned-responses/{canned_id}",
        Needs(WriteInternalNotes),
    ),
    ("GET", "/tickets/{id}/attachments", SignedIn),
    ("POST", "/tickets/{id}/attachments", Needs(Reply)),
    ("GET", "/attachments/{id}", SignedIn),
    // The desk setup: staff read it, administrators change it.
    ("GET", "/teams", Needs(ReadDeskSetup)),
    ("POST", "/teams", Needs(ManageSettings)),
    ("PATCH", "/teams/{id}", Needs(ManageSettings)),
    ("GET", "/skills", Needs(ReadDeskSetup)),
    ("POST", "/skills", Needs(ManageSettings)),
    ("GET", "/users/{id}/skills", Needs(ReadDeskSetup)),
    ("PUT", "/users/{id}/skills", Needs(ManageSettings)),
    ("PUT", "/users/{id}/company", Needs(ManageSettings)),
    ("GET", "/categories", SignedIn),
    ("POST", "/categories", Needs(ManageSettings)),
    ("PATCH", "/categories/{id}", Needs(ManageSettings)),
    ("GET", "/ticket-fields", SignedIn),
    ("POST", "/ticket-fields", Needs(ManageSettings)),
    ("PATCH", "/ticket-fields/{id}", Needs(ManageSettings)),
    ("GET", "/companies", Needs(ReadDeskSetup)),
    ("POST", "/companies", Needs(ManageSettings)),
    ("GET", "/canned-responses", Needs(ReadDeskSetup)),
    ("POST", "/canned-responses", Needs(ManageSettings)),
    ("PATCH", "/canned-responses/{id}", Needs(ManageSettings)),
    ("DELETE", "/canned-responses/{id}", Needs(ManageSettings)),
    ("GET", "/views", Needs(ReadAllTickets)),
    ("POST", "/views", Needs(ReadAllTickets)),
    ("DELETE", "/views/{id}", Needs(ReadAllTickets)),
    ("POST", "/import/tickets", Needs(ManageSettings)),
    ("GET", "/runtime", Needs(ManageSettings)),
    ("GET", "/audit", Needs(ManageSettings)),
    // Service levels: managers and administrators set them up.
    ("POST", "/sla/simulate", Needs(ManageSla)),
    ("GET", "/sla/calendars", Needs(ManageSla)),
    ("POST", "/sla/calendars", Needs(ManageSla)),
    ("GET", "/sla/calendars/{id}", Needs(ManageSla)),
    ("PUT", "/sla/calendars/{id}", Needs(ManageSla)),
    ("DELETE", "/sla/calendars/{id}", Needs(ManageSla)),
    (
        "POST",
        "/sla/calendars/{id}/holidays/ical",
        Needs(ManageSla),
    ),
    ("GET", "/sla/policies", Needs(ManageSla)),
    ("POST", "/sla/policies", Needs(ManageSla)),
    ("POST", "/sla/policies/order", Needs(ManageSla)),
    ("GET", "/sla/policies/{id}", Needs(ManageSla)),
    ("PUT", "/sla/policies/{id}", Needs(ManageSla)),
    ("DELETE", "/sla/policies/{id}", Needs(ManageSla)),
    // A ticket's SLA: staff who read all tickets (the service answers 404
    // before 403, like every ticket route).
    ("GET", "/tickets/{id}/sla", SignedIn),
    // Notifications: each staff member's own centre (customers have none);
    // the organization's mail texts are settings.
    ("GET", "/notifications", Needs(ReadAllTickets)),
    ("POST", "/notifications/read", Needs(ReadAllTickets)),
    ("GET", "/notifications/preferences", Needs(ReadAllTickets)),
    ("PUT", "/notifications/preferences", Needs(ReadAllTickets)),
    ("GET", "/settings/mail-templates", Needs(ManageSettings)),
    (
        "GET",
        "/settings/mail-templates/{key}",
        Needs(ManageSettings),
    ),
    (
        "PUT",
        "/settings/mail-templates/{key}",
        Needs(ManageSettings),
    ),
    (
        "DELETE",
        "/settings/mail-templates/{key}",
        Needs(ManageSettings),
    ),
    // Live updates: the service checks each topic as the WebSocket does.
    ("GET", "/events", SignedIn),
    // Availability: managers (and executives, admins) see the desk's
    // figures; whoever works tickets says they are away.
    ("GET", "/desk/pulse", Needs(ViewAnalytics)),
    ("PUT", "/users/me/availability", Needs(ReadAllTickets)),
    // People.
    ("GET", "/users/me", SignedIn),
    ("GET", "/users", Needs(ReadDeskSetup)),
    ("POST", "/users", Needs(ManageUsers)),
    ("GET", "/users/{id}", Needs(ReadDeskSetup)),
    ("PATCH", "/users/{id}", Needs(ManageUsers)),
];

/// The declared gate of a route (`path` relative to `/api/v1`, as routed).
pub fn gate_of(method: &axum::http::Method, path: &str) -> Option<Gate> {
    ROUTE_GATES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, gate)| *gate)
}

/// The paths of every route above, each module documenting its own next to
/// its router (`http::openapi` adds the title, servers and security scheme).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = auth::Api::openapi();
    for part in [
        access::Api::openapi(),
        users::Api::openapi(),
        tickets::Api::openapi(),
        attachments::Api::openapi(),
        import::Api::openapi(),
        desk::Api::openapi(),
        runtime::Api::openapi(),
        audit::Api::openapi(),
        sla::Api::openapi(),
        notifications::Api::openapi(),
        events::Api::openapi(),
        availability::Api::openapi(),
    ] {
        doc.merge(part);
    }
    publish_gates(&mut doc);
    doc
}

/// Adds each operation's declared gate as `x-policy` (`anyone`,
/// `signed_in`, or the capability's name), so API clients read the policy
/// where they read the route.
fn publish_gates(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ];
        for (method, operation) in operations {
            let (Some(operation), Ok(method)) = (operation, method.parse()) else {
                continue;
            };
            if let Some(gate) = gate_of(&method, path) {
                let policy = ExtensionsBuilder::new()
                    .add("x-policy", gate.name())
                    .build();
                match &mut operation.extensions {
                    Some(extensions) => extensions.merge(policy),
                    None => operation.extensions = Some(policy),
                }
            }
        }
    }
}

async fn not_found() -> AppError {
    AppError::Api(ApiError::not_found())
}

/// A path id that does not parse names nothing: 404, like another tenant's id.
pub fn path_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

/// Distinguishes an absent field (leave alone) from `null` (clear it).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A page of a list; `next_cursor` continues it (null on the last page).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A conversation's page: `next_cursor` goes back to the older messages.
impl From<CommentPage> for Page<Comment> {
    fn from(page: CommentPage) -> Self {
        Page {
            items: page.items,
            next_cursor: page.older,
        }
    }
}

/// A list that always fits one page (a ticket's messages, a setup list).
pub fn whole_page<T>(items: Vec<T>) -> axum::Json<Page<T>> {
    axum::Json(Page {
        items,
        next_cursor: None,
    })
}

/// `Query` whose rejections (e.g. a repeated parameter) use our error body
/// instead of axum's plain text.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::kind(ErrorKind::BadRequest, rejection.body_text())
    }
}

/// `Json` whose rejections use our error body instead of axum's plain text.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let kind = match rejection {
            JsonRejection::JsonDataError(_) => ErrorKind::Validation,
            _ => ErrorKind::BadRequest,
        };
        AppError::kind(
            kind,
            format!("Invalid request body: {}", rejection.body_text()),
        )
    }
}
