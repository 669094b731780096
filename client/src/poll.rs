//! When to poll a running job: a schedule that learns, per model, how long jobs take.
//!
//! With no history, polls come at 1 s, then every 2 s. Once jobs of a model have finished,
//! polls go where jobs end: five, at evenly spaced quantiles of the observed run times from the
//! shortest to the longest (each catching an equal share of jobs), never closer than 200 ms,
//! then backing off if a job overruns. The
//! history lives in the [`Client`](crate::Client), shared by its clones, and can be exported and
//! imported ([`PollHistorySnapshot`]) so a CLI can keep it between runs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

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
}

impl Default for AdaptivePolling {
    fn default() -> Self {
        Self {
            cold_first: Duration::from_secs(1),
            cold_max: Duration::from_secs(2),
            min_interval: Duration::from_millis(200),
            planned_polls: 5,
            margin: Duration::from_millis(60),
            overrun_max: Duration::from_secs(4),
            warm_after: 3,
        }
    }
}

impl AdaptivePolling {
    /// Without history: the first poll after `first`, then one every `max`.
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

    /// How many polls are spread over the run times seen so far (at their quantiles); fewer
    /// polls means fewer requests and a later notice.
    pub fn with_planned_polls(mut self, polls: usize) -> Self {
        self.planned_polls = polls.max(1);
        self
    }

    /// Added to each planned poll, for the server to record the end.
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The longest interval once a job runs past every planned poll.
    pub fn with_overrun_max(mut self, max: Duration) -> Self {
        self.overrun_max = max;
        self
    }

    /// How many finished jobs a model needs before its own history is trusted as is (with
    /// fewer, the window is widened).
    pub fn with_warm_after(mut self, jobs: usize) -> Self {
        self.warm_after = jobs.max(1);
        self
    }

    /// The planned poll times, from the start of the run, given sorted run times; `None`
    /// without history.
    fn plan(&self, sorted: &[Duration]) -> Option<Vec<Duration>> {
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        // Evenly spaced quantiles from the shortest run to the longest: each poll catches an
        // equal share of the jobs, and a job within the range seen needs at most `n` polls.
        let n = self.planned_polls;
        let share = |i: usize| {
            if n == 1 {
                1.0
            } else {
                i as f64 / (n - 1) as f64
            }
        };
        let mut points: Vec<Duration> = (0..n).map(|i| quantile(sorted, share(i))).collect();
        if sorted.len() < self.warm_after {
            // Too few samples to trust their spread: widen the window by 15% each way.
            let lo = first.mul_f64(0.85);
            let hi = last.mul_f64(1.15);
            points = (0..n)
                .map(|i| lo + (hi.saturating_sub(lo)).mul_f64(share(i)))
                .collect();
        }
        // Keep the last point; drop earlier ones closer than the densest interval to the next.
        let mut kept: Vec<Duration> = Vec::with_capacity(points.len());
        for point in points.into_iter().rev() {
            let point = point + self.margin;
            if kept
                .last()
                .is_none_or(|next| next.saturating_sub(point) >= self.min_interval)
            {
                kept.push(point);
            }
        }
        kept.reverse();
        Some(kept)
    }

