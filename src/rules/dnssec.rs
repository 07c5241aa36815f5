//! DNSSEC rules: whether the answers mail depends on are signed, validate, and will go on
//! validating. They judge the validator's verdicts (`facts.dnssec`), never the AD bit, and are
//! `unknown` when this resolver cannot validate at all, so a stripping resolver never reads as
//! "unsigned".

use super::{Outcome, Rule, Violation};
use crate::checks::dnssec::{DnssecAnswer, DnssecFacts, Outcome as Verdict, Role, Validator};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

/// Signatures that expire within this many days are worth a warning: a signer that has not
/// refreshed them this close to expiry has usually stopped.
pub const EXPIRY_WARNING_DAYS: i64 = 7;

/// `not-run` or `unknown` when this run validated nothing; one reason for the DNSSEC and
/// DANE rules alike, so the report says it once.
pub(super) fn validation_gate(f: &Facts) -> Option<Outcome> {
    match &f.dnssec.validator {
        Validator::Validating { .. } => None,
        Validator::Disabled => Some(Outcome::NotRun("--no-dnssec".into())),
        Validator::Unavailable { detail } => Some(Outcome::Unreachable(format!(
            "DNSSEC cannot be validated through this resolver: {detail}"
        ))),
    }
}

/// Runs `judge` when answers were validated; otherwise why not.
fn validating(f: &Facts, judge: impl FnOnce(&DnssecFacts) -> Outcome) -> Outcome {
    validation_gate(f).unwrap_or_else(|| judge(&f.dnssec))
}

/// Unknown when nothing was found and some answer could not be judged (its lookup failed,
/// or the validator could not tell), so a failure never reads as "fine".
fn or_unknown(d: &DnssecFacts, out: Vec<Violation>, judged: bool) -> Outcome {
    if out.is_empty()
        && let Some(a) = d.answers.iter().find(|a| {
            matches!(
                a.outcome,
                Verdict::Failed(_) | Verdict::Indeterminate { .. }
            )
        })
    {
        return match &a.outcome {
            Verdict::Failed(e) => Outcome::unknown(&what(a), e),
            Verdict::Indeterminate { detail } => {
                Outcome::Unknown(format!("{} could not be validated: {detail}", what(a)))
            }
            _ => unreachable!("filtered above"),
        };
    }
    Outcome::of_judged(judged, out)
}

/// What an answer is, for messages: `MX example.com`, `A mx1.example.net`.
fn what(a: &DnssecAnswer) -> String {
    format!("{} {}", a.rtype, a.name)
}

pub static DNSSEC_UNSIGNED: Rule = Rule {
    code: "DNSSEC001",
    name: "dnssec-unsigned",
    category: Category::Routing,
    severity: Severity::Info,
    title: "The domain is not DNSSEC-signed",
    explanation: "The chain from the root proves that the domain's zone (or an MX host's zone) \
        is unsigned. Its answers can be forged by anyone on the path to a sender's resolver, \
        and DANE (RFC 7672), the only way to make senders insist on authenticated TLS without \
        trusting a web PKI fetch, is impossible: senders ignore TLSA records in unsigned zones.",
    remediation: "Turn on DNSSEC signing at your DNS provider (most do it with one switch), then \
        publish the DS record it gives you at your registrar. Check afterwards that the domain \
        validates before publishing TLSA records.",
    reference: "RFC 4033 §2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: unsigned,
};

