//! `manifest.jsonl`: one line per picture (and per offer that failed as a whole) of a
//! `descview download` run, written as each finishes, so a stopped run leaves an accurate
//! record of what is done.
//!
//! Each line is a JSON object: `item`, `picture` (the position, from 1), `url`, `file` (the
//! path relative to the output folder, `/`-separated), `bytes`, `status` (`saved`, `present`,
//! `failed`, `empty`), and, when they apply, `entry` (the file's name inside the offer's zip)
//! and `error`. The next run into the same folder reads the previous manifest to skip what is
//! complete ([`read_previous`]); lines it cannot read (a line cut by a crash) are ignored.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::item_id::ItemId;

/// The manifest's file name inside the output folder.
pub const MANIFEST_FILE: &str = "manifest.jsonl";

/// What became of a picture or an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Downloaded and saved in this run.
    Saved,
    /// Already complete from an earlier run; not fetched again.
    Present,
    /// Could not be had; `error` says why.
    Failed,
    /// The offer's description lists no pictures.
    Empty,
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The offer's digits (or the text given, for an offer that failed before it was read).
    pub item: String,
    /// The picture's position in the offer's list, from 1; absent for an offer-wide line.
    pub picture: Option<usize>,
    /// The picture's URL as listed.
    pub url: Option<String>,
    /// The saved file (or the offer's zip), relative to the output folder.
    pub file: Option<String>,
    /// The file's length.
    pub bytes: Option<u64>,
    /// What became of it.
    pub status: Status,
    /// The file's name inside the zip, with `--zip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Record {
    /// A line about a whole offer (no picture, URL or file): one that failed, or lists no
    /// pictures.
    pub fn offer(item: &ItemId, status: Status, error: Option<String>) -> Record {
        Record {
            item: item.to_string(),
            picture: None,
            url: None,
            file: None,
            bytes: None,
            status,
            entry: None,
            error,
        }
    }

    /// Whether this line names a complete file.
    pub fn is_complete(&self) -> bool {
        matches!(self.status, Status::Saved | Status::Present)
            && self.file.is_some()
            && self.bytes.is_some()
    }
}

/// The complete pictures an earlier run recorded, by offer and position.
pub type Previous = HashMap<(String, usize), Record>;

/// Reads the complete pictures from the manifest at `path`; nothing when there is none.
pub fn read_previous(path: &Path) -> io::Result<Previous> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Previous::new()),
        Err(error) => return Err(error),
    };
    let mut previous = Previous::new();
    for line in BufReader::new(file).lines() {
        let line = line?;
        let Ok(record) = serde_json::from_str::<Record>(&line) else {
            continue;
        };
        if let (true, Some(position)) = (record.is_complete(), record.picture) {
            previous.insert((record.item.clone(), position), record);
        }
    }
    Ok(previous)
}

/// Reads every line of the manifest at `path` (for tests and tools).
pub fn read_all(path: &Path) -> io::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// Appends records to a new manifest, one whole line per write, so lines from concurrent
/// offers never interleave and a crash cuts at most the last line.
#[derive(Debug)]
pub struct Writer {
    file: Mutex<File>,
    path: PathBuf,
}

impl Writer {
    /// Starts a new manifest at `path`, replacing an old one (read it first).
    pub fn create(path: &Path) -> io::Result<Writer> {
        Ok(Writer {
            file: Mutex::new(File::create(path)?),
            path: path.to_path_buf(),
        })
    }

    /// Where the manifest is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record as one line.
    pub fn write(&self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(item: &str, picture: usize) -> Record {
        Record {
            item: item.into(),
            picture: Some(picture),
            url: Some(format!("https://a/{picture}.jpg")),
            file: Some(format!("{item}/{picture:02}.jpg")),
            bytes: Some(10),
            status: Status::Saved,
            entry: None,
            error: None,
        }
    }

    #[test]
    fn lines_round_trip_and_only_complete_ones_count_as_previous() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        let writer = Writer::create(&path).unwrap();
        writer.write(&saved("1", 1)).unwrap();
        writer
            .write(&Record {
                status: Status::Failed,
                file: None,
                bytes: None,
                error: Some("gone".into()),
                ..saved("1", 2)
            })
            .unwrap();
        drop(writer);
        // A line cut by a crash.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"item\":\"1\",\"pic");
        std::fs::write(&path, text).unwrap();

        assert_eq!(read_all(&path).unwrap().len(), 2);
        let previous = read_previous(&path).unwrap();
        assert_eq!(previous.len(), 1);
        assert_eq!(previous.get(&("1".into(), 1)), Some(&saved("1", 1)));
        assert!(read_previous(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn the_documented_keys_are_always_written() {
        let line = serde_json::to_string(&Record {
            file: None,
            bytes: None,
            status: Status::Failed,
            ..saved("7", 3)
        })
        .unwrap();
        for key in [
            "\"item\"",
            "\"picture\"",
            "\"url\"",
            "\"file\"",
            "\"bytes\"",
            "\"status\":\"failed\"",
        ] {
            assert!(line.contains(key), "{line}");
        }
    }
}
