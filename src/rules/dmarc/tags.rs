//! DMARC tags and reporting: obsolete, unknown and invalid tags, report addresses and their
//! authorisation, and the records next to the policy at `_dmarc`.

use super::{Outcome, Rule, Violation, with_dmarc, with_record};
use crate::checks::dmarc::{claims_dmarc, parse};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Pass, or a failure with one violation per message.
fn fail_if_any(messages: Vec<String>) -> Outcome {
    Outcome::of(
        messages
            .into_iter()
            .map(|message| Violation {
                severity: None,
                message,
                subject: None,
                fix: None,
            })
            .collect(),
    )
}

/// The tags of the domain's own record, when it has exactly one that parsed.
fn own_tags(f: &Facts) -> Option<&[parse::Tag]> {
    match f.dmarc.records.as_slice() {
        [one] => one.parsed.as_deref().ok(),
        _ => None,
    }
}

fn with_own(f: &Facts, then: impl FnOnce(&[parse::Tag]) -> Outcome) -> Outcome {
    with_dmarc(f, || own_tags(f).map_or(Outcome::NotApplicable, then))
}

pub static DMARC_OBSOLETE_TAG: Rule = Rule {
    code: "DMARC006",
    name: "dmarc-obsolete-tag",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "The DMARC record uses tags RFC 9989 removed",
    explanation: "`pct=`, `rf=`, `ri=` and the `!size` suffix of report addresses are RFC 7489 \
        features that RFC 9989 dropped: new receivers ignore them, old ones still apply them, so \
        the record means different things to each.",
    remediation: "Remove the obsolete tags (keep pct= only while you still rely on it with old \
        receivers, and see DMARC007).",
    reference: "RFC 9989 Appendix C",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_obsolete_tag,
};

fn dmarc_obsolete_tag(f: &Facts) -> Outcome {
    with_own(f, |tags| {
        let mut found: Vec<String> = tags
            .iter()
            .filter(|t| parse::OBSOLETE.contains(&t.name.as_str()))
            .map(|t| format!("{}={} is obsolete", t.name, t.value))
            .collect();
        for t in tags.iter().filter(|t| t.name == "rua" || t.name == "ruf") {
            for u in parse::uris(&t.value) {
                if let Some(size) = u.size {
                    found.push(format!("the !{size} size limit on {} is obsolete", u.uri));
                }
            }
        }
        fail_if_any(found)
    })
}

pub static DMARC_UNKNOWN_TAG: Rule = Rule {
    code: "DMARC008",
    name: "dmarc-unknown-tag",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "The DMARC record has tags receivers ignore",
    explanation: "Receivers skip tags DMARC does not define. That is harmless, but it is often a \
        typo (`rua` spelt `rue`, `adkim` spelt `dkim`) whose setting then silently has no effect.",
    remediation: "Correct or remove the unknown tags.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_unknown_tag,
};

fn dmarc_unknown_tag(f: &Facts) -> Outcome {
    with_own(f, |tags| {
        fail_if_any(
            tags.iter()
                .filter(|t| {
                    !parse::KNOWN.contains(&t.name.as_str())
                        && !parse::OBSOLETE.contains(&t.name.as_str())
                })
                .map(|t| format!("{}={} is not a DMARC tag and is ignored", t.name, t.value))
                .collect(),
        )
    })
}

pub static DMARC_TAG_VALUE: Rule = Rule {
    code: "DMARC009",
    name: "dmarc-invalid-tag-value",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DMARC tag has an invalid value",
    explanation: "A value outside what the tag allows (e.g. `sp=rejected`, `adkim=x`) is \
        ignored by some receivers and voids the whole record for others (RFC 7489 treats an \
        invalid sp= like an invalid p=), so the policy becomes unpredictable.",
    remediation: "Use the values RFC 9989 defines: p/sp/np none|quarantine|reject, adkim/aspf \
        r|s, t y|n, psd y|n|u, fo 0|1|d|s.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_tag_value,
};

fn dmarc_tag_value(f: &Facts) -> Outcome {
    with_own(f, |tags| {
        fail_if_any(
            tags.iter()
                .filter(|t| t.name != "rua" && t.name != "ruf")
                .filter_map(parse::value_problem)
                .collect(),
        )
    })
}

pub static DMARC_NO_RUA: Rule = Rule {
    code: "DMARC010",
    name: "dmarc-no-aggregate-reports",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "DMARC asks for no aggregate reports (no rua=)",
    explanation: "Aggregate reports are how a domain learns who sends mail in its name and \
        whether its own mail passes. Without `rua=` you cannot safely move from p=none to \
        p=reject, nor see spoofing attempts.",
    remediation: "Add `rua=mailto:` with an address (or a report-processing service) that \
        reads the reports.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_no_rua,
};

fn dmarc_no_rua(f: &Facts) -> Outcome {
    with_record(f, |a| {
        if a.inherited || a.record.tag("rua").is_some_and(|r| !r.is_empty()) {
            return Outcome::Pass;
        }
        let text = a.record.text.trim_end_matches([';', ' ']);
        Outcome::Fail(vec![Violation {
            severity: None,
            message: format!("{} has no rua= tag", f.dmarc.name),
            subject: None,
            fix: Some(format!(
                "{}. TXT \"{text}; rua=mailto:dmarc-reports@{}\"",
                f.dmarc.name, f.domain
            )),
        }])
    })
}

pub static DMARC_URI_INVALID: Rule = Rule {
    code: "DMARC011",
    name: "dmarc-report-uri-invalid",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DMARC report address is not valid",
    explanation: "Receivers send reports only to valid `mailto:` URIs; an address without the \
        scheme, a malformed mailbox or another scheme is skipped, and its reports are lost.",
    remediation: "Write each address as `mailto:local@domain`, separated by commas.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_uri_invalid,
};

