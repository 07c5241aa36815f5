//! `--format table`: the report a person reads, top-down from verdict to fix.
//!
//! Verdict first, then each category at a glance, then the evidence (MX hosts, records as
//! published), then the findings with why and how to fix, then a short to-do list. Every remote
//! string goes through [`sanitize`]. Colour is optional: the markers (✔ ✖ ⚠ ℹ ? –) read without it.

use std::fmt::Write as _;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

mod evidence;
mod hosts;
mod todo;

use super::{Document, DomainReport, Render, sanitize};
use crate::exit::ExitStatus;
use crate::finding::{Category, Finding, Severity, Status};
use crate::rules;

/// How to lay the table out.
#[derive(Clone, Copy, Debug)]
pub struct TableOptions {
    /// Columns available; the layout is designed for 80 and uses more where there is more.
    pub width: usize,
    pub color: bool,
    /// Markers and box drawing in ASCII, for terminals whose locale is not UTF-8.
    pub ascii: bool,
    /// The run's exit status, named in the footer.
    pub exit: Option<ExitStatus>,
}

/// The ASCII stand-ins, one character for one so that columns stay aligned.
const ASCII: &[(char, char)] = &[
    ('✔', '+'),
    ('✖', 'x'),
    ('⚠', '!'),
    ('ℹ', 'i'),
    ('–', '-'),
    ('·', '|'),
    ('…', '~'),
    ('├', '|'),
    ('└', '`'),
    ('─', '-'),
    ('│', '|'),
    ('→', '>'),
    ('§', '#'),
];

/// `text` with every glyph of [`ASCII`] replaced.
fn to_ascii(text: &str) -> String {
    text.chars()
        .map(|c| ASCII.iter().find(|(u, _)| *u == c).map_or(c, |(_, a)| *a))
        .collect()
}

pub struct Table(pub TableOptions);

/// The order topics are listed in within a category.
const TOPICS: &[&str] = &[
    "DNS", "MX", "PTR", "SPF", "DKIM", "DMARC", "TLS", "DANE", "STS", "RPT", "BIMI", "BL",
];

/// Column where finding texts start: "  ✖ DMARC001 ".
const TEXT_COL: usize = 13;

#[derive(Clone, Copy)]
pub(super) enum Mark {
    Pass,
    Error,
    Warning,
    Info,
    Unknown,
    Skipped,
}

impl Mark {
    fn glyph(self) -> &'static str {
        match self {
            Self::Pass => "✔",
            Self::Error => "✖",
            Self::Warning => "⚠",
            Self::Info => "ℹ",
            Self::Unknown => "?",
            Self::Skipped => "–",
        }
    }

    fn style(self) -> Style {
        let color = match self {
            Self::Pass => AnsiColor::Green,
            Self::Error => AnsiColor::Red,
            Self::Warning => AnsiColor::Yellow,
            Self::Info => AnsiColor::Cyan,
            Self::Unknown => AnsiColor::Magenta,
            Self::Skipped => AnsiColor::BrightBlack,
        };
        Style::new().fg_color(Some(color.into()))
    }

    fn of(severity: Severity) -> Self {
        match severity {
            Severity::Error => Self::Error,
            Severity::Warning => Self::Warning,
            Severity::Info => Self::Info,
        }
    }
}

impl Render for Table {
    fn render(&self, doc: &Document, w: &mut dyn Write) -> io::Result<()> {
        let mut out = String::new();
        for (i, report) in doc.results.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            self.domain(doc, report, &mut out);
        }
        let exit = self.0.exit.map_or_else(String::new, |e| {
            format!(" · exit {} ({})", e.code(), e.describe())
        });
        let footer = format!("mailcheck explain CODE · --format json|markdown{exit}");
        self.wrap(&mut out, "", 0, &self.dim(&footer));
        if self.0.ascii {
            out = to_ascii(&out);
        }
        w.write_all(out.as_bytes())
    }
}

impl Table {
    pub(super) fn paint(&self, style: Style, text: &str) -> String {
        if self.0.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    pub(super) fn mark(&self, mark: Mark) -> String {
        self.paint(mark.style(), mark.glyph())
    }

    pub(super) fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    pub(super) fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }

