//! `runcomfy run MODEL`: check the input, submit, wait with progress, download the outputs.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::ArgMatches;
use runcomfy::catalog::ModelInfo;
use runcomfy::dynamic::{DynJob, DynOutput};
use runcomfy::{CancelOutcome, DownloadOptions, Error, ValidationReport, WaitOptions};
use serde_json::{Map, Value, json};

use crate::connect::{Connection, connect};
use crate::exit::{self, CliError};
use crate::fields;
use crate::interrupt::Interrupts;
use crate::output;
use crate::progress::{Progress, eprintln_safe};

/// Longest wait for the cancel that follows a Ctrl-C.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(15);

/// What `run MODEL` was asked.
struct RunArgs {
    json: bool,
    no_wait: bool,
    preflight: bool,
    timeout: Option<Duration>,
    out: Option<PathBuf>,
    verbose: u8,
    /// `--mock`: the simulated jobs end with this command, so no hint names a later one.
    mock: bool,
}

/// Runs `run MODEL`; returns the exit code.
pub async fn run(
    global: &ArgMatches,
    model: &'static ModelInfo,
    matches: &ArgMatches,
) -> Result<u8, CliError> {
    let args = RunArgs {
        json: matches.get_flag("json"),
        no_wait: matches.get_flag("no_wait"),
        preflight: matches.get_flag("preflight"),
        timeout: matches.get_one::<Duration>("timeout").copied(),
        out: matches.get_one::<String>("out").map(PathBuf::from),
        verbose: global.get_count("verbose"),
        mock: global.get_flag("mock"),
    };
    let flags = fields::flags(model);
    let mut input = match matches.get_one::<String>("input") {
        Some(spec) => read_input(spec)?,
        None => Map::new(),
    };
    model.normalize_choices(&mut input);
    // Flags override the keys of --input.
    input.extend(fields::from_matches(&flags, matches));

    // Everything local comes before the first network call.
    let report = fields::check(model, &input, &flags);
    if refused(model, &report, &args) {
        return Ok(exit::DATA_ERR);
    }
    let input = Value::Object(input);
    if !args.no_wait {
        let out = args.out.as_deref();
        output::check_out_dir(out.unwrap_or(Path::new(output::DEFAULT_OUT_ROOT)))?;
    }

    let mut connection = connect(global).await?;
    if !args.no_wait {
        connection.remember_run_times();
    }
    let code = submit_and_follow(&connection, model, &input, &args).await;
    connection.close().await;
    code
}

/// Prints a report's problems, local or preflight alike; with errors, also the `--json` object,
/// and says nothing may be sent.
fn refused(model: &ModelInfo, report: &ValidationReport, args: &RunArgs) -> bool {
    let refused = output::problems(model.id, report, false);
    if refused && args.json {
        output::json(&json!({
            "model": model.id,
            "status": "invalid",
            "problems": report.problems(),
        }));
    }
    refused
}

/// Reads `--input`: JSON text, `@file.json`, or `-` for stdin; it must be an object.
fn read_input(spec: &str) -> Result<Map<String, Value>, CliError> {
    let (text, source) = if spec == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Input(format!("cannot read --input from stdin: {e}")))?;
        (text, "stdin".to_owned())
    } else if let Some(path) = spec.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("cannot read --input file {path}: {e}")))?;
        (text, path.to_owned())
    } else {
        (spec.to_owned(), "--input".to_owned())
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::Input(format!(
            "the input from {source} must be a JSON object"
        ))),
        Err(err) => Err(CliError::Input(format!(
            "the input from {source} is not valid JSON: {err}"
        ))),
    }
}

