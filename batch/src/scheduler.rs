//! Running the lines: bounded concurrent submit → wait → download per line, every step
//! journaled, a batch-wide pause after rate limits, and a graceful stop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use runcomfy::dynamic::{DynJob, DynOutput};
use runcomfy::{
    Client, DownloadOptions, DownloadedFile, Error, JobRecord, SubmitControl, WaitOptions,
};
use tokio::sync::Semaphore;

use crate::budget::{Budget, Verdict};
use crate::error::BatchError;
use crate::journal::{FileRow, Journal, Row, State, Submitted};
use crate::outage::Outage;
use crate::progress::{Ended, Progress};
use crate::stop::Stop;

/// Attempts at a line's submit provably not taken (a 429, no connection) before it is left
/// pending for the next run. Each is one POST, journalled as `submitting` only while it is on
/// the wire ([`SubmitControl::single_attempt`]; QA repro40 L1: a kill while the transport's own
/// retries waited out a 429 left lines `unknown`); as many as eight rounds of those retries.
const MAX_NOT_SENT_ROUNDS: u32 = 40;

/// Failed waits or downloads (after the transport's own retries) before a line is left for
/// the next run; its request id is kept, so nothing is paid twice.
const MAX_TRANSIENT_ROUNDS: u32 = 6;

/// Longest batch-wide pause the growing backoff after rate limits reaches; a server's
/// `Retry-After` is waited for in full, up to [`crate::LONGEST_RETRY_AFTER`].
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// A pause of submits at least this long is said on the progress output: lines waiting at the
/// gate look as if they were in flight.
const PAUSE_WORTH_SAYING: Duration = Duration::from_secs(5);

/// Limits of one run.
#[derive(Debug)]
pub(crate) struct RunLimits {
    /// Lines submitted or waited for at once.
    pub concurrency: usize,
    /// Lines downloading at once.
    pub downloads: usize,
    /// The budget, if the batch has one.
    pub budget: Option<Budget>,
    /// How long the server may go unanswered before the batch stops.
    pub give_up_after: Duration,
    /// The lines' models run unchecked ([`crate::input::model`]).
    pub unchecked: bool,
}

/// How a line's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Downloaded,
    Failed,
    Unknown,
    /// Left as it is (pending, or submitted) for the next run.
    Unfinished,
    /// Left pending: its estimate does not fit the budget (or it has none).
    Unsent,
}

/// What the scheduler learned that the summary needs.
#[derive(Debug, Default)]
pub(crate) struct RunReport {
    /// Submits accepted in this run.
    pub submitted: u64,
    /// The error that stopped the batch as a whole, if one did.
    pub fatal: Option<BatchError>,
    /// Lines left unsent by the budget.
    pub unsent: Vec<u64>,
}

struct Ctx {
    client: Client,
    journal: Arc<Mutex<Journal>>,
    out: PathBuf,
    progress: Progress,
    /// Set by the user's stop, or by a fatal error.
    halt: Stop,
    downloads: Semaphore,
    gate: SubmitGate,
    outage: Outage,
    fatal: Mutex<Option<BatchError>>,
    submitted: AtomicU64,
    budget: Option<Budget>,
    unsent: Mutex<Vec<u64>>,
    /// The server the batch sends to, as records name it ([`crate::server_of`]).
    server: String,
    /// Lines whose request id another line's submit was answered with: no longer followed.
    disowned: Mutex<std::collections::HashSet<u64>>,
    /// The lines' models run unchecked.
    unchecked: bool,
}

/// Runs every pending or submitted row; returns when all have ended or the batch stopped.
pub(crate) async fn run(
    client: &Client,
    journal: Arc<Mutex<Journal>>,
    out: &Path,
    rows: Vec<Row>,
    limits: RunLimits,
    progress: Progress,
    stop: &Stop,
) -> RunReport {
    let halt = Stop::new();
    // Asked already (during the price look-ups): the forwarding task would see it only after
    // the first lines had started.
    if stop.is_requested() {
        halt.request();
    }
    let forward = tokio::spawn({
        let (stop, halt) = (stop.clone(), halt.clone());
        async move {
            stop.requested().await;
            halt.request();
        }
    });
    let server = crate::server_of(
        &journal.lock().unwrap_or_else(PoisonError::into_inner),
        client,
    );
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        journal,
        out: out.to_owned(),
        progress,
        halt,
        downloads: Semaphore::new(limits.downloads.max(1)),
        gate: SubmitGate::default(),
        outage: Outage::new(limits.give_up_after),
        fatal: Mutex::new(None),
        submitted: AtomicU64::new(0),
        budget: limits.budget,
        unsent: Mutex::new(Vec::new()),
        server,
        disowned: Mutex::default(),
        unchecked: limits.unchecked,
    });
    // Jobs already paid for first: their outputs expire, and waiting on them costs nothing.
    let mut rows = rows;
    rows.sort_by_key(|r| (r.state != State::Submitted, r.number));
    futures::stream::iter(rows)
        .for_each_concurrent(limits.concurrency.max(1), |row| {
            let ctx = Arc::clone(&ctx);
            async move {
                drive(&ctx, row).await;
            }
        })
        .await;
    forward.abort();
    let fatal = ctx
        .fatal
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let mut unsent =
        std::mem::take(&mut *ctx.unsent.lock().unwrap_or_else(PoisonError::into_inner));
    unsent.sort_unstable();
    RunReport {
        submitted: ctx.submitted.load(Ordering::Relaxed),
        fatal,
        unsent,
    }
}

