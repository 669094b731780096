//! Retrying failed calls: which failures are retried, exponential backoff with full jitter
//! (driven by `backon`), `Retry-After`, and a client-wide pause after a rate limit.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use tokio::sync::Notify;

use super::dates::parse_http_date;
use crate::error::Error;

/// The pause before round `round` (from 1) of a plain doubling backoff: 1 s, 2 s, 4 s ...,
/// never more than `cap`. Not jittered: for rounds over one's own jobs (a wait riding out an
/// outage, a batch's rounds), after each call's own retries ([`RetryPolicy`]) are spent.
///
/// ```
/// use std::time::Duration;
/// let cap = Duration::from_secs(8);
/// let pauses: Vec<u64> = (1..=5).map(|n| runcomfy::retry::doubling(n, cap).as_secs()).collect();
/// assert_eq!(pauses, [1, 2, 4, 8, 8]);
/// ```
pub fn doubling(round: u32, cap: Duration) -> Duration {
    let secs = 1u64
        .checked_shl(round.saturating_sub(1))
        .unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(cap)
}

/// How failed calls are retried.
///
/// Status, result, cancel and download calls retry connection failures, timeouts and HTTP 408,
/// 429, 500, 502, 503 and 504. A submit is retried only when the server provably did not take
/// it: the connection was never made, or it answered 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: usize,
    min_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
    total: Duration,
}

impl Default for RetryPolicy {
    /// Four retries, 250 ms doubling up to 8 s with full jitter, `Retry-After` honoured up to
    /// 60 s (a 429 without one waits a second at least), and no retry that would start later
    /// than 90 s after the first attempt.
    fn default() -> Self {
        Self {
            max_retries: 4,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            total: Duration::from_secs(90),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// At most this many retries after the first attempt.
    pub fn with_max_retries(mut self, retries: usize) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first backoff (before jitter); each next one doubles.
    pub fn with_min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// The largest backoff (before jitter).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` waited for; a longer one ends the retries with
    /// [`Error::RateLimited`] rather than retrying early. The pause it asks for holds every call
    /// of the client: one made while more of it is left than this fails at once, unsent, with
    /// the time left as its `retry_after`.
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// No retry starts later than this after the first attempt.
    pub fn with_total(mut self, total: Duration) -> Self {
        self.total = total;
        self
    }

    /// The most retries.
    pub fn max_retries(&self) -> usize {
        self.max_retries
    }

    /// The longest `Retry-After` waited for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    fn backoff(&self) -> FullJitter {
        let exponential = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_max_times(self.max_retries)
            .with_factor(2.0)
            .build();
        FullJitter {
            inner: exponential,
            rng: Rng::new(),
        }
    }
}

/// Exponential backoff with full jitter: each delay is drawn uniformly from `[0, d]`, where `d`
/// is backon's (unjittered) exponential delay. backon's own jitter adds to `d` instead, which
/// keeps retries of many clients bunched together.
struct FullJitter {
    inner: <ExponentialBuilder as BackoffBuilder>::Backoff,
    rng: Rng,
}

impl Iterator for FullJitter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.inner.next()?;
        Some(delay.mul_f64(self.rng.unit()))
    }
}

/// A small xorshift generator seeded from the standard library's per-process random keys;
/// jitter needs spread, not cryptographic quality.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = RandomState::new().hash_one(Instant::now());
        Self(seed | 1)
    }

    /// A number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A handle on a submit in progress, for its caller: stops it being sent again, and says whether
/// one of its attempts is on the wire, where dropping the submit leaves its outcome unknown.
///
/// A submit waiting to be sent again (after a 429 or a connection never made) has nothing on
/// the wire: stopped ([`stop`](Self::stop)) or dropped then, it was provably not accepted. An
/// attempt on the wire is answered first, and not followed by another.
///
/// Give each submit its own: [`on_wire`](Self::on_wire) speaks of one submit's attempts, and a
/// control once stopped stops every submit that uses it, before its first attempt too.
#[derive(Debug, Clone, Default)]
pub struct SubmitControl(Arc<ControlState>);