    /// Wraps `text` to the width, the first line after `first`, the rest indented by `indent`.
    pub(super) fn wrap(&self, out: &mut String, first: &str, indent: usize, text: &str) {
        let pad = " ".repeat(indent);
        // Prose stays readable on wide terminals: lines of at most 100 columns.
        let width = self.0.width.clamp(indent + 20, 100.max(indent + 20));
        // Break at spaces only: a hyphen inside a date, a host name or an option is not a
        // place to split (`2026-` / `11-24` reads as two things). Only a word longer than the
        // line is cut.
        let opts = textwrap::Options::new(width - indent)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(true);
        for (i, line) in textwrap::wrap(text, opts).iter().enumerate() {
            let lead = if i == 0 { first } else { pad.as_str() };
            let _ = writeln!(out, "{lead}{line}");
        }
    }

    fn domain(&self, doc: &Document, r: &DomainReport, out: &mut String) {
        // Seconds with two decimals; u64 → f64 is exact for any plausible duration.
        #[allow(clippy::cast_precision_loss)]
        let secs = r.stats.elapsed_ms as f64 / 1000.0;
        let domain = sanitize(&r.domain);
        let first = format!("{} {} · ", doc.tool, doc.version);
        let second = format!(
            "resolver {} · {} queries · {secs:.2} s",
            doc.resolver.join(", "),
            r.stats.dns_queries
        );
        let sep = if first.chars().count() + domain.chars().count() + 3 + second.chars().count()
            > self.0.width
        {
            "\n"
        } else {
            " · "
        };
        let _ = writeln!(out, "{first}{}{sep}{second}\n", self.bold(&domain));
        self.verdict(r, out);
        self.categories(r, out);
        out.push('\n');
        self.mx_hosts(r, out);
        self.records(r, out);
        self.findings(r, out);
        self.to_do(r, out);
    }

    fn verdict(&self, r: &DomainReport, out: &mut String) {
        let grade = match (&r.score.grade, r.score.value) {
            (Some(g), Some(v)) => {
                let partial = if r.score.partial { " (partial)" } else { "" };
                format!("Grade {g} · {v}/100{partial}")
            }
            _ => "No grade".to_owned(),
        };
        let c = &r.counts;
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let pad = " ".repeat(24usize.saturating_sub(grade.chars().count()).max(2));
        let _ = writeln!(
            out,
            "  {}{pad}{} {}  {} {}  {} {}  {} {}\n",
            self.bold(&grade),
            self.mark(Mark::Error),
            plural(c.error, "error", "errors"),
            self.mark(Mark::Warning),
            plural(c.warning, "warning", "warnings"),
            self.mark(Mark::Info),
            plural(c.info, "note", "notes"),
            self.mark(Mark::Unknown),
            plural(c.unknown, "unknown", "unknown"),
        );
    }

    fn categories(&self, r: &DomainReport, out: &mut String) {
        if let Some(reason) = all_unknown(r) {
            self.wrap(
                out,
                &format!("  {} ", self.mark(Mark::Unknown)),
                4,
                &format!("Nothing could be checked: {}.", sanitize(&reason)),
            );
            return;
        }
        for category in Category::ALL {
            let score = r
                .score
                .categories
                .iter()
                .find(|c| c.category == category)
                .and_then(|c| c.score)
                .map_or_else(|| "–".to_owned(), |s| s.to_string());
            let topics = self.topics(r, category);
            let topics = if topics.is_empty() {
                self.dim("not checked yet")
            } else {
                topics.join("  ")
            };
            let _ = writeln!(out, "  {:<22} {score:>3}  {topics}", category.title());
        }
    }

    fn topics(&self, r: &DomainReport, category: Category) -> Vec<String> {
        TOPICS
            .iter()
            .filter_map(|topic| {
                let in_topic = |code: &str| prefix(code) == *topic;
                let checks: Vec<_> = r
                    .checks
                    .iter()
                    .filter(|c| c.category == category && in_topic(&c.code))
                    .collect();
                if checks.is_empty() {
                    return None;
                }
                let worst = r
                    .findings
                    .iter()
                    .filter(|f| f.category == category && in_topic(&f.code))
                    .map(|f| f.severity)
                    .max();
                let mark = match worst {
                    Some(s) => Mark::of(s),
                    None if checks.iter().any(|c| c.status == Status::Unknown) => Mark::Unknown,
                    None if checks.iter().any(|c| c.status == Status::Pass) => Mark::Pass,
                    None => Mark::Skipped,
                };
                Some(format!("{} {topic}", self.mark(mark)))
            })
            .collect()
    }

