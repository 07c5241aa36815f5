//! Certificate rules: dates, trust, name, strength, consistency across addresses.

use super::{Outcome, Rule, Violation, cert_facts, offers_starttls, per_probe, per_probe_at};
use crate::checks::smtp::{CertFacts, CertVerdict, Probe, TlsFacts};
use crate::facts::Facts;
use crate::finding::{Category, Severity};
use crate::report::day;

/// Not applicable when no STARTTLS was offered (TLS001 says so); unknown when unreachable.
fn per_cert(f: &Facts, judge: impl Fn(&Probe, &TlsFacts) -> Option<String>) -> Outcome {
    per_probe(
        f,
        |p| cert_facts(p).is_some(),
        |p| p.ehlo.is_some() && !offers_starttls(p),
        |p| cert_facts(p).and_then(|t| judge(p, t)),
    )
}

/// [`per_cert`] for the name and date checks: an error where DANE senders apply them (a
/// secure DANE-TA record and no matching DANE-EE one), since they then refuse the host.
fn per_cert_dane(f: &Facts, judge: impl Fn(&Probe, &TlsFacts) -> Option<String>) -> Outcome {
    per_cert_escalated(f, judge, |p| {
        crate::rules::dane::names_and_dates_checked(f, p)
    })
}

/// [`per_cert`], its findings errors at the probes `escalate` picks.
fn per_cert_escalated(
    f: &Facts,
    judge: impl Fn(&Probe, &TlsFacts) -> Option<String>,
    escalate: impl Fn(&Probe) -> bool,
) -> Outcome {
    per_probe_at(
        f,
        |p| cert_facts(p).is_some(),
        |p| p.ehlo.is_some() && !offers_starttls(p),
        |p| cert_facts(p).and_then(|t| judge(p, t)),
        |p| escalate(p).then_some(Severity::Error),
    )
}

fn leaf(t: &TlsFacts) -> &CertFacts {
    &t.chain[0]
}

pub static CERT_EXPIRED: Rule = Rule {
    code: "TLS003",
    name: "tls-cert-expired",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate has expired (or is not valid yet)",
    explanation: "The certificate is outside its validity period. Senders that check \
        certificates (under MTA-STS or DANE, and many that simply prefer to) refuse to deliver.",
    remediation: "Renew the certificate and reload the SMTP server; automate renewal (ACME) so \
        it cannot lapse again.",
    reference: "RFC 5280 §4.1.2.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_expired,
};

fn cert_expired(f: &Facts) -> Outcome {
    per_cert_dane(f, |p, t| {
        let c = leaf(t);
        let now = i64::try_from(p.started).unwrap_or(i64::MAX);
        if c.not_after < now {
            Some(format!("the certificate expired on {}", day(c.not_after)))
        } else if c.not_before > now {
            Some(format!(
                "the certificate is valid only from {}",
                day(c.not_before)
            ))
        } else {
            None
        }
    })
}

/// The warning threshold: a third of the lifetime, but at most 7 days, so certificates that
/// live a few days do not raise an alarm on every run.
pub fn expiry_threshold(lifetime_secs: i64) -> i64 {
    (lifetime_secs / 3).min(7 * 86_400)
}

pub static CERT_EXPIRING: Rule = Rule {
    code: "TLS004",
    name: "tls-cert-expiring-soon",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate expires soon",
    explanation: "The certificate has less than a third of its lifetime and less than 7 days \
        left: renewal should have happened by now, and something may be stopping it.",
    remediation: "Renew the certificate now, and check why automatic renewal did not run.",
    reference: "RFC 5280 §4.1.2.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_expiring,
};

fn cert_expiring(f: &Facts) -> Outcome {
    per_cert(f, |p, t| {
        let c = leaf(t);
        let now = i64::try_from(p.started).unwrap_or(i64::MAX);
        let left = c.not_after - now;
        let life = c.not_after - c.not_before;
        (left >= 0 && left < expiry_threshold(life)).then(|| {
            format!(
                "the certificate expires on {} ({} h left of a {}-day lifetime)",
                day(c.not_after),
                left / 3600,
                life / 86_400
            )
        })
    })
}

