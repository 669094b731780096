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
        for line in paragraph.lines() {
            lines.push(format!(" {}", line.trim_end()));
        }
    }
    let lines = lines
        .iter()
        .map(|l| if l.trim().is_empty() { "" } else { l.as_str() });
    quote!(#(#[doc = #lines])*)
}

/// Text from a schema, made safe for rustdoc: what it would read as links or HTML is escaped
/// and bare URLs become links.
pub(crate) fn schema_text(text: &str) -> String {
    text.lines().map(escape).collect::<Vec<_>>().join("\n")
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
