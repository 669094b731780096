//! `runcomfy run MODEL`: check the input, submit, wait with progress, download the outputs.
//!
//! `--timeout` is one deadline for the whole command: a preflight, the submit, the wait and the
//! downloads each get what is left of it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use clap::ArgMatches;
use runcomfy::catalog::ModelInfo;
use runcomfy::dynamic::{DynJob, DynOutput};
use runcomfy::error::CancelAttempt;
use runcomfy::estimate::Estimate;
use runcomfy::input::DynInput;
use runcomfy::price::Usd;
use runcomfy::provenance::{self, Record, RecordFile, Timings};
use runcomfy::{
    CancelOutcome, DownloadCounter, DownloadOptions, DownloadedFile, Error, Problem, SubmitControl,
    ValidationReport, WaitOptions,
};
use runcomfy_batch::{BUDGET_PRICES_WAIT as PRICE_WAIT, PRICES_WAIT as PRICE_NOTICE};
use serde_json::{Map, Value, json};

use crate::connect::{Connection, connect_unchecked};
use crate::duration::Deadline;
use crate::exit::{self, CliError};
use crate::fields;
use crate::interrupt::Interrupts;
use crate::output;
use crate::progress::{Display, Progress, eprintln_safe};
use runcomfy_batch::report::shell_word;

use runcomfy::wait::CANCEL_TIMEOUT;

/// What `run MODEL` was asked.
struct RunArgs {
    json: bool,
    no_wait: bool,
    preflight: bool,
    timeout: Deadline,
    out: Option<PathBuf>,
    /// `--downloads`.
    download: DownloadOptions,
    /// What is shown on stderr meanwhile (`--quiet`, `-v`).
    display: Display,
    /// `--mock`: the simulated jobs end with this command, so no hint names a later one.
    mock: bool,
    /// `--dry-run`.
    dry_run: bool,
    /// `--max-cost`.
    max_cost: Option<Usd>,
}

/// What a run knows of its input besides the decoded input: for the estimate and the record.
struct Sent {
    /// The estimate, when `--max-cost` needed it before the submit; else it is looked up while
    /// the job runs ([`EstimateLookup`]).
    estimate: Option<Estimate>,
    /// The input as given (flags and `--input`), for the estimate.
    given: Map<String, Value>,
    /// The input as the record keeps it (media as name, size, sha256).
    summary: Value,
    /// Where it is sent ([`Connection::server`]).
    server: String,
}

/// Longest a run waits, once its files are saved, for an estimate still being looked up.
const ESTIMATE_GRACE: Duration = Duration::from_secs(2);

/// The estimate of a run without `--max-cost`, at today's price, looked up while the job runs:
/// the price is one more call, which must neither delay the submit nor, if the server is slow
/// to answer it, the end of the run.
struct EstimateLookup {
    model: &'static ModelInfo,
    task: tokio::task::JoinHandle<(Estimate, Option<String>)>,
    /// Its estimate as soon as the API answered, for [`EstimateLookup::ready`].
    answer: Arc<OnceLock<Estimate>>,
}

impl EstimateLookup {
    fn start(
        client: &runcomfy::Client,
        model: &'static ModelInfo,
        given: &Map<String, Value>,
    ) -> Self {
        let (client, given) = (client.clone(), given.clone());
        let answer = Arc::new(OnceLock::new());
        let answered = Arc::clone(&answer);
        let task = tokio::spawn(async move {
            // The job is submitted: a refused token is said by its own calls.
            let (estimate, warning, _) = estimate_quietly(&client, model, &given).await;
            let _ = answered.set(estimate.clone());
            (estimate, warning)
        });
        EstimateLookup {
            model,
            task,
            answer,
        }
    }

    /// Its estimate, if the API has answered already; waits for nothing.
    fn ready(&self) -> Option<&Estimate> {
        self.answer.get()
    }

    /// Its estimate of `given` (the input it was started with); at the catalog's price if the
    /// API has not answered within [`ESTIMATE_GRACE`]. Called once the spinner is gone, so it
    /// prints the lookup's warning.
    async fn finish(mut self, given: &Map<String, Value>) -> Estimate {
        match tokio::time::timeout(ESTIMATE_GRACE, &mut self.task).await {
            Ok(Ok((estimate, warning))) => {
                if let Some(warning) = warning {
                    eprintln_safe(&warning);
                }
                estimate
            }
            _ => {
                self.task.abort();
                eprintln_safe(&format!(
                    "warning: {}'s price was not read from the API in time; {}",
                    self.model.id,
                    fallback(self.model)
                ));
                catalog_estimate(self.model, given)
            }
        }
    }

    /// Its estimate if the API has answered already, else the catalog's, silently: for the
    /// record of a run that ends early (interrupted, or its files not saved), which waits for
    /// nothing more.
    async fn now(mut self, given: &Map<String, Value>) -> Estimate {
        match tokio::time::timeout(Duration::ZERO, &mut self.task).await {
            Ok(Ok((estimate, _))) => estimate,
            _ => {
                self.task.abort();
                catalog_estimate(self.model, given)
            }
        }
    }
}

/// For a model run `--unchecked`: `--input` is its whole input, so it is needed (an empty
/// object sent by mistake is a paid job); an id near one of the catalog's is said (a typo runs
/// nothing the user meant), as is a `--preflight` that has no media fields to check.
fn unchecked_notes(
    model: &ModelInfo,
    args: &RunArgs,
    matches: &ArgMatches,
) -> Result<(), CliError> {
    if matches.get_one::<String>("input").is_none() {
        return Err(CliError::Usage(
            "--unchecked sends --input's JSON object as written: give --input (`--input '{}'` \
             sends an empty one)"
                .into(),
        ));
    }
    if runcomfy::catalog::find(model.id).is_none() && runcomfy::catalog::is_near(model.id) {
        let said = runcomfy_batch::input::unknown_model(model.id);
        eprintln_safe(&format!(
            "warning: {said}\n  it is sent as given (--unchecked)"
        ));
    }
    if args.preflight {
        eprintln_safe(
            "warning: --preflight checks media fields against their rules, which a model run \
             --unchecked has none of: nothing is fetched",
        );
    }
    Ok(())
}

/// What a price the API did not give falls back to: the catalog's rate, which a model run
/// unchecked, and many of the catalog's (a base price only), have not (QA repro35 L8: "using
/// the catalog's price" of none).
fn fallback(model: &ModelInfo) -> &'static str {
    if model.upstream.price.usd.is_some() {
        "using the catalog's price"
    } else {
        "the catalog has no rate for it either, so there is no estimate"
    }
}

