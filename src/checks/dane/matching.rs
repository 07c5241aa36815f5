//! Which TLSA records count for SMTP, and whether a presented chain matches them. Pure: the
//! rules call it over the facts (TLSA records and the probe's chain digests).
//!
//! SMTP senders use only DANE-TA(2) and DANE-EE(3) (RFC 7672 §3.1.3). DANE-EE matches the
//! leaf alone, ignoring names and dates (RFC 7672 §3.1.1); DANE-TA matches a trust anchor in
//! the chain, and then the leaf must be valid for a reference name and in date (RFC 7672
//! §3.1.2, §3.2; RFC 7671 §5.2). Full-data records (matching type 0) are compared through
//! their SHA-256, so the facts need not keep whole certificates.

use std::fmt;

use crate::checks::smtp::{CertFacts, hex_digest};
use crate::dns::Tlsa;

/// The two certificate usages SMTP senders apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    DaneTa,
    DaneEe,
}

impl Usage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DaneTa => "DANE-TA(2)",
            Self::DaneEe => "DANE-EE(3)",
        }
    }
}

/// Why a TLSA record is no use to an SMTP sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// PKIX-TA(0) or PKIX-EE(1): SMTP senders have no CA list to check them against
    /// (RFC 7672 §3.1.3).
    Pkix(u8),
    UnknownUsage(u8),
    UnknownSelector(u8),
    UnknownMatching(u8),
    /// The association data is not hex, or not the length its matching type gives.
    BadData(String),
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pkix(0) => f.write_str("usage PKIX-TA(0) is not used for SMTP"),
            Self::Pkix(_) => f.write_str("usage PKIX-EE(1) is not used for SMTP"),
            Self::UnknownUsage(u) => write!(f, "usage {u} is not defined"),
            Self::UnknownSelector(s) => write!(f, "selector {s} is not defined"),
            Self::UnknownMatching(m) => write!(f, "matching type {m} is not defined"),
            Self::BadData(why) => f.write_str(why),
        }
    }
}

/// Whether an SMTP sender can use `t`, and as which usage.
pub fn usability(t: &Tlsa) -> Result<Usage, Unusable> {
    let usage = match t.usage {
        0 | 1 => return Err(Unusable::Pkix(t.usage)),
        2 => Usage::DaneTa,
        3 => Usage::DaneEe,
        u => return Err(Unusable::UnknownUsage(u)),
    };
    if t.selector > 1 {
        return Err(Unusable::UnknownSelector(t.selector));
    }
    let want = match t.matching {
        0 => None,
        1 => Some(64),
        2 => Some(128),
        m => return Err(Unusable::UnknownMatching(m)),
    };
    let data = &t.data;
    if data.is_empty()
        || !data.len().is_multiple_of(2)
        || !data.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(Unusable::BadData(
            "the association data is not an even number of hex digits".into(),
        ));
    }
    if let Some(n) = want.filter(|n| *n != data.len()) {
        return Err(Unusable::BadData(format!(
            "a {} digest has {} hex digits, not {}",
            if n == 64 { "SHA-256" } else { "SHA-512" },
            n,
            data.len()
        )));
    }
    Ok(usage)
}

/// The records an SMTP sender can use.
pub fn usable(records: &[Tlsa]) -> Vec<&Tlsa> {
    records.iter().filter(|t| usability(t).is_ok()).collect()
}

/// The record as it is written in a zone, with long data cut for messages.
pub fn brief(t: &Tlsa) -> String {
    let data = if t.data.len() > 16 {
        format!("{}…", &t.data[..16])
    } else {
        t.data.clone()
    };
    format!("{} {} {} {data}", t.usage, t.selector, t.matching)
}

/// The DANE-EE record for a leaf: `3 1 1` and the SHA-256 of its public key, the record that
/// survives certificate renewals with the same key (RFC 7671 §5.1).
pub fn dane_ee_record(leaf: &CertFacts) -> String {
    format!("3 1 1 {}", leaf.spki_sha256)
}

