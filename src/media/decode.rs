//! Turning picture bytes into pixels, within limits, the right way up.
//!
//! [`decode`] owns the decoding policy: the format comes from the bytes ([`sniff`]), a header
//! that declares more pixels than [`MAX_PIXELS`] or more than its file could hold is refused
//! before any decoder allocates for it, EXIF orientation is applied, a file cut short gives
//! the part received (marked as truncated), and large JPEGs shown in a small box decode at a
//! reduced scale. It is CPU work for `spawn_blocking`; it never does I/O, and a decoder that
//! panics on a hostile file is contained here and reported as a damaged picture.

use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

use image::metadata::Orientation;
use image::{
    ColorType, DynamicImage, ImageBuffer, ImageDecoder, ImageError, ImageReader, Limits, Luma,
    LumaA, Rgb, Rgba,
};

use super::format::{declared_size, png_bits_per_pixel, sniff, Format};
use super::{jpeg, jpeg_dc, MediaError};

/// The most pixels a picture may have: 100 megapixels. Real description pictures stay far
/// below (a 790x30000 banner is 23.7 MP); a header claiming more is lying or hostile.
pub const MAX_PIXELS: u64 = 100_000_000;

/// The most memory one decode may allocate for pixels: 512 MiB, enough for 100 MP of RGBA8
/// and for 16-bit pictures of a third of that.
pub const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// How much of a body that is not a picture is quoted in the error.
const QUOTED_BYTES: usize = 48;

/// A decoded picture.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The pixels, oriented as they are meant to be seen: RGBA8 when the picture has
    /// transparency, RGB8 otherwise. Smaller than `width`x`height` when `scaled` is set.
    pub image: DynamicImage,
    /// The full picture's width, after orientation.
    pub width: u32,
    /// The full picture's height, after orientation.
    pub height: u32,
    /// The format read from the bytes.
    pub format: Format,
    /// The file was cut short; `image` holds what could be decoded (missing parts are grey,
    /// black or transparent depending on the format). The caller should also mark a picture
    /// whose download was cut short ([`Fetched::truncated`](super::Fetched::truncated)).
    pub truncated: bool,
    /// `image` was decoded at a reduced scale (1/4 or 1/8) to fit the requested box; it is
    /// still at least as large as the picture fitted into that box.
    pub scaled: bool,
}

/// Decodes a picture.
///
/// `want` is the box, in pixels, the caller will show the picture in: a JPEG much larger
/// than that box is decoded at a reduced scale. `None` decodes at full size. Only the bytes
/// decide the format; formats that cannot be drawn, pages served in place of pictures, and
/// headers that lie each give their own [`MediaError`].
pub fn decode(bytes: &[u8], want: Option<(u32, u32)>) -> Result<Decoded, MediaError> {
    // Decoders are written against well-formed files; one that panics on a hostile file must
    // not take the program down. (The panic hook still runs; the caller decides about it.)
    panic::catch_unwind(AssertUnwindSafe(|| decode_unguarded(bytes, want))).unwrap_or_else(|_| {
        Err(MediaError::Corrupt {
            detail: "the decoder failed on this file".into(),
        })
    })
}

fn decode_unguarded(bytes: &[u8], want: Option<(u32, u32)>) -> Result<Decoded, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Corrupt {
            detail: "the file is empty".into(),
        });
    }
    let format = sniff(bytes);
    if !format.is_picture() {
        return Err(MediaError::NotAPicture {
            format,
            first_bytes: quote_start(bytes),
        });
    }
    // A JPEG's marker walk serves both the size check and the decode.
    let jpeg_info = match format {
        Format::Jpeg => jpeg::read_info(bytes),
        _ => None,
    };
    let declared = match &jpeg_info {
        Some(info) => Some(info.size),
        None => declared_size(bytes, format),
    };
    check_declared_size(bytes, format, declared)?;
    if !format.can_decode() {
        return Err(MediaError::Unsupported { format });
    }
    // The decoders would call such a file damaged, and the advice to fetch it again with it.
    if let Some(coding) = jpeg_info.as_ref().and_then(|info| info.unsupported_coding) {
        return Err(MediaError::UnsupportedFeature {
            format,
            detail: coding.to_string(),
        });
    }

    match jpeg_info {
        Some(info) => decode_jpeg(bytes, &info, want),
        None => decode_general(bytes, format),
    }
}

