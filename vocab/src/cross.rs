//! Rules across several fields, added by a model's `overlay.json` (`rules`), and the count a
//! prompt states.
//!
//! ```json
//! {"rule": "max_total", "fields": ["images", "max_images"], "max": 15, "message": "..."}
//! {"rule": "prompt_count", "prompt": "text", "count": "max_images", "message": "..."}
//! {"rule": "at_least_one", "fields": ["reference_images", "reference_videos"], "message": "..."}
//! {"rule": "at_most_one", "fields": ["image_url", "audio_urls"], "message": "..."}
//! ```

/// A kind of rule across fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CrossRuleKind {
    /// The item counts of array fields plus the values of integer fields (defaults included)
    /// must not exceed `max`: an error.
    MaxTotal,
    /// The number of images the prompt states should be the count field's: a warning.
    PromptCount,
    /// At least one of the fields must be given, and not empty (an empty list or text, or
    /// `null`, is not given); defaults count as given: an error.
    AtLeastOne,
    /// At most one of the fields may be given (as [`AtLeastOne`](Self::AtLeastOne) counts
    /// them): an error.
    AtMostOne,
}

impl CrossRuleKind {
    /// Every kind.
    pub const ALL: &'static [CrossRuleKind] = &[
        CrossRuleKind::MaxTotal,
        CrossRuleKind::PromptCount,
        CrossRuleKind::AtLeastOne,
        CrossRuleKind::AtMostOne,
    ];

    /// The `rule` value of an overlay rule, and the rule of the problems it reports.
    pub const fn name(self) -> &'static str {
        match self {
            CrossRuleKind::MaxTotal => "max_total",
            CrossRuleKind::PromptCount => "prompt_count",
            CrossRuleKind::AtLeastOne => "at_least_one",
            CrossRuleKind::AtMostOne => "at_most_one",
        }
    }

    /// Reads an overlay's `rule`.
    pub fn parse(name: &str) -> Option<CrossRuleKind> {
        CrossRuleKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
    }
}

// The count a prompt states: a heuristic for a warning, so it prefers saying nothing to
// guessing. Only a number directly before a word for images, or one adjective before it, counts.

/// Nouns that count generated images, singular and plural.
const NOUNS: &[&str] = &[
    "image",
    "images",
    "picture",
    "pictures",
    "photo",
    "photos",
    "frame",
    "frames",
    "variation",
    "variations",
    "shot",
    "shots",
];

/// English number words, `one` being 1.
const WORDS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Words that cannot be the adjective between a number and its noun: "2 of the images" or
/// "3 and images" do not count images.
const NOT_ADJECTIVES: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "with", "by", "from", "and", "or",
    "per", "x", "as", "into", "over", "than",
];

/// Words before a number that make it refer to images already there ("the 2 images",
/// "these three photos"), not to images to generate.
const REFERRING: &[&str] = &[
    "the", "these", "those", "both", "my", "our", "your", "their", "its", "his", "her", "all",
];

/// The number of images the prompt states, if it states one: the first number, in digits or
/// as a word from one to twenty, followed by an image noun (images, pictures, photos, frames,
/// variations, shots), with at most one adjective between.
///
/// Words are compared ignoring ASCII case rather than lower-cased copies (a prompt is checked
/// on every submit, however long): the lists are lower-case ASCII without a `k`, the one ASCII
/// letter a non-ASCII one (the Kelvin sign) lower-cases to, so both ways agree.
pub fn stated_count(prompt: &str) -> Option<u64> {
    let mut words = prompt
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric()));
    let mut previous = None;
    while let Some(word) = words.next() {
        if let Some(count) = number(word)
            && !previous.is_some_and(|before| is_one_of(REFERRING, before))
        {
            let mut ahead = words.clone();
            let (next, after) = (ahead.next(), ahead.next());
            if next.is_some_and(is_noun) {
                return Some(count);
            }
            if let (Some(next), Some(after)) = (next, after) {
                let adjective =
                    !next.is_empty() && !is_one_of(NOT_ADJECTIVES, next) && number(next).is_none();
                if adjective && is_noun(after) {
                    return Some(count);
                }
            }
        }
        previous = Some(word);
    }
    None
}

