//! `ApiError`: why an `item_desc` call failed, in words a user can act on.
//!
//! Each variant is one situation with one thing to do about it. Messages name the endpoint,
//! the host and the offer ID, and nothing else from the request: the URL carries the token,
//! so no error here ever holds a URL or a transport error that still has one. Text that comes
//! from elsewhere (a transport error's cause, the API's `msg`) has the token removed before it
//! is kept.

use std::fmt;
use std::time::Duration;

use crate::item_id::ItemId;

/// What the client was doing when the connection failed or the time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The request was sent (or being sent) and no answer had started.
    WaitingForAnswer,
    /// The answer had started and its body was being read.
    ReadingAnswer,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::WaitingForAnswer => "waiting for the answer",
            Stage::ReadingAnswer => "reading the answer",
        })
    }
}

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectCause {
    /// Nothing listens on that port: the service is down or the API base is wrong.
    Refused,
    /// The host or something on the way dropped the connection.
    Reset,
    /// No route to the host: the network is down.
    Unreachable,
    /// Anything else (a TLS failure, for example), with the innermost cause's own words.
    Other(String),
}

impl fmt::Display for ConnectCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectCause::Refused => f.write_str("connection refused"),
            ConnectCause::Reset => f.write_str("connection reset"),
            ConnectCause::Unreachable => f.write_str("network unreachable"),
            ConnectCause::Other(detail) => f.write_str(detail),
        }
    }
}

/// What was wrong with an answer that came with a success status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerProblem {
    /// The body was empty.
    Empty,
    /// The body was not JSON (an HTML page from a proxy, for example).
    NotJson,
    /// JSON without the `data` object, or with `data: null`.
    NoData,
    /// A `data` object whose fields have the wrong types.
    UnexpectedShape,
    /// The body was compressed and could not be decompressed.
    Undecodable,
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerProblem::Empty => "it is empty",
            AnswerProblem::NotJson => "it is not JSON",
            AnswerProblem::NoData => "it has no data object",
            AnswerProblem::UnexpectedShape => "its data object has an unexpected shape",
            AnswerProblem::Undecodable => "its compression is corrupt",
        })
    }
}

