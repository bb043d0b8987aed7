//! Settings: where each of descview's settings comes from, and the value in force.
//!
//! Every setting is read from, in order of precedence, a command-line flag, an environment
//! variable, the TOML file `config.toml` in the user's config directory, and a built-in
//! default ([`Settings::resolve`]). This module owns that order, the file's format, the
//! user's directories (config, data, state) and reading the token that `descview login`
//! stored. It is an edge module like `main.rs`: it builds the browser's key table
//! ([`Keymap`]) and colours ([`Theme`]) from the file, and nothing but the command line
//! depends on it.
//!
//! The token is a credential: it is read from `TMAPI_TOKEN` or the token file, never from a
//! flag (a flag shows in `ps`) or the config file (which people share), and no message or
//! rendering made here ever contains it, not even its length. Errors in the file name the file,
//! the line and the key, but never echo the line: a token pasted into the wrong place must
//! not end up on the screen.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::Color;
use ratatui_image::picker::ProtocolType;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::session::SessionConfig;
use crate::tmapi::{self, AuthMode, Token};
use crate::tui::action::Key;
use crate::tui::keys::{key_name, parse_key, Command, Keymap, ALWAYS_QUITS};

/// The config file's name inside the config directory.
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// The token file's name inside the config directory, written by `descview login`.
pub const TOKEN_FILE_NAME: &str = "token";

/// The log file's name inside the state directory.
pub const LOG_FILE_NAME: &str = "descview.log";

/// The default in-memory picture cache: enough for a few dozen decoded description pictures
/// (a 790x6000 picture takes about 19 MB decoded).
pub const DEFAULT_CACHE_SIZE: usize = 256 * 1024 * 1024;

/// What is logged when `RUST_LOG` is not set: descview's own lines from `info` up.
pub const DEFAULT_LOG_FILTER: &str = "descview=info";

/// The application's name in the user's directories.
const APP_NAME: &str = "descview";

/// Every environment variable this module reads.
pub mod env {
    /// The config directory (holds `config.toml` and the token); overrides the platform's.
    pub const CONFIG_DIR: &str = "DESCVIEW_CONFIG_DIR";
    /// The data directory; overrides the platform's.
    pub const DATA_DIR: &str = "DESCVIEW_DATA_DIR";
    /// The state directory (holds the log file); overrides the platform's.
    pub const STATE_DIR: &str = "DESCVIEW_STATE_DIR";
    /// The API base URL.
    pub const API_BASE: &str = "TMAPI_BASE";
    /// Where the token goes: `query` or `header`.
    pub const AUTH: &str = "TMAPI_AUTH";
    /// The API token.
    pub const TOKEN: &str = "TMAPI_TOKEN";
    /// Where saved pictures go.
    pub const DOWNLOAD_DIR: &str = "DESCVIEW_DOWNLOAD_DIR";
    /// The in-memory picture cache's size.
    pub const CACHE_SIZE: &str = "DESCVIEW_CACHE_SIZE";
    /// The picture protocol.
    pub const PROTOCOL: &str = "DESCVIEW_PROTOCOL";
    /// The most bytes sent by OSC 52.
    pub const OSC52_LIMIT: &str = "DESCVIEW_OSC52_LIMIT";
    /// The log file.
    pub const LOG_FILE: &str = "DESCVIEW_LOG_FILE";
    /// Any non-empty value turns colours off (<https://no-color.org>).
    pub const NO_COLOR: &str = "NO_COLOR";
    /// The log filter.
    pub const RUST_LOG: &str = "RUST_LOG";

    /// All of the above, for reading the process's environment once.
    pub const ALL: [&str; 13] = [
        CONFIG_DIR,
        DATA_DIR,
        STATE_DIR,
        API_BASE,
        AUTH,
        TOKEN,
        DOWNLOAD_DIR,
        CACHE_SIZE,
        PROTOCOL,
        OSC52_LIMIT,
        LOG_FILE,
        NO_COLOR,
        RUST_LOG,
    ];
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither the platform nor the environment names a home for descview's files.
    #[error(
        "could not find your home directory to keep descview's settings in: set HOME, or set \
         DESCVIEW_CONFIG_DIR, DESCVIEW_DATA_DIR and DESCVIEW_STATE_DIR"
    )]
    NoHome,

    /// The config file exists but could not be read.
    #[error("could not read the config file {}: {source}: check its permissions", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system reported.
        source: io::Error,
    },

    /// The config file is not valid, or a value in it is wrong.
    #[error("config file {}, line {line}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// What is wrong, naming the key.
        problem: String,
    },

    /// An environment variable holds a value that is not valid for its setting.
    #[error("environment variable {var}: {problem}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        problem: String,
    },

    /// A flag's value is not valid (the flags clap cannot check by itself).
    #[error("{flag}: {problem}")]
    Flag {
        /// The flag, with its dashes.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },

    /// The token file exists but could not be read.
    #[error(
        "could not read the stored token {}: {source}: check its permissions, or run \
         `descview login` again", path.display()
    )]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// What the system reported.
        source: io::Error,
    },
}

