//! DNSSEC facts: whether the answers mail depends on validate, from a trust anchor, with
//! hickory's validator. The answers judged are the domain's MX set, every MX host's
//! addresses, `_dmarc`, `_mta-sts` and the TLSA set of every MX host: the ones a validating
//! sender (or a DANE one) refuses to use when they are bogus.
//!
//! The validator's own lookups (DNSKEY, DS, NS at zone cuts) and the answers it re-asks with
//! the DO bit go through the run's wire memo, so no question is sent twice.

use serde::{Deserialize, Serialize};

use super::mx::MxFacts;
use crate::dns::{Dns, RecordType};
use crate::domain::Domain;

/// Everything the DNSSEC check learnt about one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnssecFacts {
    pub validator: Validator,
    /// When the answers were validated, seconds since the Unix epoch: signature expiry is
    /// judged against it, so rules stay pure.
    #[serde(default)]
    pub checked_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<DnssecAnswer>,
}

/// Whether answers could be validated at all in this run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Validator {
    /// Validated from this trust anchor (`root` for the IANA root keys, or the file given
    /// with `--trust-anchor`).
    Validating { anchor: String },
    /// Switched off (`--no-dnssec`).
    #[default]
    Disabled,
    /// The resolver does not hand out DNSSEC records (signatures stripped, or no answer to
    /// the root DNSKEY question): nothing can be validated, so every DNSSEC check is unknown.
    Unavailable { detail: String },
}

/// Why an answer was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The domain's MX set.
    Domain,
    /// An MX host's A or AAAA set.
    MxHost,
    Dmarc,
    MtaSts,
    /// `_25._tcp.<mx host>` TLSA.
    Tlsa,
}

/// One validated answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnssecAnswer {
    pub role: Role,
    /// The MX host the answer belongs to (roles `mx-host` and `tlsa`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub name: String,
    pub rtype: RecordType,
    pub outcome: Outcome,
}

pub use crate::dns::{BogusReason, Validation as Outcome};

impl Outcome {
    pub fn is_secure(&self) -> bool {
        matches!(self, Self::Secure { .. })
    }
}

impl DnssecFacts {
    /// Whether validation ran in this run (so outcomes are meaningful).
    pub fn validating(&self) -> bool {
        matches!(self.validator, Validator::Validating { .. })
    }

    /// The answers of one role (and host, when given).
    pub fn of<'a>(
        &'a self,
        role: Role,
        host: Option<&'a str>,
    ) -> impl Iterator<Item = &'a DnssecAnswer> + 'a {
        self.answers
            .iter()
            .filter(move |a| a.role == role && (host.is_none() || a.host.as_deref() == host))
    }

    /// Whether every address answer (A and AAAA) of an MX host is secure: `Some(true)` when
    /// all are, `Some(false)` when one is insecure or bogus, `None` when not known
    /// (validation off or unavailable, or a lookup failed or was indeterminate).
    pub fn host_secure(&self, host: &str) -> Option<bool> {
        if !self.validating() {
            return None;
        }
        let mut any = false;
        for a in self.of(Role::MxHost, Some(host)) {
            any = true;
            match a.outcome {
                Outcome::Secure { .. } => {}
                Outcome::Insecure | Outcome::Bogus { .. } => return Some(false),
                Outcome::Indeterminate { .. } | Outcome::Failed(_) => return None,
            }
        }
        any.then_some(true)
    }

    /// The outcome of an MX host's TLSA answer.
    pub fn tlsa(&self, host: &str) -> Option<&Outcome> {
        if !self.validating() {
            return None;
        }
        self.answers
            .iter()
            .find(|a| a.role == Role::Tlsa && a.host.as_deref() == Some(host))
            .map(|a| &a.outcome)
    }
}

/// Validates the answers mail depends on, concurrently. The data lookups have asked (or are
/// asking) the same questions; the validator shares their answers.
pub async fn gather(dns: &Dns, domain: &Domain, mx: &MxFacts) -> DnssecFacts {
    let Some(anchor) = dns.dnssec_anchor().map(str::to_owned) else {
        return DnssecFacts::default();
    };
    if let Some(Err(detail)) = dns.dnssec_usable().await {
        return DnssecFacts {
            validator: Validator::Unavailable { detail },
            ..DnssecFacts::default()
        };
    }
    let d = domain.as_str();
    let mut asks: Vec<(Role, Option<String>, String, RecordType)> = vec![
        (Role::Domain, None, d.to_owned(), RecordType::Mx),
        (Role::Dmarc, None, format!("_dmarc.{d}"), RecordType::Txt),
        (Role::MtaSts, None, format!("_mta-sts.{d}"), RecordType::Txt),
    ];
    for h in &mx.hosts {
        let host = Some(h.name.clone());
        asks.push((Role::MxHost, host.clone(), h.name.clone(), RecordType::A));
        asks.push((Role::MxHost, host.clone(), h.name.clone(), RecordType::Aaaa));
        asks.push((
            Role::Tlsa,
            host,
            format!("_25._tcp.{}", h.name),
            RecordType::Tlsa,
        ));
    }
    let answers = futures_util::future::join_all(asks.into_iter().map(
        |(role, host, name, rtype)| async move {
            let outcome = dns
                .validate(&name, rtype)
                .await
                .expect("DNSSEC is on in this run");
            DnssecAnswer {
                role,
                host,
                name,
                rtype,
                outcome,
            }
        },
    ))
    .await;
    DnssecFacts {
        validator: Validator::Validating { anchor },
        checked_at: now(),
        answers,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
