//! Tickets over REST: create, visibility, conversation, audit trail, queues.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    customer_creates_and_follows_only_their_own_tickets,
    internal_notes_never_reach_customers,
    every_change_is_audited_with_its_source,
    queues_filter_and_page_with_a_cursor,
    bad_ticket_input_gets_field_messages,
    another_organizations_ticket_is_not_found,
    closed_tickets_are_final_and_customers_cannot_triage,
    the_requester_rates_a_resolved_ticket,
    staff_escalate_with_a_reason_once,
    only_admins_delete_and_deleted_tickets_are_gone,
    stats_count_what_the_caller_may_see,
    escalation_stays_hidden_from_customers,
    customers_set_at_creation_only_what_they_may_change,
    merging_moves_the_conversation_and_closes_the_source,
    splitting_moves_chosen_messages_to_a_linked_ticket,
    tickets_are_found_by_number_within_the_organization,
    search_finds_words_in_subjects_descriptions_and_messages,
    text_is_stored_as_written_and_rendered_safely,
);

impl TestApp {
    pub(crate) async fn new_ticket(&self, token: &str, subject: &str) -> Value {
        let body = json!({"subject": subject, "description": "Details of the problem"});
        expect_json(
            self.post_json("/api/v1/tickets", token, body).await,
            StatusCode::CREATED,
        )
        .await
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn customer_creates_and_follows_only_their_own_tickets(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let other = app.bearer("customer2@acme.test").await;
    let body =
        json!({"subject": "  Printer on fire ", "description": "It smokes.", "priority": "high"});
    let ticket = expect_json(
        app.post_json("/api/v1/tickets", &customer, body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ticket["subject"], "Printer on fire");
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["channel"], "portal");
    assert!(
        ticket["display_number"]
            .as_str()
            .unwrap()
            .starts_with("TCK-")
    );
    let created_at = ticket["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok(),
        "{created_at}"
    );
    let second = app.new_ticket(&customer, "Second").await;
    assert_eq!(
        second["number"].as_i64().unwrap(),
        ticket["number"].as_i64().unwrap() + 1
    );

    let id = ticket["id"].as_str().unwrap();
    let fetched = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &customer).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched, ticket);
    // Another customer of the same organization: not found, and not listed.
    expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &other).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = expect_json(app.get("/api/v1/tickets", &other).await, StatusCode::OK).await;
    assert!(ids(&theirs).is_empty());
    let mine = expect_json(app.get("/api/v1/tickets", &customer).await, StatusCode::OK).await;
    assert_eq!(ids(&mine).len(), 2);
    // A customer cannot file on someone else's behalf or assign.
    let agent_id = app.tokens("agent@acme.test").await["user"]["id"].clone();
    let body = json!({"subject": "x", "description": "y", "assignee_id": agent_id});
    expect_json(
        app.post_json("/api/v1/tickets", &customer, body).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn internal_notes_never_reach_customers(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "Cannot log in").await;
    let id = ticket["id"].as_str().unwrap();
    let comments = format!("/api/v1/tickets/{id}/comments");

    let note = json!({"body": "Customer is on the legacy plan", "public": false});
    let note = expect_json(
        app.post_json(&comments, &agent, note).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(note["public"], false);
    assert_eq!(note["author_name"], "Alex Agent");
    let reply = json!({"body": "Please try resetting your password.", "public": true});
    expect_json(
        app.post_json(&comments, &agent, reply).await,
        StatusCode::CREATED,
    )
    .await;

    let staff_view = expect_json(app.get(&comments, &agent).await, StatusCode::OK).await;
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 2);
    let customer_view = expect_json(app.get(&comments, &customer).await, StatusCode::OK).await;
    let items = customer_view["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["body"], "Please try resetting your password.");
    assert!(!customer_view.to_string().contains("legacy plan"));
    // Customers cannot write internal notes, nor read the audit trail.
    let sneaky = json!({"body": "note to self", "public": false});
    expect_json(
        app.post_json(&comments, &customer, sneaky).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), &customer)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The first public reply is the first response and opened the ticket.
    let now = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &customer).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["status"], "open");
    assert!(now["first_response_at"].is_string());
}

