//! The lab's SMTP listeners: real TCP on a loopback address of their own, real TLS (rustls)
//! after STARTTLS, and scripted misbehaviour, with counters tests can read.
//!
//! Each simulated MX host listens on its own 127.x.y.z address (Linux routes all of 127/8 to
//! loopback), every host of a test on the same port, so the probe's `--smtp-port` reaches them
//! all. A test takes its own 127.x.y.0/24 block, so tests run in parallel.

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the server greets.
#[derive(Clone, Copy, Debug)]
pub enum Greeting {
    /// `220 <name> ESMTP` at once.
    Prompt,
    /// The same after a delay.
    Delayed(Duration),
    /// Three lines (`220-`, `220-`, `220 `) with pauses between them.
    MultiLine(Duration),
    /// Never: accept and say nothing.
    Never,
    /// A final reply of this code (e.g. 554) instead of 220.
    Code(u16),
    /// The usual greeting, one byte per interval: a server that never quite finishes.
    Drip(Duration),
    /// `220-` continuation lines without end.
    Endless,
    /// Binary noise instead of a reply, then silence.
    Garbage,
}

/// Misbehaviour outside the greeting and STARTTLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quirk {
    /// Send the first line of the EHLO reply, then close the connection.
    CloseMidEhlo,
    /// Answer QUIT with 221 and keep the connection open, silent.
    LingerAfterQuit,
}

/// Misbehaviour around STARTTLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StarttlsFault {
    /// Close the connection on STARTTLS, without a reply.
    Close,
    /// Send `220` and another reply in the same packet (the response-injection pattern).
    Inject,
    /// Refuse STARTTLS with `454 TLS not available` after offering it.
    Refuse,
    /// Answer the `ClientHello` with a fatal `protocol_version` alert, as a server that speaks
    /// only TLS 1.0/1.1 answers a TLS 1.2+ client.
    LegacyTlsOnly,
    /// Answer the `ClientHello` with bytes that are not TLS at all.
    HandshakeGarbage,
}

/// What one listener does.
#[derive(Clone)]
pub struct SmtpSpec {
    /// The name it announces in its greeting and EHLO reply.
    pub name: String,
    pub greeting: Greeting,
    /// The certificate offered after STARTTLS; `None`: STARTTLS is not offered.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub fault: Option<StarttlsFault>,
    pub quirk: Option<Quirk>,
}

impl SmtpSpec {
    pub fn new(name: &str, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        Self {
            name: name.to_owned(),
            greeting: Greeting::Prompt,
            tls,
            fault: None,
            quirk: None,
        }
    }
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    /// Clients that sent bytes before the final greeting line.
    early: AtomicU64,
    /// MAIL or RCPT commands received (the probe must never send them).
    transactions: AtomicU64,
    /// Sessions that completed a TLS handshake.
    tls: AtomicU64,
    /// The argument of every EHLO received.
    ehlo: std::sync::Mutex<Vec<String>>,
    /// Connections open now, and the most ever open at once.
    active: AtomicU64,
    peak: AtomicU64,
}

