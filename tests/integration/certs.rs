//! Certificate verdicts from one STARTTLS handshake each, against lab listeners.

use mailcheck::lab::fixture_dir;
use mailcheck::lab::pki::{DAY, ServerCert, TestCa, Validity};
use mailcheck::lab::smtp::SmtpSpec;

use crate::smtp::{Scenario, findings, has, host, one_host, tls};
use crate::support::{all_codes, status};

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
async fn tls12_only_server_reports_its_version() {
    let ca = TestCa::root("Lab Root");
    let cert = ca.leaf(&["mx.smtp33.test"], Validity::Long, true);
    let (_, r) = one_host(
        33,
        SmtpSpec::new("mx.smtp33.test", Some(cert.server_config_tls12())),
        &ca,
    )
    .await;
    let t = &r["facts"]["smtp"]["probes"][0]["tls"];
    assert_eq!(t["version"], "TLSv1_2");
    assert!(
        t["cipher"].as_str().unwrap().starts_with("TLS_ECDHE_"),
        "{t}"
    );
    assert_eq!(t["verdict"]["result"], "trusted");
    assert_eq!(status(&r, "TLS002"), "pass");
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
