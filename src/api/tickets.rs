//! Tickets for the portal and the desk.

use crate::domain::ApiError;
use crate::domain::ticket::{CommentPage, QueueCounts, Ticket};
use leptos::prelude::*;
use leptos::server_fn::codec::{MultipartData, MultipartFormData};
use serde::{Deserialize, Serialize};

/// A queue a page can show. Customers only ever get `Mine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Queue {
    /// The caller's own requests (customers).
    Mine,
    MyOpen,
    Unassigned,
    AllOpen,
    Pending,
    /// Escalated to the managers and still open.
    Escalated,
    RecentlySolved,
}

impl Queue {
    pub const DESK: [Queue; 6] = [
        Queue::MyOpen,
        Queue::Unassigned,
        Queue::AllOpen,
        Queue::Pending,
        Queue::Escalated,
        Queue::RecentlySolved,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Queue::Mine => "My requests",
            Queue::MyOpen => "My open",
            Queue::Unassigned => "Unassigned",
            Queue::AllOpen => "All open",
            Queue::Pending => "Pending",
            Queue::Escalated => "Escalated",
            Queue::RecentlySolved => "Recently solved",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Queue::Mine => "mine",
            Queue::MyOpen => "my-open",
            Queue::Unassigned => "unassigned",
            Queue::AllOpen => "all-open",
            Queue::Pending => "pending",
            Queue::Escalated => "escalated",
            Queue::RecentlySolved => "solved",
        }
    }

    /// How many tickets this queue holds, when its tab shows it (not for
    /// the portal's list or the unbounded "Recently solved").
    pub fn count(self, counts: &QueueCounts) -> Option<i64> {
        match self {
            Queue::MyOpen => Some(counts.my_open),
            Queue::Unassigned => Some(counts.unassigned),
            Queue::AllOpen => Some(counts.all_open),
            Queue::Pending => Some(counts.pending),
            Queue::Escalated => Some(counts.escalated),
            Queue::Mine | Queue::RecentlySolved => None,
        }
    }

    pub fn from_slug(slug: &str) -> Option<Queue> {
        [Queue::Mine]
            .into_iter()
            .chain(Queue::DESK)
            .find(|q| q.slug() == slug)
    }
}

pub use crate::domain::ticket::TicketDetail;

#[cfg(feature = "ssr")]
pub(super) fn ticket_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| super::context::reject(ApiError::not_found()))
}

/// How many tickets the desk's queues hold, for their tabs.
#[server(prefix = "/api", endpoint = "load_queue_counts", output = crate::api::JsonResponse)]
pub async fn load_queue_counts() -> Result<QueueCounts, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    respond(tickets::queue_counts(&state, &caller).await)
}

/// A queue, narrowed by `filters` — the query string `GET /tickets` takes
/// (`team=…&category=…&priority=high`); filters the queue does not fix
/// (status, assignee, order) override its defaults.
#[server(prefix = "/api", endpoint = "list_tickets", output = crate::api::JsonResponse)]
pub async fn list_tickets(queue: Queue, filters: String) -> Result<Vec<Ticket>, ApiError> {
    use super::context::{reject, require_session, respond, state};
    use crate::domain::ticket::TicketStatus;
    use crate::server::db::tickets::AssigneeFilter;
    use crate::server::ticket_query;
    use crate::server::tickets::{self, open_statuses};

    let state = state()?;
    let caller = require_session()?.principal;
    // The desk's queues are for those who read every ticket; "Mine" is the
    // portal's list of one's own.
    if caller.may(crate::domain::Capability::ReadAllTickets) == (queue == Queue::Mine) {
        return Err(reject(ApiError::forbidden()));
    }
    let query = ticket_query::from_query_string(&filters).map_err(reject)?;
    let (mut filter, _) = ticket_query::parse(&query, &caller).map_err(reject)?;
    let (statuses, assignee, oldest_first) = match queue {
        Queue::Mine => (Vec::new(), AssigneeFilter::Any, false),
        Queue::MyOpen => {
            let me = caller.user_id().unwrap_or_default();
            (open_statuses(), AssigneeFilter::User(me), true)
        }
        Queue::Unassigned => (open_statuses(), AssigneeFilter::Unassigned, true),
        Queue::AllOpen | Queue::Escalated => (open_statuses(), AssigneeFilter::Any, true),
        Queue::Pending => (vec![TicketStatus::Pending], AssigneeFilter::Any, true),
        Queue::RecentlySolved => (
            vec![TicketStatus::Resolved, TicketStatus::Closed],
            AssigneeFilter::Any,
            false,
        ),
    };
    if query.status.is_none() {
        filter.statuses = statuses;
    }
    if query.assignee.is_none() {
        filter.assignee = assignee;
    }
    if query.sort.is_none() {
        filter.oldest_first = oldest_first;
    }
    filter.escalated |= queue == Queue::Escalated;
    filter.limit = 100;
    respond(tickets::list(&state, &caller, filter).await)
}

