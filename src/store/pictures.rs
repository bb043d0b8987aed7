//! What is known about each picture, and the picture cache on disk.
//!
//! [`PictureFacts`] are kept per URL in the database: the real format (sniffed from the
//! bytes), the pixel size its header declares, its length, and where a copy was last saved.
//! They outlive the cached bytes.
//!
//! [`PictureCache`] keeps picture bytes as files in the cache directory, found by URL through
//! the database. Each file is named by its row's id, which SQLite's AUTOINCREMENT never hands
//! out twice, so no hashing is needed and two URLs can never collide on one file. A file is
//! written under a temporary name and renamed while the row is written in the same
//! transaction, so a reader that finds a row finds the whole file. The total is bounded by the
//! cap; beyond it the least recently used files go, in the same transaction. A row whose file
//! went missing or has the wrong length (a crash, a cleaned cache folder) is dropped when it
//! is next read. Nothing here ever decodes a picture or trusts a URL to name a file.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rusqlite::OptionalExtension;

use super::{now_millis, Store, StoreError};
use crate::media::{sniff, Fetched, Fetcher, Format, MediaError};

/// Files in the cache folder that no row names (left by a crash between writing and
/// recording) are removed once they are this old; a younger one may belong to another
/// descview that is writing it right now.
const ORPHAN_AGE: Duration = Duration::from_secs(600);

/// The prefix of a file being written into the cache folder.
const INCOMING_PREFIX: &str = "incoming-";

/// Makes the temporary names of one process unique.
static INCOMING_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// What is known about one picture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PictureFacts {
    /// The picture's URL, as listed.
    pub url: String,
    /// The format read from its bytes.
    pub format: Option<Format>,
    /// Width and height in pixels, as its header declares them.
    pub size: Option<(u32, u32)>,
    /// Its length in bytes.
    pub bytes: Option<u64>,
    /// Where a copy was last saved.
    pub saved_path: Option<PathBuf>,
}

impl PictureFacts {
    /// The facts that the bytes themselves tell: format, pixel size (from the header, without
    /// decoding) and length.
    pub fn from_bytes(url: &str, bytes: &[u8]) -> PictureFacts {
        let format = sniff(bytes);
        let size = if format.can_decode() {
            image::ImageReader::new(Cursor::new(bytes))
                .with_guessed_format()
                .ok()
                .and_then(|reader| reader.into_dimensions().ok())
        } else {
            None
        };
        PictureFacts {
            url: url.to_string(),
            format: Some(format),
            size,
            bytes: Some(bytes.len() as u64),
            saved_path: None,
        }
    }
}

/// The format whose extension is `text`.
fn format_named(text: &str) -> Option<Format> {
    Format::ALL
        .into_iter()
        .find(|format| format.extension() == text)
}

impl Store {
    /// Records what is known about pictures, in one transaction. Known values that a new
    /// record leaves out (`None`) are kept.
    pub fn record_pictures(&self, facts: &[PictureFacts]) -> Result<(), StoreError> {
        if facts.is_empty() {
            return Ok(());
        }
        self.write(|transaction| {
            let mut statement = transaction
                .prepare(
                    "INSERT INTO picture_facts
                         (url, format, width, height, bytes, saved_path, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (url) DO UPDATE SET
                         format = COALESCE(excluded.format, format),
                         width = COALESCE(excluded.width, width),
                         height = COALESCE(excluded.height, height),
                         bytes = COALESCE(excluded.bytes, bytes),
                         saved_path = COALESCE(excluded.saved_path, saved_path),
                         updated_at = excluded.updated_at",
                )
                .map_err(|e| self.db_error(e))?;
            let now = now_millis();
            for fact in facts {
                statement
                    .execute((
                        &fact.url,
                        fact.format.map(Format::extension),
                        fact.size.map(|(w, _)| i64::from(w)),
                        fact.size.map(|(_, h)| i64::from(h)),
                        fact.bytes.and_then(|b| i64::try_from(b).ok()),
                        fact.saved_path
                            .as_deref()
                            .map(|path| path.to_string_lossy().into_owned()),
                        now,
                    ))
                    .map_err(|e| self.db_error(e))?;
            }
            Ok(())
        })
    }

    /// What is known about the picture at `url`.
    pub fn picture_facts(&self, url: &str) -> Result<Option<PictureFacts>, StoreError> {
        type Row = (
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let row: Option<Row> = self.read(|connection| {
            connection
                .query_row(
                    "SELECT format, width, height, bytes, saved_path FROM picture_facts
                     WHERE url = ?1",
                    [url],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    },
                )
                .optional()
        })?;
        Ok(row.map(|(format, width, height, bytes, saved_path)| {
            let dimension = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
            PictureFacts {
                url: url.to_string(),
                format: format.as_deref().and_then(format_named),
                size: dimension(width).zip(dimension(height)),
                bytes: bytes.and_then(|b| u64::try_from(b).ok()),
                saved_path: saved_path.map(PathBuf::from),
            }
        }))
    }
}

/// Picture bytes on disk, by URL, bounded in total size, least recently used evicted first.
///
/// Every method blocks on the disk and the database: call it from `spawn_blocking` (or a
/// thread of its own) in async code. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PictureCache {
    store: Store,
    dir: PathBuf,
    cap: u64,
}

