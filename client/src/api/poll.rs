//! When to poll a running job: a schedule that learns, per model, how long jobs take.
//!
//! A job plans from what is known when it polls, best first:
//!
//! - **its model's runs that started before its own** (`Known::Own`): eleven polls at the
//!   quantiles 1 - (1 - i/11)^3 of their run times, sparse early in the range and dense
//!   towards the longest run seen (never closer than 200 ms), then backing off if the job
//!   overruns. With fewer than three runs, over a window widened by 10%/√n each way instead
//!   (one poll more, crowding less: 1 - (1 - i/12)^2).
//!   Runs that end while it runs and started well before it join in, so a job that began with
//!   a biased or small history improves on it.
//! - **its model's runs that ended while it ran** (`Known::Concurrent`): started with it (a
//!   batch), only the shorter of them can have ended, so the window is widened by 30%.
//! - **its family's runs** (`Known::Family`): the run times of sibling models, those whose
//!   id shares all but its last segment(s) (`bytedance/seedream-4-0/edit` and
//!   `.../sequential`), widened by 10%.
//! - **nothing**: a poll every 2 s from the start of the run, on a fixed grid (a job of 20 s
//!   costs ten requests, as with RunComfy's CLI, and is seen no later); every 4 s while other
//!   runs of the model are waited for (`Known::Cohort`: a batch that starts cold), since the
//!   first of them to end teaches the rest.
//!
//! A queued job with a plan is polled every second near the front of the queue, to date the
//! start its plan is laid out from; further back, or with no plan, at the cold pace, no more
//! often than RunComfy's CLI.
//!
//! The history lives in the [`Client`](crate::Client), shared by its clones, and can be
//! exported and imported ([`PollHistorySnapshot`]) so a CLI can keep it between runs. It holds
//! only run times the client observed (`client/src/api/wait.rs`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How often a job is polled while waiting.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PollPolicy {
    /// Learn from finished jobs (the default).
    Adaptive(AdaptivePolling),
    /// Poll at a fixed interval (tests, or servers whose run times are erratic).
    Fixed(Duration),
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy::Adaptive(AdaptivePolling::default())
    }
}

impl PollPolicy {
    /// A fixed interval.
    pub fn fixed(interval: Duration) -> Self {
        PollPolicy::Fixed(interval)
    }
}

/// The knobs of the adaptive schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptivePolling {
    cold_first: Duration,
    cold_max: Duration,
    min_interval: Duration,
    planned_polls: usize,
    margin: Duration,
    overrun_max: Duration,
    warm_after: usize,
    max_gap: Duration,
}

impl Default for AdaptivePolling {
    fn default() -> Self {
        Self {
            cold_first: Duration::from_secs(2),
            cold_max: Duration::from_secs(2),
            min_interval: Duration::from_millis(200),
            planned_polls: 11,
            margin: Duration::ZERO,
            overrun_max: Duration::from_secs(4),
            warm_after: 3,
            max_gap: MAX_GAP,
        }
    }
}

/// The longest a planned job goes unpolled. A plan from runs of minutes would otherwise first
/// look at the job minutes after its submit: its queue, a failure at once or a far shorter run
/// (a history learned from one slow job) unseen, and no progress to show meanwhile. Longer
/// than the first planned poll of jobs of 20 s, whose figures it leaves as they were.
const MAX_GAP: Duration = Duration::from_secs(30);

/// How strongly planned polls crowd towards the longest run time seen. An exponent of 2 puts
/// them at a density of 1/√(share of jobs still running), which minimises mean requests plus
/// mean delay for evenly spread run times; 3 leans further towards the end, which the median
/// delay rewards (a poll there is cheap and catches jobs in a short gap), at some cost to
/// early finishers. With eleven polls the median notice stays under the 200 ms floor's kink
/// whatever the history's draw: ten polls at 2.5 met it only on average (BENCHMARKS.md §4).
const CROWDING: f64 = 3.0;

/// The same over a window widened from other runs than the job's model's own (a sibling's, or
/// those that ended while it ran): its far end is a guess past the longest run seen, where few
/// jobs end, so its polls crowd less (a sibling's history of 19-21 s runs: median notice
/// 316 ms over 200 draws against 388 at [`CROWDING`], for 1 request more on average). The
/// model's own one or two runs crowd as many do: over 3,000 draws of 19-21 s jobs, 4.1 and
/// 4.4 requests against 4.6 and 4.8 at this exponent, at the same median notice (BENCHMARKS.md
/// §8).
const GUESSED_CROWDING: f64 = 2.0;

/// The longest interval between polls of a queued job that has a plan, near the front of the
/// queue: its run's start is dated from them, and the plan is laid out from that start.
/// Further back, or with no plan (its grid's phase does not matter), it polls at the cold
/// pace: faster would cost more requests than RunComfy's CLI while the queue lasts.
const QUEUED_MAX: Duration = Duration::from_secs(1);

/// The most jobs ahead of a queued job that count as the front of the queue: it may start
/// before a poll at the cold pace would see. One, not zero: a server may count from either.
const QUEUE_FRONT: u64 = 1;

/// How far the window of a history of one run is widened each way (a history of n runs:
/// this / √n), until [`AdaptivePolling::with_warm_after`] runs make its quantiles trusted.
/// 10% covers a model whose runs vary by ±10% from the second run on; wider costs requests
/// and notice (BENCHMARKS.md §4, histories of 1 to 32 runs).
const FEW_WIDEN: f64 = 0.10;

/// How far the window of runs that ended while a job ran is widened each way: started with
/// it, only the shorter of them can have ended yet.
const CONCURRENT_WIDEN: f64 = 0.30;

/// How far the window of a family's run times is widened each way: a sibling model is a
/// guess at this one's run time, not a measure of it.
const FAMILY_WIDEN: f64 = 0.10;

/// Runs that started within this of a job's own count as started with it: their run times
/// are biased short while it runs (only the shorter can have ended), so they are not its own
/// history. Starts are dated by polls, to within about this much.
const STARTED_TOGETHER: Duration = Duration::from_millis(250);

/// How much sparser the cold grid is while other runs of the model are being waited for and
/// none has ended (a batch that starts cold): the first of them to end teaches every other
/// one the run time, so each pays for half the polls before then, and the first end is seen
/// up to 4 s late instead of 2. A cold batch of 40 (BENCHMARKS.md §8): 5.75 requests a job
/// instead of 6.28 at a median notice of 167 ms; its first jobs' p95 notice 2.5 s.
const COHORT_SPARSER: f64 = 2.0;

