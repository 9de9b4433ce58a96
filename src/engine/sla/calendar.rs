//! Business calendars: when the desk is open, and business time measured
//! on them.
//!
//! **What a business minute is.** A calendar is open during each weekday's
//! intervals, read on a wall clock in its IANA zone, except on holidays. An
//! interval is open from the first instant that clock shows its start until
//! the last instant it shows its end, and business time is the real time
//! that passes while the calendar is open. So a daylight-saving change
//! costs and adds no minute: on a spring-forward night 02:00–03:00 does not
//! exist and is open for 0 minutes (01:00–04:00 is open for two real
//! hours), while 08:00–18:00 on the same day is 600 minutes as on any other
//! day; on a fall-back night 02:00–03:00 is read twice and is open for two
//! real hours — the hours someone is really there. A time that does not
//! exist (inside a spring-forward gap) is read as the instant the gap ends;
//! a time that exists twice opens at its first reading and closes at its
//! last. Midnight costs nothing either: `"24:00"` ends a day at the next
//! day's 00:00, so 00:00–24:00 on every day is exactly real time.

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

/// Minutes in a day of the wall clock; an interval may end here ("24:00").
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// How far ahead (in local days) the clock looks for the open time a due
/// time needs. A calendar open a few minutes a week with a target of
/// months would otherwise walk for decades; past this a due time is
/// "never" (no deadline), and the work of one addition stays bounded.
pub const HORIZON_DAYS: u64 = 3 * 366;

/// One opening of a day, in minutes after local midnight: `start < end`,
/// `end <= MINUTES_PER_DAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    start: u16,
    end: u16,
}

impl Interval {
    /// `None` unless `start < end <= 24:00`.
    pub fn new(start: u16, end: u16) -> Option<Interval> {
        (start < end && end <= MINUTES_PER_DAY).then_some(Interval { start, end })
    }

    pub fn minutes(self) -> u16 {
        self.end - self.start
    }
}

/// The opening hours of each weekday, Monday first; each day's intervals
/// ascending and apart (touching is fine: 08:00–12:00 and 12:00–18:00).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<Interval>; 7],
}

impl WeeklyHours {
    /// `days[0]` is Monday. Intervals are sorted; refused if two of a day
    /// overlap.
    pub fn new(mut days: [Vec<Interval>; 7]) -> Result<WeeklyHours, Overlap> {
        for (weekday, intervals) in days.iter_mut().enumerate() {
            intervals.sort();
            if intervals.windows(2).any(|pair| pair[0].end > pair[1].start) {
                return Err(Overlap { weekday });
            }
        }
        Ok(WeeklyHours { days })
    }

    /// The same intervals on each of the listed weekdays (0 = Monday).
    pub fn on_days(weekdays: impl IntoIterator<Item = usize>, intervals: &[Interval]) -> Self {
        let mut days: [Vec<Interval>; 7] = Default::default();
        for day in weekdays {
            days[day] = intervals.to_vec();
        }
        WeeklyHours::new(days).expect("the same valid intervals on each day")
    }

    fn is_never_open(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    fn of(&self, date: NaiveDate) -> &[Interval] {
        &self.days[date.weekday().num_days_from_monday() as usize]
    }
}

/// Two intervals of a weekday (0 = Monday) overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    pub weekday: usize,
}

/// Days the calendar is closed: one-off dates and yearly ones (month and
/// day; a yearly 29 February falls only in leap years).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    dates: Vec<NaiveDate>,
    /// Bit `d` of `yearly[m - 1]`: day `d` of month `m` every year.
    yearly: [u32; 12],
}

