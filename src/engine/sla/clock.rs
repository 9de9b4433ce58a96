//! The SLA clock over a ticket's life: from its events (created, replies,
//! status changes) and targets, when each target is due, whether it was
//! met, which were breached and when, and a timeline that says why.
//!
//! The rules:
//! - **First response** starts at creation and is met by the first public
//!   agent reply; resolving the ticket before any reply stops it (nobody
//!   waits for an answer any more; neither met nor breached unless its due
//!   time had already passed).
//! - **Next response** starts at a customer message that follows an agent
//!   reply (a run of customer messages starts it once, at the first) and is
//!   met by the next agent reply; resolving stops it. A customer message on
//!   a resolved or closed ticket starts nothing: whatever reopens the ticket
//!   sends its status change first.
//! - **Resolution** runs while the ticket is new or open, pauses while it
//!   is pending or on hold, and stops when it is resolved or closed; a
//!   reopened ticket resumes with the time it had left. Resolving it before
//!   the time runs out meets it; reopening undoes that until it is resolved
//!   again.
//! - A target is due when its time has run out (business time on the
//!   calendar, or real time); an answer exactly at the due time is in time.
//!   A breach is recorded once, at its due time, as soon as anything later
//!   has happened — an event or `now`.
//!
//! The response clocks do not pause: a pending ticket still owes an answer
//! to a question the customer has asked.

use super::calendar::Calendar;
use crate::domain::ticket::TicketStatus;
use crate::domain::wire_enum;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

wire_enum!(
    /// What the customer is promised.
    SlaTarget {
        FirstResponse => "first_response",
        NextResponse => "next_response",
        Resolution => "resolution",
    }
);

wire_enum!(
    /// What happened to a target's clock. `met`: answered or resolved in
    /// time; `breached`: its time ran out; `stopped`: it ended without
    /// being met (answered or resolved late, or the ticket was resolved
    /// while an answer was owed).
    Milestone {
        Started => "started",
        Paused => "paused",
        Resumed => "resumed",
        Met => "met",
        Breached => "breached",
        Stopped => "stopped",
    }
);

/// The promised times, in minutes; `None` promises nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub first_response: Option<u32>,
    pub next_response: Option<u32>,
    pub resolution: Option<u32>,
    /// Minutes of the calendar's open time, or else of real time.
    pub business_hours: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaEventKind {
    Created,
    /// A public reply by staff (an internal note is no answer and no event).
    AgentReply,
    CustomerReply,
    Status(TicketStatus),
}

/// Something that happened to the ticket, at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaEvent {
    pub at: DateTime<Utc>,
    pub kind: SlaEventKind,
}

/// Where each target stands at `now`, and how it got there. Instants are
/// `None` where a target does not apply or is undecided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlaReport {
    pub first_response_due_at: Option<DateTime<Utc>>,
    /// The due time of the answer owed now (a customer message waiting).
    pub next_response_due_at: Option<DateTime<Utc>>,
    /// While the clock runs (or once breached: the time it ran out); none
    /// while paused or stopped.
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// True: answered in time; false: breached; null: not yet decided, or
    /// resolved before any answer.
    pub first_response_met: Option<bool>,
    /// True: resolved in time (and not reopened); false: breached; null:
    /// not yet decided.
    pub resolution_met: Option<bool>,
    pub breaches: Vec<Breach>,
    /// Oldest first; entries at the same instant in the order they arose.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Breach {
    pub target: SlaTarget,
    pub due_at: DateTime<Utc>,
    /// The instant the time ran out: the due time (a paused or stopped
    /// clock never breaches).
    pub breached_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub target: SlaTarget,
    pub event: Milestone,
    /// The due time the clock runs against from here (started, resumed),
    /// or the one it met, missed or ran out at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// Resolution time left when it paused or stopped (negative: overdue),
    /// in minutes of the target's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_minutes: Option<i64>,
}

