//! The handed network cases N1 to N5, each one test, against servers on 127.0.0.1.
//!
//! N1 runs the real binary and reads everything it leaves behind; the others drive the
//! library's client, fetcher and downloader against the stand-in (`descview::mock`) and its
//! faults, or against a bare TCP listener where the fault is below HTTP. Request counts are
//! taken on the server's side. Timeouts are shortened through the configuration; the only
//! timed assertions are generous "it does not hang" limits and lower limits on waits that a
//! sleep guarantees.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use descview::download::{self, BatchContext, BatchOptions, RetrySettings};
use descview::media::{FetchConfig, FetchStage, Fetcher, MediaError};
use descview::mock::{self, Catalogue, Fault, FaultTarget, MockOptions, OfferAnswer};
use descview::text::has_unsafe_chars;
use descview::tmapi::{ApiError, Client, ClientConfig, Stage};
use serde_json::json;

#[path = "support/client.rs"]
mod client;
use client::{call, item, quick_config, DOES_NOT_HANG};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "SECRET-TOKEN-123";
const ITEM: &str = "652702302959";
const API: &str = "/1688/item_desc";

#[cfg(unix)]
#[path = "support/pty.rs"]
mod pty;

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn picture_url(n: usize) -> String {
    format!("https://cbu01.alicdn.com/img/ibank/O1CN01case{n:03}_!!2-0-cib.png")
}

fn success_body(id: &str, pictures: &[String]) -> serde_json::Value {
    let html: String = pictures
        .iter()
        .map(|url| format!("<p><img src=\"{url}\"/></p>"))
        .collect();
    json!({
        "code": 200,
        "msg": "success",
        "data": { "item_id": id, "detail_imgs": pictures, "detail_html": html },
    })
}

