//! `diff`: a table of crafted schema changes, each classified by its effect on the generated
//! API and pointed at where it was made; git revisions; the suggested bump.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use runcomfy_codegen::compat::{self, Change, Impact};
use serde_json::{Map, Value, json};
use xtask::diff::{self, Source};
use xtask::store;

#[derive(Clone)]
struct Model {
    input: Value,
    output: Value,
    overlay: Value,
    upstream: Value,
}

type Catalog = BTreeMap<String, Model>;

const BASE: &str = "acme/base";
const OTHER: &str = "acme/other";

fn base_model() -> Model {
    Model {
        input: json!({
            "type": "object",
            "title": "Input Schema",
            "required": ["prompt", "images"],
            "properties": {
                "prompt": {"title": "Prompt", "description": "What to draw.", "type": "string", "maxLength": 600},
                "negative": {"title": "Negative", "description": "What to avoid.", "type": "string"},
                "seed": {"title": "Seed", "description": "Seed.", "type": "integer", "minimum": 0, "maximum": 100},
                "steps": {"title": "Steps", "description": "Steps.", "type": "integer", "minimum": 1, "maximum": 50, "default": 28},
                "guidance": {"title": "Guidance", "description": "Guidance.", "type": "number", "minimum": 0, "maximum": 20, "multipleOf": 0.5},
                "images": {
                    "title": "Images",
                    "description": "References.",
                    "type": "array",
                    "items": {"type": "string", "format": "image_uri"},
                    "validations": [
                        {"validation_rule": "file_size_mb<", "validation_value": 10, "validation_error": "Too big."},
                        {"validation_rule": "width_pixels>", "validation_value": 14, "validation_error": "Too narrow."}
                    ],
                    "minItems": 1,
                    "maxItems": 10
                },
                "mask": {"title": "Mask", "description": "Where to paint.", "type": "string", "format": "image_uri"},
                "size": {"title": "Size", "description": "Aspect ratio.", "type": "string", "enum": ["1:1", "16:9"], "default": "1:1"},
                "count": {"title": "Count", "description": "How many.", "type": "integer", "enum": [1, 2, 3], "default": 1},
                "tolerance": {"title": "Tolerance", "description": "A number or a word.", "type": ["integer", "string"]},
                "lora": {
                    "title": "LoRA",
                    "description": "An adapter.",
                    "type": "object",
                    "required": ["path"],
                    "properties": {
                        "path": {"type": "string"},
                        "scale": {"type": "number", "minimum": 0, "maximum": 2}
                    }
                },
                "metadata": {"title": "Metadata", "description": "Anything.", "type": "object"},
                "hint": {"title": "Hint", "description": "Short, or starting with x.", "type": "string", "anyOf": [{"maxLength": 10}, {"pattern": "^x"}]},
                "pick": {"title": "Pick", "description": "Short or long.", "type": "string", "oneOf": [{"maxLength": 3}, {"minLength": 10}]}
            }
        }),
        output: json!({"output": {"type": "object", "properties": {
            "image": {"type": "string", "format": "uri", "description": "Single image URL"},
            "videos": {"type": "array", "description": "Multiple video URLs", "items": {"type": "string", "format": "uri"}}
        }}}),
        overlay: json!({
            "display_name": "Base",
            "fields": {"images": {"formats": ["jpeg", "png"]}},
            "rules": [{"rule": "max_total", "fields": ["images", "count"], "max": 12, "message": "Too many."}]
        }),
        upstream: json!({
            "base_price_usd": 0.03,
            "price_unit": "output",
            "pricing": "fixed",
            "output_kind": "image",
            "categories": ["text-to-image"]
        }),
    }
}

fn base() -> Catalog {
    let mut other = base_model();
    other.overlay = json!({"display_name": "Other"});
    BTreeMap::from([(BASE.to_owned(), base_model()), (OTHER.to_owned(), other)])
}

fn write(dir: &Path, catalog: &Catalog) {
    for (id, m) in catalog {
        let files = store::ModelFiles {
            id,
            input: &m.input,
            // `null`: the model has no `output.json`.
            output: (!m.output.is_null()).then_some(&m.output),
            upstream: None,
        };
        store::write_model(dir, &files, &mut Default::default()).unwrap();
        fs::write(
            dir.join(id).join("overlay.json"),
            store::to_pretty(&m.overlay),
        )
        .unwrap();
        fs::write(
            dir.join(id).join("upstream.json"),
            store::to_pretty(&m.upstream),
        )
        .unwrap();
    }
}

fn diff_of(change: impl Fn(&mut Catalog)) -> Vec<Change> {
    diff_between(|_| {}, change)
}

/// The changes from the base changed by `old` to the base changed by `new`.
fn diff_between(old: impl Fn(&mut Catalog), new: impl Fn(&mut Catalog)) -> Vec<Change> {
    let mut before = base();
    old(&mut before);
    let mut after = base();
    new(&mut after);
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    write(old.path(), &before);
    write(new.path(), &after);
    diff::diff_dirs(old.path(), new.path()).unwrap()
}

fn input(c: &mut Catalog) -> &mut Value {
    &mut c.get_mut(BASE).unwrap().input
}

fn prop<'a>(c: &'a mut Catalog, name: &str) -> &'a mut Value {
    &mut input(c)["properties"][name]
}

fn remove(value: &mut Value, key: &str) {
    value.as_object_mut().unwrap().remove(key);
}

/// The base model's properties in another order: `name` first.
fn move_first(c: &mut Catalog, name: &str, schema: Value) {
    let properties = input(c)["properties"].as_object_mut().unwrap();
    let mut reordered = Map::new();
    reordered.insert(name.to_owned(), schema);
    for (key, value) in std::mem::take(properties) {
        reordered.entry(key).or_insert(value);
    }
    *properties = reordered;
}

fn upstream(c: &mut Catalog) -> &mut Value {
    &mut c.get_mut(BASE).unwrap().upstream
}

fn overlay(c: &mut Catalog) -> &mut Value {
    &mut c.get_mut(BASE).unwrap().overlay
}

/// Changes the output of every model alike, so that they keep sharing one output type.
fn outputs(c: &mut Catalog, change: impl Fn(&mut Map<String, Value>)) {
    for model in c.values_mut() {
        change(
            model.output["output"]["properties"]
                .as_object_mut()
                .unwrap(),
        );
    }
}

/// What a case changes, the worst impact expected, a phrase the change of that impact must
/// contain, and where that change must point (`file#pointer`).
struct Case {
    name: &'static str,
    change: fn(&mut Catalog),
    worst: Option<Impact>,
    phrase: &'static str,
    at: &'static str,
}

const fn case(
    name: &'static str,
    change: fn(&mut Catalog),
    worst: Option<Impact>,
    phrase: &'static str,
    at: &'static str,
) -> Case {
    Case {
        name,
        change,
        worst,
        phrase,
        at,
    }
}

const BREAKING: Option<Impact> = Some(Impact::Breaking);
const ADDITIVE: Option<Impact> = Some(Impact::Additive);
const NOTABLE: Option<Impact> = Some(Impact::Notable);

