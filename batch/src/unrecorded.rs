//! Request ids the journal could not take: a submit accepted while the journal was locked by
//! another program, or its disk full. Each is appended (and synced) to a small file beside the
//! journal, so the next run follows the job instead of calling the line `unknown` and leading
//! its user to send it, and pay for it, again.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The file's name in the output folder.
pub const FILE_NAME: &str = "accepted-unrecorded.jsonl";

/// One accepted submit the journal did not record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unrecorded {
    /// The line.
    pub line: u64,
    /// The request id the server gave.
    pub request_id: String,
    /// When the server accepted it (milliseconds since the epoch, this machine's clock).
    pub accepted_ms: Option<u64>,
}

fn path_in(out: &Path) -> PathBuf {
    out.join(FILE_NAME)
}

/// Keeps `line`'s request id; whether it was kept.
pub fn keep(out: &Path, line: u64, request_id: &str, accepted: Option<SystemTime>) -> bool {
    let entry = Unrecorded {
        line,
        request_id: request_id.to_owned(),
        accepted_ms: accepted
            .and_then(|at| at.duration_since(SystemTime::UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_millis()).ok()),
    };
    let Ok(mut text) = serde_json::to_vec(&entry) else {
        return false;
    };
    text.push(b'\n');
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path_in(out))
        .and_then(|mut file| {
            file.write_all(&text)?;
            file.sync_all()
        });
    written.is_ok()
}

/// Every request id kept, in the order they were; a line cut by a crash is skipped (its id was
/// said on stderr, and the line is `unknown` as before).
pub fn read(out: &Path) -> Vec<Unrecorded> {
    let Ok(text) = std::fs::read_to_string(path_in(out)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Removes the file once the journal holds what it kept.
pub fn clear(out: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path_in(out)) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_ids_read_back_and_clear() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert!(keep(dir.path(), 3, "req-3", Some(SystemTime::UNIX_EPOCH)));
        assert!(keep(dir.path(), 5, "req-5", None));
        std::fs::OpenOptions::new()
            .append(true)
            .open(path_in(dir.path()))?
            .write_all(b"{\"line\": 7, \"requ")?;
        let kept = read(dir.path());
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].request_id, "req-3");
        assert_eq!(kept[0].accepted_ms, Some(0));
        clear(dir.path())?;
        clear(dir.path())?;
        assert!(read(dir.path()).is_empty());
        Ok(())
    }
}
