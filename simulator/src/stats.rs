//! Counters for tests: what clients did, and how well they behaved.

use std::collections::BTreeMap;

use serde::Serialize;

/// A snapshot of the simulator's counters (also served at `GET /_sim/stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Jobs created (accepted submissions, including those whose reply was dropped).
    pub submissions: u64,
    /// Submit requests received, whatever became of them.
    pub submit_calls: u64,
    /// Accepted submissions whose model and body (key order aside) had been accepted before.
    pub duplicate_submissions: u64,
    /// Accepted submissions per model id.
    pub submissions_by_model: BTreeMap<String, u64>,
    /// Status requests received.
    pub status_calls: u64,
    /// Status requests per request id.
    pub status_calls_by_request: BTreeMap<String, u64>,
    /// Result requests received.
    pub result_calls: u64,
    /// Result requests per request id.
    pub result_calls_by_request: BTreeMap<String, u64>,
    /// Cancel requests received.
    pub cancel_calls: u64,
    /// Catalog requests received.
    pub catalog_calls: u64,
    /// Output files served whole.
    pub downloads: u64,
    /// Output file requests received, whatever became of them.
    pub download_calls: u64,
    /// Output files served whole, per request id.
    pub downloads_by_request: BTreeMap<String, u64>,
    /// The most output files being sent at once (a file counts until the connection has taken
    /// its last slice, which it does only as the client reads).
    pub downloads_at_once_max: u64,
    /// Requests that came before the time a 429's `Retry-After` asked for (same endpoint and
    /// request id; for submit and catalog, same token).
    pub retry_after_violations: u64,
    /// Faults injected.
    pub faults_injected: u64,
    /// Faults injected, keyed `endpoint:kind` (`status:reset`).
    pub faults_by_kind: BTreeMap<String, u64>,
    /// Jobs that succeeded.
    pub jobs_succeeded: u64,
    /// Jobs that failed.
    pub jobs_failed: u64,
    /// Jobs cancelled while queued.
    pub jobs_cancelled: u64,
    /// Finished (succeeded or failed) jobs no status or result reply has yet reported finished.
    pub unnoticed_jobs: u64,
    /// For each finished job that was noticed: milliseconds from its end to the first status or
    /// result reply that reported it finished, in order of notice.
    pub notice_delays_ms: Vec<f64>,
    /// Median of `notice_delays_ms` (`None` before any).
    pub notice_delay_ms_p50: Option<f64>,
    /// 95th percentile of `notice_delays_ms` (`None` before any).
    pub notice_delay_ms_p95: Option<f64>,
    /// Largest of `notice_delays_ms` (`None` before any).
    pub notice_delay_ms_max: Option<f64>,
}

impl Stats {
    /// Status requests for one request id.
    pub fn status_calls_for(&self, request_id: &str) -> u64 {
        self.status_calls_by_request
            .get(request_id)
            .copied()
            .unwrap_or(0)
    }

    /// Result requests for one request id.
    pub fn result_calls_for(&self, request_id: &str) -> u64 {
        self.result_calls_by_request
            .get(request_id)
            .copied()
            .unwrap_or(0)
    }

    /// Accepted submissions of one model.
    pub fn submissions_for(&self, model_id: &str) -> u64 {
        self.submissions_by_model
            .get(model_id)
            .copied()
            .unwrap_or(0)
    }

    /// Faults of one endpoint and kind name (see [`crate::FaultKind::name`]).
    pub fn faults_of(&self, endpoint: crate::Endpoint, kind: &str) -> u64 {
        self.faults_by_kind
            .get(&format!("{endpoint}:{kind}"))
            .copied()
            .unwrap_or(0)
    }

    /// Fills the percentiles from `notice_delays_ms`.
    pub(crate) fn summarize(&mut self) {
        let mut sorted = self.notice_delays_ms.clone();
        sorted.sort_by(f64::total_cmp);
        self.notice_delay_ms_p50 = percentile(&sorted, 0.50);
        self.notice_delay_ms_p95 = percentile(&sorted, 0.95);
        self.notice_delay_ms_max = sorted.last().copied();
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), Some(50.0));
        assert_eq!(percentile(&values, 0.95), Some(95.0));
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
        let mut stats = Stats {
            notice_delays_ms: vec![30.0, 10.0, 20.0],
            ..Stats::default()
        };
        stats.summarize();
        assert_eq!(stats.notice_delay_ms_p50, Some(20.0));
        assert_eq!(stats.notice_delay_ms_p95, Some(30.0));
        assert_eq!(stats.notice_delay_ms_max, Some(30.0));
    }
}
