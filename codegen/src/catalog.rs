//! Finding and reading the catalog: `<root>/<model id>/{input,output,overlay}.json`.

use std::fs;
use std::path::{Path, PathBuf};

use runcomfy_vocab::media::MediaKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Errors, FileError};
use crate::overlay::Overlay;

/// One model's files, read and with the overlay's patches applied.
#[derive(Debug, Clone)]
pub struct SourceModel {
    /// The model id: the folder path below the catalog root, `/`-separated.
    pub id: String,
    /// `input.json`.
    pub input_path: PathBuf,
    /// `output.json`.
    pub output_path: PathBuf,
    /// `overlay.json`, when there is one.
    pub overlay_path: Option<PathBuf>,
    /// The input schema (patched).
    pub input: Value,
    /// The output schema (patched, unwrapped from the docs' `{"output": ...}`).
    pub output: Value,
    /// Where the output schema is in `output.json`: `/output` when the file wraps it.
    pub output_pointer: &'static str,
    /// Whether `output.json` exists: without it, `output` is the one RunComfy's docs show for
    /// every model ([`DOCUMENTED_OUTPUT`]).
    pub output_published: bool,
    /// The overlay (empty when there is none).
    pub overlay: Overlay,
    /// `upstream.json`: what RunComfy says of the model besides its schemas (empty when there
    /// is none).
    pub upstream: Upstream,
    /// `upstream.json`, when there is one.
    pub upstream_path: Option<PathBuf>,
    /// Whether the model is generated. A model left out (a build with some models enabled)
    /// is only read as far as it names shared types: its `input.json` is not read (`input`
    /// is null), so its input is not checked either.
    pub generated: bool,
}

impl SourceModel {
    /// What the model returns, as said ([`output_kind`]); `None` for a kind no one knows.
    pub fn output_kind(&self) -> Option<MediaKind> {
        output_kind(&self.overlay, &self.upstream).ok().flatten()
    }

    /// Whether its output is the one RunComfy's docs show for every model of its kind: no
    /// `output.json` (and no overlay patch of it), or one that says just that, as a pulled
    /// catalog's do. Such an output is no one model's.
    pub fn has_documented_output(&self) -> bool {
        let given = self.output_published || self.overlay.output_patch.is_some();
        !given || parsed_documented_output(self.output_kind()) == Some(&self.output)
    }
}

/// [`documented_output`] of `kind`, parsed once: it is compared with every model's output,
/// several times each, and a synthetic catalog of a thousand models publishes every one.
fn parsed_documented_output(kind: Option<MediaKind>) -> Option<&'static Value> {
    static PARSED: std::sync::LazyLock<Option<(Value, Value)>> = std::sync::LazyLock::new(|| {
        let audio = documented_output(Some(MediaKind::Audio)).ok()?;
        Some((documented_output(None).ok()?, audio))
    });
    let (other, audio) = PARSED.as_ref()?;
    Some(match kind {
        Some(MediaKind::Audio) => audio,
        _ => other,
    })
}

/// The name of a model's input schema file.
pub const INPUT_FILE: &str = "input.json";
/// The name of a model's output schema file.
pub const OUTPUT_FILE: &str = "output.json";
/// The name of a model's overlay: our refinements, kept across re-imports.
pub const OVERLAY_FILE: &str = "overlay.json";
/// The name of the file of a model's upstream facts.
pub const UPSTREAM_FILE: &str = "upstream.json";

/// What RunComfy publishes about a model besides its schemas (its catalog entry: display name,
/// output kind, categories, pricing), as `cargo xtask import` and `pull` write it to
/// `upstream.json`. Kept apart from `overlay.json`, so a re-import refreshes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// RunComfy's name for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What the model returns: `image`, `video` or `audio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_kind: Option<String>,
    /// RunComfy's categories (`text-to-image`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// The base price, in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_price_usd: Option<f64>,
    /// What the price is per: `second` or `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<String>,
    /// `fixed` (the price is the rate times the units) or `base` (a floor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<String>,
    /// RunComfy's note on the price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_note: Option<String>,
}

