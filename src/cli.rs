//! Command-line declarations (clap derive). Validation happens in `config`.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Audit a domain's email configuration: where its mail goes, whether it can be spoofed, and
/// exactly how to fix what is wrong.
#[derive(Debug, Parser)]
#[command(
    name = "mailcheck",
    version,
    subcommand_negates_reqs = true,
    override_usage = "mailcheck [OPTIONS] <DOMAIN>...\n       mailcheck <COMMAND> [OPTIONS] ...",
    after_help = "Exit codes: 0 nothing at or above --fail-on; 1 a finding at or above it; \
                  2 usage error or invalid input; 3 a DNS lookup a check needs failed, or the \
                  resolver is unreachable; 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Domains to audit (a bare word without a dot is taken as a subcommand).
    #[arg(value_name = "DOMAIN", required_unless_present = "file")]
    pub domains: Vec<String>,

    /// Read domains from FILE (`-` for stdin): one per line, `#` comments and blank lines
    /// skipped, the first column of a CSV taken; invalid lines are reported, not fatal.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub options: AuditOptions,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the names given as domains, even single-label ones.
    Check {
        #[arg(value_name = "DOMAIN", required = true)]
        domains: Vec<String>,
    },
    /// Evaluate SPF for one sending address, as a receiver would (RFC 7208 `check_host()`).
    ///
    /// Exit code: 0 pass; 1 fail, softfail, neutral, none or permerror; 3 temperror.
    Spf {
        /// The domain whose SPF record is evaluated (the MAIL FROM or HELO domain).
        #[arg(value_name = "DOMAIN")]
        domain: String,
        /// The sending server's address.
        #[arg(long, value_name = "ADDR")]
        ip: std::net::IpAddr,
        /// The envelope sender, for macros (default: postmaster@DOMAIN).
        #[arg(long, value_name = "LOCAL@DOMAIN")]
        sender: Option<String>,
        /// The HELO/EHLO name, for the %{h} macro (default: DOMAIN).
        #[arg(long, value_name = "NAME")]
        helo: Option<String>,
    },
    /// List every rule: code, name, category, default severity and title.
    ///
    /// `--format markdown` prints the rule reference (docs/rules.md is this output).
    Rules,
    /// Explain a rule (what it checks, why it matters, how to fix it), or `scoring`.
    Explain {
        /// A rule code (`SPF002`), a rule name (`spf-multiple`), or `scoring`.
        #[arg(value_name = "CODE")]
        topic: String,
    },
    /// Print a shell completion script (e.g. `mailcheck completions bash > /etc/bash_completion.d/mailcheck`).
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `mailcheck manpage > mailcheck.1`.
    Manpage,
    /// Compare two earlier runs (JSON or JSONL): records changed, findings added and resolved,
    /// score changes, per domain.
    ///
    /// Exit code: 1 when AFTER has error findings BEFORE did not have; 2 when a file cannot be read.
    Diff {
        /// The earlier run's report (`--format json` or `jsonl` output).
        #[arg(value_name = "BEFORE")]
        before: std::path::PathBuf,
        /// The later run's report.
        #[arg(value_name = "AFTER")]
        after: std::path::PathBuf,
    },
    /// Print the JSON Schema (draft 2020-12) of the JSON report; docs/schema.json is this output.
    Schema {
        /// Which document: the `--format json` report, or one `--format jsonl` line.
        #[arg(value_enum, value_name = "DOCUMENT", default_value_t = SchemaDocument::Report)]
        document: SchemaDocument,
    },
    /// Offline demo: audits example domains served by an in-process lab on loopback (DNS, and
    /// SMTP with STARTTLS for their MX hosts).
    #[cfg(feature = "lab")]
    Demo,
    /// The test lab: a DNS server on loopback serving the fixture zones.
    #[cfg(feature = "lab")]
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
}