/// The environment variables that settings are read from, captured once.
///
/// Tests build one from pairs instead of changing the process's environment, which other
/// tests running at the same time would see.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, Result<String, ()>>,
}

impl Environment {
    /// Reads the variables in [`env::ALL`] from the process's environment.
    pub fn from_process() -> Self {
        let vars = env::ALL
            .iter()
            .filter_map(|name| match std::env::var(name) {
                Ok(value) => Some((name.to_string(), Ok(value))),
                Err(std::env::VarError::NotUnicode(_)) => Some((name.to_string(), Err(()))),
                Err(std::env::VarError::NotPresent) => None,
            })
            .collect();
        Environment { vars }
    }

    /// An environment holding exactly these variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(name, value)| (name.to_string(), Ok(value.to_string())))
            .collect();
        Environment { vars }
    }

    /// The variable's value; `None` when it is unset or blank, because `VAR=` in a shell is
    /// how people switch a variable off without unsetting it.
    pub fn get(&self, var: &'static str) -> Result<Option<&str>, ConfigError> {
        match self.vars.get(var) {
            None => Ok(None),
            Some(Err(())) => Err(ConfigError::Env {
                var,
                problem: "is not valid UTF-8: set it to readable text".to_string(),
            }),
            Some(Ok(value)) if value.trim().is_empty() => Ok(None),
            Some(Ok(value)) => Ok(Some(value.as_str())),
        }
    }
}

/// The directories descview keeps its files in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Holds `config.toml` and the token file (`~/.config/descview` on Linux).
    pub config_dir: PathBuf,
    /// For data descview keeps (`~/.local/share/descview` on Linux).
    pub data_dir: PathBuf,
    /// Holds the log file (`~/.local/state/descview` on Linux).
    pub state_dir: PathBuf,
}

impl Paths {
    /// The platform's directories (which follow `XDG_CONFIG_HOME`, `XDG_DATA_HOME` and
    /// `XDG_STATE_HOME` on Linux), each replaced by its `DESCVIEW_*_DIR` variable when set.
    pub fn resolve(environment: &Environment) -> Result<Paths, ConfigError> {
        let config = environment.get(env::CONFIG_DIR)?.map(expand_home);
        let data = environment.get(env::DATA_DIR)?.map(expand_home);
        let state = environment.get(env::STATE_DIR)?.map(expand_home);
        if let (Some(config_dir), Some(data_dir), Some(state_dir)) = (&config, &data, &state) {
            return Ok(Paths {
                config_dir: config_dir.clone(),
                data_dir: data_dir.clone(),
                state_dir: state_dir.clone(),
            });
        }

        let project =
            directories::ProjectDirs::from("", "", APP_NAME).ok_or(ConfigError::NoHome)?;
        // Only Linux has a state directory; elsewhere the log goes with the local data, which
        // is where those platforms keep logs that are not shared between machines.
        let platform_state = project
            .state_dir()
            .unwrap_or_else(|| project.data_local_dir())
            .to_path_buf();
        Ok(Paths {
            config_dir: config.unwrap_or_else(|| project.config_dir().to_path_buf()),
            data_dir: data.unwrap_or_else(|| project.data_dir().to_path_buf()),
            state_dir: state.unwrap_or(platform_state),
        })
    }

    /// `config.toml` in the config directory.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join(CONFIG_FILE_NAME)
    }

    /// The token file in the config directory.
    pub fn token_file(&self) -> PathBuf {
        self.config_dir.join(TOKEN_FILE_NAME)
    }

    /// The log file in the state directory.
    pub fn default_log_file(&self) -> PathBuf {
        self.state_dir.join(LOG_FILE_NAME)
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The config file.
    File,
    /// This environment variable.
    Env(&'static str),
    /// This flag.
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str("config file"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value in force.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

/// The picture protocol setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Ask the terminal; half-blocks when it does not answer.
    Auto,
    /// Unicode half blocks with true colour; works everywhere.
    Halfblocks,
    /// Sixel graphics.
    Sixel,
    /// The kitty graphics protocol.
    Kitty,
    /// iTerm2's inline images.
    Iterm2,
}

impl Protocol {
    /// The protocol to force, or `None` to ask the terminal.
    pub fn forced(self) -> Option<ProtocolType> {
        match self {
            Protocol::Auto => None,
            Protocol::Halfblocks => Some(ProtocolType::Halfblocks),
            Protocol::Sixel => Some(ProtocolType::Sixel),
            Protocol::Kitty => Some(ProtocolType::Kitty),
            Protocol::Iterm2 => Some(ProtocolType::Iterm2),
        }
    }

    /// The name the file, the variable and the flag use.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Auto => "auto",
            Protocol::Halfblocks => "halfblocks",
            Protocol::Sixel => "sixel",
            Protocol::Kitty => "kitty",
            Protocol::Iterm2 => "iterm2",
        }
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Protocol::Auto),
            "halfblocks" | "half-blocks" => Ok(Protocol::Halfblocks),
            "sixel" => Ok(Protocol::Sixel),
            "kitty" => Ok(Protocol::Kitty),
            "iterm2" | "iterm" => Ok(Protocol::Iterm2),
            _ => Err(format!(
                "{text:?} is not a picture protocol: use auto, halfblocks, sixel, kitty or iterm2"
            )),
        }
    }
}

