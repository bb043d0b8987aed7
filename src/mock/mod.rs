//! The local stand-in for TMAPI and the picture CDN, and its demo catalogue.
//!
//! [`start`] runs an axum server on a loopback address that answers
//! `GET /1688/item_desc?item_id=ID&apiToken=TOKEN` (or the token in an `apikey` header) the way
//! the API's documentation describes it, and serves the catalogue's pictures at
//! `GET /cdn/{host}/{path}?{query}` for the picture whose real URL is
//! `https://{host}/{path}?{query}` ([`rewrite_picture_url`] applies that rule). `descview
//! --demo`, `descview mock-server`, the tests and the benchmarks all use it, so they run the
//! same client code as real use and send nothing off the machine.
//!
//! For tests it can also misbehave on purpose ([`Fault`], [`MockOptions::with_faults`]): be
//! slow, stall, trickle or cut a body short, answer a sequence of statuses with `Retry-After`,
//! turn away calls beyond a concurrency limit as the API documents, redirect, or compress
//! unasked. Requests are counted on the server side ([`MockHandle::requests`],
//! [`MockHandle::peak_in_flight`]), so tests assert what was actually sent.
//!
//! The stand-in never logs, stores or echoes the token it is given or sent.

mod catalogue;
mod faults;
mod server;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use catalogue::{embedded_assets_len, Catalogue, CatalogueError, Offer, OfferAnswer};
pub use faults::{Fault, FaultTarget};

/// The token the demo uses; it unlocks nothing but the local stand-in.
pub const DEMO_TOKEN: &str = "descview-demo-token";

/// How the stand-in behaves.
///
/// Build it from `MockOptions::default()` and the `with_` methods (or struct update syntax),
/// so that options added later keep existing callers compiling.
#[derive(Clone)]
pub struct MockOptions {
    /// The token that `item_desc` accepts; anything else is answered as an auth failure.
    pub token: String,
    /// Faults to put on, each sequence for its target (see [`Fault`]); the first sequence
    /// whose target matches a request applies, a specific offer or picture before `Any*`.
    pub faults: Vec<(FaultTarget, Vec<Fault>)>,
    /// The most `item_desc` calls handled at once; further calls are answered 503 with the
    /// API's message for it, as the API documents. `None`: no limit.
    pub max_concurrent_calls: Option<usize>,
    /// The `Retry-After` (seconds) sent with the concurrency limit's 503, if any.
    pub busy_retry_after: Option<u64>,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            token: DEMO_TOKEN.to_string(),
            faults: Vec::new(),
            max_concurrent_calls: None,
            busy_retry_after: None,
        }
    }
}

impl MockOptions {
    /// The same options with another accepted token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The same options with a sequence of faults for `target`: the first request for an
    /// offer or picture gets the first fault, and so on; the last one repeats.
    pub fn with_faults(mut self, target: FaultTarget, faults: impl Into<Vec<Fault>>) -> Self {
        self.faults.push((target, faults.into()));
        self
    }

    /// The same options with a limit on concurrent `item_desc` calls, beyond which calls are
    /// answered 503, with `Retry-After` when `retry_after` (seconds) is given.
    pub fn with_concurrency_limit(mut self, calls: usize, retry_after: Option<u64>) -> Self {
        self.max_concurrent_calls = Some(calls);
        self.busy_retry_after = retry_after;
        self
    }
}

impl fmt::Debug for MockOptions {
    // The token is redacted even though it only opens the stand-in: callers may well pass a
    // real one by mistake, and a Debug print ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockOptions")
            .field("token", &"***")
            .field("faults", &self.faults)
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("busy_retry_after", &self.busy_retry_after)
            .finish()
    }
}

/// A running stand-in. Dropping it stops the server without waiting; [`MockHandle::shutdown`]
/// stops it and waits until it has finished.
pub struct MockHandle {
    addr: SocketAddr,
    api_base: Url,
    cdn_base: Url,
    state: Arc<server::ServerState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Starts the stand-in on `addr` (use port 0 for a free port) and returns once it listens.
///
/// The server runs as a task on the current tokio runtime until the handle is shut down or
/// dropped.
pub async fn start(
    addr: SocketAddr,
    catalogue: Catalogue,
    options: MockOptions,
) -> io::Result<MockHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let api_base = base_url(addr, "/")?;
    let cdn_base = base_url(addr, server::CDN_PREFIX)?;

