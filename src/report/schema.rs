//! `mailcheck schema`: the JSON Schema of the report, derived from the very types that are
//! serialised ([`Document`], [`DomainReport`] and the facts they embed, each with
//! `#[derive(schemars::JsonSchema)]` beside its `Serialize`), so it cannot drift from the output.
//! `docs/schema.json` is `mailcheck schema`; a test fails when it is stale, and another validates
//! real reports against it.

use std::io::{self, Write};

use super::{Document, DomainReport, SCHEMA_VERSION};
use crate::cli::SchemaDocument;

/// The schema of the `--format json` document.
pub fn report_schema() -> serde_json::Value {
    finish(
        schemars::schema_for!(Document),
        "mailcheck report",
        "The `mailcheck --format json` document: one run, with a report per domain.",
    )
}

/// The schema of one `--format jsonl` line: one domain's report.
pub fn domain_schema() -> serde_json::Value {
    finish(
        schemars::schema_for!(DomainReport),
        "mailcheck domain report",
        "One line of `mailcheck --format jsonl`: everything about one domain.",
    )
}

fn finish(schema: schemars::Schema, title: &str, description: &str) -> serde_json::Value {
    let mut value = schema.to_value();
    if let Some(map) = value.as_object_mut() {
        map.insert("title".into(), title.into());
        map.insert(
            "description".into(),
            format!("{description} schema_version {SCHEMA_VERSION}.").into(),
        );
    }
    value
}

/// Prints the schema of `document`, pretty, with a final newline.
pub fn write_schema(document: SchemaDocument, w: &mut dyn Write) -> io::Result<()> {
    let value = match document {
        SchemaDocument::Report => report_schema(),
        SchemaDocument::Domain => domain_schema(),
    };
    serde_json::to_writer_pretty(&mut *w, &value)?;
    writeln!(w)
}
