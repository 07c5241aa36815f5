//! SPF rules about the records as published: the default result, the answer size, string
//! joins, near-misses, the retired type 99, `exp=`, and the HELO identity of MX hosts.

use super::{Outcome, Rule, Violation, with_tree};
use crate::checks::spf::parse::{self, Mechanism, Qualifier};
use crate::checks::spf::{self, tree::NodeState};
use crate::dns::{FailureKind, Lookup, Txt};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// The qualifier of the root record's `all`, and whether it has a `redirect=`.
fn ending(f: &Facts) -> Option<(Option<Qualifier>, bool)> {
    let NodeState::Record { text } = &f.spf.tree.state else {
        return None;
    };
    let record = parse::parse(text.as_bytes()).ok()?;
    let all = record
        .directives()
        .find_map(|(_, q, m)| matches!(m, Mechanism::All).then_some(q));
    Some((all, record.redirect().is_some()))
}

pub static SPF_NEUTRAL_DEFAULT: Rule = Rule {
    code: "SPF010",
    name: "spf-neutral-default",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "SPF says nothing about servers it does not list",
    explanation: "The record ends in `?all`, or in no `all` and no `redirect=`, so mail from any \
        server not listed gets \"neutral\": receivers treat it like having no SPF at all, and \
        spoofed mail is not marked.",
    remediation: "End the record with `-all` (or `~all` while you confirm the list is \
        complete).",
    reference: "RFC 7208 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_neutral_default,
};

fn spf_neutral_default(f: &Facts) -> Outcome {
    with_tree(f, |_| match ending(f) {
        Some((Some(Qualifier::Neutral), _)) => {
            Outcome::fail(format!("{}'s SPF record ends in ?all", f.domain))
        }
        Some((None, false)) => Outcome::fail(format!(
            "{}'s SPF record has no all and no redirect=",
            f.domain
        )),
        Some(_) => Outcome::Pass,
        None => Outcome::NotApplicable,
    })
}

pub static SPF_SOFTFAIL_ALL: Rule = Rule {
    code: "SPF011",
    name: "spf-softfail-all",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "SPF ends in ~all (softfail)",
    explanation: "`~all` asks receivers to accept but mark mail from unlisted servers. With a \
        DMARC policy of quarantine or reject this is enough, since DMARC acts on the failure; \
        without one, `-all` is the clearer statement.",
    remediation: "Once the record lists every sender, consider `-all`.",
    reference: "RFC 7208 §8.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_softfail_all,
};

fn spf_softfail_all(f: &Facts) -> Outcome {
    with_tree(f, |_| match ending(f) {
        Some((Some(Qualifier::SoftFail), _)) => {
            Outcome::fail(format!("{}'s SPF record ends in ~all", f.domain))
        }
        Some(_) => Outcome::Pass,
        None => Outcome::NotApplicable,
    })
}

/// The size of a DNS response carrying these TXT records for `name`, without EDNS: header,
/// question, and each answer with a compressed owner name (RFC 1035 §4).
fn answer_size(name: &str, txts: &[Txt]) -> usize {
    let qname = name.len() + 2;
    12 + qname
        + 4
        + txts
            .iter()
            .map(|t| 2 + 10 + t.strings.iter().map(|s| s.len() + 1).sum::<usize>())
            .sum::<usize>()
}

pub static SPF_ANSWER_TOO_LARGE: Rule = Rule {
    code: "SPF014",
    name: "spf-answer-too-large",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "The TXT answer at the domain exceeds 512 octets",
    explanation: "Receivers fetch all TXT records at the name to find the SPF one. An answer over \
        512 octets does not fit a classic UDP response, so it is truncated and must be retried \
        over TCP; resolvers or firewalls that block DNS over TCP then see a temporary error \
        (temperror), and mail is deferred or fails SPF.",
    remediation: "Remove TXT records at the domain that are no longer needed (old verification \
        tokens), or move long ones to a subdomain; shorten the SPF record with includes.",
    reference: "RFC 7208 §3.4",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_answer_too_large,
};

