//! The organization's audit log: sign-ins (and failures, and sign-outs),
//! user and role changes, desk settings and ticket changes, each with actor,
//! source, address and user agent; `GET /api/v1/audit` (admins, their own
//! organization, filtered, cursor-paged); and the upgrade that moved
//! `ticket_events` and ticket-keyed attachments over.

use crate::common::*;
use crate::on_both_backends;
use fieldesk::server::db::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

on_both_backends!(
    sign_ins_failures_and_sign_outs_are_recorded_with_address_and_agent,
    user_creation_and_role_changes_are_recorded,
    settings_changes_are_recorded,
    ticket_changes_stay_in_the_trail_and_reach_the_log,
    filters_and_cursor_pages_cover_the_log_once,
    only_admins_read_and_only_their_organization,
    bad_filters_are_422_on_their_field,
    the_admin_page_shows_the_log,
);
on_both_backends!(by_backend: ticket_events_and_attachments_survive_the_upgrade);

const AGENT: &str = "fieldesk-audit-test/1.0";

/// `GET /api/v1/audit?{query}` as `token`, 200 expected.
async fn log(app: &TestApp, token: &str, query: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/audit?{query}"), token).await,
        StatusCode::OK,
    )
    .await
}

/// POST `body` to `path` as `token`; 201 expected: the new thing.
async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    expect_json(app.post_json(path, token, body).await, StatusCode::CREATED).await
}

/// PATCH `path` with `body` as `token`; 200 expected: the changed thing.
async fn change(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    expect_json(app.patch_json(path, token, body).await, StatusCode::OK).await
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

/// The rows with this field.
fn rows<'a>(page: &'a Value, field: &str) -> Vec<&'a Value> {
    items(page).iter().filter(|r| r["field"] == field).collect()
}

