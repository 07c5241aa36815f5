//! What reaches the wire: one message per question and try, `--qps` spacing, and a per-run
//! cache that keeps shared answers and drops one domain's own, all by the lab's own log.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use mailcheck::dns::{Dns, Lookup, RETIRED, ResolverSettings};
use mailcheck::lab::Lab;

use crate::support::mailcheck;

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

fn resolver(lab: &Lab, qps: Option<u32>) -> Dns {
    Dns::new(&ResolverSettings {
        servers: Some(vec![lab.addr()]),
        timeout: Duration::from_secs(5),
        tries: 2,
        qps,
        dnssec: None,
    })
    .unwrap()
}

/// 40 names `n0…n39.wire.test`, each with a TXT record.
async fn wire_lab(latency: Duration) -> Lab {
    let mut zone = String::from(SOA);
    for i in 0..40 {
        let _ = writeln!(zone, "n{i} 300 IN TXT \"record {i}\"");
    }
    zone.push_str("shared 300 IN A 192.0.2.1\n");
    Lab::builder()
        .zone("wire.test", &zone)
        .latency(latency)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_slow_server_sees_each_question_once() {
    // 600 ms a round trip: hickory's UDP stream alone would send the question again after
    // 333 ms (its retry floor) without waiting for the answer.
    let lab = wire_lab(Duration::from_millis(600)).await;
    let dns = resolver(&lab, None);
    let start = Instant::now();
    let answers = futures_util::future::join_all((0..5).map(|i| {
        let dns = &dns;
        async move {
            matches!(
                dns.txt(&format!("n{i}.wire.test")).await,
                Lookup::Found { .. }
            )
        }
    }))
    .await;
    assert!(answers.iter().all(|found| *found), "all answered");
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "the lab's latency delays the answers"
    );
    let log = lab.received();
    assert_eq!(log.len(), 5, "one message per question: {log:?}");
    assert!(log.iter().all(|r| !r.tcp));
}

#[tokio::test]
async fn qps_spaces_the_queries_sent() {
    let lab = wire_lab(Duration::ZERO).await;
    let dns = resolver(&lab, Some(20));
    let names: Vec<String> = (0..10).map(|i| format!("n{i}.wire.test")).collect();
    futures_util::future::join_all(names.iter().map(|n| dns.txt(n))).await;
    let log = lab.received();
    assert_eq!(log.len(), 10);
    // Sent 50 ms apart: the first and the last arrive at least 9 × 50 ms apart (less what a
    // late first packet could take off; loopback delivers in microseconds).
    let span = log[9].at.saturating_sub(log[0].at);
    assert!(span >= Duration::from_millis(400), "span {span:?}");
    for pair in log.windows(2) {
        assert!(
            pair[1].at.saturating_sub(pair[0].at) >= Duration::from_millis(25),
            "{pair:?}"
        );
    }
}

#[tokio::test]
async fn qps_is_a_cli_option_and_zero_is_a_usage_error() {
    let lab = wire_lab(Duration::ZERO).await;
    let resolver = lab.addr().to_string();
    let run = mailcheck(&[
        "--resolver",
        &resolver,
        "--qps",
        "0",
        "--no-smtp",
        "n1.wire.test",
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = mailcheck(&[
        "--resolver",
        &resolver,
        "--qps",
        "100",
        "--no-smtp",
        "--no-blocklists",
        "--format",
        "json",
        "n1.wire.test",
    ])
    .await;
    assert!(run.code < 2, "{}", run.stderr);
    let log = lab.received();
    assert!(log.len() > 20, "a full audit asks many names");
    // 100 a second: 10 ms apart, so n queries take at least (n - 1) × 10 ms.
    let span = log[log.len() - 1].at.saturating_sub(log[0].at);
    let floor = Duration::from_millis(10 * (log.len() as u64 - 1) * 8 / 10);
    assert!(span >= floor, "{} queries in {span:?}", log.len());
}

#[tokio::test]
async fn a_finished_domain_releases_its_own_names_and_shared_ones_stay() {
    let lab = wire_lab(Duration::ZERO).await;
    let dns = resolver(&lab, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    // One audit after the other, never overlapping: 40 domains, each asking its own name and
    // one name outside its tree that every domain shares.
    for i in 0..40 {
        let domain = format!("n{i}.wire.test");
        let scoped = dns.scoped_for(&domain, deadline);
        assert!(matches!(scoped.txt(&domain).await, Lookup::Found { .. }));
        assert!(matches!(
            scoped.txt(&format!("_dmarc.{domain}")).await,
            Lookup::NxDomain
        ));
        assert!(matches!(
            scoped.a("shared.wire.test").await,
            Lookup::Found { .. }
        ));
        drop(scoped);
        assert_eq!(
            dns.cached(),
            1,
            "after {domain}: only the shared name is kept"
        );
    }
    assert_eq!(
        lab.queries("shared.wire.test", "A"),
        1,
        "asked once for all 40"
    );
    assert_eq!(lab.received().len(), 81);
    // A name outside a domain's tree that only one finished audit asked for waits in a bounded
    // queue: kept for a later domain, never more than RETIRED of them.
    let scoped = dns.scoped_for("n0.wire.test", deadline);
    scoped.txt("n1.wire.test").await;
    drop(scoped);
    assert_eq!(dns.cached(), 2);
    let scoped = dns.scoped_for("n2.wire.test", deadline);
    scoped.txt("n1.wire.test").await;
    drop(scoped);
    assert_eq!(
        lab.queries("n1.wire.test", "TXT"),
        2,
        "asked again after its own audit released it, then shared"
    );
    assert!(dns.cached() <= 2 + RETIRED);
}

#[tokio::test]
async fn lab_serve_delays_answers_and_logs_every_query() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(["lab", "serve", "--addr", "127.0.0.1:0", "--latency", "300"])
        .arg("--log")
        .arg(log.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut line),
    )
    .await
    .expect("the address is printed")
    .unwrap();
    let addr: std::net::SocketAddr = line.trim().parse().expect("an address alone");
    let dns = Dns::new(&ResolverSettings {
        servers: Some(vec![addr]),
        timeout: Duration::from_secs(5),
        tries: 1,
        qps: None,
        dnssec: None,
    })
    .unwrap();
    let start = Instant::now();
    assert!(matches!(dns.mx("good.test").await, Lookup::Found { .. }));
    assert!(start.elapsed() >= Duration::from_millis(300), "delayed");
    assert_eq!(dns.a("nowhere.good.test").await, Lookup::NxDomain);
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("it stops on SIGTERM")
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 queries received, 2 distinct (name, type), 0 over TCP"),
        "{stderr}"
    );
    let logged = std::fs::read_to_string(log.path()).unwrap();
    let lines: Vec<Vec<&str>> = logged.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{logged}");
    assert_eq!(lines[0][1..], ["udp", "good.test", "MX"]);
    assert_eq!(lines[1][1..], ["udp", "nowhere.good.test", "A"]);
    assert!(lines[1][0].parse::<f64>().unwrap() >= lines[0][0].parse::<f64>().unwrap() + 300.0);
}
