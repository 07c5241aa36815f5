//! One SMTP session, stage by stage, with every read bounded.
//!
//! Limits: a reply line at most 512 octets with its CRLF (RFC 5321 §4.5.3.1.5), at most 100
//! lines and 64 KiB per reply; each stage has its own timeout (connect, greeting, each command),
//! never past the domain's deadline.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::tls;
use super::{ErrorKind, Probe, ProbeError, Reply, SmtpSettings, Stage};

const MAX_LINE: usize = 512;
const MAX_LINES: usize = 100;
const MAX_REPLY: usize = 64 * 1024;

/// Why a stage ended early.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub(super) struct StageError {
    pub(super) kind: ErrorKind,
    pub(super) detail: String,
}

impl StageError {
    fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    fn io(e: &std::io::Error) -> Self {
        Self::new(Self::io_kind(e), e.to_string())
    }

    pub(super) fn io_kind(e: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => ErrorKind::Refused,
            K::TimedOut => ErrorKind::Timeout,
            K::NetworkUnreachable | K::HostUnreachable | K::AddrNotAvailable => {
                ErrorKind::Unreachable
            }
            K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                ErrorKind::Closed
            }
            _ => ErrorKind::Io,
        }
    }
}

/// The time a stage may take: its own limit, cut short by the deadline.
fn budget(limit: Duration, deadline: Instant) -> Duration {
    limit.min(deadline.saturating_duration_since(Instant::now()))
}

async fn bounded<T>(
    limit: Duration,
    deadline: Instant,
    what: &str,
    fut: impl Future<Output = Result<T, StageError>>,
) -> Result<T, StageError> {
    let limit = budget(limit, deadline);
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(StageError::new(
            ErrorKind::Timeout,
            format!("no {what} within {:.1} s", limit.as_secs_f64()),
        )),
    }
}

/// Reads one line, refusing lines over [`MAX_LINE`] octets.
async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Vec<u8>, StageError> {
    let mut line = Vec::new();
    loop {
        let avail = r.fill_buf().await.map_err(|e| StageError::io(&e))?;
        if avail.is_empty() {
            return Err(StageError::new(
                ErrorKind::Closed,
                "the server closed the connection",
            ));
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if line.len() + take > MAX_LINE {
            return Err(StageError::new(
                ErrorKind::Malformed,
                format!("a reply line longer than {MAX_LINE} octets"),
            ));
        }
        line.extend_from_slice(&avail[..take]);
        r.consume(take);
        if done {
            return Ok(line);
        }
    }
}

/// Reads a whole (possibly multi-line) reply: lines `NNN-text` until `NNN text` (RFC 5321 §4.2.1).
pub(super) async fn read_reply<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Reply, StageError> {
    let mut lines = Vec::new();
    let mut code = None;
    let mut size = 0;
    loop {
        let raw = read_line(r).await?;
        size += raw.len();
        if lines.len() >= MAX_LINES || size > MAX_REPLY {
            return Err(StageError::new(
                ErrorKind::Malformed,
                format!("a reply of more than {MAX_LINES} lines or {MAX_REPLY} octets"),
            ));
        }
        let text = String::from_utf8_lossy(&raw);
        let text = text.trim_end_matches(['\r', '\n']);
        let bad = || StageError::new(ErrorKind::Malformed, format!("not an SMTP reply: {text:?}"));
        let digits = text
            .get(..3)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        let this: u16 = digits.and_then(|d| d.parse().ok()).ok_or_else(bad)?;
        if *code.get_or_insert(this) != this {
            return Err(bad());
        }
        let sep = text.as_bytes().get(3).copied();
        if !matches!(sep, None | Some(b' ' | b'-')) {
            return Err(bad());
        }
        lines.push(text.get(4..).unwrap_or_default().to_owned());
        if sep != Some(b'-') {
            return Ok(Reply { code: this, lines });
        }
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    line: &str,
) -> Result<(), StageError> {
    let w = s.get_mut();
    w.write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| StageError::io(&e))?;
    w.flush().await.map_err(|e| StageError::io(&e))
}

async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    line: &str,
    limit: Duration,
    deadline: Instant,
) -> Result<Reply, StageError> {
    let verb = line.split_whitespace().next().unwrap_or(line).to_owned();
    bounded(limit, deadline, &format!("reply to {verb}"), async {
        send(s, line).await?;
        read_reply(s).await
    })
    .await
}

