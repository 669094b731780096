//! `import` over the seed doc pages (es, fr, it, ja) and over broken pages.

use std::fs;
use std::path::{Path, PathBuf};

use xtask::import::{self, CheckError, ImportError};
use xtask::page::{self, PageError};
use xtask::store::Status;

fn repo() -> PathBuf {
    xtask::workspace_root()
}

fn seeds() -> PathBuf {
    repo().join("../shared/seeds")
}

/// The seed page whose name starts with `prefix` (`000`, ...).
fn seed(prefix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir(seeds())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "one seed page {prefix}*");
    found.remove(0)
}

fn all_seeds() -> Vec<PathBuf> {
    ["000", "001", "002", "003", "004"]
        .iter()
        .map(|p| seed(p))
        .collect()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const EDIT_SEQUENTIAL: &str = "bytedance/seedream-4-0/edit-sequential";

#[test]
fn all_five_seed_pages_import_into_the_committed_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let changes = import::import(dir.path(), &all_seeds()).unwrap().changes;
    let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "bytedance/seedream-4-0/edit",
            EDIT_SEQUENTIAL,
            "bytedance/seedream-4-0/sequential"
        ]
    );
    assert!(changes.iter().all(|c| c.status == Status::New));
    for id in ids {
        for file in ["input.json", "output.json"] {
            let committed = repo().join("schemas").join(id).join(file);
            let imported = dir.path().join(id).join(file);
            assert_eq!(read(&imported), read(&committed), "{id}/{file}");
        }
        assert!(!dir.path().join(id).join("overlay.json").exists());
    }
    // What was imported loads and generates, with and without the committed overlays.
    runcomfy_codegen::generate(dir.path()).unwrap();
}

#[test]
fn the_three_languages_of_edit_sequential_give_identical_files() {
    let mut outputs = Vec::new();
    for prefix in ["000", "001", "003"] {
        let dir = tempfile::tempdir().unwrap();
        let changes = import::import(dir.path(), &[seed(prefix)]).unwrap().changes;
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].id, EDIT_SEQUENTIAL, "page {prefix}");
        let model = dir.path().join(EDIT_SEQUENTIAL);
        outputs.push((
            read(&model.join("input.json")),
            read(&model.join("output.json")),
        ));
    }
    let committed = repo().join("schemas").join(EDIT_SEQUENTIAL);
    let expected = (
        read(&committed.join("input.json")),
        read(&committed.join("output.json")),
    );
    for (i, got) in outputs.iter().enumerate() {
        assert_eq!(*got, expected, "language {i}");
    }
    // The normalization is what made them equal: the pages differ.
    let es = page::read_page(&seed("000")).unwrap();
    let ja = page::read_page(&seed("003")).unwrap();
    assert_ne!(es.input["title"], ja.input["title"]);
    assert_ne!(es.output, ja.output);
}

#[test]
fn reimporting_reports_unchanged_and_keeps_overlays() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join(EDIT_SEQUENTIAL);
    fs::create_dir_all(&model).unwrap();
    let overlay = read(
        &repo()
            .join("schemas")
            .join(EDIT_SEQUENTIAL)
            .join("overlay.json"),
    );
    fs::write(model.join("overlay.json"), &overlay).unwrap();
    // A stale input.json makes the first import an update of that file only.
    fs::write(model.join("input.json"), "{}\n").unwrap();
    let first = import::import(dir.path(), &[seed("000")]).unwrap().changes;
    assert_eq!(
        first[0].status,
        Status::Updated(vec!["input.json", "output.json"])
    );
    assert_eq!(
        first[0].to_string(),
        format!("updated    {EDIT_SEQUENTIAL} (input.json, output.json)")
    );
    let second = import::import(dir.path(), &[seed("001"), seed("003")])
        .unwrap()
        .changes;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].status, Status::Unchanged);
    assert_eq!(read(&model.join("overlay.json")), overlay);
    let changes = import::run(dir.path(), &[seed("000")]).unwrap().changes;
    assert_eq!(changes[0].status, Status::Unchanged);
}

fn broken_page(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_truncated_schema_is_reported_with_page_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&seed("000"));
    // Cut the page inside the input schema, after the `"text": {` line.
    let cut = text
        .find("\"sequential_image_generation_options\"")
        .unwrap();
    let truncated = &text[..cut];
    let path = broken_page(dir.path(), "truncated.txt", truncated);
    let err = page::read_page(&path).unwrap_err();
    let lines = truncated.lines().count();
    let last = truncated.lines().last().unwrap().chars().count();
    match &err {
        PageError::InvalidJson {
            path: p,
            line,
            column,
            what,
            ..
        } => {
            assert_eq!(p, &path);
            assert_eq!(*what, "input schema");
            assert_eq!((*line, *column), (lines, last.max(1)));
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}:{lines}:", path.display())),
        "{message}"
    );
    assert!(
        message.contains("the input schema is not valid JSON: EOF while parsing"),
        "{message}"
    );
}

