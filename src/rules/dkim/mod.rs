//! DKIM rules (RFC 6376, RFC 8301, RFC 8463): whether keys were found at the selectors tried,
//! and delegations; the keys themselves in `keys`.

pub(super) mod keys;

use std::fmt::Write as _;

use super::{Outcome, Rule, Violation};
use crate::checks::dkim::{KeyRecord, SelectorFacts, SelectorSource};
use crate::checks::spf::tree::NodeState;
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Every key record that parsed, with its selector.
pub(super) fn parsed(f: &Facts) -> impl Iterator<Item = (&SelectorFacts, &KeyRecord)> {
    f.dkim.found().flat_map(|s| {
        s.keys
            .iter()
            .filter_map(move |k| k.parsed.as_ref().ok().map(|r| (s, r)))
    })
}

/// The check over the parsed keys, through [`judged`].
pub(super) fn with_keys(
    f: &Facts,
    check: impl Fn(&SelectorFacts, &KeyRecord) -> Option<String>,
) -> Outcome {
    judged(
        f,
        parsed(f)
            .filter_map(|(s, k)| check(s, k).map(|m| Violation::at(&s.name, m)))
            .collect(),
    )
}

/// A key check's outcome: its violations if any; otherwise unknown when a selector lookup
/// failed (the key there could be the one at fault), not applicable when no key was found,
/// and a pass only when every selector answered.
pub(super) fn judged(f: &Facts, violations: Vec<Violation>) -> Outcome {
    if !violations.is_empty() {
        return Outcome::Fail(violations);
    }
    match f
        .dkim
        .selectors
        .iter()
        .find_map(|s| s.lookup.failure().map(|e| (s, e)))
    {
        Some((s, e)) => Outcome::unknown(&format!("TXT {}", s.name), e),
        None if f.dkim.found().next().is_none() => Outcome::NotApplicable,
        None => Outcome::Pass,
    }
}

pub static DKIM_NOT_FOUND: Rule = Rule {
    code: "DKIM001",
    name: "dkim-not-found",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "No DKIM key found at the selectors tried",
    explanation: "DKIM selectors cannot be listed from DNS, so mailcheck tries a list of selectors \
        the big providers use. None of them has a key. That does not mean the domain has no DKIM: \
        its signer may use another selector. If it really signs nothing, receivers cannot \
        authenticate its mail with DKIM, DMARC then rests on SPF alone, and forwarded mail fails \
        DMARC.",
    remediation: "Find the selector in the s= tag of a DKIM-Signature header of a message the \
        domain sent, and run mailcheck again with `--dkim-selector <selector>`. If the domain \
        signs nothing, turn DKIM signing on at the mail provider and publish the key it gives \
        at `<selector>._domainkey.<domain>`.",
    reference: "RFC 6376 §3.6.2.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dkim_not_found,
};

/// SPF says the domain sends no mail at all (`v=spf1 -all`): there is nothing to sign.
fn sends_no_mail(f: &Facts) -> bool {
    matches!(&f.spf.tree.state, NodeState::Record { text }
        if text.split_whitespace().skip(1).eq(["-all"]))
}

fn dkim_not_found(f: &Facts) -> Outcome {
    let d = &f.dkim;
    if d.found().next().is_some() {
        return Outcome::Pass;
    }
    if sends_no_mail(f) {
        return Outcome::NotApplicable;
    }
    if let Some(s) = d.selectors.iter().find(|s| s.lookup.failure().is_some()) {
        return Outcome::needs(&s.lookup, &format!("TXT {}", s.name), || Outcome::Pass);
    }
    if d.selectors.iter().any(|s| s.empty_delegation().is_some()) {
        // A delegation whose target has no key is reported by DKIM014/DKIM016.
        return Outcome::Pass;
    }
    let names: Vec<&str> = d.selectors.iter().map(|s| s.selector.as_str()).collect();
    let shown = if names.len() > 4 {
        format!("{}, …", names[..3].join(", "))
    } else {
        names.join(", ")
    };
    let mut message = format!(
        "no DKIM key found at the {} selectors tried ({shown}); selectors cannot be listed \
         from DNS, so these are guesses: the domain may sign with another selector (pass it \
         with --dkim-selector)",
        names.len(),
    );
    if matches!(d.domainkey, Lookup::NxDomain) {
        let _ = write!(
            message,
            "; _domainkey.{} answers NXDOMAIN, which suggests no selector exists at all \
             (RFC 8020), though some DNS servers wrongly answer so for empty names",
            f.domain
        );
    }
    Outcome::Fail(vec![Violation::at(f.domain.as_str(), message)])
}

