//! `mailcheck rules` and `mailcheck explain`: the rule registry and the scoring model, as text,
//! JSON or Markdown. `docs/rules.md` is `mailcheck rules --format markdown`.
//!
//! JSON: `rules` prints `{schema_version, rules: [Rule], retired: [Retired]}`; `explain CODE`
//! prints one `Rule`: `{code, name, category, severity, since, status, title, explanation,
//! remediation, reference, reference_url}` (`reference_url` null when the reference is not a
//! link or an RFC; `redirected_from` added when CODE was a retired code that now redirects), or
//! for a removed code one `Retired`: `{code, name, status: "removed", since, retired_in,
//! redirect, reason}`; `explain scoring` prints
//! the model: `{weights: [{severity, weight}], grades: [{grade, min_score}], lowest_grade,
//! caps: [{when, best_grade}], categories, excluded}`.

mod retired;
mod scoring;

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::cli::Format;
use crate::finding::Category;
use crate::rules::redirects::{self, Retired};
use crate::rules::{self, RULES, Rule, RuleState, RuleStatus, Selection};
use crate::score;
use retired::{RetiredDoc, retired};
use scoring::{scoring_paragraphs, scoring_text};

/// What `explain` was asked about.
#[derive(Clone, Copy)]
pub enum Topic {
    Rule(&'static Rule),
    /// A retired code: explained as removed, or as the rule it redirects to.
    Retired(&'static Retired),
    Scoring,
}

impl std::fmt::Debug for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rule(r) => write!(f, "Rule({})", r.code),
            Self::Retired(r) => write!(f, "Retired({})", r.code),
            Self::Scoring => write!(f, "Scoring"),
        }
    }
}

/// `explain` of something that is neither a rule nor `scoring`.
#[derive(Debug, thiserror::Error)]
#[error("{text:?} is not a rule code, a rule name or `scoring`{}", closest.as_ref().map_or_else(
    || " (see `mailcheck rules`)".to_owned(),
    |c| format!(" (did you mean {c}? see `mailcheck rules`)")
))]
pub struct UnknownTopic {
    pub text: String,
    pub closest: Option<String>,
}

impl Topic {
    /// A code (any case), a kebab-case rule name, or `scoring`.
    pub fn parse(text: &str) -> Result<Self, UnknownTopic> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("scoring") || t.eq_ignore_ascii_case("score") {
            return Ok(Self::Scoring);
        }
        rules::find(t)
            .or_else(|| {
                RULES
                    .iter()
                    .copied()
                    .find(|r| r.name.eq_ignore_ascii_case(t))
            })
            .map(Self::Rule)
            .or_else(|| {
                redirects::find(t)
                    .or_else(|| {
                        redirects::all()
                            .iter()
                            .find(|r| r.name.eq_ignore_ascii_case(t))
                    })
                    .map(Self::Retired)
            })
            .ok_or_else(|| UnknownTopic {
                text: text.to_owned(),
                closest: rules::closest_code(&t.to_ascii_uppercase()),
            })
    }
}

/// What a catalogue command prints.
#[derive(Clone, Copy, Debug)]
pub enum Catalogue {
    Rules,
    Explain(Topic),
}

/// One rule, as JSON.
#[derive(Serialize)]
struct RuleDoc<'a> {
    code: &'a str,
    name: &'a str,
    category: Category,
    severity: crate::finding::Severity,
    since: &'a str,
    status: RuleStatus,
    title: &'a str,
    explanation: &'a str,
    remediation: &'a str,
    reference: &'a str,
    reference_url: Option<String>,
    /// The retired code asked about, when it redirects here.
    #[serde(skip_serializing_if = "Option::is_none")]
    redirected_from: Option<&'a str>,
}

