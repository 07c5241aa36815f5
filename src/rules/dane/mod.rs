//! DANE for SMTP (RFC 7672): are the TLSA records of the MX hosts usable, do they count
//! (DNSSEC-secure), and do they match what the servers present?
//!
//! The record rules (DANE003, DANE004) judge the records themselves and need no DNSSEC. The
//! others apply only where DANE senders act on the records, which takes a secure TLSA answer
//! and secure host addresses (RFC 7672 §2.2); without validation they are `not-run`
//! (`--no-dnssec`) or `unknown` (a resolver that strips DNSSEC), never a guess.

mod probe;

use super::dnssec::validation_gate;
use super::{Outcome, Rule, Violation};

use crate::checks::dane::DaneFacts;
use crate::checks::dane::matching::{brief, usability, usable};
use crate::checks::dnssec::{Outcome as Dnssec, Role};
use crate::dns::Tlsa;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub use probe::{DANE_NO_MATCH, DANE_WITHOUT_STARTTLS};
pub(in crate::rules) use probe::{applies, names_and_dates_checked};

/// Whether DANE senders act on a host's TLSA records.
#[derive(Debug, PartialEq, Eq)]
enum Security {
    /// The TLSA answer and every address answer of the host validate.
    Secure,
    /// Proven unsigned: which answer.
    Insecure(&'static str),
    /// A DNSSEC failure: the DNSSEC rules report it; DANE senders do not deliver at all.
    Bogus,
    Unknown(String),
}

fn security(f: &Facts, host: &str) -> Security {
    let tlsa_name = format!("_25._tcp.{host}");
    match f.dnssec.tlsa(host) {
        None => return Security::Unknown(format!("no DNSSEC verdict on TLSA {tlsa_name}")),
        Some(Dnssec::Secure { .. }) => {}
        Some(Dnssec::Insecure) => return Security::Insecure("the TLSA answer"),
        Some(Dnssec::Bogus { .. }) => return Security::Bogus,
        Some(Dnssec::Indeterminate { detail }) => {
            return Security::Unknown(format!("the DNSSEC status of {tlsa_name}: {detail}"));
        }
        Some(Dnssec::Failed(e)) => {
            return Security::Unknown(format!("the DNSSEC lookup of TLSA {tlsa_name} {e}"));
        }
    }
    let mut any = false;
    for a in f.dnssec.of(Role::MxHost, Some(host)) {
        any = true;
        match &a.outcome {
            Dnssec::Secure { .. } => {}
            Dnssec::Insecure => return Security::Insecure("the address answers of the host"),
            Dnssec::Bogus { .. } => return Security::Bogus,
            Dnssec::Indeterminate { detail } => {
                return Security::Unknown(format!(
                    "the DNSSEC status of {} {}: {detail}",
                    a.rtype, a.name
                ));
            }
            Dnssec::Failed(e) => {
                return Security::Unknown(format!(
                    "the DNSSEC lookup of {} {} {e}",
                    a.rtype, a.name
                ));
            }
        }
    }
    if any {
        Security::Secure
    } else {
        Security::Unknown(format!("no DNSSEC verdict on the addresses of {host}"))
    }
}

/// `unknown` when a lookup failed that could hide TLSA records: the MX lookup, or a host's
/// TLSA lookup. A rule that found nothing says so rather than pass.
fn hidden(f: &Facts) -> Option<Outcome> {
    if let Some(e) = f.mx.lookup.failure() {
        return Some(Outcome::unknown(&format!("MX {}", f.domain), e));
    }
    f.dane.iter().find_map(|d| {
        d.lookup
            .failure()
            .map(|e| Outcome::unknown(&format!("TLSA {}", d.name), e))
    })
}

/// [`Outcome::of_judged`], unless nothing was found and a failed lookup may hide it.
fn finish(f: &Facts, judged: bool, out: Vec<Violation>) -> Outcome {
    match hidden(f) {
        Some(u) if out.is_empty() => u,
        _ => Outcome::of_judged(judged, out),
    }
}

/// The hosts that publish TLSA records, with them. `Err` when no host publishes any and a
/// TLSA lookup failed (DANE may be behind it), or no host publishes any.
fn published(f: &Facts) -> Result<Vec<(&DaneFacts, &[Tlsa])>, Outcome> {
    let hosts: Vec<(&DaneFacts, &[Tlsa])> = f
        .dane
        .iter()
        .filter_map(|d| {
            d.lookup
                .records()
                .filter(|r| !r.is_empty())
                .map(|r| (d, r.as_slice()))
        })
        .collect();
    if !hosts.is_empty() {
        return Ok(hosts);
    }
    Err(hidden(f).unwrap_or(Outcome::NotApplicable))
}

/// The hosts whose TLSA records DANE senders act on, or the outcome when there is none to
/// judge. `unknowns` collects why some hosts could not be told.
fn secure_hosts<'a>(
    f: &'a Facts,
    unknowns: &mut Vec<String>,
) -> Result<Vec<(&'a DaneFacts, &'a [Tlsa])>, Outcome> {
    let hosts = published(f)?;
    if let Some(o) = validation_gate(f) {
        return Err(o);
    }
    let mut out = Vec::new();
    for (d, records) in hosts {
        match security(f, &d.host) {
            Security::Secure => out.push((d, records)),
            Security::Unknown(why) => unknowns.push(why),
            Security::Insecure(_) | Security::Bogus => {}
        }
    }
    Ok(out)
}

