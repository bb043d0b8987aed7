// Temporary measurement; removed before handing back.
#[path = "support/pictures.rs"]
mod build;
use descview::media::{decode, resize_to_fit};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::time::Instant;

fn stripes(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x % 251) as u8,
            (y / 40 % 256) as u8,
            ((x * 7 + y * 3) % 200) as u8,
        ])
    })
}

#[test]
#[ignore]
fn timing() {
    let jpeg = build::encode(&stripes(790, 8000).into(), ImageFormat::Jpeg);
    eprintln!("jpeg bytes {}", jpeg.len());
    for _ in 0..2 {
        for want in [None, Some((640, 640)), Some((640, 2000)), Some((400, 4000))] {
            let mut best = f64::MAX;
            let mut size = (0, 0);
            for _ in 0..5 {
                let t = Instant::now();
                let d = decode(&jpeg, want).unwrap();
                best = best.min(t.elapsed().as_secs_f64() * 1000.0);
                size = (d.image.width(), d.image.height());
            }
            eprintln!("decode want {want:?} -> {size:?}: best {best:.1} ms");
        }
    }
    let full = decode(&jpeg, None).unwrap().image;
    for (name, alg) in [
        ("lanczos3", ResizeAlg::Convolution(FilterType::Lanczos3)),
        ("catmullrom", ResizeAlg::Convolution(FilterType::CatmullRom)),
        (
            "super lanczos3 x2",
            ResizeAlg::SuperSampling(FilterType::Lanczos3, 2),
        ),
        (
            "super lanczos3 x4",
            ResizeAlg::SuperSampling(FilterType::Lanczos3, 4),
        ),
    ] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let mut dst = DynamicImage::new(63, 640, full.color());
            Resizer::new()
                .resize(&full, &mut dst, &ResizeOptions::new().resize_alg(alg))
                .unwrap();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        eprintln!("resize 790x8000 -> 63x640 {name}: {best:.1} ms");
    }
    let t = Instant::now();
    let _ = resize_to_fit(&full, 8, 8);
    eprintln!("resize_to_fit 8x8 {:?}", t.elapsed());
    let banner = DynamicImage::from(stripes(790, 30000));
    let t = Instant::now();
    let _ = resize_to_fit(&banner, 8, 8);
    eprintln!("resize_to_fit banner 8x8 {:?}", t.elapsed());
    let t = Instant::now();
    let _ = resize_to_fit(&banner, 240, 192);
    eprintln!("resize_to_fit banner 240x192 {:?}", t.elapsed());
}
