//! Draws the pictures that `scripts/bench-preview.sh` and `benches/preview.rs` render: a
//! 790x8000 baseline JPEG (a tall description banner), a 750x1000 PNG (a size table or
//! product sheet) and a 790x1500 WebP.
//!
//! Usage: `cargo run --release --example bench_pictures -- DIR` writes `tall.jpg`,
//! `sheet.png` and `panel.webp` into DIR. The `image` crate writes only baseline JPEGs; the
//! benchmark script makes the progressive copy with `jpegtran -progressive`. The criterion
//! benchmark `benches/preview.rs` includes this file as a module to draw the same pictures.
//!
//! The pictures look like description pictures so that the decoders do the work they do on
//! real ones: panels with gradients, lines of text-like glyphs with sharp edges, a shaded
//! product shape, and (in the JPEG) a little photographic noise. A flat colour would decode
//! far faster than anything a seller uploads. The output is deterministic: a fixed-seed
//! generator, no clock.

use std::error::Error;
use std::fs;
use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ImageEncoder, Rgb, RgbImage};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: bench_pictures DIR")?;
    fs::create_dir_all(&dir)?;
    fs::write(dir.join("tall.jpg"), tall_jpeg()?)?;
    fs::write(dir.join("sheet.png"), sheet_png()?)?;
    fs::write(dir.join("panel.webp"), panel_webp()?)?;
    Ok(())
}

/// A 790x8000 baseline JPEG at quality 85, with a little noise as photographs have.
pub fn tall_jpeg() -> Result<Vec<u8>> {
    let tall = description_picture(790, 8000, 12, 1);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&tall)?;
    Ok(jpeg)
}

/// A 750x1000 RGB PNG: flat graphics and text, as size tables are.
pub fn sheet_png() -> Result<Vec<u8>> {
    let sheet = description_picture(750, 1000, 0, 2);
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(
        sheet.as_raw(),
        sheet.width(),
        sheet.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(png)
}

/// A 790x1500 WebP. `image` writes only lossless WebP, so it has no noise: lossless noise
/// would make a file many times larger than the lossy ones CDNs serve.
pub fn panel_webp() -> Result<Vec<u8>> {
    let panel = description_picture(790, 1500, 0, 3);
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp).write_image(
        panel.as_raw(),
        panel.width(),
        panel.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(webp)
}

/// A small deterministic generator (a 64-bit LCG; the high bits are good enough for layout).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n.max(1)
    }
}

/// A description picture: panels about 800 px tall, each a gradient with a header band,
/// lines of glyphs and a shaded round product; `noise` adds up to that much per channel.
fn description_picture(width: u32, height: u32, noise: u32, seed: u64) -> RgbImage {
    let mut dice = Dice(seed);
    let mut picture = RgbImage::new(width, height);
    let panel_height = 800;

    for top in (0..height).step_by(panel_height as usize) {
        let bottom = (top + panel_height).min(height);
        let base = [
            150 + dice.below(100) as u8,
            150 + dice.below(100) as u8,
            150 + dice.below(100) as u8,
        ];
        for y in top..bottom {
            let shade = ((y - top) * 60 / panel_height) as u8;
            for x in 0..width {
                let tilt = (x * 20 / width) as u8;
                picture.put_pixel(
                    x,
                    y,
                    Rgb(base.map(|c| c.saturating_sub(shade).saturating_add(tilt))),
                );
            }
        }

        // Header band with large light glyphs.
        let band = [
            dice.below(120) as u8,
            dice.below(120) as u8,
            60 + dice.below(120) as u8,
        ];
        fill(&mut picture, 0, top, width, (top + 90).min(bottom), band);
        glyph_line(
            &mut picture,
            &mut dice,
            40,
            top + 25,
            width - 40,
            40,
            [250, 250, 240],
        );

        // Body text: dark glyph lines, then a product shape.
        let mut y = top + 120;
        while y + 24 < (top + 480).min(bottom) {
            glyph_line(&mut picture, &mut dice, 40, y, width - 60, 18, [30, 30, 40]);
            y += 30;
        }
        if top + 700 < bottom {
            let cx = width / 2 + dice.below(200) - 100;
            product(&mut picture, cx, top + 600, 110 + dice.below(40));
        }
    }

    if noise > 0 {
        for pixel in picture.pixels_mut() {
            for channel in pixel.0.iter_mut() {
                let delta = dice.below(2 * noise + 1);
                *channel = channel
                    .saturating_add(delta as u8)
                    .saturating_sub(noise as u8);
            }
        }
    }
    picture
}

fn fill(picture: &mut RgbImage, x0: u32, y0: u32, x1: u32, y1: u32, colour: [u8; 3]) {
    for y in y0..y1.min(picture.height()) {
        for x in x0..x1.min(picture.width()) {
            picture.put_pixel(x, y, Rgb(colour));
        }
    }
}

/// A line of text-like glyphs `size` px tall from `x0` to `x1`: each glyph a few vertical and
/// horizontal strokes, words separated by gaps, as CJK and Latin text looks from afar.
#[allow(clippy::too_many_arguments)]
fn glyph_line(
    picture: &mut RgbImage,
    dice: &mut Dice,
    x0: u32,
    y: u32,
    x1: u32,
    size: u32,
    colour: [u8; 3],
) {
    let stroke = (size / 8).max(2);
    let mut x = x0;
    while x + size < x1 {
        let glyph = size * 3 / 4 + dice.below(size / 4 + 1);
        for _ in 0..3 {
            let sx = x + dice.below(glyph - stroke);
            fill(picture, sx, y, sx + stroke, y + size, colour);
            let sy = y + dice.below(size - stroke);
            fill(picture, x, sy, x + glyph, sy + stroke, colour);
        }
        x += glyph + stroke;
        if dice.below(6) == 0 {
            x += size;
        }
    }
}

/// A round product with a highlight, shaded from the light's side.
fn product(picture: &mut RgbImage, cx: u32, cy: u32, radius: u32) {
    let (cx, cy, r) = (i64::from(cx), i64::from(cy), i64::from(radius));
    for y in (cy - r).max(0)..(cy + r).min(i64::from(picture.height())) {
        for x in (cx - r).max(0)..(cx + r).min(i64::from(picture.width())) {
            let (dx, dy) = (x - cx, y - cy);
            let d2 = dx * dx + dy * dy;
            if d2 > r * r {
                continue;
            }
            let light = 255 - (((dx + r / 3).pow(2) + (dy + r / 3).pow(2)) * 200 / (4 * r * r));
            let light = light.clamp(40, 255) as u8;
            picture.put_pixel(x as u32, y as u32, Rgb([light, light / 2, light / 4]));
        }
    }
}
