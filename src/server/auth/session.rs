//! Who is calling. A middleware resolves the caller once per request — from
//! a Bearer token (API clients) or the session cookies (browser) — and puts
//! a `Session` in the request extensions for handlers and server functions.
//! When the browser's access cookie has expired, the refresh cookie renews
//! it transparently.

use super::principal::Principal;
use super::refresh::Presenter;
use super::service::{self, IssuedSession};
use super::token::Claims;
use crate::domain::{ApiError, Area, SessionUser};
use crate::server::config::Config;
use crate::server::error::{AppError, api_error_response};
use crate::server::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, SameSite};
use std::time::Duration;

pub const ACCESS_COOKIE: &str = "fd_access";
pub const REFRESH_COOKIE: &str = "fd_refresh";

/// The authenticated caller of this request: the token they presented
/// (which session it belongs to) and the principal services act for, with
/// the role the database holds now.
#[derive(Debug, Clone)]
pub struct Session {
    pub claims: Claims,
    pub principal: Principal,
}

impl Session {
    /// The signed-in user as the UI shows them: the token's names, the
    /// current role.
    pub fn user(&self) -> SessionUser {
        let mut user = self.claims.session_user();
        if let Principal::User(person) = &self.principal {
            user.role = person.role;
            user.name = person.name.clone();
        }
        user
    }

    pub fn require_area(&self, area: Area) -> Result<(), ApiError> {
        match &self.principal {
            Principal::User(person) if person.role.may_enter(area) => Ok(()),
            _ => Err(ApiError::forbidden()),
        }
    }
}

/// The session for verified `claims` if their person is still active, with
/// their current role.
async fn session_for(state: &AppState, claims: Claims) -> Result<Option<Session>, AppError> {
    let person = state
        .standings
        .get(&state.db, claims.org, claims.sub)
        .await?;
    Ok(person.map(|person| Session {
        claims,
        principal: Principal::User(person),
    }))
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of one of our cookies in the request.
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn cookie_header(name: &str, value: &str, max_age: Duration, config: &Config) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.secure_cookies)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are URL-safe")
}

/// Set-Cookie headers that store a session in the browser.
pub fn session_cookies(config: &Config, issued: &IssuedSession) -> Vec<HeaderValue> {
    let mut headers = vec![cookie_header(
        ACCESS_COOKIE,
        &issued.access_token,
        config.access_ttl(),
        config,
    )];
    if let Some(refresh) = &issued.refresh_token {
        headers.push(cookie_header(
            REFRESH_COOKIE,
            refresh,
            config.refresh_ttl(),
            config,
        ));
    }
    headers
}

/// Set-Cookie headers that remove the session from the browser.
pub fn clearing_cookies(config: &Config) -> Vec<HeaderValue> {
    [ACCESS_COOKIE, REFRESH_COOKIE]
        .into_iter()
        .map(|name| cookie_header(name, "", Duration::ZERO, config))
        .collect()
}

pub async fn resolve_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut renewed_cookies = Vec::new();
    let mut claims = None;
    if let Some(token) = bearer_token(req.headers()) {
        // A bad Bearer token is not rescued by cookies: API clients must see 401.
        claims = state.keys.verify(token);
    } else if let Some(verified) =
        request_cookie(req.headers(), ACCESS_COOKIE).and_then(|t| state.keys.verify(&t))
    {
        claims = Some(verified);
    } else if let Some(refresh) = request_cookie(req.headers(), REFRESH_COOKIE) {
        match service::refresh(&state, &refresh, Presenter::Browser).await {
            Ok(issued) => {
                renewed_cookies = session_cookies(&state.config, &issued);
                claims = Some(issued.claims);
            }
            Err(AppError::Api(_)) => renewed_cookies = clearing_cookies(&state.config),
            Err(e) => tracing::error!(error = ?e.into_api_error(), "session refresh failed"),
        }
    }
    if let Some(claims) = claims {
        match session_for(&state, claims).await {
            Ok(Some(session)) => {
                req.extensions_mut().insert(session);
            }
            // Deactivated since the token was issued: not signed in.
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = ?e.into_api_error(), "reading the caller's standing failed");
                return api_error_response(ApiError::internal());
            }
        }
    }
    let mut res = next.run(req).await;
    // A handler that set cookies itself (sign-in, sign-out) has the last word.
    if !res.headers().contains_key(SET_COOKIE) {
        for cookie in renewed_cookies {
            res.headers_mut().append(SET_COOKIE, cookie);
        }
    }
    res
}

/// CSRF defence in depth on top of SameSite=Lax cookies: a state-changing
/// request that names its origin must come from this host.
pub async fn check_origin(req: Request, next: Next) -> Response {
    if !req.method().is_safe() && !same_origin(req.headers()) {
        return api_error_response(ApiError::new(
            crate::domain::ErrorKind::Forbidden,
            "Cross-origin request refused",
        ));
    }
    next.run(req).await
}

pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let claimed = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(claimed) = claimed else {
        // Not a browser (browsers always send Origin on POST): nothing to check.
        return true;
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let claimed_authority = claimed
        .parse::<Uri>()
        .ok()
        .and_then(|uri| uri.authority().map(|a| a.as_str().to_owned()));
    matches!((claimed_authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// REST extractor: the signed-in caller, or 401.
pub struct Caller(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| AppError::Api(ApiError::unauthorized()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origin_must_match_host() {
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.test")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("referer", "http://evil.test/x")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "null")
        ])));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:3000")])));
    }

    #[test]
    fn bearer_and_cookies_are_read() {
        let h = headers(&[
            ("authorization", "Bearer abc.def"),
            ("cookie", "x=1; fd_access=tok; fd_refresh=ref"),
        ]);
        assert_eq!(bearer_token(&h), Some("abc.def"));
        assert_eq!(request_cookie(&h, ACCESS_COOKIE).as_deref(), Some("tok"));
        assert_eq!(request_cookie(&h, REFRESH_COOKIE).as_deref(), Some("ref"));
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Basic xyz")])),
            None
        );
    }

    #[test]
    fn areas_follow_the_current_role() {
        use crate::domain::Role;
        use crate::server::auth::principal::Person;
        use uuid::Uuid;
        let session = |token_role, current_role| {
            let user = SessionUser {
                id: Uuid::now_v7(),
                email: "x@y.test".into(),
                name: "X".into(),
                role: token_role,
                organization_id: Uuid::now_v7(),
                organization_name: "Y".into(),
            };
            Session {
                claims: Claims::new(&user, Uuid::now_v7(), 0, Duration::from_secs(60)),
                principal: Principal::User(Person {
                    id: user.id,
                    org: user.organization_id,
                    role: current_role,
                    name: "X now".into(),
                }),
            }
        };
        assert!(
            session(Role::Agent, Role::Agent)
                .require_area(Area::Admin)
                .is_err()
        );
        assert!(
            session(Role::Admin, Role::Admin)
                .require_area(Area::Admin)
                .is_ok()
        );
        // Demoted since the token was issued: the database's role decides.
        let demoted = session(Role::Admin, Role::Agent);
        assert!(demoted.require_area(Area::Admin).is_err());
        assert_eq!(demoted.user().role, Role::Agent);
        assert_eq!(demoted.user().name, "X now");
        assert_eq!(
            session(Role::Customer, Role::Customer)
                .require_area(Area::Desk)
                .unwrap_err()
                .kind
                .status(),
            403
        );
    }
}
