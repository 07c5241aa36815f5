//! The only module that speaks hickory-resolver: its API moves between releases, so the rest
//! of mailcheck sees only [`Lookup`] and [`Data`].

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{Stream, StreamExt as _, stream};
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::udp::UdpClientStream;
use hickory_resolver::net::xfer::{DnsExchange, DnsHandle};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{DnsRequest, DnsResponse, Edns, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType as WireType};
use hickory_resolver::{ConnectionProvider, PoolContext, Resolver};

use super::{
    Cname, Data, DnsFailure, FailureKind, Lookup, Mx, Pacer, RecordType, ResolverSettings,
    SetupError, Tlsa, Txt,
};
use crate::bytes::ByteString;
use tokio::sync::OnceCell;

/// hickory's connections, with two changes that make what goes on the wire what mailcheck
/// counts and caps:
///
/// - A UDP query is sent once per try. hickory's UDP stream otherwise sends the same query
///   again, from a new socket, whenever 1.2 × the server's smoothed round-trip time passes
///   without an answer (up to 3 copies per try): under load a busy server then sees one
///   question two or three times, and `--dns-tries` would not be the number of sends it
///   claims. A try still ends at `--timeout`, and the next try (hickory's `attempts`) goes out.
/// - Every message sent, over UDP or TCP, first takes a slot from the run's [`Pacer`]
///   (`--qps`), so retries and TCP fallbacks count against the cap too.
#[derive(Clone)]
pub(super) struct Wire {
    runtime: TokioRuntimeProvider,
    pacer: Option<Arc<Pacer>>,
    /// With DNSSEC on: every message asks with the DO bit, and answers are shared between
    /// the data resolver and the validating one (see [`Memo`]).
    memo: Option<Arc<Memo>>,
    /// This connection belongs to the validating resolver (its sends are counted apart).
    validating: bool,
}

/// The run's answers as received, shared by the two resolvers of a DNSSEC run so that the
/// validator's re-asking of an answer (and of a DNSKEY or DS set many answers share) is not
/// sent again. Only complete answers are kept (NOERROR or NXDOMAIN, not truncated): a failed
/// or truncated try is sent again by the next try or over TCP, as it would be without it.
/// Bounded: past [`MEMO`] answers the oldest not asked for again goes, and a later ask for it
/// is sent again.
pub(super) struct Memo {
    cells: Mutex<MemoCells>,
    /// Questions only the validator asked (DNSKEY, DS, zone-cut NS).
    pub(super) validator_sent: AtomicU64,
}

#[derive(Default)]
struct MemoCells {
    /// Each answer, and whether it was asked for again since it last reached the queue's front.
    map: HashMap<MemoKey, (Arc<OnceCell<DnsResponse>>, bool)>,
    order: VecDeque<MemoKey>,
}

type MemoKey = (Vec<u8>, u16);

/// Answers kept for the validator: a few thousand domains' worth of the names it re-asks.
const MEMO: usize = 8_192;

impl Memo {
    fn new() -> Self {
        Self {
            cells: Mutex::new(MemoCells::default()),
            validator_sent: AtomicU64::new(0),
        }
    }

    /// The cell of a question. Past [`MEMO`] answers the oldest goes, unless it was asked for
    /// again meanwhile (a second chance): the DS, DNSKEY and NS sets of zones many domains
    /// share (a provider's, the root's) stay, so a long bulk run does not send them twice.
    fn cell(&self, key: MemoKey) -> Arc<OnceCell<DnsResponse>> {
        let mut cells = self.cells.lock().expect("memo lock");
        if let Some((cell, asked)) = cells.map.get_mut(&key) {
            *asked = true;
            return Arc::clone(cell);
        }
        let cell = Arc::new(OnceCell::new());
        cells.map.insert(key.clone(), (Arc::clone(&cell), false));
        cells.order.push_back(key);
        // Each pass clears a flag or evicts, so this ends within two rounds of the queue.
        while cells.order.len() > MEMO {
            let Some(old) = cells.order.pop_front() else {
                break;
            };
            match cells.map.get_mut(&old) {
                Some((_, asked)) if *asked => {
                    *asked = false;
                    cells.order.push_back(old);
                }
                _ => {
                    cells.map.remove(&old);
                }
            }
        }
        cell
    }
}

fn memo_key(request: &DnsRequest) -> Option<MemoKey> {
    let query = request.queries.first()?;
    let name = query.name().to_lowercase().to_ascii().into_bytes();
    Some((name, u16::from(query.query_type())))
}

