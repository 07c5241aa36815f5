//! DNS lookups as typed outcomes, with one cache per run.
//!
//! Every query answers with a [`Lookup`], which keeps "the record is not there" (NXDOMAIN, NODATA)
//! apart from "we could not find out" (SERVFAIL, REFUSED, timeout). Rules depend on that
//! difference: a failed lookup becomes an `unknown` check, never a "missing record" finding.
//!
//! [`Dns`] is cheap to clone. Clones share the cache, so a (name, type) pair is sent to the
//! resolver at most once per run, and concurrent identical queries wait for the same answer.
//! [`Dns::scoped_for`] gives a handle that also counts the queries its own audit caused.
//!
//! Memory stays flat over a long bulk run: the cache knows which audits (scopes) asked for
//! each name. When an audit ends, a name only it asked for is dropped at once when it lies in
//! that domain's own tree (`example.com`, `_dmarc.example.com`, `s1._domainkey.example.com`,
//! `example.com._report._dmarc.rua.host`); another name only it asked for (an MX host, an
//! include, a blocklist answer) waits in a bounded queue of [`RETIRED`] entries, so a later
//! domain that shares it still finds it; a name two audits asked for stays for the run.

mod hickory;
mod validate;

pub use validate::{BogusReason, TrustAnchor, Validation};

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::bytes::ByteString;

/// The longest CNAME chain followed before the answer counts as failed (hickory-resolver
/// follows 8; RFC 1034 §3.6.2 asks for chains to be short).
pub const MAX_CNAME_CHAIN: usize = 8;

/// The record types mailcheck asks for.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    A,
    Aaaa,
    Mx,
    Txt,
    Ns,
    Ptr,
    /// Type 99, the SPF record type RFC 7208 §3.1 retired.
    Spf,
    Cname,
    /// Type 52: DANE TLSA (RFC 6698).
    Tlsa,
}

impl std::fmt::Display for RecordType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Ns => "NS",
            Self::Ptr => "PTR",
            Self::Spf => "SPF",
            Self::Cname => "CNAME",
            Self::Tlsa => "TLSA",
        })
    }
}

/// The outcome of one lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status")]
#[schemars(rename = "Lookup_of_{T}")]
pub enum Lookup<T> {
    /// The name has records of the asked type (after following any CNAMEs).
    #[serde(rename = "found")]
    Found {
        records: T,
        /// CNAMEs followed on the way, in order (`name` → `target`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cnames: Vec<Cname>,
    },
    /// The name does not exist (RCODE 3).
    #[serde(rename = "nxdomain")]
    NxDomain,
    /// The name exists but has no records of this type.
    #[serde(rename = "nodata")]
    NoData,
    /// The lookup failed: the answer is not known.
    #[serde(rename = "failed")]
    Failed(DnsFailure),
}

impl<T> Lookup<T> {
    /// The records, when found.
    pub fn records(&self) -> Option<&T> {
        match self {
            Self::Found { records, .. } => Some(records),
            _ => None,
        }
    }

    /// The failure, when the lookup failed.
    pub fn failure(&self) -> Option<&DnsFailure> {
        match self {
            Self::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// NXDOMAIN or NODATA: the resolver answered, and there is nothing.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::NxDomain | Self::NoData)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Lookup<U> {
        match self {
            Self::Found { records, cnames } => Lookup::Found {
                records: f(records),
                cnames,
            },
            Self::NxDomain => Lookup::NxDomain,
            Self::NoData => Lookup::NoData,
            Self::Failed(e) => Lookup::Failed(e),
        }
    }
}

/// One CNAME met while resolving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cname {
    pub name: String,
    pub target: String,
    /// The answer also held records of the asked type owned by `name` itself: a CNAME beside
    /// other data, which RFC 2181 §10.1 forbids (a broken or hostile server).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub beside_data: bool,
}

