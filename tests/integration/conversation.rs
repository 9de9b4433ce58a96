//! A ticket's conversation is read a page at a time (REST, the ticket page,
//! the magic-link page), and each message's HTML is rendered once, when it
//! is written.

use crate::common::*;
use crate::on_both_backends;
use fieldesk::server::auth::MagicLinkClaims;
use fieldesk::server::db::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    a_long_conversation_pages_newest_first,
    customers_page_through_public_messages_only,
    the_ticket_page_shows_the_newest_messages_and_loads_older_ones,
    messages_are_rendered_once_and_stored_safe,
);

/// How many messages the long ticket gets; every seventh is an internal note.
const MESSAGES: usize = 120;

fn is_note(i: usize) -> bool {
    i % 7 == 3
}

fn text(i: usize) -> String {
    format!("Message {i:03}")
}

/// A customer's ticket with `MESSAGES` messages (replies from both sides,
/// internal notes from the agent); its id.
async fn long_ticket(app: &TestApp) -> String {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "A long story").await;
    let id = ticket["id"].as_str().unwrap().to_owned();
    for i in 0..MESSAGES {
        let (token, public) = match (is_note(i), i % 2) {
            (true, _) => (&agent, false),
            (false, 0) => (&customer, true),
            (false, _) => (&agent, true),
        };
        let res = app
            .post_json(
                &format!("/api/v1/tickets/{id}/comments"),
                token,
                json!({"body": text(i), "public": public}),
            )
            .await;
        expect_json(res, StatusCode::CREATED).await;
    }
    id
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page from the newest back, each as served (oldest first within it).
async fn walk(app: &TestApp, path: &str, token: Option<&str>, limit: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = format!("{path}?{limit}");
    loop {
        let res = match token {
            Some(token) => app.get(&url, token).await,
            None => app.client.get(app.url(&url)).send().await.unwrap(),
        };
        let page = expect_json(res, StatusCode::OK).await;
        pages.push(bodies(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{path}?{limit}&before={cursor}"),
            None => return pages,
        }
        assert!(pages.len() <= MESSAGES, "the cursor never ends");
    }
}

/// The pages put back in time order.
fn in_order(pages: &[Vec<String>]) -> Vec<String> {
    pages.iter().rev().flatten().cloned().collect()
}

async fn a_long_conversation_pages_newest_first(app: TestApp) {
    let id = long_ticket(&app).await;
    let agent = app.bearer("agent@acme.test").await;
    let path = format!("/api/v1/tickets/{id}/comments");

    // Without parameters: the newest 50, oldest first, and a cursor.
    let first = expect_json(app.get(&path, &agent).await, StatusCode::OK).await;
    let newest: Vec<String> = (MESSAGES - 50..MESSAGES).map(text).collect();
    assert_eq!(bodies(&first), newest);
    assert!(first["next_cursor"].is_string(), "{first}");

    // The cursor reaches every message exactly once, in order.
    let all: Vec<String> = (0..MESSAGES).map(text).collect();
    let pages = walk(&app, &path, Some(&agent), "limit=50").await;
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0], newest);
    assert_eq!(pages[2].len(), MESSAGES - 100);
    assert_eq!(in_order(&pages), all);
    // Any page size walks the same messages.
    let pages = walk(&app, &path, Some(&agent), "limit=7").await;
    assert_eq!(pages.len(), MESSAGES.div_ceil(7));
    assert_eq!(in_order(&pages), all);

    // The document names both parameters, for both conversation routes.
    let doc = expect_json(
        app.client
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for route in ["/tickets/{id}/comments", "/access/{token}/comments"] {
        let names: Vec<&str> = doc["paths"][route]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for name in ["before", "limit"] {
            assert!(names.contains(&name), "{route}: {names:?}");
        }
    }

    // A bad cursor or size is the caller's mistake, named by field.
    for (query, field) in [
        ("before=not-a-cursor", "before"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        let body = expect_json(
            app.get(&format!("{path}?{query}"), &agent).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body["fields"][field].is_string(), "{query}: {body}");
    }
}

async fn customers_page_through_public_messages_only(app: TestApp) {
    let id = long_ticket(&app).await;
    let customer = app.bearer("customer@acme.test").await;
    let public: Vec<String> = (0..MESSAGES).filter(|i| !is_note(*i)).map(text).collect();

    let pages = walk(
        &app,
        &format!("/api/v1/tickets/{id}/comments"),
        Some(&customer),
        "limit=50",
    )
    .await;
    // Notes are left out before a page is cut: full pages, nothing skipped.
    assert_eq!(pages[0].len(), 50);
    assert_eq!(in_order(&pages), public);

    // The magic link pages the same public conversation.
    let ticket_id: uuid::Uuid = id.parse().unwrap();
    let (org, requester): (uuid::Uuid, uuid::Uuid) =
        query("SELECT organization_id, requester_id FROM tickets WHERE id = $1")
            .bind(ticket_id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = MagicLinkClaims::new(requester, org, ticket_id, now, Duration::from_secs(600));
    let token = app.state.keys.sign_magic_link(&claims);
    let linked = expect_json(
        app.client
            .get(app.url(&format!("/api/v1/access/{token}")))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let first: Vec<String> = linked["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(first, public[public.len() - 50..]);
    assert!(linked["older_comments"].is_string(), "{linked}");
    let pages = walk(
        &app,
        &format!("/api/v1/access/{token}/comments"),
        None,
        "limit=30",
    )
    .await;
    assert_eq!(in_order(&pages), public);
}

async fn the_ticket_page_shows_the_newest_messages_and_loads_older_ones(app: TestApp) {
    let id = long_ticket(&app).await;
    let agent = app.browser("agent@acme.test").await;
    let html = agent
        .get(app.url(&format!("/desk/tickets/{id}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&text(MESSAGES - 1)), "the newest message");
    assert!(html.contains(&text(MESSAGES - 50)));
    assert!(!html.contains(&text(MESSAGES - 51)), "only the newest page");
    // (Leptos may put a hydration marker after the button's text.)
    assert!(html.contains(r#"<button type="button" class="btn btn-quiet">Load older messages"#));

    // The button's server function: the page before the first one's cursor.
    let detail = expect_json(
        agent
            .post(app.url("/api/load_ticket"))
            .header("accept", "application/json")
            .form(&[("id", id.as_str())])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let before = detail["older_comments"].as_str().unwrap();
    let older = expect_json(
        agent
            .post(app.url("/api/load_older_comments"))
            .header("accept", "application/json")
            .form(&[("id", id.as_str()), ("before", before)])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let expected: Vec<String> = (MESSAGES - 100..MESSAGES - 50).map(text).collect();
    assert_eq!(bodies(&older), expected);
    assert!(older["older"].is_string());

    // A customer's page has no button when everything fits.
    let customer = app.bearer("customer@acme.test").await;
    let short = app.new_ticket(&customer, "Short").await;
    let browser = app.browser("customer@acme.test").await;
    let html = browser
        .get(app.url(&format!(
            "/portal/tickets/{}",
            short["id"].as_str().unwrap()
        )))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Short"));
    assert!(!html.contains("Load older messages"));
}

async fn messages_are_rendered_once_and_stored_safe(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let ticket = app.new_ticket(&customer, "Rendering").await;
    let id = ticket["id"].as_str().unwrap();
    let path = format!("/api/v1/tickets/{id}/comments");
    let res = app
        .post_json(
            &path,
            &customer,
            json!({"body": "**bold** <script>alert(1)</script>"}),
        )
        .await;
    let comment = expect_json(res, StatusCode::CREATED).await;
    let comment_id: uuid::Uuid = comment["id"].as_str().unwrap().parse().unwrap();

    // Stored with the message, and the safe (sanitized) output.
    let stored = || async {
        let (html,): (Option<String>,) =
            query("SELECT body_html FROM ticket_comments WHERE id = $1")
                .bind(comment_id)
                .fetch_one(&app.state.db)
                .await
                .unwrap();
        html
    };
    let html = stored().await.expect("rendered when written");
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");

    // Reads serve the stored HTML as it is: nothing renders it again.
    query("UPDATE ticket_comments SET body_html = '<p>from the column</p>' WHERE id = $1")
        .bind(comment_id)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let page = expect_json(app.get(&path, &customer).await, StatusCode::OK).await;
    assert_eq!(page["items"][0]["body_html"], "<p>from the column</p>");

    // A message from before the column existed is rendered on its first
    // read, and saved.
    query("UPDATE ticket_comments SET body_html = NULL WHERE id = $1")
        .bind(comment_id)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let page = expect_json(app.get(&path, &customer).await, StatusCode::OK).await;
    assert_eq!(page["items"][0]["body_html"].as_str(), Some(html.as_str()));
    assert_eq!(stored().await.as_deref(), Some(html.as_str()));
}
