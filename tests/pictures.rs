//! The picture pipeline on real-world picture files: each served by the local stand-in under
//! an alicdn-looking URL, fetched with the media fetcher routed to it, and decoded off the
//! async task as the browser does. Cases P1..P8 each have a test named after them; the rest
//! cover the fetcher's limits and headers with a raw TCP server.

#[path = "support/pictures.rs"]
mod build;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use descview::media::{
    self, decode, resize_to_fit, Decoded, FetchConfig, FetchStage, Fetched, Fetcher, Format,
    MediaError,
};
use descview::mock::{self, Catalogue, MockHandle, MockOptions};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The stand-in serving some pictures, and a fetcher routed to it.
struct Cdn {
    handle: MockHandle,
    fetcher: Fetcher,
}

async fn serve(pictures: &[(&str, &[u8])]) -> Cdn {
    let mut catalogue = Catalogue::empty();
    for (url, bytes) in pictures {
        catalogue.add_picture(url, bytes.to_vec());
    }
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let handle = mock::start(loopback, catalogue, MockOptions::default())
        .await
        .unwrap();
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(handle.cdn_base()),
        ..FetchConfig::default()
    })
    .unwrap();
    Cdn { handle, fetcher }
}

impl Cdn {
    async fn fetch(&self, url: &str) -> Result<Fetched, MediaError> {
        self.fetcher.fetch(url).await
    }

    /// Fetches, then decodes on the blocking pool like the browser.
    async fn fetch_decoded(
        &self,
        url: &str,
        want: Option<(u32, u32)>,
    ) -> (Fetched, Result<Decoded, MediaError>) {
        let fetched = self.fetch(url).await.unwrap();
        let bytes = fetched.bytes.clone();
        let decoded = tokio::task::spawn_blocking(move || decode(&bytes, want))
            .await
            .unwrap();
        (fetched, decoded)
    }
}

fn alicdn(name: &str) -> String {
    format!("https://cbu01.alicdn.com/img/ibank/O1CN01{name}_!!2208000000001-0-cib.jpg")
}

fn close_to(actual: [f64; 3], expected: [f64; 3], tolerance: f64) -> bool {
    actual
        .iter()
        .zip(expected.iter())
        .all(|(a, e)| (a - e).abs() <= tolerance)
}

/// ITU-R BT.601 full-range RGB to YCbCr, as JFIF defines it.
fn ycbcr([r, g, b]: [f64; 3]) -> [u8; 3] {
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    let cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    [y, cb, cr].map(|v| v.round().clamp(0.0, 255.0) as u8)
}

// ---------------------------------------------------------------------------------------------
// P1

