//! The HTTP API: routes, the gate every call passes (counting, faults, auth), and handlers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use futures::StreamExt as _;
use runcomfy::catalog::{FieldKind, ModelInfo};
use runcomfy::media::Files;
use runcomfy::schema::MediaKind;
use serde_json::{Value, json};

use crate::error::{ApiError, code};
use crate::fault::{Endpoint, FaultKind};
use crate::server::ConnControl;
use crate::state::{Phase, Shared};
use crate::{output, rng, timefmt};

type Sim = State<Arc<Shared>>;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/models/{*model_id}", get(get_model).post(submit))
        .route("/v1/requests/{id}/status", get(status))
        .route("/v1/requests/{id}/result", get(result))
        .route("/v1/requests/{id}/cancel", post(cancel))
        .route("/files/{id}/{name}", get(download))
        .layer(from_fn_with_state(Arc::clone(&shared), gate))
        // Inputs carry images as data: URIs; RunComfy's partner nodes send up to 64 MiB.
        .layer(DefaultBodyLimit::max(MAX_BODY));
    Router::new()
        .route("/_sim/stats", get(sim_stats))
        .merge(api)
        .fallback(not_found)
        .with_state(shared)
}

/// The caller's bearer token, once checked.
#[derive(Debug, Clone)]
struct Caller(String);

/// Marks a request whose reply a fault will spoil: it must not count as seen by the client.
#[derive(Debug, Clone)]
struct Undelivered;

/// What a call is, from its method and path.
struct Call {
    endpoint: Endpoint,
    /// The request id (status, result, cancel, download) or model id (submit), for counters.
    subject: String,
}

fn classify(method: &Method, path: &str) -> Option<Call> {
    let call = |endpoint, subject: &str| {
        Some(Call {
            endpoint,
            subject: subject.to_owned(),
        })
    };
    if let Some(rest) = path.strip_prefix("/v1/models") {
        let model = rest.trim_start_matches('/');
        return match *method {
            Method::POST if !model.is_empty() => call(Endpoint::Submit, model),
            Method::GET => call(Endpoint::Catalog, model),
            _ => None,
        };
    }
    if let Some(rest) = path.strip_prefix("/v1/requests/") {
        let (id, action) = rest.split_once('/')?;
        return match (method, action) {
            (&Method::GET, "status") => call(Endpoint::Status, id),
            (&Method::GET, "result") => call(Endpoint::Result, id),
            (&Method::POST, "cancel") => call(Endpoint::Cancel, id),
            _ => None,
        };
    }
    if let Some(rest) = path.strip_prefix("/files/")
        && *method == Method::GET
    {
        let id = rest.split('/').next().unwrap_or_default();
        return call(Endpoint::Download, id);
    }
    None
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Every API call passes here: it is counted, checked against earlier 429s, maybe given a
/// fault, then authenticated and handled.
async fn gate(State(shared): Sim, req: Request, next: Next) -> Response {
    let Some(call) = classify(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    // Rate limits apply per token for calls not about one request, else per request (and
    // file): that is what a client retrying "the same thing" looks like.
    let retry_key = match call.endpoint {
        Endpoint::Submit | Endpoint::Catalog => bearer(req.headers()).unwrap_or("").to_owned(),
        Endpoint::Download => req.uri().path().to_owned(),
        _ => call.subject.clone(),
    };
    let fault = shared.on_call(call.endpoint, &call.subject, retry_key);
    match fault {
        None => authorized(&shared, call.endpoint, req, next).await,
        Some(kind) => inject(&shared, call.endpoint, kind, req, next).await,
    }
}

/// Checks the token (downloads need none, like CDN links), then runs the handler.
async fn authorized(shared: &Shared, endpoint: Endpoint, mut req: Request, next: Next) -> Response {
    if endpoint != Endpoint::Download {
        let caller = match (bearer(req.headers()), &shared.config.token) {
            (None, _) => {
                return ApiError::unauthorized("Missing or malformed bearer token").into_response();
            }
            (Some(given), Some(expected)) if given != expected => {
                return ApiError::unauthorized("Invalid or expired API token").into_response();
            }
            (Some(given), _) => Caller(given.to_owned()),
        };
        req.extensions_mut().insert(caller);
    }
    next.run(req).await
}

async fn inject(
    shared: &Shared,
    endpoint: Endpoint,
    kind: FaultKind,
    mut req: Request,
    next: Next,
) -> Response {
    let control = req.extensions().get::<ConnControl>().cloned();
    match kind {
        FaultKind::Http500 => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "Internal server error (simulated)",
        )
        .into_response(),
        FaultKind::Http502 => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n",
        )
            .into_response(),
        FaultKind::Http503 => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::INTERNAL,
            "Service temporarily unavailable (simulated)",
        )
        .into_response(),
        FaultKind::RateLimited { retry_after_secs } => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::RATE_LIMITED,
                format!("Too many requests; retry after {retry_after_secs} s (simulated)"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        FaultKind::Reset => drop_connection(control).await,
        FaultKind::Slow(delay) => {
            tokio::time::sleep(delay).await;
            authorized(shared, endpoint, req, next).await
        }
        FaultKind::MalformedJson if endpoint == Endpoint::Download => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "image/png")],
            "<html>this is not an image</html>",
        )
            .into_response(),
        FaultKind::MalformedJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"request_id\": \"d0e1\", \"status\": in_progress,",
        )
            .into_response(),
        FaultKind::Truncated => {
            req.extensions_mut().insert(Undelivered);
            let response = authorized(shared, endpoint, req, next).await;
            truncate(response, control).await
        }
        FaultKind::ErrorWith200 => (
            StatusCode::OK,
            Json(
                ApiError::new(
                    StatusCode::OK,
                    code::INTERNAL,
                    "Internal error (simulated, sent with HTTP 200)",
                )
                .body(),
            ),
        )
            .into_response(),
        FaultKind::AcceptedThenDropped => {
            req.extensions_mut().insert(Undelivered);
            let _ = authorized(shared, endpoint, req, next).await;
            drop_connection(control).await
        }
    }
}