/// The browser's colours, by role. With colours off every role is the terminal's own
/// foreground ([`Color::Reset`]) and `colors` is false, so the view can mark what colour
/// marked (selection, errors) with reverse video or bold instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Focus, prompts, key names, offer IDs.
    pub accent: Color,
    /// Success: a fetched picture, a done copy.
    pub ok: Color,
    /// Attention: the input line's text, notes that need a look.
    pub warn: Color,
    /// Errors.
    pub error: Color,
    /// Secondary text: hints, counts, placeholders.
    pub dim: Color,
    /// Colours are on; false with `NO_COLOR` or `--no-color`.
    pub colors: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            accent: Color::Cyan,
            ok: Color::Green,
            warn: Color::Yellow,
            error: Color::Red,
            dim: Color::DarkGray,
            colors: true,
        }
    }
}

impl Theme {
    /// No colours at all: every role uses the terminal's foreground.
    pub fn no_color() -> Self {
        Theme {
            accent: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            error: Color::Reset,
            dim: Color::Reset,
            colors: false,
        }
    }
}

/// The colour settings, each with its source, before `NO_COLOR` is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colors {
    /// `[colors] accent`.
    pub accent: Setting<Color>,
    /// `[colors] ok`.
    pub ok: Setting<Color>,
    /// `[colors] warn`.
    pub warn: Setting<Color>,
    /// `[colors] error`.
    pub error: Setting<Color>,
    /// `[colors] dim`.
    pub dim: Setting<Color>,
}

impl Colors {
    /// Each colour setting with its name in the file.
    pub fn named(&self) -> [(&'static str, &Setting<Color>); 5] {
        [
            ("accent", &self.accent),
            ("ok", &self.ok),
            ("warn", &self.warn),
            ("error", &self.error),
            ("dim", &self.dim),
        ]
    }
}

/// Where the token in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// No token is set.
    NotSet,
    /// The `TMAPI_TOKEN` variable.
    Env,
    /// The token file that `descview login` wrote.
    File(PathBuf),
}

impl TokenSource {
    /// How `config show` and `doctor` say it: whether a token is set and where from, never
    /// anything about the value.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::NotSet => "not set".to_string(),
            TokenSource::Env => format!("set (from {})", env::TOKEN),
            TokenSource::File(path) => format!("set (from the token file {})", path.display()),
        }
    }
}

/// Whether the config file was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// It was read.
    Read,
    /// There is none; defaults are in force.
    Missing,
    /// It was not read (`doctor` after the file failed to parse).
    Skipped,
}

/// Values given as flags, which win over everything else. `None` (or `false`) leaves the
/// setting to the environment, the file and the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--api-base`.
    pub api_base: Option<String>,
    /// `--auth`.
    pub auth: Option<AuthMode>,
    /// `--download-dir`.
    pub download_dir: Option<PathBuf>,
    /// `--cache-size`, in bytes.
    pub cache_size: Option<usize>,
    /// `--protocol`.
    pub protocol: Option<Protocol>,
    /// `--osc52-limit`, in bytes.
    pub osc52_limit: Option<usize>,
    /// `--log-file`.
    pub log_file: Option<PathBuf>,
    /// `--no-color`.
    pub no_color: bool,
    /// `--api-timeout`: the limit for one API call, retries included.
    pub api_timeout: Option<std::time::Duration>,
}

/// The commands that the file's `[keys]` rebinds, each with its keys.
pub type Rebound = Vec<(Command, Vec<Key>)>;

/// Every setting in force, each with where it came from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The directories in use.
    pub paths: Paths,
    /// Whether the config file was read.
    pub config_file: FileState,
    /// The API base URL.
    pub api_base: Setting<Url>,
    /// Where the token goes in a request.
    pub auth: Setting<AuthMode>,
    /// The token, from `TMAPI_TOKEN` or the token file.
    pub token: Option<Token>,
    /// Where the token came from.
    pub token_source: TokenSource,
    /// Where saved pictures go.
    pub download_dir: Setting<PathBuf>,
    /// Bytes of decoded pictures kept in memory.
    pub cache_size: Setting<usize>,
    /// The picture protocol.
    pub protocol: Setting<Protocol>,
    /// The most bytes of text sent by OSC 52.
    pub osc52_limit: Setting<usize>,
    /// The log file.
    pub log_file: Setting<PathBuf>,
    /// The log filter (`RUST_LOG`, or [`DEFAULT_LOG_FILTER`]).
    pub log_filter: Setting<String>,
    /// The key table in force: the defaults with the file's `[keys]` applied.
    pub keymap: Keymap,
    /// The commands that the file's `[keys]` rebinds, with their keys, in command order.
    pub rebound: Rebound,
    /// The colours in force (all off with `NO_COLOR` or `--no-color`).
    pub theme: Theme,
    /// The colour settings, each with its source.
    pub colors: Colors,
    /// What turned colours off, if anything did.
    pub colors_off: Option<Source>,
    /// The limit for one API call, retries included (`--api-timeout`, a hidden flag); the
    /// API's 60 s when `None`.
    pub api_timeout: Option<std::time::Duration>,
}

