//! Optional job state on disk ([`crate::SimConfig::state_file`]): a simulator started again on
//! the same file still knows the jobs of the earlier one, as the real API keeps jobs when a
//! client restarts. Used by the CLI's `--mock` batches, so Ctrl-C and a rerun behave like the
//! real service.
//!
//! The file holds jobs (model, phase, times, output plan), the request-id counter and seed (so
//! ids never repeat), the fingerprints of accepted bodies and the submission counters (so
//! duplicates are counted across runs). Tokens are stored only as hashes.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::output::OutputPlan;
use crate::state::{Job, Phase, Shared};

const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Saved {
    version: u32,
    /// The seed request ids and images come from.
    pub seed: u64,
    submitted: u64,
    jobs: Vec<SavedJob>,
    seen: Vec<(String, u64)>,
    submissions: u64,
    duplicate_submissions: u64,
    submissions_by_model: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedJob {
    id: String,
    model: String,
    /// [`crate::state::owner_key`] of the token, never the token.
    owner: String,
    phase: String,
    created_ms: u64,
    finished_ms: Option<u64>,
    width: u32,
    height: u32,
    count: usize,
    run_time_ms: u64,
    fails: bool,
    #[serde(default)]
    cost_nanos: Option<u64>,
}

/// Reads a state file; `None` when it does not exist yet.
pub(crate) fn load(path: &Path) -> Result<Option<Saved>, SimError> {
    let bad = |reason: String| SimError::State {
        path: path.to_owned(),
        reason,
    };
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(bad(err.to_string())),
    };
    let saved: Saved = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if saved.version != VERSION {
        return Err(bad(format!(
            "version {}, this simulator reads {VERSION}",
            saved.version
        )));
    }
    Ok(Some(saved))
}

/// Puts saved jobs back. A job that was queued or running is treated as the real service
/// would have: finished if its run time has passed since it was created, else queued again.
pub(crate) fn restore(shared: &Arc<Shared>, saved: Saved) {
    let now = SystemTime::now();
    {
        let mut guard = shared.state();
        let st = &mut *guard;
        st.submitted = saved.submitted;
        st.stats.submissions = saved.submissions;
        st.stats.duplicate_submissions = saved.duplicate_submissions;
        st.stats.submissions_by_model = saved.submissions_by_model;
        for (model, fingerprint) in saved.seen {
            if let Some(model) = shared.model(&model) {
                st.seen.insert((model.id, fingerprint));
            }
        }
        let mut requeue = Vec::new();
        for job in saved.jobs {
            let Some(model) = shared.model(&job.model) else {
                continue;
            };
            let Some(mut phase) = phase_from(&job.phase) else {
                continue;
            };
            let created_at = UNIX_EPOCH + Duration::from_millis(job.created_ms);
            let run_time = Duration::from_millis(job.run_time_ms);
            let mut finished_at = job
                .finished_ms
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
            if matches!(phase, Phase::Queued | Phase::Running) {
                if now.duration_since(created_at).unwrap_or_default() >= run_time {
                    phase = if job.fails {
                        Phase::Failed
                    } else {
                        Phase::Succeeded
                    };
                    finished_at = Some(created_at + run_time);
                } else {
                    phase = Phase::Queued;
                    requeue.push(job.id.clone());
                }
            }
            let plan = OutputPlan {
                width: job.width,
                height: job.height,
                count: job.count,
                kind: crate::output::kind_of(model),
            };
            st.jobs.insert(
                job.id,
                Job {
                    model,
                    owner: job.owner,
                    phase,
                    created_at,
                    finished_at,
                    finished: None,
                    // Finished before this simulator started: not this run's to notice.
                    noticed: true,
                    plan,
                    files: (0..plan.count)
                        .map(|_| Arc::new(tokio::sync::OnceCell::new()))
                        .collect(),
                    run_time,
                    fails: job.fails,
                    cost: job.cost_nanos.map(runcomfy::price::Usd::from_nanos),
                },
            );
        }
        st.queue.extend(requeue);
    }
    crate::state::dispatch(shared);
}

/// Writes the state file, if configured: a snapshot under the state lock, then a temporary
/// file renamed into place. Saves are serialized, so an older snapshot never overwrites a
/// newer one.
pub(crate) fn save(shared: &Shared) {
    let Some(path) = &shared.config.state_file else {
        return;
    };
    let _writing = shared
        .save_lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let saved = {
        let st = shared.state();
        let ms = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        };
        let mut jobs: Vec<SavedJob> = st
            .jobs
            .iter()
            .map(|(id, job)| SavedJob {
                id: id.clone(),
                model: job.model.id.to_owned(),
                owner: job.owner.clone(),
                phase: job.phase.status_word().to_owned(),
                created_ms: ms(job.created_at),
                finished_ms: job.finished_at.map(ms),
                width: job.plan.width,
                height: job.plan.height,
                count: job.plan.count,
                run_time_ms: u64::try_from(job.run_time.as_millis()).unwrap_or(u64::MAX),
                fails: job.fails,
                cost_nanos: job.cost.map(runcomfy::price::Usd::nanos),
            })
            .collect();
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        let mut seen: Vec<(String, u64)> = st
            .seen
            .iter()
            .map(|(model, fp)| ((*model).to_owned(), *fp))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        seen.sort();
        Saved {
            version: VERSION,
            seed: shared.config.seed,
            submitted: st.submitted,
            jobs,
            seen,
            submissions: st.stats.submissions,
            duplicate_submissions: st.stats.duplicate_submissions,
            submissions_by_model: st.stats.submissions_by_model.clone(),
        }
    };
    let result = serde_json::to_vec(&saved)
        .map_err(std::io::Error::other)
        .and_then(|bytes| {
            let temp = path.with_extension("tmp");
            std::fs::write(&temp, bytes)?;
            std::fs::rename(&temp, path)
        });
    if let Err(err) = result {
        tracing::warn!(path = %path.display(), %err, "cannot save the simulator state");
    }
}

fn phase_from(word: &str) -> Option<Phase> {
    Some(match word {
        "in_queue" => Phase::Queued,
        "in_progress" => Phase::Running,
        "completed" => Phase::Succeeded,
        "failed" => Phase::Failed,
        "cancelled" => Phase::Cancelled,
        _ => return None,
    })
}
