//! DMARC (RFC 9989, with RFC 7489 compatibility): the record at `_dmarc.<domain>`, the DNS tree
//! walk that finds the policy and the organisational domain, and the report destinations.

pub mod parse;
pub mod walk;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

pub use parse::{Policy, Tag, claims_dmarc};
pub use walk::Discovery;

use crate::dns::{Dns, Lookup, Mx, Txt};
use crate::domain::Domain;

/// The DMARC facts of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmarcFacts {
    /// The name queried: `_dmarc.<domain>`.
    pub name: String,
    /// Every TXT record there, raw.
    pub lookup: Lookup<Vec<Txt>>,
    /// The records that claim to be DMARC (first tag `v=DMARC1`, any case), parsed.
    pub records: Vec<DmarcRecord>,
    /// When the TXT lookup found nothing: whether `_dmarc` is a CNAME, and to what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Lookup<Vec<String>>>,
    /// `_dmarc` of each ancestor, nearest first, as the RFC 9989 tree walk queries them.
    pub walk: Vec<Step>,
    pub discovery: Discovery,
    /// Where the applicable record sends reports, with the lookups that vet each destination.
    pub reports: Vec<ReportDestination>,
}

/// One name of the tree walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub domain: String,
    pub lookup: Lookup<Vec<Txt>>,
    pub records: Vec<DmarcRecord>,
}

/// One DMARC record: its text and what the parser made of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmarcRecord {
    pub text: String,
    /// The tags in published order, or why the record cannot be read.
    pub parsed: Result<Vec<Tag>, String>,
}

/// A domain that receives reports, and whether it can.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportDestination {
    /// The `rua`/`ruf` tag and URI, as published.
    pub tag: String,
    pub uri: String,
    pub domain: String,
    /// `<policy domain>._report._dmarc.<destination>`, asked only when the destination lies
    /// outside the organisational domain (RFC 9989 §4.8.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation: Option<Lookup<Vec<Txt>>>,
    /// The destination's MX, and its A when it has no MX: can it receive the reports?
    pub mx: Lookup<Vec<Mx>>,
}

impl DmarcRecord {
    fn from_text(text: String) -> Self {
        Self {
            parsed: parse::parse(&text).map_err(|e| e.to_string()),
            text,
        }
    }

    /// The value of a tag, when the record parsed.
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.parsed
            .as_ref()
            .ok()?
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }

    /// `p=`; `None` when missing (read as `none` by RFC 9989) or the record did not parse.
    pub fn policy(&self) -> Option<Policy> {
        self.tag("p").and_then(Policy::parse)
    }

    /// Whether the record parsed, so a receiver can use it.
    pub fn is_valid(&self) -> bool {
        self.parsed.is_ok()
    }
}

fn claims(lookup: &Lookup<Vec<Txt>>) -> Vec<DmarcRecord> {
    lookup
        .records()
        .map(|txts| {
            txts.iter()
                .map(Txt::text)
                .filter(|t| claims_dmarc(t))
                .map(DmarcRecord::from_text)
                .collect()
        })
        .unwrap_or_default()
}

pub async fn gather(dns: &Dns, domain: &Domain) -> DmarcFacts {
    let name = domain.child("_dmarc");
    let ancestors = walk::ancestors(domain.as_str());
    let (lookup, walked) = tokio::join!(
        dns.txt(&name),
        join_all(ancestors.iter().map(|a| async move {
            let lookup = dns.txt(&format!("_dmarc.{a}")).await;
            Step {
                domain: a.clone(),
                records: claims(&lookup),
                lookup,
            }
        }))
    );
    let (lookup, cname) = dns.check_absence(&name, lookup).await;
    let records = claims(&lookup);
    let discovery = walk::discover(domain.as_str(), &records, &walked);
    let reports = report_destinations(dns, &discovery, &records, &walked).await;
    DmarcFacts {
        name,
        lookup,
        records,
        cname,
        walk: walked,
        discovery,
        reports,
    }
}

/// Looks up every report destination of the applicable record.
async fn report_destinations(
    dns: &Dns,
    discovery: &Discovery,
    own: &[DmarcRecord],
    walked: &[Step],
) -> Vec<ReportDestination> {
    let Some(policy_domain) = &discovery.policy_domain else {
        return Vec::new();
    };
    let record = std::iter::once(own)
        .chain(walked.iter().map(|s| s.records.as_slice()))
        .find_map(|r| match r {
            [one] if one.is_valid() => Some(one),
            _ => None,
        });
    let Some(record) = record else {
        return Vec::new();
    };
    let org = discovery.org_domain.as_deref().unwrap_or(policy_domain);
    let mut wanted = Vec::new();
    for tag in ["rua", "ruf"] {
        for uri in parse::uris(record.tag(tag).unwrap_or_default()) {
            if let Some(domain) = uri.domain {
                wanted.push((tag, uri.uri, domain));
            }
        }
    }
    join_all(wanted.into_iter().map(|(tag, uri, domain)| async move {
        let inside = domain == org || domain.ends_with(&format!(".{org}"));
        let authorisation = async {
            if inside {
                None
            } else {
                Some(
                    dns.txt(&format!("{policy_domain}._report._dmarc.{domain}"))
                        .await,
                )
            }
        };
        let (authorisation, mx) = tokio::join!(authorisation, dns.mx(&domain));
        ReportDestination {
            tag: tag.to_owned(),
            uri,
            domain,
            authorisation,
            mx,
        }
    }))
    .await
}
