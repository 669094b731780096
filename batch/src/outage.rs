//! An outage: every call to the server failing (no connection, or a server error) with none
//! answered in between. Each line rides out failures in rounds of its own; past a limit the
//! batch stops instead (its lines stay as they are for the next run), rather than retrying
//! every line for many minutes against a server that is down.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use runcomfy::Error;

/// How long the server may go unanswered before a batch stops, by default.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(5 * 60);

/// When the current outage began, shared by every line of a run.
#[derive(Debug)]
pub(crate) struct Outage {
    limit: Duration,
    since: Mutex<Option<Instant>>,
}

impl Outage {
    pub(crate) fn new(limit: Duration) -> Self {
        Outage {
            limit,
            since: Mutex::new(None),
        }
    }

    /// The server answered a call (whatever it said): any outage is over.
    pub(crate) fn answered(&self) {
        *self.since.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// A call failed with `err`: how long the server has gone unanswered, once that reaches
    /// the limit. An error the server answered with (a refusal, a rate limit, a failed job)
    /// is an answer: it ends any outage.
    pub(crate) fn failed(&self, err: &Error) -> Option<Duration> {
        if !unanswered(err) {
            self.answered();
            return None;
        }
        let mut since = self.since.lock().unwrap_or_else(PoisonError::into_inner);
        let lasted = since.get_or_insert_with(Instant::now).elapsed();
        (lasted >= self.limit).then_some(lasted)
    }
}

/// Whether `err` says the server did not answer: no connection, a reset or timeout (a
/// submit's too, whose outcome is then unknown), or a server error (HTTP 5xx) the transport's
/// own retries did not get past.
fn unanswered(err: &Error) -> bool {
    matches!(
        err.failure(),
        Error::Transport { .. } | Error::Server { .. } | Error::SubmitOutcomeUnknown { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> runcomfy::error::ApiError {
        runcomfy::error::ApiError {
            status,
            code: None,
            message: String::new(),
            detail: None,
        }
    }

    fn server_error() -> Error {
        Error::Server {
            request_id: None,
            api: api(503),
        }
    }

    #[test]
    fn an_outage_counts_from_its_first_failure_until_an_answer() {
        let outage = Outage::new(Duration::ZERO);
        assert!(outage.failed(&server_error()).is_some());
        let outage = Outage::new(Duration::from_secs(3600));
        assert_eq!(outage.failed(&server_error()), None);
        outage.answered();
        assert_eq!(*outage.since.lock().unwrap(), None);
    }

    #[test]
    fn a_refusal_is_an_answer_not_an_outage() {
        let outage = Outage::new(Duration::from_secs(3600));
        assert_eq!(outage.failed(&server_error()), None);
        assert!(outage.since.lock().unwrap().is_some());
        let refused = Error::NotFound {
            request_id: None,
            api: api(404),
        };
        assert_eq!(outage.failed(&refused), None);
        assert_eq!(*outage.since.lock().unwrap(), None);
    }
}
