//! Certificate details for the report, read with x509-parser: names, dates, key, algorithm,
//! and the digests DANE TLSA records are matched against (RFC 6698 §2.1).

use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// One certificate, as the report needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub sans: Vec<String>,
    /// Validity, seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// `RSA`, `EC`, or the key algorithm's name.
    pub key_type: String,
    pub key_bits: usize,
    /// E.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    pub is_ca: bool,
    pub serial: String,
    /// SHA-256 of the whole DER certificate, lowercase hex (TLSA selector 0, matching 1).
    #[serde(default)]
    pub sha256: String,
    /// SHA-512 of the whole DER certificate (TLSA selector 0, matching 2).
    #[serde(default)]
    pub sha512: String,
    /// SHA-256 of the DER `SubjectPublicKeyInfo` (TLSA selector 1, matching 1: the usual
    /// `3 1 1` record).
    #[serde(default)]
    pub spki_sha256: String,
    /// SHA-512 of the DER `SubjectPublicKeyInfo` (TLSA selector 1, matching 2).
    #[serde(default)]
    pub spki_sha512: String,
}

impl CertFacts {
    /// Issuer and subject are the same name: a root, or a self-signed leaf.
    pub fn self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// Reads a DER certificate; `None` if x509-parser cannot.
    pub fn parse(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let sans = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|ext| {
                ext.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(d) => Some((*d).to_owned()),
                        GeneralName::IPAddress(b) => ip_of(b).map(|ip| ip.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let registry = x509_parser::objects::oid_registry();
        let name_of = |oid| {
            x509_parser::objects::oid2sn(oid, registry)
                .map_or_else(|_| oid.to_id_string(), str::to_owned)
        };
        let spki = cert.public_key();
        let (key_type, key_bits) = match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(k)) => ("RSA".to_owned(), k.key_size()),
            Ok(x509_parser::public_key::PublicKey::EC(k)) => ("EC".to_owned(), k.key_size()),
            Ok(other) => (name_of(&spki.algorithm.algorithm), other.key_size()),
            Err(_) => (name_of(&spki.algorithm.algorithm), 0),
        };
        Some(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            sans,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            key_type,
            key_bits,
            signature_algorithm: name_of(&cert.signature_algorithm.algorithm),
            is_ca: cert.is_ca(),
            serial: cert.raw_serial_as_string(),
            sha256: hex_digest(&ring::digest::SHA256, der),
            sha512: hex_digest(&ring::digest::SHA512, der),
            spki_sha256: hex_digest(&ring::digest::SHA256, spki.raw),
            spki_sha512: hex_digest(&ring::digest::SHA512, spki.raw),
        })
    }
}

/// A digest as lowercase hex, the spelling TLSA data has in the facts.
pub fn hex_digest(algorithm: &'static ring::digest::Algorithm, data: &[u8]) -> String {
    use std::fmt::Write as _;
    ring::digest::digest(algorithm, data)
        .as_ref()
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

fn ip_of(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(Into::into),
        16 => <[u8; 16]>::try_from(bytes).ok().map(Into::into),
        _ => None,
    }
}
