//! Waiting for a job: the poll loop behind [`Job::wait`], its updates (a callback or a
//! stream), and the deadline that best-effort cancels a queued job.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::Stream;
use tracing::Instrument as _;

use crate::api::job::{Job, JobState, lacks_output, no_output, result_state};
use crate::api::poll::{InFlight, Known, PollState};
use crate::error::{CancelAttempt, Error};
use crate::http::dates::{self, parse_rfc3339};
use crate::http::wire::ResultReply;
use crate::model::Model;

/// Longest a best-effort cancel (on a deadline, or after Ctrl-C) may take.
pub const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long before a deadline the last look is taken, when the schedule has no poll left
/// before it (a quarter of the timeout, if that is shorter).
const LAST_LOOK: Duration = Duration::from_secs(1);

/// How far the server's own run time may stray from what the polls saw and still be taken
/// (or a tenth of the observed time, if that is more): the server dates the job a reply's
/// trip before the client learns of it.
const SERVER_CLOCK_SLACK: Duration = Duration::from_millis(250);

/// Options of [`Job::wait_with`] and [`Job::updates`].
#[derive(Debug, Clone, Default)]
pub struct WaitOptions {
    timeout: Option<Duration>,
    keep_queued: bool,
    ride_out: Option<Duration>,
}

/// How long polls may keep failing in ways that pass before a wait gives up, by default: a
/// load balancer's blip or a deploy should not end the wait of a job that is paid for.
const RIDE_OUT: Duration = Duration::from_secs(60);

/// The longest pause between polls while they fail.
const RIDE_OUT_MAX_PAUSE: Duration = Duration::from_secs(8);

impl WaitOptions {
    /// Wait forever (as long as calls succeed).
    pub fn new() -> Self {
        Self::default()
    }

    /// Give up after this long (from the call to `wait`) with [`Error::Timeout`]; a job still
    /// queued then is asked to cancel, so it is not run and billed after you gave up.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Leave a queued job queued on timeout, rather than cancelling it.
    pub fn keep_queued_on_timeout(mut self) -> Self {
        self.keep_queued = true;
        self
    }

    /// How long polls may keep failing with errors that pass (5xx, a broken connection, a
    /// rate limit, an unreadable reply: each poll already retried) before the wait gives up
    /// with the last one;
    /// 60 s by default, zero to give up at the first. The job is polled again 1, 2, 4 then
    /// every 8 s meanwhile, and a deadline ([`timeout`](Self::timeout)) still holds.
    pub fn ride_out(mut self, outage: Duration) -> Self {
        self.ride_out = Some(outage);
        self
    }
}

/// One observation of a job while waiting: after each poll, including one that failed while
/// the wait rides out an outage ([`outage`](Self::outage)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The state seen; during an outage, the last one seen ([`JobState::Unknown`] before any).
    pub state: JobState,
    /// The position in the queue, while queued (from the second poll of a queued job on: the
    /// first one asks for the result, which does not say).
    pub queue_position: Option<u64>,
    /// Time since the submit was accepted (or since waiting began, for a job rebuilt without
    /// its submit time).
    pub elapsed: Duration,
    /// Status and result calls made so far by this wait.
    pub polls: u32,
    /// Set while polls fail and the wait rides it out; `None` once one answers.
    pub outage: Option<Outage>,
}

/// Polls failing in ways that pass (a 5xx, a broken connection, a rate limit), which the wait
/// rides out for a while ([`WaitOptions::ride_out`]) before giving up with the last error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outage {
    /// Whether the last failure was the API asking to poll less often (429): it answers,
    /// only not with the job's state.
    pub rate_limited: bool,
    /// How long polls have been failing.
    pub lasted: Duration,
    /// How long more the wait rides it out before it gives up.
    pub gives_up_in: Duration,
    /// The last failure, as text (scrubbed of the token, as every error is).
    pub error: String,
}

/// When a job was first seen running, told by the [`Update`]s of its waits: what a record's
/// `started` is. A job that ended between two polls was never seen running, and has none
/// (not the time its end was noticed, after the server's finish).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstSeenRunning(Option<SystemTime>);

impl FirstSeenRunning {
    /// Notes the update: the first one that says running dates the start.
    pub fn see(&mut self, update: &Update) {
        if update.state == JobState::InProgress {
            self.0.get_or_insert_with(crate::clock::now);
        }
    }

    /// When the job was first seen running, if it was.
    pub fn at(&self) -> Option<SystemTime> {
        self.0
    }
}

impl<M: Model> Job<M> {
    /// Polls until the job ends; returns its output, [`Error::JobFailed`] or
    /// [`Error::Cancelled`].
    pub async fn wait(&self) -> Result<M::Output, Error> {
        self.wait_with(WaitOptions::default(), |_| {}).await
    }

