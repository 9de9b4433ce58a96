//! Custom ticket field values: checked against the organization's field
//! definitions (kind, choices, required, who may see them) and merged into
//! what the ticket already holds. Errors name `custom_fields.<key>`.

use crate::domain::FieldErrors;
use crate::domain::desk::{CustomField, FieldKind};
use crate::domain::ticket::CustomValues;
use serde_json::Value;

pub const MAX_TEXT_LEN: usize = 10_000;

/// Who is writing: customers may only touch the fields shown to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Customer,
    Staff,
}

fn path(key: &str) -> String {
    format!("custom_fields.{key}")
}

/// Empty text, no choices and JSON null all mean "no value".
fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The value as stored, or the message saying why it does not fit.
fn normalize(field: &CustomField, value: &Value) -> Result<Value, String> {
    let choice = |s: &str| field.options.iter().any(|o| o == s);
    match (field.kind, value) {
        (FieldKind::Text, Value::String(s)) if s.chars().count() <= MAX_TEXT_LEN => {
            Ok(Value::String(s.trim().to_owned()))
        }
        (FieldKind::Text, Value::String(_)) => Err("The text is too long".into()),
        (FieldKind::Number, Value::Number(_)) => Ok(value.clone()),
        (FieldKind::Date, Value::String(s)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| Value::String(d.to_string()))
            .map_err(|_| "Enter a date as YYYY-MM-DD".into()),
        (FieldKind::Select, Value::String(s)) if choice(s) => Ok(value.clone()),
        (FieldKind::MultiSelect, Value::Array(items)) => {
            let mut chosen = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if choice(s) => chosen.push(s),
                    _ => return Err(format!("Choose from: {}", field.options.join(", "))),
                }
            }
            // Stored in the field's own order, once each.
            Ok(Value::Array(
                field
                    .options
                    .iter()
                    .filter(|o| chosen.contains(&o.as_str()))
                    .map(|o| Value::String(o.clone()))
                    .collect(),
            ))
        }
        (FieldKind::Select, _) => Err(format!("Choose one of: {}", field.options.join(", "))),
        (FieldKind::Checkbox, Value::Bool(_)) => Ok(value.clone()),
        (FieldKind::Text, _) => Err("Enter text".into()),
        (FieldKind::Number, _) => Err("Enter a number".into()),
        (FieldKind::Date, _) => Err("Enter a date as YYYY-MM-DD".into()),
        (FieldKind::MultiSelect, _) => Err("Give a list of choices".into()),
        (FieldKind::Checkbox, _) => Err("Enter true or false".into()),
    }
}

/// Merges `changes` into `current`: each key sets its field, a blank value
/// (null, "", []) clears it. On `creating`, every required field the writer
/// can see must end up with a value; later, a required field cannot be
/// cleared. Unknown keys — and, for customers, fields they cannot see — are
/// errors, so nothing is silently dropped.
pub fn merge(
    errs: &mut FieldErrors,
    defs: &[CustomField],
    current: &CustomValues,
    changes: &CustomValues,
    writer: Writer,
    creating: bool,
) -> CustomValues {
    let visible = |f: &CustomField| writer == Writer::Staff || f.customer_visible;
    let mut next = current.clone();
    for (key, value) in changes {
        let Some(field) = defs.iter().find(|f| &f.key == key && visible(f)) else {
            errs.add(&path(key), "There is no such field");
            continue;
        };
        if is_blank(value) {
            errs.check(!field.required, &path(key), "This field is required");
            next.remove(key);
            continue;
        }
        match normalize(field, value) {
            Ok(v) => {
                next.insert(key.clone(), v);
            }
            Err(message) => errs.add(&path(key), message),
        }
    }
    if creating {
        for field in defs.iter().filter(|f| f.required && visible(f)) {
            if !next.contains_key(&field.key) {
                errs.add(&path(&field.key), "This field is required");
            }
        }
    }
    next
}

