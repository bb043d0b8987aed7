//! Snapshots of the browser's screens, drawn by the real `view` from state reached through the
//! real `update`, with the description and pictures fetched over HTTP from the stand-in.

use descview::session::{Session, SessionConfig};
use descview::tui::action::Key;
use descview::tui::headless::Headless;
use descview::tui::state::StartInfo;
use descview::tui::Services;

async fn browser(width: u16, height: u16) -> (Headless, Session) {
    let session = Session::open(&SessionConfig {
        demo: true,
        ..Default::default()
    })
    .await
    .expect("the demo session starts");
    let start = StartInfo {
        demo_offers: session.demo_offers.clone(),
        api_host: session.api_host(),
        token_missing: false,
        offline: false,
    };
    let services = Services::without_store(
        session.client.clone(),
        session.fetcher.clone(),
        std::env::temp_dir().join("descview-snapshot-downloads"),
    );
    (Headless::new(services, start, width, height), session)
}

fn screen(browser: &Headless) -> String {
    browser.render().backend().to_string()
}

#[tokio::test]
async fn start_screen_lists_the_demo_offers() {
    let (browser, _session) = browser(120, 36).await;
    let text = screen(&browser);
    assert!(text.contains("demo catalogue"), "{text}");
    assert!(text.contains("622619146604"), "{text}");
    insta::assert_snapshot!("start_screen", text);
}

#[tokio::test]
async fn a_loaded_offer_shows_list_preview_and_html() {
    let (mut browser, _session) = browser(160, 40).await;
    browser.type_text("622619146604").await;
    browser.press(Key::Enter).await;
    let text = screen(&browser);

    let offer = browser.app.offer.as_ref().expect("the offer loaded");
    assert_eq!(offer.rows.len(), 15);
    assert!(
        browser.app.preview.shown.is_some(),
        "the first picture is previewed"
    );
    assert!(
        text.contains("▀") || text.contains("▄"),
        "half-blocks drawn:\n{text}"
    );
    assert!(
        text.contains("<img src="),
        "the HTML panel is filled:\n{text}"
    );
    insta::assert_snapshot!("loaded_offer", text);
}

#[tokio::test]
async fn an_api_error_fills_the_screen() {
    let (mut browser, _session) = browser(120, 30).await;
    browser.type_text("600000000439").await;
    browser.press(Key::Enter).await;
    let text = screen(&browser);
    assert!(text.contains("balance"), "{text}");
    insta::assert_snapshot!("api_error_439", text);
}

#[tokio::test]
async fn the_help_lists_every_key() {
    let (mut browser, _session) = browser(120, 40).await;
    browser.type_text("652702302959").await;
    browser.press(Key::Enter).await;
    browser.press(Key::Char('?')).await;
    let text = screen(&browser);
    for command in browser.app.keymap.commands() {
        assert!(
            text.contains(command.describe()),
            "{} missing:\n{text}",
            command.describe()
        );
    }
    insta::assert_snapshot!("help", text);
}

#[tokio::test]
async fn tiny_terminals_get_a_note_not_a_panic() {
    let (mut browser, _session) = browser(160, 40).await;
    browser.type_text("622619146604").await;
    browser.press(Key::Enter).await;
    for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 2), (39, 9)] {
        browser
            .act(descview::tui::action::Action::Resize {
                width: w,
                height: h,
            })
            .await;
        let text = screen(&browser);
        if w >= 20 && h >= 2 {
            assert!(text.contains("too small"), "{w}x{h}:\n{text}");
        }
        browser.press(Key::Char('?')).await;
        let _ = screen(&browser);
        browser.press(Key::Esc).await;
    }
}

#[tokio::test]
async fn every_documented_error_status_shows_its_message_in_the_browser() {
    let (mut browser, _session) = browser(140, 30).await;
    for (item, message) in [
        ("600000000417", "failed to retrieve data (417)"),
        ("600000000422", "parameter error (422)"),
        ("600000000439", "balance is too low (439)"),
        ("600000000499", "timed out on its side (499)"),
        ("600000000500", "unexpected error on the API side (500)"),
        ("600000000503", "too many requests at once (503)"),
    ] {
        browser.press(Key::Ctrl('u')).await;
        browser.type_text(item).await;
        browser.press(Key::Enter).await;
        let text = screen(&browser);
        assert!(
            text.contains(message),
            "{item}: {message:?} not on screen:\n{text}"
        );
        assert!(browser.app.offer.is_none());
    }
}
