//! The Rust types values of a schema decode into.
//!
//! A type must accept every value the schema accepts and serialize it back unchanged; what the
//! schema forbids beyond that is validation's to report. So a node's own `type` decides its
//! Rust type, and combinators (which only narrow it) are looked into only when it has none:
//! `anyOf`/`oneOf` of distinct types become a union, `[X, null]` an `Option`, `allOf` the type
//! of its first typed member. Anything else, and every recursive edge, is `serde_json::Value`,
//! checked against its schema all the same.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use runcomfy_vocab::json_type::{JsonType, Types};
use runcomfy_vocab::pointer::escape;
use serde_json::Value;

use super::{Ctx, choices, defaults, is_type_ident, push_doc};
use crate::error::WarningKind;
use crate::ir::*;
use crate::naming;
use crate::overlay::FieldOverlay;

/// Methods a field's accessor must not shadow: the constructor and the traits' methods.
const RESERVED_METHODS: &[&str] = &[
    "new", "validate", "view", "entries", "get", "len", "is_empty",
];

/// The Rust names a struct takes: its fields', and its methods' (setters and accessors),
/// which must not clash with each other or with [`RESERVED_METHODS`].
struct FieldNames {
    idents: BTreeSet<String>,
    methods: BTreeSet<String>,
    /// The idents of properties named in ASCII, not yet taken: theirs before a name in
    /// another script or of symbols that reads the same (`🎨` → `art` beside `art`), as the
    /// CLI gives flags.
    ascii: BTreeSet<String>,
}

impl FieldNames {
    fn new<'w>(wires: impl Iterator<Item = &'w String>) -> Self {
        let ascii = wires
            .enumerate()
            .filter(|(_, wire)| wire.is_ascii())
            .map(|(index, wire)| field_ident(index, wire))
            .collect();
        Self {
            idents: BTreeSet::new(),
            methods: RESERVED_METHODS.iter().map(|m| (*m).to_owned()).collect(),
            ascii,
        }
    }

    /// A field ident from `base` (the natural ident of property `wire`), made unique with
    /// `suffix`.
    fn ident(&mut self, wire: &str, base: &str, suffix: &str) -> String {
        if wire.is_ascii() {
            self.ascii.remove(base);
        } else if self.ascii.contains(base) {
            let mut taken: BTreeSet<String> = self.idents.union(&self.ascii).cloned().collect();
            let ident = naming::unique(base.to_owned(), &mut taken, suffix);
            self.idents.insert(ident.clone());
            return ident;
        }
        naming::unique(base.to_owned(), &mut self.idents, suffix)
    }

    /// A method name from `base`, made unique.
    fn method(&mut self, base: String) -> String {
        naming::unique(base, &mut self.methods, "_")
    }
}

/// A variant's wire value (or tag), its Rust name and its alias.
type VariantNaming<'a> = (&'a str, &'a str, Option<&'a str>);

/// A choice's [`VariantNaming`].
fn naming(v: &Variant) -> VariantNaming<'_> {
    (v.wire.as_str(), v.name.as_str(), v.alias.as_deref())
}

/// The typer's state at one point, to return to.
struct Mark {
    structs: usize,
    enums: usize,
    unions: usize,
    /// What a struct, enum or union typed before the mark may be renamed from since.
    names: (Vec<String>, Vec<String>, Vec<String>),
    defined_unions: BTreeSet<usize>,
    named_structs: BTreeSet<usize>,
    type_names: BTreeSet<String>,
    definitions: BTreeMap<String, String>,
    memo: HashMap<SchemaId, RustType>,
}

pub(crate) struct Typer<'c, 'a> {
    pub(crate) ctx: &'c mut Ctx<'a>,
    pub(crate) nodes: Vec<SchemaNode>,
    pub(crate) structs: Vec<Struct>,
    pub(crate) enums: Vec<Enum>,
    pub(crate) unions: Vec<Union>,
    pub(crate) type_names: BTreeSet<String>,
    /// The names of definitions not yet typed, by the definition's own: kept for them from the
    /// start (and in `type_names`), so a name made up for another type never takes one.
    definitions: BTreeMap<String, String>,
    /// The unions a definition named.
    defined_unions: BTreeSet<usize>,
    /// The structs a definition or an overlay named.
    named_structs: BTreeSet<usize>,
    /// The input field whose overlay is being applied, for its errors' pointers.
    overlay_field: Option<String>,
    memo: HashMap<SchemaId, RustType>,
    in_progress: HashSet<SchemaId>,
}

impl<'c, 'a> Typer<'c, 'a> {
    pub(crate) fn new(
        ctx: &'c mut Ctx<'a>,
        nodes: Vec<SchemaNode>,
        mut type_names: BTreeSet<String>,
    ) -> Self {
        // A definition that becomes a type of its own (an object's, a choice's or a union's),
        // with the suffix a name of its kind takes.
        let defined: Vec<(String, &str)> = nodes
            .iter()
            .filter_map(|n| {
                let suffix = if !n.properties.is_empty() {
                    "Object"
                } else if n.choices.is_some() {
                    "Choice"
                } else if !n.any_of.is_empty() || !n.one_of.is_empty() {
                    "Value"
                } else {
                    return None;
                };
                Some((definition_name(&n.pointer)?, suffix))
            })
            .collect();
        // Spelled as a Rust type name already (`MyCfg`, `AB`): kept as spelled, and before
        // the names made from others (`my-cfg` is `MyCfg` only if no `MyCfg` is defined).
        let spelled = |raw: &str| is_type_ident(raw) && !naming::RESERVED_TYPE_NAMES.contains(&raw);
        let mut definitions = BTreeMap::new();
        for (raw, _) in defined.iter().filter(|(raw, _)| spelled(raw)) {
            if type_names.insert(raw.clone()) {
                definitions.insert(raw.clone(), raw.clone());
            }
        }
        for (raw, suffix) in &defined {
            if !definitions.contains_key(raw) {
                let name = naming::unique(naming::type_ident(raw, "Type"), &mut type_names, suffix);
                definitions.insert(raw.clone(), name);
            }
        }
        Self {
            ctx,
            nodes,
            structs: Vec::new(),
            enums: Vec::new(),
            unions: Vec::new(),
            type_names,
            definitions,
            defined_unions: BTreeSet::new(),
            named_structs: BTreeSet::new(),
            overlay_field: None,
            memo: HashMap::new(),
            in_progress: HashSet::new(),
        }
    }

    /// A name for a new type: a definition's (`definition`, as the schema names it) the one
    /// kept for it; any other type's `wanted`, made unique with `suffix` among every type's and
    /// definition's.
    pub(crate) fn type_name(
        &mut self,
        wanted: String,
        suffix: &str,
        definition: Option<&str>,
    ) -> String {
        if let Some(name) = definition.and_then(|raw| self.definitions.remove(raw)) {
            return name;
        }
        naming::unique(wanted, &mut self.type_names, suffix)
    }

    /// The input struct, from the root node.
    pub(crate) fn input(&mut self, root: SchemaId, name: String) -> usize {
        // A definition of the input's name (Pydantic's class) yields it to the input.
        self.definitions.retain(|_, kept| *kept != name);
        self.type_names.insert(name.clone());
        self.structure(root, name, true)
    }

    /// The Rust type of a schema; `hint` names what it creates.
    fn type_of(&mut self, sub: Sub, hint: &str, overlay: Option<&FieldOverlay>) -> RustType {
        let id = match sub {
            Sub::Node(id) => id,
            Sub::Any | Sub::Never => return RustType::Json,
        };
        if let Some(ty) = self.memo.get(&id) {
            return ty.clone();
        }
        // A definition's type is named after the definition, wherever it is used.
        let definition = definition_name(&self.nodes[id].pointer);
        let hint = definition.as_deref().unwrap_or(hint);
        if !self.in_progress.insert(id) {
            // A recursive schema: the edge back is JSON, checked against the same schema.
            return RustType::Json;
        }
        let ty = self.compute(id, hint, overlay);
        self.in_progress.remove(&id);
        self.memo.insert(id, ty.clone());
        ty
    }