    let state = Arc::new(server::ServerState::new(catalogue, options));
    let router = server::router(Arc::clone(&state));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // A dropped sender means the handle is gone, which is also a request to stop.
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(%error, "the local stand-in stopped with an error");
        }
    });

    tracing::info!(%addr, "local stand-in listening");
    Ok(MockHandle {
        addr,
        api_base,
        cdn_base,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

impl MockHandle {
    /// The address the server listens on, with the port actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give the API client in place of `http://api.tmapi.top`.
    pub fn api_base(&self) -> Url {
        self.api_base.clone()
    }

    /// The base under which pictures are served: `http://ADDR/cdn/`.
    pub fn cdn_base(&self) -> Url {
        self.cdn_base.clone()
    }

    /// Where this server serves the picture whose real URL is `picture_url`, or `None` when
    /// that is not an absolute http(s) URL.
    pub fn cdn_url(&self, picture_url: &str) -> Option<Url> {
        let picture = Url::parse(picture_url.trim()).ok()?;
        rewrite_picture_url(&self.cdn_base, &picture)
    }

    /// How many requests the server has received whose path starts with `path_prefix`
    /// (for example `/1688/item_desc` or `/cdn/`); `""` counts them all.
    pub fn requests(&self, path_prefix: &str) -> usize {
        self.state.requests(path_prefix)
    }

    /// The most requests whose path starts with `path_prefix` that the server was handling
    /// at the same time, from a request's arrival until its answer's head was ready.
    pub fn peak_in_flight(&self, path_prefix: &str) -> usize {
        self.state.peak_in_flight(path_prefix)
    }

    /// Stops the server and waits until it has closed its connections.
    pub async fn shutdown(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "the local stand-in's task failed");
            }
        }
    }

    fn signal_stop(&mut self) {
        // Stalled answers end first, or the graceful shutdown would wait for them forever.
        self.state.stop();
        if let Some(stop) = self.stop.take() {
            // The server may have ended already; then there is nothing left to stop.
            let _ = stop.send(());
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

impl fmt::Debug for MockHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Rewrites a picture's real URL to where a stand-in with this `cdn_base` serves it:
/// `https://{host}/{path}?{query}` becomes `{cdn_base}{host}/{path}?{query}`.
///
/// The scheme is dropped (the stand-in tries https, then http), the host keeps its port if it
/// has one, and path and query are kept as the parsed URL spells them. `None` when the URL
/// is not http(s) or has no host.
pub fn rewrite_picture_url(cdn_base: &Url, picture: &Url) -> Option<Url> {
    if !matches!(picture.scheme(), "http" | "https") || picture.host_str().is_none() {
        return None;
    }
    // The one rule, shared with the fetcher that follows it.
    Some(crate::media::route_url(cdn_base, picture))
}

fn base_url(addr: SocketAddr, path: &str) -> io::Result<Url> {
    Url::parse(&format!("http://{addr}{path}"))
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdn_base() -> Url {
        Url::parse("http://127.0.0.1:4000/cdn/").unwrap()
    }

    #[test]
    fn picture_urls_are_rewritten_under_the_cdn_base() {
        let picture =
            Url::parse("https://cbu01.alicdn.com/img/ibank/O1CN01a_!!1-0-cib.jpg?__r__=16")
                .unwrap();
        let rewritten = rewrite_picture_url(&cdn_base(), &picture).map(String::from);
        assert_eq!(
            rewritten.as_deref(),
            Some("http://127.0.0.1:4000/cdn/cbu01.alicdn.com/img/ibank/O1CN01a_!!1-0-cib.jpg?__r__=16")
        );
    }

    #[test]
    fn a_host_with_a_port_keeps_it() {
        let picture = Url::parse("http://img.example.com:8080/a.png").unwrap();
        let rewritten = rewrite_picture_url(&cdn_base(), &picture).map(String::from);
        assert_eq!(
            rewritten.as_deref(),
            Some("http://127.0.0.1:4000/cdn/img.example.com:8080/a.png")
        );
    }

    #[test]
    fn only_http_urls_are_rewritten() {
        let data = Url::parse("data:image/png;base64,AAAA").unwrap();
        assert_eq!(rewrite_picture_url(&cdn_base(), &data), None);
        let file = Url::parse("file:///etc/passwd").unwrap();
        assert_eq!(rewrite_picture_url(&cdn_base(), &file), None);
    }

    #[test]
    fn options_never_print_the_token() {
        let options = MockOptions::default().with_token("SECRET-TOKEN-123");
        assert!(!format!("{options:?}").contains("SECRET"));
    }
}
