//! Text from elsewhere (a server, a file host) made safe to show: on a terminal, in a log line,
//! in a batch report.
//!
//! A terminal acts on what it is sent: ESC and CSI start sequences that clear the screen, set
//! the window title or (OSC 52) write the clipboard, CR and BS overwrite what a line said, BEL
//! rings, and bidirectional overrides make text read differently from what it is. Every such
//! character is written out as an escape (`\u{1b}`), and the text is cut at a bound, so a reply
//! can neither drive the terminal nor flood it.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};

/// How many characters of one piece of server text an error shows.
pub const SHOWN_CHARS: usize = 1000;

/// How many characters of an output URL are shown whole: a signed URL is a kilobyte or two.
pub const SHOWN_URL_CHARS: usize = 8192;

/// An output URL made safe to show ([`printable_id`], cut at [`SHOWN_URL_CHARS`]): a URL has
/// no control character, nor one that shows as nothing, of its own, and
/// `runcomfy.net\u{200b}.evil.example` must not read as RunComfy's.
pub fn printable_url(url: &str) -> Cow<'_, str> {
    printable_id(url, SHOWN_URL_CHARS)
}

/// `text` with every control character (C0, DEL, C1), bidirectional control, line or
/// paragraph separator, tag character and character that shows as nothing (a zero-width
/// space) written as an escape (`\n`, `\r`, `\t`, `\u{1b}`, `\u{202e}`), and cut after
/// `max_chars` characters (with `…[N more characters]`).
///
/// ```
/// use runcomfy::error::printable;
/// assert_eq!(printable("ok\u{1b}]52;c;aGk=\u{7}", 100), "ok\\u{1b}]52;c;aGk=\\u{7}");
/// assert_eq!(printable("abcdef", 3), "abc…[3 more characters]");
/// ```
pub fn printable(text: &str, max_chars: usize) -> Cow<'_, str> {
    let mut chars = 0;
    let clean = text.chars().all(|c| {
        chars += 1;
        chars <= max_chars && !needs_escape(c)
    });
    if clean {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut shown = 0;
    for (at, c) in text.char_indices() {
        let piece = escaped(c);
        let width = piece.chars().count();
        if shown + width > max_chars {
            let rest = text[at..].chars().count();
            let _ = write!(out, "…[{rest} more characters]");
            break;
        }
        out.push_str(&piece);
        shown += width;
    }
    Cow::Owned(out)
}

/// `text` as [`printable`] writes it, with every character that shows as a space that is not
/// one (a no-break or ideographic space) or joins others unseen (the zero-width joiner and
/// non-joiner) escaped too: for an identifier, whose every character must be seen, since two
/// that read the same would name two jobs. Prose keeps them (emoji and scripts join with them).
pub fn printable_id(text: &str, max_chars: usize) -> Cow<'_, str> {
    let shown = printable(text, max_chars);
    if !shown.chars().any(hides) {
        return shown;
    }
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match hides(c) {
            true => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            false => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` shows as a space that is not one, or joins its neighbours unseen.
fn hides(c: char) -> bool {
    (c.is_whitespace() && c != ' ') || matches!(c, '\u{200C}' | '\u{200D}')
}

/// Whether `c` must not reach a terminal as it is.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional controls: marks, embeddings, overrides, isolates.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators, which some terminals and viewers break lines at.
            | '\u{2028}' | '\u{2029}'
            // Tag characters: invisible, they carry hidden ASCII ("ASCII smuggling").
            | '\u{E0000}'..='\u{E007F}'
            // Characters that show as nothing (a zero-width space, word joiner, byte order mark,
            // soft hyphen, Hangul and Mongolian fillers): `runcomfy.net\u{200b}.evil.example`
            // would read as a link it is not.
            | '\u{00AD}' | '\u{115F}' | '\u{1160}' | '\u{180E}' | '\u{200B}'
            | '\u{2060}'..='\u{2064}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        )
}

fn escaped(c: char) -> Cow<'static, str> {
    match c {
        '\n' => Cow::Borrowed("\\n"),
        '\r' => Cow::Borrowed("\\r"),
        '\t' => Cow::Borrowed("\\t"),
        c if needs_escape(c) => Cow::Owned(format!("\\u{{{:x}}}", c as u32)),
        c => Cow::Owned(c.to_string()),
    }
}

/// `value` as JSON text (`pretty` or on one line) whose strings keep all their text, but with
/// every character [`printable`] escapes written as a `\u` escape (serde_json escapes only C0
/// controls): a record or a report read with `cat` cannot drive the terminal either.
///
/// ```
/// use runcomfy::error::escaped_json;
/// let text = escaped_json(&"a\u{202e}b\u{9b}c", false).unwrap_or_default();
/// assert_eq!(text, br#""a\u202eb\u009bc""#);
/// ```
pub fn escaped_json(value: &impl Serialize, pretty: bool) -> serde_json::Result<Vec<u8>> {
    let mut text = Vec::new();
    if pretty {
        let formatter = Escaping(PrettyFormatter::new());
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut text, formatter,
        ))?;
    } else {
        let formatter = Escaping(CompactFormatter);
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut text, formatter,
        ))?;
    }
    Ok(text)
}

