//! The simulator's input (`POST /api/v1/sla/simulate`): a calendar, targets
//! and a ticket's events as a client writes them, checked into the types
//! the clock runs on, every problem reported at once under its field
//! (`calendar.hours.mon[1]`, `events[3].at`). Every list is bounded, so a
//! request costs a bounded amount of work.

use super::calendar::{
    Calendar, Holidays, Interval, MINUTES_PER_DAY, NeverOpen, Overlap, WeeklyHours,
};
use super::clock::{SlaEvent, SlaEventKind, Targets};
use crate::domain::ticket::TicketStatus;
use crate::domain::{ApiError, FieldErrors};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const MAX_EVENTS: usize = 200;
pub const MAX_INTERVALS_PER_DAY: usize = 8;
/// Decades of public holidays; the lookup is a binary search.
pub const MAX_HOLIDAYS: usize = 400;
/// A year of minutes.
pub const MAX_TARGET_MINUTES: i64 = 365 * 24 * 60;
/// How far after creation events and `now` may lie: the business time
/// between two instants is counted day by day.
pub const MAX_SPAN_DAYS: i64 = 3 * 366;

/// The weekday keys of `hours`, Monday first.
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SimulationRequest {
    #[serde(default)]
    pub calendar: CalendarSpec,
    #[serde(default)]
    pub targets: TargetsSpec,
    /// The ticket's life, oldest first, starting with `created`.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// The instant to evaluate at (RFC 3339); by default the server's clock,
    /// or the last event if that is later.
    pub now: Option<String>,
}

/// Weekly hours in a time zone, or always open.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"timezone": "Europe/Berlin",
    "hours": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "fri": [["08:00", "16:00"]]},
    "holidays": ["2026-12-24", "12-25"]}))]
pub struct CalendarSpec {
    /// An IANA zone name, e.g. `Europe/Berlin` (not needed when always open).
    pub timezone: Option<String>,
    /// `mon` … `sun`: intervals `["HH:MM", "HH:MM"]` in local wall-clock
    /// time; `"24:00"` ends a day. A day left out is closed.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<Vec<String>>>,
    /// Closed days: `YYYY-MM-DD` once, `MM-DD` every year.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Open every minute of every day (24/7): no zone, hours or holidays.
    #[serde(default)]
    pub always_open: bool,
}

/// Each target in minutes, or null for none.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TargetsSpec {
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// Count minutes the calendar is open (default) or all minutes.
    #[serde(default = "counts_business_hours")]
    pub business_hours: bool,
}

impl Default for TargetsSpec {
    fn default() -> Self {
        TargetsSpec {
            first_response_minutes: None,
            next_response_minutes: None,
            resolution_minutes: None,
            business_hours: counts_business_hours(),
        }
    }
}

fn counts_business_hours() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct EventSpec {
    /// RFC 3339, any offset.
    #[serde(default)]
    pub at: String,
    /// `created`, `agent_reply` (public), `customer_reply` or `status`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The new status of a `status` event.
    pub status: Option<String>,
}

/// A checked simulation, ready for `clock::evaluate`.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub calendar: Calendar,
    pub targets: Targets,
    pub events: Vec<SlaEvent>,
    now: Option<DateTime<Utc>>,
}

impl Simulation {
    /// The instant to evaluate at: the one asked for, else the server's
    /// clock or the last event if that is later — no later than
    /// `MAX_SPAN_DAYS` after creation.
    pub fn now_or(&self, server_now: DateTime<Utc>) -> DateTime<Utc> {
        if let Some(now) = self.now {
            return now;
        }
        let created = self.events[0].at;
        let last = self.events.last().map_or(created, |event| event.at);
        server_now
            .max(last)
            .min(created + TimeDelta::days(MAX_SPAN_DAYS))
    }
}

pub fn validate(request: SimulationRequest) -> Result<Simulation, ApiError> {
    let mut errs = FieldErrors::new();
    let calendar = check_calendar(request.calendar, &mut errs);
    let targets = check_targets(&request.targets, &mut errs);
    let events = check_events(request.events, &mut errs);
    let now = request.now.as_deref().and_then(|raw| {
        let now = parse_instant(raw, "now", &mut errs)?;
        if let Some(last) = events.last() {
            errs.check(
                now >= last.at,
                "now",
                "`now` must not be before the last event",
            );
            errs.check(
                now - events[0].at <= TimeDelta::days(MAX_SPAN_DAYS),
                "now",
                &format!("`now` may be at most {MAX_SPAN_DAYS} days after creation"),
            );
        }
        Some(now)
    });
    errs.into_result()?;
    Ok(Simulation {
        calendar: calendar.expect("a calendar when no field is wrong"),
        targets,
        events,
        now,
    })
}

