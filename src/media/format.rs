//! What a body really is, read from its first bytes, and what its header declares.
//!
//! Picture hosts routinely serve bytes that do not match the URL's suffix or the Content-Type
//! (alicdn serves WebP at `.jpg` URLs; an error page arrives as `image/jpeg`), so the format
//! is always read from magic numbers here and never from a name. This module only looks at
//! headers: it never decodes pixels and never allocates in proportion to what a header claims.

use std::fmt;

/// A file format, as recognised from the bytes themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG (JFIF, Exif, Adobe).
    Jpeg,
    /// PNG, including APNG (whose first frame is an ordinary PNG picture).
    Png,
    /// GIF 87a or 89a.
    Gif,
    /// WebP, lossy, lossless or animated.
    WebP,
    /// Windows bitmap.
    Bmp,
    /// TIFF, either byte order.
    Tiff,
    /// AVIF: an ISO base media file whose brand is `avif` or `avis`.
    Avif,
    /// HEIC/HEIF: an ISO base media file with a HEIF brand (`heic`, `mif1`, ...).
    Heic,
    /// JPEG XL, as a bare codestream or in its container.
    Jxl,
    /// Windows icon.
    Ico,
    /// Netpbm (PBM, PGM, PPM, PAM).
    Pnm,
    /// SVG: an XML document whose root is `<svg>`.
    Svg,
    /// An HTML page: typically a hotlink, login or error page served in place of a picture.
    Html,
    /// Another XML document: object stores such as Alibaba Cloud OSS answer errors in XML.
    Xml,
    /// Other readable text, such as a JSON error body.
    Text,
    /// Nothing recognisable.
    Unknown,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 16] = [
        Format::Jpeg,
        Format::Png,
        Format::Gif,
        Format::WebP,
        Format::Bmp,
        Format::Tiff,
        Format::Avif,
        Format::Heic,
        Format::Jxl,
        Format::Ico,
        Format::Pnm,
        Format::Svg,
        Format::Html,
        Format::Xml,
        Format::Text,
        Format::Unknown,
    ];

    /// The name people know the format by, for messages ("JPEG", "WebP").
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::WebP => "WebP",
            Format::Bmp => "BMP",
            Format::Tiff => "TIFF",
            Format::Avif => "AVIF",
            Format::Heic => "HEIC",
            Format::Jxl => "JPEG XL",
            Format::Ico => "ICO",
            Format::Pnm => "PNM",
            Format::Svg => "SVG",
            Format::Html => "HTML",
            Format::Xml => "XML",
            Format::Text => "text",
            Format::Unknown => "unknown data",
        }
    }

    /// The file extension a saved copy should get, without the dot ("jpg", "png").
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::WebP => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tif",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Jxl => "jxl",
            Format::Ico => "ico",
            Format::Pnm => "pnm",
            Format::Svg => "svg",
            Format::Html => "html",
            Format::Xml => "xml",
            Format::Text => "txt",
            Format::Unknown => "bin",
        }
    }

    /// Whether [`decode`](super::decode) can turn this format into pixels.
    ///
    /// Only the codecs compiled into `image` (see Cargo.toml) count; everything else is
    /// reported as a format that cannot be previewed.
    pub fn can_decode(self) -> bool {
        self.image_format().is_some()
    }

    /// Whether this is a picture format at all, decodable or not (an HTML page is not).
    pub fn is_picture(self) -> bool {
        !matches!(
            self,
            Format::Html | Format::Xml | Format::Text | Format::Unknown
        )
    }

    /// The `image` crate's name for this format, for the formats we decode.
    pub(crate) fn image_format(self) -> Option<image::ImageFormat> {
        match self {
            Format::Jpeg => Some(image::ImageFormat::Jpeg),
            Format::Png => Some(image::ImageFormat::Png),
            Format::Gif => Some(image::ImageFormat::Gif),
            Format::WebP => Some(image::ImageFormat::WebP),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many leading bytes the text checks look at; a page's opening tag comes well before.
const TEXT_WINDOW: usize = 512;

/// Reads the format from the first bytes (magic numbers only; never a name or a header value).
pub fn sniff(bytes: &[u8]) -> Format {
    if let Some(format) = sniff_binary(bytes) {
        return format;
    }
    sniff_text(bytes)
}

fn sniff_binary(bytes: &[u8]) -> Option<Format> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);

    let format = if starts(&[0xFF, 0xD8, 0xFF]) {
        Format::Jpeg
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Format::Png
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Format::Gif
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Format::WebP
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Format::Tiff
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        Format::Jxl
    } else if bytes.get(4..8) == Some(b"ftyp") {
        return sniff_iso_media(bytes);
    } else if starts(b"BM") && is_bitmap_header(bytes) {
        Format::Bmp
    } else if starts(&[0, 0, 1, 0]) && bytes.len() >= 22 {
        Format::Ico
    } else if is_netpbm_magic(bytes) {
        Format::Pnm
    } else {
        return None;
    };
    Some(format)
}

