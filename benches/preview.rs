//! The preview pipeline's cost, measured with criterion.
//!
//! - `decode_and_fit/scaled`: a 790x8000 JPEG (a tall description banner, drawn by
//!   `examples/bench_pictures.rs`) decoded for an 80x40-cell pane in half-blocks (80x80 px)
//!   and fitted into it: what the browser does when such a picture is selected.
//! - `decode_and_fit/full`: the same file decoded at full size, then resized into the same
//!   box; the ratio of the two is what the reduced-scale JPEG decode gains.
//! - `decode_for_show/*`: the same two for `descview show FILE --width 80`, whose box is 80
//!   pixels wide and as tall as the picture needs.
//! - `render/offer_200x60`: drawing one frame of the browser, with the demo's offer
//!   622619146604 loaded and its first picture previewed, into a 200x60 `TestBackend`.
//!
//! Run with `cargo bench --bench preview`. After criterion's report, the ratios of full to
//! scaled are printed from a separate run of medians (criterion keeps its estimates to itself).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use descview::media;
use descview::session::{Session, SessionConfig};
use descview::tui::action::Key;
use descview::tui::headless::Headless;
use descview::tui::state::StartInfo;
use descview::tui::Services;
use image::DynamicImage;

#[path = "../examples/bench_pictures.rs"]
#[allow(dead_code)]
mod bench_pictures;

/// An 80x40-cell pane in half-blocks: one pixel across a cell, two down.
const PANE: (u32, u32) = (80, 80);
/// `show --width 80` in half-blocks: 80 pixels across, any height.
const SHOW: (u32, u32) = (80, u32::MAX);
/// The demo offer the API documentation uses as its example.
const OFFER: &str = "622619146604";

fn scaled_fit(bytes: &[u8], (width, height): (u32, u32)) -> DynamicImage {
    let decoded = media::decode(bytes, Some((width, height))).expect("the picture decodes");
    assert!(
        decoded.scaled,
        "a 790x8000 JPEG in a small box decodes at a reduced scale"
    );
    media::fit_decoded(&decoded, width, height)
}

fn full_fit(bytes: &[u8], (width, height): (u32, u32)) -> DynamicImage {
    let decoded = media::decode(bytes, None).expect("the picture decodes");
    media::resize_to_fit(&decoded.image, width, height)
}

fn decoding(criterion: &mut Criterion, jpeg: &[u8]) {
    for (name, pane) in [("decode_and_fit", PANE), ("decode_for_show", SHOW)] {
        let mut group = criterion.benchmark_group(name);
        // A full decode takes tens of milliseconds: 20 samples keep the run short.
        group.sample_size(20);
        group.bench_function("scaled", |b| b.iter(|| scaled_fit(black_box(jpeg), pane)));
        group.bench_function("full", |b| b.iter(|| full_fit(black_box(jpeg), pane)));
        group.finish();
    }
}

/// A headless browser with the demo offer loaded and its first picture previewed. The runtime
/// and the session are returned too: they run the demo's stand-in.
fn loaded_browser() -> (tokio::runtime::Runtime, Session, Headless) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let (session, browser) = runtime.block_on(async {
        let session = Session::open(&SessionConfig {
            demo: true,
            ..Default::default()
        })
        .await
        .expect("the demo starts");
        let services = Services::without_store(
            session.client.clone(),
            session.fetcher.clone(),
            std::env::temp_dir().join("descview-bench-downloads"),
        );
        let start = StartInfo {
            demo_offers: session.demo_offers.clone(),
            api_host: session.api_host(),
            token_missing: false,
            offline: false,
        };
        let mut browser = Headless::new(services, start, 200, 60);
        // The input line has the focus at the start: typing goes there.
        browser.type_text(OFFER).await;
        browser.press(Key::Enter).await;
        (session, browser)
    });
    assert!(
        browser
            .app
            .offer
            .as_ref()
            .is_some_and(|offer| offer.item.as_str() == OFFER),
        "the demo offer loads"
    );
    assert!(browser.previews_prepared > 0, "a preview was prepared");
    (runtime, session, browser)
}

fn rendering(criterion: &mut Criterion) {
    let (_runtime, _session, browser) = loaded_browser();
    criterion.bench_function("render/offer_200x60", |b| b.iter(|| browser.render()));
}

fn median(mut run: impl FnMut(), rounds: usize) -> Duration {
    run();
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn print_ratios(jpeg: &[u8]) {
    println!(
        "\nfull decode + resize against scaled decode + resize, 790x8000 JPEG (medians of 15):"
    );
    for (name, pane) in [
        ("80x40-cell pane (80x80 px)", PANE),
        ("show --width 80", SHOW),
    ] {
        let scaled = median(|| drop(black_box(scaled_fit(jpeg, pane))), 15);
        let full = median(|| drop(black_box(full_fit(jpeg, pane))), 15);
        println!(
            "  {name:28} scaled {:6.1} ms, full {:6.1} ms: scaled is {:.1} times faster",
            scaled.as_secs_f64() * 1e3,
            full.as_secs_f64() * 1e3,
            full.as_secs_f64() / scaled.as_secs_f64()
        );
    }
}

fn main() {
    let jpeg = bench_pictures::tall_jpeg().expect("the benchmark picture encodes");
    let mut criterion = Criterion::default().configure_from_args();
    decoding(&mut criterion, &jpeg);
    rendering(&mut criterion);
    criterion.final_summary();
    print_ratios(&jpeg);
}
