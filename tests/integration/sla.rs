//! Service levels. `POST /sla/simulate`: the SLA clock on a calendar and
//! targets before they are used — due times across a weekend and holidays
//! in Berlin, a field message for each bad input, and only managers and
//! administrators. Calendars and policies (`/sla/calendars`,
//! `/sla/policies`), and SLA on real tickets: due times stored by the change
//! path, pauses and reopening, first-match policy order, the queue sorted by
//! due time, a breach recorded and escalated exactly once, also when its
//! timer runs again after a restart, and the open tickets re-evaluated in
//! the background after a policy change.

use crate::common::*;
use crate::on_both_backends;
use chrono::{DateTime, TimeDelta, Utc};
use fieldesk::server::db::jobs::{self, NewJob};
use fieldesk::server::db::query;
use fieldesk::server::runtime::Runtime;
use fieldesk::server::sla::{SlaBreaches, SlaWarnings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    berlin_due_times_skip_the_weekend_and_the_holidays,
    each_bad_input_is_named_by_its_field,
    only_managers_and_admins_simulate,
    due_times_follow_replies_pauses_and_priority,
    the_first_matching_policy_applies_and_queues_sort_by_due_time,
    the_admin_api_is_for_managers_of_the_organization,
    the_page_imports_holidays_and_lists_what_policies_choose_from,
    a_breach_is_recorded_and_escalated_once_after_a_restart,
    open_tickets_are_reevaluated_after_a_policy_change,
);

const SIMULATE: &str = "/api/v1/sla/simulate";

/// Berlin office hours, closed on Christmas Eve 2026 and every Christmas
/// Day; a ticket created on Wednesday 23 December 2026 at 16:00.
fn christmas_ticket() -> Value {
    json!({
        "calendar": {
            "timezone": "Europe/Berlin",
            "hours": {"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]],
                "wed": [["08:00", "18:00"]], "thu": [["08:00", "18:00"]],
                "fri": [["08:00", "18:00"]]},
            "holidays": ["2026-12-24", "12-25"]
        },
        "targets": {"first_response_minutes": 240, "next_response_minutes": 120,
            "resolution_minutes": 960, "business_hours": true},
        "events": [
            {"at": "2026-12-23T16:00:00+01:00", "type": "created"},
            {"at": "2026-12-28T09:30:00+01:00", "type": "agent_reply"},
            {"at": "2026-12-28T17:00:00+01:00", "type": "customer_reply"},
            {"at": "2026-12-28T17:30:00+01:00", "type": "status", "status": "pending"},
            {"at": "2026-12-29T09:00:00+01:00", "type": "status", "status": "open"}
        ],
        "now": "2026-12-29T10:00:00+01:00"
    })
}

