//! The browser in a bare pseudo-terminal that never answers capability queries (handed case
//! T3), at tiny sizes (T2), and killed by signals: the first frame comes without waiting on
//! the terminal, every key arrives, and the terminal is restored on every way out.

#![cfg(unix)]

use std::time::Duration;

#[path = "support/pty.rs"]
mod pty;

use pty::Pty;

#[test]
fn t3_a_terminal_that_never_answers_still_gets_the_browser() {
    let mut pty = Pty::spawn(&["--demo", "622619146604"], 120, 40);
    let first_frame = pty.wait_for("the first frame", "Offer ID or 1688 link");
    // The capability query gives up after 250 ms; ratatui-image's own query would wait 2 s.
    // A generous bound: this is a "does not wait on the terminal" check, not a benchmark.
    assert!(
        first_frame < Duration::from_millis(1900),
        "first frame after {first_frame:?}"
    );
    eprintln!("first frame after {first_frame:?}");

    pty.wait_for("the offer", "Preview 1/15");
    pty.send(b"j");
    pty.send(b"j");
    pty.send(b"\x0c");
    pty.wait_for("two moves", "Preview 3/15");
    pty.wait_for("a picture drawn in half-blocks", "▀");
    pty.send(b"q");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
    pty.assert_restored();
}

#[test]
fn t2_tiny_terminals_get_a_note_and_are_restored() {
    for (cols, rows) in [(1, 1), (10, 3), (20, 5), (80, 2)] {
        let mut pty = Pty::spawn(&["--demo", "622619146604"], cols, rows);
        if cols >= 20 && rows >= 2 {
            pty.wait_for("the note", "too small");
        } else {
            pty.wait_for("the alternate screen", "\x1b[?1049h");
            std::thread::sleep(Duration::from_millis(300));
        }
        for key in [&b"?"[..], b"j", b"z", b"\t"] {
            pty.send(key);
        }
        pty.send(b"\x03");
        let status = pty.wait_exit();
        assert!(
            status.success(),
            "{cols}x{rows}: {status:?}\n{}",
            pty.text()
        );
        pty.assert_restored();
    }
}

#[test]
fn signals_end_the_browser_and_restore_the_terminal() {
    for (signal, number) in [
        (rustix::process::Signal::TERM, 15),
        (rustix::process::Signal::HUP, 1),
    ] {
        let mut pty = Pty::spawn(&["--demo"], 100, 30);
        pty.wait_for("the first frame", "Offer ID or 1688 link");
        let pid = rustix::process::Pid::from_child(&pty.child);
        rustix::process::kill_process(pid, signal).unwrap();
        let status = pty.wait_exit();
        let expected = 128 + number;
        assert_eq!(
            status.code(),
            Some(expected),
            "{signal:?}: exit 128 + its number"
        );
        pty.assert_restored();
    }
}

#[test]
fn a_panic_restores_the_terminal_before_its_message() {
    let mut pty = Pty::spawn_with_env(&["--demo"], &[("DESCVIEW_TEST_PANIC_ON_KEY", "1")], 100, 30);
    pty.wait_for("the first frame", "Offer ID or 1688 link");
    pty.send(b"x");
    let status = pty.wait_exit();
    assert!(!status.success());
    pty.assert_restored();
    let text = pty.text();
    let message = text
        .find("test panic on a key")
        .expect("the panic message is printed");
    assert!(
        message > text.rfind("\x1b[?1049l").unwrap(),
        "printed on the main screen"
    );
}

#[test]
fn key_bindings_from_the_config_file_are_in_force() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.toml"),
        "[keys]\nquit = \"Q\"\ncopy_url = \"x\"\n",
    )
    .unwrap();
    let dir = config.path().display().to_string();
    let mut pty = Pty::spawn_with_env(
        &["--demo", "622619146604"],
        &[
            ("DESCVIEW_CONFIG_DIR", dir.as_str()),
            ("DESCVIEW_DATA_DIR", dir.as_str()),
        ],
        160,
        40,
    );
    pty.wait_for("the offer", "Preview 1/15");
    pty.send(b"q");
    pty.wait_for_screen("the hints with the new keys", "x copy");
    pty.wait_for_screen("the hints with the new keys", "Q quit");
    pty.send(b"x");
    pty.wait_for_screen("the copy by the new key", "copied the URL of picture 1");
    assert!(pty.child.try_wait().unwrap().is_none(), "q no longer quits");
    pty.send(b"Q");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_dumb_terminal_gets_a_message_instead_of_a_garbled_browser() {
    let mut pty = Pty::spawn_with_env(&["--demo"], &[("TERM", "dumb")], 100, 30);
    let status = pty.wait_exit();
    assert_eq!(status.code(), Some(2), "a usage error");
    let text = pty.text();
    assert!(text.contains("TERM=dumb"), "{text}");
    assert!(text.contains("descview get ITEM"), "{text}");
    assert!(
        !text.contains("\x1b[?1049h"),
        "the alternate screen was never entered: {text:?}"
    );
}
