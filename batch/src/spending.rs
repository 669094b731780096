//! What a batch has spent, or may have: one account of the journal's lines, which the budget
//! (`--max-spend`), the summary and the gallery all read.
//!
//! A line may have been billed for the job it follows (its cost, as the server said; else its
//! estimate) and for each of its submits of unknown outcome (each at the estimate it was sent
//! with). Something billed with neither a cost nor an estimate could have cost anything.

use runcomfy::price::Usd;

use crate::journal::{Row, State};

/// A number of jobs or submits and what they are counted at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// Their estimates, summed.
    pub usd: Usd,
    /// How many of them have no estimate.
    pub unestimated: u64,
}

impl Tally {
    fn add(&mut self, count: u64, usd: Option<Usd>) {
        self.count += count;
        match usd {
            Some(usd) => self.usd = self.usd.saturating_add(usd),
            None => self.unestimated += count,
        }
    }
}

/// What the lines have spent, or may have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spending {
    /// What the server said jobs cost.
    pub stated: Usd,
    /// Jobs that ended without saying what they cost, at their estimates.
    pub unstated: Tally,
    /// Jobs that said what they cost in a form that is not US dollars (`"0.5 EUR"`), at their
    /// estimates: billed, by an amount this runcomfy cannot add up.
    pub unread: Tally,
    /// Jobs accepted and not ended, which have not said, at their estimates.
    pub running: Tally,
    /// Submits of unknown outcome (they may have been accepted), at their estimates.
    pub unseen: Tally,
    /// Lines that may have been billed for something with neither a cost nor an estimate:
    /// they could have cost anything.
    pub unbounded: Vec<u64>,
}

impl Spending {
    /// The account of `rows`.
    pub fn of(rows: &[Row]) -> Spending {
        let mut spending = Spending::default();
        for row in rows {
            spending.add(row);
        }
        spending
    }

    fn add(&mut self, row: &Row) {
        let mut bounded = true;
        let unseen = unseen_submits(row);
        if unseen > 0 {
            self.unseen.add(unseen, row.unseen);
            bounded &= row.unseen.is_some();
        }
        if row.request_id.is_some() {
            let tally = if row.cost_unread.is_some() {
                &mut self.unread
            } else if row.state == State::Submitted {
                &mut self.running
            } else {
                &mut self.unstated
            };
            match row.cost {
                Some(cost) => self.stated = self.stated.saturating_add(cost),
                None => {
                    tally.add(1, row.estimate);
                    bounded &= row.estimate.is_some();
                }
            }
        }
        if !bounded {
            self.unbounded.push(row.number);
        }
    }

    /// Spent, or may be: what a budget counts.
    pub fn committed(&self) -> Usd {
        self.stated
            .saturating_add(self.unstated.usd)
            .saturating_add(self.unread.usd)
            .saturating_add(self.running.usd)
            .saturating_add(self.unseen.usd)
    }
}

/// A line's submits of unknown outcome: every one but the job it follows (the one being sent,
/// while it is `submitting`).
fn unseen_submits(row: &Row) -> u64 {
    let followed = row.request_id.is_some() || row.state == State::Submitting;
    row.submits.saturating_sub(u64::from(followed))
}

/// What the budget holds for a running line's job until it ends: its cost if the server said
/// it already, else its estimate.
pub(crate) fn reserved(row: &Row) -> Usd {
    row.cost.or(row.estimate).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Usd {
        text.parse().unwrap_or_default()
    }

    fn row(state: State, submits: u64, request: bool) -> Row {
        Row {
            number: 1,
            key: None,
            dir: None,
            model: None,
            input: None,
            state,
            request_id: request.then(|| "req".to_owned()),
            reason: None,
            submits,
            estimate: Some(usd("0.10")),
            basis: None,
            cost: None,
            submitted_at: None,
            unseen: Some(Usd::ZERO),
            cost_unread: None,
        }
    }

    #[test]
    fn a_job_counts_at_its_cost_else_its_estimate() {
        let mut done = row(State::Downloaded, 1, true);
        assert_eq!(Spending::of(&[done.clone()]).unstated.usd, usd("0.10"));
        done.cost = Some(usd("0.27"));
        let spending = Spending::of(&[done]);
        assert_eq!((spending.stated, spending.unstated.count), (usd("0.27"), 0));
        // A running job that already said what it cost (its download failed) counts that.
        let mut running = row(State::Submitted, 1, true);
        running.cost = Some(usd("0.27"));
        assert_eq!(Spending::of(&[running]).committed(), usd("0.27"));
        // Refused, or never sent: nothing.
        assert_eq!(
            Spending::of(&[row(State::Failed, 0, false)]).committed(),
            Usd::ZERO
        );
    }

    #[test]
    fn a_cost_said_in_a_form_that_cannot_be_read_is_counted_at_the_estimate_apart() {
        let mut done = row(State::Downloaded, 1, true);
        done.cost_unread = Some("\"0.5 EUR\"".to_owned());
        let spending = Spending::of(&[done]);
        assert_eq!(
            (spending.unread.count, spending.unread.usd),
            (1, usd("0.10"))
        );
        assert_eq!(spending.unstated.count, 0);
        assert_eq!(spending.committed(), usd("0.10"));
    }

    #[test]
    fn submits_of_unknown_outcome_count_at_the_estimates_they_were_sent_with() {
        let mut unknown = row(State::Unknown, 2, false);
        unknown.unseen = Some(usd("0.27"));
        let spending = Spending::of(&[unknown]);
        assert_eq!(
            spending.unseen,
            Tally {
                count: 2,
                usd: usd("0.27"),
                unestimated: 0
            }
        );
        // Sent again and done: the earlier submit stays counted beside the job's cost.
        let mut resent = row(State::Downloaded, 2, true);
        resent.unseen = Some(usd("0.09"));
        resent.cost = Some(usd("0.18"));
        assert_eq!(Spending::of(&[resent]).committed(), usd("0.27"));
    }

    #[test]
    fn what_had_no_estimate_and_said_no_cost_is_unbounded() {
        let mut job = row(State::Submitted, 1, true);
        job.estimate = None;
        let mut submit = row(State::Unknown, 1, false);
        submit.number = 2;
        submit.unseen = None;
        let spending = Spending::of(&[job, submit]);
        assert_eq!(spending.unbounded, [1, 2]);
        assert_eq!(spending.committed(), Usd::ZERO);
    }
}
