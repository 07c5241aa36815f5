//! The vocabulary every check and report shares: severities, categories, statuses, findings.

use serde::{Deserialize, Serialize};

/// How much a failed check matters. `unknown` and `not-run` are statuses, not severities.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never lowers the score.
    Info,
    /// Mail is at risk (spoofable, may land in spam, may fail under some conditions).
    Warning,
    /// Mail fails, or anyone can spoof the domain.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// The four report categories, of equal weight in the score.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Can mail reach the domain: MX, addresses, reverse DNS.
    Routing,
    /// Can others send as the domain: SPF, DKIM, DMARC.
    Authentication,
    /// Is mail to the domain protected in transit: STARTTLS, certificates, MTA-STS, DANE.
    Transport,
    /// Will receivers trust the domain's hosts: blocklists.
    Reputation,
}

impl Category {
    pub const ALL: [Self; 4] = [
        Self::Routing,
        Self::Authentication,
        Self::Transport,
        Self::Reputation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Routing => "routing",
            Self::Authentication => "authentication",
            Self::Transport => "transport",
            Self::Reputation => "reputation",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Routing => "Mail routing",
            Self::Authentication => "Sender authentication",
            Self::Transport => "Transport security",
            Self::Reputation => "Reputation",
        }
    }
}

/// What became of one rule for one domain.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Checked and fine.
    Pass,
    /// Checked, and at least one finding.
    Fail,
    /// The facts it needs could not be obtained (a lookup failed). Never counts as passed.
    Unknown,
    /// Does not apply to this domain (e.g. MX host checks on a domain with a null MX).
    NotApplicable,
    /// Switched off by the user.
    NotRun,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Unknown => "unknown",
            Self::NotApplicable => "not-applicable",
            Self::NotRun => "not-run",
        }
    }
}

/// One problem found, with everything a reader needs to act on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    pub category: Category,
    pub title: String,
    /// What was found, for this domain: names, values, counts.
    pub message: String,
    /// The host, record or name the finding is about, when narrower than the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub remediation: String,
    /// The exact record to publish, where mailcheck can derive it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    pub reference: String,
}