/// A small PNG made here (2x2 pixels).
fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(2, 2, image::Rgb([200, 30, 60]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("a png encodes");
    bytes
}

/// The client's configuration for `base`, with short waits.
fn config(base: url::Url) -> ClientConfig {
    quick_config(base, SECRET)
}

// ---------------------------------------------------------------------------------------------
// N1 the token never leaks

/// The offers of the N1 stand-in, each failing its own way.
const N1_NOT_FOUND: &str = "100000000404";
const N1_INTERNAL: &str = "100000000500";
const N1_SILENT: &str = "100000000001";
const N1_NOT_JSON: &str = "100000000002";

/// Runs `descview get ITEM` with the token, tracing on and a log file, in a home of its own;
/// returns what it printed.
fn run_get(home: &Path, log_file: &Path, base: &str, item: &str, auth: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descview"))
        .args(["get", item, "--api-base", base, "--auth", auth])
        .arg("--log-file")
        .arg(log_file)
        // A short limit for the server that never answers; the default is 60 s.
        .args(["--api-timeout", "1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("TMAPI_TOKEN", SECRET)
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs")
}

/// Runs the browser on a pseudo-terminal with the token, opens `item`, waits for the failure
/// to be shown, quits, and returns everything written to the terminal.
#[cfg(unix)]
fn browser_screen(home: &Path, log_file: &Path, base: &str, item: &str) -> String {
    let log = log_file.display().to_string();
    let args = [
        "--api-base",
        base,
        "--api-timeout",
        "1",
        "--log-file",
        &log,
        item,
    ];
    let home_text = home.display().to_string();
    let dirs = [
        ("HOME", home_text.clone()),
        ("DESCVIEW_CONFIG_DIR", format!("{home_text}/config")),
        ("DESCVIEW_DATA_DIR", format!("{home_text}/data")),
        ("DESCVIEW_STATE_DIR", format!("{home_text}/state")),
        ("DESCVIEW_CACHE_DIR", format!("{home_text}/cache")),
        ("TMAPI_TOKEN", SECRET.to_string()),
        ("RUST_LOG", "trace".to_string()),
    ];
    let env: Vec<(&str, &str)> = dirs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut terminal = pty::Pty::spawn_with_env(&args, &env, 140, 40);
    terminal.wait_for("the failure on screen", "The fetch failed");
    terminal.send(b"\x03");
    let status = terminal.wait_exit();
    assert!(status.success(), "the browser exits cleanly: {status:?}");
    terminal.text()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn assert_no_token(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(SECRET), "{what} holds the token:\n{text}");
    // A server that echoes the request may show the parameter's name; its value must be
    // the redaction mark.
    let echoed = text.replace("apiToken=***", "");
    assert!(
        !echoed.contains("apiToken="),
        "{what} holds the query:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn n1_the_token_never_leaks() {
    let echo_page =
        format!("<html>\u{1b}]0;owned\u{7}maintenance, you sent apiToken={SECRET}</html>");
    let options = MockOptions::default()
        .with_token(SECRET)
        .with_faults(
            FaultTarget::Offer(N1_NOT_FOUND.into()),
            [Fault::Canned {
                status: 404,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"detail":"Not Found"}"#.to_vec(),
            }],
        )
        .with_faults(FaultTarget::Offer(N1_INTERNAL.into()), [Fault::status(500)])
        .with_faults(FaultTarget::Offer(N1_SILENT.into()), [Fault::Stall])
        .with_faults(
            FaultTarget::Offer(N1_NOT_JSON.into()),
            [Fault::Canned {
                status: 200,
                headers: vec![("content-type".into(), "text/html".into())],
                body: echo_page.into_bytes(),
            }],
        );
    let stand_in = mock::start(loopback(), Catalogue::empty(), options)
        .await
        .expect("the stand-in starts");
    let refused = {
        let listener = std::net::TcpListener::bind(loopback()).expect("a free port");
        let addr = listener.local_addr().expect("its address");
        drop(listener);
        format!("http://{addr}")
    };
    let base = stand_in.api_base().to_string();
    let cases = [
        ("connection refused", refused.as_str(), ITEM),
        ("404", base.as_str(), N1_NOT_FOUND),
        ("500", base.as_str(), N1_INTERNAL),
        ("never answers", base.as_str(), N1_SILENT),
        ("200 not json", base.as_str(), N1_NOT_JSON),
    ];
    let home = tempfile::tempdir().expect("a temporary home");
    let log_file = home.path().join("logs").join("descview.log");

    for (case, base, offer) in cases {
        for auth in ["query", "header"] {
            let (home_path, log_path, run_base, run_offer) = (
                home.path().to_path_buf(),
                log_file.clone(),
                base.to_string(),
                offer.to_string(),
            );
            let output = tokio::task::spawn_blocking(move || {
                run_get(&home_path, &log_path, &run_base, &run_offer, auth)
            })
            .await
            .expect("the run ends");
            let what = format!("{case} ({auth})");
            let stderr = String::from_utf8_lossy(&output.stderr);

            // A one-line error, exit status 1: no panic, which would print more.
            assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
            assert!(!has_unsafe_chars(stderr.trim_end()), "{what}: {stderr:?}");
            assert_no_token(&format!("{what} stderr"), &output.stderr);
            assert_no_token(&format!("{what} stdout"), &output.stdout);
            // Errors name the endpoint's host and the offer, not the URL.
            assert!(!stderr.contains("/1688/item_desc?"), "{what}: {stderr}");
            if case != "404" {
                assert!(
                    stderr.contains(offer),
                    "{what} does not name the offer: {stderr}"
                );
            }
        }
    }

    // The screen: the browser on a terminal of its own over the same failure paths.
    #[cfg(unix)]
    for (case, base, offer) in cases {
        let (home_path, log_path) = (home.path().to_path_buf(), log_file.clone());
        let (base, offer) = (base.to_string(), offer.to_string());
        let screen = tokio::task::spawn_blocking(move || {
            browser_screen(&home_path, &log_path, &base, &offer)
        })
        .await
        .expect("the browser run ends");
        assert_no_token(&format!("{case}: the screen"), screen.as_bytes());
    }

    let log = std::fs::read(&log_file).expect("the log file was written");
    assert!(
        String::from_utf8_lossy(&log).contains(ITEM),
        "the calls were not logged"
    );
    for file in files_under(home.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert_no_token(&file.display().to_string(), &bytes);
    }
    assert!(stand_in.requests(API) >= 8, "the stand-in was not asked");
}

// ---------------------------------------------------------------------------------------------
// N2 a server that stalls

/// Accepts connections and holds them without reading or writing a byte.
async fn silent_listener() -> (url::Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(loopback()).await.expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.lock().expect("not poisoned").push(stream);
        }
    });
    let base = url::Url::parse(&format!("http://{addr}")).expect("a url");
    (base, accepted)
}

/// A listener whose accept queue is full, so that the kernel drops further connection
/// attempts unanswered: from the client's side, a host that never completes the handshake.
/// Returns its base, the listener and the connections that fill its queue (keep them all).
#[cfg(target_os = "linux")]
async fn unreachable_listener() -> (url::Url, TcpListener, Vec<TcpStream>) {
    use tokio::net::TcpSocket;

    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(loopback()).expect("a free port");
    let addr = socket.local_addr().expect("its address");
    let listener = socket.listen(0).expect("listening");
    let mut fillers = Vec::new();
    // Connect until a handshake no longer completes: the queue is full.
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    let base = url::Url::parse(&format!("http://{addr}")).expect("a url");
    (base, listener, fillers)
}

