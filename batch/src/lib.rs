//! `runcomfy batch`: run a JSONL file of jobs against RunComfy's Model API, durably.
//!
//! Each input line is `{"model": "...", "input": {...}, "key": "optional"}`. Every line is
//! validated before anything is sent. A SQLite journal in the output folder records each line
//! as it moves through `pending → submitting → submitted → downloaded | failed | unknown`,
//! committing `submitting` before the POST and the request id right after it, so a batch
//! killed at any point carries on when run again and never pays twice for a line. The output
//! folder ends up with each line's files in `<line or key>/`, `report.jsonl` and
//! `gallery.html`.
//!
//! ```no_run
//! # async fn demo(client: runcomfy::Client) -> Result<(), runcomfy_batch::BatchError> {
//! use runcomfy_batch::{BatchConfig, Stop};
//! let config = BatchConfig::new("prompts.jsonl", "out");
//! let stop = Stop::new();
//! runcomfy_batch::on_ctrl_c(&stop);
//! let summary = runcomfy_batch::run(&client, &config, &stop).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```

#![warn(clippy::unwrap_used, clippy::expect_used)]

mod budget;
mod error;
pub mod gallery;
pub mod input;
pub mod journal;
mod outage;
pub mod progress;
mod record;
pub mod report;
mod scheduler;
pub mod spending;
mod stop;
mod unrecorded;

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use runcomfy::price::{Price, Usd};
use runcomfy::{Client, PollHistorySnapshot};

pub use error::BatchError;
pub use input::{InvalidLine, Plan};
pub use journal::{Journal, State};
pub use outage::DEFAULT_GIVE_UP_AFTER;
pub use progress::ProgressMode;
pub use report::Summary;
pub use stop::{Signals, Stop, on_ctrl_c};

/// Held (with an OS file lock) while a batch runs in a folder, so two batches never share one.
pub const LOCK_FILE: &str = ".runcomfy-batch.lock";

/// The longest `Retry-After` a batch pauses its submits for: a server asking for more stops
/// the batch ([`BatchError::RateLimited`]), to be run again later, rather than leave it silent
/// for hours.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

/// Where `--mock` keeps its simulated server's jobs, so a rerun finds them (see the CLI).
pub const MOCK_STATE_FILE: &str = ".mock-simulator.json";

/// What to run and how.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// The JSONL file; `None` resumes the batch in `out` from its journal alone.
    pub input: Option<PathBuf>,
    /// The output folder (journal, files, report, gallery).
    pub out: PathBuf,
    /// The model of lines that name none.
    pub default_model: Option<String>,
    /// `--unchecked`: every line's model runs [`unchecked`](runcomfy::unchecked) (one the
    /// catalog lacks, or whose schema here is stale), its input sent as written. Kept in the
    /// journal: a resumed batch keeps it, and one given otherwise for the same file is refused.
    pub unchecked: bool,
    /// Lines submitted or waited for at once.
    pub concurrency: usize,
    /// Lines downloading at once.
    pub downloads: usize,
    /// Run the valid lines even when some are invalid.
    pub skip_invalid: bool,
    /// Send `unknown` lines again (they may be billed twice).
    pub resubmit_unknown: bool,
    /// How progress is shown.
    pub progress: ProgressMode,
    /// Which server the batch talks to (a base URL, or `mock`): recorded when the batch
    /// starts, and a run against another one is refused, since its request ids would mean
    /// nothing there. `None` skips the check.
    pub server: Option<String>,
    /// `--max-spend`: the budget, kept in the journal so a resumed batch keeps it (one given
    /// again replaces it). See the `budget` module for what counts.
    pub max_spend: Option<Usd>,
    /// `--no-max-spend`: drop the budget the journal keeps (with `max_spend` unset).
    pub no_max_spend: bool,
    /// How long the server may go unanswered (every call failing to connect, or with a
    /// server error) before the batch stops ([`BatchError::Unreachable`]), rather than each
    /// line retrying on its own for many minutes.
    pub give_up_after: std::time::Duration,
}

impl BatchConfig {
    /// Runs `input` into `out`: 8 lines at once, 4 downloading, progress on stderr.
    pub fn new(input: impl Into<PathBuf>, out: impl Into<PathBuf>) -> BatchConfig {
        BatchConfig {
            input: Some(input.into()),
            ..BatchConfig::resume(out)
        }
    }

    /// Carries on the batch in `out`, from its journal.
    pub fn resume(out: impl Into<PathBuf>) -> BatchConfig {
        BatchConfig {
            input: None,
            out: out.into(),
            default_model: None,
            unchecked: false,
            concurrency: 8,
            downloads: 4,
            skip_invalid: false,
            resubmit_unknown: false,
            progress: ProgressMode::Auto,
            server: None,
            max_spend: None,
            no_max_spend: false,
            give_up_after: DEFAULT_GIVE_UP_AFTER,
        }
    }
}

