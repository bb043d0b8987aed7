//! Fuzz target: `description::extract` (and the normalisation inside it) on any answer.
//!
//! The input is split at its first NUL byte: before it, `detail_imgs`, one entry a line;
//! after it, `detail_html`. Extraction must never panic, and what it lists must be what the
//! rest of the program may fetch, copy and save: absolute http(s) URLs without an unsafe
//! character, each in the URL parser's own spelling (what is shown and copied is what is
//! fetched), each listed once, and unusable references safe to print.
//!
//! Extracting again from its own list is not required to give the same list: entities and
//! JSON escapes in `detail_imgs` are decoded, so a URL that legitimately holds `&amp;` (a
//! broken entity that the URL parser joined across a line break, as a browser would) reads
//! differently the second time.
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
        assert_eq!(url.as_str(), picture.url, "not in the parser's spelling");
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
});