/// Why a lookup failed.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, schemars::JsonSchema,
)]
#[error("{kind}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
pub struct DnsFailure {
    pub kind: FailureKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FailureKind {
    Servfail,
    Refused,
    Timeout,
    /// Any other failure: a malformed answer, another RCODE, an I/O error.
    Other,
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Servfail => "SERVFAIL",
            Self::Refused => "REFUSED",
            Self::Timeout => "timed out",
            Self::Other => "failed",
        })
    }
}

/// An MX record (RFC 1035 §3.3.9). `exchange` is `"."` for a null MX (RFC 7505).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
}

/// One TXT record: its character-strings as published, and the text they make once joined
/// without separators (RFC 7208 §3.3, RFC 7489 §6.6.3, RFC 6376 §3.6.2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Txt {
    pub strings: Vec<ByteString>,
}

impl Txt {
    /// The record's strings concatenated.
    pub fn joined(&self) -> ByteString {
        ByteString(
            self.strings
                .iter()
                .flat_map(|s| s.0.iter().copied())
                .collect(),
        )
    }

    /// The joined text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.joined().0).into_owned()
    }
}

/// A TLSA record (RFC 6698 §2.1): which certificate a TLS server must present, as DANE
/// publishes it at `_<port>._tcp.<host>`. Fields are the wire values, so a later DANE check
/// can judge them (RFC 7672 for SMTP: usages 2 and 3 only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tlsa {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// 0 the full certificate, 1 the `SubjectPublicKeyInfo`.
    pub selector: u8,
    /// 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// The association data, hex.
    pub data: String,
}

/// Record data as returned by the backend, before it is typed for a caller.
#[derive(Clone, Debug)]
enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx(Mx),
    Txt(Txt),
    Name(String),
    Tlsa(Tlsa),
    /// RDATA of a type hickory does not model.
    Raw(Vec<u8>),
}

/// Where queries go and how long each may take.
#[derive(Clone, Debug)]
pub struct ResolverSettings {
    /// The resolvers to ask; `None` means the system configuration (`/etc/resolv.conf`).
    pub servers: Option<Vec<SocketAddr>>,
    /// How long to wait for one answer.
    pub timeout: Duration,
    /// How many times to send a query in all (at least 1).
    pub tries: usize,
    /// At most this many messages sent per second (`--qps`), retries included; `None`: no cap.
    pub qps: Option<u32>,
    /// Validate DNSSEC from this anchor; `None` (`--no-dnssec`): do not, and ask without the
    /// DO bit.
    pub dnssec: Option<TrustAnchor>,
}