    fn compute(&mut self, id: SchemaId, hint: &str, overlay: Option<&FieldOverlay>) -> RustType {
        let node = self.nodes[id].clone();
        let types = node.allowed();
        let choices_null = node
            .choices
            .as_ref()
            .is_some_and(|c| c.iter().any(Value::is_null));
        let nullable = types.names(JsonType::Null) && (node.choices.is_none() || choices_null);
        let base = types.without_null();
        let ty = if types.is_any() {
            match self.string_choices(id, hint, overlay, base) {
                Some(ty) => ty,
                None => return self.combinators_type(&node, hint, overlay),
            }
        } else if base.is_empty() {
            return RustType::Json;
        } else {
            match self.single(id, base, hint, overlay) {
                Some(ty) => ty,
                None => self.union_of_types(&node, base, hint, overlay),
            }
        };
        if nullable && ty != RustType::Json {
            RustType::Nullable(Box::new(ty))
        } else {
            ty
        }
    }

    /// The type of a node that allows one JSON type (`number` counting `integer` in it).
    fn single(
        &mut self,
        id: SchemaId,
        base: Types,
        hint: &str,
        overlay: Option<&FieldOverlay>,
    ) -> Option<RustType> {
        let node = self.nodes[id].clone();
        Some(if base == Types::STRING {
            if let Some(ty) = self.string_choices(id, hint, overlay, base) {
                ty
            } else if node.media.is_some() {
                RustType::Media
            } else {
                RustType::String
            }
        } else if base == Types::INTEGER {
            match self.integer_choices(id, hint, overlay) {
                Some(ty) => ty,
                None => RustType::Integer,
            }
        } else if base == Types::NUMBER || base == Types::NUMBER.with(Types::INTEGER) {
            RustType::Number
        } else if base == Types::BOOLEAN {
            RustType::Boolean
        } else if base == Types::ARRAY {
            self.array(&node, hint, overlay)
        } else if base == Types::OBJECT {
            self.object(id, hint, overlay)
        } else {
            return None;
        })
    }

    fn array(&mut self, node: &SchemaNode, hint: &str, overlay: Option<&FieldOverlay>) -> RustType {
        match node.items {
            Items::Each(sub) => {
                // A field's overlay names its items' enum (`variants` of a list of choices).
                let item = self.type_of(sub, &format!("{hint}_item"), overlay);
                RustType::Vec(Box::new(item))
            }
            Items::Any | Items::Tuple { .. } => RustType::Vec(Box::new(RustType::Json)),
        }
    }

    fn object(&mut self, id: SchemaId, hint: &str, overlay: Option<&FieldOverlay>) -> RustType {
        if self.nodes[id].properties.is_empty() {
            return self.object_shapes(id, hint, overlay);
        }
        let wanted = match overlay.and_then(|o| o.type_name.as_deref()) {
            Some(name) => self.checked_type_name(name, hint),
            None => naming::type_ident(hint, "Object"),
        };
        let named = overlay.is_some_and(|o| o.type_name.is_some());
        let definition = !named && definition_name(&self.nodes[id].pointer).is_some();
        let name = self.type_name(wanted, "Object", definition.then_some(hint));
        let index = self.structure(id, name, false);
        // A shape written out again (a union at each use, zod's and hand-written OpenAPI's
        // way) is the one type, unless a name was given for it.
        let new = &self.structs[index];
        let same = |s: &Struct| {
            (&s.docs, s.closed, &s.extra) == (&new.docs, new.closed, &new.extra)
                && s.fields.len() == new.fields.len()
                // Each field as the same Rust, whichever schema node it was read from.
                && s.fields.iter().zip(&new.fields).all(|(old, new)| {
                    *new == Field {
                        schema: new.schema,
                        ..old.clone()
                    }
                })
        };
        let earlier = self.structs[..index].iter().position(same);
        match earlier {
            Some(earlier) if !named && !definition => {
                if let Some(copy) = self.structs.pop() {
                    self.type_names.remove(&copy.name);
                }
                RustType::Struct(earlier)
            }
            // A definition names the one type, wherever it was first written out.
            Some(earlier) if definition && !self.named_structs.contains(&earlier) => {
                if let Some(copy) = self.structs.pop() {
                    let old = std::mem::replace(&mut self.structs[earlier].name, copy.name);
                    self.type_names.remove(&old);
                }
                self.named_structs.insert(earlier);
                RustType::Struct(earlier)
            }
            _ => {
                if named || definition {
                    self.named_structs.insert(index);
                }
                RustType::Struct(index)
            }
        }
    }

    /// An object with no properties of its own whose `anyOf`/`oneOf` are object shapes
    /// (`"type": "object"` beside them, OpenAPI's way): their struct or union; else any object.
    fn object_shapes(
        &mut self,
        id: SchemaId,
        hint: &str,
        overlay: Option<&FieldOverlay>,
    ) -> RustType {
        let node = self.nodes[id].clone();
        if node.any_of.is_empty() && node.one_of.is_empty() {
            return RustType::JsonObject;
        }
        let mark = self.mark();
        let ty = match self.combinators_type(&node, hint, overlay) {
            RustType::Nullable(inner) => *inner,
            ty => ty,
        };
        let objects = match &ty {
            RustType::Struct(_) => true,
            RustType::Union(i) => self.unions[*i]
                .variants
                .iter()
                .all(|v| v.json == JsonType::Object),
            _ => false,
        };
        if objects {
            ty
        } else {
            // Any other value could never be valid here: not a type to build it with.
            self.roll_back(mark);
            RustType::JsonObject
        }
    }

    /// A struct of node `id`'s properties.
    fn structure(&mut self, id: SchemaId, name: String, top: bool) -> usize {
        let node = self.nodes[id].clone();
        // Names matching `patternProperties`, and those `unevaluatedProperties` may take, are
        // kept with the other properties, and checked.
        let closed = matches!(node.additional_properties, Some(Sub::Never))
            && node.pattern_properties.is_empty()
            && node.unevaluated_properties.is_none();
        let mut names = FieldNames::new(node.properties.iter().map(|(wire, _)| wire));
        let mut fields = Vec::new();
        for (index, (wire, sub)) in node.properties.iter().enumerate() {
            // Overlay `fields` name the input's own fields, not those of nested objects.
            let overlay = if top {
                self.ctx.src.overlay.fields.get(wire).cloned()
            } else {
                None
            };
            let field = self.field(&node, (index, wire, *sub), overlay.as_ref(), &mut names);
            fields.push(field);
        }
        if top {
            // What the input's branches name (a `oneOf` of object shapes) are fields too,
            // never required as such: a shape's media is then read and sent inline, and each
            // has its setter. Validation is the schema's, which lists them where it does.
            let own = node.properties.len();
            for (index, (wire, definitions)) in
                branch_properties(&self.nodes, id).into_iter().enumerate()
            {
                let overlay = self.ctx.src.overlay.fields.get(&wire).cloned();
                let at = (own + index, &wire, definitions[0]);
                let mut field = self.field(&node, at, overlay.as_ref(), &mut names);
                let types: Vec<RustType> = definitions
                    .iter()
                    .map(|&sub| {
                        let ty = self.type_of(sub, &wire, overlay.as_ref());
                        carrying_files(&self.nodes, ty, &[sub])
                    })
                    .collect();
                if definitions.len() > 1 {
                    // Shapes that each define it (a tag `"mode": {"const": "text"}` in one,
                    // `"image"` in another): their type if they agree on one, else text if each
                    // takes only text, else any JSON; validation checks it either way.
                    let agreed =
                        types.iter().all(|ty| *ty == types[0]) && types[0] != RustType::Json;
                    let text = definitions.iter().all(|&sub| only_text(&self.nodes, sub));
                    field.ty = match (agreed, text) {
                        (true, _) => types[0].clone(),
                        (false, true) => RustType::String,
                        (false, false) => RustType::Json,
                    };
                    field.accessor = None;
                    // The first shape's words would be said of them all.
                    field.docs.clear();
                    let kind = if text { "Text" } else { "A value" };
                    field.docs.push(format!(
                        "Optional. {kind}; each branch that names it says what it takes."
                    ));
                }
                field.docs.push(
                    "Taken where a branch of the input that names it passes (see the model's \
                     schema)."
                        .to_owned(),
                );
                fields.push(field);
            }
        }
        let extra = (!closed).then(|| names.ident("extra", "extra", "_fields"));
        let mut docs = Vec::new();
        if !top {
            // A title that is the type's name (Pydantic's class name) says nothing.
            let title = node.title.as_ref().filter(|t| !names_type(t, &name));
            for text in [title, node.description.as_ref()].into_iter().flatten() {
                push_doc(&mut docs, &crate::emit::schema_text(text));
            }
        }
        self.structs.push(Struct {
            name,
            schema: id,
            docs,
            fields,
            closed,
            extra,
        });
        self.structs.len() - 1
    }

