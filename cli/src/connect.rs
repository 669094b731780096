//! The client the commands use: the real API with a token, or `--mock`'s in-process simulator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ArgMatches;
use runcomfy::Client;
use runcomfy::dynamic::DynJob;
use runcomfy::poll::{AdaptivePolling, PollPolicy};
use runcomfy_simulator::{RunTime, SimConfig, Simulator};

use crate::exit::CliError;
use crate::history::{HistoryCache, Recent};

/// A client, and the simulator behind it with `--mock` (kept alive as long as the client).
#[derive(Debug)]
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The in-process simulator, with `--mock`.
    pub simulator: Option<Simulator>,
    /// Where the client's run times are saved when done (not with `--mock`, whose run times
    /// are not the server's).
    history: Option<HistoryCache>,
    /// The jobs submitted lately, as the cache had them.
    recent: Recent,
}

impl Connection {
    /// The server as records and journals name it: `mock` for the in-process simulator (nothing
    /// is billed), else the API's base URL.
    pub fn server(&self) -> String {
        match self.simulator {
            Some(_) => "mock".to_owned(),
            None => self.client.base_url().to_string(),
        }
    }

    /// For commands that submit or wait on jobs: starts from the run times cached for this
    /// server, and adds the ones learned at [`Connection::close`]. Not
    /// with `--mock`.
    pub fn remember_run_times(&mut self) {
        if self.simulator.is_some() || self.history.is_some() {
            return;
        }
        self.history = HistoryCache::for_client(&self.client);
        if let Some(cache) = &self.history {
            self.recent = cache.load_into(&self.client);
        }
    }

    /// Keeps `job`'s record for a later command on it (`result --wait`), if run times are
    /// remembered: in the cache at once, so a command killed while it waits loses nothing.
    pub fn submitted(&self, job: &DynJob) {
        if let Some(cache) = &self.history {
            cache.save_job(job.record());
        }
    }

    /// Keeps where `job`'s provenance record was written, for a later command that saves its
    /// files into another folder (`result ID --out DIR`), if run times are remembered.
    pub fn recorded(&self, job: &DynJob, path: &Path) {
        if let Some(cache) = &self.history {
            // At once, as the job: a command killed later still has it found.
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            cache.save_record(job.id(), path);
        }
    }

    /// Where a command that submitted job `request_id` wrote its provenance record, if the
    /// cache says.
    pub fn record_of(&self, request_id: &str) -> Option<&Path> {
        self.recent.records.get(request_id).map(PathBuf::as_path)
    }

    /// Job `request_id`: from the record a command that submitted it kept (once run times are
    /// remembered), else from its id alone (its model and submit time unknown).
    pub fn job(&self, request_id: &str) -> DynJob {
        let record = self
            .recent
            .jobs
            .iter()
            .rev()
            .find(|r| r.request_id == request_id);
        // A model the catalog lacks was run unchecked.
        let resumed = record.and_then(|record| {
            let model = runcomfy::catalog::find(&record.model_id)
                .or_else(|| runcomfy::unchecked::unchecked(&record.model_id).ok())?;
            self.client.resume_model(model, record).ok()
        });
        resumed.unwrap_or_else(|| self.client.job_json(request_id))
    }

    /// Saves the run times learned, and stops the simulator, if any.
    pub async fn close(self) {
        if let Some(cache) = &self.history {
            cache.save_learned(&self.client);
        }
        if let Some(sim) = self.simulator {
            sim.shutdown().await;
        }
    }
}

/// The user agent sent with every request.
const USER_AGENT: &str = concat!("runcomfy-cli/", env!("CARGO_PKG_VERSION"));

/// The base URL given: `--base-url`, else `RUNCOMFY_BASE_URL` (clap reads it into the flag),
/// else `RUNCOMFY_MODEL_API_BASE`; none means the default.
pub fn base_url(matches: &ArgMatches) -> Option<String> {
    let given = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    matches
        .get_one::<String>("base_url")
        .and_then(|base| given(base))
        .or_else(|| given(&std::env::var(runcomfy::client::MODEL_API_BASE_ENV).ok()?))
}