/// A stored or submitted calendar alone, checked as the simulator checks
/// it (field names without the `calendar.` prefix: `timezone`,
/// `hours.mon[0]`, `holidays[2]`).
pub fn check_calendar_spec(spec: CalendarSpec) -> Result<Calendar, ApiError> {
    let mut errs = FieldErrors::new();
    let calendar = check_calendar(spec, &mut errs);
    if let Err(mut err) = errs.into_result() {
        err.fields = std::mem::take(&mut err.fields)
            .into_iter()
            .map(|(field, message)| {
                let field = field.strip_prefix("calendar.").unwrap_or(&field).to_owned();
                (field, message)
            })
            .collect();
        return Err(err);
    }
    calendar.ok_or_else(ApiError::internal)
}

fn check_calendar(spec: CalendarSpec, errs: &mut FieldErrors) -> Option<Calendar> {
    let zone = spec.timezone.as_deref().map(str::trim).and_then(|name| {
        let zone = name.parse::<chrono_tz::Tz>().ok();
        errs.check(
            zone.is_some(),
            "calendar.timezone",
            &format!("Unknown time zone `{name}`; use an IANA name such as Europe/Berlin"),
        );
        zone
    });
    if spec.always_open {
        errs.check(
            spec.hours.is_empty(),
            "calendar.hours",
            "An always-open calendar has no hours",
        );
        errs.check(
            spec.holidays.is_empty(),
            "calendar.holidays",
            "An always-open calendar has no holidays; give hours 00:00–24:00 on every day instead",
        );
        return Some(Calendar::AlwaysOpen);
    }
    errs.check(
        spec.timezone.is_some(),
        "calendar.timezone",
        "Give the calendar's IANA time zone, e.g. Europe/Berlin (or set always_open)",
    );
    let hours = check_hours(spec.hours, errs);
    let holidays = check_holidays(&spec.holidays, errs);
    match Calendar::business(zone?, hours?, holidays?) {
        Ok(calendar) => Some(calendar),
        Err(NeverOpen) => {
            errs.add(
                "calendar.hours",
                "Open at least one interval in the week (or set always_open)",
            );
            None
        }
    }
}

fn check_hours(
    spec: BTreeMap<String, Vec<Vec<String>>>,
    errs: &mut FieldErrors,
) -> Option<WeeklyHours> {
    let mut days: [Vec<Interval>; 7] = Default::default();
    let mut valid = true;
    for (key, intervals) in &spec {
        let field = format!("calendar.hours.{key}");
        let Some(weekday) = WEEKDAYS.iter().position(|day| day == key) else {
            errs.add(&field, "Use the days mon, tue, wed, thu, fri, sat and sun");
            valid = false;
            continue;
        };
        if intervals.len() > MAX_INTERVALS_PER_DAY {
            errs.add(
                &field,
                format!("Give at most {MAX_INTERVALS_PER_DAY} intervals a day"),
            );
            valid = false;
            continue;
        }
        for (i, pair) in intervals.iter().enumerate() {
            match check_interval(pair) {
                Ok(interval) => days[weekday].push(interval),
                Err(message) => {
                    errs.add(&format!("{field}[{i}]"), message);
                    valid = false;
                }
            }
        }
    }
    if !valid {
        return None;
    }
    match WeeklyHours::new(days) {
        Ok(hours) => Some(hours),
        Err(Overlap { weekday }) => {
            errs.add(
                &format!("calendar.hours.{}", WEEKDAYS[weekday]),
                "Two intervals of this day overlap",
            );
            None
        }
    }
}

fn check_interval(pair: &[String]) -> Result<Interval, &'static str> {
    let [start, end] = pair else {
        return Err("Give an interval as [\"HH:MM\", \"HH:MM\"]");
    };
    let (Some(start), Some(end)) = (wall_clock_minute(start), wall_clock_minute(end)) else {
        return Err("Write times as HH:MM, from 00:00 to 24:00");
    };
    Interval::new(start, end).ok_or("The interval must end after it starts")
}

