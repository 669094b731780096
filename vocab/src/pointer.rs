//! JSON pointers (RFC 6901), the `$ref`s that hold them, and the paths problems are reported at.

use std::fmt::{self, Write as _};

/// Escapes one reference token: `~` as `~0`, `/` as `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape`]; `None` for a `~` not followed by `0` or `1`.
pub fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A JSON pointer being built, token by token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer to the whole document (`""`).
    pub fn root() -> Pointer {
        Pointer::default()
    }

    /// This pointer with one more token.
    pub fn join(&self, token: impl AsRef<str>) -> Pointer {
        Pointer(format!("{}/{}", self.0, escape(token.as_ref())))
    }

    /// This pointer with an array index.
    pub fn index(&self, index: usize) -> Pointer {
        Pointer(format!("{}/{index}", self.0))
    }

    /// The pointer's text (`/properties/a~1b`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last token as written (escaped): the key or index the pointer ends at (`a~1b`).
    pub fn last(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    /// The pointer of the value holding this one (the root's is the root).
    pub fn parent(&self) -> Pointer {
        Pointer(self.0[..self.0.rfind('/').unwrap_or(0)].to_owned())
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &Pointer) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0[other.0.len()..].starts_with('/'))
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a URI fragment names in a schema: a place by JSON pointer (`#/definitions/a`, or `#`
/// for the whole resource) or a schema by its plain name (`#node`, declared by an `$id` or
/// `$anchor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    /// The pointer's tokens, decoded (`/definitions/a%25b` → `["definitions", "a%b"]`).
    Pointer(Vec<String>),
    /// The name, decoded.
    Name(String),
}

/// Reads a URI fragment (without its `#`), percent-encoded as URIs carry it. `Err` says why
/// it is malformed.
pub fn fragment(fragment: &str) -> Result<Fragment, &'static str> {
    let fragment = percent_decode(fragment).ok_or("its fragment is not valid percent-encoding")?;
    if fragment.is_empty() {
        return Ok(Fragment::Pointer(Vec::new()));
    }
    let Some(pointer) = fragment.strip_prefix('/') else {
        return Ok(Fragment::Name(fragment));
    };
    pointer
        .split('/')
        .map(|token| unescape(token).ok_or("its pointer has a `~` not followed by 0 or 1"))
        .collect::<Result<_, _>>()
        .map(Fragment::Pointer)
}

/// Decodes `%XX` escapes (URI fragments); `None` when one is malformed or the result is not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One step of a [`Path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step<'a> {
    /// A property.
    Key(&'a str),
    /// An array item.
    Index(usize),
}

/// Where a problem lies in an input, written as people read it (`images[2]`, `style.weight`,
/// `["odd key"]`; empty for the input itself), and as a JSON pointer for programs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path {
    text: String,
    pointer: Pointer,
}

impl Path {
    /// The input itself.
    pub fn root() -> Path {
        Path::default()
    }

    /// A path that is not one place (`images + max_images`): its text, and the input's
    /// pointer.
    pub fn named(text: impl Into<String>) -> Path {
        Path {
            text: text.into(),
            pointer: Pointer::root(),
        }
    }

    /// This path and one more step.
    pub fn step(&self, step: Step<'_>) -> Path {
        let mut text = self.text.clone();
        let pointer = match step {
            Step::Index(i) => {
                let _ = write!(text, "[{i}]");
                self.pointer.index(i)
            }
            Step::Key(key) => {
                if is_plain(key) {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(key);
                } else {
                    text.push('[');
                    quote(&mut text, key);
                    text.push(']');
                }
                self.pointer.join(key)
            }
        };
        Path { text, pointer }
    }

    /// This path and a property.
    pub fn key(&self, key: &str) -> Path {
        self.step(Step::Key(key))
    }

    /// This path and an array item.
    pub fn index(&self, index: usize) -> Path {
        self.step(Step::Index(index))
    }

    /// The path's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The JSON pointer of the place.
    pub fn pointer(&self) -> &Pointer {
        &self.pointer
    }

    /// Whether this is the input itself.
    pub fn is_root(&self) -> bool {
        self.text.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A key written bare in a path: ASCII letters, digits, `_` and `-`, not starting with a digit.
fn is_plain(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Writes `key` as a JSON string: quotes, backslashes and every control character escaped, so
/// a hostile key cannot break a line or reach a terminal as an escape sequence.
pub fn quote(out: &mut String, key: &str) {
    out.push('"');
    for c in key.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_invisible(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters that change how text around them is shown (bidi controls, zero-width marks).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_escape_and_unescape() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(unescape("a~1b~0c").as_deref(), Some("a/b~c"));
        assert_eq!(unescape("a~2"), None);
        let pointer = Pointer::root().join("properties").join("a/b").index(3);
        assert_eq!(pointer.as_str(), "/properties/a~1b/3");
        assert!(pointer.starts_with(&Pointer::root().join("properties")));
        assert!(
            !Pointer::root()
                .join("propertiesX")
                .starts_with(&Pointer::root().join("properties"))
        );
    }

    #[test]
    fn fragments() {
        assert_eq!(fragment(""), Ok(Fragment::Pointer(vec![])));
        assert_eq!(
            fragment("/definitions/a%25b/tilde~0field"),
            Ok(Fragment::Pointer(vec![
                "definitions".to_owned(),
                "a%b".to_owned(),
                "tilde~field".to_owned()
            ]))
        );
        assert_eq!(
            fragment("/definitions/foo%22bar"),
            Ok(Fragment::Pointer(vec![
                "definitions".to_owned(),
                "foo\"bar".to_owned()
            ]))
        );
        assert_eq!(fragment("foo"), Ok(Fragment::Name("foo".to_owned())));
        assert!(fragment("/a%zz").is_err());
        assert!(fragment("/a~2").is_err());
    }

    #[test]
    fn paths_read_like_code_and_quote_odd_keys() {
        let path = Path::root().key("images").index(2);
        assert_eq!(path.as_str(), "images[2]");
        assert_eq!(path.pointer().as_str(), "/images/2");
        assert_eq!(Path::root().key("a/b").pointer().as_str(), "/a~1b");
        assert_eq!(Path::root().key("a").key("b_c").as_str(), "a.b_c");
        assert_eq!(Path::root().key("a.b").as_str(), "[\"a.b\"]");
        assert_eq!(
            Path::root().key("x\n\u{1b}[2J").as_str(),
            "[\"x\\n\\u{001b}[2J\"]"
        );
        assert!(Path::root().is_root());
    }
}
