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
//!
//! The numbers live in [`WEIGHTS`], [`GRADES`] and [`CAPS`], which both the computation and
//! `mailcheck explain scoring` ([`model`]) read: there is one source of truth.

use serde::{Deserialize, Serialize};

use crate::finding::{Category, Severity, Status};
use crate::rules::CheckResult;

/// The weight of a check, by the severity its findings carry.
pub const WEIGHTS: [(Severity, u32); 3] = [
    (Severity::Error, 3),
    (Severity::Warning, 1),
    (Severity::Info, 0),
];

/// Grade letters and the least score that earns each; below the last, `F`.
pub const GRADES: [(&str, u8); 4] = [("A", 90), ("B", 80), ("C", 65), ("D", 50)];

/// The grade below every floor of [`GRADES`].
pub const LOWEST_GRADE: &str = "F";

/// The best grade a report can have while it has a finding of this severity (or, for `None`, a
/// check that is `unknown`).
pub const CAPS: [(Option<Severity>, &str); 3] = [
    (Some(Severity::Error), "C"),
    (Some(Severity::Warning), "B"),
    (None, "B"),
];

/// The scoring model as data, for `mailcheck explain scoring`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Model {
    pub weights: Vec<ModelWeight>,
    pub grades: Vec<ModelGrade>,
    pub lowest_grade: &'static str,
    pub caps: Vec<ModelCap>,
    pub categories: Vec<Category>,
    /// Statuses left out of both sums.
    pub excluded: Vec<Status>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModelWeight {
    pub severity: Severity,
    pub weight: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModelGrade {
    pub grade: &'static str,
    pub min_score: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModelCap {
    /// `error` or `warning`: a finding of that severity; `unknown`: a check that is unknown.
    pub when: &'static str,
    pub best_grade: &'static str,
}

/// The model [`score`] applies.
pub fn model() -> Model {
    Model {
        weights: WEIGHTS
            .iter()
            .map(|&(severity, weight)| ModelWeight { severity, weight })
            .collect(),
        grades: GRADES
            .iter()
            .map(|&(grade, min_score)| ModelGrade { grade, min_score })
            .collect(),
        lowest_grade: LOWEST_GRADE,
        caps: CAPS
            .iter()
            .map(|&(when, best_grade)| ModelCap {
                when: when.map_or("unknown", Severity::as_str),
                best_grade,
            })
            .collect(),
        categories: Category::ALL.to_vec(),
        excluded: vec![Status::Unknown, Status::NotRun, Status::NotApplicable],
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    WEIGHTS
        .iter()
        .find(|(s, _)| *s == severity)
        .map_or(0, |(_, w)| *w)
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
                let w = weight(check.severity);
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
        .map(|k| k.severity)
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
    let letters: Vec<&str> = GRADES
        .iter()
        .map(|(g, _)| *g)
        .chain([LOWEST_GRADE])
        .collect();
    let rank = |letter: &str| letters.iter().position(|l| *l == letter).unwrap_or(0);
    let by_score = GRADES
        .iter()
        .position(|(_, floor)| score >= *floor)
        .unwrap_or(GRADES.len());
    let cap_for = |when: Option<Severity>| {
        CAPS.iter()
            .find(|(w, _)| *w == when)
            .map_or(0, |(_, g)| rank(g))
    };
    let cap = match worst {
        Some(s @ (Severity::Error | Severity::Warning)) => cap_for(Some(s)),
        _ if partial => cap_for(None),
        _ => 0,
    };
    letters[by_score.max(cap)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &str, status: Status) -> CheckResult {
        let rule = crate::rules::find(code).unwrap();
        CheckResult {
            code: code.into(),
            name: rule.name.into(),
            category: rule.category,
            severity: rule.severity,
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
    fn a_check_weighs_by_its_effective_severity() {
        // DMARC002 is a warning by default; raised to error by the config file, it weighs 3
        // and caps the grade at C.
        let mut raised = check("DMARC002", Status::Fail);
        raised.severity = Severity::Error;
        let s = score(&[raised, check("SPF001", Status::Pass)]);
        assert_eq!((s.value, s.grade.as_deref()), (Some(50), Some("D")));
        let mut lowered = check("SPF001", Status::Fail);
        lowered.severity = Severity::Info;
        let s = score(&[lowered, check("SPF002", Status::Pass)]);
        assert_eq!((s.value, s.grade.as_deref()), (Some(100), Some("A")));
    }

    #[test]
    fn the_model_is_the_one_applied() {
        let m = model();
        assert_eq!(m.weights.len(), 3);
        assert_eq!(m.grades.first().map(|g| g.grade), Some("A"));
        assert_eq!(grade(GRADES[1].1, None, false), GRADES[1].0);
        assert_eq!(grade(GRADES[3].1 - 1, None, false), LOWEST_GRADE);
        assert_eq!(grade(100, Some(Severity::Error), false), "C");
        assert_eq!(grade(100, None, true), "B");
    }

    #[test]
    fn info_checks_do_not_count() {
        let s = score(&[check("MX003", Status::Fail), check("MX001", Status::Pass)]);
        assert_eq!(s.value, Some(100));
    }
}
