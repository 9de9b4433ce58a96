//! Server functions, one module per area. Each is a thin shell: find the
//! caller, call the server-side service, translate the outcome.

pub mod access;
pub mod audit;
pub mod auth;
pub mod availability;
pub mod desk;
pub mod live;
pub mod notifications;
pub mod sla;
pub mod tickets;
pub mod users;

use crate::domain::policy::Capability::*;
use crate::domain::policy::Gate::{self, *};

/// Who may call each server function, by endpoint: the policy decision
/// every function declares (docs/ARCHITECTURE.md, "Authorization"). The
/// gate middleware (`server::auth::gate`) enforces it before the function's
/// arguments are read; a function missing here is refused to everyone, and
/// tests/integration/policy.rs walks this table for every role.
pub const SERVER_FN_GATES: &[(&str, Gate)] = &[
    // Signing in and out, and magic links, check their own credentials.
    ("login", Anyone),
    ("register", Anyone),
    ("logout", Anyone),
    ("current_user", Anyone),
    ("change_password", SignedIn),
    ("load_linked_ticket", Anyone),
    ("load_older_linked_comments", Anyone),
    ("reply_via_link", Anyone),
    ("reopen_via_link", Anyone),
    ("rate_via_link", Anyone),
    ("request_magic_link", Anyone),
    // Tickets: the service scopes what each person sees (their own for a
    // customer) and refines what they may change.
    ("list_tickets", SignedIn),
    ("load_queue_counts", Needs(ReadAllTickets)),
    ("load_ticket", SignedIn),
    ("load_older_comments", SignedIn),
    ("update_ticket", SignedIn),
    ("rate_ticket", SignedIn),
    ("create_ticket", Needs(CreateTickets)),
    ("attach_files", Needs(Reply)),
    ("reply_to_ticket", Needs(Reply)),
    ("escalate_ticket", Needs(ChangeTicketFields)),
    ("merge_ticket", Needs(MergeTickets)),
    // The desk.
    ("load_desk_options", SignedIn),
    ("update_ticket_fields", Needs(ChangeTicketFields)),
    ("assign_ticket", Needs(ChangeTicketFields)),
    ("rate_agent", Needs(RateAgents)),
    ("fill_canned", Needs(WriteInternalNotes)),
    ("save_view", Needs(ReadAllTickets)),
    ("delete_view", Needs(ReadAllTickets)),
    ("bulk_update", Needs(BulkEdit)),
    ("next_ticket", Needs(ReadAllTickets)),
    ("list_users", Needs(ReadDeskSetup)),
    ("list_audit", Needs(ManageSettings)),
    // Service levels: managers and administrators set them up; staff read
    // a ticket's (the service answers 404 before 403).
    ("list_sla_calendars", Needs(ManageSla)),
    ("save_sla_calendar", Needs(ManageSla)),
    ("delete_sla_calendar", Needs(ManageSla)),
    ("import_sla_holidays", Needs(ManageSla)),
    ("load_sla_policy_choices", Needs(ManageSla)),
    ("list_sla_policies", Needs(ManageSla)),
    ("save_sla_policy", Needs(ManageSla)),
    ("delete_sla_policy", Needs(ManageSla)),
    ("reorder_sla_policies", Needs(ManageSla)),
    ("simulate_sla_policy", Needs(ManageSla)),
    ("load_ticket_sla", SignedIn),
    // Notifications: each staff member's own; mail templates are settings.
    ("list_notifications", Needs(ReadAllTickets)),
    ("unread_notifications", Needs(ReadAllTickets)),
    ("mark_notifications_read", Needs(ReadAllTickets)),
    ("load_notification_preferences", Needs(ReadAllTickets)),
    ("save_notification_preference", Needs(ReadAllTickets)),
    ("list_mail_templates", Needs(ManageSettings)),
    ("save_mail_template", Needs(ManageSettings)),
    ("reset_mail_template", Needs(ManageSettings)),
    // Availability: managers see the desk's pulse; whoever works tickets
    // says they are away (loading it marks them seen).
    ("load_desk_pulse", Needs(ViewAnalytics)),
    ("load_away", Needs(ReadAllTickets)),
    ("set_away", Needs(ReadAllTickets)),
    // Live updates: the service authorizes each topic as the WebSocket does.
    ("missed_events", SignedIn),
];

