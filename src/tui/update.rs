//! `update`: the browser's one state transition.
//!
//! A pure function of the state and an action that returns the effects for the runtime to run.
//! It never blocks, never touches the terminal or the network, and drops every result that
//! belongs to a fetch or selection the user has already left.

use crate::item_id::ItemId;
use crate::text;

use super::action::{Action, Effect, Key, Loaded, Mouse, MouseKind};
use super::keys::Command;
use super::state::{App, FitMode, Focus, Loading, Message, Offer, PreviewRequest, Row, RowState};

/// Columns the HTML panel moves per sideways scroll.
const HTML_COLUMN_STEP: usize = 8;

/// Applies one action and returns the work it asks for.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(app, key),
        Action::Mouse(mouse) => on_mouse(app, mouse),
        Action::Paste(text) => on_paste(app, &text),
        Action::Resize { width, height } => {
            app.screen = ratatui::layout::Rect::new(0, 0, width, height);
            if let Some(offer) = app.offer.as_mut() {
                keep_selection_visible(offer, app_list_height(&app.screen, app.html_visible));
            }
            preview_effects(app)
        }
        Action::Tick => Vec::new(),
        Action::DescriptionLoaded {
            generation,
            item,
            result,
        } => on_description(app, generation, item, result),
        Action::HtmlReady { generation, lines } => {
            if let Some(offer) = app.offer.as_mut().filter(|o| o.generation == generation) {
                offer.html_lines = Some(lines);
            }
            Vec::new()
        }
        Action::PictureFetched {
            generation,
            index,
            result,
        } => on_picture_fetched(app, generation, index, result),
        Action::PreviewReady { request, result } => on_preview_ready(app, request, result),
        Action::HistoryLoaded(result) => {
            if let Some(history) = app.history.as_mut() {
                match result {
                    Ok(rows) => history.rows = Some(rows),
                    Err(error) => history.error = Some(error),
                }
            }
            Vec::new()
        }
        Action::DownloadStep { download, result } => {
            on_download_step(app, download, result);
            Vec::new()
        }
        Action::Copied(result) | Action::Opened(result) => {
            app.message = Some(match result {
                Ok(text) => Message::Info(text),
                Err(text) => Message::Error(text),
            });
            Vec::new()
        }
    }
}

fn on_key(app: &mut App, key: Key) -> Vec<Effect> {
    // A message stays until the next thing the user does.
    app.message = None;

    if key == Key::Ctrl('c') {
        app.quit = true;
        return Vec::new();
    }
    if app.help {
        // The help may be taller than the terminal: the moving keys scroll it, any other key
        // closes it.
        match app.keymap.command(key) {
            Some(Command::MoveDown) => app.help_scroll = app.help_scroll.saturating_add(1),
            Some(Command::MoveUp) => app.help_scroll = app.help_scroll.saturating_sub(1),
            Some(Command::PageDown) => app.help_scroll = app.help_scroll.saturating_add(10),
            Some(Command::PageUp) => app.help_scroll = app.help_scroll.saturating_sub(10),
            _ => {
                app.help = false;
                app.help_scroll = 0;
            }
        }
        return Vec::new();
    }
    if app.history.is_some() {
        return on_history_key(app, key);
    }
    if app.focus == Focus::Input {
        return on_input_key(app, key);
    }
    match app.keymap.command(key) {
        Some(command) => run_command(app, command),
        None if key == Key::Enter => {
            // Enter on the list shows the picture's pane; it is where the next keys go.
            if app.focus == Focus::List && app.offer.is_some() {
                app.focus = Focus::Preview;
            }
            Vec::new()
        }
        None => Vec::new(),
    }
}

