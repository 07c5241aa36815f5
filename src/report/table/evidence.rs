//! The records as published, with the SPF include tree.

use std::fmt::Write as _;

use super::{Mark, Table};
use crate::checks::spf::eval::{LOOKUP_LIMIT, VOID_LIMIT};
use crate::checks::spf::tree::{Node, NodeState, TermOutcome};
use crate::dns::Lookup;
use crate::report::{DomainReport, sanitize};

/// Lines of the include tree shown at most; deeper or longer trees are summarised.
const TREE_LINES: usize = 24;

impl Table {
    /// The lookup budget, then each DNS-querying term with what it costs, nested by include.
    fn spf_tree(&self, out: &mut String, root: &Node) {
        if root.terms.is_empty() {
            return;
        }
        let over = |n: u32, limit: u32| {
            if n > limit {
                format!("{} {n} of {limit}", self.mark(Mark::Error))
            } else {
                format!("{n} of {limit}")
            }
        };
        let plus = if root.incomplete() { "+" } else { "" };
        let _ = writeln!(
            out,
            "{}DNS lookups {}{plus}   void lookups {}",
            " ".repeat(10),
            over(root.total, LOOKUP_LIMIT),
            over(root.total_voids, VOID_LIMIT)
        );
        let mut lines = Vec::new();
        self.branch(root, "", &mut lines);
        let width = lines
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let shown = lines.len().min(TREE_LINES);
        for (line, note) in &lines[..shown] {
            let pad = " ".repeat(width - line.chars().count());
            let _ = writeln!(out, "{}{line}{pad}  {note}", " ".repeat(10));
        }
        if lines.len() > shown {
            let _ = writeln!(
                out,
                "{}… {} more (see --format json)",
                " ".repeat(10),
                lines.len() - shown
            );
        }
    }

    fn branch(&self, node: &Node, indent: &str, lines: &mut Vec<(String, String)>) {
        let terms = node.evaluation_order();
        for (i, t) in terms.iter().enumerate() {
            let last = i + 1 == terms.len();
            let glyph = if last { "└─ " } else { "├─ " };
            let cost = Node::term_cost(t);
            let note = match (&t.outcome, t.child.as_deref().map(|c| &c.state)) {
                (_, Some(NodeState::Loop)) => format!("{cost} {} loop", self.mark(Mark::Error)),
                (_, Some(NodeState::NoSpf { .. } | NodeState::Multiple { .. })) => {
                    format!("{cost} {} no single SPF record", self.mark(Mark::Error))
                }
                (_, Some(NodeState::Invalid { .. })) => {
                    format!("{cost} {} syntax error", self.mark(Mark::Error))
                }
                (_, Some(NodeState::Truncated)) => format!("{cost} … not followed"),
                (TermOutcome::Void, _) => format!("{cost} {} void", self.mark(Mark::Warning)),
                (TermOutcome::Failed { failure }, _) => {
                    format!("? {} {failure}", self.mark(Mark::Unknown))
                }
                (TermOutcome::Macro, _) => format!("{cost} (macro)"),
                (TermOutcome::Ignored, _) => "0 (ignored: the record has all)".into(),
                _ => cost.to_string(),
            };
            lines.push((format!("{indent}{glyph}{}", sanitize(&t.term)), note));
            if let Some(child) = t.child.as_deref()
                && matches!(child.state, NodeState::Record { .. })
            {
                let deeper = format!("{indent}{}", if last { "   " } else { "│  " });
                self.branch(child, &deeper, lines);
            }
        }
    }

