//! The `item_desc` request: building it, sending it, retrying it, and naming what went wrong.
//!
//! The request URL carries the token (in the `apiToken` query parameter unless the header is
//! chosen), so this module never lets a URL out: transport errors lose theirs at once and are
//! turned into [`ApiError`]s built from the host and the offer ID, log lines name the host,
//! and redirects are not followed, because following one would hand the token to whatever
//! host, over whatever scheme, the `Location` names.
//!
//! One call has one deadline ([`ClientConfig::deadline`], the API's 60 s): every attempt gets
//! the per-request timeout or what is left of the deadline, whichever is less, and a retry is
//! only sent when its wait and a useful attempt still fit. A user never waits four minutes for
//! three retries of a request that stalls.

use std::error::Error as StdError;
use std::io;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, LOCATION};
use reqwest::{redirect, Response};
use url::Url;

use super::answer::{self, Reading};
use super::error::{AnswerProblem, ApiError, ConnectCause, Stage};
use super::{retry, AuthMode, ClientConfig, ItemDesc, RawItemDesc, Token, ENDPOINT};
use crate::item_id::ItemId;

/// The largest answer read. Descriptions run to a few hundred kilobytes; anything near this is
/// not the API talking.
const ANSWER_LIMIT: usize = 32 * 1024 * 1024;

/// The most of an error answer read, to find its `msg`.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The least time worth giving a retry: less, and it would only time out, turning the
/// failure the user should see (a 503, say) into a timeout. A loopback answer takes
/// milliseconds; a real one rarely less than a few hundred.
const MIN_ATTEMPT: Duration = Duration::from_millis(500);

/// Sent with every request, so that the API's operators can tell who is calling.
const USER_AGENT: &str = concat!("descview/", env!("CARGO_PKG_VERSION"));

/// A TMAPI client; cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    http: reqwest::Client,
    /// `{base}/1688/item_desc`, without a query.
    endpoint: Url,
    /// The endpoint's host, with the port when it is not the scheme's default: what errors
    /// and log lines name.
    host: String,
}

/// A failed attempt: the error, and how long the server asked to wait before the next one.
struct Failure {
    error: ApiError,
    retry_after: Option<Duration>,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// The time one attempt may take, and the limit its timeout error names.
#[derive(Clone, Copy)]
struct AttemptLimit {
    /// The attempt's own timeout: the per-request timeout, or what is left of the call's
    /// deadline when that is less.
    timeout: Duration,
    /// The limit a user was held to when this ran out: the per-request timeout, or the whole
    /// call's deadline when the attempt had only what was left of it.
    reported: Duration,
}

/// Why a body could not be read whole.
enum BodyFault {
    TooLarge,
    Transport(reqwest::Error),
}

impl Client {
    /// Builds a client. Fails when the base is not an http or https address with a host,
    /// when a token meant for the header cannot go into one, or when the TLS setup fails.
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let endpoint = endpoint_url(&config.base)?;
        let host = host_label(&endpoint).ok_or(ApiError::InvalidBase)?;
        if let (AuthMode::Header, Some(token)) = (config.auth, &config.token) {
            HeaderValue::from_str(token.expose()).map_err(|_| ApiError::TokenNotSendable)?;
        }

        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|error| ApiError::ClientSetup {
                reason: innermost_cause(&error.without_url(), None),
            })?;

        Ok(Client {
            config,
            http,
            endpoint,
            host,
        })
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The API host (with the port when it is not the default), as errors name it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Fetches one offer's description.
    ///
    /// Retries transient failures (see [`ApiError::is_retryable`]) as the configuration's
    /// [`super::RetryPolicy`] allows, all within [`ClientConfig::deadline`]; without a token,
    /// fails with [`ApiError::NoToken`] and sends nothing.
    pub async fn item_desc(&self, item: &ItemId) -> Result<ItemDesc, ApiError> {
        self.item_desc_raw(item).await.map(|raw| raw.desc)
    }