    /// [`wait`](Self::wait) with options, calling `on_update` after every poll.
    pub async fn wait_with(
        &self,
        options: WaitOptions,
        mut on_update: impl FnMut(&Update),
    ) -> Result<M::Output, Error> {
        let mut poller = Poller::new(self, options);
        let span = self.span("wait");
        async {
            while let Some(update) = poller.next().await {
                on_update(&update?);
            }
            Ok::<(), Error>(())
        }
        .instrument(span)
        .await?;
        match self.cached() {
            Some(reply) => self.output_of(&reply),
            None => self.result().await,
        }
    }

    /// The updates of [`wait_with`](Self::wait_with) as a stream that ends after the terminal
    /// one (or an error); then [`result`](Self::result) answers without another call.
    pub fn updates(&self, options: WaitOptions) -> impl Stream<Item = Result<Update, Error>> + '_ {
        let span = self.span("wait");
        futures::stream::unfold(Poller::new(self, options), move |mut poller| {
            let span = span.clone();
            async move {
                let item = poller.next().instrument(span).await?;
                Some((item, poller))
            }
        })
    }
}

/// The poll loop's state.
struct Poller<'a, M: Model> {
    job: &'a Job<M>,
    /// When `elapsed` counts from.
    origin: Instant,
    /// When the run started (or the submit was accepted), for the schedule; `None` when
    /// unknown (a resumed job that was never seen queued).
    run_start: Option<Instant>,
    /// The run registered with the model's history while it is waited for.
    in_flight: Option<InFlight<'a>>,
    deadline: Option<(Instant, Duration)>,
    keep_queued: bool,
    last_state: Option<JobState>,
    last_poll: Option<Instant>,
    /// The last poll that saw the job not yet finished.
    last_pending: Option<Instant>,
    /// The jobs ahead of it in the queue, as the last poll saw (if queued and the server said).
    queue_ahead: Option<u64>,
    seen_queued: bool,
    polls: u32,
    /// The poll just before the deadline was taken.
    looked_last: bool,
    done: bool,
    ride_out: Duration,
    /// Since when polls have failed in ways that pass, and how many did.
    failing: Option<(Instant, u32)>,
}

impl<'a, M: Model> Poller<'a, M> {
    fn new(job: &'a Job<M>, options: WaitOptions) -> Self {
        let now = Instant::now();
        let history = &job.client().inner.history;
        Self {
            job,
            origin: job.accepted.map_or(now, |a| a.at),
            run_start: job.accepted.map(|a| a.at),
            in_flight: job
                .accepted
                .map(|a| history.run_started(job.model_id(), a.at)),
            deadline: options.timeout.map(|t| (dates::later(now, t), t)),
            keep_queued: options.keep_queued,
            last_state: None,
            last_poll: None,
            last_pending: None,
            queue_ahead: None,
            seen_queued: false,
            polls: 0,
            looked_last: false,
            done: job.cached().is_some(),
            ride_out: options.ride_out.unwrap_or(RIDE_OUT),
            failing: None,
        }
    }

    async fn next(&mut self) -> Option<Result<Update, Error>> {
        if self.done {
            return None;
        }
        Some(match self.poll_when_due().await {
            Ok(update) => {
                self.failing = None;
                Ok(update)
            }
            // Info, not a warning: riding it out is the expected course, and a CLI's default
            // log level would print each one over its progress. The update says it, so no one
            // takes the silence for a job still running.
            Err(err) if self.rides_out(&err) => {
                tracing::info!(%err, "poll failed; polling again");
                Ok(self.outage_update(&err))
            }
            Err(err) => {
                self.done = true;
                Err(err)
            }
        })
    }

    /// Whether a failed poll is waited out: an error that passes, within the outage allowed.
    fn rides_out(&mut self, err: &Error) -> bool {
        // An unreadable reply too: a proxy's maintenance page sent with 200, or a reply cut
        // short, passes as an outage does. One that stays unreadable ends the wait a minute
        // later, with the same error.
        let passes = matches!(
            err,
            Error::Server { .. }
                | Error::Transport { .. }
                | Error::RateLimited { .. }
                | Error::InvalidResponse { .. }
        );
        if !passes {
            return false;
        }
        let now = Instant::now();
        let (since, failures) = self.failing.get_or_insert((now, 0));
        *failures += 1;
        let left = self
            .ride_out
            .saturating_sub(now.saturating_duration_since(*since));
        // Asked to wait past the outage allowed: polling on until then cannot pass it (QA
        // repro37 L3: a `Retry-After` of 2100 was polled against for a minute).
        let asked_longer = matches!(
            err,
            Error::RateLimited { retry_after: Some(after), .. } if *after > left
        );
        !left.is_zero() && !asked_longer
    }