/// What a job knows of how long its run will take, best first; each list sorted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Known {
    /// Run times of its model's runs that started before its own.
    Own(Vec<Duration>),
    /// Run times of its model's runs that ended while it ran, started with it or after it.
    Concurrent(Vec<Duration>),
    /// Run times of sibling models (its family: the id without its last segments).
    Family(Vec<Duration>),
    /// Nothing yet, while other runs of its model are being waited for (a batch that starts
    /// cold): a sparser cold grid, [`COHORT_SPARSER`].
    Cohort,
    /// Nothing: the cold grid.
    Nothing,
}

impl AdaptivePolling {
    /// Without history: the first poll after `first`, then one every `max`, queued or
    /// running. A queued job with history is polled every `first` (at most a second apart)
    /// near the front of the queue.
    pub fn with_cold(mut self, first: Duration, max: Duration) -> Self {
        self.cold_first = first;
        self.cold_max = max.max(first);
        self
    }

    /// The densest polling, near the expected end.
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval;
        self
    }

    /// How many polls are planned over the run times seen so far (at quantiles that crowd
    /// towards the longest); fewer polls means fewer requests and a later notice.
    pub fn with_planned_polls(mut self, polls: usize) -> Self {
        self.planned_polls = polls.max(1);
        self
    }

    /// Added to each planned poll. None by default: a poll reaches the server some time after
    /// it is sent, margin enough for a job ending at the planned point; 60 ms cost the warm
    /// median notice about 35 ms (BENCHMARKS.md §4).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The longest interval once a job runs past every planned poll.
    pub fn with_overrun_max(mut self, max: Duration) -> Self {
        self.overrun_max = max;
        self
    }

    /// The longest wait between two polls of a job with a plan (and before its first).
    pub fn with_max_gap(mut self, gap: Duration) -> Self {
        self.max_gap = gap.max(self.min_interval);
        self
    }

    /// How many finished jobs a model needs before its own history is trusted as is (with
    /// fewer, the window is widened).
    pub fn with_warm_after(mut self, jobs: usize) -> Self {
        self.warm_after = jobs.max(1);
        self
    }

    /// The planned poll times, from the start of the run; `None` with nothing known.
    fn plan(&self, known: &Known) -> Option<Vec<Duration>> {
        let (sorted, widen, crowding) = match known {
            Known::Own(sorted) if sorted.len() >= self.warm_after => (sorted, None, CROWDING),
            // Too few samples to trust their spread: widen the window, less with each.
            Known::Own(sorted) => (
                sorted,
                Some(FEW_WIDEN / (sorted.len() as f64).sqrt()),
                CROWDING,
            ),
            Known::Concurrent(sorted) => (sorted, Some(CONCURRENT_WIDEN), GUESSED_CROWDING),
            Known::Family(sorted) => (sorted, Some(FAMILY_WIDEN), GUESSED_CROWDING),
            Known::Nothing | Known::Cohort => return None,
        };
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        let (lo, hi) = match widen {
            Some(widen) => (first.mul_f64(1.0 - widen), last.mul_f64(1.0 + widen)),
            None => (first, last),
        };
        let at = |q: f64| match widen {
            Some(_) => lo + (hi.saturating_sub(lo)).mul_f64(q),
            None => quantile(sorted, q),
        };
        // Poll i of n at the quantile 1 - (1 - i/n)^CROWDING: a poll at time t is paid only by
        // the jobs still running then, so polls get denser as fewer jobs remain. The median job
        // pays about a quarter of them; the longest delays go to early finishers.
        // A widened window is wider than the spread it guesses at: one more poll keeps the
        // density where jobs end.
        let n = self.planned_polls + usize::from(widen.is_some());
        let points: Vec<Duration> = (1..=n)
            .map(|i| {
                let rest = 1.0 - i as f64 / n as f64;
                at(1.0 - rest.powf(crowding)) + self.margin
            })
            .collect();
        // From the last point down, keep each at least the densest interval before the next
        // (the end of the range becomes an even grid); a point moved before the first one is
        // dropped, so a tight history plans a single poll.
        let floor = *points.first()?;
        let mut kept: Vec<Duration> = Vec::with_capacity(points.len());
        for point in points.into_iter().rev() {
            let point = match kept.last() {
                Some(next) if next.saturating_sub(point) < self.min_interval => {
                    match next.checked_sub(self.min_interval) {
                        Some(moved) => moved,
                        None => break,
                    }
                }
                _ => point,
            };
            if point < floor {
                break;
            }
            kept.push(point);
        }
        kept.reverse();
        Some(kept)
    }

    /// Without history: a poll every `cold_max` (in a cohort, [`COHORT_SPARSER`] times that)
    /// after the first at `cold_first`, on a fixed grid from the start (so slow replies do not
    /// push the polls later, as they do a fixed interval's). No margin: a grid's phase does not
    /// change how late it notices jobs whose ends it cannot foresee, and RunComfy's CLI polls
    /// on the same 2 s.
    fn cold_delay(&self, since_start: Duration, known: &Known) -> Duration {
        let first = self.cold_first;
        if since_start < first {
            return first - since_start;
        }
        let step = match known {
            Known::Cohort => self.cold_max.mul_f64(COHORT_SPARSER),
            _ => self.cold_max,
        };
        let step = step.max(Duration::from_millis(1));
        let past = since_start - first;
        let k = past.as_nanos() / step.as_nanos() + 1;
        let k = u32::try_from(k).unwrap_or(u32::MAX);
        (first + step.saturating_mul(k)).saturating_sub(since_start)
    }

    /// How often a queued job is polled, with a plan to lay out from its start or without,
    /// `ahead` the jobs ahead of it (`None`: not known, as after the first poll, which asks
    /// for the result).
    fn queued_interval(&self, planned: bool, ahead: Option<u64>) -> Duration {
        if planned && ahead.is_none_or(|ahead| ahead <= QUEUE_FRONT) {
            self.cold_first.min(QUEUED_MAX)
        } else {
            self.cold_max
        }
    }
}

/// The `q` quantile of sorted values, interpolated.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let Some(last) = sorted.len().checked_sub(1) else {
        return Duration::ZERO;
    };
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let below = pos.floor() as usize;
    let above = pos.ceil() as usize;
    let (a, b) = (sorted[below.min(last)], sorted[above.min(last)]);
    a + (b.saturating_sub(a)).mul_f64(pos - below as f64)
}

