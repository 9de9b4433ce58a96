//! Live updates over WebSocket (`/ws`, protocol in docs/LIVE.md).
//!
//! Every instance follows the outbox: when a commit wakes it (in-process,
//! or through PostgreSQL's `NOTIFY` from another instance — the runtime's
//! wake-up, `Wake::live`), `fanout` reads each organization's new events
//! once, looks up what they do not carry (is the message public, which
//! files are), and sends them, ready in both views (`engine::live`), into
//! one broadcast that this instance's sockets read. Each `socket` keeps
//! what its subscriber may receive and queues it for its writer; a client
//! with `FIELDESK_WS_QUEUE` messages unsent is disconnected, so it never
//! slows the others. Only committed events are read, so nothing rolled
//! back is ever sent, and each once.
//!
//! Presence (viewing, replying, idle on a ticket) is an event too: it is
//! published in the outbox like any change, so it reaches every instance
//! with a sequence number; each instance keeps the current states it saw
//! (`Hub::presence`) to greet a new subscriber with them.

mod access;
mod fanout;
mod presence;
pub mod socket;

use crate::domain::live::{
    LiveErrorCode, LiveEvent, Missed, MissedEvent, PresenceState, ServerMessage, Topic,
};
use crate::domain::policy::Capability;
use crate::domain::{ApiError, ErrorKind, FieldErrors};
use crate::engine::live::{View, Viewer, Views, deliveries};
use crate::server::auth::{Person, Principal};
use crate::server::config::Config;
use crate::server::db::events::{self, Position};
use crate::server::error::{AppError, AppResult};
use crate::server::state::AppState;
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use presence::publish as publish_presence;

/// How long a presence state is shown without being repeated: sockets
/// repeat theirs every `PRESENCE_REFRESH`, so the states of an instance
/// that crashed fade out.
const PRESENCE_TTL: Duration = Duration::from_secs(12 * 60);
const PRESENCE_REFRESH: Duration = Duration::from_secs(5 * 60);
/// Events the broadcast keeps for a socket's loop that has not read them
/// yet (the loop never waits for the network, so only an overloaded
/// server falls this far behind; that socket is then disconnected).
const BROADCAST_CAPACITY: usize = 4096;

/// An event ready for this instance's sockets: both views serialized once,
/// and each `event` frame built once, by the first socket that sends it,
/// and shared by all the others (a frame is reference-counted bytes).
#[derive(Debug)]
pub struct Outgoing {
    pub org: Uuid,
    pub seq: i64,
    pub views: Views,
    full_json: String,
    customer_json: Option<String>,
    /// Per topic kind and view (`frame_slot`): an event reaches at most one
    /// ticket, so the kind and the view determine the frame.
    frames: [OnceLock<Utf8Bytes>; 8],
}

impl Outgoing {
    fn new(org: Uuid, seq: i64, views: Views) -> Outgoing {
        // Our own types always serialize.
        let json = |event: &LiveEvent| serde_json::to_string(event).unwrap_or_default();
        Outgoing {
            full_json: json(&views.full),
            customer_json: views.customer.as_ref().map(json),
            org,
            seq,
            views,
            frames: Default::default(),
        }
    }

    /// The `event` frames for a subscriber of `topics`, one per topic the
    /// event reaches (the same text `ServerMessage::Event` serializes to).
    pub fn frames(&self, viewer: Viewer, topics: &[Topic]) -> Vec<Utf8Bytes> {
        deliveries(&self.views, viewer, topics)
            .filter_map(|(topic, view)| {
                let event = match view {
                    View::Full => &self.full_json,
                    View::Customer => self.customer_json.as_ref()?,
                };
                let frame = self.frames[frame_slot(topic, view)].get_or_init(|| {
                    let topic = serde_json::to_string(&topic).unwrap_or_default();
                    format!(
                        r#"{{"type":"event","topic":{topic},"seq":{},"event":{event}}}"#,
                        self.seq
                    )
                    .into()
                });
                Some(frame.clone())
            })
            .collect()
    }
}

/// Where `Outgoing::frames` keeps the frame of a topic and view.
fn frame_slot(topic: Topic, view: View) -> usize {
    let kind = match topic {
        Topic::Org => 0,
        Topic::Ticket(_) => 1,
        Topic::User => 2,
        Topic::Presence => 3,
    };
    kind * 2 + usize::from(view == View::Customer)
}

