//! The SMTP/STARTTLS probe against real listeners with real TLS on loopback. Each test takes
//! its own 127.0.N.0/24 block; every host of a test listens on the same port. The scenarios
//! shared with `certs` (certificate verdicts) and `faults` (misbehaving servers) live here.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use mailcheck::lab::pki::{DAY, TestCa, Validity};
use mailcheck::lab::smtp::{Greeting, SmtpListener, SmtpSpec};
use mailcheck::lab::{Lab, fixture_dir};
use serde_json::Value;

use crate::support::{Run, all_codes, audit_json_with, status};

/// One simulated MX host: its label, last octet, and what listens there (`None`: nothing).
pub(crate) struct Host {
    label: &'static str,
    octet: u8,
    spec: Option<SmtpSpec>,
}

pub(crate) fn host(label: &'static str, octet: u8, spec: Option<SmtpSpec>) -> Host {
    Host { label, octet, spec }
}

pub(crate) struct Scenario {
    pub(crate) lab: Lab,
    listeners: Vec<(String, SmtpListener)>,
    pub(crate) port: u16,
    pub(crate) ca_file: tempfile::NamedTempFile,
    /// Holds the port on the block; nothing points at it.
    _anchor: tokio::net::TcpListener,
}

impl Scenario {
    /// Starts the DNS lab with `domain`'s zone (one MX per host, preferences 10, 20, …) and the
    /// listeners, all in 127.0.`block`.0/24.
    pub(crate) async fn start(block: u8, domain: &str, hosts: Vec<Host>, ca_pem: &str) -> Self {
        let ip = |octet| IpAddr::V4(Ipv4Addr::new(127, 0, block, octet));
        let anchor = tokio::net::TcpListener::bind((ip(250), 0)).await.unwrap();
        let port = anchor.local_addr().unwrap().port();
        let mut zone = format!(
            "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n\
             @ 300 IN TXT \"v=spf1 mx -all\"\n\
             _dmarc 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}\"\n",
        );
        // A DKIM key (the good fixture's), so a well-configured scenario earns an A.
        zone.push_str(&dkim_key_line());
        let mut listeners = Vec::new();
        let mut labels: Vec<&str> = Vec::new();
        for (i, h) in hosts.into_iter().enumerate() {
            if !labels.contains(&h.label) {
                labels.push(h.label);
                let _ = writeln!(zone, "@ 300 IN MX {} {}", 10 * (i + 1), h.label);
                let _ = writeln!(zone, "{} 300 IN TXT \"v=spf1 a -all\"", h.label);
            }
            let _ = writeln!(zone, "{} 300 IN A {}", h.label, ip(h.octet));
            if let Some(spec) = h.spec {
                let l = SmtpListener::start(ip(h.octet), port, spec).await.unwrap();
                listeners.push((format!("{}.{domain} {}", h.label, ip(h.octet)), l));
            }
        }
        let lab = Lab::builder()
            .zone_dir(&fixture_dir())
            .unwrap()
            .zone(domain, &zone)
            .start()
            .await
            .unwrap();
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca_pem).unwrap();
        Self {
            lab,
            listeners,
            port,
            ca_file,
            _anchor: anchor,
        }
    }

    /// The options that point the probe at this scenario's listeners and trust its CA.
    pub(crate) fn probe_args(&self) -> Vec<String> {
        let ca = self.ca_file.path().to_str().unwrap();
        [
            "--allow-private",
            "--no-blocklists",
            "--smtp-port",
            &self.port.to_string(),
            "--ca-file",
            ca,
            "--helo-name",
            "probe.lab.test",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    pub(crate) async fn audit(&self, domains: &[&str], extra: &[&str]) -> (Run, Value) {
        let probe = self.probe_args();
        let mut args: Vec<&str> = probe.iter().map(String::as_str).collect();
        if !extra.contains(&"--smtp-timeout") {
            args.extend_from_slice(&["--smtp-timeout", "3"]);
        }
        args.extend_from_slice(extra);
        let start = Instant::now();
        let out = audit_json_with(&self.lab, domains, &args).await;
        assert!(start.elapsed() < Duration::from_secs(20), "bounded in time");
        out
    }

    pub(crate) fn listener(&self, name: &str) -> &SmtpListener {
        &self
            .listeners
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .unwrap()
            .1
    }
}

/// The `selector1._domainkey` line of the good fixture.
fn dkim_key_line() -> String {
    let good = std::fs::read_to_string(fixture_dir().join("good.test.zone")).unwrap();
    let line = good
        .lines()
        .find(|l| l.starts_with("selector1._domainkey"))
        .unwrap();
    format!("{line}\n")
}

pub(crate) fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

pub(crate) fn has(r: &Value, code: &str) -> bool {
    !findings(r, code).is_empty()
}

pub(crate) fn reason<'a>(r: &'a Value, code: &str) -> &'a str {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["reason"].as_str())
        .unwrap_or_default()
}