async fn drive(ctx: &Ctx, row: Row) {
    if ctx.halt.is_requested() {
        return;
    }
    ctx.progress.started();
    let outcome = drive_line(ctx, &row).await;
    match outcome {
        Outcome::Downloaded => ctx.progress.finished(Ended::Downloaded),
        Outcome::Failed => ctx.progress.finished(Ended::Failed),
        Outcome::Unknown => ctx.progress.finished(Ended::Unknown),
        Outcome::Unfinished | Outcome::Unsent => ctx.progress.stopped(),
    }
    tracing::debug!(line = row.number, ?outcome, "line ended");
}

async fn drive_line(ctx: &Ctx, row: &Row) -> Outcome {
    let line = row.number;
    let found = row.model.as_deref().map(|id| {
        match crate::input::model(id, ctx.unchecked) {
            // Sent already: followed without its schema, which this build lacks.
            Err(_) if row.request_id.is_some() => crate::input::model(id, true),
            found => found,
        }
    });
    let Some(Ok(model)) = found else {
        // The journal was written by a build whose catalog had this model.
        let reason = format!(
            "model {:?} is not in this build's catalog",
            row.model.as_deref().unwrap_or("")
        );
        return fail_line(ctx, line, &reason).await;
    };
    let job = match &row.request_id {
        // Resumed with its submit time, a job is polled on its model's schedule from then.
        Some(id) => ctx.client.resume_model(
            model,
            &JobRecord {
                request_id: id.clone(),
                model_id: model.id.to_owned(),
                submitted_at: row.submitted_at,
            },
        ),
        None => match submit(ctx, row, model).await {
            Ok(job) => Ok(job),
            Err(outcome) => return outcome,
        },
    };
    let job = match job {
        Ok(job) => job,
        Err(err) => return fail_line(ctx, line, &err.to_string()).await,
    };
    // Waiting and downloading are abandoned on a stop: the request id is journaled, so the
    // next run picks the job up where the server has it.
    tokio::select! {
        biased;
        () = ctx.halt.requested() => Outcome::Unfinished,
        outcome = finish(ctx, row, model, &job) => outcome,
    }
}

/// Sends a pending line: `submitting` is committed before the POST, the request id after it.
async fn submit(
    ctx: &Ctx,
    row: &Row,
    model: &'static runcomfy::catalog::ModelInfo,
) -> Result<DynJob, Outcome> {
    let line = row.number;
    let input: serde_json::Value = match row.input.as_deref().map(serde_json::from_str) {
        Some(Ok(input)) => input,
        _ => return Err(fail_pending(ctx, line, "the journal has no readable input").await),
    };
    // Before paying: a job whose files have nowhere to go is paid for nothing.
    if let Err(err) = check_line_dir(&line_dir(ctx, row)) {
        fatal(ctx, err);
        return Err(Outcome::Unfinished);
    }
    reserve_budget(ctx, row).await?;
    let mut rounds = 0u32;
    loop {
        tokio::select! {
            biased;
            () = ctx.halt.requested() => {
                release(ctx, row);
                return Err(Outcome::Unfinished);
            }
            () = ctx.gate.wait() => {}
        }
        if ctx.halt.is_requested() {
            release(ctx, row);
            return Err(Outcome::Unfinished);
        }
        let from = row.state;
        if let Err(err) = journal(ctx, move |j| j.mark_submitting(line, from)).await {
            release(ctx, row);
            fatal(ctx, err);
            return Err(Outcome::Unfinished);
        }
        // An unknown line sent again keeps the record of its first submit, which may have been
        // billed, until this one is taken (QA repro40 L4: a refused resend removed it).
        let marks = row.state == State::Pending;
        if marks {
            record_unanswered(ctx, row, model, None).await;
        }
        // A stop sends nothing more; an attempt on the wire is answered first, since its
        // request id must be recorded.
        let sent = runcomfy::clock::now();
        let control = SubmitControl::single_attempt();
        let sending = ctx.client.submit_json_with(model, &input, &control);
        tokio::pin!(sending);
        let submitted = tokio::select! {
            biased;
            submitted = &mut sending => submitted,
            () = ctx.halt.requested() => {
                control.stop();
                sending.await
            }
        };
        match submitted {
            Ok(job) => {
                let job = record_accepted(ctx, line, job).await?;
                record_submitted(ctx, row, model, &job).await;
                return Ok(job);
            }
            Err(err @ Error::SubmitStopped { .. }) => {
                if marks {
                    crate::record::remove_unanswered(row, &line_dir(ctx, row));
                }
                release(ctx, row);
                let note = not_sent_note(row, &err.to_string());
                if let Err(err) = journal(ctx, move |j| j.mark_not_sent(line, from, &note)).await {
                    fatal(ctx, err);
                }
                return Err(Outcome::Unfinished);
            }
            Err(err) => {
                match classify_submit_error(&err) {
                    // What the answer was, with the time it was sent (QA repro40 L2).
                    SubmitFailure::Unknown => {
                        if marks {
                            record_unanswered(ctx, row, model, Some(err.to_string())).await;
                        }
                        if let Err(err) = journal(ctx, move |j| j.note_sent(line, sent)).await {
                            fatal(ctx, err);
                            return Err(Outcome::Unfinished);
                        }
                    }
                    _ if marks => crate::record::remove_unanswered(row, &line_dir(ctx, row)),
                    _ => {}
                }
                // Every failure but "not taken" ends the line, so this counts those rounds.
                rounds += 1;
                if let Some(outcome) = submit_failed(ctx, row, err, rounds).await {
                    return Err(outcome);
                }
            }
        }
    }
}

/// The folder of `row`'s files.
fn line_dir(ctx: &Ctx, row: &Row) -> PathBuf {
    ctx.out.join(row.dir.as_deref().unwrap_or("unnamed"))
}