#[derive(Debug, Default)]
struct ControlState {
    stopped: AtomicBool,
    on_wire: AtomicBool,
    changed: tokio::sync::Notify,
    single_attempt: bool,
    resend: Mutex<Option<Resend>>,
}

/// A submit refused unsent (a 429, a connection never made) that waits to be sent again:
/// when, and why ([`SubmitControl::resend`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resend {
    /// When it is sent again.
    pub at: Instant,
    /// Whether the server rate-limited it (else no connection was made).
    pub rate_limited: bool,
    /// The refusal, as the error it would have ended with.
    pub reason: String,
}

impl SubmitControl {
    /// A control of a submit not yet started.
    pub fn new() -> Self {
        Self::default()
    }

    /// A control of a submit that makes one attempt and waits for nothing before it: a
    /// client-wide pause after a rate limit, or another call's turn to go first after one, fails
    /// it at once, unsent, as [`Error::RateLimited`] with the time left. For a caller that
    /// records each attempt before it goes (a batch's journal) and retries itself: no time
    /// spent waiting is then recorded as a submit the server may have taken.
    pub fn single_attempt() -> Self {
        Self(Arc::new(ControlState {
            single_attempt: true,
            ..ControlState::default()
        }))
    }

    /// Whether this submit makes one attempt ([`single_attempt`](Self::single_attempt)).
    pub fn is_single_attempt(&self) -> bool {
        self.0.single_attempt
    }

    /// Sends nothing more: a submit waiting to be sent again ends at once with
    /// [`Error::SubmitStopped`]; one on the wire gets its answer, and no retry after it.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Whether an attempt is on the wire now: from just before its request is sent until its
    /// answer is read. Not on the wire, the submit can be dropped knowing nothing was accepted.
    pub fn on_wire(&self) -> bool {
        self.0.on_wire.load(Ordering::SeqCst)
    }

    /// When this submit waits to be sent again after a refusal that took nothing: when, and
    /// why; `None` before its first attempt, while one is on the wire, and once answered.
    /// For a caller to tell a person why a submit takes long, and that nothing was taken.
    pub fn resend(&self) -> Option<Resend> {
        self.resend_slot().clone()
    }

    /// Notes that the submit waits `delay` after `failure` before it is sent again.
    pub(crate) fn waits(&self, failure: &Failure, delay: Duration) {
        *self.resend_slot() = Some(Resend {
            at: crate::http::dates::later(Instant::now(), delay),
            rate_limited: matches!(failure.error, Error::RateLimited { .. }),
            reason: failure.error.to_string(),
        });
    }

    fn resend_slot(&self) -> std::sync::MutexGuard<'_, Option<Resend>> {
        // The slot holds a value, whole or not yet written: a panic elsewhere cannot tear it.
        self.0.resend.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks an attempt on the wire until the guard drops.
    pub(crate) fn sending(&self) -> OnWire<'_> {
        *self.resend_slot() = None;
        self.0.on_wire.store(true, Ordering::SeqCst);
        OnWire(self)
    }

    /// Resolves once stopped with no attempt on the wire.
    pub(crate) async fn stopped_off_wire(&self) {
        loop {
            let changed = self.0.changed.notified();
            tokio::pin!(changed);
            // Registered before the check: a change between the two is not missed.
            changed.as_mut().enable();
            if self.is_stopped() && !self.on_wire() {
                return;
            }
            changed.await;
        }
    }
}

/// An attempt on the wire ([`SubmitControl::sending`]).
pub(crate) struct OnWire<'a>(&'a SubmitControl);

impl Drop for OnWire<'_> {
    fn drop(&mut self) {
        self.0.0.on_wire.store(false, Ordering::SeqCst);
        self.0.0.changed.notify_waiters();
    }
}

/// A failed attempt, with what the retry decision needs.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: Error,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    /// Whether the request provably never reached the server.
    pub not_sent: bool,
}

