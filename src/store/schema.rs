//! The store's schema and its migrations.
//!
//! The schema's version is SQLite's `PRAGMA user_version` (0 for a new file). [`MIGRATIONS`]
//! is an ordered list: entry `n` brings version `n` to `n + 1`. Migrations run in one
//! `BEGIN IMMEDIATE` transaction, so two descviews starting together take turns and the second
//! finds the work done, and a crash half way leaves the old version intact. A migration is
//! never edited once released: a change to the schema is a new entry at the end.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Each migration's SQL, in order.
const MIGRATIONS: &[&str] = &[
    // 1: answers, history, picture facts, the picture cache's index.
    "
    CREATE TABLE answers (
        scope      TEXT NOT NULL,     -- the API base the answer came from (see scope_for_base)
        item_id    TEXT NOT NULL,     -- the offer's digits
        body       TEXT NOT NULL,     -- the response body exactly as received
        fetched_at INTEGER NOT NULL,  -- ms since the Unix epoch
        PRIMARY KEY (scope, item_id)
    ) WITHOUT ROWID;

    CREATE TABLE history (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        scope      TEXT NOT NULL,
        item_id    TEXT NOT NULL,
        opened_at  INTEGER NOT NULL,  -- ms since the Unix epoch
        pictures   INTEGER NOT NULL,  -- how many pictures the description lists
        label      TEXT NOT NULL      -- a short text to recognise the offer by
    );
    CREATE INDEX history_by_scope ON history (scope, opened_at);

    CREATE TABLE picture_facts (
        url        TEXT PRIMARY KEY,
        format     TEXT,              -- Format::extension() of the sniffed bytes
        width      INTEGER,
        height     INTEGER,
        bytes      INTEGER,
        saved_path TEXT,              -- where a copy was last saved
        updated_at INTEGER NOT NULL
    );

    -- The picture cache on disk: the file for a row is named by its id, which AUTOINCREMENT
    -- never hands out twice, so two URLs can never share a file.
    CREATE TABLE cached_pictures (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        url       TEXT NOT NULL UNIQUE,
        bytes     INTEGER NOT NULL,
        format    TEXT NOT NULL,
        last_used INTEGER NOT NULL    -- a logical clock: larger is more recent
    );
    CREATE INDEX cached_pictures_by_use ON cached_pictures (last_used);
    ",
    // 2: what the browser remembers between runs (the preview's fit mode).
    "
    CREATE TABLE preferences (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    ",
];

/// The newest schema version this build knows.
pub(crate) fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the database at `path` up to [`latest`]; refuses one from a newer descview.
pub(crate) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let db_error = |source| StoreError::Database {
        path: path.to_path_buf(),
        source,
    };
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let found: i64 = transaction
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db_error)?;
    if found > latest() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: latest(),
        });
    }
    let done = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        transaction.execute_batch(sql).map_err(db_error)?;
        // PRAGMA takes no parameters; the value is a number this code computed.
        transaction
            .execute_batch(&format!("PRAGMA user_version = {}", index + 1))
            .map_err(db_error)?;
    }
    transaction.commit().map_err(db_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_reaches_the_latest_version_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut connection = Connection::open(&path).unwrap();
        migrate(&mut connection, &path).unwrap();
        // Running again finds nothing to do (a second migration would fail on CREATE TABLE).
        migrate(&mut connection, &path).unwrap();
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest());
    }

    #[test]
    fn a_database_from_a_newer_descview_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(&format!("PRAGMA user_version = {}", latest() + 1))
            .unwrap();
        let error = migrate(&mut connection, &path).unwrap_err();
        assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
        assert!(error.to_string().contains("update descview"), "{error}");
    }
}
