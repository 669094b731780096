//! Prices: what a model's price is counted in, whether it is an estimate, and which input
//! fields give the count.
//!
//! RunComfy publishes each model's rate (`base_price_usd`), what it is per (`price_unit`:
//! `second` or `output`) and whether the rate is the price (`pricing`: `fixed`) or a floor
//! (`base`). A job's estimate is the rate times the units its input asks for: the number of
//! outputs, or the seconds of media. Which fields give those units is decided here, once, by
//! a rule on the field's name ([`PriceUnit::of_field`]); an overlay names a field the rule
//! misses (`"price_units": "output"` on Seedream's `sequential_image_generation_options`) or
//! drops one it finds (`"price_units": "none"`).

/// What a price is per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PriceUnit {
    /// Per second of generated media.
    Second,
    /// Per output file.
    Output,
}

impl PriceUnit {
    /// Every unit.
    pub const ALL: [PriceUnit; 2] = [PriceUnit::Second, PriceUnit::Output];

    /// The catalog's word (`price_unit`).
    pub const fn name(self) -> &'static str {
        match self {
            PriceUnit::Second => "second",
            PriceUnit::Output => "output",
        }
    }

    /// The plural, for text (`3 outputs`).
    pub const fn plural(self) -> &'static str {
        match self {
            PriceUnit::Second => "seconds",
            PriceUnit::Output => "outputs",
        }
    }

    /// Reads a catalog's `price_unit` (`second`, `seconds`, `output`, `outputs`, any case;
    /// RunComfy's `image` and `video` are per output too).
    pub fn parse(word: &str) -> Option<PriceUnit> {
        match word.trim().to_ascii_lowercase().as_str() {
            "second" | "seconds" | "sec" | "s" => Some(PriceUnit::Second),
            "output" | "outputs" | "image" | "images" | "video" | "videos" | "audio" | "audios"
            | "file" | "files" => Some(PriceUnit::Output),
            _ => None,
        }
    }

    /// The unit an input field counts, by the rule on its wire name; `None` for other fields.
    ///
    /// Seconds: a name whose last word is `duration` or `seconds` (`duration`,
    /// `extend_after_duration`, `length_seconds`). Outputs: `n`, or a name that starts with
    /// `num`, `number` or `max` and ends with a plural of what models make (`num_images`,
    /// `max_images`, `number_of_outputs`), or ends with `count` after one (`image_count`).
    /// Words are split at `_`, `-` and case changes. A field the rule misses or mistakes is
    /// named in the overlay (`price_units`).
    pub fn of_field(name: &str) -> Option<PriceUnit> {
        let words = words(name);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            [.., "duration" | "seconds"] => Some(PriceUnit::Second),
            ["n"] => Some(PriceUnit::Output),
            ["num" | "number" | "max", .., last] if OUTPUT_NOUNS.contains(last) => {
                Some(PriceUnit::Output)
            }
            [.., noun, "count"] if OUTPUT_NOUNS.contains(&plural(noun).as_str()) => {
                Some(PriceUnit::Output)
            }
            _ => None,
        }
    }
}

/// What models make, as the plural in a count field's name.
const OUTPUT_NOUNS: &[&str] = &[
    "images",
    "outputs",
    "videos",
    "audios",
    "clips",
    "samples",
    "results",
    "generations",
    "variations",
    "pictures",
];

fn plural(noun: &str) -> String {
    if noun.ends_with('s') {
        noun.to_owned()
    } else {
        format!("{noun}s")
    }
}

/// The words of a field name, lower case: split at `_`, `-`, spaces and lower-to-upper case
/// changes (`numImages` → `num`, `images`).
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | ' ' | '.') {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// How a published rate relates to what a job costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pricing {
    /// The rate times the units is the price: an estimate can be made.
    Fixed,
    /// The rate is a floor (the price depends on more than the units): no estimate.
    Base,
    /// A word this version does not know (`tiered`, `per_megapixel`): the rate is not taken as
    /// what a job costs, so no estimate.
    Other,
}

impl Pricing {
    /// The catalog's word (`pricing`).
    pub const fn name(self) -> &'static str {
        match self {
            Pricing::Fixed => "fixed",
            Pricing::Base => "base",
            Pricing::Other => "other",
        }
    }

    /// Reads the API's `pricing` (or `pricing_mode`): a word not known is [`Pricing::Other`].
    pub fn read(word: &str) -> Pricing {
        Pricing::parse(word).unwrap_or(Pricing::Other)
    }

    /// Reads a catalog's `pricing`: `fixed` or `base`.
    pub fn parse(word: &str) -> Option<Pricing> {
        match word.trim().to_ascii_lowercase().as_str() {
            "fixed" => Some(Pricing::Fixed),
            "base" => Some(Pricing::Base),
            _ => None,
        }
    }
}

/// What an overlay's `price_units` on a field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitsOverlay {
    /// The field counts this unit.
    Unit(PriceUnit),
    /// The field counts nothing, whatever its name.
    None,
}

impl UnitsOverlay {
    /// Reads `price_units`: `output`, `second` or `none`.
    pub fn parse(word: &str) -> Option<UnitsOverlay> {
        match word {
            "none" => Some(UnitsOverlay::None),
            "output" => Some(UnitsOverlay::Unit(PriceUnit::Output)),
            "second" => Some(UnitsOverlay::Unit(PriceUnit::Second)),
            _ => None,
        }
    }

    /// The words `price_units` takes.
    pub const WORDS: [&'static str; 3] = ["output", "second", "none"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_finds_counts_and_durations_by_name() {
        let unit = PriceUnit::of_field;
        for name in [
            "duration",
            "extend_after_duration",
            "length_seconds",
            "Duration",
        ] {
            assert_eq!(unit(name), Some(PriceUnit::Second), "{name}");
        }
        for name in [
            "num_images",
            "max_images",
            "numImages",
            "number_of_outputs",
            "n",
            "image_count",
            "num_videos",
        ] {
            assert_eq!(unit(name), Some(PriceUnit::Output), "{name}");
        }
        for name in [
            "sequential_image_generation_options",
            "images",
            "seed",
            "num_inference_steps",
            "max_tokens",
            "duration_mode",
            "resolution",
            "count",
        ] {
            assert_eq!(unit(name), None, "{name}");
        }
    }

    #[test]
    fn words_round_trip() {
        for unit in PriceUnit::ALL {
            assert_eq!(PriceUnit::parse(unit.name()), Some(unit));
            assert_eq!(PriceUnit::parse(unit.plural()), Some(unit));
        }
        for pricing in [Pricing::Fixed, Pricing::Base] {
            assert_eq!(Pricing::parse(pricing.name()), Some(pricing));
        }
        assert_eq!(PriceUnit::parse("token"), None);
        assert_eq!(Pricing::parse("free"), None);
        assert_eq!(Pricing::read("tiered"), Pricing::Other);
        assert_eq!(Pricing::parse(Pricing::Other.name()), None);
        for word in UnitsOverlay::WORDS {
            assert!(UnitsOverlay::parse(word).is_some());
        }
        assert_eq!(UnitsOverlay::parse("outputs"), None);
    }
}
