//! DMARC policy discovery and organisational-domain determination by the DNS tree walk of
//! RFC 9989 §4.10, and the RFC 7489 public-suffix reading that older receivers still use.

use serde::{Deserialize, Serialize};

use super::{DmarcRecord, Step};

/// Names of 8 labels or more jump to their 7-label suffix; at most 8 queries in all.
const JUMP: usize = 7;

/// The ancestors the walk queries after the domain itself, nearest first, down to the TLD.
pub fn ancestors(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let mut start = 1;
    if labels.len() > JUMP {
        start = labels.len() - JUMP;
    }
    (start..labels.len())
        .map(|i| labels[i..].join("."))
        .collect()
}

/// What the walk found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Discovery {
    /// Where the applicable record is (RFC 9989): the domain itself or the nearest ancestor with
    /// exactly one valid record. Several records at one name are skipped.
    pub policy_domain: Option<String>,
    /// The organisational domain (RFC 9989 §4.10.2).
    pub org_domain: Option<String>,
    /// The organisational domain by the public suffix list, as RFC 7489 receivers find it.
    pub psl_org_domain: Option<String>,
    /// Where RFC 7489 receivers find the policy: the domain, or the PSL organisational domain.
    pub policy_domain_7489: Option<String>,
}

/// The one valid record at a name, if there is exactly one.
fn single(records: &[DmarcRecord]) -> Option<&DmarcRecord> {
    match records {
        [one] if one.is_valid() => Some(one),
        _ => None,
    }
}

pub fn discover(domain: &str, own: &[DmarcRecord], walk: &[Step]) -> Discovery {
    let names: Vec<(&str, &[DmarcRecord])> = std::iter::once((domain, own))
        .chain(
            walk.iter()
                .map(|s| (s.domain.as_str(), s.records.as_slice())),
        )
        .collect();
    let policy_domain = names
        .iter()
        .find(|(_, r)| single(r).is_some())
        .map(|(n, _)| (*n).to_owned());
    let mut org_domain = None;
    let mut fewest = None;
    for (i, (name, records)) in names.iter().enumerate() {
        let Some(record) = single(records) else {
            continue;
        };
        match record.tag("psd").map(str::to_ascii_lowercase).as_deref() {
            Some("n") => {
                org_domain = Some((*name).to_owned());
                break;
            }
            Some("y") => {
                // The name one label below the public suffix domain, on the way to the domain.
                org_domain = Some(names[i.saturating_sub(1)].0.to_owned());
                break;
            }
            _ => fewest = Some((*name).to_owned()),
        }
    }
    let org_domain = org_domain.or(fewest);
    let psl_org_domain = psl::domain_str(domain).map(str::to_owned);
    let policy_domain_7489 = if own.is_empty() {
        psl_org_domain.as_deref().and_then(|org| {
            names
                .iter()
                .find(|(n, _)| *n == org)
                .and_then(|(n, r)| single(r).map(|_| (*n).to_owned()))
        })
    } else {
        single(own).map(|_| domain.to_owned())
    };
    Discovery {
        policy_domain,
        org_domain,
        psl_org_domain,
        policy_domain_7489,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Lookup;

    fn step(domain: &str, texts: &[&str]) -> Step {
        Step {
            domain: domain.into(),
            lookup: Lookup::NoData,
            records: texts
                .iter()
                .map(|t| DmarcRecord::from_text((*t).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn walks_up_to_the_tld_jumping_long_names() {
        assert_eq!(
            ancestors("a.b.example.com"),
            ["b.example.com", "example.com", "com"]
        );
        assert_eq!(ancestors("com"), Vec::<String>::new());
        let long = "1.2.3.4.5.6.7.8.9.example.com";
        let a = ancestors(long);
        assert_eq!(a.first().map(String::as_str), Some("5.6.7.8.9.example.com"));
        assert_eq!(a.len() + 1, 8, "at most 8 queries with the domain's own");
    }

    #[test]
    fn the_policy_is_the_nearest_single_record_and_the_org_the_fewest_labels() {
        let walk = [
            step("b.example.com", &[]),
            step("example.com", &["v=DMARC1; p=reject"]),
            step("com", &[]),
        ];
        let d = discover("a.b.example.com", &[], &walk);
        assert_eq!(d.policy_domain.as_deref(), Some("example.com"));
        assert_eq!(d.org_domain.as_deref(), Some("example.com"));
        assert_eq!(d.psl_org_domain.as_deref(), Some("example.com"));
        assert_eq!(d.policy_domain_7489.as_deref(), Some("example.com"));
    }

    #[test]
    fn psd_tags_stop_the_walk() {
        let walk = [
            step("b.example.com", &["v=DMARC1; p=none; psd=n"]),
            step("example.com", &["v=DMARC1; p=reject"]),
        ];
        let d = discover("a.b.example.com", &[], &walk);
        assert_eq!(d.org_domain.as_deref(), Some("b.example.com"));
        let walk = [
            step("example.test", &["v=DMARC1; p=reject"]),
            step("test", &["v=DMARC1; p=reject; psd=y"]),
        ];
        let d = discover("a.example.test", &[], &walk);
        assert_eq!(d.org_domain.as_deref(), Some("example.test"));
    }

    #[test]
    fn several_records_at_a_name_are_skipped_by_rfc_9989_and_void_for_rfc_7489() {
        let own = [
            DmarcRecord::from_text("v=DMARC1; p=reject".into()),
            DmarcRecord::from_text("v=DMARC1; p=none".into()),
        ];
        let walk = [
            step("example.com", &["v=DMARC1; p=quarantine"]),
            step("com", &[]),
        ];
        let d = discover("sub.example.com", &own, &walk);
        assert_eq!(d.policy_domain.as_deref(), Some("example.com"));
        assert_eq!(d.policy_domain_7489, None);
    }
}
