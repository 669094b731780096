//! The words of RunComfy's model catalog, defined once for the generator, the client, the CLI
//! and the maintainer tools.
//!
//! - [`keyword`]: every JSON Schema keyword the catalog may hold, and whether it is checked,
//!   an annotation, or refused.
//! - [`json_type`]: the JSON types of `type`, with the spellings RunComfy's catalog uses.
//! - [`format`](mod@format): the `format` values that are checked.
//! - [`media`]: media kinds and file formats, with their MIME types, file extensions and magic
//!   bytes.
//! - [`rule`]: the rules of RunComfy's `validations` extension.
//! - [`cross`]: rules across fields that overlays add, and the count a prompt states.
//! - [`pointer`](mod@pointer): JSON pointers and the paths problems are reported at.
//! - [`price`]: what prices are per (`second`, `output`), `fixed` or `base` pricing, and the
//!   rule that finds the input fields giving a job's units.
//!
//! The crate has no dependencies and no I/O: it names things and decides small questions
//! about them, and each crate that needs a word takes it from here.

#![forbid(unsafe_code)]
#![warn(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod cross;
pub mod format;
pub mod json_type;
pub mod keyword;
pub mod media;
pub mod pointer;
pub mod price;
pub mod rule;
