//! The browser with the local store (issue: keep what was fetched): a second open costs no API
//! call, `r` costs exactly one, `H` lists and reopens offers, `d` and `D` save pictures as
//! `<dir>/<item>/NN.<ext>`. All against the demo stand-in, counting requests at the server.

use descview::session::{Session, SessionConfig};
use descview::store::Location;
use descview::tui::action::Key;
use descview::tui::headless::Headless;
use descview::tui::state::{Message, StartInfo};
use descview::tui::Services;

const API: &str = "/1688/item_desc";

async fn demo_with_store(root: &std::path::Path) -> Session {
    let mut session = Session::open(&SessionConfig {
        demo: true,
        ..Default::default()
    })
    .await
    .unwrap();
    session.open_store(&Location::under(root)).unwrap();
    session
}

fn browser(session: &Session, downloads: &std::path::Path) -> Headless {
    let services = Services {
        client: session.client.clone(),
        fetcher: session.fetcher.clone(),
        store: session.store.clone(),
        scope: session.scope(),
        offline: false,
        download_dir: downloads.to_path_buf(),
    };
    Headless::new(services, StartInfo::default(), 160, 40)
}

async fn open(browser: &mut Headless, item: &str) {
    if browser.app.focus != descview::tui::state::Focus::Input {
        browser.press(Key::Char('/')).await;
    }
    browser.type_text(item).await;
    browser.press(Key::Enter).await;
    assert_eq!(
        browser
            .app
            .offer
            .as_ref()
            .map(|o| o.item.to_string())
            .as_deref(),
        Some(item)
    );
}

#[tokio::test]
async fn a_second_open_costs_no_call_and_r_costs_one() {
    let root = tempfile::tempdir().unwrap();
    let session = demo_with_store(root.path()).await;
    let calls = || session.mock.as_ref().unwrap().requests(API);

    let mut first = browser(&session, root.path());
    open(&mut first, "622619146604").await;
    assert_eq!(calls(), 1);
    assert_eq!(first.app.offer.as_ref().unwrap().stored_age, None);

    // A new browser (a new run of descview) with the same store.
    let mut second = browser(&session, root.path());
    open(&mut second, "622619146604").await;
    assert_eq!(calls(), 1, "the kept answer is used");
    assert!(second.app.offer.as_ref().unwrap().stored_age.is_some());
    let text = second.render().backend().to_string();
    assert!(
        text.contains("kept"),
        "the screen says how old the answer is:\n{text}"
    );

    second.press(Key::Char('r')).await;
    assert_eq!(calls(), 2, "r fetches again, once");
    assert_eq!(second.app.offer.as_ref().unwrap().stored_age, None);
}

#[tokio::test]
async fn history_lists_offers_and_opens_one_without_a_call() {
    let root = tempfile::tempdir().unwrap();
    let session = demo_with_store(root.path()).await;
    let mut browser = browser(&session, root.path());
    open(&mut browser, "622619146604").await;
    open(&mut browser, "652702302959").await;
    let calls = session.mock.as_ref().unwrap().requests(API);

    browser.press(Key::Char('H')).await;
    let history = browser.app.history.as_ref().expect("the pane is open");
    let rows = history.rows.as_ref().expect("loaded");
    let items: Vec<String> = rows.iter().map(|r| r.item.to_string()).collect();
    assert_eq!(items, ["652702302959", "622619146604"], "newest first");
    assert_eq!(rows[1].pictures, 15);
    let text = browser.render().backend().to_string();
    assert!(
        text.contains("622619146604") && text.contains("History"),
        "{text}"
    );

    browser.press(Key::Char('j')).await;
    browser.press(Key::Enter).await;
    assert!(browser.app.history.is_none());
    assert_eq!(
        browser.app.offer.as_ref().unwrap().item.as_str(),
        "622619146604"
    );
    assert_eq!(
        session.mock.as_ref().unwrap().requests(API),
        calls,
        "reopened from the store"
    );
}

#[tokio::test]
async fn d_and_shift_d_save_pictures_under_the_offer() {
    let root = tempfile::tempdir().unwrap();
    let downloads = root.path().join("downloads");
    let session = demo_with_store(root.path()).await;
    let mut browser = browser(&session, &downloads);
    open(&mut browser, "652702302959").await;

    browser.press(Key::Char('j')).await;
    browser.press(Key::Char('d')).await;
    let dir = downloads.join("652702302959");
    assert!(
        dir.join("02.jpg").is_file(),
        "{:?}",
        std::fs::read_dir(&dir).map(|d| d.count())
    );
    assert!(matches!(&browser.app.message, Some(Message::Info(t)) if t.contains("02.jpg")));

    browser.press(Key::Char('D')).await;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["01.jpg", "02.jpg", "03.png", "04.jpg", "05.jpg", "06.jpg"],
        "the real format names the extension"
    );
    assert!(
        matches!(&browser.app.message, Some(Message::Info(t)) if t.contains("saved 6 pictures"))
    );
    assert!(browser.app.download.is_none());

    // The saved bytes are what the stand-in serves.
    let offer = browser.app.offer.as_ref().unwrap();
    let catalogue = descview::mock::Catalogue::embedded();
    for (i, row) in offer.rows.iter().enumerate() {
        let saved = std::fs::read(dir.join(&names[i])).unwrap();
        assert_eq!(
            saved.as_slice(),
            catalogue.picture(&row.picture.url).unwrap().as_ref()
        );
    }
}

#[tokio::test]
async fn the_fit_mode_chosen_with_z_is_kept_for_the_next_run() {
    use descview::tui::state::FitMode;

    let root = tempfile::tempdir().unwrap();
    let session = demo_with_store(root.path()).await;

    let mut first = browser(&session, root.path());
    assert_eq!(first.app.fit, FitMode::Whole, "a new store starts whole");
    open(&mut first, "622619146604").await;
    first.press(Key::Char('z')).await;
    assert_eq!(first.app.fit, FitMode::Width);
    drop(first);

    // The next run (a new browser over the same store) starts where the last one left off,
    // and a second z is kept too.
    let mut second = browser(&session, root.path());
    assert_eq!(second.app.fit, FitMode::Width);
    open(&mut second, "622619146604").await;
    second.press(Key::Char('z')).await;
    drop(second);
    assert_eq!(browser(&session, root.path()).app.fit, FitMode::Whole);
}
