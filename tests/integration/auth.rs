//! Sign-in, refresh rotation, sign-out, lock-out and rate limits over REST.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    login_returns_tokens_and_user,
    wrong_password_and_unknown_email_look_the_same,
    login_rejects_bad_input_with_field_messages,
    refresh_rotates_and_a_replay_revokes_the_family,
    logout_ends_the_session,
    account_locks_after_ten_failures_without_revealing_accounts,
    bearer_token_is_required_and_checked,
    deactivated_user_cannot_refresh,
    register_creates_a_customer_who_can_sign_in,
    register_reports_each_invalid_field,
    register_refuses_a_taken_email_without_naming_its_organization,
    register_refuses_an_unknown_organization,
);

async fn login_returns_tokens_and_user(app: TestApp) {
    let body = expect_json(
        app.login("Agent@ACME.test ", DEMO_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().len() > 20);
    assert!(body["refresh_token"].as_str().unwrap().len() > 20);
    let user = &body["user"];
    assert_eq!(user["email"], "agent@acme.test");
    assert_eq!(user["role"], "agent");
    assert_eq!(user["name"], "Alex Agent");
    let mut keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["active", "email", "id", "name", "organization_id", "role"]
    );
    assert_eq!(user["active"], true);

    let token = body["access_token"].as_str().unwrap();
    let me = expect_json(app.get("/api/v1/users/me", token).await, StatusCode::OK).await;
    assert_eq!(&me, user);

    // Every role signs in and is told its role.
    for (email, role) in [
        ("admin@acme.test", "admin"),
        ("manager@acme.test", "manager"),
        ("ceo@acme.test", "executive"),
        ("tech@acme.test", "technician"),
        ("customer@acme.test", "customer"),
        ("admin@globex.test", "admin"),
    ] {
        assert_eq!(app.tokens(email).await["user"]["role"], role);
    }
}

