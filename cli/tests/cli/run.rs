//! `run` end to end: the verbatim example, JSON output, inputs, media, invalid input.

use runcomfy_simulator::SimConfig;
use serde_json::Value;

use crate::support::{Sim, assert_code, pngs, runcomfy, stderr, stdout, write_png};

/// The command of the README and the issue, verbatim (with `--out`).
#[test]
fn the_sunset_example_writes_three_2560x1440_pngs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "Generate 3 images of a beautiful sunset over a calm ocean.",
            "--image-size",
            "16:9",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_code(&output, 0);
    let images = pngs(&out);
    assert_eq!(images.len(), 3, "{images:?}");
    for (name, width, height) in &images {
        assert_eq!((*width, *height), (2560, 1440), "{name}");
    }
    // The paths are printed, one per line, and nothing else on stdout.
    let text = stdout(&output);
    let printed: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(printed.len(), 3, "{printed:?}");
    for line in printed {
        assert!(std::path::Path::new(line).is_file(), "{line}");
    }
    // Not a terminal: plain progress lines on stderr.
    let err = stderr(&output);
    assert!(err.contains("submitted "), "{err}");
    assert!(err.contains("succeeded"), "{err}");
}

#[test]
fn json_output_is_one_object_and_the_default_out_dir_is_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "Generate 2 images of a lighthouse.",
            "--sequential-image-generation-options",
            "2",
            "--image-size",
            "9:16",
            "--json",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "succeeded");
    assert_eq!(report["model"], "bytedance/seedream-4-0/sequential");
    let id = report["request_id"].as_str().unwrap();
    assert_eq!(report["outputs"]["images"].as_array().unwrap().len(), 2);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let expected_dir = dir.path().join("runcomfy-out").join(id);
    let images = pngs(&expected_dir);
    assert_eq!(images.len(), 2);
    assert!(
        images.iter().all(|(_, w, h)| (*w, *h) == (1440, 2560)),
        "{images:?}"
    );
    assert!(files[0]["path"].as_str().unwrap().contains(id));
}

#[test]
fn flags_override_the_input_from_json_a_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let input = r#"{"text": "Generate 1 image of a fox.", "sequential_image_generation_options": 1, "image_size": "1:1"}"#;
    std::fs::write(dir.path().join("input.json"), input).unwrap();
    let cases: [(&[&str], Option<&str>); 3] = [
        (&["--input", input], None),
        (&["--input", "@input.json"], None),
        (&["--input", "-"], Some(input)),
    ];
    for (i, (args, stdin)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let mut cmd = runcomfy(dir.path());
        cmd.args(["--mock", "run", "bytedance/seedream-4-0/sequential"])
            .args(args)
            // Overrides the input's 1:1.
            .args(["--image-size", "3:2", "--out"])
            .arg(&out);
        if let Some(stdin) = stdin {
            cmd.write_stdin(stdin);
        }
        let output = cmd.output().unwrap();
        assert_code(&output, 0);
        assert_eq!(pngs(&out).len(), 1, "{args:?}");
        assert_eq!((pngs(&out)[0].1, pngs(&out)[0].2), (2496, 1664), "{args:?}");
    }
}

#[test]
fn local_images_are_sent_and_url_media_is_preflighted() {
    let dir = tempfile::tempdir().unwrap();
    write_png(&dir.path().join("a.png"), 64, 48);
    write_png(&dir.path().join("b.png"), 48, 64);
    let out = dir.path().join("out");
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/edit",
            "--prompt",
            "Make the sky purple.",
            "--images",
            "a.png",
            "--images",
            "b.png",
            "--resolution",
            "1:1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_eq!(pngs(&out).len(), 1);

    // --preflight fetches URL media before submitting: an unreachable host is a warning.
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/edit",
            "--prompt",
            "Make the sky purple.",
            "--images",
            "https://127.0.0.1:9/nothing-here.png",
            "--preflight",
            "--no-wait",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(err.contains("images[0]: the URL cannot be read"), "{err}");
}

