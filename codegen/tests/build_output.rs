//! What the build script generates: compact (unformatted) code, and only the selected models.
//!
//! The compact text must be the very code the formatted one is, and selecting models must be
//! additive (cargo features are): a model's items are the same whatever else is selected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use runcomfy_codegen::Generator;

fn catalogs() -> [PathBuf; 2] {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    [dir.join("../schemas"), dir.join("tests/fixtures/messy")]
}

/// Every item of a file by its module path and name, as token text (layout-free).
fn items(code: &str) -> BTreeMap<String, String> {
    fn walk(items: &[syn::Item], path: &str, out: &mut BTreeMap<String, String>) {
        for (index, item) in items.iter().enumerate() {
            let key = match item {
                syn::Item::Mod(m) => {
                    let path = format!("{path}::{}", m.ident);
                    if let Some((_, inner)) = &m.content {
                        walk(inner, &path, out);
                    }
                    // The module's own attributes (docs).
                    let attrs = &m.attrs;
                    out.insert(
                        format!("{path} (attrs)"),
                        quote::quote!(#(#attrs)*).to_string(),
                    );
                    continue;
                }
                syn::Item::Struct(s) => format!("{path}::{}", s.ident),
                syn::Item::Enum(e) => format!("{path}::{}", e.ident),
                syn::Item::Static(s) => format!("{path}::{}", s.ident),
                syn::Item::Const(c) => format!("{path}::{}", c.ident),
                syn::Item::Impl(i) => {
                    let of = i
                        .trait_
                        .as_ref()
                        .map(|(t, _)| t.to_token_stream().to_string());
                    let ty = i.self_ty.to_token_stream();
                    format!("{path}::impl {} for {ty}", of.unwrap_or_default())
                }
                syn::Item::Use(u) => format!("{path}::{}", u.to_token_stream()),
                _ => format!("{path}::#{index}"),
            };
            out.insert(key, item.to_token_stream().to_string());
        }
    }
    let file = syn::parse_file(code).unwrap();
    let mut out = BTreeMap::new();
    walk(&file.items, "", &mut out);
    out
}

#[test]
fn compact_code_is_the_formatted_code_without_layout() {
    for catalog in catalogs() {
        let pretty = Generator::new().generate(&catalog).unwrap();
        let compact = Generator::new().pretty(false).generate(&catalog).unwrap();
        assert_ne!(pretty, compact);
        // Formatting either gives the same text: only layout differs.
        let format = |code: &str| prettyplease::unparse(&syn::parse_file(code).unwrap());
        assert_eq!(format(&pretty), format(&compact), "{}", catalog.display());
        for threads in [2, 3, 8] {
            let parallel = Generator::new()
                .pretty(false)
                .threads(threads)
                .generate(&catalog)
                .unwrap();
            assert_eq!(
                parallel,
                compact,
                "{threads} threads, {}",
                catalog.display()
            );
        }
        // One statement or item per line, so clippy's layout lints read it as written.
        assert!(compact.lines().count() > 200, "{}", catalog.display());
        assert!(!compact.contains("} if "), "{}", catalog.display());
    }
}

#[test]
fn selecting_models_never_changes_what_a_model_generates() {
    for catalog in catalogs() {
        let full_ir = runcomfy_codegen::load(&catalog).unwrap();
        let full = items(&Generator::new().emit(&full_ir));
        for model in &full_ir.models {
            // Read as the build script reads it: only the selected model's input.
            let one = Generator::new().select(|id| id == model.id);
            let subset = items(&one.generate(&catalog).unwrap());
            let module = format!("::models::{}", model.module_path.join("::"));
            assert!(
                subset.keys().any(|k| k.starts_with(&format!("{module}::"))),
                "{} is missing from its own selection",
                model.id
            );
            for other in full_ir.models.iter().filter(|m| m.id != model.id) {
                let other_module = format!("::models::{}::", other.module_path.join("::"));
                // Items below the other model's module that are not the selected model's own
                // (which may be nested in it).
                let leaked = subset.keys().any(|k| {
                    k.starts_with(&other_module)
                        && !k.starts_with(&format!("{module}::"))
                        && !k.ends_with(" (attrs)")
                });
                assert!(!leaked, "{} generated {} too", model.id, other.id);
            }
            for (key, tokens) in &subset {
                // The list of models differs, and so may the docs of a namespace module that
                // is a model too (`acme/image-gen` above `acme/image-gen/pro/v2/turbo`).
                if key.ends_with("GENERATED_MODELS") || key.ends_with(" (attrs)") {
                    continue;
                }
                assert_eq!(
                    full.get(key),
                    Some(tokens),
                    "{key} differs when only {} is selected",
                    model.id
                );
            }
            let output = &full_ir.outputs[model.output].name;
            assert!(subset.contains_key(&format!("::outputs::{output}")));
            let outputs = subset
                .keys()
                .filter(|k| {
                    k.starts_with("::outputs::") && !k.contains("::impl ") && !k.contains("::use ")
                })
                .count();
            assert_eq!(outputs, 1, "{} brings only its own output type", model.id);
        }
    }
}

#[test]
fn selecting_no_model_still_generates_a_valid_file() {
    let code = Generator::new()
        .pretty(false)
        .select(|_| false)
        .generate(&catalogs()[0])
        .unwrap();
    let items = items(&code);
    assert!(items.contains_key("::GENERATED_MODELS"), "{code}");
    assert!(!code.contains("use "), "no unused imports: {code}");
}

#[test]
fn models_left_out_are_not_read_past_what_names_shared_types() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for id in ["acme/good", "acme/broken"] {
        std::fs::create_dir_all(root.join(id)).unwrap();
        std::fs::write(
            root.join(id).join("output.json"),
            r#"{"type": "object", "properties": {"image": {"type": "string", "format": "uri"}}}"#,
        )
        .unwrap();
    }
    std::fs::write(
        root.join("acme/good/input.json"),
        r#"{"type": "object", "properties": {"prompt": {"type": "string"}}}"#,
    )
    .unwrap();
    std::fs::write(root.join("acme/broken/input.json"), "{ not json").unwrap();

    let only_good = Generator::new()
        .pretty(false)
        .select(|id| id == "acme/good")
        .generate(root)
        .unwrap();
    assert!(only_good.contains("pub mod good"));
    assert!(!only_good.contains("pub mod broken"));
    // The shared output type is named, and documented, as in the whole catalog.
    assert!(
        only_good.contains("Used by `acme/broken`, `acme/good`."),
        "{only_good}"
    );

    let everything = Generator::new().generate(root).unwrap_err().to_string();
    assert!(
        everything.contains("acme/broken/input.json"),
        "{everything}"
    );
}