pub static DANE_INSECURE: Rule = Rule {
    code: "DANE002",
    name: "tlsa-not-dnssec-secure",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "TLSA records are published, but not DNSSEC-secure: they have no effect",
    explanation: "DANE senders use TLSA records only when the TLSA answer and the MX host's \
        address answers validate with DNSSEC; an unsigned answer could be forged, so they \
        ignore it and fall back to opportunistic TLS, which an attacker on the path can strip. \
        The records give no protection as published.",
    remediation: "Sign the zones of the MX host and of its `_25._tcp` TLSA name with DNSSEC \
        and publish the DS records at their parents, or remove the TLSA records.",
    reference: "RFC 7672 §2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Preview,
    check: dane_insecure,
};

fn dane_insecure(f: &Facts) -> Outcome {
    let hosts = match published(f) {
        Ok(h) => h,
        Err(o) => return o,
    };
    if let Some(o) = validation_gate(f) {
        return o;
    }
    let mut out = Vec::new();
    let mut unknown = None;
    let mut judged = false;
    for (d, records) in hosts {
        match security(f, &d.host) {
            Security::Insecure(what) => {
                judged = true;
                out.push(Violation::at(
                    &d.name,
                    format!(
                        "{} has {} TLSA record(s), but {what} is not DNSSEC-signed \
                         (insecure): DANE senders ignore them",
                        d.name,
                        records.len()
                    ),
                ));
            }
            Security::Secure | Security::Bogus => judged = true,
            Security::Unknown(why) => unknown = unknown.or(Some(why)),
        }
    }
    match unknown {
        Some(why) if out.is_empty() => Outcome::Unknown(why),
        _ => finish(f, judged, out),
    }
}

pub static DANE_UNUSABLE_PARAMS: Rule = Rule {
    code: "DANE003",
    name: "tlsa-unusable-parameters",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "TLSA records with parameters SMTP senders do not use",
    explanation: "SMTP senders use only DANE-TA(2) and DANE-EE(3) records, with selector 0 or 1 \
        and matching type 0, 1 or 2, and skip every other record. PKIX-TA(0) and PKIX-EE(1) \
        need a list of trusted CAs that mail servers do not share. When every record is \
        unusable, DANE senders treat the host as having no usable TLSA: they still insist on \
        TLS, but authenticate nothing.",
    remediation: "Replace them with a DANE-EE record of the server's public key, \
        `_25._tcp.<mx host>. IN TLSA 3 1 1 <SHA-256 of the SubjectPublicKeyInfo>` (see DANE001's \
        fix for the exact record), or DANE-TA `2 1 1` of the issuing CA's key.",
    reference: "RFC 7672 §3.1.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Preview,
    check: dane_unusable_params,
};

