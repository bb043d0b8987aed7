//! A pseudo-terminal that runs the built binary and answers nothing: for the tests that drive
//! the browser in a terminal of their own (T2, T3, signals, N1's screen).

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcgetattr, tcsetwinsize, LocalModes, Winsize};

/// The binary on a pty of its own; everything it writes is collected.
pub struct Pty {
    pub child: Child,
    size: (u16, u16),
    master: File,
    slave: File,
    output: Arc<Mutex<Vec<u8>>>,
    started: Instant,
}

impl Pty {
    pub fn spawn(args: &[&str], cols: u16, rows: u16) -> Pty {
        Self::spawn_with_env(args, &[], cols, rows)
    }

    pub fn spawn_with_env(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Pty {
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
            size: (rows, cols),
        }
    }

    /// The screen as a user sees it now, one line per row.
    pub fn screen(&self) -> String {
        let (rows, cols) = self.size;
        let mut parser = vt100::Parser::new(rows, cols, 0);
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    /// Waits until the screen (not the byte stream) shows `needle`.
    pub fn wait_for_screen(&self, what: &str, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.screen().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    pub fn wait_for(&self, what: &str, needle: &str) -> Duration {
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

    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }

    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
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

    /// Input is cooked and echoed, as a shell leaves it.
    pub fn assert_cooked(&self) {
        let modes = tcgetattr(&self.slave).unwrap().local_modes;
        assert!(
            modes.contains(LocalModes::ICANON),
            "canonical mode restored"
        );
        assert!(modes.contains(LocalModes::ECHO), "echo restored");
    }

    /// The terminal is back in the user's mode: cooked input, main screen, cursor shown.
    pub fn assert_restored(&self) {
        self.assert_cooked();
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