/// Spaces the messages sent `1/qps` apart: a token bucket that holds one token, so no window
/// of any length sees more than its share (politeness towards a shared resolver).
pub(crate) struct Pacer {
    interval: Duration,
    next: Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub(crate) fn new(qps: u32) -> Self {
        Self {
            interval: Duration::from_secs(1) / qps.max(1),
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Waits for the next free slot. A waiter that is cancelled still used its slot.
    pub(crate) async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().expect("pacer lock");
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// The resolver could not be set up at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the DNS resolver: {0}")]
pub struct SetupError(String);

type Slot = Arc<OnceCell<Lookup<Vec<Data>>>>;
type Key = (String, RecordType);

/// How many answers asked for by one finished audit, outside its own tree, are kept in case a
/// later audit shares them (about 6 a domain: a window of a few thousand domains, some MB).
pub const RETIRED: usize = 16_384;

struct Entry {
    slot: Slot,
    /// Distinct audits that asked for it (2 is enough to keep it for the run).
    scopes: u8,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Entry>,
    /// Asked for by one finished audit only, oldest first; dropped past [`RETIRED`].
    retired: VecDeque<Key>,
}

struct Shared {
    backend: hickory::Backend,
    cache: Mutex<Cache>,
    sent: AtomicU64,
    /// Whether this resolver lets answers be validated, asked once per run.
    dnssec_usable: OnceCell<Result<(), String>>,
    /// Validated answers, once per (name, type) for the run.
    validated: Mutex<HashMap<Key, Arc<OnceCell<Validation>>>>,
}

/// One audit's view: what it sent, and what it asked for, released when its last handle goes.
struct Scope {
    shared: Arc<Shared>,
    queries: AtomicU64,
    /// The audited domain (normalised); `None` for the run's own handle, which keeps all.
    domain: Option<String>,
    asked: Mutex<HashSet<Key>>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let Some(domain) = &self.domain else { return };
        let asked = std::mem::take(self.asked.get_mut().expect("dns scope lock"));
        let mut cache = self.shared.cache.lock().expect("dns cache lock");
        for key in asked {
            if cache.entries.get(&key).is_none_or(|e| e.scopes > 1) {
                continue;
            }
            if in_own_tree(&key.0, domain) {
                cache.entries.remove(&key);
            } else {
                cache.retired.push_back(key);
            }
        }
        while cache.retired.len() > RETIRED {
            if let Some(old) = cache.retired.pop_front()
                && cache.entries.get(&old).is_some_and(|e| e.scopes <= 1)
            {
                cache.entries.remove(&old);
            }
        }
    }
}

/// Names no other domain is expected to ask for: the domain itself, names under it, and names
/// that start with it (the RFC 7489 §7.1 report authorisation `<domain>._report._dmarc.<host>`).
fn in_own_tree(name: &str, domain: &str) -> bool {
    name.strip_suffix(domain)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        || name
            .strip_prefix(domain)
            .is_some_and(|rest| rest.starts_with('.'))
}

tokio::task_local! {
    /// The audit a validation runs for: the validator's own questions (DNSKEY, DS, zone-cut
    /// NS) count as that audit's queries, as the data lookups do.
    static VALIDATING_FOR: Arc<Scope>;
}

/// Counts one question the validator sent, for the audit it runs for.
fn count_validator_send() {
    let _ = VALIDATING_FOR.try_with(|s| s.queries.fetch_add(1, Ordering::Relaxed));
}

/// The run's resolver: one cache, one counter, typed answers.
#[derive(Clone)]
pub struct Dns {
    shared: Arc<Shared>,
    scope: Arc<Scope>,
    /// Lookups not answered by then fail as timed out, whatever the resolver does.
    deadline: Option<Instant>,
}

impl Dns {
    pub fn new(settings: &ResolverSettings) -> Result<Self, SetupError> {
        let shared = Arc::new(Shared {
            backend: hickory::Backend::new(settings)?,
            cache: Mutex::new(Cache::default()),
            sent: AtomicU64::new(0),
            dnssec_usable: OnceCell::new(),
            validated: Mutex::default(),
        });
        Ok(Self {
            scope: Arc::new(Scope {
                shared: Arc::clone(&shared),
                queries: AtomicU64::new(0),
                domain: None,
                asked: Mutex::default(),
            }),
            shared,
            deadline: None,
        })
    }

    /// A handle on the same cache whose [`Dns::scope_queries`] counts only what it sends, and
    /// whose lookups give up at `deadline` (one domain's time budget). It keeps every answer.
    #[must_use]
    pub fn scoped_until(&self, deadline: Instant) -> Self {
        self.scope(None, deadline)
    }

    /// Like [`Dns::scoped_until`], for the audit of `domain`: when the last clone of this
    /// handle is dropped, the answers only it asked for are released (see the module doc).
    #[must_use]
    pub fn scoped_for(&self, domain: &str, deadline: Instant) -> Self {
        self.scope(Some(normalise(domain)), deadline)
    }

    fn scope(&self, domain: Option<String>, deadline: Instant) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            scope: Arc::new(Scope {
                shared: Arc::clone(&self.shared),
                queries: AtomicU64::new(0),
                domain,
                asked: Mutex::default(),
            }),
            deadline: Some(deadline),
        }
    }

