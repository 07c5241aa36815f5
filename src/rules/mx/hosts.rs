//! MX host rules: what the names in the MX records are (aliases, IP literals) and what their
//! addresses are (IPv6 readiness, routability), as senders will meet them.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::super::{Outcome, Rule, Violation};
use crate::checks::mx::{HostAddresses, is_null};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};
use crate::net::classify;

/// Unknown when the MX lookup failed; not applicable without MX hosts; otherwise `then`.
fn with_hosts(f: &Facts, then: impl FnOnce(&[HostAddresses]) -> Outcome) -> Outcome {
    Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || {
        if f.mx.hosts.is_empty() {
            Outcome::NotApplicable
        } else {
            then(&f.mx.hosts)
        }
    })
}

/// A check over the hosts' addresses: its violations, or unknown when it found none but an
/// address lookup failed (the addresses not seen could be the ones at fault).
fn over_addresses(f: &Facts, violations: Vec<Violation>) -> Outcome {
    match f.mx.address_failure() {
        Some(why) if violations.is_empty() => Outcome::Unknown(why),
        _ => Outcome::of(violations),
    }
}

pub static MX_TARGET_CNAME: Rule = Rule {
    code: "MX006",
    name: "mx-target-cname",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "An MX record points at a CNAME",
    explanation: "The name in an MX record must have its own A/AAAA records, not be an alias. \
        Most senders follow the CNAME anyway, but some do not, and the alias breaks the \
        name checks senders make with STARTTLS, DANE and MTA-STS against the MX name.",
    remediation: "Point the MX record at the canonical host name (the CNAME's target), or \
        replace the CNAME with A/AAAA records.",
    reference: "RFC 2181 §10.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_target_cname,
};

fn mx_target_cname(f: &Facts) -> Outcome {
    with_hosts(f, |hosts| {
        over_addresses(
            f,
            hosts
                .iter()
                .filter_map(|h| {
                    let chain = match (&h.a, &h.aaaa) {
                        (Lookup::Found { cnames, .. }, _) | (_, Lookup::Found { cnames, .. })
                            if !cnames.is_empty() =>
                        {
                            cnames
                        }
                        _ => return None,
                    };
                    let path: Vec<&str> = chain.iter().map(|c| c.target.as_str()).collect();
                    Some(Violation::at(
                        &h.name,
                        format!("MX host {} is an alias of {}", h.name, path.join(" → ")),
                    ))
                })
                .collect(),
        )
    })
}

pub static MX_TARGET_IP_LITERAL: Rule = Rule {
    code: "MX007",
    name: "mx-target-ip-literal",
    category: Category::Routing,
    severity: Severity::Error,
    title: "An MX record names an IP address instead of a host",
    explanation: "An MX record's exchange must be a host name. Written as an address, senders \
        look it up as a name (`192.0.2.1.` has no A record) and find nothing, so the host is \
        never used.",
    remediation: "Give the mail server a name with an A record (e.g. `mx1.example.com. A \
        192.0.2.1`) and point the MX record at that name.",
    reference: "RFC 5321 §5.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_target_ip_literal,
};

fn mx_target_ip_literal(f: &Facts) -> Outcome {
    Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || {
        Outcome::of(
            f.mx.records()
                .iter()
                .filter(|m| {
                    let bare = m.exchange.trim_start_matches('[').trim_end_matches(']');
                    bare.parse::<IpAddr>().is_ok()
                })
                .map(|m| {
                    Violation::at(
                        &m.exchange,
                        format!("MX {} {} is an IP address", m.preference, m.exchange),
                    )
                })
                .collect(),
        )
    })
}

pub static MX_NO_IPV6: Rule = Rule {
    code: "MX008",
    name: "mx-no-ipv6",
    category: Category::Routing,
    severity: Severity::Info,
    title: "No MX host has an IPv6 address",
    explanation: "Every MX host has only IPv4 addresses. Mail still arrives, since nearly every \
        sender speaks IPv4, but IPv6-only senders cannot deliver, and the domain is not ready \
        for networks that are moving to IPv6.",
    remediation: "Publish AAAA records for at least one MX host, with the SMTP server listening \
        on IPv6 and reverse DNS for the IPv6 address.",
    reference: "RFC 3974 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_no_ipv6,
};

fn mx_no_ipv6(f: &Facts) -> Outcome {
    with_hosts(f, |hosts| {
        if let Some(failed) = hosts.iter().find_map(|h| h.aaaa.failure().map(|e| (h, e))) {
            return Outcome::unknown(&format!("AAAA {}", failed.0.name), failed.1);
        }
        let with_v4 = hosts.iter().filter(|h| h.a.records().is_some()).count();
        let with_v6 = hosts.iter().filter(|h| h.aaaa.records().is_some()).count();
        if with_v6 > 0 {
            return Outcome::Pass;
        }
        if let Some(why) = f.mx.address_failure() {
            return Outcome::Unknown(why);
        }
        if with_v4 > 0 {
            Outcome::fail(format!(
                "none of the {} MX host(s) of {} has an AAAA record",
                hosts.len(),
                f.domain
            ))
        } else {
            Outcome::Pass
        }
    })
}

pub static MX_IPV6_ONLY: Rule = Rule {
    code: "MX009",
    name: "mx-ipv6-only",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "An MX host has only IPv6 addresses",
    explanation: "The host has AAAA records but no A record. Many senders still deliver over \
        IPv4 only; for them the host does not exist, and if it is the only MX host, their mail \
        to the domain bounces.",
    remediation: "Publish an A record for the host too, or add an MX host reachable over IPv4.",
    reference: "RFC 3974 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_ipv6_only,
};

