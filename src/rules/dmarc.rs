//! DMARC presence and policy rules (RFC 7489).

use std::fmt::Write as _;

use super::{Outcome, Rule, Violation};
use crate::checks::dmarc::{Policy, claims_dmarc};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub static DMARC_MISSING: Rule = Rule {
    code: "DMARC001",
    name: "dmarc-missing",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "No DMARC record",
    explanation: "Without DMARC, receivers have no policy for mail that fails SPF and DKIM, so \
        anyone can send mail whose From: shows the domain, and the domain's owner gets no reports \
        of it. Gmail and Yahoo require DMARC of bulk senders.",
    remediation: "Publish a TXT record at `_dmarc.<domain>`, starting with monitoring: \
        `_dmarc.example.com. TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com\"`, \
        then move to p=quarantine and p=reject once the reports show only your own mail.",
    reference: "RFC 7489 §6.1",
    check: dmarc_missing,
};

fn dmarc_missing(f: &Facts) -> Outcome {
    Outcome::needs(&f.dmarc.lookup, &format!("TXT {}", f.dmarc.name), || {
        if !f.dmarc.records.is_empty() {
            return Outcome::Pass;
        }
        let mut message = format!("{} has no TXT record starting with v=DMARC1", f.dmarc.name);
        let misplaced = f
            .txt
            .records()
            .is_some_and(|t| t.iter().any(|t| claims_dmarc(&t.text())));
        if misplaced {
            let _ = write!(
                message,
                "; a DMARC record is published at {} itself, where receivers do not look",
                f.domain
            );
        }
        Outcome::fail(message)
    })
}

pub static DMARC_POLICY_NONE: Rule = Rule {
    code: "DMARC002",
    name: "dmarc-policy-none",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "DMARC policy is p=none: spoofed mail is still delivered",
    explanation: "p=none asks receivers only to report, not to act: mail that fails SPF and DKIM \
        alignment is delivered as usual, so the domain can still be spoofed. It is the right \
        first step while reading aggregate reports, not a place to stay.",
    remediation: "Once the aggregate (rua) reports show that all of your own mail passes, move \
        to `p=quarantine`, then `p=reject`.",
    reference: "RFC 7489 §6.3",
    check: dmarc_policy_none,
};

fn dmarc_policy_none(f: &Facts) -> Outcome {
    Outcome::needs(
        &f.dmarc.lookup,
        &format!("TXT {}", f.dmarc.name),
        || match f.dmarc.records.as_slice() {
            [record] if record.policy() == Some(Policy::None) => {
                Outcome::fail(format!("{} has p=none: \"{}\"", f.dmarc.name, record.text))
            }
            [record] if record.policy().is_some() => Outcome::Pass,
            _ => Outcome::NotApplicable,
        },
    )
}

pub static DMARC_MULTIPLE: Rule = Rule {
    code: "DMARC003",
    name: "dmarc-multiple-records",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "More than one DMARC record",
    explanation: "When `_dmarc.<domain>` holds more than one DMARC record, receivers must ignore \
        all of them: the domain behaves as if it published no DMARC at all.",
    remediation: "Keep exactly one TXT record starting with `v=DMARC1` at `_dmarc.<domain>`, \
        merging the tags you need into it.",
    reference: "RFC 7489 §6.6.3",
    check: dmarc_multiple,
};

fn dmarc_multiple(f: &Facts) -> Outcome {
    Outcome::needs(&f.dmarc.lookup, &format!("TXT {}", f.dmarc.name), || {
        if f.dmarc.records.len() > 1 {
            Outcome::fail(format!(
                "{} holds {} DMARC records, so receivers ignore them all",
                f.dmarc.name,
                f.dmarc.records.len()
            ))
        } else {
            Outcome::Pass
        }
    })
}

pub static DMARC_INVALID: Rule = Rule {
    code: "DMARC004",
    name: "dmarc-invalid",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "The DMARC record cannot be applied",
    explanation: "The record is meant as DMARC but breaks the syntax receivers require: the \
        version tag must come first and read exactly `v=DMARC1`, and `p=` must be none, \
        quarantine or reject. Receivers discard such a record, so the domain has no DMARC policy.",
    remediation: "Rewrite the record as `v=DMARC1; p=<none|quarantine|reject>; \
        rua=mailto:<address>`, with tags separated by semicolons.",
    reference: "RFC 7489 §6.4",
    check: dmarc_invalid,
};

fn dmarc_invalid(f: &Facts) -> Outcome {
    Outcome::needs(&f.dmarc.lookup, &format!("TXT {}", f.dmarc.name), || {
        let violations: Vec<Violation> = f
            .dmarc
            .records
            .iter()
            .filter_map(|r| {
                r.parsed.as_ref().err().map(|why| Violation {
                    message: format!("\"{}\": {why}", r.text),
                    subject: Some(f.dmarc.name.clone()),
                    fix: None,
                })
            })
            .collect();
        if violations.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(violations)
        }
    })
}
