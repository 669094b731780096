//! Defects the JSON Schema test suite found, each as a model of `regressions/` and a test that
//! fails without its fix. That these models compile (and pass clippy) is part of the test.

use runcomfy::{Input, Model};
use runcomfy_conformance::models::regress::{
    choice_union, media_text, media_union, no_properties, not_required, object_not_array,
    punctuation_names, required_nullable, shared_union, tagged_shapes, typed_combinators,
};
use serde_json::{Value, json};

/// The problems of a JSON input as `(path, rule)`; empty when it decodes and validates.
fn problems<M: Model>(input: Value) -> Vec<(String, String)> {
    match M::info().decode(&input) {
        Ok(decoded) => {
            let sent: Value = serde_json::from_slice(&decoded.encode(usize::MAX).unwrap()).unwrap();
            assert!(
                runcomfy::validate::equal(&sent, &input),
                "what is sent is what was given: {sent} for {input}"
            );
            Vec::new()
        }
        Err(err) => err
            .report
            .errors()
            .map(|p| (p.path.clone(), p.rule.clone()))
            .collect(),
    }
}

fn one(path: &str, rule: &str) -> Vec<(String, String)> {
    vec![(path.to_owned(), rule.to_owned())]
}

/// serde fills a struct from an array by position; JSON Schema never reads an array as an
/// object, and what would have been sent is that array.
#[test]
fn an_array_is_not_an_object() {
    type M = object_not_array::ObjectNotArray;
    assert_eq!(problems::<M>(json!({"v": [5, "x"]})), one("v", "type"));
    assert_eq!(problems::<M>(json!({"v": {"foo": 5, "bar": "x"}})), []);
    assert_eq!(problems::<M>(json!([{"foo": 5}])), one("", "type"));
}

/// A required nullable property generated a constructor that did not compile (E0308).
#[test]
fn a_required_nullable_property_takes_an_option() {
    type M = required_nullable::RequiredNullable;
    let input = required_nullable::RequiredNullableInput::new(None, Some(3.into()));
    assert!(input.validate().is_valid());
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"name": null, "count": 3})
    );
    assert_eq!(problems::<M>(json!({"name": null, "count": null})), []);
    // Required means present, even when `null` is allowed.
    assert_eq!(problems::<M>(json!({"count": 1})), one("name", "required"));
    // An optional nullable property keeps `null` apart from absent, and is still checked.
    assert_eq!(
        problems::<M>(json!({"name": null, "count": 1, "note": null})),
        []
    );
    assert_eq!(
        problems::<M>(json!({"name": null, "count": 1, "note": "long"})),
        one("note", "maxLength")
    );
}

/// Names that differ only by punctuation or control characters gave two setters one name
/// (E0592); error paths quote such names rather than print them raw.
#[test]
fn names_differing_by_punctuation_get_their_own_setters() {
    type M = punctuation_names::PunctuationNames;
    let input = punctuation_names::PunctuationNamesInput::new()
        .with_a_b("dash")
        .with_a_b_("underscore")
        .with_a_b_2(2)
        .with_a_b_3(true);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"a-b": "dash", "a_b": "underscore", "a.b": 2, "a\nb": true})
    );
    assert_eq!(
        problems::<M>(json!({"a\nb": 1})),
        one("[\"a\\nb\"]", "type")
    );
}

/// An input with no properties generated code with unused imports; it takes nothing else.
#[test]
fn an_input_without_properties_takes_none() {
    type M = no_properties::NoProperties;
    assert!(
        no_properties::NoPropertiesInput::new()
            .validate()
            .is_valid()
    );
    assert_eq!(problems::<M>(json!({})), []);
    assert_eq!(
        problems::<M>(json!({"x": 1})),
        one("x", "additionalProperties")
    );
}

