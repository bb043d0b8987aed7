//! Picture files built byte by byte for the picture tests.
//!
//! Some inputs cannot be made with the `image` crate's encoders: CMYK and YCCK JPEGs, EXIF
//! orientation, palette PNGs with a transparent index, headers that lie. They are written
//! here from the format specifications (JPEG: ITU T.81 baseline; PNG: the W3C specification)
//! so that every test input is built inside the test, with nothing external.
#![allow(dead_code)]

use std::io::Cursor;

use image::DynamicImage;

/// Encodes with one of `image`'s encoders.
pub fn encode(image: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .expect("encoding into memory cannot fail");
    bytes
}

/// The mean of each RGB channel.
pub fn average_rgb(image: &DynamicImage) -> [f64; 3] {
    let rgb = image.to_rgb8();
    let mut sums = [0f64; 3];
    for pixel in rgb.pixels() {
        for (sum, &value) in sums.iter_mut().zip(pixel.0.iter()) {
            *sum += f64::from(value);
        }
    }
    let count = f64::from(rgb.width() * rgb.height()).max(1.0);
    sums.map(|sum| sum / count)
}

// ---------------------------------------------------------------------------------------------
// JPEG

/// A baseline JPEG of one flat colour: `samples` holds each component's value (1 for grey,
/// 3 for YCbCr, 4 for CMYK or YCCK as stored), `adobe_transform` adds an Adobe APP14 segment
/// with that transform byte (0: CMYK/RGB as stored, 1: YCbCr, 2: YCCK).
///
/// Every 8x8 block of a flat picture has only a DC coefficient. With every quantiser at 8,
/// the quantised DC of a block of value `v` is exactly `v - 128` (the forward DCT's DC term
/// is 8 * (v - 128)), so decoders give `v` back exactly.
pub fn flat_jpeg(width: u16, height: u16, samples: &[u8], adobe_transform: Option<u8>) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    if let Some(transform) = adobe_transform {
        segment(
            &mut out,
            0xEE,
            &[b"Adobe".as_slice(), &[0, 100, 0, 0, 0, 0, transform]].concat(),
        );
    } else {
        segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    }
    // One quantisation table, all 8s.
    segment(&mut out, 0xDB, &[[0u8].as_slice(), &[8u8; 64]].concat());

    let components = u8::try_from(samples.len()).expect("at most 4 components");
    let mut frame = vec![8];
    frame.extend(height.to_be_bytes());
    frame.extend(width.to_be_bytes());
    frame.push(components);
    for id in 1..=components {
        frame.extend([id, 0x11, 0]);
    }
    segment(&mut out, 0xC0, &frame);

    let mut tables = vec![0x00];
    tables.extend(DC_BITS);
    tables.extend(DC_VALUES);
    tables.push(0x10);
    tables.extend(AC_BITS);
    tables.extend(AC_VALUES);
    segment(&mut out, 0xC4, &tables);

    let mut scan = vec![components];
    for id in 1..=components {
        scan.extend([id, 0x00]);
    }
    scan.extend([0, 63, 0]);
    segment(&mut out, 0xDA, &scan);

    let dc_codes = canonical_codes(&DC_BITS, &DC_VALUES);
    let ac_codes = canonical_codes(&AC_BITS, &AC_VALUES);
    let blocks = u32::from(width).div_ceil(8) * u32::from(height).div_ceil(8);
    let mut bits = BitWriter::default();
    let mut previous = vec![0i32; samples.len()];
    for _ in 0..blocks {
        for (component, &sample) in samples.iter().enumerate() {
            let dc = i32::from(sample) - 128;
            let diff = dc - previous[component];
            previous[component] = dc;
            let category = 32 - diff.unsigned_abs().leading_zeros();
            let (code, length) = dc_codes[category as usize];
            bits.put(code, length);
            if category > 0 {
                let value = if diff < 0 { diff - 1 } else { diff };
                bits.put((value as u32) & ((1 << category) - 1), category as u8);
            }
            let (eob, eob_length) = ac_codes[0];
            bits.put(eob, eob_length);
        }
    }
    out.extend(bits.finish());
    out.extend([0xFF, 0xD9]);
    out
}

/// The standard luminance DC table (ITU T.81 table K.3): categories 0..=11.
const DC_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/// An AC table with end-of-block (0x00) and one unused symbol, two 2-bit codes.
const AC_BITS: [u8; 16] = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES: [u8; 2] = [0x00, 0x01];