impl ConnectionProvider for Wire {
    type Conn = Paced;
    type FutureConn = Pin<Box<dyn Future<Output = Result<Paced, NetError>> + Send>>;
    type RuntimeProvider = TokioRuntimeProvider;

    fn new_connection(
        &self,
        ip: IpAddr,
        config: &ConnectionConfig,
        cx: &PoolContext,
    ) -> Result<Self::FutureConn, NetError> {
        let pacer = self.pacer.clone();
        let (memo, validating) = (self.memo.clone(), self.validating);
        if matches!(config.protocol, ProtocolConfig::Udp) {
            let exchange =
                UdpClientStream::builder(SocketAddr::new(ip, config.port), self.runtime.clone())
                    .with_timeout(Some(cx.options.timeout))
                    .with_os_port_selection(cx.options.os_port_selection)
                    .avoid_local_ports(cx.options.avoid_local_udp_ports.clone())
                    .with_bind_addr(config.bind_addr)
                    .with_max_retries(1)
                    .exchange();
            return Ok(Box::pin(async move {
                Ok(Paced {
                    inner: exchange,
                    pacer,
                    memo,
                    validating,
                })
            }));
        }
        let connecting = self.runtime.new_connection(ip, config, cx)?;
        Ok(Box::pin(async move {
            Ok(Paced {
                inner: connecting.await?,
                pacer,
                memo,
                validating,
            })
        }))
    }

    fn runtime_provider(&self) -> &TokioRuntimeProvider {
        &self.runtime
    }
}

/// A connection whose every send waits for its `--qps` slot, and that does not give up on a
/// full queue.
///
/// hickory's exchange queues at most a few dozen messages and answers `Busy` past that; its
/// pool then backs off 20 ms, 40 ms, … before trying again: longer than a round trip, so one
/// audit's opening burst of ~60 questions came back in rounds (seen: 13 rounds for a critical
/// path of 4). The queue drains as soon as its task runs, so a full one is tried again after a
/// millisecond (at most a second in all).
#[derive(Clone)]
pub(super) struct Paced {
    inner: DnsExchange<TokioRuntimeProvider>,
    pacer: Option<Arc<Pacer>>,
    memo: Option<Arc<Memo>>,
    validating: bool,
}

impl Paced {
    /// One message on the wire: its `--qps` slot, then the exchange, tried again on a full
    /// queue. The first response only (mailcheck never asks multicast questions).
    async fn send_once(&self, request: DnsRequest) -> Result<DnsResponse, NetError> {
        if let Some(pacer) = &self.pacer {
            pacer.wait().await;
        }
        let mut busy = 0;
        loop {
            match self.inner.send(request.clone()).next().await {
                Some(Err(NetError::Busy)) if busy < 1000 => {
                    busy += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Some(first) => return first,
                // The UDP stream ends without an item when its timeout passes.
                None => return Err(NetError::Timeout),
            }
        }
    }
}

impl DnsHandle for Paced {
    type Response = Pin<Box<dyn Stream<Item = Result<DnsResponse, NetError>> + Send>>;
    type Runtime = TokioRuntimeProvider;

