//! Doc comments from titles and descriptions: never empty, safe for rustdoc.

use proc_macro2::TokenStream;
use quote::quote;

/// `#[doc = ...]` attributes for paragraphs written by the generator (Markdown kept); blank
/// paragraphs are dropped.
pub(crate) fn doc_attrs(paragraphs: &[String]) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
    {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        // A lone `\r` is a bare CR, which rustc refuses in a doc comment; bidirectional
        // overrides there are refused too (`text_direction_codepoint_in_comment`). Other
        // control characters and line separators (a wire name or value may hold one) are
        // written as escapes: raw, a reader's terminal or editor would act on them.
        for line in paragraph.lines().flat_map(|l| l.split('\r')) {
            let mut shown = String::with_capacity(line.len());
            for c in line.chars().filter(|c| !is_bidi_control(*c)) {
                if (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}') {
                    shown.extend(c.escape_unicode());
                } else {
                    shown.push(c);
                }
            }
            lines.push(format!(" {}", shown.trim_end()));
        }
    }
    let lines = lines
        .iter()
        .map(|l| if l.trim().is_empty() { "" } else { l.as_str() });
    quote!(#(#[doc = #lines])*)
}

/// The characters that reorder text, which rustc denies in comments.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text from a schema, made safe for rustdoc: what it would read as links or HTML is escaped
/// and bare URLs become links.
pub(crate) fn schema_text(text: &str) -> String {
    // Control characters show as nothing, and one brackets a type's link in field docs.
    let shown = |line: &str| -> String {
        line.chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect()
    };
    text.lines()
        .map(|line| escape(&shown(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.starts_with("https://") || word.starts_with("http://") {
            let url = word.trim_end_matches(['.', ',', ';', ')']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            out.push_str(&word[url.len()..]);
            continue;
        }
        if word.starts_with('`') && word.ends_with('`') && word.len() > 1 {
            out.push_str(word);
            continue;
        }
        for c in word.chars() {
            if matches!(c, '[' | ']' | '<' | '>') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_line_separators_are_written_as_escapes() {
        let docs = doc_attrs(&["Sets `evil\u{1b}[31mkey` and `a\u{2028}b`.".to_owned()]);
        assert_eq!(
            docs.to_string(),
            quote!(#[doc = " Sets `evil\\u{1b}[31mkey` and `a\\u{2028}b`."]).to_string()
        );
    }
}
