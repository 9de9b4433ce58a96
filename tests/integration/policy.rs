//! The authorization policy, route by route: every REST route (as the
//! OpenAPI document lists them, which `openapi.rs` proves equal to the
//! routes served) and every registered server function declares a gate, and
//! for every role — and for nobody signed in — the server admits exactly
//! those the policy matrix admits. A new route or function without a
//! policy decision fails here (and is refused to everyone at run time).
//! Then the decisions that depend on the record: visibility before
//! capability before validation, technicians and executives, and a demoted
//! or deactivated person losing their rights at once.

use crate::common::*;
use crate::on_both_backends;
use fieldesk::domain::policy::Capability;
use fieldesk::domain::{Gate, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    every_rest_route_admits_exactly_the_roles_its_gate_names,
    every_server_function_admits_exactly_the_roles_its_gate_names,
    another_organizations_ticket_is_not_found_before_input_is_checked,
    executives_read_tickets_and_change_nothing,
    technicians_see_no_ticket_outside_their_jobs,
    a_demoted_admin_loses_admin_rights_at_once,
    a_deactivated_persons_token_stops_working_at_once,
    user_listing_is_for_staff_and_creation_for_admins,
);

/// The demo organization's person for each role.
const PEOPLE: [(Role, &str); 6] = [
    (Role::Customer, "customer@acme.test"),
    (Role::Agent, "agent@acme.test"),
    (Role::Manager, "manager@acme.test"),
    (Role::Executive, "ceo@acme.test"),
    (Role::Admin, "admin@acme.test"),
    (Role::Technician, "tech@acme.test"),
];

fn gate_named(name: &str) -> Gate {
    match name {
        "anyone" => Gate::Anyone,
        "signed_in" => Gate::SignedIn,
        other => Gate::Needs(
            Capability::parse(other).unwrap_or_else(|| panic!("unknown capability {other}")),
        ),
    }
}

/// Whether an answer is the policy's refusal: the gate's 401 for nobody
/// signed in, or its 403, which names the capability.
async fn refused_by_policy(res: reqwest::Response) -> (StatusCode, bool) {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let message = body["error"].as_str().unwrap_or_default();
    let refused = status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::FORBIDDEN
            && (message.contains("permission") || message.contains("No authorization policy")));
    (status, refused)
}

/// Checks one answer against the gate: refused exactly when the gate does
/// not admit the caller. Where anyone may call, a 401 is the route's own
/// answer to a bad credential (a spent refresh token), not the policy's.
async fn assert_gate(res: reqwest::Response, gate: Gate, role: Option<Role>, what: &str) {
    let (status, refused) = refused_by_policy(res).await;
    if gate == Gate::Anyone {
        assert_ne!(status, StatusCode::FORBIDDEN, "{what} as {role:?}");
    } else {
        assert_eq!(refused, !gate.admits(role), "{what} as {role:?}: {status}");
    }
}

/// Every caller: nobody, then each role's bearer token.
async fn callers(app: &TestApp) -> Vec<(Option<Role>, Option<String>)> {
    let mut callers = vec![(None, None)];
    for (role, email) in PEOPLE {
        callers.push((Some(role), Some(app.bearer(email).await)));
    }
    callers
}

async fn every_rest_route_admits_exactly_the_roles_its_gate_names(app: TestApp) {
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let callers = callers(&app).await;
    let mut walked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let Some(policy) = operation["x-policy"].as_str() else {
                panic!("{method} {path} declares no policy (add it to ROUTE_GATES)");
            };
            let gate = gate_named(policy);
            // Any id will do: the gate answers before the record is looked
            // up, and the nil id matches nothing, so nothing changes.
            let url = app.url(&format!(
                "/api/v1{}",
                path.replace("{id}", &uuid::Uuid::nil().to_string())
                    .replace("{canned_id}", &uuid::Uuid::nil().to_string())
                    .replace("{token}", "not-a-link")
            ));
            for (role, token) in &callers {
                let mut request = app.client.request(method.clone(), &url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if method != Method::GET && method != Method::DELETE {
                    request = request.json(&json!({}));
                }
                let what = format!("{method} {path} ({policy})");
                assert_gate(request.send().await.unwrap(), gate, *role, &what).await;
            }
            walked += 1;
        }
    }
    assert!(walked >= 60, "only {walked} operations walked");
}

