//! The test lab: a real authoritative DNS server (hickory-server) on loopback, fed by RFC 1035
//! zone files, with per-name faults and a per-(name, type) query counter.
//!
//! Tests, `mailcheck demo` and `mailcheck lab serve` point the real resolver at it, so the code
//! users run is the code that is tested. Zone files are `<origin>.zone`; a comment line
//! `;@fault <name> <servfail|refused|timeout|truncate|every=N>` sets a fault on a name, and
//! `;@raw <name> <type> <hex rdata>` adds a record of a type the zone parser does not know.
//! `;@sign <valid|expired|expiring=3d|ds-mismatch|island>` signs the zone (see [`Signing`]);
//! the root zone is always signed, delegates every other zone and holds the DS of each
//! signed one, so [`Lab::trust_anchor`] validates the whole tree.
//! Records the zone parser cannot express (exact string boundaries, NUL and non-UTF-8 bytes)
//! are added in code with [`LabBuilder::txt_bytes`] and [`LabBuilder::raw`].
//! [`smtp`] and [`https`] hold the lab's SMTP and HTTPS listeners; [`pki`] makes their certificates.

mod dnssec;
mod handler;
pub mod https;
pub mod pki;
mod record;
pub mod smtp;
pub mod spoof;
mod zones;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::Record;

pub use dnssec::Signing;
use handler::Handler;
pub use record::LabRecord;
use record::build_record;

/// A misbehaviour of the server for one query name (all types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer SERVFAIL.
    ServFail,
    /// Answer REFUSED.
    Refused,
    /// Never answer.
    Timeout,
    /// Over UDP, answer with the TC bit and no records, forcing a retry over TCP.
    Truncate,
    /// SERVFAIL for every Nth query of the name (the Nth, 2Nth, …), answer the others.
    FailEvery(u64),
}

impl Fault {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "servfail" => Some(Self::ServFail),
            "refused" => Some(Self::Refused),
            "timeout" => Some(Self::Timeout),
            "truncate" => Some(Self::Truncate),
            _ => text
                .strip_prefix("every=")
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .map(Self::FailEvery),
        }
    }
}

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("zone {origin}: {message}")]
    Zone { origin: String, message: String },
    #[error("binding the lab DNS server: {0}")]
    Bind(std::io::Error),
}

/// One query as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Since the server started.
    pub at: Duration,
    pub name: String,
    pub rtype: String,
    pub tcp: bool,
}

/// The server's shared state: query counts and faults, read by tests while it runs.
struct State {
    started: std::time::Instant,
    /// Added before every answer: a simulated network round trip.
    latency: Duration,
    /// Every query received, in order.
    log: Mutex<Vec<Received>>,
    counts: Mutex<HashMap<(String, String), u64>>,
    /// The part of `counts` that came over TCP (truncation fallbacks, transport retries).
    tcp: Mutex<HashMap<(String, String), u64>>,
    /// Keyed by name and, for faults of one record type only, the type (e.g. `"TXT"`).
    faults: Mutex<HashMap<(String, Option<String>), Fault>>,
    /// Answers served verbatim for a (name, type), bypassing the zones.
    answers: Mutex<HashMap<(String, String), Vec<Record>>>,
    /// SERVFAIL for a seeded share of all (name, type) pairs: see [`Lab::set_chaos`].
    chaos: Mutex<Option<Chaos>>,
    /// Answer as a resolver that drops DNSSEC records: see [`Lab::set_strip_dnssec`].
    strip_dnssec: std::sync::atomic::AtomicBool,
}

/// A seeded share of failures over every query the lab gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chaos {
    pub percent: u8,
    pub seed: u64,
}

impl Chaos {
    /// Whether this (name, type) fails. A function of the seed and the question only, so
    /// a retry fails again and the same seed fails the same questions in every run.
    fn fails(self, name: &str, rtype: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        (self.seed, name, rtype).hash(&mut h);
        h.finish() % 100 < u64::from(self.percent)
    }
}

/// Collects zones, extra records and faults, then starts the server.
#[derive(Default)]
pub struct LabBuilder {
    zones: Vec<(String, String, Option<PathBuf>)>,
    extra: Vec<Record>,
    faults: Vec<((String, Option<String>), Fault)>,
    answers: Vec<((String, String), Vec<Record>)>,
    latency: Duration,
    /// Zone origin (as [`key`] spells it) and how it is signed.
    signing: Vec<(String, Signing)>,
    strip_dnssec: bool,
}

/// The fixture zones shipped with the source tree.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/zones")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

