//! What a job will cost: a model's [`Price`] times the units its input asks for, with how that
//! was worked out, or why there is no estimate.
//!
//! The units are read from the model's price fields ([`ModelInfo::price_units`]): per output,
//! the number of outputs the input asks for (a field such as `num_images`, or Seedream's
//! `sequential_image_generation_options`, which is a maximum: the estimate is then the most
//! the job can cost); a model with no such field makes one output a job. Per second, the sum
//! of its duration fields. A field the input leaves out counts with its default. There is no
//! estimate when the price is a base price (a floor), when the rate or the unit is unknown,
//! or when the input does not say (`"duration": "auto"`).

use std::fmt;

use serde_json::{Value, json};

use crate::model::{Input, Model, ModelInfo};
use crate::price::{Price, PriceUnit, Pricing, Usd};
use crate::validate::instance::{Instance, View};

/// What a job will cost, and how that was worked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The price it was worked out from.
    pub price: Price,
    /// How.
    pub basis: Basis,
}

/// How an estimate was worked out, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    /// The rate times the units.
    Units {
        /// The amount: `rate` × `units`.
        usd: Usd,
        /// The rate.
        rate: Usd,
        /// What it is per.
        unit: PriceUnit,
        /// How many.
        units: f64,
        /// Where the units came from: each field with its value (and whether it is the
        /// schema's default); empty when the model has no field for them (one output).
        fields: Vec<UnitValue>,
    },
    /// No estimate.
    None(NoEstimate),
}

/// One field's part of an estimate's units.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitValue {
    /// The field's wire name.
    pub field: &'static str,
    /// Its value, in units.
    pub units: f64,
    /// Whether the input left it out and its default counted.
    pub default: bool,
}

/// Why there is no estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoEstimate {
    /// The price is not known.
    UnknownPrice,
    /// The price is a base price: a floor, not what the job costs.
    BasePrice,
    /// The price is priced some way this version does not know (not `fixed`).
    OtherPricing,
    /// The rate is not known.
    UnknownRate,
    /// The rate times the units is more than an amount of US dollars holds (about $18
    /// billion).
    TooLarge,
    /// What the rate is per is not known.
    UnknownUnit,
    /// The model has no field giving the seconds.
    NoDuration,
    /// The model is run [`unchecked`](crate::unchecked) and the catalog does not have it: how
    /// many outputs or seconds a job makes is unknown.
    UncheckedUnits,
    /// The model is run [`unchecked`](crate::unchecked) with a field its catalog schema does
    /// not name (it is out of date): what that field does to the price is unknown.
    UncheckedField(String),
    /// The input does not say: a field it leaves out has no default, or its value is not a
    /// number (`"auto"`).
    InputDoesNotSay {
        /// The field.
        field: &'static str,
        /// Its value, when it has one (JSON text).
        value: Option<String>,
    },
}

impl Estimate {
    /// The amount, when there is an estimate.
    pub fn usd(&self) -> Option<Usd> {
        match &self.basis {
            Basis::Units { usd, .. } => Some(*usd),
            Basis::None(_) => None,
        }
    }

    /// The estimate as JSON: `{"usd", "basis", "unit", "units", "rate_usd", "fields",
    /// "price"}`, with `usd` `null` and `basis` saying why when there is none.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "usd": self.usd(),
            "basis": self.to_string(),
            "price": self.price.to_json(),
        });
        if let Basis::Units {
            rate,
            unit,
            units,
            fields,
            ..
        } = &self.basis
        {
            value["rate_usd"] = json!(rate);
            value["unit"] = json!(unit.name());
            value["units"] = json!(units);
            value["fields"] = fields
                .iter()
                .map(|f| json!({"field": f.field, "units": f.units, "default": f.default}))
                .collect();
        }
        value
    }
}

impl fmt::Display for Estimate {
    /// `$0.09: $0.03 per output × 3 outputs (sequential_image_generation_options 3)`, or
    /// `no estimate: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.basis {
            Basis::Units {
                usd,
                rate,
                unit,
                units,
                fields,
            } => {
                let plural = if *units == 1.0 {
                    unit.name()
                } else {
                    unit.plural()
                };
                write!(f, "{usd}: {rate} per {} × {units} {plural}", unit.name())?;
                if fields.is_empty() {
                    return f.write_str(" (the model makes one output a job)");
                }
                let parts: Vec<String> = fields
                    .iter()
                    .map(|v| {
                        let default = if v.default { ", its default" } else { "" };
                        format!("{} {}{default}", v.field, v.units)
                    })
                    .collect();
                write!(f, " ({})", parts.join(" + "))
            }
            Basis::None(why) => write!(f, "no estimate: {why}"),
        }
    }
}