/// A line's folder can take its files: it is a folder of its own or does not exist yet. A
/// file there is refused, and so is a link, which would put the files outside the output
/// folder.
fn check_line_dir(dir: &Path) -> Result<(), BatchError> {
    let refuse = |what: &str| {
        Err(BatchError::io(dir)(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{what} is there, where the line's files go: move it away and run again"),
        )))
    };
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => refuse("a link"),
        Ok(meta) if !meta.is_dir() => refuse("a file"),
        _ => Ok(()),
    }
}

/// Reserves the line's estimate in the budget, if the batch has one; a line that does not
/// fit is noted and left as it was (pending, or unknown).
async fn reserve_budget(ctx: &Ctx, row: &Row) -> Result<(), Outcome> {
    let line = row.number;
    let Some(budget) = &ctx.budget else {
        return Ok(());
    };
    let verdict = tokio::select! {
        biased;
        () = ctx.halt.requested() => return Err(Outcome::Unfinished),
        verdict = budget.reserve(row.estimate) => verdict,
    };
    let Verdict::Unsent(reason) = verdict else {
        return Ok(());
    };
    // An unknown line (sent again with --resubmit-unknown) keeps why it is unknown: that
    // still holds, and a later run must not read it as pending.
    if row.state == State::Pending
        && let Err(err) = journal(ctx, {
            let reason = reason.clone();
            move |j| j.note_pending(line, &reason)
        })
        .await
    {
        fatal(ctx, err);
        return Err(Outcome::Unfinished);
    }
    ctx.progress.println(&format!("line {line}: {reason}"));
    ctx.unsent
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(line);
    Err(Outcome::Unsent)
}

/// Gives back the line's budget reservation: its submit is provably not taken.
fn release(ctx: &Ctx, row: &Row) {
    if let Some(budget) = &ctx.budget {
        budget.release(row);
    }
}

/// The server accepted the line: its request id goes to the journal.
async fn record_accepted(ctx: &Ctx, line: u64, job: DynJob) -> Result<DynJob, Outcome> {
    let id = job.id().to_owned();
    ctx.outage.answered();
    ctx.gate.succeeded();
    ctx.submitted.fetch_add(1, Ordering::Relaxed);
    let recorded = {
        let id = id.clone();
        let accepted = job.submitted_at();
        journal(ctx, move |j| j.mark_submitted(line, &id, accepted)).await
    };
    match recorded {
        Ok(Submitted::Recorded) => {}
        // This line's own job may exist under an id never seen, and the job of that id may
        // have run either line's input: neither is followed as if it were known.
        Ok(Submitted::TakenBy(other)) => {
            disown(ctx, other, line, &id).await;
            let reason = format!(
                "the server answered with request id {id}, which line {other} already has: \
                 this line's job may exist under another id"
            );
            return Err(unknown(ctx, line, reason).await);
        }
        Err(err) => {
            // Kept beside the journal, for the next run to follow the job; said either way,
            // so it can be found.
            let kept = match crate::unrecorded::keep(&ctx.out, line, &id, job.submitted_at()) {
                true => "kept for the next run to follow it",
                false => "nor could it be kept beside it: find it by this id",
            };
            ctx.progress.println(&format!(
                "line {line}: accepted as request {id}, but the journal could not record it \
                 ({kept})"
            ));
            fatal(ctx, err);
            return Err(Outcome::Unfinished);
        }
    }
    tracing::info!(line, request_id = %id, "submitted");
    Ok(job)
}

/// The record of a submit not answered with a request id, in the line's folder
/// ([`crate::record::write_unanswered`]), written on the blocking pool.
async fn record_unanswered(
    ctx: &Ctx,
    row: &Row,
    model: &'static runcomfy::catalog::ModelInfo,
    outcome: Option<String>,
) {
    let (server, row, dir) = (ctx.server.clone(), row.clone(), line_dir(ctx, row));
    let line = row.number;
    let written = tokio::task::spawn_blocking(move || {
        crate::record::write_unanswered(&server, &row, model, &dir, outcome.as_deref());
    });
    if let Err(err) = written.await {
        tracing::warn!(line, %err, "record of a submit not answered not written");
    }
}

/// The accepted job's record in the line's folder, as `run` leaves one at its submit: should
/// the journal lose the request id (its write-ahead log gone after a crash), the next run
/// follows the job the record names rather than pay for another (QA repro37 H2). Replaced
/// by the line's full record when it ends; a failure is logged, as that one's is.
async fn record_submitted(
    ctx: &Ctx,
    row: &Row,
    model: &'static runcomfy::catalog::ModelInfo,
    job: &DynJob,
) {
    let line = row.number;
    let (server, row, dir) = (ctx.server.clone(), row.clone(), line_dir(ctx, row));
    let request_id = job.id().to_owned();
    let timings = runcomfy::provenance::Timings {
        submitted: job.submitted_at().map(runcomfy::provenance::timestamp),
        ..Default::default()
    };
    let written = tokio::task::spawn_blocking(move || {
        let ended = crate::record::Ended {
            request_id: &request_id,
            cost: None,
            cost_unread: None,
            output: None,
            error: None,
        };
        crate::record::write(&server, &row, model, ended, timings, &[], &dir);
    });
    if let Err(err) = written.await {
        tracing::warn!(line, %err, "provenance record not written");
    }
}

