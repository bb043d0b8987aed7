//! `descview download`: the pictures of many offers at once.
//!
//! Offers are read in the order given, a bounded number at a time. Each offer's description
//! comes from the store when it is there (no API call) or from the API under its own
//! concurrency limit (default 2: the API answers 503 beyond its concurrency limit); pictures
//! are fetched under a second limit (`--jobs`, default 8). Both limits halve on 503 and grow
//! back by one after a run of successes ([`AdaptiveLimit`]). A picture gets at most
//! [`RetrySettings::max_attempts`] requests, and the waits between them hold no slot.
//!
//! A run into a folder that already holds an earlier run's pictures fetches only what is
//! missing: a file counts as complete when the earlier manifest (or the store's picture facts)
//! says it was saved from the same URL with the same length it has now. Leftover `.part` files
//! are removed. An API error that no later call can escape (no token, a refused token, an
//! exhausted subscription) stops further calls: the remaining offers are reported as not
//! fetched instead of each paying for the same answer.
//!
//! Progress goes out as [`Event`]s; nothing here prints.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::archive;
use super::limit::AdaptiveLimit;
use super::manifest::{self, Previous, Record, Status, MANIFEST_FILE};
use super::{
    fetch_with_retries, file_stem, offer_dir, save_bytes, RetrySettings, SaveError, SavedPicture,
    PART_SUFFIX,
};
use crate::description;
use crate::item_id::ItemId;
use crate::media::Fetcher;
use crate::store::answers::{get_or_fetch, AnswerError, Policy};
use crate::store::{PictureFacts, Store};
use crate::tmapi::{ApiError, Client, ItemDesc};

/// How many failures the summary lists one by one; the manifest has them all.
const LISTED_FAILURES: usize = 20;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The output folder: offers go to `<out>/<item>/`, the manifest to `<out>/manifest.jsonl`.
    pub out: PathBuf,
    /// The most picture fetches at once (`--jobs`).
    pub jobs: usize,
    /// The most API calls at once.
    pub api_jobs: usize,
    /// Write one zip per offer instead of a folder.
    pub zip: bool,
    /// When the API may be called (`--refresh`, `--offline`).
    pub policy: Policy,
    /// Retries of each picture.
    pub retry: RetrySettings,
}

impl BatchOptions {
    /// Defaults: 8 picture fetches and 2 API calls at once, folders, stored answers used.
    pub fn new(out: PathBuf) -> BatchOptions {
        BatchOptions {
            out,
            jobs: 8,
            api_jobs: 2,
            zip: false,
            policy: Policy::default(),
            retry: RetrySettings::default(),
        }
    }
}

/// What a run uses: the API client, the picture fetcher, the store, and the store's scope for
/// this API base.
#[derive(Debug, Clone)]
pub struct BatchContext {
    /// The API client.
    pub client: Client,
    /// The picture fetcher.
    pub fetcher: Fetcher,
    /// The store; without one every offer costs an API call.
    pub store: Option<Store>,
    /// The scope answers are kept under (see [`crate::store::scope_for_base`]).
    pub scope: String,
}

/// What happened to one picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PictureOutcome {
    /// Downloaded and saved now.
    Saved {
        /// Its length.
        bytes: u64,
    },
    /// Complete from before; not fetched.
    Present {
        /// Its length.
        bytes: u64,
    },
    /// Could not be had.
    Failed {
        /// Why, in one line.
        error: String,
    },
}

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An offer's description was read: it lists `pictures`, of which `present` are complete
    /// from before.
    OfferStarted {
        /// The offer.
        item: ItemId,
        /// How many pictures its description lists.
        pictures: usize,
        /// How many of them need no fetch.
        present: usize,
    },
    /// A picture is done.
    PictureDone {
        /// The offer.
        item: ItemId,
        /// Its position, from 1.
        position: usize,
        /// What became of it.
        outcome: PictureOutcome,
    },
    /// An offer is done; `error` says why it failed, if it did.
    OfferDone {
        /// The offer.
        item: ItemId,
        /// Why the offer (or some of its pictures) failed.
        error: Option<String>,
    },
}

