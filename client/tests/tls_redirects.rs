//! Redirects over real TLS on loopback: an https API that redirects within https is
//! followed with the token, one that redirects to plain http is refused before anything is
//! sent there, for a submit and for a read alike.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use runcomfy::{Client, JobState};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const TOKEN: &str = "tls-test-token-5e81c0";

/// One request the https server saw: method, path, and whether it carried the token.
type Seen = (String, String, bool);

struct Servers {
    https: SocketAddr,
    /// The plain-http server redirects point to; it only counts connections.
    plain: SocketAddr,
    plain_connections: Arc<AtomicUsize>,
    /// Connections to the https server, handshakes that failed included.
    https_connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    ca: reqwest::Certificate,
}

/// The https server's replies: `/v1/requests/ok/status` redirects within https to
/// `/v1/requests/moved/status`, which answers; every other path redirects to plain http.
fn reply(path: &str, https: SocketAddr, plain: SocketAddr) -> hyper::Response<String> {
    let redirect = |to: String| {
        hyper::Response::builder()
            .status(307)
            .header("location", to)
            .body(String::new())
    };
    let response = match path {
        "/v1/requests/ok/status" => redirect(format!(
            "https://localhost:{}/v1/requests/moved/status",
            https.port()
        )),
        "/v1/requests/moved/status" => hyper::Response::builder()
            .header("content-type", "application/json")
            .body(json!({"request_id": "ok", "status": "in_progress"}).to_string()),
        other => redirect(format!("http://127.0.0.1:{}{other}", plain.port())),
    };
    response.unwrap_or_default()
}

async fn start() -> Servers {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca = reqwest::Certificate::from_der(cert.cert.der()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.cert.der().to_vec())], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let plain_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain = plain_listener.local_addr().unwrap();
    let plain_connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&plain_connections);
    tokio::spawn(async move {
        while let Ok((_stream, _)) = plain_listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let https = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let https_connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&https_connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let bearer = req
                        .headers()
                        .get("authorization")
                        .is_some_and(|v| v.as_bytes() == format!("Bearer {TOKEN}").as_bytes());
                    let path = req.uri().path().to_owned();
                    log.lock()
                        .unwrap()
                        .push((req.method().to_string(), path.clone(), bearer));
                    async move { Ok::<_, Infallible>(reply(&path, https, plain)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Servers {
        https,
        plain,
        plain_connections,
        https_connections,
        seen,
        ca,
    }
}

fn client(servers: &Servers) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(format!("https://localhost:{}", servers.https.port()))
        .root_certificates([servers.ca.clone()])
        .build()
        .unwrap()
}

fn seen(servers: &Servers) -> Vec<Seen> {
    servers.seen.lock().unwrap().clone()
}

#[tokio::test]
async fn a_redirect_within_https_is_followed_with_the_token() {
    let servers = start().await;
    let status = client(&servers).job_json("ok").status().await.unwrap();
    assert_eq!(status.state, JobState::InProgress);
    let paths: Vec<(String, bool)> = seen(&servers)
        .into_iter()
        .map(|(_, path, bearer)| (path, bearer))
        .collect();
    assert_eq!(
        paths,
        [
            ("/v1/requests/ok/status".to_owned(), true),
            ("/v1/requests/moved/status".to_owned(), true),
        ]
    );
}

#[tokio::test]
async fn a_read_redirected_to_plain_http_is_refused_and_not_retried() {
    let servers = start().await;
    let err = client(&servers)
        .job_json("plain")
        .status()
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert_eq!(servers.plain_connections.load(Ordering::SeqCst), 0);
    assert_eq!(seen(&servers).len(), 1, "{:?}", seen(&servers));
    // The plain server is there: had the client followed, it would have connected.
    assert!(
        tokio::net::TcpStream::connect(servers.plain).await.is_ok(),
        "the plain server must be listening for this test to mean anything"
    );
}

#[tokio::test]
async fn a_submit_redirected_to_plain_http_is_refused_and_not_resent() {
    let servers = start().await;
    let model = runcomfy::catalog::find("bytedance/seedream-4-0/sequential").unwrap();
    let input = json!({"text": "a lighthouse at dusk"});
    let err = client(&servers)
        .submit_json(model, &input)
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        !text.contains("lighthouse"),
        "the body is not echoed: {text}"
    );
    assert_eq!(servers.plain_connections.load(Ordering::SeqCst), 0);
    let posts: Vec<Seen> = seen(&servers)
        .into_iter()
        .filter(|(method, _, _)| method == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "a submit is sent once: {posts:?}");
}

/// A server whose certificate is not trusted here (a private CA, a TLS-inspecting proxy) is
/// asked once, not again and again, and the error says how to trust it.
#[tokio::test]
async fn an_untrusted_certificate_is_not_retried_and_says_how_to_trust_it() {
    let servers = start().await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("https://localhost:{}", servers.https.port()))
        .build()
        .unwrap();
    let err = client.job_json("ok").status().await.unwrap_err();
    assert!(matches!(err, runcomfy::Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("SSL_CERT_FILE"), "{err}");
    assert_eq!(servers.https_connections.load(Ordering::SeqCst), 1);
    assert!(seen(&servers).is_empty());
}