/// AVIF and HEIC are both ISO base media files (`....ftyp` + brand); the major brand at bytes
/// 8..12 tells which, except for the generic HEIF brands `mif1`/`msf1`, where the list of
/// compatible brands that follows says whether the content is AV1 (`avif`).
fn sniff_iso_media(bytes: &[u8]) -> Option<Format> {
    let brand = bytes.get(8..12)?;
    match brand {
        b"avif" | b"avis" => Some(Format::Avif),
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => Some(Format::Heic),
        b"mif1" | b"msf1" => {
            let box_len = bytes
                .get(0..4)
                .and_then(|len| len.try_into().ok())
                .map(u32::from_be_bytes)
                .and_then(|len| usize::try_from(len).ok())
                .unwrap_or(0)
                .min(bytes.len());
            let compatible = bytes.get(16..box_len).unwrap_or_default();
            if compatible.chunks_exact(4).any(|brand| brand == b"avif") {
                Some(Format::Avif)
            } else {
                Some(Format::Heic)
            }
        }
        // Other ISO media (MP4 video, for instance) is not a picture we know.
        _ => None,
    }
}

/// "BM" alone is too short a magic to tell a bitmap from text that starts with "BM"; a real
/// bitmap header also has its two reserved 16-bit fields (bytes 6..10) set to zero.
fn is_bitmap_header(bytes: &[u8]) -> bool {
    bytes.len() >= 26 && bytes.get(6..10) == Some(&[0, 0, 0, 0])
}

/// Netpbm files open with `P1` to `P7` followed by whitespace.
fn is_netpbm_magic(bytes: &[u8]) -> bool {
    matches!(bytes, [b'P', b'1'..=b'7', next, ..] if next.is_ascii_whitespace())
}

fn sniff_text(bytes: &[u8]) -> Format {
    let window = bytes.get(..TEXT_WINDOW).unwrap_or(bytes);
    let window = window.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(window);
    let start = window
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(window.len());
    let Some(trimmed) = window.get(start..) else {
        return Format::Unknown;
    };
    if trimmed.is_empty() {
        return Format::Unknown;
    }

    let lower = trimmed.to_ascii_lowercase();
    let contains = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if lower.starts_with(b"<") {
        if contains(b"<svg") {
            return Format::Svg;
        }
        if contains(b"<html") || contains(b"<!doctype html") || contains(b"<body") {
            return Format::Html;
        }
        if lower.starts_with(b"<?xml") {
            return Format::Xml;
        }
        if contains(b"<head") || contains(b"<title") || lower.starts_with(b"<!--") {
            return Format::Html;
        }
    }

    if looks_like_text(trimmed) {
        Format::Text
    } else {
        Format::Unknown
    }
}

