//! Every model of the runtime catalog runs: a `--mock run` with a minimal valid input, local
//! media files of every kind its fields take, downloads files of the kind the model makes.

use std::path::{Path, PathBuf};

use runcomfy::model::ModelInfo;
use runcomfy::vocab::media::{MediaFormat, MediaKind};
use serde_json::{Map, Value, json};

use crate::support::{assert_code, runcomfy, stderr, stdout, write_png};

/// Local media files, one of each kind.
struct Media {
    png: PathBuf,
    mp4: PathBuf,
    wav: PathBuf,
}

impl Media {
    fn write(dir: &Path) -> Media {
        let png = dir.join("frame.png");
        write_png(&png, 512, 512);
        let mp4 = dir.join("clip.mp4");
        let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip-640x360.mp4");
        std::fs::copy(clip, &mp4).unwrap();
        let wav = dir.join("tone.wav");
        write_wav(&wav);
        Media { png, mp4, wav }
    }

    fn of(&self, kind: MediaKind) -> &Path {
        match kind {
            MediaKind::Image => &self.png,
            MediaKind::Video => &self.mp4,
            MediaKind::Audio => &self.wav,
        }
    }
}

/// A quarter second of 8 kHz mono 16-bit silence, as a RIFF/WAVE file.
fn write_wav(path: &Path) {
    let samples = 2000u32;
    let data = samples * 2;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&16000u32.to_le_bytes()); // bytes per second
    bytes.extend_from_slice(&2u16.to_le_bytes()); // block align
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data.to_le_bytes());
    bytes.resize(bytes.len() + data as usize, 0);
    std::fs::write(path, bytes).unwrap();
}

/// A value of a required non-media field the field's schema accepts: its default, its first
/// choice, or one inside its bounds.
fn minimal_value(field: &Value) -> Value {
    if !field["default"].is_null() {
        return field["default"].clone();
    }
    if let Some(first) = field["choices"].as_array().and_then(|c| c.first()) {
        return first["value"].clone();
    }
    let bound = || {
        field["minimum"]
            .as_f64()
            .or_else(|| field["maximum"].as_f64())
            .unwrap_or(1.0)
    };
    match field["kind"].as_str().unwrap() {
        "integer" => json!(bound() as i64),
        "number" => json!(bound()),
        "boolean" => json!(false),
        "string" => {
            let min = field["min_length"].as_u64().unwrap_or(0) as usize;
            let max = field["max_length"].as_u64().unwrap_or(200) as usize;
            let mut text = "A red fox crossing a snowy field at dawn".to_owned();
            while text.chars().count() < min {
                text.push_str(" at dawn");
            }
            json!(text.chars().take(max).collect::<String>())
        }
        other => panic!("no minimal value for a required {other} field: {field}"),
    }
}

