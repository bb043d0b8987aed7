//! A JPEG at an eighth of its size, from the DC coefficients alone.
//!
//! Each 8x8 block's DC coefficient is its mean, so the DC values of a picture are the picture
//! at 1/8 scale: no inverse DCT is needed. This decoder reads only what that takes. In a
//! baseline file the AC coefficients still have to be walked through (their Huffman codes
//! are interleaved with the DC ones), but their values are skipped, not computed or stored.
//! In a progressive file the DC coefficients come in scans of their own, so the AC scans,
//! most of the file, are not decoded at all.
//!
//! It covers what description pictures are: 8-bit Huffman-coded JPEGs (baseline, extended
//! sequential, progressive) with one component (grey) or three (YCbCr, or RGB as Adobe
//! writes it). For anything else (CMYK, 12-bit, arithmetic coding, a structure it does not
//! follow) it answers `None` and the caller uses the general reduced-scale decoder. It never
//! panics on what a file holds: every read is checked, and every loop is bounded by the
//! picture's size.

use image::{DynamicImage, GrayImage, RgbImage};

use super::jpeg::{next_marker, segment_body};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DHT: u8 = 0xC4;
const DQT: u8 = 0xDB;
const DRI: u8 = 0xDD;

/// Decodes `bytes` at 1/8 scale: `ceil(width / 8)` x `ceil(height / 8)` pixels, in stored
/// orientation, grey or RGB. `None` when the file is outside what this decoder covers or
/// does not follow the format; the general decoder then has its turn.
pub(crate) fn decode_eighth(bytes: &[u8]) -> Option<DynamicImage> {
    let mut state = State::default();
    if bytes.get(..2)? != [0xFF, SOI] {
        return None;
    }
    let mut pos = 2;
    while let Some((marker, at)) = next_marker(bytes, pos) {
        pos = at + 2;
        match marker {
            EOI => break,
            0xD0..=0xD7 | 0x01 | SOI => continue,
            _ => {}
        }
        let segment = segment_body(bytes, pos)?;
        pos = segment.end;
        let body = bytes.get(segment)?;
        match marker {
            // Baseline, extended sequential and progressive, Huffman-coded.
            0xC0..=0xC2 => state.frame = Some(Frame::read(body, marker == 0xC2)?),
            // Lossless, hierarchical and arithmetic-coded frames.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            DHT => state.read_huffman_tables(body)?,
            DQT => state.read_quantisation_tables(body)?,
            DRI => state.restart_interval = usize::from(u16::from_be_bytes(body.try_into().ok()?)),
            0xEE => {
                if let Some(rest) = body.strip_prefix(b"Adobe") {
                    state.adobe_transform = rest.get(6).copied();
                }
            }
            SOS => pos = state.read_scan(bytes, body, pos)?,
            _ => {}
        }
    }
    state.into_image()
}

