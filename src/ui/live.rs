//! Live updates in the browser: one WebSocket per tab (docs/LIVE.md),
//! opened after hydration by the signed-in frame and shared by every view
//! on screen. A view calls `follow` with a topic and a handler for as long
//! as it lives (the first follower subscribes, the last one leaving
//! unsubscribes shortly after); the ticket pages say what their person is
//! doing with `show_presence`. The connection's loop is a split module of
//! its own (`live_updates`), downloaded once the page is interactive, so
//! no page waits for it.

use crate::domain::live::{LiveEvent, PresenceState, Topic};
use leptos::prelude::*;
use uuid::Uuid;

/// What the tab's connection is doing (the top bar says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    /// Opening the socket, or subscriptions not confirmed yet.
    Connecting,
    /// Everything followed is live.
    Live,
    /// The connection dropped; the next try is in this many seconds.
    Offline { retry_in_secs: u64 },
    /// The server speaks another protocol version: the page must reload.
    Reload,
    /// The session ended: sign in again.
    SignedOut,
}

/// What a view following a topic is handed.
#[derive(Debug, Clone, Copy)]
pub enum Delivery<'a> {
    /// An event of the topic, each once and in order.
    Event(&'a LiveEvent),
    /// Events may have been lost beyond what could be fetched again (a very
    /// long disconnection): load the view afresh.
    Reload,
}

/// Calls `handler` with the events of `topic` while the calling view (its
/// reactive owner) lives. Does nothing on the server.
pub fn follow(topic: Topic, handler: impl Fn(Delivery<'_>) + 'static) {
    #[cfg(feature = "hydrate")]
    client::follow(topic, std::rc::Rc::new(handler));
    #[cfg(not(feature = "hydrate"))]
    let _ = (topic, handler);
}

/// Whether a delivery can change what a list of tickets or a counter of
/// them shows (presence and notifications do not).
pub fn changes_tickets(delivery: Delivery<'_>) -> bool {
    !matches!(
        delivery,
        Delivery::Event(LiveEvent::PresenceChanged(_) | LiveEvent::NotificationCreated(_))
    )
}

/// Runs `reload` once per burst of `topic`'s deliveries that `matters`:
/// `burst` after the first one, and not again before that reload is done
/// (one at a time, so an older answer never replaces a newer one). For as
/// long as the calling view lives; nothing on the server.
pub fn reload_on<Fut>(
    topic: Topic,
    burst: std::time::Duration,
    matters: fn(Delivery<'_>) -> bool,
    reload: impl Fn() -> Fut + Clone + 'static,
) where
    Fut: Future<Output = ()> + 'static,
{
    let busy = StoredValue::new(false);
    follow(topic, move |delivery| {
        if !matters(delivery) || busy.try_get_value() != Some(false) {
            return;
        }
        busy.set_value(true);
        let reload = reload.clone();
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    reload().await;
                    busy.try_set_value(false);
                })
            },
            burst,
        );
    });
}

/// Tells the others on `ticket_id` what this person is doing there (sent
/// when it changes, and again after a reconnect).
pub fn show_presence(ticket_id: Uuid, state: PresenceState) {
    #[cfg(feature = "hydrate")]
    client::show_presence(ticket_id, state);
    #[cfg(not(feature = "hydrate"))]
    let _ = (ticket_id, state);
}

/// Opens the tab's connection, once (the signed-in frame calls it after
/// hydration, on every page).
pub fn start() {
    #[cfg(feature = "hydrate")]
    client::start();
}

/// Opens no connection until `start` is called again: the person is
/// signing out, and a connection opened after that would be refused.
pub fn stop() {
    #[cfg(feature = "hydrate")]
    client::stop();
}

/// The connection's state, for the top bar.
pub fn live_status() -> Signal<LiveStatus> {
    #[cfg(feature = "hydrate")]
    {
        let status = client::status();
        Signal::derive(move || status.get())
    }
    #[cfg(not(feature = "hydrate"))]
    Signal::stored(LiveStatus::Connecting)
}

