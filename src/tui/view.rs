//! `view`: draws the state into a ratatui frame, and nothing else.
//!
//! Pure: the same state draws the same screen, which is what the snapshot tests rely on. All
//! text drawn here was made safe where it entered (see `crate::text`), so nothing in a
//! description can act on the terminal.

use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use ratatui::Frame;
use ratatui_image::Image;

use super::keys::{key_name, Command};
use super::layout::{self, Areas};
use super::state::{App, FitMode, Focus, HistoryPane, Message, Offer, PictureMeta, Row, RowState};
use crate::config::Theme;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draws the whole browser.
pub fn view(app: &App, frame: &mut Frame) {
    let screen = frame.area();
    let Some(areas) = layout::areas(screen, app.html_visible) else {
        draw_too_small(&app.theme, frame, screen);
        return;
    };
    draw_input(app, frame, areas.input);
    match &app.offer {
        Some(offer) => {
            draw_list(app, offer, frame, areas.list);
            draw_preview(app, offer, frame, areas.preview);
            if let Some(html) = areas.html {
                draw_html(app, offer, frame, html);
            }
        }
        None => draw_start(app, frame, body(&areas)),
    }
    draw_status(app, frame, areas.status);
    if let Some(history) = &app.history {
        draw_history(app, history, frame, screen);
    }
    if app.help {
        draw_help(app, frame, screen);
    }
}

/// A box of `width` x `height` cells in the middle of `screen`, never larger than it.
fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width);
    let height = height.min(screen.height);
    Rect {
        x: screen.x + (screen.width - width) / 2,
        y: screen.y + (screen.height - height) / 2,
        width,
        height,
    }
}

