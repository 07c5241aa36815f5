//! Reports: the JSON contract and the renderers that print it.
//!
//! # Wire format (`--format json`, `schema_version` 1)
//!
//! One document per run:
//!
//! ```text
//! { "schema_version": 1, "tool": "mailcheck", "version": "0.1.0",
//!   "resolver": ["127.0.0.1:53"], "started": "2026-12-01T12:00:00Z",
//!   "results": [ DomainReport, ... ] }
//! ```
//!
//! A `DomainReport` (also the line format of the future `jsonl`) holds `schema_version`,
//! `domain` (A-label), `input` (as given), `score` (`value` 0–100 or null, `grade` A–F or
//! null, `partial`, per-`categories` scores), `counts` (findings per severity, checks unknown), `root_cause` (null, or
//! `{"kind": "domain-not-found"}` / `{"kind": "resolver-unreachable", "reason": ...}`),
//! `checks` (every rule: `code`, `name`, `category`, `status` pass / fail / unknown /
//! not-applicable / not-run, and a `reason` for unknown and not-applicable), `findings`
//! (`code`, `name`, `severity`, `category`, `title`, `message`, optional `subject`,
//! `remediation`, `reference`, most severe first), `facts` (everything gathered, each DNS
//! lookup as `{"status": "found" | "nxdomain" | "nodata" | "failed", ...}`) and `stats`
//! (`dns_queries` sent for this domain, `elapsed_ms`).
//!
//! Checks that are `unknown` also carry a `cause`: `dns` (a lookup failed: exit code 3) or
//! `network` (an SMTP server or a blocklist could not be used from here: never exit code 3).
//!
//! The mail-host facts: `facts.ptr` (per non-loopback MX address: `ip`, the reverse `name`, the
//! PTR `lookup`, and the `forward` lookup of each PTR name), `facts.smtp` (`enabled`, `port`,
//! `policy`, `trust`, and `probes`: per (MX host, address) `host`, `ip`, `started`, `skipped`
//! (the address class, when the address policy forbade the connection), `connect_ms`,
//! `greeting`, `greeting_ms`, `ehlo`, `starttls` (replies as `{code, lines}`), `tls` (`version`,
//! `cipher`, `chain` of `{subject, issuer, sans, not_before, not_after, key_type, key_bits,
//! signature_algorithm, is_ca, serial}`, `verdict` `{result: trusted | unknown-issuer | expired |
//! not-yet-valid | name-mismatch | other}`, `name_matches`, `lifetime_left_percent`),
//! `ehlo_tls`, `extensions` (the EHLO keywords that count) and `error` (`{stage, kind,
//! detail}`)) and `facts.dnsbl` (`enabled`, `lists` with `name`, public `zone`, `dqs`, `kind`,
//! the RFC 5782 test-point answers, and `queries` `{subject, answer, reason}`; and `skipped`:
//! lists not asked in this run, `{name, zone, kind, reason}`).
//!
//! `schema_version` changes only when a field is removed or changes meaning; new fields may
//! appear in any release.

mod catalogue;
mod csv;
mod diff;
pub mod essentials;
mod json;
mod markdown;
mod sanitize;
mod schema;
mod spf;
mod summary;
mod table;

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

pub use catalogue::{Catalogue, Topic, UnknownTopic, reference_url};
pub use csv::{COLUMNS as CSV_COLUMNS, Csv, row as csv_row, write_csv};
pub use diff::render_diff;
pub use json::{Json, write_jsonl};
pub use markdown::Markdown;
pub use sanitize::sanitize;
pub use schema::{domain_schema, report_schema, write_schema};
pub use spf::SpfReport;
pub use summary::render_summary;
pub use table::{Table, TableOptions};

use crate::facts::Facts;
use crate::finding::{Finding, Severity, Status};
use crate::rules::{CheckResult, RootCause};
use crate::score::Score;

pub const SCHEMA_VERSION: u32 = 1;

/// A Unix time as its UTC date, `YYYY-MM-DD`.
pub fn day(ts: i64) -> String {
    let secs = u64::try_from(ts).unwrap_or(0);
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let mut s = humantime::format_rfc3339_seconds(t).to_string();
    s.truncate(10);
    s
}

/// One run's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub schema_version: u32,
    pub tool: String,
    pub version: String,
    /// The resolvers asked, as `ip:port`.
    pub resolver: Vec<String>,
    /// When the run started, RFC 3339 in UTC.
    pub started: String,
    pub results: Vec<DomainReport>,
}

/// Everything about one domain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainReport {
    pub schema_version: u32,
    pub domain: String,
    pub input: String,
    pub score: Score,
    pub counts: Counts,
    /// Set when one cause makes the other checks moot: the domain does not exist, or the
    /// resolver answered nothing.
    pub root_cause: Option<RootCause>,
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
    pub facts: Facts,
    pub stats: Stats,
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    /// Checks whose facts could not be obtained.
    pub unknown: usize,
}

impl Counts {
    pub fn of(findings: &[Finding], checks: &[CheckResult]) -> Self {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        Self {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            unknown: checks
                .iter()
                .filter(|c| c.status == Status::Unknown)
                .count(),
        }
    }
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// DNS queries this domain's audit sent (answers shared with earlier domains are free).
    pub dns_queries: u64,
    pub elapsed_ms: u64,
}

/// A report format. Renderers only format: everything they show is in the [`Document`].
pub trait Render {
    fn render(&self, doc: &Document, w: &mut dyn Write) -> io::Result<()>;
}
