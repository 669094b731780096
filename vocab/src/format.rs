//! The `format` values that are checked. Any other is refused when the catalog is read: a
//! format that is not checked would be a promise silently broken.

use std::fmt;

use crate::media::{MediaFormatName, MediaKind};

/// A checked `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `date-time`: an RFC 3339 date and time with an offset (`1963-06-19T08:30:06.283185Z`).
    DateTime,
    /// `date`: an RFC 3339 full date (`1963-06-19`).
    Date,
    /// `time`: an RFC 3339 full time, offset included (`08:30:06Z`).
    Time,
    /// `duration`: an RFC 3339 (ISO 8601) duration (`P4DT12H30M5S`, `PT1M`, `P2W`).
    Duration,
    /// `email`: an RFC 5321 mailbox (`joe.bloggs@example.com`).
    Email,
    /// `uri`: an absolute RFC 3986 URI (`https://example.com/a?b#c`, `urn:isbn:123`).
    Uri,
    /// `uri-reference`: an RFC 3986 URI or relative reference (`../a?b`, `#c`).
    UriReference,
    /// `iri`: an absolute RFC 3987 IRI, a URI that may hold Unicode (`https://例え.jp/π`).
    Iri,
    /// `iri-reference`: an RFC 3987 IRI or relative reference (`/âππ`, `#ƒrägmênt`).
    IriReference,
    /// `uri-template`: an RFC 6570 URI template (`https://example.com/{term:1}/{term}`).
    UriTemplate,
    /// `regex`: an ECMA-262 regular expression, as `pattern` holds one.
    Regex,
    /// `uuid`: an RFC 4122 UUID in its hyphenated form.
    Uuid,
    /// `hostname`: an RFC 1123 host name (`example.com`).
    Hostname,
    /// `ipv4`: an IPv4 address in dotted-quad form (`192.168.0.1`).
    Ipv4,
    /// `ipv6`: an RFC 4291 IPv6 address (`::1`).
    Ipv6,
    /// `json-pointer`: an RFC 6901 JSON pointer (`/a/b~1c`).
    JsonPointer,
    /// `relative-json-pointer`: a relative JSON pointer (`0/a`, `1#`).
    RelativeJsonPointer,
    /// `password` (OpenAPI): any text; it only asks that the value be shown hidden.
    Password,
    /// `byte` (OpenAPI): base64-encoded data (RFC 4648, padded, standard alphabet).
    Byte,
    /// `multi-line` (Cog, Gradio): any text; it only asks for a box of several lines.
    MultiLine,
    /// `path` (Pydantic's `FilePath`, `DirectoryPath`): a path on the server's side, any text
    /// (never a local file of the client's: it is sent as written).
    Path,
    /// RunComfy's media formats: a file of this kind (`image_uri`), or on an array, a list of
    /// them (`image_uris`). The file is a URL, a `data:` URI, or on the client, a local path.
    Media(MediaFormatName),
}

