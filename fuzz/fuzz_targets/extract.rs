//! Fuzz target: `description::extract` (and the normalisation inside it) on any answer.
//!
//! The input is split at its first NUL byte: before it, `detail_imgs`, one entry a line;
//! after it, `detail_html`. Extraction must never panic, and what it lists must be what the
//! rest of the program may fetch, copy and save: absolute http(s) URLs without an unsafe
//! character, each listed once, and unusable references safe to print. Extracting again from
//! its own list must give the same list.
#![no_main]

use std::collections::HashSet;

use descview::description::extract;
use descview::text::has_unsafe_chars;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (imgs, html) = text.split_once('\0').unwrap_or((&text, ""));
    let detail_imgs: Vec<String> = imgs.lines().map(str::to_string).collect();

    let description = extract(&detail_imgs, html);

    let mut listed = HashSet::new();
    for picture in &description.pictures {
        let url = url::Url::parse(&picture.url).expect("a listed picture parses as a URL");
        assert!(matches!(url.scheme(), "http" | "https"), "{}", picture.url);
        assert!(url.host_str().is_some(), "{}", picture.url);
        assert!(!has_unsafe_chars(&picture.url), "{:?}", picture.url);
        assert!(picture.aliases.iter().all(|alias| !has_unsafe_chars(alias)));
        assert!(
            listed.insert(picture.url.clone()),
            "{} listed twice",
            picture.url
        );
    }
    for unusable in &description.unusable {
        assert!(!has_unsafe_chars(&unusable.raw), "{:?}", unusable.raw);
        assert!(!has_unsafe_chars(&unusable.reason), "{:?}", unusable.reason);
    }

    let urls: Vec<String> = description.pictures.iter().map(|p| p.url.clone()).collect();
    let again = extract(&urls, "");
    let again_urls: Vec<&str> = again.pictures.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        again_urls,
        urls.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(again.unusable.is_empty(), "{:?}", again.unusable);
});
