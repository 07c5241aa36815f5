//! BIMI rules: the assertion record and its DMARC prerequisites. BIMI is filed under
//! authentication: a logo is shown only for mail that passes DMARC at an enforcing policy.
//! The SVG and the evidence document are not fetched in this version.

use super::{Outcome, Rule, Violation};
use crate::checks::dmarc::Policy;
use crate::checks::policy_txt::PolicyTxtFacts;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Unknown when the lookup failed; not applicable when nothing is published (BIMI is
/// optional: its absence is no finding, and no pass either).
fn with(p: &PolicyTxtFacts, then: impl FnOnce() -> Outcome) -> Outcome {
    if let Some(e) = p.failure() {
        return Outcome::unknown(&p.name, e);
    }
    if p.records.is_empty() && p.dangling().is_none() {
        Outcome::NotApplicable
    } else {
        then()
    }
}

/// Not applicable without one record, unless the lookup that would have found it failed.
fn absent(p: &PolicyTxtFacts) -> Outcome {
    p.failure()
        .map_or(Outcome::NotApplicable, |e| Outcome::unknown(&p.name, e))
}

pub static BIMI_INVALID: Rule = Rule {
    code: "BIMI001",
    name: "bimi-record-invalid",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "The BIMI record cannot be read",
    explanation: "A v=BIMI1 record with a syntax error, without l=, or with an l= or a= that is \
        not a single https:// URI is ignored by mailbox providers: no logo is shown.",
    remediation: "Publish `default._bimi.<domain>. TXT \"v=BIMI1; l=https://<host>/logo.svg; \
        a=https://<host>/vmc.pem\"` (an empty l= and a= declines BIMI).",
    reference: "https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let p = &f.bimi.record;
        with(p, || {
            Outcome::of(
                p.records
                    .iter()
                    .filter_map(|r| r.parsed.as_ref().err().map(|e| (r, e)))
                    .map(|(r, e)| Violation::at(&p.name, format!("{:?}: {e}", r.text)))
                    .collect(),
            )
        })
    },
};

pub static BIMI_MULTIPLE: Rule = Rule {
    code: "BIMI002",
    name: "bimi-multiple-records",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "More than one BIMI record at the selector",
    explanation: "With more than one v=BIMI1 record at a selector, mailbox providers treat the \
        domain as having no BIMI record: no logo is shown.",
    remediation: "Keep exactly one v=BIMI1 record at the selector.",
    reference: "https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let p = &f.bimi.record;
        with(p, || {
            if p.records.len() > 1 {
                Outcome::Fail(vec![Violation::at(
                    &p.name,
                    format!("{} has {} v=BIMI1 records", p.name, p.records.len()),
                )])
            } else {
                Outcome::Pass
            }
        })
    },
};

pub static BIMI_DMARC_WEAK: Rule = Rule {
    code: "BIMI003",
    name: "bimi-dmarc-not-enforcing",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "BIMI is published, but DMARC does not meet its prerequisites",
    explanation: "Mailbox providers show a BIMI logo only when the domain's DMARC policy, on the \
        organisational domain too, is quarantine or reject, applies to all mail (pct absent or \
        100) and does not exempt subdomains (sp=none). Otherwise the BIMI record is ignored.",
    remediation: "Move DMARC to p=quarantine or p=reject with no pct= (or pct=100) and no \
        sp=none, on the organisational domain as well.",
    reference: "https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: bimi_dmarc_weak,
};

/// Whether a DMARC record meets BIMI's bar, or why not.
fn dmarc_problem(record: &crate::checks::dmarc::DmarcRecord, domain: &str) -> Option<String> {
    let p = record.policy().unwrap_or(Policy::None);
    if p == Policy::None {
        return Some(format!("the DMARC policy of {domain} is p=none"));
    }
    if let Some(pct) = record.tag("pct")
        && pct.trim() != "100"
    {
        return Some(format!("the DMARC record of {domain} has pct={pct}"));
    }
    if record
        .tag("sp")
        .and_then(Policy::parse)
        .is_some_and(|sp| sp == Policy::None)
    {
        return Some(format!("the DMARC record of {domain} has sp=none"));
    }
    None
}

fn bimi_dmarc_weak(f: &Facts) -> Outcome {
    let b = &f.bimi.record;
    if b.single().is_none() {
        return absent(b);
    }
    super::dmarc::with_dmarc(f, || {
        let Some(applicable) = super::dmarc::applicable(f) else {
            return Outcome::Fail(vec![Violation::at(
                &b.name,
                format!(
                    "{} publishes BIMI but no DMARC policy applies to it",
                    f.domain
                ),
            )]);
        };
        let mut problems = Vec::new();
        if applicable.effective() == Policy::None {
            problems.push(format!(
                "the DMARC policy that applies to {} is {}=none",
                f.domain,
                applicable.tag_name()
            ));
        } else if let Some(p) = dmarc_problem(applicable.record, applicable.domain) {
            problems.push(p);
        }
        let org = f.dmarc.discovery.org_domain.as_deref();
        if let Some(org) = org.filter(|o| *o != applicable.domain) {
            let records = if org == f.domain.as_str() {
                Some(&f.dmarc.records)
            } else {
                f.dmarc
                    .walk
                    .iter()
                    .find(|s| s.domain == org)
                    .map(|s| &s.records)
            };
            if let Some([record]) = records.map(Vec::as_slice)
                && let Some(p) = dmarc_problem(record, org)
            {
                problems.push(format!("{p} (the organisational domain)"));
            }
        }
        Outcome::of(
            problems
                .into_iter()
                .map(|p| Violation::at(&b.name, format!("{p}, so the BIMI record is ignored")))
                .collect(),
        )
    })
}

pub static BIMI_NO_EVIDENCE: Rule = Rule {
    code: "BIMI004",
    name: "bimi-no-evidence-document",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "BIMI without an evidence document (VMC or CMC)",
    explanation: "The record has no a= certificate. The largest mailbox providers (Gmail, Apple \
        Mail, Yahoo for many senders) show a logo only with a Verified Mark Certificate or a \
        Common Mark Certificate.",
    remediation: "Obtain a VMC or CMC from a mark verifying authority, serve its PEM over HTTPS \
        and add `a=https://<host>/vmc.pem` to the record.",
    reference: "https://bimigroup.org/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let Some(r) = f.bimi.record.single() else {
            return absent(&f.bimi.record);
        };
        let logo = r.tag("l").unwrap_or_default();
        if logo.is_empty() {
            // A declination record: nothing to show, nothing to prove.
            return Outcome::NotApplicable;
        }
        if r.tag("a").unwrap_or_default().is_empty() {
            Outcome::Fail(vec![Violation::at(
                &f.bimi.record.name,
                format!(
                    "{} names a logo but no evidence document (a=)",
                    f.bimi.record.name
                ),
            )])
        } else {
            Outcome::Pass
        }
    },
};

pub static BIMI_CNAME_DANGLING: Rule = Rule {
    code: "BIMI005",
    name: "bimi-cname-dangling",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "The BIMI record name is a CNAME to a name that does not exist",
    explanation: "The selector delegates to a name that does not exist: no BIMI record is found, \
        and whoever can claim the target can publish a logo for the domain.",
    remediation: "Point the CNAME at the provider's current name, or remove it and publish the \
        v=BIMI1 record directly.",
    reference: "https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let p = &f.bimi.record;
        with(p, || super::sts::dangling_cname(p))
    },
};
