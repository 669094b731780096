//! RunComfy's `validations` extension: rules measured on each media file of a field.
//!
//! ```json
//! {"validation_rule": "width_pixels>", "validation_value": 14, "validation_error": "..."}
//! ```
//!
//! A rule names a measurement and a strict comparison with `validation_value`: `width_pixels>
//! 14` holds from 15 px, `width/height< 3` refuses exactly 3:1. A MB is 1,048,576 bytes. On an
//! array, the rules apply to each item. Adding a rule is one line in [`Rule::ALL`] and its arms
//! below: the generator, the client and the CLI read them from here.

use std::fmt;

use crate::media::MediaKind;

/// The key of a rule's name.
pub const RULE_KEY: &str = "validation_rule";
/// The key of a rule's limit.
pub const VALUE_KEY: &str = "validation_value";
/// The key of the message reported when a rule fails.
pub const ERROR_KEY: &str = "validation_error";

/// What a rule measures on a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// The size in MB (1,048,576 bytes).
    FileSizeMb,
    /// Width divided by height.
    AspectRatio,
    /// The width in pixels.
    Width,
    /// The height in pixels.
    Height,
}

impl Measure {
    /// Whether measuring needs the picture's dimensions (read from the file's header).
    pub const fn needs_dimensions(self) -> bool {
        !matches!(self, Measure::FileSizeMb)
    }

    /// Which kinds of media the measurement can be taken of: dimensions of images and videos
    /// (a video's are its frames'), the size of any file. Audio has no dimensions.
    pub const fn applies_to(self, kind: MediaKind) -> bool {
        match self {
            Measure::FileSizeMb => true,
            _ => matches!(kind, MediaKind::Image | MediaKind::Video),
        }
    }
}

/// Which side of the limit a measurement must be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// Strictly above (`>`): a lower bound.
    Above,
    /// Strictly below (`<`): an upper bound.
    Below,
}

/// A rule of the `validations` extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `file_size_mb<`.
    FileSizeMbBelow,
    /// `width/height>`.
    AspectRatioAbove,
    /// `width/height<`.
    AspectRatioBelow,
    /// `width_pixels>`.
    WidthAbove,
    /// `width_pixels<`.
    WidthBelow,
    /// `height_pixels>`.
    HeightAbove,
    /// `height_pixels<`.
    HeightBelow,
}

impl Rule {
    /// Every rule.
    pub const ALL: &'static [Rule] = &[
        Rule::FileSizeMbBelow,
        Rule::AspectRatioAbove,
        Rule::AspectRatioBelow,
        Rule::WidthAbove,
        Rule::WidthBelow,
        Rule::HeightAbove,
        Rule::HeightBelow,
    ];

    /// The rule as catalogs write it (`file_size_mb<`).
    pub const fn wire(self) -> &'static str {
        match self {
            Rule::FileSizeMbBelow => "file_size_mb<",
            Rule::AspectRatioAbove => "width/height>",
            Rule::AspectRatioBelow => "width/height<",
            Rule::WidthAbove => "width_pixels>",
            Rule::WidthBelow => "width_pixels<",
            Rule::HeightAbove => "height_pixels>",
            Rule::HeightBelow => "height_pixels<",
        }
    }

    /// What the rule measures.
    pub const fn measure(self) -> Measure {
        match self {
            Rule::FileSizeMbBelow => Measure::FileSizeMb,
            Rule::AspectRatioAbove | Rule::AspectRatioBelow => Measure::AspectRatio,
            Rule::WidthAbove | Rule::WidthBelow => Measure::Width,
            Rule::HeightAbove | Rule::HeightBelow => Measure::Height,
        }
    }

    /// Which side of its limit the measurement must be on.
    pub const fn bound(self) -> Bound {
        match self {
            Rule::AspectRatioAbove | Rule::WidthAbove | Rule::HeightAbove => Bound::Above,
            Rule::FileSizeMbBelow
            | Rule::AspectRatioBelow
            | Rule::WidthBelow
            | Rule::HeightBelow => Bound::Below,
        }
    }

    /// What a file passing the rule with this `limit` is, for sentences about a value: `is
    /// under 10 MB`, `is over 14 pixels wide`, `has a width/height over 1`.
    pub fn phrase(self, limit: f64) -> String {
        match self {
            Rule::FileSizeMbBelow => format!("is under {limit} MB"),
            Rule::AspectRatioAbove => format!("has a width/height over {limit}"),
            Rule::AspectRatioBelow => format!("has a width/height under {limit}"),
            Rule::WidthAbove => format!("is over {limit} pixels wide"),
            Rule::WidthBelow => format!("is under {limit} pixels wide"),
            Rule::HeightAbove => format!("is over {limit} pixels high"),
            Rule::HeightBelow => format!("is under {limit} pixels high"),
        }
    }

    /// Reads a `validation_rule`.
    pub fn parse(wire: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.wire() == wire.trim())
    }

    /// The known rules, for messages: `file_size_mb<, width/height>, ...`.
    pub fn known() -> String {
        let names: Vec<&str> = Rule::ALL.iter().map(|r| r.wire()).collect();
        names.join(", ")
    }

    /// Whether `measured` satisfies the rule with this `limit`; comparisons are strict.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self.bound() {
            Bound::Above => measured > limit,
            Bound::Below => measured < limit,
        }
    }

    /// Whether the rule can be true of any file at all with this limit (`width_pixels< 0`
    /// cannot), so a catalog's impossible rule is caught when it is read.
    pub fn satisfiable(self, limit: f64) -> bool {
        limit.is_finite()
            && match self.bound() {
                Bound::Above => true,
                Bound::Below => limit > 0.0,
            }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_compare_strictly() {
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.wire()), Some(*rule));
        }
        assert_eq!(Rule::parse("duration<"), None);
        assert!(Rule::WidthAbove.holds(15.0, 14.0));
        assert!(!Rule::WidthAbove.holds(14.0, 14.0));
        assert!(!Rule::AspectRatioBelow.holds(3.0, 3.0));
        assert!(Rule::FileSizeMbBelow.holds(9.99, 10.0));
        assert!(!Rule::WidthBelow.satisfiable(0.0));
        assert!(Rule::HeightAbove.satisfiable(0.0));
        assert_eq!(Rule::WidthAbove.phrase(14.0), "is over 14 pixels wide");
        assert_eq!(Rule::FileSizeMbBelow.phrase(2.5), "is under 2.5 MB");
    }

    #[test]
    fn measures() {
        assert!(Measure::FileSizeMb.applies_to(MediaKind::Video));
        assert!(Measure::FileSizeMb.applies_to(MediaKind::Audio));
        assert!(Measure::Width.applies_to(MediaKind::Video));
        assert!(Measure::AspectRatio.applies_to(MediaKind::Image));
        assert!(!Measure::Width.applies_to(MediaKind::Audio));
        assert!(!Measure::Height.applies_to(MediaKind::Audio));
        assert!(Rule::AspectRatioAbove.measure().needs_dimensions());
    }
}
