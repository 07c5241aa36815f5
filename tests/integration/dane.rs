//! DANE rules over real TLSA answers and real STARTTLS listeners on loopback.
//!
//! Rule-level variations on one gathered audit: each test records the host's answers as
//! DNSSEC-secure or insecure in the facts and evaluates the pure rules, so one probe covers
//! several verdicts. The same cases against signed lab zones, through the binary, are in
//! `dane_live`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use mailcheck::checks::dnssec::{DnssecAnswer, DnssecFacts, Outcome, Role, Validator};
use mailcheck::checks::smtp::CertFacts;
use mailcheck::dns::{Lookup, RecordType, Tlsa};
use mailcheck::facts::Facts;
use mailcheck::finding::{Finding, Severity};
use mailcheck::lab::pki::{ServerCert, TestCa, Validity};
use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
use mailcheck::lab::{Lab, fixture_dir};
use mailcheck::rules::evaluate;

use crate::support::audit_json_with;

/// Serves `domain` (one MX, `mx`, at 127.0.`block`.1) with `zone_extra`, runs `spec` there,
/// and returns the facts of one audit.
async fn gather(block: u8, domain: &str, zone_extra: &str, spec: SmtpSpec) -> Facts {
    let ip = |octet| IpAddr::V4(Ipv4Addr::new(127, 0, block, octet));
    let anchor = tokio::net::TcpListener::bind((ip(250), 0)).await.unwrap();
    let port = anchor.local_addr().unwrap().port();
    let mut zone = String::from(
        "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n\
         @ 300 IN MX 10 mx\n@ 300 IN TXT \"v=spf1 mx -all\"\n",
    );
    let _ = writeln!(zone, "mx 300 IN A {}", ip(1));
    zone.push_str(zone_extra);
    let _smtp = SmtpListener::start(ip(1), port, spec).await.unwrap();
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone(domain, &zone)
        .start()
        .await
        .unwrap();
    let port = port.to_string();
    let args = [
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
    let (_, doc) = audit_json_with(&lab, &[domain], &args).await;
    drop(anchor);
    serde_json::from_value(doc["results"][0]["facts"].clone()).unwrap()
}

/// Records every MX host's address and TLSA answers with this DNSSEC outcome.
fn validated(f: &mut Facts, addresses: &Outcome, tlsa: &Outcome) {
    let mut answers = Vec::new();
    for h in &f.mx.hosts {
        answers.push(DnssecAnswer {
            role: Role::MxHost,
            host: Some(h.name.clone()),
            name: h.name.clone(),
            rtype: RecordType::A,
            outcome: addresses.clone(),
        });
        answers.push(DnssecAnswer {
            role: Role::Tlsa,
            host: Some(h.name.clone()),
            name: format!("_25._tcp.{}", h.name),
            rtype: RecordType::Tlsa,
            outcome: tlsa.clone(),
        });
    }
    f.dnssec = DnssecFacts {
        validator: Validator::Validating {
            anchor: "root".into(),
        },
        answers,
        ..DnssecFacts::default()
    };
}

fn secure() -> Outcome {
    Outcome::Secure {
        signer: None,
        expires: None,
    }
}

fn found<'a>(code: &str, findings: &'a [Finding]) -> Vec<&'a Finding> {
    findings.iter().filter(|x| x.code == code).collect()
}

fn status(f: &Facts, code: &str) -> String {
    let e = evaluate(f);
    let c = e.checks.iter().find(|c| c.code == code).unwrap();
    c.status.as_str().to_owned()
}

fn facts_of(cert: &ServerCert) -> Vec<CertFacts> {
    cert.chain
        .iter()
        .map(|c| CertFacts::parse(c).unwrap())
        .collect()
}