/// Connection limits and timings, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub max_per_user: usize,
    pub queue: usize,
    pub ping_every: Duration,
    pub recheck_every: Duration,
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            max_connections: config.ws_max_connections,
            max_per_user: config.ws_max_per_user.max(1),
            queue: config.ws_queue.max(1),
            ping_every: Duration::from_secs(config.ws_ping_secs.max(1)),
            recheck_every: Duration::from_secs(config.ws_recheck_secs.max(1)),
        }
    }
}

/// This instance's live updates: the broadcast its sockets read, who is
/// connected, the presence it knows of, and the shutdown signal.
pub struct Live {
    limits: Limits,
    events: broadcast::Sender<Arc<Outgoing>>,
    hub: Mutex<Hub>,
    shutdown: watch::Sender<bool>,
}

#[derive(Default)]
struct Hub {
    /// Per organization, the last event sent into the broadcast.
    positions: HashMap<Uuid, i64>,
    next_id: u64,
    sockets: HashMap<u64, Registered>,
    per_user: HashMap<Uuid, usize>,
    /// (organization, ticket, person) → their latest non-idle state.
    presence: HashMap<(Uuid, Uuid, Uuid), (Arc<Outgoing>, Instant)>,
}

/// An open socket, for the access re-check.
struct Registered {
    user: Uuid,
    session: Uuid,
    role: crate::domain::Role,
    end: Option<oneshot::Sender<()>>,
}

/// Why a connection was refused before it opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This instance holds `FIELDESK_WS_MAX_CONNECTIONS` (503).
    InstanceFull,
    /// The person holds `FIELDESK_WS_MAX_PER_USER` here (429).
    TooManyForUser,
}

/// One admitted socket: its place in the broadcast and the signal that
/// its access ended. Dropping it frees its place.
pub struct Connection {
    state: AppState,
    id: u64,
    user: Uuid,
    events: broadcast::Receiver<Arc<Outgoing>>,
    /// The last event of the person's organization looked at.
    seen: i64,
    ended: oneshot::Receiver<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let mut hub = self.state.live.lock();
        hub.sockets.remove(&self.id);
        if let Some(count) = hub.per_user.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                hub.per_user.remove(&self.user);
            }
        }
        metrics::gauge!("fieldesk_ws_connections").set(hub.sockets.len() as f64);
    }
}

