//! Input validation, exit codes and resolver failures, through the built binary.

use std::time::Duration;

use crate::support::{DNS_ONLY, lab, mailcheck};

#[tokio::test]
async fn invalid_input_is_a_clear_error_before_any_query() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["exa mple.com"], "not allowed in a host name"),
        (&["--", "-bad-.com"], "starts or ends with a hyphen"),
        (&["alice@example.com"], "did you mean \"example.com\""),
        (&["192.0.2.1"], "is an IP address"),
        (&["foo"], "mailcheck check foo"),
        (&["a..b"], "empty label"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["--resolver", resolver.as_str()];
        all.extend_from_slice(args);
        let run = mailcheck(&all).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let long = format!("{}.com", "a".repeat(300));
    let run = mailcheck(&["--resolver", &resolver, &long]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("label of 300 characters"),
        "{}",
        run.stderr
    );
    assert!(
        lab.query_log().is_empty(),
        "no query before validation: {:?}",
        lab.query_log()
    );
}

#[tokio::test]
async fn usage_errors_exit_2() {
    for args in [
        &["--resolver", "not-an-ip", "example.com"][..],
        &["--resolver", "127.0.0.1:1", "--timeout", "0", "example.com"],
        &[
            "--resolver",
            "127.0.0.1:1",
            "--format",
            "xml",
            "example.com",
        ],
        &["--resolver", "127.0.0.1:1"],
    ] {
        let run = mailcheck(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty());
    }
}

#[tokio::test]
async fn version_and_help_exit_0() {
    let run = mailcheck(&["--version"]).await;
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout.trim(),
        format!("mailcheck {}", env!("CARGO_PKG_VERSION"))
    );
    let run = mailcheck(&["--help"]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--fail-on"));
}

#[tokio::test]
async fn check_forces_a_single_label_name_to_be_a_domain() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let run = mailcheck(&[
        "check",
        "nosuchtld",
        "--resolver",
        &resolver,
        "--format",
        "json",
    ])
    .await;
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["results"][0]["domain"], "nosuchtld");
    assert_eq!(doc["results"][0]["root_cause"]["kind"], "domain-not-found");
    assert_eq!(lab.queries("nosuchtld", "MX"), 1);
}

#[tokio::test]
async fn a_silent_resolver_ends_with_exit_3_naming_it() {
    // Bound but never read: queries vanish, as with a firewalled resolver.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let run = mailcheck(&["--resolver", &addr, "--format", "json", "good.test"]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(&addr),
        "the message names the resolver: {}",
        run.stderr
    );
    assert!(run.stderr.contains("answered no lookup"), "{}", run.stderr);
    // Default limits: 2 s × 2 tries per query, all queries at once.
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let r = &doc["results"][0];
    assert_eq!(r["root_cause"]["kind"], "resolver-unreachable");
    assert!(
        r["findings"].as_array().unwrap().is_empty(),
        "nothing is reported missing"
    );
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "unknown")
    );
    assert_eq!(r["score"]["grade"], serde_json::Value::Null);
    drop(silent);
}

#[tokio::test]
async fn a_closed_resolver_port_ends_with_exit_3() {
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let addr = port.to_string();
    let run = mailcheck(&["--resolver", &addr, "good.test"]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(&addr), "{}", run.stderr);
    assert!(
        run.stdout.contains("Nothing could be checked"),
        "{}",
        run.stdout
    );
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
}

#[tokio::test]
async fn quiet_prints_nothing_but_keeps_the_exit_code() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let mut args = vec!["-q", "--resolver", &resolver, "twospf.test"];
    args.extend_from_slice(DNS_ONLY);
    let run = mailcheck(&args).await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty() && run.stderr.is_empty());
}

#[tokio::test]
async fn idn_input_is_audited_as_its_a_label() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", &resolver, "--format", "json", "Bücher.TEST."];
    args.extend_from_slice(DNS_ONLY);
    let run = mailcheck(&args).await;
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["results"][0]["domain"], "xn--bcher-kva.test");
    assert_eq!(doc["results"][0]["input"], "Bücher.TEST.");
    assert_eq!(lab.queries("xn--bcher-kva.test", "MX"), 1);
}

#[tokio::test]
async fn ctrl_c_exits_130() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(["--resolver", &addr, "good.test"])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = child.id().unwrap().to_string();
    let kill = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(130));
}

#[tokio::test]
async fn completions_and_man_page_come_from_the_cli_definition() {
    let run = mailcheck(&["completions", "bash"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in ["_mailcheck", "--select", "--ignore", "explain", "demo"] {
        assert!(run.stdout.contains(expected), "{expected}");
    }
    let run = mailcheck(&["completions", "zsh"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("#compdef mailcheck"));
    let run = mailcheck(&["completions", "tcsh"]).await;
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
    let run = mailcheck(&["manpage"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(".TH mailcheck"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
    assert!(
        run.stdout.contains("\\-\\-fail\\-on"),
        "options are documented"
    );
}
