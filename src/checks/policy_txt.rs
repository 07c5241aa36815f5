//! The TXT records that announce a transport policy: MTA-STS at `_mta-sts.<domain>`
//! (RFC 8461 §3.1) and TLS-RPT at `_smtp._tls.<domain>` (RFC 8460 §3). Both are `v=…;` tag
//! lists where only records starting with the version tag count; both are gathered the same
//! way, with the CNAME behind an empty answer.

use serde::{Deserialize, Serialize};

use crate::dns::{Dns, Lookup, Txt};

/// MTA-STS facts (RFC 8461): the TXT record and the policy file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MtaStsFacts {
    /// `_mta-sts.<domain>`.
    pub record: PolicyTxtFacts,
    /// The policy fetch; absent with `--no-https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<super::mta_sts::PolicyFetch>,
}

/// What was found at one policy name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyTxtFacts {
    pub name: String,
    pub lookup: Lookup<Vec<Txt>>,
    /// The records that start with the version tag, each parsed.
    pub records: Vec<PolicyRecord>,
    /// The CNAME at the name itself, asked whenever the TXT answer did not come through one:
    /// behind an empty answer it shows a dangling delegation, beside records it is a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Lookup<Vec<String>>>,
}

/// The CNAME target at a name that also answered records of its own (RFC 1034 §3.6.2: a
/// CNAME leaves no room for other data), given the record lookup and the CNAME lookup.
pub fn cname_conflict<'a, T>(
    lookup: &'a Lookup<T>,
    cname: Option<&'a Lookup<Vec<String>>>,
) -> Option<&'a str> {
    if let Lookup::Found { cnames, .. } = lookup
        && let Some(c) = cnames.iter().find(|c| c.beside_data)
    {
        return Some(c.target.as_str());
    }
    match (lookup, cname) {
        (Lookup::Found { cnames, .. }, Some(Lookup::Found { records, .. }))
            if cnames.is_empty() =>
        {
            records.first().map(String::as_str)
        }
        _ => None,
    }
}

/// One record that claims the version, and its tags or why it cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyRecord {
    pub text: String,
    pub parsed: Result<Vec<Tag>, String>,
}

impl PolicyRecord {
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.parsed
            .as_ref()
            .ok()?
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl PolicyTxtFacts {
    /// The one valid record, when there is exactly one record and it parsed.
    pub fn single(&self) -> Option<&PolicyRecord> {
        match self.records.as_slice() {
            [one] if one.parsed.is_ok() => Some(one),
            _ => None,
        }
    }

    /// A CNAME at the name beside TXT records of its own.
    pub fn cname_conflict(&self) -> Option<&str> {
        cname_conflict(&self.lookup, self.cname.as_ref())
    }

    /// A CNAME at the name whose target does not exist.
    /// The lookup that failed at the name: the TXT lookup, or the CNAME follow-up of an
    /// empty answer.
    pub fn failure(&self) -> Option<&crate::dns::DnsFailure> {
        self.lookup
            .failure()
            .or_else(|| self.cname.as_ref().and_then(Lookup::failure))
    }

    pub fn dangling(&self) -> Option<&str> {
        match (&self.lookup, &self.cname) {
            (Lookup::NxDomain, Some(Lookup::Found { records, .. })) => {
                records.first().map(String::as_str)
            }
            _ => None,
        }
    }
}

/// A tag name and its value, trimmed.
pub type Tag = (String, String);

/// Whether a record starts with `v=<version>` (exact case, as both RFCs require), followed by
/// `;` or the end.
pub fn claims(text: &str, version: &str) -> bool {
    let first = text.split(';').next().unwrap_or_default().trim();
    first
        .split_once('=')
        .is_some_and(|(n, v)| n.trim() == "v" && v.trim() == version)
}

/// A strict `tag=value; …` list (RFC 8461 §3.1, RFC 8460 §3): every part a tag, each tag once,
/// names of letters, digits, `_`, `-` and `.`.
pub fn parse_tags(text: &str) -> Result<Vec<Tag>, String> {
    let mut tags: Vec<Tag> = Vec::new();
    for part in text.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("{part:?} is not a tag=value pair"));
        };
        let name = name.trim();
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return Err(format!("{part:?} is not a tag=value pair"));
        }
        if tags.iter().any(|(n, _)| n == name) {
            return Err(format!("tag {name:?} appears more than once"));
        }
        tags.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(tags)
}

/// Asks `name`'s TXT records, keeps those claiming `version`, and reads each with `check`
/// (which adds the protocol's own requirements to the tag syntax).
pub async fn gather(
    dns: &Dns,
    name: String,
    version: &str,
    check: fn(&[Tag]) -> Result<(), String>,
) -> PolicyTxtFacts {
    let (lookup, cname) = dns.with_cname(&name, dns.txt(&name).await).await;
    let records = lookup
        .records()
        .map(|txts| {
            txts.iter()
                .map(Txt::text)
                .filter(|t| claims(t, version))
                .map(|text| PolicyRecord {
                    parsed: parse_tags(&text).and_then(|tags| check(&tags).map(|()| tags)),
                    text,
                })
                .collect()
        })
        .unwrap_or_default();
    PolicyTxtFacts {
        name,
        lookup,
        records,
        cname,
    }
}

/// The MTA-STS TXT record of a domain and, unless fetches are off, its policy file (both at
/// once: the policy is fetched whether or not the record exists).
pub async fn gather_sts(
    dns: &Dns,
    https: &super::https::HttpsSettings,
    domain: &crate::domain::Domain,
) -> MtaStsFacts {
    let (record, policy) = tokio::join!(
        gather(dns, domain.child("_mta-sts"), "STSv1", check_sts),
        super::mta_sts::gather(dns, https, domain)
    );
    MtaStsFacts { record, policy }
}

