//! DNSSEC findings end to end: the binary against the lab's signed zones, validating from the
//! lab's own root key (the support runner hands it over, as `--trust-anchor` would).

use mailcheck::lab::{Lab, fixture_dir};
use serde_json::Value;

use crate::support::{
    DNS_ONLY, all_codes, audit_json, audit_json_with, lab, mailcheck, messages, status,
};

fn check<'a>(result: &'a Value, code: &str) -> &'a Value {
    result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no check {code}"))
}

fn outcome<'a>(result: &'a Value, role: &str, rtype: &str) -> &'a Value {
    result["facts"]["dnssec"]["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == role && a["rtype"] == rtype)
        .unwrap_or_else(|| panic!("no {role} {rtype} answer: {}", result["facts"]["dnssec"]))
}

#[tokio::test]
async fn a_signed_domain_validates_and_earns_no_dnssec_finding() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["dnssec-ok.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(r["facts"]["dnssec"]["validator"]["status"], "validating");
    let mx = outcome(r, "domain", "MX");
    assert_eq!(mx["outcome"]["result"], "secure", "{mx}");
    assert_eq!(mx["outcome"]["signer"], "dnssec-ok.test");
    for a in r["facts"]["dnssec"]["answers"].as_array().unwrap() {
        assert_eq!(a["outcome"]["result"], "secure", "{a}");
    }
    for code in ["DNSSEC001", "DNSSEC002", "DNSSEC003"] {
        assert_eq!(status(r, code), "pass", "{code}: {}", check(r, code));
    }
}

#[tokio::test]
async fn an_unsigned_domain_is_proven_insecure_not_guessed() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["good.test", "dnssec-island.test"], &[]).await;
    for r in doc["results"].as_array().unwrap() {
        assert_eq!(outcome(r, "domain", "MX")["outcome"]["result"], "insecure");
        assert_eq!(status(r, "DNSSEC001"), "fail", "{}", r["domain"]);
        assert_eq!(status(r, "DNSSEC002"), "pass");
        let f = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "DNSSEC001")
            .unwrap();
        assert_eq!(f["severity"], "info");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("DANE cannot protect"),
            "{f}"
        );
    }
}

#[tokio::test]
async fn bogus_answers_are_errors_with_the_broken_link_named() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["dnssec-expired.test", "dnssec-dsbad.test"], &[]).await;
    assert_eq!(run.code, 1, "errors found: {}", run.stderr);
    let expired = &doc["results"][0];
    assert_eq!(
        outcome(expired, "domain", "MX")["outcome"]["reason"],
        "expired-signature"
    );
    let m = messages(expired, "DNSSEC002");
    assert!(
        m.iter()
            .any(|m| m.starts_with("MX dnssec-expired.test is bogus (expired signature)")),
        "{m:?}"
    );
    let dsbad = &doc["results"][1];
    assert_eq!(
        outcome(dsbad, "domain", "MX")["outcome"]["reason"],
        "ds-mismatch"
    );
    assert!(
        all_codes(dsbad).contains(&"DNSSEC002".to_owned()),
        "{:?}",
        all_codes(dsbad)
    );
    // A bogus zone is not "unsigned".
    assert_eq!(status(dsbad, "DNSSEC001"), "pass");
}

#[tokio::test]
async fn signatures_about_to_expire_are_a_warning() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["dnssec-expiring.test", "dnssec-ok.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(status(r, "DNSSEC002"), "pass");
    let m = messages(r, "DNSSEC003");
    assert_eq!(m.len(), 1, "one finding per signing zone: {m:?}");
    assert!(
        m[0].starts_with(
            "the signatures of dnssec-expiring.test over MX dnssec-expiring.test expire in 2 days"
        ) || m[0].starts_with(
            "the signatures of dnssec-expiring.test over MX dnssec-expiring.test expire in 3 days"
        ),
        "{m:?}"
    );
    assert_eq!(status(&doc["results"][1], "DNSSEC003"), "pass");
}

#[tokio::test]
async fn a_resolver_that_strips_signatures_makes_dnssec_unknown_not_unsigned() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .strip_dnssec()
        .start()
        .await
        .unwrap();
    let (run, doc) = audit_json(&lab, &["good.test", "dnssec-ok.test"], &[]).await;
    // Unknown for want of a validating path is not a DNS failure of the domain.
    assert_ne!(run.code, 3, "{}", run.stderr);
    for r in doc["results"].as_array().unwrap() {
        assert_eq!(
            r["facts"]["dnssec"]["validator"]["status"], "unavailable",
            "{}",
            r["facts"]["dnssec"]
        );
        for code in ["DNSSEC001", "DNSSEC002", "DNSSEC003"] {
            let c = check(r, code);
            assert_eq!(c["status"], "unknown", "{c}");
            assert_eq!(c["cause"], "network", "{c}");
        }
        assert!(!all_codes(r).iter().any(|c| c.starts_with("DNSSEC")));
    }
}

#[tokio::test]
async fn no_dnssec_switches_the_checks_off_and_asks_nothing_more() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["dnssec-ok.test"], &["--no-dnssec"]).await;
    let r = &doc["results"][0];
    assert_eq!(r["facts"]["dnssec"]["validator"]["status"], "disabled");
    for code in ["DNSSEC001", "DNSSEC002", "DNSSEC003"] {
        assert_eq!(status(r, code), "not-run", "{code}");
    }
    assert_eq!(lab.queries(".", "DNSKEY"), 0, "no validator question");
    assert_eq!(lab.queries("dnssec-ok.test", "DNSKEY"), 0);
}

#[tokio::test]
async fn the_table_shows_the_verdicts() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str()];
    args.extend_from_slice(DNS_ONLY);
    args.extend_from_slice(&["dnssec-ok.test", "dnssec-expired.test"]);
    let run = mailcheck(&args).await;
    assert!(
        run.stdout
            .contains("DNSSEC  MX set secure (signed by dnssec-ok.test, until "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("MX set bogus (expired signature)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("✖ DNSSEC002"), "{}", run.stdout);
}

#[tokio::test]
async fn a_wrong_trust_anchor_is_unknown_not_bogus() {
    // Another lab's key: the root DNSKEY set does not validate from it, so nothing can be.
    let other = Lab::builder().start().await.unwrap();
    let anchor = tempfile::NamedTempFile::new().unwrap();
    other.write_trust_anchor(anchor.path()).unwrap();
    let lab = lab().await;
    let path = anchor.path().to_str().unwrap();
    let mut args = DNS_ONLY.to_vec();
    args.extend_from_slice(&["--trust-anchor", path]);
    let (_, doc) = audit_json_with(&lab, &["dnssec-ok.test"], &args).await;
    let r = &doc["results"][0];
    assert_eq!(r["facts"]["dnssec"]["validator"]["status"], "unavailable");
    assert_eq!(status(r, "DNSSEC002"), "unknown");
}
