//! Short-lived access tokens: HS256 JWTs carrying who the caller is, so most
//! requests are authorized without a database round trip.

use crate::domain::{Role, SessionUser};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    pub org: Uuid,
    pub org_name: String,
    pub role: Role,
    pub email: String,
    pub name: String,
    /// The session (refresh-token family) this token was issued for.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn new(user: &SessionUser, session: Uuid, now: i64, ttl: Duration) -> Claims {
        Claims {
            sub: user.id,
            org: user.organization_id,
            org_name: user.organization_name.clone(),
            role: user.role,
            email: user.email.clone(),
            name: user.name.clone(),
            sid: session,
            iat: now,
            exp: now + ttl.as_secs() as i64,
        }
    }

    pub fn session_user(&self) -> SessionUser {
        SessionUser {
            id: self.sub,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role,
            organization_id: self.org,
            organization_name: self.org_name.clone(),
        }
    }
}

/// The audience of magic links. Access tokens carry no audience, and each
/// kind's validation refuses the other (jsonwebtoken rejects an `aud` that
/// was not asked for), so neither can stand in for the other.
pub const MAGIC_LINK_AUDIENCE: &str = "fieldesk:magic-link";

/// A magic link: lets the requester of one ticket follow it without an
/// account. Bound to that ticket; expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MagicLinkClaims {
    /// The requester's user id.
    pub sub: Uuid,
    pub org: Uuid,
    /// The one ticket this link opens.
    pub tkt: Uuid,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl MagicLinkClaims {
    pub fn new(requester: Uuid, org: Uuid, ticket: Uuid, now: i64, ttl: Duration) -> Self {
        MagicLinkClaims {
            sub: requester,
            org,
            tkt: ticket,
            aud: MAGIC_LINK_AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
        }
    }
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    magic_link_validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let mut magic_link_validation = validation.clone();
        magic_link_validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        magic_link_validation.set_audience(&[MAGIC_LINK_AUDIENCE]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            magic_link_validation,
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        self.sign_any(claims)
    }

    pub fn sign_magic_link(&self, claims: &MagicLinkClaims) -> String {
        self.sign_any(claims)
    }

    fn sign_any(&self, claims: &impl Serialize) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// The claims of a valid, unexpired magic link signed by us.
    pub fn verify_magic_link(&self, token: &str) -> Option<MagicLinkClaims> {
        decode::<MagicLinkClaims>(token, &self.decoding, &self.magic_link_validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The claims of a valid, unexpired token signed by us.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> SessionUser {
        SessionUser {
            id: Uuid::now_v7(),
            email: "agent@acme.test".into(),
            name: "Ada Agent".into(),
            role: Role::Agent,
            organization_id: Uuid::now_v7(),
            organization_name: "Acme".into(),
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn issued_token_round_trips() {
        let keys = JwtKeys::new(b"test-secret-test-secret-test-secret");
        let user = user();
        let sid = Uuid::now_v7();
        let token = keys.sign(&Claims::new(&user, sid, now(), Duration::from_secs(60)));
        let claims = keys.verify(&token).expect("valid token");
        assert_eq!(claims.session_user(), user);
        assert_eq!(claims.sid, sid);
    }

    #[test]
    fn expired_token_is_refused() {
        let keys = JwtKeys::new(b"test-secret-test-secret-test-secret");
        let token = keys.sign(&Claims::new(
            &user(),
            Uuid::now_v7(),
            now() - 3600,
            Duration::from_secs(900),
        ));
        assert_eq!(keys.verify(&token), None);
    }

    #[test]
    fn token_signed_with_another_key_is_refused() {
        let ours = JwtKeys::new(b"our-secret-our-secret-our-secret");
        let theirs = JwtKeys::new(b"their-secret-their-secret-their");
        let token = theirs.sign(&Claims::new(
            &user(),
            Uuid::now_v7(),
            now(),
            Duration::from_secs(60),
        ));
        assert_eq!(ours.verify(&token), None);
        assert_eq!(ours.verify("not.a.jwt"), None);
    }

    fn magic_link(now: i64, ttl: u64) -> MagicLinkClaims {
        MagicLinkClaims::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            now,
            Duration::from_secs(ttl),
        )
    }

    #[test]
    fn magic_link_round_trips_and_expires() {
        let keys = JwtKeys::new(b"test-secret-test-secret-test-secret");
        let claims = magic_link(now(), 60);
        let token = keys.sign_magic_link(&claims);
        assert_eq!(keys.verify_magic_link(&token), Some(claims));
        let expired = keys.sign_magic_link(&magic_link(now() - 3600, 60));
        assert_eq!(keys.verify_magic_link(&expired), None);
    }

    #[test]
    fn magic_links_and_access_tokens_are_not_interchangeable() {
        let keys = JwtKeys::new(b"test-secret-test-secret-test-secret");
        let link = keys.sign_magic_link(&magic_link(now(), 60));
        assert_eq!(keys.verify(&link), None);
        let access = keys.sign(&Claims::new(
            &user(),
            Uuid::now_v7(),
            now(),
            Duration::from_secs(60),
        ));
        assert_eq!(keys.verify_magic_link(&access), None);
        // Another audience is refused even with every field present.
        let mut other = magic_link(now(), 60);
        other.aud = "something-else".into();
        assert_eq!(keys.verify_magic_link(&keys.sign_magic_link(&other)), None);
    }

    #[test]
    fn tampered_role_is_refused() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let keys = JwtKeys::new(b"test-secret-test-secret-test-secret");
        let token = keys.sign(&Claims::new(
            &user(),
            Uuid::now_v7(),
            now(),
            Duration::from_secs(60),
        ));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("\"agent\"", "\"admin\""));
        assert_eq!(keys.verify(&parts.join(".")), None);
    }
}
