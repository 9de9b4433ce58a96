//! One WebSocket connection: the client's requests (subscribe, unsubscribe,
//! presence, ping), the events its subscriptions reach, keep-alive pings,
//! and closing — on shutdown, when its access ended, or when it falls
//! behind. What it sends goes through its own queue of
//! `FIELDESK_WS_QUEUE` frames to a writer task: the connection's loop never
//! waits for the network, and a client whose queue is full (it does not
//! read, or reads too slowly) is disconnected at once, without slowing
//! anyone else.

use super::{Connection, Outgoing, frame, viewer};
use crate::domain::live::{
    CLOSE_ACCESS_ENDED, CLOSE_RELOAD, CLOSE_TOO_SLOW, ClientMessage, LiveErrorCode,
    PROTOCOL_VERSION, PresenceState, ServerMessage, Topic,
};
use crate::engine::live::Viewer;
use crate::server::auth::{Person, Principal};
use crate::server::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::time::Instant;
use uuid::Uuid;

/// Topics one connection may follow at once.
const MAX_TOPICS: usize = 100;
/// Tickets one connection may show presence on at once.
const MAX_PRESENCE: usize = 20;
/// Frames the client does not take within this long close the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames the writer sends with one flush at most.
const WRITE_BATCH: usize = 64;
/// How long a closing connection waits for its queue to be written.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Presence changes a connection may publish: a burst, then per second.
const PRESENCE_BURST: NonZeroU32 = NonZeroU32::new(10).expect("non-zero");
const PRESENCE_PER_SECOND: NonZeroU32 = NonZeroU32::new(2).expect("non-zero");
/// The largest client message accepted (they are a few dozen bytes); a
/// larger one ends the connection.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Each socket's read buffer. Clients send a few dozen bytes at a time;
/// tungstenite's default (128 KiB, zero-filled at a socket's first read)
/// would cost 1.3 GB for 10,000 connections.
pub const READ_BUFFER_BYTES: usize = 4096;

/// Why the loop ended, and how the socket is closed.
enum Exit {
    /// The client closed or vanished.
    Gone,
    /// The client's queue is full: drop the connection without waiting.
    TooSlow,
    /// Close with this code and reason, after what is queued.
    Close(u16, &'static str),
}

struct Socket {
    state: AppState,
    /// Frames for the writer task.
    out: mpsc::Sender<Message>,
    person: Person,
    principal: Principal,
    viewer: Viewer,
    topics: Vec<Topic>,
    /// This connection's non-idle presence, per ticket.
    presence: HashMap<Uuid, PresenceState>,
    presence_limit: DefaultDirectRateLimiter,
}

/// Serves an admitted connection until it closes. `version` is the
/// protocol the client asked for.
pub async fn run(
    state: AppState,
    mut conn: Connection,
    person: Person,
    ws: WebSocket,
    version: Option<u32>,
) {
    let (sink, mut incoming) = ws.split();
    let (out, queue) = mpsc::channel(state.live.limits.queue);
    let mut writer = tokio::spawn(write(sink, queue));
    let principal = Principal::User(person.clone());
    let mut socket = Socket {
        viewer: viewer(&principal),
        state,
        out,
        person,
        principal,
        topics: Vec::new(),
        presence: HashMap::new(),
        presence_limit: RateLimiter::direct(
            Quota::per_second(PRESENCE_PER_SECOND).allow_burst(PRESENCE_BURST),
        ),
    };
    let exit = if version == Some(PROTOCOL_VERSION) {
        socket.serve(&mut conn, &mut incoming).await
    } else {
        let reload = ServerMessage::Reload {
            version: PROTOCOL_VERSION,
        };
        match socket.send(&reload) {
            Ok(()) => Exit::Close(CLOSE_RELOAD, "protocol version: reload the page"),
            Err(exit) => exit,
        }
    };
    socket.leave().await;
    match exit {
        Exit::TooSlow => {
            metrics::counter!("fieldesk_ws_disconnects_total", "reason" => "too_slow").increment(1);
            writer.abort();
        }
        Exit::Gone => writer.abort(),
        Exit::Close(code, reason) => {
            let close = Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            }));
            if socket.out.try_send(close).is_err() {
                writer.abort();
            }
            drop(socket);
            if tokio::time::timeout(CLOSE_TIMEOUT, &mut writer)
                .await
                .is_err()
            {
                writer.abort();
            }
        }
    }
    // Only now is the connection gone (shutdown waits for this).
    drop(conn);
}