/// Resets the connection; the reply is never sent.
async fn drop_connection(control: Option<ConnControl>) -> Response {
    match control {
        Some(control) => {
            control.drop_connection(true);
            // The connection task drops this future with the connection.
            std::future::pending().await
        }
        // Only when the router is served some other way; say so rather than hang.
        None => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "connection fault requested outside the simulator's server",
        )
        .into_response(),
    }
}

/// Sends the first half of the reply under a `Content-Length` of the whole, then closes.
async fn truncate(response: Response, control: Option<ConnControl>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let declared = bytes.len().max(2);
    let sent = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
    let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(sent) });
    let end = futures::stream::once(async move {
        // Waiting lets hyper flush the first half before the socket closes.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(control) = control {
            control.drop_connection(false);
        }
        Err(std::io::Error::other("truncated by fault injection"))
    });
    Response::from_parts(parts, Body::from_stream(first.chain(end)))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, code::NOT_FOUND, "Not found")
}

async fn sim_stats(State(shared): Sim) -> Json<crate::Stats> {
    Json(shared.stats())
}

// ---- submit ----

async fn submit(
    State(shared): Sim,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(model_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let model_id = model_id.trim_matches('/');
    let model = shared
        .model(model_id)
        .ok_or_else(|| ApiError::unknown_model(model_id))?;
    let input = validate(model, &body)?;
    let plan = output::plan(model, &input);
    let cost = output::cost(model, &shared.config.price_of(model), &input, &plan);
    let id = shared.create_job(model, caller.0, &input, plan, cost);
    Ok(Json(json!({
        "request_id": id,
        "status_url": shared.url(&headers, &format!("/v1/requests/{id}/status")),
        "result_url": shared.url(&headers, &format!("/v1/requests/{id}/result")),
        "cancel_url": shared.url(&headers, &format!("/v1/requests/{id}/cancel")),
    })))
}

/// Parses a body and decodes it with the model's generated input type (the client's own
/// decoding and validation); every problem at once. Media must be URLs or `data:` URIs: a
/// bare path names a file on the client's disk, never on ours.
fn validate(model: &'static ModelInfo, body: &[u8]) -> Result<Value, ApiError> {
    let input: Value = serde_json::from_slice(body).map_err(|err| {
        ApiError::validation(vec![detail(
            "",
            "",
            "json",
            &format!("Body is not valid JSON: {err}"),
        )])
    })?;
    match (model.decode)(model, &input, Files::Wire) {
        Ok(_) => Ok(input),
        Err(err) => Err(ApiError::validation(
            err.report
                .errors()
                .map(|p| {
                    let mut entry = detail(&p.path, &p.pointer, &p.rule, &p.message);
                    if let Some(value) = &p.value {
                        entry["value"] = json!(value);
                    }
                    entry
                })
                .collect(),
        )),
    }
}

/// One `detail` entry: `loc` as FastAPI writes it (`["body", "images", 2]`), plus our own
/// `path`, `msg` and `rule`.
fn detail(path: &str, pointer: &str, rule: &str, msg: &str) -> Value {
    let mut loc = vec![json!("body")];
    for token in pointer.split('/').skip(1) {
        let token = runcomfy::vocab::pointer::unescape(token).unwrap_or_else(|| token.to_owned());
        match token.parse::<u64>() {
            Ok(n) => loc.push(json!(n)),
            Err(_) => loc.push(json!(token)),
        }
    }
    json!({ "loc": loc, "path": path, "msg": msg, "rule": rule })
}

// ---- status, result, cancel ----

fn find_job<'a>(
    jobs: &'a mut HashMap<String, crate::state::Job>,
    id: &str,
    caller: &Caller,
) -> Result<&'a mut crate::state::Job, ApiError> {
    let job = jobs
        .get_mut(id)
        .ok_or_else(|| ApiError::request_not_found(id))?;
    if job.owner != crate::state::owner_key(&caller.0) {
        return Err(ApiError::forbidden());
    }
    Ok(job)
}

