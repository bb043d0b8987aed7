//! The stand-in's HTTP side: the `item_desc` endpoint, the picture CDN, request counting,
//! the concurrency limit, and where the configured faults are put on.
//!
//! Owns the routes and the answers' exact shapes. It must never log, store or echo the token:
//! requests are counted and logged by path only, and a path never carries the token (the
//! token travels in the query or in a header).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::watch;

use super::catalogue::{picture_key, Catalogue, OfferAnswer};
use super::faults::{self, FaultBook};
use super::MockOptions;

/// The path of the description endpoint, as the API's documentation gives it.
pub(crate) const ITEM_DESC_PATH: &str = "/1688/item_desc";

/// The path under which the CDN's pictures are served: `/cdn/{host}/{path}`.
pub(crate) const CDN_PREFIX: &str = "/cdn/";

/// Everything the handlers share.
pub(crate) struct ServerState {
    catalogue: Catalogue,
    token: String,
    /// Requests seen, by path (never by query, which may hold the token).
    traffic: Mutex<Traffic>,
    faults: FaultBook,
    /// The most `item_desc` calls handled at once; more are answered 503.
    call_limit: Option<usize>,
    /// `Retry-After`, in seconds, sent with the 503 of the call limit.
    busy_retry_after: Option<u64>,
    calls_in_flight: AtomicUsize,
    /// Turns true when the server is asked to stop, which ends stalled answers.
    stopping: watch::Sender<bool>,
}

/// Every request's path, when it started and when its answer was ready.
#[derive(Default)]
struct Traffic {
    /// Distinct paths, indexed by the numbers in `events`.
    paths: Vec<String>,
    ids: HashMap<String, usize>,
    /// In order: a path's number, and whether a request for it started (or finished).
    events: Vec<(usize, bool)>,
}

impl Traffic {
    fn id(&mut self, path: &str) -> usize {
        if let Some(id) = self.ids.get(path) {
            return *id;
        }
        let id = self.paths.len();
        self.paths.push(path.to_string());
        self.ids.insert(path.to_string(), id);
        id
    }

    fn matches(&self, id: usize, path_prefix: &str) -> bool {
        self.paths
            .get(id)
            .is_some_and(|path| path.starts_with(path_prefix))
    }
}

impl ServerState {
    pub(crate) fn new(catalogue: Catalogue, options: MockOptions) -> Self {
        ServerState {
            catalogue,
            token: options.token,
            traffic: Mutex::new(Traffic::default()),
            faults: FaultBook::new(options.faults),
            call_limit: options.max_concurrent_calls,
            busy_retry_after: options.busy_retry_after,
            calls_in_flight: AtomicUsize::new(0),
            stopping: watch::Sender::new(false),
        }
    }

    /// How many requests arrived whose path starts with `path_prefix`.
    pub(crate) fn requests(&self, path_prefix: &str) -> usize {
        let traffic = self.traffic();
        traffic
            .events
            .iter()
            .filter(|(id, started)| *started && traffic.matches(*id, path_prefix))
            .count()
    }

    /// The most requests whose path starts with `path_prefix` that were being handled at
    /// the same time (from arrival until the answer's head was ready).
    pub(crate) fn peak_in_flight(&self, path_prefix: &str) -> usize {
        let traffic = self.traffic();
        let (mut now, mut peak) = (0usize, 0usize);
        for (id, started) in &traffic.events {
            if !traffic.matches(*id, path_prefix) {
                continue;
            }
            if *started {
                now += 1;
                peak = peak.max(now);
            } else {
                now = now.saturating_sub(1);
            }
        }
        peak
    }

    /// Ends stalls and trickles, so that the server can stop without waiting for them.
    pub(crate) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    fn traffic(&self) -> std::sync::MutexGuard<'_, Traffic> {
        // A panic while the lock was held cannot leave the log inconsistent (each update is
        // one push), so a poisoned lock is still safe to use.
        self.traffic.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(self: &Arc<Self>, path: &str) -> InFlight {
        let mut traffic = self.traffic();
        let id = traffic.id(path);
        traffic.events.push((id, true));
        InFlight {
            state: Arc::clone(self),
            id,
        }
    }
}

/// A request being handled; dropping it (when the answer is ready, or when the client went
/// away and the handler was dropped) records its end.
struct InFlight {
    state: Arc<ServerState>,
    id: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.traffic().events.push((self.id, false));
    }
}

