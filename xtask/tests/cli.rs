//! The `cargo xtask` binary end to end: arguments, output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("RUNCOMFY_TOKEN")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn seed_page(prefix: &str) -> PathBuf {
    let seeds = xtask::workspace_root().join("../shared/seeds");
    std::fs::read_dir(seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn import_lint_synth_and_diff_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    let page = seed_page("004");

    let out = xtask(&["import", s(&page), "--schemas", s(&schemas)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("new model  bytedance/seedream-4-0/edit\n"));

    let broken = dir.path().join("broken.txt");
    std::fs::write(
        &broken,
        "/v1/models/acme/x\n{\"type\": \"object\",\n \"properties\": {",
    )
    .unwrap();
    let out = xtask(&["import", s(&broken), "--schemas", s(&schemas)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "error: {}:3:16: the input schema is not valid JSON",
            broken.display()
        )),
        "{}",
        text(&out.stderr)
    );

    let out = xtask(&["lint", "--schemas", s(&schemas)]);
    assert_eq!(out.status.code(), Some(0));
    // No overlay yet: lint asks for a display name (and the docs' empty descriptions).
    assert!(text(&out.stdout).contains("warning[no-display-name]"));
    let out = xtask(&["lint", "--schemas", s(&schemas), "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1));

    let synth = dir.path().join("synth");
    let out = xtask(&["synth", "30", "--out", s(&synth), "--seed", "3"]);
    assert_eq!(out.status.code(), Some(0));

    // Dropping the seedream model from a catalog breaks; adding the synthetic ones does not.
    let out = xtask(&["diff", s(&schemas), s(&synth), "--version", "0.3.1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("suggested version bump: minor (0.3.1 → 0.4.0)"));
    let out = xtask(&["diff", s(&synth), s(&synth)]);
    assert_eq!(out.status.code(), Some(0));
    let out = xtask(&["diff", s(&synth), s(&dir.path().join("missing"))]);
    assert_eq!(out.status.code(), Some(2));
    let out = xtask(&["diff"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn pull_without_a_server_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let out = xtask(&[
        "pull",
        "--all",
        "--base-url",
        "http://127.0.0.1:9",
        "--schemas",
        s(dir.path()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .starts_with("error: GET http://127.0.0.1:9/v1/models?include_schema=true"),
        "{}",
        text(&out.stderr)
    );
    let out = xtask(&["pull", "--schemas", s(dir.path())]);
    assert_eq!(out.status.code(), Some(2), "--model or --all is required");
}

#[test]
fn codegen_features_and_bench_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&[
        "codegen",
        "--schemas",
        s(&dir.path().join("missing")),
        "--out",
        s(&dir.path().join("out")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: the catalog does not generate:\nerror: "),
        "{}",
        text(&out.stderr)
    );

    let schemas = xtask::workspace_root().join("schemas");
    let manifest = dir.path().join("Cargo.toml");
    let stale = format!(
        "[features]\n{}\n{}\n",
        xtask::features::BEGIN,
        xtask::features::END
    );
    std::fs::write(&manifest, &stale).unwrap();
    let features = |check: bool| {
        let mut args = vec![
            "features",
            "--schemas",
            s(&schemas),
            "--manifest",
            s(&manifest),
        ];
        if check {
            args.push("--check");
        }
        xtask(&args)
    };
    let out = features(true);
    assert_eq!(out.status.code(), Some(1), "a stale manifest fails --check");
    assert!(text(&out.stderr).contains("run `cargo xtask features`"));
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), stale);
    assert_eq!(features(false).status.code(), Some(0));
    assert_eq!(features(true).status.code(), Some(0));

    let out = xtask(&["bench", "--builds", "many"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad --builds is a usage error"
    );
    assert!(text(&out.stderr).starts_with("error: --builds takes model counts"));
}

#[test]
fn a_closed_or_full_stdout_neither_panics_nor_passes_for_success() {
    let schemas = xtask::workspace_root().join("schemas");
    // A reader that stops at once (`| head -0`): not an error.
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["lint", "--schemas", s(&schemas)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );

    // A full disk lost the report: a failure, said.
    if let Ok(full) = std::fs::File::options().write(true).open("/dev/full") {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["lint", "--schemas", s(&schemas)])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("error: cannot write the report on stdout"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// Names from a catalog, a page or a command line reach the terminal escaped, and a revision
/// git would read as an option is refused (QA repro36 L1, L10).
#[test]
fn control_characters_in_names_are_escaped_and_an_option_is_no_revision() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    let page = dir.path().join("x\u{1b}]0;pwned\u{7}\u{1b}[2Jname.txt");
    std::fs::copy(seed_page("004"), &page).unwrap();
    let out = xtask(&["import", s(&page), "--schemas", s(&schemas)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");

    let out = xtask(&["diff", s(&schemas), "--", "--output=/tmp/qa:schemas"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not a revision"),
        "{}",
        text(&out.stderr)
    );
}

/// A catalog file that lists no models is said, not passed over with "catalog OK" alone (QA
/// repro36 L7).
#[test]
fn a_catalog_file_with_no_models_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    let out = xtask(&["import", s(&seed_page("004")), "--schemas", s(&schemas)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"models": []}"#).unwrap();
    let out = xtask(&["import", s(&empty), "--schemas", s(&schemas)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("lists no models: nothing imported from it"),
        "{}",
        text(&out.stderr)
    );
}
