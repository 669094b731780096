//! Maintainer tasks behind `cargo xtask`, as a library so that tests call them directly.
//!
//! Catalog upkeep: [`import`] reads RunComfy doc pages and catalog files ([`catalog_file`]),
//! [`pull`] fetches the API's catalog,
//! both writing through [`normalize`] and [`store`]; [`lint`] shows the generator's errors and
//! warnings, [`diff`] the changes between two catalogs as `runcomfy_codegen::compat` classifies
//! them, with the semver bump they call for ([`bump`]), reading git revisions through
//! [`gitrev`]; [`synth`] makes large synthetic catalogs; [`codegen`] writes the generated Rust
//! for review; [`features`] keeps `client/Cargo.toml`'s model features in step with the
//! catalog; [`bench`](mod@bench) runs the benchmarks and compares them with their peers.
//!
//! Each command is a `run` function returning `Result` with its own error type; the binary
//! prints the error and exits with the command's documented code.

#![warn(clippy::unwrap_used, clippy::expect_used)]

// First, so that every module below has its macros.
#[macro_use]
pub mod console;

pub mod bench;
pub mod bump;
pub mod catalog_file;
pub mod codegen;
pub mod diff;
pub mod features;
pub mod gitrev;
pub mod import;
pub mod lint;
pub mod normalize;
pub mod page;
pub mod pull;
pub mod rng;
pub mod store;
pub mod synth;

use std::path::PathBuf;

/// The workspace root: xtask lives one level below it.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
