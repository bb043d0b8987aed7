//! The log: `tracing` events written to a file, filtered by `RUST_LOG`.
//!
//! The log goes to a file (by default `descview.log` in the state directory, or the one given
//! with `--log-file`), never to the terminal: while the browser runs, a line written to the
//! terminal would tear the screen. This module owns opening that file, keeping it from
//! growing without end, and one last guard for the token: every line is searched for the
//! token (as given and as it looks inside a URL's query) and the token is replaced by `***`
//! before the line is written. The rest of the program never logs the token in the first
//! place; this guard is for what a dependency might log under `RUST_LOG=trace`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// A log file larger than this is moved aside (to `NAME.old`, replacing the previous one)
/// when the next run opens it, so that the log never takes more than twice this.
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;

/// What replaces the token in a log line.
const REDACTED: &str = "***";

/// Why the log could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file (or its directory) could not be created or opened.
    #[error(
        "could not open the log file {}: {source}: give another with --log-file, or set \
         DESCVIEW_STATE_DIR", path.display()
    )]
    Open {
        /// The file.
        path: PathBuf,
        /// What the system reported.
        source: io::Error,
    },
    /// Another logger was installed first (only possible when embedding the library).
    #[error("a logger is already installed in this process")]
    AlreadySet,
}

/// Starts logging to `path` with the `filter` (in `RUST_LOG` syntax), hiding each of
/// `secrets` in every line. Creates the file's directory if needed.
///
/// A filter that does not parse is replaced by [`crate::config::DEFAULT_LOG_FILTER`], and the
/// log's first lines say so: a stray `RUST_LOG` meant for another program must not stop the
/// browser.
pub fn init(path: &Path, filter: &str, secrets: &[&str]) -> Result<(), LogError> {
    let file = open(path)?;
    let (filter, filter_problem) = match EnvFilter::try_new(filter) {
        Ok(parsed) => (parsed, None),
        Err(error) => (
            EnvFilter::new(crate::config::DEFAULT_LOG_FILTER),
            Some(error.to_string()),
        ),
    };
    let writer = RedactingFile::new(file, secrets);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init()
        .map_err(|_| LogError::AlreadySet)?;

    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        pid = std::process::id(),
        "descview started"
    );
    if let Some(problem) = filter_problem {
        tracing::warn!(%problem, "RUST_LOG is not a valid filter; logging descview=info instead");
    }
    Ok(())
}

/// Opens the log for appending, creating its directory, after moving an oversized one aside.
fn open(path: &Path) -> Result<File, LogError> {
    let failed = |source| LogError::Open {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    // Only a regular file is rotated: `--log-file /dev/stderr` must stay what it is.
    if let Ok(metadata) = std::fs::metadata(path) {
        if metadata.is_file() && metadata.len() > MAX_LOG_BYTES {
            let mut old = path.as_os_str().to_owned();
            old.push(".old");
            std::fs::rename(path, PathBuf::from(old)).map_err(failed)?;
        }
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(failed)
}

/// The log file behind a lock, with the texts that must never reach it.
#[derive(Debug)]
pub struct RedactingFile<W> {
    out: Mutex<W>,
    secrets: Vec<String>,
}

impl<W: Write> RedactingFile<W> {
    /// Wraps `out`; each non-empty secret is hidden as given and in its URL-query form (a
    /// token with `+`, `/` or `=` looks different inside a query).
    pub fn new(out: W, secrets: &[&str]) -> Self {
        let mut hidden: Vec<String> = Vec::new();
        for secret in secrets.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            for form in [secret.to_string(), encoded] {
                if !hidden.contains(&form) {
                    hidden.push(form);
                }
            }
        }
        // Longest first, so that a secret containing another is hidden whole.
        hidden.sort_by_key(|form| std::cmp::Reverse(form.len()));
        RedactingFile {
            out: Mutex::new(out),
            secrets: hidden,
        }
    }

    /// The wrapped writer, for tests.
    pub fn into_inner(self) -> W {
        self.out
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_line(&self, bytes: &[u8]) -> io::Result<()> {
        let mut line = String::from_utf8_lossy(bytes).into_owned();
        for secret in &self.secrets {
            if line.contains(secret.as_str()) {
                line = line.replace(secret.as_str(), REDACTED);
            }
        }
        // A panic elsewhere while the lock was held leaves at worst a half-written line.
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(line.as_bytes())?;
        out.flush()
    }
}

/// One event's writer. The formatter hands over each event as a whole line in one
/// `write_all`, which is what lets [`RedactingFile`] search the whole line.
#[derive(Debug)]
pub struct LineWriter<'a, W> {
    file: &'a RedactingFile<W>,
}

impl<W: Write> Write for LineWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a, W: Write + 'a> MakeWriter<'a> for RedactingFile<W> {
    type Writer = LineWriter<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { file: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_as_given_and_as_encoded() {
        let file = RedactingFile::new(Vec::new(), &["tok+en/42=", ""]);
        let mut writer = file.make_writer();
        writer
            .write_all(b"GET /1688/item_desc?apiToken=tok%2Ben%2F42%3D&item_id=1\n")
            .unwrap();
        writer.write_all(b"header apikey: tok+en/42=\n").unwrap();
        writer.write_all(b"nothing secret here\n").unwrap();
        let text = String::from_utf8(file.into_inner()).unwrap();
        assert_eq!(
            text,
            "GET /1688/item_desc?apiToken=***&item_id=1\nheader apikey: ***\nnothing secret here\n"
        );
    }

    #[test]
    fn an_oversized_log_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("descview.log");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![b'x'; (MAX_LOG_BYTES + 1) as usize]).unwrap();

        let mut file = open(&path).unwrap();
        file.write_all(b"fresh\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"fresh\n");
        let old = dir.path().join("nested").join("descview.log.old");
        assert_eq!(std::fs::metadata(old).unwrap().len(), MAX_LOG_BYTES + 1);
    }

    #[test]
    fn the_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("descview.log");
        open(&path).unwrap();
        assert!(path.is_file());
    }
}
