//! Hostile and broken DNS data: forged answers, CNAME loops, deep include chains, oversized
//! answers, control bytes in records, and a resolver that fails a seeded share of questions.
//! Each test is bounded by the per-domain deadline and checks what the user is told.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mailcheck::lab::spoof::Spoofer;
use mailcheck::lab::{Chaos, Lab, LabRecord, fixture_dir};
use serde_json::Value;

use crate::support::{DNS_ONLY, all_codes, audit_json, mailcheck, status};

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

fn zone(body: &str) -> String {
    format!("{SOA}{body}")
}

#[tokio::test]
async fn forged_answers_with_a_wrong_id_or_source_are_ignored() {
    let real = Lab::builder()
        .zone(
            "spoof.test",
            &zone("@ IN MX 10 mx\nmx IN A 127.0.96.1\n@ IN TXT \"v=spf1 -all\"\n"),
        )
        .start()
        .await
        .unwrap();
    let forger = Lab::builder()
        .zone(
            "spoof.test",
            &zone("@ IN MX 10 evil\nevil IN A 127.0.96.66\n@ IN TXT \"v=spf1 +all\"\n"),
        )
        .start()
        .await
        .unwrap();
    let spoofer = Spoofer::start(real.addr(), forger.addr()).await.unwrap();
    let resolver = spoofer.addr().to_string();
    let mut args = vec!["--resolver", &resolver, "--format", "json"];
    args.extend_from_slice(DNS_ONLY);
    args.push("spoof.test");
    let run = mailcheck(&args).await;
    let doc: Value = serde_json::from_str(&run.stdout).expect(&run.stderr);
    let r = &doc["results"][0];
    assert!(spoofer.forged() >= 4, "the forgeries were sent first");
    let hosts: Vec<&str> = r["facts"]["mx"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        ["mx.spoof.test"],
        "the real answer, not the forged one"
    );
    assert_eq!(real.queries("spoof.test", "MX"), 1);
    assert_eq!(forger.queries("spoof.test", "MX"), 1);
    let spf = r["facts"]["spf"].to_string();
    assert!(
        spf.contains("v=spf1 -all") && !spf.contains("+all"),
        "{spf}"
    );
}