/// The estimate at the catalog's price, when today's cannot be had.
fn catalog_estimate(model: &ModelInfo, input: &Map<String, Value>) -> Estimate {
    runcomfy::estimate::estimate(model, &model.upstream.price, &Value::Object(input.clone()))
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
        timeout: Deadline::of(matches, Instant::now()),
        out: matches.get_one::<String>("out").map(PathBuf::from),
        download: crate::cli::download_options(matches),
        display: Display::of(global),
        mock: global.get_flag("mock"),
        dry_run: matches.get_flag("dry_run"),
        max_cost: matches.get_one::<Usd>("max_cost").copied(),
    };
    if runcomfy::unchecked::is_unchecked(model) {
        unchecked_notes(model, &args, matches).inspect_err(|err| no_job(model.id, err, &args))?;
    }
    let flags = fields::from_matches(&fields::flags(model), matches);
    let mut input = match matches.get_one::<String>("input") {
        Some(spec) => {
            read_input(model, spec, &flags).inspect_err(|err| no_job(model.id, err, &args))?
        }
        None => Map::new(),
    };
    // Flags override the keys of --input. Their choices are wire values already (a flag is
    // typed to be read loosely), so what is said here is only what --input spelled otherwise.
    input.extend(flags);
    let loose = model.normalize_choices(&mut input);
    // Everything local comes before the first network call: the input is decoded into the
    // model's typed input, and that is what is sent. Only where it is invalid as the flags were
    // first read is another reading of theirs tried.
    let mut decoded = model.decode(&Value::Object(input.clone()));
    if decoded.is_err() {
        let others = fields::other_readings(&fields::flags(model), matches);
        let decodes = |input: &Map<String, Value>| model.decode(&Value::Object(input.clone()));
        if fields::settle(&mut input, &others, |input| decodes(input).is_ok()) {
            decoded = decodes(&input);
        }
    }
    let given = input;
    let (input, warnings) = match decoded {
        Ok(input) => {
            let mut warnings = loose;
            warnings.extend(input_warnings(&input));
            output::problems(model.id, &warnings, false);
            (input, warnings)
        }
        Err(err) => {
            let mut report = loose;
            report.extend(err.report);
            let given = Value::Object(given);
            refused(model, &report, &args, Some(&given));
            // `--input @jobs/in.json` naming `cat.png` beside it.
            let file = matches
                .get_one::<String>("input")
                .and_then(|s| s.strip_prefix('@'));
            if let Some(folder) = file.and_then(|file| Path::new(file).parent())
                && let Some(hint) = runcomfy_batch::input::beside_file(folder, &given, &report)
                && !args.json
            {
                eprintln_safe(&format!("  {hint}"));
            }
            return Ok(exit::DATA_ERR);
        }
    };
    // The body as people read it (media as name, size, sha256): printed by --dry-run and
    // kept in the record.
    let body = input
        .encode(runcomfy::client::DEFAULT_MAX_BODY_BYTES)
        .map_err(CliError::from)
        .and_then(|bytes| {
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| CliError::Input(format!("cannot read the body back: {e}")))
        })
        .inspect_err(|err| no_job(model.id, err, &args))?;
    let summary = provenance::body_summary(model, &given, &body);
    drop(body);

    // From here on Ctrl-C and SIGTERM are heard: before the submit they end the command with
    // nothing sent, after it they cancel the job first.
    let mut interrupts = Interrupts::listen();
    if args.dry_run {
        let asked = interrupts.race(dry_run_estimate(global, model, &given, &input, &args));
        let Some(estimate) = asked.await else {
            return Ok(nothing_sent(model.id, &args));
        };
        return Ok(
            match estimate.inspect_err(|err| no_job(model.id, err, &args))? {
                Ok(estimate) => dry_run(model, &estimate, &summary, warnings.problems(), &args),
                Err(code) => code,
            },
        );
    }
    // `--no-wait` writes the record there (but not with `--mock`, whose job ends with it).
    if !(args.no_wait && args.mock) {
        let out = args.out.as_deref();
        output::check_out_dir(out.unwrap_or(Path::new(output::DEFAULT_OUT_ROOT)))
            .inspect_err(|err| no_job(model.id, err, &args))?;
    }

    let mut connection = connect_unchecked(global, runcomfy::unchecked::is_unchecked(model))
        .await
        .inspect_err(|err| no_job(model.id, err, &args))?;
    connection.remember_run_times();
    // Only --max-cost needs the estimate before the submit.
    let mut estimated = None;
    if let Some(max) = args.max_cost {
        let asked = args
            .timeout
            .within(estimate(&connection.client, model, &given));
        let Some(asked) = interrupts.race(asked).await else {
            connection.close().await;
            return Ok(nothing_sent(model.id, &args));
        };
        let estimate = match asked {
            // The API refused the token: a submit would be refused too, and the budget is not
            // what is wrong (QA repro33 F8: it exited 4, "over budget").
            Ok((_, Some(refused))) => {
                connection.close().await;
                let err = CliError::Api(refused);
                no_job(model.id, &err, &args);
                return Err(err);
            }
            Ok((estimate, None)) => estimate,
            Err(after) => {
                connection.close().await;
                let err = CliError::TimedOutBeforeSubmit {
                    what: "reading today's price for --max-cost",
                    after,
                };
                no_job(model.id, &err, &args);
                return Err(err);
            }
        };
        if let Some(code) = over_budget(model, &estimate, max, &args) {
            connection.close().await;
            return Ok(code);
        }
        estimated = Some(estimate);
    }
    let sent = Sent {
        estimate: estimated,
        given,
        summary,
        server: connection.server(),
    };
    let code = submit_and_follow(&connection, &input, &sent, &mut interrupts, &args).await;
    connection.close().await;
    code
}

/// The estimate at the model's price, and the API's refusal of the token if that is why the
/// price could not be read: today's from the API, or the catalog's (with a warning) if the API
/// cannot say within [`PRICE_WAIT`] (it is said after [`PRICE_NOTICE`] that the
/// command waits): the waits of a batch under a budget, where the client's retries of a silent
/// server would take a minute and a half. Every estimate (a dry run's, `--max-cost`'s, the record's and `--json`'s) is
/// made at it, so they agree.
async fn estimate(
    client: &runcomfy::Client,
    model: &ModelInfo,
    input: &Map<String, Value>,
) -> (Estimate, Option<runcomfy::Error>) {
    let lookup = estimate_quietly(client, model, input);
    tokio::pin!(lookup);
    let looked = match tokio::time::timeout(PRICE_NOTICE, &mut lookup).await {
        Ok(looked) => Some(looked),
        Err(_) => {
            eprintln_safe(&format!(
                "waiting for today's price of {}: the API has not answered in {}s; waiting up \
                 to {}s in all",
                model.id,
                PRICE_NOTICE.as_secs(),
                PRICE_WAIT.as_secs()
            ));
            tokio::time::timeout(PRICE_WAIT - PRICE_NOTICE, &mut lookup)
                .await
                .ok()
        }
    };
    let (estimate, warning, refused) = looked.unwrap_or_else(|| {
        let warning = format!(
            "warning: {}'s price was not read from the API within {}s; {}",
            model.id,
            PRICE_WAIT.as_secs(),
            fallback(model)
        );
        (catalog_estimate(model, input), Some(warning), None)
    });
    if let Some(warning) = warning {
        eprintln_safe(&warning);
    }
    (estimate, refused)
}

/// [`estimate`], with its warning returned rather than printed: a lookup made while the
/// spinner turns must not write over it.
async fn estimate_quietly(
    client: &runcomfy::Client,
    model: &ModelInfo,
    input: &Map<String, Value>,
) -> (Estimate, Option<String>, Option<runcomfy::Error>) {
    let price = client.estimate_price(model).await;
    let warning = price.unread.as_ref().map(|err| {
        format!(
            "warning: cannot read {}'s price from the API ({err}); {}",
            model.id,
            fallback(model)
        )
    });
    let refused = price.unread.filter(runcomfy::Error::is_token_refused);
    let estimate = runcomfy::estimate::estimate(model, &price.price, &Value::Object(input.clone()));
    (estimate, warning, refused)
}

/// `--dry-run`'s estimate: today's price when the API can be asked (a token, or `--mock`),
/// the catalog's otherwise. Reading a price submits nothing. With `--preflight` the media
/// URLs are checked first; `Ok(Err(code))` when that refuses the input.
async fn dry_run_estimate(
    global: &ArgMatches,
    model: &'static ModelInfo,
    input: &Map<String, Value>,
    decoded: &DynInput,
    args: &RunArgs,
) -> Result<Result<Estimate, u8>, CliError> {
    let connected = connect_unchecked(global, runcomfy::unchecked::is_unchecked(model)).await;
    if args.preflight {
        // A dry run is where a URL that cannot be read should show; it needs the API's client.
        let connection = connected.as_ref().map_err(|err| {
            CliError::Input(format!("--preflight needs a connection to the API: {err}"))
        })?;
        let ended = match preflight(&connection.client, decoded, args).await {
            Ok(None) => None,
            Ok(Some(code)) => Some(Ok(Err(code))),
            Err(err) => Some(Err(err)),
        };
        if let Some(ended) = ended {
            if let Ok(connection) = connected {
                connection.close().await;
            }
            return ended;
        }
    }
    Ok(Ok(match connected {
        Ok(connection) => {
            // A dry run sends nothing: the warning says why the price is the catalog's. With
            // `--max-cost`, a token refused at the price ends it as it ends the run (QA repro35
            // L1: it was "over budget").
            let (estimate, refused) = estimate(&connection.client, model, input).await;
            connection.close().await;
            if let Some(refused) = refused.filter(|_| args.max_cost.is_some()) {
                return Err(CliError::Api(refused));
            }
            estimate
        }
        // With `--max-cost`, no token ends it as it ends the run, which must ask today's price
        // (QA repro46 D1: it was "over budget", exit 4, by the catalog's price).
        Err(err) if args.max_cost.is_some() && err.exit_code() == exit::NO_PERM => {
            return Err(err);
        }
        Err(err) => {
            eprintln_safe(&format!(
                "note: the API cannot be asked for today's price ({err}); {}",
                fallback(model)
            ));
            catalog_estimate(model, input)
        }
    }))
}

