//! The [`Client`]: one connection pool, token and policy set, shared by every model and job.
//!
//! Every `impl Client` of the crate is in this folder, by concern: `builder` makes one,
//! `submit` sends inputs (typed, or JSON for a model chosen at run time) and makes jobs from
//! request ids; `catalog` reads prices live; the accessors and downloads are here. The type itself is defined at the base
//! of the layer (`crate::api`), because jobs, waits and downloads hold or use one.

mod builder;
mod catalog;
mod submit;

use std::path::Path;

use reqwest::Url;

use crate::api::download::{self, DownloadOptions, DownloadedFile};
use crate::api::poll::PollHistorySnapshot;
use crate::error::Error;
use crate::model::Output;

pub use crate::api::Client;
pub use builder::{
    BASE_URL_ENV, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_BODY_BYTES, MODEL_API_BASE_ENV,
    TOKEN_ENV, parse_base_url, parse_base_url_for,
};
pub use catalog::{EstimatePrice, LiveModel};

impl Client {
    /// The base URL calls go to.
    pub fn base_url(&self) -> &Url {
        self.inner.http.base()
    }

    /// Where an output file named `url` is fetched from: the URL itself, or a path
    /// (`/files/a.png`) on the API's own origin; `None` when it is neither (it is not fetched).
    pub fn output_url(&self, url: &str) -> Option<Url> {
        crate::api::download::output_location(self.base_url(), url)
    }

    /// The HTTP client inside, for calls of your own (it carries no token by itself).
    pub fn http(&self) -> &reqwest::Client {
        self.inner.http.client()
    }

    /// The run times learned so far, to save (see [`PollHistorySnapshot`]).
    pub fn poll_history(&self) -> PollHistorySnapshot {
        self.inner.history.export()
    }

    /// The run times this client learned itself, without those it imported: what to add to
    /// a store that other processes write too ([`PollHistorySnapshot::extend`]).
    pub fn poll_history_learned(&self) -> PollHistorySnapshot {
        self.inner.history.export_learned()
    }

    /// Adds saved run times to the history.
    pub fn import_poll_history(&self, snapshot: &PollHistorySnapshot) {
        self.inner.history.import(snapshot);
    }

    /// Saves every file of an output into `dir` (created if missing); see
    /// [`download_with`](Self::download_with).
    pub async fn download<O: Output>(
        &self,
        output: &O,
        dir: impl AsRef<Path>,
    ) -> Result<Vec<DownloadedFile>, Error> {
        self.download_with(output, dir, &DownloadOptions::default())
            .await
    }

    /// Saves every file of an output into `dir`, in the order of [`Output::files`].
    ///
    /// Each file streams to a temporary file in `dir` and is renamed into place once complete,
    /// as `{field}-{index}.{ext}` (`images-0.png`) or `{field}.{ext}`, the extension from the
    /// `Content-Type` or the file's first bytes. Files come only from RunComfy's hosts, the
    /// API's own and those allowed with
    /// [`ClientBuilder::allow_output_host`](crate::client::ClientBuilder::allow_output_host);
    /// the token is sent only to the API's own origin, never to other hosts. Every file is tried
    /// even when one fails; the call then returns the first failure, as
    /// [`Error::NotAllSaved`] with the files saved when some were. Those stay, and a later call
    /// keeps them. The whole call ends by
    /// [`DownloadOptions::timeout`].
    pub async fn download_with<O: Output>(
        &self,
        output: &O,
        dir: impl AsRef<Path>,
        options: &DownloadOptions,
    ) -> Result<Vec<DownloadedFile>, Error> {
        let inner = &self.inner;
        let files = output.files();
        download::save_all(&inner.http, &inner.fetching, files, dir.as_ref(), options).await
    }
}
