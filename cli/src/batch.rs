//! `runcomfy batch FILE.jsonl --out DIR` and `runcomfy batch --resume DIR`: the command line of
//! the `runcomfy-batch` engine (validation, journal, resume, report and gallery live there).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint};
use runcomfy::price::{Price, Usd};
use runcomfy_batch::report::count;
use runcomfy_batch::spending::Spending;
use runcomfy_batch::{BatchConfig, BatchError, ProgressMode, State, Stop};
use runcomfy_simulator::SimConfig;
use serde_json::{Value, json};

use crate::connect::{self, Connection, connect, connect_unchecked};
use crate::exit::{self, CliError};
use crate::interrupt::Interrupts;
use crate::output;
use crate::progress::eprintln_safe;

/// The `batch` subcommand. Long but flat: one declaration per argument, in help order.
pub fn command() -> Command {
    Command::new("batch")
        .about("Run a JSONL file of jobs: resumable, never pays twice for a line")
        .long_about(
            "Run every line of a JSONL file, {\"model\": \"...\", \"input\": {...}, \"key\": \
             \"optional\"}, and save each line's outputs in DIR/<key or line-N>/.\n\n\
             Every line is checked first; if one is invalid, every problem of every line is \
             listed and nothing is sent (exit 65), unless --skip-invalid. A journal in DIR \
             (journal.sqlite) records each line before and after its submit: run the same \
             command again, or `runcomfy batch --resume DIR`, after Ctrl-C, a crash or kill -9, \
             and accepted jobs are polled and downloaded, never submitted again; local files \
             are read where the batch first found them, from whatever folder. A line caught \
             between its submit and the journal write is `unknown` (it may have been billed) and \
             is sent again only with --resubmit-unknown.\n\n\
             DIR also gets report.jsonl (each line's request id, status and files) and \
             gallery.html. Ctrl-C stops submitting, lets submits in flight record their request \
             ids, and exits (130); a second Ctrl-C exits at once.",
        )
        .after_help(
            "Examples:\n  runcomfy --mock batch prompts.jsonl --out shots\n  \
             runcomfy batch prompts.jsonl --out shots --model bytedance/seedream-4-0/sequential --concurrency 16\n  \
             runcomfy batch --resume shots\n\n\
             A line: {\"model\": \"bytedance/seedream-4-0/sequential\", \"key\": \"sunset\", \
             \"input\": {\"text\": \"Generate 3 images of a sunset.\"}}\n\n\
             Exit codes: 0 every line downloaded (every valid one, with --skip-invalid); 1 some \
             failed; 3 some are unknown (their \
             submit may have been accepted: they are not sent again without \
             --resubmit-unknown); 4 --max-spend left lines unsent; 64 DIR holds another \
             input's batch, or results with no journal; 65 invalid lines or an unreadable FILE \
             (nothing sent), or a line's local file moved, changed or unreadable since the \
             batch began (the line waits for the next run); 69 the API answered nothing for --give-up-after; 74 DIR cannot take \
             files; 75 lines left to finish (run again), the API asking to wait more than 10 min \
             before more submits, or DIR or its journal held by another process; 77 no token, or \
             it was refused; 130 interrupted (Ctrl-C, SIGTERM or SIGHUP).",
        )
        .arg(
            Arg::new("file")
                .value_name("FILE.jsonl")
                .value_hint(ValueHint::FilePath)
                .value_parser(crate::cli::non_empty())
                .required_unless_present("resume")
                .conflicts_with("resume")
                .help("One job per line: {\"model\", \"input\", \"key\"}"),
        )
        .arg(
            Arg::new("out")
                .long("out")
                .value_name("DIR")
                .value_hint(ValueHint::DirPath)
                .value_parser(crate::cli::non_empty())
                .required_unless_present_any(["resume", "dry_run"])
                .conflicts_with("resume")
                .help("The output folder: journal, each line's files, report and gallery"),
        )
        .arg(
            Arg::new("resume")
                .long("resume")
                .value_name("DIR")
                .value_hint(ValueHint::DirPath)
                .value_parser(crate::cli::non_empty())
                .help("Carry on the batch in DIR from its journal (no input file needed)"),
        )
        .arg(
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .default_value("8")
                .value_parser(clap::value_parser!(u16).range(1..=512))
                .help("Lines submitted or waited for at once"),
        )
        .arg(
            Arg::new("downloads")
                .long("downloads")
                .value_name("N")
                .default_value("4")
                .value_parser(clap::value_parser!(u16).range(1..=64))
                .help(
                    "Lines downloading their files at once (run's and result's --downloads \
                     count one job's files)",
                ),
        )
        .arg(
            Arg::new("model")
                .long("model")
                .value_name("MODEL")
                .value_parser(crate::cli::ModelId)
                .hide_possible_values(true)
                .conflicts_with("resume")
                .help("The model of lines that name none"),
        )
        .arg(
            Arg::new("skip_invalid")
                .long("skip-invalid")
                .action(ArgAction::SetTrue)
                .conflicts_with("resume")
                .help("Run the valid lines even if some are invalid (they are listed)"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help(
                    "Print how the batch ended as one JSON object on stdout (status, lines per \
                     state, failed/unknown/unfinished lines, spent, report and gallery paths); \
                     the summary goes to stderr. With --dry-run, the JSON lines it prints anyway",
                ),
        )
        .arg(
            Arg::new("dry_run")
                .long("dry-run")
                .action(ArgAction::SetTrue)
                .conflicts_with("resume")
                .help(
                    "Check every line, print each one's estimate and request body (media as \
                     name, size and sha256) as JSON lines, and the total; send nothing",
                ),
        )
        .arg(
            Arg::new("max_spend")
                .long("max-spend")
                .value_name("USD")
                .value_parser(crate::cli::parse_usd)
                // `-1` reaches the amount's own error, not "unexpected argument".
                .allow_negative_numbers(true)
                .help(
                    "Never send a line that could take the batch past USD: real costs of \
                     finished jobs plus estimates of running ones. Lines with no estimate are \
                     not sent under a budget. Unsent lines stay pending (exit 4); the budget is \
                     kept in the journal for --resume, and one given again replaces it",
                ),
        )
        .arg(
            Arg::new("no_max_spend")
                .long("no-max-spend")
                .action(ArgAction::SetTrue)
                .conflicts_with("max_spend")
                .help("Drop the budget the batch's journal keeps (from an earlier --max-spend)"),
        )
        .arg(
            Arg::new("give_up_after")
                .long("give-up-after")
                .value_name("DURATION")
                .value_parser(crate::duration::parse)
                .help(format!(
                    "Stop the batch (exit 69) once the server has answered nothing this long \
                     (default {}): every call failing to connect or with a server error. Its \
                     lines stay as they are, and running the batch again carries it on",
                    runcomfy_batch::progress::format_duration(runcomfy_batch::DEFAULT_GIVE_UP_AFTER)
                )),
        )
        .arg(
            Arg::new("unchecked")
                .long("unchecked")
                .action(ArgAction::SetTrue)
                .help(
                    "Run every line's model without its schema (one the catalog does not have \
                     yet, or whose schema here is out of date): each input sent as written, \
                     checked by the server alone, no local file read. Kept in the journal",
                ),
        )
        .arg(
            Arg::new("resubmit_unknown")
                .long("resubmit-unknown")
                .action(ArgAction::SetTrue)
                .help(
                    "Send `unknown` lines again: they may already have been accepted, and may \
                     be billed twice",
                ),
        )
}

/// Runs `batch`; returns the exit code.
pub async fn run(global: &ArgMatches, matches: &ArgMatches) -> Result<u8, CliError> {
    if matches.get_flag("dry_run") {
        return dry_run(global, matches).await;
    }
    let mut config = config_of(global, matches)?;
    // Before the simulator (whose state lives in DIR) or any submit, as `run` does.
    crate::output::check_out_dir(&config.out)?;
    let mock = global.get_flag("mock");
    let connection = if mock {
        mock_connection(&config.out, global, config.unchecked).await?
    } else {
        let mut connection = connect(global).await?;
        connection.remember_run_times();
        connection
    };
    config.server = Some(connection.server());
    let stop = Stop::new();
    runcomfy_batch::on_ctrl_c(&stop);
    let result = runcomfy_batch::run(&connection.client, &config, &stop).await;
    report_mock_state(&connection, &config.out);
    connection.close().await;
    Ok(show_result(result, matches.get_flag("json")))
}

/// `--model`: a model of the catalog, or with `--unchecked` any model id (refused here, before
/// any line is read, as `run` refuses one).
fn default_model(matches: &ArgMatches) -> Result<Option<&str>, CliError> {
    let Some(id) = matches.get_one::<String>("model") else {
        return Ok(None);
    };
    runcomfy_batch::input::model(id, matches.get_flag("unchecked")).map_err(CliError::Usage)?;
    Ok(Some(id))
}

/// The engine's settings from the command line.
fn config_of(global: &ArgMatches, matches: &ArgMatches) -> Result<BatchConfig, CliError> {
    let resume = matches.get_one::<String>("resume").map(PathBuf::from);
    let mut config = match (&resume, matches.get_one::<String>("file")) {
        (Some(dir), _) => BatchConfig::resume(dir),
        (None, Some(file)) => {
            let Some(out) = matches.get_one::<String>("out") else {
                return Err(CliError::Usage("batch: --out DIR is required".into()));
            };
            BatchConfig::new(file, out)
        }
        (None, None) => {
            return Err(CliError::Usage(
                "batch: give FILE.jsonl --out DIR, or --resume DIR".into(),
            ));
        }
    };
    config.default_model = default_model(matches)?.map(str::to_owned);
    config.unchecked = matches.get_flag("unchecked");
    config.concurrency = matches
        .get_one::<u16>("concurrency")
        .map_or(8, |n| *n as usize);
    config.downloads = matches
        .get_one::<u16>("downloads")
        .map_or(4, |n| *n as usize);
    config.skip_invalid = matches.get_flag("skip_invalid");
    config.max_spend = matches.get_one::<Usd>("max_spend").copied();
    config.no_max_spend = matches.get_flag("no_max_spend");
    config.resubmit_unknown = matches.get_flag("resubmit_unknown");
    if let Some(after) = matches.get_one::<Duration>("give_up_after") {
        config.give_up_after = *after;
    }
    config.progress = match crate::progress::Display::of(global) {
        crate::progress::Display::Auto => ProgressMode::Auto,
        crate::progress::Display::Lines => ProgressMode::Lines(Duration::from_secs(10)),
        crate::progress::Display::Quiet => ProgressMode::Hidden,
    };
    Ok(config)
}

/// Under `--mock`, says where the simulated server keeps its jobs and how many it took.
fn report_mock_state(connection: &Connection, out: &Path) {
    let state_file = out.join(runcomfy_batch::MOCK_STATE_FILE);
    if let Some(sim) = connection
        .simulator
        .as_ref()
        .filter(|_| state_file.exists())
    {
        let stats = sim.stats();
        eprintln_safe(&format!(
            "mock: the simulated server keeps its jobs in {}; {} over every run, {}",
            state_file.display(),
            count(stats.submissions, "submission", "submissions"),
            count(stats.duplicate_submissions, "duplicate", "duplicates")
        ));
    }
}

/// Prints how the batch ended (with `json`, as one object on stdout, the text on stderr);
/// returns the exit code.
fn show_result(result: Result<runcomfy_batch::Summary, BatchError>, json: bool) -> u8 {
    if json {
        let (value, code) = match &result {
            Ok(summary) => {
                eprintln_safe(&summary.to_string());
                (summary.to_json(), summary.exit_code())
            }
            Err(BatchError::Halted { summary, source }) => {
                eprintln_safe(&summary.to_string());
                let mut value = summary.to_json();
                value["status"] = "stopped".into();
                value["error"] = source.to_string().into();
                (value, halted_code(summary, source))
            }
            Err(err) => {
                eprintln_safe(&format!("error: {err}"));
                let value = match err {
                    // As the summary lists them (`--skip-invalid`): one shape (QA repro41 M2).
                    BatchError::Invalid { lines } => serde_json::json!({
                        "status": "invalid",
                        "invalid": lines.iter().map(|line| serde_json::json!({
                            "line": line.number,
                            "key": line.key,
                            "request_id": null,
                            "reason": line.problems.join("; "),
                            "problems": problems_json(line),
                        })).collect::<Vec<_>>(),
                    }),
                    err => serde_json::json!({"status": "error", "error": err.to_string()}),
                };
                (value, error_code(err))
            }
        };
        output::json(&value);
        return code;
    }
    match result {
        Ok(summary) => {
            output::line(&summary.to_string());
            summary.exit_code()
        }
        Err(BatchError::Invalid { lines }) => {
            eprintln_safe(&format!(
                "error: {}; nothing was submitted (fix {}, or --skip-invalid)",
                count(lines.len() as u64, "invalid line", "invalid lines"),
                if lines.len() == 1 { "it" } else { "them" }
            ));
            for line in &lines {
                eprintln_safe(&format!("  {line}"));
            }
            exit::DATA_ERR
        }
        Err(BatchError::Halted { summary, source }) => {
            output::line(&summary.to_string());
            eprintln_safe(&format!("error: the batch stopped: {source}"));
            halted_code(&summary, &source)
        }
        Err(err) => {
            eprintln_safe(&format!("error: {err}"));
            error_code(&err)
        }
    }
}

/// The exit code of a batch that stopped: lines whose submit may have been billed outrank why
/// it stopped, as a script must not retry them blindly.
fn halted_code(summary: &runcomfy_batch::Summary, source: &BatchError) -> u8 {
    match error_code(source) {
        exit::INTERRUPTED => exit::INTERRUPTED,
        _ if !summary.unknown.is_empty() => exit::MAYBE_ACCEPTED,
        code => code,
    }
}

/// `batch --dry-run`: every line checked, its estimate and body printed (JSON lines on
/// stdout), and the total on stderr; nothing is sent. Prices are today's when the API can be
/// asked (reading them submits nothing), the catalog's otherwise.
async fn dry_run(global: &ArgMatches, matches: &ArgMatches) -> Result<u8, CliError> {
    let Some(file) = matches.get_one::<String>("file") else {
        return Err(CliError::Usage("batch --dry-run: which FILE.jsonl?".into()));
    };
    let default_model = default_model(matches)?;
    let skip_invalid = matches.get_flag("skip_invalid");
    let unchecked = matches.get_flag("unchecked");
    let (plan, refused) =
        match checked_plan(Path::new(file), default_model, unchecked, skip_invalid) {
            Ok(plan) => plan,
            Err(code) => return Ok(code),
        };
    // A batch begun in --out already: the run would send only its lines still to send, within
    // what it has spent.
    let begun = match matches.get_one::<String>("out") {
        Some(_) => match runcomfy_batch::begun(&config_of(global, matches)?) {
            Ok(begun) => begun,
            Err(err) => {
                eprintln_safe(&format!("error: {err}"));
                return Ok(error_code(&err));
            }
        },
        None => None,
    };
    let resubmit_unknown = matches.get_flag("resubmit_unknown");
    let lines: Vec<&runcomfy_batch::input::Line> = match &begun {
        Some(begun) => {
            let to_send: HashSet<u64> = begun
                .rows
                .iter()
                .filter(|row| match row.state {
                    State::Pending => true,
                    State::Unknown => resubmit_unknown,
                    _ => false,
                })
                .map(|row| row.number)
                .collect();
            eprintln_safe(&format!(
                "dry run of the batch begun in {}: {} to send of {} (the others ended, run, or \
                 are unknown)",
                matches.get_one::<String>("out").map_or("", String::as_str),
                count(to_send.len() as u64, "line", "lines"),
                plan.lines.len()
            ));
            plan.lines
                .iter()
                .filter(|line| to_send.contains(&line.number))
                .collect()
        }
        None => plan.lines.iter().collect(),
    };
    let max_spend = match &begun {
        Some(begun) => begun.max_spend,
        None => matches.get_one::<Usd>("max_spend").copied(),
    };
    let ids: Vec<String> = lines.iter().map(|l| l.model.id.to_owned()).collect();
    let Some(prices) = Interrupts::listen()
        .race(todays_prices(
            global,
            &ids,
            plan.unchecked,
            max_spend.is_some(),
        ))
        .await
    else {
        eprintln_safe("interrupted: nothing was shown");
        return Ok(exit::INTERRUPTED);
    };
    let prices = prices?;
    // Every line's object, in the file's order (QA repro42 N4: the invalid ones came first).
    let mut invalid = plan.invalid.iter().peekable();
    let mut estimates = Vec::with_capacity(lines.len());
    for line in lines {
        while let Some(before) = invalid.next_if(|bad| bad.number < line.number) {
            show_invalid(before);
        }
        estimates.push((line.number, show_line(line, &prices)?));
    }
    invalid.for_each(show_invalid);
    show_total(&estimates);
    if refused {
        return Ok(exit::DATA_ERR);
    }
    let spent = begun.as_ref().map(runcomfy_batch::Begun::spending);
    match max_spend {
        Some(max) => Ok(show_budget(&estimates, max, spent.as_ref())),
        None => Ok(exit::OK),
    }
}

/// The input's plan, its invalid lines listed, and whether they refuse the batch (the dry run
/// still shows the valid lines: QA repro41 L14); the exit code when the input cannot be read.
fn checked_plan(
    file: &Path,
    default_model: Option<&str>,
    unchecked: bool,
    skip_invalid: bool,
) -> Result<(runcomfy_batch::Plan, bool), u8> {
    let plan = match runcomfy_batch::input::read(file, default_model, unchecked) {
        Ok(plan) => plan,
        Err(err) => {
            eprintln_safe(&format!("error: {err}"));
            return Err(error_code(&err));
        }
    };
    if !plan.invalid.is_empty() {
        let invalid = count(plan.invalid.len() as u64, "invalid line", "invalid lines");
        eprintln_safe(&match skip_invalid && !plan.lines.is_empty() {
            true => format!("warning: {invalid}, skipped (--skip-invalid)"),
            false => format!(
                "error: {invalid}; nothing would be submitted (fix {}, or --skip-invalid)",
                if plan.invalid.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ),
        });
        for line in &plan.invalid {
            eprintln_safe(&format!("  {line}"));
        }
    }
    let refused = !plan.invalid.is_empty() && (!skip_invalid || plan.lines.is_empty());
    for warning in plan
        .lines
        .iter()
        .flat_map(runcomfy_batch::input::Line::warnings)
    {
        eprintln_safe(&warning);
    }
    Ok((plan, refused))
}

/// The plan's models' prices, as the batch would ask for them (a budget waits longer): today's
/// from the API when it can be reached, else the catalog's. A token the API refuses is, under
/// a budget, the error the batch would stop with.
async fn todays_prices(
    global: &ArgMatches,
    ids: &[String],
    unchecked: bool,
    budget: bool,
) -> Result<HashMap<String, Price>, CliError> {
    let connection = match connect_unchecked(global, unchecked).await {
        Ok(connection) => Some(connection),
        // A budget needs today's prices, as the batch asks them (QA repro46 D1).
        Err(err) if budget && err.exit_code() == exit::NO_PERM => return Err(err),
        Err(err) => {
            eprintln_safe(&format!(
                "note: the API cannot be asked for today's prices ({err}); using the \
                 catalog's prices"
            ));
            None
        }
    };
    let client = connection.as_ref().map(|c| &c.client);
    // Ctrl-C is heard by the caller, which drops this look-up.
    let never = Stop::new();
    let prices =
        runcomfy_batch::todays_prices(client, ids, unchecked, budget, &never, eprintln_safe).await;
    if let Some(connection) = connection {
        connection.close().await;
    }
    match prices.refused {
        Some(refused) if budget => Err(CliError::Api(refused)),
        _ => Ok(prices.by_model),
    }
}

/// Prints a line's estimate and request body (JSON on stdout, the estimate on stderr);
/// returns the estimate's dollars, if it has them.
fn show_line(
    line: &runcomfy_batch::input::Line,
    prices: &HashMap<String, Price>,
) -> Result<Option<Usd>, CliError> {
    let model = line.model;
    let price = prices.get(model.id).cloned().unwrap_or_default();
    let estimate = runcomfy::estimate::estimate(model, &price, &line.input);
    let given = line.input.as_object().cloned().unwrap_or_default();
    let body = model
        .decode(&line.input)
        .map_err(runcomfy::Error::from)
        .and_then(|decoded| decoded.encode(runcomfy::client::DEFAULT_MAX_BODY_BYTES))
        .map_err(CliError::from)
        .and_then(|bytes| {
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| CliError::Input(format!("line {}: {e}", line.number)))
        })?;
    let body = runcomfy::provenance::body_summary(model, &given, &body);
    crate::output::json_line(&json!({
        "line": line.number,
        "key": line.key,
        "model": model.id,
        "estimate": estimate.to_json(),
        "body": body,
        "warnings": line.warnings,
    }));
    let key = line
        .key
        .as_deref()
        .map(|k| format!(" ({k})"))
        .unwrap_or_default();
    eprintln_safe(&format!("line {}{key}: {estimate}", line.number));
    Ok(estimate.usd())
}

