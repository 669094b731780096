//! Money and prices: [`Usd`], an exact amount of US dollars, and a model's [`Price`] as the
//! catalog or the API states it. What a given input will cost is `estimate`'s.
//!
//! Amounts are whole billionths of a dollar, so sums and budgets are exact: fifty jobs of
//! $0.03 are $1.50, not $1.4999999999999998.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub use runcomfy_vocab::price::{PriceUnit, Pricing};

/// Billionths of a dollar in a dollar.
const NANOS: u64 = 1_000_000_000;

/// An amount of US dollars, exact to a billionth (never negative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd(u64);

impl Usd {
    /// Nothing.
    pub const ZERO: Usd = Usd(0);

    /// An amount in billionths of a dollar.
    pub const fn from_nanos(nanos: u64) -> Usd {
        Usd(nanos)
    }

    /// The amount in billionths of a dollar.
    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// Dollars as a JSON number has them (rounded to the billionth); `None` for a negative,
    /// infinite or absurd amount.
    pub fn from_dollars(dollars: f64) -> Option<Usd> {
        let nanos = (dollars * NANOS as f64).round();
        (dollars.is_finite() && dollars >= 0.0 && nanos < u64::MAX as f64)
            .then_some(Usd(nanos as u64))
    }

    /// The amount in dollars, for JSON.
    pub fn dollars(self) -> f64 {
        self.0 as f64 / NANOS as f64
    }

    /// The sum, saturating.
    pub fn saturating_add(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }

    /// The difference, or zero.
    pub fn saturating_sub(self, other: Usd) -> Usd {
        Usd(self.0.saturating_sub(other.0))
    }

    /// This amount `units` times (`units` may have a fraction: 2.5 seconds), rounded to the
    /// billionth; exact for whole units.
    pub fn times(self, units: f64) -> Option<Usd> {
        if !units.is_finite() || units < 0.0 {
            return None;
        }
        if units.fract() == 0.0 && units < u64::MAX as f64 {
            return self.0.checked_mul(units as u64).map(Usd);
        }
        let nanos = (self.0 as f64 * units).round();
        (nanos < u64::MAX as f64).then_some(Usd(nanos as u64))
    }
}

impl fmt::Display for Usd {
    /// `$1.50`, `$0.0125`: at least cents, then as many digits as the amount has.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / NANOS;
        let fraction = format!("{:09}", self.0 % NANOS);
        let fraction = fraction.trim_end_matches('0');
        let fraction = format!("{fraction:0<2}");
        write!(f, "${whole}.{fraction}")
    }
}

/// An amount of dollars that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an amount of US dollars (write it as 1.50 or $1.50; at most 9 decimals)")]
pub struct ParseUsdError(pub String);

impl FromStr for Usd {
    type Err = ParseUsdError;

    /// `1.5`, `$1.50`, `0.0125`, `12`: decimal text, read exactly (not through a float).
    fn from_str(text: &str) -> Result<Usd, ParseUsdError> {
        let bad = || ParseUsdError(text.to_owned());
        let digits = text.trim();
        let digits = digits.strip_prefix('$').unwrap_or(digits).trim();
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !all_digits(whole)
            || !all_digits(fraction)
            || fraction.len() > 9
        {
            return Err(bad());
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let fraction: u64 = format!("{fraction:0<9}").parse().map_err(|_| bad())?;
        whole
            .checked_mul(NANOS)
            .and_then(|n| n.checked_add(fraction))
            .map(Usd)
            .ok_or_else(bad)
    }
}

impl serde::Serialize for Usd {
    /// A JSON number of dollars (`0.09`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.dollars())
    }
}

impl<'de> serde::Deserialize<'de> for Usd {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Usd, D::Error> {
        let dollars = f64::deserialize(deserializer)?;
        Usd::from_dollars(dollars).ok_or_else(|| {
            serde::de::Error::custom(format!("{dollars} is not an amount of dollars"))
        })
    }
}

/// A model's price: its rate, what the rate is per, and whether it is the price or a floor.
/// The generated catalog has RunComfy's as of the last import (`upstream.json`); the API has
/// today's ([`Client::model_price`](crate::Client::model_price)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Price {
    /// The rate (`base_price_usd`).
    pub usd: Option<Usd>,
    /// What the rate is per (`price_unit`).
    pub unit: Option<PriceUnit>,
    /// `fixed` (the rate times the units) or `base` (a floor).
    pub pricing: Option<Pricing>,
    /// RunComfy's note on the price (server text: show it through
    /// [`printable`](crate::error::printable)).
    pub note: Option<Cow<'static, str>>,
}

impl Price {
    /// Nothing known.
    pub const UNKNOWN: Price = Price {
        usd: None,
        unit: None,
        pricing: None,
        note: None,
    };

