//! The MTA-STS policy file (RFC 8461 §3.3): fetched from
//! `https://mta-sts.<domain>/.well-known/mta-sts.txt` whether or not the `_mta-sts` TXT record
//! exists (a policy served without the record is worth a warning), then parsed by
//! [`sts_policy`](super::sts_policy).

use serde::{Deserialize, Serialize};

use super::https::{self, Fetch, HttpsSettings};
use super::sts_policy::{self, PolicyFile};
use crate::dns::{Dns, Lookup};
use crate::domain::Domain;

/// The well-known path of the policy (RFC 8461 §3.2).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// The policy host and what it served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyFetch {
    /// `mta-sts.<domain>`.
    pub host: String,
    pub fetch: Fetch,
    /// The CNAME at the host itself, asked when it has no address: shows a delegation whose
    /// target is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Lookup<Vec<String>>>,
    /// The policy, parsed from a `200` body (whatever its content type, so every problem of a
    /// served policy is reported at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyFile>,
}

impl PolicyFetch {
    /// A CNAME at the host whose target does not exist.
    pub fn dangling(&self) -> Option<&str> {
        match (&self.fetch.result, &self.cname) {
            (https::FetchResult::NoAddress, Some(Lookup::Found { records, .. })) => {
                records.first().map(String::as_str)
            }
            _ => None,
        }
    }

    /// The policy, when it came back `200` and parsed without errors.
    pub fn valid(&self) -> Option<&PolicyFile> {
        self.policy.as_ref().filter(|p| p.errors.is_empty())
    }
}

/// Fetches and parses a domain's policy; `None` when fetches are switched off.
pub async fn gather(dns: &Dns, s: &HttpsSettings, domain: &Domain) -> Option<PolicyFetch> {
    if !s.enabled {
        return None;
    }
    let host = domain.child("mta-sts");
    let fetch = https::fetch(dns, s, &host, POLICY_PATH).await;
    let cname = if matches!(fetch.result, https::FetchResult::NoAddress) {
        Some(dns.cname(&host).await)
    } else {
        None
    };
    let policy = fetch.ok().map(|r| sts_policy::parse(&r.body));
    Some(PolicyFetch {
        host,
        fetch,
        cname,
        policy,
    })
}
