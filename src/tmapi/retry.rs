//! How long to wait before trying a failed call again.
//!
//! Every request is billed, so retries are few (three at most by default, four requests in
//! all) and spread out: exponential backoff with full jitter, so that many clients that failed
//! together do not come back together, and the server's `Retry-After` (in seconds) when it
//! gives one, capped so that a large value cannot freeze the browser. Which failures are
//! retried is [`super::ApiError::is_retryable`]'s decision, not this module's.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The upper limit of any backoff delay, however many retries came before.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// When and how often a failed call is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first request; `0` turns retrying off.
    pub max_retries: u32,
    /// The first backoff's upper limit; each retry doubles it. Tests set a few milliseconds.
    pub base_delay: Duration,
    /// The longest `Retry-After` that is honoured; larger values are cut to it.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, backoff from about half a second, `Retry-After` honoured up to 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            retry_after_cap: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first), given the failed answer's
    /// `Retry-After` if it had one.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(asked) => asked.min(self.retry_after_cap),
            None => self.backoff_limit(retry).mul_f64(random_fraction()),
        }
    }

    /// The upper limit of the jittered wait before retry number `retry`:
    /// `base_delay * 2^retry`, at most [`MAX_BACKOFF`].
    fn backoff_limit(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.base_delay
            .saturating_mul(factor)
            .min(MAX_BACKOFF.max(self.base_delay))
    }
}

/// A `Retry-After` given in seconds. The HTTP-date form is not read: the API and its gateway
/// send seconds, and a date would depend on both clocks agreeing.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A number in `[0, 1)` that differs between calls. Jitter needs no more than that, so the
/// standard library's randomly keyed hasher serves instead of a random number crate.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    hasher.write_u32(nanos);
    // The top 53 bits fill an f64's mantissa exactly.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_up_to_a_limit() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff_limit(0), Duration::from_millis(500));
        assert_eq!(policy.backoff_limit(1), Duration::from_secs(1));
        assert_eq!(policy.backoff_limit(2), Duration::from_secs(2));
        assert_eq!(policy.backoff_limit(10), MAX_BACKOFF);
        assert_eq!(policy.backoff_limit(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn jittered_delays_stay_within_the_limit_and_vary() {
        let policy = RetryPolicy::default();
        let delays: Vec<Duration> = (0..50).map(|_| policy.delay(1, None)).collect();
        assert!(delays.iter().all(|delay| *delay <= Duration::from_secs(1)));
        assert!(
            delays.iter().any(|delay| *delay != delays[0]),
            "no jitter: {delays:?}"
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static(" 3 "));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&headers), None);
    }
}
