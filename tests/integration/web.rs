//! The browser side over HTTP: server functions with cookie sessions, page
//! guards, CSRF, security headers, health and metrics.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use serde_json::Value;

on_both_backends!(
    server_functions_enforce_roles,
    browser_login_sets_http_only_cookies,
    expired_access_cookie_is_renewed_from_the_refresh_cookie,
    pages_redirect_visitors_and_deny_wrong_roles,
    change_password_validates_and_ends_old_sessions,
    cross_origin_posts_are_refused,
    health_and_metrics,
    desk_escalates_and_merges_by_number,
    customers_sign_up_from_the_browser,
);

async fn call(
    client: &reqwest::Client,
    app: &TestApp,
    endpoint: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/{endpoint}")))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn server_functions_enforce_roles(app: TestApp) {
    let visitor = TestApp::client(true);
    let body = expect_json(
        call(&visitor, &app, "list_users", &[]).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(body["kind"], "unauthorized");

    let customer = app.browser("customer@acme.test").await;
    let body = expect_json(
        call(&customer, &app, "list_users", &[]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body["kind"], "forbidden");

    let agent = app.browser("agent@acme.test").await;
    let users = expect_json(call(&agent, &app, "list_users", &[]).await, StatusCode::OK).await;
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 8);
    assert!(
        users
            .iter()
            .all(|u| u["email"].as_str().unwrap().ends_with("@acme.test"))
    );

    let me = expect_json(
        call(&agent, &app, "current_user", &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["email"], "agent@acme.test");
    assert_eq!(me["organization_name"], "Acme Corporation");
    let nobody = expect_json(
        call(&visitor, &app, "current_user", &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(nobody, Value::Null);
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap().to_owned())
    })
}

async fn browser_login_sets_http_only_cookies(app: TestApp) {
    let client = TestApp::client(false);
    let res = call(
        &client,
        &app,
        "login",
        &[("email", "tech@acme.test"), ("password", DEMO_PASSWORD)],
    )
    .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let cookies = set_cookies(&res);
    for name in ["fd_access", "fd_refresh"] {
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .expect(name);
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
    }
    // The server function redirects to the role's home.
    assert_eq!(res.headers().get(LOCATION).unwrap(), "/field");

    // A plain HTML form post (no JavaScript) with a wrong password is sent
    // back to the form with the error encoded for server-side rendering.
    let res = client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[("email", "tech@acme.test"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res
        .headers()
        .get(LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("__err="), "{location}");
    let page = client
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Invalid email or password"),
        "error shown on the re-rendered form"
    );
}

async fn expired_access_cookie_is_renewed_from_the_refresh_cookie(app: TestApp) {
    let client = TestApp::client(false);
    let res = call(
        &client,
        &app,
        "login",
        &[("email", "agent@acme.test"), ("password", DEMO_PASSWORD)],
    )
    .await;
    let refresh = cookie_value(&set_cookies(&res), "fd_refresh").unwrap();

    // Only the refresh cookie, as after the access cookie expired.
    let res = client
        .post(app.url("/api/current_user"))
        .header("accept", "application/json")
        .header("cookie", format!("fd_refresh={refresh}"))
        .send()
        .await
        .unwrap();
    let renewed = set_cookies(&res);
    let new_refresh = cookie_value(&renewed, "fd_refresh").expect("rotated refresh cookie");
    assert_ne!(new_refresh, refresh);
    assert!(cookie_value(&renewed, "fd_access").is_some());
    assert_eq!(
        expect_json(res, StatusCode::OK).await["email"],
        "agent@acme.test"
    );

    // A parallel request that still carried the old cookie is tolerated...
    let res = client
        .post(app.url("/api/current_user"))
        .header("accept", "application/json")
        .header("cookie", format!("fd_refresh={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, StatusCode::OK).await["email"],
        "agent@acme.test"
    );
    // ...but the strict API path treats it as a replay and ends the session.
    let res = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::UNAUTHORIZED).await;
    let res = client
        .post(app.url("/api/current_user"))
        .header("accept", "application/json")
        .header("cookie", format!("fd_refresh={new_refresh}"))
        .send()
        .await
        .unwrap();
    let cleared = set_cookies(&res);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("fd_refresh=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert_eq!(expect_json(res, StatusCode::OK).await, Value::Null);
}

/// A page load as a browser makes it.
async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> reqwest::Response {
    client
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

async fn pages_redirect_visitors_and_deny_wrong_roles(app: TestApp) {
    let visitor = TestApp::client(true);
    for path in ["/desk", "/admin", "/profile", "/"] {
        let res = page(&visitor, &app, path).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{path}");
        assert_eq!(res.headers().get(LOCATION).unwrap(), "/login", "{path}");
    }
    let login = page(&visitor, &app, "/login").await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(
        html.contains("<h1 id=\"signin-title\">Sign in</h1>"),
        "{html}"
    );

    let missing = page(&visitor, &app, "/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page not found"));

    let customer = app.browser("customer@acme.test").await;
    let res = page(&customer, &app, "/admin").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.unwrap();
    assert!(html.contains("Access denied"));
    assert!(
        !html.contains("Everyone with an account"),
        "admin content leaked"
    );
    let home = page(&customer, &app, "/").await;
    assert_eq!(home.headers().get(LOCATION).unwrap(), "/portal");

    let admin = app.browser("admin@acme.test").await;
    let res = page(&admin, &app, "/admin").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Administration") && html.contains("customer2@acme.test"));
    assert!(
        !html.contains("globex.test"),
        "another tenant's users leaked"
    );
    // Signed-in users are sent from /login to their home.
    let res = page(&admin, &app, "/login").await;
    assert_eq!(res.headers().get(LOCATION).unwrap(), "/admin");
}

async fn change_password_validates_and_ends_old_sessions(app: TestApp) {
    let api_session = app.tokens("agent2@acme.test").await;
    let browser = app.browser("agent2@acme.test").await;

    let body = expect_json(
        call(
            &browser,
            &app,
            "change_password",
            &[
                ("current_password", "wrong-current"),
                ("new_password", "a-new-password-1"),
                ("confirm_password", "a-new-password-1"),
            ],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["current_password"].is_string(), "{body}");

    let body = expect_json(
        call(
            &browser,
            &app,
            "change_password",
            &[
                ("current_password", DEMO_PASSWORD),
                ("new_password", "short"),
                ("confirm_password", "different"),
            ],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["new_password"].is_string(), "{body}");
    assert!(
        body["fields"]["confirm_password"]
            .as_str()
            .unwrap()
            .contains("do not match")
    );

    let res = call(
        &browser,
        &app,
        "change_password",
        &[
            ("current_password", DEMO_PASSWORD),
            ("new_password", "a-new-password-1"),
            ("confirm_password", "a-new-password-1"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The browser keeps working with its renewed cookies.
    let me = expect_json(
        call(&browser, &app, "current_user", &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["email"], "agent2@acme.test");

    expect_json(
        app.login("agent2@acme.test", DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(
        app.login("agent2@acme.test", "a-new-password-1").await,
        StatusCode::OK,
    )
    .await;
    // The other session's refresh token died with the old password.
    let res = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": api_session["refresh_token"]}))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::UNAUTHORIZED).await;
}

async fn cross_origin_posts_are_refused(app: TestApp) {
    let agent = app.browser("agent@acme.test").await;
    let res = agent
        .post(app.url("/api/logout"))
        .header("origin", "http://evil.example")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::FORBIDDEN).await;
    // Still signed in.
    let me = expect_json(
        call(&agent, &app, "current_user", &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["email"], "agent@acme.test");

    let same_origin = agent
        .post(app.url("/api/logout"))
        .header("origin", app.base.clone())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(same_origin.status().is_success() || same_origin.status().is_redirection());
    let me = expect_json(
        call(&agent, &app, "current_user", &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me, Value::Null, "signed out");
}

async fn health_and_metrics(app: TestApp) {
    let health = expect_json(
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], app.state.db.backend());

    let page = app.client.get(app.url("/login")).send().await.unwrap();
    let csp = page
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        page.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP")
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script carries the CSP nonce"
    );
    assert!(
        !csp.contains("'unsafe-inline'")
            || !csp
                .split(';')
                .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline"))
    );

    let api = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        api.headers().get(CONTENT_SECURITY_POLICY).unwrap(),
        "default-src 'none'; frame-ancestors 'none'"
    );

    let metrics = app.get_public_text("/metrics").await;
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/healthz\""), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seed_never_runs_on_a_database_with_data() {
    let app = TestApp::start(Backend::Sqlite).await;
    let err = fieldesk::server::seed::demo(&app.state.db, "another-password")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already has data"));
    // Starting again on the same database does not seed twice.
    assert!(
        fieldesk::server::seed_demo_if_empty(&app.state)
            .await
            .unwrap()
            .is_none()
    );
}

/// The full demo (as `fieldesk serve` seeds it) has conversations that went
/// through the same change path as live ones, and respects visibility.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_demo_has_realistic_tickets_sqlite() {
    full_demo_has_realistic_tickets(TestApp::start_with_full_demo(Backend::Sqlite).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_demo_has_realistic_tickets_postgres() {
    full_demo_has_realistic_tickets(TestApp::start_with_full_demo(Backend::Postgres).await).await
}

async fn full_demo_has_realistic_tickets(demo: TestApp) {
    let agent = demo.bearer("agent@acme.test").await;
    let all = expect_json(
        demo.get("/api/v1/tickets?status=all", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        4,
        "acme's demo tickets: {all}"
    );
    let customer = demo.bearer("customer@acme.test").await;
    let mine = expect_json(
        demo.get("/api/v1/tickets?status=all", &customer).await,
        StatusCode::OK,
    )
    .await;
    let mine = mine["items"].as_array().unwrap();
    assert_eq!(mine.len(), 2);
    let resolved = mine
        .iter()
        .find(|t| t["status"] == "resolved")
        .expect("a resolved demo ticket");
    assert!(resolved["first_response_at"].is_string());
    let id = resolved["id"].as_str().unwrap();
    let seen = expect_json(
        demo.get(&format!("/api/v1/tickets/{id}/comments"), &customer)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        seen["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["public"] == true)
    );
    let staff = expect_json(
        demo.get(&format!("/api/v1/tickets/{id}/comments"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        staff["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["public"] == false)
    );
    let history = expect_json(
        demo.get(&format!("/api/v1/tickets/{id}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let history = history["items"].as_array().unwrap();
    assert!(
        history.len() >= 4,
        "created, assigned, opened, resolved: {history:?}"
    );
    assert!(history.iter().all(|e| e["source"] == "import"));
}

async fn desk_escalates_and_merges_by_number(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let new_ticket = async |subject: &str| -> Value {
        let res = app
            .client
            .post(app.url("/api/v1/tickets"))
            .bearer_auth(&customer)
            .json(&serde_json::json!({"subject": subject, "description": "It broke"}))
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::CREATED).await
    };
    let source = new_ticket("Printer jams (again)").await;
    let target = new_ticket("Printer jams").await;
    let s = source["id"].as_str().unwrap();
    let t = target["id"].as_str().unwrap();
    let agent = app.browser("agent@acme.test").await;

    // Escalation: the reason is required, and shows on the ticket.
    let body = expect_json(
        call(
            &agent,
            &app,
            "escalate_ticket",
            &[("ticket_id", s), ("reason", "  ")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["reason"].is_string(), "{body}");
    let res = call(
        &agent,
        &app,
        "escalate_ticket",
        &[("ticket_id", s), ("reason", "VIP")],
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());

    // Merge by number: malformed and unknown numbers are field errors.
    for bad in ["next week", "TCK-999999"] {
        let body = expect_json(
            call(
                &agent,
                &app,
                "merge_ticket",
                &[("ticket_id", s), ("target_id", bad)],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body["fields"]["target_id"].is_string(), "{bad}: {body}");
    }
    let number = target["display_number"].as_str().unwrap();
    let res = call(
        &agent,
        &app,
        "merge_ticket",
        &[("ticket_id", s), ("target_id", number)],
    )
    .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(
        res.headers().get(LOCATION).unwrap().to_str().unwrap(),
        format!("/desk/tickets/{t}")
    );

    // The source names its target; its history reads in names, not ids.
    let detail = expect_json(
        call(&agent, &app, "load_ticket", &[("id", s)]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["ticket"]["status"], "closed");
    assert_eq!(detail["merged_into_number"], number);
    let history = detail["history"].as_array().unwrap();
    let merged = history
        .iter()
        .find(|e| e["field"] == "merged_into_id")
        .unwrap();
    assert_eq!(merged["new"], number);
    assert!(
        history
            .iter()
            .any(|e| e["field"] == "escalation_reason" && e["new"] == "VIP")
    );
    assert!(history.iter().all(|e| e["actor_name"].is_string()));
    // Customers see the link, never the audit trail.
    let customer_browser = app.browser("customer@acme.test").await;
    let detail = expect_json(
        call(&customer_browser, &app, "load_ticket", &[("id", s)]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["merged_into_number"], number);
    assert_eq!(detail["history"], serde_json::json!([]));
    // ...and cannot escalate or merge.
    expect_json(
        call(
            &customer_browser,
            &app,
            "escalate_ticket",
            &[("ticket_id", t), ("reason", "x")],
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn customers_sign_up_from_the_browser(app: TestApp) {
    let visitor = TestApp::client(true);
    let form = |org: &'static str, email: &'static str, password: &'static str| {
        [
            ("organization", org),
            ("name", "Nina New"),
            ("email", email),
            ("password", password),
        ]
    };
    let body = expect_json(
        call(
            &visitor,
            &app,
            "register",
            &form("acme", "not-an-email", "short"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["email"].is_string(), "{body}");
    assert!(body["fields"]["password"].is_string(), "{body}");
    let body = expect_json(
        call(
            &visitor,
            &app,
            "register",
            &form("nowhere", "nina@new.test", "a-long-password"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["organization"].is_string(), "{body}");

    let res = call(
        &visitor,
        &app,
        "register",
        &form("acme", "nina@new.test", "a-long-password"),
    )
    .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(res.headers().get(LOCATION).unwrap(), "/portal");
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("fd_access="))
    );
    let me = expect_json(
        call(&visitor, &app, "current_user", &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["email"], "nina@new.test");
    assert_eq!(me["role"], "customer");

    // The same email again, even in another organization: 409 on the field.
    let again = TestApp::client(true);
    let body = expect_json(
        call(
            &again,
            &app,
            "register",
            &form("globex", "nina@new.test", "a-long-password"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["fields"]["email"].is_string(), "{body}");
}
