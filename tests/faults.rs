//! The API client and the picture fetcher against the stand-in's faults, over loopback.
//!
//! Each test starts `descview::mock` with a [`Fault`] sequence (or its concurrency limit) and
//! checks what the user gets and, on the server's side, how many requests were sent: retries
//! are checked by count, never by time. Timeouts are a second or two here (the defaults are
//! 10, 30 and 60 s), and the only timed assertions are generous "it does not hang" limits and
//! lower limits on waits that a sleep guarantees.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use descview::media::{FetchConfig, FetchStage, Fetcher, Format, MediaError};
use descview::mock::{self, Catalogue, Fault, FaultTarget, MockHandle, MockOptions, OfferAnswer};
use descview::tmapi::{ApiError, ClientConfig, Stage};
use serde_json::json;

#[path = "support/client.rs"]
mod client;
use client::{call, item, quick_config, DOES_NOT_HANG};

const TOKEN: &str = "test-token";
const ITEM: &str = "652702302959";
const OTHER_ITEM: &str = "622619146604";
const API: &str = "/1688/item_desc";
const PICTURE: &str = "https://cbu01.alicdn.com/img/ibank/O1CN01fault_!!1-0-cib.png";

fn success_body(id: &str) -> serde_json::Value {
    json!({
        "code": 200,
        "msg": "success",
        "data": {
            "item_id": id,
            "detail_imgs": [PICTURE],
            "detail_html": format!("<p><img src=\"{PICTURE}\"/></p>"),
        },
    })
}

/// A small PNG, made here: 2x2 pixels.
fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(2, 2, image::Rgb([10, 20, 30]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("a png encodes");
    bytes
}

fn catalogue() -> Catalogue {
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(ITEM, "a cup", OfferAnswer::Body(success_body(ITEM)));
    catalogue.add_offer(
        OTHER_ITEM,
        "a plate",
        OfferAnswer::Body(success_body(OTHER_ITEM)),
    );
    catalogue.add_picture(PICTURE, png());
    catalogue
}

async fn start(options: MockOptions) -> MockHandle {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    mock::start(loopback, catalogue(), options.with_token(TOKEN))
        .await
        .expect("the stand-in starts")
}

/// The client's configuration for the stand-in, with short waits.
fn config(mock: &MockHandle) -> ClientConfig {
    quick_config(mock.api_base(), TOKEN)
}

fn fetcher(mock: &MockHandle) -> Fetcher {
    Fetcher::new(FetchConfig {
        cdn_route: Some(mock.cdn_base()),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        ..FetchConfig::default()
    })
    .expect("the fetcher builds")
}

async fn fetch(fetcher: &Fetcher, url: &str) -> Result<descview::media::Fetched, MediaError> {
    tokio::time::timeout(DOES_NOT_HANG, fetcher.fetch(url))
        .await
        .expect("the fetch ends")
}

// ---------------------------------------------------------------------------------------------
// Statuses, sequences and Retry-After

#[tokio::test]
async fn a_503_503_200_sequence_ends_in_the_answer_after_three_requests() {
    let faults = [Fault::status(503), Fault::status(503), Fault::None];
    let mock =
        start(MockOptions::default().with_faults(FaultTarget::Offer(ITEM.into()), faults)).await;

    let desc = call(config(&mock), ITEM)
        .await
        .expect("the third try answers");

    assert_eq!(desc.detail_imgs, [PICTURE]);
    assert_eq!(mock.requests(API), 3);
}

#[tokio::test]
async fn transient_statuses_get_four_requests_and_lasting_ones_one() {
    let cases = [
        (417, 4, "failed to retrieve data (417)"),
        (499, 4, "timed out on its side (499)"),
        (503, 4, "too many requests at once (503)"),
        (422, 1, "parameter error (422)"),
        (439, 1, "balance is too low (439)"),
        (500, 1, "unexpected error on the API side (500)"),
    ];
    for (status, requests, message) in cases {
        let options =
            MockOptions::default().with_faults(FaultTarget::AnyOffer, [Fault::status(status)]);
        let mock = start(options).await;

        let error = call(config(&mock), ITEM)
            .await
            .expect_err("an error status");

        assert!(error.to_string().contains(message), "{status}: {error}");
        assert_eq!(mock.requests(API), requests, "{status}");
    }
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let faults = [Fault::status_retry_after(503, 1), Fault::None];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, faults)).await;
    let started = Instant::now();

    call(config(&mock), ITEM).await.expect("the retry answers");

    // A sleep never ends early; without Retry-After the backoff here is at most 10 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(mock.requests(API), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_cut_to_the_cap() {
    let faults = [Fault::status_retry_after(503, 86_400), Fault::None];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, faults)).await;
    let mut config = config(&mock);
    config.retry.retry_after_cap = Duration::from_millis(300);

    call(config, ITEM).await.expect("the retry answers");

    assert_eq!(mock.requests(API), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_gives_the_503_at_once() {
    let faults = [Fault::status_retry_after(503, 2), Fault::None];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, faults)).await;
    let mut config = config(&mock);
    config.deadline = Duration::from_millis(1500);

    let error = call(config, ITEM).await.expect_err("no time for the retry");

    assert_eq!(error, ApiError::TooManyRequests);
    assert_eq!(mock.requests(API), 1);
}