    fn findings(&self, r: &DomainReport, out: &mut String) {
        let unknown: Vec<_> = r
            .checks
            .iter()
            .filter(|c| c.status == Status::Unknown)
            .collect();
        if r.findings.is_empty() && unknown.is_empty() {
            let _ = writeln!(
                out,
                "{}\n  {} nothing to fix\n",
                self.bold("Findings"),
                self.mark(Mark::Pass)
            );
            return;
        }
        let _ = writeln!(out, "{}", self.bold("Findings"));
        let pad = " ".repeat(TEXT_COL);
        // Several instances of one rule read as one entry: the title, why and how once, then
        // what each instance is about.
        let mut groups: Vec<Vec<&Finding>> = Vec::new();
        for f in &r.findings {
            match groups.iter_mut().find(|g| g[0].code == f.code) {
                Some(g) => g.push(f),
                None => groups.push(vec![f]),
            }
        }
        for group in &groups {
            self.finding(out, group, &pad);
        }
        if all_unknown(r).is_some() {
            out.push('\n');
            return;
        }
        // One entry per cause: a failed lookup usually leaves several rules unknown.
        let mut causes: Vec<(&str, Vec<&str>)> = Vec::new();
        for c in unknown {
            let reason = c.reason.as_deref().unwrap_or("no reason recorded");
            match causes.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, codes)) => codes.push(&c.code),
                None => causes.push((reason, vec![&c.code])),
            }
        }
        for (reason, codes) in causes {
            let title = rules::find(codes[0]).map_or("", |r| r.title);
            let more = match codes.len() {
                1 => String::new(),
                2..=4 => format!(" (and {})", codes[1..].join(", ")),
                n => format!(" (and {} more checks)", n - 1),
            };
            let lead = format!("  {} {:<9}", self.mark(Mark::Unknown), codes[0]);
            self.wrap(
                out,
                &lead,
                TEXT_COL,
                &format!("Could not check: {title}{more}"),
            );
            self.wrap(
                out,
                &pad,
                TEXT_COL,
                &format!(
                    "{}; not a finding about the domain: run again, or try another --resolver",
                    sanitize(reason)
                ),
            );
        }
        out.push('\n');
    }

    fn finding(&self, out: &mut String, group: &[&Finding], pad: &str) {
        let f = group[0];
        let lead = format!("  {} {:<9}", self.mark(Mark::of(f.severity)), f.code);
        self.wrap(out, &lead, TEXT_COL, &f.title);
        for g in group {
            self.wrap(out, pad, TEXT_COL, &sanitize(&g.message));
        }
        if f.severity > Severity::Info {
            if let Some(rule) = rules::find(&f.code) {
                self.wrap(out, pad, TEXT_COL, &self.dim(rule.explanation));
            }
            self.wrap(out, pad, TEXT_COL, &format!("Fix: {}", f.remediation));
        }
        // The exact record, near the left margin so it fits on one line where it can (JSON's
        // `fix` always holds it on one line, for copying).
        for fix in group.iter().filter_map(|g| g.fix.as_ref()) {
            let _ = writeln!(out, "{pad}Publish:");
            // The whole width, not the 100 columns of prose: a record is copied, not read.
            let opts = textwrap::Options::new(self.0.width.max(40))
                .initial_indent("  ")
                .subsequent_indent("    ")
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .break_words(true);
            for line in fix.lines() {
                for part in textwrap::wrap(&sanitize(line), &opts) {
                    let _ = writeln!(out, "{part}");
                }
            }
        }
        self.wrap(out, pad, TEXT_COL, &self.dim(&f.reference));
    }
}

/// The letters of a rule code: `SPF002` → `SPF`.
fn prefix(code: &str) -> &str {
    code.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// When every check is unknown for the same reason (the resolver is down), that reason.
fn all_unknown(r: &DomainReport) -> Option<String> {
    let first = r.checks.first()?;
    let reason = first.reason.clone()?;
    r.checks
        .iter()
        .all(|c| c.status == Status::Unknown && c.reason.as_deref() == Some(reason.as_str()))
        .then_some(reason)
}
