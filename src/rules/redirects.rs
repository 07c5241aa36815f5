//! Retired rule codes. A code never changes meaning, so when a rule is renamed, merged into
//! another or dropped, its code moves here instead of being reused (ruff's `rule_redirects.rs`).
//!
//! Everything that takes a code consults this table: `explain`, `--select` / `--ignore` and
//! `mailcheck.toml`. A redirected code maps to its successor with a warning, so old configs keep
//! working; a removed code is explained as removed, ignoring it is a warning, and selecting it is
//! a usage error (it would select nothing).

use super::RULES;

/// One retired code.
#[derive(Debug)]
pub struct Retired {
    pub code: &'static str,
    /// The rule's kebab-case name when it retired.
    pub name: &'static str,
    /// The release that added the rule.
    pub since: &'static str,
    /// The release that retired it.
    pub retired_in: &'static str,
    pub fate: Fate,
}

/// What became of a retired code.
#[derive(Debug)]
pub enum Fate {
    /// Its checks live on under this registered code.
    Redirect(&'static str),
    /// Dropped; the text says why.
    Removed(&'static str),
}

/// Every retired code, in code order. None yet: mailcheck 0.1.0 is the first release.
pub static RETIRED: &[Retired] = &[];

/// The table in force: [`RETIRED`], or, in this crate's unit tests, a sample of both fates.
#[cfg(not(test))]
fn table() -> &'static [Retired] {
    RETIRED
}

#[cfg(test)]
fn table() -> &'static [Retired] {
    tests::SAMPLE
}

/// The retired code `code` (any case), if it is one.
pub fn find(code: &str) -> Option<&'static Retired> {
    table().iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// Every retired code (for `rules --format markdown`).
pub fn all() -> &'static [Retired] {
    table()
}

impl Retired {
    /// The registered rule that took over, for a redirect.
    pub fn successor(&self) -> Option<&'static super::Rule> {
        match self.fate {
            Fate::Redirect(to) => RULES.iter().copied().find(|r| r.code == to),
            Fate::Removed(_) => None,
        }
    }

    /// One line for a warning or the catalogue.
    pub fn describe(&self) -> String {
        match self.fate {
            Fate::Redirect(to) => format!(
                "{} ({}) became {to} in {}",
                self.code, self.name, self.retired_in
            ),
            Fate::Removed(why) => format!(
                "{} ({}) was removed in {}: {why}",
                self.code, self.name, self.retired_in
            ),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Stand-ins, so the code paths that consult the table are tested before a code retires.
    pub static SAMPLE: &[Retired] = &[
        Retired {
            code: "MX099",
            name: "mx-old-check",
            since: "0.1.0",
            retired_in: "0.2.0",
            fate: Fate::Removed("it duplicated MX005"),
        },
        Retired {
            code: "SPF099",
            name: "spf-two-records",
            since: "0.1.0",
            retired_in: "0.2.0",
            fate: Fate::Redirect("SPF002"),
        },
    ];

    fn check(table: &[Retired]) {
        for r in table {
            assert!(
                super::super::find(r.code).is_none(),
                "{} is retired and registered",
                r.code
            );
            if let Fate::Redirect(to) = r.fate {
                assert!(
                    super::super::find(to).is_some(),
                    "{}: redirect to unregistered {to}",
                    r.code
                );
            }
        }
        let codes: Vec<_> = table.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "retired codes unique and in order");
    }

    #[test]
    fn retired_codes_are_reserved_and_redirect_to_registered_rules() {
        check(RETIRED);
        check(SAMPLE);
    }

    #[test]
    fn lookups_find_both_fates() {
        let r = find("spf099").unwrap();
        assert_eq!(r.successor().map(|s| s.code), Some("SPF002"));
        assert_eq!(
            r.describe(),
            "SPF099 (spf-two-records) became SPF002 in 0.2.0"
        );
        let r = find("MX099").unwrap();
        assert!(r.successor().is_none());
        assert!(
            r.describe().contains("was removed in 0.2.0"),
            "{}",
            r.describe()
        );
        assert!(find("SPF002").is_none());
    }
}