    /// Property `wire` (the `index`th) of the struct of `node`: its Rust names, type, default
    /// and docs.
    fn field(
        &mut self,
        node: &SchemaNode,
        (index, wire, sub): (usize, &String, Sub),
        overlay: Option<&FieldOverlay>,
        names: &mut FieldNames,
    ) -> Field {
        let natural = field_ident(index, wire);
        let ident = names.ident(wire, &natural, "_");
        if ident != natural {
            let pointer = format!("{}/properties/{}", node.pointer, escape(wire));
            self.ctx.warn(
                WarningKind::NameClash,
                &pointer,
                format!(
                    "property {wire:?} reads as `{natural}`, as another property does, so it is \
                     `{ident}` in Rust (a name in ASCII keeps its own; else the first does): \
                     only that rule tells them apart"
                ),
            );
        }
        let made = (self.structs.len(), self.enums.len(), self.unions.len());
        let outer = std::mem::replace(&mut self.overlay_field, overlay.map(|_| wire.clone()));
        let ty = self.type_of(sub, wire, overlay);
        self.overlay_field = outer;
        // The struct's `allOf` members (a `$ref` is one) may define the property again.
        let mut definitions = vec![sub];
        definitions.extend(
            certain(&self.nodes, &node.all_of)
                .into_iter()
                .filter_map(|member| property(&self.nodes[member], wire)),
        );
        let ty = carrying_files(&self.nodes, ty, &definitions);
        if let Some(overlay) = overlay {
            self.check_field_overlay(wire, &ty, overlay);
            self.check_shared_overlay(wire, &ty, overlay, made);
        }
        let required = node.required.contains(wire);
        let fixed = required
            .then(|| fixed_text(&self.nodes, &definitions))
            .flatten();
        if let (Some(value), RustType::Enum(i), None) =
            (&fixed, &ty, overlay.and_then(|o| o.type_name.as_ref()))
        {
            self.name_by_value(*i, value, wire);
        }
        let field_node = match sub {
            Sub::Node(i) => Some(self.nodes[i].clone()),
            _ => None,
        };
        let default = field_node.as_ref().and_then(|n| self.usable_default(n));
        if required && let Some(n) = &field_node {
            self.warn_required_default(n, wire);
        }
        let setter = names.method(format!("with_{}", ident.trim_end_matches('_')));
        let accessor = (!required && default.is_some() && accessor_type(&ty))
            .then(|| ident.clone())
            .filter(|name| names.methods.insert(name.clone()));
        let mut docs = self.field_docs(field_node.as_ref(), &ty, required, default.as_ref());
        let needs = needs_with(node, wire);
        if let (false, Some(facts)) = (needs.is_empty(), docs.last_mut()) {
            facts.push_str(&format!(" Given with {}.", needs.join(", ")));
        }
        Field {
            wire: wire.clone(),
            ident,
            setter,
            accessor,
            schema: sub,
            docs,
            ty,
            required,
            default,
            fixed,
        }
    }

    /// An overlay's `type_name`, `variants` and `aliases` of field `wire` must have something
    /// to name: they were silently dropped for a field of another type.
    fn check_field_overlay(&mut self, wire: &str, ty: &RustType, overlay: &FieldOverlay) {
        let named = named_type(ty);
        let (choices, union) = (
            matches!(named, RustType::Enum(_)),
            matches!(named, RustType::Union(_)),
        );
        let own_type = choices || union || matches!(named, RustType::Struct(_));
        let checks = [
            (
                "type_name",
                overlay.type_name.is_some(),
                own_type,
                format!("`{wire}` has no struct, enum or union of its own to name"),
            ),
            (
                "variants",
                !overlay.variants.is_empty(),
                choices || union,
                format!("`{wire}` is neither a field of choices nor a union: no variants to name"),
            ),
            (
                "aliases",
                !overlay.aliases.is_empty(),
                choices || union,
                format!("`{wire}` is not a field of choices: it takes no aliases"),
            ),
        ];
        for (key, given, fits, problem) in checks {
            if given && !fits {
                let at = format!("/fields/{}/{key}", escape(wire));
                self.ctx.overlay_err(&at, problem);
            }
        }
    }

    /// An overlay of field `wire` whose type another field made first (`made`: how many of
    /// each kind there were before this field's) cannot name it again: its `type_name`,
    /// `variants` and `aliases` must be what the type has, or they would be silently dropped.
    fn check_shared_overlay(
        &mut self,
        wire: &str,
        ty: &RustType,
        overlay: &FieldOverlay,
        (structs, enums, unions): (usize, usize, usize),
    ) {
        let named = named_type(ty);
        // The type's name, and what each wire value or tag is named and aliased as.
        let (name, variants): (&str, Vec<VariantNaming<'_>>) = match named {
            RustType::Struct(i) if *i < structs => (&self.structs[*i].name, Vec::new()),
            RustType::Enum(i) if *i < enums => {
                let e = &self.enums[*i];
                let variants = e.variants.iter();
                (&e.name, variants.map(naming).collect())
            }
            RustType::Union(i) if *i < unions => {
                let u = &self.unions[*i];
                let shapes = u.variants.iter().filter_map(|v| {
                    v.tag
                        .as_deref()
                        .map(|tag| (tag, v.name.as_str(), None::<&str>))
                });
                let choices = u.variants.iter().filter_map(|v| match v.ty {
                    RustType::Enum(e) => Some(&self.enums[e].variants),
                    _ => None,
                });
                let choices = choices.flatten().map(naming);
                (&u.name, shapes.chain(choices).collect())
            }
            _ => return,
        };
        let named_so = |wire: &str, name: &str| variants.iter().any(|v| v.0 == wire && v.1 == name);
        let aliased_so =
            |wire: &str, alias: &str| variants.iter().any(|v| v.0 == wire && v.2 == Some(alias));
        let agrees = overlay
            .type_name
            .as_deref()
            .is_none_or(|wanted| wanted == name)
            && overlay.variants.iter().all(|(w, n)| named_so(w, n))
            && overlay.aliases.iter().all(|(w, a)| aliased_so(w, a));
        if !agrees {
            let problem = format!(
                "`{wire}` is of type `{name}`, which another field made first (a `$ref` to one \
                 definition, or the same shape written out again): name it, its variants and \
                 aliases in the overlay of that field, once"
            );
            self.ctx
                .overlay_err(&format!("/fields/{}", escape(wire)), problem);
        }
    }

    /// Names the enum `index` of a required field `wire` that allows one text `value` (a
    /// shape's tag, `"type": {"enum": ["txt"]}`) after the value too: the tags of a union's
    /// shapes would be `Type`, `TypeChoice`, `TypeChoice2`. Only an enum of the field's own,
    /// and not a value a type name cannot start with (`1:1`).
    fn name_by_value(&mut self, index: usize, value: &str, wire: &str) {
        let e = &self.enums[index];
        let own = matches!(&e.owner, ChoicesOwner::Field(field) if field == wire);
        if !own || e.variants.len() != 1 || !value.starts_with(char::is_alphabetic) {
            return;
        }
        let wanted = naming::type_ident(&format!("{value}_{wire}"), "Choice");
        // Named so already: an enum shared by shapes written out again.
        if e.name == wanted {
            return;
        }
        let old = e.name.clone();
        let name = self.type_name(wanted, "Choice", None);
        self.type_names.remove(&old);
        self.enums[index].name = name;
    }

