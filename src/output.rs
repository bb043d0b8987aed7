//! What the non-interactive commands print: `get`'s URL list and JSON, and `show`'s pictures
//! in the scrollback.
//!
//! Everything printed here reaches a terminal or a pipe outside the browser, so no raw
//! control character may pass: URLs were validated where they entered, other text is
//! sanitised, and JSON escapes every character a terminal could act on.

use std::io::Write;

use image::DynamicImage;
use serde::Serialize;

use crate::description::{Description, Picture, Unusable};
use crate::item_id::ItemId;
use crate::media;
use crate::text;

/// `descview get --json`: the offer, its pictures and its HTML.
#[derive(Debug, Serialize)]
pub struct GetJson<'a> {
    /// The offer ID, a JSON number as the API gives it.
    pub item_id: serde_json::Value,
    /// The pictures, in list order.
    pub pictures: Vec<PictureJson<'a>>,
    /// References that cannot be fetched.
    pub unusable: &'a [Unusable],
    /// The description HTML exactly as received.
    pub detail_html: &'a str,
}

/// One picture in `get --json`.
#[derive(Debug, Serialize)]
pub struct PictureJson<'a> {
    /// Its normalised URL.
    pub url: &'a str,
    /// Where it was found: `detail_imgs` or `detail_html`.
    pub source: crate::description::PictureSource,
}

impl<'a> GetJson<'a> {
    /// The JSON for an offer.
    pub fn new(item: &ItemId, description: &'a Description, detail_html: &'a str) -> Self {
        let item_id = item
            .as_str()
            .parse::<u64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| serde_json::Value::from(item.as_str()));
        GetJson {
            item_id,
            pictures: description
                .pictures
                .iter()
                .map(|Picture { url, source, .. }| PictureJson {
                    url,
                    source: *source,
                })
                .collect(),
            unusable: &description.unusable,
            detail_html,
        }
    }

    /// Pretty JSON that is safe to print on a terminal.
    pub fn to_terminal_json(&self) -> String {
        let json = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        escape_unsafe_in_json(&json)
    }
}

/// Rewrites every character a terminal could act on (C1 controls, DEL, bidi overrides,
/// zero-width characters) as a `\uXXXX` escape. serde_json escapes only C0 controls, and in
/// JSON text such characters can only occur inside strings, where the escape means the same.
pub fn escape_unsafe_in_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        // C0 controls are escaped by serde_json inside strings; outside them only the
        // pretty printer's newlines occur.
        if text::is_unsafe_char(c) && u32::from(c) >= 0x20 {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How `show` draws pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowProtocol {
    /// Half blocks with true colour.
    Halfblocks,
    /// Let viuer ask the terminal for kitty or iTerm2 support.
    Detect,
    /// Let viuer use kitty when the terminal has it.
    Kitty,
    /// Let viuer use iTerm2 inline images.
    Iterm2,
}

/// Decodes `bytes` for `cols` columns and prints the picture into the scrollback.
pub fn print_picture(bytes: &[u8], cols: u16, protocol: ShowProtocol) -> Result<(), String> {
    let cols = u32::from(cols.max(1));
    // Half-blocks show one pixel per column and two per row: decode and scale for that,
    // which is what makes `show` fast on 790x8000 banners.
    let decoded = media::decode(bytes, Some((cols, u32::MAX))).map_err(|e| e.to_string())?;
    let image: DynamicImage = media::resize_to_width(&decoded.image, cols);
    let config = viuer::Config {
        absolute_offset: false,
        width: Some(image.width()),
        height: None,
        truecolor: true,
        use_kitty: matches!(protocol, ShowProtocol::Kitty | ShowProtocol::Detect),
        use_iterm: matches!(protocol, ShowProtocol::Iterm2 | ShowProtocol::Detect),
        ..Default::default()
    };
    viuer::print(&image, &config).map_err(|e| format!("printing the picture failed: {e}"))?;
    if decoded.truncated {
        let _ = writeln!(
            std::io::stdout(),
            "(the file was cut short: partial picture)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::PictureSource;

    #[test]
    fn json_escapes_what_a_terminal_would_act_on() {
        let json = escape_unsafe_in_json("{\"a\":\"x\u{9b}31m\u{202e}y\u{7f}\"}");
        assert_eq!(json, "{\"a\":\"x\\u009b31m\\u202ey\\u007f\"}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["a"], "x\u{9b}31m\u{202e}y\u{7f}");
    }

    #[test]
    fn get_json_has_the_documented_shape() {
        let description = Description {
            pictures: vec![Picture {
                url: "https://cbu01.alicdn.com/a.jpg".into(),
                source: PictureSource::DetailHtml,
                aliases: vec![],
            }],
            unusable: vec![],
        };
        let item: ItemId = "622619146604".parse().unwrap();
        let json = GetJson::new(&item, &description, "<img>").to_terminal_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["item_id"], 622619146604u64);
        assert_eq!(
            value["pictures"][0]["url"],
            "https://cbu01.alicdn.com/a.jpg"
        );
        assert_eq!(value["pictures"][0]["source"], "detail_html");
        assert_eq!(value["detail_html"], "<img>");
    }
}