#[tokio::test]
async fn tlsa_that_does_not_match_the_presented_key() {
    let ca = TestCa::root("Lab Root");
    let cert = ca.leaf(&["mx.dane60.test"], Validity::Long, true);
    let stale = "ab".repeat(32);
    let zone =
        format!("_25._tcp.mx 300 IN TLSA 3 1 1 {stale}\n_mta-sts 300 IN TXT \"v=STSv1; id=1\"\n");
    let spec = SmtpSpec::new("mx.dane60.test", Some(cert.server_config()));
    let mut f = gather(60, "dane60.test", &zone, spec).await;
    assert_eq!(f.dane[0].lookup.records().unwrap().len(), 1);

    // Without validation nothing is guessed.
    assert_ne!(status(&f, "DANE001"), "pass");
    assert_ne!(status(&f, "DANE001"), "fail");

    validated(&mut f, &secure(), &secure());
    let e = evaluate(&f);
    let miss = found("DANE001", &e.findings);
    assert_eq!(miss.len(), 1, "{:?}", e.findings);
    assert_eq!(miss[0].severity, Severity::Error);
    assert!(
        miss[0].message.contains("will not deliver"),
        "{}",
        miss[0].message
    );
    let leaf = &facts_of(&cert)[0];
    let fix = miss[0].fix.clone().unwrap();
    assert_eq!(
        fix,
        format!(
            "_25._tcp.mx.dane60.test. IN TLSA 3 1 1 {}",
            leaf.spki_sha256
        )
    );
    // One usable record and no rollover record; DANE and MTA-STS both published.
    assert_eq!(found("DANE004", &e.findings).len(), 1);
    assert_eq!(found("DANE006", &e.findings).len(), 1);
    assert!(found("DANE005", &e.findings).is_empty());

    // Publishing the fix makes it match.
    f.dane[0].lookup = Lookup::Found {
        records: vec![Tlsa {
            usage: 3,
            selector: 1,
            matching: 1,
            data: leaf.spki_sha256.clone(),
        }],
        cnames: Vec::new(),
    };
    assert_eq!(status(&f, "DANE001"), "pass");

    // Unsigned: the records have no effect, and the probe rules do not apply.
    validated(&mut f, &secure(), &Outcome::Insecure);
    let e = evaluate(&f);
    let insecure = found("DANE002", &e.findings);
    assert_eq!(insecure.len(), 1, "{:?}", e.findings);
    assert!(insecure[0].message.contains("the TLSA answer"));
    assert_eq!(status(&f, "DANE001"), "not-applicable");
    validated(&mut f, &Outcome::Insecure, &secure());
    let e = evaluate(&f);
    assert!(
        found("DANE002", &e.findings)[0]
            .message
            .contains("address answers")
    );
}

#[tokio::test]
async fn dane_ta_checks_the_name_and_makes_a_mismatch_an_error() {
    let root = TestCa::root("Lab Root");
    let inter = root.intermediate("Lab Intermediate");
    let cert = inter.leaf(&["other.dane61.test"], Validity::Long, true);
    let ta = &facts_of(&cert)[1];
    let zone = format!("_25._tcp.mx 300 IN TLSA 2 1 1 {}\n", ta.spki_sha256);
    let spec = SmtpSpec::new("mx.dane61.test", Some(cert.server_config()));
    let mut f = gather(61, "dane61.test", &zone, spec).await;
    let e = evaluate(&f);
    let name = found("TLS008", &e.findings);
    assert_eq!(name[0].severity, Severity::Warning, "no DNSSEC: as before");

    validated(&mut f, &secure(), &secure());
    let e = evaluate(&f);
    let miss = found("DANE001", &e.findings);
    assert!(
        miss[0].message.contains("not valid for mx.dane61.test"),
        "{}",
        miss[0].message
    );
    assert_eq!(found("TLS008", &e.findings)[0].severity, Severity::Error);
    let check = e.checks.iter().find(|c| c.code == "TLS008").unwrap();
    assert_eq!(
        check.severity,
        Severity::Error,
        "the score weighs it as one"
    );

    // A DANE-EE record of the leaf: names are not checked, the finding is as before.
    let leaf = &facts_of(&cert)[0];
    if let Lookup::Found { records, .. } = &mut f.dane[0].lookup {
        records.push(Tlsa {
            usage: 3,
            selector: 0,
            matching: 2,
            data: leaf.sha512.clone(),
        });
    }
    let e = evaluate(&f);
    assert!(found("DANE001", &e.findings).is_empty());
    assert_eq!(found("TLS008", &e.findings)[0].severity, Severity::Warning);
}

#[tokio::test]
async fn starttls_missing_at_a_dane_host() {
    let zone = format!("_25._tcp.mx 300 IN TLSA 3 1 1 {}\n", "cd".repeat(32));
    let spec = SmtpSpec::new("mx.dane62.test", None);
    let mut f = gather(62, "dane62.test", &zone, spec).await;
    validated(&mut f, &secure(), &secure());
    let e = evaluate(&f);
    let clear = found("DANE005", &e.findings);
    assert_eq!(clear.len(), 1, "{:?}", e.findings);
    assert!(clear[0].message.contains("does not list STARTTLS"));
    assert_eq!(clear[0].severity, Severity::Error);
    // No chain to match: DANE001 has nothing to judge.
    assert_ne!(status(&f, "DANE001"), "fail");
}