fn draw_history(app: &App, history: &HistoryPane, frame: &mut Frame, screen: Rect) {
    let t = &app.theme;
    let area = centered(screen, 100, screen.height.saturating_sub(4).max(3));
    let block = pane(t, Line::from(" History (Enter opens, Esc closes) "), true);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);

    let lines: Vec<Line> = match (&history.rows, &history.error) {
        (_, Some(error)) => vec![Line::styled(error.clone(), Style::new().fg(t.error))],
        (None, None) => vec![Line::styled("reading the history…", Style::new().fg(t.dim))],
        (Some(rows), None) if rows.is_empty() => vec![Line::styled(
            "no offers opened yet: the offers you open are listed here",
            Style::new().fg(t.dim),
        )],
        (Some(rows), None) => {
            let height = usize::from(inner.height).max(1);
            let offset = history.selected.saturating_sub(height - 1);
            rows.iter()
                .enumerate()
                .skip(offset)
                .take(height)
                .map(|(i, row)| {
                    let style = if i == history.selected {
                        Style::new().add_modifier(Modifier::REVERSED)
                    } else {
                        Style::new()
                    };
                    let count = crate::text::count(row.pictures, "picture");
                    // A description without text is labelled by its picture count already.
                    let label = if row.label == count {
                        String::new()
                    } else {
                        row.label.clone()
                    };
                    Line::from(vec![
                        Span::styled(format!(" {:<14}", row.item), style.fg(t.accent)),
                        Span::styled(format!("opened {:<12}", row.when), style.fg(t.dim)),
                        Span::styled(format!("{count:>12}  "), style),
                        Span::styled(label, style),
                    ])
                })
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

fn body(areas: &Areas) -> Rect {
    let mut union = areas.list.union(areas.preview);
    if let Some(html) = areas.html {
        union = union.union(html);
    }
    union
}

fn draw_too_small(t: &Theme, frame: &mut Frame, screen: Rect) {
    let note = format!(
        "terminal too small: {}x{} needed",
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT
    );
    let paragraph = Paragraph::new(note)
        .style(Style::new().fg(t.warn))
        .wrap(Wrap { trim: true });
    frame.render_widget(paragraph, screen);
}

/// A bordered pane; the focused one has a double border, which shows without colours too.
fn pane(t: &Theme, title: Line<'static>, focused: bool) -> Block<'static> {
    let (style, border) = if focused {
        (
            Style::new().fg(t.accent).add_modifier(Modifier::BOLD),
            BorderType::Double,
        )
    } else {
        (Style::new().fg(t.dim), BorderType::Plain)
    };
    Block::bordered()
        .border_type(border)
        .title(title)
        .border_style(style)
}

fn spinner(app: &App) -> &'static str {
    let frame = (app.clock.as_millis() / 100) as usize % SPINNER.len();
    SPINNER[frame]
}

fn draw_input(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Input;
    let mut title = vec![Span::raw(" Offer ID or 1688 link ")];
    if let Some(loading) = &app.loading {
        let elapsed = app.clock.saturating_sub(loading.started).as_secs_f32();
        title.push(Span::styled(
            format!(
                "{} fetching {} {:.1} s ",
                spinner(app),
                loading.item,
                elapsed
            ),
            Style::new().fg(t.warn),
        ));
    }
    let block = pane(&app.theme, Line::from(title), focused);
    let inner = block.inner(area);
    let prompt = Span::styled("> ", Style::new().fg(t.accent));
    let text = if app.input.text.is_empty() && !focused {
        Span::styled(
            "press / to type an offer ID or link",
            Style::new().fg(t.dim),
        )
    } else {
        Span::raw(app.input.text.clone())
    };
    // Keep the cursor in view when the text is wider than the line.
    let before_cursor: usize = app
        .input
        .text
        .chars()
        .take(app.input.cursor)
        .map(unicode_width)
        .sum();
    let room = usize::from(inner.width.saturating_sub(3));
    let shift = before_cursor.saturating_sub(room);
    frame.render_widget(
        Paragraph::new(Line::from(vec![prompt, text]))
            .scroll((0, shift as u16))
            .block(block),
        area,
    );
    if focused && inner.width > 2 && inner.height > 0 {
        let x = inner.x + 2 + (before_cursor - shift) as u16;
        frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
    }
}

fn unicode_width(c: char) -> usize {
    use unicode_width::UnicodeWidthChar;
    c.width().unwrap_or(0)
}

fn draw_start(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let block = pane(&app.theme, Line::from(" descview "), false);
    let mut lines: Vec<Line> = Vec::new();

    if let Some(failure) = &app.failure {
        lines.push(Line::styled(
            "The fetch failed:",
            Style::new().fg(t.error).add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::styled(failure.clone(), Style::new().fg(t.error)));
        lines.push(Line::raw(""));
    }

    lines.push(Line::styled(
        "The description pictures of 1688 offers, in the terminal.",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    // What to do comes first, so that it shows on a small terminal too.
    lines.push(Line::raw(format!(
        "Type or paste a 1688 offer ID or link above and press Enter; {} shows every key.",
        app.keymap.hint(Command::ToggleHelp)
    )));
    lines.push(Line::styled(
        "Example: 622619146604 or https://detail.1688.com/offer/652702302959.html",
        Style::new().fg(t.dim),
    ));
    lines.push(Line::raw(""));
    match &app.start.demo_offers {
        Some(offers) => {
            lines.push(Line::raw(
                "This is the demo catalogue: a local stand-in for the API, nothing is billed. Its offers:",
            ));
            for (id, label) in offers {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {id:<14}"), Style::new().fg(t.accent)),
                    Span::raw(label.clone()),
                ]));
            }
        }
        None => {
            lines.push(Line::raw(format!(
                "Each fetch is one billed call to {}; an offer already on screen or kept from \
                 before is not fetched again.",
                app.start.api_host
            )));
            if app.start.token_missing {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    "No API token: run `descview login` or set TMAPI_TOKEN; `descview --demo` \
                     tries the demo catalogue without one.",
                    Style::new().fg(t.warn),
                ));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

fn draw_list(app: &App, offer: &Offer, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let fetched = offer
        .rows
        .iter()
        .filter(|r| matches!(r.state, RowState::Fetched(_)))
        .count();
    let failed = offer
        .rows
        .iter()
        .filter(|r| matches!(r.state, RowState::Failed(_)))
        .count();
    let mut title = format!(" Pictures of {} ({}", offer.item, offer.rows.len());
    if fetched + failed < offer.rows.len() {
        title.push_str(&format!(", {} fetched", fetched + failed));
    }
    if failed > 0 {
        title.push_str(&format!(", {failed} failed"));
    }
    title.push(')');
    if let Some(age) = offer.stored_age {
        title.push_str(&format!(" · kept from {}", crate::store::describe_age(age)));
    }
    title.push(' ');
    let block = pane(&app.theme, Line::from(title), app.focus == Focus::List);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let footer = super::state::list_footer_rows(Some(offer)) as u16;
    let [rows_area, footer_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(footer)]).areas(inner);
    let height = usize::from(rows_area.height);
    let width = usize::from(rows_area.width);
    let number_width = offer.rows.len().to_string().len();

    let lines: Vec<Line> = offer
        .rows
        .iter()
        .enumerate()
        .skip(offer.list_offset)
        .take(height)
        .map(|(i, row)| list_line(t, i, row, i == offer.selected, number_width, width))
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new("the description has no pictures").style(Style::new().fg(t.dim)),
            rows_area,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), rows_area);
    }

    if let Some(first) = offer.unusable.first() {
        let more = match offer.unusable.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        let text = vec![
            Line::styled(
                format!(
                    "! {} unusable reference{}{more}",
                    offer.unusable.len(),
                    plural(offer.unusable.len())
                ),
                Style::new().fg(t.warn),
            ),
            Line::styled(
                format!("  {}: {}", first.raw, first.reason),
                Style::new().fg(t.dim),
            ),
        ];
        frame.render_widget(Paragraph::new(text), footer_area);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn list_line(
    t: &Theme,
    index: usize,
    row: &Row,
    selected: bool,
    number_width: usize,
    width: usize,
) -> Line<'static> {
    let (meta, meta_style) = match &row.state {
        RowState::Waiting => ("…".to_string(), Style::new().fg(t.dim)),
        RowState::Fetched(meta) => (describe_meta(meta), Style::new().fg(t.ok)),
        RowState::Failed(_) => ("✗ failed".to_string(), Style::new().fg(t.error)),
    };
    let number = format!("{:>number_width$} ", index + 1);
    let url_width = width.saturating_sub(number.len() + meta.chars().count() + 1);
    let url = shorten_url(&row.picture.url, url_width);
    let pad = url_width.saturating_sub(url.chars().count());
    let base = if selected {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    Line::from(vec![
        Span::styled(number, base.fg(t.dim)),
        Span::styled(format!("{url}{} ", " ".repeat(pad)), base),
        Span::styled(meta, base.patch(meta_style)),
    ])
}

/// "JPEG 790×1200 182 KB", the list's summary of a fetched picture.
pub fn describe_meta(meta: &PictureMeta) -> String {
    let mut text = meta.format.clone();
    if let Some((w, h)) = meta.size {
        text.push_str(&format!(" {w}×{h}"));
    }
    text.push(' ');
    text.push_str(&human_bytes(meta.bytes));
    if meta.truncated {
        text.push_str(" cut");
    }
    text
}

/// Bytes as a person reads them: "912 B", "182 KB", "4.6 MB".
pub fn human_bytes(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

/// Shortens a URL to `width` columns, keeping the host and the file name, which are what
/// tell pictures apart: `cbu01.alicdn.com/…/17709204254_1283248032.jpg`.
pub fn shorten_url(url: &str, width: usize) -> String {
    let bare = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let fits = |text: &str| text.chars().count() <= width;
    if fits(bare) {
        return bare.to_string();
    }
    // The file name (with its query) tells one picture from another; the host and the
    // folders are shared by every picture of an offer.
    let host = bare.split('/').next().unwrap_or(bare);
    let name = bare.rsplit('/').next().unwrap_or(bare);
    for candidate in [format!("{host}/…/{name}"), format!("…/{name}")] {
        if fits(&candidate) {
            return candidate;
        }
    }
    // Not even the name fits: keep its start, where alicdn names differ
    // (`O1CN01Xq3v…`, `17709204254_…`); the end is the seller's number, the same for all.
    let room = width.saturating_sub(1);
    let mut short: String = name.chars().take(room).collect();
    if width > 0 {
        short.push('…');
    }
    short
}

fn draw_preview(app: &App, offer: &Offer, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut title = match offer.rows.len() {
        0 => " Preview ".to_string(),
        n => format!(" Preview {}/{} ", offer.selected + 1, n),
    };
    if app.fit == FitMode::Width {
        title.push_str("[fill width] ");
    }
    let block = pane(&app.theme, Line::from(title), app.focus == Focus::Preview);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let [caption_area, picture_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);

    let Some(row) = offer.selected_row() else {
        return;
    };
    let mut caption = match &row.state {
        RowState::Fetched(meta) => describe_meta(meta),
        RowState::Waiting => "fetching…".to_string(),
        RowState::Failed(_) => "failed".to_string(),
    };
    if let Some((request, image)) = &app.preview.shown {
        if request.mode == FitMode::Width && image.total_rows > 0 {
            let first = request.scroll + 1;
            let last = (request.scroll + u32::from(image.area.height)).min(image.total_rows);
            let percent = (u64::from(last) * 100 / u64::from(image.total_rows)).min(100);
            caption.push_str(&format!(
                " · rows {first}-{last} of {} ({percent}%)",
                image.total_rows
            ));
        }
        if image.truncated {
            caption.push_str(" · file cut short, partial picture");
        }
    }
    if app.preview.is_pending() {
        caption = format!("{} {caption}", spinner(app));
    }
    frame.render_widget(
        Paragraph::new(caption).style(Style::new().fg(t.dim)),
        caption_area,
    );

    if let Some(reason) = &app.preview.error {
        let text = Text::from(vec![
            Line::styled("cannot preview this picture:", Style::new().fg(t.error)),
            Line::styled(reason.clone(), Style::new().fg(t.error)),
            Line::raw(""),
            Line::styled(
                "y copies its URL, o opens it in the browser",
                Style::new().fg(t.dim),
            ),
        ]);
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }),
            picture_area,
        );
        return;
    }
    match &app.preview.shown {
        Some((_, image)) => {
            let target = Rect {
                x: picture_area.x,
                y: picture_area.y,
                width: image.area.width.min(picture_area.width),
                height: image.area.height.min(picture_area.height),
            };
            frame.render_widget(Image::new(&image.protocol), target);
        }
        None => {
            frame.render_widget(
                Paragraph::new("preparing the preview…")
                    .alignment(Alignment::Center)
                    .style(Style::new().fg(t.dim)),
                picture_area,
            );
        }
    }
}

