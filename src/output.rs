//! Where a report goes: stdout, or with `-o FILE` a file written atomically (a temporary file
//! beside it, then a rename), so a reader never sees half a report and a failed run leaves the
//! previous file as it was.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Renders into `output` when given (even with `quiet`), else to stdout unless `quiet`. A closed
/// stdout (`mailcheck … | head`) is not an error.
pub fn emit(
    output: Option<&Path>,
    quiet: bool,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match output {
        Some(path) => {
            let mut buf = Vec::new();
            render(&mut buf)?;
            write_atomically(path, &buf)
        }
        None if quiet => Ok(()),
        None => {
            let mut out = io::stdout().lock();
            match render(&mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary(path);
    let result = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// The directory `-o PATH` writes into must exist: checked before any I/O.
pub fn check_target(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(format!("-o {}: is a directory", path.display()));
    }
    if dir.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "-o {}: no directory {}",
            path.display(),
            dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_whole_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new report").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new report");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
        assert!(check_target(&path).is_ok());
        assert!(check_target(&dir.path().join("nope/r.json")).is_err());
        assert!(check_target(dir.path()).is_err());
    }
}
