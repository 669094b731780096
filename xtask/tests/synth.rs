//! `synth`: large synthetic catalogs the generator accepts, the same for the same seed.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use runcomfy_codegen::error::WarningKind;
use xtask::synth;

/// Every file below `dir`, by path relative to it, with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn synth_200_loads_and_generates() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(synth::write(dir.path(), 200, 1).unwrap(), 200);
    let catalog = runcomfy_codegen::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.models.len(), 200);
    let code = runcomfy_codegen::generate(dir.path()).unwrap();
    assert!(code.len() > 100_000);
    // Realistic variety: ids of every length, a few output types, enums, media, nesting.
    let lengths: BTreeSet<usize> = catalog
        .models
        .iter()
        .map(|m| m.id.split('/').count())
        .collect();
    assert_eq!(lengths, BTreeSet::from([2, 3, 4, 5]));
    let outputs: BTreeSet<&str> = catalog.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        outputs,
        BTreeSet::from(["ImagesOutput", "MediaOutput", "SoundOutput", "VideoOutput"])
    );
    let vendors: BTreeSet<&str> = catalog
        .models
        .iter()
        .map(|m| m.id.split('/').next().unwrap())
        .collect();
    assert!(vendors.len() >= 10, "{vendors:?}");
    // Nested objects: a struct besides the input's.
    assert!(catalog.models.iter().any(|m| m.structs.len() > 1));
    assert!(
        catalog
            .models
            .iter()
            .all(|m| !m.input_struct().fields.is_empty())
    );
    // The messy names are there, and lint sees the smells they bring.
    let report = xtask::lint::lint(dir.path());
    assert!(report.errors.is_empty());
    let kinds: BTreeSet<_> = report.warnings.iter().map(|w| w.kind).collect();
    for kind in [
        WarningKind::NonStandardType,
        WarningKind::NumberAsString,
        WarningKind::DisambiguatedEnum,
        WarningKind::UncommonOutput,
        WarningKind::EmptyDescription,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    synth::write(a.path(), 50, 42).unwrap();
    synth::write(b.path(), 50, 42).unwrap();
    synth::write(c.path(), 50, 43).unwrap();
    assert_eq!(snapshot(a.path()), snapshot(b.path()));
    assert_ne!(snapshot(a.path()), snapshot(c.path()));
}

#[test]
fn many_seeds_load() {
    for seed in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        synth::write(dir.path(), 40, seed).unwrap();
        if let Err(e) = runcomfy_codegen::load(dir.path()) {
            panic!("seed {seed}: {e}");
        }
    }
}

/// A folder of other files (a real catalog) is refused, and nothing in it is touched; an
/// earlier synth's is written again.
#[test]
fn a_folder_synth_did_not_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = dir.path().join("bytedance/seedream-4-0/edit/overlay.json");
    std::fs::create_dir_all(overlay.parent().unwrap()).unwrap();
    std::fs::write(&overlay, "{\"hand\": \"written\"}").unwrap();
    let err = synth::write(dir.path(), 10, 1).unwrap_err().to_string();
    assert!(err.contains("holds files no synth wrote"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&overlay).unwrap(),
        "{\"hand\": \"written\"}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let again = tempfile::tempdir().unwrap();
    synth::write(again.path(), 10, 1).unwrap();
    synth::write(again.path(), 10, 2).unwrap();
    // A smaller one over it is the smaller one alone (QA repro36 L11: the 10 stayed), and
    // what synth did not write there stays (QA repro38 N3: it went too).
    std::fs::write(again.path().join("NOTES.md"), "mine").unwrap();
    synth::write(again.path(), 2, 2).unwrap();
    std::fs::remove_file(again.path().join("NOTES.md")).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    synth::write(fresh.path(), 2, 2).unwrap();
    assert_eq!(snapshot(again.path()), snapshot(fresh.path()));
}

/// Over an earlier synth, only the files synth wrote go: a note added in a model's folder
/// stays, and a marker that is a link is not written through (QA repro39 F2, F3).
#[test]
fn an_earlier_synth_loses_only_its_own_files() {
    let dir = tempfile::tempdir().unwrap();
    synth::write(dir.path(), 3, 1).unwrap();
    let marker = std::fs::read_to_string(dir.path().join(synth::MARKER)).unwrap();
    let first = marker.lines().nth(1).unwrap().to_owned();
    let note = dir.path().join(&first).join("NOTES.md");
    std::fs::write(&note, "mine").unwrap();
    synth::write(dir.path(), 3, 2).unwrap();
    assert!(note.is_file());

    let linked = tempfile::tempdir().unwrap();
    let target = linked.path().join("theirs.txt");
    std::fs::write(&target, "theirs").unwrap();
    let out = linked.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&target, out.join(synth::MARKER)).unwrap();
    let err = synth::write(&out, 2, 1).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs");
}