async fn submit_and_follow(
    connection: &Connection,
    model: &'static ModelInfo,
    input: &Value,
    args: &RunArgs,
) -> Result<u8, CliError> {
    let client = &connection.client;
    if args.preflight {
        let remote = runcomfy::preflight::validate_remote_with(client, model, input).await?;
        if refused(model, &remote, args) {
            return Ok(exit::DATA_ERR);
        }
    }

    let mut interrupts = Interrupts::listen();
    let mut progress = Progress::new(args.verbose);
    progress.message(&format!("submitting to {}", model.id));
    let started = Instant::now();

    // A submit in flight is not abandoned on Ctrl-C: its job would be created and billed with
    // no id to cancel it by. It is answered first, then cancelled.
    let mut interrupted = false;
    let submitted = {
        let submit = client.submit_json(model, input);
        tokio::pin!(submit);
        loop {
            tokio::select! {
                result = &mut submit => break result,
                () = interrupts.next() => {
                    if interrupted {
                        progress.finish();
                        eprintln_safe(
                            "interrupted again: the submit may have been accepted (and billed); \
                             check your RunComfy requests",
                        );
                        return Ok(exit::INTERRUPTED);
                    }
                    interrupted = true;
                    progress.println(
                        "interrupted: waiting for the submit's answer to cancel the job \
                         (Ctrl-C again to quit at once)",
                    );
                }
            }
        }
    };
    let job = submitted?;
    let id = job.id().to_owned();
    progress.println(&format!("submitted {id} to {}", model.id));
    if interrupted {
        return cancel_after_interrupt(&job, &mut progress, &mut interrupts, args).await;
    }

    if args.no_wait {
        progress.finish();
        if args.json {
            output::json(&json!({
                "request_id": id,
                "model": model.id,
                "status": "submitted",
            }));
        } else {
            output::line(&id);
            eprintln_safe(&if args.mock {
                "with --mock the simulated job ends with this command: leave out --no-wait to see \
                 it through"
                    .to_owned()
            } else {
                format!(
                    "follow it with `runcomfy status {id}`; fetch it with `runcomfy result {id} --out DIR`"
                )
            });
        }
        return Ok(exit::OK);
    }

    let options = match args.timeout {
        Some(timeout) => WaitOptions::new().timeout(timeout),
        None => WaitOptions::new(),
    };
    let waited = {
        let wait = job.wait_with(options, |update| progress.update(&id, update));
        tokio::pin!(wait);
        tokio::select! {
            result = &mut wait => Some(result),
            () = interrupts.next() => None,
        }
    };
    let output = match waited {
        None => return cancel_after_interrupt(&job, &mut progress, &mut interrupts, args).await,
        Some(Ok(output)) => output,
        Some(Err(err)) => {
            progress.finish();
            return job_ended_badly(&job, err, args);
        }
    };

    let files = output_files(&output);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_out_dir(&id));
    progress.message(&format!(
        "{id}: downloading {files} file{} to {}",
        if files == 1 { "" } else { "s" },
        dir.display()
    ));
    let downloaded = {
        let options = DownloadOptions::new();
        let download = job.download(&output, &dir, &options);
        tokio::pin!(download);
        tokio::select! {
            result = &mut download => Some(result),
            () = interrupts.next() => None,
        }
    };
    progress.finish();
    let saved = match downloaded {
        Some(Ok(saved)) => saved,
        Some(Err(err)) => {
            // The job is paid for and its output links last about a day.
            if !args.mock {
                eprintln_safe(&format!(
                    "the job succeeded but its files were not saved; `runcomfy result {id} --out \
                     DIR` fetches them"
                ));
            }
            return Err(err.into());
        }
        None => {
            eprintln_safe(&if args.mock {
                "interrupted while downloading".to_owned()
            } else {
                format!(
                    "interrupted while downloading; `runcomfy result {id} --out {}` fetches the files",
                    dir.display()
                )
            });
            return Ok(exit::INTERRUPTED);
        }
    };
    eprintln_safe(&format!(
        "{id}: succeeded in {:.1}s; saved {} file{} to {}",
        started.elapsed().as_secs_f64(),
        saved.len(),
        if saved.len() == 1 { "" } else { "s" },
        dir.display()
    ));
    if args.json {
        output::json(&json!({
            "request_id": id,
            "model": model.id,
            "status": "succeeded",
            "outputs": output.0,
            "files": output::files_json(&saved),
        }));
    } else if saved.is_empty() {
        // No files: the output itself is the result.
        output::json(&Value::Object(output.0.clone()));
    } else {
        for file in &saved {
            output::line(&file.path.display().to_string());
        }
    }
    Ok(exit::OK)
}