/// `runcomfy describe ID --json`: the fields with their flags, as a user would read them.
fn describe(dir: &Path, id: &str) -> Value {
    let output = runcomfy(dir)
        .args(["describe", id, "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs one model; returns the kinds of the files it downloaded.
fn run_model(dir: &Path, media: &Media, model: &ModelInfo) -> Vec<MediaKind> {
    let described = describe(dir, model.id);
    // Fields that may not be given beside another (`at_most_one`): only the first is.
    let left_out: Vec<&str> = described["cross_rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rule| rule["rule"] == "at_most_one")
        .flat_map(|rule| rule["fields"].as_array().unwrap().iter().skip(1))
        .map(|field| field.as_str().unwrap())
        .collect();
    let mut input = Map::new();
    let mut media_flags: Vec<String> = Vec::new();
    for field in described["fields"].as_array().unwrap() {
        let name = field["name"].as_str().unwrap();
        if left_out.contains(&name) {
            continue;
        }
        if let Some(spec) = field["media"].as_object() {
            // Every media field, required or not: local files of each kind become data: URIs.
            let kind = MediaKind::parse(spec["kind"].as_str().unwrap()).unwrap();
            let count = if field["array"] == true {
                field["min_items"].as_u64().unwrap_or(1).max(1)
            } else {
                1
            };
            for _ in 0..count {
                media_flags.push(field["flag"].as_str().unwrap().to_owned());
                media_flags.push(media.of(kind).display().to_string());
            }
        } else if field["required"] == true {
            input.insert(name.to_owned(), minimal_value(field));
        }
    }
    let slug = model.id.replace('/', "_");
    let input_file = dir.join(format!("{slug}.json"));
    std::fs::write(&input_file, Value::Object(input).to_string()).unwrap();
    let out = dir.join("out").join(&slug);
    let output = runcomfy(dir)
        .args(["--mock", "run", model.id, "--json", "--out"])
        .arg(&out)
        .arg("--input")
        .arg(format!("@{}", input_file.display()))
        .args(&media_flags)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: {:?}\nstdout:\n{}\nstderr:\n{}",
        model.id,
        media_flags,
        stdout(&output),
        stderr(&output)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| {
            let path = Path::new(file["path"].as_str().unwrap());
            let bytes = std::fs::read(path).unwrap();
            let format = MediaFormat::sniff(&bytes)
                .unwrap_or_else(|| panic!("{}: {} is no media file", model.id, path.display()));
            // The name says what the bytes are.
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some(format.extension()),
                "{}: {}",
                model.id,
                path.display()
            );
            format.kind()
        })
        .collect()
}

#[test]
fn every_model_of_the_catalog_runs_with_local_media_and_downloads_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let media = Media::write(dir.path());
    let models = runcomfy::catalog();
    assert!(models.len() >= 68, "{} models", models.len());
    let kinds_seen = std::sync::Mutex::new(Vec::new());
    // A few at a time: each run is a process with its own simulator.
    std::thread::scope(|scope| {
        for chunk in models.chunks(models.len().div_ceil(3)) {
            let (media, dir, kinds_seen) = (&media, dir.path(), &kinds_seen);
            scope.spawn(move || {
                for model in chunk {
                    let kinds = run_model(dir, media, model);
                    let expected = model.upstream.output_kind.unwrap_or(MediaKind::Image);
                    assert!(!kinds.is_empty(), "{}: no file downloaded", model.id);
                    assert!(
                        kinds.iter().all(|k| *k == expected),
                        "{}: expected {expected:?} files, got {kinds:?}",
                        model.id
                    );
                    kinds_seen.lock().unwrap().push(expected);
                }
            });
        }
    });
    let kinds_seen = kinds_seen.into_inner().unwrap();
    for kind in [MediaKind::Image, MediaKind::Video, MediaKind::Audio] {
        assert!(kinds_seen.contains(&kind), "no {kind:?} model ran");
    }
}

#[test]
fn describe_says_when_the_outputs_are_only_the_documented_ones() {
    let dir = tempfile::tempdir().unwrap();
    // No output schema published: the fields RunComfy documents for every model, said so.
    let audio = "acestep-ai/ace-step/audio-inpaint";
    assert_eq!(describe(dir.path(), audio)["output_published"], false);
    let output = runcomfy(dir.path())
        .args(["describe", audio])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("Output: not published for this model"),
        "{}",
        stdout(&output)
    );
    // Its audio fields are said to be this build's reading, not RunComfy's docs (QA repro45
    // N3).
    assert!(
        stdout(&output).contains("audio, audios[] (the output RunComfy's docs show for every model, with audio and audios named as those docs name images and videos"),
        "{}",
        stdout(&output)
    );
    // A model whose doc page shows its output.
    let seed = "bytedance/seedream-4-0/sequential";
    assert_eq!(describe(dir.path(), seed)["output_published"], true);
    let output = runcomfy(dir.path())
        .args(["describe", seed])
        .output()
        .unwrap();
    assert!(stdout(&output).contains("Output: image, video, images[], videos[]"));
}

