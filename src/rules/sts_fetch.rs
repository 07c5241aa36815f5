//! MTA-STS policy fetch rules (RFC 8461 §3.3): can a sender get the policy at all, over
//! HTTPS with a valid certificate, without redirects, as `text/plain`, within 64 KiB?
//!
//! A fetch problem matters only when the `_mta-sts` record announces a policy: without it no
//! sender fetches. A timeout is `unknown`, never "missing".

use super::{Outcome, Rule, Violation};
use crate::checks::https::{FetchResult, Response};
use crate::checks::mta_sts::PolicyFetch;
use crate::checks::smtp::CertVerdict;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

const REF: &str = "RFC 8461 §3.3";

/// `--no-https` → not run; otherwise the fetch.
pub(super) fn fetched(f: &Facts) -> Result<&PolicyFetch, Outcome> {
    f.mta_sts
        .policy
        .as_ref()
        .ok_or_else(|| Outcome::NotRun("--no-https".into()))
}

/// The fetch, when the `_mta-sts` record announces a policy: unknown when the TXT lookup
/// failed, not applicable without a record.
fn announced(f: &Facts) -> Result<&PolicyFetch, Outcome> {
    let p = fetched(f)?;
    let record = &f.mta_sts.record;
    if let Some(e) = record.lookup.failure() {
        return Err(Outcome::Unknown(format!(
            "the lookup of TXT {} {e}",
            record.name
        )));
    }
    if record.records.is_empty() {
        return Err(Outcome::NotApplicable);
    }
    Ok(p)
}

/// A response that came back for an announced policy.
fn announced_response(f: &Facts) -> Result<(&PolicyFetch, &Response), Outcome> {
    let p = announced(f)?;
    match p.fetch.response() {
        Some(r) => Ok((p, r)),
        None => Err(Outcome::NotApplicable),
    }
}

/// The `200` response of a served policy, announced or not.
pub(super) fn served(f: &Facts) -> Result<(&PolicyFetch, &Response), Outcome> {
    let p = fetched(f)?;
    match p.fetch.ok() {
        Some(r) => Ok((p, r)),
        None => Err(Outcome::NotApplicable),
    }
}

fn fail(p: &PolicyFetch, message: String) -> Outcome {
    Outcome::Fail(vec![Violation::at(&p.fetch.url, message)])
}

fn run(check: impl FnOnce() -> Result<Outcome, Outcome>) -> Outcome {
    check().unwrap_or_else(|o| o)
}

pub static STS_POLICY_UNREACHABLE: Rule = Rule {
    code: "STS005",
    name: "mta-sts-policy-unreachable",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS record is published but the policy cannot be fetched",
    explanation: "The `_mta-sts` TXT record tells senders a policy exists, but nothing answers \
        HTTPS at `mta-sts.<domain>`: the host has no address, or refuses connections. Senders \
        that had cached the policy keep applying it until max_age runs out; new senders deliver \
        without MTA-STS. Either way the domain does not get the protection it announces.",
    remediation: "Serve the policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt` \
        (an A/AAAA record for `mta-sts.<domain>` and a web server with a certificate for that \
        name), or, to retire MTA-STS, publish `mode: none` with a new TXT id and keep serving \
        it for max_age before removing anything.",
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let p = announced(f)?;
            if p.dangling().is_some() {
                return Ok(Outcome::Pass);
            }
            Ok(match &p.fetch.result {
                FetchResult::NoAddress
                | FetchResult::Forbidden { .. }
                | FetchResult::Connect { .. }
                | FetchResult::Other { .. } => fail(
                    p,
                    format!("{}: {}", p.fetch.url, p.fetch.problem().unwrap_or_default()),
                ),
                FetchResult::Timeout { detail } => {
                    Outcome::Unreachable(format!("fetching {}: timed out ({detail})", p.fetch.url))
                }
                FetchResult::DnsFailed { failure } => {
                    Outcome::Unknown(format!("the address lookup of {} {failure}", p.fetch.host))
                }
                FetchResult::Response(_) | FetchResult::Tls { .. } => Outcome::Pass,
            })
        })
    },
};

pub static STS_POLICY_WITHOUT_RECORD: Rule = Rule {
    code: "STS006",
    name: "mta-sts-policy-without-record",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "An MTA-STS policy is served but no `_mta-sts` record announces it",
    explanation: "Senders look for the `_mta-sts` TXT record first and fetch the policy only \
        when it exists, so a policy served without the record is never applied. This is often \
        a half-finished setup, or a record removed while the web side stayed.",
    remediation: "Publish `_mta-sts.<domain>. TXT \"v=STSv1; id=<yyyymmddhhmmss>\"`; or, if \
        MTA-STS is meant to be off, serve `mode: none` until every cached copy (max_age) has \
        expired, then remove the policy.",
    reference: "RFC 8461 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, _) = served(f)?;
            let record = &f.mta_sts.record;
            if let Some(e) = record.lookup.failure() {
                return Ok(Outcome::Unknown(format!(
                    "the lookup of TXT {} {e}",
                    record.name
                )));
            }
            Ok(
                if record.records.is_empty() && record.dangling().is_none() {
                    fail(
                        p,
                        format!(
                            "{} serves a policy, but {} has no v=STSv1 record",
                            p.fetch.url, record.name
                        ),
                    )
                } else {
                    Outcome::Pass
                },
            )
        })
    },
};

