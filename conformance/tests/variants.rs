//! The messy fixture's `acme/variants`: an input that is one of two object shapes (a `oneOf`
//! at the root, told apart by `mode`). The input is closed over what a passing shape names, so
//! each shape's properties are taken, and are fields, never required as such.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use runcomfy::Media;
use runcomfy::Model;
use runcomfy::catalog::FieldKind;
use runcomfy::schema::MediaKind;
use runcomfy_conformance::models::acme::variants::{Variants, VariantsInput};
use serde_json::json;

#[test]
fn each_shape_is_taken_and_nothing_else() {
    let info = Variants::info();
    for input in [
        json!({"mode": "text", "prompt": "a fox", "seed": 1}),
        json!({"mode": "image", "image": "https://example.com/a.png"}),
    ] {
        assert!(info.decode(&input).is_ok(), "{input}");
    }
    let rules = |input| -> Vec<(String, String)> {
        let err = info.decode(&input).unwrap_err();
        err.report
            .problems()
            .iter()
            .map(|p| (p.path.clone(), p.rule.clone()))
            .collect()
    };
    // A property of the other shape is no property of this one; a typo is none of any.
    assert!(
        rules(json!({"mode": "text", "prompt": "a fox", "image": "https://example.com/a.png"}))
            .contains(&("image".to_owned(), "unevaluatedProperties".to_owned()))
    );
    assert!(
        rules(json!({"mode": "text", "prompt": "a fox", "promt": "x"}))
            .contains(&("promt".to_owned(), "unevaluatedProperties".to_owned()))
    );
    assert!(!rules(json!({"seed": 1})).is_empty());
}

/// A value no shape takes is told what is wrong in the shape its tag picks, not that its
/// properties are "not allowed".
#[test]
fn the_shape_a_tag_picks_says_what_is_wrong() {
    let rules = |input| -> Vec<(String, String)> {
        let err = Variants::info().decode(&input).unwrap_err();
        err.report
            .problems()
            .iter()
            .map(|p| (p.path.clone(), p.rule.clone()))
            .collect()
    };
    let one = |path: &str, rule: &str| vec![(path.to_owned(), rule.to_owned())];
    assert_eq!(
        rules(json!({"mode": "text", "prompt": 5})),
        one("prompt", "type")
    );
    assert_eq!(
        rules(json!({"mode": "text", "prompt": ""})),
        one("prompt", "minLength")
    );
    assert_eq!(rules(json!({"mode": "text"})), one("prompt", "required"));
    let image = rules(json!({"mode": "image", "image": "not a link"}));
    assert_eq!(image.len(), 1);
    assert_eq!(image[0].0, "image");
    // A tag none of the shapes has.
    let err = Variants::info()
        .decode(&json!({"mode": "video", "prompt": "a fox"}))
        .unwrap_err();
    let problems = err.report.problems();
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].path.as_str(), problems[0].rule.as_str()),
        ("mode", "oneOf")
    );
    assert_eq!(problems[0].message, r#"must be one of: "text", "image""#);
}

#[test]
fn each_shape_s_properties_are_fields() {
    let fields: Vec<_> = Variants::info().fields().collect();
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        ["seed", "brush", "outline", "mode", "prompt", "image"]
    );
    let field = |name: &str| fields.iter().find(|f| f.name == name).unwrap();
    assert!(!field("seed").in_branch());
    for name in ["mode", "prompt", "image"] {
        assert!(field(name).in_branch(), "{name}");
        assert!(!field(name).required, "{name}");
    }
    // `mode` is "text" in one shape and "image" in the other: a choice of both.
    assert_eq!(field("mode").kind(), FieldKind::Choice);
    assert!(field("mode").own_schema().constant.is_none());
    let modes: Vec<String> = field("mode").choices().iter().map(|c| c.text()).collect();
    assert_eq!(modes, ["text", "image"]);
    assert_eq!(field("image").kind(), FieldKind::Media(MediaKind::Image));
    assert_eq!(field("prompt").own_schema().min_length, Some(1));
}

/// The typed input has each shape's properties too: a shape's picture is a file (a local one
/// is read and sent inline), not text, and each has its setter.
#[test]
fn the_typed_input_holds_each_shape_s_properties() {
    let input: VariantsInput =
        serde_json::from_value(json!({"mode": "image", "image": "shots/cat.png"})).unwrap();
    assert!(matches!(input.image, Some(Media::Path(_))));
    assert!(input.extra.is_empty());
    let text = VariantsInput::new().with_mode("text").with_prompt("a fox");
    assert!(runcomfy::Input::validate(&text).is_valid());
    let neither = VariantsInput::new().with_mode("text");
    assert!(!runcomfy::Input::validate(&neither).is_valid());
}

/// A value two shapes could take, none does and no tag picks between, is told why each shape
/// refuses it, by its title or its place.
#[test]
fn with_no_tag_each_shape_says_why() {
    use runcomfy_conformance::models::regress::untagged_shapes::UntaggedShapes;
    let err = UntaggedShapes::info()
        .decode(&json!({"prompt": "a fox", "strength": 2}))
        .unwrap_err();
    let errors: Vec<_> = err.report.errors().collect();
    assert_eq!(errors.len(), 1, "{:?}", err.report);
    let message = &errors[0].message;
    assert!(
        message.contains("as `From text` (strength: is not a known field"),
        "{message}"
    );
    assert!(
        message.contains("as alternative 2 (image_url: is required, prompt: is not a known field"),
        "{message}"
    );
    assert_eq!(errors[0].rule, "oneOf");
    assert!(
        UntaggedShapes::info()
            .decode(&json!({"prompt": "a fox", "steps": 2}))
            .is_ok()
    );
}
