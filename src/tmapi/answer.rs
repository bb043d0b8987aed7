//! Reading the body of an `item_desc` answer.
//!
//! The API wraps every answer in `{"code": N, "msg": "...", "data": {...}}` and may say
//! `200` in HTTP while the body's `code` says otherwise (`"code": 439` with HTTP 200 is the
//! 439 error). This module turns a body into an [`ItemDesc`], the body's own status, or a
//! description of what is wrong with it together with its first characters, made safe for a
//! terminal and stripped of the token. It never sees a URL. It is public so that whatever
//! reads an answer outside a call (a saved body, the fuzz targets under `fuzz/`) reads it
//! exactly as the client does.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::{redact, AnswerProblem};
use super::ItemDesc;

/// How many characters of a bad body an error shows: enough to recognise an HTML error page
/// or a proxy's message, short enough for one line.
const EXCERPT_CHARS: usize = 120;

/// What a body with a success status turned out to hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Reading {
    /// The description.
    Desc(ItemDesc),
    /// A body whose `code` is not 200.
    Status {
        /// The body's `code`.
        code: u16,
        /// Its `msg`, on one line, without the token, safe for a terminal.
        msg: Option<String>,
    },
    /// Something else.
    Unusable(AnswerProblem),
}

/// Reads a body that came with a success status; `token` is removed from any text kept.
pub fn read_body(body: &str, token: Option<&str>) -> Reading {
    if body.trim().is_empty() {
        return Reading::Unusable(AnswerProblem::Empty);
    }
    let Ok(Value::Object(mut envelope)) = serde_json::from_str::<Value>(body) else {
        return Reading::Unusable(AnswerProblem::NotJson);
    };

    if let Some(code) = envelope.get("code").and_then(status_code) {
        if code != 200 {
            let msg = envelope
                .get("msg")
                .and_then(Value::as_str)
                .map(|msg| safe_detail(msg, token));
            return Reading::Status { code, msg };
        }
    }

    match envelope.remove("data") {
        None | Some(Value::Null) => Reading::Unusable(AnswerProblem::NoData),
        Some(data) => match ItemDesc::deserialize(data) {
            Ok(desc) => Reading::Desc(desc),
            Err(_) => Reading::Unusable(AnswerProblem::UnexpectedShape),
        },
    }
}

/// The `msg` of an error body that is JSON, for statuses the API does not document: proxies
/// and frameworks put their reason in `msg`, `message` or `detail`.
pub fn error_detail(body: &[u8], token: Option<&str>) -> Option<String> {
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    ["msg", "message", "detail"]
        .iter()
        .find_map(|key| envelope.get(*key).and_then(Value::as_str))
        .filter(|text| !text.trim().is_empty())
        .map(|text| safe_detail(text, token))
}

/// The first characters of a body, on one line, without the token, safe for a terminal, and
/// marked with `…` when cut.
pub fn excerpt(body: &[u8], token: Option<&str>) -> String {
    // The whole body is redacted before anything is cut: whitespace runs shrink to one space,
    // so the shown characters can come from any depth of the body, and a token that straddled
    // the edge of a fixed window would be shown minus its last characters. This runs only on
    // the error path, over a body already held in memory.
    let text = redact(&String::from_utf8_lossy(body), token);
    let enough = EXCERPT_CHARS + token.map_or(0, |token| token.chars().count()) + 1;
    let collapsed: String = one_line(&text).take(enough).collect();
    // Collapsing can join a token that had a whitespace run inside it; redact once more.
    let collapsed = redact(&collapsed, token);

    let mut chars = collapsed.chars();
    let shown: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    let cut = chars.next().is_some();
    let safe = crate::text::sanitize(&shown).into_owned();
    if cut {
        safe + "…"
    } else {
        safe
    }
}

/// The characters of `text` with every whitespace run turned into one space and none at
/// either end, produced lazily so that a long body is never collapsed whole.
fn one_line(text: &str) -> impl Iterator<Item = char> + '_ {
    text.split_whitespace()
        .enumerate()
        .flat_map(|(index, word)| (index > 0).then_some(' ').into_iter().chain(word.chars()))
}

