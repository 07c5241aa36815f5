//! MTA-STS policy rules: what the served policy file says (RFC 8461 §3.2), and whether it fits
//! the domain's MX hosts and their certificates (§4.1, §5).
//!
//! Every rule here judges a policy that came back `200`; whether senders get it at all is
//! `sts_fetch`'s business.

use super::sts_fetch::served;
use super::{Outcome, Rule, Violation};
use crate::checks::mta_sts::PolicyFetch;
use crate::checks::mx::is_null;
use crate::checks::smtp::CertVerdict;
use crate::checks::sts_policy::{PolicyFile, mx_matches};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

const REF: &str = "RFC 8461 §3.2";
const DAY: u64 = 86_400;
const WEEK: u64 = 7 * DAY;

/// The caching lesson every policy remediation needs.
macro_rules! caching {
    () => {
        " Senders cache the policy for max_age and fetch it again only when the `_mta-sts` \
        TXT id changes: change the id with every edit of the file."
    };
}

fn run(check: impl FnOnce() -> Result<Outcome, Outcome>) -> Outcome {
    check().unwrap_or_else(|o| o)
}

/// A served policy (any errors included).
fn policy(f: &Facts) -> Result<(&PolicyFetch, &PolicyFile), Outcome> {
    let (p, _) = served(f)?;
    match &p.policy {
        Some(policy) => Ok((p, policy)),
        None => Err(Outcome::NotApplicable),
    }
}

/// A served policy without errors.
fn valid(f: &Facts) -> Result<(&PolicyFetch, &PolicyFile), Outcome> {
    let (p, policy) = policy(f)?;
    if policy.errors.is_empty() {
        Ok((p, policy))
    } else {
        Err(Outcome::NotApplicable)
    }
}

/// A valid policy in `enforce` or `testing` mode (where MX patterns apply).
fn active(f: &Facts) -> Result<(&PolicyFetch, &PolicyFile, &str), Outcome> {
    let (p, policy) = valid(f)?;
    match policy.mode.as_deref() {
        Some(m @ ("enforce" | "testing")) => Ok((p, policy, m)),
        _ => Err(Outcome::NotApplicable),
    }
}

fn at(p: &PolicyFetch, message: String) -> Violation {
    Violation::at(&p.fetch.url, message)
}

/// The MX host names (no null MX), or why they are not known.
fn mx_hosts(f: &Facts) -> Result<Vec<&str>, Outcome> {
    if let Some(e) = f.mx.lookup.failure() {
        return Err(Outcome::Unknown(format!(
            "the lookup of MX {} {e}",
            f.domain
        )));
    }
    Ok(f.mx
        .records()
        .iter()
        .filter(|m| !is_null(m))
        .map(|m| m.exchange.as_str())
        .collect())
}

pub static STS_POLICY_INVALID: Rule = Rule {
    code: "STS012",
    name: "mta-sts-policy-invalid",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy file cannot be read",
    explanation: "A policy needs `version: STSv1`, a `mode` of enforce, testing or none, at \
        least one `mx` pattern (except in mode none) and a `max_age` of at most 31557600 \
        seconds, each key once. Senders discard a policy that breaks these rules, so the \
        domain is treated as having no MTA-STS.",
    remediation: concat!(
        "Serve, with CRLF line endings:\n`version: STSv1`\n`mode: testing`\n\
        `mx: mx1.<domain>`\n`max_age: 604800`\n(one `mx:` line per MX host or wildcard).",
        caching!()
    ),
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, policy) = policy(f)?;
            Ok(Outcome::of(
                policy
                    .errors
                    .iter()
                    .map(|e| at(p, format!("{}: {e}", p.fetch.url)))
                    .collect(),
            ))
        })
    },
};

/// A violation when the policy's `max_age` lies in `range` (seconds).
fn max_age_in(f: &Facts, range: std::ops::Range<u64>, what: &str) -> Outcome {
    run(|| {
        let (p, policy) = valid(f)?;
        Ok(match policy.max_age {
            Some(n) if range.contains(&n) && policy.mode.as_deref() != Some("none") => {
                Outcome::Fail(vec![at(p, format!("max_age is {n} seconds ({what})"))])
            }
            _ => Outcome::Pass,
        })
    })
}

