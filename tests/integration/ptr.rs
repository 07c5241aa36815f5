//! Reverse DNS and MX host facts, through the built binary against the fixture zones.

use crate::support::{all_codes, audit_json, lab, status};

#[tokio::test]
async fn missing_generic_and_unconfirmed_reverse_dns() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["ptrbad.test"], &[]).await;
    let r = &doc["results"][0];
    let findings = r["findings"].as_array().unwrap();
    let about = |code: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["subject"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(about("PTR001"), ["10.0.0.29"]);
    assert_eq!(about("PTR002"), ["10.0.0.30", "10.0.0.31"]);
    assert_eq!(about("PTR003"), ["10.0.0.30"]);
    let ptr = &r["facts"]["ptr"];
    assert_eq!(ptr[0]["name"], "29.0.0.10.in-addr.arpa");
    assert_eq!(ptr[0]["lookup"]["status"], "nxdomain");
    assert_eq!(ptr[2]["forward"][0]["name"], "mx2.good.test");
    assert_eq!(ptr[2]["forward"][0]["lookup"]["records"][0], "127.0.0.20");
    // The PTR of an IPv6 address is asked under ip6.arpa, and confirmed by AAAA.
    let (_, doc) = audit_json(&lab, &["good.test"], &[]).await;
    let v6 = &doc["results"][0]["facts"]["ptr"][0];
    assert_eq!(v6["ip"], "fd00::10");
    assert!(v6["name"].as_str().unwrap().ends_with(".0.0.d.f.ip6.arpa"));
    assert_eq!(v6["forward"][0]["lookup"]["records"][0], "fd00::10");
}

#[tokio::test]
async fn a_failed_ptr_lookup_is_unknown_not_missing() {
    let lab = mailcheck::lab::Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .fault("29.0.0.10.in-addr.arpa", mailcheck::lab::Fault::ServFail)
        .fault("30.0.0.10.in-addr.arpa", mailcheck::lab::Fault::ServFail)
        .fault("31.0.0.10.in-addr.arpa", mailcheck::lab::Fault::ServFail)
        .start()
        .await
        .unwrap();
    let (run, doc) = audit_json(&lab, &["ptrbad.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(status(r, "PTR001"), "unknown");
    assert!(!all_codes(r).contains(&"PTR001".to_owned()));
    assert_eq!(run.code, 3, "a failed DNS lookup a scored check needs");
}

#[tokio::test]
async fn mx_host_name_problems() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["mxhosts.test"], &[]).await;
    let r = &doc["results"][0];
    let codes = all_codes(r);
    for code in ["MX005", "MX006", "MX007", "MX009", "MX010", "MX011"] {
        assert!(codes.contains(&code.to_owned()), "{code}: {codes:?}");
    }
    let message = |code: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(message("MX006").contains("alias.mxhosts.test is an alias of mx1.good.test"));
    assert!(message("MX007").contains("127.0.0.10"));
    assert!(message("MX009").contains("v6only.mxhosts.test"));
    assert!(message("MX010").contains("preferences 10, 40"));
    assert!(message("MX011").contains("preference 10"));
    // good.test has IPv6 on mx1: no MX008; nospf.test has none.
    let (_, doc) = audit_json(&lab, &["good.test", "nospf.test"], &[]).await;
    assert_eq!(status(&doc["results"][0], "MX008"), "pass");
    assert!(all_codes(&doc["results"][1]).contains(&"MX008".to_owned()));
}

/// SMTP listeners can only live on loopback, which has no reverse DNS to serve, so this rule is
/// checked on real facts gathered from the lab plus a recorded probe (rules are pure).
#[tokio::test]
async fn greeting_name_differs_from_ptr() {
    use mailcheck::checks::smtp::{Probe, Reply};
    let lab = lab().await;
    let dns = crate::support::dns(lab.addr());
    let services = crate::support::dns_only_services();
    let domain = mailcheck::domain::Domain::parse("good.test").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut facts = mailcheck::audit::gather(&dns, &services, &domain, deadline).await;
    let reply = |code, first: &str| Reply {
        code,
        lines: vec![first.to_owned()],
    };
    facts.smtp.enabled = true;
    facts.smtp.probes = vec![Probe {
        host: "mx1.good.test".into(),
        ip: "fd00::10".parse().unwrap(),
        started: 0,
        skipped: None,
        connect_ms: Some(1),
        greeting: Some(reply(220, "mail.elsewhere.test ESMTP")),
        greeting_ms: Some(2),
        ehlo: Some(reply(250, "mx1.good.test hello")),
        starttls: None,
        tls: None,
        ehlo_tls: None,
        extensions: Vec::new(),
        error: None,
    }];
    let eval = mailcheck::rules::evaluate(&facts);
    let found: Vec<_> = eval
        .findings
        .iter()
        .filter(|f| f.code == "PTR004")
        .collect();
    assert_eq!(found.len(), 1, "{:?}", eval.findings);
    assert!(
        found[0].message.contains("announces mail.elsewhere.test"),
        "{}",
        found[0].message
    );
    facts.smtp.probes[0].greeting = Some(reply(220, "mx1.good.test ESMTP"));
    let eval = mailcheck::rules::evaluate(&facts);
    assert!(eval.findings.iter().all(|f| f.code != "PTR004"));
    assert!(
        eval.checks
            .iter()
            .any(|c| c.code == "PTR004" && c.status == mailcheck::finding::Status::Pass)
    );
}
