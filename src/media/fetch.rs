//! Downloading picture bytes from a CDN (or the local stand-in) with a size cap.
//!
//! The [`Fetcher`] owns the HTTP client for pictures: the headers a picture CDN expects from
//! a browser, the timeouts, the byte cap, and the demo/test routing to the stand-in. It reads
//! the body as a stream and stops at the cap, so a hostile or mistaken answer can never make
//! it hold more than `max_bytes`. Errors name the host and the stage that failed, never the
//! URL: picture URLs can carry signed query parameters.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, REFERER};
use url::Url;

use super::format::{sniff, Format};
use super::{FetchStage, MediaError};

/// A browser's User-Agent: alicdn and other picture CDNs answer some non-browser agents
/// with a block page instead of the picture.
pub const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// The page the pictures are linked from; alicdn's hotlink protection accepts 1688's own
/// pages as the referrer.
const REFERRER: &str = "https://detail.1688.com/";

/// Only the formats [`decode`](super::decode) can draw, so that a CDN that picks the format
/// by the Accept header (alicdn does, for WebP) never chooses AVIF or HEIC for us. No `*/*`:
/// a format we cannot draw is worth a refusal, not a download.
const ACCEPTED: &str = "image/webp,image/png,image/jpeg,image/gif";

/// How [`Fetcher`] downloads.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    /// Route every request to this stand-in instead of the picture's host (demo and tests):
    /// `https://host/path?q` is fetched from `{cdn_route}/cdn/host/path?q`; see [`route_url`].
    pub cdn_route: Option<Url>,
    /// The most bytes a body may have; a larger one is refused. Default 64 MiB.
    pub max_bytes: u64,
    /// How long connecting (DNS, TCP, TLS) may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long the whole request, body included, may take. Default 30 s.
    pub timeout: Duration,
    /// The User-Agent header. Default [`DEFAULT_USER_AGENT`].
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            cdn_route: None,
            max_bytes: 64 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            user_agent: DEFAULT_USER_AGENT.to_string(),
        }
    }
}

/// A downloaded body.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The bytes exactly as received (after undoing a gzip or brotli transfer encoding).
    pub bytes: Bytes,
    /// The format read from the bytes.
    pub format: Format,
    /// The connection closed before the announced length arrived; `bytes` holds what did.
    pub truncated: bool,
}

/// Downloads pictures. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    config: Arc<FetchConfig>,
}

impl Fetcher {
    /// Builds the HTTP client; fails only if the TLS backend cannot start.
    pub fn new(config: FetchConfig) -> Result<Fetcher, MediaError> {
        let mut headers = HeaderMap::new();
        headers.insert(REFERER, HeaderValue::from_static(REFERRER));
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPTED));
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|error| MediaError::Client {
                detail: innermost_message(&error, None),
            })?;
        Ok(Fetcher {
            client,
            config: Arc::new(config),
        })
    }

    /// The configuration this fetcher was built with.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Downloads `url` (an http or https picture URL).
    ///
    /// A body cut short (fewer bytes than its Content-Length) is returned with
    /// `truncated: true`; an empty body, a non-2xx status, a body over `max_bytes` and every
    /// network failure are errors.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, MediaError> {
        let original = Url::parse(url.trim()).map_err(|_| MediaError::InvalidUrl)?;
        if !matches!(original.scheme(), "http" | "https") || original.host_str().is_none() {
            return Err(MediaError::InvalidUrl);
        }
        let host = host_label(&original);
        let target = match &self.config.cdn_route {
            Some(cdn_base) => route_url(cdn_base, &original),
            None => original.clone(),
        };
        // Anything that might echo the URL into a message is scrubbed of this query.
        let query = original.query().filter(|query| !query.is_empty());

        let response = self
            .client
            .get(target)
            .send()
            .await
            .map_err(|error| request_error(&error, &host, query))?;

        let status = response.status();
        if !status.is_success() {
            return Err(MediaError::Http {
                host,
                status: status.as_u16(),
            });
        }
        let announced = response.content_length();
        if announced.is_some_and(|len| len > self.config.max_bytes) {
            return Err(MediaError::TooLarge {
                host,
                limit: self.config.max_bytes,
            });
        }

        let (bytes, cut) = self.read_body(response, &host, query).await?;
        if bytes.is_empty() {
            return Err(MediaError::Empty { host });
        }
        let short = announced.is_some_and(|len| (bytes.len() as u64) < len);
        Ok(Fetched {
            format: sniff(&bytes),
            bytes,
            truncated: cut || short,
        })
    }

    /// Reads the body chunk by chunk, refusing it as soon as it passes the cap. Returns the
    /// bytes and whether the connection broke before the body's end (after at least one
    /// byte: a body that breaks before any is an error).
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        host: &str,
        query: Option<&str>,
    ) -> Result<(Bytes, bool), MediaError> {
        let limit = self.config.max_bytes;
        // Trust the announced length only up to the cap, and not beyond a few MiB for the
        // first allocation: a body that announces much may still send little.
        let initial = response
            .content_length()
            .unwrap_or(0)
            .min(limit)
            .min(8 * 1024 * 1024);
        let mut body = BytesMut::with_capacity(usize::try_from(initial).unwrap_or(0));

        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() as u64).saturating_add(chunk.len() as u64) > limit {
                        return Err(MediaError::TooLarge {
                            host: host.to_string(),
                            limit,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok((body.freeze(), false)),
                Err(error) if error.is_timeout() => {
                    return Err(MediaError::Timeout {
                        host: host.to_string(),
                        stage: FetchStage::Read,
                    })
                }
                // The server closed the connection mid-body (or a chunked body broke off):
                // what arrived is still worth showing, marked as cut.
                Err(_) if !body.is_empty() => return Ok((body.freeze(), true)),
                Err(error) => {
                    return Err(MediaError::Read {
                        host: host.to_string(),
                        detail: innermost_message(&error, query),
                    })
                }
            }
        }
    }
}