fn on_input_key(app: &mut App, key: Key) -> Vec<Effect> {
    let input = &mut app.input;
    let len = input.text.chars().count();
    match key {
        // No offer ID or link starts with `?`, so on an empty line it asks for the help:
        // otherwise a new user on the start screen could not reach it.
        Key::Char(c) if len == 0 && app.keymap.command(key) == Some(Command::ToggleHelp) => {
            let _ = c;
            app.help = true;
        }
        // Nor with `H`: a returning user opens the history from the start screen, before
        // any (billed) fetch.
        Key::Char(_) if len == 0 && app.keymap.command(key) == Some(Command::History) => {
            return run_command(app, Command::History);
        }
        Key::Char(c) => insert_text(app, &c.to_string()),
        Key::Backspace if input.cursor > 0 => {
            input.cursor -= 1;
            remove_char(&mut input.text, input.cursor);
        }
        Key::Delete if input.cursor < len => remove_char(&mut input.text, input.cursor),
        Key::Left => input.cursor = input.cursor.saturating_sub(1),
        Key::Right => input.cursor = (input.cursor + 1).min(len),
        Key::Home | Key::Ctrl('a') => input.cursor = 0,
        Key::End | Key::Ctrl('e') => input.cursor = len,
        Key::Ctrl('u') => {
            input.text = input.text.chars().skip(input.cursor).collect();
            input.cursor = 0;
        }
        Key::Ctrl('w') => delete_word_before_cursor(&mut app.input),
        Key::Ctrl('l') => app.redraw = true,
        Key::Enter => return submit(app),
        Key::Esc => return run_command(app, Command::Cancel),
        Key::Tab | Key::BackTab if app.offer.is_some() => app.focus = app.focus_before_input,
        _ => {}
    }
    Vec::new()
}

/// Rows the wheel scrolls the HTML and a filled-width preview per turn.
const WHEEL_STEP: isize = 3;

/// A click focuses the pane under the pointer (and selects the clicked picture); the wheel
/// scrolls the pane under the pointer, whichever pane has the focus.
fn on_mouse(app: &mut App, mouse: Mouse) -> Vec<Effect> {
    let Some(areas) = app.areas() else {
        return Vec::new();
    };
    let at = ratatui::layout::Position::new(mouse.column, mouse.row);
    if app.help {
        if mouse.kind == MouseKind::Click {
            app.help = false;
        }
        return Vec::new();
    }
    let pane = if areas.input.contains(at) {
        Focus::Input
    } else if areas.list.contains(at) {
        Focus::List
    } else if areas.preview.contains(at) {
        Focus::Preview
    } else if areas.html.is_some_and(|html| html.contains(at)) {
        Focus::Html
    } else {
        return Vec::new();
    };
    if app.offer.is_none() && pane != Focus::Input {
        return Vec::new();
    }

    match mouse.kind {
        MouseKind::Click => {
            app.message = None;
            if pane == Focus::Input && app.focus != Focus::Input {
                app.focus_before_input = app.focus;
            }
            app.focus = pane;
            if pane == Focus::List {
                return select_clicked_row(app, areas.list, mouse.row);
            }
            Vec::new()
        }
        MouseKind::WheelUp | MouseKind::WheelDown => {
            let down = mouse.kind == MouseKind::WheelDown;
            // The wheel acts on the pane under the pointer without taking the focus from
            // where the keys go.
            let focus = app.focus;
            app.focus = pane;
            let step = match pane {
                Focus::Html => WHEEL_STEP,
                Focus::Preview if app.fit == FitMode::Width => WHEEL_STEP,
                _ => 1,
            };
            let effects = match pane {
                Focus::Input => Vec::new(),
                _ => move_by(app, if down { step } else { -step }),
            };
            app.focus = focus;
            effects
        }
    }
}

fn select_clicked_row(app: &mut App, list: ratatui::layout::Rect, row: u16) -> Vec<Effect> {
    let inner = super::layout::inner(list);
    if row < inner.y || row >= inner.y + inner.height {
        return Vec::new();
    }
    let Some(offer) = app.offer.as_ref() else {
        return Vec::new();
    };
    let clicked = offer.list_offset + usize::from(row - inner.y);
    if clicked >= offer.rows.len() {
        return Vec::new();
    }
    let delta = clicked as isize - offer.selected as isize;
    select_by(app, delta)
}

fn on_paste(app: &mut App, pasted: &str) -> Vec<Effect> {
    // A pasted link is an offer to open wherever the focus was: put it in the input line.
    if app.focus != Focus::Input {
        app.focus_before_input = app.focus;
        app.focus = Focus::Input;
        app.input = Default::default();
    }
    let one_line: String = pasted.replace(['\r', '\n'], " ");
    insert_text(app, &one_line);
    Vec::new()
}

fn insert_text(app: &mut App, raw: &str) {
    let safe = text::sanitize(raw);
    let input = &mut app.input;
    let at = byte_index(&input.text, input.cursor);
    input.text.insert_str(at, &safe);
    input.cursor += safe.chars().count();
}

