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
    /// The description HTML as received, but with control, bidi and zero-width characters
    /// shown as placeholders: `jq -r .detail_html` prints it raw, onto a terminal.
    pub detail_html: std::borrow::Cow<'a, str>,
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
        // A number, as the API gives it, while every JSON reader holds it exactly (JavaScript
        // and jq read numbers as doubles, exact up to 2^53); beyond that, a string of digits.
        const EXACT_IN_A_DOUBLE: u64 = (1 << 53) - 1;
        let item_id = item
            .as_str()
            .parse::<u64>()
            .ok()
            .filter(|id| *id <= EXACT_IN_A_DOUBLE)
            .map(serde_json::Value::from)
            .unwrap_or_else(|| serde_json::Value::from(item.as_str()));
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
            detail_html: crate::text::sanitize_multiline(detail_html),
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

/// How `show` draws pictures, decided before the first one (see `resolve_show_protocol` in
/// the binary): nothing here asks the terminal anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowProtocol {
    /// Half blocks with true colour.
    Halfblocks,
    /// The kitty graphics protocol; the terminal's cell size in pixels when it said.
    Kitty {
        /// Width and height of one cell in pixels.
        cell: Option<(u16, u16)>,
    },
    /// iTerm2 inline images, drawn by viuer.
    Iterm2,
}

/// The cell size assumed when the terminal does not say: the common 8x16 font.
const DEFAULT_CELL: (u16, u16) = (8, 16);
/// Base64 bytes per kitty graphics escape: the protocol's limit for one chunk.
const KITTY_CHUNK: usize = 4096;

/// Decodes `bytes` for `cols` columns and prints the picture into the scrollback.
///
/// Half-blocks are written by [`write_halfblocks`]: viuer's own half-block printer resizes
/// the picture again and sets both colours through termcolor for every cell, which took
/// longer than decoding a 790x8000 JPEG; ours writes a colour only when it changes and the
/// whole picture at once. Kitty pictures are written by [`write_kitty`]: viuer's kitty
/// printer asks the terminal first, outside raw mode and without a deadline, so the answer
/// lands on the screen (`^[[?1;2c` in tmux) and a terminal that never answers hangs it.
/// iTerm2 pictures go through viuer, which decides about them from the environment alone.
pub fn print_picture(bytes: &[u8], cols: u16, protocol: ShowProtocol) -> Result<(), String> {
    let cols = cols.max(1);
    // Half-blocks show one pixel per column and two per row; graphics protocols as many
    // pixels as a cell has. Decode and scale for that, which is what makes `show` fast on
    // 790x8000 banners.
    let pixels_wide = match protocol {
        ShowProtocol::Halfblocks => u32::from(cols),
        ShowProtocol::Kitty { cell } => u32::from(cols) * u32::from(cell.unwrap_or(DEFAULT_CELL).0),
        ShowProtocol::Iterm2 => u32::from(cols) * u32::from(DEFAULT_CELL.0),
    };
    let decoded = media::decode(bytes, Some((pixels_wide, u32::MAX))).map_err(|e| e.to_string())?;
    let image: DynamicImage = media::fit_decoded(&decoded, pixels_wide, u32::MAX);

    let mut stdout = std::io::stdout().lock();
    let printed = match protocol {
        ShowProtocol::Halfblocks => write_halfblocks(&mut stdout, &image),
        ShowProtocol::Kitty { cell } => write_kitty(&mut stdout, &image, cols, cell),
        ShowProtocol::Iterm2 => {
            let config = viuer::Config {
                absolute_offset: false,
                width: Some(u32::from(cols)),
                height: None,
                truecolor: true,
                use_kitty: false,
                use_iterm: true,
                ..Default::default()
            };
            viuer::print(&image, &config)
                .map(drop)
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
    };
    printed
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("printing the picture failed: {e}"))?;
    if decoded.truncated {
        // On stderr: what is redirected from stdout must be the picture alone.
        eprintln!("descview: note: the picture was cut short; the part that arrived is shown");
    }
    Ok(())
}