pub static DKIM_SELECTOR_MISSING: Rule = Rule {
    code: "DKIM002",
    name: "dkim-selector-missing",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "A DKIM selector given with --dkim-selector has no key",
    explanation: "The selector named on the command line has no TXT record at \
        `<selector>._domainkey.<domain>`. Mail signed with it fails DKIM verification \
        (permerror: no key), so it cannot pass DMARC through DKIM.",
    remediation: "Publish the public key the signer gives for this selector, e.g. \
        `s1._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=<base64 key>\"`, or check the \
        selector's spelling in a DKIM-Signature header (its s= tag).",
    reference: "RFC 6376 §6.1.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dkim_selector_missing,
};

fn dkim_selector_missing(f: &Facts) -> Outcome {
    let mine: Vec<&SelectorFacts> = f
        .dkim
        .selectors
        .iter()
        .filter(|s| s.source == SelectorSource::User)
        .collect();
    if mine.is_empty() {
        return Outcome::NotApplicable;
    }
    if let Some(s) = mine.iter().find(|s| s.lookup.failure().is_some()) {
        return Outcome::needs(&s.lookup, &format!("TXT {}", s.name), || Outcome::Pass);
    }
    Outcome::of(
        mine.iter()
            .filter(|s| s.lookup.is_absent())
            .map(|s| {
                let what = if matches!(s.lookup, Lookup::NxDomain) {
                    "does not exist (NXDOMAIN)"
                } else {
                    "has no TXT record"
                };
                Violation::at(&s.name, format!("{} {what}", s.name))
            })
            .collect(),
    )
}

pub static DKIM_CNAME_DANGLING: Rule = Rule {
    code: "DKIM014",
    name: "dkim-cname-dangling",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "A DKIM selector is a CNAME to a name that does not exist",
    explanation: "The selector delegates its key to another name (usually the mail provider's) \
        and that name does not exist. Mail signed with the selector fails DKIM. At a well-known \
        provider selector this usually means an unfinished or abandoned setup; and whoever can \
        claim the target name (an expired domain, a deleted tenant) can publish a key there and \
        sign mail that passes DKIM for this domain.",
    remediation: "Finish the provider's DKIM setup so the target exists, or delete the CNAME if \
        the selector is no longer used.",
    reference: "RFC 6376 §3.6.2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dkim_cname_dangling,
};

fn dkim_cname_dangling(f: &Facts) -> Outcome {
    delegations(
        f,
        f.dkim
            .selectors
            .iter()
            .filter_map(|s| match s.empty_delegation() {
                Some((target, false)) => Some(Violation::at(
                    &s.name,
                    format!(
                        "{} is a CNAME to {}, which does not exist (NXDOMAIN){}",
                        s.name,
                        target,
                        provider_note(s)
                    ),
                )),
                _ => None,
            })
            .collect(),
    )
}

/// A check over CNAME delegations: its violations, or unknown when a selector's TXT or CNAME
/// lookup failed (the delegation there was never seen), else a pass.
fn delegations(f: &Facts, violations: Vec<Violation>) -> Outcome {
    if !violations.is_empty() {
        return Outcome::Fail(violations);
    }
    let failed = f.dkim.selectors.iter().find_map(|s| {
        let cname = s.cname.as_ref().and_then(Lookup::failure);
        s.lookup.failure().or(cname).map(|e| (s, e))
    });
    match failed {
        Some((s, e)) => Outcome::unknown(&s.name, e),
        None => Outcome::Pass,
    }
}

fn provider_note(s: &SelectorFacts) -> String {
    match &s.source {
        SelectorSource::Builtin { provider } => format!(
            "; {} is a {provider} selector, so this is likely an unfinished setup there",
            s.selector
        ),
        SelectorSource::User => String::new(),
    }
}

pub static DKIM_CNAME_NO_KEY: Rule = Rule {
    code: "DKIM016",
    name: "dkim-cname-no-key",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DKIM selector is a CNAME to a name without a key",
    explanation: "The selector delegates its key to another name, which exists but has no TXT \
        record. Mail signed with the selector fails DKIM until the provider publishes the key.",
    remediation: "Complete the DKIM setup at the provider the CNAME points to, or delete the \
        CNAME if the selector is no longer used.",
    reference: "RFC 6376 §3.6.2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dkim_cname_no_key,
};

fn dkim_cname_no_key(f: &Facts) -> Outcome {
    delegations(
        f,
        f.dkim
            .selectors
            .iter()
            .filter_map(|s| match s.empty_delegation() {
                Some((target, true)) => Some(Violation::at(
                    &s.name,
                    format!(
                        "{} is a CNAME to {target}, which has no TXT record{}",
                        s.name,
                        provider_note(s)
                    ),
                )),
                _ => None,
            })
            .collect(),
    )
}