#[tokio::test]
async fn a_cname_loop_is_a_failed_lookup_not_a_missing_record() {
    let lab = Lab::builder()
        .zone(
            "loop.test",
            &zone(
                "@ IN MX 10 mx\nmx IN A 192.0.2.1\n@ IN TXT \"v=spf1 -all\"\n\
                 _dmarc IN CNAME a.loop.test.\na IN CNAME b.loop.test.\nb IN CNAME _dmarc.loop.test.\n",
            ),
        )
        .start()
        .await
        .unwrap();
    let (run, doc) = audit_json(&lab, &["loop.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(
        !all_codes(r).contains(&"DMARC001".to_owned()),
        "a loop is not \"no DMARC record\": {:?}",
        all_codes(r)
    );
    assert_eq!(status(r, "DMARC001"), "unknown", "{}", run.stderr);
}

#[tokio::test]
async fn a_hundred_deep_include_chain_is_cut_and_reported() {
    let mut body = String::from(
        "@ IN MX 10 mx\nmx IN A 192.0.2.1\n@ IN TXT \"v=spf1 include:i0.deep.test -all\"\n",
    );
    for i in 0..100 {
        let _ = writeln!(
            body,
            "i{i} IN TXT \"v=spf1 include:i{}.deep.test -all\"",
            i + 1
        );
    }
    let lab = Lab::builder()
        .zone("deep.test", &zone(&body))
        .start()
        .await
        .unwrap();
    let (_, doc) = audit_json(&lab, &["deep.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(
        all_codes(r).contains(&"SPF004".to_owned()),
        "{:?}",
        all_codes(r)
    );
    // The walk stops long before the end of the chain: nothing past depth 20 is ever asked.
    for i in 20..100 {
        assert_eq!(lab.queries(&format!("i{i}.deep.test"), "TXT"), 0, "i{i}");
    }
}

#[tokio::test]
async fn fifty_mx_records_are_all_listed_and_resolved_once() {
    let mut body = String::from("@ IN TXT \"v=spf1 -all\"\n");
    for i in 0..50 {
        let _ = writeln!(body, "@ IN MX {i} mx{i}\nmx{i} IN A 192.0.2.{}", i + 1);
    }
    let lab = Lab::builder()
        .zone("manymx.test", &zone(&body))
        .start()
        .await
        .unwrap();
    let (_, doc) = audit_json(&lab, &["manymx.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(r["facts"]["mx"]["hosts"].as_array().unwrap().len(), 50);
    for i in 0..50 {
        assert_eq!(lab.queries(&format!("mx{i}.manymx.test"), "A"), 1, "mx{i}");
    }
}

#[tokio::test]
async fn a_txt_record_of_a_thousand_strings_comes_over_tcp_and_is_joined() {
    let mut strings: Vec<Vec<u8>> = vec![b"v=spf1".to_vec()];
    for i in 0..998 {
        strings.push(format!(" ip4:10.{}.{}.0/24", i / 250, i % 250).into_bytes());
    }
    strings.push(b" -all".to_vec());
    let lab = Lab::builder()
        .zone("bigtxt.test", &zone("@ IN MX 10 mx\nmx IN A 192.0.2.1\n"))
        .record("bigtxt.test", LabRecord::Txt(strings))
        .start()
        .await
        .unwrap();
    let (_, doc) = audit_json(&lab, &["bigtxt.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(
        lab.tcp_queries("bigtxt.test", "TXT") >= 1,
        "too big for UDP"
    );
    let spf = r["facts"]["spf"].to_string();
    assert!(
        spf.contains("ip4:10.3.247.0/24 -all"),
        "joined in order: {spf:.400}"
    );
    assert!(
        all_codes(r).contains(&"SPF014".to_owned()),
        "{:?}",
        all_codes(r)
    );
}

#[tokio::test]
async fn control_bytes_in_txt_and_ptr_never_reach_the_terminal() {
    let nasty: &[u8] = b"v=spf1 \x1b[2J\x1b]0;pwned\x07 \x00\xff\xe2\x80\xae ip4:192.0.2.1 -all";
    let lab = Lab::builder()
        .zone(
            "nasty.test",
            &zone("@ IN MX 10 mx\nmx IN A 192.0.2.77\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n"),
        )
        .zone("2.0.192.in-addr.arpa", SOA)
        .txt_bytes("nasty.test", &[nasty])
        .record(
            "77.2.0.192.in-addr.arpa",
            LabRecord::Ptr("mx\u{1b}[31m\u{202e}.nasty.test".into()),
        )
        .start()
        .await
        .unwrap();
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str()];
    args.extend_from_slice(DNS_ONLY);
    args.push("nasty.test");
    let table = mailcheck(&args).await;
    for bad in ['\u{1b}', '\u{7}', '\0', '\u{202e}'] {
        assert!(
            !table.stdout.contains(bad),
            "{bad:?} in the table:\n{}",
            table.stdout
        );
    }
    assert!(
        table.stdout.contains("\\u{1b}"),
        "shown escaped:\n{}",
        table.stdout
    );
    let (_, doc) = audit_json(&lab, &["nasty.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(
        all_codes(r).contains(&"SPF003".to_owned()),
        "{:?}",
        all_codes(r)
    );
    let ptr = r["facts"]["ptr"].to_string();
    assert!(ptr.contains("nasty.test"), "{ptr}");
}

/// Every check's status, by code.
fn statuses(r: &Value) -> BTreeMap<String, String> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_resolver_failing_thirty_percent_never_makes_a_record_missing() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .start()
        .await
        .unwrap();
    // Every fixture domain: each has its own mix of records for the faults to hit.
    let names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".test.zone").map(|d| format!("{d}.test")))
        .collect();
    let domains: Vec<&str> = names.iter().map(String::as_str).collect();
    // A generous timeout: only the lab's SERVFAILs should make a lookup fail, not a loaded machine.
    let opts = ["--timeout", "5"];
    let (_, clean) = audit_json(&lab, &domains, &opts).await;
    let mut wrong = Vec::new();
    for seed in [1, 2, 3] {
        lab.set_chaos(Some(Chaos { percent: 30, seed }));
        let (run, chaotic) = audit_json(&lab, &domains, &opts).await;
        lab.set_chaos(None);
        let mut unknown = 0;
        for (c, f) in clean["results"]
            .as_array()
            .unwrap()
            .iter()
            .zip(chaotic["results"].as_array().unwrap())
        {
            let (before, after) = (statuses(c), statuses(f));
            for (code, was) in before.iter().filter(|(_, was)| *was != "unknown") {
                let now = &after[code];
                // A failure may hide what was there (unknown), never invent an absence.
                if !(now == was || now == "unknown") {
                    wrong.push(format!(
                        "seed {seed} {} {code}: {was} became {now}",
                        c["domain"]
                    ));
                }
                unknown += usize::from(now == "unknown" && was != "unknown");
            }
        }
        assert!(
            unknown > 0,
            "seed {seed}: the faults showed: {}",
            run.stderr
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// MX addresses in every disguise of a forbidden address: the probe contacts none of them (the
/// listener behind the plain and IPv4-mapped forms counts no connection), and each skip is a
/// finding.
#[tokio::test]
async fn disguised_forbidden_addresses_are_never_contacted() {
    use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
    let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 97, 1));
    let listener = SmtpListener::start(ip, 0, SmtpSpec::new("mx.disguise.test", None))
        .await
        .unwrap();
    let port = listener.addr().port().to_string();
    let lab = Lab::builder()
        .zone(
            "disguise.test",
            &zone(
                "@ IN MX 10 mx\n@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n\
                 mx IN A 127.0.97.1\nmx IN A 100.64.0.1\nmx IN A 169.254.1.1\n\
                 mx IN A 169.254.169.254\nmx IN AAAA ::ffff:127.0.97.1\n\
                 mx IN AAAA 64:ff9b::7f00:6101\nmx IN AAAA 2002:7f00:6101::1\n\
                 mx IN AAAA 64:ff9b::a9fe:a9fe\nmx IN AAAA fe80::1\nmx IN AAAA ::1\n",
            ),
        )
        .start()
        .await
        .unwrap();
    // No --allow-private: loopback and private addresses are forbidden too.
    let (_, doc) = crate::support::audit_json_with(
        &lab,
        &["disguise.test"],
        &[
            "--no-blocklists",
            "--smtp-port",
            &port,
            "--smtp-timeout",
            "3",
        ],
    )
    .await;
    let r = &doc["results"][0];
    let probes = r["facts"]["smtp"]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 10, "every address is accounted for");
    for p in probes {
        assert!(p["skipped"].is_string(), "{p}");
        assert!(p["connect_ms"].is_null(), "{p}");
    }
    assert_eq!(listener.connections(), 0, "nothing reached the listener");
    let skipped: usize = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "TLS014")
        .count();
    assert_eq!(skipped, 10, "one finding per skipped address");
}

/// The per-domain deadline holds whatever the servers do: a silent SMTP server and a DNS name
/// that never answers, with generous per-step timeouts, still end at the deadline.
#[tokio::test]
async fn the_domain_deadline_holds_against_stalling_servers() {
    use mailcheck::lab::smtp::{Greeting, SmtpListener, SmtpSpec};
    let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 97, 2));
    let mut spec = SmtpSpec::new("mx.stall.test", None);
    spec.greeting = Greeting::Never;
    let listener = SmtpListener::start(ip, 0, spec).await.unwrap();
    let port = listener.addr().port().to_string();
    let lab = Lab::builder()
        .zone(
            "stall.test",
            &zone("@ IN MX 10 mx\nmx IN A 127.0.97.2\n@ IN TXT \"v=spf1 -all\"\n"),
        )
        .fault("_dmarc.stall.test", mailcheck::lab::Fault::Timeout)
        .start()
        .await
        .unwrap();
    let start = std::time::Instant::now();
    let (run, doc) = crate::support::audit_json_with(
        &lab,
        &["stall.test"],
        &[
            "--allow-private",
            "--no-blocklists",
            "--smtp-port",
            &port,
            "--smtp-timeout",
            "60",
            "--timeout",
            "30",
            "--deadline",
            "3",
        ],
    )
    .await;
    // A hang guard, not a speed claim: without the deadline this takes over a minute.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "{}",
        run.stderr
    );
    let r = &doc["results"][0];
    assert_eq!(status(r, "TLS001"), "unknown");
    assert_eq!(
        status(r, "DMARC001"),
        "unknown",
        "a timeout is not \"no DMARC\""
    );
    assert_eq!(listener.connections(), 1);
}

