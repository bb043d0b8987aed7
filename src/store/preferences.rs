//! What the browser remembers between runs, by name: small text values a user chose with a
//! key (the preview's fit mode), as opposed to settings, which come from the config file.

use rusqlite::OptionalExtension;

use super::{Store, StoreError};

impl Store {
    /// The value remembered under `name`, if any.
    pub fn preference(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.read(|connection| {
            connection
                .query_row(
                    "SELECT value FROM preferences WHERE name = ?1",
                    [name],
                    |row| row.get(0),
                )
                .optional()
        })
    }

    /// Remembers `value` under `name`, replacing what was there.
    pub fn set_preference(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.write(|transaction| {
            transaction
                .execute(
                    "INSERT INTO preferences (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )
                .map(drop)
                .map_err(|e| self.db_error(e))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Location, Store};

    #[test]
    fn a_preference_outlives_the_store_that_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::under(dir.path());
        let store = Store::open(&location).unwrap();
        assert_eq!(store.preference("fit").unwrap(), None);
        store.set_preference("fit", "width").unwrap();
        store.set_preference("fit", "whole").unwrap();
        drop(store);
        let again = Store::open(&location).unwrap();
        assert_eq!(again.preference("fit").unwrap().as_deref(), Some("whole"));
    }
}