fn remove_char(text: &mut String, char_index: usize) {
    let at = byte_index(text, char_index);
    if at < text.len() {
        text.remove(at);
    }
}

fn delete_word_before_cursor(input: &mut super::state::Input) {
    let chars: Vec<char> = input.text.chars().collect();
    let mut start = input.cursor.min(chars.len());
    while start > 0 && chars[start - 1].is_whitespace() {
        start -= 1;
    }
    while start > 0 && !chars[start - 1].is_whitespace() {
        start -= 1;
    }
    let kept: String = chars[..start]
        .iter()
        .chain(&chars[input.cursor.min(chars.len())..])
        .collect();
    input.text = kept;
    input.cursor = start;
}

fn byte_index(text: &str, char_index: usize) -> usize {
    text.char_indices()
        .nth(char_index)
        .map(|(i, _)| i)
        .unwrap_or(text.len())
}

/// Enter in the input line: fetch the offer it names, unless that would be a wasted call.
fn submit(app: &mut App) -> Vec<Effect> {
    let item = match app.input.text.parse::<ItemId>() {
        Ok(item) => item,
        Err(error) => {
            app.message = Some(Message::Error(error.to_string()));
            return Vec::new();
        }
    };
    app.input.text = item.to_string();
    app.input.cursor = app.input.text.chars().count();

    // Every call is billed: never ask again for what is on screen or already on its way.
    if app.loading.as_ref().is_some_and(|l| l.item == item) {
        app.message = Some(Message::Info(format!(
            "offer {item} is already being fetched"
        )));
        return Vec::new();
    }
    if app.offer.as_ref().is_some_and(|o| o.item == item) {
        let refresh = app.keymap.hint(Command::Refresh);
        app.message = Some(Message::Info(format!(
            "offer {item} is already shown; {refresh} fetches it again"
        )));
        app.focus = Focus::List;
        // The user chose what is on screen over what was on its way: the other fetch must
        // not replace it when it arrives.
        if app.loading.take().is_some() {
            return vec![Effect::CancelDescription];
        }
        return Vec::new();
    }

    app.generation += 1;
    app.loading = Some(Loading {
        item: item.clone(),
        generation: app.generation,
        started: app.clock,
    });
    app.failure = None;
    vec![
        Effect::CancelDescription,
        Effect::FetchDescription {
            generation: app.generation,
            item,
            refresh: false,
        },
    ]
}

fn on_description(
    app: &mut App,
    generation: u64,
    item: ItemId,
    result: Result<Loaded, String>,
) -> Vec<Effect> {
    if app.loading.as_ref().map(|l| l.generation) != Some(generation) {
        return Vec::new();
    }
    app.loading = None;

    let loaded = match result {
        Ok(loaded) => loaded,
        Err(error) => {
            if app.offer.is_some() {
                app.message = Some(Message::Error(error));
            } else {
                app.failure = Some(error);
            }
            return Vec::new();
        }
    };

    let rows: Vec<Row> = loaded
        .description
        .pictures
        .into_iter()
        .map(|picture| Row {
            picture,
            state: RowState::Waiting,
        })
        .collect();
    let urls: Vec<(usize, String)> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (i, row.picture.url.clone()))
        .collect();
    let count = rows.len();
    let pictures = match count {
        0 => "the description has no pictures".to_string(),
        n => crate::text::count(n, "picture"),
    };
    let origin = match loaded.stored_age {
        Some(age) if app.start.offline => format!(
            " (kept from {}; offline, no API call)",
            crate::store::answers::describe_age(age)
        ),
        Some(age) => format!(
            " (kept from {}, no API call; {} fetches it again)",
            crate::store::answers::describe_age(age),
            app.keymap.hint(Command::Refresh)
        ),
        None => String::new(),
    };
    app.message = Some(Message::Info(format!("offer {item}: {pictures}{origin}")));
    let offer_item = item.to_string();
    app.offer = Some(Offer {
        item,
        generation,
        rows,
        unusable: loaded.description.unusable,
        html: loaded.desc.detail_html.clone(),
        html_lines: None,
        selected: 0,
        list_offset: 0,
        html_offset: 0,
        html_column: 0,
        stored_age: loaded.stored_age,
    });
    app.failure = None;
    // The answer can arrive while the user types the next offer: the keys they type must not
    // turn into commands. The focus moves only when the input still holds what was fetched.
    let typing = app.focus == Focus::Input && app.input.text != offer_item;
    if typing {
        app.focus_before_input = Focus::List;
    } else {
        app.focus = Focus::List;
    }
    app.preview_scroll = 0;
    app.preview = Default::default();

    let mut effects = vec![
        Effect::CancelPictures,
        Effect::FormatHtml {
            generation,
            html: loaded.desc.detail_html,
        },
    ];
    if !urls.is_empty() {
        effects.push(Effect::FetchPictures { generation, urls });
    }
    effects.extend(preview_effects(app));
    effects
}

