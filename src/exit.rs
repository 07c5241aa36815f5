//! The exit-code contract, the same for every subcommand. Precedence: 2 > 1 > 3 > 0.

use crate::cli::FailOn;
use crate::finding::{Severity, Status};
use crate::report::DomainReport;
use crate::rules::UnknownCause;

/// Why mailcheck exits as it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing at or above `--fail-on`.
    Clean = 0,
    /// A DNS lookup a check needs failed, or the resolver is unreachable (not: an SMTP server
    /// or blocklist that cannot be reached from here).
    Unknown = 3,
    /// A finding at or above `--fail-on`.
    Findings = 1,
    /// Usage error or invalid input.
    Usage = 2,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the code means, in a few words (the table report's footer).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Findings => "findings at --fail-on",
            Self::Unknown => "a DNS lookup failed",
            Self::Usage => "usage error",
            Self::Interrupted => "interrupted",
        }
    }

    /// Precedence, not numeric order: usage beats findings beats unknown beats clean.
    fn rank(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Unknown => 1,
            Self::Findings => 2,
            Self::Usage => 3,
            Self::Interrupted => 4,
        }
    }

    #[must_use]
    pub fn max(self, other: Self) -> Self {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The status of a run: the highest over its domains.
    pub fn of_reports(reports: &[DomainReport], fail_on: FailOn) -> Self {
        let threshold = match fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        };
        let mut status = Self::Clean;
        for r in reports {
            let fails = threshold.is_some_and(|t| r.findings.iter().any(|f| f.severity >= t));
            if fails {
                status = status.max(Self::Findings);
            } else if r
                .checks
                .iter()
                .any(|c| c.status == Status::Unknown && c.cause != Some(UnknownCause::Network))
            {
                // An SMTP server or blocklist unreachable from here is `unknown`, never 3.
                status = status.max(Self::Unknown);
            }
        }
        status
    }
}