impl Live {
    pub fn new(config: &Config) -> Live {
        let limits = Limits::from_config(config);
        Live {
            events: broadcast::channel(BROADCAST_CAPACITY).0,
            hub: Mutex::default(),
            shutdown: watch::channel(false).0,
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Hub> {
        // A panic elsewhere while holding the lock leaves a valid hub.
        self.hub
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts following the outbox from the present, and re-checking the
    /// connections' access. Runs until the handle is dropped.
    pub async fn start(state: &AppState) -> anyhow::Result<LiveHandle> {
        let counters = events::counters(&state.db).await?;
        state.live.lock().positions.extend(counters);
        Ok(LiveHandle {
            tasks: vec![
                tokio::spawn(fanout::run(state.clone())),
                tokio::spawn(access::run(state.clone())),
            ],
        })
    }

    /// Admits a socket for `person`'s `session`, within the limits.
    pub fn admit(state: &AppState, person: &Person, session: Uuid) -> Result<Connection, Refusal> {
        let live = &state.live;
        let mut hub = live.lock();
        if hub.sockets.len() >= live.limits.max_connections {
            return Err(Refusal::InstanceFull);
        }
        let count = hub.per_user.entry(person.id).or_default();
        if *count >= live.limits.max_per_user {
            return Err(Refusal::TooManyForUser);
        }
        *count += 1;
        hub.next_id += 1;
        let id = hub.next_id;
        let (end, ended) = oneshot::channel();
        hub.sockets.insert(
            id,
            Registered {
                user: person.id,
                session,
                role: person.role,
                end: Some(end),
            },
        );
        metrics::gauge!("fieldesk_ws_connections").set(hub.sockets.len() as f64);
        // Subscribed under the lock the fan-out sends under: every event
        // after `seen` will be in the receiver.
        Ok(Connection {
            state: state.clone(),
            id,
            user: person.id,
            events: live.events.subscribe(),
            seen: hub.positions.get(&person.org).copied().unwrap_or(0),
            ended,
        })
    }

    /// Open connections on this instance.
    pub fn connections(&self) -> usize {
        self.lock().sockets.len()
    }

    /// Sends an organization's next event to the sockets (None: nothing
    /// for them, the position moves all the same).
    fn send(&self, org: Uuid, seq: i64, views: Option<Views>) {
        let mut hub = self.lock();
        hub.positions.insert(org, seq);
        let Some(views) = views else {
            return;
        };
        let outgoing = Arc::new(Outgoing::new(org, seq, views));
        if let LiveEvent::PresenceChanged(p) = &outgoing.views.full {
            let key = (org, p.ticket_id, p.user_id);
            if p.state == PresenceState::Idle {
                hub.presence.remove(&key);
            } else {
                hub.presence.insert(key, (outgoing.clone(), Instant::now()));
            }
        }
        // No socket listening is no error.
        let _ = self.events.send(outgoing);
    }

    /// The current presence a new subscriber of `topic` is greeted with.
    fn presence_on(&self, org: Uuid, topic: Topic) -> Vec<Arc<Outgoing>> {
        let mut hub = self.lock();
        hub.presence
            .retain(|_, (_, at)| at.elapsed() < PRESENCE_TTL);
        hub.presence
            .iter()
            .filter(|((o, ticket, _), _)| {
                *o == org && (topic == Topic::Presence || topic == Topic::Ticket(*ticket))
            })
            .map(|(_, (outgoing, _))| outgoing.clone())
            .collect()
    }

    /// Asks every socket to close (the server is shutting down).
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Waits until every socket closed, or `patience` ran out.
    pub async fn drained(&self, patience: Duration) {
        let until = tokio::time::Instant::now() + patience;
        while self.connections() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The fan-out and access re-check tasks; dropping it stops them.
pub struct LiveHandle {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for LiveHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// How a person receives events.
fn viewer(person: &Principal) -> Viewer {
    Viewer {
        user_id: person.user_id().unwrap_or_default(),
        reads_internal: person.may(Capability::ReadInternalNotes),
    }
}

/// Whether `caller` may follow `topic`: `org` and `presence` need
/// read_all_tickets; a ticket must be one the caller sees (anything else
/// is `not_found`, like a missing one); `user` is everyone's own.
pub async fn authorize(
    state: &AppState,
    caller: &Principal,
    topic: Topic,
) -> Result<(), LiveErrorCode> {
    match topic {
        Topic::Org | Topic::Presence if !caller.may(Capability::ReadAllTickets) => {
            Err(LiveErrorCode::Forbidden)
        }
        Topic::Org | Topic::Presence | Topic::User => Ok(()),
        Topic::Ticket(id) => match crate::server::tickets::get(state, caller, id).await {
            Ok(_) => Ok(()),
            Err(AppError::Api(e)) if e.kind == ErrorKind::NotFound => Err(LiveErrorCode::NotFound),
            Err(e) => {
                // Logs the cause.
                e.into_api_error();
                Err(LiveErrorCode::Internal)
            }
        },
    }
}

/// Events of the caller's organization looked at per page: by default, at most.
pub const MISSED_PAGE: u32 = 500;
pub const MISSED_PAGE_MAX: u32 = 1000;

/// `GET /api/v1/events`'s query string.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MissedQuery {
    /// The last `seq` the client received (or was told by `subscribed`).
    pub after: Option<String>,
    /// The topics it follows, comma-separated: `org,user,ticket:<id>,presence`.
    pub topics: Option<String>,
    /// Events looked at (1–1000, default 500); fewer may be returned.
    pub limit: Option<String>,
}

/// What a client following `topics` missed after `after`: a page of the
/// organization's outbox (at most `limit` events looked at), filtered as
/// the WebSocket filters. 410 when events after `after` were pruned
/// already (reload everything instead).
pub async fn missed(
    state: &AppState,
    caller: &Principal,
    query: &MissedQuery,
) -> AppResult<Missed> {
    let mut errs = FieldErrors::new();
    let after = errs.parse("after", query.after.as_deref(), |s| {
        s.parse::<i64>().ok().filter(|n| *n >= 0)
    });
    let topics = errs.parse("topics", query.topics.as_deref(), |s| {
        s.split(',')
            .map(|t| t.trim().parse().ok())
            .collect::<Option<Vec<Topic>>>()
    });
    let limit = errs
        .parse("limit", query.limit.as_deref(), |s| {
            s.parse::<u32>()
                .ok()
                .filter(|n| (1..=MISSED_PAGE_MAX).contains(n))
        })
        .unwrap_or(MISSED_PAGE);
    errs.check(after.is_some(), "after", "Give the last seq received");
    errs.check(topics.is_some(), "topics", "Name the topics followed");
    errs.into_result()?;
    let (Some(after), Some(topics)) = (after, topics) else {
        return Err(ApiError::internal().into());
    };
    for topic in &topics {
        authorize(state, caller, *topic)
            .await
            .map_err(|code| match code {
                LiveErrorCode::Forbidden => ApiError::forbidden(),
                LiveErrorCode::NotFound => ApiError::not_found(),
                LiveErrorCode::BadRequest | LiveErrorCode::Internal => ApiError::internal(),
            })?;
    }
    let org = caller.org();
    let (oldest, last) = events::retained(&state.db, org).await?;
    if after < last && oldest.is_none_or(|oldest| oldest > after + 1) {
        return Err(AppError::kind(
            ErrorKind::Gone,
            "Those events are no longer kept; reload instead",
        ));
    }
    let batch = events::after(
        &state.db,
        Position {
            organization_id: org,
            seq: after,
        },
        limit,
    )
    .await?;
    let viewer = viewer(caller);
    let mut items = Vec::new();
    for stored in &batch {
        let views = match fanout::prepare(state, stored).await {
            Ok(views) => views,
            Err(e) => {
                tracing::warn!(event = %stored.id, error = ?e, "live updates: event skipped");
                continue;
            }
        };
        for (topic, view) in deliveries(&views, viewer, &topics) {
            let event = match view {
                View::Full => Some(views.full.clone()),
                View::Customer => views.customer.clone(),
            };
            items.extend(event.map(|event| MissedEvent {
                topic,
                seq: stored.seq,
                event,
            }));
        }
    }
    Ok(Missed {
        items,
        next_after: batch.last().map_or(after, |e| e.seq),
        more: batch.len() == limit as usize,
    })
}

/// A `ServerMessage` as the text frame it is sent as.
fn frame(message: &ServerMessage) -> String {
    // Our own types always serialize.
    serde_json::to_string(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::live::{Presence, PresenceState};
    use crate::engine::live::Reach;

    #[test]
    fn event_frames_are_the_shared_server_message() {
        let ticket_id = Uuid::now_v7();
        let presence = LiveEvent::PresenceChanged(Presence {
            ticket_id,
            user_id: Uuid::now_v7(),
            name: "Priya \"P\" Ōtsuka".into(),
            state: PresenceState::Replying,
            at: chrono::Utc::now(),
        });
        let views = Views {
            reach: Reach::Queue,
            ticket_id: Some(ticket_id),
            full: presence.clone(),
            customer: None,
        };
        let outgoing = Outgoing::new(Uuid::now_v7(), 42, views);
        let staff = Viewer {
            user_id: Uuid::now_v7(),
            reads_internal: true,
        };
        let topics = [Topic::Org, Topic::Ticket(ticket_id)];
        let frames = outgoing.frames(staff, &topics);
        assert_eq!(frames.len(), 2);
        for (text, topic) in frames.iter().zip(topics) {
            let parsed: ServerMessage = serde_json::from_str(text.as_str()).unwrap();
            let expected = ServerMessage::Event {
                topic,
                seq: 42,
                event: Box::new(presence.clone()),
            };
            assert_eq!(parsed, expected);
        }
        // The next subscriber gets the very same frames, not copies.
        let again = outgoing.frames(staff, &topics);
        for (first, second) in frames.iter().zip(&again) {
            assert_eq!(first.as_str().as_ptr(), second.as_str().as_ptr());
        }
        // Without a customer view, a customer following the ticket gets nothing.
        let customer = Viewer {
            reads_internal: false,
            ..staff
        };
        assert!(outgoing.frames(customer, &topics[1..]).is_empty());
    }
}