fn dmarc_uri_invalid(f: &Facts) -> Outcome {
    with_record(f, |a| {
        let mut problems = Vec::new();
        for tag in ["rua", "ruf"] {
            for u in parse::uris(a.record.tag(tag).unwrap_or_default()) {
                if let Some(p) = u.problem {
                    problems.push(format!("{tag}: {p}"));
                }
            }
        }
        fail_if_any(problems)
    })
}

pub static DMARC_REPORT_UNAUTHORISED: Rule = Rule {
    code: "DMARC012",
    name: "dmarc-report-destination-unauthorised",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "An external DMARC report destination has not authorised the reports",
    explanation: "Before sending reports to a domain outside yours, receivers check that it \
        agrees to receive them, with a TXT record at `<your domain>._report._dmarc.<their \
        domain>`. Without it the reports are dropped.",
    remediation: "Ask the destination (or your report-processing provider) to publish the \
        record quoted in the finding, or use an address in your own domain.",
    reference: "RFC 9989 §4.8.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_report_unauthorised,
};

fn dmarc_report_unauthorised(f: &Facts) -> Outcome {
    with_record(f, |a| {
        let mut violations = Vec::new();
        for r in &f.dmarc.reports {
            let Some(auth) = &r.authorisation else {
                continue;
            };
            let name = format!("{}._report._dmarc.{}", a.domain, r.domain);
            match auth {
                Lookup::Failed(e) => {
                    return Outcome::Unknown(format!("the lookup of TXT {name} {e}"));
                }
                Lookup::Found { records, .. }
                    if records.iter().any(|t| claims_dmarc(&t.text())) => {}
                _ => violations.push(Violation {
                    severity: None,
                    message: format!(
                        "{} ({}) is outside the domain and {name} has no v=DMARC1 record",
                        r.uri, r.tag
                    ),
                    subject: Some(r.domain.clone()),
                    fix: Some(format!("{name}. TXT \"v=DMARC1\"")),
                }),
            }
        }
        if violations.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(violations)
        }
    })
}

pub static DMARC_REPORT_NO_MX: Rule = Rule {
    code: "DMARC013",
    name: "dmarc-report-domain-no-mx",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DMARC report address is in a domain without MX",
    explanation: "Reports are sent by mail; a destination domain with no MX record (or one that \
        does not exist) cannot receive them, so they bounce and are lost.",
    remediation: "Use a report address in a domain that receives mail.",
    reference: "RFC 9989 §4.8",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_report_no_mx,
};

fn dmarc_report_no_mx(f: &Facts) -> Outcome {
    with_record(f, |_| {
        let mut problems = Vec::new();
        for r in &f.dmarc.reports {
            match &r.mx {
                Lookup::Failed(e) => {
                    return Outcome::Unknown(format!("the lookup of MX {} {e}", r.domain));
                }
                Lookup::NxDomain => {
                    problems.push(format!("{}: {} does not exist", r.uri, r.domain));
                }
                Lookup::NoData => {
                    problems.push(format!("{}: {} has no MX record", r.uri, r.domain));
                }
                Lookup::Found { .. } => {}
            }
        }
        fail_if_any(problems)
    })
}

pub static DMARC_CNAME_DANGLING: Rule = Rule {
    code: "DMARC018",
    name: "dmarc-cname-dangling",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "_dmarc is a CNAME to a name that does not exist",
    explanation: "`_dmarc` delegates the DMARC record to another name (often a provider's), but \
        that name does not exist, so receivers find no DMARC policy. If the target domain is \
        unregistered, whoever registers it controls your DMARC policy and reports.",
    remediation: "Point the CNAME at the name your provider documents, or replace it with your \
        own TXT record.",
    reference: "RFC 9989 §4.10",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_cname_dangling,
};

fn dmarc_cname_dangling(f: &Facts) -> Outcome {
    if let Some(e) = f.dmarc.lookup.failure() {
        return Outcome::Unknown(format!("the lookup of TXT {} {e}", f.dmarc.name));
    }
    match &f.dmarc.cname {
        Some(Lookup::Found { records, .. }) if matches!(f.dmarc.lookup, Lookup::NxDomain) => {
            Outcome::fail(format!(
                "{} is a CNAME to {}, which does not exist",
                f.dmarc.name,
                records.join(", ")
            ))
        }
        Some(Lookup::Failed(e)) => {
            Outcome::Unknown(format!("the lookup of CNAME {} {e}", f.dmarc.name))
        }
        _ => Outcome::Pass,
    }
}

pub static DMARC_UNRELATED_TXT: Rule = Rule {
    code: "DMARC019",
    name: "dmarc-unrelated-txt",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "_dmarc holds TXT records that are not DMARC",
    explanation: "Receivers ignore TXT records at `_dmarc` that do not start with `v=DMARC1`. \
        They do no harm, but often are a DMARC record mistyped, or a verification token \
        published at the wrong name.",
    remediation: "Remove the records, or move them where they belong.",
    reference: "RFC 9989 §4.10",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_unrelated_txt,
};

fn dmarc_unrelated_txt(f: &Facts) -> Outcome {
    Outcome::needs(&f.dmarc.lookup, &format!("TXT {}", f.dmarc.name), || {
        let others: Vec<String> = f
            .dmarc
            .lookup
            .records()
            .into_iter()
            .flatten()
            .map(crate::dns::Txt::text)
            .filter(|t| !claims_dmarc(t))
            .map(|t| format!("\"{t}\" at {} is ignored", f.dmarc.name))
            .collect();
        fail_if_any(others)
    })
}