impl Holidays {
    pub fn new(dates: impl IntoIterator<Item = NaiveDate>, yearly: &[(u32, u32)]) -> Holidays {
        let mut dates: Vec<NaiveDate> = dates.into_iter().collect();
        dates.sort_unstable();
        dates.dedup();
        let mut bits = [0u32; 12];
        for &(month, day) in yearly {
            if (1..=12).contains(&month) && (1..=31).contains(&day) {
                bits[month as usize - 1] |= 1 << day;
            }
        }
        Holidays {
            dates,
            yearly: bits,
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.yearly[date.month0() as usize] & (1 << date.day()) != 0
            || self.dates.binary_search(&date).is_ok()
    }
}

/// When the desk is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Calendar {
    /// Open every instant (24/7): business time is real time.
    AlwaysOpen,
    /// Boxed: a week of hours is large, and most clocks pass a reference.
    Business(Box<BusinessCalendar>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    zone: Tz,
    hours: WeeklyHours,
    holidays: Holidays,
}

/// The calendar would never be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeverOpen;

impl Calendar {
    /// A calendar with weekly hours in `zone`; refused if no weekday has an
    /// interval (nothing could ever become due on it).
    pub fn business(zone: Tz, hours: WeeklyHours, holidays: Holidays) -> Result<Self, NeverOpen> {
        if hours.is_never_open() {
            return Err(NeverOpen);
        }
        Ok(Calendar::Business(Box::new(BusinessCalendar {
            zone,
            hours,
            holidays,
        })))
    }

    /// The instant `amount` of business time after `from`: the end of the
    /// open time that covers it. Adding nothing (or less) is `from` itself;
    /// time that runs out exactly at a closing is due at the closing, not
    /// at the next opening. `None` if the calendar does not open enough
    /// within `HORIZON_DAYS` (no due time).
    pub fn add(&self, from: DateTime<Utc>, amount: TimeDelta) -> Option<DateTime<Utc>> {
        if amount <= TimeDelta::zero() {
            return Some(from);
        }
        let Calendar::Business(calendar) = self else {
            return from.checked_add_signed(amount);
        };
        let last = calendar
            .local_date(from)
            .checked_add_days(Days::new(HORIZON_DAYS))?;
        let mut left = amount;
        for (open, close) in calendar.open_spans(from, last) {
            let span = close - open;
            if left <= span {
                return Some(open + left);
            }
            left -= span;
        }
        None
    }

    /// `add` in whole minutes.
    pub fn add_minutes(&self, from: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        self.add(from, TimeDelta::try_minutes(minutes)?)
    }

    /// Business time from `from` to `to` (zero if `to` is not later).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        let Calendar::Business(calendar) = self else {
            return to - from;
        };
        let last = calendar.local_date(to);
        calendar
            .open_spans(from, last)
            .take_while(|&(open, _)| open < to)
            .map(|(open, close)| close.min(to) - open)
            .sum()
    }

    /// Whether the calendar is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        match self {
            Calendar::AlwaysOpen => true,
            Calendar::Business(calendar) => calendar
                .open_spans(at, calendar.local_date(at))
                .next()
                .is_some_and(|(open, _)| open == at),
        }
    }
}

impl BusinessCalendar {
    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// The open time from `from` on, in order, as real instants: each
    /// interval of each local day up to `last` (a holiday has none), cut to
    /// start no earlier than `from` or than the previous span's end (a
    /// midnight read twice can make two days' intervals overlap; counting
    /// it once keeps business time real time).
    fn open_spans(
        &self,
        from: DateTime<Utc>,
        last: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        // The day before too: its interval may reach past midnight when the
        // clock is turned back there.
        let first = self.local_date(from).pred_opt().unwrap_or(NaiveDate::MIN);
        let mut covered = from;
        first
            .iter_days()
            .take_while(move |day| *day <= last)
            .filter(|day| !self.hours.of(*day).is_empty() && !self.holidays.contains(*day))
            .flat_map(move |day| {
                let day_clock = DayClock::new(self.zone, day);
                self.hours
                    .of(day)
                    .iter()
                    .map(move |interval| day_clock.span(interval))
            })
            .filter_map(move |(open, close)| {
                let open = open.max(covered);
                (open < close).then(|| {
                    covered = close;
                    (open, close)
                })
            })
    }
}

/// Wall-clock times of one local day as real instants. Most days have one
/// UTC offset from midnight to midnight, read once; a day with a
/// daylight-saving change resolves each time by itself.
struct DayClock {
    zone: Tz,
    day: NaiveDate,
    /// The offset in seconds when it is the same at both midnights.
    steady_offset: Option<i32>,
}

#[derive(Clone, Copy)]
enum Reading {
    /// A time shown twice opens at its first showing…
    First,
    /// …and closes at its last.
    Last,
}

