//! From the catalog's files (as read by [`crate::catalog`]) to the IR, checking everything on the
//! way and reporting every problem at once.
//!
//! - `schema`: JSON Schema to [`SchemaNode`]s, keyword by keyword: each one is checked,
//!   an annotation, or refused by name (the vocabulary is `runcomfy_vocab::keyword`).
//! - `identifiers`: `$id`s and anchors, and the base URI a `$ref` resolves against.
//! - `media`: media formats, `validations` and the overlay's accepted formats.
//! - `typing`: the Rust types values of those schemas decode into.
//! - `choices`: enum variant names and aliases.
//! - `defaults`: defaults read as their field's type, and checked.
//! - `model`: one model: names, docs, overlay fields, rules.
//! - `output`: output types.
//! - `smells`: things that generate fine but deserve a maintainer's look (warnings).

mod choices;
mod defaults;
mod identifiers;
mod media;
mod model;
mod output;
mod schema;
mod smells;
mod typing;

pub use smells::is_localized;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::catalog::SourceModel;
use crate::error::{Error, Errors, Warning, WarningKind};
use crate::ir::*;
use crate::naming;

/// Builds the IR of a whole catalog, reporting every problem found.
pub fn build(sources: &[SourceModel]) -> Result<Catalog, Errors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut models = Vec::new();
    let mut outputs = SharedOutputs::default();
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for src in sources {
        let (model, output) = lower_model(src, &mut errors, &mut warnings);
        let Some(output) = output else {
            continue;
        };
        if src.generated && model.is_none() {
            continue;
        }
        if let Some(model) = &model
            && let Some(clash) = module_clash(&mut modules, src, model)
        {
            errors.push(clash);
            continue;
        }
        let index = outputs.share(src, output, &mut errors);
        if let Some(mut model) = model {
            model.output = index;
            models.push(model);
        }
    }
    smells::uncommon_outputs(sources, &mut warnings);
    let outputs = name_outputs(sources, outputs.outputs, &mut errors);
    output_clashes(&models, &outputs, &mut errors);
    let features = FeatureTable::new(sources.iter().map(|s| {
        let dir = s.input_path.parent().unwrap_or(&s.input_path);
        (s.id.as_str(), dir)
    }));
    match features {
        Ok(features) if errors.is_empty() => Ok(Catalog {
            models,
            outputs,
            features,
            warnings,
        }),
        Ok(_) => Err(Errors(errors)),
        Err(Errors(mut more)) => {
            errors.append(&mut more);
            Err(Errors(errors))
        }
    }
}

/// One model's input and output type, its problems added to the catalog's.
fn lower_model(
    src: &SourceModel,
    errors: &mut Vec<Error>,
    warnings: &mut Vec<Warning>,
) -> (Option<Model>, Option<OutputType>) {
    let mut ctx = Ctx::new(src);
    // A model left out of the generation still names its output type (shared output types
    // are named across the whole catalog), but its input is not looked at.
    let model = if src.generated {
        model::lower(&mut ctx)
    } else {
        None
    };
    let output = output::lower(&mut ctx);
    errors.append(&mut ctx.errors);
    warnings.append(&mut ctx.warnings);
    (model, output)
}

/// Two models whose ids map to the same Rust module cannot both be generated: the one read
/// second is refused.
fn module_clash(
    modules: &mut BTreeMap<Vec<String>, String>,
    src: &SourceModel,
    model: &Model,
) -> Option<Error> {
    let other = modules.insert(model.module_path.clone(), src.id.clone())?;
    Some(
        Error::schema(
            &src.input_path,
            "",
            format!(
                "model `{}` maps to the same Rust module `{}` as `{other}`",
                src.id,
                model.module_path.join("::")
            ),
        )
        .hint("rename one of the model folders"),
    )
}

/// The catalog's output types: models with identical output schemas share one.
#[derive(Default)]
struct SharedOutputs {
    /// Each type, with the name an overlay's `output_type` gave it.
    outputs: Vec<(OutputType, Option<String>)>,
    /// Each distinct output schema (as [`same_value_text`]) to its index in `outputs`.
    index: BTreeMap<String, usize>,
}

