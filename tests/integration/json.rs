//! The JSON report for each fixture scenario, through the built binary.

use mailcheck::report::Document;

use crate::support::{all_codes, audit_json, codes, lab, status};

#[tokio::test]
async fn good_domain_passes_everything_and_sends_each_query_once() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["good.test"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The document matches the schema exactly (deny_unknown_fields throughout).
    let typed: Document = serde_json::from_str(&run.stdout).expect("schema");
    assert_eq!(typed.schema_version, 1);
    assert_eq!(doc["tool"], "mailcheck");
    assert_eq!(doc["resolver"][0], lab.addr().to_string());
    let r = &doc["results"][0];
    assert_eq!(r["domain"], "good.test");
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["score"]["grade"], "A");
    assert_eq!(r["score"]["value"], 100);
    assert_eq!(r["score"]["partial"], false);
    // Only the notes that its zone is unsigned, that its loopback addresses are allowed by
    // --allow-private, and that it publishes no MTA-STS.
    assert_eq!(all_codes(r), ["DNSSEC001", "MX013", "MX013", "STS001"]);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info")
    );
    assert_eq!(r["root_cause"], serde_json::Value::Null);
    for code in [
        "DNS001", "MX001", "MX005", "SPF001", "SPF002", "DMARC001", "DMARC002",
    ] {
        assert_eq!(status(r, code), "pass", "{code}");
    }
    let facts = &r["facts"];
    assert_eq!(facts["mx"]["lookup"]["status"], "found");
    assert_eq!(facts["mx"]["hosts"][0]["name"], "mx1.good.test");
    assert_eq!(facts["mx"]["hosts"][0]["aaaa"]["records"][0], "fd00::10");
    assert_eq!(facts["txt"]["records"].as_array().unwrap().len(), 2);
    assert_eq!(
        facts["dmarc"]["records"][0]["text"],
        "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
    );
    assert_eq!(
        facts["dmarc"]["records"][0]["parsed"]["Ok"][1]["value"],
        "reject"
    );
    // canary, MX, TXT, type 99, _dmarc TXT, _dmarc.test TXT (the DMARC tree walk), A + AAAA +
    // TXT (HELO SPF) of two hosts, and the PTR of the one address that is not loopback (its
    // name's AAAA is already known): 13 queries, none sent twice (the SPF record's `mx` and the
    // report address's MX reuse the MX answer). Then DKIM: `_domainkey`, the TXT of each
    // built-in selector, and the CNAME of each selector without a key (a dangling delegation
    // shows only there): 1 + 31 + 30 = 62 more; and the TXT and CNAME of `_mta-sts`,
    // `_smtp._tls` and `default._bimi` (none published): 6 more; the CNAME at the one selector
    // with a key (a CNAME beside it would be a conflict) and the DANE TLSA records of the two
    // MX hosts: 3 more, 84. Then what the validator asks beyond the answers it shares: the
    // root DNSKEY set (the lab signs its root), the NS set at good.test, `_dmarc.good.test` and
    // both MX hosts where it looks for zone cuts, and the DS of good.test, whose proven absence
    // makes the zone insecure: 6 more, 90 in all.
    let selectors = mailcheck::checks::dkim::SELECTORS.len();
    let want = 13 + 2 * selectors as u64 + 6 + 3 + 6;
    assert_eq!(r["stats"]["dns_queries"], want);
    let log = lab.query_log();
    assert_eq!(log.len() as u64, want, "{log:?}");
    assert_eq!(
        lab.queries("mx1.good.test", "AAAA"),
        1,
        "asked once for MX and PTR checks"
    );
    assert_eq!(facts["ptr"][0]["lookup"]["records"][0], "mx1.good.test");
    for code in ["PTR001", "PTR002", "PTR003"] {
        assert_eq!(status(r, code), "pass", "{code}");
    }
    for code in ["TLS001", "TLS008", "PTR004"] {
        assert_eq!(status(r, code), "not-run", "{code}: --no-smtp");
    }
    assert_eq!(status(r, "BL001"), "not-run", "--no-blocklists");
    assert!(
        log.iter().all(|(_, _, n)| *n == 1),
        "a query was sent twice: {log:?}"
    );
}

