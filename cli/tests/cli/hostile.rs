//! The `runcomfy` binary against a deliberately malicious server (`runcomfy-hostile`): a clock
//! that lies, text that would drive the terminal, a file host that drips, lies about its
//! content or lives elsewhere, submits lost after they were sent, the token echoed back
//! everywhere, odd fields, a catalog listing things that are not models. Each case ends
//! promptly with its documented exit code, leaves no partial file, prints no control character
//! and never shows the token.

use std::io::{BufRead, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use runcomfy_hostile::{Act, Hostile, InBackground, Seen, file, json, redirect};
use serde_json::{Value, json as j};

use crate::support::{TOKEN, assert_code, runcomfy, stderr, stdout};

const MODEL: &str = "bytedance/seedream-4-0/sequential";

/// A PNG as far as the client reads one: its header, and its end (`IEND`).
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&8u32.to_be_bytes());
    bytes.extend_from_slice(&8u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
    bytes
}

/// `runcomfy --base-url <server> ARGS` in `dir`, with the token.
fn cli(server: &Hostile, dir: &Path) -> assert_cmd::Command {
    let mut cmd = runcomfy(dir);
    cmd.env("RUNCOMFY_TOKEN", TOKEN)
        .args(["--base-url", server.base_url()]);
    cmd
}

/// `run MODEL --text ...` with `extra` arguments.
fn run(server: &Hostile, dir: &Path, extra: &[&str]) -> std::process::Output {
    cli(server, dir)
        .args(["run", MODEL, "--text", "Generate 2 images of a fox."])
        .args(extra)
        .output()
        .unwrap()
}

/// An API whose jobs `job-N` end at once (`result` says what `finished` gives), with files
/// served by `files` on its own host; it knows no model's price (the catalog's is used).
fn api(
    finished: impl Fn(&str, &str) -> Value + Send + Sync + 'static,
    files: impl Fn(&Seen) -> Act + Send + Sync + 'static,
) -> InBackground {
    let jobs = AtomicUsize::new(0);
    Hostile::start_in_background(move |seen, base| {
        let path = seen.path.as_str();
        if seen.method == "POST" && path.starts_with("/v1/models/") {
            let n = jobs.fetch_add(1, Ordering::Relaxed) + 1;
            json(200, j!({"request_id": format!("job-{n}")}))
        } else if let Some(rest) = path.strip_prefix("/v1/requests/") {
            let id = rest.split('/').next().unwrap_or_default();
            json(200, finished(id, base))
        } else if path.starts_with("/v1/models/") {
            json(
                404,
                j!({"error_code": 404001, "error_message": "no such model"}),
            )
        } else {
            files(seen)
        }
    })
}

/// `batch lines.jsonl --out shots` (and `extra`), a line of MODEL for each of `texts`.
fn batch(server: &Hostile, dir: &Path, texts: &[&str], extra: &[&str]) -> std::process::Output {
    let lines: String = texts
        .iter()
        .map(|text| format!("{{\"model\": \"{MODEL}\", \"input\": {{\"text\": \"{text}\"}}}}\n"))
        .collect();
    std::fs::write(dir.join("lines.jsonl"), lines).unwrap();
    cli(server, dir)
        .args(["batch", "lines.jsonl", "--out", "shots"])
        .args(extra)
        .output()
        .unwrap()
}

fn succeeded(output: Value) -> Value {
    j!({"status": "succeeded", "output": output})
}

/// [`succeeded`], naming its model as the API does: a job this machine has no record of is
/// still read as its model's.
fn succeeded_of_model(output: Value) -> Value {
    let mut reply = succeeded(output);
    reply["model_id"] = j!(MODEL);
    reply
}

/// Every file, recursively, under `dir`.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

