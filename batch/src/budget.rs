//! `--max-spend`: a batch never sends a line that could take it past its budget.
//!
//! What the batch has spent, or may have, is the journal's account of it
//! ([`Spending`](crate::spending::Spending)): real costs, and estimates where the server has
//! not said (jobs running, jobs that did not say, submits of unknown outcome). A line is sent
//! only when its estimate fits in what is left. One that does not fit waits while jobs are
//! running (they may cost less than estimated), and is left unsent once none is. A line with
//! no estimate (a base price, an input that does not say) could cost anything: under a budget
//! it is never sent, and once something of the batch may have been billed with neither an
//! estimate nor a cost (run without a budget), no line is. Unsent lines stay `pending` with
//! the reason, so nothing is lost: a later run with a larger budget sends them.

use std::collections::BTreeSet;
use std::sync::Mutex;

use runcomfy::price::Usd;
use tokio::sync::Notify;

use crate::journal::{Row, State};
use crate::spending::{Spending, reserved};

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
    /// Lines that may have been billed with neither an estimate nor a cost.
    unbounded: BTreeSet<u64>,
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
        let spending = Spending::of(rows);
        let spent = Spent {
            committed: spending.committed(),
            running: rows.iter().filter(|r| r.state == State::Submitted).count(),
            unbounded: spending.unbounded.into_iter().collect(),
        };
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

    /// Lines that may have been billed with neither an estimate nor a cost.
    pub(crate) fn unbounded(&self) -> Vec<u64> {
        self.lock().unbounded.iter().copied().collect()
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
                if let Some(line) = spent.unbounded.first() {
                    if spent.running == 0 {
                        return Verdict::Unsent(format!(
                            "not sent: line {line} may have been billed with neither an \
                             estimate nor a cost, so what the batch has spent is not known \
                             (--no-max-spend sends it)"
                        ));
                    }
                } else if spent.committed.saturating_add(estimate) <= self.limit {
                    spent.committed = spent.committed.saturating_add(estimate);
                    spent.running += 1;
                    return Verdict::Send;
                } else if spent.running == 0 {
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

    /// `row`'s running job ended: what was held for it becomes its cost (what was held, when
    /// the server did not say).
    pub(crate) fn settle(&self, row: &Row, cost: Option<Usd>) {
        let mut spent = self.lock();
        let held = reserved(row);
        spent.committed = spent
            .committed
            .saturating_sub(held)
            .saturating_add(cost.unwrap_or(held));
        spent.running = spent.running.saturating_sub(1);
        if cost.is_some() && row.unseen.is_some() {
            spent.unbounded.remove(&row.number);
        }
        drop(spent);
        self.changed.notify_waiters();
    }

    /// `row`'s reservation was not used: its submit was provably not taken, or refused.
    pub(crate) fn release(&self, row: &Row) {
        self.settle(row, Some(Usd::ZERO));
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

    /// A line about to be sent (or, `Submitted`, resumed running) at an estimate of $0.09.
    fn row(number: u64, state: State) -> Row {
        Row {
            number,
            key: None,
            dir: None,
            model: None,
            input: None,
            state,
            request_id: (state == State::Submitted).then(|| format!("req-{number}")),
            reason: None,
            submits: u64::from(state == State::Submitted),
            estimate: usd("0.09"),
            basis: None,
            cost: None,
            submitted_at: None,
            unseen: Some(Usd::ZERO),
            cost_unread: None,
        }
    }

    #[tokio::test]
    async fn lines_are_sent_while_their_estimates_fit() {
        let budget = Budget::new(usd("0.20").unwrap_or_default(), &[]);
        let line = row(1, State::Pending);
        assert_eq!(budget.reserve(line.estimate).await, Verdict::Send);
        assert_eq!(budget.reserve(line.estimate).await, Verdict::Send);
        // A third does not fit while two run; one settles cheaper, and it does.
        let third = budget.reserve(line.estimate);
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending());
        budget.settle(&line, usd("0.01"));
        assert_eq!(third.await, Verdict::Send);
        assert_eq!(budget.committed(), usd("0.19").unwrap_or_default());
        // Nothing runs that could free enough: never.
        budget.settle(&line, None);
        budget.settle(&line, None);
        assert!(matches!(
            budget.reserve(usd("0.09")).await,
            Verdict::Unsent(_)
        ));
        assert!(matches!(budget.reserve(None).await, Verdict::Unsent(_)));
        assert_eq!(budget.reserve(usd("0.01")).await, Verdict::Send);
        assert_eq!(budget.committed(), budget.limit());
    }

    #[test]
    fn a_resumed_job_that_said_its_cost_holds_that_cost() {
        let mut running = row(1, State::Submitted);
        running.cost = usd("0.27");
        let budget = Budget::new(usd("0.40").unwrap_or_default(), &[running.clone()]);
        assert_eq!(budget.committed(), usd("0.27").unwrap_or_default());
        // It ends, saying the same cost (or nothing): counted once.
        budget.settle(&running, usd("0.27"));
        assert_eq!(budget.committed(), usd("0.27").unwrap_or_default());
        budget.settle(&running, None);
        assert_eq!(budget.committed(), usd("0.27").unwrap_or_default());
    }

    #[tokio::test]
    async fn nothing_is_sent_while_something_may_have_cost_anything() {
        // Run without a budget, at no known price, and resumed with one.
        let mut running = row(1, State::Submitted);
        running.estimate = None;
        let budget = Budget::new(usd("1").unwrap_or_default(), &[running.clone()]);
        let next = budget.reserve(usd("0.09"));
        tokio::pin!(next);
        assert!(futures::poll!(next.as_mut()).is_pending());
        // It ends without saying what it cost: still unknown, so nothing more is sent.
        budget.settle(&running, None);
        assert!(
            matches!(next.await, Verdict::Unsent(reason) if reason.contains("line 1 may have been billed"))
        );
        // Once a cost is said, lines are sent again.
        let budget = Budget::new(usd("1").unwrap_or_default(), &[running.clone()]);
        budget.settle(&running, usd("0.50"));
        assert_eq!(budget.reserve(usd("0.09")).await, Verdict::Send);
    }
}