/// Runs (or carries on) a batch until every line has ended or `stop` is requested.
///
/// Invalid input gives [`BatchError::Invalid`] with every bad line, and nothing is sent
/// (unless `skip_invalid`). A batch stopped by the server (a refused token, no balance) or
/// the journal gives [`BatchError::Halted`], with the summary.
pub async fn run(
    client: &Client,
    config: &BatchConfig,
    stop: &Stop,
) -> Result<Summary, BatchError> {
    let out = config.out.as_path();
    let (_lock, mut journal, warnings) = open_batch(config)?;

    let adopted = adopt_unrecorded(&journal, out)?;
    let behind = adopt_recorded(&journal, out, &server_of(&journal, client))?;
    let recovered = journal.recover_interrupted()?;
    let refetched = fetch_again_what_is_gone(&journal, out, "fetched again")?;
    let max_spend = budget_of(&journal, config)?;
    // The journal's word: a resumed batch keeps how it started.
    let unchecked = is_unchecked(&journal)?;
    record_estimates(
        client,
        &mut journal,
        unchecked,
        max_spend.is_some(),
        config.resubmit_unknown,
        config.progress,
        stop,
    )
    .await?;
    let rows = journal.rows()?;
    let budget = max_spend.map(|limit| budget::Budget::new(limit, &rows));
    let cleaned = clean_temp_files(out, &rows);
    if let Some(saved) = journal.meta(POLL_HISTORY)?
        && let Ok(snapshot) = serde_json::from_str::<PollHistorySnapshot>(&saved)
    {
        client.import_poll_history(&snapshot);
    }

    let valid = rows.iter().filter(|r| r.state != State::Invalid).count() as u64;
    // Unknown lines are sent again only with --resubmit-unknown, and stay unknown in the
    // journal until a resend is taken: a run that stops first leaves them as they were.
    let requeued = rows
        .iter()
        .filter(|r| config.resubmit_unknown && r.state == State::Unknown)
        .count();
    let (work, ended): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .filter(|r| r.state != State::Invalid)
        .partition(|r| match r.state {
            State::Pending | State::Submitted => true,
            State::Unknown => config.resubmit_unknown,
            _ => false,
        });
    let progress = progress::Progress::start(config.progress, valid, ended.len() as u64);
    for warning in &warnings {
        progress.println(warning);
    }
    for (line, id) in &adopted {
        progress.println(&format!(
            "line {line}: accepted as request {id} in the last run, which could not journal it: \
             followed now, not sent again"
        ));
    }
    for (line, found) in &behind {
        progress.println(&match found {
            Behind::Followed(id) => format!(
                "line {line}: its folder holds the record of request {id}, which the journal did \
                 not keep (it lost writes in a crash?): followed now, not sent again"
            ),
            Behind::Unknown(why) => format!(
                "line {line}: its folder holds a record {why}: it may have been sent, so it is \
                 unknown, not sent again (--resubmit-unknown sends it)"
            ),
        });
    }
    if !refetched.is_empty() {
        progress.println(&format!(
            "{} downloaded before no longer {} as saved (a file gone or changed, or the \
             record): fetched again, not sent again",
            report::lines_named(&refetched),
            if refetched.len() == 1 {
                "has its files"
            } else {
                "have their files"
            }
        ));
    }
    announce_start(&progress, &recovered, requeued, cleaned, budget.as_ref());
    let journal = Arc::new(Mutex::new(journal));
    let limits = scheduler::RunLimits {
        concurrency: config.concurrency,
        downloads: config.downloads,
        budget,
        give_up_after: config.give_up_after,
        unchecked,
    };
    let ran = scheduler::run(
        client,
        Arc::clone(&journal),
        out,
        work,
        limits,
        progress.clone(),
        stop,
    )
    .await;
    progress.finish();

    let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
    // Removed while the batch ran (the output folder deleted): SQLite went on writing to the
    // file it had open, and the files saved before are gone with it. The report written now
    // keeps each line's request id; success would be a lie (QA repro37 M1: "batch complete").
    let journal_path = Journal::path_in(out);
    let gone = !journal_path.is_file();
    if gone {
        fail_what_went_with_the_folder(&mut journal, out)?;
    } else {
        // Files removed while the batch ran (a line's folder deleted): not downloaded, said
        // as unfinished for the next run to fetch (QA repro39 F7: "batch complete").
        fetch_again_what_is_gone(&journal, out, "running the batch again fetches it")?;
    }
    let mut summary = write_outputs(client, &journal, out)?;
    summary.recovered_unknown = recovered;
    summary.interrupted = stop.is_requested();
    summary.submitted_now = ran.submitted;
    summary.max_spend = max_spend;
    summary.mark_unsent(&ran.unsent);
    let fatal = match ran.fatal {
        None if gone => Some(BatchError::JournalGone { path: journal_path }),
        fatal => fatal,
    };
    match fatal {
        None => Ok(summary),
        Some(source) => Err(BatchError::Halted {
            summary: Box::new(summary),
            source: Box::new(source),
        }),
    }
}

