//! DNSSEC validation with hickory's validator, and an explanation when it says bogus.
//!
//! hickory tells secure, insecure and indeterminate apart per record, but reports a bogus
//! answer only as "DNSSEC validation failed". Administrators need to know which link broke,
//! so for a bogus answer mailcheck reads the records the validator read (from the same
//! memo: nothing is sent twice) and names the first fault it finds: a missing or expired
//! signature, a key tag no DNSKEY carries, a DS set that matches no DNSKEY ([`explain`]).

mod explain;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hickory_resolver::Resolver;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType as WireType};
use serde::{Deserialize, Serialize};

use super::hickory::{Memo, Paced, classify, display_name, wire_name, wire_type};
use super::{DnsFailure, RecordType, SetupError};

/// Where validation starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustAnchor {
    /// The IANA root keys hickory ships (KSK-2017 and KSK-2024).
    Root,
    /// DNSKEY records in zone-file syntax (`--trust-anchor FILE`), e.g. a lab's root key.
    File(PathBuf),
    /// DNSKEY records in zone-file syntax held in memory (the demo's lab key), named by
    /// `label` in reports.
    Text { label: String, text: String },
}

impl TrustAnchor {
    pub(super) fn load(&self) -> Result<TrustAnchors, SetupError> {
        match self {
            Self::Root => Ok(TrustAnchors::default()),
            Self::File(path) => TrustAnchors::from_file(path).map_err(|e| {
                SetupError(format!("reading the trust anchor {}: {e}", path.display()))
            }),
            Self::Text { label, text } => text
                .parse()
                .map_err(|e| SetupError(format!("reading the trust anchor {label}: {e}"))),
        }
    }
}

impl fmt::Display for TrustAnchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("root"),
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Text { label, .. } => f.write_str(label),
        }
    }
}

/// The validator's verdict on one answer (RFC 4033 §5: secure, insecure, bogus,
/// indeterminate), or the lookup's failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Validation {
    /// A chain of signed DNSKEY and DS records leads from the trust anchor to the answer.
    Secure {
        /// The zone that signed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signer: Option<String>,
        /// The earliest expiration of the signatures over the answer, seconds since the
        /// Unix epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<i64>,
    },
    /// Proven unsigned: the answer lies in (or under) a zone with no DS at its parent.
    Insecure,
    /// It should validate and does not.
    Bogus { reason: BogusReason, detail: String },
    /// The validator could not tell (DNSSEC records it needed did not come).
    Indeterminate { detail: String },
    /// The lookup itself failed: not known.
    Failed(DnsFailure),
}

/// What is wrong with a bogus answer, as far as the records show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BogusReason {
    ExpiredSignature,
    SignatureNotYetValid,
    /// The answer is unsigned in a signed zone.
    MissingSignature,
    /// No DNSKEY carries the signature's key tag, or the zone has no DNSKEY set.
    MissingDnskey,
    /// The parent's DS set matches no DNSKEY of the zone.
    DsMismatch,
    /// A signature does not verify, or the records show nothing else wrong.
    BadSignature,
}

impl fmt::Display for BogusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ExpiredSignature => "expired signature",
            Self::SignatureNotYetValid => "signature not yet valid",
            Self::MissingSignature => "missing signature",
            Self::MissingDnskey => "missing DNSKEY",
            Self::DsMismatch => "DS does not match the DNSKEY set",
            Self::BadSignature => "signature does not verify",
        })
    }
}

/// The validating side of a DNSSEC run.
pub(super) struct Validator {
    resolver: Resolver<super::hickory::Wire>,
    raw: Paced,
    anchor: String,
    memo: Arc<Memo>,
}

/// The deepest a bogus explanation walks up the tree (root, TLD, domain, and some).
const MAX_DEPTH: usize = 8;

impl Validator {
    pub(super) fn new(
        resolver: Resolver<super::hickory::Wire>,
        raw: Paced,
        anchor: String,
        memo: Arc<Memo>,
    ) -> Self {
        Self {
            resolver,
            raw,
            anchor,
            memo,
        }
    }

    pub(super) fn anchor(&self) -> &str {
        &self.anchor
    }

    /// Questions only the validator sent (DNSKEY, DS, NS at zone cuts).
    pub(super) fn sent(&self) -> u64 {
        self.memo.validator_sent.load(Ordering::Relaxed)
    }

