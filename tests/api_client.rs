//! The TMAPI client against real HTTP on 127.0.0.1.
//!
//! The documented answers come from the project's stand-in (`descview::mock`). Behaviour the
//! stand-in does not put on (a status that changes between requests, `Retry-After`, odd
//! bodies, redirects, compression, servers that stall or close) comes from small servers
//! defined here, each of which counts the requests it receives so that the retry rules are
//! checked by count, not by time.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Router;
use descview::item_id::ItemId;
use descview::mock::{self, Catalogue, MockHandle, MockOptions, OfferAnswer};
use descview::tmapi::{
    AnswerProblem, ApiError, AuthMode, Client, ClientConfig, ConnectCause, Stage, Token,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

const TOKEN: &str = "test-token";
const SECRET: &str = "SECRET-TOKEN-123";
const ITEM: &str = "652702302959";
const ENDPOINT_PATH: &str = "/1688/item_desc";

/// Longer than any test should take, short enough that a hang fails the run.
const DOES_NOT_HANG: Duration = Duration::from_secs(30);

fn item(digits: &str) -> ItemId {
    digits.parse().unwrap()
}

/// The defaults, except for delays short enough for tests: a 10 ms backoff base and a 2 s cap
/// on `Retry-After`.
fn config(base: Url, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(base, Some(Token::new(token)));
    config.timeout = Duration::from_secs(10);
    config.connect_timeout = Duration::from_secs(5);
    config.retry.base_delay = Duration::from_millis(10);
    config.retry.retry_after_cap = Duration::from_secs(2);
    config
}

async fn fetch(config: ClientConfig, id: &str) -> Result<descview::tmapi::ItemDesc, ApiError> {
    let client = Client::new(config).unwrap();
    tokio::time::timeout(DOES_NOT_HANG, client.item_desc(&item(id)))
        .await
        .expect("call hung")
}

fn success_body(id: &str) -> serde_json::Value {
    json!({
        "code": 200,
        "msg": "success",
        "data": {
            "item_id": id.parse::<u64>().unwrap(),
            "detail_imgs": [
                "https://cbu01.alicdn.com/img/ibank/O1CN01test1_!!1-0-cib.jpg",
                "https://cbu01.alicdn.com/img/ibank/O1CN01test2_!!1-0-cib.jpg",
            ],
            "detail_html": "<p><img src=\"https://cbu01.alicdn.com/img/ibank/O1CN01test1_!!1-0-cib.jpg\"/></p>",
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Against the stand-in

/// The documented error statuses, each with the offer ID the stand-in answers it for.
const DOCUMENTED: [(u16, &str); 6] = [
    (417, "100000000417"),
    (422, "100000000422"),
    (439, "100000000439"),
    (499, "100000000499"),
    (500, "100000000500"),
    (503, "100000000503"),
];

// The stand-in asks for struct update syntax so that options it gains later keep their
// defaults here; today `token` is its only field, which clippy reports as a needless update.
#[allow(clippy::needless_update)]
async fn stand_in() -> MockHandle {
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(ITEM, "a cup", OfferAnswer::Body(success_body(ITEM)));
    for (status, id) in DOCUMENTED {
        catalogue.add_offer(id, "an error", OfferAnswer::Status(status));
    }
    let options = MockOptions {
        token: TOKEN.to_string(),
        ..Default::default()
    };
    mock::start(SocketAddr::from(([127, 0, 0, 1], 0)), catalogue, options)
        .await
        .unwrap()
}

#[tokio::test]
async fn reads_a_description_from_the_stand_in() {
    let mock = stand_in().await;

    let desc = fetch(config(mock.api_base(), TOKEN), ITEM).await.unwrap();

    assert_eq!(desc.item_id.as_deref(), Some(ITEM));
    assert_eq!(desc.detail_imgs.len(), 2);
    assert!(desc.detail_html.starts_with("<p><img src="));
    assert_eq!(mock.requests(ENDPOINT_PATH), 1);
}

#[tokio::test]
async fn the_token_can_go_in_a_header() {
    let mock = stand_in().await;
    let mut config = config(mock.api_base(), TOKEN);
    config.auth = AuthMode::Header;

    let desc = fetch(config, ITEM).await.unwrap();

    assert_eq!(desc.detail_imgs.len(), 2);
}

#[tokio::test]
async fn each_documented_status_has_its_message_and_retry_count() {
    let mock = stand_in().await;
    let expectations: [(u16, &str, usize); 6] = [
        (417, "the API failed to retrieve data (417): try again", 4),
        (422, "parameter error (422): check the offer ID", 1),
        (
            439,
            "the subscription has expired or the balance is too low (439): top up",
            1,
        ),
        (499, "the API timed out on its side (499): try again", 4),
        (
            500,
            "unexpected error on the API side (500): contact TMAPI support",
            1,
        ),
        (
            503,
            "too many requests at once (503): reduce concurrency",
            4,
        ),
    ];

    for ((status, message, requests), (_, id)) in expectations.into_iter().zip(DOCUMENTED) {
        let before = mock.requests(ENDPOINT_PATH);
        let error = fetch(config(mock.api_base(), TOKEN), id).await.unwrap_err();

        assert!(error.to_string().contains(message), "{status}: {error}");
        assert_eq!(mock.requests(ENDPOINT_PATH) - before, requests, "{status}");
    }
}

#[tokio::test]
async fn a_wrong_token_is_refused_once() {
    let mock = stand_in().await;

    let error = fetch(config(mock.api_base(), "wrong-token"), ITEM)
        .await
        .unwrap_err();

    assert_eq!(error, ApiError::TokenRefused { status: 401 });
    assert!(error.to_string().contains("check TMAPI_TOKEN"), "{error}");
    assert_eq!(mock.requests(ENDPOINT_PATH), 1);
}

#[tokio::test]
async fn a_wrong_base_path_is_reported_as_such() {
    let mock = stand_in().await;
    let base = mock.api_base().join("not-the-api/").unwrap();

    let error = fetch(config(base, TOKEN), ITEM).await.unwrap_err();

    assert!(
        matches!(error, ApiError::EndpointNotFound { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("wrong API base"), "{error}");
    assert_eq!(mock.requests(""), 1);
}

#[tokio::test]
async fn reads_every_offer_of_the_demo_catalogue() {
    let catalogue = Catalogue::embedded();
    let offers = catalogue.offers().to_vec();
    assert!(!offers.is_empty());
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mock = mock::start(addr, catalogue, MockOptions::default())
        .await
        .unwrap();
    let mut config = config(mock.api_base(), mock::DEMO_TOKEN);
    config.retry.max_retries = 0;
    let client = Client::new(config).unwrap();

    for offer in offers {
        let result = client.item_desc(&item(&offer.item_id)).await;
        match &offer.answer {
            OfferAnswer::Body(body) if body["code"] == 200 => {
                let desc = result.unwrap_or_else(|error| panic!("{}: {error}", offer.item_id));
                let echoed = desc.item_id.unwrap_or_else(|| offer.item_id.clone());
                assert_eq!(echoed, offer.item_id);
            }
            OfferAnswer::Body(body) => {
                let error = result.expect_err(&offer.item_id);
                let code = body["code"].to_string();
                assert!(
                    error.to_string().contains(&code),
                    "{}: {error}",
                    offer.item_id
                );
            }
            OfferAnswer::Status(status) => {
                let error = result.expect_err(&offer.item_id);
                let status = format!("({status})");
                assert!(
                    error.to_string().contains(&status),
                    "{}: {error}",
                    offer.item_id
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A scripted server: answers request N with the Nth canned answer (the last one repeats) and
// records every request.

#[derive(Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Canned {
    fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Canned {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn json(status: u16, body: serde_json::Value) -> Self {
        Canned::new(status, body.to_string()).header("content-type", "application/json")
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

struct Seen {
    uri: String,
    apikey: Option<String>,
    at: Instant,
}

struct Script {
    answers: Vec<Canned>,
    /// When set, a 200 whose body is the request's path and query, as some servers echo it.
    echo_uri: bool,
    seen: Mutex<Vec<Seen>>,
}

struct Scripted {
    base: Url,
    script: Arc<Script>,
}

impl Scripted {
    async fn start(answers: Vec<Canned>) -> Self {
        Scripted::start_with(answers, false).await
    }

    async fn start_with(answers: Vec<Canned>, echo_uri: bool) -> Self {
        let script = Arc::new(Script {
            answers,
            echo_uri,
            seen: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .fallback(answer_scripted)
            .with_state(Arc::clone(&script));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Scripted {
            base: Url::parse(&format!("http://{addr}")).unwrap(),
            script,
        }
    }

    fn requests(&self) -> usize {
        self.script.seen.lock().unwrap().len()
    }

    fn seen<T>(&self, read: impl FnOnce(&[Seen]) -> T) -> T {
        read(&self.script.seen.lock().unwrap())
    }
}

async fn answer_scripted(
    State(script): State<Arc<Script>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let apikey = headers
        .get("apikey")
        .and_then(|value| value.to_str().ok())
        .map(String::from);
    let index = {
        let mut seen = script.seen.lock().unwrap();
        seen.push(Seen {
            uri: uri.to_string(),
            apikey,
            at: Instant::now(),
        });
        seen.len() - 1
    };
    if script.echo_uri {
        return Response::new(Body::from(format!("<html>bad request {uri}</html>")));
    }

    let canned = script
        .answers
        .get(index)
        .or(script.answers.last())
        .unwrap()
        .clone();
    let mut response = Response::builder().status(canned.status);
    for (name, value) in &canned.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(canned.body)).unwrap()
}

#[tokio::test]
async fn sends_the_item_and_the_token_where_configured() {
    let server = Scripted::start(vec![Canned::json(200, success_body(ITEM))]).await;
    let base = server.base.join("prefix/").unwrap();

    fetch(config(base.clone(), TOKEN), ITEM).await.unwrap();
    let mut header_config = config(base, TOKEN);
    header_config.auth = AuthMode::Header;
    fetch(header_config, ITEM).await.unwrap();

    server.seen(|seen| {
        assert_eq!(
            seen[0].uri,
            format!("/prefix/1688/item_desc?item_id={ITEM}&apiToken={TOKEN}")
        );
        assert_eq!(seen[0].apikey, None);
        assert_eq!(
            seen[1].uri,
            format!("/prefix/1688/item_desc?item_id={ITEM}")
        );
        assert_eq!(seen[1].apikey.as_deref(), Some(TOKEN));
    });
}

#[tokio::test]
async fn the_raw_body_is_kept_as_received() {
    let body = "{ \"code\": 200,\n  \"data\": {\"item_id\": \"652702302959\", \"detail_html\": \"<b>x</b>\"} }";
    let server = Scripted::start(vec![Canned::new(200, body)]).await;
    let client = Client::new(config(server.base.clone(), TOKEN)).unwrap();

    let raw = client.item_desc_raw(&item(ITEM)).await.unwrap();

    assert_eq!(raw.body, body);
    assert_eq!(raw.desc.item_id.as_deref(), Some(ITEM));
    assert_eq!(raw.desc.detail_html, "<b>x</b>");
    assert!(raw.desc.detail_imgs.is_empty());
}

#[tokio::test]
async fn transient_statuses_are_retried_until_success() {
    let busy = Canned::json(503, json!({"code": 503, "msg": "busy", "data": null}));
    let server = Scripted::start(vec![
        busy.clone(),
        busy,
        Canned::json(200, success_body(ITEM)),
    ])
    .await;

    let desc = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap();

    assert_eq!(desc.detail_imgs.len(), 2);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn retries_stop_after_four_requests() {
    let server = Scripted::start(vec![Canned::new(503, "")]).await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    assert_eq!(error, ApiError::TooManyRequests);
    assert_eq!(server.requests(), 4);
}

#[tokio::test]
async fn retrying_can_be_turned_off() {
    let server = Scripted::start(vec![Canned::new(417, "")]).await;
    let mut config = config(server.base.clone(), TOKEN);
    config.retry.max_retries = 0;

    let error = fetch(config, ITEM).await.unwrap_err();

    assert!(
        matches!(error, ApiError::RetrievalFailed { .. }),
        "{error:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let busy = Canned::new(503, "").header("retry-after", "1");
    let server = Scripted::start(vec![busy, Canned::json(200, success_body(ITEM))]).await;

    fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap();

    // A sleep never ends early, so this lower bound holds on any machine; without Retry-After
    // the backoff here is at most 10 ms.
    let gap = server.seen(|seen| seen[1].at - seen[0].at);
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn a_long_retry_after_is_cut_to_the_cap() {
    let busy = Canned::new(503, "").header("retry-after", "3600");
    let server = Scripted::start(vec![busy, Canned::json(200, success_body(ITEM))]).await;
    let mut config = config(server.base.clone(), TOKEN);
    config.retry.retry_after_cap = Duration::from_secs(1);

    fetch(config, ITEM).await.unwrap();

    let gap = server.seen(|seen| seen[1].at - seen[0].at);
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_code_in_a_200_body_is_that_error() {
    let body =
        json!({"code": 439, "msg": "Subscription expired or insufficient balance.", "data": null});
    let server = Scripted::start(vec![Canned::json(200, body)]).await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    assert_eq!(error, ApiError::SubscriptionExhausted);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_transient_code_in_a_200_body_is_retried() {
    let busy = Canned::json(200, json!({"code": 503, "msg": "busy", "data": null}));
    let server = Scripted::start(vec![busy, Canned::json(200, success_body(ITEM))]).await;

    fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap();

    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn error_statuses_need_no_body() {
    let expectations = [
        (417, "failed to retrieve data"),
        (422, "parameter error"),
        (439, "subscription has expired"),
        (499, "timed out on its side"),
        (500, "unexpected error on the API side"),
        (503, "too many requests at once"),
        (401, "refused the token"),
        (403, "refused the token"),
        (404, "wrong API base"),
    ];
    for body in ["", "<html><body>error</body></html>", "{\"code\":"] {
        for (status, message) in expectations {
            let server = Scripted::start(vec![Canned::new(status, body)]).await;
            let mut config = config(server.base.clone(), TOKEN);
            config.retry.max_retries = 0;

            let error = fetch(config, ITEM).await.unwrap_err();

            assert!(
                error.to_string().contains(message),
                "{status} {body:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn a_404_with_a_json_body_means_a_wrong_base() {
    let server = Scripted::start(vec![Canned::json(404, json!({"detail": "Not Found"}))]).await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    assert!(
        matches!(error, ApiError::EndpointNotFound { .. }),
        "{error:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn an_undocumented_status_shows_the_server_reason_and_is_not_retried() {
    let server = Scripted::start(vec![Canned::json(418, json!({"msg": "short and stout"}))]).await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    let host = server.base.host_str().unwrap();
    assert!(
        matches!(error, ApiError::UnexpectedStatus { status: 418, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("status 418 (short and stout)"),
        "{error}"
    );
    assert!(error.to_string().contains(host), "{error}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_shown_by_its_first_characters() {
    let page = format!(
        "<html>\n<body>\u{1b}]0;owned\u{7}gateway error{}</body></html>",
        "x".repeat(300)
    );
    let server = Scripted::start(vec![Canned::new(200, page)]).await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    let ApiError::UnexpectedAnswer {
        problem, excerpt, ..
    } = &error
    else {
        panic!("expected an unusable answer, got {error:?}");
    };
    assert_eq!(*problem, AnswerProblem::NotJson);
    assert!(excerpt.starts_with("<html> <body>"), "{excerpt}");
    assert!(excerpt.contains("gateway error"), "{excerpt}");
    assert!(
        excerpt.ends_with('…') && excerpt.chars().count() <= 121,
        "{excerpt}"
    );
    let message = error.to_string();
    assert!(
        !message.contains('\u{1b}') && !message.contains('\u{7}'),
        "{message:?}"
    );
    assert!(
        !message.contains("expected value"),
        "a bare serde error: {message}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn json_without_data_is_reported_with_its_first_characters() {
    let server = Scripted::start(vec![Canned::json(
        200,
        json!({"code": 200, "msg": "success"}),
    )])
    .await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            ApiError::UnexpectedAnswer {
                problem: AnswerProblem::NoData,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("it begins: {\"code\":200"),
        "{error}"
    );
}

#[tokio::test]
async fn lenient_fields_are_read() {
    let body = json!({"code": 200, "data": {"item_id": "652702302959", "detail_imgs": null}});
    let server = Scripted::start(vec![Canned::json(200, body)]).await;

    let desc = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap();

    assert_eq!(desc.item_id.as_deref(), Some(ITEM));
    assert!(desc.detail_imgs.is_empty());
    assert!(desc.detail_html.is_empty());
}

#[tokio::test]
async fn a_gzip_answer_sent_unasked_is_read() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(success_body(ITEM).to_string().as_bytes())
        .unwrap();
    let gzipped = encoder.finish().unwrap();
    let answer = Canned::new(200, gzipped)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip");
    let server = Scripted::start(vec![answer]).await;

    let desc = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap();

    assert_eq!(desc.item_id.as_deref(), Some(ITEM));
    assert_eq!(desc.detail_imgs.len(), 2);
}

#[tokio::test]
async fn a_corrupt_gzip_answer_is_reported() {
    let answer = Canned::new(200, b"\x1f\x8b\x08\x00garbage, not deflate".to_vec())
        .header("content-encoding", "gzip");
    let server = Scripted::start(vec![answer]).await;

    let error = fetch(config(server.base.clone(), TOKEN), ITEM)
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            ApiError::UnexpectedAnswer {
                problem: AnswerProblem::Undecodable,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = Scripted::start(vec![Canned::json(200, success_body(ITEM))]).await;
    let location = elsewhere.base.join("steal/here?keep=1").unwrap();
    let server = Scripted::start(vec![
        Canned::new(302, "").header("location", location.as_str())
    ])
    .await;

    let error = fetch(config(server.base.clone(), SECRET), ITEM)
        .await
        .unwrap_err();

    let origin = elsewhere.base.as_str().trim_end_matches('/');
    assert_eq!(
        error,
        ApiError::Redirect {
            item: item(ITEM),
            host: server.base.authority().to_string(),
            status: 302,
            target: origin.to_string(),
        }
    );
    assert!(!error.to_string().contains("steal"), "{error}");
    assert_eq!(server.requests(), 1);
    assert_eq!(elsewhere.requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Servers below HTTP: a closed port, one that never answers, one that stalls or breaks a body.

/// A port on 127.0.0.1 where nothing listens: bound, then released.
async fn closed_port_base() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    Url::parse(&format!("http://{addr}")).unwrap()
}

/// Accepts connections, reads each request's head, writes `reply` (possibly nothing) and then
/// holds the connection open without another byte, or closes it when `close` is set.
/// Returns the base URL and the count of accepted connections.
async fn raw_server(reply: &'static [u8], close: bool) -> (Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_raw(stream, reply, close));
        }
    });
    (Url::parse(&format!("http://{addr}")).unwrap(), accepted)
}

async fn serve_raw(mut stream: TcpStream, reply: &'static [u8], close: bool) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let _ = stream.write_all(reply).await;
    if close {
        return;
    }
    // Hold the connection until the client gives up and closes it.
    let _ = stream.read(&mut buffer).await;
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    let base = closed_port_base().await;

    let error = fetch(config(base.clone(), TOKEN), ITEM).await.unwrap_err();

    let ApiError::Connect { cause, host, .. } = &error else {
        panic!("expected a connect error, got {error:?}");
    };
    assert_eq!(*cause, ConnectCause::Refused);
    assert_eq!(*host, base.authority());
    assert!(error.to_string().contains("connection refused"), "{error}");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_says_so() {
    // `.invalid` is reserved never to resolve (RFC 2606).
    let base = Url::parse("http://descview-test.invalid").unwrap();

    let error = fetch(config(base, TOKEN), ITEM).await.unwrap_err();

    assert_eq!(
        error,
        ApiError::Dns {
            item: item(ITEM),
            host: "descview-test.invalid".to_string()
        }
    );
    assert!(
        error
            .to_string()
            .contains("could not resolve descview-test.invalid"),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_retried() {
    let (base, accepted) = raw_server(b"", false).await;
    let mut config = config(base, TOKEN);
    config.timeout = Duration::from_secs(1);

    let error = fetch(config, ITEM).await.unwrap_err();

    assert!(
        matches!(
            &error,
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
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_body_that_stalls_times_out_while_reading() {
    const HEAD_AND_PART: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"code\":";
    let (base, _) = raw_server(HEAD_AND_PART, false).await;
    let mut config = config(base, TOKEN);
    config.timeout = Duration::from_secs(1);
    config.retry.max_retries = 0;

    let error = fetch(config, ITEM).await.unwrap_err();

    assert!(
        matches!(
            &error,
            ApiError::Timeout {
                stage: Stage::ReadingAnswer,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("reading the answer"), "{error}");
}

#[tokio::test]
async fn a_body_cut_short_is_retried() {
    const CUT: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"code\":200,";
    let (base, accepted) = raw_server(CUT, true).await;

    let error = fetch(config(base, TOKEN), ITEM).await.unwrap_err();

    assert!(
        matches!(
            &error,
            ApiError::Interrupted {
                stage: Stage::ReadingAnswer,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_is_retried() {
    let (base, accepted) = raw_server(b"", true).await;

    let error = fetch(config(base, TOKEN), ITEM).await.unwrap_err();

    assert!(
        matches!(
            &error,
            ApiError::Interrupted {
                stage: Stage::WaitingForAnswer,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

// ---------------------------------------------------------------------------------------------
// N1: the token never leaks, neither in errors nor in log lines.

/// A tracing subscriber that writes every event's and span's fields into one string.
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut log = self.0.lock().unwrap();
        log.push_str(event.metadata().target());
        log.push(' ');
        event.record(&mut Fields(&mut log));
        log.push('\n');
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

fn assert_no_leak(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} holds the token: {text}");
    assert!(
        !text.contains("apiToken="),
        "{what} holds the query: {text}"
    );
}

#[tokio::test]
async fn the_token_never_leaks() {
    let log = Arc::new(Mutex::new(String::new()));
    // `tokio::test` runs everything on this thread, so a thread's default subscriber sees the
    // client's events and those of the servers it talks to.
    let _guard = tracing::subscriber::set_default(Capture(Arc::clone(&log)));

    let not_found = Scripted::start(vec![Canned::json(404, json!({"detail": "Not Found"}))]).await;
    let failing = Scripted::start(vec![Canned::new(500, "")]).await;
    let not_json = Scripted::start(vec![Canned::new(200, "<html>maintenance</html>")]).await;
    let (silent, _) = raw_server(b"", false).await;
    let bases = [
        ("refused", closed_port_base().await),
        ("404", not_found.base.clone()),
        ("500", failing.base.clone()),
        ("timeout", silent),
        ("not json", not_json.base.clone()),
    ];

    for (case, base) in bases {
        for auth in [AuthMode::Query, AuthMode::Header] {
            let mut config = config(base.clone(), SECRET);
            config.timeout = Duration::from_secs(1);
            config.retry.max_retries = 1;
            config.auth = auth;

            let error = fetch(config, ITEM).await.unwrap_err();

            assert_no_leak(&format!("{case} Display"), &error.to_string());
            assert_no_leak(&format!("{case} Debug"), &format!("{error:?}"));
            assert!(
                error.to_string().contains(ITEM) || case == "404",
                "{case}: {error}"
            );
        }
    }

    let log = log.lock().unwrap();
    assert!(log.contains(ITEM), "the calls were not logged: {log}");
    assert_no_leak("the log", &log);
}

#[tokio::test]
async fn a_server_echoing_the_token_does_not_get_it_into_the_error() {
    let echo = Scripted::start_with(Vec::new(), true).await;

    let error = fetch(config(echo.base.clone(), SECRET), ITEM)
        .await
        .unwrap_err();

    assert!(
        echo.seen(|seen| seen[0].uri.contains(SECRET)),
        "the echo did not get the token"
    );
    assert!(
        matches!(error, ApiError::UnexpectedAnswer { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(SECRET), "{error}");
    assert!(!format!("{error:?}").contains(SECRET), "{error:?}");
}
