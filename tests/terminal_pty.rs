//! The browser in a bare pseudo-terminal that never answers capability queries (handed case
//! T3), at tiny sizes (T2), and killed by signals: the first frame comes without waiting on
//! the terminal, every key arrives, and the terminal is restored on every way out.

#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcgetattr, tcsetwinsize, LocalModes, Winsize};

struct Pty {
    master: File,
    slave: File,
    output: Arc<Mutex<Vec<u8>>>,
    child: Child,
    started: Instant,
}

impl Pty {
    fn spawn(args: &[&str], cols: u16, rows: u16) -> Pty {
        Self::spawn_with_env(args, &[], cols, rows)
    }

    fn spawn_with_env(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Pty {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pty");
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        tcsetwinsize(
            &master,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();

        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_descview"))
            .args(args)
            .env("TERM", "xterm-256color")
            .env_remove("TMUX")
            .env_remove("TERM_PROGRAM")
            .envs(env.iter().copied())
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()))
            .spawn()
            .expect("the binary starts");

        let master = File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = output.clone();
        // Reads everything the program writes and answers nothing.
        std::thread::spawn(move || {
            let mut buffer = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Pty {
            master,
            slave,
            output,
            child,
            started,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, what: &str, needle: &str) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.text().contains(needle) {
                return self.started.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader drain the last bytes.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the program did not exit:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The terminal is back in the user's mode: cooked input, main screen, cursor shown.
    fn assert_restored(&self) {
        let modes = tcgetattr(&self.slave).unwrap().local_modes;
        assert!(
            modes.contains(LocalModes::ICANON),
            "canonical mode restored"
        );
        assert!(modes.contains(LocalModes::ECHO), "echo restored");
        let text = self.text();
        let left = text
            .rfind("\x1b[?1049l")
            .expect("left the alternate screen");
        let entered = text
            .rfind("\x1b[?1049h")
            .expect("entered the alternate screen");
        assert!(left > entered, "the last switch is back to the main screen");
        assert!(
            text[left..].contains("\x1b[?25h") || text.rfind("\x1b[?25h") > text.rfind("\x1b[?25l"),
            "cursor shown"
        );
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    for signal in [rustix::process::Signal::TERM, rustix::process::Signal::HUP] {
        let mut pty = Pty::spawn(&["--demo"], 100, 30);
        pty.wait_for("the first frame", "Offer ID or 1688 link");
        let pid = rustix::process::Pid::from_child(&pty.child);
        rustix::process::kill_process(pid, signal).unwrap();
        let status = pty.wait_exit();
        assert!(status.success(), "{signal:?}: {status:?}");
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
