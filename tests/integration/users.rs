//! User listing and lookup: staff only, scoped to the caller's organization.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    customers_may_not_list_users,
    staff_list_only_their_organization_with_pagination,
    another_organizations_user_is_not_found,
    list_parameters_are_validated,
);

async fn customers_may_not_list_users(app: TestApp) {
    let token = app.bearer("customer@acme.test").await;
    let body = expect_json(
        app.get("/api/v1/users", &token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["error"].is_string());
    let me = expect_json(app.get("/api/v1/users/me", &token).await, StatusCode::OK).await;
    let id = me["id"].as_str().unwrap();
    expect_json(
        app.get(&format!("/api/v1/users/{id}"), &token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

fn emails(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

async fn staff_list_only_their_organization_with_pagination(app: TestApp) {
    let token = app.bearer("agent@acme.test").await;
    let all = expect_json(app.get("/api/v1/users", &token).await, StatusCode::OK).await;
    let all_emails = emails(&all);
    assert_eq!(all_emails.len(), 8, "{all_emails:?}");
    assert!(all_emails.iter().all(|e| e.ends_with("@acme.test")));
    assert!(all["next_cursor"].is_null());
    let mut sorted = all_emails.clone();
    sorted.sort();
    assert_eq!(all_emails, sorted, "ordered by email");

    // Walk the same list three at a time.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=3&cursor={c}"),
            None => "/api/v1/users?limit=3".to_owned(),
        };
        let page = expect_json(app.get(&path, &token).await, StatusCode::OK).await;
        walked.extend(emails(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(walked, all_emails);

    let customers = expect_json(
        app.get("/api/v1/users?role=customer", &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        emails(&customers),
        ["customer2@acme.test", "customer@acme.test"]
    );

    let globex = app.bearer("admin@globex.test").await;
    let theirs = expect_json(app.get("/api/v1/users", &globex).await, StatusCode::OK).await;
    assert_eq!(
        emails(&theirs),
        [
            "admin@globex.test",
            "agent@globex.test",
            "customer@globex.test"
        ]
    );
}

async fn another_organizations_user_is_not_found(app: TestApp) {
    let acme = app.bearer("agent@acme.test").await;
    let globex = app.bearer("agent@globex.test").await;
    let globex_me = expect_json(app.get("/api/v1/users/me", &globex).await, StatusCode::OK).await;
    let globex_id = globex_me["id"].as_str().unwrap();

    let body = expect_json(
        app.get(&format!("/api/v1/users/{globex_id}"), &acme).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(body["error"], "Not found");
    // Same answer as an id that exists nowhere, or is not an id at all.
    let missing = uuid::Uuid::now_v7();
    expect_json(
        app.get(&format!("/api/v1/users/{missing}"), &acme).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_json(
        app.get("/api/v1/users/not-a-uuid", &acme).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A colleague in the same organization is visible.
    let own = expect_json(
        app.get("/api/v1/users/me", &app.bearer("tech@acme.test").await)
            .await,
        StatusCode::OK,
    )
    .await;
    let found = expect_json(
        app.get(
            &format!("/api/v1/users/{}", own["id"].as_str().unwrap()),
            &acme,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found, own);
}

async fn list_parameters_are_validated(app: TestApp) {
    let token = app.bearer("admin@acme.test").await;
    let body = expect_json(
        app.get("/api/v1/users?limit=0&role=wizard", &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["limit"].is_string(), "{body}");
    assert!(body["fields"]["role"].is_string(), "{body}");
    expect_json(
        app.get("/api/v1/users?limit=abc", &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_json(
        app.get("/api/v1/no-such-route", &token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