fn output_files(output: &DynOutput) -> usize {
    use runcomfy::Output as _;
    output.files().len()
}

/// A job that failed, was cancelled, timed out, or could not be followed.
fn job_ended_badly(job: &DynJob, err: Error, args: &RunArgs) -> Result<u8, CliError> {
    let id = job.id();
    let model = job.model_id().unwrap_or_default();
    let (status, detail) = match &err {
        Error::JobFailed { error, .. } => ("failed", error.0.clone()),
        Error::Cancelled { .. } => ("cancelled", Value::Null),
        Error::Timeout { .. } => ("timeout", Value::String(err.to_string())),
        _ => return Err(err.into()),
    };
    if args.json {
        output::json(&json!({
            "request_id": id,
            "model": model,
            "status": status,
            "error": detail,
        }));
    }
    let code = exit::api_exit_code(&err);
    let err = CliError::from(err);
    eprintln_safe(&format!("error: {err}"));
    if let Some(hint) = err.hint(args.mock) {
        eprintln_safe(&format!("  {hint}"));
    }
    Ok(code)
}

/// After Ctrl-C: cancel a queued job, or say it can no longer be cancelled.
async fn cancel_after_interrupt(
    job: &DynJob,
    progress: &mut Progress,
    interrupts: &mut Interrupts,
    args: &RunArgs,
) -> Result<u8, CliError> {
    let id = job.id().to_owned();
    progress.message(&format!(
        "{id}: interrupted, cancelling (Ctrl-C again to quit at once)"
    ));
    let answer = tokio::select! {
        answer = tokio::time::timeout(CANCEL_TIMEOUT, job.cancel()) => Some(answer),
        () = interrupts.next() => None,
    };
    progress.finish();
    let (outcome, text) = match answer {
        Some(Ok(Ok(CancelOutcome::Cancelled))) => (
            "cancelled".to_owned(),
            format!("interrupted: cancelled job {id} (it was still queued)"),
        ),
        Some(Ok(Ok(CancelOutcome::NotCancellable))) => (
            "not_cancellable".to_owned(),
            if args.mock {
                format!("interrupted: job {id} is already running and can no longer be cancelled")
            } else {
                format!(
                    "interrupted: job {id} is already running and can no longer be cancelled; it \
                     goes on (and is billed): `runcomfy result {id} --out DIR` fetches it later"
                )
            },
        ),
        Some(Ok(Ok(other))) => (
            other.to_string(),
            format!("interrupted: the cancel of job {id} was answered {other:?}"),
        ),
        Some(Ok(Err(err))) => (
            "cancel_failed".to_owned(),
            format!("interrupted: could not cancel job {id}: {err}"),
        ),
        Some(Err(_)) => (
            "cancel_failed".to_owned(),
            format!("interrupted: the cancel of job {id} got no answer within {CANCEL_TIMEOUT:?}"),
        ),
        None => (
            "unknown".to_owned(),
            if args.mock {
                format!("interrupted again: job {id} may still have been queued")
            } else {
                format!("interrupted again: job {id} may still be queued (`runcomfy cancel {id}`)")
            },
        ),
    };
    eprintln_safe(&text);
    if args.json {
        output::json(&json!({
            "request_id": id,
            "model": job.model_id(),
            "status": "interrupted",
            "cancel": outcome,
        }));
    }
    Ok(exit::INTERRUPTED)
}
