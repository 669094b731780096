//! Writing results: stdout for what scripts read, stderr for people; a closed pipe is not an
//! error worth a panic. What a server sent is never written raw: plain text goes through
//! [`runcomfy::error::printable`], JSON has its control characters and bidirectional overrides escaped.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use runcomfy::error::escaped_json;
use runcomfy::{DownloadedFile, ValidationReport};
use serde_json::{Value, json};

use crate::exit::CliError;
use crate::progress::eprintln_safe;

/// Prints a line on stdout.
pub fn line(text: &str) {
    let mut text = text.to_owned();
    text.push('\n');
    bytes(text.as_bytes());
}

/// Writes `bytes` on stdout. A failure is kept for [`failure`], since what a script reads was
/// lost; but for a closed pipe, whose reader wanted no more (`| head`).
pub fn bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_all(bytes).and_then(|()| out.flush())
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = FAILURE.set(err.to_string());
    }
}

/// The first failure to write stdout (a full disk, an I/O error), which makes the command's
/// exit code 74 rather than a success.
pub fn failure() -> Option<&'static str> {
    FAILURE.get().map(String::as_str)
}

static FAILURE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// An output URL as a line of stdout ([`runcomfy::error::printable_url`]).
pub fn url(url: &str) -> String {
    runcomfy::error::printable_url(url).into_owned()
}

/// Prints one JSON value on stdout, pretty. Strings keep all their text, but every character
/// a terminal would act on is written as a `\u` escape (serde_json escapes only C0 controls).
pub fn json(value: &Value) {
    if let Ok(text) = escaped_json(value, true) {
        line(&String::from_utf8_lossy(&text));
    }
}

/// Prints one JSON value on stdout on one line (JSON lines), escaped as [`json()`] does.
pub fn json_line(value: &Value) {
    if let Ok(text) = escaped_json(value, false) {
        line(&String::from_utf8_lossy(&text));
    }
}

/// What a job's cost was, when the server stated it in a form that is not US dollars
/// (`"0.5 EUR"`): said as it wrote it, so a charge is never shown as none.
pub fn cost_unread_text(request_id: &str, said: &str) -> String {
    format!(
        "{request_id}: the server said it cost {said}, which is not an amount of US dollars this \
         runcomfy can read"
    )
}

/// Whether an error left a finished job's files not (all) saved: `--json`'s `not_saved`, with
/// what the job cost (it ran).
pub fn is_not_saved(err: &runcomfy::Error) -> bool {
    use runcomfy::Error;
    matches!(
        err,
        Error::Download { .. }
            | Error::TooManyFiles { .. }
            | Error::UnreadableOutput { .. }
            | Error::Io { .. }
            | Error::NotAllSaved { .. }
    )
}

/// The cost fields of a `--json` object: `cost_usd`, and `cost_unread` when the server stated
/// a cost that is not US dollars.
pub fn cost_json(report: &mut Value, job: &runcomfy::dynamic::DynJob) {
    report["cost_usd"] = serde_json::json!(job.cost());
    if let Some(said) = job.cost_unread() {
        report["cost_unread"] = serde_json::json!(said);
    }
}

/// The downloaded files as JSON.
pub fn files_json(files: &[DownloadedFile]) -> Value {
    Value::Array(
        files
            .iter()
            .map(|f| {
                json!({
                    "field": f.field,
                    "index": f.index,
                    "url": f.url,
                    "path": f.path,
                    "bytes": f.bytes,
                    "content_type": f.content_type,
                    "sha256": f.sha256,
                })
            })
            .collect(),
    )
}

/// Prints every problem of a report on stderr; returns whether it has errors.
pub fn problems(model_id: &str, report: &ValidationReport, sent: bool) -> bool {
    let said = report.said();
    let errors = said
        .iter()
        .filter(|p| p.severity == runcomfy::Severity::Error)
        .count();
    let warnings = said.len() - errors;
    if errors == 0 && warnings == 0 {
        return false;
    }
    if errors > 0 {
        let nothing = if sent { "" } else { "; nothing was sent" };
        eprintln_safe(&format!(
            "error: invalid input for {model_id}: {errors} error{}, {warnings} warning{}{nothing}",
            plural(errors),
            plural(warnings)
        ));
    }
    for problem in &said {
        let tag = match problem.severity {
            runcomfy::Severity::Error => "error",
            runcomfy::Severity::Warning => "warning",
        };
        // Under the error header the problems are indented; warnings alone stand on their own.
        let indent = if errors > 0 { "  " } else { "" };
        eprintln_safe(&format!("{indent}{tag}: {problem}"));
    }
    errors > 0
}

