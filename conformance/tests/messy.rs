//! The generator's messy fixture catalog (`codegen/tests/fixtures/messy`), generated and run:
//! `acme/Studio-2.5/4K` has a list of videos with rules on their dimensions, a single video
//! whose overlay lists its formats, and a single audio file with a size rule. Real files (the
//! client's media fixtures) are judged through the generated types and as JSON, the way the
//! CLI and batch send them.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use runcomfy::{Input, Media, Model, Severity, ValidationReport};
use runcomfy_conformance::models::acme::studio_2_5::m4k::{Studio254k, Studio254kInput};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../client/tests/fixtures/media")
        .join(name)
}

fn path(name: &str) -> String {
    fixture(name).display().to_string()
}

/// The errors of a report as `(path, rule, value)`.
fn errors(report: &ValidationReport) -> Vec<(String, String, Option<String>)> {
    report
        .problems()
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| (p.path.clone(), p.rule.clone(), p.value.clone()))
        .collect()
}

fn error(path: &str, rule: &str, value: &str) -> (String, String, Option<String>) {
    (path.to_owned(), rule.to_owned(), Some(value.to_owned()))
}

/// An error of the fixture `file`: its measurement names the file.
fn file_error(path: &str, rule: &str, value: &str, file: &str) -> (String, String, Option<String>) {
    error(path, rule, &format!("{value} of {}", self::path(file)))
}

/// The errors of a JSON input, decoded and validated as the CLI does (local files allowed).
fn json_errors(input: Value) -> Vec<(String, String, Option<String>)> {
    match Studio254k::info().decode(&input) {
        Ok(_) => Vec::new(),
        Err(err) => errors(&err.report),
    }
}

#[test]
fn video_dimension_rules_of_a_catalog_model_are_measured() {
    // Landscape and within 4096x2160: MP4 with its movie header last, QuickTime, live WebM.
    let good = Studio254kInput::new(
        "a sunrise",
        vec![
            Media::path(fixture("moov-at-end-64x48.mp4")),
            Media::path(fixture("clip-176x144.mov")),
            Media::path(fixture("live-160x120.webm")),
        ],
    );
    let report = good.validate();
    assert!(report.problems().is_empty(), "{report}");

    // A portrait WebM, a video whose track is 48x64 after a sound track, and one of sound alone.
    let bad = Studio254kInput::new(
        "a sunrise",
        vec![
            Media::path(fixture("portrait-90x160.webm")),
            Media::path(fixture("sound-first-48x64.mp4")),
            Media::path(fixture("sound-only.mp4")),
        ],
    );
    let report = bad.validate();
    assert_eq!(
        errors(&report),
        [
            file_error(
                "clips[0]",
                "width/height>",
                "aspect ratio 0.56 (90x160)",
                "portrait-90x160.webm"
            ),
            file_error(
                "clips[1]",
                "width/height>",
                "aspect ratio 0.75 (48x64)",
                "sound-first-48x64.mp4"
            ),
            file_error("clips[2]", "format", "format mp4", "sound-only.mp4"),
        ],
        "{report}"
    );
    // The catalog's own message is what the user reads.
    assert!(
        report
            .to_string()
            .contains("clips[0]: Clips must be landscape."),
        "{report}"
    );

    // The same files as JSON: the same verdicts.
    let from_json = json_errors(json!({
        "prompt": "a sunrise",
        "clips": [
            path("portrait-90x160.webm"),
            path("sound-first-48x64.mp4"),
            path("sound-only.mp4"),
        ],
    }));
    assert_eq!(from_json, errors(&report));
}

#[test]
fn single_video_and_audio_fields_are_measured_and_sniffed() {
    let input = |intro: &str, voice: &str| {
        Studio254kInput::new("a sunrise", vec![Media::path(fixture("clip-100x60.mkv"))])
            .with_intro(Media::path(fixture(intro)))
            .with_voice(Media::path(fixture(voice)))
    };
    let report = input("clip-176x144.mov", "tone.mp3").validate();
    assert!(report.problems().is_empty(), "{report}");

    // WebM where MP4 or MOV is asked for; an M4A where MP3 or WAV is.
    let report = input("portrait-90x160.webm", "tone.m4a").validate();
    assert_eq!(
        errors(&report),
        [
            file_error("intro", "format", "format webm", "portrait-90x160.webm"),
            file_error("voice", "format", "format m4a", "tone.m4a"),
        ],
        "{report}"
    );

    // Files of the wrong kind: audio for the intro, a video for the narration.
    let report = input("tone.mp3", "moov-at-end-64x48.mp4").validate();
    let messages: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert_eq!(
        messages,
        [
            format!(
                "intro: is an mp3 audio file, not a video (format; format mp3 of {})",
                path("tone.mp3")
            ),
            format!(
                "voice: must be mp3 or wav (format; format mp4 of {})",
                path("moov-at-end-64x48.mp4")
            ),
        ],
        "{report}"
    );

    // A 48x64 intro is high enough; the single field has its own rule.
    let report = input("sound-first-48x64.mp4", "tone.mp3").validate();
    assert!(report.problems().is_empty(), "{report}");
}

#[test]
fn a_nullable_alternative_reports_why_the_value_is_not_it() {
    use runcomfy_conformance::models::acme::messy_model::v1_5::MessyModelV15;
    let info = MessyModelV15::info();
    let base = json!({"600_prompt": "p", "video": "https://example.com/v.mp4"});
    let with = |key: &str, value: Value| {
        let mut input = base.clone();
        input[key] = value;
        match info.decode(&input) {
            Ok(_) => Vec::new(),
            Err(err) => errors(&err.report),
        }
    };
    // `anyOf: [{integer, minimum 0}, {null}]`: the integer's own rule, not "no alternative".
    assert_eq!(
        with("seed_or_null", json!(-5)),
        [error("seed_or_null", "minimum", "-5")]
    );
    assert!(with("seed_or_null", Value::Null).is_empty());
    // `oneOf: [image, null]` with a number: the image's type rule.
    assert_eq!(
        with("control_image", json!(3)),
        [error("control_image", "type", "3")]
    );
}
