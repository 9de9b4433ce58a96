//! `loadgen ws …`: load on the live-updates WebSocket (docs/LIVE.md), for
//! `bench/ws.sh` and docs/PERFORMANCE.md ("Live updates under load").
//!
//! Signs in, opens `--clients` WebSockets to `/ws?v=1` with the Bearer
//! token, subscribes each one (`org`, or `ticket:<id>` of one of the
//! tickets updated), then changes tickets' subjects through
//! `PATCH /api/v1/tickets/{id}` at a steady rate, one update in flight per
//! ticket. Each subject is a marker, `lg <update number> <µs since start>`,
//! stamped just before the request is sent: a client that receives the
//! `ticket.updated` event reads the marker back, so the latency measured
//! runs from the moment the update was sent (an upper bound on its commit,
//! which happens inside that request) to this client's receipt. Reports
//! per-delivery and per-update (last client's receipt) percentiles, clients
//! dropped, and the resident memory of the server processes named.
//!
//! The last line is `RESULT key=value …` for scripts.

use clap::{Args, Parser, Subcommand, ValueEnum};
use fieldesk::domain::live::{ClientMessage, PROTOCOL_VERSION, ServerMessage, Topic};
use futures_util::{SinkExt, StreamExt};
use s3_http as reqwest;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "loadgen", about = "Load generators for Fieldesk benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// WebSocket clients receiving ticket updates made at a steady rate.
    Ws(WsArgs),
}

#[derive(Args)]
struct WsArgs {
    /// The instance the clients connect to.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The instance the updates are made through (default: --url); another
    /// instance on the same database measures the cross-instance fan-out.
    #[arg(long)]
    publish_url: Option<String>,
    /// Who signs in (staff, to follow `org`).
    #[arg(long, default_value = "agent@acme.test")]
    email: String,
    #[arg(long, env = "LOADGEN_PASSWORD")]
    password: String,
    /// WebSocket clients opened.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// What each client follows: `org` (every update reaches every client)
    /// or `ticket` (client i follows ticket i mod --tickets).
    #[arg(long, value_enum, default_value_t = Follow::Org)]
    follow: Follow,
    /// Tickets created and updated in turn (one update in flight per ticket).
    #[arg(long, default_value_t = 1)]
    tickets: usize,
    /// Updates per second; 0 only connects, holds and measures memory.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Seconds of updates.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Server processes whose resident memory (VmRSS) is reported.
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 100)]
    connect_concurrency: usize,
    /// Seconds the open connections are held before memory is read.
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
    /// Seconds waited after the last update for deliveries still on their way.
    #[arg(long, default_value_t = 3.0)]
    drain: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Follow {
    Org,
    Ticket,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The crate's one crypto provider; the HTTP client needs one installed
    // even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Command::Ws(args) = Cli::parse().command;
    ws(args).await
}

/// Latencies in microseconds, in buckets of 1/16 octave (at most 6.25%
/// above the value), shared by every client.
struct Histogram {
    buckets: Vec<AtomicU64>,
    max: AtomicU64,
}

impl Histogram {
    const LINEAR: u64 = 32;
    const SUB: u64 = 16;

    fn new() -> Histogram {
        Histogram {
            buckets: (0..Self::LINEAR + 64 * Self::SUB)
                .map(|_| AtomicU64::new(0))
                .collect(),
            max: AtomicU64::new(0),
        }
    }

    fn index(v: u64) -> usize {
        if v < Self::LINEAR {
            return v as usize;
        }
        let octave = 63 - u64::from(v.leading_zeros()); // ≥ 5
        let sub = (v >> (octave - 4)) - Self::SUB; // 0..16
        (Self::LINEAR + (octave - 5) * Self::SUB + sub) as usize
    }