/// Huffman codes from a table's code counts per length, indexed by symbol value
/// (ITU T.81 annex C).
fn canonical_codes(bits: &[u8; 16], values: &[u8]) -> Vec<(u32, u8)> {
    let mut codes = vec![(0, 0); 256];
    let mut code = 0u32;
    let mut next_value = values.iter();
    for (index, &count) in bits.iter().enumerate() {
        let length = index as u8 + 1;
        for _ in 0..count {
            let value = *next_value.next().expect("as many values as codes");
            codes[usize::from(value)] = (code, length);
            code += 1;
        }
        code <<= 1;
    }
    codes
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    current: u32,
    filled: u8,
}

impl BitWriter {
    fn put(&mut self, value: u32, length: u8) {
        for shift in (0..length).rev() {
            self.current = (self.current << 1) | ((value >> shift) & 1);
            self.filled += 1;
            if self.filled == 8 {
                self.push_byte();
            }
        }
    }

    fn push_byte(&mut self) {
        let byte = self.current as u8;
        self.bytes.push(byte);
        // Entropy-coded data stuffs a zero after every 0xFF so it cannot read as a marker.
        if byte == 0xFF {
            self.bytes.push(0);
        }
        self.current = 0;
        self.filled = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        // The last byte is padded with 1 bits.
        while self.filled != 0 {
            self.put(1, 1);
        }
        self.bytes
    }
}

fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    out.extend([0xFF, marker]);
    out.extend(
        u16::try_from(body.len() + 2)
            .expect("short segment")
            .to_be_bytes(),
    );
    out.extend(body);
}

/// Inserts an APP1 Exif segment carrying only an Orientation tag right after SOI.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    // Big-endian TIFF header, first IFD at offset 8.
    exif.extend(b"MM\0\x2a\0\0\0\x08");
    // One entry: tag 0x0112 (Orientation), type 3 (SHORT), count 1, value, padding.
    exif.extend([0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    exif.extend(orientation.to_be_bytes());
    exif.extend([0, 0]);
    // No next IFD.
    exif.extend([0, 0, 0, 0]);

    let mut out = jpeg[..2].to_vec();
    segment(&mut out, 0xE1, &exif);
    out.extend(&jpeg[2..]);
    out
}

/// SOI and a frame header declaring `width`x`height` with three components, and nothing
/// after it.
pub fn jpeg_header_only(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    let mut frame = vec![8];
    frame.extend(height.to_be_bytes());
    frame.extend(width.to_be_bytes());
    frame.extend([3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    segment(&mut out, 0xC0, &frame);
    out
}

// ---------------------------------------------------------------------------------------------
// PNG

/// A PNG from raw scanlines (filter type 0 is added to each row), with `extra` chunks such as
/// PLTE and tRNS placed before the image data. The data is zlib-compressed with stored
/// (uncompressed) deflate blocks, which every inflater reads.
pub fn png(
    width: u32,
    height: u32,
    bit_depth: u8,
    colour_type: u8,
    extra: &[(&[u8; 4], Vec<u8>)],
    rows: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([bit_depth, colour_type, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    for (kind, data) in extra {
        chunk(&mut out, kind, data);
    }
    let mut raw = Vec::new();
    for row in rows {
        raw.push(0);
        raw.extend(row);
    }
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A PNG whose IHDR declares `width`x`height` 8-bit RGBA followed by a few bytes of data.
pub fn png_header_that_lies(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib_stored(&[0, 0, 0, 0, 0]));
    chunk(&mut out, b"IEND", &[]);
    out
}

pub fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend(
        u32::try_from(data.len())
            .expect("short chunk")
            .to_be_bytes(),
    );
    let start = out.len();
    out.extend(kind);
    out.extend(data);
    let crc = crc32(&out[start..]);
    out.extend(crc.to_be_bytes());
}

/// zlib (RFC 1950) around stored deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend(deflate_stored(data));
    out.extend(adler32(data).to_be_bytes());
    out
}

/// gzip (RFC 1952) around stored deflate blocks, as a server's Content-Encoding would send.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_stored(data));
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// Deflate (RFC 1951) with uncompressed blocks of at most 65535 bytes.
fn deflate_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut blocks = data.chunks(65535).peekable();
    if blocks.peek().is_none() {
        out.extend([1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        out.push(u8::from(last));
        let length = block.len() as u16;
        out.extend(length.to_le_bytes());
        out.extend((!length).to_le_bytes());
        out.extend(block);
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }
}
