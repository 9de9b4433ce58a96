//! Regression tests for the holes a security review found in sessions and
//! sign-in (issue 11): API refresh tokens replayed as the browser cookie,
//! lock-outs anyone could impose, and an unbounded throttle key.

use crate::common::*;
use crate::on_both_backends;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::net::IpAddr;

on_both_backends!(
    an_api_refresh_token_replayed_as_the_cookie_ends_the_session,
    failures_from_one_source_do_not_lock_the_owner_out_elsewhere,
    an_overlong_email_is_refused_before_the_throttle_table,
);

async fn an_api_refresh_token_replayed_as_the_cookie_ends_the_session(app: TestApp) {
    let first = app.tokens("agent@acme.test").await;
    let spent = first["refresh_token"].as_str().unwrap();
    let rotated = expect_json(app.refresh(spent).await, StatusCode::OK).await;
    let successor = rotated["refresh_token"].as_str().unwrap();

    // Within the browser's grace window, but the token went to an API
    // client: as a cookie it is a replay like any other.
    let res = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("cookie", format!("fd_refresh={spent}"))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::UNAUTHORIZED).await;
    // The whole session ended with it, the legitimate successor included.
    expect_json(app.refresh(successor).await, StatusCode::UNAUTHORIZED).await;
}

/// A client whose requests come from `ip` (any 127.x address is loopback on
/// Linux): the server sees it as the peer address, as it would a remote one.
fn client_from(ip: &str) -> Client {
    Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, client: &Client, password: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "agent@acme.test", "password": password}))
        .send()
        .await
        .unwrap()
}

async fn failures_from_one_source_do_not_lock_the_owner_out_elsewhere(app: TestApp) {
    let attacker = client_from("127.0.0.2");
    for _ in 0..10 {
        expect_json(
            login_from(&app, &attacker, "guessing").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    // The guesser is locked out, even with the right password...
    expect_json(
        login_from(&app, &attacker, DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    // ...the owner, signing in from elsewhere, is not...
    let owner = client_from("127.0.0.3");
    let body = expect_json(
        login_from(&app, &owner, DEMO_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["user"]["email"], "agent@acme.test");
    // ...and the owner's success does not lift the guesser's lock.
    expect_json(
        login_from(&app, &attacker, DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

async fn throttle_rows(app: &TestApp) -> i64 {
    let (rows,): (i64,) = fieldesk::server::db::query("SELECT COUNT(*) FROM login_throttle")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    rows
}

async fn an_overlong_email_is_refused_before_the_throttle_table(app: TestApp) {
    let email = format!("{}@acme.test", "a".repeat(10_000));
    let body = expect_json(
        app.login(&email, "wrong-password").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["fields"]["email"], "Email address is too long");
    assert_eq!(throttle_rows(&app).await, 0);
    // A failure with an ordinary address is what the table is for.
    expect_json(
        app.login("agent@acme.test", "wrong-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(throttle_rows(&app).await, 1);
}
