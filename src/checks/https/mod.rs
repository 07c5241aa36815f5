//! One bounded HTTPS GET, for the MTA-STS policy file and the BIMI logo.
//!
//! The host name is resolved by our own [`Dns`] (never getaddrinfo), the address goes through
//! the same [`Policy`] as the SMTP probe, and the connection is pinned to that address, so a
//! hostile zone cannot send the fetch to an internal service. Certificates are checked against
//! the run's trust anchors (the SMTP probe's, `--ca-file` included) with rustls' `WebPKI`
//! verifier over the ring provider. Redirects are never followed (RFC 8461 §3.3), no proxy is
//! used, the body is cut at a size cap, and every stage has a time bound.
//!
//! The result is a [`Fetch`]: facts only (`classify` turns client errors into them). Whether a 404 or a timeout matters is for the rules.

mod classify;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use classify::{chain, classify};

use crate::checks::smtp::CertVerdict;
use crate::dns::{Cname, Dns, DnsFailure, Lookup};
use crate::net::{AddressClass, Policy};

/// The User-Agent of every fetch: who is asking, so a server operator can tell.
pub const USER_AGENT: &str = concat!(
    env!("CARGO_PKG_NAME"),
    "/",
    env!("CARGO_PKG_VERSION"),
    " (mail configuration audit)"
);

/// The most of a body read: RFC 8461 §3.3 lets senders stop at 64 KiB, and a logo larger
/// than that is refused by the mailbox providers anyway.
pub const BODY_CAP: usize = 64 * 1024;

/// What fetches may do, shared by every domain of a run.
#[derive(Clone, Debug)]
pub struct HttpsSettings {
    /// False with `--no-https`: nothing is fetched.
    pub enabled: bool,
    /// The port of every fetch (443; tests and labs use another).
    pub port: u16,
    /// For the connection, and again for the whole exchange.
    pub timeout: Duration,
    pub policy: Policy,
    pub roots: Arc<rustls::RootCertStore>,
}

/// One fetch, as it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fetch {
    /// The URL asked for (with the `--https-port` when it is not 443).
    pub url: String,
    pub host: String,
    /// CNAMEs met resolving the host, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cnames: Vec<Cname>,
    /// Every address of the host (A then AAAA).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpAddr>,
    /// The address connected to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<SocketAddr>,
    pub result: FetchResult,
}

/// How a fetch ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FetchResult {
    /// An HTTP response came (any status); the body up to the cap.
    Response(Response),
    /// The host name does not exist or has no address.
    NoAddress,
    /// Looking up the host failed: whether it exists is not known.
    DnsFailed { failure: DnsFailure },
    /// Every address of the host is one the address policy forbids.
    Forbidden { ip: IpAddr, class: AddressClass },
    /// The connection was refused or reset: nothing serves HTTPS there.
    Connect { detail: String },
    /// The TLS handshake failed; `verdict` when it was the certificate.
    Tls {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verdict: Option<CertVerdict>,
        detail: String,
    },
    /// No answer in time: whether the resource is there is not known.
    Timeout { detail: String },
    /// Anything else (a malformed response, an invalid URL).
    Other { detail: String },
}

/// An HTTP response, bounded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Response {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Body bytes kept (at most the cap).
    pub bytes: usize,
    /// The body went on past the cap and was cut there.
    pub truncated: bool,
    /// The body up to the cap, as text (invalid UTF-8 replaced): kept so the facts can be
    /// replayed.
    pub body: String,
}

impl Response {
    /// `text/plain` (any parameters, any case), as RFC 8461 §3.2 requires of a policy.
    pub fn is_text_plain(&self) -> bool {
        media_type(self.content_type.as_deref()).is_some_and(|t| t == "text/plain")
    }
}

/// The media type of a `Content-Type` value, lower case, without parameters.
pub fn media_type(value: Option<&str>) -> Option<String> {
    let value = value?;
    let t = value.split(';').next().unwrap_or_default().trim();
    Some(t.to_ascii_lowercase())
}

impl Fetch {
    /// The response, when one came.
    pub fn response(&self) -> Option<&Response> {
        match &self.result {
            FetchResult::Response(r) => Some(r),
            _ => None,
        }
    }

    /// A `200` response.
    pub fn ok(&self) -> Option<&Response> {
        self.response().filter(|r| r.status == 200)
    }

    /// Why the fetch gives no answer, for a report line.
    pub fn problem(&self) -> Option<String> {
        Some(match &self.result {
            FetchResult::Response(r) if r.status == 200 => return None,
            FetchResult::Response(r) => match &r.location {
                Some(l) => format!("HTTP {} redirect to {l} (not followed)", r.status),
                None => format!("HTTP {}", r.status),
            },
            FetchResult::NoAddress => format!("{} has no address", self.host),
            FetchResult::DnsFailed { failure } => {
                format!("the address lookup of {} failed: {failure}", self.host)
            }
            FetchResult::Forbidden { ip, class } => {
                format!("{} is at {ip}, a {class} address, not fetched", self.host)
            }
            FetchResult::Connect { detail } => format!("connection failed: {detail}"),
            FetchResult::Tls {
                verdict: Some(v),
                detail,
            } => format!("certificate {}: {detail}", verdict_text(v)),
            FetchResult::Tls {
                verdict: None,
                detail,
            } => format!("TLS failed: {detail}"),
            FetchResult::Timeout { detail } => format!("timed out: {detail}"),
            FetchResult::Other { detail } => detail.clone(),
        })
    }
}