/// Line `holder`'s request id `id` came back for line `line`'s submit too: which input its
/// job ran is not known, so `holder` stops following it ([`Journal::disown`]).
async fn disown(ctx: &Ctx, holder: u64, line: u64, id: &str) {
    ctx.disowned
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(holder);
    let reason = format!(
        "its request id {id} was also the answer to line {line}'s submit: which line's input \
         that job ran is not known (`runcomfy result {}` shows it)",
        crate::report::shell_word(id)
    );
    match journal(ctx, {
        let reason = reason.clone();
        move |j| j.disown(holder, &reason)
    })
    .await
    {
        Ok(true) => ctx
            .progress
            .println(&format!("line {holder}: unknown: {reason}")),
        Ok(false) => ctx.progress.println(&format!("line {holder}: {reason}")),
        Err(err) => fatal(ctx, err),
    }
}

/// Whether `line`'s request id was found to be another line's too ([`disown`]).
fn is_disowned(ctx: &Ctx, line: u64) -> bool {
    ctx.disowned
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(&line)
}

/// A failed submit (its `rounds`-th): journals it and says how the line ends, or `None` to
/// send it again.
async fn submit_failed(ctx: &Ctx, row: &Row, err: Error, rounds: u32) -> Option<Outcome> {
    let line = row.number;
    let reason = err.to_string();
    let outage = ctx.outage.failed(&err);
    match classify_submit_error(&err) {
        SubmitFailure::NotTaken { retry_after } => {
            if let Err(err) = journal(ctx, {
                let (from, note) = (row.state, not_sent_note(row, &reason));
                move |j| j.mark_not_sent(line, from, &note)
            })
            .await
            {
                fatal(ctx, err);
                return Some(Outcome::Unfinished);
            }
            if let Some(lasted) = outage {
                release(ctx, row);
                fatal(
                    ctx,
                    BatchError::Unreachable {
                        lasted,
                        source: err,
                    },
                );
                return Some(Outcome::Unfinished);
            }
            if let Some(retry_after) = retry_after.filter(|wait| *wait > crate::LONGEST_RETRY_AFTER)
            {
                // Hours of a batch that says nothing: stopped, as `run` stops, for a later run.
                release(ctx, row);
                fatal(
                    ctx,
                    BatchError::RateLimited {
                        retry_after,
                        source: err,
                    },
                );
                return Some(Outcome::Unfinished);
            }
            if let Some(paused) = ctx.gate.pause(retry_after) {
                // A refused connection pauses them too (QA repro40 L6: said as a rate limit).
                // The rate limit says itself; a refused connection says how (QA repro47 P5:
                // "rate-limits them (rate limited (retry after 6s))").
                let why = match err {
                    Error::RateLimited { .. } => "the API rate-limits them".to_owned(),
                    _ => format!("the API cannot be reached ({reason})"),
                };
                ctx.progress.println(&format!(
                    "submits paused for {}: {why}",
                    crate::progress::format_duration(paused)
                ));
            }
            if rounds >= MAX_NOT_SENT_ROUNDS {
                release(ctx, row);
                ctx.progress
                    .println(&format!("line {line}: left {}: {reason}", row.state));
                return Some(Outcome::Unfinished);
            }
            None
        }
        SubmitFailure::Refused => {
            release(ctx, row);
            Some(fail_submitting(ctx, line, &reason).await)
        }
        failure @ (SubmitFailure::Fatal | SubmitFailure::Local) => {
            release(ctx, row);
            let _ = journal(ctx, {
                let (from, note) = (row.state, not_sent_note(row, &reason));
                move |j| j.mark_not_sent(line, from, &note)
            })
            .await;
            let stop = match failure {
                SubmitFailure::Local => BatchError::LineUnreadable { line, source: err },
                _ => BatchError::Refused(err),
            };
            fatal(ctx, stop);
            Some(Outcome::Unfinished)
        }
        SubmitFailure::Unknown => Some(unknown(ctx, line, reason).await),
    }
}

/// The line's submit may have been accepted: `unknown`, its estimate kept spent.
async fn unknown(ctx: &Ctx, line: u64, reason: String) -> Outcome {
    if let Some(budget) = &ctx.budget {
        budget.keep();
    }
    if let Err(err) = journal(ctx, {
        let reason = reason.clone();
        move |j| j.mark_unknown(line, &reason)
    })
    .await
    {
        fatal(ctx, err);
        return Outcome::Unfinished;
    }
    ctx.progress.println(&format!(
        "line {line}: unknown (may have been accepted): {reason}"
    ));
    Outcome::Unknown
}

/// The reason a line keeps when its submit was not taken: why, for a pending line; for an
/// unknown one sent again, why it is unknown, which still holds.
fn not_sent_note(row: &Row, reason: &str) -> String {
    match (row.state, &row.reason) {
        (State::Unknown, Some(unknown)) => format!("{unknown} (sent again, not taken: {reason})"),
        _ => reason.to_owned(),
    }
}

enum SubmitFailure {
    /// Provably not taken: send it again later.
    NotTaken { retry_after: Option<Duration> },
    /// Refused for this line (its input, its model): failed.
    Refused,
    /// Refused for every line (token, balance): stop the batch.
    Fatal,
    /// Not sent: its input, checked when the batch began, no longer is (a local file moved,
    /// changed or unreadable since). Stop the batch with the line kept as it was, to be sent
    /// once its input is mended (QA repro52 F1: it failed for good, never sent).
    Local,
    /// May have been accepted: never sent again automatically.
    Unknown,
}