impl Format {
    /// The non-media formats.
    pub const TEXT: &'static [Format] = &[
        Format::DateTime,
        Format::Date,
        Format::Time,
        Format::Duration,
        Format::Email,
        Format::Uri,
        Format::UriReference,
        Format::Iri,
        Format::IriReference,
        Format::UriTemplate,
        Format::Regex,
        Format::Uuid,
        Format::Hostname,
        Format::Ipv4,
        Format::Ipv6,
        Format::JsonPointer,
        Format::RelativeJsonPointer,
        Format::Password,
        Format::Byte,
        Format::MultiLine,
        Format::Path,
    ];

    /// The `format` value.
    pub const fn name(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Time => "time",
            Format::Duration => "duration",
            Format::Email => "email",
            Format::Uri => "uri",
            Format::UriReference => "uri-reference",
            Format::Iri => "iri",
            Format::IriReference => "iri-reference",
            Format::UriTemplate => "uri-template",
            Format::Regex => "regex",
            Format::Uuid => "uuid",
            Format::Hostname => "hostname",
            Format::Ipv4 => "ipv4",
            Format::Ipv6 => "ipv6",
            Format::JsonPointer => "json-pointer",
            Format::RelativeJsonPointer => "relative-json-pointer",
            Format::Password => "password",
            Format::Byte => "byte",
            Format::MultiLine => "multi-line",
            Format::Path => "path",
            Format::Media(MediaFormatName { kind, list: false }) => kind.format(),
            Format::Media(MediaFormatName { kind, list: true }) => kind.list_format(),
        }
    }

    /// Reads a `format` value; `None` for one that is not checked.
    pub fn parse(name: &str) -> Option<Format> {
        Format::TEXT
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .or_else(|| MediaFormatName::parse(name).map(Format::Media))
    }

    /// The media kind, for a media format.
    pub const fn media(self) -> Option<MediaKind> {
        match self {
            Format::Media(name) => Some(name.kind),
            _ => None,
        }
    }

    /// What a valid value looks like, for messages and docs (`an RFC 3339 date-time`).
    pub const fn describe(self) -> &'static str {
        match self {
            Format::DateTime => "an RFC 3339 date-time (2025-01-31T12:00:00Z)",
            Format::Date => "an RFC 3339 date (2025-01-31)",
            Format::Time => "an RFC 3339 time with an offset (12:00:00Z)",
            Format::Duration => "an RFC 3339 duration (P1DT12H, PT30S)",
            Format::Email => "an email address",
            Format::Uri => "an absolute URI",
            Format::UriReference => "a URI or a relative reference",
            Format::Iri => "an absolute IRI (a URI that may hold Unicode)",
            Format::IriReference => "an IRI or a relative reference",
            Format::UriTemplate => "a URI template (https://example.com/{id})",
            Format::Regex => "an ECMA-262 regular expression",
            Format::Uuid => "a UUID",
            Format::Hostname => "a host name (example.com)",
            Format::Ipv4 => "an IPv4 address (192.168.0.1)",
            Format::Ipv6 => "an IPv6 address (::1)",
            Format::JsonPointer => "a JSON pointer (/a/b)",
            Format::RelativeJsonPointer => "a relative JSON pointer (0/a)",
            Format::Password => "a secret (any text)",
            Format::Byte => "base64-encoded data",
            Format::MultiLine => "text (of several lines)",
            Format::Path => "a path on the server (any text)",
            Format::Media(name) => name.kind.a_file(),
        }
    }

    /// Checks a value of a text format; media formats are checked by measuring the file, not
    /// here, and always pass.
    pub fn check(self, value: &str) -> bool {
        match self {
            Format::DateTime => crate::format::date_time(value),
            Format::Date => crate::format::date(value),
            Format::Time => crate::format::time(value),
            Format::Duration => crate::format::duration(value),
            Format::Email => crate::format::email(value),
            Format::Uri => crate::format::uri(value, Chars::Ascii),
            Format::UriReference => crate::format::uri_reference(value, Chars::Ascii),
            Format::Iri => crate::format::uri(value, Chars::Unicode),
            Format::IriReference => crate::format::uri_reference(value, Chars::Unicode),
            Format::UriTemplate => crate::format::uri_template(value),
            Format::Regex => crate::keyword::compile_pattern(value).is_ok(),
            Format::Uuid => crate::format::uuid(value),
            Format::Hostname => crate::format::hostname(value),
            // The standard library's parsers follow the RFCs' grammars: dotted quads with no
            // leading zeros, and IPv6 without a zone.
            Format::Ipv4 => value.parse::<std::net::Ipv4Addr>().is_ok(),
            Format::Ipv6 => value.parse::<std::net::Ipv6Addr>().is_ok(),
            Format::JsonPointer => crate::format::json_pointer(value),
            Format::RelativeJsonPointer => crate::format::relative_json_pointer(value),
            Format::Password | Format::MultiLine | Format::Path => true,
            Format::Byte => crate::format::base64(value),
            Format::Media(_) => true,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// The checks below follow JSON Schema's definitions of the formats (RFC 3339, RFC 5321,
// RFC 3986, RFC 4122) to the letter; general-purpose parsers are more lenient (a date-time
// without an offset, a relative URI, a second of 60 at any minute) or stricter (no leap
// second), so the grammar is written out here.

/// `full-date`: `YYYY-MM-DD`, a real day of the Gregorian calendar.
fn date(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `full-time`: `HH:MM:SS[.frac](Z|±HH:MM)`. A leap second (`:60`) is allowed only where it can
/// happen: at 23:59 UTC.
fn time(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (digits(&b[0..2]), digits(&b[3..5]), digits(&b[6..8]))
    else {
        return false;
    };
    let mut rest = &b[8..];
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let offset_minutes: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (Some(h), Some(m)) = (digits(&[*h1, *h2]), digits(&[*m1, *m2])) else {
                return false;
            };
            if h > 23 || m > 59 {
                return false;
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return false,
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    if second == 60 {
        // The same instant in UTC must be 23:59:60.
        let utc = (i64::from(hour * 60 + minute) - offset_minutes).rem_euclid(24 * 60);
        return utc == 23 * 60 + 59;
    }
    true
}

/// `date-time`: a full date, `T` (or `t`), a full time.
fn date_time(value: &str) -> bool {
    match value.find(['T', 't']) {
        Some(10) => date(&value[..10]) && time(&value[11..]),
        _ => false,
    }
}

/// RFC 3339's `duration` (its appendix A): `P`, then weeks alone (`P2W`), or a date part
/// and a time part after `T`, either optional but not both. Each part's units come in order
/// and without a gap (`Y`, `M`, `D`; `H`, `M`, `S`), each after whole ASCII digits.
fn duration(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('P') else {
        return false;
    };
    if let Some(weeks) = rest.strip_suffix('W') {
        return digits(weeks.as_bytes()).is_some();
    }
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    // Each part: a run of units from `units`, consecutive, none empty.
    let part = |text: &str, units: &[char]| -> bool {
        let mut expected = units.iter();
        let mut started = false;
        let mut rest = text;
        while !rest.is_empty() {
            let Some(end) = rest.find(|c: char| !c.is_ascii_digit()) else {
                return false;
            };
            let unit = rest[end..].chars().next().unwrap_or_default();
            if end == 0 {
                return false;
            }
            // The first unit may be any; each later one must follow the one before.
            let next = if started {
                expected.next()
            } else {
                expected.find(|u| **u == unit)
            };
            if next != Some(&unit) {
                return false;
            }
            started = true;
            rest = &rest[end + unit.len_utf8()..];
        }
        true
    };
    let date_ok = part(date, &['Y', 'M', 'D']);
    let time_ok = time.is_none_or(|time| !time.is_empty() && part(time, &['H', 'M', 'S']));
    date_ok && time_ok && (!date.is_empty() || time.is_some())
}

/// Decimal digits only (ASCII: `৪` is not a digit here).
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// RFC 5321 `Mailbox`: a dot-atom or quoted local part, `@`, and a domain or an address
/// literal.
fn email(value: &str) -> bool {
    let Some(at) = value.rfind('@') else {
        return false;
    };
    let (local, domain) = (&value[..at], &value[at + 1..]);
    local_part(local) && local.len() <= 64 && mail_domain(domain)
}

fn local_part(local: &str) -> bool {
    if let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        // Quoted string: printable ASCII, with `\` escaping any printable character.
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if !chars.next().is_some_and(|c| (' '..='~').contains(&c)) {
                        return false;
                    }
                }
                '"' => return false,
                c if (' '..='~').contains(&c) => {}
                _ => return false,
            }
        }
        return true;
    }
    dot_atom(local, is_atext)
}

