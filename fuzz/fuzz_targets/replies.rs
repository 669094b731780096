//! Every reply body the client parses, from any bytes and any HTTP status: a value or a typed
//! error, never a panic. The first two bytes pick the status.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_le_bytes([*a, *b]) % 500, rest),
        _ => (200, data),
    };
    for outcome in runcomfy::__parse_replies(status, body) {
        if outcome.is_ok() {
            assert!(
                (200..300).contains(&status),
                "an HTTP {status} read as a success"
            );
        }
    }
});
