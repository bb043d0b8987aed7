//! `descview show FILE` on a terminal: it asks the terminal about kitty pictures itself, with a
//! deadline and without echoing the answer, and never lets a library ask (viuer's query put
//! `^[[?1;2c` on the screen inside tmux and waits forever on a terminal that does not answer).

#![cfg(unix)]

#[path = "support/pty.rs"]
mod pty;

use pty::Pty;

/// The query ratatui-image's parser sends first: kitty's graphics query.
const KITTY_QUERY: &str = "\x1b_Gi=31,s=1";
/// What starts a kitty picture as `show` writes it.
const KITTY_PICTURE: &str = "\x1b_Ga=T,f=100";

/// A 40x60 PNG in a temporary directory (kept alive by the returned guard).
fn picture() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tall.png");
    image::RgbImage::from_fn(40, 60, |x, y| image::Rgb([x as u8 * 6, y as u8 * 4, 90]))
        .save(&path)
        .unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

#[test]
fn a_terminal_that_never_answers_gets_half_blocks_without_waiting() {
    let (_dir, file) = picture();
    let mut pty = Pty::spawn(&["show", &file, "--width", "20"], 80, 40);
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}\n{}", pty.text());
    let text = pty.text();
    assert!(
        text.contains(KITTY_QUERY),
        "the terminal was asked:\n{text:?}"
    );
    assert!(text.contains('▀'), "half-blocks:\n{text:?}");
    assert!(!text.contains(KITTY_PICTURE), "no kitty picture:\n{text:?}");
    assert_eq!(
        pty.screen().lines().filter(|l| l.contains('▀')).count(),
        15,
        "20 columns of a 40x60 picture are 30 pixel rows, 15 lines"
    );
    pty.assert_cooked();
}

#[test]
fn a_kitty_terminal_gets_a_kitty_picture_sized_from_its_cells_and_nothing_echoed() {
    let (_dir, file) = picture();
    let mut pty = Pty::spawn(&["show", &file, "--width", "20"], 80, 40);
    pty.wait_for("the capability query", KITTY_QUERY);
    // Kitty's answer, the device attributes, 8x16-pixel cells, then the status report.
    pty.send(b"\x1b_Gi=31;OK\x1b\\\x1b[?62;22c\x1b[6;16;8t\x1b[0n");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}\n{}", pty.text());
    let text = pty.text();
    // 20 cells of 8 px are 160 px; 60/40 of that is 240 px, 15 rows of 16 px.
    assert!(
        text.contains("\x1b_Ga=T,f=100,q=2,c=20,r=15,"),
        "a kitty picture 20 cells wide and 15 rows high:\n{text:?}"
    );
    assert!(!text.contains('▀'), "no half-blocks:\n{text:?}");
    let screen = pty.screen();
    assert!(
        !screen.contains("62;22") && !screen.contains("OK") && !screen.contains("16;8"),
        "the terminal's answer is not echoed onto the screen:\n{screen}"
    );
    pty.assert_cooked();
}

#[test]
fn inside_tmux_nothing_is_asked() {
    let (_dir, file) = picture();
    let mut pty = Pty::spawn_with_env(
        &["show", &file, "--width", "20"],
        &[("TMUX", "/tmp/tmux-0/default,1,0")],
        80,
        40,
    );
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}\n{}", pty.text());
    let text = pty.text();
    assert!(
        !text.contains(KITTY_QUERY),
        "no query inside tmux:\n{text:?}"
    );
    assert!(
        !text.contains("\x1b[c"),
        "no device attributes query:\n{text:?}"
    );
    assert!(text.contains('▀'), "half-blocks:\n{text:?}");
}

#[test]
fn forced_protocols_are_drawn_as_asked() {
    let (_dir, file) = picture();
    let mut pty = Pty::spawn(
        &["show", &file, "--width", "20", "--protocol", "halfblocks"],
        80,
        40,
    );
    assert!(pty.wait_exit().success(), "{}", pty.text());
    let text = pty.text();
    assert!(!text.contains(KITTY_QUERY), "half-blocks need no query");
    assert!(text.contains('▀'));

    let mut pty = Pty::spawn(
        &["show", &file, "--width", "20", "--protocol", "kitty"],
        80,
        40,
    );
    assert!(pty.wait_exit().success(), "{}", pty.text());
    // Without an answer about the cells, 8x16 pixels are assumed.
    assert!(
        pty.text().contains("\x1b_Ga=T,f=100,q=2,c=20,r=15,"),
        "{:?}",
        pty.text()
    );
}
