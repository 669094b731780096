//! `runcomfy status|result|cancel REQUEST_ID`: jobs by request id, whatever their model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ArgMatches;
use runcomfy::dynamic::{DynJob, DynOutput};
use runcomfy::error::JobError;
use runcomfy::job::JobResult;
use runcomfy::provenance::{self, Record, RecordFile};
use runcomfy::{
    CancelOutcome, DownloadCounter, DownloadOptions, DownloadedFile, Error, JobState, WaitOptions,
};
use serde_json::{Value, json};

use crate::connect::connect;
use crate::duration::Deadline;
use crate::exit::{self, CliError};
use crate::interrupt::Interrupts;
use crate::output;
use crate::progress::{Display, Progress, eprintln_safe, state_text};
use runcomfy_batch::report::shell_word;

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

/// What `result` was asked.
struct ResultArgs {
    out: Option<PathBuf>,
    /// The provenance record `run` wrote for the job, as the cache has it: completed into
    /// `out` when `out` has none.
    record: Option<PathBuf>,
    /// The server's base URL, or `mock`, for a record written anew.
    server: String,
    /// `--downloads`.
    download: DownloadOptions,
    json: bool,
    /// `--wait`.
    wait: bool,
    timeout: Deadline,
    /// What is shown on stderr meanwhile (`--quiet`, `-v`).
    display: Display,
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
    let id = &request_id_of(id);
    let json = matches.get_flag("json");
    let started = Instant::now();
    let mut connection = match connect(global).await {
        Ok(connection) => connection,
        Err(err) => {
            if json {
                failed_json(id, &err, None);
            }
            return Err(err);
        }
    };
    connection.remember_run_times();
    let job = connection.job(id);
    let code = run_on(global, &connection, &job, action, matches, json, started).await;
    connection.close().await;
    // A failure says so on stdout too: a script reading `--json` gets an object either way.
    if json && let Err(err) = &code {
        failed_json(id, err, Some(&job));
    }
    code
}

/// The `--json` object of a job command that failed: `not_saved` with what the job cost when
/// it finished and its files were not all saved (as `run` says it), else `error`; and the
/// files a download saved before it failed.
fn failed_json(id: &str, err: &CliError, job: Option<&DynJob>) {
    let api = match err {
        CliError::Api(api) => Some(api),
        _ => None,
    };
    let not_saved = api.is_some_and(output::is_not_saved);
    let mut report = json!({
        "request_id": id,
        "status": if not_saved { "not_saved" } else { "error" },
        "error": err.to_string(),
    });
    if let Some(job) = job.filter(|_| not_saved) {
        output::cost_json(&mut report, job);
    }
    // Always for `not_saved`, maybe none (QA repro46 D3).
    if let Some(api) = api.filter(|api| not_saved || !api.saved_files().is_empty()) {
        report["files"] = output::files_json(api.saved_files());
    }
    output::json(&report);
}

/// The request id a REQUEST_ID names: itself, or the one in an API URL pasted whole (the
/// submit's `status_url`, `result_url` or `cancel_url`).
fn request_id_of(given: &str) -> String {
    const PATH: &str = "/v1/requests/";
    // Spaces and all: an id that is not one is refused by name.
    let is_url = given.starts_with("https://") || given.starts_with("http://");
    let from_url = is_url
        .then(|| given.find(PATH))
        .flatten()
        .map(|at| &given[at + PATH.len()..])
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .filter(|id| !id.is_empty());
    from_url.unwrap_or(given).to_owned()
}

/// [`run`] on the job.
async fn run_on(
    global: &ArgMatches,
    connection: &crate::connect::Connection,
    job: &DynJob,
    action: Action,
    matches: &ArgMatches,
    json: bool,
    started: Instant,
) -> Result<u8, CliError> {
    match action {
        Action::Status => status(job, json).await,
        Action::Result => {
            let args = ResultArgs {
                out: matches.get_one::<String>("out").map(PathBuf::from),
                record: connection.record_of(job.id()).map(Path::to_path_buf),
                server: connection.server(),
                download: crate::cli::download_options(matches),
                json,
                wait: matches.get_flag("wait"),
                timeout: Deadline::of(matches, started),
                display: Display::of(global),
            };
            result(job, &args).await
        }
        Action::Cancel => cancel(job, json).await,
    }
}

