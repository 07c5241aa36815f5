//! Reverse DNS rules: every MX address should have a PTR that resolves back to it and names
//! the host, not its access line. Receivers check this of the hosts that send to them, and MX
//! hosts usually send too (bounces, forwards).

use std::net::IpAddr;

use super::{Outcome, Rule, Violation};
use crate::checks::ptr::PtrFacts;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Not applicable without addresses; unknown, unless a violation was found, when a PTR lookup
/// of interest failed or some MX address could not be looked up.
fn each(f: &Facts, judge: impl Fn(&PtrFacts) -> Result<Option<String>, String>) -> Outcome {
    if f.ptr.is_empty() {
        return f
            .mx
            .address_failure()
            .map_or(Outcome::NotApplicable, Outcome::Unknown);
    }
    let mut out = Vec::new();
    let mut unknown = None;
    for p in &f.ptr {
        match judge(p) {
            Ok(Some(message)) => out.push(Violation::at(p.ip.to_string(), message)),
            Ok(None) => {}
            Err(why) => unknown = unknown.or(Some(why)),
        }
    }
    match (out.is_empty(), unknown.or_else(|| f.mx.address_failure())) {
        (true, Some(why)) => Outcome::Unknown(why),
        _ => Outcome::of(out),
    }
}

pub static PTR_MISSING: Rule = Rule {
    code: "PTR001",
    name: "ptr-missing",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "An MX address has no reverse DNS (PTR)",
    explanation: "The address has no PTR record. Many receivers reject or penalise mail from \
        addresses without reverse DNS, and an MX host usually sends mail too (bounces, \
        forwards, replies).",
    remediation: "Ask whoever runs the address block (your hosting provider or ISP) to publish a \
        PTR record naming the mail host, e.g. `mx1.example.com`, which in turn resolves to the \
        address.",
    reference: "RFC 1912 §2.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: ptr_missing,
};

fn ptr_missing(f: &Facts) -> Outcome {
    each(f, |p| match &p.lookup {
        l if l.is_absent() => Ok(Some(format!("{} has no PTR record ({})", p.ip, p.name))),
        l => match l.failure() {
            Some(e) => Err(format!("the lookup of PTR {} {e}", p.name)),
            None => Ok(None),
        },
    })
}

pub static PTR_NOT_CONFIRMED: Rule = Rule {
    code: "PTR002",
    name: "ptr-not-forward-confirmed",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "Reverse DNS does not resolve back to the address",
    explanation: "The PTR name of the address has no A/AAAA record pointing back to it, so the \
        reverse DNS is not forward-confirmed. Receivers that check (Gmail, Microsoft, most \
        spam filters) treat such a name as forged.",
    remediation: "Make the PTR name resolve to the address (`mx1.example.com. A 192.0.2.10`), \
        or change the PTR to a name that does.",
    reference: "RFC 8601 §2.7.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: ptr_not_confirmed,
};

fn ptr_not_confirmed(f: &Facts) -> Outcome {
    each(f, |p| {
        if p.names().is_empty() || p.confirmed() {
            return Ok(None);
        }
        if let Some((name, e)) = p
            .forward
            .iter()
            .find_map(|w| w.lookup.failure().map(|e| (&w.name, e)))
        {
            return Err(format!("the lookup of {name} {e}"));
        }
        Ok(Some(format!(
            "{} has PTR {}, which does not resolve back to it",
            p.ip,
            p.names().join(", ")
        )))
    })
}

pub static PTR_GENERIC: Rule = Rule {
    code: "PTR003",
    name: "ptr-generic",
    category: Category::Routing,
    severity: Severity::Info,
    title: "Reverse DNS looks generic (an access line, not a mail server)",
    explanation: "The PTR name embeds the address or words like dynamic, pool, dsl or dhcp, \
        the pattern of ISP-assigned names. Spam filters score such names as end-user machines \
        that should not send mail directly.",
    remediation: "Ask the provider of the address for a PTR naming the mail host itself, e.g. \
        `mx1.example.com`.",
    reference: "https://datatracker.ietf.org/doc/html/draft-msullivan-dnsop-generic-naming-schemes-00",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: ptr_generic,
};