/// Query names as counted and faulted: lower case, no trailing dot.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl LabBuilder {
    /// Adds every `*.zone` file of a directory; the file name minus `.zone` is the origin.
    pub fn zone_dir(mut self, dir: &Path) -> Result<Self, LabError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| LabError::Io { path, source }
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "zone"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let origin = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            self = self.zone(&origin, &text);
            if let Some(z) = self.zones.last_mut() {
                z.2 = Some(path);
            }
        }
        Ok(self)
    }

    /// Adds one zone from its text, with its `;@fault` directives.
    #[must_use]
    pub fn zone(mut self, origin: &str, text: &str) -> Self {
        for line in text.lines() {
            let line = line.trim();
            let mut words = line
                .strip_prefix(";@fault")
                .into_iter()
                .flat_map(str::split_whitespace);
            if let (Some(name), Some(fault)) = (words.next(), words.next().and_then(Fault::parse)) {
                self.faults.push(((key(name), None), fault));
            }
            let mut words = line
                .strip_prefix(";@raw")
                .into_iter()
                .flat_map(str::split_whitespace);
            if let (Some(name), Some(code), Some(hex)) = (words.next(), words.next(), words.next())
                && let (Ok(code), Some(rdata)) = (code.parse(), decode_hex(hex))
            {
                self = self.record(name, LabRecord::Raw(code, rdata));
            }
            if let Some(mode) = line
                .strip_prefix(";@sign")
                .and_then(|m| Signing::parse(m.trim()))
            {
                self.signing.push((key(origin), mode));
            }
        }
        self.zones.push((origin.to_owned(), text.to_owned(), None));
        self
    }

    /// Adds a TXT record with exactly these character-strings, bytes as given.
    #[must_use]
    pub fn txt_bytes(self, name: &str, strings: &[&[u8]]) -> Self {
        self.record(
            name,
            LabRecord::Txt(strings.iter().map(|s| s.to_vec()).collect()),
        )
    }

    /// Adds a record of any type as raw RDATA, for types hickory does not model (e.g. 99, the
    /// retired SPF type).
    #[must_use]
    pub fn raw(self, name: &str, rtype: u16, rdata: &[u8]) -> Self {
        self.record(name, LabRecord::Raw(rtype, rdata.to_vec()))
    }

    /// Adds one record built in code. It lands in the most specific zone holding the name (the
    /// root zone holds every name no fixture zone does).
    ///
    /// # Panics
    /// On a name hickory cannot represent: lab data is written by the tests themselves.
    #[must_use]
    pub fn record(mut self, name: &str, record: LabRecord) -> Self {
        self.extra.push(build_record(name, record));
        self
    }

    /// Answers queries for `name` and `rtype` (e.g. `"TXT"`) with exactly these records, owned
    /// by the names given, as a broken or hostile server would: a CNAME beside a TXT at one
    /// name, records the zone store refuses to hold together.
    ///
    /// # Panics
    /// On a name hickory cannot represent.
    #[must_use]
    pub fn answer(mut self, name: &str, rtype: &str, records: Vec<(&str, LabRecord)>) -> Self {
        let records = records
            .into_iter()
            .map(|(n, r)| build_record(n, r))
            .collect();
        self.answers
            .push(((key(name), rtype.to_ascii_uppercase()), records));
        self
    }

    /// Sets a fault on a query name, for every record type.
    #[must_use]
    pub fn fault(mut self, name: &str, fault: Fault) -> Self {
        self.faults.push(((key(name), None), fault));
        self
    }

    /// Sets a fault on queries of one type (e.g. `"TXT"`) for a name; it wins over a fault on
    /// the whole name.
    #[must_use]
    pub fn fault_type(mut self, name: &str, rtype: &str, fault: Fault) -> Self {
        self.faults
            .push(((key(name), Some(rtype.to_ascii_uppercase())), fault));
        self
    }

    /// Signs the zone at `origin` (the root zone is always signed [`Signing::Valid`]).
    #[must_use]
    pub fn sign(mut self, origin: &str, signing: Signing) -> Self {
        self.signing.push((key(origin), signing));
        self
    }

    /// Answers as a resolver that strips DNSSEC records (RRSIG, DNSKEY, DS, NSEC, NSEC3).
    #[must_use]
    pub fn strip_dnssec(mut self) -> Self {
        self.strip_dnssec = true;
        self
    }

    /// Delays every answer, over UDP and TCP, by this long (a simulated round trip).
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Starts the server on `127.0.0.1`, UDP and TCP on one ephemeral port.
    pub async fn start(self) -> Result<Lab, LabError> {
        self.start_on("127.0.0.1:0".parse().expect("loopback address"))
            .await
    }

    /// Starts the server on a given address (port 0 for an ephemeral one).
    pub async fn start_on(self, addr: SocketAddr) -> Result<Lab, LabError> {
        let mut zones = self.zones;
        if !zones.iter().any(|(o, _, _)| o == "." || o == "root") {
            zones.push((".".into(), ROOT_ZONE.into(), None));
        }
        let zones = zones::assemble(zones, self.extra, &self.signing)?;
        let state = Arc::new(State {
            started: std::time::Instant::now(),
            latency: self.latency,
            log: Mutex::default(),
            counts: Mutex::default(),
            tcp: Mutex::default(),
            faults: Mutex::default(),
            chaos: Mutex::default(),
            answers: Mutex::default(),
            strip_dnssec: self.strip_dnssec.into(),
        });
        state.faults.lock().expect("lab state").extend(self.faults);
        state
            .answers
            .lock()
            .expect("lab state")
            .extend(self.answers);
        let (udp, tcp) = bind_pair(addr).await?;
        let addr = udp.local_addr().map_err(LabError::Bind)?;
        let mut server = Server::new(Handler {
            catalog: zones.catalog,
            parents: zones.parents,
            chains: zones.chains,
            state: Arc::clone(&state),
        });
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
        let anchor_file = Lab::anchor_path(addr);
        std::fs::write(&anchor_file, &zones.anchor).map_err(|source| LabError::Io {
            path: anchor_file,
            source,
        })?;
        Ok(Lab {
            addr,
            anchor: zones.anchor,
            state,
            _server: server,
        })
    }
}

