//! `cargo xtask pull`: the catalog from the Model API (`GET /v1/models`, `GET /v1/models/{id}`).
//!
//! Schemas are written with the same normalization as `import`, so a pull and an import of
//! the same model give the same bytes. Overlays are never touched; models the API no longer
//! serves are reported, not deleted, and not even reported when the listing looks incomplete.
//!
//! Replies are trusted no more than the client trusts them (SECURITY.md): each is read within
//! [`Timeouts`] and up to [`MAX_REPLY_BYTES`]; the token is looked for in every form an echo
//! takes (`runcomfy::secret::Token`), scrubbed from an error and a reason to refuse a reply
//! that would be written; server text is shown only through `runcomfy::error::printable`.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use runcomfy::error::{ConfigError, SHOWN_CHARS, printable, printable_id};
use runcomfy::secret::{Token, TokenError};
use serde_json::Value;

use crate::import::{CheckError, Imported};
use crate::store::{self, StoreError};

/// The API of record.
pub const DEFAULT_BASE_URL: &str = "https://model-api.runcomfy.net";

/// Models per page of `GET /v1/models`.
pub const PAGE_SIZE: usize = 100;

/// The largest reply read, the client's own cap. The whole catalog is about 130 KB today
/// (its largest schema 4 KB), so a page of [`PAGE_SIZE`] models is about 200 KB: this leaves
/// room for schemas forty times larger, and keeps what a hostile reply costs bounded (read as
/// a JSON tree, 8 MiB of tiny values takes about 300 MB).
pub const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// The most models a listing may hold: a hundred times today's catalog. A server that keeps
/// saying there is more is refused here rather than followed without end.
pub const MAX_MODELS: usize = 10_000;

/// How long a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To connect.
    pub connect: Duration,
    /// Between two reads of the reply: a silent server.
    pub read: Duration,
    /// For a whole request, reply included: a server that drips.
    pub request: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s of silence, 2 minutes a request: a page is read in well under a
    /// second from RunComfy.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
            request: Duration::from_secs(120),
        }
    }
}

/// What to pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every model the API lists.
    All,
    /// These models.
    Models(Vec<String>),
}

/// Where and what to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The API base URL.
    pub base_url: String,
    /// The bearer token; its `Debug` never shows it.
    pub token: Option<Token>,
    /// Which models.
    pub selection: Selection,
    /// Models per page when listing ([`PAGE_SIZE`]).
    pub page_size: usize,
    /// How long each request may take.
    pub timeouts: Timeouts,
}