impl Upstream {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == Upstream::default()
    }
}

/// Reads every model below `root`, sorted by id so that generation never depends on the order
/// the file system lists folders in.
pub fn read_catalog(root: &Path) -> Result<Vec<SourceModel>, Errors> {
    read_catalog_on(root, 1, &|_| true)
}

/// [`read_catalog`] on up to `threads` threads, reading whole only the models `generate`
/// accepts.
pub fn read_catalog_on(
    root: &Path,
    threads: usize,
    generate: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<SourceModel>, Errors> {
    let mut dirs = Vec::new();
    let mut errors = Vec::new();
    find_model_dirs(root, root, &mut dirs, &mut errors)?;
    dirs.sort();
    let mut models = Vec::new();
    let read = crate::parallel::map(&dirs, threads, |(id, dir)| {
        read_model(id.clone(), dir, generate(id))
    });
    for result in read {
        match result {
            Ok(model) => models.push(model),
            Err(err) => errors.push(err),
        }
    }
    if models.is_empty() && errors.is_empty() {
        errors.push(
            Error::schema(root, "", "no models found")
                .hint("a model is a folder `<model id>/` holding input.json (and optionally output.json, overlay.json, upstream.json)"),
        );
    }
    if errors.is_empty() {
        Ok(models)
    } else {
        Err(Errors(errors))
    }
}

/// The model folders below `dir` into `out`; a folder that looks like a model's and is not
/// (its other files, no `input.json`) into `errors`, every one of them. A folder that cannot be
/// read ends the search.
fn find_model_dirs(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
    errors: &mut Vec<Error>,
) -> Result<(), Error> {
    let io = |source| {
        Error::from(FileError::Io {
            path: dir.to_owned(),
            source,
        })
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        entries.push(entry.path());
    }
    entries.sort();
    let named = |name: &str| {
        entries
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == name))
    };
    // A model's files without its input.json (`Input.json`, a rename): a model gone missing,
    // said rather than left out (QA repro36 M6, repro38 N9).
    let model_file = |path: &PathBuf| {
        path.file_name()
            .and_then(|n| n.to_str())
            .map(str::to_ascii_lowercase)
            .is_some_and(|n| {
                [INPUT_FILE, OUTPUT_FILE, OVERLAY_FILE, UPSTREAM_FILE].contains(&n.as_str())
            })
    };
    if !named(INPUT_FILE)
        && let Some(other) = entries.iter().find(|path| model_file(path))
    {
        errors.push(
            Error::schema(
                other,
                "",
                "a model's file in a folder with no input.json (named so exactly): the model is \
                 not read",
            )
            .hint("a model is a folder `<model id>/` holding input.json; restore it, or remove the folder"),
        );
    }
    if named(INPUT_FILE) {
        let id = dir
            .strip_prefix(root)
            .unwrap_or(dir)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        check_model_id(&id, dir)?;
        out.push((id, dir.to_owned()));
    }
    for path in entries {
        // Follow symlinked folders too: a packaged crate may see the catalog through one.
        if path.is_dir() {
            find_model_dirs(root, &path, out, errors)?;
        }
    }
    Ok(())
}

/// The longest segment of a model id: a folder name, well within file systems' 255 bytes.
const MAX_SEGMENT: usize = 128;

/// Model ids are API paths of 2 to 5 segments of letters, digits, `.`, `-` and `_`.
pub fn check_model_id(id: &str, dir: &Path) -> Result<(), Error> {
    let segments: Vec<&str> = id.split('/').collect();
    let bad_segment = segments.iter().find(|s| {
        // A leading dot would make a hidden folder (`.git`), or `.`/`..` leave the catalog;
        // a folder name is at most 255 bytes on common file systems.
        s.is_empty()
            || s.len() > MAX_SEGMENT
            || s.starts_with('.')
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    });
    if !(2..=5).contains(&segments.len()) || bad_segment.is_some() {
        return Err(Error::schema(
            dir,
            "",
            format!("`{id}` is not a model id: ids are API paths of 2 to 5 segments of at most {MAX_SEGMENT} ASCII letters, digits, `.`, `-` and `_`, none starting with `.`"),
        )
        .hint("move the model's files to `schemas/<vendor>/<model>/.../`"));
    }
    Ok(())
}

