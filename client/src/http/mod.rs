//! The HTTP layer: one call to the API and everything it needs, knowing nothing of the
//! `Client`, jobs or models.
//!
//! - `transport`: [`Http`](transport::Http), the connection the client owns: one call with the
//!   rate gate, the token (to the API's own origin only) and a capped reply body.
//! - [`retry`]: which failures are retried and how ([`RetryPolicy`](retry::RetryPolicy),
//!   backoff with jitter, `Retry-After`, the client-wide rate gate).
//! - `wire`: the API's reply bodies, and a raw reply turned into one of them or a typed error.
//! - `json_count`: a reply's JSON values counted before it is read.
//! - [`secret`]: the token, kept out of `Debug`, logs and errors.
//! - `dates`: the two date formats the API sends, and deadlines that cannot overflow.
//!
//! It fails with the crate's [`Error`](crate::error::Error), the one module of the crate it
//! uses besides its own.

pub(crate) mod dates;
mod json_count;
pub mod retry;
pub mod secret;
pub(crate) mod transport;
pub(crate) mod wire;

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `::1`); `None` with no
/// host. Plain `http` goes to such a host only, and never through a proxy.
pub(crate) fn is_loopback(url: &url::Url) -> Option<bool> {
    use std::net::IpAddr;
    Some(match url.host()? {
        url::Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    })
}