fn classify_submit_error(err: &Error) -> SubmitFailure {
    match err {
        Error::RateLimited { retry_after, .. } => SubmitFailure::NotTaken {
            retry_after: *retry_after,
        },
        // The transport reports a submit's transport error as such only when nothing was
        // sent (no connection); anything later is `SubmitOutcomeUnknown`.
        Error::Transport { .. } | Error::SubmitStopped { .. } => {
            SubmitFailure::NotTaken { retry_after: None }
        }
        Error::Unauthorized { .. }
        | Error::Forbidden { .. }
        | Error::InsufficientBalance { .. }
        | Error::Config(_) => SubmitFailure::Fatal,
        Error::Validation(_) | Error::Encode(_) | Error::BodyTooLarge { .. } => {
            SubmitFailure::Local
        }
        Error::NotFound { .. } | Error::Rejected { .. } | Error::Api { .. } => {
            SubmitFailure::Refused
        }
        // `SubmitOutcomeUnknown`, and anything this code does not know to be a refusal.
        _ => SubmitFailure::Unknown,
    }
}

/// A job ended (`job`, when the server still knows it): its cost goes to the journal and the
/// budget, and a cost the server said in a form that cannot be read is said.
async fn settle(ctx: &Ctx, row: &Row, job: Option<&DynJob>) -> Result<(), ()> {
    let line = row.number;
    let cost = job.and_then(DynJob::cost);
    let unread = job.and_then(DynJob::cost_unread);
    if let Some(said) = &unread {
        ctx.progress.println(&format!(
            "line {line}: the server said its job cost {said}, which is not an amount of US \
             dollars this runcomfy can read; the budget counts it at its estimate"
        ));
    }
    if let Some(budget) = &ctx.budget {
        budget.settle(row, cost);
    }
    let kept = match (cost, unread) {
        (Some(cost), _) => journal(ctx, move |j| j.set_cost(line, cost)).await,
        (None, Some(said)) => journal(ctx, move |j| j.set_cost_unread(line, &said)).await,
        (None, None) => Ok(()),
    };
    if let Err(err) = kept {
        fatal(ctx, err);
        return Err(());
    }
    Ok(())
}

/// Waits for a submitted job and saves its files.
async fn finish(
    ctx: &Ctx,
    row: &Row,
    model: &'static runcomfy::catalog::ModelInfo,
    job: &DynJob,
) -> Outcome {
    let (output, started) = match wait(ctx, row, model, job).await {
        Ok(waited) => waited,
        Err(outcome) => return outcome,
    };
    let noticed = runcomfy::clock::now();
    let cost = job.cost();
    if settle(ctx, row, Some(job)).await.is_err() {
        return Outcome::Unfinished;
    }
    if is_disowned(ctx, row.number) {
        return Outcome::Unknown;
    }
    let Ok(_permit) = ctx.downloads.acquire().await else {
        return Outcome::Unfinished;
    };
    let when = Moments { started, noticed };
    download(ctx, row, model, job, &output, cost, when).await
}

/// When a line's job was first seen running, and seen ended (this machine's clock).
struct Moments {
    started: Option<std::time::SystemTime>,
    noticed: std::time::SystemTime,
}

/// Polls the job until it ends: its output and when it was first seen running, or how the
/// line ended without one.
async fn wait(
    ctx: &Ctx,
    row: &Row,
    model: &'static runcomfy::catalog::ModelInfo,
    job: &DynJob,
) -> Result<(DynOutput, Option<std::time::SystemTime>), Outcome> {
    let line = row.number;
    let mut rounds = 0u32;
    let mut started = runcomfy::FirstSeenRunning::default();
    loop {
        let seen = |update: &runcomfy::Update| {
            ctx.outage.answered();
            started.see(update);
        };
        // The batch rides out failing polls itself, in rounds that leave the line for the
        // next run ([`transient`]); the wait's own minute would stretch each round.
        let options = WaitOptions::new().ride_out(Duration::ZERO);
        let err = match job.wait_with(options, seen).await {
            Ok(output) => return Ok((output, started.at())),
            Err(err) => err,
        };
        if let Some(lasted) = ctx.outage.failed(&err) {
            // Left for the next run, unsettled, as `transient` leaves it.
            if let Some(budget) = &ctx.budget {
                budget.keep();
            }
            fatal(
                ctx,
                BatchError::Unreachable {
                    lasted,
                    source: err,
                },
            );
            return Err(Outcome::Unfinished);
        }
        match err {
            // Its output cannot be read as the model's: asking again gives the same (QA
            // repro33 F4). Paid, so recorded as a failed job is.
            Error::JobFailed { .. } | Error::Cancelled { .. } | Error::UnreadableOutput { .. } => {
                if settle(ctx, row, Some(job)).await.is_err() {
                    return Err(Outcome::Unfinished);
                }
                // It may be billed: its record says what was sent, why it failed and the cost,
                // in the folder its files would have gone to, as `run` leaves it.
                let ended = crate::record::Ended {
                    request_id: job.id(),
                    cost: job.cost(),
                    cost_unread: job.cost_unread(),
                    output: None,
                    error: Some(runcomfy::provenance::ended_error(&err)),
                };
                let now = runcomfy::clock::now();
                let timings = runcomfy::provenance::Timings::ended(job, started.at(), now);
                let dir = line_dir(ctx, row);
                crate::record::write(&ctx.server, row, model, ended, timings, &[], &dir);
                return Err(fail_line(ctx, line, &err.to_string()).await);
            }
            // Just accepted, a request the server says it does not know is more likely not
            // yet known everywhere than expired: polled again, the line kept, never failed for
            // one answer.
            Error::NotFound { .. } if is_young(job, row) => {
                rounds += 1;
                let reason = format!("{err} (a request submitted moments ago)");
                if let Some(outcome) = transient(ctx, line, rounds, &reason).await {
                    if let Some(budget) = &ctx.budget {
                        budget.keep();
                    }
                    return Err(outcome);
                }
            }
            Error::NotFound { .. } => {
                if settle(ctx, row, None).await.is_err() {
                    return Err(Outcome::Unfinished);
                }
                let reason = format!(
                    "{err}; the server no longer knows this request (request ids expire); \
                     it is not submitted again"
                );
                return Err(fail_line(ctx, line, &reason).await);
            }
            Error::Unauthorized { .. } | Error::Forbidden { .. } => {
                fatal(ctx, BatchError::Refused(err));
                return Err(Outcome::Unfinished);
            }
            err => {
                rounds += 1;
                if let Some(outcome) = transient(ctx, line, rounds, &err.to_string()).await {
                    // Left for the next run, unsettled: its estimate stays spent, and lines
                    // waiting for the budget stop waiting for this job to end.
                    if let Some(budget) = &ctx.budget {
                        budget.keep();
                    }
                    return Err(outcome);
                }
            }
        }
    }
}