fn dane_unusable_params(f: &Facts) -> Outcome {
    let hosts = match published(f) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let mut out = Vec::new();
    for (d, records) in hosts {
        let bad: Vec<String> = records
            .iter()
            .filter_map(|t| {
                usability(t)
                    .err()
                    .map(|why| format!("{} ({why})", brief(t)))
            })
            .collect();
        if bad.is_empty() {
            continue;
        }
        let all = if bad.len() == records.len() {
            ": no record is usable, so DANE senders treat the host as having no usable TLSA \
             (TLS still required, the server not authenticated)"
        } else {
            ""
        };
        out.push(Violation::at(
            &d.name,
            format!("{}: {}{all}", d.name, bad.join("; ")),
        ));
    }
    finish(f, true, out)
}

pub static DANE_NO_ROLLOVER: Rule = Rule {
    code: "DANE004",
    name: "tlsa-single-record",
    category: Category::Transport,
    severity: Severity::Info,
    title: "Only one usable TLSA record: no record ready for the next key",
    explanation: "With a single TLSA record, the moment the server's key (or certificate) \
        changes, nothing matches and DANE senders stop delivering until the new record has \
        been published and the old one has expired from caches. Publishing the next key's \
        record ahead of the change avoids the gap.",
    remediation: "Before rotating, publish a second record, `3 1 1` with the SHA-256 of the next \
        key's SubjectPublicKeyInfo, wait at least twice the TLSA TTL, switch the server to the \
        new key, then remove the old record. (Or pair the `3 1 1` with a `2 1 1` of the issuing \
        CA's key.)",
    reference: "RFC 7671 §8.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Preview,
    check: dane_no_rollover,
};

fn dane_no_rollover(f: &Facts) -> Outcome {
    let hosts = match published(f) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let mut out = Vec::new();
    let mut judged = false;
    for (d, records) in hosts {
        match usable(records).as_slice() {
            [] => {}
            [only] => {
                judged = true;
                out.push(Violation::at(
                    &d.name,
                    format!(
                        "{} has one usable TLSA record ({}): a key change breaks DANE \
                         delivery until the DNS catches up",
                        d.name,
                        brief(only)
                    ),
                ));
            }
            _ => judged = true,
        }
    }
    finish(f, judged, out)
}

pub static DANE_AND_STS: Rule = Rule {
    code: "DANE006",
    name: "dane-and-mta-sts",
    category: Category::Transport,
    severity: Severity::Info,
    title: "Both DANE and MTA-STS are published: DANE takes precedence",
    explanation: "Senders that support both apply DANE to MX hosts with secure TLSA records and \
        skip MTA-STS there. That is fine and common (MTA-STS covers the senders without DANE), \
        but the two must agree: a certificate that passes MTA-STS can still fail DANE, and \
        DANE senders act on the TLSA records alone.",
    remediation: "Nothing to change: keep the TLSA records matching the servers' keys and the \
        MTA-STS policy matching the MX hosts, and watch TLS-RPT reports for both.",
    reference: "RFC 8461 §2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Preview,
    check: dane_and_sts,
};

fn dane_and_sts(f: &Facts) -> Outcome {
    let mut unknowns = Vec::new();
    let hosts = match secure_hosts(f, &mut unknowns) {
        Ok(h) => h,
        Err(o) => return o,
    };
    if hosts.is_empty() {
        return unknowns
            .into_iter()
            .next()
            .map_or(Outcome::NotApplicable, Outcome::Unknown);
    }
    let record = &f.mta_sts.record;
    Outcome::needs(&record.lookup, &format!("TXT {}", record.name), || {
        if record.records.is_empty() {
            return hidden(f).unwrap_or(Outcome::Pass);
        }
        let names: Vec<&str> = hosts.iter().map(|(d, _)| d.host.as_str()).collect();
        Outcome::Fail(vec![Violation::at(
            &record.name,
            format!(
                "{} publishes an MTA-STS record, and DANE applies at {}: senders that do \
                 both use DANE there",
                f.domain,
                names.join(", ")
            ),
        )])
    })
}