/// Readable text: valid UTF-8 (a multi-byte character cut by the window's end still counts)
/// with no control characters other than tab and line breaks.
fn looks_like_text(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            match bytes.get(..error.valid_up_to()).map(std::str::from_utf8) {
                Some(Ok(text)) => text,
                _ => return false,
            }
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// The width and height a picture's header declares, read without decoding anything.
///
/// Used to refuse a header that lies (100000x100000 in 60 bytes) before a decoder allocates
/// for it. `None` when the format's header is not read here or is cut short.
pub(crate) fn declared_size(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    match format {
        Format::Png => png_size(bytes),
        Format::Jpeg => super::jpeg::read_info(bytes).map(|info| info.size),
        Format::Gif => gif_size(bytes),
        Format::WebP => webp_size(bytes),
        Format::Bmp => bmp_size(bytes),
        Format::Pnm => pnm_size(bytes),
        _ => None,
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(field.try_into().ok()?))
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let field = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(field.try_into().ok()?))
}

fn le_u24(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(3)?)?;
    Some(
        field
            .iter()
            .rev()
            .fold(0, |acc, &b| (acc << 8) | u32::from(b)),
    )
}

/// PNG: the IHDR chunk always comes first, width and height big-endian at bytes 16..24.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16) != Some(b"IHDR") {
        return None;
    }
    Some((be_u32(bytes, 16)?, be_u32(bytes, 20)?))
}

/// PNG's bits per pixel from IHDR's bit depth (byte 24) and colour type (byte 25).
pub(crate) fn png_bits_per_pixel(bytes: &[u8]) -> Option<u32> {
    let depth = u32::from(*bytes.get(24)?);
    let channels = match bytes.get(25)? {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => return None,
    };
    Some(depth * channels)
}

/// GIF: the logical screen size, little-endian at bytes 6..10.
fn gif_size(bytes: &[u8]) -> Option<(u32, u32)> {
    Some((le_u16(bytes, 6)?.into(), le_u16(bytes, 8)?.into()))
}

/// WebP: the first chunk after the RIFF header (byte 12) says which kind of stream follows,
/// and each kind keeps its size in its own place.
fn webp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..16)? {
        // Extended: canvas width-1 and height-1, 24 bits each, at bytes 24..30.
        b"VP8X" => Some((le_u24(bytes, 24)? + 1, le_u24(bytes, 27)? + 1)),
        // Lossy: after a 3-byte frame tag and the start code 9d 01 2a, 14-bit width and height.
        b"VP8 " => {
            if bytes.get(23..26) != Some(&[0x9d, 0x01, 0x2a]) {
                return None;
            }
            let width = le_u16(bytes, 26)? & 0x3fff;
            let height = le_u16(bytes, 28)? & 0x3fff;
            Some((width.into(), height.into()))
        }
        // Lossless: signature 0x2f, then width-1 and height-1 in 14 bits each.
        b"VP8L" => {
            if bytes.get(20) != Some(&0x2f) {
                return None;
            }
            let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        _ => None,
    }
}

/// BMP: signed 32-bit width and height at bytes 18..26; a negative height means top-down.
fn bmp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let width = i32::from_le_bytes(bytes.get(18..22)?.try_into().ok()?);
    let height = i32::from_le_bytes(bytes.get(22..26)?.try_into().ok()?);
    Some((width.unsigned_abs(), height.unsigned_abs()))
}

