//! `--format markdown`: the report for pasting into a migration ticket or a pull request.
//!
//! Per domain: a heading with the grade, the category scores as a table, the findings with
//! their fix (and the exact record to publish where one was derived), what could not be checked,
//! and what was not run. Remote text is sanitised and Markdown-escaped, so a TXT record cannot
//! inject links or markup.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Document, DomainReport, Render, sanitize};
use crate::finding::{Category, Severity, Status};

pub struct Markdown;

impl Render for Markdown {
    fn render(&self, doc: &Document, w: &mut dyn Write) -> io::Result<()> {
        let mut out = String::new();
        for (i, r) in doc.results.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            domain(doc, r, &mut out);
        }
        w.write_all(out.as_bytes())
    }
}

/// Remote text made inert: control characters escaped, Markdown punctuation backslashed.
fn esc(text: &str) -> String {
    let mut out = String::new();
    for c in sanitize(text).chars() {
        if "\\`*_[]<>|#!~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn marker(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "✖ error",
        Severity::Warning => "⚠ warning",
        Severity::Info => "ℹ info",
    }
}

fn domain(doc: &Document, r: &DomainReport, out: &mut String) {
    let grade = match (&r.score.grade, r.score.value) {
        (Some(g), Some(v)) => {
            let partial = if r.score.partial { " (partial)" } else { "" };
            format!("grade {g} · {v}/100{partial}")
        }
        _ => "no grade".to_owned(),
    };
    let c = &r.counts;
    let _ = writeln!(out, "## {} — {grade}\n", esc(&r.domain));
    let _ = writeln!(
        out,
        "{} errors · {} warnings · {} notes · {} unknown — {} {} · resolver {} · {} DNS queries\n",
        c.error,
        c.warning,
        c.info,
        c.unknown,
        doc.tool,
        doc.version,
        doc.resolver.join(", "),
        r.stats.dns_queries
    );
    let _ = writeln!(
        out,
        "| Category | Score | Passed | Failed | Unknown |\n|---|---:|---:|---:|---:|"
    );
    for category in Category::ALL {
        if let Some(s) = r.score.categories.iter().find(|s| s.category == category) {
            let score = s.score.map_or_else(|| "–".to_owned(), |v| v.to_string());
            let _ = writeln!(
                out,
                "| {} | {score} | {} | {} | {} |",
                category.title(),
                s.passed,
                s.failed,
                s.unknown
            );
        }
    }
    out.push('\n');
    if r.findings.is_empty() {
        let _ = writeln!(out, "### Findings\n\nNothing to fix.\n");
    } else {
        let _ = writeln!(out, "### Findings\n");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "- **{} {}** {} — {}",
                marker(f.severity),
                f.code,
                esc(&f.title),
                esc(&f.message)
            );
            if f.severity > Severity::Info {
                let _ = writeln!(out, "  - Fix: {}", f.remediation);
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(
                    out,
                    "  - Publish:\n\n    ```\n    {}\n    ```\n",
                    sanitize(fix)
                );
            }
            let _ = writeln!(out, "  - Reference: {}", f.reference);
        }
        out.push('\n');
    }
    let unknown: Vec<_> = r
        .checks
        .iter()
        .filter(|k| k.status == Status::Unknown)
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(out, "### Could not check\n");
        for k in unknown {
            let reason = k.reason.as_deref().unwrap_or("no reason recorded");
            let _ = writeln!(out, "- ? {} {} — {}", k.code, k.name, esc(reason));
        }
        out.push('\n');
    }
    let not_run: Vec<&str> = r
        .checks
        .iter()
        .filter(|k| k.status == Status::NotRun)
        .map(|k| k.code.as_str())
        .collect();
    if !not_run.is_empty() {
        let _ = writeln!(out, "### Not run\n\n{}\n", not_run.join(", "));
    }
    let _ = writeln!(
        out,
        "_Look a code up with `mailcheck explain CODE`; every fact gathered: `--format json`._"
    );
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn remote_text_cannot_make_markup() {
        assert_eq!(esc("[x](http://e) <b>|"), "\\[x\\](http://e) \\<b\\>\\|");
        assert_eq!(esc("a\u{1b}[2J"), "a\\\\u{1b}\\[2J");
    }
}
