//! Reverse DNS of every MX address: the PTR names, and whether each resolves back to the address
//! (forward-confirmed reverse DNS, RFC 8659 §2 calls it "`FCrDNS`"; RFC 1912 §2.1 asks for it).

use std::net::IpAddr;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::dns::{Dns, Lookup, reverse_name};

/// The reverse DNS of one address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PtrFacts {
    pub ip: IpAddr,
    /// The name queried: `…in-addr.arpa` or `…ip6.arpa`.
    pub name: String,
    pub lookup: Lookup<Vec<String>>,
    /// For each PTR name, its addresses of the same family as `ip`.
    pub forward: Vec<Forward>,
}

/// The forward lookup of one PTR name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Forward {
    pub name: String,
    pub lookup: Lookup<Vec<IpAddr>>,
}

impl PtrFacts {
    /// Whether some PTR name resolves back to the address.
    pub fn confirmed(&self) -> bool {
        self.forward
            .iter()
            .any(|f| f.lookup.records().is_some_and(|ips| ips.contains(&self.ip)))
    }

    /// The PTR names, empty unless the lookup found some.
    pub fn names(&self) -> &[String] {
        self.lookup.records().map_or(&[], Vec::as_slice)
    }
}

/// Looks up the PTR of every address, and the addresses of every PTR name, all concurrently.
///
/// Loopback addresses (127/8, `::1`) are left out: their reverse names are special-use
/// (RFC 6761 §6.3), resolvers answer `localhost` for them without asking anyone, and no
/// sender judges a loopback MX by its PTR.
pub async fn gather(dns: &Dns, ips: &[IpAddr]) -> Vec<PtrFacts> {
    join_all(
        ips.iter()
            .filter(|ip| !ip.is_loopback())
            .map(|ip| one(dns, *ip)),
    )
    .await
}

async fn one(dns: &Dns, ip: IpAddr) -> PtrFacts {
    let lookup = dns.ptr(ip).await;
    let names = lookup.records().cloned().unwrap_or_default();
    let forward = join_all(names.into_iter().map(|name| async move {
        let lookup = match ip {
            IpAddr::V4(_) => dns
                .a(&name)
                .await
                .map(|v| v.into_iter().map(IpAddr::V4).collect()),
            IpAddr::V6(_) => dns
                .aaaa(&name)
                .await
                .map(|v| v.into_iter().map(IpAddr::V6).collect()),
        };
        Forward { name, lookup }
    }))
    .await;
    PtrFacts {
        ip,
        name: reverse_name(ip),
        lookup,
        forward,
    }
}
