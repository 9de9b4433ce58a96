//! Notifications across a ticket's life: templated, threaded mails through
//! a real SMTP listener; the staff's in-app centre and preferences; the
//! organization's mail templates.

use crate::common::*;
use crate::magic_link::start;
use crate::on_both_backends;
use crate::smtp::{Received, SmtpSink};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    by_backend:
    ticket_mails_carry_the_number_and_thread_on_the_tickets_root_id,
    preferences_decide_whether_a_mail_is_sent,
);
on_both_backends!(
    an_assignment_tells_the_assignee_in_the_app_and_not_the_actor,
    the_centre_lists_and_marks_only_the_callers_own,
    templates_are_checked_changed_and_restored,
    sla_alerts_tell_the_assignee_and_on_breach_the_managers,
);

const MAIL_WAIT: Duration = Duration::from_secs(15);

/// Waits until `done` holds (the subscriber runs in the background).
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn header(mail: &Received, name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(&mail.data).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let prefix = format!("{}:", name.to_ascii_lowercase());
    head.split("\r\n")
        .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
        .map(|line| line[prefix.len()..].trim().to_owned())
}

impl TestApp {
    async fn my_id(&self, token: &str) -> String {
        let me = expect_json(self.get("/api/v1/users/me", token).await, StatusCode::OK).await;
        me["id"].as_str().unwrap().to_owned()
    }

    async fn notifications(&self, token: &str, query: &str) -> Value {
        expect_json(
            self.get(&format!("/api/v1/notifications{query}"), token)
                .await,
            StatusCode::OK,
        )
        .await
    }

    async fn assign(&self, token: &str, ticket: &str, assignee: &str) {
        let body = json!({"assignee_id": assignee});
        let res = self
            .post_json(&format!("/api/v1/tickets/{ticket}/assign"), token, body)
            .await;
        assert!(res.status().is_success(), "assign: {}", res.status());
    }
}

