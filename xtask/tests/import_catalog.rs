//! `import` over catalog files: RunComfy's real catalog, each shape it publishes, re-imports,
//! overlays, and broken files.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::import::{self, ImportError};
use xtask::store::Status;

fn repo() -> PathBuf {
    xtask::workspace_root()
}

fn real_catalog() -> Vec<PathBuf> {
    let dir = repo().join("../shared/runcomfy-catalog");
    vec![dir.join("models.json"), dir.join("flux-2-flash.json")]
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// A small input schema in RunComfy's shape: a prompt and a media list without `items`.
fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string", "description": "What to make."},
            "images": {"type": "array", "format": "image_uris", "maxItems": 4,
                        "description": "Reference images."}
        }
    })
}

#[test]
fn the_real_catalog_imports_into_the_committed_schemas_and_again_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let changes = import::import(dir.path(), &real_catalog()).unwrap().changes;
    assert_eq!(changes.len(), 65);
    assert!(changes.iter().all(|c| c.status == Status::New));
    for change in &changes {
        let imported = dir.path().join(&change.id);
        let committed = repo().join("schemas").join(&change.id);
        for file in ["input.json", "output.json", "upstream.json"] {
            assert_eq!(
                imported.join(file).exists(),
                committed.join(file).exists(),
                "{}/{file}",
                change.id
            );
            if imported.join(file).exists() {
                assert_eq!(
                    read(&imported.join(file)),
                    read(&committed.join(file)),
                    "{}/{file}",
                    change.id
                );
            }
        }
    }
    // The partner nodes' list says what each model makes and what RunComfy calls it.
    let seedance = read(
        &dir.path()
            .join("bytedance/seedance-2.5/reference-to-video/1080p/upstream.json"),
    );
    let seedance: Value = serde_json::from_str(&seedance).unwrap();
    assert_eq!(seedance["output_kind"], "video");
    assert_eq!(
        seedance["display_name"],
        "Seedance 2.5 Reference to Video 1080p"
    );
    // The API's shape carries categories.
    let flash: Value = serde_json::from_str(&read(
        &dir.path()
            .join("blackforestlabs/flux-2/flash/text-to-image/upstream.json"),
    ))
    .unwrap();
    assert_eq!(flash["categories"], json!(["text-to-image"]));

    let again = import::import(dir.path(), &real_catalog()).unwrap().changes;
    assert_eq!(again.len(), 65);
    assert!(
        again.iter().all(|c| c.status == Status::Unchanged),
        "{again:?}"
    );
    // What was imported generates, without a single overlay.
    runcomfy_codegen::generate(dir.path()).unwrap();
}

#[test]
fn each_published_shape_imports() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    fs::create_dir(&files).unwrap();
    let api = write(
        &files,
        "api.json",
        &json!({
            "models": [{
                "model_id": "acme/studio/text-to-image",
                "display_name": "Studio",
                "categories": ["text-to-image"],
                "base_price_usd": 0.04,
                "price_unit": "output",
                "input_schema": schema(),
                "output_schema": {"type": "object", "properties": {
                    "images": {"type": "array", "items": {"type": "string", "format": "uri"}}
                }}
            }],
            "total": 1
        }),
    );
    let single = write(
        &files,
        "single.json",
        // The API has served the schema as JSON text.
        &json!({"model_id": "acme/studio/edit", "input_schema": schema().to_string()}),
    );
    // Saved by an editor that writes a byte order mark first.
    fs::write(&single, format!("\u{feff}{}", read(&single))).unwrap();
    let nodes = write(
        &files,
        "nodes.json",
        &json!([{
            "model_id": "acme/Clip-2.5/4K",
            "display_name": "RunComfy Clip 4K",
            "output_type": "VIDEO",
            "pricing_mode": "base",
            "schema": schema()
        }]),
    );
    let schemas = dir.path().join("schemas");
    let changes = import::import(&schemas, &[api, single, nodes])
        .unwrap()
        .changes;
    let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "acme/Clip-2.5/4K",
            "acme/studio/edit",
            "acme/studio/text-to-image"
        ]
    );
    let upstream = |id: &str| -> Value {
        serde_json::from_str(&read(&schemas.join(id).join("upstream.json"))).unwrap()
    };
    assert_eq!(
        upstream("acme/studio/text-to-image"),
        json!({"display_name": "Studio", "categories": ["text-to-image"],
               "base_price_usd": 0.04, "price_unit": "output"})
    );
    assert_eq!(
        upstream("acme/Clip-2.5/4K"),
        json!({"display_name": "Clip 4K", "output_kind": "video", "pricing": "base"})
    );
    // A single model without upstream facts has no upstream file; without an output schema,
    // none is written (the generator uses the one RunComfy documents for every model).
    assert!(!schemas.join("acme/studio/edit/upstream.json").exists());
    assert!(!schemas.join("acme/studio/edit/output.json").exists());
    assert!(
        schemas
            .join("acme/studio/text-to-image/output.json")
            .exists()
    );
    let input: Value =
        serde_json::from_str(&read(&schemas.join("acme/studio/edit/input.json"))).unwrap();
    assert_eq!(input["properties"]["images"]["format"], "image_uris");

    // All three generate, an upper-case id and a media list without items included.
    let models = runcomfy_codegen::generate_models(&schemas).unwrap();
    assert_eq!(models.len(), 3);
    let clip = &models
        .iter()
        .find(|(id, _)| id == "acme/Clip-2.5/4K")
        .unwrap()
        .1;
    assert!(clip.contains("Vec<Media>"), "{clip}");
}

