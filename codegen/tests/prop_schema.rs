//! Loading a catalog never panics, whatever its JSON: every schema, however odd, is lowered to
//! the IR or refused with typed errors, and whatever is accepted emits Rust that parses. The
//! twin of the `schema_load` fuzz target in `fuzz/`.

use std::path::PathBuf;

use proptest::prelude::*;
use runcomfy_codegen::catalog::SourceModel;
use runcomfy_codegen::overlay::Overlay;
use serde_json::{Map, Value, json};

/// Names that stress naming: keywords, digits first, non-ASCII, empty, clashes after casing.
const NAMES: &[&str] = &[
    "prompt",
    "images",
    "image_size",
    "seed",
    "type",
    "self",
    "Self",
    "_",
    "__",
    "1st",
    "a-b",
    "a b",
    "A_B",
    "a_b",
    "aB",
    "ünïcödé",
    "提示",
    "",
    "r#type",
    "crate",
    "super",
    "fn",
    "None",
    "output",
    "default",
    "x.y",
    "x/y",
    "🙂",
];

const TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "array", "object", "null", "float", "int", "str",
    "list", "dict", "double", "long", "decimal", "bool", "text", "any", "",
];

const FORMATS: &[&str] = &[
    "uri",
    "image_uri",
    "video_uri",
    "audio_uri",
    "url",
    "date-time",
    "jpeg",
    "",
];

const RULES: &[&str] = &[
    "file_size_mb<",
    "width/height>",
    "width/height<",
    "width_pixels>",
    "height_pixels>",
    "width_pixels<",
    "height_pixels<",
    "duration_seconds<",
    "bogus",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        name().prop_map(Value::from),
        Just(json!("2560:1440 (16:9)")),
        Just(json!("1K")),
    ]
}

fn validation() -> impl Strategy<Value = Value> {
    (prop::sample::select(RULES), scalar(), ".{0,20}").prop_map(|(rule, value, error)| {
        json!({"validation_rule": rule, "validation_value": value, "validation_error": error})
    })
}

/// One property schema; `inner` for `items` and nested `properties`.
fn property(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            4 => prop::sample::select(TYPES).prop_map(Value::from),
            1 => prop::collection::vec(prop::sample::select(TYPES).prop_map(Value::from), 0..3)
                .prop_map(Value::Array),
            1 => scalar(),
        ],
        prop::option::of(prop::collection::vec(scalar(), 0..5)),
        prop::option::of(scalar()),
        prop::option::of((scalar(), scalar())),
        prop::option::of(prop::sample::select(FORMATS)),
        prop::option::of(prop::collection::vec(validation(), 0..3)),
        prop::option::of(inner.clone()),
        prop::option::of(prop::collection::vec((name(), inner), 0..3)),
        ".{0,12}",
    )
        .prop_map(
            |(ty, choices, default, bounds, format, validations, items, nested, text)| {
                let mut map = Map::new();
                map.insert("type".into(), ty);
                map.insert("title".into(), Value::from(text.clone()));
                map.insert("description".into(), Value::from(text));
                if let Some(choices) = choices {
                    map.insert("enum".into(), Value::Array(choices));
                }
                if let Some(default) = default {
                    map.insert("default".into(), default);
                }
                if let Some((lo, hi)) = bounds {
                    for (key, value) in [("minimum", &lo), ("maximum", &hi)] {
                        map.insert(key.into(), value.clone());
                    }
                    for (key, value) in [("minItems", lo.clone()), ("maxLength", hi.clone())] {
                        map.insert(key.into(), value);
                    }
                }
                if let Some(format) = format {
                    map.insert("format".into(), Value::from(format));
                }
                if let Some(validations) = validations {
                    map.insert("validations".into(), Value::Array(validations));
                }
                if let Some(items) = items {
                    map.insert("items".into(), items);
                }
                if let Some(nested) = nested {
                    let properties: Map<String, Value> = nested.into_iter().collect();
                    map.insert("properties".into(), Value::Object(properties));
                }
                Value::Object(map)
            },
        )
}

fn property_tree() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| property(inner.boxed()).boxed())
        .boxed()
}

/// An input schema: an object of properties, some required (and some required names that do
/// not exist).
fn input_schema() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((name(), property_tree()), 0..6),
        prop::collection::vec(name(), 0..4),
        prop::option::of(scalar()),
    )
        .prop_map(|(fields, required, extra)| {
            let properties: Map<String, Value> = fields.into_iter().collect();
            let mut schema = json!({"type": "object", "title": "Input", "properties": properties, "required": required});
            if let Some(extra) = extra {
                schema["additionalProperties"] = extra;
            }
            schema
        })
}

fn output_schema() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(
            json!({"type": "object", "properties": {"images": {"type": "array", "items": {"type": "string", "format": "uri"}}}})
        ),
        input_schema(),
        property_tree(),
    ]
}

