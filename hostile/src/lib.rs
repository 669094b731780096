//! A deliberately malicious HTTP/1.1 server on 127.0.0.1, for tests.
//!
//! The simulator (`runcomfy-simulator`) is the polite server: RunComfy's API as documented, with
//! faults injected on request. This one is the opposite: a test scripts, request by request,
//! what a broken or hostile server or file host does ([`Act`]): answer anything at all with any
//! headers, stream a body that never ends or drips a byte at a time, go silent, or drop the
//! connection once the request is in. It records what it was sent ([`Seen`]), so a test can
//! check what the client gave away, and how many body bytes it managed to write, so a test can
//! check that the client stopped reading.
//!
//! Every request gets its own connection (`Connection: close`), which is what a test wants to
//! count. [`Hostile::start`] serves on the caller's runtime; [`Hostile::start_in_background`]
//! on a runtime of its own, for a test that blocks on a child process (the `runcomfy` binary).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Act {
    /// A whole reply, with a `Content-Length`.
    Reply {
        /// The HTTP status.
        status: u16,
        /// Headers besides `Content-Length` and `Connection`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// `200` with this `Content-Type` and no length, then `chunk` again and again, one every
    /// `every`, until `total` bytes are written or the client hangs up.
    Stream {
        /// The `Content-Type` claimed.
        content_type: String,
        /// What is sent each time.
        chunk: Vec<u8>,
        /// When to stop (`usize::MAX`: never).
        total: usize,
        /// The pause after each chunk.
        every: Duration,
    },
    /// Reads the request and never answers.
    Hang,
    /// Reads the whole request, then closes the connection without a word: to the client, a
    /// request that went out and was lost.
    Drop,
}

/// A JSON reply.
pub fn json(status: u16, body: serde_json::Value) -> Act {
    Act::Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// A `307` to `to` (which keeps the method and body).
pub fn redirect(to: impl Into<String>) -> Act {
    Act::Reply {
        status: 307,
        headers: vec![("Location".into(), to.into())],
        body: Vec::new(),
    }
}

/// A whole body with this `Content-Type`.
pub fn file(content_type: &str, body: impl Into<Vec<u8>>) -> Act {
    Act::Reply {
        status: 200,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.into(),
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`.
    pub method: String,
    /// The request target's path (`/v1/requests/x/status`), without its query.
    pub path: String,
    /// The query, after the `?` (`include_cost=true`); empty without one.
    pub query: String,
    /// The whole head, headers included.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Seen {
    /// The bearer token sent, if any.
    pub fn token(&self) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            let value = value.trim();
            name.eq_ignore_ascii_case("authorization")
                .then(|| value.strip_prefix("Bearer ").unwrap_or(value).to_owned())
        })
    }
}

/// What a test gives the server: what to do with each request, knowing the server's own base
/// URL (to point a redirect or an output URL back at it).
pub type Script = dyn Fn(&Seen, &str) -> Act + Send + Sync;

/// The server. Stops when dropped.
pub struct Hostile {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    body_bytes: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Hostile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hostile")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// Starts serving on a free loopback port, on the current runtime.
    pub async fn start(act: impl Fn(&Seen, &str) -> Act + Send + Sync + 'static) -> Hostile {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(err) => panic!("cannot listen on loopback: {err}"),
        };
        let base_url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(err) => panic!("no local address: {err}"),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let body_bytes = Arc::new(AtomicU64::new(0));
        let act: Arc<Script> = Arc::new(act);
        let task = tokio::spawn({
            let (seen, body_bytes, base) = (seen.clone(), body_bytes.clone(), base_url.clone());
            async move {
                while let Ok((socket, _)) = listener.accept().await {
                    let connection = Connection {
                        seen: seen.clone(),
                        body_bytes: body_bytes.clone(),
                        act: act.clone(),
                        base: base.clone(),
                    };
                    tokio::spawn(connection.serve(socket));
                }
            }
        });
        Hostile {
            base_url,
            seen,
            body_bytes,
            task,
        }
    }

    /// Starts serving on a runtime of its own, so it serves while the test blocks.
    pub fn start_in_background(
        act: impl Fn(&Seen, &str) -> Act + Send + Sync + 'static,
    ) -> InBackground {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(err) => panic!("cannot start a runtime: {err}"),
        };
        let server = runtime.block_on(Hostile::start(act));
        InBackground {
            server,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every request so far, in the order they came.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests so far with this method and a path ending with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path.ends_with(suffix))
            .count()
    }

    /// Body bytes written to clients so far, over every reply (what a client read, or what
    /// sits in socket buffers it never read).
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }
}

/// A [`Hostile`] on a runtime of its own.
#[derive(Debug)]
pub struct InBackground {
    // Dropped before the runtime its task runs on.
    server: Hostile,
    _runtime: tokio::runtime::Runtime,
}

impl std::ops::Deref for InBackground {
    type Target = Hostile;

    fn deref(&self) -> &Hostile {
        &self.server
    }
}

/// One connection: one request, one act.
struct Connection {
    seen: Arc<Mutex<Vec<Seen>>>,
    body_bytes: Arc<AtomicU64>,
    act: Arc<Script>,
    base: String,
}

impl Connection {
    async fn serve(self, mut socket: TcpStream) {
        let Some(seen) = read_request(&mut socket).await else {
            return;
        };
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(seen.clone());
        match (self.act)(&seen, &self.base) {
            Act::Reply {
                status,
                headers,
                body,
            } => {
                let mut reply = format!(
                    "HTTP/1.1 {status} Hostile\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    reply.push_str(&format!("{name}: {value}\r\n"));
                }
                reply.push_str("\r\n");
                let mut bytes = reply.into_bytes();
                bytes.extend_from_slice(&body);
                if socket.write_all(&bytes).await.is_ok() {
                    self.body_bytes
                        .fetch_add(body.len() as u64, Ordering::Relaxed);
                }
                let _ = socket.shutdown().await;
            }
            Act::Stream {
                content_type,
                chunk,
                total,
                every,
            } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
                );
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut sent = 0;
                while sent < total {
                    let take = chunk.len().min(total - sent);
                    if take == 0 || socket.write_all(&chunk[..take]).await.is_err() {
                        return; // The client hung up: what a cap or a timeout does.
                    }
                    sent += take;
                    self.body_bytes.fetch_add(take as u64, Ordering::Relaxed);
                    if !every.is_zero() {
                        tokio::time::sleep(every).await;
                    }
                }
                let _ = socket.shutdown().await;
            }
            Act::Hang => std::future::pending::<()>().await,
            // Dropping the socket closes it; the request was read whole.
            Act::Drop => {}
        }
    }
}

/// Reads one request, head and body (so the client is never left writing into a closed
/// socket); `None` if the connection ends first.
async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while bytes.len() - end < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Some(Seen {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        body: bytes[end..].to_vec(),
        head,
    })
}
