//! Checks shared by the batch crash tests.

use std::path::Path;

/// Every PNG under `out` decodes whole and no temporary file is left; returns how many PNGs.
pub fn check_files(out: &Path) -> usize {
    let mut pngs = 0;
    let mut stack = vec![out.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".part") && !name.ends_with(".tmp"),
                "temporary file left: {}",
                entry.path().display()
            );
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else if name.ends_with(".png") {
                let bytes = std::fs::read(entry.path()).unwrap();
                let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes))
                    .read_info()
                    .unwrap();
                let mut buf = vec![0; reader.output_buffer_size().unwrap()];
                reader.next_frame(&mut buf).unwrap();
                pngs += 1;
            }
        }
    }
    pngs
}
