//! `POST /import/tickets`: historical tickets, idempotent on external_id.

use crate::common::*;
use crate::on_both_backends;
use fieldesk::engine::import::MAX_COMMENTS_PER_TICKET;
use fieldesk::server::db::{Dialect, query};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    an_import_keeps_history_and_is_idempotent,
    only_admins_import_and_bad_batches_change_nothing,
    a_ticket_with_too_many_messages_refuses_the_batch,
    each_ticket_is_imported_all_or_nothing,
);

fn batch() -> Value {
    json!({"tickets": [
        {
            "external_id": "ZD-100", "subject": "Cannot print", "description": "Printer says offline",
            "status": "closed", "priority": "high", "requester_email": "Dana.Old@Example.com",
            "created_at": "2023-03-01T09:00:00Z", "closed_at": "2023-03-02T17:00:00Z",
            "comments": [
                {"body": "Have you tried turning it on?", "public": true,
                 "author_email": "agent@acme.test", "created_at": "2023-03-01T10:30:00Z"},
                {"body": "Customer's printer is ancient", "public": false,
                 "author_email": "agent@acme.test", "created_at": "2023-03-01T10:31:00Z"},
                {"body": "Works now, thanks", "author_email": "dana.old@example.com",
                 "created_at": "2023-03-02T16:00:00Z"}
            ]
        },
        {
            "external_id": "ZD-101", "subject": "Password reset", "description": "Locked out",
            "status": "open", "requester_email": "customer@acme.test",
            "created_at": "2023-04-01T08:00:00Z"
        }
    ]})
}

async fn an_import_keeps_history_and_is_idempotent(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let report = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, batch())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["created"], 2);
    assert_eq!(report["updated"], 0);
    assert_eq!(report["contacts_created"], 1, "{report}");
    assert_eq!(report["items"][0]["external_id"], "ZD-100");
    assert_eq!(report["items"][0]["result"], "created");
    let id = report["items"][0]["id"].as_str().unwrap().to_owned();

    // Original dates, status and first response survive.
    let t = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "closed");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["created_at"], "2023-03-01T09:00:00Z");
    assert_eq!(t["closed_at"], "2023-03-02T17:00:00Z");
    assert_eq!(t["resolved_at"], "2023-03-02T17:00:00Z");
    assert_eq!(t["first_response_at"], "2023-03-01T10:30:00Z");
    let comments = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/comments"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let items = comments["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["created_at"], "2023-03-01T10:30:00Z");
    assert_eq!(items[1]["public"], false);
    // The unknown requester became a customer contact of this organization.
    let contacts = expect_json(
        app.get("/api/v1/users?role=customer", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        contacts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "dana.old@example.com")
    );
    let login = app
        .login("dana.old@example.com", "any-password-at-all")
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    // The audit trail says it came from an import.
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["source"] == "import")
    );

    // The same batch again: nothing new.
    let again = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, batch())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["created"], 0);
    assert_eq!(again["unchanged"], 2, "{again}");
    assert_eq!(again["contacts_created"], 0);
    assert_eq!(again["items"][0]["id"], id.as_str());
    let all = expect_json(
        app.get("/api/v1/tickets?status=all&limit=100", &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // A changed batch updates in place and adds only the new message.
    let mut changed = batch();
    changed["tickets"][1]["status"] = json!("pending");
    changed["tickets"][1]["comments"] = json!([{"body": "Any news?", "author_email": "customer@acme.test",
        "created_at": "2023-04-02T08:00:00Z"}]);
    let third = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, changed)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(third["updated"], 1);
    assert_eq!(third["unchanged"], 1);
    let second_id = third["items"][1]["id"].as_str().unwrap();
    let t = expect_json(
        app.get(&format!("/api/v1/tickets/{second_id}"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "pending");
    let comments = expect_json(
        app.get(&format!("/api/v1/tickets/{second_id}/comments"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(comments["items"].as_array().unwrap().len(), 1);
}

async fn only_admins_import_and_bad_batches_change_nothing(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    expect_json(
        app.post_json("/api/v1/import/tickets", &agent, batch())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // One bad ticket refuses the whole batch, with the field that is wrong.
    let mut bad = batch();
    bad["tickets"][1]["status"] = json!("finished");
    bad["tickets"][0]["comments"][0]["created_at"] = Value::Null;
    let err = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["tickets[1].status"].is_string(), "{err}");
    assert!(err["fields"]["tickets[0].comments[0].created_at"].is_string());

    // Another organization's account cannot be a requester here.
    let mut foreign = batch();
    foreign["tickets"][1]["requester_email"] = json!("customer@globex.test");
    let err = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, foreign)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["tickets[1].requester_email"].is_string());

    // Customers do not write internal notes.
    let mut note = batch();
    note["tickets"][0]["comments"][2]["public"] = json!(false);
    let err = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, note).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["tickets[0].comments[2].public"].is_string());

    let malformed = app
        .post_json(
            "/api/v1/import/tickets",
            &admin,
            json!({"tickets": [{"created_at": "yesterday"}]}),
        )
        .await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let all = expect_json(
        app.get("/api/v1/tickets?status=all", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert!(all["items"].as_array().unwrap().is_empty());
    let contacts = expect_json(
        app.get("/api/v1/users?role=customer", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !contacts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "dana.old@example.com")
    );
}

/// How many tickets and messages the database holds.
async fn counts(app: &TestApp) -> (i64, i64) {
    let (tickets,): (i64,) = query("SELECT COUNT(*) FROM tickets")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let (messages,): (i64,) = query("SELECT COUNT(*) FROM ticket_comments")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    (tickets, messages)
}

async fn a_ticket_with_too_many_messages_refuses_the_batch(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let message = |i: usize| {
        json!({"body": format!("Message {i}"), "author_email": "agent@acme.test",
               "created_at": "2023-03-01T10:30:00Z"})
    };
    let mut big = batch();
    big["tickets"][1]["comments"] = (0..=MAX_COMMENTS_PER_TICKET).map(message).collect();
    let err = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, big).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let message_of = err["fields"]["tickets[1].comments"].as_str().unwrap();
    assert!(message_of.contains("10000"), "{message_of}");
    // Refused before anything was written, the valid ticket included.
    assert_eq!(counts(&app).await, (0, 0));

    // At the cap, the ticket is imported.
    let mut full = batch();
    full["tickets"][1]["comments"] = (0..MAX_COMMENTS_PER_TICKET).map(message).collect();
    let report = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, full).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["created"], 2);
    assert_eq!(counts(&app).await, (2, 3 + MAX_COMMENTS_PER_TICKET as i64));
}

