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
use crate::tmapi::{ApiError, Client, ItemDesc, RetryPolicy};

/// How many requests an offer's description gets while the API keeps answering 503. More than
/// for other passing faults: the limit halves after each 503, so a later request is ever more
/// likely to get through, and the API's documentation gives 503 only for concurrency.
const OVERLOADED_ATTEMPTS: u32 = 6;

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
    /// Another download is writing into the same folder.
    #[error("another descview download is writing into {}; wait for it to finish, or give this one another --out", path.display())]
    Busy {
        /// The folder.
        path: PathBuf,
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

/// Takes the output folder for this run: an advisory lock on the folder itself, which the
/// system drops when the process ends however it ends, so a killed run never leaves the
/// folder locked. Where folders cannot be opened as files (Windows), runs are not guarded.
fn lock_folder(out: &Path) -> Result<Option<std::fs::File>, BatchError> {
    let Ok(folder) = std::fs::File::open(out) else {
        return Ok(None);
    };
    match folder.try_lock() {
        Ok(()) => Ok(Some(folder)),
        Err(std::fs::TryLockError::WouldBlock) => Err(BatchError::Busy {
            path: out.to_path_buf(),
        }),
        // A file system without locks: go on unguarded, as before.
        Err(std::fs::TryLockError::Error(error)) => {
            tracing::warn!(%error, "could not lock the output folder");
            Ok(None)
        }
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
    // Held until the run ends: two runs into one folder would write the same `.part` files
    // and replace each other's manifest.
    let _folder_lock = lock_folder(&options.out)?;
    let manifest_path = options.out.join(MANIFEST_FILE);
    let manifest_error = |source| BatchError::Manifest {
        path: manifest_path.clone(),
        source,
    };
    let previous = manifest::read_previous(&manifest_path).map_err(manifest_error)?;
    let writer = manifest::Writer::create(&manifest_path).map_err(manifest_error)?;

    let api_retry = context.client.config().retry;
    let mut single_request = context.client.config().clone();
    single_request.retry.max_retries = 0;
    // The configuration was accepted once already, so this cannot fail; if it did, the
    // client with its own retries still works.
    let api_client = Client::new(single_request).unwrap_or_else(|_| context.client.clone());
    let shared = Arc::new(Shared {
        context: context.clone(),
        options: options.clone(),
        previous,
        manifest: writer,
        api_client,
        api_retry,
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
    shared.carry_forward(&seen);

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
    /// The client without retries of its own (see [`Shared::description`]).
    api_client: Client,
    /// The retry policy the client was given, applied in [`Shared::description`].
    api_retry: RetryPolicy,
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

/// Why an API request gave no description, each with the message to report.
enum CallFailure {
    /// The API answered 503: worth asking again at a slower pace.
    Overloaded(String),
    /// A passing fault (417, 499, a timeout, a broken connection): worth asking again.
    Retryable(String),
    /// Asking again cannot help.
    Final(String),
}

/// A picture of an offer and the complete copy found on disk, if any.
struct Planned {
    position: usize,
    url: String,
    complete: Option<(PathBuf, u64)>,
}

/// One offer: its description, then what is missing of its pictures, then its archive with
/// `--zip`; every outcome goes to the manifest and the events.
async fn process_offer(shared: Arc<Shared>, item: ItemId) -> OfferReport {
    if shared.options.zip {
        if let Some(present) = shared.archived(&item) {
            return present;
        }
    }
    let desc = match shared.description(&item).await {
        Ok(desc) => desc,
        Err(error) => return shared.offer_without_pictures(&item, Status::Failed, Some(error)),
    };
    let plan = shared.plan_offer(&item, &desc).await;
    if plan.is_empty() {
        return shared.offer_without_pictures(&item, Status::Empty, None);
    }
    shared.emit(&Event::OfferStarted {
        item: item.clone(),
        pictures: plan.len(),
        present: plan.iter().filter(|p| p.complete.is_some()).count(),
    });

    let mut offer = OfferProgress::new(item.clone(), plan.len());
    let mut fetches = JoinSet::new();
    for planned in plan {
        match planned.complete.clone() {
            Some((path, bytes)) => offer.present(&shared, &planned, &path, bytes),
            None => {
                let (shared, item, total) = (Arc::clone(&shared), item.clone(), offer.total);
                fetches.spawn(async move {
                    let result =
                        fetch_and_save(&shared, &item, planned.position, total, &planned.url).await;
                    (planned, result)
                });
            }
        }
    }
    while let Some(done) = fetches.join_next().await {
        match done {
            Ok((planned, result)) => offer.fetched(&shared, &planned, result),
            // A fetch task that panicked: its picture counts as failed.
            Err(_) => offer.report.failed += 1,
        }
    }
    offer.finish(&shared).await
}

/// One offer's pictures as they finish: the counts, the manifest records (held back until the
/// archive is written with `--zip`) and the saved files.
struct OfferProgress {
    item: ItemId,
    total: usize,
    report: OfferReport,
    records: Vec<Record>,
    files: Vec<(usize, PathBuf)>,
}

impl OfferProgress {
    fn new(item: ItemId, total: usize) -> OfferProgress {
        OfferProgress {
            item,
            total,
            report: OfferReport::default(),
            records: Vec::with_capacity(total),
            files: Vec::with_capacity(total),
        }
    }

    /// A picture complete from an earlier run.
    fn present(&mut self, shared: &Shared, planned: &Planned, path: &Path, bytes: u64) {
        self.report.present += 1;
        self.files.push((planned.position, path.to_path_buf()));
        let record = shared.picture_record(&self.item, planned, path, bytes, Status::Present);
        self.keep(shared, record);
        self.emit(shared, planned, PictureOutcome::Present { bytes });
    }

    /// A fetch that ended, saved or not.
    fn fetched(
        &mut self,
        shared: &Shared,
        planned: &Planned,
        result: Result<SavedPicture, SaveError>,
    ) {
        let outcome = match result {
            Ok(saved) => {
                self.report.saved += 1;
                self.report.bytes += saved.bytes;
                self.files.push((planned.position, saved.path.clone()));
                let record = shared.picture_record(
                    &self.item,
                    planned,
                    &saved.path,
                    saved.bytes,
                    Status::Saved,
                );
                self.keep(shared, record);
                PictureOutcome::Saved { bytes: saved.bytes }
            }
            Err(error) => {
                let error = crate::text::sanitize(&error.to_string()).into_owned();
                self.report.failed += 1;
                self.report.failures.push(format!(
                    "{} picture {}: {error}",
                    self.item, planned.position
                ));
                let record = Record {
                    url: Some(planned.url.clone()),
                    picture: Some(planned.position),
                    ..Record::offer(&self.item, Status::Failed, Some(error.clone()))
                };
                self.keep(shared, record);
                PictureOutcome::Failed { error }
            }
        };
        self.emit(shared, planned, outcome);
    }

    /// Writes the record now, or keeps it for after the archive with `--zip`.
    fn keep(&mut self, shared: &Shared, record: Record) {
        if shared.options.zip {
            self.records.push(record);
        } else {
            shared.record(&record);
        }
    }

    fn emit(&self, shared: &Shared, planned: &Planned, outcome: PictureOutcome) {
        shared.emit(&Event::PictureDone {
            item: self.item.clone(),
            position: planned.position,
            outcome,
        });
    }

    /// Writes the archive with `--zip`, and reports the offer done.
    async fn finish(mut self, shared: &Shared) -> OfferReport {
        if shared.options.zip {
            shared
                .zip_offer(&self.item, &mut self.report, self.records, self.files)
                .await;
        }
        shared.finish_offer(&self.item, &self.report);
        self.report
    }
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

    /// Reports an offer that has no pictures to fetch: its description failed, or lists
    /// none.
    fn offer_without_pictures(
        &self,
        item: &ItemId,
        status: Status,
        error: Option<String>,
    ) -> OfferReport {
        self.emit(&Event::OfferStarted {
            item: item.clone(),
            pictures: 0,
            present: 0,
        });
        self.record(&Record::offer(item, status, error.clone()));
        let mut report = OfferReport::default();
        if let Some(error) = error {
            report.failures.push(format!("{item}: {error}"));
            report.error = Some(error);
        }
        self.finish_offer(item, &report);
        report
    }

    /// The offer's pictures, each with its complete copy from an earlier run if there is one.
    async fn plan_offer(self: &Arc<Self>, item: &ItemId, desc: &ItemDesc) -> Vec<Planned> {
        let urls: Vec<String> = description::extract(&desc.detail_imgs, &desc.detail_html)
            .pictures
            .into_iter()
            .map(|picture| picture.url)
            .collect();
        let (shared, item) = (Arc::clone(self), item.clone());
        tokio::task::spawn_blocking(move || shared.plan(&item, urls))
            .await
            .unwrap_or_default()
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

        // The retries happen here rather than in the client, so that no slot of the API limit
        // is held while waiting, and each retry meets the limit as the last 503 left it.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (message, allowed) = match self.call_api(item).await {
                Ok(desc) => return Ok(desc),
                Err(CallFailure::Final(message)) => return Err(message),
                Err(CallFailure::Retryable(message)) => (message, self.api_retry.max_retries + 1),
                Err(CallFailure::Overloaded(message)) => (message, OVERLOADED_ATTEMPTS),
            };
            if attempts >= allowed {
                return Err(message);
            }
            tokio::time::sleep(self.api_retry.delay(attempts - 1, None)).await;
        }
    }

    /// One API request under the API limit, which hears of its success or overload.
    async fn call_api(&self, item: &ItemId) -> Result<ItemDesc, CallFailure> {
        let context = &self.context;
        let permit = self.api_limit.acquire().await;
        if let Some(reason) = self.api_stopped() {
            return Err(CallFailure::Final(format!(
                "not fetched, because an earlier call failed: {reason}"
            )));
        }
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        let fetch = Policy {
            refresh: true,
            offline: false,
        };
        let result = get_or_fetch(
            context.store.as_ref(),
            &self.api_client,
            &context.scope,
            item,
            fetch,
        )
        .await;
        match result {
            Ok(answer) => {
                permit.succeeded();
                Ok(answer.desc)
            }
            Err(AnswerError::Api(ApiError::TooManyRequests)) => {
                permit.overloaded();
                Err(CallFailure::Overloaded(
                    ApiError::TooManyRequests.to_string(),
                ))
            }
            Err(AnswerError::Api(error)) if stops_every_call(&error) => {
                let mut stopped = self
                    .api_stopped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                stopped.get_or_insert_with(|| error.to_string());
                Err(CallFailure::Final(error.to_string()))
            }
            Err(AnswerError::Api(error)) if error.is_retryable() => {
                Err(CallFailure::Retryable(error.to_string()))
            }
            Err(error) => Err(CallFailure::Final(error.to_string())),
        }
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

    /// Copies into the new manifest the complete files of earlier runs' offers that this run
    /// was not asked for, when they are still there, so the manifest describes the whole
    /// folder. Blocking (one `stat` per file), at the end of a run.
    fn carry_forward(&self, done: &HashSet<ItemId>) {
        let mut kept: Vec<&Record> = self
            .previous
            .values()
            .filter(|record| !done.iter().any(|item| item.as_str() == record.item))
            .filter(|record| {
                let Some(file) = record.file.as_deref() else {
                    return false;
                };
                let Ok(meta) = std::fs::metadata(self.options.out.join(file)) else {
                    return false;
                };
                // A zip's entries have their own lengths; the archive's existence is enough.
                record.entry.is_some() || Some(meta.len()) == record.bytes
            })
            .collect();
        kept.sort_by(|a, b| (&a.item, a.picture).cmp(&(&b.item, b.picture)));
        for record in kept {
            self.record(record);
        }
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
            // Said, not left to be noticed: the saved pictures wait as loose files.
            let dir = offer_dir(&self.options.out, item);
            report.failures.push(format!(
                "{item}: no zip yet, as {} failed; the saved ones wait in {} for the next run",
                crate::text::count(report.failed, "picture"),
                dir.display()
            ));
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