/// The models left out are declared behind the feature that enables them, so the compiler names
/// it to a program that uses one: a family's, a model's own, and a vendor with no feature of
/// its own declared as a module of such declarations.
#[test]
fn modules_left_out_are_declared_behind_their_features() {
    let [shipped, _] = catalogs();
    let code = Generator::new()
        .pretty(false)
        .select(|id| id == "bytedance/seedream-4-0/edit")
        .gated_modules(true)
        .generate(&shipped)
        .unwrap();
    let file: syn::File = syn::parse_str(&code).unwrap();
    let text = file.to_token_stream().to_string();
    for (feature, module) in [
        ("bytedance-seedance-2-5", "seedance_2_5"),
        ("bytedance-seedream-4-0-sequential", "sequential"),
        ("blackforestlabs-flux-3", "flux_3"),
    ] {
        let declared = format!("# [cfg (feature = \"{feature}\")] pub mod {module} {{ }}");
        assert!(
            text.contains(&declared),
            "{declared} not in the generated code"
        );
    }
    // The vendor has no feature: declared, not gated, with its families gated inside.
    assert!(
        text.contains("pub mod blackforestlabs {"),
        "no blackforestlabs module"
    );
    assert!(!text.contains("feature = \"all-models\""));
    // Without it, nothing but the selected model.
    let plain = Generator::new()
        .pretty(false)
        .select(|id| id == "bytedance/seedream-4-0/edit")
        .generate(&shipped)
        .unwrap();
    assert!(!plain.contains("cfg (feature") && !plain.contains("cfg(feature"));
}
