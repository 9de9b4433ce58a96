//! Users and organizations as the API and the UI see them.

use super::error::{ApiError, FieldErrors};
use super::role::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user as returned by the API (never includes secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organization_id: Uuid,
    /// False once an administrator deactivated the account: it can no longer
    /// sign in, and its sessions were ended.
    pub active: bool,
}

/// The signed-in user as the UI needs it: who, what role, which organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organization_id: Uuid,
    pub organization_name: String,
}

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 256;
pub const MAX_NAME_LEN: usize = 200;
/// The longest address SMTP can deliver to (RFC 5321 path limit, less `<>`).
pub const MAX_EMAIL_LEN: usize = 254;

/// Lower-cases and trims an email so lookups and uniqueness ignore case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A deliberately small check: one `@`, something on each side, a dot in the
/// domain, no spaces. Delivery is the real proof.
pub fn is_plausible_email(email: &str) -> bool {
    let email = email.trim();
    if email.len() > MAX_EMAIL_LEN || email.chars().any(char::is_whitespace) {
        return false;
    }
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// The password policy for any password being set (sign-up, an
/// administrator's reset, a change), reported on `field`.
pub fn check_password_policy(errs: &mut FieldErrors, field: &str, password: &str) {
    errs.check(
        password.chars().count() >= MIN_PASSWORD_LEN,
        field,
        &format!("Use at least {MIN_PASSWORD_LEN} characters"),
    );
    errs.check(
        password.len() <= MAX_PASSWORD_LEN,
        field,
        &format!("Use at most {MAX_PASSWORD_LEN} characters"),
    );
}

/// The email of a new account, normalized the way sign-in normalizes it.
pub fn check_new_email(errs: &mut FieldErrors, field: &str, email: &str) -> String {
    let email = normalize_email(email);
    if email.is_empty() {
        errs.add(field, "Enter an email address");
    } else if !is_plausible_email(&email) {
        errs.add(field, "Enter a valid email address, like name@example.com");
    }
    email
}

/// A person's name: required, trimmed, at most `MAX_NAME_LEN` characters.
pub fn check_name(errs: &mut FieldErrors, field: &str, name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        errs.add(field, "Enter a name");
    } else if name.chars().count() > MAX_NAME_LEN {
        errs.add(field, format!("Use at most {MAX_NAME_LEN} characters"));
    }
    name.to_owned()
}

/// Rules for a new password, shared by the profile form and the server.
pub fn validate_new_password(current: &str, new: &str, confirm: &str) -> Result<(), ApiError> {
    let mut errs = FieldErrors::new();
    errs.check(
        !current.is_empty(),
        "current_password",
        "Enter your current password",
    );
    check_password_policy(&mut errs, "new_password", new);
    errs.check(
        new != current || new.is_empty(),
        "new_password",
        "Choose a password different from the current one",
    );
    errs.check(
        new == confirm,
        "confirm_password",
        "The passwords do not match",
    );
    errs.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email("  Agent@ACME.test "), "agent@acme.test");
        assert!(is_plausible_email("a@b.co"));
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@.co", "a@co.",
        ] {
            assert!(!is_plausible_email(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn new_password_rules() {
        assert!(validate_new_password("old-secret", "new-secret-1", "new-secret-1").is_ok());
        let e = validate_new_password("", "short", "other").unwrap_err();
        assert!(e.field("current_password").is_some());
        assert!(e.field("new_password").unwrap().contains("at least"));
        assert!(
            e.field("confirm_password")
                .unwrap()
                .contains("do not match")
        );
        let same = validate_new_password("same-password", "same-password", "same-password");
        assert!(same.unwrap_err().field("new_password").is_some());
    }

    #[test]
    fn new_account_fields() {
        let mut errs = FieldErrors::new();
        assert_eq!(
            check_new_email(&mut errs, "email", " New@Example.COM "),
            "new@example.com"
        );
        assert_eq!(check_name(&mut errs, "name", "  Pat Person "), "Pat Person");
        check_password_policy(&mut errs, "password", "long-enough-1");
        check_name(&mut errs, "name", &"é".repeat(MAX_NAME_LEN));
        assert!(errs.into_result().is_ok());

        let mut errs = FieldErrors::new();
        check_new_email(&mut errs, "email", "not-an-email");
        check_name(&mut errs, "name", "   ");
        check_password_policy(&mut errs, "password", "short");
        let err = errs.into_result().unwrap_err();
        assert!(err.field("email").unwrap().contains("valid email"));
        assert_eq!(err.field("name"), Some("Enter a name"));
        assert!(err.field("password").unwrap().contains("at least"));

        let mut errs = FieldErrors::new();
        check_new_email(&mut errs, "email", "  ");
        check_name(&mut errs, "name", &"x".repeat(MAX_NAME_LEN + 1));
        check_password_policy(&mut errs, "password", &"p".repeat(MAX_PASSWORD_LEN + 1));
        let err = errs.into_result().unwrap_err();
        assert_eq!(err.field("email"), Some("Enter an email address"));
        assert!(err.field("name").unwrap().contains("at most"));
        assert!(err.field("password").unwrap().contains("at most"));
    }
}
