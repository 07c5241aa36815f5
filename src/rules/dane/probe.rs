//! The DANE rules over the SMTP probe: does the presented chain match the TLSA records, and is
//! TLS there at all, at every address of an MX host whose TLSA records DANE senders act on.

use super::{Outcome, Rule, Violation, finish, secure_hosts};
use crate::checks::dane::matching::{
    ChainMatch, brief, dane_ee_record, match_chain, matches_cert, usable,
};
use crate::checks::smtp::{ErrorKind, Probe, Stage};
use crate::dns::Tlsa;
use crate::facts::Facts;
use crate::finding::{Category, Severity};
use crate::rules::tls::{cert_facts, ehlo_ok, offers_starttls, subject, unreachable_reason};

/// Runs `judge` on every probe of a host whose TLSA records DANE senders act on; `judge`
/// returns `None` when the probe did not get far enough to be judged.
fn per_dane_probe(
    f: &Facts,
    judge: impl Fn(&Probe, &[Tlsa]) -> Option<Option<Violation>>,
) -> Outcome {
    let mut unknowns = Vec::new();
    let hosts = match secure_hosts(f, &mut unknowns) {
        Ok(h) => h,
        Err(o) => return o,
    };
    if !f.smtp.enabled {
        return Outcome::NotRun("--no-smtp".into());
    }
    let mut judged = false;
    let mut out = Vec::new();
    let mut probes = Vec::new();
    for (d, records) in &hosts {
        for p in f.smtp.probes.iter().filter(|p| p.host == d.host) {
            probes.push(p.clone());
            if let Some(v) = judge(p, records) {
                judged = true;
                out.extend(v);
            }
        }
    }
    if !out.is_empty() || judged {
        return finish(f, true, out);
    }
    if let Some(why) = unknowns.into_iter().next() {
        return Outcome::Unknown(why);
    }
    if hosts.is_empty() || probes.is_empty() {
        Outcome::NotApplicable
    } else {
        Outcome::Unreachable(unreachable_reason(&probes))
    }
}

fn now_of(p: &Probe) -> i64 {
    i64::try_from(p.started).unwrap_or(i64::MAX)
}

pub static DANE_NO_MATCH: Rule = Rule {
    code: "DANE001",
    name: "tlsa-does-not-match",
    category: Category::Transport,
    severity: Severity::Error,
    title: "No TLSA record matches the certificate the MX host presents",
    explanation: "The MX host has DNSSEC-secure TLSA records, so DANE-validating senders (Postfix \
        and Exim with DANE on, many large providers) authenticate it with them and nothing \
        else. None matches the presented chain, so they will not deliver: mail queues, then \
        bounces. Usually the certificate or key was renewed without updating the TLSA records.",
    remediation: "Publish the record of the key the server presents (the fix shows it), wait for \
        the old TLSA answer to expire from caches, then remove stale records. To renew without \
        an outage, keep the key across renewals (e.g. certbot `--reuse-key`), or publish the \
        next key's record before switching.",
    reference: "RFC 7672 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Preview,
    check: dane_no_match,
};

fn dane_no_match(f: &Facts) -> Outcome {
    per_dane_probe(f, |p, records| {
        let usable = usable(records);
        if usable.is_empty() {
            // DANE003 says so; no record to match.
            return Some(None);
        }
        let chain = &cert_facts(p)?.chain;
        let m = match_chain(records, chain, &[p.host.as_str()], now_of(p));
        let ChainMatch::NoMatch { reasons } = m else {
            return Some(None);
        };
        let listed: Vec<String> = usable.iter().map(|t| brief(t)).collect();
        let mut message = format!(
            "{} ({}): no usable TLSA record of _25._tcp.{} ({}) matches the chain presented; \
             DANE-validating senders will not deliver",
            p.host,
            p.ip,
            p.host,
            listed.join(", ")
        );
        for r in &reasons {
            message.push_str("; ");
            message.push_str(r);
        }
        let only_ta = usable.iter().all(|t| t.usage == 2);
        if reasons.is_empty() && only_ta && chain.iter().all(|c| !c.is_ca) {
            message.push_str(
                "; the server sends no CA certificate, and a DANE-TA record needs its trust \
                 anchor in the chain",
            );
        }
        let leaf = &chain[0];
        Some(Some(Violation {
            severity: None,
            message,
            subject: Some(subject(p)),
            fix: (!leaf.spki_sha256.is_empty())
                .then(|| format!("_25._tcp.{}. IN TLSA {}", p.host, dane_ee_record(leaf))),
        }))
    })
}

