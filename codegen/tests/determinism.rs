//! The same catalog always generates byte-identical code, whatever order its files are found in.

use std::fs;
use std::path::{Path, PathBuf};

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// Copies every model folder of `from` into `to`, creating them in the given order (the order a
/// file system lists directory entries in often follows creation order).
fn copy_models(from: &Path, to: &Path, reverse: bool) {
    let mut dirs = Vec::new();
    collect(from, from, &mut dirs);
    if reverse {
        dirs.reverse();
    }
    for rel in dirs {
        let target = to.join(&rel);
        fs::create_dir_all(&target).unwrap();
        let mut files: Vec<_> = fs::read_dir(from.join(&rel))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        if reverse {
            files.reverse();
        }
        for file in files {
            fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    if entries.iter().any(|p| p.ends_with("input.json")) {
        out.push(dir.strip_prefix(root).unwrap().to_owned());
    }
    for entry in entries.into_iter().filter(|p| p.is_dir()) {
        collect(root, &entry, out);
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    let a = runcomfy_codegen::generate(&seeds()).unwrap();
    let b = runcomfy_codegen::generate(&seeds()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn file_order_does_not_matter() {
    for catalog in [
        seeds(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messy"),
    ] {
        let forward = tempfile::tempdir().unwrap();
        let backward = tempfile::tempdir().unwrap();
        copy_models(&catalog, forward.path(), false);
        copy_models(&catalog, backward.path(), true);
        let a = runcomfy_codegen::generate(forward.path()).unwrap();
        let b = runcomfy_codegen::generate(backward.path()).unwrap();
        let original = runcomfy_codegen::generate(&catalog).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, original);
    }
}
