//! JPEG specifics: reading the marker structure, and decoding at a reduced scale.
//!
//! [`read_info`] walks the file's segments once, without decoding, to learn what the general
//! decoder does not tell us: the declared size (to refuse a lying header before anything is
//! allocated), the Adobe colour transform, the EXIF orientation, and whether the file reaches
//! its end-of-image marker (a file that does not was cut short; zune-jpeg fills the missing
//! rows with grey and reports success, so this is how truncation is noticed).
//!
//! [`decode_scaled`] decodes at 1/4 or 1/8 scale with `jpeg-decoder`, whose IDCT can produce
//! the reduced size directly; zune-jpeg (what `image` uses) always decodes full size.
//! A description picture of 790x30000 shown in a pane a few hundred pixels tall needs an
//! eighth of the pixels at most.

use std::ops::Range;

use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer, Luma, Rgb};

use super::MediaError;

/// What the marker walk learned about a JPEG file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JpegInfo {
    /// Width and height from the frame header, before orientation.
    pub size: (u32, u32),
    /// Number of colour components: 1 (grey), 3 (YCbCr or RGB), 4 (CMYK or YCCK).
    pub components: u8,
    /// The Adobe APP14 transform byte: 0 = RGB or CMYK as stored, 1 = YCbCr, 2 = YCCK.
    pub adobe_transform: Option<u8>,
    /// The EXIF orientation, `NoTransforms` when the file has none.
    pub orientation: Orientation,
    /// Whether the end-of-image marker was reached after the frame's scans.
    pub complete: bool,
    /// The coding, when it is one that no decoder here reads ("arithmetic coding", say).
    pub unsupported_coding: Option<&'static str>,
}

/// Start of image, end of image, start of scan.
const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// Walks a JPEG's segments. `None` when the bytes are not a JPEG or the frame header (which
/// carries the size) is missing or cut.
pub(crate) fn read_info(bytes: &[u8]) -> Option<JpegInfo> {
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return None;
    }
    let mut frame: Option<((u32, u32), u8)> = None;
    let mut adobe_transform = None;
    let mut orientation = Orientation::NoTransforms;
    let mut complete = false;
    let mut unsupported_coding = None;
    let mut pos = 2;

    while let Some((marker, marker_at)) = next_marker(bytes, pos) {
        pos = marker_at + 2;
        match marker {
            EOI => {
                complete = frame.is_some();
                break;
            }
            // Markers without a length: restart markers, TEM, a stray SOI.
            0xD0..=0xD7 | 0x01 | SOI => continue,
            _ => {}
        }

        let Some(segment) = segment_body(bytes, pos) else {
            break;
        };
        pos = segment.end;
        let body = bytes.get(segment.clone()).unwrap_or_default();
        match marker {
            // Every SOFn but DHT (C4), JPG (C8) and DAC (CC) is a frame header.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                frame = frame_header(body).or(frame);
                unsupported_coding = unsupported_coding.or(match marker {
                    0xC5..=0xC7 => Some("hierarchical coding"),
                    0xC9..=0xCF => Some("arithmetic coding"),
                    _ => None,
                });
            }
            // APP1 starting with "Exif\0\0" holds a TIFF structure with the orientation.
            0xE1 => {
                if let Some(tiff) = body.strip_prefix(b"Exif\0\0") {
                    orientation = Orientation::from_exif_chunk(tiff).unwrap_or(orientation);
                }
            }
            // APP14 "Adobe": version (2), flags0 (2), flags1 (2), then the transform byte.
            0xEE => {
                if let Some(rest) = body.strip_prefix(b"Adobe") {
                    adobe_transform = rest.get(6).copied().or(adobe_transform);
                }
            }
            SOS => match skip_entropy_data(bytes, pos) {
                Some(next) => pos = next,
                None => break,
            },
            _ => {}
        }
    }

    let (size, components) = frame?;
    Some(JpegInfo {
        size,
        components,
        adobe_transform,
        orientation,
        complete,
        unsupported_coding,
    })
}

/// The next marker at or after `pos`: its code and where its 0xFF is. Fill bytes (extra 0xFF)
/// before a code are allowed by the standard.
pub(super) fn next_marker(bytes: &[u8], mut pos: usize) -> Option<(u8, usize)> {
    loop {
        let start = pos + memchr::memchr(0xFF, bytes.get(pos..)?)?;
        let mut code_at = start + 1;
        while bytes.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        match bytes.get(code_at) {
            None => return None,
            Some(0x00) => pos = code_at + 1,
            Some(&code) => return Some((code, code_at - 1)),
        }
    }
}