fn read_model(id: String, dir: &Path, generated: bool) -> Result<SourceModel, Error> {
    let input_path = dir.join(INPUT_FILE);
    let output_path = dir.join(OUTPUT_FILE);
    let overlay_file = dir.join(OVERLAY_FILE);
    let mut input = if generated {
        read_json(&input_path)?
    } else {
        Value::Null
    };
    let upstream_file = dir.join(UPSTREAM_FILE);
    let (upstream, upstream_path) = if upstream_file.exists() {
        let value = read_json(&upstream_file)?;
        let invalid = |problem: String| {
            Error::schema(&upstream_file, "", problem)
                .hint("it is written by `cargo xtask import` and `pull`: import the model again")
        };
        if !value.is_object() {
            // serde would read an array as the struct's fields in order.
            return Err(invalid("an upstream file is a JSON object".into()));
        }
        let upstream: Upstream = serde_json::from_value(value)
            .map_err(|err| invalid(format!("not a valid upstream file: {err}")))?;
        (upstream, Some(upstream_file))
    } else {
        (Upstream::default(), None)
    };
    let (overlay, overlay_path) = if overlay_file.exists() {
        let value = read_json(&overlay_file)?;
        if let Some(pointer) = crate::overlay::misplaced_non_object(&value) {
            let what = if pointer.is_empty() {
                "an overlay is a JSON object"
            } else {
                "this is a JSON object in an overlay"
            };
            return Err(Error::schema(&overlay_file, &pointer, what)
                .hint("see schemas/README.md for the overlay format"));
        }
        let overlay: Overlay = serde_json::from_value(value).map_err(|err| {
            Error::schema(&overlay_file, "", format!("not a valid overlay: {err}"))
                .hint("see schemas/README.md for the overlay format")
        })?;
        (overlay, Some(overlay_file))
    } else {
        (Overlay::default(), None)
    };
    if let Some(patch) = &overlay.patch
        && generated
    {
        json_patch::merge(&mut input, patch);
    }
    let output_published = output_path.exists();
    let mut output = if output_published {
        read_json(&output_path)?
    } else {
        // RunComfy publishes no output schema for most models; its docs show one for all.
        let kind = output_kind(&overlay, &upstream).ok().flatten();
        documented_output(kind).map_err(|err| Error::json(&output_path, &err))?
    };
    // The docs wrap the output schema as `{"output": {...}}`; accept both forms.
    let mut output_pointer = "";
    if let Value::Object(map) = &output
        && map.len() == 1
        && let Some(inner) = map.get("output")
    {
        output = inner.clone();
        output_pointer = "/output";
    }
    if let Some(patch) = &overlay.output_patch {
        json_patch::merge(&mut output, patch);
    }
    Ok(SourceModel {
        id,
        input_path,
        output_path,
        overlay_path,
        input,
        output,
        output_pointer,
        output_published,
        overlay,
        upstream,
        upstream_path,
        generated,
    })
}

/// The output schema RunComfy's docs show for every model (an image, a video, or lists of
/// them), for a model whose `output.json` is absent. Files the schema does not list (`audio`)
/// are still found: outputs keep unlisted properties.
pub const DOCUMENTED_OUTPUT: &str = r#"{
  "type": "object",
  "properties": {
    "image": {"type": "string", "format": "uri", "description": "Single image URL"},
    "video": {"type": "string", "format": "uri", "description": "Single video URL"},
    "images": {"type": "array", "description": "Multiple image URLs", "items": {"type": "string", "format": "uri"}},
    "videos": {"type": "array", "description": "Multiple video URLs", "items": {"type": "string", "format": "uri"}}
  }
}"#;