/// `oneOf` of distinct types and type arrays are Rust enums whose alternatives keep their
/// constraints; a recursive `$ref` keeps its schema through every level.
#[test]
fn combinators_are_typed_and_keep_their_constraints() {
    type M = typed_combinators::TypedCombinators;
    use typed_combinators::{Node, Size, TypedCombinatorsInput, V};
    assert!(
        TypedCombinatorsInput::new(V::String("ab".into()))
            .validate()
            .is_valid()
    );
    // The one alternative that takes text says why "a" is not one.
    let short = TypedCombinatorsInput::new(V::String("a".into())).validate();
    assert_eq!(
        short.errors().next().map(|p| p.rule.as_str()),
        Some("minLength")
    );
    assert!(
        !TypedCombinatorsInput::new(V::Integer(5.into()))
            .validate()
            .is_valid()
    );
    let sized =
        TypedCombinatorsInput::new(V::Integer(10.into())).with_size(Size::String("xl".into()));
    assert!(sized.validate().is_valid());
    assert_eq!(problems::<M>(json!({"v": true})), one("v", "oneOf"));
    assert_eq!(
        problems::<M>(json!({"v": 12, "size": 1.5})),
        one("size", "type")
    );
    let tree = json!({"v": 12, "tree": {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]}});
    assert_eq!(
        problems::<M>(tree),
        one("tree.children[0].children[0].value", "type")
    );
    assert_eq!(
        problems::<M>(json!({"v": 12, "tree": {"value": 1, "colour": "red"}})),
        one("tree.colour", "additionalProperties")
    );
    let node = Node::new(1).with_children(vec![json!({"value": 2})]);
    assert!(
        TypedCombinatorsInput::new(V::Integer(10.into()))
            .with_tree(node)
            .validate()
            .is_valid()
    );
}

/// A media field's `pattern` and `maxLength` were shown by `describe` and not checked (found by
/// hand, not by the suite, which has no media): they hold for the text sent, a URL as given and
/// a local file as its `data:` URI.
#[test]
fn a_media_field_s_text_rules_hold_for_what_is_sent() {
    type M = media_text::MediaText;
    assert_eq!(problems::<M>(json!({"v": "https://example.com/a.png"})), []);
    assert_eq!(
        problems::<M>(
            json!({"v": "https://example.com/images/a-much-longer-name-for-an-image.png"})
        ),
        one("v", "maxLength")
    );
    assert!(
        problems::<M>(json!({"v": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}))
            .contains(&("v".to_owned(), "pattern".to_owned()))
    );
    // A local MP4 goes as a `data:video/mp4` URI, which the pattern does not take.
    let mp4 = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../client/tests/fixtures/media/moov-at-end-64x48.mp4");
    let err = M::info()
        .decode(&json!({"v": mp4.to_string_lossy()}))
        .unwrap_err();
    let said: Vec<_> = err
        .report
        .errors()
        .map(|p| (p.rule.clone(), p.message.clone()))
        .collect();
    assert!(
        said.iter().any(|(rule, message)| rule == "pattern"
            && message.contains("a file given here goes as a data: URI")),
        "{said:?}"
    );
}

