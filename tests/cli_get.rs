//! `descview get` end to end: the built binary against the demo stand-in, the documented
//! example's 15 pictures in order, and each documented error status as a message on stderr
//! with exit status 1.

use std::process::{Command, Output};

fn run(args: &[&str]) -> (Output, tempfile::TempDir) {
    let sandbox = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_descview"))
        .args(args)
        .env("HOME", sandbox.path())
        .env("DESCVIEW_CONFIG_DIR", sandbox.path().join("config"))
        .env("DESCVIEW_DATA_DIR", sandbox.path().join("data"))
        .env("DESCVIEW_CACHE_DIR", sandbox.path().join("cache"))
        .env("DESCVIEW_STATE_DIR", sandbox.path().join("state"))
        .env_remove("TMAPI_TOKEN")
        .env_remove("TMAPI_BASE")
        .output()
        .expect("the binary runs");
    (output, sandbox)
}

fn documented_urls() -> Vec<String> {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/item_desc_622619146604.json")).unwrap();
    fixture["data"]["detail_imgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn d6_get_lists_the_documented_fifteen_pictures_in_order() {
    let (output, _sandbox) = run(&["get", "622619146604", "--demo"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, documented_urls());
}

#[test]
fn get_json_has_item_pictures_and_html() {
    let (output, _sandbox) = run(&[
        "get",
        "https://detail.1688.com/offer/622619146604.html?spm=x",
        "--demo",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["item_id"], 622619146604u64);
    let urls: Vec<String> = value["pictures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["source"], "detail_imgs");
            p["url"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(urls, documented_urls());
    assert!(value["detail_html"]
        .as_str()
        .unwrap()
        .starts_with("<img src="));
}

#[test]
fn every_documented_error_status_exits_1_with_its_message() {
    let cases = [
        ("600000000417", "failed to retrieve data (417)"),
        ("600000000422", "parameter error (422)"),
        ("600000000439", "balance is too low (439)"),
        ("600000000499", "timed out on its side (499)"),
        ("600000000500", "unexpected error on the API side (500)"),
        ("600000000503", "too many requests at once (503)"),
        ("600000200439", "balance is too low (439)"),
    ];
    let handles: Vec<_> = cases
        .iter()
        .map(|(item, message)| {
            let item = item.to_string();
            let message = message.to_string();
            std::thread::spawn(move || {
                let (output, _sandbox) = run(&["get", &item, "--demo"]);
                let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
                assert_eq!(output.status.code(), Some(1), "{item}: {stderr}");
                assert!(output.stdout.is_empty(), "{item}: nothing on stdout");
                assert!(
                    stderr.contains(&message),
                    "{item}: expected {message:?} in {stderr:?}"
                );
                assert_eq!(stderr.lines().count(), 1, "{item}: one line: {stderr:?}");
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn bad_input_exits_2_and_says_what_is_accepted() {
    for (input, expected) in [
        ("hello", "not an offer ID"),
        ("", "no offer ID"),
        (
            "https://item.taobao.com/item.htm?id=12345",
            "taobao and tmall",
        ),
        ("123456789012345678901", "at most 20 digits"),
    ] {
        let (output, _sandbox) = run(&["get", input, "--demo"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{input:?}: {stderr}");
        assert!(stderr.contains(expected), "{input:?}: {stderr}");
    }
}

#[test]
fn without_a_token_get_says_how_to_set_one() {
    let (output, _sandbox) = run(&["get", "622619146604", "--api-base", "http://127.0.0.1:9"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TMAPI_TOKEN"), "{stderr}");
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let sandbox = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_descview"))
        .args(["get", "622619146604", "--demo", "--json"])
        .env("DESCVIEW_CONFIG_DIR", sandbox.path().join("config"))
        .env("DESCVIEW_DATA_DIR", sandbox.path().join("data"))
        .env("DESCVIEW_CACHE_DIR", sandbox.path().join("cache"))
        .env("DESCVIEW_STATE_DIR", sandbox.path().join("state"))
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
