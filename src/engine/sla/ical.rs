//! Holidays from an iCalendar file (RFC 5545): each all-day `VEVENT`
//! (`DTSTART;VALUE=DATE:20261225`) is a closed day, in the simulator's
//! holiday syntax — `YYYY-MM-DD` once, or `MM-DD` when the event repeats
//! every year (`RRULE:FREQ=YEARLY`). An all-day event of several days
//! (`DTEND` is exclusive) closes each of them. Events with a time of day
//! are not holidays and are skipped.
//!
//! A small parser of our own rather than a crate: we need line unfolding
//! and two properties of one component, the input is bounded, and every
//! problem becomes a field message instead of a parser's error type.

use crate::domain::sla::MAX_ICAL_BYTES;
use chrono::{Datelike, NaiveDate, TimeDelta};

/// The longest all-day event expanded into days.
const MAX_EVENT_DAYS: i64 = 31;

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IcalHolidays {
    /// In the simulator's syntax, in file order, without repeats.
    pub holidays: Vec<String>,
    /// Events that are not all-day (skipped).
    pub skipped: usize,
}

/// Reads the all-day events of `text`. Err: why the text is no calendar.
pub fn holidays(text: &str) -> Result<IcalHolidays, &'static str> {
    if text.len() > MAX_ICAL_BYTES {
        return Err("The calendar file is too large (at most 256 KiB)");
    }
    let lines = unfold(text);
    if !lines
        .iter()
        .any(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err("Send an iCalendar file (BEGIN:VCALENDAR … END:VCALENDAR)");
    }
    let mut found = IcalHolidays::default();
    let mut event: Option<Event> = None;
    for line in &lines {
        let (name, params, value) = split(line);
        match (name.as_str(), value) {
            ("BEGIN", v) if v.eq_ignore_ascii_case("VEVENT") => event = Some(Event::default()),
            ("END", v) if v.eq_ignore_ascii_case("VEVENT") => {
                if let Some(e) = event.take() {
                    e.into_holidays(&mut found);
                }
            }
            ("DTSTART", v) => {
                if let Some(e) = event.as_mut() {
                    e.start = Some(date_value(&params, v));
                }
            }
            ("DTEND", v) => {
                if let Some(e) = event.as_mut() {
                    e.end = Some(date_value(&params, v));
                }
            }
            ("RRULE", v) => {
                if let Some(e) = event.as_mut() {
                    e.yearly = v
                        .split(';')
                        .any(|part| part.eq_ignore_ascii_case("FREQ=YEARLY"));
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

#[derive(Default)]
struct Event {
    /// Some(None): a start with a time of day (not all-day).
    start: Option<Option<NaiveDate>>,
    end: Option<Option<NaiveDate>>,
    yearly: bool,
}

impl Event {
    fn into_holidays(self, found: &mut IcalHolidays) {
        let Some(Some(start)) = self.start else {
            found.skipped += 1;
            return;
        };
        let days = match self.end {
            Some(Some(end)) if end > start => (end - start).num_days().min(MAX_EVENT_DAYS),
            _ => 1,
        };
        for offset in 0..days {
            let day = start + TimeDelta::days(offset);
            let text = if self.yearly {
                format!("{:02}-{:02}", day.month(), day.day())
            } else {
                day.format("%Y-%m-%d").to_string()
            };
            if !found.holidays.contains(&text) {
                found.holidays.push(text);
            }
        }
    }
}

/// RFC 5545 3.1: a line that starts with a space or tab continues the one
/// before it.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ if raw.trim().is_empty() => {}
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

/// `NAME;PARAM=X;…:value` → (upper-case name, upper-case params, value).
fn split(line: &str) -> (String, String, &str) {
    let (head, value) = line.split_once(':').unwrap_or((line, ""));
    let (name, params) = head.split_once(';').unwrap_or((head, ""));
    (
        name.trim().to_ascii_uppercase(),
        params.to_ascii_uppercase(),
        value.trim(),
    )
}

/// An all-day date (`VALUE=DATE`, or eight digits), else None.
fn date_value(params: &str, value: &str) -> Option<NaiveDate> {
    let all_day = params.split(';').any(|p| p == "VALUE=DATE")
        || (value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()));
    if !all_day {
        return None;
    }
    NaiveDate::parse_from_str(value.get(..8)?, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261226\r\n\
RRULE:FREQ=YEARLY\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:2027\r\n 0102\r\n\
SUMMARY:Closed over new year\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTART:20261110T090000Z\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:4\r\nDTSTART:20260406\r\nSUMMARY:Easter Monday\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn all_day_events_become_holidays_and_yearly_ones_repeat() {
        let found = holidays(FILE).unwrap();
        assert_eq!(
            found.holidays,
            ["12-25", "2026-12-31", "2027-01-01", "2026-04-06"]
        );
        assert_eq!(found.skipped, 1, "the meeting has a time of day");
    }

    #[test]
    fn text_that_is_no_calendar_is_refused() {
        assert!(holidays("hello").is_err());
        assert!(holidays(&"x".repeat(MAX_ICAL_BYTES + 1)).is_err());
        assert_eq!(
            holidays("BEGIN:VCALENDAR\nEND:VCALENDAR\n").unwrap(),
            IcalHolidays::default()
        );
    }
}
