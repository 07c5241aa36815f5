//! `mailcheck diff BEFORE AFTER`: what changed between two runs, per domain. Pure over two parsed
//! reports (the `json` document or `jsonl` lines of the same schema); renderers are in
//! `report::diff`.
//!
//! Findings are matched by (code, subject), so a message that only changed its numbers is not
//! "resolved and added again". Records are compared as [`Essentials`] strings: the MX set, SPF,
//! DMARC, the DKIM selectors found, MTA-STS, TLS-RPT and the STARTTLS/TLS result per MX address.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};
use crate::report::essentials::Essentials;
use crate::report::{Document, DomainReport, SCHEMA_VERSION};

/// Why a report file cannot be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("empty: no report in it")]
    Empty,
    #[error("line {line}: not a mailcheck report line ({source})")]
    Line {
        line: usize,
        source: serde_json::Error,
    },
}

/// Reads a `--format json` document or `--format jsonl` lines.
pub fn parse(text: &str) -> Result<Vec<DomainReport>, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    if let Ok(doc) = serde_json::from_str::<Document>(text) {
        return Ok(doc.results);
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|source| ParseError::Line {
                line: n + 1,
                source,
            })
        })
        .collect()
}

/// The comparison of two runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffReport {
    pub schema_version: u32,
    /// The files compared, as named on the command line.
    pub before: String,
    pub after: String,
    /// Domains of AFTER in its order, then those only in BEFORE.
    pub domains: Vec<DomainDiff>,
    /// Error findings in AFTER that BEFORE did not have (exit code 1 when not 0).
    pub new_errors: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Only in AFTER.
    Added,
    /// Only in BEFORE.
    Removed,
    Changed,
    Unchanged,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainDiff {
    pub domain: String,
    pub change: Change,
    pub score: ScoreChange,
    /// Records whose value changed (empty for added and removed domains).
    pub records: Vec<RecordChange>,
    /// Findings in AFTER, not in BEFORE.
    pub added: Vec<FindingRef>,
    /// Findings in BEFORE, gone from AFTER.
    pub resolved: Vec<FindingRef>,
}

/// Scores and grades before and after (`None`: no such run, or no score).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreChange {
    pub before: Option<u8>,
    pub after: Option<u8>,
    pub grade_before: Option<String>,
    pub grade_after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordChange {
    /// `mx`, `spf`, `dmarc`, `dkim`, `mta-sts`, `tls-rpt` or `tls`.
    pub record: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRef {
    pub code: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub message: String,
}

impl From<&Finding> for FindingRef {
    fn from(f: &Finding) -> Self {
        Self {
            code: f.code.clone(),
            severity: f.severity,
            subject: f.subject.clone(),
            message: f.message.clone(),
        }
    }
}

/// Compares two runs.
pub fn diff(
    before_name: &str,
    before: &[DomainReport],
    after_name: &str,
    after: &[DomainReport],
) -> DiffReport {
    let earlier: HashMap<&str, &DomainReport> =
        before.iter().map(|r| (r.domain.as_str(), r)).collect();
    let mut domains: Vec<DomainDiff> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in after {
        if !seen.insert(a.domain.as_str()) {
            continue;
        }
        domains.push(compare(earlier.get(a.domain.as_str()).copied(), Some(a)));
    }
    for b in before {
        if seen.insert(b.domain.as_str()) {
            domains.push(compare(Some(b), None));
        }
    }
    let new_errors = domains
        .iter()
        .flat_map(|d| &d.added)
        .filter(|f| f.severity == Severity::Error)
        .count();
    DiffReport {
        schema_version: SCHEMA_VERSION,
        before: before_name.to_owned(),
        after: after_name.to_owned(),
        domains,
        new_errors,
    }
}

fn compare(before: Option<&DomainReport>, after: Option<&DomainReport>) -> DomainDiff {
    let domain = after
        .or(before)
        .map(|r| r.domain.clone())
        .unwrap_or_default();
    let score = ScoreChange {
        before: before.and_then(|r| r.score.value),
        after: after.and_then(|r| r.score.value),
        grade_before: before.and_then(|r| r.score.grade.clone()),
        grade_after: after.and_then(|r| r.score.grade.clone()),
    };
    let keyed = |r: Option<&DomainReport>| -> BTreeMap<(String, Option<String>), FindingRef> {
        r.map(|r| {
            r.findings
                .iter()
                .map(|f| ((f.code.clone(), f.subject.clone()), FindingRef::from(f)))
                .collect()
        })
        .unwrap_or_default()
    };
    let (old, new) = (keyed(before), keyed(after));
    let added: Vec<FindingRef> = new
        .iter()
        .filter(|(k, _)| !old.contains_key(*k))
        .map(|(_, f)| f.clone())
        .collect();
    let resolved: Vec<FindingRef> = old
        .iter()
        .filter(|(k, _)| !new.contains_key(*k))
        .map(|(_, f)| f.clone())
        .collect();
    let records = match (before, after) {
        (Some(b), Some(a)) => records(&Essentials::of(b), &Essentials::of(a)),
        _ => Vec::new(),
    };
    let change = match (before, after) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ if records.is_empty()
            && added.is_empty()
            && resolved.is_empty()
            && score.before == score.after =>
        {
            Change::Unchanged
        }
        _ => Change::Changed,
    };
    DomainDiff {
        domain,
        change,
        score,
        records,
        added,
        resolved,
    }
}

fn records(b: &Essentials, a: &Essentials) -> Vec<RecordChange> {
    [
        ("mx", &b.mx, &a.mx),
        ("spf", &b.spf, &a.spf),
        ("dmarc", &b.dmarc, &a.dmarc),
        ("dkim", &b.dkim, &a.dkim),
        ("mta-sts", &b.mta_sts, &a.mta_sts),
        ("tls-rpt", &b.tls_rpt, &a.tls_rpt),
        ("tls", &b.tls, &a.tls),
    ]
    .into_iter()
    .filter(|(_, x, y)| x != y)
    .map(|(record, x, y)| RecordChange {
        record: record.into(),
        before: x.clone(),
        after: y.clone(),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_with_its_line() {
        assert!(matches!(parse("  \n"), Err(ParseError::Empty)));
        assert!(matches!(
            parse("\n{\"not\": \"a report\"}\n"),
            Err(ParseError::Line { line: 2, .. })
        ));
    }
}
