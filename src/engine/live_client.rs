//! Live updates in the browser, the pure part: which events a tab shows
//! (each once and in order per topic, also across a reconnect and the
//! re-synchronisation after it), and how long it waits before reconnecting.

use crate::domain::live::{LiveEvent, Topic};
use std::collections::HashMap;
use std::time::Duration;

/// What a `subscribed` answer means for the views following the topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribed {
    /// Nothing can have been missed: a first subscription, or nothing
    /// happened in the organization since the last event shown.
    UpToDate,
    /// Events after `after` may have been missed while disconnected: fetch
    /// them (`GET /api/v1/events`) and hand them to `resynced`. The topic's
    /// events arriving meanwhile are held, then shown after them.
    Resync { after: i64 },
}

#[derive(Debug, Default)]
struct Followed {
    /// The seq of the last event shown, or the one the first `subscribed`
    /// named; None before the first subscription.
    last: Option<i64>,
    /// While re-synchronising: the socket's events of the topic, in order.
    held: Option<Vec<(i64, LiveEvent)>>,
}

/// The followed topics of one tab.
#[derive(Debug, Default)]
pub struct Tracker {
    topics: HashMap<Topic, Followed>,
}

impl Tracker {
    pub fn follow(&mut self, topic: Topic) {
        self.topics.entry(topic).or_default();
    }

    pub fn forget(&mut self, topic: Topic) {
        self.topics.remove(&topic);
    }

    pub fn topics(&self) -> Vec<Topic> {
        self.topics.keys().copied().collect()
    }

    /// The server confirmed a subscription: every event after `seq` follows.
    pub fn subscribed(&mut self, topic: Topic, seq: i64) -> Subscribed {
        let Some(followed) = self.topics.get_mut(&topic) else {
            return Subscribed::UpToDate;
        };
        match followed.last {
            None => {
                followed.last = Some(seq);
                Subscribed::UpToDate
            }
            Some(last) if last < seq => {
                followed.held.get_or_insert_with(Vec::new);
                Subscribed::Resync { after: last }
            }
            Some(_) => Subscribed::UpToDate,
        }
    }

    /// An event from the socket: Some when it is to be shown now.
    pub fn event(&mut self, topic: Topic, seq: i64, event: LiveEvent) -> Option<LiveEvent> {
        let followed = self.topics.get_mut(&topic)?;
        if let Some(held) = &mut followed.held {
            held.push((seq, event));
            return None;
        }
        accept(followed, seq, event)
    }

    /// The events of `topic` missed while disconnected arrived (in order):
    /// what to show of them, then of the events held meanwhile.
    pub fn resynced(&mut self, topic: Topic, missed: Vec<(i64, LiveEvent)>) -> Vec<LiveEvent> {
        let Some(followed) = self.topics.get_mut(&topic) else {
            return Vec::new();
        };
        let held = followed.held.take().unwrap_or_default();
        missed
            .into_iter()
            .chain(held)
            .filter_map(|(seq, event)| accept(followed, seq, event))
            .collect()
    }

    /// Re-synchronising failed (the events are no longer kept, or there are
    /// too many): the views load themselves again, and the topic goes on
    /// from the newest event the socket delivered (or `seq`, the one
    /// `subscribed` named).
    pub fn restart(&mut self, topic: Topic, seq: i64) {
        if let Some(followed) = self.topics.get_mut(&topic) {
            let held = followed.held.take().unwrap_or_default();
            let newest = held.iter().map(|(s, _)| *s).max().unwrap_or(seq);
            followed.last = Some(newest.max(seq));
        }
    }
}

fn accept(followed: &mut Followed, seq: i64, event: LiveEvent) -> Option<LiveEvent> {
    // Presence is a state, not a change: a subscription starts with the
    // current ones under their original (older) seq, and showing one again
    // changes nothing.
    if matches!(event, LiveEvent::PresenceChanged(_)) {
        return Some(event);
    }
    match followed.last {
        Some(last) if seq <= last => None,
        _ => {
            followed.last = Some(seq);
            Some(event)
        }
    }
}

