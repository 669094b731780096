//! Fault injection: which endpoint misbehaves, how often, and how.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::SimError;
use crate::rng::SplitMix;

/// The endpoints faults can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /v1/models/{model id}`.
    Submit,
    /// `GET /v1/requests/{id}/status`.
    Status,
    /// `GET /v1/requests/{id}/result`.
    Result,
    /// `POST /v1/requests/{id}/cancel`.
    Cancel,
    /// `GET /files/{id}/{name}`: the output files.
    Download,
    /// `GET /v1/models` and `GET /v1/models/{model id}`.
    Catalog,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 6] = [
        Endpoint::Submit,
        Endpoint::Status,
        Endpoint::Result,
        Endpoint::Cancel,
        Endpoint::Download,
        Endpoint::Catalog,
    ];

    /// The name used on the command line and in stats (`submit`, `status`...).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Submit => "submit",
            Endpoint::Status => "status",
            Endpoint::Result => "result",
            Endpoint::Cancel => "cancel",
            Endpoint::Download => "download",
            Endpoint::Catalog => "catalog",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Endpoint {
    type Err = SimError;

    fn from_str(text: &str) -> Result<Self, SimError> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.name() == text)
            .ok_or_else(|| SimError::Faults {
                text: text.to_owned(),
                reason: "unknown endpoint (submit, status, result, cancel, download, catalog)"
                    .into(),
            })
    }
}

/// One way a request can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 with a `500001` error body.
    Http500,
    /// HTTP 502 with an HTML body, as a gateway sends it.
    Http502,
    /// HTTP 503 with an error body.
    Http503,
    /// HTTP 429 with `Retry-After`; earlier retries are counted as violations.
    RateLimited {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// The TCP connection is reset before any response.
    Reset,
    /// The response is delayed this long, then sent normally.
    Slow(Duration),
    /// HTTP 200 whose body is not valid JSON (for files: bytes that are not the image).
    MalformedJson,
    /// The real response, with a `Content-Length` larger than the bytes sent before the
    /// connection closes.
    Truncated,
    /// HTTP 200 whose body is an error object.
    ErrorWith200,
    /// The request takes effect (on submit: the job is created), then the connection is reset
    /// before the response.
    AcceptedThenDropped,
}

