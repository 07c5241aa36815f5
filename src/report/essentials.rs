//! The few facts people compare across domains and across runs, each as one string: the CSV
//! columns and the records `mailcheck diff` compares. "Absent" and "could not tell" stay apart:
//! a failed lookup reads `unknown`, never `none`.

use crate::checks::policy_txt::PolicyTxtFacts;
use crate::checks::spf;
use crate::dns::{Lookup, Txt};
use crate::report::DomainReport;

/// A lookup that failed: the answer is not known.
pub const UNKNOWN: &str = "unknown";
/// The name has no such record.
pub const NONE: &str = "none";

/// One domain's essentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Essentials {
    /// The MX set, `preference exchange` sorted, space-separated pairs joined by `, `.
    pub mx: String,
    /// The MX host names in preference order, space-separated.
    pub mx_hosts: String,
    /// The SPF record text (several joined by ` | `).
    pub spf: String,
    /// The SPF record's `all` term (`-all`, `~all`, `?all`, `+all`), `redirect`, or `no-all`.
    pub spf_all: String,
    /// The DMARC record text at `_dmarc.<domain>`.
    pub dmarc: String,
    /// Its `p=`; the applicable record's, found by the tree walk, when the domain has none.
    pub dmarc_policy: String,
    /// The DKIM selectors with a key record, space-separated.
    pub dkim: String,
    /// The `_mta-sts` record text.
    pub mta_sts: String,
    /// The `_smtp._tls` record text.
    pub tls_rpt: String,
    /// Probes that completed a TLS handshake, of those that were made (skipped ones aside).
    pub starttls_ok: usize,
    pub starttls_total: usize,
    /// Per probe, `host ip version verdict` (or what stopped it), sorted.
    pub tls: String,
}

impl Essentials {
    pub fn of(r: &DomainReport) -> Self {
        let f = &r.facts;
        let mx = match &f.mx.lookup {
            Lookup::Found { records, .. } => {
                let mut pairs: Vec<(u16, String)> = records
                    .iter()
                    .map(|m| (m.preference, m.exchange.to_ascii_lowercase()))
                    .collect();
                pairs.sort();
                pairs.dedup();
                pairs
                    .iter()
                    .map(|(p, e)| format!("{p} {e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            other => absent(other),
        };
        let mx_hosts = match &f.mx.lookup {
            Lookup::Found { .. } => {
                f.mx.hosts
                    .iter()
                    .map(|h| h.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            other => absent(other),
        };
        let spf_texts: Vec<String> = f
            .txt
            .records()
            .map(|t| spf::records(t).into_iter().map(Txt::text).collect())
            .unwrap_or_default();
        let spf = texts(&f.txt, &spf_texts);
        let spf_all = match spf_texts.as_slice() {
            [one] => all_term(one),
            [] => spf.clone(),
            _ => "multiple".into(),
        };
        let dmarc_texts: Vec<String> = f.dmarc.records.iter().map(|d| d.text.clone()).collect();
        let dmarc = texts(&f.dmarc.lookup, &dmarc_texts);
        let dmarc_policy = dmarc_policy(r, &dmarc);
        let found: Vec<&str> = f.dkim.found().map(|s| s.selector.as_str()).collect();
        let dkim = if !found.is_empty() {
            found.join(" ")
        } else if f
            .dkim
            .selectors
            .iter()
            .any(|s| s.lookup.failure().is_some())
        {
            UNKNOWN.into()
        } else {
            NONE.into()
        };
        let (starttls_ok, starttls_total, tls) = tls(r);
        Self {
            mx,
            mx_hosts,
            spf,
            spf_all,
            dmarc,
            dmarc_policy,
            dkim,
            mta_sts: policy_text(&f.mta_sts.record),
            tls_rpt: policy_text(&f.tls_rpt),
            starttls_ok,
            starttls_total,
            tls,
        }
    }
}

/// Probes that got TLS, probes made, and per probe `host ip version verdict` (or what stopped
/// it), sorted.
fn tls(r: &DomainReport) -> (usize, usize, String) {
    let f = &r.facts;
    let probes: Vec<_> = f
        .smtp
        .probes
        .iter()
        .filter(|p| p.skipped.is_none())
        .collect();
    let mut tls: Vec<String> = probes
        .iter()
        .map(|p| {
            let state = match (&p.tls, &p.error) {
                (Some(t), _) => format!(
                    "{} {}",
                    t.version.as_deref().unwrap_or("no-version"),
                    t.verdict.as_ref().map_or_else(
                        || "no-certificate".into(),
                        |v| serde_json::to_value(v)
                            .ok()
                            .and_then(|v| v["result"].as_str().map(str::to_owned))
                            .unwrap_or_default()
                    )
                ),
                (None, Some(e)) => {
                    format!("{}-{}", serde_plain(&e.stage), serde_plain(&e.kind))
                }
                (None, None) => "no-starttls".into(),
            };
            format!("{} {} {state}", p.host, p.ip)
        })
        .collect();
    tls.sort();
    let ok = probes.iter().filter(|p| p.tls.is_some()).count();
    let text = if f.smtp.enabled {
        tls.join(", ")
    } else {
        "not-run".into()
    };
    (ok, probes.len(), text)
}

/// A unit enum variant as serde spells it (`kebab-case`).
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn absent<T>(lookup: &Lookup<T>) -> String {
    if lookup.failure().is_some() {
        UNKNOWN.into()
    } else {
        NONE.into()
    }
}

/// The records' texts, or why there are none.
fn texts(lookup: &Lookup<Vec<Txt>>, texts: &[String]) -> String {
    if lookup.failure().is_some() {
        UNKNOWN.into()
    } else if texts.is_empty() {
        NONE.into()
    } else {
        texts.join(" | ")
    }
}

fn policy_text(p: &PolicyTxtFacts) -> String {
    let t: Vec<String> = p.records.iter().map(|r| r.text.clone()).collect();
    texts(&p.lookup, &t)
}

/// The `all` term of an SPF record, with its qualifier spelt out.
fn all_term(record: &str) -> String {
    let terms: Vec<String> = record
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    for t in &terms {
        let (q, rest) = match t.as_bytes().first() {
            Some(b'+' | b'-' | b'~' | b'?') => t.split_at(1),
            _ => ("+", t.as_str()),
        };
        if rest == "all" {
            return format!("{q}all");
        }
    }
    if terms.iter().any(|t| t.starts_with("redirect=")) {
        "redirect".into()
    } else {
        "no-all".into()
    }
}

fn dmarc_policy(r: &DomainReport, own: &str) -> String {
    let d = &r.facts.dmarc;
    if let [one] = d.records.as_slice() {
        return one.tag("p").unwrap_or("no-p").to_owned();
    }
    if d.records.len() > 1 {
        return "multiple".into();
    }
    // None here: the applicable record may be an ancestor's (RFC 9989 tree walk).
    let inherited = d.discovery.policy_domain.as_deref().and_then(|pd| {
        let step = d.walk.iter().find(|s| s.domain == pd)?;
        let p = step.records.first()?.tag("p")?;
        Some(format!("{p} (from {pd})"))
    });
    inherited.unwrap_or_else(|| own.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_all_term_keeps_its_qualifier() {
        assert_eq!(all_term("v=spf1 mx -all"), "-all");
        assert_eq!(all_term("v=spf1 mx ~ALL"), "~all");
        assert_eq!(all_term("v=spf1 all"), "+all");
        assert_eq!(all_term("v=spf1 redirect=_spf.x.test"), "redirect");
        assert_eq!(all_term("v=spf1 mx"), "no-all");
    }
}