    /// Like [`Client::item_desc`], and also returns the body exactly as received.
    pub async fn item_desc_raw(&self, item: &ItemId) -> Result<RawItemDesc, ApiError> {
        let token = self
            .config
            .token
            .as_ref()
            .filter(|token| !token.expose().is_empty())
            .ok_or(ApiError::NoToken)?;

        let policy = self.config.retry;
        let call_started = Instant::now();
        let mut retries_done = 0;
        loop {
            let attempt = retries_done + 1;
            let limit = self.attempt_limit(call_started.elapsed());
            let started = Instant::now();
            let outcome = self.attempt(item, token, attempt, limit).await;
            let elapsed_ms = started.elapsed().as_millis();

            let failure = match outcome {
                Ok(raw) => {
                    tracing::debug!(endpoint = ENDPOINT, %item, host = %self.host, attempt,
                        elapsed_ms, "answer read");
                    return Ok(raw);
                }
                Err(failure) => failure,
            };
            if !failure.error.is_retryable() || retries_done >= policy.max_retries {
                tracing::warn!(endpoint = ENDPOINT, %item, host = %self.host, attempt,
                    elapsed_ms, error = %failure.error, "call failed");
                return Err(failure.error);
            }

            let delay = policy.delay(retries_done, failure.retry_after);
            let left = self.config.deadline.saturating_sub(call_started.elapsed());
            if left < delay.saturating_add(MIN_ATTEMPT) {
                tracing::warn!(endpoint = ENDPOINT, %item, host = %self.host, attempt,
                    elapsed_ms, error = %failure.error, left_ms = left.as_millis(),
                    "call failed, no time left for a retry");
                return Err(failure.error);
            }
            tracing::warn!(endpoint = ENDPOINT, %item, host = %self.host, attempt, elapsed_ms,
                error = %failure.error, retry_in_ms = delay.as_millis(), "call failed, retrying");
            tokio::time::sleep(delay).await;
            retries_done += 1;
        }
    }

    /// How long the next attempt may take, `spent` into the call: the per-request timeout,
    /// cut to what is left of the call's deadline.
    fn attempt_limit(&self, spent: Duration) -> AttemptLimit {
        let left = self.config.deadline.saturating_sub(spent);
        if left < self.config.timeout {
            AttemptLimit {
                timeout: left,
                reported: self.config.deadline,
            }
        } else {
            AttemptLimit {
                timeout: self.config.timeout,
                reported: self.config.timeout,
            }
        }
    }

    /// One request and the reading of its answer; `attempt` counts from 1, for the log.
    async fn attempt(
        &self,
        item: &ItemId,
        token: &Token,
        attempt: u32,
        limit: AttemptLimit,
    ) -> Result<RawItemDesc, Failure> {
        let secret = Some(token.expose());
        let started = Instant::now();
        let mut response = self
            .request(item, token)
            .timeout(limit.timeout)
            .send()
            .await
            .map_err(|error| {
                self.transport_error(error, item, secret, Stage::WaitingForAnswer, limit)
            })?;

        let status = response.status();
        let retry_after = retry::retry_after(response.headers());
        tracing::info!(endpoint = ENDPOINT, %item, host = %self.host, attempt,
            status = status.as_u16(), elapsed_ms = started.elapsed().as_millis(), "status received");

        if status.is_redirection() {
            return Err(self.redirect_error(&response, item).into());
        }
        if !status.is_success() {
            let error = self
                .status_error(status.as_u16(), &mut response, item, secret)
                .await;
            return Err(Failure { error, retry_after });
        }

        let body =
            self.read_body(&mut response, ANSWER_LIMIT)
                .await
                .map_err(|fault| match fault {
                    BodyFault::TooLarge => self.too_large(item),
                    BodyFault::Transport(error) => self.body_error(error, item, secret, limit),
                })?;
        let text = String::from_utf8(body).map_err(|not_utf8| {
            self.unexpected_answer(item, AnswerProblem::NotJson, not_utf8.as_bytes(), secret)
        })?;

        match answer::read_body(&text, secret) {
            Reading::Desc(desc) => Ok(RawItemDesc { desc, body: text }),
            Reading::Status { code, msg } => {
                // A 404 in the body comes from an endpoint that exists, so it says nothing
                // about the base; it is reported as the unexplained status it is.
                let error = if code == 404 {
                    ApiError::UnexpectedStatus {
                        item: item.clone(),
                        host: self.host.clone(),
                        status: code,
                        detail: msg,
                    }
                } else {
                    ApiError::from_status(code, item, &self.host, msg)
                };
                Err(Failure { error, retry_after })
            }
            Reading::Unusable(problem) => Err(self
                .unexpected_answer(item, problem, text.as_bytes(), secret)
                .into()),
        }
    }

    fn request(&self, item: &ItemId, token: &Token) -> reqwest::RequestBuilder {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().append_pair("item_id", item.as_str());
        match self.config.auth {
            AuthMode::Query => {
                url.query_pairs_mut()
                    .append_pair("apiToken", token.expose());
                self.http.get(url)
            }
            AuthMode::Header => {
                let request = self.http.get(url);
                // `Client::new` checked that the token fits in a header; marking it sensitive
                // keeps it out of the header map's `Debug`.
                match HeaderValue::from_str(token.expose()) {
                    Ok(mut value) => {
                        value.set_sensitive(true);
                        request.header("apikey", value)
                    }
                    Err(_) => request,
                }
            }
        }
    }