/// The chain did not reach a trust anchor: which of the three reasons.
#[derive(Debug, PartialEq, Eq)]
enum Untrusted {
    SelfSigned,
    /// Only non-CA certificates were sent, and their issuer is not a trust anchor: nearly
    /// always a missing intermediate (every public CA issues through intermediates).
    Incomplete,
    /// Intermediates were sent, but the chain ends at a root mailcheck does not trust.
    UnknownRoot,
}

fn untrusted(t: &TlsFacts) -> Option<Untrusted> {
    if t.verdict != Some(CertVerdict::UnknownIssuer) {
        return None;
    }
    let leaf = leaf(t);
    Some(if leaf.self_issued() && t.chain.len() == 1 {
        Untrusted::SelfSigned
    } else if t.chain.iter().all(|c| !c.is_ca) {
        Untrusted::Incomplete
    } else {
        Untrusted::UnknownRoot
    })
}

pub static CERT_SELF_SIGNED: Rule = Rule {
    code: "TLS005",
    name: "tls-cert-self-signed",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate is self-signed",
    explanation: "The certificate is signed by its own key, so no sender can tell it from an \
        attacker's. Opportunistic senders still encrypt, but senders that check (MTA-STS, \
        DANE-less policies) refuse it.",
    remediation: "Get a certificate from a public CA for the MX host name (Let's Encrypt via \
        ACME is free), or publish DANE TLSA records for the self-signed one.",
    reference: "RFC 7672 §3.1.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_self_signed,
};

fn cert_self_signed(f: &Facts) -> Outcome {
    per_cert(f, |_, t| {
        (untrusted(t) == Some(Untrusted::SelfSigned))
            .then(|| format!("the certificate {} is self-signed", leaf(t).subject))
    })
}

pub static CERT_UNTRUSTED: Rule = Rule {
    code: "TLS006",
    name: "tls-cert-untrusted",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate chains to a root mailcheck does not trust",
    explanation: "The chain ends at a root that is not in the trust store (Mozilla's roots, or \
        the system's with `--trust system`): a private CA, or a CA that was distrusted. Senders \
        that check certificates refuse it.",
    remediation: "Use a certificate from a publicly trusted CA. (A private CA? Pass its root \
        with `--ca-file` to check the rest of the chain.)",
    reference: "RFC 5280 §6.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_untrusted,
};

fn cert_untrusted(f: &Facts) -> Outcome {
    per_cert(f, |_, t| match (untrusted(t), &t.verdict) {
        (Some(Untrusted::UnknownRoot), _) => Some(format!(
            "the chain ends at {}, which is not a trusted root",
            t.chain.last().map_or("", |c| c.issuer.as_str())
        )),
        (None, Some(CertVerdict::Other { detail })) => {
            Some(format!("the certificate was rejected: {detail}"))
        }
        _ => None,
    })
}

pub static CHAIN_INCOMPLETE: Rule = Rule {
    code: "TLS007",
    name: "tls-chain-incomplete",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate chain is incomplete (missing intermediate)",
    explanation: "The server sends its certificate without the intermediate CA certificate \
        that links it to a trusted root. Browsers often fetch the missing piece; mail senders \
        do not, so for them the certificate is untrusted.",
    remediation: "Configure the server with the full chain file (leaf first, then the \
        intermediates), e.g. Let's Encrypt's `fullchain.pem` rather than `cert.pem`.",
    reference: "RFC 8446 §4.4.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: chain_incomplete,
};

fn chain_incomplete(f: &Facts) -> Outcome {
    per_cert(f, |_, t| {
        (untrusted(t) == Some(Untrusted::Incomplete)).then(|| {
            format!(
                "the server sent {} certificate(s) and no intermediate; the issuer {} is \
                 not a trusted root",
                t.chain.len(),
                leaf(t).issuer
            )
        })
    })
}

pub static CERT_NAME_MISMATCH: Rule = Rule {
    code: "TLS008",
    name: "tls-cert-name-mismatch",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate is not valid for the MX host name",
    explanation: "None of the certificate's names matches the host name in the MX record. \
        Senders check the certificate against that name (RFC 7817), so those that verify \
        refuse it.",
    remediation: "Get a certificate whose subjectAltName includes the MX host name, or point \
        the MX record at a name the certificate covers.",
    reference: "RFC 7817 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_name_mismatch,
};

