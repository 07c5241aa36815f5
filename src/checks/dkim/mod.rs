//! DKIM (RFC 6376): the public keys at `<selector>._domainkey.<domain>`.
//!
//! Selectors cannot be listed from DNS, so mailcheck asks a built-in list of selectors the big
//! providers use ([`SELECTORS`]), plus those given with `--dkim-selector`, all concurrently.
//! `_domainkey.<domain>` is asked too: NXDOMAIN there suggests no selector exists (RFC 8020),
//! but some servers wrongly answer NXDOMAIN for empty non-terminals, so it is a hint only and
//! no probe is skipped because of it. When a selector has no TXT record, its CNAME is asked, so
//! a delegation to a provider whose target is gone shows (that CNAME follow-up is the one thing
//! left out when `_domainkey` is NXDOMAIN: a dangling CNAME below it would make it exist).

pub mod parse;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

pub use parse::KeyRecord;

use crate::dns::{Dns, Lookup, Txt};
use crate::domain::Domain;

/// Selectors tried on every domain, with the provider known to use each (kept as data).
pub const SELECTORS: &[(&str, &str)] = &[
    ("google", "Google Workspace"),
    ("selector1", "Microsoft 365"),
    ("selector2", "Microsoft 365"),
    ("k1", "Mailchimp / Mailgun"),
    ("k2", "Mailchimp"),
    ("k3", "Mailchimp"),
    ("mte1", "Mailchimp Transactional"),
    ("mandrill", "Mandrill"),
    ("s1", "SendGrid"),
    ("s2", "SendGrid"),
    ("smtpapi", "SendGrid (legacy)"),
    ("amazonses", "Amazon SES (legacy)"),
    ("fm1", "Fastmail"),
    ("fm2", "Fastmail"),
    ("fm3", "Fastmail"),
    ("zoho", "Zoho"),
    ("zmail", "Zoho"),
    ("protonmail", "Proton"),
    ("protonmail2", "Proton"),
    ("protonmail3", "Proton"),
    ("mx", "Mailgun"),
    ("smtp", "Mailgun"),
    ("pic", "Mailgun"),
    ("pm", "Postmark"),
    ("mailjet", "Mailjet"),
    ("hs1", "HubSpot"),
    ("hs2", "HubSpot"),
    ("default", "common default"),
    ("dkim", "common default"),
    ("mail", "common default"),
    ("key1", "common default"),
];

/// Which selectors to try, for the whole run (DKIM's, and BIMI's one).
#[derive(Clone, Debug)]
pub struct DkimSettings {
    /// `--dkim-selector`, in the order given.
    pub selectors: Vec<String>,
    /// `--bimi-selector`: `default` unless given.
    pub bimi_selector: String,
}

impl Default for DkimSettings {
    fn default() -> Self {
        Self {
            selectors: Vec::new(),
            bimi_selector: "default".into(),
        }
    }
}

/// What was found at the DKIM names of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DkimFacts {
    /// `_domainkey.<domain>` (TXT): NXDOMAIN suggests no selector exists below it.
    pub domainkey: Lookup<Vec<Txt>>,
    /// Every selector tried, built-in ones first, then the user's.
    pub selectors: Vec<SelectorFacts>,
}

/// Where a selector came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SelectorSource {
    /// The built-in list, with the provider known to use it.
    Builtin { provider: String },
    /// `--dkim-selector`.
    User,
}

/// One selector: its TXT lookup, the CNAME behind an empty answer, and the keys parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SelectorFacts {
    pub selector: String,
    /// `<selector>._domainkey.<domain>`.
    pub name: String,
    pub source: SelectorSource,
    pub lookup: Lookup<Vec<Txt>>,
    /// The CNAME at the name itself, asked when the TXT answer did not come through one:
    /// behind an empty answer it shows a dangling delegation, beside records a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<Lookup<Vec<String>>>,
    /// Every TXT record at the name, each read as a key record.
    pub keys: Vec<KeyFacts>,
}

/// One TXT record at a selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyFacts {
    pub text: String,
    pub parsed: Result<KeyRecord, String>,
}

impl DkimFacts {
    /// Selectors with at least one TXT record.
    pub fn found(&self) -> impl Iterator<Item = &SelectorFacts> {
        self.selectors.iter().filter(|s| !s.keys.is_empty())
    }
}

impl SelectorFacts {
    /// The CNAME target at the name when the TXT lookup found nothing, and whether that
    /// target exists (NODATA) or not (NXDOMAIN: the CNAME dangles).
    pub fn empty_delegation(&self) -> Option<(&str, bool)> {
        match (&self.lookup, &self.cname) {
            (Lookup::NxDomain, Some(Lookup::Found { records, .. })) => {
                records.first().map(|t| (t.as_str(), false))
            }
            (Lookup::NoData, Some(Lookup::Found { records, .. })) => {
                records.first().map(|t| (t.as_str(), true))
            }
            _ => None,
        }
    }

    /// The CNAMEs followed to reach the key, when it was found through a delegation.
    pub fn delegation(&self) -> Option<&str> {
        match &self.lookup {
            Lookup::Found { cnames, .. } => cnames.last().map(|c| c.target.as_str()),
            _ => None,
        }
    }
}

/// Asks `_domainkey` and every selector concurrently.
pub async fn gather(dns: &Dns, settings: &DkimSettings, domain: &Domain) -> DkimFacts {
    let mut wanted: Vec<(String, SelectorSource)> = SELECTORS
        .iter()
        .map(|(s, p)| {
            (
                (*s).to_owned(),
                SelectorSource::Builtin {
                    provider: (*p).to_owned(),
                },
            )
        })
        .collect();
    for s in &settings.selectors {
        let s = s.to_ascii_lowercase();
        match wanted.iter_mut().find(|(w, _)| *w == s) {
            Some(entry) => entry.1 = SelectorSource::User,
            None => wanted.push((s, SelectorSource::User)),
        }
    }
    let base = domain.child("_domainkey");
    let (domainkey, selectors) = tokio::join!(
        dns.txt(&base),
        join_all(wanted.into_iter().map(|(selector, source)| {
            let name = format!("{selector}.{base}");
            async move {
                let lookup = dns.txt(&name).await;
                SelectorFacts {
                    keys: keys(&lookup),
                    selector,
                    name,
                    source,
                    lookup,
                    cname: None,
                }
            }
        }))
    );
    // The CNAME follow-up (empty answers, and direct ones for DNS002), unless `_domainkey`
    // says nothing is below it.
    let selectors = if matches!(domainkey, Lookup::NxDomain) {
        selectors
    } else {
        join_all(selectors.into_iter().map(|mut s| async move {
            let (lookup, cname) = dns.with_cname(&s.name, s.lookup).await;
            s.lookup = lookup;
            s.cname = cname;
            s
        }))
        .await
    };
    DkimFacts {
        domainkey,
        selectors,
    }
}

fn keys(lookup: &Lookup<Vec<Txt>>) -> Vec<KeyFacts> {
    lookup
        .records()
        .map(|txts| {
            txts.iter()
                .map(|t| {
                    let text = t.text();
                    KeyFacts {
                        parsed: parse::parse(&text).map_err(|e| e.to_string()),
                        text,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}
