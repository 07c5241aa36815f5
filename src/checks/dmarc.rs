//! DMARC (RFC 7489): the record at `_dmarc.<domain>` and a tag parser.
//!
//! The parser is deliberately strict about what a receiver needs to apply a policy (the version
//! tag first, a known `p`), and keeps every tag as published so later rules can say more.

use serde::{Deserialize, Serialize};

use crate::dns::{Dns, Lookup, Txt};
use crate::domain::Domain;

/// The DMARC facts of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcFacts {
    /// The name queried: `_dmarc.<domain>`.
    pub name: String,
    /// Every TXT record there, raw.
    pub lookup: Lookup<Vec<Txt>>,
    /// The records that claim to be DMARC (first tag `v=DMARC1`, any case), parsed.
    pub records: Vec<DmarcRecord>,
}

/// One DMARC record: its text and what the parser made of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcRecord {
    pub text: String,
    /// The tags in published order, or why the record cannot be used.
    pub parsed: Result<Vec<Tag>, String>,
}

/// A `name=value` pair, the name lower-cased, the value trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

pub async fn gather(dns: &Dns, domain: &Domain) -> DmarcFacts {
    let name = domain.child("_dmarc");
    let lookup = dns.txt(&name).await;
    let records = lookup
        .records()
        .map(|txts| {
            txts.iter()
                .map(Txt::text)
                .filter(|t| claims_dmarc(t))
                .map(|text| DmarcRecord {
                    parsed: parse(&text).map_err(|e| e.to_string()),
                    text,
                })
                .collect()
        })
        .unwrap_or_default();
    DmarcFacts {
        name,
        lookup,
        records,
    }
}

/// Whether a TXT record is meant as DMARC: its first tag is `v=DMARC1` in any case or spacing.
/// Receivers discard other records (RFC 7489 §6.6.3); we keep near-misses to report them.
pub fn claims_dmarc(text: &str) -> bool {
    let first = text.split(';').next().unwrap_or_default();
    let compact: String = first.chars().filter(|c| !c.is_whitespace()).collect();
    compact.eq_ignore_ascii_case("v=dmarc1")
}

/// Why a DMARC record cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("the first tag must be exactly v=DMARC1, found {0:?}")]
    Version(String),
    #[error("{0:?} is not a tag=value pair")]
    NotATag(String),
    #[error("tag {0:?} appears more than once")]
    Duplicate(String),
    #[error("the required p= tag is missing")]
    MissingPolicy,
    #[error("p={0:?} is not none, quarantine or reject")]
    BadPolicy(String),
}

/// Parses a DMARC record into its tags (RFC 7489 §6.3, §6.4).
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
    let policy = tags
        .iter()
        .find(|t| t.name == "p")
        .ok_or(ParseError::MissingPolicy)?;
    if Policy::parse(&policy.value).is_none() {
        return Err(ParseError::BadPolicy(policy.value.clone()));
    }
    Ok(tags)
}

/// The `p=` values (RFC 7489 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl DmarcRecord {
    /// The value of a tag, when the record parsed.
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.parsed
            .as_ref()
            .ok()?
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }

    pub fn policy(&self) -> Option<Policy> {
        self.tag("p").and_then(Policy::parse)
    }
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
    }

    #[test]
    fn rejects_what_receivers_cannot_apply() {
        assert_eq!(
            parse("p=reject; v=DMARC1"),
            Err(ParseError::Version("p=reject".into()))
        );
        assert_eq!(
            parse("v=dmarc1; p=reject"),
            Err(ParseError::Version("v=dmarc1".into()))
        );
        assert_eq!(
            parse("v=DMARC1; rua=mailto:a@b.c"),
            Err(ParseError::MissingPolicy)
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
    }

    #[test]
    fn recognises_near_miss_versions_as_claims() {
        assert!(claims_dmarc("v=DMARC1; p=none"));
        assert!(claims_dmarc("v = dmarc1;p=none"));
        assert!(!claims_dmarc("v=spf1 -all"));
        assert!(!claims_dmarc("v=DMARC2; p=none"));
    }
}