/// A Huffman table ready for decoding: a lookup of the first `LOOKUP_BITS` bits for short
/// codes, and the canonical code ranges for the longer ones.
struct Huffman {
    /// For each `LOOKUP_BITS`-bit prefix: code length (high byte, 0 when the code is longer)
    /// and symbol (low byte).
    lookup: Box<[u16; LOOKUP_SIZE]>,
    /// For each `LOOKUP_BITS`-bit prefix that holds a whole AC code and the value bits after
    /// it: the bits to skip (high byte) and how far the coefficient index moves (low byte;
    /// 0 for the end of the block). 0 when the prefix does not hold both.
    skip_lookup: Box<[u16; LOOKUP_SIZE]>,
    /// The same for as many whole codes with their values as each prefix holds, up to and
    /// including an end of block: the bits to skip (high byte), whether the block ends
    /// (bit 7) and how far the index moves (bits 0 to 6, at most 63). 0 when the prefix
    /// does not hold one whole code and value.
    run_lookup: Box<[u16; LOOKUP_SIZE]>,
    /// For each length 1..=16: the largest code of that length, -1 when there is none.
    max_code: [i32; 17],
    /// For each length: the index into `symbols` of its first code, minus that code.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

/// Long enough for most AC codes with their value bits, even in pictures saved at high
/// quality; 16 KiB per table with both lookups, which stays in the first-level cache.
const LOOKUP_BITS: u32 = 12;
const LOOKUP_SIZE: usize = 1 << LOOKUP_BITS;

impl Huffman {
    /// From a DHT entry: 16 counts of codes per length, then the symbols in code order.
    fn new(counts: &[u8], symbols: &[u8]) -> Option<Huffman> {
        let mut lookup = Box::new([0u16; LOOKUP_SIZE]);
        let mut skip_lookup = Box::new([0u16; LOOKUP_SIZE]);
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code: i32 = 0;
        let mut index: i32 = 0;
        for length in 1..=16u32 {
            let count = i32::from(*counts.get(length as usize - 1)?);
            offset[length as usize] = index - code;
            for _ in 0..count {
                let symbol = *symbols.get(usize::try_from(index).ok()?)?;
                if length <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - length;
                    let first = usize::try_from(code).ok()? << shift;
                    for slot in lookup.get_mut(first..first + (1 << shift))? {
                        *slot = (length as u16) << 8 | u16::from(symbol);
                    }
                    let total = length + u32::from(symbol & 15);
                    if total <= LOOKUP_BITS {
                        let advance = match symbol {
                            0x00 => 0,
                            0xF0 => 16,
                            _ => u16::from(symbol >> 4) + 1,
                        };
                        for slot in skip_lookup.get_mut(first..first + (1 << shift))? {
                            *slot = (total as u16) << 8 | advance;
                        }
                    }
                }
                code += 1;
                index += 1;
            }
            if count > 0 {
                max_code[length as usize] = code - 1;
            }
            // A code that overflows its length means the counts are impossible.
            if code > 1 << length {
                return None;
            }
            code <<= 1;
        }
        let run_lookup = Self::runs(&skip_lookup);
        Some(Huffman {
            lookup,
            skip_lookup,
            run_lookup,
            max_code,
            offset,
            symbols: symbols.to_vec(),
        })
    }
}

impl Huffman {
    /// Chains the single steps of `skip_lookup` as far as each prefix's bits go: a
    /// high-quality picture spends about six bits on a coefficient, so a prefix often holds
    /// two or three of them.
    fn runs(skip_lookup: &[u16; LOOKUP_SIZE]) -> Box<[u16; LOOKUP_SIZE]> {
        let mut runs = Box::new([0u16; LOOKUP_SIZE]);
        for (prefix, slot) in runs.iter_mut().enumerate() {
            let (mut used, mut advance, mut end) = (0u32, 0u16, 0u16);
            while used < LOOKUP_BITS {
                // The bits after `used`, padded with zeros: a step read from them is only
                // real if it ends within the prefix.
                let step = skip_lookup[(prefix << used) & (LOOKUP_SIZE - 1)];
                let length = u32::from(step >> 8);
                let moves = step & 0xFF;
                if step == 0 || used + length > LOOKUP_BITS || advance + moves > 63 {
                    break;
                }
                used += length;
                if moves == 0 {
                    end = 1;
                    break;
                }
                advance += moves;
            }
            if used > 0 {
                *slot = (used as u16) << 8 | end << 7 | advance;
            }
        }
        runs
    }
}

