//! Typed client for RunComfy's Model API.
//!
//! Every model of the catalog in `schemas/` is generated at build time into [`models`]: a marker
//! type implementing [`Model`], a typed input that validates itself, and a typed output.
//! [`catalog()`] lists them at run time. Each model is a cargo feature
//! (`bytedance-seedream-4-0-edit`), each family one too (`bytedance-seedream-4-0`), and
//! `all-models` enables every one; a model whose feature is off is not in [`models`].
//!
//! The client is async and needs a [Tokio](https://tokio.rs) runtime: calls made outside one
//! panic.
//!
//! ```no_run
//! use runcomfy::models::bytedance::seedream_4_0::edit::{Edit, EditInput};
//! use runcomfy::{Client, Error, Media, WaitOptions};
//! use std::time::Duration;
//!
//! # async fn example() -> Result<(), Error> {
//! // RUNCOMFY_TOKEN, and RUNCOMFY_BASE_URL for the simulator.
//! let client = Client::from_env()?;
//! let input = EditInput::new("make it blue", vec![Media::path("cat.png")]);
//! // Invalid input is refused here, before anything is sent or paid for.
//! let job = match client.submit::<Edit>(&input).await {
//!     Ok(job) => job,
//!     // Sent, and perhaps accepted (and billed): never submit it again blindly.
//!     Err(err @ Error::SubmitOutcomeUnknown { .. }) => {
//!         eprintln!("check your RunComfy requests before sending it again: {err}");
//!         return Err(err);
//!     }
//!     // Not sent, or refused: nothing was billed.
//!     Err(err) => return Err(err),
//! };
//! println!("request {}", job.id());
//! // A deadline that cancels the job if it is still queued then.
//! let output = job
//!     .wait_with(WaitOptions::new().timeout(Duration::from_secs(600)), |update| {
//!         println!("{:?} after {:?}", update.state, update.elapsed);
//!     })
//!     .await?;
//! println!("cost: {:?}", job.cost());
//! for file in client.download(&output, "out").await? {
//!     println!("{} ({} bytes)", file.path.display(), file.bytes);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Client::run`] does submit, wait and nothing more, for when the request id and the cost
//! do not matter.

#![warn(clippy::unwrap_used, clippy::expect_used)]

// The modules bottom up, a layer at a time: each uses only modules declared before it
// (`tests/layers.rs` keeps it so; ARCHITECTURE.md describes them).
//
// The data the generated code is made of, what validation reports, the crate's errors:
// text from elsewhere made safe for a terminal;
mod printable;
// JSON numbers that keep the form they were written in;
pub mod number;
// the schema statics;
pub mod schema;
// problems found, re-exported by `validate`;
mod report;
// the SHA-256 files are named by (also the batch journal's input file);
pub mod digest;
// the wall clock that dates records and jobs, which never goes back;
pub mod clock;
// placing a finished file under a name of its own;
mod place;
// a file a download saved;
mod saved;
// `Error`, and the outcomes it carries;
pub mod error;
// money and prices.
pub mod price;
// Validation: media inputs, measured from their headers;
pub mod media;
// the one validator.
pub mod validate;
// The model core: a model's fields, re-exported by `catalog`;
mod field;
// a model at run time (traits, `ModelInfo`, `DynInput`);
pub mod model;
// the listing of the generated models;
pub mod catalog;
// models run without their schema (an id the catalog lacks, or a stale schema);
pub mod unchecked;
// the one way from JSON to a request body;
pub mod input;
// what an input will cost at a price.
pub mod estimate;
// The HTTP layer: one call, its retries, the reply bodies, the token, dates.
mod http;
// The client and its jobs, on top of all the rest;
mod api;
// and what made a job's files, written beside them.
pub mod provenance;

pub use api::{client, download, dynamic, job, poll, preflight, wait};
pub use http::{retry, secret};

pub use catalog::catalog;
pub use media::Media;
pub use model::{Input, Model, Output, OutputFile};
pub use number::{Integer, Number};
/// The HTTP client whose types this API takes and gives (`ClientBuilder::http_client`,
/// `Error::Transport`): name them through it, so the versions always match.
pub use reqwest;
/// The words of the catalog (keywords, formats, media, rules), shared with the generator.
pub use runcomfy_vocab as vocab;
pub use validate::{Problem, Severity, ValidationError, ValidationReport};

// Listed as re-exports, as those of the other modules are: their pages are in the modules.
#[doc(no_inline)]
pub use client::{Client, ClientBuilder};
#[doc(no_inline)]
pub use download::{DownloadCounter, DownloadOptions, DownloadedFile};
pub use error::Error;
#[doc(no_inline)]
pub use job::{CancelOutcome, Job, JobRecord, JobState, Status};
#[doc(no_inline)]
pub use poll::{PollHistorySnapshot, PollPolicy};
#[doc(no_inline)]
pub use retry::{Resend, RetryPolicy, SubmitControl};
#[doc(no_inline)]
pub use wait::{FirstSeenRunning, Outage, Update, WaitOptions};

// The reply parsers, for the fuzz targets in `fuzz/` and the property tests only.
#[doc(hidden)]
pub use api::replies::parse_replies as __parse_replies;

// `models`, `outputs` and `GENERATED_MODELS`, generated by `build.rs` from `schemas/`.
include!(concat!(env!("OUT_DIR"), "/runcomfy_models.rs"));

// The README's Rust examples are compiled (and the ones not marked `no_run` run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
