//! The API client as the fault tests drive it: the library's defaults with waits short
//! enough for a test run, and calls that cannot hang the suite.

#![allow(dead_code)]

use std::time::Duration;

use descview::item_id::ItemId;
use descview::tmapi::{ApiError, Client, ClientConfig, ItemDesc, Token};

/// Longer than any call here should take, short enough that a hang fails the run.
pub const DOES_NOT_HANG: Duration = Duration::from_secs(30);

pub fn item(digits: &str) -> ItemId {
    digits.parse().expect("a valid offer id")
}

/// The defaults with short waits: a 10 ms backoff base, `Retry-After` honoured up to 2 s,
/// 5 s per request and 10 s for the whole call.
pub fn quick_config(base: url::Url, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(base, Some(Token::new(token)));
    config.timeout = Duration::from_secs(5);
    config.deadline = Duration::from_secs(10);
    config.connect_timeout = Duration::from_secs(2);
    config.retry.base_delay = Duration::from_millis(10);
    config.retry.retry_after_cap = Duration::from_secs(2);
    config
}

/// One `item_desc` call with `config`, bounded by [`DOES_NOT_HANG`].
pub async fn call(config: ClientConfig, id: &str) -> Result<ItemDesc, ApiError> {
    let client = Client::new(config).expect("the client builds");
    tokio::time::timeout(DOES_NOT_HANG, client.item_desc(&item(id)))
        .await
        .expect("the call ends")
}
