//! The closing to-do list: every finding worth fixing once, most impact first.

use std::fmt::Write as _;

use super::Table;
use crate::finding::{Finding, Severity, Status};
use crate::report::DomainReport;
use crate::rules::{self, CheckResult};

impl Table {
    pub(super) fn to_do(&self, r: &DomainReport, out: &mut String) {
        let items = ranked(&r.checks, &r.findings);
        if items.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "{} {}",
            self.bold("To fix, most impact first"),
            self.dim("(+ the points each fix adds to the score)")
        );
        for (i, (code, points)) in items.iter().enumerate() {
            let title = rules::find(code).map_or("", |r| r.title);
            let lead = format!("  {:>2}. {code:<9}", i + 1);
            let text = if *points > 0 {
                format!("{title} {}", self.dim(&format!("+{points}")))
            } else {
                title.to_owned()
            };
            self.wrap(out, &lead, 15, &text);
        }
        out.push('\n');
    }
}

/// Each code with a finding above info, once, with the points fixing it adds: errors first
/// (they cap the grade), then by points, so a fix in a small category comes before the same
/// fix in a large one; ties keep the findings' order.
fn ranked<'a>(checks: &[CheckResult], findings: &'a [Finding]) -> Vec<(&'a str, u8)> {
    let mut seen: Vec<(&str, Severity)> = Vec::new();
    for f in findings.iter().filter(|f| f.severity > Severity::Info) {
        if !seen.iter().any(|(c, _)| *c == f.code) {
            seen.push((&f.code, f.severity));
        }
    }
    let mut items: Vec<(&str, Severity, u8)> = seen
        .into_iter()
        .map(|(code, severity)| (code, severity, gain(checks, code)))
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
    items.into_iter().map(|(c, _, p)| (c, p)).collect()
}

/// The points the overall score gains when the check `code` passes.
fn gain(checks: &[CheckResult], code: &str) -> u8 {
    let now = crate::score::score(checks).value.unwrap_or(0);
    let mut fixed = checks.to_vec();
    for c in fixed.iter_mut().filter(|c| c.code == code) {
        c.status = Status::Pass;
    }
    let after = crate::score::score(&fixed).value.unwrap_or(0);
    after.saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Category;

    fn check(code: &str, category: Category, severity: Severity, status: Status) -> CheckResult {
        CheckResult {
            code: code.into(),
            name: code.to_ascii_lowercase(),
            category,
            severity,
            status,
            reason: None,
            cause: None,
        }
    }

    fn finding(code: &str, category: Category, severity: Severity) -> Finding {
        Finding {
            code: code.into(),
            name: code.to_ascii_lowercase(),
            severity,
            category,
            title: String::new(),
            message: String::new(),
            subject: None,
            remediation: String::new(),
            fix: None,
            reference: String::new(),
        }
    }

    #[test]
    fn errors_first_then_the_fix_worth_most_points() {
        use Category::{Authentication as Auth, Routing};
        use Severity::{Error, Warning};
        // Routing has 2 checks, authentication 10: a failed warning costs routing far more.
        let mut checks = vec![
            check("MX001", Routing, Warning, Status::Pass),
            check("MX002", Routing, Warning, Status::Fail),
            check("SPF001", Auth, Error, Status::Fail),
            check("SPF002", Auth, Warning, Status::Fail),
        ];
        for i in 3..=10 {
            checks.push(check(&format!("SPF{i:03}"), Auth, Warning, Status::Pass));
        }
        // Findings come most severe first, then by code, as the engine sorts them.
        let findings = vec![
            finding("SPF001", Auth, Error),
            finding("MX002", Routing, Warning),
            finding("SPF002", Auth, Warning),
            finding("SPF002", Auth, Warning),
            finding("SPF003", Auth, Severity::Info),
        ];
        let ranked = ranked(&checks, &findings);
        let codes: Vec<&str> = ranked.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, ["SPF001", "MX002", "SPF002"], "{ranked:?}");
        assert!(ranked[1].1 > ranked[2].1, "{ranked:?}");
        // Reversed input order: the points still put the routing fix first.
        let findings = vec![
            finding("SPF002", Auth, Warning),
            finding("MX002", Routing, Warning),
        ];
        let codes: Vec<&str> = ranked_codes(&checks, &findings);
        assert_eq!(codes, ["MX002", "SPF002"]);
    }

    fn ranked_codes<'a>(checks: &[CheckResult], findings: &'a [Finding]) -> Vec<&'a str> {
        ranked(checks, findings)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }
}
