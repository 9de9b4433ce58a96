//! The audit log for the admin page.

use crate::domain::ApiError;
use crate::domain::audit::{AuditPage, AuditQuery};
use leptos::prelude::*;

/// A page of the organization's audit log, newest first (admins only); the
/// same filters and cursor as `GET /api/v1/audit` (each may be left out).
#[server(prefix = "/api", endpoint = "list_audit", output = crate::api::JsonResponse)]
pub async fn list_audit(
    owner_type: Option<String>,
    owner_id: Option<String>,
    actor_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
) -> Result<AuditPage, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::audit;

    let state = state()?;
    let caller = require_session()?;
    let query = AuditQuery {
        owner_type,
        owner_id,
        actor_id,
        from,
        to,
        cursor,
        limit: None,
    };
    respond(audit::page(&state, &caller.principal, &query).await)
}

/// `list_audit` with the filters as one value.
pub async fn audit_page(q: AuditQuery) -> Result<AuditPage, ApiError> {
    list_audit(q.owner_type, q.owner_id, q.actor_id, q.from, q.to, q.cursor).await
}
