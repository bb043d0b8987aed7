//! `--zip`: one archive per offer, `<out>/<item>.zip`, holding its pictures as `NN.<ext>`.
//!
//! Pictures are already compressed (JPEG, PNG, WebP, GIF gain next to nothing from deflate),
//! so entries are stored as they are, which every unzip tool reads. The archive is written as
//! `<item>.zip.part` and renamed when complete, like every other file this module writes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{part_path, SaveError};
use crate::item_id::ItemId;

/// Where the archive of `item` goes in `out`.
pub fn archive_path(out: &Path, item: &ItemId) -> PathBuf {
    out.join(format!("{}.zip", item.as_str()))
}

/// Writes `files` (entry name and the file holding its bytes) into the archive at `path`.
pub fn write_archive(path: &Path, files: &[(String, PathBuf)]) -> Result<(), SaveError> {
    let part = part_path(path);
    let result = write_entries(&part, files).and_then(|()| std::fs::rename(&part, path));
    result.map_err(|source| {
        let _ = std::fs::remove_file(&part);
        SaveError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

fn write_entries(part: &Path, files: &[(String, PathBuf)]) -> io::Result<()> {
    let mut archive = ZipWriter::new(BufWriter::new(File::create(part)?));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, file) in files {
        archive
            .start_file(name.as_str(), options)
            .map_err(io::Error::other)?;
        let bytes = std::fs::read(file)?;
        archive.write_all(&bytes)?;
    }
    archive.finish().map_err(io::Error::other)?.flush()
}

/// The entries of the archive at `path`: name and length, in archive order.
pub fn read_entries(path: &Path) -> io::Result<Vec<(String, u64)>> {
    let mut archive = ZipArchive::new(File::open(path)?).map_err(io::Error::other)?;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(io::Error::other)?;
        let name = entry.name().map_err(io::Error::other)?.into_owned();
        entries.push((name, entry.size()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_holds_the_files_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("01.jpg");
        let two = dir.path().join("02.png");
        std::fs::write(&one, [0xFF, 0xD8, 0xFF, 1, 2, 3]).unwrap();
        std::fs::write(&two, b"\x89PNG\r\n\x1a\n....").unwrap();
        let item: ItemId = "622619146604".parse().unwrap();
        let path = archive_path(dir.path(), &item);
        write_archive(&path, &[("01.jpg".into(), one), ("02.png".into(), two)]).unwrap();

        assert_eq!(
            read_entries(&path).unwrap(),
            [("01.jpg".to_string(), 6), ("02.png".to_string(), 12)]
        );
        assert!(!part_path(&path).exists());
        let mut archive = ZipArchive::new(File::open(&path).unwrap()).unwrap();
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut archive.by_name("01.jpg").unwrap(), &mut bytes).unwrap();
        assert_eq!(bytes, [0xFF, 0xD8, 0xFF, 1, 2, 3]);
    }

    #[test]
    fn a_missing_file_leaves_no_archive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.zip");
        let error = write_archive(&path, &[("01.jpg".into(), dir.path().join("gone"))]);
        assert!(error.is_err());
        assert!(!path.exists() && !part_path(&path).exists());
    }
}
