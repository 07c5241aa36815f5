//! The TLS half of the probe: one handshake gives the negotiated parameters, the chain and the
//! trust verdict, so "no STARTTLS" is never confused with "bad certificate".
//!
//! The [`RecordingVerifier`] runs rustls' own `WebPKI` check, records its verdict and the chain,
//! and lets the handshake go on whatever the verdict; handshake signatures are still verified.
//! Certificates are read with x509-parser for the report (names, dates, key, algorithm).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::cert::CertFacts;
use super::session::StageError;
use super::{ErrorKind, SmtpSettings};

/// Where the trust anchors come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrustSource {
    /// Mozilla's root program, bundled (webpki-roots): the same answer on every machine.
    Webpki,
    /// The operating system's store (honours `SSL_CERT_FILE` and `SSL_CERT_DIR`).
    System,
    /// `mailcheck demo`'s own CA, made for the run and trusted by it alone.
    Demo,
}

/// Why trust anchors could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    #[error("--ca-file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("--trust system: no usable certificate in the system store{0}")]
    System(String),
}

/// Builds the trust store: the chosen source plus every certificate of the `--ca-file`s.
pub fn load_roots(source: TrustSource, ca_files: &[&Path]) -> Result<RootCertStore, RootsError> {
    let mut roots = RootCertStore::empty();
    match source {
        TrustSource::Webpki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        // The demo adds its CA itself; only `--ca-file` anchors join it.
        TrustSource::Demo => {}
        TrustSource::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 && ca_files.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                return Err(RootsError::System(why));
            }
        }
    }
    for path in ca_files {
        let err = |reason: String| RootsError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let mut n = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))? {
            let cert = cert.map_err(|e| err(e.to_string()))?;
            roots.add(cert).map_err(|e| err(e.to_string()))?;
            n += 1;
        }
        if n == 0 {
            return Err(err("no PEM certificate in the file".into()));
        }
    }
    Ok(roots)
}

/// What the TLS handshake showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsFacts {
    /// `TLSv1_3`, `TLSv1_2`; absent when the handshake failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// The chain as presented, leaf first (captured even when the handshake then failed).
    pub chain: Vec<CertFacts>,
    /// The `WebPKI` verdict on the chain for the MX name; absent if no certificate came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<CertVerdict>,
    /// Whether the leaf is valid for the MX name, checked on its own (a chain that fails for
    /// another reason hides a name mismatch from the verdict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_matches: Option<bool>,
    /// The share of the leaf's validity period still ahead, in percent (0 once expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_left_percent: Option<u8>,
}

/// The trust check's result, as rustls' `WebPKI` verifier gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum CertVerdict {
    Trusted,
    /// No chain to a trust anchor: self-signed, a missing intermediate, or an unknown root.
    UnknownIssuer,
    Expired,
    NotYetValid,
    NameMismatch,
    Other {
        detail: String,
    },
}

/// What the verifier saw during one handshake.
#[derive(Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    verdict: Option<Result<(), rustls::Error>>,
}

/// Records the `WebPKI` verdict and the chain, and accepts the certificate so the handshake (and
/// the EHLO after it) can go on. Handshake signatures are still verified.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Arc<Mutex<SeenCell>>,
}

#[derive(Default)]
struct SeenCell(Seen);

impl std::fmt::Debug for SeenCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeenCell")
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map(|_| ()),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        let mut seen = self.seen.lock().expect("verifier state");
        seen.0.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        seen.0.verdict = Some(verdict);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn verdict_of(result: &Result<(), rustls::Error>) -> CertVerdict {
    use CertificateError as C;
    match result {
        Ok(()) => CertVerdict::Trusted,
        Err(rustls::Error::InvalidCertificate(e)) => match e {
            C::UnknownIssuer => CertVerdict::UnknownIssuer,
            C::Expired | C::ExpiredContext { .. } => CertVerdict::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => CertVerdict::NotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => CertVerdict::NameMismatch,
            other => CertVerdict::Other {
                detail: format!("{other:?}"),
            },
        },
        Err(other) => CertVerdict::Other {
            detail: other.to_string(),
        },
    }
}

fn server_name(host: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).ok()
}

/// Performs the handshake on an upgraded connection. The facts are returned whether or not the
/// handshake succeeded; the stream only when it did.
pub(super) async fn handshake(
    s: &SmtpSettings,
    host: &str,
    tcp: TcpStream,
    deadline: Instant,
) -> (TlsFacts, Result<TlsStream<TcpStream>, StageError>) {
    let provider = provider();
    let seen = Arc::new(Mutex::new(SeenCell::default()));
    let inner =
        WebPkiServerVerifier::builder_with_provider(Arc::clone(&s.roots), Arc::clone(&provider))
            .build()
            .ok();
    let verifier = RecordingVerifier {
        inner,
        algorithms: provider.signature_verification_algorithms,
        seen: Arc::clone(&seen),
    };
    let mut facts = TlsFacts {
        version: None,
        cipher: None,
        chain: Vec::new(),
        verdict: None,
        name_matches: None,
        lifetime_left_percent: None,
    };
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
        Err(e) => {
            return (
                facts,
                Err(StageError {
                    kind: ErrorKind::Tls,
                    detail: e.to_string(),
                }),
            );
        }
    };
    let Some(name) = server_name(host) else {
        let detail = format!("{host:?} cannot be sent as a TLS server name");
        return (
            facts,
            Err(StageError {
                kind: ErrorKind::Tls,
                detail,
            }),
        );
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let limit = s
        .command_timeout
        .min(deadline.saturating_duration_since(Instant::now()));
    let result = tokio::time::timeout(limit, connector.connect(name.clone(), tcp)).await;
    {
        let seen = seen.lock().expect("verifier state");
        facts.chain = seen
            .0
            .chain
            .iter()
            .filter_map(|c| CertFacts::parse(c))
            .collect();
        facts.verdict = seen.0.verdict.as_ref().map(verdict_of);
        facts.lifetime_left_percent = facts.chain.first().map(|c| lifetime_left(c, now()));
        facts.name_matches = seen.0.chain.first().and_then(|leaf| {
            ParsedCertificate::try_from(leaf)
                .ok()
                .map(|p| verify_server_name(&p, &name).is_ok())
        });
    }
    let stream = match result {
        Err(_) => Err(StageError {
            kind: ErrorKind::Timeout,
            detail: format!("no TLS handshake within {:.1} s", limit.as_secs_f64()),
        }),
        Ok(Err(e)) => Err(handshake_error(&e)),
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            facts.version = conn.protocol_version().map(|v| format!("{v:?}"));
            facts.cipher = conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()));
            Ok(stream)
        }
    };
    (facts, stream)
}

fn now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// The share of a certificate's validity period left at `now`, in percent.
fn lifetime_left(c: &CertFacts, now: i64) -> u8 {
    let life = (c.not_after - c.not_before).max(1);
    let left = (c.not_after - now).clamp(0, life);
    u8::try_from(left * 100 / life).unwrap_or(100)
}

fn handshake_error(e: &std::io::Error) -> StageError {
    let text = e.to_string();
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let incompatible = matches!(
        tls,
        Some(
            rustls::Error::PeerIncompatible(_)
                | rustls::Error::AlertReceived(
                    rustls::AlertDescription::ProtocolVersion
                        | rustls::AlertDescription::HandshakeFailure
                        | rustls::AlertDescription::InsufficientSecurity
                )
        )
    );
    let kind = if incompatible {
        ErrorKind::TlsIncompatible
    } else if tls.is_some() {
        ErrorKind::Tls
    } else {
        StageError::io_kind(e)
    };
    StageError { kind, detail: text }
}
