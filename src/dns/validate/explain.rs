//! Why an answer the validator calls bogus is bogus: the first broken link, read from the
//! records themselves, or "could not tell" when a lookup on the way failed.

use hickory_resolver::net::xfer::DnsHandle as _;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_resolver::proto::op::{DnsRequestOptions, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType as WireType};

use super::{BogusReason, MAX_DEPTH, Validation, Validator, now, rrsig};
use crate::dns::hickory::display_name;
use futures_util::StreamExt as _;

impl Validator {
    /// Bogus, with its reason, when the records show one; indeterminate when a lookup the
    /// explanation needed failed. The validator reports a DNSKEY or DS lookup that timed out
    /// or failed as bogus too, and "could not tell" must never read as "broken".
    pub(super) async fn bogus(&self, name: &Name, rtype: WireType) -> Validation {
        match self.explain(name, rtype).await {
            Some((reason, detail)) => Validation::Bogus { reason, detail },
            None => Validation::Indeterminate {
                detail: "validation failed, and a DNSSEC lookup needed to tell why failed too (not proof that \
                         the zone is broken)"
                    .into(),
            },
        }
    }

    /// The records of one question, unvalidated, signatures included; `None` when the
    /// lookup failed (no answer, or an RCODE other than NOERROR and NXDOMAIN).
    async fn raw(&self, name: &Name, rtype: WireType) -> Option<Vec<Record>> {
        let mut options = DnsRequestOptions::default();
        options.use_edns = true;
        options.recursion_desired = true;
        let response = self
            .raw
            .lookup(Query::query(name.clone(), rtype), options)
            .next()
            .await?
            .ok()?;
        if !matches!(
            response.metadata.response_code,
            ResponseCode::NoError | ResponseCode::NXDomain
        ) {
            return None;
        }
        let mut records = response.answers.clone();
        records.extend(response.authorities.iter().cloned());
        Some(records)
    }

    /// The DNSSEC records of one type owned by `zone` itself.
    async fn owned<T>(
        &self,
        zone: &Name,
        rtype: WireType,
        pick: fn(DNSSECRData) -> Option<T>,
    ) -> Option<Vec<T>> {
        let records = self.raw(zone, rtype).await?;
        Some(
            records
                .into_iter()
                .filter(|r| &r.name == zone)
                .filter_map(|r| match r.data {
                    RData::DNSSEC(d) => pick(d),
                    _ => None,
                })
                .collect(),
        )
    }

    async fn keys(&self, zone: &Name) -> Option<Vec<DNSKEY>> {
        self.owned(zone, WireType::DNSKEY, |d| match d {
            DNSSECRData::DNSKEY(k) => Some(k),
            _ => None,
        })
        .await
    }

    async fn ds(&self, zone: &Name) -> Option<Vec<DS>> {
        self.owned(zone, WireType::DS, |d| match d {
            DNSSECRData::DS(d) => Some(d),
            _ => None,
        })
        .await
    }

    /// Whether a zone at or above `name` (below the root) has a DS at its parent, i.e. is
    /// meant to be signed; `None` when a DS lookup failed.
    async fn signed_above(&self, name: &Name) -> Option<bool> {
        let mut n = name.clone();
        while !n.is_root() {
            if !self.ds(&n).await?.is_empty() {
                return Some(true);
            }
            n = n.base_name();
        }
        Some(false)
    }