/// The issue's invalid input: a 601-character prompt and 11 images. Every problem is listed,
/// exit 65, and the server never hears of it.
#[test]
fn invalid_input_exits_65_with_every_problem_and_no_network_call() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sim.runcomfy(dir.path());
    cmd.args(["run", "bytedance/seedream-4-0/edit", "--prompt"])
        .arg("x".repeat(601));
    for i in 0..11 {
        let path = dir.path().join(format!("in{i}.png"));
        write_png(&path, 32, 32);
        cmd.arg("--images").arg(path);
    }
    // And an image too small, and a choice that does not exist.
    write_png(&dir.path().join("tiny.png"), 10, 10);
    cmd.args(["--images", "tiny.png", "--resolution", "5K"]);
    let output = cmd.output().unwrap();
    assert_code(&output, 65);
    let err = stderr(&output);
    for expected in [
        "nothing was sent",
        "prompt: must be at most 600 characters long (maxLength; 601 characters)",
        "images: must have at most 10 items (maxItems; 12 items)",
        "images[11]: The uploaded image width and height must exceed 14 pixels.",
        "resolution: must be one of: 1K, 2K, 4K",
    ] {
        assert!(err.contains(expected), "{expected:?} missing:\n{err}");
    }
    let stats = sim.stats();
    assert_eq!(stats.submit_calls, 0);
    assert_eq!(
        stats.status_calls + stats.result_calls + stats.catalog_calls,
        0
    );

    // Shape problems are reported together with the rules, and as JSON with --json.
    let output = sim.output(
        dir.path(),
        &[
            "run",
            "bytedance/seedream-4-0/edit-sequential",
            "--text",
            "Generate 4 images of a cat.",
            "--seed",
            "lots",
            "--sequential-image-generation-options",
            "16",
            "--json",
        ],
    );
    assert_code(&output, 65);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "invalid");
    let paths: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    for path in ["images", "seed", "sequential_image_generation_options"] {
        assert!(paths.contains(&path), "{path} missing: {paths:?}");
    }
    // Each with the value given, as JSON (a flag's text read as the field's type).
    let given = |path: &str| {
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["path"] == path)
            .map(|p| p["given"].clone())
    };
    assert_eq!(given("seed"), Some(Value::from("lots")));
    assert_eq!(
        given("sequential_image_generation_options"),
        Some(Value::from(16))
    );
    assert_eq!(sim.stats().submit_calls, 0);

    // --input that is not a JSON object.
    for input in ["[1, 2]", "{not json", "@missing.json"] {
        let output = sim.output(
            dir.path(),
            &["run", "bytedance/seedream-4-0/sequential", "--input", input],
        );
        assert_code(&output, 65);
    }
    assert_eq!(sim.stats().submit_calls, 0);
}

#[test]
fn warnings_are_shown_and_the_job_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "Generate 2 images of a beautiful sunset.",
            "--sequential-image-generation-options",
            "4",
            "--no-wait",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(err.contains("warning: text:"), "{err}");
    assert!(err.contains("prompt says 2, count is 4"), "{err}");
}

/// A choice `--input` spells another way than its own is sent as the choice, and said; a flag's
/// value is typed to be read that way, and one that replaces an `--input` key hides its warning.
#[test]
fn a_choice_spelled_loosely_in_input_is_said_with_what_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let input = r#"{"text": "a cat", "image_size": "9:16", "sequential_image_generation": " AUTO", "optimize_prompt_options": "Standard"}"#;
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--input",
            input,
            "--optimize-prompt-options",
            "FAST",
            "--dry-run",
            "--json",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(
        err.contains(
            r#"warning: sequential_image_generation: " AUTO" is sent as the choice "auto" (enum)"#
        ),
        "{err}"
    );
    // The alias `9:16` is the choice's own; the flag replaced `"Standard"`.
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["body"]["sequential_image_generation"], "auto");
    assert_eq!(report["body"]["optimize_prompt_options"], "fast");
    assert_eq!(
        report["warnings"][0]["pointer"],
        "/sequential_image_generation"
    );
}

/// A text value that starts with `-` (a negative prompt's `-blurry`) is the option's value, not
/// flags; a known flag after an option still is one, so a missing value is still said.
#[test]
fn values_starting_with_a_hyphen_are_values() {
    let dir = tempfile::tempdir().unwrap();
    let dry_run = |text: &str| {
        runcomfy(dir.path())
            .args([
                "--mock",
                "run",
                "bytedance/seedream-4-0/sequential",
                "--text",
                text,
            ])
            .args(["--seed", "-1", "--dry-run", "--json"])
            .output()
            .unwrap()
    };
    // `-hello` starts with the letter of `-h` but is no cluster of short flags (`-vv`).
    for text in ["-a fox, -blurry", "--no text", "-hello", "-v", "-vv"] {
        let output = dry_run(text);
        // `-v` is a flag of the command, so it is one here too: the text is then missing.
        if text.starts_with("-v") {
            assert_code(&output, 64);
            continue;
        }
        assert_code(&output, 0);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["body"]["text"], text, "{report}");
        // Every object has a request id, null before any submit.
        assert!(
            report.get("request_id").is_some_and(Value::is_null),
            "{report}"
        );
        assert_eq!(report["body"]["seed"], -1, "{report}");
    }
    let output = dry_run("--json");
    assert_code(&output, 64);
    assert!(
        stderr(&output).contains("a value is required for '--text"),
        "{}",
        stderr(&output)
    );
}