/// One of the `item_desc` calls that the call limit lets through at a time.
struct CallSlot<'a>(&'a AtomicUsize);

impl<'a> CallSlot<'a> {
    /// A slot, or `None` when `limit` calls are being handled already.
    fn take(in_flight: &'a AtomicUsize, limit: Option<usize>) -> Option<Self> {
        let before = in_flight.fetch_add(1, Ordering::SeqCst);
        let slot = CallSlot(in_flight);
        match limit {
            Some(limit) if before >= limit => None,
            _ => Some(slot),
        }
    }
}

impl Drop for CallSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The stand-in's routes.
pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route(ITEM_DESC_PATH, get(item_desc))
        .route("/cdn/{host}/{*path}", get(cdn_picture))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

async fn count_request(
    State(state): State<Arc<ServerState>>,
    request: Request,
    next: Next,
) -> Response {
    let _in_flight = state.record(request.uri().path());
    next.run(request).await
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "detail": "Not Found" })),
    )
        .into_response()
}

/// `GET /1688/item_desc?item_id=ID&apiToken=TOKEN` (or the token in an `apikey` header).
async fn item_desc(
    State(state): State<Arc<ServerState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = QueryParams::parse(query.as_deref().unwrap_or(""));

    let token = query
        .api_token
        .as_deref()
        .or_else(|| headers.get("apikey").and_then(|value| value.to_str().ok()));
    if token != Some(state.token.as_str()) {
        tracing::debug!("item_desc refused: missing or wrong token");
        return unauthorized();
    }

    let Some(item_id) = query.item_id.filter(|id| is_valid_item_id(id)) else {
        tracing::debug!("item_desc refused: item_id missing or malformed");
        return error_answer(422);
    };

    // The API documents 503 for "concurrency limit exceeded": it counts the calls it is
    // handling, whatever they are for, and turns away those beyond the account's limit.
    let Some(_slot) = CallSlot::take(&state.calls_in_flight, state.call_limit) else {
        tracing::debug!(%item_id, "item_desc refused: concurrency limit");
        let mut busy = error_answer(503);
        if let Some(seconds) = state.busy_retry_after {
            busy.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        return busy;
    };

    let normal = match state.catalogue.offer(&item_id).map(|offer| &offer.answer) {
        Some(OfferAnswer::Body(body)) => (StatusCode::OK, Json(body.clone())).into_response(),
        Some(OfferAnswer::Status(status)) => error_answer(*status),
        // The API reports an offer it cannot fetch from 1688 (deleted, never existed) as a
        // failed retrieval, 417, rather than as a 404.
        None => error_answer(417),
    };
    let fault = state.faults.for_offer(&item_id);
    let faulty = !matches!(fault, faults::Fault::None);
    let stopping = state.stopping.subscribe();
    let response = faults::apply(
        fault,
        normal,
        |status| error_answer(status.as_u16()),
        stopping,
    )
    .await;
    tracing::debug!(%item_id, status = response.status().as_u16(), faulty, "item_desc answered");
    response
}

/// The two query parameters `item_desc` reads; the first occurrence of each wins.
struct QueryParams {
    item_id: Option<String>,
    api_token: Option<String>,
}

impl QueryParams {
    fn parse(query: &str) -> Self {
        let mut params = QueryParams {
            item_id: None,
            api_token: None,
        };
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "item_id" => &mut params.item_id,
                "apiToken" => &mut params.api_token,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        params
    }
}

/// 1688 offer IDs are decimal numbers; twenty digits is more than any has and less than
/// what would overflow the API's integer parameter.
fn is_valid_item_id(item_id: &str) -> bool {
    (1..=20).contains(&item_id.len()) && item_id.bytes().all(|byte| byte.is_ascii_digit())
}

/// The answer to a missing or wrong token.
///
/// The API's documentation does not say how it answers a bad token; 401 with the same JSON
/// shape as its other errors is what a client must be ready for in any case.
fn unauthorized() -> Response {
    let body = json!({
        "code": 401,
        "msg": "Invalid apiToken, please check it in the console.",
        "data": null,
    });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// An error status with the API's body shape and its documented message.
fn error_answer(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "code": code.as_u16(),
        "msg": documented_message(code),
        "data": null,
    });
    (code, Json(body)).into_response()
}

