//! What a batch leaves for people and scripts: `report.jsonl` (one object per input line) and
//! the summary printed at the end.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use runcomfy::price::Usd;
use serde::Serialize;

use crate::error::BatchError;
use crate::journal::{FileRow, Row, State};
use crate::spending::{Spending, Tally};

/// The report's file name in the output folder.
pub const REPORT_FILE: &str = "report.jsonl";

/// One line of `report.jsonl`.
#[derive(Debug, Serialize)]
struct ReportLine<'a> {
    line: u64,
    key: Option<&'a str>,
    model: Option<&'a str>,
    /// The server its job was (or is to be) sent to: a base URL, or `mock`.
    server: &'a str,
    status: State,
    request_id: Option<&'a str>,
    /// Paths relative to the output folder.
    files: Vec<&'a str>,
    reason: Option<&'a str>,
    /// Submits that may have created a job for this line, over every run.
    submits: u64,
    /// When its job was accepted (this machine's clock, RFC 3339).
    submitted_at: Option<String>,
    /// The estimate before it was sent (US dollars).
    estimate_usd: Option<Usd>,
    /// How the estimate was worked out, or why there is none.
    estimate: Option<&'a str>,
    /// What it cost, as the server said (US dollars).
    cost_usd: Option<Usd>,
    /// What the server said it cost, as it wrote it, when that is not an amount of US dollars
    /// (`"0.5 EUR"`); only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_unread: Option<&'a str>,
    /// What its submits of unknown outcome may have cost, at the estimates they were sent
    /// with (US dollars); null when one had no estimate.
    unseen_usd: Option<Usd>,
    /// The version of runcomfy that wrote the report.
    runcomfy_version: &'a str,
}

/// Writes `report.jsonl` for a batch sent to `server` (through a temporary file and a rename,
/// so a reader never sees half of it).
pub fn write_report(
    out: &Path,
    server: &str,
    rows: &[Row],
    files: &HashMap<u64, Vec<FileRow>>,
) -> Result<(), BatchError> {
    let mut text = Vec::new();
    for row in rows {
        let line = ReportLine {
            line: row.number,
            key: row.key.as_deref(),
            model: row.model.as_deref(),
            server,
            status: row.state,
            request_id: row.request_id.as_deref(),
            files: files
                .get(&row.number)
                .map(|f| f.iter().map(|f| f.path.as_str()).collect())
                .unwrap_or_default(),
            reason: row.reason.as_deref(),
            submits: row.submits,
            submitted_at: row.submitted_at.map(runcomfy::provenance::timestamp),
            estimate_usd: row.estimate,
            estimate: row.basis.as_deref(),
            cost_usd: row.cost,
            cost_unread: row.cost_unread.as_deref(),
            unseen_usd: row.unseen,
            runcomfy_version: runcomfy::provenance::VERSION,
        };
        // Escaped as a record is: its reasons and paths hold a server's text.
        let json = runcomfy::error::escaped_json(&line, false)
            .map_err(|e| BatchError::io(out.join(REPORT_FILE))(e.into()))?;
        text.extend_from_slice(&json);
        text.push(b'\n');
    }
    write_atomically(&out.join(REPORT_FILE), &text)
}

/// Writes a file through a hidden temporary file in the same folder, synced, then renamed.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BatchError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(BatchError::io(path))
}

/// One line named in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Line number in the input file.
    pub line: u64,
    /// The user's key.
    pub key: Option<String>,
    /// The request id, if the line has one.
    pub request_id: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(key) = &self.key {
            write!(f, " (key {key:?})")?;
        }
        // Said once: most reasons (errors of the job) name the request already.
        if let Some(id) = &self.request_id
            && !self
                .reason
                .as_ref()
                .is_some_and(|r| r.contains(id.as_str()))
        {
            write!(f, " [request {id}]")?;
        }
        if let Some(reason) = &self.reason {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

/// How a batch ended.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The output folder.
    pub out: PathBuf,
    /// Lines in the input file.
    pub total: u64,
    /// Lines per state.
    pub counts: BTreeMap<State, u64>,
    /// Lines that failed for good.
    pub failed: Vec<Entry>,
    /// Lines that may or may not have been accepted.
    pub unknown: Vec<Entry>,
    /// Lines not finished in this run (pending, or submitted and not yet downloaded).
    pub unfinished: Vec<Entry>,
    /// Invalid lines that were skipped.
    pub invalid: Vec<Entry>,
    /// Lines found `submitting` at startup (a crash between POST and journal write).
    pub recovered_unknown: Vec<u64>,
    /// Whether the run was stopped (Ctrl-C) before it ended.
    pub interrupted: bool,
    /// Submits sent in this run.
    pub submitted_now: u64,
    /// The budget, if the batch has one.
    pub max_spend: Option<Usd>,
    /// Lines the budget left unsent (pending, sent by a run with a larger one).
    pub unsent: Vec<Entry>,
    /// What the batch has spent, or may have.
    pub spending: Spending,
}