pub static STS_MAX_AGE_SHORT: Rule = Rule {
    code: "STS013",
    name: "mta-sts-max-age-short",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MTA-STS max_age is under a day",
    explanation: "MTA-STS protects only senders holding a cached policy: an attacker who can \
        block the policy fetch (the first contact, or after expiry) can also strip TLS. With a \
        max_age under a day the cache runs out between most deliveries, so the protection is \
        mostly absent. Short values are fine while testing changes, not as a steady state.",
    remediation: concat!(
        "Raise max_age to at least a week (`max_age: 604800`); RFC 8461 suggests weeks or \
        more (e.g. `max_age: 1209600`).",
        caching!()
    ),
    reference: "RFC 8461 §3.2, §10",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| max_age_in(f, 0..DAY, "under a day"),
};

pub static STS_MAX_AGE_UNDER_WEEK: Rule = Rule {
    code: "STS014",
    name: "mta-sts-max-age-under-week",
    category: Category::Transport,
    severity: Severity::Info,
    title: "The MTA-STS max_age is under a week",
    explanation: "A max_age of a few days leaves senders that deliver rarely without a cached \
        policy, so they are open to a downgrade on the first connection. RFC 8461 recommends \
        weeks or more once the policy is stable.",
    remediation: concat!(
        "Once the policy is stable, use `max_age: 1209600` (two weeks) or more.",
        caching!()
    ),
    reference: "RFC 8461 §3.2, §10",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| max_age_in(f, DAY..WEEK, "under a week"),
};

pub static STS_POLICY_FORMAT: Rule = Rule {
    code: "STS015",
    name: "mta-sts-policy-lax-format",
    category: Category::Transport,
    severity: Severity::Info,
    title: "The MTA-STS policy has bare-LF lines or unknown keys",
    explanation: "RFC 8461 specifies CRLF line endings; senders are asked to accept bare LF \
        too, and most do, but a strict parser may not. Unknown keys are ignored by senders: \
        often a typo (`max-age`, `mx :`) of a key that then counts as missing.",
    remediation: concat!(
        "Serve the policy with CRLF line endings and only the keys version, mode, mx and \
        max_age.",
        caching!()
    ),
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, policy) = policy(f)?;
            let mut v = Vec::new();
            if policy.bare_lf_lines > 0 {
                v.push(at(
                    p,
                    format!(
                        "{} line(s) end in a bare LF instead of CRLF",
                        policy.bare_lf_lines
                    ),
                ));
            }
            for k in &policy.unknown_keys {
                v.push(at(p, format!("unknown key {k:?} (ignored by senders)")));
            }
            Ok(Outcome::of(v))
        })
    },
};

pub static STS_MODE_NONE: Rule = Rule {
    code: "STS016",
    name: "mta-sts-mode-none",
    category: Category::Transport,
    severity: Severity::Info,
    title: "The MTA-STS policy is in mode none",
    explanation: "`mode: none` tells senders to drop any cached policy: it is how MTA-STS is \
        retired. It protects nothing, so keep it only as long as cached policies may live \
        (the previous max_age), then remove the TXT record and the policy.",
    remediation: "To protect the domain, move to `mode: testing` (with TLS-RPT) and then \
        `mode: enforce`, changing the TXT id each time. To finish retiring MTA-STS, remove \
        the `_mta-sts` record and the policy once the old max_age has passed.",
    reference: "RFC 8461 §3.2, §8.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, policy) = valid(f)?;
            Ok(if policy.mode.as_deref() == Some("none") {
                Outcome::Fail(vec![at(p, "mode is none: senders apply no policy".into())])
            } else {
                Outcome::Pass
            })
        })
    },
};

pub static STS_MX_NOT_COVERED: Rule = Rule {
    code: "STS017",
    name: "mta-sts-mx-not-covered",
    category: Category::Transport,
    severity: Severity::Error,
    title: "An MX host matches no MTA-STS mx pattern",
    explanation: "Senders deliver under MTA-STS only to MX hosts matching one of the policy's \
        `mx` patterns (a `*.` wildcard stands for exactly one label). In enforce mode, mail to \
        an MX host no pattern covers is not delivered there; in testing mode it is reported as \
        a failure. This happens when an MX is added or renamed and the policy is not updated.",
    remediation: concat!(
        "Add an `mx:` line for each MX host (or a wildcard such as `mx: *.<provider>`).",
        caching!()
    ),
    reference: "RFC 8461 §4.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (_, policy, mode) = active(f)?;
            let hosts = mx_hosts(f)?;
            Ok(Outcome::of(
                hosts
                    .iter()
                    .filter(|h| !policy.mx.iter().any(|pat| mx_matches(pat, h)))
                    .map(|h| {
                        Violation::at(
                            *h,
                            format!(
                                "MX {h} matches none of the patterns {} ({mode} mode)",
                                policy.mx.join(", ")
                            ),
                        )
                    })
                    .collect(),
            ))
        })
    },
};

