//! Showing a run's progress on stderr: progress bars (offers; pictures with bytes and rate)
//! when stderr is a terminal, one plain line per finished offer when it is not (a log file,
//! a pipe, CI).
//!
//! This is the only part of [`crate::download`] that writes to the terminal, and it writes only
//! to stderr, so stdout stays free for scripts. Every text it shows was made safe where it
//! was made (errors are sanitised, offer IDs are digits).

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::batch::{Event, EventSink, PictureOutcome, Summary};
use crate::item_id::ItemId;
use crate::text::count;

/// Shows the progress of one run.
pub struct Reporter {
    view: View,
    started: Instant,
    bytes: AtomicU64,
    /// Per offer in flight: saved, present, failed (for the plain lines).
    counts: Mutex<HashMap<ItemId, [usize; 3]>>,
}

enum View {
    Bars {
        multi: MultiProgress,
        offers: ProgressBar,
        pictures: ProgressBar,
    },
    Lines,
}

impl Reporter {
    /// A reporter for a run of `offers` offers: bars when `bars` (stderr is a terminal),
    /// plain lines otherwise.
    pub fn new(offers: usize, bars: bool) -> Arc<Reporter> {
        let view = if bars {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
            let offers_bar = multi.add(
                ProgressBar::new(offers as u64)
                    .with_style(style("{prefix:>9} [{bar:30}] {pos}/{len} {msg}")),
            );
            offers_bar.set_prefix("offers");
            let pictures = multi.add(
                ProgressBar::new(0).with_style(style("{prefix:>9} [{bar:30}] {pos}/{len} {msg}")),
            );
            pictures.set_prefix("pictures");
            pictures.enable_steady_tick(Duration::from_millis(250));
            View::Bars {
                multi,
                offers: offers_bar,
                pictures,
            }
        } else {
            View::Lines
        };
        Arc::new(Reporter {
            view,
            started: Instant::now(),
            bytes: AtomicU64::new(0),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// The sink to hand to [`super::run`].
    pub fn sink(self: &Arc<Self>) -> EventSink {
        let reporter = Arc::clone(self);
        Arc::new(move |event: &Event| reporter.handle(event))
    }

    /// Shows one event.
    pub fn handle(&self, event: &Event) {
        match event {
            Event::OfferStarted { item, pictures, .. } => {
                self.counts().insert(item.clone(), [0, 0, 0]);
                if let View::Bars { pictures: bar, .. } = &self.view {
                    bar.inc_length(*pictures as u64);
                }
            }
            Event::PictureDone {
                item,
                position,
                outcome,
            } => {
                let slot = match outcome {
                    PictureOutcome::Saved { bytes } => {
                        self.bytes.fetch_add(*bytes, Ordering::Relaxed);
                        0
                    }
                    PictureOutcome::Present { .. } => 1,
                    PictureOutcome::Failed { error } => {
                        self.say(&format!("offer {item} picture {position}: {error}"));
                        2
                    }
                };
                if let Some(counts) = self.counts().get_mut(item) {
                    counts[slot] += 1;
                }
                if let View::Bars { pictures, .. } = &self.view {
                    pictures.inc(1);
                    pictures.set_message(self.rate());
                }
            }
            Event::OfferDone { item, error } => {
                let [saved, present, failed] = self.counts().remove(item).unwrap_or_default();
                match &self.view {
                    View::Bars { offers, .. } => {
                        offers.inc(1);
                        if let Some(error) = error.as_ref().filter(|_| failed == 0) {
                            self.say(&format!("offer {item}: {error}"));
                        }
                    }
                    View::Lines => self.say(&offer_line(item, saved, present, failed, error)),
                }
            }
        }
    }

    /// Clears the bars; call before printing the summary.
    pub fn finish(&self) {
        if let View::Bars {
            offers, pictures, ..
        } = &self.view
        {
            pictures.finish_and_clear();
            offers.finish_and_clear();
        }
    }

    fn say(&self, line: &str) {
        match &self.view {
            View::Bars { multi, .. } => {
                let _ = multi.println(line);
            }
            View::Lines => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    fn rate(&self) -> String {
        let bytes = self.bytes.load(Ordering::Relaxed);
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "{} at {}/s",
            HumanBytes(bytes),
            HumanBytes((bytes as f64 / seconds) as u64)
        )
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<ItemId, [usize; 3]>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// The plain line for a finished offer.
fn offer_line(
    item: &ItemId,
    saved: usize,
    present: usize,
    failed: usize,
    error: &Option<String>,
) -> String {
    if saved + present + failed == 0 {
        return match error {
            Some(error) => format!("offer {item}: failed: {error}"),
            None => format!("offer {item}: no pictures"),
        };
    }
    let mut parts = vec![format!("{saved} saved")];
    if present > 0 {
        parts.push(format!("{present} already there"));
    }
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    let mut line = format!("offer {item}: {}", parts.join(", "));
    if let (Some(error), 0) = (error, failed) {
        line.push_str(&format!(" ({error})"));
    }
    line
}

/// The closing summary: counts, bytes, time and rate, the first failures, and where the
/// manifest is.
pub fn summary_text(summary: &Summary) -> String {
    let seconds = summary.elapsed.as_secs_f64();
    let rate = summary.bytes_saved as f64 / seconds.max(0.001);
    let mut text = format!(
        "{} ({} failed): {} saved, {} already there, {} failed; {} in {:.1} s ({}/s); {}\nmanifest: {}",
        count(summary.offers, "offer"),
        summary.offers_failed,
        count(summary.pictures_saved, "picture"),
        summary.pictures_present,
        summary.pictures_failed,
        HumanBytes(summary.bytes_saved),
        seconds,
        HumanBytes(rate as u64),
        count(summary.api_calls, "API call"),
        summary.manifest.display(),
    );
    if !summary.failures.is_empty() {
        text.push_str("\nfailed:");
        for failure in &summary.failures {
            text.push_str("\n  ");
            text.push_str(failure);
        }
        let listed = summary.failures.len();
        let total = summary.pictures_failed.max(summary.offers_failed);
        if total > listed {
            text.push_str("\n  ... and more: the manifest lists every failure");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_what_happened() {
        let item: ItemId = "622619146604".parse().unwrap();
        assert_eq!(
            offer_line(&item, 13, 2, 0, &None),
            "offer 622619146604: 13 saved, 2 already there"
        );
        assert_eq!(
            offer_line(&item, 0, 0, 0, &Some("the API said 439".into())),
            "offer 622619146604: failed: the API said 439"
        );
        assert_eq!(
            offer_line(&item, 14, 0, 1, &Some("1 pictures failed".into())),
            "offer 622619146604: 14 saved, 1 failed"
        );
    }

    #[test]
    fn the_summary_names_counts_and_failures() {
        let summary = Summary {
            offers: 3,
            offers_failed: 1,
            pictures_saved: 20,
            pictures_failed: 1,
            failures: vec!["1 picture 2: gone".into()],
            elapsed: Duration::from_secs(2),
            ..Summary::default()
        };
        let text = summary_text(&summary);
        assert!(
            text.starts_with("3 offers (1 failed): 20 pictures saved"),
            "{text}"
        );
        assert!(text.contains("\n  1 picture 2: gone"), "{text}");
        assert!(text.contains("; 0 API calls"), "{text}");
        assert_eq!(count(1, "offer"), "1 offer");
    }
}
