//! The durable journal: one SQLite file in the output folder recording where every line stands.
//!
//! Every change is its own committed transaction (WAL, `synchronous=FULL`), so after a crash at
//! any point the journal says which lines may have been paid for. `submitting` is committed
//! before the POST and the request id right after it: a line with a request id is never
//! submitted again, and a line still `submitting` at startup may have been accepted, so it
//! becomes `unknown`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use runcomfy::price::Usd;
use rusqlite::{Connection, OptionalExtension as _, ToSql, params, params_from_iter};

use crate::error::BatchError;
use crate::input::{InvalidLine, Plan};

/// The journal's file name in the output folder.
pub const FILE_NAME: &str = "journal.sqlite";

/// The schema version this code writes; older journals are migrated ([`MIGRATIONS`]).
const SCHEMA_VERSION: &str = "5";

/// Version 1 to 2: each line's estimate and cost, each file's URL and SHA-256.
const MIGRATE_1: &str = "
ALTER TABLE lines ADD COLUMN estimate_nanos INTEGER;
ALTER TABLE lines ADD COLUMN basis TEXT;
ALTER TABLE lines ADD COLUMN cost_nanos INTEGER;
ALTER TABLE files ADD COLUMN url TEXT;
ALTER TABLE files ADD COLUMN sha256 TEXT;
";

/// Version 2 to 3: when each line's submit was accepted, so a resumed job is polled on its
/// model's schedule from then.
const MIGRATE_2: &str = "
ALTER TABLE lines ADD COLUMN submitted_ms INTEGER;
";

/// Version 3 to 4: what each line's submits of unknown outcome may have cost, at the estimates
/// they were sent with. Older versions kept one estimate a line, so each such submit counts at
/// it: every submit of an `unknown` (or requeued `pending`) line, every one but the job
/// followed of any other (a `submitting` line's last is added when it becomes `unknown`).
const MIGRATE_3: &str = "
ALTER TABLE lines ADD COLUMN unseen_nanos INTEGER DEFAULT 0;
UPDATE lines SET unseen_nanos = CASE
    WHEN state IN ('unknown', 'pending') AND submits > 0 THEN submits * estimate_nanos
    WHEN state NOT IN ('unknown', 'pending') AND submits > 1 THEN (submits - 1) * estimate_nanos
    ELSE 0 END;
";

/// Version 4 to 5: a cost the server stated in a form that is not US dollars, as it said it.
const MIGRATE_4: &str = "
ALTER TABLE lines ADD COLUMN cost_unread TEXT;
";

/// Each older version and the statements that bring it to [`SCHEMA_VERSION`], in order.
const MIGRATIONS: [(&str, &[&str]); 4] = [
    ("1", &[MIGRATE_1, MIGRATE_2, MIGRATE_3, MIGRATE_4]),
    ("2", &[MIGRATE_2, MIGRATE_3, MIGRATE_4]),
    ("3", &[MIGRATE_3, MIGRATE_4]),
    ("4", &[MIGRATE_4]),
];

/// A submit becoming of unknown outcome: its estimate joins the line's unseen ones (NULL,
/// "could have cost anything", when it had none).
const UNSEEN: &str = "unseen_nanos = unseen_nanos + estimate_nanos";

/// The `meta` key of `--max-spend`, in billionths of a dollar.
pub const MAX_SPEND: &str = "max_spend_nanos";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS lines (
    line       INTEGER PRIMARY KEY,
    key        TEXT,
    dir        TEXT UNIQUE,
    model      TEXT,
    input      TEXT,
    state      TEXT NOT NULL CHECK (state IN
                 ('pending', 'submitting', 'submitted', 'downloaded', 'failed', 'unknown', 'invalid')),
    request_id TEXT,
    reason     TEXT,
    submits    INTEGER NOT NULL DEFAULT 0,
    updated_ms INTEGER NOT NULL,
    estimate_nanos INTEGER,
    basis      TEXT,
    cost_nanos INTEGER,
    submitted_ms INTEGER,
    -- What the line's submits of unknown outcome may have cost, each at the estimate it was
    -- sent with; NULL once one had no estimate (it could have cost anything).
    unseen_nanos INTEGER DEFAULT 0,
    -- A cost the server stated that is not an amount of US dollars ('0.5 EUR'), as it said it.
    cost_unread TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS files (
    line         INTEGER NOT NULL REFERENCES lines (line),
    position     INTEGER NOT NULL,
    field        TEXT NOT NULL,
    idx          INTEGER,
    path         TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    content_type TEXT,
    url          TEXT,
    sha256       TEXT,
    PRIMARY KEY (line, position)
) STRICT;
-- A server that answers two submits with one request id is found at once.
CREATE INDEX IF NOT EXISTS lines_by_request ON lines (request_id);
";

/// Where a line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not sent yet.
    Pending,
    /// Being sent: committed before the POST, so a crash leaves the line here.
    Submitting,
    /// Accepted, with a request id; being waited for or downloaded.
    Submitted,
    /// Done: every file saved.
    Downloaded,
    /// Failed for good (the job failed, or the server refused the input).
    Failed,
    /// May or may not have been accepted; never sent again without `--resubmit-unknown`.
    Unknown,
    /// Invalid in the input file; skipped with `--skip-invalid`.
    Invalid,
}

