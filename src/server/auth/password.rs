//! Password hashing with Argon2id (the `argon2` crate's defaults follow the
//! OWASP recommendation: 19 MiB, 2 passes, 1 lane).

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::LazyLock;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// A hash with the same parameters as every real one, of a password nobody
/// has: checked against when there is no usable hash, so an unknown email, a
/// deactivated account or a contact without a password (`"!"`) is refused
/// after the same Argon2 work as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not-a-real-password").expect("argon2 with default params"));

/// The hash a password is checked against, and whether a match counts: the
/// stored one, or the dummy when there is none or it does not parse.
fn hash_to_verify(stored: Option<&str>) -> (PasswordHash<'_>, bool) {
    match stored.and_then(|hash| PasswordHash::new(hash).ok()) {
        Some(parsed) => (parsed, true),
        None => (
            PasswordHash::new(&DUMMY_HASH).expect("the dummy hash is well-formed"),
            false,
        ),
    }
}

/// True when `password` matches the stored hash; always one full Argon2
/// verification, whatever the outcome.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let (hash, counts) = hash_to_verify(stored);
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    counts && matches
}

/// Hashing is CPU-bound (~tens of ms); keep it off the async workers.
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

pub async fn verify_password_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::users::NO_PASSWORD;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "same password must get different salts");
        assert!(verify_password("correct horse battery", Some(&a)));
        assert!(!verify_password("correct horse battery!", Some(&a)));
    }

    #[test]
    fn malformed_hash_never_verifies() {
        assert!(!verify_password("anything", Some("")));
        assert!(!verify_password("anything", Some("plaintext")));
    }

    /// No user, no password (a contact) or an unreadable hash: the check
    /// still runs Argon2, against the dummy, at the cost of a real hash —
    /// and the dummy's own password does not get anyone in.
    #[test]
    fn refusals_without_a_usable_hash_do_the_same_work() {
        let real_hash = hash_password("correct horse battery").unwrap();
        let real = PasswordHash::new(&real_hash).unwrap();
        let (genuine, counts) = hash_to_verify(Some(&real_hash));
        assert!(counts);
        assert_eq!(genuine.to_string(), real_hash);
        for stored in [None, Some(NO_PASSWORD), Some(""), Some("plaintext")] {
            let (hash, counts) = hash_to_verify(stored);
            assert!(!counts, "{stored:?}");
            assert_eq!(hash.to_string(), *DUMMY_HASH, "{stored:?}");
            assert_eq!(hash.algorithm, real.algorithm);
            assert_eq!(hash.version, real.version);
            assert_eq!(hash.params, real.params, "the same Argon2 cost");
            assert!(!verify_password("not-a-real-password", stored));
        }
    }
}
