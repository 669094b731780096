//! Rust names for catalog names: modules, fields, types and enum variants.
//!
//! Every function is deterministic and produces an identifier that compiles without warnings;
//! the wire names are kept apart (serde renames), so nothing here changes what is sent.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords that cannot be field or module names.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keeps ASCII letters, digits and `_` of the name's ASCII transliteration; everything else
/// becomes `_`.
fn ascii_word_chars(name: &str) -> String {
    transliterated(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The name in ASCII letters (`größe` → `grosse`, `中文` → `Zhong Wen`), so a name in another
/// script or with accents reads as itself rather than as `gr_e` or a numbered fallback.
fn transliterated(name: &str) -> std::borrow::Cow<'_, str> {
    if name.is_ascii() {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(deunicode::deunicode(name))
    }
}

/// A snake_case identifier: `promptText` → `prompt_text`, `600_prompt` → `field_600_prompt`,
/// `type` → `type_`, `größe` → `grosse`. `fallback` is used when nothing is left (a name of
/// symbols alone).
pub fn snake_ident(name: &str, fallback: &str) -> String {
    let mut ident = ascii_word_chars(name).to_snake_case();
    if ident.is_empty() || ident.chars().all(|c| c == '_') {
        ident = fallback.to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("field_{ident}");
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// A module name for one model id segment: `seedream-4-0` → `seedream_4_0`, `4o` → `m4o`.
pub fn module_ident(segment: &str) -> String {
    let mut ident = ascii_word_chars(segment).to_snake_case();
    if ident.is_empty() {
        ident = "model".to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("m{ident}");
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// A PascalCase type name: `image_size` → `ImageSize`, `600_prompt` → `Field600Prompt`.
pub fn type_ident(name: &str, fallback: &str) -> String {
    let mut ident = ascii_word_chars(name).to_upper_camel_case();
    if ident.is_empty() {
        ident = fallback.to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("Field{ident}");
    }
    if ident == "Self" {
        ident = "SelfValue".to_owned();
    }
    ident
}

/// Whether a title reads as a name (`Text Part`, `image_ref`): one to four words of letters
/// and digits, the first starting with a letter. A sentence is not taken for a type's name.
pub fn is_name(title: &str) -> bool {
    let words: Vec<&str> = title
        .split([' ', '_', '-'])
        .filter(|w| !w.is_empty())
        .collect();
    (1..=4).contains(&words.len())
        && words.iter().all(|w| w.chars().all(char::is_alphanumeric))
        && words[0].starts_with(char::is_alphabetic)
}

/// The marker type name of a model, from its id: the last segment (`edit-sequential` →
/// `EditSequential`), with the one before it when the last is a version (`wan/v2.1` → `WanV21`).
pub fn model_type_ident(segments: &[&str]) -> String {
    let last = segments.last().copied().unwrap_or("model");
    let is_version = last.starts_with(|c: char| c.is_ascii_digit())
        || (last.starts_with(['v', 'V']) && last[1..].starts_with(|c: char| c.is_ascii_digit()));
    let name = match segments.len().checked_sub(2).map(|i| segments[i]) {
        Some(previous) if is_version => type_ident(&format!("{previous}-{last}"), "Model"),
        _ => type_ident(last, "Model"),
    };
    // `acme/flux/media` must not be `Media`, which the generated code names (`SelfValue`
    // already is not `Self`).
    if RESERVED_TYPE_NAMES.contains(&name.as_str()) {
        format!("{name}Model")
    } else {
        name
    }
}

/// A readable variant name for a string choice.
///
/// Runs of letters become PascalCase words; numbers stay as written, and two numbers that a
/// `:`, `x` or `/` separated are joined by `x` (`16:9` → `16x9`). Numbers separated otherwise
/// are kept apart by `_`, which keeps them readable and still camel case. A name that would
/// start with a digit gets a `V` (for value): `2560:1440 (16:9)` → `V2560x1440_16x9`, `1K` →
/// `V1K`. Overlays can give nicer names still.
pub fn variant_ident(value: &str, position: usize) -> String {
    let mut out = String::new();
    let mut separator = String::new();
    for run in split_runs(value) {
        match run {
            Run::Word(word) => {
                if !out.is_empty() {
                    let prev_digit = out.ends_with(|c: char| c.is_ascii_digit());
                    let next_digit = word.starts_with(|c: char| c.is_ascii_digit());
                    if prev_digit && next_digit {
                        let ratio = separator
                            .chars()
                            .any(|c| matches!(c, ':' | '/' | 'x' | 'X' | '*'))
                            && !separator.chars().any(|c| matches!(c, '(' | ')' | ' '));
                        out.push(if ratio { 'x' } else { '_' });
                    }
                }
                out.push_str(&word_case(&word));
                separator.clear();
            }
            Run::Separator(sep) => separator.push_str(&sep),
        }
    }
    if value.is_empty() {
        return "Empty".to_owned();
    }
    if out.is_empty() {
        return format!("Value{}", position + 1);
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Self" {
        out = "SelfValue".to_owned();
    }
    out
}

/// A variant name for an integer choice: small numbers as words (`3` → `Three`), others as
/// `N1000` / `Minus5`.
pub fn integer_variant_ident(value: i64) -> String {
    const WORDS: [&str; 21] = [
        "Zero",
        "One",
        "Two",
        "Three",
        "Four",
        "Five",
        "Six",
        "Seven",
        "Eight",
        "Nine",
        "Ten",
        "Eleven",
        "Twelve",
        "Thirteen",
        "Fourteen",
        "Fifteen",
        "Sixteen",
        "Seventeen",
        "Eighteen",
        "Nineteen",
        "Twenty",
    ];
    let magnitude = value.unsigned_abs();
    let body = usize::try_from(magnitude)
        .ok()
        .and_then(|i| WORDS.get(i))
        .map(|w| (*w).to_owned())
        .unwrap_or_else(|| format!("N{magnitude}"));
    if value < 0 {
        format!("Minus{}", body.trim_start_matches('N'))
    } else {
        body
    }
}

/// A `SCREAMING_SNAKE_CASE` name for a `static`, from words (`["images", "items"]` →
/// `IMAGES_ITEMS`); `fallback` when nothing is left.
pub fn static_ident(words: &[&str], fallback: &str) -> String {
    use heck::ToShoutySnakeCase;
    let parts: Vec<String> = words
        .iter()
        .map(|w| ascii_word_chars(w).to_shouty_snake_case())
        .filter(|w| !w.is_empty())
        .collect();
    let mut ident = parts.join("_");
    if ident.is_empty() {
        ident = fallback.to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("S{ident}");
    }
    ident
}

/// The obvious short alias of a choice: the text in its parentheses (`2560:1440 (16:9)` →
/// `16:9`), when that is unique among the choices.
pub fn obvious_alias(value: &str) -> Option<String> {
    let open = value.rfind('(')?;
    let close = value[open..].find(')')? + open;
    let inner = value[open + 1..close].trim();
    (!inner.is_empty() && inner != value).then(|| inner.to_owned())
}

/// Type names a model's module uses without a path, which none of its own types may take: the
/// Rust prelude's types, variants and traits, serde's derives, the crate's value types and the
/// validation traits the module imports, and the type parameters of the macros it calls
/// (`object_serde!`'s `S`, `D`, `A`). A property named `string` or `s` gets `StringObject`.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "A",
    "D",
    "S",
    "T",
    "Self",
    "Box",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Display",
    "Eq",
    "Hash",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "From",
    "Into",
    "FromStr",
    "Formatter",
    "Iterator",
    "ToString",
    "AsRef",
    "Send",
    "Sync",
    "Sized",
    "Serialize",
    "Deserialize",
    "Integer",
    "Number",
    "Media",
    "Json",
    "Instance",
    "Object",
    "View",
    "Array",
    "ParseChoiceError",
];

/// Makes `name` unique among `taken` by appending `suffix` (then `suffix2`, `suffix3`, ...), and
/// records it.
pub fn unique(name: String, taken: &mut BTreeSet<String>, suffix: &str) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            format!("{name}{suffix}")
        } else {
            format!("{name}{suffix}{n}")
        };
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

enum Run {
    Word(String),
    Separator(String),
}

/// Splits into runs of ASCII letters and digits, with the separators between them. A letter run
/// and a digit run next to each other stay one word (`1K`, `2048x2048`).
fn split_runs(value: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut word = String::new();
    let mut sep = String::new();
    for c in transliterated(value).chars() {
        if c.is_ascii_alphanumeric() {
            if !sep.is_empty() {
                runs.push(Run::Separator(std::mem::take(&mut sep)));
            }
            word.push(c);
        } else {
            if !word.is_empty() {
                runs.push(Run::Word(std::mem::take(&mut word)));
            }
            sep.push(c);
        }
    }
    if !word.is_empty() {
        runs.push(Run::Word(word));
    }
    runs
}

/// Capitalizes a word: `fast` → `Fast`, `AUTO` → `Auto`, `promptText` → `PromptText`; digits and
/// the `x` between numbers (`2048x2048`) are kept.
fn word_case(word: &str) -> String {
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        // `1K`, `2048x2048`, `16bit`: numbers as written, `x` between numbers, and a capital
        // where letters follow digits (`16Bit`).
        let mut out = String::new();
        let chars: Vec<char> = word.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let after_digit = i > 0 && chars[i - 1].is_ascii_digit();
            let before_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if c.is_ascii_digit() {
                out.push(c);
            } else if after_digit && before_digit && matches!(c, 'x' | 'X') {
                out.push('x');
            } else if after_digit {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        word.to_upper_camel_case()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_read_well() {
        assert_eq!(variant_ident("2560:1440 (16:9)", 0), "V2560x1440_16x9");
        assert_eq!(variant_ident("2048x2048 (1:1)", 0), "V2048x2048_1x1");
        assert_eq!(variant_ident("1K", 0), "V1K");
        assert_eq!(variant_ident("fast", 0), "Fast");
        assert_eq!(variant_ident("AUTO", 0), "Auto");
        assert_eq!(variant_ident("text-to-image", 0), "TextToImage");
        assert_eq!(variant_ident("", 0), "Empty");
        assert_eq!(variant_ident("高清", 2), "GaoQing");
        assert_eq!(variant_ident("Élégant", 0), "Elegant");
        assert_eq!(variant_ident("→", 4), "Value5");
        assert_eq!(variant_ident("Self", 0), "SelfValue");
        assert_eq!(variant_ident("🔥", 0), "Fire");
        assert_eq!(variant_ident("🔥\u{fe0f}", 0), "Fire");
    }

    #[test]
    fn titles_that_are_names() {
        assert!(is_name("Text Part"));
        assert!(is_name("image_ref"));
        assert!(is_name("Größe"));
        assert!(!is_name("An image given by its URL"));
        assert!(!is_name("Crop (x, y)"));
        assert!(!is_name("2x"));
        assert!(!is_name(" "));
    }

    #[test]
    fn idents_compile() {
        assert_eq!(snake_ident("promptText", "f"), "prompt_text");
        assert_eq!(snake_ident("600_prompt", "f"), "field_600_prompt");
        assert_eq!(snake_ident("type", "f"), "type_");
        assert_eq!(snake_ident("提示", "field_1"), "ti_shi");
        assert_eq!(snake_ident("größe", "f"), "grosse");
        assert_eq!(snake_ident("→", "field_1"), "field_1");
        assert_eq!(module_ident("seedream-4-0"), "seedream_4_0");
        assert_eq!(module_ident("v2.1"), "v2_1");
        assert_eq!(module_ident("4o"), "m4o");
        assert_eq!(type_ident("image_size", "T"), "ImageSize");
        assert_eq!(type_ident("edit-sequential", "T"), "EditSequential");
        assert_eq!(
            model_type_ident(&["acme", "messy-model", "v1.5"]),
            "MessyModelV15"
        );
        assert_eq!(
            model_type_ident(&["bytedance", "seedream-4-0", "edit"]),
            "Edit"
        );
        assert_eq!(model_type_ident(&["acme", "flux", "media"]), "MediaModel");
        assert_eq!(model_type_ident(&["acme", "flux", "result"]), "ResultModel");
        assert_eq!(model_type_ident(&["acme", "flux", "self"]), "SelfValue");
        assert_eq!(integer_variant_ident(3), "Three");
        assert_eq!(integer_variant_ident(1000), "N1000");
        assert_eq!(integer_variant_ident(-2), "MinusTwo");
        assert_eq!(static_ident(&["images", "items"], "S"), "IMAGES_ITEMS");
        assert_eq!(static_ident(&["promptText"], "S"), "PROMPT_TEXT");
        assert_eq!(static_ident(&["提示"], "S"), "TI_SHI");
        assert_eq!(static_ident(&["→"], "S"), "S");
        assert_eq!(static_ident(&["1st"], "S"), "S1ST");
    }

    #[test]
    fn aliases_and_uniqueness() {
        assert_eq!(obvious_alias("2560:1440 (16:9)").as_deref(), Some("16:9"));
        assert_eq!(obvious_alias("fast"), None);
        let mut taken = BTreeSet::new();
        assert_eq!(unique("Auto".into(), &mut taken, "Alt"), "Auto");
        assert_eq!(unique("Auto".into(), &mut taken, "Alt"), "AutoAlt");
        assert_eq!(unique("Auto".into(), &mut taken, "Alt"), "AutoAlt2");
    }
}
