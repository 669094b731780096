//! Ctrl-C or SIGTERM while a job is in flight: noticed, not fatal, so the job can be cancelled
//! and a download's partial file removed first.

use tokio::sync::watch;

/// Counts Ctrl-C presses and SIGTERMs from the moment it is created (the default "exit at
/// once" no longer applies after that).
#[derive(Debug)]
pub struct Interrupts {
    presses: watch::Receiver<u32>,
}

impl Interrupts {
    /// Starts listening.
    pub fn listen() -> Self {
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(async move {
            let mut terminate = Terminate::listen();
            loop {
                let heard = tokio::select! {
                    pressed = tokio::signal::ctrl_c() => pressed.is_ok(),
                    () = terminate.next() => true,
                };
                if !heard {
                    break;
                }
                tx.send_modify(|n| *n += 1);
            }
        });
        Self { presses: rx }
    }

    /// Resolves at the next Ctrl-C or SIGTERM; never, if signals cannot be listened to.
    pub async fn next(&mut self) {
        if self.presses.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `work` to its end, or until Ctrl-C or SIGTERM: `None` then (`work` is dropped).
    pub async fn race<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            done = work => Some(done),
            () = self.next() => None,
        }
    }
}

/// SIGTERM (what `kill`, service managers and CI runners send), where there is one.
struct Terminate {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Terminate {
    fn listen() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    /// The next SIGTERM; never, without one.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal
            && signal.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await
    }
}
