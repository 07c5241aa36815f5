//! The closing to-do list: every finding worth fixing once, most impact first.

use std::fmt::Write as _;

use super::Table;
use crate::finding::{Severity, Status};
use crate::report::DomainReport;
use crate::rules;

impl Table {
    pub(super) fn to_do(&self, r: &DomainReport, out: &mut String) {
        let mut seen: Vec<(&str, Severity)> = Vec::new();
        for f in r.findings.iter().filter(|f| f.severity > Severity::Info) {
            if !seen.iter().any(|(c, _)| *c == f.code) {
                seen.push((&f.code, f.severity));
            }
        }
        if seen.is_empty() {
            return;
        }
        // Most impact first: errors (they cap the grade), then the points each fix earns, so
        // the fix in a small category comes before one in a large category.
        let mut items: Vec<(&str, Severity, u8)> = seen
            .into_iter()
            .map(|(code, severity)| (code, severity, gain(r, code)))
            .collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
        let _ = writeln!(
            out,
            "{} {}",
            self.bold("To fix, most impact first"),
            self.dim("(+ the points each fix adds to the score)")
        );
        for (i, (code, _, points)) in items.iter().enumerate() {
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

/// The points the overall score gains when the check `code` passes.
fn gain(r: &DomainReport, code: &str) -> u8 {
    let mut checks = r.checks.clone();
    for c in checks.iter_mut().filter(|c| c.code == code) {
        c.status = Status::Pass;
    }
    let after = crate::score::score(&checks).value.unwrap_or(0);
    after.saturating_sub(r.score.value.unwrap_or(0))
}
