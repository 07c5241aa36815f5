//! `mailcheck demo`: real reports with no network. The test lab starts in this process on
//! loopback: its DNS server serves a few example zones compiled into the binary (`cargo install`
//! ships no `fixtures/`), and SMTP listeners with STARTTLS play their MX hosts, with
//! certificates from a CA made for the run and trusted by it alone. Then the usual audit runs
//! against them, so the TLS evidence in the report is real.
//!
//! An HTTPS listener serves the MTA-STS policies of the domains that publish one, with a
//! certificate from the same CA.
//!
//! One domain is exemplary and the others are broken in instructive ways (DNS and TLS). The
//! MX hosts listen on addresses of 127.0.50.0/24, which Linux routes to loopback; where those
//! cannot be bound (other systems configure 127.0.0.1 only), the demo audits DNS only and says so.
//! Blocklists are never asked: they are remote.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::checks::smtp::TrustSource;
use crate::config::Config;
use crate::dns::TrustAnchor;
use crate::lab::https::{HttpsListener, Response};
use crate::lab::pki::{DAY, TestCa, Validity};
use crate::lab::smtp::{SmtpListener, SmtpSpec};
use crate::lab::{Lab, LabError, LabRecord};
use crate::rules::Selector;

/// The example domains, audited in this order.
pub const DOMAINS: &[&str] = &[
    "good.test",
    "broken.test",
    "nodmarc.test",
    "spfplusall.test",
    "nullmx.test",
];

/// The zones served (`fixtures/demo/`).
pub const ZONES: &[(&str, &str)] = &[
    // Exemplary: two MX hosts with valid TLS, strict SPF, DMARC p=reject, DKIM, TLS-RPT.
    ("good.test", include_str!("../fixtures/demo/good.test.zone")),
    // Two SPF records, an MX host that does not exist, DMARC p=none, an expired certificate.
    (
        "broken.test",
        include_str!("../fixtures/demo/broken.test.zone"),
    ),
    // No DMARC record (one misplaced at the apex), and no STARTTLS.
    (
        "nodmarc.test",
        include_str!("../fixtures/demo/nodmarc.test.zone"),
    ),
    // An include that ends in +all, and a certificate for another name.
    (
        "spfplusall.test",
        include_str!("../fixtures/demo/spfplusall.test.zone"),
    ),
    // Receives no mail, and says so (null MX, SPF -all).
    (
        "nullmx.test",
        include_str!("../fixtures/demo/nullmx.test.zone"),
    ),
];

/// What an MX host of the demo offers after `EHLO`.
#[derive(Clone, Copy, Debug)]
pub enum Offer {
    /// STARTTLS with a valid certificate for its name.
    Valid,
    /// STARTTLS with a certificate that expired a week ago.
    Expired,
    /// STARTTLS with a valid certificate for another name.
    WrongName(&'static str),
    /// No STARTTLS at all.
    Plaintext,
}

/// The MX hosts: name, last octet of its 127.0.50.0/24 address (as in the zones), and its TLS.
pub const HOSTS: &[(&str, u8, Offer)] = &[
    ("mx1.good.test", 11, Offer::Valid),
    ("mx2.good.test", 12, Offer::Valid),
    ("mx1.broken.test", 21, Offer::Expired),
    ("mx.nodmarc.test", 31, Offer::Plaintext),
    (
        "mx.spfplusall.test",
        41,
        Offer::WrongName("shared.hosting.example"),
    ),
];

/// The MTA-STS policy hosts: domain, last octet of the address of `mta-sts.<domain>` (as in the
/// zones), and the policy served.
pub const POLICIES: &[(&str, u8, &str)] = &[
    (
        "good.test",
        13,
        "version: STSv1\r\nmode: enforce\r\nmx: mx1.good.test\r\nmx: mx2.good.test\r\nmax_age: 1209600\r\n",
    ),
    // Enforce, for a host that is not an MX of the domain, while an MX's certificate expired.
    (
        "broken.test",
        23,
        "version: STSv1\r\nmode: enforce\r\nmx: mail.broken.test\r\nmax_age: 86400\r\n",
    ),
];

/// The address of a demo MX host.
pub fn host_ip(octet: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 50, octet))
}

