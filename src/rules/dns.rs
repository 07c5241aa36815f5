//! Root causes that make every other finding moot.

use serde::{Deserialize, Serialize};

use super::{Outcome, Rule};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// A cause that makes every other check moot, reported once instead of as twenty symptoms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RootCause {
    /// NXDOMAIN for the domain: nothing else about it can be true or false.
    DomainNotFound,
    /// The canary and every lookup of the domain failed: the resolver, not the domain, is broken.
    ResolverUnreachable { reason: String },
}

impl RootCause {
    /// What to tell the user about the resolver, when it is the cause.
    pub fn resolver_error(&self) -> Option<&str> {
        match self {
            Self::ResolverUnreachable { reason } => Some(reason),
            Self::DomainNotFound => None,
        }
    }
}

pub fn root_cause(f: &Facts) -> Option<RootCause> {
    if matches!(f.mx.lookup, Lookup::NxDomain) && f.txt.records().is_none() {
        return Some(RootCause::DomainNotFound);
    }
    if let (Some(canary), Some(_), Some(_), Some(_)) = (
        f.canary.failure(),
        f.mx.lookup.failure(),
        f.txt.failure(),
        f.dmarc.lookup.failure(),
    ) {
        return Some(RootCause::ResolverUnreachable {
            reason: format!("answered no lookup at all (even the root NS lookup {canary})"),
        });
    }
    None
}

pub static DOMAIN_NOT_FOUND: Rule = Rule {
    code: "DNS001",
    name: "domain-not-found",
    category: Category::Routing,
    severity: Severity::Error,
    title: "The domain does not exist in DNS",
    explanation: "The resolver answered NXDOMAIN for the domain: it is not registered, has expired, \
        or its delegation is broken. No one can send mail to it, and receivers reject mail that \
        claims to come from it.",
    remediation: "Check the spelling. If the domain is yours, check its registration and that the \
        registrar delegates it to name servers that serve the zone.",
    reference: "RFC 8020 §2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: domain_not_found,
};

pub static CNAME_BESIDE_DATA: Rule = Rule {
    code: "DNS002",
    name: "cname-beside-other-data",
    category: Category::Routing,
    severity: Severity::Error,
    title: "A policy name has a CNAME alongside other records",
    explanation: "A name that holds a CNAME may hold nothing else (RFC 1034 §3.6.2, RFC 2181         §10.1). When `_mta-sts`, `_smtp._tls`, a BIMI selector or a DKIM selector answers both         a CNAME and TXT records of its own, resolvers disagree on which one wins: some senders         see the TXT record, others follow the CNAME, so the policy or key in force depends on         who asks. A DNS provider that allows this is broken or the zone was edited around its         checks.",
    remediation: "Keep one of the two at the name: either the CNAME (delegating to the         provider) or the TXT record, and delete the other.",
    reference: "RFC 2181 §10.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cname_beside_data,
};

fn cname_beside_data(f: &Facts) -> Outcome {
    let mut names: Vec<(&str, Option<&str>)> = vec![
        (&f.mta_sts.record.name, f.mta_sts.record.cname_conflict()),
        (&f.tls_rpt.name, f.tls_rpt.cname_conflict()),
        (&f.bimi.record.name, f.bimi.record.cname_conflict()),
    ];
    for s in &f.dkim.selectors {
        names.push((
            &s.name,
            crate::checks::policy_txt::cname_conflict(&s.lookup, s.cname.as_ref()),
        ));
    }
    Outcome::of(
        names
            .into_iter()
            .filter_map(|(name, target)| {
                target.map(|t| super::Violation {
                    severity: None,
                    message: format!("{name} has TXT records and also a CNAME to {t}"),
                    subject: Some(name.to_owned()),
                    fix: None,
                })
            })
            .collect(),
    )
}

fn domain_not_found(f: &Facts) -> Outcome {
    match root_cause(f) {
        Some(RootCause::DomainNotFound) => Outcome::fail(format!(
            "{} does not exist (NXDOMAIN), so every other check was skipped",
            f.domain
        )),
        _ => Outcome::needs(&f.mx.lookup, &format!("MX {}", f.domain), || Outcome::Pass),
    }
}