/// `"HH:MM"` as minutes after midnight; `"24:00"` is the day's end.
fn wall_clock_minute(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let all_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || !all_digits(minutes) {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    let minute = hours * 60 + minutes;
    (minutes < 60 && minute <= MINUTES_PER_DAY).then_some(minute)
}

fn check_holidays(spec: &[String], errs: &mut FieldErrors) -> Option<Holidays> {
    if spec.len() > MAX_HOLIDAYS {
        errs.add(
            "calendar.holidays",
            format!("Give at most {MAX_HOLIDAYS} holidays"),
        );
        return None;
    }
    let mut dates = Vec::new();
    let mut yearly = Vec::new();
    let mut valid = true;
    for (i, text) in spec.iter().enumerate() {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            dates.push(date);
        } else if let Some(month_day) = yearly_date(text) {
            yearly.push(month_day);
        } else {
            errs.add(
                &format!("calendar.holidays[{i}]"),
                "Write a date as YYYY-MM-DD, or MM-DD for every year",
            );
            valid = false;
        }
    }
    valid.then(|| Holidays::new(dates, &yearly))
}

/// `"MM-DD"`, a day that exists in some year (29 February does).
fn yearly_date(text: &str) -> Option<(u32, u32)> {
    let (month, day) = text.split_once('-')?;
    if month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (month, day) = (month.parse().ok()?, day.parse().ok()?);
    const LEAP_YEAR: i32 = 2000;
    NaiveDate::from_ymd_opt(LEAP_YEAR, month, day).map(|_| (month, day))
}

fn check_targets(spec: &TargetsSpec, errs: &mut FieldErrors) -> Targets {
    let mut target = |field: &str, minutes: Option<i64>| {
        let minutes = minutes?;
        let in_range = (1..=MAX_TARGET_MINUTES).contains(&minutes);
        errs.check(
            in_range,
            &format!("targets.{field}"),
            &format!("Use 1 to {MAX_TARGET_MINUTES} minutes, or null for no target"),
        );
        u32::try_from(minutes).ok().filter(|_| in_range)
    };
    Targets {
        first_response: target("first_response_minutes", spec.first_response_minutes),
        next_response: target("next_response_minutes", spec.next_response_minutes),
        resolution: target("resolution_minutes", spec.resolution_minutes),
        business_hours: spec.business_hours,
    }
}

fn check_events(spec: Vec<EventSpec>, errs: &mut FieldErrors) -> Vec<SlaEvent> {
    if spec.is_empty() {
        errs.add(
            "events",
            "Send the ticket's events, starting with `created`",
        );
        return Vec::new();
    }
    if spec.len() > MAX_EVENTS {
        errs.add("events", format!("Send at most {MAX_EVENTS} events"));
        return Vec::new();
    }
    let mut events: Vec<SlaEvent> = Vec::with_capacity(spec.len());
    let mut complete = true;
    for (i, event) in spec.iter().enumerate() {
        let field = |name: &str| format!("events[{i}].{name}");
        let kind = check_event_kind(event, i, &field, errs);
        let at = parse_instant(&event.at, &field("at"), errs);
        if let (Some(at), Some(previous)) = (at, events.last()) {
            errs.check(
                at >= previous.at,
                &field("at"),
                "Events must be in time order (this one is before the one above)",
            );
        }
        if let (Some(at), Some(created)) = (at, events.first()) {
            errs.check(
                at - created.at <= TimeDelta::days(MAX_SPAN_DAYS),
                &field("at"),
                &format!("Events may be at most {MAX_SPAN_DAYS} days after creation"),
            );
        }
        match (at, kind, complete) {
            (Some(at), Some(kind), true) => events.push(SlaEvent { at, kind }),
            // After a bad event, the rest are still checked for their own
            // fields, but no longer against a history that has a gap.
            _ => complete = false,
        }
    }
    events
}

