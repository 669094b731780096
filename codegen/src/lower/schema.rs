//! JSON Schema to [`SchemaNode`]s, keyword by keyword.
//!
//! Every key of a schema object is looked up in the vocabulary (`runcomfy_vocab::keyword`): a
//! checked keyword is read into the node exactly as JSON Schema defines it, an annotation is
//! kept for docs, a vendor extension (`x-...`, `_...`) is skipped by convention, and anything
//! else (a refused keyword, an unknown one, a `format` that is not checked, a remote `$ref`)
//! fails the catalog with the file, the pointer and the way out, unless the overlay's
//! `unchecked` list accepts it (then `lint` warns). `$ref`s resolve within the file, by JSON pointer, `$id` or
//! anchor (`identifiers`), recursion included.

use std::collections::{BTreeSet, HashMap};

use runcomfy_vocab::format::Format;
use runcomfy_vocab::json_type::{JsonType, Types};
use runcomfy_vocab::keyword::{Dialect, Keyword, Support, compile_pattern};
use runcomfy_vocab::pointer::Pointer;
use serde_json::{Map, Value};

use super::Ctx;
use super::identifiers::{Identifiers, Unresolved};
use super::media::MediaDecl;
use crate::error::WarningKind;
use crate::ir::{Condition, Dependency, Items, SchemaId, SchemaNode, Sub};
use crate::naming;

/// Reads the schema nodes of one `input.json`.
pub(crate) struct Reader<'c, 'a> {
    pub(crate) ctx: &'c mut Ctx<'a>,
    doc: &'a Value,
    dialect: Dialect,
    /// Where each `$id` and anchor points, and each schema's base URI, for `$ref`s.
    identifiers: Identifiers,
    pub(crate) nodes: Vec<SchemaNode>,
    /// The schema read at each pointer, so a `$ref` to it shares it (and recursion ends).
    memo: HashMap<String, Sub>,
    /// `$ref`s being followed in a draft 7 schema (where a `$ref` is its target), to catch
    /// a loop of references that never reaches a schema.
    following: Vec<String>,
    names: BTreeSet<String>,
    /// Schemas being read, one inside another ([`MAX_DEPTH`]).
    depth: usize,
    /// Pointers of keywords the overlay accepts unchecked, and those that were used.
    unchecked: BTreeSet<String>,
    used_unchecked: BTreeSet<String>,
}

/// What a schema object's keywords say that is settled only once every keyword beside them is
/// read: draft 4's boolean `exclusiveMinimum`/`exclusiveMaximum` turn `minimum`/`maximum`
/// exclusive, `prefixItems` and `additionalItems` join `items`, and the media declaration is
/// applied to the finished node.
#[derive(Default)]
struct Deferred<'a> {
    media: MediaDecl<'a>,
    /// Draft 4's boolean `exclusiveMinimum` and `exclusiveMaximum`.
    exclusive: (Option<bool>, Option<bool>),
    prefix_items: Option<Vec<Sub>>,
    /// Where `additionalItems` is: read only when a positional `items` leaves room for it.
    additional_items: Option<Pointer>,
    /// Where `then` and `else` are: read only beside an `if`, without which they mean nothing.
    then: Option<Pointer>,
    otherwise: Option<Pointer>,
    /// Where OpenAPI's `nullable: true` is: it adds `null` to the `type` beside it.
    nullable: Option<Pointer>,
}

/// How deep schemas may be read inside one another. A file's JSON nests at most 128 levels
/// (serde_json's limit), so only `$ref` chains go deeper, and reading each level takes stack:
/// a chain of thousands overflowed it. Every later pass walks what this bounds.
const MAX_DEPTH: usize = 128;

impl<'c, 'a> Reader<'c, 'a> {
    pub(crate) fn new(ctx: &'c mut Ctx<'a>, doc: &'a Value) -> Self {
        let unchecked = ctx.src.overlay.unchecked.iter().cloned().collect();
        let dialect = match doc.get("$schema") {
            None => Dialect::default(),
            Some(Value::String(uri)) => match Dialect::from_uri(uri) {
                Some(dialect) => dialect,
                None => {
                    ctx.input_err(
                        "/$schema",
                        format!("unknown JSON Schema dialect `{uri}`"),
                        Some("use draft 4, 6, 7, 2019-09 or 2020-12, or remove `$schema` with an overlay `patch`"),
                    );
                    Dialect::default()
                }
            },
            Some(_) => {
                ctx.input_err("/$schema", "`$schema` must be a URI string", None);
                Dialect::default()
            }
        };
        let mut problems = Vec::new();
        let identifiers = Identifiers::scan(doc, dialect, &mut problems);
        for (at, problem) in problems {
            ctx.input_err(at.as_str(), problem, None);
        }
        Self {
            ctx,
            doc,
            dialect,
            identifiers,
            nodes: Vec::new(),
            memo: HashMap::new(),
            following: Vec::new(),
            names: BTreeSet::new(),
            depth: 0,
            unchecked,
            used_unchecked: BTreeSet::new(),
        }
    }

