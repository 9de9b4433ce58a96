//! The organization's people, for staff screens.

use crate::domain::{ApiError, User};
use leptos::prelude::*;

/// Everyone in the caller's organization (first 500 by email); staff only.
#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<User>, ApiError> {
    use super::context::{reject, require_session, respond, state};
    use crate::server::db::users;

    let state = state()?;
    let caller = require_session()?;
    caller.require_staff().map_err(reject)?;
    respond(
        users::list_in_org(&state.db, caller.claims.org, None, None, 500)
            .await
            .map_err(Into::into),
    )
}
