//! Arguments, validated into a [`Config`] before any I/O.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use std::sync::Arc;

use crate::bulk::Shard;
use crate::checks::dkim::DkimSettings;
use crate::checks::dnsbl::DnsblSettings;
use crate::checks::https::HttpsSettings;
use crate::checks::smtp::{SmtpSettings, TrustSource, load_roots};
use crate::cli::{Cli, Command, FailOn, Format, Trust};
use crate::dns::{ResolverSettings, TrustAnchor};
use crate::domain::{Domain, DomainError};
use crate::net::Policy;
use crate::report::{Catalogue, Topic, UnknownTopic};
use crate::rules::Selection;
use crate::settings::{self, SettingsError};

/// The environment variable holding a Spamhaus DQS key (kept off the command line, where `ps`
/// would show it).
pub const DQS_KEY_ENV: &str = "MAILCHECK_SPAMHAUS_DQS_KEY";

/// What the user asked for, checked.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent switches, each from its own option
pub struct Config {
    /// Each domain with the text it was given as.
    pub domains: Vec<(String, Domain)>,
    pub resolver: ResolverSettings,
    pub deadline: Duration,
    pub format: Format,
    pub color: bool,
    /// Markers in ASCII: `--ascii`, or a locale that is not UTF-8.
    pub ascii: bool,
    pub width: usize,
    pub quiet: bool,
    pub fail_on: FailOn,
    pub smtp: SmtpSettings,
    pub https: HttpsSettings,
    pub dnsbl: DnsblSettings,
    pub dkim: DkimSettings,
    /// Set for `mailcheck spf`: the one evaluation to run instead of an audit.
    pub spf: Option<SpfQuery>,
    /// Domains audited at once.
    pub concurrency: usize,
    /// Lines of `--file` that are not domains, as messages: reported, and exit code 2 at the end.
    pub rejected: Vec<String>,
    /// Which rules run, at which severity (`--select`, `--ignore`, the config file).
    pub selection: Selection,
    /// Set for `mailcheck rules` and `mailcheck explain`: print the catalogue, audit nothing.
    pub catalogue: Option<Catalogue>,
    /// `mailcheck demo`: audit the demo domains against the in-process lab and its MX hosts.
    pub demo: bool,
    /// `-o FILE`: where the report goes instead of stdout.
    pub output: Option<std::path::PathBuf>,
    /// `--resume`: skip the domains the JSONL output file already has.
    pub resume: bool,
    /// `--shard K/N`: the part of the input this run audits (already applied to `domains`).
    pub shard: Option<Shard>,
    /// Set for `mailcheck diff`: the two reports to compare.
    pub diff: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// `mailcheck spf`: which domain, for which sender.
#[derive(Debug, Clone)]
pub struct SpfQuery {
    pub domain: Domain,
    pub ip: std::net::IpAddr,
    pub sender: String,
    pub helo: String,
}

/// An input problem: exit code 2, before anything is sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(
        "{0:?} is not a subcommand or a domain; to audit a single-label name, use `mailcheck check {0}`"
    )]
    BareWord(String),
    #[error(
        "--resolver {0:?}: expected an IP address, optionally with :PORT (e.g. 192.0.2.53:5353 or [2001:db8::53]:53)"
    )]
    Resolver(String),
    #[error("--{0} {1:?}: expected a number of seconds greater than 0")]
    Seconds(&'static str, String),
    #[error("--dns-tries must be at least 1")]
    Tries,
    #[error("--sender {0:?}: expected local@domain")]
    Sender(String),
    #[error("--concurrency must be at least 1")]
    Concurrency,
    #[error("reading {0}: {1}")]
    File(String, std::io::Error),
    #[error("--{0} {1:?}: {2}")]
    Name(&'static str, String, DomainError),
    #[error("{0}")]
    Trust(String),
    #[error(
        "--dkim-selector {0:?}: expected one or more DNS labels (letters, digits, hyphens, underscores), without ._domainkey"
    )]
    Selector(String),
    #[error(
        "--bimi-selector {0:?}: expected one or more DNS labels (letters, digits, hyphens, underscores), without ._bimi"
    )]
    BimiSelector(String),
    #[error("{DQS_KEY_ENV}: a Spamhaus DQS key is letters and digits only")]
    DqsKey,
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Output(String),
    #[error("explain: {0}")]
    Topic(#[from] UnknownTopic),
    #[error("--shard {0:?}: expected K/N with 1 <= K <= N (e.g. 3/8)")]
    Shard(String),
    #[error("--resume needs --format jsonl and -o FILE (the file whose domains are skipped)")]
    Resume,
    #[error("--per-host-connections must be at least 1")]
    PerHost,
    #[error("--format csv is for audits (one row per domain), not for this command")]
    Csv,
}

