//! The local stand-in over real HTTP on loopback: the `item_desc` answers (success, each
//! documented error, auth and parameter failures), the picture CDN, request counting, and the
//! embedded demo catalogue's promises (every listed picture decodes, the missing ones 404, the
//! size stays small).

use std::collections::HashSet;
use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use descview::mock::{self, Catalogue, MockHandle, MockOptions, OfferAnswer};
use image::AnimationDecoder;
use serde_json::{json, Value};

const TOKEN: &str = "test-token";

/// The picture URLs of the API documentation's example answer, in its order.
const DOCUMENTED_PICTURES: [&str; 15] = [
    "https://cbu01.alicdn.com/img/ibank/2020/452/402/17709204254_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/901/478/17766874109_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/672/568/17766865276_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/470/088/17766880074_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/769/861/17709168967_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/398/771/17709177893_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/821/702/17709207128_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/460/848/17838848064_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/894/291/17709192498_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/084/891/17709198480_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/255/868/17766868552_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/121/758/17838857121_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/172/312/17709213271_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2020/330/598/17766895033_1283248032.jpg",
    "https://cbu01.alicdn.com/img/ibank/2019/259/150/11419051952_1283248032.jpg",
];

/// The demo offer whose description lists pictures that the CDN no longer has.
const PARTLY_MISSING_OFFER: &str = "708164392057";

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn options() -> MockOptions {
    MockOptions::default().with_token(TOKEN)
}

async fn start(catalogue: Catalogue) -> MockHandle {
    mock::start(loopback(), catalogue, options())
        .await
        .expect("the stand-in starts on loopback")
}

fn client() -> reqwest::Client {
    // No proxy: a proxy from the environment must not see loopback test traffic.
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain http client builds")
}

/// GET `item_desc` with a raw query string; returns the status and the parsed body.
async fn item_desc(server: &MockHandle, query: &str) -> (u16, Value) {
    let mut url = server
        .api_base()
        .join("1688/item_desc")
        .expect("a valid path");
    url.set_query(Some(query));
    let response = client()
        .get(url)
        .send()
        .await
        .expect("the stand-in answers");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.expect("the body is json");
    (status, body)
}

async fn get_picture(server: &MockHandle, picture_url: &str) -> reqwest::Response {
    let url = server.cdn_url(picture_url).expect("an http(s) picture url");
    client()
        .get(url)
        .send()
        .await
        .expect("the stand-in answers")
}

fn detail_imgs(body: &Value) -> Vec<String> {
    body["data"]["detail_imgs"]
        .as_array()
        .expect("detail_imgs is a list")
        .iter()
        .map(|url| url.as_str().expect("a url string").to_string())
        .collect()
}

