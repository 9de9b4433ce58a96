//! `fieldesk seed --tickets N`: a large, realistic organization (`scale`)
//! for benchmarks — 10,000 customers, 200 agents, N tickets with about five
//! messages each, tags, ratings and two years of history. Deterministic (a
//! fixed random seed), so runs compare.
//!
//! Rows are written with multi-row INSERTs, not through the ticket change
//! path: a fixture needs no audit rows or events, and going through the path
//! would take hours at a million tickets. Search indexes are kept by the
//! database itself (SQLite triggers, PostgreSQL generated columns) as usual.

use super::auth::password::hash_password_blocking;
use super::db::{Db, orgs, query};
use crate::engine::markdown::to_safe_html;
use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::LazyLock;
use uuid::Uuid;

pub const SCALE_ORG: &str = "scale";
const CUSTOMERS: usize = 10_000;
const AGENTS: usize = 200;
/// Tickets written per transaction.
const BATCH: usize = 1_000;
/// Every this many tickets, one has exactly 50 messages (the ticket-page benchmark).
pub const LONG_TICKET_EVERY: usize = 10_000;

/// What was created, for the console and the benchmark script.
pub struct ScaleReport {
    pub tickets: usize,
    pub messages: usize,
}

const PROBLEMS: [&str; 12] = [
    "Cannot connect to",
    "Error when opening",
    "Slow response from",
    "Request access to",
    "Invoice question about",
    "Refund for",
    "Password reset for",
    "Crash in",
    "Cannot print from",
    "Sync fails for",
    "Update broke",
    "Question about",
];
const OBJECTS: [&str; 12] = [
    "the VPN",
    "the billing portal",
    "Outlook",
    "the mobile app",
    "the shared drive",
    "printer 3F",
    "the CRM",
    "my laptop",
    "the payroll export",
    "the warehouse scanner",
    "the customer dashboard",
    "SSO login",
];
const CONTEXTS: [&str; 8] = [
    "since this morning",
    "after the latest update",
    "from the home office",
    "for the whole team",
    "on the new laptop",
    "during month-end close",
    "in the Berlin office",
    "when travelling",
];
const SENTENCES: [&str; 10] = [
    "It worked fine until yesterday.",
    "I already restarted the machine twice.",
    "The error message says the connection timed out.",
    "Several colleagues see the same thing.",
    "This is blocking our invoicing run.",
    "Screenshots are attached to the first message.",
    "We are on the premium plan.",
    "Please call me back if that is easier.",
    "The problem comes and goes during the day.",
    "Nothing in our setup changed recently.",
];
const AGENT_REPLIES: [&str; 8] = [
    "Thanks for reporting this. Could you send the exact error text?",
    "I have reset the configuration on our side; please try again.",
    "We identified a known issue and a fix is being rolled out today.",
    "Could you confirm the version shown under Help > About?",
    "I have escalated this to our network team and will update you.",
    "Please clear the cache and sign in again.",
    "The refund was processed and should arrive within five days.",
    "Access has been granted; it may take an hour to propagate.",
];
const NOTES: [&str; 4] = [
    "Customer is on the legacy plan; check the contract before promising credits.",
    "Same root cause as the outage last week.",
    "Waiting on the vendor ticket VND-4411.",
    "VIP account, keep the manager in the loop.",
];
const CUSTOMER_REPLIES: [&str; 6] = [
    "Thanks, that fixed it.",
    "Still the same problem, unfortunately.",
    "Here is the error text: code 0x80070005.",
    "Tried it, it works now on the laptop but not on the phone.",
    "Any update on this?",
    "Great, you can close it.",
];
/// Every message text above rendered once: the seeded messages carry their
/// HTML like written ones, so the first read of a ticket stores nothing.
static RENDERED: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    AGENT_REPLIES
        .iter()
        .chain(&NOTES)
        .chain(&CUSTOMER_REPLIES)
        .map(|body| (*body, to_safe_html(body)))
        .collect()
});

const TAGS: [&str; 12] = [
    "billing",
    "vpn",
    "printer",
    "email",
    "hardware",
    "software",
    "vip",
    "outage",
    "password",
    "network",
    "refund",
    "onboarding",
];
const CHANNELS: [&str; 7] = ["web", "portal", "email", "whatsapp", "sms", "phone", "api"];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

struct Ticket {
    id: Uuid,
    number: i64,
    subject: String,
    description: String,
    status: &'static str,
    priority: &'static str,
    channel: &'static str,
    requester: Uuid,
    assignee: Option<Uuid>,
    tags: String,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    satisfaction: Option<i32>,
}