/// An invalid line's JSON object, as a valid line gets one: a script reading stdout sees why.
fn show_invalid(line: &runcomfy_batch::input::InvalidLine) {
    crate::output::json_line(&json!({
        "line": line.number,
        "key": line.key,
        "model": line.model,
        "invalid": line.problems,
        "problems": problems_json(line),
    }));
}

/// An invalid line's schema problems as `run --json` lists an input's (`path`, `pointer`,
/// `rule`, `message`, `value`, `given`): a script reads them alike (QA repro41 M2, repro46
/// D9: the batch gave only text).
fn problems_json(line: &runcomfy_batch::input::InvalidLine) -> Value {
    output::problems_json(&line.found, line.input.as_deref())
}

/// Prints the dry run's total, and the lines without an estimate.
fn show_total(estimates: &[(u64, Option<Usd>)]) {
    let total = estimates
        .iter()
        .filter_map(|(_, usd)| *usd)
        .fold(Usd::ZERO, Usd::saturating_add);
    let without: Vec<u64> = estimates
        .iter()
        .filter(|(_, usd)| usd.is_none())
        .map(|(line, _)| *line)
        .collect();
    let without_text = if without.is_empty() {
        String::new()
    } else {
        format!(
            "; {} no estimate (not sent under --max-spend): {}",
            match without.len() {
                1 => "1 line has".to_owned(),
                n => format!("{n} lines have"),
            },
            runcomfy_batch::report::lines_named(&without)
        )
    };
    eprintln_safe(&format!(
        "dry run: {}, estimated total {total}{without_text}; nothing was sent",
        count(estimates.len() as u64, "line", "lines")
    ));
}

