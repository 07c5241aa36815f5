//! Domain names as users type them, checked and normalised before any I/O.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A validated domain: lower-case A-labels (IDNA, UTS #46), no trailing dot.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Domain(String);

impl Domain {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name prefixed by a label, e.g. `_dmarc`.
    pub fn child(&self, label: &str) -> String {
        format!("{label}.{}", self.0)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an input is not a domain mailcheck can audit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    #[error("{0:?} is empty")]
    Empty(String),
    #[error("{input:?} is an email address; did you mean {domain:?}?")]
    EmailAddress { input: String, domain: String },
    #[error("{0:?} is an IP address, not a domain")]
    IpAddress(String),
    #[error("{0:?} is a URL; did you mean {1:?}?")]
    Url(String, String),
    #[error("{input:?} has a label of {len} characters; the limit is 63")]
    LabelTooLong { input: String, len: usize },
    #[error("{input:?} is {len} characters long; the limit is 253")]
    TooLong { input: String, len: usize },
    #[error("{0:?} has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel(String),
    #[error("{input:?} is not a valid host name: {reason}")]
    Invalid { input: String, reason: String },
}

impl Domain {
    /// Parses user input: trims, drops one trailing dot, maps IDNs to A-labels, lower-cases,
    /// and applies host-name rules (letters, digits and hyphens; no hyphen at a label's edge).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let raw = input.trim();
        let own = || raw.to_owned();
        if raw.is_empty() {
            return Err(DomainError::Empty(input.to_owned()));
        }
        if let Some((_, domain)) = raw.rsplit_once('@') {
            return Err(DomainError::EmailAddress {
                input: own(),
                domain: domain.trim_end_matches('.').to_owned(),
            });
        }
        if let Some((_, rest)) = raw.split_once("://") {
            let host = rest.split(['/', ':', '?', '#']).next().unwrap_or_default();
            return Err(DomainError::Url(own(), host.to_owned()));
        }
        let bare = raw.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok() {
            return Err(DomainError::IpAddress(own()));
        }
        let name = raw.strip_suffix('.').unwrap_or(raw);
        if name.is_empty() || name.split('.').any(str::is_empty) {
            return Err(DomainError::EmptyLabel(own()));
        }
        if let Some(label) = name.split('.').find(|l| l.len() > 63) {
            return Err(DomainError::LabelTooLong {
                input: own(),
                len: label.len(),
            });
        }
        let ascii = if name.is_ascii() {
            name.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(name).map_err(|_| DomainError::Invalid {
                input: own(),
                reason: "it is not a valid internationalised name (IDNA)".into(),
            })?
        };
        if ascii.len() > 253 {
            return Err(DomainError::TooLong {
                input: own(),
                len: ascii.len(),
            });
        }
        for label in ascii.split('.') {
            if label.len() > 63 {
                return Err(DomainError::LabelTooLong {
                    input: own(),
                    len: label.len(),
                });
            }
            if let Some(c) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
            {
                return Err(DomainError::Invalid {
                    input: own(),
                    reason: format!("{c:?} is not allowed in a host name"),
                });
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(DomainError::Invalid {
                    input: own(),
                    reason: format!("label {label:?} starts or ends with a hyphen"),
                });
            }
        }
        // An A-label must decode: `xn--` followed by junk is not a name anyone can register.
        if ascii.split('.').any(|l| l.starts_with("xn--"))
            && idna::domain_to_unicode(&ascii).1.is_err()
        {
            return Err(DomainError::Invalid {
                input: own(),
                reason: "it has an invalid xn-- (IDNA) label".into(),
            });
        }
        Ok(Self(ascii))
    }

    /// Whether the name has more than one label; a bare word is taken as a subcommand.
    pub fn is_multi_label(&self) -> bool {
        self.0.contains('.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        Domain::parse(s).unwrap().0
    }

    #[test]
    fn normalises_case_dot_and_idn() {
        assert_eq!(ok("Example.COM."), "example.com");
        assert_eq!(ok("  good.test "), "good.test");
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert!(Domain::parse("xn--zz-.example").is_err());
    }

    #[test]
    fn rejects_what_is_not_a_domain() {
        assert!(matches!(
            Domain::parse("exa mple.com"),
            Err(DomainError::Invalid { .. })
        ));
        assert!(matches!(
            Domain::parse("-bad-.com"),
            Err(DomainError::Invalid { .. })
        ));
        assert!(matches!(
            Domain::parse(&format!("{}.com", "a".repeat(300))),
            Err(DomainError::LabelTooLong { len: 300, .. })
        ));
        assert!(matches!(
            Domain::parse(&format!("{}.com", vec!["a".repeat(60); 5].join("."))),
            Err(DomainError::TooLong { .. })
        ));
        assert!(matches!(
            Domain::parse("192.0.2.1"),
            Err(DomainError::IpAddress(_))
        ));
        assert!(matches!(
            Domain::parse("[2001:db8::1]"),
            Err(DomainError::IpAddress(_))
        ));
        assert!(matches!(
            Domain::parse("a..b"),
            Err(DomainError::EmptyLabel(_))
        ));
        assert!(matches!(Domain::parse(""), Err(DomainError::Empty(_))));
        assert!(matches!(
            Domain::parse("under_score.com"),
            Err(DomainError::Invalid { .. })
        ));
    }

    #[test]
    fn suggests_the_domain_of_an_email_address_or_url() {
        let e = Domain::parse("alice@example.com").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#""alice@example.com" is an email address; did you mean "example.com"?"#
        );
        let e = Domain::parse("https://example.com/path").unwrap_err();
        assert!(
            e.to_string().contains(r#"did you mean "example.com""#),
            "{e}"
        );
    }
}
