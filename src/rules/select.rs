//! Rule selection: which rules run, and at which severity.
//!
//! A selector is `ALL`, a code family (`SPF`), a code prefix (`SPF01`) or a full code
//! (`SPF002`), case-insensitive. Selectors come from `--select` / `--ignore` and from the config
//! file's `select`, `ignore` and `[severity]` tables. For each rule the most specific matching
//! selector decides (the longest; `ALL` is the least specific), and on a tie `ignore` wins, so
//! `--select ALL,SPF002 --ignore SPF` runs every rule but the SPF ones, except SPF002. A selector that matches no
//! registered rule is a usage error (exit code 2), never silently ignored.

use super::redirects::{self, Fate};
use super::{RULES, Rule};
use crate::finding::Severity;

/// One validated selector, with where it came from (for the `not-run` reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// Upper-case; empty for `ALL`.
    prefix: String,
    /// The option or file that gave it, e.g. `--ignore` or `mailcheck.toml ignore`.
    origin: String,
    /// Set when the text named a retired code: the warning to print.
    note: Option<String>,
    /// The text named a removed code: the selector matches no rule.
    removed: bool,
}

/// A selector that names no rule.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{origin}: unknown rule selector {text:?}{}", suggestion(.closest.as_deref()))]
pub struct UnknownSelector {
    pub origin: String,
    pub text: String,
    /// The nearest code, when one is close.
    pub closest: Option<String>,
}

fn suggestion(closest: Option<&str>) -> String {
    closest.map_or_else(
        || " (see `mailcheck rules`)".to_owned(),
        |c| format!(" (did you mean {c}? see `mailcheck rules`)"),
    )
}

impl Selector {
    /// Parses `text` as a selector; `origin` names the option or file it came from.
    pub fn parse(text: &str, origin: &str) -> Result<Self, UnknownSelector> {
        let upper = text.trim().to_ascii_uppercase();
        if upper == "ALL" {
            return Ok(Self::new(String::new(), origin));
        }
        if let Some(retired) = redirects::find(&upper) {
            let (prefix, removed, then) = match retired.fate {
                Fate::Redirect(to) => (to.to_owned(), false, format!("using {to}")),
                Fate::Removed(_) => (upper, true, "it matches no rule".to_owned()),
            };
            return Ok(Self {
                note: Some(format!("{origin}: {}; {then}", retired.describe())),
                removed,
                ..Self::new(prefix, origin)
            });
        }
        let family_len = upper.bytes().take_while(u8::is_ascii_alphabetic).count();
        let well_formed = family_len > 0
            && upper.len() <= family_len + 3
            && upper[family_len..].bytes().all(|b| b.is_ascii_digit());
        // The whole family must be named: `S` is not a selector, `SPF` and `SPF0` are.
        let matches = well_formed
            && RULES.iter().any(|r| {
                r.code.starts_with(&upper)
                    && r.code.bytes().take_while(u8::is_ascii_alphabetic).count() == family_len
            });
        if matches {
            Ok(Self::new(upper, origin))
        } else {
            Err(UnknownSelector {
                origin: origin.to_owned(),
                text: text.to_owned(),
                closest: closest_code(&upper),
            })
        }
    }

    fn new(prefix: String, origin: &str) -> Self {
        Self {
            prefix,
            origin: origin.to_owned(),
            note: None,
            removed: false,
        }
    }

    /// The warning for a retired code, if the text named one.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Whether the text named a removed code (a selector that matches no rule).
    pub fn is_removed(&self) -> bool {
        self.removed
    }

    fn specificity(&self, code: &str) -> Option<usize> {
        code.starts_with(&self.prefix).then_some(self.prefix.len())
    }

    fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("{} ALL", self.origin)
        } else {
            format!("{} {}", self.origin, self.prefix)
        }
    }
}

/// What to do with one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleState {
    /// Run it; its findings carry this severity.
    Run(Severity),
    /// Do not run it: `not-run`, with this reason.
    Off(String),
}

/// The user's choice of rules and severities, resolved per rule by [`Selection::state`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Empty means `ALL`.
    pub select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    /// Per-code (or prefix) severity overrides; the most specific applies.
    pub severity: Vec<(Selector, Severity)>,
}

impl Selection {
    /// Every rule at its default severity.
    pub fn all() -> Self {
        Self::default()
    }

