//! SPF rules (RFC 7208): presence here, the include tree in `tree`, the records as published
//! in `record`.

pub(super) mod record;
pub(super) mod tree;

use super::{Outcome, Rule, Violation};
use crate::checks::spf;
use crate::checks::spf::tree::{Node, NodeState};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub static SPF_MISSING: Rule = Rule {
    code: "SPF001",
    name: "spf-missing",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "No SPF record",
    explanation: "Without SPF, receivers cannot tell which servers may send mail as the domain: \
        its mail is more likely to land in spam (Gmail and Yahoo require SPF or DKIM of every \
        sender, and both of bulk senders), and DMARC can only pass through DKIM.",
    remediation: "Publish one TXT record at the domain listing the servers that send its mail, \
        e.g. `example.com. TXT \"v=spf1 mx include:_spf.provider.example -all\"`; a domain that \
        sends no mail publishes `\"v=spf1 -all\"`.",
    reference: "RFC 7208 §4.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_missing,
};

fn spf_missing(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        if spf::records(txts).is_empty() {
            // A domain that receives no mail most likely sends none either.
            let parked = f.mx.records().iter().all(crate::checks::mx::is_null)
                && f.mx
                    .implicit
                    .as_ref()
                    .is_none_or(|h| h.a.records().is_none() && h.aaaa.records().is_none());
            Outcome::Fail(vec![Violation {
                severity: None,
                message: format!(
                    "{} publishes no TXT record starting with v=spf1 ({} TXT record(s) in all)",
                    f.domain,
                    txts.len()
                ),
                subject: None,
                fix: parked.then(|| format!("{}. TXT \"v=spf1 -all\"", f.domain)),
            }])
        } else {
            Outcome::Pass
        }
    })
}

pub static SPF_MULTIPLE: Rule = Rule {
    code: "SPF002",
    name: "spf-multiple-records",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "More than one SPF record",
    explanation: "A domain must publish at most one SPF record. With two or more, every receiver \
        that follows RFC 7208 returns permerror, and SPF fails for all of the domain's mail, \
        not just for the servers listed in one of them.",
    remediation: "Merge the records into one: keep a single `v=spf1` TXT record that lists every \
        sending service (its `ip4:`, `ip6:`, `include:` terms) and one final `all`.",
    reference: "RFC 7208 §4.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_multiple,
};

fn spf_multiple(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        let found = spf::records(txts);
        if found.len() > 1 {
            let texts: Vec<String> = found.iter().map(|t| t.text()).collect();
            let list: Vec<String> = texts.iter().map(|t| format!("\"{t}\"")).collect();
            Outcome::Fail(vec![Violation {
                severity: None,
                message: format!(
                    "{} publishes {} SPF records: {}",
                    f.domain,
                    found.len(),
                    list.join(" and ")
                ),
                subject: None,
                fix: Some(format!("{}. TXT \"{}\"", f.domain, merge(&texts))),
            }])
        } else {
            Outcome::Pass
        }
    })
}

/// Runs a tree rule: unknown when the TXT lookup failed, not applicable without one SPF record
/// at the domain (SPF001 and SPF002 report those).
/// A check over the include tree. Finding nothing wrong in a tree with a branch that could not
/// be fetched is not a pass: the missing branch could hold the problem.
fn with_tree(f: &Facts, then: impl FnOnce(&Node) -> Outcome) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        match f.spf.tree.state {
            NodeState::Record { .. } | NodeState::Invalid { .. } => match then(&f.spf.tree) {
                Outcome::Pass if f.spf.tree.incomplete() => {
                    Outcome::Unknown("a branch of the include tree could not be fetched".into())
                }
                outcome => outcome,
            },
            _ => Outcome::NotApplicable,
        }
    })
}

/// One record with every term of several: mechanisms and modifiers once each, in order, and
/// the strictest `all` of them last.
fn merge(texts: &[String]) -> String {
    let mut terms: Vec<String> = Vec::new();
    let mut all: Option<(u8, &str)> = None;
    for text in texts {
        for term in text.split(' ').skip(1).filter(|t| !t.is_empty()) {
            let rank = match term.to_ascii_lowercase().as_str() {
                "-all" => Some(3),
                "~all" => Some(2),
                "?all" => Some(1),
                "all" | "+all" => Some(0),
                _ => None,
            };
            if let Some(r) = rank {
                if all.is_none_or(|(best, _)| r > best) {
                    all = Some((r, term));
                }
            } else if !terms.iter().any(|t| t.eq_ignore_ascii_case(term)) {
                terms.push(term.to_owned());
            }
        }
    }
    let mut out = String::from("v=spf1");
    for t in terms {
        out.push(' ');
        out.push_str(&t);
    }
    out.push(' ');
    out.push_str(all.map_or("~all", |(_, t)| t));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn merging_keeps_every_term_once_and_the_strictest_all() {
        let merged = super::merge(&[
            "v=spf1 mx -all".into(),
            "v=spf1 mx include:_spf.example.net ~all".into(),
        ]);
        assert_eq!(merged, "v=spf1 mx include:_spf.example.net -all");
        assert_eq!(
            super::merge(&["v=spf1 a".into(), "v=spf1 mx".into()]),
            "v=spf1 a mx ~all"
        );
    }
}
