//! The audit service: where a request came from (`Origin`, taken once per
//! request), the rows a change writes inside its own transaction
//! (`record`), and the organization's log as administrators read it
//! (`page`, behind `GET /api/v1/audit` and the `/admin/audit` page).
//!
//! A capability that changes something writes, in the `Tx` of the change,
//! `record(&mut tx, org, actor, origin, Owner::…(id), &lines)` with one
//! `FieldChange` per changed field (`changes` keeps only real changes), or
//! one line naming the action.

use crate::domain::audit::{AuditPage, AuditQuery, OwnerType};
use crate::domain::event::Source;
use crate::domain::{ApiError, Capability, FieldErrors};
use crate::engine::ticket_change::FieldChange;
use crate::server::auth::Principal;
use crate::server::db::Tx;
use crate::server::db::audit::{self as store, LogFilter, Stamp};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::ticket_query::{self, encode_position, instant, page_limit, position};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use chrono::Utc;
use std::borrow::Cow;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use uuid::Uuid;

/// The longest user agent kept (longer ones are cut).
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// Where a request came from: the way in (the web app or the API), the
/// client's address (the peer of the connection) and its user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: Source,
    /// Unspecified (0.0.0.0) when the request carried no peer address.
    pub ip: IpAddr,
    pub user_agent: Option<String>,
}

impl Origin {
    /// The origin of the request `parts` belong to, come in through `source`.
    pub fn from_parts(parts: &Parts, source: Source) -> Origin {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(clean_user_agent);
        Origin {
            source,
            ip,
            user_agent,
        }
    }

    /// Work that no request carries (an import run, a rule, the demo seed).
    pub fn internal(source: Source) -> Origin {
        Origin {
            source,
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            user_agent: None,
        }
    }

    /// The address as stored: None when there was none.
    pub fn ip_text(&self) -> Option<String> {
        (!self.ip.is_unspecified()).then(|| self.ip.to_string())
    }
}

/// A user agent as stored: trimmed, at most `MAX_USER_AGENT_CHARS`, None if empty.
fn clean_user_agent(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.chars().take(MAX_USER_AGENT_CHARS).collect())
}

/// REST handlers take the origin as an extractor: the API's way in.
impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin::from_parts(parts, Source::Api))
    }
}

/// What an audit row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub kind: OwnerType,
    pub id: Option<Uuid>,
}

impl Owner {
    pub fn ticket(id: Uuid) -> Owner {
        Owner {
            kind: OwnerType::Ticket,
            id: Some(id),
        }
    }

    pub fn user(id: Uuid) -> Owner {
        Owner {
            kind: OwnerType::User,
            id: Some(id),
        }
    }

    /// A desk setting (team, skill, category, custom field, company, canned
    /// response), by its id; the lines' fields name the kind.
    pub fn setting(id: Uuid) -> Owner {
        Owner {
            kind: OwnerType::Setting,
            id: Some(id),
        }
    }
}

/// One audit line: `field` went from `old` to `new`.
pub fn line(
    field: impl Into<Cow<'static, str>>,
    old: Option<String>,
    new: Option<String>,
) -> FieldChange {
    FieldChange {
        field: field.into(),
        old,
        new,
    }
}

/// The lines of the fields whose value really changed, in the given order.
pub fn changes<I>(fields: I) -> Vec<FieldChange>
where
    I: IntoIterator<Item = (&'static str, Option<String>, Option<String>)>,
{
    fields
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| line(field, old, new))
        .collect()
}

/// Writes `lines` about `owner` of organization `org`, done by `actor` (None:
/// the system, or nobody signed in) from `origin`, in the change's `tx`.
pub async fn record(
    tx: &mut Tx,
    org: Option<Uuid>,
    actor: Option<Uuid>,
    origin: &Origin,
    owner: Owner,
    lines: &[FieldChange],
) -> Result<(), sqlx::Error> {
    if lines.is_empty() {
        return Ok(());
    }
    let ip = origin.ip_text();
    let stamp = Stamp {
        org,
        owner_type: owner.kind,
        owner_id: owner.id,
        actor_id: actor,
        source: origin.source,
        ip: ip.as_deref(),
        user_agent: origin.user_agent.as_deref(),
        at: Utc::now(),
    };
    store::insert(tx, &stamp, lines).await
}