/// Reads a multipart server-function body within the form limits (the
/// function must carry the `RequireMultipart` middleware, and the router
/// caps the body at the same limits' size).
#[cfg(feature = "ssr")]
pub(super) async fn read_form(
    state: &crate::server::AppState,
    data: MultipartData,
) -> Result<crate::server::uploads::MultipartForm, ApiError> {
    use super::context::respond;
    use crate::server::uploads::{UploadLimits, read_multipart};
    let multipart = data
        .into_inner()
        .ok_or_else(|| super::context::reject(ApiError::internal()))?;
    let limits = UploadLimits::form(state.config.max_upload_bytes);
    respond(read_multipart(multipart, limits).await)
}

/// A new ticket from the portal or the desk, with any files chosen in the
/// form's `files` input. Multipart, so it is sent from the browser with
/// FormData (see `forms::on_multipart_submit`).
#[server(prefix = "/api", endpoint = "create_ticket", output = crate::api::JsonResponse, input = MultipartFormData)]
#[middleware(crate::server::uploads::RequireMultipart)]
pub async fn create_ticket(data: MultipartData) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets::{self, CreateTicket};

    let state = state()?;
    let caller = require_session()?.principal;
    let mut form = read_form(&state, data).await?;
    let fields = respond(crate::server::desk::custom_fields(&state, &caller).await)?;
    let text = |name: &str| form.text(name).unwrap_or_default().to_owned();
    let chosen = |name: &str| form.text(name).filter(|v| !v.is_empty()).map(str::to_owned);
    let input = CreateTicket {
        subject: text("subject"),
        description: text("description"),
        priority: chosen("priority"),
        // Staff only; the service refuses them from customers.
        channel: chosen("channel"),
        requester_id: None,
        requester_email: chosen("requester_email"),
        assignee_id: None,
        tags: Vec::new(),
        severity: None,
        team_id: None,
        category_id: chosen("category_id").and_then(|id| uuid::Uuid::parse_str(&id).ok()),
        custom_fields: custom_values_from_form(&fields, &form),
        attachments: Vec::new(),
    };
    let input = CreateTicket {
        attachments: form.take_files("files"),
        ..input
    };
    let ticket = respond(tickets::create(&state, &caller, input, &origin()).await)?;
    leptos_axum::redirect(&ticket_path(!caller.is_customer(), &ticket.id.to_string()));
    Ok(())
}

/// Custom field values from form inputs named `cf.<key>` (all text): typed
/// by each field's kind so the service checks them like JSON from the API.
/// Unparseable numbers stay text, so the service reports them.
#[cfg(feature = "ssr")]
pub(super) fn custom_values_from_form(
    fields: &[crate::domain::desk::CustomField],
    form: &crate::server::uploads::MultipartForm,
) -> crate::domain::ticket::CustomValues {
    use crate::domain::desk::FieldKind;
    use serde_json::Value;
    let mut out = crate::domain::ticket::CustomValues::new();
    for field in fields {
        let given = form.texts(&format!("cf.{}", field.key));
        let first = given.first().map(|v| v.trim()).unwrap_or_default();
        let value = match field.kind {
            FieldKind::Checkbox => Value::Bool(!given.is_empty()),
            FieldKind::MultiSelect => given.iter().map(|v| Value::from(*v)).collect(),
            _ if first.is_empty() => continue,
            FieldKind::Number => first
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::from(first), Value::Number),
            _ => Value::from(first),
        };
        out.insert(field.key.clone(), value);
    }
    out
}

/// Files added from the ticket page; staff may tick `internal`.
#[server(prefix = "/api", endpoint = "attach_files", output = crate::api::JsonResponse, input = MultipartFormData)]
#[middleware(crate::server::uploads::RequireMultipart)]
pub async fn attach_files(data: MultipartData) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let mut form = read_form(&state, data).await?;
    let id = ticket_id(form.text("ticket_id").unwrap_or_default())?;
    let public = form.text("internal").is_none();
    let files = form.take_files("files");
    respond(tickets::add_attachments(&state, &caller, id, &files, public, &origin()).await)?;
    Ok(())
}

