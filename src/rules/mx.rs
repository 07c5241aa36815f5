//! Mail routing rules: can a sender find where to deliver?

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{Outcome, Rule, Violation};
use crate::checks::mx::{HostAddresses, is_null};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};
use crate::net::classify;

pub static NO_MAIL_ROUTE: Rule = Rule {
    code: "MX001",
    name: "no-mail-route",
    category: Category::Routing,
    severity: Severity::Error,
    title: "No MX record and no address: the domain cannot receive mail",
    explanation: "The domain publishes no MX record, and without one senders fall back to the \
        domain's own A/AAAA records, but it has none either. Every message to the domain bounces. \
        A domain that is not meant to receive mail should say so with a null MX instead.",
    remediation: "Publish MX records for the hosts that receive mail, e.g. \
        `example.com. MX 10 mx1.example.com.`; or, if the domain receives no mail, publish a null \
        MX: `example.com. MX 0 .`",
    reference: "RFC 5321 §5.1",
    check: no_mail_route,
};

fn no_mail_route(f: &Facts) -> Outcome {
    let Some(implicit) = f.mx.implicit.as_ref() else {
        return Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || Outcome::Pass);
    };
    if has_address(implicit) {
        return Outcome::Pass;
    }
    match address_failure(implicit) {
        Some(why) => Outcome::Unknown(why),
        None => Outcome::fail(format!(
            "{} has no MX, A or AAAA record: mail to it cannot be delivered",
            f.domain
        )),
    }
}

pub static IMPLICIT_MX: Rule = Rule {
    code: "MX002",
    name: "implicit-mx",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "No MX record: senders fall back to the domain's address",
    explanation: "Without an MX record, senders deliver to the host at the domain's own A/AAAA \
        record (the \"implicit MX\"). That usually is a web server, which either accepts no mail \
        (messages queue for days, then bounce) or was never meant to be a mail server.",
    remediation: "Publish MX records naming your mail hosts; if the domain receives no mail, \
        publish a null MX (`example.com. MX 0 .`) so senders fail at once instead of retrying.",
    reference: "RFC 5321 §5.1",
    check: implicit_mx,
};

fn implicit_mx(f: &Facts) -> Outcome {
    match f.mx.implicit.as_ref() {
        Some(implicit) if has_address(implicit) => Outcome::fail(format!(
            "{} has no MX record; senders would deliver to its address {}",
            f.domain,
            addresses(implicit).join(", ")
        )),
        Some(_) => Outcome::NotApplicable,
        None => Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || Outcome::Pass),
    }
}

pub static NULL_MX: Rule = Rule {
    code: "MX003",
    name: "null-mx",
    category: Category::Routing,
    severity: Severity::Info,
    title: "Null MX: the domain accepts no mail",
    explanation: "The domain publishes a null MX (`MX 0 .`), the standard way to say it receives \
        no mail. Senders reject messages to it at once. This is right for domains that only send, \
        or do not use mail at all; it is a mistake on a domain that should receive mail.",
    remediation: "Nothing to do if the domain should receive no mail. Otherwise replace the null \
        MX with MX records naming your mail hosts.",
    reference: "RFC 7505 §3",
    check: null_mx,
};

fn null_mx(f: &Facts) -> Outcome {
    let records = f.mx.records();
    if records.len() == 1 && is_null(&records[0]) {
        Outcome::fail(format!(
            "{} publishes a null MX: it receives no mail",
            f.domain
        ))
    } else {
        Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || Outcome::Pass)
    }
}

pub static NULL_MX_MIXED: Rule = Rule {
    code: "MX004",
    name: "null-mx-with-other-mx",
    category: Category::Routing,
    severity: Severity::Error,
    title: "A null MX is published alongside other MX records",
    explanation: "A null MX (`MX 0 .`) must be the only MX record of a domain. Mixed with real MX \
        records, senders disagree: some treat the domain as accepting no mail and bounce, others \
        deliver to the remaining hosts.",
    remediation: "Decide: remove the null MX if the domain receives mail, or remove the other MX \
        records if it does not.",
    reference: "RFC 7505 §3",
    check: null_mx_mixed,
};

