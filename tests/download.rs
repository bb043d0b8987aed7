//! Downloads against the stand-in on loopback: the batch downloader through its library API
//! (so faults can be put on per run), and `descview download` as a user runs it.
//!
//! What these show: every picture lands at `<out>/<item>/NN.<ext>` with the extension of its
//! real format, whatever its URL holds; the manifest matches the files; a stopped run resumes
//! by fetching only what is missing and leaves no `.part` behind; a host that answers 503 to
//! everything gets at most four requests per picture, a few at a time; `--zip` writes one
//! archive per offer; an offer in the store costs no API call.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use descview::download::manifest::{self, Record, Status, MANIFEST_FILE};
use descview::download::{self, BatchContext, BatchOptions, Event, RetrySettings};
use descview::item_id::ItemId;
use descview::media::{FetchConfig, Fetcher};
use descview::mock::{self, Catalogue, Fault, FaultTarget, MockHandle, MockOptions, OfferAnswer};
use descview::store::{Location, Store};
use descview::tmapi::{Client, ClientConfig, RetryPolicy, Token};
use serde_json::json;

const TOKEN: &str = "test-token";

fn jpeg(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];
    bytes.extend((0..len).map(|i| seed.wrapping_add(i as u8)));
    bytes
}

fn png(seed: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend([seed; 40]);
    bytes
}

fn webp(seed: u8) -> Vec<u8> {
    let mut bytes = b"RIFF\x30\0\0\0WEBPVP8 ".to_vec();
    bytes.extend([seed; 40]);
    bytes
}

/// An offer for the catalogue: its ID and its pictures (real URL, bytes).
struct TestOffer {
    id: &'static str,
    pictures: Vec<(String, Vec<u8>)>,
}

impl TestOffer {
    /// `count` pictures: the second is a PNG and the third WebP behind a `.jpg` URL (as
    /// alicdn serves them), the rest JPEGs.
    fn new(id: &'static str, count: usize) -> TestOffer {
        let pictures = (1..=count)
            .map(|n| {
                let url = format!("https://cbu01.alicdn.com/img/ibank/{id}/{n}.jpg");
                let seed = (n as u8).wrapping_mul(31);
                let bytes = match n {
                    2 => png(seed),
                    3 => webp(seed),
                    _ => jpeg(seed, 200 + n * 10),
                };
                (url, bytes)
            })
            .collect();
        TestOffer { id, pictures }
    }

    fn item(&self) -> ItemId {
        self.id.parse().unwrap()
    }
}

fn catalogue(offers: &[TestOffer]) -> Catalogue {
    let mut catalogue = Catalogue::empty();
    for offer in offers {
        let urls: Vec<&str> = offer.pictures.iter().map(|(url, _)| url.as_str()).collect();
        let body = json!({
            "code": 200,
            "msg": "success",
            "data": { "item_id": offer.id, "detail_imgs": urls, "detail_html": "" },
        });
        catalogue.add_offer(offer.id, "test", OfferAnswer::Body(body));
        for (url, bytes) in &offer.pictures {
            catalogue.add_picture(url, bytes.clone());
        }
    }
    catalogue
}

async fn start(catalogue: Catalogue, options: MockOptions) -> MockHandle {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    mock::start(addr, catalogue, options.with_token(TOKEN))
        .await
        .unwrap()
}

/// The client and fetcher pointed at `mock`, with the store at `store` under one scope, so
/// that two stand-ins in a row look like one API to the store.
fn context(mock: &MockHandle, store: Option<Store>) -> BatchContext {
    let mut config = ClientConfig::new(mock.api_base(), Some(Token::new(TOKEN)));
    config.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        retry_after_cap: Duration::from_millis(50),
    };
    BatchContext {
        client: Client::new(config).unwrap(),
        fetcher: Fetcher::new(FetchConfig {
            cdn_route: Some(mock.cdn_base()),
            ..FetchConfig::default()
        })
        .unwrap(),
        store,
        scope: "http://api.test".to_string(),
    }
}

fn options(out: &Path) -> BatchOptions {
    let mut options = BatchOptions::new(out.to_path_buf());
    options.retry = RetrySettings {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
    };
    options
}