impl Failure {
    /// Whether an idempotent call (GET, cancel, download) should be tried again.
    pub fn is_transient(&self) -> bool {
        match &self.error {
            Error::Transport { failure, .. } => {
                !failure.is_builder()
                    && !failure.is_redirect()
                    && !crate::error::is_tls_failure(failure)
            }
            Error::RateLimited { .. } => true,
            Error::Server { api, .. } => {
                matches!(api.status, 408 | 500 | 502 | 503 | 504) || api.status < 300
            }
            // A garbled or truncated reply to a GET: asking again is harmless.
            Error::InvalidResponse { .. } => true,
            _ => false,
        }
    }

    /// Whether a submit may be sent again: only when the server provably did not take it.
    pub fn is_safe_to_resubmit(&self) -> bool {
        matches!(self.error, Error::RateLimited { .. })
            || (self.not_sent && matches!(self.error, Error::Transport { .. }))
    }
}

/// A client-wide "not before" instant, set by `Retry-After`, that every call waits for, so a
/// rate limit pauses every job of the client and not only the call that hit it. An atomic, not
/// a lock: every call of every job looks at it, and it is open nearly always.
///
/// Once it opens again, one call goes first and the others wait for its answer: had they all
/// gone at once, the first would close it again and the rest reach the server before the new
/// `Retry-After` passed. Any answer but another rate limit lets them all go.
#[derive(Debug)]
pub(crate) struct RateGate {
    /// The gate's clock: `closed_until` counts from here.
    epoch: Instant,
    /// Nanoseconds after `epoch` before which no call starts; 0 while never closed.
    closed_until: AtomicU64,
    /// Closed since the server last answered with anything but a rate limit.
    strained: AtomicBool,
    /// A call is on its way to tell whether the limit is over.
    probing: AtomicBool,
    /// Its answer came (or it ended without one).
    probed: Notify,
}

/// How long the others wait for the call that went first before going too: a server slow to
/// answer it must not hold every call of the client.
const PROBE_PATIENCE: Duration = Duration::from_secs(5);

impl Default for RateGate {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            closed_until: AtomicU64::new(0),
            strained: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            probed: Notify::new(),
        }
    }
}

impl RateGate {
    /// Waits until the gate is open, and after a close until the call that went first was
    /// answered. The pass is held until the call's answer is read. Closed for longer than
    /// `patience` (the policy's longest `Retry-After`), it does not wait: `Err` with the time
    /// left, which the call reports as a rate limit at once, unsent, as the call that met the
    /// `Retry-After` did. With no patience at all, neither does it wait behind the call that
    /// went first: `Err` with [`RATE_LIMIT_FLOOR`], its answer's time being unknown.
    pub async fn wait(&self, patience: Duration) -> Result<GatePass<'_>, Duration> {
        loop {
            let until = self.closed_until.load(Ordering::Relaxed);
            if until == 0 {
                return Ok(GatePass { probe: None });
            }
            let until = self.epoch + Duration::from_nanos(until);
            let left = until.saturating_duration_since(Instant::now());
            if left > patience {
                return Err(left);
            }
            if !left.is_zero() {
                tokio::time::sleep_until(until.into()).await;
            }
            if !self.strained.load(Ordering::Relaxed) {
                return Ok(GatePass { probe: None });
            }
            // Enabled before the look at `probing`, so an end between the two still wakes it.
            let probed = self.probed.notified();
            tokio::pin!(probed);
            probed.as_mut().enable();
            if !self.probing.swap(true, Ordering::AcqRel) {
                return Ok(GatePass { probe: Some(self) });
            }
            if patience.is_zero() {
                return Err(RATE_LIMIT_FLOOR);
            }
            if tokio::time::timeout(PROBE_PATIENCE, probed).await.is_err() {
                return Ok(GatePass { probe: None });
            }
        }
    }

    /// How long it stays closed from now, if it is.
    pub fn closed_for(&self) -> Option<Duration> {
        let until = self.closed_until.load(Ordering::Relaxed);
        let left =
            (self.epoch + Duration::from_nanos(until)).saturating_duration_since(Instant::now());
        (until != 0 && !left.is_zero()).then_some(left)
    }

    /// Closes the gate for `delay`, unless it is already closed for longer.
    pub fn close_for(&self, delay: Duration) {
        let until = self.epoch.elapsed().saturating_add(delay);
        let until = u64::try_from(until.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.strained.store(true, Ordering::Relaxed);
        self.closed_until.fetch_max(until, Ordering::Relaxed);
    }

    /// The server answered with something other than a rate limit: the calls held behind the
    /// first may go.
    pub fn relieved(&self) {
        if self.strained.load(Ordering::Relaxed) {
            self.strained.store(false, Ordering::Relaxed);
        }
    }
}

