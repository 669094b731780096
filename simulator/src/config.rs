//! Configuration: ports, tokens, workers, run times, failures and faults.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use runcomfy::catalog::ModelInfo;
use runcomfy::price::{Price, PriceUnit, Pricing, Usd};

use crate::SimError;
use crate::fault::Faults;

/// Everything the simulator can be told at start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port on 127.0.0.1; 0 picks a free one (see [`crate::Simulator::base_url`]).
    pub port: u16,
    /// The one accepted bearer token; `None` accepts any token (a missing one is still 401).
    pub token: Option<String>,
    /// How many jobs run at once; the others wait in the queue.
    pub workers: usize,
    /// How long a job runs once a worker picks it up.
    pub run_time: RunTime,
    /// Per-model run times (by model id), overriding `run_time`.
    pub model_run_time: HashMap<String, RunTime>,
    /// Seed of every random choice: request ids, run times, failures, faults, image content.
    pub seed: u64,
    /// Fraction of jobs that fail (0 to 1), reported with an `error` object.
    pub fail_rate: f64,
    /// The size of every output file in bytes, for download tests and benchmarks: each file
    /// is padded, the way its format allows, to this size (a larger rendering is kept as it
    /// is). `None`: as rendered (PNGs of a few KiB).
    pub output_bytes: Option<u64>,
    /// Injected transport and HTTP faults.
    pub faults: Faults,
    /// Models served besides the compiled-in catalog (`runcomfy::catalog()`), for tests of
    /// models the catalog does not have; a catalog model with the same id wins.
    pub extra_models: Vec<&'static ModelInfo>,
    /// Serve every other model id too, taking any object as its input, as a model run
    /// [`unchecked`](runcomfy::unchecked) is sent (`--mock` of `run --unchecked`).
    pub any_model: bool,
    /// Keep jobs in this file, so a simulator started again on it still knows them (as the
    /// real API does when a client restarts). A file that exists also sets the seed.
    pub state_file: Option<PathBuf>,
    /// Prices by model id, served in the catalog and charged for jobs; what one leaves out
    /// comes from the catalog (`upstream.json`), then from `default_price`.
    pub prices: HashMap<String, Price>,
    /// The price of models that neither `prices` nor the catalog give a rate, unit or
    /// pricing (a catalog's `base` stays base).
    pub default_price: Option<Price>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            token: None,
            workers: 4,
            run_time: RunTime::Fixed(Duration::from_millis(50)),
            model_run_time: HashMap::new(),
            seed: 0,
            fail_rate: 0.0,
            output_bytes: None,
            faults: Faults::none(),
            extra_models: Vec::new(),
            any_model: false,
            state_file: None,
            prices: HashMap::new(),
            default_price: None,
        }
    }
}

impl SimConfig {
    /// Checks ranges that would otherwise make the simulator misbehave.
    pub fn check(&self) -> Result<(), SimError> {
        if self.workers == 0 {
            return Err(SimError::Config("workers must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(SimError::Config(format!(
                "fail rate must be within 0..1, not {}",
                self.fail_rate
            )));
        }
        for run_time in std::iter::once(&self.run_time).chain(self.model_run_time.values()) {
            if let RunTime::Range(lo, hi) = run_time
                && lo > hi
            {
                return Err(SimError::Config(format!(
                    "run time range {run_time} has its low end above its high end"
                )));
            }
        }
        Ok(())
    }
}

impl SimConfig {
    /// The price the simulator states and charges for `model`.
    pub fn price_of(&self, model: &ModelInfo) -> Price {
        let own = self.prices.get(model.id).cloned().unwrap_or_default();
        let price = own.or(&model.upstream.price);
        match &self.default_price {
            Some(default) => price.or(default),
            None => price,
        }
    }
}

/// Reads a price: `0.03/output`, `$0.1/second`, with `:base` or `:fixed` after it
/// (`0.05/second:base`).
pub fn parse_price(text: &str) -> Result<Price, SimError> {
    let bad = |reason: &str| {
        SimError::Config(format!(
            "price `{text}`: {reason} (write it as 0.03/output, 0.1/second or 0.05/second:base)"
        ))
    };
    let (rest, pricing) = match text.rsplit_once(':') {
        Some((rest, word)) => (
            rest,
            Some(Pricing::parse(word).ok_or_else(|| bad("pricing is fixed or base"))?),
        ),
        None => (text, None),
    };
    let (usd, unit) = rest.split_once('/').ok_or_else(|| bad("no unit"))?;
    let usd: Usd = usd.parse().map_err(|_| bad("not an amount of dollars"))?;
    let unit = PriceUnit::parse(unit).ok_or_else(|| bad("the unit is output or second"))?;
    Ok(Price {
        usd: Some(usd),
        unit: Some(unit),
        pricing,
        note: None,
    })
}

/// How long a job runs: always the same, or drawn (seeded) within an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTime {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly within `low..=high`.
    Range(Duration, Duration),
}