impl Summary {
    /// Builds the summary from the journal's rows.
    pub fn from_rows(out: &Path, rows: &[Row]) -> Summary {
        let mut summary = Summary {
            out: out.to_owned(),
            total: rows.len() as u64,
            spending: Spending::of(rows),
            ..Summary::default()
        };
        for row in rows {
            *summary.counts.entry(row.state).or_default() += 1;
            let entry = Entry {
                line: row.number,
                key: row.key.clone(),
                request_id: row.request_id.clone(),
                reason: row.reason.clone(),
            };
            match row.state {
                State::Failed => summary.failed.push(entry),
                State::Unknown => summary.unknown.push(entry),
                State::Invalid => summary.invalid.push(entry),
                State::Pending | State::Submitting | State::Submitted => {
                    summary.unfinished.push(entry);
                }
                State::Downloaded => {}
            }
        }
        summary
    }

    /// Moves the lines the budget left unsent from `unfinished` to `unsent`.
    pub fn mark_unsent(&mut self, lines: &[u64]) {
        // A set: a budget can hold back most of 100,000 lines, and a scan per line was
        // quadratic (a minute at the end of such a batch).
        let lines: HashSet<u64> = lines.iter().copied().collect();
        let (unsent, rest) = std::mem::take(&mut self.unfinished)
            .into_iter()
            .partition(|e| lines.contains(&e.line));
        self.unsent = unsent;
        self.unfinished = rest;
    }

    /// Lines of a state.
    pub fn count(&self, state: State) -> u64 {
        self.counts.get(&state).copied().unwrap_or(0)
    }

    /// How the batch ended as one JSON object, for `batch --json`: its status (`complete`,
    /// `finished_with_problems`, `interrupted`), the lines per state, the lines of each list
    /// the text names, what was spent, and where the report and gallery are.
    pub fn to_json(&self) -> serde_json::Value {
        let entries = |entries: &[Entry]| -> Vec<serde_json::Value> {
            entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "line": e.line,
                        "key": e.key,
                        "request_id": e.request_id,
                        "reason": e.reason,
                    })
                })
                .collect()
        };
        let status = if self.interrupted {
            "interrupted"
        } else if self.is_complete() {
            "complete"
        } else {
            "finished_with_problems"
        };
        let counts: serde_json::Map<String, serde_json::Value> = self
            .counts
            .iter()
            .map(|(state, n)| (state.as_str().to_owned(), (*n).into()))
            .collect();
        serde_json::json!({
            "status": status,
            "out": self.out,
            "lines": self.total,
            "counts": counts,
            "failed": entries(&self.failed),
            "unknown": entries(&self.unknown),
            "unfinished": entries(&self.unfinished),
            "invalid": entries(&self.invalid),
            "unsent": entries(&self.unsent),
            "submitted_now": self.submitted_now,
            "spent_usd": self.spending.stated,
            "may_have_spent_usd": self.spending.committed(),
            "cost_unread_jobs": self.spending.unread.count,
            "max_spend_usd": self.max_spend,
            "report": self.out.join(REPORT_FILE),
            "gallery": self.out.join(crate::gallery::GALLERY_FILE),
        })
    }

    /// Whether every valid line was downloaded.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
            && self.unknown.is_empty()
            && self.unfinished.is_empty()
            && self.unsent.is_empty()
    }

    /// The exit code for the command line, as `runcomfy run` has them; when several hold, the
    /// first: 130 when interrupted, 3 when some lines are unknown (their submit may have been
    /// accepted: do not resend them blindly), 75 (run again) when accepted jobs are left to
    /// download (their files expire), 1 when some failed, 4 when the budget left lines unsent,
    /// 75 when lines are left to send, 0 when every valid line was downloaded.
    pub fn exit_code(&self) -> u8 {
        let accepted_left = self.unfinished.iter().any(|e| e.request_id.is_some());
        if self.interrupted {
            130
        } else if !self.unknown.is_empty() {
            3
        } else if accepted_left {
            75
        } else if !self.failed.is_empty() {
            1
        } else if !self.unsent.is_empty() {
            4
        } else if !self.unfinished.is_empty() {
            75
        } else {
            0
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_headline(f)?;
        write_section(f, "failed", &self.failed)?;
        write_section(
            f,
            "unknown (may have been accepted and billed; only --resubmit-unknown sends them \
             again, within any --max-spend)",
            &self.unknown,
        )?;
        write_section(f, "invalid (skipped)", &self.invalid)?;
        self.write_unsent(f)?;
        self.write_spent(f)?;
        self.write_unfinished(f)?;
        self.write_paths(f)
    }
}