/// The writer task: sends the queued frames in order, all that are waiting
/// (up to `WRITE_BATCH`) with one flush, so a burst of events costs one
/// system call rather than one each; ends at a close frame, a send error
/// or a batch that is not written in time.
async fn write(mut sink: SplitSink<WebSocket, Message>, mut queue: mpsc::Receiver<Message>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while queue.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let closing = batch.iter().any(|m| matches!(m, Message::Close(_)));
        let written = async {
            for message in batch.drain(..) {
                sink.feed(message).await?;
            }
            sink.flush().await
        };
        match tokio::time::timeout(SEND_TIMEOUT, written).await {
            Ok(Ok(())) if !closing => {}
            Ok(Ok(())) | Ok(Err(_)) => return,
            Err(_) => {
                metrics::counter!("fieldesk_ws_disconnects_total", "reason" => "send_timeout")
                    .increment(1);
                return;
            }
        }
    }
}

impl Socket {
    async fn serve(
        &mut self,
        conn: &mut Connection,
        incoming: &mut SplitStream<WebSocket>,
    ) -> Exit {
        let limits = self.state.live.limits;
        let mut shutdown = self.state.live.shutdown.subscribe();
        let mut ping =
            tokio::time::interval_at(Instant::now() + limits.ping_every, limits.ping_every);
        let mut refresh = tokio::time::interval_at(
            Instant::now() + super::PRESENCE_REFRESH,
            super::PRESENCE_REFRESH,
        );
        let mut heard = Instant::now();
        loop {
            let result = tokio::select! {
                // (The guard `wait_for` returns is dropped at once: it is not `Send`.)
                _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => {
                    return Exit::Close(1001, "server shutting down: reconnect");
                }
                _ = &mut conn.ended => {
                    return Exit::Close(CLOSE_ACCESS_ENDED, "access ended: sign in again");
                }
                received = incoming.next() => {
                    heard = Instant::now();
                    match received {
                        Some(Ok(Message::Text(text))) => self.answer(text.as_str(), conn.seen).await,
                        Some(Ok(Message::Binary(_))) => self.refuse(LiveErrorCode::BadRequest, None),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return Exit::Gone,
                    }
                }
                next = conn.events.recv() => match next {
                    Ok(outgoing) => self.deliver_burst(&outgoing, conn),
                    // The loop itself fell behind the broadcast.
                    Err(RecvError::Lagged(_)) => return Exit::TooSlow,
                    Err(RecvError::Closed) => return Exit::Gone,
                },
                _ = ping.tick() => {
                    if heard.elapsed() > 2 * limits.ping_every {
                        metrics::counter!("fieldesk_ws_disconnects_total", "reason" => "silent").increment(1);
                        return Exit::Close(CLOSE_TOO_SLOW, "no answer to pings");
                    }
                    self.queue(Message::Ping(Default::default()))
                }
                _ = refresh.tick() => {
                    self.repeat_presence().await;
                    Ok(())
                }
            };
            if let Err(exit) = result {
                return exit;
            }
        }
    }

    /// Queues `first` and every event already waiting behind it: a burst
    /// (the fan-out sends a pass's events back to back) costs the loop one
    /// turn, and the writer one flush, rather than one each.
    fn deliver_burst(&mut self, first: &Outgoing, conn: &mut Connection) -> Result<(), Exit> {
        self.deliver(first, &mut conn.seen)?;
        loop {
            match conn.events.try_recv() {
                Ok(next) => self.deliver(&next, &mut conn.seen)?,
                Err(TryRecvError::Lagged(_)) => return Err(Exit::TooSlow),
                // (Closed: the loop's next `recv` says so.)
                Err(TryRecvError::Empty | TryRecvError::Closed) => return Ok(()),
            }
        }
    }

    /// Queues what `outgoing` holds for this subscriber.
    fn deliver(&mut self, outgoing: &Outgoing, seen: &mut i64) -> Result<(), Exit> {
        if outgoing.org != self.person.org {
            return Ok(());
        }
        *seen = outgoing.seq;
        for text in outgoing.frames(self.viewer, &self.topics) {
            self.queue(Message::Text(text))?;
        }
        Ok(())
    }

