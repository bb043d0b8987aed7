//! Fitting a decoded picture to a preview pane: sizes, resizing and cropping.
//!
//! Resizing uses fast_image_resize's SIMD convolution with a Lanczos3 filter: description
//! pictures are often text-heavy screenshots, and a nearest-neighbour or box shrink of a
//! 790x30000 banner into a few hundred pixels turns the text into noise. Every size computed
//! here is at least 1x1 (a zero dimension makes encoders and the terminal widgets fail), and
//! nothing here enlarges a picture: showing it larger than it is adds no detail and, for a
//! thin strip fitted to a wide pane, could take gigabytes.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use super::Decoded;

/// The size a `width`x`height` picture takes when fitted into a `max_width`x`max_height`
/// box: aspect kept as far as whole pixels allow, never larger than the picture itself,
/// never a zero dimension (a zero-sized box counts as 1 pixel).
pub fn fit_size(width: u32, height: u32, max_width: u32, max_height: u32) -> (u32, u32) {
    let (max_width, max_height) = (max_width.max(1), max_height.max(1));
    let (width, height) = (width.max(1), height.max(1));
    if width <= max_width && height <= max_height {
        return (width, height);
    }
    let scale =
        (f64::from(max_width) / f64::from(width)).min(f64::from(max_height) / f64::from(height));
    (
        scaled_side(width, scale, max_width),
        scaled_side(height, scale, max_height),
    )
}

/// `side * scale`, rounded, kept within 1..=`limit`.
fn scaled_side(side: u32, scale: f64, limit: u32) -> u32 {
    let scaled = (f64::from(side) * scale).round();
    // The float is finite and non-negative here; the clamp keeps the cast in range.
    (scaled.clamp(1.0, f64::from(limit)) as u32).max(1)
}

/// Shrinks `image` to fit a `max_width`x`max_height` box (see [`fit_size`]); a picture that
/// already fits comes back unchanged.
pub fn resize_to_fit(image: &DynamicImage, max_width: u32, max_height: u32) -> DynamicImage {
    let (width, height) = fit_size(image.width(), image.height(), max_width, max_height);
    resize_exact(image, width, height)
}

/// Fits a decoded picture into a `max_width`x`max_height` box, sized from the full picture's
/// shape. A picture decoded at reduced scale has its sides rounded up to whole blocks (a
/// 790x8000 banner at 1/8 is 99x1000), so sizing from the decoded pixels would come out a
/// few rows short; the scaled decode is never smaller than the fit, so this only shrinks.
pub fn fit_decoded(decoded: &Decoded, max_width: u32, max_height: u32) -> DynamicImage {
    let (width, height) = fit_size(decoded.width, decoded.height, max_width, max_height);
    resize_exact(&decoded.image, width, height)
}

/// The rows `top..top + height` of `image`, clamped to the picture: at least one row, and
/// never past the bottom (a `top` beyond it gives the last row).
pub fn crop_rows(image: &DynamicImage, top: u32, height: u32) -> DynamicImage {
    if image.width() == 0 || image.height() == 0 {
        return image.clone();
    }
    let top = top.min(image.height() - 1);
    let height = height.clamp(1, image.height() - top);
    image.crop_imm(0, top, image.width(), height)
}

/// Resizes to exactly `width`x`height` (both at least 1).
fn resize_exact(image: &DynamicImage, width: u32, height: u32) -> DynamicImage {
    if image.width() == 0
        || image.height() == 0
        || (image.width(), image.height()) == (width, height)
    {
        return image.clone();
    }

    let mut resized = DynamicImage::new(width, height, image.color());
    // Alpha is premultiplied during the convolution (the default), so transparent pixels'
    // colours do not bleed into their visible neighbours.
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    match Resizer::new().resize(image, &mut resized, &options) {
        Ok(()) => resized,
        // fast_image_resize handles every pixel layout `image` decodes to; should a new one
        // appear, image's own (slower) filter still gives a correct picture.
        Err(_) => image.resize_exact(width, height, image::imageops::FilterType::Lanczos3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn fitting_keeps_the_aspect_and_never_reaches_zero() {
        assert_eq!(fit_size(790, 30000, 240, 192), (5, 192));
        assert_eq!(fit_size(2000, 8, 8, 8), (8, 1));
        assert_eq!(fit_size(1, 3000, 8, 8), (1, 8));
        assert_eq!(fit_size(800, 400, 100, 100), (100, 50));
        assert_eq!(fit_size(10, 10, 0, 0), (1, 1));
        assert_eq!(fit_size(0, 0, 10, 10), (1, 1));
    }

    #[test]
    fn fitting_never_enlarges() {
        assert_eq!(fit_size(100, 50, 640, 640), (100, 50));
        let small = DynamicImage::new_rgb8(30, 20);
        assert_eq!(resize_to_fit(&small, 300, 300).width(), 30);
        assert_eq!(resize_to_fit(&small, 300, u32::MAX).width(), 30);
        // A 1-pixel strip fitted to a wide pane stays 1 pixel wide instead of growing to
        // 640 x 1.9 million pixels.
        let strip = DynamicImage::new_rgb8(1, 3000);
        assert_eq!(resize_to_fit(&strip, 640, u32::MAX).height(), 3000);
    }

    #[test]
    fn resizing_averages_instead_of_sampling() {
        // Alternating black and white columns: nearest-neighbour sampling would give pure
        // black or white; a real filter gives grey.
        let mut stripes = RgbaImage::new(64, 8);
        for (x, _, pixel) in stripes.enumerate_pixels_mut() {
            let v = if x % 2 == 0 { 0 } else { 255 };
            *pixel = Rgba([v, v, v, 255]);
        }
        let small = resize_to_fit(&DynamicImage::from(stripes), 8, 8).to_rgba8();
        assert_eq!(small.dimensions(), (8, 1));
        let grey = small.get_pixel(4, 0);
        assert!((100..=156).contains(&grey[0]), "{grey:?}");
    }

    #[test]
    fn transparency_survives_resizing() {
        let mut picture = RgbaImage::new(40, 40);
        for (x, _, pixel) in picture.enumerate_pixels_mut() {
            *pixel = if x < 20 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 0])
            };
        }
        let small = resize_to_fit(&DynamicImage::from(picture), 10, 10).to_rgba8();
        assert_eq!(small.get_pixel(1, 5)[3], 255);
        assert_eq!(small.get_pixel(9, 5)[3], 0);
        // Premultiplied: the invisible blue does not tint the visible red near the edge.
        let edge = small.get_pixel(4, 5);
        assert!(edge[2] < 10, "{edge:?}");
    }

    #[test]
    fn width_mode_keeps_the_aspect() {
        let tall = DynamicImage::new_rgb8(790, 30000);
        let narrow = resize_to_fit(&tall, 79, u32::MAX);
        assert_eq!((narrow.width(), narrow.height()), (79, 3000));
    }

    #[test]
    fn cropping_stays_inside_the_picture() {
        let picture = DynamicImage::new_rgb8(10, 100);
        let rows = |top, height| {
            let cropped = crop_rows(&picture, top, height);
            (cropped.width(), cropped.height())
        };
        assert_eq!(rows(10, 20), (10, 20));
        assert_eq!(rows(90, 20), (10, 10));
        assert_eq!(rows(500, 20), (10, 1));
        assert_eq!(rows(0, 0), (10, 1));
        assert_eq!(rows(0, u32::MAX), (10, 100));
    }
}
