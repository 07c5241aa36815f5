//! The pipeline: gather facts (I/O), evaluate rules (pure), assemble the report.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use futures_util::stream;

use crate::checks::dkim::{self, DkimSettings};
use crate::checks::dnsbl::{self, DnsblSettings};
use crate::checks::https::HttpsSettings;
use crate::checks::smtp::Prober;
use crate::checks::spf::eval::{Request, check_host};
use crate::checks::spf::{self, SpfFacts};
use crate::checks::{dane, dmarc, dnssec, mx, policy_txt, ptr};
use crate::config::{Config, SpfQuery};
use crate::dns::{Dns, SetupError};
use crate::domain::Domain;
use crate::facts::{CANARY_NAME, Facts};
use crate::report::{Counts, Document, DomainReport, SCHEMA_VERSION, SpfReport, Stats};
use crate::rules::{self, Selection};
use crate::score;

/// What gathering may use besides DNS: the SMTP prober (with its per-run connection cache) and
/// the blocklists to ask. Shared by every domain of a run.
pub struct Services {
    pub smtp: Prober,
    pub dnsbl: DnsblSettings,
    pub dkim: DkimSettings,
    /// MTA-STS policy and BIMI logo fetches.
    pub https: HttpsSettings,
}

/// Gathers every fact about one domain. Independent lookups and probes run concurrently: the
/// mail-host work starts as soon as the MX answer is in, alongside the SPF and DMARC walks.
pub async fn gather(dns: &Dns, services: &Services, domain: &Domain, deadline: Instant) -> Facts {
    let (
        canary,
        (mx, helo, ptr, smtp, dnsbl, dane, dnssec),
        (txt, (tree, exp)),
        type99,
        dmarc,
        dkim,
        mta_sts,
        tls_rpt,
        bimi,
        (),
        _,
    ) = tokio::join!(
        dns.ns(CANARY_NAME),
        async {
            let mx = mx::gather(dns, domain).await;
            let targets = mx.targets();
            let mut ips: Vec<IpAddr> = Vec::new();
            for (_, ip) in &targets {
                if !ips.contains(ip) {
                    ips.push(*ip);
                }
            }
            let (helo, ptr, smtp, dnsbl, dane, dnssec) = tokio::join!(
                spf::helo(dns, &mx),
                ptr::gather(dns, &ips),
                services.smtp.gather(&targets, deadline),
                dnsbl::gather(dns, &services.dnsbl, domain, &ips),
                Box::pin(dane::gather(dns, &mx)),
                Box::pin(dnssec::gather(dns, domain, &mx)),
            );
            (mx, helo, ptr, smtp, dnsbl, dane, dnssec)
        },
        async {
            let txt = dns.txt(domain.as_str()).await;
            let spf = spf::gather(dns, domain, &txt).await;
            (txt, spf)
        },
        spf::type99(dns, domain),
        dmarc::gather(dns, domain),
        dkim::gather(dns, &services.dkim, domain),
        // Boxed: with their HTTPS fetches these futures are large.
        Box::pin(policy_txt::gather_sts(dns, &services.https, domain)),
        policy_txt::gather_rpt(dns, domain),
        Box::pin(policy_txt::gather_bimi(
            dns,
            &services.https,
            domain,
            &services.dkim.bimi_selector
        )),
        dnsbl::prefetch(dns, &services.dnsbl, domain),
        // Whether answers can be validated at all, asked at once rather than after the MX.
        dns.dnssec_usable(),
    );
    Facts {
        domain: domain.clone(),
        canary,
        mx,
        txt,
        spf: SpfFacts {
            tree,
            type99,
            exp,
            helo,
        },
        dmarc,
        dkim,
        mta_sts,
        tls_rpt,
        bimi,
        ptr,
        smtp,
        dnsbl,
        dane,
        dnssec,
    }
}