fn draw_html(app: &App, offer: &Offer, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let count = offer.html_lines.as_ref().map(Vec::len);
    let title = match count {
        Some(n) => format!(
            " HTML ({n} line{}, {}) ",
            plural(n),
            human_bytes(offer.html.len() as u64)
        ),
        None => " HTML ".to_string(),
    };
    let block = pane(&app.theme, Line::from(title), app.focus == Focus::Html);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(lines) = &offer.html_lines else {
        let note = if offer.html.is_empty() {
            "no HTML in the answer"
        } else {
            "formatting…"
        };
        frame.render_widget(Paragraph::new(note).style(Style::new().fg(t.dim)), inner);
        return;
    };
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new("no HTML in the answer").style(Style::new().fg(t.dim)),
            inner,
        );
        return;
    }
    let visible: Vec<Line> = lines
        .iter()
        .skip(offer.html_offset)
        .take(usize::from(inner.height))
        .cloned()
        .collect();
    let column = offer.html_column.min(u16::MAX as usize) as u16;
    frame.render_widget(Paragraph::new(visible).scroll((0, column)), inner);
}

fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let hints = status_hints(app);

    let message = match (&app.download, &app.message) {
        (Some(download), _) => Span::styled(
            format!(
                "{} saving pictures of {}: {}/{}",
                spinner(app),
                download.item,
                download.saved + download.failures.len(),
                download.total
            ),
            Style::new().fg(t.warn),
        ),
        (None, message) => match message {
            Some(Message::Error(text)) => Span::styled(
                text.clone(),
                Style::new().fg(t.error).add_modifier(Modifier::BOLD),
            ),
            Some(Message::Info(text)) => Span::styled(text.clone(), Style::new().fg(t.ok)),
            None => match app.offer.as_ref().and_then(|o| o.selected_row()) {
                Some(row) if app.focus != Focus::Input => Span::raw(row.picture.url.clone()),
                _ => Span::raw(""),
            },
        },
    };
    // The message matters more than the hints (a file path, a full URL, an error's reason):
    // the hints take only the room the message leaves.
    let message_width = message.content.chars().count() as u16;
    let hints_width = hints.chars().count() as u16;
    let room = area.width.saturating_sub(message_width.saturating_add(2));
    let hints_width = if hints_width <= room { hints_width } else { 0 };
    let [left, right] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(hints_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(message)), left);
    frame.render_widget(
        Paragraph::new(hints)
            .style(Style::new().fg(t.dim))
            .alignment(Alignment::Right),
        right,
    );
}

