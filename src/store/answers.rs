//! Answers: each offer's `item_desc` body as received, and the one way every command and the
//! browser get a description ([`get_or_fetch`]).
//!
//! An offer in the store costs no API call; `refresh` fetches it again (one call) and keeps the
//! new answer; `offline` never calls the API and says so when the offer is missing. Only
//! successful answers are kept: an error is worth asking again. A store that fails (a full
//! disk, a broken file) never stops a fetch: the answer is still returned, and the failure is
//! logged.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::{from_millis, millis, Store, StoreError};
use crate::item_id::ItemId;
use crate::tmapi::{ApiError, Client, ItemDesc};

/// When the API may be called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Fetch even when the store has the offer (`--refresh`, `r` in the browser).
    pub refresh: bool,
    /// Never call the API (`--offline`).
    pub offline: bool,
}

/// A description and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The description.
    pub desc: ItemDesc,
    /// When the API gave this answer.
    pub fetched_at: SystemTime,
    /// It came from the store (no API call was made).
    pub stored: bool,
}

impl Answer {
    /// How old a stored answer is; `None` for one fetched just now.
    pub fn age(&self) -> Option<Duration> {
        self.stored.then(|| {
            SystemTime::now()
                .duration_since(self.fetched_at)
                .unwrap_or_default()
        })
    }
}

/// Why a description could not be had.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// Offline, and the store does not have the offer.
    #[error("offer {item} is not in the local store and offline mode makes no API call: run without --offline to fetch it")]
    NotStored {
        /// The offer.
        item: ItemId,
    },
    /// Offline, and the store could not be read.
    #[error("offline mode needs the local store, which failed: {0}")]
    Store(StoreError),
    /// The API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// The shape of a kept body: the API's envelope with the description in `data`.
#[derive(Deserialize)]
struct Envelope {
    data: ItemDesc,
}

impl Store {
    /// The kept answer for `item` from the API at `scope`: its description and when it was
    /// fetched. A kept body that no longer reads as a description counts as missing.
    pub fn stored_answer(
        &self,
        scope: &str,
        item: &ItemId,
    ) -> Result<Option<(ItemDesc, SystemTime)>, StoreError> {
        let row: Option<(String, i64)> = self.read(|connection| {
            use rusqlite::OptionalExtension;
            connection
                .query_row(
                    "SELECT body, fetched_at FROM answers WHERE scope = ?1 AND item_id = ?2",
                    (scope, item.as_str()),
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
        })?;
        Ok(row.and_then(
            |(body, fetched_at)| match serde_json::from_str::<Envelope>(&body) {
                Ok(envelope) => Some((envelope.data, from_millis(fetched_at))),
                Err(error) => {
                    tracing::warn!(%item, %error, "a kept answer no longer reads; fetching again");
                    None
                }
            },
        ))
    }

    /// Keeps `body` (the response exactly as received) as the answer for `item` from `scope`,
    /// replacing an older one.
    pub fn keep_answer(
        &self,
        scope: &str,
        item: &ItemId,
        body: &str,
        fetched_at: SystemTime,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            transaction
                .execute(
                    "INSERT INTO answers (scope, item_id, body, fetched_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (scope, item_id)
                     DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                    (scope, item.as_str(), body, millis(fetched_at)),
                )
                .map(drop)
                .map_err(|e| self.db_error(e))
        })
    }

    /// How many answers are kept for `scope`.
    pub fn answer_count(&self, scope: &str) -> Result<u64, StoreError> {
        let count: i64 = self.read(|connection| {
            connection.query_row(
                "SELECT COUNT(*) FROM answers WHERE scope = ?1",
                [scope],
                |row| row.get(0),
            )
        })?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// The description of `item` from the API at `scope`: from the store when it has the offer
/// and `policy` does not ask for a refresh, otherwise from one API call (whose answer is then
/// kept). With `policy.offline`, the API is never called.
///
/// Without a store (`None`), every call goes to the API, and offline mode finds nothing.
pub async fn get_or_fetch(
    store: Option<&Store>,
    client: &Client,
    scope: &str,
    item: &ItemId,
    policy: Policy,
) -> Result<Answer, AnswerError> {
    if !policy.refresh || policy.offline {
        let stored = match store {
            Some(store) => {
                let (store, scope, key) = (store.clone(), scope.to_string(), item.clone());
                blocking(move || store.stored_answer(&scope, &key)).await
            }
            None => Ok(None),
        };
        match stored {
            Ok(Some((desc, fetched_at))) => {
                return Ok(Answer {
                    desc,
                    fetched_at,
                    stored: true,
                })
            }
            Ok(None) if policy.offline => {
                return Err(AnswerError::NotStored { item: item.clone() })
            }
            Ok(None) => {}
            Err(error) if policy.offline => return Err(AnswerError::Store(error)),
            Err(error) => tracing::warn!(%item, %error, "could not read the local store"),
        }
    }

    let raw = client.item_desc_raw(item).await?;
    let fetched_at = SystemTime::now();
    if let Some(store) = store {
        let (store, scope, key) = (store.clone(), scope.to_string(), item.clone());
        let body = raw.body;
        if let Err(error) =
            blocking(move || store.keep_answer(&scope, &key, &body, fetched_at)).await
        {
            tracing::warn!(%item, %error, "could not keep the answer in the local store");
        }
    }
    Ok(Answer {
        desc: raw.desc,
        fetched_at,
        stored: false,
    })
}

/// Runs store work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| StoreError::TaskFailed)?
}

/// An age as people say it: "just now", "5 min ago", "3 h ago", "2 days ago".
pub fn describe_age(age: Duration) -> String {
    let seconds = age.as_secs();
    match seconds {
        0..=59 => "just now".to_string(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        86_400..=172_799 => "1 day ago".to_string(),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn item() -> ItemId {
        "622619146604".parse().unwrap()
    }

    #[test]
    fn a_kept_answer_reads_back_per_scope() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::under(dir.path())).unwrap();
        let body = r#"{"code":200,"msg":"success","data":{"item_id":622619146604,"detail_imgs":["https://a/1.jpg"],"detail_html":"<p>x</p>"}}"#;
        let when = from_millis(1_700_000_000_000);
        store
            .keep_answer("http://api", &item(), body, when)
            .unwrap();

        let (desc, fetched_at) = store.stored_answer("http://api", &item()).unwrap().unwrap();
        assert_eq!(desc.detail_imgs, ["https://a/1.jpg"]);
        assert_eq!(desc.detail_html, "<p>x</p>");
        assert_eq!(fetched_at, when);
        assert!(store
            .stored_answer(super::super::DEMO_SCOPE, &item())
            .unwrap()
            .is_none());

        let body_kept: String = store
            .read(|c| c.query_row("SELECT body FROM answers", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(body_kept, body, "kept byte for byte");
    }

    #[test]
    fn a_body_that_no_longer_reads_counts_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::under(dir.path())).unwrap();
        store
            .keep_answer("s", &item(), "not json", SystemTime::now())
            .unwrap();
        assert!(store.stored_answer("s", &item()).unwrap().is_none());
    }

    #[test]
    fn ages_read_like_speech() {
        assert_eq!(describe_age(Duration::from_secs(5)), "just now");
        assert_eq!(describe_age(Duration::from_secs(300)), "5 min ago");
        assert_eq!(describe_age(Duration::from_secs(3 * 3600 + 5)), "3 h ago");
        assert_eq!(describe_age(Duration::from_secs(86_400)), "1 day ago");
        assert_eq!(describe_age(Duration::from_secs(9 * 86_400)), "9 days ago");
    }
}