/// Creates (or reopens) the output folder's journal under its lock, its lines written
/// and checked against this run's input, model and server; with a new batch's validation
/// warnings, said before its first line is sent (a batch carried on said them when it began).
fn open_batch(config: &BatchConfig) -> Result<(File, Journal, Vec<String>), BatchError> {
    let out = config.out.as_path();
    let journal_exists = Journal::path_in(out).is_file();
    // A new batch is checked before the folder is touched: invalid input leaves nothing.
    let plan = match &config.input {
        Some(path) if !journal_exists => Some(load_plan(path, config)?),
        Some(_) => None,
        None if journal_exists => None,
        None => {
            return Err(BatchError::NoJournal {
                dir: out.to_owned(),
            });
        }
    };
    let warnings = plan
        .iter()
        .flat_map(|plan| &plan.lines)
        .flat_map(input::Line::warnings)
        .collect();
    std::fs::create_dir_all(out).map_err(BatchError::io(out))?;
    let lock = lock(out)?;
    // A journal file that is missing or empty (never initialized) starts a new batch.
    if std::fs::metadata(Journal::path_in(out)).map_or(true, |m| m.len() == 0) {
        refuse_earlier_results(out)?;
    }
    let mut journal = Journal::open(out)?;
    if !journal.is_initialized()? {
        // A journal file whose lines were never written (a crash at the very start).
        let plan = match (plan, &config.input) {
            (Some(plan), _) => plan,
            (None, Some(path)) => load_plan(path, config)?,
            (None, None) => {
                return Err(BatchError::NoJournal {
                    dir: out.to_owned(),
                });
            }
        };
        check_records_are_the_plans(out, &plan)?;
        let input_path = config
            .input
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        journal.initialize(&plan, &input_path, config.default_model.as_deref())?;
    } else if let Some(path) = &config.input {
        check_same_batch(&journal, out, path, config)?;
    }
    check_same_server(&journal, out, config)?;
    Ok((lock, journal, warnings))
}

/// Records the estimate of each line about to be sent (pending, or unknown and sent again with
/// `resend_unknown`) at today's prices ([`todays_prices`]), as a dry run shows them and a
/// budget counts them; an unknown line's earlier submits keep the estimates they were sent
/// with (`unseen`). The journal is taken
/// `&mut` because it is not `Sync`: a shared borrow held across the price look-ups would make
/// the batch not `Send`.
async fn record_estimates(
    client: &Client,
    journal: &mut Journal,
    unchecked: bool,
    budget: bool,
    resend_unknown: bool,
    progress: ProgressMode,
    stop: &Stop,
) -> Result<(), BatchError> {
    let rows = journal.rows()?;
    let to_send = |r: &&journal::Row| {
        r.state == State::Pending || (resend_unknown && r.state == State::Unknown)
    };
    let ids: Vec<String> = rows
        .iter()
        .filter(to_send)
        .filter_map(|r| r.model.clone())
        .collect();
    let say = |text: &str| {
        if progress != ProgressMode::Hidden {
            progress::say(text);
        }
    };
    let prices = todays_prices(Some(client), &ids, unchecked, budget, stop, say).await;
    // A budget needs the prices: with the token refused, its lines would be left unsent as if
    // over it (QA repro35 L1). Without one a price only informs, as a run's does.
    if budget && let Some(refused) = prices.refused {
        return Err(BatchError::Refused(refused));
    }
    let prices = prices.by_model;
    for row in rows.iter().filter(to_send) {
        let estimate = estimate_row(row, &prices, unchecked);
        let (usd, basis) = match &estimate {
            Some(estimate) => (estimate.usd(), estimate.to_string()),
            None => (
                None,
                "no estimate: the line has no readable input".to_owned(),
            ),
        };
        journal.set_estimate(row.number, usd, &basis)?;
    }
    Ok(())
}

/// Today's prices of the models named, as a batch asks for them: side by side, the catalog's
/// where the API cannot say in time. Without a budget they only inform, so a server slow to say
/// them is given [`PRICES_WAIT`]; a budget needs them, so it gives [`BUDGET_PRICES_WAIT`] and
/// says (through `say`) that it waits. Each price not read is said too. A stop ends the wait
/// with the catalog's prices. Without a client, the catalog's.
pub async fn todays_prices(
    client: Option<&Client>,
    ids: &[String],
    unchecked: bool,
    budget: bool,
    stop: &Stop,
    say: impl Fn(&str),
) -> Prices {
    let wait = if budget {
        BUDGET_PRICES_WAIT
    } else {
        PRICES_WAIT
    };
    let asking = prices(client, ids, unchecked, wait);
    tokio::pin!(asking);
    let asked = tokio::select! {
        biased;
        () = stop.requested() => None,
        prices = tokio::time::timeout(PRICES_WAIT, &mut asking) => prices.ok(),
    };
    let asked = match asked {
        Some(prices) => Some(prices),
        None if stop.is_requested() => None,
        None => {
            if budget {
                say(&format!(
                    "waiting for today's prices for the budget (--max-spend): the API has not \
                     answered in {}s; waiting up to {}s in all",
                    PRICES_WAIT.as_secs(),
                    BUDGET_PRICES_WAIT.as_secs()
                ));
            }
            tokio::select! {
                biased;
                () = stop.requested() => None,
                prices = &mut asking => Some(prices),
            }
        }
    };
    // Stopped while asking: the catalog's, for the lines the stop leaves pending.
    let prices = match asked {
        Some(prices) => prices,
        None => prices(None, ids, unchecked, Duration::ZERO).await,
    };
    for warning in &prices.unread {
        say(warning);
    }
    prices
}