    fn send(&self, mut request: DnsRequest) -> Self::Response {
        let this = self.clone();
        let Some(memo) = self.memo.clone() else {
            return Box::pin(stream::once(async move { this.send_once(request).await }));
        };
        request.edns.get_or_insert_with(Edns::new).enable_dnssec();
        Box::pin(stream::once(async move {
            let Some(key) = memo_key(&request) else {
                return this.send_once(request).await;
            };
            let id = request.metadata.id;
            // The data lookups count every question they ask, whoever sends it first; only
            // the questions the data side never asks are the validator's to count.
            let validator_only = request.queries.first().is_some_and(|q| {
                matches!(q.query_type(), WireType::DS | WireType::DNSKEY)
                    || (q.query_type() == WireType::NS && !q.name().is_root())
            });
            let cell = memo.cell(key);
            let kept = cell
                .get_or_try_init(|| async {
                    match this.send_once(request).await {
                        Ok(r)
                            if !r.metadata.truncation
                                && matches!(
                                    r.metadata.response_code,
                                    ResponseCode::NoError | ResponseCode::NXDomain
                                ) =>
                        {
                            if this.validating && validator_only {
                                memo.validator_sent.fetch_add(1, Ordering::Relaxed);
                                super::count_validator_send();
                            }
                            Ok(r)
                        }
                        other => Err(other),
                    }
                })
                .await;
            match kept {
                Ok(r) => {
                    let mut r = r.clone();
                    r.metadata.id = id;
                    Ok(r)
                }
                Err(other) => other,
            }
        }))
    }
}

pub(super) struct Backend {
    resolver: Resolver<Wire>,
    servers: Vec<SocketAddr>,
    /// With DNSSEC on: the validating resolver, and a plain handle on the first server for
    /// the records a bogus verdict is explained from.
    pub(super) dnssec: Option<super::validate::Validator>,
}

impl Backend {
    pub(super) fn new(settings: &ResolverSettings) -> Result<Self, SetupError> {
        let (config, mut opts) = match &settings.servers {
            Some(servers) => {
                let name_servers = servers
                    .iter()
                    .map(|addr| {
                        let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                        for c in &mut ns.connections {
                            c.port = addr.port();
                        }
                        ns
                    })
                    .collect();
                (
                    ResolverConfig::from_name_servers(name_servers),
                    ResolverOpts::default(),
                )
            }
            None => hickory_resolver::system_conf::read_system_conf().map_err(|e| {
                SetupError(format!("reading the system resolver configuration: {e}"))
            })?,
        };
        let servers: Vec<SocketAddr> = config
            .name_servers()
            .iter()
            .map(|ns| SocketAddr::new(ns.ip, ns.connections.first().map_or(53, |c| c.port)))
            .collect();
        if servers.is_empty() {
            return Err(SetupError("no name servers configured".into()));
        }
        opts.timeout = settings.timeout;
        opts.attempts = settings.tries.saturating_sub(1);
        // mailcheck keeps its own per-run cache; a second one would only hide what was sent.
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        // Truncated answers still go to TCP; an error answer over UDP is reported as it is,
        // not asked again over TCP.
        opts.try_tcp_on_error = false;
        opts.edns0 = true;
        opts.preserve_intermediates = true;
        let wire = Wire {
            runtime: TokioRuntimeProvider::default(),
            pacer: settings.qps.map(|qps| Arc::new(Pacer::new(qps))),
            memo: settings.dnssec.as_ref().map(|_| Arc::new(Memo::new())),
            validating: false,
        };
        let dnssec = match &settings.dnssec {
            Some(anchor) => {
                let wire = Wire {
                    validating: true,
                    ..wire.clone()
                };
                let raw = Paced {
                    inner: UdpClientStream::builder(servers[0], wire.runtime.clone())
                        .with_timeout(Some(settings.timeout))
                        .with_max_retries(1)
                        .exchange(),
                    pacer: wire.pacer.clone(),
                    memo: wire.memo.clone(),
                    validating: true,
                };
                let mut vopts = opts.clone();
                vopts.validate = true;
                // The validator's own cache keeps verified DNSKEY and DS sets, so each zone's
                // chain is checked once a run, not once an answer; the memo still decides
                // what is sent.
                vopts.cache_size = 8_192;
                let anchors = anchor.load()?;
                let resolver = Resolver::builder_with_config(config.clone(), wire.clone())
                    .with_options(vopts)
                    .with_trust_anchor(Arc::new(anchors))
                    .build()
                    .map_err(|e| SetupError(e.to_string()))?;
                Some(super::validate::Validator::new(
                    resolver,
                    raw,
                    anchor.to_string(),
                    wire.memo.clone().expect("a DNSSEC run has a memo"),
                ))
            }
            None => None,
        };
        let resolver = Resolver::builder_with_config(config, wire)
            .with_options(opts)
            .build()
            .map_err(|e| SetupError(e.to_string()))?;
        Ok(Self {
            resolver,
            servers,
            dnssec,
        })
    }

