//! Ctrl-C while a job is in flight: noticed, not fatal, so the job can be cancelled first.

use tokio::sync::watch;

/// Counts Ctrl-C presses from the moment it is created (the default "exit at once" no longer
/// applies after that).
#[derive(Debug)]
pub struct Interrupts {
    presses: watch::Receiver<u32>,
}

impl Interrupts {
    /// Starts listening.
    pub fn listen() -> Self {
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                tx.send_modify(|n| *n += 1);
            }
        });
        Self { presses: rx }
    }

    /// Resolves at the next Ctrl-C; never, if signals cannot be listened to.
    pub async fn next(&mut self) {
        if self.presses.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `work` to its end, or until Ctrl-C: `None` then (`work` is dropped).
    pub async fn race<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            done = work => Some(done),
            () = self.next() => None,
        }
    }
}