/// How long a batch without a budget waits for today's prices, and one with a budget waits
/// before saying it is waiting.
pub const PRICES_WAIT: Duration = Duration::from_secs(5);

/// How long a batch with a budget waits for today's prices in all: a price not read by then is
/// the catalog's, which for most models has no rate, and a line with no estimate is not sent
/// under a budget.
pub const BUDGET_PRICES_WAIT: Duration = Duration::from_secs(30);

/// Tells what this run found before starting: lines left unknown, those sent again,
/// temporary files removed, the budget.
fn announce_start(
    progress: &progress::Progress,
    recovered: &[u64],
    requeued: usize,
    cleaned: usize,
    budget: Option<&budget::Budget>,
) {
    if !recovered.is_empty() {
        let fate = if requeued > 0 {
            "sent again (--resubmit-unknown)"
        } else {
            "marked unknown, not sent again"
        };
        let lines = match recovered.len() {
            1 => "1 line was".to_owned(),
            n => format!("{n} lines were"),
        };
        progress.println(&format!(
            "{lines} being submitted when the last run stopped and may have been accepted: \
             {fate} ({})",
            report::lines_named(recovered)
        ));
    }
    if requeued > 0 {
        let (lines, are) = match requeued {
            1 => ("1 unknown line is".to_owned(), "its earlier submit counts"),
            n => (
                format!("{n} unknown lines are"),
                "each earlier submit counts",
            ),
        };
        progress.println(&format!(
            "{lines} sent again (--resubmit-unknown); under --max-spend {are} at its \
             estimate, as it may have been billed"
        ));
    }
    if cleaned > 0 {
        progress.println(&format!(
            "removed {} left by an interrupted run",
            report::count(cleaned as u64, "temporary file", "temporary files")
        ));
    }
    if let Some(budget) = budget {
        let unbounded = budget.unbounded();
        let anything = match unbounded.is_empty() {
            true => String::new(),
            false => format!(
                ", and {} may have been billed with neither an estimate nor a cost (nothing \
                 more is sent under a budget)",
                report::lines_named(&unbounded)
            ),
        };
        progress.println(&format!(
            "budget: --max-spend {}; {} spent or running so far{anything}",
            budget.limit(),
            budget.committed()
        ));
    }
}

/// A batch begun already in an output folder, as a dry run of it starts from.
#[derive(Debug)]
pub struct Begun {
    /// Its lines, as the journal has them.
    pub rows: Vec<journal::Row>,
    /// The budget the run would have: `--max-spend` given, else the journal's (unless
    /// `--no-max-spend`).
    pub max_spend: Option<Usd>,
}

impl Begun {
    /// What the batch has spent, or may have.
    pub fn spending(&self) -> spending::Spending {
        spending::Spending::of(&self.rows)
    }
}

/// The batch begun in `config.out`, if its journal holds one, after the checks a run of
/// `config` makes (the same input file and `--model`): what a dry run must start from, since
/// the run would send only the lines still to send, within what is spent already. Reads the
/// journal without taking the batch's lock: a batch running there may move on meanwhile.
pub fn begun(config: &BatchConfig) -> Result<Option<Begun>, BatchError> {
    let out = config.out.as_path();
    if std::fs::metadata(Journal::path_in(out)).map_or(true, |m| m.len() == 0) {
        return Ok(None);
    }
    let journal = Journal::open(out)?;
    if !journal.is_initialized()? {
        return Ok(None);
    }
    if let Some(path) = &config.input {
        check_same_batch(&journal, out, path, config)?;
    }
    let max_spend = match (config.max_spend, config.no_max_spend) {
        (Some(limit), _) => Some(limit),
        (None, true) => None,
        (None, false) => kept_budget(&journal)?,
    };
    Ok(Some(Begun {
        rows: journal.rows()?,
        max_spend,
    }))
}

/// The server the batch sends to, as its records and report name it: the journal's (a base
/// URL, or `mock`), else the client's base URL.
fn server_of(journal: &Journal, client: &Client) -> String {
    journal
        .meta("server")
        .ok()
        .flatten()
        .unwrap_or_else(|| client.base_url().to_string())
}