#[test]
fn a_damaged_schema_points_at_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&seed("001"));
    // The fr page has no indentation; drop the comma after `"type": "object"` of the input.
    let at = text.find("\"type\": \"object\",\n\"title\"").unwrap();
    let damaged = text.replacen(
        "\"type\": \"object\",\n\"title\"",
        "\"type\": \"object\"\n\"title\"",
        1,
    );
    let line = text[..at].matches('\n').count() + 2;
    let path = broken_page(dir.path(), "damaged.txt", &damaged);
    let message = page::read_page(&path).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "{}:{line}:1: the input schema is not valid JSON: expected `,` or `}}`",
            path.display()
        )
    );
}

#[test]
fn pages_without_schemas_or_id_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&seed("002"));
    let start = text.find("Schema di input").unwrap();
    let no_schemas = broken_page(dir.path(), "no-schema.txt", &text[..start]);
    assert_eq!(
        page::read_page(&no_schemas).unwrap_err().to_string(),
        format!(
            "{}: no input schema found (a JSON object with \"properties\")",
            no_schemas.display()
        )
    );
    let out_start = text.rfind("Schema di output").unwrap();
    let no_output = broken_page(dir.path(), "no-output.txt", &text[..out_start]);
    assert!(matches!(
        page::read_page(&no_output).unwrap_err(),
        PageError::NoOutputSchema { .. }
    ));
    let no_id = broken_page(
        dir.path(),
        "no-id.txt",
        &text.replace("bytedance/seedream-4-0/sequential", "the model"),
    );
    // Its URLs hold `the`: said, rather than "no model id found" (QA repro36 L4).
    let err = page::read_page(&no_id).unwrap_err().to_string();
    assert!(err.contains("`the` is not a model id"), "{err}");
    let no_url = broken_page(
        dir.path(),
        "no-url.txt",
        &text
            .replace("bytedance/seedream-4-0/sequential", "the model")
            .replace("/v1/models/", "/"),
    );
    assert_eq!(
        page::read_page(&no_url).unwrap_err().to_string(),
        format!(
            "{}: no model id found (expected a `/v1/models/<id>` URL or a line holding just the id)",
            no_url.display()
        )
    );
    let escaping = broken_page(
        dir.path(),
        "escaping.txt",
        &text.replace("bytedance/seedream-4-0/sequential", "../../tmp/x"),
    );
    let err = page::read_page(&escaping).unwrap_err().to_string();
    assert!(err.contains("`../../tmp/x` is not a model id"), "{err}");
}

#[test]
fn a_broken_page_stops_the_whole_import() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    fs::create_dir(&pages).unwrap();
    let broken = broken_page(
        &pages,
        "broken.txt",
        "/v1/models/acme/x\n{\"properties\": {",
    );
    let schemas = dir.path().join("schemas");
    let err = import::import(&schemas, &[seed("000"), broken.clone()]).unwrap_err();
    assert!(matches!(&err, ImportError::Pages(e) if e.len() == 1));
    assert!(
        err.to_string()
            .starts_with(&format!("{}:2:", broken.display())),
        "{err}"
    );
    assert!(!schemas.exists(), "nothing is written");
    assert!(matches!(
        import::run(&schemas, &[broken]),
        Err(ImportError::Pages(_))
    ));
}

#[test]
fn pages_of_one_model_that_disagree_are_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&seed("000")).replace("\"maxLength\": 600", "\"maxLength\": 500");
    let other = broken_page(dir.path(), "other.txt", &text);
    let err = import::import(&dir.path().join("s"), &[seed("001"), other.clone()]).unwrap_err();
    assert!(
        matches!(&err, ImportError::Conflict { id, second, .. } if id == EDIT_SEQUENTIAL && *second == other),
        "{err:?}"
    );
}

#[test]
fn an_import_that_breaks_an_overlay_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join(EDIT_SEQUENTIAL);
    fs::create_dir_all(&model).unwrap();
    fs::write(
        model.join("overlay.json"),
        "{\"fields\": {\"gone\": {\"docs\": \"a field the page does not have\"}}}\n",
    )
    .unwrap();
    let err = import::run(dir.path(), &[seed("000")]).unwrap_err();
    assert!(
        matches!(&err, ImportError::Check(CheckError::Invalid { .. })),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("overlay.json"), "{message}");
    assert!(message.contains("nothing was written"), "{message}");
    // The folder is as it was: the overlay alone.
    let left: Vec<_> = fs::read_dir(&model)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["overlay.json"]);
}