/// A call's leave to go; the first after a close ends the others' wait when dropped.
#[derive(Debug)]
pub(crate) struct GatePass<'a> {
    probe: Option<&'a RateGate>,
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        if let Some(gate) = self.probe {
            gate.probing.store(false, Ordering::Release);
            gate.probed.notify_waiters();
        }
    }
}

/// The pause a reply's `Retry-After` asks for. A date is read against the reply's own `Date`
/// when it has one: the server means a pause on its clock, and a client minutes behind it
/// would read a 3 s pause as minutes.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let server_now = text(reqwest::header::DATE).and_then(parse_http_date);
    parse_retry_after(text(reqwest::header::RETRY_AFTER)?, server_now)
}

/// Reads a `Retry-After` value: seconds, or an HTTP date, from `now` (this machine's clock
/// when `None`).
fn parse_retry_after(value: &str, now: Option<SystemTime>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // A fractional number is not standard, but harmless to honour.
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = parse_http_date(value)?;
    Some(
        at.duration_since(now.unwrap_or_else(SystemTime::now))
            .unwrap_or(Duration::ZERO),
    )
}

/// The least pause after a 429 that gave no `Retry-After` (before jitter).
const RATE_LIMIT_FLOOR: Duration = Duration::from_secs(1);

/// Runs `attempt` until it succeeds, fails for good, or the policy is spent.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    retryable: impl FnMut(&Failure) -> bool,
    mut waits: impl FnMut(&Failure, Duration),
    attempt: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let started = Instant::now();
    let mut jitter = Rng::new();
    attempt
        .retry(policy.backoff())
        .when(retryable)
        .adjust(|failure: &Failure, delay: Option<Duration>| {
            let mut delay = delay?;
            if let Some(after) = failure.retry_after {
                if after > policy.max_retry_after {
                    return None;
                }
                // Never earlier than asked; a little later, so clients told the same second
                // do not all come back at once.
                let spread = (after / 10).min(Duration::from_secs(1));
                delay = delay.max(after.saturating_add(spread.mul_f64(jitter.unit())));
            } else if matches!(failure.error, Error::RateLimited { .. }) {
                // A rate limit that does not say how long: a second at least, spread, rather
                // than the backoff's first quarter seconds.
                let floor = RATE_LIMIT_FLOOR.mul_f64(1.0 + jitter.unit() / 2.0);
                delay = delay.max(floor.min(policy.max_delay.max(policy.min_delay)));
            }
            (started.elapsed().saturating_add(delay) <= policy.total).then_some(delay)
        })
        .notify(|failure: &Failure, delay: Duration| {
            tracing::debug!(error = %failure.error, ?delay, "retrying");
            waits(failure, delay);
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3", None), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", None),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", None), None);
    }

    /// A date is a pause on the server's clock: 3 s after its `Date`, whatever this machine's
    /// clock says.
    #[test]
    fn a_retry_after_date_counts_from_the_replys_own_date() {
        use reqwest::header::{DATE, HeaderMap, HeaderValue, RETRY_AFTER};
        let mut headers = HeaderMap::new();
        headers.insert(
            DATE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:40 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.remove(DATE);
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }

    #[test]
    fn full_jitter_stays_within_the_exponential_envelope() {
        let policy = RetryPolicy::default()
            .with_max_retries(6)
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(800));
        let delays: Vec<Duration> = policy.backoff().collect();
        assert_eq!(delays.len(), 6);
        let caps = [100u64, 200, 400, 800, 800, 800];
        for (delay, cap) in delays.iter().zip(caps) {
            assert!(*delay <= Duration::from_millis(cap), "{delay:?} > {cap} ms");
        }
        // Full jitter spreads delays below the envelope rather than above it.
        let total: Duration = (0..200).flat_map(|_| policy.backoff()).sum();
        assert!(
            total < Duration::from_millis(200 * 3100 * 3 / 4),
            "{total:?}"
        );
    }

    #[tokio::test]
    async fn a_rate_limit_that_says_no_wait_is_still_given_a_second() {
        let policy = RetryPolicy::default().with_max_retries(1);
        let mut attempts = 0;
        let started = Instant::now();
        let mut told = Vec::new();
        let waits = |_: &Failure, delay| told.push(delay);
        let result = run(&policy, Failure::is_transient, waits, || {
            attempts += 1;
            let first = attempts == 1;
            async move {
                if first {
                    Err(Failure {
                        error: Error::RateLimited {
                            request_id: None,
                            retry_after: None,
                        },
                        retry_after: None,
                        not_sent: false,
                    })
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(result.is_ok());
        assert!(
            started.elapsed() >= RATE_LIMIT_FLOOR,
            "{:?}",
            started.elapsed()
        );
        // The wait is told before it is waited, as it is.
        assert_eq!(told.len(), 1);
        assert!(told[0] >= RATE_LIMIT_FLOOR, "{told:?}");
    }

    /// Longer than any close of these tests.
    const PATIENCE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn after_a_close_the_others_wait_for_the_first_answer() {
        let gate = RateGate::default();
        gate.close_for(Duration::from_millis(30));
        let first = gate.wait(PATIENCE).await.unwrap();
        // Unanswered, the first holds the others.
        assert!(
            tokio::time::timeout(Duration::from_millis(100), gate.wait(PATIENCE))
                .await
                .is_err()
        );
        // Rate limited again: the next waits out the new close, then goes first in turn.
        gate.close_for(Duration::from_millis(60));
        let closed = Instant::now();
        drop(first);
        let second = gate.wait(PATIENCE).await.unwrap();
        assert!(closed.elapsed() >= Duration::from_millis(55));
        // Any other answer lets every call go at once.
        gate.relieved();
        drop(second);
        let (a, b) = tokio::join!(gate.wait(PATIENCE), gate.wait(PATIENCE));
        assert!(a.unwrap().probe.is_none() && b.unwrap().probe.is_none());
    }

    #[tokio::test]
    async fn the_rate_gate_holds_every_caller() {
        let gate = RateGate::default();
        gate.close_for(Duration::from_millis(60));
        let started = Instant::now();
        gate.wait(PATIENCE).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(55));
    }

    /// A single-attempt submit waits for nothing: not a close, however short, nor the call
    /// that went first after one.
    #[tokio::test]
    async fn no_patience_waits_neither_for_a_close_nor_for_the_first_call_after_one() {
        let gate = RateGate::default();
        gate.close_for(Duration::from_millis(40));
        let left = gate.wait(Duration::ZERO).await.err();
        assert!(left.is_some_and(|left| left > Duration::ZERO), "{left:?}");
        let first = gate.wait(PATIENCE).await;
        assert!(first.is_ok());
        let started = Instant::now();
        let held = gate.wait(Duration::ZERO).await.err();
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(held, Some(RATE_LIMIT_FLOOR));
        drop(first);
        gate.relieved();
        assert!(gate.wait(Duration::ZERO).await.is_ok());
    }

    #[tokio::test]
    async fn a_close_longer_than_the_patience_fails_at_once_with_the_time_left() {
        let gate = RateGate::default();
        gate.close_for(Duration::from_secs(3600));
        let started = Instant::now();
        let left = gate.wait(Duration::from_secs(60)).await.err();
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(
            left.is_some_and(|left| left > Duration::from_secs(3590)),
            "{left:?}"
        );
    }
}