    /// Why `name`/`rtype` is bogus: the first broken link, walking from the answer up to
    /// the root; `None` when a lookup on the way failed.
    async fn explain(&self, name: &Name, rtype: WireType) -> Option<(BogusReason, String)> {
        let now = now();
        let (mut name, mut rtype) = (name.clone(), rtype);
        for _ in 0..MAX_DEPTH {
            let what = format!("{} {rtype}", display_name(&name));
            let records = self.raw(&name, rtype).await?;
            let data: Vec<&Record> = records
                .iter()
                .filter(|r| r.record_type() == rtype && r.name == name)
                .collect();
            let sigs: Vec<&RRSIG> = records
                .iter()
                .filter(|r| r.name == name)
                .filter_map(rrsig)
                .filter(|s| s.input().type_covered == rtype)
                .collect();
            if data.is_empty() {
                // A negative answer: its proof is the SOA and NSEC records, each signed.
                let proof: Vec<&RRSIG> = records.iter().filter_map(rrsig).collect();
                if let Some(fault) = signature_fault(&format!("the denial of {what}"), &proof, now)
                {
                    return Some(fault);
                }
            }
            let Some(signer) = sigs.first().map(|s| s.input().signer_name.clone()) else {
                // Unsigned data is broken only in a signed zone. The validator also calls an
                // answer bogus when a DS or DNSKEY lookup of its own failed: that is no proof.
                if !self.signed_above(&name).await? {
                    return None;
                }
                let detail = if data.is_empty() {
                    format!("no signed proof that {what} does not exist, in a zone that is signed")
                } else {
                    format!("{what} is not signed, in a zone that is")
                };
                return Some((BogusReason::MissingSignature, detail));
            };
            if let Some(fault) = signature_fault(&what, &sigs, now) {
                return Some(fault);
            }
            let zone = display_name(&signer);
            let keys = self.keys(&signer).await?;
            let tags: Vec<u16> = keys
                .iter()
                .filter_map(|k| k.calculate_key_tag().ok())
                .collect();
            if keys.is_empty() {
                return Some((
                    BogusReason::MissingDnskey,
                    format!("{zone} signs {what} but publishes no DNSKEY set"),
                ));
            }
            if let Some(s) = sigs.iter().find(|s| !tags.contains(&s.input().key_tag)) {
                return Some((
                    BogusReason::MissingDnskey,
                    format!(
                        "{what} is signed with key tag {}, which no DNSKEY of {zone} has (it has {})",
                        s.input().key_tag,
                        list(&tags)
                    ),
                ));
            }
            if rtype != WireType::DNSKEY || name != signer {
                // The next link: the zone's own DNSKEY set.
                (name, rtype) = (signer, WireType::DNSKEY);
                continue;
            }
            if signer.is_root() {
                break;
            }
            let ds = self.ds(&signer).await?;
            if !ds.is_empty()
                && !ds
                    .iter()
                    .any(|d| keys.iter().any(|k| d.covers(&signer, k).unwrap_or(false)))
            {
                return Some((
                    BogusReason::DsMismatch,
                    format!(
                        "the DS set for {zone} at its parent (key tag {}) matches none of its DNSKEYs (key tag {})",
                        list(&ds.iter().map(DS::key_tag).collect::<Vec<_>>()),
                        list(&tags)
                    ),
                ));
            }
            // The DS set itself, signed by the parent.
            (name, rtype) = (signer, WireType::DS);
        }
        Some((
            BogusReason::BadSignature,
            format!(
                "a signature on the way from the trust anchor ({}) to this answer does not verify",
                self.anchor
            ),
        ))
    }
}

/// A set without signatures, or signatures outside their validity period.
fn signature_fault(what: &str, sigs: &[&RRSIG], now: i64) -> Option<(BogusReason, String)> {
    if let Some(s) = sigs
        .iter()
        .find(|s| i64::from(s.input().sig_expiration.get()) < now)
    {
        return Some((
            BogusReason::ExpiredSignature,
            format!(
                "the signature over {what} by {} expired on {}",
                display_name(&s.input().signer_name),
                date(i64::from(s.input().sig_expiration.get()))
            ),
        ));
    }
    sigs.iter()
        .find(|s| i64::from(s.input().sig_inception.get()) > now)
        .map(|s| {
            (
                BogusReason::SignatureNotYetValid,
                format!(
                    "the signature over {what} is valid only from {}",
                    date(i64::from(s.input().sig_inception.get()))
                ),
            )
        })
}

fn list(tags: &[u16]) -> String {
    let v: Vec<String> = tags.iter().map(ToString::to_string).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// `2026-12-01T10:00:00Z`.
fn date(secs: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}