fn on_picture_fetched(
    app: &mut App,
    generation: u64,
    index: usize,
    result: Result<super::state::PictureMeta, String>,
) -> Vec<Effect> {
    let Some(offer) = app.offer.as_mut().filter(|o| o.generation == generation) else {
        return Vec::new();
    };
    let Some(row) = offer.rows.get_mut(index) else {
        return Vec::new();
    };
    row.state = match result {
        Ok(meta) => RowState::Fetched(meta),
        Err(reason) => RowState::Failed(reason),
    };
    if offer.selected == index {
        return preview_effects(app);
    }
    Vec::new()
}

fn on_preview_ready(
    app: &mut App,
    request: PreviewRequest,
    result: Result<super::state::PreviewImage, String>,
) -> Vec<Effect> {
    if app.preview.request.as_ref() != Some(&request) {
        return Vec::new();
    }
    let neighbours = neighbour_requests(app, &request);
    match result {
        Ok(image) => {
            app.preview.error = None;
            app.preview.shown = Some((request, image));
        }
        Err(reason) => {
            app.preview.shown = None;
            app.preview.error = Some(reason);
        }
    }
    if neighbours.is_empty() {
        Vec::new()
    } else {
        vec![Effect::Prefetch(neighbours)]
    }
}

/// The pictures next to the selection, at the size and mode of the current preview: the next
/// one first (people read downwards), then the previous one.
fn neighbour_requests(app: &App, current: &PreviewRequest) -> Vec<PreviewRequest> {
    let Some(offer) = app.offer.as_ref() else {
        return Vec::new();
    };
    [current.index.checked_add(1), current.index.checked_sub(1)]
        .into_iter()
        .flatten()
        .filter_map(|index| {
            let row = offer.rows.get(index)?;
            if matches!(row.state, RowState::Failed(_)) {
                return None;
            }
            Some(PreviewRequest {
                index,
                url: row.picture.url.clone(),
                scroll: 0,
                ..current.clone()
            })
        })
        .collect()
}

fn run_command(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::Quit => app.quit = true,
        Command::ToggleHelp => app.help = !app.help,
        Command::FocusInput => {
            if app.focus != Focus::Input {
                app.focus_before_input = app.focus;
            }
            app.focus = Focus::Input;
            app.input = Default::default();
        }
        Command::FocusNext => cycle_focus(app, true),
        Command::FocusPrevious => cycle_focus(app, false),
        Command::MoveUp => return move_by(app, -1),
        Command::MoveDown => return move_by(app, 1),
        Command::PageUp => return move_by(app, -(page(app) as isize)),
        Command::PageDown => return move_by(app, page(app) as isize),
        Command::MoveTop => return move_by(app, isize::MIN),
        Command::MoveBottom => return move_by(app, isize::MAX),
        Command::ScrollLeft => scroll_html_sideways(app, false),
        Command::ScrollRight => scroll_html_sideways(app, true),
        Command::CopyUrl => return copy_url(app),
        Command::CopyAllUrls => return copy_all_urls(app),
        Command::CopyHtml => return copy_html(app),
        Command::OpenPicture => {
            if let Some(row) = app.offer.as_ref().and_then(|o| o.selected_row()) {
                return vec![Effect::OpenUrl(row.picture.url.clone())];
            }
            app.message = Some(Message::Error("no picture selected".to_string()));
        }
        Command::ToggleFitWidth => {
            app.fit = match app.fit {
                FitMode::Whole => FitMode::Width,
                FitMode::Width => FitMode::Whole,
            };
            app.preview_scroll = 0;
            app.message = Some(Message::Info(match app.fit {
                FitMode::Whole => "preview: whole picture".to_string(),
                FitMode::Width => "preview: fill the width (j/k scroll in the preview)".to_string(),
            }));
            let mut effects = preview_effects(app);
            effects.push(Effect::RememberFit(app.fit));
            return effects;
        }
        Command::ToggleHtml => {
            app.html_visible = !app.html_visible;
            if !app.html_visible && app.focus == Focus::Html {
                app.focus = Focus::List;
            }
            return preview_effects(app);
        }
        Command::Cancel => {
            if let Some(loading) = app.loading.take() {
                app.message = Some(Message::Info(format!(
                    "fetch of offer {} cancelled",
                    loading.item
                )));
                return vec![Effect::CancelDescription];
            }
            if app.focus == Focus::Input {
                // Leaving the line drops what was typed: it shows the offer on screen again.
                app.input.text = app
                    .offer
                    .as_ref()
                    .map(|o| o.item.to_string())
                    .unwrap_or_default();
                app.input.cursor = app.input.text.chars().count();
                if app.offer.is_some() {
                    app.focus = app.focus_before_input;
                }
            }
        }
        Command::Redraw => app.redraw = true,
        Command::Refresh => return refresh(app),
        Command::History => {
            app.history = Some(Default::default());
            return vec![Effect::LoadHistory];
        }
        Command::Download => return download(app, false),
        Command::DownloadAll => return download(app, true),
    }
    Vec::new()
}

