//! DANE end to end: signed lab zones with TLSA records, real STARTTLS listeners, the binary
//! validating from the lab's root key. TLSA data is computed here from the certificate the
//! listener presents (x509-parser and ring), not by the code under test.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use mailcheck::lab::pki::{ServerCert, TestCa, Validity};
use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
use mailcheck::lab::{Lab, fixture_dir};
use serde_json::Value;

use crate::support::{Run, audit_json_with, status};

/// SHA-256 of the leaf's `SubjectPublicKeyInfo`: the data of a `3 1 1` record.
fn spki_sha256(cert: &ServerCert) -> String {
    spki_sha256_at(cert, 0)
}

/// The same of the chain's certificate at `index` (1: the issuer of the leaf).
fn spki_sha256_at(cert: &ServerCert, index: usize) -> String {
    let (_, x509) = x509_parser::parse_x509_certificate(&cert.chain[index]).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, x509.public_key().raw);
    digest.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

struct Dane {
    lab: Lab,
    _smtp: Option<SmtpListener>,
    port: u16,
    _hold: tokio::net::TcpListener,
}

/// `domain` with one MX, `mx`, at 127.0.`block`.1, where `spec` listens (if any); `signed`
/// signs the zone (`;@sign valid`); `extra` adds zone lines (TLSA, `_mta-sts`).
async fn serve(block: u8, domain: &str, signed: bool, extra: &str, spec: Option<SmtpSpec>) -> Dane {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, block, 1));
    // Holds a port free on the block for the listener; nothing points at it.
    let hold = tokio::net::TcpListener::bind((Ipv4Addr::new(127, 0, block, 250), 0))
        .await
        .unwrap();
    let port = hold.local_addr().unwrap().port();
    let mut zone = String::new();
    if signed {
        zone.push_str(";@sign valid\n");
    }
    let _ = write!(
        zone,
        "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n\
         @ 300 IN MX 10 mx\n@ 300 IN TXT \"v=spf1 mx -all\"\nmx 300 IN A {ip}\n{extra}"
    );
    let smtp = match spec {
        Some(spec) => Some(SmtpListener::start(ip, port, spec).await.unwrap()),
        None => None,
    };
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone(domain, &zone)
        .start()
        .await
        .unwrap();
    Dane {
        lab,
        _smtp: smtp,
        port,
        _hold: hold,
    }
}

impl Dane {
    /// The terminal report, 80 columns.
    async fn table(&self, domain: &str) -> String {
        let (port, resolver) = (self.port.to_string(), self.lab.addr().to_string());
        let args = [
            "--resolver",
            &resolver,
            "--allow-private",
            "--no-blocklists",
            "--no-https",
            "--smtp-port",
            &port,
            "--helo-name",
            "probe.lab.test",
            domain,
        ];
        crate::support::mailcheck(&args).await.stdout
    }

