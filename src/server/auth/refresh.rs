//! Refresh-token policy: opaque random tokens, stored hashed, rotated on
//! every use. Presenting a spent token means it leaked (or a client
//! misbehaves), so the whole session family is revoked — except within a
//! short grace window for the browser, whose parallel requests can race to
//! rotate the same cookie. Each token records which kind of client it was
//! handed to: one handed to an API client never gets that grace, however it
//! comes back (a replayed API token sent as a cookie is still a replay).

use crate::domain::wire_enum;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long after a rotation a browser may still present the old cookie.
pub const BROWSER_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// A fresh token: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps: a token is only as good as its hash lookup.
pub fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredRefresh {
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub issued_to: Presenter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    Rotate,
    /// Benign browser race: keep the session, issue no new refresh token.
    Continue,
    RevokeFamily,
    Reject,
}

wire_enum! {
    /// The kind of client a token is handed to (stored with it as
    /// `issued_to`) or presented by. API clients get strict single use.
    Presenter { ApiClient => "api_client", Browser => "browser" }
}

pub fn decide(stored: &StoredRefresh, now: DateTime<Utc>, presenter: Presenter) -> RefreshDecision {
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return RefreshDecision::Reject;
    }
    // The race the grace window forgives only happens between a browser's
    // own requests: the token must have gone to a browser and come back as
    // its cookie.
    let browser_race = stored.issued_to == Presenter::Browser && presenter == Presenter::Browser;
    match stored.used_at {
        None => RefreshDecision::Rotate,
        Some(used) if browser_race && now - used <= BROWSER_GRACE => RefreshDecision::Continue,
        Some(_) => RefreshDecision::RevokeFamily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn stored(now: DateTime<Utc>) -> StoredRefresh {
        StoredRefresh {
            user_id: Uuid::now_v7(),
            family_id: Uuid::now_v7(),
            expires_at: now + TimeDelta::days(30),
            used_at: None,
            revoked_at: None,
            issued_to: Presenter::Browser,
        }
    }

    #[test]
    fn fresh_token_rotates() {
        let now = Utc::now();
        assert_eq!(
            decide(&stored(now), now, Presenter::ApiClient),
            RefreshDecision::Rotate
        );
    }

    #[test]
    fn replayed_token_revokes_the_family_for_api_clients() {
        let now = Utc::now();
        let mut s = stored(now);
        s.used_at = Some(now - TimeDelta::seconds(1));
        assert_eq!(
            decide(&s, now, Presenter::ApiClient),
            RefreshDecision::RevokeFamily
        );
    }

    #[test]
    fn browser_race_is_tolerated_only_within_grace() {
        let now = Utc::now();
        let mut s = stored(now);
        s.used_at = Some(now - TimeDelta::seconds(2));
        assert_eq!(
            decide(&s, now, Presenter::Browser),
            RefreshDecision::Continue
        );
        s.used_at = Some(now - BROWSER_GRACE - TimeDelta::seconds(1));
        assert_eq!(
            decide(&s, now, Presenter::Browser),
            RefreshDecision::RevokeFamily
        );
    }

    #[test]
    fn a_token_issued_to_an_api_client_is_single_use_even_as_a_cookie() {
        let now = Utc::now();
        let mut s = stored(now);
        s.issued_to = Presenter::ApiClient;
        s.used_at = Some(now - TimeDelta::seconds(1));
        for presenter in [Presenter::Browser, Presenter::ApiClient] {
            assert_eq!(decide(&s, now, presenter), RefreshDecision::RevokeFamily);
        }
    }

    #[test]
    fn expired_or_revoked_tokens_are_rejected() {
        let now = Utc::now();
        let mut s = stored(now);
        s.expires_at = now;
        assert_eq!(decide(&s, now, Presenter::Browser), RefreshDecision::Reject);
        let mut s = stored(now);
        s.revoked_at = Some(now);
        assert_eq!(
            decide(&s, now, Presenter::ApiClient),
            RefreshDecision::Reject
        );
    }

    #[test]
    fn tokens_are_unique_and_hashes_stable() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_ne!(hash_token(&a), a);
    }

    proptest::proptest! {
        /// Whatever the timing, a token is only ever rotated when it is
        /// live and unspent, and a spent token never rotates again.
        #[test]
        fn only_live_unspent_tokens_rotate(
            expires_in in -100_000i64..100_000,
            used_ago in proptest::option::of(0i64..100_000),
            revoked in proptest::bool::ANY,
            browser in proptest::bool::ANY,
            issued_to_browser in proptest::bool::ANY,
        ) {
            let now = Utc::now();
            let s = StoredRefresh {
                user_id: Uuid::nil(),
                family_id: Uuid::nil(),
                expires_at: now + TimeDelta::seconds(expires_in),
                used_at: used_ago.map(|ago| now - TimeDelta::seconds(ago)),
                revoked_at: revoked.then_some(now),
                issued_to: if issued_to_browser { Presenter::Browser } else { Presenter::ApiClient },
            };
            let presenter = if browser { Presenter::Browser } else { Presenter::ApiClient };
            let decision = decide(&s, now, presenter);
            let live = !revoked && expires_in > 0;
            proptest::prop_assert_eq!(decision == RefreshDecision::Rotate, live && used_ago.is_none());
            if !live {
                proptest::prop_assert_eq!(decision, RefreshDecision::Reject);
            }
            // Only a browser's own cookie, presented by the browser, is ever
            // forgiven a second use.
            if presenter == Presenter::ApiClient || !issued_to_browser {
                proptest::prop_assert_ne!(decision, RefreshDecision::Continue);
            }
        }
    }
}