fn spf_answer_too_large(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        let size = answer_size(f.domain.as_str(), txts);
        if size > 512 && !spf::records(txts).is_empty() {
            Outcome::fail(format!(
                "the {} TXT records at {} make a {size}-octet answer",
                txts.len(),
                f.domain
            ))
        } else {
            Outcome::Pass
        }
    })
}

pub static SPF_GLUED_STRINGS: Rule = Rule {
    code: "SPF015",
    name: "spf-glued-strings",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "SPF strings join into one broken term",
    explanation: "A TXT record longer than 255 characters is published as several strings, \
        which receivers join with nothing in between. When one string ends with a term and the \
        next begins with another, the join glues them into one term that is not valid, and the \
        record fails with permerror.",
    remediation: "End each string with a space (or start the next with one) where a term ends, \
        e.g. \"v=spf1 ip4:192.0.2.1 \" \"include:_spf.example.net -all\".",
    reference: "RFC 7208 §3.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_glued_strings,
};

fn spf_glued_strings(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        let mut violations = Vec::new();
        for txt in spf::records(txts) {
            for pair in txt.strings.windows(2) {
                let (left, right) = (pair[0].lossy(), pair[1].lossy());
                let tail = left.rsplit(' ').next().unwrap_or_default();
                let head = right.split(' ').next().unwrap_or_default();
                if parse::is_valid_term(tail)
                    && parse::is_valid_term(head)
                    && !tail.eq_ignore_ascii_case("v=spf1")
                {
                    violations.push(Violation {
                        severity: None,
                        message: format!(
                            "\"{tail}\" and \"{head}\" are joined into \"{tail}{head}\""
                        ),
                        subject: Some(f.domain.to_string()),
                        fix: None,
                    });
                }
            }
        }
        if violations.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(violations)
        }
    })
}

pub static SPF_EXP_MISSING: Rule = Rule {
    code: "SPF016",
    name: "spf-exp-target-missing",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "The SPF exp= explanation cannot be fetched",
    explanation: "`exp=` names a domain whose single TXT record explains a rejection to the \
        sender. When it does not exist or holds no single TXT record, receivers fall back to \
        their default text, and the record spends a lookup on nothing.",
    remediation: "Publish one TXT record at the exp= target, or remove the exp= modifier.",
    reference: "RFC 7208 §6.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_exp_missing,
};

fn spf_exp_missing(f: &Facts) -> Outcome {
    let Some(exp) = &f.spf.exp else {
        return Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
            Outcome::NotApplicable
        });
    };
    Outcome::needs(&exp.txt, &format!("TXT {}", exp.name), || {
        match exp.txt.records().map(Vec::len) {
            Some(1) => Outcome::Pass,
            Some(n) => Outcome::fail(format!(
                "exp={} holds {n} TXT records; exactly one is needed",
                exp.name
            )),
            None => Outcome::fail(format!("exp={} has no TXT record", exp.name)),
        }
    })
}

pub static SPF_NEAR_MISS: Rule = Rule {
    code: "SPF017",
    name: "spf-near-miss",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A TXT record looks like SPF but is not read as SPF",
    explanation: "Receivers only read TXT records that start exactly with `v=spf1` followed by a \
        space. A leading space, `v=spf1` glued to the next term, another version, or a Sender ID \
        `spf2.0/` record is silently ignored, so the policy it was meant to publish does not \
        exist.",
    remediation: "Rewrite the record to start with `v=spf1 ` (lower or upper case, then a \
        space), and delete Sender ID (`spf2.0/`) records, which no receiver uses.",
    reference: "RFC 7208 §4.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_near_miss,
};