impl DayClock {
    fn new(zone: Tz, day: NaiveDate) -> DayClock {
        let midnight_offset = |date: Option<NaiveDate>| match date
            .map(|d| zone.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)))
        {
            Some(LocalResult::Single(at)) => Some(at.offset().fix().local_minus_utc()),
            _ => None,
        };
        let start = midnight_offset(Some(day));
        let end = midnight_offset(day.succ_opt());
        // tzdb has no day with two changes that cancel out, so equal
        // offsets at both midnights mean none happened in between.
        let steady_offset = start.filter(|_| start == end);
        DayClock {
            zone,
            day,
            steady_offset,
        }
    }

    fn span(&self, interval: &Interval) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.instant(interval.start, Reading::First),
            self.instant(interval.end, Reading::Last),
        )
    }

    /// The real instant the wall clock shows `minute` of this day.
    fn instant(&self, minute: u16, reading: Reading) -> DateTime<Utc> {
        let local =
            self.day.and_time(chrono::NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute));
        if let Some(offset) = self.steady_offset {
            return (local - TimeDelta::seconds(i64::from(offset))).and_utc();
        }
        match (self.zone.from_local_datetime(&local), reading) {
            (LocalResult::Single(at), _) => at.with_timezone(&Utc),
            (LocalResult::Ambiguous(first, _), Reading::First) => first.with_timezone(&Utc),
            (LocalResult::Ambiguous(_, last), Reading::Last) => last.with_timezone(&Utc),
            (LocalResult::None, _) => gap_end(self.zone, local),
        }
    }
}