#[tokio::test]
async fn p1_cmyk_and_ycck() {
    let colour = [224.0, 192.0, 128.0];
    let rgb = build::flat_jpeg(64, 64, &ycbcr(colour), None);
    // Adobe CMYK stores each ink inverted (255 - ink). Inks for the colour: black
    // K = 255 - max = 31, then each of C, M, Y makes up the rest of its channel:
    // R = (255 - C)(255 - K) / 255 gives C = 0, M = 36, Y = 109 (rounded).
    let stored_inks = [255, 219, 146, 224];
    let cmyk = build::flat_jpeg(64, 64, &stored_inks, Some(0));
    // YCCK: the three inverted inks are taken as RGB and stored as YCbCr, black as is. The
    // inverted inks here are the inks themselves read as RGB: (0, 36, 109).
    let [y, cb, cr] = ycbcr([0.0, 36.0, 109.0]);
    let ycck = build::flat_jpeg(64, 64, &[y, cb, cr, 224], Some(2));

    let urls = [alicdn("p1rgb"), alicdn("p1cmyk"), alicdn("p1ycck")];
    let cdn = serve(&[(&urls[0], &rgb), (&urls[1], &cmyk), (&urls[2], &ycck)]).await;

    let (_, reference) = cdn.fetch_decoded(&urls[0], None).await;
    let reference = build::average_rgb(&reference.unwrap().image);
    assert!(close_to(reference, colour, 3.0), "{reference:?}");

    for url in &urls {
        // Full size through `image` (zune-jpeg), and 1/4 scale through jpeg-decoder.
        for want in [None, Some((16, 16))] {
            let (fetched, decoded) = cdn.fetch_decoded(url, want).await;
            assert_eq!(fetched.format, Format::Jpeg);
            let decoded = decoded.unwrap();
            assert_eq!(decoded.scaled, want.is_some(), "{url} {want:?}");
            assert_eq!((decoded.width, decoded.height), (64, 64));
            let average = build::average_rgb(&decoded.image);
            assert!(
                close_to(average, reference, 10.0),
                "{url} {want:?}: {average:?} against {reference:?}"
            );
        }
    }
    cdn.handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// P2

#[tokio::test]
async fn p2_a_header_that_lies() {
    let png = build::png_header_that_lies(100_000, 100_000);
    let jpeg = build::jpeg_header_only(65500, 65500);
    let pnm = b"P6\n9999999999 9999999999\n255\n".to_vec();
    assert_eq!(pnm.len(), 29);
    assert!(png.len() < 80, "{}", png.len());

    let urls = [alicdn("p2png"), alicdn("p2jpeg"), alicdn("p2pnm")];
    let cdn = serve(&[(&urls[0], &png), (&urls[1], &jpeg), (&urls[2], &pnm)]).await;
    for url in &urls {
        let started = Instant::now();
        let (_, decoded) = cdn.fetch_decoded(url, None).await;
        let error = decoded.unwrap_err();
        assert!(
            matches!(error, MediaError::TooLargeOrInvalid { .. }),
            "{url}: {error}"
        );
        assert!(
            error.to_string().contains("too large or invalid"),
            "{error}"
        );
        // Refused from the header: a decoder that tried would take far longer.
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    // A header just within the pixel limit, with no data behind it, is caught by its file
    // size rather than allocated for.
    let within_limit = build::png_header_that_lies(10_000, 10_000);
    let error = decode(&within_limit, None).unwrap_err();
    assert!(error.to_string().contains("in only"), "{error}");
    cdn.handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// P3

/// Cell sizes in pixels: half-block rendering (2x4 per cell, so a 4x2-cell pane is 8x8
/// pixels) and a typical font under kitty or sixel.
const CELLS: [(u32, u32); 2] = [(2, 4), (10, 20)];
/// The smallest pane the layout allows and a usual one, in cells.
const SMALLEST_PANE: (u32, u32) = (4, 2);
const USUAL_PANE: (u32, u32) = (30, 12);

fn assert_fits(full: (u32, u32), fitted: (u32, u32), bounds: (u32, u32), what: &str) {
    let (width, height) = fitted;
    assert!(width >= 1 && height >= 1, "{what}: zero size {fitted:?}");
    assert!(
        width <= bounds.0 && height <= bounds.1,
        "{what}: {fitted:?} outside {bounds:?}"
    );
    let scale = (f64::from(bounds.0) / f64::from(full.0))
        .min(f64::from(bounds.1) / f64::from(full.1))
        .min(1.0);
    let expected = |side: u32| (f64::from(side) * scale).max(1.0);
    assert!(
        (f64::from(width) - expected(full.0)).abs() <= 1.0
            && (f64::from(height) - expected(full.1)).abs() <= 1.0,
        "{what}: {fitted:?} does not keep the aspect of {full:?} in {bounds:?}"
    );
}

fn stripes(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x % 251) as u8,
            (y / 40 % 256) as u8,
            ((x + y) % 7 * 30) as u8,
        ])
    })
}