#[tokio::test]
async fn n2_a_server_that_stalls() {
    // Accepts and never answers: the call ends at its deadline, once, naming the stage.
    let (silent, accepted) = silent_listener().await;
    let mut short = config(silent);
    short.timeout = Duration::from_secs(1);
    short.deadline = Duration::from_secs(1);
    let started = Instant::now();
    let error = call(short, ITEM).await.expect_err("nothing answers");
    assert!(
        matches!(
            error,
            ApiError::Timeout {
                stage: Stage::WaitingForAnswer,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("timed out after 1 s waiting for the answer"),
        "{error}"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "no retry after the deadline"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // Headers, then one byte every 10 s: the body is cut off at the deadline, not at 10 s a
    // byte; the same for a picture and the whole-request limit.
    let trickle = [Fault::Trickle(Duration::from_secs(10))];
    let options = MockOptions::default()
        .with_token(SECRET)
        .with_faults(FaultTarget::AnyOffer, trickle.clone())
        .with_faults(FaultTarget::AnyPicture, trickle);
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(
        ITEM,
        "an offer",
        OfferAnswer::Body(success_body(ITEM, &[picture_url(1)])),
    );
    catalogue.add_picture(&picture_url(1), png());
    let stand_in = mock::start(loopback(), catalogue, options)
        .await
        .expect("starts");
    let mut short = config(stand_in.api_base());
    short.deadline = Duration::from_secs(2);
    let error = call(short, ITEM)
        .await
        .expect_err("the body never completes");
    assert!(
        matches!(
            error,
            ApiError::Timeout {
                stage: Stage::ReadingAnswer,
                after,
                ..
            } if after == Duration::from_secs(2)
        ),
        "{error:?}"
    );
    assert_eq!(stand_in.requests(API), 1);
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(stand_in.cdn_base()),
        timeout: Duration::from_secs(2),
        ..FetchConfig::default()
    })
    .expect("the fetcher builds");
    let error = tokio::time::timeout(DOES_NOT_HANG, fetcher.fetch(&picture_url(1)))
        .await
        .expect("the fetch ends")
        .expect_err("the picture never completes");
    assert_eq!(
        error,
        MediaError::Timeout {
            host: "cbu01.alicdn.com".into(),
            stage: FetchStage::Read
        }
    );

    // A host that never completes the handshake: the connect timeout, retried within the
    // deadline, then reported as such; a picture host likewise, at its own connect limit.
    // Only Linux is known to drop connection attempts to a full accept queue unanswered.
    #[cfg(target_os = "linux")]
    {
        let (unreachable, _listener, _fillers) = unreachable_listener().await;
        n2_connect_timeouts(unreachable).await;
    }

    // A name that does not resolve (`.invalid` never does, RFC 2606): said so, not retried.
    let nowhere = url::Url::parse("http://descview-n2.invalid").expect("a url");
    let error = call(config(nowhere), ITEM).await.expect_err("no such host");
    assert_eq!(
        error,
        ApiError::Dns {
            item: item(ITEM),
            host: "descview-n2.invalid".into()
        }
    );
    assert!(
        error
            .to_string()
            .contains("could not resolve descview-n2.invalid"),
        "{error}"
    );
}

/// N2's connection attempts to `unreachable`, which never completes a handshake.
#[cfg(target_os = "linux")]
async fn n2_connect_timeouts(unreachable: url::Url) {
    let mut short = config(unreachable.clone());
    short.connect_timeout = Duration::from_millis(500);
    short.timeout = Duration::from_millis(1200);
    short.deadline = Duration::from_millis(1200);
    let error = call(short, ITEM).await.expect_err("no connection");
    assert!(
        matches!(error, ApiError::ConnectTimeout { after, .. } if after == Duration::from_millis(500)),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("no connection to 127.0.0.1:"),
        "{error}"
    );

    let fetcher = Fetcher::new(FetchConfig {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
        ..FetchConfig::default()
    })
    .expect("the fetcher builds");
    let picture = unreachable.join("p.png?sig=abc").expect("a url");
    let error = tokio::time::timeout(DOES_NOT_HANG, fetcher.fetch(picture.as_str()))
        .await
        .expect("the fetch ends")
        .expect_err("no connection");
    assert_eq!(
        error,
        MediaError::Timeout {
            host: "127.0.0.1".into(),
            stage: FetchStage::Connect
        }
    );
    assert!(
        error.to_string().contains("timed out while connecting"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// N3 the documented error statuses

#[tokio::test]
async fn n3_the_documented_error_statuses() {
    // Status, requests the client may send for it (retried or not), and its own message.
    let statuses = [
        (417, 4, "the API failed to retrieve data (417): try again"),
        (422, 1, "parameter error (422): check the offer ID"),
        (
            439,
            1,
            "the subscription has expired or the balance is too low (439): top up in the TMAPI console",
        ),
        (499, 4, "the API timed out on its side (499): try again"),
        (500, 1, "unexpected error on the API side (500): contact TMAPI support"),
        (503, 4, "too many requests at once (503): reduce concurrency"),
    ];
    for (status, requests, message) in statuses {
        let with_json = Fault::status(status);
        let empty = Fault::Canned {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        };
        for fault in [with_json, empty] {
            let options = MockOptions::default()
                .with_token(SECRET)
                .with_faults(FaultTarget::AnyOffer, [fault.clone()]);
            let stand_in = mock::start(loopback(), Catalogue::empty(), options)
                .await
                .expect("starts");

            let error = call(config(stand_in.api_base()), ITEM)
                .await
                .expect_err("an error status");

            assert!(error.to_string().contains(message), "{fault:?}: {error}");
            assert_eq!(stand_in.requests(API), requests, "{fault:?}");
        }
    }

    // A 200 whose body says 439, and a 404 from something that is not the API.
    let in_body = Fault::Canned {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"code":439,"msg":"Subscription expired or insufficient balance.","data":null}"#
            .to_vec(),
    };
    let not_found = Fault::Canned {
        status: 404,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"detail":"Not Found"}"#.to_vec(),
    };
    for (fault, expected) in [
        (
            in_body,
            "the subscription has expired or the balance is too low (439)",
        ),
        (not_found, "has no item_desc endpoint (404): wrong API base"),
    ] {
        let options = MockOptions::default()
            .with_token(SECRET)
            .with_faults(FaultTarget::AnyOffer, [fault]);
        let stand_in = mock::start(loopback(), Catalogue::empty(), options)
            .await
            .expect("starts");
        let error = call(config(stand_in.api_base()), ITEM)
            .await
            .expect_err("an error");
        assert!(error.to_string().contains(expected), "{error}");
        assert_eq!(stand_in.requests(API), 1);
    }

    // Retry-After is honoured: the retry comes no sooner than asked (a sleep never ends
    // early), and then the answer is read.
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(ITEM, "an offer", OfferAnswer::Body(success_body(ITEM, &[])));
    let options = MockOptions::default().with_token(SECRET).with_faults(
        FaultTarget::AnyOffer,
        [Fault::status_retry_after(503, 1), Fault::None],
    );
    let stand_in = mock::start(loopback(), catalogue, options)
        .await
        .expect("starts");
    let started = Instant::now();
    call(config(stand_in.api_base()), ITEM)
        .await
        .expect("the retry answers");
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(stand_in.requests(API), 2);
}

// ---------------------------------------------------------------------------------------------
// N4 overload while downloading

#[tokio::test(flavor = "multi_thread")]
async fn n4_overload_while_downloading() {
    const PICTURES: usize = 60;
    let urls: Vec<String> = (1..=PICTURES).map(picture_url).collect();
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(
        ITEM,
        "sixty pictures",
        OfferAnswer::Body(success_body(ITEM, &urls)),
    );
    for url in &urls {
        catalogue.add_picture(url, png());
    }
    let options = MockOptions::default()
        .with_token(SECRET)
        .with_faults(FaultTarget::AnyPicture, [Fault::status(503)]);
    let stand_in = mock::start(loopback(), catalogue, options)
        .await
        .expect("starts");
    let context = BatchContext {
        client: Client::new(config(stand_in.api_base())).expect("a client"),
        fetcher: Fetcher::new(FetchConfig {
            cdn_route: Some(stand_in.cdn_base()),
            timeout: Duration::from_secs(5),
            ..FetchConfig::default()
        })
        .expect("a fetcher"),
        store: None,
        scope: "n4".into(),
    };
    let out = tempfile::tempdir().expect("an output folder");
    let mut options = BatchOptions::new(out.path().to_path_buf());
    options.retry = RetrySettings {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
    };
    let jobs = options.jobs;

    let summary = tokio::time::timeout(
        Duration::from_secs(120),
        download::run(&context, vec![item(ITEM)], &options, Arc::new(|_| {})),
    )
    .await
    .expect("the download ends")
    .expect("the run starts");

    // Bounded: at most four requests per picture, a few at a time.
    let requests = stand_in.requests("/cdn/");
    assert!(
        (PICTURES..=4 * PICTURES).contains(&requests),
        "{requests} picture requests"
    );
    let peak = stand_in.peak_in_flight("/cdn/");
    println!("n4: {requests} picture requests, at most {peak} at once");
    assert!(
        (1..=jobs).contains(&peak),
        "{peak} picture requests at once"
    );
    // A clear summary of what failed.
    assert_eq!(summary.pictures_failed, PICTURES);
    assert_eq!(summary.pictures_saved, 0);
    assert!(summary.failed());
    let text = download::progress::summary_text(&summary);
    assert!(text.contains("60 failed"), "{text}");
    assert!(text.contains("503"), "{text}");
    // Nothing half-written under a final name, and no leftovers either.
    let offer_dir = out.path().join(ITEM);
    let left: Vec<PathBuf> = files_under(&offer_dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// N5 compressed answers

#[tokio::test]
async fn n5_compressed_answers() {
    let url = picture_url(7);
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(
        ITEM,
        "an offer",
        OfferAnswer::Body(success_body(ITEM, std::slice::from_ref(&url))),
    );
    catalogue.add_picture(&url, png());
    let options = MockOptions::default()
        .with_token(SECRET)
        .with_faults(FaultTarget::AnyOffer, [Fault::Gzip])
        .with_faults(FaultTarget::AnyPicture, [Fault::Gzip]);
    let stand_in = mock::start(loopback(), catalogue, options)
        .await
        .expect("starts");

    // The stand-in compresses whether or not the request asks for it.
    let plain = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_proxy()
        .build()
        .expect("a client");
    let mut raw = stand_in.api_base().join("1688/item_desc").expect("a path");
    raw.set_query(Some(&format!("item_id={ITEM}&apiToken={SECRET}")));
    let answer = plain.get(raw).send().await.expect("an answer");
    assert_eq!(answer.headers()["content-encoding"], "gzip");

    // The JSON parses.
    let desc = call(config(stand_in.api_base()), ITEM)
        .await
        .expect("the answer parses");
    assert_eq!(desc.detail_imgs, std::slice::from_ref(&url));

    // The saved picture is the decoded bytes.
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(stand_in.cdn_base()),
        ..FetchConfig::default()
    })
    .expect("a fetcher");
    let out = tempfile::tempdir().expect("an output folder");
    let saved = download::save_picture(&fetcher, None, out.path(), &item(ITEM), 1, 1, &url)
        .await
        .expect("saved");
    let bytes = std::fs::read(&saved.path).expect("the saved file");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{:?}",
        bytes.get(..8)
    );
    assert_eq!(bytes, png());
}

/// N2 in the browser: while the API stalls, the browser keeps taking keys, Esc cancels the
/// fetch at once, and quitting does not wait for the stalled call.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn n2_the_browser_stays_usable_and_esc_cancels() {
    let (base, accepted) = silent_listener().await;
    let home = tempfile::tempdir().expect("a temporary home");
    let home_text = home.path().display().to_string();
    let screen = tokio::task::spawn_blocking(move || {
        let env = [
            ("HOME", home_text.clone()),
            ("DESCVIEW_CONFIG_DIR", format!("{home_text}/config")),
            ("DESCVIEW_DATA_DIR", format!("{home_text}/data")),
            ("DESCVIEW_STATE_DIR", format!("{home_text}/state")),
            ("DESCVIEW_CACHE_DIR", format!("{home_text}/cache")),
            ("TMAPI_TOKEN", "test-token".to_string()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let base = base.to_string();
        let mut terminal = pty::Pty::spawn_with_env(&["--api-base", &base, ITEM], &env, 120, 30);
        terminal.wait_for("the fetch to run", "fetching");
        // Keys still work while the call hangs; then Ctrl-U empties the line and `?` opens the
        // help.
        terminal.send(b"\x1b");
        terminal.wait_for_screen("the cancel", "cancelled");
        terminal.send(b"\x15?");
        terminal.wait_for_screen("the help", "copy the selected picture's URL");
        terminal.send(b"x");
        let asked = Instant::now();
        terminal.send(b"\x03");
        let status = terminal.wait_exit();
        assert!(status.success(), "{status:?}");
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "quitting did not wait for the API"
        );
        terminal.text()
    })
    .await
    .expect("the browser run ends");
    assert!(screen.contains("cancelled"));
    assert!(accepted.load(Ordering::SeqCst) >= 1, "the call was made");
}