/// `atext`: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// Atoms of `allowed` characters joined by single dots, none empty.
fn dot_atom(text: &str, allowed: fn(char) -> bool) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(allowed))
}

fn mail_domain(domain: &str) -> bool {
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return match literal.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => literal.parse::<std::net::Ipv4Addr>().is_ok(),
        };
    }
    hostname(domain)
}

/// An RFC 1123 host name: labels of letters, digits and inner hyphens, each 1 to 63 long.
fn hostname(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Padded standard base64 (RFC 4648 section 4): groups of four of `A-Z a-z 0-9 + /`, the last
/// ending in at most two `=`.
fn base64(value: &str) -> bool {
    let bytes = value.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    bytes.len().is_multiple_of(4)
        && padding <= 2
        && bytes[..bytes.len() - padding]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// `8-4-4-4-12` hexadecimal digits.
fn uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The characters a URI may hold outside percent-encoding: ASCII (RFC 3986), or for an IRI,
/// Unicode too (RFC 3987).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chars {
    Ascii,
    Unicode,
}

impl Chars {
    /// `unreserved`, or for an IRI, `iunreserved` (which adds `ucschar`).
    fn unreserved(self, c: char) -> bool {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '.' | '_' | '~')
            || (self == Chars::Unicode && is_ucschar(c))
    }

    /// What a query may hold besides `pchar`s and `/?`: for an IRI, `iprivate` too.
    fn in_query(self, c: char) -> bool {
        self == Chars::Unicode && is_iprivate(c)
    }
}

/// RFC 3987 `ucschar`: Unicode beyond ASCII, but for controls, surrogates, private use and
/// non-characters.
fn is_ucschar(c: char) -> bool {
    let c = u32::from(c);
    matches!(c, 0xA0..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFEF | 0xE1000..=0xEFFFD)
        // Planes 1 to 13, but for each plane's last two code points (non-characters).
        || ((0x10000..0xE0000).contains(&c) && c & 0xFFFF <= 0xFFFD)
}