    /// The node's default read as its type; one that does not fit is shown in docs but not
    /// used (with a warning).
    fn usable_default(&mut self, node: &SchemaNode) -> Option<Value> {
        let value = node.default.as_ref()?;
        if value.is_null() {
            // The API's shape (flux-2 flash's `seed`): "no value" to whoever wrote it, but an
            // input copied with it is refused (QA repro41 L16); it was passed over unsaid.
            if node
                .types
                .is_some_and(|types| !types.allows(JsonType::Null))
            {
                self.ctx.warn(
                    WarningKind::DefaultMismatch,
                    &format!("{}/default", node.pointer),
                    "the default is null, which `type` refuses: an input that gives it is \
                     refused; if the API takes null, add it to `type` with an overlay `patch`",
                );
            }
            return None;
        }
        match defaults::read(&self.nodes, node, value) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.ctx.warn(
                    WarningKind::DefaultMismatch,
                    &format!("{}/default", node.pointer),
                    format!("{problem}; it is shown but not used"),
                );
                None
            }
        }
    }

    /// A required field's default never applies: callers must send the field.
    fn warn_required_default(&mut self, node: &SchemaNode, wire: &str) {
        if let Some(default) = node.default.as_ref().filter(|d| !d.is_null()) {
            self.ctx.warn(
                WarningKind::RequiredWithDefault,
                &format!("{}/default", node.pointer),
                format!("`{wire}` is required and has a default ({default}): the default never applies, as callers must send the field; drop `required` or the default with an overlay `patch`"),
            );
        }
    }

    /// A choice enum of strings: on a string field, of its string choices (others can never
    /// be valid); on a field of any type, when every choice is a string.
    fn string_choices(
        &mut self,
        id: SchemaId,
        hint: &str,
        overlay: Option<&FieldOverlay>,
        base: Types,
    ) -> Option<RustType> {
        let node = &self.nodes[id];
        let only_strings = base == Types::STRING;
        let values: Vec<&Value> = node
            .choices
            .as_ref()?
            .iter()
            .filter(|v| !v.is_null() && (v.is_string() || !only_strings))
            .collect();
        if values.is_empty()
            || !values.iter().all(|v| v.is_string())
            || !base.allows(JsonType::String)
        {
            return None;
        }
        let wires = values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        self.choice_enum(id, hint, overlay, EnumRepr::String, wires)
    }

    /// A choice enum of integers, when the overlay names it or its variants and every choice
    /// fits an `i64`. Otherwise integer choices are an integer, its choices checked as its
    /// bounds are: `with_duration(5)` whether the schema says `enum` or a range, as siblings
    /// differ (QA repro44 F1: `Duration::Five` here, an integer there), and a choice added to
    /// the catalog never changes the field's type.
    fn integer_choices(
        &mut self,
        id: SchemaId,
        hint: &str,
        overlay: Option<&FieldOverlay>,
    ) -> Option<RustType> {
        let node = &self.nodes[id];
        if !overlay.is_some_and(|o| o.type_name.is_some() || !o.variants.is_empty()) {
            return None;
        }
        let values: Vec<&Value> = node
            .choices
            .as_ref()?
            .iter()
            .filter(|v| !v.is_null())
            .collect();
        let wires: Option<Vec<String>> = values
            .iter()
            .map(|v| v.as_i64().map(|n| n.to_string()))
            .collect();
        let wires = wires.filter(|w| !w.is_empty())?;
        self.choice_enum(id, hint, overlay, EnumRepr::Integer, wires)
    }

    fn choice_enum(
        &mut self,
        id: SchemaId,
        hint: &str,
        overlay: Option<&FieldOverlay>,
        repr: EnumRepr,
        wires: Vec<String>,
    ) -> Option<RustType> {
        let mut wires_unique: Vec<String> = Vec::new();
        for wire in wires {
            if !wires_unique.contains(&wire) {
                wires_unique.push(wire);
            }
        }
        let node = self.nodes[id].clone();
        let e = choices::build(self, &node, hint, overlay, repr, wires_unique)?;
        // The same choices of a field of the same name, written out again (in a shape at each
        // use of a union): the one enum, unless a name was given for it.
        let named = overlay.is_some_and(|o| o.type_name.is_some())
            || definition_name(&node.pointer).is_some();
        let same = |o: &Enum| {
            (&o.owner, &o.docs, o.repr, &o.variants) == (&e.owner, &e.docs, e.repr, &e.variants)
        };
        let index = match self.enums.iter().position(same) {
            Some(earlier) if !named => {
                self.type_names.remove(&e.name);
                earlier
            }
            _ => {
                self.enums.push(e);
                self.enums.len() - 1
            }
        };
        self.nodes[id].choice_enum = Some(index);
        Some(RustType::Enum(index))
    }

    /// A node with no `type`: the type its combinators give, else JSON.
    fn combinators_type(
        &mut self,
        node: &SchemaNode,
        hint: &str,
        overlay: Option<&FieldOverlay>,
    ) -> RustType {
        if let Some(ty) = node
            .all_of
            .clone()
            .into_iter()
            .map(|sub| self.type_of(sub, hint, overlay))
            .find(|ty| *ty != RustType::Json)
        {
            return ty;
        }
        let alternatives = node.alternatives();
        if alternatives.is_empty() {
            return RustType::Json;
        }
        // `[X, {"type": "null"}]`: a nullable X.
        let non_null = non_null_alternatives(&self.nodes, alternatives);
        let nullable = non_null.len() < alternatives.len();
        let ty = match non_null.as_slice() {
            [] => return RustType::Json,
            [one] => self.type_of(*one, hint, overlay),
            many => self.union_of_alternatives(many, (hint, &node.pointer), overlay),
        };
        match ty {
            RustType::Json => RustType::Json,
            RustType::Nullable(inner) if nullable => RustType::Nullable(inner),
            ty if nullable => RustType::Nullable(Box::new(ty)),
            ty => ty,
        }
    }

    /// `anyOf`/`oneOf` whose alternatives each allow one distinct JSON type, or several object
    /// shapes a tag tells apart: a union.
    fn union_of_alternatives(
        &mut self,
        alternatives: &[Sub],
        (hint, at): (&str, &str),
        overlay: Option<&FieldOverlay>,
    ) -> RustType {
        let mut seen = Types::NONE;
        let mut kinds = Vec::new();
        for sub in alternatives {
            let Sub::Node(i) = sub else {
                return RustType::Json;
            };
            // Its own types and those of what it applies for certain (a `$ref`'s target).
            let base = certain(&self.nodes, &[Sub::Node(*i)])
                .iter()
                .fold(Types::ANY, |base, id| base.and(self.nodes[*id].allowed()));
            let Some(json) = single_type(base) else {
                return RustType::Json;
            };
            // `integer` lies inside `number`: the two cannot be told apart from the JSON.
            // Objects are told apart by a tag, looked for below.
            let overlap = (json != JsonType::Object && seen.allows(json))
                || (json == JsonType::Number && seen.names(JsonType::Integer));
            if overlap {
                return RustType::Json;
            }
            seen = seen.with(Types::of(json));
            kinds.push((json, *sub));
        }
        let objects: Vec<Sub> = kinds
            .iter()
            .filter(|(json, _)| *json == JsonType::Object)
            .map(|(_, sub)| *sub)
            .collect();
        let tag = match objects.len() {
            0 | 1 => None,
            _ => match self.tag_of(&objects) {
                Some(tag) => Some(tag),
                None => return RustType::Json,
            },
        };
        // Giving up after some shapes are typed takes their types back: they would be
        // generated and used nowhere (a base the shapes extend, a shape's own enums).
        let mark = self.mark();
        // The union takes the field's name before its shapes are named after it (a shape
        // taking `Mode` would leave the union `ModeValue`).
        let (name, definition) = self.union_name(hint, at, overlay);
        let mut variants = Vec::new();
        let mut tag_values = tag.iter().flat_map(|(_, values)| values.iter());
        for (json, sub) in kinds {
            let value = match json {
                JsonType::Object if tag.is_some() => tag_values.next().cloned(),
                _ => None,
            };
            let shape_hint = self.shape_hint(sub, hint, value.as_deref());
            // The overlay's names and aliases of choices are for the branch of choices (fal's
            // `image_size`: a shape or one of `square_hd`, `landscape_4_3`, ...).
            let choices = match json {
                JsonType::Object => None,
                _ => self.choices_overlay(sub, overlay),
            };
            let ty = self.type_of(sub, &shape_hint, choices.as_ref());
            if matches!(ty, RustType::Json | RustType::Nullable(_)) {
                self.roll_back(mark);
                return RustType::Json;
            }
            // A shape is its variant's type only if that type is the shape, tag fixed: one that
            // extends a base (`allOf`) is typed as the base, which has neither its own fields
            // nor its tag (a `Circle(Base)` would build a rectangle as well).
            if let (Some((property, _)), Some(value)) = (&tag, &value) {
                let is_shape = match &ty {
                    RustType::Struct(i) => self.structs[*i]
                        .fields
                        .iter()
                        .any(|f| &f.wire == property && f.fixed.as_ref() == Some(value)),
                    _ => false,
                };
                if !is_shape {
                    self.roll_back(mark);
                    return RustType::Json;
                }
            }
            variants.push((json, ty, value));
        }
        self.check_union_overlay(hint, &variants, overlay, mark.enums);
        let tag = tag.map(|(property, _)| property);
        self.union((name, definition), (hint, at), variants, (tag, overlay))
    }

    /// The name of the union of field `hint` at pointer `at`: the overlay's `type_name`, its
    /// definition's, else one made from the field; and whether a definition named it.
    fn union_name(
        &mut self,
        hint: &str,
        at: &str,
        overlay: Option<&FieldOverlay>,
    ) -> (String, bool) {
        match overlay.and_then(|o| o.type_name.as_deref()) {
            Some(name) => {
                let name = self.checked_type_name(name, hint);
                (self.type_name(name, "Value", None), false)
            }
            None => {
                let definition = definition_name(at).is_some();
                let wanted = naming::type_ident(hint, "Value");
                let name = self.type_name(wanted, "Value", definition.then_some(hint));
                (name, definition)
            }
        }
    }

    /// The part of a union's overlay for its alternative `sub` when that is a set of choices:
    /// the `variants` and `aliases` of its values (a union's other `variants` name shapes).
    fn choices_overlay(&self, sub: Sub, overlay: Option<&FieldOverlay>) -> Option<FieldOverlay> {
        let overlay = overlay?;
        let wires: Vec<String> = certain(&self.nodes, &[sub])
            .into_iter()
            .filter_map(|id| self.nodes[id].choices.as_ref())
            .flatten()
            .filter_map(choices::wire)
            .collect();
        let of_choices = |map: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            map.iter()
                .filter(|(wire, _)| wires.contains(wire))
                .map(|(wire, name)| (wire.clone(), name.clone()))
                .collect()
        };
        let (variants, aliases) = (of_choices(&overlay.variants), of_choices(&overlay.aliases));
        (!variants.is_empty() || !aliases.is_empty()).then(|| FieldOverlay {
            variants,
            aliases,
            ..FieldOverlay::default()
        })
    }

    /// An overlay's `variants` of a union name its shapes by tag and the values of its choices;
    /// `aliases` are for those values. Each must name something the union has, as it has it:
    /// choices typed before the union (`made`: how many enums there were), by another field,
    /// keep their names.
    fn check_union_overlay(
        &mut self,
        hint: &str,
        variants: &[(JsonType, RustType, Option<String>)],
        overlay: Option<&FieldOverlay>,
        made: usize,
    ) {
        let Some(overlay) = overlay else {
            return;
        };
        let field_at = format!("/fields/{}", escape(hint));
        // The values of the union's choices: each with its variant's name and alias, and
        // whether the union made it (the enum then took the overlay, or refused it itself).
        let choices: Vec<(VariantNaming<'_>, bool)> = variants
            .iter()
            .filter_map(|(_, ty, _)| match ty {
                RustType::Enum(i) => Some((&self.enums[*i], *i >= made)),
                _ => None,
            })
            .flat_map(|(e, own)| e.variants.iter().map(move |v| (v, own)))
            .map(|(v, own)| (naming(v), own))
            .collect();
        let first = "as another field made it first: name it in that field's overlay";
        let mut problems = Vec::new();
        for (key, name) in &overlay.variants {
            if variants.iter().any(|(_, _, tag)| tag.as_ref() == Some(key)) {
                if !is_type_ident(name) {
                    problems.push(("variants", format!("`{name}` is not a Rust variant name (ASCII, starting with an upper-case letter)")));
                }
                continue;
            }
            match choices.iter().find(|(c, _)| c.0 == key) {
                Some(((_, made_name, _), false)) if made_name != name => problems.push((
                    "variants",
                    format!("the choice `{key}` of `{hint}` is `{made_name}`, {first}"),
                )),
                Some(_) => {}
                None => problems.push((
                    "variants",
                    format!(
                        "`{key}` is neither the tag of a shape of `{hint}` nor one of its \
                         choices: a union's `variants` name its object shapes by their tag's \
                         value and its choices by value"
                    ),
                )),
            }
        }
        for (key, alias) in &overlay.aliases {
            match choices.iter().find(|(c, _)| c.0 == key) {
                Some(((_, _, made_alias), false)) if *made_alias != Some(alias.as_str()) => {
                    problems.push((
                        "aliases",
                        format!("the choice `{key}` of `{hint}` has no alias `{alias}`, {first}"),
                    ));
                }
                Some(_) => {}
                None => problems.push((
                    "aliases",
                    format!(
                        "`{key}` is not one of the choices of `{hint}`: a union's `aliases` are \
                         for the values of its choices"
                    ),
                )),
            }
        }
        for (key, problem) in problems {
            self.ctx.overlay_err(&format!("{field_at}/{key}"), problem);
        }
    }

    /// Where typing stands: what [`Self::roll_back`] returns to.
    fn mark(&self) -> Mark {
        Mark {
            structs: self.structs.len(),
            enums: self.enums.len(),
            unions: self.unions.len(),
            names: (
                self.structs.iter().map(|s| s.name.clone()).collect(),
                self.enums.iter().map(|e| e.name.clone()).collect(),
                self.unions.iter().map(|u| u.name.clone()).collect(),
            ),
            defined_unions: self.defined_unions.clone(),
            named_structs: self.named_structs.clone(),
            type_names: self.type_names.clone(),
            definitions: self.definitions.clone(),
            memo: self.memo.clone(),
        }
    }

    /// Forgets every type made since `mark` (warnings stay: they are the schema's).
    fn roll_back(&mut self, mark: Mark) {
        self.structs.truncate(mark.structs);
        self.enums.truncate(mark.enums);
        self.unions.truncate(mark.unions);
        self.type_names = mark.type_names;
        self.definitions = mark.definitions;
        self.defined_unions = mark.defined_unions;
        self.named_structs = mark.named_structs;
        let (structs, enums, unions) = mark.names;
        for (s, name) in self.structs.iter_mut().zip(structs) {
            s.name = name;
        }
        for (e, name) in self.enums.iter_mut().zip(enums) {
            e.name = name;
        }
        for (u, name) in self.unions.iter_mut().zip(unions) {
            u.name = name;
        }
        self.memo = mark.memo;
        for node in &mut self.nodes {
            if node.choice_enum.is_some_and(|i| i >= mark.enums) {
                node.choice_enum = None;
            }
        }
    }

    /// What an alternative of union `hint` is named after when it is not a definition: its
    /// title when that is a name (`"Text Part"`), else for a tagged shape its tag and the
    /// field (`crop` of `operation`: `CropOperation`), else the field.
    fn shape_hint(&self, sub: Sub, hint: &str, tag: Option<&str>) -> String {
        let title = match sub {
            Sub::Node(id) => self.nodes[id]
                .title
                .as_deref()
                .filter(|t| naming::is_name(t)),
            _ => None,
        };
        match (title, tag) {
            (Some(title), _) => title.to_owned(),
            // A number reads after the field (`OddValues2x`), as a type name cannot start
            // with one; spelled as its variant is (`1:1`: `V1x1(Odd1x1)`).
            (None, Some(tag)) if tag.starts_with(|c: char| c.is_ascii_digit()) => {
                let spelled = naming::variant_ident(tag, 0);
                format!("{hint}_{}", spelled.trim_start_matches('V'))
            }
            (None, Some(tag)) => format!("{tag}_{hint}"),
            (None, None) => hint.to_owned(),
        }
    }

    /// The property that tells object shapes apart, and its value in each: one every shape
    /// requires and fixes to a text of its own (`const`, or an `enum` of one), as a
    /// discriminated union's `type` is. Without one, which shape an object is would be a guess.
    fn tag_of(&self, objects: &[Sub]) -> Option<(String, Vec<String>)> {
        let shapes: Vec<Vec<SchemaId>> = objects
            .iter()
            .map(|sub| certain(&self.nodes, &[*sub]))
            .collect();
        let first = shapes.first()?;
        let names = first
            .iter()
            .flat_map(|id| self.nodes[*id].properties.iter().map(|(name, _)| name));
        for name in names {
            let values: Option<Vec<String>> = shapes
                .iter()
                .map(|shape| self.tag_value(shape, name))
                .collect();
            let Some(values) = values else {
                continue;
            };
            let distinct = values
                .iter()
                .enumerate()
                .all(|(i, value)| !values[..i].contains(value));
            if distinct {
                return Some((name.clone(), values));
            }
        }
        None
    }

    /// The text a shape (the nodes that apply to it for certain) fixes its required property
    /// `name` to, if it does.
    fn tag_value(&self, shape: &[SchemaId], name: &str) -> Option<String> {
        let nodes = || shape.iter().map(|id| &self.nodes[*id]);
        if !nodes().any(|node| node.required.iter().any(|r| r == name)) {
            return None;
        }
        let schemas: Vec<Sub> = nodes()
            .flat_map(|node| node.properties.iter())
            .filter(|(property, _)| property == name)
            .map(|(_, sub)| *sub)
            .collect();
        fixed_text(&self.nodes, &schemas)
    }

    /// A `type` array of several types (`["integer", "string"]`): a union of the base types.
    fn union_of_types(
        &mut self,
        node: &SchemaNode,
        base: Types,
        hint: &str,
        overlay: Option<&FieldOverlay>,
    ) -> RustType {
        if node.choices.is_some() || node.media.is_some() {
            return RustType::Json;
        }
        let (name, definition) = self.union_name(hint, &node.pointer, overlay);
        let mut variants = Vec::new();
        for json in base.iter() {
            if json == JsonType::Integer && base.names(JsonType::Number) {
                continue;
            }
            let ty = match json {
                JsonType::Boolean => RustType::Boolean,
                JsonType::Integer => RustType::Integer,
                JsonType::Number => RustType::Number,
                JsonType::String => RustType::String,
                JsonType::Array => self.array(node, hint, None),
                // Its properties apply only when it is an object: kept as JSON, checked.
                JsonType::Object => RustType::JsonObject,
                JsonType::Null => continue,
            };
            variants.push((json, ty, None));
        }
        self.check_union_overlay(hint, &variants, overlay, self.enums.len());
        self.union(
            (name, definition),
            (hint, &node.pointer),
            variants,
            (None, overlay),
        )
    }

    /// A union named `name` of `variants` (a JSON type, its Rust type, and for a tagged shape,
    /// its tag's value), told apart by `tag` between object shapes; for field `hint` at
    /// pointer `at`. One that another field of the model has already, shapes and all (a
    /// Pydantic union written out at each use), is that one's type: the name is given back.
    fn union(
        &mut self,
        (name, definition): (String, bool),
        (hint, at): (&str, &str),
        variants: Vec<(JsonType, RustType, Option<String>)>,
        (tag, overlay): (Option<String>, Option<&FieldOverlay>),
    ) -> RustType {
        let empty = BTreeMap::new();
        let given = overlay.map_or(&empty, |o| &o.variants);
        // Only unions of shapes are shared (`integer or text` of `seed` is not `strength`'s),
        // and not one the overlay names.
        let shapes = variants
            .iter()
            .any(|(_, ty, _)| matches!(ty, RustType::Struct(_)))
            && overlay.is_none_or(|o| o.type_name.is_none() && o.variants.is_empty());
        let same = |u: &Union| {
            shapes
                && u.tag == tag
                && u.variants.len() == variants.len()
                && u.variants
                    .iter()
                    .zip(&variants)
                    .all(|(v, (json, ty, value))| v.json == *json && v.ty == *ty && v.tag == *value)
        };
        // Two definitions are two types, as the schema names two (`UA` and `UB` alike).
        let shared = self
            .unions
            .iter()
            .position(same)
            .filter(|index| !(definition && self.defined_unions.contains(index)));
        if let Some(index) = shared {
            // A definition names the one type, wherever it was first written out.
            if definition && self.defined_unions.insert(index) {
                let old = std::mem::replace(&mut self.unions[index].name, name);
                self.type_names.remove(&old);
            } else {
                self.type_names.remove(&name);
            }
            return RustType::Union(index);
        }
        let mut taken = BTreeSet::new();
        let mut named = Vec::new();
        for (i, (json, ty, value)) in variants.into_iter().enumerate() {
            let natural = match &value {
                Some(value) => match given.get(value) {
                    Some(name) => name.clone(),
                    None => naming::variant_ident(value, i),
                },
                None => variant_name(json).to_owned(),
            };
            let variant = naming::unique(natural.clone(), &mut taken, "Shape");
            if variant != natural && value.as_ref().is_some_and(|v| given.contains_key(v)) {
                self.ctx.overlay_err(
                    &format!("/fields/{}/variants", escape(hint)),
                    format!("variant name `{natural}` is used twice"),
                );
            }
            if let (Some(value), Some(tag), true) = (&value, &tag, variant != natural) {
                self.ctx.warn(
                    WarningKind::DisambiguatedEnum,
                    at,
                    format!(
                        "the shape of `{hint}` whose `{tag}` is {value:?} would be `{natural}`, \
                         which another shape took, so it is `{variant}`; name it in overlay.json \
                         `fields.{hint}.variants`"
                    ),
                );
            }
            named.push(UnionVariant {
                name: variant,
                json,
                ty,
                tag: value,
            });
        }
        let others: Vec<&str> = named
            .iter()
            .filter(|v| v.tag.is_none())
            .map(|v| type_words(v.json))
            .collect();
        let others = others.join(" or ");
        let docs = match &tag {
            Some(tag) if others.is_empty() => {
                format!("One of several object shapes, told apart by `{tag}`.")
            }
            Some(tag) => format!(
                "One of several object shapes, told apart by `{tag}`, or a value that {others}."
            ),
            None => format!("A value that {others}."),
        };
        if definition {
            self.defined_unions.insert(self.unions.len());
        }
        self.unions.push(Union {
            name,
            docs: vec![docs],
            tag,
            variants: named,
        });
        RustType::Union(self.unions.len() - 1)
    }

    pub(crate) fn checked_type_name(&mut self, name: &str, field: &str) -> String {
        if is_type_ident(name) && !self.type_names.contains(name) {
            return name.to_owned();
        }
        let problem = if !is_type_ident(name) {
            format!("`{name}` is not a Rust type name (ASCII, starting with an upper-case letter)")
        } else if naming::RESERVED_TYPE_NAMES.contains(&name) {
            format!("`{name}` is a name the generated code uses; choose another")
        } else {
            format!("type name `{name}` is already used in this model (by a type or a definition)")
        };
        // The overlay's field, also when the type is a definition's it refers to.
        let field = self
            .overlay_field
            .clone()
            .unwrap_or_else(|| field.to_owned());
        self.ctx
            .overlay_err(&format!("/fields/{}/type_name", escape(&field)), problem);
        naming::type_ident(name, "Type")
    }

    /// A field's docs: its title and description (or, with none, what it is), then its facts.
    fn field_docs(
        &self,
        node: Option<&SchemaNode>,
        ty: &RustType,
        required: bool,
        default: Option<&Value>,
    ) -> Vec<String> {
        let schema_text = crate::emit::schema_text;
        let mut docs = Vec::new();
        if let Some(node) = node {
            // A title that only repeats the property's name says nothing.
            if let Some(title) = node
                .title
                .as_ref()
                .filter(|t| !node.pointer.ends_with(&format!("/{}", escape(t))))
            {
                docs.push(format!("{}.", schema_text(title.trim_end_matches('.'))));
            }
            if let Some(description) = &node.description {
                docs.push(schema_text(description));
            }
        }
        let mut facts = vec![if required { "Required." } else { "Optional." }.to_owned()];
        match node {
            Some(node) => facts.extend(describe(self, node, ty)),
            None => facts.push("Any JSON value.".to_owned()),
        }
        // A required field's default never applies: it is an example, as `describe` says, and
        // an empty one shows nothing (QA repro44 F2).
        match default {
            Some(default) if !required => {
                facts.push(format!("Default: {}.", self.shown(ty, default)));
            }
            Some(example) if !is_blank(example) => {
                facts.push(format!("Example: {}.", self.shown(ty, example)));
            }
            _ => {}
        }
        docs.push(facts.join(" "));
        docs
    }

    /// A default as docs show it: the enum variant for a choice.
    fn shown(&self, ty: &RustType, default: &Value) -> String {
        let inner = match ty {
            RustType::Nullable(inner) => inner,
            other => other,
        };
        if let RustType::Enum(i) = inner {
            let e = &self.enums[*i];
            let wire = match default {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(v) = e.variants.iter().find(|v| v.wire == wire) {
                let link = TypeLink::Enum(*i).marker();
                return format!("[`{link}::{}`] (`{wire}`)", v.name);
            }
        }
        match default {
            Value::String(s) => format!("`{s:?}`"),
            other => format!("`{other}`"),
        }
    }
}

/// The type an overlay of a field of type `ty` names: its own, or what it is a list or an
/// `Option` of.
fn named_type(mut ty: &RustType) -> &RustType {
    while let RustType::Nullable(inner) | RustType::Vec(inner) = ty {
        ty = inner;
    }
    ty
}

/// The natural Rust name of the `index`th property, `wire`.
fn field_ident(index: usize, wire: &str) -> String {
    naming::snake_ident(wire, &format!("field_{}", index + 1))
}

/// Whether a title only names the type it documents (`RoundBrush` for `RoundBrush`).
/// A name made unique by a suffix (`CropObject2` for a second `Crop`) is the title's too.
pub(super) fn names_type(title: &str, type_name: &str) -> bool {
    let named = naming::type_ident(title, "");
    !named.is_empty()
        && type_name.strip_prefix(&named).is_some_and(|rest| {
            let suffix = rest.trim_end_matches(|c: char| c.is_ascii_digit());
            ["", "Object", "Value", "Choice", "Shape"].contains(&suffix)
        })
}

/// The one text the schemas `subs` allow, by a `const` or an `enum` of one (a tag's `"box"`).
fn fixed_text(nodes: &[SchemaNode], subs: &[Sub]) -> Option<String> {
    certain(nodes, subs).into_iter().find_map(|id| {
        let node = &nodes[id];
        match (&node.constant, node.choices.as_deref()) {
            (Some(Value::String(value)), _) | (None, Some([Value::String(value)])) => {
                Some(value.clone())
            }
            _ => None,
        }
    })
}

/// `node` for `/definitions/node`, `/$defs/node` or OpenAPI's `/components/schemas/node`.
pub(super) fn definition_name(pointer: &str) -> Option<String> {
    let rest = pointer
        .strip_prefix("/definitions/")
        .or_else(|| pointer.strip_prefix("/$defs/"))
        .or_else(|| pointer.strip_prefix("/components/schemas/"))?;
    (!rest.contains('/')).then(|| runcomfy_vocab::pointer::unescape(rest))?
}

/// The nodes `subs` are and those they apply to the same value for certain: their `allOf`
/// members (a `$ref` is one) and the `X` of `anyOf`/`oneOf` `[X, {"type": "null"}]` for a value
/// other than null, transitively, each once.
fn certain(nodes: &[SchemaNode], subs: &[Sub]) -> Vec<SchemaId> {
    let mut out: Vec<SchemaId> = Vec::new();
    let mut stack: Vec<Sub> = subs.iter().rev().copied().collect();
    while let Some(sub) = stack.pop() {
        let Sub::Node(id) = sub else {
            continue;
        };
        if out.contains(&id) {
            continue;
        }
        out.push(id);
        let node = &nodes[id];
        stack.extend(node.all_of.iter().rev());
        for alternatives in [&node.any_of, &node.one_of] {
            if let [one] = non_null_alternatives(nodes, alternatives).as_slice() {
                stack.push(*one);
            }
        }
    }
    out
}

/// The properties only the branches of node `id` name, each with every definition of it, in
/// schema order: those of its `anyOf`, `oneOf`, `if`/`then`/`else` and `dependentSchemas` (and
/// of their own, and of its `allOf` members'), not `not`'s, that neither it nor an `allOf`
/// member lists. The runtime catalog's `Schema::branch_properties`.
fn branch_properties(nodes: &[SchemaNode], id: SchemaId) -> Vec<(String, Vec<Sub>)> {
    let members: Vec<SchemaId> = certain_members(nodes, id);
    let own = |name: &str| members.iter().any(|&m| property(&nodes[m], name).is_some());
    let mut stack: Vec<Sub> = Vec::new();
    for &member in members.iter().rev() {
        stack.extend(nodes[member].branches().into_iter().rev());
    }
    let mut seen: Vec<SchemaId> = Vec::new();
    let mut out: Vec<(String, Vec<Sub>)> = Vec::new();
    while let Some(sub) = stack.pop() {
        let Sub::Node(branch) = sub else {
            continue;
        };
        if seen.contains(&branch) {
            continue;
        }
        seen.push(branch);
        let node = &nodes[branch];
        for (name, definition) in &node.properties {
            if own(name) {
                continue;
            }
            match out.iter_mut().find(|(known, _)| known == name) {
                Some((_, definitions)) => definitions.push(*definition),
                None => out.push((name.clone(), vec![*definition])),
            }
        }
        let mut next = node.all_of.clone();
        next.extend(node.branches());
        stack.extend(next.into_iter().rev());
    }
    out
}

/// Whether a value of `sub` can only be text: its type says so, or its constant or every
/// choice is text.
fn only_text(nodes: &[SchemaNode], sub: Sub) -> bool {
    let Sub::Node(id) = sub else {
        return false;
    };
    let node = &nodes[id];
    let values: Vec<&Value> = node
        .constant
        .iter()
        .chain(node.choices.iter().flatten())
        .collect();
    node.allowed() == Types::STRING || (!values.is_empty() && values.iter().all(|v| v.is_string()))
}

/// Node `id` and its `allOf` members (a `$ref` is one), transitively, each once.
fn certain_members(nodes: &[SchemaNode], id: SchemaId) -> Vec<SchemaId> {
    let mut out: Vec<SchemaId> = Vec::new();
    let mut stack = vec![Sub::Node(id)];
    while let Some(sub) = stack.pop() {
        if let Sub::Node(member) = sub
            && !out.contains(&member)
        {
            out.push(member);
            stack.extend(nodes[member].all_of.iter().rev());
        }
    }
    out
}

/// Property `name` of a node, if it lists one.
fn property(node: &SchemaNode, name: &str) -> Option<Sub> {
    node.properties
        .iter()
        .find(|(wire, _)| wire == name)
        .map(|(_, sub)| *sub)
}

/// The type of a field whose `definitions` (its schema, and the property's again in the
/// struct's members) may say it holds media files where its own type does not: `Media` (or
/// a list of them) for text or JSON, so a local file is read and sent inline, never its path.
fn carrying_files(nodes: &[SchemaNode], ty: RustType, definitions: &[Sub]) -> RustType {
    let defined = certain(nodes, definitions);
    let media = defined.iter().any(|&id| nodes[id].media.is_some());
    let items: Vec<Sub> = defined
        .iter()
        .filter_map(|&id| match nodes[id].items {
            Items::Each(item) => Some(item),
            _ => None,
        })
        .collect();
    let items_media = certain(nodes, &items)
        .iter()
        .any(|&id| nodes[id].media.is_some());
    let list = defined.iter().any(|&id| {
        nodes[id]
            .types
            .is_some_and(|t| t.without_null() == Types::ARRAY)
    });
    match ty {
        // Any JSON by its own schema, a list of files by another's.
        RustType::Json if list && items_media => RustType::Vec(Box::new(RustType::Media)),
        ty => upgrade(ty, media, items_media),
    }
}

fn upgrade(ty: RustType, media: bool, items_media: bool) -> RustType {
    match ty {
        RustType::String | RustType::Json if media => RustType::Media,
        RustType::Vec(item) if items_media => RustType::Vec(Box::new(upgrade(*item, true, false))),
        RustType::Nullable(inner) => {
            RustType::Nullable(Box::new(upgrade(*inner, media, items_media)))
        }
        ty => ty,
    }
}

/// For a node with no `type` of its own, the one branch its type comes from: the single
/// alternative of `[X, {"type": "null"}]`, or a lone `allOf` entry. Its bounds and media are
/// the field's too, so docs say them.
fn typed_branch<'n>(nodes: &'n [SchemaNode], node: &SchemaNode) -> Option<&'n SchemaNode> {
    if node.types.is_some() {
        return None;
    }
    let alternatives = node.alternatives();
    let branch = match (node.all_of.as_slice(), alternatives.is_empty()) {
        ([], false) => match non_null_alternatives(nodes, alternatives).as_slice() {
            [one] => *one,
            _ => return None,
        },
        ([one], true) => *one,
        _ => return None,
    };
    match branch {
        Sub::Node(i) => nodes.get(i),
        Sub::Any | Sub::Never => None,
    }
}