/// Says which lines `--max-spend max` would leave unsent if every job cost its estimate (the
/// batch sends the lines in order, each if its estimate fits in what is left after what a
/// batch begun already has `spent`, none without one, and none once something may have cost
/// anything); the exit code the batch would have: [`exit::OVER_BUDGET`] when it leaves any.
fn show_budget(estimates: &[(u64, Option<Usd>)], max: Usd, spent: Option<&Spending>) -> u8 {
    let already = spent.map_or(Usd::ZERO, Spending::committed);
    let unbounded = spent.is_some_and(|spent| !spent.unbounded.is_empty());
    let mut left = max.saturating_sub(already);
    let mut unsent = Vec::new();
    for (line, usd) in estimates {
        match usd.filter(|usd| *usd <= left && !unbounded && already <= max) {
            Some(usd) => left = left.saturating_sub(usd),
            None => unsent.push(*line),
        }
    }
    let before = match spent {
        Some(spent) if !spent.unbounded.is_empty() => format!(
            ", after {} which may have cost anything (no estimate, no cost said)",
            runcomfy_batch::report::lines_named(&spent.unbounded)
        ),
        Some(_) => format!(", {already} of it spent or running already"),
        None => String::new(),
    };
    if unsent.is_empty() {
        eprintln_safe(&format!("--max-spend {max}{before}: every line fits"));
        return exit::OK;
    }
    eprintln_safe(&format!(
        "--max-spend {max}{before}: {} would be left unsent if each job cost its estimate ({} \
         sent, {} of the budget)",
        runcomfy_batch::report::lines_named(&unsent),
        count((estimates.len() - unsent.len()) as u64, "line", "lines"),
        max.saturating_sub(left)
    ));
    exit::OVER_BUDGET
}