#[allow(clippy::unnecessary_wraps)] // it fills `SmtpSpec::tls`, where `None` means no STARTTLS
pub(crate) fn tls(ca: &TestCa, names: &[&str]) -> Option<std::sync::Arc<rustls::ServerConfig>> {
    Some(ca.leaf(names, Validity::Long, true).server_config())
}

const TLS_RULES: &[&str] = &[
    "TLS001", "TLS002", "TLS003", "TLS004", "TLS005", "TLS006", "TLS007", "TLS008", "TLS009",
    "TLS010", "TLS012", "TLS013", "TLS014",
];

#[tokio::test]
async fn good_tls_on_two_hosts_one_connection_each() {
    let root = TestCa::root("Lab Root");
    let ca = root.intermediate("Lab Intermediate");
    let d = "smtpgood.test";
    let s = Scenario::start(
        10,
        d,
        vec![
            host(
                "mx1",
                1,
                Some(SmtpSpec::new(
                    "mx1.smtpgood.test",
                    tls(&ca, &["mx1.smtpgood.test"]),
                )),
            ),
            host(
                "mx2",
                2,
                Some(SmtpSpec::new(
                    "mx2.smtpgood.test",
                    tls(&ca, &["mx2.smtpgood.test"]),
                )),
            ),
        ],
        root.pem(),
    )
    .await;
    let start = Instant::now();
    // The same domain twice (spelled differently) is audited once: one connection per
    // (address, MX name).
    let (run, doc) = s.audit(&[d, "SMTPGOOD.test."], &[]).await;
    let elapsed = start.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = &doc["results"][0];
    assert_eq!(r["score"]["grade"], "A", "{:?}", all_codes(r));
    for code in TLS_RULES
        .iter()
        .filter(|c| !["TLS010", "TLS012"].contains(c))
    {
        assert!(!has(r, code), "{code}");
    }
    for code in ["TLS001", "TLS002", "TLS003", "TLS005", "TLS008", "TLS012"] {
        assert_eq!(status(r, code), "pass", "{code}");
    }
    let p = &r["facts"]["smtp"]["probes"][0];
    assert_eq!(p["host"], "mx1.smtpgood.test");
    assert_eq!(p["greeting"]["code"], 220);
    assert_eq!(p["tls"]["version"], "TLSv1_3");
    assert!(p["tls"]["cipher"].as_str().unwrap().starts_with("TLS13_"));
    assert_eq!(p["tls"]["verdict"]["result"], "trusted");
    assert_eq!(p["tls"]["name_matches"], true);
    assert_eq!(p["tls"]["chain"].as_array().unwrap().len(), 2);
    assert_eq!(p["tls"]["chain"][0]["subject"], "CN=mx1.smtpgood.test");
    assert_eq!(p["tls"]["chain"][0]["key_type"], "EC");
    assert_eq!(p["tls"]["chain"][0]["key_bits"], 256);
    assert_eq!(p["tls"]["chain"][0]["sans"][0], "mx1.smtpgood.test");
    // Capabilities over TLS replace those before it.
    let pre: Vec<&str> = p["ehlo"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let post: Vec<&str> = p["ehlo_tls"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(pre.contains(&"STARTTLS") && !pre.contains(&"REQUIRETLS"));
    assert!(post.contains(&"REQUIRETLS") && !post.contains(&"STARTTLS"));
    let counted: Vec<&str> = p["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        counted,
        ["PIPELINING", "SIZE", "8BITMIME", "REQUIRETLS", "SMTPUTF8"],
        "only the capabilities offered over TLS"
    );
    assert_eq!(
        p["tls"]["lifetime_left_percent"], 97,
        "1975 to 4096, seen in 2026"
    );
    for (name, l) in &s.listeners {
        assert_eq!(l.connections(), 1, "{name}: one connection per run");
        assert_eq!(l.handshakes(), 1, "{name}");
        assert_eq!(l.early_talkers(), 0, "{name}: talked before the greeting");
        assert_eq!(l.transactions(), 0, "{name}: sent MAIL or RCPT");
        assert_eq!(
            l.ehlo_names(),
            ["probe.lab.test", "probe.lab.test"],
            "{name}: EHLO with --helo-name, before and over TLS"
        );
    }
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn metadata_addresses_are_never_contacted() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone(
            "metadata.test",
            "@ 300 IN SOA ns.lab. h.lab. 1 3600 600 86400 300\n@ 300 IN MX 10 mx\n\
             mx 300 IN A 169.254.169.254\nmx 300 IN AAAA ::ffff:169.254.169.254\n\
             @ 300 IN TXT \"v=spf1 -all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=reject\"\n",
        )
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    let (_, doc) = audit_json_with(
        &lab,
        &["metadata.test"],
        &[
            "--allow-private",
            "--no-blocklists",
            "--smtp-port",
            "80",
            "--smtp-timeout",
            "5",
        ],
    )
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "nothing was waited for"
    );
    let r = &doc["results"][0];
    let probes = r["facts"]["smtp"]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2);
    for p in probes {
        assert_eq!(p["skipped"], "metadata", "{p}");
        assert!(p["connect_ms"].is_null(), "{p}");
    }
    assert_eq!(findings(r, "TLS014").len(), 2);
    assert_eq!(findings(r, "MX012").len(), 2);
    assert_eq!(
        findings(r, "MX012")[0]["severity"],
        "warning",
        "even under --allow-private"
    );
    assert_eq!(status(r, "TLS001"), "unknown");
}

