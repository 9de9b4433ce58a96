//! Live updates for the browser: what a tab missed while its WebSocket was
//! down, the same service as `GET /api/v1/events`.

use crate::domain::ApiError;
use crate::domain::live::Missed;
use leptos::prelude::*;

/// A page of the events after `after` on `topics` (comma-separated, as
/// `GET /api/v1/events` takes them), filtered as the WebSocket filters.
#[server(prefix = "/api", endpoint = "missed_events", output = crate::api::JsonResponse)]
pub async fn missed_events(after: i64, topics: String) -> Result<Missed, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::live::{self, MissedQuery};

    let state = state()?;
    let caller = require_session()?.principal;
    let query = MissedQuery {
        after: Some(after.to_string()),
        topics: Some(topics),
        limit: None,
    };
    respond(live::missed(&state, &caller, &query).await)
}