async fn every_server_function_admits_exactly_the_roles_its_gate_names(app: TestApp) {
    let callers = callers(&app).await;
    let mut walked = 0;
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let endpoint = path.trim_start_matches("/api/");
        let gate = fieldesk::api::gate_of(endpoint)
            .unwrap_or_else(|| panic!("server function {endpoint} declares no policy"));
        for (role, token) in &callers {
            let mut request = app
                .client
                .request(method.clone(), app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let what = format!("server function {endpoint} ({})", gate.name());
            assert_gate(request.send().await.unwrap(), gate, *role, &what).await;
        }
        walked += 1;
    }
    assert_eq!(
        walked,
        fieldesk::api::SERVER_FN_GATES.len(),
        "every declared gate names a registered function"
    );
}

/// A ticket of the demo organization's customer.
async fn customer_ticket(app: &TestApp) -> String {
    let customer = app.bearer("customer@acme.test").await;
    let res = app
        .post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Printer on fire", "description": "Smoke everywhere."}),
        )
        .await;
    expect_json(res, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn another_organizations_ticket_is_not_found_before_input_is_checked(app: TestApp) {
    let ticket = customer_ticket(&app).await;
    // The administrator of the demo's second organization.
    let globex = app.bearer("admin@globex.test").await;
    // A bad assignee on another organization's ticket: 404, not 422.
    let path = format!("/api/v1/tickets/{ticket}");
    let bad = json!({"assignee_id": uuid::Uuid::now_v7()});
    let res = app.patch_json(&path, &globex, bad.clone()).await;
    expect_json(res, StatusCode::NOT_FOUND).await;
    let res = app
        .post_json(&format!("{path}/assign"), &globex, bad.clone())
        .await;
    expect_json(res, StatusCode::NOT_FOUND).await;
    let res = app
        .post_json(
            &format!("{path}/merge"),
            &globex,
            json!({"target_id": uuid::Uuid::now_v7()}),
        )
        .await;
    expect_json(res, StatusCode::NOT_FOUND).await;
    // In its own organization the same input is a field error.
    let agent = app.bearer("agent@acme.test").await;
    let res = app.patch_json(&path, &agent, bad).await;
    let body = expect_json(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["fields"]["assignee_id"].is_string(), "{body}");
}

async fn executives_read_tickets_and_change_nothing(app: TestApp) {
    let ticket = customer_ticket(&app).await;
    let agent = app.bearer("agent@acme.test").await;
    let path = format!("/api/v1/tickets/{ticket}");
    let res = app
        .post_json(
            &format!("{path}/comments"),
            &agent,
            json!({"body": "Checking the toner (internal).", "public": false}),
        )
        .await;
    expect_json(res, StatusCode::CREATED).await;
    let ceo = app.bearer("ceo@acme.test").await;
    // Reads: the ticket, its internal notes, its trail.
    expect_json(app.get(&path, &ceo).await, StatusCode::OK).await;
    let comments = expect_json(
        app.get(&format!("{path}/comments"), &ceo).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        comments["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["public"] == false),
        "executives read internal notes"
    );
    expect_json(
        app.get(&format!("{path}/history"), &ceo).await,
        StatusCode::OK,
    )
    .await;
    // Changes nothing: fields, replies, merges — the record is visible, so
    // these are 403s.
    let res = app
        .patch_json(&path, &ceo, json!({"priority": "urgent"}))
        .await;
    expect_json(res, StatusCode::FORBIDDEN).await;
    let res = app
        .post_json(
            &format!("{path}/comments"),
            &ceo,
            json!({"body": "Hi", "public": true}),
        )
        .await;
    expect_json(res, StatusCode::FORBIDDEN).await;
    let res = app
        .post_json(
            &format!("{path}/escalate"),
            &ceo,
            json!({"reason": "Because"}),
        )
        .await;
    expect_json(res, StatusCode::FORBIDDEN).await;
    let ticket = expect_json(app.get(&path, &agent).await, StatusCode::OK).await;
    assert_eq!(ticket["priority"], "medium", "nothing changed");
}

async fn technicians_see_no_ticket_outside_their_jobs(app: TestApp) {
    let ticket = customer_ticket(&app).await;
    let tech = app.bearer("tech@acme.test").await;
    let path = format!("/api/v1/tickets/{ticket}");
    // Not linked to one of their jobs: as if it did not exist.
    expect_json(app.get(&path, &tech).await, StatusCode::NOT_FOUND).await;
    expect_json(
        app.get(&format!("{path}/comments"), &tech).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let res = app
        .patch_json(&path, &tech, json!({"status": "resolved"}))
        .await;
    expect_json(res, StatusCode::NOT_FOUND).await;
    let list = expect_json(app.get("/api/v1/tickets", &tech).await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]));
    let stats = expect_json(
        app.get("/api/v1/tickets/stats", &tech).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["total"], 0);
    assert_eq!(stats["by_status"]["new"], 0, "every status, at zero");
    // Merging and internal notes are not theirs, whatever the ticket.
    let res = app
        .post_json(
            &format!("{path}/merge"),
            &tech,
            json!({"target_id": ticket}),
        )
        .await;
    expect_json(res, StatusCode::FORBIDDEN).await;
}

/// Sets a demo person's role or active flag as another admin would.
async fn change_user(app: &TestApp, email: &str, patch: Value) {
    let admin = app.bearer("admin@acme.test").await;
    let users = expect_json(
        app.get("/api/v1/users?limit=500", &admin).await,
        StatusCode::OK,
    )
    .await;
    let id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .patch_json(&format!("/api/v1/users/{id}"), &admin, patch)
        .await;
    expect_json(res, StatusCode::OK).await;
}

async fn a_demoted_admin_loses_admin_rights_at_once(app: TestApp) {
    // A second admin, signed in before the demotion.
    change_user(&app, "manager@acme.test", json!({"role": "admin"})).await;
    let former = app.bearer("manager@acme.test").await;
    expect_json(app.get("/api/v1/runtime", &former).await, StatusCode::OK).await;
    change_user(&app, "manager@acme.test", json!({"role": "agent"})).await;
    // The same, unexpired token: the database's role decides.
    let (status, refused) = refused_by_policy(app.get("/api/v1/runtime", &former).await).await;
    assert!(refused && status == StatusCode::FORBIDDEN, "{status}");
    let res = app
        .post_json("/api/v1/import/tickets", &former, json!({"tickets": []}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let me = expect_json(app.get("/api/v1/users/me", &former).await, StatusCode::OK).await;
    assert_eq!(me["role"], "agent");
}

async fn a_deactivated_persons_token_stops_working_at_once(app: TestApp) {
    let agent = app.bearer("agent2@acme.test").await;
    expect_json(app.get("/api/v1/tickets", &agent).await, StatusCode::OK).await;
    change_user(&app, "agent2@acme.test", json!({"active": false})).await;
    expect_json(
        app.get("/api/v1/tickets", &agent).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // The browser's server functions too.
    let res = app
        .client
        .post(app.url("/api/list_users"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn user_listing_is_for_staff_and_creation_for_admins(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    expect_json(
        app.get("/api/v1/users", &customer).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Capability before input: a customer's bad query is still a 403.
    expect_json(
        app.get("/api/v1/users?limit=0", &customer).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let page = expect_json(
        app.get("/api/v1/users?limit=2", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    let new = json!({"email": "new@acme.test", "name": "New", "role": "agent", "password": "a-long-password"});
    let res = app.post_json("/api/v1/users", &agent, new.clone()).await;
    expect_json(res, StatusCode::FORBIDDEN).await;
    let admin = app.bearer("admin@acme.test").await;
    let res = app.post_json("/api/v1/users", &admin, new).await;
    expect_json(res, StatusCode::CREATED).await;
}
