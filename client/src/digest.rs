//! The SHA-256 every saved or sent file is named by (provenance records, output files, `data:`
//! URIs, a batch's input file), in one form: lower-case hex.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// The size and SHA-256 (lower-case hex) of what `reader` gives, read a piece at a time.
pub fn sha256_of(mut reader: impl Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    // On the stack: a 64 KiB heap buffer, taken and freed for every downloaded file, raised
    // the peak of `runcomfy run` by about 0.2 MiB (BENCHMARKS.md §8).
    let mut buf = [0u8; 16 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((size, hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() -> io::Result<()> {
        assert_eq!(
            sha256_of(&b""[..])?,
            (
                0,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned()
            )
        );
        // Longer than one read: the pieces make the same digest as the whole.
        let long = vec![b'a'; 200_000];
        let (size, hex) = sha256_of(&long[..])?;
        assert_eq!(size, 200_000);
        assert_eq!(
            hex,
            "2287d207f24a941ff3b56c04c8a25ad56b63e3023207b3bb5b4ac0c9869d74be"
        );
        Ok(())
    }
}
