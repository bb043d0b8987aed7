//! `descview doctor`: what descview finds on this machine, one line per check, each with
//! ok, warn or fail and what to do if it is wrong.
//!
//! It looks at the terminal (picture protocol and cell size), the clipboard routes, the
//! config file and the directories, whether a token is set, and whether the API answers. It
//! must never show the token (not its value, not its length) and never make a billed call:
//! the API is asked with a plain GET of its base URL, which is not the `item_desc` endpoint
//! and carries no token; any HTTP answer shows that the host is reachable.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use ratatui_image::picker::ProtocolType;
use url::Url;

use crate::clipboard::Clipboard;
use crate::config::{ConfigError, FileState, Protocol, Settings, Source, TokenSource};
use crate::session::Session;
use crate::tui::keys::Command;

/// How long the API has to answer the reachability check.
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// As it should be.
    Ok,
    /// Works, but something may not be what the user wants.
    Warn,
    /// Broken: descview will not work as it is.
    Fail,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The verdict.
    pub status: Status,
    /// What was checked, e.g. `token`.
    pub topic: &'static str,
    /// What was found.
    pub finding: String,
    /// What to do if the finding is wrong.
    pub advice: String,
}

impl Check {
    fn new(status: Status, topic: &'static str, finding: impl Into<String>) -> Self {
        Check {
            status,
            topic,
            finding: finding.into(),
            advice: String::new(),
        }
    }

    fn advise(mut self, advice: impl Into<String>) -> Self {
        self.advice = advice.into();
        self
    }
}

/// Every check, in the order printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.checks
            .iter()
            .filter(|check| check.status == Status::Fail)
            .count()
    }

    /// One line per check: status, topic, finding, and after an arrow what to do if wrong.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let _ = write!(
                out,
                "{:<5} {:<13} {}",
                check.status.word(),
                check.topic,
                check.finding
            );
            if !check.advice.is_empty() {
                let _ = write!(out, " → {}", check.advice);
            }
            out.push('\n');
        }
        out
    }
}

/// Runs every check. `config_problem` is the error that reading the settings gave, when
/// `settings` had to be read without the config file; `demo` checks the in-process stand-in
/// instead of the API.
pub async fn examine(
    settings: &Settings,
    config_problem: Option<&ConfigError>,
    demo: bool,
) -> Report {
    let mut checks = vec![terminal(settings), clipboard(settings)];
    checks.push(config_file(settings, config_problem));
    checks.push(directory(
        "data dir",
        &settings.paths.data_dir,
        "set DESCVIEW_DATA_DIR to move it",
    ));
    checks.extend(local_store(&settings.paths.data_dir));
    checks.push(log_file(settings));
    checks.push(download_dir(settings));
    checks.push(token(settings, demo));
    checks.push(api_base(settings, demo));
    checks.push(api_answers(settings, demo).await);
    checks.push(keys(settings));
    checks.push(colors(settings));
    Report { checks }
}

fn terminal(settings: &Settings) -> Check {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Check::new(
            Status::Warn,
            "terminal",
            "not a terminal (standard input or output is redirected), so the picture \
             protocol was not asked",
        )
        .advise("run `descview doctor` in the terminal you browse in, without pipes");
    }

    let forced = settings.protocol.value.forced();
    // The terminal answers the query on standard input; raw mode keeps the answer from being
    // echoed onto the screen and hands it over without waiting for Enter.
    let raw = crossterm::terminal::enable_raw_mode().is_ok();
    let picker = crate::tui::terminal::detect_picker(forced);
    if raw {
        let _ = crossterm::terminal::disable_raw_mode();
    }

    let (width, height) = picker.font_size();
    let how = match settings.protocol.value {
        Protocol::Auto => "asked the terminal".to_string(),
        _ => format!("forced by {}", settings.protocol.source),
    };
    let finding = format!(
        "pictures by {}, cells of {width}x{height} px ({how})",
        protocol_name(picker.protocol_type())
    );
    match picker.protocol_type() {
        ProtocolType::Halfblocks => Check::new(Status::Warn, "terminal", finding).advise(
            "half-blocks work everywhere but are coarse; if your terminal shows kitty, sixel or \
             iTerm2 pictures, force one with --protocol kitty (or DESCVIEW_PROTOCOL, or \
             protocol in the config file)",
        ),
        _ => Check::new(Status::Ok, "terminal", finding)
            .advise("if pictures look broken, try --protocol halfblocks (or another protocol)"),
    }
}

fn protocol_name(protocol: ProtocolType) -> &'static str {
    match protocol {
        ProtocolType::Halfblocks => "half-blocks",
        ProtocolType::Sixel => "sixel",
        ProtocolType::Kitty => "the kitty protocol",
        ProtocolType::Iterm2 => "iTerm2's protocol",
    }
}