/// Records the notice delay the first time a delivered reply reports a finished job.
fn notice(job: &mut crate::state::Job, delays: &mut Vec<f64>, delivered: bool) {
    if delivered
        && !job.noticed
        && let Some(finished) = job.finished
    {
        job.noticed = true;
        delays.push(finished.elapsed().as_secs_f64() * 1000.0);
    }
}

async fn status(
    State(shared): Sim,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    undelivered: Option<Extension<Undelivered>>,
) -> Result<Json<Value>, ApiError> {
    let mut guard = shared.state();
    let st = &mut *guard;
    let job = find_job(&mut st.jobs, &id, &caller)?;
    let mut reply = json!({
        "request_id": id,
        "status": job.phase.status_word(),
        "status_url": shared.url(&headers, &format!("/v1/requests/{id}/status")),
        "result_url": shared.url(&headers, &format!("/v1/requests/{id}/result")),
    });
    if job.phase == Phase::Queued {
        let ahead = st.queue.iter().position(|q| *q == id).unwrap_or(0);
        reply["queue_position"] = json!(ahead);
    }
    notice(job, &mut st.stats.notice_delays_ms, undelivered.is_none());
    Ok(Json(reply))
}

async fn result(
    State(shared): Sim,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    undelivered: Option<Extension<Undelivered>>,
) -> Result<Json<Value>, ApiError> {
    let include_cost = match query.get("include_cost").map(String::as_str) {
        None | Some("false" | "0" | "") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(query_problem("include_cost", "must be true or false")),
    };
    let mut guard = shared.state();
    let st = &mut *guard;
    let job = find_job(&mut st.jobs, &id, &caller)?;
    let mut reply = json!({
        "request_id": id,
        "model_id": job.model.id,
        "status": job.phase.result_word(),
        "created_at": timefmt::rfc3339(job.created_at),
    });
    if let Some(finished_at) = job.finished_at {
        reply["finished_at"] = json!(timefmt::rfc3339(finished_at));
    }
    match job.phase {
        Phase::Succeeded => {
            let plan = job.plan;
            let extension = output::format_of(plan.kind).extension();
            let urls: Vec<String> = (0..plan.count)
                .map(|i| shared.url(&headers, &format!("/files/{id}/{i}.{extension}")))
                .collect();
            let field = output::field_of(plan.kind, plan.count);
            reply["output"] = match urls.as_slice() {
                [one] if field != "images" => json!({ field: one }),
                _ => json!({ field: urls }),
            };
        }
        Phase::Failed => {
            reply["error"] = json!({
                "error_code": code::INTERNAL,
                "error_message": "Generation failed (simulated failure)",
            });
        }
        _ => {}
    }
    // A finished job's cost: what it made, or nothing for one that failed or was cancelled.
    if include_cost && (job.phase.is_done() || job.phase == Phase::Cancelled) {
        let cost = match job.phase {
            Phase::Succeeded => job.cost,
            _ => Some(runcomfy::price::Usd::ZERO),
        };
        if let Some(cost) = cost {
            reply["cost"] = json!(cost);
        }
    }
    notice(job, &mut st.stats.notice_delays_ms, undelivered.is_none());
    Ok(Json(reply))
}

