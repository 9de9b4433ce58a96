//! What people write on tickets, shown as Markdown. The text is stored as
//! written; this turns it into HTML that is safe to put in a page: Markdown
//! through pulldown-cmark, then — whenever the text brings markup of its own
//! (raw HTML, links, images, tables, fenced code) — through ammonia's
//! allow-list, so no script, event handler, style or `javascript:` URL
//! survives, whatever was typed. Text without such markup is safe as
//! pulldown-cmark writes it (it escapes all text), and skipping the HTML
//! parser for it keeps a 50-message ticket page fast. Runs on the server
//! only: the browser receives the result and the WASM bundle carries no
//! HTML parser.

use super::mentions;
use ammonia::Builder;
use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, TextMergeStream, html,
};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Links may lead to web pages and mail addresses only.
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Tags Markdown produces, plus the few people paste by hand; no images (a
/// remote image tells its owner who opened the ticket, and when).
const TAGS: [&str; 32] = [
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "span",
];

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::default();
    builder
        .tags(HashSet::from_iter(TAGS.iter().copied()))
        .url_schemes(HashSet::from_iter(URL_SCHEMES.iter().copied()))
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .add_tag_attributes("ol", ["start"])
        .add_tag_attributes("td", ["align"])
        .add_tag_attributes("th", ["align"])
        .allowed_classes(HashMap::from([("span", HashSet::from(["mention"]))]));
    builder
});

/// The HTML for a ticket's description or message. Messages keep theirs
/// (`ticket_comments.body_html`): a change to what this returns needs a
/// migration that clears that column, so they are rendered anew.
pub fn to_safe_html(text: &str) -> String {
    let (rendered, brings_markup) = render(text);
    if brings_markup {
        SANITIZER.clean(&rendered).to_string()
    } else {
        rendered
    }
}

/// Markdown → HTML, and whether the text brought markup that ammonia must
/// judge: anything whose output carries the writer's HTML, URLs or
/// attributes. Everything else is tags we write around escaped text.
fn render(text: &str) -> (String, bool) {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut in_code_block = false;
    let mut brings_markup = false;
    // Merged, so a mention is never split across two text events.
    let parser = TextMergeStream::new(Parser::new_ext(text, options));
    let events: Vec<Event> = parser
        .flat_map(|event| {
            match &event {
                Event::Html(_)
                | Event::InlineHtml(_)
                | Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::Table(_)) => {
                    brings_markup = true;
                }
                Event::Start(Tag::CodeBlock(kind)) => {
                    in_code_block = true;
                    // The info string becomes a class attribute.
                    brings_markup |=
                        matches!(kind, CodeBlockKind::Fenced(info) if !info.is_empty());
                }
                Event::End(TagEnd::CodeBlock) => in_code_block = false,
                _ => {}
            }
            match event {
                // People write tickets like mail: a line break they type is a line break.
                Event::SoftBreak => vec![Event::HardBreak],
                Event::Text(text) if !in_code_block => highlight_mentions(text),
                other => vec![other],
            }
        })
        .collect();
    let mut rendered = String::with_capacity(text.len() + text.len() / 4);
    html::push_html(&mut rendered, events.into_iter());
    (rendered, brings_markup)
}