/// Saves the poll history, writes the report and gallery, and sums up the journal.
fn write_outputs(client: &Client, journal: &Journal, out: &Path) -> Result<Summary, BatchError> {
    if let Ok(history) = serde_json::to_string(&client.poll_history()) {
        journal.set_meta(POLL_HISTORY, &history)?;
    }
    let mut rows = journal.rows()?;
    // A job accepted while the journal could not record it: its id, kept beside it.
    for entry in unrecorded::read(out) {
        if let Some(row) = rows
            .iter_mut()
            .find(|row| row.number == entry.line && row.state == State::Submitting)
        {
            row.request_id = Some(entry.request_id);
        }
    }
    let files = journal.files()?;
    report::write_report(out, &server_of(journal, client), &rows, &files)?;
    gallery::write_gallery(out, &rows, &files)?;
    Ok(Summary::from_rows(out, &rows))
}

/// The budget: `--max-spend` given now (recorded in the journal), else the one recorded.
fn budget_of(journal: &Journal, config: &BatchConfig) -> Result<Option<Usd>, BatchError> {
    if let Some(limit) = config.max_spend {
        journal.set_meta(journal::MAX_SPEND, &limit.nanos().to_string())?;
        return Ok(Some(limit));
    }
    if config.no_max_spend {
        journal.remove_meta(journal::MAX_SPEND)?;
        return Ok(None);
    }
    kept_budget(journal)
}

/// The budget the journal keeps.
fn kept_budget(journal: &Journal) -> Result<Option<Usd>, BatchError> {
    Ok(journal
        .meta(journal::MAX_SPEND)?
        .and_then(|n| n.parse::<u64>().ok())
        .map(Usd::from_nanos))
}

/// The price of each model named: today's from the API when a client is given, the models
/// asked side by side and each given `wait` at most (the catalog's where the API cannot say in
/// time), else the catalog's.
async fn prices(
    client: Option<&Client>,
    ids: &[String],
    unchecked: bool,
    wait: Duration,
) -> Prices {
    let models: std::collections::BTreeMap<&str, &'static runcomfy::catalog::ModelInfo> = ids
        .iter()
        .filter_map(|id| input::model(id, unchecked).ok())
        .map(|model| (model.id, model))
        .collect();
    let lookups = models.into_values().map(|model| async move {
        let catalog = model.upstream.price.clone();
        let Some(client) = client else {
            return (model, catalog, None);
        };
        match tokio::time::timeout(wait, client.estimate_price(model)).await {
            Ok(price) => (model, price.price, price.unread.map(Unread::Failed)),
            Err(_) => (model, catalog, Some(Unread::NoAnswer(wait))),
        }
    });
    let mut prices = Prices::default();
    for (model, price, unread) in futures::future::join_all(lookups).await {
        let unread = unread.map(|unread| match unread {
            Unread::NoAnswer(wait) => format!("no answer within {}s", wait.as_secs()),
            Unread::Failed(err) => {
                let why = err.to_string();
                if err.is_token_refused() && prices.refused.is_none() {
                    prices.refused = Some(err);
                }
                why
            }
        });
        if let Some(why) = unread {
            let fallback = if price.usd.is_some() {
                "the catalog's is used"
            } else {
                "the catalog has no rate either, so its lines have no estimate"
            };
            prices.unread.push(format!(
                "warning: today's price of {} was not read ({why}); {fallback}",
                model.id
            ));
        }
        prices.by_model.insert(model.id.to_owned(), price);
    }
    prices
}

/// The prices [`todays_prices`] found, and a warning for each model whose price today was not
/// read.
#[derive(Debug, Default)]
pub struct Prices {
    /// Each model's price, by id.
    pub by_model: std::collections::HashMap<String, Price>,
    /// One line for each model today's price of which was not read.
    pub unread: Vec<String>,
    /// The API refused the token when asked a price: a submit would be refused too.
    pub refused: Option<runcomfy::Error>,
}

/// Why today's price of a model was not read.
enum Unread {
    NoAnswer(Duration),
    Failed(runcomfy::Error),
}

/// A row's estimate at `prices` (its model run `unchecked` or not); `None` when it has no
/// model or input.
pub fn estimate_row(
    row: &journal::Row,
    prices: &std::collections::HashMap<String, Price>,
    unchecked: bool,
) -> Option<runcomfy::estimate::Estimate> {
    let model = input::model(row.model.as_deref()?, unchecked).ok()?;
    let input: serde_json::Value = serde_json::from_str(row.input.as_deref()?).ok()?;
    let price = prices.get(model.id).cloned().unwrap_or_default();
    Some(runcomfy::estimate::estimate(model, &price, &input))
}

/// The journal's `meta` key of the saved poll history.
const POLL_HISTORY: &str = "poll_history";

/// The journal's `meta` key of `--unchecked` (`1` when given).
pub(crate) const UNCHECKED: &str = "unchecked";

fn load_plan(path: &Path, config: &BatchConfig) -> Result<Plan, BatchError> {
    let plan = input::read(path, config.default_model.as_deref(), config.unchecked)?;
    if !plan.invalid.is_empty() && (!config.skip_invalid || plan.lines.is_empty()) {
        return Err(BatchError::Invalid {
            lines: plan.invalid,
        });
    }
    Ok(plan)
}

