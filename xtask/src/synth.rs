//! `cargo xtask synth N --out DIR`: a synthetic catalog of N realistic models, for scale
//! tests and benchmarks of the generator and the crates built on it.
//!
//! Models are variations of the real ones: ids of 2 to 5 segments from many vendors, the
//! usual field sets of text-to-image, editing, video and speech models, enums, bounds and media
//! `validations`, and the mess real schemas have (camelCase, leading digits, keywords, `float`,
//! numbers as strings, nullable types, colliding enum values, nested objects), with a few
//! distinct output schemas. Everything the generator accepts; the same seed gives the same
//! bytes.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use runcomfy_codegen::catalog::{INPUT_FILE, OUTPUT_FILE, OVERLAY_FILE};
use runcomfy_codegen::naming;
use serde_json::{Map, Value, json};

use crate::rng::Rng;
use crate::store::{self, StoreError};

/// One synthetic model.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthModel {
    /// The model id.
    pub id: String,
    /// `input.json`.
    pub input: Value,
    /// `output.json`.
    pub output: Value,
    /// `overlay.json`.
    pub overlay: Value,
}

/// `n` models for `seed`, sorted by id.
pub fn synth(n: usize, seed: u64) -> Vec<SynthModel> {
    let mut rng = Rng::new(seed);
    let mut modules = BTreeSet::new();
    let mut models = Vec::with_capacity(n);
    while models.len() < n {
        let (id, task) = model_id(&mut rng, &mut modules);
        models.push(model(&mut rng, id, task));
    }
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models
}

/// The file that marks a folder as synth's: only such a folder, or an empty one, is written.
pub const MARKER: &str = ".runcomfy-synth";

/// Writes the catalog into `out`, which must be empty, missing or an earlier synth's (it has
/// [`MARKER`]): a real catalog's models, overlays included, share ids with synthetic ones and
/// would be overwritten.
pub fn write(out: &Path, n: usize, seed: u64) -> Result<usize, StoreError> {
    let marker = out.join(MARKER);
    let taken = match fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_some() && !marker.exists(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => false,
        Err(source) => {
            return Err(StoreError::Write {
                path: out.to_owned(),
                source,
            });
        }
    };
    if taken {
        return Err(StoreError::NotSynthetic(out.to_owned()));
    }
    // Written below: a link there would be written through (QA repro39 F2).
    if let Some(link) = store::first_link(out, MARKER) {
        return Err(StoreError::Symlink(link));
    }
    // An earlier synth's models go first: a smaller catalog written over a larger one kept
    // the larger's extra models (QA repro36 L11). Only those its marker lists: anything else
    // there is someone's (QA repro38 N3: a whole catalog went).
    if marker.exists() {
        remove_listed(out, &marker)?;
    }
    let models = synth(n, seed);
    // The marker lists the models, for the next synth there to remove them (and only them).
    let listed: String = models.iter().map(|m| format!("{}\n", m.id)).collect();
    fs::create_dir_all(out)
        .and_then(|()| fs::write(&marker, format!("{MARKER_HEADER}\n{listed}")))
        .map_err(|source| StoreError::Write {
            path: marker.clone(),
            source,
        })?;
    for m in &models {
        let files = store::ModelFiles {
            id: &m.id,
            input: &m.input,
            output: Some(&m.output),
            upstream: None,
        };
        store::write_model(out, &files, &mut Default::default())?;
        let path = out.join(&m.id).join(OVERLAY_FILE);
        fs::write(&path, store::to_pretty(&m.overlay))
            .map_err(|source| StoreError::Write { path, source })?;
    }
    Ok(models.len())
}

/// The marker's first line; the models follow, one id a line.
const MARKER_HEADER: &str = "written by `cargo xtask synth`; its models:";

