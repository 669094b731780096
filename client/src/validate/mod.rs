//! Validation: one validator for typed inputs and JSON inputs, and the report it makes.
//!
//! Validation is pure: it reads local files' headers but never the network, keeps no global
//! state, and reports every problem at once. `check` walks a value against its [`Schema`];
//! `cross` adds the rules across fields; [`instance`] is how a value is seen (a typed input
//! or JSON); `equal` is JSON Schema's equality; `evaluated`, what `unevaluatedProperties` and
//! `unevaluatedItems` leave to their schema. Media values are measured and judged by
//! [`crate::media`]; the [`ValidationReport`] both write into is defined below them both and
//! re-exported here.
//!
//! Validation knows schemas and rules, not models: a whole input is checked against an
//! [`InputSpec`], which each model's [`ModelInfo`](crate::catalog::ModelInfo) is.

mod check;
mod cross;
mod equal;
mod evaluated;
pub mod instance;

use runcomfy_vocab::pointer::Path;

use crate::media::Files;
use crate::schema::{CrossRule, Schema};
use check::Strings;

pub use crate::report::{Problem, Severity, ValidationError, ValidationReport, said};
pub use instance::{Array, Instance, Object, View};

/// What a whole input is checked against: the input object's schema and the rules across its
/// fields. A model of the catalog ([`ModelInfo`](crate::catalog::ModelInfo)) is one.
pub trait InputSpec {
    /// The schema of the input object.
    fn schema(&self) -> &'static Schema;
    /// The rules across its fields.
    fn rules(&self) -> &'static [CrossRule];
}

impl<T: InputSpec + ?Sized> InputSpec for &T {
    fn schema(&self) -> &'static Schema {
        (**self).schema()
    }
    fn rules(&self) -> &'static [CrossRule] {
        (**self).rules()
    }
}

/// Checks a whole input of `model`: its schema, then the rules across its fields. A string
/// where a media file goes names it, as in a JSON input.
pub fn input(
    model: &(impl InputSpec + ?Sized),
    input: &dyn Instance,
    files: Files,
) -> ValidationReport {
    checked(model, input, files, Strings::NameFiles)
}

/// [`input`] for a typed input, which sends its text as it is: where only text holds a value a
/// branch or a rule makes a media file, a local path is refused (the server would get the
/// path), while its `Media` fields read theirs.
pub(crate) fn typed_input(
    model: &(impl InputSpec + ?Sized),
    input: &dyn Instance,
    files: Files,
) -> ValidationReport {
    checked(model, input, files, Strings::AreText)
}

fn checked(
    model: &(impl InputSpec + ?Sized),
    input: &dyn Instance,
    files: Files,
    strings: Strings,
) -> ValidationReport {
    let mut report = ValidationReport::new();
    check::input(&mut report, model.schema(), input, files, strings);
    cross::check(&mut report, model.rules(), model.schema(), input);
    report
}

/// Checks one value against a schema (a field's, say), reporting problems at `path`.
pub fn value(
    schema: &'static Schema,
    value: &dyn Instance,
    path: &Path,
    files: Files,
) -> ValidationReport {
    let mut report = ValidationReport::new();
    check::check(&mut report, schema, value, path, files, Strings::NameFiles);
    report
}

/// Whether two values are equal as JSON Schema compares them (`enum`, `const`): numbers by
/// value (`5 == 5.0`), objects whatever their key order.
pub fn equal(a: &dyn Instance, b: &dyn Instance) -> bool {
    equal::views(a.view(), b.view())
}