/// Refuses a plan that is not the one the records in the output folder's line folders were
/// left by, when the journal holds no batch to say which input it was (it lost its write-ahead
/// log early on): each record must be in the folder of a line of this plan, of that line's
/// model and input. Else the lines of an edited file would follow other lines' jobs by folder
/// name, or be sent again beside records no line owns (QA repro40 M1: each paid twice). A
/// record that cannot be read is left to [`adopt_recorded`], which makes its line `unknown`.
fn check_records_are_the_plans(out: &Path, plan: &Plan) -> Result<(), BatchError> {
    let lines: HashMap<String, &input::Line> = plan
        .lines
        .iter()
        .map(|line| (line.dir.to_lowercase(), line))
        .collect();
    let entries = std::fs::read_dir(out).map_err(BatchError::io(out))?;
    for entry in entries {
        let entry = entry.map_err(BatchError::io(out))?;
        let found = entry.path().join(runcomfy::provenance::RECORD_FILE);
        let Ok(text) = std::fs::read_to_string(&found) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let why = match lines.get(&name) {
            None => "in a folder no line of this file has".to_owned(),
            Some(line) => {
                let record = runcomfy::input::parse_json(&text)
                    .ok()
                    .and_then(|value| runcomfy::provenance::Record::from_json(&value)?.ok());
                let input = line.input.as_object().cloned().unwrap_or_default();
                match record {
                    Some(record) if !record::is_of(&record, line.model, &input) => {
                        format!("of another model or input than line {}'s", line.number)
                    }
                    _ => continue,
                }
            }
        };
        return Err(BatchError::ResultsOfAnotherInput { found, why });
    }
    Ok(())
}

/// Refuses to start a batch over an earlier one's results whose journal is gone: its report,
/// or a line folder with a provenance record.
fn refuse_earlier_results(out: &Path) -> Result<(), BatchError> {
    let found = |found: PathBuf| {
        Err(BatchError::EarlierResults {
            dir: out.to_owned(),
            found,
        })
    };
    let report = out.join(report::REPORT_FILE);
    if report.exists() {
        return found(report);
    }
    let entries = std::fs::read_dir(out).map_err(BatchError::io(out))?;
    for entry in entries {
        let record = entry
            .map_err(BatchError::io(out))?
            .path()
            .join(runcomfy::provenance::RECORD_FILE);
        if record.is_file() {
            return found(record);
        }
    }
    Ok(())
}

/// Refuses to carry on a journal with another input file or default model.
fn check_same_batch(
    journal: &Journal,
    out: &Path,
    path: &Path,
    config: &BatchConfig,
) -> Result<(), BatchError> {
    let (given, _) = input::hash_file(path)?;
    let recorded = journal.meta("input_sha256")?.unwrap_or_default();
    if given != recorded {
        return Err(BatchError::InputMismatch {
            dir: out.to_owned(),
            journal_input: journal.meta("input_path")?.unwrap_or_default(),
            journal_sha256: recorded,
            given_input: path.display().to_string(),
            given_sha256: given,
        });
    }
    let model = journal.meta("default_model")?.unwrap_or_default();
    let given = config.default_model.clone().unwrap_or_default();
    if model != given {
        return Err(BatchError::SettingMismatch {
            dir: out.to_owned(),
            setting: "--model",
            journal: model,
            given,
        });
    }
    let said = |unchecked: bool| if unchecked { "1" } else { "" }.to_owned();
    let unchecked = is_unchecked(journal)?;
    if unchecked != config.unchecked {
        return Err(BatchError::SettingMismatch {
            dir: out.to_owned(),
            setting: "--unchecked",
            journal: said(unchecked),
            given: said(config.unchecked),
        });
    }
    Ok(())
}

/// Whether the batch's lines run unchecked, as the journal keeps it.
fn is_unchecked(journal: &Journal) -> Result<bool, BatchError> {
    Ok(journal.meta(UNCHECKED)?.as_deref() == Some("1"))
}

/// Records the server on the first run; refuses another one later.
fn check_same_server(
    journal: &Journal,
    out: &Path,
    config: &BatchConfig,
) -> Result<(), BatchError> {
    let Some(given) = &config.server else {
        return Ok(());
    };
    match journal.meta("server")? {
        None => journal.set_meta("server", given),
        Some(recorded) if recorded == *given => Ok(()),
        Some(recorded) => Err(BatchError::SettingMismatch {
            dir: out.to_owned(),
            setting: "server",
            journal: recorded,
            given: given.clone(),
        }),
    }
}