/// RFC 3987 `iprivate`: private use characters, allowed in an IRI's query only.
fn is_iprivate(c: char) -> bool {
    matches!(u32::from(c), 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

/// Why a text cannot be a URL, told as its fix: a character that no IRI (RFC 3987) holds
/// unencoded, with its escape, or the part of the URL that is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlFault {
    /// A character written `%XX` in a URL (`"`, `|`, `{`, `^`, `\`, a control, a bidi control
    /// such as U+202E, which RFC 3987 forbids as it can disguise a name).
    Character(char),
    /// A `%` that two hex digits do not follow (a `%` itself is written `%25`).
    BadEscape,
    /// A second `#` (the first starts the fragment).
    SecondHash,
    /// A private-use character outside the query, the one place RFC 3987 allows it.
    PrivateUse(char),
    /// `[` or `]` other than around an IP literal host, or a literal that is no IPv6 address.
    Brackets,
    /// A port that is not digits.
    BadPort,
    /// `scheme://` with no host after it (`https:///a.png`, which parsers read as host `a.png`).
    EmptyHost,
}

impl fmt::Display for UrlFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = |f: &mut fmt::Formatter<'_>, c: char| -> fmt::Result {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                write!(f, "%{byte:02X}")?;
            }
            Ok(())
        };
        match *self {
            UrlFault::Character(c) => {
                write!(f, "{c:?} is not allowed in a URL (it is written ")?;
                escaped(f, c)?;
                f.write_str(")")
            }
            UrlFault::BadEscape => f.write_str(
                "a % in a URL starts an escape of two hex digits (a % itself is written %25)",
            ),
            UrlFault::SecondHash => {
                f.write_str("a URL has one `#`, before its fragment (a second is written %23)")
            }
            UrlFault::PrivateUse(c) => {
                write!(
                    f,
                    "{c:?} is allowed only in a URL's query (elsewhere it is written "
                )?;
                escaped(f, c)?;
                f.write_str(")")
            }
            UrlFault::Brackets => f.write_str(
                "`[` and `]` go only around an IPv6 host, which they must hold (elsewhere they \
                 are written %5B and %5D)",
            ),
            UrlFault::BadPort => f.write_str("its port (after the host's `:`) must be digits"),
            UrlFault::EmptyHost => f.write_str("it has no host after `//`"),
        }
    }
}

/// The first fault of `value` as a URL, if one is found: a character no IRI (RFC 3987) holds
/// unencoded, or a part in the wrong shape. A text with none may still not be a URL:
/// [`Format::Iri`] decides that.
pub fn url_fault(value: &str) -> Option<UrlFault> {
    let fragment_at = value.find('#').unwrap_or(value.len());
    if value[fragment_at..].chars().skip(1).any(|c| c == '#') {
        return Some(UrlFault::SecondHash);
    }
    let query_at = value[..fragment_at].find('?').unwrap_or(fragment_at);
    let mut chars = value.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '%' {
            let mut escape = chars.clone().map(|(_, c)| c);
            if !(escape.next().is_some_and(|c| c.is_ascii_hexdigit())
                && escape.next().is_some_and(|c| c.is_ascii_hexdigit()))
            {
                return Some(UrlFault::BadEscape);
            }
        } else if is_iprivate(c) {
            if !(query_at..fragment_at).contains(&at) {
                return Some(UrlFault::PrivateUse(c));
            }
        } else if is_bidi_control(c)
            || !(Chars::Unicode.unreserved(c) || is_sub_delim(c) || ":/?#[]@".contains(c))
        {
            return Some(UrlFault::Character(c));
        }
    }
    // The authority, after `scheme://`.
    let scheme_end = value.find(':')?;
    let rest = &value[scheme_end + 1..query_at.max(scheme_end + 1)];
    let Some(after) = rest.strip_prefix("//") else {
        return value[scheme_end..]
            .contains(['[', ']'])
            .then_some(UrlFault::Brackets);
    };
    let authority_end = after.find('/').unwrap_or(after.len());
    let authority = &after[..authority_end];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(literal) = hostport.strip_prefix('[') {
        let Some((inside, after)) = literal.split_once(']') else {
            return Some(UrlFault::Brackets);
        };
        let future = inside.starts_with(['v', 'V']) && inside.contains('.');
        if !(future || inside.parse::<std::net::Ipv6Addr>().is_ok()) {
            return Some(UrlFault::Brackets);
        }
        match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Some(UrlFault::Brackets),
        }
    } else {
        let (host, port) = match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        };
        if host.contains(['[', ']']) {
            return Some(UrlFault::Brackets);
        }
        if host.is_empty() {
            return Some(UrlFault::EmptyHost);
        }
        port
    };
    if port.is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit())) {
        return Some(UrlFault::BadPort);
    }
    // Path, query and fragment: brackets belong to the host alone.
    let tail = &value[scheme_end + 1 + "//".len() + authority_end..];
    tail.contains(['[', ']']).then_some(UrlFault::Brackets)
}

