//! Politeness in bulk: at most N connections at once to one address, and no Spamhaus queries
//! in big runs without a DQS key.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use mailcheck::lab::Lab;
use mailcheck::lab::smtp::{Greeting, SmtpListener, SmtpSpec};

use crate::support::{mailcheck, mailcheck_with};

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

/// A domain with six MX names that all share one address (as a provider's names often do).
async fn shared_address(block: u8) -> (Lab, SmtpListener) {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, block, 1));
    let mut spec = SmtpSpec::new("mx.cap.test", None);
    spec.greeting = Greeting::Delayed(Duration::from_millis(400));
    let listener = SmtpListener::start(ip, 0, spec).await.unwrap();
    let mut zone = String::from(SOA);
    for n in 1..=6 {
        let _ = writeln!(zone, "@ 300 IN MX {n} m{n}\nm{n} 300 IN A 127.0.{block}.1");
    }
    let lab = Lab::builder()
        .zone("cap.test", &zone)
        .start()
        .await
        .unwrap();
    (lab, listener)
}

async fn probe(lab: &Lab, listener: &SmtpListener, extra: &[&str]) {
    let (resolver, port) = (lab.addr().to_string(), listener.addr().port().to_string());
    let mut args = vec![
        "--resolver",
        &resolver,
        "--allow-private",
        "--no-blocklists",
        "--smtp-port",
        &port,
        "--smtp-timeout",
        "10",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args.push("cap.test");
    let run = mailcheck(&args).await;
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let probes = doc["results"][0]["facts"]["smtp"]["probes"]
        .as_array()
        .unwrap();
    assert_eq!(probes.len(), 6, "one probe per MX name");
    assert!(
        probes.iter().all(|p| p["greeting"]["code"] == 220),
        "every probe got its greeting in the end: {probes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_to_one_address_are_capped() {
    let (lab, listener) = shared_address(61).await;
    probe(&lab, &listener, &[]).await;
    assert_eq!(listener.connections(), 6);
    assert_eq!(listener.peak_connections(), 2, "the default cap is 2");
    let (lab, listener) = shared_address(62).await;
    probe(&lab, &listener, &["--per-host-connections", "3"]).await;
    assert_eq!(listener.connections(), 6);
    assert_eq!(listener.peak_connections(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_runs_without_a_dqs_key_skip_spamhaus_and_say_so() {
    let mut zone = String::from(SOA);
    let mut list = tempfile::NamedTempFile::new().unwrap();
    for i in 0..101 {
        let _ = writeln!(zone, "d{i} 300 IN TXT \"v=spf1 -all\"");
        writeln!(list, "d{i}.many.test").unwrap();
    }
    let lab = Lab::builder()
        .zone("many.test", &zone)
        .start()
        .await
        .unwrap();
    let (resolver, file) = (lab.addr().to_string(), list.path().display().to_string());
    let args = [
        "--resolver",
        &resolver,
        "--no-smtp",
        "--allow-private",
        "--format",
        "jsonl",
        "-f",
        &file,
    ];
    let run = mailcheck(&args).await;
    assert!(
        run.stderr
            .contains("Spamhaus lists not asked: a run of 101 domains (over 100)"),
        "{}",
        run.stderr
    );
    let first: serde_json::Value =
        serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    let skipped: Vec<&str> = first["facts"]["dnsbl"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["zone"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["zen.spamhaus.org", "dbl.spamhaus.org"]);
    let bl003 = first["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "BL003")
        .unwrap();
    assert_eq!(bl003["status"], "not-run");
    assert!(
        bl003["reason"]
            .as_str()
            .unwrap()
            .contains("Spamhaus DBL not asked")
    );
    assert_eq!(lab.queries("2.0.0.127.zen.spamhaus.org", "A"), 0);
    assert_eq!(lab.queries("dbltest.com.dbl.spamhaus.org", "A"), 0);
    assert!(
        lab.queries("2.0.0.127.bl.spamcop.net", "A") >= 1,
        "the other lists are still asked"
    );
    // Without blocklists, there is nothing to say.
    let mut off = args.to_vec();
    off.push("--no-blocklists");
    let quiet = mailcheck(&off).await;
    assert!(!quiet.stderr.contains("Spamhaus"), "{}", quiet.stderr);
    // With a DQS key, the same run asks Spamhaus (through DQS).
    let keyed = mailcheck_with(&args, &[("MAILCHECK_SPAMHAUS_DQS_KEY", "labkey")]).await;
    assert!(
        !keyed.stderr.contains("Spamhaus lists not asked"),
        "{}",
        keyed.stderr
    );
    assert!(lab.queries("2.0.0.127.labkey.zen.dq.spamhaus.net", "A") >= 1);
}