impl SharedOutputs {
    /// The index of the type `src`'s output schema has: a new one (`output`), or the one its
    /// schema already has, which `src`'s overlay may name.
    fn share(&mut self, src: &SourceModel, output: OutputType, errors: &mut Vec<Error>) -> usize {
        let mut wanted = src.overlay.output_type.clone();
        if let Some(name) = wanted.as_deref() {
            let problem = if !is_type_ident(name) {
                Some(format!(
                    "`{name}` is not a Rust type name (ASCII, starting with an upper-case letter)"
                ))
            } else if naming::RESERVED_TYPE_NAMES.contains(&name) {
                Some(format!(
                    "`{name}` is a name the generated code uses; choose another"
                ))
            } else if output::DOCUMENTED_NAMES.contains(&name)
                && output::documented_name(src) != Some(name)
            {
                // It would rename the documented output of every other model (QA repro48 F4).
                Some(format!(
                    "`{name}` names an output RunComfy's docs show for every model, which this \
                     model's output is not: choose another name"
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                let path = src.overlay_path.as_deref().unwrap_or(&src.output_path);
                errors.push(Error::schema(path, "/output_type", problem));
                wanted = None;
            }
        }
        let key = same_value_text(&src.output);
        if let Some(&index) = self.index.get(&key) {
            let (existing, existing_wanted) = &mut self.outputs[index];
            match (&wanted, existing_wanted.as_ref()) {
                (Some(a), Some(b)) if a != b => errors.push(
                    Error::schema(
                        src.overlay_path.as_deref().unwrap_or(&src.output_path),
                        "/output_type",
                        format!("output type `{a}` conflicts with `{b}`, given by another model with the same output schema"),
                    )
                    .hint("models with identical output schemas share one type: give them the same `output_type`"),
                ),
                (Some(a), None) => {
                    existing.name = a.clone();
                    *existing_wanted = Some(a.clone());
                }
                _ => {}
            }
            existing.users.push(src.id.clone());
            return index;
        }
        let mut output = output;
        if let Some(name) = &wanted {
            output.name = name.clone();
        }
        output.users.push(src.id.clone());
        self.index.insert(key, self.outputs.len());
        self.outputs.push((output, wanted));
        self.outputs.len() - 1
    }
}

/// A schema as text with every object's keys in order, and the lists that are sets (`required`,
/// a `type` list) sorted and without repeats: the same schema whatever order or spelling they
/// were written in (a server may serialize a schema's keywords in any; QA repro36 H1, repro38
/// N1, repro39 F5). Written out directly: every model's output is read so.
fn same_value_text(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map
                    .iter()
                    // `required: []` says what no `required` does.
                    .filter(|(key, value)| {
                        !(key.as_str() == "required" && value.as_array().is_some_and(Vec::is_empty))
                    })
                    .map(|(key, _)| key)
                    .collect();
                keys.sort_unstable();
                out.push('{');
                for (n, key) in keys.into_iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(key.as_str()).to_string());
                    out.push(':');
                    match (key.as_str(), &map[key]) {
                        // Sets: their order and repeats say nothing, and a `type` of one is
                        // the list of it.
                        ("required" | "type", Value::Array(items)) => {
                            let mut items: Vec<String> =
                                items.iter().map(Value::to_string).collect();
                            items.sort_unstable();
                            items.dedup();
                            out.push('[');
                            out.push_str(&items.join(","));
                            out.push(']');
                        }
                        ("type", one @ Value::String(_)) => {
                            out.push('[');
                            out.push_str(&one.to_string());
                            out.push(']');
                        }
                        (_, value) => write(value, out),
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// A model's output type must not have the name of one of its own types.
fn output_clashes(models: &[Model], outputs: &[OutputType], errors: &mut Vec<Error>) {
    for model in models {
        let output = &outputs[model.output].name;
        let taken = std::iter::once(&model.type_name)
            .chain(model.structs.iter().map(|s| &s.name))
            .chain(model.enums.iter().map(|e| &e.name))
            .chain(model.unions.iter().map(|u| &u.name));
        if taken.into_iter().any(|name| name == output) {
            errors.push(
                Error::schema(
                    Path::new(&model.id),
                    "/output_type",
                    format!(
                        "output type `{output}` clashes with a type of model `{}`",
                        model.id
                    ),
                )
                .hint("set another `output_type` or `type_name` in overlay.json"),
            );
        }
    }
}

/// Default output names are made unique after overlays had their say.
fn name_outputs(
    sources: &[SourceModel],
    outputs: Vec<(OutputType, Option<String>)>,
    errors: &mut Vec<Error>,
) -> Vec<OutputType> {
    let mut taken: BTreeSet<String> = outputs
        .iter()
        .filter_map(|(_, wanted)| wanted.clone())
        .collect();
    let outputs: Vec<OutputType> = outputs
        .into_iter()
        .map(|(mut output, wanted)| {
            if wanted.is_none() {
                output.name = naming::unique(output.name.clone(), &mut taken, "Alt");
            }
            output
        })
        .collect();
    // Each name, with the models of each output schema that has it.
    let mut names: BTreeMap<&str, Vec<&[String]>> = BTreeMap::new();
    for output in &outputs {
        names
            .entry(output.name.as_str())
            .or_default()
            .push(&output.users);
    }
    for (name, users) in names.into_iter().filter(|(_, users)| users.len() > 1) {
        // Named at the overlay of a model of the second schema that has the name.
        let second = users[1]
            .first()
            .and_then(|id| sources.iter().find(|s| &s.id == id));
        let path = second.map_or(Path::new(crate::catalog::OVERLAY_FILE), |s| {
            s.overlay_path.as_deref().unwrap_or(&s.output_path)
        });
        let models: Vec<String> = users
            .iter()
            .map(|ids| format!("`{}`", ids.join("`, `")))
            .collect();
        errors.push(
            Error::schema(
                path,
                "/output_type",
                format!(
                    "output type `{name}` is given to {} different output schemas (of {})",
                    users.len(),
                    models.join("; of ")
                ),
            )
            .hint("models with different output schemas need different `output_type` names"),
        );
    }
    outputs
}

/// One model's files and the problems found in them so far.
pub(crate) struct Ctx<'a> {
    pub(crate) src: &'a SourceModel,
    pub(crate) errors: Vec<Error>,
    pub(crate) warnings: Vec<Warning>,
}

impl<'a> Ctx<'a> {
    fn new(src: &'a SourceModel) -> Self {
        Self {
            src,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A problem in `input.json`.
    pub(crate) fn input_err(
        &mut self,
        pointer: &str,
        problem: impl Into<String>,
        hint: Option<&str>,
    ) {
        let mut err = Error::schema(&self.src.input_path, pointer, problem);
        if let Some(hint) = hint {
            err = err.hint(hint);
        }
        self.errors.push(err);
    }

    /// A problem in `overlay.json`.
    pub(crate) fn overlay_err(&mut self, pointer: &str, problem: impl Into<String>) {
        self.errors
            .push(Error::schema(self.overlay_path(), pointer, problem));
    }

    /// Something off in `input.json` that does not stop generation.
    pub(crate) fn warn(&mut self, kind: WarningKind, pointer: &str, problem: impl Into<String>) {
        let path = self.src.input_path.clone();
        self.warn_in(path, kind, pointer, problem);
    }

    /// Something off in another file of the model.
    pub(crate) fn warn_in(
        &mut self,
        path: PathBuf,
        kind: WarningKind,
        pointer: &str,
        problem: impl Into<String>,
    ) {
        let warning = Warning {
            kind,
            path,
            pointer: pointer.to_owned(),
            problem: problem.into(),
        };
        // A schema typed again (a union that gave up, then its shapes typed elsewhere) says
        // the same of itself once.
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    pub(crate) fn overlay_path(&self) -> PathBuf {
        self.src.overlay_path.clone().unwrap_or_else(|| {
            self.src
                .input_path
                .with_file_name(crate::catalog::OVERLAY_FILE)
        })
    }
}

/// Whether `name` can name a Rust type (ASCII, starting with an upper-case letter).
pub(crate) fn is_type_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && name != "Self"
}

/// Adds a paragraph to docs unless it is blank or already there.
pub(crate) fn push_doc(docs: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() && !docs.iter().any(|d| d == text) {
        docs.push(text.to_owned());
    }
}
