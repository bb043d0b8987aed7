//! Fuzz target: reading an `item_desc` answer body, as the client reads one that came with a
//! success status, and the error texts made from bodies.
//!
//! Reading must never panic; every text it keeps from the body (the `msg` of an error code,
//! an excerpt, an error's detail) must be one line, safe for a terminal and free of the
//! token, even when the body repeats the token in any form.
#![no_main]

use descview::text::has_unsafe_chars;
use descview::tmapi::answer::{error_detail, excerpt, read_body, Reading};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "SECRET-TOKEN-123";

fn assert_safe(what: &str, text: &str) {
    assert!(!has_unsafe_chars(text), "{what}: {text:?}");
    assert!(!text.contains(TOKEN), "{what} holds the token: {text:?}");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        match read_body(body, Some(TOKEN)) {
            Reading::Desc(desc) => {
                // The description is kept raw: it is sanitised where it is shown, and it
                // must survive a round trip through JSON for the cache.
                let json = serde_json::to_string(&desc).expect("a description serialises");
                let back: descview::tmapi::ItemDesc =
                    serde_json::from_str(&json).expect("and reads back");
                assert_eq!(back, desc);
            }
            Reading::Status { msg, .. } => {
                if let Some(msg) = msg {
                    assert_safe("msg", &msg);
                }
            }
            Reading::Unusable(_) => {}
        }
    }
    assert_safe("excerpt", &excerpt(data, Some(TOKEN)));
    if let Some(detail) = error_detail(data, Some(TOKEN)) {
        assert_safe("error detail", &detail);
    }
});