/// Where a picture is fetched from when routed to the stand-in: `https://host/path?q`
/// becomes `{cdn_base}/cdn/host/path?q` (a port stays with the host; the scheme is dropped).
///
/// `cdn_base` may be the stand-in's root (`http://127.0.0.1:PORT/`) or its picture base
/// (`http://127.0.0.1:PORT/cdn/`, as the stand-in's handle reports it): `/cdn` is added only
/// when the base does not already end with it.
pub fn route_url(cdn_base: &Url, original: &Url) -> Url {
    let base_path = cdn_base.path().trim_end_matches('/');
    let prefix = if base_path.ends_with("/cdn") {
        base_path.to_string()
    } else {
        format!("{base_path}/cdn")
    };
    let host = original.host_str().unwrap_or_default();
    let port = original
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();

    let mut routed = cdn_base.clone();
    routed.set_path(&format!("{prefix}/{host}{port}{}", original.path()));
    routed.set_query(original.query());
    routed.set_fragment(None);
    routed
}

/// The host as shown in messages, made safe for the terminal.
fn host_label(url: &Url) -> String {
    crate::text::sanitize(url.host_str().unwrap_or("the picture host")).into_owned()
}

/// Maps a failure before the response headers arrived to the stage it happened in.
fn request_error(error: &reqwest::Error, host: &str, query: Option<&str>) -> MediaError {
    let host = host.to_string();
    if error.is_timeout() {
        let stage = if error.is_connect() {
            FetchStage::Connect
        } else {
            FetchStage::Answer
        };
        return MediaError::Timeout { host, stage };
    }
    let detail = innermost_message(error, query);
    if error.is_connect() {
        MediaError::Connect { host, detail }
    } else {
        MediaError::Read { host, detail }
    }
}

/// The most specific cause of a reqwest error, without the URL.
///
/// reqwest's own message includes the request URL; the causes beneath it (hyper's, the
/// operating system's: "connection refused") do not, and say more. As a second guard, the
/// URL and its query are cut out of the text should any layer have quoted them.
fn innermost_message(error: &reqwest::Error, query: Option<&str>) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message = cause.to_string();
        source = cause.source();
    }
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "the picture URL");
    }
    if let Some(query) = query {
        message = message.replace(query, "…");
    }
    crate::text::sanitize(&message).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn routing_follows_the_stand_in_rule() {
        let original = url("https://cbu01.alicdn.com/img/ibank/O1CN01x_!!22-0-cib.jpg?__r__=1");
        let expected =
            "http://127.0.0.1:4000/cdn/cbu01.alicdn.com/img/ibank/O1CN01x_!!22-0-cib.jpg?__r__=1";
        assert_eq!(
            route_url(&url("http://127.0.0.1:4000"), &original).as_str(),
            expected
        );
        assert_eq!(
            route_url(&url("http://127.0.0.1:4000/"), &original).as_str(),
            expected
        );
        assert_eq!(
            route_url(&url("http://127.0.0.1:4000/cdn/"), &original).as_str(),
            expected
        );
        assert_eq!(
            route_url(&url("http://127.0.0.1:4000/cdn"), &original).as_str(),
            expected
        );
    }

    #[test]
    fn routing_keeps_ports_encoding_and_drops_fragments() {
        let original = url("http://img.example.com:8080/a%20b/c.png#top");
        assert_eq!(
            route_url(&url("http://127.0.0.1:9/"), &original).as_str(),
            "http://127.0.0.1:9/cdn/img.example.com:8080/a%20b/c.png"
        );
    }

    #[tokio::test]
    async fn urls_that_are_not_http_are_refused_without_a_request() {
        let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
        for bad in [
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "not a url",
            "",
        ] {
            let error = fetcher.fetch(bad).await.unwrap_err();
            assert_eq!(error, MediaError::InvalidUrl, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_host_but_not_the_query() {
        // A port that was just free and is closed again: the connection is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
        let error = fetcher
            .fetch(&format!(
                "http://127.0.0.1:{port}/p.jpg?sig=secret-signature"
            ))
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, MediaError::Connect { .. }), "{message}");
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(!message.contains("secret-signature"), "{message}");
        assert!(!message.contains("p.jpg"), "{message}");
    }
}
