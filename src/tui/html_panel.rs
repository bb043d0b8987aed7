//! The HTML panel's content: the description's HTML one element a line, made safe and
//! syntax-highlighted.
//!
//! Runs off the UI task (a description can be megabytes). Highlighting uses syntect's HTML
//! grammar; past [`HIGHLIGHT_LIMIT`] lines the rest is shown plain, because highlighting costs
//! far more than formatting and nobody reads that far with colours on their mind.

use std::sync::OnceLock;

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

use crate::html_format;
use crate::text;

use super::state::HtmlLine;

/// Lines highlighted before the rest is shown plain.
pub const HIGHLIGHT_LIMIT: usize = 20_000;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn theme() -> &'static Theme {
    static THEME: OnceLock<Theme> = OnceLock::new();
    THEME.get_or_init(|| {
        let mut themes = ThemeSet::load_defaults().themes;
        themes.remove("base16-ocean.dark").unwrap_or_default()
    })
}

/// Formats, sanitises and (with `colors`) highlights `html` for the panel.
pub fn render(html: &str, colors: bool) -> Vec<HtmlLine> {
    let lines = html_format::format_lines(html);
    if !colors {
        return lines.iter().map(|l| plain(l)).collect();
    }
    let set = syntaxes();
    let Some(syntax) = set.find_syntax_by_extension("html") else {
        return lines.iter().map(|l| plain(l)).collect();
    };
    let mut highlighter = HighlightLines::new(syntax, theme());
    let mut out = Vec::with_capacity(lines.len());
    for (number, line) in lines.iter().enumerate() {
        let safe = text::sanitize(line);
        if number >= HIGHLIGHT_LIMIT {
            out.push(plain(&safe));
            continue;
        }
        let with_newline = format!("{safe}\n");
        match highlighter.highlight_line(&with_newline, set) {
            Ok(regions) => out.push(Line::from(
                regions
                    .into_iter()
                    .map(|(style, piece)| {
                        let piece = piece.trim_end_matches('\n').to_string();
                        let fg = style.foreground;
                        Span::styled(piece, Style::new().fg(Color::Rgb(fg.r, fg.g, fg.b)))
                    })
                    .collect::<Vec<_>>(),
            )),
            Err(_) => out.push(plain(&safe)),
        }
    }
    out
}

fn plain(line: &str) -> HtmlLine {
    Line::raw(text::sanitize(line).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(line: &HtmlLine) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn one_element_a_line_and_coloured() {
        let lines = render(r#"<p><img src="https://a.alicdn.com/x.jpg"/></p>"#, true);
        let text: Vec<String> = lines.iter().map(flat).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(
            text[1].contains(r#"<img src="https://a.alicdn.com/x.jpg"/>"#),
            "{text:?}"
        );
        assert!(lines[1].spans.len() > 1, "highlighted into several spans");
    }

    #[test]
    fn control_characters_never_reach_the_panel() {
        let lines = render("<p>\x1b]52;c;aGVsbG8=\x07 \u{9b}31m \u{202e}x</p>", true);
        for line in &lines {
            let text = flat(line);
            assert!(!text.chars().any(crate::text::is_unsafe_char), "{text:?}");
        }
    }
}
