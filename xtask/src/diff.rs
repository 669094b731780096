//! `cargo xtask diff OLD NEW`: what changed between two catalogs, classified by its effect on
//! the generated Rust API.
//!
//! Both sides go through `runcomfy_codegen::load`, so overlays are applied and Rust names
//! resolved exactly as the generator does: the comparison is of what users compile against.
//! How the generated code looks decides the classes: input structs are `#[non_exhaustive]` and
//! built with `new(required...)` plus `with_*` setters, required fields are plain `T` and
//! optional ones `Option<T>`, optional fields with a scalar default get an accessor, enums are
//! `#[non_exhaustive]` with an `ALL` slice, and output structs are `#[non_exhaustive]` with every
//! field optional.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use runcomfy_codegen::ir::{
    Catalog, CrossRule, Enum, EnumRepr, Field, MediaCheck, MediaSpec, Model, OutputKind,
    OutputType, Struct, Type,
};

use crate::bump;
use crate::gitrev::{self, GitError};

/// How a change affects users of the generated API, from mildest to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// Compiles as before, behaves or reads differently: docs, defaults, CLI aliases.
    Notable,
    /// Compiles as before and adds something: a model, an optional field, a looser bound.
    Additive,
    /// Some code that compiled, or input that validated, no longer does.
    Breaking,
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impact::Notable => "notable",
            Impact::Additive => "additive",
            Impact::Breaking => "BREAKING",
        })
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The model id.
    pub model: String,
    /// The file of the NEW catalog it is about (of the OLD one for removals).
    pub file: &'static str,
    /// JSON pointer into that file.
    pub pointer: String,
    /// How it affects users.
    pub impact: Impact,
    /// What changed, and for breaking changes why it breaks.
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<8} {}#{}: {}",
            self.impact.to_string(),
            self.file,
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            },
            self.what
        )
    }
}

/// A diff that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A side does not load; the generator's errors follow.
    #[error("the {side} catalog ({source_name}) does not load:\n{errors}")]
    Load {
        /// `old` or `new`.
        side: &'static str,
        /// Its folder or `REV:path`.
        source_name: String,
        /// What the loader said, files of a git revision named `REV:path/...`.
        errors: String,
    },
    /// A git revision could not be read.
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Where a catalog comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder.
    Dir(PathBuf),
    /// `path` (relative to the repository root) as of `rev`.
    Git {
        /// The revision.
        rev: String,
        /// The folder in the repository.
        path: String,
    },
}

