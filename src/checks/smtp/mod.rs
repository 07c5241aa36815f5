//! The SMTP/STARTTLS probe of every MX address (RFC 5321, RFC 3207).
//!
//! One connection per (address, MX name) per run, shared by every domain that needs it, and at
//! most `--per-host-connections` open at once to one address. The probe
//! behaves as real servers expect of a polite client: it says nothing before the final `220 `
//! greeting line, waits patiently for it (some servers delay on purpose), sends `EHLO` with our
//! own name, upgrades with `STARTTLS` when offered, says `EHLO` again over TLS and uses only what
//! it then learns, and always ends with `QUIT`. It never sends `MAIL` or `RCPT`.
//!
//! It records, and does not judge: the transcript, timings, the TLS version and cipher suite, the
//! certificate chain and the verdict of the trust check, all from one handshake. Every read is
//! bounded in time and size (see [`session`]).

mod cert;
mod session;
mod tls;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, Semaphore};

pub use cert::{CertFacts, hex_digest};
pub use tls::{CertVerdict, TlsFacts, TrustSource, load_roots, verdict_of};

use crate::net::{AddressClass, Policy};

/// The reply reader and certificate reader, reached with raw bytes by the fuzz targets
/// (`crate::fuzzing`); not an API.
#[doc(hidden)]
pub mod fuzzing {
    use futures_util::FutureExt as _;

    /// Reads one reply from `bytes` as if a server had sent them.
    pub fn reply(bytes: &[u8]) -> Option<super::Reply> {
        let mut r = tokio::io::BufReader::new(bytes);
        // Reading from memory never waits, so the future is ready on its first poll.
        super::session::read_reply(&mut r)
            .now_or_never()
            .expect("reading from memory never pends")
            .ok()
    }

    pub fn cert(der: &[u8]) -> Option<super::CertFacts> {
        super::CertFacts::parse(der)
    }
}

/// How to probe, for the whole run.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// `false` with `--no-smtp`: nothing is probed and the TLS checks are `not-run`.
    pub enabled: bool,
    pub port: u16,
    pub connect_timeout: Duration,
    pub greeting_timeout: Duration,
    pub command_timeout: Duration,
    /// Our own name, for `EHLO` (not the SPF HELO identity of anyone).
    pub helo_name: String,
    pub policy: Policy,
    /// The trust anchors certificates are checked against.
    pub roots: Arc<rustls::RootCertStore>,
    pub trust: TrustSource,
    /// At most this many connections at once to one address (`--per-host-connections`): many
    /// MX names of one provider often share addresses, and a polite client does not open a
    /// dozen sessions to one server at once.
    pub per_host: usize,
}

/// What probing found for one domain, or why nothing was probed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SmtpFacts {
    /// `false` when the probe was switched off (`--no-smtp`).
    pub enabled: bool,
    pub port: u16,
    /// The connection policy in force (what was allowed to be contacted).
    pub policy: Policy,
    pub trust: TrustSource,
    pub probes: Vec<Probe>,
}

/// One connection attempt to one address of one MX host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probe {
    /// The MX host name: SNI and the certificate name check use it.
    pub host: String,
    pub ip: IpAddr,
    /// When the probe started, in seconds since the Unix epoch (certificate dates are judged
    /// against it).
    pub started: u64,
    /// Not contacted, because the address policy forbids this kind of address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<AddressClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<Reply>,
    /// From connecting to the end of the greeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo: Option<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsFacts>,
    /// The EHLO reply over TLS: the capabilities that count once TLS is up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo_tls: Option<Reply>,
    /// The EHLO keywords that count: those offered over TLS when TLS is up, otherwise those
    /// of the plain-text EHLO (STARTTLS, SIZE, PIPELINING, 8BITMIME, SMTPUTF8, REQUIRETLS, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// Where and why the probe stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

/// One SMTP reply: its code and the text of each line (RFC 5321 §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// EHLO keywords (RFC 5321 §4.1.1.1): the first word of every line after the first,
    /// upper-cased.
    pub fn extensions(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }

    pub fn has_extension(&self, keyword: &str) -> bool {
        self.extensions().iter().any(|e| e == keyword)
    }

    /// The first word of the first line: the name a greeting or EHLO reply announces.
    pub fn announced_name(&self) -> Option<&str> {
        self.lines.first()?.split_whitespace().next()
    }
}

