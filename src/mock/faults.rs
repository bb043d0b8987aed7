//! Faults the stand-in can put on, so that tests meet, over real HTTP on loopback, a server
//! that is slow, stalls, breaks off, turns clients away, redirects or compresses unasked.
//!
//! A [`Fault`] changes one answer. Faults are attached to a [`FaultTarget`] (one offer, one
//! picture, every offer or every picture) as a sequence: the first request for a given offer
//! or picture gets the first fault, the second request the second, and the last fault repeats
//! (so `[503, 503, None]` is "two refusals, then the answer", and `[503]` is "always 503").
//! This module picks the fault for a request and applies it to the answer the stand-in would
//! otherwise give. It never changes the catalogue and never sees the token.

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::{stream, StreamExt as _};
use tokio::sync::watch;

/// How one answer goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Read the request and never answer. The connection stays open until the client gives up
    /// or the stand-in stops.
    Stall,
    /// Send the normal answer's status and headers with its full `Content-Length` at once,
    /// then its body one byte at a time, this long apart.
    Trickle(Duration),
    /// Send the normal answer's status and headers with its full `Content-Length`, then only
    /// this many bytes of its body, then break the connection.
    CutShort(usize),
    /// Answer with this status instead: for `item_desc` with the API's body for it
    /// (`{"code":N,"msg":"<documented message>","data":null}`), for a picture with an empty
    /// body; with a `Retry-After` of so many seconds when one is given.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header's value in seconds, if any.
        retry_after: Option<u64>,
    },
    /// Answer exactly this: a status, headers and a body, for shapes the other faults do not
    /// cover (an error status with an empty body, a 200 that is not JSON, a 404 page).
    Canned {
        /// The HTTP status.
        status: u16,
        /// Headers, as name and value.
        headers: Vec<(String, String)>,
        /// The body, sent as given.
        body: Vec<u8>,
    },
    /// Send the normal answer gzip-compressed with `Content-Encoding: gzip`, whatever the
    /// request's `Accept-Encoding` said (API gateways do this).
    Gzip,
    /// Send the normal answer brotli-compressed with `Content-Encoding: br`, whatever the
    /// request asked for.
    Brotli,
    /// Redirect to `location` with this status (301, 302, 303, 307 or 308).
    Redirect {
        /// The HTTP status.
        status: u16,
        /// The `Location` header, as given.
        location: String,
    },
}

impl Fault {
    /// [`Fault::Status`] without `Retry-After`.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// [`Fault::Status`] with a `Retry-After` of `seconds`.
    pub fn status_retry_after(status: u16, seconds: u64) -> Fault {
        Fault::Status {
            status,
            retry_after: Some(seconds),
        }
    }
}

/// Which requests a sequence of faults applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultTarget {
    /// `item_desc` calls for this offer ID.
    Offer(String),
    /// Every `item_desc` call; an offer's own faults take precedence.
    AnyOffer,
    /// The picture whose real URL is this (as the catalogue lists it, `https://host/path`).
    Picture(String),
    /// Every picture request, also for pictures the catalogue does not have; a picture's own
    /// faults take precedence.
    AnyPicture,
}

/// The faults configured for a stand-in, and how many requests each target has seen.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    plans: Vec<Plan>,
}

#[derive(Debug)]
struct Plan {
    target: FaultTarget,
    faults: Vec<Fault>,
    /// Requests seen so far, by offer ID or picture URL: `Any*` targets count each
    /// offer and picture on its own.
    served: Mutex<HashMap<String, usize>>,
}

impl FaultBook {
    pub(crate) fn new(plans: Vec<(FaultTarget, Vec<Fault>)>) -> Self {
        let plans = plans
            .into_iter()
            .map(|(target, faults)| Plan {
                target: normalise_target(target),
                faults,
                served: Mutex::new(HashMap::new()),
            })
            .collect();
        FaultBook { plans }
    }

    /// The fault for this `item_desc` call, counting it.
    pub(crate) fn for_offer(&self, item_id: &str) -> Fault {
        let own = |target: &FaultTarget| matches!(target, FaultTarget::Offer(id) if id == item_id);
        let any = |target: &FaultTarget| matches!(target, FaultTarget::AnyOffer);
        self.next(item_id, own, any)
    }