/// Whether an accessor can return the default of a field of this type.
fn accessor_type(ty: &RustType) -> bool {
    matches!(
        ty,
        RustType::String
            | RustType::Integer
            | RustType::Number
            | RustType::Boolean
            | RustType::Enum(_)
    )
}

fn single_type(types: Types) -> Option<JsonType> {
    let mut iter = types.iter();
    let first = iter.next()?;
    iter.next().is_none().then_some(first)
}

/// A JSON type in words, after "each value".
fn type_words(json: JsonType) -> &'static str {
    match json {
        JsonType::Null => "is `null`",
        JsonType::Boolean => "is `true` or `false`",
        JsonType::Object => "is an object",
        JsonType::Array => "is a list",
        JsonType::Number => "is a number",
        JsonType::Integer => "is a whole number",
        JsonType::String => "is text",
    }
}

fn variant_name(json: JsonType) -> &'static str {
    match json {
        JsonType::Null => "Null",
        JsonType::Boolean => "Boolean",
        JsonType::Object => "Object",
        JsonType::Array => "Array",
        JsonType::Number => "Number",
        JsonType::Integer => "Integer",
        JsonType::String => "String",
    }
}

/// What a value of the node is, in words: its type, bounds and media rules (docs say this
/// when the schema has no text of its own).
fn describe(typer: &Typer<'_, '_>, node: &SchemaNode, ty: &RustType) -> Vec<String> {
    let inner = match ty {
        RustType::Nullable(inner) => inner.as_ref(),
        other => other,
    };
    let branch = typed_branch(&typer.nodes, node);
    let about = branch.unwrap_or(node);
    let media = node.media.as_ref().or(about.media.as_ref()).or_else(|| {
        [node, about].into_iter().find_map(|n| match n.items {
            Items::Each(Sub::Node(i)) => typer.nodes[i].media.as_ref(),
            _ => None,
        })
    });
    let mut facts = vec![what(typer, about, inner, media)];
    if matches!(ty, RustType::Nullable(_)) {
        facts.push("May be `null`.".to_owned());
    }
    facts.extend(constraints(node));
    // An integer of choices says them (an enum's type says its own): a run as a range.
    if *inner == RustType::Integer
        && let Some(choices) = integer_choices(node)
    {
        let fact = match (choices.first(), choices.last()) {
            (Some(least), Some(most)) if is_run(&choices) => {
                range(Some(least.to_string()), Some(most.to_string()), ("", ""))
            }
            _ => {
                let shown: Vec<String> = choices.iter().map(|n| format!("`{n}`")).collect();
                Some(format!("One of {}.", shown.join(", ")))
            }
        };
        // Bounds that say the same range are said once.
        if let Some(fact) = fact.filter(|f| !facts.contains(f)) {
            facts.push(fact);
        }
    }
    if let Some(branch) = branch {
        for fact in constraints(branch) {
            if !facts.contains(&fact) {
                facts.push(fact);
            }
        }
    }
    if let Some(media) = media {
        media_facts(media, &mut facts);
    }
    facts.retain(|f| !f.is_empty());
    facts
}