impl Settings {
    /// Reads every setting: flags over environment variables over the config file over the
    /// defaults.
    pub fn resolve(flags: &Overrides, environment: &Environment) -> Result<Settings, ConfigError> {
        let paths = Paths::resolve(environment)?;
        let file = ConfigFile::load(&paths.config_file())?;
        Self::build(flags, environment, paths, file)
    }

    /// Like [`Settings::resolve`] without reading the config file, for `doctor` to go on
    /// after reporting a broken file.
    pub fn resolve_without_file(
        flags: &Overrides,
        environment: &Environment,
    ) -> Result<Settings, ConfigError> {
        let paths = Paths::resolve(environment)?;
        let mut settings = Self::build(flags, environment, paths, None)?;
        settings.config_file = FileState::Skipped;
        Ok(settings)
    }

    fn build(
        flags: &Overrides,
        environment: &Environment,
        paths: Paths,
        file: Option<ConfigFile>,
    ) -> Result<Settings, ConfigError> {
        let config_file = if file.is_some() {
            FileState::Read
        } else {
            FileState::Missing
        };
        let file = file.unwrap_or_default();
        let values = &file.values;
        let layer = Layers {
            environment,
            file: &file,
        };

        let api_base = layer.pick(
            flags.api_base.clone().map(|text| parse_base(&text)),
            ("--api-base", env::API_BASE, &values.api_base),
            parse_base,
            || Url::parse(tmapi::DEFAULT_BASE).map_err(|error| error.to_string()),
        )?;
        let auth = layer.pick(
            flags.auth.map(Ok),
            ("--auth", env::AUTH, &values.auth),
            parse_auth,
            || Ok(AuthMode::default()),
        )?;
        let download_dir = layer.pick(
            flags.download_dir.clone().map(Ok),
            ("--download-dir", env::DOWNLOAD_DIR, &values.download_dir),
            |text| Ok(expand_home(text)),
            || Ok(default_download_dir()),
        )?;
        let cache_size = layer.pick(
            flags.cache_size.map(Ok),
            ("--cache-size", env::CACHE_SIZE, &values.cache_size),
            parse_size,
            || Ok(DEFAULT_CACHE_SIZE),
        )?;
        let protocol = layer.pick(
            flags.protocol.map(Ok),
            ("--protocol", env::PROTOCOL, &values.protocol),
            Protocol::from_str,
            || Ok(Protocol::Auto),
        )?;
        let osc52_limit = layer.pick(
            flags.osc52_limit.map(Ok),
            ("--osc52-limit", env::OSC52_LIMIT, &values.osc52_limit),
            parse_size,
            || Ok(crate::clipboard::DEFAULT_OSC52_LIMIT),
        )?;
        let log_file = layer.pick(
            flags.log_file.clone().map(Ok),
            ("--log-file", env::LOG_FILE, &values.log_file),
            |text| Ok(expand_home(text)),
            || Ok(paths.default_log_file()),
        )?;
        let log_filter = match environment.get(env::RUST_LOG)? {
            Some(filter) => Setting {
                value: filter.to_string(),
                source: Source::Env(env::RUST_LOG),
            },
            None => Setting {
                value: DEFAULT_LOG_FILTER.to_string(),
                source: Source::Default,
            },
        };

        let (token, token_source) = match environment.get(env::TOKEN)? {
            Some(value) => (Some(Token::new(value)), TokenSource::Env),
            None => {
                let path = paths.token_file();
                match read_token_file(&path)? {
                    Some(token) => (Some(token), TokenSource::File(path)),
                    None => (None, TokenSource::NotSet),
                }
            }
        };

        let (keymap, rebound) = file.keymap()?;
        let colors = file.colors()?;
        let colors_off = if flags.no_color {
            Some(Source::Flag("--no-color"))
        } else if environment.get(env::NO_COLOR)?.is_some() {
            Some(Source::Env(env::NO_COLOR))
        } else {
            None
        };
        let theme = match colors_off {
            Some(_) => Theme::no_color(),
            None => Theme {
                accent: colors.accent.value,
                ok: colors.ok.value,
                warn: colors.warn.value,
                error: colors.error.value,
                dim: colors.dim.value,
                colors: true,
            },
        };

        Ok(Settings {
            paths,
            config_file,
            api_base,
            auth,
            token,
            token_source,
            download_dir,
            cache_size,
            protocol,
            osc52_limit,
            log_file,
            log_filter,
            keymap,
            rebound,
            theme,
            colors,
            colors_off,
            api_timeout: flags.api_timeout,
        })
    }