impl PictureCache {
    pub(crate) fn new(store: Store) -> PictureCache {
        let location = store.location();
        PictureCache {
            dir: location.pictures_dir(),
            cap: location.cache_cap,
            store,
        }
    }

    /// The store this cache records into.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The most bytes kept.
    pub fn cap(&self) -> u64 {
        self.cap
    }

    /// The bytes kept for `url`, now the most recently used; `None` when there are none or
    /// they cannot be read whole.
    pub fn get(&self, url: &str) -> Option<Bytes> {
        let (id, length): (i64, i64) = self
            .store
            .read(|connection| {
                connection
                    .query_row(
                        "SELECT id, bytes FROM cached_pictures WHERE url = ?1",
                        [url],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
            })
            .map_err(|error| tracing::warn!(%error, "could not read the picture cache"))
            .ok()??;

        match std::fs::read(self.file(id)) {
            Ok(bytes) if i64::try_from(bytes.len()).ok() == Some(length) => {
                if let Err(error) = self.touch(id) {
                    tracing::warn!(%error, "could not record a picture cache hit");
                }
                Some(Bytes::from(bytes))
            }
            _ => {
                if let Err(error) = self.forget(id) {
                    tracing::warn!(%error, "could not drop a broken picture cache entry");
                }
                None
            }
        }
    }

    /// Keeps `bytes` as the picture at `url`, evicting the least recently used pictures to
    /// stay within the cap. Returns false (and keeps nothing) when the picture alone is larger
    /// than the cap.
    pub fn put(&self, url: &str, bytes: &[u8], format: Format) -> Result<bool, StoreError> {
        let length = bytes.len() as u64;
        if length > self.cap {
            return Ok(false);
        }
        let incoming = self.dir.join(format!(
            "{INCOMING_PREFIX}{}-{}",
            std::process::id(),
            INCOMING_SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&incoming, bytes).map_err(|source| StoreError::Io {
            path: incoming.clone(),
            source,
        })?;

        let result = self.store.write(|transaction| {
            let id: i64 = transaction
                .query_row(
                    "INSERT INTO cached_pictures (url, bytes, format, last_used)
                     VALUES (?1, ?2, ?3,
                             (SELECT COALESCE(MAX(last_used), 0) + 1 FROM cached_pictures))
                     ON CONFLICT (url) DO UPDATE SET bytes = excluded.bytes,
                         format = excluded.format, last_used = excluded.last_used
                     RETURNING id",
                    (
                        url,
                        i64::try_from(length).unwrap_or(i64::MAX),
                        format.extension(),
                    ),
                    |row| row.get(0),
                )
                .map_err(|e| self.store.db_error(e))?;
            let file = self.file(id);
            std::fs::rename(&incoming, &file)
                .map_err(|source| StoreError::Io { path: file, source })?;
            self.evict(transaction, id)
        });
        if result.is_err() {
            // Nothing names the temporary file; it is removed now rather than by a sweep.
            let _ = std::fs::remove_file(&incoming);
        }
        result.map(|()| true)
    }

    /// The bytes the cache holds now.
    pub fn total_bytes(&self) -> Result<u64, StoreError> {
        let total: i64 = self.store.read(|connection| {
            connection.query_row(
                "SELECT COALESCE(SUM(bytes), 0) FROM cached_pictures",
                [],
                |row| row.get(0),
            )
        })?;
        Ok(u64::try_from(total).unwrap_or(0))
    }

    /// Removes files in the cache folder that no row names and that are older than a few
    /// minutes (left by a crash), and returns how many went.
    pub fn sweep(&self) -> Result<usize, StoreError> {
        let known: std::collections::HashSet<i64> = self.store.read(|connection| {
            let mut statement = connection.prepare("SELECT id FROM cached_pictures")?;
            let ids = statement
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })?;
        let entries = std::fs::read_dir(&self.dir).map_err(|source| StoreError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with(INCOMING_PREFIX)
                || name.parse::<i64>().is_ok_and(|id| !known.contains(&id));
            let old = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age >= ORPHAN_AGE);
            if ours && old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn file(&self, id: i64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    fn touch(&self, id: i64) -> Result<(), StoreError> {
        self.store.write(|transaction| {
            transaction
                .execute(
                    "UPDATE cached_pictures
                     SET last_used = (SELECT MAX(last_used) + 1 FROM cached_pictures)
                     WHERE id = ?1",
                    [id],
                )
                .map(drop)
                .map_err(|e| self.store.db_error(e))
        })
    }

    fn forget(&self, id: i64) -> Result<(), StoreError> {
        self.store.write(|transaction| {
            transaction
                .execute("DELETE FROM cached_pictures WHERE id = ?1", [id])
                .map_err(|e| self.store.db_error(e))?;
            remove_if_present(&self.file(id))
        })
    }

    /// Drops the least recently used rows and files, other than `keep`, until the total is
    /// within the cap. Runs inside the caller's transaction, so the rows and the total agree.
    fn evict(&self, transaction: &rusqlite::Transaction<'_>, keep: i64) -> Result<(), StoreError> {
        let db = |e| self.store.db_error(e);
        let total: i64 = transaction
            .query_row(
                "SELECT COALESCE(SUM(bytes), 0) FROM cached_pictures",
                [],
                |row| row.get(0),
            )
            .map_err(db)?;
        let cap = i64::try_from(self.cap).unwrap_or(i64::MAX);
        if total <= cap {
            return Ok(());
        }

        let mut excess = total - cap;
        let mut victims = Vec::new();
        {
            let mut statement = transaction
                .prepare(
                    "SELECT id, bytes FROM cached_pictures WHERE id != ?1
                     ORDER BY last_used ASC, id ASC",
                )
                .map_err(db)?;
            let mut rows = statement.query([keep]).map_err(db)?;
            while excess > 0 {
                let Some(row) = rows.next().map_err(db)? else {
                    break;
                };
                let (id, bytes): (i64, i64) = (row.get(0).map_err(db)?, row.get(1).map_err(db)?);
                victims.push(id);
                excess -= bytes;
            }
        }
        for id in victims {
            transaction
                .execute("DELETE FROM cached_pictures WHERE id = ?1", [id])
                .map_err(db)?;
            remove_if_present(&self.file(id))?;
        }
        Ok(())
    }
}

/// The picture at `url`: from the picture cache of `store` when it holds it, otherwise fetched
/// and then kept there (unless it arrived cut short). For `descview show` and the browser.
/// A cache that fails is logged and passed by; only the fetch's own errors are returned.
pub async fn fetch_cached(
    store: Option<&Store>,
    fetcher: &Fetcher,
    url: &str,
) -> Result<Fetched, MediaError> {
    let Some(cache) = store.map(Store::picture_cache) else {
        return fetcher.fetch(url).await;
    };
    let (reader, key) = (cache.clone(), url.to_string());
    let hit = tokio::task::spawn_blocking(move || reader.get(&key))
        .await
        .ok()
        .flatten();
    if let Some(bytes) = hit {
        return Ok(Fetched {
            format: sniff(&bytes),
            bytes,
            truncated: false,
        });
    }

    let fetched = fetcher.fetch(url).await?;
    if !fetched.truncated {
        let (bytes, format, key) = (fetched.bytes.clone(), fetched.format, url.to_string());
        let kept = tokio::task::spawn_blocking(move || cache.put(&key, &bytes, format)).await;
        if let Ok(Err(error)) = kept {
            tracing::warn!(%error, "could not keep a picture in the cache");
        }
    }
    Ok(fetched)
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn cache_with_cap(dir: &Path, cap: u64) -> PictureCache {
        let mut location = Location::under(dir);
        location.cache_cap = cap;
        Store::open(&location).unwrap().picture_cache()
    }

    #[test]
    fn every_format_reads_back_from_its_extension() {
        for format in Format::ALL {
            assert_eq!(format_named(format.extension()), Some(format));
        }
    }

    #[test]
    fn facts_come_from_the_bytes() {
        let png = {
            let mut bytes = Vec::new();
            image::DynamicImage::new_rgb8(7, 3)
                .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
                .unwrap();
            bytes
        };
        let facts = PictureFacts::from_bytes("https://a/x.jpg", &png);
        assert_eq!(facts.format, Some(Format::Png));
        assert_eq!(facts.size, Some((7, 3)));
        assert_eq!(facts.bytes, Some(png.len() as u64));
    }

    #[test]
    fn facts_keep_what_a_later_record_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::under(dir.path())).unwrap();
        let url = "https://a/x.jpg";
        store
            .record_pictures(&[PictureFacts {
                url: url.into(),
                format: Some(Format::WebP),
                size: Some((790, 1200)),
                bytes: Some(1234),
                saved_path: None,
            }])
            .unwrap();
        store
            .record_pictures(&[PictureFacts {
                url: url.into(),
                saved_path: Some(PathBuf::from("/tmp/x/01.webp")),
                ..Default::default()
            }])
            .unwrap();
        let facts = store.picture_facts(url).unwrap().unwrap();
        assert_eq!(facts.format, Some(Format::WebP));
        assert_eq!(facts.size, Some((790, 1200)));
        assert_eq!(facts.bytes, Some(1234));
        assert_eq!(facts.saved_path, Some(PathBuf::from("/tmp/x/01.webp")));
        assert_eq!(store.picture_facts("https://a/other.jpg").unwrap(), None);
    }

    #[test]
    fn bytes_read_back_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_with_cap(dir.path(), 1000);
        assert!(cache.put("https://a/1.jpg", b"one", Format::Jpeg).unwrap());
        assert_eq!(cache.get("https://a/1.jpg").as_deref(), Some(&b"one"[..]));
        assert_eq!(cache.get("https://a/2.jpg"), None);
        // A second put replaces the bytes in place.
        assert!(cache.put("https://a/1.jpg", b"uno!", Format::Jpeg).unwrap());
        assert_eq!(cache.get("https://a/1.jpg").as_deref(), Some(&b"uno!"[..]));
        assert_eq!(cache.total_bytes().unwrap(), 4);
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_cap_holds() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_with_cap(dir.path(), 10);
        cache.put("a", &[1; 4], Format::Jpeg).unwrap();
        cache.put("b", &[2; 4], Format::Jpeg).unwrap();
        assert!(cache.get("a").is_some(), "a is now the most recently used");
        cache.put("c", &[3; 4], Format::Jpeg).unwrap();

        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some());
        assert!(cache.get("c").is_some());
        assert_eq!(cache.total_bytes().unwrap(), 8);
        let files = std::fs::read_dir(dir.path().join("cache/pictures"))
            .unwrap()
            .count();
        assert_eq!(files, 2, "the evicted file is gone too");

        assert!(!cache.put("huge", &[0; 11], Format::Jpeg).unwrap());
        assert!(
            cache.get("a").is_some(),
            "nothing evicted for a picture over the cap"
        );
    }