impl fmt::Display for NoEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoEstimate::UnknownPrice => f.write_str("the model's price is not known"),
            NoEstimate::BasePrice => {
                f.write_str("the price is a base price (a floor), not what a job costs")
            }
            NoEstimate::OtherPricing => f.write_str(
                "the model is priced some way this runcomfy does not know (not a fixed rate), \
                 so its rate is not what a job costs",
            ),
            NoEstimate::UnknownRate => f.write_str("the model's rate is not known"),
            NoEstimate::TooLarge => f.write_str(
                "the rate times the units is more than this client counts (about $18 billion)",
            ),
            NoEstimate::UnknownUnit => f.write_str("what the model's price is per is not known"),
            NoEstimate::NoDuration => {
                f.write_str("the price is per second and the input has no duration field")
            }
            NoEstimate::UncheckedUnits => f.write_str(
                "the model is not in the catalog, so how many outputs or seconds its jobs make \
                 is not known",
            ),
            NoEstimate::UncheckedField(field) => write!(
                f,
                "the input sets `{}`, which the catalog's schema of the model does not name, so \
                 what it does to the price is not known",
                crate::error::printable(field, 100)
            ),
            NoEstimate::InputDoesNotSay { field, value } => match value {
                Some(value) => write!(
                    f,
                    "`{field}` is {}, which does not say how many units",
                    crate::error::printable(value, 100)
                ),
                None => write!(f, "the input does not set `{field}`, which has no default"),
            },
        }
    }
}

/// What `input` (a JSON input of `model`, as sent or about to be) will cost at `price`.
pub fn estimate(model: &ModelInfo, price: &Price, input: &Value) -> Estimate {
    let basis = match basis(model, price, input) {
        Ok(basis) => basis,
        Err(why) => Basis::None(why),
    };
    Estimate {
        price: price.clone(),
        basis,
    }
}

/// [`estimate`] of a typed input: only the fields it is priced by are read, so no media file
/// is opened or encoded (as turning the input into JSON would).
pub fn of_input<I: Input>(price: &Price, input: &I) -> Estimate {
    let model = <I::Model as Model>::info();
    let mut counted = serde_json::Map::new();
    if let View::Object(object) = input.view() {
        for field in model.price_units {
            let value = match object.get(field.name).map(Instance::view) {
                Some(View::Number(n)) => serde_json::to_value(n).ok(),
                Some(View::String(text)) => Some(Value::from(text)),
                Some(View::Bool(b)) => Some(Value::from(b)),
                _ => None,
            };
            if let Some(value) = value {
                counted.insert(field.name.to_owned(), value);
            }
        }
    }
    estimate(model, price, &Value::Object(counted))
}

fn basis(model: &ModelInfo, price: &Price, input: &Value) -> Result<Basis, NoEstimate> {
    if !price.is_known() {
        return Err(NoEstimate::UnknownPrice);
    }
    match price.pricing {
        Some(Pricing::Base) => return Err(NoEstimate::BasePrice),
        Some(Pricing::Fixed) | None => {}
        // `other`, and whatever a later version adds: not a fixed rate.
        Some(_) => return Err(NoEstimate::OtherPricing),
    }
    let rate = price.usd.ok_or(NoEstimate::UnknownRate)?;
    let unit = price.unit.ok_or(NoEstimate::UnknownUnit)?;
    // The catalog's schema gives the defaults, also of a model run unchecked; without it, the
    // units are unknown.
    let unchecked = crate::unchecked::is_unchecked(model);
    let listed = match crate::catalog::find(model.id) {
        Some(listed) => listed,
        None if unchecked => return Err(NoEstimate::UncheckedUnits),
        None => model,
    };
    // A field the schema does not name may ask for more outputs or seconds (a newer count).
    if unchecked && let Value::Object(given) = input {
        let named = |key: &str| listed.field(key).is_some();
        if let Some(field) = given.keys().find(|key| !named(key.as_str())) {
            return Err(NoEstimate::UncheckedField(field.clone()));
        }
    }
    let mut fields = Vec::new();
    for field in model.price_units.iter().filter(|f| f.unit == unit) {
        let given = input.get(field.name).filter(|v| !v.is_null());
        let (value, default) = match given {
            Some(value) => (value.clone(), false),
            None => match listed.field(field.name).and_then(|f| f.default()) {
                Some(default) => (default.to_value(), true),
                None => {
                    return Err(NoEstimate::InputDoesNotSay {
                        field: field.name,
                        value: None,
                    });
                }
            },
        };
        let units = number(&value).ok_or_else(|| NoEstimate::InputDoesNotSay {
            field: field.name,
            value: Some(value.to_string()),
        })?;
        fields.push(UnitValue {
            field: field.name,
            units,
            default,
        });
    }
    let units = match (unit, fields.is_empty()) {
        (PriceUnit::Output, true) => 1.0,
        (PriceUnit::Second, true) => return Err(NoEstimate::NoDuration),
        // One count field at most (the generator sees to it); durations add up, to the
        // billionth: 0.7 + 0.2 s is 0.9 s, not binary floating point's 0.8999999999999999.
        _ => (fields.iter().map(|f| f.units).sum::<f64>() * 1e9).round() / 1e9,
    };
    let usd = rate.times(units).ok_or(NoEstimate::TooLarge)?;
    Ok(Basis::Units {
        usd,
        rate,
        unit,
        units,
        fields,
    })
}