    /// The first poll at `cold_first`, then every `cold_max`: at 20 s, ten polls.
    fn cold_delay(&self, since_start: Duration) -> Duration {
        if since_start < self.cold_first {
            self.cold_first - since_start
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
    /// Time since the last poll, if any.
    pub since_last_poll: Option<Duration>,
}

impl PollPolicy {
    /// How long to wait before the next poll.
    pub(crate) fn next_delay(&self, history: &[Duration], state: PollState) -> Duration {
        let adaptive = match self {
            PollPolicy::Fixed(interval) => return *interval,
            PollPolicy::Adaptive(adaptive) => adaptive,
        };
        let plan = adaptive.plan(history);
        let (Some(since_start), false, Some(plan)) = (state.since_start, state.queued, plan) else {
            return match (state.queued, state.since_start, state.since_last_poll) {
                // Queued: often enough to date the start of the run to within a second.
                (true, _, _) => adaptive.cold_first,
                // Resumed, start unknown: look at once (it may be done), then the cold pace.
                (false, None, None) => Duration::ZERO,
                (false, None, Some(_)) => adaptive.cold_max,
                // No history; a wait begun late looks at once.
                (false, Some(since_start), None) if since_start >= adaptive.cold_first => {
                    Duration::ZERO
                }
                (false, Some(since_start), _) => adaptive.cold_delay(since_start),
            };
        };
        let floor = match state.since_last_poll {
            Some(since) => adaptive.min_interval.saturating_sub(since),
            None => Duration::ZERO,
        };
        // The next planned point still ahead (a few ms of slack so a poll that lands just
        // after its point does not plan the same point again).
        let slack = Duration::from_millis(5);
        if let Some(next) = plan.iter().find(|p| **p > since_start + slack) {
            return (*next - since_start).max(floor);
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

/// The longest run time accepted from an import; anything longer is not a run time.
const MAX_SAMPLE: Duration = Duration::from_secs(6 * 3600);

/// Run times per model, shared by every clone of a client.
#[derive(Debug, Default)]
pub(crate) struct PollHistory {
    models: Mutex<HashMap<String, VecDeque<Duration>>>,
}

impl PollHistory {
    fn with_models<R>(&self, f: impl FnOnce(&mut HashMap<String, VecDeque<Duration>>) -> R) -> R {
        // A panic elsewhere while holding the lock leaves plain data: keep using it.
        let mut guard = match self.models.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Records the run time of a finished job.
    pub fn record(&self, model: &str, run_time: Duration) {
        if run_time.is_zero() || run_time > MAX_SAMPLE {
            return;
        }
        self.with_models(|models| {
            let samples = models.entry(model.to_owned()).or_default();
            if samples.len() == MAX_SAMPLES {
                samples.pop_front();
            }
            samples.push_back(run_time);
        });
    }

    /// The run times of a model, sorted.
    pub fn sorted(&self, model: &str) -> Vec<Duration> {
        let mut samples: Vec<Duration> = self.with_models(|models| {
            models
                .get(model)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default()
        });
        samples.sort();
        samples
    }

    /// A copy to save.
    pub fn export(&self) -> PollHistorySnapshot {
        let models = self.with_models(|models| {
            models
                .iter()
                .map(|(model, samples)| {
                    let ms = samples
                        .iter()
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                        .collect();
                    (model.clone(), ms)
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
                    samples.push_front(d);
                }
            }
        });
    }
}

/// Saved run times, per model id, in milliseconds (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollHistorySnapshot {
    /// The format version; snapshots of another version are ignored on import.
    pub version: u32,
    /// Run times in milliseconds per model id.
    pub models: BTreeMap<String, Vec<u64>>,
}

impl PollHistorySnapshot {
    /// The current format version.
    pub const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Simulates polling one job that ends at `end`; returns (polls, notice delay).
    fn simulate(policy: &PollPolicy, history: &[Duration], end: Duration) -> (u32, Duration) {
        let mut now = Duration::ZERO;
        let mut last = None;
        let mut polls = 0;
        loop {
            let state = PollState {
                since_start: Some(now),
                queued: false,
                since_last_poll: last.map(|l| now - l),
            };
            now += policy.next_delay(history, state);
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

    #[test]
    fn cold_polls_back_off_to_the_cap() {
        let policy = PollPolicy::default();
        // 1 s, 3 s, ..., 21 s.
        let (polls, delay) = simulate(&policy, &[], secs(20.0));
        assert_eq!(polls, 11);
        assert_eq!(delay, secs(1.0));
    }

    #[test]
    fn warm_polls_gather_around_the_expected_end() {
        let policy = PollPolicy::default();
        // Run times of 20 s ±10%, spread evenly.
        let mut history: Vec<Duration> = (0..16)
            .map(|i| secs(18.0 + 4.0 * i as f64 / 15.0))
            .collect();
        history.sort();
        let mut delays = Vec::new();
        for i in 0..100 {
            let end = secs(18.0 + 4.0 * i as f64 / 99.0);
            let (polls, delay) = simulate(&policy, &history, end);
            assert!(polls <= 5, "{polls} polls for a job of {end:?}");
            delays.push(delay);
        }
        // Tight history: a single dense poll just after the end.
        let fixed = vec![secs(20.0); 5];
        let (polls, delay) = simulate(&policy, &fixed, secs(20.0));
        assert_eq!(polls, 1);
        assert!(delay <= Duration::from_millis(100), "{delay:?}");
        assert!(median(delays) <= secs(0.7));
    }

    #[test]
    fn overruns_back_off() {
        let policy = PollPolicy::default();
        let history = vec![secs(2.0); 5];
        let (polls, _) = simulate(&policy, &history, secs(60.0));
        assert!(polls < 25, "{polls} polls");
    }

    #[test]
    fn a_wait_begun_after_the_expected_end_polls_at_once() {
        let policy = PollPolicy::default();
        let late = PollState {
            since_start: Some(secs(30.0)),
            queued: false,
            since_last_poll: None,
        };
        assert_eq!(policy.next_delay(&[secs(20.0); 5], late), Duration::ZERO);
        assert_eq!(policy.next_delay(&[], late), Duration::ZERO);
        let polled = PollState {
            since_last_poll: Some(Duration::ZERO),
            ..late
        };
        assert!(policy.next_delay(&[secs(20.0); 5], polled) > Duration::ZERO);
    }

    #[test]
    fn fixed_is_fixed() {
        let policy = PollPolicy::fixed(Duration::from_millis(50));
        let (polls, _) = simulate(&policy, &[secs(1.0)], secs(1.0));
        assert_eq!(polls, 20);
    }

    #[test]
    fn history_round_trips_and_caps() {
        let history = PollHistory::default();
        for i in 1..=40 {
            history.record("m", Duration::from_millis(i * 100));
        }
        history.record("m", Duration::ZERO);
        let snapshot = history.export();
        assert_eq!(snapshot.models["m"].len(), MAX_SAMPLES);
        let json = serde_json::to_string(&snapshot).unwrap_or_default();
        let back: PollHistorySnapshot = serde_json::from_str(&json).unwrap_or_default();
        let other = PollHistory::default();
        other.import(&back);
        assert_eq!(other.sorted("m"), history.sorted("m"));
    }
}