pub static STS_POLICY_STATUS: Rule = Rule {
    code: "STS007",
    name: "mta-sts-policy-http-error",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy URL answers with an HTTP error",
    explanation: "Senders accept the policy only from a `200 OK` answer. A 404 (the file is \
        not at `/.well-known/mta-sts.txt`, often a static-site host or CDN that does not serve \
        dot-directories) or a 5xx means no policy, while the TXT record says there is one.",
    remediation: "Serve the policy file at exactly `/.well-known/mta-sts.txt` on \
        `mta-sts.<domain>` with status 200. On static hosts, check that `.well-known` is \
        published (e.g. not excluded by the site generator).",
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, r) = announced_response(f)?;
            Ok(if r.status == 200 || (300..400).contains(&r.status) {
                Outcome::Pass
            } else {
                fail(p, format!("{} answered HTTP {}", p.fetch.url, r.status))
            })
        })
    },
};

pub static STS_POLICY_REDIRECT: Rule = Rule {
    code: "STS008",
    name: "mta-sts-policy-redirect",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy URL redirects",
    explanation: "RFC 8461 forbids senders to follow redirects when fetching the policy (a \
        redirect could hand the policy to another party), so a redirect, even to the same \
        file over another path, means no policy. mailcheck does not follow it either.",
    remediation: "Serve the file directly at `https://mta-sts.<domain>/.well-known/mta-sts.txt` \
        with status 200, with no redirect (check HTTP→HTTPS or `www` rules on the web server \
        or CDN).",
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, r) = announced_response(f)?;
            Ok(if (300..400).contains(&r.status) {
                let to = r.location.as_deref().unwrap_or("(no Location)");
                fail(
                    p,
                    format!(
                        "{} answered HTTP {} to {to}, which senders must not follow",
                        p.fetch.url, r.status
                    ),
                )
            } else {
                Outcome::Pass
            })
        })
    },
};

pub static STS_POLICY_CONTENT_TYPE: Rule = Rule {
    code: "STS009",
    name: "mta-sts-policy-content-type",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy is not served as text/plain",
    explanation: "RFC 8461 requires the policy's media type to be `text/plain`; senders such \
        as Google's reject a policy served as `text/html` or `application/octet-stream`, so it \
        is not applied.",
    remediation: "Configure the web server to send `Content-Type: text/plain` for \
        `/.well-known/mta-sts.txt` (a charset parameter is fine).",
    reference: "RFC 8461 §3.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, r) = served(f)?;
            Ok(if r.is_text_plain() {
                Outcome::Pass
            } else {
                let got = r.content_type.as_deref().unwrap_or("no Content-Type");
                fail(
                    p,
                    format!("{} is served as {got:?}, not text/plain", p.fetch.url),
                )
            })
        })
    },
};

pub static STS_POLICY_TOO_LARGE: Rule = Rule {
    code: "STS010",
    name: "mta-sts-policy-too-large",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy body is larger than 64 KiB",
    explanation: "Senders stop reading a policy at a size limit (64 KiB is the common one) to \
        protect themselves; a body that large is not a policy file (a web page, an error \
        document, a misconfigured route) and is not applied. mailcheck read up to the limit \
        and stopped.",
    remediation: "Serve only the policy lines (`version`, `mode`, `mx`, `max_age`) at \
        `/.well-known/mta-sts.txt`: a few hundred bytes.",
    reference: "RFC 8461 §3.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let (p, r) = served(f)?;
            Ok(if r.truncated {
                fail(
                    p,
                    format!(
                        "{} sent more than {} bytes; reading stopped there",
                        p.fetch.url, r.bytes
                    ),
                )
            } else {
                Outcome::Pass
            })
        })
    },
};

pub static STS_POLICY_TLS: Rule = Rule {
    code: "STS011",
    name: "mta-sts-policy-certificate",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy host's certificate is not valid",
    explanation: "Senders fetch the policy over HTTPS with full certificate checks: the \
        certificate must chain to a public root and cover `mta-sts.<domain>`. CDNs and \
        static-site hosts often present a certificate for their own name or for the apex \
        domain only; then the policy cannot be fetched and is not applied.",
    remediation: "Get a certificate whose names include `mta-sts.<domain>` (e.g. from Let's \
        Encrypt), served with its full chain, and renew it automatically.",
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let p = announced(f)?;
            Ok(match &p.fetch.result {
                FetchResult::Tls { verdict, detail } => {
                    let why = match verdict {
                        Some(CertVerdict::NameMismatch) => {
                            format!("the certificate does not cover {}", p.host)
                        }
                        Some(CertVerdict::Expired) => "the certificate has expired".into(),
                        Some(CertVerdict::UnknownIssuer) => {
                            "the certificate does not chain to a trusted root".into()
                        }
                        _ => format!("the TLS handshake failed: {detail}"),
                    };
                    fail(p, format!("{}: {why}", p.fetch.url))
                }
                _ => Outcome::Pass,
            })
        })
    },
};

pub static STS_HOST_CNAME_DANGLING: Rule = Rule {
    code: "STS021",
    name: "mta-sts-host-cname-dangling",
    category: Category::Transport,
    severity: Severity::Error,
    title: "The MTA-STS policy host is a CNAME to a name that does not exist",
    explanation: "`mta-sts.<domain>` delegates to another name (usually a hosting provider's) \
        that does not exist: no policy can be fetched, and whoever can claim the target name \
        can serve an MTA-STS policy for the domain, steering its inbound mail.",
    remediation: "Point the CNAME at the provider's current name, or replace it with A/AAAA \
        records of a host serving the policy; if MTA-STS is no longer wanted, retire it with \
        `mode: none` first.",
    reference: "RFC 8461 §3.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        run(|| {
            let p = fetched(f)?;
            Ok(match p.dangling() {
                Some(t) => Outcome::Fail(vec![Violation::at(
                    &p.host,
                    format!(
                        "{} is a CNAME to {t}, which does not exist (NXDOMAIN)",
                        p.host
                    ),
                )]),
                None => Outcome::Pass,
            })
        })
    },
};