#[test]
fn a_reimport_refreshes_upstream_facts_and_keeps_the_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |name: &str| {
        json!([{"model_id": "acme/clip", "display_name": name, "output_type": "VIDEO",
                "schema": schema()}])
    };
    let file = write(dir.path(), "nodes.json", &entry("Clip"));
    let schemas = dir.path().join("schemas");
    import::import(&schemas, std::slice::from_ref(&file)).unwrap();
    let overlay = "{\n  \"display_name\": \"Our Clip\"\n}\n";
    fs::write(schemas.join("acme/clip/overlay.json"), overlay).unwrap();

    let same = import::import(&schemas, std::slice::from_ref(&file))
        .unwrap()
        .changes;
    assert_eq!(same[0].status, Status::Unchanged);

    write(dir.path(), "nodes.json", &entry("Clip Two"));
    let renamed = import::import(&schemas, std::slice::from_ref(&file))
        .unwrap()
        .changes;
    assert_eq!(renamed[0].status, Status::Updated(vec!["upstream.json"]));
    assert_eq!(
        renamed[0].to_string(),
        "updated    acme/clip (upstream.json)"
    );
    assert_eq!(read(&schemas.join("acme/clip/overlay.json")), overlay);
    // The overlay still wins over the upstream name.
    let catalog = runcomfy_codegen::load(&schemas).unwrap();
    assert_eq!(catalog.models[0].display_name, "Our Clip");
}

#[test]
fn a_broken_catalog_file_names_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.json",
        &json!({"model_id": "acme/good", "input_schema": schema()}),
    );
    let broken = dir.path().join("broken.json");
    fs::write(
        &broken,
        "{\n  \"models\": [\n    {\"model_id\": \"acme/x\",, \"input_schema\": {}}\n  ]\n}\n",
    )
    .unwrap();
    let schemas = dir.path().join("schemas");
    let err = import::import(&schemas, &[good.clone(), broken.clone()]).unwrap_err();
    assert!(
        matches!(&err, ImportError::Catalogs(e) if e.len() == 1),
        "{err:?}"
    );
    assert!(
        err.to_string()
            == format!(
                "{}:3:27: invalid JSON: key must be a string",
                broken.display()
            ),
        "{err}"
    );
    assert!(!schemas.exists(), "nothing is written");

    // A well-formed file of the wrong shape names the entry.
    let shapeless = write(
        dir.path(),
        "shapeless.json",
        &json!({"models": [{"model_id": "acme/a", "input_schema": schema()}, {"name": "b"}]}),
    );
    let err = import::import(&schemas, &[good.clone(), shapeless]).unwrap_err();
    assert!(
        err.to_string().contains("at /models/1: no `model_id`"),
        "{err}"
    );
    // So does an id that cannot be a catalog folder, before anything is written.
    let bad_id = write(
        dir.path(),
        "bad-id.json",
        &json!([{"model_id": "acme/a", "schema": schema()},
                {"model_id": "acme/../../etc", "schema": schema()}]),
    );
    let err = import::import(&schemas, &[good, bad_id]).unwrap_err();
    assert!(err.to_string().contains("is not a model id"), "{err}");
    assert!(!schemas.exists(), "nothing is written");
}