/// Audits one domain: facts, the selected rules, score.
pub async fn audit(
    dns: &Dns,
    services: &Services,
    input: &str,
    domain: &Domain,
    deadline: Duration,
    selection: &Selection,
) -> DomainReport {
    let start = Instant::now();
    let dns = dns.scoped_for(domain.as_str(), start + deadline);
    let facts = gather(&dns, services, domain, start + deadline).await;
    let eval = rules::evaluate_with(&facts, selection);
    DomainReport {
        schema_version: SCHEMA_VERSION,
        domain: domain.to_string(),
        input: input.to_owned(),
        score: score::score(&eval.checks),
        counts: Counts::of(&eval.findings, &eval.checks),
        root_cause: eval.root_cause,
        checks: eval.checks,
        findings: eval.findings,
        facts,
        stats: Stats {
            dns_queries: dns.scope_queries(),
            elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        },
    }
}

/// Audits every domain of the configuration into one document (in input order), calling
/// `each` with every report as soon as it is done (for streaming and progress).
pub async fn run_each(
    config: &Config,
    mut each: impl FnMut(&DomainReport),
) -> Result<Document, SetupError> {
    run_until(config, true, |_, r| each(r), std::future::pending::<()>())
        .await
        .map(|(doc, _)| doc)
}

/// Like [`run_each`], stopping early when `stop` completes (Ctrl-C): the document then holds
/// the domains completed so far, and the flag is `true`. With `keep` false the document's
/// `results` stay empty, so a streamed run of any size holds no reports. `each` gets the
/// domain's position in the input too.
pub async fn run_until(
    config: &Config,
    keep: bool,
    mut each: impl FnMut(usize, &DomainReport),
    stop: impl Future<Output = ()>,
) -> Result<(Document, bool), SetupError> {
    let dns = Dns::new(&config.resolver)?;
    let services = Services {
        smtp: Prober::new(config.smtp.clone()),
        dnsbl: config.dnsbl.clone(),
        dkim: config.dkim.clone(),
        https: config.https.clone(),
    };
    let started = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let stopped = std::cell::Cell::new(false);
    let stop = async {
        stop.await;
        stopped.set(true);
    };
    let mut results: Vec<(usize, DomainReport)> = stream::iter(config.domains.iter().enumerate())
        .map(|(i, (input, domain))| {
            let (dns, services) = (&dns, &services);
            async move {
                (
                    i,
                    audit(
                        dns,
                        services,
                        input,
                        domain,
                        config.deadline,
                        &config.selection,
                    )
                    .await,
                )
            }
        })
        .buffer_unordered(config.concurrency)
        .take_until(stop)
        .inspect(|(i, report)| each(*i, report))
        .filter(|_| std::future::ready(keep))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: env!("CARGO_PKG_NAME").into(),
        version: env!("CARGO_PKG_VERSION").into(),
        resolver: dns.servers().iter().map(ToString::to_string).collect(),
        started,
        results: results.into_iter().map(|(_, r)| r).collect(),
    };
    Ok((doc, stopped.get()))
}

/// Audits every domain of the configuration into one document.
pub async fn run(config: &Config) -> Result<Document, SetupError> {
    run_each(config, |_| {}).await
}

/// `mailcheck spf`: one `check_host()` evaluation.
pub async fn spf(config: &Config, query: &SpfQuery) -> Result<SpfReport, SetupError> {
    let dns = Dns::new(&config.resolver)?;
    let request = Request {
        ip: query.ip,
        sender: query.sender.clone(),
        helo: query.helo.clone(),
        domain: query.domain.to_string(),
    };
    let evaluation = check_host(&dns, &request).await;
    Ok(SpfReport {
        schema_version: SCHEMA_VERSION,
        tool: env!("CARGO_PKG_NAME").into(),
        version: env!("CARGO_PKG_VERSION").into(),
        resolver: dns.servers().iter().map(ToString::to_string).collect(),
        domain: query.domain.to_string(),
        ip: query.ip,
        sender: query.sender.clone(),
        helo: query.helo.clone(),
        evaluation,
        dns_queries: dns.total_queries(),
    })
}