/// `--dry-run`: the estimate, and the body that would be sent (with `--json`, the input's
/// warnings too: text shows them as they are found); nothing is sent. With a `--max-cost` the
/// run would refuse, it says so and exits as that run would (4).
fn dry_run(
    model: &ModelInfo,
    estimate: &Estimate,
    body: &Value,
    warnings: &[Problem],
    args: &RunArgs,
) -> u8 {
    let refusal = args
        .max_cost
        .and_then(|max| max_cost_refusal(estimate, max));
    if args.json {
        let mut report = json!({
            "request_id": null,
            "model": model.id,
            "status": "dry_run",
            "estimate": estimate.to_json(),
            "body": body,
            "warnings": warnings,
        });
        if let Some(max) = args.max_cost {
            report["max_cost_usd"] = json!(max);
            report["over_max_cost"] = json!(refusal.is_some());
        }
        output::json(&report);
    } else {
        eprintln_safe(&format!("dry run of {}: nothing is sent", model.id));
        let simulated = match estimate.usd() {
            Some(_) if args.mock => " (--mock: the simulator's price)",
            _ => "",
        };
        eprintln_safe(&format!("estimate: {estimate}{simulated}"));
        output::json(body);
        if let Some(reason) = &refusal {
            eprintln_safe(&format!("the run would be refused: {reason}"));
        }
    }
    match refusal {
        Some(_) => exit::OVER_BUDGET,
        None => exit::OK,
    }
}

/// Why `--max-cost` refuses a submit at this estimate: above it, or no estimate at all.
fn max_cost_refusal(estimate: &Estimate, max: Usd) -> Option<String> {
    match estimate.usd() {
        Some(usd) if usd <= max => None,
        Some(usd) => Some(format!(
            "the estimate {usd} is above --max-cost {max} ({estimate})"
        )),
        None => Some(format!("--max-cost {max} cannot be checked: {estimate}")),
    }
}

/// `--max-cost`: the exit code when the estimate is above it or there is none.
fn over_budget(model: &ModelInfo, estimate: &Estimate, max: Usd, args: &RunArgs) -> Option<u8> {
    let reason = max_cost_refusal(estimate, max)?;
    eprintln_safe(&format!("error: {reason}; nothing was sent"));
    if args.json {
        output::json(&json!({
            "request_id": null,
            "model": model.id,
            "status": "over_budget",
            "error": reason,
            "estimate": estimate.to_json(),
            "max_cost_usd": max,
        }));
    }
    Some(exit::OVER_BUDGET)
}

/// The warnings decoding raised, as a report.
fn input_warnings(input: &DynInput) -> ValidationReport {
    let mut report = ValidationReport::new();
    for warning in input.warnings() {
        report.push(warning.clone());
    }
    report
}

/// Prints a report's problems, local or preflight alike; with errors, also the `--json` object,
/// and says nothing may be sent.
fn refused(
    model: &ModelInfo,
    report: &ValidationReport,
    args: &RunArgs,
    input: Option<&Value>,
) -> bool {
    let refused = output::problems(model.id, report, false);
    if refused && args.json {
        output::json(&json!({
            "request_id": null,
            "model": model.id,
            "status": "invalid",
            "error": format!(
                "the input is invalid: {}",
                runcomfy_batch::report::count(report.problems().len() as u64, "problem", "problems")
            ),
            "problems": output::problems_json(report.problems(), input),
        }));
    }
    refused
}

/// Reads `--input`: JSON text, `@file.json`, or `-` for stdin; it must be an object. A
/// provenance record is read back into the input it was made from, but for the fields `flags`
/// give.
fn read_input(
    model: &ModelInfo,
    spec: &str,
    flags: &Map<String, Value>,
) -> Result<Map<String, Value>, CliError> {
    let input = read_json_object(spec)?;
    match Record::from_json(&Value::Object(input.clone())) {
        None => Ok(input),
        Some(record) => record
            .and_then(|mut record| {
                // A field a flag gives is not read back: its recorded file may be gone, which
                // is why the flag gives another.
                if let Value::Object(recorded) = &mut record.input {
                    recorded.retain(|field, _| !flags.contains_key(field));
                }
                provenance::input_from_record(model, &record)
            })
            .map_err(|err| CliError::Input(format!("--input {spec}: {err}"))),
    }
}

/// Reads `--input` as a JSON object.
fn read_json_object(spec: &str) -> Result<Map<String, Value>, CliError> {
    // An input is sent whole: one larger than any request is no input.
    let limit = runcomfy::media::MAX_REQUEST_BYTES as u64;
    let (text, source) = if spec == "-" {
        let text = runcomfy::input::read_at_most(std::io::stdin(), limit)
            .and_then(runcomfy::input::text_of)
            .map_err(|e| CliError::Input(format!("cannot read --input from stdin: {e}")))?;
        (text, "stdin".to_owned())
    } else if let Some(path) = spec.strip_prefix('@') {
        let text = runcomfy::input::read_text_at_most(Path::new(path), limit)
            .map_err(|e| CliError::Input(format!("cannot read --input file {path}: {e}")))?;
        (text, path.to_owned())
    } else {
        (spec.to_owned(), "--input".to_owned())
    };
    match runcomfy::input::parse_json(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::Input(format!(
            "the input from {source} must be a JSON object"
        ))),
        // `--input in.json` where `@in.json` was meant.
        Err(_) if source == "--input" && std::path::Path::new(spec.trim()).is_file() => {
            Err(CliError::Input(format!(
                "--input takes JSON text; to read the file {}, write --input @{}",
                spec.trim(),
                spec.trim()
            )))
        }
        Err(err) => Err(CliError::Input(format!(
            "the input from {source} is not valid JSON: {err}"
        ))),
    }
}

