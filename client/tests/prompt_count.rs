//! The prompt-count warning: a count written in the prompt that differs from the count field.

use runcomfy::Input;
use runcomfy::models::bytedance::seedream_4_0::sequential::{MaxImages, SequentialInput};
use runcomfy::validate::{Severity, ValidationReport};

const MESSAGE: &str = "The prompt asks for a different number of images than the maximum number of generated images; state the same number in both (the price is based on the maximum).";

/// The sequential seed model's rule: the prompt against `sequential_image_generation_options`.
fn check(prompt: &str, count: i64) -> ValidationReport {
    let Some(count) = MaxImages::from_value(count) else {
        panic!("{count} is not a choice of MaxImages");
    };
    SequentialInput::new(prompt)
        .with_sequential_image_generation_options(count)
        .validate()
}

#[test]
fn a_different_count_in_the_prompt_warns() {
    let report = check(
        "Generate 3 images of a beautiful sunset over a calm ocean.",
        5,
    );
    assert!(report.is_valid());
    let problems = report.problems();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0].severity, Severity::Warning);
    assert_eq!(problems[0].path, "text");
    assert_eq!(problems[0].rule, "prompt_count");
    assert_eq!(
        problems[0].value.as_deref(),
        Some("prompt says 3, count is 5")
    );
    assert_eq!(problems[0].message, MESSAGE);
}

#[test]
fn number_words_count_too() {
    let report = check("Generate five photos of a lighthouse", 3);
    assert_eq!(
        report.problems()[0].value.as_deref(),
        Some("prompt says 5, count is 3")
    );
}

#[test]
fn the_same_count_or_no_count_is_silent() {
    for (prompt, count) in [
        ("Generate 3 images of a beautiful sunset", 3),
        ("a set of four images", 4),
        ("a 16:9 image of a city at night", 3),
        ("1920 pixels wide, sunset over 2 oceans", 3),
        ("Merge the 2 images into a poster", 3),
    ] {
        assert!(check(prompt, count).problems().is_empty(), "{prompt}");
    }
}