struct Message {
    id: Uuid,
    ticket: Uuid,
    author: Uuid,
    body: &'static str,
    public: bool,
    created_at: DateTime<Utc>,
}

/// One ticket and its conversation, shaped by its age: old tickets are
/// mostly closed, recent ones are spread over the open statuses.
fn ticket(
    rng: &mut StdRng,
    number: usize,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    customers: &[Uuid],
    agents: &[Uuid],
) -> (Ticket, Vec<Message>) {
    let id = Uuid::now_v7();
    let old = now - created_at > TimeDelta::days(30);
    let roll = rng.random_range(0..100);
    let status = match (old, roll) {
        (true, 0..85) => "closed",
        (true, 85..95) => "resolved",
        (true, _) => "pending",
        (false, 0..15) => "new",
        (false, 15..50) => "open",
        (false, 50..65) => "pending",
        (false, 65..70) => "on_hold",
        (false, 70..90) => "resolved",
        (false, _) => "closed",
    };
    let priority = match rng.random_range(0..100) {
        0..30 => "low",
        30..75 => "medium",
        75..95 => "high",
        _ => "urgent",
    };
    let requester = customers[rng.random_range(0..customers.len())];
    // Half of the untouched new tickets wait in Unassigned.
    let assignee = (status != "new" || rng.random_bool(0.5))
        .then(|| agents[rng.random_range(0..agents.len())]);
    let mut tags: Vec<&str> = (0..rng.random_range(0..=3))
        .map(|_| pick(rng, &TAGS))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let count = if number.is_multiple_of(LONG_TICKET_EVERY) {
        50
    } else if status == "new" {
        0
    } else {
        rng.random_range(1..=9)
    };
    let mut at = created_at;
    let mut messages = Vec::with_capacity(count);
    let mut first_response_at = None;
    for i in 0..count {
        at += TimeDelta::minutes(rng.random_range(5..600));
        let by_agent = i.is_multiple_of(2);
        let author = match (by_agent, assignee) {
            (true, Some(a)) => a,
            (true, None) => agents[rng.random_range(0..agents.len())],
            (false, _) => requester,
        };
        let internal = by_agent && rng.random_bool(0.1);
        let body = match (by_agent, internal) {
            (true, true) => pick(rng, &NOTES),
            (true, false) => pick(rng, &AGENT_REPLIES),
            (false, _) => pick(rng, &CUSTOMER_REPLIES),
        };
        if by_agent && !internal && first_response_at.is_none() {
            first_response_at = Some(at);
        }
        messages.push(Message {
            id: Uuid::now_v7(),
            ticket: id,
            author,
            body,
            public: !internal,
            created_at: at,
        });
    }
    let ended = matches!(status, "resolved" | "closed")
        .then(|| at + TimeDelta::minutes(rng.random_range(10..3000)))
        .map(|t| t.min(now));
    let satisfaction = ended
        .filter(|_| rng.random_bool(0.3))
        .map(|_| [5, 5, 5, 4, 4, 3, 2, 1][rng.random_range(0..8)]);
    let description = (0..rng.random_range(1..=3))
        .map(|_| pick(rng, &SENTENCES))
        .collect::<Vec<_>>()
        .join(" ");
    let ticket = Ticket {
        id,
        number: number as i64,
        subject: format!(
            "{} {} {}",
            pick(rng, &PROBLEMS),
            pick(rng, &OBJECTS),
            pick(rng, &CONTEXTS)
        ),
        description,
        status,
        priority,
        channel: pick(rng, &CHANNELS),
        requester,
        assignee,
        tags: tags.join(","),
        first_response_at,
        resolved_at: ended,
        closed_at: ended.filter(|_| status == "closed"),
        created_at,
        updated_at: ended.unwrap_or(at),
        satisfaction,
    };
    (ticket, messages)
}