fn clipboard(settings: &Settings) -> Check {
    let limit = settings.osc52_limit.value;
    let native = Clipboard::new(limit).has_native();
    let routes = if native {
        format!("OSC 52 (up to {limit} bytes) and the system clipboard")
    } else {
        format!("OSC 52 only (up to {limit} bytes); no system clipboard (no display server)")
    };
    Check::new(Status::Ok, "clipboard", routes).advise(
        "if copying does nothing, your terminal may ignore OSC 52: inside tmux run `tmux set \
         -g set-clipboard on`; longer text goes to a file whose path the status line shows",
    )
}

fn config_file(settings: &Settings, problem: Option<&ConfigError>) -> Check {
    let path = settings.paths.config_file();
    if let Some(problem) = problem {
        return Check::new(Status::Fail, "config file", problem.to_string())
            .advise("fix the file, or move it away to use the defaults");
    }
    match settings.config_file {
        FileState::Read => Check::new(
            Status::Ok,
            "config file",
            format!("{} (read)", path.display()),
        )
        .advise("`descview config show` lists every setting and where it comes from"),
        FileState::Missing | FileState::Skipped => Check::new(
            Status::Ok,
            "config file",
            format!("{} (none; defaults in use)", path.display()),
        )
        .advise("create it to change settings; set DESCVIEW_CONFIG_DIR to move it"),
    }
}

fn directory(topic: &'static str, dir: &Path, advice: &str) -> Check {
    let state = if dir.is_dir() {
        "exists"
    } else {
        "not created yet"
    };
    Check::new(Status::Ok, topic, format!("{} ({state})", dir.display())).advise(advice)
}

/// The local store, when there is one: a database that cannot be opened means every offer
/// costs an API call again, which the commands only warn about in passing.
fn local_store(data_dir: &Path) -> Option<Check> {
    let location = crate::store::Location::with_data_dir(data_dir.to_path_buf());
    let database = location.database();
    if !database.exists() {
        return None;
    }
    Some(match crate::store::Store::open(&location) {
        Ok(_) => Check::new(
            Status::Ok,
            "local store",
            format!("{} opens", database.display()),
        ),
        Err(error) => Check::new(Status::Fail, "local store", error.to_string()).advise(format!(
            "until it opens, every offer costs an API call; move {} aside and descview starts \
             a new one (the answers kept in it are lost)",
            database.display()
        )),
    })
}

fn log_file(settings: &Settings) -> Check {
    let path = &settings.log_file.value;
    let filter = &settings.log_filter;
    let opened = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        });
    match opened {
        Ok(_) => Check::new(
            Status::Ok,
            "log file",
            format!(
                "{} (filter {}, {})",
                path.display(),
                filter.value,
                filter.source
            ),
        )
        .advise("move it with --log-file or DESCVIEW_LOG_FILE; RUST_LOG=debug logs more"),
        Err(error) => Check::new(
            Status::Warn,
            "log file",
            format!("{} cannot be written: {error}", path.display()),
        )
        .advise(
            "give a writable path with --log-file or DESCVIEW_LOG_FILE, or set DESCVIEW_STATE_DIR",
        ),
    }
}

fn download_dir(settings: &Settings) -> Check {
    let dir = &settings.download_dir.value;
    let advice = "set download_dir in the config file, DESCVIEW_DOWNLOAD_DIR or --download-dir";
    if dir.is_dir() {
        Check::new(
            Status::Ok,
            "download dir",
            format!("{} ({})", dir.display(), settings.download_dir.source),
        )
        .advise(advice)
    } else {
        Check::new(
            Status::Ok,
            "download dir",
            format!(
                "{} ({}; created when the first picture is saved)",
                dir.display(),
                settings.download_dir.source
            ),
        )
        .advise(advice)
    }
}

fn token(settings: &Settings, demo: bool) -> Check {
    if demo {
        return Check::new(Status::Ok, "token", "not needed with --demo")
            .advise("without --demo: run `descview login`, or set TMAPI_TOKEN");
    }
    let token_file = settings.paths.token_file();
    match &settings.token_source {
        TokenSource::NotSet => Check::new(Status::Warn, "token", "not set")
            .advise("run `descview login`, or set TMAPI_TOKEN; `--demo` needs none"),
        TokenSource::File(path) if crate::login::readable_by_others(path) => Check::new(
            Status::Warn,
            "token",
            format!(
                "{}, and others can read the file",
                settings.token_source.describe()
            ),
        )
        .advise(format!("run `chmod 600 {}`", path.display())),
        TokenSource::File(_) => Check::new(Status::Ok, "token", settings.token_source.describe())
            .advise("if the API refuses it, run `descview login` again"),
        TokenSource::Env if token_file.is_file() => Check::new(
            Status::Ok,
            "token",
            format!(
                "{}; the stored token in {} is not used while it is set",
                settings.token_source.describe(),
                token_file.display()
            ),
        )
        .advise("unset TMAPI_TOKEN to use the stored one"),
        TokenSource::Env => Check::new(Status::Ok, "token", settings.token_source.describe())
            .advise("if the API refuses it, check TMAPI_TOKEN against the TMAPI console"),
    }
}