/// The stage a probe was at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Connect,
    Greeting,
    Ehlo,
    Starttls,
    Handshake,
    EhloTls,
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// TCP reset: nothing listens, or a firewall rejects.
    Refused,
    Timeout,
    /// No route (e.g. no IPv6 where mailcheck runs).
    Unreachable,
    /// The server closed the connection.
    Closed,
    /// Bytes arrived after STARTTLS's 220 and before the handshake (RFC 3207 §4.2 forbids
    /// acting on them: they are a response-injection attack or a broken server).
    Injection,
    /// A reply broke the size limits or the reply syntax.
    Malformed,
    /// The TLS handshake failed.
    Tls,
    /// The server and rustls share no protocol version or cipher suite: it may offer only
    /// TLS 1.0/1.1 or legacy suites, which rustls does not speak. Not "no TLS".
    TlsIncompatible,
    Io,
}

/// Where and why a probe stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeError {
    pub stage: Stage,
    pub kind: ErrorKind,
    pub detail: String,
}

impl Probe {
    /// Whether the TCP connection was made.
    pub fn connected(&self) -> bool {
        self.connect_ms.is_some()
    }

    /// The error kind, if the probe stopped at `stage`.
    pub fn failed_at(&self, stage: Stage) -> Option<ErrorKind> {
        self.error
            .as_ref()
            .filter(|e| e.stage == stage)
            .map(|e| e.kind)
    }
}

type Slot = Arc<OnceCell<Probe>>;

/// Runs probes, at most one per (address, MX name) per run, and at most
/// [`SmtpSettings::per_host`] at once per address.
pub struct Prober {
    settings: SmtpSettings,
    cache: Mutex<HashMap<(IpAddr, String), Slot>>,
    gates: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
}

impl Prober {
    pub fn new(settings: SmtpSettings) -> Self {
        Self {
            settings,
            cache: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// The connection slots of one address.
    fn gate(&self, ip: IpAddr) -> Arc<Semaphore> {
        let mut gates = self.gates.lock().expect("probe gate lock");
        Arc::clone(
            gates
                .entry(ip)
                .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_host.max(1)))),
        )
    }

    /// One session, once a connection slot to the address is free (or the deadline passed).
    async fn session(&self, host: &str, ip: IpAddr, deadline: Instant) -> Probe {
        if self.settings.policy.permits(ip).is_err() {
            return session::run(&self.settings, host, ip, deadline).await;
        }
        let gate = self.gate(ip);
        let Ok(Ok(_slot)) = tokio::time::timeout_at(deadline.into(), gate.acquire_owned()).await
        else {
            let mut p = session::blank(host, ip);
            p.error = Some(ProbeError {
                stage: Stage::Connect,
                kind: ErrorKind::Timeout,
                detail: format!(
                    "the deadline passed while waiting for one of the {} connection slots to {ip}",
                    self.settings.per_host
                ),
            });
            return p;
        };
        session::run(&self.settings, host, ip, deadline).await
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// Probes every (host, address) pair concurrently; each gives up at `deadline`.
    pub async fn gather(&self, targets: &[(String, IpAddr)], deadline: Instant) -> SmtpFacts {
        let s = &self.settings;
        let probes = if s.enabled {
            join_all(
                targets
                    .iter()
                    .map(|(host, ip)| self.probe(host, *ip, deadline)),
            )
            .await
        } else {
            Vec::new()
        };
        SmtpFacts {
            enabled: s.enabled,
            port: s.port,
            policy: s.policy,
            trust: s.trust,
            probes,
        }
    }

    async fn probe(&self, host: &str, ip: IpAddr, deadline: Instant) -> Probe {
        let key = (ip, host.to_ascii_lowercase());
        let slot = {
            let mut cache = self.cache.lock().expect("probe cache lock");
            Arc::clone(cache.entry(key).or_default())
        };
        slot.get_or_init(|| self.session(host, ip, deadline))
            .await
            .clone()
    }
}
