//! JSON numbers as inputs hold them: the value, and whether it was written as an integer or
//! with a fraction, so what is sent is what was given (`1.0` stays `1.0`, `5` stays `5`); but
//! an [`Integer`] (a field JSON Schema types `integer`) goes as an integer (`5.0` as `5`).

use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON number: an integer (signed or not) or a float, kept in the form it was written.
///
/// Equality and order are by value, as JSON Schema compares numbers: `1 == 1.0`.
#[derive(Clone, Copy)]
pub struct Number(Repr);

#[derive(Clone, Copy, Debug)]
enum Repr {
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl Number {
    /// A number from a float (`NaN` and the infinities are not JSON numbers: validation
    /// refuses them).
    pub const fn from_f64(value: f64) -> Number {
        Number(Repr::Float(value))
    }

    /// A number from an integer.
    pub const fn from_i64(value: i64) -> Number {
        Number(Repr::Int(value))
    }

    /// A number from an unsigned integer.
    pub const fn from_u64(value: u64) -> Number {
        Number(Repr::Uint(value))
    }

    /// The value as a float (rounded for integers beyond 2^53).
    pub fn as_f64(self) -> f64 {
        match self.0 {
            Repr::Int(n) => n as f64,
            Repr::Uint(n) => n as f64,
            Repr::Float(f) => f,
        }
    }

    /// The value as an `i64`, when it is a whole number in its range (`3.0` is 3).
    pub fn as_i64(self) -> Option<i64> {
        match self.0 {
            Repr::Int(n) => Some(n),
            Repr::Uint(n) => i64::try_from(n).ok(),
            Repr::Float(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
                Some(f as i64)
            }
            Repr::Float(_) => None,
        }
    }

    /// Whether the value is a whole number, as JSON Schema's `integer` means it (`1.0` is).
    pub fn is_integer(self) -> bool {
        match self.0 {
            Repr::Int(_) | Repr::Uint(_) => true,
            Repr::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }

    /// Whether the value is a whole number held as a float beyond 64 bits, where an integer
    /// written in full is read as one, rounded. (Within 64 bits such an integer is read
    /// exactly; a float there was written as one, `1e18`, and goes as written. -2^63 itself
    /// is an integer; as a float it is what the integers just below it round to.)
    pub fn is_rounded_integer(self) -> bool {
        const BELOW: f64 = -9_223_372_036_854_775_808.0; // i64::MIN, -2^63
        const ABOVE: f64 = 18_446_744_073_709_551_616.0; // u64::MAX + 1, 2^64
        matches!(self.0, Repr::Float(f) if f.is_finite() && f.fract() == 0.0 && (f <= BELOW || f >= ABOVE))
    }

    /// Whether the value is a JSON number at all (not `NaN` or infinite).
    pub fn is_finite(self) -> bool {
        match self.0 {
            Repr::Float(f) => f.is_finite(),
            _ => true,
        }
    }

    /// Whether it was written with a fraction or an exponent (`1.0`, `1e3`).
    pub fn is_float_form(self) -> bool {
        matches!(self.0, Repr::Float(_))
    }

    /// The value as a decimal `mantissa × 10^exponent`, exactly as written (floats by their
    /// shortest round-trip form), for exact arithmetic such as `multipleOf`.
    pub(crate) fn decimal(self) -> Option<(i128, i32)> {
        match self.0 {
            Repr::Int(n) => Some((i128::from(n), 0)),
            Repr::Uint(n) => Some((i128::from(n), 0)),
            Repr::Float(f) if !f.is_finite() => None,
            Repr::Float(f) => {
                // `{:e}` is the shortest form that reads back as `f`: `7.5e-3`.
                let text = format!("{f:e}");
                let (mantissa, exponent) = text.split_once('e')?;
                let exponent: i32 = exponent.parse().ok()?;
                let negative = mantissa.starts_with('-');
                let mantissa = mantissa.trim_start_matches('-');
                let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
                let digits: i128 = format!("{whole}{fraction}").parse().ok()?;
                let scale = exponent - i32::try_from(fraction.len()).ok()?;
                Some((if negative { -digits } else { digits }, scale))
            }
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Number {
    /// By value, exactly: integers compare as integers, never through a rounded float.
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        match (self.0, other.0) {
            (Repr::Float(a), Repr::Float(b)) => a.partial_cmp(&b),
            (Repr::Float(a), _) => cmp_float_int(a, *other),
            (_, Repr::Float(b)) => cmp_float_int(b, *self).map(Ordering::reverse),
            (a, b) => Some(as_i128(a).cmp(&as_i128(b))),
        }
    }
}

fn as_i128(repr: Repr) -> i128 {
    match repr {
        Repr::Int(n) => i128::from(n),
        Repr::Uint(n) => i128::from(n),
        // Not reached: callers pass integers only.
        Repr::Float(f) => f as i128,
    }
}

/// Compares a float with an integer number without losing the integer's precision.
fn cmp_float_int(float: f64, int: Number) -> Option<Ordering> {
    if float.is_nan() {
        return None;
    }
    let int = as_i128(int.0);
    // Every i64/u64 lies strictly inside ±2^127, where a float's whole part fits in i128.
    let whole = float.trunc();
    if whole >= 1.7e38 {
        return Some(Ordering::Greater);
    }
    if whole <= -1.7e38 {
        return Some(Ordering::Less);
    }
    match (whole as i128).cmp(&int) {
        Ordering::Equal if float.fract() > 0.0 => Some(Ordering::Greater),
        Ordering::Equal if float.fract() < 0.0 => Some(Ordering::Less),
        ordering => Some(ordering),
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Number {
    /// As JSON writes it: `5`, `-2`, `2.5`, `1.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Int(n) => write!(f, "{n}"),
            Repr::Uint(n) => write!(f, "{n}"),
            Repr::Float(x) => match serde_json::Number::from_f64(x) {
                Some(n) => write!(f, "{n}"),
                None => write!(f, "{x}"),
            },
        }
    }
}

macro_rules! from_ints {
    ($($signed:ty),* ; $($unsigned:ty),*) => {
        $(impl From<$signed> for Number {
            fn from(value: $signed) -> Number {
                Number(Repr::Int(i64::from(value)))
            }
        })*
        $(impl From<$unsigned> for Number {
            fn from(value: $unsigned) -> Number {
                Number(Repr::Uint(u64::from(value)))
            }
        })*
    };
}
from_ints!(i8, i16, i32, i64; u8, u16, u32, u64);

impl From<f64> for Number {
    fn from(value: f64) -> Number {
        Number::from_f64(value)
    }
}

impl From<f32> for Number {
    fn from(value: f32) -> Number {
        Number::from_f64(f64::from(value))
    }
}

impl From<&serde_json::Number> for Number {
    fn from(n: &serde_json::Number) -> Number {
        if let Some(i) = n.as_i64() {
            Number::from_i64(i)
        } else if let Some(u) = n.as_u64() {
            Number::from_u64(u)
        } else {
            Number::from_f64(n.as_f64().unwrap_or(f64::NAN))
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Int(n) => serializer.serialize_i64(n),
            Repr::Uint(n) => serializer.serialize_u64(n),
            Repr::Float(f) => serializer.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number::from_i64(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number::from_u64(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number::from_f64(v))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// A JSON number that is a whole number (`integer` in JSON Schema), kept in the form it was
/// written (`3` or `3.0`, as `Display` shows it) and sent as an integer (`3`).
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub struct Integer(Number);

impl Integer {
    /// The value, when it fits an `i64`.
    pub fn get(self) -> Option<i64> {
        self.0.as_i64()
    }

    /// The value as a [`Number`].
    pub const fn number(self) -> Number {
        self.0
    }

    /// An integer from a number, if it is whole.
    pub fn from_number(number: Number) -> Option<Integer> {
        number.is_integer().then_some(Integer(number))
    }
}

impl fmt::Debug for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

macro_rules! integer_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Integer {
            fn from(value: $t) -> Integer {
                Integer(Number::from(value))
            }
        }
    )*};
}
integer_from!(i8, i16, i32, i64, u8, u16, u32, u64);

impl PartialEq<i64> for Integer {
    fn eq(&self, other: &i64) -> bool {
        self.0 == Number::from_i64(*other)
    }
}

impl From<Integer> for Number {
    fn from(value: Integer) -> Number {
        value.0
    }
}

impl Serialize for Integer {
    /// As an integer, however it was written (`5.0`, `1e1`, and `-0`, which JSON readers give
    /// as a float): a server that types the field as an integer may refuse a float. Past 64
    /// bits, the float it was read as (validation warns of it).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;
        match self.0.0 {
            Repr::Float(f) if (0.0..TWO_TO_64).contains(&f) => serializer.serialize_u64(f as u64),
            Repr::Float(f) => match self.0.as_i64() {
                Some(n) => serializer.serialize_i64(n),
                None => serializer.serialize_f64(f),
            },
            _ => self.0.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = Number::deserialize(deserializer)?;
        Integer::from_number(number).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Float(number.as_f64()), &"an integer")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn keeps_the_written_form() {
        for text in ["1", "1.0", "-2", "2.5", "18446744073709551615", "1e+300"] {
            let n = json(text);
            let back = serde_json::to_string(&n).unwrap();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&back).unwrap(),
                serde_json::from_str::<serde_json::Value>(text).unwrap(),
                "{text}"
            );
        }
        let i: Integer = serde_json::from_str("3.0").unwrap();
        assert_eq!(i.to_string(), "3.0");
        assert_eq!(i.get(), Some(3));
        assert!(serde_json::from_str::<Integer>("3.5").is_err());
    }

    #[test]
    fn an_integer_is_sent_as_one() -> Result<(), serde_json::Error> {
        for (text, sent) in [
            ("3.0", "3"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1e1", "10"),
            ("-4.0", "-4"),
            ("1.8446744073709552e19", "1.8446744073709552e+19"),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("7", "7"),
        ] {
            let i: Integer = serde_json::from_str(text)?;
            assert_eq!(serde_json::to_string(&i)?, sent, "{text}");
        }
        Ok(())
    }

    #[test]
    fn compares_by_value_exactly() {
        assert_eq!(json("1"), json("1.0"));
        assert!(json("9007199254740993") > json("9007199254740992.0"));
        assert!(json("-1") < json("18446744073709551615"));
        assert!(json("2.5") > json("2"));
        assert!(json("-2.5") < json("-2"));
        assert!(Number::from_f64(f64::NAN).partial_cmp(&json("1")).is_none());
    }

    #[test]
    fn decimals() {
        assert_eq!(json("0.0075").decimal(), Some((75, -4)));
        assert_eq!(json("12").decimal(), Some((12, 0)));
        assert_eq!(json("1e308").decimal(), Some((1, 308)));
        assert_eq!(json("-1.5").decimal(), Some((-15, -1)));
    }
}