/// A running listener; it stops when dropped.
pub struct SmtpListener {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Drop for SmtpListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpListener {
    /// Listens on `ip:port` (port 0: an ephemeral one).
    pub async fn start(ip: IpAddr, port: u16, spec: SmtpSpec) -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::new(ip, port)).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        let spec = Arc::new(spec);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let open = shared.active.fetch_add(1, Ordering::SeqCst) + 1;
                shared.peak.fetch_max(open, Ordering::SeqCst);
                let (spec, counters) = (Arc::clone(&spec), Arc::clone(&shared));
                tokio::spawn(async move {
                    let open = Open(AtomicBool::new(true));
                    let _ = session(stream, &spec, &counters, &open).await;
                    open.close(&counters);
                });
            }
        });
        Ok(Self {
            addr,
            counters,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// The most connections that were open at once.
    pub fn peak_connections(&self) -> u64 {
        self.counters.peak.load(Ordering::SeqCst)
    }

    /// Connections whose client spoke before the final greeting line.
    pub fn early_talkers(&self) -> u64 {
        self.counters.early.load(Ordering::Relaxed)
    }

    /// MAIL/RCPT commands received.
    pub fn transactions(&self) -> u64 {
        self.counters.transactions.load(Ordering::Relaxed)
    }

    /// The names clients gave in EHLO, in order.
    pub fn ehlo_names(&self) -> Vec<String> {
        self.counters.ehlo.lock().expect("lab counters").clone()
    }

    /// Completed TLS handshakes.
    pub fn handshakes(&self) -> u64 {
        self.counters.tls.load(Ordering::Relaxed)
    }
}

/// Whether a connection still counts as open: until the client says QUIT (it may close its end
/// a moment before this side notices), or the session ends.
struct Open(AtomicBool);

impl Open {
    fn close(&self, c: &Counters) {
        if self.0.swap(false, Ordering::SeqCst) {
            c.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A TLS record: alert (21), version 3.1, length 2, fatal (2), `protocol_version` (70).
const PROTOCOL_VERSION_ALERT: [u8; 7] = [21, 3, 1, 0, 2, 2, 70];

/// Not an SMTP reply: NUL, escape sequences, high bytes and a bare CR.
const GARBAGE: [u8; 16] = [
    0, 0xff, 0xfe, 0x1b, b'[', b'2', b'J', 0x9b, b'\r', 0x80, 0x00, b'2', b'5', b'0', 0x07, b'\n',
];

/// Waits `pause`, noting a client that sends anything meanwhile.
async fn pause_watching(stream: &mut TcpStream, pause: Duration, c: &Counters) {
    let mut byte = [0u8; 1];
    if let Ok(Ok(n)) = tokio::time::timeout(pause, stream.peek(&mut byte)).await
        && n > 0
    {
        c.early.fetch_add(1, Ordering::Relaxed);
    }
}

async fn session(
    mut stream: TcpStream,
    spec: &SmtpSpec,
    c: &Counters,
    open: &Open,
) -> io::Result<()> {
    let name = &spec.name;
    match spec.greeting {
        Greeting::Prompt => {}
        Greeting::Delayed(d) => pause_watching(&mut stream, d, c).await,
        Greeting::Never => {
            // Hold the connection open, silent, until the client gives up.
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink).await;
            return Ok(());
        }
        Greeting::MultiLine(d) => {
            stream
                .write_all(format!("220-{name} ESMTP lab\r\n").as_bytes())
                .await?;
            pause_watching(&mut stream, d, c).await;
            stream.write_all(b"220-wait for the last line\r\n").await?;
            pause_watching(&mut stream, d, c).await;
        }
        Greeting::Drip(interval) => {
            for b in format!("220 {name} ESMTP lab\r\n").bytes() {
                stream.write_all(&[b]).await?;
                tokio::time::sleep(interval).await;
            }
        }
        Greeting::Endless => loop {
            stream
                .write_all(format!("220-{name} still greeting\r\n").as_bytes())
                .await?;
        },
        Greeting::Garbage => {
            stream.write_all(&GARBAGE).await?;
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink).await;
            return Ok(());
        }
        Greeting::Code(code) => {
            stream
                .write_all(format!("{code} {name} no service for you\r\n").as_bytes())
                .await?;
            let mut r = BufReader::new(stream);
            return commands(&mut r, spec, c, false, open).await.map(|_| ());
        }
    }
    stream
        .write_all(format!("220 {name} ESMTP lab\r\n").as_bytes())
        .await?;
    let mut r = BufReader::new(stream);
    if !commands(&mut r, spec, c, false, open).await? {
        return Ok(());
    }
    let Some(config) = &spec.tls else {
        return Ok(());
    };
    let tls = tokio_rustls::TlsAcceptor::from(Arc::clone(config))
        .accept(r.into_inner())
        .await?;
    c.tls.fetch_add(1, Ordering::Relaxed);
    let mut r = BufReader::new(tls);
    commands(&mut r, spec, c, true, open).await.map(|_| ())
}

/// Serves commands until QUIT or STARTTLS; `Ok(true)` means "upgrade now".
async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<S>,
    spec: &SmtpSpec,
    c: &Counters,
    secure: bool,
    open: &Open,
) -> io::Result<bool> {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(false);
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" if spec.quirk == Some(Quirk::CloseMidEhlo) => {
                let first = format!("250-{} greets you\r\n", spec.name);
                r.get_mut().write_all(first.as_bytes()).await?;
                r.get_mut().flush().await?;
                return Ok(false);
            }
            "EHLO" => {
                let arg = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                c.ehlo.lock().expect("lab counters").push(arg);
                let mut lines = vec![format!("{} greets you", spec.name), "PIPELINING".into()];
                lines.push("SIZE 10240000".into());
                lines.push("8BITMIME".into());
                if spec.tls.is_some() && !secure {
                    lines.push("STARTTLS".into());
                }
                if secure {
                    lines.push("REQUIRETLS".into());
                }
                lines.push("SMTPUTF8".into());
                let last = lines.len() - 1;
                let mut reply = String::new();
                for (i, l) in lines.iter().enumerate() {
                    let sep = if i == last { ' ' } else { '-' };
                    let _ = write!(reply, "250{sep}{l}\r\n");
                }
                reply
            }
            "STARTTLS" if spec.tls.is_some() && !secure => match spec.fault {
                Some(StarttlsFault::Close) => return Ok(false),
                Some(StarttlsFault::Refuse) => {
                    "454 4.7.0 TLS not available due to temporary reason\r\n".to_owned()
                }
                Some(StarttlsFault::Inject) => {
                    "220 2.0.0 ready\r\n250 2.0.0 injected\r\n".to_owned()
                }
                Some(StarttlsFault::HandshakeGarbage) => {
                    r.get_mut().write_all(b"220 2.0.0 ready\r\n").await?;
                    r.get_mut().flush().await?;
                    let _ = r.fill_buf().await?;
                    r.get_mut().write_all(&GARBAGE).await?;
                    r.get_mut().flush().await?;
                    return Ok(false);
                }
                Some(StarttlsFault::LegacyTlsOnly) => {
                    r.get_mut().write_all(b"220 2.0.0 ready\r\n").await?;
                    r.get_mut().flush().await?;
                    // Wait for the ClientHello, then refuse its versions.
                    let _ = r.fill_buf().await?;
                    r.get_mut().write_all(&PROTOCOL_VERSION_ALERT).await?;
                    r.get_mut().flush().await?;
                    return Ok(false);
                }
                None => {
                    r.get_mut().write_all(b"220 2.0.0 ready\r\n").await?;
                    r.get_mut().flush().await?;
                    return Ok(true);
                }
            },
            "QUIT" => {
                open.close(c);
                r.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
                if spec.quirk == Some(Quirk::LingerAfterQuit) {
                    r.get_mut().flush().await?;
                    let mut sink = Vec::new();
                    let _ = r.read_to_end(&mut sink).await;
                }
                return Ok(false);
            }
            "MAIL" | "RCPT" => {
                c.transactions.fetch_add(1, Ordering::Relaxed);
                "502 5.5.1 not in the lab\r\n".to_owned()
            }
            _ => "502 5.5.2 unknown command\r\n".to_owned(),
        };
        r.get_mut().write_all(reply.as_bytes()).await?;
        r.get_mut().flush().await?;
    }
}