    async fn audit(&self, domain: &str, extra: &[&str]) -> (Run, Value) {
        let port = self.port.to_string();
        let mut args = vec![
            "--allow-private",
            "--no-blocklists",
            "--no-https",
            "--smtp-port",
            &port,
            "--smtp-timeout",
            "3",
            "--helo-name",
            "probe.lab.test",
        ];
        args.extend_from_slice(extra);
        audit_json_with(&self.lab, &[domain], &args).await
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

fn spec(name: &str, cert: &ServerCert) -> SmtpSpec {
    SmtpSpec::new(name, Some(cert.server_config()))
}

#[tokio::test]
async fn a_signed_domain_with_matching_3_1_1_records_passes() {
    // A self-signed certificate: DANE-EE needs no public CA (RFC 7672 §3.1.3).
    let cert = ServerCert::self_signed(&["mx.danelive1.test"]);
    let next = ServerCert::self_signed(&["mx.danelive1.test"]);
    let extra = format!(
        "_25._tcp.mx 300 IN TLSA 3 1 1 {}\n_25._tcp.mx 300 IN TLSA 3 1 1 {}\n\
         _mta-sts 300 IN TXT \"v=STSv1; id=1\"\n",
        spki_sha256(&cert),
        spki_sha256(&next)
    );
    let d = serve(
        63,
        "danelive1.test",
        true,
        &extra,
        Some(spec("mx.danelive1.test", &cert)),
    )
    .await;
    let (_, doc) = d.audit("danelive1.test", &[]).await;
    let r = &doc["results"][0];
    let tlsa = r["facts"]["dnssec"]["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == "tlsa")
        .unwrap();
    assert_eq!(tlsa["outcome"]["result"], "secure", "{tlsa}");
    for code in ["DANE001", "DANE002", "DANE003", "DANE004", "DANE005"] {
        assert_eq!(status(r, code), "pass", "{code}: {}", r["findings"]);
    }
    // DANE and MTA-STS both published: DANE wins for senders that do both.
    assert_eq!(findings(r, "DANE006").len(), 1);
    assert_eq!(status(r, "DNSSEC002"), "pass");
}

#[tokio::test]
async fn a_signed_domain_whose_tlsa_does_not_match_is_an_error_with_the_record_to_publish() {
    let cert = ServerCert::self_signed(&["mx.danelive2.test"]);
    let extra = format!("_25._tcp.mx 300 IN TLSA 3 1 1 {}\n", "ab".repeat(32));
    let d = serve(
        64,
        "danelive2.test",
        true,
        &extra,
        Some(spec("mx.danelive2.test", &cert)),
    )
    .await;
    let (run, doc) = d.audit("danelive2.test", &[]).await;
    assert_eq!(run.code, 1, "errors found");
    let r = &doc["results"][0];
    let miss = findings(r, "DANE001");
    assert_eq!(miss.len(), 1, "{}", r["findings"]);
    assert_eq!(miss[0]["severity"], "error");
    assert_eq!(
        miss[0]["fix"],
        format!(
            "_25._tcp.mx.danelive2.test. IN TLSA 3 1 1 {}",
            spki_sha256(&cert)
        )
    );
    // One usable record: no rollover record either.
    assert_eq!(findings(r, "DANE004").len(), 1);
    let table = d.table("danelive2.test").await;
    assert!(
        table.contains("TLSA    mx.danelive2.test 3 1 1 abababab…abababab (secure)"),
        "{table}"
    );
    assert!(table.contains("✖ DANE001"), "{table}");
    assert!(
        table.contains(&format!("IN TLSA 3 1 1\n    {}", spki_sha256(&cert))),
        "the record to publish, whole: {table}"
    );
}

#[tokio::test]
async fn tlsa_in_an_unsigned_zone_has_no_effect() {
    let cert = ServerCert::self_signed(&["mx.danelive3.test"]);
    let extra = format!("_25._tcp.mx 300 IN TLSA 3 1 1 {}\n", spki_sha256(&cert));
    let d = serve(
        65,
        "danelive3.test",
        false,
        &extra,
        Some(spec("mx.danelive3.test", &cert)),
    )
    .await;
    let (_, doc) = d.audit("danelive3.test", &[]).await;
    let r = &doc["results"][0];
    let insecure = findings(r, "DANE002");
    assert_eq!(insecure.len(), 1, "{}", r["findings"]);
    assert_eq!(insecure[0]["severity"], "warning");
    // Without DANE in force, the self-signed certificate is judged as before: no error.
    assert_ne!(status(r, "DANE001"), "fail");
    assert!(
        findings(r, "TLS005")
            .iter()
            .chain(findings(r, "TLS006").iter())
            .all(|f| f["severity"] != "error")
    );
}

#[tokio::test]
async fn starttls_missing_where_tlsa_is_published_is_an_error() {
    let extra = format!("_25._tcp.mx 300 IN TLSA 3 1 1 {}\n", "cd".repeat(32));
    let d = serve(
        66,
        "danelive4.test",
        true,
        &extra,
        Some(SmtpSpec::new("mx.danelive4.test", None)),
    )
    .await;
    let (run, doc) = d.audit("danelive4.test", &[]).await;
    assert_eq!(run.code, 1);
    let r = &doc["results"][0];
    let clear = findings(r, "DANE005");
    assert_eq!(clear.len(), 1, "{}", r["findings"]);
    assert_eq!(clear[0]["severity"], "error");
}

#[tokio::test]
async fn a_stripping_resolver_makes_dane_unknown() {
    let cert = ServerCert::self_signed(&["mx.danelive5.test"]);
    let extra = format!("_25._tcp.mx 300 IN TLSA 3 1 1 {}\n", "ab".repeat(32));
    let d = serve(
        67,
        "danelive5.test",
        true,
        &extra,
        Some(spec("mx.danelive5.test", &cert)),
    )
    .await;
    d.lab.set_strip_dnssec(true);
    let (_, doc) = d.audit("danelive5.test", &[]).await;
    let r = &doc["results"][0];
    for code in ["DANE001", "DANE002", "DANE005"] {
        assert_eq!(status(r, code), "unknown", "{code}: {}", r["checks"]);
    }
}

#[tokio::test]
async fn dane_ta_with_a_wrong_name_makes_the_name_finding_an_error() {
    let root = TestCa::root("Lab Root");
    let inter = root.intermediate("Lab Intermediate");
    let cert = inter.leaf(&["other.danelive6.test"], Validity::Long, true);
    let hex = spki_sha256_at(&cert, 1);
    let extra = format!("_25._tcp.mx 300 IN TLSA 2 1 1 {hex}\n");
    let d = serve(
        68,
        "danelive6.test",
        true,
        &extra,
        Some(spec("mx.danelive6.test", &cert)),
    )
    .await;
    let (_, doc) = d.audit("danelive6.test", &[]).await;
    let r = &doc["results"][0];
    let name = findings(r, "TLS008");
    assert_eq!(name.len(), 1, "{}", r["findings"]);
    assert_eq!(name[0]["severity"], "error", "DANE-TA checks the name");
    assert_eq!(findings(r, "DANE001").len(), 1);
}

#[tokio::test]
async fn a_weak_certificate_is_an_error_where_dane_applies() {
    let dir = fixture_dir().join("../pki");
    let cert = ServerCert::from_pem(
        &std::fs::read_to_string(dir.join("sha1.pem")).unwrap(),
        &std::fs::read_to_string(dir.join("sha1.key")).unwrap(),
    );
    let extra = format!("_25._tcp.mx 300 IN TLSA 3 1 1 {}\n", spki_sha256(&cert));
    let d = serve(
        69,
        "danelive7.test",
        true,
        &extra,
        Some(spec("mx.danelive7.test", &cert)),
    )
    .await;
    let (_, doc) = d.audit("danelive7.test", &[]).await;
    let r = &doc["results"][0];
    assert_eq!(status(r, "DANE001"), "pass", "DANE-EE matches the key");
    let weak = findings(r, "TLS009");
    assert_eq!(weak.len(), 1, "{}", r["findings"]);
    assert_eq!(weak[0]["severity"], "error");
    // Without validation DANE is not known to apply: the finding keeps its own severity.
    let (_, doc) = d.audit("danelive7.test", &["--no-dnssec"]).await;
    let weak = findings(&doc["results"][0], "TLS009");
    assert_eq!(weak[0]["severity"], "warning");
}
