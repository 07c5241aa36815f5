//! The MX hosts table: one row per (host, address), with its reverse DNS, TLS, certificate
//! expiry and blocklist hits, so a reader sees every mail host's state at a glance.

use std::fmt::Write as _;
use std::net::IpAddr;

use comfy_table::{ColumnConstraint, ContentArrangement, Width, presets};

use super::{Mark, Table};
use crate::checks::mx::HostAddresses;
use crate::checks::smtp::{ErrorKind, Probe};
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::report::{DomainReport, sanitize};
use crate::rules::bl_unusable;

impl Table {
    pub(super) fn mx_hosts(&self, r: &DomainReport, out: &mut String) {
        let mx = &r.facts.mx;
        let mut rows: Vec<[String; 7]> = Vec::new();
        match &mx.lookup {
            Lookup::Found { records, .. } => {
                let mut records = records.clone();
                records
                    .sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
                for m in records {
                    let pref = m.preference.to_string();
                    if m.exchange == "." {
                        rows.push(row(&pref, ".", "null MX: accepts no mail"));
                        continue;
                    }
                    match mx.hosts.iter().find(|h| h.name == m.exchange) {
                        Some(h) => self.host_rows(&r.facts, &pref, h, &mut rows),
                        None => rows.push(row(&pref, &sanitize(&m.exchange), "")),
                    }
                }
            }
            Lookup::NoData => {
                if let Some(h) = &mx.implicit {
                    self.host_rows(&r.facts, "–", h, &mut rows);
                    if let Some(first) = rows.first_mut() {
                        first[1] = format!("{} (implicit)", first[1]);
                    }
                }
            }
            Lookup::NxDomain => return,
            Lookup::Failed(f) => {
                let _ = writeln!(
                    out,
                    "MX hosts\n  {} the MX lookup {f}\n",
                    self.mark(Mark::Unknown)
                );
                return;
            }
        }
        let mut t = comfy_table::Table::new();
        t.load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(self.0.width.saturating_sub(1)).unwrap_or(u16::MAX))
            .set_header(vec![
                "pref", "host", "address", "PTR", "TLS", "expires", "lists",
            ]);
        // Short cells never wrap: comfy-table would rather split `mx.example.test` or `none ⚠`
        // than narrow a column with room to spare. Addresses and PTR names may still wrap.
        let mut floor = [0usize; 7];
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                floor[i] = floor[i].max(textwrap::core::display_width(cell));
            }
        }
        for row in rows {
            t.add_row(row.to_vec());
        }
        for i in [0, 1, 4, 5, 6] {
            if let Some(column) = t.column_mut(i) {
                // The constraint counts the padding too (one column each side).
                let width = u16::try_from(floor[i].min(30) + 2).unwrap_or(32);
                column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width)));
            }
        }
        let _ = writeln!(out, "{}", self.bold("MX hosts"));
        for line in t.lines() {
            let _ = writeln!(out, " {}", line.trim_end());
        }
        out.push('\n');
    }

    fn host_rows(&self, f: &Facts, pref: &str, h: &HostAddresses, rows: &mut Vec<[String; 7]>) {
        let name = sanitize(&h.name).into_owned();
        let ips: Vec<IpAddr> =
            h.a.records()
                .into_iter()
                .flatten()
                .map(|a| IpAddr::V4(*a))
                .chain(
                    h.aaaa
                        .records()
                        .into_iter()
                        .flatten()
                        .map(|a| IpAddr::V6(*a)),
                )
                .collect();
        if ips.is_empty() {
            let note = match (h.a.failure(), h.aaaa.failure()) {
                (Some(e), _) | (_, Some(e)) => format!("{} lookup {e}", self.mark(Mark::Unknown)),
                _ if matches!(h.a, Lookup::NxDomain) => {
                    // Short enough for the address column at 80 columns.
                    format!("{} NXDOMAIN", self.mark(Mark::Error))
                }
                _ => format!("{} no address", self.mark(Mark::Error)),
            };
            rows.push(row(pref, &name, &note));
            return;
        }
        for (i, ip) in ips.into_iter().enumerate() {
            let probe = f
                .smtp
                .probes
                .iter()
                .find(|p| p.ip == ip && p.host == h.name);
            let (tls, expires) = self.tls_cells(f, probe);
            rows.push([
                if i == 0 {
                    pref.to_owned()
                } else {
                    String::new()
                },
                if i == 0 { name.clone() } else { String::new() },
                ip.to_string(),
                self.reverse_cell(f, ip),
                tls,
                expires,
                self.lists_cell(f, ip),
            ]);
        }
    }

    fn reverse_cell(&self, f: &Facts, ip: IpAddr) -> String {
        let Some(p) = f.ptr.iter().find(|p| p.ip == ip) else {
            return "–".into();
        };
        match &p.lookup {
            Lookup::Found { records, .. } => {
                let mark = if p.confirmed() {
                    Mark::Pass
                } else {
                    Mark::Warning
                };
                format!("{} {}", sanitize(&records.join(", ")), self.mark(mark))
            }
            Lookup::Failed(_) => format!("{} failed", self.mark(Mark::Unknown)),
            _ => format!("none {}", self.mark(Mark::Warning)),
        }
    }

    fn tls_cells(&self, f: &Facts, probe: Option<&Probe>) -> (String, String) {
        let dash = || "–".to_owned();
        if !f.smtp.enabled {
            return ("not run".into(), dash());
        }
        let Some(p) = probe else {
            return (dash(), dash());
        };
        if p.skipped.is_some() {
            return ("skipped".into(), dash());
        }
        if let Some(t) = &p.tls {
            let expires = t.chain.first().map_or_else(dash, |leaf| {
                let day = crate::report::day(leaf.not_after);
                let now = i64::try_from(p.started).unwrap_or(i64::MAX);
                if leaf.not_after < now {
                    format!("expired {}", self.mark(Mark::Warning))
                } else {
                    day
                }
            });
            let version = match t.version.as_deref() {
                Some("TLSv1_3") => "1.3".to_owned(),
                Some("TLSv1_2") => "1.2".to_owned(),
                Some(v) => sanitize(v).into_owned(),
                None => format!("failed {}", self.mark(Mark::Warning)),
            };
            let trusted = t.verdict == Some(crate::checks::smtp::CertVerdict::Trusted)
                && t.name_matches != Some(false);
            let version = if trusted {
                version
            } else {
                format!("{version} {}", self.mark(Mark::Warning))
            };
            return (version, expires);
        }
        let cell = match (&p.error, &p.greeting, &p.ehlo) {
            (Some(e), _, _) if e.kind == ErrorKind::Refused => {
                format!("refused {}", self.mark(Mark::Error))
            }
            (Some(e), _, _) if e.kind == ErrorKind::Timeout => {
                format!("timeout {}", self.mark(Mark::Unknown))
            }
            (Some(e), _, _) if e.kind == ErrorKind::Unreachable => {
                format!("no route {}", self.mark(Mark::Unknown))
            }
            (_, Some(g), _) if g.code != 220 => format!("{} {}", g.code, self.mark(Mark::Unknown)),
            (_, _, Some(_)) if p.starttls.is_none() => {
                format!("none {}", self.mark(Mark::Warning))
            }
            (Some(_), _, _) => format!("error {}", self.mark(Mark::Warning)),
            _ => dash(),
        };
        (cell, dash())
    }

    fn lists_cell(&self, f: &Facts, ip: IpAddr) -> String {
        if !f.dnsbl.enabled {
            return "not run".into();
        }
        let subject = ip.to_string();
        let mut usable = 0;
        let mut hits = 0;
        for list in &f.dnsbl.lists {
            let Some(q) = list.queries.iter().find(|q| q.subject == subject) else {
                continue;
            };
            if bl_unusable(list).is_some() {
                continue;
            }
            usable += 1;
            if q.answer.records().is_some() {
                hits += 1;
            }
        }
        let mark = if hits > 0 { Mark::Error } else { Mark::Pass };
        if usable == 0 {
            return "–".into();
        }
        format!("{hits}/{usable} {}", self.mark(mark))
    }
}

fn row(pref: &str, host: &str, address: &str) -> [String; 7] {
    [
        pref.to_owned(),
        host.to_owned(),
        address.to_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]
}
