//! Issue 3's promise: every problem of an input is reported at once, with its field path and
//! the schema's message, and nothing is sent (checked against the simulator's counters).

use std::fs;
use std::path::{Path, PathBuf};

use runcomfy::models::bytedance::seedream_4_0::{edit, edit_sequential, sequential};
use runcomfy::{Client, Input, Media, Problem, ValidationReport};
use runcomfy_simulator::{SimConfig, Simulator};

/// A real PNG of `width` x `height` (1-bit grey, so even 7000 px is small and quick), padded
/// with trailing bytes to `size` bytes when given.
fn png(dir: &Path, name: &str, width: u32, height: u32, size: Option<usize>) -> PathBuf {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().unwrap();
        let row = (width as usize).div_ceil(8);
        writer
            .write_image_data(&vec![0u8; row * height as usize])
            .unwrap();
    }
    if let Some(size) = size {
        assert!(bytes.len() <= size);
        bytes.resize(size, 0);
    }
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// The 10 px, 7000 px, 4:1 and 11 MB images, then seven good ones: eleven in all.
fn bad_images(dir: &Path) -> Vec<Media> {
    let mut images = vec![
        png(dir, "tiny.png", 10, 10, None),
        png(dir, "huge.png", 7000, 7000, None),
        png(dir, "wide.png", 4000, 1000, None),
        png(dir, "heavy.png", 1024, 1024, Some(11 * 1024 * 1024)),
    ];
    for i in 0..7 {
        images.push(png(dir, &format!("good{i}.png"), 1024, 768, None));
    }
    images.into_iter().map(Media::Path).collect()
}

fn long_prompt() -> String {
    // 601 characters, multibyte included: counted in Unicode scalar values.
    format!("Generate 3 images of a sunset {}", "é".repeat(571))
}

fn find<'a>(report: &'a ValidationReport, path: &str, rule: &str) -> &'a Problem {
    report
        .errors()
        .find(|p| p.path == path && p.rule == rule)
        .unwrap_or_else(|| panic!("no `{rule}` error at `{path}` in:\n{report}"))
}

/// The problems every image model must report for the bad images and prompt.
fn assert_image_problems(report: &ValidationReport, prompt_field: &str) {
    assert_eq!(
        find(report, prompt_field, "maxLength").value.as_deref(),
        Some("601 characters")
    );
    assert_eq!(
        find(report, "images", "maxItems").value.as_deref(),
        Some("11 items")
    );
    let tiny = find(report, "images[0]", "width_pixels>");
    assert_eq!(
        tiny.message,
        "The uploaded image width and height must exceed 14 pixels."
    );
    assert!(tiny.value.as_deref().unwrap().contains("10 px"), "{tiny}");
    find(report, "images[0]", "height_pixels>");
    let huge = find(report, "images[1]", "width_pixels<");
    assert_eq!(
        huge.message,
        "The uploaded image width and height must not exceed 6000 pixels."
    );
    assert!(huge.value.as_deref().unwrap().contains("7000 px"), "{huge}");
    let wide = find(report, "images[2]", "width/height<");
    assert_eq!(wide.message, "The aspect ratio range should be 1:3 to 3:1.");
    let heavy = find(report, "images[3]", "file_size_mb<");
    assert_eq!(heavy.message, "File size must be less than 10 MB.");
    // Nothing about the good images.
    assert!(
        report.errors().all(|p| !p.path.starts_with("images[4]")),
        "{report}"
    );
}

