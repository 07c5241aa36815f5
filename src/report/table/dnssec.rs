//! The DNSSEC line of the records section: what the validator concluded, per answer role.

use super::evidence::Line;
use crate::checks::dnssec::{DnssecAnswer, DnssecFacts, Outcome, Role, Validator};
use crate::report::day;

/// `MX set secure (signed by example.com, until 2026-12-30)`, then the MX hosts and the
/// policy names, each with its verdict.
pub(super) fn lines(d: &DnssecFacts) -> Vec<Line> {
    match &d.validator {
        Validator::Disabled => vec![Line::Text("not checked (--no-dnssec)".into())],
        Validator::Unavailable { detail } => vec![Line::Unknown(format!(
            "cannot validate through this resolver: {detail}"
        ))],
        Validator::Validating { .. }
            if !d.answers.is_empty()
                && d.answers
                    .iter()
                    .all(|a| matches!(a.outcome, Outcome::Insecure)) =>
        {
            vec![Line::Text(
                "unsigned: the chain from the root proves no answer is signed".into(),
            )]
        }
        Validator::Validating { .. } => {
            let mut out = Vec::new();
            if let Some(a) = d.of(Role::Domain, None).next() {
                out.push(Line::Text(format!("MX set {}", verdict(a, true))));
            }
            let mut hosts: Vec<String> = Vec::new();
            for a in d.of(Role::MxHost, None) {
                let host = a.host.as_deref().unwrap_or(&a.name);
                // A host's A and AAAA answers almost always agree: show the worse one.
                let text = format!("{host} {}", verdict(a, false));
                match hosts
                    .iter_mut()
                    .find(|h| h.starts_with(&format!("{host} ")))
                {
                    Some(_) if a.outcome.is_secure() => {}
                    Some(h) => *h = text,
                    None => hosts.push(text),
                }
            }
            if !hosts.is_empty() {
                out.push(Line::Text(format!("MX hosts {}", hosts.join(" · "))));
            }
            let names: Vec<String> = [Role::Dmarc, Role::MtaSts]
                .into_iter()
                .filter_map(|r| d.of(r, None).next())
                .map(|a| format!("{} {}", a.name, verdict(a, false)))
                .collect();
            if !names.is_empty() {
                out.push(Line::Text(names.join(" · ")));
            }
            out
        }
    }
}

fn verdict(a: &DnssecAnswer, detail: bool) -> String {
    match &a.outcome {
        Outcome::Secure { signer, expires } if detail => {
            let by = signer.as_deref().map(|s| format!("signed by {s}"));
            let until = expires.map(|e| format!("until {}", day(e)));
            let parts: Vec<String> = by.into_iter().chain(until).collect();
            if parts.is_empty() {
                "secure".into()
            } else {
                format!("secure ({})", parts.join(", "))
            }
        }
        Outcome::Secure { .. } => "secure".into(),
        Outcome::Insecure => "unsigned".into(),
        Outcome::Bogus { reason, .. } => format!("bogus ({reason})"),
        Outcome::Indeterminate { .. } => "indeterminate".into(),
        Outcome::Failed(_) => "lookup failed".into(),
    }
}

/// `mx1.example.com 3 1 1 8f3a…c2d1 (secure)`: every MX host's TLSA records as published,
/// shortened, with the DNSSEC verdict on them; nothing when no host publishes any.
pub(super) fn tlsa_lines(f: &crate::facts::Facts) -> Vec<Line> {
    let mut out = Vec::new();
    for d in &f.dane {
        let verdict = f
            .dnssec
            .tlsa(&d.host)
            .map(|o| format!(" ({})", verdict_word(o)))
            .unwrap_or_default();
        if let Some(e) = d.lookup.failure() {
            out.push(Line::Unknown(format!(
                "{}: the TLSA lookup failed: {e}",
                d.name
            )));
            continue;
        }
        for t in d.lookup.records().into_iter().flatten() {
            let data = if t.data.len() > 16 {
                format!("{}…{}", &t.data[..8], &t.data[t.data.len() - 8..])
            } else {
                t.data.clone()
            };
            out.push(Line::Text(format!(
                "{} {} {} {} {data}{verdict}",
                d.host, t.usage, t.selector, t.matching
            )));
        }
    }
    out
}

fn verdict_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Secure { .. } => "secure",
        Outcome::Insecure => "unsigned: no effect",
        Outcome::Bogus { .. } => "bogus",
        Outcome::Indeterminate { .. } => "indeterminate",
        Outcome::Failed(_) => "validation failed",
    }
}
