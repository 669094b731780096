//! `runcomfy status|result|cancel REQUEST_ID`: jobs by request id, whatever their model.

use std::path::PathBuf;

use clap::ArgMatches;
use runcomfy::dynamic::DynOutput;
use runcomfy::{CancelOutcome, DownloadOptions, JobState, Output as _};
use serde_json::{Value, json};

use crate::connect::connect;
use crate::exit::{self, CliError};
use crate::interrupt::Interrupts;
use crate::output;
use crate::progress::{eprintln_safe, state_text};

/// Which job command.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// `status`.
    Status,
    /// `result`.
    Result,
    /// `cancel`.
    Cancel,
}

/// Runs a job command; returns the exit code.
pub async fn run(
    global: &ArgMatches,
    action: Action,
    matches: &ArgMatches,
) -> Result<u8, CliError> {
    let Some(id) = matches.get_one::<String>("request_id") else {
        return Err(CliError::Usage("a REQUEST_ID is required".into()));
    };
    let json = matches.get_flag("json");
    let connection = connect(global).await?;
    let job = connection.client.job_json(id.clone());
    let code = match action {
        Action::Status => status(&job, json).await,
        Action::Result => {
            let out = matches.get_one::<String>("out").map(PathBuf::from);
            let options = crate::cli::download_options(matches);
            result(&job, out, &options, json).await
        }
        Action::Cancel => cancel(&job, json).await,
    };
    connection.close().await;
    code
}

async fn status(job: &runcomfy::dynamic::DynJob, json: bool) -> Result<u8, CliError> {
    let status = job.status().await?;
    if json {
        output::json(&json!({
            "request_id": job.id(),
            "status": status.raw,
            "queue_position": status.queue_position,
        }));
    } else {
        output::line(&format!(
            "{}: {}",
            job.id(),
            state_text(status.state, status.queue_position)
        ));
    }
    Ok(exit::OK)
}

async fn result(
    job: &runcomfy::dynamic::DynJob,
    out: Option<PathBuf>,
    options: &DownloadOptions,
    json: bool,
) -> Result<u8, CliError> {
    let result = job.result_state().await?;
    let id = job.id();
    let mut report = json!({
        "request_id": id,
        "status": result.state.to_string(),
        "created_at": result.created_at,
        "finished_at": result.finished_at,
        "cost_usd": result.cost,
    });
    if let Some(cost) = result.cost
        && !json
    {
        eprintln_safe(&format!("{id}: cost {cost}"));
    }
    let code = match (result.state, &result.output) {
        (JobState::Succeeded, Some(outputs)) => {
            report["outputs"] = Value::Object(outputs.0.clone());
            return succeeded(job, outputs, out, options, json, report).await;
        }
        (JobState::Failed, _) => {
            let error = result
                .error
                .as_ref()
                .map(|e| e.0.clone())
                .unwrap_or(Value::Null);
            report["error"] = error;
            if json {
                output::json(&report);
            }
            let message = result
                .error
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "(no error given)".into());
            eprintln_safe(&format!("error: job {id} failed: {message}"));
            exit::FAILURE
        }
        (JobState::Cancelled, _) => {
            if json {
                output::json(&report);
            }
            eprintln_safe(&format!("error: job {id} was cancelled"));
            exit::FAILURE
        }
        (state, _) => {
            if json {
                output::json(&report);
            }
            eprintln_safe(&format!(
                "{id}: not finished yet ({}); try again later",
                state_text(state, None)
            ));
            exit::TEMP_FAIL
        }
    };
    Ok(code)
}

/// A succeeded job: its files saved into `out` when given, and shown.
async fn succeeded(
    job: &runcomfy::dynamic::DynJob,
    outputs: &DynOutput,
    out: Option<PathBuf>,
    options: &DownloadOptions,
    json: bool,
    mut report: Value,
) -> Result<u8, CliError> {
    let id = job.id();
    let saved = match &out {
        Some(dir) => {
            // Dropped at Ctrl-C or SIGTERM, a download removes its partial file.
            let download = job.download(outputs, dir, options);
            match Interrupts::listen().race(download).await {
                Some(saved) => Some(saved?),
                None => {
                    eprintln_safe(&format!("{id}: interrupted while downloading"));
                    return Ok(exit::INTERRUPTED);
                }
            }
        }
        None => None,
    };
    if json {
        if let Some(saved) = &saved {
            report["files"] = output::files_json(saved);
        }
        output::json(&report);
    } else if let Some(saved) = &saved {
        eprintln_safe(&format!("{id}: succeeded; saved {} file(s)", saved.len()));
        for file in saved {
            output::line(&file.path.display().to_string());
        }
    } else {
        eprintln_safe(&format!("{id}: succeeded (--out DIR downloads the files)"));
        let files = outputs.files();
        if files.is_empty() {
            output::json(&Value::Object(outputs.0.clone()));
        }
        for file in files {
            output::line(&output::url(file.url));
        }
    }
    Ok(exit::OK)
}

async fn cancel(job: &runcomfy::dynamic::DynJob, json: bool) -> Result<u8, CliError> {
    let outcome = job.cancel().await?;
    let (name, code, text) = match &outcome {
        CancelOutcome::Cancelled => ("cancelled".to_owned(), exit::OK, "cancelled".to_owned()),
        CancelOutcome::NotCancellable => (
            "not_cancellable".to_owned(),
            exit::FAILURE,
            "not cancellable: it is already running or finished".to_owned(),
        ),
        other => (
            other.to_string(),
            exit::FAILURE,
            format!("cancel answered \"{other}\""),
        ),
    };
    if json {
        output::json(&json!({
            "request_id": job.id(),
            "outcome": name,
        }));
    } else {
        output::line(&format!("{}: {text}", job.id()));
    }
    Ok(code)
}