/// Removes the model folders an earlier synth listed in its marker, and the folders they
/// leave empty. An id that is no model id (`..`, an absolute path) names nothing of ours, and
/// a link is removed, not followed.
fn remove_listed(out: &Path, marker: &Path) -> Result<(), StoreError> {
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Write { path, source }
    };
    let listed = fs::read_to_string(marker).map_err(fail(marker))?;
    for id in listed.lines().skip(1) {
        let dir = out.join(id);
        if runcomfy_codegen::catalog::check_model_id(id, &dir).is_err() {
            continue;
        }
        // A link on the way is not followed: its target is someone else's.
        if store::first_link(out, id).is_some() {
            continue;
        }
        // The files synth writes, and the folder if that empties it: anything added there
        // (a note, a model below it) stays (QA repro39 F3).
        for name in [INPUT_FILE, OUTPUT_FILE, OVERLAY_FILE] {
            match fs::remove_file(dir.join(name)) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    return Err(fail(&dir.join(name))(err));
                }
                _ => {}
            }
        }
        store::remove_empty_folders(out, &dir);
    }
    Ok(())
}

/// The command: writes the catalog and says so.
pub fn run(out: &Path, n: usize, seed: u64) -> Result<usize, StoreError> {
    let count = write(out, n, seed)?;
    outln!(
        "wrote {count} synthetic model(s) (seed {seed}) under {}",
        out.display()
    );
    Ok(count)
}

const VENDORS: &[&str] = &[
    "bytedance",
    "kling-ai",
    "black-forest-labs",
    "stability-ai",
    "alibaba",
    "google",
    "openai",
    "minimax",
    "tencent",
    "runway",
    "luma",
    "pika",
    "wan-ai",
    "ideogram",
    "recraft",
    "acme",
    "Vidu",
    "hi_dream",
];
const FAMILIES: &[&str] = &[
    "seedream-4-0",
    "seedance-1-0",
    "flux-1",
    "kling",
    "veo-3",
    "wan-2-2",
    "hailuo",
    "sdxl",
    "imagen-4",
    "gpt-image-1",
    "hunyuan",
    "gen-4",
    "ray-2",
    "ideogram-v3",
    "recraft-v3",
    "photon",
    "nano-banana",
    "qwen-image",
    "4o",
    "self",
    "type",
];
/// Tasks, each with the kind of model it is.
const TASKS: &[(&str, Task)] = &[
    ("text-to-image", Task::Image),
    ("image-to-image", Task::Edit),
    ("edit", Task::Edit),
    ("edit-sequential", Task::Edit),
    ("sequential", Task::Image),
    ("inpaint", Task::Edit),
    ("upscale", Task::Upscale),
    ("text-to-video", Task::Video),
    ("image-to-video", Task::ImageVideo),
    ("lipsync", Task::ImageVideo),
    ("text-to-speech", Task::Speech),
];
const TIERS: &[&str] = &[
    "pro", "turbo", "fast", "standard", "lite", "max", "ultra", "dev",
];
const VERSIONS: &[&str] = &["v1", "v1.5", "v2", "v2.1", "2.0", "3", "latest", "v2_5"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Image,
    Edit,
    Upscale,
    Video,
    ImageVideo,
    Speech,
}

/// A fresh id of 2 to 5 segments whose Rust module path no other model has.
fn model_id(rng: &mut Rng, modules: &mut BTreeSet<Vec<String>>) -> (String, Task) {
    loop {
        let mut segments = vec![
            rng.pick(VENDORS).to_string(),
            rng.pick(FAMILIES).to_string(),
        ];
        let extra = rng.below(4);
        let (task_name, task) = *rng.pick(TASKS);
        let mut task = task;
        if extra >= 1 {
            segments.push(task_name.to_owned());
        } else {
            // A bare `vendor/family` is a text-to-image model, as most are.
            task = Task::Image;
        }
        if extra >= 2 {
            segments.push(rng.pick(TIERS).to_string());
        }
        if extra >= 3 {
            segments.push(rng.pick(VERSIONS).to_string());
        }
        let module: Vec<String> = segments.iter().map(|s| naming::module_ident(s)).collect();
        if modules.insert(module) {
            return (segments.join("/"), task);
        }
    }
}

