//! Running the `descview` binary in a sandbox: its own home, config, data and state
//! directories in a temporary directory, and none of the caller's settings, proxies or
//! display, so that a test never reads or writes the real user's files and gets the same
//! answer on every machine.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The longest a command may run before the test calls it hung; generous, because machines
/// are noisy and a first run may be slow.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Variables that would make a run depend on the machine it runs on.
const MACHINE_VARS: [&str; 15] = [
    "DESCVIEW_CACHE_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "TMUX",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "COLUMNS",
    "TERM_PROGRAM",
];

/// A temporary home for one test's runs.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A fresh sandbox.
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The sandbox's root, which is also `HOME`.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `DESCVIEW_CONFIG_DIR`.
    pub fn config_dir(&self) -> PathBuf {
        self.root().join("config")
    }

    /// `DESCVIEW_STATE_DIR`.
    pub fn state_dir(&self) -> PathBuf {
        self.root().join("state")
    }

    /// `DESCVIEW_DATA_DIR`.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    /// Writes `config.toml`.
    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.config_dir()).expect("the config directory");
        std::fs::write(self.config_dir().join("config.toml"), text).expect("the config file");
    }

    /// The binary with the sandbox's directories and no settings from the caller.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_descview"));
        for var in descview::config::env::ALL.iter().chain(MACHINE_VARS.iter()) {
            command.env_remove(var);
        }
        command
            .env("HOME", self.root())
            .env("DESCVIEW_CONFIG_DIR", self.config_dir())
            .env("DESCVIEW_STATE_DIR", self.state_dir())
            .env("DESCVIEW_DATA_DIR", self.data_dir())
            .env("NO_PROXY", "127.0.0.1,localhost");
        command
    }
}

/// Runs `command` with `stdin` as its standard input (empty when `None`) and returns what it
/// printed; fails the test if it runs longer than [`HANG_LIMIT`].
pub fn run(mut command: Command, stdin: Option<&[u8]>) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");

    let input = stdin.unwrap_or_default().to_vec();
    let mut child_stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        // The child may exit without reading; a broken pipe is not the test's concern.
        let _ = child_stdin.write_all(&input);
    });
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        bytes
    });
    let err_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        bytes
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break status;
        }
        if started.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            panic!("descview ran longer than {HANG_LIMIT:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out_reader.join().expect("reading stdout"),
        stderr: err_reader.join().expect("reading stderr"),
    }
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
