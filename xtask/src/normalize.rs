//! Normalizing localized schema text, so that every language of a doc page (and the API)
//! gives the same files.
//!
//! Only text the docs translate is rewritten: the input schema's top-level `title` and the
//! output properties' descriptions. Descriptions are derived from the property's name and
//! type, never from the (localized) text, so no language table is needed.

use serde_json::{Map, Value, json};

/// The input schema's top-level title, in every language.
pub const INPUT_TITLE: &str = "Input Schema";

/// The input schema with its top-level title in English.
pub fn input(mut schema: Value) -> Value {
    if let Some(map) = schema.as_object_mut()
        && map.contains_key("title")
    {
        map.insert("title".into(), json!(INPUT_TITLE));
    }
    schema
}

/// RunComfy's name for a model without the brand its ComfyUI nodes prefix to every name
/// (`RunComfy Seedance 2.5 I2V 1080p` → `Seedance 2.5 I2V 1080p`): every model here is
/// RunComfy's.
pub fn display_name(name: &str) -> String {
    let name = name.trim();
    name.strip_prefix("RunComfy ")
        .map(str::trim_start)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
        .to_owned()
}

/// The output schema wrapped as the docs have it (`{"output": {...}}`), its property
/// descriptions in English.
pub fn output(schema: Value) -> Value {
    let mut wrapped = match schema {
        Value::Object(map) if map.len() == 1 && map.get("output").is_some_and(Value::is_object) => {
            Value::Object(map)
        }
        other => {
            let mut map = Map::new();
            map.insert("output".into(), other);
            Value::Object(map)
        }
    };
    if let Some(properties) = wrapped
        .pointer_mut("/output/properties")
        .and_then(Value::as_object_mut)
    {
        for (name, property) in properties.iter_mut() {
            let text = output_description(name, property);
            if let Some(map) = property.as_object_mut()
                && map.contains_key("description")
            {
                map.insert("description".into(), json!(text));
            }
        }
    }
    wrapped
}

/// Words that name media, so a property called so is a URL even without a `format`.
const MEDIA_NOUNS: &[&str] = &[
    "image",
    "video",
    "audio",
    "mask",
    "file",
    "frame",
    "thumbnail",
    "model",
    "mesh",
];

/// The English description of an output property: `Single image URL`, `Multiple video URLs`,
/// `Single depth map URL` (from `depth_map_url`), or the humanized name for a non-URL value.
pub fn output_description(name: &str, property: &Value) -> String {
    let is_array = has_type(property, "array");
    let item = if is_array {
        property.get("items")
    } else {
        Some(property)
    };
    let url_format = item
        .and_then(|i| i.get("format"))
        .and_then(Value::as_str)
        .is_some_and(|f| matches!(f, "uri" | "url" | "image_uri" | "video_uri" | "audio_uri"));
    let words = humanize(name);
    let (stem, url_suffix) = strip_url_suffix(&words);
    let noun = if is_array {
        singular(stem)
    } else {
        stem.to_owned()
    };
    let media = noun
        .rsplit(' ')
        .next()
        .is_some_and(|last| MEDIA_NOUNS.contains(&last));
    if url_format || url_suffix || media {
        let noun = if noun.is_empty() {
            String::new()
        } else {
            format!(" {noun}")
        };
        if is_array {
            format!("Multiple{noun} URLs")
        } else {
            format!("Single{noun} URL")
        }
    } else {
        capitalize(&words)
    }
}

fn has_type(schema: &Value, name: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

/// `depthMap_URLs` → `depth map urls`.
fn humanize(name: &str) -> String {
    let mut out = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c == '_' || c == '-' || c == ' ' || c == '.' {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else {
            if c.is_uppercase()
                && previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                && !out.ends_with(' ')
            {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    out.trim().to_owned()
}

/// `depth map urls` → (`depth map`, true).
fn strip_url_suffix(words: &str) -> (&str, bool) {
    for suffix in ["urls", "url", "uris", "uri"] {
        if words == suffix {
            return ("", true);
        }
        if let Some(stem) = words.strip_suffix(suffix)
            && let Some(stem) = stem.strip_suffix(' ')
        {
            return (stem, true);
        }
    }
    (words, false)
}

/// The singular of the last word: `images` → `image`, `galleries` → `gallery`.
fn singular(words: &str) -> String {
    if let Some(stem) = words.strip_suffix("ies") {
        format!("{stem}y")
    } else if words.ends_with('s') && !words.ends_with("ss") {
        words[..words.len() - 1].to_owned()
    } else {
        words.to_owned()
    }
}

fn capitalize(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_follow_names_and_types() {
        let url = json!({"type": "string", "format": "uri"});
        let urls = json!({"type": "array", "items": {"type": "string", "format": "uri"}});
        let text = json!({"type": "string"});
        let cases = [
            ("image", &url, "Single image URL"),
            ("video", &url, "Single video URL"),
            ("images", &urls, "Multiple image URLs"),
            ("videos", &urls, "Multiple video URLs"),
            ("audio", &text, "Single audio URL"),
            ("audios", &urls, "Multiple audio URLs"),
            ("depth_map_url", &text, "Single depth map URL"),
            ("maskURLs", &urls, "Multiple mask URLs"),
            ("galleries", &urls, "Multiple gallery URLs"),
            ("url", &text, "Single URL"),
            ("seed", &json!({"type": "integer"}), "Seed"),
            (
                "has_nsfw_concepts",
                &json!({"type": "array"}),
                "Has nsfw concepts",
            ),
        ];
        for (name, schema, expected) in cases {
            assert_eq!(output_description(name, schema), expected, "{name}");
        }
    }

    #[test]
    fn output_is_wrapped_once() {
        let inner = json!({"type": "object", "properties": {"image": {"type": "string", "format": "uri", "description": "画像"}}});
        let once = output(inner.clone());
        assert_eq!(
            once["output"]["properties"]["image"]["description"],
            "Single image URL"
        );
        assert_eq!(output(once.clone()), once);
    }

    #[test]
    fn display_names_drop_the_brand() {
        assert_eq!(
            display_name("RunComfy Seedance 2.5 I2V 1080p"),
            "Seedance 2.5 I2V 1080p"
        );
        assert_eq!(display_name("Flux 2 Flash"), "Flux 2 Flash");
        assert_eq!(display_name("RunComfy "), "RunComfy");
    }

    #[test]
    fn only_an_existing_title_is_replaced() {
        assert_eq!(input(json!({"title": "入力"}))["title"], INPUT_TITLE);
        assert_eq!(input(json!({"type": "object"})), json!({"type": "object"}));
    }
}