    /// Reads the schema at `pointer` of the file.
    pub(crate) fn read(&mut self, pointer: &Pointer) -> Sub {
        if let Some(sub) = self.memo.get(pointer.as_str()) {
            return *sub;
        }
        if self.depth >= MAX_DEPTH {
            self.ctx.input_err(
                pointer.as_str(),
                format!(
                    "schemas nest more than {MAX_DEPTH} deep here (through `$ref`s or subschemas)"
                ),
                Some("a real schema nests a few levels; shorten the chain with an overlay `patch`"),
            );
            return Sub::Any;
        }
        self.depth += 1;
        let sub = self.read_here(pointer);
        self.depth -= 1;
        sub
    }

    fn read_here(&mut self, pointer: &Pointer) -> Sub {
        let Some(value) = self.doc.pointer(pointer.as_str()) else {
            self.ctx
                .input_err(pointer.as_str(), "no schema at this location", None);
            return Sub::Any;
        };
        match value {
            Value::Bool(true) => Sub::Any,
            Value::Bool(false) => Sub::Never,
            Value::Object(map) => self.object(map, pointer),
            _ => {
                self.ctx.input_err(
                    pointer.as_str(),
                    "a schema must be an object or a boolean",
                    None,
                );
                Sub::Any
            }
        }
    }

    /// Overlay entries of `unchecked` that named no refused keyword: stale, or a typo.
    pub(crate) fn report_unused_unchecked(&mut self) {
        let unused: Vec<String> = self
            .unchecked
            .difference(&self.used_unchecked)
            .cloned()
            .collect();
        for (i, pointer) in self.ctx.src.overlay.unchecked.clone().iter().enumerate() {
            if !unused.contains(pointer) {
                continue;
            }
            let at = format!("/unchecked/{i}");
            // A keyword this generator reads now (a newer one than the overlay's): said, not
            // refused, so an upgrade does not break the catalog.
            let keyword = pointer
                .rsplit('/')
                .next()
                .and_then(runcomfy_vocab::pointer::unescape)
                .and_then(|key| self.dialect.keyword(&key));
            let present = self.ctx.src.input.pointer(pointer).is_some();
            match keyword {
                Some(keyword) if present => {
                    let path = self.ctx.overlay_path();
                    self.ctx.warn_in(
                        path,
                        WarningKind::Unchecked,
                        &at,
                        format!(
                            "`{pointer}` is read now (`{}` is no longer refused): drop it from \
                             `unchecked`",
                            keyword.name()
                        ),
                    );
                }
                _ => self.ctx.overlay_err(
                    &at,
                    format!("`{pointer}` names no refused keyword of input.json"),
                ),
            }
        }
    }

    fn object(&mut self, map: &'a Map<String, Value>, pointer: &Pointer) -> Sub {
        if let Some(reference) = map.get(Keyword::Ref.name())
            && !self.dialect.ref_siblings_apply()
        {
            // Up to draft 7 a `$ref` is its target: the keywords beside it are ignored.
            return self.reference(reference, &pointer.join(Keyword::Ref.name()));
        }
        let (id, mut node) = self.reserve(pointer);
        let mut deferred = Deferred::default();
        for (key, value) in map {
            let at = pointer.join(key);
            if let Some(keyword) = self.admit(key, &at) {
                self.keyword(keyword, value, at, &mut node, &mut deferred);
            }
        }
        self.smells(map, &node, pointer);
        // Before the choices are weighed against `type`: a `null` among them may be allowed.
        self.nullable(&mut node, deferred.nullable);
        Self::numeric_choices(&mut node);
        self.unreachable_choices(&mut node, pointer);
        Self::exclusive_flags(&mut node, deferred.exclusive);
        self.join_items(
            &mut node,
            deferred.prefix_items,
            deferred.additional_items,
            pointer,
        );
        self.join_condition(&mut node, deferred.then, deferred.otherwise);
        self.check_order(&node, pointer);
        self.nodes[id] = node;
        super::media::apply(self, id, deferred.media);
        Sub::Node(id)
    }

    /// Claims a node for `pointer` before its keywords are read, so that a `$ref` back to it
    /// (a recursive schema) finds it; returns its id and the empty node to fill.
    fn reserve(&mut self, pointer: &Pointer) -> (SchemaId, SchemaNode) {
        let id = self.nodes.len();
        let node = SchemaNode {
            name: self.static_name(pointer),
            pointer: pointer.as_str().to_owned(),
            ..SchemaNode::default()
        };
        self.nodes.push(node.clone());
        self.memo.insert(pointer.as_str().to_owned(), Sub::Node(id));
        (id, node)
    }

    /// The keyword `key` names, when it is one to read: an unknown key or a refused keyword
    /// fails the catalog (unless the overlay accepts it unchecked), a vendor extension is
    /// skipped.
    fn admit(&mut self, key: &str, at: &Pointer) -> Option<Keyword> {
        let Some(keyword) = self.dialect.keyword(key) else {
            if !Keyword::is_extension(key) {
                self.refuse(at, format!("unknown keyword `{key}`"));
            }
            return None;
        };
        match self.dialect.support(keyword) {
            Support::Refused(why) => {
                self.refuse(at, format!("`{key}` is not supported: {why}"));
                None
            }
            _ => Some(keyword),
        }
    }

