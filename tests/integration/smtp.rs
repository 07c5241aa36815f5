//! The SMTP/STARTTLS probe against real listeners with real TLS on loopback. Each test takes
//! its own 127.0.N.0/24 block; every host of a test listens on the same port.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use mailcheck::lab::pki::{DAY, ServerCert, TestCa, Validity};
use mailcheck::lab::smtp::{Greeting, SmtpListener, SmtpSpec, StarttlsFault};
use mailcheck::lab::{Lab, fixture_dir};
use serde_json::Value;

use crate::support::{Run, all_codes, audit_json_with, status};

/// One simulated MX host: its label, last octet, and what listens there (`None`: nothing).
struct Host {
    label: &'static str,
    octet: u8,
    spec: Option<SmtpSpec>,
}

fn host(label: &'static str, octet: u8, spec: Option<SmtpSpec>) -> Host {
    Host { label, octet, spec }
}

struct Scenario {
    lab: Lab,
    listeners: Vec<(String, SmtpListener)>,
    port: u16,
    ca_file: tempfile::NamedTempFile,
    /// Holds the port on the block; nothing points at it.
    _anchor: tokio::net::TcpListener,
}

impl Scenario {
    /// Starts the DNS lab with `domain`'s zone (one MX per host, preferences 10, 20, …) and the
    /// listeners, all in 127.0.`block`.0/24.
    async fn start(block: u8, domain: &str, hosts: Vec<Host>, ca_pem: &str) -> Self {
        let ip = |octet| IpAddr::V4(Ipv4Addr::new(127, 0, block, octet));
        let anchor = tokio::net::TcpListener::bind((ip(250), 0)).await.unwrap();
        let port = anchor.local_addr().unwrap().port();
        let mut zone = String::from(
            "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n\
             @ 300 IN TXT \"v=spf1 mx -all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=reject\"\n",
        );
        let mut listeners = Vec::new();
        let mut labels: Vec<&str> = Vec::new();
        for (i, h) in hosts.into_iter().enumerate() {
            if !labels.contains(&h.label) {
                labels.push(h.label);
                let _ = writeln!(zone, "@ 300 IN MX {} {}", 10 * (i + 1), h.label);
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

    async fn audit(&self, domains: &[&str], extra: &[&str]) -> (Run, Value) {
        let port = self.port.to_string();
        let ca = self.ca_file.path().to_str().unwrap().to_owned();
        let mut args = vec![
            "--allow-private",
            "--no-blocklists",
            "--smtp-port",
            &port,
            "--ca-file",
            &ca,
            "--helo-name",
            "probe.lab.test",
        ];
        if !extra.contains(&"--smtp-timeout") {
            args.extend_from_slice(&["--smtp-timeout", "3"]);
        }
        args.extend_from_slice(extra);
        let start = Instant::now();
        let out = audit_json_with(&self.lab, domains, &args).await;
        assert!(start.elapsed() < Duration::from_secs(20), "bounded in time");
        out
    }

    fn listener(&self, name: &str) -> &SmtpListener {
        &self
            .listeners
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .unwrap()
            .1
    }
}

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn has(r: &Value, code: &str) -> bool {
    !findings(r, code).is_empty()
}

fn reason<'a>(r: &'a Value, code: &str) -> &'a str {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["reason"].as_str())
        .unwrap_or_default()
}

#[allow(clippy::unnecessary_wraps)] // it fills `SmtpSpec::tls`, where `None` means no STARTTLS
fn tls(ca: &TestCa, names: &[&str]) -> Option<std::sync::Arc<rustls::ServerConfig>> {
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

async fn one_host(block: u8, spec: SmtpSpec, ca: &TestCa) -> (Scenario, Value) {
    let d = format!("smtp{block}.test");
    let s = Scenario::start(block, &d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let (_, doc) = s.audit(&[&d], &[]).await;
    (s, doc["results"][0].clone())
}

#[tokio::test]
async fn no_starttls() {
    let ca = TestCa::root("Lab Root");
    let (s, r) = one_host(11, SmtpSpec::new("mail.elsewhere.test", None), &ca).await;
    assert!(has(&r, "TLS001"));
    assert_eq!(findings(&r, "TLS001")[0]["severity"], "warning");
    // "No STARTTLS" is not a certificate problem.
    for code in ["TLS002", "TLS003", "TLS005", "TLS007", "TLS008"] {
        assert_eq!(status(&r, code), "not-applicable", "{code}");
    }
    assert_eq!(s.listener("mx.").connections(), 1);
    assert!(r["facts"]["smtp"]["probes"][0]["tls"].is_null());
}

#[tokio::test]
async fn self_signed_certificate() {
    let ca = TestCa::root("Lab Root");
    let cert = ServerCert::self_signed(&["mx.smtp12.test"]);
    let (_, r) = one_host(
        12,
        SmtpSpec::new("mx.smtp12.test", Some(cert.server_config())),
        &ca,
    )
    .await;
    assert!(has(&r, "TLS005"), "{:?}", all_codes(&r));
    assert!(!has(&r, "TLS006") && !has(&r, "TLS007") && !has(&r, "TLS008"));
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"],
        "unknown-issuer"
    );
    // The handshake went on: the EHLO over TLS was read.
    assert_eq!(r["facts"]["smtp"]["probes"][0]["ehlo_tls"]["code"], 250);
}

#[tokio::test]
async fn expired_certificate() {
    let ca = TestCa::root("Lab Root");
    let cert = ca.leaf(
        &["mx.smtp13.test"],
        Validity::Around {
            start: 90 * DAY,
            end: -DAY,
        },
        true,
    );
    let (_, r) = one_host(
        13,
        SmtpSpec::new("mx.smtp13.test", Some(cert.server_config())),
        &ca,
    )
    .await;
    assert!(has(&r, "TLS003"), "{:?}", all_codes(&r));
    assert!(
        findings(&r, "TLS003")[0]["message"]
            .as_str()
            .unwrap()
            .contains("expired on")
    );
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"],
        "expired"
    );
    assert!(!has(&r, "TLS005") && !has(&r, "TLS008"));
}

#[tokio::test]
async fn certificate_expiring_soon() {
    let ca = TestCa::root("Lab Root");
    let cert = ca.leaf(
        &["mx.smtp14.test"],
        Validity::Around {
            start: 80 * DAY,
            end: 2 * DAY,
        },
        true,
    );
    let (_, r) = one_host(
        14,
        SmtpSpec::new("mx.smtp14.test", Some(cert.server_config())),
        &ca,
    )
    .await;
    assert!(has(&r, "TLS004"), "{:?}", all_codes(&r));
    assert!(!has(&r, "TLS003"));
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["tls"]["lifetime_left_percent"], 2,
        "2 of 82 days"
    );
    // A short-lived certificate with the same two days left is fine: a third of 6 days.
    let ca2 = TestCa::root("Lab Root 2");
    let cert = ca2.leaf(
        &["mx.smtp15.test"],
        Validity::Around {
            start: 4 * DAY,
            end: 2 * DAY + 3600,
        },
        true,
    );
    let (_, r) = one_host(
        15,
        SmtpSpec::new("mx.smtp15.test", Some(cert.server_config())),
        &ca2,
    )
    .await;
    assert_eq!(status(&r, "TLS004"), "pass", "{:?}", all_codes(&r));
}