/// Where a ticket lives in the caller's area.
pub fn ticket_path(staff: bool, id: &str) -> String {
    if staff {
        format!("/desk/tickets/{id}")
    } else {
        format!("/portal/tickets/{id}")
    }
}

#[server(prefix = "/api", endpoint = "load_ticket", output = crate::api::JsonResponse)]
pub async fn load_ticket(id: String) -> Result<TicketDetail, ApiError> {
    use super::context::{require_session, respond, state};
    let state = state()?;
    let caller = require_session()?.principal;
    let id = ticket_id(&id)?;
    respond(crate::server::tickets::detail(&state, &caller, id).await)
}

/// The page of the conversation before `before` (the ticket page's "Load
/// older messages").
#[server(prefix = "/api", endpoint = "load_older_comments", output = crate::api::JsonResponse)]
pub async fn load_older_comments(id: String, before: String) -> Result<CommentPage, ApiError> {
    use super::context::{require_session, respond, state};
    use crate::server::tickets::{self, CommentsQuery};
    let state = state()?;
    let caller = require_session()?.principal;
    let id = ticket_id(&id)?;
    respond(tickets::comments(&state, &caller, id, &CommentsQuery::before(before)).await)
}

/// A reply (public) or, for staff with `internal` ticked, an internal note.
#[server(prefix = "/api", endpoint = "reply_to_ticket", output = crate::api::JsonResponse)]
pub async fn reply_to_ticket(
    ticket_id: String,
    body: String,
    internal: Option<String>,
) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = self::ticket_id(&ticket_id)?;
    respond(tickets::add_comment(&state, &caller, id, &body, internal.is_none(), &origin()).await)?;
    Ok(())
}

/// The customer's rating of a resolved ticket.
#[server(prefix = "/api", endpoint = "rate_ticket", output = crate::api::JsonResponse)]
pub async fn rate_ticket(
    ticket_id: String,
    score: Option<String>,
    comment: String,
) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = self::ticket_id(&ticket_id)?;
    let score = score
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    respond(tickets::rate(&state, &caller, id, score, &comment, &origin()).await)?;
    Ok(())
}

/// Staff hand a ticket to the managers, saying why.
#[server(prefix = "/api", endpoint = "escalate_ticket", output = crate::api::JsonResponse)]
pub async fn escalate_ticket(ticket_id: String, reason: String) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = self::ticket_id(&ticket_id)?;
    respond(tickets::escalate(&state, &caller, id, &reason, &origin()).await)?;
    Ok(())
}

/// Staff merge a ticket into another one, named by its number (`TCK-000012`
/// or `12`) in `target_id`; the browser then goes to that ticket.
#[server(prefix = "/api", endpoint = "merge_ticket", output = crate::api::JsonResponse)]
pub async fn merge_ticket(ticket_id: String, target_id: String) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = self::ticket_id(&ticket_id)?;
    let target = respond(tickets::find_by_number(&state, &caller, &target_id, "target_id").await)?;
    let merged = respond(tickets::merge(&state, &caller, id, target.id, &origin()).await)?;
    leptos_axum::redirect(&ticket_path(true, &merged.id.to_string()));
    Ok(())
}

/// Staff triage from the ticket page: status, priority, and "assign to me".
#[server(prefix = "/api", endpoint = "update_ticket", output = crate::api::JsonResponse)]
pub async fn update_ticket(
    ticket_id: String,
    status: Option<String>,
    priority: Option<String>,
    assign_to_me: Option<String>,
) -> Result<(), ApiError> {
    use super::context::origin;
    use super::context::{require_session, respond, state};
    use crate::domain::FieldErrors;
    use crate::domain::ticket::{Priority, TicketStatus};
    use crate::engine::ticket_change::TicketPatch;
    use crate::server::tickets;

    let state = state()?;
    let caller = require_session()?.principal;
    let id = self::ticket_id(&ticket_id)?;
    let mut errs = FieldErrors::new();
    let patch = TicketPatch {
        status: errs.parse("status", status.as_deref(), TicketStatus::parse),
        priority: errs.parse("priority", priority.as_deref(), Priority::parse),
        assignee_id: assign_to_me.and(caller.user_id()).map(Some),
        ..Default::default()
    };
    respond(errs.into_result().map_err(Into::into))?;
    respond(tickets::update(&state, &caller, id, patch, &origin()).await)?;
    Ok(())
}