    /// The update of a failed poll that is ridden out: the last state seen, and the outage.
    fn outage_update(&self, err: &Error) -> Update {
        let now = Instant::now();
        let lasted = self.failing.map_or(Duration::ZERO, |(since, _)| {
            now.saturating_duration_since(since)
        });
        Update {
            state: self.last_state.unwrap_or(JobState::Unknown),
            queue_position: None,
            elapsed: now.saturating_duration_since(self.origin),
            polls: self.polls,
            outage: Some(Outage {
                rate_limited: matches!(err.failure(), Error::RateLimited { .. }),
                lasted,
                gives_up_in: self.ride_out.saturating_sub(lasted),
                error: err.to_string(),
            }),
        }
    }

    /// Sleeps until the next poll is due and takes it, or ends the wait at its deadline.
    async fn poll_when_due(&mut self) -> Result<Update, Error> {
        let delay = match self.failing {
            Some((_, failures)) => crate::http::retry::doubling(failures, RIDE_OUT_MAX_PAUSE),
            None => self.next_delay(),
        };
        let now = Instant::now();
        let mut wake = dates::later(now, delay);
        if let Some((deadline, after)) = self.deadline
            && wake >= deadline
        {
            if self.looked_last {
                tokio::time::sleep_until(deadline.into()).await;
                return Err(self.time_out().await);
            }
            // No poll is due before the deadline: look once before it, so a job that ended
            // is returned, and one that runs is not asked to cancel unseen.
            self.looked_last = true;
            let before = LAST_LOOK.min(after / 4);
            wake = deadline.checked_sub(before).unwrap_or(now).max(now);
        }
        tokio::time::sleep_until(wake.into()).await;
        match self.deadline {
            Some((deadline, _)) => {
                match tokio::time::timeout_at(deadline.into(), self.poll_once()).await {
                    Ok(polled) => polled,
                    Err(_) => Err(self.time_out().await),
                }
            }
            None => self.poll_once().await,
        }
    }

    /// The schedule's next delay, from what the client knows now. Run times learned while
    /// this job runs count as its own history only from runs that started well before it
    /// (`poll::Known`): of the runs started with it only the shorter can have ended, and
    /// planning from those as if they were the whole would pull its polls ahead of it (a
    /// batch started at once, measured: BENCHMARKS.md §4).
    fn next_delay(&mut self) -> Duration {
        let inner = &self.job.client().inner;
        let now = Instant::now();
        let queued = self.last_state == Some(JobState::InQueue);
        // A fixed interval plans from nothing: it is spared the history's lookup.
        let known = if inner.poll.plans_from_history() {
            inner.history.known(self.job.model_id(), self.run_start)
        } else {
            Known::Nothing
        };
        let state = PollState {
            since_start: self.run_start.map(|s| now.saturating_duration_since(s)),
            queued,
            ahead: self.queue_ahead.filter(|_| queued),
            since_last_poll: self.last_poll.map(|p| now.saturating_duration_since(p)),
        };
        inner.poll.next_delay(&known, state)
    }

    /// One poll: the status call while queued (it has the queue position), else the result
    /// call, which also carries the output once done.
    async fn poll_once(&mut self) -> Result<Update, Error> {
        let mut queue_position = None;
        let mut finished: Option<Arc<ResultReply>> = None;
        let state = if self.last_state == Some(JobState::InQueue) {
            self.polls += 1;
            let status = self.job.status().await?;
            queue_position = status.queue_position;
            if status.state.is_terminal() {
                self.polls += 1;
                // The result decides: it may lag behind the status and still say running.
                self.read_result(&mut finished).await?
            } else {
                status.state
            }
        } else {
            self.polls += 1;
            self.read_result(&mut finished).await?
        };
        let now = Instant::now();
        self.queue_ahead = queue_position;
        if state == JobState::InQueue {
            self.seen_queued = true;
        } else if self.last_state == Some(JobState::InQueue)
            || (self.run_start.is_none() && self.seen_queued)
        {
            // Left the queue between the last poll and this one: take the midpoint as the
            // start of the run.
            let before = self.last_poll.unwrap_or(now);
            let start = before + now.saturating_duration_since(before) / 2;
            self.run_start = Some(start);
            let job = self.job;
            self.in_flight = Some(
                job.client()
                    .inner
                    .history
                    .run_started(job.model_id(), start),
            );
        }
        if let Some(reply) = &finished {
            self.done = true;
            // Ended: the run times it planned from need no longer be kept for it.
            self.in_flight = None;
            if state == JobState::Succeeded {
                self.learn(reply, now);
            }
            tracing::info!(%state, polls = self.polls, "finished");
        } else {
            self.last_pending = Some(now);
        }
        self.last_state = Some(state);
        self.last_poll = Some(now);
        Ok(Update {
            state,
            queue_position,
            elapsed: now.saturating_duration_since(self.origin),
            polls: self.polls,
            outage: None,
        })
    }