/// Why a call failed, each a situation the user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No token is configured; no request was made.
    #[error("no API token: run `descview login` or set TMAPI_TOKEN (or use --demo to try the built-in catalogue)")]
    NoToken,

    /// The token cannot go into an HTTP header (`AuthMode::Header`).
    #[error(
        "the API token has characters that cannot be sent in a header: check TMAPI_TOKEN, or \
         send it as a query parameter"
    )]
    TokenNotSendable,

    /// The API base is not an http or https address with a host.
    #[error(
        "the API base must be an http or https address with a host, like \
         http://api.tmapi.top: check --api-base or TMAPI_BASE"
    )]
    InvalidBase,

    /// The HTTP client could not be built (the TLS setup failed).
    #[error("could not set up the HTTP client ({reason}): report this as a bug")]
    ClientSetup {
        /// The builder's own words.
        reason: String,
    },

    /// The API host's name does not resolve.
    #[error(
        "item_desc for offer {item}: could not resolve {host}: check your network and the API \
         base (--api-base or TMAPI_BASE)"
    )]
    Dns {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
    },

    /// The connection could not be opened.
    #[error(
        "item_desc for offer {item}: could not connect to {host} ({cause}): check your network \
         and the API base (--api-base or TMAPI_BASE)"
    )]
    Connect {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// What the system reported.
        cause: ConnectCause,
    },

    /// The connection was not open within the connect timeout.
    #[error(
        "item_desc for offer {item}: no connection to {host} within {} s: check your network, \
         or try again later", after.as_secs_f32()
    )]
    ConnectTimeout {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// The connect timeout that ran out.
        after: Duration,
    },

    /// The answer did not arrive, or not completely, within the call's timeout.
    #[error(
        "item_desc for offer {item}: timed out after {} s {stage} from {host}: try again later",
        after.as_secs_f32()
    )]
    Timeout {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// What had happened so far.
        stage: Stage,
        /// The timeout that ran out.
        after: Duration,
    },

    /// The connection broke after it was opened.
    #[error(
        "item_desc for offer {item}: the connection to {host} broke while {stage} ({detail}): \
         try again"
    )]
    Interrupted {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// What had happened so far.
        stage: Stage,
        /// The innermost cause's own words.
        detail: String,
    },

    /// The API base answered with a redirect, which is not followed: the token would go along,
    /// to another host or in the clear.
    #[error(
        "item_desc for offer {item}: {host} redirects ({status}) to {target}, which is not \
         followed so that the token stays private: set the API base to where it points if you \
         trust it"
    )]
    Redirect {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// The redirect's status.
        status: u16,
        /// Where it points: scheme, host and port only.
        target: String,
    },

    /// The API refused the token (HTTP 401 or 403).
    #[error(
        "the API refused the token ({status}): check TMAPI_TOKEN against the token in the \
         TMAPI console"
    )]
    TokenRefused {
        /// The status, 401 or 403.
        status: u16,
    },

    /// The host has no `item_desc` endpoint (HTTP 404): the API base is wrong.
    #[error(
        "{host} has no item_desc endpoint (404): wrong API base; check --api-base or TMAPI_BASE"
    )]
    EndpointNotFound {
        /// The API host.
        host: String,
    },

    /// 417: the API could not retrieve the offer's data this time.
    #[error("item_desc for offer {item}: the API failed to retrieve data (417): try again")]
    RetrievalFailed {
        /// The offer asked for.
        item: ItemId,
    },

    /// 422: the API rejected the request's parameters.
    #[error("item_desc for offer {item}: parameter error (422): check the offer ID")]
    ParameterError {
        /// The offer asked for.
        item: ItemId,
    },

    /// 439: no calls are left on the account.
    #[error(
        "the subscription has expired or the balance is too low (439): top up in the TMAPI \
         console"
    )]
    SubscriptionExhausted,

    /// 499: the API gave up waiting on its own sources.
    #[error("item_desc for offer {item}: the API timed out on its side (499): try again")]
    ApiTimedOut {
        /// The offer asked for.
        item: ItemId,
    },

    /// 500: the API failed in a way it did not explain.
    #[error(
        "item_desc for offer {item}: unexpected error on the API side (500): contact TMAPI \
         support"
    )]
    ApiInternal {
        /// The offer asked for.
        item: ItemId,
    },

    /// 503: more calls at once than the account allows.
    #[error("too many requests at once (503): reduce concurrency, wait a moment and try again")]
    TooManyRequests,

    /// A status the API does not document.
    #[error(
        "item_desc for offer {item}: {host} answered with status {status}{}: try again later, \
         and check the API base if it persists",
        detail_suffix(detail)
    )]
    UnexpectedStatus {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// The status, from HTTP or from the body's `code`.
        status: u16,
        /// The API's `msg`, made safe for a terminal, when it sent one.
        detail: Option<String>,
    },

    /// A success status with a body that is not the expected JSON.
    #[error(
        "item_desc for offer {item}: the answer from {host} is not usable: {problem}{}",
        excerpt_suffix(excerpt)
    )]
    UnexpectedAnswer {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// What is wrong with it.
        problem: AnswerProblem,
        /// Its first characters, made safe for a terminal.
        excerpt: String,
    },

    /// The answer is larger than any description; the base points somewhere else.
    #[error(
        "item_desc for offer {item}: the answer from {host} is larger than {} MiB: check the \
         API base", limit / (1024 * 1024)
    )]
    AnswerTooLarge {
        /// The offer asked for.
        item: ItemId,
        /// The API host.
        host: String,
        /// The limit in bytes.
        limit: usize,
    },
}