async fn berlin_due_times_skip_the_weekend_and_the_holidays(app: TestApp) {
    let manager = app.bearer("manager@acme.test").await;
    let report = expect_json(
        app.post_json(SIMULATE, &manager, christmas_ticket()).await,
        StatusCode::OK,
    )
    .await;
    // Two hours on Wednesday, then Thursday and Friday are holidays and
    // the weekend is closed: the other two hours on Monday 28th, 10:00.
    assert_eq!(
        report["first_response_due_at"], "2026-12-28T09:00:00Z",
        "{report}"
    );
    assert_eq!(report["first_response_met"], true);
    // Asked on Monday at 17:00: an hour that day, an hour on Tuesday.
    assert_eq!(report["next_response_due_at"], "2026-12-29T08:00:00Z");
    assert_eq!(
        report["breaches"],
        json!([{"target": "next_response", "due_at": "2026-12-29T08:00:00Z",
            "breached_at": "2026-12-29T08:00:00Z"}])
    );
    // Resolution: 2 h on Wednesday and 9.5 h on Monday used before pending,
    // 4.5 h left when it resumed on Tuesday at 09:00: due 13:30 (12:30 UTC).
    assert_eq!(report["resolution_due_at"], "2026-12-29T12:30:00Z");
    assert_eq!(report["resolution_met"], Value::Null);
    let timeline = report["timeline"].as_array().unwrap();
    let resolution: Vec<(&str, &str)> = timeline
        .iter()
        .filter(|entry| entry["target"] == "resolution")
        .map(|entry| {
            (
                entry["event"].as_str().unwrap(),
                entry["at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        resolution,
        [
            ("started", "2026-12-23T15:00:00Z"),
            ("paused", "2026-12-28T16:30:00Z"),
            ("resumed", "2026-12-29T08:00:00Z"),
        ]
    );
    let paused = timeline
        .iter()
        .find(|entry| entry["event"] == "paused")
        .unwrap();
    assert_eq!(paused["remaining_minutes"], 270);

    // The same ticket against a 24/7 calendar counts every minute.
    let mut always = christmas_ticket();
    always["calendar"] = json!({"always_open": true});
    let admin = app.bearer("admin@acme.test").await;
    let report = expect_json(
        app.post_json(SIMULATE, &admin, always).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["first_response_due_at"], "2026-12-23T19:00:00Z");
    assert_eq!(report["first_response_met"], false);
    assert_eq!(report["resolution_met"], false);
}

async fn each_bad_input_is_named_by_its_field(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    // (the field named, where the body is spoiled, with what)
    let cases = [
        (
            "calendar.timezone",
            "/calendar/timezone",
            json!("Europe/Atlantis"),
        ),
        (
            "calendar.hours.mon[0]",
            "/calendar/hours/mon",
            json!([["8 am", "18:00"]]),
        ),
        (
            "calendar.hours.tue[0]",
            "/calendar/hours/tue",
            json!([["18:00", "08:00"]]),
        ),
        (
            "calendar.hours.wed[0]",
            "/calendar/hours/wed",
            json!([["08:00"]]),
        ),
        ("events[0].type", "/events/0/type", json!("customer_reply")),
    ];
    for (field, pointer, spoiled) in cases {
        let mut body = christmas_ticket();
        *body.pointer_mut(pointer).unwrap() = spoiled;
        let err = expect_json(
            app.post_json(SIMULATE, &admin, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let fields = err["fields"].as_object().unwrap();
        assert_eq!(fields.keys().collect::<Vec<_>>(), [field], "{err}");
    }
}

async fn only_managers_and_admins_simulate(app: TestApp) {
    for email in ["agent@acme.test", "customer@acme.test", "ceo@acme.test"] {
        let token = app.bearer(email).await;
        expect_json(
            app.post_json(SIMULATE, &token, christmas_ticket()).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let anonymous = app
        .client
        .post(app.url(SIMULATE))
        .json(&christmas_ticket())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let admin = app.bearer("admin@acme.test").await;
    expect_json(
        app.post_json(SIMULATE, &admin, christmas_ticket()).await,
        StatusCode::OK,
    )
    .await;
}

const CALENDARS: &str = "/api/v1/sla/calendars";
const POLICIES: &str = "/api/v1/sla/policies";

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("no instant: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// A 24/7 calendar (so targets in real minutes are easy to check).
async fn always_open(app: &TestApp, token: &str) -> String {
    let body = json!({"name": "Around the clock", "always_open": true});
    let calendar = expect_json(
        app.post_json(CALENDARS, token, body).await,
        StatusCode::CREATED,
    )
    .await;
    calendar["id"].as_str().unwrap().to_owned()
}

async fn new_policy(app: &TestApp, token: &str, body: Value) -> String {
    let policy = expect_json(
        app.post_json(POLICIES, token, body).await,
        StatusCode::CREATED,
    )
    .await;
    policy["id"].as_str().unwrap().to_owned()
}

async fn put_json(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn create(app: &TestApp, token: &str, subject: &str, priority: &str) -> Value {
    let body = json!({"subject": subject, "description": "Details", "priority": priority});
    expect_json(
        app.post_json("/api/v1/tickets", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn sla_of(app: &TestApp, token: &str, id: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/tickets/{id}/sla"), token).await,
        StatusCode::OK,
    )
    .await
}

async fn due_times_follow_replies_pauses_and_priority(app: TestApp) {
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let calendar = always_open(&app, &manager).await;
    new_policy(
        &app,
        &manager,
        json!({"name": "Urgent", "calendar_id": calendar,
        "conditions": {"priority": ["urgent"]}, "business_hours": false,
        "first_response_minutes": 60, "next_response_minutes": 120, "resolution_minutes": 480}),
    )
    .await;
    new_policy(
        &app,
        &manager,
        json!({"name": "Default", "calendar_id": calendar, "business_hours": false,
        "first_response_minutes": 240, "next_response_minutes": 480, "resolution_minutes": 2880}),
    )
    .await;

    // Created: the default policy; the queue's due time is the first response.
    let ticket = create(&app, &customer, "Printer on fire", "medium").await;
    assert_eq!(
        ticket["sla_state"],
        Value::Null,
        "internal: not shown to customers"
    );
    let id = ticket["id"].as_str().unwrap().to_owned();
    let ticket = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    let created = at(&ticket["created_at"]);
    assert_eq!(
        at(&ticket["sla_due_at"]),
        created + TimeDelta::minutes(240),
        "{ticket}"
    );
    assert_eq!(ticket["sla_state"], "ok");
    let sla = sla_of(&app, &agent, &id).await;
    assert_eq!(sla["policy"]["name"], "Default", "{sla}");
    assert_eq!(sla["matched"], json!([]));
    assert_eq!(sla["calendar"]["always_open"], true);
    assert_eq!(
        at(&sla["first_response_due_at"]),
        created + TimeDelta::minutes(240)
    );
    assert_eq!(
        at(&sla["resolution_due_at"]),
        created + TimeDelta::minutes(2880)
    );

    // Urgent now: the urgent policy over the same life (the time used is kept).
    let path = format!("/api/v1/tickets/{id}");
    let patched = expect_json(
        app.patch_json(&path, &agent, json!({"priority": "urgent"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        at(&patched["sla_due_at"]),
        created + TimeDelta::minutes(60),
        "{patched}"
    );
    let sla = sla_of(&app, &agent, &id).await;
    assert_eq!(sla["policy"]["name"], "Urgent");
    assert_eq!(sla["matched"], json!(["priority = urgent"]));
    assert_eq!(
        at(&sla["resolution_due_at"]),
        created + TimeDelta::minutes(480)
    );

    // An internal note is no answer; a public reply is.
    let comments = format!("/api/v1/tickets/{id}/comments");
    let note = json!({"body": "Looking into it", "public": false});
    expect_json(
        app.post_json(&comments, &agent, note).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        sla_of(&app, &agent, &id).await["first_response_met"],
        Value::Null
    );
    let reply = json!({"body": "We are on it.", "public": true});
    expect_json(
        app.post_json(&comments, &agent, reply).await,
        StatusCode::CREATED,
    )
    .await;
    let sla = sla_of(&app, &agent, &id).await;
    assert_eq!(sla["first_response_met"], true, "{sla}");
    assert_eq!(sla["next_response_due_at"], Value::Null);

    // The customer writes back: the next response is owed within 120 minutes.
    let message = json!({"body": "Still burning", "public": true});
    let asked = expect_json(
        app.post_json(&comments, &customer, message).await,
        StatusCode::CREATED,
    )
    .await;
    let asked_at = at(&asked["created_at"]);
    let sla = sla_of(&app, &agent, &id).await;
    // (The database keeps microseconds; the answer had nanoseconds.)
    let owed = at(&sla["next_response_due_at"]) - (asked_at + TimeDelta::minutes(120));
    assert!(owed.abs() < TimeDelta::milliseconds(1), "{sla}");
    let stored: (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>) =
        query("SELECT next_response_due_at, sla_due_at, sla_state FROM tickets WHERE id = $1")
            .bind(uuid::Uuid::parse_str(&id).unwrap())
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(stored.0, Some(at(&sla["next_response_due_at"])));
    assert_eq!(stored.1, stored.0, "the next response is due first");
    assert_eq!(stored.2.as_deref(), Some("ok"));

    // Pending pauses the resolution clock; reopening resumes it.
    expect_json(
        app.patch_json(&path, &agent, json!({"status": "pending"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let sla = sla_of(&app, &agent, &id).await;
    assert_eq!(sla["resolution_due_at"], Value::Null, "{sla}");
    let events: Vec<&str> = sla["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "resolution")
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["started", "paused"]);
    expect_json(
        app.patch_json(&path, &agent, json!({"status": "open"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let sla = sla_of(&app, &agent, &id).await;
    let resumed = at(&sla["resolution_due_at"]);
    assert!(
        resumed > created + TimeDelta::minutes(480),
        "the pause moved it: {sla}"
    );
    assert!(resumed <= Utc::now() + TimeDelta::minutes(480));
    let last = sla["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["target"] == "resolution")
        .unwrap();
    assert_eq!(last["event"], "resumed");

    // Resolved: nothing pending any more.
    let resolved = expect_json(
        app.patch_json(&path, &agent, json!({"status": "resolved"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resolved["sla_due_at"], Value::Null, "{resolved}");
    assert_eq!(sla_of(&app, &agent, &id).await["resolution_met"], true);
}

async fn the_first_matching_policy_applies_and_queues_sort_by_due_time(app: TestApp) {
    let admin = app.bearer("admin@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let calendar = always_open(&app, &admin).await;
    let fast = new_policy(&app, &admin, json!({"name": "Fast", "calendar_id": calendar,
        "business_hours": false, "conditions": {"priority": ["high"]}, "first_response_minutes": 30})).await;
    let slow = new_policy(&app, &admin, json!({"name": "Slow", "calendar_id": calendar,
        "business_hours": false, "conditions": {"priority": ["high", "urgent"]}, "first_response_minutes": 600})).await;

    let first = create(&app, &agent, "High one", "high").await;
    assert_eq!(
        sla_of(&app, &agent, first["id"].as_str().unwrap()).await["policy"]["name"],
        "Fast"
    );
    let urgent = create(&app, &agent, "Urgent one", "urgent").await;
    assert_eq!(
        sla_of(&app, &agent, urgent["id"].as_str().unwrap()).await["policy"]["name"],
        "Slow"
    );
    let plain = create(&app, &agent, "Low one", "low").await;
    assert_eq!(plain["sla_state"], Value::Null, "no policy matches");
    let sla = sla_of(&app, &agent, plain["id"].as_str().unwrap()).await;
    assert_eq!(sla["policy"], Value::Null);

    // Reordered: the slow policy is tried first.
    let order = json!({"ids": [slow, fast]});
    let listed = expect_json(
        app.post_json(&format!("{POLICIES}/order"), &admin, order)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["items"][0]["name"], "Slow");
    let second = create(&app, &agent, "Another high one", "high").await;
    assert_eq!(
        sla_of(&app, &agent, second["id"].as_str().unwrap()).await["policy"]["name"],
        "Slow"
    );
    let bad = json!({"ids": [slow]});
    let err = expect_json(
        app.post_json(&format!("{POLICIES}/order"), &admin, bad)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["ids"].is_string(), "{err}");

    // The reorder re-evaluates the open tickets in the background: page
    // only once that is done, or a due time may move between two pages.
    reevaluated(&app).await;
    // Soonest due first, no due time last; one at a time.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/tickets?sort=sla_due&limit=1".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = expect_json(app.get(&path, &agent).await, StatusCode::OK).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected_first = first["id"].as_str().unwrap();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[0], expected_first);
    assert_eq!(seen[3], plain["id"].as_str().unwrap());
    let err = expect_json(
        app.get("/api/v1/tickets?sort=due", &agent).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["sort"].is_string());
    let customer = app.bearer("customer@acme.test").await;
    let res = app.get("/api/v1/tickets?sort=sla_due", &customer).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "service levels are internal"
    );
}

async fn the_admin_api_is_for_managers_of_the_organization(app: TestApp) {
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let globex = app.bearer("admin@globex.test").await;
    let globex_agent = app.bearer("agent@globex.test").await;
    for token in [&agent, &customer] {
        assert_eq!(
            app.get(CALENDARS, token).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(POLICIES, token).await.status(),
            StatusCode::FORBIDDEN
        );
    }

    // 422 with a message per field.
    let bad =
        json!({"name": " ", "timezone": "Mars/Olympus", "hours": {"mon": [["18:00", "08:00"]]}});
    let err = expect_json(
        app.post_json(CALENDARS, &manager, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&String> = err["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["hours.mon[0]", "name", "timezone"], "{err}");
    let berlin = json!({"name": "Berlin office", "timezone": "Europe/Berlin",
        "hours": {"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]]}, "holidays": ["2026-12-24"]});
    let calendar = expect_json(
        app.post_json(CALENDARS, &manager, berlin.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let id = calendar["id"].as_str().unwrap();
    let err = expect_json(
        app.post_json(CALENDARS, &manager, berlin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["name"].is_string(), "names are unique: {err}");
    let bad = json!({"name": "Broken", "calendar_id": null, "first_response_minutes": 0,
        "warning_percent": 100, "raise_priority": "asap", "conditions": {"priority": ["soon"]}});
    let err = expect_json(
        app.post_json(POLICIES, &manager, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&String> = err["fields"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "calendar_id",
            "conditions.priority[0]",
            "first_response_minutes",
            "raise_priority",
            "warning_percent"
        ],
        "{err}"
    );

    // Another organization's calendar is not found, whatever is asked.
    let one = format!("{CALENDARS}/{id}");
    assert_eq!(app.get(&one, &globex).await.status(), StatusCode::NOT_FOUND);
    let replace = json!({"name": "Mine now", "always_open": true});
    assert_eq!(
        put_json(&app, &one, &globex, replace.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&app, &one, &globex).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("{CALENDARS}/not-an-id"), &manager)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Holidays from an iCalendar file: the yearly one repeats.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\n\
RRULE:FREQ=YEARLY\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\n\
SUMMARY:New year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let res = app
        .client
        .post(app.url(&format!("{one}/holidays/ical")))
        .bearer_auth(&manager)
        .header("content-type", "text/calendar")
        .body(ics)
        .send()
        .await
        .unwrap();
    let updated = expect_json(res, StatusCode::OK).await;
    assert_eq!(
        updated["holidays"],
        json!(["2026-12-24", "12-25", "2027-01-01"])
    );
    let res = app
        .client
        .post(app.url(&format!("{one}/holidays/ical")))
        .bearer_auth(&manager)
        .body("not a calendar")
        .send()
        .await
        .unwrap();
    let err = expect_json(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(err["fields"]["ical"].is_string());

    // A calendar in use is not deleted; a policy of another organization is not found.
    let policy = new_policy(
        &app,
        &manager,
        json!({"name": "Everything", "calendar_id": id,
        "first_response_minutes": 60}),
    )
    .await;
    let err = expect_json(delete(&app, &one, &manager).await, StatusCode::CONFLICT).await;
    assert!(err["error"].as_str().unwrap().contains("policy"));
    let policy_path = format!("{POLICIES}/{policy}");
    assert_eq!(
        app.get(&policy_path, &globex).await.status(),
        StatusCode::NOT_FOUND
    );
    let globex_calendar = always_open(&app, &globex).await;
    let err = expect_json(
        app.post_json(
            POLICIES,
            &manager,
            json!({"name": "Foreign", "calendar_id": globex_calendar}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(err["fields"]["calendar_id"].is_string(), "{err}");
    let renamed = expect_json(
        put_json(
            &app,
            &policy_path,
            &manager,
            json!({"name": "All tickets", "calendar_id": id,
            "first_response_minutes": 90}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["first_response_minutes"], 90);
    assert_eq!(
        delete(&app, &policy_path, &manager).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&app, &one, &manager).await.status(),
        StatusCode::NO_CONTENT
    );

    // Each change was audited (as a setting).
    let (audited,): (i64,) = query("SELECT COUNT(*) FROM audit_log WHERE owner_type = 'setting' AND (owner_id = $1 OR owner_id = $2)")
        .bind(uuid::Uuid::parse_str(id).unwrap())
        .bind(uuid::Uuid::parse_str(&policy).unwrap())
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        audited, 6,
        "calendar created, holidays, deleted; policy created, changed, deleted"
    );

    // A ticket's SLA: staff only; another organization's ticket is not found.
    let ticket = create(&app, &customer, "Where is my order", "medium").await;
    let sla_path = format!("/api/v1/tickets/{}/sla", ticket["id"].as_str().unwrap());
    assert_eq!(
        app.get(&sla_path, &customer).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&sla_path, &globex_agent).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&sla_path, &agent).await.status(), StatusCode::OK);
}

/// The admin page's server functions: an iCal import answers what it
/// added (days the calendar lacked, in file order) and what it skipped;
/// the policy form's choices are the organization's own.
async fn the_page_imports_holidays_and_lists_what_policies_choose_from(app: TestApp) {
    let manager = app.bearer("manager@acme.test").await;
    let body = json!({"name": "Lisbon office", "timezone": "Europe/Lisbon",
        "hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["12-25"]});
    let calendar = expect_json(
        app.post_json(CALENDARS, &manager, body).await,
        StatusCode::CREATED,
    )
    .await;
    let id = calendar["id"].as_str().unwrap();
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\n\
RRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART:20270104T090000Z\r\nSUMMARY:Kick-off\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let browser = app.browser("manager@acme.test").await;
    let import = async |ical: &str| {
        browser
            .post(app.url("/api/import_sla_holidays"))
            .header("accept", "application/json")
            .json(&json!({"id": id, "ical": ical}))
            .send()
            .await
            .unwrap()
    };
    let done = expect_json(import(ics).await, StatusCode::OK).await;
    assert_eq!(done["added"], json!(["2027-01-01"]), "{done}");
    assert_eq!(done["skipped"], 1, "{done}");
    assert_eq!(done["calendar"]["holidays"], json!(["12-25", "2027-01-01"]));
    let err = expect_json(import("hello").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(err["fields"]["ical"].is_string(), "{err}");

    // Choices: the organization's categories, teams and companies by name,
    // none of Globex's.
    let acme = app.bearer("admin@acme.test").await;
    let globex = app.bearer("admin@globex.test").await;
    let add = async |token: &str, path: &str, body: Value| {
        let res = app.post_json(path, token, body).await;
        expect_json(res, StatusCode::CREATED).await["id"].clone()
    };
    let team = add(&acme, "/api/v1/teams", json!({"name": "Tier 2"})).await;
    add(
        &acme,
        "/api/v1/categories",
        json!({"name": "Outage", "team_id": team}),
    )
    .await;
    let ours = add(&acme, "/api/v1/companies", json!({"name": "Initech"})).await;
    let theirs = add(&globex, "/api/v1/companies", json!({"name": "Globex only"})).await;
    add(&globex, "/api/v1/teams", json!({"name": "Globex team"})).await;
    let res = browser
        .post(app.url("/api/load_sla_policy_choices"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let choices = expect_json(res, StatusCode::OK).await;
    let names = |list: &str| -> Vec<String> {
        let items = choices[list].as_array().unwrap().iter();
        items
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("teams"), ["Tier 2"], "{choices}");
    assert_eq!(names("categories"), ["Outage"], "{choices}");
    assert_eq!(names("companies"), ["Initech"], "{choices}");

    // A policy's conditions name the organization's own, else 422 on each.
    let body = json!({"name": "Initech first", "calendar_id": id, "first_response_minutes": 30,
        "conditions": {"company": [ours, theirs], "team": [team]}});
    let err = expect_json(
        app.post_json(POLICIES, &manager, body.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&String> = err["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["conditions.company[1]"], "{err}");
    let body = json!({"name": "Initech first", "calendar_id": id, "first_response_minutes": 30,
        "conditions": {"company": [ours], "team": [team]}});
    new_policy(&app, &manager, body).await;
}

async fn count(app: &TestApp, sql: &str, id: uuid::Uuid) -> i64 {
    let (n,): (i64,) = query(sql).bind(id).fetch_one(&app.state.db).await.unwrap();
    n
}

async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes the ticket's timer of `kind` (`sla.warning`, `sla.breach`) due
/// now, as if its time had passed while the server was down.
async fn timer_due_now(app: &TestApp, kind: &'static str, org: uuid::Uuid, ticket: uuid::Uuid) {
    let mut tx = app.state.db.begin().await.unwrap();
    let job = NewJob {
        organization_id: Some(org),
        kind,
        payload: json!({"organization_id": org, "ticket_id": ticket}).to_string(),
        run_at: Utc::now() - TimeDelta::seconds(1),
        max_attempts: 10,
        unique_key: Some(format!("{kind}:{ticket}")),
    };
    jobs::enqueue(&mut tx, &job, Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
}

async fn a_breach_is_recorded_and_escalated_once_after_a_restart(app: TestApp) {
    let manager = app.bearer("manager@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let calendar = always_open(&app, &manager).await;
    new_policy(
        &app,
        &manager,
        json!({"name": "One minute", "calendar_id": calendar, "business_hours": false,
        "first_response_minutes": 1, "resolution_minutes": 600, "raise_priority": "urgent"}),
    )
    .await;
    let ticket = create(&app, &customer, "Nobody answers", "low").await;
    let id = uuid::Uuid::parse_str(ticket["id"].as_str().unwrap()).unwrap();
    let ticket = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    let (org,): (uuid::Uuid,) = query("SELECT organization_id FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    // One timer a ticket, planned in the creating transaction: the warning
    // (75 % of the minute) comes first; the breach check follows it.
    let timers: Vec<(String, DateTime<Utc>)> =
        query("SELECT kind, run_at FROM jobs WHERE unique_key LIKE $1")
            .bind(format!("sla.%:{id}"))
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    let created = at(&ticket["created_at"]);
    assert_eq!(
        timers,
        [("sla.warning".to_owned(), created + TimeDelta::seconds(45))]
    );

    // Past the warning: it is told, and the breach check is planned next.
    query("UPDATE tickets SET created_at = $1 WHERE id = $2")
        .bind(created - TimeDelta::seconds(46))
        .bind(id)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    timer_due_now(&app, "sla.warning", org, id).await;
    eventually("the warning is published", async || {
        outbox_topics(&app, &id.to_string())
            .await
            .contains(&"ticket.sla_warning".to_owned())
    })
    .await;
    let (kind, run_at): (String, DateTime<Utc>) =
        query("SELECT kind, run_at FROM jobs WHERE unique_key LIKE $1")
            .bind(format!("sla.%:{id}"))
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), run_at),
        (
            "sla.breach",
            created + TimeDelta::seconds(14) + TimeDelta::seconds(1)
        )
    );

    // The ticket was created ten minutes ago; its timer is late.
    query("UPDATE tickets SET created_at = $1 WHERE id = $2")
        .bind(Utc::now() - TimeDelta::minutes(10))
        .bind(id)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    timer_due_now(&app, "sla.breach", org, id).await;
    let breaches = "SELECT COUNT(*) FROM ticket_sla_breaches WHERE ticket_id = $1";
    eventually("the breach is recorded", async || {
        count(&app, breaches, id).await == 1
    })
    .await;
    let shown = expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    let reason = shown["escalation_reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.starts_with("SLA breach: first response due "),
        "{shown}"
    );
    assert_eq!(
        shown["priority"], "urgent",
        "the policy raises the priority"
    );
    assert_eq!(shown["sla_state"], "breached");

    // A restart: another worker, and the timer runs again (as a late timer
    // does on start). Nothing is recorded or escalated twice.
    let _restarted = Runtime::new(&app.state)
        .job(SlaBreaches)
        .job(SlaWarnings)
        .start()
        .await
        .unwrap();
    timer_due_now(&app, "sla.breach", org, id).await;
    let key = format!("sla.breach:{id}");
    eventually("the late timer ran", async || {
        let (n,): (i64,) = query("SELECT COUNT(*) FROM jobs WHERE unique_key = $1 AND run_at < $2")
            .bind(key.as_str())
            .bind(Utc::now())
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        n == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&app, breaches, id).await, 1);
    let topics = outbox_topics(&app, &id.to_string()).await;
    let times = |kind: &str| topics.iter().filter(|t| *t == kind).count();
    assert_eq!(times("ticket.sla_breached"), 1, "{topics:?}");
    assert_eq!(times("ticket.escalated"), 1, "{topics:?}");
    let sla = sla_of(&app, &agent, &id.to_string()).await;
    assert_eq!(sla["first_response_met"], false);
    assert_eq!(sla["breaches"].as_array().unwrap().len(), 1, "{sla}");

    // The manager is told once: the breach, not also its escalation.
    let kinds_for_ticket = async || {
        let list = expect_json(
            app.get("/api/v1/notifications", &manager).await,
            StatusCode::OK,
        )
        .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["ticket_id"] == id.to_string())
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    eventually("the manager is told", async || {
        !kinds_for_ticket().await.is_empty()
    })
    .await;
    assert_eq!(kinds_for_ticket().await, ["sla_breached"]);
}

async fn ticket_of(app: &TestApp, token: &str, id: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/tickets/{id}"), token).await,
        StatusCode::OK,
    )
    .await
}

/// Waits until the background re-evaluation has walked every open ticket.
async fn reevaluated(app: &TestApp) {
    eventually("the re-evaluation finished", async || {
        let (n,): (i64,) = query("SELECT COUNT(*) FROM jobs WHERE kind = 'sla.reevaluate'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        n == 0
    })
    .await;
}

async fn open_tickets_are_reevaluated_after_a_policy_change(app: TestApp) {
    let manager = app.bearer("manager@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let customer = app.bearer("customer@acme.test").await;
    let waiting = create(&app, &customer, "Waiting", "low").await;
    let waiting_id = waiting["id"].as_str().unwrap();
    assert_eq!(waiting["sla_state"], Value::Null, "no policy yet");
    let old = create(&app, &customer, "Waiting for two hours", "low").await;
    let old_id = uuid::Uuid::parse_str(old["id"].as_str().unwrap()).unwrap();
    query("UPDATE tickets SET created_at = $1 WHERE id = $2")
        .bind(Utc::now() - TimeDelta::hours(2))
        .bind(old_id)
        .execute(app.state.db.writer())
        .await
        .unwrap();
    let done = create(&app, &customer, "Already solved", "low").await;
    let done_id = done["id"].as_str().unwrap();
    let resolve = json!({"status": "resolved"});
    let res = app
        .patch_json(&format!("/api/v1/tickets/{done_id}"), &agent, resolve)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // A policy for low tickets: every open one gets it in the background.
    let calendar = always_open(&app, &manager).await;
    let policy = new_policy(&app, &manager, json!({"name": "Low, 30 minutes", "calendar_id": calendar,
        "business_hours": false, "conditions": {"priority": ["low"]}, "first_response_minutes": 30})).await;
    reevaluated(&app).await;
    let shown = ticket_of(&app, &agent, waiting_id).await;
    assert_eq!(
        at(&shown["sla_due_at"]),
        at(&shown["created_at"]) + TimeDelta::minutes(30)
    );
    assert_eq!(shown["sla_state"], "ok");
    assert_eq!(
        sla_of(&app, &agent, waiting_id).await["policy"]["id"],
        policy.as_str()
    );
    let solved = ticket_of(&app, &agent, done_id).await;
    assert_eq!(
        solved["sla_state"],
        Value::Null,
        "resolved tickets are left alone"
    );

    // Overdue under the new policy: breached at its due time, silently.
    let late = ticket_of(&app, &agent, &old_id.to_string()).await;
    assert_eq!(late["sla_state"], "breached", "{late}");
    assert_eq!(
        late["escalated_at"],
        Value::Null,
        "nobody is paged for the past"
    );
    let breaches = "SELECT COUNT(*) FROM ticket_sla_breaches WHERE ticket_id = $1";
    assert_eq!(count(&app, breaches, old_id).await, 1);

    // A longer target moves the due time; deleting the policy clears it.
    let res = put_json(
        &app,
        &format!("{POLICIES}/{policy}"),
        &manager,
        json!({"name": "Low, an hour",
        "calendar_id": calendar, "business_hours": false, "conditions": {"priority": ["low"]},
        "first_response_minutes": 60}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    reevaluated(&app).await;
    let shown = ticket_of(&app, &agent, waiting_id).await;
    assert_eq!(
        at(&shown["sla_due_at"]),
        at(&shown["created_at"]) + TimeDelta::minutes(60)
    );
    let (timer_at,): (DateTime<Utc>,) = query("SELECT run_at FROM jobs WHERE unique_key = $1")
        .bind(format!("sla.warning:{waiting_id}"))
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        timer_at,
        at(&shown["created_at"]) + TimeDelta::minutes(45),
        "its warning moved to 75 % of the hour"
    );
    let res = delete(&app, &format!("{POLICIES}/{policy}"), &manager).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    reevaluated(&app).await;
    let shown = ticket_of(&app, &agent, waiting_id).await;
    assert_eq!(shown["sla_state"], Value::Null, "{shown}");
    assert_eq!(shown["sla_due_at"], Value::Null);
    let late = ticket_of(&app, &agent, &old_id.to_string()).await;
    assert_eq!(late["escalated_at"], Value::Null);
}
