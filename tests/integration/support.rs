//! Shared helpers: the lab, and running the built binary against it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std::sync::Arc;

use mailcheck::audit::Services;
use mailcheck::checks::dkim::DkimSettings;
use mailcheck::checks::dnsbl::DnsblSettings;
use mailcheck::checks::https::HttpsSettings;
use mailcheck::checks::smtp::{Prober, SmtpSettings, TrustSource};
use mailcheck::dns::{Dns, ResolverSettings};
use mailcheck::lab::Lab;
use mailcheck::net::Policy;

/// Options for audits of the DNS-only fixtures: their MX addresses are in 127.0.0.0/24, where
/// nothing listens, so nothing is probed and no blocklist is asked.
pub const DNS_ONLY: &[&str] = &[
    "--no-smtp",
    "--no-blocklists",
    "--no-https",
    "--allow-private",
];

/// What library-level gathering of the DNS-only fixtures may use: no SMTP, no blocklists.
pub fn dns_only_services() -> Services {
    Services {
        smtp: Prober::new(SmtpSettings {
            enabled: false,
            port: 25,
            connect_timeout: Duration::from_secs(1),
            greeting_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_secs(1),
            helo_name: "probe.lab.test".into(),
            policy: Policy {
                allow_private: true,
            },
            roots: Arc::new(rustls::RootCertStore::empty()),
            trust: TrustSource::Webpki,
            per_host: 2,
        }),
        dnsbl: DnsblSettings::default(),
        dkim: DkimSettings::default(),
        https: HttpsSettings {
            enabled: false,
            port: 443,
            timeout: Duration::from_secs(1),
            policy: Policy {
                allow_private: true,
            },
            roots: Arc::new(rustls::RootCertStore::empty()),
        },
    }
}

pub async fn lab() -> Lab {
    Lab::fixtures().await.expect("the fixture lab starts")
}

/// A resolver on the lab with short limits, for library-level tests.
pub fn dns(addr: SocketAddr) -> Dns {
    Dns::new(&ResolverSettings {
        servers: Some(vec![addr]),
        timeout: Duration::from_millis(500),
        tries: 1,
        qps: None,
        dnssec: None,
    })
    .expect("resolver")
}

/// Like [`dns`], validating DNSSEC from the lab's own root key.
pub fn validating_dns(lab: &Lab) -> Dns {
    Dns::new(&ResolverSettings {
        servers: Some(vec![lab.addr()]),
        timeout: Duration::from_millis(500),
        tries: 1,
        qps: None,
        dnssec: Some(mailcheck::dns::TrustAnchor::Text {
            label: "the lab's root key".into(),
            text: lab.trust_anchor(),
        }),
    })
    .expect("resolver")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `mailcheck` with `args`, in a clean environment: no colour, 80 columns, no
/// resolver from the environment.
pub async fn mailcheck(args: &[&str]) -> Run {
    mailcheck_with(args, &[]).await
}

pub async fn mailcheck_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    mailcheck_in(None, args, env).await
}

/// Like [`mailcheck_with`], in working directory `dir` (where `mailcheck.toml` is looked for).
/// The locale is UTF-8 unless `env` says otherwise, so the markers do not depend on the machine.
pub async fn mailcheck_in(
    dir: Option<&std::path::Path>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let start = Instant::now();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"));
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    // Validate from the lab's own root key, as a user of `mailcheck lab serve` would with
    // `--trust-anchor`: the lab signs its root, and IANA's keys cannot validate it.
    let chooses = args
        .iter()
        .any(|a| *a == "--trust-anchor" || *a == "--no-dnssec");
    if let Some(anchor) = lab_anchor(args).filter(|_| !chooses) {
        command.env("MAILCHECK_TRUST_ANCHOR", anchor);
    } else {
        command.env_remove("MAILCHECK_TRUST_ANCHOR");
    }
    let out = command
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("MAILCHECK_CONFIG")
        .env_remove("LC_CTYPE")
        .env_remove("LANG")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("MAILCHECK_RESOLVER")
        .env_remove("MAILCHECK_SPAMHAUS_DQS_KEY")
        // The trust store is chosen by flags; the machine's exports must not leak in.
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("COLUMNS", "80")
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .output()
        .await
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        elapsed: start.elapsed(),
    }
}

/// The trust anchor file of the lab a run's `--resolver` names, if that is a running lab.
fn lab_anchor(args: &[&str]) -> Option<std::path::PathBuf> {
    let at = args.iter().position(|a| *a == "--resolver")?;
    let addr: SocketAddr = args.get(at + 1)?.parse().ok()?;
    Some(Lab::anchor_path(addr)).filter(|p| p.exists())
}

/// Audits DNS-only fixture domains against the lab ([`DNS_ONLY`]) and parses the JSON document.
pub async fn audit_json(lab: &Lab, domains: &[&str], extra: &[&str]) -> (Run, serde_json::Value) {
    let mut args = DNS_ONLY.to_vec();
    args.extend_from_slice(extra);
    audit_json_with(lab, domains, &args).await
}

/// Audits domains against the lab with exactly these options, and parses the JSON document.
pub async fn audit_json_with(
    lab: &Lab,
    domains: &[&str],
    extra: &[&str],
) -> (Run, serde_json::Value) {
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", &resolver, "--format", "json"];
    args.extend_from_slice(extra);
    args.extend_from_slice(domains);
    let run = mailcheck(&args).await;
    let doc = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON output ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    (run, doc)
}

/// The codes of a result's findings, in report order.
pub fn all_codes(result: &serde_json::Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_owned())
        .collect()
}

/// The notes every DNS-only fixture earns from its lab addresses: loopback addresses allowed by
/// `--allow-private` (MX013) and, for IPv4-only fixtures, no IPv6 (MX008); and the warning
/// that none of the guessed DKIM selectors has a key (DKIM001) and the note that no MTA-STS is
/// published (STS001), which every fixture without them earns, and the note that the zone is
/// unsigned (DNSSEC001), which every fixture not signed with `;@sign` earns. Their own tests
/// assert them; the scenario tests look past them.
pub const LAB_NOTES: &[&str] = &["MX008", "MX013", "DKIM001", "STS001", "DNSSEC001"];

/// The codes of a result's findings in report order, without the [`LAB_NOTES`].
pub fn codes(result: &serde_json::Value) -> Vec<String> {
    all_codes(result)
        .into_iter()
        .filter(|c| !LAB_NOTES.contains(&c.as_str()))
        .collect()
}

/// The messages of a result's findings of one rule.
pub fn messages(r: &serde_json::Value, code: &str) -> Vec<String> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["message"].as_str().expect("message").to_owned())
        .collect()
}

/// The status of one check.
pub fn status<'a>(result: &'a serde_json::Value, code: &str) -> &'a str {
    result["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no check {code}"))
}
