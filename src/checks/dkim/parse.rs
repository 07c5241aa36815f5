//! DKIM key records (RFC 6376 §3.6.1, RFC 8301, RFC 8463): strict tag parsing and the key
//! itself, decoded to tell its type and size (mail-auth exposes neither).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer as _;

/// A DKIM key record, read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyRecord {
    /// `v=`, when published (it is optional, but must then be first and `DKIM1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `k=`, lower-cased; `rsa` when absent (RFC 6376 §3.6.1).
    pub key_type: String,
    /// `p=` was empty: the key is revoked.
    pub revoked: bool,
    /// The key size in bits (RSA modulus; 256 for ed25519), when the key decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    /// Why `p=` could not be read as a key of its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_error: Option<String>,
    /// `h=`: the hash algorithms allowed, lower-cased; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Vec<String>>,
    /// `s=`: the service types, lower-cased; absent means `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    /// `t=` flags, lower-cased (`y` testing, `s` no subdomains).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Tags this parser does not know (ignored by verifiers, RFC 6376 §3.6.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_tags: Vec<String>,
}

/// Why a TXT record at a selector is not a usable DKIM key record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("{0:?} is not a tag=value pair")]
    NotATag(String),
    #[error("tag {0:?} appears more than once")]
    Duplicate(String),
    #[error("v= must be the first tag and exactly DKIM1, found {0:?}")]
    Version(String),
    #[error("the required p= tag (the public key) is missing")]
    NoKey,
}

/// Parses a key record's text (its TXT strings joined).
pub fn parse(text: &str) -> Result<KeyRecord, ParseError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for part in text.split(';') {
        if part.trim().is_empty() {
            continue;
        }
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| ParseError::NotATag(part.trim().to_owned()))?;
        let name = name.trim();
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ParseError::NotATag(part.trim().to_owned()));
        }
        // Tag names are case-sensitive (RFC 6376 §3.2); compare them as published.
        if tags.iter().any(|(n, _)| n == name) {
            return Err(ParseError::Duplicate(name.to_owned()));
        }
        tags.push((name.to_owned(), value.trim().to_owned()));
    }
    let get = |n: &str| tags.iter().find(|(t, _)| t == n).map(|(_, v)| v.as_str());
    let version = get("v").map(str::to_owned);
    if let Some(v) = &version
        && (v != "DKIM1" || tags.first().is_none_or(|(n, _)| n != "v"))
    {
        return Err(ParseError::Version(v.clone()));
    }
    let key = get("p").ok_or(ParseError::NoKey)?;
    let key_type = get("k").unwrap_or("rsa").to_ascii_lowercase();
    let list = |v: &str| -> Vec<String> {
        v.split(':')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let compact: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    let revoked = compact.is_empty();
    let (bits, key_error) = if revoked {
        (None, None)
    } else {
        match key_bits(&key_type, &compact) {
            Ok(bits) => (bits, None),
            Err(e) => (None, Some(e)),
        }
    };
    Ok(KeyRecord {
        version,
        key_type,
        revoked,
        bits,
        key_error,
        hashes: get("h").map(list),
        services: get("s").map(list),
        flags: get("t").map(list).unwrap_or_default(),
        unknown_tags: tags
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| !matches!(n.as_str(), "v" | "p" | "k" | "h" | "s" | "t" | "n" | "g"))
            .collect(),
    })
}

/// The key size: `Ok(None)` for a key type this parser does not know.
fn key_bits(key_type: &str, base64: &str) -> Result<Option<u32>, String> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|e| format!("p= is not valid base64: {e}"))?;
    match key_type {
        "rsa" => rsa_bits(&der).map(Some),
        "ed25519" if der.len() == 32 => Ok(Some(256)),
        "ed25519" => Err(format!(
            "an ed25519 p= is the raw 32-byte key (RFC 8463 §4.2), this one is {} bytes",
            der.len()
        )),
        _ => Ok(None),
    }
}

/// The modulus size of an RSA key given as `SubjectPublicKeyInfo` (RFC 6376 §3.6.1) or, as
/// some signers publish it, as a bare PKCS #1 `RSAPublicKey`.
fn rsa_bits(der: &[u8]) -> Result<u32, String> {
    use x509_parser::public_key::{PublicKey, RSAPublicKey};
    use x509_parser::x509::SubjectPublicKeyInfo;
    let size = |k: &RSAPublicKey<'_>| u32::try_from(k.key_size()).unwrap_or(u32::MAX);
    if let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(der) {
        return match spki.parsed() {
            Ok(PublicKey::RSA(k)) => Ok(size(&k)),
            Ok(_) => Err("p= holds a public key that is not RSA".into()),
            Err(e) => Err(format!("p= holds an unreadable public key: {e}")),
        };
    }
    match RSAPublicKey::from_der(der) {
        Ok((_, k)) => Ok(size(&k)),
        Err(_) => Err("p= is neither a SubjectPublicKeyInfo nor an RSA public key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_strict() {
        assert_eq!(parse("v=DKIM1; k=rsa"), Err(ParseError::NoKey));
        assert_eq!(
            parse("k=rsa; v=DKIM1; p="),
            Err(ParseError::Version("DKIM1".into()))
        );
        assert_eq!(
            parse("v=DKIM2; p="),
            Err(ParseError::Version("DKIM2".into()))
        );
        assert_eq!(
            parse("v=DKIM1; p=; p="),
            Err(ParseError::Duplicate("p".into()))
        );
        assert_eq!(
            parse("v=DKIM1; garbage; p="),
            Err(ParseError::NotATag("garbage".into()))
        );
    }

    #[test]
    fn revoked_and_flags() {
        let r = parse("v=DKIM1; k=RSA; t=y:s; h=sha1; s=email; x=1; p=").unwrap();
        assert!(r.revoked);
        assert_eq!(r.key_type, "rsa");
        assert_eq!(r.flags, ["y", "s"]);
        assert_eq!(r.hashes.as_deref(), Some(&["sha1".to_owned()][..]));
        assert_eq!(r.services.as_deref(), Some(&["email".to_owned()][..]));
        assert_eq!(r.unknown_tags, ["x"]);
        assert_eq!(r.bits, None);
    }

    #[test]
    fn keys_that_do_not_decode() {
        let r = parse("p=!!!").unwrap();
        assert!(r.key_error.unwrap().contains("base64"));
        let r = parse("p=AAAA").unwrap();
        assert!(r.key_error.is_some());
        let r = parse("k=ed25519; p=AAAA").unwrap();
        assert!(r.key_error.unwrap().contains("32-byte"));
        // An ed25519 key is 32 raw bytes.
        let r = parse("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").unwrap();
        assert_eq!(r.bits, Some(256));
        let r = parse("k=future; p=AAAA").unwrap();
        assert_eq!((r.bits, r.key_error), (None, None));
    }
}
