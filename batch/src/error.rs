//! The errors that stop a batch as a whole (a single line's failure is recorded in the journal
//! instead).

use std::path::PathBuf;

use crate::input::InvalidLine;

/// Why a batch could not run, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// Some lines are invalid; nothing was submitted.
    #[error("{}; nothing was submitted", crate::report::count(lines.len() as u64, "invalid line", "invalid lines"))]
    Invalid {
        /// Every invalid line, with its problems.
        lines: Vec<InvalidLine>,
    },

    /// A line checked when the batch began can no longer be sent as it was checked (a local
    /// file it names moved, changed or is unreadable since); nothing of it was sent, and it
    /// waits for the next run.
    #[error(
        "line {line} cannot be sent as it was checked when the batch began: {source}; nothing \
         of it was sent: mend it (the file where it was) and run the batch again"
    )]
    LineUnreadable {
        /// The line.
        line: u64,
        /// Why.
        #[source]
        source: runcomfy::Error,
    },

    /// The input file has no job in it.
    #[error("{} has no lines to run", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// The journal could not be read or written.
    #[error("journal {}: {source}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// The journal holds something this version cannot use.
    #[error("journal {}: {reason}", path.display())]
    JournalFormat {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The output folder holds a batch of another input file.
    #[error(
        "{} holds a batch of another input (journal: {journal_input}, sha256 {journal_sha256}; \
         given: {given_input}, sha256 {given_sha256}); use another --out folder, or the original file",
        dir.display()
    )]
    InputMismatch {
        /// The output folder.
        dir: PathBuf,
        /// The input file the journal was made from.
        journal_input: String,
        /// Its hash.
        journal_sha256: String,
        /// The file given now.
        given_input: String,
        /// Its hash.
        given_sha256: String,
    },

    /// A setting differs from the one the batch started with.
    #[error(
        "{} was started {}, not {}; carry it on {}",
        dir.display(),
        as_given(setting, journal),
        as_given(setting, given),
        as_given(setting, journal)
    )]
    SettingMismatch {
        /// The output folder.
        dir: PathBuf,
        /// The setting: `--model`, `--unchecked` (`1` or empty), or `server` (a base URL, or
        /// `mock`).
        setting: &'static str,
        /// Its value in the journal.
        journal: String,
        /// The value given now.
        given: String,
    },

    /// A new batch in a folder that holds an earlier batch's results but no journal (deleted,
    /// or emptied): its lines would all be sent, and paid for, again, and replace them.
    #[error(
        "{} holds earlier results ({}) but no batch journal ({}) to carry them on: a new \
         batch there could send their lines again and replace them; use another --out folder",
        dir.display(),
        found.display(),
        crate::journal::FILE_NAME
    )]
    EarlierResults {
        /// The output folder.
        dir: PathBuf,
        /// What was found in it.
        found: PathBuf,
    },

    /// A journal that holds no batch (it lost its write-ahead log early, or the run died at
    /// its start) beside a line folder whose record no line of this input file leaves: the
    /// file is not the one that batch was sent with, and its lines would be matched to other
    /// lines' jobs by folder name, or sent again.
    #[error(
        "{} holds no batch, but {} is the record of a job {why}: the input file is not the one \
         the batch in this folder was begun with; run that file unchanged, or use another \
         --out folder",
        crate::journal::FILE_NAME,
        found.display()
    )]
    ResultsOfAnotherInput {
        /// The record found.
        found: PathBuf,
        /// Whose it is not (`no line of this file has its folder`, `of another input than
        /// line 4's`).
        why: String,
    },

    /// `--resume` on a folder without a journal.
    #[error("{} holds no batch journal ({})", dir.display(), crate::journal::FILE_NAME)]
    NoJournal {
        /// The folder.
        dir: PathBuf,
    },

    /// Another batch is running in the same output folder.
    #[error(
        "{} is in use by another runcomfy batch ({holder}): let it end, or stop it with Ctrl-C, then run again; do not delete {}, which would let both send the same lines (and pay for them twice)",
        dir.display(),
        crate::LOCK_FILE
    )]
    Busy {
        /// The folder.
        dir: PathBuf,
        /// Which process holds it, as its lock file says (`process 1234 since ...`).
        holder: String,
    },

    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The server refused the batch as a whole (bad token, no balance); the lines not yet
    /// submitted stay pending.
    #[error("refused by the server: {0}")]
    Refused(#[source] runcomfy::Error),

    /// The server went unanswered for `lasted`: every call failed to connect or met a server
    /// error, none answered between. The lines stay as they were, for the next run.
    #[error(
        "the server has not answered for {} ({source}); every line is kept as it was: run the \
         batch again to carry it on",
        crate::progress::format_duration(*lasted)
    )]
    Unreachable {
        /// How long.
        lasted: std::time::Duration,
        /// The last failure.
        #[source]
        source: runcomfy::Error,
    },

    /// The server asked to wait `retry_after` before more submits, longer than a batch waits
    /// ([`crate::LONGEST_RETRY_AFTER`]); nothing more was sent, and the lines stay as they were,
    /// for a run after that.
    #[error(
        "the API asks to wait {} before more submits ({source}); nothing more was sent and every \
         line is kept as it was: run the batch again after that",
        crate::progress::format_duration(*retry_after)
    )]
    RateLimited {
        /// How long the server asked to wait.
        retry_after: std::time::Duration,
        /// The refusal.
        #[source]
        source: runcomfy::Error,
    },

    /// The journal was removed while the batch ran (its output folder deleted, say): the files
    /// saved before may be gone with it, and no later run can carry the batch on.
    #[error(
        "{} was removed while the batch ran (the output folder deleted?): files saved before \
         may be gone with it, and the batch cannot be carried on; report.jsonl, written again, \
         names each line's request id (`runcomfy result ID --out DIR` fetches a job's files)",
        path.display()
    )]
    JournalGone {
        /// Where the journal was.
        path: PathBuf,
    },

    /// The batch stopped before its end (see `source`); the report and gallery were written
    /// and `summary` says where every line stands.
    #[error("the batch stopped: {source}")]
    Halted {
        /// Where every line stands.
        summary: Box<crate::report::Summary>,
        /// Why it stopped.
        #[source]
        source: Box<BatchError>,
    },

    /// A background task panicked or was lost.
    #[error("internal error: {0}")]
    Internal(String),
}

