//! Saving pictures to disk: one at a time for the browser, and many offers at once for
//! `descview download`.
//!
//! Every saved picture goes to `<out>/<item>/NN.<ext>`: the folder is the offer's digits, `NN`
//! is the picture's position in the description's list (from 1, at least two digits), and the
//! extension comes from the format sniffed from the bytes. The URL never names a file, so
//! whatever a URL holds (`../`, a device name such as `con`, 300 characters, a newline) cannot
//! reach the file system. Each file is written as `NN.<ext>.part` and renamed when complete,
//! so a name without `.part` always holds a whole picture.
//!
//! - [`save_picture`] and [`save_bytes`]: one picture (the browser's `d`, each of `D`'s)
//! - [`batch`]: many offers, with bounded and adaptive concurrency, resume, a manifest and zips
//! - [`limit`]: the adaptive concurrency limit
//! - [`progress`]: progress bars on a terminal, plain lines elsewhere
//! - [`synthetic`]: a large made-up catalogue for measuring the downloader
//!
//! Nothing here prints (progress goes through [`batch::Event`]s) or names a file after a URL.

pub mod archive;
pub mod batch;
pub mod limit;
pub mod manifest;
pub mod progress;
pub mod synthetic;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::item_id::ItemId;
use crate::media::{sniff, Fetched, Fetcher, Format, MediaError};
use crate::store::{PictureFacts, Store};

pub use batch::{run, BatchContext, BatchError, BatchOptions, Event, PictureOutcome, Summary};
pub use limit::{AdaptiveLimit, Permit};

/// The suffix of a file still being written.
pub const PART_SUFFIX: &str = ".part";

/// Why a picture could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The download failed (after the retries that could help).
    #[error(transparent)]
    Fetch(#[from] MediaError),
    /// Every try ended before the whole picture arrived.
    #[error("the picture kept arriving cut short; retry later")]
    Truncated,
    /// The server sent something that is not a picture (a block or error page).
    #[error("not a picture: the server sent {format}; open the URL in a browser to see why")]
    NotAPicture {
        /// What it sent.
        format: Format,
    },
    /// The position is not in the offer's list.
    #[error("picture {position} is not in the offer's list of {total}")]
    BadPosition {
        /// The position asked for, from 1.
        position: usize,
        /// How many pictures the list has.
        total: usize,
    },
    /// The file could not be written.
    #[error("could not write {}: {source}; check free space and permissions", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A background task stopped before it finished.
    #[error("saving stopped unexpectedly; retry")]
    TaskFailed,
}

/// A picture saved to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPicture {
    /// Where it is.
    pub path: PathBuf,
    /// Its length.
    pub bytes: u64,
    /// Its real format.
    pub format: Format,
    /// The bytes came from the picture cache, not the network.
    pub from_cache: bool,
}

/// How often and how patiently a picture is fetched again after a failure that a retry can
/// help (503, other 5xx, timeouts, broken connections, a body cut short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Requests per picture in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The first wait's upper bound; each retry doubles it, with full jitter.
    pub base_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Default for RetrySettings {
    /// Four requests at most, waits from about a quarter second up to four seconds.
    fn default() -> Self {
        RetrySettings {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

impl RetrySettings {
    /// The wait before retry number `retry` (0 for the first): a random part of
    /// `base_delay * 2^retry`, at most `max_delay`. The randomness spreads out the retries of
    /// many pictures that failed together.
    fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        ceiling.mul_f64(random_fraction())
    }
}

/// The file name without extension for position `position` (from 1) of `total`: at least two
/// digits, more when the list is longer, so names sort in list order.
pub fn file_stem(position: usize, total: usize) -> String {
    let width = total.max(position).to_string().len().max(2);
    format!("{position:0width$}")
}

/// The offer's folder inside `out`: its digits, which [`ItemId`] guarantees are all there is.
pub fn offer_dir(out: &Path, item: &ItemId) -> PathBuf {
    out.join(item.as_str())
}

/// Where picture `position` of `total` of `item` goes in `out`, for the `format` of its bytes.
pub fn picture_path(
    out: &Path,
    item: &ItemId,
    position: usize,
    total: usize,
    format: Format,
) -> PathBuf {
    offer_dir(out, item).join(format!(
        "{}.{}",
        file_stem(position, total),
        format.extension()
    ))
}

/// Saves `bytes` as picture `position` (from 1) of `total` of `item` under `out`, replacing a
/// copy saved before (also one with another extension). Blocking: run it in `spawn_blocking`
/// from async code.
pub fn save_bytes(
    out: &Path,
    item: &ItemId,
    position: usize,
    total: usize,
    bytes: &[u8],
) -> Result<SavedPicture, SaveError> {
    if position == 0 || position > total {
        return Err(SaveError::BadPosition { position, total });
    }
    let format = sniff(bytes);
    if !format.is_picture() {
        return Err(SaveError::NotAPicture { format });
    }
    let path = picture_path(out, item, position, total, format);
    let dir = offer_dir(out, item);
    std::fs::create_dir_all(&dir).map_err(|source| SaveError::Write {
        path: dir.clone(),
        source,
    })?;
    write_whole(&path, bytes)?;
    remove_other_copies(&dir, &file_stem(position, total), &path);
    Ok(SavedPicture {
        path,
        bytes: bytes.len() as u64,
        format,
        from_cache: false,
    })
}

/// Writes `bytes` to `path` through `path.part`, so that `path` only ever holds all of them.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), SaveError> {
    let part = part_path(path);
    let write_error = |source| SaveError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&part, bytes).map_err(write_error)?;
    std::fs::rename(&part, path).map_err(|source| {
        let _ = std::fs::remove_file(&part);
        write_error(source)
    })
}

