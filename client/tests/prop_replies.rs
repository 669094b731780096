//! Reading a server's reply never panics, whatever the bytes and the status: each reply body
//! the client parses (submit, status, result with its output's files, cancel) becomes a value
//! or a typed error. The twin of the `replies` fuzz target in `fuzz/`.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Keys the reply parsers look for, so generated objects reach their branches.
const KEYS: &[&str] = &[
    "request_id",
    "status",
    "queue_position",
    "output",
    "error",
    "error_code",
    "error_message",
    "detail",
    "created_at",
    "finished_at",
    "outcome",
    "images",
    "image",
    "video",
];

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![Just(200u16), Just(202), Just(429), Just(500), 100u16..600]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::from),
        Just(json!("completed")),
        Just(json!("succeeded")),
        Just(json!("in_queue")),
        Just(json!(422001)),
        Just(json!("https://cdn.example/out/0.png")),
        Just(json!("http://127.0.0.1:1/../../etc/passwd")),
        any::<String>().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|pairs| {
                let map: Map<String, Value> =
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                Value::Object(map)
            }),
        ]
    })
}

/// Checks what every reply became.
fn check(status: u16, body: &[u8]) {
    let outcomes = runcomfy::__parse_replies(status, body);
    assert_eq!(outcomes.len(), 4);
    for outcome in outcomes {
        match outcome {
            // An error status is never read as a success.
            Ok(value) => assert!((200..300).contains(&status), "{status}: {value}"),
            Err(message) => assert!(!message.is_empty()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(status in status(), body in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(status, &body);
    }

    #[test]
    fn json_shaped_replies_never_panic(status in status(), value in json_value()) {
        check(status, &serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn cut_or_spoiled_json_never_panics(
        status in status(),
        value in json_value(),
        cut in any::<prop::sample::Index>(),
        junk in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut body = serde_json::to_vec(&value).unwrap();
        let at = cut.index(body.len() + 1);
        body.truncate(at);
        body.extend_from_slice(&junk);
        check(status, &body);
    }
}

#[test]
fn an_excerpt_of_a_huge_or_binary_body_is_short_and_printable() {
    let mut body = vec![0xff, 0xfe, 0x00, 0x1b];
    body.extend(std::iter::repeat_n(b'x', 1 << 20));
    for outcome in runcomfy::__parse_replies(200, &body) {
        let message = outcome.expect_err("not JSON");
        assert!(message.len() < 1000, "{} bytes", message.len());
        assert!(!message.contains('\u{1b}'), "{message}");
    }
}