async fn wrong_password_and_unknown_email_look_the_same(app: TestApp) {
    let wrong = expect_json(
        app.login("agent@acme.test", "not-the-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = expect_json(
        app.login("nobody@acme.test", "not-the-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, json!({"error": "Invalid email or password"}));
}

async fn login_rejects_bad_input_with_field_messages(app: TestApp) {
    let empty = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = expect_json(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["fields"]["email"].is_string(), "{body}");
    assert!(body["fields"]["password"].is_string(), "{body}");

    let malformed = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let body = expect_json(malformed, StatusCode::BAD_REQUEST).await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid request body")
    );

    let wrong_type = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": 5}))
        .send()
        .await
        .unwrap();
    expect_json(wrong_type, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn refresh_rotates_and_a_replay_revokes_the_family(app: TestApp) {
    let first = app.tokens("agent@acme.test").await;
    let token1 = first["refresh_token"].as_str().unwrap();

    let second = expect_json(app.refresh(token1).await, StatusCode::OK).await;
    let token2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(token1, token2);
    assert_eq!(second["user"], first["user"]);
    let access2 = second["access_token"].as_str().unwrap();
    expect_json(app.get("/api/v1/users/me", access2).await, StatusCode::OK).await;

    // Replaying the spent token is refused and burns the whole family...
    expect_json(app.refresh(token1).await, StatusCode::UNAUTHORIZED).await;
    // ...so even the legitimate successor no longer works.
    expect_json(app.refresh(token2).await, StatusCode::UNAUTHORIZED).await;

    // Another sign-in is a separate family and unaffected.
    let other = app.tokens("agent@acme.test").await;
    expect_json(
        app.refresh(other["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;

    expect_json(app.refresh("made-up-token").await, StatusCode::UNAUTHORIZED).await;
}

async fn logout_ends_the_session(app: TestApp) {
    let tokens = app.tokens("manager@acme.test").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect_json(app.refresh(refresh_token).await, StatusCode::UNAUTHORIZED).await;
}

async fn account_locks_after_ten_failures_without_revealing_accounts(app: TestApp) {
    for email in ["customer2@acme.test", "ghost@acme.test"] {
        for _ in 0..10 {
            expect_json(
                app.login(email, "wrong-password").await,
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
        // Locked: even the right password is refused, the same way for a
        // real and a made-up account.
        let body = expect_json(
            app.login(email, DEMO_PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
        assert!(body["error"].as_str().unwrap().contains("Too many"));
    }
    // Other accounts are unaffected.
    app.tokens("customer@acme.test").await;
    // An admin's password reset lets the locked-out user back in.
    let locked = fieldesk::server::db::users::find_by_email(&app.state.db, "customer2@acme.test")
        .await
        .unwrap()
        .unwrap();
    let admin = app.bearer("admin@acme.test").await;
    let reset = app
        .patch_json(
            &format!("/api/v1/users/{}", locked.id),
            &admin,
            json!({"password": "a-fresh-password-42"}),
        )
        .await;
    expect_json(reset, StatusCode::OK).await;
    expect_json(
        app.login("customer2@acme.test", "a-fresh-password-42")
            .await,
        StatusCode::OK,
    )
    .await;
}

async fn bearer_token_is_required_and_checked(app: TestApp) {
    let none = app
        .client
        .get(app.url("/api/v1/users/me"))
        .send()
        .await
        .unwrap();
    expect_json(none, StatusCode::UNAUTHORIZED).await;
    expect_json(
        app.get("/api/v1/users/me", "garbage").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let mut forged = app.bearer("agent@acme.test").await;
    forged.push('x');
    expect_json(
        app.get("/api/v1/users/me", &forged).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn deactivated_user_cannot_refresh(app: TestApp) {
    let tokens = app.tokens("agent2@acme.test").await;
    deactivate(&app, "agent2@acme.test").await;
    expect_json(
        app.refresh(tokens["refresh_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(
        app.login("agent2@acme.test", DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn deactivate(app: &TestApp, email: &str) {
    let sql = "UPDATE users SET active = FALSE WHERE email = $1";
    fieldesk::server::db::query(sql)
        .bind(email)
        .execute(app.state.db.writer())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_ip() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.login_rate_per_minute = 3).await;
    for _ in 0..3 {
        expect_json(
            app.login("agent@acme.test", "wrong-password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let body = expect_json(
        app.login("agent@acme.test", DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(body["error"].as_str().unwrap().contains("Too many"));
}

async fn register(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn org_id_of(app: &TestApp, admin_email: &str) -> String {
    app.tokens(admin_email).await["user"]["organization_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn register_creates_a_customer_who_can_sign_in(app: TestApp) {
    let body = expect_json(
        register(
            &app,
            json!({
                "organization": "globex",
                "email": "  New.Person@Example.COM ",
                "name": "  Nova Person ",
                "password": "a-fresh-password",
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // The same shape as a login.
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() > 20);
    let user = &body["user"];
    assert_eq!(user["email"], "new.person@example.com");
    assert_eq!(user["name"], "Nova Person");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["active"], true);
    let globex = org_id_of(&app, "admin@globex.test").await;
    assert_eq!(user["organization_id"], globex.as_str());

    // The tokens work, and the session refreshes like a login's.
    let access = body["access_token"].as_str().unwrap();
    let me = expect_json(app.get("/api/v1/users/me", access).await, StatusCode::OK).await;
    assert_eq!(&me, user);
    expect_json(
        app.refresh(body["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;

    // Signing in with the new password (any case of the email) works...
    let login = expect_json(
        app.login("NEW.person@example.com", "a-fresh-password")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(&login["user"], user);
    // ...and the organization's staff see a new customer, the other one does not.
    let customers = expect_json(
        app.get(
            "/api/v1/users?role=customer",
            &app.bearer("admin@globex.test").await,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let emails: Vec<&str> = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["customer@globex.test", "new.person@example.com"]);
    let id = user["id"].as_str().unwrap();
    expect_json(
        app.get(
            &format!("/api/v1/users/{id}"),
            &app.bearer("admin@acme.test").await,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn register_reports_each_invalid_field(app: TestApp) {
    let empty = expect_json(
        register(&app, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["organization", "email", "name", "password"] {
        assert!(empty["fields"][field].is_string(), "{field}: {empty}");
    }

    let bad = expect_json(
        register(
            &app,
            json!({
                "organization": "acme",
                "email": "not-an-email",
                "name": "   ",
                "password": "short",
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        bad["fields"]["email"]
            .as_str()
            .unwrap()
            .contains("valid email")
    );
    assert_eq!(bad["fields"]["name"], "Enter a name");
    assert!(
        bad["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("at least 10")
    );
    assert!(bad["fields"]["organization"].is_null(), "{bad}");

    let long = expect_json(
        register(
            &app,
            json!({
                "organization": "acme",
                "email": "long@example.com",
                "name": "n".repeat(201),
                "password": "p".repeat(257),
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<_> = long["fields"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(fields, ["name", "password"], "{long}");
    assert!(
        long["fields"]["name"]
            .as_str()
            .unwrap()
            .contains("at most 200")
    );

    // None of these created an account.
    expect_json(
        app.login("long@example.com", &"p".repeat(257)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A name of exactly 200 characters is fine.
    expect_json(
        register(
            &app,
            json!({
                "organization": "acme",
                "email": "long@example.com",
                "name": "n".repeat(200),
                "password": "p".repeat(256),
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
}

async fn register_refuses_a_taken_email_without_naming_its_organization(app: TestApp) {
    // Taken in another organization, typed in another case.
    let body = expect_json(
        register(
            &app,
            json!({
                "organization": "globex",
                "email": " Agent@ACME.test",
                "name": "Someone Else",
                "password": "another-password",
            }),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let message = body["error"].as_str().unwrap().to_lowercase();
    assert!(message.contains("already exists"), "{body}");
    assert!(
        !message.contains("acme") && !message.contains("globex"),
        "{body}"
    );
    assert!(!body.to_string().to_lowercase().contains("acme corporation"));
    // Taken in the same organization: the same answer.
    let same_org = expect_json(
        register(
            &app,
            json!({
                "organization": "acme",
                "email": "agent@acme.test",
                "name": "Someone Else",
                "password": "another-password",
            }),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(same_org, body);
    // The existing account is untouched.
    let agent = app.tokens("agent@acme.test").await;
    assert_eq!(agent["user"]["role"], "agent");
    assert_eq!(agent["user"]["name"], "Alex Agent");
    expect_json(
        app.login("agent@acme.test", "another-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // A fresh sign-up, then the same email again.
    let first = json!({
        "organization": "acme",
        "email": "twice@example.com",
        "name": "Twice",
        "password": "twice-password",
    });
    expect_json(register(&app, first.clone()).await, StatusCode::CREATED).await;
    expect_json(register(&app, first).await, StatusCode::CONFLICT).await;
}

async fn register_refuses_an_unknown_organization(app: TestApp) {
    let body = expect_json(
        register(
            &app,
            json!({
                "organization": "initech",
                "email": "someone@initech.test",
                "name": "Peter",
                "password": "tps-reports-1",
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["organization"].is_string(), "{body}");
    expect_json(
        app.login("someone@initech.test", "tps-reports-1").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Slugs are matched like emails: case and surrounding spaces do not matter.
    let ok = expect_json(
        register(
            &app,
            json!({
                "organization": " ACME ",
                "email": "someone@initech.test",
                "name": "Peter",
                "password": "tps-reports-1",
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        ok["user"]["organization_id"],
        org_id_of(&app, "admin@acme.test").await.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_shares_the_per_ip_sign_in_limit() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.login_rate_per_minute = 3).await;
    let form = |email: &str| {
        json!({
            "organization": "acme",
            "email": email,
            "name": "Rate Limited",
            "password": "rate-limit-password",
        })
    };
    // An invalid form is refused before it spends anything.
    for _ in 0..5 {
        expect_json(
            register(&app, json!({})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    expect_json(
        register(&app, form("one@example.com")).await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        app.login("agent@acme.test", "wrong-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(
        register(&app, form("two@example.com")).await,
        StatusCode::CREATED,
    )
    .await;
    let body = expect_json(
        register(&app, form("three@example.com")).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(body["error"].as_str().unwrap().contains("Too many"));
    // Sign-in is out of budget too, and the refused sign-up created nothing.
    expect_json(
        app.login("three@example.com", "rate-limit-password").await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    let admin = app.state.db.clone();
    assert!(
        fieldesk::server::db::users::find_by_email(&admin, "three@example.com")
            .await
            .unwrap()
            .is_none()
    );
}
