//! Generates typed Rust for RunComfy's Model API from its JSON Schema catalog.
//!
//! The pipeline: [`catalog`] reads `<root>/<model id>/{input,output,overlay}.json`, [`lower`]
//! builds the typed model of the catalog ([`ir`]) and rejects inconsistencies, [`naming`] gives
//! Rust names, and [`emit`] writes Rust with `quote`, formatted by `prettyplease`. The output is
//! included by the `runcomfy` crate, whose runtime types (`crate::catalog`, `crate::validate`,
//! `crate::Media`) it refers to.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod catalog;
pub mod emit;
pub mod error;
pub mod ir;
pub mod lower;
pub mod naming;
pub mod overlay;

use std::path::Path;

pub use error::{Error, Errors};

/// Reads and checks a catalog folder into its IR.
pub fn load(root: &Path) -> Result<ir::Catalog, Errors> {
    let sources = catalog::read_catalog(root)?;
    lower::build(&sources)
}

/// Generates the Rust of a whole catalog folder: the file `runcomfy` includes.
pub fn generate(root: &Path) -> Result<String, Errors> {
    Ok(emit::file(&load(root)?))
}

/// Generates each model's module on its own, by model id, for review and snapshots.
pub fn generate_models(root: &Path) -> Result<Vec<(String, String)>, Errors> {
    let catalog = load(root)?;
    Ok(catalog
        .models
        .iter()
        .map(|m| (m.id.clone(), emit::model_module(&catalog, m)))
        .collect())
}