#[cfg(feature = "lab")]
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Serve zone files over UDP and TCP until interrupted (Ctrl-C or SIGTERM); point
    /// `--resolver` at it. On exit it prints how many queries it received.
    Serve {
        /// Address to listen on (loopback only).
        #[arg(
            long,
            visible_alias = "addr",
            value_name = "IP:PORT",
            default_value = "127.0.0.1:5353"
        )]
        listen: std::net::SocketAddr,
        /// Directory of `<origin>.zone` files (default: the fixtures of the source tree).
        #[arg(long, value_name = "DIR")]
        zones: Option<std::path::PathBuf>,
        /// Delay every answer (UDP and TCP) by MS milliseconds, to simulate network round trips.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        latency: u64,
        /// On exit, write every query received to FILE: milliseconds since start, protocol,
        /// name and type, tab-separated, one a line.
        #[arg(long, value_name = "FILE")]
        log: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // one per on/off flag, as clap declares them
pub struct AuditOptions {
    /// DNS resolver to ask instead of the system's (repeatable; port 53 unless given).
    #[arg(
        long,
        value_name = "IP[:PORT]",
        global = true,
        env = "MAILCHECK_RESOLVER"
    )]
    pub resolver: Vec<String>,

    /// Seconds to wait for each DNS answer.
    #[arg(long, value_name = "SECS", default_value = "2", global = true)]
    pub timeout: String,

    /// How many times to send each DNS query before giving up.
    #[arg(long, value_name = "N", default_value_t = 2, global = true)]
    pub dns_tries: usize,

    /// Seconds one domain's audit may take in all; lookups still running then are `unknown`.
    #[arg(long, value_name = "SECS", default_value = "120", global = true)]
    pub deadline: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

    /// Write the report to this file (atomically: a temporary file, then a rename) instead of
    /// stdout.
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output: Option<std::path::PathBuf>,
    /// Domains audited at once.
    #[arg(long, value_name = "N", default_value_t = 16, global = true)]
    pub concurrency: usize,

    /// With `--format jsonl -o FILE`: skip the domains FILE already has a line for (a torn
    /// last line is dropped), and append the rest.
    #[arg(long, global = true)]
    pub resume: bool,

    /// Audit only the K-th of N parts of the input (K from 1), split by a fixed hash of each
    /// domain: every machine agrees, so N jobs together audit each domain exactly once.
    #[arg(long, value_name = "K/N", global = true)]
    pub shard: Option<String>,

    /// At most this many SMTP connections at once to any one address.
    #[arg(long, value_name = "N", default_value_t = 2, global = true)]
    pub per_host_connections: usize,

    /// No colour in the table (also when `NO_COLOR` is set, or stdout is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Print no report; only the exit code (and errors) tell the result.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Run only these rules: codes or prefixes, comma-separated (`SPF,DMARC001`), or `ALL`.
    #[arg(long, value_name = "CODES", value_delimiter = ',', global = true)]
    pub select: Vec<String>,

    /// Do not run these rules (they are reported `not-run`): codes or prefixes, comma-separated.
    /// The most specific selector wins: `--ignore SPF --select ALL,SPF002` keeps SPF002.
    #[arg(long, value_name = "CODES", value_delimiter = ',', global = true)]
    pub ignore: Vec<String>,

    /// Config file with `select`, `ignore` and `[severity]` overrides [default: ./mailcheck.toml
    /// when it exists].
    #[arg(long, value_name = "PATH", global = true, env = "MAILCHECK_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// Draw the report's markers in ASCII (automatic when the locale is not UTF-8).
    #[arg(long, global = true)]
    pub ascii: bool,

    /// The least severe finding that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error, global = true)]
    pub fail_on: FailOn,

    /// TCP port of the SMTP probe (labs and tests use another).
    #[arg(long, value_name = "PORT", default_value_t = 25, global = true)]
    pub smtp_port: u16,

    /// Seconds for each SMTP stage: connect, greeting and every command [default: connect 10,
    /// greeting 30, each command 30].
    #[arg(long, value_name = "SECS", global = true)]
    pub smtp_timeout: Option<String>,

    /// Our name in EHLO (a name you own; not the HELO identity SPF checks of anyone).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "mailcheck.invalid",
        global = true
    )]
    pub helo_name: String,

    /// Do not connect to the MX hosts: the SMTP and TLS checks are `not-run`.
    #[arg(long, global = true)]
    pub no_smtp: bool,

    /// Allow connections to loopback and private addresses (labs, internal audits); MX
    /// addresses there are then noted as info instead of warned about.
    #[arg(long, global = true)]
    pub allow_private: bool,

    /// PEM file of extra trust anchors for MX certificates (repeatable).
    #[arg(long, value_name = "PATH", global = true)]
    pub ca_file: Vec<std::path::PathBuf>,

    /// Trust anchors: Mozilla's bundled roots, or the operating system's store.
    #[arg(long, value_enum, default_value_t = Trust::Webpki, global = true)]
    pub trust: Trust,

    /// Also ask this DNS blocklist zone about the MX addresses (repeatable).
    #[arg(long, value_name = "ZONE", global = true)]
    pub blocklist: Vec<String>,

    /// A DKIM selector to look up, besides the built-in list of common ones (repeatable).
    #[arg(long, value_name = "SELECTOR", global = true)]
    pub dkim_selector: Vec<String>,

    /// The BIMI selector whose assertion record is read (`<selector>._bimi.<domain>`).
    #[arg(
        long,
        value_name = "SELECTOR",
        default_value = "default",
        global = true
    )]
    pub bimi_selector: String,

    /// Do not ask the default DNS blocklists.
    #[arg(long, global = true)]
    pub no_blocklists: bool,

    /// Do not fetch over HTTPS (the MTA-STS policy file, the BIMI logo): those checks are
    /// `not-run`.
    #[arg(long, global = true)]
    pub no_https: bool,

    /// TCP port of the MTA-STS policy and BIMI logo fetches (labs and tests use another).
    #[arg(long, value_name = "PORT", default_value_t = 443, global = true)]
    pub https_port: u16,

    /// Seconds each HTTPS fetch may take, connection included.
    #[arg(long, value_name = "SECS", default_value = "10", global = true)]
    pub https_timeout: String,

    /// Validate DNSSEC from these DNSKEY records (zone-file syntax) instead of the IANA root
    /// keys: for labs and private roots. `--no-dnssec` wins over it.
    #[arg(
        long,
        value_name = "FILE",
        env = "MAILCHECK_TRUST_ANCHOR",
        global = true
    )]
    pub trust_anchor: Option<std::path::PathBuf>,

    /// Do not validate DNSSEC (queries go without the DO bit): the DNSSEC and DANE checks
    /// are `not-run`.
    #[arg(long, global = true)]
    pub no_dnssec: bool,

    /// Send at most N DNS messages a second (retries and TCP fallbacks included), evenly spaced.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub qps: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Trust {
    /// Mozilla's root program (webpki-roots): the same answer on every machine.
    Webpki,
    /// The operating system's store (honours `SSL_CERT_FILE` and `SSL_CERT_DIR`).
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A report for people.
    Table,
    /// One JSON document (its JSON Schema: `mailcheck schema`).
    Json,
    /// One JSON object per domain and line, written as each audit completes.
    Jsonl,
    /// Markdown, for tickets and pull requests.
    Markdown,
    /// One row per domain with fixed columns (see README), for spreadsheets.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaDocument {
    /// The `--format json` document: `{schema_version, tool, ..., results: [...]}`.
    Report,
    /// One `--format jsonl` line: one domain's report.
    Domain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn domains_and_subcommands_are_told_apart() {
        let cli = Cli::try_parse_from(["mailcheck", "example.com", "--format", "json"]).unwrap();
        assert_eq!(cli.domains, ["example.com"]);
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["mailcheck", "check", "localhost", "--quiet"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Check { ref domains }) if domains == &["localhost"])
        );
        assert!(cli.options.quiet);
        let cli = Cli::try_parse_from(["mailcheck", "--resolver", "127.0.0.1:53", "check", "a.b"])
            .unwrap();
        assert_eq!(cli.options.resolver, ["127.0.0.1:53"]);
        assert!(matches!(cli.command, Some(Command::Check { ref domains }) if domains == &["a.b"]));
        let cli = Cli::try_parse_from(["mailcheck", "a.example", "check"]).unwrap();
        assert_eq!(
            cli.domains,
            ["a.example", "check"],
            "only the first word may be a subcommand"
        );
    }
}