    pub(super) fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    pub(super) async fn query(&self, name: &str, rtype: RecordType) -> Lookup<Vec<Data>> {
        let name = match wire_name(name) {
            Ok(n) => n,
            Err(failure) => return Lookup::Failed(failure),
        };
        match self.resolver.lookup(name, wire_type(rtype)).await {
            Ok(lookup) => {
                let mut cnames = Vec::new();
                let mut records = Vec::new();
                let mut owners = Vec::new();
                for rec in lookup.answers() {
                    match &rec.data {
                        RData::CNAME(c) if rtype == RecordType::Cname => {
                            records.push(Data::Name(display_name(&c.0)));
                        }
                        RData::CNAME(c) => cnames.push(Cname {
                            name: display_name(&rec.name),
                            target: display_name(&c.0),
                            beside_data: false,
                        }),
                        data => {
                            let before = records.len();
                            records.extend(convert(data, rtype));
                            if records.len() > before {
                                owners.push(display_name(&rec.name));
                            }
                        }
                    }
                }
                for c in &mut cnames {
                    c.beside_data = owners.contains(&c.name);
                }
                Lookup::Found { records, cnames }
            }
            Err(e) => classify(&e),
        }
    }
}

/// The name as asked. Labels as bytes: names built from remote data (SPF macros) may hold
/// any printable character, and the query should ask for exactly that name.
pub(super) fn wire_name(name: &str) -> Result<Name, DnsFailure> {
    let trimmed = name.trim_end_matches('.');
    let parsed = if trimmed.is_empty() {
        Ok(Name::root())
    } else {
        Name::from_labels(trimmed.split('.').map(str::as_bytes))
    };
    match parsed {
        Ok(mut n) => {
            n.set_fqdn(true);
            Ok(n)
        }
        Err(e) => Err(DnsFailure {
            kind: FailureKind::Other,
            detail: format!("invalid name {name:?}: {e}"),
        }),
    }
}

pub(super) fn wire_type(rtype: RecordType) -> hickory_resolver::proto::rr::RecordType {
    use hickory_resolver::proto::rr::RecordType as W;
    match rtype {
        RecordType::A => W::A,
        RecordType::Aaaa => W::AAAA,
        RecordType::Mx => W::MX,
        RecordType::Txt => W::TXT,
        RecordType::Ns => W::NS,
        RecordType::Ptr => W::PTR,
        RecordType::Spf => W::from(99),
        RecordType::Cname => W::CNAME,
        RecordType::Tlsa => W::TLSA,
    }
}

/// Only records of the asked type are kept: an answer may carry others.
fn convert(data: &RData, rtype: RecordType) -> Option<Data> {
    match (data, rtype) {
        (RData::A(a), RecordType::A) => Some(Data::A(a.0)),
        (RData::AAAA(a), RecordType::Aaaa) => Some(Data::Aaaa(a.0)),
        (RData::MX(m), RecordType::Mx) => Some(Data::Mx(Mx {
            preference: m.preference,
            exchange: display_name(&m.exchange),
        })),
        (RData::TXT(t), RecordType::Txt) => Some(Data::Txt(Txt {
            strings: t.txt_data.iter().map(|s| ByteString(s.to_vec())).collect(),
        })),
        (RData::NS(n), RecordType::Ns) => Some(Data::Name(display_name(&n.0))),
        (RData::PTR(p), RecordType::Ptr) => Some(Data::Name(display_name(&p.0))),
        (RData::TLSA(t), RecordType::Tlsa) => Some(Data::Tlsa(Tlsa {
            usage: t.cert_usage.into(),
            selector: t.selector.into(),
            matching: t.matching.into(),
            data: t.cert_data.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            }),
        })),
        (RData::Unknown { code, rdata }, RecordType::Spf) if u16::from(*code) == 99 => {
            Some(Data::Raw(rdata.anything.clone()))
        }
        _ => None,
    }
}

/// Names as users write them: lower case, no trailing dot, the root as `.`.
pub(super) fn display_name(name: &Name) -> String {
    if name.is_root() {
        return ".".into();
    }
    // Labels as they are, not escaped: they are compared and queried again as text.
    let labels: Vec<String> = name
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    labels.join(".")
}

pub(super) fn classify(e: &NetError) -> Lookup<Vec<Data>> {
    let failed = |kind, detail: String| Lookup::Failed(DnsFailure { kind, detail });
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr))
            if nr.response_code == ResponseCode::NXDomain =>
        {
            Lookup::NxDomain
        }
        NetError::Dns(DnsError::NoRecordsFound(nr))
            if nr.response_code == ResponseCode::NoError =>
        {
            Lookup::NoData
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => {
            failed(FailureKind::Servfail, String::new())
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => {
            failed(FailureKind::Refused, String::new())
        }
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            failed(FailureKind::Other, format!("RCODE {}", nr.response_code))
        }
        NetError::Timeout => failed(FailureKind::Timeout, String::new()),
        other => failed(FailureKind::Other, other.to_string()),
    }
}
