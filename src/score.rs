//! The score: deterministic, from the check statuses alone.
//!
//! Each check that can fail carries a weight from its rule's default severity (error 3,
//! warning 1; info checks never lower the score). A category's score is the weight of its
//! passed checks over the weight of its checks that were decided (passed or failed), as 0–100.
//! Checks that are `unknown`, `not-run` or `not-applicable` are left out of both sums — they are
//! never counted as passed — and an `unknown` marks the score `partial`. The overall score is the
//! mean of the categories that have a score, each of equal weight. Grades: A ≥ 90, B ≥ 80,
//! C ≥ 65, D ≥ 50, F below. An error finding caps the grade at C; a warning, or a check that
//! is `unknown`, caps it at B: an A always means everything was checked and nothing is left.

use serde::{Deserialize, Serialize};

use crate::finding::{Category, Severity, Status};
use crate::rules::{self, CheckResult};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Score {
    /// 0–100, or `None` when no check could be decided.
    pub value: Option<u8>,
    /// `A`–`F`, or `None` with the score.
    pub grade: Option<String>,
    /// Some checks were `unknown`: the score covers only what could be decided.
    pub partial: bool,
    pub categories: Vec<CategoryScore>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryScore {
    pub category: Category,
    /// `None` when the category has no decided check (e.g. not checked yet).
    pub score: Option<u8>,
    pub passed: usize,
    pub failed: usize,
    pub unknown: usize,
}

fn weight(severity: Severity) -> u32 {
    match severity {
        Severity::Error => 3,
        Severity::Warning => 1,
        Severity::Info => 0,
    }
}

pub fn score(checks: &[CheckResult]) -> Score {
    let categories: Vec<CategoryScore> = Category::ALL
        .iter()
        .map(|&category| {
            let (mut won, mut total) = (0, 0);
            let mut c = CategoryScore {
                category,
                score: None,
                passed: 0,
                failed: 0,
                unknown: 0,
            };
            for check in checks.iter().filter(|k| k.category == category) {
                let w = rules::find(&check.code).map_or(0, |r| weight(r.severity));
                match check.status {
                    Status::Pass => {
                        c.passed += 1;
                        won += w;
                        total += w;
                    }
                    Status::Fail => {
                        c.failed += 1;
                        total += w;
                    }
                    Status::Unknown => c.unknown += 1,
                    Status::NotApplicable | Status::NotRun => {}
                }
            }
            c.score = (total > 0).then(|| percent(won, total));
            c
        })
        .collect();
    let scored: Vec<u32> = categories
        .iter()
        .filter_map(|c| c.score.map(u32::from))
        .collect();
    let overall = (!scored.is_empty()).then(|| {
        let n = u32::try_from(scored.len()).unwrap_or(u32::MAX);
        percent(scored.iter().sum::<u32>(), 100 * n)
    });
    let worst = checks
        .iter()
        .filter(|k| k.status == Status::Fail)
        .filter_map(|k| rules::find(&k.code).map(|r| r.severity))
        .max();
    let partial = checks.iter().any(|k| k.status == Status::Unknown);
    Score {
        grade: overall.map(|s| grade(s, worst, partial).to_owned()),
        value: overall,
        partial,
        categories,
    }
}

fn percent(won: u32, total: u32) -> u8 {
    u8::try_from((200 * won + total) / (2 * total)).unwrap_or(100)
}

fn grade(score: u8, worst: Option<Severity>, partial: bool) -> &'static str {
    let by_score = match score {
        90.. => 0,
        80.. => 1,
        65.. => 2,
        50.. => 3,
        _ => 4,
    };
    let cap = match worst {
        Some(Severity::Error) => 2,
        Some(Severity::Warning) => 1,
        _ => usize::from(partial),
    };
    ["A", "B", "C", "D", "F"][by_score.max(cap)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &str, status: Status) -> CheckResult {
        let rule = rules::find(code).unwrap();
        CheckResult {
            code: code.into(),
            name: rule.name.into(),
            category: rule.category,
            status,
            reason: None,
            cause: None,
        }
    }

    #[test]
    fn all_passed_is_a() {
        let s = score(&[check("SPF001", Status::Pass), check("MX001", Status::Pass)]);
        assert_eq!(
            (s.value, s.grade.as_deref(), s.partial),
            (Some(100), Some("A"), false)
        );
    }

    #[test]
    fn unknown_is_never_counted_as_passed() {
        let s = score(&[
            check("SPF001", Status::Pass),
            check("DMARC001", Status::Unknown),
        ]);
        let auth = &s.categories[1];
        assert_eq!((auth.score, auth.passed, auth.unknown), (Some(100), 1, 1));
        assert!(s.partial);
        assert_eq!(
            s.grade.as_deref(),
            Some("B"),
            "an unknown check caps the grade"
        );
        let s = score(&[check("DMARC001", Status::Unknown)]);
        assert_eq!((s.value, s.grade), (None, None));
    }

    #[test]
    fn an_error_weighs_more_than_a_warning_and_caps_the_grade() {
        let mut checks: Vec<_> = ["MX001", "MX002", "MX004", "MX005", "DNS001"]
            .iter()
            .map(|c| check(c, Status::Pass))
            .collect();
        checks.push(check("SPF001", Status::Pass));
        checks.push(check("SPF002", Status::Fail));
        assert_eq!(score(&checks).categories[1].score, Some(50));
        assert_eq!(score(&checks).value, Some(75));
        let warn = score(&[
            check("DMARC002", Status::Fail),
            check("SPF001", Status::Pass),
        ]);
        assert_eq!(warn.value, Some(75));
        let mut mostly = vec![check("DMARC002", Status::Fail)];
        mostly.extend(["SPF001", "SPF002", "DMARC001", "DMARC003"].map(|c| check(c, Status::Pass)));
        let mostly = score(&mostly);
        assert_eq!(
            (mostly.value, mostly.grade.as_deref()),
            (Some(92), Some("B")),
            "a warning caps at B"
        );
        // 100 and 75 give 88, a B, but an error finding caps it at C.
        checks.pop();
        checks.extend([
            check("SPF002", Status::Pass),
            check("DMARC001", Status::Pass),
        ]);
        checks.push(check("DMARC003", Status::Fail));
        let capped = score(&checks);
        assert_eq!(
            (capped.value, capped.grade.as_deref()),
            (Some(88), Some("C"))
        );
    }

    #[test]
    fn info_checks_do_not_count() {
        let s = score(&[check("MX003", Status::Fail), check("MX001", Status::Pass)]);
        assert_eq!(s.value, Some(100));
    }
}
