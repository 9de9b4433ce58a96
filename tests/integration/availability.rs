//! Staff availability on both databases, with a real WebSocket client: a
//! connected agent shows online on the manager's pulse once the sockets'
//! re-check has seen them, away when they say so and online again when
//! they are back; the pulse's counters; customers are refused the pulse,
//! and another organization's staff never appear on it.

use crate::common::*;
use crate::on_both_backends;
use chrono::{TimeDelta, Utc};
use fieldesk::domain::live::PROTOCOL_VERSION;
use fieldesk::engine::availability::day_start;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

on_both_backends!(by_backend: staff_are_online_while_connected_and_away_when_they_say_so);

const PATIENCE: Duration = Duration::from_secs(10);

/// An open `/ws` connection of the person behind `token` (kept open while
/// held).
async fn connect(app: &TestApp, token: &str) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
    let url = format!(
        "{}/ws?v={PROTOCOL_VERSION}",
        app.base.replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().unwrap();
    let bearer = format!("Bearer {token}").parse().unwrap();
    request.headers_mut().insert("authorization", bearer);
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade succeeds")
        .0
}

async fn pulse(app: &TestApp, token: &str) -> Value {
    expect_json(app.get("/api/v1/desk/pulse", token).await, StatusCode::OK).await
}

/// The pulse's row of `user_id`, if it lists them.
fn row<'a>(pulse: &'a Value, user_id: &str) -> Option<&'a Value> {
    pulse["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_id"] == user_id)
}

/// Asks the pulse until `user_id` has `availability` (the re-check runs
/// every second here); the pulse then.
async fn until(app: &TestApp, token: &str, user_id: &str, availability: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let pulse = pulse(app, token).await;
        if row(&pulse, user_id).is_some_and(|r| r["availability"] == availability) {
            return pulse;
        }
        assert!(
            Instant::now() < deadline,
            "{user_id} not {availability} within the patience: {pulse}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn set_away(app: &TestApp, token: &str, away: bool) -> Value {
    let res = app
        .client
        .put(app.url("/api/v1/users/me/availability"))
        .bearer_auth(token)
        .json(&json!({"away": away}))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await
}

async fn staff_are_online_while_connected_and_away_when_they_say_so(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.ws_recheck_secs = 1).await;
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.tokens("agent@acme.test").await;
    let agent_id = agent["user"]["id"].as_str().unwrap().to_owned();
    let agent_token = agent["access_token"].as_str().unwrap().to_owned();
    let theirs = app.tokens("agent@globex.test").await;
    let their_agent = theirs["user"]["id"].as_str().unwrap().to_owned();

    // Before anyone connects: the desk's agents and managers only, all
    // offline and never seen.
    let before = pulse(&app, &manager).await;
    let staff = before["staff"].as_array().unwrap();
    let roles: Vec<&str> = staff.iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert!(!roles.is_empty());
    assert!(
        roles.iter().all(|r| ["agent", "manager"].contains(r)),
        "{roles:?}"
    );
    assert!(staff.iter().all(|s| s["availability"] == "offline"));
    assert!(row(&before, &agent_id).unwrap()["since"].is_null());
    assert_eq!(before["agents_online"], 0);

    // The agent, and another organization's agent, open a socket.
    let _ours = connect(&app, &agent_token).await;
    let _elsewhere = connect(&app, theirs["access_token"].as_str().unwrap()).await;
    let online = until(&app, &manager, &agent_id, "online").await;
    let since = row(&online, &agent_id).unwrap()["since"].clone();
    assert!(since.is_string(), "{online}");
    assert_eq!(online["agents_online"], 1);
    assert!(
        row(&online, &their_agent).is_none(),
        "another organization's agent"
    );

    // Away, then back: online again since they came online.
    let me = set_away(&app, &agent_token, true).await;
    assert_eq!(me["user_id"], agent_id.as_str());
    assert_eq!(me["role"], "agent");
    assert_eq!(me["availability"], "away");
    let away = pulse(&app, &manager).await;
    let row_away = row(&away, &agent_id).unwrap();
    assert_eq!(row_away["availability"], "away");
    assert_eq!(row_away["since"], me["since"]);
    assert_eq!(away["agents_online"], 0, "away is not online");
    let again = set_away(&app, &agent_token, true).await;
    assert_eq!(
        again["since"], me["since"],
        "still away since the first time"
    );
    let back = set_away(&app, &agent_token, false).await;
    assert_eq!(back["availability"], "online");
    assert_eq!(back["since"], since);

    // The counters: two open tickets, one of them assigned; one breach
    // today and one yesterday.
    let customer = app.bearer("customer@acme.test").await;
    let mut ids = Vec::new();
    for subject in ["Printer on fire", "VPN down"] {
        let body = json!({"subject": subject, "description": "Please help with this."});
        let ticket = expect_json(
            app.post_json("/api/v1/tickets", &customer, body).await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(ticket["id"].as_str().unwrap().to_owned());
    }
    expect_json(
        app.post_json(
            &format!("/api/v1/tickets/{}/assign", ids[0]),
            &manager,
            json!({"assignee_id": agent_id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let org = uuid::Uuid::parse_str(agent["user"]["organization_id"].as_str().unwrap()).unwrap();
    let ticket = uuid::Uuid::parse_str(&ids[1]).unwrap();
    let now = Utc::now();
    for (target, at) in [
        ("first_response", now),
        ("resolution", day_start(now) - TimeDelta::hours(1)),
    ] {
        fieldesk::server::db::query(
            "INSERT INTO ticket_sla_breaches (id, organization_id, ticket_id, target, due_at, breached_at, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $5)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(org)
        .bind(ticket)
        .bind(target)
        .bind(at)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    }
    let counted = pulse(&app, &manager).await;
    assert_eq!(counted["open_tickets"], 2, "{counted}");
    assert_eq!(counted["unassigned"], 1);
    assert_eq!(counted["breaches_today"], 1);
    // The desk's tabs count the same tickets, from each agent's side.
    let counts = |email: &'static str| {
        let app = &app;
        async move {
            let browser = app.browser(email).await;
            let res = browser
                .post(app.url("/api/load_queue_counts"))
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            expect_json(res, StatusCode::OK).await
        }
    };
    let alex = counts("agent@acme.test").await;
    assert_eq!(
        alex,
        json!({"my_open": 1, "unassigned": 1, "all_open": 2, "pending": 0, "escalated": 0})
    );
    assert_eq!(counts("agent2@acme.test").await["my_open"], 0);
    let refused = app
        .browser("customer@acme.test")
        .await
        .post(app.url("/api/load_queue_counts"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Customers see no pulse and have no availability; another
    // organization's pulse lists its own people, none of ours.
    let res = app.get("/api/v1/desk/pulse", &customer).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .put(app.url("/api/v1/users/me/availability"))
        .bearer_auth(&customer)
        .json(&json!({"away": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let globex = app.bearer("admin@globex.test").await;
    let theirs = until(&app, &globex, &their_agent, "online").await;
    assert!(row(&theirs, &agent_id).is_none());
    assert_eq!(theirs["open_tickets"], 0);
    assert_eq!(theirs["breaches_today"], 0);
}
