//! `runcomfy-simulator`: serves a local RunComfy Model API until interrupted.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::Parser;
use runcomfy::price::Price;
use runcomfy_simulator::{Faults, RunTime, SimConfig, Simulator, parse_bytes, parse_price};

/// A local simulator of RunComfy's Model API on 127.0.0.1. Prints its base URL when ready.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The accepted bearer token; without it any bearer token is accepted.
    #[arg(long, env = "RUNCOMFY_SIM_TOKEN")]
    token: Option<String>,
    /// Jobs running at once; the others queue.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Run time of a job: `500ms`, `2s`, or a range `2s..10s` (seeded draw).
    #[arg(long, default_value = "1s..3s")]
    run_time: RunTime,
    /// Run time of one model, overriding --run-time (repeatable): `MODEL=2s..4s`.
    #[arg(long = "model-run-time", value_name = "MODEL=TIME")]
    model_run_time: Vec<String>,
    /// Seed of every random choice (ids, run times, failures, faults, images).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Faults per endpoint: `submit=0.05,status=0.2,result=0.2,download=0.2`; kinds may follow
    /// a colon: `status=0.2:500+503+429=2+reset+slow=3s+malformed+truncated+error200`,
    /// `submit=0.1:dropped`.
    #[arg(long, default_value = "")]
    faults: Faults,
    /// Fraction of jobs that fail (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Pad every output file to this size, as its format allows (for download tests):
    /// `20MB`, `20MiB`, `1500`.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    output_bytes: Option<u64>,
    /// The price of one model (repeatable): `MODEL=0.03/output`, `MODEL=0.1/second:base`.
    #[arg(long = "price", value_name = "MODEL=PRICE")]
    prices: Vec<String>,
    /// The price of models with no rate of their own or in the catalog: `0.03/output`.
    #[arg(long, value_name = "PRICE")]
    default_price: Option<String>,
    /// Serve every model id the catalog lacks too, taking any object as its input (for
    /// `runcomfy run MODEL --unchecked`).
    #[arg(long)]
    any_model: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let config = match config_of(cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

/// Logs on stderr, `RUST_LOG` or `info`.
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal, not in a redirected log.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The simulator's settings from the command line, or what is wrong with it.
fn config_of(cli: Cli) -> Result<SimConfig, String> {
    let default_price = cli
        .default_price
        .as_deref()
        .map(parse_price)
        .transpose()
        .map_err(|err| format!("--default-price: {err}"));
    Ok(SimConfig {
        model_run_time: model_run_times(&cli.model_run_time)?,
        prices: prices(&cli.prices)?,
        default_price: default_price?,
        port: cli.port,
        token: cli.token,
        workers: cli.workers,
        run_time: cli.run_time,
        seed: cli.seed,
        fail_rate: cli.fail_rate,
        output_bytes: cli.output_bytes,
        faults: cli.faults,
        any_model: cli.any_model,
        ..SimConfig::default()
    })
}

/// `--model-run-time MODEL=TIME`s, by model.
fn model_run_times(items: &[String]) -> Result<HashMap<String, RunTime>, String> {
    let mut times = HashMap::new();
    for item in items {
        let Some((model, time)) = item.split_once('=') else {
            return Err(format!("--model-run-time {item:?}: expected MODEL=TIME"));
        };
        let time = time
            .parse::<RunTime>()
            .map_err(|err| format!("--model-run-time: {err}"))?;
        times.insert(model.to_owned(), time);
    }
    Ok(times)
}

/// `--price MODEL=PRICE`s, by model.
fn prices(items: &[String]) -> Result<HashMap<String, Price>, String> {
    let mut prices = HashMap::new();
    for item in items {
        let (model, price) = item
            .split_once('=')
            .ok_or_else(|| format!("--price {item:?}: expected MODEL=PRICE"))?;
        let price = parse_price(price).map_err(|e| e.to_string())?;
        prices.insert(model.to_owned(), price);
    }
    Ok(prices)
}

/// Serves until Ctrl-C, the base URL the one line on stdout.
async fn serve(config: SimConfig) -> ExitCode {
    let sim = match Simulator::start(config).await {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The one line on stdout, so scripts can read the URL.
    println!("{}", sim.base_url());
    let _ = std::io::stdout().flush();
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {err}");
    }
    sim.shutdown().await;
    ExitCode::SUCCESS
}