    /// Reads one keyword at `at` into `node`, or into `deferred` when what it means depends on
    /// keywords beside it. One arm a keyword, so every keyword the reader checks is listed here.
    fn keyword(
        &mut self,
        keyword: Keyword,
        value: &'a Value,
        at: Pointer,
        node: &mut SchemaNode,
        deferred: &mut Deferred<'a>,
    ) {
        match keyword {
            Keyword::Type => node.types = self.types(value, &at),
            Keyword::Enum => node.choices = self.choices(value, &at),
            Keyword::Const => node.constant = Some(value.clone()),
            Keyword::Minimum => node.minimum = self.number(value, &at),
            Keyword::Maximum => node.maximum = self.number(value, &at),
            Keyword::ExclusiveMinimum => match value {
                Value::Bool(flag) => deferred.exclusive.0 = Some(*flag),
                _ => node.exclusive_minimum = self.number(value, &at),
            },
            Keyword::ExclusiveMaximum => match value {
                Value::Bool(flag) => deferred.exclusive.1 = Some(*flag),
                _ => node.exclusive_maximum = self.number(value, &at),
            },
            Keyword::MultipleOf => node.multiple_of = self.multiple_of(value, &at),
            Keyword::MinLength => node.min_length = self.count(value, &at),
            Keyword::MaxLength => node.max_length = self.count(value, &at),
            Keyword::MinItems => node.min_items = self.count(value, &at),
            Keyword::MaxItems => node.max_items = self.count(value, &at),
            Keyword::MinProperties => node.min_properties = self.count(value, &at),
            Keyword::MaxProperties => node.max_properties = self.count(value, &at),
            Keyword::Pattern => node.pattern = self.pattern(value, &at),
            Keyword::Format => self.format(value, &at, node, &mut deferred.media),
            Keyword::Items => node.items = self.items(value, &at),
            Keyword::PrefixItems => deferred.prefix_items = self.prefix_items(value, &at),
            Keyword::AdditionalItems => deferred.additional_items = Some(at),
            Keyword::Contains => node.contains = Some(self.read(&at)),
            Keyword::MinContains => node.min_contains = self.count(value, &at),
            Keyword::MaxContains => node.max_contains = self.count(value, &at),
            Keyword::UniqueItems => match value {
                Value::Bool(flag) => node.unique_items = *flag,
                _ => self
                    .ctx
                    .input_err(at.as_str(), "`uniqueItems` must be a boolean", None),
            },
            Keyword::Properties => node.properties = self.schema_map(value, &at),
            Keyword::PatternProperties => node.pattern_properties = self.pattern_map(value, &at),
            Keyword::PropertyNames => node.property_names = Some(self.read(&at)),
            Keyword::UnevaluatedProperties => node.unevaluated_properties = Some(self.read(&at)),
            Keyword::UnevaluatedItems => node.unevaluated_items = Some(self.read(&at)),
            Keyword::Dependencies | Keyword::DependentRequired | Keyword::DependentSchemas => {
                let dependencies = self.dependencies(keyword, value, &at);
                node.dependencies.extend(dependencies);
            }
            Keyword::Required => node.required = self.names(value, &at),
            Keyword::AdditionalProperties => node.additional_properties = Some(self.read(&at)),
            Keyword::AllOf => node.all_of.extend(self.schemas(value, &at)),
            Keyword::AnyOf => node.any_of = self.schemas(value, &at),
            Keyword::OneOf => node.one_of = self.schemas(value, &at),
            Keyword::Not => node.not = Some(self.read(&at)),
            Keyword::If => {
                node.condition = Some(Condition {
                    test: self.read(&at),
                    then: None,
                    otherwise: None,
                })
            }
            Keyword::Then => deferred.then = Some(at),
            Keyword::Else => deferred.otherwise = Some(at),
            Keyword::Nullable => match value {
                Value::Bool(true) => deferred.nullable = Some(at),
                Value::Bool(false) => {}
                _ => self
                    .ctx
                    .input_err(at.as_str(), "`nullable` must be true or false", None),
            },
            Keyword::Ref => {
                let target = self.reference(value, &at);
                node.all_of.insert(0, target);
            }
            Keyword::Title => node.title = self.text(value, &at),
            Keyword::Description => node.description = self.text(value, &at),
            Keyword::Default => node.default = Some(value.clone()),
            Keyword::Validations => deferred.media.validations = Some((value, at)),
            Keyword::Schema if !at.parent().as_str().is_empty() => self.inner_dialect(value, &at),
            // Read where they are used: `$defs` through `$ref`s, the root's `$schema` at the
            // start, identifiers by `Identifiers::scan`.
            Keyword::Schema
            | Keyword::Defs
            | Keyword::Definitions
            | Keyword::Components
            | Keyword::Id
            | Keyword::Anchor
            | Keyword::DynamicAnchor
            | Keyword::RecursiveAnchor => {}
            Keyword::Comment
            | Keyword::Examples
            | Keyword::Example
            | Keyword::ReadOnly
            | Keyword::WriteOnly
            | Keyword::Deprecated
            | Keyword::Discriminator
            | Keyword::ExternalDocs
            | Keyword::Xml => {}
            // Annotations from 2019-09 on (`admit` refuses them in older drafts).
            Keyword::ContentMediaType | Keyword::ContentEncoding | Keyword::ContentSchema => {}
            // Refused by `admit`.
            _ => {}
        }
    }