async fn simulator() -> Simulator {
    Simulator::start(SimConfig {
        token: Some("t".into()),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn client(sim: &Simulator) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token("t")
        .build()
        .unwrap()
}

#[tokio::test]
async fn edit_reports_every_problem_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = edit::EditInput::new(long_prompt(), bad_images(dir.path()));
    let report = input.validate();
    assert_image_problems(&report, "prompt");

    let sim = simulator().await;
    let err = client(&sim).submit::<edit::Edit>(&input).await.unwrap_err();
    assert!(matches!(err, runcomfy::Error::Validation(_)), "{err}");
    assert_eq!(sim.stats().submit_calls, 0);
}

#[tokio::test]
async fn edit_sequential_reports_every_problem_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = edit_sequential::EditSequentialInput::new(bad_images(dir.path()), long_prompt())
        .with_sequential_image_generation_options(edit_sequential::MaxImages::Five);
    let report = input.validate();
    assert_image_problems(&report, "text");
    // 11 references + 5 generated > 15.
    let total = find(
        &report,
        "images + sequential_image_generation_options",
        "max_total",
    );
    assert_eq!(total.value.as_deref(), Some("total 16"));
    // "3 images" in the prompt, 5 asked for: a warning, apart from the errors.
    let warning = report
        .warnings()
        .find(|p| p.rule == "prompt_count")
        .expect("prompt warning");
    assert_eq!(warning.path, "text");

    let sim = simulator().await;
    let err = client(&sim)
        .submit::<edit_sequential::EditSequential>(&input)
        .await
        .unwrap_err();
    let runcomfy::Error::Validation(err) = err else {
        panic!("{err}")
    };
    assert_eq!(err.report, report);
    assert_eq!(sim.stats().submit_calls, 0);
}

#[tokio::test]
async fn sequential_reports_its_prompt_and_sends_nothing() {
    let input = sequential::SequentialInput::new(long_prompt());
    let report = input.validate();
    find(&report, "text", "maxLength");
    // The default maximum is 3, as the prompt says: no warning.
    assert_eq!(report.warnings().count(), 0, "{report}");

    let sim = simulator().await;
    let err = client(&sim)
        .submit::<sequential::Sequential>(&input)
        .await
        .unwrap_err();
    assert!(matches!(err, runcomfy::Error::Validation(_)), "{err}");
    assert_eq!(sim.stats().submit_calls, 0);
}

#[test]
fn fifteen_images_in_total_pass_and_sixteen_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let image = Media::Path(png(dir.path(), "ok.png", 64, 64, None));
    for (references, max, ok) in [(10, 5, true), (10, 6, false), (1, 14, true), (1, 15, false)] {
        let input = edit_sequential::EditSequentialInput::new(
            vec![image.clone(); references],
            format!("Generate {max} images"),
        )
        .with_sequential_image_generation_options(
            edit_sequential::MaxImages::from_value(max).unwrap(),
        );
        let report = input.validate();
        assert_eq!(
            report.errors().all(|p| p.rule != "max_total"),
            ok,
            "{references}+{max}: {report}"
        );
    }
}

#[test]
fn item_counts_at_the_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let image = Media::Path(png(dir.path(), "ok.png", 64, 64, None));
    for (count, rule) in [
        (0, Some("minItems")),
        (1, None),
        (10, None),
        (11, Some("maxItems")),
    ] {
        let input = edit::EditInput::new("a cat", vec![image.clone(); count]);
        let report = input.validate();
        let rules: Vec<&str> = report.errors().map(|p| p.rule.as_str()).collect();
        assert_eq!(
            rules,
            rule.into_iter().collect::<Vec<_>>(),
            "{count} images"
        );
    }
}

#[test]
fn prompt_length_at_the_bounds_counts_characters() {
    for (prompt, ok) in [
        ("é".repeat(600), true),
        ("é".repeat(601), false),
        ("a".repeat(600), true),
        ("a".repeat(601), false),
    ] {
        let report = sequential::SequentialInput::new(prompt).validate();
        assert_eq!(report.is_valid(), ok, "{report}");
    }
}

/// An empty or blank required text is valid JSON Schema, but warned of: it is paid for.
#[test]
fn a_blank_required_text_is_valid_but_warned_of() {
    for (prompt, warned) in [("", true), (" \n\t", true), ("a fox", false)] {
        let report = sequential::SequentialInput::new(prompt).validate();
        assert!(report.is_valid(), "{report}");
        let warnings: Vec<String> = report.warnings().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings.iter().any(|w| w.contains("is required but empty")),
            warned,
            "{prompt:?}: {warnings:?}"
        );
    }
}

