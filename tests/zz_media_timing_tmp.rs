// Temporary measurement; removed before handing back.
#[path = "support/pictures.rs"]
mod build;
use descview::media::{decode, fit_size, resize_to_fit};
use image::{ImageFormat, Rgb, RgbImage};
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

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        out = Some(v);
    }
    (best, out.unwrap())
}

#[test]
#[ignore]
fn timing() {
    for (w, h) in [(790u32, 8000u32), (790, 30000)] {
        let jpeg = build::encode(&stripes(w, h).into(), ImageFormat::Jpeg);
        eprintln!("== {w}x{h} jpeg bytes {}", jpeg.len());
        let (t, _) = best(7, || decode(&jpeg, None).unwrap());
        eprintln!("decode full: {t:.1} ms");
        for want in [(640, 640), (640, 2000), (400, 4000), (300, 240)] {
            let (ta, a) = best(7, || {
                let d = decode(&jpeg, None).unwrap();
                resize_to_fit(&d.image, want.0, want.1)
            });
            let (tb, (scaled, b)) = best(7, || {
                let d = decode(&jpeg, Some(want)).unwrap();
                (d.scaled, resize_to_fit(&d.image, want.0, want.1))
            });
            let (td, d) = best(7, || decode(&jpeg, Some(want)).unwrap());
            eprintln!(
                "want {want:?} fit {:?}: full+resize {ta:.1} ms; box decode ({}x{}, scaled {scaled}) {td:.1} ms, +resize {tb:.1} ms; sizes {:?} {:?}",
                fit_size(w, h, want.0, want.1), d.image.width(), d.image.height(),
                (a.width(), a.height()), (b.width(), b.height())
            );
        }
    }
}
