//! A field whose value is a secret (`format: password`, an API key of the user's, as Replicate's
//! models take) is sent, but never kept: the record, a dry run and a batch report hold
//! `{"secret": "not recorded"}`, and a rerun from a record asks for it again. The messy
//! fixture's `acme/acme/echo` has one (`voice`).

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use runcomfy::Model;
use runcomfy::provenance::{self, Record, RecordError};
use runcomfy_conformance::models::acme::acme::echo::Echo;
use serde_json::{Value, json};

/// The body `input` is sent as, and what a record keeps of it.
fn sent_and_kept(input: Value) -> (Value, Value) {
    let model = Echo::info();
    let body: Value =
        serde_json::from_slice(&model.decode(&input).unwrap().encode(1 << 20).unwrap()).unwrap();
    let Value::Object(input) = input else {
        unreachable!()
    };
    let summary = provenance::body_summary(model, &input, &body);
    (body, summary)
}

#[test]
fn a_secret_is_sent_but_not_recorded_and_a_rerun_asks_for_it() {
    let model = Echo::info();
    let (body, summary) = sent_and_kept(json!({"text": "hi", "voice": "sk-very-secret"}));
    assert_eq!(body["voice"], "sk-very-secret", "it is sent");
    assert_eq!(summary["voice"], json!({"secret": "not recorded"}));
    assert_eq!(summary["text"], "hi");
    assert!(!summary.to_string().contains("sk-very-secret"));

    let record = Record {
        request_id: Some("r".into()),
        ..Record::new(model.id, "http://127.0.0.1:1", summary)
    };
    match provenance::input_from_record(model, &record) {
        Err(RecordError::Secret(field)) => assert_eq!(field, "voice"),
        other => panic!("{other:?}"),
    }
    let message = provenance::input_from_record(model, &record)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("give it again (its flag, or --input)"),
        "{message}"
    );
    // Given again (as a flag does: the recorded one is not read), the rest is read back.
    let mut without = record.clone();
    without.input.as_object_mut().unwrap().remove("voice");
    let back = provenance::input_from_record(model, &without).unwrap();
    assert_eq!(Value::Object(back), json!({"text": "hi"}));
}

/// A secret below the top (an object's property through a `$ref`, a list's items, a union
/// shape's property) is not kept either, and a rerun names where it was (QA repro32 H1: only
/// fields were hidden, so a token inside `account` was written to the record in clear).
#[test]
fn a_secret_at_any_depth_is_not_recorded() {
    let model = Echo::info();
    let (body, summary) = sent_and_kept(json!({
        "text": "hi",
        "account": {"user": "ann", "token": "sk-1"},
        "keys": ["sk-2", "sk-3"],
        "auth": {"op": "bearer", "token": "sk-4"},
    }));
    assert_eq!(body["account"]["token"], "sk-1", "it is sent");
    let hidden = json!({"secret": "not recorded"});
    assert_eq!(summary["account"], json!({"user": "ann", "token": hidden}));
    assert_eq!(summary["keys"], json!([hidden, hidden]));
    assert_eq!(summary["auth"], json!({"op": "bearer", "token": hidden}));
    assert!(!summary.to_string().contains("sk-"), "{summary}");
    let record = Record {
        request_id: Some("r".into()),
        ..Record::new(model.id, "http://127.0.0.1:1", summary)
    };
    match provenance::input_from_record(model, &record) {
        Err(RecordError::Secret(at)) => assert_eq!(at, "account.token"),
        other => panic!("{other:?}"),
    }
}