async fn submit_and_follow(
    connection: &Connection,
    input: &DynInput,
    sent: &Sent,
    interrupts: &mut Interrupts,
    args: &RunArgs,
) -> Result<u8, CliError> {
    let client = &connection.client;
    let model = input.model();
    if args.preflight {
        let Some(checked) = interrupts.race(preflight(client, input, args)).await else {
            return Ok(nothing_sent(model.id, args));
        };
        match checked {
            Ok(Some(code)) => return Ok(code),
            Ok(None) => {}
            Err(err) => {
                no_job(model.id, &err, args);
                return Err(err);
            }
        }
    }
    let mut progress = Progress::new(args.display);
    let started_at = Instant::now();
    // Today's price is asked beside the submit (it delays nothing): its answer is there when a
    // record needs it, also the record of a submit that may have been accepted.
    let lookup = sent
        .estimate
        .is_none()
        .then(|| EstimateLookup::start(client, model, &sent.given));
    let known = sent
        .estimate
        .clone()
        .unwrap_or_else(|| catalog_estimate(model, &sent.given));
    let pending = SubmitPending::write(model.id, sent, &known, args);
    let submitted = submit(client, input, &mut progress, interrupts, args).await;
    let settled = |pending: Option<SubmitPending>| pending.map(SubmitPending::remove);
    let (job, interrupted) = match submitted {
        Ok(Some(submitted)) => submitted,
        Ok(None) => {
            settled(pending);
            return Ok(exit::INTERRUPTED);
        }
        Err(err) => {
            progress.finish();
            // What it may cost, for the charge to be matched with (QA repro45 N5: none): the
            // estimate `--max-cost` read, or today's if the API has answered, else the
            // catalog's; nothing more is waited for.
            let estimate = match (&sent.estimate, lookup) {
                (Some(estimate), _) => estimate.clone(),
                (None, Some(lookup)) => lookup.now(&sent.given).await,
                (None, None) => catalog_estimate(model, &sent.given),
            };
            let record = match (err.maybe_accepted(), pending) {
                (true, Some(pending)) => pending.unknown(&estimate, &err),
                (_, pending) => {
                    settled(pending);
                    None
                }
            };
            no_job_with(model.id, &err, record.as_deref(), &estimate, args);
            return Err(err);
        }
    };
    // The request id is in the cache from here, and the job's record says what was sent.
    connection.submitted(&job);
    settled(pending);
    progress.note(&format!("submitted {} to {}", job.id(), model.id));
    progress.submitted(job.id());
    if interrupted {
        let cancelled = try_cancel(&job, &mut progress, interrupts, args, None).await;
        // A job that goes on is billed: its record says what it may cost, as far as known by
        // now (QA repro47 P2: none).
        let estimate = match (&sent.estimate, lookup) {
            (Some(estimate), _) => Some(estimate.clone()),
            (None, Some(lookup)) if !cancelled.stopped_the_job() => {
                Some(lookup.now(&sent.given).await)
            }
            _ => None,
        };
        let record = (!cancelled.stopped_the_job())
            .then(|| left_record(connection, &job, sent, estimate, None, args, None))
            .flatten();
        return Ok(cancelled.report(&job, record.as_deref(), args));
    }
    if args.no_wait {
        progress.finish();
        let estimate = match (&sent.estimate, lookup) {
            (Some(estimate), _) => estimate.clone(),
            (None, Some(lookup)) => lookup.finish(&sent.given).await,
            (None, None) => catalog_estimate(model, &sent.given),
        };
        // The record of what was sent, for `result ID --wait --out DIR` to complete (none with
        // --mock: its job ends with this command).
        let record = left_record(
            connection,
            &job,
            sent,
            Some(estimate.clone()),
            None,
            args,
            None,
        );
        submitted_only(&job, record.as_deref(), &estimate, args);
        return Ok(exit::OK);
    }
    let mut slot = SubmitRecord::write(connection, &job, sent, args);
    // The record left at the submit learns the estimate and the start as the wait does.
    let polled = |started| slot.refresh(connection, &job, sent, lookup.as_ref(), started, args);
    let (waited, run_started) = wait(&job, &mut progress, interrupts, args, polled).await;
    let noticed = runcomfy::clock::now();
    let output = match waited {
        None => {
            let cancelled = try_cancel(&job, &mut progress, interrupts, args, run_started).await;
            let record = match cancelled.stopped_the_job() {
                true => {
                    slot.remove();
                    None
                }
                // Stopped once it had started: its record says so, as a cancel by the server.
                false if cancelled.ended_running() => {
                    let estimate = estimate_by_now(lookup, sent).await;
                    let err = Error::Cancelled {
                        request_id: job.id().to_owned(),
                    };
                    let seen = (run_started, runcomfy::clock::now());
                    slot.ended(&job, sent, estimate.as_ref(), &err, seen)
                }
                false => {
                    let estimate = estimate_by_now(lookup, sent).await;
                    let at = slot.at();
                    left_record(connection, &job, sent, estimate, run_started, args, at)
                }
            };
            return Ok(cancelled.report(&job, record.as_deref(), args));
        }
        Some(Ok(output)) => output,
        Some(Err(err)) => {
            progress.finish();
            // A failed job may be billed: what it cost is said beside its estimate.
            let estimate = estimate_by_now(lookup, sent).await;
            let at = slot.at();
            let record = match may_still_finish(&err) {
                true => left_record(
                    connection,
                    &job,
                    sent,
                    estimate.clone(),
                    run_started,
                    args,
                    at,
                ),
                false => slot.ended(&job, sent, estimate.as_ref(), &err, (run_started, noticed)),
            };
            let ended = Ended {
                record: record.as_deref(),
                estimate: estimate.as_ref(),
            };
            return job_ended_badly(&job, err, args, ended);
        }
    };
    let dir = out_dir(&job, args);
    let timings = Timings::ended(&job, run_started, noticed);
    let saved = match save(&job, &output, &dir, &mut progress, interrupts, args).await {
        Ok(Saved::All(saved)) => saved,
        unsaved => {
            // The job succeeded and is paid: its record (with the files saved, if any) is
            // written all the same, for `result ID --out DIR` to complete.
            let estimate = estimate_by_now(lookup, sent).await;
            let saved = match &unsaved {
                Err(err) => err.saved_files(),
                Ok(Saved::All(saved) | Saved::Stopped(saved)) => saved.as_slice(),
            };
            let record = if dir.is_dir() {
                let ending = Ending::succeeded(&output, saved);
                write_record(
                    &job,
                    sent,
                    estimate.as_ref(),
                    ending,
                    timings,
                    &dir,
                    slot.at(),
                )
            } else {
                None
            };
            // A record written over the submit's is in the cache already, at the same path.
            if let Some(record) = record.as_ref().filter(|_| slot.at().is_none()) {
                connection.recorded(&job, record);
            }
            return match unsaved {
                Err(err) => {
                    let ended = Ended {
                        record: record.as_deref(),
                        estimate: estimate.as_ref(),
                    };
                    job_ended_badly(&job, err, args, ended)
                }
                Ok(Saved::All(saved) | Saved::Stopped(saved)) => {
                    // Those saved whole before the stop, as a run that saved all lists them
                    // (QA repro37 M2: on disk, and said nowhere).
                    if args.json {
                        let mut report = json!({
                            "request_id": job.id(),
                            "model": job.model_id(),
                            "status": "interrupted",
                            "error": "interrupted while downloading: the job succeeded; its files \
                                      were not all saved",
                            "files": output::files_json(&saved),
                            "record": record,
                        });
                        // It succeeded, and is paid (QA repro38 N6: said only in the record).
                        output::cost_json(&mut report, &job);
                        output::json(&report);
                    } else {
                        for file in &saved {
                            output::line(&file.path.display().to_string());
                        }
                    }
                    Ok(exit::INTERRUPTED)
                }
            };
        }
    };
    let estimate = match lookup {
        Some(lookup) => Some(lookup.finish(&sent.given).await),
        None => sent.estimate.clone(),
    };
    let ending = Ending::succeeded(&output, &saved);
    let record = write_record(
        &job,
        sent,
        estimate.as_ref(),
        ending,
        timings,
        &dir,
        slot.at(),
    );
    let done = Done {
        job: &job,
        output: &output,
        saved: &saved,
        dir: &dir,
        started: started_at,
        record: record.as_deref(),
    };
    succeeded(&done, estimate.as_ref(), args);
    Ok(exit::OK)
}

/// `--preflight`: the media URLs checked remotely; the exit code when one is refused.
async fn preflight(
    client: &runcomfy::Client,
    input: &DynInput,
    args: &RunArgs,
) -> Result<Option<u8>, CliError> {
    let model = input.model();
    let checked = runcomfy::preflight::validate_remote_with(client, model, input.instance());
    let remote =
        args.timeout
            .within(checked)
            .await
            .map_err(|after| CliError::TimedOutBeforeSubmit {
                what: "checking the media URLs (--preflight)",
                after,
            })??;
    Ok(refused(model, &remote, args, None).then_some(exit::DATA_ERR))
}