    #[test]
    fn a_missing_or_cut_file_is_a_miss_and_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_with_cap(dir.path(), 1000);
        cache.put("a", b"abcdef", Format::Jpeg).unwrap();
        cache.put("b", b"ghijkl", Format::Jpeg).unwrap();
        let pictures = dir.path().join("cache/pictures");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&pictures)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        std::fs::remove_file(&files[0]).unwrap();
        std::fs::write(&files[1], b"gh").unwrap();

        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.total_bytes().unwrap(), 0, "both rows dropped");
    }

    #[test]
    fn a_sweep_spares_young_and_known_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_with_cap(dir.path(), 1000);
        cache.put("a", b"abc", Format::Jpeg).unwrap();
        let pictures = dir.path().join("cache/pictures");
        std::fs::write(pictures.join("999999"), b"orphan").unwrap();
        // Young files are spared: another descview may be writing them.
        assert_eq!(cache.sweep().unwrap(), 0);
        assert_eq!(std::fs::read_dir(&pictures).unwrap().count(), 2);

        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(&pictures).unwrap() {
            let file = std::fs::File::options()
                .write(true)
                .open(entry.unwrap().path())
                .unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
        assert_eq!(cache.sweep().unwrap(), 1, "only the orphan goes");
        assert_eq!(cache.get("a").as_deref(), Some(&b"abc"[..]));
    }
}