#[tokio::test]
async fn p3_long_description_pictures_are_normal() {
    let pictures = [
        (
            alicdn("p3banner"),
            build::encode(&stripes(790, 30000).into(), ImageFormat::Jpeg),
        ),
        (
            alicdn("p3png"),
            build::encode(&stripes(750, 12000).into(), ImageFormat::Png),
        ),
        (
            alicdn("p3wide"),
            build::encode(&stripes(2000, 8).into(), ImageFormat::Png),
        ),
        (
            alicdn("p3thin"),
            build::encode(&stripes(1, 3000).into(), ImageFormat::Png),
        ),
    ];
    let sizes = [(790, 30000), (750, 12000), (2000, 8), (1, 3000)];
    let served: Vec<(&str, &[u8])> = pictures
        .iter()
        .map(|(url, bytes)| (url.as_str(), bytes.as_slice()))
        .collect();
    let cdn = serve(&served).await;

    for ((url, _), full) in pictures.iter().zip(sizes) {
        // Full size: the limits against bombs let these through.
        let (fetched, decoded) = cdn.fetch_decoded(url, None).await;
        let decoded = decoded.unwrap_or_else(|error| panic!("{url}: {error}"));
        assert_eq!((decoded.width, decoded.height), full);
        assert_eq!(
            (decoded.image.width(), decoded.image.height()),
            full,
            "{url}"
        );
        assert!(!decoded.truncated && !decoded.scaled);

        for (cell_width, cell_height) in CELLS {
            // Every pane size from the smallest to the usual one: the computed fit.
            for columns in SMALLEST_PANE.0..=USUAL_PANE.0 {
                for rows in SMALLEST_PANE.1..=USUAL_PANE.1 {
                    let bounds = (columns * cell_width, rows * cell_height);
                    let fitted = media::fit_size(full.0, full.1, bounds.0, bounds.1);
                    let what = format!("{full:?} in {columns}x{rows} cells");
                    assert_fits(full, fitted, bounds, &what);
                }
            }

            // The two extremes for real, the way the browser asks: decode for the box, then
            // fit what came out.
            for (columns, rows) in [SMALLEST_PANE, USUAL_PANE] {
                let bounds = (columns * cell_width, rows * cell_height);
                let what =
                    format!("{full:?} in {columns}x{rows} cells of {cell_width}x{cell_height}");
                let boxed = decode(&fetched.bytes, Some(bounds)).unwrap();
                assert_eq!((boxed.width, boxed.height), full);
                let fitted = resize_to_fit(&boxed.image, bounds.0, bounds.1);
                assert_fits(full, (fitted.width(), fitted.height()), bounds, &what);
            }
        }
    }
    cdn.handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// P4

/// A picture with detail everywhere, so its encoding is large and evenly spread.
fn noise(width: u32, height: u32) -> RgbImage {
    let mut state = 0x2545_f491u32;
    RgbImage::from_fn(width, height, |_, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let bytes = state.to_le_bytes();
        // Darker towards the bottom, so the top rows have a known brightness.
        Rgb([
            bytes[0] / 2 + if y < 100 { 120 } else { 0 },
            bytes[1] / 2,
            bytes[2] / 2,
        ])
    })
}

