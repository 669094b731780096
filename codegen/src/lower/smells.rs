//! Catalog smells: things that generate fine but deserve a maintainer's look. They are found on
//! the generator's own pass over the schemas and reported as warnings (`cargo xtask lint`).

use crate::catalog::SourceModel;
use crate::error::{Warning, WarningKind};

/// Function words of the languages RunComfy's docs are translated into, which English text
/// does not use; two of them (or a non-ASCII letter) mark a text as not English.
const FOREIGN_WORDS: &[&str] = &[
    "plusieurs",
    "une",
    "des",
    "les",
    "avec",
    "pour",
    "dans",
    "sont",
    "seule",
    "el",
    "los",
    "las",
    "una",
    "del",
    "para",
    "con",
    "varias",
    "imagen",
    "il",
    "della",
    "delle",
    "degli",
    "singola",
    "singolo",
    "immagine",
    "und",
    "der",
    "das",
    "mit",
    "eine",
    "nicht",
    "oder",
    "ist",
    "bild",
];

/// Whether a title or description looks localized: a letter of a script other than Latin
/// (`画`, `Я`; Greek counts as Latin here, being English's symbols: `σ`), or two hints: a
/// word with an accented Latin letter (`più`) or a function word of another language
/// (`varias URLs de imagen`). One accented word is English's too (`café`, `Pokémon`), and
/// typography (`–`, `≤`, `✨`) is no letter.
pub fn is_localized(text: &str) -> bool {
    if text
        .chars()
        .any(|c| c.is_alphabetic() && !is_latin_or_greek(c))
    {
        return true;
    }
    let hints = text
        .split(|c: char| !(c.is_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .filter(|w| {
            let w = w.to_lowercase();
            !w.is_ascii()
                || FOREIGN_WORDS.contains(&w.as_str())
                || ["d'", "l'", "qu'", "dell'"]
                    .iter()
                    .any(|p| w.starts_with(p) && w.len() > p.len())
        })
        .count();
    hints >= 2
}

/// Latin (with its accented forms) or Greek.
fn is_latin_or_greek(c: char) -> bool {
    c.is_ascii()
        || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{0370}'..='\u{03FF}' | '\u{1E00}'..='\u{1EFF}')
}

/// Models whose output schema is not the most common one, nor the documented one of their
/// kind: each gets its own output type, which is worth a look.
pub(super) fn uncommon_outputs(sources: &[SourceModel], warnings: &mut Vec<Warning>) {
    let mut groups: Vec<(&serde_json::Value, Vec<&SourceModel>)> = Vec::new();
    for src in sources {
        match groups.iter_mut().find(|(schema, _)| **schema == src.output) {
            Some((_, members)) => members.push(src),
            None => groups.push((&src.output, vec![src])),
        }
    }
    // Ties go to the group seen first, i.e. with the smallest model id.
    let Some(common) = groups
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.1.len().cmp(&b.1.len()).then(j.cmp(i)))
        .map(|(i, _)| i)
    else {
        return;
    };
    let (_, members) = &groups[common];
    let example = members.first().map(|m| m.id.as_str()).unwrap_or_default();
    let shared = members.len();
    for (i, (_, others)) in groups.iter().enumerate() {
        if i == common {
            continue;
        }
        // The documented output of another kind (audio) is not the maintainer's to check.
        let given = others.iter().filter(|src| !src.has_documented_output());
        for src in given {
            warnings.push(Warning {
                kind: WarningKind::UncommonOutput,
                path: src.output_path.clone(),
                pointer: src.output_pointer.to_owned(),
                problem: format!(
                    "the output schema differs from the one {shared} of {} model(s) share (as `{example}` has), so it gets its own output type; check that the difference is real",
                    sources.len()
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_localized;

    #[test]
    fn localized_text_is_told_from_english() {
        assert!(is_localized("Carica una o più immagini"));
        assert!(is_localized("Une image avec des couleurs"));
        assert!(is_localized("varias URLs de imagen para la edición"));
        assert!(is_localized("画像"));
        assert!(!is_localized("Upload 1–10 images, ≤ 10 MB each"));
        assert!(!is_localized("The aspect ratio of the image to generate."));
        assert!(is_localized("Größe des Bildes"));
        assert!(is_localized("Résolution de l'image"));
        assert!(is_localized("Соотношение сторон"));
        assert!(!is_localized("What to draw, in émojis too ✨"));
        assert!(!is_localized("A Pokémon card"));
        assert!(!is_localized("Noise σ of the sampler"));
    }
}
