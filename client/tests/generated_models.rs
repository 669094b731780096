//! The generated seed models: runtime catalog, typed inputs, enums, the docs' example bodies,
//! and the generated schemas against their source.

use runcomfy::models::bytedance::seedream_4_0::{edit, edit_sequential, sequential};
use runcomfy::{Input, Media, Model};
use serde_json::{Value, json};

#[test]
fn the_catalog_lists_the_three_seed_models() {
    let ids: Vec<&str> = runcomfy::catalog().iter().map(|m| m.id).collect();
    assert!(ids.is_sorted(), "{ids:?}");
    let seeds: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| id.starts_with("bytedance/seedream-4-0/"))
        .collect();
    assert_eq!(
        seeds,
        [
            "bytedance/seedream-4-0/edit",
            "bytedance/seedream-4-0/edit-sequential",
            "bytedance/seedream-4-0/sequential"
        ]
    );
    let info = runcomfy::catalog::find("bytedance/seedream-4-0/edit-sequential").unwrap();
    let names: Vec<&str> = info.fields().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "images",
            "text",
            "sequential_image_generation_options",
            "image_size",
            "seed",
            "optimize_prompt_options",
            "sequential_image_generation"
        ]
    );
    let size = info.field("image_size").unwrap();
    assert_eq!(
        size.default().map(|d| d.to_value()),
        Some(json!("2560:1440 (16:9)"))
    );
    assert!(
        size.choices()
            .iter()
            .any(|c| c.text() == "2560:1440 (16:9)" && c.alias == Some("16:9"))
    );
    let images = info.field("images").unwrap();
    assert!(images.required && images.is_list());
    assert_eq!(
        (images.schema.min_items, images.schema.max_items),
        (Some(1), Some(10))
    );
    assert_eq!(images.media().unwrap().rules.len(), 7);
    assert!(std::ptr::eq(edit_sequential::EditSequential::info(), info));
    assert_eq!(info.rules.len(), 2);
}

#[test]
fn model_marker_types_name_their_ids() {
    assert_eq!(edit::Edit::ID, "bytedance/seedream-4-0/edit");
    assert_eq!(
        edit_sequential::EditSequential::ID,
        "bytedance/seedream-4-0/edit-sequential"
    );
    assert_eq!(
        sequential::Sequential::ID,
        "bytedance/seedream-4-0/sequential"
    );
}

/// The request bodies of the docs' curl examples, byte for byte.
#[test]
fn doc_example_bodies_round_trip() {
    let bodies = [
        (edit::Edit::ID, json!({"prompt": "", "images": []})),
        (
            edit_sequential::EditSequential::ID,
            json!({"images": [], "text": "Generate 3 images of a beautiful sunset over a calm ocean."}),
        ),
        (
            sequential::Sequential::ID,
            json!({"text": "Generate 3 images of a beautiful sunset over a calm ocean."}),
        ),
    ];
    for (id, body) in bodies {
        let back = match id {
            edit::Edit::ID => round_trip::<edit::EditInput>(&body),
            edit_sequential::EditSequential::ID => {
                round_trip::<edit_sequential::EditSequentialInput>(&body)
            }
            _ => round_trip::<sequential::SequentialInput>(&body),
        };
        assert_eq!(back, body, "{id}");
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(&body).unwrap()
        );
    }
}

fn round_trip<I: Input>(body: &Value) -> Value {
    let input: I = serde_json::from_value(body.clone()).unwrap();
    serde_json::to_value(&input).unwrap()
}

#[test]
fn typed_inputs_send_exact_wire_values_and_omit_unset_fields() {
    let input = edit_sequential::EditSequentialInput::new(
        vec![Media::url("https://example.com/a.png")],
        "Generate 2 images of a cat",
    )
    .with_image_size(edit_sequential::ImageSize::Landscape16x9)
    .with_sequential_image_generation_options(edit_sequential::MaxImages::Two);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({
            "images": ["https://example.com/a.png"],
            "text": "Generate 2 images of a cat",
            "sequential_image_generation_options": 2,
            "image_size": "2560:1440 (16:9)"
        })
    );
    // Defaults in effect, without sending them.
    assert_eq!(
        input.optimize_prompt_options(),
        edit_sequential::OptimizePrompt::Fast
    );
    assert_eq!(
        input.sequential_image_generation(),
        edit_sequential::SequentialMode::Auto
    );
}

#[test]
fn enums_parse_wire_values_and_aliases() {
    use edit_sequential::{ImageSize, MaxImages};
    assert_eq!(
        "2560:1440 (16:9)".parse::<ImageSize>().unwrap(),
        ImageSize::Landscape16x9
    );
    assert_eq!(
        "16:9".parse::<ImageSize>().unwrap(),
        ImageSize::Landscape16x9
    );
    assert_eq!(ImageSize::Portrait9x16.to_string(), "1440:2560 (9:16)");
    let err = "17:9".parse::<ImageSize>().unwrap_err();
    assert!(
        err.to_string().contains("`17:9` is not a valid ImageSize"),
        "{err}"
    );
    assert_eq!("15".parse::<MaxImages>().unwrap(), MaxImages::Fifteen);
    assert_eq!(MaxImages::Seven.value(), 7);
    assert!(serde_json::from_value::<MaxImages>(json!(16)).is_err());
    assert_eq!(ImageSize::ALL.len(), 8);
    assert_eq!(edit::Resolution::ALL.len(), 11);
}

