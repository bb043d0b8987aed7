//! The runtime: owns the terminal and runs the effects that `update` asks for.
//!
//! One `select!` loop reads terminal events, finished work and signals, feeds each to
//! `update`, and redraws when the state changed. Network work runs as tokio tasks and CPU work
//! (extraction, decoding, scaling, encoding, highlighting) in `spawn_blocking`, so a key is
//! never kept waiting. Work for a selection the user has left is aborted before it starts a
//! decode, and whatever still finishes late is dropped by `update` (generation numbers).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{
    Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use futures_util::StreamExt;
use image::DynamicImage;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use ratatui_image::picker::{Picker, ProtocolType};
use tokio::sync::{mpsc, OnceCell, Semaphore};
use tokio::task::AbortHandle;

use crate::cache::WeightedLru;
use crate::clipboard::Clipboard;
use crate::description;
use crate::download;
use crate::item_id::ItemId;
use crate::media::{self, Fetched, Fetcher};
use crate::store::{self, Policy, Store};
use crate::tmapi::Client;

use super::action::{Action, Effect, HistoryRow, Key, Loaded, Mouse, MouseKind};
use super::preview::{self, CellGeometry};
use super::state::{App, FitMode, PictureMeta, PreviewImage, PreviewRequest, StartInfo};
use super::{html_panel, terminal, update, view};

/// Offers the history pane lists.
const HISTORY_ROWS: usize = 200;
/// Pictures saved at once by `D`.
const PARALLEL_SAVES: usize = 4;
/// Picture fetches in flight at once while the list fills; the selected picture's fetch does
/// not wait for these.
const PARALLEL_FETCHES: usize = 4;
/// How long a new preview request waits before starting work, so that holding a key down
/// over many pictures does not start a decode for each one passed.
const PREVIEW_DEBOUNCE: Duration = Duration::from_millis(40);
/// How often the spinner turns while something runs.
const TICK: Duration = Duration::from_millis(100);

/// What the browser needs from the outside world.
#[derive(Clone)]
pub struct Services {
    /// The API client (real, or pointed at the local stand-in).
    pub client: Client,
    /// The picture fetcher.
    pub fetcher: Fetcher,
    /// The local store (kept answers, history, the picture cache); without one every offer
    /// costs an API call.
    pub store: Option<Store>,
    /// The key answers are kept under: the API base, or the demo's own.
    pub scope: String,
    /// Never call the API (`--offline`).
    pub offline: bool,
    /// Where `d` and `D` save pictures.
    pub download_dir: PathBuf,
}

impl Services {
    /// Services without a store, saving into `download_dir`; for tests and benchmarks.
    pub fn without_store(client: Client, fetcher: Fetcher, download_dir: PathBuf) -> Self {
        Services {
            client,
            fetcher,
            store: None,
            scope: String::new(),
            offline: false,
            download_dir,
        }
    }
}

/// An offer's description, from the store unless `refresh` (then one API call), with its
/// pictures extracted off the async threads; the opening is recorded in the history.
pub async fn fetch_description(
    services: &Services,
    item: &ItemId,
    refresh: bool,
) -> Result<Loaded, String> {
    let policy = Policy {
        refresh,
        offline: services.offline,
    };
    let answer = store::answers::get_or_fetch(
        services.store.as_ref(),
        &services.client,
        &services.scope,
        item,
        policy,
    )
    .await
    .map_err(|e| e.to_string())?;
    let stored_age = answer.age();
    let desc = answer.desc;
    let loaded = tokio::task::spawn_blocking(move || {
        let description = description::extract(&desc.detail_imgs, &desc.detail_html);
        Loaded {
            desc,
            description,
            stored_age,
        }
    })
    .await
    .map_err(|_| "reading the description failed".to_string())?;

    if let Some(store) = services.store.clone() {
        let (scope, item) = (services.scope.clone(), item.clone());
        let pictures = loaded.description.pictures.len();
        let label = store::label_for(&loaded.desc, pictures);
        let recorded =
            tokio::task::spawn_blocking(move || store.record_open(&scope, &item, pictures, &label))
                .await;
        if let Ok(Err(error)) = recorded {
            tracing::warn!(%error, "could not record the offer in the history");
        }
    }
    Ok(loaded)
}

