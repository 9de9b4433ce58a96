//! @mentions in what staff write: `@dana` names the colleague whose email
//! address starts with `dana@`. Handles are the part of an address before
//! the `@`, so they are unique within an organization without anyone having
//! to pick a user name.

/// The handle a user is mentioned by.
pub fn handle_of(email: &str) -> String {
    email.split('@').next().unwrap_or_default().to_lowercase()
}

fn is_handle_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')
}

/// Where mentions are in `text`: (byte offset of the `@`, handle as typed).
/// An `@` inside a word (`ops@example.com`) is an address, not a mention; a
/// trailing `.` or `-` ends the sentence, not the handle.
pub fn spans(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts_word = previous.is_none_or(|p| !is_handle_char(p) && p != '@');
        previous = Some(c);
        if c != '@' || !starts_word {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest.find(|c| !is_handle_char(c)).unwrap_or(rest.len());
        let handle = rest[..end].trim_end_matches(['.', '-']);
        if !handle.is_empty() {
            found.push((at, handle));
        }
    }
    found
}

/// The distinct handles mentioned in `text`, lower-cased, in order.
pub fn handles(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, handle) in spans(text) {
        let handle = handle.to_lowercase();
        if !out.contains(&handle) {
            out.push(handle);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_mentions_at_word_starts() {
        assert_eq!(
            handles("@dana can you check? cc @Lee.Ray, thanks @dana."),
            ["dana", "lee.ray"]
        );
    }

    #[test]
    fn addresses_and_lone_ats_are_not_mentions() {
        assert!(handles("mail ops@example.com or write @ us").is_empty());
        assert!(handles("@@dana").is_empty());
    }

    #[test]
    fn punctuation_ends_a_handle() {
        assert_eq!(handles("(@sam) @kim: @jo-"), ["sam", "kim", "jo"]);
    }

    #[test]
    fn the_handle_is_the_address_before_the_at() {
        assert_eq!(handle_of("Dana.Lee@Acme.test"), "dana.lee");
    }

    #[test]
    fn spans_point_at_the_at_sign() {
        let text = "hi @dana!";
        assert_eq!(spans(text), [(3, "dana")]);
        assert_eq!(&text[3..8], "@dana");
    }

    proptest! {
        #[test]
        fn any_address_mentioned_is_found_by_its_handle(
            local in "[a-z][a-z0-9._+-]{0,12}[a-z0-9]",
            before in "[ (,;\n]{1,3}",
            after in "[ ),;!?\n][ ),.;!?\n]{0,2}",
        ) {
            let email = format!("{local}@acme.test");
            let text = format!("note{before}@{}{after}tail", handle_of(&email));
            prop_assert_eq!(handles(&text), vec![handle_of(&email)]);
        }

        #[test]
        fn never_panics_and_handles_are_never_empty(text in ".{0,64}") {
            for (at, handle) in spans(&text) {
                prop_assert!(!handle.is_empty());
                prop_assert_eq!(&text[at..at + 1], "@");
            }
        }
    }
}