/// `--poll-secs`: a fixed interval instead of the learned schedule.
pub fn poll_secs(matches: &ArgMatches) -> Option<Duration> {
    matches.get_one::<Duration>("poll_secs").copied()
}

/// Connects as [`connect`] does; with `unchecked` (`--unchecked`), `--mock`'s simulator serves
/// the models the catalog lacks too, as it would any other.
pub async fn connect_unchecked(
    matches: &ArgMatches,
    unchecked: bool,
) -> Result<Connection, CliError> {
    if matches.get_flag("mock") && unchecked {
        let config = SimConfig {
            any_model: true,
            ..mock_config()
        };
        return mock(config, poll_secs(matches)).await;
    }
    connect(matches).await
}

/// Connects as the global flags say.
pub async fn connect(matches: &ArgMatches) -> Result<Connection, CliError> {
    if matches.get_flag("mock") {
        return mock(mock_config(), poll_secs(matches)).await;
    }
    let token = crate::token::token(matches)?;
    Ok(Connection {
        client: client_with(matches, token)?,
        simulator: None,
        history: None,
        recent: Recent::default(),
    })
}

/// The client of the real API with `token`, as the global flags say (base URL, poll interval,
/// output hosts).
pub fn client_with(matches: &ArgMatches, token: String) -> Result<Client, CliError> {
    let mut builder = Client::builder().token(token).user_agent(USER_AGENT);
    if let Some(base) = base_url(matches) {
        builder = builder.base_url(base);
    }
    if let Some(every) = poll_secs(matches) {
        builder = builder.poll_policy(PollPolicy::fixed(every));
    }
    for host in matches
        .get_many::<String>("allow_output_host")
        .into_iter()
        .flatten()
    {
        builder = match host.trim() {
            "*" => builder.allow_any_output_host(),
            host => builder.allow_output_host(host),
        };
    }
    Ok(builder.build()?)
}

/// `--mock`'s simulator: run times short enough to try things and long enough to see the
/// progress, a new seed each run, and a made-up price ([`MOCK_PRICE`]) for every model the
/// catalog gives no rate (a catalog's `base` pricing stays: those have no estimate).
pub fn mock_config() -> SimConfig {
    SimConfig {
        run_time: RunTime::Range(Duration::from_secs(1), Duration::from_secs(2)),
        seed: seed(),
        default_price: runcomfy_simulator::parse_price(MOCK_PRICE).ok(),
        ..SimConfig::default()
    }
}

/// `--mock`'s price of models the catalog gives no rate: simulated, not RunComfy's.
pub const MOCK_PRICE: &str = "0.03/output";

/// Starts the simulator (a [`mock_config`], perhaps adjusted) on a free loopback port and
/// connects to it, polling to suit its run times, or every `poll_every` (`--poll-secs`).
pub async fn mock(config: SimConfig, poll_every: Option<Duration>) -> Result<Connection, CliError> {
    let sim = Simulator::start(config).await?;
    // Jobs of 1-2 s: poll often enough to notice the end within a few hundred ms.
    let polling = AdaptivePolling::default()
        .with_cold(Duration::from_millis(250), Duration::from_millis(250));
    let client = Client::builder()
        .token("mock")
        .base_url(sim.base_url())
        .user_agent(USER_AGENT)
        .poll_policy(poll_every.map_or(PollPolicy::Adaptive(polling), PollPolicy::fixed))
        .build()?;
    tracing::info!(base_url = %sim.base_url(), "simulator started (--mock)");
    Ok(Connection {
        client,
        simulator: Some(sim),
        history: None,
        recent: Recent::default(),
    })
}

/// A different seed each run, so request ids and images differ between runs (a saved state
/// brings its own, so ids continue).
fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