    /// What a session needs: the API base, the token and where it goes; with `demo`, the
    /// stand-in instead.
    pub fn session_config(&self, demo: bool) -> SessionConfig {
        SessionConfig {
            demo,
            api_base: Some(self.api_base.value.to_string()),
            token: self.token.as_ref().map(|token| token.expose().to_string()),
            auth: self.auth.value,
            api_timeout: self.api_timeout,
        }
    }

    /// The settings in force as a config file, each line with where its value came from;
    /// what `descview config show` prints. The token appears only as set or not set.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let file_state = match self.config_file {
            FileState::Read => "read",
            FileState::Missing => "not found; defaults in use",
            FileState::Skipped => "not read",
        };
        out.push_str(
            "# descview's settings in force; each line says where its value comes from.\n",
        );
        out.push_str(&format!(
            "# config file: {} ({file_state})\n",
            self.paths.config_file().display()
        ));
        out.push_str(&format!("# token: {}\n", self.token_source.describe()));
        out.push_str(&format!(
            "# log filter: {} ({})\n\n",
            self.log_filter.value, self.log_filter.source
        ));

        let auth = match self.auth.value {
            AuthMode::Query => "query",
            AuthMode::Header => "header",
        };
        let rows: [(&str, String, Source); 7] = [
            (
                "api_base",
                toml_string(self.api_base.value.as_str()),
                self.api_base.source,
            ),
            ("auth", toml_string(auth), self.auth.source),
            (
                "download_dir",
                toml_string(&self.download_dir.value.to_string_lossy()),
                self.download_dir.source,
            ),
            (
                "cache_size",
                toml_string(&format_size(self.cache_size.value)),
                self.cache_size.source,
            ),
            (
                "protocol",
                toml_string(self.protocol.value.name()),
                self.protocol.source,
            ),
            (
                "osc52_limit",
                self.osc52_limit.value.to_string(),
                self.osc52_limit.source,
            ),
            (
                "log_file",
                toml_string(&self.log_file.value.to_string_lossy()),
                self.log_file.source,
            ),
        ];
        for (name, value, source) in rows {
            out.push_str(&format!("{name} = {value}  # {source}\n"));
        }

        out.push_str("\n[colors]");
        if let Some(source) = self.colors_off {
            out.push_str(&format!("  # colours are off ({source})"));
        }
        out.push('\n');
        for (name, setting) in self.colors.named() {
            out.push_str(&format!(
                "{name} = {}  # {}\n",
                toml_string(&color_name(setting.value)),
                setting.source
            ));
        }

        out.push_str("\n[keys]\n");
        for command in self.keymap.commands() {
            let keys: Vec<String> = self
                .keymap
                .keys_for(command)
                .into_iter()
                .map(|key| toml_string(&key_name(key)))
                .collect();
            let source = if self.rebound.iter().any(|(rebound, _)| *rebound == command) {
                Source::File
            } else {
                Source::Default
            };
            let note = if keys.is_empty() { ", no key" } else { "" };
            out.push_str(&format!(
                "{} = [{}]  # {source}{note}\n",
                command.name(),
                keys.join(", ")
            ));
        }
        out
    }
}

/// The three layers under the flags, for one setting at a time.
struct Layers<'a> {
    environment: &'a Environment,
    file: &'a ConfigFile,
}

impl Layers<'_> {
    /// The setting from the first layer that has it: the flag (already parsed), the variable,
    /// the file, the default. `names` is the flag, the variable and the file's entry.
    fn pick<T>(
        &self,
        flag: Option<Result<T, String>>,
        names: (&'static str, &'static str, &Option<Spanned<FileText>>),
        parse: impl Fn(&str) -> Result<T, String>,
        default: impl FnOnce() -> Result<T, String>,
    ) -> Result<Setting<T>, ConfigError> {
        let (flag_name, var, entry) = names;
        if let Some(value) = flag {
            return value
                .map(|value| Setting {
                    value,
                    source: Source::Flag(flag_name),
                })
                .map_err(|problem| ConfigError::Flag {
                    flag: flag_name,
                    problem,
                });
        }
        if let Some(text) = self.environment.get(var)? {
            return parse(text)
                .map(|value| Setting {
                    value,
                    source: Source::Env(var),
                })
                .map_err(|problem| ConfigError::Env { var, problem });
        }
        if let Some(entry) = entry {
            let key = flag_name.trim_start_matches("--").replace('-', "_");
            return parse(&entry.get_ref().0)
                .map(|value| Setting {
                    value,
                    source: Source::File,
                })
                .map_err(|problem| {
                    self.file
                        .error(entry.span(), &format!("`{key}`: {problem}"))
                });
        }
        default()
            .map(|value| Setting {
                value,
                source: Source::Default,
            })
            .map_err(|problem| ConfigError::Flag {
                flag: flag_name,
                problem,
            })
    }
}

/// The config file, read and parsed, with its text for finding lines.
#[derive(Debug, Default)]
struct ConfigFile {
    path: PathBuf,
    text: String,
    values: FileValues,
}