fn quiet() -> download::batch::EventSink {
    Arc::new(|_: &Event| {})
}

/// Every file under `dir`, as a path relative to it with `/`, and its length.
fn files_under(dir: &Path) -> BTreeMap<String, u64> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, u64>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let name = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.insert(name, std::fs::metadata(&path).unwrap().len());
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(dir, dir, &mut found);
    found
}

/// The manifest's complete records match the files exactly: each names an existing file of
/// its length, and every file (but the manifest) has a record.
fn assert_manifest_matches_files(out: &Path) -> Vec<Record> {
    let records = manifest::read_all(&out.join(MANIFEST_FILE)).unwrap();
    let mut files = files_under(out);
    files.remove(MANIFEST_FILE);
    let mut recorded = BTreeMap::new();
    for record in records.iter().filter(|r| r.is_complete()) {
        let file = record.file.clone().unwrap();
        assert_eq!(
            files.get(&file),
            record.bytes.as_ref(),
            "manifest line for {file} does not match the file"
        );
        recorded.insert(file, record.bytes.unwrap());
    }
    assert_eq!(recorded, files, "every file has a manifest line");
    records
}

fn no_part_files(out: &Path) -> bool {
    files_under(out).keys().all(|name| !name.ends_with(".part"))
}

#[tokio::test]
async fn every_picture_lands_at_its_position_with_its_real_format_and_the_manifest_matches() {
    let offers = [TestOffer::new("111111", 4), TestOffer::new("222222", 3)];
    let mock = start(catalogue(&offers), MockOptions::default()).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let store = Store::open(&Location::under(&root.path().join("store"))).unwrap();

    let items: Vec<ItemId> = offers.iter().map(TestOffer::item).collect();
    let summary = download::run(
        &context(&mock, Some(store.clone())),
        items.clone(),
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!(summary.pictures_saved, 7);
    assert_eq!(summary.api_calls, 2);

    let files = files_under(&out);
    let names: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "111111/01.jpg",
            "111111/02.png",
            "111111/03.webp",
            "111111/04.jpg",
            "222222/01.jpg",
            "222222/02.png",
            "222222/03.webp",
            MANIFEST_FILE,
        ])
    );
    for offer in &offers {
        let (_, bytes) = &offer.pictures[0];
        let saved = std::fs::read(out.join(offer.id).join("01.jpg")).unwrap();
        assert_eq!(&saved, bytes, "saved byte for byte");
    }
    let records = assert_manifest_matches_files(&out);
    assert_eq!(records.len(), 7);
    assert!(records.iter().all(|r| r.status == Status::Saved));
    let facts = store
        .picture_facts(&offers[0].pictures[1].0)
        .unwrap()
        .unwrap();
    assert_eq!(facts.bytes, Some(offers[0].pictures[1].1.len() as u64));
    assert_eq!(facts.saved_path, Some(out.join("111111/02.png")));

    // A second run finds everything complete: no API call, no picture request.
    let (api, cdn) = (mock.requests("/1688/item_desc"), mock.requests("/cdn/"));
    let again = download::run(
        &context(&mock, Some(store.clone())),
        items.clone(),
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    assert_eq!(again.pictures_present, 7);
    assert_eq!(again.pictures_saved, 0);
    assert_eq!(again.api_calls, 0);
    assert_eq!(mock.requests("/1688/item_desc"), api);
    assert_eq!(mock.requests("/cdn/"), cdn);
    let records = assert_manifest_matches_files(&out);
    assert!(records.iter().all(|r| r.status == Status::Present));

    // A run for one of the offers still leaves a manifest of the whole folder.
    let one = download::run(
        &context(&mock, Some(store)),
        items[..1].to_vec(),
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    assert_eq!(one.pictures_present, 4);
    assert_eq!(assert_manifest_matches_files(&out).len(), 7);
}

#[tokio::test]
async fn a_stopped_run_resumes_fetching_only_what_is_missing_and_leaves_no_part_file() {
    let offer = TestOffer::new("333333", 6);
    let item = offer.item();
    let stalled = [offer.pictures[3].0.clone(), offer.pictures[4].0.clone()];
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let store = Store::open(&Location::under(&root.path().join("store"))).unwrap();

    // First run: two pictures never arrive; the run is stopped once the other four are done.
    let mut faulty = MockOptions::default();
    for url in &stalled {
        faulty = faulty.with_faults(FaultTarget::Picture(url.clone()), [Fault::Stall]);
    }
    let first = start(catalogue(std::slice::from_ref(&offer)), faulty).await;
    let done = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&done);
    let sink: download::batch::EventSink = Arc::new(move |event: &Event| {
        if matches!(event, Event::PictureDone { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (ctx, opts, items) = (
        context(&first, Some(store.clone())),
        options(&out),
        vec![item.clone()],
    );
    let run = tokio::spawn(async move { download::run(&ctx, items, &opts, sink).await });
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        while done.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the four answered pictures did not finish");
    run.abort();
    let _ = run.await;
    drop(first);
    assert_eq!(files_under(&out.join("333333")).len(), 4);

    // A kill in the middle of writing a file leaves a `.part` behind.
    std::fs::write(out.join("333333/05.jpg.part"), &offer.pictures[4].1[..5]).unwrap();

    // Second run, the pictures now answered: only the two missing ones are fetched.
    let second = start(
        catalogue(std::slice::from_ref(&offer)),
        MockOptions::default(),
    )
    .await;
    let summary = download::run(
        &context(&second, Some(store)),
        vec![item],
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!((summary.pictures_saved, summary.pictures_present), (2, 4));
    assert_eq!(second.requests("/1688/item_desc"), 0, "the answer was kept");
    assert_eq!(second.requests("/cdn/"), 2, "nothing fetched twice");
    assert!(no_part_files(&out));
    for (n, (_, bytes)) in offer.pictures.iter().enumerate() {
        let dir = out.join("333333");
        let name = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_stem().unwrap().to_string_lossy() == format!("{:02}", n + 1))
            .unwrap();
        assert_eq!(&std::fs::read(name).unwrap(), bytes);
    }
    assert_manifest_matches_files(&out);
}

#[tokio::test]
async fn hostile_urls_give_safe_files_inside_the_output_folder() {
    let long = format!("https://cbu01.alicdn.com/{}.jpg", "a".repeat(300));
    let hostile = [
        "https://cbu01.alicdn.com/img/../../etc/x.jpg".to_string(),
        "https://cbu01.alicdn.com/con.jpg".to_string(),
        long,
        "https://cbu01.alicdn.com/new%0Aline.jpg".to_string(),
        "https://cbu01.alicdn.com/x/..%2F..%2F..%2Fescape.jpg".to_string(),
    ];
    let offer = TestOffer {
        id: "444444",
        pictures: hostile
            .iter()
            .enumerate()
            .map(|(n, url)| (url.clone(), jpeg(n as u8, 50)))
            .collect(),
    };
    let mock = start(
        catalogue(std::slice::from_ref(&offer)),
        MockOptions::default(),
    )
    .await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let summary = download::run(
        &context(&mock, None),
        vec![offer.item()],
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    assert!(!summary.failed(), "{summary:?}");

    let names: Vec<String> = files_under(&out).into_keys().collect();
    assert_eq!(
        names,
        [
            "444444/01.jpg",
            "444444/02.jpg",
            "444444/03.jpg",
            "444444/04.jpg",
            "444444/05.jpg",
            MANIFEST_FILE,
        ]
    );
    // Nothing was written beside the output folder.
    let beside: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["out"]);
    let records = assert_manifest_matches_files(&out);
    assert!(records
        .iter()
        .all(|r| !r.file.as_deref().unwrap_or("").contains("..")));
}

#[tokio::test]
async fn a_host_answering_503_to_everything_gets_at_most_four_requests_per_picture() {
    let offers = [TestOffer::new("555555", 30), TestOffer::new("666666", 30)];
    let overloaded =
        MockOptions::default().with_faults(FaultTarget::AnyPicture, [Fault::status(503)]);
    let mock = start(catalogue(&offers), overloaded).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");

    let items: Vec<ItemId> = offers.iter().map(TestOffer::item).collect();
    let (ctx, opts) = (context(&mock, None), options(&out));
    let run = download::run(&ctx, items, &opts, quiet());
    let summary = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the run ends")
        .unwrap();

    assert!(summary.failed());
    assert_eq!(summary.pictures_failed, 60);
    assert_eq!(summary.offers_failed, 2);
    let requests = mock.requests("/cdn/");
    assert_eq!(requests, 240, "four tries per picture and no more");
    assert!(
        mock.peak_in_flight("/cdn/") <= 8,
        "never more than --jobs at once"
    );
    // Nothing half-written under a final name, and no `.part` either.
    let files = files_under(&out);
    assert_eq!(files.keys().collect::<Vec<_>>(), [MANIFEST_FILE]);
    let records = manifest::read_all(&out.join(MANIFEST_FILE)).unwrap();
    assert_eq!(records.len(), 60);
    assert!(records
        .iter()
        .all(|r| r.status == Status::Failed && r.error.as_deref().unwrap_or("").contains("503")));
}

#[tokio::test]
async fn an_api_that_answers_503_beyond_one_call_at_a_time_still_gives_every_offer() {
    let offers: Vec<TestOffer> = ["101", "102", "103", "104", "105", "106", "107", "108"]
        .into_iter()
        .map(|id| TestOffer::new(id, 1))
        .collect();
    let busy = MockOptions::default()
        .with_concurrency_limit(1, None)
        .with_faults(
            FaultTarget::AnyOffer,
            [Fault::Delay(Duration::from_millis(20))],
        );
    let mock = start(catalogue(&offers), busy).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let mut opts = options(&out);
    opts.api_jobs = 4;

    let items: Vec<ItemId> = offers.iter().map(TestOffer::item).collect();
    let ctx = context(&mock, None);
    let summary = tokio::time::timeout(
        Duration::from_secs(60),
        download::run(&ctx, items, &opts, quiet()),
    )
    .await
    .expect("the run ends")
    .unwrap();
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!(summary.pictures_saved, 8);
    let calls = mock.requests("/1688/item_desc");
    // At most six requests an offer while the API answers 503.
    assert!((8..=8 * 6).contains(&calls), "{calls} calls for 8 offers");
}

#[tokio::test]
async fn a_picture_cut_short_is_fetched_again_and_never_saved_cut() {
    let offer = TestOffer::new("777777", 2);
    let (once, always) = (offer.pictures[0].0.clone(), offer.pictures[1].0.clone());
    let options_with_cuts = MockOptions::default()
        .with_faults(
            FaultTarget::Picture(once),
            [Fault::CutShort(12), Fault::None],
        )
        .with_faults(FaultTarget::Picture(always), [Fault::CutShort(12)]);
    let mock = start(catalogue(std::slice::from_ref(&offer)), options_with_cuts).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");

    let summary = download::run(
        &context(&mock, None),
        vec![offer.item()],
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    assert_eq!((summary.pictures_saved, summary.pictures_failed), (1, 1));
    assert_eq!(
        std::fs::read(out.join("777777/01.jpg")).unwrap(),
        offer.pictures[0].1
    );
    assert!(!out.join("777777/02.png").exists());
    assert!(no_part_files(&out));
    assert_eq!(mock.requests("/cdn/"), 2 + 4, "one retry, then four tries");
}

#[tokio::test]
async fn zip_writes_one_archive_per_offer_and_a_second_run_skips_it() {
    let offers = [TestOffer::new("888888", 3), TestOffer::new("999999", 2)];
    let mock = start(catalogue(&offers), MockOptions::default()).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let mut zip_options = options(&out);
    zip_options.zip = true;
    let items: Vec<ItemId> = offers.iter().map(TestOffer::item).collect();

    let summary = download::run(&context(&mock, None), items.clone(), &zip_options, quiet())
        .await
        .unwrap();
    assert!(!summary.failed(), "{summary:?}");
    let names: Vec<String> = files_under(&out).into_keys().collect();
    assert_eq!(names, ["888888.zip", "999999.zip", MANIFEST_FILE]);
    assert_eq!(
        download::archive::read_entries(&out.join("888888.zip"))
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>(),
        ["01.jpg", "02.png", "03.webp"]
    );
    let records = manifest::read_all(&out.join(MANIFEST_FILE)).unwrap();
    assert!(records
        .iter()
        .all(|r| r.file.as_deref().is_some_and(|f| f.ends_with(".zip")) && r.entry.is_some()));

    let cdn = mock.requests("/cdn/");
    let again = download::run(&context(&mock, None), items, &zip_options, quiet())
        .await
        .unwrap();
    assert_eq!(again.pictures_present, 5);
    assert_eq!(mock.requests("/cdn/"), cdn);
}

// ---------------------------------------------------------------------------------------------
// The command line

/// `descview` with an environment of its own: every directory in `home`, the token, and the
/// API base.
fn descview(home: &Path, api_base: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_descview"));
    command
        .env_clear()
        .env("HOME", home)
        .env("DESCVIEW_CONFIG_DIR", home.join("config"))
        .env("DESCVIEW_DATA_DIR", home.join("data"))
        .env("DESCVIEW_STATE_DIR", home.join("state"))
        .env("DESCVIEW_CACHE_DIR", home.join("cache"))
        .env("TMAPI_TOKEN", TOKEN)
        .env("TMAPI_BASE", api_base);
    command
}

/// A stand-in for pictures, and one for the API whose answers list the first one's URLs, so
/// that the command fetches them with no routing.
async fn two_stand_ins(offers: &[TestOffer]) -> (MockHandle, MockHandle) {
    let mut pictures = Catalogue::empty();
    for offer in offers {
        for (url, bytes) in &offer.pictures {
            pictures.add_picture(url, bytes.clone());
        }
    }
    let cdn = start(pictures, MockOptions::default()).await;
    let mut answers = Catalogue::empty();
    for offer in offers {
        let urls: Vec<String> = offer
            .pictures
            .iter()
            .map(|(url, _)| cdn.cdn_url(url).unwrap().to_string())
            .collect();
        let body = json!({
            "code": 200, "msg": "success",
            "data": { "item_id": offer.id, "detail_imgs": urls, "detail_html": "" },
        });
        answers.add_offer(offer.id, "test", OfferAnswer::Body(body));
    }
    let api = start(answers, MockOptions::default()).await;
    (cdn, api)
}

/// Runs descview off the async runtime (the stand-ins answer on it) and returns its output
/// with its stderr as text.
async fn run_cli(mut command: Command) -> (std::process::Output, String) {
    let output = tokio::task::spawn_blocking(move || command.output().expect("descview runs"))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_command_reads_a_list_and_a_second_run_costs_nothing() {
    let offers = [TestOffer::new("121212", 3), TestOffer::new("343434", 2)];
    let (cdn, api) = two_stand_ins(&offers).await;
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("pictures");
    let list = home.path().join("offers.txt");
    std::fs::write(
        &list,
        // Saved by Notepad: a byte-order mark, CRLF line ends.
        "\u{feff}121212\r\n# offers\r\nhttps://detail.1688.com/offer/343434.html\r\n",
    )
    .unwrap();

    let mut command = descview(home.path(), api.api_base().as_str());
    command
        .args(["download", "--from"])
        .arg(&list)
        .arg("--out")
        .arg(&out);
    let (first, stderr) = run_cli(command).await;
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("offer 121212: 3 saved"),
        "plain lines when piped: {stderr}"
    );
    assert!(stderr.contains("5 pictures saved"), "{stderr}");
    assert_eq!(api.requests("/1688/item_desc"), 2);
    assert_eq!(cdn.requests("/cdn/"), 5);
    assert_manifest_matches_files(&out);

    // Again, with one bad line and an offer the store already holds: no API call, no
    // picture fetched, exit status 1 for the bad line.
    std::fs::write(&list, "121212\nnot-an-offer\n").unwrap();
    let mut command = descview(home.path(), api.api_base().as_str());
    command
        .args(["download", "343434", "--from"])
        .arg(&list)
        .arg("--out")
        .arg(&out);
    let (second, stderr) = run_cli(command).await;
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("5 already there"), "{stderr}");
    assert!(
        stderr.contains("not offers: 1 line of the list"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("run again"),
        "nothing failed to retry: {stderr}"
    );
    assert_eq!(api.requests("/1688/item_desc"), 2);
    assert_eq!(cdn.requests("/cdn/"), 5);

    // A list with no offer at all is bad input: exit 2, and no folder made.
    let empty_out = home.path().join("nothing");
    let mut command = descview(home.path(), api.api_base().as_str());
    command
        .args(["download", "--from", "-", "--out"])
        .arg(&empty_out)
        .stdin(std::process::Stdio::piped());
    let third = tokio::task::spawn_blocking(move || {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"hello\nfoo\n").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert_eq!(third.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("standard input line 1"), "{stderr}");
    assert!(stderr.contains("no line of standard input"), "{stderr}");
    assert!(!empty_out.exists());

    // Among many offers on the command line, the wrong one is named.
    let mut command = descview(home.path(), api.api_base().as_str());
    command
        .args(["download", "121212", "hello", "--out"])
        .arg(&out);
    let (fourth, stderr) = run_cli(command).await;
    assert_eq!(fourth.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"hello\""), "{stderr}");
    assert_eq!(api.requests("/1688/item_desc"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_download_of_an_unknown_offer_says_so_and_calls_nothing() {
    let offers = [TestOffer::new("565656", 1)];
    let (_cdn, api) = two_stand_ins(&offers).await;
    let home = tempfile::tempdir().unwrap();
    let out: PathBuf = home.path().join("out");
    let mut command = descview(home.path(), api.api_base().as_str());
    command
        .args(["--offline", "download", "565656", "--out"])
        .arg(&out);
    let (output, stderr) = run_cli(command).await;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not in the local store"), "{stderr}");
    assert_eq!(api.requests(""), 0);
}

#[tokio::test]
async fn a_second_run_into_a_folder_in_use_is_refused_and_touches_nothing() {
    let offers = [TestOffer::new("333333", 2)];
    let mock = start(catalogue(&offers), MockOptions::default()).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let items: Vec<ItemId> = offers.iter().map(TestOffer::item).collect();
    download::run(
        &context(&mock, None),
        items.clone(),
        &options(&out),
        quiet(),
    )
    .await
    .unwrap();
    let before = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let calls = mock.requests("/1688/item_desc");

    // Another run holds the folder (as a running `descview download` does).
    let other = std::fs::File::open(&out).unwrap();
    other.lock().unwrap();
    let error = download::run(
        &context(&mock, None),
        items.clone(),
        &options(&out),
        quiet(),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("another descview download"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.jsonl")).unwrap(),
        before,
        "the manifest is left alone"
    );
    assert_eq!(mock.requests("/1688/item_desc"), calls, "no call made");

    // Once it ends, the folder is free again.
    drop(other);
    let summary = download::run(&context(&mock, None), items, &options(&out), quiet())
        .await
        .unwrap();
    assert_eq!(summary.pictures_present, 2);
}

#[tokio::test]
async fn zip_with_a_missing_picture_says_no_zip_yet_and_keeps_the_others_loose() {
    let offer = TestOffer::new("454545", 3);
    let gone = offer.pictures[1].0.clone();
    let options_with_404 = MockOptions::default().with_faults(
        FaultTarget::Picture(gone),
        [Fault::Status {
            status: 404,
            retry_after: None,
        }],
    );
    let mock = start(catalogue(std::slice::from_ref(&offer)), options_with_404).await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let mut opts = options(&out);
    opts.zip = true;
    let summary = download::run(&context(&mock, None), vec![offer.item()], &opts, quiet())
        .await
        .unwrap();
    assert!(summary.failed());
    assert_eq!(summary.pictures_failed, 1);
    assert!(
        summary
            .failures
            .iter()
            .any(|line| line.contains("454545: no zip yet, as 1 picture failed")),
        "{:?}",
        summary.failures
    );
    assert!(!out.join("454545.zip").exists());
    let names: BTreeSet<String> = files_under(&out).into_keys().collect();
    assert!(
        names.contains("454545/01.jpg") && names.contains("454545/03.webp"),
        "{names:?}"
    );
    assert_manifest_matches_files(&out);
}
