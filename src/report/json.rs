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