fn verdict_text(v: &CertVerdict) -> &'static str {
    match v {
        CertVerdict::Trusted => "trusted",
        CertVerdict::UnknownIssuer => "not from a trusted issuer",
        CertVerdict::Expired => "expired",
        CertVerdict::NotYetValid => "not yet valid",
        CertVerdict::NameMismatch => "not valid for the host name",
        CertVerdict::Other { .. } => "rejected",
    }
}

/// Resolves the host with our DNS: A first, then AAAA.
async fn addresses(dns: &Dns, host: &str) -> Result<(Vec<IpAddr>, Vec<Cname>), FetchResult> {
    let (a, aaaa) = tokio::join!(dns.a(host), dns.aaaa(host));
    let mut ips = Vec::new();
    let mut cnames = Vec::new();
    if let Lookup::Found { records, cnames: c } = &a {
        ips.extend(records.iter().copied().map(IpAddr::V4));
        cnames.clone_from(c);
    }
    if let Lookup::Found { records, cnames: c } = &aaaa {
        ips.extend(records.iter().copied().map(IpAddr::V6));
        if cnames.is_empty() {
            cnames.clone_from(c);
        }
    }
    if !ips.is_empty() {
        return Ok((ips, cnames));
    }
    match (a.failure(), aaaa.failure()) {
        (Some(f), _) | (None, Some(f)) => Err(FetchResult::DnsFailed { failure: f.clone() }),
        (None, None) => Err(FetchResult::NoAddress),
    }
}

/// The client configuration: ring, the run's roots, the standard verifier.
fn tls_config(s: &HttpsSettings) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    Ok(builder
        .with_root_certificates(Arc::clone(&s.roots))
        .with_no_client_auth())
}

/// GETs `https://{host}{path}` on the settings' port.
pub async fn fetch(dns: &Dns, s: &HttpsSettings, host: &str, path: &str) -> Fetch {
    let url = if s.port == 443 {
        format!("https://{host}{path}")
    } else {
        format!("https://{host}:{}{path}", s.port)
    };
    let mut fetch = Fetch {
        url,
        host: host.to_owned(),
        cnames: Vec::new(),
        addresses: Vec::new(),
        address: None,
        result: FetchResult::NoAddress,
    };
    let ips = match addresses(dns, host).await {
        Ok((ips, cnames)) => {
            fetch.cnames = cnames;
            ips
        }
        Err(result) => {
            fetch.result = result;
            return fetch;
        }
    };
    fetch.addresses.clone_from(&ips);
    let permitted = ips.iter().copied().find(|ip| s.policy.permits(*ip).is_ok());
    let Some(ip) = permitted else {
        let ip = ips[0];
        fetch.result = FetchResult::Forbidden {
            ip,
            class: crate::net::classify(ip),
        };
        return fetch;
    };
    let addr = SocketAddr::new(ip, s.port);
    fetch.address = Some(addr);
    // Boxed: the client's future is large, and every domain's gathering would carry it.
    fetch.result = Box::pin(get(s, host, &fetch.url, addr)).await;
    fetch
}

async fn get(s: &HttpsSettings, host: &str, url: &str, addr: SocketAddr) -> FetchResult {
    let tls = match tls_config(s) {
        Ok(t) => t,
        Err(detail) => return FetchResult::Other { detail },
    };
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .https_only(true)
        .user_agent(USER_AGENT)
        .connect_timeout(s.timeout)
        .timeout(s.timeout)
        .resolve_to_addrs(host, &[addr])
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            return FetchResult::Other { detail: chain(&e) };
        }
    };
    let exchange = async {
        let mut resp = client.get(url).send().await?;
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let location = header(reqwest::header::LOCATION);
        let status = resp.status().as_u16();
        let mut raw = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await? {
            let room = BODY_CAP - raw.len();
            if chunk.len() > room {
                raw.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            raw.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>(Response {
            status,
            content_type,
            location,
            bytes: raw.len(),
            truncated,
            body: String::from_utf8_lossy(&raw).into_owned(),
        })
    };
    // The client's own timeout covers the whole exchange; this one is the backstop.
    match tokio::time::timeout(s.timeout + Duration::from_secs(1), exchange).await {
        Err(_) => FetchResult::Timeout {
            detail: format!("no complete answer within {:.1} s", s.timeout.as_secs_f64()),
        },
        Ok(Ok(r)) => FetchResult::Response(r),
        Ok(Err(e)) => classify(&e, s.timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_ignore_parameters_and_case() {
        assert_eq!(
            media_type(Some("Text/Plain; charset=utf-8")).as_deref(),
            Some("text/plain")
        );
        assert_eq!(media_type(None), None);
    }
}