    /// The largest value of bucket `i`.
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < Self::LINEAR {
            return i;
        }
        let octave = (i - Self::LINEAR) / Self::SUB + 5;
        let sub = (i - Self::LINEAR) % Self::SUB + Self::SUB;
        ((sub + 1) << (octave - 4)) - 1
    }

    fn record(&self, us: u64) {
        self.buckets[Self::index(us)].fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(us, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The `q` quantile in milliseconds (a bucket's upper bound).
    fn quantile_ms(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return f64::NAN;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                let max = self.max.load(Ordering::Relaxed);
                return Self::upper(i).min(max) as f64 / 1000.0;
            }
        }
        f64::NAN
    }

    fn max_ms(&self) -> f64 {
        self.max.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// What the clients and the updaters share.
struct Run {
    start: Instant,
    /// Every (update, client) receipt.
    deliveries: Histogram,
    /// Per update: receipts so far, and the latest one.
    received: Vec<AtomicU32>,
    last: Vec<AtomicU64>,
    /// Events whose marker is not one of this run's updates.
    strays: AtomicU64,
    /// Clients whose connection ended while the run was on.
    dropped: AtomicUsize,
    reasons: Mutex<Vec<String>>,
    over: AtomicBool,
}

impl Run {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// An event frame: reads the marker of the update it carries.
    fn receive(&self, text: &str) {
        const MARK: &str = r#""new":"lg "#;
        let Some(at) = text.find(MARK) else {
            return;
        };
        let mut parts = text[at + MARK.len()..].splitn(3, [' ', '"']);
        let (Some(n), Some(sent)) = (parts.next(), parts.next()) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let (Ok(n), Ok(sent)) = (n.parse::<usize>(), sent.parse::<u64>()) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(count) = self.received.get(n) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let latency = self.now_us().saturating_sub(sent);
        self.deliveries.record(latency);
        count.fetch_add(1, Ordering::Relaxed);
        self.last[n].fetch_max(latency, Ordering::Relaxed);
    }

    fn drop_client(&self, why: String) {
        if self.over.load(Ordering::Relaxed) {
            return;
        }
        self.dropped.fetch_add(1, Ordering::Relaxed);
        let mut reasons = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
        if reasons.len() < 5 {
            reasons.push(why);
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn ws(args: WsArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let publish_url = args.publish_url.clone().unwrap_or_else(|| args.url.clone());
    let token = login(&http, &args.url, &args.email, &args.password).await?;
    let publish_token = if publish_url == args.url {
        token.clone()
    } else {
        login(&http, &publish_url, &args.email, &args.password).await?
    };

    let mut tickets = Vec::new();
    if args.rate > 0.0 || args.follow == Follow::Ticket {
        for i in 0..args.tickets.max(1) {
            tickets.push(create_ticket(&http, &publish_url, &publish_token, i).await?);
        }
    }
    let total_updates = (args.rate * args.duration).floor() as usize;
    let run = Arc::new(Run {
        start: Instant::now(),
        deliveries: Histogram::new(),
        received: (0..total_updates).map(|_| AtomicU32::new(0)).collect(),
        last: (0..total_updates).map(|_| AtomicU64::new(0)).collect(),
        strays: AtomicU64::new(0),
        dropped: AtomicUsize::new(0),
        reasons: Mutex::new(Vec::new()),
        over: AtomicBool::new(false),
    });

    let rss_before = rss(&args.server_pids);
    eprintln!("server RSS before: {}", show_rss(&rss_before));

    // Open the clients, a few at a time (a burst of thousands of SYNs
    // overflows the listen queue and measures retransmission timers).
    let ws_url = format!(
        "{}/ws?v={PROTOCOL_VERSION}",
        args.url.replacen("http", "ws", 1)
    );
    let connect_started = Instant::now();
    let outcomes: Vec<Result<(), String>> = futures_util::stream::iter(0..args.clients)
        .map(|i| {
            let topic = match args.follow {
                Follow::Org => Topic::Org,
                Follow::Ticket => Topic::Ticket(tickets[i % tickets.len()]),
            };
            let (url, token, run) = (ws_url.clone(), token.clone(), run.clone());
            async move {
                let socket = open(&url, &token, topic).await?;
                tokio::spawn(listen(socket, run));
                Ok(())
            }
        })
        .buffer_unordered(args.connect_concurrency.max(1))
        .collect()
        .await;
    let connect_s = connect_started.elapsed().as_secs_f64();
    let failed: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    let connected = args.clients - failed.len();
    eprintln!(
        "{connected} of {} clients connected and subscribed in {connect_s:.1} s",
        args.clients
    );
    if let Some(first) = failed.first() {
        eprintln!("{} failed; the first: {first}", failed.len());
    }
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let rss_connected = rss(&args.server_pids);
    eprintln!("server RSS with the clients: {}", show_rss(&rss_connected));

    let mut result: Vec<(String, String)> = vec![
        ("clients".into(), args.clients.to_string()),
        ("connected".into(), connected.to_string()),
        ("connect_s".into(), format!("{connect_s:.1}")),
    ];
    // Per server process (in the order named): MiB, and KiB per connection.
    for (i, (before, with)) in rss_before.iter().zip(&rss_connected).enumerate() {
        let growth = *with as f64 - *before as f64;
        result.extend([
            (format!("rss{i}_before_mb"), mib(*before)),
            (format!("rss{i}_connected_mb"), mib(*with)),
            (
                format!("rss{i}_growth_mb"),
                format!("{:.1}", growth / 1024.0),
            ),
            (
                format!("rss{i}_kb_per_conn"),
                format!("{:.1}", growth / connected.max(1) as f64),
            ),
        ]);
    }

    if total_updates > 0 && connected > 0 {
        let patches = Arc::new(Histogram::new());
        let patch_errors = Arc::new(AtomicU64::new(0));
        let first_error = Arc::new(Mutex::new(None::<String>));
        let t0 = run.now_us();
        let interval_us = 1e6 / args.rate;
        let workers: Vec<_> = tickets
            .iter()
            .enumerate()
            .map(|(j, ticket)| {
                let (http, url, token, run) = (
                    http.clone(),
                    format!("{publish_url}/api/v1/tickets/{ticket}"),
                    publish_token.clone(),
                    run.clone(),
                );
                let (patches, patch_errors, first_error) =
                    (patches.clone(), patch_errors.clone(), first_error.clone());
                let stride = tickets.len();
                tokio::spawn(async move {
                    for n in (j..total_updates).step_by(stride) {
                        let due = t0 + (n as f64 * interval_us) as u64;
                        let now = run.now_us();
                        if due > now {
                            tokio::time::sleep(Duration::from_micros(due - now)).await;
                        }
                        let sent = run.now_us();
                        let body = format!(r#"{{"subject":"lg {n} {sent}"}}"#);
                        let answer = http
                            .patch(&url)
                            .header("authorization", format!("Bearer {token}"))
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await;
                        let failure = match answer {
                            Ok(r) if r.status().is_success() => {
                                // Read the body so the connection is reused.
                                r.bytes().await.err().map(|e| e.to_string())
                            }
                            Ok(r) => Some(format!("HTTP {}", r.status())),
                            Err(e) => Some(e.to_string()),
                        };
                        patches.record(run.now_us() - sent);
                        if let Some(failure) = failure {
                            patch_errors.fetch_add(1, Ordering::Relaxed);
                            first_error
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(failure);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await?;
        }
        let updates_s = (run.now_us() - t0) as f64 / 1e6;
        tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
        run.over.store(true, Ordering::Relaxed);

        // Per update, the last receipt: only updates every follower got.
        let followers = |n: usize| -> u32 {
            match args.follow {
                Follow::Org => connected as u32,
                // Client i follows ticket i mod T; update n is ticket n mod T.
                Follow::Ticket => {
                    let t = tickets.len();
                    let j = n % t;
                    (args.clients / t + usize::from(j < args.clients % t)) as u32
                }
            }
        };
        let last_client = Histogram::new();
        let mut complete = 0;
        let mut expected = 0u64;
        let mut duplicates = 0u64;
        for n in 0..total_updates {
            let (received, followers) = (run.received[n].load(Ordering::Relaxed), followers(n));
            expected += u64::from(followers);
            duplicates += u64::from(received.saturating_sub(followers));
            if received >= followers {
                complete += 1;
                last_client.record(run.last[n].load(Ordering::Relaxed));
            }
        }
        let delivered = run.deliveries.count();
        eprintln!(
            "{total_updates} updates in {updates_s:.1} s ({:.0}/s), {} failed{}",
            total_updates as f64 / updates_s,
            patch_errors.load(Ordering::Relaxed),
            first_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        );
        let figures = [
            ("updates", total_updates.to_string()),
            (
                "update_rate",
                format!("{:.0}", total_updates as f64 / updates_s),
            ),
            (
                "patch_errors",
                patch_errors.load(Ordering::Relaxed).to_string(),
            ),
            ("patch_p50_ms", format!("{:.1}", patches.quantile_ms(0.5))),
            ("patch_p99_ms", format!("{:.1}", patches.quantile_ms(0.99))),
            ("delivered", delivered.to_string()),
            ("expected", expected.to_string()),
            ("strays", run.strays.load(Ordering::Relaxed).to_string()),
            ("p50_ms", format!("{:.1}", run.deliveries.quantile_ms(0.5))),
            ("p99_ms", format!("{:.1}", run.deliveries.quantile_ms(0.99))),
            ("max_ms", format!("{:.1}", run.deliveries.max_ms())),
            ("complete_updates", complete.to_string()),
            (
                "last_p50_ms",
                format!("{:.1}", last_client.quantile_ms(0.5)),
            ),
            (
                "last_p99_ms",
                format!("{:.1}", last_client.quantile_ms(0.99)),
            ),
            ("last_max_ms", format!("{:.1}", last_client.max_ms())),
            ("duplicates", duplicates.to_string()),
        ];
        result.extend(figures.into_iter().map(|(k, v)| (k.to_owned(), v)));
    }
    run.over.store(true, Ordering::Relaxed);
    let rss_end = rss(&args.server_pids);
    eprintln!("server RSS at the end: {}", show_rss(&rss_end));
    for (i, end) in rss_end.iter().enumerate() {
        result.push((format!("rss{i}_end_mb"), mib(*end)));
    }
    result.push((
        "dropped".into(),
        run.dropped.load(Ordering::Relaxed).to_string(),
    ));
    let reasons = run.reasons.lock().unwrap_or_else(|p| p.into_inner());
    if !reasons.is_empty() {
        eprintln!("dropped clients, the first reasons: {}", reasons.join("; "));
    }
    let line: Vec<String> = result.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", line.join(" "));
    Ok(())
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let body = serde_json::json!({"email": email, "password": password}).to_string();
    let answer: serde_json::Value =
        post_json(http, &format!("{base}/api/v1/auth/login"), None, body).await?;
    answer["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the login answer has no access_token"))
}

async fn create_ticket(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    i: usize,
) -> anyhow::Result<Uuid> {
    let body = serde_json::json!({
        "subject": format!("loadgen ticket {i}"),
        "description": "Updated by `loadgen ws` (bench/ws.sh).",
    })
    .to_string();
    let ticket = post_json(http, &format!("{base}/api/v1/tickets"), Some(token), body).await?;
    ticket["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the new ticket has no id"))
}

async fn post_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: String,
) -> anyhow::Result<serde_json::Value> {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let answer = request.send().await?;
    let status = answer.status();
    let bytes = answer.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "POST {url}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(serde_json::from_slice(&bytes)?)
}

/// Connects one client and subscribes it; returns once `subscribed` came.
async fn open(url: &str, token: &str, topic: Topic) -> Result<Socket, String> {
    let attempt = async {
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        let bearer =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
        request.headers_mut().insert("authorization", bearer);
        let host = request
            .uri()
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let tcp = TcpStream::connect(host.as_str())
            .await
            .map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        // Small buffers: ten thousand clients share this process.
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let (mut socket, _) =
            tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
                .await
                .map_err(|e| e.to_string())?;
        let subscribe = serde_json::to_string(&ClientMessage::Subscribe { topic })
            .map_err(|e| e.to_string())?;
        socket
            .send(Message::Text(subscribe.into()))
            .await
            .map_err(|e| e.to_string())?;
        while let Some(message) = socket.next().await {
            match message.map_err(|e| e.to_string())? {
                Message::Text(text) => match serde_json::from_str::<ServerMessage>(text.as_str()) {
                    Ok(ServerMessage::Subscribed { .. }) => return Ok(socket),
                    Ok(ServerMessage::Error { code, .. }) => {
                        return Err(format!("subscribing to {topic}: {code:?}"));
                    }
                    _ => {}
                },
                Message::Close(frame) => return Err(format!("closed: {frame:?}")),
                _ => {}
            }
        }
        Err("closed before subscribing".to_owned())
    };
    tokio::time::timeout(Duration::from_secs(60), attempt)
        .await
        .map_err(|_| "no answer within 60 s".to_owned())?
}

/// Reads one client's frames until the connection ends (pings are answered
/// by the WebSocket stream itself).
async fn listen(mut socket: Socket, run: Arc<Run>) {
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => run.receive(text.as_str()),
            Ok(Message::Close(frame)) => {
                run.drop_client(format!("closed by the server: {frame:?}"));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                run.drop_client(e.to_string());
                return;
            }
        }
    }
    run.drop_client("connection ended".to_owned());
}

/// VmRSS in KiB of each process (0 when it cannot be read).
fn rss(pids: &[u32]) -> Vec<u64> {
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                })
                .unwrap_or(0)
        })
        .collect()
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn show_rss(kib: &[u64]) -> String {
    kib.iter()
        .map(|k| format!("{} MiB", mib(*k)))
        .collect::<Vec<_>>()
        .join(", ")
}
