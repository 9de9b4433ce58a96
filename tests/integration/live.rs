//! Live updates over WebSocket, with a real client (tokio-tungstenite), on
//! both databases: 401 without credentials and a foreign origin refused;
//! each topic authorized by the policy, another organization's events
//! never delivered; internal notes never reach customers; events in order
//! and what a reconnecting client missed from `GET /api/v1/events`; a slow
//! client disconnected while the others keep up; sockets closed when the
//! person is deactivated or the session ends; presence. On PostgreSQL, two
//! server processes: a change through one reaches a client of the other,
//! and SIGTERM closes that client's socket with 1001.

use crate::common::*;
use crate::on_both_backends;
use fieldesk::domain::live::{
    CLOSE_ACCESS_ENDED, CLOSE_RELOAD, CLOSE_TOO_SLOW, PROTOCOL_VERSION, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

on_both_backends!(
    an_upgrade_needs_credentials_a_same_site_origin_and_this_protocol,
    topics_are_authorized_and_other_organizations_never_deliver,
    customers_never_receive_internal_notes_or_staff_fields,
    events_arrive_in_order_and_a_reconnect_fetches_what_it_missed,
    presence_reaches_the_ticket_and_the_presence_topics,
);
on_both_backends!(by_backend:
    a_slow_client_is_disconnected_while_the_others_keep_up,
    sockets_close_when_the_person_is_deactivated_or_the_session_ends,
);

const PATIENCE: Duration = Duration::from_secs(10);

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client of the test server.
struct Live {
    ws: Stream,
}

/// How a connection attempt went.
enum Upgrade {
    Open(Live),
    Refused(u16),
}

fn ws_url(base: &str, version: u32) -> String {
    format!("{}/ws?v={version}", base.replacen("http://", "ws://", 1))
}

async fn upgrade(base: &str, version: u32, headers: &[(&'static str, String)]) -> Upgrade {
    let mut request = ws_url(base, version).into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Upgrade::Open(Live { ws }),
        Err(WsError::Http(res)) => Upgrade::Refused(res.status().as_u16()),
        Err(e) => panic!("WebSocket connect failed: {e}"),
    }
}

impl Live {
    async fn connect(base: &str, token: &str) -> Live {
        match upgrade(
            base,
            PROTOCOL_VERSION,
            &[("authorization", format!("Bearer {token}"))],
        )
        .await
        {
            Upgrade::Open(live) => live,
            Upgrade::Refused(status) => panic!("upgrade refused with {status}"),
        }
    }

    async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next message (pings skipped); each one must be a shared
    /// `ServerMessage`.
    async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a message within the patience")
                .expect("the socket is open")
                .expect("a frame");
            if let Message::Text(text) = frame {
                serde_json::from_str::<ServerMessage>(&text)
                    .unwrap_or_else(|e| panic!("not a ServerMessage ({e}): {text}"));
                return serde_json::from_str(&text).unwrap();
            }
            assert!(
                matches!(frame, Message::Ping(_) | Message::Pong(_)),
                "unexpected frame {frame:?}"
            );
        }
    }

    async fn subscribe(&mut self, topic: &str) -> Value {
        self.send(json!({"type": "subscribe", "topic": topic}))
            .await;
        self.next().await
    }

    /// Subscribes and returns the `seq` the subscription starts after.
    async fn follow(&mut self, topic: &str) -> i64 {
        let answer = self.subscribe(topic).await;
        assert_eq!(answer["type"], "subscribed", "{answer}");
        assert_eq!(answer["topic"], topic);
        answer["seq"].as_i64().unwrap()
    }

    /// The next `event` message.
    async fn event(&mut self) -> Value {
        let message = self.next().await;
        assert_eq!(message["type"], "event", "{message}");
        message
    }

    /// Waits for the server's close frame and returns its code.
    async fn closed(&mut self) -> u16 {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("closed within the patience");
            match frame {
                Some(Ok(Message::Close(Some(close)))) => return u16::from(close.code),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 0,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Proves nothing more arrives: a ping answered by a pong, with no
    /// event before it.
    async fn nothing_pending(&mut self) {
        self.send(json!({"type": "ping"})).await;
        let message = self.next().await;
        assert_eq!(message["type"], "pong", "unexpected {message}");
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// Creates a ticket through `token` and waits until live updates have sent
/// it out (`watcher`, staff of its organization, hears of it): sockets
/// opened from then on start after it and only hear of what follows.
async fn settled_ticket(app: &TestApp, token: &str, watcher: &str, subject: &str) -> String {
    let mut watch = Live::connect(&app.base, watcher).await;
    watch.follow("org").await;
    let ticket = id(&app.new_ticket(token, subject).await);
    while watch.event().await["event"]["ticket"]["id"] != ticket.as_str() {}
    ticket
}

async fn an_upgrade_needs_credentials_a_same_site_origin_and_this_protocol(app: TestApp) {
    assert!(matches!(
        upgrade(&app.base, PROTOCOL_VERSION, &[]).await,
        Upgrade::Refused(401)
    ));
    assert!(matches!(
        upgrade(
            &app.base,
            PROTOCOL_VERSION,
            &[("authorization", "Bearer not-a-token".into())]
        )
        .await,
        Upgrade::Refused(401)
    ));
    // A browser's session cookie: only from a page of this site.
    let token = app.bearer("agent@acme.test").await;
    let cookie = ("cookie", format!("fd_access={token}"));
    let evil = ("origin", "http://evil.test".to_owned());
    assert!(matches!(
        upgrade(&app.base, PROTOCOL_VERSION, &[cookie.clone(), evil]).await,
        Upgrade::Refused(403)
    ));
    let ours = ("origin", app.base.clone());
    let Upgrade::Open(mut live) =
        upgrade(&app.base, PROTOCOL_VERSION, &[cookie.clone(), ours]).await
    else {
        panic!("a same-site upgrade with the session cookie opens");
    };
    live.follow("org").await;
    // A tab from before a deploy: asked to reload, then closed.
    let Upgrade::Open(mut old) = upgrade(&app.base, PROTOCOL_VERSION + 1, &[cookie]).await else {
        panic!("an old client is upgraded to be told to reload");
    };
    let reload = old.next().await;
    assert_eq!(
        reload,
        json!({"type": "reload", "version": PROTOCOL_VERSION})
    );
    assert_eq!(old.closed().await, CLOSE_RELOAD);
}

async fn topics_are_authorized_and_other_organizations_never_deliver(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let other_customer = app.bearer("customer2@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let globex_agent = app.bearer("agent@globex.test").await;
    let own = settled_ticket(&app, &customer, &agent, "My printer").await;
    let someone_elses = id(&app.new_ticket(&other_customer, "Their printer").await);
    let globex_ticket = settled_ticket(&app, &globex_agent, &globex_agent, "Globex printer").await;

    let mut live = Live::connect(&app.base, &customer).await;
    for (topic, code) in [
        ("org".to_owned(), "forbidden"),
        ("presence".to_owned(), "forbidden"),
        (format!("ticket:{someone_elses}"), "not_found"),
        (format!("ticket:{globex_ticket}"), "not_found"),
        (format!("ticket:{}", uuid::Uuid::now_v7()), "not_found"),
    ] {
        let answer = live.subscribe(&topic).await;
        assert_eq!(
            answer,
            json!({"type": "error", "code": code, "topic": topic}),
            "{topic}"
        );
    }
    let answer = live.subscribe("tickets:all").await;
    assert_eq!(answer["code"], "bad_request");
    live.send(json!({"type": "dance"})).await;
    assert_eq!(live.next().await["code"], "bad_request");
    live.follow(&format!("ticket:{own}")).await;
    live.follow("user").await;

    // Staff of both organizations follow their queues; only acme's agent
    // hears of acme's ticket, and globex's agent next hears of globex's.
    let mut acme = Live::connect(&app.base, &agent).await;
    acme.follow("org").await;
    let mut globex = Live::connect(&app.base, &globex_agent).await;
    globex.follow("org").await;
    globex.follow(&format!("ticket:{globex_ticket}")).await;
    let acme_ticket = app.new_ticket(&customer, "Second printer").await;
    let event = acme.event().await;
    assert_eq!(event["topic"], "org");
    assert_eq!(event["event"]["kind"], "ticket.created");
    assert_eq!(event["event"]["ticket"]["id"], acme_ticket["id"]);
    let path = format!("/api/v1/tickets/{globex_ticket}");
    expect_json(
        app.patch_json(&path, &globex_agent, json!({"priority": "urgent"}))
            .await,
        StatusCode::OK,
    )
    .await;
    for topic in ["org".to_owned(), format!("ticket:{globex_ticket}")] {
        let event = globex.event().await;
        assert_eq!(event["topic"], topic);
        assert_eq!(event["event"]["kind"], "ticket.updated");
        assert_eq!(event["event"]["ticket_id"], globex_ticket.as_str());
    }
    globex.nothing_pending().await;
    // The customer heard of neither: not their ticket, not their organization.
    live.nothing_pending().await;
}

async fn customers_never_receive_internal_notes_or_staff_fields(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = settled_ticket(&app, &customer, &agent, "VPN drops").await;
    let topic = format!("ticket:{ticket}");
    let mut theirs = Live::connect(&app.base, &customer).await;
    theirs.follow(&topic).await;
    let mut staff = Live::connect(&app.base, &agent).await;
    staff.follow(&topic).await;

    let comments = format!("/api/v1/tickets/{ticket}/comments");
    let note = json!({"body": "Customer is on the old client (internal).", "public": false});
    expect_json(
        app.post_json(&comments, &agent, note).await,
        StatusCode::CREATED,
    )
    .await;
    let escalate = format!("/api/v1/tickets/{ticket}/escalate");
    let reason = json!({"reason": "VIP customer"});
    expect_json(
        app.post_json(&escalate, &agent, reason).await,
        StatusCode::OK,
    )
    .await;
    let reply = json!({"body": "Please update your VPN client.", "public": true});
    expect_json(
        app.post_json(&comments, &agent, reply).await,
        StatusCode::CREATED,
    )
    .await;

    let seen = staff.event().await;
    assert_eq!(seen["event"]["kind"], "comment.created");
    assert_eq!(seen["event"]["public"], false);
    assert!(
        seen["event"]["comment"]["body"]
            .as_str()
            .unwrap()
            .contains("internal")
    );
    let escalated = staff.event().await;
    assert_eq!(escalated["event"]["cause"], "ticket.escalated");
    assert!(escalated.to_string().contains("VIP customer"));
    staff.event().await;

    // The customer's first event is the public reply, with its text.
    let first = theirs.event().await;
    assert_eq!(first["event"]["kind"], "comment.created");
    assert_eq!(first["event"]["public"], true);
    assert_eq!(
        first["event"]["comment"]["body"],
        "Please update your VPN client."
    );
    assert!(first["seq"].as_i64().unwrap() > seen["seq"].as_i64().unwrap());
    theirs.nothing_pending().await;
    // Nor does re-synchronising hand them what live updates held back.
    let missed = expect_json(
        app.get(&format!("/api/v1/events?after=0&topics={topic}"), &customer)
            .await,
        StatusCode::OK,
    )
    .await;
    let text = missed.to_string();
    assert!(
        !text.contains("internal") && !text.contains("VIP customer"),
        "{text}"
    );
    assert!(text.contains("Please update your VPN client."));
}

async fn events_arrive_in_order_and_a_reconnect_fetches_what_it_missed(app: TestApp) {
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let mut live = Live::connect(&app.base, &agent).await;
    let start = live.follow("org").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id(&app.new_ticket(&customer, &format!("Ticket {i}")).await));
    }
    let mut last = start;
    for ticket in &created {
        let event = live.event().await;
        let seq = event["seq"].as_i64().unwrap();
        assert!(seq > last, "seq {seq} after {last}");
        last = seq;
        assert_eq!(event["event"]["ticket"]["id"], ticket.as_str());
    }
    drop(live);

    // While disconnected: a new ticket, an assignment, a reply.
    let missed_ticket = id(&app.new_ticket(&customer, "While away").await);
    let assign = format!("/api/v1/tickets/{missed_ticket}/assign");
    let agent_id = app.tokens("agent@acme.test").await["user"]["id"].clone();
    expect_json(
        app.post_json(&assign, &agent, json!({"assignee_id": agent_id}))
            .await,
        StatusCode::OK,
    )
    .await;
    let comments = format!("/api/v1/tickets/{missed_ticket}/comments");
    expect_json(
        app.post_json(
            &comments,
            &customer,
            json!({"body": "Any news?", "public": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let missed = expect_json(
        app.get(&format!("/api/v1/events?after={last}&topics=org"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&str> = missed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["ticket.created", "ticket.assigned", "comment.created"]
    );
    let seqs: Vec<i64> = missed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs[0] > last);
    assert_eq!(missed["more"], false);
    // Pages: one event looked at per page, continued from next_after.
    let page = expect_json(
        app.get(
            &format!("/api/v1/events?after={last}&topics=org&limit=1"),
            &agent,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["more"], true);
    let next = page["next_after"].as_i64().unwrap();
    assert!(next > last && next <= seqs[0]);
    // The browser asks the same through its server function, with its cookie.
    let browser = app.browser("agent@acme.test").await;
    let from_browser = expect_json(
        browser
            .post(app.url("/api/missed_events"))
            .header("accept", "application/json")
            .form(&[("after", last.to_string().as_str()), ("topics", "org")])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    // (Signing the browser in is an event too: only `next_after` may differ.)
    assert_eq!(from_browser["items"], missed["items"]);
    assert_eq!(from_browser["more"], false);
    let other_browser = app.browser("customer2@acme.test").await;
    let refused = other_browser
        .post(app.url("/api/missed_events"))
        .header("accept", "application/json")
        .form(&[
            ("after", "0"),
            ("topics", format!("ticket:{missed_ticket}").as_str()),
        ])
        .send()
        .await
        .unwrap();
    expect_json(refused, StatusCode::NOT_FOUND).await;

    // Reconnected, the subscription starts where the catch-up ended.
    let mut live = Live::connect(&app.base, &agent).await;
    let resumed = live.follow("org").await;
    assert!(resumed >= *seqs.last().unwrap());
    app.new_ticket(&customer, "After the reconnect").await;
    let event = live.event().await;
    assert!(event["seq"].as_i64().unwrap() > resumed);

    // The endpoint authorizes topics like the socket, and checks its input.
    let other = app.bearer("customer2@acme.test").await;
    for (path, token, status) in [
        (
            "/api/v1/events?after=0&topics=org",
            &customer,
            StatusCode::FORBIDDEN,
        ),
        (
            &format!("/api/v1/events?after=0&topics=ticket:{missed_ticket}") as &str,
            &other,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/events?after=-1&topics=org",
            &agent,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/events?after=0&topics=nope",
            &agent,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/events?topics=org",
            &agent,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        expect_json(app.get(path, token).await, status).await;
    }
}

async fn presence_reaches_the_ticket_and_the_presence_topics(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let colleague = app.bearer("agent2@acme.test").await;
    let ticket = settled_ticket(&app, &customer, &agent, "Presence").await;
    let topic = format!("ticket:{ticket}");
    let mut manager_view = Live::connect(&app.base, &app.bearer("manager@acme.test").await).await;
    manager_view.follow("presence").await;
    let mut theirs = Live::connect(&app.base, &customer).await;
    theirs.follow(&topic).await;

    let mut priya = Live::connect(&app.base, &agent).await;
    priya
        .send(json!({"type": "presence", "state": "replying", "ticket_id": ticket}))
        .await;
    for live in [&mut manager_view, &mut theirs] {
        let event = live.event().await;
        assert_eq!(event["event"]["kind"], "presence.changed");
        assert_eq!(event["event"]["state"], "replying");
        assert_eq!(event["event"]["ticket_id"], ticket.as_str());
    }
    // A colleague opening the ticket now is greeted with who is on it.
    let mut late = Live::connect(&app.base, &colleague).await;
    late.follow(&topic).await;
    let greeting = late.event().await;
    assert_eq!(greeting["event"]["state"], "replying");
    // Someone else's ticket: not found, and nothing published.
    let foreign = id(&app
        .new_ticket(&app.bearer("agent@globex.test").await, "Globex")
        .await);
    priya
        .send(json!({"type": "presence", "state": "viewing", "ticket_id": foreign}))
        .await;
    assert_eq!(priya.next().await["code"], "not_found");
    // Leaving makes the person idle everywhere.
    drop(priya);
    let idle = manager_view.event().await;
    assert_eq!(idle["event"]["state"], "idle");
    assert_eq!(theirs.event().await["event"]["state"], "idle");
}

async fn a_slow_client_is_disconnected_while_the_others_keep_up(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.ws_queue = 16).await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let mut fast = Live::connect(&app.base, &agent).await;
    fast.follow("org").await;
    // A client that reads nothing, with a small receive buffer: once the
    // kernel's buffers are full the server's writes stall, its queue of 16
    // messages fills, and it is disconnected.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = app.base.trim_start_matches("http://").parse().unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut request = ws_url(&app.base, PROTOCOL_VERSION)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {agent}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    let mut slow = Live { ws };
    slow.follow("org").await;
    assert_eq!(app.state.live.connections(), 2);

    // Tickets with long descriptions: each event carries ~90 KB. The fast
    // client reads them as they come.
    let count = 80;
    let reader = tokio::spawn(async move {
        for i in 0..count {
            let event = fast.event().await;
            assert_eq!(event["event"]["ticket"]["subject"], format!("Big {i}"));
        }
        fast
    });
    let description = "All the details of the problem. ".repeat(2800);
    for i in 0..count {
        let body = json!({"subject": format!("Big {i}"), "description": description});
        expect_json(
            app.post_json("/api/v1/tickets", &customer, body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let mut fast = reader.await.expect("the fast client received every event");
    let deadline = std::time::Instant::now() + PATIENCE;
    while app.state.live.connections() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow client is still connected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What it finally reads ends before the last event.
    let mut received = 0;
    let code = loop {
        match tokio::time::timeout(PATIENCE, slow.ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(close))) => break close.map(|c| u16::from(c.code)),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break None,
        }
    };
    assert!(
        received < count,
        "the slow client got all {received} events"
    );
    assert!(matches!(code, None | Some(CLOSE_TOO_SLOW)), "{code:?}");
    fast.nothing_pending().await;
}

async fn sockets_close_when_the_person_is_deactivated_or_the_session_ends(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.ws_recheck_secs = 1).await;
    let admin = app.bearer("admin@acme.test").await;
    let colleague = app.tokens("agent2@acme.test").await;
    let mut theirs = Live::connect(&app.base, colleague["access_token"].as_str().unwrap()).await;
    theirs.follow("org").await;
    let path = format!(
        "/api/v1/users/{}",
        colleague["user"]["id"].as_str().unwrap()
    );
    expect_json(
        app.patch_json(&path, &admin, json!({"active": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(theirs.closed().await, CLOSE_ACCESS_ENDED);
    assert!(started.elapsed() < Duration::from_secs(5));

    let customer = app.tokens("customer@acme.test").await;
    let mut live = Live::connect(&app.base, customer["access_token"].as_str().unwrap()).await;
    live.follow("user").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .json(&json!({"refresh_token": customer["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(live.closed().await, CLOSE_ACCESS_ENDED);
}

/// A second server process on the first one's PostgreSQL database.
struct SecondInstance {
    child: std::process::Child,
    base: String,
    _data_dir: tempfile::TempDir,
}

impl SecondInstance {
    async fn start(app: &TestApp, jwt_secret: &str) -> SecondInstance {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_fieldesk"))
            .arg("serve")
            .env("DATABASE_URL", app.state.config.database_url())
            .env("FIELDESK_ADDR", addr.to_string())
            .env("FIELDESK_DATA_DIR", data_dir.path())
            .env("FIELDESK_JWT_SECRET", jwt_secret)
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("the fieldesk binary starts");
        let base = format!("http://{addr}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ready = app.client.get(format!("{base}/healthz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "instance B did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        SecondInstance {
            child,
            base,
            _data_dir: data_dir,
        }
    }

    /// SIGTERM, as an orchestrator stops an instance.
    fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SecondInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_each_others_changes() {
    let secret = "a-shared-secret-for-both-instances-of-this-test";
    let a = TestApp::start_with(Backend::Postgres, |c| c.jwt_secret = Some(secret.into())).await;
    let b = SecondInstance::start(&a, secret).await;
    let agent = a.bearer("agent@acme.test").await;
    let customer = a.bearer("customer@acme.test").await;
    let mut on_b = Live::connect(&b.base, &agent).await;
    on_b.follow("org").await;
    let mut on_a = Live::connect(&a.base, &agent).await;
    on_a.follow("presence").await;

    // A change through instance A reaches the client of instance B.
    let ticket = a.new_ticket(&customer, "Through A").await;
    let event = on_b.event().await;
    assert_eq!(event["event"]["kind"], "ticket.created");
    assert_eq!(event["event"]["ticket"]["id"], ticket["id"]);
    // And presence published through B reaches A's client.
    on_b.send(json!({"type": "presence", "state": "viewing", "ticket_id": ticket["id"]}))
        .await;
    let presence = on_a.event().await;
    assert_eq!(presence["event"]["kind"], "presence.changed");
    assert_eq!(presence["event"]["state"], "viewing");

    // Stopping B closes its sockets so clients reconnect elsewhere.
    b.terminate();
    let code = on_b.closed().await;
    assert_eq!(code, u16::from(CloseCode::Away));
}
