//! The local store as users meet it: through `descview get` and `show` run against the
//! stand-in on loopback, whose request counts show what was (not) called, and through the
//! library with two handles on one database (two descviews at once).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Output};

use descview::item_id::ItemId;
use descview::mock::{self, Catalogue, MockHandle, MockOptions, OfferAnswer};
use descview::store::{self, Location, Policy, Store};
use descview::tmapi::{Client, ClientConfig, Token};
use serde_json::json;

const TOKEN: &str = "test-token";
const ITEM: &str = "622619146604";

fn jpeg() -> Vec<u8> {
    // A real 8x8 JPEG, so that `show` can decode and print it.
    let mut bytes = Vec::new();
    image::DynamicImage::new_rgb8(8, 8)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    bytes
}

/// A stand-in for pictures and one for the API, whose answers list the first one's URLs.
async fn stand_ins(items: &[&str]) -> (MockHandle, MockHandle) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let real = |item: &str| format!("https://cbu01.alicdn.com/img/ibank/{item}/1.jpg");
    let mut pictures = Catalogue::empty();
    for item in items {
        pictures.add_picture(&real(item), jpeg());
    }
    let cdn = mock::start(addr, pictures, MockOptions::default())
        .await
        .unwrap();
    let mut answers = Catalogue::empty();
    for item in items {
        let url = cdn.cdn_url(&real(item)).unwrap().to_string();
        let body = json!({
            "code": 200, "msg": "success",
            "data": { "item_id": item, "detail_imgs": [url],
                      "detail_html": "<p>Insulated steel bottle</p>" },
        });
        answers.add_offer(item, "test", OfferAnswer::Body(body));
    }
    let api = mock::start(addr, answers, MockOptions::default().with_token(TOKEN))
        .await
        .unwrap();
    (cdn, api)
}

/// Runs `descview ARGS` with every directory under `home` and the API at `api`.
async fn descview(home: &Path, api: &MockHandle, args: &[&str]) -> Output {
    run(command(home, api, args)).await
}

/// `descview ARGS` with every directory under `home` and the API at `api`.
fn command(home: &Path, api: &MockHandle, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_descview"));
    command
        .env_clear()
        .env("HOME", home)
        .env("DESCVIEW_CONFIG_DIR", home.join("config"))
        .env("DESCVIEW_DATA_DIR", home.join("data"))
        .env("DESCVIEW_STATE_DIR", home.join("state"))
        .env("DESCVIEW_CACHE_DIR", home.join("cache"))
        .env("TMAPI_TOKEN", TOKEN)
        .env("TMAPI_BASE", api.api_base().as_str())
        .args(args);
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("descview runs"))
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_open_makes_no_api_request() {
    let (_cdn, api) = stand_ins(&[ITEM]).await;
    let home = tempfile::tempdir().unwrap();

    let first = descview(home.path(), &api, &["get", ITEM]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(api.requests("/1688/item_desc"), 1);

    let second = descview(home.path(), &api, &["get", ITEM]).await;
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&second), stdout(&first), "the same answer");
    assert_eq!(api.requests("/1688/item_desc"), 1, "no second request");

    let json = descview(home.path(), &api, &["get", ITEM, "--json"]).await;
    assert!(json.status.success(), "{}", stderr(&json));
    let shown = descview(
        home.path(),
        &api,
        &["show", ITEM, "--index", "1", "--width", "8"],
    )
    .await;
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert_eq!(
        api.requests("/1688/item_desc"),
        1,
        "show uses the store too"
    );

    let refreshed = descview(home.path(), &api, &["get", ITEM, "--refresh"]).await;
    assert!(refreshed.status.success(), "{}", stderr(&refreshed));
    assert_eq!(
        api.requests("/1688/item_desc"),
        2,
        "--refresh makes exactly one call"
    );

    let offline = descview(home.path(), &api, &["get", ITEM, "--offline"]).await;
    assert!(offline.status.success(), "{}", stderr(&offline));
    assert_eq!(api.requests("/1688/item_desc"), 2);

    // The openings are in the history, with their picture count and a label.
    let location = Location {
        data_dir: home.path().join("data"),
        cache_dir: home.path().join("cache"),
        cache_cap: store::DEFAULT_CACHE_CAP,
    };
    let kept = Store::open(&location).unwrap();
    let recent = kept
        .recent(&store::scope_for_base(&api.api_base()), 10)
        .unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].item.as_str(), ITEM);
    assert_eq!(recent[0].pictures, 1);
    assert_eq!(recent[0].label, "Insulated steel bottle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_never_calls_and_says_what_is_missing() {
    let (_cdn, api) = stand_ins(&[ITEM]).await;
    let home = tempfile::tempdir().unwrap();
    let output = descview(home.path(), &api, &["get", ITEM, "--offline"]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("not in the local store"), "{message}");
    assert!(message.contains("--offline"), "{message}");
    assert_eq!(api.requests(""), 0);

    let both = descview(home.path(), &api, &["get", ITEM, "--offline", "--refresh"]).await;
    assert_eq!(
        both.status.code(),
        Some(2),
        "contradictory flags are bad usage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_kept_per_api_base() {
    let (_cdn, api) = stand_ins(&[ITEM]).await;
    let (_other_cdn, other_api) = stand_ins(&[ITEM]).await;
    let home = tempfile::tempdir().unwrap();
    assert!(descview(home.path(), &api, &["get", ITEM])
        .await
        .status
        .success());
    assert!(descview(home.path(), &other_api, &["get", ITEM])
        .await
        .status
        .success());
    assert_eq!(api.requests("/1688/item_desc"), 1);
    assert_eq!(
        other_api.requests("/1688/item_desc"),
        1,
        "another API's answer does not stand in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_descviews_at_once_share_the_store() {
    let items = ["111111", "222222", "333333", "444444"];
    let (_cdn, api) = stand_ins(&items).await;
    let home = tempfile::tempdir().unwrap();
    let runs = items.map(|item| run(command(home.path(), &api, &["get", item])));
    for output in futures_util::future::join_all(runs).await {
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(api.requests("/1688/item_desc"), 4);
    for item in items {
        let output = descview(home.path(), &api, &["get", item, "--offline"]).await;
        assert!(output.status.success(), "{item}: {}", stderr(&output));
    }
    assert_eq!(api.requests("/1688/item_desc"), 4);
}

#[tokio::test]
async fn the_library_keeps_answers_and_counts_calls_at_the_stand_in() {
    let (_cdn, api) = stand_ins(&[ITEM]).await;
    let root = tempfile::tempdir().unwrap();
    let location = Location::under(root.path());
    let client = Client::new(ClientConfig::new(api.api_base(), Some(Token::new(TOKEN)))).unwrap();
    let scope = store::scope_for_base(&api.api_base());
    let item: ItemId = ITEM.parse().unwrap();

    let first_handle = Store::open(&location).unwrap();
    let second_handle = Store::open(&location).unwrap();
    let fetched = store::answers::get_or_fetch(
        Some(&first_handle),
        &client,
        &scope,
        &item,
        Policy::default(),
    )
    .await
    .unwrap();
    assert!(!fetched.stored);
    assert_eq!(fetched.age(), None);

    // Another handle on the same file (as another process has) sees the answer.
    let stored = store::answers::get_or_fetch(
        Some(&second_handle),
        &client,
        &scope,
        &item,
        Policy::default(),
    )
    .await
    .unwrap();
    assert!(stored.stored);
    assert_eq!(stored.desc, fetched.desc);
    assert!(stored.age().is_some());
    assert_eq!(api.requests("/1688/item_desc"), 1);
}
