//! MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) records: presence, syntax, duplicates, CNAMEs.

use super::{Outcome, Rule, Violation};
use crate::checks::policy_txt::PolicyTxtFacts;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Unknown when the lookup failed, otherwise `then`.
fn with(p: &PolicyTxtFacts, then: impl FnOnce() -> Outcome) -> Outcome {
    Outcome::needs(&p.lookup, &format!("TXT {}", p.name), then)
}

fn invalid(p: &PolicyTxtFacts) -> Outcome {
    with(p, || {
        Outcome::of(
            p.records
                .iter()
                .filter_map(|r| r.parsed.as_ref().err().map(|e| (r, e)))
                .map(|(r, e)| Violation::at(&p.name, format!("{:?}: {e}", r.text)))
                .collect(),
        )
    })
}

fn multiple(p: &PolicyTxtFacts) -> Outcome {
    with(p, || {
        if p.records.len() > 1 {
            Outcome::Fail(vec![Violation::at(
                &p.name,
                format!(
                    "{} has {} records starting with the version tag",
                    p.name,
                    p.records.len()
                ),
            )])
        } else {
            Outcome::Pass
        }
    })
}

fn dangling(p: &PolicyTxtFacts) -> Outcome {
    with(p, || dangling_cname(p))
}

/// A CNAME at the record's name whose target does not exist (shared with BIMI).
pub(super) fn dangling_cname(p: &PolicyTxtFacts) -> Outcome {
    if let Some(e) = p.failure() {
        return Outcome::unknown(&p.name, e);
    }
    match p.dangling() {
        Some(t) => Outcome::Fail(vec![Violation::at(
            &p.name,
            format!(
                "{} is a CNAME to {t}, which does not exist (NXDOMAIN)",
                p.name
            ),
        )]),
        None => Outcome::Pass,
    }
}

pub static STS_MISSING: Rule = Rule {
    code: "STS001",
    name: "mta-sts-missing",
    category: Category::Transport,
    severity: Severity::Info,
    title: "No MTA-STS policy",
    explanation: "Without MTA-STS (or DANE), senders deliver to the domain's MX hosts over \
        opportunistic TLS: an attacker on the path can strip STARTTLS or present any \
        certificate, and the mail goes out in clear or to the wrong host. MTA-STS lets the \
        domain tell senders to insist on TLS with a valid certificate.",
    remediation: "Serve a policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (start \
        with `mode: testing`), publish `_mta-sts.<domain>. TXT \"v=STSv1; id=<yyyymmddhhmmss>\"` \
        and a TLS-RPT record to receive failure reports; move to `mode: enforce` once the \
        reports are clean.",
    reference: "RFC 8461 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let p = &f.mta_sts.record;
        // A domain that publishes a null MX (RFC 7505) receives no mail: nothing to protect.
        let records = f.mx.records();
        if p.records.is_empty()
            && !records.is_empty()
            && records.iter().all(crate::checks::mx::is_null)
        {
            return Outcome::NotApplicable;
        }
        if let (true, Some(e)) = (p.records.is_empty(), f.mx.lookup.failure()) {
            return Outcome::unknown(&format!("MX {}", f.domain), e);
        }
        // A failed CNAME follow-up leaves open whether the name is a (dangling) delegation.
        if let Some(e) = p.failure() {
            return Outcome::unknown(&format!("TXT {}", p.name), e);
        }
        with(p, || {
            if p.records.is_empty() && p.dangling().is_none() {
                Outcome::Fail(vec![Violation::at(
                    &p.name,
                    format!("{} has no v=STSv1 record", p.name),
                )])
            } else {
                Outcome::Pass
            }
        })
    },
};

pub static STS_INVALID: Rule = Rule {
    code: "STS002",
    name: "mta-sts-record-invalid",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS record cannot be read",
    explanation: "A v=STSv1 record with a syntax error or without a valid id (1 to 32 letters \
        and digits) makes senders assume the domain has no MTA-STS policy available, so the \
        policy is not applied.",
    remediation: "Publish `_mta-sts.<domain>. TXT \"v=STSv1; id=<yyyymmddhhmmss>\"`. The id \
        must change whenever the policy file changes, or senders keep the cached policy.",
    reference: "RFC 8461 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| invalid(&f.mta_sts.record),
};

pub static STS_MULTIPLE: Rule = Rule {
    code: "STS003",
    name: "mta-sts-multiple-records",
    category: Category::Transport,
    severity: Severity::Error,
    title: "More than one MTA-STS record",
    explanation: "When more than one TXT record at `_mta-sts` starts with v=STSv1, senders must \
        assume the domain has no MTA-STS policy available.",
    remediation: "Keep exactly one v=STSv1 record, with the current id.",
    reference: "RFC 8461 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| multiple(&f.mta_sts.record),
};