/// Refuses a header whose size is over the limit, zero, or more than its file can hold.
fn check_declared_size(
    bytes: &[u8],
    format: Format,
    declared: Option<(u32, u32)>,
) -> Result<(), MediaError> {
    let Some((width, height)) = declared else {
        return Ok(());
    };
    check_pixel_count(width, height)?;
    if let Some(least) = least_encoded_len(bytes, format, width, height) {
        if (bytes.len() as u64) < least {
            return Err(MediaError::TooLargeOrInvalid {
                detail: format!(
                    "it declares {width}x{height} pixels in only {} bytes",
                    bytes.len()
                ),
            });
        }
    }
    Ok(())
}

fn check_pixel_count(width: u32, height: u32) -> Result<(), MediaError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        return Err(MediaError::TooLargeOrInvalid {
            detail: format!("it declares {width}x{height} pixels"),
        });
    }
    if pixels > MAX_PIXELS {
        return Err(MediaError::TooLargeOrInvalid {
            detail: format!(
                "it declares {width}x{height} pixels, over the limit of {} megapixels",
                MAX_PIXELS / 1_000_000
            ),
        });
    }
    Ok(())
}

/// The fewest bytes a file of this format could encode `width`x`height` pixels in, where
/// that is cheap to bound; a file shorter than this has a header that lies (or is cut so
/// short that nothing useful would come out).
///
/// - PNG: deflate never compresses better than about 1032:1, and the filtered image data is
///   one filter byte plus the packed pixels per row.
/// - JPEG: every 8x8 block of the first component costs at least one bit (a DC code), so
///   512 pixels per byte is out of reach.
/// - GIF: an LZW code of at most 12 bits stands for at most 4096 pixels.
///
/// WebP is not bounded: its arithmetic coder can spend far less than a bit on a flat area.
fn least_encoded_len(bytes: &[u8], format: Format, width: u32, height: u32) -> Option<u64> {
    let pixels = u64::from(width) * u64::from(height);
    match format {
        Format::Png => {
            let bits = u64::from(png_bits_per_pixel(bytes)?);
            let row = 1 + (u64::from(width) * bits).div_ceil(8);
            Some(row * u64::from(height) / 1032)
        }
        Format::Jpeg => Some(pixels / 512),
        Format::Gif => Some(pixels / 4096),
        _ => None,
    }
}

/// A JPEG whose marker walk found a frame: a reduced-scale decode when the box is small,
/// else the general path. (A JPEG whose frame header is missing or cut goes straight to the
/// general decoder, which reports what is wrong.) The marker walk also tells whether the file
/// reached its end: zune-jpeg pads a cut file with grey and reports success, so its answer
/// alone would not.
fn decode_jpeg(
    bytes: &[u8],
    info: &jpeg::JpegInfo,
    want: Option<(u32, u32)>,
) -> Result<Decoded, MediaError> {
    let truncated = !info.complete;

    // A cut file goes the general way: jpeg-decoder stops at the missing bytes with an error
    // where zune-jpeg keeps what it got.
    if let (Some(want), false) = (want, truncated) {
        let stored_want = if swaps_axes(info.orientation) {
            (want.1, want.0)
        } else {
            want
        };
        let denominator = jpeg::scale_denominator(info.size, stored_want);
        if denominator > 1 {
            // Containing a panic here too lets the general decoder have its turn. At an
            // eighth, the DC coefficients are the picture: the DC-only decoder reads them
            // two to three times faster, and skips a progressive file's AC scans outright.
            let scaled = panic::catch_unwind(AssertUnwindSafe(|| {
                let eighth = (denominator == 8)
                    .then(|| jpeg_dc::decode_eighth(bytes))
                    .flatten();
                match eighth {
                    Some(image) => Ok(image),
                    None => jpeg::decode_scaled(bytes, info, denominator, MAX_ALLOC),
                }
            }));
            if let Ok(Ok(image)) = scaled {
                return Ok(finish(
                    image,
                    info.size,
                    info.orientation,
                    Format::Jpeg,
                    false,
                    true,
                ));
            }
        }
    }

    match decode_general(bytes, Format::Jpeg) {
        Ok(mut decoded) => {
            decoded.truncated |= truncated;
            Ok(decoded)
        }
        Err(MediaError::Corrupt { detail }) if truncated => Err(MediaError::Corrupt {
            detail: format!("the file is cut short ({detail})"),
        }),
        Err(error) => Err(error),
    }
}