/// Takes the folder's lock file; held until the returned file is dropped (or the process
/// dies: the OS releases it, even after `kill -9`). It names the process holding it, so a batch
/// refused the folder can say which.
fn lock(out: &Path) -> Result<File, BatchError> {
    use std::io::{Read as _, Seek as _, Write as _};
    let path = out.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(BatchError::io(&path))?;
    match file.try_lock() {
        Ok(()) => {
            let holder = format!(
                "process {} since {}\n",
                std::process::id(),
                runcomfy::provenance::timestamp(std::time::SystemTime::now())
            );
            // Only words for a message: a folder that takes no write is found soon enough.
            let _ = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(holder.as_bytes()));
            Ok(file)
        }
        Err(TryLockError::WouldBlock) => {
            let mut said = String::new();
            let _ = file.take(200).read_to_string(&mut said);
            let holder = said.lines().next().map(str::trim).unwrap_or_default();
            Err(BatchError::Busy {
                dir: out.to_owned(),
                holder: match holder {
                    "" => "a process that has not said which".to_owned(),
                    holder => runcomfy::error::printable(holder, 80).into_owned(),
                },
            })
        }
        Err(TryLockError::Error(source)) => Err(BatchError::Io { path, source }),
    }
}

/// Takes into the journal the request ids an earlier run kept beside it when the journal could
/// not record them ([`unrecorded`]): each line still `submitting` becomes `submitted` with its
/// id, so its job is followed rather than called `unknown`. The lines and ids taken.
fn adopt_unrecorded(journal: &Journal, out: &Path) -> Result<Vec<(u64, String)>, BatchError> {
    let kept = unrecorded::read(out);
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let submitting: std::collections::HashSet<u64> = journal
        .rows()?
        .iter()
        .filter(|row| row.state == State::Submitting)
        .map(|row| row.number)
        .collect();
    let mut adopted = Vec::new();
    for entry in kept {
        if !submitting.contains(&entry.line) {
            continue;
        }
        let accepted = entry
            .accepted_ms
            .and_then(|ms| std::time::UNIX_EPOCH.checked_add(Duration::from_millis(ms)));
        // Another line holding the id leaves this one `submitting`: it becomes `unknown`.
        if journal.mark_submitted(entry.line, &entry.request_id, accepted)?
            == journal::Submitted::Recorded
        {
            adopted.push((entry.line, entry.request_id));
        }
    }
    unrecorded::clear(out).map_err(BatchError::io(out.join(unrecorded::FILE_NAME)))?;
    Ok(adopted)
}

/// What a line's folder told of a job the journal did not keep.
enum Behind {
    /// The record names this request, which the line now follows.
    Followed(String),
    /// The record cannot say which job (why): the line is `unknown`.
    Unknown(String),
}

/// Lines the journal has as never sent whose folder holds a record: the journal is behind its
/// folders (it lost its write-ahead log after a crash, or was copied without it), and each was
/// sent (QA repro37 H2: every one was sent, and paid, again, its record and files replaced).
/// A line follows the job its record names, or, when the record cannot say (unreadable, of
/// another server), becomes `unknown`: never sent again unasked.
fn adopt_recorded(
    journal: &Journal,
    out: &Path,
    server: &str,
) -> Result<Vec<(u64, Behind)>, BatchError> {
    let mut found = Vec::new();
    for row in journal.rows()? {
        let Some(dir) = row.dir.as_deref().filter(|_| row.state == State::Pending) else {
            continue;
        };
        let path = out.join(dir).join(runcomfy::provenance::RECORD_FILE);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let record = runcomfy::input::parse_json(&text)
            .ok()
            .and_then(|value| runcomfy::provenance::Record::from_json(&value)?.ok());
        // The estimate the line was sent with, which the journal lost with its line: a budget
        // counts the job at it (QA repro42 N1: at nothing).
        let estimate = record.as_ref().and_then(|record| record.estimate.as_ref());
        if row.estimate.is_none()
            && let Some(estimate) = estimate
            && let Some(basis) = estimate["basis"].as_str()
        {
            let usd = estimate["usd"].as_f64().and_then(Usd::from_dollars);
            journal.set_estimate(row.number, usd, basis)?;
        }
        let named = match record {
            None => Err("that this runcomfy cannot read".to_owned()),
            Some(record) => match (record.request_id, record.server) {
                (Some(_), Some(other)) if other != server => {
                    Err(format!("of a job sent to {other}, not {server}"))
                }
                (Some(id), _) => Ok(id),
                // The record a submit leaves while on the wire says so.
                (None, _) => Err(match record.error {
                    Some(why) => format!("with no request id ({why})"),
                    None => "with no request id".to_owned(),
                }),
            },
        };
        journal.mark_submitting(row.number, State::Pending)?;
        let behind = match named {
            Ok(id) => match journal.mark_submitted(row.number, &id, None)? {
                journal::Submitted::Recorded => Behind::Followed(id),
                journal::Submitted::TakenBy(other) => {
                    Behind::Unknown(format!("of request {id}, which line {other} follows"))
                }
            },
            Err(why) => Behind::Unknown(why),
        };
        if let Behind::Unknown(why) = &behind {
            journal.mark_unknown(row.number, &format!("its folder holds a record {why}"))?;
        }
        found.push((row.number, behind));
    }
    Ok(found)
}