#[tokio::test]
async fn an_error_status_with_an_empty_body_still_gets_its_message() {
    let empty_503 = Fault::Canned {
        status: 503,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [empty_503])).await;

    let error = call(config(&mock), ITEM).await.expect_err("503");

    assert_eq!(error, ApiError::TooManyRequests);
    assert_eq!(mock.requests(API), 4);
}

#[tokio::test]
async fn what_a_server_says_reaches_the_user_only_made_safe() {
    // An undocumented status whose message carries escape sequences, a bidi override and the
    // token (as a server echoing the request would).
    let msg = format!("\u{1b}]0;owned\u{7}\u{1b}[2J tea\u{202e}pot {TOKEN} \u{9b}31m");
    let teapot = Fault::Canned {
        status: 418,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({ "code": 418, "msg": msg }).to_string().into_bytes(),
    };
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [teapot])).await;

    let error = call(config(&mock), ITEM).await.expect_err("418");

    let shown = error.to_string();
    assert!(!descview::text::has_unsafe_chars(&shown), "{shown:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(
        shown.contains("status 418 (␛]0;owned␇␛[2J tea[U+202E]pot *** [U+009B]31m)"),
        "{shown}"
    );
    assert_eq!(mock.requests(API), 1);
}

// ---------------------------------------------------------------------------------------------
// The concurrency limit

#[tokio::test]
async fn calls_beyond_the_concurrency_limit_are_answered_503() {
    // One call stalls and holds the only slot; every other call is turned away.
    let options = MockOptions::default()
        .with_concurrency_limit(1, None)
        .with_faults(FaultTarget::Offer(OTHER_ITEM.into()), [Fault::Stall]);
    let mock = start(options).await;
    let mut holder_config = config(&mock);
    holder_config.retry.max_retries = 0;
    let holder = tokio::spawn(call(holder_config, OTHER_ITEM));
    wait_for_requests(&mock, API, 1).await;

    let mut once = config(&mock);
    once.retry.max_retries = 0;
    let error = call(once, ITEM).await.expect_err("beyond the limit");
    assert_eq!(error, ApiError::TooManyRequests);
    assert_eq!(mock.requests(API), 2);

    let error = call(config(&mock), ITEM)
        .await
        .expect_err("still beyond the limit");
    assert_eq!(error, ApiError::TooManyRequests);
    assert_eq!(mock.requests(API), 2 + 4, "three retries, no more");
    assert_eq!(mock.peak_in_flight(API), 2);

    holder.abort();
}

#[tokio::test]
async fn the_limit_lets_calls_through_once_a_slot_is_free() {
    let options = MockOptions::default().with_concurrency_limit(1, Some(1));
    let mock = start(options).await;

    for id in [ITEM, OTHER_ITEM, ITEM] {
        call(config(&mock), id)
            .await
            .expect("one at a time is within the limit");
    }

    assert_eq!(mock.requests(API), 3);
    assert_eq!(mock.peak_in_flight(API), 1);
}