/// What `config.toml` may hold. Unknown keys are errors, so a misspelt setting is reported
/// instead of silently doing nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileValues {
    api_base: Option<Spanned<FileText>>,
    auth: Option<Spanned<FileText>>,
    download_dir: Option<Spanned<FileText>>,
    cache_size: Option<Spanned<FileText>>,
    protocol: Option<Spanned<FileText>>,
    osc52_limit: Option<Spanned<FileText>>,
    log_file: Option<Spanned<FileText>>,
    /// Accepted only to refuse it with a useful message: the token does not belong here.
    token: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    colors: FileColors,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<KeyList>>,
}

/// `[colors]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileColors {
    accent: Option<Spanned<FileText>>,
    ok: Option<Spanned<FileText>>,
    warn: Option<Spanned<FileText>>,
    error: Option<Spanned<FileText>>,
    dim: Option<Spanned<FileText>>,
}

/// A value written as a string or, for sizes, as a plain number; kept as text so that every
/// layer parses it with the same function.
#[derive(Debug, Default)]
struct FileText(String, Written);

/// How a value was written in the file, for the settings that take text only.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Written {
    #[default]
    Text,
    Number,
}

impl<'de> Deserialize<'de> for FileText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = FileText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string (or a number of bytes for a size)")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<FileText, E> {
                Ok(FileText(value.to_string(), Written::Text))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FileText, E> {
                Ok(FileText(value.to_string(), Written::Number))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FileText, E> {
                Ok(FileText(value.to_string(), Written::Number))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// The keys of one command: `"y"` or `["y", "Ctrl-Y"]`.
#[derive(Debug)]
struct KeyList(Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = KeyList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key such as \"y\" or a list such as [\"y\", \"Ctrl-Y\"]")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<KeyList, E> {
                Ok(KeyList(vec![value.to_string()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = seq.next_element::<String>()? {
                    keys.push(key);
                }
                Ok(KeyList(keys))
            }
        }
        deserializer.deserialize_any(KeysVisitor)
    }
}

impl ConfigFile {
    /// Reads and parses the file; `None` when there is none.
    fn load(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mut file = ConfigFile {
            path: path.to_path_buf(),
            text,
            values: FileValues::default(),
        };
        file.values = toml::from_str(&file.text).map_err(|error| {
            let span = error.span().unwrap_or(0..0);
            let problem = match file.key_on_line(span.start) {
                Some(key) => format!("`{key}`: {}", error.message()),
                None => error.message().to_string(),
            };
            file.error(span, &problem)
        })?;
        // A number is welcome for sizes only: `download_dir = 5` is a slip, not a folder "5".
        let values = &file.values;
        for (key, entry) in [
            ("api_base", &values.api_base),
            ("auth", &values.auth),
            ("download_dir", &values.download_dir),
            ("protocol", &values.protocol),
            ("log_file", &values.log_file),
        ] {
            if let Some(entry) = entry.as_ref().filter(|e| e.get_ref().1 == Written::Number) {
                return Err(file.error(
                    entry.span(),
                    &format!("`{key}`: a number where text belongs; write it in quotes"),
                ));
            }
        }
        if let Some(token) = &file.values.token {
            return Err(file.error(
                token.span(),
                "`token`: the token does not belong in the config file (people share config \
                 files): remove it, then run `descview login` or set TMAPI_TOKEN",
            ));
        }
        Ok(Some(file))
    }

    /// An error at this place in the file.
    fn error(&self, span: std::ops::Range<usize>, problem: &str) -> ConfigError {
        ConfigError::File {
            path: self.path.clone(),
            line: self.line_of(span.start),
            problem: problem.trim_end_matches('.').to_string(),
        }
    }

    /// The line, counted from 1, of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        let before = self.text.get(..offset).unwrap_or(&self.text);
        before.matches('\n').count() + 1
    }

    /// The bare key that the line holding `offset` assigns, if it is one: for naming the key
    /// in toml's own errors, which do not always. Only a key's name is taken from the line,
    /// never its value.
    fn key_on_line(&self, offset: usize) -> Option<String> {
        let start = self
            .text
            .get(..offset)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |newline| newline + 1);
        let line = self.text.get(start..)?.lines().next()?;
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        let bare = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        bare.then(|| key.to_string())
    }

    /// The default key table with `[keys]` applied, and what was rebound.
    fn keymap(&self) -> Result<(Keymap, Rebound), ConfigError> {
        let mut rebound: Rebound = Vec::new();
        let mut owners: Vec<(Key, Command)> = Vec::new();
        for (name, list) in &self.values.keys {
            let command = Command::from_name(name.get_ref()).ok_or_else(|| {
                let names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
                self.error(
                    name.span(),
                    &format!(
                        "[keys] `{}` is not a command; the commands are: {}",
                        name.get_ref(),
                        names.join(", ")
                    ),
                )
            })?;
            let mut keys = Vec::new();
            for text in &list.get_ref().0 {
                let key = parse_key(text).ok_or_else(|| {
                    self.error(
                        list.span(),
                        &format!(
                            "[keys] {}: {text:?} is not a key: write keys like y, Y, Ctrl-Y, \
                             Enter, Esc, Tab, Shift-Tab, Up, PageDown, Home or Space",
                            command.name()
                        ),
                    )
                })?;
                if key == ALWAYS_QUITS && command != Command::Quit {
                    return Err(self.error(
                        list.span(),
                        &format!(
                            "[keys] {}: Ctrl-C always quits; give {} another key",
                            command.name(),
                            command.name()
                        ),
                    ));
                }
                if let Some((_, other)) = owners.iter().find(|(owned, _)| *owned == key) {
                    return Err(self.error(
                        list.span(),
                        &format!(
                            "[keys] {} is given to both {} and {}: give each key to one command",
                            key_name(key),
                            other.name(),
                            command.name()
                        ),
                    ));
                }
                owners.push((key, command));
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            rebound.push((command, keys));
        }

        let mut keymap = Keymap::default();
        for (command, keys) in &rebound {
            keymap.rebind(*command, keys);
        }
        rebound.sort_by_key(|(command, _)| Command::ALL.iter().position(|c| c == command));
        Ok((keymap, rebound))
    }

    /// The colour settings from `[colors]` over the defaults.
    fn colors(&self) -> Result<Colors, ConfigError> {
        let defaults = Theme::default();
        let file = &self.values.colors;
        let pick = |name: &str, entry: &Option<Spanned<FileText>>, default: Color| match entry {
            None => Ok(Setting {
                value: default,
                source: Source::Default,
            }),
            Some(entry) => parse_color(&entry.get_ref().0)
                .map(|value| Setting {
                    value,
                    source: Source::File,
                })
                .map_err(|problem| {
                    self.error(entry.span(), &format!("[colors] {name}: {problem}"))
                }),
        };
        Ok(Colors {
            accent: pick("accent", &file.accent, defaults.accent)?,
            ok: pick("ok", &file.ok, defaults.ok)?,
            warn: pick("warn", &file.warn, defaults.warn)?,
            error: pick("error", &file.error, defaults.error)?,
            dim: pick("dim", &file.dim, defaults.dim)?,
        })
    }
}

/// Reads the token that `descview login` stored; `None` when there is no file or it is
/// empty.
pub fn read_token_file(path: &Path) -> Result<Option<Token>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Token::new(&text)).filter(|token| !token.expose().is_empty())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::TokenFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads a size: a number of bytes, or a number with `K`, `M` or `G` (also written `KB`,
/// `KiB`, ...; every unit counts 1024s, as memory sizes do), e.g. `256MB`, `1 GiB`, `74000`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let unit_start = trimmed
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(unit_start);
    let problem = || {
        format!("{text:?} is not a size: write it like 256MB, 1GiB or 74000 (a number of bytes)")
    };
    let number: u64 = digits.replace('_', "").parse().map_err(|_| problem())?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(problem()),
    };
    number
        .checked_mul(multiplier)
        .and_then(|bytes| usize::try_from(bytes).ok())
        .ok_or_else(|| format!("{text:?} is larger than this machine can address"))
}

