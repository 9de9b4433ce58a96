//! The organization's people, for staff screens.

use crate::domain::{ApiError, User};
use leptos::prelude::*;

/// Everyone in the caller's organization (first 500 by email); staff only.
#[server(prefix = "/api", endpoint = "list_users", output = crate::api::JsonResponse)]
pub async fn list_users() -> Result<Vec<User>, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::users;

    let state = state()?;
    let caller = require_session()?.principal;
    let (people, _) =
        respond(users::list(&state, &caller, None, None, users::MAX_USER_PAGE).await)?;
    Ok(people)
}