async fn wait_for_requests(mock: &MockHandle, path: &str, count: usize) {
    let started = Instant::now();
    while mock.requests(path) < count {
        assert!(
            started.elapsed() < DOES_NOT_HANG,
            "the request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Slow, stalled and broken answers, and the call's deadline

#[tokio::test]
async fn a_delay_within_the_limits_is_only_slow() {
    let faults = [Fault::Delay(Duration::from_millis(200))];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, faults)).await;

    call(config(&mock), ITEM)
        .await
        .expect("a slow answer is an answer");

    assert_eq!(mock.requests(API), 1);
}

#[tokio::test]
async fn a_stalled_call_ends_at_the_deadline_after_one_request() {
    let mock =
        start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [Fault::Stall])).await;
    let mut config = config(&mock);
    // As in real use, each request may take as long as the whole call.
    config.timeout = Duration::from_secs(1);
    config.deadline = Duration::from_secs(1);

    let error = call(config, ITEM).await.expect_err("nothing answers");

    assert_eq!(
        error,
        ApiError::Timeout {
            item: item(ITEM),
            host: mock.addr().to_string(),
            stage: Stage::WaitingForAnswer,
            after: Duration::from_secs(1),
        }
    );
    assert!(
        error
            .to_string()
            .contains("timed out after 1 s waiting for the answer"),
        "{error}"
    );
    assert_eq!(mock.requests(API), 1);
}

#[tokio::test]
async fn retries_of_a_stalled_call_share_the_deadline() {
    let mock =
        start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [Fault::Stall])).await;
    let mut config = config(&mock);
    config.timeout = Duration::from_millis(700);
    config.deadline = Duration::from_secs(2);
    let started = Instant::now();

    let error = call(config, ITEM).await.expect_err("nothing answers");

    // Attempts of 0.7 s fit twice, a third gets what is left, then the budget is spent: the
    // fourth request allowed by the retry policy is never sent.
    let requests = mock.requests(API);
    assert!((2..=3).contains(&requests), "{requests} requests");
    assert!(matches!(error, ApiError::Timeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_trickling_answer_ends_at_the_deadline_while_reading() {
    // One byte a second: the answer's few hundred bytes would take minutes.
    let faults = [Fault::Trickle(Duration::from_secs(1))];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, faults)).await;
    let mut config = config(&mock);
    config.deadline = Duration::from_millis(1500);

    let error = call(config, ITEM)
        .await
        .expect_err("the body never completes");

    let ApiError::Timeout { stage, after, .. } = &error else {
        panic!("expected a timeout, got {error:?}");
    };
    assert_eq!(*stage, Stage::ReadingAnswer);
    assert_eq!(*after, Duration::from_millis(1500));
    assert!(error.to_string().contains("reading the answer"), "{error}");
    assert_eq!(mock.requests(API), 1);
}

#[tokio::test]
async fn a_body_cut_short_once_is_retried_to_success() {
    let faults = [Fault::CutShort(20), Fault::None];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, faults)).await;

    call(config(&mock), ITEM)
        .await
        .expect("the retry gets it whole");

    assert_eq!(mock.requests(API), 2);
}

#[tokio::test]
async fn a_body_always_cut_short_is_reported_as_interrupted() {
    let mock =
        start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [Fault::CutShort(20)]))
            .await;

    let error = call(config(&mock), ITEM).await.expect_err("never whole");

    assert!(
        matches!(
            error,
            ApiError::Interrupted {
                stage: Stage::ReadingAnswer,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("broke while reading the answer"),
        "{error}"
    );
    assert_eq!(mock.requests(API), 4);
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_never_followed() {
    let elsewhere = start(MockOptions::default()).await;
    let location = format!(
        "http://localhost:{}/1688/item_desc?item_id={ITEM}",
        elsewhere.addr().port()
    );
    let redirect = Fault::Redirect {
        status: 302,
        location,
    };
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [redirect])).await;

    let error = call(config(&mock), ITEM).await.expect_err("not followed");

    let ApiError::Redirect { status, target, .. } = &error else {
        panic!("expected a refused redirect, got {error:?}");
    };
    assert_eq!(*status, 302);
    assert_eq!(
        *target,
        format!("http://localhost:{}", elsewhere.addr().port())
    );
    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert_eq!(mock.requests(API), 1);
    assert_eq!(
        elsewhere.requests(""),
        0,
        "the token went to the other host"
    );
}

#[tokio::test]
async fn a_redirect_on_the_same_host_is_refused_too() {
    // The client follows no redirect at all: even one on the same host could downgrade the
    // scheme on the way, and the API documents none.
    for status in [301, 307, 308] {
        let redirect = Fault::Redirect {
            status,
            location: format!("/v2/1688/item_desc?item_id={ITEM}"),
        };
        let mock =
            start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [redirect])).await;

        let error = call(config(&mock), ITEM).await.expect_err("not followed");

        assert!(matches!(error, ApiError::Redirect { .. }), "{error:?}");
        assert_eq!(mock.requests(""), 1, "{status}");
    }
}