/// `path` with `.part` appended.
pub(crate) fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(PART_SUFFIX);
    PathBuf::from(name)
}

/// Removes `stem.*` files in `dir` other than `keep`: a copy saved earlier in another format,
/// or a `.part` left by a stopped run.
fn remove_other_copies(dir: &Path, stem: &str, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{stem}.");
    for entry in entries.flatten() {
        let path = entry.path();
        let is_copy = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(&prefix));
        if is_copy && path != keep {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An offer list as people keep one (`--from FILE`): one offer ID or link per line; blank
/// lines and lines starting with `#` are skipped. Returns the offers, and for each line that
/// is not an offer its number (from 1) and why.
pub fn parse_item_list(text: &str) -> (Vec<ItemId>, Vec<(usize, String)>) {
    let mut items = Vec::new();
    let mut rejected = Vec::new();
    // Notepad and spreadsheets start the files they save with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.parse::<ItemId>() {
            Ok(item) => items.push(item),
            Err(error) => rejected.push((index + 1, error.to_string())),
        }
    }
    (items, rejected)
}

/// Saves picture `position` (from 1) of `total` of `item`, at `url`, under `out`: from the
/// picture cache when `store` has it there, otherwise fetched (with retries; see
/// [`RetrySettings`]). Records where it was saved in the store. This is what the browser's
/// `d` runs, and `D` for each picture.
pub async fn save_picture(
    fetcher: &Fetcher,
    store: Option<&Store>,
    out: &Path,
    item: &ItemId,
    position: usize,
    total: usize,
    url: &str,
) -> Result<SavedPicture, SaveError> {
    let cached = match store {
        Some(store) => {
            let cache = store.picture_cache();
            let key = url.to_string();
            tokio::task::spawn_blocking(move || cache.get(&key))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    let from_cache = cached.is_some();
    let bytes = match cached {
        Some(bytes) => bytes,
        None => {
            fetch_with_retries(fetcher, url, None, &RetrySettings::default())
                .await?
                .bytes
        }
    };

    let (out, item_owned, task_bytes) = (out.to_path_buf(), item.clone(), bytes.clone());
    let mut saved = tokio::task::spawn_blocking(move || {
        save_bytes(&out, &item_owned, position, total, &task_bytes)
    })
    .await
    .map_err(|_| SaveError::TaskFailed)??;
    saved.from_cache = from_cache;

    if let Some(store) = store {
        remember(store, url, &bytes, &saved, !from_cache).await;
    }
    Ok(saved)
}

/// Records a saved picture's facts, and keeps its bytes in the picture cache when they were
/// fetched; failures are only logged (the picture is saved either way).
async fn remember(store: &Store, url: &str, bytes: &Bytes, saved: &SavedPicture, cache: bool) {
    let mut facts = PictureFacts::from_bytes(url, bytes);
    facts.saved_path = Some(saved.path.clone());
    let (store, url, bytes, format) = (store.clone(), url.to_string(), bytes.clone(), saved.format);
    let done = tokio::task::spawn_blocking(move || {
        store.record_pictures(&[facts])?;
        if cache {
            store.picture_cache().put(&url, &bytes, format)?;
        }
        Ok::<_, crate::store::StoreError>(())
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "could not record a saved picture"),
        Err(_) => tracing::warn!("recording a saved picture stopped unexpectedly"),
    }
}

/// What a failed fetch says about trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// The server is overloaded (503, 429): slow down, then try again.
    Overloaded,
    /// A passing fault (another 5xx, a timeout, a broken connection): try again.
    Transient,
    /// Trying again cannot help (404, a refused URL, a picture over the size cap).
    Never,
}

fn classify(error: &MediaError) -> Retry {
    match error {
        MediaError::Http {
            status: 503 | 429, ..
        } => Retry::Overloaded,
        MediaError::Http { status, .. } if *status >= 500 || *status == 408 => Retry::Transient,
        MediaError::Timeout { .. }
        | MediaError::Connect { .. }
        | MediaError::Read { .. }
        | MediaError::Empty { .. } => Retry::Transient,
        _ => Retry::Never,
    }
}

/// Fetches `url`, trying again where that can help, at most `retry.max_attempts` requests in
/// all. With a `limit`, each request holds one of its slots (not the waits between them) and
/// reports overload and success to it. A body cut short counts as a failure.
pub(crate) async fn fetch_with_retries(
    fetcher: &Fetcher,
    url: &str,
    limit: Option<&Arc<AdaptiveLimit>>,
    retry: &RetrySettings,
) -> Result<Fetched, SaveError> {
    let attempts = retry.max_attempts.max(1);
    let mut last_error = SaveError::Truncated;
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(retry.delay(attempt - 1)).await;
        }
        let permit = match limit {
            Some(limit) => Some(limit.acquire().await),
            None => None,
        };
        let outcome = fetcher.fetch(url).await;
        let verdict = match &outcome {
            Ok(fetched) if !fetched.truncated => None,
            Ok(_) => Some(Retry::Transient),
            Err(error) => Some(classify(error)),
        };
        if let Some(permit) = &permit {
            match verdict {
                None => permit.succeeded(),
                Some(Retry::Overloaded) => permit.overloaded(),
                Some(_) => {}
            }
        }
        drop(permit);

        match (outcome, verdict) {
            (Ok(fetched), None) => return Ok(fetched),
            (Err(error), Some(Retry::Never)) => return Err(SaveError::Fetch(error)),
            (Err(error), _) => last_error = SaveError::Fetch(error),
            (Ok(_), _) => last_error = SaveError::Truncated,
        }
    }
    Err(last_error)
}