    /// A result call: the state it says, with the reply in `finished` once the job ended. A
    /// job that ended with no output to give ends the wait with an error; it is still a job
    /// the server says has run, which a deadline then does not try to cancel as queued.
    async fn read_result(
        &mut self,
        finished: &mut Option<Arc<ResultReply>>,
    ) -> Result<JobState, Error> {
        let reply = self.job.fetch_result().await?;
        let state = result_state(&reply);
        if state.is_terminal() {
            if lacks_output(&reply) {
                self.last_state = Some(state);
                return Err(no_output(self.job.id(), &reply));
            }
            *finished = Some(reply);
        }
        Ok(state)
    }

    /// Records how long the run took: what the polls around the end saw, or the server's
    /// timestamps when they are precise, the job was never seen queued, and they agree with
    /// what the polls saw. A server's clock alone is not trusted: one job whose timestamps are
    /// hours apart would put the first poll of every later job of the model hours away.
    fn learn(&self, reply: &ResultReply, seen_done: Instant) {
        let Some(run_start) = self.run_start else {
            return;
        };
        // The run ended after the last poll that saw it pending, and before this one.
        let pending = self.last_pending.filter(|pending| *pending > run_start);
        // A job resumed from a record may have queued, or ended, at any time while nobody
        // looked: its submit bounds nothing. Only a start this wait saw (it left the queue
        // between two polls) dates its run.
        let from_record = self.job.accepted.is_some_and(|a| a.from_record);
        if from_record && !self.seen_queued {
            return;
        }
        let least = pending.map_or(Duration::ZERO, |p| p.saturating_duration_since(run_start));
        let most = seen_done.saturating_duration_since(run_start);
        let observed = match pending {
            Some(pending) => {
                let end = pending + seen_done.saturating_duration_since(pending) / 2;
                end.saturating_duration_since(run_start)
            }
            None => most,
        };
        let slack = SERVER_CLOCK_SLACK.max(most / 10);
        let server = match (&reply.created_at, &reply.finished_at) {
            (Some(created), Some(finished)) if !self.seen_queued => {
                match (parse_rfc3339(created), parse_rfc3339(finished)) {
                    (Some(c), Some(f)) if c.sub_second && f.sub_second => {
                        f.at.duration_since(c.at).ok()
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let agrees = |run: &Duration| *run + slack >= least && *run <= most + slack;
        if let Some(run) = server.filter(|run| !agrees(run)) {
            tracing::debug!(server = ?run, ?least, ?most, "the server's run time disagrees with the polls; not used");
        }
        let run_time = server.filter(agrees).unwrap_or(observed);
        tracing::debug!(?run_time, "learned run time");
        self.job
            .client()
            .inner
            .history
            .record(self.job.model_id(), run_start, run_time);
    }

    /// The deadline passed: cancel a job that may still be queued, then report the timeout.
    async fn time_out(&mut self) -> Error {
        self.done = true;
        let after = self.deadline.map(|(_, t)| t).unwrap_or_default();
        let maybe_queued = matches!(self.last_state, None | Some(JobState::InQueue));
        let cancel = if maybe_queued && !self.keep_queued {
            let held = self.job.client().inner.http.rate_limited_for();
            Some(match held {
                // A cancel would wait out the server's `Retry-After` far past the deadline:
                // not sent, and said so (the job may run, and be billed).
                Some(left) if left > CANCEL_TIMEOUT => {
                    CancelAttempt::Failed(Box::new(Error::RateLimited {
                        request_id: Some(self.job.id().to_owned()),
                        retry_after: Some(left),
                    }))
                }
                _ => match tokio::time::timeout(CANCEL_TIMEOUT, self.job.cancel()).await {
                    Ok(Ok(outcome)) => CancelAttempt::Answered(outcome),
                    Ok(Err(err)) => CancelAttempt::Failed(Box::new(err)),
                    Err(_) => CancelAttempt::Unanswered(CANCEL_TIMEOUT),
                },
            })
        } else {
            None
        };
        Error::Timeout {
            request_id: self.job.id().to_owned(),
            after,
            cancel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(state: JobState) -> Update {
        Update {
            state,
            queue_position: None,
            elapsed: Duration::ZERO,
            polls: 1,
            outage: None,
        }
    }

    #[test]
    fn a_start_is_the_first_update_that_says_running() {
        let mut started = FirstSeenRunning::default();
        started.see(&update(JobState::InQueue));
        started.see(&update(JobState::Completed));
        assert_eq!(started.at(), None, "ended between two polls: no start");
        started.see(&update(JobState::InProgress));
        let first = started.at();
        assert!(first.is_some());
        std::thread::sleep(Duration::from_millis(2));
        started.see(&update(JobState::InProgress));
        assert_eq!(started.at(), first);
    }
}