    pub(super) fn records(&self, r: &DomainReport, out: &mut String) {
        let f = &r.facts;
        let _ = writeln!(out, "{}", self.bold("Records"));
        let spf: Vec<Line> = match &f.txt {
            Lookup::Found { records, .. } => crate::checks::spf::records(records)
                .iter()
                .map(|t| Line::Text(t.text()))
                .collect(),
            Lookup::Failed(e) => vec![Line::failed(e)],
            Lookup::NxDomain | Lookup::NoData => Vec::new(),
        };
        self.record_lines(out, "SPF", &spf);
        if let NodeState::Record { .. } = f.spf.tree.state {
            self.spf_tree(out, &f.spf.tree);
        }
        let mut dmarc: Vec<Line> = match &f.dmarc.lookup {
            Lookup::Failed(e) => vec![Line::failed(e)],
            _ => f
                .dmarc
                .records
                .iter()
                .map(|d| Line::Text(d.text.clone()))
                .collect(),
        };
        if let Lookup::Found { cnames, .. } = &f.dmarc.lookup
            && let Some(last) = cnames.last()
        {
            dmarc.push(Line::Text(format!(
                "(through CNAME {} → {})",
                cnames[0].name, last.target
            )));
        }
        if f.dmarc.records.is_empty()
            && let Some(at) = f.dmarc.discovery.policy_domain.as_deref()
            && let Some(step) = f.dmarc.walk.iter().find(|s| s.domain == at)
            && let [record] = step.records.as_slice()
        {
            dmarc.push(Line::Text(format!(
                "(inherited from _dmarc.{at}) {}",
                record.text
            )));
        }
        self.record_lines(out, "DMARC", &dmarc);
        self.dkim_line(out, r);
        for (label, p) in [
            ("MTA-STS", &f.mta_sts.record),
            ("TLS-RPT", &f.tls_rpt),
            ("BIMI", &f.bimi.record),
        ] {
            let mut lines: Vec<Line> = match &p.lookup {
                Lookup::Failed(e) => vec![Line::failed(e)],
                _ => p
                    .records
                    .iter()
                    .map(|d| Line::Text(d.text.clone()))
                    .collect(),
            };
            if let Some(t) = p.dangling() {
                lines.push(Line::Text(format!(
                    "{} is a CNAME to {t}, which does not exist",
                    p.name
                )));
            }
            if let Lookup::Found { cnames, .. } = &p.lookup {
                for c in cnames {
                    lines.push(Line::Text(format!(
                        "(through the CNAME {} → {})",
                        c.name, c.target
                    )));
                }
            }
            if let Some(t) = p.cname_conflict() {
                lines.push(Line::Text(format!("{} also has a CNAME to {t}", p.name)));
            }
            match label {
                "MTA-STS" => lines.extend(policy_lines(f).into_iter().map(Line::Text)),
                "BIMI" => lines.extend(logo_lines(f).into_iter().map(Line::Text)),
                _ => {}
            }
            self.record_lines(out, label, &lines);
        }
        self.record_lines(out, "DNSSEC", &super::dnssec::lines(&f.dnssec));
        let tlsa = super::dnssec::tlsa_lines(f);
        if !tlsa.is_empty() {
            self.record_lines(out, "TLSA", &tlsa);
        }
        out.push('\n');
    }

    /// `DKIM   selector1 ✔ RSA 2048 · selector2 → provider ✔ RSA 2048 · 29 other selectors tried`.
    fn dkim_line(&self, out: &mut String, r: &DomainReport) {
        let d = &r.facts.dkim;
        let mut parts: Vec<String> = Vec::new();
        for s in &d.selectors {
            let via = s
                .delegation()
                .map(|t| format!(" → {}", sanitize(t)))
                .unwrap_or_default();
            let name = sanitize(&s.selector);
            if let Some((target, exists)) = s.empty_delegation() {
                let what = if exists {
                    "no key there"
                } else {
                    "does not exist"
                };
                parts.push(format!(
                    "{name} → {} {} {what}",
                    sanitize(target),
                    self.mark(Mark::Error)
                ));
                continue;
            }
            if let Some(e) = s.lookup.failure() {
                parts.push(format!("{name} {} {e}", self.mark(Mark::Unknown)));
                continue;
            }
            for k in &s.keys {
                let (mark, what) = match &k.parsed {
                    Err(_) => (Mark::Error, "invalid".to_owned()),
                    Ok(k) if k.revoked => (Mark::Info, "revoked".to_owned()),
                    Ok(k) if k.key_error.is_some() => (Mark::Error, "bad key".to_owned()),
                    Ok(k) => {
                        let kind = k.key_type.to_ascii_uppercase();
                        let bits = k.bits.map(|b| format!(" {b}")).unwrap_or_default();
                        let mark = match (k.key_type.as_str(), k.bits) {
                            ("rsa", Some(b)) if b < 1024 => Mark::Error,
                            ("rsa", Some(b)) if !(2048..=4096).contains(&b) => Mark::Warning,
                            ("rsa" | "ed25519", _) if k.flags.iter().any(|t| t == "y") => {
                                Mark::Warning
                            }
                            ("rsa" | "ed25519", _) => Mark::Pass,
                            _ => Mark::Error,
                        };
                        (mark, format!("{}{bits}", sanitize(&kind)))
                    }
                };
                parts.push(format!("{name}{via} {} {what}", self.mark(mark)));
            }
        }
        let shown = d
            .selectors
            .iter()
            .filter(|s| {
                !s.keys.is_empty() || s.empty_delegation().is_some() || s.lookup.failure().is_some()
            })
            .count();
        let others = d.selectors.len() - shown;
        let tried = if shown == 0 {
            self.dim(&format!(
                "no key found at the {others} selectors tried (a guess: see --dkim-selector)"
            ))
        } else {
            format!("{others} other selectors tried")
        };
        parts.push(tried);
        self.wrap(out, "  DKIM    ", 10, &parts.join(" · "));
    }