// ---------------------------------------------------------------------------------------------
// Compression

#[tokio::test]
async fn gzip_and_brotli_answers_are_decoded() {
    for fault in [Fault::Gzip, Fault::Brotli] {
        let mock =
            start(MockOptions::default().with_faults(FaultTarget::AnyOffer, [fault.clone()])).await;

        let desc = call(config(&mock), ITEM)
            .await
            .expect("a compressed answer");

        assert_eq!(desc.item_id.as_deref(), Some(ITEM), "{fault:?}");
        assert_eq!(desc.detail_imgs, [PICTURE], "{fault:?}");
    }
}

#[tokio::test]
async fn the_stand_in_compresses_even_when_not_asked() {
    let options = MockOptions::default()
        .with_faults(FaultTarget::AnyOffer, [Fault::Gzip])
        .with_faults(FaultTarget::AnyPicture, [Fault::Brotli]);
    let mock = start(options).await;
    // No decoders: the request sends no Accept-Encoding and the body arrives as sent.
    let plain = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_proxy()
        .build()
        .expect("a client");

    let mut url = mock.api_base().join("1688/item_desc").expect("a path");
    url.set_query(Some(&format!("item_id={ITEM}&apiToken={TOKEN}")));
    let answer = plain.get(url).send().await.expect("an answer");
    assert_eq!(answer.headers()["content-encoding"], "gzip");
    let body = answer.bytes().await.expect("a body");
    assert_eq!(body.get(..2), Some(&[0x1f, 0x8b][..]), "not gzip");

    let picture = mock.cdn_url(PICTURE).expect("a cdn url");
    let answer = plain.get(picture).send().await.expect("an answer");
    assert_eq!(answer.headers()["content-encoding"], "br");
    let body = answer.bytes().await.expect("a body");
    assert_ne!(body.as_ref(), png().as_slice());
}

// ---------------------------------------------------------------------------------------------
// The picture fetcher

#[tokio::test]
async fn a_trickling_picture_ends_within_the_whole_request_limit_naming_the_stage() {
    // Headers at once, then a byte every few seconds: only the whole-request limit ends it.
    let faults = [Fault::Trickle(Duration::from_secs(3))];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyPicture, faults)).await;
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(mock.cdn_base()),
        timeout: Duration::from_millis(1500),
        ..FetchConfig::default()
    })
    .expect("the fetcher builds");

    let error = fetch(&fetcher, PICTURE).await.expect_err("never complete");

    assert_eq!(
        error,
        MediaError::Timeout {
            host: "cbu01.alicdn.com".into(),
            stage: FetchStage::Read,
        }
    );
    assert!(
        error
            .to_string()
            .contains("timed out while reading the picture"),
        "{error}"
    );
    assert_eq!(mock.requests("/cdn/"), 1);
}

#[tokio::test]
async fn a_stalled_picture_times_out_waiting_for_the_answer() {
    let mock =
        start(MockOptions::default().with_faults(FaultTarget::AnyPicture, [Fault::Stall])).await;
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(mock.cdn_base()),
        timeout: Duration::from_secs(1),
        ..FetchConfig::default()
    })
    .expect("the fetcher builds");

    let error = fetch(&fetcher, PICTURE).await.expect_err("no answer");

    assert_eq!(
        error,
        MediaError::Timeout {
            host: "cbu01.alicdn.com".into(),
            stage: FetchStage::Answer,
        }
    );
}

#[tokio::test]
async fn a_picture_cut_short_comes_back_marked_truncated() {
    let faults = [Fault::CutShort(30)];
    let mock =
        start(MockOptions::default().with_faults(FaultTarget::Picture(PICTURE.into()), faults))
            .await;

    let fetched = fetch(&fetcher(&mock), PICTURE)
        .await
        .expect("a part arrived");

    assert!(fetched.truncated);
    assert_eq!(fetched.bytes.as_ref(), &png()[..30]);
    assert_eq!(fetched.format, Format::Png);
}

