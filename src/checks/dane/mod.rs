//! DANE for SMTP (RFC 7672): the TLSA records at `_25._tcp.<mx host>` of every MX host, and
//! the pure [`matching`] of those records against the chains the SMTP probe saw.

pub mod matching;

use serde::{Deserialize, Serialize};

use super::mx::MxFacts;
use crate::dns::{Dns, Lookup, Tlsa};

/// The TLSA lookup for one MX host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DaneFacts {
    pub host: String,
    /// `_25._tcp.<host>`.
    pub name: String,
    pub lookup: Lookup<Vec<Tlsa>>,
}

/// Whether any MX host publishes TLSA records.
pub fn in_use(facts: &[DaneFacts]) -> bool {
    facts.iter().any(|d| d.lookup.records().is_some())
}

/// Asks the TLSA records of every MX host, concurrently.
pub async fn gather(dns: &Dns, mx: &MxFacts) -> Vec<DaneFacts> {
    let hosts: Vec<String> = mx.hosts.iter().map(|h| h.name.clone()).collect();
    futures_util::future::join_all(hosts.into_iter().map(|host| async move {
        let name = format!("_25._tcp.{host}");
        let lookup = dns.tlsa(&name).await;
        DaneFacts { host, name, lookup }
    }))
    .await
}
