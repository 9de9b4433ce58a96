//! The ticket list's query string — `GET /tickets?…`, the desk's filter bar
//! and saved views all speak it — parsed into a store filter with
//! field-level errors, and the opaque cursor that continues a page.

use crate::domain::ticket::{Channel, Priority, Severity, Ticket, TicketStatus};
use crate::domain::{ApiError, FieldErrors};
use crate::engine::search::{self, MIN_TERM_CHARS};
use crate::server::auth::Principal;
use crate::server::db::tickets::{AssigneeFilter, ListFilter, SortKey};
use crate::server::tickets::open_statuses;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// `status=open,pending|all &priority= &severity= &assignee=me|none|<id>
/// &team=<id> &category=<id> &channel= &tag= &escalated=true &q=
/// &created_from= &created_to= (dates or RFC 3339) &sort=[-]created_at|[-]updated_at|[-]sla_due
/// &limit= &cursor=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated statuses, or `all`; default: the open ones.
    #[param(example = "open,pending")]
    pub status: Option<String>,
    #[param(value_type = Option<Priority>)]
    pub priority: Option<String>,
    #[param(value_type = Option<Severity>)]
    pub severity: Option<String>,
    /// `me`, `none`, `any` or a user id.
    pub assignee: Option<String>,
    /// A team id.
    #[param(value_type = Option<Uuid>)]
    pub team: Option<String>,
    /// A category id.
    #[param(value_type = Option<Uuid>)]
    pub category: Option<String>,
    #[param(value_type = Option<Channel>)]
    pub channel: Option<String>,
    pub tag: Option<String>,
    /// Only escalated tickets.
    #[param(value_type = Option<bool>)]
    pub escalated: Option<String>,
    /// Words to search for in subjects and messages (as prefixes); words
    /// of one character are ignored, and a search with no longer word is
    /// refused (422 on `q`).
    pub q: Option<String>,
    /// Created on or after: a date (`2026-11-24`) or an RFC 3339 time.
    pub created_from: Option<String>,
    /// Created on or before: a date (the whole day) or an RFC 3339 time.
    pub created_to: Option<String>,
    /// `-created_at` (newest first, default), `created_at`, `-updated_at`,
    /// `updated_at`, or `sla_due` (the earliest pending SLA due time first,
    /// tickets without one last) / `-sla_due`.
    #[param(pattern = "^(-?(created_at|updated_at|sla_due))?$")]
    pub sort: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub const DEFAULT_PAGE: u32 = 25;
pub const MAX_PAGE: u32 = 100;

/// A query string (`status=open&team=…`, with or without `?`).
pub fn from_query_string(raw: &str) -> Result<ListQuery, ApiError> {
    serde_urlencoded::from_str(raw.trim_start_matches('?')).map_err(|_| {
        let mut errs = FieldErrors::new();
        errs.add("query", "These filters are not valid");
        errs.into_result().unwrap_err()
    })
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub(crate) fn id(errs: &mut FieldErrors, field: &str, value: &Option<String>) -> Option<Uuid> {
    let raw = present(value)?;
    let parsed = Uuid::parse_str(raw).ok();
    errs.check(parsed.is_some(), field, "Use an id");
    parsed
}

/// A date (`2026-11-24`, the whole day in UTC) or an RFC 3339 instant;
/// `end` takes a date's end instead of its start.
pub(crate) fn instant(
    errs: &mut FieldErrors,
    field: &str,
    value: &Option<String>,
    end: bool,
) -> Option<DateTime<Utc>> {
    let raw = present(value)?;
    let parsed = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
            let day = if end { day.succ_opt()? } else { day };
            Some(day.and_hms_opt(0, 0, 0)?.and_utc())
        });
    errs.check(
        parsed.is_some(),
        field,
        "Use a date (YYYY-MM-DD) or an RFC 3339 time",
    );
    parsed
}

/// `q=`, if it has a word long enough to search for (see
/// `search::MIN_TERM_CHARS`; shorter words are left out of the search).
fn search_text(errs: &mut FieldErrors, value: &Option<String>) -> Option<String> {
    let text = present(value)?;
    let searchable = !search::terms(text).is_empty();
    errs.check(
        searchable,
        "q",
        &format!("Search for a word of at least {MIN_TERM_CHARS} letters or digits"),
    );
    searchable.then(|| text.to_owned())
}

