//! Blocklist rules. A list's answers count only once it passed its health check; a list that
//! cannot be used from here is noted (BL004), never read as "listed" or "not listed".

use std::net::Ipv4Addr;

use super::{Outcome, Rule, Violation};
use crate::checks::dnsbl::{ListFacts, ListKind, Meaning, Weight, interpret, spec};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Why a list cannot be trusted from here, if it cannot.
pub fn unusable(list: &ListFacts) -> Option<String> {
    let spec = spec(&list.zone);
    let first_bad = |answers: &[Ipv4Addr]| {
        answers.iter().find_map(|a| match interpret(spec, *a) {
            Meaning::Unusable(why) => Some(why.to_owned()),
            Meaning::Listed(..) => None,
        })
    };
    for lookup in [&list.health_listed, &list.health_unlisted]
        .into_iter()
        .chain(list.health_listed_v6.iter())
        .chain(list.health_unlisted_v6.iter())
        .chain(list.queries.iter().map(|q| &q.answer))
    {
        if let Some(why) = lookup.records().and_then(|a| first_bad(a)) {
            return Some(why);
        }
    }
    if let (Some(listed), Some(unlisted)) = (&list.health_listed_v6, &list.health_unlisted_v6)
        && let Some(why) = health(listed, unlisted)
    {
        return Some(format!("{why} (IPv6 test points)"));
    }
    health(&list.health_listed, &list.health_unlisted).or_else(|| {
        list.queries.iter().find_map(|q| {
            q.answer
                .failure()
                .map(|e| format!("the query about {} {e}", q.subject))
        })
    })
}

/// Why a pair of RFC 5782 §5 test points says the list is broken, if it does.
fn health(listed: &Lookup<Vec<Ipv4Addr>>, unlisted: &Lookup<Vec<Ipv4Addr>>) -> Option<String> {
    match (listed, unlisted) {
        (Lookup::Failed(e), _) | (_, Lookup::Failed(e)) => {
            Some(format!("its test point lookup {e}"))
        }
        (l, _) if l.records().is_none() => Some(
            "its test point (127.0.0.2 or equivalent) is not listed: the list is not answering"
                .into(),
        ),
        (_, u) if u.records().is_some() => Some(
            "it lists its never-listed test point (127.0.0.1 or equivalent): it lists everything"
                .into(),
        ),
        _ => None,
    }
}

/// Listings on usable lists of a kind, with their weight; unknown when no list is usable.
fn listings(f: &Facts, kind: ListKind, wanted: impl Fn(Weight) -> bool) -> Outcome {
    if !f.dnsbl.enabled {
        return Outcome::NotRun("--no-blocklists".into());
    }
    let lists: Vec<&ListFacts> = f.dnsbl.lists.iter().filter(|l| l.kind == kind).collect();
    if lists.is_empty()
        && let Some(s) = f.dnsbl.skipped.iter().find(|s| s.kind == kind)
    {
        return Outcome::NotRun(format!("{} not asked: {}", s.name, s.reason));
    }
    if lists.is_empty() || lists.iter().all(|l| l.queries.is_empty()) {
        return Outcome::NotApplicable;
    }
    let usable: Vec<&&ListFacts> = lists.iter().filter(|l| unusable(l).is_none()).collect();
    if usable.is_empty() {
        return Outcome::Unreachable(
            "no blocklist of this kind is usable from here (see BL004)".into(),
        );
    }
    let mut out = Vec::new();
    for list in usable {
        for q in &list.queries {
            for answer in q.answer.records().into_iter().flatten() {
                if let Meaning::Listed(meaning, weight) = interpret(spec(&list.zone), *answer) {
                    if !wanted(weight) {
                        continue;
                    }
                    let reason = q
                        .reason
                        .as_ref()
                        .and_then(|r| r.records())
                        .and_then(|t| t.first())
                        .map(|t| format!(": \"{}\"", t.text()))
                        .unwrap_or_default();
                    out.push(Violation::at(
                        q.subject.clone(),
                        format!(
                            "{} is listed on {} ({answer}, {meaning}){reason}",
                            q.subject, list.name
                        ),
                    ));
                }
            }
        }
    }
    Outcome::of(out)
}

