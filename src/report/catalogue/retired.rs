//! Retired codes in the catalogue: `explain` of a redirected or removed code, and their JSON.

use std::fmt::Write as _;
use std::io;

use serde::Serialize;

use super::{RuleDoc, json, rule_markdown, rule_text, wrap};
use crate::cli::Format;
use crate::rules::RuleStatus;
use crate::rules::redirects::{Fate, Retired};

/// A retired code, as JSON.
#[derive(Serialize)]
pub(super) struct RetiredDoc<'a> {
    code: &'a str,
    name: &'a str,
    status: RuleStatus,
    since: &'a str,
    retired_in: &'a str,
    /// The code that took over, for a redirect.
    redirect: Option<&'a str>,
    /// Why it was removed, for a removal.
    reason: Option<&'a str>,
}

impl<'a> From<&'a Retired> for RetiredDoc<'a> {
    fn from(r: &'a Retired) -> Self {
        let (redirect, reason) = match r.fate {
            Fate::Redirect(to) => (Some(to), None),
            Fate::Removed(why) => (None, Some(why)),
        };
        Self {
            code: r.code,
            name: r.name,
            status: RuleStatus::Removed,
            since: r.since,
            retired_in: r.retired_in,
            redirect,
            reason,
        }
    }
}

/// `explain` of a retired code: its successor with a note, or what it was and why it went.
pub(super) fn retired(r: &Retired, format: Format, width: usize) -> io::Result<String> {
    let note = r.describe();
    if let Some(next) = r.successor() {
        return Ok(match format {
            Format::Json | Format::Jsonl => json(&RuleDoc {
                redirected_from: Some(r.code),
                ..RuleDoc::from(next)
            })?,
            Format::Markdown => format!("> {note}.\n\n{}", rule_markdown(next, "#")),
            Format::Table | Format::Csv => format!("{note}.\n\n{}", rule_text(next, width)),
        });
    }
    Ok(match format {
        Format::Json | Format::Jsonl => json(&RetiredDoc::from(r))?,
        Format::Markdown => format!("# {}\n\n**Removed.** {note}.\n", r.code),
        Format::Table | Format::Csv => {
            let mut out = format!("{} · removed\n\n", r.code);
            let _ = writeln!(out, "  name       {}", r.name);
            let _ = writeln!(
                out,
                "  status     removed in {} (since {})\n",
                r.retired_in, r.since
            );
            wrap(
                &mut out,
                &format!(
                    "{note}. The code stays reserved and never returns with another meaning; \
                     ignoring it is harmless, selecting it is an error."
                ),
                width,
            );
            out
        }
    })
}
