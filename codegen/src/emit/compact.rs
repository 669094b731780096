//! Tokens to source text without a formatter, for the compiler (the build script).
//!
//! Re-parsing and pretty-printing take most of the generator's time, so the build writes the
//! tokens directly: one statement or item per line, indented by brace depth. Only whitespace
//! between tokens differs from what they mean, and a `}` never shares its line with the next
//! statement (clippy reads `} if` as a missing `else`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use proc_macro2::{Delimiter, Group, Spacing, TokenStream, TokenTree};

use super::{Sink, model_items};
use crate::ir::Catalog;

/// A group's tokens, without copying them: `Group::stream` shares them with the group, and
/// iterating shared tokens copies them all, so the group goes first.
fn into_stream(group: Group) -> TokenStream {
    let stream = group.stream();
    drop(group);
    stream
}

/// What goes between the last token written and the next.
#[derive(Clone, Copy, PartialEq)]
enum Glue {
    /// Nothing: the start of a line (already indented), after an opening delimiter, or after a
    /// punctuation mark joined to the next (`::`, `->`, `'a`).
    None,
    /// A line was just started; the next token indents it.
    LineStart,
    /// A space.
    Space,
}

/// Writes the file as it comes, so a whole catalog's tokens never exist at once.
pub(crate) struct Writer {
    text: String,
    depth: usize,
    glue: Glue,
    /// Model bodies written ahead (in parallel), by model index.
    models: BTreeMap<usize, String>,
}

impl Sink for Writer {
    fn items(&mut self, tokens: TokenStream) {
        self.stream(tokens, true);
    }

    fn model(&mut self, catalog: &Catalog, index: usize) {
        match self.models.remove(&index) {
            Some(text) => {
                if self.glue != Glue::LineStart {
                    self.newline();
                }
                self.text.push_str(&text);
                if !text.ends_with('\n') {
                    self.newline();
                }
            }
            None => {
                self.items(model_items(catalog, &catalog.models[index]));
                // As after a body written ahead: the next item starts a line.
                if self.glue != Glue::LineStart {
                    self.newline();
                }
            }
        }
    }

    fn open(&mut self, header: TokenStream) {
        self.stream(header, true);
        self.separate();
        self.text.push('{');
        self.depth += 1;
        self.newline();
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.glue != Glue::LineStart {
            self.newline();
        }
        self.indent();
        self.text.push('}');
        self.newline();
    }
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self {
            text: String::with_capacity(1 << 16),
            depth: 0,
            glue: Glue::LineStart,
            models: BTreeMap::new(),
        }
    }

    /// A writer with the bodies of the `selected` models written ahead on up to `threads`
    /// threads, each at the depth its module will have.
    pub(crate) fn with_models(catalog: &Catalog, selected: &[usize], threads: usize) -> Self {
        let mut writer = Self::new();
        if threads <= 1 {
            return writer;
        }
        let bodies = crate::parallel::map(selected, threads, |&index| {
            let model = &catalog.models[index];
            let mut body = Self::new();
            // Inside `models` and one module per id segment.
            body.depth = model.module_path.len() + 1;
            body.items(model_items(catalog, model));
            (index, body.text)
        });
        writer.models.extend(bodies);
        let size: usize = writer.models.values().map(String::len).sum();
        writer.text.reserve(size + size / 8);
        writer
    }

    pub(crate) fn finish(mut self) -> String {
        if self.glue != Glue::LineStart {
            self.text.push('\n');
        }
        self.text
    }

    /// Writes `tokens`; `lines` inside braces (statements and items), not inside `()`/`[]`.
    fn stream(&mut self, tokens: TokenStream, lines: bool) {
        let mut tokens = tokens.into_iter().peekable();
        while let Some(token) = tokens.next() {
            match token {
                TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                    self.separate();
                    self.text.push('{');
                    self.depth += 1;
                    self.newline();
                    self.stream(into_stream(group), true);
                    self.depth -= 1;
                    if self.glue != Glue::LineStart {
                        self.newline();
                    }
                    self.indent();
                    self.text.push('}');
                    // `} else`, `};`, `},` and `}.method()` stay together; anything else
                    // starts a new line.
                    let joins = match tokens.peek() {
                        Some(TokenTree::Ident(ident)) => ident == "else",
                        Some(TokenTree::Punct(punct)) => {
                            matches!(punct.as_char(), ';' | ',' | '.' | '?')
                        }
                        Some(TokenTree::Group(_) | TokenTree::Literal(_)) => false,
                        None => true,
                    };
                    if joins {
                        self.glue = Glue::Space;
                        if let Some(TokenTree::Punct(_)) = tokens.peek() {
                            self.glue = Glue::None;
                        }
                    } else {
                        self.newline();
                    }
                }
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace | Delimiter::None => ("", ""),
                    };
                    let lines = lines && group.delimiter() == Delimiter::None;
                    self.separate();
                    self.text.push_str(open);
                    self.glue = Glue::None;
                    self.stream(into_stream(group), lines);
                    if self.glue == Glue::LineStart {
                        self.indent();
                    }
                    self.text.push_str(close);
                    self.glue = Glue::Space;
                }
                TokenTree::Punct(punct) => {
                    self.separate();
                    self.text.push(punct.as_char());
                    if punct.spacing() == Spacing::Joint {
                        self.glue = Glue::None;
                    } else if lines && punct.as_char() == ';' {
                        self.newline();
                    } else {
                        self.glue = Glue::Space;
                    }
                }
                TokenTree::Ident(ident) => {
                    self.separate();
                    // Straight into the text: no String per identifier.
                    let _ = write!(self.text, "{ident}");
                    self.glue = Glue::Space;
                }
                TokenTree::Literal(literal) => {
                    self.separate();
                    let _ = write!(self.text, "{literal}");
                    self.glue = Glue::Space;
                }
            }
        }
    }

    fn separate(&mut self) {
        match self.glue {
            Glue::None => {}
            Glue::LineStart => self.indent(),
            Glue::Space => self.text.push(' '),
        }
        self.glue = Glue::None;
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.text.push_str("    ");
        }
        self.glue = Glue::None;
    }

    fn newline(&mut self) {
        self.text.push('\n');
        self.glue = Glue::LineStart;
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::Writer;
    use crate::emit::Sink;

    /// The tokens as Rust source, as the build script writes them.
    fn write(tokens: proc_macro2::TokenStream) -> String {
        let mut out = Writer::new();
        out.items(tokens);
        out.finish()
    }

    #[test]
    fn one_statement_per_line_indented_by_braces() {
        let code = write(quote! {
            /// Docs.
            pub fn f(a: &'static str) -> Option<u8> {
                if a.is_empty() { return None; } else { g(); }
                if let Some(x) = h() { x?; }
                let v = [0u8; 4];
                Some(v[0])
            }
        });
        assert_eq!(
            code,
            "# [doc = r\" Docs.\"] pub fn f (a : & 'static str) -> Option < u8 > {\n    \
             if a . is_empty () {\n        return None ;\n    } else {\n        g () ;\n    }\n    \
             if let Some (x) = h () {\n        x ? ;\n    }\n    \
             let v = [0u8 ; 4] ;\n    \
             Some (v [0])\n}\n"
        );
    }
}