/// Rows per page unless `limit=` says otherwise (at most `ticket_query::MAX_PAGE`).
pub const DEFAULT_PAGE: u32 = 50;

/// The store filter for a query (one extra row, to know whether another
/// page follows) and the page size; 422 with a message per bad field.
pub fn parse(q: &AuditQuery) -> Result<(LogFilter, u32), ApiError> {
    let mut errs = FieldErrors::new();
    let owner_type = errs.parse("owner_type", q.owner_type.as_deref(), OwnerType::parse);
    let limit = page_limit(&mut errs, &q.limit, DEFAULT_PAGE);
    let filter = LogFilter {
        owner_type,
        owner_id: ticket_query::id(&mut errs, "owner_id", &q.owner_id),
        actor_id: ticket_query::id(&mut errs, "actor_id", &q.actor_id),
        from: instant(&mut errs, "from", &q.from, false),
        to: instant(&mut errs, "to", &q.to, true),
        before: position(&mut errs, "cursor", &q.cursor),
        limit: limit + 1,
    };
    errs.into_result()?;
    Ok((filter, limit))
}

/// A page of the caller's organization's log, newest first.
pub async fn page(state: &AppState, caller: &Principal, q: &AuditQuery) -> AppResult<AuditPage> {
    caller.require(Capability::ManageSettings)?;
    let (filter, limit) = parse(q)?;
    let mut items = store::page(&state.db, caller.org(), &filter).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|e| encode_position(e.created_at, e.id))
    } else {
        None
    };
    Ok(AuditPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    #[test]
    fn only_real_changes_become_lines() {
        let lines = changes([
            ("name", Some("A".into()), Some("B".into())),
            ("role", Some("agent".into()), Some("agent".into())),
            ("active", None, Some("true".into())),
        ]);
        let fields: Vec<&str> = lines.iter().map(|l| &*l.field).collect();
        assert_eq!(fields, ["name", "active"]);
        assert_eq!(lines[0].old.as_deref(), Some("A"));
        assert_eq!(lines[0].new.as_deref(), Some("B"));
    }

    #[test]
    fn the_origin_keeps_address_and_a_bounded_user_agent() {
        let long = "x".repeat(MAX_USER_AGENT_CHARS + 50);
        let mut req = Request::builder()
            .header(USER_AGENT, &long)
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 9], 4000))));
        let (parts, ()) = req.into_parts();
        let origin = Origin::from_parts(&parts, Source::Ui);
        assert_eq!(origin.ip_text().as_deref(), Some("203.0.113.9"));
        assert_eq!(
            origin.user_agent.map(|ua| ua.chars().count()),
            Some(MAX_USER_AGENT_CHARS)
        );
        let bare = Origin::internal(Source::Import);
        assert_eq!(bare.ip_text(), None);
        assert_eq!(clean_user_agent("  "), None);
    }

    #[test]
    fn bad_filters_are_field_errors() {
        let bad = AuditQuery {
            owner_type: Some("spaceship".into()),
            owner_id: Some("nope".into()),
            from: Some("yesterday".into()),
            cursor: Some("!!".into()),
            ..AuditQuery::default()
        };
        let err = parse(&bad).unwrap_err();
        for field in ["owner_type", "owner_id", "from", "cursor"] {
            assert!(err.field(field).is_some(), "{field}: {err:?}");
        }
        let (filter, limit) = parse(&AuditQuery {
            owner_type: Some("ticket".into()),
            to: Some("2026-01-31".into()),
            ..AuditQuery::default()
        })
        .unwrap();
        assert_eq!(limit, DEFAULT_PAGE);
        assert_eq!(filter.limit, DEFAULT_PAGE + 1);
        assert_eq!(filter.owner_type, Some(OwnerType::Ticket));
        // A date's whole day: up to the next midnight.
        assert_eq!(
            filter.to.map(|t| t.to_rfc3339()),
            Some("2026-02-01T00:00:00+00:00".into())
        );
    }
}