pub static IP_LISTED: Rule = Rule {
    code: "BL001",
    name: "mx-address-blocklisted",
    category: Category::Reputation,
    severity: Severity::Error,
    title: "An MX address is on a reputation blocklist",
    explanation: "A blocklist whose operators saw spam or abuse from the address lists it. \
        Receivers that use the list reject or junk mail the host sends (bounces, forwards, \
        replies), and some treat the whole domain with suspicion.",
    remediation: "Find and stop the cause (a compromised account, an open relay, a form that \
        sends mail), then request delisting at the list's site; the listing's TXT reason \
        usually links to it.",
    reference: "RFC 5782 §2.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: ip_listed,
};

fn ip_listed(f: &Facts) -> Outcome {
    listings(f, ListKind::Ip, |w| w == Weight::Reputation)
}

pub static IP_LISTED_POLICY: Rule = Rule {
    code: "BL002",
    name: "mx-address-policy-listed",
    category: Category::Reputation,
    severity: Severity::Warning,
    title: "An MX address is on a policy or wide-net blocklist",
    explanation: "A policy list (e.g. Spamhaus PBL: addresses that should not send mail \
        directly) or a wide-net list that lists whole ranges (UCEPROTECT) has the address. \
        Fewer receivers use these, and a listing says less about the host itself.",
    remediation: "For PBL: if the host is a real mail server, remove the address at the list's \
        site (or ask your provider to). For wide-net lists: ask the provider about the \
        neighbouring abuse; paid delisting is not needed.",
    reference: "RFC 5782 §2.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: ip_listed_policy,
};

fn ip_listed_policy(f: &Facts) -> Outcome {
    listings(f, ListKind::Ip, |w| w != Weight::Reputation)
}

pub static DOMAIN_LISTED: Rule = Rule {
    code: "BL003",
    name: "domain-blocklisted",
    category: Category::Reputation,
    severity: Severity::Error,
    title: "The domain is on a domain blocklist",
    explanation: "A domain blocklist (Spamhaus DBL) lists the domain as seen in spam, phishing \
        or malware. Receivers reject mail that mentions it, not only mail from it.",
    remediation: "Find out why (the TXT reason links to the lookup page), clean up the \
        compromise or the abusive use, then request removal.",
    reference: "RFC 5782 §2.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: domain_listed,
};

fn domain_listed(f: &Facts) -> Outcome {
    listings(f, ListKind::Domain, |_| true)
}

pub static BLOCKLIST_UNUSABLE: Rule = Rule {
    code: "BL004",
    name: "blocklist-unusable",
    category: Category::Reputation,
    severity: Severity::Info,
    title: "A blocklist cannot be used from here",
    explanation: "The list refused to answer (Spamhaus answers 127.255.255.254 to queries \
        through public resolvers, and 127.255.255.255 when rate-limited), failed its RFC 5782 \
        health check, or the resolver rewrites answers. Its answers are ignored: the address \
        is neither listed nor clean as far as this list is concerned.",
    remediation: "Use a resolver of your own rather than a public one, or for Spamhaus set a \
        free DQS key in MAILCHECK_SPAMHAUS_DQS_KEY.",
    reference: "RFC 5782 §5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: blocklist_unusable,
};

fn blocklist_unusable(f: &Facts) -> Outcome {
    if !f.dnsbl.enabled {
        return Outcome::NotRun("--no-blocklists".into());
    }
    Outcome::of(
        f.dnsbl
            .lists
            .iter()
            .filter(|l| !l.queries.is_empty())
            .filter_map(|l| {
                let why = unusable(l)?;
                let hint = if l.zone.contains("spamhaus") && !l.dqs {
                    "; a Spamhaus DQS key (MAILCHECK_SPAMHAUS_DQS_KEY) avoids this"
                } else {
                    ""
                };
                Some(Violation::at(
                    l.zone.clone(),
                    format!("{} ({}): {why}{hint}", l.name, l.zone),
                ))
            })
            .collect(),
    )
}