const CASES: &[Case] = &[
    // Models.
    case(
        "model removed",
        |c| {
            c.remove(OTHER);
        },
        BREAKING,
        "model removed: `models::acme::other::Other`",
        "input.json#",
    ),
    case(
        "model added",
        |c| {
            let m = c[OTHER].clone();
            c.insert("acme/new-one".into(), m);
        },
        ADDITIVE,
        "new model `models::acme::new_one::NewOne`",
        "input.json#",
    ),
    case(
        "model type renamed by the overlay",
        |c| overlay(c)["type_name"] = json!("Fancy"),
        BREAKING,
        "model type renamed `Base` → `Fancy` (and its input type, `BaseInput` → `FancyInput`)",
        "overlay.json#/type_name",
    ),
    case(
        "display name changed",
        |c| overlay(c)["display_name"] = json!("Base 2"),
        NOTABLE,
        "display name \"Base\" → \"Base 2\"",
        "overlay.json#/display_name",
    ),
    case(
        "model docs changed",
        |c| overlay(c)["docs"] = json!("More words."),
        NOTABLE,
        "model documentation changed",
        "overlay.json#/docs",
    ),
    // Fields of the input struct.
    case(
        "field removed",
        |c| remove(&mut input(c)["properties"], "negative"),
        BREAKING,
        "field `negative` removed (`BaseInput.negative` is gone)",
        "input.json#/properties/negative",
    ),
    case(
        "new optional field",
        |c| prop(c, "style").clone_from(&json!({"type": "string"})),
        ADDITIVE,
        "new optional field `style` (the struct is #[non_exhaustive]; set it with `with_style`)",
        "input.json#/properties/style",
    ),
    case(
        "new required field",
        |c| {
            prop(c, "style").clone_from(&json!({"type": "string"}));
            input(c)["required"] = json!(["prompt", "images", "style"]);
        },
        BREAKING,
        "new required field `style`: `BaseInput::new` takes one more argument",
        "input.json#/properties/style",
    ),
    case(
        "field made required",
        |c| input(c)["required"] = json!(["prompt", "images", "negative"]),
        BREAKING,
        "`negative` is now required: `BaseInput::new` takes it, its type is no longer an `Option`, and `with_negative` is gone",
        "input.json#/properties/negative",
    ),
    case(
        "field made optional",
        |c| input(c)["required"] = json!(["images"]),
        BREAKING,
        "`prompt` is now optional: its type becomes an `Option` and `BaseInput::new` no longer takes it (set it with `with_prompt`)",
        "input.json#/properties/prompt",
    ),
    case(
        "required fields reordered",
        |c| {
            let images = prop(c, "images").clone();
            move_first(c, "images", images);
        },
        BREAKING,
        "`BaseInput::new` takes its arguments in another order: (prompt, images) → (images, prompt)",
        "input.json#",
    ),
    case(
        "setter renamed by a clash",
        |c| move_first(c, "with_seed", json!({"type": "integer", "default": 1})),
        BREAKING,
        "setter renamed `with_seed` → `with_seed_`",
        "input.json#/properties/seed",
    ),
    case(
        "type changed",
        |c| {
            prop(c, "seed")["type"] = json!("string");
            remove(prop(c, "seed"), "minimum");
            remove(prop(c, "seed"), "maximum");
        },
        BREAKING,
        "type changed from an integer to a string",
        "input.json#/properties/seed/type",
    ),
    case(
        "type widened, a Rust type changed all the same",
        |c| prop(c, "seed")["type"] = json!("number"),
        BREAKING,
        "type changed from an integer to a number",
        "input.json#/properties/seed/type",
    ),
    case(
        "nullable optional field",
        |c| prop(c, "negative")["type"] = json!(["string", "null"]),
        BREAKING,
        "`negative` now accepts null: its type changes from `Option<T>` to `Option<Option<T>>`",
        "input.json#/properties/negative/type",
    ),
    case(
        "nullable required field",
        |c| prop(c, "prompt")["type"] = json!(["string", "null"]),
        BREAKING,
        "`prompt` now accepts null: its type changes from `T` to `Option<T>`",
        "input.json#/properties/prompt/type",
    ),
    case(
        "a string became media",
        |c| prop(c, "negative")["format"] = json!("image_uri"),
        BREAKING,
        "type changed from a string to a media file",
        "input.json#/properties/negative/type",
    ),
    // Accessors and defaults.
    case(
        "default changed",
        |c| prop(c, "size")["default"] = json!("16:9"),
        NOTABLE,
        "default changed from \"1:1\" to \"16:9\"",
        "input.json#/properties/size/default",
    ),
    case(
        "default removed",
        |c| remove(prop(c, "steps"), "default"),
        BREAKING,
        "the accessor `BaseInput::steps()` that returned `steps`'s default is gone",
        "input.json#/properties/steps/default",
    ),
    case(
        "default added",
        |c| prop(c, "guidance")["default"] = json!(3.5),
        ADDITIVE,
        "new accessor `BaseInput::guidance()`",
        "input.json#/properties/guidance/default",
    ),
    case(
        "description changed",
        |c| prop(c, "seed")["description"] = json!("The random seed."),
        NOTABLE,
        "`description` changed",
        "input.json#/properties/seed/description",
    ),
    case(
        "title changed",
        |c| prop(c, "seed")["title"] = json!("Random seed"),
        NOTABLE,
        "`title` changed",
        "input.json#/properties/seed/title",
    ),
    // Bounds, keyword by keyword.
    case(
        "maxLength lowered",
        |c| prop(c, "prompt")["maxLength"] = json!(500),
        BREAKING,
        "`maxLength` lowered from 600 to 500: values in between no longer validate",
        "input.json#/properties/prompt/maxLength",
    ),
    case(
        "maxLength raised",
        |c| prop(c, "prompt")["maxLength"] = json!(800),
        ADDITIVE,
        "`maxLength` raised from 600 to 800 (looser)",
        "input.json#/properties/prompt/maxLength",
    ),
    case(
        "maxLength added",
        |c| prop(c, "negative")["maxLength"] = json!(100),
        BREAKING,
        "`maxLength` 100 added: larger values",
        "input.json#/properties/negative/maxLength",
    ),
    case(
        "minLength added",
        |c| prop(c, "prompt")["minLength"] = json!(1),
        BREAKING,
        "`minLength` 1 added: smaller values",
        "input.json#/properties/prompt/minLength",
    ),
    case(
        "maxItems lowered",
        |c| prop(c, "images")["maxItems"] = json!(4),
        BREAKING,
        "`maxItems` lowered from 10 to 4",
        "input.json#/properties/images/maxItems",
    ),
    case(
        "minItems raised",
        |c| prop(c, "images")["minItems"] = json!(2),
        BREAKING,
        "`minItems` raised from 1 to 2",
        "input.json#/properties/images/minItems",
    ),
    case(
        "minItems lowered",
        |c| prop(c, "images")["minItems"] = json!(0),
        ADDITIVE,
        "`minItems` lowered from 1 to 0 (looser)",
        "input.json#/properties/images/minItems",
    ),
    case(
        "maximum lowered",
        |c| prop(c, "seed")["maximum"] = json!(50),
        BREAKING,
        "`maximum` lowered from 100 to 50",
        "input.json#/properties/seed/maximum",
    ),
    case(
        "minimum raised",
        |c| prop(c, "seed")["minimum"] = json!(10),
        BREAKING,
        "`minimum` raised from 0 to 10",
        "input.json#/properties/seed/minimum",
    ),
    case(
        "maximum raised",
        |c| prop(c, "guidance")["maximum"] = json!(30),
        ADDITIVE,
        "`maximum` raised from 20 to 30 (looser)",
        "input.json#/properties/guidance/maximum",
    ),
    case(
        "minimum removed",
        |c| remove(prop(c, "seed"), "minimum"),
        ADDITIVE,
        "`minimum` 0 removed (looser)",
        "input.json#/properties/seed/minimum",
    ),
    case(
        "exclusiveMinimum added",
        |c| prop(c, "guidance")["exclusiveMinimum"] = json!(0),
        BREAKING,
        "`exclusiveMinimum` 0 added",
        "input.json#/properties/guidance/exclusiveMinimum",
    ),
    case(
        "multipleOf coarser",
        |c| prop(c, "guidance")["multipleOf"] = json!(1),
        BREAKING,
        "`multipleOf` changed from 0.5 to 1: multiples of 0.5 that are not of 1 no longer validate",
        "input.json#/properties/guidance/multipleOf",
    ),
    case(
        "multipleOf finer",
        |c| prop(c, "guidance")["multipleOf"] = json!(0.25),
        ADDITIVE,
        "`multipleOf` changed from 0.5 to 0.25 (looser)",
        "input.json#/properties/guidance/multipleOf",
    ),
    case(
        "multipleOf added",
        |c| prop(c, "steps")["multipleOf"] = json!(2),
        BREAKING,
        "`multipleOf` 2 added",
        "input.json#/properties/steps/multipleOf",
    ),
    case(
        "minProperties added",
        |c| prop(c, "metadata")["minProperties"] = json!(1),
        BREAKING,
        "`minProperties` 1 added",
        "input.json#/properties/metadata/minProperties",
    ),
    // Other constraints.
    case(
        "pattern added",
        |c| prop(c, "negative")["pattern"] = json!("^[a-z ]*$"),
        BREAKING,
        "`pattern` `^[a-z ]*$` added",
        "input.json#/properties/negative/pattern",
    ),
    case(
        "format added",
        |c| prop(c, "negative")["format"] = json!("email"),
        BREAKING,
        "`format` `email` added",
        "input.json#/properties/negative/format",
    ),
    case(
        "const added",
        |c| prop(c, "negative")["const"] = json!("none"),
        BREAKING,
        "`const` \"none\" added",
        "input.json#/properties/negative/const",
    ),
    case(
        "uniqueItems added",
        |c| prop(c, "images")["uniqueItems"] = json!(true),
        BREAKING,
        "`uniqueItems` added",
        "input.json#/properties/images/uniqueItems",
    ),
    case(
        "not added",
        |c| prop(c, "negative")["not"] = json!({"const": ""}),
        BREAKING,
        "`not` added",
        "input.json#/properties/negative/not",
    ),
    case(
        "if added",
        |c| {
            prop(c, "seed")["if"] = json!({"minimum": 50});
            prop(c, "seed")["then"] = json!({"multipleOf": 2});
        },
        BREAKING,
        "`if` added",
        "input.json#/properties/seed/if",
    ),
    case(
        "contains added",
        |c| prop(c, "images")["contains"] = json!({"pattern": "^https:"}),
        BREAKING,
        "`contains` added",
        "input.json#/properties/images/contains",
    ),
    case(
        "dependency added",
        |c| input(c)["dependentRequired"] = json!({"mask": ["seed"]}),
        BREAKING,
        "`dependencies` of `mask` added",
        "input.json#/dependentRequired/mask",
    ),
    case(
        "pattern property added",
        |c| prop(c, "metadata")["patternProperties"] = json!({"^x-": {"type": "string"}}),
        BREAKING,
        "`patternProperties` `^x-` added",
        "input.json#/properties/metadata/patternProperties/^x-",
    ),
    case(
        "propertyNames added",
        |c| prop(c, "metadata")["propertyNames"] = json!({"maxLength": 8}),
        BREAKING,
        "`propertyNames` added",
        "input.json#/properties/metadata/propertyNames",
    ),
    case(
        "unevaluatedProperties added",
        |c| prop(c, "metadata")["unevaluatedProperties"] = json!(false),
        BREAKING,
        "`unevaluatedProperties` added",
        "input.json#/properties/metadata/unevaluatedProperties",
    ),
    case(
        "unevaluatedItems added",
        |c| prop(c, "images")["unevaluatedItems"] = json!({"pattern": "^https:"}),
        BREAKING,
        "`unevaluatedItems` added",
        "input.json#/properties/images/unevaluatedItems",
    ),
    case(
        "enum on a number",
        |c| prop(c, "guidance")["enum"] = json!([1, 2.5, 5]),
        BREAKING,
        "`enum` added: only 1, 2.5, 5 are accepted now",
        "input.json#/properties/guidance/enum",
    ),
    case(
        "property required in a JSON object",
        |c| prop(c, "metadata")["required"] = json!(["id"]),
        BREAKING,
        "property `id` is now required",
        "input.json#/properties/metadata/required",
    ),
    case(
        "allOf added, its member merged into the node",
        |c| prop(c, "negative")["allOf"] = json!([{"maxLength": 10}]),
        BREAKING,
        "`maxLength` 10 added",
        "input.json#/properties/negative/allOf/0/maxLength",
    ),
    case(
        "anyOf member added",
        |c| {
            prop(c, "hint")["anyOf"]
                .as_array_mut()
                .unwrap()
                .push(json!({"pattern": "^y"}))
        },
        ADDITIVE,
        "`anyOf` has 1 member(s) more (looser)",
        "input.json#/properties/hint/anyOf",
    ),
    case(
        "anyOf member removed",
        |c| {
            prop(c, "hint")["anyOf"].as_array_mut().unwrap().pop();
        },
        BREAKING,
        "`anyOf` has 1 member(s) fewer",
        "input.json#/properties/hint/anyOf",
    ),
    case(
        "anyOf member loosened",
        |c| prop(c, "hint")["anyOf"][0]["maxLength"] = json!(20),
        ADDITIVE,
        "`maxLength` raised from 10 to 20 (looser)",
        "input.json#/properties/hint/anyOf/0/maxLength",
    ),
    case(
        "oneOf member loosened",
        |c| prop(c, "pick")["oneOf"][0]["maxLength"] = json!(5),
        BREAKING,
        "`maxLength` raised from 3 to 5 (looser) (inside a `oneOf`",
        "input.json#/properties/pick/oneOf/0/maxLength",
    ),
    // Choice enums.
    case(
        "enum value added",
        |c| prop(c, "size")["enum"] = json!(["1:1", "16:9", "4:3"]),
        ADDITIVE,
        "value \"4:3\" added as `Size::V4x3` (generated enums are #[non_exhaustive])",
        "input.json#/properties/size/enum",
    ),
    case(
        "integer choice added",
        |c| prop(c, "count")["enum"] = json!([1, 2, 3, 4]),
        ADDITIVE,
        "choice(s) 4 now accepted",
        "input.json#/properties/count/enum",
    ),
    case(
        "enum value removed",
        |c| prop(c, "size")["enum"] = json!(["1:1"]),
        BREAKING,
        "value \"16:9\" removed (`Size::V16x9` is gone, and inputs with it no longer validate)",
        "input.json#/properties/size/enum",
    ),
    case(
        "a value's Rust name kept for the value replacing it",
        |c| {
            prop(c, "size")["enum"] = json!(["1:1", "16:10"]);
            overlay(c)["fields"]["size"] = json!({"variants": {"16:10": "V16x9"}});
        },
        BREAKING,
        "value \"16:9\" removed (inputs with it no longer validate, and `Size::V16x9` now sends \"16:10\")",
        "input.json#/properties/size/enum",
    ),
    case(
        "a bound written otherwise",
        |c| prop(c, "steps")["minimum"] = json!(1.0),
        NOTABLE,
        "`minimum` 1 written as 1.0: the same values pass",
        "input.json#/properties/steps/minimum",
    ),
    case(
        "variant renamed by the overlay",
        |c| overlay(c)["fields"]["size"] = json!({"variants": {"1:1": "Square"}}),
        BREAKING,
        "value \"1:1\" renamed in Rust: `Size::V1x1` → `Size::Square`",
        "input.json#/properties/size/enum",
    ),
    case(
        "enum type renamed by the overlay",
        |c| overlay(c)["fields"]["size"] = json!({"type_name": "AspectRatio"}),
        BREAKING,
        "enum type renamed `Size` → `AspectRatio`",
        "input.json#/properties/size/enum",
    ),
    case(
        "string choices become integers of a named enum",
        |c| {
            prop(c, "size").clone_from(&json!({"title": "Size", "description": "Aspect ratio.", "type": "integer", "enum": [1, 2], "default": 1}));
            // Integer choices are an enum only when the overlay names one.
            overlay(c)["fields"]["size"] = json!({"type_name": "Size"});
        },
        BREAKING,
        "enum `Size` values changed from strings to integers",
        "input.json#/properties/size/enum",
    ),
    case(
        "alias given by the overlay",
        |c| overlay(c)["fields"]["size"] = json!({"aliases": {"16:9": "wide"}}),
        ADDITIVE,
        "alias \"wide\" added for \"16:9\"",
        "input.json#/properties/size/enum",
    ),
    // Unions of JSON types.
    case(
        "union variant added",
        |c| prop(c, "tolerance")["type"] = json!(["integer", "string", "boolean"]),
        BREAKING,
        "`Tolerance::Boolean` (boolean) added: exhaustive `match`es on `Tolerance` no longer compile",
        "input.json#/properties/tolerance",
    ),
    case(
        "union narrowed to one type",
        |c| prop(c, "tolerance")["type"] = json!("integer"),
        BREAKING,
        "type changed from the union `Tolerance` to an integer",
        "input.json#/properties/tolerance/type",
    ),
    // Nested structs.
    case(
        "nested optional field added",
        |c| prop(c, "lora")["properties"]["rank"] = json!({"type": "integer"}),
        ADDITIVE,
        "new optional field `rank` (the struct is #[non_exhaustive]; set it with `with_rank`)",
        "input.json#/properties/lora/properties/rank",
    ),
    case(
        "nested required field added",
        |c| {
            prop(c, "lora")["properties"]["rank"] = json!({"type": "integer"});
            prop(c, "lora")["required"] = json!(["path", "rank"]);
        },
        BREAKING,
        "new required field `rank`: `Lora::new` takes one more argument",
        "input.json#/properties/lora/properties/rank",
    ),
    case(
        "nested bound tightened",
        |c| prop(c, "lora")["properties"]["scale"]["maximum"] = json!(1),
        BREAKING,
        "`maximum` lowered from 2 to 1",
        "input.json#/properties/lora/properties/scale/maximum",
    ),
    case(
        "nested type renamed by the overlay",
        |c| overlay(c)["fields"]["lora"] = json!({"type_name": "Adapter"}),
        BREAKING,
        "nested type renamed `Lora` → `Adapter`",
        "input.json#/properties/lora",
    ),
    // A shape written out again is one type, named after its first use (QA repro32 M3: the
    // rename was told at the new field, or at the first use, not where the type changed).
    case(
        "a field of the same shape added first: the renamed type told where it is used",
        |c| {
            let lora = prop(c, "lora").clone();
            move_first(c, "adapter", lora);
        },
        BREAKING,
        "nested type renamed `Lora` → `Adapter`",
        "input.json#/properties/lora",
    ),
    case(
        "nested struct closed",
        |c| prop(c, "lora")["additionalProperties"] = json!(false),
        BREAKING,
        "`Lora.extra` is gone: the struct is closed",
        "input.json#/properties/lora/additionalProperties",
    ),
    case(
        "nested struct closed, seen from validation",
        |c| prop(c, "lora")["additionalProperties"] = json!(false),
        BREAKING,
        "`additionalProperties` is now `false`: properties the schema does not name no longer validate",
        "input.json#/properties/lora/additionalProperties",
    ),
    case(
        "input opened to other properties",
        |c| input(c)["additionalProperties"] = json!(true),
        ADDITIVE,
        "`BaseInput` gains `extra`, the properties the schema does not name",
        "input.json#/additionalProperties",
    ),
    // Media.
    case(
        "validation rule added",
        |c| {
            prop(c, "images")["validations"].as_array_mut().unwrap().push(json!({"validation_rule": "height_pixels>", "validation_value": 14, "validation_error": "Too short."}))
        },
        BREAKING,
        "validation `height_pixels>` 14 added",
        "input.json#/properties/images/validations",
    ),
    case(
        "validation tightened",
        |c| prop(c, "images")["validations"][0]["validation_value"] = json!(5),
        BREAKING,
        "validation `file_size_mb<` tightened from 10 to 5",
        "input.json#/properties/images/validations",
    ),
    case(
        "lower-bound validation tightened",
        |c| prop(c, "images")["validations"][1]["validation_value"] = json!(64),
        BREAKING,
        "validation `width_pixels>` tightened from 14 to 64",
        "input.json#/properties/images/validations",
    ),
    case(
        "lower-bound validation loosened",
        |c| prop(c, "images")["validations"][1]["validation_value"] = json!(8),
        ADDITIVE,
        "validation `width_pixels>` loosened from 14 to 8",
        "input.json#/properties/images/validations",
    ),
    case(
        "validation loosened",
        |c| prop(c, "images")["validations"][0]["validation_value"] = json!(20),
        ADDITIVE,
        "validation `file_size_mb<` loosened from 10 to 20",
        "input.json#/properties/images/validations",
    ),
    case(
        "validation removed",
        |c| {
            prop(c, "images")["validations"]
                .as_array_mut()
                .unwrap()
                .remove(1);
        },
        ADDITIVE,
        "validation `width_pixels>` 14 removed (looser)",
        "input.json#/properties/images/validations",
    ),
    case(
        "validation message reworded",
        |c| prop(c, "images")["validations"][0]["validation_error"] = json!("Smaller, please."),
        NOTABLE,
        "validation messages changed",
        "input.json#/properties/images/validations",
    ),
    case(
        "a looser rule beside a stricter one",
        |c| {
            prop(c, "images")["validations"].as_array_mut().unwrap().push(json!({"validation_rule": "file_size_mb<", "validation_value": 20, "validation_error": "Big."}))
        },
        NOTABLE,
        "the same files pass",
        "input.json#/properties/images/validations",
    ),
    case(
        "format no longer accepted",
        |c| overlay(c)["fields"]["images"]["formats"] = json!(["jpeg"]),
        BREAKING,
        "format(s) png no longer accepted",
        "overlay.json#/fields/images/formats",
    ),
    case(
        "format now accepted",
        |c| overlay(c)["fields"]["images"]["formats"] = json!(["jpeg", "png", "webp"]),
        ADDITIVE,
        "format(s) webp now accepted",
        "overlay.json#/fields/images/formats",
    ),
    case(
        "any format accepted",
        |c| remove(&mut overlay(c)["fields"], "images"),
        ADDITIVE,
        "any format accepted now, not only jpeg or png",
        "overlay.json#/fields/images/formats",
    ),
    case(
        "media kind changed",
        |c| prop(c, "mask")["format"] = json!("video_uri"),
        BREAKING,
        "the value must now be a video, not an image",
        "input.json#/properties/mask/format",
    ),
    // Rules across fields.
    case(
        "max_total lowered",
        |c| overlay(c)["rules"][0]["max"] = json!(8),
        BREAKING,
        "rule `max_total` over images + count: max lowered from 12 to 8",
        "overlay.json#/rules/0",
    ),
    case(
        "max_total raised",
        |c| overlay(c)["rules"][0]["max"] = json!(20),
        ADDITIVE,
        "max raised from 12 to 20 (looser)",
        "overlay.json#/rules/0",
    ),
    case(
        "max_total message changed",
        |c| overlay(c)["rules"][0]["message"] = json!("At most 12."),
        NOTABLE,
        "rule `max_total` over images + count: message changed",
        "overlay.json#/rules/0",
    ),
    case(
        "max_total rule removed",
        |c| remove(overlay(c), "rules"),
        ADDITIVE,
        "rule `max_total` over images + count removed",
        "overlay.json#/rules/0",
    ),
    case(
        "max_total rule added",
        |c| {
            overlay(c)["rules"].as_array_mut().unwrap().push(
                json!({"rule": "max_total", "fields": ["images"], "max": 5, "message": "Five."}),
            )
        },
        BREAKING,
        "new rule `max_total` over images (at most 5)",
        "overlay.json#/rules/1",
    ),
    case(
        "prompt_count rule added",
        |c| {
            overlay(c)["rules"].as_array_mut().unwrap().push(json!({"rule": "prompt_count", "prompt": "prompt", "count": "count", "message": "Say how many."}))
        },
        NOTABLE,
        "new rule `prompt_count` over prompt + count (a warning only)",
        "overlay.json#/rules/1",
    ),
    case(
        "at_least_one rule added",
        |c| {
            overlay(c)["rules"].as_array_mut().unwrap().push(
                json!({"rule": "at_least_one", "fields": ["negative", "mask"], "message": "One."}),
            )
        },
        BREAKING,
        "new rule `at_least_one` over negative + mask: inputs that validated before can be rejected",
        "overlay.json#/rules/1",
    ),
    case(
        "at_most_one rule added",
        |c| {
            overlay(c)["rules"].as_array_mut().unwrap().push(json!({"rule": "at_most_one", "fields": ["negative", "mask"], "message": "Not both."}))
        },
        BREAKING,
        "new rule `at_most_one` over negative + mask: inputs that validated before can be rejected",
        "overlay.json#/rules/1",
    ),
    // What `INFO` holds as values: told, but nothing compiles or validates differently.
    case(
        "price changed",
        |c| upstream(c)["base_price_usd"] = json!(0.09),
        NOTABLE,
        "price changed from $0.03 to $0.09: estimates and `--max-spend` budgets change",
        "upstream.json#/base_price_usd",
    ),
    case(
        "price unit changed",
        |c| upstream(c)["price_unit"] = json!("second"),
        NOTABLE,
        "price unit changed from output to second",
        "upstream.json#/price_unit",
    ),
    case(
        "pricing changed",
        |c| upstream(c)["pricing"] = json!("base"),
        NOTABLE,
        "pricing changed from fixed to base",
        "upstream.json#/pricing",
    ),
    case(
        "price note added",
        |c| upstream(c)["pricing_note"] = json!("Per megapixel."),
        NOTABLE,
        "price note changed",
        "upstream.json#/pricing_note",
    ),
    case(
        "price no longer known",
        |c| remove(upstream(c), "base_price_usd"),
        NOTABLE,
        "price changed from $0.03 to not known",
        "upstream.json#/base_price_usd",
    ),
    case(
        "output kind changed",
        |c| upstream(c)["output_kind"] = json!("video"),
        NOTABLE,
        "output kind changed from image to video",
        "upstream.json#/output_kind",
    ),
    case(
        "output kind changed by the overlay",
        |c| overlay(c)["output_kind"] = json!("audio"),
        NOTABLE,
        "output kind changed from image to audio",
        "upstream.json#/output_kind",
    ),
    case(
        "categories changed",
        |c| upstream(c)["categories"] = json!(["text-to-image", "image-to-image"]),
        NOTABLE,
        "categories changed from [text-to-image] to [text-to-image, image-to-image]",
        "upstream.json#/categories",
    ),
    case(
        "a field counts the price's units",
        |c| overlay(c)["fields"]["count"] = json!({"price_units": "output"}),
        NOTABLE,
        "`count` now counts the price's outputs",
        "input.json#/properties/count",
    ),
    // Outputs.
    case(
        "output field removed",
        |c| {
            outputs(c, |p| {
                p.remove("videos");
            })
        },
        BREAKING,
        "output field `videos` removed (`BaseOutput.videos` is gone)",
        "output.json#/output/properties/videos",
    ),
    case(
        "output field added",
        |c| {
            outputs(c, |p| {
                p.insert("seed".into(), json!({"type": "integer"}));
            })
        },
        ADDITIVE,
        "new output field `seed` (the output type is #[non_exhaustive])",
        "output.json#/output/properties/seed",
    ),
    case(
        "output field type changed",
        |c| {
            outputs(c, |p| {
                p.insert(
                    "image".into(),
                    json!({"type": "integer", "description": "Single image URL"}),
                );
            })
        },
        BREAKING,
        "output field `image` changed from a string to an integer",
        "output.json#/output/properties/image/type",
    ),
    case(
        "output field documented differently",
        |c| outputs(c, |p| p["image"]["description"] = json!("The image.")),
        NOTABLE,
        "documentation of output field `image` changed",
        "output.json#/output/properties/image",
    ),
    case(
        "output field named like the extra map",
        |c| {
            outputs(c, |p| {
                p.insert("extra".into(), json!({"type": "string"}));
            })
        },
        BREAKING,
        "`BaseOutput.extra` (properties the schema does not list) renamed `extra_fields`",
        "output.json#/output",
    ),
    // Nothing that users see.
    case(
        "upstream change undone by an overlay patch",
        |c| {
            prop(c, "prompt")["maxLength"] = json!(500);
            overlay(c)["patch"] = json!({"properties": {"prompt": {"maxLength": 600}}});
        },
        None,
        "",
        "",
    ),
    case("nothing changed", |_| {}, None, "", ""),
];

