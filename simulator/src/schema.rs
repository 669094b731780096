//! JSON Schemas of a model for the catalog endpoints.

use runcomfy::catalog::{FieldInfo, FieldKind, ModelInfo};
use serde_json::{Map, Value, json};

/// The input schema as the catalog has it; rebuilt from the fields if its text is unusable.
pub(crate) fn input_schema(model: &ModelInfo) -> Value {
    parse(model.input_schema).unwrap_or_else(|| input_from_fields(model))
}

/// The output schema as the catalog has it; rebuilt from the fields if its text is unusable.
pub(crate) fn output_schema(model: &ModelInfo) -> Value {
    parse(model.output_schema).unwrap_or_else(|| output_from_fields(model))
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

/// An input schema in the shape RunComfy publishes (`type`, `required`, `properties`).
fn input_from_fields(model: &ModelInfo) -> Value {
    let required: Vec<&str> = model
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({
        "type": "object",
        "title": "Input Schema",
        "required": required,
        "properties": properties(model.fields),
    })
}

/// An output schema: the `output` object.
fn output_from_fields(model: &ModelInfo) -> Value {
    json!({
        "type": "object",
        "properties": properties(model.output_fields),
    })
}

fn properties(fields: &[FieldInfo]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| (f.name.to_owned(), property(f)))
            .collect(),
    )
}

fn property(field: &FieldInfo) -> Value {
    let mut item = Map::new();
    let (ty, format) = match field.kind {
        FieldKind::String | FieldKind::StringChoice => ("string", None),
        FieldKind::Uri => ("string", Some("uri")),
        FieldKind::Media(kind) => ("string", Some(kind.format())),
        FieldKind::Integer | FieldKind::IntegerChoice => ("integer", None),
        FieldKind::Number => ("number", None),
        FieldKind::Boolean => ("boolean", None),
        FieldKind::Json => ("object", None),
    };
    item.insert("type".into(), json!(ty));
    if let Some(format) = format {
        item.insert("format".into(), json!(format));
    }
    if !field.choices.is_empty() {
        let values: Vec<Value> = field
            .choices
            .iter()
            .filter_map(|c| serde_json::from_str(c.wire).ok())
            .collect();
        item.insert("enum".into(), Value::Array(values));
    }
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            item.insert(key.to_owned(), value);
        }
    };
    set("minimum", field.minimum.map(|v| json!(v)));
    set("maximum", field.maximum.map(|v| json!(v)));
    set("minLength", field.min_length.map(|v| json!(v)));
    set("maxLength", field.max_length.map(|v| json!(v)));
    let mut prop = if field.array {
        let mut array = Map::new();
        array.insert("type".into(), json!("array"));
        array.insert("items".into(), Value::Object(item));
        if let Some(min) = field.min_items {
            array.insert("minItems".into(), json!(min));
        }
        if let Some(max) = field.max_items {
            array.insert("maxItems".into(), json!(max));
        }
        array
    } else {
        item
    };
    if let Some(title) = field.title {
        prop.insert("title".into(), json!(title));
    }
    if let Some(description) = field.description {
        prop.insert("description".into(), json!(description));
    }
    if let Some(default) = field.default_value() {
        prop.insert("default".into(), default);
    }
    Value::Object(prop)
}