#[tokio::test]
async fn wrong_name() {
    let ca = TestCa::root("Lab Root");
    let (_, r) = one_host(
        16,
        SmtpSpec::new("mx.smtp16.test", tls(&ca, &["other.example"])),
        &ca,
    )
    .await;
    assert!(has(&r, "TLS008"), "{:?}", all_codes(&r));
    assert!(
        findings(&r, "TLS008")[0]["message"]
            .as_str()
            .unwrap()
            .contains("other.example")
    );
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"],
        "name-mismatch"
    );
    assert!(!has(&r, "TLS005") && !has(&r, "TLS006"));
}

#[tokio::test]
async fn missing_intermediate() {
    let root = TestCa::root("Lab Root");
    let ca = root.intermediate("Lab Intermediate");
    let cert = ca.leaf(&["mx.smtp17.test"], Validity::Long, false);
    let (_, r) = one_host(
        17,
        SmtpSpec::new("mx.smtp17.test", Some(cert.server_config())),
        &root,
    )
    .await;
    assert!(has(&r, "TLS007"), "{:?}", all_codes(&r));
    assert!(
        !has(&r, "TLS006") && !has(&r, "TLS005"),
        "an incomplete chain is not an unknown root"
    );
}

#[tokio::test]
async fn unknown_root() {
    let trusted = TestCa::root("Lab Root");
    let other = TestCa::root("Someone Else's Root").intermediate("Their Intermediate");
    let cert = other.leaf(&["mx.smtp18.test"], Validity::Long, true);
    let (_, r) = one_host(
        18,
        SmtpSpec::new("mx.smtp18.test", Some(cert.server_config())),
        &trusted,
    )
    .await;
    assert!(has(&r, "TLS006"), "{:?}", all_codes(&r));
    assert!(!has(&r, "TLS007") && !has(&r, "TLS005"));
}

