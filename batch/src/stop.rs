//! Stopping a batch gracefully: no new submits, in-flight submits record their request ids,
//! waits and downloads are left for the next run.

use std::sync::Arc;

use crate::progress::say;

use tokio::sync::watch;

/// A stop request, shared by whoever asks (Ctrl-C) and the batch.
#[derive(Debug, Clone)]
pub struct Stop {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new()
    }
}

impl Stop {
    /// Not requested yet.
    pub fn new() -> Stop {
        Stop {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    /// Asks the batch to stop.
    pub fn request(&self) {
        self.tx.send_replace(true);
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once a stop is asked for.
    pub async fn requested(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so this only ends when the flag turns true.
        let _ = rx.wait_for(|on| *on).await;
    }
}

/// Ctrl-C, SIGTERM and SIGHUP handling for a command line ([`Signals`]): the first asks `stop` (and says so on
/// stderr), the second exits at once with status 130. Each journal change is its own committed
/// transaction, so exiting at any point leaves the journal consistent; a stopped download
/// removes its partial file.
pub fn on_ctrl_c(stop: &Stop) {
    let stop = stop.clone();
    tokio::spawn(async move {
        let mut signals = Signals::listen();
        if !signals.next().await {
            return;
        }
        stop.request();
        say(
            "\nstopping: no new submits; a submit in flight, if any, records its request id \
             first (Ctrl-C again to quit now)",
        );
        if signals.next().await {
            say("quitting now; run the same command again to carry on");
            std::process::exit(130);
        }
    });
}

/// The signals that ask a command to stop: Ctrl-C, and where there are such, SIGTERM (what
/// `kill`, service managers and CI runners send) and SIGHUP (the terminal closed, an SSH
/// session lost), which would otherwise end the process at once, leaving a partial file and a
/// queued job behind.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    others: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Starts listening: from now on these signals no longer end the process by themselves.
    pub fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let others = [SignalKind::terminate(), SignalKind::hangup()]
                .into_iter()
                .filter_map(|kind| signal(kind).ok())
                .collect();
            Self { others }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal; `false` when none can be listened to.
    pub async fn next(&mut self) -> bool {
        #[cfg(unix)]
        if !self.others.is_empty() {
            let others = futures::future::select_all(
                self.others.iter_mut().map(|signal| Box::pin(signal.recv())),
            );
            return tokio::select! {
                pressed = tokio::signal::ctrl_c() => pressed.is_ok(),
                (got, _, _) = others => got.is_some(),
            };
        }
        tokio::signal::ctrl_c().await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requested_resolves_after_request() {
        let stop = Stop::new();
        assert!(!stop.is_requested());
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        stop.request();
        assert!(waiter.await.is_ok());
        assert!(stop.is_requested());
        // Already requested: resolves at once.
        stop.requested().await;
    }
}