    /// A `$schema` below the root (an embedded resource's) must name the file's dialect: a file
    /// is read in one, its root's.
    fn inner_dialect(&mut self, value: &Value, at: &Pointer) {
        let named = value.as_str().map(|uri| (uri, Dialect::from_uri(uri)));
        if let Some((_, Some(dialect))) = named
            && dialect == self.dialect
        {
            return;
        }
        let what = match named {
            Some((uri, _)) => format!("`{uri}`"),
            None => "nothing".to_owned(),
        };
        self.refuse(
            at,
            format!(
                "`$schema` below the root is not supported when it names another dialect than \
                 the file's (here {what}): a file is read in one dialect, its root's"
            ),
        );
    }

    /// Draft 4's boolean `exclusiveMinimum` makes `minimum` exclusive (and so for maximum).
    fn exclusive_flags(node: &mut SchemaNode, (minimum, maximum): (Option<bool>, Option<bool>)) {
        if minimum == Some(true) {
            node.exclusive_minimum = node.minimum.take();
        }
        if maximum == Some(true) {
            node.exclusive_maximum = node.maximum.take();
        }
    }

    /// Joins `prefixItems` and `additionalItems` with `items` into one [`Items`].
    fn join_items(
        &mut self,
        node: &mut SchemaNode,
        prefix_items: Option<Vec<Sub>>,
        additional_items: Option<Pointer>,
        pointer: &Pointer,
    ) {
        match (prefix_items, &node.items) {
            (Some(prefix), Items::Each(rest)) => {
                node.items = Items::Tuple {
                    prefix,
                    rest: Some(*rest),
                }
            }
            (Some(prefix), Items::Any) => node.items = Items::Tuple { prefix, rest: None },
            (Some(_), Items::Tuple { .. }) => self.ctx.input_err(
                pointer.join("prefixItems").as_str(),
                "`prefixItems` beside an array `items`",
                Some("use one of the two forms"),
            ),
            (None, _) => {}
        }
        // `additionalItems` applies after a positional `items` only (and is read only then).
        if let (Some(at), Items::Tuple { rest: None, .. }) = (additional_items, &node.items) {
            let schema = self.read(&at);
            if let Items::Tuple { rest, .. } = &mut node.items {
                *rest = Some(schema);
            }
        }
    }

    /// Reads `then` and `else` into the node's `if`. Without an `if` they mean nothing, and
    /// are not read: `lint` says so.
    fn join_condition(
        &mut self,
        node: &mut SchemaNode,
        then: Option<Pointer>,
        otherwise: Option<Pointer>,
    ) {
        let Some(mut condition) = node.condition else {
            for at in [then, otherwise].into_iter().flatten() {
                let key = at.last().to_owned();
                self.ctx.warn(
                    WarningKind::Ignored,
                    at.as_str(),
                    format!("`{key}` without `if` means nothing and is not checked"),
                );
            }
            return;
        };
        condition.then = then.map(|at| self.read(&at));
        condition.otherwise = otherwise.map(|at| self.read(&at));
        node.condition = Some(condition);
    }

    /// OpenAPI 3.0's `nullable: true` adds `null` to the `type` in the same schema (an `enum`
    /// still decides whether `null` is one of its values); with no `type` it means nothing.
    fn nullable(&mut self, node: &mut SchemaNode, at: Option<Pointer>) {
        let Some(at) = at else {
            return;
        };
        match node.types {
            Some(types) => {
                node.types = Some(types.with(Types::NULL));
                self.ctx.warn(
                    WarningKind::NonStandardType,
                    at.as_str(),
                    "`nullable` is OpenAPI's, not JSON Schema's; it is read as `null` added to \
                     `type`: patch it into `type`",
                );
            }
            None => self.ctx.warn(
                WarningKind::Ignored,
                at.as_str(),
                "`nullable` without `type` means nothing (OpenAPI 3.0.3) and is not checked",
            ),
        }
    }

    /// The target of a `$ref`.
    fn reference(&mut self, value: &Value, at: &Pointer) -> Sub {
        let Some(reference) = value.as_str() else {
            self.ctx
                .input_err(at.as_str(), "`$ref` must be a string", None);
            return Sub::Any;
        };
        let target = match self.identifiers.resolve(&at.parent(), reference) {
            Ok(target) => target,
            // A name nobody declared is a mistake in the file, not a feature to accept unchecked.
            Err(why @ Unresolved::Name(_)) => {
                self.ctx
                    .input_err(at.as_str(), format!("`$ref` to `{reference}`: {why}"), None);
                return Sub::Any;
            }
            Err(why) => {
                self.refuse(
                    at,
                    format!("`$ref` to `{reference}` cannot be resolved: {why}"),
                );
                return Sub::Any;
            }
        };
        if self.doc.pointer(target.as_str()).is_none() {
            self.ctx.input_err(
                at.as_str(),
                format!("`$ref` to `{reference}` names nothing in this file"),
                None,
            );
            return Sub::Any;
        }
        if let Some(sub) = self.memo.get(target.as_str()) {
            // Read already, or being read (a recursive schema): the node is shared.
            return *sub;
        }
        if self.following.iter().any(|p| p == target.as_str()) {
            self.ctx.input_err(
                at.as_str(),
                format!("`$ref` to `{reference}` loops back to itself without reaching a schema"),
                None,
            );
            return Sub::Any;
        }
        self.following.push(target.as_str().to_owned());
        let sub = self.read(&target);
        self.following.pop();
        sub
    }

