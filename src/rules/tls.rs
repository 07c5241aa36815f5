//! Transport rules over the SMTP/STARTTLS probe: is STARTTLS offered, does the handshake work,
//! and is the certificate one a sender could trust?
//!
//! On opportunistic SMTP, senders deliver whatever the certificate, so a bad certificate is a
//! warning here; it is an error once MTA-STS enforce or DANE makes senders check it.

mod cert;

use super::{Outcome, Rule, Violation};
use crate::checks::smtp::{ErrorKind, Probe, Stage, TlsFacts};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub use cert::{
    CERT_DIFFERS, CERT_EXPIRED, CERT_EXPIRING, CERT_NAME_MISMATCH, CERT_SELF_SIGNED,
    CERT_UNTRUSTED, CERT_WEAK, CHAIN_INCOMPLETE,
};

/// Why nothing could be decided: the best summary of the probes that did not get far enough.
pub(super) fn unreachable_reason(probes: &[Probe]) -> String {
    let tried: Vec<&Probe> = probes.iter().filter(|p| p.skipped.is_none()).collect();
    if tried.is_empty() {
        return "no MX address may be contacted (see TLS014)".into();
    }
    if let Some(p) = tried
        .iter()
        .find(|p| p.greeting.as_ref().is_some_and(|g| g.code != 220))
    {
        let code = p.greeting.as_ref().map_or(0, |g| g.code);
        return format!(
            "{} ({}) refused this client with a {code} greeting, so TLS could not be checked",
            p.host, p.ip
        );
    }
    let timeouts = tried
        .iter()
        .filter(|p| p.failed_at(Stage::Connect) == Some(ErrorKind::Timeout))
        .count();
    if timeouts == tried.len() {
        return "every MX address timed out on connect: outbound port 25 may be blocked where \
                mailcheck runs (common on home and cloud networks)"
            .into();
    }
    let unreachable = tried
        .iter()
        .filter(|p| p.failed_at(Stage::Connect) == Some(ErrorKind::Unreachable))
        .count();
    if unreachable > 0 && unreachable + timeouts == tried.len() {
        return "no route to the MX addresses from here (e.g. no IPv6 where mailcheck runs)".into();
    }
    match tried.iter().find_map(|p| p.error.as_ref().map(|e| (p, e))) {
        Some((p, e)) => format!("the probe of {} ({}) stopped: {}", p.host, p.ip, e.detail),
        None => "no probe reached this stage".into(),
    }
}

/// The common shape of per-probe rules.
///
/// `applies` picks the probes that got far enough to be judged; `violation` judges one. With no
/// probe to judge, the rule is not applicable when some probe answered in a way that makes it
/// moot (`moot`), and otherwise unknown for a network reason.
fn per_probe(
    f: &Facts,
    applies: impl Fn(&Probe) -> bool,
    moot: impl Fn(&Probe) -> bool,
    violation: impl Fn(&Probe) -> Option<String>,
) -> Outcome {
    per_probe_at(f, applies, moot, violation, |_| None)
}

/// [`per_probe`], with a severity above the rule's for some probes (`escalate`).
fn per_probe_at(
    f: &Facts,
    applies: impl Fn(&Probe) -> bool,
    moot: impl Fn(&Probe) -> bool,
    violation: impl Fn(&Probe) -> Option<String>,
    escalate: impl Fn(&Probe) -> Option<Severity>,
) -> Outcome {
    if !f.smtp.enabled {
        return Outcome::NotRun("--no-smtp".into());
    }
    let probes = &f.smtp.probes;
    if probes.is_empty() {
        return Outcome::NotApplicable;
    }
    let judged: Vec<&Probe> = probes.iter().filter(|p| applies(p)).collect();
    if judged.is_empty() {
        return if probes.iter().any(moot) {
            Outcome::NotApplicable
        } else {
            Outcome::Unreachable(unreachable_reason(probes))
        };
    }
    Outcome::of(
        judged
            .iter()
            .filter_map(|p| {
                violation(p).map(|m| Violation {
                    severity: escalate(p),
                    ..Violation::at(subject(p), format!("{} ({}): {m}", p.host, p.ip))
                })
            })
            .collect(),
    )
}

pub(super) fn subject(p: &Probe) -> String {
    format!("{} {}", p.host, p.ip)
}

/// The TLS facts of a probe whose handshake got a certificate.
pub(super) fn cert_facts(p: &Probe) -> Option<&TlsFacts> {
    p.tls.as_ref().filter(|t| !t.chain.is_empty())
}

