//! Run-level helpers for bulk audits: the `--shard` partition, `--resume` from a JSONL file,
//! and the tally behind the closing summary and the progress bar.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, BufRead, Seek, SeekFrom};
use std::path::Path;

use serde::Deserialize;

use crate::cli::FailOn;
use crate::exit::ExitStatus;
use crate::report::DomainReport;

/// `--shard K/N`: the K-th of N parts of the input (K counted from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Option<Self> {
        let (k, n) = text.split_once('/')?;
        let (index, count) = (k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?);
        (index >= 1 && index <= count).then_some(Self { index, count })
    }

    /// Whether a domain (its normalised A-label form, as the reports spell it) falls in this
    /// shard. The hash is fixed (64-bit FNV-1a), so every machine and every release agrees on
    /// the partition, unlike std's randomly seeded hasher.
    pub fn contains(self, domain: &str) -> bool {
        fnv1a(domain.as_bytes()) % self.count == self.index - 1
    }
}

/// 64-bit FNV-1a (the reference parameters of the FNV specification).
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// What `--resume` reads of a JSONL line.
#[derive(Deserialize)]
struct Line {
    domain: String,
}

/// Prepares a JSONL file for appending: a torn last line (a run killed mid-write) is cut off,
/// so the next line starts on a line of its own. Returns the domains of the complete lines
/// (for `--resume`). A missing file is an empty one.
pub fn prepare_append(path: &Path) -> io::Result<HashSet<String>> {
    let mut file = match fs::OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e),
    };
    // Line by line: a run of many domains makes a file far larger than memory should hold.
    let mut done = HashSet::new();
    let (mut complete, mut read) = (0u64, 0u64);
    let mut reader = io::BufReader::new(&mut file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        if line.last() != Some(&b'\n') {
            break;
        }
        complete = read;
        if let Ok(l) = serde_json::from_slice::<Line>(&line) {
            done.insert(l.domain);
        }
    }
    drop(reader);
    if complete < read {
        file.set_len(complete)?;
        file.seek(SeekFrom::Start(complete))?;
        file.sync_all()?;
    }
    Ok(done)
}

/// What a run has produced so far, kept small (counts, not reports), so a run of any size
/// can report its status and summary without holding its reports.
#[derive(Debug, Default)]
pub struct Tally {
    pub done: usize,
    /// Domains with at least one error-severity finding.
    pub with_errors: usize,
    /// Domains with at least one check unknown.
    pub with_unknown: usize,
    /// Domains per grade; `-` for no grade (nothing could be decided).
    pub grades: BTreeMap<String, usize>,
    /// Domains per finding code.
    pub findings: BTreeMap<String, usize>,
    pub status: Option<ExitStatus>,
}

impl Tally {
    pub fn add(&mut self, report: &DomainReport, fail_on: FailOn) {
        self.done += 1;
        if report.counts.error > 0 {
            self.with_errors += 1;
        }
        if report.counts.unknown > 0 {
            self.with_unknown += 1;
        }
        let grade = report.score.grade.clone().unwrap_or_else(|| "-".into());
        *self.grades.entry(grade).or_default() += 1;
        let mut seen = HashSet::new();
        for f in &report.findings {
            if seen.insert(f.code.as_str()) {
                *self.findings.entry(f.code.clone()).or_default() += 1;
            }
        }
        let status = ExitStatus::of_reports(std::slice::from_ref(report), fail_on);
        self.status = Some(self.status.map_or(status, |s| s.max(status)));
    }

    /// The finding codes seen on most domains, most common first (ties by code).
    pub fn most_common(&self, n: usize) -> Vec<(&str, usize)> {
        let mut all: Vec<(&str, usize)> = self
            .findings
            .iter()
            .map(|(c, n)| (c.as_str(), *n))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }

    pub fn status(&self) -> ExitStatus {
        self.status.unwrap_or(ExitStatus::Clean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_one_based() {
        assert_eq!(Shard::parse("1/4"), Some(Shard { index: 1, count: 4 }));
        assert_eq!(Shard::parse("4/4"), Some(Shard { index: 4, count: 4 }));
        assert_eq!(Shard::parse("0/4"), None);
        assert_eq!(Shard::parse("5/4"), None);
        assert_eq!(Shard::parse("1/0"), None);
        assert_eq!(Shard::parse("a/b"), None);
    }

    #[test]
    fn the_hash_is_the_published_fnv1a() {
        // Test vectors of the FNV reference implementation.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_torn_last_line_is_cut_and_complete_lines_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        assert!(prepare_append(&path).unwrap().is_empty(), "no file yet");
        fs::write(
            &path,
            "{\"domain\":\"a.test\",\"x\":1}\n{\"domain\":\"b.test\"}\n{\"domain\":\"c.te",
        )
        .unwrap();
        let done = prepare_append(&path).unwrap();
        assert_eq!(done, HashSet::from(["a.test".into(), "b.test".into()]));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"domain\":\"a.test\",\"x\":1}\n{\"domain\":\"b.test\"}\n"
        );
    }
}