fn mx_ipv6_only(f: &Facts) -> Outcome {
    with_hosts(f, |hosts| {
        over_addresses(
            f,
            hosts
                .iter()
                .filter(|h| h.a.is_absent() && h.aaaa.records().is_some())
                .map(|h| {
                    Violation::at(
                        &h.name,
                        format!("MX host {} has AAAA records but no A record", h.name),
                    )
                })
                .collect(),
        )
    })
}

pub static MX_DUPLICATE: Rule = Rule {
    code: "MX010",
    name: "mx-duplicate-host",
    category: Category::Routing,
    severity: Severity::Info,
    title: "The same MX host is listed more than once",
    explanation: "Two MX records name the same host. It adds no redundancy: senders that fail \
        on the host fail again at its second entry before trying anything else.",
    remediation: "Keep one MX record per host, with the preference you mean.",
    reference: "RFC 5321 §5.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_duplicate,
};

fn mx_duplicate(f: &Facts) -> Outcome {
    Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || {
        let records = f.mx.records();
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for m in records.iter().filter(|m| !is_null(m)) {
            let name = m.exchange.as_str();
            if seen.contains(&name) {
                if !out
                    .iter()
                    .any(|v: &Violation| v.subject.as_deref() == Some(name))
                {
                    let prefs: Vec<String> = records
                        .iter()
                        .filter(|r| r.exchange == name)
                        .map(|r| r.preference.to_string())
                        .collect();
                    out.push(Violation::at(
                        name,
                        format!("{name} is listed with preferences {}", prefs.join(", ")),
                    ));
                }
            } else {
                seen.push(name);
            }
        }
        Outcome::of(out)
    })
}

pub static MX_EQUAL_PREFERENCE: Rule = Rule {
    code: "MX011",
    name: "mx-equal-preference",
    category: Category::Routing,
    severity: Severity::Info,
    title: "MX hosts share a preference",
    explanation: "Senders pick at random among MX hosts of equal preference, spreading mail \
        over them. That is right for equal peers; if one of them is meant as a backup, give it \
        a higher number.",
    remediation: "Nothing to do for load sharing. For a backup MX, give it a larger \
        preference value than the primary.",
    reference: "RFC 5321 §5.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_equal_preference,
};

fn mx_equal_preference(f: &Facts) -> Outcome {
    Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || {
        let records: Vec<_> = f.mx.records().iter().filter(|m| !is_null(m)).collect();
        let mut prefs: Vec<u16> = records.iter().map(|m| m.preference).collect();
        prefs.sort_unstable();
        prefs.dedup();
        Outcome::of(
            prefs
                .into_iter()
                .filter_map(|p| {
                    let mut hosts: Vec<&str> = records
                        .iter()
                        .filter(|m| m.preference == p)
                        .map(|m| m.exchange.as_str())
                        .collect();
                    hosts.dedup();
                    (hosts.len() > 1).then(|| Violation {
                        severity: None,
                        message: format!("preference {p}: {}", hosts.join(", ")),
                        subject: None,
                        fix: None,
                    })
                })
                .collect(),
        )
    })
}

pub static MX_ADDRESS_NOT_ROUTABLE: Rule = Rule {
    code: "MX012",
    name: "mx-address-not-routable",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "An MX host has an address senders cannot reach",
    explanation: "The address is private, loopback, link-local, carrier-grade NAT, multicast, \
        reserved or an example range: no sender on the Internet can deliver to it, and it can \
        point senders (and mailcheck) at internal services. mailcheck does not connect to it.",
    remediation: "Publish the public address of the mail server; keep internal addresses in an \
        internal view of the zone. (Auditing an internal domain? Run with `--allow-private`.)",
    reference: "RFC 6890 §2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_address_not_routable,
};

fn mx_address_not_routable(f: &Facts) -> Outcome {
    with_hosts(f, |_| {
        over_addresses(
            f,
            f.mx.targets()
                .into_iter()
                .filter_map(|(host, ip)| {
                    let class = classify(ip);
                    (!class.is_routable() && f.smtp.policy.permits(ip).is_err()).then(|| {
                        Violation::at(
                            &host,
                            format!("MX host {host} has the {class} address {ip}"),
                        )
                    })
                })
                .collect(),
        )
    })
}

pub static MX_ADDRESS_PRIVATE: Rule = Rule {
    code: "MX013",
    name: "mx-address-private",
    category: Category::Routing,
    severity: Severity::Info,
    title: "An MX host has a private or loopback address (allowed by --allow-private)",
    explanation: "The address is loopback or private. That is expected in a lab or an internal \
        audit run with `--allow-private`; on a public domain, senders on the Internet could not \
        deliver to it.",
    remediation: "Nothing to do for an internal domain; a public one must publish the mail \
        server's public address.",
    reference: "RFC 1918 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: mx_address_private,
};

fn mx_address_private(f: &Facts) -> Outcome {
    with_hosts(f, |_| {
        let mut out: Vec<Violation> = Vec::new();
        for (host, ip) in f.mx.targets() {
            if classify(ip).is_routable() || f.smtp.policy.permits(ip).is_err() {
                continue;
            }
            match out
                .iter_mut()
                .find(|v| v.subject.as_deref() == Some(host.as_str()))
            {
                Some(v) => {
                    let _ = write!(v.message, ", {ip} ({})", classify(ip));
                }
                None => out.push(Violation::at(
                    &host,
                    format!("MX host {host} has the address {ip} ({})", classify(ip)),
                )),
            }
        }
        over_addresses(f, out)
    })
}
