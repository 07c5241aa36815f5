//! DNS blocklists (RFC 5782): which lists are asked, how, and what they answered.
//!
//! The default lists and the meaning of their answer codes are data, in [`LISTS`], chosen for
//! current relevance (SORBS closed in 2024 and is not asked). Each list's health is checked once
//! per run with its RFC 5782 §5 test points before its answers are trusted; the run's DNS cache
//! makes "once" automatic, however many domains are audited.

use std::net::{IpAddr, Ipv4Addr};

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::dns::{Dns, Lookup, Txt, reversed};
use crate::domain::Domain;

/// What a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// IP addresses, queried as reversed octets (or nibbles).
    Ip,
    /// Domain names, queried as the name itself.
    Domain,
}

/// How much a listing weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Weight {
    /// The list's operators saw abuse from the address or domain.
    Reputation,
    /// A policy list (e.g. Spamhaus PBL: end-user ranges that should not send directly).
    Policy,
    /// A wide-net list (e.g. UCEPROTECT): lists whole ranges for the sins of neighbours.
    WideNet,
}

/// What an answer code of a list means.
#[derive(Clone, Copy, Debug)]
pub enum Meaning {
    Listed(&'static str, Weight),
    /// The list refuses to answer from here: not a listing.
    Unusable(&'static str),
}

/// One blocklist, as data.
#[derive(Clone, Copy, Debug)]
pub struct ListSpec<'a> {
    pub name: &'static str,
    pub zone: &'a str,
    /// The Spamhaus Data Query Service zone under the key (`<key>.<dqs>`), for Spamhaus lists.
    pub dqs: Option<&'static str>,
    pub kind: ListKind,
    /// Whether the list answers IPv6 queries (nibble format, RFC 5782 §2.4).
    pub ipv6: bool,
    /// Answer codes and their meanings; an answer in 127/8 not listed here is a listing of
    /// `weight`.
    pub codes: &'static [([u8; 4], Meaning)],
    pub weight: Weight,
    /// The RFC 5782 §5 test points: a name that must be listed and one that must not.
    pub test_listed: &'static str,
    pub test_unlisted: &'static str,
}

mod lists;

pub use lists::LISTS;
use lists::{V4_LISTED, V4_UNLISTED};

/// A list given with `--blocklist ZONE`: any answer in 127/8 is a listing. Asked about IPv4
/// addresses only, since nothing says it answers IPv6 queries (most lists do not).
pub fn custom(zone: &str) -> ListSpec<'_> {
    ListSpec {
        name: "custom",
        zone,
        dqs: None,
        kind: ListKind::Ip,
        ipv6: false,
        codes: &[],
        weight: Weight::Reputation,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    }
}

/// The spec of a default list, by zone (`None` for lists added with `--blocklist`).
pub fn spec(zone: &str) -> Option<&'static ListSpec<'static>> {
    LISTS.iter().find(|l| l.zone == zone)
}

/// What an answer means for a list: a listing (with its meaning), an error code, or a sign
/// that the resolver rewrites answers.
pub fn interpret(spec: Option<&ListSpec<'_>>, answer: Ipv4Addr) -> Meaning {
    if answer.octets()[0] != 127 {
        return Meaning::Unusable(
            "the answer is outside 127.0.0.0/8: the resolver rewrites answers (NXDOMAIN hijacking)",
        );
    }
    let Some(spec) = spec else {
        return Meaning::Listed("listed", Weight::Reputation);
    };
    spec.codes
        .iter()
        .find(|(code, _)| *code == answer.octets())
        .map_or(Meaning::Listed("listed", spec.weight), |(_, m)| *m)
}

/// Which lists to ask, for the whole run.
#[derive(Clone, Debug, Default)]
pub struct DnsblSettings {
    /// Ask the default lists ([`LISTS`]); `false` with `--no-blocklists`.
    pub defaults: bool,
    /// Zones added with `--blocklist`.
    pub custom: Vec<String>,
    /// The Spamhaus DQS key: Spamhaus lists are asked under their DQS zones with it.
    pub dqs_key: Option<String>,
    /// Why the Spamhaus lists are not asked in this run, when they are not: a bulk run without
    /// a DQS key (see [`SPAMHAUS_BULK_LIMIT`]).
    pub skip_spamhaus: Option<String>,
}

/// The most domains a run asks the public Spamhaus mirrors about without a DQS key. Their free
/// use is for low volumes (and they refuse queries through public resolvers); a bulk run past
/// this skips the Spamhaus lists, says so, and the other lists are still asked.
pub const SPAMHAUS_BULK_LIMIT: usize = 100;

/// A list the run chose not to ask, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedList {
    pub name: String,
    pub zone: String,
    pub kind: ListKind,
    pub reason: String,
}

/// The blocklist answers of one domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnsblFacts {
    /// `false` with `--no-blocklists`.
    pub enabled: bool,
    pub lists: Vec<ListFacts>,
    /// Lists not asked in this run (Spamhaus in a bulk run without a DQS key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedList>,
}

