//! Placing a finished file: moving it from its temporary name to one no other file has, so a
//! second run into the same folder adds its files beside the first's instead of replacing
//! them (a downloaded output, a provenance record).

use std::io;
use std::path::{Path, PathBuf};

/// How a file was placed.
#[derive(Debug)]
pub(crate) enum Placed {
    /// Hard-linked: the temporary name is still there, for its owner to remove.
    Linked(PathBuf),
    /// Renamed: the temporary name is gone.
    Renamed(PathBuf),
}

/// Names tried before giving up: `{stem}.{ext}`, then `{stem}-1.{ext}` and on.
const NAMES: u32 = 10_000;

/// Places `temp` in `dir` as `{stem}.{ext}`, or `{stem}-{n}.{ext}` for the first `n` free.
pub(crate) fn place_new(temp: &Path, dir: &Path, stem: &str, ext: &str) -> io::Result<Placed> {
    for n in 0..NAMES {
        let target = if n == 0 {
            dir.join(format!("{stem}.{ext}"))
        } else {
            dir.join(format!("{stem}-{n}.{ext}"))
        };
        // A hard link fails if the target exists, atomically: no other writer's file is ever
        // replaced. Where links are unsupported, check and rename.
        match std::fs::hard_link(temp, &target) {
            Ok(()) => return Ok(Placed::Linked(target)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => {
                if std::fs::exists(&target).unwrap_or(true) {
                    continue;
                }
                std::fs::rename(temp, &target)?;
                return Ok(Placed::Renamed(target));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free file name for {stem}.{ext}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_a_number() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.json"), "first")?;
        let temp = dir.path().join(".a.tmp");
        std::fs::write(&temp, "second")?;
        let placed = place_new(&temp, dir.path(), "a", "json")?;
        let path = match placed {
            Placed::Linked(path) | Placed::Renamed(path) => path,
        };
        assert_eq!(path, dir.path().join("a-1.json"));
        assert_eq!(std::fs::read_to_string(dir.path().join("a.json"))?, "first");
        assert_eq!(std::fs::read_to_string(path)?, "second");
        Ok(())
    }
}