async fn status(job: &DynJob, json: bool) -> Result<u8, CliError> {
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

async fn result(job: &DynJob, args: &ResultArgs) -> Result<u8, CliError> {
    let id = job.id();
    let mut interrupts = Interrupts::listen();
    if args.wait
        && let Some(code) = wait(job, args, &mut interrupts).await?
    {
        return Ok(code);
    }
    // After a wait this is the reply that ended it, not another call.
    let fetched = match interrupts
        .race(args.timeout.within(job.result_state()))
        .await
    {
        Some(Ok(fetched)) => Some(fetched),
        Some(Err(after)) => {
            let what = "the result call";
            return Err(CliError::NoAnswer { what, after });
        }
        None => None,
    };
    let Some(result) = fetched.transpose()? else {
        return Ok(interrupted(id, "interrupted", args.json));
    };
    let mut report = json!({
        "request_id": id,
        "status": result.state.to_string(),
        "created_at": result.created_at,
        "finished_at": result.finished_at,
        "cost_usd": result.cost,
    });
    // A cost the server stated in a form that is not US dollars is said as it wrote it.
    let unread = job.cost_unread();
    if let Some(said) = &unread {
        report["cost_unread"] = json!(said);
    }
    if !args.json && !args.display.quiet() {
        match (result.cost, &unread) {
            (Some(cost), _) => eprintln_safe(&format!("{id}: cost {cost}")),
            (None, Some(said)) => eprintln_safe(&output::cost_unread_text(id, said)),
            (None, None) => {}
        }
    }
    let code = match (result.state, &result.output) {
        (JobState::Succeeded, Some(outputs)) => {
            report["outputs"] = Value::Object(outputs.0.clone());
            return succeeded(job, &result, outputs, args, &mut interrupts, report).await;
        }
        (JobState::Failed, _) => {
            let message = result
                .error
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "(no error given)".into());
            // `error` is text, as in every object; the server's own beside it.
            report["error"] = json!(format!("job {id} failed: {message}"));
            report["error_detail"] = result
                .error
                .as_ref()
                .map(|e| e.0.clone())
                .unwrap_or(Value::Null);
            if args.json {
                output::json(&report);
            }
            eprintln_safe(&format!("error: job {id} failed: {message}"));
            if let Some(dir) = &args.out {
                let error = Some(match &result.error {
                    Some(error) => provenance::failed_error(error),
                    None => provenance::failed_error(&JobError(Value::Null)),
                });
                complete_record(dir, job, args, &result, &[], error);
            }
            exit::FAILURE
        }
        (JobState::Cancelled, _) => {
            if args.json {
                output::json(&report);
            }
            eprintln_safe(&format!("error: job {id} was cancelled"));
            if let Some(dir) = &args.out {
                let error = Some(provenance::CANCELLED_ERROR.to_owned());
                complete_record(dir, job, args, &result, &[], error);
            }
            exit::FAILURE
        }
        (state, _) => {
            if args.json {
                output::json(&report);
            }
            eprintln_safe(&format!(
                "{id}: not finished yet ({}); `runcomfy result {} --wait` waits for it",
                state_text(state, None),
                shell_word(id)
            ));
            exit::TEMP_FAIL
        }
    };
    Ok(code)
}

/// `--wait`: follows the job to its end with what is left of `--timeout`, showing progress.
/// `Some(exit code)` when the command ends here: at Ctrl-C or the deadline, which leave the
/// job as it is (this command did not start it, so it does not cancel it).
async fn wait(
    job: &DynJob,
    args: &ResultArgs,
    interrupts: &mut Interrupts,
) -> Result<Option<u8>, CliError> {
    let id = job.id();
    let options = args.timeout.bound(
        WaitOptions::new().keep_queued_on_timeout(),
        WaitOptions::timeout,
    );
    let mut progress = Progress::new(args.display);
    let waited = interrupts
        .race(job.wait_with(options, |update| progress.update(id, update)))
        .await;
    progress.finish();
    let err = match waited {
        // Ended: the reply that said so is kept for the report.
        Some(Ok(_)) => return Ok(None),
        Some(Err(Error::JobFailed { .. } | Error::Cancelled { .. })) => return Ok(None),
        Some(Err(err @ Error::Timeout { .. })) => args.timeout.named_in(err),
        Some(Err(err)) => return Err(err.into()),
        None => {
            eprintln_safe(&format!(
                "interrupted: stopped waiting for job {id}, which goes on as it was \
                 (`runcomfy result {} --wait` follows it again)",
                shell_word(id)
            ));
            if args.json {
                output::json(&json!({
                    "request_id": id,
                    "status": "interrupted",
                    "error": "interrupted: stopped waiting; the job goes on as it was",
                }));
            }
            return Ok(Some(exit::INTERRUPTED));
        }
    };
    if args.json {
        output::json(&json!({
            "request_id": id,
            "status": "timeout",
            "error": err.to_string(),
        }));
    }
    eprintln_safe(&format!(
        "error: {err}; it goes on as it was (`runcomfy result {} --wait` follows it again)",
        shell_word(id)
    ));
    Ok(Some(exit::api_exit_code(&err)))
}