/// JSON inputs written by hand take the values and aliases the enums parse, in any ASCII
/// case, and leave anything else for validation to report.
#[test]
fn json_inputs_take_choice_aliases_as_wire_values() {
    let model = runcomfy::catalog::find(sequential::Sequential::ID).unwrap();
    let mut input = json!({
        "text": "16:9",
        "image_size": "9:16",
        "sequential_image_generation": "AUTO",
        "sequential_image_generation_options": "4",
        "optimize_prompt_options": "17:9",
    });
    let object = input.as_object_mut().unwrap();
    let loose = model.normalize_choices(object);
    // An alias is one of the choice's own spellings; another case, or text for a number, is
    // said, as what is sent differs from what was written.
    let said: Vec<String> = loose.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        said,
        [
            "sequential_image_generation: \"AUTO\" is sent as the choice \"auto\" (enum)",
            "sequential_image_generation_options: \"4\" is sent as the choice 4 (enum)",
        ]
    );
    assert_eq!(loose.errors().count(), 0);
    assert_eq!(
        input,
        json!({
            "text": "16:9",
            "image_size": "1440:2560 (9:16)",
            "sequential_image_generation": "auto",
            "sequential_image_generation_options": 4,
            "optimize_prompt_options": "17:9",
        })
    );
    // A number for a choice written as text (FLUX 3's durations: "auto", "5", ...).
    let draft = runcomfy::catalog::find("blackforestlabs/flux-3/text-to-video/draft").unwrap();
    let mut input = json!({"prompt": "a wave", "duration": 10});
    let loose = draft.normalize_choices(input.as_object_mut().unwrap());
    assert_eq!(input["duration"], "10");
    assert_eq!(loose.problems()[0].pointer, "/duration");
    // Written with a fraction, the same whole number.
    let mut input = json!({"prompt": "a wave", "duration": 10.0});
    let loose = draft.normalize_choices(input.as_object_mut().unwrap());
    assert_eq!(input["duration"], "10");
    assert_eq!(loose.problems().len(), 1);
    // One that is no choice is left for validation, which lists the choices.
    let mut input = json!({"prompt": "a wave", "duration": 30});
    draft.normalize_choices(input.as_object_mut().unwrap());
    let err = draft.decode(&input).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("must be a string, one of: auto, 5, 6"),
        "{message}"
    );
}

#[test]
fn unknown_fields_are_refused_rather_than_dropped() {
    let err = serde_json::from_value::<sequential::SequentialInput>(
        json!({"text": "x", "image_sise": "16:9"}),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown field `image_sise`"),
        "{err}"
    );
}

#[test]
fn decoding_reports_every_problem() {
    let info = runcomfy::catalog::find(edit::Edit::ID).unwrap();
    let err = info
        .decode(&json!({"prompt": "x".repeat(601), "images": []}))
        .unwrap_err();
    let rules: Vec<&str> = err.report.errors().map(|p| p.rule.as_str()).collect();
    assert_eq!(rules, ["maxLength", "minItems"]);
    // What the typed input cannot hold is reported with the rest, at its path.
    let err = info
        .decode(&json!({"prompt": 3, "images": [], "resolution": "huge"}))
        .unwrap_err();
    let found: Vec<(&str, &str)> = err
        .report
        .errors()
        .map(|p| (p.path.as_str(), p.rule.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("prompt", "type"),
            ("images", "minItems"),
            ("resolution", "enum")
        ]
    );
}

/// The generated schema of each input agrees with its source: required fields, bounds and
/// enum values are those of `input.json`.
#[test]
fn generated_schemas_agree_with_the_source_schemas() {
    for info in runcomfy::catalog() {
        let source: Value = serde_json::from_str(info.input_schema).unwrap();
        let mut required: Vec<&str> = source["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        let mut generated: Vec<&str> = info.input.required.to_vec();
        generated.sort_unstable();
        assert_eq!(generated, required, "{}: required", info.id);
        let props = source["properties"].as_object().unwrap();
        assert_eq!(info.fields().len(), props.len(), "{}", info.id);
        for field in info.fields() {
            let prop = &props[field.name];
            let schema = field.schema;
            let counts = [
                ("maxLength", schema.max_length),
                ("minLength", schema.min_length),
                ("maxItems", schema.max_items),
                ("minItems", schema.min_items),
            ];
            for (key, value) in counts {
                assert_eq!(
                    prop.get(key).and_then(Value::as_u64),
                    value,
                    "{}.{}.{key}",
                    info.id,
                    field.name
                );
            }
            let numbers = [("minimum", schema.minimum), ("maximum", schema.maximum)];
            for (key, value) in numbers {
                assert_eq!(
                    prop.get(key).and_then(Value::as_f64),
                    value.map(|n| n.as_f64()),
                    "{}.{}.{key}",
                    info.id,
                    field.name
                );
            }
            if let Some(values) = prop.get("enum") {
                let generated: Vec<Value> =
                    field.choices().iter().map(|c| c.value.to_value()).collect();
                assert_eq!(
                    &Value::Array(generated),
                    values,
                    "{}.{}: enum",
                    info.id,
                    field.name
                );
            }
        }
    }
}