    /// The error for a status other than success or redirect. The body is read only when the
    /// status is not documented, to show the reason the server gave.
    async fn status_error(
        &self,
        status: u16,
        response: &mut Response,
        item: &ItemId,
        secret: Option<&str>,
    ) -> ApiError {
        let error = ApiError::from_status(status, item, &self.host, None);
        if !matches!(error, ApiError::UnexpectedStatus { .. }) {
            return error;
        }
        let detail = match self.read_body(response, ERROR_BODY_LIMIT).await {
            Ok(body) => answer::error_detail(&body, secret),
            Err(_) => None,
        };
        ApiError::from_status(status, item, &self.host, detail)
    }

    fn redirect_error(&self, response: &Response, item: &ItemId) -> ApiError {
        let target = response
            .headers()
            .get(LOCATION)
            .and_then(|location| location.to_str().ok())
            .and_then(|location| self.endpoint.join(location).ok())
            .and_then(|url| Some(format!("{}://{}", url.scheme(), host_label(&url)?)))
            .unwrap_or_else(|| "an address it does not give".to_string());
        ApiError::Redirect {
            item: item.clone(),
            host: self.host.clone(),
            status: response.status().as_u16(),
            target,
        }
    }

    async fn read_body(&self, response: &mut Response, limit: usize) -> Result<Vec<u8>, BodyFault> {
        let announced = response.content_length().unwrap_or(0);
        if usize::try_from(announced).map_or(true, |announced| announced > limit) {
            return Err(BodyFault::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(BodyFault::Transport)? {
            if body.len() + chunk.len() > limit {
                return Err(BodyFault::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Names a failure to connect or to get an answer, from the error's kind and causes; the
    /// error itself, which holds the URL, is dropped here.
    fn transport_error(
        &self,
        error: reqwest::Error,
        item: &ItemId,
        secret: Option<&str>,
        stage: Stage,
        limit: AttemptLimit,
    ) -> ApiError {
        let error = error.without_url();
        let (item, host) = (item.clone(), self.host.clone());
        if error.is_connect() {
            if error.is_timeout() {
                ApiError::ConnectTimeout {
                    item,
                    host,
                    after: self.config.connect_timeout,
                }
            } else if is_dns_failure(&error) {
                ApiError::Dns { item, host }
            } else {
                ApiError::Connect {
                    item,
                    host,
                    cause: connect_cause(&error, secret),
                }
            }
        } else if error.is_timeout() {
            ApiError::Timeout {
                item,
                host,
                stage,
                after: limit.reported,
            }
        } else {
            ApiError::Interrupted {
                item,
                host,
                stage,
                detail: innermost_cause(&error, secret),
            }
        }
    }

    /// Names a failure while reading a success answer's body. reqwest reports every such
    /// failure as a decoding error, so the cause is read from the chain: a timeout, corrupt
    /// compressed data, or a broken connection. The decompressors report corrupt data as an
    /// I/O error of kind `InvalidData` (a bad gzip header) or `Other` (flate2's deflate
    /// error); a broken connection shows up as hyper's own error or an I/O error of a
    /// connection kind, never as those two.
    fn body_error(
        &self,
        error: reqwest::Error,
        item: &ItemId,
        secret: Option<&str>,
        limit: AttemptLimit,
    ) -> ApiError {
        let error = error.without_url();
        if error.is_timeout() {
            ApiError::Timeout {
                item: item.clone(),
                host: self.host.clone(),
                stage: Stage::ReadingAnswer,
                after: limit.reported,
            }
        } else if matches!(
            io_error_kind(&error),
            Some(io::ErrorKind::InvalidData | io::ErrorKind::Other)
        ) {
            self.unexpected_answer(item, AnswerProblem::Undecodable, b"", secret)
        } else {
            self.transport_error(error, item, secret, Stage::ReadingAnswer, limit)
        }
    }

    fn unexpected_answer(
        &self,
        item: &ItemId,
        problem: AnswerProblem,
        body: &[u8],
        secret: Option<&str>,
    ) -> ApiError {
        ApiError::UnexpectedAnswer {
            item: item.clone(),
            host: self.host.clone(),
            problem,
            excerpt: if body.is_empty() {
                String::new()
            } else {
                answer::excerpt(body, secret)
            },
        }
    }

    fn too_large(&self, item: &ItemId) -> ApiError {
        ApiError::AnswerTooLarge {
            item: item.clone(),
            host: self.host.clone(),
            limit: ANSWER_LIMIT,
        }
    }
}

/// `{base}/1688/item_desc`, keeping the base's path as a prefix and dropping its query and
/// fragment (the token and the item ID are the only query the endpoint gets).
fn endpoint_url(base: &Url) -> Result<Url, ApiError> {
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
        return Err(ApiError::InvalidBase);
    }
    let mut endpoint = base.clone();
    endpoint.set_query(None);
    endpoint.set_fragment(None);
    endpoint
        .path_segments_mut()
        .map_err(|()| ApiError::InvalidBase)?
        .pop_if_empty()
        .extend(["1688", "item_desc"]);
    Ok(endpoint)
}

/// The host of a URL, with the port when it is not the scheme's default.
fn host_label(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Every error in a chain, from the outermost.
fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&error| error.source())
}

/// Whether name resolution failed. hyper-util, which opens reqwest's connections, reports
/// it as a cause whose whole message is "dns error"; no error type for it is public.
fn is_dns_failure(error: &reqwest::Error) -> bool {
    causes(error).any(|cause| cause.to_string() == "dns error")
}

fn io_error_kind(error: &reqwest::Error) -> Option<io::ErrorKind> {
    causes(error)
        .find_map(|cause| cause.downcast_ref::<io::Error>())
        .map(io::Error::kind)
}

fn connect_cause(error: &reqwest::Error, secret: Option<&str>) -> ConnectCause {
    match io_error_kind(error) {
        Some(io::ErrorKind::ConnectionRefused) => ConnectCause::Refused,
        Some(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) => {
            ConnectCause::Reset
        }
        Some(io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable) => {
            ConnectCause::Unreachable
        }
        _ => ConnectCause::Other(innermost_cause(error, secret)),
    }
}

/// The innermost cause's message, on one line, capped and safe. Causes below reqwest's own
/// error (I/O, TLS and protocol errors) do not hold the URL; the token is removed anyway.
fn innermost_cause(error: &reqwest::Error, secret: Option<&str>) -> String {
    let innermost = causes(error)
        .last()
        .map(ToString::to_string)
        .unwrap_or_default();
    answer::excerpt(innermost.as_bytes(), secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tmapi::DEFAULT_BASE;

    fn config(base: &str) -> ClientConfig {
        ClientConfig::new(Url::parse(base).unwrap(), Some(Token::new("test-token")))
    }

    #[test]
    fn the_endpoint_keeps_the_base_path() {
        let cases = [
            (
                "http://api.tmapi.top",
                "http://api.tmapi.top/1688/item_desc",
            ),
            (
                "https://api.tmapi.io/",
                "https://api.tmapi.io/1688/item_desc",
            ),
            (
                "http://127.0.0.1:8080/proxy",
                "http://127.0.0.1:8080/proxy/1688/item_desc",
            ),
            (
                "http://127.0.0.1:8080/proxy/",
                "http://127.0.0.1:8080/proxy/1688/item_desc",
            ),
            ("http://h/p?apiToken=x#f", "http://h/p/1688/item_desc"),
        ];
        for (base, endpoint) in cases {
            assert_eq!(
                endpoint_url(&Url::parse(base).unwrap()).unwrap().as_str(),
                endpoint
            );
        }
    }

    #[test]
    fn only_http_bases_with_a_host_are_accepted() {
        for base in [
            "ftp://api.tmapi.top",
            "file:///tmp/x",
            "mailto:a@b.c",
            "data:text/plain,x",
        ] {
            let error = Client::new(config(base)).unwrap_err();
            assert_eq!(error, ApiError::InvalidBase, "{base}");
        }
        assert!(Client::new(config(DEFAULT_BASE)).is_ok());
    }

    #[test]
    fn the_host_label_has_the_port_only_when_needed() {
        assert_eq!(
            Client::new(config("http://api.tmapi.top")).unwrap().host(),
            "api.tmapi.top"
        );
        assert_eq!(
            Client::new(config("https://h:8443/x")).unwrap().host(),
            "h:8443"
        );
        assert_eq!(Client::new(config("http://h:80/")).unwrap().host(), "h");
    }

    #[test]
    fn a_header_token_must_fit_in_a_header() {
        let mut config = config(DEFAULT_BASE);
        config.auth = AuthMode::Header;
        config.token = Some(Token::new("bad\ntoken"));
        assert_eq!(Client::new(config).unwrap_err(), ApiError::TokenNotSendable);
    }

    #[test]
    fn the_client_debug_hides_the_token() {
        let client = Client::new(config(DEFAULT_BASE)).unwrap();
        assert!(!format!("{client:?}").contains("test-token"));
    }

    #[tokio::test]
    async fn no_token_fails_before_any_request() {
        // Port 9 on a documentation address: a request would fail differently (and slowly).
        let mut config = config("http://192.0.2.1:9");
        config.token = None;
        let client = Client::new(config.clone()).unwrap();
        let item: ItemId = "652702302959".parse().unwrap();
        assert_eq!(
            client.item_desc(&item).await.unwrap_err(),
            ApiError::NoToken
        );

        config.token = Some(Token::new("   "));
        let client = Client::new(config).unwrap();
        let error = client.item_desc(&item).await.unwrap_err();
        assert_eq!(error, ApiError::NoToken);
        assert!(error.to_string().contains("TMAPI_TOKEN"));
    }
}