/// QUIT, briefly: the answer does not matter, the politeness does.
async fn quit<S: AsyncRead + AsyncWrite + Unpin>(s: &mut BufReader<S>, deadline: Instant) {
    let _ = command(s, "QUIT", Duration::from_secs(2), deadline).await;
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Probes one address for one MX name. Never fails: what happened is in the [`Probe`].
/// A probe that has not started: nothing learnt yet.
pub(super) fn blank(host: &str, ip: IpAddr) -> Probe {
    Probe {
        host: host.to_owned(),
        ip,
        started: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        skipped: None,
        connect_ms: None,
        greeting: None,
        greeting_ms: None,
        ehlo: None,
        starttls: None,
        tls: None,
        ehlo_tls: None,
        extensions: Vec::new(),
        error: None,
    }
}

pub(super) async fn run(s: &SmtpSettings, host: &str, ip: IpAddr, deadline: Instant) -> Probe {
    let mut p = blank(host, ip);
    if let Err(class) = s.policy.permits(ip) {
        p.skipped = Some(class);
        return p;
    }
    if let Err((stage, e)) = converse(s, &mut p, deadline).await {
        p.error = Some(ProbeError {
            stage,
            kind: e.kind,
            detail: e.detail,
        });
    }
    // Capabilities learnt before TLS could have been forged on the way: after STARTTLS only
    // the EHLO over TLS counts (RFC 3207 §4.2).
    let counted = if p.tls.is_some() {
        &p.ehlo_tls
    } else {
        &p.ehlo
    };
    p.extensions = counted.as_ref().map(Reply::extensions).unwrap_or_default();
    p
}

async fn converse(
    s: &SmtpSettings,
    p: &mut Probe,
    deadline: Instant,
) -> Result<(), (Stage, StageError)> {
    let at = |stage| move |e| (stage, e);
    let start = Instant::now();
    let addr = SocketAddr::new(p.ip, s.port);
    let tcp = bounded(s.connect_timeout, deadline, "connection", async {
        TcpStream::connect(addr)
            .await
            .map_err(|e| StageError::io(&e))
    })
    .await
    .map_err(at(Stage::Connect))?;
    p.connect_ms = Some(millis(start));
    let mut stream = BufReader::new(tcp);
    // Nothing is sent before the final greeting line: postscreen drops clients that talk first.
    let greeting = bounded(
        s.greeting_timeout,
        deadline,
        "greeting",
        read_reply(&mut stream),
    )
    .await
    .map_err(at(Stage::Greeting))?;
    p.greeting_ms = Some(millis(start));
    let code = greeting.code;
    p.greeting = Some(greeting);
    if code != 220 {
        quit(&mut stream, deadline).await;
        return Ok(());
    }
    let ehlo_line = format!("EHLO {}", s.helo_name);
    let ehlo = command(&mut stream, &ehlo_line, s.command_timeout, deadline)
        .await
        .map_err(at(Stage::Ehlo))?;
    let offers_tls = ehlo.code == 250 && ehlo.has_extension("STARTTLS");
    p.ehlo = Some(ehlo);
    if !offers_tls {
        quit(&mut stream, deadline).await;
        return Ok(());
    }
    let reply = command(&mut stream, "STARTTLS", s.command_timeout, deadline)
        .await
        .map_err(at(Stage::Starttls))?;
    let ready = reply.code == 220;
    p.starttls = Some(reply);
    if !ready {
        quit(&mut stream, deadline).await;
        return Ok(());
    }
    // Anything already buffered was sent before the handshake: acting on it would let a
    // man in the middle inject replies into the TLS session (RFC 3207 §4.2, CVE-2011-0411).
    if !stream.buffer().is_empty() {
        let n = stream.buffer().len();
        return Err((
            Stage::Starttls,
            StageError::new(
                ErrorKind::Injection,
                format!("{n} byte(s) arrived after the 220 to STARTTLS, before the TLS handshake"),
            ),
        ));
    }
    let tcp = stream.into_inner();
    let (facts, tls_stream) = tls::handshake(s, &p.host, tcp, deadline).await;
    p.tls = Some(facts);
    let tls_stream = tls_stream.map_err(at(Stage::Handshake))?;
    let mut stream = BufReader::new(tls_stream);
    let ehlo = command(&mut stream, &ehlo_line, s.command_timeout, deadline)
        .await
        .map_err(at(Stage::EhloTls))?;
    p.ehlo_tls = Some(ehlo);
    quit(&mut stream, deadline).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> Result<Reply, StageError> {
        let mut r = BufReader::new(bytes);
        read_reply(&mut r).await
    }

    #[tokio::test]
    async fn multi_line_replies_end_at_the_space_line() {
        let r = parse(b"250-mx.example Hello\r\n250-SIZE 1000\r\n250 STARTTLS\r\nXX")
            .await
            .unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, ["mx.example Hello", "SIZE 1000", "STARTTLS"]);
        assert_eq!(r.extensions(), ["SIZE", "STARTTLS"]);
        assert_eq!(r.announced_name(), Some("mx.example"));
        let r = parse(b"220\r\n").await.unwrap();
        assert_eq!((r.code, r.lines.len()), (220, 1));
    }

    #[tokio::test]
    async fn bad_replies_are_refused_with_a_reason() {
        for (bytes, kind) in [
            (&b"hello\r\n"[..], ErrorKind::Malformed),
            (b"250-a\r\n251 b\r\n", ErrorKind::Malformed),
            (b"250xa\r\n", ErrorKind::Malformed),
            (b"250-a\r\n", ErrorKind::Closed),
            (b"", ErrorKind::Closed),
        ] {
            assert_eq!(parse(bytes).await.unwrap_err().kind, kind, "{bytes:?}");
        }
        let long = format!("220 {}\r\n", "x".repeat(600));
        assert_eq!(
            parse(long.as_bytes()).await.unwrap_err().kind,
            ErrorKind::Malformed
        );
        let many = "250-x\r\n".repeat(150);
        assert_eq!(
            parse(many.as_bytes()).await.unwrap_err().kind,
            ErrorKind::Malformed
        );
    }
}
