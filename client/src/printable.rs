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

/// How many characters of one piece of server text an error shows.
pub const SHOWN_CHARS: usize = 1000;

/// `text` with every control character (C0, DEL, C1), bidirectional control and line or
/// paragraph separator written as an escape (`\n`, `\r`, `\t`, `\u{1b}`, `\u{202e}`), and cut
/// after `max_chars` characters (with `…[N more characters]`).
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

/// Whether `c` must not reach a terminal as it is.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional controls: marks, embeddings, overrides, isolates.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators, which some terminals and viewers break lines at.
            | '\u{2028}' | '\u{2029}'
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_become_visible_escapes() {
        let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\rfake\u{9b}31m\u{202e}txt.exe\u{2028}x\u{7f}";
        let shown = printable(hostile, 1000);
        assert!(!shown.chars().any(needs_escape), "{shown:?}");
        assert_eq!(
            shown,
            "\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\rfake\\u{9b}31m\\u{202e}txt.exe\\u{2028}x\\u{7f}"
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
