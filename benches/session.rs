//! A scripted browsing session, headless: the same `update`, effects, picture store and
//! preview pipeline as the browser, against the demo stand-in on loopback. It opens every demo
//! offer and visits every picture, then reports the time from selection to preview ready
//! (median and 95th percentile), decodes started per picture, and the peak memory.
//!
//! Run with `cargo bench --bench session`. Target: peak memory under 200 MB, one decode per
//! picture.

use std::time::{Duration, Instant};

use descview::session::{Session, SessionConfig};
use descview::tui::action::{Action, Key};
use descview::tui::headless::Headless;
use descview::tui::state::StartInfo;
use descview::tui::Services;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let session = Session::open(&SessionConfig {
        demo: true,
        ..Default::default()
    })
    .await
    .expect("the demo starts");
    let offers: Vec<String> = session
        .demo_offers
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let services = Services::without_store(
        session.client.clone(),
        session.fetcher.clone(),
        std::env::temp_dir().join("descview-bench-downloads"),
    );
    let start = StartInfo {
        demo_offers: session.demo_offers.clone(),
        ..Default::default()
    };
    let mut browser = Headless::new(services, start, 200, 60);

    let mut waits = Vec::new();
    let mut pictures = Vec::new();
    let mut failed_offers = 0;
    let began = Instant::now();
    for offer in &offers {
        if browser.app.focus == descview::tui::state::Focus::Input {
            browser.press(Key::Ctrl('u')).await;
        } else {
            browser.press(Key::Char('/')).await;
        }
        browser.type_text(offer).await;
        let opened = Instant::now();
        browser.press(Key::Enter).await;
        let Some(loaded) = browser
            .app
            .offer
            .clone()
            .filter(|o| o.item.as_str() == offer)
        else {
            failed_offers += 1;
            continue;
        };
        waits.push(opened.elapsed());
        for index in 0..loaded.rows.len() {
            pictures.push(loaded.rows[index].picture.url.clone());
            if index + 1 < loaded.rows.len() {
                let moved = Instant::now();
                browser.act(Action::Key(Key::Down)).await;
                waits.push(moved.elapsed());
            }
        }
        // Back up through the list: everything is cached, nothing is decoded again.
        for _ in 0..loaded.rows.len() {
            browser.act(Action::Key(Key::Up)).await;
        }
    }
    let total = began.elapsed();

    waits.sort();
    let decodes: Vec<usize> = pictures
        .iter()
        .map(|url| browser.store().decodes_started(url))
        .collect();
    let max_decodes = decodes.iter().copied().max().unwrap_or(0);
    let total_decodes: usize = decodes.iter().sum();

    println!(
        "scripted session over the demo catalogue ({} offers, {} with pictures or errors)",
        offers.len(),
        offers.len()
    );
    println!("  offers that answered with an error: {failed_offers}");
    println!("  pictures visited:                   {}", pictures.len());
    println!(
        "  selection to preview ready:         median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&waits, 0.5).as_secs_f64() * 1e3,
        percentile(&waits, 0.95).as_secs_f64() * 1e3,
        percentile(&waits, 1.0).as_secs_f64() * 1e3
    );
    println!("  decodes started:                    {total_decodes} for {} pictures (at most {max_decodes} per picture)", pictures.len());
    println!(
        "  previews prepared:                  {}",
        browser.previews_prepared
    );
    println!(
        "  whole session:                      {:.2} s",
        total.as_secs_f64()
    );
    match peak_rss_mb() {
        Some(mb) => {
            println!("  peak memory (VmHWM):                {mb:.1} MB (target under 200 MB)")
        }
        None => println!("  peak memory: not available on this system"),
    }
}