fn check_event_kind(
    event: &EventSpec,
    index: usize,
    field: &dyn Fn(&str) -> String,
    errs: &mut FieldErrors,
) -> Option<SlaEventKind> {
    let kind = match event.kind.trim() {
        "created" => Some(SlaEventKind::Created),
        "agent_reply" => Some(SlaEventKind::AgentReply),
        "customer_reply" => Some(SlaEventKind::CustomerReply),
        "status" => {
            let status = event.status.as_deref().map(str::trim);
            let parsed = status.and_then(TicketStatus::parse);
            errs.check(
                parsed.is_some(),
                &field("status"),
                "Use new, open, pending, on_hold, resolved or closed",
            );
            parsed.map(SlaEventKind::Status)
        }
        _ => {
            errs.add(
                &field("type"),
                "Use created, agent_reply, customer_reply or status",
            );
            None
        }
    };
    if !matches!(kind, Some(SlaEventKind::Status(_)) | None) {
        errs.check(
            event.status.is_none(),
            &field("status"),
            "Only a `status` event has a status",
        );
    }
    let created = kind == Some(SlaEventKind::Created);
    if index == 0 {
        errs.check(created, &field("type"), "The first event must be `created`");
    } else {
        errs.check(
            !created,
            &field("type"),
            "A ticket is created once: only the first event is `created`",
        );
    }
    kind
}