#[tokio::test]
async fn p4_truncated_bodies() {
    let jpeg = build::encode(&noise(800, 800).into(), ImageFormat::Jpeg);
    let cut_jpeg = jpeg[..jpeg.len() * 6 / 10].to_vec();
    let png = build::encode(&noise(300, 300).into(), ImageFormat::Png);
    let cut_png = png[..png.len() / 2].to_vec();
    let urls = [alicdn("p4jpeg"), alicdn("p4png"), alicdn("p4empty")];
    let cdn = serve(&[(&urls[0], &cut_jpeg), (&urls[1], &cut_png), (&urls[2], &[])]).await;

    // The JPEG: the top is there, the rest is padding, and the picture says it is cut.
    let original = decode(&jpeg, None).unwrap();
    for want in [None, Some((100, 100))] {
        let (_, decoded) = cdn.fetch_decoded(&urls[0], want).await;
        let decoded = decoded.unwrap();
        assert!(decoded.truncated);
        assert!(!decoded.scaled, "a cut JPEG takes the full decoder");
        assert_eq!((decoded.width, decoded.height), (800, 800));
        let top = |image: &DynamicImage| build::average_rgb(&image.crop_imm(0, 0, 800, 80));
        assert!(close_to(top(&decoded.image), top(&original.image), 2.0));
    }

    // The PNG: the rows before the cut, marked as truncated.
    let (_, decoded) = cdn.fetch_decoded(&urls[1], None).await;
    let decoded = decoded.unwrap();
    assert!(decoded.truncated);
    let original = decode(&png, None).unwrap().image.to_rgb8();
    let received = decoded.image.to_rgb8();
    assert_eq!(received.get_pixel(17, 3), original.get_pixel(17, 3));
    assert_ne!(received.get_pixel(150, 299), original.get_pixel(150, 299));

    // The empty 200.
    let error = cdn.fetch(&urls[2]).await.unwrap_err();
    assert!(matches!(error, MediaError::Empty { .. }), "{error}");
    assert!(error.to_string().contains("empty answer"), "{error}");
    assert!(error.to_string().contains("cbu01.alicdn.com"), "{error}");
    cdn.handle.shutdown().await;

    // Announces 50000 bytes, closes after 20000.
    let body = build::encode(&noise(400, 400).into(), ImageFormat::Jpeg);
    assert!(body.len() > 50_000);
    let mut response =
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 50000\r\n\r\n".to_vec();
    response.extend(&body[..20_000]);
    let server = RawServer::start(response).await;
    let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
    let fetched = fetcher.fetch(&server.url("/p4.jpg?x=1")).await.unwrap();
    assert!(fetched.truncated);
    assert_eq!(fetched.bytes.len(), 20_000);
    assert_eq!(fetched.format, Format::Jpeg);
    let decoded = decode(&fetched.bytes, Some((200, 200))).unwrap();
    assert!(decoded.truncated);
    assert_eq!((decoded.width, decoded.height), (400, 400));
}

// ---------------------------------------------------------------------------------------------
// P5

