//! The rule engine: one static registry of rules, each a pure function over [`Facts`].
//!
//! A rule declares its stable code, name, category, default severity and the texts a reader
//! needs (title, explanation, remediation, reference). Its check returns an [`Outcome`]; the
//! engine turns outcomes into per-rule [`CheckResult`]s and [`Finding`]s, sorted the same way
//! on every run.

mod bimi;
mod bimi_logo;
mod bl;
mod dane;
mod dkim;
mod dmarc;
mod dns;
mod dnssec;
mod mx;
mod ptr;
pub mod redirects;
pub mod select;
mod spf;
mod sts;
mod sts_fetch;
mod sts_policy;
mod tls;

use serde::{Deserialize, Serialize};

pub use bl::unusable as bl_unusable;
pub use dns::RootCause;
pub use select::{RuleState, Selection, Selector, UnknownSelector, closest_code};

use crate::dns::{DnsFailure, Lookup};
use crate::facts::Facts;
use crate::finding::{Category, Finding, Severity, Status};

/// A registered rule.
pub struct Rule {
    /// Stable code, `PREFIX` + three digits; never reused for another meaning.
    pub code: &'static str,
    /// Kebab-case name of the problem.
    pub name: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line, stating the problem.
    pub title: &'static str,
    /// Why it matters: what breaks, for whom.
    pub explanation: &'static str,
    /// How to fix it.
    pub remediation: &'static str,
    /// RFC section or documentation link.
    pub reference: &'static str,
    /// The release that added the rule.
    pub since: &'static str,
    /// How settled the rule is; a retired code leaves the registry for [`redirects::RETIRED`].
    pub status: RuleStatus,
    pub check: fn(&Facts) -> Outcome,
}

/// A rule's life cycle, as in ruff: a code keeps its meaning through all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Settled: its meaning and default severity change only in a major release.
    Stable,
    /// New: its wording, default severity or reach may still change in a minor release.
    Preview,
    /// Still runs, but will be retired; `explain` says what replaces it.
    Deprecated,
    /// Retired: no longer runs, and its code stays reserved (see [`redirects::RETIRED`]).
    Removed,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Preview => "preview",
            Self::Deprecated => "deprecated",
            Self::Removed => "removed",
        }
    }
}

/// What a rule's check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(Vec<Violation>),
    /// A lookup the rule needs failed; the reason names it.
    Unknown(String),
    /// The facts could not be obtained over the network (an SMTP server unreachable from
    /// here, a blocklist that refuses this resolver): `unknown`, but not a DNS failure, so it
    /// never makes the exit code 3.
    Unreachable(String),
    NotApplicable,
    /// Switched off by the user; the reason names the option.
    NotRun(String),
}

/// One instance of a rule's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub subject: Option<String>,
    /// The exact record to publish, where one can be derived from the facts.
    pub fix: Option<String>,
    /// A severity above the rule's default for this instance alone: a certificate problem
    /// that DANE senders act on at this host (see `dane::escalate`). The config file's
    /// override for the code, when there is one, wins.
    pub severity: Option<Severity>,
}

impl Violation {
    fn at(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            subject: Some(subject.into()),
            fix: None,
            severity: None,
        }
    }
}

impl Outcome {
    /// Pass when nothing was found, otherwise a failure with every violation.
    fn of(violations: Vec<Violation>) -> Self {
        if violations.is_empty() {
            Self::Pass
        } else {
            Self::Fail(violations)
        }
    }

    /// Like [`Outcome::of`] when something could be judged, otherwise not applicable.
    fn of_judged(judged: bool, violations: Vec<Violation>) -> Self {
        if judged || !violations.is_empty() {
            Self::of(violations)
        } else {
            Self::NotApplicable
        }
    }

    fn fail(message: impl Into<String>) -> Self {
        Self::Fail(vec![Violation {
            severity: None,
            message: message.into(),
            subject: None,
            fix: None,
        }])
    }

    /// "Could not tell" for a lookup of `what` that failed.
    fn unknown(what: &str, failure: &DnsFailure) -> Self {
        Self::Unknown(format!("the lookup of {what} {failure}"))
    }

    /// Unknown when `lookup` failed, otherwise the result of `then`.
    fn needs<T>(lookup: &Lookup<T>, what: &str, then: impl FnOnce() -> Self) -> Self {
        match lookup.failure() {
            Some(f) => Self::unknown(what, f),
            None => then(),
        }
    }
}