/// A property with title and description (empty now and then, as in the docs).
fn prop(rng: &mut Rng, title: &str, description: &str, mut schema: Value) -> Value {
    let mut map = Map::new();
    map.insert("title".into(), json!(title));
    let description = if rng.chance(15) { "" } else { description };
    map.insert("description".into(), json!(description));
    if let Some(fields) = schema.as_object_mut() {
        map.append(fields);
    }
    Value::Object(map)
}

fn image_validations(rng: &mut Rng) -> Value {
    let size = *rng.pick(&[10, 20, 30, 50]);
    let mut rules = vec![json!({
        "validation_rule": "file_size_mb<",
        "validation_value": size,
        "validation_error": format!("File size must be less than {size} MB."),
    })];
    if rng.chance(70) {
        rules.push(json!({"validation_rule": "width/height>", "validation_value": 0.33, "validation_error": "The aspect ratio range should be 1:3 to 3:1."}));
        rules.push(json!({"validation_rule": "width/height<", "validation_value": 3, "validation_error": "The aspect ratio range should be 1:3 to 3:1."}));
    }
    if rng.chance(60) {
        let min = *rng.pick(&[14, 64, 300]);
        let msg = format!("The uploaded image width and height must exceed {min} pixels.");
        rules.push(json!({"validation_rule": "width_pixels>", "validation_value": min, "validation_error": msg}));
        rules.push(json!({"validation_rule": "height_pixels>", "validation_value": min, "validation_error": msg}));
    }
    if rng.chance(40) {
        // Numbers as strings happen upstream; the generator reads them.
        let max = if rng.chance(20) {
            json!("6000")
        } else {
            json!(6000)
        };
        rules.push(json!({"validation_rule": "width_pixels<", "validation_value": max, "validation_error": "The uploaded image width and height must not exceed 6000 pixels."}));
    }
    Value::Array(rules)
}

/// One synthetic model's input schema, built field by field.
struct Builder<'a> {
    rng: &'a mut Rng,
    properties: Map<String, Value>,
    required: Vec<String>,
    formats: Vec<String>,
}