/// UDP and TCP sockets on one port. With port 0 the UDP socket picks the port, and the TCP
/// one may find it taken (tests start many servers at once): then pick another.
async fn bind_pair(
    addr: SocketAddr,
) -> Result<(tokio::net::UdpSocket, tokio::net::TcpListener), LabError> {
    let mut tries = if addr.port() == 0 { 20 } else { 1 };
    loop {
        let udp = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(LabError::Bind)?;
        let at = udp.local_addr().map_err(LabError::Bind)?;
        match tokio::net::TcpListener::bind(at).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries > 1 => tries -= 1,
            Err(e) => return Err(LabError::Bind(e)),
        }
    }
}

/// Authoritative for everything not in a fixture zone: NXDOMAIN, and an NS set for the canary.
const ROOT_ZONE: &str = "\
@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300
@ 300 IN NS ns.lab.
";

/// A running lab DNS server. It stops when dropped with the runtime.
pub struct Lab {
    addr: SocketAddr,
    /// The root zone's key, a zone-file line.
    anchor: String,
    state: Arc<State>,
    _server: Server<Handler>,
}

impl Lab {
    pub fn builder() -> LabBuilder {
        LabBuilder::default()
    }

    /// The fixture zones, served.
    pub async fn fixtures() -> Result<Self, LabError> {
        Self::builder().zone_dir(&fixture_dir())?.start().await
    }

    /// Where the server listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries received for a name and type (e.g. `"TXT"`), over UDP and TCP.
    pub fn queries(&self, name: &str, rtype: &str) -> u64 {
        let counts = self.state.counts.lock().expect("lab state");
        counts
            .get(&(key(name), rtype.to_ascii_uppercase()))
            .copied()
            .unwrap_or(0)
    }

    /// Queries received over TCP for a name and type.
    pub fn tcp_queries(&self, name: &str, rtype: &str) -> u64 {
        let tcp = self.state.tcp.lock().expect("lab state");
        tcp.get(&(key(name), rtype.to_ascii_uppercase()))
            .copied()
            .unwrap_or(0)
    }

    /// Every (name, type) queried, with its count, sorted.
    pub fn query_log(&self) -> Vec<(String, String, u64)> {
        let counts = self.state.counts.lock().expect("lab state");
        let mut log: Vec<_> = counts
            .iter()
            .map(|((n, t), c)| (n.clone(), t.clone(), *c))
            .collect();
        log.sort();
        log
    }

    /// Every query received so far, in order, with when it arrived.
    pub fn received(&self) -> Vec<Received> {
        self.state.log.lock().expect("lab state").clone()
    }

    /// Fails a seeded share of all questions with SERVFAIL from now on (`None`: none), on top
    /// of the per-name faults.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        *self.state.chaos.lock().expect("lab state") = chaos;
    }

    /// Sets or replaces a fault while the server runs.
    pub fn set_fault(&self, name: &str, fault: Fault) {
        self.state
            .faults
            .lock()
            .expect("lab state")
            .insert((key(name), None), fault);
    }

    /// The root zone's key (generated for this lab) as a zone-file line,
    /// `. 300 IN DNSKEY 257 3 13 …`: what `--trust-anchor FILE` reads.
    pub fn trust_anchor(&self) -> String {
        self.anchor.clone()
    }

    /// Where a running lab keeps its [`Lab::trust_anchor`]: clients that know only the lab's
    /// address (the test runner, a user of `mailcheck lab serve`) find it there. Removed when
    /// the lab stops.
    pub fn anchor_path(addr: SocketAddr) -> PathBuf {
        std::env::temp_dir().join(format!(
            "mailcheck-lab-{}-{}.anchor",
            addr.ip(),
            addr.port()
        ))
    }

    /// Writes [`Lab::trust_anchor`] to a file.
    pub fn write_trust_anchor(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.anchor)
    }

    /// Answers from now on as a resolver that strips DNSSEC records, or stops doing so.
    pub fn set_strip_dnssec(&self, strip: bool) {
        self.state
            .strip_dnssec
            .store(strip, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(Self::anchor_path(self.addr));
    }
}