/// `models WORDS --kind KIND` lists the models whose id or name holds every word (any case)
/// and that make that kind of output; none is a failure, said on stderr.
#[test]
fn models_are_found_by_words_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let list = |args: &[&str]| {
        let output = runcomfy(dir.path())
            .arg("models")
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        let ids: Vec<String> = serde_json::from_slice::<Vec<Value>>(&output.stdout)
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        (output, ids)
    };
    let (output, ids) = list(&["SEEDREAM", "edit"]);
    assert_code(&output, 0);
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(id.contains("seedream") && id.contains("edit"), "{id}");
    }
    assert!(
        ids.contains(&"bytedance/seedream-4-0/edit".to_owned()),
        "{ids:?}"
    );

    let (output, audio) = list(&["--kind", "audio"]);
    assert_code(&output, 0);
    let catalog = runcomfy::catalog();
    let expected: Vec<&str> = catalog
        .iter()
        .filter(|m| m.upstream.output_kind == Some(MediaKind::Audio))
        .map(|m| m.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(audio, expected);
    let listed: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(listed.iter().all(|m| m["kind"] == "audio"), "{listed:?}");

    // The seed models say their kind in their overlays; flux-2/flash's categories say it.
    let (output, images) = list(&["--kind", "image"]);
    assert_code(&output, 0);
    for id in [
        "bytedance/seedream-4-0/sequential",
        "bytedance/seedream-4-0/edit",
        "blackforestlabs/flux-2/flash/text-to-image",
    ] {
        assert!(images.contains(&id.to_owned()), "{id} in {images:?}");
    }

    let (output, none) = list(&["no-such-model-anywhere"]);
    assert_code(&output, 1);
    assert!(none.is_empty());
    assert!(
        stderr(&output).contains("no model matches `no-such-model-anywhere`"),
        "{}",
        stderr(&output)
    );
}

/// An id that names no model: the closest ids, in one short line, not the whole catalog; a
/// word of ids gets the search that finds them.
#[test]
fn an_unknown_model_gets_the_closest_ids_not_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["describe", "seedream-4-0/edit"],
            "error: unknown model `seedream-4-0/edit`; did you mean `bytedance/seedream-4-0/edit`?",
        ),
        (
            vec!["--mock", "run", "bytedance/seedream-4-0/edt", "--text", "x"],
            "error: unknown model `bytedance/seedream-4-0/edt`; did you mean \
             `bytedance/seedream-4-0/edit`",
        ),
        (
            vec!["describe", "wan-ai/wan-2.7"],
            "`wan-ai/wan-2.7` is a family of 8 models, not one: `runcomfy models wan-ai/wan-2.7` \
             lists them",
        ),
        (
            vec!["describe", "Wan-AI/Wan-2.7"],
            "`Wan-AI/Wan-2.7` is a family of 8 models, not one: `runcomfy models wan-ai/wan-2.7` \
             lists them",
        ),
        (
            vec!["run", "Seedream"],
            "`runcomfy models Seedream` lists the",
        ),
        // The start of one model's id.
        (
            vec!["describe", "blackforestlabs/flux-2/flash"],
            "error: unknown model `blackforestlabs/flux-2/flash`; did you mean \
             `blackforestlabs/flux-2/flash/text-to-image`?",
        ),
        (
            vec![
                "batch",
                "lines.jsonl",
                "--out",
                "o",
                "--model",
                "seedream-4-0/edit",
            ],
            "error: unknown model `seedream-4-0/edit`; did you mean `bytedance/seedream-4-0/edit`?",
        ),
    ] {
        let output = runcomfy(dir.path()).args(&args).output().unwrap();
        assert_code(&output, 64);
        let text = stderr(&output);
        assert!(text.contains(expected), "{args:?}: {text}");
        assert!(text.lines().count() <= 2, "{args:?}: {text}");
        // Not the catalog: all 68 ids are some 2,800 characters.
        assert!(text.len() < 300, "{args:?}: {text}");
    }
}