/// `@dana` in running text becomes `<span class="mention">@dana</span>`.
fn highlight_mentions(text: CowStr<'_>) -> Vec<Event<'_>> {
    let spans = mentions::spans(&text);
    if spans.is_empty() {
        return vec![Event::Text(text)];
    }
    let mut events = Vec::with_capacity(spans.len() * 2 + 1);
    let mut done = 0;
    for (at, handle) in spans {
        if at > done {
            events.push(Event::Text(CowStr::from(text[done..at].to_owned())));
        }
        // Handles are letters, digits and `._-+`: nothing to escape.
        let span = format!(r#"<span class="mention">@{handle}</span>"#);
        events.push(Event::InlineHtml(CowStr::from(span)));
        done = at + 1 + handle.len();
    }
    if done < text.len() {
        events.push(Event::Text(CowStr::from(text[done..].to_owned())));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::{render, to_safe_html};
    use proptest::prelude::*;

    /// Only tags we write ourselves, with only our own attributes.
    fn only_our_tags(html: &str) -> Result<(), String> {
        const OURS: [&str; 17] = [
            "p",
            "br",
            "strong",
            "em",
            "del",
            "code",
            "pre",
            "ul",
            "ol",
            "li",
            "blockquote",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
        ];
        for tag in html.split('<').skip(1) {
            let inside = tag.split('>').next().unwrap_or_default();
            let closing = inside.starts_with('/');
            let inside = inside.trim_start_matches('/').trim_end_matches('/').trim();
            let mut parts = inside.split_whitespace();
            let name = parts.next().unwrap_or_default();
            let attributes: Vec<&str> = parts.collect();
            let ok = match name {
                "hr" | "span" | "ol" if closing => attributes.is_empty(),
                "hr" => attributes.is_empty(),
                "span" => attributes == [r#"class="mention""#],
                "ol" => attributes.iter().all(|a| {
                    a.strip_prefix("start=\"")
                        .and_then(|n| n.strip_suffix('"'))
                        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
                }),
                name => OURS.contains(&name) && attributes.is_empty(),
            };
            if !ok {
                return Err(format!("<{inside}> in {html}"));
            }
        }
        Ok(())
    }

    proptest! {
        /// Whatever is typed, output that skips ammonia has no markup but ours.
        #[test]
        fn text_without_markup_needs_no_sanitizer(text in "(?s).{0,200}") {
            let (html, brings_markup) = render(&text);
            if !brings_markup {
                prop_assert_eq!(only_our_tags(&html), Ok(()));
            }
        }

        /// Markdown-ish text (emphasis, lists, quotes, code, mentions).
        #[test]
        fn markdown_without_html_needs_no_sanitizer(
            text in r#"([a-z@*_`>#\-+0-9. \n"'&;]){0,120}"#,
        ) {
            let (html, brings_markup) = render(&text);
            prop_assert!(!brings_markup || text.contains('`'), "{text:?}");
            if !brings_markup {
                prop_assert_eq!(only_our_tags(&html), Ok(()));
            }
        }
    }

    #[test]
    fn only_text_with_markup_goes_through_the_sanitizer() {
        assert!(!render("**Bold** and @dana\n\n- a list").1);
        for markup in [
            "<b>x</b>",
            "[a](https://x.test)",
            "<https://x.test>",
            "| a |\n|---|\n| b |",
            "```js\nx\n```",
        ] {
            assert!(render(markup).1, "{markup}");
        }
    }

    #[test]
    fn markdown_becomes_html() {
        let html = to_safe_html("**Printer** on floor _2_:\n\n- jammed\n- `E-42`");
        assert!(html.contains("<strong>Printer</strong>"), "{html}");
        assert!(html.contains("<em>2</em>"), "{html}");
        assert!(html.contains("<li>jammed</li>"), "{html}");
        assert!(html.contains("<code>E-42</code>"), "{html}");
    }

    #[test]
    fn typed_line_breaks_stay() {
        assert_eq!(
            to_safe_html("Hello,\nit broke."),
            "<p>Hello,<br />\nit broke.</p>\n"
        );
    }

    #[test]
    fn links_are_kept_with_a_safe_rel() {
        let html = to_safe_html("See [the guide](https://example.com/guide).");
        assert!(
            html.contains(r#"<a href="https://example.com/guide" rel="noopener noreferrer nofollow ugc">the guide</a>"#),
            "{html}"
        );
    }

    #[test]
    fn hostile_payloads_lose_their_teeth() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.test\"></iframe>",
            "<p style=\"background:url(javascript:alert(1))\">x</p>",
            "<div onclick=\"alert(1)\">x</div>",
            "![x](https://tracker.test/pixel.png)",
            "<form action=\"https://evil.test\"><button>go</button></form>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        ];
        for payload in payloads {
            let html = to_safe_html(payload).to_lowercase();
            for banned in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "javascript:",
                "<img",
                "<svg",
                "<iframe",
                "style=",
                "<form",
                "data:",
            ] {
                assert!(!html.contains(banned), "{payload:?} rendered as {html:?}");
            }
        }
    }

    #[test]
    fn text_that_looks_like_html_is_shown_not_run() {
        // Scripts go with their content; a lone `<` is just a character.
        let html = to_safe_html("Error: <script>x</script> and 3 < 4 & 5 > 2");
        assert!(html.contains("3 &lt; 4 &amp; 5 &gt; 2"), "{html}");
    }

    #[test]
    fn mentions_are_marked_except_in_code() {
        let html =
            to_safe_html("Thanks @dana, mail ops@acme.test.\n\n    @not_in_code\n\n`@nor_here`");
        assert!(
            html.contains(r#"Thanks <span class="mention">@dana</span>, mail ops@acme.test."#),
            "{html}"
        );
        assert_eq!(html.matches("mention").count(), 1, "{html}");
    }

    #[test]
    fn other_classes_are_dropped() {
        let html = to_safe_html(r#"<span class="mention admin">x</span><span class="x">y</span>"#);
        assert!(
            !html.contains("admin") && !html.contains(r#"class="x""#),
            "{html}"
        );
    }

    #[test]
    fn safe_inline_html_survives() {
        assert!(to_safe_html("Press <kbd>Ctrl</kbd>").contains("<kbd>Ctrl</kbd>"));
    }
}