/// How long after its submit a job's "not found" is taken for a server not yet caught up with
/// it rather than for an expired request.
const NOT_FOUND_GRACE: Duration = Duration::from_secs(10 * 60);

/// Whether `job` (of `row`) was submitted within [`NOT_FOUND_GRACE`]: by the monotonic clock,
/// which a wall-clock step leaves alone; a journal's submit time still to come (the clock
/// stepped back before the job was resumed) is young too. A job of unknown age is not.
fn is_young(job: &DynJob, row: &Row) -> bool {
    match job.accepted_ago() {
        Some(age) => age < NOT_FOUND_GRACE,
        None => row.submitted_at.is_some_and(|at| at.elapsed().is_err()),
    }
}

/// Saves the job's files into the line's folder, with its record, and journals them.
async fn download(
    ctx: &Ctx,
    row: &Row,
    model: &'static runcomfy::catalog::ModelInfo,
    job: &DynJob,
    output: &DynOutput,
    cost: Option<runcomfy::price::Usd>,
    when: Moments,
) -> Outcome {
    let line = row.number;
    let dir = line_dir(ctx, row);
    // Made a file or a link since the submit: the line stays submitted for a run after the
    // folder is mended.
    if let Err(err) = check_line_dir(&dir) {
        fatal(ctx, err);
        return Outcome::Unfinished;
    }
    // Files are replaced, not renamed aside: a run that died mid-download left complete files
    // under the same names, and a `.part` file that is cleaned at startup.
    let options = DownloadOptions::new().overwrite(true);
    let timings = runcomfy::provenance::Timings::ended(job, when.started, when.noticed);
    // The line's record, with the files saved so far.
    let record = |saved: &[DownloadedFile]| {
        let ended = ended(job, output, cost);
        crate::record::write(&ctx.server, row, model, ended, timings.clone(), saved, &dir);
    };
    let mut rounds = 0u32;
    let saved = loop {
        match job.download(output, &dir, &options).await {
            Ok(saved) => break saved,
            // A full disk fills again at every retry: the batch stops, cannot write (74), and
            // the line stays for a run once there is room.
            Err(err) if no_room(&err) => {
                fatal(
                    ctx,
                    BatchError::io(&dir)(std::io::Error::new(
                        std::io::ErrorKind::StorageFull,
                        err.to_string(),
                    )),
                );
                return Outcome::Unfinished;
            }
            // Fetching it again, now or in a later run, would be refused the same way: the
            // line fails (its job is paid and not sent again), rather than staying unfinished
            // for every later run to retry.
            Err(err) if download_refused(&err) => {
                // Its record all the same, with the files saved, for `result --out` to complete.
                if dir.is_dir() {
                    record(err.saved_files());
                }
                // An output naming no file has none to fetch later.
                let fetch = match err.failure() {
                    Error::UnreadableOutput { .. } => String::new(),
                    _ => format!(
                        " (`runcomfy result {} --out DIR` fetches its files)",
                        crate::report::shell_word(job.id())
                    ),
                };
                let reason = format!("{err}; the job is paid and not submitted again{fetch}");
                let saved = file_rows(ctx, err.saved_files());
                return fail_saving(ctx, line, &reason, saved).await;
            }
            Err(err) => {
                rounds += 1;
                let reason = err.to_string();
                if let Some(outcome) = transient(ctx, line, rounds, &reason).await {
                    // Left for the next run: the files saved so far are recorded meanwhile, in
                    // the record and the journal (so in the report).
                    let saved = err.saved_files();
                    if !saved.is_empty() {
                        record(saved);
                        let saved = file_rows(ctx, saved);
                        if let Err(err) =
                            journal(ctx, move |j| j.note_with(line, &saved, &reason)).await
                            && !is_disowned(ctx, line)
                        {
                            fatal(ctx, err);
                        }
                    }
                    return outcome;
                }
            }
        }
    };
    record(&saved);
    let files = file_rows(ctx, &saved);
    match journal(ctx, move |j| j.mark_downloaded(line, &files)).await {
        Ok(()) => Outcome::Downloaded,
        // Disowned while it downloaded: its files stay, the line is unknown.
        Err(_) if is_disowned(ctx, line) => Outcome::Unknown,
        Err(err) => {
            fatal(ctx, err);
            Outcome::Unfinished
        }
    }
}

/// Whether a download failed for want of room: the disk, or the user's quota, is full.
fn no_room(err: &Error) -> bool {
    use std::io::ErrorKind::{QuotaExceeded, StorageFull};
    matches!(err.failure(), Error::Io { failure, .. } if matches!(failure.kind(), StorageFull | QuotaExceeded))
}

