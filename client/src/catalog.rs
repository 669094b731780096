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

/// The models whose id or display name holds every one of `words`, in any case, in catalog
/// order.
pub fn search<S: AsRef<str>>(words: &[S]) -> Vec<&'static ModelInfo> {
    let words: Vec<String> = words.iter().map(|w| w.as_ref().to_lowercase()).collect();
    catalog()
        .iter()
        .copied()
        .filter(|m| {
            let text = format!("{} {}", m.id, m.display_name).to_lowercase();
            words.iter().all(|w| text.contains(w))
        })
        .collect()
}

/// The ids of at most three models closest to `id`, an id that names none (a typo, a missing
/// vendor, another case), closest first; none when nothing is close.
pub fn closest(id: &str) -> Vec<&'static str> {
    let asked = id.trim().trim_matches('/').to_lowercase();
    let mut scored: Vec<(f64, &'static str)> = catalog()
        .iter()
        .map(|m| {
            let distance = strsim::normalized_damerau_levenshtein(&asked, &m.id.to_lowercase());
            // `seedream-4-0/edit` for `bytedance/seedream-4-0/edit`.
            let part = !asked.is_empty() && m.id.to_lowercase().ends_with(&format!("/{asked}"));
            (if part { 1.0 } else { distance }, m.id)
        })
        .filter(|(score, _)| *score >= CLOSE)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

/// Whether `id`, an id that names no model, is near the catalog's: close to one ([`closest`]:
/// a typo, another case) or part of some ([`search`]: a family). Such an id run
/// [`unchecked`](crate::unchecked) is likelier a mistake than a model the catalog lacks.
pub fn is_near(id: &str) -> bool {
    !closest(id).is_empty() || !search(&[id]).is_empty()
}

/// How alike two ids must be (1 minus the edits over the longer's length) to be suggested.
const CLOSE: f64 = 0.7;