    /// Whether the resolver hands out DNSSEC records at all: the root DNSKEY set must come
    /// signed and validate from the anchor. `Err` says why not.
    pub(super) async fn usable(&self) -> Result<(), String> {
        match self.resolver.lookup(Name::root(), WireType::DNSKEY).await {
            Ok(lookup) => {
                let keys = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == WireType::DNSKEY);
                let signed = lookup
                    .answers()
                    .iter()
                    .any(|r| rrsig(r).is_some_and(|s| s.input().type_covered == WireType::DNSKEY));
                if keys.clone().next().is_none() {
                    Err("the resolver gave no root DNSKEY set".into())
                } else if !signed {
                    Err(
                        "the resolver returns records without their signatures (RRSIG): it \
                         strips DNSSEC data, so nothing can be validated through it"
                            .into(),
                    )
                } else if keys.clone().all(|r| r.proof == Proof::Secure) {
                    Ok(())
                } else {
                    Err(format!(
                        "the root DNSKEY set does not validate from the trust anchor ({})",
                        self.anchor
                    ))
                }
            }
            Err(NetError::Dns(DnsError::DnssecBogus)) => Err(format!(
                "the root DNSKEY set does not validate from the trust anchor ({})",
                self.anchor
            )),
            Err(NetError::Dns(DnsError::NoRecordsFound(_))) => {
                Err("the resolver gave no root DNSKEY set".into())
            }
            Err(e) => Err(format!(
                "asking the root DNSKEY set failed: {}",
                classify(&e)
                    .failure()
                    .map_or_else(String::new, ToString::to_string)
            )),
        }
    }

    pub(super) async fn validate(&self, name: &str, rtype: RecordType) -> Validation {
        let wname = match wire_name(name) {
            Ok(n) => n,
            Err(f) => return Validation::Failed(f),
        };
        let wtype = wire_type(rtype);
        match self.resolver.lookup(wname.clone(), wtype).await {
            Ok(lookup) => {
                let answers = lookup.answers();
                let covered =
                    |r: &&Record| r.record_type() == wtype || r.record_type() == WireType::CNAME;
                let proofs: Vec<Proof> = answers.iter().filter(covered).map(|r| r.proof).collect();
                let sigs: Vec<&RRSIG> = answers
                    .iter()
                    .filter_map(rrsig)
                    .filter(|s| s.input().type_covered == wtype)
                    .collect();
                summarise(&proofs, &sigs)
            }
            Err(NetError::Dns(DnsError::DnssecBogus)) => self.bogus(&wname, wtype).await,
            Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => {
                let authorities = nr.authorities.as_deref().unwrap_or_default();
                let proofs: Vec<Proof> = authorities
                    .iter()
                    .filter(|r| r.record_type() != WireType::RRSIG)
                    .map(|r| r.proof)
                    .collect();
                let sigs: Vec<&RRSIG> = authorities.iter().filter_map(rrsig).collect();
                if proofs.is_empty() {
                    return Validation::Indeterminate {
                        detail: "the negative answer carried no SOA or NSEC records".into(),
                    };
                }
                summarise(&proofs, &sigs)
            }
            Err(NetError::Dns(DnsError::Nsec { proof, .. })) => match proof {
                Proof::Bogus => self.bogus(&wname, wtype).await,
                Proof::Insecure => Validation::Insecure,
                _ => Validation::Indeterminate {
                    detail: "the denial of existence could not be proven".into(),
                },
            },
            Err(e) => match classify(&e) {
                super::Lookup::Failed(f) => Validation::Failed(f),
                _ => Validation::Indeterminate {
                    detail: e.to_string(),
                },
            },
        }
    }
}

fn rrsig(r: &Record) -> Option<&RRSIG> {
    match &r.data {
        RData::DNSSEC(DNSSECRData::RRSIG(s)) => Some(s),
        _ => None,
    }
}

/// The weakest proof of the records that make the answer.
fn summarise(proofs: &[Proof], sigs: &[&RRSIG]) -> Validation {
    if proofs.contains(&Proof::Bogus) {
        // hickory turns a bogus answer into an error before this; kept for safety.
        return Validation::Bogus {
            reason: BogusReason::BadSignature,
            detail: "a record of the answer did not validate".into(),
        };
    }
    if proofs.contains(&Proof::Indeterminate) || proofs.is_empty() {
        return Validation::Indeterminate {
            detail: "the DNSSEC records needed to judge the answer did not come".into(),
        };
    }
    if proofs.contains(&Proof::Insecure) {
        return Validation::Insecure;
    }
    Validation::Secure {
        signer: sigs.first().map(|s| display_name(&s.input().signer_name)),
        expires: sigs
            .iter()
            .map(|s| i64::from(s.input().sig_expiration.get()))
            .min(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