/// The parts of [`Summary`]'s text, in the order it shows them.
impl Summary {
    fn write_headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headline = if self.interrupted {
            "batch interrupted"
        } else if self.is_complete() {
            "batch complete"
        } else {
            "batch finished with problems"
        };
        writeln!(
            f,
            "{headline}: {}: {} downloaded, {} failed, {} unknown, {} unfinished, {} \
             invalid",
            count(self.total, "line", "lines"),
            self.count(State::Downloaded),
            self.failed.len(),
            self.unknown.len(),
            self.unfinished.len(),
            self.invalid.len()
        )
    }

    fn write_unsent(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unsent.is_empty() {
            return Ok(());
        }
        // Their numbers only: each line's reason was said as it was held back, and is in the
        // report; a budget can hold back thousands.
        let lines: Vec<u64> = self.unsent.iter().map(|e| e.line).collect();
        writeln!(
            f,
            "{} left unsent by --max-spend {} (still pending: a run with a larger \
             --max-spend sends those with an estimate, one with --no-max-spend any): {}",
            count(self.unsent.len() as u64, "line", "lines"),
            self.max_spend.unwrap_or_default(),
            lines_named(&lines)
        )
    }

    /// `spent: $0.03 of --max-spend $0.30 (2 jobs did not say what they cost: $0.20 at
    /// their estimates); the budget counts $0.23`: what the server said, and beside it what
    /// may have been billed without its saying, as the budget counts it.
    fn write_spent(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spending = &self.spending;
        write!(f, "spent: {}", spending.stated)?;
        if let Some(limit) = self.max_spend {
            write!(f, " of --max-spend {limit}")?;
        }
        let besides = besides_stated(spending, self.max_spend.is_some());
        if !besides.is_empty() {
            write!(f, " ({})", besides.join("; "))?;
            if self.max_spend.is_some() {
                write!(f, "; the budget counts {}", spending.committed())?;
                if !spending.unbounded.is_empty() {
                    f.write_str(" and cannot bound the rest")?;
                }
            }
        }
        writeln!(f)?;
        match self.max_spend {
            Some(limit) if spending.stated > limit => writeln!(
                f,
                "warning: the jobs cost more than --max-spend {limit}: the server charged more \
                 than the estimates the budget was held to"
            ),
            _ => Ok(()),
        }
    }

    fn write_unfinished(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unfinished.is_empty() {
            return Ok(());
        }
        let accepted = self
            .unfinished
            .iter()
            .filter(|e| e.request_id.is_some())
            .count();
        writeln!(
            f,
            "{} unfinished ({accepted} accepted and not yet downloaded, {} not sent \
             yet): run the same command again, or `runcomfy batch --resume {}`, to carry on \
             (accepted jobs are polled, never sent again)",
            count(self.unfinished.len() as u64, "line", "lines"),
            self.unfinished.len() - accepted,
            self.out.display()
        )?;
        for entry in self.unfinished.iter().filter(|e| e.reason.is_some()) {
            writeln!(f, "  {entry}")?;
        }
        Ok(())
    }

    fn write_paths(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Both are written every time: the gallery shows partly saved and failed lines too.
        write!(
            f,
            "report: {}\ngallery: {}",
            self.out.join(REPORT_FILE).display(),
            self.out.join(crate::gallery::GALLERY_FILE).display()
        )
    }
}

/// A titled list of lines, when it has any.
fn write_section(f: &mut fmt::Formatter<'_>, title: &str, entries: &[Entry]) -> fmt::Result {
    if entries.is_empty() {
        return Ok(());
    }
    writeln!(f, "{title}:")?;
    for entry in entries {
        writeln!(f, "  {entry}")?;
    }
    Ok(())
}

/// Ranges of line numbers shown at most in a list ([`line_numbers`]; its docs say the number).
const SHOWN_RANGES: usize = 20;

