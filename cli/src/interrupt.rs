//! Ctrl-C, SIGTERM or SIGHUP while a job is in flight: noticed, not fatal, so the job can be
//! cancelled and a download's partial file removed first.

use tokio::sync::watch;

/// Counts Ctrl-C presses, SIGTERMs and SIGHUPs from the moment it is created (the default "exit at
/// once" no longer applies after that).
#[derive(Debug)]
pub struct Interrupts {
    presses: watch::Receiver<u32>,
}

impl Interrupts {
    /// Starts listening.
    pub fn listen() -> Self {
        let (tx, rx) = watch::channel(0u32);
        let mut signals = runcomfy_batch::Signals::listen();
        tokio::spawn(async move {
            while signals.next().await {
                tx.send_modify(|n| *n += 1);
            }
        });
        Self { presses: rx }
    }

    /// Resolves at the next Ctrl-C, SIGTERM or SIGHUP; never, if signals cannot be listened to.
    pub async fn next(&mut self) {
        if self.presses.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `work` to its end, or until Ctrl-C, SIGTERM or SIGHUP: `None` then (`work` is dropped).
    pub async fn race<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            done = work => Some(done),
            () = self.next() => None,
        }
    }
}