fn number(word: &str) -> Option<u64> {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok();
    }
    WORDS
        .iter()
        .position(|w| w.eq_ignore_ascii_case(word))
        .map(|index| index as u64 + 1)
}

fn is_noun(word: &str) -> bool {
    is_one_of(NOUNS, word)
}

/// Whether `word` is one of `list`, ignoring ASCII case.
fn is_one_of(list: &[&str], word: &str) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::{NOT_ADJECTIVES, NOUNS, REFERRING, WORDS, stated_count};

    #[test]
    fn reads_digits_before_an_image_noun() {
        let cases = [
            (
                "Generate 3 images of a beautiful sunset over a calm ocean.",
                3,
            ),
            ("3 pictures of a cat", 3),
            ("a set of 4 images showing the seasons", 4),
            ("Make 12 photos.", 12),
            ("Give me 2 variations", 2),
            ("Storyboard in 6 frames", 6),
            ("10 shots of the same scene", 10),
            ("Generate 1 image", 1),
            ("Generate 03 images", 3),
            ("Generate (5) images", 5),
        ];
        for (prompt, want) in cases {
            assert_eq!(stated_count(prompt), Some(want), "{prompt}");
        }
    }

    #[test]
    fn reads_number_words_one_to_twenty() {
        let cases = [
            ("three images of a lighthouse", 3),
            ("Generate five photos", 5),
            ("One picture please", 1),
            ("Create TWENTY frames", 20),
            ("eleven variations of the logo", 11),
        ];
        for (prompt, want) in cases {
            assert_eq!(stated_count(prompt), Some(want), "{prompt}");
        }
    }

    #[test]
    fn word_lists_are_lower_case_ascii_without_a_k() {
        // What comparing them ignoring ASCII case relies on (see `stated_count`).
        for word in [NOUNS, WORDS, NOT_ADJECTIVES, REFERRING].concat() {
            assert!(
                word.bytes().all(|b| b.is_ascii_lowercase()) && !word.contains('k'),
                "{word}"
            );
        }
    }

    #[test]
    fn ignores_case_in_every_word_list() {
        assert_eq!(stated_count("Generate 3 IMAGES"), Some(3));
        assert_eq!(stated_count("3 Beautiful Photos"), Some(3));
        assert_eq!(stated_count("2 OF THE images"), None);
        assert_eq!(stated_count("edit THE 2 images, then 3 more"), None);
    }

    #[test]
    fn allows_one_adjective_between() {
        assert_eq!(stated_count("Generate 3 beautiful images"), Some(3));
        assert_eq!(stated_count("four different photos of a dog"), Some(4));
        assert_eq!(stated_count("6 consecutive frames"), Some(6));
    }

    #[test]
    fn ignores_numbers_that_do_not_count_images() {
        let cases = [
            "a 16:9 image of a city",
            "1920 pixels wide",
            "sunset over 2 oceans",
            "a 4k image",
            "1920x1080 images",
            "Generate images of 3 cats",
            "2 very different beautiful images",
            "2 of the images",
            "a 3-image series",
            "Generate images",
            "",
            "twenty-one images",
            "a photo from 1999",
        ];
        for prompt in cases {
            assert_eq!(stated_count(prompt), None, "{prompt}");
        }
    }

    #[test]
    fn ignores_numbers_referring_to_given_images() {
        assert_eq!(stated_count("Combine the 2 images into a poster"), None);
        assert_eq!(stated_count("Use these three photos as style"), None);
        assert_eq!(
            stated_count("Blend the 2 images and generate 4 images"),
            Some(4)
        );
    }

    #[test]
    fn the_first_count_wins() {
        assert_eq!(
            stated_count("Generate 3 images: one image of a cat, one of a dog"),
            Some(3)
        );
    }

    #[test]
    fn a_huge_number_is_not_a_count() {
        assert_eq!(stated_count("99999999999999999999999 images"), None);
    }
}