impl Builder<'_> {
    fn add(&mut self, name: &str, property: Value, required: bool) {
        if self.properties.contains_key(name) {
            return;
        }
        self.properties.insert(name.to_owned(), property);
        if required {
            self.required.push(name.to_owned());
        }
    }

    /// An optional property with a title and a description.
    fn optional(&mut self, name: &str, title: &str, description: &str, schema: Value) {
        let p = prop(self.rng, title, description, schema);
        self.add(name, p, false);
    }

    fn prompt(&mut self, name: &str) {
        let max = *self.rng.pick(&[500, 600, 800, 1000, 2000]);
        let mut schema = json!({"type": "string", "maxLength": max});
        if self.rng.chance(30) {
            schema["minLength"] = json!(1);
        }
        let p = prop(self.rng, "Prompt", "Describe what to generate.", schema);
        self.add(name, p, true);
    }

    fn image(&mut self, name: &str, required: bool) {
        let validations = image_validations(self.rng);
        let p = prop(
            self.rng,
            "Image",
            "The reference image, jpeg or png.",
            json!({"type": "string", "format": "image_uri", "validations": validations}),
        );
        self.add(name, p, required);
        self.formats.push(name.to_owned());
    }

    fn images(&mut self) {
        let max = *self.rng.pick(&[4, 10, 14]);
        let validations = image_validations(self.rng);
        let p = prop(
            self.rng,
            "Images",
            &format!("Upload 1~{max} images, must be jpeg or png"),
            json!({
                "type": "array",
                "items": {"type": "string", "format": "image_uri"},
                "validations": validations,
                "maxItems": max,
                "minItems": 1,
            }),
        );
        self.add("images", p, true);
        self.formats.push("images".to_owned());
    }

    /// An optional choice of `values`, one of them its default.
    fn choice(&mut self, name: &str, title: &str, values: Vec<Value>) {
        let default = values[self.rng.below(values.len())].clone();
        let is_int = values.iter().all(Value::is_i64);
        let ty = if is_int { "integer" } else { "string" };
        let p = prop(
            self.rng,
            title,
            &format!("The {} to use.", title.to_lowercase()),
            json!({"type": ty, "enum": values, "default": default}),
        );
        self.add(name, p, false);
    }

    fn integer(&mut self, name: &str, title: &str, low: i64, high: i64, default: bool) {
        let mut schema = json!({"type": "integer", "minimum": low, "maximum": high});
        if default {
            schema["default"] = json!(self.rng.range(low, high));
        }
        let p = prop(
            self.rng,
            title,
            &format!("{title}, from {low} to {high}."),
            schema,
        );
        self.add(name, p, false);
    }

    fn number(&mut self, name: &str, title: &str, low: f64, high: f64) {
        let ty = if self.rng.chance(25) {
            "float"
        } else {
            "number"
        };
        let default = low + (high - low) * (self.rng.below(5) as f64) / 4.0;
        let p = prop(
            self.rng,
            title,
            &format!("{title}, from {low} to {high}."),
            json!({"type": ty, "minimum": low, "maximum": high, "default": default}),
        );
        self.add(name, p, false);
    }

    fn boolean(&mut self, name: &str, title: &str) {
        let default = self.rng.chance(50);
        let p = prop(
            self.rng,
            title,
            &format!("Whether to {}.", title.to_lowercase()),
            json!({"type": "boolean", "default": default}),
        );
        self.add(name, p, false);
    }

    fn seed(&mut self) {
        let schema = if self.rng.chance(50) {
            json!({"type": "integer"})
        } else {
            json!({"type": "integer", "minimum": 0, "maximum": 2147483647})
        };
        let p = prop(self.rng, "Seed", "", schema);
        self.add("seed", p, false);
    }

    fn aspect(&mut self) {
        match self.rng.below(3) {
            0 => {
                let ratios = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "3:2", "2:3"];
                let count = self.rng.range(3, 8) as usize;
                let values = self
                    .rng
                    .subset(&ratios, count)
                    .into_iter()
                    .map(|r| json!(r))
                    .collect();
                self.choice("aspect_ratio", "Aspect Ratio", values);
            }
            1 => {
                let sizes = [
                    "2048:2048 (1:1)",
                    "2304:1728 (4:3)",
                    "1728:2304 (3:4)",
                    "2560:1440 (16:9)",
                    "1440:2560 (9:16)",
                    "2496:1664 (3:2)",
                    "1664:2496 (2:3)",
                    "3024:1296 (21:9)",
                ];
                let count = self.rng.range(2, 8) as usize;
                let values = self
                    .rng
                    .subset(&sizes, count)
                    .into_iter()
                    .map(|r| json!(r))
                    .collect();
                self.choice("image_size", "Aspect Ratio (W:H)", values);
            }
            _ => {
                let values = if self.rng.chance(50) {
                    strings(&["1K", "2K", "4K"])
                } else {
                    strings(&["480p", "720p", "1080p"])
                };
                self.choice("resolution", "Resolution", values);
            }
        }
    }

    /// Names and shapes real schemas have that make code generation interesting.
    fn messy(&mut self) {
        match self.rng.below(10) {
            0 => self.optional(
                "promptText",
                "Prompt Text",
                "Extra prompt text.",
                json!({"type": ["string", "null"], "default": null}),
            ),
            1 => self.number("cfgScale", "CFG Scale", 1.0, 20.0),
            2 => self.optional(
                "600_prompt",
                "Prompt",
                "",
                json!({"type": "string", "maxLength": 600}),
            ),
            3 => self.choice("type", "Type", strings(&["standard", "pro"])),
            4 => self.boolean("loop", "Loop the video"),
            5 => {
                // Values whose Rust names collide: the generator disambiguates them.
                let values = strings(&["Auto", "AUTO", "auto-mode", "3d-model", "3D Model"]);
                self.choice("style", "Style", values);
            }
            6 => self.optional(
                "loras",
                "LoRAs",
                "LoRA weights to apply.",
                json!({
                    "type": "array",
                    "maxItems": 3,
                    "items": {
                        "type": "object",
                        "required": ["path"],
                        "properties": {
                            "path": {"type": "string", "format": "uri"},
                            "scale": {"type": "number", "minimum": 0, "maximum": 4, "default": 1},
                        },
                    },
                }),
            ),
            7 => self.optional(
                "steps",
                "Steps",
                "Denoising steps.",
                json!({"type": "integer", "enum": ["1", "2", "4", "8"], "default": "4"}),
            ),
            8 => self.optional(
                "camera_control",
                "Camera Control",
                "Camera movement.",
                json!({
                    "type": "object",
                    "properties": {
                        "horizontal": {"type": "number", "minimum": -10, "maximum": 10},
                        "zoom": {"type": "number", "minimum": -10, "maximum": 10},
                    },
                }),
            ),
            _ => self.boolean("self", "Apply to itself"),
        }
    }

    /// The output kind: half the models reply with the common media schema, half with
    /// `kind`'s own.
    fn media_or(&mut self, kind: &'static str) -> &'static str {
        if self.rng.chance(50) { "media" } else { kind }
    }

    /// The fields of a text-to-image model; returns its output kind.
    fn text_to_image(&mut self) -> &'static str {
        self.prompt("prompt");
        if self.rng.chance(40) {
            self.optional(
                "negative_prompt",
                "Negative Prompt",
                "What to avoid.",
                json!({"type": "string", "default": ""}),
            );
        }
        self.aspect();
        if self.rng.chance(50) {
            self.integer("num_images", "Number of Images", 1, 4, true);
        } else {
            let values = (1..=15).map(|n| json!(n)).collect();
            self.choice(
                "sequential_image_generation_options",
                "Maximum Number of Output Images",
                values,
            );
        }
        let steps = *self.rng.pick(&[28, 50, 100]);
        self.integer("num_inference_steps", "Steps", 1, steps, true);
        self.number("guidance_scale", "Guidance Scale", 0.0, 20.0);
        self.choice(
            "output_format",
            "Output Format",
            strings(&["jpeg", "png", "webp"]),
        );
        self.boolean("enable_safety_checker", "Enable the safety checker");
        self.seed();
        self.media_or("images")
    }

    /// The fields of an image-editing model; returns its output kind.
    fn edit(&mut self) -> &'static str {
        self.prompt("prompt");
        if self.rng.chance(50) {
            self.images();
        } else {
            self.image("image_url", true);
        }
        if self.rng.chance(30) {
            self.image("mask_url", false);
        }
        self.number("strength", "Strength", 0.0, 1.0);
        self.aspect();
        self.seed();
        self.media_or("images")
    }

    /// The fields of an upscaler; returns its output kind.
    fn upscale(&mut self) -> &'static str {
        self.image("image_url", true);
        self.choice("scale", "Scale", vec![json!(2), json!(4)]);
        self.choice("output_format", "Output Format", strings(&["jpeg", "png"]));
        "media"
    }

    /// The fields of a video model, from text or (`from_image`) an image; returns its output
    /// kind.
    fn video(&mut self, from_image: bool) -> &'static str {
        self.prompt("prompt");
        if from_image {
            self.image("image_url", true);
            if self.rng.chance(30) {
                self.optional(
                    "end_image_url",
                    "End Image",
                    "The last frame.",
                    json!({"type": ["string", "null"], "format": "image_uri"}),
                );
            }
        }
        let durations = if self.rng.chance(50) {
            vec![json!(5), json!(10)]
        } else {
            strings(&["5", "10"])
        };
        self.choice("duration", "Duration", durations);
        self.choice(
            "resolution",
            "Resolution",
            strings(&["480p", "720p", "1080p"]),
        );
        self.boolean("prompt_optimizer", "Optimize the prompt");
        self.seed();
        self.media_or("video")
    }

    /// The fields of a text-to-speech model; returns its output kind.
    fn speech(&mut self) -> &'static str {
        let max = *self.rng.pick(&[1000, 5000]);
        let p = prop(
            self.rng,
            "Text",
            "The text to speak.",
            json!({"type": "string", "maxLength": max}),
        );
        self.add("text", p, true);
        self.choice(
            "voice",
            "Voice",
            strings(&["alloy", "echo", "fable", "nova"]),
        );
        self.number("speed", "Speed", 0.5, 2.0);
        if self.rng.chance(40) {
            self.optional(
                "audio_url",
                "Reference Audio",
                "A voice sample.",
                json!({"type": "string", "format": "audio_uri"}),
            );
        }
        "audio"
    }

    /// The model: its `input.json` from the fields added, the output schema of
    /// `output_kind`, and an overlay naming it (and now and then the formats of its images).
    fn finish(self, id: String, output_kind: &str) -> SynthModel {
        let input = json!({
            "type": "object",
            "title": "Input Schema",
            "required": self.required,
            "properties": self.properties,
        });
        let (output, output_type) = output_schema(output_kind);
        let mut overlay = Map::new();
        overlay.insert("display_name".into(), json!(display_name(&id)));
        overlay.insert("output_type".into(), json!(output_type));
        if !self.formats.is_empty() && self.rng.chance(60) {
            let fields: Map<String, Value> = self
                .formats
                .iter()
                .map(|f| (f.clone(), json!({"formats": ["jpeg", "png"]})))
                .collect();
            overlay.insert("fields".into(), Value::Object(fields));
        }
        SynthModel {
            id,
            input,
            output,
            overlay: Value::Object(overlay),
        }
    }
}

