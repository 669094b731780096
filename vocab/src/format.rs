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
    /// `email`: an RFC 5321 mailbox (`joe.bloggs@example.com`).
    Email,
    /// `uri`: an absolute RFC 3986 URI (`https://example.com/a?b#c`, `urn:isbn:123`).
    Uri,
    /// `uri-reference`: an RFC 3986 URI or relative reference (`../a?b`, `#c`).
    UriReference,
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
        Format::Email,
        Format::Uri,
        Format::UriReference,
        Format::Uuid,
        Format::Hostname,
        Format::Ipv4,
        Format::Ipv6,
        Format::JsonPointer,
        Format::RelativeJsonPointer,
        Format::Password,
    ];

    /// The `format` value.
    pub const fn name(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Time => "time",
            Format::Email => "email",
            Format::Uri => "uri",
            Format::UriReference => "uri-reference",
            Format::Uuid => "uuid",
            Format::Hostname => "hostname",
            Format::Ipv4 => "ipv4",
            Format::Ipv6 => "ipv6",
            Format::JsonPointer => "json-pointer",
            Format::RelativeJsonPointer => "relative-json-pointer",
            Format::Password => "password",
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
            Format::Email => "an email address",
            Format::Uri => "an absolute URI",
            Format::UriReference => "a URI or a relative reference",
            Format::Uuid => "a UUID",
            Format::Hostname => "a host name (example.com)",
            Format::Ipv4 => "an IPv4 address (192.168.0.1)",
            Format::Ipv6 => "an IPv6 address (::1)",
            Format::JsonPointer => "a JSON pointer (/a/b)",
            Format::RelativeJsonPointer => "a relative JSON pointer (0/a)",
            Format::Password => "a secret (any text)",
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
            Format::Email => crate::format::email(value),
            Format::Uri => crate::format::uri(value),
            Format::UriReference => crate::format::uri_reference(value),
            Format::Uuid => crate::format::uuid(value),
            Format::Hostname => crate::format::hostname(value),
            // The standard library's parsers follow the RFCs' grammars: dotted quads with no
            // leading zeros, and IPv6 without a zone.
            Format::Ipv4 => value.parse::<std::net::Ipv4Addr>().is_ok(),
            Format::Ipv6 => value.parse::<std::net::Ipv6Addr>().is_ok(),
            Format::JsonPointer => crate::format::json_pointer(value),
            Format::RelativeJsonPointer => crate::format::relative_json_pointer(value),
            Format::Password => true,
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

/// `8-4-4-4-12` hexadecimal digits.
fn uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// RFC 3986 `URI`: `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`. Relative references
/// are not URIs.
fn uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok && after_scheme(rest)
}

/// `URI-reference = URI / relative-ref`: a relative reference is what follows a scheme, with
/// no `:` in its first segment (which would read as a scheme).
fn uri_reference(value: &str) -> bool {
    if uri(value) {
        return true;
    }
    let path_end = value.find(['?', '#']).unwrap_or(value.len());
    let first_segment = value[..path_end].split('/').next().unwrap_or_default();
    !first_segment.contains(':') && after_scheme(value)
}

/// What follows a URI's scheme (`hier-part`, query, fragment), or a relative reference
/// (`relative-part`, query, fragment), which takes the same shapes.
fn after_scheme(rest: &str) -> bool {
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let (hier, query) = match rest.split_once('?') {
        Some((hier, query)) => (hier, Some(query)),
        None => (rest, None),
    };
    let query_ok = |text: &str| pchars(text, "/?");
    if !fragment.is_none_or(query_ok) || !query.is_none_or(query_ok) {
        return false;
    }
    match hier.strip_prefix("//") {
        Some(after) => {
            let (authority, path) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            authority_ok(authority) && pchars(path, "/")
        }
        // `path-absolute`, `path-rootless` or `path-empty`: no `//` start (checked above).
        None => pchars(hier, "/"),
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
fn authority_ok(authority: &str) -> bool {
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo
        && !chars_ok(userinfo, |c| {
            is_unreserved(c) || is_sub_delim(c) || c == ':'
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
    let host_ok = host.is_none_or(|h| chars_ok(h, |c| is_unreserved(c) || is_sub_delim(c)));
    let port_ok = port.is_none_or(|p| p.chars().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

/// `pchar`s (unreserved, percent-encoded, sub-delims, `:`, `@`) plus `extra`.
fn pchars(text: &str, extra: &str) -> bool {
    chars_ok(text, |c| {
        is_unreserved(c) || is_sub_delim(c) || matches!(c, ':' | '@') || extra.contains(c)
    })
}

/// Every character passes `allowed`, or is a well-formed `%XX` escape.
fn chars_ok(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !hex(i + 1) || !hex(i + 2) {
                return false;
            }
            i += 3;
        } else if bytes[i].is_ascii() && allowed(char::from(bytes[i])) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn is_sub_delim(c: char) -> bool {
    "!$&'()*+,;=".contains(c)
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