/// A job is paid for when submitted: an output folder that cannot take files is found first.
#[test]
fn an_unusable_out_folder_exits_74_before_anything_is_sent() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    for out in ["a-file", "a-file/below"] {
        let output = sim
            .runcomfy(dir.path())
            .args(["run", "bytedance/seedream-4-0/sequential", "--text", "x"])
            .args(["--out", out])
            .output()
            .unwrap();
        assert_code(&output, 74);
        let err = stderr(&output);
        assert!(err.contains("is not a folder; nothing was sent"), "{err}");
    }
    // `batch` checks its DIR the same way, with --mock too (its simulator keeps state there).
    std::fs::write(
        dir.path().join("p.jsonl"),
        r#"{"model":"bytedance/seedream-4-0/sequential","input":{"text":"x"}}"#,
    )
    .unwrap();
    for mock in [false, true] {
        let mut cmd = if mock {
            let mut cmd = runcomfy(dir.path());
            cmd.arg("--mock");
            cmd
        } else {
            sim.runcomfy(dir.path())
        };
        let output = cmd
            .args(["batch", "p.jsonl", "--out", "a-file"])
            .output()
            .unwrap();
        assert_code(&output, 74);
        assert!(stderr(&output).contains("a-file is not a folder"));
    }
    assert_eq!(sim.stats().submit_calls, 0);

    // A folder that does not exist yet is fine, and is only created once there are files.
    let output = sim
        .runcomfy(dir.path())
        .args(["run", "bytedance/seedream-4-0/sequential", "--text", "x"])
        .args(["--out", "new/deeper"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(!pngs(&dir.path().join("new/deeper")).is_empty());
}

/// With --mock the simulated jobs end with the command: no hint names a later command.
#[test]
fn mock_hints_never_point_at_a_later_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        runcomfy(dir.path())
            .args([
                "--mock",
                "run",
                "bytedance/seedream-4-0/sequential",
                "--text",
                "x",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let no_wait = run(&["--no-wait"]);
    assert_code(&no_wait, 0);
    // A deadline past what the clock counts is no deadline (it once overflowed: a panic).
    assert_code(&run(&["--timeout", "1e19", "--no-wait"]), 0);
    // Past the submit (milliseconds), short of the job (1-2 s).
    let timed_out = run(&["--timeout", "500ms"]);
    assert_code(&timed_out, 3);
    for output in [no_wait, timed_out] {
        let err = stderr(&output);
        assert!(!err.contains("`runcomfy "), "{err}");
    }
}

/// An input file that is not there is invalid input, for `run --input @FILE` and `batch FILE`.
#[test]
fn a_missing_input_file_exits_65_for_run_and_batch() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        runcomfy(dir.path())
            .arg("--mock")
            .args(args)
            .output()
            .unwrap()
    };
    for output in [
        run(&[
            "run",
            "bytedance/seedream-4-0/sequential",
            "--input",
            "@nope.json",
        ]),
        run(&["batch", "nope.jsonl", "--out", "out"]),
    ] {
        assert_code(&output, 65);
        assert!(stderr(&output).contains("nope"), "{}", stderr(&output));
    }
}