/// The TLS-RPT record of a domain.
pub async fn gather_rpt(dns: &Dns, domain: &crate::domain::Domain) -> PolicyTxtFacts {
    gather(dns, domain.child("_smtp._tls"), "TLSRPTv1", check_rpt).await
}

/// BIMI facts: the assertion record at `<selector>._bimi.<domain>` and the logo it names.
/// The evidence document (`a=`) is not fetched: its presence is read from the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BimiFacts {
    pub selector: String,
    pub record: PolicyTxtFacts,
    /// The `l=` logo, fetched when the one valid record names one (absent with `--no-https`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<super::bimi_logo::LogoFetch>,
    /// The `a=` evidence document, fetched when the one valid record names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::bimi_logo::EvidenceFetch>,
}

/// The BIMI assertion record of a domain, at `selector` (`default` unless `--bimi-selector`),
/// and its logo.
pub async fn gather_bimi(
    dns: &Dns,
    https: &super::https::HttpsSettings,
    domain: &crate::domain::Domain,
    selector: &str,
) -> BimiFacts {
    let record = gather(
        dns,
        domain.child(&format!("{selector}._bimi")),
        "BIMI1",
        check_bimi,
    )
    .await;
    let tag = |name: &str| {
        record
            .single()
            .and_then(|r| r.tag(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (logo_url, evidence_url) = (tag("l"), tag("a"));
    let (logo, evidence) = tokio::join!(
        async {
            match &logo_url {
                Some(url) => super::bimi_logo::gather(dns, https, url).await,
                None => None,
            }
        },
        async {
            match &evidence_url {
                Some(url) => super::bimi_logo::gather_evidence(dns, https, url).await,
                None => None,
            }
        }
    );
    BimiFacts {
        selector: selector.to_owned(),
        record,
        logo,
        evidence,
    }
}

/// BIMI (draft-brand-indicators-for-message-identification §4.2): `l=` and `a=`, each empty or
/// one `https://` URI.
pub fn check_bimi(tags: &[Tag]) -> Result<(), String> {
    for name in ["l", "a"] {
        if let Some((_, v)) = tags.iter().find(|(n, _)| n == name) {
            let lower = v.to_ascii_lowercase();
            let https = lower
                .strip_prefix("https://")
                .is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(','));
            if !v.is_empty() && !https {
                return Err(format!("{name}={v:?} is not one https:// URI"));
            }
        }
    }
    if !tags.iter().any(|(n, _)| n == "l") {
        return Err("the l= tag (the logo's URI, or empty to decline) is missing".into());
    }
    Ok(())
}

/// MTA-STS (RFC 8461 §3.1): `id` of 1 to 32 letters and digits.
pub fn check_sts(tags: &[Tag]) -> Result<(), String> {
    match tags.iter().find(|(n, _)| n == "id") {
        None => Err("the required id= tag is missing".into()),
        Some((_, id))
            if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Err(format!("id={id:?} is not 1 to 32 letters and digits"))
        }
        Some(_) => Ok(()),
    }
}

/// TLS-RPT (RFC 8460 §3): `rua` of comma-separated `mailto:` or `https:` URIs.
pub fn check_rpt(tags: &[Tag]) -> Result<(), String> {
    let Some((_, rua)) = tags.iter().find(|(n, _)| n == "rua") else {
        return Err("the required rua= tag is missing".into());
    };
    for uri in rua.split(',').map(str::trim) {
        let lower = uri.to_ascii_lowercase();
        let ok = if let Some(addr) = lower.strip_prefix("mailto:") {
            addr.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'))
        } else if let Some(rest) = lower.strip_prefix("https://") {
            !rest.is_empty() && !rest.starts_with('/')
        } else {
            false
        };
        if !ok {
            return Err(format!(
                "rua URI {uri:?} is neither mailto:local@domain nor https://host/…"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_exact() {
        assert!(claims("v=STSv1; id=1", "STSv1"));
        assert!(claims("v=STSv1", "STSv1"));
        assert!(!claims("v=stsv1; id=1", "STSv1"));
        assert!(!claims("id=1; v=STSv1", "STSv1"));
    }

    #[test]
    fn sts_ids() {
        let t = |s: &str| parse_tags(s).and_then(|t| check_sts(&t));
        assert!(t("v=STSv1; id=20240101T000000").is_ok());
        assert!(t("v=STSv1;").is_err());
        assert!(t("v=STSv1; id=has-dash").is_err());
        assert!(t("v=STSv1; id=123456789012345678901234567890123").is_err());
        assert!(t("v=STSv1; id=1; id=2").is_err());
    }

    #[test]
    fn bimi_uris() {
        let t = |s: &str| parse_tags(s).and_then(|t| check_bimi(&t));
        assert!(
            t("v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem").is_ok()
        );
        assert!(t("v=BIMI1; l=; a=").is_ok(), "a declination");
        assert!(t("v=BIMI1; l=http://example.com/logo.svg").is_err());
        assert!(t("v=BIMI1; a=https://example.com/vmc.pem").is_err());
    }

    #[test]
    fn rpt_uris() {
        let t = |s: &str| parse_tags(s).and_then(|t| check_rpt(&t));
        assert!(t("v=TLSRPTv1; rua=mailto:tls@example.com").is_ok());
        assert!(t("v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.com/tls").is_ok());
        assert!(t("v=TLSRPTv1").is_err());
        assert!(t("v=TLSRPTv1; rua=tls@example.com").is_err());
        assert!(t("v=TLSRPTv1; rua=http://example.com/").is_err());
    }
}