/// Evaluates the clocks over `events` as of `now`. The events are the
/// ticket's life in time order, starting with `Created`; without that start
/// no clock runs (an empty report). An event earlier than the one before it
/// counts as simultaneous with it, and events after `now` are not looked at.
pub fn evaluate(
    calendar: &Calendar,
    targets: &Targets,
    events: &[SlaEvent],
    now: DateTime<Utc>,
) -> SlaReport {
    let Some((created, rest)) = events.split_first() else {
        return SlaReport::default();
    };
    if created.kind != SlaEventKind::Created || created.at > now {
        return SlaReport::default();
    }
    let meter = if targets.business_hours {
        Meter::Business(calendar)
    } else {
        Meter::Elapsed
    };
    let mut clocks = Clocks::start(meter, targets, created.at);
    for event in rest.iter().take_while(|event| event.at <= now) {
        let at = event.at.max(clocks.now);
        clocks.advance_to(at);
        clocks.apply(event.kind, at);
    }
    clocks.advance_to(now.max(clocks.now));
    clocks.report()
}

/// How a target's minutes are counted.
#[derive(Clone, Copy)]
enum Meter<'a> {
    Business(&'a Calendar),
    Elapsed,
}

impl Meter<'_> {
    fn add(self, from: DateTime<Utc>, amount: TimeDelta) -> Option<DateTime<Utc>> {
        match self {
            Meter::Business(calendar) => calendar.add(from, amount),
            Meter::Elapsed => from.checked_add_signed(amount),
        }
    }

    fn between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        match self {
            Meter::Business(calendar) => calendar.between(from, to),
            Meter::Elapsed => (to - from).max(TimeDelta::zero()),
        }
    }
}

/// Whether the resolution clock counts in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Paused,
    Stopped,
}

impl Phase {
    fn of(status: TicketStatus) -> Phase {
        match status {
            TicketStatus::New | TicketStatus::Open => Phase::Running,
            TicketStatus::Pending | TicketStatus::OnHold => Phase::Paused,
            TicketStatus::Resolved | TicketStatus::Closed => Phase::Stopped,
        }
    }
}

/// A response owed: met by an agent reply, or breached at its due time.
#[derive(Debug, Clone, Copy)]
struct ResponseClock {
    target: SlaTarget,
    /// `None`: the calendar does not open enough within its horizon.
    due: Option<DateTime<Utc>>,
    breached: bool,
}

#[derive(Debug, Clone, Copy)]
struct ResolutionClock {
    phase: Phase,
    /// Time left when the running stretch began.
    left: TimeDelta,
    running_since: DateTime<Utc>,
    /// When `left` runs out if the clock keeps running.
    due: Option<DateTime<Utc>>,
    breached_at: Option<DateTime<Utc>>,
}

/// The clocks while the events are replayed.
struct Clocks<'a> {
    meter: Meter<'a>,
    targets: &'a Targets,
    /// How far the events have been replayed.
    now: DateTime<Utc>,
    phase: Phase,
    answered_once: bool,
    first_response_due: Option<DateTime<Utc>>,
    first_response_met: Option<bool>,
    first_response: Option<ResponseClock>,
    next_response: Option<ResponseClock>,
    resolution: Option<ResolutionClock>,
    breaches: Vec<Breach>,
    timeline: Vec<TimelineEntry>,
}

fn minutes(target: u32) -> TimeDelta {
    TimeDelta::minutes(i64::from(target))
}