/// What kind of value a field of type `ty` takes (`media`: its files' spec, for a list of
/// them).
fn what(
    typer: &Typer<'_, '_>,
    node: &SchemaNode,
    ty: &RustType,
    media: Option<&MediaSpec>,
) -> String {
    match ty {
        RustType::String => match node.format {
            Some(format) => format!("Text: {}.", format.describe()),
            None => "Text.".to_owned(),
        },
        RustType::Integer => "A whole number.".to_owned(),
        RustType::Number => "A number.".to_owned(),
        RustType::Boolean => "`true` or `false`.".to_owned(),
        RustType::Media => {
            let kind = media.map_or("a file", |m| m.kind.a_file());
            format!(
                "{}: an https URL, a `data:` URI, a local file or bytes.",
                capitalize(kind)
            )
        }
        RustType::Vec(item) => match item.as_ref() {
            RustType::Media => format!(
                "A list of {}: https URLs, `data:` URIs, local files or bytes.",
                media.map_or("files", |m| m.kind.files())
            ),
            RustType::String => "A list of text.".to_owned(),
            RustType::Integer => "A list of whole numbers.".to_owned(),
            RustType::Number => "A list of numbers.".to_owned(),
            RustType::Boolean => "A list of `true` or `false`.".to_owned(),
            RustType::Enum(i) => format!("A list of [`{}`] choices.", TypeLink::Enum(*i).marker()),
            RustType::Struct(i) => {
                format!("A list of [`{}`] objects.", TypeLink::Struct(*i).marker())
            }
            RustType::Union(i) => format!("A list of [`{}`] values.", TypeLink::Union(*i).marker()),
            _ => "A list.".to_owned(),
        },
        RustType::Enum(i) => format!("One of the [`{}`] choices.", TypeLink::Enum(*i).marker()),
        RustType::Union(i) => format!("A value of [`{}`].", TypeLink::Union(*i).marker()),
        RustType::Struct(i) => format!("An object: [`{}`].", TypeLink::Struct(*i).marker()),
        RustType::JsonObject => {
            let each = match node.additional_properties {
                Some(Sub::Node(i)) => single_type(typer.nodes[i].allowed()).map(type_words),
                _ => None,
            };
            match each {
                Some(each) => format!("A JSON object; each value {each}."),
                None => "A JSON object.".to_owned(),
            }
        }
        RustType::Json => "A JSON value, checked against the schema.".to_owned(),
        RustType::Nullable(_) => String::new(),
    }
}