/// `text` as one word of a command a message suggests (`runcomfy result ID --out DIR`),
/// quoted where a shell would read it otherwise: a request id comes from a server, a folder
/// from anyone, and a suggestion pasted into a shell must not run what they hold.
pub fn shell_word(text: &str) -> Cow<'_, str> {
    match shlex::try_quote(text) {
        Ok(word) => word,
        // Only a NUL cannot be quoted; no id or path holds one, and none is shown.
        Err(_) => Cow::Owned(format!("'{}'", text.replace(['\0', '\''], ""))),
    }
}

/// A count and its noun, as a sentence says it: `1 line`, `2 lines`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What may have been billed besides the costs the server stated, one clause each: jobs that
/// did not say, jobs running, submits of unknown outcome; and, `under_budget`, the lines that
/// could have cost anything (why nothing more is sent).
pub(crate) fn besides_stated(spending: &Spending, under_budget: bool) -> Vec<String> {
    let mut besides = Vec::new();
    for (tally, one, many) in [
        (
            &spending.unstated,
            "job did not say what it cost",
            "jobs did not say what they cost",
        ),
        (
            &spending.unread,
            "job said what it cost in a form this runcomfy cannot read",
            "jobs said what they cost in a form this runcomfy cannot read",
        ),
        (
            &spending.running,
            "job accepted and not finished",
            "jobs accepted and not finished",
        ),
        (
            &spending.unseen,
            "submit of unknown outcome may have been billed",
            "submits of unknown outcome may have been billed",
        ),
    ] {
        if tally.count > 0 {
            besides.push(at_estimates(tally, one, many));
        }
    }
    if under_budget && !spending.unbounded.is_empty() {
        besides.push(format!(
            "{} may have been billed with neither an estimate nor a cost: what {} cost is not \
             known",
            lines_named(&spending.unbounded),
            if spending.unbounded.len() == 1 {
                "it"
            } else {
                "they"
            }
        ));
    }
    besides
}

/// `2 jobs did not say what they cost: $0.20 at their estimates` (`one`/`many` say what the
/// tally counts). Under a budget, those with no estimate are named by [`besides_stated`]'s
/// last clause.
fn at_estimates(tally: &Tally, one: &str, many: &str) -> String {
    let what = count(tally.count, one, many);
    let estimated = tally.count - tally.unestimated;
    match (estimated, tally.count) {
        (0, _) => what,
        (1, 1) => format!("{what}: {} at its estimate", tally.usd),
        (k, n) if k == n => format!("{what}: {} at their estimates", tally.usd),
        (1, _) => format!("{what}: {} at the estimate of 1 of them", tally.usd),
        (k, _) => format!("{what}: {} at the estimates of {k} of them", tally.usd),
    }
}

/// Line numbers (sorted) named as a list of lines: `line 4`, `lines 1-3, 7`.
pub fn lines_named(numbers: &[u64]) -> String {
    let noun = if numbers.len() == 1 { "line" } else { "lines" };
    format!("{noun} {}", line_numbers(numbers))
}

