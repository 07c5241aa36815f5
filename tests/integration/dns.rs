//! The DNS layer against a real server: every outcome kept apart, answers shared, bytes kept.

use std::time::{Duration, Instant};

use mailcheck::dns::{Dns, FailureKind, Lookup, ResolverSettings};
use mailcheck::lab::{Fault, Lab};

use crate::support::{dns, lab};

#[tokio::test]
async fn nxdomain_nodata_and_found_are_told_apart() {
    let lab = lab().await;
    let dns = dns(lab.addr());
    assert!(
        matches!(dns.a("mx1.good.test").await, Lookup::Found { ref records, .. } if records.len() == 1)
    );
    assert_eq!(dns.a("nowhere.good.test").await, Lookup::NxDomain);
    assert_eq!(dns.mx("mx1.good.test").await, Lookup::NoData);
    assert_eq!(dns.txt("missing.test").await, Lookup::NxDomain);
}

#[tokio::test]
async fn servfail_refused_and_timeout_are_failures_not_absence() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .fault("sf.good.test", Fault::ServFail)
        .fault("rf.good.test", Fault::Refused)
        .fault("to.good.test", Fault::Timeout)
        .start()
        .await
        .unwrap();
    let dns = dns(lab.addr());
    let kind = |l: Lookup<Vec<String>>| l.failure().map(|f| f.kind);
    assert_eq!(
        kind(dns.ns("sf.good.test").await),
        Some(FailureKind::Servfail)
    );
    assert_eq!(
        kind(dns.ns("rf.good.test").await),
        Some(FailureKind::Refused)
    );
    let start = Instant::now();
    assert_eq!(
        kind(dns.ns("to.good.test").await),
        Some(FailureKind::Timeout)
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "timeout bounded: {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn truncated_udp_answers_are_retried_over_tcp() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .fault("good.test", Fault::Truncate)
        .start()
        .await
        .unwrap();
    let dns = dns(lab.addr());
    let txt = dns.txt("good.test").await;
    assert_eq!(txt.records().map(Vec::len), Some(2), "{txt:?}");
    assert_eq!(
        lab.queries("good.test", "TXT"),
        2,
        "one UDP query, one TCP retry"
    );
}

#[tokio::test]
async fn concurrent_identical_queries_are_sent_once() {
    let lab = lab().await;
    let dns = dns(lab.addr());
    let lookups = (0..20).map(|_| dns.txt("good.test"));
    let answers = futures_util::future::join_all(lookups).await;
    assert!(answers.iter().all(|a| a == &answers[0]));
    assert_eq!(lab.queries("good.test", "TXT"), 1);
    assert_eq!(dns.total_queries(), 1);
    // Later lookups come from the run's cache too.
    dns.txt("GOOD.test.").await;
    assert_eq!(lab.queries("good.test", "TXT"), 1);
}

#[tokio::test]
async fn txt_strings_are_kept_as_published_and_joined_without_separators() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .txt_bytes(
            "raw.good.test",
            &[b"v=spf1 ", b"ip4:192.0.2.1\0", &[0xff, b'x']],
        )
        .start()
        .await
        .unwrap();
    let dns = dns(lab.addr());
    let Lookup::Found { records, .. } = dns.txt("longspf.test").await else {
        panic!("found")
    };
    let lens: Vec<usize> = records[0]
        .strings
        .iter()
        .map(mailcheck::bytes::ByteString::len)
        .collect();
    assert_eq!(lens, [255, 255, 194]);
    assert!(records[0].text().starts_with("v=spf1 ip4:198.51.100.1 "));
    assert!(!records[0].text().contains("  "));
    assert_eq!(records[0].text().len(), 704);
    let Lookup::Found { records, .. } = dns.txt("raw.good.test").await else {
        panic!("found")
    };
    assert_eq!(records[0].strings.len(), 3);
    assert_eq!(records[0].joined().0, b"v=spf1 ip4:192.0.2.1\0\xffx");
}

#[tokio::test]
async fn every_nth_fault_fails_only_those_queries() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .fault("good.test", Fault::FailEvery(2))
        .start()
        .await
        .unwrap();
    // Fresh resolvers, so each lookup really reaches the server.
    let first = dns(lab.addr()).mx("good.test").await;
    let second = dns(lab.addr()).mx("good.test").await;
    let third = dns(lab.addr()).mx("good.test").await;
    assert!(first.records().is_some());
    assert_eq!(
        second.failure().map(|f| f.kind),
        Some(FailureKind::Servfail)
    );
    assert!(third.records().is_some());
}

#[tokio::test]
async fn a_deadline_turns_slow_lookups_into_timeouts() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .fault("good.test", Fault::Timeout)
        .start()
        .await
        .unwrap();
    let dns = Dns::new(&ResolverSettings {
        servers: Some(vec![lab.addr()]),
        timeout: Duration::from_secs(30),
        tries: 1,
        qps: None,
        dnssec: None,
    })
    .unwrap();
    let start = Instant::now();
    let scoped = dns.scoped_until(start + Duration::from_millis(300));
    let l = scoped.mx("good.test").await;
    assert_eq!(l.failure().map(|f| f.kind), Some(FailureKind::Timeout));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn cname_chains_are_part_of_the_answer() {
    let lab = lab().await;
    let dns = dns(lab.addr());
    let Lookup::Found { records, cnames } = dns.a("www.good.test").await else {
        panic!("found")
    };
    assert_eq!(
        records,
        ["127.0.0.10".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    assert_eq!(cnames.len(), 1);
    assert_eq!(
        (cnames[0].name.as_str(), cnames[0].target.as_str()),
        ("www.good.test", "mx1.good.test")
    );
}

#[tokio::test]
async fn records_of_types_hickory_does_not_model_are_served() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .raw("type99.good.test", 99, b"\x0bv=spf1 -all")
        .start()
        .await
        .unwrap();
    // Asked for TXT, the name exists but holds only type 99: NODATA, not NXDOMAIN.
    assert_eq!(
        dns(lab.addr()).txt("type99.good.test").await,
        Lookup::NoData
    );
    assert_eq!(lab.queries("type99.good.test", "TXT"), 1);
}
