//! `POST /sla/simulate`: the SLA clock on a calendar and targets before they
//! are used — due times across a weekend and holidays in Berlin, a field
//! message for each bad input, and only managers and administrators.

use crate::common::*;
use crate::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    berlin_due_times_skip_the_weekend_and_the_holidays,
    each_bad_input_is_named_by_its_field,
    only_managers_and_admins_simulate,
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
