//! DMARC record syntax (RFC 9989 §4.7, RFC 7489 §6.3–6.4): tags, their values, report URIs.

use serde::{Deserialize, Serialize};

/// A `name=value` pair, the name lower-cased, the value trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

/// Why a DMARC record cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("the first tag must be exactly v=DMARC1, found {0:?}")]
    Version(String),
    #[error("{0:?} is not a tag=value pair")]
    NotATag(String),
    #[error("tag {0:?} appears more than once")]
    Duplicate(String),
    #[error("p={0:?} is not none, quarantine or reject")]
    BadPolicy(String),
}

/// Whether a TXT record is meant as DMARC: its first tag is `v=DMARC1` in any case or spacing.
/// Receivers discard other records (RFC 7489 §6.6.3); near-misses are kept to report them.
pub fn claims_dmarc(text: &str) -> bool {
    let first = text.split(';').next().unwrap_or_default();
    let compact: String = first.chars().filter(|c| !c.is_whitespace()).collect();
    compact.eq_ignore_ascii_case("v=dmarc1")
}

/// Parses a DMARC record into its tags. A missing `p=` is not an error here: RFC 9989 reads it
/// as `none`, and a rule reports it.
pub fn parse(text: &str) -> Result<Vec<Tag>, ParseError> {
    let mut tags: Vec<Tag> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| ParseError::NotATag(part.to_owned()))?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ParseError::NotATag(part.to_owned()));
        }
        let tag = Tag {
            name: name.to_ascii_lowercase(),
            value: value.trim().to_owned(),
        };
        if tags.iter().any(|t| t.name == tag.name) {
            return Err(ParseError::Duplicate(tag.name));
        }
        tags.push(tag);
    }
    match tags.first() {
        Some(t) if t.name == "v" && t.value == "DMARC1" => {}
        Some(t) => return Err(ParseError::Version(format!("{}={}", t.name, t.value))),
        None => return Err(ParseError::Version(String::new())),
    }
    if let Some(p) = tags.iter().find(|t| t.name == "p")
        && Policy::parse(&p.value).is_none()
    {
        return Err(ParseError::BadPolicy(p.value.clone()));
    }
    Ok(tags)
}

/// The `p=`, `sp=` and `np=` values, weakest first.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "quarantine" => Some(Self::Quarantine),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }
}

/// Tags RFC 9989 defines.
pub const KNOWN: &[&str] = &[
    "v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "fo", "rua", "ruf",
];
/// Tags only RFC 7489 defines; RFC 9989 removed them.
pub const OBSOLETE: &[&str] = &["pct", "rf", "ri"];

/// What is wrong with a tag's value, if anything (RFC 9989 §4.7, RFC 7489 §6.3).
pub fn value_problem(tag: &Tag) -> Option<String> {
    let v = tag.value.as_str();
    let one_of = |allowed: &[&str]| allowed.iter().any(|a| a.eq_ignore_ascii_case(v));
    let ok = match tag.name.as_str() {
        "sp" | "np" => Policy::parse(v).is_some(),
        "adkim" | "aspf" => one_of(&["r", "s"]),
        "t" => one_of(&["y", "n"]),
        "psd" => one_of(&["y", "n", "u"]),
        "fo" => v
            .split(':')
            .all(|o| ["0", "1", "d", "s"].contains(&o.trim())),
        "pct" => v.parse::<u8>().is_ok_and(|n| n <= 100),
        "ri" => v.parse::<u32>().is_ok(),
        "rf" => v.split(':').all(|f| f.trim().eq_ignore_ascii_case("afrf")),
        "rua" | "ruf" => return uris(v).iter().find_map(|u| u.problem.clone()),
        _ => true,
    };
    (!ok).then(|| format!("{}={v:?} is not a valid value", tag.name))
}

/// One URI of `rua=` or `ruf=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportUri {
    pub uri: String,
    /// The mailbox's domain, lower case, for `mailto:` URIs.
    pub domain: Option<String>,
    /// A `!size` limit, obsolete in RFC 9989.
    pub size: Option<String>,
    pub problem: Option<String>,
}

