//! @mentions: a colleague named in a note or reply is mailed a link to the
//! ticket, through a real SMTP listener; nobody else is.

use crate::common::*;
use crate::magic_link::start;
use crate::on_both_backends;
use crate::smtp::SmtpSink;
use fieldesk::server::db::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    by_backend:
    a_mentioned_colleague_is_mailed_once,
);

const MAIL_WAIT: Duration = Duration::from_secs(15);

impl TestApp {
    /// Every queued mail's recipient and subject, oldest first.
    async fn queued_mail(&self) -> Vec<(String, String)> {
        let sql = "SELECT to_address, subject FROM outbound_mail ORDER BY created_at";
        query(sql).fetch_all(&self.state.db).await.unwrap()
    }
}

async fn a_mentioned_colleague_is_mailed_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = start(backend, sink.url()).await;
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "Refund for order 77").await;
    let id = ticket["id"].as_str().unwrap();
    let number = ticket["display_number"].as_str().unwrap();
    let comments = format!("/api/v1/tickets/{id}/comments");

    // A customer cannot make the desk mail anyone; unknown handles,
    // addresses and the author themself are not mentions that mail.
    for (token, body, public) in [
        (&customer, "@manager please hurry", true),
        (
            &agent,
            "Asked ops@acme.test; @nobody knows. Note to @agent: check again.",
            false,
        ),
        (
            &agent,
            "@Manager can you approve the refund? cc @manager",
            false,
        ),
    ] {
        let comment = json!({"body": body, "public": public});
        let created = expect_json(
            app.post_json(&comments, token, comment).await,
            StatusCode::CREATED,
        )
        .await;
        assert!(
            created["body_html"]
                .as_str()
                .unwrap()
                .contains(r#"<span class="mention">@"#),
            "{created}"
        );
    }

    // The customer's receipt for their new ticket, and the mention.
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    let mail = mails
        .iter()
        .find(|m| m.to != ["customer@acme.test"])
        .expect("the mention mail");
    assert_eq!(mail.to, vec!["manager@acme.test".to_owned()]);
    assert_eq!(
        mail.subject(),
        format!("[{number}] Alex Agent mentioned you: Refund for order 77")
    );
    let text = mail.text();
    assert!(text.contains("in an internal note"), "{text}");
    assert!(
        text.contains("> @Manager can you approve the refund?"),
        "{text}"
    );
    assert!(
        text.contains(&format!("http://help.example.com/desk/tickets/{id}")),
        "{text}"
    );
    // The subscriber handles events in order, so the earlier messages were
    // looked at before this one: one mail in all, to one person, once.
    let queued: Vec<_> = app
        .queued_mail()
        .await
        .into_iter()
        .filter(|(to, _)| to != "customer@acme.test")
        .collect();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].0, "manager@acme.test");
    // And the manager finds it in the app, once.
    let manager = app.bearer("manager@acme.test").await;
    let list = expect_json(
        app.get("/api/v1/notifications", &manager).await,
        StatusCode::OK,
    )
    .await;
    let mentions: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "mention" && n["ticket_id"] == id)
        .collect();
    assert_eq!(mentions.len(), 1, "{list}");
    assert_eq!(
        mentions[0]["title"],
        format!("Alex Agent mentioned you on {number}")
    );
}