    /// Fails the catalog on `at`, unless the overlay accepts it unchecked (then it warns).
    fn refuse(&mut self, at: &Pointer, problem: String) {
        if self.unchecked.contains(at.as_str()) {
            self.used_unchecked.insert(at.as_str().to_owned());
            self.ctx.warn(
                WarningKind::Unchecked,
                at.as_str(),
                format!("{problem}; accepted unchecked (overlay `unchecked`): nothing enforces it"),
            );
            return;
        }
        let removal = match removal_patch(self.doc, at) {
            Some(patch) => format!("remove it with an overlay `patch` ({patch})"),
            None => {
                "remove it with an overlay `patch` (replacing the array that holds it)".to_owned()
            }
        };
        let hint = format!(
            "{removal}, or accept it unchecked with `\"unchecked\": [\"{}\"]` in overlay.json (lint warns)",
            at.as_str()
        );
        self.ctx.input_err(at.as_str(), problem, Some(&hint));
    }

    fn types(&mut self, value: &Value, at: &Pointer) -> Option<Types> {
        let one = |this: &mut Self, name: &Value, at: &Pointer| match name
            .as_str()
            .map(JsonType::parse)
        {
            Some(Some(ty)) => {
                let written = name.as_str().unwrap_or_default();
                if written != ty.name() {
                    this.ctx.warn(
                        WarningKind::NonStandardType,
                        at.as_str(),
                        format!("type `{written}` is not JSON Schema; it is read as `{ty}`: patch it to `{ty}`"),
                    );
                }
                Some(Types::of(ty))
            }
            Some(None) => {
                this.ctx.input_err(
                    at.as_str(),
                    format!("unknown type `{}`", name.as_str().unwrap_or_default()),
                    Some("use null, boolean, object, array, number, integer or string (fix it with an overlay `patch`)"),
                );
                None
            }
            None => {
                this.ctx
                    .input_err(at.as_str(), "type names must be strings", None);
                None
            }
        };
        match value {
            Value::Array(names) => {
                let mut set = Types::NONE;
                for (i, name) in names.iter().enumerate() {
                    set = set.with(one(self, name, &at.index(i))?);
                }
                Some(set)
            }
            other => one(self, other, at),
        }
    }

    fn number(&mut self, value: &Value, at: &Pointer) -> Option<serde_json::Number> {
        match value {
            Value::Number(n) => Some(n.clone()),
            // Catalogs write numbers loosely (`"0.5"`); read them as what they say.
            Value::String(s) => match number_in_text(s) {
                Some(n) => {
                    self.number_as_string(at, s);
                    Some(n)
                }
                None => {
                    self.ctx
                        .input_err(at.as_str(), format!("must be a number, not {value}"), None);
                    None
                }
            },
            _ => {
                self.ctx
                    .input_err(at.as_str(), format!("must be a number, not {value}"), None);
                None
            }
        }
    }

    /// A catalog smell: a number written as a string.
    pub(crate) fn number_as_string(&mut self, at: &Pointer, text: &str) {
        self.ctx.warn(
            WarningKind::NumberAsString,
            at.as_str(),
            format!("the number {text:?} is written as a string; patch it to a JSON number"),
        );
    }