/// A failed pull. No variant holds the token: replies are scrubbed of it before an error
/// keeps any of their text, and every piece of server text is shown through `printable`.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// `RUNCOMFY_TOKEN` cannot be sent.
    #[error("{}", token_problem(.0))]
    Token(TokenError),
    /// The base URL is not one the token may be sent to, as the client reads one (the error
    /// names it, but for its credentials).
    #[error("--base-url: {0}")]
    BaseUrl(ConfigError),
    /// `--model` names no model id, which would put other paths in the URL.
    #[error("{}", printable(.0, SHOWN_CHARS))]
    BadId(String),
    /// The request did not get a reply.
    #[error("GET {url}: {}", printable(problem, SHOWN_CHARS))]
    Http {
        /// The URL (it carries no secret).
        url: String,
        /// Why, with the token scrubbed from any URL it names.
        problem: String,
    },
    /// No reply within the timeouts.
    #[error(
        "GET {url}: no reply in time (to connect {}s, between reads {}s, a whole request {}s)",
        timeouts.connect.as_secs_f32(),
        timeouts.read.as_secs_f32(),
        timeouts.request.as_secs_f32()
    )]
    Timeout {
        /// The URL.
        url: String,
        /// The timeouts it was given.
        timeouts: Timeouts,
    },
    /// The reply is larger than [`MAX_REPLY_BYTES`].
    #[error("GET {url}: reply larger than {} MiB, refused", MAX_REPLY_BYTES >> 20)]
    TooLarge {
        /// The URL.
        url: String,
    },
    /// The API answered with an error status and no RunComfy error body.
    #[error("GET {url}: HTTP {status}: {}{}", printable(body, 300), auth_hint(*status, None))]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The reply, scrubbed of the token.
        body: String,
    },
    /// The API answered with a RunComfy error body (`error_code`, `error_message`), with any
    /// status: RunComfy sends some errors with 200.
    #[error(
        "GET {url}: HTTP {status}: error {}: {}{}",
        printable(code, 40),
        printable(message, SHOWN_CHARS),
        auth_hint(*status, Some(code.as_str()))
    )]
    Api {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// `error_code`, as its JSON text.
        code: String,
        /// `error_message`, scrubbed of the token.
        message: String,
    },
    /// A reply that would be written holds the token (or a piece or an encoding of it).
    #[error(
        "GET {url}: the reply holds the API token (whole, in part or encoded); it is not written \
         into the catalog: is --base-url the API?"
    )]
    TokenEchoed {
        /// The URL.
        url: String,
    },
    /// The reply is not the catalog's shape.
    #[error("GET {url}: unexpected reply: {}", printable(problem, SHOWN_CHARS))]
    Reply {
        /// The URL.
        url: String,
        /// What is missing or wrong (it may quote the reply, scrubbed).
        problem: String,
    },
    /// The listing gives a model twice, with different schemas; nothing was written.
    #[error(
        "GET {url}: model `{}` is listed again with other schemas than in {first} (nothing was \
         written)",
        printable_id(id, SHOWN_CHARS)
    )]
    Duplicate {
        /// The page that lists it again.
        url: String,
        /// The model id.
        id: String,
        /// The page that listed it first.
        first: String,
    },
    /// The listing does not end; nothing was written.
    #[error(
        "GET {url}: the listing goes past {MAX_MODELS} models; refused as one that does not end \
         (nothing was written)"
    )]
    TooManyModels {
        /// The page past the bound.
        url: String,
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

/// Why `RUNCOMFY_TOKEN` cannot be used; the token itself is never shown.
fn token_problem(error: &TokenError) -> String {
    match error {
        TokenError::InvalidCharacters => "RUNCOMFY_TOKEN holds a character an HTTP header cannot \
            carry, or one RunComfy's tokens never have (a line break, a control or non-ASCII \
            character; the token is not shown)"
            .to_owned(),
        other => format!("RUNCOMFY_TOKEN: {other}"),
    }
}

fn auth_hint(status: u16, code: Option<&str>) -> &'static str {
    // RunComfy's code for a token it does not take, sent with 200 as with 401.
    if status == 401 || status == 403 || code == Some("400004") {
        " (set RUNCOMFY_TOKEN to an API key)"
    } else {
        ""
    }
}

/// Why a listing may be incomplete. Models it left out are then not reported as unserved:
/// no advice to delete a folder rests on a listing that looks wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingDoubt {
    /// The listing has no model at all.
    Empty,
    /// The server's `total` is not the number of models it listed.
    CountMismatch {
        /// The `total` it stated.
        stated: u64,
        /// The models listed.
        listed: usize,
    },
    /// The server's `total` changed from one page to another.
    TotalChanged {
        /// The first page's.
        first: u64,
        /// The one that differed.
        then: u64,
    },
    /// The listing has fewer than half as many models as the catalog folder.
    Shrunk {
        /// The models listed.
        listed: usize,
        /// The models in the folder.
        local: usize,
    },
}

impl fmt::Display for ListingDoubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the server listed no models"),
            Self::CountMismatch { stated, listed } => {
                write!(
                    f,
                    "the server said it has {stated} models but listed {listed}"
                )
            }
            Self::TotalChanged { first, then } => write!(
                f,
                "the server's count of models changed while it was listed ({first}, then {then})"
            ),
            Self::Shrunk { listed, local } => write!(
                f,
                "the server listed {listed} models, fewer than half of the {local} in the \
                 catalog folder"
            ),
        }
    }
}