/// The body of the segment whose 16-bit length field starts at `pos` (the length counts
/// itself). `None` if the field or the body runs past the end.
pub(super) fn segment_body(bytes: &[u8], pos: usize) -> Option<Range<usize>> {
    let length = usize::from(u16::from_be_bytes(
        bytes.get(pos..pos + 2)?.try_into().ok()?,
    ));
    let end = pos.checked_add(length)?;
    if length < 2 || end > bytes.len() {
        return None;
    }
    Some(pos + 2..end)
}

/// SOF body: precision (1), height (2), width (2), component count (1).
fn frame_header(body: &[u8]) -> Option<((u32, u32), u8)> {
    let height = u16::from_be_bytes(body.get(1..3)?.try_into().ok()?);
    let width = u16::from_be_bytes(body.get(3..5)?.try_into().ok()?);
    let components = *body.get(5)?;
    // A height of 0 defers it to a DNL marker, which no decoder here supports.
    (width > 0 && height > 0).then_some(((width.into(), height.into()), components))
}

/// Skips entropy-coded data: inside it 0xFF is always followed by 0x00 (stuffing) or a
/// restart marker, so the first other marker ends it. Returns where that marker starts.
fn skip_entropy_data(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let (code, at) = next_marker(bytes, pos)?;
        if (0xD0..=0xD7).contains(&code) {
            pos = at + 2;
        } else {
            return Some(at);
        }
    }
}

/// The reduced-scale decode's denominator (4 or 8) for showing a `full`-sized picture in a
/// `want` box, both in stored (unrotated) orientation; 1 when the full decoder is the better
/// choice. The scaled picture must stay at least as large as the fit, so the later resize
/// only ever shrinks and the preview loses nothing.
///
/// Half scale is never chosen: zune-jpeg decodes full size faster than jpeg-decoder decodes
/// half size (measured on a 790x8000 JPEG, release build: full size plus resize about 60 ms,
/// half size about 70 ms). At an eighth, jpeg-decoder wins clearly (about 30 ms against 60);
/// at a quarter the time is about even and the picture kept is 16 times smaller.
pub(crate) fn scale_denominator(full: (u32, u32), want: (u32, u32)) -> u32 {
    let (width, height) = (f64::from(full.0.max(1)), f64::from(full.1.max(1)));
    let fit = (f64::from(want.0) / width).min(f64::from(want.1) / height);
    [8, 4]
        .into_iter()
        .find(|&denominator| fit <= 1.0 / f64::from(denominator))
        .unwrap_or(1)
}

/// Decodes at 1/`denominator` scale with jpeg-decoder. The result is in stored orientation;
/// the caller applies [`JpegInfo::orientation`].
///
/// jpeg-decoder returns CMYK32 for 4-component files, with the inks already inverted back
/// for Adobe files (it reads APP14 and assumes, as Photoshop writes them, that the stored
/// values are 255 minus the ink) and YCCK converted to CMYK; the conversion to RGB is ours.
pub(crate) fn decode_scaled(
    bytes: &[u8],
    info: &JpegInfo,
    denominator: u32,
    max_alloc: u64,
) -> Result<DynamicImage, MediaError> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    decoder.read_info().map_err(corrupt)?;

    // jpeg-decoder picks the smallest scale that reaches the requested size in one axis;
    // asking for exactly 1/denominator of the full size selects that scale.
    let requested = |side: u32| u16::try_from(side.div_ceil(denominator)).unwrap_or(u16::MAX);
    let (width, height) = decoder
        .scale(requested(info.size.0), requested(info.size.1))
        .map_err(corrupt)?;
    let pixels = decoder.decode().map_err(corrupt)?;
    let format = decoder
        .info()
        .map(|info| info.pixel_format)
        .ok_or_else(|| MediaError::Corrupt {
            detail: "the JPEG decoder gave no picture information".into(),
        })?;

    let (width, height) = (u32::from(width), u32::from(height));
    let image = match format {
        jpeg_decoder::PixelFormat::L8 => {
            ImageBuffer::<Luma<u8>, _>::from_raw(width, height, pixels).map(DynamicImage::from)
        }
        jpeg_decoder::PixelFormat::L16 => {
            let samples = pixels
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            ImageBuffer::<Luma<u16>, _>::from_raw(width, height, samples).map(DynamicImage::from)
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, pixels).map(DynamicImage::from)
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, cmyk_inks_to_rgb(&pixels))
                .map(DynamicImage::from)
        }
    };
    image.ok_or_else(|| MediaError::Corrupt {
        detail: "the JPEG decoder returned fewer pixels than the picture declares".into(),
    })
}