/// A number of units: a non-negative JSON number, or one written as text (`"5"`).
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;

    fn price(usd: &str, unit: PriceUnit, pricing: Option<Pricing>) -> Price {
        Price {
            usd: usd.parse().ok(),
            unit: Some(unit),
            pricing,
            note: None,
        }
    }

    #[test]
    fn per_output_counts_the_outputs_asked_for() -> Result<(), String> {
        let model = find("bytedance/seedream-4-0/sequential").ok_or("no model")?;
        let price = price("0.03", PriceUnit::Output, None);
        let asked = estimate(
            model,
            &price,
            &json!({"text": "t", "sequential_image_generation_options": 4}),
        );
        assert_eq!(asked.usd(), "0.12".parse().ok(), "{asked}");
        let text = asked.to_string();
        assert!(
            text.contains("sequential_image_generation_options 4"),
            "{text}"
        );
        // Left out: the schema's default (3) counts.
        let default = estimate(model, &price, &json!({"text": "t"}));
        assert_eq!(default.usd(), "0.09".parse().ok(), "{default}");
        Ok(())
    }

    #[test]
    fn per_second_multiplies_the_duration_and_base_prices_give_none() -> Result<(), String> {
        let model = find("bytedance/seedance-2.5/text-to-video/1080p").ok_or("no model")?;
        let per_second = price("0.1", PriceUnit::Second, Some(Pricing::Fixed));
        let seven = estimate(model, &per_second, &json!({"prompt": "p", "duration": 7}));
        assert_eq!(seven.usd(), "0.7".parse().ok(), "{seven}");
        let base = price("0.1", PriceUnit::Second, Some(Pricing::Base));
        let none = estimate(model, &base, &json!({"prompt": "p", "duration": 7}));
        assert_eq!(none.basis, Basis::None(NoEstimate::BasePrice));
        let unknown = estimate(model, &Price::UNKNOWN, &json!({"prompt": "p"}));
        assert_eq!(unknown.basis, Basis::None(NoEstimate::UnknownPrice));
        // A rate no amount can hold times the seconds: said as such, not as an unknown rate.
        let huge = price("10000000000", PriceUnit::Second, Some(Pricing::Fixed));
        let over = estimate(model, &huge, &json!({"prompt": "p", "duration": 30}));
        assert_eq!(over.basis, Basis::None(NoEstimate::TooLarge));
        Ok(())
    }

    #[test]
    fn a_duration_of_auto_says_nothing() -> Result<(), String> {
        let model = find("blackforestlabs/flux-3/text-to-video").ok_or("no model")?;
        let per_second = price("0.1", PriceUnit::Second, Some(Pricing::Fixed));
        let auto = estimate(model, &per_second, &json!({"prompt": "p"}));
        assert!(
            matches!(
                auto.basis,
                Basis::None(NoEstimate::InputDoesNotSay {
                    field: "duration",
                    ..
                })
            ),
            "{auto}"
        );
        let eight = estimate(model, &per_second, &json!({"prompt": "p", "duration": "8"}));
        assert_eq!(eight.usd(), "0.8".parse().ok(), "{eight}");
        Ok(())
    }

    /// Durations that add up are summed as people add them: the basis says 0.9 seconds.
    #[test]
    fn durations_add_up_without_floating_point_noise() -> Result<(), String> {
        let model = find("acestep-ai/ace-step/audio-outpaint").ok_or("no model")?;
        let per_second = price("0.1", PriceUnit::Second, Some(Pricing::Fixed));
        let input = json!({"tags": "t", "audio": "https://example.com/a.mp3",
            "extend_after_duration": 0.7, "extend_before_duration": 0.2});
        let sum = estimate(model, &per_second, &input);
        assert!(sum.to_string().contains("× 0.9 seconds"), "{sum}");
        assert_eq!(sum.to_json()["units"], 0.9, "{sum}");
        assert_eq!(sum.usd(), "0.09".parse().ok(), "{sum}");
        Ok(())
    }
}
