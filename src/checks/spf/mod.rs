//! SPF (RFC 7208): record selection, a strict parser, macros, `check_host()`, and the include
//! tree walk that measures a record's DNS-lookup cost.

pub mod eval;
pub mod macros;
pub mod parse;
pub mod tree;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::bytes::ByteString;
use crate::checks::mx::MxFacts;
use crate::dns::{Dns, Lookup, Txt};
use crate::domain::Domain;

/// SPF facts beyond the domain's TXT records (which `Facts::txt` holds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpfFacts {
    /// The include tree from the domain's SPF record.
    pub tree: tree::Node,
    /// Records of the retired SPF RR type 99 at the domain (RFC 7208 §3.1).
    pub type99: Lookup<Vec<ByteString>>,
    /// The TXT records at the root record's `exp=` target, when it names one without macros.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<Target>,
    /// The SPF of each MX host name: the HELO identity it uses when it sends (§2.3).
    pub helo: Vec<Target>,
}

/// A name and its TXT records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Target {
    pub name: String,
    pub txt: Lookup<Vec<Txt>>,
}

/// Walks the include tree and fetches the `exp=` target. `txt` is the domain's TXT answer.
pub async fn gather(
    dns: &Dns,
    domain: &Domain,
    txt: &Lookup<Vec<Txt>>,
) -> (tree::Node, Option<Target>) {
    let exp_target = txt.records().and_then(|t| match records(t).as_slice() {
        [one] => parse::parse(&one.joined().0).ok()?.exp()?.literal(),
        _ => None,
    });
    tokio::join!(tree::walk(dns, domain.as_str(), txt), async {
        match exp_target {
            Some(name) => Some(Target {
                txt: dns.txt(&name).await,
                name,
            }),
            None => None,
        }
    })
}

/// Records of the retired type 99 at the domain.
pub async fn type99(dns: &Dns, domain: &Domain) -> Lookup<Vec<ByteString>> {
    match dns.spf_rr(domain.as_str()).await {
        Lookup::Found { records, cnames } => Lookup::Found {
            records: records.into_iter().map(ByteString).collect(),
            cnames,
        },
        Lookup::NxDomain => Lookup::NxDomain,
        Lookup::NoData => Lookup::NoData,
        Lookup::Failed(e) => Lookup::Failed(e),
    }
}

/// The TXT records of every MX host name, for their HELO identity.
pub async fn helo(dns: &Dns, mx: &MxFacts) -> Vec<Target> {
    join_all(mx.hosts.iter().map(|h| async {
        Target {
            name: h.name.clone(),
            txt: dns.txt(&h.name).await,
        }
    }))
    .await
}

/// Whether a TXT record is an SPF record: `v=spf1` (case-insensitive) followed by a space or the
/// end (RFC 7208 §4.5). `v=spf10` is not one.
pub fn is_spf(txt: &Txt) -> bool {
    let joined = txt.joined();
    let bytes = &joined.0;
    bytes.len() >= 6
        && bytes[..6].eq_ignore_ascii_case(b"v=spf1")
        && (bytes.len() == 6 || bytes[6] == b' ')
}

/// The SPF records among a domain's TXT records, in answer order.
pub fn records(txts: &[Txt]) -> Vec<&Txt> {
    txts.iter().filter(|t| is_spf(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::ByteString;

    fn txt(parts: &[&str]) -> Txt {
        Txt {
            strings: parts.iter().map(|p| ByteString::from(*p)).collect(),
        }
    }

    #[test]
    fn recognises_spf_records_by_version_tag() {
        assert!(is_spf(&txt(&["v=spf1 -all"])));
        assert!(is_spf(&txt(&["V=SPF1 -all"])));
        assert!(is_spf(&txt(&["v=spf1"])));
        assert!(is_spf(&txt(&["v=sp", "f1 mx -all"])));
        assert!(!is_spf(&txt(&["v=spf10 -all"])));
        assert!(!is_spf(&txt(&[" v=spf1 -all"])));
        assert!(!is_spf(&txt(&["spf2.0/pra -all"])));
        assert!(!is_spf(&txt(&["google-site-verification=abc"])));
    }
}