#[tokio::test]
async fn probes_are_shared_by_the_domains_of_a_run() {
    let root = TestCa::root("Lab Root");
    let d = "smtp29.test";
    let spec = SmtpSpec::new("mx.smtp29.test", tls(&root, &["mx.smtp29.test"]));
    let s = Scenario::start(29, d, vec![host("mx", 1, Some(spec))], root.pem()).await;
    // A second lab on the same listener: another domain whose MX is the same host.
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone(
            d,
            "@ 300 IN SOA ns.lab. h.lab. 1 3600 600 86400 300\n@ 300 IN MX 10 mx\n\
             mx 300 IN A 127.0.29.1\n",
        )
        .zone(
            "other29.test",
            "@ 300 IN SOA ns.lab. h.lab. 1 3600 600 86400 300\n@ 300 IN MX 10 mx.smtp29.test.\n",
        )
        .start()
        .await
        .unwrap();
    let probe = s.probe_args();
    let args: Vec<&str> = probe.iter().map(String::as_str).collect();
    let (_, doc) = audit_json_with(&lab, &[d, "other29.test"], &args).await;
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(
            r["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"],
            "trusted"
        );
    }
    assert_eq!(
        s.listener("mx.").connections(),
        1,
        "one connection per (address, MX name) per run"
    );
}

