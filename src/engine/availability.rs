//! Staff availability from when a person was last seen: online while a
//! tab of theirs is open (its socket's re-check marks them seen) or they
//! act, offline once `OFFLINE_AFTER` passed without a sign of them — the
//! grace period after the last tab closes, which also rides out a reload
//! or a reconnect. Away is their own word and counts only while online:
//! an away from before they last went offline is over.

use crate::domain::availability::Availability;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};

/// How often a connected person's `last_seen_at` is written at most (the
/// sockets' re-check runs more often; writing each time would keep the
/// database busy for nothing).
pub const SEEN_EVERY: TimeDelta = TimeDelta::seconds(20);

/// How long after the last sign of a person they still count as online:
/// longer than `SEEN_EVERY` plus a re-check interval, so a connected
/// person never flickers offline.
pub const OFFLINE_AFTER: TimeDelta = TimeDelta::seconds(60);

/// What is stored about a person's presence (users' columns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When their current (or last) stretch online began.
    pub online_since: Option<DateTime<Utc>>,
    /// When they said they are away (None: they did not, or took it back).
    pub away_since: Option<DateTime<Utc>>,
}

/// A person's availability and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub availability: Availability,
    /// Online: since they came online; away: since they said so; offline:
    /// when they were last seen (None: never).
    pub since: Option<DateTime<Utc>>,
}

impl Seen {
    /// Their availability at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        let Some(seen) = self.last_seen_at.filter(|at| !is_offline(*at, now)) else {
            return Status {
                availability: Availability::Offline,
                since: self.last_seen_at,
            };
        };
        let online_since = self.online_since.unwrap_or(seen);
        match self.away_since.filter(|away| *away >= online_since) {
            Some(away) => Status {
                availability: Availability::Away,
                since: Some(away),
            },
            None => Status {
                availability: Availability::Online,
                since: Some(online_since),
            },
        }
    }
}

/// Whether someone last seen `at` is offline at `now`.
fn is_offline(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    at < offline_before(now)
}

/// Someone last seen before this instant is offline at `now` (and comes
/// online again when next seen).
pub fn offline_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - OFFLINE_AFTER
}

/// A `last_seen_at` before this instant is written again at `now`; a more
/// recent one is left as it is.
pub fn stale_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - SEEN_EVERY
}

/// The start of `now`'s day in UTC ("breaches today").
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 9, h, m, s).unwrap()
    }

    fn online_at(since: DateTime<Utc>, last: DateTime<Utc>) -> Seen {
        Seen {
            last_seen_at: Some(last),
            online_since: Some(since),
            away_since: None,
        }
    }

    #[test]
    fn never_seen_is_offline_without_a_time() {
        let status = Seen::default().status(at(9, 0, 0));
        assert_eq!(status.availability, Availability::Offline);
        assert_eq!(status.since, None);
    }

    #[test]
    fn online_since_the_stretch_began_until_the_grace_period_ends() {
        let seen = online_at(at(8, 0, 0), at(9, 0, 0));
        for now in [at(9, 0, 0), at(9, 0, 30), at(9, 1, 0)] {
            let status = seen.status(now);
            assert_eq!(status.availability, Availability::Online, "{now}");
            assert_eq!(status.since, Some(at(8, 0, 0)));
        }
        let status = seen.status(at(9, 1, 1));
        assert_eq!(status.availability, Availability::Offline);
        assert_eq!(status.since, Some(at(9, 0, 0)), "offline since last seen");
    }

    #[test]
    fn a_connected_person_written_every_seen_interval_never_goes_offline() {
        // The re-check writes once `SEEN_EVERY` has passed, at its next
        // tick: with ticks of up to 30 s, the gap is under 50 s.
        let last = at(9, 0, 0);
        let next_write = last + SEEN_EVERY + TimeDelta::seconds(30);
        assert!(next_write - last < OFFLINE_AFTER);
        let status = online_at(at(8, 0, 0), last).status(next_write - TimeDelta::seconds(1));
        assert_eq!(status.availability, Availability::Online);
    }

    #[test]
    fn away_counts_only_while_online() {
        let mut seen = online_at(at(8, 0, 0), at(9, 0, 0));
        seen.away_since = Some(at(8, 30, 0));
        let status = seen.status(at(9, 0, 10));
        assert_eq!(status.availability, Availability::Away);
        assert_eq!(status.since, Some(at(8, 30, 0)));

        let status = seen.status(at(9, 5, 0));
        assert_eq!(
            status.availability,
            Availability::Offline,
            "offline beats away"
        );
        assert_eq!(status.since, Some(at(9, 0, 0)));
    }

    #[test]
    fn an_away_from_before_going_offline_is_over_when_they_return() {
        // Away yesterday, offline overnight, online again since 8:00.
        let seen = Seen {
            last_seen_at: Some(at(8, 0, 20)),
            online_since: Some(at(8, 0, 0)),
            away_since: Some(at(7, 0, 0)),
        };
        let status = seen.status(at(8, 0, 30));
        assert_eq!(status.availability, Availability::Online);
        assert_eq!(status.since, Some(at(8, 0, 0)));
    }

    #[test]
    fn away_set_as_they_come_online_counts() {
        let seen = Seen {
            last_seen_at: Some(at(8, 0, 0)),
            online_since: Some(at(8, 0, 0)),
            away_since: Some(at(8, 0, 0)),
        };
        assert_eq!(seen.status(at(8, 0, 5)).availability, Availability::Away);
    }

    #[test]
    fn without_a_stored_start_online_counts_from_last_seen() {
        let seen = Seen {
            last_seen_at: Some(at(9, 0, 0)),
            ..Seen::default()
        };
        assert_eq!(seen.status(at(9, 0, 5)).since, Some(at(9, 0, 0)));
    }

    #[test]
    fn thresholds_and_the_day_start() {
        let now = at(9, 0, 0);
        assert_eq!(offline_before(now), at(8, 59, 0));
        assert_eq!(stale_before(now), at(8, 59, 40));
        assert_eq!(day_start(now), at(0, 0, 0));
        assert_eq!(day_start(at(0, 0, 0)), at(0, 0, 0));
    }
}
