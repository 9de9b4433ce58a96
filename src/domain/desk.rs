//! How an organization's desk is set up: teams, agent skills, categories,
//! custom ticket fields, companies, canned responses and saved views.

use super::error::FieldErrors;
use super::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum!(
    /// How `assign {auto: true}` picks one of a team's agents.
    AssignmentStrategy {
        RoundRobin => "round_robin",
        LeastLoaded => "least_loaded",
        Skills => "skills",
    }
);

wire_enum!(
    /// What a custom ticket field holds.
    FieldKind {
        Text => "text",
        Number => "number",
        Date => "date",
        Select => "select",
        MultiSelect => "multi_select",
        Checkbox => "checkbox",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub assignment: AssignmentStrategy,
    pub member_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct Skill {
    pub id: Uuid,
    pub name: String,
}

/// One skill of an agent, 1 (basic) to 5 (expert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct AgentSkill {
    pub skill_id: Uuid,
    pub proficiency: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct Category {
    pub id: Uuid,
    pub name: String,
    /// The team new tickets of this category go to.
    pub team_id: Option<Uuid>,
    /// The skill skills-based assignment looks for.
    pub skill_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CustomField {
    pub id: Uuid,
    /// Stable name in the API (`custom_fields.<key>`): lower-case, digits, `_`.
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// The choices of a select or multi-select field.
    pub options: Vec<String>,
    pub required: bool,
    /// Customers see (and on the portal form, fill in) only these.
    pub customer_visible: bool,
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct Company {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct CannedResponse {
    pub id: Uuid,
    pub title: String,
    /// May hold placeholders such as `{{customer.name}}` and `{{ticket.number}}`.
    pub body: String,
}

/// A queue someone saved: its name and the query string of its filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct SavedView {
    pub id: Uuid,
    pub name: String,
    pub query: String,
}

/// A manager's 1–5 rating of how an agent handled a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct AgentRating {
    pub ticket_id: Uuid,
    pub agent_id: Uuid,
    pub rated_by: Uuid,
    pub score: i32,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub const MAX_SETUP_NAME_LEN: usize = 100;
pub const MAX_CANNED_BODY_LEN: usize = 20_000;
pub const MAX_FIELD_OPTIONS: usize = 200;

/// A display name (team, skill, category, field label, company, view):
/// present and short. Returns it trimmed.
pub fn check_name(errs: &mut FieldErrors, field: &str, name: &str) -> String {
    let name = name.trim();
    errs.check(!name.is_empty(), field, "Enter a name");
    errs.check(
        name.chars().count() <= MAX_SETUP_NAME_LEN,
        field,
        &format!("Keep it under {MAX_SETUP_NAME_LEN} characters"),
    );
    name.to_owned()
}

/// A custom field's key: `a-z`, digits and `_`, starting with a letter.
pub fn check_field_key(errs: &mut FieldErrors, key: &str) {
    let ok = key.len() <= 50
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    errs.check(
        ok,
        "key",
        "Use lower-case letters, digits and _, starting with a letter",
    );
}

/// A select field's choices: non-empty, distinct, short.
pub fn check_field_options(errs: &mut FieldErrors, kind: FieldKind, options: &[String]) {
    let choice = matches!(kind, FieldKind::Select | FieldKind::MultiSelect);
    if !choice {
        errs.check(
            options.is_empty(),
            "options",
            "Only select fields have options",
        );
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    errs.check(!options.is_empty(), "options", "Give the choices");
    errs.check(
        options.len() <= MAX_FIELD_OPTIONS,
        "options",
        &format!("Use at most {MAX_FIELD_OPTIONS} choices"),
    );
    errs.check(
        options.iter().all(|o| {
            !o.trim().is_empty() && o.chars().count() <= MAX_SETUP_NAME_LEN && seen.insert(o)
        }),
        "options",
        "Choices must be distinct, non-empty and short",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_keys_are_identifiers() {
        for good in ["warranty", "serial_no2"] {
            let mut errs = FieldErrors::new();
            check_field_key(&mut errs, good);
            assert!(errs.into_result().is_ok(), "{good}");
        }
        for bad in ["", "2fa", "Serial", "serial no", "x-y", &"a".repeat(51)] {
            let mut errs = FieldErrors::new();
            check_field_key(&mut errs, bad);
            assert!(errs.into_result().is_err(), "{bad}");
        }
    }

    #[test]
    fn options_belong_to_select_fields_and_are_distinct() {
        let opts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let check = |kind, options: &[String]| {
            let mut errs = FieldErrors::new();
            check_field_options(&mut errs, kind, options);
            errs.into_result().is_ok()
        };
        assert!(check(FieldKind::Select, &opts(&["a", "b"])));
        assert!(!check(FieldKind::Select, &[]));
        assert!(!check(FieldKind::MultiSelect, &opts(&["a", "a"])));
        assert!(!check(FieldKind::Select, &opts(&["a", " "])));
        assert!(!check(FieldKind::Text, &opts(&["a"])));
        assert!(check(FieldKind::Checkbox, &[]));
    }
}
