//! A local simulator of RunComfy's Model API, for tests, demos and benchmarks.
//!
//! It serves the documented endpoints on 127.0.0.1 for every model compiled into the
//! [`runcomfy`] crate's catalog, validates inputs with the same generated validators as the
//! client, runs jobs through a queue of configurable workers on tokio time, produces real PNG
//! outputs of the requested size, injects faults on demand, and counts what clients do.
//!
//! ```no_run
//! # async fn demo() -> Result<(), runcomfy_simulator::SimError> {
//! use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig {
//!     faults: Faults::none().script(Endpoint::Status, vec![FaultKind::Http503]),
//!     ..SimConfig::default()
//! })
//! .await?;
//! println!("API at {}", sim.base_url());
//! // ... drive a client against it ...
//! assert_eq!(sim.stats().duplicate_submissions, 0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Endpoints:
//! - `POST /v1/models/{model id}`, `GET /v1/requests/{id}/status`,
//!   `GET /v1/requests/{id}/result`, `POST /v1/requests/{id}/cancel`: the job lifecycle.
//! - `GET /v1/models`, `GET /v1/models/{model id}`, `GET /v1/models/categories`: the catalog,
//!   with each model's price ([`SimConfig::prices`]); `GET /v1/requests/{id}/result?
//!   include_cost=true` adds the job's `cost`: the rate times the outputs it made, or the
//!   seconds its input asked for.
//! - `GET /files/{id}/{n}.png`: the outputs (no token needed, like a CDN link).
//! - `GET /_sim/stats`: the [`Stats`] as JSON (no token needed).

#![warn(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod config;
mod error;
mod fault;
mod output;
mod persist;
mod rng;
mod server;
mod state;
mod stats;
mod timefmt;

pub use config::{RunTime, SimConfig, parse_bytes, parse_duration, parse_price};
pub use error::SimError;
pub use fault::{Endpoint, FaultKind, Faults};
pub use server::Simulator;
pub use stats::Stats;
