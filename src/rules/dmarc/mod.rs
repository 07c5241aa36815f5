//! DMARC rules (RFC 9989, RFC 7489): presence and the records at `_dmarc` here; the policy
//! that applies in `policy`; tags and reporting in `tags`.

pub(super) mod policy;
pub(super) mod tags;

use std::fmt::Write as _;

use super::{Outcome, Rule, Violation};
use crate::checks::dmarc::{DmarcRecord, Policy, claims_dmarc};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// The record that applies to the domain: its own, or one inherited through the tree walk.
pub(super) struct Applicable<'a> {
    pub record: &'a DmarcRecord,
    pub domain: &'a str,
    pub inherited: bool,
}

impl Applicable<'_> {
    /// The policy for the domain's own mail: `p` for its own record, `sp` (else `p`) when
    /// inherited; a missing `p` reads as `none` (RFC 9989 §4.7).
    pub fn effective(&self) -> Policy {
        let tag = if self.inherited {
            self.record.tag("sp").and_then(Policy::parse)
        } else {
            None
        };
        tag.or_else(|| self.record.policy()).unwrap_or(Policy::None)
    }

    /// `p=` or `sp=`, as the effective policy is named in messages.
    pub fn tag_name(&self) -> &'static str {
        if self.inherited && self.record.tag("sp").is_some() {
            "sp"
        } else {
            "p"
        }
    }
}

pub(super) fn applicable(f: &Facts) -> Option<Applicable<'_>> {
    let at = f.dmarc.discovery.policy_domain.as_deref()?;
    let records = if at == f.domain.as_str() {
        &f.dmarc.records
    } else {
        &f.dmarc.walk.iter().find(|s| s.domain == at)?.records
    };
    match records.as_slice() {
        [record] => Some(Applicable {
            record,
            domain: at,
            inherited: at != f.domain.as_str(),
        }),
        _ => None,
    }
}

/// Unknown when `_dmarc` or an ancestor's lookup failed: the policy cannot be known.
pub(super) fn with_dmarc(f: &Facts, then: impl FnOnce() -> Outcome) -> Outcome {
    Outcome::needs(
        &f.dmarc.lookup,
        &format!("TXT {}", f.dmarc.name),
        || match f
            .dmarc
            .walk
            .iter()
            .find_map(|s| s.lookup.failure().map(|e| (s, e)))
        {
            Some((s, e)) if applicable(f).is_none() => {
                Outcome::Unknown(format!("the lookup of TXT _dmarc.{} {e}", s.domain))
            }
            _ => then(),
        },
    )
}

/// With the applicable record, or not applicable without one.
pub(super) fn with_record(f: &Facts, then: impl FnOnce(&Applicable<'_>) -> Outcome) -> Outcome {
    with_dmarc(f, || {
        applicable(f).map_or(Outcome::NotApplicable, |a| then(&a))
    })
}

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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_missing,
};

fn dmarc_missing(f: &Facts) -> Outcome {
    with_dmarc(f, || {
        if !f.dmarc.records.is_empty() || applicable(f).is_some() {
            return Outcome::Pass;
        }
        let mut message = format!("{} has no TXT record starting with v=DMARC1", f.dmarc.name);
        if !f.dmarc.walk.is_empty() {
            let _ = write!(message, ", and no parent domain publishes one");
        }
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
        let rua = format!("dmarc-reports@{}", f.domain);
        Outcome::Fail(vec![Violation {
            severity: None,
            message,
            subject: None,
            fix: Some(format!(
                "{}. TXT \"v=DMARC1; p=none; rua=mailto:{rua}\"",
                f.dmarc.name
            )),
        }])
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_policy_none,
};

fn dmarc_policy_none(f: &Facts) -> Outcome {
    with_record(f, |a| {
        if a.effective() != Policy::None || a.record.policy().is_none() && !a.inherited {
            // A missing p= is DMARC005's finding.
            return Outcome::Pass;
        }
        let whose = if a.inherited {
            format!(" (inherited from _dmarc.{})", a.domain)
        } else {
            String::new()
        };
        let mut upgraded: Vec<String> = a
            .record
            .parsed
            .as_ref()
            .map(|tags| {
                tags.iter()
                    .map(|t| format!("{}={}", t.name, t.value))
                    .collect()
            })
            .unwrap_or_default();
        for t in &mut upgraded {
            if t.starts_with("p=") {
                *t = "p=quarantine".into();
            }
        }
        Outcome::Fail(vec![Violation {
            severity: None,
            message: format!(
                "{}={} applies to {}{whose}: \"{}\"",
                a.tag_name(),
                a.effective().as_str(),
                f.domain,
                a.record.text
            ),
            subject: None,
            fix: (!a.inherited)
                .then(|| format!("{}. TXT \"{}\"", f.dmarc.name, upgraded.join("; "))),
        }])
    })
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_multiple,
};

fn dmarc_multiple(f: &Facts) -> Outcome {
    Outcome::needs(&f.dmarc.lookup, &format!("TXT {}", f.dmarc.name), || {
        if f.dmarc.records.len() < 2 {
            return Outcome::Pass;
        }
        let rfc9989 = match &f.dmarc.discovery.policy_domain {
            Some(d) => format!("skip them and apply the record at _dmarc.{d}"),
            None => "skip them and find no other record".to_owned(),
        };
        Outcome::fail(format!(
            "{} holds {} DMARC records: RFC 7489 receivers apply no DMARC policy at all; RFC 9989 receivers {rfc9989}",
            f.dmarc.name,
            f.dmarc.records.len()
        ))
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
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
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
                    severity: None,
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
