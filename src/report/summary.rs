//! The closing summary of a bulk run, for stderr: how many domains, how fast, the grades, the
//! findings seen on most domains.

use std::io::{self, Write};
use std::time::Duration;

use crate::bulk::Tally;

/// Writes the summary of `tally` (`total` domains asked for, `elapsed` wall time).
pub fn render_summary(
    tally: &Tally,
    total: usize,
    elapsed: Duration,
    w: &mut dyn Write,
) -> io::Result<()> {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        f64::from(u32::try_from(tally.done).unwrap_or(u32::MAX)) / secs
    } else {
        0.0
    };
    writeln!(
        w,
        "mailcheck: {} of {total} domains audited in {secs:.1} s ({rate:.1}/s); \
         {} with errors, {} with unknown checks",
        tally.done, tally.with_errors, tally.with_unknown
    )?;
    let grades: Vec<String> = tally
        .grades
        .iter()
        .map(|(g, n)| format!("{g} {n}"))
        .collect();
    if !grades.is_empty() {
        writeln!(w, "  grades: {}", grades.join(" · "))?;
    }
    let common: Vec<String> = tally
        .most_common(5)
        .iter()
        .map(|(c, n)| format!("{c} ({n})"))
        .collect();
    if !common.is_empty() {
        writeln!(w, "  most common findings: {}", common.join(", "))?;
    }
    Ok(())
}
