//! What a download saved: one file, as an output listed it and as it lies on disk. Below
//! `error`, which carries the files saved beside a failure ([`crate::error::Error::NotAllSaved`]);
//! the API's `download` module re-exports it.

use std::path::PathBuf;

/// One saved file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadedFile {
    /// The output field it came from.
    pub field: String,
    /// Its position in the field, for arrays.
    pub index: Option<usize>,
    /// The URL it came from (a path an output gave, `/files/a.png`, as fetched on the API's
    /// origin).
    pub url: String,
    /// Where it was saved.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The `Content-Type` the host sent.
    pub content_type: Option<String>,
    /// SHA-256 of its bytes, in lower-case hex (read back from the file as it was synced).
    pub sha256: String,
}