/// The most recent offers of the history, newest first.
pub async fn load_history(services: &Services) -> Result<Vec<HistoryRow>, String> {
    let Some(store) = services.store.clone() else {
        return Err("there is no local store, so no history: check `descview doctor`".to_string());
    };
    let scope = services.scope.clone();
    let entries = tokio::task::spawn_blocking(move || store.recent(&scope, HISTORY_ROWS))
        .await
        .map_err(|_| "reading the history failed".to_string())?
        .map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now();
    Ok(entries
        .into_iter()
        .map(|entry| HistoryRow {
            when: store::describe_age(now.duration_since(entry.opened_at).unwrap_or_default()),
            item: entry.item,
            pictures: entry.pictures,
            label: entry.label,
        })
        .collect())
}

/// Saves one picture for `d`/`D`; the text is where it went, or why it did not.
pub async fn save_one(
    services: &Services,
    item: &ItemId,
    position: usize,
    total: usize,
    url: &str,
) -> Result<String, String> {
    download::save_picture(
        &services.fetcher,
        services.store.as_ref(),
        &services.download_dir,
        item,
        position,
        total,
        url,
    )
    .await
    .map(|saved| saved.path.display().to_string())
    .map_err(|e| format!("picture {position}: {e}"))
}

/// How the browser starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// What the start screen says.
    pub start: StartInfo,
    /// An offer to open right away.
    pub item: Option<ItemId>,
    /// A forced picture protocol; detected when `None`.
    pub protocol: Option<ProtocolType>,
    /// Bytes of text that OSC 52 may carry.
    pub osc52_limit: usize,
    /// Bytes of decoded pictures kept in memory.
    pub cache_bytes: usize,
    /// The key table (defaults with the configuration file's changes).
    pub keymap: super::keys::Keymap,
    /// The colours.
    pub theme: crate::config::Theme,
}

/// How the browser ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// A signal ended it (its number); shells expect the status 128 + that number.
    Signal(i32),
}

/// Runs the browser until the user quits or a signal ends it; the terminal is restored on
/// every way out.
/// The store's name for the fit mode the user chose last.
const FIT_PREFERENCE: &str = "preview_fit";

/// The fit mode the user chose last time, or the default (also without a store).
pub(crate) fn remembered_fit(store: Option<&Store>) -> FitMode {
    store
        .and_then(|store| store.preference(FIT_PREFERENCE).ok().flatten())
        .and_then(|name| FitMode::from_name(&name))
        .unwrap_or_default()
}

/// Keeps the fit mode for the next run. Failing to is logged, not shown: the mode is in force
/// for this run either way.
pub(crate) fn remember_fit(store: Option<&Store>, fit: FitMode) {
    if let Some(Err(error)) = store.map(|store| store.set_preference(FIT_PREFERENCE, fit.name())) {
        tracing::warn!(%error, "could not remember the preview's fit mode");
    }
}