/// A succeeded job: its files saved into `--out` when given (within what is left of
/// `--timeout`), and shown.
async fn succeeded(
    job: &DynJob,
    result: &JobResult<DynOutput>,
    outputs: &DynOutput,
    args: &ResultArgs,
    interrupts: &mut Interrupts,
    mut report: Value,
) -> Result<u8, CliError> {
    let id = job.id();
    // An output naming no file of a model that makes files is said as `--out` says it: not
    // saved, with its cost (QA repro47 P1: "its files are at these URLs", and none).
    if args.out.is_none() {
        job.check_names_files(outputs)?;
    }
    let counter = DownloadCounter::new();
    let options = args
        .timeout
        .bound(args.download.clone(), DownloadOptions::timeout)
        .counter(counter.clone());
    let saved = match &args.out {
        Some(dir) => {
            let mut progress = Progress::new(args.display);
            let ticking = progress.downloading(
                format!("{id}: downloading to {}", dir.display()),
                counter.clone(),
            );
            // Dropped at Ctrl-C, SIGTERM or the deadline, a download removes its partial file.
            let download = job.download(outputs, dir, &options);
            let downloaded = interrupts.race(download).await;
            drop(ticking);
            progress.finish();
            match downloaded {
                Some(Ok(saved)) => {
                    complete_record(dir, job, args, result, &saved, None);
                    Some(saved)
                }
                // Those saved are recorded and shown; a later `result --out` keeps them and
                // fetches the rest.
                Some(Err(err)) => {
                    let saved = err.saved_files();
                    if !saved.is_empty() {
                        complete_record(dir, job, args, result, saved, None);
                        for file in saved.iter().filter(|_| !args.json) {
                            output::line(&file.path.display().to_string());
                        }
                    }
                    return Err(err.into());
                }
                // Those saved whole by then are recorded and shown too, as `run` does (QA
                // repro38 N7: none was).
                None => {
                    let saved = counter.saved();
                    if !saved.is_empty() {
                        complete_record(dir, job, args, result, &saved, None);
                    }
                    let what = "interrupted while downloading";
                    eprintln_safe(&format!("{id}: {what}"));
                    if args.json {
                        report["status"] = json!("interrupted");
                        report["error"] = json!(what);
                        report["files"] = output::files_json(&saved);
                        output::json(&report);
                    } else {
                        for file in &saved {
                            output::line(&file.path.display().to_string());
                        }
                    }
                    return Ok(exit::INTERRUPTED);
                }
            }
        }
        None => None,
    };
    if args.json {
        if let Some(saved) = &saved {
            report["files"] = output::files_json(saved);
        }
        output::json(&report);
    } else if let Some(saved) = &saved {
        // `-q`: no summary of a job that succeeded, as `run -q` (QA repro46 D6).
        if !args.display.quiet() {
            eprintln_safe(&format!(
                "{id}: succeeded; saved {}",
                runcomfy_batch::report::count(saved.len() as u64, "file", "files")
            ));
        }
        for file in saved {
            output::line(&file.path.display().to_string());
        }
    } else {
        // The folder the run meant for them, when it left its record there.
        let dir = args.record.as_deref().and_then(Path::parent).map_or_else(
            || "DIR".to_owned(),
            |dir| shell_word(&dir.display().to_string()).into_owned(),
        );
        if !args.display.quiet() {
            eprintln_safe(&format!(
                "{id}: succeeded; nothing saved: its files are at these URLs for about a day, \
                 and `runcomfy result {} --out {dir}` saves them",
                shell_word(id)
            ));
        }
        let files = job.files(outputs);
        if files.is_empty() {
            output::json(&Value::Object(outputs.0.clone()));
        }
        // Where each is fetched from: a path (`/files/a.png`) is on the API's origin (QA
        // repro35 L4: shown bare, which no one can open).
        for file in files {
            let shown = match job.client().output_url(file.url).filter(|_| file.is_path()) {
                Some(url) => output::url(url.as_str()),
                None => output::url(file.url),
            };
            output::line(&shown);
        }
    }
    Ok(exit::OK)
}