fn unsigned(f: &Facts) -> Outcome {
    validating(f, |d| {
        let Some(domain) = d.of(Role::Domain, None).next() else {
            return Outcome::NotApplicable;
        };
        match &domain.outcome {
            Verdict::Insecure => {
                return Outcome::Fail(vec![Violation::at(
                    f.domain.as_str(),
                    format!(
                        "{} is not signed: its answers can be forged and DANE cannot protect \
                         mail to it",
                        f.domain
                    ),
                )]);
            }
            Verdict::Failed(e) => return Outcome::unknown(&what(domain), e),
            Verdict::Indeterminate { detail } => {
                return Outcome::Unknown(format!(
                    "{} could not be validated: {detail}",
                    what(domain)
                ));
            }
            Verdict::Secure { .. } | Verdict::Bogus { .. } => {}
        }
        // A signed domain: the MX hosts' own zones decide whether DANE can protect them.
        let mut hosts: Vec<&str> = d
            .of(Role::MxHost, None)
            .filter(|a| matches!(a.outcome, Verdict::Insecure))
            .filter_map(|a| a.host.as_deref())
            .collect();
        hosts.dedup();
        Outcome::of(
            hosts
                .into_iter()
                .map(|h| {
                    Violation::at(
                        h,
                        format!(
                            "{} is signed, but MX host {h} lies in an unsigned zone: DANE \
                             cannot protect mail to it",
                            f.domain
                        ),
                    )
                })
                .collect(),
        )
    })
}

pub static DNSSEC_BOGUS: Rule = Rule {
    code: "DNSSEC002",
    name: "dnssec-bogus",
    category: Category::Routing,
    severity: Severity::Error,
    title: "DNSSEC validation fails for an answer mail depends on",
    explanation: "The zone is signed, but the answer does not validate: a signature has expired \
        or is not yet valid, a signature or key is missing, or the DS record at the parent \
        matches none of the zone's keys. Validating resolvers, which most large receivers and \
        public resolvers run, answer SERVFAIL instead: for them the MX, its addresses or the \
        policy record do not exist, and mail is deferred and eventually bounced.",
    remediation: "Fix the signing at the DNS provider: re-sign the zone (expired signatures mean \
        the signer stopped), or make the DS at the registrar match the zone's current key \
        signing key (after a key rollover or a provider move, publish the new DS and remove \
        the old). If the zone can no longer be signed, remove the DS at the registrar first, \
        so the zone is insecure rather than bogus.",
    reference: "RFC 4035 §5.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: bogus,
};

fn bogus(f: &Facts) -> Outcome {
    validating(f, |d| {
        let mut out: Vec<Violation> = Vec::new();
        for a in &d.answers {
            if let Verdict::Bogus { reason, detail } = &a.outcome {
                let message = format!("{} is bogus ({reason}): {detail}", what(a));
                if !out.iter().any(|v| v.message == message) {
                    out.push(Violation::at(a.name.clone(), message));
                }
            }
        }
        or_unknown(d, out, true)
    })
}

pub static DNSSEC_EXPIRING: Rule = Rule {
    code: "DNSSEC003",
    name: "dnssec-signature-expiring",
    category: Category::Routing,
    severity: Severity::Warning,
    title: "DNSSEC signatures expire within days",
    explanation: "The answer validates today, but its signatures expire within a week. Signers \
        refresh signatures well before they expire; one this close to expiry usually means \
        signing has stopped (a broken signer, an expired provider contract, a zone moved \
        without its keys). When they expire the zone turns bogus and validating receivers \
        stop delivering.",
    remediation: "Check that the zone's signer is running and re-signing: the RRSIG expiration \
        dates should move forward every few days. Re-sign the zone now, or, if it will not be \
        signed again, remove the DS at the registrar and wait out its TTL before the \
        signatures expire.",
    reference: "RFC 6781 §4.4.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: expiring,
};

fn expiring(f: &Facts) -> Outcome {
    validating(f, |d| {
        let limit = d.checked_at + EXPIRY_WARNING_DAYS * 86_400;
        let mut out: Vec<Violation> = Vec::new();
        let mut judged = false;
        for a in &d.answers {
            let Verdict::Secure { signer, expires } = &a.outcome else {
                continue;
            };
            judged = true;
            let Some(expires) = *expires else { continue };
            if expires >= limit {
                continue;
            }
            let zone = signer.as_deref().unwrap_or(&a.name);
            let hours = (expires - d.checked_at).max(0) / 3600;
            let message = format!(
                "the signatures of {zone} over {} expire in {} days {} hours",
                what(a),
                hours / 24,
                hours % 24
            );
            // One finding per signing zone: every answer it signed says the same.
            if !out.iter().any(|v| v.subject.as_deref() == Some(zone)) {
                out.push(Violation::at(zone, message));
            }
        }
        or_unknown(d, out, judged)
    })
}
