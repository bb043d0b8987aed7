//! What can happen to the browser (`Action`) and what the browser asks the runtime to do
//! (`Effect`).
//!
//! Actions come from the keyboard and from finished work; effects are requests that the
//! runtime carries out off the UI task and answers with more actions. Both are plain data so
//! that `update` can be tested without a terminal or a network.

use crate::description::Description;
use crate::item_id::ItemId;
use crate::tmapi::ItemDesc;

use super::state::{FitMode, PictureMeta, PreviewImage, PreviewRequest};

/// Something that happened, for `update` to act on.
#[derive(Debug)]
pub enum Action {
    /// A key, already reduced to what the browser needs to know.
    Key(Key),
    /// A mouse click or wheel turn.
    Mouse(Mouse),
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    /// The terminal has a new size, in cells.
    Resize { width: u16, height: u16 },
    /// Time passed; animates the spinner while something runs.
    Tick,
    /// A description fetch finished (or failed) for the fetch with this generation.
    DescriptionLoaded {
        generation: u64,
        item: ItemId,
        result: Result<Loaded, String>,
    },
    /// The HTML panel's lines are formatted and highlighted.
    HtmlReady {
        generation: u64,
        lines: Vec<super::state::HtmlLine>,
    },
    /// A picture's bytes arrived (or failed) for the offer with this generation.
    PictureFetched {
        generation: u64,
        index: usize,
        result: Result<PictureMeta, String>,
    },
    /// A preview was prepared (or failed) for this request.
    PreviewReady {
        request: PreviewRequest,
        result: Result<PreviewImage, String>,
    },
    /// The history pane's entries arrived.
    HistoryLoaded(Result<Vec<HistoryRow>, String>),
    /// One picture of a download was saved (or failed).
    DownloadStep {
        /// The download's number.
        download: u64,
        /// Where it was saved, or why not.
        result: Result<String, String>,
    },
    /// A clipboard write finished; the text says which route was used.
    Copied(Result<String, String>),
    /// Opening a URL in the browser finished.
    Opened(Result<String, String>),
}

/// A fetched description and the pictures extracted from it (extraction runs off the UI task:
/// a description can be megabytes of HTML).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The API's answer.
    pub desc: ItemDesc,
    /// Its pictures.
    pub description: Description,
    /// How old the answer is when it came from the local store; `None` when just fetched.
    pub stored_age: Option<std::time::Duration>,
}

/// One offer of the history pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The offer.
    pub item: ItemId,
    /// When it was last opened, as people say it ("5 min ago").
    pub when: String,
    /// How many pictures it has.
    pub pictures: usize,
    /// A short label, safe for the terminal.
    pub label: String,
}

/// A mouse event, reduced to what the browser uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mouse {
    /// What happened.
    pub kind: MouseKind,
    /// The cell's column.
    pub column: u16,
    /// The cell's row.
    pub row: u16,
}

/// The mouse events the browser reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    /// The left button went down.
    Click,
    /// The wheel turned away from the user.
    WheelUp,
    /// The wheel turned towards the user.
    WheelDown,
}

/// A key press, with the modifiers that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character (shift already applied).
    Char(char),
    /// A character with Ctrl held.
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

/// Work for the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Fetch an offer's description (from the local store unless `refresh`); answer with
    /// `DescriptionLoaded` carrying `generation`.
    FetchDescription {
        generation: u64,
        item: ItemId,
        refresh: bool,
    },
    /// Read the history of opened offers; answer with `HistoryLoaded`.
    LoadHistory,
    /// Save pictures `(position from 1, URL)` of `item`, whose list has `total` pictures, into
    /// the download folder; answer with one `DownloadStep` each.
    Download {
        download: u64,
        item: ItemId,
        total: usize,
        pictures: Vec<(usize, String)>,
    },
    /// Abort the running description fetch, if any.
    CancelDescription,
    /// Format and highlight the description HTML for the panel.
    FormatHtml { generation: u64, html: String },
    /// Fetch the pictures of the current offer (bytes into the cache, metadata back), in the
    /// given order of priority.
    FetchPictures {
        generation: u64,
        urls: Vec<(usize, String)>,
    },
    /// Abort picture work of older offers.
    CancelPictures,
    /// Prepare the preview of one picture for one pane size.
    PreparePreview(PreviewRequest),
    /// While idle, fetch and decode these neighbours of the selection into the cache, so
    /// that moving to them shows them at once. Dropped as soon as the selection moves.
    Prefetch(Vec<PreviewRequest>),
    /// Put text on the clipboard; `what` names it for the status line.
    Copy { text: String, what: String },
    /// Open a URL in the default browser.
    OpenUrl(String),
    /// Keep the preview's fit mode for the next run.
    RememberFit(FitMode),
}
