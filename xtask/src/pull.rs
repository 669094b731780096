//! `cargo xtask pull`: the catalog from the Model API (`GET /v1/models`, `GET /v1/models/{id}`).
//!
//! Schemas are written with the same normalization as `import`, so a pull and an import of
//! the same model give the same bytes. Overlays are never touched; models the API no longer
//! serves are reported, not deleted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::import::{CheckError, Imported};
use crate::store::{self, StoreError};

/// The API of record.
pub const DEFAULT_BASE_URL: &str = "https://model-api.runcomfy.net";

/// Models per page of `GET /v1/models`.
pub const PAGE_SIZE: usize = 100;

/// What to pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every model the API lists.
    All,
    /// These models.
    Models(Vec<String>),
}

/// Where and what to pull.
#[derive(Clone)]
pub struct PullOptions {
    /// The API base URL.
    pub base_url: String,
    /// The bearer token; never printed.
    pub token: Option<String>,
    /// Which models.
    pub selection: Selection,
    /// Models per page when listing ([`PAGE_SIZE`]).
    pub page_size: usize,
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("selection", &self.selection)
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// A failed pull.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The request did not get a reply.
    #[error("GET {url}: {source}")]
    Http {
        /// The URL (it carries no secret).
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The API answered with an error status.
    #[error("GET {url}: HTTP {status}: {body}{}", auth_hint(*status))]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the reply.
        body: String,
    },
    /// The reply is not the catalog's shape.
    #[error("GET {url}: unexpected reply: {problem}")]
    Reply {
        /// The URL.
        url: String,
        /// What is missing or wrong.
        problem: String,
    },
    /// A file could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// With the schemas pulled the catalog would not generate; nothing was written.
    #[error(transparent)]
    Check(#[from] CheckError),
}

fn auth_hint(status: u16) -> &'static str {
    if status == 401 || status == 403 {
        " (set RUNCOMFY_TOKEN to an API key)"
    } else {
        ""
    }
}

/// One model as the API serves it, read as an import reads a catalog file.
pub type Fetched = crate::catalog_file::Model;

/// What a pull did.
#[derive(Debug)]
pub struct PullReport {
    /// Each model written, by id, and the catalog they were checked by.
    pub imported: Imported,
    /// With [`Selection::All`]: models in the folder that the API does not list (left alone).
    pub not_served: Vec<String>,
}

/// Fetches the selected models, sorted by id.
pub async fn fetch(options: &PullOptions) -> Result<Vec<Fetched>, PullError> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("runcomfy-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| PullError::Http {
            url: options.base_url.clone(),
            source,
        })?;
    let base = options.base_url.trim_end_matches('/');
    let mut models = Vec::new();
    match &options.selection {
        Selection::All => {
            let mut offset = 0;
            let mut seen = BTreeSet::new();
            loop {
                let url = format!(
                    "{base}/v1/models?include_schema=true&limit={}&offset={offset}",
                    options.page_size.max(1)
                );
                let reply = get(&client, &url, options.token.as_deref()).await?;
                let page = reply
                    .get("models")
                    .and_then(Value::as_array)
                    .ok_or_else(|| PullError::Reply {
                        url: url.clone(),
                        problem: "no `models` array".into(),
                    })?;
                let mut new = 0;
                for entry in page {
                    let model = parse_entry(&url, entry)?;
                    new += usize::from(seen.insert(model.id.clone()));
                    models.push(model);
                }
                // A page of models already listed means the server does not page by `offset`:
                // following its `total` would ask for pages without end.
                if !page.is_empty() && new == 0 {
                    return Err(PullError::Reply {
                        url,
                        problem: "the page lists only models of earlier pages (does the server \
                                  ignore `offset`?)"
                            .into(),
                    });
                }
                offset += page.len();
                let total = reply.get("total").and_then(Value::as_u64);
                // An empty page ends the listing even if `total` promised more.
                if page.is_empty() || total.is_none_or(|t| offset as u64 >= t) {
                    break;
                }
            }
        }
        Selection::Models(ids) => {
            for id in ids {
                let url = format!("{base}/v1/models/{}", id.trim_matches('/'));
                let reply = get(&client, &url, options.token.as_deref()).await?;
                let fetched = parse_entry(&url, &reply)?;
                if fetched.id != id.trim_matches('/') {
                    return Err(PullError::Reply {
                        url,
                        problem: format!("asked for `{id}`, got `{}`", fetched.id),
                    });
                }
                models.push(fetched);
            }
        }
    }
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models.dedup_by(|a, b| a.id == b.id);
    Ok(models)
}

/// Fetches and writes the selected models into `schemas`.
pub async fn pull(schemas: &Path, options: &PullOptions) -> Result<PullReport, PullError> {
    let models = fetch(options).await?;
    let imported = crate::import::write_checked::<PullError>(
        schemas,
        models.iter().map(|model| store::ModelFiles {
            id: &model.id,
            input: &model.input,
            output: model.output.as_ref(),
            upstream: Some(&model.upstream),
        }),
    )?;
    let not_served = if options.selection == Selection::All {
        let served: BTreeSet<&str> = models.iter().map(|m| m.id.as_str()).collect();
        local_ids(schemas)
            .into_iter()
            .filter(|id| !served.contains(id.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(PullReport {
        imported,
        not_served,
    })
}

/// The command: pulls, prints what changed, then checks the catalog as `import` does.
pub fn run(schemas: &Path, options: &PullOptions) -> Result<PullReport, PullError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PullError::Runtime)?;
    let report = runtime.block_on(pull(schemas, options))?;
    for change in &report.imported.changes {
        println!("{change}");
    }
    for id in &report.not_served {
        println!("not served {id} (left alone; delete its folder if the model is gone)");
    }
    crate::import::finish(schemas, &report.imported.catalog)?;
    Ok(report)
}

async fn get(client: &reqwest::Client, url: &str, token: Option<&str>) -> Result<Value, PullError> {
    let mut request = client.get(url).header("Accept", "application/json");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let http = |source| PullError::Http {
        url: url.to_owned(),
        source,
    };
    let response = request.send().await.map_err(http)?;
    let status = response.status();
    let body = response.text().await.map_err(http)?;
    if !status.is_success() {
        let mut excerpt: String = body.chars().take(300).collect();
        if excerpt.len() < body.len() {
            excerpt.push_str("...");
        }
        return Err(PullError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
            body: excerpt,
        });
    }
    serde_json::from_str(&body).map_err(|err| PullError::Reply {
        url: url.to_owned(),
        problem: format!("not JSON: {err}"),
    })
}

/// One catalog entry, as an import reads it.
fn parse_entry(url: &str, entry: &Value) -> Result<Fetched, PullError> {
    let problem = |problem: String| PullError::Reply {
        url: url.to_owned(),
        problem,
    };
    let entry = entry
        .as_object()
        .ok_or_else(|| problem("an entry is not an object".into()))?;
    crate::catalog_file::entry_model(entry).map_err(problem)
}

/// Ids of the models in a catalog folder (folders holding `input.json`), sorted.
fn local_ids(root: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let mut stack: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "input.json")
                && let Ok(rel) = dir.strip_prefix(root)
            {
                let id: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                ids.push(id.join("/"));
            }
        }
    }
    ids.sort();
    ids
}
