//! A real SMTP server for tests, on a loopback port: enough of RFC 5321 for
//! a client to deliver mail (greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA
//! with dot-unstuffing, RSET, NOOP, QUIT). It keeps what it receives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    /// The message, parsed.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The token of the first magic link in the text.
    pub fn magic_link_token(&self) -> String {
        let text = self.text();
        let start = text.find("/access/").expect("a magic link in the mail") + "/access/".len();
        text[start..].split_whitespace().next().unwrap().to_owned()
    }
}

#[derive(Default)]
struct Inbox {
    mails: Mutex<Vec<Received>>,
    arrived: Notify,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// On a given address (to bring a server up where one was missing).
    pub async fn start_on(addr: SocketAddr) -> SmtpSink {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().unwrap();
        let inbox = Arc::new(Inbox::default());
        let server = tokio::spawn({
            let inbox = inbox.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let inbox = inbox.clone();
                    tokio::spawn(async move {
                        let _ = session(stream, &inbox).await;
                    });
                }
            }
        });
        SmtpSink {
            addr,
            inbox,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.mails.lock().unwrap().clone()
    }

    /// Waits until `count` mails have arrived (panics after `timeout`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.inbox.arrived.notified();
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {count} mails, got {}", self.received().len());
            }
        }
    }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, inbox: &Inbox) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &str = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250 8BITMIME",
            "HELO" => "250 sink.test",
            "MAIL" if from.is_some() => "503 5.5.1 Sender already given",
            "MAIL" => {
                from = Some(address(&command));
                "250 2.1.0 OK"
            }
            "RCPT" if from.is_none() => "503 5.5.1 Need MAIL first",
            "RCPT" => {
                to.push(address(&command));
                "250 2.1.5 OK"
            }
            "DATA" if to.is_empty() => "503 5.5.1 Need RCPT first",
            "DATA" => {
                writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut reader).await?;
                inbox.mails.lock().unwrap().push(Received {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                });
                inbox.arrived.notify_waiters();
                "250 2.0.0 Queued"
            }
            "RSET" => {
                from = None;
                to.clear();
                "250 2.0.0 OK"
            }
            "NOOP" => "250 2.0.0 OK",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "500 5.5.2 Command not recognized",
        };
        writer.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// `<addr>` of `MAIL FROM:<addr> …` / `RCPT TO:<addr>`.
fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

/// The message up to the lone `.` line, with leading dots unstuffed.
async fn read_data(reader: &mut (impl AsyncBufReadExt + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

#[test]
fn addresses_are_read_from_commands() {
    assert_eq!(address("MAIL FROM:<a@b.test> SIZE=12"), "a@b.test");
    assert_eq!(address("RCPT TO:<c@d.test>"), "c@d.test");
}

#[tokio::test]
async fn dot_stuffed_lines_are_restored() {
    let raw: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nplain\r\n.\r\nNEXT\r\n";
    let mut reader = BufReader::new(raw);
    let data = read_data(&mut reader).await.unwrap();
    assert_eq!(data, b"Subject: x\r\n\r\n.leading dot\r\nplain\r\n");
}