/// The properties an audio model's output has beside [`DOCUMENTED_OUTPUT`]'s: RunComfy's docs
/// show no output of audio, and name these as they name images and videos (QA repro44 F11:
/// an audio model's typed output had no field for its file).
pub const DOCUMENTED_AUDIO_PROPERTIES: &str = r#"{
  "audio": {"type": "string", "format": "uri", "description": "Single audio URL"},
  "audios": {"type": "array", "description": "Multiple audio URLs", "items": {"type": "string", "format": "uri"}}
}"#;

/// The output schema of a model of `kind` that publishes none: [`DOCUMENTED_OUTPUT`], with
/// [`DOCUMENTED_AUDIO_PROPERTIES`] for audio.
pub fn documented_output(kind: Option<MediaKind>) -> Result<Value, serde_json::Error> {
    let mut output: Value = serde_json::from_str(DOCUMENTED_OUTPUT)?;
    if kind == Some(MediaKind::Audio)
        && let Some(properties) = output.get_mut("properties").and_then(Value::as_object_mut)
        && let Value::Object(audio) = serde_json::from_str(DOCUMENTED_AUDIO_PROPERTIES)?
    {
        properties.extend(audio);
    }
    Ok(output)
}

/// What a model returns, as said: the overlay's `output_kind`, else `upstream.json`'s, else
/// the kind its categories all name. `Err` with a kind said that is none of them.
pub fn output_kind(overlay: &Overlay, upstream: &Upstream) -> Result<Option<MediaKind>, String> {
    match overlay
        .output_kind
        .as_ref()
        .or(upstream.output_kind.as_ref())
    {
        Some(said) => MediaKind::parse(said).map(Some).ok_or_else(|| said.clone()),
        None => Ok(kind_of_categories(&upstream.categories)),
    }
}

/// The kind of output RunComfy's categories name (`text-to-image`, `image-to-video`: what
/// follows the last `-to-`), when they all name the same one.
fn kind_of_categories(categories: &[String]) -> Option<MediaKind> {
    let mut kinds = categories.iter().filter_map(|c| {
        c.rsplit_once("-to-")
            .and_then(|(_, kind)| MediaKind::parse(kind))
    });
    let first = kinds.next()?;
    kinds.all(|kind| kind == first).then_some(first)
}

/// Reads a JSON file, naming the file and position on a syntax error or a key given twice. A
/// leading byte order mark is skipped.
pub fn read_json(path: &Path) -> Result<Value, Error> {
    let text = fs::read_to_string(path).map_err(FileError::io(path))?;
    runcomfy_json::parse(&text).map_err(|err| Error::json(path, &err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_name_the_output_kind_when_they_agree() {
        let kind = |categories: &[&str]| {
            kind_of_categories(&categories.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(kind(&["text-to-image"]), Some(MediaKind::Image));
        assert_eq!(
            kind(&["image-to-video", "text-to-video"]),
            Some(MediaKind::Video)
        );
        assert_eq!(
            kind(&["video-to-audio", "lip-sync"]),
            Some(MediaKind::Audio)
        );
        assert_eq!(kind(&["text-to-image", "image-to-video"]), None);
        assert_eq!(kind(&["upscale"]), None);
        assert_eq!(kind(&[]), None);
    }

    /// An audio model that publishes no output schema gets fields for its audio files.
    #[test]
    fn the_documented_output_of_audio_has_audio_fields() -> Result<(), serde_json::Error> {
        let names = |kind| -> Result<Vec<String>, serde_json::Error> {
            let output = documented_output(kind)?;
            Ok(output["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default())
        };
        assert_eq!(names(None)?, ["image", "video", "images", "videos"]);
        assert_eq!(names(Some(MediaKind::Video))?, names(None)?);
        assert_eq!(
            names(Some(MediaKind::Audio))?,
            ["image", "video", "images", "videos", "audio", "audios"]
        );
        Ok(())
    }
}
