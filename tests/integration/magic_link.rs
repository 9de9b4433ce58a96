//! URL-based access: mails with magic links through a real SMTP server,
//! the link API and page, and what a link can never do.

use crate::common::*;
use crate::on_both_backends;
use crate::smtp::SmtpSink;
use fieldesk::server::auth::MagicLinkClaims;
use fieldesk::server::db::query;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    by_backend:
    a_contact_follows_their_ticket_through_the_mailed_link,
    links_open_one_ticket_for_one_purpose,
    asking_for_links_never_reveals_who_has_an_account,
    mail_waits_in_the_queue_until_the_smtp_server_is_up,
);

const MAIL_WAIT: Duration = Duration::from_secs(15);
const CONTACT: &str = "new.person@example.com";

/// A test app mailing through `smtp_url`, its links under a public address.
pub(crate) async fn start(backend: Backend, smtp_url: String) -> TestApp {
    TestApp::start_with(backend, |config| {
        config.smtp_url = Some(smtp_url);
        config.public_url = Some("http://help.example.com/".into());
    })
    .await
}

impl TestApp {
    /// An agent opens a ticket for someone known only by email.
    async fn ticket_for(&self, agent: &str, email: &str, subject: &str) -> Value {
        let body = json!({"subject": subject, "description": "Reported by phone", "requester_email": email});
        expect_json(
            self.post_json("/api/v1/tickets", agent, body).await,
            StatusCode::CREATED,
        )
        .await
    }

    async fn attach(&self, agent: &str, ticket: &str, name: &str, public: bool) -> Value {
        let form = Form::new().text("public", public.to_string()).part(
            "file",
            Part::bytes(b"hello".to_vec()).file_name(name.to_owned()),
        );
        let res = self
            .client
            .post(self.url(&format!("/api/v1/tickets/{ticket}/attachments")))
            .bearer_auth(agent)
            .multipart(form)
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::CREATED).await
    }

    async fn get_anonymous(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// (status, attempts, last_error) of every queued mail, oldest first.
    async fn outbound_mail(&self) -> Vec<(String, i64, Option<String>)> {
        let sql = "SELECT status, attempts, last_error FROM outbound_mail ORDER BY created_at";
        query(sql).fetch_all(&self.state.db).await.unwrap()
    }
}