async fn ticket_mails_carry_the_number_and_thread_on_the_tickets_root_id(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = start(backend, sink.url()).await;
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "Laptop will not boot").await;
    let id = ticket["id"].as_str().unwrap();
    let number = ticket["display_number"].as_str().unwrap();

    // One mail for the new ticket: the receipt, which starts the thread.
    let mails = sink.wait_for(1, MAIL_WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 1, "one mail, not two");
    let receipt = &mails[0];
    assert_eq!(receipt.to, ["customer@acme.test"]);
    assert_eq!(
        receipt.subject(),
        format!("[{number}] Laptop will not boot")
    );
    let root = format!("<ticket-{id}@help.example.com>");
    assert_eq!(
        header(receipt, "Message-ID").as_deref(),
        Some(root.as_str())
    );
    assert!(
        receipt
            .text()
            .contains(&format!("http://help.example.com/portal/tickets/{id}")),
        "{}",
        receipt.text()
    );

    // An agent's public reply is mailed, answering the root; an internal
    // note is not.
    let comments = format!("/api/v1/tickets/{id}/comments");
    for (body, public) in [
        ("Checked the logs", false),
        ("Please hold the power button.", true),
    ] {
        let res = app
            .post_json(&comments, &agent, json!({"body": body, "public": public}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    let reply = &mails[1];
    assert!(reply.subject().contains(number), "{}", reply.subject());
    assert!(reply.text().contains("Please hold the power button."));
    assert!(!reply.text().contains("Checked the logs"));
    assert_eq!(header(reply, "In-Reply-To").as_deref(), Some(root.as_str()));
    assert_eq!(header(reply, "References").as_deref(), Some(root.as_str()));
    let own_id = header(reply, "Message-ID").unwrap();
    assert!(
        own_id.ends_with("@help.example.com>") && own_id != root,
        "{own_id}"
    );

    // Resolved: the customer's mail carries the rating link.
    let res = app
        .patch_json(
            &format!("/api/v1/tickets/{id}"),
            &agent,
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mails = sink.wait_for(3, MAIL_WAIT).await;
    let resolved = &mails[2];
    assert_eq!(
        resolved.subject(),
        format!("[{number}] Resolved: Laptop will not boot")
    );
    assert!(resolved.text().contains("#rating"), "{}", resolved.text());
    assert_eq!(
        header(resolved, "In-Reply-To").as_deref(),
        Some(root.as_str())
    );
}

async fn preferences_decide_whether_a_mail_is_sent(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = start(backend, sink.url()).await;
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let agent_id = app.my_id(&agent).await;

    // The agent turns assignment mails off (in-app stays on).
    let prefs = expect_json(
        app.put_json(
            "/api/v1/notifications/preferences",
            &agent,
            json!({"items": [{"kind": "assigned", "email": false, "in_app": true}]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let items = prefs["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    let assigned = items.iter().find(|p| p["kind"] == "assigned").unwrap();
    assert_eq!(
        (assigned["email"].as_bool(), assigned["in_app"].as_bool()),
        (Some(false), Some(true))
    );
    let mention = items.iter().find(|p| p["kind"] == "mention").unwrap();
    assert_eq!(mention["email"], true, "untouched kinds keep their default");
    let bad = app
        .put_json(
            "/api/v1/notifications/preferences",
            &agent,
            json!({"items": [{"kind": "gossip", "email": true, "in_app": true}]}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let ticket = app.new_ticket(&customer, "Monitor flickers").await;
    let id = ticket["id"].as_str().unwrap();
    sink.wait_for(1, MAIL_WAIT).await; // the customer's receipt
    app.assign(&manager, id, &agent_id).await;
    eventually("the in-app assignment", async || {
        app.notifications(&agent, "").await["unread_count"] == 1
    })
    .await;
    // A customer reply on the agent's ticket is mailed (that kind stays on).
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/comments"),
            &customer,
            json!({"body": "It flickers more now", "public": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let to_agent: Vec<&Received> = sink_to(&mails, "agent@acme.test");
    assert_eq!(to_agent.len(), 1, "no assignment mail, one reply mail");
    assert!(
        to_agent[0].subject().contains("replied"),
        "{}",
        to_agent[0].subject()
    );
    assert_eq!(sink.received().len(), 2);
}

fn sink_to<'a>(mails: &'a [Received], to: &str) -> Vec<&'a Received> {
    mails.iter().filter(|m| m.to == [to]).collect()
}

async fn an_assignment_tells_the_assignee_in_the_app_and_not_the_actor(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let agent2 = app.bearer("agent2@acme.test").await;
    let agent_id = app.my_id(&agent).await;
    let agent2_id = app.my_id(&agent2).await;
    let ticket = app.new_ticket(&customer, "VPN is down").await;
    let id = ticket["id"].as_str().unwrap();
    let number = ticket["display_number"].as_str().unwrap();

    // Alex assigns it to Chris, then takes another one themself.
    app.assign(&agent, id, &agent2_id).await;
    let mine = app.new_ticket(&customer, "Mouse is broken").await;
    app.assign(&agent, mine["id"].as_str().unwrap(), &agent_id)
        .await;

    eventually("Chris is told", async || {
        app.notifications(&agent2, "").await["unread_count"] == 1
    })
    .await;
    let list = app.notifications(&agent2, "").await;
    let item = &list["items"][0];
    assert_eq!(item["kind"], "assigned");
    assert_eq!(item["ticket_id"], id);
    assert_eq!(item["ticket_number"], number);
    assert_eq!(item["title"], format!("{number} assigned to you"));
    assert!(item["read_at"].is_null());
    // Let the subscriber see the self-assignment too: nothing for Alex.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let own = app.notifications(&agent, "").await;
    assert_eq!(own["unread_count"], 0, "{own}");
    assert!(own["items"].as_array().unwrap().is_empty());
}

async fn the_centre_lists_and_marks_only_the_callers_own(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let agent2 = app.bearer("agent2@acme.test").await;
    let agent_id = app.my_id(&agent).await;
    let agent2_id = app.my_id(&agent2).await;
    for n in 0..3 {
        let t = app.new_ticket(&customer, &format!("Ticket {n}")).await;
        app.assign(&manager, t["id"].as_str().unwrap(), &agent_id)
            .await;
    }
    let other = app.new_ticket(&customer, "Theirs").await;
    app.assign(&manager, other["id"].as_str().unwrap(), &agent2_id)
        .await;
    eventually("all four are told", async || {
        app.notifications(&agent, "").await["unread_count"] == 3
            && app.notifications(&agent2, "").await["unread_count"] == 1
    })
    .await;

    // Newest first, keyset-paged.
    let first = app.notifications(&agent, "?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        first["items"][0]["title"]
            .as_str()
            .unwrap()
            .contains("assigned"),
        true
    );
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .notifications(&agent, &format!("?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let bad = app.get("/api/v1/notifications?cursor=!!", &agent).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Marking: one's own by id; another's id changes nothing.
    let mine = first["items"][0]["id"].as_str().unwrap().to_owned();
    let theirs = app.notifications(&agent2, "").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let marked = expect_json(
        app.post_json(
            "/api/v1/notifications/read",
            &agent,
            json!({"ids": [mine, theirs]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(marked["updated"], 1);
    assert_eq!(marked["unread_count"], 2);
    assert_eq!(app.notifications(&agent2, "").await["unread_count"], 1);
    let unread = app.notifications(&agent, "?unread=true").await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 2);
    assert!(
        unread["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["read_at"].is_null())
    );
    let empty = app
        .post_json("/api/v1/notifications/read", &agent, json!({}))
        .await;
    let body = expect_json(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["fields"]["ids"].is_string(), "{body}");
    let all = expect_json(
        app.post_json("/api/v1/notifications/read", &agent, json!({"all": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["updated"], 2);
    assert_eq!(all["unread_count"], 0);
    assert_eq!(app.notifications(&agent2, "").await["unread_count"], 1);

    // Customers have no centre.
    for (method, path) in [
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/notifications/preferences"),
    ] {
        assert_eq!(method, "GET");
        let res = app.get(path, &customer).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = app
        .post_json(
            "/api/v1/notifications/read",
            &customer,
            json!({"all": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn templates_are_checked_changed_and_restored(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let path = "/api/v1/settings/mail-templates/ticket_received";
    let list = expect_json(
        app.get("/api/v1/settings/mail-templates", &admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 10);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|t| t["customized"] == false)
    );
    assert_eq!(app.get(path, &agent).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/settings/mail-templates/no_such", &admin)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let bad = app
        .put_json(
            path,
            &admin,
            json!({"subject": "Got it {{customer.age}}", "body": "Hi {{ nope }}"}),
        )
        .await;
    let body = expect_json(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        body["fields"]["subject"]
            .as_str()
            .unwrap()
            .contains("customer.age"),
        "{body}"
    );
    assert!(
        body["fields"]["body"].as_str().unwrap().contains("nope"),
        "{body}"
    );

    let saved = expect_json(
        app.put_json(
            path,
            &admin,
            json!({"subject": "We got it: {{ticket.subject}}", "body": "Thanks {{customer.name}}: {{ticket.link}}"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["customized"], true);
    let read = expect_json(app.get(path, &admin).await, StatusCode::OK).await;
    assert_eq!(read["subject"], "We got it: {{ticket.subject}}");
    let audit = expect_json(
        app.get("/api/v1/audit?owner_type=setting", &admin).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "mail_template.subject"),
        "{audit}"
    );

    let res = app
        .client
        .delete(app.url(path))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let restored = expect_json(res, StatusCode::OK).await;
    assert_eq!(restored["customized"], false);
    assert_eq!(
        restored["subject"],
        "[{{ticket.number}}] {{ticket.subject}}"
    );
}

/// The kinds of the caller's notifications about `ticket`, oldest first.
async fn kinds_about(app: &TestApp, token: &str, ticket: &str) -> Vec<String> {
    let list = app.notifications(token, "").await;
    let mut kinds: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["ticket_id"] == ticket)
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

async fn sla_alerts_tell_the_assignee_and_on_breach_the_managers(app: TestApp) {
    use fieldesk::domain::event::{DomainEvent, SlaAlert};
    use fieldesk::server::db::events;

    let customer = app.bearer("customer@acme.test").await;
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let agent_id = app.my_id(&agent).await;
    let ticket = app.new_ticket(&customer, "Server room is hot").await;
    let id = ticket["id"].as_str().unwrap();
    let number = ticket["display_number"].as_str().unwrap();
    app.assign(&manager, id, &agent_id).await;
    eventually("the assignment", async || {
        kinds_about(&app, &agent, id).await == ["assigned"]
    })
    .await;

    // What the SLA timers publish (the SLA part of issue 13 sends these).
    let ticket_id = uuid::Uuid::parse_str(id).unwrap();
    let (org,): (uuid::Uuid,) =
        fieldesk::server::db::query("SELECT organization_id FROM tickets WHERE id = $1")
            .bind(ticket_id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let due_at = chrono::Utc::now();
    for event in [
        DomainEvent::TicketSlaWarning(SlaAlert {
            ticket_id,
            target: "first_response".into(),
            due_at,
        }),
        DomainEvent::TicketSlaBreached(SlaAlert {
            ticket_id,
            target: "first_response".into(),
            due_at,
        }),
    ] {
        let mut tx = app.state.db.begin().await.unwrap();
        events::publish(&mut tx, org, &event, chrono::Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    eventually("the assignee's alerts", async || {
        kinds_about(&app, &agent, id).await == ["assigned", "sla_warning", "sla_breached"]
    })
    .await;
    eventually("the manager's breach", async || {
        kinds_about(&app, &manager, id).await == ["sla_breached"]
    })
    .await;
    let list = app.notifications(&manager, "").await;
    let breach = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["ticket_id"] == id)
        .unwrap();
    assert_eq!(
        breach["title"],
        format!("{number}: first response breached")
    );
}
