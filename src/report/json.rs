//! `--format json`: the [`Document`] as one pretty-printed JSON object.

use std::io::{self, Write};

use super::{Document, Render};

pub struct Json;

impl Render for Json {
    fn render(&self, doc: &Document, w: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, doc)?;
        writeln!(w)
    }
}

/// `--format jsonl`: one domain's report as one line, flushed, so a reader sees whole lines only.
pub fn write_jsonl(report: &super::DomainReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *w, report)?;
    writeln!(w)?;
    w.flush()
}