/// The journal's rows of files saved, their paths relative to the output folder. The field's
/// name and the URL are the server's text, kept printable as the reasons are: `sqlite3` shows
/// them raw.
fn file_rows(ctx: &Ctx, saved: &[DownloadedFile]) -> Vec<FileRow> {
    saved
        .iter()
        .map(|f| FileRow {
            path: relative(&ctx.out, &f.path),
            field: runcomfy::error::printable(&f.field, runcomfy::error::SHOWN_CHARS).into_owned(),
            index: f.index.map(|i| i as u64),
            bytes: f.bytes,
            content_type: f.content_type.clone(),
            url: Some(runcomfy::error::printable_url(&f.url).into_owned()),
            sha256: Some(f.sha256.clone()),
        })
        .collect()
}

/// What `job` gave, for its record.
fn ended<'a>(
    job: &'a DynJob,
    output: &'a DynOutput,
    cost: Option<runcomfy::price::Usd>,
) -> crate::record::Ended<'a> {
    crate::record::Ended {
        request_id: job.id(),
        cost,
        cost_unread: job.cost_unread(),
        output: Some(output),
        error: None,
    }
}

fn download_refused(err: &Error) -> bool {
    match err.failure() {
        Error::Download { reason, .. } => reason.is_refusal(),
        // An output naming no file gives the same every time.
        Error::TooManyFiles { .. } | Error::UnreadableOutput { .. } => true,
        _ => false,
    }
}

/// A failed wait or download: notes it, backs off, and gives up (leaving the line for the
/// next run) after [`MAX_TRANSIENT_ROUNDS`].
async fn transient(ctx: &Ctx, line: u64, rounds: u32, reason: &str) -> Option<Outcome> {
    // Disowned meanwhile: no longer followed.
    if is_disowned(ctx, line) {
        return Some(Outcome::Unknown);
    }
    let note = reason.to_owned();
    if let Err(err) = journal(ctx, move |j| j.note(line, &note)).await {
        fatal(ctx, err);
        return Some(Outcome::Unfinished);
    }
    if rounds >= MAX_TRANSIENT_ROUNDS {
        ctx.progress
            .println(&format!("line {line}: left for the next run: {reason}"));
        return Some(Outcome::Unfinished);
    }
    ctx.progress.println(&format!(
        "line {line}: {reason}; trying again (attempt {} of {MAX_TRANSIENT_ROUNDS})",
        rounds + 1
    ));
    tokio::time::sleep(backoff(rounds)).await;
    None
}

/// 1 s, 2 s, 4 s ... up to [`MAX_PAUSE`].
fn backoff(rounds: u32) -> Duration {
    runcomfy::retry::doubling(rounds, MAX_PAUSE)
}

async fn fail_line(ctx: &Ctx, line: u64, reason: &str) -> Outcome {
    fail_saving(ctx, line, reason, Vec::new()).await
}

/// [`fail_line`] for a submitted line that saved `files` before it failed.
async fn fail_saving(ctx: &Ctx, line: u64, reason: &str, files: Vec<FileRow>) -> Outcome {
    // Disowned meanwhile: unknown, as the journal has it, whatever its job did.
    if is_disowned(ctx, line) {
        return Outcome::Unknown;
    }
    let reason = reason.to_owned();
    ctx.progress
        .println(&format!("line {line}: failed: {reason}"));
    let failed = move |j: &mut Journal| {
        if files.is_empty() {
            j.mark_failed(line, &reason)
        } else {
            j.mark_failed_with(line, &files, &reason)
        }
    };
    match journal(ctx, failed).await {
        Ok(()) => Outcome::Failed,
        Err(err) => {
            fatal(ctx, err);
            Outcome::Unfinished
        }
    }
}

/// A pending line that cannot be sent: failed, nothing paid.
async fn fail_pending(ctx: &Ctx, line: u64, reason: &str) -> Outcome {
    fail_line(ctx, line, reason).await
}

/// The server refused the line's submit: failed, and the submit is not counted (nothing was
/// accepted, so nothing was paid).
async fn fail_submitting(ctx: &Ctx, line: u64, reason: &str) -> Outcome {
    let note = reason.to_owned();
    match journal(ctx, move |j| j.mark_refused(line, &note)).await {
        Ok(()) => {
            ctx.progress
                .println(&format!("line {line}: refused: {reason}"));
            Outcome::Failed
        }
        Err(err) => {
            fatal(ctx, err);
            Outcome::Unfinished
        }
    }
}

/// Runs a journal change on the blocking pool (each is a synchronous, fsynced commit).
async fn journal<T: Send + 'static>(
    ctx: &Ctx,
    change: impl FnOnce(&mut Journal) -> Result<T, BatchError> + Send + 'static,
) -> Result<T, BatchError> {
    let journal = Arc::clone(&ctx.journal);
    tokio::task::spawn_blocking(move || {
        let mut guard = journal.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut guard)
    })
    .await
    .map_err(|err| BatchError::Internal(format!("journal task: {err}")))?
}

/// Records the first error that stops the batch, and stops it.
fn fatal(ctx: &Ctx, err: BatchError) {
    // The caller gets the error itself (`BatchError::Halted`): a log line at error level would
    // say it twice.
    tracing::info!(%err, "stopping the batch");
    let mut guard = ctx.fatal.lock().unwrap_or_else(PoisonError::into_inner);
    if guard.is_none() {
        *guard = Some(err);
    }
    ctx.halt.request();
}

