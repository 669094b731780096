//! Generates typed Rust for RunComfy's Model API from its JSON Schema catalog.
//!
//! The pipeline: [`catalog`] reads `<root>/<model id>/{input,output,overlay}.json`, [`lower`]
//! builds the typed model of the catalog ([`ir`]) and rejects inconsistencies, [`naming`] gives
//! Rust names, and [`emit`] writes Rust with `quote`, formatted by `prettyplease` for people
//! (or left as compact tokens for the compiler: [`Generator::pretty`]). [`features`] names the
//! cargo feature of each model, so a dependent compiles only the models it uses.
//! The output is included by the `runcomfy` crate, whose runtime types (`crate::catalog`,
//! `crate::validate`, `crate::Media`) it refers to.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod catalog;
pub mod compat;
pub mod emit;
pub mod error;
pub mod features;
pub mod ir;
pub mod lower;
pub mod naming;
pub mod overlay;
mod parallel;

use std::fmt;
use std::path::Path;

pub use error::{Error, Errors};

/// Reads and checks a catalog folder into its IR.
pub fn load(root: &Path) -> Result<ir::Catalog, Errors> {
    load_on(root, 1, &|_| true)
}

/// [`load`] on up to `threads` threads, with only the models `generate` accepts in the
/// catalog's `models` (the others still name the output types they share).
fn load_on(
    root: &Path,
    threads: usize,
    generate: &(dyn Fn(&str) -> bool + Sync),
) -> Result<ir::Catalog, Errors> {
    let sources = catalog::read_catalog_on(root, threads, generate)?;
    lower::build(&sources)
}

/// Generates the formatted Rust of a whole catalog folder: the file `runcomfy` includes.
pub fn generate(root: &Path) -> Result<String, Errors> {
    Generator::new().generate(root)
}

/// Generates the output types of a whole catalog folder, for review and snapshots.
pub fn generate_outputs(root: &Path) -> Result<String, Errors> {
    Ok(emit::outputs_module(&load(root)?))
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

/// What to generate from a catalog, and how: every model, formatted, unless told otherwise.
///
/// Names are always given from the whole catalog, so selecting fewer models never renames
/// what is generated (cargo features must be additive).
pub struct Generator<'a> {
    pretty: bool,
    threads: usize,
    select: Option<Selector<'a>>,
    gated: bool,
}

/// Which model ids to generate.
type Selector<'a> = Box<dyn Fn(&str) -> bool + Sync + 'a>;

impl Default for Generator<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Generator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("pretty", &self.pretty)
            .field("threads", &self.threads)
            .field("select", &self.select.as_ref().map(|_| "fn(&str) -> bool"))
            .field("gated", &self.gated)
            .finish()
    }
}

impl<'a> Generator<'a> {
    /// Every model, formatted, on one thread.
    pub fn new() -> Self {
        Self {
            pretty: true,
            threads: 1,
            select: None,
            gated: false,
        }
    }

    /// Whether to format the code with prettyplease (the default). Formatting re-parses the
    /// whole file and takes most of the time; the compiler does not need it, so a build script
    /// can turn it off.
    pub fn pretty(mut self, pretty: bool) -> Self {
        self.pretty = pretty;
        self
    }

    /// How many threads write the models' code when it is not formatted (a build script passes
    /// cargo's `NUM_JOBS`). The code is byte-identical whatever the number.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Generates only the models whose id `select` accepts (and the output types they use).
    ///
    /// Models left out are read only as far as they name the output types they share with
    /// others, so their inputs are not checked (`load`, and `cargo xtask lint`, check them all).
    pub fn select(mut self, select: impl Fn(&str) -> bool + Sync + 'a) -> Self {
        self.select = Some(Box::new(select));
        self
    }

    /// Also declares each module of the models left out, empty and behind the cargo feature
    /// that enables it (`#[cfg(feature = "bytedance-seedance-2-5")] pub mod seedance_2_5 {}`),
    /// so the compiler tells a program that uses one which feature to enable. Only for a crate
    /// that declares the catalog's features (the build script's own catalog): a cfg naming an
    /// undeclared one is warned of.
    pub fn gated_modules(mut self, gated: bool) -> Self {
        self.gated = gated;
        self
    }

    /// Reads, checks and generates the catalog folder at `root`.
    pub fn generate(&self, root: &Path) -> Result<String, Errors> {
        // Formatting is one pass over the whole file, so only compact code uses the threads.
        let threads = if self.pretty { 1 } else { self.threads };
        let generate = |id: &str| self.select.as_ref().is_none_or(|select| select(id));
        let catalog = load_on(root, threads, &generate)?;
        Ok(self.emit(&catalog))
    }

    /// Generates an already loaded catalog.
    pub fn emit(&self, catalog: &ir::Catalog) -> String {
        let select = |model: &ir::Model| self.select.as_ref().is_none_or(|f| f(&model.id));
        emit::file(catalog, &select, self.pretty, self.threads, self.gated)
    }
}