/// What a customer may see of a ticket's values.
pub fn visible_to_customer(defs: &[CustomField], values: &CustomValues) -> CustomValues {
    values
        .iter()
        .filter(|(key, _)| defs.iter().any(|f| &f.key == *key && f.customer_visible))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn field(key: &str, kind: FieldKind, required: bool, customer_visible: bool) -> CustomField {
        let options = match kind {
            FieldKind::Select | FieldKind::MultiSelect => {
                vec!["red".into(), "green".into(), "blue".into()]
            }
            _ => vec![],
        };
        CustomField {
            id: Uuid::now_v7(),
            key: key.into(),
            label: key.into(),
            kind,
            options,
            required,
            customer_visible,
            position: 0,
        }
    }

    fn defs() -> Vec<CustomField> {
        vec![
            field("serial", FieldKind::Text, true, true),
            field("units", FieldKind::Number, false, true),
            field("bought", FieldKind::Date, false, true),
            field("colour", FieldKind::Select, false, true),
            field("extras", FieldKind::MultiSelect, false, true),
            field("vip", FieldKind::Checkbox, false, false),
        ]
    }

    fn values(v: serde_json::Value) -> CustomValues {
        serde_json::from_value(v).unwrap()
    }

    fn run(
        current: &CustomValues,
        changes: serde_json::Value,
        writer: Writer,
        creating: bool,
    ) -> Result<CustomValues, crate::domain::ApiError> {
        let mut errs = FieldErrors::new();
        let next = merge(
            &mut errs,
            &defs(),
            current,
            &values(changes),
            writer,
            creating,
        );
        errs.into_result().map(|()| next)
    }

    #[test]
    fn every_kind_is_checked_and_normalized() {
        let ok = run(
            &CustomValues::new(),
            json!({"serial": " SN-1 ", "units": 3, "bought": "2026-02-28",
                   "colour": "red", "extras": ["blue", "red", "blue"], "vip": true}),
            Writer::Staff,
            true,
        )
        .unwrap();
        assert_eq!(ok["serial"], "SN-1");
        assert_eq!(ok["extras"], json!(["red", "blue"]));
        let err = run(
            &CustomValues::new(),
            json!({"serial": 5, "units": "3", "bought": "2026-02-30",
                   "colour": "purple", "extras": ["red", "pink"], "vip": "yes"}),
            Writer::Staff,
            true,
        )
        .unwrap_err();
        for key in ["serial", "units", "bought", "colour", "extras", "vip"] {
            assert!(err.field(&path(key)).is_some(), "{key}: {err:?}");
        }
    }

    #[test]
    fn required_fields_must_be_given_and_stay() {
        let err = run(
            &CustomValues::new(),
            json!({"units": 1}),
            Writer::Customer,
            true,
        )
        .unwrap_err();
        assert_eq!(
            err.field("custom_fields.serial"),
            Some("This field is required")
        );
        let current = values(json!({"serial": "SN-1"}));
        assert!(run(&current, json!({"serial": ""}), Writer::Staff, false).is_err());
        // Updates that leave the field alone are fine.
        assert!(run(&current, json!({"units": 2}), Writer::Staff, false).is_ok());
    }

    #[test]
    fn blank_clears_and_unknown_or_hidden_fields_are_errors() {
        let current = values(json!({"serial": "SN-1", "units": 2}));
        let next = run(&current, json!({"units": null}), Writer::Staff, false).unwrap();
        assert!(!next.contains_key("units"));
        assert!(
            run(&current, json!({"nope": 1}), Writer::Staff, false)
                .unwrap_err()
                .field("custom_fields.nope")
                .is_some()
        );
        // Customers cannot write (or learn about) staff-only fields.
        assert!(
            run(&current, json!({"vip": true}), Writer::Customer, false)
                .unwrap_err()
                .field("custom_fields.vip")
                .is_some()
        );
        assert!(run(&current, json!({"vip": true}), Writer::Staff, false).is_ok());
    }

    #[test]
    fn customers_see_only_visible_fields() {
        let all = values(json!({"serial": "SN-1", "vip": true}));
        assert_eq!(
            visible_to_customer(&defs(), &all),
            values(json!({"serial": "SN-1"}))
        );
    }
}
