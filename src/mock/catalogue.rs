//! The stand-in's catalogue: which offers it knows, what it answers for each, and the picture
//! bytes it serves in place of the CDN.
//!
//! The demo catalogue is compiled into the binary from `assets/demo/` (`catalogue.json`, the
//! answer bodies under `answers/` and the pictures under `pictures/`), so `--demo` works from
//! any directory and sends nothing off the machine. Tests build their own catalogues with
//! [`Catalogue::empty`], [`Catalogue::add_offer`] and [`Catalogue::add_picture`]. This module
//! only holds data; it never touches the network or the file system.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use include_dir::{include_dir, Dir};
use serde::Deserialize;

/// The demo catalogue's files, embedded at build time.
///
/// `include_dir` embeds each file with `include_bytes!`, so an edited file triggers a rebuild,
/// but a file added under `assets/demo/` is only picked up once this module is rebuilt.
static DEMO_ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

/// The name of the catalogue's index inside `assets/demo/`.
const INDEX_FILE: &str = "catalogue.json";

/// What the stand-in answers when asked for one offer.
#[derive(Debug, Clone, PartialEq)]
pub enum OfferAnswer {
    /// A complete JSON body, served with status 200 exactly as given (it may itself carry a
    /// `code` other than 200, as the real API sometimes does).
    Body(serde_json::Value),
    /// An HTTP error status, served with the body `{"code":N,"msg":"…","data":null}` whose
    /// message is the one the API documents for that status.
    Status(u16),
}

/// One offer the stand-in knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// The offer ID, as digits.
    pub item_id: String,
    /// A short English label saying what this offer shows, for the demo's offer list.
    pub label: String,
    /// What `item_desc` answers for it.
    pub answer: OfferAnswer,
}

/// Why the embedded demo catalogue could not be read.
///
/// Only a broken `assets/demo/` can cause these; the crate's tests load the embedded catalogue,
/// so a build that passes them never meets one.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A file that the catalogue names is not embedded.
    #[error("demo catalogue file {0} is missing; regenerate assets/demo and rebuild")]
    MissingFile(String),
    /// A JSON file of the catalogue does not parse.
    #[error("demo catalogue file {file} is not valid json ({source}); fix it and rebuild")]
    InvalidJson {
        /// The file, relative to `assets/demo/`.
        file: String,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// An offer names neither an answer file nor a status, or both.
    #[error("demo offer {0} needs exactly one of `answer` and `status`; fix catalogue.json")]
    AmbiguousOffer(String),
}

/// The offers and pictures that the stand-in serves.
#[derive(Clone, Default)]
pub struct Catalogue {
    offers: Vec<Offer>,
    /// Picture bytes by normalised URL (see [`picture_key`]).
    pictures: HashMap<String, Bytes>,
}

/// The layout of `assets/demo/catalogue.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    offers: Vec<IndexOffer>,
    /// Realistic CDN URL to a file under `assets/demo/`.
    pictures: BTreeMap<String, String>,
}

/// One offer of `catalogue.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexOffer {
    item_id: String,
    label: String,
    /// A JSON body file under `assets/demo/`, served with status 200.
    answer: Option<String>,
    /// An error status, served with its documented message.
    status: Option<u16>,
}

impl Catalogue {
    /// A catalogue with no offers and no pictures: every offer is unknown, every picture 404.
    pub fn empty() -> Self {
        Catalogue::default()
    }

    /// The demo catalogue compiled into the binary.
    ///
    /// Should the embedded files be broken, this logs why and returns an empty catalogue, so
    /// the demo still starts and answers every offer as unknown; [`Catalogue::try_embedded`]
    /// reports the fault instead.
    pub fn embedded() -> Self {
        Catalogue::try_embedded().unwrap_or_else(|error| {
            tracing::error!(%error, "the embedded demo catalogue is broken; serving an empty one");
            Catalogue::empty()
        })
    }

    /// The demo catalogue compiled into the binary, or why it cannot be read.
    pub fn try_embedded() -> Result<Self, CatalogueError> {
        let index: IndexFile = parse_json(INDEX_FILE, embedded_file(INDEX_FILE)?)?;
        let mut catalogue = Catalogue::empty();

        for offer in index.offers {
            let answer = match (offer.answer, offer.status) {
                (Some(file), None) => OfferAnswer::Body(parse_json(&file, embedded_file(&file)?)?),
                (None, Some(status)) => OfferAnswer::Status(status),
                _ => return Err(CatalogueError::AmbiguousOffer(offer.item_id)),
            };
            catalogue.add_offer(&offer.item_id, &offer.label, answer);
        }

        for (url, file) in index.pictures {
            let bytes = embedded_file(&file)?;
            catalogue.insert_picture(&url, Bytes::from_static(bytes));
        }
        Ok(catalogue)
    }