/// RFC 3987 §4.1: bidi formatting characters (LRM, RLM, LRE to RLO) must not appear in an IRI.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}')
}

/// RFC 3986 `URI` (RFC 3987 `IRI`): `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`.
/// Relative references are not URIs.
fn uri(value: &str, chars: Chars) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok && after_scheme(rest, chars)
}

/// `URI-reference = URI / relative-ref`: a relative reference is what follows a scheme, with
/// no `:` in its first segment (which would read as a scheme).
fn uri_reference(value: &str, chars: Chars) -> bool {
    if uri(value, chars) {
        return true;
    }
    let path_end = value.find(['?', '#']).unwrap_or(value.len());
    let first_segment = value[..path_end].split('/').next().unwrap_or_default();
    !first_segment.contains(':') && after_scheme(value, chars)
}

/// What follows a URI's scheme (`hier-part`, query, fragment), or a relative reference
/// (`relative-part`, query, fragment), which takes the same shapes.
fn after_scheme(rest: &str, chars: Chars) -> bool {
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let (hier, query) = match rest.split_once('?') {
        Some((hier, query)) => (hier, Some(query)),
        None => (rest, None),
    };
    let fragment_ok = |text: &str| pchars(text, chars, |c| matches!(c, '/' | '?'));
    let query_ok =
        |text: &str| pchars(text, chars, |c| matches!(c, '/' | '?') || chars.in_query(c));
    if !fragment.is_none_or(fragment_ok) || !query.is_none_or(query_ok) {
        return false;
    }
    let path_ok = |text: &str| pchars(text, chars, |c| c == '/');
    match hier.strip_prefix("//") {
        Some(after) => {
            let (authority, path) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            authority_ok(authority, chars) && path_ok(path)
        }
        // `path-absolute`, `path-rootless` or `path-empty`: no `//` start (checked above).
        None => path_ok(hier),
    }
}

/// RFC 6901: empty, or `/`-prefixed reference tokens in which `~` is only `~0` or `~1`.
fn json_pointer(value: &str) -> bool {
    (value.is_empty() || value.starts_with('/'))
        && value
            .split('~')
            .skip(1)
            .all(|after| after.starts_with(['0', '1']))
}

/// A relative JSON pointer: a non-negative integer without leading zeros, then `#` or a JSON
/// pointer.
fn relative_json_pointer(value: &str) -> bool {
    let digits = value.chars().take_while(char::is_ascii_digit).count();
    let (number, rest) = value.split_at(digits);
    let number_ok = number == "0" || (!number.is_empty() && !number.starts_with('0'));
    number_ok && (rest == "#" || json_pointer(rest))
}

/// `authority = [ userinfo "@" ] host [ ":" port ]`.
fn authority_ok(authority: &str, chars: Chars) -> bool {
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo
        && !chars_ok(userinfo, |c| {
            chars.unreserved(c) || is_sub_delim(c) || c == ':'
        })
    {
        return false;
    }
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return false;
        };
        let literal = &rest[..end];
        let ip_ok = literal.parse::<std::net::Ipv6Addr>().is_ok()
            || literal.starts_with(['v', 'V']) && literal.contains('.');
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return false,
        };
        if !ip_ok {
            return false;
        }
        (None, port)
    } else {
        match hostport.rfind(':') {
            Some(i) => (Some(&hostport[..i]), Some(&hostport[i + 1..])),
            None => (Some(hostport), None),
        }
    };
    let host_ok = host.is_none_or(|h| chars_ok(h, |c| chars.unreserved(c) || is_sub_delim(c)));
    let port_ok = port.is_none_or(|p| p.chars().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

/// `pchar`s (unreserved, percent-encoded, sub-delims, `:`, `@`) plus what `extra` allows.
fn pchars(text: &str, chars: Chars, extra: impl Fn(char) -> bool) -> bool {
    chars_ok(text, |c| {
        chars.unreserved(c) || is_sub_delim(c) || matches!(c, ':' | '@') || extra(c)
    })
}

/// Every character passes `allowed`, or is a well-formed `%XX` escape.
fn chars_ok(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let ok = if c == '%' {
            chars.next().is_some_and(|c| c.is_ascii_hexdigit())
                && chars.next().is_some_and(|c| c.is_ascii_hexdigit())
        } else {
            allowed(c)
        };
        if !ok {
            return false;
        }
    }
    true
}

