//! The built binary in a real terminal (tmux): start the demo, type an ID, wait for the list,
//! copy a URL, quit, and check that the terminal is restored.
//!
//! Needs `tmux` on the PATH (`.ci/run` installs it). Each run uses its own tmux server socket,
//! so it never touches the user's sessions.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let socket = format!("descview-e2e-{}-{}", std::process::id(), rand_suffix());
        let tmux = Tmux { socket };
        let status = Command::new("tmux")
            .args([
                "-L",
                &tmux.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "48",
            ])
            .args(["-s", "e2e", command])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux must be installed for the end-to-end test (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn wait_for(&self, what: &str, needle: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if needle(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[test]
fn demo_fetch_copy_quit_restores_the_terminal() {
    let binary = env!("CARGO_BIN_EXE_descview");
    let tmux = Tmux::start(&format!(
        "{binary} --demo; echo DESCVIEW-EXIT=$?; stty -a; sleep 60"
    ));

    tmux.wait_for("the start screen", |s| {
        s.contains("demo catalogue") && s.contains("622619146604")
    });
    tmux.keys(&["622619146604", "Enter"]);
    let screen = tmux.wait_for("the list with picture sizes", |s| {
        s.contains("Pictures of 622619146604 (15)") && s.matches("JPEG 790×").count() >= 15
    });
    assert!(screen.contains("Preview 1/15"), "{screen}");

    tmux.keys(&["j", "y"]);
    tmux.wait_for("the copy message", |s| {
        s.contains("copied the URL of picture 2")
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let buffer = loop {
        let buffer = tmux.run(&["show-buffer"]);
        if !buffer.is_empty() || Instant::now() > deadline {
            break buffer;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        buffer.trim_end(),
        "https://cbu01.alicdn.com/img/ibank/2020/901/478/17766874109_1283248032.jpg",
        "OSC 52 reached tmux's buffer"
    );

    tmux.keys(&["q"]);
    // `stty -a` prints after the exit status: wait for both, or the capture can fall between.
    let after = tmux.wait_for("the program to exit and stty to report", |s| {
        s.contains("DESCVIEW-EXIT=") && s.contains("icanon")
    });
    assert!(after.contains("DESCVIEW-EXIT=0"), "{after}");
    // Raw mode is off again: the line discipline echoes and edits lines.
    assert!(
        after.contains(" icanon") && after.contains(" echo "),
        "{after}"
    );
    assert!(!after.contains("-icanon"), "{after}");
    assert_eq!(
        tmux.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert_eq!(
        tmux.run(&["display-message", "-p", "-t", "e2e", "#{cursor_flag}"])
            .trim(),
        "1"
    );
}
