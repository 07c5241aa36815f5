//! The lab's HTTPS listener: real TCP on a loopback address of its own, real TLS (rustls, a
//! certificate from [`super::pki`]), and a tiny HTTP/1.1 responder serving scripted answers per
//! path, with counters tests can read.
//!
//! It serves what MTA-STS policy fetches and BIMI logo fetches need: a status, a content type,
//! a body, a `Location`, and misbehaviour (a slow body, a stall, a body without a length). One
//! request per connection (`Connection: close`), so every counter is a fetch.
//!
//! ```text
//! let tls = ca.leaf(&["mta-sts.example.test"], Validity::Long, true).server_config();
//! let web = HttpsListener::start(ip, 0, tls, [("/.well-known/mta-sts.txt", Response::text(policy))]).await?;
//! // … fetch https://mta-sts.example.test:{web.addr().port()}/… pinned to `ip` …
//! assert_eq!(web.requests("/.well-known/mta-sts.txt"), 1);
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the body goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// All at once.
    Prompt,
    /// In pieces of `chunk` bytes with `pause` between them.
    Slow { chunk: usize, pause: Duration },
    /// The headers, then nothing until the client hangs up.
    StallBody,
    /// Accept TLS, read the request, never answer.
    StallHeaders,
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    /// `Content-Type`; `None` sends no such header.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// `Location`, for redirects.
    pub location: Option<String>,
    pub pace: Pace,
    /// Send `Content-Length` (otherwise the end of the body is the end of the connection).
    pub length: bool,
}

impl Response {
    /// `200`, `text/plain`, this body.
    pub fn text(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type: Some("text/plain".into()),
            body: body.into(),
            location: None,
            pace: Pace::Prompt,
            length: true,
        }
    }

    /// A bare status with a short text body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            ..Self::text(format!("status {status}\n"))
        }
    }

    /// `301 Moved Permanently` to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            location: Some(location.to_owned()),
            ..Self::status(301)
        }
    }

    #[must_use]
    pub fn content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    #[must_use]
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// Leaves out `Content-Length`: the client must read to the end to know the size.
    #[must_use]
    pub fn without_length(mut self) -> Self {
        self.length = false;
        self
    }
}

/// One request as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The `Host` header.
    pub host: Option<String>,
    pub user_agent: Option<String>,
    /// The name of every header, lower-cased, in order.
    pub headers: Vec<String>,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    handshakes: AtomicU64,
    requests: Mutex<Vec<Request>>,
}

/// A running HTTPS listener; it stops when dropped.
pub struct HttpsListener {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Drop for HttpsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The most a request head may take, and how long it may take to arrive.
const HEAD_LIMIT: usize = 16 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

impl HttpsListener {
    /// Listens on `ip:port` (port 0: an ephemeral one), presenting `tls`, answering each path
    /// of `routes` as scripted and any other path with `404`.
    pub async fn start<P: Into<String>>(
        ip: IpAddr,
        port: u16,
        tls: Arc<rustls::ServerConfig>,
        routes: impl IntoIterator<Item = (P, Response)>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::new(ip, port)).await?;
        let addr = listener.local_addr()?;
        let routes: Arc<HashMap<String, Response>> =
            Arc::new(routes.into_iter().map(|(p, r)| (p.into(), r)).collect());
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let (routes, counters, acceptor) =
                    (Arc::clone(&routes), Arc::clone(&shared), acceptor.clone());
                tokio::spawn(async move {
                    let _ = session(stream, &acceptor, &routes, &counters).await;
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

    /// TCP connections accepted.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// Completed TLS handshakes (a client that rejects the certificate completes none).
    pub fn handshakes(&self) -> u64 {
        self.counters.handshakes.load(Ordering::Relaxed)
    }

    /// Requests received for `path`.
    pub fn requests(&self, path: &str) -> u64 {
        let log = self.counters.requests.lock().expect("lab counters");
        log.iter().filter(|r| r.path == path).count() as u64
    }

    /// Every request received, in order.
    pub fn request_log(&self) -> Vec<Request> {
        self.counters.requests.lock().expect("lab counters").clone()
    }
}

async fn session(
    tcp: TcpStream,
    acceptor: &tokio_rustls::TlsAcceptor,
    routes: &HashMap<String, Response>,
    c: &Counters,
) -> io::Result<()> {
    let mut tls = acceptor.accept(tcp).await?;
    c.handshakes.fetch_add(1, Ordering::Relaxed);
    let Ok(Some(request)) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut tls)).await? else {
        return Ok(());
    };
    let response = routes
        .get(&request.path)
        .cloned()
        .unwrap_or_else(|| Response::status(404));
    c.requests.lock().expect("lab counters").push(request);
    respond(&mut tls, &response).await
}

/// Reads the request line and headers; `None` when the client sent no complete head.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<Option<Request>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await?;
        if n == 0 || head.len() + n > HEAD_LIMIT {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let header = |name: &str| {
        text.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    Ok(Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        host: header("host"),
        user_agent: header("user-agent"),
        headers: text
            .split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, _)| n.trim().to_ascii_lowercase())
            .collect(),
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Lab",
    }
}