/// Creates the `scale` organization with `tickets` tickets. Refuses to run
/// twice on the same database.
pub async fn scale(db: &Db, tickets: usize, password: &str) -> anyhow::Result<ScaleReport> {
    if orgs::find_by_slug(db, SCALE_ORG).await?.is_some() {
        anyhow::bail!("organization `{SCALE_ORG}` already exists; seed into a fresh database");
    }
    let org = orgs::insert(db, SCALE_ORG, "Scale Test Inc").await?.id;
    // One hash for every generated account: argon2 is slow on purpose.
    let hash = hash_password_blocking(password.to_owned()).await?;
    let now = Utc::now();
    let mut people = vec![(
        "admin@scale.test".to_owned(),
        "Scale Admin".to_owned(),
        "admin",
    )];
    people.extend((1..=AGENTS).map(|i| {
        (
            format!("agent{i:04}@scale.test"),
            format!("Agent {i:04}"),
            "agent",
        )
    }));
    people.extend((1..=CUSTOMERS).map(|i| {
        (
            format!("customer{i:05}@scale.test"),
            format!("Customer {i:05}"),
            "customer",
        )
    }));
    let ids: Vec<Uuid> = people.iter().map(|_| Uuid::now_v7()).collect();
    for (chunk, chunk_ids) in people.chunks(2_000).zip(ids.chunks(2_000)) {
        let mut q = query(
            "INSERT INTO users (id, organization_id, email, name, role, password_hash, active, created_at, updated_at) ",
        );
        q.push_values(chunk.iter().zip(chunk_ids), |((email, name, role), id)| {
            [
                (*id).into(),
                org.into(),
                email.into(),
                name.into(),
                (*role).into(),
                (&hash).into(),
                true.into(),
                now.into(),
                now.into(),
            ]
        });
        q.execute(db.writer()).await?;
    }
    let agents = &ids[1..=AGENTS];
    let customers = &ids[AGENTS + 1..];

    let mut rng = StdRng::seed_from_u64(0x5EED);
    let span = TimeDelta::days(730);
    let start = now - span;
    let mut messages_written = 0;
    let mut number = 0;
    while number < tickets {
        let mut batch = Vec::with_capacity(BATCH);
        let mut messages = Vec::with_capacity(BATCH * 6);
        for _ in 0..BATCH.min(tickets - number) {
            number += 1;
            // Spread creation times evenly over two years, oldest first.
            let offset = span.num_seconds() * number as i64 / tickets as i64;
            let created_at = start + TimeDelta::seconds(offset);
            let (t, mut m) = ticket(&mut rng, number, created_at, now, customers, agents);
            batch.push(t);
            messages.append(&mut m);
        }
        messages_written += messages.len();
        write_batch(db, org, &batch, &messages).await?;
        if number.is_multiple_of(50_000) || number == tickets {
            tracing::info!(tickets = number, messages = messages_written, "seeding");
        }
    }
    let last = tickets as i64;
    on_counter(db, org, last).await?;
    // Fresh statistics, as a database in use would have: without them the
    // planner guesses row counts from an empty table.
    query("ANALYZE").execute(db.writer()).await?;
    Ok(ScaleReport {
        tickets,
        messages: messages_written,
    })
}

async fn on_counter(db: &Db, org: Uuid, last: i64) -> Result<(), sqlx::Error> {
    query("INSERT INTO ticket_counters (organization_id, last_number) VALUES ($1, $2)")
        .bind(org)
        .bind(last)
        .execute(db.writer())
        .await
        .map(|_| ())
}

/// One transaction per batch of tickets and their messages.
async fn write_batch(
    db: &Db,
    org: Uuid,
    tickets: &[Ticket],
    messages: &[Message],
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut q = query(
        "INSERT INTO tickets (id, organization_id, number, subject, description, status, priority, \
         channel, requester_id, assignee_id, tags, first_response_at, resolved_at, closed_at, \
         created_at, updated_at, satisfaction_score) ",
    );
    q.push_values(tickets, |t| {
        [
            t.id.into(),
            org.into(),
            t.number.into(),
            (&t.subject).into(),
            (&t.description).into(),
            t.status.into(),
            t.priority.into(),
            t.channel.into(),
            t.requester.into(),
            t.assignee.into(),
            (&t.tags).into(),
            t.first_response_at.into(),
            t.resolved_at.into(),
            t.closed_at.into(),
            t.created_at.into(),
            t.updated_at.into(),
            t.satisfaction.into(),
        ]
    });
    q.execute(&mut tx).await?;
    for chunk in messages.chunks(2_000) {
        let mut q = query(
            "INSERT INTO ticket_comments (id, organization_id, ticket_id, author_id, body, body_html, public, created_at) ",
        );
        q.push_values(chunk, |m| {
            [
                m.id.into(),
                org.into(),
                m.ticket.into(),
                m.author.into(),
                m.body.into(),
                RENDERED.get(m.body).map(String::as_str).into(),
                m.public.into(),
                m.created_at.into(),
            ]
        });
        q.execute(&mut tx).await?;
    }
    tx.commit().await
}