/// The first instant whose wall-clock time is at or after `local`, which
/// does not exist (the clock jumped over it): the instant of the jump. The
/// jump lies within a day of `local` read as UTC, as every offset is under
/// a day; a binary search to the second finds it.
fn gap_end(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let shows = |at: DateTime<Utc>| at.with_timezone(&zone).naive_local();
    let mut before = local.and_utc() - TimeDelta::days(1);
    let mut after = local.and_utc() + TimeDelta::days(1);
    while after - before > TimeDelta::seconds(1) {
        let middle = before + (after - before) / 2;
        if shows(middle) >= local {
            after = middle;
        } else {
            before = middle;
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn hm(text: &str) -> u16 {
        let (h, m) = text.split_once(':').unwrap();
        h.parse::<u16>().unwrap() * 60 + m.parse::<u16>().unwrap()
    }

    fn interval(start: &str, end: &str) -> Interval {
        Interval::new(hm(start), hm(end)).unwrap()
    }

    const WEEKDAYS: std::ops::Range<usize> = 0..5;

    /// Business time from `from` to `to`.
    fn assert_between(calendar: &Calendar, from: &str, to: &str, open: TimeDelta, why: &str) {
        assert_eq!(
            calendar.between(utc(from), utc(to)),
            open,
            "{from} to {to}: {why}"
        );
    }

    /// Adding each number of minutes to `from` gives its due time.
    fn assert_adds(calendar: &Calendar, from: &str, cases: &[(i64, &str)]) {
        for &(minutes, due) in cases {
            let added = calendar.add_minutes(utc(from), minutes);
            assert_eq!(added, Some(utc(due)), "{from} + {minutes} min");
        }
    }

    /// Monday to Friday 08:00–18:00 in `zone`, with these holidays.
    fn office(zone: Tz, holidays: Holidays) -> Calendar {
        let hours = WeeklyHours::on_days(WEEKDAYS, &[interval("08:00", "18:00")]);
        Calendar::business(zone, hours, holidays).unwrap()
    }

    fn every_day(zone: Tz, intervals: &[Interval]) -> Calendar {
        Calendar::business(
            zone,
            WeeklyHours::on_days(0..7, intervals),
            Holidays::default(),
        )
        .unwrap()
    }

    fn berlin() -> Calendar {
        office(chrono_tz::Europe::Berlin, Holidays::default())
    }

    #[test]
    fn monday_five_pm_plus_four_business_hours_is_tuesday_eleven() {
        // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
        let due = berlin().add_minutes(utc("2026-11-23T17:00:00+01:00"), 240);
        assert_eq!(due, Some(utc("2026-11-24T11:00:00+01:00")));
    }

    #[test]
    fn friday_evening_is_due_on_monday() {
        let calendar = berlin();
        // After closing on Friday: the whole weekend is closed.
        let due = calendar.add_minutes(utc("2026-11-27T19:30:00+01:00"), 60);
        assert_eq!(due, Some(utc("2026-11-30T09:00:00+01:00")));
        // An hour left on Friday, three more on Monday.
        let due = calendar.add_minutes(utc("2026-11-27T17:00:00+01:00"), 240);
        assert_eq!(due, Some(utc("2026-11-30T11:00:00+01:00")));
    }

    #[test]
    fn a_holiday_in_between_is_skipped_and_yearly_ones_recur() {
        let christmas = Holidays::new(
            [NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()],
            &[(12, 25)],
        );
        let calendar = office(chrono_tz::Europe::Berlin, christmas);
        // Wednesday 23 December 17:00 + 2 h: Thursday 24 (one-off) and
        // Friday 25 (yearly) are closed, then the weekend: Monday 28.
        let due = calendar.add_minutes(utc("2026-12-23T17:00:00+01:00"), 120);
        assert_eq!(due, Some(utc("2026-12-28T09:00:00+01:00")));
        // The yearly one recurs: 25 December 2028 is a Monday, so Friday
        // 22nd's second hour is on Tuesday 26th.
        let due = calendar.add_minutes(utc("2028-12-22T17:00:00+01:00"), 120);
        assert_eq!(due, Some(utc("2028-12-26T09:00:00+01:00")));
        assert!(calendar.is_open(utc("2028-12-26T09:00:00+01:00")));
        assert!(!calendar.is_open(utc("2028-12-25T09:00:00+01:00")));
        assert_between(
            &calendar,
            "2026-12-23T00:00:00+01:00",
            "2026-12-29T00:00:00+01:00",
            TimeDelta::hours(20),
            "Wednesday and Monday only",
        );
    }

    #[test]
    fn the_same_office_hours_on_a_daylight_saving_day_are_as_long_as_any_other() {
        // Berlin springs forward on 29 March 2026 and falls back on 25
        // October; New York on 8 March and 1 November; Sydney (southern
        // hemisphere) falls back on 5 April and springs forward on 4 October.
        let days = [
            (chrono_tz::Europe::Berlin, "2026-03-29"),
            (chrono_tz::Europe::Berlin, "2026-10-25"),
            (chrono_tz::America::New_York, "2026-03-08"),
            (chrono_tz::America::New_York, "2026-11-01"),
            (chrono_tz::Australia::Sydney, "2026-04-05"),
            (chrono_tz::Australia::Sydney, "2026-10-04"),
        ];
        for (zone, day) in days {
            let calendar = every_day(zone, &[interval("08:00", "18:00")]);
            let date: NaiveDate = day.parse().unwrap();
            let at = |h: u32| {
                zone.from_local_datetime(&date.and_hms_opt(h, 0, 0).unwrap())
                    .single()
                    .unwrap()
                    .with_timezone(&Utc)
            };
            // The day's opening plus its ten hours is its closing…
            assert_eq!(
                calendar.add_minutes(at(8), 600),
                Some(at(18)),
                "{zone} {day}"
            );
            // …which is ten real hours later, and ten business hours.
            assert_eq!(at(18) - at(8), TimeDelta::hours(10), "{zone} {day}");
            assert_eq!(
                calendar.between(at(0), at(23)),
                TimeDelta::hours(10),
                "{zone} {day}"
            );
        }
    }

    #[test]
    fn spring_forward_costs_no_minute() {
        // Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST.
        let zone = chrono_tz::Europe::Berlin;
        let skipped = every_day(zone, &[interval("02:00", "03:00")]);
        assert_between(
            &skipped,
            "2026-03-29T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
            TimeDelta::zero(),
            "an hour that does not exist is not open",
        );
        // Open through the jump: 01:00 CET to 04:00 CEST is two real hours.
        let night = every_day(zone, &[interval("01:00", "04:00")]);
        // The third hour is the next night's first.
        assert_adds(
            &night,
            "2026-03-29T01:00:00+01:00",
            &[
                (60, "2026-03-29T03:00:00+02:00"),
                (120, "2026-03-29T04:00:00+02:00"),
                (180, "2026-03-30T02:00:00+02:00"),
            ],
        );
        // New York, 8 March 2026: 02:00 EST becomes 03:00 EDT.
        let zone = chrono_tz::America::New_York;
        let night = every_day(zone, &[interval("00:00", "06:00")]);
        assert_between(
            &night,
            "2026-03-08T00:00:00-05:00",
            "2026-03-08T06:00:00-04:00",
            TimeDelta::hours(5),
            "six on the clock, five real",
        );
    }

    #[test]
    fn fall_back_adds_no_minute_an_hour_read_twice_is_open_twice() {
        // Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:00–03:00
        // is read twice and is open for both real hours.
        let zone = chrono_tz::Europe::Berlin;
        let twice = every_day(zone, &[interval("02:00", "03:00")]);
        assert_between(
            &twice,
            "2026-10-25T00:00:00+02:00",
            "2026-10-26T00:00:00+01:00",
            TimeDelta::hours(2),
            "read twice, open twice",
        );
        assert_eq!(
            twice.add_minutes(utc("2026-10-25T02:00:00+02:00"), 90),
            Some(utc("2026-10-25T02:30:00+01:00"))
        );
        // Sydney, 5 April 2026: 03:00 AEDT becomes 02:00 AEST.
        let zone = chrono_tz::Australia::Sydney;
        let night = every_day(zone, &[interval("00:00", "06:00")]);
        assert_between(
            &night,
            "2026-04-05T00:00:00+11:00",
            "2026-04-05T06:00:00+10:00",
            TimeDelta::hours(7),
            "six on the clock, seven real",
        );
        // Sydney springs forward on 4 October 2026: 02:00 AEST → 03:00 AEDT.
        assert_between(
            &night,
            "2026-10-04T00:00:00+10:00",
            "2026-10-04T06:00:00+11:00",
            TimeDelta::hours(5),
            "six on the clock, five real",
        );
    }

    #[test]
    fn round_the_clock_hours_are_real_time_across_midnight_and_daylight_saving() {
        for zone in [
            chrono_tz::Europe::Berlin,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Sydney,
        ] {
            let all_day = every_day(zone, &[interval("00:00", "24:00")]);
            for (from, to) in [
                ("2026-03-01T00:00:00Z", "2026-04-30T00:00:00Z"),
                ("2026-09-15T12:34:56Z", "2026-11-15T01:02:03Z"),
            ] {
                let (from, to) = (utc(from), utc(to));
                assert_eq!(all_day.between(from, to), to - from, "{zone}");
                assert_eq!(all_day.add(from, to - from), Some(to), "{zone}");
            }
        }
    }

    #[test]
    fn always_open_at_midnight_loses_no_minute() {
        let calendar = Calendar::AlwaysOpen;
        let before_midnight = utc("2026-12-31T23:59:00Z");
        assert_adds(
            &calendar,
            "2026-12-31T23:59:00Z",
            &[(1, "2027-01-01T00:00:00Z"), (2, "2027-01-01T00:01:00Z")],
        );
        assert_eq!(
            calendar.between(before_midnight, utc("2027-01-01T00:01:00Z")),
            TimeDelta::minutes(2)
        );
        // A business calendar open 00:00–24:00 in a zone: the same at its
        // local midnight.
        let all_day = every_day(chrono_tz::Europe::Berlin, &[interval("00:00", "24:00")]);
        let local_before_midnight = utc("2026-12-31T23:59:00+01:00");
        assert_eq!(
            all_day.add_minutes(local_before_midnight, 2),
            Some(utc("2027-01-01T00:01:00+01:00"))
        );
    }

    #[test]
    fn boundaries_opening_counts_closing_is_due_not_the_next_morning() {
        let calendar = berlin();
        let opening = utc("2026-11-24T08:00:00+01:00");
        let closing = utc("2026-11-24T18:00:00+01:00");
        assert!(calendar.is_open(opening));
        assert!(!calendar.is_open(closing));
        // From the opening, the first minute counts.
        assert_eq!(
            calendar.add_minutes(opening, 1),
            Some(utc("2026-11-24T08:01:00+01:00"))
        );
        // Time that runs out at the closing is due at the closing.
        assert_eq!(
            calendar.add_minutes(utc("2026-11-24T17:00:00+01:00"), 60),
            Some(closing)
        );
        // From the closing on, nothing counts until the next opening.
        assert_eq!(
            calendar.add_minutes(closing, 1),
            Some(utc("2026-11-25T08:01:00+01:00"))
        );
        assert_eq!(calendar.add_minutes(closing, 0), Some(closing));
    }

    #[test]
    fn split_days_and_intervals_ending_at_midnight() {
        let hours = WeeklyHours::on_days(
            WEEKDAYS,
            &[interval("08:00", "12:00"), interval("13:00", "18:00")],
        );
        let calendar =
            Calendar::business(chrono_tz::Europe::Berlin, hours, Holidays::default()).unwrap();
        // 11:30 + 1 h: half an hour before lunch, half an hour after.
        assert_eq!(
            calendar.add_minutes(utc("2026-11-24T11:30:00+01:00"), 60),
            Some(utc("2026-11-24T13:30:00+01:00"))
        );
        assert_between(
            &calendar,
            "2026-11-24T00:00:00+01:00",
            "2026-11-25T00:00:00+01:00",
            TimeDelta::hours(9),
            "four hours and five",
        );
        // A late shift up to "24:00" meets the next day's early one.
        let shifts = every_day(
            chrono_tz::America::New_York,
            &[interval("00:00", "02:00"), interval("20:00", "24:00")],
        );
        assert_eq!(
            shifts.add_minutes(utc("2026-11-24T23:00:00-05:00"), 120),
            Some(utc("2026-11-25T01:00:00-05:00"))
        );
    }

    #[test]
    fn a_calendar_never_open_is_refused_and_a_sparse_one_has_a_horizon() {
        assert_eq!(
            Calendar::business(chrono_tz::UTC, WeeklyHours::default(), Holidays::default()),
            Err(NeverOpen)
        );
        let one_minute_a_week = Calendar::business(
            chrono_tz::UTC,
            WeeklyHours::on_days([0], &[interval("08:00", "08:01")]),
            Holidays::default(),
        )
        .unwrap();
        let from = utc("2026-11-23T00:00:00Z");
        assert_eq!(
            one_minute_a_week.add_minutes(from, 3),
            Some(utc("2026-12-07T08:01:00Z"))
        );
        assert_eq!(one_minute_a_week.add_minutes(from, 100_000), None);
    }

    #[test]
    fn intervals_are_checked() {
        assert!(Interval::new(hm("18:00"), hm("08:00")).is_none());
        assert!(Interval::new(hm("08:00"), hm("08:00")).is_none());
        assert!(Interval::new(0, MINUTES_PER_DAY + 1).is_none());
        let overlapping = [interval("08:00", "12:00"), interval("11:00", "18:00")];
        let mut days: [Vec<Interval>; 7] = Default::default();
        days[0] = overlapping.to_vec();
        assert_eq!(WeeklyHours::new(days), Err(Overlap { weekday: 0 }));
    }

    // Property tests over a split-shift office in a zone with daylight
    // saving, instants anywhere in 2026–2027 and targets up to a month of
    // business time.
    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        (1_767_225_600i64..1_830_297_600).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    fn property_calendar() -> Calendar {
        let hours = WeeklyHours::on_days(
            WEEKDAYS,
            &[
                interval("01:30", "02:30"),
                interval("08:00", "12:00"),
                interval("13:00", "24:00"),
            ],
        );
        let holidays = Holidays::new([NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()], &[(1, 1)]);
        Calendar::business(chrono_tz::Europe::Berlin, hours, holidays).unwrap()
    }

    proptest! {
        #[test]
        fn adding_is_monotonic(a in any_instant(), b in any_instant(), m in 0i64..20_000, n in 0i64..20_000) {
            let calendar = property_calendar();
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(calendar.add_minutes(early, m) <= calendar.add_minutes(late, m));
            let (few, many) = (m.min(n), m.max(n));
            prop_assert!(calendar.add_minutes(a, few) <= calendar.add_minutes(a, many));
        }

        #[test]
        fn adding_in_two_parts_is_adding_the_sum(from in any_instant(), m in 0i64..20_000, n in 0i64..20_000) {
            let calendar = property_calendar();
            let in_two = calendar.add_minutes(from, m).and_then(|mid| calendar.add_minutes(mid, n));
            prop_assert_eq!(in_two, calendar.add_minutes(from, m + n));
        }

        #[test]
        fn between_measures_what_add_added(from in any_instant(), m in 1i64..20_000) {
            let calendar = property_calendar();
            let due = calendar.add_minutes(from, m).unwrap();
            prop_assert_eq!(calendar.between(from, due), TimeDelta::minutes(m));
            prop_assert!(calendar.is_open(due - TimeDelta::seconds(1)));
        }
    }
}
