//! The MTA-STS policy file (RFC 8461 §3.2) and MX pattern matching (§4.1), as pure functions.
//!
//! Not wired into the audit yet: the HTTPS fetch of
//! `https://mta-sts.<domain>/.well-known/mta-sts.txt` that feeds it is still to come. Kept here,
//! tested, so the fetch and the cross-check rules only need to call it.

use serde::{Deserialize, Serialize};

/// The largest `max_age` allowed: 31557600 seconds, about a year (RFC 8461 §3.2).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// A policy file, read line by line. Problems are collected, not fatal, so a report can list
/// them all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `enforce`, `testing` or `none`, as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Every `mx:` pattern, in order.
    pub mx: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// Keys this parser does not know (allowed by §3.2, ignored by senders).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_keys: Vec<String>,
    /// Lines ending in a bare LF instead of CRLF (§3.2 says CRLF; senders should accept LF).
    pub bare_lf_lines: usize,
    /// What makes the policy invalid, one entry per problem.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Parses a policy body.
pub fn parse(body: &str) -> PolicyFile {
    let mut p = PolicyFile::default();
    let mut seen: Vec<String> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let line = match line.strip_suffix('\r') {
            Some(l) => l,
            None if !next.is_empty() || body.ends_with('\n') => {
                p.bare_lf_lines += 1;
                line
            }
            None => line,
        };
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            p.errors.push(format!("{line:?} is not a key: value line"));
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key != "mx" && seen.iter().any(|k| k == key) {
            p.errors.push(format!("{key} appears more than once"));
            continue;
        }
        seen.push(key.to_owned());
        match key {
            "version" => p.version = Some(value.to_owned()),
            "mode" => p.mode = Some(value.to_owned()),
            "mx" => p.mx.push(value.to_ascii_lowercase()),
            "max_age" => match value.parse::<u64>() {
                Ok(n) if value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit()) => {
                    p.max_age = Some(n);
                }
                _ => p
                    .errors
                    .push(format!("max_age {value:?} is not a number of seconds")),
            },
            _ => p.unknown_keys.push(key.to_owned()),
        }
    }
    if p.version.as_deref() != Some("STSv1") {
        p.errors.push("version must be STSv1".into());
    }
    match p.mode.as_deref() {
        Some("enforce" | "testing" | "none") => {}
        Some(m) => p
            .errors
            .push(format!("mode {m:?} is not enforce, testing or none")),
        None => p.errors.push("mode is missing".into()),
    }
    match p.max_age {
        None if !p.errors.iter().any(|e| e.starts_with("max_age")) => {
            p.errors.push("max_age is missing".into());
        }
        Some(n) if n > MAX_AGE_LIMIT => p
            .errors
            .push(format!("max_age {n} is above the limit of {MAX_AGE_LIMIT}")),
        _ => {}
    }
    if p.mx.is_empty() && p.mode.as_deref() != Some("none") {
        p.errors.push("no mx pattern".into());
    }
    p
}

/// Whether an MX host name matches a policy pattern (RFC 8461 §4.1): exactly, or for
/// `*.example.com` by replacing the wildcard with exactly one label.
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_policy() {
        let p = parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.mx, ["mail.example.com", "*.example.net"]);
        assert_eq!(p.max_age, Some(604_800));
        assert_eq!(p.bare_lf_lines, 0);
    }

    #[test]
    fn problems_are_all_listed() {
        let p = parse("version: STSv2\nmode: strict\nmax_age: 99999999999\nextra: 1\nnonsense\n");
        assert_eq!(p.bare_lf_lines, 5);
        assert_eq!(p.unknown_keys, ["extra"]);
        assert!(p.errors.iter().any(|e| e.contains("STSv1")));
        assert!(p.errors.iter().any(|e| e.contains("strict")));
        assert!(p.errors.iter().any(|e| e.contains("max_age")));
        assert!(p.errors.iter().any(|e| e.contains("no mx")));
        assert!(p.errors.iter().any(|e| e.contains("\"nonsense\"")));
        let p = parse("version: STSv1\r\nmode: none\r\nmax_age: 31557601\r\n");
        assert_eq!(
            p.errors,
            ["max_age 31557601 is above the limit of 31557600"]
        );
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(mx_matches("mail.example.com", "MAIL.example.com."));
        assert!(mx_matches("*.example.com", "mx1.example.com"));
        assert!(!mx_matches("*.example.com", "a.b.example.com"));
        assert!(!mx_matches("*.example.com", "example.com"));
        assert!(!mx_matches("mail.example.com", "mx.example.com"));
    }
}