async fn every_change_is_audited_with_its_source(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent_tokens = app.tokens("agent@acme.test").await;
    let agent = agent_tokens["access_token"].as_str().unwrap();
    let agent_id = agent_tokens["user"]["id"].as_str().unwrap();
    let ticket = app.new_ticket(&customer, "Refund please").await;
    let id = ticket["id"].as_str().unwrap();

    let assigned = app
        .post_json(
            &format!("/api/v1/tickets/{id}/assign"),
            agent,
            json!({"assignee_id": agent_id}),
        )
        .await;
    assert_eq!(
        expect_json(assigned, StatusCode::OK).await["assignee_id"],
        agent_id
    );
    let patch = json!({"priority": "urgent", "tags": ["billing", "vip"]});
    let patched = expect_json(
        app.patch_json(&format!("/api/v1/tickets/{id}"), agent, patch)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["priority"], "urgent");
    let status = app
        .client
        .put(app.url(&format!("/api/v1/tickets/{id}/status")))
        .bearer_auth(agent)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    let resolved = expect_json(status, StatusCode::OK).await;
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_string());
    // Unassign with an explicit null.
    let unassigned = app
        .patch_json(
            &format!("/api/v1/tickets/{id}"),
            agent,
            json!({"assignee_id": null}),
        )
        .await;
    assert!(expect_json(unassigned, StatusCode::OK).await["assignee_id"].is_null());

    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let lines: Vec<(String, Option<String>, Option<String>, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["old"].as_str().map(str::to_owned),
                e["new"].as_str().map(str::to_owned),
                e["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        lines,
        vec![
            ("ticket".into(), None, s("created"), "api".into()),
            ("assignee_id".into(), None, s(agent_id), "api".into()),
            ("priority".into(), s("medium"), s("urgent"), "api".into()),
            ("tags".into(), s(""), s("billing,vip"), "api".into()),
            ("status".into(), s("new"), s("resolved"), "api".into()),
            ("assignee_id".into(), s(agent_id), None, "api".into()),
        ]
    );
    assert_eq!(history["items"][1]["actor_name"], "Alex Agent");

    // Every change also left a domain event in the outbox, in the same transaction.
    let topics = outbox_topics(&app, id).await;
    assert_eq!(
        topics,
        [
            "ticket.created",
            "ticket.assigned",
            "ticket.updated",
            "ticket.updated",
            "ticket.updated"
        ]
    );

    // A no-op change records nothing.
    let same = app
        .patch_json(
            &format!("/api/v1/tickets/{id}"),
            agent,
            json!({"priority": "urgent"}),
        )
        .await;
    expect_json(same, StatusCode::OK).await;
    assert_eq!(outbox_topics(&app, id).await.len(), 5);
}