fn is_sub_delim(c: char) -> bool {
    "!$&'()*+,;=".contains(c)
}

/// RFC 6570 `URI-Template`: literal text (no controls, spaces, quotes, `<`, `>`, `\`, `^`,
/// `` ` ``, `|`, or a brace outside an expression) and expressions: `{`, an optional operator,
/// then variables (`term`, `a.b`, `%41`), each with an optional `:1`–`:9999` prefix or `*`,
/// separated by commas, and `}`.
fn uri_template(value: &str) -> bool {
    let mut rest = value;
    while !rest.is_empty() {
        let literal_end = rest.find('{').unwrap_or(rest.len());
        let literal_ok = chars_ok(&rest[..literal_end], |c| {
            !c.is_control() && !" \"'%<>\\^`{|}".contains(c) && !is_noncharacter_or_surrogate(c)
        });
        if !literal_ok {
            return false;
        }
        rest = &rest[literal_end..];
        let Some(expression) = rest.strip_prefix('{') else {
            break;
        };
        let Some(end) = expression.find('}') else {
            return false;
        };
        if !template_expression(&expression[..end]) {
            return false;
        }
        rest = &expression[end + 1..];
    }
    true
}

/// The inside of one `{...}` of a URI template.
fn template_expression(text: &str) -> bool {
    let variables = text
        .strip_prefix(|c: char| "+#./;?&=,!@|".contains(c))
        .unwrap_or(text);
    variables.split(',').all(|spec| {
        let (name, modifier) = match spec.find([':', '*']) {
            Some(i) => spec.split_at(i),
            None => (spec, ""),
        };
        let name_ok = !name.is_empty()
            && name.split('.').all(|part| {
                !part.is_empty() && chars_ok(part, |c| c.is_ascii_alphanumeric() || c == '_')
            });
        let modifier_ok = match modifier.strip_prefix(':') {
            Some(length) => {
                (1..=4).contains(&length.len())
                    && !length.starts_with('0')
                    && length.chars().all(|c| c.is_ascii_digit())
            }
            None => modifier.is_empty() || modifier == "*",
        };
        name_ok && modifier_ok
    })
}