/// A file in a branch of a union (an image or an object) is a file all the same: a record and a
/// dry run keep it as its name, size and sha256, not megabytes of base64, and the record gives
/// it back (QA repro28 #13).
#[test]
fn a_file_in_a_union_is_summarized_and_given_back() {
    type M = media_union::MediaUnion;
    const PIXEL_PNG: [u8; 70] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
        0, 0, 0, 31, 21, 196, 137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 96, 248, 95, 15,
        0, 2, 135, 1, 128, 235, 71, 186, 146, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
    ];
    let file = std::env::temp_dir().join(format!("runcomfy-union-{}.png", std::process::id()));
    std::fs::write(&file, PIXEL_PNG).unwrap();
    let given = json!({"v": "x", "mask": file.to_string_lossy()});
    let input = given.as_object().unwrap();
    let body: Value = serde_json::from_slice(
        &M::info()
            .decode(&given)
            .unwrap()
            .encode(usize::MAX)
            .unwrap(),
    )
    .unwrap();
    assert!(
        body["mask"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let summary = runcomfy::provenance::body_summary(M::info(), input, &body);
    assert_eq!(summary["mask"]["size"], json!(70), "{summary}");
    assert_eq!(
        summary["mask"]["source"],
        json!(file.to_string_lossy()),
        "{summary}"
    );
    let record = runcomfy::provenance::Record::new(M::ID, "http://127.0.0.1:1", summary);
    let back = runcomfy::provenance::input_from_record(M::info(), &record).unwrap();
    assert_eq!(Value::Object(back), given);
    // An object where the file could be is left as it is.
    let object = json!({"v": "x", "mask": {"x": 1}});
    let summary =
        runcomfy::provenance::body_summary(M::info(), object.as_object().unwrap(), &object);
    assert_eq!(summary, object);
    let _ = std::fs::remove_file(&file);
}

/// `not: {required: [...]}` (a property ruled out where a condition holds) is said of the
/// property, not as "it passes the schema under `not`" (QA repro28 #6).
#[test]
fn a_property_ruled_out_is_named() {
    type M = not_required::NotRequired;
    assert_eq!(problems::<M>(json!({"v": "text"})), []);
    assert_eq!(
        problems::<M>(json!({"v": "text", "image": "a"})),
        one("image", "not")
    );
    let err = M::info()
        .decode(&json!({"v": "image", "image": "a", "mask": "b"}))
        .unwrap_err();
    let said: Vec<String> = err.report.errors().map(|p| p.message.clone()).collect();
    assert_eq!(said, ["`image`, `mask` must not all be given here"]);
}

/// fal's shape: one of some words, or an object its `$ref` names (into OpenAPI's
/// `components`). A typed union; help lists the words (QA repro28 #2, #4). The overlay names
/// and aliases its words (QA repro32 L3), and an input takes the alias as the flags do; an
/// open set of words (`anyOf [enum, string]`) keeps the text typed.
#[test]
fn a_choice_or_a_referenced_object_is_a_typed_union() {
    use choice_union::{ChoiceUnionInput, Size, SizeChoice, SizeValue};
    type M = choice_union::ChoiceUnion;
    assert_eq!(problems::<M>(json!({"size": "landscape"})), []);
    assert_eq!(problems::<M>(json!({"size": {"width": 5}})), []);
    assert!(!problems::<M>(json!({"size": "portrait"})).is_empty());
    assert!(!problems::<M>(json!({"size": {"width": 0}})).is_empty());
    for size in [
        SizeValue::String(SizeChoice::Even),
        SizeValue::String("wide".parse().unwrap()),
        SizeValue::Object(Size::new().with_width(5)),
    ] {
        assert!(
            ChoiceUnionInput::new()
                .with_size(size)
                .validate()
                .is_valid()
        );
    }
    let field = M::info().fields().find(|f| f.name == "size").unwrap();
    let words: Vec<String> = field
        .alternative_choices()
        .iter()
        .map(|c| c.text())
        .collect();
    assert_eq!(words, ["square", "landscape"]);
    let info = M::info();
    let mut input = json!({"size": "wide", "style": "Anime"});
    let loose = info.normalize_choices(input.as_object_mut().unwrap());
    assert_eq!(input, json!({"size": "landscape", "style": "Anime"}));
    assert!(loose.problems().is_empty(), "{loose:?}");
    let mut input = json!({"size": "Square"});
    let loose = info.normalize_choices(input.as_object_mut().unwrap());
    assert_eq!(input, json!({"size": "square"}));
    assert_eq!(loose.problems().len(), 1, "{loose:?}");
}

/// A discriminated union (Pydantic's, OpenAPI's `discriminator`) of two object shapes with the
/// same fields is typed, each object read as the shape its tag names: serde's untagged reading
/// took the first shape whose fields fit, so a circle came back a box.
#[test]
fn object_shapes_a_tag_tells_apart_are_typed_by_it() {
    use tagged_shapes::{BoxMask, Mask, MaskChoice, TaggedShapesInput};
    type M = tagged_shapes::TaggedShapes;
    for mask in [
        json!("face"),
        json!({"type": "box", "size": 4}),
        json!({"type": "circle", "size": 4, "feather": 0.5}),
    ] {
        assert_eq!(problems::<M>(json!({ "mask": mask })), []);
    }
    assert!(!problems::<M>(json!({"mask": {"type": "oval", "size": 4}})).is_empty());
    assert!(!problems::<M>(json!({"mask": {"type": "box", "size": 0}})).is_empty());
    let read = |mask: Value| -> Mask {
        serde_json::from_value::<TaggedShapesInput>(json!({ "mask": mask }))
            .unwrap()
            .mask
    };
    assert!(matches!(
        read(json!({"type": "circle", "size": 4})),
        Mask::Circle(_)
    ));
    assert!(matches!(
        read(json!({"type": "box", "size": 4})),
        Mask::Box(_)
    ));
    assert!(matches!(
        read(json!("face")),
        Mask::String(MaskChoice::Face)
    ));
    let unknown = serde_json::from_value::<TaggedShapesInput>(json!({"mask": {"type": "oval"}}));
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("\"box\", \"circle\"")
    );
    // Shapes that extend a base are no typed union: the base's type would hold every shape.
    let outline: Option<serde_json::Value> =
        TaggedShapesInput::new(Mask::Box(BoxMask::new(1))).outline;
    assert!(outline.is_none());
    assert_eq!(
        problems::<M>(json!({"mask": "face", "outline": {"type": "dot", "r": 2}})),
        []
    );
    // Built in Rust, it is sent as the shape it is.
    let input = TaggedShapesInput::new(Mask::Box(BoxMask::new(3)));
    assert!(input.validate().is_valid());
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"mask": {"type": "box", "size": 3}})
    );
}

