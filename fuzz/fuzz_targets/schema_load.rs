//! Loading a catalog: the bytes become `input.json`, `output.json` and `overlay.json` of one
//! model (split at 0xFF bytes), read, patched, lowered to the IR and, when that succeeds,
//! emitted as Rust. Every failure must be a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// An output schema the seed models use, for inputs that give only an input schema.
const OUTPUT: &[u8] = br#"{"output": {"type": "object", "properties": {"images": {"type": "array", "items": {"type": "string", "format": "uri"}}}}}"#;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xFF);
    let input = parts.next().unwrap_or_default();
    let output = parts.next().unwrap_or(OUTPUT);
    let overlay = parts.next();
    let Ok(dir) = tempfile::tempdir() else { return };
    let model = dir.path().join("acme").join("fuzz-model");
    if std::fs::create_dir_all(&model).is_err() {
        return;
    }
    let written = std::fs::write(model.join("input.json"), input)
        .and_then(|()| std::fs::write(model.join("output.json"), output))
        .and_then(|()| match overlay {
            Some(overlay) => std::fs::write(model.join("overlay.json"), overlay),
            None => Ok(()),
        });
    if written.is_err() {
        return;
    }
    if let Ok(catalog) = runcomfy_codegen::load(dir.path()) {
        let _ = runcomfy_codegen::emit::file(&catalog, &|_| true, false, 1);
    }
});
