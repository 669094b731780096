//! Shared state: jobs, the queue and its workers, counters and faults.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use runcomfy::catalog::ModelInfo;
use tokio::sync::{OnceCell, watch};
use tokio::time::Instant;

use crate::config::SimConfig;
use crate::fault::{Endpoint, FaultKind, FaultState, Faults};
use crate::output::OutputPlan;
use crate::rng;
use crate::stats::Stats;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Phase {
    /// The word the status endpoint uses.
    pub(crate) fn status_word(self) -> &'static str {
        match self {
            Phase::Queued => "in_queue",
            Phase::Running => "in_progress",
            Phase::Succeeded => "completed",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }

    /// The word the result endpoint uses.
    pub(crate) fn result_word(self) -> &'static str {
        match self {
            Phase::Succeeded => "succeeded",
            other => other.status_word(),
        }
    }

    /// Finished by running (a cancelled job was never run).
    pub(crate) fn is_done(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// One submitted job.
#[derive(Debug)]
pub(crate) struct Job {
    pub model: &'static ModelInfo,
    /// [`owner_key`] of the bearer token that submitted it.
    pub owner: String,
    pub phase: Phase,
    pub created_at: SystemTime,
    pub finished_at: Option<SystemTime>,
    /// When it finished, on tokio's clock, for notice delays.
    pub finished: Option<Instant>,
    /// Whether a status or result reply has reported it finished.
    pub noticed: bool,
    pub plan: OutputPlan,
    /// Output files, rendered on first download.
    pub files: Vec<Arc<OnceCell<Bytes>>>,
    pub run_time: Duration,
    pub fails: bool,
    /// What the job costs if it succeeds (`None`: the price is unknown).
    pub cost: Option<runcomfy::price::Usd>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub jobs: HashMap<String, Job>,
    /// Queued request ids, first to run first.
    pub queue: VecDeque<String>,
    pub running: usize,
    pub(crate) submitted: u64,
    /// Output files being sent now.
    pub(crate) sending: u64,
    pub stats: Stats,
    pub faults: FaultState,
    /// Earliest time a 429 allowed the next request, per endpoint and key.
    pub retry_after: HashMap<(Endpoint, String), Instant>,
    /// Model and body fingerprints of accepted submissions.
    pub(crate) seen: HashSet<(&'static str, u64)>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SimConfig,
    pub base_url: String,
    pub models: Vec<&'static ModelInfo>,
    state: Mutex<State>,
    /// Turns true at shutdown; tasks also stop when the sender is gone.
    pub shutdown: watch::Receiver<bool>,
    /// Serializes writes of the state file.
    pub(crate) save_lock: Mutex<()>,
}

impl Shared {
    pub(crate) fn new(
        config: SimConfig,
        base_url: String,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let mut models: Vec<&'static ModelInfo> = runcomfy::catalog().to_vec();
        for extra in &config.extra_models {
            if !models.iter().any(|m| m.id == extra.id) {
                models.push(extra);
            }
        }
        models.sort_by_key(|m| m.id);
        let state = State {
            jobs: HashMap::new(),
            queue: VecDeque::new(),
            running: 0,
            submitted: 0,
            sending: 0,
            stats: Stats::default(),
            faults: FaultState::new(config.faults.clone(), config.seed),
            retry_after: HashMap::new(),
            seen: HashSet::new(),
        };
        Shared {
            config,
            base_url,
            models,
            state: Mutex::new(state),
            shutdown,
            save_lock: Mutex::new(()),
        }
    }

    /// Locks the state. No lock is held across an await, and a panic in a handler must not
    /// take the whole simulator down, so a poisoned lock is simply taken over.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn model(&self, id: &str) -> Option<&'static ModelInfo> {
        let served = self.models.iter().copied().find(|m| m.id == id);
        served.or_else(|| {
            let any = self.config.any_model;
            any.then(|| runcomfy::unchecked::unchecked(id).ok())
                .flatten()
        })
    }

    /// `path` on the origin the caller named in its `Host`, as a server behind a name
    /// answers: a client that called `localhost` gets its files' URLs on `localhost`, not on
    /// an address it was not told of (QA repro41 L15: refused as another host's). The
    /// simulator's own address when the header is missing, or names no loopback host (it
    /// listens on loopback only: any other name is not how it was reached).
    pub(crate) fn url(&self, headers: &axum::http::HeaderMap, path: &str) -> String {
        let is_loopback = |authority: &axum::http::uri::Authority| {
            let host = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        };
        let called = headers
            .get(axum::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .filter(|host| {
                !host.contains('@')
                    && host
                        .parse::<axum::http::uri::Authority>()
                        .is_ok_and(|authority| {
                            authority.as_str() == *host && is_loopback(&authority)
                        })
            });
        match called {
            Some(host) => format!("http://{host}{path}"),
            None => format!("{}{path}", self.base_url),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let st = self.state();
        let mut stats = st.stats.clone();
        stats.unnoticed_jobs = st
            .jobs
            .values()
            .filter(|j| j.phase.is_done() && !j.noticed)
            .count() as u64;
        stats.summarize();
        stats
    }

    pub(crate) fn reset_stats(&self) {
        let mut st = self.state();
        st.stats = Stats::default();
        st.seen.clear();
        for job in st.jobs.values_mut() {
            // Jobs finished before the reset do not count as unnoticed afterwards.
            job.noticed |= job.phase.is_done();
        }
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        self.state().faults = FaultState::new(faults, self.config.seed);
    }

    /// Counts a call, checks it against an earlier 429, and draws its fault.
    pub(crate) fn on_call(
        &self,
        endpoint: Endpoint,
        request_id: &str,
        retry_key: String,
    ) -> Option<FaultKind> {
        let mut guard = self.state();
        let st = &mut *guard;
        let stats = &mut st.stats;
        match endpoint {
            Endpoint::Submit => stats.submit_calls += 1,
            Endpoint::Status => {
                stats.status_calls += 1;
                *stats
                    .status_calls_by_request
                    .entry(request_id.to_owned())
                    .or_default() += 1;
            }
            Endpoint::Result => {
                stats.result_calls += 1;
                *stats
                    .result_calls_by_request
                    .entry(request_id.to_owned())
                    .or_default() += 1;
            }
            Endpoint::Cancel => stats.cancel_calls += 1,
            Endpoint::Download => stats.download_calls += 1,
            Endpoint::Catalog => stats.catalog_calls += 1,
        }
        let now = Instant::now();
        let key = (endpoint, retry_key);
        if let Some(&until) = st.retry_after.get(&key) {
            if now < until {
                stats.retry_after_violations += 1;
            } else {
                st.retry_after.remove(&key);
            }
        }
        let fault = st.faults.draw(endpoint)?;
        stats.faults_injected += 1;
        *stats
            .faults_by_kind
            .entry(format!("{endpoint}:{}", fault.name()))
            .or_default() += 1;
        if let FaultKind::RateLimited { retry_after_secs } = fault {
            st.retry_after
                .insert(key, now + Duration::from_secs(retry_after_secs));
        }
        tracing::debug!(%endpoint, fault = %fault, "injecting fault");
        Some(fault)
    }

    /// Creates a job for a validated input and queues it; returns its request id.
    pub(crate) fn create_job(
        self: &Arc<Self>,
        model: &'static ModelInfo,
        owner: String,
        input: &serde_json::Value,
        plan: OutputPlan,
        cost: Option<runcomfy::price::Usd>,
    ) -> String {
        let seed = self.config.seed;
        let id = {
            let mut guard = self.state();
            let st = &mut *guard;
            st.submitted += 1;
            let id = request_id(seed, st.submitted);
            let fingerprint = rng::fingerprint(&canonical_json(input));
            if !st.seen.insert((model.id, fingerprint)) {
                st.stats.duplicate_submissions += 1;
            }
            st.stats.submissions += 1;
            *st.stats
                .submissions_by_model
                .entry(model.id.to_owned())
                .or_default() += 1;
            let run_time = self
                .config
                .model_run_time
                .get(model.id)
                .unwrap_or(&self.config.run_time)
                .pick(rng::hash(seed, &[&id, "run_time"]));
            let fails = rng::unit(rng::hash(seed, &[&id, "fails"])) < self.config.fail_rate;
            let job = Job {
                model,
                owner: owner_key(&owner),
                phase: Phase::Queued,
                created_at: SystemTime::now(),
                finished_at: None,
                finished: None,
                noticed: false,
                plan,
                files: (0..plan.count).map(|_| Arc::new(OnceCell::new())).collect(),
                run_time,
                fails,
                cost,
            };
            st.jobs.insert(id.clone(), job);
            st.queue.push_back(id.clone());
            id
        };
        tracing::info!(request_id = %id, model = model.id, "job queued");
        // On disk before the reply: a client that has the id can always find the job.
        crate::persist::save(self);
        dispatch(self);
        id
    }
}

/// Starts queued jobs while workers are free.
pub(crate) fn dispatch(shared: &Arc<Shared>) {
    let mut starts = Vec::new();
    {
        let mut guard = shared.state();
        let st = &mut *guard;
        while st.running < shared.config.workers {
            let Some(id) = st.queue.pop_front() else {
                break;
            };
            if let Some(job) = st.jobs.get_mut(&id)
                && job.phase == Phase::Queued
            {
                job.phase = Phase::Running;
                st.running += 1;
                starts.push((id, job.run_time));
            }
        }
    }
    for (id, run_time) in starts {
        let shared = Arc::clone(shared);
        let mut shutdown = shared.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(run_time) => finish(&shared, &id),
                () = crate::server::stopped(&mut shutdown) => {}
            }
        });
    }
}