/// How a presented chain fares against a host's TLSA records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainMatch {
    /// A usable record matched: its usage, and the chain position it matched (0 the leaf).
    Matched {
        record: Tlsa,
        usage: Usage,
        depth: usize,
    },
    /// Not one record is usable: senders treat the host as having no usable TLSA.
    NoUsableRecords,
    /// No certificate was presented.
    NoChain,
    /// Usable records, none matched. `reasons` says why a record that matched part of the
    /// chain still did not authenticate it (name, dates, chain order); empty when no record
    /// matched anything.
    NoMatch { reasons: Vec<String> },
}

impl ChainMatch {
    pub fn matched(&self) -> bool {
        matches!(self, Self::Matched { .. })
    }
}

/// Matches `chain` (leaf first, as presented) against `tlsa`. `names` are the reference
/// identifiers (the MX host name, RFC 7672 §3.2.2); `now` is in seconds since the epoch.
pub fn match_chain(tlsa: &[Tlsa], chain: &[CertFacts], names: &[&str], now: i64) -> ChainMatch {
    let records = usable(tlsa);
    if records.is_empty() {
        return ChainMatch::NoUsableRecords;
    }
    let Some(leaf) = chain.first() else {
        return ChainMatch::NoChain;
    };
    // DANE-EE first: it needs nothing but the leaf.
    if let Some(t) = records
        .iter()
        .find(|t| t.usage == 3 && matches_cert(t, leaf))
    {
        return ChainMatch::Matched {
            record: (*t).clone(),
            usage: Usage::DaneEe,
            depth: 0,
        };
    }
    let mut reasons = Vec::new();
    for t in records.iter().filter(|t| t.usage == 2) {
        for (depth, cert) in chain.iter().enumerate() {
            if !matches_cert(t, cert) {
                continue;
            }
            // The leaf is its own trust anchor only when self-issued (RFC 7671 §5.2.2).
            if depth == 0 && !leaf.self_issued() {
                reasons.push(format!(
                    "the DANE-TA record {} matches the server's own certificate, which is not                      a trust anchor (as DANE-EE, usage 3, it would match)",
                    brief(t)
                ));
                continue;
            }
            match ta_path_problem(chain, depth, names, now) {
                None => {
                    return ChainMatch::Matched {
                        record: (*t).clone(),
                        usage: Usage::DaneTa,
                        depth,
                    };
                }
                Some(why) => reasons.push(format!(
                    "the DANE-TA record {} matches {}, but {why}",
                    brief(t),
                    cert.subject
                )),
            }
        }
    }
    ChainMatch::NoMatch { reasons }
}

/// What keeps a DANE-TA match at `depth` from authenticating the leaf, if anything.
fn ta_path_problem(chain: &[CertFacts], depth: usize, names: &[&str], now: i64) -> Option<String> {
    for i in 0..depth {
        if chain[i].issuer != chain[i + 1].subject {
            return Some(format!(
                "{} is not issued by {} (the chain is out of order or incomplete)",
                chain[i].subject,
                chain[i + 1].subject
            ));
        }
    }
    let leaf = &chain[0];
    if !valid_for_any(leaf, names) {
        return Some(format!(
            "the certificate is not valid for {}",
            names.join(" or ")
        ));
    }
    // The trust anchor's own dates do not count; those below it do.
    for c in chain.iter().take(depth.max(1)) {
        if c.not_after < now {
            return Some(format!("{} has expired", c.subject));
        }
        if c.not_before > now {
            return Some(format!("{} is not valid yet", c.subject));
        }
    }
    None
}

