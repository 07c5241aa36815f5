//! The config file, `mailcheck.toml`: rule selection and per-rule severity, so a fleet can accept
//! a known deviation once instead of on every command line.
//!
//! ```toml
//! # Rules to run (default: ALL) and rules to switch off; codes or prefixes.
//! select = ["ALL"]
//! ignore = ["MX008", "PTR"]
//!
//! # Per-code (or prefix) severity: error, warning or info.
//! [severity]
//! DMARC002 = "error"
//! BL = "info"
//! ```
//!
//! The file is read from `--config PATH`, or else from `mailcheck.toml` in the working
//! directory when it exists. Unknown keys, unknown selectors and unknown severities are usage
//! errors (exit code 2), reported before any network I/O.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::finding::Severity;
use crate::rules::{Selection, Selector, UnknownSelector};

/// The file looked for in the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "mailcheck.toml";

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default)]
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    #[error("--config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(transparent)]
    Selector(#[from] UnknownSelector),
    /// Selecting a removed code would select nothing: surely not what was meant.
    #[error("{0}; remove it from the selection")]
    RemovedSelected(String),
}

/// Reads the config file: `explicit` if given (it must exist), else `mailcheck.toml` in `dir`
/// if it exists. Returns the file and the name to cite in messages.
pub fn load(explicit: Option<&Path>, dir: &Path) -> Result<Option<(File, String)>, SettingsError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (dir.join(DEFAULT_FILE), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SettingsError::Read { path, source }),
    };
    let file = parse(&text).map_err(|message| SettingsError::Parse {
        path: path.clone(),
        message,
    })?;
    let name = explicit.map_or_else(|| DEFAULT_FILE.to_owned(), |p| p.display().to_string());
    Ok(Some((file, name)))
}

/// Parses the file's text; the error is one line where the parser gives one.
pub fn parse(text: &str) -> Result<File, String> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {message}")
            }
            None => message,
        }
    })
}

/// Loads the config file ([`load`]) and combines it with the command line ([`selection`]).
pub fn resolve(
    explicit: Option<&Path>,
    dir: &Path,
    select: &[String],
    ignore: &[String],
) -> Result<Selection, SettingsError> {
    let file = load(explicit, dir)?;
    selection(file.as_ref(), select, ignore)
}

/// Combines the file with `--select` / `--ignore`: the command line's `--select` replaces the
/// file's `select`; ignores add up; severities come from the file.
pub fn selection(
    file: Option<&(File, String)>,
    select: &[String],
    ignore: &[String],
) -> Result<Selection, SettingsError> {
    let parse_all = |texts: &[String], origin: &str| {
        texts
            .iter()
            .map(|t| Selector::parse(t, origin))
            .collect::<Result<Vec<_>, _>>()
    };
    // A removed code may be ignored (with a warning), never selected.
    let parse_select = |texts: &[String], origin: &str| {
        let list = parse_all(texts, origin)?;
        match list.iter().find(|s| s.is_removed()) {
            Some(s) => Err(SettingsError::RemovedSelected(
                s.note().unwrap_or_default().to_owned(),
            )),
            None => Ok(list),
        }
    };
    let mut selection = Selection::all();
    if let Some((f, name)) = file {
        if let Some(s) = &f.select {
            selection.select = parse_select(s, &format!("{name} select"))?;
        }
        selection.ignore = parse_all(&f.ignore, &format!("{name} ignore"))?;
        for (code, severity) in &f.severity {
            let selector = Selector::parse(code, &format!("{name} [severity]"))?;
            selection.severity.push((selector, *severity));
        }
    }
    if !select.is_empty() {
        selection.select = parse_select(select, "--select")?;
    }
    selection.ignore.extend(parse_all(ignore, "--ignore")?);
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let f = parse(
            "select = [\"ALL\"]\nignore = [\"MX008\", \"PTR\"]\n[severity]\nDMARC002 = \"error\"\n",
        )
        .unwrap();
        assert_eq!(f.select.as_deref(), Some(&["ALL".to_owned()][..]));
        assert_eq!(f.ignore, ["MX008", "PTR"]);
        assert_eq!(f.severity["DMARC002"], Severity::Error);
    }

    #[test]
    fn mistakes_are_errors_with_a_line() {
        let e = parse("ignore = [\"MX008\"]\nignored = [\"PTR\"]\n").unwrap_err();
        assert!(e.starts_with("line 2: unknown field `ignored`"), "{e}");
        let e = parse("[severity]\nDMARC002 = \"fatal\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(parse("ignore = \"MX008\"\n").is_err());
    }

    #[test]
    fn the_command_line_adds_to_the_file() {
        let file = (
            parse("select = [\"SPF\"]\nignore = [\"SPF001\"]\n").unwrap(),
            "f".into(),
        );
        let s = selection(Some(&file), &[], &["SPF002".into()]).unwrap();
        assert_eq!((s.select.len(), s.ignore.len()), (1, 2));
        let s = selection(Some(&file), &["MX".into()], &[]).unwrap();
        assert_eq!(s.select, [Selector::parse("MX", "--select").unwrap()]);
        let e = selection(None, &["MX099".into()], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--select: MX099 (mx-old-check) was removed in 0.2.0"),
            "{e}"
        );
        let s = selection(None, &["SPF099".into()], &["MX099".into()]).unwrap();
        assert_eq!(s.notes().len(), 2, "{:?}", s.notes());
        let bad = (parse("ignore = [\"NOPE1\"]\n").unwrap(), "f".into());
        let e = selection(Some(&bad), &[], &[]).unwrap_err();
        assert!(
            e.to_string().starts_with("f ignore: unknown rule selector"),
            "{e}"
        );
    }
}