pub async fn run(services: Services, options: Options) -> anyhow::Result<Ended> {
    // crossterm drops every colour under NO_COLOR, the pictures' too. NO_COLOR is about
    // decorating text; the theme already honours it (no colours for text), and a picture's
    // colours are its content.
    crossterm::style::force_color_output(true);
    let guard = terminal::TerminalGuard::enter()?;
    // Queried after entering the alternate screen and before the event stream starts, so
    // the answer cannot be mistaken for keys.
    let picker = terminal::detect_picker(options.protocol);
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    term.hide_cursor()?;
    let size = term.size()?;

    let mut app = App::new(
        options.start.clone(),
        ratatui::layout::Rect::new(0, 0, size.width, size.height),
    );
    app.keymap = options.keymap.clone();
    app.theme = options.theme;
    app.fit = remembered_fit(services.store.as_ref());
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut executor = Executor::new(services, picker, tx.clone(), &options);
    let started = Instant::now();

    if let Some(item) = &options.item {
        app.input.text = item.to_string();
        app.input.cursor = app.input.text.chars().count();
        let effects = update::update(&mut app, Action::Key(Key::Enter));
        executor.run_all(effects);
    }

    // A test hook: the terminal tests check that a panic restores the terminal first.
    let panic_on_key = std::env::var_os("DESCVIEW_TEST_PANIC_ON_KEY").is_some();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut signals = Signals::new()?;
    let mut dirty = true;
    let mut ended = Ended::Quit;

    while !app.quit {
        if dirty {
            if app.redraw {
                // Not `Terminal::clear`: it asks the terminal for the cursor position, and a
                // terminal that never answers would end the browser with an error.
                use ratatui::backend::{Backend, ClearType};
                term.backend_mut().clear_region(ClearType::All)?;
                // Both buffers blank: the next frame is drawn in full.
                term.swap_buffers();
                app.redraw = false;
            }
            term.draw(|frame| view::view(&app, frame))?;
            executor.flush_terminal_writes(term.backend_mut())?;
            dirty = false;
        }
        let animating = app.loading.is_some() || app.preview.is_pending() || app.download.is_some();
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => translate(event),
                Some(Err(error)) => return Err(error.into()),
                None => break,
            },
            Some(action) = rx.recv() => Some(action),
            _ = tick.tick(), if animating => Some(Action::Tick),
            signal = signals.recv() => {
                ended = Ended::Signal(signal);
                app.quit = true;
                None
            }
        };
        let Some(action) = action else { continue };
        if panic_on_key && matches!(action, Action::Key(_)) {
            panic!("test panic on a key (DESCVIEW_TEST_PANIC_ON_KEY)");
        }
        app.clock = started.elapsed();
        let effects = update::update(&mut app, action);
        executor.run_all(effects);
        dirty = true;
    }

    executor.shutdown();
    drop(term);
    drop(guard);
    Ok(ended)
}

/// SIGTERM, SIGHUP and SIGINT end the browser like `q` does, so the terminal is restored.
struct Signals {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                streams: vec![
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::hangup())?,
                    signal(SignalKind::interrupt())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for a signal and returns its number.
    async fn recv(&mut self) -> i32 {
        #[cfg(unix)]
        {
            const NUMBERS: [i32; 3] = [15, 1, 2];
            let waits = self.streams.iter_mut().map(|s| Box::pin(s.recv()));
            let (_, which, _) = futures_util::future::select_all(waits).await;
            NUMBERS.get(which).copied().unwrap_or(15)
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            2
        }
    }
}

/// Reduces a terminal event to the action `update` understands.
pub fn translate(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) => translate_key(key).map(Action::Key),
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Mouse(mouse) => translate_mouse(mouse).map(Action::Mouse),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

fn translate_mouse(event: MouseEvent) -> Option<Mouse> {
    let kind = match event.kind {
        MouseEventKind::Down(MouseButton::Left) => MouseKind::Click,
        MouseEventKind::ScrollUp => MouseKind::WheelUp,
        MouseEventKind::ScrollDown => MouseKind::WheelDown,
        _ => return None,
    };
    Some(Mouse {
        kind,
        column: event.column,
        row: event.row,
    })
}