/// One list: its health and its answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListFacts {
    pub name: String,
    /// The public zone name (the DQS key is never shown).
    pub zone: String,
    /// Asked through Spamhaus DQS.
    pub dqs: bool,
    pub kind: ListKind,
    /// The test point that must be listed, and its answer.
    pub health_listed: Lookup<Vec<Ipv4Addr>>,
    /// The test point that must not be listed, and its answer.
    pub health_unlisted: Lookup<Vec<Ipv4Addr>>,
    /// The IPv6 test points (`::FFFF:7F00:2`, `::FFFF:7F00:1`), asked when an IPv6 address is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_listed_v6: Option<Lookup<Vec<Ipv4Addr>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_unlisted_v6: Option<Lookup<Vec<Ipv4Addr>>>,
    pub queries: Vec<ListQuery>,
}

/// One question to one list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    /// The address or domain asked about.
    pub subject: String,
    pub answer: Lookup<Vec<Ipv4Addr>>,
    /// The TXT reason, fetched for a listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Lookup<Vec<Txt>>>,
}

/// The name a list is queried under: its zone, or `<key>.<dqs zone>` with a DQS key.
fn query_zone(spec: &ListSpec<'_>, key: Option<&str>) -> String {
    match (spec.dqs, key) {
        (Some(dqs), Some(key)) => format!("{key}.{dqs}"),
        _ => spec.zone.to_owned(),
    }
}

/// The RFC 5782 §5 IPv6 test points, `::FFFF:7F00:2` and `::FFFF:7F00:1`, as nibbles.
fn v6_test(last: u8) -> String {
    reversed(IpAddr::V6(std::net::Ipv6Addr::new(
        0,
        0,
        0,
        0,
        0,
        0xffff,
        0x7f00,
        u16::from(last),
    )))
}

async fn ask(dns: &Dns, name: &str) -> Lookup<Vec<Ipv4Addr>> {
    dns.a(name).await
}

/// Asks what does not depend on the MX addresses (the lists' health test points, and the
/// domain lists about the domain) ahead of time, alongside the domain's own lookups. The run's
/// cache then answers [`gather`] at once, and a dead resolver costs one timeout, not two.
pub async fn prefetch(dns: &Dns, settings: &DnsblSettings, domain: &Domain) {
    gather(dns, settings, domain, &[]).await;
}

/// Asks every list about every address (and the domain lists about the domain), concurrently.
pub async fn gather(
    dns: &Dns,
    settings: &DnsblSettings,
    domain: &Domain,
    ips: &[IpAddr],
) -> DnsblFacts {
    let mut specs: Vec<ListSpec<'_>> = Vec::new();
    let mut skipped = Vec::new();
    if settings.defaults {
        for spec in LISTS {
            match (&settings.skip_spamhaus, spec.dqs) {
                (Some(reason), Some(_)) => skipped.push(SkippedList {
                    name: spec.name.to_owned(),
                    zone: spec.zone.to_owned(),
                    kind: spec.kind,
                    reason: reason.clone(),
                }),
                _ => specs.push(*spec),
            }
        }
    }
    specs.extend(settings.custom.iter().map(|z| custom(z)));
    let lists = join_all(specs.iter().map(|spec| async move {
        let zone = query_zone(spec, settings.dqs_key.as_deref());
        let v6 = spec.kind == ListKind::Ip && spec.ipv6 && ips.iter().any(IpAddr::is_ipv6);
        let subjects: Vec<(String, String)> = match spec.kind {
            ListKind::Domain => vec![(domain.to_string(), domain.to_string())],
            ListKind::Ip => ips
                .iter()
                .filter(|ip| ip.is_ipv4() || spec.ipv6)
                .map(|ip| (ip.to_string(), reversed(*ip)))
                .collect(),
        };
        let queries = join_all(subjects.into_iter().map(|(subject, label)| {
            let name = format!("{label}.{zone}");
            async move {
                let answer = ask(dns, &name).await;
                let reason = if answer.records().is_some() {
                    Some(dns.txt(&name).await)
                } else {
                    None
                };
                ListQuery {
                    subject,
                    answer,
                    reason,
                }
            }
        }));
        let listed = format!("{}.{zone}", spec.test_listed);
        let unlisted = format!("{}.{zone}", spec.test_unlisted);
        let (listed_v6, unlisted_v6) = (
            format!("{}.{zone}", v6_test(2)),
            format!("{}.{zone}", v6_test(1)),
        );
        let v6_health = async {
            if v6 {
                Some(tokio::join!(ask(dns, &listed_v6), ask(dns, &unlisted_v6)))
            } else {
                None
            }
        };
        let (health_listed, health_unlisted, health_v6, queries) =
            tokio::join!(ask(dns, &listed), ask(dns, &unlisted), v6_health, queries);
        let (health_listed_v6, health_unlisted_v6) = health_v6.unzip();
        ListFacts {
            name: if spec.name == "custom" {
                spec.zone.to_owned()
            } else {
                spec.name.to_owned()
            },
            zone: spec.zone.to_owned(),
            dqs: spec.dqs.is_some() && settings.dqs_key.is_some(),
            kind: spec.kind,
            health_listed,
            health_unlisted,
            health_listed_v6,
            health_unlisted_v6,
            queries,
        }
    }))
    .await;
    DnsblFacts {
        enabled: !specs.is_empty() || !skipped.is_empty(),
        lists,
        skipped,
    }
}