    /// Answers held in the run's cache now (asked, in flight or kept).
    pub fn cached(&self) -> usize {
        self.shared
            .cache
            .lock()
            .expect("dns cache lock")
            .entries
            .len()
    }

    /// The resolvers queries go to, as `ip:port`.
    pub fn servers(&self) -> &[SocketAddr] {
        self.shared.backend.servers()
    }

    /// Queries sent by every handle of this run (each (name, type) once, whatever the tries),
    /// the DNSSEC validator's own (DNSKEY, DS, zone-cut NS) included.
    pub fn total_queries(&self) -> u64 {
        let validator = self
            .shared
            .backend
            .dnssec
            .as_ref()
            .map_or(0, validate::Validator::sent);
        self.shared.sent.load(Ordering::Relaxed) + validator
    }

    /// The trust anchor answers are validated from; `None` when DNSSEC is off.
    pub fn dnssec_anchor(&self) -> Option<&str> {
        self.shared
            .backend
            .dnssec
            .as_ref()
            .map(validate::Validator::anchor)
    }

    /// Whether answers can be validated through this resolver (asked once per run: the root
    /// DNSKEY set must come signed and validate); `None` when DNSSEC is off.
    pub async fn dnssec_usable(&self) -> Option<Result<(), String>> {
        let validator = self.shared.backend.dnssec.as_ref()?;
        Some(
            self.shared
                .dnssec_usable
                .get_or_init(|| VALIDATING_FOR.scope(Arc::clone(&self.scope), validator.usable()))
                .await
                .clone(),
        )
    }

    /// The DNSSEC verdict on the answer to `name`/`rtype`, once per run; `None` when DNSSEC
    /// is off. The question itself is not sent again when the data lookup asked it.
    pub async fn validate(&self, name: &str, rtype: RecordType) -> Option<Validation> {
        let validator = self.shared.backend.dnssec.as_ref()?;
        let key = (normalise(name), rtype);
        let slot = Arc::clone(
            self.shared
                .validated
                .lock()
                .expect("dnssec cache lock")
                .entry(key.clone())
                .or_default(),
        );
        let answer = slot.get_or_init(|| {
            VALIDATING_FOR.scope(Arc::clone(&self.scope), validator.validate(&key.0, rtype))
        });
        Some(match self.deadline {
            None => answer.await.clone(),
            Some(at) => match tokio::time::timeout_at(at.into(), answer).await {
                Ok(v) => v.clone(),
                Err(_) => Validation::Failed(DnsFailure {
                    kind: FailureKind::Timeout,
                    detail: "the per-domain deadline passed".into(),
                }),
            },
        })
    }

    /// Queries sent through this handle and its clones since [`Dns::scoped_for`].
    pub fn scope_queries(&self) -> u64 {
        self.scope.queries.load(Ordering::Relaxed)
    }

    async fn query(&self, name: &str, rtype: RecordType) -> Lookup<Vec<Data>> {
        let key = (normalise(name), rtype);
        let first_ask = self.scope.domain.is_some()
            && self
                .scope
                .asked
                .lock()
                .expect("dns scope lock")
                .insert(key.clone());
        let slot = {
            let mut cache = self.shared.cache.lock().expect("dns cache lock");
            let entry = cache.entries.entry(key.clone()).or_insert_with(|| Entry {
                slot: Slot::default(),
                scopes: 0,
            });
            if first_ask {
                entry.scopes = entry.scopes.saturating_add(1);
            }
            Arc::clone(&entry.slot)
        };
        let answer = slot.get_or_init(|| async {
            self.shared.sent.fetch_add(1, Ordering::Relaxed);
            self.scope.queries.fetch_add(1, Ordering::Relaxed);
            self.shared.backend.query(&key.0, rtype).await
        });
        match self.deadline {
            None => answer.await.clone(),
            // A cancelled lookup leaves the slot empty, so a later audit may ask again.
            Some(at) => match tokio::time::timeout_at(at.into(), answer).await {
                Ok(answer) => answer.clone(),
                Err(_) => Lookup::Failed(DnsFailure {
                    kind: FailureKind::Timeout,
                    detail: "the per-domain deadline passed".into(),
                }),
            },
        }
    }

