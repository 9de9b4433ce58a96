//! The background runtime under faults, on both databases: a subscriber
//! that fails on one event goes on with the others (and parks that one); a
//! worker killed with a job in flight has the job run once after its lease;
//! two runners on one database run each job once; work queued while no
//! worker runs is done when one starts; concurrent changes to one ticket
//! all land or answer 409, never lose an update or an event; a write whose
//! caller goes away while its transaction begins leaves nothing open.

use crate::common::*;
use crate::on_both_backends;
use crate::smtp::SmtpSink;
use chrono::{TimeDelta, Utc};
use fieldesk::domain::event::DomainEvent;
use fieldesk::engine::retry::RetryPolicy;
use fieldesk::server::AppState;
use fieldesk::server::db::events::{self, Event};
use fieldesk::server::db::jobs::{self, ClaimedJob, NewJob};
use fieldesk::server::db::query;
use fieldesk::server::mail::Mailer;
use fieldesk::server::runtime::{BoxFuture, JobError, JobHandler, Reaction, Runtime, Subscriber};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(
    a_failing_event_is_retried_then_parked_while_the_others_are_handled,
    a_killed_workers_job_runs_once_after_its_lease,
    two_runners_run_each_job_once,
    work_queued_while_no_worker_runs_is_done_when_one_starts,
    mail_queued_without_a_mail_server_is_sent_once_one_is_set,
    concurrent_changes_to_one_ticket_never_lose_an_update_or_an_event,
    writes_cancelled_while_beginning_leave_the_writer_usable,
);

/// Waits until `done` holds, polling; panics with `what` after 20 s.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Records the subjects of new tickets; fails on any whose subject says so.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Subscriber for Recorder {
    fn name(&self) -> &'static str {
        "test-recorder"
    }

    fn wants(&self, kind: &str) -> bool {
        kind == "ticket.created"
    }

    fn handle<'a>(
        &'a self,
        _state: &'a AppState,
        _event: &'a Event,
        decoded: &'a DomainEvent,
    ) -> BoxFuture<'a, anyhow::Result<Reaction>> {
        Box::pin(async move {
            let DomainEvent::TicketCreated { ticket, .. } = decoded else {
                anyhow::bail!("not a new ticket");
            };
            if ticket.subject.contains("poison") {
                anyhow::bail!("cannot handle {}", ticket.subject);
            }
            self.seen.lock().unwrap().push(ticket.subject.clone());
            Ok(Reaction::default())
        })
    }
}

async fn a_failing_event_is_retried_then_parked_while_the_others_are_handled(app: TestApp) {
    let recorder = Recorder::default();
    let quick = RetryPolicy {
        max_attempts: 3,
        first_wait: TimeDelta::milliseconds(50),
        max_wait: TimeDelta::milliseconds(100),
    };
    let _runtime = Runtime::new(&app.state)
        .subscriber(recorder.clone())
        .event_retry(quick)
        .start()
        .await
        .unwrap();
    let customer = app.bearer("customer@acme.test").await;
    for subject in ["First request", "A poison request", "Third request"] {
        let res = app
            .post_json(
                "/api/v1/tickets",
                &customer,
                json!({"subject": subject, "description": "Please help"}),
            )
            .await;
        expect_json(res, StatusCode::CREATED).await;
    }
    eventually("both good events handled", async || {
        recorder.seen.lock().unwrap().len() == 2
    })
    .await;
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        ["First request", "Third request"]
    );
    eventually("the poison event parked after 3 attempts", async || {
        let health = events::health(&app.state.db).await.unwrap();
        health.iter().any(|h| {
            h.subscriber == "test-recorder" && h.parked == 1 && h.retrying == 0 && h.behind == 0
        })
    })
    .await;
    let org = app.state.db.clone();
    let (attempts, error): (i32, String) =
        query("SELECT attempts, last_error FROM event_retries WHERE subscriber = 'test-recorder'")
            .fetch_one(&org)
            .await
            .unwrap();
    assert_eq!(attempts, 3);
    assert!(error.contains("cannot handle A poison request"), "{error}");
    // The admins' view lists it.
    let admin = app.bearer("admin@acme.test").await;
    let body = expect_json(app.get("/api/v1/runtime", &admin).await, StatusCode::OK).await;
    assert_eq!(body["parked_events"][0]["subscriber"], "test-recorder");
    assert_eq!(body["parked_events"][0]["kind"], "ticket.created");
    let agent = app.bearer("agent@acme.test").await;
    assert_eq!(
        app.get("/api/v1/runtime", &agent).await.status(),
        StatusCode::FORBIDDEN
    );
}