impl FaultKind {
    /// A stable name, for stats and the command line (`http500`, `rate_limited`...).
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Http500 => "http500",
            FaultKind::Http502 => "http502",
            FaultKind::Http503 => "http503",
            FaultKind::RateLimited { .. } => "rate_limited",
            FaultKind::Reset => "reset",
            FaultKind::Slow(_) => "slow",
            FaultKind::MalformedJson => "malformed_json",
            FaultKind::Truncated => "truncated",
            FaultKind::ErrorWith200 => "error_with_200",
            FaultKind::AcceptedThenDropped => "accepted_then_dropped",
        }
    }

    /// The kinds drawn for an endpoint when none are given: every kind that makes sense there
    /// (`AcceptedThenDropped` only on submit, no JSON faults on downloads).
    pub fn defaults(endpoint: Endpoint) -> Vec<FaultKind> {
        let mut kinds = vec![
            FaultKind::Http500,
            FaultKind::Http502,
            FaultKind::Http503,
            FaultKind::RateLimited {
                retry_after_secs: 1,
            },
            FaultKind::Reset,
            FaultKind::Slow(Duration::from_millis(500)),
            FaultKind::Truncated,
        ];
        if endpoint != Endpoint::Download {
            kinds.extend([FaultKind::MalformedJson, FaultKind::ErrorWith200]);
        }
        if endpoint == Endpoint::Submit {
            kinds.push(FaultKind::AcceptedThenDropped);
        }
        kinds
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::RateLimited { retry_after_secs } => {
                write!(f, "rate_limited={retry_after_secs}")
            }
            FaultKind::Slow(d) => write!(f, "slow={d:?}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for FaultKind {
    type Err = SimError;

    /// `500`, `502`, `503`, `429` or `429=5` (Retry-After seconds), `reset`, `slow` or
    /// `slow=2s`, `malformed`, `truncated`, `error200`, `dropped`; the `name()`s work too.
    fn from_str(text: &str) -> Result<Self, SimError> {
        let err = |reason: String| SimError::Faults {
            text: text.to_owned(),
            reason,
        };
        let (name, arg) = match text.split_once('=') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let kind = match name {
            "500" | "http500" => FaultKind::Http500,
            "502" | "http502" => FaultKind::Http502,
            "503" | "http503" => FaultKind::Http503,
            "429" | "rate_limited" => FaultKind::RateLimited {
                retry_after_secs: match arg {
                    Some(arg) => arg
                        .parse()
                        .map_err(|_| err(format!("Retry-After {arg:?} is not whole seconds")))?,
                    None => 1,
                },
            },
            "reset" => FaultKind::Reset,
            "slow" => FaultKind::Slow(match arg {
                Some(arg) => crate::config::parse_duration(arg)?,
                None => Duration::from_millis(500),
            }),
            "malformed" | "malformed_json" => FaultKind::MalformedJson,
            "truncated" => FaultKind::Truncated,
            "error200" | "error_with_200" => FaultKind::ErrorWith200,
            "dropped" | "accepted_then_dropped" => FaultKind::AcceptedThenDropped,
            _ => return Err(err(format!("unknown fault kind {name:?}"))),
        };
        if arg.is_some() && !matches!(kind, FaultKind::RateLimited { .. } | FaultKind::Slow(_)) {
            return Err(err(format!("fault kind {name:?} takes no value")));
        }
        Ok(kind)
    }
}

/// Faults of one endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
struct EndpointFaults {
    /// Probability that a request gets a fault drawn from `kinds`.
    rate: f64,
    kinds: Vec<FaultKind>,
    /// Faults for the next requests, in order, before any random draw.
    script: VecDeque<FaultKind>,
}

/// Which faults each endpoint gets.
///
/// ```
/// use runcomfy_simulator::{Endpoint, FaultKind, Faults};
/// let faults = Faults::none()
///     .with(Endpoint::Status, 0.2, &[]) // 20% of status calls, any default kind
///     .script(Endpoint::Submit, vec![FaultKind::Http503, FaultKind::Reset]); // next two submits
/// # let _ = faults;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    endpoints: BTreeMap<Endpoint, EndpointFaults>,
    seed: Option<u64>,
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Gives `endpoint` a fault with probability `rate` (clamped to 0..1), its kind drawn
    /// uniformly from `kinds` (empty: [`FaultKind::defaults`]).
    pub fn with(mut self, endpoint: Endpoint, rate: f64, kinds: &[FaultKind]) -> Self {
        let entry = self.endpoints.entry(endpoint).or_default();
        entry.rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        entry.kinds = if kinds.is_empty() {
            FaultKind::defaults(endpoint)
        } else {
            kinds.to_vec()
        };
        self
    }

    /// The next requests to `endpoint` get these faults, one each, in order (before any
    /// random draw); appended to what is already scripted.
    pub fn script(mut self, endpoint: Endpoint, kinds: Vec<FaultKind>) -> Self {
        self.endpoints
            .entry(endpoint)
            .or_default()
            .script
            .extend(kinds);
        self
    }

    /// Seeds the random draws (default: the simulator's seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The fault rate of an endpoint.
    pub fn rate(&self, endpoint: Endpoint) -> f64 {
        self.endpoints.get(&endpoint).map_or(0.0, |e| e.rate)
    }

    /// True when no request can get a fault.
    pub fn is_none(&self) -> bool {
        self.endpoints
            .values()
            .all(|e| e.script.is_empty() && (e.rate == 0.0 || e.kinds.is_empty()))
    }
}

impl FromStr for Faults {
    type Err = SimError;