impl RunTime {
    /// The run time for a random draw `bits`.
    pub(crate) fn pick(&self, bits: u64) -> Duration {
        match *self {
            RunTime::Fixed(d) => d,
            RunTime::Range(lo, hi) => {
                let span = hi.saturating_sub(lo).as_nanos() as f64;
                lo + Duration::from_nanos((crate::rng::unit(bits) * span) as u64)
            }
        }
    }
}

impl fmt::Display for RunTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunTime::Fixed(d) => write!(f, "{d:?}"),
            RunTime::Range(lo, hi) => write!(f, "{lo:?}..{hi:?}"),
        }
    }
}

impl FromStr for RunTime {
    type Err = SimError;

    /// `500ms`, `2s`, or a range `2s..10s`.
    fn from_str(text: &str) -> Result<Self, SimError> {
        match text.split_once("..") {
            Some((lo, hi)) => {
                let (lo, hi) = (parse_duration(lo)?, parse_duration(hi)?);
                if lo > hi {
                    return Err(SimError::Duration {
                        text: text.to_owned(),
                        reason: "the low end is above the high end".into(),
                    });
                }
                Ok(RunTime::Range(lo, hi))
            }
            None => parse_duration(text).map(RunTime::Fixed),
        }
    }
}

/// Parses a size: `20MB` (10^6), `20MiB` (2^20), `512KiB`, `1GB`, or bytes (`1500`).
pub fn parse_bytes(text: &str) -> Result<u64, SimError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(SimError::Config(format!(
                "size `{text}`: the unit is B, KB, KiB, MB, MiB, GB or GiB"
            )));
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| SimError::Config(format!("size `{text}`: not a whole number of bytes")))
}

/// Parses `250ms`, `2s`, `1.5s`, `1m`, `100us` (humantime's grammar; a bare `0` is zero, any
/// other bare number needs a unit).
pub fn parse_duration(text: &str) -> Result<Duration, SimError> {
    humantime::parse_duration(text.trim()).map_err(|err| SimError::Duration {
        text: text.to_owned(),
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(
            parse_duration("500ms").ok(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_duration("2s").ok(), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_duration("1.5s").ok(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_duration("1m").ok(), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("0").ok(), Some(Duration::ZERO));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("xs").is_err());
        assert!(parse_duration("3 parsecs").is_err());
    }

    #[test]
    fn run_times_parse_and_pick_within_range() {
        let fixed: RunTime = "50ms".parse().unwrap_or(RunTime::Fixed(Duration::MAX));
        assert_eq!(fixed, RunTime::Fixed(Duration::from_millis(50)));
        let range: RunTime = "2s..10s".parse().unwrap_or(RunTime::Fixed(Duration::MAX));
        assert_eq!(
            range,
            RunTime::Range(Duration::from_secs(2), Duration::from_secs(10))
        );
        for bits in [0, 1, u64::MAX / 3, u64::MAX] {
            let d = range.pick(crate::rng::mix(bits));
            assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(10));
        }
        assert!("10s..2s".parse::<RunTime>().is_err());
    }

    #[test]
    fn prices_parse_and_fill_from_the_catalog() {
        let price = parse_price("0.05/second:base").unwrap_or_default();
        assert_eq!(price.usd, "0.05".parse().ok());
        assert_eq!(price.unit, Some(PriceUnit::Second));
        assert_eq!(price.pricing, Some(Pricing::Base));
        assert!(parse_price("0.05").is_err());
        assert!(parse_price("abc/output").is_err());
        assert!(parse_price("1/token").is_err());
        let config = SimConfig {
            default_price: Some(parse_price("0.01/second:fixed").unwrap_or_default()),
            ..SimConfig::default()
        };
        // The catalog says Seedance 2.5 1080p is `fixed`, FLUX 3 video `base`: kept.
        let flux = runcomfy::catalog::find("blackforestlabs/flux-3/text-to-video");
        if let Some(flux) = flux {
            assert_eq!(config.price_of(flux).pricing, Some(Pricing::Base));
            assert_eq!(config.price_of(flux).usd, "0.01".parse().ok());
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("20MB").ok(), Some(20_000_000));
        assert_eq!(parse_bytes("20MiB").ok(), Some(20 << 20));
        assert_eq!(parse_bytes("512 KiB").ok(), Some(512 << 10));
        assert_eq!(parse_bytes("1500").ok(), Some(1500));
        assert!(parse_bytes("20 parsecs").is_err());
        assert!(parse_bytes("MB").is_err());
        assert!(parse_bytes("99999999999GiB").is_err());
    }

    #[test]
    fn config_check_rejects_bad_values() {
        let ok = SimConfig::default();
        assert!(ok.check().is_ok());
        let zero_workers = SimConfig {
            workers: 0,
            ..SimConfig::default()
        };
        assert!(zero_workers.check().is_err());
        let bad_rate = SimConfig {
            fail_rate: 1.5,
            ..SimConfig::default()
        };
        assert!(bad_rate.check().is_err());
    }
}