pub(super) fn ehlo_ok(p: &Probe) -> bool {
    p.ehlo.as_ref().is_some_and(|r| r.code == 250)
}

pub(super) fn offers_starttls(p: &Probe) -> bool {
    p.ehlo
        .as_ref()
        .is_some_and(|r| r.code == 250 && r.has_extension("STARTTLS"))
}

pub static STARTTLS_MISSING: Rule = Rule {
    code: "TLS001",
    name: "starttls-not-offered",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The MX host does not offer STARTTLS",
    explanation: "Without STARTTLS, mail to the domain crosses the Internet in clear text: \
        anyone on the path can read it. Gmail flags such mail to users as not encrypted.",
    remediation: "Enable STARTTLS on the SMTP server with a certificate for the MX host name \
        (e.g. Postfix `smtpd_tls_security_level = may` with `smtpd_tls_cert_file`).",
    reference: "RFC 3207 §4",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: starttls_missing,
};

fn starttls_missing(f: &Facts) -> Outcome {
    per_probe(
        f,
        ehlo_ok,
        |_| false,
        |p| (!offers_starttls(p)).then(|| "the EHLO reply does not list STARTTLS".to_owned()),
    )
}

pub static HANDSHAKE_FAILED: Rule = Rule {
    code: "TLS002",
    name: "tls-handshake-failed",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "STARTTLS is offered but the TLS handshake fails",
    explanation: "The server offers STARTTLS, then the handshake fails. Senders then retry in \
        clear text or not at all, depending on their policy; mail may be delayed or sent \
        unencrypted.",
    remediation: "Check the server's TLS configuration: certificate and key files, and that \
        it offers TLS 1.2 or 1.3 with current cipher suites.",
    reference: "RFC 3207 §4.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: handshake_failed,
};

fn handshake_failed(f: &Facts) -> Outcome {
    per_probe(
        f,
        offers_starttls,
        |p| ehlo_ok(p) && !offers_starttls(p),
        |p| {
            if let Some(r) = p.starttls.as_ref().filter(|r| r.code != 220) {
                return Some(format!(
                    "STARTTLS is offered, then refused: {} {}",
                    r.code,
                    r.lines.join(" / ")
                ));
            }
            let e = p.error.as_ref().filter(|e| {
                e.stage == Stage::Handshake
                    || (e.stage == Stage::Starttls && e.kind != ErrorKind::Injection)
            })?;
            Some(match (e.stage, e.kind) {
                (_, ErrorKind::TlsIncompatible) => format!(
                    "no TLS 1.2+ handshake possible ({}): the server may offer only TLS 1.0/1.1 \
                     or legacy cipher suites, which mailcheck (rustls) does not speak",
                    e.detail
                ),
                (Stage::Starttls, _) => format!("STARTTLS failed: {}", e.detail),
                _ => format!("the handshake failed: {}", e.detail),
            })
        },
    )
}

pub static GREETING_REFUSED: Rule = Rule {
    code: "TLS010",
    name: "smtp-greeting-not-220",
    category: Category::Transport,
    severity: Severity::Warning,
    title: "The SMTP server does not greet with 220",
    explanation: "The server answered the connection with another code than 220. A 421 or 554 \
        means it refuses this client (often because of the network mailcheck runs from); the \
        TLS checks are then unknown. Senders that get it elsewhere cannot deliver.",
    remediation: "If real senders get it too, check the server's connection limits and access \
        rules. Otherwise, run mailcheck from another network.",
    reference: "RFC 5321 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: greeting_refused,
};

fn greeting_refused(f: &Facts) -> Outcome {
    per_probe(
        f,
        |p| p.greeting.is_some(),
        |_| false,
        |p| {
            let g = p.greeting.as_ref()?;
            (g.code != 220).then(|| {
                let why = if matches!(g.code, 421 | 554) {
                    " (refuses this client)"
                } else {
                    ""
                };
                format!("greeted with {} {}{why}", g.code, g.lines.join(" / "))
            })
        },
    )
}

/// A connection over 3 s or a greeting over 5 s: worth knowing, not broken.
const SLOW_CONNECT_MS: u64 = 3_000;
const SLOW_GREETING_MS: u64 = 5_000;