    /// Whether anything is known.
    pub fn is_known(&self) -> bool {
        *self != Price::UNKNOWN
    }

    /// This price, with what it does not say taken from `older` (a live price over the
    /// catalog's).
    pub fn or(&self, older: &Price) -> Price {
        Price {
            usd: self.usd.or(older.usd),
            unit: self.unit.or(older.unit),
            pricing: self.pricing.or(older.pricing),
            note: self.note.clone().or_else(|| older.note.clone()),
        }
    }

    /// The price as JSON: `{"usd", "unit", "pricing", "note"}`, `null` for what is unknown.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "usd": self.usd,
            "unit": self.unit.map(PriceUnit::name),
            "pricing": self.pricing.map(Pricing::name),
            "note": self.note,
        })
    }
}

impl fmt::Display for Price {
    /// `$0.03 per output`, `from $0.05 per second (base price)`, `$0.03 per a unit not known`,
    /// `$0.02 per output (priced some other way)`, `base price`, `unknown`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.pricing == Some(Pricing::Base);
        let other = self.pricing == Some(Pricing::Other);
        match (self.usd, self.unit) {
            (Some(usd), unit) => {
                if base {
                    f.write_str("from ")?;
                }
                write!(f, "{usd}")?;
                match unit {
                    Some(unit) => write!(f, " per {}", unit.name())?,
                    // Not a price per job: the estimate, too, says it cannot tell.
                    None => f.write_str(" per a unit not known")?,
                }
                if base {
                    f.write_str(" (base price)")?;
                } else if other {
                    f.write_str(" (priced some other way)")?;
                }
                Ok(())
            }
            (None, _) if base => f.write_str("base price (rate unknown)"),
            (None, _) if other => f.write_str("priced some other way (rate unknown)"),
            (None, _) if self.pricing == Some(Pricing::Fixed) => match self.unit {
                Some(unit) => write!(f, "a fixed price per {} (rate unknown)", unit.name()),
                None => f.write_str("a fixed price (rate unknown)"),
            },
            (None, Some(unit)) => write!(f, "per {} (rate unknown)", unit.name()),
            (None, None) => f.write_str("unknown"),
        }
    }
}

/// An input field that gives a job's price units: the outputs asked for, or seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitField {
    /// The field's wire name.
    pub name: &'static str,
    /// What it counts.
    pub unit: PriceUnit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_and_read_as_written() {
        let cents = |text: &str| text.parse::<Usd>().map(Usd::nanos);
        assert_eq!(cents("1.50"), Ok(1_500_000_000));
        assert_eq!(cents("$0.03"), Ok(30_000_000));
        assert_eq!(cents("12"), Ok(12_000_000_000));
        assert_eq!(cents(".5"), Ok(500_000_000));
        for bad in ["", "$", "-1", "1.2.3", "abc", "0.0000000001", "1e3"] {
            assert!(bad.parse::<Usd>().is_err(), "{bad}");
        }
        let three_cents = Usd::from_nanos(30_000_000);
        let mut total = Usd::ZERO;
        for _ in 0..50 {
            total = total.saturating_add(three_cents);
        }
        assert_eq!(total, "1.5".parse().unwrap_or_default());
        assert_eq!(total.to_string(), "$1.50");
        assert_eq!(Usd::from_nanos(12_500_000).to_string(), "$0.0125");
        assert_eq!(Usd::ZERO.to_string(), "$0.00");
        assert_eq!(Usd::from_dollars(0.09), Some(Usd::from_nanos(90_000_000)));
        assert_eq!(Usd::from_dollars(-1.0), None);
        assert_eq!(three_cents.times(2.5), Some(Usd::from_nanos(75_000_000)));
        assert_eq!(
            serde_json::to_string(&three_cents).ok().as_deref(),
            Some("0.03")
        );
    }

    #[test]
    fn prices_read_as_people_say_them() {
        let price = Price {
            usd: Some(Usd::from_nanos(30_000_000)),
            unit: Some(PriceUnit::Output),
            pricing: Some(Pricing::Fixed),
            note: None,
        };
        assert_eq!(price.to_string(), "$0.03 per output");
        let base = Price {
            pricing: Some(Pricing::Base),
            ..price.clone()
        };
        assert_eq!(base.to_string(), "from $0.03 per output (base price)");
        assert_eq!(Price::UNKNOWN.to_string(), "unknown");
        let per_what = Price {
            unit: None,
            ..price.clone()
        };
        assert_eq!(per_what.to_string(), "$0.03 per a unit not known");
        let live = Price {
            usd: Some(Usd::from_nanos(1)),
            ..Price::UNKNOWN
        };
        assert_eq!(live.or(&price).unit, Some(PriceUnit::Output));
        assert_eq!(live.or(&price).usd, Some(Usd::from_nanos(1)));
    }
}
