//! The JSON Schema test suite's groups as generated models (see `build.rs`), for the
//! conformance tests in `tests/`.
//!
//! The generated code reaches the runtime through `crate::` paths, as inside `runcomfy`; this
//! crate provides them by re-exporting `runcomfy`'s modules.

pub use runcomfy::{
    Input, Integer, Media, Model, Number, Output, catalog, input, media, model, number,
    object_serde, price, schema, validate,
};

include!(concat!(env!("OUT_DIR"), "/suite_models.rs"));

/// Every generated suite model.
pub fn models() -> &'static [&'static catalog::ModelInfo] {
    GENERATED_MODELS
}

/// The manifest `build.rs` wrote: every group of the suite, its instances and whether the
/// generator accepted it (or its error).
pub const MANIFEST: &str = include_str!(concat!(env!("OUT_DIR"), "/suite.json"));