/// Ends a running job and lets the next one in.
fn finish(shared: &Arc<Shared>, id: &str) {
    {
        let mut guard = shared.state();
        let st = &mut *guard;
        if let Some(job) = st.jobs.get_mut(id)
            && job.phase == Phase::Running
        {
            job.phase = if job.fails {
                st.stats.jobs_failed += 1;
                Phase::Failed
            } else {
                st.stats.jobs_succeeded += 1;
                Phase::Succeeded
            };
            job.finished_at = Some(SystemTime::now());
            job.finished = Some(Instant::now());
            st.running = st.running.saturating_sub(1);
            tracing::info!(request_id = %id, model = job.model.id, status = job.phase.result_word(), "job finished");
        }
    }
    crate::persist::save(shared);
    dispatch(shared);
}

/// Who owns a job: a stable hash of its token, so the token itself is never kept (or saved).
pub(crate) fn owner_key(token: &str) -> String {
    format!("{:016x}", rng::hash(0, &["owner", token]))
}

/// A UUID-shaped id, deterministic for a seed and the submission's rank.
fn request_id(seed: u64, n: u64) -> String {
    let a = rng::hash(seed, &["request", &n.to_string()]);
    let b = rng::mix(a ^ n);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        0x8000 | (b >> 48) & 0x3FFF,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// JSON text with object keys sorted, so key order does not hide a duplicate.
fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sort(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let a = request_id(1, 1);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_ne!(a, request_id(1, 2));
        assert_ne!(a, request_id(2, 1));
        assert_eq!(a, request_id(1, 1));
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = serde_json::json!({"b": 1, "a": {"y": [1, {"q": 1, "p": 2}], "x": 2}});
        let b = serde_json::json!({"a": {"x": 2, "y": [1, {"p": 2, "q": 1}]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(
            canonical_json(&a),
            canonical_json(&serde_json::json!({"b": 2}))
        );
    }
}