fn translate_key(event: KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(_) if event.modifiers.contains(KeyModifiers::ALT) => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

/// A picture fetch's outcome, shared by everyone who waited for it.
type FetchResult = Result<Arc<Fetched>, String>;

/// Picture bytes and decoded pictures, shared by the list's fetches and the preview, each
/// fetched once however many ask for it at the same time.
pub struct PictureStore {
    fetcher: Fetcher,
    disk: Option<Store>,
    fetch_slots: Semaphore,
    bytes: Mutex<WeightedLru<String, Arc<Fetched>>>,
    in_flight: Mutex<HashMap<String, Arc<OnceCell<FetchResult>>>>,
    decoded: Mutex<WeightedLru<(String, u32, u32), Arc<ScaledPicture>>>,
    decodes_started: Mutex<HashMap<String, usize>>,
}

/// A picture decoded and scaled for one pane size.
pub struct ScaledPicture {
    image: DynamicImage,
    truncated: bool,
}

impl PictureStore {
    /// A store that keeps at most `cache_bytes` of pictures in memory (a quarter for fetched
    /// bytes, the rest for decoded and scaled pictures, which are what make moving back
    /// instant), in front of the local store's picture cache on disk (`disk`).
    pub fn new(fetcher: Fetcher, disk: Option<Store>, cache_bytes: usize) -> Self {
        PictureStore {
            fetcher,
            disk,
            fetch_slots: Semaphore::new(PARALLEL_FETCHES),
            bytes: Mutex::new(WeightedLru::new(cache_bytes / 4)),
            in_flight: Mutex::new(HashMap::new()),
            decoded: Mutex::new(WeightedLru::new(cache_bytes - cache_bytes / 4)),
            decodes_started: Mutex::new(HashMap::new()),
        }
    }

    /// The picture's bytes: from the cache, from a fetch already running, or fetched now.
    /// `urgent` fetches (the selected picture) do not queue behind the list's.
    pub async fn bytes(&self, url: &str, urgent: bool) -> Result<Arc<Fetched>, String> {
        if let Some(hit) = lock(&self.bytes).get(url) {
            return Ok(hit);
        }
        let cell = lock(&self.in_flight)
            .entry(url.to_string())
            .or_default()
            .clone();
        let result = cell
            .get_or_init(|| async {
                let _slot = if urgent {
                    None
                } else {
                    self.fetch_slots.acquire().await.ok()
                };
                store::fetch_cached(self.disk.as_ref(), &self.fetcher, url)
                    .await
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .await
            .clone();
        lock(&self.in_flight).remove(url);
        if let Ok(fetched) = &result {
            lock(&self.bytes).insert(url.to_string(), fetched.clone(), fetched.bytes.len());
        }
        result
    }

    /// How many decodes were started for `url` (for the scripted-session benchmark).
    pub fn decodes_started(&self, url: &str) -> usize {
        lock(&self.decodes_started).get(url).copied().unwrap_or(0)
    }

    /// Decodes and scales `fetched` for the request's box, or takes it from the cache. CPU
    /// work: call from `spawn_blocking`.
    pub fn scaled(
        &self,
        fetched: &Fetched,
        request: &PreviewRequest,
        geometry: CellGeometry,
    ) -> Result<Arc<ScaledPicture>, String> {
        let (width, height) = preview::decode_box(request, geometry);
        let key = (request.url.clone(), width, height);
        if let Some(hit) = lock(&self.decoded).get(&key) {
            return Ok(hit);
        }
        *lock(&self.decodes_started)
            .entry(request.url.clone())
            .or_default() += 1;
        let decoded =
            media::decode(&fetched.bytes, Some((width, height))).map_err(|e| e.to_string())?;
        let image = preview::scale(&decoded, request, geometry);
        let weight = image.as_bytes().len();
        let scaled = Arc::new(ScaledPicture {
            image,
            truncated: decoded.truncated || fetched.truncated,
        });
        lock(&self.decoded).insert(key, scaled.clone(), weight);
        Ok(scaled)
    }
}

/// A poisoned lock only means another task panicked while holding it; the data is a cache.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs effects and remembers the tasks it may have to cancel.
struct Executor {
    services: Services,
    store: Arc<PictureStore>,
    picker: Arc<Picker>,
    geometry: CellGeometry,
    tx: mpsc::UnboundedSender<Action>,
    clipboard: Clipboard,
    terminal_writes: Vec<String>,
    description_task: Option<AbortHandle>,
    picture_tasks: Vec<AbortHandle>,
    preview_task: Option<AbortHandle>,
    prefetch_task: Option<AbortHandle>,
    colors: bool,
}

impl Executor {
    fn new(
        services: Services,
        picker: Picker,
        tx: mpsc::UnboundedSender<Action>,
        options: &Options,
    ) -> Self {
        let cache_bytes = if options.cache_bytes == 0 {
            256 << 20
        } else {
            options.cache_bytes
        };
        let osc52_limit = if options.osc52_limit == 0 {
            crate::clipboard::DEFAULT_OSC52_LIMIT
        } else {
            options.osc52_limit
        };
        Executor {
            store: Arc::new(PictureStore::new(
                services.fetcher.clone(),
                services.store.clone(),
                cache_bytes,
            )),
            services,
            geometry: CellGeometry::of(&picker),
            picker: Arc::new(picker),
            tx,
            clipboard: Clipboard::new(osc52_limit),
            terminal_writes: Vec::new(),
            description_task: None,
            picture_tasks: Vec::new(),
            preview_task: None,
            prefetch_task: None,
            colors: options.theme.colors,
        }
    }

    fn run_all(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            self.run(effect);
        }
    }

    fn run(&mut self, effect: Effect) {
        match effect {
            Effect::FetchDescription {
                generation,
                item,
                refresh,
            } => {
                let services = self.services.clone();
                let tx = self.tx.clone();
                let task = tokio::spawn(async move {
                    let result = fetch_description(&services, &item, refresh).await;
                    let _ = tx.send(Action::DescriptionLoaded {
                        generation,
                        item,
                        result,
                    });
                });
                self.description_task = Some(task.abort_handle());
            }
            Effect::CancelDescription => {
                if let Some(task) = self.description_task.take() {
                    task.abort();
                }
            }
            Effect::FormatHtml { generation, html } => {
                let tx = self.tx.clone();
                let colors = self.colors;
                tokio::task::spawn_blocking(move || {
                    let lines = html_panel::render(&html, colors);
                    let _ = tx.send(Action::HtmlReady { generation, lines });
                });
            }
            Effect::FetchPictures { generation, urls } => {
                for (index, url) in urls {
                    let store = self.store.clone();
                    let tx = self.tx.clone();
                    let task = tokio::spawn(async move {
                        let result = store.bytes(&url, false).await.map(|f| meta_of(&f));
                        let _ = tx.send(Action::PictureFetched {
                            generation,
                            index,
                            result,
                        });
                    });
                    self.picture_tasks.push(task.abort_handle());
                }
            }
            Effect::CancelPictures => {
                for task in self.picture_tasks.drain(..) {
                    task.abort();
                }
            }
            Effect::LoadHistory => {
                let services = self.services.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(Action::HistoryLoaded(load_history(&services).await));
                });
            }
            Effect::Download {
                download,
                item,
                total,
                pictures,
            } => {
                let services = self.services.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    futures_util::stream::iter(pictures)
                        .for_each_concurrent(PARALLEL_SAVES, |(position, url)| {
                            let (services, tx, item) = (&services, &tx, &item);
                            async move {
                                let result = save_one(services, item, position, total, &url).await;
                                let _ = tx.send(Action::DownloadStep { download, result });
                            }
                        })
                        .await;
                });
            }
            Effect::PreparePreview(request) => self.prepare_preview(request),
            Effect::Prefetch(requests) => self.prefetch(requests),
            Effect::Copy { text, what } => {
                let report = self.clipboard.copy(&text);
                if let Some(sequence) = &report.osc52 {
                    self.terminal_writes.push(sequence.clone());
                }
                let _ = self.tx.send(Action::Copied(report.describe(&what)));
            }
            Effect::RememberFit(fit) => {
                let store = self.services.store.clone();
                tokio::task::spawn_blocking(move || remember_fit(store.as_ref(), fit));
            }
            Effect::OpenUrl(url) => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = open::that_detached(&url)
                        .map(|_| "opened the picture in the default browser".to_string())
                        .map_err(|error| {
                            // The launcher's own error is a debug dump of its exit status.
                            tracing::warn!(%error, "opening a browser failed");
                            "no browser could be opened here; y copies the URL instead".to_string()
                        });
                    let _ = tx.send(Action::Opened(result));
                });
            }
        }
    }

    fn prepare_preview(&mut self, request: PreviewRequest) {
        for task in [self.preview_task.take(), self.prefetch_task.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        let store = self.store.clone();
        let picker = self.picker.clone();
        let geometry = self.geometry;
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(PREVIEW_DEBOUNCE).await;
            let result = match store.bytes(&request.url, true).await {
                Ok(fetched) => {
                    let store = store.clone();
                    let request = request.clone();
                    tokio::task::spawn_blocking(move || {
                        let scaled = store.scaled(&fetched, &request, geometry)?;
                        preview::encode(
                            &scaled.image,
                            &request,
                            geometry,
                            &picker,
                            scaled.truncated,
                        )
                    })
                    .await
                    .unwrap_or_else(|_| {
                        Err("the picture could not be decoded (decoder failure)".to_string())
                    })
                }
                Err(error) => Err(error),
            };
            let _ = tx.send(Action::PreviewReady { request, result });
        });
        self.preview_task = Some(task.abort_handle());
    }

    fn prefetch(&mut self, requests: Vec<PreviewRequest>) {
        let store = self.store.clone();
        let geometry = self.geometry;
        let task = tokio::spawn(async move {
            for request in requests {
                let Ok(fetched) = store.bytes(&request.url, false).await else {
                    continue;
                };
                let store = store.clone();
                // One at a time, so a prefetch never takes both cores from the next preview.
                let _ =
                    tokio::task::spawn_blocking(move || store.scaled(&fetched, &request, geometry))
                        .await;
            }
        });
        self.prefetch_task = Some(task.abort_handle());
    }

    /// Writes what must reach the terminal between frames (OSC 52).
    fn flush_terminal_writes(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        for sequence in self.terminal_writes.drain(..) {
            out.write_all(sequence.as_bytes())?;
        }
        out.flush()
    }

    fn shutdown(&mut self) {
        self.run(Effect::CancelDescription);
        self.run(Effect::CancelPictures);
        for task in [self.preview_task.take(), self.prefetch_task.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
    }
}