#[tokio::test]
async fn trust_sources() {
    let root = TestCa::root("Lab Root");
    let d = "smtp30.test";
    let spec = SmtpSpec::new("mx.smtp30.test", tls(&root, &["mx.smtp30.test"]));
    let s = Scenario::start(30, d, vec![host("mx", 1, Some(spec))], root.pem()).await;
    let port = s.port.to_string();
    let ca = s.ca_file.path().to_str().unwrap().to_owned();
    let resolver = s.lab.addr().to_string();
    let base = [
        "--resolver",
        &resolver,
        "--format",
        "json",
        "--allow-private",
        "--no-blocklists",
        "--smtp-port",
        &port,
        "--smtp-timeout",
        "3",
    ];
    let verdict = |run: &Run| -> String {
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        doc["results"][0]["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Mozilla's roots alone do not know the lab CA.
    let run = crate::support::mailcheck(&[&base[..], &[d]].concat()).await;
    assert_eq!(verdict(&run), "unknown-issuer");
    // The system store honours SSL_CERT_FILE.
    let run = crate::support::mailcheck_with(
        &[&base[..], &["--trust", "system", d]].concat(),
        &[("SSL_CERT_FILE", &ca)],
    )
    .await;
    assert_eq!(verdict(&run), "trusted", "{}", run.stderr);
    // A CA file that is not there is a usage error, before any I/O.
    let run =
        crate::support::mailcheck(&[&base[..], &["--ca-file", "/nonexistent/ca.pem", d]].concat())
            .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--ca-file /nonexistent/ca.pem"),
        "{}",
        run.stderr
    );
    assert_eq!(s.listener("mx.").connections(), 2);
}

#[tokio::test]
async fn table_report_of_probed_hosts_fits_80_columns() {
    let root = TestCa::root("Lab Root");
    let d = "smtp31.test";
    let mut refusing = SmtpSpec::new("mx3.smtp31.test\u{1b}[2J", None);
    refusing.greeting = Greeting::Code(554);
    let expired = root.leaf(
        &["mx2.smtp31.test"],
        Validity::Around {
            start: 90 * DAY,
            end: -DAY,
        },
        true,
    );
    let s = Scenario::start(
        31,
        d,
        vec![
            host(
                "mx1",
                1,
                Some(SmtpSpec::new(
                    "mx1.smtp31.test",
                    tls(&root, &["mx1.smtp31.test"]),
                )),
            ),
            host(
                "mx2",
                2,
                Some(SmtpSpec::new(
                    "mx2.smtp31.test",
                    Some(expired.server_config()),
                )),
            ),
            host("mx3", 3, Some(refusing)),
        ],
        root.pem(),
    )
    .await;
    let resolver = s.lab.addr().to_string();
    let probe = s.probe_args();
    let mut args: Vec<&str> = probe.iter().map(String::as_str).collect();
    args.extend_from_slice(&["--resolver", &resolver, "--smtp-timeout", "3", d]);
    let run = crate::support::mailcheck(&args).await;
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    assert!(
        !run.stdout.contains('\u{1b}'),
        "a banner's escape reached the terminal"
    );
    let flat = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("127.0.31.1"), "{}", run.stdout);
    assert!(flat.contains("1.3"), "{}", run.stdout);
    assert!(flat.contains("expired ⚠"), "{}", run.stdout);
    assert!(flat.contains("⚠ TLS003"), "{}", run.stdout);
    assert!(flat.contains("⚠ TLS010"), "{}", run.stdout);
    assert!(
        flat.contains("\\u{1b}[2J"),
        "the banner is shown escaped: {}",
        run.stdout
    );
}

/// A one-host scenario in 127.0.`block`.0/24, audited; the listener and the domain's result.
pub(crate) async fn one_host(block: u8, spec: SmtpSpec, ca: &TestCa) -> (Scenario, Value) {
    let d = format!("smtp{block}.test");
    let s = Scenario::start(block, &d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let (_, doc) = s.audit(&[&d], &[]).await;
    (s, doc["results"][0].clone())
}
