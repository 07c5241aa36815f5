//! The mailcheck benchmark (run it with `bash bench/run`; CI never does).
//!
//! Serves a generated domain set from the lab (DNS with a simulated round trip, SMTP listeners
//! with STARTTLS on every MX address, all on loopback), runs the release `mailcheck` binary
//! against it, and writes the figures to a Markdown file:
//!
//! 1. one full audit against the critical-path lower bound computed from the zone data;
//! 2. 1,000 domains at the default concurrency: domains/s, peak RSS, DNS queries received
//!    against the distinct (name, type) pairs, SMTP connections against the distinct
//!    (address, MX name) pairs;
//! 3. 10,000 domains streamed to JSONL: peak RSS;
//! 4. checkdmarc on the same domains, when given (it needs the lab on port 53).
#![allow(clippy::print_stderr)]
// A report of figures: counts shown as floats, one long main that reads top to bottom.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::too_many_lines
)]

mod zones;

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mailcheck::lab::Lab;
use mailcheck::lab::pki::{TestCa, Validity};
use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
use zones::{DomainSet, PROVIDERS, mx_hosts};

struct Args {
    mailcheck: PathBuf,
    checkdmarc: Option<PathBuf>,
    out: PathBuf,
    latency: u64,
    bulk: usize,
    big: usize,
    checkdmarc_domains: usize,
    /// Lab DNS on port 53 and SMTP on port 25 (inside a network namespace, as root).
    standard_ports: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        mailcheck: "target/release/mailcheck".into(),
        checkdmarc: None,
        out: "bench/RESULTS.md".into(),
        latency: 20,
        bulk: 1000,
        big: 10_000,
        checkdmarc_domains: 100,
        standard_ports: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mailcheck" => a.mailcheck = value()?.into(),
            "--checkdmarc" => a.checkdmarc = Some(value()?.into()),
            "--out" => a.out = value()?.into(),
            "--latency" => a.latency = value()?.parse()?,
            "--bulk" => a.bulk = value()?.parse()?,
            "--big" => a.big = value()?.parse()?,
            "--checkdmarc-domains" => a.checkdmarc_domains = value()?.parse()?,
            "--standard-ports" => a.standard_ports = true,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// The lab for one measurement: fresh counters each time.
struct Bed {
    lab: Lab,
    smtp: Vec<SmtpListener>,
    smtp_port: u16,
}

async fn bed(set: &DomainSet, args: &Args, ca: &TestCa) -> anyhow::Result<Bed> {
    // The previous bed's server tasks were aborted when it was dropped; let them go, so its
    // fixed ports (53, 25) are free again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut builder = Lab::builder().latency(Duration::from_millis(args.latency));
    for (origin, text) in &set.zones {
        builder = builder.zone(origin, text);
    }
    let dns_addr: SocketAddr = if args.standard_ports {
        "127.0.0.1:53".parse()?
    } else {
        "127.0.0.1:0".parse()?
    };
    let lab = builder.start_on(dns_addr).await?;
    let mut smtp = Vec::new();
    let mut port = if args.standard_ports { 25 } else { 0 };
    for p in 0..PROVIDERS {
        for (host, ip) in mx_hosts(p) {
            let cert = ca.leaf(&[&host], Validity::Long, true);
            let l = SmtpListener::start(
                IpAddr::V4(ip),
                port,
                SmtpSpec::new(&host, Some(cert.server_config())),
            )
            .await
            .with_context(|| format!("SMTP listener on {ip}:{port}"))?;
            port = l.addr().port();
            smtp.push(l);
        }
    }
    Ok(Bed {
        lab,
        smtp,
        smtp_port: port,
    })
}

impl Bed {
    fn smtp_connections(&self) -> u64 {
        self.smtp.iter().map(SmtpListener::connections).sum()
    }
}

struct Measured {
    wall: Duration,
    peak_rss_kb: u64,
    stdout_bytes: u64,
    code: Option<i32>,
}

/// Runs a command under `/usr/bin/time -v` for its peak RSS, stdout to `stdout`.
async fn measure(program: &Path, args: &[String], stdout: &Path) -> anyhow::Result<Measured> {
    let time_file = tempfile::NamedTempFile::new()?;
    let out = std::fs::File::create(stdout)?;
    let start = Instant::now();
    let status = tokio::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg("-o")
        .arg(time_file.path())
        .arg(program)
        .args(args)
        .stdout(out)
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .context("running /usr/bin/time")?;
    let wall = start.elapsed();
    let report = std::fs::read_to_string(time_file.path())?;
    let peak_rss_kb = report
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(Measured {
        wall,
        peak_rss_kb,
        stdout_bytes: std::fs::metadata(stdout)?.len(),
        code: status.code(),
    })
}

fn mailcheck_args(bed: &Bed, ca_file: &Path, extra: &[&str]) -> Vec<String> {
    // Validating DNSSEC, as against the real root: the lab signs its root with a key of the
    // run and keeps it in a file.
    let anchor = Lab::anchor_path(bed.lab.addr());
    let mut v: Vec<String> = [
        "--resolver",
        &bed.lab.addr().to_string(),
        "--trust-anchor",
        &anchor.display().to_string(),
        "--allow-private",
        "--smtp-port",
        &bed.smtp_port.to_string(),
        "--ca-file",
        &ca_file.display().to_string(),
        "--quiet",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // --quiet prints nothing; JSONL runs drop it to stream the lines.
    if extra.contains(&"--format") {
        v.pop();
    }
    v.extend(extra.iter().map(|s| (*s).to_owned()));
    v
}

/// Rounds of answers seen by the lab: arrivals more than half a round trip apart start a new one.
fn rounds(lab: &Lab, latency: Duration) -> usize {
    let log = lab.received();
    let mut n = 0;
    let mut last: Option<Duration> = None;
    for r in &log {
        if last.is_none_or(|l| r.at.saturating_sub(l) > latency / 2) {
            n += 1;
        }
        last = Some(r.at);
    }
    n
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0);
    format!(
        "{cpu}, {cores} cores available, {} GiB RAM",
        mem_kb / 1024 / 1024
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let latency = Duration::from_millis(args.latency);
    let work = tempfile::tempdir()?;
    let ca = TestCa::root("mailcheck bench CA");
    let ca_file = work.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem())?;
    let set = DomainSet::new(args.big.max(args.bulk));
    let list = |n: usize| -> anyhow::Result<PathBuf> {
        let path = work.path().join(format!("domains-{n}.txt"));
        std::fs::write(&path, set.domains[..n].join("\n") + "\n")?;
        Ok(path)
    };
    let mut md = String::new();
    let version = std::process::Command::new(&args.mailcheck)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "# mailcheck benchmark results\n\n\
         Generated by `bash bench/run` on {} ({version}).\n\n\
         Machine: {}. {}\n\
         DNS latency simulated by the lab: {} ms a round trip. Domain set: {PROVIDERS} mail \
         providers with 2–5 MX hosts each (STARTTLS on every one), SPF include trees 0–2 levels \
         deep, DMARC with external report addresses, a DKIM key, MTA-STS and TLS-RPT records \
         per domain.\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        machine(),
        if args.standard_ports {
            "Everything ran inside a network namespace of its own (loopback only)."
        } else {
            "Not root: no network namespace; the lab used ephemeral loopback ports."
        },
        args.latency
    );