/// Lines downloaded by an earlier run whose files are no longer as the journal saved them
/// (one gone, or of another size; its record gone): back to `submitted`, so their jobs' files
/// are fetched again while their links last, never sent again.
fn fetch_again_what_is_gone(
    journal: &Journal,
    out: &Path,
    then: &str,
) -> Result<Vec<u64>, BatchError> {
    let gone = not_as_saved(journal, out)?;
    for (line, reason) in &gone {
        journal.mark_fetch_again(*line, &format!("{reason}: {then}"))?;
    }
    Ok(gone.into_iter().map(|(line, _)| line).collect())
}

/// Downloaded lines whose files (or record) are no longer as the journal saved them, each with
/// what is wrong. Sizes only: hashing every file of a large batch at each run would cost more
/// than it finds.
fn not_as_saved(journal: &Journal, out: &Path) -> Result<Vec<(u64, String)>, BatchError> {
    let files = journal.files()?;
    let mut lines = Vec::new();
    for row in journal.rows()? {
        if row.state != State::Downloaded {
            continue;
        }
        let saved = files
            .get(&row.number)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let changed = saved
            .iter()
            .find_map(|file| match std::fs::metadata(out.join(&file.path)) {
                Ok(meta) if meta.len() == file.bytes => None,
                Ok(_) => Some(format!("{} is not the size it was saved at", file.path)),
                Err(_) => Some(format!("{} is gone", file.path)),
            });
        let record = row
            .dir
            .as_deref()
            .map(|dir| out.join(dir).join(runcomfy::provenance::RECORD_FILE));
        let changed = changed.or_else(|| {
            record
                .filter(|record| !record.is_file())
                .map(|_| "its record is gone".to_owned())
        });
        if let Some(reason) = changed {
            lines.push((row.number, reason));
        }
    }
    Ok(lines)
}

/// The journal was removed while the batch ran (its output folder deleted): the lines whose
/// files went with it are failed, saying how to fetch them, since no later run can (QA repro38
/// N5: the summary said "batch complete" and the report "downloaded").
fn fail_what_went_with_the_folder(journal: &mut Journal, out: &Path) -> Result<(), BatchError> {
    let gone = not_as_saved(journal, out)?;
    let ids: std::collections::HashMap<u64, String> = journal
        .rows()?
        .into_iter()
        .filter_map(|row| Some((row.number, row.request_id?)))
        .collect();
    for (line, reason) in gone {
        journal.mark_fetch_again(line, &reason)?;
        let id = ids.get(&line).map_or("", String::as_str);
        // Its files are gone: the gallery and report list none (QA repro39 F6).
        journal.mark_failed_with(
            line,
            &[],
            &format!(
                "{reason}: the output folder was deleted while the batch ran; `runcomfy result {} \
                 --out DIR` fetches its files",
                report::shell_word(id)
            ),
        )?;
    }
    Ok(())
}

/// Removes the temporary files an interrupted run can leave: downloads' `.*.part` and records'
/// `.*.tmp` in the lines' folders, and this crate's `.*.tmp` in the output folder. Best effort.
fn clean_temp_files(out: &Path, rows: &[journal::Row]) -> usize {
    let mut removed = 0;
    let mut sweep = |dir: &Path, suffix: &str| {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.')
                && name.ends_with(suffix)
                && entry.file_type().is_ok_and(|t| t.is_file())
                && std::fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
    };
    sweep(out, ".tmp");
    // A line's folder: downloads (`.part`) and its record (`.tmp`) cut by a kill.
    for dir in rows.iter().filter_map(|r| r.dir.as_deref()) {
        sweep(&out.join(dir), ".part");
        sweep(&out.join(dir), ".tmp");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job accepted while the journal could not record it is followed by the next run, not
    /// called `unknown`.
    #[test]
    fn an_id_the_journal_could_not_take_is_adopted_next_run() -> Result<(), BatchError> {
        let dir = tempfile::tempdir().map_err(BatchError::io("tempdir"))?;
        let text = "{\"model\":\"bytedance/seedream-4-0/sequential\",\"input\":{\"text\":\"a\"}}\n\
                    {\"model\":\"bytedance/seedream-4-0/sequential\",\"input\":{\"text\":\"b\"}}\n";
        let plan = input::parse(text.as_bytes(), None, false, "abc".into(), None);
        let mut journal = Journal::open(dir.path())?;
        journal.initialize(&plan, "in.jsonl", None)?;
        journal.mark_submitting(1, State::Pending)?;
        journal.mark_submitting(2, State::Pending)?;
        assert!(unrecorded::keep(dir.path(), 1, "req-1", None));

        assert_eq!(
            adopt_unrecorded(&journal, dir.path())?,
            [(1, "req-1".to_owned())]
        );
        assert_eq!(journal.recover_interrupted()?, [2]);
        let rows = journal.rows()?;
        assert_eq!(rows[0].state, State::Submitted);
        assert_eq!(rows[0].request_id.as_deref(), Some("req-1"));
        assert!(unrecorded::read(dir.path()).is_empty(), "cleared");
        Ok(())
    }
}