/// Completes the record a run of this job left in `dir` (`--no-wait`, or a download that did
/// not finish): the files now saved, or why the job ended without any (`error`), and what the
/// result says of the cost and the end. With none in `dir`, the one the run left elsewhere
/// (another `--out`) is completed into `dir`, beside the files, and left as it was there. With
/// none at all (a job this machine did not submit, or whose record is gone), a record of what
/// is known is written: the job, its server, files and end, with no input (`null`).
fn complete_record(
    dir: &Path,
    job: &DynJob,
    args: &ResultArgs,
    result: &JobResult<DynOutput>,
    saved: &[DownloadedFile],
    error: Option<String>,
) {
    let id = job.id();
    let found = provenance::find_record(dir, id, &args.server);
    let elsewhere = || {
        args.record
            .as_deref()
            .and_then(Path::parent)
            .and_then(|other| provenance::find_record(other, id, &args.server))
    };
    // What is said of it: a record completed where it was, copied completed from the run's
    // folder, or written of what is known (QA repro46 D13: all were "completed").
    let (target, mut record, done) = match found {
        Some((path, record)) => (Some(path), record, "completed the record"),
        None => match elsewhere() {
            Some((_, record)) => (None, record, "wrote the completed record"),
            None => (
                None,
                unseen_record(job, args, result),
                "wrote a record of what is known (no run record of this job was found: its \
                 input is not known)",
            ),
        },
    };
    record.files = saved.iter().map(RecordFile::of).collect();
    record.output = result
        .output
        .as_ref()
        .map(|output| Value::Object(output.0.clone()));
    record.error = error;
    record.cost_usd = result.cost.or(record.cost_usd);
    // A cost not in US dollars, as `--json` says it (QA repro39 F4: only there).
    if let Some(said) = job.cost_unread() {
        record.cost_unread = Some(said);
    }
    if record.timings.finished.is_none() {
        record.timings.finished = result.finished_at.clone();
    }
    if record.timings.noticed.is_none() {
        record.timings.noticed = Some(provenance::timestamp(runcomfy::clock::now()));
    }
    let written = match &target {
        Some(path) => record.replace(path),
        // A job that gave no files has not made the folder yet.
        None => std::fs::create_dir_all(dir)
            .map_err(|source| provenance::RecordError::Io {
                path: dir.to_owned(),
                failure: source,
            })
            .and_then(|()| record.write_new(dir)),
    };
    match written {
        Ok(path) if !args.display.quiet() => {
            eprintln_safe(&format!("{id}: {done}: {}", path.display()));
        }
        Ok(_) => {}
        Err(err) => eprintln_safe(&format!(
            "warning: the provenance record was not completed: {err}"
        )),
    }
}

/// The record of a job no run record is found for: its input unknown (`null`), its model as
/// the cache or else the result says.
fn unseen_record(job: &DynJob, args: &ResultArgs, result: &JobResult<DynOutput>) -> Record {
    let model = match job.model_id() {
        "" => result.model_id.clone().unwrap_or_default(),
        known => known.to_owned(),
    };
    Record {
        request_id: Some(job.id().to_owned()),
        cost_usd: result.cost,
        cost_unread: job.cost_unread(),
        ..Record::new(model, args.server.as_str(), Value::Null)
    }
}

/// Ctrl-C or SIGTERM stopped the command: said on stderr, and with `--json` on stdout too.
fn interrupted(id: &str, what: &str, json: bool) -> u8 {
    eprintln_safe(&format!("{id}: {what}"));
    if json {
        output::json(&json!({"request_id": id, "status": "interrupted", "error": what}));
    }
    exit::INTERRUPTED
}

async fn cancel(job: &DynJob, json: bool) -> Result<u8, CliError> {
    let outcome = job.cancel().await?;
    // `status` as every `--json` object of the job commands has one: the outcome, or `error`
    // for one this client does not know; and `error` whenever the job was not cancelled.
    let (code, status, text) = match &outcome {
        CancelOutcome::Cancelled => (exit::OK, "cancelled", "cancelled".to_owned()),
        CancelOutcome::NotCancellable => (
            exit::FAILURE,
            "not_cancellable",
            "not cancellable: it is already running or finished".to_owned(),
        ),
        other => (
            exit::FAILURE,
            "error",
            format!("cancel answered \"{other}\""),
        ),
    };
    if json {
        let mut answer = json!({
            "request_id": job.id(),
            "status": status,
            "outcome": outcome.wire(),
        });
        if code != exit::OK {
            answer["error"] = Value::String(text);
        }
        output::json(&answer);
    } else {
        output::line(&format!("{}: {text}", job.id()));
    }
    Ok(code)
}
