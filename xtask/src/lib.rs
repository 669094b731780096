//! Maintainer tasks behind `cargo xtask`, as a library so that tests call them directly.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod bump;
pub mod codegen;
pub mod diff;
pub mod gitrev;
pub mod import;
pub mod lint;
pub mod normalize;
pub mod page;
pub mod pull;
pub mod store;

use std::path::PathBuf;

/// The workspace root: xtask lives one level below it.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