impl Config {
    pub fn from_cli(cli: &Cli) -> Result<Self, UsageError> {
        let o = &cli.options;
        // A local file; read before any network I/O, like everything here.
        let cwd = std::env::current_dir().unwrap_or_default();
        let selection = settings::resolve(o.config.as_deref(), &cwd, &o.select, &o.ignore)?;
        let spf = spf_query(cli)?;
        let catalogue = catalogue(cli)?;
        #[cfg(feature = "lab")]
        let demo = matches!(cli.command, Some(Command::Demo));
        #[cfg(not(feature = "lab"))]
        let demo = false;
        let (mut domains, rejected) = domain_inputs(cli)?;
        if o.concurrency == 0 {
            return Err(UsageError::Concurrency);
        }
        let (shard, diff) = bulk_options(cli, &mut domains)?;
        if let Some(path) = &o.output {
            crate::output::check_target(path).map_err(UsageError::Output)?;
        }
        let servers = servers(&o.resolver)?;
        if o.dns_tries == 0 {
            return Err(UsageError::Tries);
        }
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = terminal_width();
        let smtp_timeout = o
            .smtp_timeout
            .as_deref()
            .map(|t| seconds("smtp-timeout", t))
            .transpose()?;
        let helo = Domain::parse(&o.helo_name)
            .map_err(|e| UsageError::Name("helo-name", o.helo_name.clone(), e))?;
        // The demo serves its own policies (`demo::Demo::configure`).
        let https_enabled = !o.no_https;
        let (trust, roots) = trust_anchors(o, demo, https_enabled)?;
        let https_timeout = seconds("https-timeout", &o.https_timeout)?;
        let mut custom = Vec::new();
        for zone in &o.blocklist {
            let d =
                Domain::parse(zone).map_err(|e| UsageError::Name("blocklist", zone.clone(), e))?;
            custom.push(d.to_string());
        }
        let dqs_key = dqs_key()?;
        let dkim = dkim_settings(&o.dkim_selector, &o.bimi_selector)?;
        Ok(Self {
            dkim,
            smtp: SmtpSettings {
                // The demo points the probe at its own listeners (`demo::Demo::configure`).
                enabled: !o.no_smtp,
                port: o.smtp_port,
                connect_timeout: smtp_timeout.unwrap_or(Duration::from_secs(10)),
                greeting_timeout: smtp_timeout.unwrap_or(Duration::from_secs(30)),
                command_timeout: smtp_timeout.unwrap_or(Duration::from_secs(30)),
                helo_name: helo.to_string(),
                policy: Policy {
                    allow_private: o.allow_private || demo,
                },
                roots: Arc::clone(&roots),
                trust,
                per_host: o.per_host_connections,
            },
            https: HttpsSettings {
                enabled: https_enabled,
                port: o.https_port,
                timeout: https_timeout,
                policy: Policy {
                    allow_private: o.allow_private || demo,
                },
                roots,
            },
            dnsbl: DnsblSettings {
                defaults: !o.no_blocklists && !demo,
                custom,
                skip_spamhaus: spamhaus_cap(domains.len(), dqs_key.is_some(), o.no_blocklists),
                dqs_key,
            },
            domains,
            resolver: resolver(o, servers)?,
            deadline: seconds("deadline", &o.deadline)?,
            format: o.format,
            color: !o.no_color
                && !no_color_env
                && o.output.is_none()
                && std::io::stdout().is_terminal(),
            ascii: o.ascii || !utf8_locale(),
            width,
            quiet: o.quiet,
            fail_on: o.fail_on,
            spf,
            concurrency: o.concurrency,
            rejected,
            selection,
            catalogue,
            demo,
            output: o.output.clone(),
            resume: o.resume,
            shard,
            diff,
        })
    }
}