/// Writes `image` with the kitty graphics protocol as a PNG, `cols` cells wide and as many
/// rows as its shape needs, then moves to the line below it.
///
/// The PNG travels base64-encoded in chunks of [`KITTY_CHUNK`] bytes; `q=2` keeps the
/// terminal from answering, so nothing lands in the input.
pub fn write_kitty(
    out: &mut impl Write,
    image: &DynamicImage,
    cols: u16,
    cell: Option<(u16, u16)>,
) -> std::io::Result<()> {
    use base64::Engine as _;
    use image::ImageEncoder as _;

    let (cell_width, cell_height) = cell.unwrap_or(DEFAULT_CELL);
    let rgba = image.to_rgba8();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(
        rgba.as_raw(),
        rgba.width(),
        rgba.height(),
        image::ExtendedColorType::Rgba8,
    )
    .map_err(std::io::Error::other)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&png);

    // The picture is `cols` cells wide; its height in cells follows from its shape and the
    // cells' own shape.
    let shown_width = f64::from(cols) * f64::from(cell_width.max(1));
    let shown_height = shown_width * f64::from(rgba.height()) / f64::from(rgba.width().max(1));
    let rows = (shown_height / f64::from(cell_height.max(1)))
        .ceil()
        .max(1.0) as u32;

    let mut text = Vec::with_capacity(encoded.len() + encoded.len() / KITTY_CHUNK * 16 + 64);
    let chunks: Vec<&[u8]> = encoded.as_bytes().chunks(KITTY_CHUNK).collect();
    for (n, chunk) in chunks.iter().enumerate() {
        let more = u8::from(n + 1 < chunks.len());
        if n == 0 {
            write!(text, "\x1b_Ga=T,f=100,q=2,c={cols},r={rows},m={more};")?;
        } else {
            write!(text, "\x1b_Gm={more};")?;
        }
        text.extend_from_slice(chunk);
        text.extend_from_slice(b"\x1b\\");
    }
    text.push(b'\n');
    out.write_all(&text)
}

/// U+2580 UPPER HALF BLOCK: its foreground is the upper half of the cell, its background the
/// lower half.
const UPPER_HALF_BLOCK: &str = "\u{2580}";
/// SGR 0: default colours, so nothing bleeds past the end of a line into the scrollback.
const RESET: &[u8] = b"\x1b[0m";
/// viuer's checkerboard for transparent pixels, kept so that `show` looks as it always did.
const CHECKER_DARK: u8 = 102;
const CHECKER_LIGHT: u8 = 153;

/// Writes `image` as rows of half-block characters in 24-bit colour, each text row showing
/// two rows of pixels (the picture should be as many pixels wide as it has columns).
///
/// Each line starts in the terminal's default colours and ends with a reset and a newline;
/// within a line a colour is set only when it differs from the cell before. A picture with an
/// odd number of rows ends with a line whose lower halves keep the default background.
/// Transparent pixels are blended over a grey checkerboard. Nothing but SGR colour sequences,
/// the half-block character and newlines is written.
pub fn write_halfblocks(out: &mut impl Write, image: &DynamicImage) -> std::io::Result<()> {
    let rgb = opaque_rgb(image);
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    if width == 0 || height == 0 {
        return Ok(());
    }
    let mut rows = rgb.as_raw().chunks_exact(width * 3);
    // One write for the whole picture: a 80x405-cell picture is about 1 MB of escapes, and a
    // write per line or per cell costs more than building it.
    let mut text = Vec::with_capacity(width * height.div_ceil(2) * 24);
    while let Some(upper) = rows.next() {
        let lower = rows.next();
        let (mut foreground, mut background) = (None, None);
        for (column, top) in upper.chunks_exact(3).enumerate() {
            let Ok(top) = <[u8; 3]>::try_from(top) else {
                continue;
            };
            if foreground != Some(top) {
                push_colour(&mut text, b"38", top);
                foreground = Some(top);
            }
            let bottom = lower
                .and_then(|row| row.get(column * 3..column * 3 + 3))
                .and_then(|pixel| <[u8; 3]>::try_from(pixel).ok());
            if let (Some(bottom), true) = (bottom, background != bottom) {
                push_colour(&mut text, b"48", bottom);
                background = Some(bottom);
            }
            text.extend_from_slice(UPPER_HALF_BLOCK.as_bytes());
        }
        text.extend_from_slice(RESET);
        text.push(b'\n');
    }
    out.write_all(&text)
}

/// `ESC [ {layer} ; 2 ; R ; G ; B m`: layer 38 is the foreground, 48 the background.
///
/// A tall picture sets some 60 000 colours, so the digits come from a table rather than
/// being worked out each time.
fn push_colour(text: &mut Vec<u8>, layer: &[u8; 2], [red, green, blue]: [u8; 3]) {
    text.extend_from_slice(b"\x1b[");
    text.extend_from_slice(layer);
    text.extend_from_slice(b";2");
    for value in [red, green, blue] {
        let [length, digits @ ..] = &DECIMALS[usize::from(value)];
        text.push(b';');
        text.extend_from_slice(&digits[..usize::from(*length)]);
    }
    text.push(b'm');
}

/// For each byte value: the number of its decimal digits, then the digits.
const DECIMALS: [[u8; 4]; 256] = decimals();

