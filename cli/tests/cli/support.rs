//! Helpers: the binary with a clean environment, a simulator on a runtime of its own, PNGs.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use runcomfy_simulator::{RunTime, SimConfig, Simulator, Stats};

/// The token the test simulators accept.
pub const TOKEN: &str = "test-token-8f3a91c2d7";

/// `runcomfy` run in `dir`, with none of the caller's RunComfy settings.
pub fn runcomfy(dir: &Path) -> Command {
    bounded(runcomfy_process(dir))
}

/// A process as a test command that is killed if it runs past two minutes (a hang fails the
/// test instead of stalling the suite).
fn bounded(process: std::process::Command) -> Command {
    let mut cmd = Command::from_std(process);
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// [`runcomfy`] as a plain process, for tests that spawn and kill it.
pub fn runcomfy_process(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_runcomfy"));
    cmd.current_dir(dir)
        .env_remove("RUNCOMFY_TOKEN")
        .env_remove("RUNCOMFY_BASE_URL")
        .env_remove("RUNCOMFY_MODEL_API_BASE")
        .env_remove("RUST_LOG")
        // Off, so no test reads or writes the run times cached in the user's home.
        .env("RUNCOMFY_CACHE_DIR", "")
        // Nor the token `runcomfy login` saved there.
        .env("RUNCOMFY_CONFIG_DIR", dir.join("no-config"));
    cmd
}

/// A simulator on its own multi-threaded runtime, so it serves while a test blocks on the CLI.
pub struct Sim {
    pub sim: Simulator,
    // Dropped after `sim`: the simulator's tasks live on it.
    _runtime: tokio::runtime::Runtime,
}

impl Sim {
    /// Starts a simulator that accepts [`TOKEN`] only.
    pub fn start(config: SimConfig) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = runtime
            .block_on(Simulator::start(SimConfig {
                token: Some(TOKEN.into()),
                ..config
            }))
            .unwrap();
        Sim {
            sim,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        self.sim.base_url()
    }

    pub fn stats(&self) -> Stats {
        self.sim.stats()
    }

    /// A simulator whose jobs each run `run_time`, otherwise defaults.
    pub fn running(run_time: Duration) -> Sim {
        Sim::start(SimConfig {
            run_time: RunTime::Fixed(run_time),
            ..SimConfig::default()
        })
    }

    /// `runcomfy ARGS` against the simulator, in `dir`, run to its end.
    pub fn output(&self, dir: &Path, args: &[&str]) -> Output {
        self.runcomfy(dir).args(args).output().unwrap()
    }

    /// `runcomfy --base-url <sim>` with the right token.
    pub fn runcomfy(&self, dir: &Path) -> Command {
        bounded(self.process(dir))
    }

    /// [`Sim::runcomfy`] as a plain process, for tests that spawn and kill it.
    pub fn process(&self, dir: &Path) -> std::process::Command {
        let mut cmd = runcomfy_process(dir);
        cmd.env("RUNCOMFY_TOKEN", TOKEN)
            .args(["--base-url", &self.url()]);
        cmd
    }
}

/// The sha256 of `bytes`, in lowercase hex, as records and reports write it.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes an RGB PNG of `width` x `height`.
pub fn write_png(path: &Path, width: u32, height: u32) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let data = vec![0x80u8; (width * height * 3) as usize];
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
}

/// The PNG files in `dir`, sorted, with their dimensions.
pub fn pngs(dir: &Path) -> Vec<(String, usize, usize)> {
    let mut out: Vec<(String, usize, usize)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .map(|p| {
            let size = imagesize::size(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, size.width, size.height)
        })
        .collect();
    out.sort();
    out
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing the output when it differs.
pub fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// The request id a `run --no-wait` printed.
pub fn submit_no_wait(sim: &Sim, dir: &Path, text: &str) -> String {
    let output = sim
        .runcomfy(dir)
        .args([
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            text,
            "--no-wait",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let id = stdout(&output).trim().to_owned();
    assert!(!id.is_empty());
    id
}

/// A simulator whose one worker a first job keeps busy for 30 s, and a second job queued
/// behind it: its request id.
pub fn queued_behind_a_busy_worker(dir: &Path) -> (Sim, String) {
    let sim = Sim::start(SimConfig {
        workers: 1,
        run_time: RunTime::Fixed(Duration::from_secs(30)),
        ..SimConfig::default()
    });
    submit_no_wait(&sim, dir, "Generate 3 images of a red barn.");
    let queued = submit_no_wait(&sim, dir, "Generate 3 images of a blue barn.");
    (sim, queued)
}
