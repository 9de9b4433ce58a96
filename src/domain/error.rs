//! The one error shape clients see, from REST handlers and server functions
//! alike: `{"error": "...", "fields": {"field": "message"}}`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which HTTP status an error maps to. Kept out of the JSON body (the status
/// line carries it) but travels with server-function errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    /// What was asked for is no longer kept (live events past their retention).
    Gone,
    PayloadTooLarge,
    Validation,
    TooManyRequests,
    #[default]
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Gone => 410,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Validation => 422,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::Internal => 500,
        }
    }
}

/// The body of every 4xx/5xx answer: a message for people, and for a
/// validation error (422) one message per field that needs correcting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{error}")]
pub struct ApiError {
    #[serde(skip_serializing, default)]
    pub kind: ErrorKind,
    pub error: String,
    /// Field name → what is wrong with it; absent when no field is at fault.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            error: message.into(),
            fields: BTreeMap::new(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized, "Sign in to continue")
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "You do not have permission to do that",
        )
    }

    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "Not found")
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on our side; nothing was changed",
        )
    }

    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        ApiError {
            kind: ErrorKind::Validation,
            error: "Please correct the highlighted fields".into(),
            fields,
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Collects field-level problems so a form reports all of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Parses an optional wire value; an unknown one is a field error.
    pub fn parse<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
        let parsed = parse(raw);
        if parsed.is_none() {
            self.add(
                field,
                format!("Unknown {} `{raw}`", field.replace('_', " ")),
            );
        }
        parsed
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

// Server functions carry ApiError end to end, so the browser gets the same
// field messages as REST clients. The kind is kept on this path (unlike the
// REST body) so the client can tell "sign in again" from "fix this field".
mod server_fn_glue {
    use super::*;
    use leptos::server_fn::codec::JsonEncoding;
    use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        kind: ErrorKind,
        error: String,
        #[serde(default)]
        fields: BTreeMap<String, String>,
    }

    impl FromServerFnError for ApiError {
        type Encoder = JsonEncoding;

        fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
            match value {
                ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => ApiError::new(
                    ErrorKind::BadRequest,
                    "The request was incomplete or malformed",
                ),
                ServerFnErrorErr::Request(_) => ApiError::new(
                    ErrorKind::Internal,
                    "Could not reach the server; check your connection and try again",
                ),
                _ => ApiError::internal(),
            }
        }

        fn ser(&self) -> leptos::server_fn::Bytes {
            let wire = Wire {
                kind: self.kind,
                error: self.error.clone(),
                fields: self.fields.clone(),
            };
            serde_json::to_vec(&wire)
                .map(Into::into)
                .unwrap_or_default()
        }

        fn de(data: leptos::server_fn::Bytes) -> Self {
            match serde_json::from_slice::<Wire>(&data) {
                Ok(w) => ApiError {
                    kind: w.kind,
                    error: w.error,
                    fields: w.fields,
                },
                Err(_) => ApiError::internal(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::error::FromServerFnError;

    #[test]
    fn rest_body_omits_kind_and_empty_fields() {
        let body = serde_json::to_value(ApiError::not_found()).unwrap();
        assert_eq!(body, serde_json::json!({"error": "Not found"}));
    }

    #[test]
    fn validation_errors_list_every_field() {
        let mut errs = FieldErrors::new();
        errs.check(false, "email", "Enter an email address");
        errs.check(true, "name", "unused");
        errs.check(false, "password", "Too short");
        errs.add("email", "second message is ignored");
        let err = errs.into_result().unwrap_err();
        assert_eq!(err.kind.status(), 422);
        assert_eq!(err.field("email"), Some("Enter an email address"));
        assert_eq!(err.field("password"), Some("Too short"));
        assert_eq!(err.field("name"), None);
    }

    #[test]
    fn server_fn_wire_keeps_kind() {
        let err = ApiError::forbidden();
        let back = ApiError::de(err.ser());
        assert_eq!(back, err);
    }
}