#[tokio::test]
async fn compressed_pictures_arrive_decoded() {
    for fault in [Fault::Gzip, Fault::Brotli] {
        let mock =
            start(MockOptions::default().with_faults(FaultTarget::AnyPicture, [fault.clone()]))
                .await;

        let fetched = fetch(&fetcher(&mock), PICTURE).await.expect("a picture");

        assert_eq!(fetched.bytes.as_ref(), png().as_slice(), "{fault:?}");
        assert_eq!(fetched.format, Format::Png);
        assert!(!fetched.truncated);
    }
}

#[tokio::test]
async fn the_size_cap_holds_for_compressed_pictures_too() {
    // 8 MiB of zeros compress to a few kilobytes, so only the decoded size can trip the cap.
    let big = "https://cbu01.alicdn.com/img/ibank/big.png";
    let mut catalogue = catalogue();
    catalogue.add_picture(big, vec![0; 8 << 20]);
    let options = MockOptions::default()
        .with_token(TOKEN)
        .with_faults(FaultTarget::AnyPicture, [Fault::Gzip]);
    let mock = mock::start(SocketAddr::from(([127, 0, 0, 1], 0)), catalogue, options)
        .await
        .expect("the stand-in starts");
    let fetcher = Fetcher::new(FetchConfig {
        cdn_route: Some(mock.cdn_base()),
        max_bytes: 1 << 20,
        ..FetchConfig::default()
    })
    .expect("the fetcher builds");

    let error = fetch(&fetcher, big).await.expect_err("over the cap");

    assert!(
        matches!(error, MediaError::TooLarge { limit, .. } if limit == 1 << 20),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_picture_host_error_is_reported_with_its_status_after_one_request() {
    let faults = [Fault::status_retry_after(503, 1)];
    let mock = start(MockOptions::default().with_faults(FaultTarget::AnyPicture, faults)).await;

    let error = fetch(&fetcher(&mock), PICTURE).await.expect_err("503");

    assert_eq!(
        error,
        MediaError::Http {
            host: "cbu01.alicdn.com".into(),
            status: 503,
        }
    );
    // Retrying pictures is the downloader's decision, not the fetcher's.
    assert_eq!(mock.requests("/cdn/"), 1);
}

#[tokio::test]
async fn a_redirected_picture_is_followed() {
    // Picture URLs carry no token, and CDNs do move pictures.
    let moved_to = "https://img.alicdn.com/imgextra/i1/moved.png";
    let mut catalogue = catalogue();
    catalogue.add_picture(moved_to, png());
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let mock = mock::start(loopback, catalogue.clone(), MockOptions::default())
        .await
        .expect("the stand-in starts");
    let location = mock.cdn_url(moved_to).expect("a cdn url").to_string();
    let options = MockOptions::default().with_faults(
        FaultTarget::Picture(PICTURE.into()),
        [Fault::Redirect {
            status: 301,
            location,
        }],
    );
    let redirecting = mock::start(loopback, catalogue, options)
        .await
        .expect("the stand-in starts");

    let fetched = fetch(&fetcher(&redirecting), PICTURE)
        .await
        .expect("followed");

    assert_eq!(fetched.bytes.as_ref(), png().as_slice());
    assert_eq!(redirecting.requests("/cdn/"), 1);
    assert_eq!(mock.requests("/cdn/img.alicdn.com/"), 1);
}

// ---------------------------------------------------------------------------------------------
// The stand-in itself

#[tokio::test]
async fn shutting_down_ends_stalled_and_trickling_answers() {
    let options = MockOptions::default()
        .with_faults(FaultTarget::AnyOffer, [Fault::Stall])
        .with_faults(
            FaultTarget::AnyPicture,
            [Fault::Trickle(Duration::from_secs(60))],
        );
    let mock = start(options).await;
    let mut config = config(&mock);
    config.timeout = Duration::from_secs(60);
    config.deadline = Duration::from_secs(60);
    config.retry.max_retries = 0;
    let stalled = tokio::spawn(call(config, ITEM));
    let fetcher = fetcher(&mock);
    let trickling = tokio::spawn(async move { fetcher.fetch(PICTURE).await });
    wait_for_requests(&mock, "", 2).await;

    tokio::time::timeout(DOES_NOT_HANG, mock.shutdown())
        .await
        .expect("shutdown does not wait for stalled answers");

    let call = stalled.await.expect("the call task ends");
    assert!(call.is_err(), "{call:?}");
    let picture = trickling.await.expect("the fetch task ends");
    assert!(picture.map_or(true, |fetched| fetched.truncated));
}