/// An input or token file that never ends (`/dev/zero`) is refused once past any such file's
/// size, not read until memory runs out (QA repro50 F1).
#[cfg(unix)]
#[test]
fn a_file_that_never_ends_is_refused_not_read_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let model = "bytedance/seedream-4-0/sequential";
    let started = std::time::Instant::now();
    let output = runcomfy(dir.path())
        .args(["--mock", "run", model, "--input", "@/dev/zero", "--dry-run"])
        .output()
        .unwrap();
    assert_code(&output, 65);
    assert!(
        stderr(&output).contains("more than 67108864 bytes"),
        "{}",
        stderr(&output)
    );
    let output = runcomfy(dir.path())
        .args(["--token-file", "/dev/zero", "run", model, "--text", "a fox"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("more than 65536 bytes"),
        "{}",
        stderr(&output)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// Outputs download one at a time, as RunComfy's CLI (each file in flight holds its buffers),
/// unless `--downloads N`.
#[test]
fn outputs_download_one_at_a_time_unless_downloads_says_more() {
    for (downloads, more_than_one) in [(None, false), (Some("4"), true)] {
        // Files larger than loopback's socket buffers: a file counts as being sent until the
        // client has read most of it.
        let sim = Sim::start(SimConfig {
            output_bytes: Some(16_000_000),
            ..SimConfig::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let mut command = sim.runcomfy(dir.path());
        command.args([
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "Generate 4 images of a red barn.",
            "--sequential-image-generation-options",
            "4",
            "--out",
            "out",
        ]);
        if let Some(n) = downloads {
            command.args(["--downloads", n]);
        }
        let output = command.output().unwrap();
        assert_code(&output, 0);
        assert_eq!(stdout(&output).lines().count(), 4, "{}", stdout(&output));
        let at_once = sim.stats().downloads_at_once_max;
        assert_eq!(
            at_once > 1,
            more_than_one,
            "--downloads {downloads:?}: {at_once}"
        );
    }
    // Zero would never download anything.
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "x",
        ])
        .args(["--downloads", "0"])
        .output()
        .unwrap();
    assert_code(&output, 64);
}

/// A flag's value that starts with `-` is a value (ACE-Step's seed is -1 for random).
#[test]
fn negative_numbers_are_values_of_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let dry_run = |extra: &[&str]| {
        runcomfy(dir.path())
            .args([
                "--mock",
                "run",
                "acestep-ai/ace-step-1.5/text-to-audio",
                "--tags",
                "lofi",
                "--dry-run",
                "--json",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = dry_run(&["--seed", "-1"]);
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["body"]["seed"], -1, "{report}");
    // Below its minimum: reported as the number it is.
    let output = dry_run(&["--seed", "-2"]);
    assert_code(&output, 65);
    assert!(
        stderr(&output).contains("seed: must be at least -1"),
        "{}",
        stderr(&output)
    );
}

/// `--input in.json` where `@in.json` was meant says so.
#[test]
fn input_naming_a_file_without_at_says_how_to_read_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.json"), r#"{"text": "a fox"}"#).unwrap();
    let output = runcomfy(dir.path())
        .args(["--mock", "run", "bytedance/seedream-4-0/sequential"])
        .args(["--input", "in.json", "--dry-run"])
        .output()
        .unwrap();
    assert_code(&output, 65);
    assert!(
        stderr(&output).contains("write --input @in.json"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn quiet_shows_only_the_files_and_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        runcomfy(dir.path())
            .args(["--mock", "-q", "run", "bytedance/seedream-4-0/sequential"])
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["--text", "a fox", "--out", "out"]);
    assert_code(&output, 0);
    assert_eq!(stderr(&output), "");
    assert_eq!(stdout(&output).lines().count(), 3, "{}", stdout(&output));

    // An error still shows.
    let output = run(&["--input", r#"{"text": 5}"#, "--out", "out"]);
    assert_code(&output, 65);
    assert!(stderr(&output).contains("error"), "{}", stderr(&output));

    // -q and -v ask for opposite things.
    let output = runcomfy(dir.path())
        .args(["-q", "-v", "--mock", "status", "x"])
        .output()
        .unwrap();
    assert_code(&output, 64);
}

#[test]
fn a_media_path_found_beside_the_input_file_says_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    write_png(&dir.path().join("jobs/cat.png"), 64, 64);
    let input = r#"{"prompt": "a cat", "images": ["cat.png"]}"#;
    std::fs::write(dir.path().join("jobs/in.json"), input).unwrap();
    std::fs::write(
        dir.path().join("jobs/j.jsonl"),
        format!("{{\"model\": \"bytedance/seedream-4-0/edit\", \"input\": {input}}}\n"),
    )
    .unwrap();
    let absolute = dir.path().canonicalize().unwrap().join("cat.png");
    for args in [
        &[
            "run",
            "bytedance/seedream-4-0/edit",
            "--input",
            "@jobs/in.json",
        ][..],
        &["batch", "jobs/j.jsonl"][..],
    ] {
        let output = runcomfy(dir.path())
            .arg("--mock")
            .args(args)
            .arg("--dry-run")
            .output()
            .unwrap();
        assert_code(&output, 65);
        let err = stderr(&output);
        // Where it looked, and what to write instead.
        assert!(err.contains(&format!("({})", absolute.display())), "{err}");
        assert!(
            err.contains("media paths are read from the working folder, not from jobs: write \"jobs/cat.png\""),
            "{err}"
        );
    }
    // From the file's own folder, the same input is fine.
    let output = runcomfy(&dir.path().join("jobs"))
        .args([
            "--mock",
            "run",
            "bytedance/seedream-4-0/edit",
            "--input",
            "@in.json",
        ])
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_code(&output, 0);
}