/// The problems as `--json` gives them: each with `given`, the input's value at its pointer as
/// JSON (where `value` is text: a measurement, or that value written out), when the input is at
/// hand and the value is short enough to repeat.
pub fn problems_json(problems: &[runcomfy::Problem], input: Option<&Value>) -> Value {
    Value::Array(
        problems
            .iter()
            .map(|problem| {
                let mut item = serde_json::to_value(problem).unwrap_or(Value::Null);
                let given = input
                    .filter(|_| !problem.pointer.is_empty())
                    .and_then(|input| input.pointer(&problem.pointer))
                    .filter(|value| value.to_string().len() <= MAX_GIVEN_CHARS);
                if let (Value::Object(item), Some(given)) = (&mut item, given) {
                    item.insert("given".into(), given.clone());
                }
                item
            })
            .collect(),
    )
}

/// The longest value (as JSON text) `problems_json` repeats: not a `data:` URI's megabytes.
const MAX_GIVEN_CHARS: usize = 1024;

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `./runcomfy-out/<request id>/`. An id that is no safe directory name as it is gets its
/// safe form and a short hash of itself, so two ids made safe alike (`a b`, `a?b`) do not
/// share a folder.
pub fn default_out_dir(request_id: &str) -> PathBuf {
    let safe = runcomfy::download::safe_file_name(request_id);
    if safe == request_id {
        return Path::new(DEFAULT_OUT_ROOT).join(safe);
    }
    let hash = runcomfy::digest::sha256_of(request_id.as_bytes())
        .map(|(_, hex)| hex)
        .unwrap_or_default();
    let stem = if safe.is_empty() { "request" } else { &safe };
    Path::new(DEFAULT_OUT_ROOT).join(format!("{stem}-{}", hash.get(..8).unwrap_or_default()))
}

/// Where [`default_out_dir`] puts each request's folder.
pub const DEFAULT_OUT_ROOT: &str = "runcomfy-out";

/// Checks that files can be saved under `dir`, creating nothing: it is a folder or can become
/// one, and the nearest folder that exists takes new files. Run before a paid submit, so a
/// job is not billed only to find its outputs have nowhere to go.
pub fn check_out_dir(dir: &Path) -> Result<(), CliError> {
    let refuse = |reason: String| CliError::OutDir {
        path: dir.to_owned(),
        reason,
    };
    let mut existing = dir;
    loop {
        match std::fs::metadata(existing) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => return Err(refuse(format!("{} is not a folder", existing.display()))),
            // A link to nothing: no folder can be made where it is (and its target may be a
            // drive not mounted), so nothing is sent that could not be saved.
            Err(err)
                if err.kind() == std::io::ErrorKind::NotFound
                    && std::fs::symlink_metadata(existing).is_ok() =>
            {
                let target = std::fs::read_link(existing)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "nothing".into());
                return Err(refuse(format!(
                    "{} is a link to {target}, which does not exist",
                    existing.display()
                )));
            }
            // Missing, or below a file: look at the parent, which says which.
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                existing = match existing.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
            }
            Err(err) => return Err(refuse(format!("{}: {err}", existing.display()))),
        }
    }
    tempfile::tempfile_in(existing).map(drop).map_err(|err| {
        refuse(format!(
            "cannot create files in {}: {err}",
            existing.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_dirs_stay_inside() {
        let name = |id| {
            default_out_dir(id)
                .strip_prefix("runcomfy-out")
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        assert_eq!(name("req-1"), "req-1");
        for (id, stem) in [
            ("../../etc", "_._etc-"),
            ("..", "request-"),
            ("a b", "a_b-"),
        ] {
            let name = name(id);
            assert!(
                name.starts_with(stem) && name.len() == stem.len() + 8,
                "{id}: {name}"
            );
        }
        // Made safe alike, told apart.
        assert_ne!(default_out_dir("a b"), default_out_dir("a?b"));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_nothing_is_no_place_to_save() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let link = dir.path().join("shots");
        std::os::unix::fs::symlink("/nonexistent/not-mounted/shots", &link)?;
        for out in [link.clone(), link.join("day-1")] {
            match check_out_dir(&out) {
                Err(CliError::OutDir { reason, .. }) => {
                    assert!(reason.contains("is a link to /nonexistent"), "{reason}")
                }
                other => panic!("{other:?}"),
            }
        }
        // A folder not made yet, below one that exists, is fine.
        assert!(check_out_dir(&dir.path().join("new/deeper")).is_ok());
        Ok(())
    }
}