/// `path` relative to `out`, with `/` separators.
fn relative(out: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(out).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A batch-wide pause of submits after rate limits, growing while they last.
#[derive(Debug, Default)]
struct SubmitGate {
    not_before: Mutex<Option<Instant>>,
    strikes: AtomicU32,
}

impl SubmitGate {
    async fn wait(&self) {
        loop {
            let until = *self
                .not_before
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match until {
                Some(until) if until > Instant::now() => {
                    tokio::time::sleep_until(until.into()).await;
                }
                _ => return,
            }
        }
    }

    /// Closes the gate: for the server's `retry_after`, or without one longer the more pauses
    /// in a row (up to [`MAX_PAUSE`]). The pause, when it is worth saying: it is long, and it moved the
    /// gate's opening on by more than a second (many lines refused at once say it once).
    fn pause(&self, retry_after: Option<Duration>) -> Option<Duration> {
        let mut guard = self
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        // Lines refused while a pause holds were sent before it: one more pause in the row
        // only once it is over, not one per line refused at once.
        let strikes = match guard.is_none_or(|until| until <= now) {
            true => self.strikes.fetch_add(1, Ordering::Relaxed) + 1,
            false => self.strikes.load(Ordering::Relaxed).max(1),
        };
        // As long as the server asks, when it says (QA repro45 N2: "paused for 8s ... retry
        // after 2s"); longer the more pauses in a row when it does not. A second at least: a
        // server that says "now" and refuses again is not asked forty times in a row at once.
        let delay = match retry_after {
            Some(after) => after.max(backoff(1)),
            None => backoff(strikes).min(MAX_PAUSE),
        };
        let until = now + delay;
        let moved = guard.is_none_or(|current| current + Duration::from_secs(1) < until);
        if guard.is_none_or(|current| current < until) {
            *guard = Some(until);
        }
        tracing::info!(?delay, "submits paused after a rate limit");
        (moved && delay >= PAUSE_WORTH_SAYING).then_some(delay)
    }

    fn succeeded(&self) {
        self.strikes.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "not found" soon after the submit is a server catching up, whatever the wall clock
    /// did since: this run's submits are aged by the monotonic clock, and a submit time the
    /// wall clock has not reached yet (it stepped back) is young.
    #[test]
    fn a_job_is_young_by_the_monotonic_clock_and_never_old_for_a_clock_gone_back()
    -> Result<(), Box<dyn std::error::Error>> {
        let client = Client::builder()
            .token("sk-test")
            .base_url("http://127.0.0.1:9")
            .build()?;
        let submitted = |at: std::time::SystemTime| -> Result<(DynJob, Row), Error> {
            let job = client.resume_json(&JobRecord {
                request_id: "r".into(),
                model_id: "bytedance/seedream-4-0/edit".into(),
                submitted_at: Some(at),
            })?;
            let row = Row {
                number: 1,
                key: None,
                dir: Some("line-1".into()),
                model: Some("bytedance/seedream-4-0/edit".into()),
                input: Some("{}".into()),
                state: State::Submitted,
                request_id: Some("r".into()),
                reason: None,
                submits: 1,
                estimate: None,
                basis: None,
                cost: None,
                submitted_at: Some(at),
                unseen: None,
                cost_unread: None,
            };
            Ok((job, row))
        };
        let now = std::time::SystemTime::now();
        let hour = Duration::from_secs(3600);
        let (job, row) = submitted(now - hour)?;
        assert!(!is_young(&job, &row));
        let (job, row) = submitted(now)?;
        assert!(is_young(&job, &row));
        // A submit time the wall clock has not reached: it stepped back since.
        let (job, row) = submitted(now + hour)?;
        assert!(is_young(&job, &row));
        Ok(())
    }

    #[test]
    fn a_full_disk_is_no_room_whatever_wraps_it() {
        let full = || Error::Io {
            path: "out/line-1/images-0.png".into(),
            failure: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert!(no_room(&full()));
        let wrapped = Error::NotAllSaved {
            saved: Vec::new(),
            failure: Box::new(full()),
            others: Vec::new(),
        };
        assert!(no_room(&wrapped));
        let denied = Error::Io {
            path: "out".into(),
            failure: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert!(!no_room(&denied));
    }

    /// A server's `Retry-After` is the pause, however many came before it (a second at
    /// least); without one the pause grows with each pause in a row, not with each line
    /// refused while one holds.
    #[test]
    fn a_pause_is_the_servers_when_it_says_and_grows_by_pauses_in_a_row_when_not() {
        let gate = SubmitGate::default();
        let left = || {
            let until = *gate
                .not_before
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            until.map(|until| until.saturating_duration_since(Instant::now()))
        };
        gate.pause(None);
        // Lines refused while that pause holds: no longer a pause.
        gate.pause(None);
        gate.pause(None);
        assert!(
            left().is_some_and(|left| left <= backoff(1)),
            "{:?}",
            left()
        );
        assert_eq!(gate.strikes.load(Ordering::Relaxed), 1);
        *gate
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        gate.pause(None);
        assert!(left().is_some_and(|left| left > backoff(1)), "{:?}", left());
        *gate
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        assert_eq!(gate.pause(Some(Duration::from_secs(2))), None);
        assert!(
            left().is_some_and(|left| left <= Duration::from_secs(2) && left > backoff(1)),
            "{:?}",
            left()
        );
        *gate
            .not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        gate.pause(Some(Duration::ZERO));
        assert!(
            left().is_some_and(|left| left > Duration::from_millis(900)),
            "{:?}",
            left()
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(30), MAX_PAUSE);
    }

    #[test]
    fn paths_are_relative_with_slashes() {
        let out = Path::new("/tmp/out");
        assert_eq!(
            relative(out, &out.join("line-1").join("images-0.png")),
            "line-1/images-0.png"
        );
    }
}