/// Waits for the job with what is left of `--timeout`, showing progress: its end (`None` at
/// Ctrl-C) and when it was first seen running.
async fn wait(
    job: &DynJob,
    progress: &mut Progress,
    interrupts: &mut Interrupts,
    args: &RunArgs,
    mut polled: impl FnMut(Option<SystemTime>),
) -> (Option<Result<DynOutput, Error>>, Option<SystemTime>) {
    let options = args.timeout.bound(WaitOptions::new(), WaitOptions::timeout);
    let id = job.id().to_owned();
    let mut started = runcomfy::FirstSeenRunning::default();
    let waited = interrupts
        .race(job.wait_with(options, |update| {
            started.see(update);
            polled(started.at());
            progress.update(&id, update)
        }))
        .await;
    (waited, started.at())
}

/// The folder a job's files and record go to: `--out`, else the request's own.
fn out_dir(job: &DynJob, args: &RunArgs) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| output::default_out_dir(job.id()))
}

/// How a job ended, as its record says it: its output and the files saved, or why it gave
/// none; all empty while it may still run.
#[derive(Default)]
struct Ending<'a> {
    output: Option<&'a DynOutput>,
    saved: &'a [DownloadedFile],
    error: Option<String>,
}

impl<'a> Ending<'a> {
    /// A job that succeeded, with the files saved of its output.
    fn succeeded(output: &'a DynOutput, saved: &'a [DownloadedFile]) -> Self {
        Ending {
            output: Some(output),
            saved,
            error: None,
        }
    }
}

/// The provenance record beside the files, written over the one written at the submit (`at`)
/// or else beside any in `dir`; where it was written (a failure is a warning: the files are
/// saved and paid for).
fn write_record(
    job: &DynJob,
    sent: &Sent,
    estimate: Option<&Estimate>,
    ending: Ending<'_>,
    timings: Timings,
    dir: &Path,
    at: Option<&Path>,
) -> Option<PathBuf> {
    let record = Record {
        request_id: Some(job.id().to_owned()),
        estimate: estimate.map(Estimate::to_json),
        cost_usd: job.cost(),
        cost_unread: job.cost_unread(),
        timings,
        files: ending.saved.iter().map(RecordFile::of).collect(),
        output: ending.output.map(|output| Value::Object(output.0.clone())),
        error: ending.error,
        ..Record::new(job.model_id(), sent.server.as_str(), sent.summary.clone())
    };
    let written = match at {
        Some(path) => record.replace(path),
        None => record.write_new(dir),
    };
    match written {
        Ok(path) => Some(path),
        Err(err) => {
            eprintln_safe(&format!(
                "warning: the provenance record was not written: {err}"
            ));
            None
        }
    }
}

/// Submits; `None` when interrupted with nothing sent. A submit in flight is not abandoned at
/// the first Ctrl-C: its job would be created and billed with no id to cancel it by. It is
/// answered first (the second value says a cancel is due). A second Ctrl-C, or `--timeout`,
/// does abandon it, and says the job may exist.
async fn submit(
    client: &runcomfy::Client,
    input: &DynInput,
    progress: &mut Progress,
    interrupts: &mut Interrupts,
    args: &RunArgs,
) -> Result<Option<(DynJob, bool)>, CliError> {
    let model = input.model().id;
    // A deadline already past sends nothing: only a submit in flight when it passes may
    // have been accepted.
    if let (Some(after), Some(Duration::ZERO)) = (args.timeout.after(), args.timeout.remaining()) {
        return Err(CliError::TimedOutBeforeSubmit {
            what: "preparing the submit",
            after,
        });
    }
    progress.message(&format!("submitting to {model}"));
    let control = SubmitControl::new();
    let sending = client.submit_decoded_with(input, &control);
    let sending = told_of_resends(sending, &control, progress.messages(), model);
    let submit = async {
        tokio::pin!(sending);
        match args.timeout.within(&mut sending).await {
            Ok(submitted) => Ok(submitted?),
            // Looked at before the submit drops: an attempt on the wire may have been
            // accepted; with none, the submit was waiting to be sent again after a refusal.
            Err(after) if control.on_wire() => Err(CliError::SubmitTimedOut { model, after }),
            Err(after) => Err(CliError::SubmitNotTaken { model, after }),
        }
    };
    tokio::pin!(submit);
    if let Some(submitted) = interrupts.race(&mut submit).await {
        return Ok(Some((submitted?, false)));
    }
    // Nothing more is sent; an attempt on the wire is answered first, to cancel its job.
    control.stop();
    if control.on_wire() {
        progress.println(
            "interrupted: waiting for the submit's answer to cancel the job (Ctrl-C again to quit at once)",
        );
    }
    match interrupts.race(&mut submit).await {
        Some(Ok(job)) => Ok(Some((job, true))),
        Some(Err(err)) if !err.maybe_accepted() => {
            progress.finish();
            let error = match &err {
                // It says so itself.
                CliError::Api(Error::SubmitStopped { .. }) => format!("interrupted: {err}"),
                _ => format!("interrupted: nothing was submitted ({err})"),
            };
            eprintln_safe(&error);
            no_job_report(model, "not_submitted", &error, args);
            Ok(None)
        }
        Some(Err(err)) => Err(err),
        // As a submit whose answer never came: it may exist, with no id to follow, so it
        // leaves the record of what was sent and exits 3, as a dropped connection does (QA
        // repro43 F1, F2: nothing was kept, and the exit was 130).
        None => Err(CliError::SubmitInterrupted { model }),
    }
}

/// `sending`, saying (`say`: the progress's message) each time it waits to be sent again after a
/// refusal that took nothing (QA repro49 N4: a `Retry-After: 60` was a minute of "submitting"
/// and no why).
async fn told_of_resends<T>(
    sending: impl Future<Output = T>,
    control: &SubmitControl,
    say: impl Fn(&str),
    model: &str,
) -> T {
    tokio::pin!(sending);
    let mut told = None;
    let mut looks = tokio::time::interval(RESEND_LOOKS);
    loop {
        tokio::select! {
            biased;
            sent = &mut sending => return sent,
            _ = looks.tick() => {}
        }
        let resend = control.resend();
        if let Some(now) = resend.as_ref().filter(|now| told.as_ref() != Some(*now)) {
            let why = match now.rate_limited {
                true => "the API rate-limits submits".to_owned(),
                false => format!("no connection to the API ({})", now.reason),
            };
            // Rounded up: "in 0 s" for a wait under half a second read as none (QA repro53 N7).
            let secs = now
                .at
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
                .ceil();
            say(&format!(
                "submitting to {model}: {why}; nothing was taken, sending again in {secs:.0} s"
            ));
        }
        told = resend;
    }
}

/// How often a submit is looked at for a wait to tell of.
const RESEND_LOOKS: Duration = Duration::from_millis(200);

/// Ctrl-C or SIGTERM before the submit: said, and `--json`'s object; the exit code.
fn nothing_sent(model: &str, args: &RunArgs) -> u8 {
    let error = "interrupted: nothing was sent";
    eprintln_safe(error);
    no_job_report(model, "not_submitted", error, args);
    exit::INTERRUPTED
}

/// `--json`'s object for a submit that gave no job: `unknown` when it may have been accepted
/// (as a batch reports the line), with no request id to follow; else `not_submitted`.
fn no_job(model: &str, err: &CliError, args: &RunArgs) {
    let status = if err.maybe_accepted() {
        "unknown"
    } else {
        "not_submitted"
    };
    no_job_report(model, status, &err.to_string(), args);
}

/// [`no_job`] for a submit whose outcome is unknown, which may be billed: `--json`'s object
/// also has the estimate and the record that keeps what was sent.
fn no_job_with(
    model: &str,
    err: &CliError,
    record: Option<&Path>,
    estimate: &Estimate,
    args: &RunArgs,
) {
    if !(args.json && err.maybe_accepted()) {
        return no_job(model, err, args);
    }
    output::json(&json!({
        "request_id": null,
        "model": model,
        "status": "unknown",
        "error": err.to_string(),
        "estimate": estimate.to_json(),
        "record": record.map(|path| path.display().to_string()),
    }));
}

