//! Mail routing rules: can a sender find where to deliver?
//!
//! This file: the MX set itself. [`hosts`]: the MX hosts' names and addresses.

mod hosts;

use super::{Outcome, Rule, Violation};
use crate::checks::mx::{HostAddresses, is_null};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub use hosts::{
    MX_ADDRESS_NOT_ROUTABLE, MX_ADDRESS_PRIVATE, MX_DUPLICATE, MX_EQUAL_PREFERENCE, MX_IPV6_ONLY,
    MX_NO_IPV6, MX_TARGET_CNAME, MX_TARGET_IP_LITERAL,
};

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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: implicit_mx,
};

fn implicit_mx(f: &Facts) -> Outcome {
    match f.mx.implicit.as_ref() {
        Some(implicit) if has_address(implicit) => Outcome::fail(format!(
            "{} has no MX record; senders would deliver to its address {}",
            f.domain,
            addresses(implicit).join(", ")
        )),
        // Whether the domain's own name has an address is unknown if that lookup failed.
        Some(implicit) => match implicit.a.failure().or_else(|| implicit.aaaa.failure()) {
            Some(e) => Outcome::unknown(&format!("A/AAAA {}", implicit.name), e),
            None => Outcome::NotApplicable,
        },
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
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
            severity: None,
            message: format!("MX host {} {how}", host.name),
            subject: Some(host.name.clone()),
            fix: None,
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