    async fn typed<T>(
        &self,
        name: &str,
        rtype: RecordType,
        pick: impl Fn(Data) -> Option<T>,
    ) -> Lookup<Vec<T>> {
        match self
            .query(name, rtype)
            .await
            .map(|v| v.into_iter().filter_map(&pick).collect::<Vec<_>>())
        {
            Lookup::Found { records, .. } if records.is_empty() => Lookup::NoData,
            other => other,
        }
    }

    pub async fn a(&self, name: &str) -> Lookup<Vec<Ipv4Addr>> {
        self.typed(name, RecordType::A, |d| match d {
            Data::A(a) => Some(a),
            _ => None,
        })
        .await
    }

    pub async fn aaaa(&self, name: &str) -> Lookup<Vec<Ipv6Addr>> {
        self.typed(name, RecordType::Aaaa, |d| match d {
            Data::Aaaa(a) => Some(a),
            _ => None,
        })
        .await
    }

    pub async fn mx(&self, name: &str) -> Lookup<Vec<Mx>> {
        self.typed(name, RecordType::Mx, |d| match d {
            Data::Mx(m) => Some(m),
            _ => None,
        })
        .await
    }

    pub async fn txt(&self, name: &str) -> Lookup<Vec<Txt>> {
        self.typed(name, RecordType::Txt, |d| match d {
            Data::Txt(t) => Some(t),
            _ => None,
        })
        .await
    }

    /// The PTR names of an address, asked at its reverse name (RFC 1035 §3.5, RFC 3596 §2.5).
    pub async fn ptr(&self, ip: IpAddr) -> Lookup<Vec<String>> {
        self.typed(&reverse_name(ip), RecordType::Ptr, |d| match d {
            Data::Name(n) => Some(n),
            _ => None,
        })
        .await
    }

    /// Records of the retired SPF type (99), as raw RDATA.
    pub async fn spf_rr(&self, name: &str) -> Lookup<Vec<Vec<u8>>> {
        self.typed(name, RecordType::Spf, |d| match d {
            Data::Raw(r) => Some(r),
            _ => None,
        })
        .await
    }

    /// The CNAME at a name itself (not followed): shows a delegation whose target is gone.
    pub async fn cname(&self, name: &str) -> Lookup<Vec<String>> {
        self.typed(name, RecordType::Cname, |d| match d {
            Data::Name(n) => Some(n),
            _ => None,
        })
        .await
    }

    /// [`Dns::check_absence`], and the CNAME at `name` also when the answer came directly (no
    /// CNAME on the way): a CNAME there too would sit beside the data (DNS002).
    pub async fn with_cname<T>(
        &self,
        name: &str,
        lookup: Lookup<T>,
    ) -> (Lookup<T>, Option<Lookup<Vec<String>>>) {
        if matches!(&lookup, Lookup::Found { cnames, .. } if cnames.is_empty()) {
            let cname = self.cname(name).await;
            return (lookup, Some(cname));
        }
        self.check_absence(name, lookup).await
    }

    /// DANE TLSA records, e.g. at `_25._tcp.<mx host>` (RFC 7672 §2.2).
    pub async fn tlsa(&self, name: &str) -> Lookup<Vec<Tlsa>> {
        self.typed(name, RecordType::Tlsa, |d| match d {
            Data::Tlsa(t) => Some(t),
            _ => None,
        })
        .await
    }

