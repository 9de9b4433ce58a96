//! Notifications across a ticket's life, as rules: the default mail
//! texts (an organization's administrator may replace each), the
//! placeholders they may use and how a template becomes a mail, the
//! threading ids that keep a ticket's mails together in a mail client, the
//! in-app texts, and a person's effective preferences. The subscriber
//! (`server::notifications`) does the lookups and the writing.

use crate::domain::FieldErrors;
use crate::domain::notification::{MailTemplateKey, NotificationKind, NotificationPreference};
use crate::engine::mail::MailText;
use crate::engine::placeholders::{fill, unknown_among};
use uuid::Uuid;

/// Every placeholder a mail template may use.
pub const MAIL_PLACEHOLDERS: &[&str] = &[
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "ticket.priority",
    "ticket.link",
    "ticket.link_note",
    "customer.name",
    "customer.first_name",
    "customer.email",
    "recipient.name",
    "agent.name",
    "message",
    "rating.link",
    "organization.name",
    "escalation.reason",
    "sla.target",
    "sla.due_at",
];

/// The longest subject and body a template may have.
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;

/// A template's text, with placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub subject: String,
    pub body: String,
}

/// The text a template has until an administrator changes it.
pub fn default_template(key: MailTemplateKey) -> TemplateText {
    use MailTemplateKey::*;
    let (subject, body) = match key {
        TicketReceived => (
            "[{{ticket.number}}] {{ticket.subject}}",
            "Hello {{customer.first_name}},\n\n\
             {{organization.name}} has received your request {{ticket.number}}: \"{{ticket.subject}}\".\n\n\
             Follow it and reply here:\n{{ticket.link}}\n\n{{ticket.link_note}}\n",
        ),
        AgentReply => (
            "[{{ticket.number}}] {{ticket.subject}}",
            "Hello {{customer.first_name}},\n\n{{agent.name}} replied to your request {{ticket.number}}:\n\n\
             {{message}}\n\nSee the whole conversation and answer here:\n{{ticket.link}}\n",
        ),
        TicketPending => (
            "[{{ticket.number}}] Waiting for your answer: {{ticket.subject}}",
            "Hello {{customer.first_name}},\n\nWe need your answer to go on with request \
             {{ticket.number}} \"{{ticket.subject}}\".\n\nReply here:\n{{ticket.link}}\n",
        ),
        TicketResolved => (
            "[{{ticket.number}}] Resolved: {{ticket.subject}}",
            "Hello {{customer.first_name}},\n\nYour request {{ticket.number}} \"{{ticket.subject}}\" \
             has been resolved.\n\nHow did we do? Rate it here:\n{{rating.link}}\n\n\
             If it is not solved for you, reply and we will pick it up again:\n{{ticket.link}}\n",
        ),
        TicketClosed => (
            "[{{ticket.number}}] Closed: {{ticket.subject}}",
            "Hello {{customer.first_name}},\n\nYour request {{ticket.number}} \"{{ticket.subject}}\" \
             is now closed. Thank you for contacting {{organization.name}}.\n",
        ),
        TicketAssigned => (
            "[{{ticket.number}}] Assigned to you: {{ticket.subject}}",
            "{{agent.name}} assigned {{ticket.number}} \"{{ticket.subject}}\" to you \
             (priority {{ticket.priority}}, requested by {{customer.name}}).\n\n\
             Open the ticket: {{ticket.link}}\n",
        ),
        CustomerReply => (
            "[{{ticket.number}}] {{customer.name}} replied: {{ticket.subject}}",
            "{{customer.name}} replied on {{ticket.number}} \"{{ticket.subject}}\":\n\n\
             {{message}}\n\nOpen the ticket: {{ticket.link}}\n",
        ),
        TicketEscalated => (
            "[{{ticket.number}}] Escalated: {{ticket.subject}}",
            "{{ticket.number}} \"{{ticket.subject}}\" was escalated.\n\nReason: {{escalation.reason}}\n\n\
             Open the ticket: {{ticket.link}}\n",
        ),
        SlaBreached => (
            "[{{ticket.number}}] SLA breached: {{ticket.subject}}",
            "The {{sla.target}} target of {{ticket.number}} \"{{ticket.subject}}\" was due at \
             {{sla.due_at}} and has been breached.\n\nOpen the ticket: {{ticket.link}}\n",
        ),
        SlaWarning => (
            "[{{ticket.number}}] SLA due soon: {{ticket.subject}}",
            "The {{sla.target}} target of {{ticket.number}} \"{{ticket.subject}}\" is due at \
             {{sla.due_at}}.\n\nOpen the ticket: {{ticket.link}}\n",
        ),
    };
    TemplateText {
        subject: subject.to_owned(),
        body: body.to_owned(),
    }
}