pub static SMTP_SLOW: Rule = Rule {
    code: "TLS011",
    name: "smtp-slow",
    category: Category::Transport,
    severity: Severity::Info,
    title: "The SMTP server is slow to connect or greet",
    explanation: "Connecting took more than 3 s, or the greeting more than 5 s. Some servers \
        delay the greeting on purpose (postscreen, greet-pause) to catch clients that talk \
        too early; that is not broken, but impatient senders may give up.",
    remediation: "Nothing to do if the delay is deliberate; otherwise check the server's load \
        and its DNS lookups of connecting clients.",
    reference: "RFC 5321 §4.5.3.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: smtp_slow,
};

fn smtp_slow(f: &Facts) -> Outcome {
    per_probe(
        f,
        Probe::connected,
        |_| false,
        |p| match (p.connect_ms, p.greeting_ms) {
            (Some(c), _) if c > SLOW_CONNECT_MS => Some(format!("connecting took {c} ms")),
            (_, Some(g)) if g > SLOW_GREETING_MS => Some(format!("the greeting took {g} ms")),
            _ => None,
        },
    )
}

pub static SMTP_REFUSED_EVERYWHERE: Rule = Rule {
    code: "TLS012",
    name: "smtp-refused-everywhere",
    category: Category::Transport,
    severity: Severity::Error,
    title: "Every MX address refuses SMTP connections",
    explanation: "Connections to port 25 of every MX address were reset: nothing listens, or a \
        firewall rejects. Senders cannot deliver. (A firewall between mailcheck and the \
        Internet that rejects outbound port 25 looks the same: check from another network.)",
    remediation: "Start the SMTP server, make it listen on the public addresses, and open port \
        25 in the firewall.",
    reference: "RFC 5321 §2.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: smtp_refused_everywhere,
};

fn smtp_refused_everywhere(f: &Facts) -> Outcome {
    if !f.smtp.enabled {
        return Outcome::NotRun("--no-smtp".into());
    }
    let tried: Vec<&Probe> = f
        .smtp
        .probes
        .iter()
        .filter(|p| p.skipped.is_none())
        .collect();
    if tried.is_empty() {
        return Outcome::NotApplicable;
    }
    if tried.iter().any(|p| p.connected()) {
        return Outcome::Pass;
    }
    if tried
        .iter()
        .all(|p| p.failed_at(Stage::Connect) == Some(ErrorKind::Refused))
    {
        let list: Vec<String> = tried.iter().map(|p| p.ip.to_string()).collect();
        return Outcome::fail(format!(
            "port {} refused the connection on {}",
            f.smtp.port,
            list.join(", ")
        ));
    }
    Outcome::Unreachable(unreachable_reason(&f.smtp.probes))
}

pub static STARTTLS_INJECTION: Rule = Rule {
    code: "TLS013",
    name: "starttls-response-injection",
    category: Category::Transport,
    severity: Severity::Error,
    title: "Data arrived between STARTTLS and the TLS handshake",
    explanation: "After its 220 reply to STARTTLS, the server (or something on the path) sent \
        more bytes before the handshake. A client that read them would take plain-text \
        replies as if they came over TLS: the STARTTLS command-injection flaw \
        (CVE-2011-0411 and its many relatives). mailcheck stopped the probe there.",
    remediation: "Update the SMTP server or the middlebox in front of it: after `220` to \
        STARTTLS, nothing may be sent until the handshake.",
    reference: "RFC 3207 §4.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: starttls_injection,
};

fn starttls_injection(f: &Facts) -> Outcome {
    per_probe(
        f,
        |p| p.starttls.as_ref().is_some_and(|r| r.code == 220),
        |p| ehlo_ok(p) && !offers_starttls(p),
        |p| {
            p.error
                .as_ref()
                .filter(|e| e.kind == ErrorKind::Injection)
                .map(|e| e.detail.clone())
        },
    )
}

pub static PROBE_SKIPPED: Rule = Rule {
    code: "TLS014",
    name: "smtp-probe-skipped",
    category: Category::Transport,
    severity: Severity::Info,
    title: "An MX address was not probed: mailcheck does not connect there",
    explanation: "The address is of a kind mailcheck never connects to (link-local, cloud \
        metadata, carrier-grade NAT, multicast, reserved, unspecified, or loopback and \
        private without `--allow-private`), in any of its IPv6 spellings. Its SMTP and TLS \
        checks are left undecided.",
    remediation: "Publish the mail server's public address (see MX012).",
    reference: "RFC 6890 §2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: probe_skipped,
};

fn probe_skipped(f: &Facts) -> Outcome {
    per_probe(
        f,
        |_| true,
        |_| false,
        |p| {
            p.skipped
                .map(|class| format!("not contacted: {} is a {class} address", p.ip))
        },
    )
}