/// The Spamhaus DQS key from the environment, if set.
fn dqs_key() -> Result<Option<String>, UsageError> {
    match std::env::var(DQS_KEY_ENV) {
        Ok(k) if k.is_empty() => Ok(None),
        Ok(k) if k.len() <= 63 && k.bytes().all(|b| b.is_ascii_alphanumeric()) => Ok(Some(k)),
        Ok(_) => Err(UsageError::DqsKey),
        Err(_) => Ok(None),
    }
}

type DiffPaths = Option<(std::path::PathBuf, std::path::PathBuf)>;

/// `--shard` (applied to `domains` here), `--resume`, `--per-host-connections`, and the files
/// of `mailcheck diff`.
fn bulk_options(cli: &Cli, domains: &mut Inputs) -> Result<(Option<Shard>, DiffPaths), UsageError> {
    let o = &cli.options;
    if o.per_host_connections == 0 {
        return Err(UsageError::PerHost);
    }
    let shard = o
        .shard
        .as_deref()
        .map(|s| Shard::parse(s).ok_or_else(|| UsageError::Shard(s.to_owned())))
        .transpose()?;
    if let Some(shard) = shard {
        domains.retain(|(_, d)| shard.contains(d.as_str()));
    }
    if o.resume && (o.format != Format::Jsonl || o.output.is_none()) {
        return Err(UsageError::Resume);
    }
    let diff = match &cli.command {
        Some(Command::Diff { before, after }) => Some((before.clone(), after.clone())),
        _ => None,
    };
    let not_an_audit = matches!(
        cli.command,
        Some(Command::Spf { .. } | Command::Rules | Command::Explain { .. } | Command::Diff { .. })
    );
    if o.format == Format::Csv && not_an_audit {
        return Err(UsageError::Csv);
    }
    Ok((shard, diff))
}

/// Why a run skips the Spamhaus lists, when it does: more domains than their free use allows,
/// and no DQS key.
fn spamhaus_cap(domains: usize, dqs: bool, off: bool) -> Option<String> {
    use crate::checks::dnsbl::SPAMHAUS_BULK_LIMIT;
    (!off && !dqs && domains > SPAMHAUS_BULK_LIMIT).then(|| {
        format!(
            "a run of {domains} domains (over {SPAMHAUS_BULK_LIMIT}) without a Spamhaus DQS key \
             ({DQS_KEY_ENV}); their free public use is for low volumes"
        )
    })
}

/// Domains with the text each was given as.
type Inputs = Vec<(String, Domain)>;

/// The domains of the arguments and of `--file`, each once, with the file's rejected lines.
fn domain_inputs(cli: &Cli) -> Result<(Inputs, Vec<String>), UsageError> {
    #[cfg(feature = "lab")]
    if matches!(cli.command, Some(Command::Demo)) {
        return Ok((demo_domains()?, Vec::new()));
    }
    let (inputs, forced) = match &cli.command {
        Some(Command::Check { domains }) => (domains, true),
        #[cfg(feature = "lab")]
        Some(Command::Lab { .. } | Command::Demo) => (&cli.domains, false),
        Some(
            Command::Spf { .. }
            | Command::Rules
            | Command::Explain { .. }
            | Command::Completions { .. }
            | Command::Manpage
            | Command::Diff { .. }
            | Command::Schema { .. },
        )
        | None => (&cli.domains, false),
    };
    let mut domains = domains(inputs, forced)?;
    let rejected = match &cli.file {
        Some(path) => read_domain_file(path, &mut domains)?,
        None => Vec::new(),
    };
    Ok((domains, rejected))
}