/// The running demo: the DNS lab, and the SMTP listeners if they could be started.
pub struct Demo {
    lab: Lab,
    smtp: Option<Smtp>,
}

struct Smtp {
    port: u16,
    roots: rustls::RootCertStore,
    _listeners: Vec<SmtpListener>,
    /// The MTA-STS policy hosts, on one port of their own.
    https: Option<(u16, Vec<HttpsListener>)>,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error("the demo CA: {0}")]
    Ca(String),
}

/// Starts the demo: the DNS lab on an ephemeral loopback port, and the MX hosts' listeners on
/// one shared ephemeral port (the probe uses one port for every host).
pub async fn start() -> Result<Demo, DemoError> {
    let ca = TestCa::root("mailcheck demo CA");
    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(ca.pem().as_bytes())
            .map_err(|e| DemoError::Ca(e.to_string()))?;
        roots.add(der).map_err(|e| DemoError::Ca(e.to_string()))?;
    }
    let mut lab = ZONES
        .iter()
        .fold(Lab::builder(), |b, (origin, text)| b.zone(origin, text));
    let mut specs: Vec<(IpAddr, SmtpSpec)> = Vec::new();
    for &(name, octet, offer) in HOSTS {
        let (spec, leaf) = spec(&ca, name, offer);
        // The exemplary domain (signed, `;@sign valid`) publishes DANE-EE records: the key
        // each host presents, and the next key, ready for a rollover.
        if name.ends_with(".good.test")
            && let Some(leaf) = leaf
        {
            let next = rcgen::KeyPair::generate().map_err(|e| DemoError::Ca(e.to_string()))?;
            for spki in [
                spki(&leaf)?,
                rcgen::PublicKeyData::subject_public_key_info(&next),
            ] {
                lab = lab.record(
                    &format!("_25._tcp.{name}"),
                    LabRecord::Tlsa {
                        usage: 3,
                        selector: 1,
                        matching: 1,
                        data: ring::digest::digest(&ring::digest::SHA256, &spki)
                            .as_ref()
                            .to_vec(),
                    },
                );
            }
        }
        specs.push((host_ip(octet), spec));
    }
    let lab = lab.start().await?;
    let https = serve_policies(&ca).await;
    let smtp = listen(&specs).await.map(|(port, listeners)| Smtp {
        port,
        roots,
        _listeners: listeners,
        https,
    });
    Ok(Demo { lab, smtp })
}

/// The DER `SubjectPublicKeyInfo` of a certificate.
fn spki(der: &[u8]) -> Result<Vec<u8>, DemoError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| DemoError::Ca(e.to_string()))?;
    Ok(cert.public_key().raw.to_vec())
}

/// What a host offers, and the leaf certificate it presents.
fn spec(ca: &TestCa, name: &str, offer: Offer) -> (SmtpSpec, Option<Vec<u8>>) {
    // Like a typical ACME certificate: issued a month ago, valid for two more.
    let current = Validity::Around {
        start: 30 * DAY,
        end: 60 * DAY,
    };
    let cert = |names: &[&str], validity| ca.leaf(names, validity, true);
    let cert = match offer {
        Offer::Valid => Some(cert(&[name], current)),
        Offer::Expired => Some(cert(
            &[name],
            Validity::Around {
                start: 97 * DAY,
                end: -7 * DAY,
            },
        )),
        Offer::WrongName(other) => Some(cert(&[other], current)),
        Offer::Plaintext => None,
    };
    let leaf = cert.as_ref().map(|c| c.chain[0].to_vec());
    (SmtpSpec::new(name, cert.map(|c| c.server_config())), leaf)
}

