//! The local store: what was fetched, kept so that nothing is paid for twice.
//!
//! One SQLite database in the user's data directory holds each `item_desc` answer exactly as
//! received ([`answers`]), the history of offers opened ([`history`]), and what is known about
//! each picture: its format, pixel size, bytes and where it was saved ([`pictures`]). Picture
//! bytes live as files in the cache directory, bounded in total size and evicted least recently
//! used first ([`PictureCache`]).
//!
//! The database runs in WAL mode with a busy timeout, and every write is one transaction, so a
//! crash mid-write loses at most that write and a second descview running at the same time
//! waits its turn instead of failing. The schema is versioned in `PRAGMA user_version` and
//! brought up to date by an ordered list of migrations ([`schema`]). Answers are kept per API
//! base ([`scope_for_base`]), so the demo's answers never stand in for the real API's.
//!
//! The store never holds the token: scopes are built from the base without its query or user
//! information, and answers are the response bodies, which carry no token. The methods here
//! block on the disk and the database lock; async callers run them in `spawn_blocking` (the
//! async helpers in [`answers`] do).

pub mod answers;
pub mod history;
pub mod pictures;
pub mod preferences;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior};
use url::Url;

pub use answers::{describe_age, Answer, AnswerError, Policy};
pub use history::{label_for, HistoryEntry};
pub use pictures::{fetch_cached, PictureCache, PictureFacts};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "descview.sqlite3";

/// The picture cache's folder inside the cache directory.
pub const PICTURES_DIR: &str = "pictures";

/// The picture cache's default bound on the bytes it keeps on disk: 1 GiB.
pub const DEFAULT_CACHE_CAP: u64 = 1 << 30;

/// Overrides the cache directory (tests, and people who keep caches elsewhere).
pub const CACHE_DIR_ENV: &str = "DESCVIEW_CACHE_DIR";

/// How long a writer waits for another process's write to finish before giving up. Writes
/// are single small transactions, so anything near this means the other process is stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The scope under which the demo's answers are kept. The demo's stand-in listens on a new
/// port each time, so its base URL cannot be the key; the version is part of it because the
/// embedded catalogue changes between versions.
pub const DEMO_SCOPE: &str = concat!("demo:", env!("CARGO_PKG_VERSION"));

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("the local store {} failed: {source}; check the disk, or move the file away to start afresh", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A file or folder of the store could not be created, read or written.
    #[error("the local store could not use {}: {source}; check its permissions and free space", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The database was written by a newer descview whose schema this one does not know.
    #[error("the local store {} was written by a newer descview (schema {found}, this one knows up to {known}); update descview", path.display())]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A background task that used the store did not finish (it panicked or was cancelled).
    #[error("a task using the local store stopped unexpectedly; retry")]
    TaskFailed,
}

/// Where the store keeps its files, and how much picture cache it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Holds the database file.
    pub data_dir: PathBuf,
    /// Holds the picture cache's folder.
    pub cache_dir: PathBuf,
    /// The most bytes of pictures the cache keeps on disk.
    pub cache_cap: u64,
}

impl Location {
    /// The store under `data_dir` (from the settings) with the cache in `DESCVIEW_CACHE_DIR`,
    /// or else the platform's cache directory (`~/.cache/descview` on Linux), or else
    /// `data_dir/cache` on a system that names none.
    pub fn with_data_dir(data_dir: PathBuf) -> Location {
        let cache_dir = std::env::var_os(CACHE_DIR_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("", "", "descview")
                    .map(|dirs| dirs.cache_dir().to_path_buf())
            })
            .unwrap_or_else(|| data_dir.join("cache"));
        Location {
            data_dir,
            cache_dir,
            cache_cap: DEFAULT_CACHE_CAP,
        }
    }

    /// Both directories under one folder: `root/data` and `root/cache` (tests).
    pub fn under(root: &Path) -> Location {
        Location {
            data_dir: root.join("data"),
            cache_dir: root.join("cache"),
            cache_cap: DEFAULT_CACHE_CAP,
        }
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// The picture cache's folder.
    pub fn pictures_dir(&self) -> PathBuf {
        self.cache_dir.join(PICTURES_DIR)
    }
}

/// The open store. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Mutex<Connection>,
    location: Location,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating when needed) the database and the cache folder, and brings the schema
    /// up to date.
    pub fn open(location: &Location) -> Result<Store, StoreError> {
        let database = location.database();
        create_dir(&location.data_dir)?;
        create_dir(&location.pictures_dir())?;
        let db_error = |source| StoreError::Database {
            path: database.clone(),
            source,
        };

        let mut connection = Connection::open(&database).map_err(db_error)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
        // WAL lets readers go on while one process writes, and a crash mid-write leaves the
        // last committed state. NORMAL syncs at checkpoints only: in WAL mode that can lose
        // the last commits on power loss but never corrupts the file, and answers can be
        // fetched again.
        enable_wal(&connection).map_err(db_error)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        schema::migrate(&mut connection, &database)?;

        let store = Store {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                location: location.clone(),
            }),
        };
        if let Err(error) = store.picture_cache().sweep() {
            tracing::warn!(%error, "could not sweep the picture cache folder");
        }
        Ok(store)
    }

    /// Where this store keeps its files.
    pub fn location(&self) -> &Location {
        &self.inner.location
    }

    /// The picture cache on disk, sharing this store's database.
    pub fn picture_cache(&self) -> PictureCache {
        PictureCache::new(self.clone())
    }

    /// Runs `work` in one write transaction, started at once (`BEGIN IMMEDIATE`) so that a
    /// second process waits for the lock up front instead of failing half way.
    pub(crate) fn write<T>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.db_error(e))?;
        let value = work(&transaction)?;
        transaction.commit().map_err(|e| self.db_error(e))?;
        Ok(value)
    }

    /// Runs `work` with the connection, for reads.
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let connection = self.connection();
        work(&connection).map_err(|e| self.db_error(e))
    }

    pub(crate) fn db_error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Database {
            path: self.inner.location.database(),
            source,
        }
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave a half-done write behind: the open
        // transaction rolls back when it is dropped during the unwind.
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The key under which answers from the API at `base` are kept: scheme, host, port and path,
/// without user information, query or fragment (a token pasted into the base must not end up
/// in the store) and without a trailing slash.
pub fn scope_for_base(base: &Url) -> String {
    let host = base.host_str().unwrap_or_default();
    let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = base.path().trim_end_matches('/');
    format!("{}://{host}{port}{path}", base.scheme())
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    millis(SystemTime::now())
}