/// DNS rebinding: a name that would answer with another address the second time is asked
/// once, and only the address the report shows is contacted, by every domain that uses it.
#[tokio::test]
async fn a_rebinding_name_is_resolved_once_and_only_its_checked_address_is_contacted() {
    use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
    let v4 = |h| std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 97, h));
    let good = SmtpListener::start(v4(10), 0, SmtpSpec::new("mx.rebind.test", None))
        .await
        .unwrap();
    let port = good.addr().port();
    let evil = SmtpListener::start(v4(11), port, SmtpSpec::new("mx.rebind.test", None))
        .await
        .unwrap();
    let body = |addr: &str| {
        zone(&format!(
            "@ IN MX 10 mx\nmx IN A {addr}\n@ IN TXT \"v=spf1 -all\"\n\
             b IN MX 10 mx.rebind.test.\nb IN TXT \"v=spf1 -all\"\n"
        ))
    };
    let first = Lab::builder()
        .zone("rebind.test", &body("127.0.97.10"))
        .start()
        .await
        .unwrap();
    let then = Lab::builder()
        .zone("rebind.test", &body("127.0.97.11"))
        .start()
        .await
        .unwrap();
    let rebinder = mailcheck::lab::spoof::Rebinder::start(first.addr(), then.addr())
        .await
        .unwrap();
    let resolver = rebinder.addr().to_string();
    let port = port.to_string();
    let run = mailcheck(&[
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
        "rebind.test",
        "b.rebind.test",
    ])
    .await;
    let doc: Value = serde_json::from_str(&run.stdout).expect(&run.stderr);
    assert_eq!(first.queries("mx.rebind.test", "A"), 1);
    assert_eq!(then.queries("mx.rebind.test", "A"), 0, "asked once");
    assert_eq!(good.connections(), 1, "one probe, shared by both domains");
    assert_eq!(
        evil.connections(),
        0,
        "the rebound address is never contacted"
    );
    for r in doc["results"].as_array().unwrap() {
        assert_eq!(
            r["facts"]["smtp"]["probes"][0]["ip"], "127.0.97.10",
            "{}",
            r["domain"]
        );
    }
}