/// The top bar's word on the connection: "Live", or what is wrong and what
/// happens next.
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let status = live_status();
    let state = move || match status.get() {
        LiveStatus::Connecting => "connecting",
        LiveStatus::Live => "live",
        LiveStatus::Offline { .. } => "offline",
        LiveStatus::Reload | LiveStatus::SignedOut => "ended",
    };
    view! {
        <span class="live-indicator" data-state=state role="status" aria-label="Live updates">
            <span class="live-dot" aria-hidden="true"></span>
            {move || match status.get() {
                LiveStatus::Connecting => view! { <span>"Connecting…"</span> }.into_any(),
                LiveStatus::Live => view! { <span>"Live"</span> }.into_any(),
                LiveStatus::Offline { retry_in_secs } => {
                    view! { <span>{format!("Offline, retrying in {retry_in_secs} s")}</span> }.into_any()
                }
                LiveStatus::Reload => view! {
                    <span>"Fieldesk was updated. "</span>
                    <button type="button" class="btn btn-quiet" on:click=|_| {
                        let _ = window().location().reload();
                    }>"Reload"</button>
                }
                .into_any(),
                LiveStatus::SignedOut => view! {
                    <span>"Signed out. "</span>
                    <a href="/login">"Sign in"</a>
                }
                .into_any(),
            }}
        </span>
    }
}

/// The ticket an event is about, if any.
pub fn ticket_of(event: &LiveEvent) -> Option<Uuid> {
    match event {
        LiveEvent::TicketCreated { ticket } => Some(ticket.id),
        LiveEvent::TicketUpdated(u) | LiveEvent::TicketAssigned(u) => Some(u.ticket_id),
        LiveEvent::CommentCreated(c) => Some(c.ticket_id),
        LiveEvent::PresenceChanged(p) => Some(p.ticket_id),
        LiveEvent::NotificationCreated(n) => n.ticket_id,
        LiveEvent::SlaWarning(a) | LiveEvent::SlaBreached(a) => Some(a.ticket_id),
    }
}

#[cfg(feature = "hydrate")]
mod client {
    //! The tab's hub (followers, the tracker, this person's presence) and
    //! the connection's loop.

    use super::{Delivery, LiveStatus};
    use crate::domain::live::{CLOSE_ACCESS_ENDED, CLOSE_RELOAD};
    use crate::domain::live::{
        ClientMessage, LiveEvent, PROTOCOL_VERSION, PresenceState, ServerMessage, Topic,
    };
    use crate::engine::live_client::{Subscribed, Tracker, reconnect_delay};
    use futures::channel::{mpsc, oneshot};
    use futures::{FutureExt, SinkExt, StreamExt};
    use gloo_net::websocket::{Message, WebSocketError, futures::WebSocket};
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::collections::{HashMap, HashSet};
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::{Context, Poll};
    use std::time::Duration;
    use uuid::Uuid;

