//! The ticket's history for staff: the audit trail, each change as a
//! readable line (field labels, values as people read them).

use super::when;
use crate::domain::desk::CustomField;
use crate::domain::ticket::{HistoryEntry, Priority, TicketStatus};
use leptos::prelude::*;

/// The audit trail, oldest first: who changed what, when, and from where.
#[component]
pub(super) fn History(
    entries: Vec<HistoryEntry>,
    /// To name custom fields by their labels.
    fields: Vec<CustomField>,
) -> impl IntoView {
    let items = entries
        .into_iter()
        .map(|entry| {
            let (label, change) = describe_change(&entry, &fields);
            let meta = format!(
                "{} · {} · via {}",
                entry.actor_name.clone().unwrap_or_else(|| "System".into()),
                when(entry.at),
                source_label(&entry.source),
            );
            view! {
                <li class="history-item">
                    <span><strong>{label}</strong>": "<span class="history-change">{change}</span></span>
                    <span class="muted history-meta">{meta}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card history" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <ol class="history-list">{items}</ol>
        </section>
    }
}

fn source_label(source: &str) -> String {
    match source {
        "ui" => "web app".into(),
        "api" => "API".into(),
        other => other.replace('_', " "),
    }
}

/// A field name and its old → new values as people read them.
pub(super) fn describe_change(entry: &HistoryEntry, fields: &[CustomField]) -> (String, String) {
    let field = entry.field.as_str();
    if let Some(key) = field.strip_prefix("custom_fields.") {
        let label = fields
            .iter()
            .find(|f| f.key == key)
            .map_or_else(|| humanize(key), |f| f.label.clone());
        return (label, arrow(entry.old.clone(), entry.new.clone()));
    }
    let label = match field {
        "ticket" => "Ticket",
        "subject" => "Subject",
        "status" => "Status",
        "priority" => "Priority",
        "assignee_id" => "Assignee",
        "tags" => "Tags",
        "satisfaction_score" => "Rating",
        "satisfaction_comment" => "Rating comment",
        "escalated_at" => "Escalated on",
        "escalation_reason" => "Escalation reason",
        "deleted_at" => "Deleted on",
        "merged_into_id" => "Merged into",
        "merged_from" => "Merged in",
        "split_to" => "Split off to",
        "attachment" => "File added",
        "first_response_at" => "First response",
        "resolved_at" => "Resolved on",
        "closed_at" => "Closed on",
        other => return (humanize(other), arrow(entry.old.clone(), entry.new.clone())),
    };
    let value = |v: &Option<String>| -> Option<String> {
        let v = v.as_deref().filter(|v| !v.is_empty())?;
        Some(match field {
            "status" => TicketStatus::parse(v).map_or(v.to_owned(), |s| s.label().to_owned()),
            "priority" => Priority::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
            "tags" => v.replace(',', ", "),
            _ if field.ends_with("_at") => chrono::DateTime::parse_from_rfc3339(v)
                .map_or(v.to_owned(), |t| when(t.with_timezone(&chrono::Utc))),
            _ => v.to_owned(),
        })
    };
    let (old, new) = (value(&entry.old), value(&entry.new));
    let change = match field {
        // Events rather than edits: only what happened.
        "ticket" | "attachment" | "merged_from" | "split_to" | "merged_into_id" => {
            new.unwrap_or_default()
        }
        "assignee_id" => format!(
            "{} → {}",
            old.unwrap_or_else(|| "Unassigned".into()),
            new.unwrap_or_else(|| "Unassigned".into())
        ),
        _ => arrow(old, new),
    };
    (label.to_owned(), change)
}

/// `old → new`; just the new value when the field was empty before.
fn arrow(old: Option<String>, new: Option<String>) -> String {
    let show = |v: Option<String>| v.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".into());
    match old.filter(|v| !v.is_empty()) {
        None => show(new),
        old => format!("{} → {}", show(old), show(new)),
    }
}

fn humanize(field: &str) -> String {
    let text = field.trim_end_matches("_id").replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(field: &str, old: Option<&str>, new: Option<&str>) -> HistoryEntry {
        HistoryEntry {
            actor_id: None,
            actor_name: None,
            source: "ui".into(),
            field: field.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn history_lines_read_like_sentences() {
        let line = |field, old, new| describe_change(&entry(field, old, new), &[]);
        assert_eq!(
            line("status", Some("on_hold"), Some("resolved")),
            ("Status".into(), "On hold → Resolved".into())
        );
        assert_eq!(
            line("assignee_id", None, Some("Alex Agent")),
            ("Assignee".into(), "Unassigned → Alex Agent".into())
        );
        assert_eq!(
            line("escalated_at", None, Some("2026-01-02T03:04:05+00:00")),
            ("Escalated on".into(), "2026-01-02 03:04 UTC".into())
        );
        assert_eq!(
            line("tags", Some("vip"), Some("vip,billing")),
            ("Tags".into(), "vip → vip, billing".into())
        );
        assert_eq!(
            line("attachment", None, Some("a.pdf")),
            ("File added".into(), "a.pdf".into())
        );
        assert_eq!(
            line("some_new_field", Some("a"), None),
            ("Some new field".into(), "a → —".into())
        );
        assert_eq!(source_label("ui"), "web app");
    }

    #[test]
    fn custom_fields_are_named_by_their_labels() {
        let churn = CustomField {
            id: uuid::Uuid::nil(),
            key: "churn_risk".into(),
            label: "Churn risk".into(),
            kind: crate::domain::desk::FieldKind::Select,
            options: vec!["Low".into(), "High".into()],
            required: false,
            customer_visible: false,
            position: 0,
        };
        let field = entry("custom_fields.churn_risk", None, Some("High"));
        assert_eq!(
            describe_change(&field, &[churn]),
            ("Churn risk".into(), "High".into())
        );
        // A field deleted since: its key, readable.
        let gone = entry("custom_fields.old_key", Some("x"), None);
        assert_eq!(
            describe_change(&gone, &[]),
            ("Old key".into(), "x → —".into())
        );
    }
}