/// `r`: the offer on screen again, from the API (one billed call).
fn refresh(app: &mut App) -> Vec<Effect> {
    let Some(offer) = app.offer.as_ref() else {
        app.message = Some(Message::Error("no offer to fetch again".to_string()));
        return Vec::new();
    };
    if app.loading.is_some() {
        app.message = Some(Message::Info("a fetch is already running".to_string()));
        return Vec::new();
    }
    if app.start.offline {
        app.message = Some(Message::Error(
            "offline: no API call is made; start descview without --offline to fetch it again"
                .to_string(),
        ));
        return Vec::new();
    }
    let item = offer.item.clone();
    app.generation += 1;
    app.loading = Some(Loading {
        item: item.clone(),
        generation: app.generation,
        started: app.clock,
    });
    vec![Effect::FetchDescription {
        generation: app.generation,
        item,
        refresh: true,
    }]
}

/// `d` and `D`: save the selected picture, or all of them, as `<dir>/<item>/NN.<ext>`.
fn download(app: &mut App, all: bool) -> Vec<Effect> {
    if let Some(running) = &app.download {
        app.message = Some(Message::Info(format!(
            "a download is running ({}/{}); wait for it to finish",
            running.saved + running.failures.len(),
            running.total
        )));
        return Vec::new();
    }
    let Some(offer) = app.offer.as_ref().filter(|o| !o.rows.is_empty()) else {
        app.message = Some(Message::Error("no pictures to save".to_string()));
        return Vec::new();
    };
    let pictures: Vec<(usize, String)> = if all {
        offer
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| (i + 1, row.picture.url.clone()))
            .collect()
    } else {
        match offer.selected_row() {
            Some(row) => vec![(offer.selected + 1, row.picture.url.clone())],
            None => return Vec::new(),
        }
    };
    app.downloads_started += 1;
    app.download = Some(super::state::Download {
        id: app.downloads_started,
        item: offer.item.clone(),
        total: pictures.len(),
        saved: 0,
        failures: Vec::new(),
        last_path: None,
    });
    vec![Effect::Download {
        download: app.downloads_started,
        item: offer.item.clone(),
        total: offer.rows.len(),
        pictures,
    }]
}

fn on_download_step(app: &mut App, id: u64, result: Result<String, String>) {
    let Some(download) = app.download.as_mut().filter(|d| d.id == id) else {
        return;
    };
    match result {
        Ok(path) => {
            download.saved += 1;
            download.last_path = Some(path);
        }
        Err(reason) => download.failures.push(reason),
    }
    if download.saved + download.failures.len() < download.total {
        return;
    }
    let done = app.download.take().expect("checked above");
    let place = match (&done.last_path, done.total) {
        (Some(path), 1) => path.clone(),
        (Some(path), _) => std::path::Path::new(path)
            .parent()
            .map(|dir| dir.display().to_string())
            .unwrap_or_else(|| path.clone()),
        (None, _) => String::new(),
    };
    app.message = Some(match done.failures.first() {
        None if done.total == 1 => Message::Info(format!("saved {place}")),
        None => Message::Info(format!("saved {} pictures to {place}", done.saved)),
        Some(first) => Message::Error(format!(
            "saved {} of {} pictures; {} failed: {first}",
            done.saved,
            done.total,
            done.failures.len()
        )),
    });
}

