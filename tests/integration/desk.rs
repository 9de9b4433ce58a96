//! Desk setup (teams, skills, categories, custom fields, companies, canned
//! responses, saved views) and what tickets do with it: assignment, filters,
//! bulk changes, managers' ratings of agents.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    admins_set_up_the_desk_and_others_may_only_read,
    tickets_carry_category_team_severity_company_and_custom_fields,
    assignment_by_agent_team_round_robin_least_loaded_and_skills,
    queues_filter_by_team_category_channel_severity_and_dates,
    saved_views_belong_to_their_owner,
    bulk_changes_go_through_the_change_path_ticket_by_ticket,
    managers_rate_agents_and_canned_responses_fill_placeholders,
);

impl TestApp {
    pub(crate) async fn put_json(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn created(&self, path: &str, token: &str, body: Value) -> Value {
        expect_json(self.post_json(path, token, body).await, StatusCode::CREATED).await
    }

    /// The id of a demo user, looked up as the admin sees them.
    async fn user_id(&self, admin: &str, email: &str) -> String {
        let users = expect_json(self.get("/api/v1/users", admin).await, StatusCode::OK).await;
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("{email} not listed"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

fn item_ids(page: &Value) -> Vec<String> {
    items(page)
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn admins_set_up_the_desk_and_others_may_only_read(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let globex = app.bearer("admin@globex.test").await;
    let alex = app.user_id(&admin, "agent@acme.test").await;
    let chris = app.user_id(&admin, "customer@acme.test").await;

    // Agents read the setup but cannot change it.
    let res = app
        .post_json("/api/v1/teams", &agent, json!({"name": "Billing"}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let team = app
        .created(
            "/api/v1/teams",
            &admin,
            json!({"name": " Billing ", "assignment": "least_loaded", "member_ids": [alex]}),
        )
        .await;
    assert_eq!(team["name"], "Billing");
    assert_eq!(team["assignment"], "least_loaded");
    assert_eq!(team["member_ids"], json!([alex]));
    let listed = expect_json(app.get("/api/v1/teams", &agent).await, StatusCode::OK).await;
    assert_eq!(item_ids(&listed), [team["id"].as_str().unwrap()]);

    // Field-level messages; the same name twice is a conflict.
    let bad = expect_json(
        app.post_json(
            "/api/v1/teams",
            &admin,
            json!({"name": "", "assignment": "random", "member_ids": [chris]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["name", "assignment", "member_ids"] {
        assert!(bad["fields"][field].is_string(), "{field}: {bad}");
    }
    let dup = expect_json(
        app.post_json("/api/v1/teams", &admin, json!({"name": "billing"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(dup["fields"]["name"].is_string());

    // Another organization's team cannot be named, nor changed.
    let team_path = format!("/api/v1/teams/{}", team["id"].as_str().unwrap());
    let res = app
        .patch_json(&team_path, &globex, json!({"name": "Mine now"}))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let foreign = expect_json(
        app.post_json(
            "/api/v1/categories",
            &globex,
            json!({"name": "Invoices", "team_id": team["id"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(foreign["fields"]["team_id"].is_string());

    let renamed = expect_json(
        app.patch_json(&team_path, &admin, json!({"name": "Billing & Refunds"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Billing & Refunds");
    assert_eq!(renamed["assignment"], "least_loaded");

    // Custom fields: kinds, options, visibility.
    let bad_field = expect_json(
        app.post_json(
            "/api/v1/ticket-fields",
            &admin,
            json!({"key": "Bad Key", "kind": "select", "label": "x", "options": []}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad_field["fields"]["key"].is_string() && bad_field["fields"]["options"].is_string());
    app.created(
        "/api/v1/ticket-fields",
        &admin,
        json!({"key": "order_no", "kind": "text", "label": "Order number", "customer_visible": true}),
    )
    .await;
    let internal = app
        .created(
            "/api/v1/ticket-fields",
            &admin,
            json!({"key": "churn_risk", "kind": "select", "label": "Churn risk", "options": ["low", "high"]}),
        )
        .await;
    let path = format!("/api/v1/ticket-fields/{}", internal["id"].as_str().unwrap());
    let res = app.patch_json(&path, &admin, json!({"kind": "text"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let seen_by = |token: String| {
        let app = &app;
        async move {
            let page = expect_json(
                app.get("/api/v1/ticket-fields", &token).await,
                StatusCode::OK,
            )
            .await;
            items(&page)
                .iter()
                .map(|f| f["key"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seen_by(agent.clone()).await, ["order_no", "churn_risk"]);
    assert_eq!(seen_by(customer.clone()).await, ["order_no"]);

    // Skills and an agent's proficiency.
    let skill = app
        .created("/api/v1/skills", &admin, json!({"name": "German"}))
        .await;
    let skills_path = format!("/api/v1/users/{alex}/skills");
    let bad_level = app
        .put_json(
            &skills_path,
            &admin,
            json!({"skills": [{"skill_id": skill["id"], "proficiency": 9}]}),
        )
        .await;
    assert_eq!(bad_level.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let set = app
        .put_json(
            &skills_path,
            &admin,
            json!({"skills": [{"skill_id": skill["id"], "proficiency": 4}]}),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let read = expect_json(app.get(&skills_path, &agent).await, StatusCode::OK).await;
    assert_eq!(items(&read)[0]["proficiency"], 4);
    let res = app.get(&skills_path, &globex).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Customers see categories (the portal form offers them), not teams.
    app.created("/api/v1/categories", &admin, json!({"name": "Invoices"}))
        .await;
    let cats = expect_json(
        app.get("/api/v1/categories", &customer).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&cats)[0]["name"], "Invoices");
    let res = app.get("/api/v1/teams", &customer).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.get("/api/v1/categories", &globex).await;
    assert!(items(&expect_json(res, StatusCode::OK).await).is_empty());
}

async fn tickets_carry_category_team_severity_company_and_custom_fields(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let chris = app.user_id(&admin, "customer@acme.test").await;
    let team = app
        .created("/api/v1/teams", &admin, json!({"name": "Billing"}))
        .await;
    let category = app
        .created(
            "/api/v1/categories",
            &admin,
            json!({"name": "Invoices", "team_id": team["id"]}),
        )
        .await;
    let company = app
        .created("/api/v1/companies", &admin, json!({"name": "Initech"}))
        .await;
    let res = app
        .put_json(
            &format!("/api/v1/users/{chris}/company"),
            &admin,
            json!({"company_id": company["id"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for field in [
        json!({"key": "order_no", "kind": "text", "label": "Order", "required": true, "customer_visible": true}),
        json!({"key": "units", "kind": "number", "label": "Units", "customer_visible": true}),
        json!({"key": "churn_risk", "kind": "select", "label": "Churn", "options": ["low", "high"]}),
        json!({"key": "extras", "kind": "multi_select", "label": "Extras", "options": ["a", "b"]}),
        json!({"key": "renewal", "kind": "date", "label": "Renewal"}),
        json!({"key": "vip", "kind": "checkbox", "label": "VIP"}),
    ] {
        app.created("/api/v1/ticket-fields", &admin, field).await;
    }

    // The required visible field must be filled in; hidden ones are not the customer's.
    let missing = expect_json(
        app.post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Invoice wrong", "description": "Twice charged", "category_id": category["id"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(missing["fields"]["custom_fields.order_no"].is_string());
    let hidden = expect_json(
        app.post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "s", "description": "d", "custom_fields": {"order_no": "A1", "vip": true}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(hidden["fields"]["custom_fields.vip"].is_string());
    let res = app
        .post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "s", "description": "d", "severity": "critical", "custom_fields": {"order_no": "A1"}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let ticket = app
        .created(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Invoice wrong", "description": "Twice charged",
                   "category_id": category["id"], "custom_fields": {"order_no": " A-100 ", "units": 2}}),
        )
        .await;
    assert_eq!(ticket["category_id"], category["id"]);
    assert_eq!(
        ticket["team_id"], team["id"],
        "the category routes to its team"
    );
    assert_eq!(ticket["company_id"], company["id"]);
    assert_eq!(ticket["severity"], Value::Null);
    assert_eq!(
        ticket["custom_fields"],
        json!({"order_no": "A-100", "units": 2})
    );
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());

    // Staff set severity and internal fields; every kind is checked.
    let bad = expect_json(
        app.patch_json(
            &path,
            &agent,
            json!({"custom_fields": {"churn_risk": "medium", "extras": ["c"], "renewal": "2026-13-01", "vip": "yes", "nope": 1}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in [
        "custom_fields.churn_risk",
        "custom_fields.extras",
        "custom_fields.renewal",
        "custom_fields.vip",
        "custom_fields.nope",
    ] {
        assert!(bad["fields"][field].is_string(), "{field}: {bad}");
    }
    let bad = expect_json(
        app.patch_json(&path, &agent, json!({"severity": "apocalyptic"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["fields"]["severity"].is_string());
    let cleared = expect_json(
        app.patch_json(&path, &agent, json!({"custom_fields": {"order_no": ""}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(cleared["fields"]["custom_fields.order_no"].is_string());
    let updated = expect_json(
        app.patch_json(
            &path,
            &agent,
            json!({"severity": "major", "custom_fields": {"churn_risk": "high", "extras": ["b", "a"], "renewal": "2027-01-31", "vip": true, "units": null}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["severity"], "major");
    assert_eq!(
        updated["custom_fields"],
        json!({"order_no": "A-100", "churn_risk": "high", "extras": ["a", "b"], "renewal": "2027-01-31", "vip": true})
    );

    // The customer never sees the internal fields, anywhere.
    let theirs = expect_json(app.get(&path, &customer).await, StatusCode::OK).await;
    assert_eq!(theirs["custom_fields"], json!({"order_no": "A-100"}));
    let listed = expect_json(
        app.get("/api/v1/tickets?status=all", &customer).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        items(&listed)[0]["custom_fields"],
        json!({"order_no": "A-100"})
    );
    let res = app
        .patch_json(&path, &customer, json!({"custom_fields": {"units": 3}}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Each field change is its own audit line.
    let history = expect_json(
        app.get(&format!("{path}/history"), &agent).await,
        StatusCode::OK,
    )
    .await;
    let lines: Vec<(String, Value, Value)> = items(&history)
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["old"].clone(),
                e["new"].clone(),
            )
        })
        .collect();
    assert!(lines.contains(&("severity".into(), Value::Null, json!("major"))));
    assert!(lines.contains(&(
        "custom_fields.churn_risk".into(),
        Value::Null,
        json!("high")
    )));
    assert!(lines.contains(&("custom_fields.units".into(), json!("2"), Value::Null)));
}

async fn assignment_by_agent_team_round_robin_least_loaded_and_skills(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let manager = app.bearer("manager@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let alex = app.user_id(&admin, "agent@acme.test").await;
    let jordan = app.user_id(&admin, "agent2@acme.test").await;
    let chris = app.user_id(&admin, "customer@acme.test").await;
    let team = app
        .created(
            "/api/v1/teams",
            &admin,
            json!({"name": "Tier 1", "member_ids": [alex, jordan]}),
        )
        .await;
    let team_path = format!("/api/v1/teams/{}", team["id"].as_str().unwrap());
    let other_team = app
        .created("/api/v1/teams", &admin, json!({"name": "Tier 2"}))
        .await;
    let mut tickets = Vec::new();
    for n in 0..6 {
        tickets.push(app.new_ticket(&customer, &format!("Ticket {n}")).await);
    }
    let assign = |n: usize, body: Value| {
        let app = &app;
        let manager = manager.clone();
        let id = tickets[n]["id"].as_str().unwrap().to_owned();
        async move {
            app.post_json(&format!("/api/v1/tickets/{id}/assign"), &manager, body)
                .await
        }
    };

    // Nothing asked, both named, unknown team, a customer as assignee: 422.
    for body in [
        json!({}),
        json!({"assignee_id": alex, "auto": true}),
        json!({"team_id": uuid::Uuid::now_v7()}),
        json!({"assignee_id": chris}),
    ] {
        let res = assign(0, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // The ticket has no team and none is named.
    let res = expect_json(
        assign(0, json!({"auto": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res["fields"]["team_id"].is_string());
    // Customers cannot assign.
    let id0 = tickets[0]["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id0}/assign"),
            &customer,
            json!({"assignee_id": alex}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Round-robin (the default) takes turns: Alex, Jordan, Alex.
    let mut got = Vec::new();
    for n in 0..3 {
        let t = expect_json(
            assign(n, json!({"team_id": team["id"], "auto": true})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(t["team_id"], team["id"]);
        got.push(t["assignee_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(got, [alex.clone(), jordan.clone(), alex.clone()]);

    // Least-loaded: Alex has 2 open, Jordan 1 — Jordan gets it.
    app.patch_json(&team_path, &admin, json!({"assignment": "least_loaded"}))
        .await;
    let t = expect_json(
        assign(3, json!({"team_id": team["id"], "auto": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["assignee_id"], jordan.as_str());

    // Skills: the category needs German; only Alex speaks it.
    let german = app
        .created("/api/v1/skills", &admin, json!({"name": "German"}))
        .await;
    let category = app
        .created(
            "/api/v1/categories",
            &admin,
            json!({"name": "DACH", "team_id": team["id"], "skill_id": german["id"]}),
        )
        .await;
    app.patch_json(&team_path, &admin, json!({"assignment": "skills"}))
        .await;
    let id4 = tickets[4]["id"].as_str().unwrap();
    let res = app
        .patch_json(
            &format!("/api/v1/tickets/{id4}"),
            &manager,
            json!({"category_id": category["id"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let nobody = expect_json(
        assign(4, json!({"auto": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(nobody["error"].is_string() && nobody["fields"]["team_id"].is_string());
    app.put_json(
        &format!("/api/v1/users/{alex}/skills"),
        &admin,
        json!({"skills": [{"skill_id": german["id"], "proficiency": 3}]}),
    )
    .await;
    // The category's team is used when the ticket has none of its own.
    let t = expect_json(assign(4, json!({"auto": true})).await, StatusCode::OK).await;
    assert_eq!(t["assignee_id"], alex.as_str());
    assert_eq!(t["team_id"], team["id"]);

    // Moving to a team the assignee is not in unassigns; naming an agent works as before.
    let t = expect_json(
        assign(4, json!({"team_id": other_team["id"]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["team_id"], other_team["id"]);
    assert_eq!(t["assignee_id"], Value::Null);
    let t = expect_json(
        assign(5, json!({"assignee_id": jordan})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["assignee_id"], jordan.as_str());
    let t = expect_json(
        assign(5, json!({"assignee_id": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["assignee_id"], Value::Null);
    // An empty team cannot take tickets.
    let empty = expect_json(
        assign(5, json!({"team_id": other_team["id"], "auto": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(empty["fields"]["team_id"].is_string());
    // Assignment is audited and published like any change.
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id0}/history"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    let fields: Vec<&str> = items(&history)
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"team_id") && fields.contains(&"assignee_id"));
    assert!(
        outbox_topics(&app, id0)
            .await
            .contains(&"ticket.assigned".to_owned())
    );
}

async fn queues_filter_by_team_category_channel_severity_and_dates(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let team = app
        .created("/api/v1/teams", &admin, json!({"name": "Field"}))
        .await;
    let category = app
        .created("/api/v1/categories", &admin, json!({"name": "Repairs"}))
        .await;
    let a = app
        .created(
            "/api/v1/tickets",
            &agent,
            json!({"subject": "Phone call", "description": "d", "channel": "phone", "team_id": team["id"], "severity": "critical"}),
        )
        .await;
    let b = app
        .created(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Broken", "description": "d", "category_id": category["id"]}),
        )
        .await;
    let c = app.new_ticket(&agent, "Plain").await;
    let list = |query: String| {
        let app = &app;
        let agent = agent.clone();
        async move {
            let res = app.get(&format!("/api/v1/tickets?{query}"), &agent).await;
            item_ids(&expect_json(res, StatusCode::OK).await)
        }
    };
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
    assert_eq!(list(format!("team={}", id(&team))).await, [id(&a)]);
    assert_eq!(list(format!("category={}", id(&category))).await, [id(&b)]);
    assert_eq!(list("channel=phone".into()).await, [id(&a)]);
    assert_eq!(list("channel=portal".into()).await, [id(&b)]);
    assert_eq!(list("severity=critical".into()).await, [id(&a)]);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(list(format!("created_from={today}")).await.len(), 3);
    assert!(
        list(format!("created_to={}", today.pred_opt().unwrap()))
            .await
            .is_empty()
    );
    assert!(
        list(format!("created_from={}", today.succ_opt().unwrap()))
            .await
            .is_empty()
    );

    // Recently updated first, paged by cursor on updated_at.
    app.patch_json(
        &format!("/api/v1/tickets/{}", id(&a)),
        &agent,
        json!({"priority": "high"}),
    )
    .await;
    let first = expect_json(
        app.get("/api/v1/tickets?sort=-updated_at&limit=2", &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(item_ids(&first), [id(&a), id(&c)]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = expect_json(
        app.get(
            &format!("/api/v1/tickets?sort=-updated_at&limit=2&cursor={cursor}"),
            &agent,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(item_ids(&rest), [id(&b)]);
    assert!(rest["next_cursor"].is_null());

    let bad = expect_json(
        app.get(
            "/api/v1/tickets?team=x&channel=fax&severity=mild&created_from=yesterday&sort=name",
            &agent,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["team", "channel", "severity", "created_from", "sort"] {
        assert!(bad["fields"][field].is_string(), "{field}: {bad}");
    }
}

async fn saved_views_belong_to_their_owner(app: TestApp) {
    let agent = app.bearer("agent@acme.test").await;
    let other = app.bearer("agent2@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let view = app
        .created(
            "/api/v1/views",
            &agent,
            json!({"name": "Urgent phone", "query": "?priority=urgent&channel=phone"}),
        )
        .await;
    assert_eq!(view["query"], "priority=urgent&channel=phone");
    let mine = expect_json(app.get("/api/v1/views", &agent).await, StatusCode::OK).await;
    assert_eq!(items(&mine).len(), 1);
    let theirs = expect_json(app.get("/api/v1/views", &other).await, StatusCode::OK).await;
    assert!(items(&theirs).is_empty());
    let bad = expect_json(
        app.post_json(
            "/api/v1/views",
            &agent,
            json!({"name": "", "query": "priority=whenever"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["fields"]["name"].is_string() && bad["fields"]["query"].is_string());
    let res = app
        .post_json(
            "/api/v1/views",
            &customer,
            json!({"name": "x", "query": ""}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let path = format!("/api/v1/views/{}", view["id"].as_str().unwrap());
    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

async fn bulk_changes_go_through_the_change_path_ticket_by_ticket(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let jordan = app.user_id(&admin, "agent2@acme.test").await;
    let a = app.new_ticket(&customer, "One").await;
    let b = app.new_ticket(&customer, "Two").await;
    let closed = app.new_ticket(&customer, "Three").await;
    let closed_id = closed["id"].as_str().unwrap();
    app.put_json(
        &format!("/api/v1/tickets/{closed_id}/status"),
        &agent,
        json!({"status": "closed"}),
    )
    .await;
    let ids = json!([a["id"], b["id"], closed["id"], uuid::Uuid::now_v7()]);
    let res = app
        .post_json(
            "/api/v1/tickets/bulk",
            &customer,
            json!({"ticket_ids": ids, "priority": "high"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let nothing = app
        .post_json("/api/v1/tickets/bulk", &agent, json!({"ticket_ids": ids}))
        .await;
    assert_eq!(nothing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let outcome = expect_json(
        app.post_json(
            "/api/v1/tickets/bulk",
            &agent,
            json!({"ticket_ids": ids, "priority": "urgent", "status": "pending",
                   "assignee_id": jordan, "add_tags": ["VIP"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let oks: Vec<bool> = items(&outcome)
        .iter()
        .map(|o| o["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(oks, [true, true, false, false]);
    assert!(
        items(&outcome)[2]["error"]["error"]
            .as_str()
            .unwrap()
            .contains("closed")
    );
    assert_eq!(items(&outcome)[3]["error"]["error"], "Not found");
    for t in [&a, &b] {
        let id = t["id"].as_str().unwrap();
        let now = expect_json(
            app.get(&format!("/api/v1/tickets/{id}"), &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(now["priority"], "urgent");
        assert_eq!(now["status"], "pending");
        assert_eq!(now["assignee_id"], jordan.as_str());
        assert_eq!(now["tags"], json!(["vip"]));
        assert_eq!(
            outbox_topics(&app, id).await.last().unwrap(),
            "ticket.updated"
        );
    }
}

async fn managers_rate_agents_and_canned_responses_fill_placeholders(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let alex = app.user_id(&admin, "agent@acme.test").await;
    let ticket = app.new_ticket(&customer, "Rate me").await;
    let id = ticket["id"].as_str().unwrap();
    let ratings = format!("/api/v1/tickets/{id}/agent-ratings");

    let unassigned = expect_json(
        app.post_json(&ratings, &manager, json!({"score": 4})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(unassigned["fields"]["agent_id"].is_string());
    app.post_json(
        &format!("/api/v1/tickets/{id}/assign"),
        &manager,
        json!({"assignee_id": alex}),
    )
    .await;
    for token in [&agent, &customer] {
        let res = app.post_json(&ratings, token, json!({"score": 5})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let bad = app.post_json(&ratings, &manager, json!({"score": 6})).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.created(&ratings, &manager, json!({"score": 2, "comment": "Slow"}))
        .await;
    let rating = app
        .created(
            &ratings,
            &manager,
            json!({"score": 4, "comment": " Good recovery "}),
        )
        .await;
    assert_eq!(rating["agent_id"], alex.as_str());
    assert_eq!(rating["comment"], "Good recovery");
    let listed = expect_json(app.get(&ratings, &agent).await, StatusCode::OK).await;
    assert_eq!(items(&listed).len(), 1, "rating again replaces");
    assert_eq!(items(&listed)[0]["score"], 4);
    let res = app.get(&ratings, &customer).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Canned responses: unknown placeholders are refused; known ones filled.
    let bad = expect_json(
        app.post_json(
            "/api/v1/canned-responses",
            &admin,
            json!({"title": "Hi", "body": "Hello {{customer.age}}"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        bad["fields"]["body"]
            .as_str()
            .unwrap()
            .contains("customer.age")
    );
    let res = app
        .post_json(
            "/api/v1/canned-responses",
            &agent,
            json!({"title": "Hi", "body": "Hello"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let canned = app
        .created(
            "/api/v1/canned-responses",
            &admin,
            json!({"title": "Greeting", "body": "Hi {{customer.first_name}} ({{ customer.name }}), about {{ticket.number}}: {{agent.name}}"}),
        )
        .await;
    let filled = expect_json(
        app.get(
            &format!(
                "/api/v1/tickets/{id}/canned-responses/{}",
                canned["id"].as_str().unwrap()
            ),
            &agent,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        filled["body"],
        format!(
            "Hi Chris (Chris Customer), about {}: Alex Agent",
            ticket["display_number"].as_str().unwrap()
        )
    );
    let res = app
        .get(
            &format!(
                "/api/v1/tickets/{id}/canned-responses/{}",
                canned["id"].as_str().unwrap()
            ),
            &customer,
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let globex = app.bearer("agent@globex.test").await;
    let res = app
        .get(
            &format!(
                "/api/v1/tickets/{id}/canned-responses/{}",
                canned["id"].as_str().unwrap()
            ),
            &globex,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