impl<'a> Clocks<'a> {
    fn start(meter: Meter<'a>, targets: &'a Targets, created: DateTime<Utc>) -> Clocks<'a> {
        let mut clocks = Clocks {
            meter,
            targets,
            now: created,
            phase: Phase::Running,
            answered_once: false,
            first_response_due: None,
            first_response_met: None,
            first_response: None,
            next_response: None,
            resolution: None,
            breaches: Vec::new(),
            timeline: Vec::new(),
        };
        if let Some(target) = targets.first_response {
            let clock = clocks.start_response(SlaTarget::FirstResponse, target, created);
            clocks.first_response_due = clock.due;
            clocks.first_response = Some(clock);
        }
        if let Some(target) = targets.resolution {
            let left = minutes(target);
            let due = meter.add(created, left);
            clocks.resolution = Some(ResolutionClock {
                phase: Phase::Running,
                left,
                running_since: created,
                due,
                breached_at: None,
            });
            clocks.note(
                created,
                SlaTarget::Resolution,
                Milestone::Started,
                due,
                None,
            );
        }
        clocks
    }

    fn start_response(
        &mut self,
        target: SlaTarget,
        minutes_owed: u32,
        at: DateTime<Utc>,
    ) -> ResponseClock {
        let due = self.meter.add(at, minutes(minutes_owed));
        self.note(at, target, Milestone::Started, due, None);
        ResponseClock {
            target,
            due,
            breached: false,
        }
    }

    fn note(
        &mut self,
        at: DateTime<Utc>,
        target: SlaTarget,
        event: Milestone,
        due_at: Option<DateTime<Utc>>,
        remaining: Option<TimeDelta>,
    ) {
        self.timeline.push(TimelineEntry {
            at,
            target,
            event,
            due_at,
            remaining_minutes: remaining.map(|left| left.num_minutes()),
        });
    }

    fn breach(&mut self, target: SlaTarget, due_at: DateTime<Utc>) {
        self.breaches.push(Breach {
            target,
            due_at,
            breached_at: due_at,
        });
        self.note(due_at, target, Milestone::Breached, Some(due_at), None);
    }

    /// Moves time on to `to`: every running clock whose due time has passed
    /// (strictly: an answer at the due time is still in time) is breached.
    fn advance_to(&mut self, to: DateTime<Utc>) {
        for slot in [Slot::First, Slot::Next] {
            if let Some(mut clock) = *self.response(slot)
                && let Some(due) = clock.due.filter(|due| !clock.breached && *due < to)
            {
                clock.breached = true;
                *self.response(slot) = Some(clock);
                if slot == Slot::First {
                    self.first_response_met = Some(false);
                }
                self.breach(clock.target, due);
            }
        }
        if let Some(mut clock) = self.resolution
            && clock.phase == Phase::Running
            && clock.breached_at.is_none()
            && let Some(due) = clock.due.filter(|due| *due < to)
        {
            clock.breached_at = Some(due);
            self.resolution = Some(clock);
            self.breach(SlaTarget::Resolution, due);
        }
        self.now = to;
    }

    fn response(&mut self, slot: Slot) -> &mut Option<ResponseClock> {
        match slot {
            Slot::First => &mut self.first_response,
            Slot::Next => &mut self.next_response,
        }
    }

    fn apply(&mut self, kind: SlaEventKind, at: DateTime<Utc>) {
        match kind {
            // A second creation means nothing; the first started the clocks.
            SlaEventKind::Created => {}
            SlaEventKind::AgentReply => {
                self.answered_once = true;
                if let Some(clock) = self.first_response.take() {
                    let in_time = !clock.breached;
                    self.first_response_met = Some(in_time);
                    self.end_response(clock, at, in_time);
                }
                if let Some(clock) = self.next_response.take() {
                    self.end_response(clock, at, !clock.breached);
                }
            }
            SlaEventKind::CustomerReply => {
                let owed = self.answered_once
                    && self.next_response.is_none()
                    && self.phase != Phase::Stopped;
                if let (true, Some(target)) = (owed, self.targets.next_response) {
                    let clock = self.start_response(SlaTarget::NextResponse, target, at);
                    self.next_response = Some(clock);
                }
            }
            SlaEventKind::Status(status) => self.change_phase(Phase::of(status), at),
        }
    }

    fn end_response(&mut self, clock: ResponseClock, at: DateTime<Utc>, in_time: bool) {
        let event = if in_time {
            Milestone::Met
        } else {
            Milestone::Stopped
        };
        self.note(at, clock.target, event, clock.due, None);
    }

    fn change_phase(&mut self, phase: Phase, at: DateTime<Utc>) {
        let before = std::mem::replace(&mut self.phase, phase);
        if phase == before {
            return;
        }
        if phase == Phase::Stopped {
            // Resolved: no answer is owed any more.
            for clock in [self.first_response.take(), self.next_response.take()]
                .into_iter()
                .flatten()
            {
                self.end_response(clock, at, false);
            }
        }
        let Some(mut clock) = self.resolution else {
            return;
        };
        if clock.phase == Phase::Running {
            clock.left -= self.meter.between(clock.running_since, at);
        }
        let breached = clock.breached_at.is_some();
        let (event, due) = match phase {
            Phase::Running => {
                clock.running_since = at;
                clock.due = match clock.breached_at {
                    Some(ran_out) => Some(ran_out),
                    None => self.meter.add(at, clock.left),
                };
                (Milestone::Resumed, clock.due)
            }
            Phase::Paused => {
                // The due time is unknown until the clock runs again.
                clock.due = None;
                (Milestone::Paused, None)
            }
            Phase::Stopped if breached => (Milestone::Stopped, clock.breached_at),
            Phase::Stopped => (Milestone::Met, clock.due),
        };
        let left = (phase != Phase::Running).then_some(clock.left);
        clock.phase = phase;
        self.resolution = Some(clock);
        self.note(at, SlaTarget::Resolution, event, due, left);
    }

    fn report(mut self) -> SlaReport {
        self.timeline.sort_by_key(|entry| entry.at);
        let resolution = self.resolution;
        SlaReport {
            first_response_due_at: self.first_response_due,
            next_response_due_at: self.next_response.and_then(|clock| clock.due),
            resolution_due_at: resolution.and_then(|clock| match clock.breached_at {
                Some(ran_out) => Some(ran_out),
                None => clock.due.filter(|_| clock.phase == Phase::Running),
            }),
            first_response_met: self.first_response_met,
            resolution_met: resolution.and_then(|clock| match clock.breached_at {
                Some(_) => Some(false),
                None => (clock.phase == Phase::Stopped).then_some(true),
            }),
            breaches: self.breaches,
            timeline: self.timeline,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    First,
    Next,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sla::calendar::{Holidays, Interval, WeeklyHours};
    use Milestone::*;
    use SlaEventKind::*;
    use SlaTarget::*;
    use TicketStatus as S;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Monday to Friday 08:00–18:00, Berlin, closed on Christmas Day.
    fn berlin_office() -> Calendar {
        let hours = WeeklyHours::on_days(0..5, &[Interval::new(8 * 60, 18 * 60).unwrap()]);
        Calendar::business(
            chrono_tz::Europe::Berlin,
            hours,
            Holidays::new([], &[(12, 25)]),
        )
        .unwrap()
    }

    fn targets(first: Option<u32>, next: Option<u32>, resolution: Option<u32>) -> Targets {
        Targets {
            first_response: first,
            next_response: next,
            resolution,
            business_hours: true,
        }
    }

    fn events(list: &[(&str, SlaEventKind)]) -> Vec<SlaEvent> {
        list.iter()
            .map(|&(at, kind)| SlaEvent { at: utc(at), kind })
            .collect()
    }

    fn milestones(report: &SlaReport) -> Vec<(SlaTarget, Milestone, DateTime<Utc>)> {
        report
            .timeline
            .iter()
            .map(|entry| (entry.target, entry.event, entry.at))
            .collect()
    }

    // 2026-11-23 is a Monday.
    const MONDAY_5PM: &str = "2026-11-23T17:00:00+01:00";

    #[test]
    fn first_response_is_due_in_business_time_and_met_by_a_reply() {
        let calendar = berlin_office();
        let targets = targets(Some(240), None, None);
        let created = events(&[(MONDAY_5PM, Created)]);
        let report = evaluate(
            &calendar,
            &targets,
            &created,
            utc("2026-11-24T09:00:00+01:00"),
        );
        assert_eq!(
            report.first_response_due_at,
            Some(utc("2026-11-24T11:00:00+01:00"))
        );
        assert_eq!(report.first_response_met, None, "not decided yet");
        assert!(report.breaches.is_empty());

        let answered = events(&[
            (MONDAY_5PM, Created),
            ("2026-11-24T10:59:00+01:00", AgentReply),
        ]);
        let report = evaluate(&calendar, &targets, &answered, utc("2026-11-30T00:00:00Z"));
        assert_eq!(report.first_response_met, Some(true));
        assert_eq!(
            milestones(&report),
            [
                (FirstResponse, Started, utc(MONDAY_5PM)),
                (FirstResponse, Met, utc("2026-11-24T10:59:00+01:00")),
            ]
        );
    }

    #[test]
    fn a_reply_exactly_at_the_due_time_is_in_time_and_a_second_later_is_not() {
        let calendar = berlin_office();
        let targets = targets(Some(240), None, None);
        let due = "2026-11-24T11:00:00+01:00";
        let on_time = events(&[(MONDAY_5PM, Created), (due, AgentReply)]);
        let report = evaluate(&calendar, &targets, &on_time, utc(due));
        assert_eq!(report.first_response_met, Some(true));
        // Nothing answered and `now` exactly at the due time: still open.
        let waiting = events(&[(MONDAY_5PM, Created)]);
        let report = evaluate(&calendar, &targets, &waiting, utc(due));
        assert_eq!(report.first_response_met, None);
        assert!(report.breaches.is_empty());

        let late = events(&[
            (MONDAY_5PM, Created),
            ("2026-11-24T11:00:01+01:00", AgentReply),
        ]);
        let report = evaluate(&calendar, &targets, &late, utc("2026-11-25T00:00:00Z"));
        assert_eq!(report.first_response_met, Some(false));
        assert_eq!(
            report.breaches,
            [Breach {
                target: FirstResponse,
                due_at: utc(due),
                breached_at: utc(due)
            }]
        );
        assert_eq!(
            milestones(&report),
            [
                (FirstResponse, Started, utc(MONDAY_5PM)),
                (FirstResponse, Breached, utc(due)),
                (FirstResponse, Stopped, utc("2026-11-24T11:00:01+01:00")),
            ]
        );
    }

    #[test]
    fn a_ticket_created_after_hours_starts_counting_at_the_next_opening() {
        let calendar = berlin_office();
        let targets = targets(Some(60), None, None);
        // Friday 27 November 18:00 sharp, the closing: due Monday 09:00.
        let friday_closing = events(&[("2026-11-27T18:00:00+01:00", Created)]);
        let report = evaluate(
            &calendar,
            &targets,
            &friday_closing,
            utc("2026-11-27T18:00:00+01:00"),
        );
        assert_eq!(
            report.first_response_due_at,
            Some(utc("2026-11-30T09:00:00+01:00"))
        );
    }

    #[test]
    fn next_response_is_owed_after_each_customer_message_that_follows_an_answer() {
        let calendar = berlin_office();
        let targets = targets(Some(60), Some(120), None);
        let life = events(&[
            ("2026-11-24T09:00:00+01:00", Created),
            // Before the first answer: the first response covers it.
            ("2026-11-24T09:10:00+01:00", CustomerReply),
            ("2026-11-24T09:30:00+01:00", AgentReply),
            // Two messages: the clock starts at the first.
            ("2026-11-24T10:00:00+01:00", CustomerReply),
            ("2026-11-24T11:00:00+01:00", CustomerReply),
            ("2026-11-24T11:30:00+01:00", AgentReply),
            // At 17:00, answered Wednesday 10:00: an hour late.
            ("2026-11-24T17:00:00+01:00", CustomerReply),
            ("2026-11-25T10:00:00+01:00", AgentReply),
            ("2026-11-25T10:30:00+01:00", CustomerReply),
        ]);
        let report = evaluate(&calendar, &targets, &life, utc("2026-11-25T11:00:00+01:00"));
        assert_eq!(report.first_response_met, Some(true));
        assert_eq!(
            report.next_response_due_at,
            Some(utc("2026-11-25T12:30:00+01:00")),
            "the answer owed now"
        );
        assert_eq!(
            report.breaches,
            [Breach {
                target: NextResponse,
                due_at: utc("2026-11-25T09:00:00+01:00"),
                breached_at: utc("2026-11-25T09:00:00+01:00"),
            }]
        );
        let next: Vec<_> = milestones(&report)
            .into_iter()
            .filter(|(target, ..)| *target == NextResponse)
            .map(|(_, event, at)| (event, at))
            .collect();
        assert_eq!(
            next,
            [
                (Started, utc("2026-11-24T10:00:00+01:00")),
                (Met, utc("2026-11-24T11:30:00+01:00")),
                (Started, utc("2026-11-24T17:00:00+01:00")),
                (Breached, utc("2026-11-25T09:00:00+01:00")),
                (Stopped, utc("2026-11-25T10:00:00+01:00")),
                (Started, utc("2026-11-25T10:30:00+01:00")),
            ]
        );
    }

    #[test]
    fn pending_over_a_weekend_pauses_resolution_and_open_resumes_it() {
        let calendar = berlin_office();
        // 16 business hours.
        let targets = targets(None, None, Some(960));
        let life = events(&[
            // Thursday 09:00; 9 hours used by Thursday 18:00.
            ("2026-11-26T09:00:00+01:00", Created),
            // Friday 10:00 to pending: 11 hours used, 5 left.
            ("2026-11-27T10:00:00+01:00", Status(S::Pending)),
            // The customer answers on Saturday; the clock resumes, but the
            // calendar is closed until Monday 08:00: due 13:00.
            ("2026-11-28T12:00:00+01:00", Status(S::Open)),
        ]);
        let saturday = utc("2026-11-28T13:00:00+01:00");
        let report = evaluate(&calendar, &targets, &life, saturday);
        assert_eq!(
            report.resolution_due_at,
            Some(utc("2026-11-30T13:00:00+01:00"))
        );
        assert_eq!(report.resolution_met, None);
        let paused = &report.timeline[1];
        assert_eq!(
            (paused.event, paused.remaining_minutes),
            (Paused, Some(300))
        );
        assert_eq!(report.timeline[2].event, Resumed);

        // While pending there is no due time, and no breach however long.
        let still_pending = &life[..2];
        let report = evaluate(
            &calendar,
            &targets,
            still_pending,
            utc("2026-12-31T00:00:00Z"),
        );
        assert_eq!(report.resolution_due_at, None);
        assert!(report.breaches.is_empty());
    }

    #[test]
    fn resolving_in_time_meets_and_reopening_resumes_with_the_time_left() {
        let calendar = berlin_office();
        let targets = targets(None, None, Some(600));
        let life = events(&[
            ("2026-11-24T08:00:00+01:00", Created),
            ("2026-11-24T12:00:00+01:00", Status(S::Resolved)),
        ]);
        let report = evaluate(&calendar, &targets, &life, utc("2026-11-24T13:00:00+01:00"));
        assert_eq!(report.resolution_met, Some(true));
        assert_eq!(report.resolution_due_at, None, "nothing more is due");
        let met = report.timeline.last().unwrap();
        assert_eq!((met.event, met.remaining_minutes), (Met, Some(360)));

        // Reopened on Wednesday 09:00 with 6 hours left: due 15:00; the met
        // is undone until it is resolved again, and this time it is late.
        let mut reopened = life.clone();
        reopened.extend(events(&[
            ("2026-11-25T09:00:00+01:00", Status(S::Open)),
            ("2026-11-25T16:00:00+01:00", Status(S::Closed)),
        ]));
        let report = evaluate(
            &calendar,
            &targets,
            &reopened[..3],
            utc("2026-11-25T10:00:00+01:00"),
        );
        assert_eq!(report.resolution_met, None);
        assert_eq!(
            report.resolution_due_at,
            Some(utc("2026-11-25T15:00:00+01:00"))
        );
        let report = evaluate(&calendar, &targets, &reopened, utc("2026-11-26T00:00:00Z"));
        assert_eq!(report.resolution_met, Some(false));
        assert_eq!(report.breaches.len(), 1);
        assert_eq!(report.breaches[0].due_at, utc("2026-11-25T15:00:00+01:00"));
        let last = report.timeline.last().unwrap();
        assert_eq!((last.event, last.remaining_minutes), (Stopped, Some(-60)));
    }

    #[test]
    fn a_breach_is_recorded_once_and_not_for_a_paused_or_met_clock() {
        let calendar = Calendar::AlwaysOpen;
        let targets = targets(Some(30), None, Some(60));
        let life = events(&[
            ("2026-11-24T08:00:00Z", Created),
            ("2026-11-24T08:10:00Z", AgentReply),
            ("2026-11-24T08:50:00Z", Status(S::OnHold)),
            ("2026-11-25T08:00:00Z", Status(S::Open)),
            // 10 minutes were left: due 08:10, breached, then more events.
            ("2026-11-25T09:00:00Z", CustomerReply),
            ("2026-11-25T10:00:00Z", Status(S::Pending)),
            ("2026-11-25T11:00:00Z", Status(S::Open)),
        ]);
        let report = evaluate(&calendar, &targets, &life, utc("2026-11-26T00:00:00Z"));
        assert_eq!(
            report.breaches,
            [Breach {
                target: Resolution,
                due_at: utc("2026-11-25T08:10:00Z"),
                breached_at: utc("2026-11-25T08:10:00Z"),
            }]
        );
        assert_eq!(report.first_response_met, Some(true));
        assert_eq!(report.resolution_met, Some(false));
        assert_eq!(report.resolution_due_at, Some(utc("2026-11-25T08:10:00Z")));
    }

    #[test]
    fn resolving_before_any_answer_stops_the_response_clock_without_a_verdict() {
        let calendar = Calendar::AlwaysOpen;
        let targets = targets(Some(60), Some(60), Some(600));
        let life = events(&[
            ("2026-11-24T08:00:00Z", Created),
            ("2026-11-24T08:20:00Z", Status(S::Resolved)),
        ]);
        let report = evaluate(&calendar, &targets, &life, utc("2026-11-30T00:00:00Z"));
        assert_eq!(report.first_response_met, None);
        assert_eq!(report.resolution_met, Some(true));
        assert!(report.breaches.is_empty());
        assert_eq!(
            milestones(&report),
            [
                (FirstResponse, Started, utc("2026-11-24T08:00:00Z")),
                (Resolution, Started, utc("2026-11-24T08:00:00Z")),
                (FirstResponse, Stopped, utc("2026-11-24T08:20:00Z")),
                (Resolution, Met, utc("2026-11-24T08:20:00Z")),
            ]
        );
        // A "thank you" on the resolved ticket owes no answer.
        let mut thanked = life.clone();
        thanked.extend(events(&[
            ("2026-11-24T08:30:00Z", AgentReply),
            ("2026-11-24T08:40:00Z", CustomerReply),
        ]));
        let report = evaluate(&calendar, &targets, &thanked, utc("2026-11-30T00:00:00Z"));
        assert_eq!(report.next_response_due_at, None);
        assert!(report.breaches.is_empty());
    }

    #[test]
    fn calendar_minutes_ignore_the_calendar() {
        let calendar = berlin_office();
        let mut real_time = targets(Some(240), None, None);
        real_time.business_hours = false;
        let created = events(&[(MONDAY_5PM, Created)]);
        let report = evaluate(&calendar, &real_time, &created, utc(MONDAY_5PM));
        assert_eq!(
            report.first_response_due_at,
            Some(utc("2026-11-23T21:00:00+01:00"))
        );
    }

    #[test]
    fn without_a_created_event_or_targets_nothing_runs() {
        let calendar = Calendar::AlwaysOpen;
        let all = targets(Some(1), Some(1), Some(1));
        let no_start = events(&[("2026-11-24T08:00:00Z", AgentReply)]);
        let now = utc("2026-11-30T00:00:00Z");
        assert_eq!(
            evaluate(&calendar, &all, &no_start, now),
            SlaReport::default()
        );
        assert_eq!(evaluate(&calendar, &all, &[], now), SlaReport::default());
        let none = targets(None, None, None);
        let created = events(&[("2026-11-24T08:00:00Z", Created)]);
        assert_eq!(
            evaluate(&calendar, &none, &created, now),
            SlaReport::default()
        );
    }

    #[test]
    fn events_after_now_are_not_looked_at() {
        let calendar = Calendar::AlwaysOpen;
        let targets = targets(Some(60), None, None);
        let life = events(&[
            ("2026-11-24T08:00:00Z", Created),
            ("2026-11-24T08:30:00Z", AgentReply),
        ]);
        let report = evaluate(&calendar, &targets, &life, utc("2026-11-24T08:10:00Z"));
        assert_eq!(report.first_response_met, None);
    }
}
