//! Where each pane goes for a terminal size.
//!
//! `update` and `view` both use this one function, so the preview that `update` asks the
//! runtime to prepare always has the size that `view` will draw it in.

use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest terminal the browser draws in; below it a short note says so.
pub const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 10;
/// From this width on the HTML panel sits beside the preview; below, under the list and preview.
pub const WIDE: u16 = 120;

/// The panes of the browser, outer rectangles including their borders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The input line.
    pub input: Rect,
    /// The picture list.
    pub list: Rect,
    /// The preview.
    pub preview: Rect,
    /// The HTML panel, when shown.
    pub html: Option<Rect>,
    /// The status line.
    pub status: Rect,
}

/// Splits the screen, or `None` when it is too small to be usable.
pub fn areas(screen: Rect, html_visible: bool) -> Option<Areas> {
    if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT {
        return None;
    }
    let [input, body, status] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(screen);

    if !html_visible {
        let [list, preview] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Min(1)]).areas(body);
        return Some(Areas {
            input,
            list,
            preview,
            html: None,
            status,
        });
    }
    if screen.width >= WIDE {
        let [list, preview, html] = Layout::horizontal([
            Constraint::Percentage(34),
            Constraint::Percentage(33),
            Constraint::Min(1),
        ])
        .areas(body);
        return Some(Areas {
            input,
            list,
            preview,
            html: Some(html),
            status,
        });
    }
    let [top, html] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Min(1)]).areas(body);
    let [list, preview] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Min(1)]).areas(top);
    Some(Areas {
        input,
        list,
        preview,
        html: Some(html),
        status,
    })
}

/// The inside of a bordered pane.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_small_screens_have_no_layout() {
        assert_eq!(areas(Rect::new(0, 0, 1, 1), true), None);
        assert_eq!(areas(Rect::new(0, 0, 80, 2), true), None);
        assert_eq!(areas(Rect::new(0, 0, 39, 40), true), None);
    }

    #[test]
    fn panes_tile_the_screen_without_overlap() {
        for (w, h) in [(40, 10), (80, 24), (119, 30), (120, 30), (200, 60)] {
            for html in [true, false] {
                let screen = Rect::new(0, 0, w, h);
                let a = areas(screen, html).expect("usable size");
                let mut panes = vec![a.input, a.list, a.preview, a.status];
                panes.extend(a.html);
                let covered: u32 = panes.iter().map(|r| r.area()).sum();
                assert_eq!(covered, screen.area(), "{w}x{h} html={html}");
                for (i, p) in panes.iter().enumerate() {
                    for q in &panes[i + 1..] {
                        assert!(!p.intersects(*q), "{p:?} overlaps {q:?} at {w}x{h}");
                    }
                }
            }
        }
    }
}
