//! `mailcheck diff` output: text for people, Markdown for pull requests and tickets, JSON
//! (the [`DiffReport`] as it is) for scripts. Record values are remote text: sanitised in text
//! and Markdown.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::sanitize;
use crate::cli::Format;
use crate::diff::{Change, DiffReport, DomainDiff, FindingRef, ScoreChange};

pub fn render_diff(d: &DiffReport, format: Format, w: &mut dyn Write) -> io::Result<()> {
    let text = match format {
        Format::Json | Format::Jsonl => serde_json::to_string_pretty(d)? + "\n",
        Format::Markdown => markdown(d),
        Format::Table | Format::Csv => text(d),
    };
    w.write_all(text.as_bytes())
}

fn count(d: &DiffReport, c: Change) -> usize {
    d.domains.iter().filter(|x| x.change == c).count()
}

fn headline(d: &DiffReport) -> String {
    format!(
        "{} domain{}: {} changed, {} unchanged, {} added, {} removed; {} new error{}",
        d.domains.len(),
        if d.domains.len() == 1 { "" } else { "s" },
        count(d, Change::Changed),
        count(d, Change::Unchanged),
        count(d, Change::Added),
        count(d, Change::Removed),
        d.new_errors,
        if d.new_errors == 1 { "" } else { "s" }
    )
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
        Change::Unchanged => "unchanged",
    }
}

fn score_text(s: &ScoreChange) -> String {
    let one = |v: Option<u8>, g: &Option<String>| match (v, g) {
        (Some(v), Some(g)) => format!("{v} ({g})"),
        (Some(v), None) => v.to_string(),
        _ => "-".into(),
    };
    let (b, a) = (one(s.before, &s.grade_before), one(s.after, &s.grade_after));
    if b == a { b } else { format!("{b} → {a}") }
}

fn finding_line(f: &FindingRef) -> String {
    let subject = f
        .subject
        .as_deref()
        .map(|s| format!(" [{}]", sanitize(s)))
        .unwrap_or_default();
    format!(
        "{} {}{subject}: {}",
        f.code,
        serde_json::to_value(f.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        sanitize(&f.message)
    )
}

fn text(d: &DiffReport) -> String {
    let mut out = format!(
        "mailcheck diff {} → {}\n{}\n",
        sanitize(&d.before),
        sanitize(&d.after),
        headline(d)
    );
    for x in d.domains.iter().filter(|x| x.change != Change::Unchanged) {
        domain_text(&mut out, x);
    }
    out
}

fn domain_text(out: &mut String, x: &DomainDiff) {
    let _ = writeln!(
        out,
        "\n{}  {}  score {}",
        x.domain,
        change_word(x.change),
        score_text(&x.score)
    );
    for r in &x.records {
        let _ = writeln!(out, "  {:<8} {}", r.record, sanitize(&r.before));
        let _ = writeln!(out, "  {:<8} → {}", "", sanitize(&r.after));
    }
    for f in &x.added {
        let _ = writeln!(out, "  + {}", finding_line(f));
    }
    for f in &x.resolved {
        let _ = writeln!(out, "  - {}", finding_line(f));
    }
}

/// Text inside a Markdown table cell or list item: no pipes, no line breaks, no markup.
fn md(s: &str) -> String {
    sanitize(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

fn markdown(d: &DiffReport) -> String {
    let mut out = format!(
        "# mailcheck diff\n\n`{}` → `{}`: {}\n",
        md(&d.before),
        md(&d.after),
        headline(d)
    );
    for x in d.domains.iter().filter(|x| x.change != Change::Unchanged) {
        let _ = write!(
            out,
            "\n## {} ({})\n\nScore: {}\n",
            x.domain,
            change_word(x.change),
            score_text(&x.score)
        );
        if !x.records.is_empty() {
            out.push_str("\n| record | before | after |\n|---|---|---|\n");
            for r in &x.records {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | `{}` |",
                    r.record,
                    md(&r.before),
                    md(&r.after)
                );
            }
        }
        if !x.added.is_empty() {
            out.push_str("\nNew findings:\n\n");
            for f in &x.added {
                let _ = writeln!(out, "- {}", md(&finding_line(f)));
            }
        }
        if !x.resolved.is_empty() {
            out.push_str("\nResolved:\n\n");
            for f in &x.resolved {
                let _ = writeln!(out, "- {}", md(&finding_line(f)));
            }
        }
    }
    out
}
