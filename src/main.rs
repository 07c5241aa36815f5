//! The `mailcheck` binary: parse, validate, audit, render, exit.
#![allow(clippy::print_stderr)]

use anyhow::Context as _;
use std::io;
use std::process::ExitCode;

use clap::Parser;
use mailcheck::cli::{Cli, Command, Format};
use mailcheck::config::Config;
use mailcheck::exit::ExitStatus;
use mailcheck::output::emit;
use mailcheck::report::{Json, Markdown, Render, Table, TableOptions};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                ExitStatus::Usage.code()
            } else {
                0
            });
        }
    };
    if let Some(written) = generated(&cli) {
        return match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mailcheck: {e}");
                ExitCode::from(ExitStatus::Usage.code())
            }
        };
    }
    #[cfg(feature = "lab")]
    if let Some(mailcheck::cli::Command::Lab { command }) = &cli.command {
        return match lab(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mailcheck: {e:#}");
                ExitCode::from(ExitStatus::Usage.code())
            }
        };
    }
    let config = match Config::from_cli(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mailcheck: {e}");
            return ExitCode::from(ExitStatus::Usage.code());
        }
    };
    if let Some(catalogue) = config.catalogue {
        let written = emit(config.output.as_deref(), config.quiet, |out| {
            catalogue.render(config.format, config.width, &config.selection, out)
        });
        return match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mailcheck: {e}");
                ExitCode::from(ExitStatus::Usage.code())
            }
        };
    }
    match run(&config) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            eprintln!("mailcheck: {e:#}");
            ExitCode::from(ExitStatus::Unknown.code())
        }
    }
}

fn run(config: &Config) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Runtime::new()?;
    if let Some(query) = &config.spf {
        let report = runtime.block_on(mailcheck::audit::spf(config, query))?;
        emit(config.output.as_deref(), config.quiet, |out| {
            match config.format {
                Format::Json | Format::Jsonl => report.render_json(out),
                Format::Table | Format::Markdown => report.render_text(out),
            }
        })?;
        return Ok(report.exit_status());
    }
    // `mailcheck demo`: the lab serves the example zones and is the only resolver asked.
    #[cfg(feature = "lab")]
    let (_lab, demo_config);
    #[cfg(feature = "lab")]
    let config = if config.demo {
        let lab = runtime.block_on(mailcheck::demo::start())?;
        if !config.quiet {
            eprintln!(
                "mailcheck demo: example domains from a DNS lab on {} (in this process); \
                 DNS checks only, SMTP/TLS and blocklists not-run",
                lab.addr()
            );
        }
        let mut c = config.clone();
        c.resolver.servers = Some(vec![lab.addr()]);
        (_lab, demo_config) = (lab, c);
        &demo_config
    } else {
        config
    };
    for line in &config.rejected {
        eprintln!("mailcheck: skipped {line}");
    }
    let progress = progress_bar(config);
    let stream = config.format == Format::Jsonl && !config.quiet && config.output.is_none();
    // Streamed, no report is kept: the exit status and resolver errors are taken as they pass.
    let mut streamed = ExitStatus::Clean;
    let doc = runtime.block_on(async {
        let each = |r: mailcheck::report::DomainReport| {
            progress.inc(1);
            // One whole line per domain, flushed as it completes.
            let _ = mailcheck::report::write_jsonl(&r, &mut io::stdout().lock());
            resolver_error(&r, config);
            streamed = streamed.max(ExitStatus::of_reports(&[r], config.fail_on));
        };
        let run = async {
            if stream {
                mailcheck::audit::stream(config, each).await
            } else {
                mailcheck::audit::run_each(config, |_| progress.inc(1)).await
            }
        };
        tokio::select! {
            doc = run => doc.map(Some),
            _ = tokio::signal::ctrl_c() => Ok(None),
        }
    })?;
    progress.finish_and_clear();
    let Some(doc) = doc else {
        return Ok(ExitStatus::Interrupted);
    };
    for r in &doc.results {
        resolver_error(r, config);
    }
    let status = ExitStatus::of_reports(&doc.results, config.fail_on).max(streamed);
    let renderer: Box<dyn Render> = match config.format {
        Format::Table => Box::new(Table(TableOptions {
            width: config.width,
            color: config.color,
            ascii: config.ascii,
            exit: Some(status),
        })),
        Format::Json | Format::Jsonl => Box::new(Json),
        Format::Markdown => Box::new(Markdown),
    };
    // JSON Lines already went to stdout as each domain completed; to a file, they go now.
    if !stream {
        emit(config.output.as_deref(), config.quiet, |out| {
            if config.format == Format::Jsonl {
                doc.results
                    .iter()
                    .try_for_each(|r| mailcheck::report::write_jsonl(r, out))
            } else {
                renderer.render(&doc, out)
            }
        })
        .context("writing the report")?;
    }
    Ok(if config.rejected.is_empty() {
        status
    } else {
        status.max(ExitStatus::Usage)
    })
}