/// The properties `node`'s `dependencies` require beside property `wire`, quoted.
fn needs_with(node: &SchemaNode, wire: &str) -> Vec<String> {
    node.dependencies
        .iter()
        .filter(|(name, _)| name == wire)
        .filter_map(|(_, dependency)| match dependency {
            Dependency::Required(names) => Some(names),
            Dependency::Schema(_) => None,
        })
        .flatten()
        .map(|name| format!("`{name}`"))
        .collect()
}

/// The node's integer choices, in order (`null` aside), when it has some and every one is an
/// `i64`.
fn integer_choices(node: &SchemaNode) -> Option<Vec<i64>> {
    let mut values: Vec<i64> = node
        .choices
        .as_ref()?
        .iter()
        .filter(|v| !v.is_null())
        .map(Value::as_i64)
        .collect::<Option<_>>()?;
    values.sort_unstable();
    values.dedup();
    (!values.is_empty()).then_some(values)
}

/// Whether sorted `values` are every whole number from the first to the last, at least three
/// of them (`1 to 2` says less than `1`, `2`).
fn is_run(values: &[i64]) -> bool {
    match (values.first(), values.last()) {
        (Some(least), Some(most)) => {
            values.len() >= 3 && most.checked_sub(*least) == i64::try_from(values.len() - 1).ok()
        }
        _ => false,
    }
}