pub static DANE_WITHOUT_STARTTLS: Rule = Rule {
    code: "DANE005",
    name: "dane-starttls-failing",
    category: Category::Transport,
    severity: Severity::Error,
    title: "TLSA records are published, but STARTTLS is missing or failing",
    explanation: "Secure TLSA records tell DANE senders that the MX host always offers TLS, so \
        they never fall back to clear text: where STARTTLS is not offered, or its handshake \
        fails, they do not deliver. That holds even when no TLSA record is usable.",
    remediation: "Enable STARTTLS on that address with a working certificate and key (the \
        server presenting the key the TLSA records name), or remove the TLSA records until it \
        works.",
    reference: "RFC 7672 §2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Preview,
    check: dane_without_starttls,
};

fn dane_without_starttls(f: &Facts) -> Outcome {
    per_dane_probe(f, |p, _| {
        if !ehlo_ok(p) {
            return None;
        }
        let problem = if !offers_starttls(p) {
            Some("the EHLO reply does not list STARTTLS".to_owned())
        } else if let Some(r) = p.starttls.as_ref().filter(|r| r.code != 220) {
            Some(format!(
                "STARTTLS is refused: {} {}",
                r.code,
                r.lines.join(" / ")
            ))
        } else if let Some(e) = p.error.as_ref().filter(|e| {
            matches!(e.stage, Stage::Starttls | Stage::Handshake) || e.kind == ErrorKind::Injection
        }) {
            Some(format!("STARTTLS fails: {}", e.detail))
        } else if p.starttls.is_none() {
            // Offered, but the probe stopped before asking: not judged.
            return None;
        } else {
            None
        };
        Some(problem.map(|m| {
            Violation::at(
                subject(p),
                format!(
                    "{} ({}): {m}, and _25._tcp.{} has secure TLSA records: DANE senders will \
                     not deliver in clear text",
                    p.host, p.ip, p.host
                ),
            )
        }))
    })
}

/// Whether DANE applies at this probe's host: it has secure, usable TLSA records.
pub(in crate::rules) fn applies(f: &Facts, p: &Probe) -> bool {
    let mut unknowns = Vec::new();
    let Ok(hosts) = secure_hosts(f, &mut unknowns) else {
        return false;
    };
    hosts
        .iter()
        .any(|(d, records)| d.host == p.host && !usable(records).is_empty())
}

/// Whether DANE senders check the certificate's name and dates at this probe: its host has
/// secure, usable TLSA records, a DANE-TA record among them, and no DANE-EE record matches
/// the leaf (DANE-EE skips both checks, RFC 7672 §3.1.1).
pub(in crate::rules) fn names_and_dates_checked(f: &Facts, p: &Probe) -> bool {
    let mut unknowns = Vec::new();
    let Ok(hosts) = secure_hosts(f, &mut unknowns) else {
        return false;
    };
    let Some((_, records)) = hosts.iter().find(|(d, _)| d.host == p.host) else {
        return false;
    };
    let Some(leaf) = cert_facts(p).map(|t| &t.chain[0]) else {
        return false;
    };
    let usable = usable(records);
    usable.iter().any(|t| t.usage == 2)
        && !usable.iter().any(|t| t.usage == 3 && matches_cert(t, leaf))
}