/// Where events go. Called from many tasks at once; must not block for long.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The output folder could not be created.
    #[error("could not create the output folder {}: {source}; check the path and permissions", path.display())]
    OutDir {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The manifest could not be read or written.
    #[error("could not use the manifest {}: {source}; check permissions and free space", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Offers asked for.
    pub offers: usize,
    /// Offers that failed, wholly or in part.
    pub offers_failed: usize,
    /// Pictures downloaded and saved in this run.
    pub pictures_saved: usize,
    /// Pictures complete from before.
    pub pictures_present: usize,
    /// Pictures that could not be had.
    pub pictures_failed: usize,
    /// Bytes saved in this run.
    pub bytes_saved: u64,
    /// API calls made (each possibly retried by the client).
    pub api_calls: usize,
    /// How long the run took.
    pub elapsed: Duration,
    /// The first failures, one line each (`ITEM: why` or `ITEM picture N: why`).
    pub failures: Vec<String>,
    /// The manifest written.
    pub manifest: PathBuf,
}

impl Summary {
    /// Whether anything failed (the command then exits with status 1).
    pub fn failed(&self) -> bool {
        self.offers_failed > 0 || self.pictures_failed > 0
    }
}

/// Downloads the pictures of `items` (duplicates are done once) into `options.out`.
pub async fn run(
    context: &BatchContext,
    items: Vec<ItemId>,
    options: &BatchOptions,
    events: EventSink,
) -> Result<Summary, BatchError> {
    let started = Instant::now();
    std::fs::create_dir_all(&options.out).map_err(|source| BatchError::OutDir {
        path: options.out.clone(),
        source,
    })?;
    let manifest_path = options.out.join(MANIFEST_FILE);
    let manifest_error = |source| BatchError::Manifest {
        path: manifest_path.clone(),
        source,
    };
    let previous = manifest::read_previous(&manifest_path).map_err(manifest_error)?;
    let writer = manifest::Writer::create(&manifest_path).map_err(manifest_error)?;

    let shared = Arc::new(Shared {
        context: context.clone(),
        options: options.clone(),
        previous,
        manifest: writer,
        api_limit: AdaptiveLimit::new(options.api_jobs),
        picture_limit: AdaptiveLimit::new(options.jobs),
        events,
        api_stopped: Mutex::new(None),
        api_calls: AtomicUsize::new(0),
    });

    // Enough offers in flight to keep both limits busy (answers arrive while earlier offers'
    // pictures download), few enough that thousands of IDs never become thousands of tasks.
    let in_flight = Arc::new(Semaphore::new(
        (options.jobs * 2).max(options.api_jobs * 4).max(8),
    ));
    let mut seen = HashSet::new();
    let mut tasks = JoinSet::new();
    let mut reports = Vec::new();
    for item in items {
        if !seen.insert(item.clone()) {
            continue;
        }
        let Ok(slot) = Arc::clone(&in_flight).acquire_owned().await else {
            break;
        };
        let shared = Arc::clone(&shared);
        tasks.spawn(async move {
            let report = process_offer(shared, item).await;
            drop(slot);
            report
        });
        while let Some(done) = tasks.try_join_next() {
            reports.extend(done.ok());
        }
    }
    while let Some(done) = tasks.join_next().await {
        reports.extend(done.ok());
    }

    let mut summary = Summary {
        offers: seen.len(),
        api_calls: shared.api_calls.load(Ordering::Relaxed),
        manifest: manifest_path,
        ..Summary::default()
    };
    // An offer whose task panicked has no report; it counts as failed.
    summary.offers_failed = seen.len().saturating_sub(reports.len());
    for report in reports {
        summary.pictures_saved += report.saved;
        summary.pictures_present += report.present;
        summary.pictures_failed += report.failed;
        summary.bytes_saved += report.bytes;
        if report.error.is_some() || report.failed > 0 {
            summary.offers_failed += 1;
        }
        for failure in report.failures {
            if summary.failures.len() < LISTED_FAILURES {
                summary.failures.push(failure);
            }
        }
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// What every offer's task shares.
struct Shared {
    context: BatchContext,
    options: BatchOptions,
    previous: Previous,
    manifest: manifest::Writer,
    api_limit: Arc<AdaptiveLimit>,
    picture_limit: Arc<AdaptiveLimit>,
    events: EventSink,
    /// Set by the first API error that every later call would meet too.
    api_stopped: Mutex<Option<String>>,
    api_calls: AtomicUsize,
}

/// What became of one offer.
#[derive(Debug, Default)]
struct OfferReport {
    error: Option<String>,
    saved: usize,
    present: usize,
    failed: usize,
    bytes: u64,
    failures: Vec<String>,
}

/// A picture of an offer and the complete copy found on disk, if any.
struct Planned {
    position: usize,
    url: String,
    complete: Option<(PathBuf, u64)>,
}

async fn process_offer(shared: Arc<Shared>, item: ItemId) -> OfferReport {
    let mut report = OfferReport::default();
    if shared.options.zip {
        if let Some(present) = shared.archived(&item) {
            return present;
        }
    }

    let desc = match shared.description(&item).await {
        Ok(desc) => desc,
        Err(error) => {
            shared.emit(&Event::OfferStarted {
                item: item.clone(),
                pictures: 0,
                present: 0,
            });
            shared.record(&Record {
                item: item.to_string(),
                picture: None,
                url: None,
                file: None,
                bytes: None,
                status: Status::Failed,
                entry: None,
                error: Some(error.clone()),
            });
            report.failures.push(format!("{item}: {error}"));
            report.error = Some(error);
            shared.finish_offer(&item, &report);
            return report;
        }
    };

    let urls: Vec<String> = description::extract(&desc.detail_imgs, &desc.detail_html)
        .pictures
        .into_iter()
        .map(|picture| picture.url)
        .collect();
    let total = urls.len();
    let plan = {
        let shared = Arc::clone(&shared);
        let item = item.clone();
        tokio::task::spawn_blocking(move || shared.plan(&item, urls))
            .await
            .unwrap_or_default()
    };
    let present_count = plan.iter().filter(|p| p.complete.is_some()).count();
    shared.emit(&Event::OfferStarted {
        item: item.clone(),
        pictures: total,
        present: present_count,
    });
    if total == 0 {
        shared.record(&Record {
            item: item.to_string(),
            picture: None,
            url: None,
            file: None,
            bytes: None,
            status: Status::Empty,
            entry: None,
            error: None,
        });
        shared.finish_offer(&item, &report);
        return report;
    }

    // Records of this offer's pictures; with `--zip` they are written once the archive is.
    let mut records: Vec<Record> = Vec::with_capacity(total);
    let mut files: Vec<(usize, PathBuf)> = Vec::with_capacity(total);
    let mut fetches = JoinSet::new();
    for planned in plan {
        match planned.complete.clone() {
            Some((path, bytes)) => {
                report.present += 1;
                files.push((planned.position, path.clone()));
                let record = shared.picture_record(&item, &planned, &path, bytes, Status::Present);
                shared.keep_record(&mut records, record);
                shared.emit(&Event::PictureDone {
                    item: item.clone(),
                    position: planned.position,
                    outcome: PictureOutcome::Present { bytes },
                });
            }
            None => {
                let shared = Arc::clone(&shared);
                let item = item.clone();
                fetches.spawn(async move {
                    let result =
                        fetch_and_save(&shared, &item, planned.position, total, &planned.url).await;
                    (planned, result)
                });
            }
        }
    }

    while let Some(done) = fetches.join_next().await {
        let Ok((planned, result)) = done else {
            report.failed += 1;
            continue;
        };
        let outcome = match result {
            Ok(saved) => {
                report.saved += 1;
                report.bytes += saved.bytes;
                files.push((planned.position, saved.path.clone()));
                let record =
                    shared.picture_record(&item, &planned, &saved.path, saved.bytes, Status::Saved);
                shared.keep_record(&mut records, record);
                PictureOutcome::Saved { bytes: saved.bytes }
            }
            Err(error) => {
                let error = crate::text::sanitize(&error.to_string()).into_owned();
                report.failed += 1;
                report
                    .failures
                    .push(format!("{item} picture {}: {error}", planned.position));
                shared.keep_record(
                    &mut records,
                    Record {
                        item: item.to_string(),
                        picture: Some(planned.position),
                        url: Some(planned.url.clone()),
                        file: None,
                        bytes: None,
                        status: Status::Failed,
                        entry: None,
                        error: Some(error.clone()),
                    },
                );
                PictureOutcome::Failed { error }
            }
        };
        shared.emit(&Event::PictureDone {
            item: item.clone(),
            position: planned.position,
            outcome,
        });
    }

    if shared.options.zip {
        shared.zip_offer(&item, &mut report, records, files).await;
    }
    shared.finish_offer(&item, &report);
    report
}

/// Fetches one picture (from the picture cache when it is there), saves it, and records its
/// facts in the store.
async fn fetch_and_save(
    shared: &Shared,
    item: &ItemId,
    position: usize,
    total: usize,
    url: &str,
) -> Result<SavedPicture, SaveError> {
    let cached = match &shared.context.store {
        Some(store) => {
            let (cache, key) = (store.picture_cache(), url.to_string());
            tokio::task::spawn_blocking(move || cache.get(&key))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    let bytes = match cached {
        Some(bytes) => bytes,
        None => {
            fetch_with_retries(
                &shared.context.fetcher,
                url,
                Some(&shared.picture_limit),
                &shared.options.retry,
            )
            .await?
            .bytes
        }
    };

    let out = shared.options.out.clone();
    let store = shared.context.store.clone();
    let (item, url) = (item.clone(), url.to_string());
    tokio::task::spawn_blocking(move || {
        let saved = save_bytes(&out, &item, position, total, &bytes)?;
        if let Some(store) = store {
            let mut facts = PictureFacts::from_bytes(&url, &bytes);
            facts.saved_path = Some(saved.path.clone());
            if let Err(error) = store.record_pictures(&[facts]) {
                tracing::warn!(%error, "could not record a saved picture's facts");
            }
        }
        Ok(saved)
    })
    .await
    .map_err(|_| SaveError::TaskFailed)?
}

impl Shared {
    fn emit(&self, event: &Event) {
        (self.events)(event);
    }

    /// Writes a manifest line; a manifest that cannot be written is logged, not fatal: the
    /// pictures themselves are saved.
    fn record(&self, record: &Record) {
        if let Err(error) = self.manifest.write(record) {
            tracing::warn!(%error, "could not write a manifest line");
        }
    }

    /// Writes the record now, or keeps it for after the archive with `--zip`.
    fn keep_record(&self, records: &mut Vec<Record>, record: Record) {
        if self.options.zip {
            records.push(record);
        } else {
            self.record(&record);
        }
    }

    fn finish_offer(&self, item: &ItemId, report: &OfferReport) {
        let error = report
            .error
            .clone()
            .or_else(|| (report.failed > 0).then(|| format!("{} pictures failed", report.failed)));
        self.emit(&Event::OfferDone {
            item: item.clone(),
            error,
        });
    }

    fn picture_record(
        &self,
        item: &ItemId,
        planned: &Planned,
        path: &Path,
        bytes: u64,
        status: Status,
    ) -> Record {
        Record {
            item: item.to_string(),
            picture: Some(planned.position),
            url: Some(planned.url.clone()),
            file: Some(relative(&self.options.out, path)),
            bytes: Some(bytes),
            status,
            entry: None,
            error: None,
        }
    }

    /// The offer's description: from the store without an API call when it is there (unless
    /// refreshing), otherwise from one API call under the API limit.
    async fn description(&self, item: &ItemId) -> Result<ItemDesc, String> {
        let context = &self.context;
        let store = context.store.as_ref();
        let policy = self.options.policy;
        if !policy.refresh || policy.offline {
            let stored_only = Policy {
                refresh: false,
                offline: true,
            };
            match get_or_fetch(store, &context.client, &context.scope, item, stored_only).await {
                Ok(answer) => return Ok(answer.desc),
                Err(AnswerError::NotStored { .. } | AnswerError::Store(_)) if !policy.offline => {}
                Err(error) => return Err(error.to_string()),
            }
        }

        let permit = self.api_limit.acquire().await;
        if let Some(reason) = self.api_stopped() {
            return Err(format!(
                "not fetched, because an earlier call failed: {reason}"
            ));
        }
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        let fetch = Policy {
            refresh: true,
            offline: false,
        };
        let result = get_or_fetch(store, &context.client, &context.scope, item, fetch).await;
        match &result {
            Ok(_) => permit.succeeded(),
            Err(AnswerError::Api(ApiError::TooManyRequests)) => permit.overloaded(),
            Err(AnswerError::Api(error)) if stops_every_call(error) => {
                let mut stopped = self
                    .api_stopped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                stopped.get_or_insert_with(|| error.to_string());
            }
            Err(_) => {}
        }
        result
            .map(|answer| answer.desc)
            .map_err(|error| error.to_string())
    }

    fn api_stopped(&self) -> Option<String> {
        self.api_stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Finds each picture's complete copy from an earlier run, and removes `.part` leftovers.
    /// Blocking (directory listing, store reads).
    fn plan(&self, item: &ItemId, urls: Vec<String>) -> Vec<Planned> {
        let total = urls.len();
        let on_disk = files_on_disk(&offer_dir(&self.options.out, item));
        urls.into_iter()
            .enumerate()
            .map(|(index, url)| {
                let position = index + 1;
                let complete = on_disk
                    .get(&file_stem(position, total))
                    .filter(|(path, length)| {
                        self.known_complete(item, position, &url, path, *length)
                    })
                    .cloned();
                Planned {
                    position,
                    url,
                    complete,
                }
            })
            .collect()
    }

    /// Whether the file at `path`, `length` bytes long, is known to be the whole picture at
    /// `url`: the earlier manifest or the store's facts say it was saved there from that URL
    /// with that length.
    fn known_complete(
        &self,
        item: &ItemId,
        position: usize,
        url: &str,
        path: &Path,
        length: u64,
    ) -> bool {
        let relative_path = relative(&self.options.out, path);
        let in_manifest = self
            .previous
            .get(&(item.to_string(), position))
            .is_some_and(|record| {
                record.url.as_deref() == Some(url)
                    && record.file.as_deref() == Some(relative_path.as_str())
                    && record.bytes == Some(length)
            });
        in_manifest
            || self.context.store.as_ref().is_some_and(|store| {
                store
                    .picture_facts(url)
                    .ok()
                    .flatten()
                    .is_some_and(|facts| {
                        facts.saved_path.as_deref() == Some(path) && facts.bytes == Some(length)
                    })
            })
    }

    /// With `--zip`, an offer whose archive exists is complete: its entries are recorded as
    /// present and nothing is fetched.
    fn archived(&self, item: &ItemId) -> Option<OfferReport> {
        let path = archive::archive_path(&self.options.out, item);
        let entries = archive::read_entries(&path).ok()?;
        let mut report = OfferReport::default();
        self.emit(&Event::OfferStarted {
            item: item.clone(),
            pictures: entries.len(),
            present: entries.len(),
        });
        let file = relative(&self.options.out, &path);
        for (name, bytes) in entries {
            let position = name
                .split('.')
                .next()
                .and_then(|stem| stem.parse::<usize>().ok());
            let url = position
                .and_then(|p| self.previous.get(&(item.to_string(), p)))
                .and_then(|record| record.url.clone());
            report.present += 1;
            self.record(&Record {
                item: item.to_string(),
                picture: position,
                url,
                file: Some(file.clone()),
                bytes: Some(bytes),
                status: Status::Present,
                entry: Some(name),
                error: None,
            });
            if let Some(position) = position {
                self.emit(&Event::PictureDone {
                    item: item.clone(),
                    position,
                    outcome: PictureOutcome::Present { bytes },
                });
            }
        }
        self.finish_offer(item, &report);
        Some(report)
    }

    /// With `--zip`: when every picture is saved, writes the archive, records its entries and
    /// removes the loose files; otherwise records the loose files, which the next run resumes.
    async fn zip_offer(
        &self,
        item: &ItemId,
        report: &mut OfferReport,
        mut records: Vec<Record>,
        mut files: Vec<(usize, PathBuf)>,
    ) {
        if report.failed > 0 {
            for record in &records {
                self.record(record);
            }
            return;
        }
        files.sort_by_key(|(position, _)| *position);
        let entries: Vec<(String, PathBuf)> = files
            .iter()
            .filter_map(|(_, path)| {
                let name = path.file_name()?.to_string_lossy().into_owned();
                Some((name, path.clone()))
            })
            .collect();
        let path = archive::archive_path(&self.options.out, item);
        let dir = offer_dir(&self.options.out, item);
        let (archive_at, to_zip) = (path.clone(), entries.clone());
        let written = tokio::task::spawn_blocking(move || {
            archive::write_archive(&archive_at, &to_zip)?;
            for (_, file) in &to_zip {
                let _ = std::fs::remove_file(file);
            }
            // Only removed when empty: files this run did not write stay.
            let _ = std::fs::remove_dir(&dir);
            Ok::<_, SaveError>(())
        })
        .await
        .map_err(|_| SaveError::TaskFailed)
        .and_then(|result| result);

        match written {
            Ok(()) => {
                let file = relative(&self.options.out, &path);
                for record in &mut records {
                    record.entry = record
                        .file
                        .as_deref()
                        .and_then(|loose| loose.rsplit('/').next())
                        .map(str::to_string);
                    record.file = Some(file.clone());
                    self.record(record);
                }
            }
            Err(error) => {
                for record in &records {
                    self.record(record);
                }
                let error = error.to_string();
                report.failures.push(format!("{item}: {error}"));
                report.error = Some(error);
            }
        }
    }
}

/// Errors that every later call would meet too, so that making them is only cost.
fn stops_every_call(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::NoToken
            | ApiError::TokenNotSendable
            | ApiError::InvalidBase
            | ApiError::TokenRefused { .. }
            | ApiError::SubscriptionExhausted
            | ApiError::EndpointNotFound { .. }
    )
}

/// The finished files in an offer's folder by stem (`01` for `01.jpg`), with their lengths;
/// `.part` files found are removed (a stopped run left them).
fn files_on_disk(dir: &Path) -> HashMap<String, (PathBuf, u64)> {
    let mut files = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.ends_with(PART_SUFFIX) {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if let (true, Some((stem, _))) = (meta.is_file(), name.split_once('.')) {
            files.insert(stem.to_string(), (path, meta.len()));
        }
    }
    files
}

/// `path` relative to `out`, with `/` between parts, for the manifest.
fn relative(out: &Path, path: &Path) -> String {
    let inside = path.strip_prefix(out).unwrap_or(path);
    inside
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_are_relative_with_slashes() {
        let out = Path::new("/tmp/out");
        assert_eq!(relative(out, &out.join("1/01.jpg")), "1/01.jpg");
        assert_eq!(relative(out, &out.join("1.zip")), "1.zip");
    }

    #[test]
    fn only_hopeless_errors_stop_the_calls() {
        assert!(stops_every_call(&ApiError::SubscriptionExhausted));
        assert!(stops_every_call(&ApiError::NoToken));
        assert!(!stops_every_call(&ApiError::TooManyRequests));
    }

    #[test]
    fn leftover_parts_are_removed_and_finished_files_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("01.jpg"), b"abc").unwrap();
        std::fs::write(dir.path().join("02.png.part"), b"ab").unwrap();
        let files = files_on_disk(dir.path());
        assert_eq!(files.len(), 1);
        assert_eq!(files.get("01").map(|(_, len)| *len), Some(3));
        assert!(!dir.path().join("02.png.part").exists());
    }
}