#[tokio::test]
async fn spf_missing_and_duplicated() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["nospf.test", "twospf.test"], &[]).await;
    assert_eq!(run.code, 1);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(codes(&results[0]), ["SPF001"]);
    assert_eq!(results[0]["findings"][0]["severity"], "error");
    assert_eq!(results[0]["findings"][0]["category"], "authentication");
    assert_eq!(results[0]["findings"][0]["reference"], "RFC 7208 §4.5");
    assert_eq!(codes(&results[1]), ["SPF002"]);
    let msg = results[1]["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("2 SPF records"), "{msg}");
    assert!(msg.contains("include:_spf.provider.test"), "{msg}");
}

#[tokio::test]
async fn spf_split_over_several_strings_is_one_record() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["longspf.test"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let r = &doc["results"][0];
    // One valid record; only its size (704 octets, over a 512-octet answer) is worth a note.
    assert_eq!(codes(r), ["SPF014"]);
    assert_eq!(r["facts"]["spf"]["tree"]["state"], "record");
    let strings = r["facts"]["txt"]["records"][0]["strings"]
        .as_array()
        .unwrap();
    assert_eq!(strings.len(), 3);
    assert_eq!(strings[0].as_str().unwrap().len(), 255);
}

#[tokio::test]
async fn dmarc_missing_points_at_a_misplaced_record() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["nodmarc.test"], &[]).await;
    assert_eq!(run.code, 1);
    let r = &doc["results"][0];
    assert_eq!(codes(r), ["DMARC001"]);
    let msg = r["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("published at nodmarc.test itself"), "{msg}");
    assert_eq!(r["facts"]["dmarc"]["lookup"]["status"], "nxdomain");
}

#[tokio::test]
async fn dmarc_p_none_is_a_warning_and_fail_on_decides_the_exit_code() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["dmarcnone.test"], &[]).await;
    assert_eq!(run.code, 0);
    let r = &doc["results"][0];
    assert_eq!(codes(r), ["DMARC002"]);
    assert_eq!(r["findings"][0]["severity"], "warning");
    assert_eq!(r["score"]["grade"], "B");
    let (run, _) = audit_json(&lab, &["dmarcnone.test"], &["--fail-on", "warning"]).await;
    assert_eq!(run.code, 1);
    let (run, _) = audit_json(&lab, &["twospf.test"], &["--fail-on", "never"]).await;
    assert_eq!(run.code, 0);
}

#[tokio::test]
async fn null_mx_is_information_and_skips_host_checks() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["nullmx.test", "nullmixed.test"], &[]).await;
    let results = doc["results"].as_array().unwrap();
    assert_eq!(codes(&results[0]), ["MX003"]);
    assert_eq!(results[0]["findings"][0]["severity"], "info");
    assert_eq!(status(&results[0], "MX005"), "not-applicable");
    assert_eq!(results[0]["score"]["value"], 100);
    assert_eq!(codes(&results[1]), ["MX004"]);
    assert_eq!(run.code, 1, "the mixed null MX is an error");
}

#[tokio::test]
async fn implicit_mx_uses_the_domain_address() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["implicitmx.test"], &[]).await;
    assert_eq!(run.code, 0);
    let r = &doc["results"][0];
    assert_eq!(codes(r), ["MX002"]);
    assert_eq!(r["facts"]["mx"]["lookup"]["status"], "nodata");
    assert_eq!(
        r["facts"]["mx"]["implicit"]["a"]["records"][0],
        "127.0.0.18"
    );
    let mx002 = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "MX002")
        .unwrap();
    assert!(mx002["message"].as_str().unwrap().contains("127.0.0.18"));
}

#[tokio::test]
async fn no_mx_and_no_address_means_no_mail_route() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["nomx.test"], &[]).await;
    assert_eq!(run.code, 1);
    assert_eq!(codes(&doc["results"][0]), ["MX001"]);
}

