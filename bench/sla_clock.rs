//! The SLA clock's cost per ticket (docs/PERFORMANCE.md, "SLA clock"): a
//! Berlin calendar with split office hours and a year of public holidays
//! (or the simulator's maximum of 400), tickets created at every hour of
//! 2026 — so daylight-saving days and holidays are among them — each
//! evaluated as it will be on a change: just created (the due times to
//! store), and with a week of life (replies, pending, reopened, resolved).
//!
//! Run: `cargo bench --no-default-features --features ssr --bench sla_clock`
//! (a plain binary, no harness). Prints Markdown rows.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use fieldesk::domain::ticket::TicketStatus;
use fieldesk::engine::sla::{
    Calendar, Holidays, Interval, SlaEvent, SlaEventKind, Targets, WeeklyHours, evaluate,
};
use std::hint::black_box;
use std::time::Instant;

fn office_hours() -> WeeklyHours {
    let morning = Interval::new(8 * 60, 12 * 60).unwrap();
    let afternoon = Interval::new(13 * 60, 18 * 60).unwrap();
    WeeklyHours::on_days(0..5, &[morning, afternoon])
}

/// Germany's (Berlin's) public holidays of 2026 and 2027: the year a
/// ticket of 2026 can reach.
fn a_year_of_holidays() -> Holidays {
    let dates = [
        "2026-01-01",
        "2026-03-08",
        "2026-04-03",
        "2026-04-06",
        "2026-05-01",
        "2026-05-14",
        "2026-05-25",
        "2026-10-03",
        "2026-12-25",
        "2026-12-26",
        "2027-01-01",
        "2027-03-08",
        "2027-03-26",
        "2027-03-29",
        "2027-05-01",
        "2027-05-06",
        "2027-05-17",
    ];
    Holidays::new(
        dates.iter().map(|d| d.parse().unwrap()),
        &[(12, 24), (12, 31)],
    )
}

/// The simulator's maximum: 400 dates, every working Wednesday from 2026 on.
fn four_hundred_holidays() -> Holidays {
    let start = NaiveDate::from_ymd_opt(2026, 1, 7).unwrap();
    let dates = (0..400).map(|week| start + TimeDelta::weeks(week));
    Holidays::new(dates, &[])
}

fn targets() -> Targets {
    Targets {
        first_response: Some(240),
        next_response: Some(120),
        resolution: Some(960),
        business_hours: true,
    }
}

/// A ticket's week: answered, asked again, waiting on the customer,
/// reopened, answered, resolved.
fn a_week_of_life(created: DateTime<Utc>) -> Vec<SlaEvent> {
    let at = |hours: i64| created + TimeDelta::hours(hours);
    let status = |s| SlaEventKind::Status(s);
    [
        (0, SlaEventKind::Created),
        (3, SlaEventKind::AgentReply),
        (20, SlaEventKind::CustomerReply),
        (24, SlaEventKind::AgentReply),
        (25, status(TicketStatus::Pending)),
        (70, status(TicketStatus::Open)),
        (72, SlaEventKind::AgentReply),
        (150, status(TicketStatus::Resolved)),
    ]
    .into_iter()
    .map(|(hours, kind)| SlaEvent {
        at: at(hours),
        kind,
    })
    .collect()
}

/// Every hour of 2026 as a creation time.
fn creation_times() -> Vec<DateTime<Utc>> {
    let start = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    (0..365 * 24).map(|h| start + TimeDelta::hours(h)).collect()
}

/// Evaluates each ticket `rounds` times; nanoseconds per evaluation: mean,
/// p50, p99 (over the per-ticket means of the rounds).
fn measure(calendar: &Calendar, tickets: &[(Vec<SlaEvent>, DateTime<Utc>)]) -> (f64, f64, f64) {
    const ROUNDS: u32 = 20;
    let targets = targets();
    // Warm-up: one pass, not counted.
    for (events, now) in tickets {
        black_box(evaluate(calendar, &targets, events, *now));
    }
    let mut per_ticket: Vec<f64> = tickets
        .iter()
        .map(|(events, now)| {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                black_box(evaluate(calendar, &targets, black_box(events), *now));
            }
            started.elapsed().as_nanos() as f64 / f64::from(ROUNDS)
        })
        .collect();
    let mean = per_ticket.iter().sum::<f64>() / per_ticket.len() as f64;
    per_ticket.sort_by(f64::total_cmp);
    let quantile = |q: f64| per_ticket[((per_ticket.len() - 1) as f64 * q) as usize];
    (mean, quantile(0.5), quantile(0.99))
}

fn main() {
    let zone = chrono_tz::Europe::Berlin;
    let calendars = [
        (
            "a year of holidays (17 dates, 2 yearly)",
            a_year_of_holidays(),
        ),
        ("400 holidays", four_hundred_holidays()),
    ];
    let created = creation_times();
    let just_created: Vec<_> = created
        .iter()
        .map(|&at| (a_week_of_life(at)[..1].to_vec(), at))
        .collect();
    let a_week: Vec<_> = created
        .iter()
        .map(|&at| (a_week_of_life(at), at + TimeDelta::days(8)))
        .collect();
    println!("| calendar | ticket | per ticket: mean / p50 / p99 |");
    println!("| --- | --- | --- |");
    for (name, holidays) in calendars {
        let calendar = Calendar::business(zone, office_hours(), holidays).unwrap();
        for (ticket, tickets) in [
            ("just created (3 due times)", &just_created),
            ("a week of life (8 events)", &a_week),
        ] {
            let (mean, p50, p99) = measure(&calendar, tickets);
            println!(
                "| Berlin, split hours, {name} | {ticket} | {:.2} / {:.2} / {:.2} µs |",
                mean / 1e3,
                p50 / 1e3,
                p99 / 1e3
            );
        }
    }
    worst_simulator_request(zone);
}

/// The most work one simulator request can ask for within its bounds: a
/// calendar open eight single minutes a day, so no target of a year of
/// minutes is reached within the horizon (each addition walks all of it),
/// 200 events of which 99 start a next-response clock, and `now` three
/// years on (resolution time counted day by day).
fn worst_simulator_request(zone: chrono_tz::Tz) {
    use fieldesk::engine::sla::simulation::{MAX_EVENTS, MAX_SPAN_DAYS, MAX_TARGET_MINUTES};
    let minutes: Vec<Interval> = (0..8)
        .map(|i| Interval::new(9 * 60 + i * 30, 9 * 60 + i * 30 + 1).unwrap())
        .collect();
    let hours = WeeklyHours::on_days(0..7, &minutes);
    let calendar = Calendar::business(zone, hours, four_hundred_holidays()).unwrap();
    let most = u32::try_from(MAX_TARGET_MINUTES).unwrap();
    let targets = Targets {
        first_response: Some(most),
        next_response: Some(most),
        resolution: Some(most),
        business_hours: true,
    };
    let created = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let events: Vec<SlaEvent> = (0..MAX_EVENTS)
        .map(|i| SlaEvent {
            at: created + TimeDelta::hours(i as i64),
            kind: match i {
                0 => SlaEventKind::Created,
                odd if odd % 2 == 1 => SlaEventKind::AgentReply,
                _ => SlaEventKind::CustomerReply,
            },
        })
        .collect();
    let now = created + TimeDelta::days(MAX_SPAN_DAYS);
    let started = Instant::now();
    let report = black_box(evaluate(&calendar, &targets, &events, now));
    println!(
        "| worst simulator request (see bench/sla_clock.rs) | {} events, {} timeline entries | {:.1} ms |",
        events.len(),
        report.timeline.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
}
