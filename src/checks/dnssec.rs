//! DNSSEC facts: whether the answers mail depends on validate, from a trust anchor, with
//! hickory's validator. The answers judged are the domain's MX set, every MX host's
//! addresses, `_dmarc`, `_mta-sts` and the TLSA set of every MX host: the ones a validating
//! sender (or a DANE one) refuses to use when they are bogus.
//!
//! The validator's own lookups (DNSKEY, DS, NS at zone cuts) and the answers it re-asks with
//! the DO bit go through the run's wire memo, so no question is sent twice.

use serde::{Deserialize, Serialize};

use crate::dns::{DnsFailure, RecordType};

/// Everything the DNSSEC check learnt about one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnssecFacts {
    pub validator: Validator,
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
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
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

/// The validator's verdict on one answer (RFC 4033 §5: secure, insecure, bogus,
/// indeterminate), or the lookup's failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    /// A chain of signed DNSKEY and DS records leads from the trust anchor to the answer.
    Secure {
        /// The zone that signed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signer: Option<String>,
        /// The earliest expiration of the signatures that cover the answer, seconds since
        /// the Unix epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<i64>,
    },
    /// Proven unsigned: the answer lies in (or under) a zone with no DS at its parent.
    Insecure,
    /// It should validate and does not.
    Bogus { reason: BogusReason, detail: String },
    /// The validator could not tell (missing DNSSEC records it needed).
    Indeterminate { detail: String },
    /// The lookup itself failed: not known.
    Failed(DnsFailure),
}

/// What is wrong with a bogus answer, as far as mailcheck can tell from the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BogusReason {
    ExpiredSignature,
    SignatureNotYetValid,
    /// The answer is unsigned in a signed zone.
    MissingSignature,
    /// No DNSKEY matches the signature's key tag, or the DNSKEY set is missing.
    MissingDnskey,
    /// The parent's DS set matches no DNSKEY of the zone.
    DsMismatch,
    /// A signature does not verify.
    BadSignature,
    Other,
}

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