#[tokio::test]
async fn mx_hosts_that_do_not_resolve() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["mxnoresolve.test"], &[]).await;
    assert_eq!(run.code, 1);
    let r = &doc["results"][0];
    assert_eq!(codes(r), ["MX005", "MX005"]);
    let subjects: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "MX005")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["empty.mxnoresolve.test", "mail.mxnoresolve.test"]
    );
    let messages: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "MX005")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("has no A or AAAA record"),
        "{messages:?}"
    );
    assert!(messages[1].contains("does not exist"), "{messages:?}");
    assert!(
        messages
            .iter()
            .all(|m| m.contains("no MX host of the domain resolves"))
    );
}

#[tokio::test]
async fn a_domain_that_does_not_exist_is_one_root_cause() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["missing.test"], &[]).await;
    assert_eq!(run.code, 1);
    let r = &doc["results"][0];
    assert_eq!(codes(r), ["DNS001"]);
    assert_eq!(r["root_cause"]["kind"], "domain-not-found");
    assert_eq!(status(r, "SPF001"), "not-applicable");
    assert_eq!(status(r, "DMARC001"), "not-applicable");
    assert_eq!(r["score"]["grade"], "F");
}

#[tokio::test]
async fn a_failed_dmarc_lookup_is_unknown_never_missing() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["dmarcservfail.test"], &[]).await;
    assert_eq!(run.code, 3, "a failed lookup a check needs gives exit 3");
    let r = &doc["results"][0];
    assert!(
        codes(r).is_empty(),
        "no finding may claim DMARC is missing: {:?}",
        codes(r)
    );
    // Every DMARC check but DMARC020 (parked domains; this one receives mail) needs the record.
    let dmarc_checks: Vec<_> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"].as_str().unwrap().starts_with("DMARC") && c["code"] != "DMARC020")
        .collect();
    assert_eq!(dmarc_checks.len(), 19);
    for c in &dmarc_checks {
        assert_eq!(c["status"], "unknown", "{c}");
    }
    let reason = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "DMARC001")
        .unwrap()["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("_dmarc.dmarcservfail.test") && reason.contains("SERVFAIL"),
        "{reason}"
    );
    assert_eq!(r["facts"]["dmarc"]["lookup"]["status"], "failed");
    assert_eq!(r["facts"]["dmarc"]["lookup"]["kind"], "servfail");
    // And the DNSSEC verdicts on answers that include the failed one (DNSSEC002, DNSSEC003).
    assert_eq!(r["counts"]["unknown"], 21);
    assert_eq!(status(r, "DNSSEC002"), "unknown");
    assert_eq!(r["score"]["partial"], true);
    // SPF and MX were decided and passed; DMARC is left out of the score, not counted as passed.
    assert_eq!(status(r, "SPF001"), "pass");
    assert_eq!(r["score"]["categories"][1]["unknown"], 19);
}

#[tokio::test]
async fn findings_outrank_unknowns_in_the_exit_code() {
    let lab = lab().await;
    let (run, _) = audit_json(&lab, &["dmarcservfail.test", "twospf.test"], &[]).await;
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn fixes_quote_the_record_to_publish() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["twospf.test", "spfhelo.test"], &[]).await;
    let fix = |i: usize| {
        let findings = doc["results"][i]["findings"].as_array().unwrap();
        let f = findings
            .iter()
            .find(|f| f["fix"].is_string())
            .expect("a finding with a fix");
        f["fix"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        fix(0),
        "twospf.test. TXT \"v=spf1 mx include:_spf.provider.test -all\""
    );
    assert_eq!(fix(1), "mx.spfhelo.test. TXT \"v=spf1 a -all\"");
}

#[tokio::test]
async fn output_file_is_written_whole_and_stdout_stays_empty() {
    let lab = crate::support::lab().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, "previous").unwrap();
    let resolver = lab.addr().to_string();
    let file = path.to_str().unwrap();
    let mut args = vec![
        "--resolver",
        resolver.as_str(),
        "--format",
        "json",
        "-o",
        file,
    ];
    args.extend_from_slice(crate::support::DNS_ONLY);
    args.push("good.test");
    let run = crate::support::mailcheck(&args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["results"][0]["domain"], "good.test");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["report.json"], "no temporary file left behind");

    let missing = dir.path().join("no/such/dir.json");
    let run = crate::support::mailcheck(&[
        "--resolver",
        &resolver,
        "-o",
        missing.to_str().unwrap(),
        "good.test",
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no directory"), "{}", run.stderr);
}