/// Every rule, in code order.
pub static RULES: &[&Rule] = &[
    &bimi::BIMI_INVALID,
    &bimi::BIMI_MULTIPLE,
    &bimi::BIMI_DMARC_WEAK,
    &bimi::BIMI_NO_EVIDENCE,
    &bimi::BIMI_CNAME_DANGLING,
    &bimi_logo::BIMI_LOGO_UNREACHABLE,
    &bimi_logo::BIMI_LOGO_NOT_TINY_PS,
    &bimi_logo::BIMI_LOGO_TOO_LARGE,
    &bimi_logo::BIMI_EVIDENCE_UNREACHABLE,
    &bl::IP_LISTED,
    &bl::IP_LISTED_POLICY,
    &bl::DOMAIN_LISTED,
    &bl::BLOCKLIST_UNUSABLE,
    &dane::DANE_NO_MATCH,
    &dane::DANE_INSECURE,
    &dane::DANE_UNUSABLE_PARAMS,
    &dane::DANE_NO_ROLLOVER,
    &dane::DANE_WITHOUT_STARTTLS,
    &dane::DANE_AND_STS,
    &dkim::DKIM_NOT_FOUND,
    &dkim::DKIM_SELECTOR_MISSING,
    &dkim::keys::DKIM_INVALID,
    &dkim::keys::DKIM_KEY_WEAK,
    &dkim::keys::DKIM_KEY_1024,
    &dkim::keys::DKIM_KEY_HUGE,
    &dkim::keys::DKIM_ED25519_ONLY,
    &dkim::keys::DKIM_REVOKED,
    &dkim::keys::DKIM_TESTING,
    &dkim::keys::DKIM_SHA1_ONLY,
    &dkim::keys::DKIM_NO_SUBDOMAINS,
    &dkim::keys::DKIM_SERVICE,
    &dkim::keys::DKIM_MULTIPLE,
    &dkim::DKIM_CNAME_DANGLING,
    &dkim::keys::DKIM_KEY_TYPE,
    &dkim::DKIM_CNAME_NO_KEY,
    &dmarc::DMARC_MISSING,
    &dmarc::DMARC_POLICY_NONE,
    &dmarc::DMARC_MULTIPLE,
    &dmarc::DMARC_INVALID,
    &dmarc::policy::DMARC_NO_POLICY_TAG,
    &dmarc::tags::DMARC_OBSOLETE_TAG,
    &dmarc::policy::DMARC_PCT_PARTIAL,
    &dmarc::tags::DMARC_UNKNOWN_TAG,
    &dmarc::tags::DMARC_TAG_VALUE,
    &dmarc::tags::DMARC_NO_RUA,
    &dmarc::tags::DMARC_URI_INVALID,
    &dmarc::tags::DMARC_REPORT_UNAUTHORISED,
    &dmarc::tags::DMARC_REPORT_NO_MX,
    &dmarc::policy::DMARC_SUBDOMAIN_WEAKER,
    &dmarc::policy::DMARC_TESTING,
    &dmarc::policy::DMARC_INHERITED,
    &dmarc::policy::DMARC_ORG_DISAGREEMENT,
    &dmarc::tags::DMARC_CNAME_DANGLING,
    &dmarc::tags::DMARC_UNRELATED_TXT,
    &dmarc::policy::DMARC_PARKED_WEAK,
    &dns::DOMAIN_NOT_FOUND,
    &dns::CNAME_BESIDE_DATA,
    &dnssec::DNSSEC_UNSIGNED,
    &dnssec::DNSSEC_BOGUS,
    &dnssec::DNSSEC_EXPIRING,
    &mx::NO_MAIL_ROUTE,
    &mx::IMPLICIT_MX,
    &mx::NULL_MX,
    &mx::NULL_MX_MIXED,
    &mx::MX_HOST_UNRESOLVABLE,
    &mx::MX_TARGET_CNAME,
    &mx::MX_TARGET_IP_LITERAL,
    &mx::MX_NO_IPV6,
    &mx::MX_IPV6_ONLY,
    &mx::MX_DUPLICATE,
    &mx::MX_EQUAL_PREFERENCE,
    &mx::MX_ADDRESS_NOT_ROUTABLE,
    &mx::MX_ADDRESS_PRIVATE,
    &ptr::PTR_MISSING,
    &ptr::PTR_NOT_CONFIRMED,
    &ptr::PTR_GENERIC,
    &ptr::PTR_SMTP_NAME,
    &sts::RPT_INVALID,
    &sts::RPT_MULTIPLE,
    &sts::RPT_MISSING,
    &sts::RPT_CNAME_DANGLING,
    &spf::SPF_MISSING,
    &spf::SPF_MULTIPLE,
    &spf::tree::SPF_SYNTAX,
    &spf::tree::SPF_TOO_MANY_LOOKUPS,
    &spf::tree::SPF_TOO_MANY_VOIDS,
    &spf::tree::SPF_INCLUDE_LOOP,
    &spf::tree::SPF_INCLUDE_WITHOUT_SPF,
    &spf::tree::SPF_ALLOWS_ALL,
    &spf::tree::SPF_WIDE_RANGE,
    &spf::record::SPF_NEUTRAL_DEFAULT,
    &spf::record::SPF_SOFTFAIL_ALL,
    &spf::tree::SPF_PTR,
    &spf::tree::SPF_MACROS,
    &spf::record::SPF_ANSWER_TOO_LARGE,
    &spf::record::SPF_GLUED_STRINGS,
    &spf::record::SPF_EXP_MISSING,
    &spf::record::SPF_NEAR_MISS,
    &spf::record::SPF_TYPE99,
    &spf::tree::SPF_DUPLICATE_INCLUDE,
    &spf::record::SPF_HELO_MISSING,
    &sts::STS_MISSING,
    &sts::STS_INVALID,
    &sts::STS_MULTIPLE,
    &sts::STS_CNAME_DANGLING,
    &sts_fetch::STS_POLICY_UNREACHABLE,
    &sts_fetch::STS_POLICY_WITHOUT_RECORD,
    &sts_fetch::STS_POLICY_STATUS,
    &sts_fetch::STS_POLICY_REDIRECT,
    &sts_fetch::STS_POLICY_CONTENT_TYPE,
    &sts_fetch::STS_POLICY_TOO_LARGE,
    &sts_fetch::STS_POLICY_TLS,
    &sts_policy::STS_POLICY_INVALID,
    &sts_policy::STS_MAX_AGE_SHORT,
    &sts_policy::STS_MAX_AGE_UNDER_WEEK,
    &sts_policy::STS_POLICY_FORMAT,
    &sts_policy::STS_MODE_NONE,
    &sts_policy::STS_MX_NOT_COVERED,
    &sts_policy::STS_PATTERN_UNUSED,
    &sts_policy::STS_ENFORCE_CERT_INVALID,
    &sts_policy::STS_TESTING_CERT_INVALID,
    &sts_fetch::STS_HOST_CNAME_DANGLING,
    &tls::STARTTLS_MISSING,
    &tls::HANDSHAKE_FAILED,
    &tls::CERT_EXPIRED,
    &tls::CERT_EXPIRING,
    &tls::CERT_SELF_SIGNED,
    &tls::CERT_UNTRUSTED,
    &tls::CHAIN_INCOMPLETE,
    &tls::CERT_NAME_MISMATCH,
    &tls::CERT_WEAK,
    &tls::GREETING_REFUSED,
    &tls::SMTP_SLOW,
    &tls::SMTP_REFUSED_EVERYWHERE,
    &tls::STARTTLS_INJECTION,
    &tls::PROBE_SKIPPED,
    &tls::CERT_DIFFERS,
];