    /// The fault for a request of a picture, counting it. `candidates` are the catalogue keys
    /// under which the request may name a picture, the exact spelling first.
    pub(crate) fn for_picture(&self, candidates: &[String]) -> Fault {
        let Some(first) = candidates.first() else {
            return Fault::None;
        };
        let own = |target: &FaultTarget| matches!(target, FaultTarget::Picture(url) if candidates.contains(url));
        let any = |target: &FaultTarget| matches!(target, FaultTarget::AnyPicture);
        self.next(first, own, any)
    }

    fn next(
        &self,
        key: &str,
        own: impl Fn(&FaultTarget) -> bool,
        any: impl Fn(&FaultTarget) -> bool,
    ) -> Fault {
        let plan = self
            .plans
            .iter()
            .find(|plan| own(&plan.target))
            .or_else(|| self.plans.iter().find(|plan| any(&plan.target)));
        let Some(plan) = plan else {
            return Fault::None;
        };

        // Each update is one increment, so a lock poisoned by a panic elsewhere still holds
        // consistent counts.
        let mut served = plan.served.lock().unwrap_or_else(PoisonError::into_inner);
        let count = served.entry(key.to_string()).or_insert(0);
        let index = (*count).min(plan.faults.len().saturating_sub(1));
        *count += 1;
        plan.faults.get(index).cloned().unwrap_or(Fault::None)
    }
}

/// Picture targets are matched under the catalogue's key for their URL, so that a test may
/// spell the URL as it likes.
fn normalise_target(target: FaultTarget) -> FaultTarget {
    match target {
        FaultTarget::Picture(url) => FaultTarget::Picture(super::catalogue::picture_key(&url)),
        other => other,
    }
}

/// Applies `fault` to the answer the stand-in would give. `status_answer` builds the answer
/// for [`Fault::Status`]; `stopping` turns true when the stand-in shuts down, which ends
/// stalls and trickles so that shutting down never waits for them.
pub(crate) async fn apply(
    fault: Fault,
    normal: Response,
    status_answer: impl FnOnce(StatusCode) -> Response,
    mut stopping: watch::Receiver<bool>,
) -> Response {
    match fault {
        Fault::None => normal,
        Fault::Delay(delay) => {
            tokio::select! {
                () = tokio::time::sleep(delay) => normal,
                _ = stopping.wait_for(|stopped| *stopped) => broken_answer(),
            }
        }
        Fault::Stall => {
            let _ = stopping.wait_for(|stopped| *stopped).await;
            broken_answer()
        }
        Fault::Trickle(interval) => {
            let (parts, body) = whole(normal).await;
            let len = body.len();
            with_length(parts, len, trickle(body, interval, stopping))
        }
        Fault::CutShort(sent) => {
            let (parts, body) = whole(normal).await;
            let len = body.len();
            let head = body.slice(..sent.min(len));
            with_length(parts, len, cut_short(head))
        }
        Fault::Status {
            status,
            retry_after,
        } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = status_answer(code);
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
        Fault::Canned {
            status,
            headers,
            body,
        } => canned(status, &headers, body),
        Fault::Gzip => compressed(normal, "gzip", gzip).await,
        Fault::Brotli => compressed(normal, "br", brotli).await,
        Fault::Redirect { status, location } => {
            let headers = [("location".to_string(), location)];
            canned(status, &headers, Vec::new())
        }
    }
}