pub static STS_CNAME_DANGLING: Rule = Rule {
    code: "STS004",
    name: "mta-sts-cname-dangling",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS record name is a CNAME to a name that does not exist",
    explanation: "`_mta-sts` delegates to another name (usually a hosting provider's) that does \
        not exist: the policy is not found, and whoever can claim the target can publish an \
        MTA-STS record for the domain.",
    remediation: "Point the CNAME at the provider's current name, or remove it and publish the \
        v=STSv1 record directly.",
    reference: "RFC 8461 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| dangling(&f.mta_sts.record),
};

pub static RPT_INVALID: Rule = Rule {
    code: "RPT001",
    name: "tls-rpt-record-invalid",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The TLS-RPT record cannot be read",
    explanation: "A v=TLSRPTv1 record with a syntax error, without rua=, or with a report URI \
        that is neither mailto: nor https: is ignored by senders, so no TLS failure reports \
        arrive.",
    remediation: "Publish `_smtp._tls.<domain>. TXT \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\"`.",
    reference: "RFC 8460 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| invalid(&f.tls_rpt),
};

pub static RPT_MULTIPLE: Rule = Rule {
    code: "RPT002",
    name: "tls-rpt-multiple-records",
    category: Category::Transport,
    severity: Severity::Error,
    title: "More than one TLS-RPT record",
    explanation: "When more than one TXT record at `_smtp._tls` starts with v=TLSRPTv1, senders \
        must assume the domain does not implement TLS-RPT, and send no reports.",
    remediation: "Merge the report addresses into one record: `v=TLSRPTv1; rua=mailto:a@…,mailto:b@…`.",
    reference: "RFC 8460 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| multiple(&f.tls_rpt),
};

pub static RPT_MISSING: Rule = Rule {
    code: "RPT003",
    name: "tls-rpt-missing",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "MTA-STS or DANE is published without TLS-RPT",
    explanation: "With MTA-STS or DANE, senders that cannot deliver over valid TLS refuse \
        (enforce, DANE) or carry on (testing), and nobody at the domain hears of it unless it \
        publishes a TLS-RPT record to receive their daily reports. In MTA-STS testing mode the \
        reports are the whole point: without them the test shows nothing.",
    remediation: "Publish `_smtp._tls.<domain>. TXT \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\"`.",
    reference: "RFC 8460 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: rpt_missing,
};

fn rpt_missing(f: &Facts) -> Outcome {
    let record = &f.mta_sts.record;
    let sts = !record.records.is_empty();
    let dane: Vec<&str> = f
        .dane
        .iter()
        .filter(|d| d.lookup.records().is_some())
        .map(|d| d.name.as_str())
        .collect();
    if !sts && dane.is_empty() {
        // DANE may be there behind a failed MX or TLSA lookup: could not tell.
        if f.mx.lookup.failure().is_some() {
            return Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || {
                Outcome::NotApplicable
            });
        }
        if let Some(d) = f.dane.iter().find(|d| d.lookup.failure().is_some()) {
            return Outcome::needs(&d.lookup, &format!("TLSA {}", d.name), || {
                Outcome::NotApplicable
            });
        }
        return Outcome::needs(&record.lookup, &format!("TXT {}", record.name), || {
            Outcome::NotApplicable
        });
    }
    let testing = f
        .mta_sts
        .policy
        .as_ref()
        .and_then(|p| p.valid())
        .is_some_and(|p| p.mode.as_deref() == Some("testing"));
    let what = match (sts, dane.first()) {
        (true, _) if testing => "MTA-STS in testing mode (whose failures only reports show)".into(),
        (true, _) => "MTA-STS".to_owned(),
        (false, Some(name)) => format!("DANE TLSA records ({name})"),
        (false, None) => String::new(),
    };
    with(&f.tls_rpt, || {
        if f.tls_rpt.records.is_empty() {
            Outcome::Fail(vec![Violation {
                severity: None,
                message: format!(
                    "{} publishes {what}, but {} has no v=TLSRPTv1 record",
                    f.domain, f.tls_rpt.name
                ),
                subject: Some(f.tls_rpt.name.clone()),
                fix: Some(format!(
                    "{}. TXT \"v=TLSRPTv1; rua=mailto:tls-reports@{}\"",
                    f.tls_rpt.name, f.domain
                )),
            }])
        } else {
            Outcome::Pass
        }
    })
}

pub static RPT_CNAME_DANGLING: Rule = Rule {
    code: "RPT004",
    name: "tls-rpt-cname-dangling",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The TLS-RPT record name is a CNAME to a name that does not exist",
    explanation: "`_smtp._tls` delegates to a name that does not exist, so senders find no \
        TLS-RPT record; whoever can claim the target can direct the domain's TLS reports.",
    remediation: "Point the CNAME at the reporting provider's current name, or remove it and \
        publish the v=TLSRPTv1 record directly.",
    reference: "RFC 8460 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| dangling(&f.tls_rpt),
};