/// The record of a submit, written before it is sent (as a batch line's is): what was sent,
/// where, when and at what estimate, with no request id, so a charge can be matched to it. A
/// run killed outright while its submit is on the wire (kill -9, a crash) leaves it (QA repro40
/// L7: nothing was left); a submit whose outcome stays unknown has it written over with why;
/// one refused or accepted removes it (the job's own record then says what was sent). Into
/// `--out`, else a folder of its own under the default root; none with `--mock`, whose server
/// ends with the command.
struct SubmitPending {
    /// Where it was written, when it could be.
    path: Option<PathBuf>,
    /// The folders made for it, the innermost first.
    made: Vec<PathBuf>,
    /// The record as written.
    record: Record,
}

impl SubmitPending {
    fn write(model: &str, sent: &Sent, estimate: &Estimate, args: &RunArgs) -> Option<Self> {
        if args.mock {
            return None;
        }
        let now = runcomfy::clock::now();
        let dir = args.out.clone().unwrap_or_else(|| {
            let stamp = provenance::timestamp(now).replace([':', '.'], "-");
            output::default_out_dir(&format!("unknown-{stamp}"))
        });
        let made = to_make(&dir);
        let record = Record {
            estimate: Some(estimate.to_json()),
            timings: Timings {
                submitted: Some(provenance::timestamp(now)),
                ..Timings::default()
            },
            error: Some(
                "the run ended during its submit: it may have been accepted (and billed), \
                 with no request id"
                    .to_owned(),
            ),
            ..Record::new(model, sent.server.as_str(), sent.summary.clone())
        };
        let written = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))
            .and_then(|()| record.write_new(&dir).map_err(|e| e.to_string()));
        let path = match written {
            Ok(path) => Some(path),
            Err(err) => {
                eprintln_safe(&format!(
                    "warning: the record of what is sent was not written: {err}"
                ));
                None
            }
        };
        Some(SubmitPending { path, made, record })
    }

    /// The submit was refused, or accepted: the record goes, and the folders made for it.
    fn remove(self) {
        remove_record(self.path.as_deref(), &self.made);
    }

    /// The submit may have been accepted (and billed) with no request id to follow: the record
    /// says so, with the estimate known by now. Where it is.
    fn unknown(self, estimate: &Estimate, err: &CliError) -> Option<PathBuf> {
        let record = Record {
            estimate: Some(estimate.to_json()),
            error: Some(format!(
                "the submit may have been accepted (and billed), with no request id: {err}"
            )),
            ..self.record
        };
        let path = self.path?;
        match record.replace(&path) {
            Ok(path) => {
                eprintln_safe(&format!(
                    "what was sent, for matching a charge: {}",
                    path.display()
                ));
                Some(path)
            }
            Err(err) => {
                eprintln_safe(&format!(
                    "warning: the record of what was sent was not completed: {err}"
                ));
                // The one written before the submit still says what was sent.
                Some(path)
            }
        }
    }
}

/// With `--json`, the object of a run that has no job to name.
fn no_job_report(model: &str, status: &str, error: &str, args: &RunArgs) {
    if args.json {
        output::json(&json!({
            "request_id": null,
            "model": model,
            "status": status,
            "error": error,
        }));
    }
}

/// The record of an accepted job whose files this run will not save (`--no-wait`, Ctrl-C or
/// `--timeout` while it runs, a wait that lost track of it): what was sent, the estimate and
/// the submit time (and the start, if a poll saw it), written into the folder the files would have gone to (made now) for
/// `result ID --wait --out DIR` to complete, and kept in the cache for `result` into another
/// folder. Where it was written; none with `--mock`, whose job ends with this command.
fn left_record(
    connection: &Connection,
    job: &DynJob,
    sent: &Sent,
    estimate: Option<Estimate>,
    started: Option<SystemTime>,
    args: &RunArgs,
    at: Option<&Path>,
) -> Option<PathBuf> {
    if args.mock {
        return None;
    }
    let dir = out_dir(job, args);
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln_safe(&format!(
            "warning: the provenance record was not written: {}: {err}",
            dir.display()
        ));
        return None;
    }
    let timings = Timings {
        submitted: job.submitted_at().map(provenance::timestamp),
        started: started.map(provenance::timestamp),
        ..Timings::default()
    };
    let ending = Ending::default();
    let record = write_record(job, sent, estimate.as_ref(), ending, timings, &dir, at)?;
    // Written over one (`at`), it is in the cache already: each write would rewrite the cache.
    if at.is_none() {
        connection.recorded(job, &record);
    }
    Some(record)
}

/// The record of a job this run waits on, written into the folder its files go to as soon as
/// the job is accepted (what was sent, the estimate so far, the submit time): a run killed
/// while it waits or downloads (kill -9) leaves it, as `--no-wait` does, for
/// `result ID --wait --out DIR` to complete. Every end of the run writes over it, but a
/// cancel that stopped the job, which removes it.
struct SubmitRecord {
    /// Where it was written; none with `--mock` (its job ends with this command) or when it
    /// could not be.
    path: Option<PathBuf>,
    /// The folders this run made for it, the innermost first.
    made: Vec<PathBuf>,
    /// What it says besides what was sent: whether the estimate is today's, and the start.
    says: (bool, Option<SystemTime>),
}

impl SubmitRecord {
    fn write(connection: &Connection, job: &DynJob, sent: &Sent, args: &RunArgs) -> Self {
        let dir = out_dir(job, args);
        let made = match args.mock {
            true => Vec::new(),
            false => to_make(&dir),
        };
        let path = left_record(
            connection,
            job,
            sent,
            sent.estimate.clone(),
            None,
            args,
            None,
        );
        SubmitRecord {
            path,
            made,
            says: (sent.estimate.is_some(), None),
        }
    }

    /// Writes the record over again once it has more to say: today's estimate came, or a poll
    /// saw the job start.
    fn refresh(
        &mut self,
        connection: &Connection,
        job: &DynJob,
        sent: &Sent,
        lookup: Option<&EstimateLookup>,
        started: Option<SystemTime>,
        args: &RunArgs,
    ) {
        let Some(at) = self.path.as_deref() else {
            return;
        };
        let estimate = lookup.and_then(|lookup| lookup.ready().cloned());
        let news = (self.says.0 || estimate.is_some(), started);
        if news == self.says {
            return;
        }
        let estimate = estimate.or_else(|| sent.estimate.clone());
        left_record(connection, job, sent, estimate, started, args, Some(at));
        self.says = news;
    }

    fn at(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The record of a job that ended without outputs, written over this one: it failed, or
    /// was cancelled, with the error and what the server says it cost. A job `--timeout`
    /// cancelled before it ran leaves nothing, as one cancelled at Ctrl-C.
    fn ended(
        self,
        job: &DynJob,
        sent: &Sent,
        estimate: Option<&Estimate>,
        err: &Error,
        (started, noticed): (Option<SystemTime>, SystemTime),
    ) -> Option<PathBuf> {
        if matches!(err, Error::Timeout { .. }) {
            self.remove();
            return None;
        }
        let at = self.path.as_deref()?;
        let timings = Timings::ended(job, started, noticed);
        let ending = Ending {
            error: Some(provenance::ended_error(err)),
            ..Ending::default()
        };
        let dir = at.parent().unwrap_or(Path::new("."));
        write_record(job, sent, estimate, ending, timings, dir, Some(at))
    }

    /// A job cancelled before it ran leaves nothing: no record, and no folder this run made.
    fn remove(self) {
        remove_record(self.path.as_deref(), &self.made);
    }
}

/// The folders of `dir` (itself and its parents) that do not exist yet, the innermost first:
/// those a record written there makes, for [`remove_record`] to remove.
fn to_make(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.is_dir())
        .map(Path::to_path_buf)
        .collect()
}