#[tokio::test]
async fn sha1_signature() {
    let dir = fixture_dir().join("../pki");
    let cert = ServerCert::from_pem(
        &std::fs::read_to_string(dir.join("sha1.pem")).unwrap(),
        &std::fs::read_to_string(dir.join("sha1.key")).unwrap(),
    );
    let ca = TestCa::root("Lab Root");
    let (_, r) = one_host(
        19,
        SmtpSpec::new("mx.smtp19.test", Some(cert.server_config())),
        &ca,
    )
    .await;
    assert!(has(&r, "TLS009"), "{:?}", all_codes(&r));
    assert!(
        findings(&r, "TLS009")[0]["message"]
            .as_str()
            .unwrap()
            .contains("sha1")
    );
}

#[tokio::test]
async fn delayed_greeting_is_waited_for() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp20.test", tls(&ca, &["mx.smtp20.test"]));
    spec.greeting = Greeting::Delayed(Duration::from_millis(5_300));
    let d = "smtp20.test";
    let s = Scenario::start(20, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let (_, doc) = s.audit(&[d], &["--smtp-timeout", "8"]).await;
    let r = &doc["results"][0];
    assert!(has(r, "TLS011"), "slow, not broken: {:?}", all_codes(r));
    assert_eq!(findings(r, "TLS011")[0]["severity"], "info");
    assert_eq!(status(r, "TLS001"), "pass");
    assert_eq!(
        s.listener("mx.").early_talkers(),
        0,
        "nothing sent before the greeting"
    );
}

#[tokio::test]
async fn multi_line_greeting_waits_for_the_last_line() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp21.test", tls(&ca, &["mx.smtp21.test"]));
    spec.greeting = Greeting::MultiLine(Duration::from_millis(400));
    let (s, r) = one_host(21, spec, &ca).await;
    let g = &r["facts"]["smtp"]["probes"][0]["greeting"];
    assert_eq!(g["lines"].as_array().unwrap().len(), 3, "{g}");
    assert_eq!(
        s.listener("mx.").early_talkers(),
        0,
        "spoke before the final 220 line"
    );
    assert_eq!(status(&r, "TLS001"), "pass");
}

#[tokio::test]
async fn never_greets_is_unknown_never_exit_3() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp22.test", None);
    spec.greeting = Greeting::Never;
    let d = "smtp22.test";
    let s = Scenario::start(22, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let start = Instant::now();
    let (run, doc) = s.audit(&[d], &["--smtp-timeout", "1"]).await;
    assert!(start.elapsed() < Duration::from_secs(8));
    let r = &doc["results"][0];
    assert_ne!(
        run.code, 3,
        "an SMTP server that does not answer is not a DNS failure"
    );
    assert_eq!(status(r, "TLS001"), "unknown");
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "TLS001")
        .unwrap();
    assert_eq!(check["cause"], "network");
    assert!(
        reason(r, "TLS001").contains("no greeting"),
        "{}",
        reason(r, "TLS001")
    );
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["error"]["stage"],
        "greeting"
    );
}

#[tokio::test]
async fn greeting_554() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp23.test", tls(&ca, &["mx.smtp23.test"]));
    spec.greeting = Greeting::Code(554);
    let (_, r) = one_host(23, spec, &ca).await;
    assert!(has(&r, "TLS010"), "{:?}", all_codes(&r));
    assert!(
        findings(&r, "TLS010")[0]["message"]
            .as_str()
            .unwrap()
            .contains("refuses this client")
    );
    assert_eq!(status(&r, "TLS001"), "unknown");
    assert!(reason(&r, "TLS001").contains("554"));
    assert!(!has(&r, "TLS001"));
}