fn parse_instant(raw: &str, field: &str, errs: &mut FieldErrors) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(raw.trim()).ok();
    errs.check(
        parsed.is_some(),
        field,
        "Give the time in RFC 3339, e.g. 2026-11-23T17:00:00+01:00",
    );
    parsed.map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn request(body: Value) -> SimulationRequest {
        serde_json::from_value(body).unwrap()
    }

    fn berlin() -> Value {
        json!({
            "calendar": {"timezone": "Europe/Berlin",
                "hours": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "tue": [["08:00", "24:00"]]},
                "holidays": ["2026-12-24", "12-25", "02-29"]},
            "targets": {"first_response_minutes": 240, "next_response_minutes": null,
                "resolution_minutes": 960},
            "events": [
                {"at": "2026-11-23T17:00:00+01:00", "type": "created"},
                {"at": "2026-11-24T09:00:00+01:00", "type": "status", "status": "pending"},
                {"at": "2026-11-24T10:00:00Z", "type": "agent_reply"}
            ],
            "now": "2026-11-25T00:00:00Z"
        })
    }

    fn field_errors(body: Value) -> Vec<(String, String)> {
        let err = validate(request(body)).unwrap_err();
        assert_eq!(err.kind.status(), 422);
        err.fields.into_iter().collect()
    }

    fn fields(body: Value) -> Vec<String> {
        field_errors(body)
            .into_iter()
            .map(|(field, _)| field)
            .collect()
    }

    #[test]
    fn a_valid_request_becomes_a_simulation() {
        let simulation = validate(request(berlin())).unwrap();
        assert!(matches!(simulation.calendar, Calendar::Business(_)));
        assert_eq!(simulation.targets.first_response, Some(240));
        assert_eq!(simulation.targets.next_response, None);
        assert!(
            simulation.targets.business_hours,
            "business hours by default"
        );
        assert_eq!(simulation.events.len(), 3);
        assert_eq!(
            simulation.events[1].kind,
            SlaEventKind::Status(TicketStatus::Pending)
        );
        let server_now = DateTime::<Utc>::MIN_UTC;
        assert_eq!(
            simulation.now_or(server_now).to_rfc3339(),
            "2026-11-25T00:00:00+00:00"
        );
    }

    #[test]
    fn now_defaults_to_the_server_clock_or_the_last_event_within_the_span() {
        let mut body = berlin();
        body["now"] = Value::Null;
        let simulation = validate(request(body)).unwrap();
        let last = simulation.events[2].at;
        assert_eq!(simulation.now_or(last - TimeDelta::days(1)), last);
        assert_eq!(
            simulation.now_or(last + TimeDelta::hours(1)),
            last + TimeDelta::hours(1)
        );
        let created = simulation.events[0].at;
        assert_eq!(
            simulation.now_or(created + TimeDelta::days(10 * 365)),
            created + TimeDelta::days(MAX_SPAN_DAYS)
        );
    }

    #[test]
    fn an_always_open_calendar_needs_nothing_else_and_takes_nothing_else() {
        let mut body = berlin();
        body["calendar"] = json!({"always_open": true});
        let simulation = validate(request(body.clone())).unwrap();
        assert_eq!(simulation.calendar, Calendar::AlwaysOpen);
        body["calendar"] = json!({"always_open": true, "hours": {"mon": [["08:00", "18:00"]]},
            "holidays": ["12-25"]});
        assert_eq!(fields(body), ["calendar.holidays", "calendar.hours"]);
    }

    #[test]
    fn each_bad_calendar_field_is_named() {
        let mut body = berlin();
        body["calendar"]["timezone"] = json!("Europe/Atlantis");
        assert_eq!(fields(body), ["calendar.timezone"]);

        let mut body = berlin();
        body["calendar"]["timezone"] = Value::Null;
        assert_eq!(fields(body), ["calendar.timezone"]);

        let mut body = berlin();
        body["calendar"]["hours"] = json!({
            "mon": [["18:00", "08:00"], ["8:00", "09:00"], ["08:00"], ["24:00", "24:00"], ["12:60", "13:00"]],
            "tue": [["08:00", "24:01"]],
            "someday": [["08:00", "09:00"]],
        });
        let errors = field_errors(body);
        let named: Vec<&str> = errors.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "calendar.hours.mon[0]",
                "calendar.hours.mon[1]",
                "calendar.hours.mon[2]",
                "calendar.hours.mon[3]",
                "calendar.hours.mon[4]",
                "calendar.hours.someday",
                "calendar.hours.tue[0]",
            ]
        );
        assert_eq!(errors[0].1, "The interval must end after it starts");

        let mut body = berlin();
        body["calendar"]["hours"] = json!({"wed": [["13:00", "18:00"], ["08:00", "13:30"]]});
        assert_eq!(fields(body), ["calendar.hours.wed"]);

        let mut body = berlin();
        body["calendar"]["hours"] = json!({"sat": []});
        assert_eq!(fields(body), ["calendar.hours"]);

        let mut body = berlin();
        body["calendar"]["holidays"] = json!(["2026-12-24", "25.12.", "02-30", "2026-02-29"]);
        assert_eq!(
            fields(body),
            [
                "calendar.holidays[1]",
                "calendar.holidays[2]",
                "calendar.holidays[3]"
            ]
        );
    }

    #[test]
    fn lists_are_bounded() {
        let mut body = berlin();
        body["calendar"]["hours"]["fri"] =
            json!(vec![["08:00", "09:00"]; MAX_INTERVALS_PER_DAY + 1]);
        assert_eq!(fields(body), ["calendar.hours.fri"]);

        let mut body = berlin();
        body["calendar"]["holidays"] = json!(vec!["12-25"; MAX_HOLIDAYS + 1]);
        assert_eq!(fields(body), ["calendar.holidays"]);

        let mut body = berlin();
        let mut events = vec![json!({"at": "2026-11-23T17:00:00+01:00", "type": "created"})];
        events.extend(vec![
            json!({"at": "2026-11-23T18:00:00+01:00", "type": "agent_reply"});
            MAX_EVENTS
        ]);
        body["events"] = json!(events);
        assert_eq!(fields(body), ["events"]);

        let mut body = berlin();
        body["targets"]["resolution_minutes"] = json!(MAX_TARGET_MINUTES + 1);
        body["targets"]["first_response_minutes"] = json!(0);
        assert_eq!(
            fields(body),
            [
                "targets.first_response_minutes",
                "targets.resolution_minutes"
            ]
        );
    }

    #[test]
    fn events_start_with_created_and_go_forward_in_time() {
        let mut body = berlin();
        body["events"][0]["type"] = json!("agent_reply");
        assert_eq!(fields(body), ["events[0].type"]);

        let mut body = berlin();
        body["events"] = json!([]);
        assert_eq!(fields(body), ["events"]);

        let mut body = berlin();
        body["events"][1] = json!({"at": "2026-11-23T16:00:00+01:00", "type": "created"});
        assert_eq!(fields(body), ["events[1].at", "events[1].type"]);

        let mut body = berlin();
        body["events"][1]["status"] = json!("waiting");
        body["events"][2]["at"] = json!("yesterday");
        body["events"]
            .as_array_mut()
            .unwrap()
            .push(json!({"at": "2026-11-24T11:00:00Z", "type": "note", "status": "open"}));
        body["now"] = json!("2026-11-24T12:00:00Z");
        assert_eq!(
            fields(body),
            ["events[1].status", "events[2].at", "events[3].type"]
        );

        let mut body = berlin();
        body["events"][2]["status"] = json!("open");
        assert_eq!(fields(body), ["events[2].status"]);

        let mut body = berlin();
        body["now"] = json!("2026-11-24T00:00:00Z");
        assert_eq!(fields(body), ["now"]);

        let mut body = berlin();
        body["now"] = json!("2030-01-01T00:00:00Z");
        body["events"][2]["at"] = json!("2029-12-01T00:00:00Z");
        assert_eq!(fields(body), ["events[2].at", "now"]);
    }
}
