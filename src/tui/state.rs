//! The browser's state: plain data that `update` changes and `view` draws.
//!
//! Nothing here talks to the terminal or the network. Work in flight is identified by
//! generation numbers: a result carrying an older generation than the state's belongs to a
//! selection the user has left and is dropped.

use std::fmt;
use std::time::Duration;

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui_image::protocol::Protocol;

use crate::description::{Picture, Unusable};
use crate::item_id::ItemId;

use super::keys::Keymap;
use super::layout;

/// One formatted, highlighted line of the HTML panel.
pub type HtmlLine = Line<'static>;

/// Which pane takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The input line: keys are typed.
    Input,
    /// The picture list.
    List,
    /// The preview.
    Preview,
    /// The HTML panel.
    Html,
}

/// How the preview places a picture in its pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FitMode {
    /// The whole picture, shrunk to fit the pane.
    #[default]
    Whole,
    /// The picture fills the pane's width and scrolls vertically; tall description banners
    /// are unreadable when shrunk to fit.
    Width,
}

impl FitMode {
    /// The name the local store remembers the mode by.
    pub fn name(self) -> &'static str {
        match self {
            FitMode::Whole => "whole",
            FitMode::Width => "width",
        }
    }

    /// The mode a remembered name stands for; `None` for anything else.
    pub fn from_name(name: &str) -> Option<FitMode> {
        [FitMode::Whole, FitMode::Width]
            .into_iter()
            .find(|mode| mode.name() == name)
    }
}

/// What the start screen tells a new user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartInfo {
    /// `Some` on the demo catalogue: its offers, ID and a short label each.
    pub demo_offers: Option<Vec<(String, String)>>,
    /// The API host that will be asked (no token, no query).
    pub api_host: String,
    /// No API token is configured (outside the demo).
    pub token_missing: bool,
    /// `--offline`: the API is never called, so `r` cannot fetch again.
    pub offline: bool,
}

/// The line the user types an offer ID or link into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    /// The text, already made safe for the terminal.
    pub text: String,
    /// The cursor, as a char index into `text`.
    pub cursor: usize,
}

/// A description fetch in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loading {
    /// The offer asked for.
    pub item: ItemId,
    /// Its generation; a result with another one is dropped.
    pub generation: u64,
    /// When it started, on the runtime's clock.
    pub started: Duration,
}

/// What is known about a fetched picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureMeta {
    /// The real format, read from the bytes ("JPEG", "PNG", ...).
    pub format: String,
    /// Pixel size, when the header could be read.
    pub size: Option<(u32, u32)>,
    /// Bytes received.
    pub bytes: u64,
    /// The body ended before its announced length.
    pub truncated: bool,
}

/// Where one picture of the list stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    /// Not fetched yet.
    Waiting,
    /// Fetched; what is known about it.
    Fetched(PictureMeta),
    /// The fetch failed; why.
    Failed(String),
}

/// One row of the picture list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The picture.
    pub picture: Picture,
    /// How far its fetch got.
    pub state: RowState,
}

/// A loaded offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Its ID.
    pub item: ItemId,
    /// The generation it was loaded under.
    pub generation: u64,
    /// Its pictures, in list order.
    pub rows: Vec<Row>,
    /// References that cannot be fetched, shown under the list.
    pub unusable: Vec<Unusable>,
    /// The description HTML exactly as received.
    pub html: String,
    /// The HTML panel's lines, once formatted.
    pub html_lines: Option<Vec<HtmlLine>>,
    /// The selected row.
    pub selected: usize,
    /// The first row shown in the list.
    pub list_offset: usize,
    /// The first HTML line shown.
    pub html_offset: usize,
    /// How many columns the HTML is scrolled to the right.
    pub html_column: usize,
    /// How old the answer was when it came from the local store; `None` when fetched now.
    pub stored_age: Option<Duration>,
}

impl Offer {
    /// The selected picture, if the list is not empty.
    pub fn selected_row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }
}

/// Which picture a preview shows, at which size and position. Equal requests give equal
/// previews, so a result is kept only when it answers the latest request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRequest {
    /// The offer's generation.
    pub generation: u64,
    /// The row.
    pub index: usize,
    /// The picture's URL.
    pub url: String,
    /// The pane's inside, in cells.
    pub cols: u16,
    /// See `cols`.
    pub rows: u16,
    /// Fit or fill the width.
    pub mode: FitMode,
    /// In `FitMode::Width`, the first cell row shown.
    pub scroll: u32,
}

/// A prepared preview: the picture encoded for the terminal, and where it stands.
#[derive(Clone)]
pub struct PreviewImage {
    /// The encoded picture.
    pub protocol: Protocol,
    /// Cells it covers.
    pub area: Rect,
    /// The picture's full height in cell rows at the shown scale (for the position
    /// indicator in `FitMode::Width`).
    pub total_rows: u32,
    /// The picture's file was cut short; what is shown is partial.
    pub truncated: bool,
}

impl fmt::Debug for PreviewImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreviewImage")
            .field("area", &self.area)
            .field("total_rows", &self.total_rows)
            .field("truncated", &self.truncated)
            .finish_non_exhaustive()
    }
}