/// The message the API's documentation gives for each of its error statuses.
pub(crate) fn documented_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        417 => "Failed to retrieve data, please try again or contact customer service.",
        422 => "Parameter error",
        439 => "Subscription expired or insufficient balance.",
        499 => "Please try again or set your request timeout to 60 seconds.",
        500 => "Unexpected error, please contact customer service.",
        503 => "API request concurrency limit exceeded, please reduce concurrency.",
        _ => status.canonical_reason().unwrap_or("Unexpected error"),
    }
}

/// `GET /cdn/{host}/{path}[?query]`: the catalogue's picture `https://{host}/{path}[?query]`.
///
/// The raw request path is used rather than a decoded `Path` extractor, so the URL is looked
/// up exactly as the client spelled it. Lookup tries the URL with its query, then without
/// (CDNs ignore cache-busters such as alicdn's `?__r__=`), then the same over plain http
/// (descriptions sometimes give `http://` URLs, and the rewrite drops the scheme).
async fn cdn_picture(State(state): State<Arc<ServerState>>, uri: Uri) -> Response {
    let Some((host, path)) = uri
        .path()
        .strip_prefix(CDN_PREFIX)
        .and_then(|rest| rest.split_once('/'))
    else {
        return not_found().await;
    };

    let query = uri
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    let candidates: Vec<String> = ["https", "http"]
        .into_iter()
        .flat_map(|scheme| {
            [
                format!("{scheme}://{host}/{path}{query}"),
                format!("{scheme}://{host}/{path}"),
            ]
        })
        .map(|url| picture_key(&url))
        .collect();
    let found = candidates
        .iter()
        .find_map(|key| state.catalogue.picture(key).cloned());

    let normal = match found {
        Some(bytes) => picture_response(path, bytes),
        None => not_found().await,
    };
    let fault = state.faults.for_picture(&candidates);
    let stopping = state.stopping.subscribe();
    faults::apply(fault, normal, empty_answer, stopping).await
}

/// A picture host's error: the status alone.
fn empty_answer(status: StatusCode) -> Response {
    status.into_response()
}

fn picture_response(path: &str, bytes: Bytes) -> Response {
    let content_type = content_type_for(path);
    ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

/// The Content-Type a CDN would send for a path: it goes by the name, not by the bytes.
///
/// alicdn appends derived names to an original (`x.jpg_.webp`, `x.jpg_790x10000Q75.jpg_.webp`,
/// `x.jpg_790x10000`), so the last dot-separated part decides, read up to the first
/// character that cannot be part of an extension.
pub(crate) fn content_type_for(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((_, suffix)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    let extension: String = suffix
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "heic" => "image/heic",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_are_one_to_twenty_digits() {
        assert!(is_valid_item_id("622619146604"));
        assert!(is_valid_item_id("1"));
        assert!(is_valid_item_id(&"9".repeat(20)));
        assert!(!is_valid_item_id(""));
        assert!(!is_valid_item_id(&"9".repeat(21)));
        assert!(!is_valid_item_id("62261914660a"));
        assert!(!is_valid_item_id("-1"));
        assert!(!is_valid_item_id("６２２"));
    }

    #[test]
    fn content_type_follows_the_last_suffix() {
        assert_eq!(content_type_for("img/ibank/a.jpg"), "image/jpeg");
        assert_eq!(content_type_for("img/ibank/a.JPEG"), "image/jpeg");
        assert_eq!(content_type_for("img/ibank/a.jpg_.webp"), "image/webp");
        assert_eq!(
            content_type_for("i1/a.jpg_790x10000Q75.jpg_.webp"),
            "image/webp"
        );
        assert_eq!(content_type_for("i1/a.png_790x10000"), "image/png");
        assert_eq!(content_type_for("tfs/TB1a.gif"), "image/gif");
        assert_eq!(
            content_type_for("tfscom/TB1cUizhgvD8KJjSsplXXaIEFXa"),
            "application/octet-stream"
        );
        assert_eq!(content_type_for("a.v1/b"), "application/octet-stream");
    }

    #[test]
    fn the_first_occurrence_of_a_parameter_wins() {
        let params = QueryParams::parse("item_id=1&apiToken=a%2Bb&item_id=2&apiToken=c");
        assert_eq!(params.item_id.as_deref(), Some("1"));
        assert_eq!(params.api_token.as_deref(), Some("a+b"));
    }
}
