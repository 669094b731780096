//! `--max-spend`: a batch never sends a line that could take it past its budget.
//!
//! What the batch has spent, or may have, is the real cost of every finished job (its
//! estimate when the server did not say), plus the estimate of every job still running and
//! of every `unknown` line (it may have been accepted). A line is sent only when its
//! estimate fits in what is left. One that does not fit waits while jobs are running (they
//! may cost less than estimated), and is left unsent once none is. A line with no estimate
//! (a base price, an input that does not say) could cost anything: under a budget it is never
//! sent. Unsent lines stay `pending` with the reason, so nothing is lost: a later run with a
//! larger budget sends them.

use std::sync::Mutex;

use runcomfy::price::Usd;
use tokio::sync::Notify;

use crate::journal::{Row, State};

/// A batch's budget and what is spent or reserved of it.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: Usd,
    state: Mutex<Spent>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Spent {
    /// Real costs, and the estimates of jobs running or unknown.
    committed: Usd,
    /// Jobs running whose estimate is reserved (they settle when they end).
    running: usize,
}

/// Whether a line may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Sent: its estimate is reserved until it settles.
    Send,
    /// Not sent, and why.
    Unsent(String),
}

impl Budget {
    /// A budget of `limit`, with what the journal's rows have spent or reserved already.
    pub(crate) fn new(limit: Usd, rows: &[Row]) -> Budget {
        let mut spent = Spent::default();
        for row in rows {
            // Every submit but the line's last job may have been accepted unseen (an `unknown`
            // sent again with --resubmit-unknown): each counts at the estimate.
            let unseen = |submits: u64| {
                Usd::from_nanos(
                    row.estimate
                        .unwrap_or_default()
                        .nanos()
                        .saturating_mul(submits),
                )
            };
            let earlier = unseen(row.submits.saturating_sub(1));
            let (charge, running) = match row.state {
                State::Downloaded | State::Failed if row.submits > 0 => (
                    row.cost
                        .or(row.estimate)
                        .unwrap_or_default()
                        .saturating_add(earlier),
                    false,
                ),
                State::Submitted => (
                    row.estimate.unwrap_or_default().saturating_add(earlier),
                    true,
                ),
                State::Unknown | State::Submitting | State::Pending => (unseen(row.submits), false),
                _ => (Usd::ZERO, false),
            };
            spent.committed = spent.committed.saturating_add(charge);
            spent.running += usize::from(running);
        }
        Budget {
            limit,
            state: Mutex::new(spent),
            changed: Notify::new(),
        }
    }

    /// The limit.
    pub(crate) fn limit(&self) -> Usd {
        self.limit
    }

    /// Spent or reserved so far.
    pub(crate) fn committed(&self) -> Usd {
        self.lock().committed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spent> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves `estimate` for a line about to be sent: at once when it fits, after running
    /// jobs settle when it may fit then, or never.
    pub(crate) async fn reserve(&self, estimate: Option<Usd>) -> Verdict {
        let Some(estimate) = estimate else {
            return Verdict::Unsent(format!(
                "not sent: it has no estimate, so it could take the batch past --max-spend {}",
                self.limit
            ));
        };
        loop {
            let settled = self.changed.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            {
                let mut spent = self.lock();
                let after = spent.committed.saturating_add(estimate);
                if after <= self.limit {
                    spent.committed = after;
                    spent.running += 1;
                    return Verdict::Send;
                }
                if spent.running == 0 {
                    return Verdict::Unsent(format!(
                        "not sent: its estimate {estimate} would take the batch past --max-spend \
                         {} ({} spent or running)",
                        self.limit, spent.committed
                    ));
                }
            }
            settled.await;
        }
    }

    /// A running job ended: its reservation becomes its cost (the estimate when the server
    /// did not say).
    pub(crate) fn settle(&self, estimate: Option<Usd>, cost: Option<Usd>) {
        let mut spent = self.lock();
        let reserved = estimate.unwrap_or_default();
        spent.committed = spent
            .committed
            .saturating_sub(reserved)
            .saturating_add(cost.unwrap_or(reserved));
        spent.running = spent.running.saturating_sub(1);
        drop(spent);
        self.changed.notify_waiters();
    }

    /// A reservation that was not used: the submit was provably not taken, or refused.
    pub(crate) fn release(&self, estimate: Option<Usd>) {
        self.settle(estimate, Some(Usd::ZERO));
    }

    /// A submit that may or may not have been taken: its estimate stays spent, but it will
    /// not settle.
    pub(crate) fn keep(&self) {
        let mut spent = self.lock();
        spent.running = spent.running.saturating_sub(1);
        drop(spent);
        self.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Option<Usd> {
        text.parse().ok()
    }

    #[test]
    fn every_submit_that_may_have_been_accepted_counts() {
        let row = |state, submits, cost| Row {
            number: 1,
            key: None,
            dir: None,
            model: None,
            input: None,
            state,
            request_id: None,
            reason: None,
            submits,
            estimate: usd("0.10"),
            basis: None,
            cost,
            submitted_at: None,
        };
        let committed = |rows: &[Row]| Budget::new(usd("9").unwrap_or_default(), rows).committed();
        // An unknown line, about to be sent again with --resubmit-unknown (or left pending by
        // an earlier version that requeued it): its first submit may be billed.
        for state in [State::Unknown, State::Pending] {
            assert_eq!(
                committed(&[row(state, 1, None)]),
                usd("0.10").unwrap_or_default()
            );
        }
        assert_eq!(committed(&[row(State::Pending, 0, None)]), Usd::ZERO);
        // Sent again and done: its cost, and the earlier submit at its estimate.
        assert_eq!(
            committed(&[row(State::Downloaded, 2, usd("0.04"))]),
            usd("0.14").unwrap_or_default()
        );
        assert_eq!(
            committed(&[row(State::Unknown, 2, None)]),
            usd("0.20").unwrap_or_default()
        );
        assert_eq!(
            committed(&[row(State::Submitted, 2, None)]),
            usd("0.20").unwrap_or_default()
        );
    }

    #[tokio::test]
    async fn lines_are_sent_while_their_estimates_fit() {
        let budget = Budget::new(usd("0.20").unwrap_or_default(), &[]);
        assert_eq!(budget.reserve(usd("0.09")).await, Verdict::Send);
        assert_eq!(budget.reserve(usd("0.09")).await, Verdict::Send);
        // A third does not fit while two run; one settles cheaper, and it does.
        let third = budget.reserve(usd("0.09"));
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending());
        budget.settle(usd("0.09"), usd("0.01"));
        assert_eq!(third.await, Verdict::Send);
        assert_eq!(budget.committed(), usd("0.19").unwrap_or_default());
        // Nothing runs that could free enough: never.
        budget.settle(usd("0.09"), None);
        budget.settle(usd("0.09"), None);
        assert!(matches!(
            budget.reserve(usd("0.09")).await,
            Verdict::Unsent(_)
        ));
        assert!(matches!(budget.reserve(None).await, Verdict::Unsent(_)));
        assert_eq!(budget.reserve(usd("0.01")).await, Verdict::Send);
        assert_eq!(budget.committed(), budget.limit());
    }
}
