//! The lab's test PKI: a CA, intermediates and server certificates made at run time (rcgen),
//! so tests cover good, expired, wrong-name, self-signed and incomplete chains without files.

use std::sync::Arc;
use std::time::SystemTime;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority that signs lab certificates.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    /// What a server sends above its leaf: this CA's certificate and those above it, up to
    /// but not including the root (empty for a root).
    sent: Vec<CertificateDer<'static>>,
}

/// A server certificate with its key, and the chain the server sends (leaf first).
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

/// How long a certificate is valid, relative to now.
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// 1975 to 4096, rcgen's default.
    Long,
    /// Valid from `start` seconds ago until `end` seconds from now (negative: expired).
    Around { start: i64, end: i64 },
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.distinguished_name.push(DnType::CommonName, cn);
    params
}

fn leaf_params(names: &[&str], validity: Validity) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("leaf parameters");
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    if let Validity::Around { start, end } = validity {
        params.not_before = at(-start);
        params.not_after = at(end);
    }
    params
}

fn at(offset_secs: i64) -> time::OffsetDateTime {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let now = i64::try_from(now).expect("time fits");
    time::OffsetDateTime::from_unix_timestamp(now + offset_secs).expect("valid timestamp")
}

impl TestCa {
    /// A new self-signed root.
    pub fn root(cn: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let params = ca_params(cn);
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
            sent: Vec::new(),
        }
    }

    /// An intermediate CA signed by this one.
    #[must_use]
    pub fn intermediate(&self, cn: &str) -> Self {
        let key = KeyPair::generate().expect("intermediate key");
        let params = ca_params(cn);
        let cert = params.signed_by(&key, &self.issuer).expect("intermediate");
        let mut sent = vec![cert.der().clone()];
        sent.extend(self.sent.iter().cloned());
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
            sent,
        }
    }

    /// The CA certificate in PEM, for `--ca-file`.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `names`, signed by this CA. With `full_chain` the server
    /// sends the intermediates above the leaf; without, the chain is incomplete.
    pub fn leaf(&self, names: &[&str], validity: Validity, full_chain: bool) -> ServerCert {
        let key = KeyPair::generate().expect("leaf key");
        let cert = leaf_params(names, validity)
            .signed_by(&key, &self.issuer)
            .expect("leaf");
        let mut chain = vec![cert.der().clone()];
        if full_chain {
            chain.extend(self.sent.iter().cloned());
        }
        ServerCert {
            chain,
            key: key.serialize_der(),
        }
    }
}

impl ServerCert {
    /// A self-signed server certificate.
    pub fn self_signed(names: &[&str]) -> Self {
        let key = KeyPair::generate().expect("key");
        let cert = leaf_params(names, Validity::Long)
            .self_signed(&key)
            .expect("self-signed");
        Self {
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }

    /// A certificate and PKCS #8 key from PEM text (for certificates rcgen cannot make, such
    /// as SHA-1 signed ones kept in `fixtures/pki/`).
    pub fn from_pem(cert: &str, key: &str) -> Self {
        use rustls::pki_types::pem::PemObject;
        let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("PEM certificates");
        let key = PrivatePkcs8KeyDer::from_pem_slice(key.as_bytes()).expect("PEM PKCS #8 key");
        Self {
            chain,
            key: key.secret_pkcs8_der().to_vec(),
        }
    }

    /// A rustls server configuration presenting this certificate (TLS 1.2 and 1.3).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.config(rustls::DEFAULT_VERSIONS)
    }

    /// The same, speaking TLS 1.2 only.
    pub fn server_config_tls12(&self) -> Arc<rustls::ServerConfig> {
        self.config(&[&rustls::version::TLS12])
    }

    fn config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(self.chain.clone(), key)
        .expect("server certificate");
        Arc::new(config)
    }
}

/// Seconds in a day, for [`Validity::Around`].
pub const DAY: i64 = 86_400;
