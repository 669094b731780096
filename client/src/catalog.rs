//! The runtime catalog: every generated model, as data.
//!
//! The generator emits one [`ModelInfo`] per model. Its input [`Schema`](crate::schema::Schema)
//! is the same data the typed `validate()` checks, so the CLI (flags, `describe`), the batch
//! engine and the simulator work from it with no per-model code, and report the same problems
//! in the same words.
//!
//! This module lists the generated models ([`catalog()`], [`find`]) and gathers what a caller
//! reads of one: [`ModelInfo`] is defined with the traits it goes with (`model`), its fields
//! with their readings (`field`), its rules across fields with the other schema statics.

pub use crate::field::{Field, FieldKind, OutputField, kind};
#[doc(inline)]
pub use crate::model::{ModelInfo, Upstream};
#[doc(inline)]
pub use crate::schema::CrossRule;

/// Every model this crate was generated with, sorted by id.
pub fn catalog() -> &'static [&'static ModelInfo] {
    crate::GENERATED_MODELS
}

/// Looks a model up by its id (the API path, e.g. `bytedance/seedream-4-0/edit`).
pub fn find(id: &str) -> Option<&'static ModelInfo> {
    catalog().iter().copied().find(|m| m.id == id)
}