/// Looks a rule up by code.
pub fn find(code: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code))
}

/// The state of one rule for one domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub code: String,
    pub name: String,
    pub category: Category,
    /// The severity its findings carry: the rule's default, or the config file's override;
    /// when one finding is escalated (a certificate problem DANE senders act on), the worst.
    pub severity: Severity,
    pub status: Status,
    /// Why the status is `unknown`, `not-applicable` or `not-run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `unknown`: whether a DNS lookup failed (`dns`, exit code 3) or a server could not
    /// be reached from here (`network`, never exit code 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<UnknownCause>,
}

/// What kept a check from being decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownCause {
    Dns,
    Network,
}

/// All rules applied to one domain.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
    pub root_cause: Option<RootCause>,
}

/// Runs every rule over the facts, each at its default severity.
pub fn evaluate(facts: &Facts) -> Evaluation {
    evaluate_with(facts, &Selection::all())
}

/// Runs the selected rules over the facts; the others are `not-run`.
///
/// Two root causes short-cut the rest, so the report names one cause instead of twenty
/// symptoms: a domain that does not exist (only DNS001 is reported) and a resolver that
/// answered nothing (every check is `unknown`).
pub fn evaluate_with(facts: &Facts, selection: &Selection) -> Evaluation {
    let root = dns::root_cause(facts);
    let mut eval = Evaluation::default();
    for rule in RULES {
        let (mut severity, off) = match selection.state(rule) {
            RuleState::Run(severity) => (severity, None),
            RuleState::Off(why) => (rule.severity, Some(why)),
        };
        let outcome = match (off, &root) {
            (Some(why), _) => Outcome::NotRun(why),
            (None, Some(RootCause::ResolverUnreachable { reason })) => {
                Outcome::Unknown(format!("the resolver {reason}"))
            }
            (None, Some(RootCause::DomainNotFound)) if rule.code != dns::DOMAIN_NOT_FOUND.code => {
                Outcome::NotApplicable
            }
            (None, _) => (rule.check)(facts),
        };
        let mut cause = None;
        let (status, reason) = match outcome {
            Outcome::Pass => (Status::Pass, None),
            Outcome::NotApplicable => (
                Status::NotApplicable,
                root.as_ref()
                    .map(|_| "the domain does not exist".to_owned()),
            ),
            Outcome::NotRun(why) => (Status::NotRun, Some(why)),
            Outcome::Unknown(why) => {
                cause = Some(UnknownCause::Dns);
                (Status::Unknown, Some(why))
            }
            Outcome::Unreachable(why) => {
                cause = Some(UnknownCause::Network);
                (Status::Unknown, Some(why))
            }
            Outcome::Fail(violations) => {
                // The check carries the worst severity of its findings, so the score weighs
                // an escalated finding as an error.
                let chosen = severity;
                for v in violations {
                    let own = match v.severity {
                        Some(s) if chosen == rule.severity => s.max(chosen),
                        _ => chosen,
                    };
                    severity = severity.max(own);
                    eval.findings.push(Finding {
                        code: rule.code.into(),
                        name: rule.name.into(),
                        severity: own,
                        category: rule.category,
                        title: rule.title.into(),
                        message: v.message,
                        subject: v.subject,
                        fix: v.fix,
                        remediation: rule.remediation.into(),
                        reference: rule.reference.into(),
                    });
                }
                (Status::Fail, None)
            }
        };
        eval.checks.push(CheckResult {
            code: rule.code.into(),
            name: rule.name.into(),
            category: rule.category,
            severity,
            status,
            reason,
            cause,
        });
    }
    // Most severe first, then by code and subject: the same facts give the same order.
    eval.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.message.cmp(&b.message))
    });
    eval.root_cause = root;
    eval
}