    fn count(&mut self, value: &Value, at: &Pointer) -> Option<u64> {
        let n = value
            .as_u64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
                    .map(|f| f as u64)
            })
            .or_else(|| {
                let n = value.as_str()?.trim().parse().ok()?;
                self.number_as_string(at, value.as_str().unwrap_or_default());
                Some(n)
            });
        if n.is_none() {
            let key = at.last();
            self.ctx.input_err(
                at.as_str(),
                format!("`{key}` must be a non-negative integer, not {value}"),
                None,
            );
        }
        n
    }

    fn pattern(&mut self, value: &Value, at: &Pointer) -> Option<String> {
        let Some(source) = value.as_str() else {
            self.ctx
                .input_err(at.as_str(), "`pattern` must be a string", None);
            return None;
        };
        self.regex(source, at)
    }

    /// `source`, when the pattern engine can run it (else the catalog fails on `at`).
    fn regex(&mut self, source: &str, at: &Pointer) -> Option<String> {
        match compile_pattern(source) {
            Ok(_) => Some(source.to_owned()),
            Err(err) => {
                self.refuse(
                    at,
                    format!("pattern `{source}` is not an ECMA-262 regular expression the engine can run: {err}"),
                );
                None
            }
        }
    }

    fn choices(&mut self, value: &Value, at: &Pointer) -> Option<Vec<Value>> {
        match value {
            Value::Array(values) => Some(values.clone()),
            _ => {
                self.ctx
                    .input_err(at.as_str(), "`enum` must be an array", None);
                None
            }
        }
    }

    fn multiple_of(&mut self, value: &Value, at: &Pointer) -> Option<serde_json::Number> {
        let n = self.number(value, at)?;
        if n.as_f64().is_none_or(|f| f <= 0.0) {
            self.ctx
                .input_err(at.as_str(), "`multipleOf` must be greater than 0", None);
            return None;
        }
        Some(n)
    }

    /// `format`: a media format is the media spec's, any other checked one the node's.
    fn format(
        &mut self,
        value: &Value,
        at: &Pointer,
        node: &mut SchemaNode,
        media: &mut MediaDecl,
    ) {
        match value.as_str().map(Format::parse) {
            Some(Some(Format::Media(name))) => media.format = Some(name),
            Some(Some(format)) => node.format = Some(format),
            Some(None) => self.refuse(
                at,
                format!(
                    "format `{}` is not checked",
                    value.as_str().unwrap_or_default()
                ),
            ),
            None => self
                .ctx
                .input_err(at.as_str(), "`format` must be a string", None),
        }
    }

    /// `items`: one schema for every item, or (an array, before 2020-12) one per position.
    fn items(&mut self, value: &Value, at: &Pointer) -> Items {
        match value {
            Value::Array(schemas) => Items::Tuple {
                prefix: self.positional(schemas.len(), at),
                rest: None,
            },
            _ => Items::Each(self.read(at)),
        }
    }

    fn prefix_items(&mut self, value: &Value, at: &Pointer) -> Option<Vec<Sub>> {
        match value {
            Value::Array(schemas) => Some(self.positional(schemas.len(), at)),
            _ => {
                self.ctx.input_err(
                    at.as_str(),
                    "`prefixItems` must be an array of schemas",
                    None,
                );
                None
            }
        }
    }

    /// The `count` schemas of the array at `at`, in order.
    fn positional(&mut self, count: usize, at: &Pointer) -> Vec<Sub> {
        (0..count).map(|i| self.read(&at.index(i))).collect()
    }

    /// `properties`: a schema by each name, in schema order.
    fn schema_map(&mut self, value: &Value, at: &Pointer) -> Vec<(String, Sub)> {
        let Some(entries) = self.object_of(value, at, "schemas") else {
            return Vec::new();
        };
        entries
            .keys()
            .map(|name| (name.clone(), self.read(&at.join(name))))
            .collect()
    }

    /// `patternProperties`: a schema by each pattern the engine can run.
    fn pattern_map(&mut self, value: &Value, at: &Pointer) -> Vec<(String, Sub)> {
        let Some(entries) = self.object_of(value, at, "schemas") else {
            return Vec::new();
        };
        entries
            .keys()
            .filter_map(|source| {
                let at = at.join(source);
                let source = self.regex(source, &at)?;
                Some((source, self.read(&at)))
            })
            .collect()
    }

    /// `dependencies` (each name's value a list of names or a schema), `dependentRequired`
    /// (lists) or `dependentSchemas` (schemas).
    fn dependencies(
        &mut self,
        keyword: Keyword,
        value: &Value,
        at: &Pointer,
    ) -> Vec<(String, Dependency)> {
        let what = match keyword {
            Keyword::DependentRequired => "lists of names",
            Keyword::DependentSchemas => "schemas",
            _ => "lists of names or schemas",
        };
        let Some(entries) = self.object_of(value, at, what) else {
            return Vec::new();
        };
        entries
            .iter()
            .map(|(name, held)| {
                let at = at.join(name);
                let names = keyword == Keyword::DependentRequired
                    || (keyword == Keyword::Dependencies && held.is_array());
                let dependency = if names {
                    Dependency::Required(self.names(held, &at))
                } else {
                    Dependency::Schema(self.read(&at))
                };
                (name.clone(), dependency)
            })
            .collect()
    }

    /// The object a keyword that maps names to `what` holds (else the catalog fails on `at`).
    fn object_of<'v>(
        &mut self,
        value: &'v Value,
        at: &Pointer,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        if let Value::Object(entries) = value {
            return Some(entries);
        }
        let key = at.last().to_owned();
        self.ctx.input_err(
            at.as_str(),
            format!("`{key}` must be an object of {what}"),
            None,
        );
        None
    }

    /// `required`, or a property's list in `dependencies`: property names, each once.
    fn names(&mut self, value: &Value, at: &Pointer) -> Vec<String> {
        let Some(items) = value.as_array() else {
            self.ctx
                .input_err(at.as_str(), "must be an array of property names", None);
            return Vec::new();
        };
        let mut names = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(name) if !names.iter().any(|n| n == name) => names.push(name.to_owned()),
                Some(_) => {}
                None => self
                    .ctx
                    .input_err(at.index(i).as_str(), "must be a property name", None),
            }
        }
        names
    }

    fn schemas(&mut self, value: &Value, at: &Pointer) -> Vec<Sub> {
        match value {
            Value::Array(items) if !items.is_empty() => self.positional(items.len(), at),
            // Replicate's Cog writes `"anyOf": []` on the items of every list of files: read
            // as written it would refuse every value, so someone has to say what is meant.
            Value::Array(_) => {
                let hint = removal_patch(self.doc, at).map(|patch| {
                    format!(
                        "if nothing is meant by it, remove it with an overlay `patch` ({patch})"
                    )
                });
                let keyword = at.last();
                let why = if keyword == Keyword::AllOf.name() {
                    ""
                } else {
                    ": read as written, no value could pass it"
                };
                self.ctx.input_err(
                    at.as_str(),
                    format!("`{keyword}` must hold at least one schema{why}"),
                    hint.as_deref(),
                );
                Vec::new()
            }
            _ => {
                self.ctx
                    .input_err(at.as_str(), "must be a non-empty array of schemas", None);
                Vec::new()
            }
        }
    }

    fn text(&mut self, value: &Value, at: &Pointer) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) => {
                let s = s.trim();
                if super::is_localized(s) {
                    let key = at.last().to_owned();
                    self.ctx.warn(
                        WarningKind::LocalizedText,
                        at.as_str(),
                        format!("{key} {s:?} is not in English, and the generated docs show it: translate it with an overlay `patch`"),
                    );
                }
                (!s.is_empty()).then(|| s.to_owned())
            }
            _ => {
                self.ctx.input_err(at.as_str(), "must be a string", None);
                None
            }
        }
    }

    /// Smells of a schema object: an empty or missing description on a property, numbers
    /// written as strings in the `enum` or `default` of a numeric field.
    fn smells(&mut self, map: &Map<String, Value>, node: &SchemaNode, pointer: &Pointer) {
        let description = map.get("description").and_then(Value::as_str);
        let property = pointer
            .as_str()
            .rsplit_once('/')
            .is_some_and(|(parent, _)| parent.ends_with("/properties") || parent == "/properties");
        let smell = match description {
            Some(d) if d.trim().is_empty() => {
                Some((WarningKind::EmptyDescription, "has an empty description"))
            }
            Some(_) => None,
            // Its docs say only its type and bounds (QA repro44 F8: the lint saw only "").
            None => Some((WarningKind::NoDescription, "has no description")),
        };
        if let Some((kind, what)) = smell.filter(|_| property) {
            let name = pointer.last();
            let name = runcomfy_vocab::pointer::unescape(name).unwrap_or_default();
            let root = super::media::root_field(pointer.as_str());
            let documented = root
                .as_ref()
                .and_then(|f| self.ctx.src.overlay.fields.get(f))
                .is_some_and(|f| f.docs.is_some());
            // `fields` names the input's own properties; one deeper is described by a patch
            // (QA repro48 F3: the hint named a key the overlay refuses).
            let how = match root.is_some() {
                true => format!("describe it with `fields.{name}.docs` in overlay.json"),
                false => format!(
                    "describe it with a `description` at {} in overlay.json's `patch`",
                    pointer.as_str()
                ),
            };
            if !documented {
                self.ctx.warn(
                    kind,
                    pointer.join("description").as_str(),
                    format!("`{name}` {what}; {how}"),
                );
            }
        }
        let numeric = node.types.is_some_and(|t| {
            let t = t.without_null();
            t == Types::INTEGER || t == Types::NUMBER || t == Types::NUMBER.with(Types::INTEGER)
        });
        if numeric {
            // Text that reads as no number (`"zero"`) is no number written as text: the
            // default check says it does not fit.
            if let Some(Value::String(s)) = map.get("default")
                && number_in_text(s).is_some()
            {
                self.number_as_string(&pointer.join("default"), s);
            }
            for (i, value) in node.choices.iter().flatten().enumerate() {
                if let Value::String(s) = value
                    && number_in_text(s).is_some()
                {
                    self.number_as_string(&pointer.join("enum").index(i), s);
                }
            }
        }
    }

    /// The `enum` and `default` of a numeric field written as strings (`["1", "2"]`, `"1"`) mean
    /// those numbers, as `minimum: "0"` does: read them so (`number-as-string` warns about
    /// each), so the default every reader shows is the one the generated accessor returns.
    fn numeric_choices(node: &mut SchemaNode) {
        let numeric = node.types.is_some_and(|t| {
            let t = t.without_null();
            !t.is_empty() && (Types::NUMBER.with(Types::INTEGER).and(t) == t)
        });
        if !numeric {
            return;
        }
        for value in node
            .choices
            .iter_mut()
            .flatten()
            .chain(node.default.as_mut())
        {
            if let Some(number) = value.as_str().and_then(number_in_text) {
                *value = Value::Number(number);
            }
        }
    }

    /// `enum` values the node's `type` refuses can never be valid: they are not offered as
    /// choices (a generated variant, a CLI value), with a warning. Validation is unchanged:
    /// the type refused them anyway. An enum left with none keeps them, and means nothing is
    /// valid, as it did.
    fn unreachable_choices(&mut self, node: &mut SchemaNode, pointer: &Pointer) {
        let (Some(types), Some(choices)) = (node.types, node.choices.as_mut()) else {
            return;
        };
        let allowed = |v: &Value| types.allows(crate::ir::type_of(v));
        if !choices.iter().any(allowed) {
            return;
        }
        let unreachable: Vec<String> = choices
            .iter()
            .filter(|v| !allowed(v))
            .map(ToString::to_string)
            .collect();
        if unreachable.is_empty() {
            return;
        }
        choices.retain(allowed);
        self.ctx.warn(
            WarningKind::UnreachableChoice,
            pointer.join("enum").as_str(),
            format!(
                "enum value(s) {} are not {types}: never valid, so not offered as choices; drop \
                 them with an overlay `patch`",
                unreachable.join(", ")
            ),
        );
    }

    /// Lower bounds above upper ones, or an empty `enum`, make every value invalid: a catalog
    /// mistake.
    fn check_order(&mut self, node: &SchemaNode, pointer: &Pointer) {
        let pairs = [
            (node.min_length, node.max_length, "minLength", "maxLength"),
            (node.min_items, node.max_items, "minItems", "maxItems"),
            (
                node.min_properties,
                node.max_properties,
                "minProperties",
                "maxProperties",
            ),
        ];
        for (low, high, low_key, high_key) in pairs {
            if let (Some(low), Some(high)) = (low, high)
                && low > high
            {
                self.ctx.input_err(
                    pointer.join(low_key).as_str(),
                    format!("`{low_key}` ({low}) is above `{high_key}` ({high})"),
                    Some("fix the bounds with an overlay `patch`"),
                );
            }
        }
        if node.choices.as_ref().is_some_and(Vec::is_empty) {
            self.ctx.input_err(
                pointer.join("enum").as_str(),
                "`enum` is empty: no value is valid".to_owned(),
                Some("give its values, or remove it, with an overlay `patch`"),
            );
        }
        if let (Some(low), Some(high)) = (&node.minimum, &node.maximum)
            && low.as_f64() > high.as_f64()
        {
            self.ctx.input_err(
                pointer.join("minimum").as_str(),
                format!("`minimum` ({low}) is above `maximum` ({high})"),
                Some("fix the bounds with an overlay `patch`"),
            );
        }
    }

    /// A readable, unique name for the node's `static`, from its place in the file:
    /// `/properties/images/items` → `IMAGES_ITEMS`, `/definitions/node` → `NODE`,
    /// `/properties/size/dependencies/width` → `SIZE_WITH_WIDTH`.
    fn static_name(&mut self, pointer: &Pointer) -> String {
        let tokens: Vec<String> = pointer
            .as_str()
            .split('/')
            .skip(1)
            .filter_map(runcomfy_vocab::pointer::unescape)
            .collect();
        let mut words: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match tokens[i].as_str() {
                "properties" | "definitions" | "$defs" if i + 1 < tokens.len() => {
                    words.push(&tokens[i + 1]);
                    i += 2;
                    continue;
                }
                // OpenAPI's `/components/schemas/name`.
                "components" if i == 0 && tokens.get(1).is_some_and(|t| t == "schemas") => {
                    i += 2;
                    if let Some(name) = tokens.get(i) {
                        words.push(name);
                        i += 1;
                    }
                    continue;
                }
                "items" | "prefixItems" => words.push("items"),
                "additionalProperties" => words.push("other"),
                "additionalItems" => words.push("rest"),
                "allOf" => words.push("all_of"),
                "anyOf" => words.push("any_of"),
                "oneOf" => words.push("one_of"),
                "patternProperties" => words.push("matching"),
                "propertyNames" => words.push("names"),
                "dependencies" | "dependentSchemas" => words.push("with"),
                other => words.push(other),
            }
            i += 1;
        }
        let name = if pointer.as_str().is_empty() {
            "INPUT".to_owned()
        } else {
            naming::static_ident(&words, "FIELD")
        };
        naming::unique(name, &mut self.names, "_")
    }
}

/// The overlay `patch` that removes the keyword at `at` (an RFC 7396 merge patch setting it
/// to `null`), as JSON text; `None` when it lies inside an array, which a merge patch can only
/// replace whole.
fn removal_patch(doc: &Value, at: &Pointer) -> Option<String> {
    let tokens: Vec<String> = at
        .as_str()
        .split('/')
        .skip(1)
        .filter_map(runcomfy_vocab::pointer::unescape)
        .collect();
    let mut value = doc;
    for token in tokens.iter().take(tokens.len().saturating_sub(1)) {
        value = value.as_object()?.get(token)?;
    }
    value.as_object()?;
    let mut patch = Value::Null;
    for token in tokens.iter().rev() {
        let mut map = Map::new();
        map.insert(token.clone(), patch);
        patch = Value::Object(map);
    }
    Some(serde_json::json!({ "patch": patch }).to_string())
}

/// The number a catalog wrote as text (`"0.5"`, `" 7 "`), an integer when it is one; none for
/// text that reads as no finite number.
fn number_in_text(text: &str) -> Option<serde_json::Number> {
    let text = text.trim();
    text.parse::<i64>()
        .map(serde_json::Number::from)
        .ok()
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
        })
}