    /// `submit=0.05,status=0.2` or with kinds: `status=0.2:500+reset+429=3`; empty: none.
    fn from_str(text: &str) -> Result<Self, SimError> {
        let mut faults = Faults::none();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let err = |reason: &str| SimError::Faults {
                text: item.to_owned(),
                reason: reason.to_owned(),
            };
            let (endpoint, rest) = item
                .split_once('=')
                .ok_or_else(|| err("expected ENDPOINT=RATE[:KIND+KIND...]"))?;
            let endpoint: Endpoint = endpoint.trim().parse()?;
            let (rate, kinds) = match rest.split_once(':') {
                Some((rate, kinds)) => (rate, Some(kinds)),
                None => (rest, None),
            };
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| err("the rate is not a number"))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(err("the rate must be within 0..1"));
            }
            let kinds = match kinds {
                Some(kinds) => kinds
                    .split('+')
                    .map(|k| k.trim().parse())
                    .collect::<Result<Vec<FaultKind>, SimError>>()?,
                None => Vec::new(),
            };
            faults = faults.with(endpoint, rate, &kinds);
        }
        Ok(faults)
    }
}

/// The faults in force plus the random generator drawing them.
#[derive(Debug)]
pub(crate) struct FaultState {
    faults: Faults,
    rng: SplitMix,
}

impl FaultState {
    pub(crate) fn new(faults: Faults, default_seed: u64) -> Self {
        let seed = faults
            .seed
            .unwrap_or_else(|| crate::rng::hash(default_seed, &["faults"]));
        FaultState {
            faults,
            rng: SplitMix::new(seed),
        }
    }

    /// The fault for the next request to `endpoint`, if any.
    pub(crate) fn draw(&mut self, endpoint: Endpoint) -> Option<FaultKind> {
        let entry = self.faults.endpoints.get_mut(&endpoint)?;
        if let Some(kind) = entry.script.pop_front() {
            return Some(kind);
        }
        if entry.rate <= 0.0 || entry.kinds.is_empty() {
            return None;
        }
        if self.rng.next_f64() < entry.rate {
            Some(entry.kinds[self.rng.below(entry.kinds.len())])
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_and_kinds() {
        let faults: Faults = "submit=0.05, status=0.2:500+reset+429=3+slow=2s"
            .parse()
            .unwrap_or_default();
        assert_eq!(faults.rate(Endpoint::Submit), 0.05);
        assert_eq!(faults.rate(Endpoint::Status), 0.2);
        assert_eq!(
            faults.endpoints[&Endpoint::Status].kinds,
            vec![
                FaultKind::Http500,
                FaultKind::Reset,
                FaultKind::RateLimited {
                    retry_after_secs: 3
                },
                FaultKind::Slow(Duration::from_secs(2)),
            ]
        );
        assert_eq!(
            faults.endpoints[&Endpoint::Submit].kinds,
            FaultKind::defaults(Endpoint::Submit)
        );
        assert!("".parse::<Faults>().is_ok_and(|f| f.is_none()));
        assert!("bogus=0.1".parse::<Faults>().is_err());
        assert!("status=2".parse::<Faults>().is_err());
        assert!("status=0.1:nope".parse::<Faults>().is_err());
        assert!("status".parse::<Faults>().is_err());
        assert!("reset=1".parse::<FaultKind>().is_err());
    }

    #[test]
    fn scripts_come_first_then_rates_apply() {
        let faults = Faults::none()
            .with(Endpoint::Status, 1.0, &[FaultKind::Http503])
            .script(Endpoint::Status, vec![FaultKind::Reset]);
        let mut state = FaultState::new(faults, 1);
        assert_eq!(state.draw(Endpoint::Status), Some(FaultKind::Reset));
        assert_eq!(state.draw(Endpoint::Status), Some(FaultKind::Http503));
        assert_eq!(state.draw(Endpoint::Result), None);
    }

    #[test]
    fn rate_is_roughly_honoured() {
        let mut state = FaultState::new(Faults::none().with(Endpoint::Result, 0.25, &[]), 9);
        let hits = (0..4000)
            .filter(|_| state.draw(Endpoint::Result).is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits} faults of 4000");
    }
}