#[cfg(test)]
mod tests {
    use super::*;

    fn well_formed(code: &str) -> bool {
        let prefixes = [
            "MX", "SPF", "DKIM", "DMARC", "TLS", "STS", "RPT", "BIMI", "PTR", "BL", "DNS",
            "DNSSEC", "DANE",
        ];
        prefixes.iter().any(|p| {
            code.strip_prefix(p)
                .is_some_and(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
        })
    }

    #[test]
    fn codes_are_unique_well_formed_and_sorted() {
        let codes: Vec<_> = RULES.iter().map(|r| r.code).collect();
        for code in &codes {
            assert!(well_formed(code), "{code} does not match the code pattern");
        }
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes must be unique and listed in order");
    }

    #[test]
    fn every_rule_explains_itself() {
        for r in RULES {
            assert!(!r.title.is_empty(), "{}: title", r.code);
            assert!(r.explanation.len() > 40, "{}: explanation too thin", r.code);
            assert!(r.remediation.len() > 20, "{}: remediation too thin", r.code);
            assert!(
                r.reference.starts_with("RFC ") || r.reference.starts_with("https://"),
                "{}: reference",
                r.code
            );
            assert!(
                !r.name.is_empty()
                    && r.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}: name must be kebab-case",
                r.code
            );
        }
        let names: std::collections::HashSet<_> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(names.len(), RULES.len(), "names must be unique");
    }
}