async fn cancel(
    State(shared): Sim,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut guard = shared.state();
    let st = &mut *guard;
    let job = find_job(&mut st.jobs, &id, &caller)?;
    let outcome = match job.phase {
        Phase::Queued => {
            job.phase = Phase::Cancelled;
            job.finished_at = Some(SystemTime::now());
            st.queue.retain(|q| *q != id);
            st.stats.jobs_cancelled += 1;
            tracing::info!(request_id = %id, "job cancelled");
            "cancelled"
        }
        Phase::Cancelled => "cancelled",
        Phase::Running | Phase::Succeeded | Phase::Failed => "not_cancellable",
    };
    let reply = json!({
        "request_id": id,
        "status": job.phase.status_word(),
        "outcome": outcome,
    });
    drop(guard);
    crate::persist::save(&shared);
    Ok((StatusCode::ACCEPTED, Json(reply)))
}

// ---- files ----

async fn download(
    State(shared): Sim,
    Path((id, name)): Path<(String, String)>,
    undelivered: Option<Extension<Undelivered>>,
) -> Result<Response, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!("No file {id}/{name}"),
        )
    };
    let (cell, plan, index) = {
        let st = shared.state();
        let job = st.jobs.get(&id).filter(|j| j.phase == Phase::Succeeded);
        let plan = job.map(|j| j.plan).ok_or_else(missing)?;
        let extension = output::format_of(plan.kind).extension();
        let index: usize = name
            .strip_suffix(&format!(".{extension}"))
            .and_then(|n| n.parse().ok())
            .ok_or_else(missing)?;
        let cell = job.and_then(|j| j.files.get(index)).cloned();
        (cell.ok_or_else(missing)?, plan, index)
    };
    let seed = rng::hash(
        shared.config.seed,
        &[&id, &index.to_string(), plan.kind.name()],
    );
    let bytes = cell
        .get_or_try_init(|| async move {
            // Encoding is CPU work: keep it off the async workers.
            tokio::task::spawn_blocking(move || output::render(plan, seed))
                .await
                .map_err(|err| err.to_string())?
                .map(Bytes::from)
                .map_err(|err| err.to_string())
        })
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                format!("cannot render {id}/{name}: {err}"),
            )
        })?
        .clone();
    if undelivered.is_none() {
        let mut st = shared.state();
        st.stats.downloads += 1;
        *st.stats.downloads_by_request.entry(id).or_default() += 1;
    }
    let mime = output::format_of(plan.kind).mime();
    let bytes = match shared.config.output_bytes {
        // Padded per request, not kept: files of tens of MB would fill the simulator's memory.
        Some(size) => Bytes::from(output::pad(bytes.to_vec(), plan.kind, size)),
        None => bytes,
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
        (header::CONTENT_LENGTH, HeaderValue::from(bytes.len())),
    ];
    Ok((headers, sent_in_slices(shared, bytes)).into_response())
}

/// How much of a file the connection takes at a time: it takes the next slice only as the
/// client reads, so a file being read counts as being sent.
const SLICE_BYTES: usize = 256 * 1024;

/// A file's body in slices, counted in [`Stats::downloads_at_once_max`] until its last slice is
/// taken or the client goes away.
///
/// [`Stats::downloads_at_once_max`]: crate::Stats::downloads_at_once_max
fn sent_in_slices(shared: Arc<Shared>, bytes: Bytes) -> Body {
    let sending = Sending::start(shared);
    let slices = (0..bytes.len()).step_by(SLICE_BYTES).map(move |at| {
        let end = bytes.len().min(at + SLICE_BYTES);
        Ok::<_, std::convert::Infallible>(bytes.slice(at..end))
    });
    Body::from_stream(futures::stream::iter(slices).map(move |slice| {
        let _counted = &sending;
        slice
    }))
}

/// One file being sent, from its first slice until its body is dropped.
struct Sending(Arc<Shared>);

impl Sending {
    fn start(shared: Arc<Shared>) -> Self {
        {
            let mut st = shared.state();
            st.sending += 1;
            st.stats.downloads_at_once_max = st.stats.downloads_at_once_max.max(st.sending);
        }
        Self(shared)
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.0.state().sending -= 1;
    }
}

// ---- catalog ----

/// The model's categories: its catalog's, else `<input>-to-<output>` from its first media field
/// and what it returns (`image-to-video`, `text-to-audio`).
fn categories(model: &ModelInfo) -> Vec<String> {
    if !model.upstream.categories.is_empty() {
        return model
            .upstream
            .categories
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
    }
    let from = model
        .fields()
        .find_map(|f| match f.kind() {
            FieldKind::Media(kind) => Some(kind.name()),
            _ => None,
        })
        .unwrap_or("text");
    vec![format!("{from}-to-{}", output::kind_of(model).name())]
}

