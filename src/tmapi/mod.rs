//! The TMAPI client: one `item_desc` call, its auth, timeouts, retries and error mapping.
//!
//! Every call is billed to the user, and the token in [`ClientConfig`] is a credential. This
//! module owns both concerns: it sends a request only when one can succeed (no token, no
//! request), retries only where a retry can help, and never lets the token out. Errors are
//! built from the endpoint's name, the host and the offer ID, never from the request URL (which
//! carries the token in its query), and log lines follow the same rule.
//!
//! - [`client`]: the [`Client`] and its request loop
//! - [`answer`]: reading a response body into an [`ItemDesc`] or the API's own error code
//! - [`error`]: [`ApiError`], one variant per situation a user can act on
//! - [`retry`]: which failures are retried, and how long to wait

pub mod answer;
mod client;
mod error;
mod retry;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use client::Client;
pub use error::{AnswerProblem, ApiError, ConnectCause, Stage};
pub use retry::RetryPolicy;

/// The default API base, as the API's documentation gives it (plain http).
pub const DEFAULT_BASE: &str = "http://api.tmapi.top";

/// The endpoint's name, as errors and log lines name it.
pub const ENDPOINT: &str = "item_desc";

/// The limit for one request: the API asks clients to wait up to 60 seconds for an answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The limit for one call, every attempt and the waits between them included. Those same 60
/// seconds: three retries of a request that each wait the full minute would hold a user for
/// four, so a retry gets only what is left of the first minute.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// The limit for opening a connection; a host that takes longer is down or unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What `item_desc` answers for one offer: the `data` object of a `code: 200` body.
///
/// Reading is lenient where the API is loose: `item_id` comes as a number or a string, and a
/// missing or `null` `detail_imgs` or `detail_html` reads as empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemDesc {
    /// The offer ID as the API echoed it, when it did.
    #[serde(default, deserialize_with = "answer::number_or_string")]
    pub item_id: Option<String>,
    /// Picture URLs, in the order the API gives them.
    #[serde(default, deserialize_with = "answer::list_without_nulls")]
    pub detail_imgs: Vec<String>,
    /// The description's HTML, exactly as received.
    #[serde(default, deserialize_with = "answer::null_as_default")]
    pub detail_html: String,
}

/// An answer as received, beside what was read from it, for keeping a faithful copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItemDesc {
    /// The parsed description.
    pub desc: ItemDesc,
    /// The response body, after content decoding, exactly as the API sent it.
    pub body: String,
}

/// A secret API token. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace is dropped.
    pub fn new(value: &str) -> Self {
        Token(value.trim().to_string())
    }

    /// The value, for building a request and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where the token goes in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// The `apiToken` query parameter, as the documentation shows.
    #[default]
    Query,
    /// An `apikey` header, which keeps the token out of URLs and proxy logs.
    Header,
}

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Scheme, host and optional path prefix, e.g. `http://api.tmapi.top`; the endpoint is
    /// `{base}/1688/item_desc`. A query or fragment on the base is dropped.
    pub base: url::Url,
    /// The token; `None` makes every call fail with a message that says how to set one.
    pub token: Option<Token>,
    /// Where the token goes.
    pub auth: AuthMode,
    /// The limit for each request, from sending it to the last byte of the answer.
    pub timeout: Duration,
    /// The limit for the whole call, retries and the waits before them included. An attempt
    /// gets the per-request `timeout` or what is left of this, whichever is less, and no
    /// retry starts without at least half a second left for it.
    pub deadline: Duration,
    /// The limit for opening the connection.
    pub connect_timeout: Duration,
    /// When and how often to try again.
    pub retry: RetryPolicy,
}

impl ClientConfig {
    /// A configuration with the defaults: token in the query, 60 s for the whole call and
    /// for any one request in it, a 10 s connect timeout, and up to three retries starting
    /// around half a second.
    pub fn new(base: url::Url, token: Option<Token>) -> Self {
        ClientConfig {
            base,
            token,
            auth: AuthMode::default(),
            timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_debug_hides_the_value() {
        let token = Token::new("  SECRET-TOKEN-123 ");
        assert_eq!(token.expose(), "SECRET-TOKEN-123");
        assert_eq!(format!("{token:?}"), "Token(***)");

        let base = url::Url::parse(DEFAULT_BASE).unwrap();
        let config = ClientConfig::new(base, Some(token));
        assert!(!format!("{config:?}").contains("SECRET"));
    }

    #[test]
    fn config_defaults_follow_the_api() {
        let config = ClientConfig::new(url::Url::parse(DEFAULT_BASE).unwrap(), None);
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(config.deadline, Duration::from_secs(60));
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert_eq!(config.auth, AuthMode::Query);
        assert_eq!(config.retry.max_retries, 3);
    }

    #[test]
    fn item_desc_survives_a_round_trip_through_json() {
        let desc = ItemDesc {
            item_id: Some("652702302959".into()),
            detail_imgs: vec!["https://cbu01.alicdn.com/a.jpg".into()],
            detail_html: "<p>x</p>".into(),
        };
        let json = serde_json::to_string(&desc).unwrap();
        assert_eq!(serde_json::from_str::<ItemDesc>(&json).unwrap(), desc);
    }
}
