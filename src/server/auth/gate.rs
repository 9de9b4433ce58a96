//! The policy at the door: every REST route and server function declares
//! a `Gate` (`http::rest::ROUTE_GATES`, `api::SERVER_FN_GATES`), and these
//! middlewares refuse a caller who does not pass it before the request's
//! body is read or its handler runs. Services check again what depends on
//! the record (visibility first: another organization's ticket is a 404)
//! and what the gate cannot know (a customer may change only the status).
//! A route or function without a declared gate is refused to everyone, so
//! forgetting the decision fails closed — and fails the policy test.

use super::session::Session;
use crate::domain::policy::Gate;
use crate::domain::{ApiError, ErrorKind};
use crate::server::error::api_error_response;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

/// The prefix the REST router is nested under.
const REST_PREFIX: &str = "/api/v1";
/// The prefix of every server function (`#[server(prefix = "/api")]`).
const SERVER_FN_PREFIX: &str = "/api/";

/// Whether the request's caller passes `gate` (`None`: nothing declared).
/// The refusal names the capability, so a client (and the policy test)
/// can tell the policy's 403 from a record's.
pub fn admit(gate: Option<Gate>, session: Option<&Session>) -> Result<(), ApiError> {
    let Some(gate) = gate else {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "No authorization policy is declared for this route",
        ));
    };
    match (gate, session) {
        (Gate::Anyone, _) => Ok(()),
        (_, None) => Err(ApiError::unauthorized()),
        (Gate::SignedIn, Some(_)) => Ok(()),
        (Gate::Needs(capability), Some(session)) if session.principal.may(capability) => Ok(()),
        (Gate::Needs(capability), Some(_)) => Err(ApiError::new(
            ErrorKind::Forbidden,
            format!(
                "Your role does not have the `{}` permission",
                capability.as_str()
            ),
        )),
    }
}

/// REST: the gate of the matched route (`ROUTE_GATES`). A method the path
/// declares no gate for is answered 405, as the router would for a method
/// it does not serve — never let through.
pub async fn gate_routes(req: Request, next: Next) -> axum::response::Response {
    use crate::server::http::rest::{ROUTE_GATES, gate_of};
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().trim_start_matches(REST_PREFIX).to_owned())
        .unwrap_or_default();
    // HEAD is GET without the body (axum routes it to the GET handler).
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let gate = gate_of(&method, &path);
    if gate.is_none() && ROUTE_GATES.iter().any(|(_, p, _)| *p == path) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    match admit(gate, req.extensions().get::<Session>()) {
        Ok(()) => next.run(req).await,
        Err(refusal) => api_error_response(refusal),
    }
}

/// Server functions: the gate of the function's endpoint
/// (`SERVER_FN_GATES`); pages pass through. Refusals are shaped like the
/// function's own errors, so the browser's caller reads them as such.
pub async fn gate_server_fns(req: Request, next: Next) -> axum::response::Response {
    let Some(endpoint) = req.uri().path().strip_prefix(SERVER_FN_PREFIX) else {
        return next.run(req).await;
    };
    let gate = crate::api::gate_of(endpoint);
    match admit(gate, req.extensions().get::<Session>()) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.kind.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Response::builder()
                .status(status)
                .header(CONTENT_TYPE, "application/json")
                .header(SERVER_FN_ERROR_HEADER, req.uri().path())
                .body(Body::from(refusal.ser()))
                .unwrap_or_else(|_| api_error_response(ApiError::internal()))
        }
    }
}