/// Overlays that deserialize, naming fields that may or may not exist.
fn overlay() -> impl Strategy<Value = Overlay> {
    (
        prop::option::of(name()),
        prop::collection::vec((name(), name(), name()), 0..3),
        prop::collection::vec((name(), name(), -3i64..20), 0..2),
    )
        .prop_map(|(type_name, fields, totals)| {
            let fields: Map<String, Value> = fields
                .into_iter()
                .map(|(field, value, variant)| {
                    (field, json!({"variants": {value.clone(): variant}, "aliases": {value: "x"}, "formats": ["png", "bogus"]}))
                })
                .collect();
            let rules: Vec<Value> = totals
                .into_iter()
                .map(|(a, b, max)| json!({"rule": "max_total", "fields": [a, b], "max": max, "message": "too many"}))
                .collect();
            let value = json!({"type_name": type_name, "fields": fields, "rules": rules});
            serde_json::from_value(value).unwrap_or_default()
        })
}

fn source(id: &str, input: Value, output: Value, overlay: Overlay) -> SourceModel {
    SourceModel {
        id: id.to_owned(),
        input_path: PathBuf::from(format!("{id}/input.json")),
        output_path: PathBuf::from(format!("{id}/output.json")),
        overlay_path: None,
        input,
        output,
        output_pointer: "",
        output_published: true,
        overlay,
        upstream: Default::default(),
        upstream_path: None,
        generated: true,
    }
}

/// Lowers; whatever is accepted must emit Rust that parses.
fn lower_and_emit(sources: &[SourceModel]) {
    match runcomfy_codegen::lower::build(sources) {
        Ok(catalog) => {
            let code = runcomfy_codegen::Generator::new().emit(&catalog);
            assert_compiles_lexically(&code);
        }
        Err(errors) => assert!(!errors.0.is_empty()),
    }
}

/// What rustc would refuse before type checking: code that does not parse, a bare CR in a doc
/// comment, or a bidirectional override outside an escaped string (denied by default).
fn assert_compiles_lexically(code: &str) {
    if let Err(err) = syn::parse_file(code) {
        panic!("accepted catalog emits Rust that does not parse: {err}\n{code}");
    }
    assert!(!code.contains('\r'), "bare CR in generated code");
    assert!(
        !code
            .chars()
            .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
        "bidirectional override in generated code"
    );
}

/// Found by `any_json_lowers_or_is_refused`: a description holding a lone `\r` became a doc
/// comment with a bare CR, and one holding U+202E a comment rustc denies.
#[test]
fn carriage_returns_and_bidi_overrides_in_descriptions_emit_valid_rust() {
    let output = json!({"type": "object", "properties": {
        "images": {"type": "array", "items": {"type": "string", "format": "uri"},
                   "title": "a\rb", "description": "x\r\ny\rz \u{202e}evil"},
    }});
    let input = json!({"type": "object", "properties": {
        "prompt": {"type": "string", "description": "line\rnext \u{2066}iso\u{2069}"},
    }, "required": ["prompt"]});
    let catalog = runcomfy_codegen::lower::build(&[source(
        "acme/cr-model",
        input,
        output,
        Overlay::default(),
    )])
    .unwrap();
    assert_compiles_lexically(&runcomfy_codegen::Generator::new().emit(&catalog));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn schema_shaped_catalogs_lower_or_are_refused(
        input in input_schema(),
        output in output_schema(),
        overlay in overlay(),
        second in prop::option::of(input_schema()),
    ) {
        let mut sources = vec![source("acme/prop-model", input, output.clone(), overlay)];
        if let Some(second) = second {
            // A second model sharing the output: the shared output types path.
            sources.push(source("acme/prop-model-2", second, output, Overlay::default()));
        }
        lower_and_emit(&sources);
    }

    #[test]
    fn any_json_lowers_or_is_refused(input in property_tree(), output in property_tree()) {
        lower_and_emit(&[source("acme/any-json", input, output, Overlay::default())]);
    }
}

proptest! {
    // Through the files (reading, overlay parsing and patching): fewer cases, each writes a folder.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn catalog_folders_load_or_are_refused(
        input in prop_oneof![input_schema().prop_map(|v| v.to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..64)],
        overlay in prop::option::of(prop_oneof![
            Just(r#"{"patch": {"properties": {"prompt": null}}}"#.to_owned()),
            Just(r#"{"patch": [1, 2], "output_patch": "x"}"#.to_owned()),
            Just(r#"{"unknown": 1}"#.to_owned()),
            ".{0,16}",
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("acme").join("folder-model");
        std::fs::create_dir_all(&model).unwrap();
        std::fs::write(model.join("input.json"), &input).unwrap();
        std::fs::write(
            model.join("output.json"),
            r#"{"output": {"type": "object", "properties": {"image": {"type": "string", "format": "uri"}}}}"#,
        )
        .unwrap();
        if let Some(overlay) = overlay {
            std::fs::write(model.join("overlay.json"), overlay).unwrap();
        }
        match runcomfy_codegen::load(dir.path()) {
            Ok(catalog) => {
                let code = runcomfy_codegen::Generator::new().emit(&catalog);
                assert_compiles_lexically(&code);
            }
            Err(errors) => prop_assert!(!errors.0.is_empty()),
        }
    }
}
