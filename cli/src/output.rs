//! Writing results: stdout for what scripts read, stderr for people; a closed pipe is not an
//! error worth a panic.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use runcomfy::{DownloadedFile, ValidationReport};
use serde_json::{Value, json};

use crate::exit::CliError;
use crate::progress::eprintln_safe;

/// Prints a line on stdout.
pub fn line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Prints one JSON value on stdout, pretty.
pub fn json(value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    line(&text);
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
                })
            })
            .collect(),
    )
}

/// Prints every problem of a report on stderr; returns whether it has errors.
pub fn problems(model_id: &str, report: &ValidationReport, sent: bool) -> bool {
    let (errors, warnings) = crate::fields::counts(report);
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
    for problem in report.problems() {
        let tag = match problem.severity {
            runcomfy::Severity::Error => "error",
            runcomfy::Severity::Warning => "warning",
        };
        let path = if problem.path.is_empty() {
            "(input)"
        } else {
            &problem.path
        };
        let detail = match &problem.value {
            Some(value) => format!("{}; {value}", problem.rule),
            None => problem.rule.clone(),
        };
        // Under the error header the problems are indented; warnings alone stand on their own.
        let indent = if errors > 0 { "  " } else { "" };
        eprintln_safe(&format!(
            "{indent}{tag}: {path}: {} ({detail})",
            problem.message
        ));
    }
    errors > 0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `./runcomfy-out/<request id>/`, the id made safe as a directory name.
pub fn default_out_dir(request_id: &str) -> PathBuf {
    let safe = runcomfy::download::safe_file_name(request_id);
    let safe = if safe.is_empty() { "request" } else { &safe };
    Path::new(DEFAULT_OUT_ROOT).join(safe)
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
        assert_eq!(
            default_out_dir("../../etc"),
            Path::new("runcomfy-out").join("_._etc")
        );
        assert_eq!(
            default_out_dir("req-1"),
            Path::new("runcomfy-out").join("req-1")
        );
        assert_eq!(
            default_out_dir(".."),
            Path::new("runcomfy-out").join("request")
        );
    }
}