async fn a_contact_follows_their_ticket_through_the_mailed_link(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = start(backend, sink.url()).await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.ticket_for(&agent, CONTACT, "Boiler makes noises").await;
    let id = ticket["id"].as_str().unwrap();
    let number = ticket["display_number"].as_str().unwrap();
    let comments = format!("/api/v1/tickets/{id}/comments");
    for (body, public) in [
        ("A technician comes on Monday.", true),
        ("Customer sounded grumpy", false),
    ] {
        let note = json!({"body": body, "public": public});
        expect_json(
            app.post_json(&comments, &agent, note).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let reason = json!({"reason": "Secret escalation reason"});
    let escalate = format!("/api/v1/tickets/{id}/escalate");
    expect_json(
        app.post_json(&escalate, &agent, reason).await,
        StatusCode::OK,
    )
    .await;
    let public_file = app.attach(&agent, id, "manual.txt", true).await;
    let internal_file = app.attach(&agent, id, "internal.txt", false).await;

    // The contact gets the receipt with a link to this ticket (and a mail
    // for the public reply; none for the note).
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    let mail = mails
        .iter()
        .find(|m| m.text().contains("has received your request"))
        .expect("the receipt");
    assert_eq!(mail.to, vec![CONTACT.to_owned()]);
    assert_eq!(mail.from, "fieldesk@localhost");
    assert_eq!(mail.subject(), format!("[{number}] Boiler makes noises"));
    assert!(
        mail.text().contains("http://help.example.com/access/"),
        "{}",
        mail.text()
    );
    let token = mail.magic_link_token();

    // The link API: the ticket with its public side only.
    let linked = expect_json(
        app.get_anonymous(&format!("/api/v1/access/{token}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(linked["ticket"]["id"], id);
    assert_eq!(linked["organization_name"], "Acme Corporation");
    let bodies: Vec<&str> = linked["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["A technician comes on Monday."]);
    assert!(linked["ticket"]["escalation_reason"].is_null());
    assert!(linked["ticket"]["escalated_at"].is_null());
    let files: Vec<&str> = linked["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["manual.txt"]);
    let download = |file: &Value| {
        format!(
            "/api/v1/access/{token}/attachments/{}",
            file["id"].as_str().unwrap()
        )
    };
    let res = app.get_anonymous(&download(&public_file)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"hello");
    let res = app.get_anonymous(&download(&internal_file)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The page shows the same, and keeps out of caches.
    let res = app.get_anonymous(&format!("/access/{token}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    assert!(page.contains("Boiler makes noises"));
    assert!(page.contains("A technician comes on Monday."));
    assert!(page.contains("manual.txt"));
    for secret in ["grumpy", "Secret escalation reason", "internal.txt"] {
        assert!(!page.contains(secret), "the page leaks {secret}");
    }

    // A reply through the link lands on the ticket, by the requester, through
    // the one change path (a pending ticket opens again, audited).
    let patch = json!({"status": "pending"});
    expect_json(
        app.patch_json(&format!("/api/v1/tickets/{id}"), &agent, patch)
            .await,
        StatusCode::OK,
    )
    .await;
    let reply = json!({"body": "Monday works for me."});
    let stored = expect_json(
        app.post_json(&format!("/api/v1/access/{token}/comments"), "", reply)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(stored["author_id"], ticket["requester_id"]);
    assert_eq!(stored["public"], true);
    // The page's server function replies the same way.
    let res = app
        .client
        .post(app.url("/api/reply_via_link"))
        .header("accept", "application/json")
        .form(&[("token", token.as_str()), ("body", "See you then.")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let conversation = expect_json(app.get(&comments, &agent).await, StatusCode::OK).await;
    let by_requester: Vec<&str> = conversation["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["author_id"] == ticket["requester_id"])
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(by_requester, ["Monday works for me.", "See you then."]);
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let reopened = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "status" && e["old"] == "pending")
        .expect("the reply reopened the pending ticket");
    assert_eq!(reopened["new"], "open");
    assert_eq!(reopened["actor_id"], ticket["requester_id"]);
    assert_eq!(reopened["source"], "api");

    // Three mails to the contact, each with the link: the receipt, the
    // public reply and "waiting for your answer"; the internal note and the
    // escalation none (the escalation goes to the managers), and the
    // requester's own replies none.
    sink.wait_for(4, MAIL_WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mails, staff): (Vec<_>, Vec<_>) =
        sink.received().into_iter().partition(|m| m.to == [CONTACT]);
    assert_eq!(mails.len(), 3);
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].to, ["manager@acme.test"]);
    for mail in &mails {
        assert_eq!(mail.to, vec![CONTACT.to_owned()]);
        let text = mail.text();
        assert!(text.contains("http://help.example.com/access/"), "{text}");
        assert!(mail.subject().contains(number), "{}", mail.subject());
        for secret in ["grumpy", "Secret escalation reason"] {
            assert!(!text.contains(secret), "a mail leaks {secret}");
        }
    }
    assert!(
        mails
            .iter()
            .any(|m| m.text().contains("A technician comes on Monday."))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.subject().contains("Waiting for your answer"))
    );
    assert_eq!(app.outbound_mail().await[0].0, "sent");
}

async fn links_open_one_ticket_for_one_purpose(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = start(backend, sink.url()).await;
    let agent = app.bearer("agent@acme.test").await;
    let a = app.ticket_for(&agent, CONTACT, "Ticket A").await;
    let b = app.ticket_for(&agent, CONTACT, "Ticket B").await;
    let b_file = app
        .attach(&agent, b["id"].as_str().unwrap(), "b.txt", true)
        .await;
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    let token_for = |subject: &str| {
        mails
            .iter()
            .find(|m| m.subject().ends_with(subject))
            .expect("a mail per ticket")
            .magic_link_token()
    };
    let (token_a, token_b) = (token_for("Ticket A"), token_for("Ticket B"));
    let show = |token: &str| format!("/api/v1/access/{token}");

    // Each link opens its own ticket, and nothing of the other.
    for (token, ticket) in [(&token_a, &a), (&token_b, &b)] {
        let linked = expect_json(app.get_anonymous(&show(token)).await, StatusCode::OK).await;
        assert_eq!(linked["ticket"]["id"], ticket["id"]);
    }
    let b_file_via_a = format!(
        "/api/v1/access/{token_a}/attachments/{}",
        b_file["id"].as_str().unwrap()
    );
    assert_eq!(
        app.get_anonymous(&b_file_via_a).await.status(),
        StatusCode::NOT_FOUND
    );

    let refused = async |token: &str| {
        let res = app.get_anonymous(&show(token)).await;
        let body = expect_json(res, StatusCode::NOT_FOUND).await;
        assert_eq!(
            body["error"],
            "This link has expired or is not valid — request a new one"
        );
    };
    // Tampered: the payload names ticket B under A's signature.
    let mut parts: Vec<String> = token_a.split('.').map(str::to_owned).collect();
    let b_parts: Vec<&str> = token_b.split('.').collect();
    parts[1] = b_parts[1].to_owned();
    refused(&parts.join(".")).await;
    refused("not-a-token").await;
    // Expired.
    let org = app.state.keys.verify_magic_link(&token_a).unwrap().org;
    let claims = |ticket: &Value, requester: &Value, issued: i64, ttl: u64| {
        MagicLinkClaims::new(
            uuid::Uuid::parse_str(requester.as_str().unwrap()).unwrap(),
            org,
            uuid::Uuid::parse_str(ticket["id"].as_str().unwrap()).unwrap(),
            issued,
            Duration::from_secs(ttl),
        )
    };
    let now = chrono::Utc::now().timestamp();
    let expired = claims(&a, &a["requester_id"], now - 7200, 3600);
    refused(&app.state.keys.sign_magic_link(&expired)).await;
    // Signed by us, but for a ticket whose requester is someone else.
    let customer = app.bearer("customer@acme.test").await;
    let theirs = expect_json(
        app.post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Mine", "description": "Not yours"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let borrowed = claims(&theirs, &a["requester_id"], now, 3600);
    refused(&app.state.keys.sign_magic_link(&borrowed)).await;

    // An access token is no link, and a link is no access token.
    refused(&customer).await;
    let res = app
        .get(
            &format!("/api/v1/tickets/{}", a["id"].as_str().unwrap()),
            &token_a,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(app.url("/api/v1/tickets"))
        .header("cookie", format!("fd_access={token_a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A dead link's page says so, with a way to a new one.
    let res = app.get_anonymous("/access/not-a-token").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let page = res.text().await.unwrap();
    assert!(page.contains("This link has expired or is not valid"));
    assert!(page.contains("Email me a link"));
}

async fn asking_for_links_never_reveals_who_has_an_account(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = start(backend, sink.url()).await;
    let ask = async |organization: &str, email: &str| {
        let body = json!({"organization": organization, "email": email});
        app.post_json("/api/v1/auth/magic-link", "", body).await
    };
    for (organization, email) in [
        ("acme", "nobody@example.com"),
        ("no-such-org", "customer@acme.test"),
        ("globex", "customer@acme.test"),
        ("acme", "agent@acme.test"),
    ] {
        let res = ask(organization, email).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{organization} {email}");
    }
    let bad = expect_json(
        ask("", "not an email").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["fields"]["organization"].is_string());
    assert!(bad["fields"]["email"].is_string());

    // A real customer with an open ticket gets a mail with its link.
    let customer = app.bearer("customer@acme.test").await;
    let ticket = expect_json(
        app.post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Wifi drops", "description": "Every hour"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let res = ask(" ACME ", "Customer@Acme.test").await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // The customer's receipt for the new ticket, and the links they asked for.
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    let links: Vec<_> = mails
        .iter()
        .filter(|m| m.subject().starts_with("Your requests with"))
        .collect();
    assert_eq!(links.len(), 1, "only the real customer got links");
    assert_eq!(links[0].to, vec!["customer@acme.test".to_owned()]);
    assert!(links[0].text().contains("Wifi drops"));
    let linked = expect_json(
        app.get_anonymous(&format!("/api/v1/access/{}", links[0].magic_link_token()))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(linked["ticket"]["id"], ticket["id"]);
    // Nothing more arrives for the unknown addresses.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.received().len(), 2);
    assert_eq!(app.outbound_mail().await.len(), 2);
}

async fn mail_waits_in_the_queue_until_the_smtp_server_is_up(backend: Backend) {
    // A port with nothing listening (yet).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = start(backend, format!("smtp://{addr}")).await;
    let agent = app.bearer("agent@acme.test").await;
    app.ticket_for(&agent, CONTACT, "Gate is stuck").await;

    // The first attempt fails and the mail stays queued with the reason.
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    loop {
        let queued = app.outbound_mail().await;
        if let Some((status, attempts, error)) = queued.first()
            && *attempts >= 1
        {
            assert_eq!(status, "pending");
            assert!(error.is_some());
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt made");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Once a server listens there, the mail goes out.
    let sink = SmtpSink::start_on(addr).await;
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    assert!(mails[0].subject().ends_with("Gate is stuck"));
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    while app.outbound_mail().await[0].0 != "sent" {
        assert!(tokio::time::Instant::now() < deadline, "not marked sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.outbound_mail().await.len(), 1);
}