fn spf_near_miss(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        let violations: Vec<Violation> = txts
            .iter()
            .filter(|t| !spf::is_spf(t))
            .filter_map(|t| {
                let text = t.text();
                let lower = text.to_ascii_lowercase();
                let trimmed = lower.trim_start();
                let why = if trimmed.starts_with("v=spf1") && trimmed.len() != lower.len() {
                    "starts with whitespace"
                } else if lower.starts_with("v=spf1") {
                    "has no space after v=spf1"
                } else if lower.starts_with("spf2.0/") {
                    "is a Sender ID record, which receivers ignore"
                } else if lower.starts_with("v=spf") || lower.replace(' ', "").starts_with("v=spf1")
                {
                    "has a malformed version tag"
                } else {
                    return None;
                };
                Some(Violation {
                    severity: None,
                    message: format!("\"{text}\" {why}"),
                    subject: Some(f.domain.to_string()),
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

pub static SPF_TYPE99: Rule = Rule {
    code: "SPF018",
    name: "spf-type-99-record",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "An obsolete SPF-type (99) record is published",
    explanation: "RFC 7208 retired the SPF DNS record type; receivers read only TXT. A type-99 \
        record does no harm, but it is one more copy to keep in step with the TXT record, and \
        when they differ, old tools disagree with receivers.",
    remediation: "Delete the SPF-type record and keep the TXT one.",
    reference: "RFC 7208 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_type99,
};

fn spf_type99(f: &Facts) -> Outcome {
    match &f.spf.type99 {
        Lookup::Found { records, .. } => Outcome::fail(format!(
            "{} publishes {} record(s) of type 99",
            f.domain,
            records.len()
        )),
        // A resolver refusing a type it does not serve says nothing about the domain; one
        // that failed (SERVFAIL, timeout) could not tell.
        Lookup::Failed(e) if matches!(e.kind, FailureKind::Servfail | FailureKind::Timeout) => {
            Outcome::unknown(&format!("type 99 {}", f.domain), e)
        }
        _ => Outcome::Pass,
    }
}

pub static SPF_HELO_MISSING: Rule = Rule {
    code: "SPF020",
    name: "spf-helo-missing",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "An MX host name has no SPF record for its HELO identity",
    explanation: "When a mail host sends (bounces, forwards), receivers may check SPF for the \
        name it gives in HELO/EHLO, usually its host name. Without a record there, those checks \
        return none; a record authorising the host itself makes bounces more deliverable.",
    remediation: "Publish `v=spf1 a -all` at each mail host name that also sends.",
    reference: "RFC 7208 §2.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_helo_missing,
};

fn spf_helo_missing(f: &Facts) -> Outcome {
    if f.spf.helo.is_empty() {
        return f
            .mx
            .address_failure()
            .map_or(Outcome::NotApplicable, Outcome::Unknown);
    }
    let mut violations = Vec::new();
    // Hosts without an address cannot send: MX005 reports them.
    let resolves = |name: &str| {
        f.mx.hosts.iter().any(|h| {
            h.name == name
                && (h.a.records().is_some_and(|a| !a.is_empty())
                    || h.aaaa.records().is_some_and(|a| !a.is_empty()))
        })
    };
    for h in f.spf.helo.iter().filter(|h| resolves(&h.name)) {
        match &h.txt {
            Lookup::Failed(e) => {
                return Outcome::Unknown(format!("the lookup of TXT {} {e}", h.name));
            }
            Lookup::Found { records, .. } if !spf::records(records).is_empty() => {}
            _ => violations.push(Violation {
                severity: None,
                message: format!("{} has no SPF record", h.name),
                subject: Some(h.name.clone()),
                fix: Some(format!("{}. TXT \"v=spf1 a -all\"", h.name)),
            }),
        }
    }
    match f.mx.address_failure() {
        // A host whose address could not be looked up may send too.
        Some(why) if violations.is_empty() => Outcome::Unknown(why),
        _ => Outcome::of(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::ByteString;

    #[test]
    fn answer_size_counts_every_string_and_record() {
        let txt = |n: usize| Txt {
            strings: vec![ByteString(vec![b'a'; n])],
        };
        // 12 header + (9 + 2) name + 4 + (2 + 10 + 101) answer
        assert_eq!(answer_size("good.test", &[txt(100)]), 140);
        assert!(answer_size("good.test", &[txt(255), txt(255)]) > 512);
    }

    #[test]
    fn valid_terms_are_recognised_for_glue_detection() {
        assert!(parse::is_valid_term("ip4:192.0.2.1"));
        assert!(parse::is_valid_term("include:_spf.example.net"));
        assert!(!parse::is_valid_term("ip4:192.0."));
    }
}
