//! Outbound mail rules: how long a send may take, and what the magic-link
//! and @mention mails say (when a failed delivery is tried again:
//! `retry::RetryPolicy::MAIL`). The worker and the services do the I/O.

use chrono::TimeDelta;

/// How long a worker holds a mail it is sending before another may try it
/// (a worker that dies mid-send leaves the mail to be retried, never lost).
pub const SEND_LEASE: TimeDelta = TimeDelta::minutes(5);

/// A ticket and the link that opens it.
pub struct TicketLink<'a> {
    pub number: &'a str,
    pub subject: &'a str,
    pub url: &'a str,
}

/// Subject and plain-text body of a mail.
#[derive(Debug, PartialEq, Eq)]
pub struct MailText {
    pub subject: String,
    pub body: String,
}

/// "7 days", "12 hours", "1 hour": how long a link works, as people say it.
fn lifetime(ttl_secs: u64) -> String {
    let (count, unit) = match ttl_secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 => (s.div_ceil(3_600), "hour"),
        s => (s.div_ceil(60).max(1), "minute"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

fn request_again(portal: &str) -> String {
    format!("When it has expired, ask for a new one at {portal}/access")
}

/// What a mail with a magic link says about it: personal, how long it
/// works, where to ask for a new one.
pub fn link_note(ttl_secs: u64, portal: &str) -> String {
    format!(
        "This link is personal and works for {}. {}",
        lifetime(ttl_secs),
        request_again(portal)
    )
}

/// The answer to "email me a link to my requests": one link per ticket.
pub fn requested_links_mail(
    org_name: &str,
    tickets: &[TicketLink],
    ttl_secs: u64,
    portal: &str,
) -> MailText {
    let subject = format!("Your requests with {org_name}");
    if tickets.is_empty() {
        return MailText {
            subject,
            body: format!(
                "Hello,\n\nYou asked for links to your requests with {org_name}, \
                 but none of them is open at the moment.\n"
            ),
        };
    }
    let list: String = tickets
        .iter()
        .map(|t| format!("{} {}\n{}\n\n", t.number, t.subject, t.url))
        .collect();
    MailText {
        subject,
        body: format!(
            "Hello,\n\nHere are your open requests with {org_name}. \
             Each link opens one request, no account needed:\n\n{list}\
             These links are personal and work for {}. {}\n",
            lifetime(ttl_secs),
            request_again(portal),
        ),
    }
}

/// How much of a message a mention mail quotes.
const QUOTE_CHARS: usize = 1_000;

/// To a colleague someone @mentioned in a note or reply (`url` opens the
/// ticket on the desk: they sign in as usual, the mail grants nothing).
pub fn mention_mail(author: &str, ticket: &TicketLink, message: &str, public: bool) -> MailText {
    let kind = if public {
        "a reply"
    } else {
        "an internal note"
    };
    let mut quoted: String = message
        .trim()
        .chars()
        .take(QUOTE_CHARS)
        .collect::<String>()
        .lines()
        .map(|line| format!("> {line}\n"))
        .collect();
    if message.trim().chars().count() > QUOTE_CHARS {
        quoted.push_str("> …\n");
    }
    MailText {
        subject: format!(
            "[{}] {author} mentioned you: {}",
            ticket.number, ticket.subject
        ),
        body: format!(
            "{author} mentioned you in {kind} on {} \"{}\":\n\n{quoted}\nOpen the ticket: {}\n",
            ticket.number, ticket.subject, ticket.url,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(lifetime(7 * 86_400), "7 days");
        assert_eq!(lifetime(86_400), "1 day");
        assert_eq!(lifetime(90_000), "25 hours");
        assert_eq!(lifetime(3_600), "1 hour");
        assert_eq!(lifetime(90), "2 minutes");
        assert_eq!(lifetime(0), "1 minute");
    }

    fn link<'a>(number: &'a str, url: &'a str) -> TicketLink<'a> {
        TicketLink {
            number,
            subject: "Printer on fire",
            url,
        }
    }

    #[test]
    fn link_notes_say_how_long_a_link_works() {
        let note = link_note(604_800, "http://h");
        assert!(note.contains("works for 7 days"), "{note}");
        assert!(note.ends_with("http://h/access"), "{note}");
    }

    #[test]
    fn requested_links_list_every_ticket_or_say_there_is_none() {
        let mail = requested_links_mail(
            "Acme",
            &[
                link("TCK-000001", "http://h/access/a"),
                link("TCK-000002", "http://h/access/b"),
            ],
            3_600,
            "http://h",
        );
        assert_eq!(mail.subject, "Your requests with Acme");
        assert!(
            mail.body
                .contains("TCK-000001 Printer on fire\nhttp://h/access/a\n")
        );
        assert!(
            mail.body
                .contains("TCK-000002 Printer on fire\nhttp://h/access/b\n")
        );
        let none = requested_links_mail("Acme", &[], 3_600, "http://h");
        assert!(none.body.contains("none of them is open"));
        assert!(!none.body.contains("/access"));
    }

    #[test]
    fn mention_mail_quotes_the_message_and_links_the_ticket() {
        let ticket = link("TCK-000009", "http://h/desk/tickets/t");
        let mail = mention_mail(
            "Alex Agent",
            &ticket,
            "@dana can you approve?\nThanks",
            false,
        );
        assert_eq!(
            mail.subject,
            "[TCK-000009] Alex Agent mentioned you: Printer on fire"
        );
        assert!(
            mail.body
                .starts_with("Alex Agent mentioned you in an internal note on TCK-000009")
        );
        assert!(mail.body.contains("> @dana can you approve?\n> Thanks\n"));
        assert!(
            mail.body
                .ends_with("Open the ticket: http://h/desk/tickets/t\n")
        );
        let long = "x".repeat(QUOTE_CHARS + 1);
        assert!(
            mention_mail("A", &ticket, &long, true)
                .body
                .contains("> …\n")
        );
    }
}
