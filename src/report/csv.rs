//! `--format csv`: one row per domain, under a header row of fixed columns ([`COLUMNS`]; the
//! README documents each). Columns are only ever added at the end, so scripts that read them
//! by position keep working.

use std::io::{self, Write};

use super::essentials::Essentials;
use super::{Document, DomainReport, Render};

/// The header row.
pub const COLUMNS: &[&str] = &[
    "domain",
    "input",
    "grade",
    "score",
    "partial",
    "errors",
    "warnings",
    "infos",
    "unknowns",
    "root_cause",
    "mx_hosts",
    "spf_all",
    "dmarc_policy",
    "dkim_selectors",
    "mta_sts",
    "tls_rpt",
    "starttls_ok",
    "starttls_total",
    "findings",
    "dns_queries",
    "elapsed_ms",
];

/// The CSV renderer.
pub struct Csv;

impl Render for Csv {
    fn render(&self, doc: &Document, w: &mut dyn Write) -> io::Result<()> {
        write_csv(doc.results.iter().map(row), w)
    }
}

/// Writes the header and `rows` (each made by [`row`]): a bulk run keeps only its rows, not
/// its reports, until the end.
pub fn write_csv(rows: impl Iterator<Item = Vec<String>>, w: &mut dyn Write) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(COLUMNS)?;
    for r in rows {
        out.write_record(r)?;
    }
    out.flush()
}

/// Whether a record is there, unusable, absent, or unknown: the short form of a record text.
fn presence(text: &str, valid: bool) -> String {
    match text {
        super::essentials::NONE | super::essentials::UNKNOWN => text.to_owned(),
        _ if valid => "valid".into(),
        _ => "invalid".into(),
    }
}

/// One domain's row, in [`COLUMNS`] order.
pub fn row(r: &DomainReport) -> Vec<String> {
    let e = Essentials::of(r);
    let root = r.root_cause.as_ref().map_or_else(String::new, |c| {
        serde_json::to_value(c)
            .ok()
            .and_then(|v| v["kind"].as_str().map(str::to_owned))
            .unwrap_or_default()
    });
    let mut codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let f = &r.facts;
    vec![
        r.domain.clone(),
        r.input.clone(),
        r.score.grade.clone().unwrap_or_default(),
        r.score.value.map(|v| v.to_string()).unwrap_or_default(),
        r.score.partial.to_string(),
        r.counts.error.to_string(),
        r.counts.warning.to_string(),
        r.counts.info.to_string(),
        r.counts.unknown.to_string(),
        root,
        e.mx_hosts,
        e.spf_all,
        e.dmarc_policy,
        e.dkim,
        presence(&e.mta_sts, f.mta_sts.record.single().is_some()),
        presence(&e.tls_rpt, f.tls_rpt.single().is_some()),
        e.starttls_ok.to_string(),
        e.starttls_total.to_string(),
        codes.join(" "),
        r.stats.dns_queries.to_string(),
        r.stats.elapsed_ms.to_string(),
    ]
}