/// Says on stderr when a domain's audit failed because the resolver did.
fn resolver_error(r: &mailcheck::report::DomainReport, config: &Config) {
    if let Some(why) = r.root_cause.as_ref().and_then(|c| c.resolver_error()) {
        let servers = config.resolver.servers.as_ref().map_or_else(
            || "(system)".to_owned(),
            |s| {
                s.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        eprintln!("mailcheck: {}: resolver {servers} {why}", r.domain);
    }
}

/// A progress bar on stderr for runs of several domains, hidden when stderr is not a terminal
/// or with `--quiet`.
fn progress_bar(config: &Config) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if config.quiet || config.domains.len() < 2 || !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(config.domains.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} domains · {per_sec} · eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// `completions SHELL` and `manpage`: generated from the clap definition, nothing else read.
fn generated(cli: &Cli) -> Option<std::io::Result<()>> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    match &cli.command {
        Some(Command::Completions { shell }) => Some(emit(None, false, |out| {
            clap_complete::generate(*shell, &mut command, "mailcheck", out);
            Ok(())
        })),
        Some(Command::Manpage) => Some(emit(None, false, |out| {
            clap_mangen::Man::new(command).render(out)
        })),
        _ => None,
    }
}

#[cfg(feature = "lab")]
#[allow(clippy::print_stdout)] // the resolver address, for scripts
fn lab(command: &mailcheck::cli::LabCommand) -> anyhow::Result<()> {
    use anyhow::Context;
    let mailcheck::cli::LabCommand::Serve {
        listen,
        zones,
        latency,
        log,
    } = command;
    anyhow::ensure!(
        listen.ip().is_loopback(),
        "the lab listens on loopback only, not {listen}"
    );
    let dir = zones.clone().unwrap_or_else(mailcheck::lab::fixture_dir);
    tokio::runtime::Runtime::new()?.block_on(async {
        let lab = mailcheck::lab::Lab::builder()
            .zone_dir(&dir)?
            .latency(std::time::Duration::from_millis(*latency))
            .start_on(*listen)
            .await
            .context("starting the lab")?;
        eprintln!(
            "mailcheck lab: DNS on {} (UDP and TCP), zones from {}, {latency} ms latency; \
             Ctrl-C stops",
            lab.addr(),
            dir.display()
        );
        // The resolver address alone on stdout, for scripts.
        println!("{}", lab.addr());
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        let received = lab.received();
        let pairs = lab.query_log().len();
        let tcp = received.iter().filter(|r| r.tcp).count();
        eprintln!(
            "mailcheck lab: {} queries received, {pairs} distinct (name, type), {tcp} over TCP",
            received.len()
        );
        if let Some(path) = log {
            let mut text = String::new();
            for r in &received {
                use std::fmt::Write as _;
                let _ = writeln!(
                    text,
                    "{:.3}\t{}\t{}\t{}",
                    r.at.as_secs_f64() * 1000.0,
                    if r.tcp { "tcp" } else { "udp" },
                    r.name,
                    r.rtype
                );
            }
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    })
}