/// Removes a record this run wrote (`path`), and the folders it made for it (`made`, the
/// innermost first) that are left empty: the run saved nothing else there, nor did anyone.
fn remove_record(path: Option<&Path>, made: &[PathBuf]) {
    if let Some(path) = path {
        let _ = std::fs::remove_file(path);
    }
    for dir in made {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// `--no-wait`: the request id, and how to follow it.
fn submitted_only(job: &DynJob, record: Option<&Path>, estimate: &Estimate, args: &RunArgs) {
    let id = job.id();
    if args.json {
        output::json(&json!({
            "request_id": id,
            "model": job.model_id(),
            "status": "submitted",
            "estimate": estimate.to_json(),
            "record": record,
        }));
        return;
    }
    output::line(id);
    let word = shell_word(id);
    eprintln_safe(&match (args.mock, record) {
        (true, _) => "with --mock the simulated job ends with this command: leave out --no-wait \
                      to see it through"
            .to_owned(),
        (false, Some(record)) => format!(
            "follow it with `runcomfy status {word}`; {}",
            completes(id, record)
        ),
        (false, None) => format!(
            "follow it with `runcomfy status {word}`; `runcomfy result {word} --wait --out DIR` \
             waits for it and saves its files"
        ),
    });
}

/// What [`save`] did: every file saved, or stopped (Ctrl-C, SIGTERM) with those saved whole
/// by then.
enum Saved {
    All(Vec<DownloadedFile>),
    Stopped(Vec<DownloadedFile>),
}

/// Downloads the output's files.
async fn save(
    job: &DynJob,
    output: &DynOutput,
    dir: &Path,
    progress: &mut Progress,
    interrupts: &mut Interrupts,
    args: &RunArgs,
) -> Result<Saved, Error> {
    let id = job.id();
    // An output naming no file has nothing to download, now or later (QA repro49 N3:
    // "downloading 0 files", then "`result --out` fetches the rest").
    if let Err(err) = job.check_names_files(output) {
        progress.finish();
        return Err(err);
    }
    let files = job.files(output).len();
    let counter = DownloadCounter::new();
    let ticking = progress.downloading(
        format!(
            "{id}: downloading {files} file{} to {}",
            if files == 1 { "" } else { "s" },
            dir.display()
        ),
        counter.clone(),
    );
    let options = args
        .timeout
        .bound(args.download.clone(), DownloadOptions::timeout)
        .counter(counter.clone());
    // Dropped at Ctrl-C, SIGTERM or the deadline, a download removes its partial file.
    let downloaded = interrupts.race(job.download(output, dir, &options)).await;
    drop(ticking);
    progress.finish();
    match downloaded {
        Some(Ok(saved)) => Ok(Saved::All(saved)),
        Some(Err(err)) => {
            // The job is paid for and its output links last about a day. The record is
            // written only into a folder the download made. An output refused whole would be
            // refused again, as would places that name no file (QA repro53 N5).
            let refused = |err: &Error| {
                matches!(
                    err,
                    Error::TooManyFiles { .. } | Error::UnreadableOutput { .. }
                )
            };
            let again = match &err {
                Error::NotAllSaved {
                    failure, others, ..
                } => !refused(failure) || !others.iter().all(refused),
                err => !refused(err),
            };
            if !args.mock && again {
                eprintln_safe(&format!(
                    "the job succeeded but its files were not all saved; `runcomfy result {} \
                     --out {}` fetches the rest{}",
                    shell_word(id),
                    shell_word(&dir.to_string_lossy()),
                    if dir.is_dir() {
                        " and completes the record"
                    } else {
                        ""
                    }
                ));
            }
            Err(err)
        }
        None => {
            eprintln_safe(&if args.mock {
                "interrupted while downloading".to_owned()
            } else {
                format!(
                    "interrupted while downloading; `runcomfy result {} --out {}` fetches the \
                     files and completes the record",
                    shell_word(id),
                    shell_word(&dir.to_string_lossy())
                )
            });
            Ok(Saved::Stopped(counter.saved()))
        }
    }
}

/// A run that ended well, as [`succeeded`] reports it.
struct Done<'a> {
    job: &'a DynJob,
    output: &'a DynOutput,
    saved: &'a [DownloadedFile],
    dir: &'a Path,
    /// When the command began.
    started: Instant,
    /// Where the provenance record was written.
    record: Option<&'a Path>,
}

/// What a succeeded run prints: the saved paths on stdout (or the `--json` object).
fn succeeded(done: &Done, estimate: Option<&Estimate>, args: &RunArgs) {
    let Done {
        job,
        output,
        saved,
        dir,
        started,
        record,
    } = *done;
    let id = job.id();
    if !args.display.quiet() {
        eprintln_safe(&format!(
            "{id}: succeeded in {:.1}s; saved {} file{} to {}",
            started.elapsed().as_secs_f64(),
            saved.len(),
            if saved.len() == 1 { "" } else { "s" },
            dir.display()
        ));
        eprintln_safe(&cost_line(job, estimate, args));
        if let Some(record) = record {
            eprintln_safe(&format!("{id}: provenance in {}", record.display()));
        }
    }
    if args.json {
        let mut report = json!({
            "request_id": id,
            "model": job.model_id(),
            "status": "succeeded",
            "outputs": output.0,
            "files": output::files_json(saved),
            "estimate": estimate.map(Estimate::to_json),
            "record": record,
        });
        output::cost_json(&mut report, job);
        output::json(&report);
    } else if saved.is_empty() {
        // No files: the output itself is the result.
        output::json(&Value::Object(output.0.clone()));
    } else {
        for file in saved {
            output::line(&file.path.display().to_string());
        }
    }
}

/// A job that failed, was cancelled, timed out, or could not be followed or saved: `--json`
/// still names its request id. Never exit 75 (which wrappers retry on, submitting and paying
/// again) for a job that was accepted, unless a cancel stopped it before it ran: exit 3.
/// `{id}: cost $0.03 (estimated $0.03)`, or that the server did not say; and a warning when
/// the cost passed `--max-cost`, which only the estimate could be held to.
fn cost_line(job: &DynJob, estimate: Option<&Estimate>, args: &RunArgs) -> String {
    let id = job.id();
    let max_cost = args.max_cost;
    let simulated = if args.mock {
        "; --mock: simulated, nothing billed"
    } else {
        ""
    };
    let estimated = match estimate.and_then(Estimate::usd) {
        Some(usd) => format!(" (estimated {usd}{simulated})"),
        None if args.mock => " (--mock: simulated, nothing billed)".to_owned(),
        None => String::new(),
    };
    match (job.cost(), max_cost) {
        (Some(cost), Some(max)) if cost > max => format!(
            "{id}: cost {cost}{estimated}\nwarning: {id} cost more than --max-cost {max}: the \
             server charged more than the estimate the limit was checked against"
        ),
        (Some(cost), _) => format!("{id}: cost {cost}{estimated}"),
        (None, _) => match job.cost_unread() {
            Some(said) => format!("{}{estimated}", output::cost_unread_text(id, &said)),
            None => format!("{id}: the server did not say what it cost{estimated}"),
        },
    }
}

/// What a run that ended without all its files has to say besides the error.
struct Ended<'a> {
    /// The record written, if any.
    record: Option<&'a Path>,
    /// The estimate, if one was looked up.
    estimate: Option<&'a Estimate>,
}