#[tokio::test]
async fn p5_content_that_does_not_match_the_name() {
    let picture: DynamicImage = RgbaImage::from_fn(24, 16, |x, _| {
        if x < 12 {
            Rgba([200, 30, 30, 255])
        } else {
            Rgba([30, 30, 200, 255])
        }
    })
    .into();
    let webp = build::encode(&picture, ImageFormat::WebP);
    let png = build::encode(&picture, ImageFormat::Png);
    let gif = build::encode(&picture, ImageFormat::Gif);
    let html = b"<html><body>403</body></html>".to_vec();
    let gif_url = alicdn("p5gif").replace(".jpg", ".png");
    let urls = [alicdn("p5webp"), alicdn("p5png"), gif_url, alicdn("p5html")];
    let cdn = serve(&[
        (&urls[0], &webp),
        (&urls[1], &png),
        (&urls[2], &gif),
        (&urls[3], &html),
    ])
    .await;

    for (url, format, extension) in [
        (&urls[0], Format::WebP, "webp"),
        (&urls[1], Format::Png, "png"),
        (&urls[2], Format::Gif, "gif"),
    ] {
        let (fetched, decoded) = cdn.fetch_decoded(url, None).await;
        assert_eq!(fetched.format, format);
        assert_eq!(fetched.format.extension(), extension);
        let decoded = decoded.unwrap();
        assert_eq!(decoded.format, format);
        let rgb = decoded.image.to_rgb8();
        assert!(
            rgb.get_pixel(2, 8)[0] > 150 && rgb.get_pixel(20, 8)[2] > 150,
            "{url}"
        );
    }

    let (fetched, decoded) = cdn.fetch_decoded(&urls[3], None).await;
    assert_eq!(fetched.format, Format::Html);
    assert_eq!(fetched.format.extension(), "html");
    let error = decoded.unwrap_err();
    let MediaError::NotAPicture { first_bytes, .. } = &error else {
        panic!("{error}");
    };
    assert!(first_bytes.starts_with("<html><body>403"), "{first_bytes}");
    assert!(error.to_string().starts_with("not a picture"), "{error}");
    cdn.handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// P6

#[tokio::test]
async fn p6_formats_we_cannot_draw() {
    let mut avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf".to_vec();
    avif.extend(b"\0\0\0\x10meta\0\0\0\0\0\0\0\0");
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.extend(b"\0\0\0\x10meta\0\0\0\0\0\0\0\0");
    let heic_url = format!("{}_.heic", alicdn("p6heic"));
    let urls = [alicdn("p6avif"), heic_url];
    let cdn = serve(&[(&urls[0], &avif), (&urls[1], &heic)]).await;

    for (url, original, format) in [
        (&urls[0], &avif, Format::Avif),
        (&urls[1], &heic, Format::Heic),
    ] {
        let (fetched, decoded) = cdn.fetch_decoded(url, Some((100, 100))).await;
        // Downloading still works: the bytes are all there, with the right extension.
        assert_eq!(&fetched.bytes[..], &original[..]);
        assert_eq!(fetched.format, format);
        let error = decoded.unwrap_err();
        assert_eq!(error, MediaError::Unsupported { format });
        let message = error.to_string();
        assert!(message.contains(format.name()), "{message}");
        assert!(message.contains("cannot be previewed"), "{message}");
    }
    cdn.handle.shutdown().await;
}

/// Damaged versions of every kind of picture: cut at many points and with bytes flipped.
/// Whatever a decoder does with them, `decode` returns.
#[test]
fn damaged_files_never_take_the_program_down() {
    let picture: DynamicImage = noise(64, 48).into();
    let originals = [
        build::encode(&picture, ImageFormat::Jpeg),
        build::encode(&picture, ImageFormat::Png),
        build::encode(&picture, ImageFormat::Gif),
        build::encode(&picture, ImageFormat::WebP),
        build::flat_jpeg(40, 24, &[200, 30, 90, 10], Some(2)),
    ];
    for original in &originals {
        for cut in (0..original.len()).step_by(original.len() / 40 + 1) {
            let _ = decode(&original[..cut], None);
            let _ = decode(&original[..cut], Some((8, 8)));
        }
        for position in (0..original.len()).step_by(original.len() / 60 + 1) {
            let mut damaged = original.clone();
            damaged[position] ^= 0x5a;
            let _ = decode(&damaged, None);
            let _ = decode(&damaged, Some((16, 16)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// P7

#[tokio::test]
async fn p7_exif_orientation() {
    let picture = RgbImage::from_fn(400, 200, |_, y| {
        if y < 100 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    let jpeg = build::with_exif_orientation(&build::encode(&picture.into(), ImageFormat::Jpeg), 6);
    let url = alicdn("p7");
    let cdn = serve(&[(&url, &jpeg)]).await;

    for want in [None, Some((100, 100))] {
        let (fetched, decoded) = cdn.fetch_decoded(&url, want).await;
        // The download keeps the original bytes, EXIF and all.
        assert_eq!(&fetched.bytes[..], &jpeg[..]);
        let decoded = decoded.unwrap();
        assert_eq!((decoded.width, decoded.height), (200, 400), "portrait");
        assert_eq!(decoded.scaled, want.is_some());
        let image = decoded.image.to_rgb8();
        let (width, height) = image.dimensions();
        assert!(height > width, "{want:?}: {width}x{height}");
        let left = image.get_pixel(width / 4, height / 2);
        let right = image.get_pixel(width * 3 / 4, height / 2);
        assert!(
            right[0] > 180 && right[2] < 80,
            "{want:?}: right is {right:?}"
        );
        assert!(left[2] > 180 && left[0] < 80, "{want:?}: left is {left:?}");

        // Fitting uses the rotated size.
        let fitted = resize_to_fit(&decoded.image, 100, 100);
        assert_eq!((fitted.width(), fitted.height()), (50, 100));
    }
    cdn.handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// P8

#[tokio::test]
async fn p8_sixteen_bit_and_palette_pngs() {
    // 16-bit RGBA: red ramps 0..65535 left to right; opaque left half, half-transparent right.
    let rows: Vec<Vec<u8>> = (0..256u32)
        .map(|_| {
            (0..256u32)
                .flat_map(|x| {
                    let red = (x * 257) as u16;
                    let alpha: u16 = if x < 128 { 65535 } else { 32768 };
                    [red, 0, 0, alpha].into_iter().flat_map(u16::to_be_bytes)
                })
                .collect()
        })
        .collect();
    let rgba16 = build::png(256, 256, 16, 6, &[], &rows);

    // 16-bit grey, ramping down the picture.
    let rows: Vec<Vec<u8>> = (0..64u32)
        .map(|y| {
            let grey = ((y * 4 * 257) as u16).to_be_bytes();
            (0..32).flat_map(|_| grey).collect()
        })
        .collect();
    let grey16 = build::png(32, 64, 16, 0, &[], &rows);

    // 8-bit palette: index 0 transparent black, 1 red, 2 blue; left half transparent.
    let palette = vec![0, 0, 0, 255, 0, 0, 0, 0, 255];
    let transparency = vec![0];
    let rows: Vec<Vec<u8>> = (0..16u32)
        .map(|y| {
            (0..16u32)
                .map(|x| if x < 8 { 0 } else { 1 + (y % 2) as u8 })
                .collect()
        })
        .collect();
    let indexed = build::png(
        16,
        16,
        8,
        3,
        &[(b"PLTE", palette), (b"tRNS", transparency)],
        &rows,
    );

    let urls = [alicdn("p8rgba16"), alicdn("p8grey16"), alicdn("p8palette")];
    let cdn = serve(&[
        (&urls[0], &rgba16),
        (&urls[1], &grey16),
        (&urls[2], &indexed),
    ])
    .await;

    let (fetched, decoded) = cdn.fetch_decoded(&urls[0], None).await;
    assert_eq!(&fetched.bytes[..], &rgba16[..]);
    let image = decoded.unwrap().image.to_rgba8();
    for x in [0u32, 64, 127, 128, 200, 255] {
        let [red, green, blue, alpha] = image.get_pixel(x, 100).0;
        assert!(
            red.abs_diff(x as u8) <= 1 && green == 0 && blue == 0,
            "x {x}: {red}"
        );
        let expected_alpha = if x < 128 { 255 } else { 128 };
        assert!(alpha.abs_diff(expected_alpha) <= 1, "x {x}: alpha {alpha}");
    }

    let (fetched, decoded) = cdn.fetch_decoded(&urls[1], None).await;
    assert_eq!(&fetched.bytes[..], &grey16[..]);
    let image = decoded.unwrap().image.to_rgba8();
    for y in [0u32, 10, 63] {
        let pixel = image.get_pixel(5, y).0;
        let grey = (y * 4) as u8;
        assert_eq!(pixel, [grey, grey, grey, 255], "y {y}");
    }

    let (fetched, decoded) = cdn.fetch_decoded(&urls[2], None).await;
    assert_eq!(&fetched.bytes[..], &indexed[..]);
    let image = decoded.unwrap().image.to_rgba8();
    assert_eq!(image.get_pixel(3, 3).0[3], 0, "index 0 is transparent");
    assert_eq!(image.get_pixel(12, 0).0, [255, 0, 0, 255]);
    assert_eq!(image.get_pixel(12, 1).0, [0, 0, 255, 255]);
    cdn.handle.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The fetcher against a raw server

/// A one-connection HTTP server that sends a fixed answer and hands back the request head.
struct RawServer {
    addr: SocketAddr,
    request: tokio::task::JoinHandle<String>,
}

impl RawServer {
    async fn start(response: Vec<u8>) -> RawServer {
        Self::start_with_delay(response, Duration::ZERO).await
    }

    /// Waits `delay` after the request before answering.
    async fn start_with_delay(response: Vec<u8>, delay: Duration) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let request = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let read = socket.read(&mut buffer).await.unwrap();
                if read == 0 {
                    break;
                }
                head.extend(&buffer[..read]);
            }
            tokio::time::sleep(delay).await;
            let _ = socket.write_all(&response).await;
            let _ = socket.shutdown().await;
            String::from_utf8_lossy(&head).into_owned()
        });
        RawServer { addr, request }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

#[tokio::test]
async fn requests_carry_browser_headers() {
    let server =
        RawServer::start(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nGIF89a".to_vec()).await;
    let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
    let fetched = fetcher.fetch(&server.url("/a.gif")).await.unwrap();
    assert_eq!(fetched.format, Format::Gif);
    let head = server.request.await.unwrap().to_ascii_lowercase();
    assert!(head.contains("user-agent: mozilla/5.0"), "{head}");
    assert!(head.contains("referer: https://detail.1688.com/"), "{head}");
    assert!(
        head.contains("accept: image/webp,image/png,image/jpeg,image/gif\r\n"),
        "{head}"
    );
    assert!(head.contains("accept-encoding: gzip"), "{head}");
}

#[tokio::test]
async fn gzip_bodies_arrive_decoded() {
    let png = build::encode(&noise(20, 10).into(), ImageFormat::Png);
    let gzip = build::gzip_stored(&png);
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gzip.len()
    )
    .into_bytes();
    response.extend(&gzip);
    let server = RawServer::start(response).await;
    let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
    let fetched = fetcher.fetch(&server.url("/z.png")).await.unwrap();
    assert_eq!(&fetched.bytes[..], &png[..]);
    assert_eq!(fetched.format, Format::Png);
    assert!(!fetched.truncated);
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused_while_streaming() {
    // No Content-Length: the body's size is only known by reading it.
    let mut response = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    response.extend(vec![0xAB; 300_000]);
    let server = RawServer::start(response).await;
    let fetcher = Fetcher::new(FetchConfig {
        max_bytes: 100_000,
        ..FetchConfig::default()
    })
    .unwrap();
    let error = fetcher.fetch(&server.url("/big.jpg")).await.unwrap_err();
    assert!(
        matches!(error, MediaError::TooLarge { limit: 100_000, .. }),
        "{error}"
    );

    // Announced too large: refused before reading.
    let server =
        RawServer::start(b"HTTP/1.1 200 OK\r\nContent-Length: 900000000\r\n\r\nxx".to_vec()).await;
    let error = fetcher.fetch(&server.url("/huge.jpg")).await.unwrap_err();
    assert!(matches!(error, MediaError::TooLarge { .. }), "{error}");
}

#[tokio::test]
async fn statuses_and_silence_are_errors_naming_the_host() {
    let server =
        RawServer::start(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec()).await;
    let fetcher = Fetcher::new(FetchConfig {
        timeout: Duration::from_millis(500),
        ..FetchConfig::default()
    })
    .unwrap();
    let error = fetcher
        .fetch(&server.url("/a.jpg?token=hidden"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MediaError::Http { status: 403, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
    assert!(!error.to_string().contains("hidden"), "{error}");

    let silent = RawServer::start_with_delay(Vec::new(), Duration::from_secs(5)).await;
    let error = fetcher
        .fetch(&silent.url("/a.jpg?token=hidden"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MediaError::Timeout {
            host: "127.0.0.1".into(),
            stage: FetchStage::Answer
        }
    );
    silent.request.abort();

    // A URL the stand-in does not know is its 404.
    let cdn = serve(&[]).await;
    let error = cdn.fetch(&alicdn("missing")).await.unwrap_err();
    assert_eq!(
        error,
        MediaError::Http {
            host: "cbu01.alicdn.com".into(),
            status: 404
        }
    );
    cdn.handle.shutdown().await;
}
