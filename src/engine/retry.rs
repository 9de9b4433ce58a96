//! When failed background work is tried again: exponential backoff with a
//! ceiling, and a number of attempts after which it is given up (a job
//! marked failed, an event parked for its subscriber).

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: i32,
    /// The wait after the first failure; each further failure doubles it.
    pub first_wait: TimeDelta,
    /// The longest wait between two attempts.
    pub max_wait: TimeDelta,
}

impl RetryPolicy {
    /// Outbound mail: 2, 4, 8 … seconds, at most half an hour apart, until
    /// the server accepts or refuses it (a thousand tries is three weeks).
    pub const MAIL: RetryPolicy = RetryPolicy {
        max_attempts: 1_000,
        first_wait: TimeDelta::seconds(2),
        max_wait: TimeDelta::minutes(30),
    };

    /// Jobs and event subscribers: a few quick tries, then someone looks.
    pub const BACKGROUND: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        first_wait: TimeDelta::seconds(2),
        max_wait: TimeDelta::minutes(10),
    };

    /// After `attempts` failed attempts, when to try again; None when that
    /// was the last one.
    pub fn next_attempt(&self, attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts {
            return None;
        }
        Some(now + self.wait(attempts))
    }

    fn wait(&self, attempts: i32) -> TimeDelta {
        let doublings = attempts.clamp(1, 30) as u32 - 1;
        let wait = self
            .first_wait
            .checked_mul(2_i32.saturating_pow(doublings))
            .unwrap_or(self.max_wait);
        wait.min(self.max_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mail_backs_off_exponentially_up_to_half_an_hour() {
        let now = Utc::now();
        let wait =
            |attempts| (RetryPolicy::MAIL.next_attempt(attempts, now).unwrap() - now).num_seconds();
        assert_eq!(wait(1), 2);
        assert_eq!(wait(2), 4);
        assert_eq!(wait(5), 32);
        assert_eq!(wait(11), 1800);
        assert_eq!(wait(999), 1800);
        assert_eq!(wait(0), 2, "a first failure still waits");
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let now = Utc::now();
        let policy = RetryPolicy::BACKGROUND;
        assert!(policy.next_attempt(policy.max_attempts - 1, now).is_some());
        assert_eq!(policy.next_attempt(policy.max_attempts, now), None);
    }

    proptest! {
        #[test]
        fn backoff_never_shrinks_and_stays_bounded(a in 0i32..999) {
            let now = Utc::now();
            let policy = RetryPolicy::MAIL;
            let this = policy.next_attempt(a, now).unwrap();
            prop_assert!(this <= policy.next_attempt(a + 1, now).unwrap());
            prop_assert!(this > now && this <= now + policy.max_wait);
        }
    }
}
