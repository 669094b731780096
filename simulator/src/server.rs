//! The listener and per-connection loop.
//!
//! We serve connections ourselves (hyper's HTTP/1 connection, axum's router as the service)
//! rather than with `axum::serve`, because a fault must be able to drop a connection in the
//! middle of a request: each connection gets a [`ConnControl`] in its requests' extensions,
//! and dropping the connection future closes the socket (with `SO_LINGER` 0 for a reset).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::SimConfig;
use crate::error::SimError;
use crate::fault::Faults;
use crate::state::Shared;
use crate::stats::Stats;

/// A running simulator. Dropping it stops it too; [`Simulator::shutdown`] also waits.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    port: u16,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl Simulator {
    /// Binds 127.0.0.1 on the configured port and starts serving; returns once it accepts
    /// connections.
    pub async fn start(mut config: SimConfig) -> Result<Simulator, SimError> {
        config.check()?;
        let saved = match &config.state_file {
            Some(path) => crate::persist::load(path)?,
            None => None,
        };
        if let Some(saved) = &saved {
            // Request ids and images continue from the saved simulator's seed.
            config.seed = saved.seed;
        }
        let port = config.port;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SimError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            config,
            format!("http://127.0.0.1:{}", addr.port()),
            shutdown_rx.clone(),
        ));
        if let Some(saved) = saved {
            crate::persist::restore(&shared, saved);
        }
        let router = crate::api::router(Arc::clone(&shared));
        let accept = tokio::spawn(accept_loop(listener, router, shutdown_rx));
        tracing::info!(base_url = %shared.base_url, "simulator ready");
        Ok(Simulator {
            shared,
            port: addr.port(),
            shutdown,
            accept,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The port bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Zeroes the counters (jobs are kept).
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Replaces the faults in force (scripts included) from the next request on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Stops accepting, closes every connection and stops every job, then returns.
    pub async fn shutdown(self) {
        self.shutdown.send_replace(true);
        let _ = self.accept.await;
    }
}

async fn accept_loop(listener: TcpListener, router: Router, shutdown: watch::Receiver<bool>) {
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, router.clone(), shutdown.clone()));
                }
                Err(err) => {
                    // Usually out of file descriptors: wait rather than spin.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            },
            () = stopped(&mut stop) => break,
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let reset = Arc::new(AtomicBool::new(false));
    let (kill, mut killed) = watch::channel(false);
    let control = ConnControl {
        inner: Arc::new(ControlInner {
            reset: Arc::clone(&reset),
            kill,
        }),
    };
    let io = TokioIo::new(SimIo { stream, reset });
    let hyper_service = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(control.clone());
        hyper_service.call(req)
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::select! {
        result = connection => {
            if let Err(err) = result {
                tracing::debug!(%err, "connection ended with an error");
            }
        }
        // Dropping the connection future closes the socket; see `SimIo`'s `Drop`.
        () = stopped(&mut killed) => {}
        () = stopped(&mut shutdown) => {}
    }
}

/// Resolves when the flag turns true or its sender is gone (the simulator was dropped).
pub(crate) async fn stopped(flag: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here, not in a caller's `select!`.
    let _ = flag.wait_for(|on| *on).await;
}

/// Lets a request drop its own connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnControl {
    inner: Arc<ControlInner>,
}

#[derive(Debug)]
struct ControlInner {
    reset: Arc<AtomicBool>,
    kill: watch::Sender<bool>,
}

impl ConnControl {
    /// Closes the connection without a (complete) reply: with a TCP reset when `reset`, else
    /// with a normal close after what was already written.
    pub(crate) fn drop_connection(&self, reset: bool) {
        if reset {
            self.inner.reset.store(true, Ordering::SeqCst);
        }
        self.inner.kill.send_replace(true);
    }
}

/// The TCP stream, which on drop turns a close into a reset when asked to.
struct SimIo {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for SimIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // SO_LINGER 0 makes the close below send RST and discard unsent data.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for SimIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