#[test]
fn a_source_the_catalog_cannot_take_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let first = import::import(dir.path(), &[seed("000")]).unwrap().changes;
    assert_eq!(first.len(), 1);
    let before = snapshot(dir.path());
    // A price that is none, and an id whose feature another model's takes.
    let sources = tempfile::tempdir().unwrap();
    let bad = sources.path().join("bad.json");
    let entry = |id: &str, price: f64| {
        serde_json::json!({
            "model_id": id,
            "input_schema": {"type": "object", "properties": {"prompt": {"type": "string"}}},
            "base_price_usd": price,
        })
    };
    for models in [
        vec![entry("acme/new-model", -1.0)],
        vec![
            entry("acme/fine", 0.03),
            entry(&EDIT_SEQUENTIAL.to_uppercase(), 0.03),
        ],
    ] {
        fs::write(&bad, serde_json::json!({"models": models}).to_string()).unwrap();
        let err = import::import(dir.path(), std::slice::from_ref(&bad)).unwrap_err();
        assert!(err.to_string().contains("nothing was written"), "{err}");
        assert_eq!(snapshot(dir.path()), before, "{err}");
    }
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.push((path.clone(), Vec::new()));
                folders.push(path);
            } else {
                files.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A page and a catalog file of one model, with the same schemas: the file's catalog facts are
/// kept whichever comes first, and its entry may lack the output schema the page gives.
#[test]
fn a_page_and_a_catalog_file_of_one_model_merge_whatever_their_order() {
    let page = seed("000");
    let id = page::read_page(&page).unwrap().id;
    let input: serde_json::Value =
        serde_json::from_str(&read(&repo().join("schemas").join(&id).join("input.json"))).unwrap();
    let files = tempfile::tempdir().unwrap();
    let catalog = files.path().join("catalog.json");
    let entry = serde_json::json!([{"model_id": id, "display_name": "Seedream", "base_price_usd": 0.03, "price_unit": "output", "input_schema": input}]);
    fs::write(&catalog, entry.to_string()).unwrap();
    let mut upstreams = Vec::new();
    for order in [
        vec![page.clone(), catalog.clone()],
        vec![catalog.clone(), page.clone()],
    ] {
        let dir = tempfile::tempdir().unwrap();
        import::import(dir.path(), &order).unwrap();
        let upstream = read(&dir.path().join(&id).join("upstream.json"));
        assert!(upstream.contains("0.03"), "{upstream}");
        assert!(dir.path().join(&id).join("output.json").is_file());
        upstreams.push(upstream);
    }
    assert_eq!(upstreams[0], upstreams[1]);
}

/// A file or folder of a model that is a symbolic link is not written through: it could name
/// a file outside the catalog (QA repro36 M5: an `input.json` linking out was rewritten).
#[test]
fn a_symbolic_link_in_the_catalog_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    let catalog = dir.path().join("catalog");
    let model = catalog.join(EDIT_SEQUENTIAL);
    fs::create_dir_all(&model).unwrap();
    fs::write(outside.join("victim.json"), "{}\n").unwrap();
    std::os::unix::fs::symlink(outside.join("victim.json"), model.join("input.json")).unwrap();
    let err = import::import(&catalog, &[seed("000")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(read(&outside.join("victim.json")), "{}\n");
    // A folder of the id that links out, the same.
    fs::remove_dir_all(&catalog).unwrap();
    fs::create_dir_all(&catalog).unwrap();
    std::os::unix::fs::symlink(&outside, catalog.join("bytedance")).unwrap();
    let err = import::import(&catalog, &[seed("000")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        1,
        "nothing written there"
    );
}

/// A page with two different input schemas is refused, naming the second; the same schema
/// twice is one (QA repro36 L6: the first won, silently).
#[test]
fn a_page_with_two_different_input_schemas_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&seed("002"));
    let title = text.find("\"title\": \"Schema di input\"").unwrap();
    let open = text[..title].rfind('{').unwrap();
    let mut stream =
        serde_json::Deserializer::from_str(&text[open..]).into_iter::<serde_json::Value>();
    assert!(matches!(stream.next(), Some(Ok(_))));
    let schema = &text[open..open + stream.byte_offset()];
    let same = broken_page(dir.path(), "same.txt", &format!("{text}\n{schema}\n"));
    assert!(page::read_page(&same).is_ok());
    let other = schema.replacen("600", "601", 1);
    assert_ne!(other, schema);
    let twice = broken_page(dir.path(), "twice.txt", &format!("{text}\n{other}\n"));
    let err = page::read_page(&twice).unwrap_err().to_string();
    assert!(
        err.contains("a second input schema, not the same as the first"),
        "{err}"
    );
}