/// A time in milliseconds since the Unix epoch (0 before it, which no clock here shows).
pub(crate) fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time `millis` milliseconds after the Unix epoch.
pub(crate) fn from_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// Switches the database to WAL, waiting for other processes as the busy timeout would.
///
/// WAL is a property of the file, so this is a read once any descview has switched it. The
/// switch itself needs the file to itself, and SQLite never calls the busy handler for it:
/// while another process holds a lock (several descviews creating the store together), the
/// pragma either fails with "database is locked" or answers the old mode without switching.
/// Both are retried here until [`BUSY_TIMEOUT`]; a file that still will not switch is used in
/// its rollback journal, which is slower for concurrent readers but just as safe.
fn enable_wal(connection: &Connection) -> Result<(), rusqlite::Error> {
    let is_wal = |mode: &str| mode.eq_ignore_ascii_case("wal");
    let current: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    if is_wal(&current) {
        return Ok(());
    }

    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        let switched = connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        });
        let retry = match &switched {
            Ok(mode) if is_wal(mode) => return Ok(()),
            Ok(_) => true,
            Err(rusqlite::Error::SqliteFailure(error, _)) => matches!(
                error.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            Err(_) => false,
        };
        if !retry || Instant::now() >= deadline {
            return match switched {
                Ok(mode) => {
                    tracing::warn!(%mode, "the local store stays out of WAL mode: another process holds it");
                    Ok(())
                }
                Err(error) => Err(error),
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn create_dir(path: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_drop_query_user_and_trailing_slash() {
        let cases = [
            ("http://api.tmapi.top", "http://api.tmapi.top"),
            ("http://api.tmapi.top/", "http://api.tmapi.top"),
            (
                "https://API.tmapi.io/?apiToken=secret#x",
                "https://api.tmapi.io",
            ),
            (
                "http://user:pw@127.0.0.1:8080/proxy/",
                "http://127.0.0.1:8080/proxy",
            ),
        ];
        for (base, scope) in cases {
            assert_eq!(scope_for_base(&Url::parse(base).unwrap()), scope, "{base}");
        }
        assert_ne!(
            scope_for_base(&Url::parse("http://api.tmapi.top").unwrap()),
            scope_for_base(&Url::parse("https://api.tmapi.top").unwrap()),
        );
    }

    #[test]
    fn a_write_that_fails_half_way_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::under(dir.path())).unwrap();
        let failed = store.write(|tx| {
            tx.execute(
                "INSERT INTO answers (scope, item_id, body, fetched_at) VALUES ('s', '1', '{}', 5)",
                [],
            )
            .map_err(|e| store.db_error(e))?;
            Err::<(), _>(StoreError::TaskFailed)
        });
        assert!(failed.is_err());
        let count: i64 = store
            .read(|c| c.query_row("SELECT COUNT(*) FROM answers", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(count, 0, "the transaction rolled back");
    }

    #[test]
    fn opening_waits_for_another_descview_that_is_creating_the_store() {
        // Another process holds the new file's lock, as when several descviews start
        // together and one of them is creating the tables. SQLite does not call the busy
        // handler for the switch to WAL while another holds the write lock, so the open
        // must wait by itself.
        let dir = tempfile::tempdir().unwrap();
        let location = Location::under(dir.path());
        std::fs::create_dir_all(&location.data_dir).unwrap();
        let holder = Connection::open(location.database()).unwrap();
        // A write lock on a file still in its rollback journal: the one case in which the
        // switch fails at once, without waiting for the busy timeout.
        holder
            .execute_batch("CREATE TABLE held (x); BEGIN IMMEDIATE; INSERT INTO held VALUES (1);")
            .unwrap();

        let opening = {
            let location = location.clone();
            std::thread::spawn(move || Store::open(&location).map(drop).map_err(|e| e.to_string()))
        };
        std::thread::sleep(Duration::from_millis(300));
        holder.execute_batch("COMMIT").unwrap();
        opening.join().unwrap().unwrap();

        drop(holder);
        let mode: String = Connection::open(location.database())
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "switched once the other process let go");
    }

    #[test]
    fn a_store_reopens_and_a_second_handle_sees_the_same_data() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::under(dir.path());
        let first = Store::open(&location).unwrap();
        let second = Store::open(&location).unwrap();
        first
            .write(|tx| {
                tx.execute(
                    "INSERT INTO answers (scope, item_id, body, fetched_at) VALUES ('s', '1', '{}', 5)",
                    [],
                )
                .map_err(|e| first.db_error(e))
            })
            .unwrap();
        let seen: i64 = second
            .read(|c| c.query_row("SELECT COUNT(*) FROM answers", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(seen, 1);
        let mode: String = second
            .read(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
