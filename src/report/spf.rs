//! `mailcheck spf`: the result of one `check_host()` evaluation, as text or JSON.
//!
//! JSON: `{schema_version, tool, version, resolver, domain, ip, sender, helo, evaluation:
//! {result, matched: {domain, term} | null, path: [domains], reason, explanation, lookups,
//! voids}, dns_queries}`.

use std::io::{self, Write};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::sanitize;
use crate::checks::spf::eval::{Evaluation, LOOKUP_LIMIT, SpfResult, VOID_LIMIT};
use crate::exit::ExitStatus;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpfReport {
    pub schema_version: u32,
    pub tool: String,
    pub version: String,
    pub resolver: Vec<String>,
    pub domain: String,
    pub ip: IpAddr,
    pub sender: String,
    pub helo: String,
    pub evaluation: Evaluation,
    pub dns_queries: u64,
}

impl SpfReport {
    /// 0 pass; 3 temperror (DNS failed); 1 anything else: the address is not authorised.
    pub fn exit_status(&self) -> ExitStatus {
        match self.evaluation.result {
            SpfResult::Pass => ExitStatus::Clean,
            SpfResult::TempError => ExitStatus::Unknown,
            _ => ExitStatus::Findings,
        }
    }

    pub fn render_json(&self, w: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self)?;
        writeln!(w)
    }

    pub fn render_text(&self, w: &mut dyn Write) -> io::Result<()> {
        let e = &self.evaluation;
        writeln!(
            w,
            "SPF for {} from {} (sender {}, HELO {})",
            sanitize(&self.domain),
            self.ip,
            sanitize(&self.sender),
            sanitize(&self.helo)
        )?;
        writeln!(w, "  result   {}", e.result.as_str())?;
        if let Some(m) = &e.matched {
            writeln!(
                w,
                "  matched  {} in {}",
                sanitize(&m.term),
                sanitize(&m.domain)
            )?;
        }
        if e.path.len() > 1 {
            writeln!(w, "  path     {}", sanitize(&e.path.join(" → ")))?;
        }
        writeln!(w, "  why      {}", sanitize(&e.reason))?;
        if let Some(x) = &e.explanation {
            writeln!(w, "  exp      {}", sanitize(x))?;
        }
        writeln!(
            w,
            "  lookups  {} of {LOOKUP_LIMIT}, void {} of {VOID_LIMIT} · {} queries · resolver {}",
            e.lookups,
            e.voids,
            self.dns_queries,
            self.resolver.join(", ")
        )
    }
}