/// Binds every host on one port; a few tries, as another program may hold the port on one of
/// the addresses. `None` when the addresses cannot be bound at all.
async fn listen(specs: &[(IpAddr, SmtpSpec)]) -> Option<(u16, Vec<SmtpListener>)> {
    let ((first_ip, first), rest) = specs.split_first()?;
    for _ in 0..5 {
        let Ok(anchor) = SmtpListener::start(*first_ip, 0, first.clone()).await else {
            return None;
        };
        let port = anchor.addr().port();
        let mut listeners = vec![anchor];
        for (ip, spec) in rest {
            match SmtpListener::start(*ip, port, spec.clone()).await {
                Ok(l) => listeners.push(l),
                Err(_) => break,
            }
        }
        if listeners.len() == specs.len() {
            return Some((port, listeners));
        }
    }
    None
}

/// Starts the MTA-STS policy hosts on one shared port; `None` when they cannot be bound.
async fn serve_policies(ca: &TestCa) -> Option<(u16, Vec<HttpsListener>)> {
    let current = Validity::Around {
        start: 30 * DAY,
        end: 60 * DAY,
    };
    let mut port = 0;
    let mut listeners = Vec::new();
    for &(domain, octet, policy) in POLICIES {
        let name = format!("mta-sts.{domain}");
        let tls = ca.leaf(&[&name], current, true).server_config();
        let routes = [("/.well-known/mta-sts.txt", Response::text(policy))];
        let listener = HttpsListener::start(host_ip(octet), port, tls, routes)
            .await
            .ok()?;
        port = listener.addr().port();
        listeners.push(listener);
    }
    Some((port, listeners))
}

impl Demo {
    /// The DNS lab's address.
    pub fn dns_addr(&self) -> SocketAddr {
        self.lab.addr()
    }

    /// Whether the MX hosts are listening (false: DNS-only demo).
    pub fn smtp_port(&self) -> Option<u16> {
        self.smtp.as_ref().map(|s| s.port)
    }

    /// The configuration to audit with: the lab as the only resolver, the probe pointed at the
    /// demo's listeners and trusting the demo CA alone, short SMTP timeouts (the listeners are
    /// local), MX013 off (loopback MX addresses are the point of a demo, not a finding) and the
    /// blocklists off (they are remote).
    pub fn configure(&self, config: &Config) -> Config {
        let mut c = config.clone();
        c.resolver.servers = Some(vec![self.lab.addr()]);
        // The lab signs its own root; IANA's keys cannot validate it.
        if c.resolver.dnssec.is_some() {
            c.resolver.dnssec = Some(TrustAnchor::Text {
                label: "the demo lab's root key".into(),
                text: self.lab.trust_anchor(),
            });
        }
        c.dnsbl.defaults = false;
        c.smtp.policy.allow_private = true;
        match &self.smtp {
            Some(smtp) if c.smtp.enabled => {
                c.smtp.port = smtp.port;
                c.smtp.roots = Arc::new(smtp.roots.clone());
                c.smtp.trust = TrustSource::Demo;
                c.smtp.connect_timeout = Duration::from_secs(2);
                c.smtp.greeting_timeout = Duration::from_secs(5);
                c.smtp.command_timeout = Duration::from_secs(5);
            }
            _ => c.smtp.enabled = false,
        }
        match self
            .smtp
            .as_ref()
            .and_then(|s| s.https.as_ref().map(|h| (s, h)))
        {
            Some((smtp, (port, _))) if c.https.enabled => {
                c.https.port = *port;
                c.https.roots = Arc::new(smtp.roots.clone());
                c.https.policy.allow_private = true;
                c.https.timeout = Duration::from_secs(5);
            }
            _ => c.https.enabled = false,
        }
        // Switched off by name, so the report says the demo did it (not `--no-blocklists`).
        for code in ["MX013", "BL"] {
            if let Ok(selector) = Selector::parse(code, "demo") {
                c.selection.ignore.push(selector);
            }
        }
        c
    }
}