impl State {
    /// The word stored in the journal and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Submitting => "submitting",
            State::Submitted => "submitted",
            State::Downloaded => "downloaded",
            State::Failed => "failed",
            State::Unknown => "unknown",
            State::Invalid => "invalid",
        }
    }

    fn parse(word: &str) -> Option<State> {
        Some(match word {
            "pending" => State::Pending,
            "submitting" => State::Submitting,
            "submitted" => State::Submitted,
            "downloaded" => State::Downloaded,
            "failed" => State::Failed,
            "unknown" => State::Unknown,
            "invalid" => State::Invalid,
            _ => return None,
        })
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line as the journal has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Line number in the input file.
    pub number: u64,
    /// The user's key.
    pub key: Option<String>,
    /// Its folder, relative to the output folder (none for invalid lines).
    pub dir: Option<String>,
    /// The model id (none when the line did not name a known one).
    pub model: Option<String>,
    /// The input JSON (none for invalid lines).
    pub input: Option<String>,
    /// Where it stands.
    pub state: State,
    /// The request id, once accepted.
    pub request_id: Option<String>,
    /// Why it failed or is unknown, or the last transient error.
    pub reason: Option<String>,
    /// Submits sent for it, over every run.
    pub submits: u64,
    /// What it was estimated to cost when it was (or is to be) sent.
    pub estimate: Option<Usd>,
    /// How the estimate was worked out, or why there is none.
    pub basis: Option<String>,
    /// What it cost, as the server said.
    pub cost: Option<Usd>,
    /// What the server said it cost, when that is not an amount of US dollars this runcomfy
    /// can read (`"0.5 EUR"`), printable and shortened.
    pub cost_unread: Option<String>,
    /// When the server accepted its submit (this machine's clock), once submitted; for a
    /// submit answered so that it may or may not have been taken, when it was sent.
    pub submitted_at: Option<SystemTime>,
    /// What its submits of unknown outcome (an `unknown` line's, and those of a line sent
    /// again with --resubmit-unknown before the one it follows) may have cost, each at the
    /// estimate it was sent with; `None` when one had no estimate, so they could have cost
    /// anything.
    pub unseen: Option<Usd>,
}

/// A saved file of a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileRow {
    /// The output field it came from.
    pub field: String,
    /// Its position in the field, for arrays.
    pub index: Option<u64>,
    /// Its path, relative to the output folder.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// The `Content-Type` the host sent.
    pub content_type: Option<String>,
    /// The URL it was downloaded from.
    pub url: Option<String>,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: Option<String>,
}

