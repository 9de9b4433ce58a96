//! Placeholders in canned responses: `{{customer.name}}`,
//! `{{ticket.number}}`… filled from the ticket being answered.

/// Every placeholder a canned response may use.
pub const PLACEHOLDERS: &[&str] = &[
    "customer.name",
    "customer.first_name",
    "customer.email",
    "ticket.number",
    "ticket.subject",
    "agent.name",
];

/// Yields (start, end, name) for every `{{ name }}` in `text`.
fn occurrences(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        let open = from + text[from..].find("{{")?;
        let close = open + text[open..].find("}}")?;
        from = close + 2;
        Some((open, close + 2, text[open + 2..close].trim()))
    })
}

/// Placeholders in `text` that we do not know (to refuse them when a
/// canned response is saved, rather than send them to a customer).
pub fn unknown(text: &str) -> Vec<String> {
    unknown_among(text, PLACEHOLDERS)
}

/// Placeholders in `text` that are not in `known` (mail templates have
/// their own list).
pub fn unknown_among(text: &str, known: &[&str]) -> Vec<String> {
    occurrences(text)
        .filter(|(_, _, name)| !known.contains(name))
        .map(|(_, _, name)| name.to_owned())
        .collect()
}

/// `text` with each known placeholder replaced by `value(name)`; anything
/// else is left as written.
pub fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, name) in occurrences(text) {
        if let Some(v) = value(name) {
            out.push_str(&text[last..start]);
            out.push_str(&v);
            last = end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// "Ada Lovelace" → "Ada".
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<String> {
        match name {
            "customer.name" => Some("Ada Lovelace".into()),
            "ticket.number" => Some("TCK-000012".into()),
            _ => None,
        }
    }

    #[test]
    fn fills_known_placeholders_with_or_without_spaces() {
        assert_eq!(
            fill("Hi {{customer.name}}, about {{ ticket.number }}.", values),
            "Hi Ada Lovelace, about TCK-000012."
        );
        assert_eq!(
            fill("{{unknown}} {{ticket.number", values),
            "{{unknown}} {{ticket.number"
        );
        assert_eq!(fill("no placeholders", values), "no placeholders");
        // Values are inserted once, never re-scanned.
        assert_eq!(
            fill("{{customer.name}}", |_| Some("{{ticket.number}}".into())),
            "{{ticket.number}}"
        );
    }

    #[test]
    fn finds_unknown_placeholders() {
        assert_eq!(
            unknown("{{customer.name}} {{ customer.age }}"),
            ["customer.age"]
        );
        assert!(unknown("{{agent.name}}").is_empty());
        assert_eq!(first_name("Ada Lovelace"), "Ada");
        assert_eq!(first_name(""), "");
    }
}
