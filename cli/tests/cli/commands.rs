//! Commands that need no server: models, describe, help, completions, usage errors.

use serde_json::Value;

use crate::support::{assert_code, runcomfy, stderr, stdout, write_png};

#[test]
fn models_lists_every_model_of_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path()).arg("models").output().unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    for model in runcomfy::catalog() {
        let line = text
            .lines()
            .find(|l| l.starts_with(model.id))
            .unwrap_or_else(|| panic!("{} missing:\n{text}", model.id));
        assert!(line.contains(model.display_name), "{line}");
    }
    assert!(text.contains("images[]*"), "{text}");

    let output = runcomfy(dir.path())
        .args(["models", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), runcomfy::catalog().len());
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "bytedance/seedream-4-0/edit" && m["required"][1] == "images")
    );
}

#[test]
fn describe_shows_fields_choices_defaults_bounds_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args(["describe", "bytedance/seedream-4-0/edit-sequential"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    for expected in [
        "--image-size",
        "--sequential-image-generation-options",
        "2560:1440 (16:9) (alias 16:9)",
        "default: 2560:1440 (16:9)",
        "at most 600 characters",
        "1 to 10 items",
        "formats: jpeg, png",
        "The uploaded image width and height must exceed 14 pixels.",
        "max_total: images + sequential_image_generation_options <= 15",
        "prompt_count",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }

    let output = runcomfy(dir.path())
        .args(["describe", "bytedance/seedream-4-0/edit", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let model: Value = serde_json::from_slice(&output.stdout).unwrap();
    let images = model["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "images")
        .unwrap();
    assert_eq!(images["flag"], "--images");
    assert_eq!(images["max_items"], 10);
    assert_eq!(
        images["media"]["formats"],
        serde_json::json!(["jpeg", "png"])
    );
    assert_eq!(images["media"]["rules"][0]["rule"], "file_size_mb<");
    let resolution = model["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "resolution")
        .unwrap();
    assert!(
        resolution["choices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["alias"] == "16:9")
    );
}

#[test]
fn run_model_help_lists_fields_with_choices_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args(["run", "bytedance/seedream-4-0/sequential", "--help"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    for expected in [
        "--text <TEXT>",
        "--image-size <CHOICE>",
        "16:9: 2560:1440 (16:9)",
        "[default: 16:9]",
        "--sequential-image-generation-options <CHOICE>",
        "[default: 3]",
        "[possible values: fast, standard]",
        "--input <JSON|@FILE|->",
        "--timeout <DURATION>",
        // A required field's schema default never applies: it is shown as an example.
        "[example: Generate 3 images of a beautiful sunset over a calm ocean.]",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    assert!(!text.contains("[default: Generate"), "{text}");
}

/// `run --help` lists the options every model's run takes, though they go after the model
/// (QA repro41 M1: only `run MODEL --help` had them); an empty folder or file name (an unset
/// variable in a script) is a usage error naming the option, not the working folder (L5).
#[test]
fn run_help_lists_run_options_and_empty_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args(["run", "--help"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    for expected in [
        "--dry-run",
        "--input <JSON|@FILE|->",
        "--unchecked",
        "--json",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    for args in [
        &[
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "t",
            "--out",
            "",
        ][..],
        &["--mock", "batch", "in.jsonl", "--out", ""],
        &["--mock", "batch", "", "--out", "o"],
        &["--mock", "result", "abc", "--out", ""],
    ] {
        let output = runcomfy(dir.path()).args(args).output().unwrap();
        assert_code(&output, 64);
        assert!(stderr(&output).contains("a value is required"), "{args:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `describe` says what a model makes (QA repro41 L9: an audio model showed only the generic
/// image and video outputs), a required field's default as the example it is in JSON too
/// (L10), and `models` a fixed price of unknown rate as `fixed`, not as unknown (L11).
#[test]
fn describe_says_the_kind_and_examples_and_models_a_fixed_price() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args(["describe", "acestep-ai/ace-step/text-to-audio"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("Makes: audio"),
        "{}",
        stdout(&output)
    );

    let output = runcomfy(dir.path())
        .args(["describe", "bytedance/seedream-4-0/sequential", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let model: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(model["kind"], "image");
    let field = |name: &str| {
        model["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(field("text")["default"], Value::Null);
    assert!(
        field("text")["example"]
            .as_str()
            .unwrap()
            .starts_with("Generate")
    );
    assert_eq!(field("sequential_image_generation_options")["default"], 3);

    let output = runcomfy(dir.path())
        .args(["models", "seedance", "2.5", "text-to-video/4k"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    let line = text.lines().find(|l| l.contains("4K")).unwrap_or_default();
    assert!(line.contains(" fixed "), "{text}");
}

#[test]
fn help_documents_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path()).arg("--help").output().unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    for code in ["64 ", "65 ", "69 ", "75 ", "77 ", "130 "] {
        assert!(text.contains(code), "{code} missing:\n{text}");
    }
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let output = runcomfy(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_code(&output, 0);
        let script = stdout(&output);
        assert!(script.contains("runcomfy"), "{shell}");
        assert!(
            script.contains("image-size"),
            "{shell}: per-model flags missing"
        );
    }
}

/// Output that cannot be written (a full disk) is an I/O error (74), not a success, and never a
/// panic; a reader that closed the pipe (`| head`) wanted no more, and is no error.
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_exits_74_and_a_closed_pipe_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["completions", "bash"][..],
        &["models"],
        &["describe", "bytedance/seedream-4-0/edit", "--json"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = crate::support::runcomfy_process(dir.path())
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        assert_code(&output, 74);
        assert!(
            stderr(&output).contains("cannot write the output"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // A reader gone before the first byte.
    let mut child = crate::support::runcomfy_process(dir.path())
        .args(["completions", "zsh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_code(&output, 0);
}

#[test]
fn usage_errors_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["run"],
        &["run", "no/such-model"],
        &[
            "run",
            "bytedance/seedream-4-0/sequential",
            "--no-such-flag",
            "x",
        ],
        &[
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--timeout",
            "soon",
        ],
        &[
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "a",
            "--text",
            "b",
        ],
        &["describe", "no/such-model"],
        &["status"],
        &["completions", "tcsh"],
    ];
    for args in cases {
        let output = runcomfy(dir.path()).args(*args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(64),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// A run option before the model says where it goes, not another flag's name.
#[test]
fn a_run_option_before_the_model_says_where_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args([
            "run",
            "--out",
            "d",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "a",
        ])
        .output()
        .unwrap();
    assert_code(&output, 64);
    let err = stderr(&output);
    assert!(err.contains("give it after the model"), "{err}");
    assert!(!err.contains("allow-output-host"), "{err}");
    // Before `run` too: not "the model has no --max-cost" (QA repro50 F6).
    let model = "bytedance/seedream-4-0/sequential";
    let output = runcomfy(dir.path())
        .args(["--max-cost", "1", "run", model, "--text", "a"])
        .output()
        .unwrap();
    assert_code(&output, 64);
    let err = stderr(&output);
    assert!(
        err.contains("--max-cost is an option of a model's run"),
        "{err}"
    );
}

/// `runcomfy --mock run bytedance/seedream-4-0/edit --prompt PROMPT`, for the images to follow.
fn mock_edit(dir: &std::path::Path, prompt: &str) -> assert_cmd::Command {
    let mut cmd = runcomfy(dir);
    cmd.args([
        "--mock",
        "run",
        "bytedance/seedream-4-0/edit",
        "--prompt",
        prompt,
    ]);
    cmd
}

/// Two values after a list field's flag say to repeat the flag.
#[test]
fn a_list_given_two_values_at_once_says_to_repeat_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let output = mock_edit(dir.path(), "a")
        .args(["--images", "a.png", "b.png"])
        .output()
        .unwrap();
    assert_code(&output, 64);
    let err = stderr(&output);
    assert!(err.contains("--images a.png --images b.png"), "{err}");
}

/// A flag the model lacks that looks like a command option gets no tip to that option: the tip
/// `--base-url` for `--image-url` would send the job, and the token, to the image's host.
#[test]
fn a_missing_field_flag_is_never_pointed_at_a_command_option() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, tip) in [("--image-url", "--base-url"), ("--resolution", "--out")] {
        let output = runcomfy(dir.path())
            .args([
                "run",
                "blackforestlabs/flux-3/image",
                "--prompt",
                "x",
                flag,
                "v",
            ])
            .output()
            .unwrap();
        assert_code(&output, 64);
        let err = stderr(&output);
        assert!(!err.contains(tip), "{err}");
        assert!(
            err.contains(&format!(
                "has no {flag}; its text flags: --prompt; its other flags: --image-size"
            )),
            "{err}"
        );
    }
    // A typo of the model's own flag keeps clap's tip.
    let output = runcomfy(dir.path())
        .args(["run", "blackforestlabs/flux-3/image", "--promt", "x"])
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("'--prompt'"),
        "{}",
        stderr(&output)
    );
}

/// A list's flag given once with a JSON array takes it as the whole list; a file of that name is
/// still one item.
#[test]
fn a_list_flag_takes_the_whole_list_as_a_json_array() {
    let dir = tempfile::tempdir().unwrap();
    // The images a dry run of `--images VALUE` would send.
    let sent = |value: &str| {
        let output = mock_edit(dir.path(), "a")
            .args(["--images", value, "--dry-run", "--json"])
            .output()
            .unwrap();
        assert_code(&output, 0);
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        report["body"]["images"].clone()
    };
    let list = r#"["https://example.com/a.png", "https://example.com/b.png"]"#;
    assert_eq!(
        sent(list),
        serde_json::json!(["https://example.com/a.png", "https://example.com/b.png"])
    );
    let name = r#"["odd"]"#;
    write_png(&dir.path().join(name), 64, 64);
    let images = sent(name);
    assert_eq!(images.as_array().map(Vec::len), Some(1), "{images}");
}

/// A flag the model has none of, with no near one, lists its text flags; a `field=value` word
/// says which flag to write.
#[test]
fn a_flag_the_model_lacks_names_its_text_flags() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        runcomfy(dir.path())
            .args(["--mock", "run", "bytedance/seedream-4-0/sequential"])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--prompt", "a fox"]);
    assert_code(&output, 64);
    let err = stderr(&output);
    assert!(
        err.contains("has no --prompt; its text flags: --text"),
        "{err}"
    );
    let output = run(&["text=a fox"]);
    assert_code(&output, 64);
    let err = stderr(&output);
    assert!(
        err.contains("a field is given as a flag, --text VALUE"),
        "{err}"
    );
}

/// A file name that is not UTF-8 (legal on Linux) is named, where clap said only "one or more
/// arguments".
#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"\xffcat.png");
    let output = mock_edit(dir.path(), "x")
        .arg("--images")
        .arg(name)
        .output()
        .unwrap();
    assert_code(&output, 64);
    let err = stderr(&output);
    assert!(
        err.contains("argument 7 (\"\u{fffd}cat.png\"") && err.contains("is not valid UTF-8"),
        "{err}"
    );
}