#[tokio::test]
async fn connection_refused_everywhere() {
    let ca = TestCa::root("Lab Root");
    let d = "smtp24.test";
    let s = Scenario::start(
        24,
        d,
        vec![host("mx1", 1, None), host("mx2", 2, None)],
        ca.pem(),
    )
    .await;
    let (run, doc) = s.audit(&[d], &[]).await;
    let r = &doc["results"][0];
    assert!(has(r, "TLS012"), "{:?}", all_codes(r));
    assert_eq!(findings(r, "TLS012")[0]["severity"], "error");
    assert_eq!(run.code, 1);
    assert_eq!(r["facts"]["smtp"]["probes"][0]["error"]["kind"], "refused");
}

#[tokio::test]
async fn closes_during_starttls() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp25.test", tls(&ca, &["mx.smtp25.test"]));
    spec.fault = Some(StarttlsFault::Close);
    let (_, r) = one_host(25, spec, &ca).await;
    assert!(has(&r, "TLS002"), "{:?}", all_codes(&r));
    assert_eq!(status(&r, "TLS001"), "pass", "STARTTLS was offered");
}

#[tokio::test]
async fn bytes_injected_after_starttls() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp26.test", tls(&ca, &["mx.smtp26.test"]));
    spec.fault = Some(StarttlsFault::Inject);
    let (s, r) = one_host(26, spec, &ca).await;
    assert!(has(&r, "TLS013"), "{:?}", all_codes(&r));
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["error"]["kind"],
        "injection"
    );
    assert!(
        r["facts"]["smtp"]["probes"][0]["tls"].is_null(),
        "no handshake after injection"
    );
    assert_eq!(s.listener("mx.").handshakes(), 0);
}

#[tokio::test]
async fn different_certificates_on_one_host() {
    let ca = TestCa::root("Lab Root");
    let d = "smtp27.test";
    let s = Scenario::start(
        27,
        d,
        vec![
            host(
                "mx",
                1,
                Some(SmtpSpec::new(
                    "mx.smtp27.test",
                    tls(&ca, &["mx.smtp27.test"]),
                )),
            ),
            host(
                "mx",
                2,
                Some(SmtpSpec::new(
                    "mx.smtp27.test",
                    tls(&ca, &["mx.smtp27.test"]),
                )),
            ),
        ],
        ca.pem(),
    )
    .await;
    let (_, doc) = s.audit(&[d], &[]).await;
    let r = &doc["results"][0];
    assert!(has(r, "TLS015"), "{:?}", all_codes(r));
    assert_eq!(findings(r, "TLS015")[0]["severity"], "info");
    assert_eq!(r["facts"]["smtp"]["probes"].as_array().unwrap().len(), 2);
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
async fn legacy_tls_only_is_not_no_tls() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp28.test", tls(&ca, &["mx.smtp28.test"]));
    spec.fault = Some(StarttlsFault::LegacyTlsOnly);
    let (_, r) = one_host(28, spec, &ca).await;
    assert_eq!(status(&r, "TLS001"), "pass", "STARTTLS is offered");
    let m = &findings(&r, "TLS002")[0]["message"];
    assert!(
        m.as_str()
            .unwrap()
            .contains("no TLS 1.2+ handshake possible"),
        "{m}"
    );
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["error"]["kind"],
        "tls-incompatible"
    );
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
    let port = s.port.to_string();
    let ca = s.ca_file.path().to_str().unwrap().to_owned();
    let args = [
        "--allow-private",
        "--no-blocklists",
        "--smtp-port",
        &port,
        "--smtp-timeout",
        "3",
        "--ca-file",
        &ca,
    ];
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
    let port = s.port.to_string();
    let ca = s.ca_file.path().to_str().unwrap().to_owned();
    let resolver = s.lab.addr().to_string();
    let run = crate::support::mailcheck(&[
        "--resolver",
        &resolver,
        "--allow-private",
        "--no-blocklists",
        "--smtp-port",
        &port,
        "--smtp-timeout",
        "3",
        "--ca-file",
        &ca,
        d,
    ])
    .await;
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