/// The store filter for `query` as `caller` asked it (the service still
/// narrows it to what the caller may see), and the page size.
pub fn parse(query: &ListQuery, caller: &Principal) -> Result<(ListFilter, u32), ApiError> {
    let mut errs = FieldErrors::new();
    let statuses = match present(&query.status) {
        None => open_statuses(),
        Some("all") => Vec::new(),
        Some(list) => list
            .split(',')
            .filter_map(|s| errs.parse("status", Some(s), TicketStatus::parse))
            .collect(),
    };
    let assignee = match present(&query.assignee) {
        None | Some("any") => AssigneeFilter::Any,
        // The system is nobody's assignee: `me` matches nothing for it.
        Some("me") => AssigneeFilter::User(caller.user_id().unwrap_or_default()),
        Some("none") => AssigneeFilter::Unassigned,
        Some(raw) => match Uuid::parse_str(raw) {
            Ok(id) => AssigneeFilter::User(id),
            Err(_) => {
                errs.add("assignee", "Use me, none, or a user id");
                AssigneeFilter::Any
            }
        },
    };
    // Service levels are internal: customers may not sort by them.
    let staff = caller.may(crate::domain::Capability::ReadInternalNotes);
    let (sort, oldest_first) = match present(&query.sort) {
        None | Some("-created_at") => (SortKey::Created, false),
        Some("created_at") => (SortKey::Created, true),
        Some("-updated_at") => (SortKey::Updated, false),
        Some("updated_at") => (SortKey::Updated, true),
        // Soonest due first, tickets without a due time last.
        Some("sla_due") if staff => (SortKey::SlaDue, true),
        Some("-sla_due") if staff => (SortKey::SlaDue, false),
        Some(_) => {
            errs.add(
                "sort",
                "Sort by created_at, updated_at (- for newest first) or sla_due (soonest due first)",
            );
            (SortKey::Created, false)
        }
    };
    let limit = page_limit(&mut errs, &query.limit, DEFAULT_PAGE);
    let escalated = match present(&query.escalated) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errs.add("escalated", "Use true or false");
            false
        }
    };
    let after = position(&mut errs, "cursor", &query.cursor);
    let filter = ListFilter {
        organization_id: caller.org(),
        requester_id: None,
        statuses,
        priority: errs.parse("priority", present(&query.priority), Priority::parse),
        severity: errs.parse("severity", present(&query.severity), Severity::parse),
        channel: errs.parse("channel", present(&query.channel), Channel::parse),
        assignee,
        team_id: id(&mut errs, "team", &query.team),
        category_id: id(&mut errs, "category", &query.category),
        tag: present(&query.tag).map(str::to_lowercase),
        escalated,
        text: search_text(&mut errs, &query.q),
        created_from: instant(&mut errs, "created_from", &query.created_from, false),
        created_to: instant(&mut errs, "created_to", &query.created_to, true),
        include_internal: false, // set by the service from the policy
        sort,
        oldest_first,
        after,
        limit: limit + 1,
    };
    errs.into_result()?;
    Ok((filter, limit))
}

/// A page size from `limit=`: 1 to `MAX_PAGE`, `default` when absent.
pub fn page_limit(errs: &mut FieldErrors, value: &Option<String>, default: u32) -> u32 {
    match present(value) {
        None => default,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errs.add("limit", format!("Use a number from 1 to {MAX_PAGE}"));
                default
            }
        },
    }
}

/// A keyset position from a cursor parameter named `field`, if one is given.
/// A place in a list ordered by time: the row's time and id (ties).
pub type Position = (DateTime<Utc>, Uuid);

pub fn position(errs: &mut FieldErrors, field: &str, value: &Option<String>) -> Option<Position> {
    let raw = present(value)?;
    let decoded = decode_position(raw);
    errs.check(
        decoded.is_some(),
        field,
        "This cursor is not valid; start from the first page",
    );
    decoded
}

/// Where the next page starts: the last row's sort value and id.
pub fn encode_cursor(ticket: &Ticket, sort: SortKey) -> String {
    let at = match sort {
        SortKey::Created => ticket.created_at,
        SortKey::Updated => ticket.updated_at,
        SortKey::SlaDue => ticket.sla_due_at.unwrap_or_else(no_sla_due),
    };
    encode_position(at, ticket.id)
}

fn no_sla_due() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(crate::server::db::tickets::NO_SLA_DUE)
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// An opaque cursor for a keyset position: a row's timestamp and id.
pub fn encode_position(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", at.to_rfc3339(), id))
}

fn decode_position(raw: &str) -> Option<Position> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

/// One page: `limit` items and the cursor to the next page, if any.
pub fn paginate(
    mut items: Vec<Ticket>,
    limit: u32,
    sort: SortKey,
) -> (Vec<Ticket>, Option<String>) {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        let next = items.last().map(|t| encode_cursor(t, sort));
        (items, next)
    } else {
        (items, None)
    }
}