/// Writes a size the way [`parse_size`] reads it, in the largest unit that divides it.
pub fn format_size(bytes: usize) -> String {
    const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} B")
}

/// Reads an API base: an http or https URL with a host. The value is not echoed in the
/// message, because a base pasted with its query could carry a token.
fn parse_base(text: &str) -> Result<Url, String> {
    Url::parse(text.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| {
            "the API base is not an http or https URL with a host: give one like \
             https://api.tmapi.io"
                .to_string()
        })
}

fn parse_auth(text: &str) -> Result<AuthMode, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "query" => Ok(AuthMode::Query),
        "header" => Ok(AuthMode::Header),
        _ => Err(format!("{text:?} is not an auth mode: use query or header")),
    }
}

/// Reads a colour: a name (`cyan`, `light-blue`, `dark-gray`, `reset`), an index 0 to 255
/// or `#rrggbb`.
pub fn parse_color(text: &str) -> Result<Color, String> {
    Color::from_str(text.trim()).map_err(|_| {
        format!(
            "{text:?} is not a colour: use a name (red, light-blue, dark-gray, ...), a number \
             from 0 to 255, or #rrggbb"
        )
    })
}

/// A colour as the file writes it: `dark-gray`, `light-blue`, `#1e90ff`, `208`.
fn color_name(color: Color) -> String {
    let text = color.to_string();
    if text.starts_with('#') || text.chars().all(|c| c.is_ascii_digit()) {
        return text.to_ascii_lowercase();
    }
    // `DarkGray` -> `dark-gray`.
    let mut name = String::new();
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `~` or `~/...` at the start means the home directory, in the file and in variables (a
/// quoted `~` in a shell reaches us unexpanded).
fn expand_home(text: &str) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf());
    if text == "~" {
        if let Some(home) = home() {
            return home;
        }
    }
    if let Some(rest) = text.strip_prefix("~/") {
        if let Some(home) = home() {
            return home.join(rest);
        }
    }
    PathBuf::from(text)
}