    // 1. One audit against the critical path.
    eprintln!("bench: 1. one audit");
    let domain = set.domains[0].clone();
    let depth = set.critical_path(&domain);
    let bound = latency * depth;
    let mut walls = Vec::new();
    let mut audit_ms = Vec::new();
    let mut seen_rounds = 0;
    let mut queries = 0;
    for _ in 0..5 {
        let bed = bed(&set, &args, &ca).await?;
        let out = work.path().join("one.json");
        let m = measure(
            &args.mailcheck,
            &mailcheck_args(&bed, &ca_file, &["--format", "json", &domain]),
            &out,
        )
        .await?;
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out)?)
            .with_context(|| format!("mailcheck exited {:?} without a report", m.code))?;
        audit_ms.push(
            doc["results"][0]["stats"]["elapsed_ms"]
                .as_u64()
                .unwrap_or(0),
        );
        walls.push(m.wall);
        seen_rounds = rounds(&bed.lab, latency);
        if let Some(dump) = std::env::var_os("BENCH_DUMP") {
            let mut text = String::new();
            for r in bed.lab.received() {
                let ms = r.at.as_secs_f64() * 1e3;
                let _ = writeln!(text, "{ms:.1}\t{}\t{}", r.name, r.rtype);
            }
            std::fs::write(dump, text)?;
        }
        queries = bed.lab.received().len();
    }
    walls.sort();
    audit_ms.sort_unstable();
    let wall = walls[walls.len() / 2];
    let audit = Duration::from_millis(audit_ms[audit_ms.len() / 2]);
    let _ = writeln!(
        md,
        "## 1. One full audit of a realistic domain\n\n\
         | figure | value |\n|---|---|\n\
         | domain | `{domain}` (provider with a 2-level SPF include tree, 2 MX hosts) |\n\
         | critical path from the zone data | {depth} dependent lookups × {} ms = **{} ms** |\n\
         | measured, process wall time (median of 5, start-up and SMTP/TLS probes included) | {} ms |\n\
         | measured, the audit itself (`stats.elapsed_ms`, median of 5) | {} ms |\n\
         | **ratio** (wall ÷ critical path) | **{:.2}×** (target ≤ 1.3×) |\n\
         | ratio (audit ÷ critical path) | {:.2}× |\n\
         | rounds of queries the lab saw | {seen_rounds} ({queries} queries) |\n",
        args.latency,
        bound.as_millis(),
        wall.as_millis(),
        audit.as_millis(),
        wall.as_secs_f64() / bound.as_secs_f64(),
        audit.as_secs_f64() / bound.as_secs_f64(),
    );

    std::fs::write(&args.out, &md)?;

    // 2. 1,000 domains.
    eprintln!("bench: 2. {} domains", args.bulk);
    let bed2 = bed(&set, &args, &ca).await?;
    let out = work.path().join("bulk.jsonl");
    let m = measure(
        &args.mailcheck,
        &mailcheck_args(
            &bed2,
            &ca_file,
            &[
                "--format",
                "jsonl",
                "-f",
                &list(args.bulk)?.display().to_string(),
            ],
        ),
        &out,
    )
    .await?;
    let lines = std::fs::read_to_string(&out)?.lines().count();
    let received = bed2.lab.received();
    let pairs = bed2.lab.query_log().len();
    let tcp = received.iter().filter(|r| r.tcp).count();
    let smtp = bed2.smtp_connections();
    let smtp_pairs = set.smtp_pairs(args.bulk);
    let per_domain_bound = latency * depth;
    let batches = args.bulk.div_ceil(16);
    let bulk_bound = per_domain_bound * u32::try_from(batches)?;
    let _ = writeln!(
        md,
        "## 2. {} domains at the default concurrency (16)\n\n\
         | figure | value |\n|---|---|\n\
         | reports written | {lines} (exit code {:?}) |\n\
         | wall time | {:.2} s |\n\
         | **domains/s** | **{:.1}** |\n\
         | peak RSS | {:.1} MB |\n\
         | **DNS queries received by the lab** | **{}** ({tcp} over TCP) |\n\
         | **distinct (name, type) pairs** | **{pairs}** ({}) |\n\
         | **SMTP connections accepted** | **{smtp}** |\n\
         | **distinct (address, MX name) pairs** in the set | **{smtp_pairs}** ({}) |\n\
         | measured ÷ critical path (⌈{}/16⌉ × {} ms = {:.2} s, as if no answer were shared) | {:.2}× |\n",
        args.bulk,
        m.code,
        m.wall.as_secs_f64(),
        lines as f64 / m.wall.as_secs_f64(),
        m.peak_rss_kb as f64 / 1024.0,
        received.len(),
        if received.len() == pairs {
            "equal"
        } else {
            "NOT equal"
        },
        if smtp as usize == smtp_pairs {
            "equal"
        } else {
            "NOT equal"
        },
        args.bulk,
        per_domain_bound.as_millis(),
        bulk_bound.as_secs_f64(),
        m.wall.as_secs_f64() / bulk_bound.as_secs_f64(),
    );
    let bulk_rate = lines as f64 / m.wall.as_secs_f64();
    drop(bed2);

    std::fs::write(&args.out, &md)?;

    // 3. 10,000 domains to JSONL.
    eprintln!("bench: 3. {} domains", args.big);
    let bed3 = bed(&set, &args, &ca).await?;
    let out = work.path().join("big.jsonl");
    let m = measure(
        &args.mailcheck,
        &mailcheck_args(
            &bed3,
            &ca_file,
            &[
                "--format",
                "jsonl",
                "-f",
                &list(args.big)?.display().to_string(),
            ],
        ),
        &out,
    )
    .await?;
    let lines = std::fs::read_to_string(&out)?.lines().count();
    let _ = writeln!(
        md,
        "## 3. {} domains streamed to JSON Lines\n\n\
         | figure | value |\n|---|---|\n\
         | reports written | {lines} ({:.1} MB of JSON Lines, exit code {:?}) |\n\
         | wall time | {:.1} s ({:.1} domains/s) |\n\
         | **peak RSS** | **{:.1} MB** (target ≤ 200 MB) |\n\
         | DNS queries received / distinct pairs | {} / {} |\n",
        args.big,
        m.stdout_bytes as f64 / 1e6,
        m.code,
        m.wall.as_secs_f64(),
        lines as f64 / m.wall.as_secs_f64(),
        m.peak_rss_kb as f64 / 1024.0,
        bed3.lab.received().len(),
        bed3.lab.query_log().len(),
    );
    drop(bed3);

    std::fs::write(&args.out, &md)?;

    // 4. checkdmarc.
    let _ = writeln!(md, "## 4. checkdmarc on the same domains\n");
    match (&args.checkdmarc, args.standard_ports) {
        (Some(checkdmarc), true) => {
            eprintln!("bench: 4. checkdmarc");
            let n = args.checkdmarc_domains.min(args.bulk);
            let file = list(n)?.display().to_string();
            let bed4 = bed(&set, &args, &ca).await?;
            // Bounded: a hung comparison must not hang the benchmark.
            let theirs = measure(
                Path::new("timeout"),
                &[
                    "900".into(),
                    checkdmarc.display().to_string(),
                    "--nameserver".into(),
                    "127.0.0.1".into(),
                    "--check-mx-tls".into(),
                    "--format".into(),
                    "json".into(),
                    file.clone(),
                ],
                &work.path().join("checkdmarc.json"),
            )
            .await?;
            let their_queries = bed4.lab.received().len();
            drop(bed4);
            let bed5 = bed(&set, &args, &ca).await?;
            let ours = measure(
                &args.mailcheck,
                &mailcheck_args(&bed5, &ca_file, &["--format", "jsonl", "-f", &file]),
                &work.path().join("ours.jsonl"),
            )
            .await?;
            let _ = writeln!(
                md,
                "checkdmarc from PyPI in a throwaway virtualenv, `--nameserver 127.0.0.1 \
                 --check-mx-tls`, against the same lab (port 53) and SMTP listeners (port 25), \
                 on the first {n} domains of the set; mailcheck with its defaults (it also \
                 checks PTR, blocklists, DKIM, MTA-STS and TLS-RPT records).\n\n\
                 | tool | wall time | domains/s | DNS queries received | peak RSS |\n\
                 |---|---|---|---|---|\n\
                 | checkdmarc | {:.2} s | {:.1} | {their_queries} | {:.1} MB |\n\
                 | mailcheck | {:.2} s | {:.1} | {} | {:.1} MB |\n\n\
                 **Speed ratio: mailcheck is {:.1}× faster** on these {n} domains.\n",
                theirs.wall.as_secs_f64(),
                n as f64 / theirs.wall.as_secs_f64(),
                theirs.peak_rss_kb as f64 / 1024.0,
                ours.wall.as_secs_f64(),
                n as f64 / ours.wall.as_secs_f64(),
                bed5.lab.received().len(),
                ours.peak_rss_kb as f64 / 1024.0,
                theirs.wall.as_secs_f64() / ours.wall.as_secs_f64(),
            );
        }
        _ => {
            let _ = writeln!(
                md,
                "Skipped: checkdmarc needs the lab on port 53, so it runs only when the \
                 benchmark runs as root (inside its own network namespace).\n"
            );
        }
    }
    let _ = writeln!(
        md,
        "## How to read this\n\n\
         - The critical path is computed by `bench/zones.rs` from the records it generates: \
         MX → host A/AAAA → PTR → A of the PTR name; MX → the host's own SPF walk; the \
         domain's SPF include tree; DMARC → report authorisation; the rest one round trip.\n\
         - DNS counts come from the lab server's own log; SMTP counts from the listeners' \
         accept counters. Equal counts mean no question was asked twice and no (address, MX \
         name) was probed twice in the run.\n\
         - At 16 in flight the round trips alone would allow 16 ÷ {} ms = {:.0} domains/s; \
         the measured {bulk_rate:.0} is bounded by CPU: the lab server, mailcheck and its TLS \
         handshakes share the machine's cores (most of a domain's DNS \
         questions are the built-in DKIM selectors and their CNAME checks).\n",
        per_domain_bound.as_millis(),
        16.0 / per_domain_bound.as_secs_f64(),
    );
    std::fs::write(&args.out, md).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("bench: wrote {}", args.out.display());
    Ok(())
}
