//! SPF presence rules (RFC 7208). The full SPF audit builds on these.

use super::{Outcome, Rule};
use crate::checks::spf;
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
    check: spf_missing,
};

fn spf_missing(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        if spf::records(txts).is_empty() {
            Outcome::fail(format!(
                "{} publishes no TXT record starting with v=spf1 ({} TXT record(s) in all)",
                f.domain,
                txts.len()
            ))
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
    check: spf_multiple,
};

fn spf_multiple(f: &Facts) -> Outcome {
    Outcome::needs(&f.txt, &format!("TXT {}", f.domain), || {
        let txts = f.txt.records().map_or(&[][..], Vec::as_slice);
        let found = spf::records(txts);
        if found.len() > 1 {
            let list: Vec<String> = found.iter().map(|t| format!("\"{}\"", t.text())).collect();
            Outcome::fail(format!(
                "{} publishes {} SPF records: {}",
                f.domain,
                found.len(),
                list.join(" and ")
            ))
        } else {
            Outcome::Pass
        }
    })
}
