//! Pictures: fetch the bytes, read the real format from them, decode within limits, scale.
//!
//! The pipeline is [`Fetcher::fetch`] (async, network) → [`decode`] (CPU, for
//! `spawn_blocking`) → [`fit_decoded`] / [`resize_to_fit`] / [`crop_rows`] (CPU). Each
//! step is independent of the terminal and hands plain data to the next. The format is
//! always read from the bytes ([`sniff`]), never from a URL or a Content-Type; a downloaded
//! file is kept byte for byte as received, so saving it never re-encodes. Nothing here may
//! print, log a URL (picture URLs can carry signatures), or panic on what a server sends.

mod decode;
mod fetch;
mod format;
mod jpeg;
mod jpeg_dc;
mod scale;

use std::fmt;

pub use decode::{decode, Decoded, MAX_ALLOC, MAX_PIXELS};
pub use fetch::{route_url, FetchConfig, Fetched, Fetcher, DEFAULT_USER_AGENT};
pub use format::{sniff, Format};
pub use scale::{crop_rows, fit_decoded, fit_size, resize_to_fit};

/// Where a download was when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchStage {
    /// Resolving the host and opening the connection (TCP, TLS).
    Connect,
    /// Waiting for the response's status and headers.
    Answer,
    /// Receiving the body.
    Read,
}

impl fmt::Display for FetchStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FetchStage::Connect => "connecting",
            FetchStage::Answer => "waiting for the answer",
            FetchStage::Read => "reading the picture",
        })
    }
}

/// Why a picture could not be fetched or shown. Each variant is a situation the user can act
/// on; the message names what failed (the host, never the URL) and what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The picture URL is not an http(s) URL with a host.
    #[error("the picture URL is not a web address that can be downloaded")]
    InvalidUrl,
    /// The HTTP client could not be built (the TLS backend failed to start).
    #[error("cannot start the picture downloader ({detail}); please report this")]
    Client {
        /// The cause, as the TLS or HTTP library states it.
        detail: String,
    },
    /// The connection could not be opened.
    #[error("cannot connect to {host} ({detail}); check the network and retry")]
    Connect {
        /// The picture's host.
        host: String,
        /// The cause, such as "connection refused".
        detail: String,
    },
    /// A stage took longer than its timeout.
    #[error("{host} timed out while {stage}; check the network and retry")]
    Timeout {
        /// The picture's host.
        host: String,
        /// Where the download was.
        stage: FetchStage,
    },
    /// The connection broke before any of the body arrived.
    #[error("the download from {host} broke off ({detail}); retry")]
    Read {
        /// The picture's host.
        host: String,
        /// The cause, as the network library states it.
        detail: String,
    },
    /// The server answered with a status other than 2xx.
    #[error("{host} answered HTTP {status}; the picture may be gone or blocked, try opening it in a browser")]
    Http {
        /// The picture's host.
        host: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The server answered 2xx with no body at all.
    #[error("{host} sent an empty answer instead of the picture; retry later")]
    Empty {
        /// The picture's host.
        host: String,
    },
    /// The body is larger than the configured cap.
    #[error("the picture from {host} is larger than the {} MiB limit; open it in a browser instead", limit / (1024 * 1024))]
    TooLarge {
        /// The picture's host.
        host: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The header declares more pixels than allowed, no pixels, or more than its file could
    /// hold: a bomb, a lie, or damage.
    #[error("the picture is too large or invalid: {detail}; open it in a browser instead")]
    TooLargeOrInvalid {
        /// What the header declares.
        detail: String,
    },
    /// The body is a page or text, not a picture (a block page served as `image/jpeg`).
    #[error("not a picture: the bytes are {format}, starting with \"{first_bytes}\" (a server sends such a page when it refuses a download; open the URL in a browser to see it)")]
    NotAPicture {
        /// What the body is.
        format: Format,
        /// Its first bytes, made safe for the terminal.
        first_bytes: String,
    },
    /// A picture format that cannot be drawn here.
    #[error("{format} pictures cannot be previewed here; copy the URL or save the file to view it elsewhere")]
    Unsupported {
        /// The real format, read from the bytes.
        format: Format,
    },
    /// A picture in a format we draw, using a feature the decoder lacks (a 12-bit JPEG, for
    /// instance).
    #[error("this {format} picture uses a feature the previewer cannot draw ({detail}); save it to view it elsewhere")]
    UnsupportedFeature {
        /// The format, read from the bytes.
        format: Format,
        /// What the decoder said it lacks.
        detail: String,
    },
    /// The decoder gave up on the file.
    #[error("the picture is damaged ({detail}); if it came from the network, fetch it again")]
    Corrupt {
        /// What the decoder said.
        detail: String,
    },
}

/// `image` encoded as `format`: the files the media tests decode.
#[cfg(test)]
pub(crate) fn encode_for_test(image: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("a test picture encodes");
    bytes
}
