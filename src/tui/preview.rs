//! Turning a decoded picture into a preview for one pane: scale, crop, encode for the
//! terminal's protocol.
//!
//! CPU work, run by the runtime in `spawn_blocking`. Scaling is ours (a SIMD resizer with a
//! proper filter, see `crate::media`), so the protocol encoders get a picture that already has
//! the pane's pixel size and do not resize again with their nearest-neighbour default.

use image::DynamicImage;
use ratatui::layout::Rect;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::halfblocks::Halfblocks;
use ratatui_image::protocol::Protocol;
use ratatui_image::Resize;

use crate::media::{self, Decoded};

use super::state::{FitMode, PreviewImage, PreviewRequest};

/// How many picture pixels one terminal cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellGeometry {
    /// Pixels across a cell.
    pub width: u32,
    /// Pixels down a cell.
    pub height: u32,
    /// Cells are drawn as half-blocks (one pixel across, two down), not as real pixels.
    pub halfblocks: bool,
}

impl CellGeometry {
    /// The geometry a picker draws with.
    pub fn of(picker: &Picker) -> Self {
        if picker.protocol_type() == ProtocolType::Halfblocks {
            return CellGeometry {
                width: 1,
                height: 2,
                halfblocks: true,
            };
        }
        let (width, height) = picker.font_size();
        CellGeometry {
            width: u32::from(width.max(1)),
            height: u32::from(height.max(1)),
            halfblocks: false,
        }
    }

    /// The pixel box of `cols` x `rows` cells.
    pub fn pixels(self, cols: u16, rows: u16) -> (u32, u32) {
        (u32::from(cols) * self.width, u32::from(rows) * self.height)
    }

    /// Cells needed to show `width` x `height` pixels (at least one each way).
    pub fn cells(self, width: u32, height: u32) -> (u16, u16) {
        let cols = width.div_ceil(self.width).clamp(1, u32::from(u16::MAX));
        let rows = height.div_ceil(self.height).clamp(1, u32::from(u16::MAX));
        (cols as u16, rows as u16)
    }
}

/// The pixel box a request's picture must be decoded for: the pane in `Whole` mode, the
/// pane's width (any height) in `Width` mode.
pub fn decode_box(request: &PreviewRequest, geometry: CellGeometry) -> (u32, u32) {
    let (width, height) = geometry.pixels(request.cols, request.rows);
    match request.mode {
        FitMode::Whole => (width, height),
        FitMode::Width => (width, u32::MAX),
    }
}

/// Scales a decoded picture for the request: fitted into the pane, or to the pane's width.
pub fn scale(decoded: &Decoded, request: &PreviewRequest, geometry: CellGeometry) -> DynamicImage {
    let (width, height) = decode_box(request, geometry);
    media::fit_decoded(decoded, width, height)
}

/// Encodes the part of a scaled picture that the request shows.
pub fn encode(
    scaled: &DynamicImage,
    request: &PreviewRequest,
    geometry: CellGeometry,
    picker: &Picker,
    truncated: bool,
) -> Result<PreviewImage, String> {
    let (_, total_rows) = geometry.cells(scaled.width(), scaled.height());
    let visible = match request.mode {
        FitMode::Whole => scaled.clone(),
        FitMode::Width => {
            let last_start = u32::from(total_rows).saturating_sub(u32::from(request.rows));
            let top = request.scroll.min(last_start) * geometry.height;
            media::crop_rows(scaled, top, u32::from(request.rows) * geometry.height)
        }
    };
    let (cols, rows) = geometry.cells(visible.width(), visible.height());
    let area = Rect::new(0, 0, cols.min(request.cols), rows.min(request.rows));
    let protocol = if geometry.halfblocks {
        Protocol::Halfblocks(Halfblocks::new(visible, area).map_err(|e| e.to_string())?)
    } else {
        picker
            .new_protocol(visible, area, Resize::Fit(None))
            .map_err(|e| e.to_string())?
    };
    Ok(PreviewImage {
        area: protocol.area(),
        protocol,
        total_rows: u32::from(total_rows),
        truncated,
    })
}

/// Pixel size from a picture's header, without decoding it.
pub fn probe_size(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(mode: FitMode, cols: u16, rows: u16, scroll: u32) -> PreviewRequest {
        PreviewRequest {
            generation: 1,
            index: 0,
            url: "https://cbu01.alicdn.com/a.jpg".into(),
            cols,
            rows,
            mode,
            scroll,
        }
    }

    fn tall() -> Decoded {
        Decoded {
            image: DynamicImage::ImageRgb8(image::RgbImage::from_fn(790, 8000, |_, y| {
                image::Rgb([(y % 256) as u8, 0, 0])
            })),
            width: 790,
            height: 8000,
            format: media::Format::Png,
            truncated: false,
            scaled: false,
        }
    }

    /// A 790x8000 JPEG decoded at 1/8 is 99x1000 pixels (whole blocks); the fit follows the
    /// picture's real shape, not the rounded one.
    #[test]
    fn a_picture_decoded_at_reduced_scale_keeps_its_real_shape() {
        let geometry = CellGeometry {
            width: 1,
            height: 2,
            halfblocks: true,
        };
        let decoded = Decoded {
            image: DynamicImage::new_rgb8(99, 1000),
            scaled: true,
            ..tall()
        };
        let scaled = scale(&decoded, &request(FitMode::Width, 80, 40, 0), geometry);
        assert_eq!((scaled.width(), scaled.height()), (80, 810));
        let scaled = scale(&decoded, &request(FitMode::Whole, 80, 40, 0), geometry);
        assert_eq!((scaled.width(), scaled.height()), (8, 80));
    }

    #[test]
    fn a_tall_picture_fits_the_pane_in_halfblocks() {
        let geometry = CellGeometry {
            width: 1,
            height: 2,
            halfblocks: true,
        };
        let req = request(FitMode::Whole, 60, 40, 0);
        let scaled = scale(&tall(), &req, geometry);
        assert!(scaled.height() <= 80 && scaled.width() <= 60);
        let preview = encode(&scaled, &req, geometry, &Picker::halfblocks(), false).unwrap();
        assert_eq!(preview.area.height, 40);
        assert!(
            preview.area.width >= 1 && preview.area.width < 10,
            "a thin strip: {:?}",
            preview.area
        );
    }

    #[test]
    fn fill_width_scrolls_through_the_whole_picture() {
        let geometry = CellGeometry {
            width: 1,
            height: 2,
            halfblocks: true,
        };
        let req = request(FitMode::Width, 60, 40, 0);
        let scaled = scale(&tall(), &req, geometry);
        assert_eq!(scaled.width(), 60);
        let top = encode(&scaled, &req, geometry, &Picker::halfblocks(), false).unwrap();
        assert_eq!(top.area, Rect::new(0, 0, 60, 40));
        // 8000 px scaled to 60 px wide is 608 px tall: 304 rows of half-blocks.
        assert_eq!(top.total_rows, 304);
        let past_end = request(FitMode::Width, 60, 40, 10_000);
        let bottom = encode(&scaled, &past_end, geometry, &Picker::halfblocks(), false).unwrap();
        assert_eq!(
            bottom.area,
            Rect::new(0, 0, 60, 40),
            "clamped to the last full page"
        );
    }

    #[test]
    fn cells_are_never_zero() {
        let geometry = CellGeometry {
            width: 10,
            height: 20,
            halfblocks: false,
        };
        assert_eq!(geometry.cells(0, 0), (1, 1));
        assert_eq!(geometry.cells(11, 41), (2, 3));
    }
}