impl BatchError {
    /// Whether the journal was held by another program (SQLite's "database is locked"): a
    /// later run may find it free.
    pub fn is_journal_busy(&self) -> bool {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
        match self {
            BatchError::Journal {
                source: rusqlite::Error::SqliteFailure(failure, _),
                ..
            } => matches!(failure.code, DatabaseBusy | DatabaseLocked),
            BatchError::Halted { source, .. } => source.is_journal_busy(),
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BatchError {
        let path = path.into();
        move |source| BatchError::Io { path, source }
    }
}

/// How a batch setting's value is given on the command line: `with --model "m"`, `without
/// --model`, `with --mock`, `with --base-url URL`.
fn as_given(setting: &str, value: &str) -> String {
    match (setting, value) {
        ("server", "mock") => "with --mock".to_owned(),
        ("server", url) => format!("with --base-url {url}"),
        (flag, "") => format!("without {flag}"),
        // A flag with no value (`--unchecked`): set.
        ("--unchecked", _) => "with --unchecked".to_owned(),
        (flag, value) => format!("with {flag} {value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_another_program_holds_is_busy_also_when_it_halted_the_batch() {
        let failure = |code| BatchError::Journal {
            path: "journal.sqlite".into(),
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        };
        assert!(failure(rusqlite::ffi::SQLITE_BUSY).is_journal_busy());
        assert!(!failure(rusqlite::ffi::SQLITE_CORRUPT).is_journal_busy());
        let halted = BatchError::Halted {
            summary: Box::default(),
            source: Box::new(failure(rusqlite::ffi::SQLITE_LOCKED)),
        };
        assert!(halted.is_journal_busy());
    }

    #[test]
    fn a_setting_is_said_as_the_flag_that_gives_it() {
        let mismatch = |setting, journal: &str, given: &str| {
            BatchError::SettingMismatch {
                dir: "shots".into(),
                setting,
                journal: journal.to_owned(),
                given: given.to_owned(),
            }
            .to_string()
        };
        assert_eq!(
            mismatch("--model", "m/a", ""),
            "shots was started with --model \"m/a\", not without --model; carry it on with --model \"m/a\""
        );
        assert_eq!(
            mismatch("server", "mock", "https://api.example/"),
            "shots was started with --mock, not with --base-url https://api.example/; carry it on with --mock"
        );
    }
}