/// The exit code of a batch error.
fn error_code(err: &BatchError) -> u8 {
    match err {
        // An input that cannot be read is invalid input, as `run --input @FILE` has it.
        BatchError::Invalid { .. }
        | BatchError::Empty { .. }
        | BatchError::ReadInput { .. }
        | BatchError::LineUnreadable { .. } => exit::DATA_ERR,
        BatchError::InputMismatch { .. }
        | BatchError::SettingMismatch { .. }
        | BatchError::NoJournal { .. }
        | BatchError::EarlierResults { .. }
        | BatchError::ResultsOfAnotherInput { .. } => exit::USAGE,
        BatchError::Busy { .. } => exit::TEMP_FAIL,
        // Held by another program (a viewer, a backup): free again later.
        err if err.is_journal_busy() => exit::TEMP_FAIL,
        BatchError::Journal { .. }
        | BatchError::JournalFormat { .. }
        | BatchError::JournalGone { .. }
        | BatchError::Io { .. } => exit::IO_ERR,
        BatchError::Refused(api) => exit::api_exit_code(api),
        BatchError::Unreachable { .. } => exit::UNAVAILABLE,
        BatchError::RateLimited { .. } => exit::TEMP_FAIL,
        BatchError::Halted { source, .. } => error_code(source),
        _ => exit::FAILURE,
    }
}

/// `--mock` for a batch: the in-process simulator keeps its jobs in the output folder, so after
/// Ctrl-C a rerun finds the jobs it submitted, as it would on the real service.
async fn mock_connection(
    out: &Path,
    global: &ArgMatches,
    unchecked: bool,
) -> Result<Connection, CliError> {
    let config = SimConfig {
        workers: 8,
        any_model: unchecked,
        state_file: Some(out.join(runcomfy_batch::MOCK_STATE_FILE)),
        ..connect::mock_config()
    };
    connect::mock(config, connect::poll_secs(global)).await
}