/// Where a job stands, for the schedule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollState {
    /// Time since the run started (or was submitted), if known.
    pub since_start: Option<Duration>,
    /// Whether the last poll saw the job queued.
    pub queued: bool,
    /// How many jobs were ahead of it then, if the server said.
    pub ahead: Option<u64>,
    /// Time since the last poll, if any.
    pub since_last_poll: Option<Duration>,
}

impl PollPolicy {
    /// Whether [`next_delay`](Self::next_delay) looks at what is known of the model.
    pub(crate) fn plans_from_history(&self) -> bool {
        matches!(self, PollPolicy::Adaptive(_))
    }

    /// How long to wait before the next poll.
    pub(crate) fn next_delay(&self, known: &Known, state: PollState) -> Duration {
        let adaptive = match self {
            PollPolicy::Fixed(interval) => return *interval,
            PollPolicy::Adaptive(adaptive) => adaptive,
        };
        let floor = match state.since_last_poll {
            Some(since) => adaptive.min_interval.saturating_sub(since),
            None => Duration::ZERO,
        };
        let plan = adaptive.plan(known);
        let planned = plan.is_some();
        let (Some(since_start), false, Some(plan)) = (state.since_start, state.queued, plan) else {
            return match (state.queued, state.since_start, state.since_last_poll) {
                // Queued: often enough to date the start of the run a plan starts from.
                (true, _, _) => adaptive.queued_interval(planned, state.ahead),
                // Resumed, start unknown: look at once (it may be done), then the cold pace.
                (false, None, None) => Duration::ZERO,
                (false, None, Some(_)) => adaptive.cold_max,
                // No history; a wait begun late looks at once.
                (false, Some(since_start), None) if since_start >= adaptive.cold_first => {
                    Duration::ZERO
                }
                (false, Some(since_start), _) => adaptive.cold_delay(since_start, known).max(floor),
            };
        };
        // The next planned point still ahead (a few ms of slack so a poll that lands just
        // after its point does not plan the same point again).
        let slack = Duration::from_millis(5);
        if let Some(next) = plan.iter().find(|p| **p > since_start + slack) {
            return (*next - since_start).min(adaptive.max_gap).max(floor);
        }
        // Past every planned point: look at once if this wait has not yet (it began late),
        // else back off, starting dense.
        if state.since_last_poll.is_none() {
            return Duration::ZERO;
        }
        let last = plan.last().copied().unwrap_or_default();
        since_start
            .saturating_sub(last)
            .clamp(
                adaptive.min_interval,
                adaptive.overrun_max.max(adaptive.min_interval),
            )
            .max(floor)
    }
}

/// Most run times kept per model; recent ones matter most.
const MAX_SAMPLES: usize = 32;

/// Most run times kept per model while runs in flight still plan from older ones (a batch of
/// more jobs than [`MAX_SAMPLES`] started at once would otherwise evict the whole history
/// each of its jobs plans from, measured: BENCHMARKS.md §4); bounds the memory.
const MAX_KEPT: usize = 4 * MAX_SAMPLES;

/// The longest run time accepted from an import; anything longer is not a run time.
const MAX_SAMPLE: Duration = Duration::from_secs(6 * 3600);

/// One learned run time, and when that run started (`None` for one imported from a save,
/// which is older than anything learned in this process).
type Sample = (Option<Instant>, Duration);

/// Run times per model, shared by every clone of a client.
///
/// Kept in the order the runs *started*, and the earliest-started is dropped first. Kept in
/// the order they ended, a batch of more than [`MAX_SAMPLES`] jobs started together would
/// leave only its slowest, since those end last.
#[derive(Debug, Default)]
pub(crate) struct PollHistory {
    models: Mutex<HashMap<String, VecDeque<Sample>>>,
    /// The starts of the runs being waited for, per model, each with how many started then
    /// ([`InFlight`]): ordered, so the latest is at hand however many run at once.
    running: Mutex<HashMap<String, BTreeMap<Instant, usize>>>,
}

/// A run being waited for, registered with its model's history until dropped: the run times
/// it plans from (those of runs that started before it) are kept while it runs.
#[derive(Debug)]
pub(crate) struct InFlight<'a> {
    history: &'a PollHistory,
    model: &'a str,
    start: Instant,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut running = lock(&self.history.running);
        if let Some(starts) = running.get_mut(self.model) {
            if let Some(count) = starts.get_mut(&self.start) {
                *count -= 1;
                if *count == 0 {
                    starts.remove(&self.start);
                }
            }
            if starts.is_empty() {
                running.remove(self.model);
            }
        }
    }
}

/// A lock whose holder panicked still guards plain data: keep using it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a run that started at `sample` (`None`: imported, older than any) started well
/// before one that started at `run`, so that it is part of that run's own history.
fn started_before(sample: Option<Instant>, run: Instant) -> bool {
    sample.is_none_or(|start| start + STARTED_TOGETHER < run)
}

impl PollHistory {
    fn with_models<R>(&self, f: impl FnOnce(&mut HashMap<String, VecDeque<Sample>>) -> R) -> R {
        f(&mut lock(&self.models))
    }

    /// Registers a run of `model` that started at `start`, being waited for, until the
    /// returned guard is dropped.
    pub fn run_started<'a>(&'a self, model: &'a str, start: Instant) -> InFlight<'a> {
        let mut running = lock(&self.running);
        let starts = match running.get_mut(model) {
            Some(starts) => starts,
            None => running.entry(model.to_owned()).or_default(),
        };
        *starts.entry(start).or_default() += 1;
        drop(running);
        InFlight {
            history: self,
            model,
            start,
        }
    }

    /// Records the run time of a finished job whose run started at `started`.
    pub fn record(&self, model: &str, started: Instant, run_time: Duration) {
        if run_time.is_zero() || run_time > MAX_SAMPLE {
            return;
        }
        // The latest-started run in flight: the runs that started well before it are its
        // history while it runs.
        let latest = lock(&self.running)
            .get(model)
            .and_then(|starts| starts.keys().next_back().copied());
        self.with_models(|models| {
            let samples = match models.get_mut(model) {
                Some(samples) => samples,
                None => models.entry(model.to_owned()).or_default(),
            };
            let at = samples.partition_point(|(start, _)| *start <= Some(started));
            if at == 0 && samples.len() >= MAX_SAMPLES {
                // It started before every run kept: it is the one to drop.
                return;
            }
            samples.insert(at, (Some(started), run_time));
            // The earliest-started go first, unless a run in flight still plans from them.
            while samples.len() > MAX_SAMPLES {
                let relied_on = samples.front().is_some_and(|(start, _)| {
                    latest.is_some_and(|run| started_before(*start, run))
                });
                if relied_on && samples.len() <= MAX_KEPT {
                    break;
                }
                samples.pop_front();
            }
        });
    }