/// The node's bounds, pattern and uniqueness, in words.
fn constraints(node: &SchemaNode) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(constant) = &node.constant {
        facts.push(format!("Always `{constant}`."));
    }

    let num = |n: &Option<serde_json::Number>| n.as_ref().map(ToString::to_string);
    facts.extend(range(num(&node.minimum), num(&node.maximum), ("", "")));
    if let Some(n) = &node.exclusive_minimum {
        facts.push(format!("Greater than {n}."));
    }
    if let Some(n) = &node.exclusive_maximum {
        facts.push(format!("Less than {n}."));
    }
    if let Some(n) = &node.multiple_of {
        facts.push(format!("A multiple of {n}."));
    }
    let count = |n: Option<u64>| n.map(|n| n.to_string());
    // A least count of 0 bounds nothing (QA repro44 F13: "0 to 16 items").
    let least = |n: Option<u64>| count(n.filter(|n| *n > 0));
    facts.extend(range(
        least(node.min_length),
        count(node.max_length),
        ("character", "characters"),
    ));
    if let Some(pattern) = &node.pattern {
        facts.push(format!("Matches `{}`.", pattern.replace('`', "'")));
    }
    facts.extend(range(
        least(node.min_items),
        count(node.max_items),
        ("item", "items"),
    ));
    if node.unique_items {
        facts.push("Items are unique.".to_owned());
    }
    facts
}

/// A range in words: `1 to 4 items.`, `At least 1 item.`; `unit` is (one, many), empty for a
/// plain number.
fn range(min: Option<String>, max: Option<String>, unit: (&str, &str)) -> Option<String> {
    let of = |n: &str| match unit {
        ("", _) => String::new(),
        (one, _) if n == "1" => format!(" {one}"),
        (_, many) => format!(" {many}"),
    };
    match (min, max) {
        (Some(a), Some(b)) if a == b => Some(format!("Exactly {a}{}.", of(&a))),
        (Some(a), Some(b)) => Some(format!("{a} to {b}{}.", of(&b))),
        (Some(a), None) => Some(format!("At least {a}{}.", of(&a))),
        (None, Some(b)) => Some(format!("At most {b}{}.", of(&b))),
        (None, None) => None,
    }
}

/// The accepted formats, then each media rule's message (as a sentence) unless the facts
/// already say it.
fn media_facts(media: &MediaSpec, facts: &mut Vec<String>) {
    if !media.formats.is_empty() {
        let formats: Vec<&str> = media.formats.iter().map(|f| f.name()).collect();
        facts.push(format!("Formats: {}.", formats.join(", ")));
    }
    for rule in &media.rules {
        let mut message = crate::emit::schema_text(&rule.message);
        if !message.ends_with(['.', '!', '?']) {
            message.push('.');
        }
        if !facts.contains(&message) {
            facts.push(message);
        }
    }
}

/// An empty string, list or object: as an example, it shows nothing.
fn is_blank(value: &Value) -> bool {
    match value {
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
