//! Mail routing facts: the MX set (RFC 5321 §5.1, RFC 7505) and the addresses of each host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::dns::{Dns, Lookup, Mx};
use crate::domain::Domain;

/// What the domain publishes for mail routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MxFacts {
    /// The MX lookup of the domain itself.
    pub lookup: Lookup<Vec<Mx>>,
    /// Every distinct MX host (the null MX `.` excluded), in preference order, with its addresses.
    pub hosts: Vec<HostAddresses>,
    /// With no MX records (NODATA), senders use the domain's own A/AAAA (RFC 5321 §5.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implicit: Option<HostAddresses>,
}

/// The A and AAAA lookups of one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HostAddresses {
    pub name: String,
    pub a: Lookup<Vec<Ipv4Addr>>,
    pub aaaa: Lookup<Vec<Ipv6Addr>>,
}

impl MxFacts {
    /// Every (host, address) senders may deliver to: the MX hosts' A then AAAA records, in
    /// preference order, or the implicit MX's.
    pub fn targets(&self) -> Vec<(String, IpAddr)> {
        let mut out = Vec::new();
        for h in self.hosts.iter().chain(self.implicit.as_ref()) {
            let v4 = h.a.records().into_iter().flatten().map(|a| IpAddr::V4(*a));
            let v6 = h
                .aaaa
                .records()
                .into_iter()
                .flatten()
                .map(|a| IpAddr::V6(*a));
            for ip in v4.chain(v6) {
                if !out.contains(&(h.name.clone(), ip)) {
                    out.push((h.name.clone(), ip));
                }
            }
        }
        out
    }

    /// The MX records, empty unless the lookup found some.
    /// The first address lookup that failed, the MX lookup's included: with one, a check over
    /// every MX address cannot pass, since the addresses it did not get were never seen.
    pub fn address_failure(&self) -> Option<String> {
        if let Some(e) = self.lookup.failure() {
            return Some(format!("the MX lookup {e}"));
        }
        self.hosts
            .iter()
            .chain(self.implicit.as_ref())
            .find_map(|h| {
                h.a.failure()
                    .map(|e| format!("the lookup of A {} {e}", h.name))
                    .or_else(|| {
                        h.aaaa
                            .failure()
                            .map(|e| format!("the lookup of AAAA {} {e}", h.name))
                    })
            })
    }

    pub fn records(&self) -> &[Mx] {
        self.lookup.records().map_or(&[], Vec::as_slice)
    }
}

/// Whether an MX record is a null MX exchange (`.`).
pub fn is_null(mx: &Mx) -> bool {
    mx.exchange == "."
}

pub async fn gather(dns: &Dns, domain: &Domain) -> MxFacts {
    let lookup = dns.mx(domain.as_str()).await;
    let mut names: Vec<&Mx> = lookup
        .records()
        .map(|v| v.iter().filter(|m| !is_null(m)).collect())
        .unwrap_or_default();
    names.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
    let mut distinct: Vec<String> = Vec::new();
    for m in names {
        if !distinct.contains(&m.exchange) {
            distinct.push(m.exchange.clone());
        }
    }
    let hosts = join_all(distinct.iter().map(|h| addresses(dns, h))).await;
    let implicit = if matches!(lookup, Lookup::NoData) {
        Some(addresses(dns, domain.as_str()).await)
    } else {
        None
    };
    MxFacts {
        lookup,
        hosts,
        implicit,
    }
}

async fn addresses(dns: &Dns, name: &str) -> HostAddresses {
    let (a, aaaa) = tokio::join!(dns.a(name), dns.aaaa(name));
    HostAddresses {
        name: name.to_owned(),
        a,
        aaaa,
    }
}