/// Whether the locale says UTF-8 (POSIX order: `LC_ALL`, then `LC_CTYPE`, then `LANG`). With
/// none set, UTF-8 is assumed: terminals without it are rare, and `--ascii` is there for them.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_none_or(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// The domains to audit, validated, each once; a bare word is a subcommand unless `forced`.
fn domains(inputs: &[String], forced: bool) -> Result<Vec<(String, Domain)>, UsageError> {
    let mut domains: Vec<(String, Domain)> = Vec::new();
    for input in inputs {
        let domain = Domain::parse(input)?;
        if !forced && !domain.is_multi_label() {
            return Err(UsageError::BareWord(input.clone()));
        }
        if !domains.iter().any(|(_, d)| *d == domain) {
            domains.push((input.clone(), domain));
        }
    }
    Ok(domains)
}

/// Columns for the table: `COLUMNS`, else the terminal's, else 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .or_else(|| comfy_table::Table::new().width().map(usize::from))
        .unwrap_or(80)
        .clamp(40, 400)
}

/// `--resolver` addresses, or `None` for the system's configuration.
fn servers(resolvers: &[String]) -> Result<Option<Vec<SocketAddr>>, UsageError> {
    if resolvers.is_empty() {
        return Ok(None);
    }
    resolvers
        .iter()
        .map(|r| parse_resolver(r).ok_or_else(|| UsageError::Resolver(r.clone())))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The trust anchors of the SMTP probe and the HTTPS fetches (shared), loaded unless both are
/// off. Local files only: no network I/O happens before validation is done.
fn trust_anchors(
    o: &crate::cli::AuditOptions,
    demo: bool,
    https_enabled: bool,
) -> Result<(TrustSource, Arc<rustls::RootCertStore>), UsageError> {
    let trust = match o.trust {
        Trust::Webpki => TrustSource::Webpki,
        Trust::System => TrustSource::System,
    };
    let ca_files: Vec<&std::path::Path> =
        o.ca_file.iter().map(std::path::PathBuf::as_path).collect();
    let roots = if (o.no_smtp && !https_enabled) || demo {
        rustls::RootCertStore::empty()
    } else {
        load_roots(trust, &ca_files).map_err(|e| UsageError::Trust(e.to_string()))?
    };
    Ok((trust, Arc::new(roots)))
}

/// `mailcheck demo`'s domains.
#[cfg(feature = "lab")]
fn demo_domains() -> Result<Vec<(String, Domain)>, UsageError> {
    let names: Vec<String> = crate::demo::DOMAINS
        .iter()
        .map(|d| (*d).to_owned())
        .collect();
    domains(&names, false)
}

/// Adds the domains of a `--file` (or stdin for `-`) to `domains`, each once; returns a message
/// for every line that is not a domain.
fn read_domain_file(
    path: &std::path::Path,
    domains: &mut Vec<(String, Domain)>,
) -> Result<Vec<String>, UsageError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| UsageError::File(path.display().to_string(), e))?;
    let mut rejected = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"');
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        match Domain::parse(entry) {
            Ok(d) if !d.is_multi_label() => rejected.push(format!(
                "{}:{}: {entry:?} is a single label, not a domain",
                path.display(),
                n + 1
            )),
            Ok(d) => {
                if !domains.iter().any(|(_, x)| *x == d) {
                    domains.push((entry.to_owned(), d));
                }
            }
            Err(e) => rejected.push(format!("{}:{}: {e}", path.display(), n + 1)),
        }
    }
    Ok(rejected)
}

/// `mailcheck rules` / `explain`: what to print, when that is the command.
fn catalogue(cli: &Cli) -> Result<Option<Catalogue>, UsageError> {
    Ok(match &cli.command {
        Some(Command::Rules) => Some(Catalogue::Rules),
        Some(Command::Explain { topic }) => Some(Catalogue::Explain(Topic::parse(topic)?)),
        _ => None,
    })
}

