//! `runcomfy login`/`logout` and the saved token: checked before it is saved, saved for this
//! user only, read after `--token-file` and `RUNCOMFY_TOKEN`, never shown.

use std::path::Path;

use runcomfy_simulator::SimConfig;

use crate::support::{Sim, TOKEN, assert_code, runcomfy, stderr, stdout};

const MODEL: &str = "bytedance/seedream-4-0/sequential";

/// `runcomfy` with its saved token in `config`.
fn with_config(dir: &Path, config: &Path) -> assert_cmd::Command {
    let mut cmd = runcomfy(dir);
    cmd.env("RUNCOMFY_CONFIG_DIR", config);
    cmd
}

#[test]
fn login_checks_the_token_saves_it_privately_and_later_commands_use_it() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let saved = config.join("token.json");

    // A token the API refuses is not saved.
    let output = with_config(dir.path(), &config)
        .args(["--base-url", &sim.url(), "login"])
        .write_stdin("not-the-token\n")
        .output()
        .unwrap();
    assert_code(&output, 77);
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
    assert!(!saved.exists());

    let output = with_config(dir.path(), &config)
        .args(["--base-url", &sim.url(), "login"])
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("saved the token"),
        "{}",
        stdout(&output)
    );
    assert!(!format!("{}{}", stdout(&output), stderr(&output)).contains(TOKEN));
    // RunComfy's CLI's shape, so either tool reads the other's login.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(json["access_token"], TOKEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&saved), 0o600);
        assert_eq!(mode(&config), 0o700);
    }

    // A whole run with no token given: the saved one is used, and never shown.
    let output = with_config(dir.path(), &config)
        .args(["--base-url", &sim.url(), "run", MODEL, "--text", "a fox"])
        .args(["--out", "out"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(!format!("{}{}", stdout(&output), stderr(&output)).contains(TOKEN));
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));

    // The saved file given as --token-file (RunComfy's CLI's users will): its token is used,
    // not its JSON sent as one.
    let output = runcomfy(dir.path())
        .args(["--base-url", &sim.url(), "--token-file"])
        .arg(&saved)
        .args(["run", MODEL, "--text", "a fox", "--out", "out2"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(!format!("{}{}", stdout(&output), stderr(&output)).contains(TOKEN));

    // RUNCOMFY_TOKEN comes first, and a refusal says where the token came from.
    let output = with_config(dir.path(), &config)
        .env("RUNCOMFY_TOKEN", "stale-token")
        .args(["--base-url", &sim.url(), "status", "some-id"])
        .output()
        .unwrap();
    assert_code(&output, 77);
    assert!(
        stderr(&output).contains("the token was read from RUNCOMFY_TOKEN"),
        "{}",
        stderr(&output)
    );

    // logout removes it; a second has nothing to remove; then there is no token.
    for said in ["removed the token", "no saved token"] {
        let output = with_config(dir.path(), &config)
            .arg("logout")
            .output()
            .unwrap();
        assert_code(&output, 0);
        assert!(stdout(&output).contains(said), "{}", stdout(&output));
    }
    let output = with_config(dir.path(), &config)
        .args(["--base-url", &sim.url(), "status", "some-id"])
        .output()
        .unwrap();
    assert_code(&output, 77);
    assert!(
        stderr(&output).contains("runcomfy login"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_saved_token_that_cannot_serve_is_an_error_naming_its_file_never_its_text() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    let saved = config.join("token.json");
    let secret = "half-written-secret-1234";
    for (text, said) in [
        (
            format!("{{\"access_token\": \"{secret}"),
            "not a saved token",
        ),
        (format!("{{\"token\": \"{secret}\"}}"), "not a saved token"),
        ("{\"access_token\": \"  \"}".to_owned(), "empty"),
        (
            format!("{{\"access_token\": \"{TOKEN}\", \"expires_at\": 1000}}"),
            "expired at 1970-01-01",
        ),
    ] {
        std::fs::write(&saved, text).unwrap();
        let output = with_config(dir.path(), &config)
            .args(["--base-url", &sim.url(), "status", "some-id"])
            .output()
            .unwrap();
        assert_code(&output, 77);
        let err = stderr(&output);
        assert!(err.contains(said) && err.contains("token.json"), "{err}");
        assert!(!err.contains(secret) && !err.contains(TOKEN), "{err}");
    }
    assert_eq!(sim.stats().status_calls, 0);

    // RunComfy's CLI's own file, with every key it writes, serves as is.
    std::fs::write(
        &saved,
        format!(
            "{{\"access_token\": \"{TOKEN}\", \"refresh_token\": \"r\", \"expires_at\": 4102444800, \
             \"user_email\": \"a@b.c\"}}"
        ),
    )
    .unwrap();
    let output = with_config(dir.path(), &config)
        .args(["--base-url", &sim.url(), "status", "some-id"])
        .output()
        .unwrap();
    // Known to the API, unknown job.
    assert_code(&output, 65);
}

#[cfg(unix)]
#[test]
fn a_token_file_others_can_read_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, TOKEN).unwrap();
    for (mode, warned) in [(0o644, true), (0o600, false)] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let output = runcomfy(dir.path())
            .args(["--base-url", &sim.url(), "--token-file", "token"])
            .args(["status", "some-id"])
            .output()
            .unwrap();
        assert_code(&output, 65);
        assert_eq!(
            stderr(&output).contains("other users can read or change the token file"),
            warned,
            "{}",
            stderr(&output)
        );
    }
}
