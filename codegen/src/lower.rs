//! From JSON Schema (as read by [`crate::catalog`]) to the IR, checking consistency on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use crate::catalog::SourceModel;
use crate::error::{Error, Errors, pointer_token};
use crate::ir::*;
use crate::naming;
use crate::overlay::{FieldOverlay, RuleOverlay};

/// Formats an overlay may list for a media field.
const KNOWN_FORMATS: &[&str] = &["jpeg", "png", "webp", "gif", "bmp", "tiff", "heif"];

/// Builds the IR of a whole catalog, reporting every problem found.
pub fn build(sources: &[SourceModel]) -> Result<Catalog, Errors> {
    let mut errors = Vec::new();
    let mut models = Vec::new();
    let mut outputs: Vec<(OutputType, Option<String>)> = Vec::new();
    // Each distinct output schema (as JSON text) to its index in `outputs`.
    let mut output_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for src in sources {
        let mut lowerer = Lowerer::new(src);
        // A model left out of the generation still names its output type (shared output
        // types are named across the whole catalog), but its input is not looked at.
        let model = if src.generated { lowerer.model() } else { None };
        let output = lowerer.output();
        errors.append(&mut lowerer.errors);
        let Some(output) = output else {
            continue;
        };
        if src.generated && model.is_none() {
            continue;
        }
        if let Some(model) = &model
            && let Some(other) = modules.insert(model.module_path.clone(), src.id.clone())
        {
            errors.push(
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
            );
            continue;
        }
        let wanted = src.overlay.output_type.clone();
        let key = src.output.to_string();
        let index = match output_index.get(&key) {
            Some(&index) => {
                let (existing, existing_wanted) = &mut outputs[index];
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
                index
            }
            None => {
                let mut output = output;
                if let Some(name) = &wanted {
                    output.name = name.clone();
                }
                output.users.push(src.id.clone());
                output_index.insert(key, outputs.len());
                outputs.push((output, wanted));
                outputs.len() - 1
            }
        };
        if let Some(mut model) = model {
            model.output = index;
            models.push(model);
        }
    }
    // Default output names are made unique after overlays had their say.
    let mut taken: BTreeSet<String> = outputs
        .iter()
        .filter_map(|(_, wanted)| wanted.clone())
        .collect();
    let explicit: Vec<bool> = outputs.iter().map(|(_, w)| w.is_some()).collect();
    let mut outputs: Vec<OutputType> = outputs.into_iter().map(|(o, _)| o).collect();
    for (output, explicit) in outputs.iter_mut().zip(explicit) {
        if !explicit {
            output.name = naming::unique(output.name.clone(), &mut taken, "Alt");
        }
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for output in &outputs {
        *names.entry(output.name.as_str()).or_default() += 1;
    }
    for (name, count) in names {
        if count > 1 {
            errors.push(Error::schema(
                Path::new("overlay.json"),
                "/output_type",
                format!("output type `{name}` is given to {count} different output schemas"),
            ));
        }
    }
    for model in &models {
        let output = &outputs[model.output].name;
        if *output == model.type_name
            || *output == model.input.name
            || model.enums.iter().any(|e| e.name == *output)
            || model.structs.iter().any(|s| s.name == *output)
        {
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
    let features = FeatureTable::new(sources.iter().map(|s| {
        let dir = s.input_path.parent().unwrap_or(&s.input_path);
        (s.id.as_str(), dir)
    }));
    match features {
        Ok(features) if errors.is_empty() => Ok(Catalog {
            models,
            outputs,
            features,
        }),
        Ok(_) => Err(Errors(errors)),
        Err(Errors(mut more)) => {
            errors.append(&mut more);
            Err(Errors(errors))
        }
    }
}

struct Lowerer<'a> {
    src: &'a SourceModel,
    errors: Vec<Error>,
    enums: Vec<Enum>,
    structs: Vec<Struct>,
    type_names: BTreeSet<String>,
}

impl<'a> Lowerer<'a> {
    fn new(src: &'a SourceModel) -> Self {
        Self {
            src,
            errors: Vec::new(),
            enums: Vec::new(),
            structs: Vec::new(),
            type_names: BTreeSet::new(),
        }
    }

    fn input_err(&mut self, pointer: &str, problem: impl Into<String>, hint: Option<&str>) {
        let mut err = Error::schema(&self.src.input_path, pointer, problem);
        if let Some(hint) = hint {
            err = err.hint(hint);
        }
        self.errors.push(err);
    }

    fn overlay_err(&mut self, pointer: &str, problem: impl Into<String>) {
        let path = self
            .src
            .overlay_path
            .clone()
            .unwrap_or_else(|| self.src.input_path.with_file_name("overlay.json"));
        self.errors.push(Error::schema(path, pointer, problem));
    }

    fn model(&mut self) -> Option<Model> {
        let src = self.src;
        let overlay = &src.overlay;
        let segments: Vec<&str> = src.id.split('/').collect();
        let module_path = segments.iter().map(|s| naming::module_ident(s)).collect();
        let type_name = match &overlay.type_name {
            Some(name) => self.checked_type_name(name, "/type_name"),
            None => naming::model_type_ident(&segments),
        };
        self.type_names.insert(type_name.clone());
        let input_name = format!("{type_name}Input");
        self.type_names.insert(input_name.clone());

        for name in overlay.fields.keys() {
            let known = src
                .input
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.contains_key(name));
            if !known {
                self.overlay_err(
                    &format!("/fields/{}", pointer_token(name)),
                    format!("field `{name}` is not a property of input.json"),
                );
            }
        }

        let display_name = overlay
            .display_name
            .clone()
            .or_else(|| {
                let title = src.input.get("title").and_then(Value::as_str)?;
                let generic = title.eq_ignore_ascii_case("input schema")
                    || title.eq_ignore_ascii_case("input");
                (!generic && !title.trim().is_empty()).then(|| title.to_owned())
            })
            .unwrap_or_else(|| src.id.clone());
        let mut docs = Vec::new();
        if let Some(d) = src.input.get("description").and_then(Value::as_str) {
            push_doc(&mut docs, d);
        }
        if let Some(d) = &overlay.docs {
            push_doc(&mut docs, d);
        }

        let input = self.object(&src.input, "", input_name, true)?;
        let rules = self.rules(&input);
        Some(Model {
            id: src.id.clone(),
            module_path,
            type_name,
            display_name,
            docs,
            input,
            structs: std::mem::take(&mut self.structs),
            enums: std::mem::take(&mut self.enums),
            output: 0,
            rules,
            input_schema: src.input.to_string(),
            output_schema: src.output.to_string(),
        })
    }

    fn checked_type_name(&mut self, name: &str, pointer: &str) -> String {
        if is_type_ident(name) {
            name.to_owned()
        } else {
            self.overlay_err(
                pointer,
                format!(
                    "`{name}` is not a Rust type name (ASCII, starting with an upper-case letter)"
                ),
            );
            naming::type_ident(name, "Model")
        }
    }

    /// Lowers an object schema into a struct. `top` says whether overlay field refinements apply.
    fn object(&mut self, schema: &Value, pointer: &str, name: String, top: bool) -> Option<Struct> {
        let Some(map) = schema.as_object() else {
            self.input_err(pointer, "expected an object schema", None);
            return None;
        };
        let properties = match map.get("properties") {
            None => Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(_) => {
                self.input_err(
                    &format!("{pointer}/properties"),
                    "`properties` must be an object",
                    None,
                );
                return None;
            }
        };
        let mut required = BTreeSet::new();
        match map.get("required") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{pointer}/required/{i}");
                    match item.as_str() {
                        Some(name) if properties.contains_key(name) => {
                            required.insert(name.to_owned());
                        }
                        Some(name) => self.input_err(
                            &at,
                            format!("`required` names `{name}`, which is not a property"),
                            Some("add the property, or remove the name with an overlay `patch` (`{\"patch\": {\"required\": [...]}}`)"),
                        ),
                        None => self.input_err(&at, "`required` entries must be property names", None),
                    }
                }
            }
            Some(_) => self.input_err(
                &format!("{pointer}/required"),
                "`required` must be an array of names",
                None,
            ),
        }
        let docs = self.docs_of(map);
        let mut idents = BTreeSet::new();
        let mut fields = Vec::new();
        for (index, (wire, prop)) in properties.iter().enumerate() {
            let at = format!("{pointer}/properties/{}", pointer_token(wire));
            let overlay = if top {
                self.src.overlay.fields.get(wire)
            } else {
                None
            };
            let ident = naming::unique(
                naming::snake_ident(wire, &format!("field_{}", index + 1)),
                &mut idents,
                "_",
            );
            if let Some(field) =
                self.field(wire, ident, prop, &at, required.contains(wire), overlay)
            {
                fields.push(field);
            }
        }
        Some(Struct { name, docs, fields })
    }

    fn docs_of(&mut self, map: &Map<String, Value>) -> Vec<String> {
        let mut docs = Vec::new();
        for key in ["title", "description"] {
            if let Some(text) = map.get(key).and_then(Value::as_str) {
                push_doc(&mut docs, text);
            }
        }
        docs
    }

    fn field(
        &mut self,
        wire: &str,
        ident: String,
        schema: &Value,
        pointer: &str,
        required: bool,
        overlay: Option<&FieldOverlay>,
    ) -> Option<Field> {
        let Some(map) = schema.as_object() else {
            self.input_err(pointer, "a property schema must be an object", None);
            return None;
        };
        let mut text = |key: &str| -> Option<String> {
            match map.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => {
                    let s = s.trim();
                    (!s.is_empty()).then(|| s.to_owned())
                }
                Some(_) => {
                    self.input_err(
                        &format!("{pointer}/{key}"),
                        format!("`{key}` must be a string"),
                        None,
                    );
                    None
                }
            }
        };
        let title = text("title").filter(|t| t != wire);
        let mut description = text("description");
        if let Some(extra) = overlay.and_then(|o| o.docs.as_deref()) {
            description = Some(match description {
                Some(d) => format!("{d}\n\n{extra}"),
                None => extra.to_owned(),
            });
        }
        let (ty, nullable) = self.value_type(map, pointer, wire, overlay, None)?;
        let default = match map.get("default") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let value = self.coerce_default(&ty, value);
                self.check_default(&ty, &value, &format!("{pointer}/default"));
                Some(value)
            }
        };
        if let Some(overlay) = overlay {
            let is_enum = matches!(ty, Type::Enum(_));
            let at = format!("/fields/{}", pointer_token(wire));
            let has_names = !overlay.variants.is_empty() || !overlay.aliases.is_empty();
            if !is_enum && has_names {
                self.overlay_err(
                    &at,
                    format!("`variants`/`aliases` given for `{wire}`, which is not an enum"),
                );
            }
            let is_media = media_of(&ty).is_some();
            if !is_media && !overlay.formats.is_empty() {
                self.overlay_err(
                    &at,
                    format!("`formats` given for `{wire}`, which is not a media field"),
                );
            }
        }
        Some(Field {
            wire: wire.to_owned(),
            ident,
            title,
            description,
            ty,
            required,
            nullable,
            default,
        })
    }

    /// The type of a schema. `inherited` carries an array's `validations`, which apply to its items.
    fn value_type(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        hint: &str,
        overlay: Option<&FieldOverlay>,
        inherited: Option<(&Value, String)>,
    ) -> Option<(Type, bool)> {
        let (kind, mut nullable) = self.kind(map, pointer)?;
        if map
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|v| v.iter().any(Value::is_null))
        {
            nullable = true;
        }
        let own_validations = map
            .get("validations")
            .map(|v| (v, format!("{pointer}/validations")));
        if kind != Kind::Array
            && kind != Kind::String
            && let Some((_, at)) = own_validations.as_ref().or(inherited.as_ref())
        {
            self.input_err(
                at,
                "`validations` rules apply to media fields only",
                Some("remove them with an overlay `patch`"),
            );
        }
        let ty = match kind {
            Kind::String => {
                if map.contains_key("enum") {
                    Type::Enum(self.enumeration(map, pointer, hint, overlay, EnumRepr::String)?)
                } else {
                    let format = map.get("format").and_then(Value::as_str).unwrap_or("");
                    let mut media = match format {
                        "image_uri" => Some(MediaKind::Image),
                        "video_uri" => Some(MediaKind::Video),
                        "audio_uri" => Some(MediaKind::Audio),
                        _ => None,
                    };
                    // `validations` rules only make sense on media: a string that carries them
                    // is a media field whose format the catalog left out.
                    if media.is_none() && (own_validations.is_some() || inherited.is_some()) {
                        media = Some(media_kind_from_name(hint));
                    }
                    match media {
                        Some(kind) => {
                            let mut rules = Vec::new();
                            for (value, at) in [inherited, own_validations].into_iter().flatten() {
                                rules.extend(self.validations(value, &at));
                            }
                            let formats = self.formats(overlay, hint);
                            Type::Media(MediaSpec {
                                kind,
                                formats,
                                rules,
                            })
                        }
                        None => {
                            if matches!(format, "uri" | "url") {
                                Type::Uri
                            } else {
                                let min_length = self.count(map, "minLength", pointer);
                                let max_length = self.count(map, "maxLength", pointer);
                                self.ordered(
                                    min_length.map(|v| v as f64),
                                    max_length.map(|v| v as f64),
                                    pointer,
                                    "minLength",
                                    "maxLength",
                                );
                                Type::String {
                                    min_length,
                                    max_length,
                                }
                            }
                        }
                    }
                }
            }
            Kind::Integer => {
                if map.contains_key("enum") {
                    Type::Enum(self.enumeration(map, pointer, hint, overlay, EnumRepr::Integer)?)
                } else {
                    let (minimum, maximum) = self.bounds(map, pointer);
                    Type::Integer { minimum, maximum }
                }
            }
            Kind::Number => {
                if map.contains_key("enum") {
                    self.input_err(
                        &format!("{pointer}/enum"),
                        "an `enum` of non-integer numbers is not supported",
                        Some("make it an integer or string enum with an overlay `patch`"),
                    );
                    return None;
                }
                let (minimum, maximum) = self.bounds(map, pointer);
                Type::Number { minimum, maximum }
            }
            Kind::Boolean => Type::Boolean,
            Kind::Array => {
                let min_items = self.count(map, "minItems", pointer);
                let max_items = self.count(map, "maxItems", pointer);
                self.ordered(
                    min_items.map(|v| v as f64),
                    max_items.map(|v| v as f64),
                    pointer,
                    "minItems",
                    "maxItems",
                );
                let items_at = format!("{pointer}/items");
                let passed = own_validations.or(inherited);
                let items = match map.get("items") {
                    None => {
                        if let Some((_, at)) = passed {
                            self.input_err(&at, "`validations` on an array without `items`", None);
                        }
                        Type::Json
                    }
                    Some(Value::Object(items)) => {
                        self.value_type(items, &items_at, hint, overlay, passed)?.0
                    }
                    // Tuple-form `items` (an array of schemas) cannot be one Rust type.
                    Some(Value::Array(_)) => Type::Json,
                    Some(_) => {
                        self.input_err(&items_at, "`items` must be a schema object", None);
                        return None;
                    }
                };
                Type::Array {
                    items: Box::new(items),
                    min_items,
                    max_items,
                }
            }
            Kind::Object => {
                if map
                    .get("properties")
                    .is_some_and(|p| p.as_object().is_some_and(|p| !p.is_empty()))
                {
                    let wanted = match overlay.and_then(|o| o.type_name.as_deref()) {
                        Some(name) => self.checked_type_name(
                            name,
                            &format!("/fields/{}/type_name", pointer_token(hint)),
                        ),
                        None => naming::type_ident(hint, "Object"),
                    };
                    let name = naming::unique(wanted, &mut self.type_names, "Object");
                    let structure =
                        self.object(&Value::Object(map.clone()), pointer, name, false)?;
                    self.structs.push(structure);
                    Type::Struct(self.structs.len() - 1)
                } else {
                    Type::Json
                }
            }
            Kind::Json => Type::Json,
        };
        Some((ty, nullable))
    }

    fn kind(&mut self, map: &Map<String, Value>, pointer: &str) -> Option<(Kind, bool)> {
        let at = format!("{pointer}/type");
        let hint = "use one of string, integer, number, boolean, array, object (fix it with an overlay `patch`)";
        match map.get("type") {
            None | Some(Value::Null) => Some((infer_kind(map), false)),
            Some(Value::String(name)) => match parse_kind(name) {
                Some(kind) => Some((kind, false)),
                None => {
                    self.input_err(&at, format!("unknown type `{name}`"), Some(hint));
                    None
                }
            },
            Some(Value::Array(names)) => {
                let mut nullable = false;
                let mut kinds = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    match name.as_str() {
                        Some("null") => nullable = true,
                        Some(name) => match parse_kind(name) {
                            Some(kind) => kinds.push(kind),
                            None => {
                                self.input_err(
                                    &format!("{at}/{i}"),
                                    format!("unknown type `{name}`"),
                                    Some(hint),
                                );
                                return None;
                            }
                        },
                        None => {
                            self.input_err(
                                &format!("{at}/{i}"),
                                "type names must be strings",
                                None,
                            );
                            return None;
                        }
                    }
                }
                kinds.dedup();
                match kinds.as_slice() {
                    [kind] => Some((*kind, nullable)),
                    // Several types at once cannot be one Rust type: pass the value through.
                    _ => Some((Kind::Json, nullable)),
                }
            }
            Some(_) => {
                self.input_err(
                    &at,
                    "`type` must be a string or an array of strings",
                    Some(hint),
                );
                None
            }
        }
    }

    fn count(&mut self, map: &Map<String, Value>, key: &str, pointer: &str) -> Option<u64> {
        let value = map.get(key)?;
        if value.is_null() {
            return None;
        }
        match value.as_u64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }) {
            Some(n) => Some(n),
            None => {
                self.input_err(
                    &format!("{pointer}/{key}"),
                    format!("`{key}` must be a non-negative integer, not {value}"),
                    None,
                );
                None
            }
        }
    }

    fn number(&mut self, map: &Map<String, Value>, key: &str, pointer: &str) -> Option<f64> {
        let value = map.get(key)?;
        if value.is_null() {
            return None;
        }
        match value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        {
            Some(n) if n.is_finite() => Some(n),
            _ => {
                self.input_err(
                    &format!("{pointer}/{key}"),
                    format!("`{key}` must be a number, not {value}"),
                    None,
                );
                None
            }
        }
    }

    fn bounds(&mut self, map: &Map<String, Value>, pointer: &str) -> (Option<f64>, Option<f64>) {
        let minimum = self.number(map, "minimum", pointer);
        let maximum = self.number(map, "maximum", pointer);
        self.ordered(minimum, maximum, pointer, "minimum", "maximum");
        (minimum, maximum)
    }

    fn ordered(
        &mut self,
        low: Option<f64>,
        high: Option<f64>,
        pointer: &str,
        low_key: &str,
        high_key: &str,
    ) {
        if let (Some(low), Some(high)) = (low, high)
            && low > high
        {
            self.input_err(
                &format!("{pointer}/{low_key}"),
                format!("`{low_key}` ({low}) is above `{high_key}` ({high})"),
                Some("fix the bounds with an overlay `patch`"),
            );
        }
    }

    fn validations(&mut self, value: &Value, pointer: &str) -> Vec<MediaRule> {
        let Some(items) = value.as_array() else {
            self.input_err(pointer, "`validations` must be an array of rules", None);
            return Vec::new();
        };
        let mut rules = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{pointer}/{i}");
            let rule = item.get("validation_rule").and_then(Value::as_str);
            let value = item.get("validation_value").and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            });
            let message = item.get("validation_error").and_then(Value::as_str);
            match (rule, value, message) {
                (Some(rule), Some(value), Some(message)) => match MediaCheck::from_wire(rule) {
                    Some(check) => rules.push(MediaRule { check, value, message: message.to_owned() }),
                    None => {
                        let known: Vec<&str> = MediaCheck::ALL.iter().map(|(_, w)| *w).collect();
                        self.input_err(
                            &format!("{at}/validation_rule"),
                            format!("unknown validation_rule `{rule}`; known rules: {}", known.join(", ")),
                            Some("teach the generator the rule, or remove it with an overlay `patch`"),
                        );
                    }
                },
                _ => self.input_err(&at, "a validation needs `validation_rule` (string), `validation_value` (number) and `validation_error` (string)", None),
            }
        }
        rules
    }

    fn formats(&mut self, overlay: Option<&FieldOverlay>, field: &str) -> Vec<String> {
        let Some(overlay) = overlay else {
            return Vec::new();
        };
        let mut formats = Vec::new();
        for (i, format) in overlay.formats.iter().enumerate() {
            let format = format.to_ascii_lowercase();
            let format = if format == "jpg" {
                "jpeg".to_owned()
            } else {
                format
            };
            if KNOWN_FORMATS.contains(&format.as_str()) {
                formats.push(format);
            } else {
                self.overlay_err(
                    &format!("/fields/{}/formats/{i}", pointer_token(field)),
                    format!(
                        "unknown format `{format}`; known: {}",
                        KNOWN_FORMATS.join(", ")
                    ),
                );
            }
        }
        formats
    }

    fn enumeration(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        hint: &str,
        overlay: Option<&FieldOverlay>,
        repr: EnumRepr,
    ) -> Option<usize> {
        let at = format!("{pointer}/enum");
        let Some(values) = map
            .get("enum")
            .and_then(Value::as_array)
            .filter(|v| !v.is_empty())
        else {
            self.input_err(&at, "`enum` must be a non-empty array", None);
            return None;
        };
        let mut wires = Vec::new();
        // `null` among the values means the field is nullable, which `value_type` records.
        for (i, value) in values.iter().enumerate().filter(|(_, v)| !v.is_null()) {
            let wire = match (repr, value) {
                (EnumRepr::String, Value::String(s)) => Some(s.clone()),
                (EnumRepr::String, Value::Number(n)) => Some(n.to_string()),
                (EnumRepr::String, Value::Bool(b)) => Some(b.to_string()),
                (EnumRepr::Integer, Value::Number(n)) => n
                    .as_i64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                            .map(|f| f as i64)
                    })
                    .map(|n| n.to_string()),
                (EnumRepr::Integer, Value::String(s)) => {
                    s.trim().parse::<i64>().ok().map(|n| n.to_string())
                }
                _ => None,
            };
            match wire {
                Some(wire) if wires.contains(&wire) => {
                    self.input_err(
                        &format!("{at}/{i}"),
                        format!("duplicate enum value `{wire}`"),
                        Some("remove the duplicate with an overlay `patch`"),
                    );
                    return None;
                }
                Some(wire) => wires.push(wire),
                None => {
                    let expected = if repr == EnumRepr::String {
                        "a string"
                    } else {
                        "an integer"
                    };
                    self.input_err(
                        &format!("{at}/{i}"),
                        format!("enum value {value} is not {expected}"),
                        None,
                    );
                    return None;
                }
            }
        }
        let empty = BTreeMap::new();
        let (names, aliases) = overlay.map_or((&empty, &empty), |o| (&o.variants, &o.aliases));
        let field_at = format!("/fields/{}", pointer_token(hint));
        for key in names.keys().chain(aliases.keys()) {
            if !wires.contains(key) {
                self.overlay_err(
                    &field_at,
                    format!("`{key}` is not a value of the enum of `{hint}`"),
                );
            }
        }
        let mut taken = BTreeSet::new();
        let mut variants = Vec::new();
        let auto_aliases: Vec<Option<String>> =
            wires.iter().map(|w| naming::obvious_alias(w)).collect();
        for (i, wire) in wires.iter().enumerate() {
            let name = match names.get(wire) {
                Some(name) if is_type_ident(name) => name.clone(),
                Some(name) => {
                    self.overlay_err(&field_at, format!("variant name `{name}` is not a Rust identifier (ASCII, starting with an upper-case letter)"));
                    continue;
                }
                None => match repr {
                    EnumRepr::String => naming::variant_ident(wire, i),
                    EnumRepr::Integer => {
                        naming::integer_variant_ident(wire.parse().unwrap_or_default())
                    }
                },
            };
            if names.contains_key(wire) && taken.contains(&name) {
                self.overlay_err(&field_at, format!("variant name `{name}` is used twice"));
            }
            let name = naming::unique(name, &mut taken, "Alt");
            let alias = aliases.get(wire).cloned().or_else(|| {
                let alias = auto_aliases[i].clone()?;
                let unique = auto_aliases
                    .iter()
                    .filter(|a| a.as_ref() == Some(&alias))
                    .count()
                    == 1;
                (unique && !wires.contains(&alias)).then_some(alias)
            });
            variants.push(Variant {
                name,
                wire: wire.clone(),
                alias,
            });
        }
        let name = match overlay.and_then(|o| o.type_name.as_deref()) {
            Some(name) => self.checked_type_name(name, &format!("{field_at}/type_name")),
            None => naming::type_ident(hint, "Choice"),
        };
        if overlay.and_then(|o| o.type_name.as_ref()).is_some() && self.type_names.contains(&name) {
            self.overlay_err(
                &format!("{field_at}/type_name"),
                format!("type name `{name}` is already used in this model"),
            );
        }
        let name = naming::unique(name, &mut self.type_names, "Choice");
        let docs = self.docs_of(map);
        self.enums.push(Enum {
            name,
            field: hint.to_owned(),
            docs,
            repr,
            variants,
        });
        Some(self.enums.len() - 1)
    }

    /// Catalogs write defaults loosely (`"0.5"` for a number, `5.0` for an integer, `"true"`):
    /// read them as the type they belong to, so accessors and checks see real values.
    fn coerce_default(&self, ty: &Type, value: &Value) -> Value {
        let text = value.as_str().map(str::trim);
        let integer = || {
            value
                .as_i64()
                .or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .or_else(|| text.and_then(|t| t.parse().ok()))
        };
        let coerced = match ty {
            Type::Integer { .. } => integer().map(Value::from),
            Type::Enum(i) if self.enums[*i].repr == EnumRepr::Integer => integer().map(Value::from),
            Type::Number { .. } => value
                .as_f64()
                .or_else(|| text.and_then(|t| t.parse().ok()))
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            Type::Boolean => value
                .as_bool()
                .or_else(|| text.and_then(|t| t.parse().ok()))
                .map(Value::Bool),
            _ => None,
        };
        coerced.unwrap_or_else(|| value.clone())
    }

    fn check_default(&mut self, ty: &Type, value: &Value, pointer: &str) {
        let hint = Some("fix or remove the default with an overlay `patch`");
        let problem = match ty {
            Type::String {
                min_length,
                max_length,
            } => match value.as_str() {
                None => Some(format!("default {value} is not a string")),
                Some(s) => {
                    let len = s.chars().count() as u64;
                    if min_length.is_some_and(|m| len < m) || max_length.is_some_and(|m| len > m) {
                        Some(format!(
                            "default is {len} characters long, outside minLength/maxLength"
                        ))
                    } else {
                        None
                    }
                }
            },
            Type::Uri | Type::Media(_) => {
                (!value.is_string()).then(|| format!("default {value} is not a string"))
            }
            Type::Integer { minimum, maximum } => match value.as_i64() {
                None => Some(format!("default {value} is not an integer")),
                Some(n) => out_of_bounds(n as f64, *minimum, *maximum),
            },
            Type::Number { minimum, maximum } => match value.as_f64() {
                None => Some(format!("default {value} is not a number")),
                Some(n) => out_of_bounds(n, *minimum, *maximum),
            },
            Type::Boolean => {
                (!value.is_boolean()).then(|| format!("default {value} is not a boolean"))
            }
            Type::Enum(index) => {
                let e = &self.enums[*index];
                let wire = match (e.repr, value) {
                    (EnumRepr::String, Value::String(s)) => Some(s.clone()),
                    (EnumRepr::Integer, Value::Number(n)) => n.as_i64().map(|n| n.to_string()),
                    (EnumRepr::Integer, Value::String(s)) => {
                        s.trim().parse::<i64>().ok().map(|n| n.to_string())
                    }
                    _ => None,
                };
                match wire {
                    Some(w) if e.variants.iter().any(|v| v.wire == w) => None,
                    _ => Some(format!("default {value} is not one of the enum's values")),
                }
            }
            Type::Array {
                min_items,
                max_items,
                ..
            } => match value.as_array() {
                None => Some(format!("default {value} is not an array")),
                Some(items) => {
                    let len = items.len() as u64;
                    (min_items.is_some_and(|m| len < m) || max_items.is_some_and(|m| len > m))
                        .then(|| format!("default has {len} items, outside minItems/maxItems"))
                }
            },
            Type::Struct(_) => {
                (!value.is_object()).then(|| format!("default {value} is not an object"))
            }
            Type::Json => None,
        };
        if let Some(problem) = problem {
            self.input_err(pointer, problem, hint);
        }
    }

    fn rules(&mut self, input: &Struct) -> Vec<CrossRule> {
        let mut rules = Vec::new();
        let overlay_rules = self.src.overlay.rules.clone();
        for (i, rule) in overlay_rules.iter().enumerate() {
            let at = format!("/rules/{i}");
            let find = |name: &str| input.fields.iter().position(|f| f.wire == name);
            match rule {
                RuleOverlay::MaxTotal {
                    fields,
                    max,
                    message,
                } => {
                    let mut indexes = Vec::new();
                    for name in fields {
                        match find(name) {
                            Some(index) if countable(&input.fields[index].ty, &self.enums) => indexes.push(index),
                            Some(_) => self.overlay_err(&at, format!("`{name}` is neither an array nor an integer, so it cannot be counted")),
                            None => self.overlay_err(&at, format!("`{name}` is not an input field")),
                        }
                    }
                    if indexes.len() == fields.len() && !fields.is_empty() {
                        rules.push(CrossRule::MaxTotal {
                            fields: indexes,
                            max: *max,
                            message: message.clone(),
                        });
                    }
                }
                RuleOverlay::PromptCount {
                    prompt,
                    count,
                    message,
                } => {
                    let prompt_index = find(prompt);
                    let count_index = find(count);
                    match (prompt_index, count_index) {
                        (Some(p), Some(c)) => {
                            let text = matches!(input.fields[p].ty, Type::String { .. });
                            let number = is_integer(&input.fields[c].ty, &self.enums);
                            if !text {
                                self.overlay_err(&at, format!("`{prompt}` is not a text field"));
                            } else if !number {
                                self.overlay_err(&at, format!("`{count}` is not an integer field"));
                            } else {
                                rules.push(CrossRule::PromptCount {
                                    prompt: p,
                                    count: c,
                                    message: message.clone(),
                                });
                            }
                        }
                        _ => self.overlay_err(
                            &at,
                            format!("`{prompt}` or `{count}` is not an input field"),
                        ),
                    }
                }
            }
        }
        rules
    }

    fn output(&mut self) -> Option<OutputType> {
        let src = self.src;
        let Some(map) = src.output.as_object() else {
            self.errors.push(Error::schema(
                &src.output_path,
                "",
                "expected an object schema",
            ));
            return None;
        };
        let properties = map
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: BTreeSet<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut idents = BTreeSet::new();
        let mut fields = Vec::new();
        for (index, (wire, prop)) in properties.iter().enumerate() {
            let ident = naming::unique(
                naming::snake_ident(wire, &format!("field_{}", index + 1)),
                &mut idents,
                "_",
            );
            let ty = output_kind(prop);
            let docs = ["description", "title"]
                .iter()
                .find_map(|k| {
                    prop.get(*k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                })
                .map(str::to_owned);
            fields.push(OutputField {
                wire: wire.clone(),
                ident,
                docs,
                ty,
                required: required.contains(wire.as_str()),
            });
        }
        let extra_ident = naming::unique("extra".to_owned(), &mut idents, "_fields");
        let segments: Vec<&str> = src.id.split('/').collect();
        let base = src
            .overlay
            .type_name
            .clone()
            .unwrap_or_else(|| naming::model_type_ident(&segments));
        let name = format!("{base}Output");
        let docs = vec!["The output of a succeeded job.".to_owned()];
        Some(OutputType {
            name,
            docs,
            fields,
            extra_ident,
            users: Vec::new(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    Json,
}

fn parse_kind(name: &str) -> Option<Kind> {
    Some(match name.to_ascii_lowercase().as_str() {
        "string" | "str" | "text" => Kind::String,
        "integer" | "int" | "long" => Kind::Integer,
        "number" | "float" | "double" | "decimal" => Kind::Number,
        "boolean" | "bool" => Kind::Boolean,
        "array" | "list" => Kind::Array,
        "object" | "dict" => Kind::Object,
        _ => return None,
    })
}

/// A schema without `type`: guess from `enum`, `properties` or `items`, else pass JSON through.
fn infer_kind(map: &Map<String, Value>) -> Kind {
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        if values.iter().all(Value::is_string) {
            return Kind::String;
        }
        if values.iter().all(|v| v.is_i64() || v.is_u64()) {
            return Kind::Integer;
        }
    }
    if map.contains_key("properties") {
        return Kind::Object;
    }
    if map.contains_key("items") {
        return Kind::Array;
    }
    if map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.ends_with("uri"))
    {
        return Kind::String;
    }
    Kind::Json
}

fn output_kind(schema: &Value) -> OutputKind {
    let ty = schema.get("type");
    let name = match ty {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(names)) => {
            let names: Vec<&str> = names
                .iter()
                .filter_map(Value::as_str)
                .filter(|n| *n != "null")
                .collect();
            if names.len() == 1 {
                Some(names[0])
            } else {
                None
            }
        }
        _ => None,
    };
    match name.and_then(parse_kind) {
        Some(Kind::String) => OutputKind::String,
        Some(Kind::Integer) => OutputKind::Integer,
        Some(Kind::Number) => OutputKind::Number,
        Some(Kind::Boolean) => OutputKind::Boolean,
        Some(Kind::Array) => {
            let item = schema.get("items").map(output_kind);
            if item == Some(OutputKind::String) {
                OutputKind::StringList
            } else {
                OutputKind::Json
            }
        }
        _ => OutputKind::Json,
    }
}

/// The media kind of a field that carries `validations` but no media format, from its name.
fn media_kind_from_name(name: &str) -> MediaKind {
    let name = name.to_ascii_lowercase();
    if name.contains("video") {
        MediaKind::Video
    } else if name.contains("audio") || name.contains("voice") || name.contains("sound") {
        MediaKind::Audio
    } else {
        MediaKind::Image
    }
}

fn out_of_bounds(n: f64, minimum: Option<f64>, maximum: Option<f64>) -> Option<String> {
    if minimum.is_some_and(|m| n < m) {
        Some(format!("default {n} is below the minimum"))
    } else if maximum.is_some_and(|m| n > m) {
        Some(format!("default {n} is above the maximum"))
    } else {
        None
    }
}

fn is_integer(ty: &Type, enums: &[Enum]) -> bool {
    match ty {
        Type::Integer { .. } => true,
        Type::Enum(i) => enums[*i].repr == EnumRepr::Integer,
        _ => false,
    }
}

fn countable(ty: &Type, enums: &[Enum]) -> bool {
    matches!(ty, Type::Array { .. }) || is_integer(ty, enums)
}

/// The media spec of a media field or of an array of media.
pub fn media_of(ty: &Type) -> Option<&MediaSpec> {
    match ty {
        Type::Media(spec) => Some(spec),
        Type::Array { items, .. } => media_of(items),
        _ => None,
    }
}

fn is_type_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && name != "Self"
}

fn push_doc(docs: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() && !docs.iter().any(|d| d == text) {
        docs.push(text.to_owned());
    }
}