/// `mailcheck spf`'s query, when that is the command.
fn spf_query(cli: &Cli) -> Result<Option<SpfQuery>, UsageError> {
    let Some(Command::Spf {
        domain,
        ip,
        sender,
        helo,
    }) = &cli.command
    else {
        return Ok(None);
    };
    let domain = Domain::parse(domain)?;
    let sender = match sender {
        Some(s) if s.contains('@') => s.clone(),
        Some(s) => return Err(UsageError::Sender(s.clone())),
        None => format!("postmaster@{domain}"),
    };
    let helo = helo.clone().unwrap_or_else(|| domain.to_string());
    Ok(Some(SpfQuery {
        domain,
        ip: *ip,
        sender,
        helo,
    }))
}

/// `--dkim-selector` and `--bimi-selector`, checked and lower-cased.
fn dkim_settings(dkim: &[String], bimi: &str) -> Result<DkimSettings, UsageError> {
    let mut selectors = Vec::new();
    for s in dkim {
        if !valid_selector(s) {
            return Err(UsageError::Selector(s.clone()));
        }
        selectors.push(s.to_ascii_lowercase());
    }
    if !valid_selector(bimi) || bimi.to_ascii_lowercase().contains("_bimi") {
        return Err(UsageError::BimiSelector(bimi.to_owned()));
    }
    Ok(DkimSettings {
        selectors,
        bimi_selector: bimi.to_ascii_lowercase(),
    })
}

/// A DKIM selector: dot-separated labels (RFC 6376 §3.1), the name below `_domainkey`.
fn valid_selector(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.to_ascii_lowercase().contains("_domainkey")
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn seconds(flag: &'static str, text: &str) -> Result<Duration, UsageError> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| UsageError::Seconds(flag, text.to_owned()))
}

/// `IP`, `IPv4:PORT`, `[IPv6]:PORT`; port 53 when none is given.
fn parse_resolver(text: &str) -> Option<SocketAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    text.parse::<SocketAddr>().ok().filter(|a| a.port() != 0)
}

fn resolver(
    o: &crate::cli::AuditOptions,
    servers: Option<Vec<std::net::SocketAddr>>,
) -> Result<ResolverSettings, UsageError> {
    Ok(ResolverSettings {
        servers,
        timeout: seconds("timeout", &o.timeout)?,
        tries: o.dns_tries,
        qps: o.qps,
        dnssec: trust_anchor(o),
    })
}

/// `--no-dnssec`, `--trust-anchor FILE`, or the IANA root keys.
fn trust_anchor(o: &crate::cli::AuditOptions) -> Option<TrustAnchor> {
    match (&o.trust_anchor, o.no_dnssec) {
        (_, true) => None,
        (Some(path), false) => Some(TrustAnchor::File(path.clone())),
        (None, false) => Some(TrustAnchor::Root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_take_an_optional_port() {
        assert_eq!(parse_resolver("192.0.2.1"), "192.0.2.1:53".parse().ok());
        assert_eq!(
            parse_resolver("127.0.0.1:5353"),
            "127.0.0.1:5353".parse().ok()
        );
        assert_eq!(parse_resolver("::1"), "[::1]:53".parse().ok());
        assert_eq!(parse_resolver("[::1]:5300"), "[::1]:5300".parse().ok());
        assert_eq!(parse_resolver("dns.google"), None);
        assert_eq!(parse_resolver("127.0.0.1:0"), None);
    }

    #[test]
    fn selectors_are_labels() {
        assert!(valid_selector("selector1"));
        assert!(valid_selector("2024-01.mail"));
        assert!(!valid_selector(""));
        assert!(!valid_selector("a..b"));
        assert!(!valid_selector("s1._domainkey.example.com"));
        assert!(!valid_selector("bad selector"));
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(
            seconds("timeout", "0.5").unwrap(),
            Duration::from_millis(500)
        );
        assert!(seconds("timeout", "0").is_err());
        assert!(seconds("timeout", "-1").is_err());
        assert!(seconds("timeout", "NaN").is_err());
        assert!(seconds("timeout", "soon").is_err());
    }
}
