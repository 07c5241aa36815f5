//! `--select` / `--ignore` and the config file, through the built binary.

use crate::support::{DNS_ONLY, audit_json, codes, lab, mailcheck, mailcheck_in, status};

#[tokio::test]
async fn ignored_rules_are_not_run_and_never_passed() {
    let lab = lab().await;
    let (run, doc) = audit_json(&lab, &["twospf.test"], &[]).await;
    assert_eq!(run.code, 1, "SPF002 is an error: {}", run.stderr);
    let before = doc["results"][0]["score"]["categories"][1].clone();

    let (run, doc) = audit_json(&lab, &["twospf.test"], &["--ignore", "spf002,PTR"]).await;
    let r = &doc["results"][0];
    assert_eq!(
        run.code, 0,
        "the only error was switched off: {}",
        run.stderr
    );
    assert_eq!(status(r, "SPF002"), "not-run");
    assert_eq!(status(r, "PTR001"), "not-run");
    assert_eq!(status(r, "SPF001"), "pass");
    assert!(!codes(r).contains(&"SPF002".to_owned()));
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "SPF002")
        .unwrap();
    assert_eq!(check["reason"], "switched off by --ignore SPF002");
    let auth = &r["score"]["categories"][1];
    assert_eq!(
        auth["passed"], before["passed"],
        "a check that did not run is not counted as passed"
    );
    assert_eq!(
        auth["failed"].as_u64().unwrap() + 1,
        before["failed"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn select_runs_only_the_named_rules_and_the_most_specific_wins() {
    let lab = lab().await;
    let (_, doc) = audit_json(
        &lab,
        &["broken.test"],
        &["--select", "DMARC,SPF002", "--ignore", "DMARC001"],
    )
    .await;
    let r = &doc["results"][0];
    for check in r["checks"].as_array().unwrap() {
        let code = check["code"].as_str().unwrap();
        let runs = code == "SPF002" || (code.starts_with("DMARC") && code != "DMARC001");
        assert_eq!(check["status"] == "not-run", !runs, "{code}: {check}");
    }
    assert_eq!(codes(r), ["SPF002", "DMARC002"]);
    assert!(
        r["checks"].as_array().unwrap().iter().any(|c| c["reason"]
            .as_str()
            .is_some_and(|why| why.starts_with("not selected by --select DMARC, --select SPF002"))),
        "{}",
        r["checks"]
    );
    assert_eq!(
        r["score"]["categories"][0]["score"],
        serde_json::Value::Null,
        "routing had nothing run"
    );
}

#[tokio::test]
async fn unknown_selectors_are_usage_errors_before_any_query() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    for (flag, value, expected) in [
        (
            "--select",
            "SPF999",
            "--select: unknown rule selector \"SPF999\"",
        ),
        ("--ignore", "DMRAC001", "did you mean DMARC001?"),
        ("--ignore", "S", "unknown rule selector"),
    ] {
        let run = mailcheck(&["--resolver", &resolver, flag, value, "good.test"]).await;
        assert_eq!(run.code, 2, "{flag} {value}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
    assert!(lab.query_log().is_empty(), "{:?}", lab.query_log());
}

#[tokio::test]
async fn the_config_file_ignores_and_overrides_severities() {
    let lab = lab().await;
    let dir = tempfile::tempdir().unwrap();
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str(), "--format", "json"];
    args.extend_from_slice(DNS_ONLY);
    args.push("dmarcnone.test");
    let run = mailcheck_in(Some(dir.path()), &args, &[]).await;
    assert_eq!(
        run.code, 0,
        "p=none is a warning by default: {}",
        run.stderr
    );

    std::fs::write(
        dir.path().join("mailcheck.toml"),
        "ignore = [\"MX008\"]\n\n[severity]\nDMARC002 = \"error\"\n",
    )
    .unwrap();
    let run = mailcheck_in(Some(dir.path()), &args, &[]).await;
    assert_eq!(run.code, 1, "DMARC002 raised to error: {}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let r = &doc["results"][0];
    let f = r["findings"].as_array().unwrap();
    let dmarc = f.iter().find(|f| f["code"] == "DMARC002").unwrap();
    assert_eq!(dmarc["severity"], "error");
    assert_eq!(r["counts"]["error"], 1);
    assert_eq!(r["score"]["grade"], "C", "an error caps the grade at C");
    assert_eq!(status(r, "MX008"), "not-run");
    let mx008 = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "MX008")
        .unwrap();
    assert_eq!(
        mx008["reason"],
        "switched off by mailcheck.toml ignore MX008"
    );

    // --config names another file; the working directory's is then not read.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "select = [\"SPF\"]\n").unwrap();
    let mut with = vec!["--config", other.to_str().unwrap()];
    with.extend_from_slice(&args);
    let run = mailcheck_in(Some(dir.path()), &with, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status(&doc["results"][0], "DMARC002"), "not-run");
}

#[tokio::test]
async fn an_invalid_config_file_is_a_usage_error() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "ignore = [\"MX008\"]\nselects = [\"SPF\"]\n",
            "line 2: unknown field `selects`",
        ),
        ("[severity]\nDMARC002 = \"fatal\"\n", "line 2"),
        (
            "ignore = [\"NOPE001\"]\n",
            "ignore: unknown rule selector \"NOPE001\"",
        ),
        ("ignore = [\n", "line"),
    ];
    for (text, expected) in cases {
        std::fs::write(dir.path().join("mailcheck.toml"), text).unwrap();
        let run = mailcheck_in(
            Some(dir.path()),
            &["--resolver", &resolver, "good.test"],
            &[],
        )
        .await;
        assert_eq!(run.code, 2, "{text}: {}", run.stderr);
        assert!(run.stderr.contains("mailcheck.toml"), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{text}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    let run = mailcheck(&[
        "--resolver",
        &resolver,
        "--config",
        "/nonexistent/m.toml",
        "good.test",
    ])
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("/nonexistent/m.toml"), "{}", run.stderr);
    assert!(lab.query_log().is_empty(), "{:?}", lab.query_log());
}