fn model(rng: &mut Rng, id: String, task: Task) -> SynthModel {
    let mut b = Builder {
        rng,
        properties: Map::new(),
        required: Vec::new(),
        formats: Vec::new(),
    };
    let output_kind = match task {
        Task::Image => b.text_to_image(),
        Task::Edit => b.edit(),
        Task::Upscale => b.upscale(),
        Task::Video => b.video(false),
        Task::ImageVideo => b.video(true),
        Task::Speech => b.speech(),
    };
    let extras = b.rng.below(4);
    for _ in 0..extras {
        b.messy();
    }
    b.finish(id, output_kind)
}

/// Enum values that are strings.
fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}

/// `bytedance/seedream-4-0/edit` → `Bytedance Seedream 4 0 Edit`.
fn display_name(id: &str) -> String {
    id.split(['/', '-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn url(description: &str) -> Value {
    json!({"type": "string", "format": "uri", "description": description})
}

fn urls(description: &str) -> Value {
    json!({"type": "array", "description": description, "items": {"type": "string", "format": "uri"}})
}

/// The few output schemas: the docs' common media one, and image, video and audio variants.
fn output_schema(kind: &str) -> (Value, &'static str) {
    let (properties, name) = match kind {
        "images" => (
            json!({
                "images": urls("Multiple image URLs"),
                "seed": {"type": "integer", "description": "Seed"},
                "has_nsfw_concepts": {"type": "array", "description": "Has nsfw concepts", "items": {"type": "boolean"}},
            }),
            "ImagesOutput",
        ),
        "video" => (
            json!({
                "video": url("Single video URL"),
                "duration": {"type": "number", "description": "Duration"},
            }),
            "VideoOutput",
        ),
        "audio" => (
            json!({
                "audio": url("Single audio URL"),
                "duration": {"type": "number", "description": "Duration"},
            }),
            "SoundOutput",
        ),
        _ => (
            json!({
                "image": url("Single image URL"),
                "video": url("Single video URL"),
                "images": urls("Multiple image URLs"),
                "videos": urls("Multiple video URLs"),
            }),
            "MediaOutput",
        ),
    };
    (
        json!({"output": {"type": "object", "properties": properties}}),
        name,
    )
}