/// Keys while the history pane is open: move, open with Enter, close with Esc.
fn on_history_key(app: &mut App, key: Key) -> Vec<Effect> {
    let command = app.keymap.command(key);
    let Some(history) = app.history.as_mut() else {
        return Vec::new();
    };
    let count = history.rows.as_ref().map(Vec::len).unwrap_or(0);
    match (key, command) {
        (Key::Enter, _) => {
            let chosen = history
                .rows
                .as_ref()
                .and_then(|rows| rows.get(history.selected))
                .cloned();
            app.history = None;
            if let Some(row) = chosen {
                app.input.text = row.item.to_string();
                app.input.cursor = app.input.text.chars().count();
                return submit(app);
            }
        }
        (_, Some(Command::MoveDown)) if count > 0 => {
            history.selected = (history.selected + 1).min(count - 1);
        }
        (_, Some(Command::MoveUp)) => history.selected = history.selected.saturating_sub(1),
        (_, Some(Command::MoveTop)) => history.selected = 0,
        (_, Some(Command::MoveBottom)) => history.selected = count.saturating_sub(1),
        (Key::Esc, _) | (_, Some(Command::History | Command::Quit | Command::Cancel)) => {
            app.history = None;
        }
        _ => {}
    }
    Vec::new()
}

fn cycle_focus(app: &mut App, forward: bool) {
    if app.offer.is_none() {
        return;
    }
    let mut order = vec![Focus::List, Focus::Preview];
    if app.html_visible {
        order.push(Focus::Html);
    }
    let position = order.iter().position(|f| *f == app.focus).unwrap_or(0);
    let next = if forward {
        (position + 1) % order.len()
    } else {
        (position + order.len() - 1) % order.len()
    };
    app.focus = order[next];
}

fn page(app: &App) -> usize {
    match app.focus {
        Focus::Html => app.html_height().saturating_sub(1).max(1),
        Focus::Preview if app.fit == FitMode::Width => app
            .preview_cells()
            .map(|(_, rows)| usize::from(rows))
            .unwrap_or(1)
            .saturating_sub(1)
            .max(1),
        _ => app.list_height().saturating_sub(1).max(1),
    }
}

/// Moves whatever the focused pane moves: the selection, the preview's scroll, or the HTML.
fn move_by(app: &mut App, delta: isize) -> Vec<Effect> {
    match app.focus {
        Focus::Html => {
            let height = app.html_height();
            if let Some(offer) = app.offer.as_mut() {
                let lines = offer.html_lines.as_ref().map(Vec::len).unwrap_or(0);
                let last = lines.saturating_sub(height);
                offer.html_offset = step(offer.html_offset, delta, last);
            }
            Vec::new()
        }
        Focus::Preview if app.fit == FitMode::Width => {
            let visible = app
                .preview_cells()
                .map(|(_, rows)| rows as usize)
                .unwrap_or(1);
            let total = app
                .preview
                .shown
                .as_ref()
                .map(|(_, image)| image.total_rows as usize);
            let last = total
                .map(|t| t.saturating_sub(visible))
                .unwrap_or(usize::MAX);
            app.preview_scroll =
                step(app.preview_scroll as usize, delta, last).min(u32::MAX as usize) as u32;
            preview_effects(app)
        }
        _ => select_by(app, delta),
    }
}

fn select_by(app: &mut App, delta: isize) -> Vec<Effect> {
    let height = app.list_height();
    let Some(offer) = app.offer.as_mut() else {
        return Vec::new();
    };
    if offer.rows.is_empty() {
        return Vec::new();
    }
    let selected = step(offer.selected, delta, offer.rows.len() - 1);
    if selected == offer.selected {
        return Vec::new();
    }
    offer.selected = selected;
    keep_selection_visible(offer, height);
    app.preview_scroll = 0;
    preview_effects(app)
}

/// `current + delta`, clamped to `0..=last`; the extreme deltas mean first and last.
fn step(current: usize, delta: isize, last: usize) -> usize {
    let moved = if delta < 0 {
        current.saturating_sub(delta.unsigned_abs())
    } else {
        current.saturating_add(delta as usize)
    };
    moved.min(last)
}

