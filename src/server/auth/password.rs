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

/// False for a wrong password or a malformed hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same effort as a real check, so an unknown email takes as long
/// to refuse as a wrong password.
pub fn burn_verification_time(password: &str) {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_password("not-a-real-password").expect("argon2 with default params"));
    let _ = verify_password(password, &DUMMY);
}

/// Hashing is CPU-bound (~tens of ms); keep it off the async workers.
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

pub async fn verify_password_blocking(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            burn_verification_time(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "same password must get different salts");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse battery!", &a));
    }

    #[test]
    fn malformed_hash_never_verifies() {
        assert!(!verify_password("anything", ""));
        assert!(!verify_password("anything", "plaintext"));
    }
}