/// The `image` crate's decoder with limits, reading into our own buffer so that a file cut
/// short still yields the rows decoded before the cut.
fn decode_general(bytes: &[u8], format: Format) -> Result<Decoded, MediaError> {
    let Some(image_format) = format.image_format() else {
        return Err(MediaError::Unsupported { format });
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits());
    let mut decoder = reader
        .into_decoder()
        .map_err(|error| image_error(error, format))?;

    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (width, height) = decoder.dimensions();
    check_pixel_count(width, height)?;
    let color = decoder.color_type();
    let buffer_len = decoder.total_bytes();
    if buffer_len > MAX_ALLOC {
        return Err(MediaError::TooLargeOrInvalid {
            detail: format!("{width}x{height} pixels need more memory than allowed"),
        });
    }
    let mut buffer = Vec::new();
    usize::try_from(buffer_len)
        .ok()
        .and_then(|len| buffer.try_reserve_exact(len).ok().map(|()| len))
        .map(|len| buffer.resize(len, 0))
        .ok_or_else(|| MediaError::TooLargeOrInvalid {
            detail: format!("no memory for {width}x{height} pixels"),
        })?;

    let truncated = match decoder.read_image(&mut buffer) {
        Ok(()) => false,
        Err(error) if is_truncation(&error) => true,
        Err(error) => return Err(image_error(error, format)),
    };
    let image =
        image_from_raw(color, width, height, buffer).ok_or_else(|| MediaError::Corrupt {
            detail: format!("the decoder gave pixels in an unknown layout ({color:?})"),
        })?;
    Ok(finish(
        image,
        (width, height),
        orientation,
        format,
        truncated,
        false,
    ))
}

fn limits() -> Limits {
    // `Limits` has no pixel count; `check_pixel_count` is that limit. Width and height are
    // left open so that a 1x200000 strip is judged by its pixels, not its length.
    let mut limits = Limits::default();
    limits.max_image_width = None;
    limits.max_image_height = None;
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Orientation, then RGB8/RGBA8 so callers deal with two layouts only (16-bit samples are
/// scaled down, grey is spread to three channels, transparency kept).
fn finish(
    mut image: DynamicImage,
    stored_size: (u32, u32),
    orientation: Orientation,
    format: Format,
    truncated: bool,
    scaled: bool,
) -> Decoded {
    image.apply_orientation(orientation);
    let image = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let (width, height) = if swaps_axes(orientation) {
        (stored_size.1, stored_size.0)
    } else {
        stored_size
    };
    Decoded {
        image,
        width,
        height,
        format,
        truncated,
        scaled,
    }
}

/// Orientations that turn the picture a quarter, so width and height trade places.
fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Wraps a raw buffer as read by `ImageDecoder::read_image`, whose multi-byte samples are in
/// native byte order.
fn image_from_raw(
    color: ColorType,
    width: u32,
    height: u32,
    buffer: Vec<u8>,
) -> Option<DynamicImage> {
    fn u16s(bytes: Vec<u8>) -> Vec<u16> {
        bytes
            .chunks_exact(2)
            .map(|pair| u16::from_ne_bytes([pair[0], pair[1]]))
            .collect()
    }
    fn f32s(bytes: Vec<u8>) -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|quad| f32::from_ne_bytes([quad[0], quad[1], quad[2], quad[3]]))
            .collect()
    }
    let (w, h) = (width, height);
    match color {
        ColorType::L8 => ImageBuffer::<Luma<u8>, _>::from_raw(w, h, buffer).map(Into::into),
        ColorType::La8 => ImageBuffer::<LumaA<u8>, _>::from_raw(w, h, buffer).map(Into::into),
        ColorType::Rgb8 => ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, buffer).map(Into::into),
        ColorType::Rgba8 => ImageBuffer::<Rgba<u8>, _>::from_raw(w, h, buffer).map(Into::into),
        ColorType::L16 => ImageBuffer::<Luma<u16>, _>::from_raw(w, h, u16s(buffer)).map(Into::into),
        ColorType::La16 => {
            ImageBuffer::<LumaA<u16>, _>::from_raw(w, h, u16s(buffer)).map(Into::into)
        }
        ColorType::Rgb16 => {
            ImageBuffer::<Rgb<u16>, _>::from_raw(w, h, u16s(buffer)).map(Into::into)
        }
        ColorType::Rgba16 => {
            ImageBuffer::<Rgba<u16>, _>::from_raw(w, h, u16s(buffer)).map(Into::into)
        }
        ColorType::Rgb32F => {
            ImageBuffer::<Rgb<f32>, _>::from_raw(w, h, f32s(buffer)).map(Into::into)
        }
        ColorType::Rgba32F => {
            ImageBuffer::<Rgba<f32>, _>::from_raw(w, h, f32s(buffer)).map(Into::into)
        }
        _ => None,
    }
}