/// One union written out at each use (Pydantic inlines a discriminated union wherever a field
/// takes it) is one Rust type: an operation built for `operation` goes into `steps` and `post`
/// as it is (QA repro30 L2: three identical enums that could not be passed to one another).
/// Inline shapes are named by their title, else by their tag and the field, and the union by
/// the field, or by its definition where the schema names it (QA repro31 M1: definitions lost
/// their names to names made up first).
#[test]
fn a_union_written_out_at_each_use_is_one_type() {
    use shared_union::{
        Content, Content2x, Crop, ImageContent, ImageContentObject, Op, SharedUnionInput, TextPart,
    };
    type M = shared_union::SharedUnion;
    let crop = Op::Crop(Crop::new(5));
    let input = SharedUnionInput::new(crop.clone())
        .with_steps(vec![crop.clone(), crop.clone()])
        .with_post(Some(crop))
        .with_content(Content::Text(TextPart::new("hi")));
    assert!(input.validate().is_valid());
    let sent = serde_json::to_value(&input).unwrap();
    assert_eq!(sent["steps"][1], json!({"op": "crop", "w": 5}));
    assert_eq!(problems::<M>(sent), []);
    for content in [
        Content::Image(ImageContentObject::new("https://e.com/a.png")),
        Content::V2X(Content2x::new(2)),
    ] {
        let input = SharedUnionInput::new(Op::Crop(Crop::new(1))).with_content(content);
        assert!(input.validate().is_valid());
    }
    assert!(!problems::<M>(json!({"operation": {"op": "crop", "w": 0}})).is_empty());
    // Inline shapes written out again are the same types, and so is their union (QA repro31
    // M2: ten copies of one union made ten enums and twenty structs).
    let text = Content::Text(TextPart::new("hi"));
    let input = SharedUnionInput::new(Op::Crop(Crop::new(1)))
        .with_content(text.clone())
        .with_content_again(text);
    assert!(input.validate().is_valid());
    // `"type": ["object", "null"]` beside the shapes: typed by them (QA repro31 L3).
    let input = SharedUnionInput::new(Op::Crop(Crop::new(1)))
        .with_typed_shapes(Some(Op::Crop(Crop::new(3))));
    assert!(input.validate().is_valid());
    assert!(
        !problems::<M>(
            json!({"operation": {"op": "crop", "w": 1}, "typed_shapes": {"op": "crop", "w": 0}})
        )
        .is_empty()
    );
    // A definition keeps its name: the inline shape that would be `ImageContent` yields it.
    let input = SharedUnionInput::new(Op::Crop(Crop::new(1)))
        .with_again(Op::Crop(Crop::new(2)))
        .with_legacy(ImageContent::new("old"))
        // Written out before the definition was used, the same shape is its type (QA repro32 M2).
        .with_early(ImageContent::new("older"));
    assert!(input.validate().is_valid());
}