/// What no template literal may hold beyond RFC 6570's excluded ASCII: characters that are
/// neither `ucschar` nor `iprivate`.
fn is_noncharacter_or_surrogate(c: char) -> bool {
    !c.is_ascii() && !is_ucschar(c) && !is_iprivate(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for format in Format::TEXT {
            assert_eq!(Format::parse(format.name()), Some(*format));
        }
        assert_eq!(
            Format::parse("image_uris").and_then(Format::media),
            Some(MediaKind::Image)
        );
        assert_eq!(Format::parse("ipv4"), Some(Format::Ipv4));
        assert_eq!(Format::parse("idn-hostname"), None);
        assert_eq!(Format::parse("iri-reference"), Some(Format::IriReference));
    }

    #[test]
    fn dates_and_times() {
        assert!(Format::DateTime.check("1963-06-19T08:30:06.283185Z"));
        assert!(Format::DateTime.check("1998-12-31T23:59:60Z"));
        assert!(Format::DateTime.check("1998-12-31T15:59:60.123-08:00"));
        assert!(!Format::DateTime.check("1998-12-31T23:58:60Z"));
        assert!(!Format::DateTime.check("1990-02-31T15:59:59.123-08:00"));
        assert!(!Format::DateTime.check("2013-350T01:01:01"));
        assert!(Format::DateTime.check("1963-06-19t08:30:06.283185z"));
        assert!(Format::Date.check("2020-02-29"));
        assert!(!Format::Date.check("2021-02-29"));
        assert!(!Format::Date.check("1963-06-1\u{09ea}"));
        assert!(Format::Time.check("08:30:06+00:20"));
        assert!(!Format::Time.check("08:30:06"));
        assert!(!Format::Time.check("08:30:06 PST"));
    }

    #[test]
    fn durations_follow_rfc_3339_s_grammar() {
        for good in [
            "P4DT12H30M5S",
            "P4Y",
            "PT0S",
            "P0D",
            "P1M",
            "PT1M",
            "PT36H",
            "P1DT12H",
            "P2W",
            "P1Y2M3D",
            "PT1H30M",
        ] {
            assert!(Format::Duration.check(good), "{good}");
        }
        for bad in [
            "PT1D",
            "P",
            "P1YT",
            "PT",
            "P2D1Y",
            "P1D2H",
            "P2S",
            "P1Y2W",
            "P\u{09e8}Y",
            "P1",
            "P1Y1D",
            "PT1H5S",
            "1D",
            "P1.5D",
            "P-1D",
            "PT1S2M",
        ] {
            assert!(!Format::Duration.check(bad), "{bad}");
        }
    }

    #[test]
    fn hosts_and_addresses() {
        for good in [
            "example.com",
            "a",
            "xn--4gbwdl.xn--wgbh1c",
            "host-1.example",
            "9.example",
        ] {
            assert!(Format::Hostname.check(good), "{good}");
        }
        let long_label = "a".repeat(64);
        let long_name = ["a"; 128].join(".");
        for bad in [
            "",
            ".",
            "a.example.",
            "-host",
            "host-",
            "not_valid",
            "a..b",
            "ex ample",
            &long_label,
            &long_name,
        ] {
            assert!(!Format::Hostname.check(bad), "{bad}");
        }
        assert!(Format::Ipv4.check("192.168.0.1"));
        for bad in [
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "087.10.0.1",
            " 1.2.3.4",
            "1.2.3.\u{0661}",
        ] {
            assert!(!Format::Ipv4.check(bad), "{bad}");
        }
        for good in [
            "::1",
            "::",
            "1:2:3:4:5:6:7:8",
            "::ffff:192.168.0.1",
            "fe80::1",
        ] {
            assert!(Format::Ipv6.check(good), "{good}");
        }
        for bad in [
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "fe80::1%eth0",
            "::ffff:256.1.1.1",
            ":::",
        ] {
            assert!(!Format::Ipv6.check(bad), "{bad}");
        }
    }

    #[test]
    fn pointers() {
        for good in ["", "/", "/a/b", "/a~0b/c~1d", "/ "] {
            assert!(Format::JsonPointer.check(good), "{good}");
        }
        for bad in ["a", "/a~", "/a~2", "#/a"] {
            assert!(!Format::JsonPointer.check(bad), "{bad}");
        }
        for good in ["0", "1#", "0/a", "10/a/b"] {
            assert!(Format::RelativeJsonPointer.check(good), "{good}");
        }
        for bad in ["", "/a", "01/a", "-1/a", "1#/a", "0~"] {
            assert!(!Format::RelativeJsonPointer.check(bad), "{bad}");
        }
    }

    #[test]
    fn a_url_fault_is_its_first_unallowed_character_with_the_fix() {
        let fault = |text| url_fault(text).map(|f| f.to_string());
        assert_eq!(
            fault("https://e.com/a|b{c}.png"),
            Some("'|' is not allowed in a URL (it is written %7C)".to_owned())
        );
        assert_eq!(
            url_fault("https://e.com/a\"b"),
            Some(UrlFault::Character('"'))
        );
        assert_eq!(url_fault("https://e.com/a%zz"), Some(UrlFault::BadEscape));
        assert_eq!(url_fault("https://e.com/100%"), Some(UrlFault::BadEscape));
        for fine in [
            "https://e.com/a%20b.png?x=1&y=2#f",
            "https://例え.jp/π.png",
            "https://user:pw@e.com:8443/a;b=c/(d)!*'~",
        ] {
            assert_eq!(url_fault(fine), None, "{fine}");
        }
        // The parts in the wrong shape are named too (QA repro30 M3, M4, L6).
        for (url, fault) in [
            ("https://e.com/[a]", UrlFault::Brackets),
            ("https://[zz::1]/a.png", UrlFault::Brackets),
            ("https://e.com/a#b#c", UrlFault::SecondHash),
            ("https://e.com:abc/a.png", UrlFault::BadPort),
            ("https:///a.png", UrlFault::EmptyHost),
            (
                "https://e.com/\u{e000}.png",
                UrlFault::PrivateUse('\u{e000}'),
            ),
            (
                "https://e.com/a\u{202e}gnp.exe",
                UrlFault::Character('\u{202e}'),
            ),
        ] {
            assert_eq!(url_fault(url), Some(fault), "{url}");
        }
        for fine in [
            "https://[fe80::1]:8443/a.png",
            "https://[v1.fe80::a+en1]/a.png",
            "https://e.com/a.png?p=\u{e000}",
            "https://e.com:/a.png",
        ] {
            assert_eq!(url_fault(fine), None, "{fine}");
        }
    }

    #[test]
    fn uri_references_take_relative_forms() {
        for good in [
            "https://a.example/b?c#d",
            "//a.example/b",
            "/b/c",
            "b/c",
            "../d",
            "?q",
            "#f",
            "",
        ] {
            assert!(Format::UriReference.check(good), "{good}");
        }
        for bad in ["\\\\WINDOWS\\file", "a:b:c d", "#a#b", "/a b", "b:c/d e"] {
            assert!(!Format::UriReference.check(bad), "{bad}");
        }
        assert!(Format::Password.check("anything at all"));
        assert!(Format::MultiLine.check("two\nlines") && Format::Path.check("/data/x.bin"));
        for good in ["", "QQ==", "QUI=", "QUJD", "a+/9"] {
            assert!(Format::Byte.check(good), "{good:?}");
        }
        for bad in ["Q", "QQ=", "Q===", "QU=D", "QU JD", "QUJD\n", "a-_9"] {
            assert!(!Format::Byte.check(bad), "{bad:?}");
        }
    }

    #[test]
    fn iris_take_unicode_where_uris_take_ascii() {
        for good in [
            "http://ƒøø.ßår/?∂éœ=πîx#πîüx",
            "http://➡.ws/䨹",
            "http://[2001:0db8:85a3:0000:0000:8a2e:0370:7334]",
            "https://例え.jp/π?\u{E000}",
        ] {
            assert!(Format::Iri.check(good), "{good}");
            assert!(Format::IriReference.check(good), "{good}");
        }
        for bad in [
            "http://2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "/abc",
            "\\\\WINDOWS\\filëßåré",
            "âππ",
            "http://a.example/\u{FFFE}",
            // Private use is for queries only.
            "http://a.example/\u{E000}",
        ] {
            assert!(!Format::Iri.check(bad), "{bad}");
        }
        for good in ["//ƒøø.ßår/?∂éœ=πîx#πîüx", "/âππ", "âππ", "#ƒrägmênt", ""]
        {
            assert!(Format::IriReference.check(good), "{good}");
        }
        for bad in ["\\\\WINDOWS\\filëßåré", "#ƒräg\\mênt", "a b"] {
            assert!(!Format::IriReference.check(bad), "{bad}");
        }
        assert!(!Format::Uri.check("http://ƒøø.ßår/"));
        assert!(!Format::UriReference.check("/âππ"));
    }

    #[test]
    fn uri_templates() {
        for good in [
            "http://example.com/dictionary/{term:1}/{term}",
            "http://example.com/dictionary",
            "dictionary/{term:1}/{term}",
            "{+path}/here{?x,y*}{#frag}{.a.b}{/list*}{;k}{&more:9999}",
            "{%41b}",
            "",
        ] {
            assert!(Format::UriTemplate.check(good), "{good}");
        }
        for bad in [
            "http://example.com/dictionary/{term:1}/{term",
            "a}b",
            "{}",
            "{a,}",
            "{a:0}",
            "{a:10000}",
            "{a-b}",
            "{a..b}",
            "{a*:2}",
            "x y",
            "{{a}}",
            "%zz",
        ] {
            assert!(!Format::UriTemplate.check(bad), "{bad}");
        }
    }

    #[test]
    fn regular_expressions_are_ecma_262() {
        for good in ["([abc])+\\s+$", "^\\p{L}+$", "(?<year>\\d{4})"] {
            assert!(Format::Regex.check(good), "{good}");
        }
        for bad in ["^(abc]", "\\a", "(?<=a", "[z-a]"] {
            assert!(!Format::Regex.check(bad), "{bad}");
        }
    }

    #[test]
    fn emails_uris_uuids() {
        assert!(Format::Email.check("joe.bloggs@example.com"));
        assert!(Format::Email.check("\"joe bloggs\"@example.com"));
        assert!(Format::Email.check("joe@[127.0.0.1]"));
        assert!(!Format::Email.check(".test@example.com"));
        assert!(!Format::Email.check("te..st@example.com"));
        assert!(!Format::Email.check("2962"));
        assert!(Format::Uri.check("http://foo.bar/?baz=qux#quux"));
        assert!(Format::Uri.check("urn:oasis:names:specification:docbook:dtd:xml:4.1.2"));
        assert!(Format::Uri.check("http://[2001:db8::7]/c=GB?objectClass?one"));
        assert!(!Format::Uri.check("//foo.bar/?baz=qux#quux"));
        assert!(!Format::Uri.check("http:// shouldfail.com"));
        assert!(!Format::Uri.check("abc"));
        assert!(!Format::Uri.check("bad,scheme://www.example.com"));
        assert!(Format::Uuid.check("2EB8AA08-AA98-11EA-B4AA-73B441D16380"));
        assert!(!Format::Uuid.check("2eb8aa08-aa98-11ea-b4aa-73b441d1638"));
    }
}