fn api_base(settings: &Settings, demo: bool) -> Check {
    if demo {
        return Check::new(
            Status::Ok,
            "api base",
            "the demo's local stand-in on 127.0.0.1",
        )
        .advise("without --demo the API base is used");
    }
    let base = &settings.api_base;
    let shown = host_and_path(&base.value);
    if base.value.scheme() == "http" {
        Check::new(
            Status::Warn,
            "api base",
            format!("{shown} ({}) is plain http: the token crosses the network unencrypted", base.source),
        )
        .advise("use TLS: TMAPI_BASE=https://api.tmapi.io, or api_base in the config file; --auth header keeps the token out of URLs")
    } else {
        Check::new(Status::Ok, "api base", format!("{shown} ({})", base.source))
            .advise("change it with --api-base, TMAPI_BASE or api_base in the config file")
    }
}

/// Scheme, host, port and path of a base, without its query (a base pasted with its query
/// could carry a token).
fn host_and_path(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

async fn api_answers(settings: &Settings, demo: bool) -> Check {
    // With the demo, the session starts the stand-in and its client points at it.
    let session = match Session::open(&settings.session_config(demo)).await {
        Ok(session) => session,
        Err(error) => {
            return Check::new(Status::Fail, "api", error.to_string())
                .advise("check --api-base, TMAPI_BASE or api_base in the config file")
        }
    };
    let mut base = session.client.config().base.clone();
    base.set_query(None);
    base.set_fragment(None);
    let shown = host_and_path(&base);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(API_TIMEOUT)
        .build();
    let http = match http {
        Ok(http) => http,
        Err(error) => {
            return Check::new(
                Status::Fail,
                "api",
                format!("could not set up HTTP: {}", error.without_url()),
            )
            .advise("report this as a bug")
        }
    };
    match http.get(base).send().await {
        Ok(response) => Check::new(
            Status::Ok,
            "api",
            format!(
                "{shown} answered (HTTP {}) to a plain GET of the base; no item_desc call, \
                 nothing billed",
                response.status().as_u16()
            ),
        )
        .advise("if calls still fail, check the token (`descview login`) and --auth"),
        Err(error) => {
            let error = error.without_url();
            let reason = if error.is_timeout() {
                format!("no answer within {} s", API_TIMEOUT.as_secs())
            } else {
                innermost_cause(&error)
            };
            Check::new(
                Status::Fail,
                "api",
                format!("{shown} did not answer: {}", crate::text::sanitize(&reason)),
            )
            .advise("check the network, any proxy (HTTPS_PROXY, HTTP_PROXY) and the API base")
        }
    }
}

fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn keys(settings: &Settings) -> Check {
    let unbound: Vec<&str> = Command::ALL
        .iter()
        .filter(|command| settings.keymap.keys_for(**command).is_empty())
        .map(|command| command.name())
        .collect();
    if !unbound.is_empty() {
        return Check::new(
            Status::Warn,
            "keys",
            format!("no key for: {}", unbound.join(", ")),
        )
        .advise("another command took its key in [keys] of the config file: give it one there");
    }
    let finding = if settings.rebound.is_empty() {
        "the defaults".to_string()
    } else {
        let names: Vec<&str> = settings
            .rebound
            .iter()
            .map(|(command, _)| command.name())
            .collect();
        format!(
            "the defaults, with the config file's keys for {}",
            names.join(", ")
        )
    };
    Check::new(Status::Ok, "keys", finding).advise(
        "`descview config show` lists every binding; change them in [keys] of the config file",
    )
}

fn colors(settings: &Settings) -> Check {
    match settings.colors_off {
        Some(source) => {
            Check::new(Status::Ok, "colours", format!("off ({source})")).advise(match source {
                Source::Env(_) => "unset NO_COLOR to get colours",
                _ => "leave out --no-color to get colours",
            })
        }
        None => Check::new(Status::Ok, "colours", "on")
            .advise("set NO_COLOR=1 or pass --no-color to turn them off; change them in [colors]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_has_the_status_the_topic_the_finding_and_the_advice() {
        let report = Report {
            checks: vec![
                Check::new(Status::Ok, "token", "set (from TMAPI_TOKEN)").advise("run login"),
                Check::new(Status::Fail, "api", "did not answer"),
            ],
        };
        assert_eq!(
            report.render(),
            "ok    token         set (from TMAPI_TOKEN) → run login\n\
             fail  api           did not answer\n"
        );
        assert_eq!(report.failed(), 1);
    }

    #[test]
    fn a_base_is_shown_without_query_or_user() {
        let url = Url::parse("https://user:pw@api.example/v1?apiToken=SECRET#x").unwrap();
        assert_eq!(host_and_path(&url), "https://api.example/v1");
    }
}