async fn respond<S: AsyncWrite + AsyncRead + Unpin>(s: &mut S, r: &Response) -> io::Result<()> {
    if r.pace == Pace::StallHeaders {
        return hold(s).await;
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nConnection: close\r\n",
        r.status,
        reason(r.status)
    );
    if let Some(ct) = &r.content_type {
        let _ = write!(head, "Content-Type: {ct}\r\n");
    }
    if let Some(location) = &r.location {
        let _ = write!(head, "Location: {location}\r\n");
    }
    if r.length {
        let _ = write!(head, "Content-Length: {}\r\n", r.body.len());
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    match r.pace {
        Pace::Prompt | Pace::StallHeaders => s.write_all(&r.body).await?,
        Pace::Slow { chunk, pause } => {
            for piece in r.body.chunks(chunk.max(1)) {
                s.write_all(piece).await?;
                s.flush().await?;
                tokio::time::sleep(pause).await;
            }
        }
        Pace::StallBody => {
            s.flush().await?;
            return hold(s).await;
        }
    }
    s.flush().await?;
    s.shutdown().await
}

/// Keeps the connection open, silent, until the client gives up.
async fn hold<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<()> {
    let mut sink = [0u8; 256];
    while s.read(&mut sink).await? > 0 {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::pki::{TestCa, Validity};
    use rustls::pki_types::ServerName;

    async fn get(addr: SocketAddr, ca: &TestCa, path: &str) -> String {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        let der = rustls::pki_types::CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap();
        roots.add(der).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("web.lab.test").unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: web.lab.test\r\nUser-Agent: t\r\n\r\n");
        tls.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn serves_scripted_paths_and_counts_them() {
        let ca = TestCa::root("lab https test CA");
        let tls = ca
            .leaf(&["web.lab.test"], Validity::Long, true)
            .server_config();
        let ip: IpAddr = "127.0.40.1".parse().unwrap();
        let web = HttpsListener::start(
            ip,
            0,
            tls,
            [
                ("/p", Response::text("hello")),
                ("/r", Response::redirect("https://elsewhere.test/p")),
            ],
        )
        .await
        .unwrap();
        let ok = get(web.addr(), &ca, "/p").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Type: text/plain\r\n") && ok.ends_with("\r\n\r\nhello"));
        let moved = get(web.addr(), &ca, "/r").await;
        assert!(
            moved.contains("Location: https://elsewhere.test/p\r\n"),
            "{moved}"
        );
        assert!(
            get(web.addr(), &ca, "/none")
                .await
                .starts_with("HTTP/1.1 404")
        );
        assert_eq!((web.requests("/p"), web.requests("/none")), (1, 1));
        assert_eq!(web.handshakes(), 3);
        let log = web.request_log();
        assert_eq!(log[0].host.as_deref(), Some("web.lab.test"));
        assert_eq!(log[0].user_agent.as_deref(), Some("t"));
    }
}
