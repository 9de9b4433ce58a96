//! User listing and lookup (staff only) and user management (admins only),
//! scoped to the caller's organization.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    customers_may_not_list_users,
    staff_list_only_their_organization_with_pagination,
    another_organizations_user_is_not_found,
    list_parameters_are_validated,
    admin_creates_a_user_in_their_own_organization,
    create_user_validates_each_field_and_refuses_taken_emails,
    only_admins_may_create_or_change_users,
    another_organizations_user_cannot_be_changed,
    deactivating_a_user_ends_their_sessions_and_blocks_sign_in,
    admins_cannot_lock_themselves_out,
    admin_renames_changes_role_and_resets_password,
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

/// The id of a user, from their own sign-in.
async fn id_of(app: &TestApp, email: &str) -> String {
    app.tokens(email).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn admin_creates_a_user_in_their_own_organization(app: TestApp) {
    let admin = app.tokens("admin@acme.test").await;
    let token = admin["access_token"].as_str().unwrap();
    let created = expect_json(
        app.post_json(
            "/api/v1/users",
            token,
            json!({
                "email": " Dana@ACME.test ",
                "name": " Dana Dispatcher ",
                "role": "manager",
                "password": "dana-password-1",
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["email"], "dana@acme.test");
    assert_eq!(created["name"], "Dana Dispatcher");
    assert_eq!(created["role"], "manager");
    assert_eq!(created["active"], true);
    assert_eq!(created["organization_id"], admin["user"]["organization_id"]);
    // Same shape as GET /users/{id}.
    let id = created["id"].as_str().unwrap();
    let shown = expect_json(
        app.get(&format!("/api/v1/users/{id}"), token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shown, created);

    // The new user signs in with the password the admin set, in that role.
    let login = expect_json(
        app.login("dana@acme.test", "dana-password-1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(login["user"], created);

    // Any role may be created; another organization never sees them.
    for role in ["customer", "agent", "executive", "admin", "technician"] {
        let user = expect_json(
            app.post_json(
                "/api/v1/users",
                token,
                json!({
                    "email": format!("new-{role}@acme.test"),
                    "name": format!("New {role}"),
                    "role": role,
                    "password": "a-long-password",
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(user["role"], role);
    }
    let globex = app.bearer("admin@globex.test").await;
    expect_json(
        app.get(&format!("/api/v1/users/{id}"), &globex).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = expect_json(app.get("/api/v1/users", &globex).await, StatusCode::OK).await;
    assert_eq!(emails(&theirs).len(), 3);
    let ours = expect_json(app.get("/api/v1/users", token).await, StatusCode::OK).await;
    assert_eq!(emails(&ours).len(), 8 + 6);
}

async fn create_user_validates_each_field_and_refuses_taken_emails(app: TestApp) {
    let token = app.bearer("admin@acme.test").await;
    let empty = expect_json(
        app.post_json("/api/v1/users", &token, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["email", "name", "role", "password"] {
        assert!(empty["fields"][field].is_string(), "{field}: {empty}");
    }
    let bad = expect_json(
        app.post_json(
            "/api/v1/users",
            &token,
            json!({
                "email": "nobody-at-example",
                "name": "x".repeat(201),
                "role": "superuser",
                "password": "123",
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
    assert!(
        bad["fields"]["name"]
            .as_str()
            .unwrap()
            .contains("at most 200")
    );
    assert_eq!(bad["fields"]["role"], "Unknown role `superuser`");
    assert!(
        bad["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("at least 10")
    );

    // Taken in the admin's organization or another one: 409, no tenant named.
    for taken in ["agent@acme.test", "AGENT@globex.test"] {
        let body = expect_json(
            app.post_json(
                "/api/v1/users",
                &token,
                json!({
                    "email": taken,
                    "name": "Duplicate",
                    "role": "agent",
                    "password": "duplicate-password",
                }),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let text = body.to_string().to_lowercase();
        assert!(text.contains("already exists"), "{body}");
        assert!(!text.contains("globex") && !text.contains("acme"), "{body}");
    }
    // Nothing was created or changed.
    let all = expect_json(app.get("/api/v1/users", &token).await, StatusCode::OK).await;
    assert_eq!(emails(&all).len(), 8);
    assert_eq!(
        app.tokens("agent@globex.test").await["user"]["role"],
        "agent"
    );
}

async fn only_admins_may_create_or_change_users(app: TestApp) {
    let target = id_of(&app, "agent2@acme.test").await;
    for email in NON_ADMINS {
        let token = app.bearer(email).await;
        let body = expect_json(
            app.post_json(
                "/api/v1/users",
                &token,
                json!({
                    "email": "sneaky@acme.test",
                    "name": "Sneaky",
                    "role": "admin",
                    "password": "sneaky-password",
                }),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(body["error"].is_string());
        for path in [
            format!("/api/v1/users/{target}"),
            "/api/v1/users/not-a-uuid".into(),
        ] {
            expect_json(
                app.patch_json(&path, &token, json!({"role": "admin", "active": false}))
                    .await,
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        // Not even on themselves.
        let own = id_of(&app, email).await;
        expect_json(
            app.patch_json(
                &format!("/api/v1/users/{own}"),
                &token,
                json!({"role": "admin"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_ne!(app.tokens(email).await["user"]["role"], "admin");
    }
    // Without a token: 401.
    let anonymous = app
        .client
        .post(app.url("/api/v1/users"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_json(anonymous, StatusCode::UNAUTHORIZED).await;

    // Nothing happened.
    expect_json(
        app.login("sneaky@acme.test", "sneaky-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let agent2 = app.tokens("agent2@acme.test").await;
    assert_eq!(agent2["user"]["role"], "agent");
    assert_eq!(agent2["user"]["active"], true);
}

async fn another_organizations_user_cannot_be_changed(app: TestApp) {
    let acme = app.bearer("admin@acme.test").await;
    let globex_agent = id_of(&app, "agent@globex.test").await;
    for path in [
        format!("/api/v1/users/{globex_agent}"),
        format!("/api/v1/users/{}", uuid::Uuid::now_v7()),
        "/api/v1/users/not-a-uuid".to_owned(),
    ] {
        let body = expect_json(
            app.patch_json(
                &path,
                &acme,
                json!({"name": "Hijacked", "active": false, "password": "hijacked-password"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(body["error"], "Not found");
    }
    // The Globex agent is untouched: same name, still signs in with the old password.
    let tokens = app.tokens("agent@globex.test").await;
    assert_ne!(tokens["user"]["name"], "Hijacked");
    assert_eq!(tokens["user"]["active"], true);
    expect_json(
        app.login("agent@globex.test", "hijacked-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn deactivating_a_user_ends_their_sessions_and_blocks_sign_in(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let first = app.tokens("agent2@acme.test").await;
    let second = app.tokens("agent2@acme.test").await;
    let id = first["user"]["id"].as_str().unwrap();
    let path = format!("/api/v1/users/{id}");

    let changed = expect_json(
        app.patch_json(&path, &admin, json!({"active": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["active"], false);
    assert_eq!(changed["role"], "agent");
    let shown = expect_json(app.get(&path, &admin).await, StatusCode::OK).await;
    assert_eq!(shown, changed);

    // Every session is over, and the password no longer opens a new one.
    for tokens in [&first, &second] {
        expect_json(
            app.refresh(tokens["refresh_token"].as_str().unwrap()).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let refused = expect_json(
        app.login("agent2@acme.test", DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(refused["error"], "Invalid email or password");

    // Nobody can hand tickets to a deactivated agent.
    let customer = app.bearer("customer@acme.test").await;
    let created = app
        .client
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&customer)
        .json(&json!({"subject": "Help", "description": "Please"}))
        .send()
        .await
        .unwrap();
    let ticket = expect_json(created, StatusCode::CREATED).await;
    let assign = app
        .client
        .post(app.url(&format!(
            "/api/v1/tickets/{}/assign",
            ticket["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .json(&json!({"assignee_id": id}))
        .send()
        .await
        .unwrap();
    let err = expect_json(assign, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(err["fields"]["assignee_id"].is_string());

    // Reactivated, the user signs in again; the old sessions stay ended.
    let back = expect_json(
        app.patch_json(&path, &admin, json!({"active": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(back["active"], true);
    let again = app.tokens("agent2@acme.test").await;
    assert_eq!(again["user"]["active"], true);
    expect_json(
        app.refresh(first["refresh_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(
        app.refresh(again["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
}

async fn admins_cannot_lock_themselves_out(app: TestApp) {
    let tokens = app.tokens("admin@acme.test").await;
    let admin = tokens["access_token"].as_str().unwrap();
    let own = format!("/api/v1/users/{}", tokens["user"]["id"].as_str().unwrap());

    let body = expect_json(
        app.patch_json(&own, admin, json!({"active": false})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("deactivate your own"),
        "{body}"
    );
    assert!(body["fields"]["active"].is_string(), "{body}");
    for role in ["agent", "manager", "customer"] {
        let body = expect_json(
            app.patch_json(&own, admin, json!({"role": role, "name": "Renamed"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("own administrator role"),
            "{body}"
        );
        assert!(body["fields"]["role"].is_string(), "{body}");
    }
    // Nothing was applied, not even the name sent along, and the session lives on.
    let me = expect_json(app.get(&own, admin).await, StatusCode::OK).await;
    assert_eq!(me["role"], "admin");
    assert_eq!(me["active"], true);
    assert_eq!(me["name"], "Avery Admin");
    let rotated = expect_json(
        app.refresh(tokens["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rotated["user"]["role"], "admin");

    // Harmless changes to oneself are fine.
    let renamed = expect_json(
        app.patch_json(
            &own,
            admin,
            json!({"name": "Avery A.", "role": "admin", "active": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Avery A.");
    assert_eq!(renamed["role"], "admin");

    // Another admin may demote this one, who then loses admin rights even
    // before their access token expires.
    let second = expect_json(
        app.post_json(
            "/api/v1/users",
            admin,
            json!({
                "email": "admin2@acme.test",
                "name": "Second Admin",
                "role": "admin",
                "password": "second-admin-pw",
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let second_token = expect_json(
        app.login("admin2@acme.test", "second-admin-pw").await,
        StatusCode::OK,
    )
    .await;
    let second_admin = second_token["access_token"].as_str().unwrap();
    let demoted = expect_json(
        app.patch_json(&own, second_admin, json!({"role": "agent"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(demoted["role"], "agent");
    let second_path = format!("/api/v1/users/{}", second["id"].as_str().unwrap());
    expect_json(
        app.patch_json(&second_path, admin, json!({"active": false}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(app.get(&second_path, second_admin).await, StatusCode::OK).await;
    // The new role reaches the demoted admin's session at its next refresh.
    let refreshed = expect_json(
        app.refresh(rotated["refresh_token"].as_str().unwrap())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refreshed["user"]["role"], "agent");
}

async fn admin_renames_changes_role_and_resets_password(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let before = app.tokens("customer2@acme.test").await;
    let path = format!("/api/v1/users/{}", before["user"]["id"].as_str().unwrap());

    // Validation: each field, and unknown fields are refused.
    let bad = expect_json(
        app.patch_json(
            &path,
            &admin,
            json!({"name": " ", "role": "overlord", "password": "short"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["fields"]["name"], "Enter a name");
    assert_eq!(bad["fields"]["role"], "Unknown role `overlord`");
    assert!(
        bad["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("at least 10")
    );
    expect_json(
        app.patch_json(&path, &admin, json!({"email": "taken@acme.test"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_json(
        app.patch_json(&path, &admin, json!({"active": "no"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // An empty patch changes nothing.
    let same = expect_json(
        app.patch_json(&path, &admin, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["name"], "Robin Customer");
    assert_eq!(same["role"], "customer");

    // Rename and promote: the role reaches the session at the next refresh.
    let changed = expect_json(
        app.patch_json(
            &path,
            &admin,
            json!({"name": "  Robin Agent ", "role": "agent"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["name"], "Robin Agent");
    assert_eq!(changed["role"], "agent");
    assert_eq!(changed["active"], true);
    let refreshed = expect_json(
        app.refresh(before["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refreshed["user"]["role"], "agent");
    assert_eq!(refreshed["user"]["name"], "Robin Agent");
    let still_open = refreshed["refresh_token"].as_str().unwrap();

    // A password reset: the old password and every session are gone, the new one works.
    let reset = expect_json(
        app.patch_json(&path, &admin, json!({"password": "reset-by-admin-1"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(reset, changed);
    expect_json(app.refresh(still_open).await, StatusCode::UNAUTHORIZED).await;
    expect_json(
        app.login("customer2@acme.test", DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let fresh = expect_json(
        app.login("customer2@acme.test", "reset-by-admin-1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fresh["user"], changed);

    // Other users' sessions are unaffected.
    let other = app.tokens("customer@acme.test").await;
    expect_json(
        app.refresh(other["refresh_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
}