pub static STS_PATTERN_UNUSED: Rule = Rule {
    code: "STS018",
    name: "mta-sts-pattern-unused",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "An MTA-STS mx pattern matches no MX host",
    explanation: "A pattern that matches none of the domain's MX hosts is left over from an old \
        provider or has a typo. It does no harm to delivery by itself, but it authorises a \
        host the domain no longer uses: whoever controls that name could receive the domain's \
        mail under a valid policy if the MX records were ever pointed there.",
    remediation: concat!(
        "Remove the pattern, or correct it to the MX host it was meant for.",
        caching!()
    ),
    reference: "RFC 8461 §4.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, policy, _) = active(f)?;
            let hosts = mx_hosts(f)?;
            Ok(Outcome::of(
                policy
                    .mx
                    .iter()
                    .filter(|pat| !hosts.iter().any(|h| mx_matches(pat, h)))
                    .map(|pat| at(p, format!("the pattern {pat} matches no MX host")))
                    .collect(),
            ))
        })
    },
};

/// Violations for each probed MX whose certificate a sender would reject under the policy.
fn invalid_certs(f: &Facts, want: &str) -> Outcome {
    run(|| {
        let (_, _, mode) = active(f)?;
        if mode != want {
            return Ok(Outcome::NotApplicable);
        }
        if !f.smtp.enabled {
            return Ok(Outcome::NotRun("--no-smtp".into()));
        }
        let mut judged = false;
        let mut v = Vec::new();
        for probe in &f.smtp.probes {
            let Some(tls) = probe.tls.as_ref().filter(|t| t.verdict.is_some()) else {
                continue;
            };
            judged = true;
            let why = match &tls.verdict {
                Some(CertVerdict::Trusted) if tls.name_matches != Some(false) => continue,
                Some(CertVerdict::Trusted | CertVerdict::NameMismatch) => {
                    format!("the certificate is not valid for {}", probe.host)
                }
                Some(CertVerdict::Expired) => "the certificate has expired".into(),
                Some(CertVerdict::UnknownIssuer) => {
                    "the certificate does not chain to a trusted root".into()
                }
                Some(other) => format!("the certificate is rejected ({other:?})"),
                None => continue,
            };
            v.push(Violation::at(
                format!("{} {}", probe.host, probe.ip),
                format!("{} ({}): {why}", probe.host, probe.ip),
            ));
        }
        Ok(Outcome::of_judged(judged, v))
    })
}

pub static STS_ENFORCE_CERT_INVALID: Rule = Rule {
    code: "STS019",
    name: "mta-sts-enforce-invalid-certificate",
    category: Category::Transport,
    severity: Severity::Error,
    title: "MTA-STS enforce mode, but an MX host's certificate is not valid",
    explanation: "In enforce mode, MTA-STS senders deliver only over TLS with a certificate that \
        chains to a public root and is valid for the MX host name. An MX presenting a \
        self-signed, expired or wrong-name certificate therefore receives no mail from them: \
        Gmail, Microsoft and others queue and then bounce it.",
    remediation: concat!(
        "Fix the certificate on that MX host (a publicly trusted certificate for its MX name, \
        with the full chain), or switch the policy to `mode: testing` until it is fixed.",
        caching!()
    ),
    reference: "RFC 8461 §4.2, §5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| invalid_certs(f, "enforce"),
};

pub static STS_TESTING_CERT_INVALID: Rule = Rule {
    code: "STS020",
    name: "mta-sts-testing-invalid-certificate",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "MTA-STS testing mode, and an MX host's certificate is not valid",
    explanation: "In testing mode senders still deliver, but they report every delivery to \
        an MX whose certificate fails the MTA-STS checks. Moving to enforce now would stop \
        mail to that host.",
    remediation: "Fix the certificate on that MX host (publicly trusted, valid for its MX \
        name, full chain) before moving the policy to `mode: enforce`.",
    reference: "RFC 8461 §4.2, §5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| invalid_certs(f, "testing"),
};
