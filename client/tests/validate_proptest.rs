//! `validate()` never panics on arbitrary JSON-shaped input: any value, and objects built from
//! each model's own field names with arbitrary values (so decoding gets past the first field).

use proptest::prelude::*;
use serde_json::{Map, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        // Strings the media and choice fields care about.
        prop_oneof![
            Just("data:image/png;base64,iVBORw0KGgo=".to_owned()),
            Just("https://example.com/a.png".to_owned()),
            Just("16:9".to_owned()),
            Just("2560:1440 (16:9)".to_owned()),
            Just("/no/such/file.png".to_owned()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object whose keys are (mostly) the model's fields.
fn model_shaped(model: usize) -> impl Strategy<Value = Value> {
    let names: Vec<&'static str> = runcomfy::catalog()[model]
        .fields()
        .map(|f| f.name)
        .collect();
    prop::collection::vec((prop::sample::select(names), any_json()), 0..8).prop_map(|pairs| {
        let mut object = Map::new();
        for (name, value) in pairs {
            object.insert(name.to_owned(), value);
        }
        Value::Object(object)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_never_panics(value in any_json()) {
        for model in runcomfy::catalog() {
            let _ = model.decode(&value);
        }
    }

    #[test]
    fn model_shaped_json_never_panics(
        (model, value) in (0..runcomfy::catalog().len()).prop_flat_map(|m| (Just(m), model_shaped(m)))
    ) {
        let info = runcomfy::catalog()[model];
        match info.decode(&value) {
            // What decodes is sent as it came: the typed input serializes back to the JSON.
            Ok(input) => {
                let body = input.encode(1 << 20).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let sent: Value = serde_json::from_slice(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(sent, value);
            }
            // What does not is refused with at least one error.
            Err(err) => prop_assert!(!err.report.is_valid()),
        }
    }
}