fn null_mx_mixed(f: &Facts) -> Outcome {
    let records = f.mx.records();
    if records.len() > 1 && records.iter().any(is_null) {
        Outcome::fail(format!(
            "{} publishes a null MX and {} other MX record(s)",
            f.domain,
            records.len() - 1
        ))
    } else {
        Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || Outcome::Pass)
    }
}

pub static MX_HOST_UNRESOLVABLE: Rule = Rule {
    code: "MX005",
    name: "mx-host-unresolvable",
    category: Category::Routing,
    severity: Severity::Error,
    title: "An MX host has no address",
    explanation: "The MX record names a host with no A or AAAA record (or a name that does not \
        exist), so senders cannot connect to it. If it is the only MX host, all mail to the \
        domain bounces; otherwise senders waste time on it before trying the next.",
    remediation: "Publish A (and AAAA) records for the MX host, or point the MX record at a host \
        that has them. MX targets must be host names with addresses, not CNAMEs or IP literals.",
    reference: "RFC 5321 §5.1",
    check: mx_host_unresolvable,
};

fn mx_host_unresolvable(f: &Facts) -> Outcome {
    if f.mx.hosts.is_empty() {
        return Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || {
            Outcome::NotApplicable
        });
    }
    let mut violations = Vec::new();
    let mut unknown = None;
    let total = f.mx.hosts.len();
    for host in &f.mx.hosts {
        if has_address(host) {
            continue;
        }
        if let Some(why) = address_failure(host) {
            unknown = unknown.or(Some(why));
            continue;
        }
        let how = if matches!(host.a, Lookup::NxDomain) {
            "does not exist"
        } else {
            "has no A or AAAA record"
        };
        violations.push(Violation {
            message: format!("MX host {} {how}", host.name),
            subject: Some(host.name.clone()),
        });
    }
    if violations.len() == total {
        for v in &mut violations {
            v.message
                .push_str(": no MX host of the domain resolves, so mail to it bounces");
        }
    }
    match (violations.is_empty(), unknown) {
        (false, _) => Outcome::Fail(violations),
        (true, Some(why)) => Outcome::Unknown(why),
        (true, None) => Outcome::Pass,
    }
}

fn has_address(h: &HostAddresses) -> bool {
    h.a.records().is_some_and(|v| !v.is_empty()) || h.aaaa.records().is_some_and(|v| !v.is_empty())
}

fn addresses(h: &HostAddresses) -> Vec<String> {
    let v4 = h.a.records().into_iter().flatten().map(ToString::to_string);
    let v6 = h
        .aaaa
        .records()
        .into_iter()
        .flatten()
        .map(ToString::to_string);
    v4.chain(v6).collect()
}

/// Why the addresses of a host with none found are unknown, if a lookup failed.
fn address_failure(h: &HostAddresses) -> Option<String> {
    let (name, failure) = match (h.a.failure(), h.aaaa.failure()) {
        (Some(f), _) => (format!("A {}", h.name), f),
        (None, Some(f)) => (format!("AAAA {}", h.name), f),
        (None, None) => return None,
    };
    Some(format!("the lookup of {name} {failure}"))
}

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
    check: mx_target_cname,
};

fn mx_target_cname(f: &Facts) -> Outcome {
    with_hosts(f, |hosts| {
        Outcome::of(
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
    check: mx_no_ipv6,
};

fn mx_no_ipv6(f: &Facts) -> Outcome {
    with_hosts(f, |hosts| {
        if let Some(failed) = hosts.iter().find_map(|h| h.aaaa.failure().map(|e| (h, e))) {
            return Outcome::unknown(&format!("AAAA {}", failed.0.name), failed.1);
        }
        let with_v4 = hosts.iter().filter(|h| h.a.records().is_some()).count();
        let with_v6 = hosts.iter().filter(|h| h.aaaa.records().is_some()).count();
        if with_v6 == 0 && with_v4 > 0 {
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
    check: mx_ipv6_only,
};

fn mx_ipv6_only(f: &Facts) -> Outcome {
    with_hosts(f, |hosts| {
        Outcome::of(
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
                        message: format!("preference {p}: {}", hosts.join(", ")),
                        subject: None,
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
    check: mx_address_not_routable,
};

fn mx_address_not_routable(f: &Facts) -> Outcome {
    with_hosts(f, |_| {
        Outcome::of(
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
        Outcome::of(out)
    })
}
