//! DNSSEC for the lab: a fresh ECDSA P-256 key per signed zone, hickory's own NSEC chain and
//! signatures, and the ways a zone can be signed wrong (`;@sign <mode>`).
//!
//! hickory-server signs with "now" as inception and a fixed validity; the lab re-signs every
//! set itself so that a zone can carry signatures that expired days ago or expire soon, which
//! no real clock would let a test wait for.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_server::proto::dnssec::crypto::EcdsaSigningKey;
use hickory_server::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_server::proto::dnssec::{Algorithm, DigestType, DnssecSigner, SigningKey};
use hickory_server::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use rustls::pki_types::PrivatePkcs8KeyDer;

/// How a zone is signed, for a validator to tell each case apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// Signed, valid for 30 days, with a matching DS at the parent.
    Valid,
    /// Every signature expired three days ago.
    Expired,
    /// Valid now, expiring this long from now.
    Expiring(Duration),
    /// Signed, but the parent's DS digest matches none of the zone's keys.
    DsMismatch,
    /// Signed, with no DS at the parent: an island of security, insecure to a validator.
    Island,
}

impl Signing {
    /// `valid`, `expired`, `expiring=3d`, `ds-mismatch`, `island`.
    pub(super) fn parse(text: &str) -> Option<Self> {
        match text {
            "valid" => Some(Self::Valid),
            "expired" => Some(Self::Expired),
            "ds-mismatch" => Some(Self::DsMismatch),
            "island" => Some(Self::Island),
            _ => text
                .strip_prefix("expiring=")
                .and_then(|d| humantime::parse_duration(d).ok())
                .map(Self::Expiring),
        }
    }

    /// Inception and expiration, seconds since the Unix epoch.
    fn window(self, now: u64) -> (u64, u64) {
        const HOUR: u64 = 3600;
        const DAY: u64 = 24 * HOUR;
        match self {
            Self::Expired => (now - 10 * DAY, now - 3 * DAY),
            Self::Expiring(d) => (now - HOUR, now + d.as_secs()),
            Self::Valid | Self::DsMismatch | Self::Island => (now - HOUR, now + 30 * DAY),
        }
    }
}

/// One zone's key: a combined signing key (flags 257, KSK and ZSK in one).
pub(super) struct ZoneKey {
    pkcs8: PrivatePkcs8KeyDer<'static>,
    pub(super) dnskey: DNSKEY,
}

const ALGORITHM: Algorithm = Algorithm::ECDSAP256SHA256;

impl ZoneKey {
    pub(super) fn generate() -> Result<Self, String> {
        let pkcs8 = EcdsaSigningKey::generate_pkcs8(ALGORITHM).map_err(|e| e.to_string())?;
        let key = EcdsaSigningKey::from_pkcs8(&pkcs8, ALGORITHM).map_err(|e| e.to_string())?;
        let public = key.to_public_key().map_err(|e| e.to_string())?;
        Ok(Self {
            pkcs8,
            dnskey: DNSKEY::from_key(&public),
        })
    }

    fn signer(&self, origin: &Name, validity: Duration) -> Result<DnssecSigner, String> {
        let key = EcdsaSigningKey::from_pkcs8(&self.pkcs8, ALGORITHM).map_err(|e| e.to_string())?;
        Ok(DnssecSigner::new(
            self.dnskey.clone(),
            Box::new(key),
            origin.clone(),
            validity,
        ))
    }

    /// The DS the parent publishes; with `mismatch`, one whose digest is off by a bit.
    pub(super) fn ds(&self, origin: &Name, mismatch: bool) -> Result<Record, String> {
        let err = |e: hickory_server::proto::ProtoError| e.to_string();
        let mut digest = self
            .dnskey
            .to_digest(origin, DigestType::SHA256)
            .map_err(err)?
            .as_ref()
            .to_vec();
        if mismatch && let Some(b) = digest.first_mut() {
            *b ^= 1;
        }
        let ds = DS::new(
            self.dnskey.calculate_key_tag().map_err(err)?,
            ALGORITHM,
            DigestType::SHA256,
            digest,
        );
        Ok(Record::from_rdata(
            origin.clone(),
            300,
            RData::DNSSEC(DNSSECRData::DS(ds)),
        ))
    }

    /// The key as a zone-file line, the form `--trust-anchor FILE` reads.
    pub(super) fn anchor_line(&self, origin: &Name) -> String {
        format!("{origin} 300 IN DNSKEY {}\n", self.dnskey)
    }
}

/// Publishes the key, builds the NSEC chain, and signs every authoritative set of the zone
/// with the mode's validity window. The zone must have been created with an NSEC proof kind.
pub(super) fn sign_zone(
    zone: &mut InMemoryZoneHandler,
    origin: &Name,
    key: &ZoneKey,
    mode: Signing,
) -> Result<(), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let (inception, expiration) = mode.window(now);
    zone.add_zone_signing_key_mut(key.signer(origin, Duration::from_hours(30 * 24))?)
        .map_err(|e| e.to_string())?;
    // Builds the NSEC chain (and signs it with hickory's clock; re-signed below).
    zone.secure_zone_mut().map_err(|e| e.to_string())?;
    let signer = key.signer(origin, Duration::from_secs(expiration - inception))?;
    let inception = time::OffsetDateTime::from_unix_timestamp(
        i64::try_from(inception).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    for set in zone.records_get_mut().values_mut() {
        let set = std::sync::Arc::make_mut(set);
        set.clear_rrsigs();
        // A delegation's NS set belongs to the child; RFC 4035 §2.2 leaves it unsigned.
        if set.record_type() == RecordType::NS && set.name() != origin {
            continue;
        }
        let rrsig =
            RRSIG::from_rrset(set, DNSClass::IN, inception, &signer).map_err(|e| e.to_string())?;
        let record = Record::from_rdata(
            set.name().clone(),
            set.ttl(),
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)),
        );
        set.insert_rrsig(record);
    }
    Ok(())
}