    fn record_lines(&self, out: &mut String, label: &str, values: &[Line]) {
        if values.is_empty() {
            let _ = writeln!(out, "  {label:<7} {}", self.dim("none published"));
        }
        for (i, v) in values.iter().enumerate() {
            let lead = if i == 0 {
                format!("  {label:<7} ")
            } else {
                " ".repeat(10)
            };
            // Remote text is sanitised here; the marker is ours, painted after.
            let text = match v {
                Line::Text(t) => sanitize(t).into_owned(),
                Line::Unknown(t) => format!("{} {}", self.mark(Mark::Unknown), sanitize(t)),
            };
            self.wrap(out, &lead, 10, &text);
        }
    }
}

/// One line of the records section.
pub(super) enum Line {
    /// A record as published, or a note about it (remote text inside).
    Text(String),
    /// Could not tell: shown after the `?` marker.
    Unknown(String),
}

impl Line {
    fn failed(e: &crate::dns::DnsFailure) -> Self {
        Self::Unknown(format!("the TXT lookup failed: {e}"))
    }
}
/// `max_age` in words: `1209600 (14 days)`.
fn max_age(n: u64) -> String {
    match n {
        86_400 => "86400 (1 day)".into(),
        n if n >= 86_400 && n % 86_400 == 0 => format!("{n} ({} days)", n / 86_400),
        n if n >= 3_600 => format!("{n} ({} h)", n / 3_600),
        n => format!("{n} s"),
    }
}

/// The MTA-STS policy as fetched: what it says, and how the fetch went.
fn policy_lines(f: &crate::facts::Facts) -> Vec<String> {
    let Some(p) = &f.mta_sts.policy else {
        if f.mta_sts.record.records.is_empty() {
            return Vec::new();
        }
        return vec!["policy not fetched (--no-https)".into()];
    };
    let mut lines = Vec::new();
    for c in &p.fetch.cnames {
        lines.push(format!(
            "(policy host through the CNAME {} → {})",
            c.name, c.target
        ));
    }
    if let Some(t) = p.dangling() {
        lines.push(format!(
            "{} is a CNAME to {t}, which does not exist",
            p.host
        ));
    }
    let at = p
        .fetch
        .address
        .map(|a| format!(" from {a}"))
        .unwrap_or_default();
    match (p.fetch.response(), p.fetch.problem()) {
        (Some(r), None) => {
            let ct = r.content_type.as_deref().unwrap_or("no content type");
            let cut = if r.truncated { ", cut at the cap" } else { "" };
            lines.push(format!(
                "{}: HTTP {}{at} ({ct}, {} bytes{cut})",
                p.fetch.url, r.status, r.bytes
            ));
        }
        (_, Some(problem)) => lines.push(format!("{}: {problem}{at}", p.fetch.url)),
        (None, None) => {}
    }
    if let Some(policy) = &p.policy {
        let mut parts = vec![policy.mode.clone().unwrap_or_else(|| "no mode".into())];
        parts.push(match policy.max_age {
            Some(n) => format!("max_age {}", max_age(n)),
            None => "no max_age".into(),
        });
        if !policy.mx.is_empty() {
            parts.push(format!("mx {}", policy.mx.join(", ")));
        }
        lines.push(format!("policy {}", parts.join(" · ")));
        for e in &policy.errors {
            lines.push(format!("policy error: {e}"));
        }
    }
    lines
}

/// The BIMI logo as fetched.
fn logo_lines(f: &crate::facts::Facts) -> Vec<String> {
    let Some(l) = &f.bimi.logo else {
        return Vec::new();
    };
    let what = if let Some(why) = &l.refused {
        why.clone()
    } else if let Some(problem) = l
        .fetch
        .as_ref()
        .and_then(crate::checks::https::Fetch::problem)
    {
        problem
    } else {
        match &l.svg {
            Some(s) if s.is_tiny_ps() => "SVG Tiny PS".into(),
            Some(s) => format!(
                "<{}> baseProfile={} version={}: not SVG Tiny PS",
                s.element.as_deref().unwrap_or("?"),
                s.base_profile.as_deref().unwrap_or("(absent)"),
                s.version.as_deref().unwrap_or("(absent)")
            ),
            None => "not read".into(),
        }
    };
    let mut lines = vec![format!("logo {}: {what}", l.url)];
    if let Some(e) = &f.bimi.evidence {
        let what = if let Some(why) = &e.refused {
            why.clone()
        } else if let Some(p) = e
            .fetch
            .as_ref()
            .and_then(crate::checks::https::Fetch::problem)
        {
            p
        } else {
            format!("{} PEM certificate(s), not validated", e.certificates)
        };
        lines.push(format!("evidence {}: {what}", e.url));
    }
    lines
}