    /// Answers one client message.
    async fn answer(&mut self, text: &str, seen: i64) -> Result<(), Exit> {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(_) => {
                let topic = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("topic")?.as_str()?.parse().ok());
                return self.refuse(LiveErrorCode::BadRequest, topic);
            }
        };
        match message {
            ClientMessage::Ping => self.send(&ServerMessage::Pong),
            ClientMessage::Subscribe { topic } => self.subscribe(topic, seen).await,
            ClientMessage::Unsubscribe { topic } => {
                self.topics.retain(|t| *t != topic);
                Ok(())
            }
            ClientMessage::Presence { state, ticket_id } => {
                self.set_presence(ticket_id, state).await
            }
        }
    }

    async fn subscribe(&mut self, topic: Topic, seen: i64) -> Result<(), Exit> {
        if !self.topics.contains(&topic) && self.topics.len() >= MAX_TOPICS {
            return self.refuse(LiveErrorCode::BadRequest, Some(topic));
        }
        if let Err(code) = super::authorize(&self.state, &self.principal, topic).await {
            return self.refuse(code, Some(topic));
        }
        if !self.topics.contains(&topic) {
            self.topics.push(topic);
        }
        self.send(&ServerMessage::Subscribed { topic, seq: seen })?;
        // Who is on the ticket (or on any, for `presence`) right now.
        if matches!(topic, Topic::Presence | Topic::Ticket(_)) {
            for outgoing in self.state.live.presence_on(self.person.org, topic) {
                for text in outgoing.frames(self.viewer, &[topic]) {
                    self.queue(Message::Text(text))?;
                }
            }
        }
        Ok(())
    }

    async fn set_presence(&mut self, ticket_id: Uuid, state: PresenceState) -> Result<(), Exit> {
        let topic = Some(Topic::Ticket(ticket_id));
        let current = self
            .presence
            .get(&ticket_id)
            .copied()
            .unwrap_or(PresenceState::Idle);
        if current == state {
            return Ok(());
        }
        let too_many = self.presence.len() >= MAX_PRESENCE && current == PresenceState::Idle;
        if too_many || self.presence_limit.check().is_err() {
            return self.refuse(LiveErrorCode::BadRequest, topic);
        }
        if let Err(code) =
            super::authorize(&self.state, &self.principal, Topic::Ticket(ticket_id)).await
        {
            return self.refuse(code, topic);
        }
        if let Err(e) = super::publish_presence(&self.state, &self.person, ticket_id, state).await {
            e.into_api_error();
            return self.refuse(LiveErrorCode::Internal, topic);
        }
        if state == PresenceState::Idle {
            self.presence.remove(&ticket_id);
        } else {
            self.presence.insert(ticket_id, state);
        }
        Ok(())
    }

    /// Publishes this connection's states again, so they outlive
    /// `PRESENCE_TTL` while it stays.
    async fn repeat_presence(&self) {
        for (ticket, state) in &self.presence {
            if let Err(e) =
                super::publish_presence(&self.state, &self.person, *ticket, *state).await
            {
                e.into_api_error();
            }
        }
    }

    /// The connection is closing: its person is idle on every ticket.
    async fn leave(&mut self) {
        for (ticket, _) in std::mem::take(&mut self.presence) {
            if let Err(e) =
                super::publish_presence(&self.state, &self.person, ticket, PresenceState::Idle)
                    .await
            {
                e.into_api_error();
            }
        }
    }

    fn refuse(&mut self, code: LiveErrorCode, topic: Option<Topic>) -> Result<(), Exit> {
        self.send(&ServerMessage::Error { code, topic })
    }

    fn send(&mut self, message: &ServerMessage) -> Result<(), Exit> {
        self.queue(Message::Text(frame(message).into()))
    }

    /// Queues a frame for the writer; a full queue means the client does
    /// not keep up.
    fn queue(&mut self, message: Message) -> Result<(), Exit> {
        match self.out.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(Exit::TooSlow),
            Err(TrySendError::Closed(_)) => Err(Exit::Gone),
        }
    }
}