/// What the list shows about a fetched picture.
pub fn meta_of(fetched: &Fetched) -> PictureMeta {
    PictureMeta {
        format: fetched.format.name().to_string(),
        size: preview::probe_size(&fetched.bytes),
        bytes: fetched.bytes.len() as u64,
        truncated: fetched.truncated,
    }
}

/// The preview that a request gets, computed without a terminal: for tests and benchmarks
/// that drive the same pipeline as the browser.
pub async fn prepare_offline(
    store: &PictureStore,
    request: &PreviewRequest,
    picker: &Picker,
) -> Result<PreviewImage, String> {
    let fetched = store.bytes(&request.url, true).await?;
    let geometry = CellGeometry::of(picker);
    let scaled = store.scaled(&fetched, request, geometry)?;
    preview::encode(&scaled.image, request, geometry, picker, scaled.truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Session, SessionConfig};
    use crate::tui::state::FitMode;

    /// Holding Down: a burst of preview requests over all of an offer's pictures, against the
    /// demo stand-in over loopback. Only pictures the selection rested on long enough get
    /// decoded, none twice, and the last answer is for the last picture.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn holding_down_decodes_each_picture_at_most_once_and_ends_on_the_last() {
        let session = Session::open(&SessionConfig {
            demo: true,
            ..Default::default()
        })
        .await
        .unwrap();
        let services = Services {
            client: session.client.clone(),
            fetcher: session.fetcher.clone(),
            store: None,
            scope: session.scope(),
            offline: false,
            download_dir: std::env::temp_dir(),
        };
        let item: ItemId = "622619146604".parse().unwrap();
        let loaded = fetch_description(&services, &item, false).await.unwrap();
        let urls: Vec<String> = loaded
            .description
            .pictures
            .iter()
            .map(|picture| picture.url.clone())
            .collect();
        assert_eq!(urls.len(), 15);

        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut executor = Executor::new(services, Picker::halfblocks(), tx, &Options::default());
        let request = |index: usize| PreviewRequest {
            generation: 1,
            index,
            url: urls[index].clone(),
            cols: 60,
            rows: 30,
            mode: FitMode::Whole,
            scroll: 0,
        };
        // Faster than the debounce, as key repeat is when the terminal delivers a burst.
        for index in 0..urls.len() {
            executor.run(Effect::PreparePreview(request(index)));
            tokio::task::yield_now().await;
        }

        let last = loop {
            let action = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("the last preview arrives")
                .expect("the channel stays open");
            if let Action::PreviewReady { request, .. } = action {
                if request.index == urls.len() - 1 {
                    break request;
                }
            }
        };
        assert_eq!(last, request(urls.len() - 1));
        let decodes: Vec<usize> = urls
            .iter()
            .map(|url| executor.store.decodes_started(url))
            .collect();
        assert!(decodes.iter().all(|&n| n <= 1), "{decodes:?}");
        assert!(
            decodes.iter().sum::<usize>() < urls.len(),
            "moving on dropped the work for pictures passed over: {decodes:?}"
        );
        // Nothing for an earlier picture arrives after the last one.
        tokio::time::sleep(Duration::from_millis(200)).await;
        while let Ok(action) = rx.try_recv() {
            assert!(
                !matches!(action, Action::PreviewReady { .. }),
                "a stale preview arrived after the last: {action:?}"
            );
        }
    }
}