impl<'a> From<&'a Rule> for RuleDoc<'a> {
    fn from(r: &'a Rule) -> Self {
        Self {
            code: r.code,
            name: r.name,
            category: r.category,
            severity: r.severity,
            since: r.since,
            status: r.status,
            title: r.title,
            explanation: r.explanation,
            remediation: r.remediation,
            reference: r.reference,
            reference_url: reference_url(r.reference),
            redirected_from: None,
        }
    }
}

#[derive(Serialize)]
struct RuleList<'a> {
    schema_version: u32,
    rules: Vec<RuleDoc<'a>>,
    retired: Vec<RetiredDoc<'a>>,
}

/// A link for a reference: itself when it is one, the RFC Editor's page for `RFC N §S`.
pub fn reference_url(reference: &str) -> Option<String> {
    if reference.starts_with("https://") {
        return Some(reference.to_owned());
    }
    let rest = reference.strip_prefix("RFC ")?;
    let (number, section) = rest.split_once(' ').unwrap_or((rest, ""));
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let base = format!("https://www.rfc-editor.org/rfc/rfc{number}");
    let anchor = if let Some(s) = section.strip_prefix('§') {
        format!("#section-{}", s.trim())
    } else if let Some(a) = section.strip_prefix("Appendix ") {
        format!("#appendix-{}", a.trim())
    } else {
        String::new()
    };
    Some(base + &anchor)
}

impl Catalogue {
    /// Prints the catalogue in `format`, prose wrapped to `width` columns; `rules` lists the
    /// rules `selection` runs (`--select` / `--ignore` filter the list).
    pub fn render(
        self,
        format: Format,
        width: usize,
        selection: &Selection,
        w: &mut dyn Write,
    ) -> io::Result<()> {
        let listed: Vec<&Rule> = RULES
            .iter()
            .copied()
            .filter(|r| matches!(selection.state(r), RuleState::Run(_)))
            .collect();
        let text = match (self, format) {
            (Self::Rules, Format::Json | Format::Jsonl) => json(&RuleList {
                schema_version: SCHEMA_VERSION,
                rules: listed.iter().map(|r| RuleDoc::from(*r)).collect(),
                retired: redirects::all().iter().map(RetiredDoc::from).collect(),
            })?,
            (Self::Rules, Format::Markdown) => rules_markdown(&listed),
            (Self::Rules, Format::Table | Format::Csv) => rules_table(&listed),
            (Self::Explain(Topic::Rule(r)), Format::Json | Format::Jsonl) => {
                json(&RuleDoc::from(r))?
            }
            (Self::Explain(Topic::Rule(r)), Format::Markdown) => rule_markdown(r, "#"),
            (Self::Explain(Topic::Rule(r)), Format::Table | Format::Csv) => rule_text(r, width),
            (Self::Explain(Topic::Retired(r)), format) => retired(r, format, width)?,
            (Self::Explain(Topic::Scoring), Format::Json | Format::Jsonl) => json(&score::model())?,
            (Self::Explain(Topic::Scoring), Format::Markdown) => {
                format!(
                    "# Scoring\n\n{}",
                    scoring_paragraphs(&score::model()).join("\n\n")
                ) + "\n"
            }
            (Self::Explain(Topic::Scoring), Format::Table | Format::Csv) => scoring_text(width),
        };
        w.write_all(text.as_bytes())
    }
}

fn json<T: Serialize>(value: &T) -> io::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

fn rules_table(rules: &[&Rule]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8}  {:<8}  {:<14}  {:<5}  NAME",
        "CODE", "SEVERITY", "CATEGORY", "SINCE"
    );
    for r in rules {
        let status = match r.status {
            RuleStatus::Stable => String::new(),
            s => format!(" [{}]", s.as_str()),
        };
        let _ = writeln!(
            out,
            "{:<8}  {:<8}  {:<14}  {:<5}  {}{status}",
            r.code,
            r.severity.as_str(),
            r.category.as_str(),
            r.since,
            r.name
        );
    }
    let _ = writeln!(
        out,
        "\n{} rules ({}){} · details: mailcheck explain CODE · --format json|markdown",
        rules.len(),
        status_counts(rules),
        match redirects::all().len() {
            0 => String::new(),
            n => format!(" · {n} retired codes"),
        }
    );
    out
}