fn cert_name_mismatch(f: &Facts) -> Outcome {
    per_cert_dane(f, |p, t| {
        (t.name_matches == Some(false)).then(|| {
            format!(
                "the certificate names {}, not {}",
                leaf(t).sans.join(", "),
                p.host
            )
        })
    })
}

pub static CERT_WEAK: Rule = Rule {
    code: "TLS009",
    name: "tls-cert-weak",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX certificate uses a weak key or a SHA-1 signature",
    explanation: "An RSA key under 2048 bits can be factored with enough resources, and SHA-1 \
        signatures can be forged (SHAttered, 2017). Modern TLS libraries refuse both, so \
        senders may fail the handshake.",
    remediation: "Issue a new certificate with an RSA 2048+ or ECDSA P-256 key, signed with \
        SHA-256 or better.",
    reference: "RFC 9155 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_weak,
};

/// An error where DANE applies: senders that insist on authenticated TLS to the host refuse
/// the handshake with modern libraries, whichever TLSA usage matches.
fn cert_weak(f: &Facts) -> Outcome {
    let escalate = |p: &Probe| crate::rules::dane::applies(f, p);
    per_cert_escalated(
        f,
        |_, t| {
            let problems: Vec<String> = t
                .chain
                .iter()
                .filter(|c| !(c.is_ca && c.self_issued()))
                .flat_map(|c| {
                    let key = (c.key_type == "RSA" && c.key_bits < 2048)
                        .then(|| format!("{}: RSA key of {} bits", c.subject, c.key_bits));
                    let sig = c
                        .signature_algorithm
                        .to_ascii_lowercase()
                        .contains("sha1")
                        .then(|| format!("{}: signed with {}", c.subject, c.signature_algorithm));
                    key.into_iter().chain(sig)
                })
                .collect();
            (!problems.is_empty()).then(|| problems.join("; "))
        },
        escalate,
    )
}

pub static CERT_DIFFERS: Rule = Rule {
    code: "TLS015",
    name: "tls-cert-differs-across-addresses",
    category: Category::Transport,
    severity: Severity::Info,
    title: "The addresses of one MX host present different certificates",
    explanation: "Senders may reach any address of the host, and each gave a different \
        certificate. Often harmless (a renewal rolled out to some servers first), but a stale \
        or wrong certificate on one of them fails only some deliveries, which is hard to debug.",
    remediation: "Deploy the same certificate to every server behind the MX name.",
    reference: "RFC 7817 §3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: cert_differs,
};

fn cert_differs(f: &Facts) -> Outcome {
    if !f.smtp.enabled {
        return Outcome::NotRun("--no-smtp".into());
    }
    let mut hosts: Vec<&str> = f.smtp.probes.iter().map(|p| p.host.as_str()).collect();
    hosts.dedup();
    let mut out = Vec::new();
    let mut decided = false;
    for host in hosts {
        let mut certs: Vec<(&str, &str, String)> = Vec::new();
        for p in f.smtp.probes.iter().filter(|p| p.host == host) {
            if let Some(t) = cert_facts(p) {
                certs.push((
                    leaf(t).serial.as_str(),
                    leaf(t).issuer.as_str(),
                    p.ip.to_string(),
                ));
            }
        }
        decided |= !certs.is_empty();
        let first = certs.first().map(|c| (c.0, c.1));
        if certs.iter().any(|c| Some((c.0, c.1)) != first) {
            let list: Vec<String> = certs
                .iter()
                .map(|c| format!("{} serial {}", c.2, c.0))
                .collect();
            out.push(Violation::at(host, format!("{host}: {}", list.join("; "))));
        }
    }
    Outcome::of_judged(decided, out)
}

#[cfg(test)]
mod tests {
    use super::expiry_threshold;

    #[test]
    fn short_lived_certificates_do_not_cry_wolf() {
        let day = 86_400;
        assert_eq!(expiry_threshold(90 * day), 7 * day);
        assert_eq!(expiry_threshold(6 * day), 2 * day);
        assert_eq!(expiry_threshold(365 * day), 7 * day);
    }
}
