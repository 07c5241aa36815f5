//! The `mailcheck` binary: parse, validate, audit, render, exit.
#![allow(clippy::print_stderr)]

use anyhow::Context as _;
use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser;
use mailcheck::cli::{Cli, Command, Format};
use mailcheck::config::Config;
use mailcheck::exit::ExitStatus;
use mailcheck::output::emit;
use mailcheck::report::{Json, Markdown, Render, Table, TableOptions, render_diff};

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
    // Retired rule codes in --select / --ignore / mailcheck.toml: mapped or dropped, and said so.
    if !config.quiet {
        for note in config.selection.notes() {
            eprintln!("mailcheck: warning: {note}");
        }
    }
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
                Format::Table | Format::Markdown | Format::Csv => report.render_text(out),
            }
        })?;
        return Ok(report.exit_status());
    }
    if let Some((before, after)) = &config.diff {
        return diff(config, before, after);
    }
    // `mailcheck demo`: the lab serves the example zones and plays their MX hosts.
    #[cfg(feature = "lab")]
    let (_demo, demo_config);
    #[cfg(feature = "lab")]
    let config = if config.demo {
        let demo = runtime.block_on(mailcheck::demo::start())?;
        if !config.quiet {
            let smtp = match demo.smtp_port() {
                Some(port) if config.smtp.enabled => {
                    format!("MX hosts 127.0.50.x:{port} (STARTTLS, demo CA)")
                }
                Some(_) => "no SMTP (--no-smtp)".to_owned(),
                None => "no SMTP (127.0.50.x cannot be bound here)".to_owned(),
            };
            eprintln!(
                "mailcheck demo: a lab in this process: DNS {} · {smtp}\n",
                demo.dns_addr()
            );
        }
        demo_config = demo.configure(config);
        _demo = demo;
        &demo_config
    } else {
        config
    };
    audit_domains(&runtime, config)
}

/// The audit of every domain: streamed, kept or tallied by format, then rendered.
fn audit_domains(runtime: &tokio::runtime::Runtime, config: &Config) -> anyhow::Result<ExitStatus> {
    for line in &config.rejected {
        eprintln!("mailcheck: skipped {line}");
    }
    if let Some(why) = &config.dnsbl.skip_spamhaus
        && !config.quiet
    {
        eprintln!("mailcheck: Spamhaus lists not asked: {why}");
    }
    let (mut sink, resumed) = jsonl_sink(config)?;
    let config = resumed.as_ref().unwrap_or(config);
    let progress = progress_bar(config);
    let jsonl = config.format == Format::Jsonl;
    let to_stdout = jsonl && !config.quiet && config.output.is_none();
    // CSV keeps rows, not reports, until the end.
    let csv = config.format == Format::Csv;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    let mut tally = mailcheck::bulk::Tally::default();
    let mut resolver_failures: Vec<(String, String)> = Vec::new();
    let mut write_error: Option<io::Error> = None;
    let started = std::time::Instant::now();
    let (doc, interrupted) = runtime.block_on(async {
        let each = |i: usize, r: &mailcheck::report::DomainReport| {
            tally.add(r, config.fail_on);
            if csv {
                rows.push((i, mailcheck::report::csv_row(r)));
            }
            progress.inc(1);
            progress.set_message(format!("{} with errors", tally.with_errors));
            if let Some(why) = r.root_cause.as_ref().and_then(|c| c.resolver_error()) {
                resolver_failures.push((r.domain.clone(), why.to_string()));
            }
            if jsonl && write_error.is_none() {
                // One whole line per domain, written at once and flushed as it completes.
                let written =
                    serde_json::to_vec(r)
                        .map_err(io::Error::from)
                        .and_then(|mut line| {
                            line.push(b'\n');
                            if let Some(file) = sink.as_mut() {
                                file.write_all(&line)
                            } else if to_stdout {
                                let mut out = io::stdout().lock();
                                out.write_all(&line).and_then(|()| out.flush())
                            } else {
                                Ok(())
                            }
                        });
                match written {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    Err(e) => write_error = Some(e),
                    Ok(()) => {}
                }
            }
        };
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        mailcheck::audit::run_until(config, !jsonl && !csv, each, ctrl_c).await
    })?;
    progress.finish_and_clear();
    for (domain, why) in &resolver_failures {
        eprintln!(
            "mailcheck: {domain}: resolver {} {why}",
            doc.resolver.join(", ")
        );
    }
    if let Some(e) = write_error {
        return Err(e).context("writing the report");
    }
    rows.sort_by_key(|(i, _)| *i);
    if csv {
        emit(config.output.as_deref(), config.quiet, |out| {
            mailcheck::report::write_csv(rows.into_iter().map(|(_, r)| r), out)
        })
        .context("writing the report")?;
    }
    finish(config, &doc, &tally, interrupted, started)
}