/// A `not` removed is looser; under one kept, a schema accepting more refuses more.
#[test]
fn a_not_removed_is_looser_and_one_loosened_breaks() {
    let with_not = |c: &mut Catalog| prop(c, "negative")["not"] = json!({"maxLength": 3});
    let removed = diff_between(with_not, |_| {});
    assert_eq!(compat::worst(&removed), ADDITIVE, "{removed:?}");
    assert!(
        removed.iter().any(|c| c.what.contains("`not` removed")),
        "{removed:?}"
    );
    let loosened = diff_between(with_not, |c| {
        prop(c, "negative")["not"] = json!({"maxLength": 5});
    });
    assert_eq!(compat::worst(&loosened), BREAKING, "{loosened:?}");
    assert!(
        loosened.iter().any(|c| c.what.contains("inside a `not`")),
        "{loosened:?}"
    );
}

/// A number's bounds are compared as they take effect: `minimum` and `exclusiveMinimum` (or
/// the maxima) together, and for a field only integers pass, as the integers they let through.
#[test]
fn number_bounds_are_compared_by_the_values_they_let_through() {
    type Edit = fn(&mut Value);
    /// A name, the field edited, the edit, and the worst impact, a phrase of it and where.
    type BoundCase = (
        &'static str,
        &'static str,
        Edit,
        Option<Impact>,
        &'static str,
        &'static str,
    );
    let cases: &[BoundCase] = &[
        (
            "an integer's maximum written as the exclusive bound one above",
            "seed",
            |s| {
                remove(s, "maximum");
                s["exclusiveMaximum"] = json!(101);
            },
            NOTABLE,
            "`exclusiveMaximum` 101 added in place of `maximum` 100: the same values pass",
            "/properties/seed/exclusiveMaximum",
        ),
        (
            "an integer's minimum written as the exclusive bound one below",
            "seed",
            |s| {
                remove(s, "minimum");
                s["exclusiveMinimum"] = json!(-1);
            },
            NOTABLE,
            "`exclusiveMinimum` -1 added in place of `minimum` 0: the same values pass",
            "/properties/seed/exclusiveMinimum",
        ),
        (
            "an integer's maximum made exclusive",
            "seed",
            |s| {
                remove(s, "maximum");
                s["exclusiveMaximum"] = json!(100);
            },
            BREAKING,
            "`exclusiveMaximum` 100 added in place of `maximum` 100: values in between no longer validate",
            "/properties/seed/exclusiveMaximum",
        ),
        (
            "an integer's exclusive maximum two above",
            "seed",
            |s| {
                remove(s, "maximum");
                s["exclusiveMaximum"] = json!(102);
            },
            ADDITIVE,
            "`exclusiveMaximum` 102 added in place of `maximum` 100 (looser)",
            "/properties/seed/exclusiveMaximum",
        ),
        (
            "an integer's maximum raised by less than one",
            "seed",
            |s| s["maximum"] = json!(100.5),
            NOTABLE,
            "`maximum` raised from 100 to 100.5: the same values pass",
            "/properties/seed/maximum",
        ),
        (
            "a number's maximum written as a looser exclusive bound",
            "guidance",
            |s| {
                remove(s, "maximum");
                s["exclusiveMaximum"] = json!(21);
            },
            ADDITIVE,
            "`exclusiveMaximum` 21 added in place of `maximum` 20 (looser)",
            "/properties/guidance/exclusiveMaximum",
        ),
        (
            "a number's maximum made exclusive",
            "guidance",
            |s| {
                remove(s, "maximum");
                s["exclusiveMaximum"] = json!(20);
            },
            BREAKING,
            "`exclusiveMaximum` 20 added in place of `maximum` 20: values in between no longer validate",
            "/properties/guidance/exclusiveMaximum",
        ),
        (
            "a number's minimum made exclusive",
            "guidance",
            |s| {
                remove(s, "minimum");
                s["exclusiveMinimum"] = json!(0);
            },
            BREAKING,
            "`exclusiveMinimum` 0 added in place of `minimum` 0",
            "/properties/guidance/exclusiveMinimum",
        ),
        (
            "a number's minimum written as a looser exclusive bound",
            "guidance",
            |s| {
                remove(s, "minimum");
                s["exclusiveMinimum"] = json!(-0.5);
            },
            ADDITIVE,
            "`exclusiveMinimum` -0.5 added in place of `minimum` 0 (looser)",
            "/properties/guidance/exclusiveMinimum",
        ),
        (
            "an exclusive bound beside a tighter inclusive one",
            "seed",
            |s| s["exclusiveMaximum"] = json!(200),
            None,
            "",
            "",
        ),
        (
            "an inclusive bound beside a tighter exclusive one",
            "guidance",
            |s| s["exclusiveMaximum"] = json!(20),
            BREAKING,
            "`exclusiveMaximum` 20 added beside `maximum` 20",
            "/properties/guidance/exclusiveMaximum",
        ),
        (
            "a nested number's maximum written as an exclusive bound",
            "lora",
            |s| {
                remove(&mut s["properties"]["scale"], "maximum");
                s["properties"]["scale"]["exclusiveMaximum"] = json!(2.5);
            },
            ADDITIVE,
            "`exclusiveMaximum` 2.5 added in place of `maximum` 2 (looser)",
            "/properties/lora/properties/scale/exclusiveMaximum",
        ),
        (
            "an integer's exclusive maximum removed",
            "seed",
            |s| remove(s, "maximum"),
            ADDITIVE,
            "`maximum` 100 removed (looser)",
            "/properties/seed/maximum",
        ),
    ];
    let mut failures = Vec::new();
    for (name, field, edit, worst, phrase, at) in cases {
        let changes = diff_of(|c| edit(prop(c, field)));
        let found = worst.is_none()
            || changes.iter().any(|c| {
                Some(c.impact) == *worst
                    && c.what.contains(phrase)
                    && c.file == "input.json"
                    && c.pointer == *at
            });
        if compat::worst(&changes) != *worst || !found {
            failures.push(format!(
                "{name}: expected {worst:?} with {phrase:?} at {at}, got {changes:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Draft 4's `exclusiveMaximum: true` makes its `maximum` exclusive: one value fewer passes.
#[test]
fn a_draft_4_exclusive_flag_is_a_bound_made_exclusive() {
    let draft4 = |c: &mut Catalog| {
        input(c)["$schema"] = json!("http://json-schema.org/draft-04/schema#");
    };
    let changes = diff_between(draft4, |c| {
        draft4(c);
        prop(c, "seed")["exclusiveMaximum"] = json!(true);
    });
    assert_eq!(compat::worst(&changes), BREAKING, "{changes:#?}");
    assert!(
        changes.iter().any(|c| c
            .what
            .contains("`exclusiveMaximum` 100 added in place of `maximum` 100")),
        "{changes:#?}"
    );
}

/// A schema moved behind a `$ref` (into `$defs` or `definitions`, through a chain of them, for
/// a field, a nested object, a nested property or a list's items) is the same schema: nothing
/// compiles or validates differently, and nothing is reported.
#[test]
fn a_schema_moved_behind_a_ref_changes_nothing() {
    type Edit = fn(&mut Catalog);
    /// Moves the schema at `at` into `defs`, as `name`, behind a `$ref`.
    fn moved(c: &mut Catalog, at: &[&str], defs: &str, name: &str) {
        let mut place = input(c);
        for key in at {
            place = &mut place[*key];
        }
        let schema = std::mem::replace(place, json!({"$ref": format!("#/{defs}/{name}")}));
        input(c)[defs][name] = schema;
    }
    let cases: &[(&str, Edit)] = &[
        ("a field into $defs", |c| {
            moved(c, &["properties", "seed"], "$defs", "Seed")
        }),
        ("a field into definitions", |c| {
            moved(c, &["properties", "seed"], "definitions", "Seed")
        }),
        ("a required field", |c| {
            moved(c, &["properties", "prompt"], "$defs", "Prompt")
        }),
        // The generator reads a default where the field is (an accessor comes with it), so
        // it stays beside the `$ref`.
        ("a field with a Rust enum", |c| {
            moved(c, &["properties", "size"], "$defs", "Size");
            let default = input(c)["$defs"]["Size"]["default"].take();
            remove(&mut input(c)["$defs"]["Size"], "default");
            prop(c, "size")["default"] = default;
        }),
        ("a union", |c| {
            moved(c, &["properties", "tolerance"], "$defs", "Tolerance")
        }),
        ("a field with an anyOf", |c| {
            moved(c, &["properties", "hint"], "$defs", "Hint")
        }),
        ("a field, its docs left beside the $ref", |c| {
            moved(c, &["properties", "seed"], "$defs", "Seed");
            let def = &mut input(c)["$defs"]["Seed"];
            let (title, description) = (def["title"].take(), def["description"].take());
            remove(def, "title");
            remove(def, "description");
            let field = prop(c, "seed");
            field["title"] = title;
            field["description"] = description;
        }),
        ("through a chain of $refs", |c| {
            moved(c, &["properties", "seed"], "$defs", "Seed");
            moved(c, &["$defs", "Seed"], "$defs", "Number");
        }),
        ("a nested object", |c| {
            moved(c, &["properties", "lora"], "$defs", "Lora")
        }),
        ("a nested object's property", |c| {
            moved(
                c,
                &["properties", "lora", "properties", "scale"],
                "$defs",
                "Scale",
            )
        }),
        ("a list's items", |c| {
            moved(c, &["properties", "images", "items"], "$defs", "Image")
        }),
        ("a free object", |c| {
            moved(c, &["properties", "metadata"], "$defs", "Metadata")
        }),
    ];
    let mut failures = Vec::new();
    let nothing: Edit = |_| {};
    for (name, edit) in cases {
        for (from, to) in [(*edit, nothing), (nothing, *edit)] {
            let changes = diff_between(from, to);
            if !changes.is_empty() {
                failures.push(format!("{name}: {changes:#?}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Draft 7's `$ref` is its target: moved behind one, a schema is the same there too.
#[test]
fn a_schema_moved_behind_a_draft_7_ref_changes_nothing() {
    let draft7 = |c: &mut Catalog| {
        input(c)["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    };
    let changes = diff_between(draft7, |c| {
        draft7(c);
        let seed = prop(c, "seed").take();
        input(c)["definitions"]["Seed"] = seed;
        prop(c, "seed").clone_from(&json!({"$ref": "#/definitions/Seed"}));
    });
    assert!(changes.is_empty(), "{changes:#?}");
}

/// Behind a `$ref`, a change is classified as it is in place, and points where it was made;
/// a `$ref` whose target cannot be merged with the keywords beside it stays an `allOf`.
#[test]
fn a_change_behind_a_ref_is_classified_where_it_is() {
    let behind = |c: &mut Catalog| {
        let seed = prop(c, "seed").take();
        input(c)["$defs"]["Seed"] = seed;
        prop(c, "seed").clone_from(&json!({"$ref": "#/$defs/Seed"}));
    };
    let lowered = diff_of(|c| {
        behind(c);
        input(c)["$defs"]["Seed"]["maximum"] = json!(50);
    });
    let lines: Vec<String> = lowered.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "BREAKING input.json#/$defs/Seed/maximum: `maximum` lowered from 100 to 50: values in between no longer validate"
        ]
    );
    let beside = diff_of(|c| {
        behind(c);
        prop(c, "seed")["maximum"] = json!(50);
    });
    let lines: Vec<String> = beside.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "BREAKING input.json#/properties/seed/maximum: `maximum` lowered from 100 to 50: values in between no longer validate"
        ]
    );
    // A schema two fields share is changed once, where it is written.
    let shared = |c: &mut Catalog| {
        input(c)["$defs"]["Text"] = json!({"type": "string"});
        prop(c, "negative")["$ref"] = json!("#/$defs/Text");
        prop(c, "style").clone_from(&json!({"$ref": "#/$defs/Text"}));
    };
    let once = diff_between(shared, |c| {
        shared(c);
        input(c)["$defs"]["Text"]["maxLength"] = json!(5);
    });
    let lines: Vec<String> = once.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "BREAKING input.json#/$defs/Text/maxLength: `maxLength` 5 added: larger values that validated before are rejected"
        ]
    );
    let raised = diff_between(behind, |c| {
        behind(c);
        input(c)["$defs"]["Seed"]["maximum"] = json!(200);
    });
    assert_eq!(compat::worst(&raised), ADDITIVE, "{raised:#?}");
    // Two `pattern`s hold together only as an `allOf`.
    let patterns = diff_of(|c| {
        input(c)["$defs"]["Text"] = json!({"type": "string", "pattern": "^a"});
        let negative = prop(c, "negative");
        negative["$ref"] = json!("#/$defs/Text");
        negative["pattern"] = json!("^b");
    });
    let whats: Vec<&str> = patterns.iter().map(|c| c.what.as_str()).collect();
    assert!(
        whats.iter().any(|w| w.starts_with("`allOf` added")),
        "{patterns:#?}"
    );
    assert!(
        whats.iter().any(|w| w.starts_with("`pattern` `^b` added")),
        "{patterns:#?}"
    );
}

/// `at_least_one` and `at_most_one` are errors in `validate()`: whatever the old rules did not
/// imply refuses inputs that passed, and an old rule the new ones do not imply is looser.
#[test]
fn rules_on_which_fields_are_given_are_judged_as_a_set() {
    let rule = |kind: &str, fields: &[&str], message: &str| json!({"rule": kind, "fields": fields, "message": message});
    let least = |fields: &[&str]| rule("at_least_one", fields, "One.");
    let most = |fields: &[&str]| rule("at_most_one", fields, "Not both.");
    let cases = [
        (
            "at_least_one narrowed",
            vec![least(&["negative", "mask"])],
            vec![least(&["negative"])],
            BREAKING,
            "rule `at_least_one` over negative + mask now over negative: inputs that validated before can be rejected",
        ),
        (
            "at_least_one widened",
            vec![least(&["negative"])],
            vec![least(&["negative", "mask"])],
            ADDITIVE,
            "rule `at_least_one` over negative now over negative + mask (looser)",
        ),
        (
            "at_least_one moved to other fields",
            vec![least(&["negative", "mask"])],
            vec![least(&["mask", "seed"])],
            BREAKING,
            "now over mask + seed: inputs that validated before can be rejected",
        ),
        (
            "at_most_one over more fields",
            vec![most(&["negative", "mask"])],
            vec![most(&["negative", "mask", "seed"])],
            BREAKING,
            "rule `at_most_one` over negative + mask now over negative + mask + seed: inputs",
        ),
        (
            "at_most_one over fewer fields",
            vec![most(&["negative", "mask", "seed"])],
            vec![most(&["negative", "mask"])],
            ADDITIVE,
            "now over negative + mask (looser)",
        ),
        (
            "at_least_one removed",
            vec![least(&["negative", "mask"])],
            vec![],
            ADDITIVE,
            "rule `at_least_one` over negative + mask removed (looser)",
        ),
        (
            "at_most_one removed",
            vec![most(&["negative", "mask"])],
            vec![],
            ADDITIVE,
            "rule `at_most_one` over negative + mask removed (looser)",
        ),
        (
            "at_least_one replaced by an at_most_one",
            vec![least(&["negative", "mask"])],
            vec![most(&["negative", "mask"])],
            BREAKING,
            "new rule `at_most_one` over negative + mask",
        ),
        (
            "an at_least_one the old rules imply",
            vec![least(&["negative"])],
            vec![least(&["negative"]), least(&["negative", "mask"])],
            NOTABLE,
            "new rule `at_least_one` over negative + mask: the rules before refused what it refuses",
        ),
        (
            "an at_most_one the new rules still imply",
            vec![
                most(&["negative", "mask", "seed"]),
                most(&["negative", "mask"]),
            ],
            vec![most(&["negative", "mask", "seed"])],
            NOTABLE,
            "rule `at_most_one` over negative + mask removed: the rules left refuse what it refused",
        ),
        (
            "message changed",
            vec![least(&["negative", "mask"])],
            vec![rule("at_least_one", &["negative", "mask"], "Give one.")],
            NOTABLE,
            "rule `at_least_one` over negative + mask: message changed",
        ),
        (
            "fields reordered",
            vec![most(&["negative", "mask"])],
            vec![most(&["mask", "negative"])],
            None,
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (name, old, new, worst, phrase) in cases {
        let set = |rules: &[Value]| {
            let rules = rules.to_vec();
            move |c: &mut Catalog| overlay(c)["rules"] = Value::Array(rules.clone())
        };
        let changes = diff_between(set(&old), set(&new));
        let found = worst.is_none()
            || changes.iter().any(|c| {
                Some(c.impact) == worst && c.what.contains(phrase) && c.file == "overlay.json"
            });
        if compat::worst(&changes) != worst || !found {
            failures.push(format!(
                "{name}: expected {worst:?} with {phrase:?}, got {changes:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Whether a model has an `output.json` is in `INFO`: told, beside what its fields do.
#[test]
fn an_output_file_added_or_removed_is_told() {
    let without = |c: &mut Catalog| {
        c.get_mut(BASE).unwrap().output = Value::Null;
    };
    for (old, new, phrase) in [
        (
            without as fn(&mut Catalog),
            (|_| {}) as fn(&mut Catalog),
            "`output.json` added",
        ),
        (
            (|_| {}) as fn(&mut Catalog),
            without as fn(&mut Catalog),
            "`output.json` removed",
        ),
    ] {
        let changes = diff_between(old, new);
        assert!(
            changes.iter().any(|c| c.impact == Impact::Notable
                && c.file == "output.json"
                && c.pointer.is_empty()
                && c.what.starts_with(phrase)),
            "{changes:#?}"
        );
    }
}

/// The fields giving a job's units, by their names or by the overlay, change estimates and
/// budgets only: told both ways, and by the unit they count.
#[test]
fn the_fields_counting_the_price_are_told() {
    let counted = |unit: &'static str| {
        move |c: &mut Catalog| {
            prop(c, "frames").clone_from(&json!({"type": "integer"}));
            overlay(c)["fields"]["frames"] = json!({"price_units": unit});
        }
    };
    let by_name = |c: &mut Catalog| prop(c, "num_images").clone_from(&json!({"type": "integer"}));
    let not_by_name = |c: &mut Catalog| {
        by_name(c);
        overlay(c)["fields"]["num_images"] = json!({"price_units": "none"});
    };
    let cases: [(&str, Vec<Change>, &str); 4] = [
        (
            "no longer counted",
            diff_between(counted("output"), counted("none")),
            "`frames` no longer counts the price's outputs",
        ),
        (
            "another unit",
            diff_between(counted("output"), counted("second")),
            "`frames` counts the price's seconds where it counted outputs",
        ),
        (
            "counted by its name once the overlay stops saying none",
            diff_between(not_by_name, by_name),
            "`num_images` now counts the price's outputs",
        ),
        (
            "no longer counted by its name",
            diff_between(by_name, not_by_name),
            "`num_images` no longer counts the price's outputs",
        ),
    ];
    for (name, changes, phrase) in cases {
        assert_eq!(compat::worst(&changes), NOTABLE, "{name}: {changes:#?}");
        assert!(
            changes.iter().any(|c| c.what.contains(phrase)),
            "{name}: {changes:#?}"
        );
    }
}

#[test]
fn every_crafted_change_is_classified() {
    let mut failures = Vec::new();
    for case in CASES {
        let changes = diff_of(case.change);
        let worst = compat::worst(&changes);
        let found = case.worst.is_none()
            || changes.iter().any(|c| {
                Some(c.impact) == case.worst
                    && c.what.contains(case.phrase)
                    && format!("{}#{}", c.file, c.pointer) == case.at
            });
        if worst != case.worst || !found {
            failures.push(format!(
                "{}: expected {:?} with {:?} at {}, got {worst:?}:\n{}",
                case.name,
                case.worst,
                case.phrase,
                case.at,
                changes
                    .iter()
                    .map(|c| format!("    {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A shape written out at several places is one type whose own schema is its first use's:
/// each change is told at the use it is of, every use that changed is told (QA repro32 M3:
/// a struct's new field was told at the other field, and of two renamed uses one was told).
#[test]
fn a_shared_shape_s_changes_are_told_at_each_use() {
    let told = |changes: &[Change]| -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{}#{}: {}", c.file, c.pointer, c.what))
            .collect()
    };
    // `lora` gains `rank` and is now written as `wide` is, first: one type, `Wide`.
    let changes = diff_of(|c| {
        let mut wider = prop(c, "lora").clone();
        wider["properties"]["rank"] = json!({"type": "integer"});
        move_first(c, "wide", wider.clone());
        *prop(c, "lora") = wider;
    });
    let said = told(&changes);
    for expected in [
        "input.json#/properties/lora: nested type renamed `Lora` → `Wide`",
        "input.json#/properties/lora/properties/rank: new optional field `rank`",
    ] {
        assert!(said.iter().any(|s| s.starts_with(expected)), "{said:#?}");
    }
    assert!(
        !said.iter().any(|s| s.contains("#/properties/wide/")),
        "{said:#?}"
    );
    // Two uses of one shape, swapped: both change type.
    let two = |first: &'static str, second: &'static str| {
        move |c: &mut Catalog| {
            let lora = prop(c, "lora").clone();
            remove(&mut input(c)["properties"], "lora");
            move_first(c, second, lora.clone());
            move_first(c, first, lora);
        }
    };
    let changes = diff_between(two("a", "b"), two("b", "a"));
    let said = told(&changes);
    for expected in [
        "input.json#/properties/a: nested type renamed `AObject` → `B`",
        "input.json#/properties/b: nested type renamed `AObject` → `B`",
    ] {
        assert!(said.iter().any(|s| s == expected), "{said:#?}");
    }
}

#[test]
fn changes_name_model_file_and_pointer() {
    let changes = diff_of(|c| {
        prop(c, "prompt")["maxLength"] = json!(500);
        outputs(c, |p| {
            p.remove("videos");
        });
    });
    let lines: Vec<String> = changes.iter().map(|c| format!("{} {c}", c.model)).collect();
    assert_eq!(
        lines,
        [
            "acme/base BREAKING input.json#/properties/prompt/maxLength: `maxLength` lowered from 600 to 500: values in between no longer validate",
            "acme/base BREAKING output.json#/output/properties/videos: output field `videos` removed (`BaseOutput.videos` is gone)",
            "acme/other BREAKING output.json#/output/properties/videos: output field `videos` removed (`BaseOutput.videos` is gone)",
        ]
    );
}

#[test]
fn a_change_is_reported_once_from_each_side_it_has() {
    // Removing a choice of a Rust enum is told once, by the enum (not again by `enum`);
    // a nullable optional field is a Rust type change and a looser `type`.
    let changes = diff_of(|c| prop(c, "size")["enum"] = json!(["1:1"]));
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let changes = diff_of(|c| prop(c, "negative")["type"] = json!(["string", "null"]));
    let impacts: Vec<Impact> = changes.iter().map(|c| c.impact).collect();
    assert_eq!(
        impacts,
        [Impact::Breaking, Impact::Additive],
        "{changes:#?}"
    );
    assert!(
        changes[1]
            .what
            .contains("`type` changed from string to null or string: null values validate now"),
        "{changes:#?}"
    );
}

#[test]
fn an_output_change_of_one_model_can_break_another() {
    // Models with the same output schema share one type, named after the first of them unless
    // an overlay names it. Adding a field to one model's output splits the type, and the other
    // model's output is renamed: additive for one model, breaking for the other.
    let changes = diff_of(|c| {
        let base = &mut c.get_mut(BASE).unwrap().output["output"]["properties"];
        base["seed"] = json!({"type": "integer"});
    });
    let lines: Vec<String> = changes.iter().map(|c| format!("{} {c}", c.model)).collect();
    assert_eq!(
        lines,
        [
            "acme/base additive output.json#/output/properties/seed: new output field `seed` (the output type is #[non_exhaustive])",
            "acme/other BREAKING output.json#/output: output type renamed `BaseOutput` → `OtherOutput`",
        ]
    );
}

#[test]
fn run_returns_the_worst_impact() {
    let repo = xtask::workspace_root();
    let old = tempfile::tempdir().unwrap();
    write(old.path(), &base());
    let dir = |p: &Path| Source::Dir(p.to_owned());
    assert_eq!(
        diff::run(&repo, &dir(old.path()), &dir(old.path()), None).unwrap(),
        None
    );
    let new = tempfile::tempdir().unwrap();
    let mut additive = base();
    prop(&mut additive, "guidance")["maximum"] = json!(30);
    write(new.path(), &additive);
    assert_eq!(
        diff::run(&repo, &dir(old.path()), &dir(new.path()), Some("1.0.0")).unwrap(),
        Some(Impact::Additive)
    );
    let mut breaking = base();
    breaking.remove(OTHER);
    let broken = tempfile::tempdir().unwrap();
    write(broken.path(), &breaking);
    assert_eq!(
        diff::run(&repo, &dir(old.path()), &dir(broken.path()), None).unwrap(),
        Some(Impact::Breaking)
    );
    let missing = old.path().join("missing");
    assert!(diff::run(&repo, &dir(old.path()), &dir(&missing), None).is_err());
}

#[test]
fn the_suggested_bump_follows_cargo_semver() {
    let cases = [
        (
            Some("0.3.1"),
            Some(Impact::Breaking),
            "suggested version bump: minor (0.3.1 → 0.4.0): breaking changes, and before 1.0 the minor digit is the breaking one",
        ),
        (
            Some("0.3.1"),
            Some(Impact::Additive),
            "suggested version bump: patch (0.3.1 → 0.3.2): no breaking changes (before 1.0 additions are a patch)",
        ),
        (
            Some("1.2.3"),
            Some(Impact::Additive),
            "suggested version bump: minor (1.2.3 → 1.3.0): additions only",
        ),
        (
            Some("1.2.3"),
            None,
            "suggested version bump: none (nothing changed)",
        ),
        (
            None,
            Some(Impact::Breaking),
            "suggested version bump: minor for 0.x, major from 1.0 on (pass --version to be exact)",
        ),
    ];
    for (version, worst, want) in cases {
        assert_eq!(diff::suggestion(version, worst), want);
    }
}

#[test]
fn a_catalog_that_does_not_load_is_an_error_naming_the_side() {
    let old = tempfile::tempdir().unwrap();
    write(old.path(), &base());
    let new = tempfile::tempdir().unwrap();
    let mut bad = base();
    prop(&mut bad, "seed")["minimum"] = json!(500);
    write(new.path(), &bad);
    let err = diff::diff_dirs(old.path(), new.path())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("the new catalog"), "{err}");
    assert!(err.contains("/properties/seed/minimum"), "{err}");
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=xtask",
            "-c",
            "user.email=xtask@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn git_revisions_are_compared_without_touching_the_tree() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let schemas = repo.path().join("schemas");
    write(&schemas, &base());
    git(repo.path(), &["add", "schemas"]);
    git(repo.path(), &["commit", "-q", "-m", "v1"]);
    let mut next = base();
    prop(&mut next, "size")["enum"] = json!(["1:1"]);
    write(&schemas, &next);
    git(repo.path(), &["commit", "-q", "-am", "v2"]);
    let rev = |r: &str| Source::parse(&format!("{r}:schemas"));
    assert_eq!(
        rev("HEAD~1"),
        Source::Git {
            rev: "HEAD~1".into(),
            path: "schemas".into()
        }
    );
    let changes = diff::diff_sources(repo.path(), &rev("HEAD~1"), &rev("HEAD")).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].impact, Impact::Breaking);
    // The working tree against its own HEAD: nothing.
    let changes =
        diff::diff_sources(repo.path(), &rev("HEAD"), &Source::Dir(schemas.clone())).unwrap();
    assert!(changes.is_empty());
    // A revision that does not load names its files as in the repository.
    let mut bad = next.clone();
    prop(&mut bad, "seed")["minimum"] = json!(500);
    write(&schemas, &bad);
    git(repo.path(), &["commit", "-q", "-am", "v3"]);
    let err = diff::diff_sources(repo.path(), &rev("HEAD~1"), &rev("HEAD"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("the new catalog (HEAD:schemas) does not load:\nerror: HEAD:schemas/acme/base/input.json: at /properties/seed/minimum:"),
        "{err}"
    );
    let err = diff::diff_sources(repo.path(), &rev("HEAD~1"), &Source::parse("HEAD:nowhere"))
        .unwrap_err();
    assert!(err.to_string().contains("HEAD:nowhere: no files"), "{err}");
}

/// An alias is input (`FromStr` and the CLI take it): one removed, or naming another value
/// than it did, breaks (QA repro36 M3: both were told as notable).
#[test]
fn an_alias_removed_or_naming_another_value_breaks() {
    let changes = diff_between(
        |c| overlay(c)["fields"]["size"] = json!({"aliases": {"16:9": "wide", "1:1": "square"}}),
        |c| overlay(c)["fields"]["size"] = json!({"aliases": {"16:9": "square"}}),
    );
    let told: Vec<(Impact, &str)> = changes
        .iter()
        .map(|c| (c.impact, c.what.as_str()))
        .collect();
    assert!(
        told.contains(&(
            Impact::Breaking,
            "alias \"square\" now names \"16:9\", not \"1:1\": the same input picks another value"
        )),
        "{told:?}"
    );
    assert!(
        told.contains(&(
            Impact::Breaking,
            "alias \"wide\" of \"16:9\" removed: `FromStr` and the CLI refuse it"
        )),
        "{told:?}"
    );
}