/// The journal of one output folder.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl Journal {
    /// The journal's path in `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Opens (or creates) the journal in `dir`.
    pub fn open(dir: &Path) -> Result<Journal, BatchError> {
        let path = Self::path_in(dir);
        let conn = Connection::open(&path).map_err(|source| BatchError::Journal {
            path: path.clone(),
            source,
        })?;
        let journal = Journal { conn, path };
        journal.setup()?;
        Ok(journal)
    }

    fn setup(&self) -> Result<(), BatchError> {
        let c = &self.conn;
        // WAL + FULL: a commit is on disk when it returns, and readers (a user's sqlite3, a
        // test) never block the batch.
        let mode: String = c
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(self.format(format!("cannot use WAL mode (got {mode})")));
        }
        c.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.err(e))?;
        c.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        c.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
        match self.meta("schema_version")? {
            None => self.set_meta("schema_version", SCHEMA_VERSION)?,
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) => {
                let Some((_, steps)) = MIGRATIONS.iter().find(|(from, _)| *from == v) else {
                    return Err(self.format(format!(
                        "schema version {v}, this runcomfy reads {SCHEMA_VERSION}"
                    )));
                };
                c.execute_batch(&format!(
                    "BEGIN; {} UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version'; COMMIT;",
                    steps.concat()
                ))
                .map_err(|e| self.err(e))?;
            }
        }
        Ok(())
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> BatchError {
        BatchError::Journal {
            path: self.path.clone(),
            source,
        }
    }

    fn format(&self, reason: String) -> BatchError {
        BatchError::JournalFormat {
            path: self.path.clone(),
            reason,
        }
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, BatchError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Removes a value of the `meta` table (none is no error).
    pub fn remove_meta(&self, key: &str) -> Result<(), BatchError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Sets a value of the `meta` table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), BatchError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Whether the journal holds a batch (its lines were written).
    pub fn is_initialized(&self) -> Result<bool, BatchError> {
        Ok(self.meta("input_sha256")?.is_some())
    }

    /// Writes every line of a checked input file, in one transaction: valid lines `pending`,
    /// invalid ones `invalid` with their problems.
    pub fn initialize(
        &mut self,
        plan: &Plan,
        input_path: &str,
        default_model: Option<&str>,
    ) -> Result<(), BatchError> {
        let now = now_ms();
        let path = self.path.clone();
        let err = |source| BatchError::Journal {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO lines (line, key, dir, model, input, state, reason, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(err)?;
            for line in &plan.lines {
                insert
                    .execute(params![
                        to_i64(line.number),
                        line.key,
                        line.dir,
                        line.model.id,
                        line.input.to_string(),
                        State::Pending.as_str(),
                        None::<String>,
                        now
                    ])
                    .map_err(err)?;
            }
            for InvalidLine {
                number,
                key,
                model,
                problems,
                ..
            } in &plan.invalid
            {
                insert
                    .execute(params![
                        to_i64(*number),
                        key,
                        None::<String>,
                        model,
                        None::<String>,
                        State::Invalid.as_str(),
                        problems.join("; "),
                        now
                    ])
                    .map_err(err)?;
            }
            let mut meta = tx
                .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
                .map_err(err)?;
            meta.execute(params!["input_path", input_path])
                .map_err(err)?;
            meta.execute(params!["default_model", default_model.unwrap_or("")])
                .map_err(err)?;
            if plan.unchecked {
                meta.execute(params![crate::UNCHECKED, "1"]).map_err(err)?;
            }
            meta.execute(params!["created_ms", now.to_string()])
                .map_err(err)?;
            // Written last: its presence means the lines are all there.
            meta.execute(params!["input_sha256", plan.sha256])
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Every line, in file order.
    pub fn rows(&self) -> Result<Vec<Row>, BatchError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT line, key, dir, model, input, state, request_id, reason, submits,
                        estimate_nanos, basis, cost_nanos, submitted_ms, unseen_nanos,
                        cost_unread
                 FROM lines ORDER BY line",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let number: i64 = r.get(0)?;
                let state: String = r.get(5)?;
                let dir: Option<String> = r.get(2)?;
                if let Some(dir) = dir.as_deref().filter(|d| !crate::input::is_line_dir(d)) {
                    return Ok(Err(format!(
                        "line {number}: its folder {dir:?} is not a name inside the output folder"
                    )));
                }
                Ok(Ok(Row {
                    number: u64::try_from(number).unwrap_or_default(),
                    key: r.get(1)?,
                    dir,
                    model: r.get(3)?,
                    input: r.get(4)?,
                    request_id: r.get(6)?,
                    reason: r.get(7)?,
                    submits: u64::try_from(r.get::<_, i64>(8)?).unwrap_or_default(),
                    estimate: r.get::<_, Option<i64>>(9)?.and_then(to_usd),
                    basis: r.get(10)?,
                    cost: r.get::<_, Option<i64>>(11)?.and_then(to_usd),
                    submitted_at: r.get::<_, Option<i64>>(12)?.and_then(from_ms),
                    unseen: r.get::<_, Option<i64>>(13)?.and_then(to_usd),
                    cost_unread: r.get(14)?,
                    // Parsed last: a column that cannot be read is a database error before an
                    // unknown state is a format error.
                    state: match State::parse(&state) {
                        Some(state) => state,
                        None => return Ok(Err(format!("line {number}: unknown state {state:?}"))),
                    },
                }))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.map_err(|e| self.err(e))?;
            out.push(row.map_err(|reason| self.format(reason))?);
        }
        Ok(out)
    }

    /// Every saved file, by line.
    pub fn files(&self) -> Result<HashMap<u64, Vec<FileRow>>, BatchError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT line, field, idx, path, bytes, content_type, url, sha256 FROM files
                 ORDER BY line, position",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    FileRow {
                        field: r.get(1)?,
                        index: r
                            .get::<_, Option<i64>>(2)?
                            .and_then(|i| u64::try_from(i).ok()),
                        path: r.get(3)?,
                        bytes: u64::try_from(r.get::<_, i64>(4)?).unwrap_or_default(),
                        content_type: r.get(5)?,
                        url: r.get(6)?,
                        sha256: r.get(7)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out: HashMap<u64, Vec<FileRow>> = HashMap::new();
        for row in rows {
            let (line, file) = row.map_err(|e| self.err(e))?;
            out.entry(u64::try_from(line).unwrap_or_default())
                .or_default()
                .push(file);
        }
        Ok(out)
    }

    /// At startup: lines caught between the POST and the journal write may have been accepted;
    /// they become `unknown`. Returns their line numbers.
    pub fn recover_interrupted(&self) -> Result<Vec<u64>, BatchError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "UPDATE lines SET state = 'unknown', updated_ms = ?1, {UNSEEN},
                   reason = 'interrupted while submitting: the server may or may not have \
                             accepted it (check the dashboard; --resubmit-unknown sends it again)'
                 WHERE state = 'submitting' RETURNING line",
            ))
            .map_err(|e| self.err(e))?;
        let lines = stmt
            .query_map([now_ms()], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|e| self.err(e))?;
        let mut lines: Vec<u64> = lines
            .into_iter()
            .filter_map(|l| u64::try_from(l).ok())
            .collect();
        lines.sort_unstable();
        Ok(lines)
    }

    /// Before the POST: `pending` (or `unknown`, sent again with --resubmit-unknown; `from`
    /// says which the line was read as) → `submitting`, counting the submit.
    pub fn mark_submitting(&self, line: u64, from: State) -> Result<(), BatchError> {
        self.transition(
            line,
            &[self.resendable(from)?],
            "state = 'submitting', submits = submits + 1, reason = NULL",
            &[],
        )
    }

    /// Right after the POST: `submitting` → `submitted` with the request id and when the
    /// server accepted it (if known); unless another line already holds that id, which is then
    /// returned and nothing is changed. Another line's id is no answer for this one: following
    /// it would save that job's files as this line's.
    pub fn mark_submitted(
        &self,
        line: u64,
        request_id: &str,
        accepted: Option<SystemTime>,
    ) -> Result<Submitted, BatchError> {
        // One statement: the (indexed) check rides on the update an accepted submit makes
        // anyway; the other line is looked up only when the check stopped it.
        let from = [State::Submitting];
        let updated = self.update(
            line,
            &from,
            "state = 'submitted', request_id = ?3, submitted_ms = ?4, reason = NULL",
            "NOT EXISTS (SELECT 1 FROM lines WHERE request_id = ?3 AND line != ?1)",
            &[&request_id, &accepted.and_then(to_ms)],
        )?;
        if updated {
            return Ok(Submitted::Recorded);
        }
        match self.line_of_request(request_id, line)? {
            Some(other) => Ok(Submitted::TakenBy(other)),
            None => Err(self.not_in(line, &from)),
        }
    }

    /// The submit provably did not reach the server (or was refused before it was taken, a
    /// 429): `submitting` → back to `from`, to be sent again. An `unknown` line stays one:
    /// its earlier submit may still have been accepted, and only --resubmit-unknown sends it.
    pub fn mark_not_sent(&self, line: u64, from: State, reason: &str) -> Result<(), BatchError> {
        let back = self.resendable(from)?.as_str();
        self.transition(
            line,
            &[State::Submitting],
            "state = ?4, submits = submits - 1, reason = ?3",
            &[&reason, &back],
        )
    }

    /// The line, other than `line`, that already holds `request_id`.
    fn line_of_request(&self, request_id: &str, line: u64) -> Result<Option<u64>, BatchError> {
        self.conn
            .query_row(
                "SELECT line FROM lines WHERE request_id = ?1 AND line != ?2 LIMIT 1",
                params![request_id, line as i64],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|other| other.map(|l| l as u64))
            .map_err(|e| self.err(e))
    }

    /// When a submit whose answer leaves it unknown whether it was taken was sent: the time a
    /// charge can be matched by (QA repro42 N2: the report said none).
    pub fn note_sent(&self, line: u64, sent: SystemTime) -> Result<(), BatchError> {
        self.transition(
            line,
            &[State::Submitting],
            "submitted_ms = ?3",
            &[&to_ms(sent)],
        )
    }

    /// The submit may have been accepted: `submitting` → `unknown`.
    pub fn mark_unknown(&self, line: u64, reason: &str) -> Result<(), BatchError> {
        self.transition(
            line,
            &[State::Submitting],
            &format!("state = 'unknown', {UNSEEN}, reason = ?3"),
            &[&reason],
        )
    }

    /// Failed for good: a pending (or resent unknown) line that cannot be sent, or a submitted
    /// job that failed.
    pub fn mark_failed(&self, line: u64, reason: &str) -> Result<(), BatchError> {
        self.transition(
            line,
            &[State::Pending, State::Unknown, State::Submitted],
            "state = 'failed', reason = ?3",
            &[&reason],
        )
    }

    /// The server refused the submit (the input, the model): `submitting` → `failed`; the
    /// submit is not counted, since nothing was accepted.
    pub fn mark_refused(&self, line: u64, reason: &str) -> Result<(), BatchError> {
        self.transition(
            line,
            &[State::Submitting],
            "state = 'failed', submits = submits - 1, reason = ?3",
            &[&reason],
        )
    }

    /// A downloaded line whose files are no longer as saved (removed, cut, its record gone):
    /// `downloaded` → `submitted`, so its job's files are fetched again; `reason` says why.
    pub fn mark_fetch_again(&self, line: u64, reason: &str) -> Result<(), BatchError> {
        self.transition(
            line,
            &[State::Downloaded],
            "state = 'submitted', reason = ?3",
            &[&reason],
        )
    }

    /// Another line's submit was answered with `line`'s request id, so which line's input
    /// that job ran is not known: a line still waiting for it becomes `unknown` (its request id
    /// kept, to find the job by); one that ended keeps its files, with the doubt as its
    /// reason. Whether it became `unknown`.
    pub fn disown(&self, line: u64, reason: &str) -> Result<bool, BatchError> {
        if self.update(
            line,
            &[State::Submitted],
            "state = 'unknown', reason = ?3",
            "1",
            &[&reason],
        )? {
            return Ok(true);
        }
        self.update(
            line,
            &[State::Downloaded, State::Failed],
            "reason = ?3",
            "1",
            &[&reason],
        )?;
        Ok(false)
    }

    /// A transient error on a submitted line, kept for the report; the state stays.
    pub fn note(&self, line: u64, reason: &str) -> Result<(), BatchError> {
        self.transition(line, &[State::Submitted], "reason = ?3", &[&reason])
    }

    /// The estimate of a line about to be sent (and how it was worked out).
    pub fn set_estimate(
        &self,
        line: u64,
        estimate: Option<Usd>,
        basis: &str,
    ) -> Result<(), BatchError> {
        self.conn
            .execute(
                "UPDATE lines SET estimate_nanos = ?2, basis = ?3 WHERE line = ?1",
                params![to_i64(line), estimate.map(|u| to_i64(u.nanos())), basis],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// What a line's job cost, as the server said.
    pub fn set_cost(&self, line: u64, cost: Usd) -> Result<(), BatchError> {
        self.conn
            .execute(
                "UPDATE lines SET cost_nanos = ?2 WHERE line = ?1",
                params![to_i64(line), to_i64(cost.nanos())],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// What a line's job cost, as the server said it, when that is not an amount of US dollars
    /// this runcomfy can read: kept so the report and the summary do not say it cost nothing.
    pub fn set_cost_unread(&self, line: u64, said: &str) -> Result<(), BatchError> {
        self.conn
            .execute(
                "UPDATE lines SET cost_unread = ?2 WHERE line = ?1",
                params![to_i64(line), said],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A pending line left unsent, and why (a budget): the reason is kept for the report.
    pub fn note_pending(&self, line: u64, reason: &str) -> Result<(), BatchError> {
        self.transition(line, &[State::Pending], "reason = ?3", &[&reason])
    }

    /// Every file saved: `submitted` → `downloaded`, with the files, in one transaction.
    pub fn mark_downloaded(&mut self, line: u64, files: &[FileRow]) -> Result<(), BatchError> {
        self.with_files(line, files, State::Downloaded, None)
    }

    /// Failed for good after some of its files were saved: `submitted` → `failed`, with the
    /// files saved, in one transaction.
    pub fn mark_failed_with(
        &mut self,
        line: u64,
        files: &[FileRow],
        reason: &str,
    ) -> Result<(), BatchError> {
        self.with_files(line, files, State::Failed, Some(reason))
    }

    /// A submitted line left for the next run after some of its files were saved: the files
    /// so far and why, in one transaction; the state stays `submitted`.
    pub fn note_with(
        &mut self,
        line: u64,
        files: &[FileRow],
        reason: &str,
    ) -> Result<(), BatchError> {
        self.with_files(line, files, State::Submitted, Some(reason))
    }

    /// Replaces `line`'s files and moves it from `submitted` to `state` with `reason`, in one
    /// transaction.
    fn with_files(
        &mut self,
        line: u64,
        files: &[FileRow],
        state: State,
        reason: Option<&str>,
    ) -> Result<(), BatchError> {
        let path = self.path.clone();
        let err = |source| BatchError::Journal {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM files WHERE line = ?1", [to_i64(line)])
            .map_err(err)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO files (line, position, field, idx, path, bytes, content_type, url, sha256)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(err)?;
            for (position, file) in files.iter().enumerate() {
                insert
                    .execute(params![
                        to_i64(line),
                        position as i64,
                        file.field,
                        file.index.map(to_i64),
                        file.path,
                        to_i64(file.bytes),
                        file.content_type,
                        file.url,
                        file.sha256
                    ])
                    .map_err(err)?;
            }
        }
        let changed = tx
            .execute(
                "UPDATE lines SET state = ?3, reason = ?4, updated_ms = ?2
                 WHERE line = ?1 AND state = 'submitted'",
                params![to_i64(line), now_ms(), state.as_str(), reason],
            )
            .map_err(err)?;
        if changed != 1 {
            drop(tx);
            return Err(self.format(format!("line {line} is not submitted")));
        }
        tx.commit().map_err(err)
    }

    /// Moves `line` from one of the states `from` by `set`, whose `?3`, `?4`... are `args`
    /// (`?1` is the line, `?2` the time).
    /// `from` if a line in that state may be sent: `pending`, or `unknown` (the scheduler is
    /// given unknown lines only with --resubmit-unknown).
    fn resendable(&self, from: State) -> Result<State, BatchError> {
        match from {
            State::Pending | State::Unknown => Ok(from),
            other => Err(self.format(format!("a line that is {other} is never sent"))),
        }
    }

    fn transition(
        &self,
        line: u64,
        from: &[State],
        set: &str,
        args: &[&dyn ToSql],
    ) -> Result<(), BatchError> {
        if self.update(line, from, set, "1", args)? {
            Ok(())
        } else {
            Err(self.not_in(line, from))
        }
    }

    /// `UPDATE ... SET set` on `line` when it is in one of `from` and `condition` holds (`?1`
    /// is the line, `?2` now, `?3`... `args`); whether it was.
    fn update(
        &self,
        line: u64,
        from: &[State],
        set: &str,
        condition: &str,
        args: &[&dyn ToSql],
    ) -> Result<bool, BatchError> {
        let sql = format!(
            "UPDATE lines SET {set}, updated_ms = ?2 WHERE line = ?1 AND state IN ({}) AND {condition}",
            quoted(from)
        );
        let (line_arg, now) = (to_i64(line), now_ms());
        let head: [&dyn ToSql; 2] = [&line_arg, &now];
        let changed = self
            .conn
            .execute(&sql, params_from_iter(head.iter().chain(args)))
            .map_err(|e| self.err(e))?;
        Ok(changed == 1)
    }

    /// A line that was not in a state it was expected in.
    fn not_in(&self, line: u64, from: &[State]) -> BatchError {
        self.format(format!(
            "line {line} is not {} (two batches on one folder?)",
            quoted(from).replace(", ", " or ")
        ))
    }
}

/// States as SQL literals: `'pending', 'unknown'`.
fn quoted(states: &[State]) -> String {
    let quoted: Vec<String> = states.iter().map(|s| format!("'{s}'")).collect();
    quoted.join(", ")
}

/// What [`Journal::mark_submitted`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// The line is `submitted` under its request id.
    Recorded,
    /// Nothing: this other line already holds the request id.
    TakenBy(u64),
}

fn now_ms() -> i64 {
    to_ms(runcomfy::clock::now()).unwrap_or(0)
}

/// Milliseconds since the Unix epoch; `None` before it.
fn to_ms(at: SystemTime) -> Option<i64> {
    let since = at.duration_since(UNIX_EPOCH).ok()?;
    Some(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// The time `ms` milliseconds after the Unix epoch; `None` for a negative one, or one past
/// the year 9999, which no RFC 3339 time (the report's, a record's) can say.
fn from_ms(ms: i64) -> Option<SystemTime> {
    const YEAR_10000_MS: u64 = 253_402_300_800_000;
    let ms = u64::try_from(ms).ok().filter(|ms| *ms < YEAR_10000_MS)?;
    UNIX_EPOCH.checked_add(std::time::Duration::from_millis(ms))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_usd(nanos: i64) -> Option<Usd> {
    u64::try_from(nanos).ok().map(Usd::from_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let text = "{\"model\":\"bytedance/seedream-4-0/sequential\",\"input\":{\"text\":\"Generate 3 images.\"}}\n\
                    oops\n\
                    {\"model\":\"bytedance/seedream-4-0/sequential\",\"input\":{\"text\":\"Generate 3 images of a cat.\"},\"key\":\"cat\"}\n";
        crate::input::parse(text.as_bytes(), None, false, "abc".into(), None)
    }

    #[test]
    fn lines_move_through_their_states_and_survive_reopening() -> Result<(), BatchError> {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        assert!(!journal.is_initialized()?);
        journal.initialize(&plan(), "in.jsonl", None)?;
        assert!(journal.is_initialized()?);
        let rows = journal.rows()?;
        let states: Vec<State> = rows.iter().map(|r| r.state).collect();
        assert_eq!(states, [State::Pending, State::Invalid, State::Pending]);
        assert_eq!(rows[2].dir.as_deref(), Some("cat"));

        journal.mark_submitting(1, State::Pending)?;
        let accepted = UNIX_EPOCH + std::time::Duration::from_millis(1_764_000_000_123);
        assert_eq!(
            journal.mark_submitted(1, "req-1", Some(accepted))?,
            Submitted::Recorded
        );
        assert!(
            journal.mark_submitting(1, State::Pending).is_err(),
            "never sent twice"
        );
        journal.mark_submitting(3, State::Pending)?;
        drop(journal);

        // A crash between the POST and the request id: the line is unknown, not pending.
        let mut journal = Journal::open(dir.path())?;
        assert_eq!(journal.recover_interrupted()?, [3]);
        let rows = journal.rows()?;
        assert_eq!(rows[0].request_id.as_deref(), Some("req-1"));
        assert_eq!(rows[0].submitted_at, Some(accepted));
        assert_eq!(rows[2].submitted_at, None);
        assert_eq!(rows[2].state, State::Unknown);
        assert_eq!(rows[2].submits, 1);

        let file = FileRow {
            field: "images".into(),
            index: Some(0),
            path: "line-1/images-0.png".into(),
            bytes: 10,
            content_type: Some("image/png".into()),
            url: Some("https://cdn.example/0.png".into()),
            sha256: Some("ab".into()),
        };
        // Left for the next run with one file saved: still submitted, the file listed.
        journal.note_with(1, std::slice::from_ref(&file), "the second file was cut")?;
        let rows = journal.rows()?;
        assert_eq!(rows[0].state, State::Submitted);
        assert_eq!(rows[0].reason.as_deref(), Some("the second file was cut"));
        assert_eq!(journal.files()?[&1].len(), 1);
        // The next run saves both: the list is replaced, not added to.
        let second = FileRow {
            index: Some(1),
            path: "line-1/images-1.png".into(),
            ..file.clone()
        };
        journal.mark_downloaded(1, &[file, second])?;
        assert_eq!(journal.files()?[&1].len(), 2);
        assert_eq!(journal.rows()?[0].reason, None);
        // --resubmit-unknown sends line 3 again; a resend not taken leaves it unknown.
        assert!(journal.mark_submitting(3, State::Pending).is_err());
        journal.mark_submitting(3, State::Unknown)?;
        journal.mark_not_sent(3, State::Unknown, "connection refused")?;
        let rows = journal.rows()?;
        assert_eq!((rows[2].state, rows[2].submits), (State::Unknown, 1));
        Ok(())
    }

    #[test]
    fn a_journal_whose_folder_leaves_the_output_folder_is_refused() -> Result<(), BatchError> {
        for tampered in ["../escaped", "/tmp/escaped", "a/b", "", "report.jsonl"] {
            let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
            let mut journal = Journal::open(dir.path())?;
            journal.initialize(&plan(), "in.jsonl", None)?;
            journal
                .conn
                .execute("UPDATE lines SET dir = ?1 WHERE line = 3", [tampered])
                .map_err(|e| journal.err(e))?;
            match journal.rows() {
                Err(BatchError::JournalFormat { reason, .. }) => {
                    assert!(reason.contains("line 3"), "{tampered:?}: {reason}")
                }
                other => panic!("{tampered:?}: {other:?}"),
            }
        }
        // A folder named before a leading `-` got its `_` is still a line's.
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan(), "in.jsonl", None)?;
        journal
            .conn
            .execute("UPDATE lines SET dir = '-old' WHERE line = 3", [])
            .map_err(|e| journal.err(e))?;
        assert_eq!(journal.rows()?[2].dir.as_deref(), Some("-old"));
        Ok(())
    }

    #[test]
    fn a_version_2_journal_gains_submit_times() -> Result<(), BatchError> {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan(), "in.jsonl", None)?;
        journal.mark_submitting(1, State::Pending)?;
        // As a version 2 journal left it: a submitted line, and no column for its time.
        journal
            .conn
            .execute_batch(
                "UPDATE lines SET state = 'submitted', request_id = 'req-1' WHERE line = 1;
                 ALTER TABLE lines DROP COLUMN submitted_ms;
                 ALTER TABLE lines DROP COLUMN unseen_nanos;
                 ALTER TABLE lines DROP COLUMN cost_unread;
                 UPDATE meta SET value = '2' WHERE key = 'schema_version';",
            )
            .map_err(|e| journal.err(e))?;
        drop(journal);

        let journal = Journal::open(dir.path())?;
        assert_eq!(
            journal.meta("schema_version")?.as_deref(),
            Some(SCHEMA_VERSION)
        );
        let rows = journal.rows()?;
        assert_eq!(rows[0].request_id.as_deref(), Some("req-1"));
        assert_eq!(rows[0].submitted_at, None);
        journal.mark_submitting(3, State::Pending)?;
        journal.mark_submitted(3, "req-3", Some(SystemTime::now()))?;
        assert!(journal.rows()?[2].submitted_at.is_some());
        Ok(())
    }

    #[test]
    fn a_version_3_journal_counts_each_unseen_submit_at_the_estimate_it_kept()
    -> Result<(), BatchError> {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan(), "in.jsonl", None)?;
        // As a version 3 journal left them: line 1 unknown after two submits, line 2 sent
        // twice and done, line 3 caught submitting (its second submit).
        journal
            .conn
            .execute_batch(
                "UPDATE lines SET estimate_nanos = 90000000;
                 UPDATE lines SET state = 'unknown', submits = 2 WHERE line = 1;
                 UPDATE lines SET state = 'downloaded', submits = 2, request_id = 'r2' WHERE line = 2;
                 UPDATE lines SET state = 'submitting', submits = 2 WHERE line = 3;
                 ALTER TABLE lines DROP COLUMN unseen_nanos;
                 ALTER TABLE lines DROP COLUMN cost_unread;
                 UPDATE meta SET value = '3' WHERE key = 'schema_version';",
            )
            .map_err(|e| journal.err(e))?;
        drop(journal);

        let journal = Journal::open(dir.path())?;
        assert_eq!(journal.recover_interrupted()?, [3]);
        let unseen: Vec<Option<Usd>> = journal.rows()?.iter().map(|r| r.unseen).collect();
        let usd = |text: &str| text.parse::<Usd>().ok();
        assert_eq!(unseen, [usd("0.18"), usd("0.09"), usd("0.18")]);
        Ok(())
    }

    #[test]
    fn a_version_4_journal_keeps_its_costs_and_can_say_one_it_cannot_read() -> Result<(), BatchError>
    {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan(), "in.jsonl", None)?;
        journal.set_cost(1, "0.09".parse().unwrap_or_default())?;
        journal
            .conn
            .execute_batch(
                "ALTER TABLE lines DROP COLUMN cost_unread;
                 UPDATE meta SET value = '4' WHERE key = 'schema_version';",
            )
            .map_err(|e| journal.err(e))?;
        drop(journal);

        let journal = Journal::open(dir.path())?;
        journal.set_cost_unread(2, "\"0.5 EUR\"")?;
        let rows = journal.rows()?;
        assert_eq!(rows[0].cost, "0.09".parse().ok());
        assert_eq!(rows[0].cost_unread, None);
        assert_eq!(rows[1].cost_unread.as_deref(), Some("\"0.5 EUR\""));
        Ok(())
    }

    #[test]
    fn a_submit_of_unknown_outcome_keeps_its_estimate() -> Result<(), BatchError> {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan(), "in.jsonl", None)?;
        let usd = |text: &str| text.parse::<Usd>().ok();
        journal.set_estimate(1, usd("0.09"), "")?;
        journal.mark_submitting(1, State::Pending)?;
        journal.mark_unknown(1, "reset")?;
        // Sent again at today's price, which doubled: the first submit stays at its own.
        journal.set_estimate(1, usd("0.18"), "")?;
        journal.mark_submitting(1, State::Unknown)?;
        journal.mark_not_sent(1, State::Unknown, "no connection")?;
        journal.mark_submitting(1, State::Unknown)?;
        journal.mark_unknown(1, "reset")?;
        assert_eq!(journal.rows()?[0].unseen, usd("0.27"));
        // One with no estimate could have cost anything.
        journal.set_estimate(3, None, "")?;
        journal.mark_submitting(3, State::Pending)?;
        journal.mark_unknown(3, "reset")?;
        assert_eq!(journal.rows()?[2].unseen, None);
        Ok(())
    }

    #[test]
    fn a_request_id_another_line_holds_is_not_recorded() -> Result<(), BatchError> {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan(), "in.jsonl", None)?;
        journal.mark_submitting(1, State::Pending)?;
        assert_eq!(
            journal.mark_submitted(1, "req-1", None)?,
            Submitted::Recorded
        );
        journal.mark_submitting(3, State::Pending)?;
        assert_eq!(
            journal.mark_submitted(3, "req-1", None)?,
            Submitted::TakenBy(1)
        );
        let rows = journal.rows()?;
        assert_eq!(rows[2].state, State::Submitting, "unchanged");
        assert_eq!(rows[2].request_id, None);
        // A line no longer submitting is still an error, whatever its id.
        assert!(journal.mark_submitted(1, "req-9", None).is_err());
        Ok(())
    }
}