/// A job handler that counts runs and completions; `stall` makes runs hang.
#[derive(Clone)]
struct Counting {
    kind: &'static str,
    runs: Arc<Mutex<Vec<uuid::Uuid>>>,
    completed: Arc<Mutex<Vec<uuid::Uuid>>>,
    stall: bool,
    lease: TimeDelta,
}

impl Counting {
    fn new(kind: &'static str, stall: bool, lease: TimeDelta) -> Counting {
        Counting {
            kind,
            runs: Arc::default(),
            completed: Arc::default(),
            stall,
            lease,
        }
    }
}

impl JobHandler for Counting {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn lease(&self) -> TimeDelta {
        self.lease
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            self.runs.lock().unwrap().push(job.id);
            if self.stall {
                std::future::pending::<()>().await;
            }
            // The effect and the completion commit together, or not at all.
            let mut tx = state.db.begin().await?;
            query("INSERT INTO ticket_counters (organization_id, last_number) SELECT id, 0 FROM organizations WHERE slug = 'no-such-org'")
                .execute(&mut tx)
                .await?;
            if jobs::complete(&mut tx, job).await? {
                tx.commit().await?;
                self.completed.lock().unwrap().push(job.id);
            }
            Ok(())
        })
    }
}

async fn enqueue(app: &TestApp, kind: &'static str, n: usize) {
    let now = Utc::now();
    let mut tx = app.state.db.begin().await.unwrap();
    for _ in 0..n {
        let job = NewJob {
            organization_id: None,
            kind,
            payload: "{}".into(),
            run_at: now,
            max_attempts: 3,
            unique_key: None,
        };
        jobs::enqueue(&mut tx, &job, now).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn jobs_left(app: &TestApp, kind: &str) -> i64 {
    let (n,): (i64,) = query("SELECT COUNT(*) FROM jobs WHERE kind = $1")
        .bind(kind)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    n
}

async fn a_killed_workers_job_runs_once_after_its_lease(app: TestApp) {
    let lease = TimeDelta::seconds(1);
    let stalled = Counting::new("test.lease", true, lease);
    let runtime = Runtime::new(&app.state)
        .job(stalled.clone())
        .start()
        .await
        .unwrap();
    enqueue(&app, "test.lease", 1).await;
    eventually("the first worker took the job", async || {
        stalled.runs.lock().unwrap().len() == 1
    })
    .await;
    drop(runtime); // the worker dies with the job in flight
    let healthy = Counting::new("test.lease", false, lease);
    let started = std::time::Instant::now();
    let _runtime = Runtime::new(&app.state)
        .job(healthy.clone())
        .start()
        .await
        .unwrap();
    eventually("the job ran again", async || {
        healthy.completed.lock().unwrap().len() == 1
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "not before its lease ran out"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        healthy.runs.lock().unwrap().len(),
        1,
        "run once after the lease"
    );
    assert_eq!(healthy.completed.lock().unwrap().len(), 1);
    assert_eq!(jobs_left(&app, "test.lease").await, 0);
}

async fn two_runners_run_each_job_once(app: TestApp) {
    const JOBS: usize = 40;
    let long = TimeDelta::minutes(5);
    let a = Counting::new("test.pair", false, long);
    let b = Counting {
        runs: a.runs.clone(),
        completed: a.completed.clone(),
        ..Counting::new("test.pair", false, long)
    };
    let _one = Runtime::new(&app.state)
        .job(a.clone())
        .start()
        .await
        .unwrap();
    let _two = Runtime::new(&app.state).job(b).start().await.unwrap();
    enqueue(&app, "test.pair", JOBS).await;
    eventually("every job completed", async || {
        a.completed.lock().unwrap().len() == JOBS
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut runs = a.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), JOBS, "no job ran twice");
    runs.sort();
    runs.dedup();
    assert_eq!(runs.len(), JOBS);
    assert_eq!(jobs_left(&app, "test.pair").await, 0);
}

async fn work_queued_while_no_worker_runs_is_done_when_one_starts(app: TestApp) {
    // Nothing in this process runs `test.later` jobs yet: they wait.
    enqueue(&app, "test.later", 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(jobs_left(&app, "test.later").await, 3);
    let handler = Counting::new("test.later", false, TimeDelta::minutes(5));
    let _runtime = Runtime::new(&app.state)
        .job(handler.clone())
        .start()
        .await
        .unwrap();
    eventually("the queued jobs ran", async || {
        handler.completed.lock().unwrap().len() == 3
    })
    .await;
    assert_eq!(jobs_left(&app, "test.later").await, 0);
}

async fn concurrent_changes_to_one_ticket_never_lose_an_update_or_an_event(app: TestApp) {
    const WRITERS: usize = 12;
    let customer = app.bearer("customer@acme.test").await;
    let agent = app.bearer("agent@acme.test").await;
    let res = app
        .post_json(
            "/api/v1/tickets",
            &customer,
            json!({"subject": "Racing", "description": "Many hands"}),
        )
        .await;
    let ticket = expect_json(res, StatusCode::CREATED).await;
    let id = ticket["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (client, url, agent) = (
            app.client.clone(),
            app.url(&format!("/api/v1/tickets/{id}/comments")),
            agent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(agent)
                .json(&json!({"body": format!("Note {i}"), "public": false}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut stored = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "a lost race answers 409, never {status}"
        );
        stored += usize::from(status == StatusCode::CREATED);
    }
    assert!(stored > 0);
    let uuid = uuid::Uuid::parse_str(&id).unwrap();
    let (comments,): (i64,) = query("SELECT COUNT(*) FROM ticket_comments WHERE ticket_id = $1")
        .bind(uuid)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        comments as usize, stored,
        "every stored reply is there, and only those"
    );
    let topics = outbox_topics(&app, &id).await;
    assert_eq!(
        topics.len(),
        1 + stored,
        "one event per stored change: {topics:?}"
    );
    // The organization's event numbers have no gaps and no repeats.
    let seqs: Vec<(i64,)> = query(
        "SELECT seq FROM outbox WHERE organization_id = (SELECT organization_id FROM tickets WHERE id = $1) ORDER BY seq",
    )
    .bind(uuid)
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    let seqs: Vec<i64> = seqs.into_iter().map(|(s,)| s).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let (version,): (i64,) = query("SELECT version FROM tickets WHERE id = $1")
        .bind(uuid)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        version as usize, stored,
        "each stored change bumped the version once"
    );
}

async fn mail_queued_without_a_mail_server_is_sent_once_one_is_set(app: TestApp) {
    // No FIELDESK_SMTP_URL: the contact's magic-link mail is queued, and waits.
    let agent = app.bearer("agent@acme.test").await;
    let body = json!({"subject": "Printer jam", "description": "Reported by phone",
                      "requester_email": "walk.in@example.com"});
    expect_json(
        app.post_json("/api/v1/tickets", &agent, body).await,
        StatusCode::CREATED,
    )
    .await;
    eventually("the mail and its job are queued", async || {
        jobs_left(&app, "mail.send").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        jobs_left(&app, "mail.send").await,
        1,
        "nothing sends it yet"
    );

    // A mail worker starts (a restart with the mail server set): it is sent, once.
    let sink = SmtpSink::start().await;
    let mut config = app.state.config.clone();
    config.smtp_url = Some(sink.url());
    let mailer = Mailer::from_config(&config).unwrap().unwrap();
    let _runtime = Runtime::new(&app.state).job(mailer).start().await.unwrap();
    let received = sink.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(received.len(), 1);
    assert!(
        received[0].subject().contains("Printer jam"),
        "{}",
        received[0].subject()
    );
    eventually("the job is done", async || {
        jobs_left(&app, "mail.send").await == 0
    })
    .await;
    let (status,): (String,) = query("SELECT status FROM outbound_mail")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "sent");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1, "sent once");
}

/// A request whose client disconnects is dropped wherever it waits. Before
/// the fix, one dropped just after its BEGIN ran (sqlx then checks the
/// connection's state) left SQLite's one writer inside a transaction that
/// nobody owned, and every later write answered 500 until a restart.
async fn writes_cancelled_while_beginning_leave_the_writer_usable(app: TestApp) {
    let db = &app.state.db;
    for round in 0..200u64 {
        // Polled, then given time for the database to run the BEGIN, then
        // polled again and dropped: before, during and after its round trip.
        let mut begin = std::pin::pin!(db.begin());
        let mut done = false;
        for pause in [0, round % 20 * 50] {
            std::thread::sleep(Duration::from_micros(pause));
            if !done {
                done = std::future::poll_fn(|cx| {
                    std::task::Poll::Ready(begin.as_mut().poll(cx).is_ready())
                })
                .await;
            }
        }
    }
    let mut tx = db
        .begin()
        .await
        .expect("the writer takes a new transaction");
    query("INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, 'after-cancels', 'After', $2)")
        .bind(uuid::Uuid::now_v7())
        .bind(Utc::now())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
