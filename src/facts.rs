//! Everything gathered about one domain: plain, serialisable, with no judgement in it.
//! Rules read these; the JSON report carries them as they are.

use serde::{Deserialize, Serialize};

use crate::checks::dane::DaneFacts;
use crate::checks::dkim::DkimFacts;
use crate::checks::dmarc::DmarcFacts;
use crate::checks::dnsbl::DnsblFacts;
use crate::checks::dnssec::DnssecFacts;
use crate::checks::mx::MxFacts;
use crate::checks::policy_txt::{BimiFacts, MtaStsFacts, PolicyTxtFacts};
use crate::checks::ptr::PtrFacts;
use crate::checks::smtp::SmtpFacts;
use crate::checks::spf::SpfFacts;
use crate::dns::{Lookup, Txt};
use crate::domain::Domain;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Facts {
    pub domain: Domain,
    /// The root NS lookup, asked alongside the domain's: when it fails too, the resolver is
    /// the problem, not the domain.
    pub canary: Lookup<Vec<String>>,
    pub mx: MxFacts,
    /// Every TXT record at the domain, raw (SPF, verification tokens, misplaced records).
    pub txt: Lookup<Vec<Txt>>,
    pub spf: SpfFacts,
    pub dmarc: DmarcFacts,
    /// DKIM keys at the selectors tried.
    pub dkim: DkimFacts,
    /// MTA-STS (RFC 8461): the `_mta-sts` record.
    pub mta_sts: MtaStsFacts,
    /// TLS-RPT (RFC 8460): the `_smtp._tls` record.
    pub tls_rpt: PolicyTxtFacts,
    /// BIMI: the assertion record.
    pub bimi: BimiFacts,
    /// Reverse DNS of every distinct MX address.
    pub ptr: Vec<PtrFacts>,
    /// The SMTP/STARTTLS probe of every (MX host, address).
    pub smtp: SmtpFacts,
    /// DNS blocklist answers for every MX address and for the domain.
    pub dnsbl: DnsblFacts,
    /// DANE TLSA records of every MX host (RFC 7672), facts only.
    #[serde(default)]
    pub dane: Vec<DaneFacts>,
    /// DNSSEC validation of the answers mail depends on.
    #[serde(default)]
    pub dnssec: DnssecFacts,
}

/// The name the canary asks about: the root zone's NS set, which every resolver can answer.
pub const CANARY_NAME: &str = ".";
