//! Bulk input and output: JSONL appended to a file and `--resume`, CSV, `--shard`, the closing
//! summary, and Ctrl-C keeping what completed.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use mailcheck::lab::Lab;
use mailcheck::lab::smtp::{Greeting, SmtpListener, SmtpSpec};
use mailcheck::report::{CSV_COLUMNS, DomainReport};

use crate::support::{DNS_ONLY, lab, mailcheck};

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

fn list(domains: &[&str]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for d in domains {
        writeln!(f, "{d}").unwrap();
    }
    f
}

fn jsonl_domains(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            serde_json::from_str::<DomainReport>(l)
                .expect("every line a whole report")
                .domain
        })
        .collect()
}

fn args<'a>(resolver: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["--resolver", resolver];
    a.extend_from_slice(DNS_ONLY);
    a.extend_from_slice(extra);
    a
}

#[tokio::test]
async fn jsonl_to_a_file_is_appended_and_resume_skips_what_it_has() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.jsonl");
    let out_s = out.display().to_string();
    let first = mailcheck(&args(
        &resolver,
        &["--format", "jsonl", "-o", &out_s, "good.test"],
    ))
    .await;
    assert!(first.stdout.is_empty(), "the lines go to the file");
    assert_eq!(
        jsonl_domains(&std::fs::read_to_string(&out).unwrap()),
        ["good.test"]
    );
    assert_eq!(lab.queries("good.test", "TXT"), 1);
    // A run killed mid-line leaves a torn last line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&out)
        .unwrap()
        .write_all(b"{\"schema_version\":1,\"domain\":\"nospf.te")
        .unwrap();
    let input = list(&["good.test", "nospf.test", "twospf.test"]);
    let file = input.path().display().to_string();
    let resumed = mailcheck(&args(
        &resolver,
        &["--format", "jsonl", "-o", &out_s, "--resume", "-f", &file],
    ))
    .await;
    assert!(
        resumed
            .stderr
            .contains("resuming: 1 of 3 domains already in"),
        "{}",
        resumed.stderr
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut domains = jsonl_domains(&text);
    assert_eq!(
        domains[0], "good.test",
        "the earlier line is kept as it was"
    );
    domains.sort();
    assert_eq!(domains, ["good.test", "nospf.test", "twospf.test"]);
    assert_eq!(
        lab.queries("good.test", "TXT"),
        1,
        "the domain already in the file was not audited again"
    );
    // Resuming a finished run audits nothing and changes nothing.
    let again = mailcheck(&args(
        &resolver,
        &["--format", "jsonl", "-o", &out_s, "--resume", "-f", &file],
    ))
    .await;
    assert!(
        again.stderr.contains("resuming: 3 of 3"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    // --resume needs a JSONL file to read.
    let bad = mailcheck(&args(&resolver, &["--resume", "good.test"])).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("--resume needs --format jsonl and -o FILE")
    );
}

#[tokio::test]
async fn csv_has_the_documented_header_and_one_row_per_domain_in_input_order() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let run = mailcheck(&args(
        &resolver,
        &["--format", "csv", "nospf.test", "good.test", "twospf.test"],
    ))
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let col = |row: &csv::StringRecord, name: &str| {
        row.get(CSV_COLUMNS.iter().position(|c| *c == name).unwrap())
            .unwrap()
            .to_owned()
    };
    let names: Vec<String> = rows.iter().map(|r| col(r, "domain")).collect();
    assert_eq!(names, ["nospf.test", "good.test", "twospf.test"]);
    let (_, doc) = crate::support::audit_json(&lab, &["good.test"], &[]).await;
    let good = &rows[1];
    assert_eq!(col(good, "mx_hosts"), "mx1.good.test mx2.good.test");
    assert_eq!(col(good, "spf_all"), "-all");
    assert_eq!(col(good, "dmarc_policy"), "reject");
    assert_eq!(col(good, "dkim_selectors"), "selector1");
    assert_eq!(col(good, "mta_sts"), "none");
    assert_eq!(
        col(good, "starttls_total"),
        "0",
        "--no-smtp: nothing probed"
    );
    let r = &doc["results"][0];
    assert_eq!(col(good, "grade"), r["score"]["grade"].as_str().unwrap());
    assert_eq!(col(good, "warnings"), r["counts"]["warning"].to_string());
    assert_eq!(col(&rows[0], "spf_all"), "none");
    assert_eq!(col(&rows[2], "spf_all"), "multiple");
    assert!(col(&rows[2], "findings").split(' ').any(|c| c == "SPF002"));
    // The closing summary goes to stderr.
    assert!(
        run.stderr.contains("3 of 3 domains audited") && run.stderr.contains("grades: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("most common findings: "),
        "{}",
        run.stderr
    );
    let quiet = mailcheck(&args(
        &resolver,
        &["--format", "csv", "--quiet", "nospf.test", "good.test"],
    ))
    .await;
    assert!(
        quiet.stderr.is_empty(),
        "--quiet: no summary: {}",
        quiet.stderr
    );
    let not_for_rules = mailcheck(&["rules", "--format", "csv"]).await;
    assert_eq!(not_for_rules.code, 2);
}

#[tokio::test]
async fn shards_are_disjoint_and_together_cover_the_input() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let input: Vec<String> = (0..24).map(|i| format!("host{i}.shard.test")).collect();
    let refs: Vec<&str> = input.iter().map(String::as_str).collect();
    let file = list(&refs);
    let path = file.path().display().to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = mailcheck(&args(
            &resolver,
            &["--format", "jsonl", "--shard", &shard, "-f", &path],
        ))
        .await;
        let got = jsonl_domains(&run.stdout);
        sizes.push(got.len());
        seen.extend(got);
        // The same shard is the same set on every run.
        let again = mailcheck(&args(
            &resolver,
            &["--format", "jsonl", "--shard", &shard, "-f", &path],
        ))
        .await;
        let mut a = jsonl_domains(&again.stdout);
        let mut b = seen[seen.len() - sizes[k - 1]..].to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b, "shard {shard} is deterministic");
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no domain is in two shards");
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        input.into_iter().collect()
    );
    assert!(
        sizes.iter().all(|n| *n > 0),
        "every shard has some: {sizes:?}"
    );
    let bad = mailcheck(&args(&resolver, &["--shard", "4/3", "good.test"])).await;
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--shard \"4/3\""), "{}", bad.stderr);
}