    type Handler = Rc<dyn Fn(Delivery<'_>)>;

    /// A topic nobody follows any more is kept this long, so moving from a
    /// page to the next one that follows it too does not resubscribe.
    const LINGER: Duration = Duration::from_secs(2);
    /// Silence after which the client pings (the server pings every 30 s).
    const PING_AFTER: Duration = Duration::from_secs(25);
    /// Silence after which the connection is given up and replaced.
    const SILENT_FOR: Duration = Duration::from_secs(50);
    /// Pages of missed events fetched per topic before the views reload instead.
    const RESYNC_PAGES: usize = 10;
    /// Tries per page of missed events.
    const RESYNC_TRIES: usize = 3;

    #[derive(Default)]
    struct Hub {
        started: bool,
        /// False while signing out or signed out: no connection is opened.
        wanted: bool,
        /// Wakes the parked loop when a connection is wanted again.
        wake: Option<oneshot::Sender<()>>,
        next_id: u64,
        followers: Vec<(u64, Topic, Handler)>,
        tracker: Tracker,
        /// The open connection's outgoing messages.
        outbox: Option<mpsc::UnboundedSender<String>>,
        /// Subscriptions sent and not answered yet.
        pending: HashSet<Topic>,
        /// The seq each topic's last `subscribed` named.
        subscribed_at: HashMap<Topic, i64>,
        /// This person's states on tickets (idle ones are dropped).
        presence: HashMap<Uuid, PresenceState>,
    }

    impl Hub {
        fn send(&self, message: &ClientMessage) {
            if let (Some(outbox), Ok(text)) = (&self.outbox, serde_json::to_string(message)) {
                let _ = outbox.unbounded_send(text);
            }
        }

        fn subscribe(&mut self, topic: Topic) {
            if self.outbox.is_some() {
                self.pending.insert(topic);
                self.send(&ClientMessage::Subscribe { topic });
            }
        }

        fn followed(&self, topic: Topic) -> bool {
            self.followers.iter().any(|(_, t, _)| *t == topic)
        }

        /// Live once connected with every subscription confirmed.
        fn settle(&self) {
            if self.outbox.is_some() && self.pending.is_empty() {
                set_status(LiveStatus::Live);
            }
        }
    }

    thread_local! {
        static HUB: RefCell<Hub> = RefCell::new(Hub::default());
        static STATUS: ArcRwSignal<LiveStatus> = ArcRwSignal::new(LiveStatus::Connecting);
    }

    pub fn status() -> ArcRwSignal<LiveStatus> {
        STATUS.with(Clone::clone)
    }

    fn set_status(status: LiveStatus) {
        STATUS.with(|s| {
            if s.get_untracked() != status {
                s.set(status);
            }
        });
    }

    pub fn follow(topic: Topic, handler: Handler) {
        let id = HUB.with_borrow_mut(|hub| {
            let first = !hub.followed(topic);
            hub.next_id += 1;
            let id = hub.next_id;
            hub.followers.push((id, topic, handler));
            if first && !hub.tracker.topics().contains(&topic) {
                hub.tracker.follow(topic);
                hub.subscribe(topic);
                if hub.outbox.is_some() {
                    set_status(LiveStatus::Connecting);
                }
            }
            id
        });
        on_cleanup(move || unfollow(id, topic));
    }

    fn unfollow(id: u64, topic: Topic) {
        HUB.with_borrow_mut(|hub| hub.followers.retain(|(i, _, _)| *i != id));
        set_timeout(
            move || {
                HUB.with_borrow_mut(|hub| {
                    if !hub.followed(topic) {
                        hub.tracker.forget(topic);
                        hub.pending.remove(&topic);
                        hub.send(&ClientMessage::Unsubscribe { topic });
                        hub.settle();
                    }
                })
            },
            LINGER,
        );
    }

    pub fn show_presence(ticket_id: Uuid, state: PresenceState) {
        HUB.with_borrow_mut(|hub| {
            let before = hub
                .presence
                .get(&ticket_id)
                .copied()
                .unwrap_or(PresenceState::Idle);
            if before == state {
                return;
            }
            if state == PresenceState::Idle {
                hub.presence.remove(&ticket_id);
            } else {
                hub.presence.insert(ticket_id, state);
            }
            hub.send(&ClientMessage::Presence { state, ticket_id });
        });
    }

    /// Hands `delivery` to the followers of `topic` (outside the hub's
    /// borrow: a handler may follow or show presence itself).
    fn deliver(topic: Topic, delivery: Delivery<'_>) {
        let handlers: Vec<Handler> = HUB.with_borrow(|hub| {
            hub.followers
                .iter()
                .filter(|(_, t, _)| *t == topic)
                .map(|(_, _, h)| h.clone())
                .collect()
        });
        for handler in handlers {
            handler(delivery);
        }
    }

    pub fn start() {
        let first = HUB.with_borrow_mut(|hub| {
            hub.wanted = true;
            if let Some(wake) = hub.wake.take() {
                let _ = wake.send(());
            }
            !std::mem::replace(&mut hub.started, true)
        });
        if first {
            leptos::task::spawn_local(connect_forever());
        }
    }

    /// An open connection is left to end by itself (the server closes it
    /// once the session ends): closing one still opening would log an
    /// error in the browser's console.
    pub fn stop() {
        HUB.with_borrow_mut(|hub| hub.wanted = false);
    }

    /// Waits until a connection is wanted.
    async fn wanted() {
        let parked = HUB.with_borrow_mut(|hub| {
            (!hub.wanted).then(|| {
                let (wake, parked) = oneshot::channel();
                hub.wake = Some(wake);
                parked
            })
        });
        if let Some(parked) = parked {
            let _ = parked.await;
        }
    }

    /// How a connection ended.
    enum Outcome {
        /// Dropped, closed by a restarting server, or too slow: reconnect.
        Dropped { heard: bool },
        /// Closed 4001: the session may have ended.
        AccessEnded,
        /// Another protocol version: the page must reload.
        Reload,
    }

    /// Connects, reconnects with backoff and jitter, waits while the
    /// person is signed out, and ends only when the page must reload.
    #[leptos::lazy(live_updates)]
    async fn connect_forever() {
        let mut attempt = 0u32;
        loop {
            wanted().await;
            set_status(LiveStatus::Connecting);
            let ended = match WebSocket::open(&socket_url()) {
                Ok(socket) => run(socket).await,
                Err(_) => Outcome::Dropped { heard: false },
            };
            HUB.with_borrow_mut(|hub| {
                hub.outbox = None;
                hub.pending.clear();
            });
            match ended {
                Outcome::Reload => {
                    set_status(LiveStatus::Reload);
                    return;
                }
                Outcome::Dropped { heard: true } => attempt = 0,
                // A refused upgrade (401) looks like any failed connection.
                Outcome::AccessEnded | Outcome::Dropped { heard: false } => {
                    if matches!(crate::api::auth::current_user().await, Ok(None)) {
                        set_status(LiveStatus::SignedOut);
                        HUB.with_borrow_mut(|hub| hub.wanted = false);
                        attempt = 0;
                        continue;
                    }
                }
            }
            let delay = reconnect_delay(attempt, js_sys::Math::random());
            attempt = attempt.saturating_add(1);
            set_status(LiveStatus::Offline {
                retry_in_secs: delay.as_secs().max(1),
            });
            sleep(delay).await;
        }
    }

    fn socket_url() -> String {
        let location = window().location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let host = location.host().unwrap_or_default();
        format!("{scheme}://{host}/ws?v={PROTOCOL_VERSION}")
    }

    /// One connection: subscribes what is followed, repeats this person's
    /// presence, then reads until it ends.
    async fn run(socket: WebSocket) -> Outcome {
        let (mut write, read) = socket.split();
        let mut read = read.fuse();
        let (outbox, mut outgoing) = mpsc::unbounded::<String>();
        HUB.with_borrow_mut(|hub| {
            hub.outbox = Some(outbox);
            for topic in hub.tracker.topics() {
                hub.subscribe(topic);
            }
            for (ticket_id, state) in hub.presence.clone() {
                hub.send(&ClientMessage::Presence { state, ticket_id });
            }
        });
        let mut heard = false;
        let mut last_heard = now();
        let mut pinged = false;
        loop {
            let silence = now().saturating_sub(last_heard);
            let wait = if pinged {
                SILENT_FOR.saturating_sub(silence)
            } else {
                PING_AFTER.saturating_sub(silence)
            };
            futures::select! {
                incoming = read.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        heard = true;
                        last_heard = now();
                        pinged = false;
                        if let Some(ended) = receive(&text) {
                            return ended;
                        }
                    }
                    Some(Ok(Message::Bytes(_))) | Some(Err(WebSocketError::ConnectionError)) => {}
                    Some(Err(WebSocketError::ConnectionClose(close))) => {
                        return match close.code {
                            CLOSE_RELOAD => Outcome::Reload,
                            CLOSE_ACCESS_ENDED => Outcome::AccessEnded,
                            _ => Outcome::Dropped { heard },
                        };
                    }
                    // A failed send, or errors of a newer gloo-net.
                    Some(Err(_)) | None => return Outcome::Dropped { heard },
                },
                text = outgoing.next() => {
                    if let Some(text) = text
                        && write.send(Message::Text(text)).await.is_err()
                    {
                        return Outcome::Dropped { heard };
                    }
                }
                () = sleep(wait).fuse() => {
                    if pinged {
                        return Outcome::Dropped { heard };
                    }
                    pinged = true;
                    HUB.with_borrow(|hub| hub.send(&ClientMessage::Ping));
                }
            }
        }
    }

    /// Handles one server message; Some when the connection is over.
    fn receive(text: &str) -> Option<Outcome> {
        // Kinds of a newer server this build does not know are skipped.
        let message = serde_json::from_str::<ServerMessage>(text).ok()?;
        match message {
            ServerMessage::Subscribed { topic, seq } => {
                let answer = HUB.with_borrow_mut(|hub| {
                    hub.pending.remove(&topic);
                    hub.subscribed_at.insert(topic, seq);
                    let answer = hub.tracker.subscribed(topic, seq);
                    hub.settle();
                    answer
                });
                if let Subscribed::Resync { after } = answer {
                    leptos::task::spawn_local(resync(topic, after));
                }
            }
            ServerMessage::Event { topic, seq, event } => {
                let shown = HUB.with_borrow_mut(|hub| hub.tracker.event(topic, seq, *event));
                if let Some(event) = shown {
                    deliver(topic, Delivery::Event(&event));
                }
            }
            ServerMessage::Error { topic, .. } => {
                // A topic refused (a ticket no longer visible): nothing arrives for it.
                if let Some(topic) = topic {
                    HUB.with_borrow_mut(|hub| {
                        hub.pending.remove(&topic);
                        hub.settle();
                    });
                }
            }
            ServerMessage::Pong => {}
            ServerMessage::Reload { .. } => return Some(Outcome::Reload),
        }
        None
    }

    /// Fetches what `topic` missed after `after`, shows it and what arrived
    /// meanwhile; the views reload when that is not possible.
    async fn resync(topic: Topic, mut after: i64) {
        let mut missed: Vec<(i64, LiveEvent)> = Vec::new();
        let mut complete = false;
        'pages: for _ in 0..RESYNC_PAGES {
            let mut page = None;
            for _ in 0..RESYNC_TRIES {
                match crate::api::live::missed_events(after, topic.to_string()).await {
                    Ok(found) => {
                        page = Some(found);
                        break;
                    }
                    Err(_) => sleep(Duration::from_secs(1)).await,
                }
            }
            let Some(page) = page else { break 'pages };
            missed.extend(
                page.items
                    .into_iter()
                    .filter(|item| item.topic == topic)
                    .map(|item| (item.seq, item.event)),
            );
            after = page.next_after;
            if !page.more {
                complete = true;
                break;
            }
        }
        if complete {
            let shown = HUB.with_borrow_mut(|hub| hub.tracker.resynced(topic, missed));
            for event in &shown {
                deliver(topic, Delivery::Event(event));
            }
        } else {
            HUB.with_borrow_mut(|hub| {
                let seq = hub.subscribed_at.get(&topic).copied().unwrap_or(after);
                hub.tracker.restart(topic, seq);
            });
            deliver(topic, Delivery::Reload);
        }
    }

    fn now() -> Duration {
        Duration::from_secs_f64(js_sys::Date::now().max(0.0) / 1000.0)
    }

    /// A timer future, cleared when dropped (a `select!` that another
    /// branch won leaves no timeout behind).
    struct Sleep {
        done: oneshot::Receiver<()>,
        handle: Option<leptos::leptos_dom::helpers::TimeoutHandle>,
    }

    fn sleep(duration: Duration) -> Sleep {
        let (fire, done) = oneshot::channel();
        let handle = set_timeout_with_handle(
            move || {
                let _ = fire.send(());
            },
            duration,
        )
        .ok();
        Sleep { done, handle }
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.done.poll_unpin(cx).map(|_| ())
        }
    }

    impl Drop for Sleep {
        fn drop(&mut self) {
            if let Some(handle) = self.handle.take() {
                handle.clear();
            }
        }
    }
}