/// Checks an administrator's template text: both parts present, bounded,
/// the subject one line, and only known placeholders (422 on the field).
pub fn check_template(errs: &mut FieldErrors, text: &TemplateText) {
    let subject = text.subject.trim();
    errs.check(!subject.is_empty(), "subject", "Write a subject");
    errs.check(
        subject.chars().count() <= MAX_SUBJECT_CHARS,
        "subject",
        "Use at most 200 characters",
    );
    errs.check(
        !subject.contains(['\r', '\n']),
        "subject",
        "Keep the subject on one line",
    );
    errs.check(
        !text.body.trim().is_empty(),
        "body",
        "Write the mail's text",
    );
    errs.check(
        text.body.chars().count() <= MAX_BODY_CHARS,
        "body",
        "Use at most 20000 characters",
    );
    for (field, value) in [("subject", &text.subject), ("body", &text.body)] {
        let unknown = unknown_among(value, MAIL_PLACEHOLDERS);
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(|n| format!("{{{{{n}}}}}")).collect();
            errs.add(
                field,
                format!(
                    "Unknown placeholder {}; use one of the listed placeholders",
                    names.join(", ")
                ),
            );
        }
    }
}

/// The mail a template makes for one ticket: placeholders filled by
/// `value`, and the subject always carrying the ticket number (`[TCK-…]`)
/// even where an administrator's text leaves it out.
pub fn render(
    text: &TemplateText,
    number: &str,
    value: impl Fn(&str) -> Option<String>,
) -> MailText {
    let subject = fill(text.subject.trim(), &value).replace(['\r', '\n'], " ");
    let subject = if subject.contains(number) {
        subject
    } else {
        format!("[{number}] {subject}")
    };
    MailText {
        subject,
        body: fill(&text.body, &value),
    }
}

/// The host part of Message-IDs when the public URL gives none we can use.
pub const FALLBACK_MAIL_HOST: &str = "fieldesk.localhost";

/// The host of the public URL (`https://help.example.com/` →
/// `help.example.com`), for Message-IDs; the fallback for an address
/// without a plain host name (an IPv6 literal, nothing at all).
pub fn mail_host(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = authority.split(':').next().unwrap_or_default();
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if plain {
        host.to_ascii_lowercase()
    } else {
        FALLBACK_MAIL_HOST.to_owned()
    }
}

/// The id every mail of a ticket refers to: the "ticket received" mail
/// carries it as its own Message-ID, later mails name it in In-Reply-To
/// and References (inbound mail will find the ticket by it).
pub fn thread_root(ticket: Uuid, host: &str) -> String {
    format!("<ticket-{ticket}@{host}>")
}

/// The threading headers of one ticket mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Threading {
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
}

/// The headers of a mail about `ticket`: the mail that starts the thread
/// has the root id as its Message-ID; every other one a fresh id of its
/// own (`mail_id`, unique per mail) and the root as the message it
/// answers.
pub fn threading(ticket: Uuid, mail_id: Uuid, host: &str, starts_thread: bool) -> Threading {
    let root = thread_root(ticket, host);
    if starts_thread {
        Threading {
            message_id: Some(root),
            in_reply_to: None,
            references: None,
        }
    } else {
        Threading {
            message_id: Some(format!("<{mail_id}@{host}>")),
            in_reply_to: Some(root.clone()),
            references: Some(root),
        }
    }
}

/// How much of a message an in-app notification quotes.
const EXCERPT_CHARS: usize = 200;

