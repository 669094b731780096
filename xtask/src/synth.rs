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

/// Writes the catalog into `out` (which should be empty or hold an older synth).
pub fn write(out: &Path, n: usize, seed: u64) -> Result<usize, StoreError> {
    let models = synth(n, seed);
    for m in &models {
        store::write_model(out, &m.id, &m.input, Some(&m.output), None)?;
        let path = out.join(&m.id).join("overlay.json");
        fs::write(&path, store::to_pretty(&m.overlay))
            .map_err(|source| StoreError::Write { path, source })?;
    }
    Ok(models.len())
}

/// The command: writes the catalog and says so.
pub fn run(out: &Path, n: usize, seed: u64) -> Result<usize, StoreError> {
    let count = write(out, n, seed)?;
    println!(
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

    fn choice(&mut self, name: &str, title: &str, values: Vec<Value>, required: bool) {
        let default = values[self.rng.below(values.len())].clone();
        let is_int = values.iter().all(Value::is_i64);
        let ty = if is_int { "integer" } else { "string" };
        let p = prop(
            self.rng,
            title,
            &format!("The {} to use.", title.to_lowercase()),
            json!({"type": ty, "enum": values, "default": default}),
        );
        self.add(name, p, required);
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
                self.choice("aspect_ratio", "Aspect Ratio", values, false);
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
                self.choice("image_size", "Aspect Ratio (W:H)", values, false);
            }
            _ => {
                let values = if self.rng.chance(50) {
                    vec![json!("1K"), json!("2K"), json!("4K")]
                } else {
                    vec![json!("480p"), json!("720p"), json!("1080p")]
                };
                self.choice("resolution", "Resolution", values, false);
            }
        }
    }

    /// Names and shapes real schemas have that make code generation interesting.
    fn messy(&mut self) {
        match self.rng.below(10) {
            0 => {
                let p = prop(
                    self.rng,
                    "Prompt Text",
                    "Extra prompt text.",
                    json!({"type": ["string", "null"], "default": null}),
                );
                self.add("promptText", p, false);
            }
            1 => self.number("cfgScale", "CFG Scale", 1.0, 20.0),
            2 => {
                let p = prop(
                    self.rng,
                    "Prompt",
                    "",
                    json!({"type": "string", "maxLength": 600}),
                );
                self.add("600_prompt", p, false);
            }
            3 => {
                let values = vec![json!("standard"), json!("pro")];
                self.choice("type", "Type", values, false);
            }
            4 => self.boolean("loop", "Loop the video"),
            5 => {
                // Values whose Rust names collide: the generator disambiguates them.
                let values = vec![
                    json!("Auto"),
                    json!("AUTO"),
                    json!("auto-mode"),
                    json!("3d-model"),
                    json!("3D Model"),
                ];
                self.choice("style", "Style", values, false);
            }
            6 => {
                let p = prop(
                    self.rng,
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
                );
                self.add("loras", p, false);
            }
            7 => {
                let p = prop(
                    self.rng,
                    "Steps",
                    "Denoising steps.",
                    json!({"type": "integer", "enum": ["1", "2", "4", "8"], "default": "4"}),
                );
                self.add("steps", p, false);
            }
            8 => {
                let p = prop(
                    self.rng,
                    "Camera Control",
                    "Camera movement.",
                    json!({
                        "type": "object",
                        "properties": {
                            "horizontal": {"type": "number", "minimum": -10, "maximum": 10},
                            "zoom": {"type": "number", "minimum": -10, "maximum": 10},
                        },
                    }),
                );
                self.add("camera_control", p, false);
            }
            _ => self.boolean("self", "Apply to itself"),
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
        Task::Image => {
            b.prompt("prompt");
            if b.rng.chance(40) {
                let p = prop(
                    b.rng,
                    "Negative Prompt",
                    "What to avoid.",
                    json!({"type": "string", "default": ""}),
                );
                b.add("negative_prompt", p, false);
            }
            b.aspect();
            if b.rng.chance(50) {
                b.integer("num_images", "Number of Images", 1, 4, true);
            } else {
                let values = (1..=15).map(|n| json!(n)).collect();
                b.choice(
                    "sequential_image_generation_options",
                    "Maximum Number of Output Images",
                    values,
                    false,
                );
            }
            let steps = *b.rng.pick(&[28, 50, 100]);
            b.integer("num_inference_steps", "Steps", 1, steps, true);
            b.number("guidance_scale", "Guidance Scale", 0.0, 20.0);
            b.choice(
                "output_format",
                "Output Format",
                vec![json!("jpeg"), json!("png"), json!("webp")],
                false,
            );
            b.boolean("enable_safety_checker", "Enable the safety checker");
            b.seed();
            if b.rng.chance(50) { "media" } else { "images" }
        }
        Task::Edit => {
            b.prompt("prompt");
            if b.rng.chance(50) {
                b.images();
            } else {
                b.image("image_url", true);
            }
            if b.rng.chance(30) {
                b.image("mask_url", false);
            }
            b.number("strength", "Strength", 0.0, 1.0);
            b.aspect();
            b.seed();
            if b.rng.chance(50) { "media" } else { "images" }
        }
        Task::Upscale => {
            b.image("image_url", true);
            b.choice("scale", "Scale", vec![json!(2), json!(4)], false);
            b.choice(
                "output_format",
                "Output Format",
                vec![json!("jpeg"), json!("png")],
                false,
            );
            "media"
        }
        Task::Video | Task::ImageVideo => {
            b.prompt("prompt");
            if task == Task::ImageVideo {
                b.image("image_url", true);
                if b.rng.chance(30) {
                    let p = prop(
                        b.rng,
                        "End Image",
                        "The last frame.",
                        json!({"type": ["string", "null"], "format": "image_uri"}),
                    );
                    b.add("end_image_url", p, false);
                }
            }
            let durations = if b.rng.chance(50) {
                vec![json!(5), json!(10)]
            } else {
                vec![json!("5"), json!("10")]
            };
            b.choice("duration", "Duration", durations, false);
            b.choice(
                "resolution",
                "Resolution",
                vec![json!("480p"), json!("720p"), json!("1080p")],
                false,
            );
            b.boolean("prompt_optimizer", "Optimize the prompt");
            b.seed();
            if b.rng.chance(50) { "media" } else { "video" }
        }
        Task::Speech => {
            let max = *b.rng.pick(&[1000, 5000]);
            let p = prop(
                b.rng,
                "Text",
                "The text to speak.",
                json!({"type": "string", "maxLength": max}),
            );
            b.add("text", p, true);
            b.choice(
                "voice",
                "Voice",
                vec![json!("alloy"), json!("echo"), json!("fable"), json!("nova")],
                false,
            );
            b.number("speed", "Speed", 0.5, 2.0);
            if b.rng.chance(40) {
                let p = prop(
                    b.rng,
                    "Reference Audio",
                    "A voice sample.",
                    json!({"type": "string", "format": "audio_uri"}),
                );
                b.add("audio_url", p, false);
            }
            "audio"
        }
    };
    let extras = b.rng.below(4);
    for _ in 0..extras {
        b.messy();
    }
    let Builder {
        properties,
        required,
        formats,
        rng,
    } = b;
    let input = json!({
        "type": "object",
        "title": "Input Schema",
        "required": required,
        "properties": properties,
    });
    let (output, output_type) = output_schema(output_kind);
    let mut overlay = Map::new();
    overlay.insert("display_name".into(), json!(display_name(&id)));
    overlay.insert("output_type".into(), json!(output_type));
    if !formats.is_empty() && rng.chance(60) {
        let fields: Map<String, Value> = formats
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
            "AudioOutput",
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