/// Entropy-coded data, most significant bit first, with stuffed zero bytes removed. At a
/// marker it stops taking bytes and feeds zeros, as decoders do; the scan's structure, not
/// the data, decides where the decoding stops.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buffer: u64,
    count: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            buffer: 0,
            count: 0,
            at_marker: false,
        }
    }

    #[inline(never)]
    fn refill(&mut self) {
        // Most of the time the next eight bytes hold no 0xFF (neither stuffing nor a marker):
        // take as many of them as the buffer has room for at once.
        let room = (63 - self.count.min(63)) / 8;
        let chunk = self.data.get(self.pos..self.pos + 8);
        if let (false, true, Some(Ok(word))) =
            (self.at_marker, room > 0, chunk.map(<[u8; 8]>::try_from))
        {
            let word = u64::from_be_bytes(word);
            // A byte of `!word` is zero where `word` has 0xFF (the classic zero-byte test).
            let inverse = !word;
            let has_ff =
                inverse.wrapping_sub(0x0101_0101_0101_0101) & !inverse & 0x8080_8080_8080_8080 != 0;
            if !has_ff {
                self.buffer |= (word >> (64 - 8 * room)) << (64 - self.count - 8 * room);
                self.count += 8 * room;
                self.pos += room as usize;
                return;
            }
        }
        while self.count <= 56 {
            let byte = if self.at_marker {
                0
            } else {
                match self.data.get(self.pos) {
                    Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some(0xFF) | None => {
                        self.at_marker = true;
                        0
                    }
                    Some(&byte) => {
                        self.pos += 1;
                        byte
                    }
                }
            };
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` (1..=16) bits, without taking them.
    #[inline(always)]
    fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.refill();
        }
        (self.buffer >> (64 - n)) as u32
    }

    #[inline(always)]
    fn skip(&mut self, n: u32) {
        // `peek` refilled at least `n` bits.
        self.buffer = self.buffer.checked_shl(n).unwrap_or(0);
        self.count = self.count.saturating_sub(n);
    }

    fn decode(&mut self, table: &Huffman) -> Option<u8> {
        let bits = self.peek(16);
        let entry = table.lookup[(bits >> (16 - LOOKUP_BITS)) as usize & (LOOKUP_SIZE - 1)];
        let length = u32::from(entry >> 8);
        if length > 0 {
            self.skip(length);
            return Some(entry as u8);
        }
        for length in LOOKUP_BITS + 1..=16 {
            let code = (bits >> (16 - length)) as i32;
            if code <= table.max_code[length as usize] {
                self.skip(length);
                let index = usize::try_from(code + table.offset[length as usize]).ok()?;
                return table.symbols.get(index).copied();
            }
        }
        None
    }

    /// A coefficient of `size` bits (0..=15), sign-extended as the format defines.
    fn receive_extend(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let value = self.peek(size) as i32;
        self.skip(size);
        if value < 1 << (size - 1) {
            value - (1 << size) + 1
        } else {
            value
        }
    }

    /// After a restart interval: drop the padding bits and step over the RSTn marker.
    fn restart(&mut self) -> Option<()> {
        let (marker, at) = next_marker(self.data, self.pos)?;
        if !(0xD0..=0xD7).contains(&marker) {
            return None;
        }
        *self = Bits::new(self.data, at + 2);
        Some(())
    }
}

/// One colour component and its DC values, one per block, MCU padding included.
struct Component {
    id: u8,
    horizontal: usize,
    vertical: usize,
    quantisation_table: usize,
    /// Blocks across and down the plane (whole MCUs).
    plane_width: usize,
    plane_height: usize,
    /// Blocks holding picture data (a non-interleaved scan covers only these).
    blocks_across: usize,
    blocks_down: usize,
    dc: Vec<i32>,
}

struct Frame {
    width: usize,
    height: usize,
    progressive: bool,
    components: Vec<Component>,
    mcus_across: usize,
    mcus_down: usize,
    max_horizontal: usize,
    max_vertical: usize,
}

impl Frame {
    /// SOF: precision (1), height (2), width (2), count (1), then per component its ID,
    /// sampling factors (high nibble across, low down) and quantisation table.
    fn read(body: &[u8], progressive: bool) -> Option<Frame> {
        let [precision, h0, h1, w0, w1, count, ..] = *body else {
            return None;
        };
        let height = usize::from(u16::from_be_bytes([h0, h1]));
        let width = usize::from(u16::from_be_bytes([w0, w1]));
        if precision != 8 || width == 0 || height == 0 || !matches!(count, 1 | 3) {
            return None;
        }
        // The caller checks the size first; this keeps the planes bounded for any caller.
        if (width * height) as u64 > super::MAX_PIXELS {
            return None;
        }
        let mut components = Vec::new();
        for spec in body.get(6..6 + 3 * usize::from(count))?.chunks_exact(3) {
            let (horizontal, vertical) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if !(1..=4).contains(&horizontal) || !(1..=4).contains(&vertical) || spec[2] > 3 {
                return None;
            }
            components.push(Component {
                id: spec[0],
                horizontal,
                vertical,
                quantisation_table: usize::from(spec[2]),
                plane_width: 0,
                plane_height: 0,
                blocks_across: 0,
                blocks_down: 0,
                dc: Vec::new(),
            });
        }
        let max_horizontal = components.iter().map(|c| c.horizontal).max()?;
        let max_vertical = components.iter().map(|c| c.vertical).max()?;
        let mcus_across = width.div_ceil(8 * max_horizontal);
        let mcus_down = height.div_ceil(8 * max_vertical);
        for component in &mut components {
            component.plane_width = mcus_across * component.horizontal;
            component.plane_height = mcus_down * component.vertical;
            component.blocks_across = (width * component.horizontal).div_ceil(8 * max_horizontal);
            component.blocks_down = (height * component.vertical).div_ceil(8 * max_vertical);
            component.dc = vec![0; component.plane_width * component.plane_height];
        }
        Some(Frame {
            width,
            height,
            progressive,
            components,
            mcus_across,
            mcus_down,
            max_horizontal,
            max_vertical,
        })
    }
}

#[derive(Default)]
struct State {
    frame: Option<Frame>,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    /// The first entry (the DC quantiser) of each quantisation table.
    dc_quantisers: [Option<i32>; 4],
    restart_interval: usize,
    adobe_transform: Option<u8>,
}

/// What one component contributes to a scan.
struct ScanComponent {
    index: usize,
    dc_table: usize,
    ac_table: usize,
}

impl State {
    /// DHT: one or more tables, each a class and ID byte, 16 counts, then the symbols.
    fn read_huffman_tables(&mut self, mut body: &[u8]) -> Option<()> {
        while let [class_and_id, rest @ ..] = body {
            let counts = rest.get(..16)?;
            let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
            let symbols = rest.get(16..16 + total)?;
            let table = Huffman::new(counts, symbols)?;
            let id = usize::from(class_and_id & 15);
            match class_and_id >> 4 {
                0 => *self.dc_tables.get_mut(id)? = Some(table),
                1 => *self.ac_tables.get_mut(id)? = Some(table),
                _ => return None,
            }
            body = rest.get(16 + total..)?;
        }
        Some(())
    }

    /// DQT: one or more tables, each a precision and ID byte, then 64 entries of 8 or 16 bits.
    fn read_quantisation_tables(&mut self, mut body: &[u8]) -> Option<()> {
        while let [precision_and_id, rest @ ..] = body {
            let id = usize::from(precision_and_id & 15);
            let (first, length) = match precision_and_id >> 4 {
                0 => (i32::from(*rest.first()?), 64),
                1 => (
                    i32::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)),
                    128,
                ),
                _ => return None,
            };
            *self.dc_quantisers.get_mut(id)? = Some(first);
            body = rest.get(length..)?;
        }
        Some(())
    }

    /// SOS: decodes the DC part of the scan whose header is `header` and whose data starts
    /// at `start`; returns where the next marker is.
    fn read_scan(&mut self, bytes: &[u8], header: &[u8], start: usize) -> Option<usize> {
        let frame = self.frame.as_mut()?;
        let count = usize::from(*header.first()?);
        let mut scan = Vec::new();
        for spec in header.get(1..1 + 2 * count)?.chunks_exact(2) {
            let index = frame.components.iter().position(|c| c.id == spec[0])?;
            scan.push(ScanComponent {
                index,
                dc_table: usize::from(spec[1] >> 4),
                ac_table: usize::from(spec[1] & 15),
            });
        }
        let [first_coefficient, last_coefficient, approximation] =
            *header.get(1 + 2 * count..4 + 2 * count)?
        else {
            return None;
        };
        let (high, low) = (approximation >> 4, u32::from(approximation & 15));
        if scan.is_empty() || first_coefficient > last_coefficient || last_coefficient > 63 {
            return None;
        }

        // A progressive scan of AC coefficients holds nothing an eighth needs.
        if frame.progressive && first_coefficient > 0 {
            return skip_scan(bytes, start);
        }
        let mode = match (frame.progressive, high) {
            (false, _) => Mode::Sequential,
            (true, 0) => Mode::DcFirst { shift: low },
            (true, _) => Mode::DcRefine { bit: 1 << low },
        };
        let tables = Tables {
            dc: &self.dc_tables,
            ac: &self.ac_tables,
        };
        let mut bits = Bits::new(bytes, start);
        decode_scan(
            frame,
            &scan,
            mode,
            &tables,
            self.restart_interval,
            &mut bits,
        )?;
        skip_scan(bytes, bits.pos)
    }

    /// The DC planes as a picture: colour converted, chroma spread over the blocks it covers.
    fn into_image(self) -> Option<DynamicImage> {
        let frame = self.frame?;
        let (width, height) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
        let mut planes = Vec::new();
        for component in &frame.components {
            let quantiser = (*self.dc_quantisers.get(component.quantisation_table)?)?;
            // The DC coefficient is eight times the block's mean, less 128 levels; rounded.
            let to_sample = |dc: i32| {
                let scaled = i64::from(dc) * i64::from(quantiser) + 1024 + 4;
                (scaled >> 3).clamp(0, 255) as u8
            };
            let mut plane = Vec::with_capacity(width * height);
            for y in 0..height {
                let row = y * component.vertical / frame.max_vertical * component.plane_width;
                for x in 0..width {
                    let column = x * component.horizontal / frame.max_horizontal;
                    plane.push(to_sample(*component.dc.get(row + column)?));
                }
            }
            planes.push(plane);
        }
        let (width, height) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);

        match planes.as_slice() {
            [grey] => GrayImage::from_raw(width, height, grey.clone()).map(DynamicImage::from),
            [first, second, third] => {
                let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
                let stored_rgb = self.adobe_transform == Some(0) || ids == b"RGB";
                let pixels = first
                    .iter()
                    .zip(second)
                    .zip(third)
                    .flat_map(|((&a, &b), &c)| {
                        if stored_rgb {
                            [a, b, c]
                        } else {
                            ycbcr_to_rgb(a, b, c)
                        }
                    })
                    .collect();
                RgbImage::from_raw(width, height, pixels).map(DynamicImage::from)
            }
            _ => None,
        }
    }
}

/// JFIF's YCbCr to RGB (ITU-R BT.601, full range), in 16.16 fixed point.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y) << 16;
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let half = 1 << 15;
    let channel = |value: i32| ((value + half) >> 16).clamp(0, 255) as u8;
    [
        channel(y + 91_881 * cr),
        channel(y - 22_554 * cb - 46_802 * cr),
        channel(y + 116_130 * cb),
    ]
}

/// Where the marker after a scan's data is.
fn skip_scan(bytes: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    loop {
        let (marker, at) = next_marker(bytes, pos)?;
        if (0xD0..=0xD7).contains(&marker) {
            pos = at + 2;
        } else {
            return Some(at);
        }
    }
}

#[derive(Clone, Copy)]
enum Mode {
    /// Baseline or extended: DC difference, then the AC codes, which are skipped.
    Sequential,
    /// Progressive, first DC scan: the difference, scaled up by the successive approximation.
    DcFirst { shift: u32 },
    /// Progressive DC refinement: one more bit of each DC value.
    DcRefine { bit: i32 },
}

struct Tables<'a> {
    dc: &'a [Option<Huffman>; 4],
    ac: &'a [Option<Huffman>; 4],
}

/// Decodes one scan's MCUs into the components' DC planes.
fn decode_scan(
    frame: &mut Frame,
    scan: &[ScanComponent],
    mode: Mode,
    tables: &Tables<'_>,
    restart_interval: usize,
    bits: &mut Bits<'_>,
) -> Option<()> {
    // Interleaved scans go MCU by MCU, each MCU holding every component's blocks of that
    // area; a scan of one component goes block by block over the blocks with picture data.
    let interleaved = scan.len() > 1;
    let (across, down) = match scan {
        [only] if !interleaved => {
            let component = frame.components.get(only.index)?;
            (component.blocks_across, component.blocks_down)
        }
        _ => (frame.mcus_across, frame.mcus_down),
    };
    let mut predictions = vec![0i32; scan.len()];
    let mut since_restart = 0;
    // Each part's tables, looked up once rather than for every block.
    let part_tables: Vec<PartTables<'_>> = scan
        .iter()
        .map(|part| PartTables {
            dc: tables.dc.get(part.dc_table).and_then(Option::as_ref),
            ac: tables.ac.get(part.ac_table).and_then(Option::as_ref),
        })
        .collect();

    for unit_y in 0..down {
        for unit_x in 0..across {
            if restart_interval > 0 && since_restart == restart_interval {
                bits.restart()?;
                predictions.fill(0);
                since_restart = 0;
            }
            since_restart += 1;
            let parts = scan.iter().zip(&part_tables).zip(predictions.iter_mut());
            for ((part, part_tables), prediction) in parts {
                let component = frame.components.get_mut(part.index)?;
                let (per_x, per_y) = if interleaved {
                    (component.horizontal, component.vertical)
                } else {
                    (1, 1)
                };
                for block_y in 0..per_y {
                    for block_x in 0..per_x {
                        let x = unit_x * per_x + block_x;
                        let y = unit_y * per_y + block_y;
                        let slot = component.dc.get_mut(y * component.plane_width + x)?;
                        decode_block(bits, mode, part_tables, prediction, slot)?;
                    }
                }
            }
        }
    }
    Some(())
}

/// The Huffman tables one component of a scan uses (`None` where the file defines none).
struct PartTables<'t> {
    dc: Option<&'t Huffman>,
    ac: Option<&'t Huffman>,
}

fn decode_block(
    bits: &mut Bits<'_>,
    mode: Mode,
    tables: &PartTables<'_>,
    prediction: &mut i32,
    slot: &mut i32,
) -> Option<()> {
    match mode {
        Mode::DcRefine { bit } => {
            if bits.peek(1) == 1 {
                *slot |= bit;
            }
            bits.skip(1);
            return Some(());
        }
        Mode::Sequential | Mode::DcFirst { .. } => {
            let size = u32::from(bits.decode(tables.dc?)?);
            if size > 11 {
                return None;
            }
            // Wrapping: a damaged file may add up differences without bound.
            *prediction = prediction.wrapping_add(bits.receive_extend(size));
            *slot = match mode {
                Mode::DcFirst { shift } => prediction.checked_shl(shift)?,
                _ => *prediction,
            };
        }
    }
    if let Mode::Sequential = mode {
        skip_ac(bits, tables.ac?)?;
    }
    Some(())
}

/// Walks over a block's 63 AC coefficients: each code says how many zeros come first (high
/// nibble) and how many bits the value takes (low nibble); 0x00 ends the block, 0xF0 stands
/// for sixteen zeros.
fn skip_ac(bits: &mut Bits<'_>, table: &Huffman) -> Option<()> {
    let mut index = 1;
    while index < 64 {
        let prefix = bits.peek(LOOKUP_BITS) as usize & (LOOKUP_SIZE - 1);
        // Several codes at once, unless they would run past the block's 63 coefficients
        // (then the block ends without an end-of-block code, and the bits after it belong
        // to the next block): the single steps below handle the block's last codes.
        let run = table.run_lookup[prefix];
        let moves = u32::from(run & 0x7F);
        let ends = u32::from(run >> 7 & 1);
        if run != 0 && index + moves + ends <= 64 {
            bits.skip(u32::from(run >> 8));
            if ends == 1 {
                break;
            }
            index += moves;
            continue;
        }
        // Most codes and their value bits fit the lookup: one step for both.
        let fast = table.skip_lookup[prefix];
        if fast != 0 {
            bits.skip(u32::from(fast >> 8));
            match fast & 0xFF {
                0 => break,
                advance => index += u32::from(advance),
            }
            continue;
        }
        // A short code with a long value: its length and symbol from the other lookup.
        let entry = table.lookup[prefix];
        let symbol = if entry >> 8 != 0 {
            // `peek` took at least the lookup's bits, so the code's bits are there.
            bits.skip(u32::from(entry >> 8));
            entry as u8
        } else {
            bits.decode(table)?
        };
        let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 {
            if run != 15 {
                break;
            }
            index += 16;
        } else {
            bits.peek(size);
            bits.skip(size);
            index += run + 1;
        }
    }
    (index <= 64).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::jpeg::{decode_scaled, read_info};

    fn encode(image: &DynamicImage) -> Vec<u8> {
        crate::media::encode_for_test(image, image::ImageFormat::Jpeg)
    }

    /// Stripes, a gradient and blocks of colour, so that every block's DC differs.
    fn banner(width: u32, height: u32) -> DynamicImage {
        RgbImage::from_fn(width, height, |x, y| {
            let stripe = if (y / 5) % 3 == 0 { 200 } else { 30 };
            image::Rgb([
                (x * 255 / width) as u8,
                stripe,
                ((x / 40 + y / 40) * 60 % 256) as u8,
            ])
        })
        .into()
    }

    /// The mean absolute difference per sample between this decoder and jpeg-decoder's
    /// 1/8 scale, which has the same size.
    fn difference_from_reference(bytes: &[u8]) -> f64 {
        let ours = decode_eighth(bytes).expect("decoded").to_rgb8();
        let info = read_info(bytes).unwrap();
        let reference = decode_scaled(bytes, &info, 8, 1 << 30).unwrap().to_rgb8();
        assert_eq!(ours.dimensions(), reference.dimensions());
        let total: f64 = ours
            .as_raw()
            .iter()
            .zip(reference.as_raw())
            .map(|(&a, &b)| f64::from(a.abs_diff(b)))
            .sum();
        total / ours.as_raw().len() as f64
    }

    #[test]
    fn a_baseline_colour_picture_matches_the_general_decoder() {
        let bytes = encode(&banner(203, 157));
        let image = decode_eighth(&bytes).unwrap();
        assert_eq!((image.width(), image.height()), (26, 20));
        let difference = difference_from_reference(&bytes);
        assert!(difference < 3.0, "mean difference {difference}");
    }

    /// Noise saved at the highest quality: blocks whose last coefficient is set, so they end
    /// without an end-of-block code, and long runs of short codes that the run lookup takes
    /// several at a time. A step past a block's end would shift every later block's DC.
    #[test]
    fn blocks_full_of_coefficients_match_the_general_decoder() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let noise = RgbImage::from_fn(160, 96, |x, y| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let base = ((x / 16 + y / 16) * 40 % 200) as u8;
            let [a, b, c, ..] = state.to_le_bytes();
            image::Rgb([base.wrapping_add(a % 56), b, base ^ c])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 100)
            .encode_image(&noise)
            .unwrap();
        let image = decode_eighth(&bytes).unwrap();
        assert_eq!((image.width(), image.height()), (20, 12));
        let difference = difference_from_reference(&bytes);
        assert!(difference < 3.0, "mean difference {difference}");
    }

    #[test]
    fn a_grey_picture_stays_grey() {
        let grey = DynamicImage::from(banner(64, 40).to_luma8());
        let bytes = encode(&grey);
        let image = decode_eighth(&bytes).unwrap();
        assert!(matches!(image, DynamicImage::ImageLuma8(_)));
        assert_eq!((image.width(), image.height()), (8, 5));
        let difference = difference_from_reference(&bytes);
        assert!(difference < 3.0, "mean difference {difference}");
    }

    /// Fixtures made with libjpeg-turbo's cjpeg from one 100x70 picture of stripes and
    /// colour blocks (a size that is no multiple of the MCU, so padding blocks are there):
    /// 4:2:0 and 4:2:2 chroma, progressive (its DC scans use successive approximation: a
    /// first scan and a refinement), a restart marker after every MCU row, and a sequential
    /// file with one scan per component.
    const FIXTURES: [(&str, &[u8]); 5] = [
        (
            "sub420",
            include_bytes!("../../tests/fixtures/jpeg/sub420.jpg"),
        ),
        (
            "sub422",
            include_bytes!("../../tests/fixtures/jpeg/sub422.jpg"),
        ),
        (
            "progressive",
            include_bytes!("../../tests/fixtures/jpeg/progressive.jpg"),
        ),
        (
            "restarts",
            include_bytes!("../../tests/fixtures/jpeg/restarts.jpg"),
        ),
        (
            "separate-scans",
            include_bytes!("../../tests/fixtures/jpeg/separate-scans.jpg"),
        ),
    ];

    /// Block means of the full-size decode: what an eighth should show.
    fn block_means(bytes: &[u8]) -> RgbImage {
        let info = read_info(bytes).unwrap();
        let full = decode_scaled(bytes, &info, 1, 1 << 30).unwrap().to_rgb8();
        let (width, height) = (full.width().div_ceil(8), full.height().div_ceil(8));
        RgbImage::from_fn(width, height, |bx, by| {
            let mut sums = [0u32; 3];
            let mut count = 0;
            for y in by * 8..(by * 8 + 8).min(full.height()) {
                for x in bx * 8..(bx * 8 + 8).min(full.width()) {
                    for (sum, value) in sums.iter_mut().zip(full.get_pixel(x, y).0) {
                        *sum += u32::from(value);
                    }
                    count += 1;
                }
            }
            image::Rgb(sums.map(|sum| (sum / count) as u8))
        })
    }

    fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let total: f64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| f64::from(x.abs_diff(y)))
            .sum();
        total / a.as_raw().len() as f64
    }

    #[test]
    fn subsampled_progressive_restarted_and_separate_scans_are_as_close_as_the_general_decoder() {
        for (name, bytes) in FIXTURES {
            let ours = decode_eighth(bytes)
                .unwrap_or_else(|| panic!("{name} decodes"))
                .to_rgb8();
            assert_eq!(ours.dimensions(), (13, 9), "{name}");
            let truth = block_means(bytes);
            let info = read_info(bytes).unwrap();
            let general = decode_scaled(bytes, &info, 8, 1 << 30).unwrap().to_rgb8();
            // Chroma at a quarter of the resolution cannot give the exact block means of a
            // picture with sharp colour edges; the question is whether this decoder is as
            // close as the general one.
            let (ours, general) = (
                mean_difference(&ours, &truth),
                mean_difference(&general, &truth),
            );
            assert!(
                ours <= general + 1.0,
                "{name}: {ours} from the block means, general {general}"
            );
        }
    }

    #[test]
    fn what_it_does_not_cover_is_left_to_the_general_decoder() {
        // CMYK: four components.
        let cmyk = [
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04, 1, 0x11, 0, 2,
            0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 0xFF, 0xD9,
        ];
        assert!(decode_eighth(&cmyk).is_none());
        assert!(decode_eighth(b"\x89PNG").is_none());
        assert!(decode_eighth(&[]).is_none());
    }

    #[test]
    fn damaged_files_never_panic() {
        let bytes = encode(&banner(120, 90));
        for cut in (0..bytes.len()).step_by(97) {
            let _ = decode_eighth(&bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for index in (600..flipped.len()).step_by(53) {
            flipped[index] ^= 0x5A;
            let _ = decode_eighth(&flipped);
        }
    }
}
