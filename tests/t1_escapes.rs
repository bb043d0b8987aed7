//! Handed case T1: escape sequences inside a description never reach the terminal as control
//! sequences: not in the HTML panel, the list, the status line, `get`'s output or its errors.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;

use descview::media::{FetchConfig, Fetcher};
use descview::mock::{self, Catalogue, MockOptions, OfferAnswer};
use descview::tmapi::{Client, ClientConfig, Token};
use descview::tui::action::Key;
use descview::tui::headless::Headless;
use descview::tui::state::StartInfo;
use descview::tui::Services;

const ITEM: &str = "610000000001";

fn hostile_answer() -> serde_json::Value {
    let html = concat!(
        "<p>clipboard \u{1b}]52;c;aGVsbG8=\u{7} title \u{1b}]0;owned\u{7} clear \u{1b}[2J",
        " cr\r back\u{8} csi \u{9b}31m bidi \u{202e}gnp.exe</p>",
        "<img src=\"https://cbu01.alicdn.com/img/ibank/O1CN01ok_!!1-0-cib.jpg\">"
    );
    serde_json::json!({
        "code": 200,
        "msg": "success",
        "data": {
            "item_id": 610000000001u64,
            "detail_imgs": ["https://cbu01.alicdn.com/img/ibank/evil\u{1b}[31m.jpg"],
            "detail_html": html
        }
    })
}

fn assert_no_controls(what: &str, text: &str) {
    for c in text.chars() {
        let forbidden = matches!(
            c,
            '\u{1b}' | '\u{7}' | '\u{8}' | '\r' | '\u{9b}' | '\u{202e}'
        );
        assert!(!forbidden, "{what} carries {c:?}:\n{text}");
    }
}

async fn stand_in() -> mock::MockHandle {
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(
        ITEM,
        "hostile description",
        OfferAnswer::Body(hostile_answer()),
    );
    catalogue.add_picture(
        "https://cbu01.alicdn.com/img/ibank/O1CN01ok_!!1-0-cib.jpg",
        tiny_png(),
    );
    mock::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        catalogue,
        MockOptions::default(),
    )
    .await
    .unwrap()
}

fn tiny_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 8, image::Rgb([200, 30, 30])))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[tokio::test]
async fn t1_the_browser_shows_placeholders_not_sequences() {
    let server = stand_in().await;
    let client = Client::new(ClientConfig::new(
        server.api_base(),
        Some(Token::new(mock::DEMO_TOKEN)),
    ))
    .unwrap();
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(server.cdn_base()),
        ..Default::default()
    })
    .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let services = Services::without_store(client, fetcher, downloads.path().to_path_buf());
    let mut browser = Headless::new(services, StartInfo::default(), 160, 40);
    browser.type_text(ITEM).await;
    browser.press(Key::Enter).await;

    let offer = browser.app.offer.as_ref().expect("loaded");
    assert_eq!(
        offer.rows.len(),
        1,
        "the URL with an escape is not a picture"
    );
    assert_eq!(offer.unusable.len(), 1, "it is reported as unusable");
    let screen = browser.render().backend().to_string();
    assert_no_controls("the screen", &screen);
    assert!(
        screen.contains("␛"),
        "visible placeholders instead:\n{screen}"
    );

    // Copying the HTML copies it without the sequences, and the clipboard write is ours alone.
    browser.press(Key::Char('c')).await;
    assert_no_controls("the copied HTML", &browser.copied[0]);
    assert!(!browser.copied[0].contains("aGVsbG8=\u{7}"));
}

#[tokio::test]
async fn t1_get_prints_nothing_a_terminal_would_act_on() {
    let server = stand_in().await;
    let base = server.api_base().to_string();
    for json in [false, true] {
        let mut args = vec!["get", ITEM, "--api-base", base.as_str()];
        if json {
            args.push("--json");
        }
        let output = tokio::task::spawn_blocking({
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            move || {
                Command::new(env!("CARGO_BIN_EXE_descview"))
                    .args(&args)
                    .env("TMAPI_TOKEN", mock::DEMO_TOKEN)
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert_no_controls("stdout", &stdout);
        assert_no_controls("stderr", &stderr);
        assert!(stdout.contains("O1CN01ok"), "{stdout}");
        assert!(
            stderr.contains("evil"),
            "it is reported on stderr: {stderr}"
        );
        if !json {
            assert!(
                !stdout.contains("evil"),
                "not printed as a picture: {stdout}"
            );
        } else {
            let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(value["pictures"].as_array().unwrap().len(), 1, "{stdout}");
            assert!(value["unusable"][0]["raw"]
                .as_str()
                .unwrap()
                .contains("evil"));
            // `jq -r .detail_html` prints the string unescaped, onto a terminal: what it
            // holds must be as safe as what descview prints itself.
            let html = value["detail_html"].as_str().unwrap();
            assert_no_controls("detail_html", html);
            assert!(html.contains("title") && html.contains("gnp.exe"), "{html}");
            assert!(html.contains("O1CN01ok_!!1-0-cib.jpg"), "{html}");
        }
    }
}