    /// What a job of `model` whose run started at `run_start` knows (`None`: a start not
    /// known, as for a resumed job: every run time of the model is its own).
    pub fn known(&self, model: &str, run_start: Option<Instant>) -> Known {
        let (own, concurrent, family) = self.with_models(|models| {
            let Some(samples) = models.get(model).filter(|s| !s.is_empty()) else {
                return (Vec::new(), Vec::new(), family_of(models, model));
            };
            let before =
                |(start, _): &&Sample| run_start.is_none_or(|run| started_before(*start, run));
            let own: Vec<Duration> = samples.iter().filter(before).map(|(_, d)| *d).collect();
            let all = samples.iter().map(|(_, d)| *d).collect();
            (own, all, Vec::new())
        });
        let sorted = |mut runs: Vec<Duration>| {
            runs.sort();
            runs
        };
        if !own.is_empty() {
            Known::Own(sorted(own))
        } else if !concurrent.is_empty() {
            Known::Concurrent(sorted(concurrent))
        } else if !family.is_empty() {
            Known::Family(sorted(family))
        } else if self.others_waited_for(model, run_start) {
            Known::Cohort
        } else {
            Known::Nothing
        }
    }

    /// Whether runs of `model` other than the one started at `run_start` are being waited for
    /// (asked only when nothing else is known: a batch of many waits keeps this lock cold).
    fn others_waited_for(&self, model: &str, run_start: Option<Instant>) -> bool {
        lock(&self.running).get(model).is_some_and(|starts| {
            let own = run_start.is_some_and(|run| starts.contains_key(&run));
            starts.values().sum::<usize>() > usize::from(own)
        })
    }

    /// The run times of a model, sorted.
    #[cfg(test)]
    pub fn sorted(&self, model: &str) -> Vec<Duration> {
        let mut samples: Vec<Duration> = self.with_models(|models| {
            models
                .get(model)
                .map(|s| s.iter().map(|(_, run_time)| *run_time).collect())
                .unwrap_or_default()
        });
        samples.sort();
        samples
    }

    /// A copy to save.
    pub fn export(&self) -> PollHistorySnapshot {
        self.export_where(|_| true)
    }

    /// A copy of the run times learned in this process, without the imported ones.
    pub fn export_learned(&self) -> PollHistorySnapshot {
        self.export_where(|(started, _)| started.is_some())
    }

    fn export_where(&self, keep: impl Fn(&Sample) -> bool) -> PollHistorySnapshot {
        let models = self.with_models(|models| {
            models
                .iter()
                .filter_map(|(model, samples)| {
                    let mut ms: Vec<u64> = samples
                        .iter()
                        .filter(|sample| keep(sample))
                        .map(|(_, d)| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                        .collect();
                    // The latest-started, as many as are kept when nothing runs.
                    ms.drain(..ms.len().saturating_sub(MAX_SAMPLES));
                    (!ms.is_empty()).then(|| (model.clone(), ms))
                })
                .collect()
        });
        PollHistorySnapshot {
            version: PollHistorySnapshot::VERSION,
            models,
        }
    }

    /// Adds saved run times (before any recorded since, so fresh ones stay).
    pub fn import(&self, snapshot: &PollHistorySnapshot) {
        if snapshot.version != PollHistorySnapshot::VERSION {
            return;
        }
        self.with_models(|models| {
            for (model, ms) in &snapshot.models {
                let samples = models.entry(model.clone()).or_default();
                let room = MAX_SAMPLES.saturating_sub(samples.len());
                let saved = ms
                    .iter()
                    .map(|ms| Duration::from_millis(*ms))
                    .filter(|d| !d.is_zero() && *d <= MAX_SAMPLE);
                let saved: Vec<Duration> = saved.collect();
                let skip = saved.len().saturating_sub(room);
                for d in saved.into_iter().skip(skip).rev() {
                    samples.push_front((None, d));
                }
            }
        });
    }
}

/// The run times of `model`'s nearest family with any: the models whose id shares all its
/// segments but the last, else all but the last two, and so on, keeping at least two (a
/// vendor alone is no family: `bytedance/seedream-4-0/edit` has `bytedance/seedream-4-0/*`,
/// never `bytedance/*`).
fn family_of(models: &HashMap<String, VecDeque<Sample>>, model: &str) -> Vec<Duration> {
    let segments: Vec<&str> = model.split('/').collect();
    for keep in (2..segments.len()).rev() {
        let prefix = format!("{}/", segments[..keep].join("/"));
        let runs: Vec<Duration> = models
            .iter()
            .filter(|(id, _)| id.as_str() != model && id.starts_with(&prefix))
            .flat_map(|(_, samples)| samples.iter().map(|(_, d)| *d))
            .collect();
        if !runs.is_empty() {
            return runs;
        }
    }
    Vec::new()
}

/// Saved run times, per model id, in milliseconds (earliest-started first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollHistorySnapshot {
    /// The format version; snapshots of another version are ignored on import.
    pub version: u32,
    /// Run times in milliseconds per model id.
    pub models: BTreeMap<String, Vec<u64>>,
}

impl PollHistorySnapshot {
    /// The current format version. Version 1 snapshots may hold run times taken from a
    /// server's timestamps unchecked (a poisoned cache), so they are dropped.
    pub const VERSION: u32 = 2;