fn status_hints(app: &App) -> String {
    let k = |command| app.keymap.hint(command);
    if app.help {
        return "any key closes the help".to_string();
    }
    if app.focus == Focus::Input {
        let mut hints = vec!["Enter fetch".to_string()];
        if app.input.text.is_empty() {
            hints.push(format!("{} help", k(Command::ToggleHelp)));
        }
        if app.loading.is_some() || app.offer.is_some() {
            hints.push("Esc cancel".to_string());
        }
        hints.push("Ctrl-C quit".to_string());
        return hints.join(" · ");
    }
    [
        format!("{} help", k(Command::ToggleHelp)),
        format!("{} new", k(Command::FocusInput)),
        format!("{} copy", k(Command::CopyUrl)),
        format!("{} all", k(Command::CopyAllUrls)),
        format!("{} open", k(Command::OpenPicture)),
        format!("{} pane", k(Command::FocusNext)),
        format!("{} quit", k(Command::Quit)),
    ]
    .join(" · ")
}

fn draw_help(app: &App, frame: &mut Frame, screen: Rect) {
    let t = &app.theme;
    let mut lines = vec![Line::styled(
        "Keys",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for command in app.keymap.commands() {
        let keys: Vec<String> = app
            .keymap
            .keys_for(command)
            .into_iter()
            .map(key_name)
            .collect();
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<24}", keys.join(", ")),
                Style::new().fg(t.accent),
            ),
            Span::raw(command.describe()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "In the input line",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for (keys, what) in [
        ("Enter", "fetch the offer"),
        ("Esc", "cancel the fetch, or leave the input"),
        ("Left, Right, Home, End", "move the cursor"),
        ("Ctrl-U, Ctrl-W", "delete to the start, delete a word"),
        ("Tab", "back to the panes"),
        ("Ctrl-C", "quit"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<24}"), Style::new().fg(t.accent)),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "The mouse: a click selects a picture or a pane; the wheel scrolls the pane under it.",
        Style::new().fg(t.dim),
    ));
    let total = lines.len() as u16;
    let area = centered(screen, 88, total + 2);
    let visible = area.height.saturating_sub(2);
    let scroll = app.help_scroll.min(total.saturating_sub(visible));
    let title = if total > visible {
        format!(
            " Help, lines {}-{} of {} (j/k scroll, any other key closes) ",
            scroll + 1,
            (scroll + visible).min(total),
            total
        )
    } else {
        " Help (any key closes) ".to_string()
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(pane(&app.theme, Line::from(title), true)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_urls_keep_what_tells_pictures_apart() {
        let url = "https://cbu01.alicdn.com/img/ibank/2020/452/402/17709204254_1283248032.jpg";
        assert_eq!(
            shorten_url(url, 100),
            "cbu01.alicdn.com/img/ibank/2020/452/402/17709204254_1283248032.jpg"
        );
        assert_eq!(
            shorten_url(url, 50),
            "cbu01.alicdn.com/…/17709204254_1283248032.jpg"
        );
        assert_eq!(shorten_url(url, 30), "…/17709204254_1283248032.jpg");
        assert_eq!(
            shorten_url(url, 12),
            "17709204254…",
            "the distinctive start of the name"
        );
        assert_eq!(
            shorten_url("http://img.example.test/11/0/bottle-banner.jpg", 30),
            "…/bottle-banner.jpg",
            "plain http is shortened the same way"
        );
        for width in 0..80 {
            assert!(shorten_url(url, width).chars().count() <= width, "{width}");
        }
        // Two pictures of one offer stay apart at every width that shows anything.
        let other = "https://cbu01.alicdn.com/img/ibank/2020/901/478/17766874109_1283248032.jpg";
        for width in 6..80 {
            assert_ne!(
                shorten_url(url, width),
                shorten_url(other, width),
                "{width}"
            );
        }
    }

    #[test]
    fn bytes_read_like_a_person_writes_them() {
        assert_eq!(human_bytes(912), "912 B");
        assert_eq!(human_bytes(186_000), "182 KB");
        assert_eq!(human_bytes(4_823_449), "4.6 MB");
    }
}