/// Line numbers (sorted) as people read a list of them: runs as ranges, and at most
/// 20 of them (`1-3, 7, 9-12 and 40 more`), so a list of 100,000 lines stays
/// one short line.
pub fn line_numbers(numbers: &[u64]) -> String {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &n in numbers {
        match ranges.last_mut() {
            Some((_, end)) if n == end.saturating_add(1) => *end = n,
            _ => ranges.push((n, n)),
        }
    }
    let parts: Vec<String> = ranges
        .iter()
        .take(SHOWN_RANGES)
        .map(|&(start, end)| match end - start {
            0 => start.to_string(),
            1 => format!("{start}, {end}"),
            _ => format!("{start}-{end}"),
        })
        .collect();
    let shown_ranges = ranges.len().min(SHOWN_RANGES);
    let hidden: u64 = ranges[shown_ranges..].iter().map(|(s, e)| e - s + 1).sum();
    let mut text = parts.join(", ");
    if hidden > 0 {
        text.push_str(&format!(" and {hidden} more"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_read_as_ranges_and_stay_short() {
        assert_eq!(line_numbers(&[]), "");
        assert_eq!(line_numbers(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9, 10");
        assert_eq!(lines_named(&[4]), "line 4");
        assert_eq!(lines_named(&[1, 2, 3, 7]), "lines 1-3, 7");
        let every_other: Vec<u64> = (1..=100).map(|n| n * 2).collect();
        let text = line_numbers(&every_other);
        assert!(text.starts_with("2, 4, 6"), "{text}");
        assert!(text.ends_with("40 and 80 more"), "{text}");
        let all: Vec<u64> = (1..=100_000).collect();
        assert_eq!(line_numbers(&all), "1-100000");
    }

    #[test]
    fn an_entry_names_its_request_once() {
        let entry = |reason: &str| Entry {
            line: 1,
            key: None,
            request_id: Some("req-1".into()),
            reason: Some(reason.into()),
        };
        assert_eq!(
            entry("server error (request req-1)").to_string(),
            "line 1: server error (request req-1)"
        );
        assert_eq!(
            entry("cut short").to_string(),
            "line 1 [request req-1]: cut short"
        );
    }

    #[test]
    fn lines_a_budget_held_back_are_said_by_number() {
        let entry = |line| Entry {
            line,
            key: None,
            request_id: None,
            reason: Some("not sent: it has no estimate".into()),
        };
        let mut summary = Summary {
            total: 100_000,
            unfinished: (1..=100_000).map(entry).collect(),
            max_spend: Some(Usd::from_nanos(1_000_000_000)),
            ..Summary::default()
        };
        let held: Vec<u64> = (3..=100_000).collect();
        summary.mark_unsent(&held);
        let text = summary.to_string();
        assert!(
            text.contains("99998 lines left unsent by --max-spend $1.00")
                && text.contains("any): lines 3-100000\n"),
            "{text}"
        );
        assert!(text.lines().count() < 10, "{text}");
    }

    /// Accepted jobs left to download outrank failed lines: "run again" fetches files that
    /// expire, which "some failed" would not send a script back for.
    #[test]
    fn accepted_jobs_left_to_download_outrank_failed_lines() {
        let entry = |line: u64, request: bool| Entry {
            line,
            key: None,
            request_id: request.then(|| format!("r-{line}")),
            reason: None,
        };
        let mut summary = Summary {
            failed: vec![entry(1, true)],
            unfinished: vec![entry(2, false)],
            ..Summary::default()
        };
        assert_eq!(summary.exit_code(), 1);
        summary.unfinished.push(entry(3, true));
        assert_eq!(summary.exit_code(), 75);
        summary.unknown.push(entry(4, false));
        assert_eq!(summary.exit_code(), 3);
    }

    /// Jobs that ended, failed ones too, without saying what they cost are counted as such,
    /// and the budget's line says what it counts: so are jobs running and submits of unknown
    /// outcome.
    #[test]
    fn costs_not_said_are_counted_and_the_budget_says_how_it_counts_them() {
        let row = |number: u64, state: State, cost: Option<&str>| Row {
            number,
            key: None,
            dir: None,
            model: None,
            input: None,
            state,
            request_id: Some(format!("r-{number}")),
            reason: None,
            submits: 1,
            estimate: "0.10".parse().ok(),
            basis: None,
            cost: cost.and_then(|c| c.parse().ok()),
            submitted_at: None,
            unseen: Some(Usd::ZERO),
            cost_unread: None,
        };
        let rows = [
            row(1, State::Downloaded, Some("0.03")),
            row(2, State::Failed, None),
            row(3, State::Downloaded, None),
            row(4, State::Submitted, None),
            // Sent twice: the first submit's outcome is unknown.
            Row {
                submits: 2,
                unseen: "0.05".parse().ok(),
                ..row(5, State::Downloaded, Some("0.10"))
            },
        ];
        let mut summary = Summary::from_rows(Path::new("out"), &rows);
        summary.max_spend = "0.60".parse().ok();
        let text = summary.to_string();
        assert!(
            text.contains(
                "spent: $0.13 of --max-spend $0.60 (2 jobs did not say what they cost: $0.20 at \
                 their estimates; 1 job accepted and not finished: $0.10 at its estimate; 1 \
                 submit of unknown outcome may have been billed: $0.05 at its estimate); the \
                 budget counts $0.48"
            ),
            "{text}"
        );
        assert!(!text.contains("warning"), "{text}");
        summary.max_spend = "0.10".parse().ok();
        assert!(
            summary
                .to_string()
                .contains("warning: the jobs cost more than --max-spend $0.10"),
            "{summary}"
        );
        // Without a budget, what may have been billed is said all the same.
        summary.max_spend = None;
        assert!(
            summary
                .to_string()
                .contains("spent: $0.13 (2 jobs did not say what they cost: $0.20 at"),
            "{summary}"
        );
    }
}