async fn queues_filter_and_page_with_a_cursor(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent_tokens = app.tokens("agent@acme.test").await;
    let agent = agent_tokens["access_token"].as_str().unwrap();
    let agent_id = agent_tokens["user"]["id"].as_str().unwrap();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            app.new_ticket(&customer, &format!("Issue {i}{i} with 100% CPU_load"))
                .await,
        );
    }
    let first = created[0]["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/tickets/{first}/assign"),
        agent,
        json!({"assignee_id": agent_id}),
    )
    .await;
    let second = created[1]["id"].as_str().unwrap();
    app.patch_json(
        &format!("/api/v1/tickets/{second}"),
        agent,
        json!({"status": "pending", "tags": ["vip"]}),
    )
    .await;

    // Newest first, 3 per page, walked with the cursor.
    let mut walked = Vec::new();
    let mut path = "/api/v1/tickets?limit=3".to_owned();
    loop {
        let page = expect_json(app.get(&path, agent).await, StatusCode::OK).await;
        walked.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/tickets?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let mut expected: Vec<String> = created
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    expected.reverse();
    assert_eq!(walked, expected);

    let oldest = expect_json(
        app.get("/api/v1/tickets?sort=created_at&limit=1", agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&oldest), [first]);
    let mine = expect_json(
        app.get("/api/v1/tickets?assignee=me", agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&mine), [first]);
    let unassigned = expect_json(
        app.get("/api/v1/tickets?assignee=none", agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&unassigned).len(), 6);
    let pending = expect_json(
        app.get("/api/v1/tickets?status=pending", agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&pending), [second]);
    let vip = expect_json(
        app.get("/api/v1/tickets?tag=VIP", agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&vip), [second]);
    let search = expect_json(
        app.get("/api/v1/tickets?q=issue%2033", agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(search["items"][0]["subject"], "Issue 33 with 100% CPU_load");
    assert_eq!(ids(&search).len(), 1);
    // Punctuation is never query syntax: "100% CPU_" is the words 100 and cpu.
    let literal = expect_json(
        app.get("/api/v1/tickets?q=100%25%20CPU_", agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&literal).len(), 7);
    let none = expect_json(
        app.get("/api/v1/tickets?q=%25%25xy", agent).await,
        StatusCode::OK,
    )
    .await;
    assert!(ids(&none).is_empty());
}

async fn bad_ticket_input_gets_field_messages(app: TestApp) {
    let agent = app.bearer("agent@acme.test").await;
    let body = json!({"subject": "", "description": " ", "priority": "apocalyptic", "tags": ["two words"]});
    let err = expect_json(
        app.post_json("/api/v1/tickets", &agent, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["subject", "description", "priority", "tags"] {
        assert!(err["fields"][field].is_string(), "{field}: {err}");
    }
    let customer_id = app.tokens("customer@acme.test").await["user"]["id"].clone();
    let body = json!({"subject": "s", "description": "d", "requester_id": customer_id, "assignee_id": customer_id});
    let err = expect_json(
        app.post_json("/api/v1/tickets", &agent, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        err["fields"]["assignee_id"].is_string(),
        "customers cannot be assignees: {err}"
    );

    let ticket = app.new_ticket(&agent, "Valid").await;
    let id = ticket["id"].as_str().unwrap();
    let err = expect_json(
        app.patch_json(
            &format!("/api/v1/tickets/{id}"),
            &agent,
            json!({"status": "done"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["status"].is_string());
    expect_json(
        app.patch_json(
            &format!("/api/v1/tickets/{id}"),
            &agent,
            json!({"colour": "red"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let empty = json!({"body": "   "});
    let err = expect_json(
        app.post_json(&format!("/api/v1/tickets/{id}/comments"), &agent, empty)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["body"].is_string());
    for bad in [
        "limit=0",
        "status=nope",
        "assignee=someone",
        "sort=subject",
        "cursor=garbage",
    ] {
        expect_json(
            app.get(&format!("/api/v1/tickets?{bad}"), &agent).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Nothing half-written: the failed create left no ticket behind.
    let all = expect_json(
        app.get("/api/v1/tickets?status=all", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&all), [id]);
}

async fn another_organizations_ticket_is_not_found(app: TestApp) {
    let acme_customer = app.bearer("customer@acme.test").await;
    let globex_agent = app.bearer("agent@globex.test").await;
    let ticket = app.new_ticket(&acme_customer, "Acme secret").await;
    let id = ticket["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/tickets/{id}"),
        format!("/api/v1/tickets/{id}/comments"),
        format!("/api/v1/tickets/{id}/history"),
    ] {
        let body = expect_json(app.get(&path, &globex_agent).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"], "Not found");
    }
    let patch = app
        .patch_json(
            &format!("/api/v1/tickets/{id}"),
            &globex_agent,
            json!({"priority": "low"}),
        )
        .await;
    expect_json(patch, StatusCode::NOT_FOUND).await;
    let reply = app
        .post_json(
            &format!("/api/v1/tickets/{id}/comments"),
            &globex_agent,
            json!({"body": "hi"}),
        )
        .await;
    expect_json(reply, StatusCode::NOT_FOUND).await;
    let listed = expect_json(
        app.get("/api/v1/tickets?status=all", &globex_agent).await,
        StatusCode::OK,
    )
    .await;
    assert!(ids(&listed).is_empty());
    expect_json(
        app.get("/api/v1/tickets/not-a-uuid", &globex_agent).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Assigning to another organization's agent is refused too.
    let globex_agent_id = app.tokens("agent@globex.test").await["user"]["id"].clone();
    let acme_agent = app.bearer("agent@acme.test").await;
    let assign = app
        .post_json(
            &format!("/api/v1/tickets/{id}/assign"),
            &acme_agent,
            json!({"assignee_id": globex_agent_id}),
        )
        .await;
    expect_json(assign, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn closed_tickets_are_final_and_customers_cannot_triage(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "Done soon").await;
    let id = ticket["id"].as_str().unwrap();
    let path = format!("/api/v1/tickets/{id}");
    expect_json(
        app.patch_json(&path, &customer, json!({"priority": "urgent"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(
        app.patch_json(&path, &customer, json!({"status": "resolved"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let reopened = expect_json(
        app.patch_json(&path, &customer, json!({"status": "open"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(reopened["resolved_at"].is_null());
    let closed = expect_json(
        app.patch_json(&path, &agent, json!({"status": "closed"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(closed["closed_at"].is_string());
    let err = expect_json(
        app.patch_json(&path, &agent, json!({"status": "open"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(err["error"].as_str().unwrap().contains("closed"));
    let reply = app
        .post_json(
            &format!("{path}/comments"),
            &customer,
            json!({"body": "one more thing"}),
        )
        .await;
    expect_json(reply, StatusCode::CONFLICT).await;
}

async fn the_requester_rates_a_resolved_ticket(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let other = app.bearer("customer2@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "Rate me").await;
    let id = ticket["id"].as_str().unwrap();
    let rating = format!("/api/v1/tickets/{id}/rating");

    let early = app.post_json(&rating, &customer, json!({"score": 5})).await;
    expect_json(early, StatusCode::CONFLICT).await;
    app.patch_json(
        &format!("/api/v1/tickets/{id}"),
        &agent,
        json!({"status": "resolved"}),
    )
    .await;

    let bad = app.post_json(&rating, &customer, json!({"score": 9})).await;
    assert!(
        expect_json(bad, StatusCode::UNPROCESSABLE_ENTITY).await["fields"]["score"].is_string()
    );
    let missing = app.post_json(&rating, &customer, json!({})).await;
    expect_json(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Only the requester rates: staff are refused, other customers do not even see it.
    expect_json(
        app.post_json(&rating, &agent, json!({"score": 1})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(
        app.post_json(&rating, &other, json!({"score": 1})).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let rated = app
        .post_json(
            &rating,
            &customer,
            json!({"score": 4, "comment": "Quick and friendly"}),
        )
        .await;
    let rated = expect_json(rated, StatusCode::OK).await;
    assert_eq!(
        rated["satisfaction"],
        json!({"score": 4, "comment": "Quick and friendly"})
    );
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "satisfaction_score" && e["new"] == "4")
    );
    assert_eq!(
        outbox_topics(&app, id).await.last().unwrap(),
        "ticket.rated"
    );
}

async fn staff_escalate_with_a_reason_once(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let manager = app.bearer("manager@acme.test").await;
    let globex = app.bearer("agent@globex.test").await;
    let ticket = app.new_ticket(&customer, "Outage at the main office").await;
    let id = ticket["id"].as_str().unwrap();
    let url = format!("/api/v1/tickets/{id}/escalate");

    let err = app.post_json(&url, &agent, json!({})).await;
    let err = expect_json(err, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(err["fields"]["reason"].is_string());
    expect_json(
        app.post_json(&url, &customer, json!({"reason": "hurry"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(
        app.post_json(&url, &globex, json!({"reason": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let escalated = app
        .post_json(&url, &agent, json!({"reason": "Whole office is down"}))
        .await;
    let escalated = expect_json(escalated, StatusCode::OK).await;
    assert_eq!(escalated["escalation_reason"], "Whole office is down");
    assert!(escalated["escalated_at"].is_string());
    // The hand-off and its reason are internal: the customer never receives them.
    let seen = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &customer).await,
        StatusCode::OK,
    )
    .await;
    assert!(seen["escalation_reason"].is_null() && seen["escalated_at"].is_null());
    let listed = expect_json(app.get("/api/v1/tickets", &customer).await, StatusCode::OK).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["escalation_reason"].is_null())
    );
    expect_json(
        app.post_json(&url, &manager, json!({"reason": "again"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // The managers' Escalated view lists it; others do not.
    let other = app.new_ticket(&customer, "Not urgent").await;
    let page = expect_json(
        app.get("/api/v1/tickets?escalated=true", &manager).await,
        StatusCode::OK,
    )
    .await;
    let listed = ids(&page);
    assert_eq!(listed, [id.to_owned()]);
    assert!(!listed.contains(&other["id"].as_str().unwrap().to_owned()));
    let bad = app.get("/api/v1/tickets?escalated=maybe", &manager).await;
    expect_json(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        outbox_topics(&app, id).await.last().unwrap(),
        "ticket.escalated"
    );
}

async fn only_admins_delete_and_deleted_tickets_are_gone(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let admin = app.bearer("admin@acme.test").await;
    let globex_admin = app.bearer("admin@globex.test").await;
    let ticket = app.new_ticket(&customer, "Delete me").await;
    let id = ticket["id"].as_str().unwrap();
    let url = format!("/api/v1/tickets/{id}");
    let delete = |token: String| {
        let req = app.client.delete(app.url(&url)).bearer_auth(token);
        async move { req.send().await.unwrap() }
    };

    expect_json(delete(customer.clone()).await, StatusCode::FORBIDDEN).await;
    expect_json(delete(agent.clone()).await, StatusCode::FORBIDDEN).await;
    expect_json(delete(globex_admin).await, StatusCode::NOT_FOUND).await;
    assert_eq!(delete(admin.clone()).await.status(), StatusCode::NO_CONTENT);

    // Gone from every view, for everyone; a second delete finds nothing.
    for token in [&customer, &agent, &admin] {
        expect_json(app.get(&url, token).await, StatusCode::NOT_FOUND).await;
        let page = expect_json(
            app.get("/api/v1/tickets?status=all", token).await,
            StatusCode::OK,
        )
        .await;
        assert!(!ids(&page).contains(&id.to_owned()));
    }
    expect_json(delete(admin).await, StatusCode::NOT_FOUND).await;
    // The audit trail keeps the deletion.
    assert_eq!(
        outbox_topics(&app, id).await.last().unwrap(),
        "ticket.deleted"
    );
}

async fn stats_count_what_the_caller_may_see(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let customer2 = app.bearer("customer2@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let globex = app.bearer("agent@globex.test").await;
    let a = app.new_ticket(&customer, "One").await;
    let b = app.new_ticket(&customer, "Two").await;
    app.new_ticket(&customer2, "Three").await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    // A public reply is the first response; resolving then rating completes one.
    let reply = app
        .post_json(
            &format!("/api/v1/tickets/{a}/comments"),
            &agent,
            json!({"body": "On it"}),
        )
        .await;
    expect_json(reply, StatusCode::CREATED).await;
    let resolve = app
        .patch_json(
            &format!("/api/v1/tickets/{a}"),
            &agent,
            json!({"status": "resolved"}),
        )
        .await;
    expect_json(resolve, StatusCode::OK).await;
    let rate = app
        .post_json(
            &format!("/api/v1/tickets/{a}/rating"),
            &customer,
            json!({"score": 4}),
        )
        .await;
    expect_json(rate, StatusCode::OK).await;
    let escalate = app
        .post_json(
            &format!("/api/v1/tickets/{b}/escalate"),
            &agent,
            json!({"reason": "VIP"}),
        )
        .await;
    expect_json(escalate, StatusCode::OK).await;

    let staff = expect_json(
        app.get("/api/v1/tickets/stats", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(staff["total"], 3);
    assert_eq!(staff["by_status"]["new"], 2);
    assert_eq!(staff["by_status"]["resolved"], 1);
    assert_eq!(staff["by_status"]["closed"], 0);
    assert_eq!(staff["open"], 2);
    assert_eq!(staff["unassigned_open"], 2);
    assert_eq!(staff["escalated_open"], 1);
    assert_eq!(staff["open_by_priority"]["medium"], 2);
    assert_eq!(staff["open_by_priority"]["urgent"], 0);
    assert_eq!(staff["created_in_window"], 3);
    assert_eq!(staff["resolved_in_window"], 1);
    assert_eq!(staff["rated"], 1);
    assert_eq!(staff["avg_satisfaction"], 4.0);
    let first_response = staff["avg_first_response_minutes"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&first_response), "{first_response}");
    assert!(staff["avg_resolution_minutes"].as_f64().is_some());

    // A customer's figures cover only their own tickets; another tenant sees none.
    let mine = expect_json(
        app.get("/api/v1/tickets/stats", &customer).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["total"], 2);
    let theirs = expect_json(
        app.get("/api/v1/tickets/stats", &customer2).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["rated"], 0);
    assert!(theirs["avg_satisfaction"].is_null());
    let other = expect_json(
        app.get("/api/v1/tickets/stats", &globex).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(other["total"], 0);
}

/// Escalation is internal: a customer's `escalated=true` filter narrows
/// nothing and their stats count no escalated tickets.
async fn escalation_stays_hidden_from_customers(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let escalated = app.new_ticket(&customer, "Escalated one").await;
    let plain = app.new_ticket(&customer, "Plain one").await;
    let escalated = escalated["id"].as_str().unwrap();
    let escalate = app
        .post_json(
            &format!("/api/v1/tickets/{escalated}/escalate"),
            &agent,
            json!({"reason": "VIP"}),
        )
        .await;
    expect_json(escalate, StatusCode::OK).await;

    let everything = expect_json(app.get("/api/v1/tickets", &customer).await, StatusCode::OK).await;
    for filter in ["escalated=true", "escalated=false"] {
        let page = app
            .get(&format!("/api/v1/tickets?{filter}"), &customer)
            .await;
        let page = expect_json(page, StatusCode::OK).await;
        assert_eq!(ids(&page), ids(&everything), "{filter}");
    }
    assert_eq!(ids(&everything).len(), 2);
    assert!(ids(&everything).contains(&plain["id"].as_str().unwrap().to_owned()));

    let mine = app.get("/api/v1/tickets/stats", &customer).await;
    let mine = expect_json(mine, StatusCode::OK).await;
    assert_eq!(mine["open"], 2);
    assert_eq!(mine["escalated_open"], 0);
    // Staff still get both.
    let staff = expect_json(
        app.get("/api/v1/tickets/stats", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(staff["escalated_open"], 1);
    let page = app.get("/api/v1/tickets?escalated=true", &agent).await;
    assert_eq!(ids(&expect_json(page, StatusCode::OK).await), [escalated]);
}

/// Tags are staff-only on update, so a customer may not set them at
/// creation either; staff may.
async fn customers_set_at_creation_only_what_they_may_change(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let tagged = json!({"subject": "Tagged", "description": "d", "tags": ["vip"]});
    expect_json(
        app.post_json("/api/v1/tickets", &customer, tagged.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let page = expect_json(app.get("/api/v1/tickets", &customer).await, StatusCode::OK).await;
    assert!(ids(&page).is_empty(), "a refused ticket was created");

    // The same rule as a later change.
    let ticket = app.new_ticket(&customer, "Untagged").await;
    let id = ticket["id"].as_str().unwrap();
    expect_json(
        app.patch_json(
            &format!("/api/v1/tickets/{id}"),
            &customer,
            json!({"tags": ["vip"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let by_staff = app.post_json("/api/v1/tickets", &agent, tagged).await;
    assert_eq!(
        expect_json(by_staff, StatusCode::CREATED).await["tags"],
        json!(["vip"])
    );
}

async fn comment(app: &TestApp, token: &str, ticket: &str, body: &str, public: bool) -> Value {
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{ticket}/comments"),
            token,
            json!({"body": body, "public": public}),
        )
        .await;
    expect_json(res, StatusCode::CREATED).await
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap().to_owned())
        .collect()
}

async fn merging_moves_the_conversation_and_closes_the_source(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let customer2 = app.bearer("customer2@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let globex = app.bearer("agent@globex.test").await;
    let source = app.new_ticket(&customer, "VPN down (duplicate)").await;
    let target = app.new_ticket(&customer, "VPN down").await;
    let stranger = app.new_ticket(&customer2, "Someone else's VPN").await;
    let (s, t) = (
        source["id"].as_str().unwrap(),
        target["id"].as_str().unwrap(),
    );
    comment(&app, &customer, s, "Still down after reboot", true).await;
    comment(&app, &agent, s, "Router firmware is old", false).await;
    let url = format!("/api/v1/tickets/{s}/merge");

    // Bad input and foreign ids first: nothing changes.
    let missing = expect_json(
        app.post_json(&url, &agent, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(missing["fields"]["target_id"].is_string());
    let itself = app.post_json(&url, &agent, json!({"target_id": s})).await;
    expect_json(itself, StatusCode::UNPROCESSABLE_ENTITY).await;
    let other_requester = app
        .post_json(&url, &agent, json!({"target_id": stranger["id"]}))
        .await;
    let err = expect_json(other_requester, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        err["fields"]["target_id"]
            .as_str()
            .unwrap()
            .contains("same requester")
    );
    let unknown = app
        .post_json(&url, &agent, json!({"target_id": uuid::Uuid::now_v7()}))
        .await;
    expect_json(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
    expect_json(
        app.post_json(&url, &customer, json!({"target_id": t}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(
        app.post_json(&url, &globex, json!({"target_id": t})).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let merged = expect_json(
        app.post_json(&url, &agent, json!({"target_id": t})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(merged["id"], t);

    // The source is closed and points at the target.
    let closed = expect_json(
        app.get(&format!("/api/v1/tickets/{s}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["merged_into_id"], t);
    // The target carries the whole conversation; the customer still never sees the note.
    let staff_view = expect_json(
        app.get(&format!("/api/v1/tickets/{t}/comments"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let staff_bodies = bodies(&staff_view);
    assert!(staff_bodies.contains(&"Still down after reboot".to_owned()));
    assert!(staff_bodies.contains(&"Router firmware is old".to_owned()));
    assert!(staff_bodies.iter().any(|b| b.starts_with("Merged TCK-")));
    let customer_view = expect_json(
        app.get(&format!("/api/v1/tickets/{t}/comments"), &customer)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bodies(&customer_view), ["Still down after reboot"]);
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{t}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "merged_from")
    );
    assert_eq!(
        outbox_topics(&app, s).await.last().unwrap(),
        "ticket.merged"
    );
    // A closed (merged) ticket cannot be merged again.
    let again = app.post_json(&url, &agent, json!({"target_id": t})).await;
    expect_json(again, StatusCode::CONFLICT).await;
}

async fn splitting_moves_chosen_messages_to_a_linked_ticket(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let parent = app.new_ticket(&customer, "Laptop and printer").await;
    let p = parent["id"].as_str().unwrap();
    let keep = comment(&app, &customer, p, "Laptop battery drains fast", true).await;
    let moved = comment(&app, &customer, p, "Also the printer jams", true).await;
    let url = format!("/api/v1/tickets/{p}/split");

    let empty = app
        .post_json(
            &url,
            &agent,
            json!({"comment_ids": [], "subject": "Printer jams"}),
        )
        .await;
    let err = expect_json(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(err["fields"]["comment_ids"].is_string());
    let no_subject = app
        .post_json(
            &url,
            &agent,
            json!({"comment_ids": [moved["id"]], "subject": " "}),
        )
        .await;
    expect_json(no_subject, StatusCode::UNPROCESSABLE_ENTITY).await;
    let foreign = app
        .post_json(
            &url,
            &agent,
            json!({"comment_ids": [uuid::Uuid::now_v7()], "subject": "x"}),
        )
        .await;
    expect_json(foreign, StatusCode::UNPROCESSABLE_ENTITY).await;
    let by_customer = app
        .post_json(
            &url,
            &customer,
            json!({"comment_ids": [moved["id"]], "subject": "x"}),
        )
        .await;
    expect_json(by_customer, StatusCode::FORBIDDEN).await;

    let child = app
        .post_json(
            &url,
            &agent,
            json!({"comment_ids": [moved["id"]], "subject": "Printer jams"}),
        )
        .await;
    let child = expect_json(child, StatusCode::CREATED).await;
    assert_eq!(child["subject"], "Printer jams");
    assert_eq!(child["parent_id"], p);
    assert_eq!(child["requester_id"], parent["requester_id"]);
    let c = child["id"].as_str().unwrap();

    let parent_msgs = expect_json(
        app.get(&format!("/api/v1/tickets/{p}/comments"), &customer)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bodies(&parent_msgs), [keep["body"].as_str().unwrap()]);
    let child_msgs = expect_json(
        app.get(&format!("/api/v1/tickets/{c}/comments"), &customer)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bodies(&child_msgs), ["Also the printer jams"]);
    // The customer sees the new ticket in their list; both trails record it.
    let mine = expect_json(app.get("/api/v1/tickets", &customer).await, StatusCode::OK).await;
    assert!(ids(&mine).contains(&c.to_owned()));
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{p}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "split_to" && e["new"] == c)
    );
    assert_eq!(outbox_topics(&app, p).await.last().unwrap(), "ticket.split");
    assert_eq!(outbox_topics(&app, c).await, ["ticket.created"]);
}

async fn tickets_are_found_by_number_within_the_organization(app: TestApp) {
    use fieldesk::server::db::{orgs, tickets};
    let customer = app.bearer("customer@acme.test").await;
    let admin = app.bearer("admin@acme.test").await;
    let globex = app.bearer("customer@globex.test").await;
    let acme_org = orgs::find_by_slug(&app.state.db, "acme")
        .await
        .unwrap()
        .unwrap()
        .id;
    let globex_org = orgs::find_by_slug(&app.state.db, "globex")
        .await
        .unwrap()
        .unwrap()
        .id;
    let ours = app.new_ticket(&customer, "Numbered").await;
    let theirs = app.new_ticket(&globex, "Numbered elsewhere").await;
    let number = ours["number"].as_i64().unwrap();

    let found = tickets::find_by_number(&app.state.db, acme_org, number)
        .await
        .unwrap()
        .expect("found by number");
    assert_eq!(found.id.to_string(), ours["id"].as_str().unwrap());
    // Numbers are per organization: the same number elsewhere is another ticket.
    let other = tickets::find_by_number(
        &app.state.db,
        globex_org,
        theirs["number"].as_i64().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(other.id.to_string(), theirs["id"].as_str().unwrap());
    let unused = tickets::find_by_number(&app.state.db, acme_org, 999_999)
        .await
        .unwrap();
    assert!(unused.is_none());

    // A deleted ticket is not found by its number either.
    let url = format!("/api/v1/tickets/{}", ours["id"].as_str().unwrap());
    let res = app
        .client
        .delete(app.url(&url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let gone = tickets::find_by_number(&app.state.db, acme_org, number)
        .await
        .unwrap();
    assert!(gone.is_none());
}

async fn search_finds_words_in_subjects_descriptions_and_messages(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let customer2 = app.bearer("customer2@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let globex = app.bearer("agent@globex.test").await;
    let by_subject = app
        .new_ticket(&customer, "Café espresso machine broken")
        .await;
    let by_message = app.new_ticket(&customer, "Something else").await;
    let by_note = app.new_ticket(&customer, "Third thing").await;
    let theirs = app
        .new_ticket(&customer2, "Espresso for customer two")
        .await;
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
    comment(
        &app,
        &customer,
        &id(&by_message),
        "The thermostat display flickers",
        true,
    )
    .await;
    comment(
        &app,
        &agent,
        &id(&by_note),
        "Supplier recall zebra123 applies",
        false,
    )
    .await;
    let search = |token: String, q: &'static str| {
        let url = format!("/api/v1/tickets?status=all&q={q}");
        let app = &app;
        async move { ids(&expect_json(app.get(&url, &token).await, StatusCode::OK).await) }
    };

    // Subject words, any case, accents or not, as prefixes.
    assert_eq!(
        search(agent.clone(), "ESPRESS").await,
        [id(&by_subject), id(&theirs)]
            .iter()
            .rev()
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        search(agent.clone(), "cafe%20machine").await,
        [id(&by_subject)]
    );
    // Words of the description and of messages count too.
    assert_eq!(
        search(agent.clone(), "thermostat%20flick").await,
        [id(&by_message)]
    );
    assert_eq!(search(agent.clone(), "details%20problem").await.len(), 4);
    // Internal notes are searchable by staff only.
    assert_eq!(search(agent.clone(), "zebra123").await, [id(&by_note)]);
    assert!(search(customer.clone(), "zebra123").await.is_empty());
    // Customers search their own tickets only; other tenants find nothing.
    assert_eq!(
        search(customer.clone(), "espresso").await,
        [id(&by_subject)]
    );
    assert_eq!(search(customer2.clone(), "espresso").await, [id(&theirs)]);
    assert!(search(globex.clone(), "espresso").await.is_empty());
    // Query syntax and SQL in the box are just words.
    assert!(
        search(agent.clone(), "%22zebra%22%20OR%20*%20NEAR(")
            .await
            .is_empty()
    );
    assert!(
        search(agent.clone(), "%27%3B%20DROP%20TABLE%20tickets%3B--")
            .await
            .is_empty()
    );
    // One-letter words are left out (each matches nearly every message,
    // all of which the index would hand over); a search with nothing longer
    // is refused, for customers and staff alike.
    assert_eq!(
        search(customer.clone(), "a%20espresso%20x").await,
        [id(&by_subject)]
    );
    for token in [&customer, &agent] {
        for q in ["e", "a%20b%20%C3%A9", "%25%25"] {
            let url = format!("/api/v1/tickets?status=all&q={q}");
            let err =
                expect_json(app.get(&url, token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(err["fields"]["q"].is_string(), "{q}: {err}");
        }
    }

    // A full page comes from the newest hits (PostgreSQL checks the newest
    // tickets one by one first) and pages on by cursor; notes stay staff-only.
    comment(&app, &agent, &id(&by_message), "zebra123 again", false).await;
    let url = "/api/v1/tickets?status=all&limit=1&q=zebra123";
    let first = expect_json(app.get(url, &agent).await, StatusCode::OK).await;
    assert_eq!(ids(&first), [id(&by_note)]);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = expect_json(
        app.get(&format!("{url}&cursor={cursor}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&second), [id(&by_message)]);
    assert!(second["next_cursor"].is_null());
    let theirs_page = expect_json(app.get(url, &customer).await, StatusCode::OK).await;
    assert!(ids(&theirs_page).is_empty());

    // A merged message is found on the ticket it moved to.
    let merge = app
        .post_json(
            &format!("/api/v1/tickets/{}/merge", id(&by_message)),
            &agent,
            json!({"target_id": id(&by_subject)}),
        )
        .await;
    expect_json(merge, StatusCode::OK).await;
    assert_eq!(search(agent.clone(), "thermostat").await, [id(&by_subject)]);
    // An edited subject is found by its new words only.
    let patch = app
        .patch_json(
            &format!("/api/v1/tickets/{}", id(&by_note)),
            &agent,
            json!({"subject": "Renamed gadget"}),
        )
        .await;
    expect_json(patch, StatusCode::OK).await;
    assert_eq!(search(agent.clone(), "gadget").await, [id(&by_note)]);
    assert!(search(agent.clone(), "third").await.is_empty());
}

/// Markdown and raw HTML a hostile user might type, and what must never
/// reach a page from it.
const HOSTILE: &str = "Invoice **42** is blank.\n\
    <script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">\
    [details](javascript:window.pwned=3) <a href=\"JaVaScRiPt:alert(4)\">more</a>\
    <b onmouseover=\"alert(5)\">hover</b> <iframe src=\"https://evil.test\"></iframe>\
    <svg onload=alert(6)></svg> <p style=\"color:red\">styled</p>";

/// No markup from `HOSTILE` that a browser would act on.
fn assert_defused(html: &str) {
    let lower = html.to_lowercase();
    for banned in [
        "<script>window.pwned",
        "<img",
        "<iframe",
        "<svg",
        "<b onmouseover",
        "href=\"javascript",
        "<p style",
    ] {
        assert!(!lower.contains(banned), "{banned:?} survived in {html}");
    }
}

async fn text_is_stored_as_written_and_rendered_safely(app: TestApp) {
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let body = json!({"subject": "Blank invoice", "description": HOSTILE});
    let ticket = expect_json(
        app.post_json("/api/v1/tickets", &customer, body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ticket["description"], HOSTILE, "stored as written");
    let id = ticket["id"].as_str().unwrap();
    let comments = format!("/api/v1/tickets/{id}/comments");
    let reply = json!({"body": HOSTILE, "public": true});
    let reply = expect_json(
        app.post_json(&comments, &agent, reply).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(reply["body"], HOSTILE);
    let listed = expect_json(app.get(&comments, &customer).await, StatusCode::OK).await;
    for comment in [&reply, &listed["items"][0]] {
        let html = comment["body_html"].as_str().unwrap();
        assert!(html.contains("<strong>42</strong>"), "{html}");
        assert!(html.contains("<b>hover</b>"), "{html}");
        assert_defused(html);
        // No hostile attribute survives anywhere in the HTML (a link that
        // Markdown left as text may still read "javascript:", harmlessly).
        for gone in ["onerror", "onload", "onmouseover", "style="] {
            assert!(!html.to_lowercase().contains(gone), "{gone} in {html}");
        }
    }

    // The pages, as each side's browser gets them (hydration data included).
    for (email, path) in [
        ("customer@acme.test", format!("/portal/tickets/{id}")),
        ("agent@acme.test", format!("/desk/tickets/{id}")),
    ] {
        let browser = app.browser(email).await;
        let res = browser
            .get(app.url(&path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.matches("<strong>42</strong>").count() >= 2,
            "{path}: description and reply rendered"
        );
        assert_defused(&html);
    }
}