/// The preview pane's state.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// The latest request; `None` when there is nothing to prepare.
    pub request: Option<PreviewRequest>,
    /// The picture on screen and the request it answers. While a new request for the same
    /// picture is pending (scrolling, resizing) it stays, to avoid a blank flash; it is dropped
    /// as soon as the selection moves to another picture.
    pub shown: Option<(PreviewRequest, PreviewImage)>,
    /// Why the selected picture cannot be shown.
    pub error: Option<String>,
}

impl Preview {
    /// A request is waiting for its answer.
    pub fn is_pending(&self) -> bool {
        self.error.is_none()
            && self.request.is_some()
            && self.shown.as_ref().map(|(r, _)| r) != self.request.as_ref()
    }
}

/// A message in the status line; it stays until the next action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Something went as asked.
    Info(String),
    /// Something failed; the text says what and what to do.
    Error(String),
}

/// The history pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPane {
    /// The offers, newest first; `None` while they load.
    pub rows: Option<Vec<super::action::HistoryRow>>,
    /// The selected row.
    pub selected: usize,
    /// Why the history could not be read.
    pub error: Option<String>,
}

/// A download in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// Its number; steps of older downloads are not counted here.
    pub id: u64,
    /// The offer.
    pub item: ItemId,
    /// Pictures to save.
    pub total: usize,
    /// Pictures saved.
    pub saved: usize,
    /// Why pictures failed.
    pub failures: Vec<String>,
    /// Where the last picture went.
    pub last_path: Option<String>,
}

/// The whole browser.
#[derive(Debug, Clone)]
pub struct App {
    /// What the start screen says.
    pub start: StartInfo,
    /// The terminal size in cells.
    pub screen: Rect,
    /// Which pane takes the keys.
    pub focus: Focus,
    /// The pane that had the focus before the input line took it.
    pub focus_before_input: Focus,
    /// The input line.
    pub input: Input,
    /// The description fetch in flight.
    pub loading: Option<Loading>,
    /// The offer on screen.
    pub offer: Option<Offer>,
    /// The last fetch's error, while no offer is shown; fills the main area.
    pub failure: Option<String>,
    /// The status line's message.
    pub message: Option<Message>,
    /// The key help is open.
    pub help: bool,
    /// How far the help is scrolled down, in lines.
    pub help_scroll: u16,
    /// The history pane is open.
    pub history: Option<HistoryPane>,
    /// The download in progress, if any.
    pub download: Option<Download>,
    /// The number of the latest download.
    pub downloads_started: u64,
    /// The HTML panel is shown.
    pub html_visible: bool,
    /// The preview mode, kept across pictures and offers.
    pub fit: FitMode,
    /// The first cell row shown in `FitMode::Width`.
    pub preview_scroll: u32,
    /// The preview pane.
    pub preview: Preview,
    /// The key table.
    pub keymap: Keymap,
    /// The colours.
    pub theme: crate::config::Theme,
    /// The generation of the latest fetch; each new fetch takes the next.
    pub generation: u64,
    /// The runtime's clock, set before each action.
    pub clock: Duration,
    /// The user asked to quit.
    pub quit: bool,
    /// The whole screen must be redrawn (Ctrl-L).
    pub redraw: bool,
}

impl App {
    /// A browser with nothing loaded.
    pub fn new(start: StartInfo, screen: Rect) -> Self {
        App {
            start,
            screen,
            focus: Focus::Input,
            focus_before_input: Focus::List,
            input: Input::default(),
            loading: None,
            offer: None,
            failure: None,
            message: None,
            help: false,
            help_scroll: 0,
            history: None,
            download: None,
            downloads_started: 0,
            html_visible: true,
            fit: FitMode::default(),
            preview_scroll: 0,
            preview: Preview::default(),
            keymap: Keymap::default(),
            theme: crate::config::Theme::default(),
            generation: 0,
            clock: Duration::ZERO,
            quit: false,
            redraw: false,
        }
    }

    /// The panes for the current screen, or `None` when it is too small.
    pub fn areas(&self) -> Option<layout::Areas> {
        layout::areas(self.screen, self.html_visible)
    }

    /// Rows of the list pane's inside (at least one).
    pub fn list_height(&self) -> usize {
        self.areas()
            .map(|a| usize::from(layout::inner(a.list).height))
            .unwrap_or(1)
            .saturating_sub(list_footer_rows(self.offer.as_ref()))
            .max(1)
    }

    /// Rows of the HTML panel's inside (at least one).
    pub fn html_height(&self) -> usize {
        self.areas()
            .and_then(|a| a.html)
            .map(|r| usize::from(layout::inner(r).height))
            .unwrap_or(1)
            .max(1)
    }

    /// The preview pane's inside, less the line for the picture's caption.
    pub fn preview_cells(&self) -> Option<(u16, u16)> {
        let area = layout::inner(self.areas()?.preview);
        let rows = area.height.saturating_sub(1);
        (area.width > 0 && rows > 0).then_some((area.width, rows))
    }
}

/// Lines under the list that name unusable references (at most two).
pub fn list_footer_rows(offer: Option<&Offer>) -> usize {
    offer.map(|o| o.unusable.len().min(1) * 2).unwrap_or(0)
}