/// Words of ISP-assigned names.
const GENERIC_WORDS: &[&str] = &[
    "dynamic",
    "dyn",
    "pool",
    "dsl",
    "adsl",
    "xdsl",
    "vdsl",
    "dhcp",
    "cable",
    "ppp",
    "pppoe",
    "dialup",
    "dial",
    "broadband",
    "customer",
    "cust",
    "client",
    "dyndns",
    "residential",
    "res",
    "user",
    "static",
];

/// Why a PTR name looks generic, if it does: it spells out the address, or has access words.
pub fn looks_generic(name: &str, ip: IpAddr) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let tokens: Vec<&str> = lower
        .split(['.', '-', '_'])
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(w) = tokens.iter().find(|t| {
        GENERIC_WORDS.contains(t)
            || GENERIC_WORDS.iter().any(|w| {
                w.len() >= 3 && t.starts_with(w) && t[w.len()..].bytes().all(|b| b.is_ascii_digit())
            })
    }) {
        return Some(format!("it contains {w:?}"));
    }
    let spelled = match ip {
        IpAddr::V4(v4) => {
            let octets = v4.octets().map(|o| o.to_string());
            let numeric = tokens
                .iter()
                .filter(|t| octets.contains(&(**t).to_owned()))
                .count();
            let hex = format!("{:08x}", u32::from(v4));
            numeric >= 3 || tokens.iter().any(|t| t.contains(&hex))
        }
        IpAddr::V6(v6) => {
            let hex = format!("{:032x}", u128::from(v6));
            tokens.iter().any(|t| t.len() >= 8 && hex.contains(*t))
        }
    };
    spelled.then(|| "it spells out the address".to_owned())
}

fn ptr_generic(f: &Facts) -> Outcome {
    each(f, |p| {
        Ok(p.names()
            .iter()
            .find_map(|n| looks_generic(n, p.ip).map(|why| format!("{} has PTR {n}: {why}", p.ip))))
    })
}

pub static PTR_SMTP_NAME: Rule = Rule {
    code: "PTR004",
    name: "smtp-name-differs-from-ptr",
    category: Category::Routing,
    severity: Severity::Info,
    title: "The SMTP greeting or EHLO name differs from the reverse DNS",
    explanation: "The server announces a name in its greeting and EHLO reply that is not the \
        PTR name of its address. Harmless for receiving, but receivers compare the two when \
        the host sends, and a mismatch costs spam-filter points.",
    remediation: "Configure the server's host name (e.g. Postfix `myhostname`) to its PTR name, \
        or change the PTR to the name it announces.",
    reference: "RFC 5321 §4.1.1.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: ptr_smtp_name,
};

fn ptr_smtp_name(f: &Facts) -> Outcome {
    if !f.smtp.enabled {
        return Outcome::NotRun("--no-smtp".into());
    }
    let mut out = Vec::new();
    let mut decided = false;
    for probe in &f.smtp.probes {
        let Some(ptr) = f.ptr.iter().find(|p| p.ip == probe.ip) else {
            continue;
        };
        let names = ptr.names();
        let announced = [probe.greeting.as_ref(), probe.ehlo.as_ref()]
            .into_iter()
            .flatten()
            .filter(|r| r.code == 220 || r.code == 250)
            .filter_map(|r| r.announced_name())
            .map(|n| n.trim_end_matches('.').to_ascii_lowercase());
        for name in announced {
            decided = true;
            if !names.is_empty() && !names.contains(&name) {
                let v = Violation::at(
                    probe.ip.to_string(),
                    format!(
                        "{} ({}) announces {name}, its PTR is {}",
                        probe.host,
                        probe.ip,
                        names.join(", ")
                    ),
                );
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    Outcome::of_judged(decided, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_names_are_recognised() {
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        assert!(looks_generic("192-0-2-10.pool.isp.example", ip).is_some());
        assert!(looks_generic("10.2.0.192.broadband.example", ip).is_some());
        assert!(looks_generic("c000020a.isp.example", ip).is_some());
        assert!(looks_generic("dsl-line.isp.example", ip).is_some());
        assert!(looks_generic("dyn123.isp.example", ip).is_some());
        assert!(looks_generic("mx1.example.com", ip).is_none());
        assert!(looks_generic("mail10.example.com", ip).is_none());
        assert!(looks_generic("hostmaster-relay.example.com", ip).is_none());
        let v6: IpAddr = "2001:db8::10".parse().unwrap();
        assert!(looks_generic("20010db800000000.example", v6).is_some());
        assert!(looks_generic("mx1.example.com", v6).is_none());
    }
}