fn job_ended_badly(
    job: &DynJob,
    err: Error,
    args: &RunArgs,
    ended: Ended<'_>,
) -> Result<u8, CliError> {
    let Ended { record, estimate } = ended;
    let id = job.id();
    let model = job.model_id();
    let err = args.timeout.named_in(err);
    let (status, detail) = match &err {
        // What the server said, as it said it, beside `error`'s text.
        Error::JobFailed { .. } => ("failed", Value::String(err.to_string())),
        Error::Cancelled { .. } => ("cancelled", Value::String(err.to_string())),
        Error::Timeout { .. } => ("timeout", Value::String(err.to_string())),
        err if output::is_not_saved(err) => ("not_saved", Value::String(err.to_string())),
        _ => ("unfinished", Value::String(err.to_string())),
    };
    let cancelled_unrun = matches!(
        &err,
        Error::Timeout {
            cancel: Some(CancelAttempt::Answered(CancelOutcome::Cancelled)),
            ..
        }
    );
    if args.json {
        let mut report = json!({
            "request_id": id,
            "model": model,
            "status": status,
            "error": detail,
        });
        if let Error::JobFailed { error, .. } = &err {
            report["error_detail"] = error.0.clone();
        }
        if let Some(record) = record {
            report["record"] = json!(record);
        }
        // Always for `not_saved`, as the docs promise: the files it saved, maybe none (QA
        // repro46 D3: a script reading `files` met no key).
        if status == "not_saved" || !err.saved_files().is_empty() {
            report["files"] = output::files_json(err.saved_files());
        }
        if ended_paid(status, job) {
            output::cost_json(&mut report, job);
        }
        // What it may cost, as its record says, also for a job that may still run.
        if let Some(estimate) = estimate {
            report["estimate"] = estimate.to_json();
        }
        output::json(&report);
    } else {
        // The files that were saved, one path a line, as a run that saved all prints them.
        for file in err.saved_files() {
            output::line(&file.path.display().to_string());
        }
    }
    let code = match exit::api_exit_code(&err) {
        exit::TEMP_FAIL if !cancelled_unrun => exit::MAYBE_ACCEPTED,
        // Lost track of an accepted job (an outage, unreadable replies, its id no longer
        // found): 69 or 65 would read as a failure to send, which a wrapper retries.
        exit::UNAVAILABLE | exit::DATA_ERR if status == "unfinished" => exit::MAYBE_ACCEPTED,
        code => code,
    };
    let err = CliError::from(err);
    eprintln_safe(&format!("error: {err}"));
    if ended_paid(status, job) {
        eprintln_safe(&cost_line(job, estimate, args));
    }
    if let ("failed" | "cancelled", Some(record)) = (status, record) {
        eprintln_safe(&format!("{id}: provenance in {}", record.display()));
    }
    let hint = match (status, record) {
        ("unfinished" | "timeout", Some(record)) => Some(format!(
            "the job was accepted and may still finish: {}",
            completes(id, record)
        )),
        ("unfinished", None) if !args.mock => Some(format!(
            "the job was accepted and may still finish: `runcomfy result {} --wait --out DIR` \
             waits for it and saves its files",
            shell_word(id)
        )),
        // Accepted: the base URL took the submit.
        _ => err.hint(exit::HintContext {
            mock: args.mock,
            ..exit::HintContext::default()
        }),
    };
    if let Some(hint) = hint {
        eprintln_safe(&format!("  {hint}"));
    }
    Ok(code)
}

/// Whether a job that ended this way may be billed, so its cost is said: one that failed or
/// whose files were not all saved, and one cancelled that the server says cost something.
fn ended_paid(status: &str, job: &DynJob) -> bool {
    match status {
        "failed" | "not_saved" => true,
        "cancelled" => job.cost().is_some(),
        _ => false,
    }
}

/// What came of the cancel asked for after Ctrl-C: its outcome's word and what to say.
struct Cancelled {
    outcome: String,
    text: String,
    /// Whether a poll had seen the job running.
    ran: bool,
}

impl Cancelled {
    /// Whether the job was stopped before it ran: nothing is billed, nothing is left to fetch.
    fn stopped_the_job(&self) -> bool {
        self.outcome == "cancelled" && !self.ran
    }

    /// Whether the job was stopped after it started: it ended, and may be billed.
    fn ended_running(&self) -> bool {
        self.outcome == "cancelled" && self.ran
    }

    /// Says how the run ended (with `--json`, with the record left, if any); the exit code.
    fn report(&self, job: &DynJob, record: Option<&Path>, args: &RunArgs) -> u8 {
        eprintln_safe(&self.text);
        match record {
            Some(record) if self.ended_running() => {
                eprintln_safe(&format!("{}: provenance in {}", job.id(), record.display()));
            }
            Some(record) => eprintln_safe(&format!("  {}", completes(job.id(), record))),
            None if self.outcome == "not_cancellable" && !args.mock => {
                eprintln_safe(&format!(
                    "  `runcomfy result {} --wait --out DIR` saves its files when it ends",
                    shell_word(job.id())
                ));
            }
            None => {}
        }
        if args.json {
            let mut report = json!({
                "request_id": job.id(),
                "model": job.model_id(),
                "status": "interrupted",
                "error": self.text,
                "cancel": self.outcome,
            });
            if let Some(record) = record {
                report["record"] = json!(record);
            }
            output::json(&report);
        }
        exit::INTERRUPTED
    }
}

/// How to see a job through to the record a run left for it.
fn completes(id: &str, record: &Path) -> String {
    let dir = record.parent().unwrap_or(Path::new("."));
    format!(
        "`runcomfy result {} --wait --out {}` waits for it, saves its files and completes the \
         record {}",
        shell_word(id),
        shell_word(&dir.to_string_lossy()),
        record.display()
    )
}

/// Whether a wait that ended with `err` leaves a job that may still run and be billed (a
/// deadline that did not cancel it, a lost track), rather than one that ended.
fn may_still_finish(err: &Error) -> bool {
    match err {
        Error::JobFailed { .. } | Error::Cancelled { .. } | Error::UnreadableOutput { .. } => false,
        Error::Timeout { cancel, .. } => !matches!(
            cancel,
            Some(CancelAttempt::Answered(CancelOutcome::Cancelled))
        ),
        _ => true,
    }
}

/// The estimate a run that ends early records: today's if the price came already, else the
/// catalog's, waiting for nothing more.
async fn estimate_by_now(lookup: Option<EstimateLookup>, sent: &Sent) -> Option<Estimate> {
    match lookup {
        Some(lookup) => Some(lookup.now(&sent.given).await),
        None => sent.estimate.clone(),
    }
}

/// After Ctrl-C: cancel a queued job, or say it can no longer be cancelled.
async fn try_cancel(
    job: &DynJob,
    progress: &mut Progress,
    interrupts: &mut Interrupts,
    args: &RunArgs,
    started: Option<SystemTime>,
) -> Cancelled {
    let id = job.id().to_owned();
    progress.message(&format!(
        "{id}: interrupted, cancelling (Ctrl-C again to quit at once)"
    ));
    let answer = interrupts
        .race(tokio::time::timeout(CANCEL_TIMEOUT, job.cancel()))
        .await;
    progress.finish();
    let ran = started.is_some();
    let (outcome, text) = match answer {
        // A server may stop a running job too; the time it ran may be billed.
        Some(Ok(Ok(CancelOutcome::Cancelled))) if ran => (
            "cancelled".to_owned(),
            format!(
                "interrupted: cancelled job {id}, which had started: the time it ran may be billed"
            ),
        ),
        Some(Ok(Ok(CancelOutcome::Cancelled))) => (
            "cancelled".to_owned(),
            format!("interrupted: cancelled job {id} (it was still queued)"),
        ),
        Some(Ok(Ok(CancelOutcome::NotCancellable))) => (
            "not_cancellable".to_owned(),
            if args.mock {
                format!(
                    "interrupted: job {id} has already started (or finished) and can no longer \
                     be cancelled"
                )
            } else {
                format!(
                    "interrupted: job {id} has already started (or finished) and can no longer \
                     be cancelled; it is billed"
                )
            },
        ),
        Some(Ok(Ok(other))) => (
            other.wire().to_owned(),
            format!("interrupted: the cancel of job {id} was answered \"{other}\""),
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
                format!(
                    "interrupted again: job {id} may still be queued (`runcomfy cancel {}`)",
                    shell_word(&id)
                )
            },
        ),
    };
    Cancelled { outcome, text, ran }
}