    /// For an empty answer at `name`: the CNAME there, if any, and the answer itself turned
    /// into a failure when the CNAME chain loops or runs past [`MAX_CNAME_CHAIN`] names.
    /// Resolvers that follow a loop until their depth limit answer "no records"; taken at its
    /// word, that would report a record as missing when the lookup could not succeed.
    pub async fn check_absence<T>(
        &self,
        name: &str,
        lookup: Lookup<T>,
    ) -> (Lookup<T>, Option<Lookup<Vec<String>>>) {
        if !lookup.is_absent() {
            return (lookup, None);
        }
        let first = self.cname(name).await;
        let mut chain = vec![name.trim_end_matches('.').to_ascii_lowercase()];
        let mut next = first.records().and_then(|t| t.first().cloned());
        while let Some(target) = next {
            let target = target.trim_end_matches('.').to_ascii_lowercase();
            let looped = chain.contains(&target);
            chain.push(target.clone());
            if looped || chain.len() > MAX_CNAME_CHAIN {
                let what = if looped { "loops" } else { "is too long" };
                let failure = DnsFailure {
                    kind: FailureKind::Other,
                    detail: format!("the CNAME chain {what}: {}", chain.join(" → ")),
                };
                return (Lookup::Failed(failure), Some(first));
            }
            next = self
                .cname(&target)
                .await
                .records()
                .and_then(|t| t.first().cloned());
        }
        (lookup, Some(first))
    }

    pub async fn ns(&self, name: &str) -> Lookup<Vec<String>> {
        self.typed(name, RecordType::Ns, |d| match d {
            Data::Name(n) => Some(n),
            _ => None,
        })
        .await
    }
}

/// The labels of an address in reverse order: `192.0.2.1` → `1.2.0.192`, IPv6 as 32 nibbles.
/// The prefix of the reverse name, and of DNS blocklist queries (RFC 5782 §2.1, §2.4).
pub fn reversed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let hex = format!("{:032x}", u128::from(v6));
            let nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
            nibbles.join(".")
        }
    }
}

/// The name a PTR lookup asks: under `in-addr.arpa` or `ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> String {
    let zone = if ip.is_ipv4() {
        "in-addr.arpa"
    } else {
        "ip6.arpa"
    };
    format!("{}.{zone}", reversed(ip))
}

/// Cache key form: lower case, no trailing dot (the root stays `.`).
fn normalise(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.strip_suffix('.') {
        Some("") | None => lower,
        Some(stripped) => stripped.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_read_well() {
        let f = DnsFailure {
            kind: FailureKind::Servfail,
            detail: String::new(),
        };
        assert_eq!(f.to_string(), "SERVFAIL");
        let f = DnsFailure {
            kind: FailureKind::Other,
            detail: "bad label".into(),
        };
        assert_eq!(f.to_string(), "failed (bad label)");
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn own_tree_names() {
        for name in [
            "example.com",
            "_dmarc.example.com",
            "s1._domainkey.example.com",
            "example.com._report._dmarc.rua.example.net",
        ] {
            assert!(in_own_tree(name, "example.com"), "{name}");
        }
        for name in [
            "mx.example.net",
            "notexample.com",
            "example.community",
            "com",
        ] {
            assert!(!in_own_tree(name, "example.com"), "{name}");
        }
    }

    #[test]
    fn names_normalise_for_the_cache() {
        assert_eq!(normalise("Example.COM."), "example.com");
        assert_eq!(normalise("."), ".");
        assert_eq!(normalise("a.b"), "a.b");
    }

    #[test]
    fn lookup_serialises_with_a_status_tag() {
        let l: Lookup<Vec<u16>> = Lookup::Failed(DnsFailure {
            kind: FailureKind::Timeout,
            detail: String::new(),
        });
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"status":"failed","kind":"timeout"}"#
        );
        let l: Lookup<Vec<u16>> = Lookup::Found {
            records: vec![1],
            cnames: vec![],
        };
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"status":"found","records":[1]}"#
        );
        assert_eq!(
            serde_json::to_string(&Lookup::<Vec<u16>>::NxDomain).unwrap(),
            r#"{"status":"nxdomain"}"#
        );
    }
}