/// The first retry comes after about a second; each failure doubles it, up
/// to half a minute.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// How long to wait before the `attempt`th reconnect (0: the first after a
/// drop), with `jitter` in [0, 1) drawn by the caller: between half and
/// all of the exponential delay, so the tabs of a whole desk do not all
/// come back in the same instant after a restart.
pub fn reconnect_delay(attempt: u32, jitter: f64) -> Duration {
    let full = FIRST_RETRY
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(LONGEST_RETRY);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::live::{Presence, PresenceState, TicketUpdate};
    use proptest::prelude::*;
    use uuid::Uuid;

    fn update(n: i64) -> LiveEvent {
        LiveEvent::TicketUpdated(TicketUpdate {
            ticket_id: Uuid::nil(),
            actor_id: None,
            cause: format!("change {n}"),
            changes: Vec::new(),
            attachment_ids: Vec::new(),
        })
    }

    fn presence() -> LiveEvent {
        LiveEvent::PresenceChanged(Presence {
            ticket_id: Uuid::nil(),
            user_id: Uuid::nil(),
            name: "Priya".into(),
            state: PresenceState::Viewing,
            at: chrono::DateTime::UNIX_EPOCH,
        })
    }

    #[test]
    fn events_show_once_and_in_order_per_topic() {
        let mut tracker = Tracker::default();
        tracker.follow(Topic::Org);
        assert_eq!(tracker.subscribed(Topic::Org, 10), Subscribed::UpToDate);
        assert_eq!(tracker.event(Topic::Org, 11, update(11)), Some(update(11)));
        assert_eq!(tracker.event(Topic::Org, 11, update(11)), None);
        assert_eq!(tracker.event(Topic::Org, 9, update(9)), None);
        assert_eq!(tracker.event(Topic::Org, 14, update(14)), Some(update(14)));
        // Topics not followed show nothing.
        assert_eq!(tracker.event(Topic::User, 15, update(15)), None);
    }

    #[test]
    fn a_reconnect_resyncs_what_was_missed_then_what_arrived_meanwhile() {
        let mut tracker = Tracker::default();
        tracker.follow(Topic::Org);
        tracker.subscribed(Topic::Org, 10);
        tracker.event(Topic::Org, 11, update(11));
        // Disconnected; the organization moved on to 20.
        assert_eq!(
            tracker.subscribed(Topic::Org, 20),
            Subscribed::Resync { after: 11 }
        );
        assert_eq!(tracker.event(Topic::Org, 21, update(21)), None);
        assert_eq!(tracker.event(Topic::Org, 22, update(22)), None);
        // The missed page overlaps what the socket delivered.
        let shown = tracker.resynced(
            Topic::Org,
            vec![(11, update(11)), (15, update(15)), (21, update(21))],
        );
        assert_eq!(shown, vec![update(15), update(21), update(22)]);
        assert_eq!(tracker.event(Topic::Org, 23, update(23)), Some(update(23)));
    }

    #[test]
    fn nothing_missed_needs_no_resync() {
        let mut tracker = Tracker::default();
        tracker.follow(Topic::User);
        tracker.subscribed(Topic::User, 5);
        tracker.event(Topic::User, 8, update(8));
        assert_eq!(tracker.subscribed(Topic::User, 8), Subscribed::UpToDate);
        assert_eq!(tracker.event(Topic::User, 9, update(9)), Some(update(9)));
    }

    #[test]
    fn presence_always_shows() {
        let mut tracker = Tracker::default();
        let topic = Topic::Ticket(Uuid::nil());
        tracker.follow(topic);
        tracker.subscribed(topic, 30);
        // The current presence, replayed with its original seq.
        assert_eq!(tracker.event(topic, 12, presence()), Some(presence()));
        assert_eq!(tracker.event(topic, 12, presence()), Some(presence()));
    }

    #[test]
    fn a_failed_resync_goes_on_from_the_newest_event_delivered() {
        let mut tracker = Tracker::default();
        tracker.follow(Topic::Org);
        tracker.subscribed(Topic::Org, 1);
        tracker.subscribed(Topic::Org, 50);
        tracker.event(Topic::Org, 52, update(52));
        tracker.restart(Topic::Org, 50);
        assert_eq!(tracker.event(Topic::Org, 52, update(52)), None);
        assert_eq!(tracker.event(Topic::Org, 53, update(53)), Some(update(53)));
    }

    #[test]
    fn a_forgotten_topic_starts_afresh() {
        let mut tracker = Tracker::default();
        tracker.follow(Topic::Org);
        tracker.subscribed(Topic::Org, 3);
        tracker.forget(Topic::Org);
        assert!(tracker.topics().is_empty());
        tracker.follow(Topic::Org);
        assert_eq!(tracker.subscribed(Topic::Org, 40), Subscribed::UpToDate);
    }

    #[test]
    fn retries_back_off_to_half_a_minute() {
        assert_eq!(reconnect_delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(reconnect_delay(0, 0.999_999).as_millis(), 999);
        assert_eq!(reconnect_delay(3, 0.0), Duration::from_secs(4));
        assert_eq!(reconnect_delay(40, 0.0), Duration::from_secs(15));
        assert!(reconnect_delay(u32::MAX, 1.0) <= Duration::from_secs(30));
    }

    proptest! {
        #[test]
        fn delays_grow_and_stay_bounded(attempt in 0u32..64, jitter in 0.0f64..1.0) {
            let delay = reconnect_delay(attempt, jitter);
            prop_assert!(delay >= Duration::from_millis(500));
            prop_assert!(delay <= LONGEST_RETRY);
            prop_assert!(reconnect_delay(attempt + 1, 0.0) >= reconnect_delay(attempt, 0.0));
        }

        #[test]
        fn every_seq_shows_at_most_once(
            seqs in proptest::collection::vec(0i64..40, 0..60),
            reconnect_at in 0usize..60,
            resume in 0i64..60,
        ) {
            let mut tracker = Tracker::default();
            tracker.follow(Topic::Org);
            tracker.subscribed(Topic::Org, 0);
            let mut shown = Vec::new();
            for (i, seq) in seqs.iter().enumerate() {
                if i == reconnect_at
                    && let Subscribed::Resync { after } = tracker.subscribed(Topic::Org, resume)
                {
                    let missed: Vec<_> = (after + 1..=resume).map(|s| (s, update(s))).collect();
                    shown.extend(tracker.resynced(Topic::Org, missed));
                }
                shown.extend(tracker.event(Topic::Org, *seq, update(*seq)));
            }
            let causes: Vec<String> = shown
                .iter()
                .map(|e| match e {
                    LiveEvent::TicketUpdated(u) => u.cause.clone(),
                    _ => String::new(),
                })
                .collect();
            let mut unique = causes.clone();
            unique.dedup();
            prop_assert_eq!(&unique, &causes);
            let numbers: Vec<i64> = causes
                .iter()
                .map(|c| c.trim_start_matches("change ").parse().unwrap())
                .collect();
            prop_assert!(numbers.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