/// `all stable`, or how many rules are in each status.
fn status_counts(rules: &[&Rule]) -> String {
    let statuses = [
        RuleStatus::Stable,
        RuleStatus::Preview,
        RuleStatus::Deprecated,
    ];
    let counts: Vec<(usize, RuleStatus)> = statuses
        .iter()
        .map(|&s| (rules.iter().filter(|r| r.status == s).count(), s))
        .filter(|(n, _)| *n > 0)
        .collect();
    match counts.as_slice() {
        [(_, s)] => format!("all {}", s.as_str()),
        _ => counts
            .iter()
            .map(|(n, s)| format!("{n} {}", s.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `docs/rules.md` (with every rule).
fn rules_markdown(rules: &[&Rule]) -> String {
    let mut out = String::from(
        "# mailcheck rules\n\n\
         <!-- Generated by `mailcheck rules --format markdown > docs/rules.md`; do not edit. -->\n\n\
         Every finding carries one of these stable codes. Codes never change meaning; a retired \
         code stays reserved. Look one up with `mailcheck explain CODE`, switch rules off with \
         `--ignore CODE` or a prefix (`--ignore PTR`), or change a rule's severity in \
         `mailcheck.toml` (see the README).\n\n\
         | Code | Name | Category | Severity | Since | Title |\n|---|---|---|---|---|---|\n",
    );
    for r in rules {
        let status = match r.status {
            RuleStatus::Stable => String::new(),
            s => format!(" ({})", s.as_str()),
        };
        let _ = writeln!(
            out,
            "| [{code}](#{anchor}) | `{}`{status} | {} | {} | {} | {} |",
            r.name,
            r.category.as_str(),
            r.severity.as_str(),
            r.since,
            r.title.replace('|', "\\|"),
            code = r.code,
            anchor = r.code.to_ascii_lowercase(),
        );
    }
    for r in rules {
        out.push('\n');
        out.push_str(&rule_markdown(r, "##"));
    }
    out.push_str(
        "\n## Retired codes\n\n\
         A retired code stays reserved: `explain`, `--select`, `--ignore` and mailcheck.toml \
         still know it (a redirected code maps to its successor, with a warning).\n\n",
    );
    if redirects::all().is_empty() {
        out.push_str("None yet.\n");
    }
    for r in redirects::all() {
        let _ = writeln!(out, "- {}", r.describe());
    }
    out.push_str("\n## Scoring\n\n");
    out.push_str(&scoring_paragraphs(&score::model()).join("\n\n"));
    out.push('\n');
    out
}

fn rule_markdown(r: &Rule, level: &str) -> String {
    let reference = reference_url(r.reference).map_or_else(
        || r.reference.to_owned(),
        |u| format!("[{}]({u})", r.reference),
    );
    format!(
        "{level} {code}\n\n\
         **{title}** · `{name}` · {category} · default severity **{severity}** · \
         {status} since {since}\n\n\
         **Why it matters.** {explanation}\n\n\
         **How to fix.** {remediation}\n\n\
         **Reference.** {reference}\n",
        code = r.code,
        title = r.title,
        name = r.name,
        category = r.category.as_str(),
        severity = r.severity.as_str(),
        status = r.status.as_str(),
        since = r.since,
        explanation = r.explanation,
        remediation = r.remediation,
    )
}

fn wrap(out: &mut String, text: &str, width: usize) {
    let opts = textwrap::Options::new(width.clamp(40, 100) - 2)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .initial_indent("  ")
        .subsequent_indent("  ");
    for line in textwrap::wrap(text, opts) {
        let _ = writeln!(out, "{line}");
    }
}

fn rule_text(r: &Rule, width: usize) -> String {
    let mut out = format!("{} · {}\n\n", r.code, r.title);
    let reference = reference_url(r.reference)
        .filter(|u| u != r.reference)
        .map_or_else(
            || r.reference.to_owned(),
            |u| format!("{}  {u}", r.reference),
        );
    let _ = writeln!(out, "  name       {}", r.name);
    let _ = writeln!(out, "  category   {}", r.category.as_str());
    let _ = writeln!(out, "  severity   {} (default)", r.severity.as_str());
    let _ = writeln!(out, "  status     {} since {}", r.status.as_str(), r.since);
    let _ = writeln!(out, "  reference  {reference}\n");
    for (heading, body) in [
        ("What it checks", r.title),
        ("Why it matters", r.explanation),
        ("How to fix", r.remediation),
    ] {
        let _ = writeln!(out, "{heading}");
        wrap(&mut out, body, width);
        out.push('\n');
    }
    let _ = writeln!(out, "Accepting it");
    wrap(
        &mut out,
        &format!(
            "--ignore {code} reports the check as not-run. In mailcheck.toml: \
             ignore = [\"{code}\"], or [severity] {code} = \"info\" to keep it as a note.",
            code = r.code
        ),
        width,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_links() {
        assert_eq!(
            reference_url("RFC 7208 §4.6.4").as_deref(),
            Some("https://www.rfc-editor.org/rfc/rfc7208#section-4.6.4")
        );
        assert_eq!(
            reference_url("RFC 9989 Appendix C").as_deref(),
            Some("https://www.rfc-editor.org/rfc/rfc9989#appendix-C")
        );
        assert_eq!(
            reference_url("https://example.org/x").as_deref(),
            Some("https://example.org/x")
        );
        assert_eq!(reference_url("M3AAWG"), None);
        for r in RULES {
            assert!(reference_url(r.reference).is_some(), "{}", r.code);
        }
    }

    #[test]
    fn topics_are_codes_names_or_scoring() {
        assert!(matches!(Topic::parse("spf002"), Ok(Topic::Rule(r)) if r.code == "SPF002"));
        let name = rules::find("SPF002").unwrap().name;
        assert!(matches!(Topic::parse(name), Ok(Topic::Rule(r)) if r.code == "SPF002"));
        assert!(matches!(Topic::parse("scoring"), Ok(Topic::Scoring)));
        assert!(matches!(Topic::parse("spf099"), Ok(Topic::Retired(r)) if r.code == "SPF099"));
        assert!(matches!(Topic::parse("mx-old-check"), Ok(Topic::Retired(r)) if r.code == "MX099"));
        let e = Topic::parse("SPF02").unwrap_err();
        assert_eq!(e.closest.as_deref(), Some("SPF002"));
    }

    #[test]
    fn retired_codes_are_explained() {
        let render = |code: &str, format| {
            let mut out = Vec::new();
            Catalogue::Explain(Topic::parse(code).unwrap())
                .render(format, 80, &Selection::all(), &mut out)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        let text = render("SPF099", Format::Table);
        assert!(
            text.starts_with("SPF099 (spf-two-records) became SPF002 in 0.2.0.\n\nSPF002 · "),
            "{text}"
        );
        let doc: serde_json::Value = serde_json::from_str(&render("SPF099", Format::Json)).unwrap();
        assert_eq!(
            (doc["code"].as_str(), doc["redirected_from"].as_str()),
            (Some("SPF002"), Some("SPF099"))
        );
        let text = render("MX099", Format::Table);
        assert!(
            text.contains("removed in 0.2.0") && text.contains("it duplicated MX005"),
            "{text}"
        );
        let doc: serde_json::Value = serde_json::from_str(&render("mx099", Format::Json)).unwrap();
        assert_eq!(doc["status"], "removed");
        assert_eq!(doc["reason"], "it duplicated MX005");
        assert!(render("MX099", Format::Markdown).contains("**Removed.**"));
    }
}