    /// Warnings for retired codes among the selectors, each once.
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = Vec::new();
        let all = self
            .select
            .iter()
            .chain(&self.ignore)
            .chain(self.severity.iter().map(|(s, _)| s));
        for note in all.filter_map(Selector::note) {
            if !notes.iter().any(|n| n == note) {
                notes.push(note.to_owned());
            }
        }
        notes
    }

    pub fn state(&self, rule: &Rule) -> RuleState {
        let selected = if self.select.is_empty() {
            Some(0)
        } else {
            best(&self.select, rule.code).map(|(n, _)| n)
        };
        let ignored = best(&self.ignore, rule.code);
        let off = match (selected, ignored) {
            (None, _) => Some(format!(
                "not selected by {}",
                self.select
                    .iter()
                    .map(Selector::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (Some(n), Some((m, s))) if m >= n => Some(format!("switched off by {}", s.describe())),
            _ => None,
        };
        if let Some(reason) = off {
            return RuleState::Off(reason);
        }
        let severity = self
            .severity
            .iter()
            .filter_map(|(s, sev)| s.specificity(rule.code).map(|n| (n, *sev)))
            .max_by_key(|(n, _)| *n)
            .map_or(rule.severity, |(_, sev)| sev);
        RuleState::Run(severity)
    }
}

/// The most specific selector of `list` that matches `code`, with its specificity.
fn best<'a>(list: &'a [Selector], code: &str) -> Option<(usize, &'a Selector)> {
    list.iter()
        .filter_map(|s| s.specificity(code).map(|n| (n, s)))
        .max_by_key(|(n, _)| *n)
}

/// The registered code nearest to `text`, if it is close (a typo, not another word).
pub fn closest_code(text: &str) -> Option<String> {
    RULES
        .iter()
        .map(|r| (distance(text, r.code), r.code))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c.to_owned())
}

/// Levenshtein distance over bytes (codes are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::find;

    fn sel(text: &str) -> Selector {
        Selector::parse(text, "--test").unwrap()
    }

    #[test]
    fn selectors_name_families_prefixes_codes_or_all() {
        for ok in [
            "ALL", "all", "SPF", "spf", "SPF0", "SPF002", "DMARC01", "BL",
        ] {
            assert!(Selector::parse(ok, "--select").is_ok(), "{ok}");
        }
        for bad in ["S", "SP", "SPF9", "SPF0021", "FOO", "", "SPF-2", "MX1234"] {
            assert!(Selector::parse(bad, "--select").is_err(), "{bad}");
        }
        let err = Selector::parse("SFP002", "--ignore").unwrap_err();
        assert_eq!(err.closest.as_deref(), Some("SPF002"));
        assert!(err.to_string().contains("did you mean SPF002?"), "{err}");
    }

    #[test]
    fn the_most_specific_selector_wins_and_ignore_wins_ties() {
        let spf2 = find("SPF002").unwrap();
        let spf1 = find("SPF001").unwrap();
        let mx1 = find("MX001").unwrap();
        assert_eq!(Selection::all().state(spf2), RuleState::Run(spf2.severity));
        let s = Selection {
            select: vec![sel("ALL"), sel("SPF002")],
            ignore: vec![sel("SPF")],
            severity: vec![],
        };
        assert_eq!(s.state(spf2), RuleState::Run(spf2.severity));
        assert_eq!(s.state(mx1), RuleState::Run(mx1.severity));
        assert!(matches!(s.state(spf1), RuleState::Off(r) if r == "switched off by --test SPF"));
        let s = Selection {
            select: vec![sel("SPF002")],
            ignore: vec![],
            severity: vec![],
        };
        assert!(matches!(s.state(mx1), RuleState::Off(r) if r == "not selected by --test SPF002"));
        let s = Selection {
            select: vec![sel("SPF")],
            ignore: vec![sel("SPF")],
            severity: vec![],
        };
        assert!(matches!(s.state(spf2), RuleState::Off(_)));
        let s = Selection {
            select: vec![],
            ignore: vec![sel("ALL")],
            severity: vec![],
        };
        assert!(matches!(s.state(mx1), RuleState::Off(_)));
    }

    #[test]
    fn retired_codes_redirect_or_match_nothing_with_a_note() {
        let s = Selector::parse("spf099", "--ignore").unwrap();
        assert_eq!(s.prefix, "SPF002");
        assert_eq!(
            s.note(),
            Some("--ignore: SPF099 (spf-two-records) became SPF002 in 0.2.0; using SPF002")
        );
        let selection = Selection {
            select: vec![],
            ignore: vec![s],
            severity: vec![],
        };
        assert!(matches!(
            selection.state(find("SPF002").unwrap()),
            RuleState::Off(_)
        ));
        assert_eq!(selection.notes().len(), 1);
        let gone = Selector::parse("MX099", "mailcheck.toml ignore").unwrap();
        assert!(gone.is_removed());
        assert!(gone.note().unwrap().contains("was removed in 0.2.0"));
        let selection = Selection {
            select: vec![],
            ignore: vec![gone],
            severity: vec![],
        };
        assert!(
            RULES
                .iter()
                .all(|r| matches!(selection.state(r), RuleState::Run(_)))
        );
    }

    #[test]
    fn severity_overrides_apply_most_specific_first() {
        let s = Selection {
            select: vec![],
            ignore: vec![],
            severity: vec![
                (sel("DMARC"), Severity::Info),
                (sel("DMARC002"), Severity::Error),
            ],
        };
        assert_eq!(
            s.state(find("DMARC002").unwrap()),
            RuleState::Run(Severity::Error)
        );
        assert_eq!(
            s.state(find("DMARC001").unwrap()),
            RuleState::Run(Severity::Info)
        );
        assert_eq!(
            s.state(find("SPF002").unwrap()),
            RuleState::Run(Severity::Error)
        );
    }
}