impl Source {
    /// A folder when `text` names one, else `REV:path` when it has that shape.
    pub fn parse(text: &str) -> Source {
        if Path::new(text).exists() {
            return Source::Dir(text.into());
        }
        match gitrev::split_spec(text) {
            Some((rev, path)) => Source::Git {
                rev: rev.to_owned(),
                path: if path.is_empty() { "schemas" } else { path }.to_owned(),
            },
            None => Source::Dir(text.into()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dir(path) => write!(f, "{}", path.display()),
            Source::Git { rev, path } => write!(f, "{rev}:{path}"),
        }
    }
}

/// Loads a source; a git revision is read into a temporary folder (kept alive by the guard).
fn load(
    repo: &Path,
    source: &Source,
    side: &'static str,
) -> Result<(Catalog, Option<gitrev::Checkout>), DiffError> {
    let (root, guard) = match source {
        Source::Dir(path) => (path.clone(), None),
        Source::Git { rev, path } => {
            let checkout = gitrev::checkout(repo, rev, path)?;
            (checkout.root.clone(), Some(checkout))
        }
    };
    let catalog = runcomfy_codegen::load(&root).map_err(|errors| {
        let mut errors = errors.to_string();
        if let Source::Git { .. } = source {
            // Name files as in the repository, not in the temporary folder.
            errors = errors.replace(&root.display().to_string(), &source.to_string());
        }
        DiffError::Load {
            side,
            source_name: source.to_string(),
            errors,
        }
    })?;
    Ok((catalog, guard))
}

/// Diffs two catalogs; `repo` is the git repository `REV:path` sources are read from.
pub fn diff_sources(repo: &Path, old: &Source, new: &Source) -> Result<Vec<Change>, DiffError> {
    let (old, _old_guard) = load(repo, old, "old")?;
    let (new, _new_guard) = load(repo, new, "new")?;
    Ok(diff_catalogs(&old, &new))
}

/// Diffs two catalog folders.
pub fn diff_dirs(old: &Path, new: &Path) -> Result<Vec<Change>, DiffError> {
    diff_sources(
        Path::new("."),
        &Source::Dir(old.to_owned()),
        &Source::Dir(new.to_owned()),
    )
}

/// The worst impact among changes.
pub fn worst(changes: &[Change]) -> Option<Impact> {
    changes.iter().map(|c| c.impact).max()
}

/// The command. Returns 0 when nothing breaks, 1 when something does, 2 on errors.
pub fn run(repo: &Path, old: &Source, new: &Source, version: Option<&str>) -> u8 {
    let changes = match diff_sources(repo, old, new) {
        Ok(changes) => changes,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    println!("diff {old} → {new}");
    let mut current = None;
    for change in &changes {
        if current != Some(&change.model) {
            println!("{}", change.model);
            current = Some(&change.model);
        }
        println!("  {change}");
    }
    let count = |i: Impact| changes.iter().filter(|c| c.impact == i).count();
    let models: BTreeSet<&str> = changes.iter().map(|c| c.model.as_str()).collect();
    println!(
        "{} breaking, {} additive, {} notable change(s) in {} model(s)",
        count(Impact::Breaking),
        count(Impact::Additive),
        count(Impact::Notable),
        models.len()
    );
    let worst = worst(&changes);
    let version = version
        .map(str::to_owned)
        .or_else(|| bump::workspace_version(repo));
    match version.as_deref().and_then(bump::parse) {
        Some(parsed) => {
            let suggested = bump::bump_for(parsed.0, worst);
            let (a, b, c) = bump::apply(parsed, suggested);
            let why = match (worst, parsed.0) {
                (None, _) => "nothing changed",
                (Some(Impact::Breaking), 0) => {
                    "breaking changes, and before 1.0 the minor digit is the breaking one"
                }
                (Some(Impact::Breaking), _) => "breaking changes",
                (Some(Impact::Additive), 0) => {
                    "no breaking changes (before 1.0 additions are a patch)"
                }
                (Some(Impact::Additive), _) => "additions only",
                (Some(Impact::Notable), _) => "docs and defaults only",
            };
            let from = version.unwrap_or_default();
            if suggested == bump::Bump::None {
                println!("suggested version bump: none ({why})");
            } else {
                println!("suggested version bump: {suggested} ({from} → {a}.{b}.{c}): {why}");
            }
        }
        None => println!(
            "suggested version bump: {} for 0.x, {} from 1.0 on (pass --version to be exact)",
            bump::bump_for(0, worst),
            bump::bump_for(1, worst)
        ),
    }
    u8::from(worst == Some(Impact::Breaking))
}

/// Every change from `old` to `new`, by model id, in schema order within a model.
pub fn diff_catalogs(old: &Catalog, new: &Catalog) -> Vec<Change> {
    let ids: BTreeSet<&str> = old
        .models
        .iter()
        .chain(&new.models)
        .map(|m| m.id.as_str())
        .collect();
    let mut changes = Vec::new();
    for id in ids {
        let before = old.models.iter().find(|m| m.id == id);
        let after = new.models.iter().find(|m| m.id == id);
        let mut d = ModelDiff {
            id,
            changes: &mut changes,
        };
        match (before, after) {
            (Some(o), None) => d.push(
                "input.json",
                "",
                Impact::Breaking,
                format!(
                    "model removed: `models::{}::{}` and its input type are gone",
                    o.module_path.join("::"),
                    o.type_name
                ),
            ),
            (None, Some(n)) => d.push(
                "input.json",
                "",
                Impact::Additive,
                format!(
                    "new model `models::{}::{}` ({})",
                    n.module_path.join("::"),
                    n.type_name,
                    n.display_name
                ),
            ),
            (Some(o), Some(n)) => d.model(o, n, old, new),
            (None, None) => {}
        }
    }
    changes
}

struct ModelDiff<'a> {
    id: &'a str,
    changes: &'a mut Vec<Change>,
}

/// The two models being compared, for looking up enums and structs by index.
#[derive(Clone, Copy)]
struct Pair<'a> {
    old: &'a Model,
    new: &'a Model,
}