/// Whether a decoder stopped because the data ran out, rather than because it was wrong.
///
/// The png, gif and image-webp decoders report the end of input as an I/O error of kind
/// `UnexpectedEof`, either directly or as the source of a decoding error; some wrap it into
/// their own message, which then names the end of the file.
fn is_truncation(error: &ImageError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::UnexpectedEof {
                return true;
            }
        }
        let message = current.to_string().to_ascii_lowercase();
        if [
            "eof",
            "end of file",
            "unexpected end",
            "truncated",
            "no more data",
        ]
        .iter()
        .any(|phrase| message.contains(phrase))
        {
            return true;
        }
        source = current.source();
    }
    false
}

fn image_error(error: ImageError, format: Format) -> MediaError {
    let detail = crate::text::sanitize(&error.to_string()).into_owned();
    match error {
        ImageError::Limits(_) => MediaError::TooLargeOrInvalid {
            detail: "it needs more memory than allowed".into(),
        },
        ImageError::Unsupported(_) => MediaError::UnsupportedFeature { format, detail },
        _ => MediaError::Corrupt { detail },
    }
}

/// The first bytes of a body, as text safe for the terminal.
fn quote_start(bytes: &[u8]) -> String {
    let start = bytes.get(..QUOTED_BYTES).unwrap_or(bytes);
    let text = String::from_utf8_lossy(start);
    // A multi-byte character cut by the window shows as one replacement character at the end;
    // that is what the user would see of it anyway.
    crate::text::sanitize(text.trim()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;

    use crate::media::encode_for_test as encode;

    fn banner(width: u32, height: u32) -> DynamicImage {
        let mut picture = RgbImage::new(width, height);
        for (x, y, pixel) in picture.enumerate_pixels_mut() {
            // Bands of colour, so the file has real content to decode.
            *pixel = Rgb([(y / 50 % 256) as u8, (x % 256) as u8, 128]);
        }
        picture.into()
    }

    #[test]
    fn a_tall_jpeg_in_a_small_box_uses_the_scaled_path() {
        let bytes = encode(&banner(790, 8000), image::ImageFormat::Jpeg);
        let decoded = decode(&bytes, Some((640, 640))).unwrap();
        assert!(decoded.scaled);
        assert!(!decoded.truncated);
        assert_eq!((decoded.width, decoded.height), (790, 8000));
        // 1/8 scale, still taller than the 640-pixel box it will be fitted into.
        assert_eq!((decoded.image.width(), decoded.image.height()), (99, 1000));

        let full = decode(&bytes, None).unwrap();
        assert!(!full.scaled);
        assert_eq!((full.image.width(), full.image.height()), (790, 8000));
    }

    #[test]
    fn a_box_as_large_as_the_picture_decodes_in_full() {
        let bytes = encode(&banner(200, 100), image::ImageFormat::Jpeg);
        let decoded = decode(&bytes, Some((640, 640))).unwrap();
        assert!(!decoded.scaled);
        assert_eq!(decoded.image.width(), 200);
    }

    #[test]
    fn pngs_keep_transparency_and_jpegs_have_none() {
        let mut picture = image::RgbaImage::new(4, 4);
        picture.put_pixel(1, 1, Rgba([10, 20, 30, 0]));
        let png = encode(&picture.into(), image::ImageFormat::Png);
        let decoded = decode(&png, None).unwrap();
        assert!(matches!(decoded.image, DynamicImage::ImageRgba8(_)));
        assert_eq!(decoded.image.to_rgba8().get_pixel(1, 1)[3], 0);

        let jpeg = encode(&banner(8, 8), image::ImageFormat::Jpeg);
        assert!(matches!(
            decode(&jpeg, None).unwrap().image,
            DynamicImage::ImageRgb8(_)
        ));
    }

    #[test]
    fn headers_that_promise_too_much_are_refused() {
        // A 64x64 PNG whose IHDR now claims 9000x9000: within the pixel limit, but 9000 rows
        // of 27001 bytes cannot deflate into a few kilobytes. (The chunk's CRC no longer
        // matches; the size check runs before any decoder would notice.)
        let png = encode(&banner(64, 64), image::ImageFormat::Png);
        let mut lying = png.clone();
        lying[16..20].copy_from_slice(&9000u32.to_be_bytes());
        lying[20..24].copy_from_slice(&9000u32.to_be_bytes());
        let error = decode(&lying, None).unwrap_err();
        assert!(
            matches!(error, MediaError::TooLargeOrInvalid { .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("too large or invalid"),
            "{error}"
        );
    }

    #[test]
    fn zero_sized_headers_are_invalid() {
        let png = encode(&banner(4, 4), image::ImageFormat::Png);
        let mut zero = png.clone();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            decode(&zero, None),
            Err(MediaError::TooLargeOrInvalid { .. })
        ));
    }

    #[test]
    fn text_is_quoted_safely() {
        let error = decode(b"<html>\x1b[31mno\x07</html>", None).unwrap_err();
        let MediaError::NotAPicture {
            format,
            first_bytes,
        } = &error
        else {
            panic!("{error}");
        };
        assert_eq!(*format, Format::Html);
        assert!(!first_bytes.contains('\x1b') && !first_bytes.contains('\x07'));
        assert!(first_bytes.starts_with("<html>"), "{first_bytes}");
    }

    #[test]
    fn arithmetic_and_hierarchical_jpegs_are_unsupported_not_damaged() {
        let bytes = encode(&banner(40, 24), image::ImageFormat::Jpeg);
        let sof = bytes
            .windows(2)
            .position(|pair| pair == [0xFF, 0xC0])
            .expect("a baseline frame header");
        for (marker, coding) in [(0xC9, "arithmetic coding"), (0xC5, "hierarchical coding")] {
            let mut changed = bytes.clone();
            changed[sof + 1] = marker;
            match decode(&changed, Some((10, 10))) {
                Err(MediaError::UnsupportedFeature { format, detail }) => {
                    assert_eq!(format, Format::Jpeg);
                    assert_eq!(detail, coding);
                }
                other => panic!("{marker:#x}: {:?}", other.map(|d| (d.width, d.height))),
            }
        }
    }

    #[test]
    fn empty_and_garbage_bytes_are_errors() {
        assert!(matches!(decode(b"", None), Err(MediaError::Corrupt { .. })));
        assert!(matches!(
            decode(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], None),
            Err(MediaError::Corrupt { .. })
        ));
        assert!(matches!(
            decode(b"\x89PNG\r\n\x1a\n\0\0", None),
            Err(MediaError::Corrupt { .. })
        ));
    }

    #[test]
    fn animations_give_their_first_frame() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame, RgbaImage};

        let frame = |colour: [u8; 4]| {
            Frame::from_parts(
                RgbaImage::from_pixel(6, 4, Rgba(colour)),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            )
        };
        let mut bytes = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut bytes);
            encoder
                .encode_frames([frame([250, 0, 0, 255]), frame([0, 0, 250, 255])])
                .unwrap();
        }
        let decoded = decode(&bytes, None).unwrap();
        assert_eq!(decoded.format, Format::Gif);
        let pixel = decoded.image.to_rgba8().get_pixel(3, 2).0;
        assert!(pixel[0] > 200 && pixel[2] < 50, "{pixel:?}");
    }

    #[test]
    fn sixteen_bit_samples_become_eight_bit() {
        let mut picture = ImageBuffer::<Rgb<u16>, Vec<u16>>::new(2, 1);
        picture.put_pixel(0, 0, Rgb([65535, 0, 32896]));
        let bytes = encode(&picture.into(), image::ImageFormat::Png);
        let decoded = decode(&bytes, None).unwrap();
        assert_eq!(decoded.image.to_rgb8().get_pixel(0, 0).0, [255, 0, 128]);
    }
}