const fn decimals() -> [[u8; 4]; 256] {
    let mut table = [[0u8; 4]; 256];
    let mut value = 0;
    while value < 256 {
        let v = value as u8;
        table[value] = match v {
            100.. => [3, b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10],
            10.. => [2, b'0' + v / 10, b'0' + v % 10, 0],
            _ => [1, b'0' + v, 0, 0],
        };
        value += 1;
    }
    table
}

/// The picture as opaque RGB: borrowed when it already is (the decoder gives RGB for every
/// picture without transparency), else blended over the checkerboard.
fn opaque_rgb(image: &DynamicImage) -> std::borrow::Cow<'_, image::RgbImage> {
    if let DynamicImage::ImageRgb8(rgb) = image {
        return std::borrow::Cow::Borrowed(rgb);
    }
    let rgba = image.to_rgba8();
    let blended = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let pixel = rgba.get_pixel(x, y).0;
        let checker = if (x + y) % 2 == 0 {
            CHECKER_DARK
        } else {
            CHECKER_LIGHT
        };
        let alpha = u16::from(pixel[3]);
        let over = |colour: u8| {
            let mixed = (u16::from(colour) * alpha + u16::from(checker) * (255 - alpha)) / 255;
            // A weighted mean of two bytes is at most 255.
            u8::try_from(mixed).unwrap_or(u8::MAX)
        };
        image::Rgb([over(pixel[0]), over(pixel[1]), over(pixel[2])])
    });
    std::borrow::Cow::Owned(blended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::PictureSource;

    fn halfblocks(image: &DynamicImage) -> String {
        let mut out = Vec::new();
        write_halfblocks(&mut out, image).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn halfblocks_show_two_pixel_rows_per_line_and_an_odd_last_row() {
        let (red, green, blue) = ([255, 0, 0], [0, 255, 0], [0, 0, 255]);
        let rows = [[red, green], [blue, blue], [[255, 255, 255], [7, 80, 200]]];
        let picture =
            image::RgbImage::from_fn(2, 3, |x, y| image::Rgb(rows[y as usize][x as usize]));
        let text = halfblocks(&picture.into());
        assert_eq!(
            text,
            "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m\u{2580}\x1b[38;2;0;255;0m\u{2580}\x1b[0m\n\
             \x1b[38;2;255;255;255m\u{2580}\x1b[38;2;7;80;200m\u{2580}\x1b[0m\n",
            "upper pixel in the foreground, lower in the background; a colour is set only when it \
             changes; the odd last row keeps the default background"
        );
    }

    /// Checks that `text` holds only SGR sequences, half blocks and newlines, and returns its
    /// lines' cell counts.
    fn cells_per_line(text: &str) -> Vec<usize> {
        let mut lines = Vec::new();
        let mut cells = 0;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\u{2580}' => cells += 1,
                '\n' => {
                    lines.push(cells);
                    cells = 0;
                }
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['), "only CSI sequences");
                    let parameters: String = chars.by_ref().take_while(|&c| c != 'm').collect();
                    assert!(
                        parameters.chars().all(|c| c.is_ascii_digit() || c == ';'),
                        "only SGR: {parameters:?}"
                    );
                }
                other => panic!("unexpected character {other:?}"),
            }
        }
        assert_eq!(cells, 0, "the last line ends with a newline");
        lines
    }

    #[test]
    fn halfblocks_write_only_colours_blocks_and_newlines() {
        let picture = image::RgbaImage::from_fn(7, 9, |x, y| {
            image::Rgba([(x * 40) as u8, (y * 30) as u8, 90, (x * y * 10) as u8])
        });
        let text = halfblocks(&picture.into());
        assert_eq!(cells_per_line(&text), vec![7; 5]);
        for line in text.lines() {
            assert!(line.ends_with("\x1b[0m"), "every line resets: {line:?}");
        }
        assert!(halfblocks(&DynamicImage::new_rgb8(0, 0)).is_empty());
    }

    #[test]
    fn transparency_shows_the_checkerboard() {
        let clear = image::RgbaImage::from_pixel(2, 2, image::Rgba([255, 0, 0, 0]));
        assert_eq!(
            halfblocks(&clear.into()),
            "\x1b[38;2;102;102;102m\x1b[48;2;153;153;153m\u{2580}\
             \x1b[38;2;153;153;153m\x1b[48;2;102;102;102m\u{2580}\x1b[0m\n"
        );
        let half = image::RgbaImage::from_pixel(1, 1, image::Rgba([255, 0, 0, 128]));
        assert_eq!(
            halfblocks(&half.into()),
            "\x1b[38;2;178;50;50m\u{2580}\x1b[0m\n"
        );
    }

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

        let huge: ItemId = "9876543210987654006".parse().unwrap();
        let json = GetJson::new(&huge, &description, "").to_terminal_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value["item_id"], "9876543210987654006",
            "kept exact as a string"
        );
    }
}