    /// Appends `newer`'s run times after this one's, keeping per model the most recent that
    /// a client would import; a snapshot of another version is ignored.
    pub fn extend(&mut self, newer: &PollHistorySnapshot) {
        if newer.version != Self::VERSION {
            return;
        }
        if self.version != Self::VERSION {
            *self = Self::default();
            self.version = Self::VERSION;
        }
        for (model, ms) in &newer.models {
            let kept = self.models.entry(model.clone()).or_default();
            kept.extend(ms);
            let drop = kept.len().saturating_sub(MAX_SAMPLES);
            kept.drain(..drop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Simulates polling one job that ends at `end`; returns (polls, notice delay).
    fn simulate(policy: &PollPolicy, known: &Known, end: Duration) -> (u32, Duration) {
        let mut now = Duration::ZERO;
        let mut last = None;
        let mut polls = 0;
        loop {
            let state = PollState {
                since_start: Some(now),
                queued: false,
                ahead: None,
                since_last_poll: last.map(|l| now - l),
            };
            now += policy.next_delay(known, state);
            polls += 1;
            last = Some(now);
            if now >= end {
                return (polls, now - end);
            }
        }
    }

    fn median(mut values: Vec<Duration>) -> Duration {
        values.sort();
        values[values.len() / 2]
    }

    fn median_u32(mut values: Vec<u32>) -> u32 {
        values.sort();
        values[values.len() / 2]
    }

    /// `n` run times spread evenly from `from` to `to`, sorted.
    fn spread(from: f64, to: f64, n: usize) -> Vec<Duration> {
        (0..n)
            .map(|i| secs(from + (to - from) * i as f64 / (n - 1) as f64))
            .collect()
    }

    /// Polls and notice delays of `jobs` jobs ending evenly from `from` to `to`.
    fn stream(
        policy: &PollPolicy,
        known: &Known,
        from: f64,
        to: f64,
        jobs: usize,
    ) -> (Vec<u32>, Vec<Duration>) {
        spread(from, to, jobs)
            .into_iter()
            .map(|end| simulate(policy, known, end))
            .unzip()
    }

    fn own(runs: Vec<Duration>) -> Known {
        Known::Own(runs)
    }

    fn plan_of(policy: &PollPolicy, history: &[Duration]) -> Vec<Duration> {
        match policy {
            PollPolicy::Adaptive(adaptive) => adaptive
                .plan(&Known::Own(history.to_vec()))
                .unwrap_or_default(),
            PollPolicy::Fixed(_) => Vec::new(),
        }
    }

    #[test]
    fn a_plan_from_runs_of_minutes_still_looks_every_30_s() {
        let policy = PollPolicy::default();
        let known = own(vec![secs(300.0); 5]);
        // A job that ends (or fails) 5 s in is seen at the first look, 30 s in.
        assert_eq!(simulate(&policy, &known, secs(5.0)), (1, secs(25.0)));
        // One of the expected 300 s: ten looks on the way, then the plan near its end.
        let (polls, delay) = simulate(&policy, &known, secs(300.0));
        assert_eq!(delay, Duration::ZERO);
        assert_eq!(polls, 10);
        // Jobs of 20 s plan their first poll before 30 s: unchanged.
        let twenty = own(spread(19.0, 21.0, 32));
        let plain = PollPolicy::Adaptive(AdaptivePolling::default().with_max_gap(secs(3600.0)));
        for end in spread(18.0, 22.0, 9) {
            assert_eq!(
                simulate(&policy, &twenty, end),
                simulate(&plain, &twenty, end)
            );
        }
    }

    #[test]
    fn cold_polls_every_two_seconds_so_a_20_s_job_costs_ten() {
        let policy = PollPolicy::default();
        // 2 s, 4 s, ..., 20 s.
        let (polls, delay) = simulate(&policy, &Known::Nothing, secs(20.0));
        assert_eq!(polls, 10);
        assert_eq!(delay, Duration::ZERO);
        // Jobs of 18-22 s: ten requests up to 20 s, eleven after, a second late on average.
        let (polls, delays) = stream(&policy, &Known::Nothing, 18.0, 22.0, 101);
        assert!(polls.iter().all(|p| (9..=11).contains(p)), "{polls:?}");
        let mean = delays.iter().sum::<Duration>() / delays.len() as u32;
        assert!((secs(0.9)..=secs(1.1)).contains(&mean), "{mean:?}");
        // A short job is seen at the first poll.
        assert_eq!(
            simulate(&policy, &Known::Nothing, secs(0.3)),
            (1, secs(1.7))
        );
    }

    #[test]
    fn cold_polls_stay_on_their_grid_after_a_slow_reply() {
        let policy = PollPolicy::default();
        let after_slow = PollState {
            since_start: Some(secs(5.5)),
            queued: false,
            ahead: None,
            since_last_poll: Some(secs(1.44)),
        };
        assert_eq!(policy.next_delay(&Known::Nothing, after_slow), secs(0.5));
        // A reply that came back just before the next grid point: not two polls at once.
        let very_slow = PollState {
            since_start: Some(secs(5.9)),
            queued: false,
            ahead: None,
            since_last_poll: Some(Duration::ZERO),
        };
        assert_eq!(policy.next_delay(&Known::Nothing, very_slow), secs(0.2));
    }

    #[test]
    fn a_cold_cohort_polls_every_four_seconds_until_one_of_them_ends() {
        let policy = PollPolicy::default();
        let (polls, _) = simulate(&policy, &Known::Cohort, secs(20.0));
        // 2, 6, 10, 14, 18, 22: six polls where one job alone makes ten.
        assert_eq!(polls, 6);
        assert_eq!(simulate(&policy, &Known::Nothing, secs(20.0)).0, 10);
        // The first still comes at 2 s: a short job is seen as soon as alone.
        assert_eq!(simulate(&policy, &Known::Cohort, secs(1.5)).0, 1);
    }

    #[test]
    fn a_queued_job_is_polled_every_second_only_with_a_plan_and_at_the_front() {
        let queued = PollState {
            since_start: Some(secs(3.0)),
            queued: true,
            ahead: None,
            since_last_poll: Some(secs(1.0)),
        };
        let history = Known::Own(vec![secs(20.0); 4]);
        assert_eq!(
            PollPolicy::default().next_delay(&history, queued),
            secs(1.0)
        );
        let fast = AdaptivePolling::default().with_cold(secs(0.25), secs(0.25));
        assert_eq!(
            PollPolicy::Adaptive(fast.clone()).next_delay(&history, queued),
            secs(0.25)
        );
        // At the front of the queue too; further back at the cold pace.
        for ahead in [0, 1] {
            let front = PollState {
                ahead: Some(ahead),
                ..queued
            };
            assert_eq!(PollPolicy::default().next_delay(&history, front), secs(1.0));
        }
        let back = PollState {
            ahead: Some(2),
            ..queued
        };
        assert_eq!(PollPolicy::default().next_delay(&history, back), secs(2.0));
        // With nothing to plan, the queue is polled at the cold pace, no faster than the grid.
        for known in [Known::Nothing, Known::Cohort] {
            assert_eq!(PollPolicy::default().next_delay(&known, queued), secs(2.0));
        }
        assert_eq!(
            PollPolicy::Adaptive(fast).next_delay(&Known::Nothing, queued),
            secs(0.25)
        );
    }

    #[test]
    fn warm_polls_crowd_towards_the_longest_run() {
        // Run times of 20 s ±10%, spread evenly.
        let plan = plan_of(&PollPolicy::default(), &spread(18.0, 22.0, 24));
        assert_eq!(plan.len(), 11, "{plan:?}");
        assert_eq!(plan.last(), Some(&secs(22.0)));
        // Gaps never grow towards the end, and never go below the densest interval.
        let gaps: Vec<Duration> = plan.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.windows(2).all(|g| g[1] <= g[0]), "{gaps:?}");
        assert!(gaps.iter().all(|g| *g >= secs(0.2)), "{gaps:?}");
        // Two polls below the median run time, nine above it.
        assert_eq!(plan.iter().filter(|p| **p < secs(20.0)).count(), 2);
    }

    #[test]
    fn warm_polls_meet_the_goals_for_jobs_of_20_s_give_or_take_10_percent() {
        let policy = PollPolicy::default();
        let (polls, delays) = stream(&policy, &own(spread(18.0, 22.0, 24)), 18.0, 22.0, 401);
        // The median job: three requests, noticed within 200 ms; the mean job under four and
        // a half.
        assert_eq!(median_u32(polls.clone()), 3);
        let mean = polls.iter().sum::<u32>() as f64 / polls.len() as f64;
        assert!(mean < 4.5, "mean {mean}");
        assert!(polls.iter().all(|p| *p <= 11), "{polls:?}");
        let p50 = median(delays.clone());
        assert!(p50 <= secs(0.2), "{p50:?}");
        // The price: early finishers wait longer than late ones.
        let early = median(delays[..100].to_vec());
        let late = median(delays[300..].to_vec());
        assert!(early > late * 2, "early {early:?}, late {late:?}");
    }

    #[test]
    fn the_plan_scales_with_the_spread() {
        // Without the densest interval, the margin and the longest gap (the fixed durations),
        // the plan is the same at any scale: ten times longer and wider, the same requests,
        // ten times the delay. (Minutes, so the last planned gaps stay wider than the few ms
        // of slack a poll that lands just after its point is given.)
        let policy = PollPolicy::Adaptive(
            AdaptivePolling::default()
                .with_min_interval(Duration::from_millis(1))
                .with_margin(Duration::ZERO)
                .with_max_gap(Duration::MAX),
        );
        let (short_polls, short_delays) =
            stream(&policy, &own(spread(180.0, 220.0, 24)), 180.0, 220.0, 101);
        let (long_polls, long_delays) = stream(
            &policy,
            &own(spread(1800.0, 2200.0, 24)),
            1800.0,
            2200.0,
            101,
        );
        assert_eq!(short_polls, long_polls);
        let (short, long) = (median(short_delays), median(long_delays));
        let ratio = long.as_secs_f64() / short.as_secs_f64();
        assert!((9.9..10.1).contains(&ratio), "{short:?} {long:?}");
    }

    #[test]
    fn a_tight_history_plans_one_poll_and_a_narrow_one_a_few() {
        let policy = PollPolicy::default();
        let (polls, delay) = simulate(&policy, &own(vec![secs(20.0); 5]), secs(20.0));
        assert_eq!(polls, 1);
        assert_eq!(delay, Duration::ZERO);
        // 20 s ±2.5%: an even grid at the densest interval, down to the first planned poll.
        let plan = plan_of(&policy, &spread(19.5, 20.5, 24));
        assert_eq!(plan.len(), 4, "{plan:?}");
        assert!(
            plan.windows(2).all(|w| w[1] - w[0] == secs(0.2)),
            "{plan:?}"
        );
    }

    #[test]
    fn overruns_back_off() {
        let policy = PollPolicy::default();
        let history = vec![secs(2.0); 5];
        let (polls, _) = simulate(&policy, &own(history), secs(60.0));
        assert!(polls < 25, "{polls} polls");
    }

    #[test]
    fn a_wait_begun_after_the_expected_end_polls_at_once() {
        let policy = PollPolicy::default();
        let late = PollState {
            since_start: Some(secs(30.0)),
            queued: false,
            ahead: None,
            since_last_poll: None,
        };
        let warm = own(vec![secs(20.0); 5]);
        assert_eq!(policy.next_delay(&warm, late), Duration::ZERO);
        assert_eq!(policy.next_delay(&Known::Nothing, late), Duration::ZERO);
        let polled = PollState {
            since_last_poll: Some(Duration::ZERO),
            ..late
        };
        assert!(policy.next_delay(&warm, polled) > Duration::ZERO);
    }

    #[test]
    fn fixed_is_fixed() {
        let policy = PollPolicy::fixed(Duration::from_millis(50));
        let (polls, _) = simulate(&policy, &own(vec![secs(1.0)]), secs(1.0));
        assert_eq!(polls, 20);
    }

    #[test]
    fn history_round_trips_and_caps() {
        let history = PollHistory::default();
        let start = Instant::now();
        for i in 1..=40 {
            history.record("m", start, Duration::from_millis(i * 100));
        }
        history.record("m", start, Duration::ZERO);
        let snapshot = history.export();
        assert_eq!(snapshot.models["m"].len(), MAX_SAMPLES);
        let json = serde_json::to_string(&snapshot).unwrap_or_default();
        let back: PollHistorySnapshot = serde_json::from_str(&json).unwrap_or_default();
        let other = PollHistory::default();
        other.import(&back);
        assert_eq!(other.sorted("m"), history.sorted("m"));
    }

    /// A batch larger than the history, started together: the jobs that end last are the
    /// slowest, yet the history keeps a fair share of the batch, not its slowest third.
    #[test]
    fn a_large_batch_leaves_a_fair_sample_not_its_slowest() {
        let history = PollHistory::default();
        let base = Instant::now();
        // 96 runs started 10 ms apart; run times 18-22 s in an order unrelated to the start.
        let mut runs: Vec<(Instant, Duration)> = (0..96u64)
            .map(|i| {
                let run = 18_000 + (i * 37) % 96 * 4_000 / 96;
                (
                    base + Duration::from_millis(i * 10),
                    Duration::from_millis(run),
                )
            })
            .collect();
        // They are learned in the order they end.
        runs.sort_by_key(|(start, run)| *start + *run);
        for (start, run) in &runs {
            history.record("m", *start, *run);
        }
        let kept = history.sorted("m");
        assert_eq!(kept.len(), MAX_SAMPLES);
        let median = kept[kept.len() / 2];
        assert!(
            median > secs(19.3) && median < secs(20.7),
            "median of the kept run times {median:?}, batch median 20 s"
        );
        // A run that started before every kept one is dropped.
        history.record("m", base, secs(5.0));
        assert_eq!(history.sorted("m"), kept);
    }

    #[test]
    fn saved_run_times_count_as_older_than_learned_ones() {
        let saved = PollHistorySnapshot {
            version: PollHistorySnapshot::VERSION,
            models: BTreeMap::from([("m".to_owned(), vec![1_000; MAX_SAMPLES])]),
        };
        let history = PollHistory::default();
        history.import(&saved);
        history.record("m", Instant::now(), secs(2.0));
        let kept = history.sorted("m");
        assert_eq!(kept.len(), MAX_SAMPLES);
        assert_eq!(kept.last(), Some(&secs(2.0)));
    }

    #[test]
    fn runs_in_flight_keep_the_history_they_plan_from() {
        // A saved history, then more jobs than it keeps run times for, started at once.
        let history = PollHistory::default();
        history.import(&PollHistorySnapshot {
            version: PollHistorySnapshot::VERSION,
            models: BTreeMap::from([("m".to_owned(), vec![20_000; MAX_SAMPLES])]),
        });
        let start = Instant::now();
        let mut runs: Vec<InFlight> = (0..96).map(|_| history.run_started("m", start)).collect();
        for _ in 0..64 {
            runs.pop();
            history.record("m", start, secs(18.0));
        }
        // The 32 still running plan from the whole saved history, not from the 64 that
        // started with them (the shortest, as only they have ended).
        assert_eq!(
            history.known("m", Some(start)),
            Known::Own(vec![secs(20.0); MAX_SAMPLES])
        );
        assert_eq!(
            history.export().models["m"].len(),
            MAX_SAMPLES,
            "saved as many as ever"
        );

        // Nothing runs any more: the next run time trims the history back.
        runs.clear();
        history.record("m", start, secs(19.0));
        assert_eq!(history.sorted("m").len(), MAX_SAMPLES);
        assert!(
            history.sorted("m").iter().all(|d| *d < secs(20.0)),
            "the saved ones went first"
        );

        // However many run, the history stays bounded.
        let _runs: Vec<InFlight> = (0..10)
            .map(|_| history.run_started("m", start + secs(60.0)))
            .collect();
        for _ in 0..1_000 {
            history.record("m", start + secs(1.0), secs(18.0));
        }
        assert_eq!(history.sorted("m").len(), MAX_KEPT);
    }

    #[test]
    fn learned_run_times_leave_out_imported_ones_and_extend_a_store() {
        let mut store = PollHistorySnapshot {
            version: PollHistorySnapshot::VERSION,
            models: BTreeMap::from([("m".to_owned(), (1..=MAX_SAMPLES as u64).collect())]),
        };
        let history = PollHistory::default();
        history.import(&store);
        history.record("m", Instant::now(), secs(0.5));
        history.record("n", Instant::now(), secs(0.7));
        let learned = history.export_learned();
        assert_eq!(
            learned.models,
            BTreeMap::from([("m".to_owned(), vec![500]), ("n".to_owned(), vec![700])])
        );

        store.extend(&learned);
        let m = &store.models["m"];
        assert_eq!(m.len(), MAX_SAMPLES, "capped as an import would be");
        assert_eq!((m[0], m.last()), (2, Some(&500)), "the oldest made room");
        assert_eq!(store.models["n"], vec![700]);

        // Into an empty store, and never from another version.
        let mut empty = PollHistorySnapshot::default();
        empty.extend(&learned);
        assert_eq!(empty.version, PollHistorySnapshot::VERSION);
        assert_eq!(empty.models, learned.models);
        let before = empty.clone();
        empty.extend(&PollHistorySnapshot {
            version: 99,
            ..learned
        });
        assert_eq!(empty, before);
    }

    /// Median requests and median notice of jobs ending evenly over `from..to`, for each
    /// history in `knowns`, pooled.
    fn pooled(policy: &PollPolicy, knowns: &[Known], from: f64, to: f64) -> (u32, Duration) {
        let (mut polls, mut delays) = (Vec::new(), Vec::new());
        for known in knowns {
            let (p, d) = stream(policy, known, from, to, 41);
            polls.extend(p);
            delays.extend(d);
        }
        (median_u32(polls), median(delays))
    }

    /// Histories of `n` runs drawn evenly from `from..to`, at several offsets (as a draw of
    /// `n` uniform run times would fall).
    fn histories(n: usize, from: f64, to: f64) -> Vec<Known> {
        (0..9)
            .map(|k| {
                let shift = (to - from) * (k as f64 + 0.5) / 9.0;
                let runs = (0..n)
                    .map(|i| {
                        let x = (shift + (to - from) * i as f64 / n as f64) % (to - from);
                        secs(from + x)
                    })
                    .collect::<Vec<_>>();
                let mut runs = runs;
                runs.sort();
                Known::Own(runs)
            })
            .collect()
    }

    /// Issue 19, goal 1: with nothing known, never more requests and never later than
    /// RunComfy's CLI polling every 2 s, job by job, on short, 20 s and long jobs.
    #[test]
    fn cold_is_never_behind_a_fixed_2_s_grid() {
        let cold = PollPolicy::default();
        let fixed = PollPolicy::fixed(secs(2.0));
        for (from, to) in [(1.0, 3.0), (19.0, 21.0), (120.0, 300.0)] {
            for end in spread(from, to, 97) {
                let (ours, theirs) = (
                    simulate(&cold, &Known::Nothing, end),
                    simulate(&fixed, &Known::Nothing, end),
                );
                assert!(ours.0 <= theirs.0, "{end:?}: {ours:?} vs {theirs:?}");
                assert!(ours.1 <= theirs.1, "{end:?}: {ours:?} vs {theirs:?}");
            }
        }
    }

    /// Issue 19, goal 1: the first run of a model whose sibling ran six times (19-21 s).
    #[test]
    fn a_siblings_history_plans_the_first_run_of_a_model() {
        let policy = PollPolicy::default();
        let families: Vec<Known> = histories(6, 19.0, 21.0)
            .into_iter()
            .map(|known| match known {
                Known::Own(runs) => Known::Family(runs),
                other => other,
            })
            .collect();
        let (requests, notice) = pooled(&policy, &families, 19.0, 21.0);
        assert!(requests <= 6, "{requests} requests");
        assert!(notice <= secs(0.5), "{notice:?}");
    }

    /// Issue 19, goal 2: from the second run of a model on (19-21 s), at most 5 requests and a
    /// median notice of at most 300 ms, whatever the history's length.
    #[test]
    fn one_run_of_history_is_enough() {
        let policy = PollPolicy::default();
        for n in [1, 2, 3, 4, 8, 32] {
            let (requests, notice) = pooled(&policy, &histories(n, 19.0, 21.0), 19.0, 21.0);
            assert!(requests <= 5, "{n} runs: {requests} requests");
            assert!(notice <= secs(0.3), "{n} runs: {notice:?}");
        }
    }

    #[test]
    fn what_a_job_knows_comes_from_its_model_then_its_family() {
        let history = PollHistory::default();
        let t0 = Instant::now();
        let start = t0 + secs(100.0);
        assert_eq!(history.known("v/f/a", Some(start)), Known::Nothing);
        // Waited for alone, nothing; with another run of the model waited for, a cohort.
        {
            let _own = history.run_started("v/f/a", start);
            assert_eq!(history.known("v/f/a", Some(start)), Known::Nothing);
            let _other = history.run_started("v/f/a", start + secs(0.1));
            assert_eq!(history.known("v/f/a", Some(start)), Known::Cohort);
            // Another model's runs are no cohort.
            assert_eq!(history.known("v/f/c", Some(start)), Known::Nothing);
        }
        assert_eq!(history.known("v/f/a", Some(start)), Known::Nothing);
        // A vendor alone is no family; a sibling is.
        history.record("v/g/b", t0, secs(5.0));
        assert_eq!(history.known("v/f/a", Some(start)), Known::Nothing);
        history.record("v/f/b", t0, secs(7.0));
        history.record("v/f/b/x", t0, secs(9.0));
        assert_eq!(
            history.known("v/f/a", Some(start)),
            Known::Family(vec![secs(7.0), secs(9.0)])
        );
        // The nearest family first: `v/f/b/*` for `v/f/b/y`, not `v/f/*`.
        assert_eq!(
            history.known("v/f/b/y", Some(start)),
            Known::Family(vec![secs(9.0)])
        );
        // Its own runs that started with it: concurrent; well before it: its own.
        history.record("v/f/a", start + secs(0.1), secs(3.0));
        assert_eq!(
            history.known("v/f/a", Some(start)),
            Known::Concurrent(vec![secs(3.0)])
        );
        history.record("v/f/a", t0, secs(4.0));
        assert_eq!(
            history.known("v/f/a", Some(start)),
            Known::Own(vec![secs(4.0)])
        );
        // A start not known (a resumed job): every run is its own.
        assert_eq!(
            history.known("v/f/a", None),
            Known::Own(vec![secs(3.0), secs(4.0)])
        );
    }

    /// A batch in simulated time: `jobs` jobs of one model through one history, `concurrency`
    /// at once, each started when another is noticed, with run times from `runs`; learned
    /// exactly. Returns each job's (requests, notice delay).
    fn batch(
        policy: &PollPolicy,
        jobs: usize,
        concurrency: usize,
        runs: impl Fn(usize) -> Duration,
    ) -> Vec<(u32, Duration)> {
        struct Running<'h> {
            _flight: InFlight<'h>,
            start: Duration,
            run: Duration,
            polls: u32,
            last: Option<Duration>,
            next: Duration,
        }
        let history = PollHistory::default();
        let base = Instant::now();
        let schedule = |job: &Running, now: Duration| {
            let known = history.known("v/m/a", Some(base + job.start));
            let state = PollState {
                since_start: Some(now.saturating_sub(job.start)),
                queued: false,
                ahead: None,
                since_last_poll: job.last.map(|l| now - l),
            };
            now + policy.next_delay(&known, state)
        };
        let mut running: Vec<Running> = Vec::new();
        let mut done = Vec::new();
        let mut started = 0;
        let mut now = Duration::ZERO;
        while done.len() < jobs {
            while running.len() < concurrency && started < jobs {
                let mut job = Running {
                    _flight: history.run_started("v/m/a", base + now),
                    start: now,
                    run: runs(started),
                    polls: 0,
                    last: None,
                    next: now,
                };
                job.next = schedule(&job, now);
                running.push(job);
                started += 1;
            }
            let Some(i) = (0..running.len()).min_by_key(|i| running[*i].next) else {
                break;
            };
            now = running[i].next;
            let job = &mut running[i];
            job.polls += 1;
            job.last = Some(now);
            if now >= job.start + job.run {
                let job = running.remove(i);
                history.record("v/m/a", base + job.start, job.run);
                done.push((job.polls, now - job.start - job.run));
            } else {
                let next = schedule(&running[i], now);
                running[i].next = next;
            }
        }
        done
    }

    /// Issue 19, goal 5: a batch that starts cold (40 jobs of 18-22 s, 10 at once): at most
    /// 6.25 requests a job on average and a median notice of at most 250 ms, over several
    /// draws of run times. Its first ten jobs are cold, the later ones learn from them.
    #[test]
    fn a_batch_that_starts_cold_learns_from_its_first_jobs() {
        let policy = PollPolicy::default();
        let mut means = Vec::new();
        let mut all_delays = Vec::new();
        for seed in 0..8u64 {
            // Run times drawn evenly over 18-22 s (splitmix64 of the seed and the job).
            let runs = |i: usize| {
                let mut z = (seed << 32 | i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                secs(18.0 + 4.0 * (z >> 11) as f64 / (1u64 << 53) as f64)
            };
            let done = batch(&policy, 40, 10, runs);
            assert_eq!(done.len(), 40);
            let requests: u32 = done.iter().map(|(p, _)| p).sum();
            means.push(f64::from(requests) / 40.0);
            all_delays.extend(done.iter().map(|(_, d)| *d));
        }
        let mean = means.iter().sum::<f64>() / means.len() as f64;
        let notice = median(all_delays);
        assert!(mean <= 6.25, "{mean} requests a job ({means:?})");
        assert!(notice <= secs(0.25), "{notice:?}");
    }
}
