//! The browser without a terminal: the same `update`, the same effects against the same
//! client, fetcher and picture store, each effect awaited in turn.
//!
//! For the snapshot tests and the scripted-session benchmark, which need the browser's real
//! behaviour (real HTTP to the stand-in, real decoding) with deterministic timing. Copies and
//! opened URLs are recorded instead of reaching a clipboard or a browser.

use std::collections::VecDeque;
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use ratatui_image::picker::Picker;

use super::action::{Action, Effect, Key};
use super::runtime::{
    fetch_description, load_history, meta_of, prepare_offline, remember_fit, remembered_fit,
    save_one, PictureStore, Services,
};
use super::state::{App, StartInfo};
use super::{html_panel, update, view};

/// A browser driven by code.
pub struct Headless {
    /// The browser's state.
    pub app: App,
    services: Services,
    store: Arc<PictureStore>,
    picker: Picker,
    /// Every `Copy` effect's text, in order.
    pub copied: Vec<String>,
    /// Every URL asked to be opened.
    pub opened: Vec<String>,
    /// Previews prepared (requests answered).
    pub previews_prepared: usize,
}

impl Headless {
    /// A browser of `width` x `height` cells drawing pictures in half-blocks.
    pub fn new(services: Services, start: StartInfo, width: u16, height: u16) -> Self {
        let store = Arc::new(PictureStore::new(
            services.fetcher.clone(),
            services.store.clone(),
            256 << 20,
        ));
        let mut app = App::new(start, Rect::new(0, 0, width, height));
        app.fit = remembered_fit(services.store.as_ref());
        Headless {
            app,
            services,
            store,
            picker: Picker::halfblocks(),
            copied: Vec::new(),
            opened: Vec::new(),
            previews_prepared: 0,
        }
    }

    /// The shared picture store (for counting decodes).
    pub fn store(&self) -> &PictureStore {
        &self.store
    }

    /// Applies an action and runs every effect it leads to, to the end.
    pub async fn act(&mut self, action: Action) {
        let mut queue: VecDeque<Action> = VecDeque::from([action]);
        while let Some(action) = queue.pop_front() {
            let effects = update::update(&mut self.app, action);
            for effect in effects {
                queue.extend(self.run(effect).await);
            }
        }
    }

    /// Types text and presses keys, one action each.
    pub async fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.act(Action::Key(Key::Char(c))).await;
        }
    }

    /// Presses one key.
    pub async fn press(&mut self, key: Key) {
        self.act(Action::Key(key)).await;
    }

    /// Draws the screen into a test backend and returns it.
    pub fn render(&self) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(
            self.app.screen.width,
            self.app.screen.height,
        ))
        .expect("a test backend never fails");
        terminal
            .draw(|frame| view::view(&self.app, frame))
            .expect("a test backend never fails");
        terminal
    }

    async fn run(&mut self, effect: Effect) -> Vec<Action> {
        match effect {
            Effect::FetchDescription {
                generation,
                item,
                refresh,
            } => {
                let result = fetch_description(&self.services, &item, refresh).await;
                vec![Action::DescriptionLoaded {
                    generation,
                    item,
                    result,
                }]
            }
            Effect::LoadHistory => vec![Action::HistoryLoaded(load_history(&self.services).await)],
            Effect::Download {
                download,
                item,
                total,
                pictures,
            } => {
                let mut steps = Vec::new();
                for (position, url) in pictures {
                    let result = save_one(&self.services, &item, position, total, &url).await;
                    steps.push(Action::DownloadStep { download, result });
                }
                steps
            }
            Effect::FormatHtml { generation, html } => {
                vec![Action::HtmlReady {
                    generation,
                    lines: html_panel::render(&html, self.app.theme.colors),
                }]
            }
            Effect::FetchPictures { generation, urls } => {
                let mut actions = Vec::new();
                for (index, url) in urls {
                    let result = self.store.bytes(&url, false).await.map(|f| meta_of(&f));
                    actions.push(Action::PictureFetched {
                        generation,
                        index,
                        result,
                    });
                }
                actions
            }
            Effect::PreparePreview(request) => {
                let result = prepare_offline(&self.store, &request, &self.picker).await;
                self.previews_prepared += 1;
                vec![Action::PreviewReady { request, result }]
            }
            Effect::Prefetch(requests) => {
                // Idle work: done in full here, as if the user paused on each picture.
                for request in requests {
                    let _ = prepare_offline(&self.store, &request, &self.picker).await;
                }
                Vec::new()
            }
            Effect::Copy { text, what } => {
                self.copied.push(text);
                vec![Action::Copied(Ok(format!("copied {what}")))]
            }
            Effect::OpenUrl(url) => {
                self.opened.push(url);
                Vec::new()
            }
            Effect::RememberFit(fit) => {
                remember_fit(self.services.store.as_ref(), fit);
                Vec::new()
            }
            Effect::CancelDescription | Effect::CancelPictures => Vec::new(),
        }
    }
}