/// Two quick DNS-only domains and one whose MX never greets: Ctrl-C mid-run keeps the two.
async fn stalling_lab(block: u8) -> (Lab, SmtpListener) {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, block, 1));
    let listener = SmtpListener::start(ip, 0, {
        let mut spec = SmtpSpec::new("mx.slow.test", None);
        spec.greeting = Greeting::Never;
        spec
    })
    .await
    .unwrap();
    let mut zone = String::from(SOA);
    let _ = writeln!(zone, "@ 300 IN MX 10 mx\nmx 300 IN A 127.0.{block}.1");
    zone.push_str("fast1 300 IN TXT \"v=spf1 -all\"\nfast2 300 IN TXT \"v=spf1 -all\"\n");
    let lab = Lab::builder()
        .zone("slow.test", &zone)
        .start()
        .await
        .unwrap();
    (lab, listener)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "waited too long for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn interrupt(child: tokio::process::Child) -> std::process::Output {
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the run ends soon after Ctrl-C")
        .unwrap()
}

fn spawn(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(args)
        .env_remove("MAILCHECK_RESOLVER")
        .env_remove("MAILCHECK_SPAMHAUS_DQS_KEY")
        .env_remove("MAILCHECK_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn ctrl_c_keeps_the_completed_results_and_exits_130() {
    let (lab, listener) = stalling_lab(60).await;
    let resolver = lab.addr().to_string();
    let port = listener.addr().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let input = list(&["slow.test", "fast1.slow.test", "fast2.slow.test"]);
    let file = input.path().display().to_string();
    let common = [
        "--resolver",
        &resolver,
        "--allow-private",
        "--no-blocklists",
        "--smtp-port",
        &port,
        "--smtp-timeout",
        "120",
        "-f",
        &file,
    ];
    // JSONL: the lines of the completed domains are in the file as each completed.
    let out = dir.path().join("run.jsonl");
    let out_s = out.display().to_string();
    let mut a = common.to_vec();
    a.extend(["--format", "jsonl", "-o", &out_s]);
    let child = spawn(&a);
    wait_for("two lines", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 2)
    })
    .await;
    wait_for("the stalled probe", || listener.connections() >= 1).await;
    let done = interrupt(child).await;
    assert_eq!(done.status.code(), Some(130));
    let mut got = jsonl_domains(&std::fs::read_to_string(&out).unwrap());
    got.sort();
    assert_eq!(got, ["fast1.slow.test", "fast2.slow.test"]);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(
        stderr.contains("interrupted: the report holds the 2 of 3"),
        "{stderr}"
    );
    // JSON: the document is written with the completed domains, in input order.
    let doc_path = dir.path().join("run.json");
    let doc_s = doc_path.display().to_string();
    let mut a = common.to_vec();
    a.extend(["--format", "json", "-o", &doc_s]);
    let before = listener.connections();
    let child = spawn(&a);
    wait_for("the stalled probe", || listener.connections() > before).await;
    // The quick domains need only a handful of loopback DNS answers.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let done = interrupt(child).await;
    assert_eq!(done.status.code(), Some(130));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&doc_path).unwrap()).unwrap();
    let names: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fast1.slow.test", "fast2.slow.test"]);
}