fn keep_selection_visible(offer: &mut Offer, height: usize) {
    // No empty rows below the last picture while earlier ones are scrolled away (after the
    // window grew).
    offer.list_offset = offer
        .list_offset
        .min(offer.rows.len().saturating_sub(height));
    if offer.selected < offer.list_offset {
        offer.list_offset = offer.selected;
    } else if offer.selected >= offer.list_offset + height {
        offer.list_offset = offer.selected + 1 - height;
    }
}

fn app_list_height(screen: &ratatui::layout::Rect, html_visible: bool) -> usize {
    super::layout::areas(*screen, html_visible)
        .map(|a| usize::from(super::layout::inner(a.list).height))
        .unwrap_or(1)
        .max(1)
}

fn scroll_html_sideways(app: &mut App, right: bool) {
    if let Some(offer) = app.offer.as_mut() {
        offer.html_column = if right {
            offer.html_column.saturating_add(HTML_COLUMN_STEP)
        } else {
            offer.html_column.saturating_sub(HTML_COLUMN_STEP)
        };
    }
}

fn copy_url(app: &mut App) -> Vec<Effect> {
    let Some(offer) = app.offer.as_ref() else {
        app.message = Some(Message::Error(
            "nothing to copy: fetch an offer first".to_string(),
        ));
        return Vec::new();
    };
    match offer.selected_row() {
        Some(row) => vec![Effect::Copy {
            text: row.picture.url.clone(),
            what: format!("the URL of picture {}", offer.selected + 1),
        }],
        None => {
            app.message = Some(Message::Error(
                "the description has no pictures".to_string(),
            ));
            Vec::new()
        }
    }
}

fn copy_all_urls(app: &mut App) -> Vec<Effect> {
    let Some(offer) = app.offer.as_ref().filter(|o| !o.rows.is_empty()) else {
        app.message = Some(Message::Error("no picture URLs to copy".to_string()));
        return Vec::new();
    };
    let text: Vec<&str> = offer
        .rows
        .iter()
        .map(|row| row.picture.url.as_str())
        .collect();
    vec![Effect::Copy {
        text: text.join("\n"),
        what: format!("{} picture URLs", offer.rows.len()),
    }]
}

fn copy_html(app: &mut App) -> Vec<Effect> {
    let Some(offer) = app.offer.as_ref().filter(|o| !o.html.is_empty()) else {
        // An empty copy would clear the user's clipboard.
        app.message = Some(Message::Error("no description HTML to copy".to_string()));
        return Vec::new();
    };
    // The HTML came from a stranger: control characters would act when pasted into a terminal.
    let text = text::sanitize_multiline(&offer.html).into_owned();
    let what = format!("the description HTML ({} bytes)", text.len());
    vec![Effect::Copy { text, what }]
}

/// Asks for the preview that the selection, pane size and mode call for, unless it is
/// already shown or on its way.
fn preview_effects(app: &mut App) -> Vec<Effect> {
    let cells = app.preview_cells();
    let fit = app.fit;
    let scroll = app.preview_scroll;
    let Some(offer) = app.offer.as_ref() else {
        app.preview = Default::default();
        return Vec::new();
    };
    let Some(row) = offer.selected_row() else {
        app.preview = Default::default();
        return Vec::new();
    };
    let index = offer.selected;
    let generation = offer.generation;

    // Another picture: what is on screen belongs to the one the user left.
    if app
        .preview
        .shown
        .as_ref()
        .is_some_and(|(r, _)| r.index != index || r.generation != generation)
    {
        app.preview.shown = None;
    }
    if let RowState::Failed(reason) = &row.state {
        app.preview.request = None;
        app.preview.shown = None;
        app.preview.error = Some(reason.clone());
        return Vec::new();
    }
    let Some((cols, rows)) = cells else {
        app.preview.request = None;
        return Vec::new();
    };
    let request = PreviewRequest {
        generation,
        index,
        url: row.picture.url.clone(),
        cols,
        rows,
        mode: fit,
        scroll: if fit == FitMode::Width { scroll } else { 0 },
    };
    if app.preview.request.as_ref() == Some(&request) {
        return Vec::new();
    }
    app.preview.error = None;
    app.preview.request = Some(request.clone());
    vec![Effect::PreparePreview(request)]
}

#[cfg(test)]
mod tests;
