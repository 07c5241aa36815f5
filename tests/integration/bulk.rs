//! Bulk runs: domains from a file, JSONL streamed as each completes, and no repeated work — every
//! (name, type) asked once and every (address, MX name) probed once, by the servers' own counts.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use mailcheck::lab::Lab;
use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
use mailcheck::report::DomainReport;

use crate::support::{lab, mailcheck};

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

/// 5 MX hosts and 3 SPF include trees in `shared.test`, used by 50 domains `d0…d49.bulk.test`.
fn zones() -> (String, String) {
    let mut shared = String::from(SOA);
    shared.push_str("@ 300 IN MX 10 mx1\n*._report._dmarc 300 IN TXT \"v=DMARC1\"\n");
    for h in 1..=5 {
        let _ = writeln!(
            shared,
            "mx{h} 300 IN A 127.0.77.{h}\nmx{h} 300 IN TXT \"v=spf1 a -all\""
        );
    }
    shared.push_str(
        "_spf1 300 IN TXT \"v=spf1 include:_n1.shared.test ip4:198.51.100.0/24 ~all\"\n\
         _n1 300 IN TXT \"v=spf1 ip4:203.0.113.0/24 -all\"\n\
         _spf2 300 IN TXT \"v=spf1 include:_n2.shared.test include:_n3.shared.test -all\"\n\
         _n2 300 IN TXT \"v=spf1 a:mx2.shared.test -all\"\n\
         _n3 300 IN TXT \"v=spf1 ip6:2001:db8::/32 -all\"\n\
         _spf3 300 IN TXT \"v=spf1 a:mx3.shared.test a:mx4.shared.test -all\"\n\
         _dmarc 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@shared.test\"\n",
    );
    let mut bulk = String::from(SOA);
    for i in 0..50 {
        let (a, b, k) = (i % 5 + 1, (i + 1) % 5 + 1, i % 3 + 1);
        let _ = writeln!(
            bulk,
            "d{i} 300 IN MX 10 mx{a}.shared.test.\nd{i} 300 IN MX 20 mx{b}.shared.test.\n\
             d{i} 300 IN TXT \"v=spf1 include:_spf{k}.shared.test -all\"\n\
             _dmarc.d{i} 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@shared.test\""
        );
    }
    (shared, bulk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_domains_share_every_lookup_and_every_probe() {
    let (shared, bulk) = zones();
    let lab = Lab::builder()
        .zone("shared.test", &shared)
        .zone("bulk.test", &bulk)
        .start()
        .await
        .unwrap();
    let ip = |h| IpAddr::V4(Ipv4Addr::new(127, 0, 77, h));
    let first = SmtpListener::start(ip(1), 0, SmtpSpec::new("mx1.shared.test", None))
        .await
        .unwrap();
    let port = first.addr().port();
    let mut listeners = vec![first];
    for h in 2..=5 {
        let name = format!("mx{h}.shared.test");
        listeners.push(
            SmtpListener::start(ip(h), port, SmtpSpec::new(&name, None))
                .await
                .unwrap(),
        );
    }
    let mut list = tempfile::NamedTempFile::new().unwrap();
    for i in 0..50 {
        writeln!(list, "d{i}.bulk.test").unwrap();
    }
    let (resolver, port, file) = (
        lab.addr().to_string(),
        port.to_string(),
        list.path().display().to_string(),
    );
    let run = mailcheck(&[
        "--resolver",
        &resolver,
        "--format",
        "jsonl",
        "--allow-private",
        "--no-blocklists",
        "--smtp-port",
        &port,
        "--smtp-timeout",
        "5",
        "-f",
        &file,
    ])
    .await;
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let reports: Vec<DomainReport> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one report per line"))
        .collect();
    assert_eq!(reports.len(), 50);
    let mut domains: Vec<&str> = reports.iter().map(|r| r.domain.as_str()).collect();
    domains.sort_unstable();
    domains.dedup();
    assert_eq!(domains.len(), 50);
    // DNS: mailcheck asks for every (name, type) once in the run: the queries it counts as sent
    // add up, over all 50 domains, to the distinct pairs the lab received.
    let log = lab.query_log();
    let sent: u64 = reports.iter().map(|r| r.stats.dns_queries).sum();
    assert_eq!(
        sent,
        log.len() as u64,
        "each (name, type) asked once, counted by one domain"
    );
    // On the wire: every (name, type) received exactly once, none over TCP. (hickory's UDP
    // stream would resend a query unanswered after 1.2 × the smoothed round-trip time; mailcheck
    // sends once per try, so under load the server still sees each question once.)
    let repeated: Vec<_> = log.iter().filter(|(_, _, n)| *n != 1).collect();
    assert!(repeated.is_empty(), "asked more than once: {repeated:?}");
    let tcp: u64 = log
        .iter()
        .map(|(name, t, _)| lab.tcp_queries(name, t))
        .sum();
    assert_eq!(tcp, 0, "no query went over TCP");
    assert_eq!(
        lab.queries("_spf2.shared.test", "TXT"),
        1,
        "17 domains include it"
    );
    // SMTP: 5 distinct (address, MX name) pairs across 50 domains, 5 connections.
    for (h, l) in listeners.iter().enumerate() {
        assert_eq!(l.connections(), 1, "mx{} connections", h + 1);
    }
}

#[tokio::test]
async fn domains_from_a_file_or_stdin_with_comments_csv_duplicates_and_bad_lines() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let mut list = tempfile::NamedTempFile::new().unwrap();
    write!(list, "# fleet\n\ngood.test\nNOSPF.test.,owner@example.com,2024\n\"twospf.test\",x\ngood.test\nexa mple.test\nfoo\n").unwrap();
    let file = list.path().display().to_string();
    let args = [
        "--resolver",
        &resolver,
        "--format",
        "jsonl",
        "--no-smtp",
        "--no-blocklists",
        "--allow-private",
        "-f",
        &file,
    ];
    let run = mailcheck(&args).await;
    let domains: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["domain"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = domains.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["good.test", "nospf.test", "twospf.test"],
        "each valid domain once"
    );
    assert!(
        run.stderr.contains(":7: "),
        "the bad line is named: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(":8: \"foo\" is a single label"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.code, 2,
        "invalid input lines make the exit code 2, after the audit"
    );
    // Stdin, with the JSON document format: input order is kept.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args([
            "--resolver",
            &resolver,
            "--format",
            "json",
            "--no-smtp",
            "--no-blocklists",
            "--allow-private",
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, b"twospf.test\ngood.test\n")
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["results"][0]["domain"], "twospf.test");
    assert_eq!(doc["results"][1]["domain"], "good.test");
    assert_eq!(out.status.code(), Some(1));
}