fn token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn num(n: f64) -> String {
    format!("{n}")
}

impl ModelDiff<'_> {
    fn push(&mut self, file: &'static str, pointer: &str, impact: Impact, what: String) {
        self.changes.push(Change {
            model: self.id.to_owned(),
            file,
            pointer: pointer.to_owned(),
            impact,
            what,
        });
    }

    fn input(&mut self, pointer: &str, impact: Impact, what: String) {
        self.push("input.json", pointer, impact, what);
    }

    fn model(&mut self, o: &Model, n: &Model, old: &Catalog, new: &Catalog) {
        if o.type_name != n.type_name {
            self.push(
                "overlay.json",
                "/type_name",
                Impact::Breaking,
                format!(
                    "model type renamed `{}` → `{}` (and its input type with it)",
                    o.type_name, n.type_name
                ),
            );
        }
        if o.display_name != n.display_name {
            self.push(
                "overlay.json",
                "/display_name",
                Impact::Notable,
                format!("display name {:?} → {:?}", o.display_name, n.display_name),
            );
        }
        if o.docs != n.docs {
            self.push(
                "overlay.json",
                "/docs",
                Impact::Notable,
                "model documentation changed".into(),
            );
        }
        let pair = Pair { old: o, new: n };
        self.structure(pair, &o.input, &n.input, "", true);
        self.rules(o, n);
        self.output(&old.outputs[o.output], &new.outputs[n.output]);
    }

    fn structure(&mut self, pair: Pair, os: &Struct, ns: &Struct, pointer: &str, top: bool) {
        if !top && os.name != ns.name {
            self.input(
                pointer,
                Impact::Breaking,
                format!("nested type renamed `{}` → `{}`", os.name, ns.name),
            );
        }
        for of in &os.fields {
            let at = format!("{pointer}/properties/{}", token(&of.wire));
            match ns.fields.iter().find(|f| f.wire == of.wire) {
                Some(nf) => self.field(pair, of, nf, &at),
                None => self.input(
                    &at,
                    Impact::Breaking,
                    format!(
                        "field `{}` removed (`{}.{}` is gone)",
                        of.wire, os.name, of.ident
                    ),
                ),
            }
        }
        for nf in &ns.fields {
            if os.fields.iter().any(|f| f.wire == nf.wire) {
                continue;
            }
            let at = format!("{pointer}/properties/{}", token(&nf.wire));
            if nf.required {
                self.input(
                    &at,
                    Impact::Breaking,
                    format!(
                        "new required field `{}`: `{}::new` takes one more argument",
                        nf.wire, ns.name
                    ),
                );
            } else {
                self.input(
                    &at,
                    Impact::Additive,
                    format!(
                        "new optional field `{}` (the struct is #[non_exhaustive]; set it with `with_{}`)",
                        nf.wire,
                        nf.ident.trim_end_matches('_')
                    ),
                );
            }
        }
    }

    fn field(&mut self, pair: Pair, of: &Field, nf: &Field, at: &str) {
        let wire = &nf.wire;
        if of.ident != nf.ident {
            self.input(
                at,
                Impact::Breaking,
                format!("Rust field renamed `{}` → `{}`", of.ident, nf.ident),
            );
        }
        match (of.required, nf.required) {
            (false, true) => self.input(
                at,
                Impact::Breaking,
                format!("`{wire}` is now required: `new` takes it, and its type is no longer an `Option`"),
            ),
            (true, false) => self.input(
                at,
                Impact::Breaking,
                format!("`{wire}` is now optional: its type becomes an `Option`, and `new` no longer takes it"),
            ),
            _ => {}
        }
        if of.nullable != nf.nullable {
            let now = if nf.nullable { "now" } else { "no longer" };
            if of.required && nf.required {
                self.input(
                    &format!("{at}/type"),
                    Impact::Breaking,
                    format!("`{wire}` {now} accepts null: as a required field its type changes between `T` and `Option<T>`"),
                );
            } else {
                self.input(
                    &format!("{at}/type"),
                    Impact::Notable,
                    format!("`{wire}` {now} accepts null"),
                );
            }
        }
        self.ty(pair, &of.ty, &nf.ty, at);
        self.default(of, nf, at);
        if of.title != nf.title || of.description != nf.description {
            self.input(
                at,
                Impact::Notable,
                format!("documentation of `{wire}` changed"),
            );
        }
    }

    fn ty(&mut self, pair: Pair, ot: &Type, nt: &Type, at: &str) {
        match (ot, nt) {
            (
                Type::String {
                    min_length: a0,
                    max_length: a1,
                },
                Type::String {
                    min_length: b0,
                    max_length: b1,
                },
            ) => {
                let f = |v: &Option<u64>| v.map(|n| n as f64);
                self.lower_bound(at, "minLength", f(a0), f(b0));
                self.upper_bound(at, "maxLength", f(a1), f(b1));
            }
            (
                Type::Integer {
                    minimum: a0,
                    maximum: a1,
                },
                Type::Integer {
                    minimum: b0,
                    maximum: b1,
                },
            )
            | (
                Type::Number {
                    minimum: a0,
                    maximum: a1,
                },
                Type::Number {
                    minimum: b0,
                    maximum: b1,
                },
            ) => {
                self.lower_bound(at, "minimum", *a0, *b0);
                self.upper_bound(at, "maximum", *a1, *b1);
            }
            (Type::Uri, Type::Uri) | (Type::Boolean, Type::Boolean) | (Type::Json, Type::Json) => {}
            (Type::Media(a), Type::Media(b)) if a.kind == b.kind => self.media(a, b, at),
            (Type::Enum(i), Type::Enum(j)) => {
                self.enumeration(&pair.old.enums[*i], &pair.new.enums[*j], at)
            }
            (
                Type::Array {
                    items: ai,
                    min_items: a0,
                    max_items: a1,
                },
                Type::Array {
                    items: bi,
                    min_items: b0,
                    max_items: b1,
                },
            ) => {
                let f = |v: &Option<u64>| v.map(|n| n as f64);
                self.lower_bound(at, "minItems", f(a0), f(b0));
                self.upper_bound(at, "maxItems", f(a1), f(b1));
                self.ty(pair, ai, bi, &format!("{at}/items"));
            }
            (Type::Struct(i), Type::Struct(j)) => self.structure(
                pair,
                &pair.old.structs[*i],
                &pair.new.structs[*j],
                at,
                false,
            ),
            _ => self.input(
                &format!("{at}/type"),
                Impact::Breaking,
                format!(
                    "type changed from {} to {}",
                    describe(pair.old, ot),
                    describe(pair.new, nt)
                ),
            ),
        }
    }

    /// A maximum: lowering or adding it rejects values that passed before.
    fn upper_bound(&mut self, at: &str, key: &str, old: Option<f64>, new: Option<f64>) {
        let at = format!("{at}/{key}");
        match (old, new) {
            (a, b) if a == b => {}
            (None, Some(b)) => self.input(
                &at,
                Impact::Breaking,
                format!(
                    "`{key}` {} added: larger values that validated before are rejected",
                    num(b)
                ),
            ),
            (Some(a), None) => self.input(
                &at,
                Impact::Additive,
                format!("`{key}` {} removed (looser)", num(a)),
            ),
            (Some(a), Some(b)) if b < a => self.input(
                &at,
                Impact::Breaking,
                format!(
                    "`{key}` lowered from {} to {}: values in between no longer validate",
                    num(a),
                    num(b)
                ),
            ),
            (Some(a), Some(b)) => self.input(
                &at,
                Impact::Additive,
                format!("`{key}` raised from {} to {} (looser)", num(a), num(b)),
            ),
            (None, None) => {}
        }
    }

    /// A minimum: raising or adding it rejects values that passed before.
    fn lower_bound(&mut self, at: &str, key: &str, old: Option<f64>, new: Option<f64>) {
        let at = format!("{at}/{key}");
        match (old, new) {
            (a, b) if a == b => {}
            (None, Some(b)) => self.input(
                &at,
                Impact::Breaking,
                format!(
                    "`{key}` {} added: smaller values that validated before are rejected",
                    num(b)
                ),
            ),
            (Some(a), None) => self.input(
                &at,
                Impact::Additive,
                format!("`{key}` {} removed (looser)", num(a)),
            ),
            (Some(a), Some(b)) if b > a => self.input(
                &at,
                Impact::Breaking,
                format!(
                    "`{key}` raised from {} to {}: values in between no longer validate",
                    num(a),
                    num(b)
                ),
            ),
            (Some(a), Some(b)) => self.input(
                &at,
                Impact::Additive,
                format!("`{key}` lowered from {} to {} (looser)", num(a), num(b)),
            ),
            (None, None) => {}
        }
    }

    fn media(&mut self, a: &MediaSpec, b: &MediaSpec, at: &str) {
        let old: BTreeSet<&String> = a.formats.iter().collect();
        let new: BTreeSet<&String> = b.formats.iter().collect();
        if old != new {
            let list =
                |s: &BTreeSet<&String>| s.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ");
            if old.is_empty() {
                self.input(
                    at,
                    Impact::Breaking,
                    format!(
                        "accepted formats narrowed from any to {} (overlay `formats`)",
                        list(&new)
                    ),
                );
            } else if new.is_empty() {
                self.input(
                    at,
                    Impact::Additive,
                    format!("any format accepted now, not only {}", list(&old)),
                );
            } else {
                let removed: BTreeSet<&String> = old.difference(&new).copied().collect();
                let added: BTreeSet<&String> = new.difference(&old).copied().collect();
                if !removed.is_empty() {
                    self.input(
                        at,
                        Impact::Breaking,
                        format!("format(s) {} no longer accepted", list(&removed)),
                    );
                }
                if !added.is_empty() {
                    self.input(
                        at,
                        Impact::Additive,
                        format!("format(s) {} now accepted", list(&added)),
                    );
                }
            }
        }
        let at = format!("{at}/validations");
        for (check, wire) in MediaCheck::ALL {
            let values = |spec: &MediaSpec| -> Vec<f64> {
                spec.rules
                    .iter()
                    .filter(|r| r.check == check)
                    .map(|r| r.value)
                    .collect()
            };
            // Several rules of one check: the strictest one decides.
            let is_upper = matches!(
                check,
                MediaCheck::FileSizeMbBelow
                    | MediaCheck::AspectRatioBelow
                    | MediaCheck::WidthBelow
                    | MediaCheck::HeightBelow
            );
            let strictest = |v: Vec<f64>| -> Option<f64> {
                v.into_iter()
                    .reduce(|x, y| if is_upper { x.min(y) } else { x.max(y) })
            };
            let (o, n) = (strictest(values(a)), strictest(values(b)));
            let rule = format!("validation `{wire}`");
            let tighter = match (o, n) {
                (Some(x), Some(y)) if x == y => None,
                (None, Some(y)) => {
                    self.input(
                        &at,
                        Impact::Breaking,
                        format!(
                            "{rule} {} added: media that passed before can be rejected",
                            num(y)
                        ),
                    );
                    None
                }
                (Some(x), None) => {
                    self.input(
                        &at,
                        Impact::Additive,
                        format!("{rule} {} removed (looser)", num(x)),
                    );
                    None
                }
                (Some(x), Some(y)) => Some((x, y, if is_upper { y < x } else { y > x })),
                (None, None) => None,
            };
            if let Some((x, y, tighter)) = tighter {
                if tighter {
                    self.input(
                        &at,
                        Impact::Breaking,
                        format!("{rule} tightened from {} to {}", num(x), num(y)),
                    );
                } else {
                    self.input(
                        &at,
                        Impact::Additive,
                        format!("{rule} loosened from {} to {}", num(x), num(y)),
                    );
                }
            }
        }
        let messages = |spec: &MediaSpec| -> Vec<(MediaCheck, f64, String)> {
            spec.rules
                .iter()
                .map(|r| (r.check, r.value, r.message.clone()))
                .collect()
        };
        let same_rules = |spec: &MediaSpec| -> Vec<(MediaCheck, u64)> {
            spec.rules
                .iter()
                .map(|r| (r.check, r.value.to_bits()))
                .collect()
        };
        if same_rules(a) == same_rules(b) && messages(a) != messages(b) {
            self.input(&at, Impact::Notable, "validation messages changed".into());
        }
    }

    fn enumeration(&mut self, oe: &Enum, ne: &Enum, at: &str) {
        let at = format!("{at}/enum");
        if oe.name != ne.name {
            self.input(
                &at,
                Impact::Breaking,
                format!("enum type renamed `{}` → `{}`", oe.name, ne.name),
            );
        }
        if oe.repr != ne.repr {
            let repr = |r: EnumRepr| match r {
                EnumRepr::String => "strings",
                EnumRepr::Integer => "integers",
            };
            self.input(
                &at,
                Impact::Breaking,
                format!(
                    "enum `{}` values changed from {} to {}",
                    ne.name,
                    repr(oe.repr),
                    repr(ne.repr)
                ),
            );
        }
        for ov in &oe.variants {
            match ne.variants.iter().find(|v| v.wire == ov.wire) {
                None => self.input(
                    &at,
                    Impact::Breaking,
                    format!(
                        "value {:?} removed (`{}::{}` is gone)",
                        ov.wire, oe.name, ov.name
                    ),
                ),
                Some(nv) => {
                    if nv.name != ov.name {
                        self.input(
                            &at,
                            Impact::Breaking,
                            format!(
                                "value {:?} renamed in Rust: `{}::{}` → `{}::{}`",
                                ov.wire, oe.name, ov.name, ne.name, nv.name
                            ),
                        );
                    }
                    if nv.alias != ov.alias {
                        self.input(
                            &at,
                            Impact::Notable,
                            format!(
                                "short alias of {:?} changed from {:?} to {:?}",
                                ov.wire, ov.alias, nv.alias
                            ),
                        );
                    }
                }
            }
        }
        for nv in &ne.variants {
            if !oe.variants.iter().any(|v| v.wire == nv.wire) {
                self.input(
                    &at,
                    Impact::Additive,
                    format!(
                        "value {:?} added as `{}::{}` (generated enums are #[non_exhaustive])",
                        nv.wire, ne.name, nv.name
                    ),
                );
            }
        }
    }

    fn default(&mut self, of: &Field, nf: &Field, at: &str) {
        let at = format!("{at}/default");
        let wire = &nf.wire;
        // The generator gives optional scalar fields with a default an accessor method.
        let accessor = |f: &Field| {
            !f.required
                && f.default.is_some()
                && matches!(
                    f.ty,
                    Type::String { .. }
                        | Type::Uri
                        | Type::Integer { .. }
                        | Type::Number { .. }
                        | Type::Boolean
                        | Type::Enum(_)
                )
        };
        match (&of.default, &nf.default) {
            (a, b) if a == b => {}
            (None, Some(b)) => {
                let (impact, extra) = if accessor(nf) {
                    (Impact::Additive, format!(" (new accessor `{}()`)", nf.ident))
                } else {
                    (Impact::Notable, String::new())
                };
                self.input(&at, impact, format!("`{wire}` now defaults to {b}{extra}"));
            }
            (Some(a), None) => {
                if accessor(of) && !nf.required {
                    self.input(
                        &at,
                        Impact::Breaking,
                        format!("default {a} of `{wire}` removed: the accessor `{}()` that returned it is gone", of.ident),
                    );
                } else {
                    self.input(&at, Impact::Notable, format!("default {a} of `{wire}` removed"));
                }
            }
            (Some(a), Some(b)) => self.input(
                &at,
                Impact::Notable,
                format!("default of `{wire}` changed from {a} to {b}: requests that leave it unset (and the accessor) get the new value; it compiles as before"),
            ),
            (None, None) => {}
        }
    }

    fn rules(&mut self, o: &Model, n: &Model) {
        type Key = (&'static str, Vec<String>);
        let keyed = |m: &Model| -> Vec<(Key, Option<i64>, String)> {
            let wire = |i: &usize| {
                m.input
                    .fields
                    .get(*i)
                    .map(|f| f.wire.clone())
                    .unwrap_or_default()
            };
            m.rules
                .iter()
                .map(|r| match r {
                    CrossRule::MaxTotal {
                        fields,
                        max,
                        message,
                    } => (
                        ("max_total", fields.iter().map(wire).collect()),
                        Some(*max),
                        message.clone(),
                    ),
                    CrossRule::PromptCount {
                        prompt,
                        count,
                        message,
                    } => (
                        ("prompt_count", vec![wire(prompt), wire(count)]),
                        None,
                        message.clone(),
                    ),
                })
                .collect()
        };
        let (old, new) = (keyed(o), keyed(n));
        for (key, max, message) in &old {
            let what = format!("rule `{}` over {}", key.0, key.1.join(" + "));
            match new.iter().find(|(k, _, _)| k == key) {
                None => {
                    let impact = if max.is_some() {
                        Impact::Additive
                    } else {
                        Impact::Notable
                    };
                    self.push("overlay.json", "/rules", impact, format!("{what} removed"));
                }
                Some((_, new_max, new_message)) => {
                    match (max, new_max) {
                        (Some(a), Some(b)) if b < a => self.push(
                            "overlay.json",
                            "/rules",
                            Impact::Breaking,
                            format!("{what}: max lowered from {a} to {b}"),
                        ),
                        (Some(a), Some(b)) if b > a => self.push(
                            "overlay.json",
                            "/rules",
                            Impact::Additive,
                            format!("{what}: max raised from {a} to {b}"),
                        ),
                        _ => {}
                    }
                    if message != new_message {
                        self.push(
                            "overlay.json",
                            "/rules",
                            Impact::Notable,
                            format!("{what}: message changed"),
                        );
                    }
                }
            }
        }
        for (key, max, _) in &new {
            if !old.iter().any(|(k, _, _)| k == key) {
                let what = format!("rule `{}` over {}", key.0, key.1.join(" + "));
                match max {
                    Some(max) => self.push("overlay.json", "/rules", Impact::Breaking, format!("new {what} (at most {max}): inputs that validated before can be rejected")),
                    None => self.push("overlay.json", "/rules", Impact::Notable, format!("new {what} (a warning only)")),
                }
            }
        }
    }

    fn output(&mut self, oo: &OutputType, no: &OutputType) {
        if oo.name != no.name {
            self.push(
                "output.json",
                "/output",
                Impact::Breaking,
                format!("output type renamed `{}` → `{}`", oo.name, no.name),
            );
        }
        let at = |wire: &str| format!("/output/properties/{}", token(wire));
        for of in &oo.fields {
            match no.fields.iter().find(|f| f.wire == of.wire) {
                None => self.push(
                    "output.json",
                    &at(&of.wire),
                    Impact::Breaking,
                    format!(
                        "output field `{}` removed (`{}.{}` is gone)",
                        of.wire, oo.name, of.ident
                    ),
                ),
                Some(nf) => {
                    if nf.ty != of.ty {
                        self.push(
                            "output.json",
                            &format!("{}/type", at(&of.wire)),
                            Impact::Breaking,
                            format!(
                                "output field `{}` changed from {} to {}",
                                of.wire,
                                output_kind(of.ty),
                                output_kind(nf.ty)
                            ),
                        );
                    }
                    if nf.ident != of.ident {
                        self.push(
                            "output.json",
                            &at(&of.wire),
                            Impact::Breaking,
                            format!(
                                "output field renamed in Rust `{}` → `{}`",
                                of.ident, nf.ident
                            ),
                        );
                    }
                    if nf.docs != of.docs {
                        self.push(
                            "output.json",
                            &at(&of.wire),
                            Impact::Notable,
                            format!("documentation of output field `{}` changed", of.wire),
                        );
                    }
                }
            }
        }
        for nf in &no.fields {
            if !oo.fields.iter().any(|f| f.wire == nf.wire) {
                self.push(
                    "output.json",
                    &at(&nf.wire),
                    Impact::Additive,
                    format!(
                        "new output field `{}` (the output type is #[non_exhaustive])",
                        nf.wire
                    ),
                );
            }
        }
    }
}

fn output_kind(kind: OutputKind) -> &'static str {
    match kind {
        OutputKind::String => "a string",
        OutputKind::StringList => "a list of strings",
        OutputKind::Integer => "an integer",
        OutputKind::Number => "a number",
        OutputKind::Boolean => "a boolean",
        OutputKind::Json => "JSON",
    }
}

fn describe(model: &Model, ty: &Type) -> String {
    match ty {
        Type::String { .. } => "a string".into(),
        Type::Uri => "a URL".into(),
        Type::Media(spec) => format!("{:?} media", spec.kind).to_lowercase(),
        Type::Integer { .. } => "an integer".into(),
        Type::Number { .. } => "a number".into(),
        Type::Boolean => "a boolean".into(),
        Type::Enum(i) => format!("the enum `{}`", model.enums[*i].name),
        Type::Array { items, .. } => format!("an array of {}", describe(model, items)),
        Type::Struct(i) => format!("the object `{}`", model.structs[*i].name),
        Type::Json => "free JSON".into(),
    }
}