async fn user_id(app: &TestApp, admin: &str, email: &str) -> String {
    let users = expect_json(
        app.get("/api/v1/users?limit=500", admin).await,
        StatusCode::OK,
    )
    .await;
    items(&users)
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sign_in_with_agent(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("user-agent", AGENT)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_ins_failures_and_sign_outs_are_recorded_with_address_and_agent(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent_id = user_id(&app, &admin, "agent@acme.test").await;

    let tokens = expect_json(
        sign_in_with_agent(&app, "agent@acme.test", DEMO_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let wrong = "not-the-password-7261";
    let res = sign_in_with_agent(&app, "agent@acme.test", wrong).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = sign_in_with_agent(&app, "nobody@nowhere.test", wrong).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The browser's sign-in comes through the web app.
    app.browser("agent@acme.test").await;

    let page = log(
        &app,
        &admin,
        &format!("owner_type=user&owner_id={agent_id}"),
    )
    .await;
    let signed_in = rows(&page, "sign_in");
    assert_eq!(signed_in.len(), 2, "{page:#}");
    let api = signed_in.iter().find(|r| r["source"] == "api").unwrap();
    assert_eq!(api["actor_id"], agent_id.as_str());
    assert_eq!(api["owner_type"], "user");
    assert_eq!(api["new_value"], "agent@acme.test");
    assert_eq!(api["ip"], "127.0.0.1");
    assert_eq!(api["user_agent"], AGENT);
    assert!(signed_in.iter().any(|r| r["source"] == "ui"));

    let failed = rows(&page, "sign_in_failed");
    assert_eq!(failed.len(), 1, "{page:#}");
    assert!(failed[0]["actor_id"].is_null(), "nobody was signed in");
    assert_eq!(failed[0]["new_value"], "agent@acme.test");
    assert_eq!(failed[0]["ip"], "127.0.0.1");
    assert_eq!(failed[0]["user_agent"], AGENT);

    // An email that is no account belongs to no organization's log.
    let (orphans,): (i64,) = query(
        "SELECT COUNT(*) FROM audit_log WHERE organization_id IS NULL AND owner_id IS NULL \
         AND field = 'sign_in_failed' AND new_value = 'nobody@nowhere.test'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(orphans, 1);
    let everything = log(&app, &admin, "limit=100").await.to_string();
    assert!(!everything.contains("nobody@nowhere.test"));
    // Never the password, anywhere.
    let (leaks,): (i64,) = query(
        "SELECT COUNT(*) FROM audit_log WHERE old_value LIKE $1 OR new_value LIKE $1 OR field LIKE $1",
    )
    .bind(format!("%{wrong}%"))
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(leaks, 0);

    // Signing out ends the session once: one row, however often it is sent.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url("/api/v1/auth/logout"))
            .header("user-agent", AGENT)
            .json(&json!({"refresh_token": refresh}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let page = log(
        &app,
        &admin,
        &format!("owner_type=user&owner_id={agent_id}"),
    )
    .await;
    let out = rows(&page, "sign_out");
    assert_eq!(out.len(), 1, "{page:#}");
    assert_eq!(out[0]["actor_id"], agent_id.as_str());
    assert_eq!(out[0]["user_agent"], AGENT);
}

async fn user_creation_and_role_changes_are_recorded(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let admin_id = user_id(&app, &admin, "admin@acme.test").await;
    let created = expect_json(
        app.client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin)
            .header("user-agent", AGENT)
            .json(&json!({
                "email": "new.agent@acme.test", "name": "New Agent",
                "role": "agent", "password": "a-long-password-1"
            }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let changed = change(
        &app,
        &admin,
        &format!("/api/v1/users/{id}"),
        json!({"role": "manager", "active": false, "password": "another-long-password"}),
    )
    .await;
    assert_eq!(changed["role"], "manager");

    let page = log(&app, &admin, &format!("owner_id={id}")).await;
    let fields: Vec<&str> = items(&page)
        .iter()
        .map(|r| r["field"].as_str().unwrap())
        .collect();
    for field in ["user", "name", "role", "active", "password"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    let role = rows(&page, "role");
    let change = role.iter().find(|r| r["old_value"] == "agent").unwrap();
    assert_eq!(change["new_value"], "manager");
    assert_eq!(change["actor_id"], admin_id.as_str());
    assert_eq!(change["actor_name"], "Avery Admin");
    assert_eq!(change["source"], "api");
    assert_eq!(change["ip"], "127.0.0.1");
    let creation = &rows(&page, "user")[0];
    assert_eq!(creation["new_value"], "new.agent@acme.test");
    assert_eq!(creation["user_agent"], AGENT);
    let active = &rows(&page, "active")[0];
    assert_eq!(
        (&active["old_value"], &active["new_value"]),
        (&json!("true"), &json!("false"))
    );
    // A new password is said, never shown.
    assert_eq!(rows(&page, "password")[0]["new_value"], "reset");
    assert!(!page.to_string().contains("another-long-password"));
}

async fn settings_changes_are_recorded(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let canned = create(
        &app,
        &admin,
        "/api/v1/canned-responses",
        json!({"title": "Hello", "body": "Hi there"}),
    )
    .await;
    let id = canned["id"].as_str().unwrap();
    change(
        &app,
        &admin,
        &format!("/api/v1/canned-responses/{id}"),
        json!({"title": "Welcome", "body": "Hi there"}),
    )
    .await;
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/canned-responses/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let page = log(&app, &admin, &format!("owner_type=setting&owner_id={id}")).await;
    let lines: Vec<(String, Value, Value)> = items(&page)
        .iter()
        .rev() // oldest first
        .map(|r| {
            assert_eq!(r["owner_type"], "setting");
            assert_eq!(r["source"], "api");
            assert_eq!(r["ip"], "127.0.0.1");
            (
                r["field"].as_str().unwrap().to_owned(),
                r["old_value"].clone(),
                r["new_value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("canned_response".into(), Value::Null, json!("Hello")),
            (
                "canned_response.body".into(),
                Value::Null,
                json!("Hi there")
            ),
            (
                "canned_response.title".into(),
                json!("Hello"),
                json!("Welcome")
            ),
            ("canned_response".into(), json!("Welcome"), Value::Null),
        ]
    );

    // A team: created, then renamed; an unchanged field writes nothing.
    let team = create(&app, &admin, "/api/v1/teams", json!({"name": "Tier 1"})).await;
    let team_id = team["id"].as_str().unwrap();
    change(
        &app,
        &admin,
        &format!("/api/v1/teams/{team_id}"),
        json!({"name": "Tier one", "assignment": "round_robin"}),
    )
    .await;
    let page = log(&app, &admin, &format!("owner_id={team_id}")).await;
    let fields: Vec<&str> = items(&page)
        .iter()
        .map(|r| r["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["team.name", "team.assignment", "team"]);
}

/// `method` `path` with `body` as `token`, sent with the test's user agent.
async fn send_with_agent(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
    expected: StatusCode,
) -> Value {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("user-agent", AGENT)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(response, expected).await
}

async fn ticket_changes_stay_in_the_trail_and_reach_the_log(app: TestApp) {
    let agent = app.bearer("agent@acme.test").await;
    let admin = app.bearer("admin@acme.test").await;
    let ticket = send_with_agent(
        &app,
        reqwest::Method::POST,
        "/api/v1/tickets",
        &agent,
        json!({"subject": "Printer", "description": "Jammed"}),
        StatusCode::CREATED,
    )
    .await;
    let id = ticket["id"].as_str().unwrap();
    send_with_agent(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{id}"),
        &agent,
        json!({"status": "pending"}),
        StatusCode::OK,
    )
    .await;
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let trail: Vec<&str> = items(&history)
        .iter()
        .map(|h| h["field"].as_str().unwrap())
        .collect();
    assert_eq!(trail.first(), Some(&"ticket"));
    assert!(trail.contains(&"status"), "{trail:?}");

    let page = log(&app, &admin, &format!("owner_type=ticket&owner_id={id}")).await;
    let status = rows(&page, "status");
    assert_eq!(status.len(), 1, "{page:#}");
    assert_eq!(status[0]["new_value"], "pending");
    assert_eq!(status[0]["source"], "api");
    assert_eq!(status[0]["owner_id"], id);
    let created = rows(&page, "ticket");
    assert_eq!(created[0]["new_value"], "created");
    // Both the creation (written beside the event) and the change keep
    // the client they came from.
    for row in [created[0], status[0]] {
        assert_eq!(row["ip"], "127.0.0.1", "{row:#}");
        assert_eq!(row["user_agent"], AGENT, "{row:#}");
    }
    assert_eq!(items(&page).len(), trail.len());
}

async fn filters_and_cursor_pages_cover_the_log_once(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let admin_id = user_id(&app, &admin, "admin@acme.test").await;
    for i in 0..7 {
        create(
            &app,
            &admin,
            "/api/v1/canned-responses",
            json!({"title": format!("Reply {i}"), "body": "Text"}),
        )
        .await;
    }
    let agent = app.bearer("agent@acme.test").await;
    create(
        &app,
        &agent,
        "/api/v1/tickets",
        json!({"subject": "Noise", "description": "Not a setting"}),
    )
    .await;

    let all = log(&app, &admin, "owner_type=setting&limit=100").await;
    assert!(all["next_cursor"].is_null());
    let ids: Vec<&str> = items(&all)
        .iter()
        .map(|r| {
            assert_eq!(r["owner_type"], "setting");
            r["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 14, "two rows per new canned response");
    let times: Vec<&str> = items(&all)
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    let mut newest_first = times.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, newest_first, "newest first");

    // Three at a time: every row once, in the same order.
    let mut walked: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let query = match &cursor {
            Some(c) => format!("owner_type=setting&limit=3&cursor={c}"),
            None => "owner_type=setting&limit=3".to_owned(),
        };
        let page = log(&app, &admin, &query).await;
        assert!(items(&page).len() <= 3);
        walked.extend(
            items(&page)
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(walked, ids);
    let unique: BTreeSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "no row twice");

    // Who: the agent did none of the settings, the admin all of them.
    let by_admin = log(
        &app,
        &admin,
        &format!("owner_type=setting&actor_id={admin_id}&limit=100"),
    )
    .await;
    assert_eq!(items(&by_admin).len(), 14);
    let agent_id = user_id(&app, &admin, "agent@acme.test").await;
    let by_agent = log(&app, &admin, &format!("actor_id={agent_id}&limit=100")).await;
    assert!(!items(&by_agent).is_empty());
    assert!(
        items(&by_agent)
            .iter()
            .all(|r| r["actor_id"] == agent_id.as_str())
    );
    assert!(rows(&by_agent, "ticket").len() == 1);

    // When: a window after now is empty, one around now has everything.
    let at = |offset: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(offset))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let later = log(&app, &admin, &format!("owner_type=setting&from={}", at(1))).await;
    assert!(items(&later).is_empty());
    let earlier = log(&app, &admin, &format!("owner_type=setting&to={}", at(-1))).await;
    assert!(items(&earlier).is_empty());
    let around = log(
        &app,
        &admin,
        &format!("owner_type=setting&from={}&to={}&limit=100", at(-1), at(1)),
    )
    .await;
    assert_eq!(items(&around).len(), 14);
}

async fn only_admins_read_and_only_their_organization(app: TestApp) {
    let res = app
        .client
        .get(app.url("/api/v1/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for email in NON_ADMINS {
        let token = app.bearer(email).await;
        expect_json(
            app.get("/api/v1/audit", &token).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    // The page's server function says the same.
    let from_page = async |email: &str| {
        app.browser(email)
            .await
            .post(app.url("/api/list_audit"))
            .header("accept", "application/json")
            .form(&[("owner_type", "user")])
            .send()
            .await
            .unwrap()
    };
    let res = from_page("agent@acme.test").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = expect_json(from_page("admin@acme.test").await, StatusCode::OK).await;
    assert!(!items(&page).is_empty());

    // Acme's ticket and sign-ins never show in Globex's log, filtered or not.
    let acme_agent = app.bearer("agent@acme.test").await;
    let ticket = create(
        &app,
        &acme_agent,
        "/api/v1/tickets",
        json!({"subject": "Acme only", "description": "Secret"}),
    )
    .await;
    let id = ticket["id"].as_str().unwrap();
    let acme_admin = app.bearer("admin@acme.test").await;
    assert!(!items(&log(&app, &acme_admin, &format!("owner_id={id}")).await).is_empty());
    let globex = app.bearer("admin@globex.test").await;
    let theirs = log(&app, &globex, "limit=100").await;
    assert!(!items(&theirs).is_empty(), "their own sign-in");
    let text = theirs.to_string();
    assert!(!text.contains(id));
    assert!(!text.contains("acme.test"), "{theirs:#}");
    let filtered = log(&app, &globex, &format!("owner_type=ticket&owner_id={id}")).await;
    assert!(items(&filtered).is_empty());
}

async fn bad_filters_are_422_on_their_field(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    for (query, field) in [
        ("cursor=not-a-cursor", "cursor"),
        ("from=yesterday", "from"),
        ("to=2026-13-40", "to"),
        ("owner_type=spaceship", "owner_type"),
        ("owner_id=42", "owner_id"),
        ("actor_id=me", "actor_id"),
        ("limit=0", "limit"),
    ] {
        let body = expect_json(
            app.get(&format!("/api/v1/audit?{query}"), &admin).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body["fields"][field].is_string(), "{query}: {body}");
    }
    // A non-admin learns nothing from a bad filter: 403 first.
    let agent = app.bearer("agent@acme.test").await;
    expect_json(
        app.get("/api/v1/audit?cursor=bad", &agent).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn the_admin_page_shows_the_log(app: TestApp) {
    let html_of = async |email: &str, path: &str| {
        let res = app
            .browser(email)
            .await
            .get(app.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    let (status, html) = html_of("agent@acme.test", "/admin/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains("sign_in"), "the log leaked");

    let (status, home) = html_of("admin@acme.test", "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        home.contains("href=\"/admin/audit\""),
        "linked from the admin area"
    );
    let (status, html) = html_of("admin@acme.test", "/admin/audit?owner_type=user").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Audit log</h1>"), "{html}");
    assert!(
        html.contains("sign_in") && html.contains("admin@acme.test"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"user\" selected"),
        "the filter shows"
    );
    for label in ["Kind", "Owner id", "Who", "From", "To"] {
        assert!(html.contains(&format!("<label>{label}")), "{label}");
    }
    // A bad filter says which field.
    let (_, html) = html_of("admin@acme.test", "/admin/audit?from=yesterday").await;
    assert!(html.contains("from: "), "{html}");
}

/// The ids the upgrade test writes before migration 0027.
struct Before {
    org: Uuid,
    ticket: Uuid,
    events: [Uuid; 2],
    file: Uuid,
}

/// Migrations up to 0026 on a new database, and rows in the old shape.
async fn schema_0026_with_rows(backend: Backend, url: String) -> Before {
    use sqlx::migrate::Migrator;
    use std::borrow::Cow;
    let upto = |mut migrator: Migrator| {
        let old: Vec<_> = migrator
            .migrations
            .iter()
            .filter(|m| m.version <= 26)
            .cloned()
            .collect();
        migrator.migrations = Cow::Owned(old);
        migrator
    };
    match backend {
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
            use std::str::FromStr;
            let opts = SqliteConnectOptions::from_str(&url)
                .unwrap()
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = SqlitePool::connect_with(opts).await.unwrap();
            upto(sqlx::migrate!("migrations/sqlite"))
                .run(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            upto(sqlx::migrate!("migrations/postgres"))
                .run(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
    let db = fieldesk::server::db::Db::connect(&url).await.unwrap();
    let before = Before {
        org: Uuid::now_v7(),
        ticket: Uuid::now_v7(),
        events: [Uuid::now_v7(), Uuid::now_v7()],
        file: Uuid::now_v7(),
    };
    let user = Uuid::now_v7();
    let at = chrono::Utc::now() - chrono::Duration::days(30);
    query(
        "INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, 'old', 'Old Co', $2)",
    )
    .bind(before.org)
    .bind(at)
    .execute(db.writer())
    .await
    .unwrap();
    query(
        "INSERT INTO users (id, organization_id, email, name, role, password_hash, active, created_at, updated_at) \
         VALUES ($1, $2, 'old.agent@old.test', 'Old Agent', 'agent', '!', TRUE, $3, $3)",
    )
    .bind(user)
    .bind(before.org)
    .bind(at)
    .execute(db.writer())
    .await
    .unwrap();
    query(
        "INSERT INTO tickets (id, organization_id, number, subject, description, status, priority, channel, \
         requester_id, created_at, updated_at) VALUES ($1, $2, 1, 'Old', 'From before', 'open', 'low', 'web', $3, $4, $4)",
    )
    .bind(before.ticket)
    .bind(before.org)
    .bind(user)
    .bind(at)
    .execute(db.writer())
    .await
    .unwrap();
    for (i, (id, field, old, new)) in [
        (before.events[0], "ticket", None, Some("created")),
        (before.events[1], "status", Some("new"), Some("open")),
    ]
    .into_iter()
    .enumerate()
    {
        query(
            "INSERT INTO ticket_events (id, organization_id, ticket_id, actor_id, source, field, old_value, new_value, created_at) \
             VALUES ($1, $2, $3, $4, 'ui', $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(before.org)
        .bind(before.ticket)
        .bind(user)
        .bind(field)
        .bind(old)
        .bind(new)
        .bind(at + chrono::Duration::seconds(i as i64))
        .execute(db.writer())
        .await
        .unwrap();
    }
    query(
        "INSERT INTO attachments (id, organization_id, ticket_id, uploader_id, filename, content_type, size, public, storage_key, created_at) \
         VALUES ($1, $2, $3, $4, 'note.txt', 'text/plain', 5, FALSE, 'old/key', $5)",
    )
    .bind(before.file)
    .bind(before.org)
    .bind(before.ticket)
    .bind(user)
    .bind(at)
    .execute(db.writer())
    .await
    .unwrap();
    db.close().await;
    before
}

/// An audit row after the upgrade: id, owner type, owner id, source, field, new value.
type MovedRow = (Uuid, String, Option<Uuid>, String, String, Option<String>);

async fn ticket_events_and_attachments_survive_the_upgrade(backend: Backend) {
    let before = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = before.clone();
    let app = TestApp::start_upgraded(backend, move |url| async move {
        let rows = schema_0026_with_rows(backend, url).await;
        *keep.lock().unwrap() = Some(rows);
    })
    .await;
    let before = before.lock().unwrap().take().unwrap();
    let db = &app.state.db;

    let moved: Vec<MovedRow> = query(
        "SELECT id, owner_type, owner_id, source, field, new_value FROM audit_log \
         WHERE organization_id = $1 ORDER BY created_at, id",
    )
    .bind(before.org)
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(moved.len(), 2, "{moved:?}");
    for ((id, kind, owner, source, _, _), old_id) in moved.iter().zip(before.events) {
        assert_eq!(*id, old_id, "same ids");
        assert_eq!(kind, "ticket");
        assert_eq!(*owner, Some(before.ticket));
        assert_eq!(source, "ui");
    }
    assert_eq!(moved[1].4, "status");
    assert_eq!(moved[1].5.as_deref(), Some("open"));
    // The ticket's trail reads them as before.
    let trail = fieldesk::server::db::tickets::history(db, before.org, before.ticket)
        .await
        .unwrap();
    let fields: Vec<&str> = trail.iter().map(|h| h.field.as_str()).collect();
    assert_eq!(fields, ["ticket", "status"]);
    assert_eq!(trail[1].actor_name.as_deref(), Some("Old Agent"));

    // The file is the ticket's, internal as it was.
    let files = fieldesk::server::db::attachments::for_ticket(db, before.org, before.ticket, true)
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].id, before.file);
    assert_eq!(files[0].owner_id, before.ticket);
    assert_eq!(files[0].ticket_id, Some(before.ticket));
    assert!(!files[0].public);
    let public_only =
        fieldesk::server::db::attachments::for_ticket(db, before.org, before.ticket, false)
            .await
            .unwrap();
    assert!(public_only.is_empty(), "customers still never see it");
    let (old_table,): (i64,) =
        query("SELECT COUNT(*) FROM audit_log WHERE owner_type = 'ticket' AND owner_id = $1")
            .bind(before.ticket)
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(old_table, 2);
    let gone: Result<(i64,), _> = query("SELECT COUNT(*) FROM ticket_events")
        .fetch_one(db)
        .await;
    assert!(gone.is_err(), "ticket_events is gone");
}