/// Splits and checks a `rua=`/`ruf=` value: comma-separated `mailto:` URIs (RFC 9989 §4.7).
pub fn uris(value: &str) -> Vec<ReportUri> {
    value
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|raw| {
            let (uri, size) = match raw.split_once('!') {
                Some((u, s)) => (u, Some(s.to_owned())),
                None => (raw, None),
            };
            let mut r = ReportUri {
                uri: uri.to_owned(),
                domain: None,
                size,
                problem: None,
            };
            let lower = uri.to_ascii_lowercase();
            match lower.strip_prefix("mailto:") {
                Some(addr) => match addr.rsplit_once('@') {
                    Some((local, domain))
                        if !local.is_empty()
                            && domain.contains('.')
                            && domain.split('.').all(|l| {
                                !l.is_empty()
                                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            }) =>
                    {
                        r.domain = Some(domain.to_owned());
                    }
                    _ => r.problem = Some(format!("{uri:?} is not a valid mailto: address")),
                },
                None if lower.contains(':') => {
                    r.problem = Some(format!(
                        "{uri:?}: receivers only send reports to mailto: addresses"
                    ));
                }
                None => r.problem = Some(format!("{uri:?} is not a URI; write mailto:{uri}")),
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_in_order() {
        let tags = parse("v=DMARC1; p=reject; rua=mailto:d@example.com;").unwrap();
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v", "p", "rua"]);
        assert_eq!(tags[2].value, "mailto:d@example.com");
        assert!(parse("v = DMARC1 ; p = none").is_ok());
        assert!(
            parse("v=DMARC1; rua=mailto:a@b.example").is_ok(),
            "no p is read as none"
        );
    }

    #[test]
    fn rejects_what_receivers_cannot_read() {
        assert_eq!(
            parse("p=reject; v=DMARC1"),
            Err(ParseError::Version("p=reject".into()))
        );
        assert_eq!(
            parse("v=dmarc1; p=reject"),
            Err(ParseError::Version("v=dmarc1".into()))
        );
        assert_eq!(
            parse("v=DMARC1; p=bogus"),
            Err(ParseError::BadPolicy("bogus".into()))
        );
        assert_eq!(
            parse("v=DMARC1; p=none; p=reject"),
            Err(ParseError::Duplicate("p".into()))
        );
        assert_eq!(
            parse("v=DMARC1; p=none; junk"),
            Err(ParseError::NotATag("junk".into()))
        );
        assert!(parse("v=DMARC1; p=none; \u{1b}[2J=x").is_err());
        assert!(parse(&format!("v=DMARC1; p=none; rua={}", "x,".repeat(10_000))).is_ok());
    }

    #[test]
    fn recognises_near_miss_versions_as_claims() {
        assert!(claims_dmarc("v=DMARC1; p=none"));
        assert!(claims_dmarc("v = dmarc1;p=none"));
        assert!(!claims_dmarc("v=spf1 -all"));
        assert!(!claims_dmarc("v=DMARC2; p=none"));
    }

    #[test]
    fn checks_tag_values() {
        let tag = |n: &str, v: &str| Tag {
            name: n.into(),
            value: v.into(),
        };
        assert!(value_problem(&tag("sp", "reject")).is_none());
        assert!(value_problem(&tag("sp", "rejected")).is_some());
        assert!(value_problem(&tag("adkim", "x")).is_some());
        assert!(value_problem(&tag("fo", "1:d")).is_none());
        assert!(value_problem(&tag("fo", "2")).is_some());
        assert!(value_problem(&tag("pct", "101")).is_some());
        assert!(value_problem(&tag("rua", "mailto:a@b.example,https://x.example/r")).is_some());
        assert!(value_problem(&tag("rua", "mailto:a@b.example!10m")).is_none());
    }

    #[test]
    fn report_uris() {
        let u = uris("mailto:Reports@Example.NET!10m, mailto:x@y.example");
        assert_eq!(u[0].domain.as_deref(), Some("example.net"));
        assert_eq!(u[0].size.as_deref(), Some("10m"));
        assert_eq!(u[1].domain.as_deref(), Some("y.example"));
        assert!(
            uris("reports@example.net")[0]
                .problem
                .as_ref()
                .unwrap()
                .contains("mailto:")
        );
        assert!(uris("mailto:nobody")[0].problem.is_some());
    }
}