    /// Adds an offer, or replaces the one with the same ID; offers keep the order they were
    /// first added in.
    pub fn add_offer(&mut self, item_id: &str, label: &str, answer: OfferAnswer) {
        let offer = Offer {
            item_id: item_id.to_string(),
            label: label.to_string(),
            answer,
        };
        match self
            .offers
            .iter_mut()
            .find(|known| known.item_id == item_id)
        {
            Some(known) => *known = offer,
            None => self.offers.push(offer),
        }
    }

    /// Adds a picture, served at the stand-in's rewritten address for `url` with status 200
    /// and a Content-Type guessed from the URL's suffix.
    pub fn add_picture(&mut self, url: &str, bytes: Vec<u8>) {
        self.insert_picture(url, Bytes::from(bytes));
    }

    /// The offers, in catalogue order.
    pub fn offers(&self) -> &[Offer] {
        &self.offers
    }

    /// The offer with this ID, if the catalogue knows it.
    pub fn offer(&self, item_id: &str) -> Option<&Offer> {
        self.offers.iter().find(|offer| offer.item_id == item_id)
    }

    /// The URLs of all pictures the catalogue serves, normalised, in no particular order.
    pub fn picture_urls(&self) -> impl Iterator<Item = &str> {
        self.pictures.keys().map(String::as_str)
    }

    /// The bytes served for a picture URL, exactly as it is written (no fallbacks).
    pub fn picture(&self, url: &str) -> Option<&Bytes> {
        self.pictures.get(&picture_key(url))
    }

    fn insert_picture(&mut self, url: &str, bytes: Bytes) {
        self.pictures.insert(picture_key(url), bytes);
    }
}

impl std::fmt::Debug for Catalogue {
    // Picture bytes would flood any log they were printed to; their count says enough.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("offers", &self.offers)
            .field("pictures", &self.pictures.len())
            .finish()
    }
}

/// The total size in bytes of the embedded demo files, which every `descview` binary carries.
pub fn embedded_assets_len() -> u64 {
    fn dir_len(dir: &Dir<'_>) -> u64 {
        let files: u64 = dir.files().map(|file| file.contents().len() as u64).sum();
        files + dir.dirs().map(dir_len).sum::<u64>()
    }
    dir_len(&DEMO_ASSETS)
}

/// The form under which a picture URL is stored and looked up.
///
/// Pictures are added under the URL as written and requested under the URL that a client
/// rebuilt from a parsed `url::Url`, which percent-encodes what a browser would (spaces,
/// non-ASCII) and lower-cases the host; putting both through the same parser makes them meet.
pub(crate) fn picture_key(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(parsed) => parsed.to_string(),
        Err(_) => url.trim().to_string(),
    }
}

fn embedded_file(path: &str) -> Result<&'static [u8], CatalogueError> {
    DEMO_ASSETS
        .get_file(path)
        .map(|file| file.contents())
        .ok_or_else(|| CatalogueError::MissingFile(path.to_string()))
}

fn parse_json<T: serde::de::DeserializeOwned>(
    file: &str,
    bytes: &[u8],
) -> Result<T, CatalogueError> {
    serde_json::from_slice(bytes).map_err(|source| CatalogueError::InvalidJson {
        file: file.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_loads_completely() {
        let catalogue = Catalogue::try_embedded();
        assert!(catalogue.is_ok(), "{:?}", catalogue.err());
    }

    #[test]
    fn adding_an_offer_twice_replaces_it_in_place() {
        let mut catalogue = Catalogue::empty();
        catalogue.add_offer("1", "first", OfferAnswer::Status(417));
        catalogue.add_offer("2", "second", OfferAnswer::Status(500));
        catalogue.add_offer("1", "first again", OfferAnswer::Status(503));

        let ids: Vec<&str> = catalogue
            .offers()
            .iter()
            .map(|o| o.item_id.as_str())
            .collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(
            catalogue.offer("1").map(|o| &o.answer),
            Some(&OfferAnswer::Status(503))
        );
    }

    #[test]
    fn pictures_are_found_under_an_equivalent_spelling() {
        let mut catalogue = Catalogue::empty();
        catalogue.add_picture("https://CBU01.alicdn.com/img/a b.jpg", vec![1, 2, 3]);

        let found = catalogue.picture("https://cbu01.alicdn.com/img/a%20b.jpg");
        assert_eq!(found.map(|bytes| bytes.as_ref()), Some(&[1u8, 2, 3][..]));
    }
}