/// Makes the database refuse any message with this text (a failure in the
/// middle of storing a ticket).
const POISON: &str = "poisoned message";

async fn refuse_poison(app: &TestApp, refuse: bool) {
    let statements: &[&str] = match (app.state.db.dialect(), refuse) {
        (Dialect::Sqlite, true) => &["CREATE TRIGGER poison BEFORE INSERT ON ticket_comments \
             WHEN NEW.body = 'poisoned message' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"],
        (Dialect::Sqlite, false) => &["DROP TRIGGER poison"],
        (Dialect::Postgres, true) => &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS \
             'BEGIN IF NEW.body = ''poisoned message'' THEN RAISE EXCEPTION ''poisoned''; END IF; RETURN NEW; END'",
            "CREATE TRIGGER poison BEFORE INSERT ON ticket_comments \
             FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
        (Dialect::Postgres, false) => &["DROP TRIGGER poison ON ticket_comments"],
    };
    for sql in statements {
        query(*sql).execute(app.state.db.writer()).await.unwrap();
    }
}

async fn each_ticket_is_imported_all_or_nothing(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    refuse_poison(&app, true).await;
    // The second ticket fails at its last message, after its row, its
    // other messages and their audit rows were written.
    let mut poisoned = batch();
    poisoned["tickets"][1]["comments"] = json!([
        {"body": "First", "author_email": "customer@acme.test", "created_at": "2023-04-01T09:00:00Z"},
        {"body": POISON, "author_email": "customer@acme.test", "created_at": "2023-04-01T10:00:00Z"}
    ]);
    let res = app
        .post_json("/api/v1/import/tickets", &admin, poisoned.clone())
        .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.text().await.unwrap();
    assert!(!body.contains("poisoned"), "no internals: {body}");

    // The first ticket is in, whole; of the second nothing at all.
    let all = expect_json(
        app.get("/api/v1/tickets?status=all", &agent).await,
        StatusCode::OK,
    )
    .await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{all}");
    assert_eq!(items[0]["subject"], "Cannot print");
    // (Its audit rows would name a ticket that is not there.)
    assert_eq!(counts(&app).await, (1, 3));

    // Sent again once the cause is gone, the batch completes: the first
    // ticket unchanged, the second created.
    refuse_poison(&app, false).await;
    let report = expect_json(
        app.post_json("/api/v1/import/tickets", &admin, poisoned)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["unchanged"], 1, "{report}");
    assert_eq!(report["created"], 1);
    assert_eq!(counts(&app).await, (2, 5));
}