/// Netpbm: ASCII tokens after the magic (`P6 640 480 255`), `#` starting a comment; PAM (P7)
/// spells them as `WIDTH n` and `HEIGHT n` lines.
fn pnm_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let header = bytes.get(..bytes.len().min(1024))?;
    let text = String::from_utf8_lossy(header);
    let mut tokens = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace);
    let magic = tokens.next()?;
    if magic == "P7" {
        let mut width = None;
        let mut height = None;
        while let Some(token) = tokens.next() {
            match token {
                "WIDTH" => width = tokens.next().and_then(|t| t.parse().ok()),
                "HEIGHT" => height = tokens.next().and_then(|t| t.parse().ok()),
                "ENDHDR" => break,
                _ => {}
            }
        }
        return Some((width?, height?));
    }
    // Saturate rather than fail: a header declaring more than u32::MAX is just as absurd.
    let mut number = || {
        tokens.next().and_then(|t| {
            t.parse::<u64>()
                .ok()
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        })
    };
    Some((number()?, number()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_formats_are_read_from_their_magic_numbers() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Format::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Format::Png);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Format::Gif);
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), Format::Gif);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Format::WebP);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Format::Tiff);
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Format::Tiff);
        assert_eq!(sniff(b"\xFF\x0A\xFA"), Format::Jxl);
        assert_eq!(sniff(b"P6\n640 480\n255\n"), Format::Pnm);
        let mut bmp = b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.resize(30, 0);
        assert_eq!(sniff(&bmp), Format::Bmp);
    }

    #[test]
    fn iso_media_brands_tell_avif_from_heic() {
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1"), Format::Avif);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Format::Heic);
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"), Format::Heic);
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"), Format::Avif);
        // An MP4 video is ISO media too, but no picture.
        assert_eq!(
            sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"),
            Format::Unknown
        );
    }

    #[test]
    fn pages_and_text_are_not_pictures() {
        assert_eq!(sniff(b"<html><body>403</body></html>"), Format::Html);
        assert_eq!(
            sniff(b"\xEF\xBB\xBF  <!DOCTYPE html>\n<html>"),
            Format::Html
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>"),
            Format::Xml
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>"),
            Format::Svg
        );
        assert_eq!(sniff(br#"{"code":403,"msg":"forbidden"}"#), Format::Text);
        assert_eq!(sniff("错误 403".as_bytes()), Format::Text);
        assert_eq!(sniff(b"\x00\x01\x02\x03garbage"), Format::Unknown);
        assert_eq!(sniff(b""), Format::Unknown);
        for format in [Format::Html, Format::Xml, Format::Text, Format::Unknown] {
            assert!(!format.is_picture() && !format.can_decode(), "{format}");
        }
    }

    #[test]
    fn text_starting_like_a_bitmap_is_text() {
        assert_eq!(sniff(b"BMW spare parts, wholesale"), Format::Text);
    }

    #[test]
    fn only_the_compiled_codecs_can_decode() {
        let decodable: Vec<Format> = Format::ALL
            .into_iter()
            .filter(|format| format.can_decode())
            .collect();
        assert_eq!(
            decodable,
            [Format::Jpeg, Format::Png, Format::Gif, Format::WebP]
        );
        assert_eq!(Format::Jpeg.extension(), "jpg");
        assert_eq!(Format::WebP.name(), "WebP");
        assert_eq!(Format::Heic.extension(), "heic");
    }

    #[test]
    fn declared_sizes_come_from_each_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(100_000u32.to_be_bytes());
        png.extend(3u32.to_be_bytes());
        png.extend([8, 6, 0, 0, 0]);
        assert_eq!(declared_size(&png, Format::Png), Some((100_000, 3)));
        assert_eq!(png_bits_per_pixel(&png), Some(32));

        assert_eq!(
            declared_size(b"GIF89a\x10\x03\x20\x00", Format::Gif),
            Some((784, 32))
        );
        assert_eq!(
            declared_size(b"P6 # comment\n99999999999 7\n255\n", Format::Pnm),
            Some((u32::MAX, 7))
        );
        assert_eq!(
            declared_size(b"P7\nWIDTH 4\nHEIGHT 5\nDEPTH 3\nENDHDR\n", Format::Pnm),
            Some((4, 5))
        );
        assert_eq!(declared_size(b"P6\n", Format::Pnm), None);

        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend([0x15, 0x03, 0x00, 0x2f, 0x75, 0x00]);
        assert_eq!(declared_size(&vp8x, Format::WebP), Some((790, 30000)));
    }
}