/// serde_json's printers, with DEL, C1 controls, bidirectional controls and line
/// separators escaped too.
struct Escaping<F>(F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            let mut buf = [0u8; 4];
            let text: &str = c.encode_utf8(&mut buf);
            if printable(text, 1) == text {
                writer.write_all(text.as_bytes())?;
            } else {
                // JSON's `\u` escapes are UTF-16: a character past the basic plane (a tag
                // character) is two of them, a surrogate pair.
                for unit in c.encode_utf16(&mut [0u16; 2]) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> std::io::Result<()> {
        self.0.write_char_escape(writer, escape)
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identifier_shows_every_character() {
        assert_eq!(printable_id("3f2c-41d8 a1b2", 100), "3f2c-41d8 a1b2");
        assert_eq!(
            printable_id("a\u{200b}b\u{a0}c\u{feff}\u{1b}\u{3164}", 100),
            "a\\u{200b}b\\u{a0}c\\u{feff}\\u{1b}\\u{3164}"
        );
        // Prose keeps what joins an emoji, and escapes what shows as nothing.
        assert_eq!(printable("👩\u{200d}🚀", 100), "👩\u{200d}🚀");
        assert_eq!(
            printable(
                "https://runcomfy.net\u{200b}.evil.example/\u{2060}pay\u{ad}",
                100
            ),
            "https://runcomfy.net\\u{200b}.evil.example/\\u{2060}pay\\u{ad}"
        );
    }

    #[test]
    fn json_escapes_what_a_terminal_would_act_on() -> serde_json::Result<()> {
        // A flag emoji is tag characters past the basic plane: a surrogate pair each.
        let flag = "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}";
        let value = serde_json::json!({"e\u{1b}]0;x\u{7}": ["\u{9b}31m", "a\u{202e}b", "\u{7f}", "ok é", flag]});
        for pretty in [true, false] {
            let text = String::from_utf8_lossy(&escaped_json(&value, pretty)?).into_owned();
            assert!(
                !text.chars().any(|c| needs_escape(c) && c != '\n'),
                "{text:?}"
            );
            // Still the same JSON.
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text)?, value);
            assert!(text.contains(r"\udb40\udc67"), "{text}");
        }
        Ok(())
    }

    #[test]
    fn terminal_sequences_become_visible_escapes() {
        let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\rfake\u{9b}31m\u{202e}txt.exe\u{2028}x\u{7f}";
        let shown = printable(hostile, 1000);
        assert!(!shown.chars().any(needs_escape), "{shown:?}");
        assert_eq!(
            shown,
            "\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\rfake\\u{9b}31m\\u{202e}txt.exe\\u{2028}x\\u{7f}"
        );
        // Hidden ASCII in tag characters shows.
        assert_eq!(
            printable("ok\u{E0041}\u{E0042}", 100),
            "ok\\u{e0041}\\u{e0042}"
        );
        // Ordinary text, accents and emoji included, is left alone.
        assert!(matches!(printable("café ☕ ok", 100), Cow::Borrowed(_)));
    }

    #[test]
    fn long_text_is_cut_and_says_how_much_is_left() {
        let long = "x".repeat(100_000);
        let shown = printable(&long, 1000);
        assert!(shown.starts_with(&"x".repeat(1000)));
        assert!(
            shown.ends_with("…[99000 more characters]"),
            "{}",
            &shown[990..]
        );
        // The bound counts the escapes, so a flood of ESC stays as short.
        let escapes = "\u{1b}".repeat(10_000);
        assert!(printable(&escapes, 60).chars().count() < 100);
    }
}