/// Whether `t` matches one certificate (RFC 6698 §2.1.2–2.1.4).
pub fn matches_cert(t: &Tlsa, cert: &CertFacts) -> bool {
    let (sha256, sha512) = match t.selector {
        0 => (&cert.sha256, &cert.sha512),
        1 => (&cert.spki_sha256, &cert.spki_sha512),
        _ => return false,
    };
    let data = t.data.to_ascii_lowercase();
    match t.matching {
        1 => !sha256.is_empty() && data == *sha256,
        2 => !sha512.is_empty() && data == *sha512,
        // Full data: equal bytes have equal digests, and the facts keep the digest.
        0 => decode_hex(&data).is_some_and(|raw| {
            !sha256.is_empty() && hex_digest(&ring::digest::SHA256, &raw) == *sha256
        }),
        _ => false,
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether the leaf names one of `names` (RFC 7672 §3.2.3): its DNS subjectAltNames, or its
/// common name when it has none; a wildcard stands for one whole leftmost label.
pub fn valid_for_any(leaf: &CertFacts, names: &[&str]) -> bool {
    let dns: Vec<&str> = leaf
        .sans
        .iter()
        .map(String::as_str)
        .filter(|s| s.parse::<std::net::IpAddr>().is_err())
        .collect();
    let presented: Vec<&str> = if dns.is_empty() {
        common_name(&leaf.subject).into_iter().collect()
    } else {
        dns
    };
    names
        .iter()
        .any(|n| presented.iter().any(|p| name_matches(p, n)))
}

fn common_name(subject: &str) -> Option<&str> {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
}

fn name_matches(presented: &str, reference: &str) -> bool {
    let p = presented.trim_end_matches('.').to_ascii_lowercase();
    let r = reference.trim_end_matches('.').to_ascii_lowercase();
    match p.strip_prefix("*.") {
        Some(rest) => r
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => p == r,
    }
}

#[cfg(all(test, feature = "lab"))]
mod tests {
    use super::*;
    use crate::lab::pki::{ServerCert, TestCa, Validity};

    fn facts(cert: &ServerCert) -> Vec<CertFacts> {
        cert.chain
            .iter()
            .map(|c| CertFacts::parse(c).unwrap())
            .collect()
    }

    fn now() -> i64 {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap()
    }

    fn tlsa(usage: u8, selector: u8, matching: u8, data: &str) -> Tlsa {
        Tlsa {
            usage,
            selector,
            matching,
            data: data.into(),
        }
    }

    const HOST: &[&str] = &["mx.example.test"];

    #[test]
    fn usable_parameters_for_smtp() {
        let h = "ab".repeat(32);
        assert_eq!(usability(&tlsa(3, 1, 1, &h)), Ok(Usage::DaneEe));
        assert_eq!(
            usability(&tlsa(2, 0, 2, &"cd".repeat(64))),
            Ok(Usage::DaneTa)
        );
        assert_eq!(usability(&tlsa(2, 1, 0, "3082")), Ok(Usage::DaneTa));
        assert_eq!(usability(&tlsa(0, 1, 1, &h)), Err(Unusable::Pkix(0)));
        assert_eq!(usability(&tlsa(1, 1, 1, &h)), Err(Unusable::Pkix(1)));
        assert_eq!(
            usability(&tlsa(4, 1, 1, &h)),
            Err(Unusable::UnknownUsage(4))
        );
        assert_eq!(
            usability(&tlsa(3, 2, 1, &h)),
            Err(Unusable::UnknownSelector(2))
        );
        assert_eq!(
            usability(&tlsa(3, 1, 3, &h)),
            Err(Unusable::UnknownMatching(3))
        );
        assert!(matches!(
            usability(&tlsa(3, 1, 2, &h)),
            Err(Unusable::BadData(_))
        ));
        assert!(matches!(
            usability(&tlsa(3, 1, 0, "xyz")),
            Err(Unusable::BadData(_))
        ));
    }

    #[test]
    fn dane_ee_matches_the_leaf_ignoring_names_and_dates() {
        let ca = TestCa::root("Lab Root");
        let expired = ca.leaf(
            &["other.test"],
            Validity::Around {
                start: 10 * 86_400,
                end: -86_400,
            },
            true,
        );
        let chain = facts(&expired);
        let leaf = &chain[0];
        for t in [
            tlsa(3, 1, 1, &leaf.spki_sha256),
            tlsa(3, 1, 2, &leaf.spki_sha512),
            tlsa(3, 0, 1, &leaf.sha256),
            tlsa(3, 0, 2, &leaf.sha512),
            tlsa(3, 0, 0, &hex(&expired.chain[0])),
        ] {
            let m = match_chain(std::slice::from_ref(&t), &chain, HOST, now());
            assert!(
                matches!(
                    m,
                    ChainMatch::Matched {
                        usage: Usage::DaneEe,
                        depth: 0,
                        ..
                    }
                ),
                "{t:?}: {m:?}"
            );
        }
        assert_eq!(dane_ee_record(leaf), format!("3 1 1 {}", leaf.spki_sha256));
        // A record of another key does not match.
        let m = match_chain(&[tlsa(3, 1, 1, &"00".repeat(32))], &chain, HOST, now());
        assert_eq!(m, ChainMatch::NoMatch { reasons: vec![] });
    }

    fn hex(der: &[u8]) -> String {
        use std::fmt::Write as _;
        der.iter().fold(String::new(), |mut h, b| {
            let _ = write!(h, "{b:02x}");
            h
        })
    }

    #[test]
    fn dane_ta_matches_an_issuer_then_checks_name_and_dates() {
        let root = TestCa::root("Lab Root");
        let inter = root.intermediate("Lab Intermediate");
        let good = facts(&inter.leaf(&["mx.example.test"], Validity::Long, true));
        assert_eq!(good.len(), 2, "leaf and intermediate");
        let ta = tlsa(2, 1, 1, &good[1].spki_sha256);
        let m = match_chain(std::slice::from_ref(&ta), &good, HOST, now());
        assert!(
            matches!(
                m,
                ChainMatch::Matched {
                    usage: Usage::DaneTa,
                    depth: 1,
                    ..
                }
            ),
            "{m:?}"
        );
        // A wildcard covers one label.
        let wild = facts(&inter.leaf(&["*.example.test"], Validity::Long, true));
        let ta_w = tlsa(2, 0, 1, &wild[1].sha256);
        assert!(match_chain(std::slice::from_ref(&ta_w), &wild, HOST, now()).matched());
        assert!(!match_chain(&[ta_w], &wild, &["a.mx.example.test"], now()).matched());
        // Wrong name: the TA matched, the name did not.
        let wrong = facts(&inter.leaf(&["other.test"], Validity::Long, true));
        let m = match_chain(&[tlsa(2, 1, 1, &wrong[1].spki_sha256)], &wrong, HOST, now());
        let ChainMatch::NoMatch { reasons } = m else {
            panic!("{m:?}")
        };
        assert!(
            reasons[0].contains("not valid for mx.example.test"),
            "{reasons:?}"
        );
        // Expired leaf.
        let old = facts(&inter.leaf(
            &["mx.example.test"],
            Validity::Around {
                start: 10 * 86_400,
                end: -60,
            },
            true,
        ));
        let m = match_chain(&[tlsa(2, 1, 1, &old[1].spki_sha256)], &old, HOST, now());
        assert!(
            matches!(&m, ChainMatch::NoMatch { reasons } if reasons[0].contains("expired")),
            "{m:?}"
        );
    }

    #[test]
    fn dane_ta_does_not_match_a_leaf_that_is_not_self_issued() {
        let root = TestCa::root("Lab Root");
        let chain = facts(&root.leaf(&["mx.example.test"], Validity::Long, true));
        let m = match_chain(&[tlsa(2, 1, 1, &chain[0].spki_sha256)], &chain, HOST, now());
        assert!(
            matches!(&m, ChainMatch::NoMatch { reasons } if reasons[0].contains("DANE-EE")),
            "{m:?}"
        );
        // A self-signed leaf is its own trust anchor, name checked.
        let own = facts(&ServerCert::self_signed(&["mx.example.test"]));
        let t = tlsa(2, 1, 1, &own[0].spki_sha256);
        assert!(matches!(
            match_chain(std::slice::from_ref(&t), &own, HOST, now()),
            ChainMatch::Matched {
                usage: Usage::DaneTa,
                depth: 0,
                ..
            }
        ));
        assert!(!match_chain(&[t], &own, &["mx.other.test"], now()).matched());
    }

    #[test]
    fn unusable_and_empty() {
        let own = facts(&ServerCert::self_signed(&["mx.example.test"]));
        let pkix = tlsa(1, 1, 1, &own[0].spki_sha256);
        assert_eq!(
            match_chain(std::slice::from_ref(&pkix), &own, HOST, now()),
            ChainMatch::NoUsableRecords
        );
        let ee = tlsa(3, 1, 1, &own[0].spki_sha256);
        assert_eq!(match_chain(&[ee], &[], HOST, now()), ChainMatch::NoChain);
    }
}