/// The first `EXCERPT_CHARS` characters of `text` on one line.
pub fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > EXCERPT_CHARS {
        let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// "first_response" → "first response".
pub fn target_label(target: &str) -> String {
    target.replace('_', " ")
}

/// Title and short text of an in-app notification. `who` is the person
/// who acted (assigner, author), `detail` the message, reason or due time.
pub fn in_app_text(
    kind: NotificationKind,
    number: &str,
    subject: &str,
    who: &str,
    detail: &str,
) -> (String, String) {
    use NotificationKind::*;
    match kind {
        Assigned => (
            format!("{number} assigned to you"),
            format!("{who} assigned you \"{subject}\""),
        ),
        Mention => (format!("{who} mentioned you on {number}"), excerpt(detail)),
        CustomerReply => (format!("{who} replied on {number}"), excerpt(detail)),
        Escalated => (
            format!("{number} escalated"),
            format!("\"{subject}\": {}", excerpt(detail)),
        ),
        SlaWarning => (
            format!("{number}: {} due soon", target_label(who)),
            format!("\"{subject}\" is due at {detail}"),
        ),
        SlaBreached => (
            format!("{number}: {} breached", target_label(who)),
            format!("\"{subject}\" was due at {detail}"),
        ),
    }
}

/// A person's preference for every kind: what they stored, else the default.
pub fn effective_preferences(stored: &[NotificationPreference]) -> Vec<NotificationPreference> {
    NotificationKind::ALL
        .iter()
        .map(|kind| {
            stored
                .iter()
                .find(|p| p.kind == *kind)
                .copied()
                .unwrap_or_else(|| kind.default_preference())
        })
        .collect()
}

/// The template each staff notification kind mails with (a mention has
/// its own text, `mail::mention_mail`).
pub fn template_of(kind: NotificationKind) -> Option<MailTemplateKey> {
    use NotificationKind::*;
    match kind {
        Assigned => Some(MailTemplateKey::TicketAssigned),
        CustomerReply => Some(MailTemplateKey::CustomerReply),
        Escalated => Some(MailTemplateKey::TicketEscalated),
        SlaWarning => Some(MailTemplateKey::SlaWarning),
        SlaBreached => Some(MailTemplateKey::SlaBreached),
        Mention => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_uses_known_placeholders_and_names_the_ticket() {
        for key in MailTemplateKey::ALL {
            let text = default_template(*key);
            let mut errs = FieldErrors::new();
            check_template(&mut errs, &text);
            assert!(errs.into_result().is_ok(), "{key}");
            assert!(text.subject.contains("{{ticket.number}}"), "{key}");
        }
        assert!(
            default_template(MailTemplateKey::TicketResolved)
                .body
                .contains("{{rating.link}}")
        );
    }

    #[test]
    fn unknown_placeholders_and_empty_parts_are_field_errors() {
        let mut errs = FieldErrors::new();
        check_template(
            &mut errs,
            &TemplateText {
                subject: "Hi {{customer.age}}".into(),
                body: "{{ticket.number}} {{ nope }}".into(),
            },
        );
        let err = errs.into_result().unwrap_err();
        assert!(err.field("subject").unwrap().contains("{{customer.age}}"));
        assert!(err.field("body").unwrap().contains("{{nope}}"));
        let mut errs = FieldErrors::new();
        check_template(
            &mut errs,
            &TemplateText {
                subject: "a\nb".into(),
                body: " ".into(),
            },
        );
        let err = errs.into_result().unwrap_err();
        assert!(err.field("subject").is_some() && err.field("body").is_some());
    }

    #[test]
    fn the_subject_always_carries_the_ticket_number() {
        let values = |name: &str| match name {
            "ticket.number" => Some("TCK-000042".to_owned()),
            "ticket.subject" => Some("Printer".to_owned()),
            _ => None,
        };
        let own = TemplateText {
            subject: "We got it: {{ticket.subject}}".into(),
            body: "About {{ticket.number}}".into(),
        };
        let mail = render(&own, "TCK-000042", values);
        assert_eq!(mail.subject, "[TCK-000042] We got it: Printer");
        assert_eq!(mail.body, "About TCK-000042");
        let default = default_template(MailTemplateKey::TicketReceived);
        assert_eq!(
            render(&default, "TCK-000042", values).subject,
            "[TCK-000042] Printer"
        );
    }

    #[test]
    fn mail_hosts_come_from_the_public_url() {
        assert_eq!(mail_host("https://Help.Example.com/"), "help.example.com");
        assert_eq!(mail_host("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(mail_host("http://user@desk.test:8080/x"), "desk.test");
        assert_eq!(mail_host("http://[::1]:3000"), FALLBACK_MAIL_HOST);
        assert_eq!(mail_host(""), FALLBACK_MAIL_HOST);
    }

    #[test]
    fn a_tickets_mails_thread_on_its_root_id() {
        let ticket = Uuid::now_v7();
        let first = threading(ticket, Uuid::now_v7(), "h.test", true);
        let root = format!("<ticket-{ticket}@h.test>");
        assert_eq!(first.message_id.as_deref(), Some(root.as_str()));
        assert_eq!(first.in_reply_to, None);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let reply = threading(ticket, a, "h.test", false);
        assert_eq!(reply.in_reply_to.as_deref(), Some(root.as_str()));
        assert_eq!(reply.references.as_deref(), Some(root.as_str()));
        assert_ne!(
            reply.message_id,
            threading(ticket, b, "h.test", false).message_id
        );
    }

    #[test]
    fn preferences_default_where_none_is_stored() {
        let stored = [NotificationPreference {
            kind: NotificationKind::Mention,
            email: false,
            in_app: true,
        }];
        let all = effective_preferences(&stored);
        assert_eq!(all.len(), NotificationKind::ALL.len());
        let mention = all
            .iter()
            .find(|p| p.kind == NotificationKind::Mention)
            .unwrap();
        assert!(!mention.email);
        assert!(
            all.iter()
                .filter(|p| p.kind != NotificationKind::Mention)
                .all(|p| p.email && p.in_app)
        );
    }

    #[test]
    fn in_app_texts_are_short() {
        let long = "word ".repeat(100);
        let (title, body) = in_app_text(
            NotificationKind::CustomerReply,
            "TCK-1",
            "Printer",
            "Ada",
            &long,
        );
        assert_eq!(title, "Ada replied on TCK-1");
        assert!(body.chars().count() <= EXCERPT_CHARS + 1 && body.ends_with('…'));
        let (title, _) = in_app_text(
            NotificationKind::SlaBreached,
            "TCK-1",
            "Printer",
            "first_response",
            "x",
        );
        assert_eq!(title, "TCK-1: first response breached");
    }
}