/// The user's download directory; `~/Downloads` where the platform names none, the current
/// directory without a home.
fn default_download_dir() -> PathBuf {
    match directories::UserDirs::new() {
        Some(dirs) => dirs
            .download_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dirs.home_dir().join("Downloads")),
        None => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_with_file(contents: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE_NAME), contents).unwrap();
        let dir_text = dir.path().to_str().unwrap();
        let environment = Environment::from_pairs([
            (env::CONFIG_DIR, dir_text),
            (env::DATA_DIR, dir_text),
            (env::STATE_DIR, dir_text),
        ]);
        Settings::resolve(&Overrides::default(), &environment)
    }

    #[test]
    fn sizes_read_with_and_without_units() {
        assert_eq!(parse_size("256MB"), Ok(256 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert_eq!(parse_size("74000"), Ok(74_000));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1_000"), Ok(1000));
        assert!(parse_size("MB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("-5").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        for bytes in [256 << 20, 74_000, 3 << 30, 5 << 10] {
            assert_eq!(parse_size(&format_size(bytes)), Ok(bytes));
        }
        assert_eq!(format_size(DEFAULT_CACHE_SIZE), "256 MiB");
    }

    #[test]
    fn colour_names_read_back() {
        for color in [
            Color::Cyan,
            Color::DarkGray,
            Color::LightBlue,
            Color::Rgb(30, 144, 255),
            Color::Indexed(208),
        ] {
            assert_eq!(parse_color(&color_name(color)), Ok(color), "{color:?}");
        }
        assert_eq!(color_name(Color::DarkGray), "dark-gray");
        assert!(parse_color("not-a-colour").is_err());
    }

    #[test]
    fn the_keys_table_rebinds_and_names_bad_entries() {
        let settings =
            settings_with_file("[keys]\ncopy_url = \"x\"\nquit = [\"Q\", \"Ctrl-C\"]\n").unwrap();
        assert_eq!(
            settings.keymap.command(Key::Char('x')),
            Some(Command::CopyUrl)
        );
        assert_eq!(settings.keymap.command(Key::Char('y')), None);
        assert_eq!(settings.keymap.command(Key::Char('Q')), Some(Command::Quit));
        assert_eq!(settings.keymap.command(Key::Char('q')), None);
        assert_eq!(settings.rebound.len(), 2);

        let error = settings_with_file("\n[keys]\ncopy_ur = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("copy_ur"), "{error}");
        assert!(error.contains("copy_url, copy_all_urls"), "{error}");

        let error = settings_with_file("[keys]\ncopy_url = \"Hyper-Y\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("Hyper-Y"),
            "{error}"
        );

        let error = settings_with_file("[keys]\ncopy_url = \"x\"\nquit = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("both copy_url and quit"), "{error}");
    }

    #[test]
    fn file_errors_name_the_line_and_key_but_not_the_value() {
        let error = settings_with_file("auth = \"query\"\ncache_size = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("`cache_size`"),
            "{error}"
        );

        let error = settings_with_file("api_base = \"http://x\"\nprotcol = \"kitty\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("protcol"),
            "{error}"
        );

        let error = settings_with_file("cache_size = true\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 1") && error.contains("`cache_size`"),
            "{error}"
        );

        let error = settings_with_file("# mine\ntoken = \"SECRET-IN-FILE\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("descview login"),
            "{error}"
        );
        assert!(!error.contains("SECRET"), "{error}");

        let error = settings_with_file("api_base = \"ftp://SECRET@host\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`api_base`"), "{error}");
        assert!(!error.contains("SECRET"), "{error}");
    }

    #[test]
    fn no_color_turns_every_colour_off() {
        let dir = tempfile::tempdir().unwrap();
        let dir_text = dir.path().to_str().unwrap();
        let base = [
            (env::CONFIG_DIR, dir_text),
            (env::DATA_DIR, dir_text),
            (env::STATE_DIR, dir_text),
        ];
        let with = Environment::from_pairs(base.into_iter().chain([(env::NO_COLOR, "1")]));
        let settings = Settings::resolve(&Overrides::default(), &with).unwrap();
        assert_eq!(settings.theme, Theme::no_color());
        assert_eq!(settings.colors_off, Some(Source::Env("NO_COLOR")));

        // An empty NO_COLOR does not count, as the convention says.
        let empty = Environment::from_pairs(base.into_iter().chain([(env::NO_COLOR, "")]));
        let settings = Settings::resolve(&Overrides::default(), &empty).unwrap();
        assert_eq!(settings.theme, Theme::default());
    }

    #[test]
    fn rendering_never_shows_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let dir_text = dir.path().to_str().unwrap();
        let environment = Environment::from_pairs([
            (env::CONFIG_DIR, dir_text),
            (env::DATA_DIR, dir_text),
            (env::STATE_DIR, dir_text),
            (env::TOKEN, "test-token-0123456789"),
        ]);
        let settings = Settings::resolve(&Overrides::default(), &environment).unwrap();
        let text = settings.render();
        assert!(text.contains("# token: set (from TMAPI_TOKEN)"), "{text}");
        assert!(!text.contains("test-token"), "{text}");
        assert!(!format!("{settings:?}").contains("test-token"));
    }
}