/// The answer's head and its whole body. The stand-in's own answers are in memory already,
/// so reading them cannot fail; should it, the body is taken as empty.
async fn whole(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

/// A response with this head and body, announcing `len` bytes whatever the body delivers.
fn with_length(mut parts: axum::http::response::Parts, len: usize, body: Body) -> Response {
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Response::from_parts(parts, body)
}

/// `body` one byte at a time, `interval` apart (the first byte at once), broken off when the
/// stand-in stops.
fn trickle(body: Bytes, interval: Duration, stopping: watch::Receiver<bool>) -> Body {
    let bytes = stream::unfold(
        (body, 0usize, stopping),
        move |(body, sent, mut stopping)| async move {
            if sent >= body.len() {
                return None;
            }
            if sent > 0 {
                let stopped = tokio::select! {
                    () = tokio::time::sleep(interval) => false,
                    _ = stopping.wait_for(|stopped| *stopped) => true,
                };
                if stopped {
                    let error = io::Error::other("the stand-in stopped");
                    return Some((Err(error), (body, usize::MAX, stopping)));
                }
            }
            let byte = body.slice(sent..sent + 1);
            Some((Ok(byte), (body, sent + 1, stopping)))
        },
    );
    Body::from_stream(bytes)
}

/// `head`, then a broken connection. The break comes a moment later: an error straight
/// after the data would make the server drop the connection before it wrote the head at all,
/// and the client would see no answer rather than a short one.
fn cut_short(head: Bytes) -> Body {
    let head = stream::iter([Ok(head)]);
    let break_off = stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(io::Error::other("cut short by the stand-in"))
    });
    Body::from_stream(head.chain(break_off))
}

/// An answer whose body fails at once, so that the connection is dropped: what a stalled
/// request gets when the stand-in shuts down.
fn broken_answer() -> Response {
    let failed = stream::iter([Err::<Bytes, _>(io::Error::other("the stand-in stopped"))]);
    Response::new(Body::from_stream(failed))
}

fn canned(status: u16, headers: &[(String, String)], body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        let name = header::HeaderName::from_bytes(name.as_bytes());
        let value = HeaderValue::from_str(value);
        if let (Ok(name), Ok(value)) = (name, value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

async fn compressed(
    normal: Response,
    encoding: &'static str,
    compress: fn(&[u8]) -> io::Result<Vec<u8>>,
) -> Response {
    let (mut parts, body) = whole(normal).await;
    let Ok(encoded) = compress(&body) else {
        return Response::from_parts(parts, Body::from(body));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    Response::from_parts(parts, Body::from(encoded))
}

fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn brotli(bytes: &[u8]) -> io::Result<Vec<u8>> {
    // Quality 5 and a 4 MiB window (lgwin 22): quick, and what servers commonly use.
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
    encoder.write_all(bytes)?;
    encoder.flush()?;
    Ok(encoder.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(plans: Vec<(FaultTarget, Vec<Fault>)>) -> FaultBook {
        FaultBook::new(plans)
    }

    #[test]
    fn a_sequence_is_served_in_order_and_its_last_fault_repeats() {
        let faults = book(vec![(
            FaultTarget::Offer("1".into()),
            vec![Fault::status(503), Fault::status(503), Fault::None],
        )]);
        let served: Vec<Fault> = (0..4).map(|_| faults.for_offer("1")).collect();
        assert_eq!(
            served,
            [
                Fault::status(503),
                Fault::status(503),
                Fault::None,
                Fault::None
            ]
        );
        assert_eq!(faults.for_offer("2"), Fault::None);
    }

    #[test]
    fn own_faults_win_over_any_and_each_key_counts_alone() {
        let faults = book(vec![
            (FaultTarget::AnyOffer, vec![Fault::status(499), Fault::None]),
            (FaultTarget::Offer("7".into()), vec![Fault::Stall]),
        ]);
        assert_eq!(faults.for_offer("7"), Fault::Stall);
        assert_eq!(faults.for_offer("1"), Fault::status(499));
        assert_eq!(faults.for_offer("2"), Fault::status(499));
        assert_eq!(faults.for_offer("1"), Fault::None);
    }

    #[test]
    fn picture_targets_match_any_spelling_of_their_url() {
        let faults = book(vec![(
            FaultTarget::Picture("https://CBU01.alicdn.com/a b.jpg".into()),
            vec![Fault::Gzip],
        )]);
        let candidates = [
            "https://cbu01.alicdn.com/a%20b.jpg?x=1".to_string(),
            "https://cbu01.alicdn.com/a%20b.jpg".to_string(),
        ];
        assert_eq!(faults.for_picture(&candidates), Fault::Gzip);
        assert_eq!(faults.for_picture(&[]), Fault::None);
    }

    #[test]
    fn an_empty_sequence_means_no_fault() {
        let faults = book(vec![(FaultTarget::AnyPicture, Vec::new())]);
        assert_eq!(faults.for_picture(&["https://h/x.jpg".into()]), Fault::None);
    }
}