/// The declared gate of server function `endpoint`.
pub fn gate_of(endpoint: &str) -> Option<Gate> {
    SERVER_FN_GATES
        .iter()
        .find(|(name, _)| *name == endpoint)
        .map(|(_, gate)| *gate)
}

/// How every server function answers: JSON, as with server_fn's default
/// `Json`, but read in the browser with `serde_json::from_str`, the reader
/// Leptos uses for the values the server renders into the page for its
/// resources. With `Json` (`from_slice`) every type a page loads had two
/// deserializers in the WASM bundle, one per reader.
pub type JsonResponse = leptos::server_fn::codec::Post<JsonText>;

/// JSON, decoded from text (see `JsonResponse`).
pub struct JsonText;

mod json_text {
    use super::JsonText;
    use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
    use serde::{Serialize, de::DeserializeOwned};

    impl ContentType for JsonText {
        const CONTENT_TYPE: &'static str = "application/json";
    }

    impl FormatType for JsonText {
        const FORMAT_TYPE: Format = Format::Text;
    }

    impl<T: Serialize> Encodes<T> for JsonText {
        type Error = serde_json::Error;

        fn encode(output: &T) -> Result<Bytes, Self::Error> {
            serde_json::to_vec(output).map(Bytes::from)
        }
    }

    impl<T: DeserializeOwned> Decodes<T> for JsonText {
        type Error = serde_json::Error;

        fn decode(bytes: Bytes) -> Result<T, Self::Error> {
            let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
            serde_json::from_str(text)
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use crate::domain::ApiError;
    use crate::domain::event::Source;
    use crate::server::audit::Origin;
    use crate::server::auth::Session;
    use crate::server::{AppResult, AppState};
    use axum::extract::ConnectInfo;
    use axum::http::header::{ACCEPT, SET_COOKIE};
    use axum::http::request::Parts;
    use axum::http::{HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    pub fn state() -> Result<AppState, ApiError> {
        use_context::<AppState>().ok_or_else(ApiError::internal)
    }

    fn parts() -> Option<Parts> {
        use_context::<Parts>()
    }

    /// The signed-in caller, resolved by the session middleware.
    pub fn session() -> Option<Session> {
        parts()?.extensions.get::<Session>().cloned()
    }

    pub fn require_session() -> Result<Session, ApiError> {
        session().ok_or_else(|| reject(ApiError::unauthorized()))
    }

    pub fn client_ip() -> IpAddr {
        parts()
            .and_then(|p| {
                p.extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    /// Where this request came from (the web app), for audit rows.
    pub fn origin() -> Origin {
        match parts() {
            Some(parts) => Origin::from_parts(&parts, Source::Ui),
            None => Origin::internal(Source::Ui),
        }
    }

    pub fn set_cookies(cookies: Vec<HeaderValue>) {
        if let Some(res) = use_context::<ResponseOptions>() {
            for cookie in cookies {
                res.append_header(SET_COOKIE, cookie);
            }
        }
    }

    /// Turns a service result into a server-function result. Script callers
    /// get the real status code; plain HTML form posts keep the redirect that
    /// carries the error back to the form.
    pub fn respond<T>(result: AppResult<T>) -> Result<T, ApiError> {
        result.map_err(|e| reject(e.into_api_error()))
    }

    /// Sets the response status for `err` (see `respond`) and returns it.
    pub fn reject(err: ApiError) -> ApiError {
        {
            let form_post = parts().is_some_and(|p| {
                p.headers
                    .get(ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
            });
            if !form_post
                && let (Some(res), Ok(status)) = (
                    use_context::<ResponseOptions>(),
                    StatusCode::from_u16(err.kind.status()),
                )
            {
                res.set_status(status);
            }
        }
        err
    }
}
