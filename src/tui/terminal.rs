//! Owning the terminal: raw mode and the alternate screen on the way in, the user's terminal
//! exactly as it was on every way out (normal exit, error, panic, signal), and the one-time
//! query of the terminal's picture protocol.
//!
//! The capability query never waits long: a terminal that does not answer (a serial console,
//! `script`, some multiplexers) gets half-blocks after [`QUERY_TIMEOUT`], and no thread is left
//! reading stdin, so every later key reaches the browser.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui_image::picker::{Picker, ProtocolType};

/// How long the terminal has to answer the capability query.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(250);

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal into the browser's mode; restores it when dropped.
#[derive(Debug)]
pub struct TerminalGuard(());

impl TerminalGuard {
    /// Enters raw mode, the alternate screen and bracketed paste, and makes sure a panic
    /// restores the terminal before its message is printed.
    pub fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        if let Err(error) = execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            EnableMouseCapture
        ) {
            restore();
            return Err(error);
        }
        Ok(TerminalGuard(()))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the browser's mode if it is on; safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = disable_raw_mode();
        let _ = io::stdout().flush();
    }
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A panic on a worker thread (a decoder failing on a hostile picture) is contained
        // there and reported in the preview pane; printing it would scribble over the screen.
        let on_worker = std::thread::current().name() != Some("main");
        if on_worker && ACTIVE.load(Ordering::SeqCst) {
            tracing::error!("contained panic on a worker thread: {info}");
            return;
        }
        restore();
        previous(info);
    }));
}

/// Picks the picture protocol: the forced one, or what the terminal answers to the query,
/// half-blocks when it does not answer in time.
pub fn detect_picker(forced: Option<ProtocolType>) -> Picker {
    if forced == Some(ProtocolType::Halfblocks) {
        return Picker::halfblocks();
    }
    let (protocol, font_size) = query_terminal();
    // `from_fontsize` is the only constructor that takes measured values without querying
    // again; it is deprecated in favour of a query whose reader thread we must avoid.
    #[allow(deprecated)]
    let mut picker = match font_size {
        Some(size) => Picker::from_fontsize(size),
        None => Picker::halfblocks(),
    };
    // WezTerm draws iTerm2 pictures better than its kitty or sixel ones, and Konsole's kitty
    // and sixel support is known to be broken; trust the environment's guess for both.
    let unreliable_answer = std::env::var_os("WEZTERM_EXECUTABLE").is_some()
        || std::env::var_os("KONSOLE_VERSION").is_some();
    let protocol = if unreliable_answer { None } else { protocol };
    let chosen = match (forced, protocol, font_size) {
        (Some(forced), _, _) => forced,
        (None, Some(answered), Some(_)) => answered,
        (None, None, Some(_)) => picker.protocol_type(),
        // Without a measured cell size only half-blocks keep the picture's shape.
        (None, _, None) => ProtocolType::Halfblocks,
    };
    picker.set_protocol_type(chosen);
    picker
}

/// What `descview show` learns from the terminal before printing: whether it draws kitty
/// pictures, and its cell size in pixels. Asked only when both standard input and output are
/// the terminal, in raw mode so that the answer is read rather than echoed onto the screen,
/// and never for longer than [`QUERY_TIMEOUT`].
pub fn query_for_printing() -> (bool, Option<(u16, u16)>) {
    use std::io::IsTerminal;
    if !(io::stdin().is_terminal() && io::stdout().is_terminal()) {
        return (false, None);
    }
    let was_raw = crossterm::terminal::is_raw_mode_enabled().unwrap_or(false);
    if !was_raw && enable_raw_mode().is_err() {
        return (false, None);
    }
    let (protocol, font_size) = query_terminal();
    if !was_raw {
        let _ = disable_raw_mode();
    }
    (protocol == Some(ProtocolType::Kitty), font_size)
}

#[cfg(unix)]
fn query_terminal() -> (Option<ProtocolType>, Option<(u16, u16)>) {
    use ratatui_image::picker::cap_parser::{Parser, QueryStdioOptions, Response};
    use std::time::Instant;

    let in_tmux = std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"))
        || std::env::var("TERM_PROGRAM").is_ok_and(|t| t == "tmux");
    let query = Parser::query(in_tmux, QueryStdioOptions::default());
    if io::stdout()
        .write_all(query.as_bytes())
        .and_then(|_| io::stdout().flush())
        .is_err()
    {
        return (None, None);
    }

    let deadline = Instant::now() + QUERY_TIMEOUT;
    let mut parser = Parser::new();
    let mut protocol = None;
    let mut font_size = None;
    let stdin = io::stdin();
    'answer: while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let timeout = rustix::event::Timespec {
            tv_sec: left.as_secs() as _,
            tv_nsec: left.subsec_nanos() as _,
        };
        let mut fds = [rustix::event::PollFd::new(
            &stdin,
            rustix::event::PollFlags::IN,
        )];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let mut buffer = [0u8; 256];
        let read = match rustix::io::read(&stdin, &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for byte in &buffer[..read] {
            for response in parser.push(char::from(*byte)) {
                match response {
                    Response::Kitty => protocol = Some(ProtocolType::Kitty),
                    Response::Sixel if protocol.is_none() => protocol = Some(ProtocolType::Sixel),
                    Response::CellSize(Some((w, h))) if w > 0 && h > 0 => font_size = Some((w, h)),
                    // Every terminal answers the status report last: the answer is complete.
                    Response::Status => break 'answer,
                    _ => {}
                }
            }
        }
    }
    (protocol, font_size)
}

#[cfg(not(unix))]
fn query_terminal() -> (Option<ProtocolType>, Option<(u16, u16)>) {
    (None, None)
}