/// Renders what is not streamed, prints the closing summary, and tells the exit status.
fn finish(
    config: &Config,
    doc: &mailcheck::report::Document,
    tally: &mailcheck::bulk::Tally,
    interrupted: bool,
    started: std::time::Instant,
) -> anyhow::Result<ExitStatus> {
    let status = tally.status();
    let renderer: Option<Box<dyn Render>> = match config.format {
        Format::Table => Some(Box::new(Table(TableOptions {
            width: config.width,
            color: config.color,
            ascii: config.ascii,
            exit: Some(if interrupted {
                ExitStatus::Interrupted
            } else {
                status
            }),
        }))),
        Format::Json => Some(Box::new(Json)),
        Format::Markdown => Some(Box::new(Markdown)),
        // Already written: line by line, or from the rows kept.
        Format::Jsonl | Format::Csv => None,
    };
    if let Some(renderer) = renderer {
        emit(config.output.as_deref(), config.quiet, |out| {
            renderer.render(doc, out)
        })
        .context("writing the report")?;
    }
    if !config.quiet && config.domains.len() > 1 {
        let _ = mailcheck::report::render_summary(
            tally,
            config.domains.len(),
            started.elapsed(),
            &mut io::stderr().lock(),
        );
    }
    if interrupted {
        if !config.quiet {
            eprintln!(
                "mailcheck: interrupted: the report holds the {} of {} domains completed",
                tally.done,
                config.domains.len()
            );
        }
        return Ok(ExitStatus::Interrupted);
    }
    Ok(if config.rejected.is_empty() {
        status
    } else {
        status.max(ExitStatus::Usage)
    })
}

/// With `--format jsonl -o FILE`: the file, opened for appending (a torn last line cut off), and
/// with `--resume` the configuration without the domains the file already has.
fn jsonl_sink(config: &Config) -> anyhow::Result<(Option<std::fs::File>, Option<Config>)> {
    let (Some(path), Format::Jsonl) = (&config.output, config.format) else {
        return Ok((None, None));
    };
    let done = mailcheck::bulk::prepare_append(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    if !config.resume {
        return Ok((Some(file), None));
    }
    let mut c = config.clone();
    c.domains.retain(|(_, d)| !done.contains(d.as_str()));
    if !config.quiet {
        eprintln!(
            "mailcheck: resuming: {} of {} domains already in {}",
            config.domains.len() - c.domains.len(),
            config.domains.len(),
            path.display()
        );
    }
    Ok((Some(file), Some(c)))
}

/// `mailcheck diff BEFORE AFTER`: exit 1 when AFTER has new error findings, 2 when a file
/// cannot be read.
fn diff(
    config: &Config,
    before: &std::path::Path,
    after: &std::path::Path,
) -> anyhow::Result<ExitStatus> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| mailcheck::diff::parse(&t).map_err(|e| e.to_string()))
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let (b, a) = match (read(before), read(after)) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("mailcheck diff: {e}");
            return Ok(ExitStatus::Usage);
        }
    };
    let report = mailcheck::diff::diff(
        &before.display().to_string(),
        &b,
        &after.display().to_string(),
        &a,
    );
    emit(config.output.as_deref(), config.quiet, |out| {
        render_diff(&report, config.format, out)
    })
    .context("writing the diff")?;
    Ok(if report.new_errors > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
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
        "{bar:30} {pos}/{len} domains · {per_sec} · eta {eta} · {msg}",
    ) {
        bar.set_style(style);
        bar.set_message("0 with errors");
    }
    bar
}

/// `completions SHELL`, `manpage` and `schema`: generated from the clap definition or the report
/// types, nothing else read.
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
        Some(Command::Schema { document }) => Some(emit(
            cli.options.output.as_deref(),
            cli.options.quiet,
            |out| mailcheck::report::write_schema(*document, out),
        )),
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
        // The root is signed with a key made for this run: validating needs its anchor, which
        // the lab keeps in a file while it runs.
        eprintln!(
            "mailcheck lab: root trust anchor in {} (pass it as --trust-anchor)",
            mailcheck::lab::Lab::anchor_path(lab.addr()).display()
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