fn no_partial_file(dir: &Path) {
    let left: Vec<String> = files_under(dir)
        .into_iter()
        .filter(|f| f.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
}

/// What a terminal would act on: C0 controls but the line ends, DEL, C1 controls,
/// bidirectional controls, line and paragraph separators.
fn assert_printable(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || matches!(
                    c,
                    '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                )
                || matches!(c, '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
        })
        .collect();
    assert!(raw.is_empty(), "{what}: raw {raw:?} in {text}");
}

/// Clear screen, window title, OSC 52 (write the clipboard), CR over the line, BEL, an 8-bit
/// CSI, a right-to-left override, a line separator, then 100 KB.
fn nasty() -> String {
    format!(
        "\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\u{7}\r\nFAKE: done\u{9b}31m\u{202e}gnp.exe\u{2028}{}",
        "x".repeat(100_000)
    )
}

#[test]
fn a_server_clock_that_disagrees_does_not_poison_the_next_run() {
    // Each job ends 300 ms after its submit; its timestamps say it ran five hours.
    let submitted = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let jobs = AtomicUsize::new(0);
    let server = Hostile::start_in_background({
        let submitted = submitted.clone();
        move |seen, base| {
            let path = seen.path.as_str();
            if seen.method == "POST" {
                let id = format!("job-{}", jobs.fetch_add(1, Ordering::Relaxed));
                submitted.lock().unwrap().insert(id.clone(), Instant::now());
                return json(200, j!({"request_id": id}));
            }
            let Some(rest) = path.strip_prefix("/v1/requests/") else {
                return file("image/png", png());
            };
            let id = rest.split('/').next().unwrap_or_default();
            let since = submitted.lock().unwrap().get(id).map(Instant::elapsed);
            if since.unwrap_or_default() < Duration::from_millis(300) {
                return json(200, j!({"status": "in_progress"}));
            }
            json(
                200,
                j!({"status": "succeeded", "output": {"images": [format!("{base}/files/{id}.png")]},
                    "created_at": "2025-01-01T00:00:00.000Z", "finished_at": "2025-01-01T05:00:00.000Z"}),
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let with_cache = |out: &str| {
        let started = Instant::now();
        let output = cli(&server, dir.path())
            .env("RUNCOMFY_CACHE_DIR", &cache)
            .args(["run", MODEL, "--text", "a fox", "--out", out])
            .output()
            .unwrap();
        assert_code(&output, 0);
        started.elapsed()
    };
    with_cache("first");
    let text = std::fs::read_to_string(cache.join("poll-history.json")).unwrap();
    let saved: Value = serde_json::from_str(&text).unwrap();
    let learned: Vec<u64> = saved["servers"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|entry| {
            entry["history"]["models"][MODEL]
                .as_array()
                .cloned()
                .unwrap()
        })
        .map(|ms| ms.as_u64().unwrap())
        .collect();
    assert_eq!(learned.len(), 1, "{text}");
    assert!(
        learned[0] < 10_000,
        "learned {learned:?} ms: the server's clock"
    );
    // The next run polls on what the first one saw, not hours away.
    let second = with_cache("second");
    assert!(
        second < Duration::from_secs(15),
        "second run took {second:?}"
    );
}

#[test]
fn server_text_reaches_the_terminal_escaped_and_bounded() {
    let server = api(
        |id, base| match id {
            "job-1" => j!({"status": "failed", "error": {"message": nasty()}}),
            _ => succeeded(j!({
                "images": [format!("{base}/0.png?\u{1b}]52;c;eA==\u{7}"), format!("{base}/1.png\u{202e}")],
                "images\u{1b}[31m\nFAKE: log line": format!("{base}/2.png"),
            })),
        },
        |_| file("image/png", png()),
    );
    let dir = tempfile::tempdir().unwrap();

    let output = run(&server, dir.path(), &[]);
    assert_code(&output, 1);
    assert_printable("run stderr", &stderr(&output));
    assert!(
        stderr(&output).len() < 5_000,
        "{} bytes",
        stderr(&output).len()
    );
    assert!(
        stderr(&output).contains("more characters"),
        "{}",
        stderr(&output)
    );

    // The output URLs of `result`, plain and as JSON, and its -vv logs while downloading.
    let output = cli(&server, dir.path())
        .args(["result", "job-2"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_printable("result stdout", &stdout(&output));
    assert_eq!(stdout(&output).lines().count(), 3, "{}", stdout(&output));
    let output = cli(&server, dir.path())
        .args(["result", "job-2", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_printable("result --json", &stdout(&output));
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        parsed["outputs"]["images"][0]
            .as_str()
            .unwrap()
            .contains('\u{1b}')
    );
    let output = cli(&server, dir.path())
        .args(["-vv", "result", "job-2", "--out", "out"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let logs = stderr(&output);
    assert_printable("-vv logs", &logs);
    assert!(logs.contains("runcomfy.download"), "{logs}");
    assert!(!logs.lines().any(|l| l.starts_with("FAKE")), "{logs}");

    // A batch keeps the field names printable in its journal too, which `sqlite3` shows raw.
    let output = batch(&server, dir.path(), &["a fox"], &[]);
    assert_code(&output, 0);
    let journals: Vec<String> = files_under(&dir.path().join("shots"))
        .into_iter()
        .filter(|path| path.contains("journal.sqlite"))
        .collect();
    assert!(!journals.is_empty());
    for path in journals {
        let bytes = std::fs::read(&path).unwrap();
        // The server's sequences, not a lone ESC byte, which SQLite's binary integers (a
        // submit time in milliseconds) hold now and then.
        for sequence in [&b"\x1b[31m"[..], b"\x1b]52;"] {
            assert!(
                !bytes.windows(sequence.len()).any(|w| w == sequence),
                "an escape sequence is stored in {path}"
            );
        }
    }
}

#[test]
fn a_dripping_file_host_ends_at_the_deadline_or_a_signal_and_leaves_no_partial_file() {
    let server = dripping_api();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(&server, dir.path(), &["--timeout", "3s", "--out", "out"]);
    // The job succeeded and is paid for: not 75, which wrappers retry on.
    assert_code(&output, 3);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr(&output).contains("not finished within"),
        "{}",
        stderr(&output)
    );
    no_partial_file(dir.path());

    // SIGTERM while it downloads: the partial file goes too, and --json still answers.
    let args = [
        "run",
        MODEL,
        "--text",
        "a fox",
        "--out",
        "signalled",
        "--json",
    ];
    let mut child = spawn(&server, dir.path(), &args);
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    read_until(&mut lines, "downloading", &mut seen);
    // Bytes have arrived: the partial file exists now.
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        files_under(&dir.path().join("signalled"))
            .iter()
            .any(|f| f.ends_with(".part")),
        "no download in progress"
    );
    signal(&child, "TERM");
    lines.read_to_string(&mut seen).unwrap();
    let report = interrupted_json(&child.wait_with_output().unwrap(), &seen);
    assert_eq!(report["status"], "interrupted", "{report}");
    assert!(report["request_id"].is_string(), "{report}");
    let record = report["record"]
        .as_str()
        .unwrap_or_else(|| panic!("{report}"));
    assert!(record.ends_with("runcomfy-record.json"), "{report}");
    no_partial_file(dir.path());
}

#[test]
fn a_download_cut_short_leaves_a_record_that_result_completes_without_second_copies() {
    // The first file comes at once; the second drips until the host is mended.
    let mended = Arc::new(AtomicBool::new(false));
    let host = Arc::clone(&mended);
    let server = api(
        |_, base| succeeded(j!({"images": [format!("{base}/0.png"), format!("{base}/1.png")]})),
        move |seen| {
            if seen.path == "/1.png" && !host.load(Ordering::Relaxed) {
                drip()
            } else {
                let mut bytes = png();
                bytes.extend_from_slice(seen.path.as_bytes());
                file("image/png", bytes)
            }
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--timeout", "3s", "--out", "out"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("completes the record"),
        "{}",
        stderr(&output)
    );
    let out = dir.path().join("out");
    let record = |out: &Path| -> Value {
        serde_json::from_slice(&std::fs::read(out.join("runcomfy-record.json")).unwrap()).unwrap()
    };
    let written = record(&out);
    assert_eq!(written["request_id"], "job-1");
    // The file saved before the cut is recorded; the cut one is not.
    let files = |record: &Value| -> Vec<String> {
        record["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(files(&written), ["images-0.png"], "{written}");
    assert!(written["input"]["text"].is_string(), "{written}");
    assert!(written["estimate"].is_object(), "{written}");

    mended.store(true, Ordering::Relaxed);
    let output = cli(&server, dir.path())
        .args(["result", "job-1", "--out", "out"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["images-0.png", "images-1.png", "runcomfy-record.json"],
        "the first file is not saved twice"
    );
    let completed = record(&out);
    assert_eq!(
        completed["input"], written["input"],
        "the run's input is kept"
    );
    assert_eq!(
        files(&completed),
        ["images-0.png", "images-1.png"],
        "{completed}"
    );
    no_partial_file(dir.path());
}

/// `runcomfy --base-url <server> ARGS` in `dir`, started with stdout and stderr piped.
fn spawn(server: &Hostile, dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_runcomfy"))
        .current_dir(dir)
        .env("RUNCOMFY_TOKEN", TOKEN)
        .env("RUNCOMFY_CACHE_DIR", "")
        .env_remove("RUNCOMFY_BASE_URL")
        .args(["--base-url", server.base_url()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `SIG{name}` (`INT` is Ctrl-C's).
fn signal(child: &std::process::Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// The JSON an interrupted command printed, once it exited 130 (`stderr` is shown otherwise).
fn interrupted_json(output: &std::process::Output, stderr: &str) -> Value {
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", stdout(output)))
}

/// Waits (10 s at most) until `server` has seen a submit.
fn wait_for_submit(server: &Hostile) {
    let started = Instant::now();
    while server.count("POST", "") == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "no submit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An API whose jobs have one PNG, served one byte every 200 ms for ever: never silent for
/// long, never done.
fn dripping_api() -> InBackground {
    api(
        |_, base| succeeded(j!({"images": [format!("{base}/drip.png")]})),
        |_| drip(),
    )
}

/// A PNG's first byte every 200 ms, forever.
fn drip() -> Act {
    Act::Stream {
        content_type: "image/png".into(),
        chunk: vec![0x89],
        total: usize::MAX,
        every: Duration::from_millis(200),
    }
}

/// Runs `args` and sends Ctrl-C once a download has begun (a `.part` file under `out`); its
/// `--json` object.
fn interrupted_while_downloading(
    server: &Hostile,
    dir: &Path,
    args: &[&str],
    dripping: &str,
) -> Value {
    let child = spawn(server, dir, args);
    let started = Instant::now();
    // The dripping file's part (`.images-1.PID-1.part`): a whole file's may be caught in the
    // instant before it is renamed, and a Ctrl-C then would save nothing.
    let part = |f: &String| f.ends_with(".part") && f.contains(&format!("/.{dripping}."));
    while !files_under(&dir.join("out")).iter().any(part) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no download began"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    interrupted_json(&output, &stderr(&output))
}

/// Reads `lines` until one contains `text`; everything read is added to `seen`.
fn read_until(lines: &mut impl BufRead, text: &str, seen: &mut String) {
    while !seen.contains(text) {
        let mut line = String::new();
        assert!(
            lines.read_line(&mut line).unwrap() > 0,
            "ended before {text:?}: {seen}"
        );
        seen.push_str(&line);
    }
}

#[test]
fn json_still_answers_a_second_ctrl_c_during_the_submit_and_one_during_result_out() {
    // A submit never answered: the first Ctrl-C waits for its answer, the second quits.
    let silent = Hostile::start_in_background(|_, _| Act::Hang);
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(
        &silent,
        dir.path(),
        &["run", MODEL, "--text", "a fox", "--json", "--out", "fox"],
    );
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    read_until(&mut lines, "submitting", &mut seen);
    // The submit is on the wire once the server has seen it.
    wait_for_submit(&silent);
    signal(&child, "INT");
    read_until(&mut lines, "waiting for the submit's answer", &mut seen);
    signal(&child, "INT");
    lines.read_to_string(&mut seen).unwrap();
    // It may have been accepted: exit 3 and the record of what was sent, as a dropped
    // connection gives (QA repro43 F1, F2: exit 130, and nothing kept).
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{seen}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "unknown", "{report}");
    assert_eq!(report["request_id"], Value::Null, "{report}");
    assert_eq!(report["record"], "fox/runcomfy-record.json", "{report}");
    let record = dir.path().join("fox/runcomfy-record.json");
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(record["request_id"], Value::Null, "{record}");
    assert_eq!(record["input"]["text"], "a fox", "{record}");
    // What it may cost, to match a charge with (QA repro45 N5: null): this server answers
    // no price either, so the catalog's, which has none for this model.
    assert!(record["estimate"]["basis"].is_string(), "{record}");
    assert_eq!(report["estimate"], record["estimate"], "{report}");
    assert!(seen.contains("check your RunComfy requests"), "{seen}");
    assert_eq!(silent.count("POST", ""), 1, "never sent again");

    // `result --out` of a file that drips: Ctrl-C once bytes have come.
    let server = dripping_api();
    let report = interrupted_while_downloading(
        &server,
        dir.path(),
        &["result", "job-7", "--out", "out", "--json"],
        "images-0",
    );
    assert_eq!(report["status"], "interrupted", "{report}");
    assert_eq!(report["request_id"], "job-7", "{report}");
    no_partial_file(dir.path());
}

/// Ctrl-C while `run` downloads: the files saved whole by then are listed (stdout, `files`
/// in `--json`) and in the record, as the run that saved all lists them (QA repro37 M2: on
/// disk, and said nowhere).
#[test]
fn ctrl_c_while_downloading_lists_the_files_saved_whole() {
    let server = api(
        |_, base| {
            let mut reply = succeeded(
                j!({"images": [format!("{base}/whole.png"), format!("{base}/drip.png")]}),
            );
            reply["cost"] = j!(0.03);
            reply
        },
        |seen| match seen.path.as_str() {
            "/whole.png" => file("image/png", png()),
            _ => drip(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    // `run`, then `result --out` (QA repro38 N7), each with its cost (N6).
    for args in [
        &["run", MODEL, "--text", "a fox", "--out", "out", "--json"][..],
        &["result", "job-1", "--out", "out", "--json"],
    ] {
        let report = interrupted_while_downloading(&server, dir.path(), args, "images-1");
        assert_eq!(report["status"], "interrupted", "{report}");
        assert_eq!(report["cost_usd"], 0.03, "{report}");
        assert_eq!(
            report["files"].as_array().map(Vec::len),
            Some(1),
            "{report}"
        );
        let record: Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("out/runcomfy-record.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            record["files"].as_array().map(Vec::len),
            Some(1),
            "{record}"
        );
        no_partial_file(dir.path());
        std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    }
}

#[test]
fn a_refused_submit_waiting_to_be_sent_again_is_not_sent_after_ctrl_c_or_the_timeout() {
    let limited = || {
        Hostile::start_in_background(|seen, _| match seen.method.as_str() {
            "POST" => Act::Reply {
                status: 429,
                headers: vec![("Retry-After".into(), "5".into())],
                body: Vec::new(),
            },
            _ => json(404, j!({"error_code": 404001})),
        })
    };
    // Ctrl-C while it waits for the Retry-After: nothing more is sent, nothing was accepted.
    let server = limited();
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(
        &server,
        dir.path(),
        &["run", MODEL, "--text", "a fox", "--json"],
    );
    wait_for_submit(&server);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let mut seen = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut seen)
        .unwrap();
    let report = interrupted_json(&child.wait_with_output().unwrap(), &seen);
    assert_eq!(report["status"], "not_submitted", "{report}");
    assert!(
        seen.contains(&format!("interrupted: the submit to {MODEL} was stopped")),
        "{seen}"
    );
    assert!(!seen.contains("waiting for the submit's answer"), "{seen}");
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(server.count("POST", ""), 1, "sent again after Ctrl-C");

    // --timeout while it waits: not "may have been accepted" (3) but not taken (75).
    let server = limited();
    let output = run(&server, dir.path(), &["--timeout", "2s", "--json"]);
    assert_code(&output, 75);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_submitted", "{report}");
    let err = stderr(&output);
    assert!(err.contains("nothing was accepted"), "{err}");
    // The wait is said while it lasts, not only at its end (QA repro49 N4).
    assert!(
        err.contains("the API rate-limits submits; nothing was taken, sending again in "),
        "{err}"
    );
    assert_eq!(server.count("POST", ""), 1);

    // A batch's stop does the same: its line stays pending, to be sent by the next run.
    let server = limited();
    let line = format!("{{\"model\": \"{MODEL}\", \"input\": {{\"text\": \"a fox\"}}}}\n");
    std::fs::write(dir.path().join("one.jsonl"), line).unwrap();
    let child = spawn(
        &server,
        dir.path(),
        &["batch", "one.jsonl", "--out", "stopped"],
    );
    wait_for_submit(&server);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        server.count("POST", ""),
        1,
        "the batch sent again after its stop"
    );
    let report = std::fs::read_to_string(dir.path().join("stopped/report.jsonl")).unwrap();
    assert!(report.contains("\"pending\""), "{report}");
}

/// Ctrl-C once a poll saw the job running, and a server that cancels running jobs: the run
/// says the job had started (its time may be billed) and keeps its record, with the cancel as
/// its error; it is not told "still queued", nor is its record removed.
#[test]
fn a_running_job_cancelled_at_ctrl_c_keeps_its_record() {
    let server = Hostile::start_in_background(|seen, _| {
        let path = seen.path.as_str();
        match (seen.method.as_str(), path) {
            ("POST", p) if p.starts_with("/v1/models/") => json(200, j!({"request_id": "job-1"})),
            ("POST", p) if p.ends_with("/cancel") => {
                json(200, j!({"request_id": "job-1", "outcome": "cancelled"}))
            }
            (_, p) if p.starts_with("/v1/requests/") => {
                json(200, j!({"request_id": "job-1", "status": "in_progress"}))
            }
            _ => json(404, j!({"error_code": 404001, "error_message": "no"})),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(
        &server,
        dir.path(),
        &["run", MODEL, "--text", "a fox", "--out", "o", "--json"],
    );
    let started = Instant::now();
    while server.count("GET", "/status") + server.count("GET", "/result") == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "no poll");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    let report = interrupted_json(&output, &err);
    assert_eq!(report["cancel"], "cancelled", "{report}");
    assert!(err.contains("which had started"), "{err}");
    assert!(!err.contains("still queued"), "{err}");
    let record: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o/runcomfy-record.json")).unwrap())
            .unwrap();
    assert!(
        record["error"].as_str().unwrap().contains("cancelled"),
        "{record}"
    );
    assert!(record["timings"]["started"].is_string(), "{record}");
    assert_eq!(report["record"], "o/runcomfy-record.json", "{report}");
}

#[test]
fn an_ambiguous_submit_exits_3_in_json_and_in_batch_and_is_never_resent() {
    let dropped = Hostile::start_in_background(|seen, _| match seen.method.as_str() {
        "POST" => Act::Drop,
        _ => json(404, j!({"error_code": 404001})),
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&dropped, dir.path(), &["--json"]);
    assert_code(&output, 3);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "unknown");
    assert_eq!(report["request_id"], Value::Null);
    assert!(
        stderr(&output).contains("may or may not have been accepted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(dropped.count("POST", ""), 1);

    // A 5xx, and silence past --timeout, are as ambiguous.
    let failing = Hostile::start_in_background(|seen, _| match seen.method.as_str() {
        "POST" => json(
            502,
            j!({"error_code": 500001, "error_message": "bad gateway"}),
        ),
        _ => Act::Hang,
    });
    assert_code(&run(&failing, dir.path(), &[]), 3);
    assert_eq!(failing.count("POST", ""), 1);
    let silent = Hostile::start_in_background(|_, _| Act::Hang);
    let started = Instant::now();
    let output = run(&silent, dir.path(), &["--timeout", "1s", "--json"]);
    assert_code(&output, 3);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "unknown");
    // Reading a result from it: --timeout bounds the call, waiting or not, and says so.
    let said = [
        (&[][..], "the result call got no answer within --timeout 1s"),
        (
            &["--wait"][..],
            "did not finish within 1s; it goes on as it was",
        ),
    ];
    for (wait, says) in said {
        let started = Instant::now();
        let output = cli(&silent, dir.path())
            .args(["result", "job-1", "--timeout", "1s"])
            .args(wait)
            .output()
            .unwrap();
        assert_code(&output, 75);
        assert!(started.elapsed() < Duration::from_secs(6), "{wait:?}");
        let text = stderr(&output);
        assert!(text.contains(says), "{wait:?}: {text}");
    }
    assert_eq!(silent.count("POST", "/cancel"), 0, "a result never cancels");

    // A batch: each line `unknown` in the report, exit 3, and a second run sends nothing.
    let input = dir.path().join("lines.jsonl");
    std::fs::write(
        &input,
        format!(
            "{{\"model\": \"{MODEL}\", \"input\": {{\"text\": \"a fox\"}}}}\n\
             {{\"model\": \"{MODEL}\", \"input\": {{\"text\": \"a hen\"}}}}\n"
        ),
    )
    .unwrap();
    for _ in 0..2 {
        let output = cli(&dropped, dir.path())
            .args(["batch", "lines.jsonl", "--out", "shots"])
            .output()
            .unwrap();
        assert_code(&output, 3);
    }
    let report = std::fs::read_to_string(dir.path().join("shots/report.jsonl")).unwrap();
    for line in report.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["status"], "unknown", "{report}");
    }
    assert_eq!(dropped.count("POST", ""), 1 + 2);
}

/// A run killed outright while its submit is on the wire leaves the record of what was sent,
/// with no request id, where a charge can be matched to it (QA repro40 L7: nothing was left);
/// a submit refused leaves nothing, nor a folder; an ambiguous one has that record say why.
#[test]
fn a_run_killed_during_its_submit_leaves_the_record_of_what_was_sent() {
    let hanging = Hostile::start_in_background(|_, _| Act::Hang);
    let dir = tempfile::tempdir().unwrap();
    let pending = |dir: &Path| -> Value {
        let text = std::fs::read_to_string(dir.join("runcomfy-record.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    for out in [Some("shots"), None] {
        let mut args = vec!["run", MODEL, "--text", "a fox"];
        args.extend(out.map(|out| ["--out", out]).into_iter().flatten());
        let mut child = spawn(&hanging, dir.path(), &args);
        while hanging.count("POST", "") == usize::from(out.is_none()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(&child, "KILL");
        child.wait().unwrap();
        let folder = match out {
            Some(out) => dir.path().join(out),
            None => std::fs::read_dir(dir.path().join("runcomfy-out"))
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .find(|path| path.to_string_lossy().contains("unknown-"))
                .unwrap(),
        };
        let record = pending(&folder);
        assert_eq!(record["model"], MODEL, "{record}");
        assert_eq!(record["request_id"], Value::Null, "{record}");
        assert_eq!(record["input"]["text"], "a fox", "{record}");
        assert!(record["timings"]["submitted"].is_string(), "{record}");
        let error = record["error"].as_str().unwrap();
        assert!(error.contains("may have been accepted"), "{error}");
    }

    // Refused: no record, and no folder made for one.
    let refusing = Hostile::start_in_background(|_, _| {
        json(422, j!({"error_code": 422001, "error_message": "no"}))
    });
    let dir = tempfile::tempdir().unwrap();
    assert_code(&run(&refusing, dir.path(), &[]), 65);
    assert_code(&run(&refusing, dir.path(), &["--out", "a/b"]), 65);
    assert_eq!(files_under(dir.path()), Vec::<String>::new());

    // Ambiguous (a 502): the same record, saying why, and no second one.
    let failing = Hostile::start_in_background(|seen, _| match seen.method.as_str() {
        "POST" => json(
            502,
            j!({"error_code": 500001, "error_message": "bad gateway"}),
        ),
        _ => json(404, j!({"error_code": 404001})),
    });
    let output = run(&failing, dir.path(), &["--out", "shots", "--json"]);
    assert_code(&output, 3);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        report["record"]
            .as_str()
            .unwrap()
            .ends_with("shots/runcomfy-record.json")
    );
    let left = files_under(dir.path());
    assert!(
        left.len() == 1 && left[0].ends_with("shots/runcomfy-record.json"),
        "{left:?}"
    );
    let error = pending(&dir.path().join("shots"))["error"].clone();
    assert!(error.as_str().unwrap().contains("bad gateway"), "{error}");
}

#[test]
fn a_submit_that_gives_no_job_says_so_in_json_and_a_deadline_already_past_sends_nothing() {
    let refusing = Hostile::start_in_background(|seen, _| match seen.method.as_str() {
        "POST" => json(
            422,
            j!({"error_code": 422001, "error_message": "prompt refused"}),
        ),
        _ => json(404, j!({"error_code": 404001})),
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&refusing, dir.path(), &["--json"]);
    assert_code(&output, 65);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_submitted");
    assert_eq!(report["request_id"], Value::Null);
    assert!(
        report["error"].as_str().unwrap().contains("prompt refused"),
        "{report}"
    );
    assert_eq!(refusing.count("POST", ""), 1);

    // --timeout 0s has passed before the submit: nothing is sent, and it says so (exit 75).
    let output = run(&refusing, dir.path(), &["--timeout", "0s", "--json"]);
    assert_code(&output, 75);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_submitted");
    let text = stderr(&output);
    assert!(
        text.contains("within --timeout 0s; nothing was sent"),
        "{text}"
    );
    assert_eq!(refusing.count("POST", ""), 1);
}

#[test]
fn the_token_echoed_back_is_never_printed_or_stored() {
    let server = Hostile::start_in_background(|seen, base| {
        let token = seen.token().unwrap_or_default();
        let path = seen.path.as_str();
        if seen.method == "POST" {
            // The prompt decides: a normal id, or the token as the id.
            let id = if String::from_utf8_lossy(&seen.body).contains("id please") {
                token.clone()
            } else {
                "job-1".to_owned()
            };
            json(200, j!({"request_id": id, "echo": token}))
        } else if path.starts_with("/v1/requests/loop") {
            redirect(format!("{base}/loop?t={token}"))
        } else if path.starts_with("/loop") {
            redirect(format!("{base}/loop?t={TOKEN}&again=1"))
        } else if path.starts_with("/v1/requests/files") {
            json(
                200,
                succeeded(j!({"images": [format!("{base}/files/{token}.png")]})),
            )
        } else if path.starts_with("/v1/requests/") {
            json(
                200,
                j!({"status": "failed", "error": {"message": format!("refused {token}"), "token": token}}),
            )
        } else {
            json(
                404,
                j!({"error_code": 404001, "error_message": format!("no {path}")}),
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut shown = String::new();
    let mut expect = |cmd: &mut assert_cmd::Command, code: i32| {
        let output = cmd.env("RUST_LOG", "trace").output().unwrap();
        assert_code(&output, code);
        shown.push_str(&stdout(&output));
        shown.push_str(&stderr(&output));
    };
    // A failed job's error, at -vvv.
    expect(
        cli(&server, dir.path()).args(["-vvv", "run", MODEL, "--text", "a fox"]),
        1,
    );
    // The token as a request id: nothing to follow, so the submit's outcome is unknown.
    expect(
        cli(&server, dir.path()).args(["-vvv", "run", MODEL, "--text", "id please"]),
        3,
    );
    // A redirect loop whose Location carries it: a broken service, exit 69.
    expect(
        cli(&server, dir.path()).args(["-vvv", "status", "loop"]),
        69,
    );
    // An output URL naming it: scrubbed, so the host has no such file.
    expect(
        cli(&server, dir.path()).args(["-vvv", "result", "files", "--out", "out"]),
        69,
    );
    // A batch: stderr, stdout, report, journal and gallery.
    std::fs::write(
        dir.path().join("lines.jsonl"),
        format!("{{\"model\": \"{MODEL}\", \"input\": {{\"text\": \"a fox\"}}}}\n"),
    )
    .unwrap();
    expect(
        cli(&server, dir.path()).args(["-vvv", "batch", "lines.jsonl", "--out", "shots"]),
        1,
    );

    assert!(
        shown.contains("[redacted]"),
        "the echo was not seen: {shown}"
    );
    assert!(!shown.contains(TOKEN), "the token was printed");
    for path in files_under(dir.path()) {
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes());
        assert!(!found, "the token is stored in {path}");
    }
    assert!(
        std::fs::read_to_string(dir.path().join("shots/report.jsonl"))
            .unwrap()
            .contains("refused [redacted]")
    );
}

#[test]
fn an_odd_queue_position_is_ignored_and_a_cancelled_timeout_says_the_job_will_not_run() {
    let server = Hostile::start_in_background(|seen, _| {
        let path = seen.path.as_str();
        if seen.method == "POST" && path.ends_with("/cancel") {
            json(202, j!({"status": "cancelled", "outcome": "cancelled"}))
        } else if seen.method == "POST" {
            json(200, j!({"request_id": "job-1"}))
        } else if path.ends_with("/status") {
            json(200, j!({"status": "in_queue", "queue_position": "abc"}))
        } else {
            json(200, j!({"status": "in_queue"}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--timeout", "4s"]);
    assert_code(&output, 75);
    assert!(server.count("GET", "/status") >= 1, "{:?}", server.seen());
    assert_eq!(server.count("POST", "/cancel"), 1);
    let err = stderr(&output);
    assert!(err.contains("cancel: cancelled"), "{err}");
    assert!(err.contains("it will not run"), "{err}");
    assert!(!err.contains("may still finish"), "{err}");
}

/// A request id is the server's text, pasted by the user into the commands a message
/// suggests: it is quoted there, so a shell runs none of it; one that reads as an option, or
/// holds characters that show as nothing, is refused as an id.
#[test]
fn a_request_id_in_a_suggested_command_is_quoted_for_the_shell() {
    let id = "x; touch pwned #";
    let server = Hostile::start_in_background(move |seen, _| {
        if seen.method == "POST" {
            json(200, j!({"request_id": id}))
        } else {
            json(200, j!({"status": "in_progress"}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--no-wait", "--out", "my shots"]);
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(
        err.contains("`runcomfy status 'x; touch pwned #'`")
            && err.contains("`runcomfy result 'x; touch pwned #' --wait --out 'my shots'`"),
        "{err}"
    );
    let output = cli(&server, dir.path())
        .args(["result", id, "--wait", "--timeout", "1s"])
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("(`runcomfy result 'x; touch pwned #' --wait` follows it again)"),
        "{}",
        stderr(&output)
    );

    for odd in ["-rf", "a\u{200b}b"] {
        let server = Hostile::start_in_background(move |_, _| json(200, j!({"request_id": odd})));
        let output = run(&server, dir.path(), &["--no-wait"]);
        assert_code(&output, 3);
        assert!(
            stderr(&output).contains("may or may not have been accepted"),
            "{}",
            stderr(&output)
        );
    }
}

/// A run looks up today's price while its job runs: a server that never answers that call
/// delays the end of the run by the grace given to it (2 s) and no more, and the estimate falls
/// back to the catalog's, saying so.
#[test]
fn a_price_call_that_hangs_does_not_hold_the_run() {
    let server = Hostile::start_in_background(|seen, base| {
        let path = seen.path.as_str();
        if seen.method == "POST" {
            json(200, j!({"request_id": "job-1"}))
        } else if path.starts_with("/v1/requests/") {
            json(200, succeeded(j!({"images": [format!("{base}/0.png")]})))
        } else if path.starts_with("/v1/models/") {
            Act::Hang
        } else {
            file("image/png", png())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(&server, dir.path(), &["--out", "out", "--json"]);
    assert_code(&output, 0);
    // The first poll is 2 s after the submit, the grace 2 s more at most.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let text = stderr(&output);
    assert!(
        text.contains("price was not read from the API in time"),
        "{text}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["estimate"]["basis"].is_string(), "{report}");
    assert_eq!(server.count("POST", ""), 1);

    // A batch without a budget gives the prices 5 s, then starts on the catalog's.
    let started = Instant::now();
    let output = batch(&server, dir.path(), &["a fox"], &[]);
    assert_code(&output, 0);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.count("POST", ""), 2);
}

/// A price lookup the API refuses for the token ends a `--max-cost` run as the token error it
/// is (exit 77), nothing sent; not as a run over budget (QA repro33 F8: exit 4).
#[test]
fn a_token_refused_at_the_price_is_a_token_error_not_over_budget() {
    let server = Hostile::start_in_background(|seen, _| {
        if seen.method == "GET" && seen.path.starts_with("/v1/models/") {
            json(
                401,
                j!({"error_code": 400004, "error_message": "invalid token"}),
            )
        } else {
            json(200, j!({"request_id": "job-1"}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--max-cost", "1", "--json"]);
    assert_code(&output, 77);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_submitted", "{report}");
    // So do its dry run, and a batch with a budget and its dry run (QA repro35 L1: they
    // exited 4, lines "left unsent by --max-spend"). Without a budget the price only informs.
    let output = run(&server, dir.path(), &["--max-cost", "1", "--dry-run"]);
    assert_code(&output, 77);
    assert!(
        stderr(&output).contains("invalid token"),
        "{}",
        stderr(&output)
    );
    for extra in [
        &["--max-spend", "1"][..],
        &["--dry-run", "--max-spend", "1"],
    ] {
        let output = batch(&server, dir.path(), &["a fox"], extra);
        assert_code(&output, 77);
        assert!(
            stderr(&output).contains("invalid token"),
            "{}",
            stderr(&output)
        );
    }
    let fresh = tempfile::tempdir().unwrap();
    let output = batch(&server, fresh.path(), &["a fox"], &["--dry-run"]);
    assert_code(&output, 0);
    assert_eq!(server.count("POST", ""), 0);
}

/// A batch under a budget waits for today's prices, but says so once they are slow.
#[test]
fn a_budget_waiting_for_slow_prices_says_so() {
    let server = Hostile::start_in_background(|seen, base| {
        let path = seen.path.as_str();
        if seen.method == "POST" {
            json(200, j!({"request_id": "job-1"}))
        } else if path.starts_with("/v1/requests/") {
            json(200, succeeded(j!({"images": [format!("{base}/0.png")]})))
        } else if let Some(model) = path.strip_prefix("/v1/models/") {
            // The whole price at once, then 7 s before the connection closes (its end).
            let price = j!({"model_id": model, "base_price_usd": 0.03,
                "price_unit": "output", "pricing": "fixed"});
            let body = price.to_string().into_bytes();
            Act::Stream {
                content_type: "application/json".into(),
                total: body.len(),
                chunk: body,
                every: Duration::from_secs(7),
            }
        } else {
            file("image/png", png())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = batch(&server, dir.path(), &["a fox"], &["--max-spend", "1"]);
    assert_code(&output, 0);
    let text = stderr(&output);
    assert!(
        text.contains("waiting for today's prices for the budget (--max-spend)"),
        "{text}"
    );
    assert_eq!(server.count("POST", ""), 1);
}

/// A budget whose prices never come: the models are asked side by side and the batch waits 30
/// s in all (not each model's retries in turn), says why its lines have no estimate, and sends
/// none; Ctrl-C during the wait ends it at once. `run --max-cost` waits as long.
#[test]
fn prices_that_never_come_are_waited_for_30_s_in_all_and_ctrl_c_ends_the_wait() {
    let server = Hostile::start_in_background(|seen, _| match seen.method.as_str() {
        "GET" => Act::Hang,
        _ => json(200, j!({"request_id": "job-1"})),
    });
    let dir = tempfile::tempdir().unwrap();
    let lines = format!(
        "{{\"model\": \"{MODEL}\", \"input\": {{\"text\": \"a fox\"}}}}\n\
         {{\"model\": \"wan-ai/wan-3.0/text-to-video\", \"input\": {{\"prompt\": \"a fox\"}}}}\n"
    );
    std::fs::write(dir.path().join("lines.jsonl"), lines).unwrap();
    let args = ["batch", "lines.jsonl", "--out", "shots", "--max-spend", "1"];

    // Ctrl-C or SIGTERM during the wait, in a batch, a dry run or before a run's submit: 130,
    // at once, nothing sent and no line judged.
    let dry_run = [&args[..], &["--dry-run"]].concat();
    for (args, signal_name, said, then) in [
        (
            &args[..],
            "INT",
            "waiting up to 30s in all",
            "stopping: no new submits",
        ),
        (
            &dry_run[..],
            "INT",
            "waiting up to 30s in all",
            "interrupted: nothing was shown",
        ),
        (
            &["run", MODEL, "--text", "a fox", "--max-cost", "1"][..],
            "TERM",
            "the API has not answered in 5s",
            "interrupted: nothing was sent",
        ),
    ] {
        let mut child = spawn(&server, dir.path(), args);
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        read_until(&mut lines, said, &mut seen);
        let asked = Instant::now();
        signal(&child, signal_name);
        let output = child.wait_with_output().unwrap();
        std::io::Read::read_to_string(&mut lines, &mut seen).unwrap();
        assert_eq!(output.status.code(), Some(130), "{args:?}: {seen}");
        assert!(asked.elapsed() < Duration::from_secs(3), "{args:?}");
        assert!(seen.contains(then), "{args:?}: {seen}");
        assert!(!seen.contains("not sent"), "{args:?}: {seen}");
    }

    let started = Instant::now();
    let output = cli(&server, dir.path()).args(args).output().unwrap();
    assert_code(&output, 4);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "{took:?}"
    );
    let text = stderr(&output);
    for model in [MODEL, "wan-ai/wan-3.0/text-to-video"] {
        assert!(
            text.contains(&format!(
                "warning: today's price of {model} was not read (no answer within 30s); the \
                 catalog has no rate either, so its lines have no estimate"
            )),
            "{text}"
        );
    }
    assert!(text.contains("not sent: it has no estimate"), "{text}");
    assert!(!text.contains(" WARN "), "{text}");
    assert_eq!(server.count("POST", ""), 0);

    // `run --max-cost` waits as long, saying so, not the client's retries (90 s).
    let started = Instant::now();
    let output = run(&server, dir.path(), &["--max-cost", "1"]);
    assert_code(&output, 4);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "{took:?}"
    );
    let text = stderr(&output);
    for said in [
        format!("waiting for today's price of {MODEL}: the API has not answered in 5s"),
        format!("{MODEL}'s price was not read from the API within 30s"),
    ] {
        assert!(text.contains(&said), "{said:?} in {text}");
    }
    assert_eq!(server.count("POST", ""), 0);
}

#[test]
fn another_models_price_is_no_price_of_this_one() {
    let server = Hostile::start_in_background(|seen, _| {
        if seen.method == "POST" {
            json(200, j!({"request_id": "job-1"}))
        } else if seen.path.starts_with("/v1/models/") {
            json(
                200,
                j!({"model_id": "some-other/cheap-model", "base_price_usd": 0.001,
                    "price_unit": "output", "pricing": "fixed"}),
            )
        } else {
            json(404, j!({}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    // The catalog knows no price of the model: no estimate, so --max-cost sends nothing.
    let output = run(&server, dir.path(), &["--max-cost", "0.05"]);
    assert_code(&output, 4);
    let text = stderr(&output);
    assert!(
        text.contains("is for model `some-other/cheap-model`"),
        "{text}"
    );
    assert_eq!(server.count("POST", ""), 0);
}

#[test]
fn a_file_sent_compressed_unasked_is_refused_saying_so() {
    let server = api(
        |_, base| succeeded(j!({"images": [format!("{base}/0.png")]})),
        |_| Act::Reply {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "image/png".into()),
                ("Content-Encoding".into(), "gzip".into()),
            ],
            body: b"\x1f\x8b\x08\x00\x00\x00\x00\x00".to_vec(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "out"]);
    assert_code(&output, 69);
    assert!(
        stderr(&output).contains("sent compressed (gzip)"),
        "{}",
        stderr(&output)
    );
    assert!(
        files_under(&dir.path().join("out"))
            .iter()
            .all(|f| !f.ends_with(".png"))
    );
}

#[test]
fn a_file_that_is_not_the_png_it_claims_is_refused_at_its_first_bytes() {
    let server = api(
        |_, base| succeeded(j!({"images": [format!("{base}/big.png")]})),
        |_| Act::Stream {
            content_type: "image/png".into(),
            chunk: vec![b'<'; 64 * 1024],
            total: 512 << 20,
            every: Duration::ZERO,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(&server, dir.path(), &["--out", "out"]);
    assert_code(&output, 69);
    assert!(
        stderr(&output).contains("is not the image/png"),
        "{}",
        stderr(&output)
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let attempts = server.count("GET", "/big.png") as u64;
    assert!(
        server.body_bytes() < attempts * (16 << 20),
        "{} bytes",
        server.body_bytes()
    );
    // Nothing of the file; the record of the paid job, for `result --out` to complete.
    let left = files_under(&dir.path().join("out"));
    assert!(
        left.len() == 1 && left[0].ends_with("runcomfy-record.json"),
        "{left:?}"
    );
}

#[test]
fn an_output_file_that_cannot_be_fetched_fails_the_run_and_an_upper_case_scheme_is_fetched() {
    let server = api(
        |id, base| {
            let upper = base.replacen("http://", "HTTP://", 1);
            match id {
                "job-1" => succeeded(j!({"images": [format!("{upper}/0.png")]})),
                // A file no client fetches: not over http(s).
                _ => succeeded(
                    j!({"images": [format!("{upper}/0.png"), "ftp://files.example/1.png"]}),
                ),
            }
        },
        |_| file("image/png", png()),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "upper"]);
    assert_code(&output, 0);
    assert_eq!(
        files_under(&dir.path().join("upper")).len(),
        2,
        "the image and the record"
    );

    // Never "succeeded; saved 1 file" with the other one left out; the one saved is still
    // shown, and recorded.
    let output = run(&server, dir.path(), &["--out", "relative"]);
    assert_code(&output, 69);
    let err = stderr(&output);
    assert!(
        err.contains("ftp://files.example/1.png failed: ") && err.contains("(1 other file saved)"),
        "{err}"
    );
    assert_eq!(stdout(&output).trim(), "relative/images-0.png");
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("relative").join("runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["files"].as_array().map(Vec::len),
        Some(1),
        "{record}"
    );
    // The output as the server gave it, the file that could not be fetched included.
    assert_eq!(
        record["output"]["images"][1], "ftp://files.example/1.png",
        "{record}"
    );

    let output = run(&server, dir.path(), &["--out", "relative-json", "--json"]);
    assert_code(&output, 69);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_saved", "{report}");
    assert_eq!(report["files"][0]["field"], "images", "{report}");
    // `result` says the same.
    let output = cli(&server, dir.path())
        .args(["result", "job-3", "--out", "fetched", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 69);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["files"][0]["field"], "images", "{report}");

    // A batch line fails the same way, and its report and record list the file it saved.
    let output = batch(&server, dir.path(), &["Generate 2 images of a fox."], &[]);
    assert_code(&output, 1);
    let report = std::fs::read_to_string(dir.path().join("shots/report.jsonl")).unwrap();
    let line: Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(line["status"], "failed", "{line}");
    assert_eq!(line["files"], j!(["line-1/images-0.png"]), "{line}");
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("shots/line-1/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["files"][0]["name"], "images-0.png", "{record}");
}

#[test]
fn files_on_another_host_need_allow_output_host() {
    let files = Hostile::start_in_background(|_, _| file("image/png", png()));
    let elsewhere = files.base_url().replace("127.0.0.1", "localhost");
    let server = api(
        move |_, _| succeeded(j!({"images": [format!("{elsewhere}/0.png")]})),
        |_| json(404, j!({})),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "refused"]);
    assert_code(&output, 69);
    let err = stderr(&output);
    assert!(err.contains("--allow-output-host localhost"), "{err}");
    assert!(files.seen().is_empty());

    let output = cli(&server, dir.path())
        .args([
            "--allow-output-host",
            "localhost",
            "result",
            "job-1",
            "--out",
            "allowed",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    // The file, and the record `result` writes of it.
    assert_eq!(files_under(&dir.path().join("allowed")).len(), 2);
    assert!(files.seen().iter().all(|s| s.token().is_none()));
}

#[test]
fn a_live_catalog_with_entries_that_name_no_model_warns_and_lists_the_rest() {
    let server = Hostile::start_in_background(|_, _| {
        json(
            200,
            j!({"models": [
                "\u{1b}[31mnot a model",
                {"model_id": MODEL, "base_price_usd": 0.07, "price_unit": "output", "pricing": "fixed"},
                {"display_name": "no id"},
                7,
                {"model_id": "bytedance/seedream-4-0/edit", "base_price_usd": -1},
                // Unreadable, though it names its pricing: not today's "-" over the catalog's base.
                {"model_id": "wan-ai/wan-2.7/edit", "base_price_usd": -5, "price_unit": "output", "pricing": "fixed"},
                {"model_id": "bytedance/seedream-4-0/edit-sequential", "base_price_usd": 0.03, "price_unit": "minute", "pricing": "fixed"},
                // Models this build lacks: named, escaped.
                {"model_id": "kling/kling-3.0/text-to-video", "base_price_usd": 0.5, "price_unit": "output", "pricing": "fixed"},
                {"model_id": "evil/\u{1b}[2Jmodel", "base_price_usd": 0.5, "price_unit": "output", "pricing": "fixed"},
            ], "total": 9}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let output = cli(&server, dir.path())
        .args(["models", "--live"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(err.contains("name no model"), "{err}");
    assert!(err.contains("[1, 3, 4]"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    let out = stdout(&output);
    let line = |id: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_default()
    };
    assert!(line(MODEL).contains("0.07"), "{out}");
    assert!(!line(MODEL).contains("(catalog)"), "{out}");
    // A model the API priced unreadably, or not at all, shows the catalog's price as such.
    for id in [
        "bytedance/seedream-4-0/edit",
        "blackforestlabs/flux-3/text-to-video",
        "wan-ai/wan-2.7/edit",
    ] {
        assert!(line(id).contains("(catalog)"), "{out}");
    }
    assert!(
        line("wan-ai/wan-2.7/edit").contains("base (catalog)"),
        "{out}"
    );
    // A rate per a unit this client does not know is no price per job.
    assert!(
        line("bytedance/seedream-4-0/edit-sequential").contains("$0.03/? "),
        "{out}"
    );
    assert!(err.contains("the API gave none for that model"), "{err}");
    assert!(
        err.contains("the API lists 2 models this build lacks")
            && err.contains("kling/kling-3.0/text-to-video"),
        "{err}"
    );

    let output = cli(&server, dir.path())
        .args(["models", "--live", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let models: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let entry = |id: &str| {
        models
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(entry(MODEL)["price"]["source"], j!("api"));
    assert_eq!(
        entry("bytedance/seedream-4-0/edit")["price"]["source"],
        j!("catalog")
    );
    // The models this build lacks are listed too, as the API gave them, marked.
    assert_eq!(entry(MODEL)["in_build"], j!(true));
    let kling = entry("kling/kling-3.0/text-to-video");
    assert_eq!(kling["in_build"], j!(false), "{models}");
    assert_eq!(kling["price"]["usd"], j!(0.5), "{models}");
    assert_eq!(kling["price"]["source"], j!("api"), "{models}");
    assert_eq!(
        entry("evil/\u{1b}[2Jmodel")["in_build"],
        j!(false),
        "{models}"
    );
    assert!(!stdout(&output).contains('\u{1b}'));
}

#[test]
fn describe_live_of_a_model_this_build_lacks_shows_what_the_api_says() {
    const NEW: &str = "kling/kling-3.0/text-to-video";
    let server = Hostile::start_in_background(|seen, _| {
        if seen.path == format!("/v1/models/{NEW}") {
            json(
                200,
                j!({
                    "model_id": NEW,
                    "display_name": "Kling \u{202e}3.0",
                    "kind": "video",
                    "base_price_usd": 0.5,
                    "price_unit": "second",
                    "pricing": "fixed",
                    "input_schema": {
                        "type": "object",
                        "required": ["prompt"],
                        "properties": {"prompt": {"type": "string", "description": "\u{1b}[31mred"}},
                    },
                }),
            )
        } else {
            json(
                404,
                j!({"error_code": 404001, "error_message": "no such model"}),
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();

    // Without --live: refused, saying that --live asks the API; nothing is sent.
    let output = cli(&server, dir.path())
        .args(["describe", NEW])
        .output()
        .unwrap();
    assert_code(&output, 64);
    assert!(stderr(&output).contains(&format!("runcomfy describe {NEW} --live")));
    assert!(server.seen().is_empty());

    let output = cli(&server, dir.path())
        .args(["describe", NEW, "--live"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("not in this build's catalog"), "{out}");
    assert!(out.contains("$0.50 per second"), "{out}");
    assert!(out.contains("\"required\""), "{out}");
    assert!(
        out.contains(&format!("runcomfy run {NEW} --unchecked --input JSON")),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );

    let output = cli(&server, dir.path())
        .args(["describe", NEW, "--live", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let described: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(described["in_build"], j!(false));
    assert_eq!(described["kind"], j!("video"));
    assert_eq!(described["price"]["unit"], j!("second"));
    assert_eq!(described["input_schema"]["required"], j!(["prompt"]));

    // One the API does not know either: a usage error that says so.
    let output = cli(&server, dir.path())
        .args(["describe", "vendor/nothing/here", "--live"])
        .output()
        .unwrap();
    assert_code(&output, 64);
    assert!(
        stderr(&output).contains("the API does not list it either"),
        "{}",
        stderr(&output)
    );
}

/// `describe --live` on a model the API does not list shows the catalog's price, marked as
/// such, as `models --live` does; other failures still fail.
#[test]
fn describe_live_of_a_model_the_api_does_not_list_shows_the_catalog_s_price() {
    let server = Hostile::start_in_background(|_, _| {
        json(
            404,
            j!({"error_code": 404001, "error_message": "no such model"}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let output = cli(&server, dir.path())
        .args(["describe", MODEL, "--live"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("Price (catalog; the API gave none today)"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("gave no price"),
        "{}",
        stderr(&output)
    );
    let output = cli(&server, dir.path())
        .args(["describe", MODEL, "--live", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let described: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(described["price"]["source"], "catalog", "{described}");
}

#[test]
fn losing_track_of_an_accepted_job_exits_3_saying_how_to_pick_it_up() {
    // The job is accepted, then every read of it fails: an outage, or an id the server no
    // longer knows. Neither is "service unavailable" (69) nor "invalid input" (65), which
    // wrappers retry, paying again.
    // Unreadable replies, and an id the server no longer knows. (5xx is ridden out for a
    // minute first: `errors.rs` has it, against the simulator.)
    for gone in [false, true] {
        let server = Hostile::start_in_background(move |seen, _| {
            if seen.method == "POST" && seen.path.starts_with("/v1/models/") {
                json(200, j!({"request_id": "job-1"}))
            } else if seen.path.starts_with("/v1/requests/") && gone {
                json(404, j!({"error_code": 404001, "error_message": "gone"}))
            } else if seen.path.starts_with("/v1/requests/") {
                file("text/html", b"<html>a proxy's page</html>".to_vec())
            } else {
                json(
                    404,
                    j!({"error_code": 404001, "error_message": "no such model"}),
                )
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let output = run(&server, dir.path(), &["--json"]);
        assert_code(&output, 3);
        let text = stderr(&output);
        assert!(
            text.contains("`runcomfy result job-1 --wait --out runcomfy-out/job-1`"),
            "{text}"
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["status"], "unfinished", "{report}");
        assert_eq!(
            report["record"], "runcomfy-out/job-1/runcomfy-record.json",
            "{report}"
        );
        assert_eq!(report["request_id"], "job-1", "{report}");
        assert_eq!(server.count("POST", ""), 1);
    }
}

#[test]
fn a_batch_line_whose_file_is_refused_fails_at_once_instead_of_waiting_for_a_next_run() {
    let server = api(
        |_, base| succeeded(j!({"images": [format!("{base}/page.png")]})),
        |_| file("image/png", b"<html>an error page</html>".to_vec()),
    );
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = batch(&server, dir.path(), &["a fox"], &[]);
    // Failed (1), not unfinished (75: "run again", which would be refused the same way).
    assert_code(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("is not the image/png"), "{text}");
    assert!(text.contains("runcomfy result job-1 --out DIR"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    // One download's own retries (an error page can be a host's passing glitch), not a
    // batch's rounds of them.
    assert!(server.count("GET", "/page.png") <= 5);
    // The paid job's record, with no files, for `result --out` to complete.
    let record = dir.path().join("shots/line-1/runcomfy-record.json");
    let record: Value = serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    assert_eq!(record["request_id"], "job-1", "{record}");
    assert_eq!(record["files"], j!([]), "{record}");
    assert!(record["output"].is_object(), "{record}");
}

#[test]
fn paths_in_someone_elses_input_file_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "/tmp/\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[31mRED\u{202e}.png";
    let input = j!({"prompt": "a fox", "images": [evil]});
    std::fs::write(dir.path().join("in.json"), input.to_string()).unwrap();
    let output = runcomfy(dir.path())
        .args(["--mock", "run", "bytedance/seedream-4-0/edit"])
        .args(["--input", "@in.json", "--dry-run"])
        .output()
        .unwrap();
    assert_code(&output, 65);
    let text = stderr(&output);
    assert!(text.contains("cannot read /tmp/"), "{text}");
    assert_printable("stderr", &text);

    // A record sent by someone else: its file's source path, and its model.
    for (key, value) in [("source", j!(evil)), ("model", j!(evil))] {
        let mut record = j!({
            "runcomfy_record": 1,
            "model": "bytedance/seedream-4-0/edit",
            "input": {"prompt": "a fox", "images": [
                {"name": "a.png", "size": 1, "sha256": "00", "source": "/tmp/a.png"}
            ]},
        });
        match key {
            "source" => record["input"]["images"][0]["source"] = value,
            _ => record["model"] = value,
        }
        std::fs::write(dir.path().join("record.json"), record.to_string()).unwrap();
        let output = runcomfy(dir.path())
            .args(["--mock", "run", "bytedance/seedream-4-0/edit"])
            .args(["--input", "@record.json", "--dry-run"])
            .output()
            .unwrap();
        assert_code(&output, 65);
        let text = stderr(&output);
        assert!(text.contains("/tmp/"), "{text}");
        assert_printable("stderr", &text);
    }
}

#[test]
fn a_batch_given_one_request_id_for_two_lines_follows_it_for_one() {
    let server = Hostile::start_in_background(|seen, base| {
        let path = seen.path.as_str();
        if seen.method == "POST" && path.starts_with("/v1/models/") {
            json(200, j!({"request_id": "job-1"}))
        } else if path.starts_with("/v1/requests/") {
            json(200, succeeded(j!({"images": [format!("{base}/0.png")]})))
        } else if path.starts_with("/v1/models/") {
            json(
                404,
                j!({"error_code": 404001, "error_message": "no such model"}),
            )
        } else {
            file("image/png", png())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = batch(
        &server,
        dir.path(),
        &["a fox", "a cat"],
        &["--concurrency", "1"],
    );
    // One line is the job's; the other is unknown (its own job may exist), not a second
    // "downloaded" with the same files.
    assert_code(&output, 3);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(text.contains("which line 1 already has"), "{text}");
    assert!(text.contains("1 downloaded"), "{text}");
    assert_eq!(server.count("POST", ""), 2);
}

#[test]
fn cancel_replies_that_contradict_themselves_or_name_another_job_are_not_believed() {
    let cases = [
        (
            j!({"request_id": "job-1", "status": "completed", "outcome": "cancelled"}),
            69,
            "with status `completed`",
        ),
        (
            j!({"request_id": "job-2", "status": "cancelled", "outcome": "cancelled"}),
            69,
            "is for request `job-2`",
        ),
        (j!({"request_id": "job-1"}), 69, "says no outcome"),
        (
            j!({"request_id": "job-1", "status": "in_queue", "outcome": "cancelled"}),
            0,
            "cancelled",
        ),
    ];
    for (reply, code, said) in cases {
        let server = Hostile::start_in_background(move |_, _| json(202, reply.clone()));
        let dir = tempfile::tempdir().unwrap();
        let output = cli(&server, dir.path())
            .args(["cancel", "job-1"])
            .output()
            .unwrap();
        assert_code(&output, code);
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(text.contains(said), "{text}");
    }
    // --json gives a server's own word as it came, escaped once (by JSON).
    let server = Hostile::start_in_background(|_, _| {
        json(
            202,
            j!({"request_id": "job-1", "outcome": "\u{1b}[31mmaybe"}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let output = cli(&server, dir.path())
        .args(["cancel", "job-1", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 1);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["outcome"], "\u{1b}[31mmaybe", "{report}");
    // The shape every job command's `--json` has (QA repro29 #6).
    assert_eq!(report["status"], "error", "{report}");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("\\u{1b}[31mmaybe")),
        "{report}"
    );
}

#[test]
fn status_result_and_cancel_answer_json_when_they_fail() {
    let server = Hostile::start_in_background(|seen, _| {
        if seen.path.ends_with("/status") {
            json(500, j!({"error_code": 500001, "error_message": "down"}))
        } else {
            json(
                404,
                j!({"error_code": 404001, "error_message": "no such request"}),
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    for (args, code) in [
        (["result", "job-1", "--json"], 65),
        (["cancel", "job-1", "--json"], 65),
        (["status", "job-1", "--json"], 69),
    ] {
        let output = cli(&server, dir.path()).args(args).output().unwrap();
        assert_code(&output, code);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {:?}", stdout(&output)));
        assert_eq!(report["status"], "error", "{report}");
        assert_eq!(report["request_id"], "job-1", "{report}");
        assert!(report["error"].is_string(), "{report}");
    }
}

#[test]
fn timeout_bounds_the_price_lookup_of_max_cost_and_a_link_to_nothing_is_no_out_folder() {
    let silent_prices = Hostile::start_in_background(|seen, _| match seen.method.as_str() {
        "GET" => Act::Hang,
        _ => json(200, j!({"request_id": "job-1"})),
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(
        &silent_prices,
        dir.path(),
        &["--max-cost", "1", "--timeout", "2s", "--json"],
    );
    assert_code(&output, 75);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_submitted", "{report}");
    assert_eq!(silent_prices.count("POST", ""), 0);

    // --out through a link to a drive not mounted: refused before anything is paid.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/nonexistent/not-mounted", dir.path().join("shots")).unwrap();
        let output = run(&silent_prices, dir.path(), &["--out", "shots"]);
        assert_code(&output, 74);
        assert!(
            stderr(&output).contains("is a link to"),
            "{}",
            stderr(&output)
        );
        assert_eq!(silent_prices.count("POST", ""), 0);
    }
}

/// A job the server says succeeded, with an output that is not the model's (a string, a
/// list): its answer is known, so it is not "unfinished, may still finish" (QA repro33 F4:
/// exit 3, the cost dropped, and `result --wait` failing with 69). Not saved (69), with its
/// cost; a batch fails the line at once, paid.
#[test]
fn a_succeeded_job_whose_output_is_not_the_models_is_not_saved_with_its_cost() {
    // An object that names no file of the model's is as empty-handed (QA repro47 P1: exit 0,
    // "saved 0 files").
    for output in [
        j!("https://x.example/a.png"),
        j!(["https://x.example/a.png"]),
        j!({}),
        j!({"images": 5}),
        j!({"caption": "a fox"}),
    ] {
        // `result` of a bare id does not know the model, so only an output that is no object
        // is refused there; an object naming no file is the model's to judge.
        let no_object = !output.is_object();
        let server = api(
            move |_, _| {
                let mut reply = succeeded(output.clone());
                reply["cost"] = j!(0.03);
                reply
            },
            |_| file("image/png", png()),
        );
        let dir = tempfile::tempdir().unwrap();
        let output = run(&server, dir.path(), &["--out", "out", "--json"]);
        assert_code(&output, 69);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["status"], "not_saved", "{report}");
        assert_eq!(report["cost_usd"], 0.03, "{report}");
        // No file saved is said, not left out (QA repro46 D3).
        assert_eq!(report["files"], j!([]), "{report}");
        let err = stderr(&output);
        assert!(err.contains("not the model's output type"), "{err}");
        assert!(!err.contains("may still finish"), "{err}");
        // Asking again gives the same: no "fetches the rest" (QA repro49 N3).
        assert!(!err.contains("fetches the rest"), "{err}");
        assert!(!err.contains("downloading 0 files"), "{err}");
        let output = cli(&server, dir.path())
            .args(["result", "job-1", "--wait"])
            .output()
            .unwrap();
        assert_code(&output, if no_object { 69 } else { 0 });
        let output = batch(&server, dir.path(), &["a fox"], &[]);
        assert_code(&output, 1);
        let report = std::fs::read_to_string(dir.path().join("shots/report.jsonl")).unwrap();
        let line: Value = serde_json::from_str(report.trim()).unwrap();
        assert_eq!(line["status"], "failed", "{line}");
        assert_eq!(line["cost_usd"], 0.03, "{line}");
        // One result reply's worth of polls each, not rounds of them.
        assert!(
            server.count("GET", "/v1/requests/") < 12,
            "{}",
            server.count("GET", "/v1/requests/")
        );
    }
}

/// Text among the files of a field the model lists as files is a file that cannot be fetched,
/// as the model's typed output reads it: the others are saved and the job is not saved (69),
/// naming it (QA repro49 N1: "saved 1 file", exit 0, the text left out unsaid). A field the
/// model does not list keeps its text as a value.
#[test]
fn text_among_the_models_files_is_a_file_not_saved_and_said() {
    let server = api(
        |_, _| {
            succeeded_of_model(j!({
                "images": ["/files/a.png", "n/a"],
                "preview_image": "pending",
            }))
        },
        |_| file("image/png", png()),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "out", "--json"]);
    assert_code(&output, 69);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_saved", "{report}");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report}");
    assert_eq!(files[0]["field"], "images", "{report}");
    let err = stderr(&output);
    assert!(
        err.contains("n/a") && err.contains("not a whole URL"),
        "{err}"
    );
    assert!(!err.contains("pending"), "{err}");
    // Without --out, both are listed as the job's files, though no cache knows the job: its
    // result names its model.
    let output = cli(&server, dir.path())
        .args(["result", "job-1"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        listed.contains("/files/a.png") && listed.contains("n/a"),
        "{listed}"
    );
    let output = batch(&server, dir.path(), &["a fox"], &[]);
    assert_code(&output, 1);
    let report = std::fs::read_to_string(dir.path().join("shots/report.jsonl")).unwrap();
    let line: Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(line["status"], "failed", "{line}");
}

/// What names no file among the model's files (a number, `null`, blank text, an object with
/// no URL) is said, after the files that are saved, as a file that cannot be fetched is (QA
/// repro51 F2: dropped, exit 0); `result --out` says the same (F3). Within a field of files,
/// an object's every key holds files (F8: `{"0": "/files/a.png"}` was "names no file").
#[test]
fn what_names_no_file_among_the_models_files_is_not_saved_and_said() {
    let server = api(
        |id, _| {
            let images = match id {
                "job-1" => j!(["/files/a.png", 5, null, {"x": 1}, " "]),
                "job-2" => j!({"0": "/files/a.png", "1": "/files/b.png"}),
                _ => j!(["/files/a.png", null, "/files/cut.png"]),
            };
            succeeded_of_model(j!({"images": images}))
        },
        |seen| match seen.path.as_str() {
            "/files/cut.png" => {
                let mut cut = png();
                cut.truncate(cut.len() - 12);
                file("image/png", cut)
            }
            _ => file("image/png", png()),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "out", "--json"]);
    assert_code(&output, 69);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_saved", "{report}");
    assert_eq!(report["files"].as_array().unwrap().len(), 1, "{report}");
    let err = stderr(&output);
    assert!(
        err.contains("`images[1]` names no file (and 3 other places)"),
        "{err}"
    );
    // Asking again cannot mend it, and is not offered (QA repro53 N5).
    assert!(!err.contains("fetches the rest"), "{err}");
    let output = cli(&server, dir.path())
        .args(["result", "job-1", "--out", "again"])
        .output()
        .unwrap();
    assert_code(&output, 69);
    assert!(stderr(&output).contains("`images[1]` names no file"));
    // job-2: both files of the object are saved.
    let output = run(&server, dir.path(), &["--out", "map", "--json"]);
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["files"].as_array().unwrap().len(), 2, "{report}");
    // job-3: beside a file cut short, which a later fetch may mend, the place naming no file
    // decides, and both are said (QA repro53 N1: exit 3, the null unsaid).
    let output = run(&server, dir.path(), &["--out", "cut"]);
    assert_code(&output, 69);
    let err = stderr(&output);
    assert!(
        err.contains("`images[1]` names no file") && err.contains("1 more file not saved"),
        "{err}"
    );
}

/// Files not saved for different reasons give one verdict whatever their order, the one a
/// later fetch cannot mend (a 404: 69, not a cut file's 3), and each is counted (QA repro51
/// F4, F5: the first in order decided, and the others went unsaid).
#[test]
fn files_not_saved_for_several_reasons_give_one_verdict_whatever_their_order() {
    for order in [["gone", "cut"], ["cut", "gone"]] {
        let server = api(
            move |_, _| {
                let images: Vec<String> = ["good"]
                    .iter()
                    .chain(&order)
                    .map(|name| format!("/files/{name}.png"))
                    .collect();
                succeeded(j!({ "images": images }))
            },
            |seen| match seen.path.as_str() {
                "/files/gone.png" => json(404, j!({})),
                // Whole as its length says, but no PNG ends so: a file cut short.
                "/files/cut.png" => {
                    let mut cut = png();
                    cut.truncate(cut.len() - 12);
                    file("image/png", cut)
                }
                _ => file("image/png", png()),
            },
        );
        let dir = tempfile::tempdir().unwrap();
        let output = run(&server, dir.path(), &["--out", "out", "--json"]);
        assert_code(&output, 69);
        let err = stderr(&output);
        assert!(err.contains("HTTP 404"), "{order:?}: {err}");
        assert!(
            err.contains("and 1 more file not saved") && err.contains("1 other file saved"),
            "{order:?}: {err}"
        );
    }
}

/// `result` without `--out` lists each file where it is fetched from: a path output is on the
/// API's origin (QA repro35 L4: `/files/a.png` was shown bare).
#[test]
fn result_lists_a_path_output_as_the_url_it_is_fetched_from() {
    let server = api(
        |_, _| succeeded(j!({"images": ["/files/a.png"]})),
        |_| file("image/png", png()),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = cli(&server, dir.path())
        .args(["result", "job-1"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_eq!(
        stdout(&output).trim(),
        format!("{}/files/a.png", server.base_url()),
        "{}",
        stderr(&output)
    );
    // And a run's `--json` files say where each came from (QA repro38 N11: the bare path).
    let output = run(&server, dir.path(), &["--out", "out", "--json"]);
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["files"][0]["url"],
        format!("{}/files/a.png", server.base_url()),
        "{report}"
    );
}

/// A cost stated in a form that is not US dollars (another currency, a negative, one too
/// large) is said as the server wrote it, and kept in the record, not taken for "not said".
#[test]
fn a_cost_stated_unreadably_is_said_and_kept() {
    let server = api(
        |_, base| {
            let mut reply = succeeded(j!({"images": [format!("{base}/0.png")]}));
            reply["cost"] = j!("0.5 EUR");
            reply
        },
        |_| file("image/png", png()),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "out"]);
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(
        err.contains("the server said it cost \"0.5 EUR\", which is not an amount of US dollars"),
        "{err}"
    );
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("out/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["cost_usd"], Value::Null);
    assert_eq!(record["cost_unread"], "\"0.5 EUR\"");
    // Where it ran and what wrote it.
    assert_eq!(record["server"], format!("{}/", server.base_url()));
    assert!(record["runcomfy_version"].is_string(), "{record}");
    // In every `--json` object and from `result` too, not `cost_usd: null` alone, which reads
    // as a job that stated no cost (QA repro33 F2).
    let output = run(&server, dir.path(), &["--out", "again", "--json"]);
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cost_unread"], "\"0.5 EUR\"", "{report}");
    let id = report["request_id"].as_str().unwrap().to_owned();
    let output = cli(&server, dir.path())
        .args(["result", &id, "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cost_unread"], "\"0.5 EUR\"", "{report}");
    let output = cli(&server, dir.path())
        .args(["result", &id])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("the server said it cost \"0.5 EUR\""),
        "{}",
        stderr(&output)
    );
    // And when `result --out`'s download fails, its `not_saved` object keeps it (QA repro35
    // L5: `{"status": "error"}` with no cost).
    let broken = api(
        |_, base| {
            let mut reply = succeeded(j!({"images": [format!("{base}/gone.png")]}));
            reply["cost"] = j!("0.5 EUR");
            reply
        },
        |_| json(404, j!({})),
    );
    let output = cli(&broken, dir.path())
        .args(["result", "job-1", "--out", "gone", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 69);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "not_saved", "{report}");
    assert_eq!(report["cost_unread"], "\"0.5 EUR\"", "{report}");
    assert_eq!(report["files"], j!([]), "{report}");
    // `result --out` keeps it in the record it completes too (QA repro39 F4).
    let output = cli(&server, dir.path())
        .args(["result", "job-1", "--out", "fetched"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("fetched/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["cost_unread"], "\"0.5 EUR\"", "{record}");
    // A batch's report, summary and gallery say it too, not "spent: $0.00" (QA repro35 M1).
    let output = batch(&server, dir.path(), &["a fox", "a cat"], &[]);
    assert_code(&output, 0);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(
        text.contains("2 jobs said what they cost in a form this runcomfy cannot read"),
        "{text}"
    );
    let report = std::fs::read_to_string(dir.path().join("shots/report.jsonl")).unwrap();
    for line in report.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["cost_unread"], "\"0.5 EUR\"", "{line}");
    }
    let gallery = std::fs::read_to_string(dir.path().join("shots/gallery.html")).unwrap();
    assert!(
        gallery.contains("not US dollars this runcomfy can read"),
        "{gallery}"
    );
    let output = cli(&server, dir.path())
        .args(["batch", "--resume", "shots", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["cost_unread_jobs"], 2, "{summary}");
}

/// A rate the API marks as a floor under RunComfy's own name for it (`pricing_mode`), or
/// prices some way this client does not know, is no estimate: `--max-cost` refuses.
#[test]
fn a_floor_price_or_an_unknown_pricing_gives_no_estimate() {
    for (word, key, says) in [
        ("base", "pricing_mode", "a base price"),
        (
            "tiered",
            "pricing",
            "priced some way this runcomfy does not know",
        ),
    ] {
        let server = Hostile::start_in_background(move |seen, _| {
            if seen.path.starts_with("/v1/models/") && seen.method == "GET" {
                let mut price =
                    j!({"model_id": MODEL, "base_price_usd": 0.03, "price_unit": "output"});
                price[key] = j!(word);
                json(200, price)
            } else {
                json(500, j!({"error_code": 500001, "error_message": "no"}))
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let output = run(&server, dir.path(), &["--max-cost", "1"]);
        assert_code(&output, 4);
        assert!(
            stderr(&output).contains(says),
            "{word}: {}",
            stderr(&output)
        );
        assert_eq!(server.count("POST", ""), 0, "{word}: nothing sent");
    }
}

/// A batch stopped by the server (no balance) after a line's submit may have been accepted
/// exits 3, not the stop's own code: that line must not be retried blindly.
#[test]
fn a_batch_stopped_with_an_unknown_line_exits_as_unknown() {
    let submits = AtomicUsize::new(0);
    let server = Hostile::start_in_background(move |seen, _| {
        if seen.method == "POST" && seen.path.starts_with("/v1/models/") {
            match submits.fetch_add(1, Ordering::Relaxed) {
                0 => json(500, j!({"error_code": 500001, "error_message": "internal"})),
                _ => json(
                    402,
                    j!({"error_code": 400002, "error_message": "Insufficient balance"}),
                ),
            }
        } else {
            json(404, j!({"error_code": 404001, "error_message": "no"}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = batch(
        &server,
        dir.path(),
        &["a fox", "a cat"],
        &["--concurrency", "1"],
    );
    assert_code(&output, 3);
    let err = stderr(&output);
    // The kind of error is said once, though the server says it too.
    assert!(
        err.contains("the batch stopped: refused by the server: Insufficient balance (HTTP 402"),
        "{err}"
    );
    assert_eq!(server.count("POST", ""), 2);
}

/// A job that cost more than `--max-cost` (which only its estimate could be held to) is
/// warned of.
#[test]
fn a_cost_above_max_cost_is_warned_of() {
    let server = Hostile::start_in_background(|seen, base| {
        let path = seen.path.as_str();
        match (seen.method.as_str(), path) {
            ("GET", p) if p.starts_with("/v1/models/") => json(
                200,
                j!({"model_id": MODEL, "base_price_usd": 0.03, "price_unit": "output", "pricing": "fixed"}),
            ),
            ("POST", p) if p.starts_with("/v1/models/") => json(200, j!({"request_id": "job-1"})),
            (_, p) if p.starts_with("/v1/requests/") => {
                let mut reply = succeeded(j!({"images": [format!("{base}/0.png")]}));
                reply["cost"] = j!(0.27);
                json(200, reply)
            }
            _ => file("image/png", png()),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--max-cost", "0.10"]);
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(err.contains("job-1: cost $0.27 (estimated $0.09)"), "{err}");
    assert!(
        err.contains("warning: job-1 cost more than --max-cost $0.10"),
        "{err}"
    );
}

/// A submit that may have been accepted (and billed) with no request id leaves a record of
/// what was sent, where and when, to match a charge by; `--json` names it, with the estimate.
#[test]
fn a_submit_of_unknown_outcome_leaves_a_record() {
    let server = Hostile::start_in_background(|seen, _| {
        if seen.method == "POST" {
            json(500, j!({"error_code": 500001, "error_message": "internal"}))
        } else {
            json(404, j!({"error_code": 404001, "error_message": "no"}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "out", "--json"]);
    assert_code(&output, 3);
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["status"], "unknown");
    assert_eq!(report["record"], "out/runcomfy-record.json");
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("out/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["request_id"], Value::Null);
    assert_eq!(record["model"], MODEL);
    assert_eq!(record["input"]["text"], "Generate 2 images of a fox.");
    assert!(record["timings"]["submitted"].is_string(), "{record}");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("may have been accepted"),
        "{record}"
    );
    assert_eq!(server.count("POST", ""), 1, "never sent again");
}

/// A token echoed back percent-encoded (a URL built from it), cut short, or base64-encoded is
/// the token all the same: never printed, never written.
#[test]
fn a_token_echoed_encoded_or_cut_short_is_never_shown() {
    const SECRET: &str = "sk+Q7rT/x9Lm2=Kp4";
    let server = Hostile::start_in_background(|seen, base| {
        let token = seen.token().unwrap_or_default();
        let encoded: String = token
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let cut = token.get(..token.len() - 1).unwrap_or_default().to_owned();
        let path = seen.path.as_str();
        if seen.method == "POST" && path.starts_with("/v1/models/") {
            json(200, j!({"request_id": "job-1"}))
        } else if path.starts_with("/v1/requests/") {
            json(
                200,
                j!({"status": "succeeded", "output": {
                    "images": [format!("{base}/0.png?sig={encoded}")],
                    "caption": format!("made for {cut}"),
                    // `x` and the token, in base64.
                    "note": "eHNrK1E3clQveDlMbTI9S3A0",
                }}),
            )
        } else {
            file("image/png", png())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = runcomfy(dir.path())
        .env("RUNCOMFY_TOKEN", SECRET)
        .args(["--base-url", server.base_url(), "-vv", "run", MODEL])
        .args(["--text", "a fox", "--out", "out", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let shown = format!("{}{}", stdout(&output), stderr(&output))
        + &std::fs::read_to_string(dir.path().join("out/runcomfy-record.json")).unwrap();
    for echo in ["Q7rT", "Q7rT%2Fx9Lm2", "x9Lm2", "E3clQveDlMbTI9"] {
        assert!(!shown.contains(echo), "{echo} in {shown}");
    }
    assert!(shown.contains("[redacted]"), "{shown}");
}

/// A job the server says has finished, with no output to give, is not cancelled at the
/// deadline as if it were queued: exit 3 (it ran, and may be billed), never 75.
#[test]
fn a_job_said_finished_without_output_is_not_cancelled_as_queued() {
    let server = Hostile::start_in_background(|seen, _| {
        let path = seen.path.as_str();
        if seen.method == "POST" && path.starts_with("/v1/models/") {
            json(200, j!({"request_id": "job-1"}))
        } else if path.ends_with("/cancel") {
            json(
                202,
                j!({"request_id": "job-1", "status": "cancelled", "outcome": "cancelled"}),
            )
        } else if path.starts_with("/v1/requests/") {
            json(200, j!({"request_id": "job-1", "status": "succeeded"}))
        } else {
            json(404, j!({}))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--timeout", "4s"]);
    assert_code(&output, 3);
    assert!(
        !stderr(&output).contains("still queued"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.count("POST", "/cancel"), 0);
}

/// A file an output gives inline, as a `data:` URI, is saved as a fetched one is, with the
/// same checks; a malformed one fails the download (69), where a run said "saved 0 files".
#[test]
fn files_given_inline_are_saved_and_malformed_ones_refused() {
    let server = api(
        |id, _| match id {
            "job-1" => succeeded(j!({"images": [
                "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAAAAAAAAAAAAAElFTkSuQmCC"
            ]})),
            _ => succeeded(j!({"images": ["data:image/png;base64,not*base64"]})),
        },
        |_| json(404, j!({})),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = run(&server, dir.path(), &["--out", "out"]);
    assert_code(&output, 0);
    assert_eq!(
        std::fs::read(dir.path().join("out/images-0.png")).unwrap(),
        png()
    );
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("out/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert!(
        record["files"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png (inline"),
        "{record}"
    );

    let output = run(&server, dir.path(), &["--out", "bad"]);
    assert_code(&output, 69);
    assert!(
        stderr(&output).contains("a malformed data: URI"),
        "{}",
        stderr(&output)
    );

    // A result larger than other replies, for a large file inline, is read (QA repro51 F1:
    // over 8 MiB it never was, and the job was "unfinished").
    let big = big_png();
    let inline = {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(&big);
        format!("data:image/png;base64,{data}")
    };
    let server = api(
        move |_, _| succeeded(j!({"images": [inline.clone()]})),
        |_| json(404, j!({})),
    );
    let output = run(&server, dir.path(), &["--out", "big"]);
    assert_code(&output, 0);
    assert_eq!(
        std::fs::read(dir.path().join("big/images-0.png")).unwrap(),
        big
    );
}

/// A PNG of about 12 MB: [`png`] with a text chunk that large before its end.
fn big_png() -> Vec<u8> {
    let mut bytes = png();
    let text = vec![b'a'; 12_000_000];
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(&text);
    chunk.extend_from_slice(&[0; 4]);
    let end = bytes.len() - 12;
    bytes.splice(end..end, chunk);
    bytes
}

/// A server that answers two lines' submits with one request id: which input that job ran is
/// not known, so neither line is taken for its owner. The second is `unknown`; the first is
/// too if it still waited, and otherwise keeps its files with the doubt as its reason.
#[test]
fn one_request_id_for_two_lines_leaves_neither_as_its_owner() {
    let server = Hostile::start_in_background(|seen, base| {
        let path = seen.path.as_str();
        if seen.method == "POST" && path.starts_with("/v1/models/") {
            json(200, j!({"request_id": "job-1"}))
        } else if path.starts_with("/v1/requests/") {
            json(200, succeeded(j!({"images": [format!("{base}/0.png")]})))
        } else {
            file("image/png", png())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = batch(
        &server,
        dir.path(),
        &["a fox", "a cat"],
        &["--concurrency", "2"],
    );
    assert_code(&output, 3);
    let report = std::fs::read_to_string(dir.path().join("shots/report.jsonl")).unwrap();
    let lines: Vec<Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &lines {
        let doubted = line["status"] == "unknown"
            || line["reason"]
                .as_str()
                .is_some_and(|r| r.contains("which line's input that job ran is not known"));
        assert!(doubted, "{line}");
    }
}

/// A request the server says it does not know moments after accepting it (a replica not yet
/// caught up) is polled again, not failed as an expired one: the line's paid job is fetched.
#[test]
fn a_batch_line_whose_new_job_is_not_found_once_is_polled_again() {
    let reads = AtomicUsize::new(0);
    let server = Hostile::start_in_background(move |seen, base| {
        if seen.method == "POST" && seen.path.starts_with("/v1/models/") {
            json(200, j!({"request_id": "job-1"}))
        } else if seen.path.starts_with("/v1/requests/") {
            if reads.fetch_add(1, Ordering::Relaxed) == 0 {
                json(
                    404,
                    j!({"error_code": 404001, "error_message": "request not found"}),
                )
            } else {
                json(
                    200,
                    succeeded(j!({"images": [format!("{base}/job-1.png")]})),
                )
            }
        } else if seen.path == "/job-1.png" {
            file("image/png", png())
        } else {
            json(
                404,
                j!({"error_code": 404001, "error_message": "no such model"}),
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = batch(&server, dir.path(), &["a fox"], &[]);
    assert_code(&output, 0);
    let text = stderr(&output);
    assert!(text.contains("submitted moments ago"), "{text}");
    assert_eq!(server.count("POST", ""), 1);
    assert!(
        dir.path()
            .join("shots")
            .join("line-1")
            .join("images-0.png")
            .is_file()
    );
}

/// A proxy the environment names is not used for an API on this machine: over plain http it
/// would read the token, and it cannot reach this machine's loopback (a `--mock` run's prompt
/// would go to it too).
#[test]
fn an_api_on_this_machine_is_never_reached_through_a_proxy() {
    let proxy = Hostile::start_in_background(|_, _| json(502, j!({"error": "proxy"})));
    let server = api(
        |_, base| succeeded(j!({"images": [format!("{base}/0.png")]})),
        |_| file("image/png", png()),
    );
    let proxied = |cmd: &mut assert_cmd::Command| {
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env(var, proxy.base_url());
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = cli(&server, dir.path());
    proxied(&mut cmd);
    let output = cmd
        .args(["run", MODEL, "--text", "a fox"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let mut cmd = runcomfy(dir.path());
    proxied(&mut cmd);
    let output = cmd
        .args(["--mock", "run", MODEL, "--text", "a fox", "--out", "mock"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen().len());
}

/// A base URL with a path (`.../v1`) gets every call's path after it: its 404 says so, and `-v`
/// shows each call's URL and status.
#[test]
fn a_base_url_with_a_path_is_named_in_its_404() {
    let server = Hostile::start_in_background(|_, _| {
        json(
            404,
            j!({"error_code": 404001, "error_message": "not found"}),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}/v1", server.base_url());
    let output = runcomfy(dir.path())
        .env("RUNCOMFY_TOKEN", TOKEN)
        .args(["-v", "--base-url", &base, "run", MODEL, "--text", "a fox"])
        .output()
        .unwrap();
    assert_code(&output, 65);
    let err = stderr(&output);
    assert!(err.contains("the base URL has a path (/v1)"), "{err}");
    assert!(
        err.contains("/v1/v1/models/") && err.contains("404"),
        "{err}"
    );
}