/// Ink amounts (0 = none, 255 = full) to RGB: each ink and the black ink remove their share
/// of the light, `R = (255 - C) * (255 - K) / 255`. This ignores colour profiles, as
/// browsers do for untagged CMYK, which is close enough for a preview.
pub(crate) fn cmyk_inks_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let light = |ink: u8, black: u8| {
        let value = (255 - u32::from(ink)) * (255 - u32::from(black));
        // Rounded division by 255; the quotient is at most 255.
        u8::try_from((value + 127) / 255).unwrap_or(u8::MAX)
    };
    cmyk.chunks_exact(4)
        .flat_map(|pixel| {
            let [c, m, y, k] = [pixel[0], pixel[1], pixel[2], pixel[3]];
            [light(c, k), light(m, k), light(y, k)]
        })
        .collect()
}

fn corrupt(error: jpeg_decoder::Error) -> MediaError {
    let detail = match error {
        jpeg_decoder::Error::Format(detail) => detail,
        jpeg_decoder::Error::Unsupported(feature) => {
            format!("unsupported JPEG feature {feature:?}")
        }
        jpeg_decoder::Error::Io(error) => error.to_string(),
        jpeg_decoder::Error::Internal(error) => error.to_string(),
    };
    MediaError::Corrupt {
        detail: crate::text::sanitize(&detail).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(image: &DynamicImage) -> Vec<u8> {
        crate::media::encode_for_test(image, image::ImageFormat::Jpeg)
    }

    #[test]
    fn the_marker_walk_finds_size_and_end() {
        let bytes = encode(&DynamicImage::new_rgb8(33, 17));
        let info = read_info(&bytes).unwrap();
        assert_eq!(info.size, (33, 17));
        assert_eq!(info.components, 3);
        assert_eq!(info.orientation, Orientation::NoTransforms);
        assert!(info.complete);

        let cut = &bytes[..bytes.len() - 40];
        let info = read_info(cut).unwrap();
        assert_eq!(info.size, (33, 17));
        assert!(!info.complete);
    }

    #[test]
    fn a_frame_header_without_scans_is_incomplete() {
        // SOI, SOF0 declaring 65500x65500 with three components, then nothing.
        let mut bytes = vec![
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xDC, 0xFF, 0xDC,
        ];
        bytes.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        let info = read_info(&bytes).unwrap();
        assert_eq!(info.size, (65500, 65500));
        assert!(!info.complete);
        assert_eq!(read_info(&bytes[..8]), None);
        assert_eq!(read_info(b"\x89PNG"), None);
    }

    #[test]
    fn denominators_keep_at_least_the_fitted_size() {
        assert_eq!(scale_denominator((790, 8000), (640, 640)), 8);
        assert_eq!(scale_denominator((790, 8000), (640, 2000)), 4);
        assert_eq!(scale_denominator((800, 800), (200, 200)), 4);
        assert_eq!(scale_denominator((800, 800), (201, 200)), 4);
        assert_eq!(scale_denominator((800, 800), (201, 201)), 1);
        assert_eq!(scale_denominator((800, 800), (400, 400)), 1);
        assert_eq!(scale_denominator((100, 100), (640, 640)), 1);
        assert_eq!(scale_denominator((0, 0), (0, 0)), 8);
    }

    #[test]
    fn inks_convert_to_light() {
        assert_eq!(cmyk_inks_to_rgb(&[0, 0, 0, 0]), [255, 255, 255]);
        assert_eq!(cmyk_inks_to_rgb(&[0, 0, 0, 255]), [0, 0, 0]);
        assert_eq!(cmyk_inks_to_rgb(&[255, 0, 128, 0]), [0, 255, 127]);
        assert_eq!(cmyk_inks_to_rgb(&[0, 36, 109, 31]), [224, 192, 128]);
    }

    #[test]
    fn scaled_decoding_reduces_the_size() {
        let mut picture = image::RgbImage::new(160, 96);
        for (x, _, pixel) in picture.enumerate_pixels_mut() {
            *pixel = if x < 80 {
                Rgb([250, 10, 10])
            } else {
                Rgb([10, 10, 250])
            };
        }
        let bytes = encode(&picture.into());
        let info = read_info(&bytes).unwrap();
        let small = decode_scaled(&bytes, &info, 4, 1 << 20).unwrap().to_rgb8();
        assert_eq!(small.dimensions(), (40, 24));
        let left = small.get_pixel(5, 12);
        let right = small.get_pixel(35, 12);
        assert!(left[0] > 200 && left[2] < 60, "{left:?}");
        assert!(right[2] > 200 && right[0] < 60, "{right:?}");
    }
}
