//! Turning what someone typed into a search box into full-text queries both
//! databases accept. Only letters and digits survive, so user text can never
//! inject query syntax; every word must match, as a prefix.

const MAX_TERMS: usize = 8;

/// Accented letters and their plain forms. The PostgreSQL migration
/// (0009_search.sql) folds indexed text with the same table; SQLite's FTS5
/// tokenizer folds diacritics itself.
const ACCENTED: &str = "àáâãäåāăąçćčďèéêëēėęěğìíîïīįıłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž";
const PLAIN: &str = "aaaaaaaaacccdeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz";

/// Lower-case letters without their accents: `café` → `cafe`.
pub fn fold_accents(word: &str) -> String {
    word.chars()
        .map(|c| match ACCENTED.chars().position(|a| a == c) {
            Some(i) => PLAIN.chars().nth(i).unwrap_or(c),
            None => c,
        })
        .collect()
}
const MAX_TERM_CHARS: usize = 40;
/// Shorter words are left out: a one-letter prefix matches nearly every
/// message, and the full-text index then hands over every one of them to
/// be filtered down to the caller's tickets (all of them, for a customer
/// who has three).
pub const MIN_TERM_CHARS: usize = 2;

/// The words of a search, lower-cased, in order, without repeats; words
/// under `MIN_TERM_CHARS` are ignored.
pub fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        // Lower-casing can add a combining mark (`İ` → `i̇`): only letters
        // and digits are kept.
        let word: String = fold_accents(&word.to_lowercase())
            .chars()
            .filter(|c| c.is_alphanumeric())
            .take(MAX_TERM_CHARS)
            .collect();
        if word.chars().count() >= MIN_TERM_CHARS && !out.contains(&word) && out.len() < MAX_TERMS {
            out.push(word);
        }
    }
    out
}

/// An SQLite FTS5 MATCH expression: each term quoted, as a prefix.
pub fn fts5_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A PostgreSQL `to_tsquery` expression: prefix terms joined with AND.
pub fn tsquery(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_words_survive() {
        assert_eq!(terms("  Printer ON fire!! "), ["printer", "on", "fire"]);
        assert_eq!(
            terms("\"ab\" OR bc* NEAR(cd) -de"),
            ["ab", "or", "bc", "near", "cd", "de"]
        );
        assert_eq!(
            terms("'; DROP TABLE tickets; --"),
            ["drop", "table", "tickets"]
        );
        assert_eq!(terms("Ünïcode CAFÉ ünicode"), ["unicode", "cafe"]);
        assert!(terms("!!! ---").is_empty());
        assert_eq!(terms(&"wx ".repeat(50)).len(), 1);
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&many).len(), MAX_TERMS);
    }

    #[test]
    fn one_letter_words_are_ignored() {
        assert_eq!(terms("a printer ö 7 Ä4"), ["printer", "a4"]);
        assert!(terms("a b c 1 é").is_empty());
    }

    #[test]
    fn accents_fold_like_the_index() {
        assert_eq!(ACCENTED.chars().count(), PLAIN.chars().count());
        assert_eq!(fold_accents("crème brûlée"), "creme brulee");
        assert_eq!(fold_accents("łódź"), "lodz");
        assert_eq!(fold_accents("plain"), "plain");
    }

    #[test]
    fn lower_casing_adds_no_marks() {
        assert_eq!(terms("İstanbul"), ["istanbul"]);
    }

    #[test]
    fn queries_for_each_backend() {
        let t = terms("invoice pdf");
        assert_eq!(fts5_query(&t), "\"invoice\"* \"pdf\"*");
        assert_eq!(tsquery(&t), "invoice:* & pdf:*");
    }

    proptest::proptest! {
        /// Whatever is typed, the queries contain nothing but quoted or
        /// suffixed alphanumeric words.
        #[test]
        fn no_syntax_leaks(text in ".{0,200}") {
            for term in terms(&text) {
                proptest::prop_assert!(term.chars().all(char::is_alphanumeric));
            }
        }
    }
}