#[tokio::test]
async fn the_documented_example_lists_its_15_pictures_in_order() {
    let server = start(Catalogue::embedded()).await;

    let (status, body) = item_desc(&server, "item_id=622619146604&apiToken=test-token").await;

    assert_eq!(status, 200);
    assert_eq!(body["code"], 200);
    assert_eq!(body["msg"], "success");
    assert_eq!(body["data"]["item_id"], json!(622619146604u64));
    assert_eq!(detail_imgs(&body), DOCUMENTED_PICTURES);

    // The HTML holds the same pictures, in the same order.
    let html = body["data"]["detail_html"]
        .as_str()
        .expect("html is a string");
    let positions: Vec<usize> = DOCUMENTED_PICTURES
        .iter()
        .map(|url| {
            html.find(&format!("src=\"{url}\""))
                .expect("each picture is in the html")
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
}

#[tokio::test]
async fn every_picture_of_the_documented_example_is_served() {
    let server = start(Catalogue::embedded()).await;

    for url in DOCUMENTED_PICTURES {
        let response = get_picture(&server, url).await;
        assert_eq!(response.status(), 200, "{url}");
        let bytes = response.bytes().await.expect("a body");
        assert!(
            image::load_from_memory(&bytes).is_ok(),
            "{url} does not decode"
        );
    }
}

#[tokio::test]
async fn the_token_may_come_in_an_apikey_header() {
    let server = start(Catalogue::embedded()).await;
    let mut url = server
        .api_base()
        .join("1688/item_desc")
        .expect("a valid path");
    url.set_query(Some("item_id=652702302959"));

    let response = client()
        .get(url)
        .header("apikey", TOKEN)
        .send()
        .await
        .expect("the stand-in answers");

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["item_id"], json!(652702302959u64));
    let pictures = detail_imgs(&body);
    assert!((5..=8).contains(&pictures.len()), "{pictures:?}");
    assert!(pictures
        .iter()
        .all(|url| url.contains("O1CN01") && url.contains("-0-cib.")));
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_without_echoing_it() {
    let server = start(Catalogue::embedded()).await;

    for query in [
        "item_id=622619146604",
        "item_id=622619146604&apiToken=",
        "item_id=622619146604&apiToken=SECRET-TOKEN-123",
    ] {
        let (status, body) = item_desc(&server, query).await;
        assert_eq!(status, 401, "{query}");
        assert_eq!(body["code"], 401, "{query}");
        assert!(body["msg"].as_str().is_some_and(|msg| !msg.is_empty()));
        assert!(!body.to_string().contains("SECRET"), "{body}");
    }
}

#[tokio::test]
async fn a_missing_or_malformed_item_id_is_a_parameter_error() {
    let server = start(Catalogue::embedded()).await;
    let expected = json!({ "code": 422, "msg": "Parameter error", "data": null });

    for query in [
        "apiToken=test-token",
        "item_id=&apiToken=test-token",
        "item_id=62261914660x&apiToken=test-token",
        "item_id=%20622619146604&apiToken=test-token",
        "item_id=-622619146604&apiToken=test-token",
        "item_id=123456789012345678901&apiToken=test-token",
    ] {
        let (status, body) = item_desc(&server, query).await;
        assert_eq!(status, 422, "{query}");
        assert_eq!(body, expected, "{query}");
    }
}

#[tokio::test]
async fn each_documented_error_status_comes_with_its_message() {
    let server = start(Catalogue::embedded()).await;
    let cases = [
        (
            417,
            "Failed to retrieve data, please try again or contact customer service.",
        ),
        (422, "Parameter error"),
        (439, "Subscription expired or insufficient balance."),
        (
            499,
            "Please try again or set your request timeout to 60 seconds.",
        ),
        (500, "Unexpected error, please contact customer service."),
        (
            503,
            "API request concurrency limit exceeded, please reduce concurrency.",
        ),
    ];

    for (code, message) in cases {
        let query = format!("item_id=600000000{code}&apiToken=test-token");
        let (status, body) = item_desc(&server, &query).await;
        assert_eq!(status, code);
        assert_eq!(body, json!({ "code": code, "msg": message, "data": null }));
    }
}

#[tokio::test]
async fn an_unknown_offer_is_a_failed_retrieval() {
    let server = start(Catalogue::embedded()).await;

    let (status, body) = item_desc(&server, "item_id=123456789012&apiToken=test-token").await;

    assert_eq!(status, 417);
    assert_eq!(body["code"], 417);
    assert_eq!(body["data"], Value::Null);
}

#[tokio::test]
async fn an_error_can_hide_inside_a_status_200_answer() {
    let server = start(Catalogue::embedded()).await;

    let (status, body) = item_desc(&server, "item_id=600000200439&apiToken=test-token").await;

    assert_eq!(status, 200);
    assert_eq!(body["code"], 439);
}

#[tokio::test]
async fn offers_added_in_a_test_are_served() {
    let mut catalogue = Catalogue::empty();
    let answer =
        json!({ "code": 200, "msg": "success", "data": { "detail_imgs": [], "detail_html": "" } });
    catalogue.add_offer("42", "a test offer", OfferAnswer::Body(answer.clone()));
    catalogue.add_offer("43", "a test error", OfferAnswer::Status(503));
    let server = start(catalogue).await;

    assert_eq!(
        item_desc(&server, "item_id=42&apiToken=test-token").await,
        (200, answer)
    );
    let (status, body) = item_desc(&server, "item_id=43&apiToken=test-token").await;
    assert_eq!((status, &body["code"]), (503, &json!(503)));
    let (status, _) = item_desc(&server, "item_id=622619146604&apiToken=test-token").await;
    assert_eq!(status, 417, "an empty catalogue knows no offer");
}

#[tokio::test]
async fn pictures_get_a_content_type_from_their_name_like_a_cdn() {
    let mut catalogue = Catalogue::empty();
    let png = encode_tiny_png();
    let names = [
        ("https://cbu01.alicdn.com/img/ibank/a.jpg", "image/jpeg"),
        (
            "https://cbu01.alicdn.com/img/ibank/a.jpg_.webp",
            "image/webp",
        ),
        ("https://img.alicdn.com/imgextra/i1/a.gif", "image/gif"),
        ("https://gw.alicdn.com/tfs/TB1a-790-1000.png", "image/png"),
        (
            "https://img.alicdn.com/tfscom/TB1cUizhgvD8KJjSsplXXaIEFXa",
            "application/octet-stream",
        ),
    ];
    for (url, _) in names {
        // The same PNG bytes under every name: the type must follow the name, not the bytes.
        catalogue.add_picture(url, png.clone());
    }
    let server = start(catalogue).await;

    for (url, content_type) in names {
        let response = get_picture(&server, url).await;
        assert_eq!(response.status(), 200, "{url}");
        let header = response.headers().get("content-type").cloned();
        assert_eq!(
            header.as_ref().and_then(|v| v.to_str().ok()),
            Some(content_type),
            "{url}"
        );
        assert_eq!(
            response.bytes().await.expect("a body").as_ref(),
            png.as_slice()
        );
    }
}

#[tokio::test]
async fn picture_lookup_keeps_the_query_and_falls_back_without_it_and_to_http() {
    let mut catalogue = Catalogue::empty();
    catalogue.add_picture(
        "https://cbu01.alicdn.com/a.png?__r__=1",
        b"with query".to_vec(),
    );
    catalogue.add_picture("https://cbu01.alicdn.com/a.png", b"without query".to_vec());
    catalogue.add_picture("https://cbu01.alicdn.com/b.png", b"b".to_vec());
    catalogue.add_picture("http://plain.alicdn.com/c.png", b"plain".to_vec());
    let server = start(catalogue).await;

    let body = |url: &'static str| {
        let server = &server;
        async move {
            let response = get_picture(server, url).await;
            let status = response.status().as_u16();
            (status, response.text().await.expect("a body"))
        }
    };
    assert_eq!(
        body("https://cbu01.alicdn.com/a.png?__r__=1").await.1,
        "with query"
    );
    assert_eq!(
        body("https://cbu01.alicdn.com/a.png").await.1,
        "without query"
    );
    assert_eq!(body("https://cbu01.alicdn.com/b.png?__r__=2").await.1, "b");
    assert_eq!(body("http://cbu01.alicdn.com/b.png").await.1, "b");
    assert_eq!(body("https://plain.alicdn.com/c.png").await.1, "plain");
    assert_eq!(body("https://cbu01.alicdn.com/missing.png").await.0, 404);
    assert_eq!(body("https://other.alicdn.com/b.png").await.0, 404);
}

#[tokio::test]
async fn every_picture_of_the_demo_catalogue_is_served_or_404_as_intended() {
    let catalogue = Catalogue::embedded();
    let offers: Vec<(String, Value)> = catalogue
        .offers()
        .iter()
        .filter_map(|offer| match &offer.answer {
            OfferAnswer::Body(body) if body["code"] == 200 => {
                Some((offer.item_id.clone(), body.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(offers.len() >= 6, "the demo has its six descriptions");
    let server = start(catalogue).await;

    let mut formats = HashSet::new();
    let mut missing = Vec::new();
    for (item_id, body) in &offers {
        let html = body["data"]["detail_html"]
            .as_str()
            .expect("html is a string");
        let mut urls: Vec<String> = detail_imgs(body)
            .into_iter()
            .filter(|url| !url.is_empty())
            .collect();
        urls.extend(html_picture_urls(html));

        for url in urls {
            let response = get_picture(&server, &url).await;
            if response.status() == 404 {
                missing.push((item_id.clone(), url));
                continue;
            }
            assert_eq!(response.status(), 200, "{item_id}: {url}");
            let bytes = response.bytes().await.expect("a body");
            let format = image::guess_format(&bytes).expect("a known picture format");
            assert!(
                image::load_from_memory(&bytes).is_ok(),
                "{item_id}: {url} does not decode"
            );
            formats.insert(format);
        }
    }

    // Only the offer that is meant to miss pictures misses any: three, each listed twice
    // (in detail_imgs and in the HTML).
    assert!(
        missing
            .iter()
            .all(|(item_id, _)| item_id == PARTLY_MISSING_OFFER),
        "{missing:?}"
    );
    let distinct: HashSet<&String> = missing.iter().map(|(_, url)| url).collect();
    assert_eq!(distinct.len(), 3, "{missing:?}");
    for format in [
        image::ImageFormat::Jpeg,
        image::ImageFormat::Png,
        image::ImageFormat::Gif,
        image::ImageFormat::WebP,
    ] {
        assert!(formats.contains(&format), "no {format:?} in the demo");
    }
}

#[test]
fn the_demo_pictures_have_realistic_shapes() {
    let catalogue = Catalogue::embedded();
    let mut distinct_files = HashSet::new();
    let mut tallest = (0, 0);
    let mut animated_gif = false;

    for url in catalogue.picture_urls() {
        let bytes = catalogue.picture(url).expect("listed pictures exist");
        distinct_files.insert(bytes.clone());
        let picture = image::load_from_memory(bytes).expect("every demo picture decodes");
        if picture.height() > tallest.1 {
            tallest = (picture.width(), picture.height());
        }
        if image::guess_format(bytes).ok() == Some(image::ImageFormat::Gif) {
            let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes.as_ref()))
                .expect("a gif decoder");
            let frames = decoder.into_frames().collect_frames().expect("gif frames");
            animated_gif |= (2..=4).contains(&frames.len());
        }
    }

    assert!(
        distinct_files.len() >= 6,
        "only {} distinct pictures",
        distinct_files.len()
    );
    assert_eq!(tallest.0, 790);
    assert!(tallest.1 > 6000, "the tallest picture is {tallest:?}");
    assert!(animated_gif, "no animated gif of 2 to 4 frames");
}

#[test]
fn the_embedded_catalogue_stays_under_5_mb() {
    let size = mock::embedded_assets_len();
    assert!(size > 0);
    assert!(size < 5 * 1024 * 1024, "the demo assets take {size} bytes");
}

#[tokio::test]
async fn requests_are_counted_by_path_prefix() {
    let server = start(Catalogue::embedded()).await;

    for _ in 0..3 {
        item_desc(&server, "item_id=622619146604&apiToken=test-token").await;
    }
    item_desc(&server, "item_id=622619146604").await;
    for url in DOCUMENTED_PICTURES.iter().take(2) {
        get_picture(&server, url).await;
    }
    get_picture(&server, "https://cbu01.alicdn.com/not-there.jpg").await;
    client()
        .get(server.api_base().join("elsewhere").expect("a valid path"))
        .send()
        .await
        .expect("the stand-in answers");

    assert_eq!(server.requests("/1688/item_desc"), 4);
    assert_eq!(server.requests("/cdn/"), 3);
    assert_eq!(server.requests("/cdn/cbu01.alicdn.com/img/"), 2);
    assert_eq!(server.requests(""), 8);
}

#[tokio::test]
async fn a_shut_down_server_stops_listening() {
    let server = start(Catalogue::empty()).await;
    let url = server.api_base();
    assert!(client().get(url.clone()).send().await.is_ok());

    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown completes within 10 s");

    let after = client().get(url).send().await;
    assert!(after.is_err(), "still answering after shutdown: {after:?}");
}

/// The picture URLs that a description's HTML names in the attributes browsers and 1688's
/// lazy loaders read, normalised the way a client would (`&amp;` decoded, `//` made https);
/// `data:` URIs are not fetched.
fn html_picture_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["src", "data-src", "data-lazyload-src", "data-ks-lazyload"] {
        let marker = format!(" {attribute}=\"");
        let mut rest = html;
        while let Some(start) = rest.find(&marker) {
            rest = &rest[start + marker.len()..];
            let Some(end) = rest.find('"') else { break };
            let value = rest[..end].trim().replace("&amp;", "&");
            rest = &rest[end..];
            if value.starts_with("data:") {
                continue;
            }
            match value.strip_prefix("//") {
                Some(without_scheme) => urls.push(format!("https://{without_scheme}")),
                None => urls.push(value),
            }
        }
    }
    urls
}

fn encode_tiny_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(2, 2, image::Rgb([200, 100, 50]))
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("a png encodes");
    bytes
}