/// A number in `[0, 1)` that differs between calls; jitter needs no more, so the standard
/// library's randomly keyed hasher serves instead of a random number crate.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    // The top 53 bits fill an f64's mantissa exactly.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> ItemId {
        "622619146604".parse().unwrap()
    }

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];

    #[test]
    fn item_lists_skip_blanks_and_comments_and_name_bad_lines() {
        let text = "# my offers\n622619146604\n\n  https://detail.1688.com/offer/652702302959.html \nnot an id\n";
        let (items, rejected) = parse_item_list(text);
        let ids: Vec<&str> = items.iter().map(ItemId::as_str).collect();
        assert_eq!(ids, ["622619146604", "652702302959"]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].0, 5);
    }

    #[test]
    fn stems_have_at_least_two_digits_and_sort_in_list_order() {
        assert_eq!(file_stem(1, 15), "01");
        assert_eq!(file_stem(15, 15), "15");
        assert_eq!(file_stem(7, 120), "007");
        assert_eq!(file_stem(120, 120), "120");
        assert_eq!(file_stem(3, 1), "03");
    }

    #[test]
    fn saving_names_the_file_by_position_and_real_format() {
        let out = tempfile::tempdir().unwrap();
        let saved = save_bytes(out.path(), &item(), 2, 15, JPEG).unwrap();
        assert_eq!(saved.path, out.path().join("622619146604/02.jpg"));
        assert_eq!(std::fs::read(&saved.path).unwrap(), JPEG);
        assert_eq!(saved.format, Format::Jpeg);

        // Saved again in another format: the old copy goes, no `.part` stays.
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        let again = save_bytes(out.path(), &item(), 2, 15, gif).unwrap();
        assert_eq!(again.path, out.path().join("622619146604/02.gif"));
        let names: Vec<String> = std::fs::read_dir(out.path().join("622619146604"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["02.gif"]);
    }

    #[test]
    fn pages_and_bad_positions_are_refused() {
        let out = tempfile::tempdir().unwrap();
        let error = save_bytes(out.path(), &item(), 1, 1, b"<!DOCTYPE html><html>").unwrap_err();
        assert!(
            matches!(
                error,
                SaveError::NotAPicture {
                    format: Format::Html
                }
            ),
            "{error}"
        );
        assert!(matches!(
            save_bytes(out.path(), &item(), 0, 3, JPEG),
            Err(SaveError::BadPosition { .. })
        ));
        assert!(matches!(
            save_bytes(out.path(), &item(), 4, 3, JPEG),
            Err(SaveError::BadPosition { .. })
        ));
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }

    #[test]
    fn retry_waits_grow_and_stay_under_the_cap() {
        let retry = RetrySettings::default();
        for n in 0..10 {
            let ceiling = (retry.base_delay * 2u32.pow(n)).min(retry.max_delay);
            assert!(retry.delay(n) <= ceiling);
        }
    }

    #[test]
    fn only_faults_that_pass_are_retried() {
        let http = |status| MediaError::Http {
            host: "h".into(),
            status,
        };
        assert_eq!(classify(&http(503)), Retry::Overloaded);
        assert_eq!(classify(&http(429)), Retry::Overloaded);
        assert_eq!(classify(&http(502)), Retry::Transient);
        assert_eq!(classify(&http(404)), Retry::Never);
        assert_eq!(classify(&MediaError::InvalidUrl), Retry::Never);
    }
}
