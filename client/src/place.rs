//! Placing a finished file: moving it from its temporary name to one no other file has, so a
//! second run into the same folder adds its files beside the first's instead of replacing
//! them (a downloaded output, a provenance record). A downloaded file already there byte for
//! byte is not added again: fetching a job's files a second time (after an interrupted
//! download, say) gives the paths of the first copies.

use std::io;
use std::path::{Path, PathBuf};

/// How a file was placed.
#[derive(Debug)]
pub(crate) enum Placed {
    /// Hard-linked: the temporary name is still there, for its owner to remove.
    Linked(PathBuf),
    /// Renamed: the temporary name is gone.
    Renamed(PathBuf),
    /// Already there with the same bytes: the temporary name is still there, for its owner to
    /// remove.
    Existing(PathBuf),
}

/// What a finished file is, to tell whether a file already in place is the same one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity<'a> {
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: &'a str,
}

impl Identity<'_> {
    /// Whether the file at `path` has these bytes: its size first, read only when that agrees.
    fn matches(&self, path: &Path) -> bool {
        let same_size = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == self.bytes);
        same_size
            && std::fs::File::open(path)
                .and_then(crate::digest::sha256_of)
                .is_ok_and(|(_, sha256)| sha256 == self.sha256)
    }
}

/// Names tried before giving up: `{stem}.{ext}`, then `{stem}-1.{ext}` and on.
const NAMES: u32 = 10_000;

/// Places `temp` in `dir` as `{stem}.{ext}`, or `{stem}-{n}.{ext}` for the first `n` free;
/// with an `identity`, a file on the way that already has those bytes is taken instead.
pub(crate) fn place_new(
    temp: &Path,
    dir: &Path,
    stem: &str,
    ext: &str,
    identity: Option<Identity<'_>>,
) -> io::Result<Placed> {
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
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                if identity.is_some_and(|identity| identity.matches(&target)) {
                    return Ok(Placed::Existing(target));
                }
            }
            Err(_) => {
                if std::fs::exists(&target).unwrap_or(true) {
                    if identity.is_some_and(|identity| identity.matches(&target)) {
                        return Ok(Placed::Existing(target));
                    }
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
        let placed = place_new(&temp, dir.path(), "a", "json", None)?;
        let path = match placed {
            Placed::Linked(path) | Placed::Renamed(path) => path,
            Placed::Existing(path) => panic!("no identity given, yet {path:?} was taken"),
        };
        assert_eq!(path, dir.path().join("a-1.json"));
        assert_eq!(std::fs::read_to_string(dir.path().join("a.json"))?, "first");
        assert_eq!(std::fs::read_to_string(path)?, "second");
        Ok(())
    }

    #[test]
    fn a_file_already_there_byte_for_byte_is_taken_not_copied() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.png"), "other bytes")?;
        std::fs::write(dir.path().join("a-1.png"), "the bytes")?;
        let temp = dir.path().join(".a.part");
        std::fs::write(&temp, "the bytes")?;
        let (bytes, sha256) = crate::digest::sha256_of(std::fs::File::open(&temp)?)?;
        let identity = Identity {
            bytes,
            sha256: &sha256,
        };
        match place_new(&temp, dir.path(), "a", "png", Some(identity))? {
            Placed::Existing(path) => assert_eq!(path, dir.path().join("a-1.png")),
            other => panic!("{other:?}"),
        }
        // A same-sized file with other bytes is not the same file.
        std::fs::write(&temp, "the bytez")?;
        let (bytes, sha256) = crate::digest::sha256_of(std::fs::File::open(&temp)?)?;
        let identity = Identity {
            bytes,
            sha256: &sha256,
        };
        match place_new(&temp, dir.path(), "a", "png", Some(identity))? {
            Placed::Linked(path) | Placed::Renamed(path) => {
                assert_eq!(path, dir.path().join("a-2.png"));
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    }
}