/// A short text from the API (its `msg`), on one line, capped, safe, without the token.
fn safe_detail(text: &str, token: Option<&str>) -> String {
    excerpt(text.as_bytes(), token)
}

/// A `code` given as a number or as a string of digits.
fn status_code(value: &Value) -> Option<u16> {
    match value {
        Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Reads `item_id` given as a number (as documented) or a string (as some answers have it).
pub(crate) fn number_or_string<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::String(text) => Ok(Some(text)),
        other => Err(serde::de::Error::custom(format!(
            "expected a number or a string, found {}",
            json_kind(&other)
        ))),
    }
}

/// Reads a list of strings where the list may be `null` and may hold `null`s.
pub(crate) fn list_without_nulls<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let list = Option::<Vec<Option<String>>>::deserialize(deserializer)?;
    Ok(list.unwrap_or_default().into_iter().flatten().collect())
}

/// Reads a value where `null` means the default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(body: &str) -> ItemDesc {
        match read_body(body, None) {
            Reading::Desc(desc) => desc,
            other => panic!("expected a description, got {other:?}"),
        }
    }

    #[test]
    fn reads_the_documented_shape() {
        let body = r#"{"code":200,"msg":"success","data":{"item_id":622619146604,
            "detail_imgs":["https://cbu01.alicdn.com/a.jpg","https://cbu01.alicdn.com/b.jpg"],
            "detail_html":"<img src=\"https://cbu01.alicdn.com/a.jpg\"/>"}}"#;
        let desc = desc(body);
        assert_eq!(desc.item_id.as_deref(), Some("622619146604"));
        assert_eq!(desc.detail_imgs.len(), 2);
        assert_eq!(
            desc.detail_html,
            r#"<img src="https://cbu01.alicdn.com/a.jpg"/>"#
        );
    }

    #[test]
    fn item_id_may_be_a_string() {
        let desc = desc(r#"{"code":200,"data":{"item_id":"652702302959"}}"#);
        assert_eq!(desc.item_id.as_deref(), Some("652702302959"));
    }

    #[test]
    fn missing_or_null_fields_read_as_empty() {
        assert_eq!(desc(r#"{"code":200,"data":{}}"#), ItemDesc::default());
        let nulls = r#"{"code":200,"data":{"item_id":null,"detail_imgs":null,"detail_html":null}}"#;
        assert_eq!(desc(nulls), ItemDesc::default());
        let with_null_entry = desc(r#"{"code":200,"data":{"detail_imgs":["a",null,"b"]}}"#);
        assert_eq!(with_null_entry.detail_imgs, ["a", "b"]);
    }

    #[test]
    fn a_missing_code_is_not_an_error() {
        assert_eq!(desc(r#"{"data":{"detail_html":"x"}}"#).detail_html, "x");
    }

    #[test]
    fn a_code_in_the_body_wins_over_http_200() {
        let reading = read_body(
            r#"{"code":439,"msg":"Subscription expired","data":null}"#,
            None,
        );
        assert_eq!(
            reading,
            Reading::Status {
                code: 439,
                msg: Some("Subscription expired".into())
            }
        );
        let as_text = read_body(r#"{"code":"503","data":null}"#, None);
        assert_eq!(
            as_text,
            Reading::Status {
                code: 503,
                msg: None
            }
        );
    }

    #[test]
    fn unusable_bodies_say_why() {
        let cases = [
            ("", AnswerProblem::Empty),
            ("  \n", AnswerProblem::Empty),
            ("<html>502 Bad Gateway</html>", AnswerProblem::NotJson),
            ("[1,2]", AnswerProblem::NotJson),
            (r#"{"code":200,"msg":"success"}"#, AnswerProblem::NoData),
            (r#"{"code":200,"data":null}"#, AnswerProblem::NoData),
            (
                r#"{"code":200,"data":{"detail_imgs":"a.jpg"}}"#,
                AnswerProblem::UnexpectedShape,
            ),
            (
                r#"{"code":200,"data":{"item_id":[1]}}"#,
                AnswerProblem::UnexpectedShape,
            ),
            (
                r#"{"code":200,"data":"text"}"#,
                AnswerProblem::UnexpectedShape,
            ),
        ];
        for (body, problem) in cases {
            assert_eq!(read_body(body, None), Reading::Unusable(problem), "{body}");
        }
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(
            excerpt(b"<html>\n  <body>oops</body>\n</html>", None),
            "<html> <body>oops</body> </html>"
        );

        let long = "x".repeat(1000);
        let shown = excerpt(long.as_bytes(), None);
        assert_eq!(shown.chars().count(), EXCERPT_CHARS + 1);
        assert!(shown.ends_with('…'));

        let not_utf8 = excerpt(&[0xff, 0xfe, b'a'], None);
        assert!(not_utf8.ends_with('a'));
    }

    #[test]
    fn excerpts_never_hold_the_token() {
        let token = Some("SECRET-TOKEN-123");
        let echoed = b"<p>bad request: /1688/item_desc?item_id=1&apiToken=SECRET-TOKEN-123</p>";
        assert!(!excerpt(echoed, token).contains("SECRET-TOKEN-123"));

        // The token straddles the shown part's end: it must go before the text is cut.
        let mut straddling = "y".repeat(EXCERPT_CHARS - 5);
        straddling.push_str("SECRET-TOKEN-123 and more");
        let shown = excerpt(straddling.as_bytes(), token);
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn excerpts_never_hold_a_token_pulled_in_by_collapsed_whitespace() {
        // Whitespace runs shrink to one space, so text from far into the body can be shown;
        // a token there must be redacted whole, not cut before it is recognised.
        let token = "SECRET-TOKEN-123";
        for padding in [" ", "\n", "\t", "\u{3000}"] {
            for run in [400, 480, 485, 490, 2000] {
                let body = format!("x{}{token} tail", padding.repeat(run));
                let shown = excerpt(body.as_bytes(), Some(token));
                assert!(!shown.contains("SECRET-TOKEN-12"), "{run}: {shown}");
            }
        }
        let with_invalid_utf8 = [b"x".as_slice(), &[0xff; 500], token.as_bytes()].concat();
        let shown = excerpt(&with_invalid_utf8, Some(token));
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn error_details_come_from_json_bodies_only() {
        assert_eq!(
            error_detail(br#"{"detail":"Not Found"}"#, None).as_deref(),
            Some("Not Found")
        );
        assert_eq!(
            error_detail(br#"{"code":400,"msg":"bad"}"#, None).as_deref(),
            Some("bad")
        );
        assert_eq!(error_detail(b"Not Found", None), None);
        assert_eq!(error_detail(b"", None), None);
        assert_eq!(error_detail(br#"{"msg":"  "}"#, None), None);
    }

    mod properties {
        use super::*;
        use crate::text::has_unsafe_chars;
        use proptest::prelude::*;
        use serde_json::json;

        const TOKEN: &str = "SECRET-TOKEN-123";

        /// Text that a hostile or broken server might send: controls, bidi marks, wide
        /// spaces, the token and its parts, quotes and braces.
        fn hostile_text() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                Just(TOKEN.to_string()),
                Just("SECRET-".to_string()),
                Just("TOKEN-123".to_string()),
                Just("apiToken=".to_string()),
                Just("\u{1b}]0;x\u{7}".to_string()),
                Just("\u{9b}31m".to_string()),
                Just("\u{202e}".to_string()),
                Just("\u{3000}".to_string()),
                "[ \t\r\n]{1,300}",
                "[a-z{}\":,0-9]{0,12}",
                any::<String>(),
            ];
            prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
        }

        /// JSON values shaped more or less like an answer.
        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                hostile_text().prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 24, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::vec(
                        (
                            prop_oneof![
                                Just("code".to_string()),
                                Just("msg".to_string()),
                                Just("data".to_string()),
                                Just("item_id".to_string()),
                                Just("detail_imgs".to_string()),
                                Just("detail_html".to_string()),
                                "[a-z_]{1,8}",
                            ],
                            inner
                        ),
                        0..6
                    )
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
                ]
            })
        }

        /// An envelope with a code that is often an error's and a `data` that is often close
        /// to a description.
        fn envelope() -> impl Strategy<Value = Value> {
            let code = prop_oneof![
                Just(json!(200)),
                Just(json!("200")),
                Just(json!(439)),
                Just(json!("503")),
                any::<u16>().prop_map(Value::from),
                json_value(),
            ];
            let imgs = prop::collection::vec(
                prop_oneof![hostile_text().prop_map(Value::String), Just(Value::Null)],
                0..4,
            );
            let data = prop_oneof![
                (any::<u64>(), imgs, hostile_text()).prop_map(|(id, imgs, html)| json!({
                    "item_id": id, "detail_imgs": imgs, "detail_html": html,
                })),
                json_value(),
            ];
            (code, hostile_text(), data)
                .prop_map(|(code, msg, data)| json!({ "code": code, "msg": msg, "data": data }))
        }

        fn assert_kept_text_is_safe(text: &str) -> Result<(), TestCaseError> {
            prop_assert!(!has_unsafe_chars(text), "{:?}", text);
            prop_assert!(!text.contains(TOKEN), "{:?}", text);
            // At most the shown characters and the `…`, each shown character at worst a
            // placeholder such as `[U+202E]`.
            let widest = "[U+202E]".len();
            prop_assert!(
                text.chars().count() <= EXCERPT_CHARS * widest + 1,
                "{:?}",
                text
            );
            Ok(())
        }

        fn assert_reading_is_safe(body: &str) -> Result<(), TestCaseError> {
            match read_body(body, Some(TOKEN)) {
                Reading::Desc(desc) => {
                    // Kept raw (it is sanitised where shown), and whole through the cache.
                    let json = serde_json::to_string(&desc).expect("serialises");
                    prop_assert_eq!(serde_json::from_str::<ItemDesc>(&json).ok(), Some(desc));
                }
                Reading::Status { code, msg } => {
                    prop_assert_ne!(code, 200);
                    if let Some(msg) = msg {
                        assert_kept_text_is_safe(&msg)?;
                    }
                }
                Reading::Unusable(_) => {}
            }
            Ok(())
        }

        proptest! {
            #[test]
            fn any_text_reads_without_panic_and_keeps_only_safe_text(body in hostile_text()) {
                assert_reading_is_safe(&body)?;
                assert_kept_text_is_safe(&excerpt(body.as_bytes(), Some(TOKEN)))?;
                if let Some(detail) = error_detail(body.as_bytes(), Some(TOKEN)) {
                    assert_kept_text_is_safe(&detail)?;
                }
            }

            #[test]
            fn any_envelope_reads_without_panic_and_keeps_only_safe_text(value in envelope()) {
                let body = value.to_string();
                assert_reading_is_safe(&body)?;
                if let Some(detail) = error_detail(body.as_bytes(), Some(TOKEN)) {
                    assert_kept_text_is_safe(&detail)?;
                }
            }

            #[test]
            fn any_bytes_make_a_safe_excerpt(body in prop::collection::vec(any::<u8>(), 0..2000)) {
                assert_kept_text_is_safe(&excerpt(&body, Some(TOKEN)))?;
                if let Ok(text) = std::str::from_utf8(&body) {
                    assert_reading_is_safe(text)?;
                }
            }

            #[test]
            fn a_description_with_its_code_reads_back(id in 1u64.., imgs in prop::collection::vec(any::<String>(), 0..5), html in any::<String>()) {
                let body = json!({"code": 200, "msg": "success", "data": {
                    "item_id": id, "detail_imgs": imgs, "detail_html": html,
                }});
                let reading = read_body(&body.to_string(), Some(TOKEN));
                prop_assert_eq!(reading, Reading::Desc(ItemDesc {
                    item_id: Some(id.to_string()),
                    detail_imgs: imgs,
                    detail_html: html,
                }));
            }
        }
    }
}
