//! Fuzz target: `ItemId` from any text a user could type or paste.
//!
//! Parsing must never panic, an accepted ID must be what the API takes (1 to 20 ASCII digits,
//! no leading zero) and read back as itself, and a refusal's message must be safe to print.
#![no_main]

use descview::item_id::{ItemId, MAX_DIGITS};
use descview::text::has_unsafe_chars;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match text.parse::<ItemId>() {
        Ok(id) => {
            let digits = id.as_str();
            assert!((1..=MAX_DIGITS).contains(&digits.len()), "{digits:?}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{digits:?}");
            assert!(!digits.starts_with('0'), "{digits:?}");
            assert_eq!(id.to_string(), digits);
            let again = digits.parse::<ItemId>();
            assert_eq!(again.as_ref(), Ok(&id));
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!has_unsafe_chars(&message), "{message:?}");
        }
    }
});