impl ApiError {
    /// Whether the same request may succeed if sent again: the API's transient statuses (417,
    /// 499, 503), timeouts, and connections that were refused or broke. Never for a status
    /// that will not change by itself (422, 439, 401, 403, 404, 500).
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::RetrievalFailed { .. }
            | ApiError::ApiTimedOut { .. }
            | ApiError::TooManyRequests
            | ApiError::ConnectTimeout { .. }
            | ApiError::Timeout { .. }
            | ApiError::Interrupted { .. } => true,
            ApiError::Connect { cause, .. } => {
                matches!(cause, ConnectCause::Refused | ConnectCause::Reset)
            }
            _ => false,
        }
    }

    /// The error for a status, from HTTP or from the body's `code`. `detail` is the API's
    /// `msg`, already made safe, shown only for statuses the API does not document.
    pub(crate) fn from_status(
        status: u16,
        item: &ItemId,
        host: &str,
        detail: Option<String>,
    ) -> ApiError {
        let item = item.clone();
        match status {
            401 | 403 => ApiError::TokenRefused { status },
            404 => ApiError::EndpointNotFound {
                host: host.to_string(),
            },
            417 => ApiError::RetrievalFailed { item },
            422 => ApiError::ParameterError { item },
            439 => ApiError::SubscriptionExhausted,
            499 => ApiError::ApiTimedOut { item },
            500 => ApiError::ApiInternal { item },
            503 => ApiError::TooManyRequests,
            _ => ApiError::UnexpectedStatus {
                item,
                host: host.to_string(),
                status,
                detail,
            },
        }
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(text) if !text.is_empty() => format!(" ({text})"),
        _ => String::new(),
    }
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!("; it begins: {excerpt}")
    }
}

/// Removes every occurrence of the token from text that came from outside, also in the
/// percent-encoded form in which a server would echo a URL's query.
pub(crate) fn redact(text: &str, token: Option<&str>) -> String {
    let Some(token) = token.filter(|token| !token.is_empty()) else {
        return text.to_string();
    };
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    text.replace(token, "***").replace(&encoded, "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> ItemId {
        "652702302959".parse().unwrap()
    }

    #[test]
    fn each_documented_status_has_its_own_message() {
        let cases = [
            (417, "the API failed to retrieve data (417): try again"),
            (422, "parameter error (422): check the offer ID"),
            (
                439,
                "the subscription has expired or the balance is too low (439): top up",
            ),
            (499, "the API timed out on its side (499): try again"),
            (
                500,
                "unexpected error on the API side (500): contact TMAPI support",
            ),
            (503, "too many requests at once (503): reduce concurrency"),
            (401, "the API refused the token (401)"),
            (403, "the API refused the token (403)"),
            (404, "wrong API base"),
            (418, "answered with status 418"),
        ];
        for (status, expected) in cases {
            let message = ApiError::from_status(status, &item(), "api.example", None).to_string();
            assert!(message.contains(expected), "{status}: {message}");
            assert!(!message.ends_with('.'), "{message}");
            assert!(!message.starts_with(char::is_uppercase), "{message}");
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let retried: Vec<u16> = (400..600)
            .filter(|status| ApiError::from_status(*status, &item(), "h", None).is_retryable())
            .collect();
        assert_eq!(retried, [417, 499, 503]);

        let timeout = ApiError::Timeout {
            item: item(),
            host: "h".into(),
            stage: Stage::WaitingForAnswer,
            after: Duration::from_secs(60),
        };
        assert!(timeout.is_retryable());
        let refused = ApiError::Connect {
            item: item(),
            host: "h".into(),
            cause: ConnectCause::Refused,
        };
        assert!(refused.is_retryable());
        let dns = ApiError::Dns {
            item: item(),
            host: "h".into(),
        };
        assert!(!dns.is_retryable());
        assert!(!ApiError::NoToken.is_retryable());
    }

    #[test]
    fn unexpected_status_shows_the_api_message() {
        let error = ApiError::from_status(400, &item(), "h", Some("bad things".into()));
        assert_eq!(
            error.to_string(),
            "item_desc for offer 652702302959: h answered with status 400 (bad things): try \
             again later, and check the API base if it persists"
        );
    }

    #[test]
    fn timeouts_name_the_stage() {
        let error = ApiError::Timeout {
            item: item(),
            host: "api.tmapi.top".into(),
            stage: Stage::ReadingAnswer,
            after: Duration::from_secs(60),
        };
        assert_eq!(
            error.to_string(),
            "item_desc for offer 652702302959: timed out after 60 s reading the answer from \
             api.tmapi.top: try again later"
        );
    }

    #[test]
    fn redaction_removes_plain_and_encoded_tokens() {
        let token = Some("SECRET TOKEN/123");
        let text = "a SECRET TOKEN/123 b apiToken=SECRET+TOKEN%2F123&x";
        let redacted = redact(text, token);
        assert_eq!(redacted, "a *** b apiToken=***&x");
        assert_eq!(redact("plain", None), "plain");
        assert_eq!(redact("plain", Some("")), "plain");
    }
}