/// Limits the real catalog states only in prose, checked through overlays: HappyHorse's image
/// sides, Wan 2.7's references in all.
#[test]
fn limits_stated_in_descriptions_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let small = png(dir.path(), "small.png", 16, 16, None)
        .display()
        .to_string();
    let fine = png(dir.path(), "fine.png", 640, 480, None)
        .display()
        .to_string();
    let refused = |id: &str, input: serde_json::Value| -> Vec<String> {
        let model = runcomfy::catalog::find(id).unwrap();
        match model.decode(&input) {
            Ok(_) => Vec::new(),
            Err(err) => err.report.errors().map(|p| p.rule.clone()).collect(),
        }
    };
    let prompt = serde_json::json!({"prompt": "a fox"});
    let edit = serde_json::json!({"prompt": "a fox", "video_url": "https://cdn.example/v.mp4"});
    for (id, base, field, smallest) in [
        (
            "happyhorse/happyhorse-1.0/image-to-video",
            &prompt,
            "image_url",
            300,
        ),
        (
            "alibaba/happyhorse-1.1/image-to-video",
            &prompt,
            "image_url",
            300,
        ),
        (
            "happyhorse/happyhorse-1.0/reference-to-video",
            &prompt,
            "image_url_1",
            400,
        ),
        (
            "happyhorse/happyhorse-1.0/video-edit",
            &edit,
            "reference_image_url_1",
            300,
        ),
    ] {
        let with = |image: &str| {
            let mut input = base.clone();
            input[field] = image.into();
            input
        };
        assert_eq!(
            refused(id, with(&small)),
            ["width_pixels>", "height_pixels>"],
            "{id}"
        );
        assert_eq!(
            refused(id, with(&fine)),
            Vec::<String>::new(),
            "{id} ({smallest} px)"
        );
    }
    let references = |images: usize, videos: usize| {
        serde_json::json!({
            "prompt": "a fox",
            "reference_image_urls": vec!["https://cdn.example/a.png"; images],
            "reference_video_urls": vec!["https://cdn.example/a.mp4"; videos],
        })
    };
    let wan = "wan-ai/wan-2.7/reference-to-video";
    assert_eq!(refused(wan, references(3, 3)), ["max_total"]);
    assert_eq!(refused(wan, references(3, 2)), Vec::<String>::new());
}

#[test]
fn a_model_that_takes_an_image_or_clips_but_not_both_says_so_before_sending() {
    let model = runcomfy::catalog::find("bytedance/seed-audio-1.0/text-to-audio").unwrap();
    // The problems of an input the model refuses; none for one it takes.
    let decode = |input: serde_json::Value| match model.decode(&input) {
        Ok(_) => String::new(),
        Err(err) => err.report.to_string(),
    };
    let image = "https://cdn.example/face.png";
    let clip = "https://cdn.example/voice.wav";
    let both =
        decode(serde_json::json!({"prompt": "hi", "image_url": image, "audio_urls": [clip]}));
    assert!(both.contains("image_url | audio_urls"), "{both}");
    assert!(
        both.contains("(at_most_one; given: image_url, audio_urls)"),
        "{both}"
    );
    for one in [
        serde_json::json!({"prompt": "hi", "image_url": image}),
        serde_json::json!({"prompt": "hi", "audio_urls": [clip]}),
        // An empty list is not given, nor is empty text for a file.
        serde_json::json!({"prompt": "hi", "image_url": image, "audio_urls": []}),
        serde_json::json!({"prompt": "hi", "image_url": "", "audio_urls": [clip]}),
    ] {
        let report = decode(one.clone());
        assert!(!report.contains("at_most_one"), "{one}: {report}");
    }
}

#[test]
fn a_model_that_needs_one_reference_of_any_kind_says_so_before_sending() {
    use runcomfy::models::wan_ai::wan_3_0_prime::reference_to_video::ReferenceToVideoInput;
    let dir = tempfile::tempdir().unwrap();
    let none = ReferenceToVideoInput::new("a fox in the snow");
    let report = none.validate();
    let problem = find(
        &report,
        "reference_images | reference_videos | reference_audios",
        "at_least_one",
    );
    assert_eq!(problem.value.as_deref(), Some("none given"));
    // An empty list is not a reference.
    let empty = none.clone().with_reference_images(Vec::<Media>::new());
    assert!(empty.validate().errors().any(|p| p.rule == "at_least_one"));
    let image = Media::Path(png(dir.path(), "ref.png", 64, 64, None));
    let one = none.with_reference_images(vec![image]);
    let report = one.validate();
    assert!(
        report.errors().all(|p| p.rule != "at_least_one"),
        "{report}"
    );
}