fn model_json(shared: &Shared, model: &ModelInfo, include_schema: bool) -> Value {
    let price = shared.config.price_of(model);
    let mut entry = json!({
        "model_id": model.id,
        "display_name": model.display_name,
        "kind": output::kind_of(model).name(),
        "categories": categories(model),
        "base_price_usd": price.usd,
        "price_unit": price.unit.map(|u| u.name()),
    });
    if let Some(pricing) = price.pricing {
        entry["pricing"] = json!(pricing.name());
    }
    if let Some(note) = &price.note {
        entry["pricing_note"] = json!(note);
    }
    if let Some(docs) = model.docs {
        entry["description"] = json!(docs);
    }
    if include_schema {
        entry["input_schema"] = schema(model.input_schema);
        entry["output_schema"] = schema(model.output_schema);
    }
    entry
}

/// A schema's JSON text, as generated (always valid JSON).
fn schema(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn query_problem(name: &str, msg: &str) -> ApiError {
    ApiError::validation(vec![json!({
        "loc": ["query", name], "path": name, "msg": msg, "rule": "type",
    })])
}

async fn list_models(
    State(shared): Sim,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        query.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| query_problem(name, "must be a non-negative integer"))
        })
    };
    let limit = number("limit", 50)?;
    let offset = number("offset", 0)?;
    let include_schema = match query.get("include_schema").map(String::as_str) {
        None | Some("false" | "0" | "") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(query_problem("include_schema", "must be true or false")),
    };
    let search = query
        .get("search")
        .map(|s| s.to_lowercase())
        .filter(|s| !s.is_empty());
    let category = query.get("category").filter(|s| !s.is_empty());
    let kind = match query.get("kind").filter(|s| !s.is_empty()) {
        None => None,
        Some(kind) => Some(
            MediaKind::parse(kind)
                .ok_or_else(|| query_problem("kind", "must be image, video or audio"))?,
        ),
    };
    let matching: Vec<&ModelInfo> = shared
        .models
        .iter()
        .copied()
        .filter(|m| {
            search.as_ref().is_none_or(|s| {
                m.id.to_lowercase().contains(s) || m.display_name.to_lowercase().contains(s)
            })
        })
        .filter(|m| category.is_none_or(|c| categories(m).contains(c)))
        .filter(|m| kind.is_none_or(|k| output::kind_of(m) == k))
        .collect();
    let models: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|m| model_json(&shared, m, include_schema))
        .collect();
    Ok(Json(json!({ "models": models, "total": matching.len() })))
}

async fn get_model(
    State(shared): Sim,
    Path(model_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let model_id = model_id.trim_matches('/');
    // No model id is one segment: `categories` is the list of categories.
    if model_id == "categories" {
        let mut all: Vec<String> = shared.models.iter().flat_map(|m| categories(m)).collect();
        all.sort();
        all.dedup();
        return Ok(Json(json!({ "categories": all })));
    }
    let model = shared
        .model(model_id)
        .ok_or_else(|| ApiError::unknown_model(model_id))?;
    Ok(Json(model_json(&shared, model, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let c = |m: Method, p: &str| classify(&m, p).map(|c| (c.endpoint, c.subject));
        assert_eq!(
            c(Method::POST, "/v1/models/bytedance/seedream-4-0/edit"),
            Some((Endpoint::Submit, "bytedance/seedream-4-0/edit".into()))
        );
        assert_eq!(
            c(Method::GET, "/v1/models"),
            Some((Endpoint::Catalog, "".into()))
        );
        assert_eq!(
            c(Method::GET, "/v1/requests/abc/status"),
            Some((Endpoint::Status, "abc".into()))
        );
        assert_eq!(
            c(Method::POST, "/v1/requests/abc/cancel"),
            Some((Endpoint::Cancel, "abc".into()))
        );
        assert_eq!(
            c(Method::GET, "/files/abc/0.png"),
            Some((Endpoint::Download, "abc".into()))
        );
        assert_eq!(c(Method::GET, "/v1/requests/abc/cancel"), None);
        assert_eq!(c(Method::GET, "/_sim/stats"), None);
    }

    #[test]
    fn bearer_tokens_parse() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  xyz "),
        );
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn detail_locations_follow_pointers() {
        assert_eq!(
            detail("images[2]", "/images/2", "r", "m")["loc"],
            json!(["body", "images", 2])
        );
        assert_eq!(
            detail("[\"a/b\"].c", "/a~1b/c", "r", "m")["loc"],
            json!(["body", "a/b", "c"])
        );
        assert_eq!(detail("", "", "r", "m")["loc"], json!(["body"]));
    }
}