/// One model as the API serves it, read as an import reads a catalog file.
pub type Fetched = crate::catalog_file::Model;

/// What the API gave.
#[derive(Debug)]
pub struct Listing {
    /// The models, sorted by id.
    pub models: Vec<Fetched>,
    /// With [`Selection::All`]: why the listing may be incomplete, when it may be.
    pub doubt: Option<ListingDoubt>,
}

/// What a pull did.
#[derive(Debug)]
pub struct PullReport {
    /// Each model written, by id, and the catalog they were checked by.
    pub imported: Imported,
    /// With [`Selection::All`]: models in the folder that the API does not list (left alone);
    /// none when the listing may be incomplete ([`doubt`](Self::doubt)).
    pub not_served: Vec<String>,
    /// With [`Selection::All`]: why the listing may be incomplete, when it may be.
    pub doubt: Option<ListingDoubt>,
}

/// Fetches the selected models, sorted by id.
pub async fn fetch(options: &PullOptions) -> Result<Listing, PullError> {
    // As the client reads one: the token goes in clear over plain http to anywhere else, and
    // one holding the token would repeat it in every error (QA repro36 H2).
    let base = match &options.token {
        Some(token) => runcomfy::client::parse_base_url_for(&options.base_url, token),
        None => runcomfy::client::parse_base_url(&options.base_url),
    }
    .map_err(PullError::BaseUrl)?;
    let timeouts = options.timeouts;
    let client = reqwest::Client::builder()
        .user_agent(concat!("runcomfy-xtask/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.read)
        .timeout(timeouts.request)
        // As the client's: a few hops (reqwest drops the token on one to another origin).
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|source| PullError::Http {
            url: options.base_url.clone(),
            problem: error_chain(&source),
        })?;
    let api = Api {
        client,
        token: options.token.as_ref(),
        timeouts,
    };
    match &options.selection {
        Selection::All => list(&api, &base, options.page_size.max(1)).await,
        Selection::Models(ids) => {
            // Every id is checked before anything is asked for.
            for id in ids {
                check_id(id.trim_matches('/')).map_err(PullError::BadId)?;
            }
            let mut models = BTreeMap::new();
            for id in ids {
                let id = id.trim_matches('/');
                let url = url(&base, ["v1", "models"].into_iter().chain(id.split('/')));
                let fetched = parse_entry(&url, &api.get(&url).await?)?;
                if fetched.id != id {
                    return Err(PullError::Reply {
                        url: url.to_string(),
                        problem: format!(
                            "asked for `{id}`, got `{}`",
                            printable_id(&fetched.id, SHOWN_CHARS)
                        ),
                    });
                }
                models.insert(fetched.id.clone(), fetched);
            }
            Ok(Listing {
                models: models.into_values().collect(),
                doubt: None,
            })
        }
    }
}

/// Every model `GET /v1/models` lists, page by page until a page comes back empty, or short
/// once the server's `total` is reached: a server may give fewer models a page than asked
/// for, and `total` may be missing or wrong (it is checked, not trusted).
async fn list(api: &Api<'_>, base: &Url, page_size: usize) -> Result<Listing, PullError> {
    // Each model, with the page that listed it first.
    let mut models: BTreeMap<String, (Fetched, String)> = BTreeMap::new();
    let (mut first_total, mut doubt) = (None, None);
    let mut offset = 0;
    loop {
        let mut url = url(base, ["v1", "models"]);
        url.query_pairs_mut()
            .append_pair("include_schema", "true")
            .append_pair("limit", &page_size.to_string())
            .append_pair("offset", &offset.to_string());
        let reply = api.get(&url).await?;
        let page = reply
            .get("models")
            .and_then(Value::as_array)
            .ok_or_else(|| PullError::Reply {
                url: url.to_string(),
                problem: "no `models` array".into(),
            })?;
        let mut new = 0;
        for entry in page {
            let model = parse_entry(&url, entry)?;
            match models.entry(model.id.clone()) {
                Entry::Vacant(slot) => {
                    slot.insert((model, url.to_string()));
                    new += 1;
                }
                // The same rule as `import`'s: two copies must give the same schemas.
                Entry::Occupied(slot) => {
                    let (first, first_url) = slot.get();
                    if first.input != model.input || first.output != model.output {
                        return Err(PullError::Duplicate {
                            url: url.to_string(),
                            id: model.id,
                            first: first_url.clone(),
                        });
                    }
                }
            }
        }
        // A page of models already listed means the server does not page by `offset`:
        // asking on would ask for pages without end.
        if !page.is_empty() && new == 0 {
            return Err(PullError::Reply {
                url: url.to_string(),
                problem: "the page lists only models of earlier pages (does the server ignore \
                          `offset`?)"
                    .into(),
            });
        }
        if models.len() > MAX_MODELS {
            return Err(PullError::TooManyModels {
                url: url.to_string(),
            });
        }
        let total = reply.get("total").and_then(Value::as_u64);
        if let Some(total) = total {
            match first_total {
                None => first_total = Some(total),
                Some(first) if first != total && doubt.is_none() => {
                    doubt = Some(ListingDoubt::TotalChanged { first, then: total });
                }
                Some(_) => {}
            }
        }
        offset += page.len();
        let reached = total.is_some_and(|total| offset as u64 >= total);
        if page.is_empty() || (page.len() < page_size && reached) {
            break;
        }
    }
    let listed = models.len();
    let doubt = doubt.or(match first_total {
        _ if listed == 0 => Some(ListingDoubt::Empty),
        Some(stated) if stated != listed as u64 => {
            Some(ListingDoubt::CountMismatch { stated, listed })
        }
        _ => None,
    });
    Ok(Listing {
        models: models.into_values().map(|(model, _)| model).collect(),
        doubt,
    })
}

/// Fetches and writes the selected models into `schemas`.
pub async fn pull(schemas: &Path, options: &PullOptions) -> Result<PullReport, PullError> {
    let Listing { models, doubt } = fetch(options).await?;
    let local = if options.selection == Selection::All {
        local_ids(schemas)
    } else {
        Vec::new()
    };
    let imported = crate::import::write_checked::<PullError>(
        schemas,
        models.iter().map(|model| store::ModelFiles {
            id: &model.id,
            input: &model.input,
            output: model.output.as_ref(),
            upstream: Some(&model.upstream),
        }),
    )?;
    let not_served: Vec<String> = local
        .iter()
        .filter(|id| models.binary_search_by(|m| m.id.cmp(id)).is_err())
        .cloned()
        .collect();
    let doubt = doubt.or_else(|| {
        (models.len() * 2 < local.len()).then_some(ListingDoubt::Shrunk {
            listed: models.len(),
            local: local.len(),
        })
    });
    Ok(PullReport {
        imported,
        not_served: if doubt.is_some() {
            Vec::new()
        } else {
            not_served
        },
        doubt,
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
        outln!("{change}");
    }
    if let Some(doubt) = &report.doubt {
        errln!(
            "warning: {doubt}: the listing may be incomplete, so no model is said to be no longer \
             served; delete nothing on its word (pull itself never deletes)"
        );
    }
    for id in &report.not_served {
        outln!(
            "not served {} (left alone; delete its folder if the model is gone)",
            printable_id(id, SHOWN_CHARS)
        );
    }
    crate::import::finish(schemas, &report.imported.catalog)?;
    Ok(report)
}

/// The API as `pull` calls it.
struct Api<'a> {
    client: reqwest::Client,
    token: Option<&'a Token>,
    timeouts: Timeouts,
}

impl Api<'_> {
    /// A JSON reply that is neither an error nor holds the token.
    async fn get(&self, url: &Url) -> Result<Value, PullError> {
        let mut request = self
            .client
            .get(url.clone())
            .header("Accept", "application/json");
        if let Some(token) = self.token {
            request = token.authorize(request);
        }
        let response = request.send().await.map_err(|err| self.failed(url, err))?;
        let status = response.status().as_u16();
        let body = self.read_capped(url, response).await?;
        let text = String::from_utf8_lossy(&body);
        let scrub = |text: &str| {
            self.token
                .map_or_else(|| text.to_owned(), |t| t.scrub(text))
        };
        // Strictly, as `import` reads a file: not UTF-8 (it would be written as U+FFFD), or a
        // key given twice (which did the server mean?), is refused (QA repro36 M1, M2).
        let parsed = runcomfy_json::parse_slice(&body).map(|mut value| {
            // Decoded strings and keys: an echo may be written with `\u` escapes.
            let echoed = self.token.is_some_and(|t| t.scrub_json(&mut value));
            (value, echoed)
        });
        if let Ok((value, _)) = &parsed
            && let Some(code) = value.get("error_code").filter(|code| !code.is_null())
        {
            return Err(PullError::Api {
                url: url.to_string(),
                status,
                code: match code {
                    Value::String(code) => code.clone(),
                    other => scrub(&other.to_string()),
                },
                message: value
                    .get("error_message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        if !(200..300).contains(&status) {
            let shown = match &parsed {
                Ok((value, _)) => scrub(&value.to_string()),
                Err(_) => scrub(&text),
            };
            return Err(PullError::Status {
                url: url.to_string(),
                status,
                body: shown,
            });
        }
        let (value, echoed) = parsed.map_err(|err| PullError::Reply {
            url: url.to_string(),
            problem: format!("not JSON: {}", runcomfy_codegen::error::json_message(&err)),
        })?;
        // The raw text too: a number may hold what no string does.
        if echoed || scrub(&text) != text {
            return Err(PullError::TokenEchoed {
                url: url.to_string(),
            });
        }
        Ok(value)
    }

    /// The reply's body, refused past [`MAX_REPLY_BYTES`] (at once when its length says so).
    async fn read_capped(
        &self,
        url: &Url,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, PullError> {
        let too_large = || PullError::TooLarge {
            url: url.to_string(),
        };
        if response
            .content_length()
            .is_some_and(|length| length > MAX_REPLY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.failed(url, err))?
        {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// A request that got no (whole) reply, the token scrubbed from the URL the error names
    /// (a redirect's `Location` may carry it).
    fn failed(&self, url: &Url, err: reqwest::Error) -> PullError {
        if err.is_timeout() {
            return PullError::Timeout {
                url: url.to_string(),
                timeouts: self.timeouts,
            };
        }
        let err = match self.token {
            Some(token) => token.scrub_error(err),
            None => err,
        };
        let problem = error_chain(&err);
        PullError::Http {
            url: url.to_string(),
            problem: match self.token {
                Some(token) => token.scrub(&problem),
                None => problem,
            },
        }
    }
}

/// An error and its causes, `: `-separated (reqwest's own message says only "error sending
/// request"; the cause says connection refused).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `{base}/{segments}`, each segment escaped as one path segment.
fn url<'a>(base: &Url, segments: impl IntoIterator<Item = &'a str>) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// An id as the catalog takes one (`runcomfy_codegen::catalog::check_model_id`), or why not.
fn check_id(id: &str) -> Result<(), String> {
    runcomfy_codegen::catalog::check_model_id(id, Path::new(id)).map_err(|err| match err {
        runcomfy_codegen::Error::Schema { problem, .. } => problem,
        other => other.to_string(),
    })
}

/// One catalog entry, as an import reads it, with an id the catalog takes.
fn parse_entry(url: &Url, entry: &Value) -> Result<Fetched, PullError> {
    let problem = |problem: String| PullError::Reply {
        url: url.to_string(),
        problem,
    };
    let entry = entry
        .as_object()
        .ok_or_else(|| problem("an entry is not an object".into()))?;
    let model = crate::catalog_file::entry_model(entry).map_err(problem)?;
    check_id(&model.id).map_err(problem)?;
    Ok(model)
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
            } else if path
                .file_name()
                .is_some_and(|n| n == runcomfy_codegen::catalog::INPUT_FILE)
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
