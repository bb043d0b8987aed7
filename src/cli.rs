//! The command line: `descview [ITEM]`, `get`, `show`, `mock-server`, `login`, `config`,
//! `doctor`, ..., and the options they share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use descview::config::{self, Overrides, Protocol};
use descview::store::Policy;
use descview::tmapi::AuthMode;

/// `--version`: the crate's version and the commit it was built from ("unknown" when built
/// without git, e.g. from a tarball).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("DESCVIEW_COMMIT"),
    ")"
);

/// Browse the description pictures of 1688 offers in the terminal, through TMAPI's item_desc.
#[derive(Debug, Parser)]
#[command(name = "descview", version = VERSION, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,

    /// A 1688 offer ID or link to open right away.
    #[arg(value_name = "ITEM")]
    pub item: Option<String>,

    /// A command; without one, the browser starts.
    #[command(subcommand)]
    pub command: Option<Command>,
}

const EXAMPLES: &str = "\
Examples:
  descview --demo                         browse the embedded demo catalogue
  TMAPI_TOKEN=... descview 622619146604   open an offer with the real API
  descview get 622619146604 --demo --json
  descview show https://detail.1688.com/offer/652702302959.html --demo --index 1
  descview download --from offers.txt --out pictures   many offers, resumable
  descview login                          store your token (typed without echo)
  descview config show                    every setting and where it comes from
  descview doctor                         check the terminal, clipboard, token and API
  descview completions bash > ~/.local/share/bash-completion/completions/descview

Settings: flags win over environment variables, which win over the config file
(`descview config path`). The token comes from TMAPI_TOKEN or `descview login`.";

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Use the embedded demo catalogue through a local stand-in for the API (no token, no
    /// network, nothing billed).
    #[arg(long, global = true)]
    pub demo: bool,

    /// The API base URL [env: TMAPI_BASE] [default: http://api.tmapi.top].
    #[arg(long, global = true, value_name = "URL")]
    pub api_base: Option<String>,

    /// Where the token goes: the `apiToken` query parameter (as documented) or an `apikey`
    /// header (keeps it out of URLs and proxy logs) [env: TMAPI_AUTH] [default: query].
    #[arg(long, global = true, value_enum)]
    pub auth: Option<AuthArg>,

    /// Force a picture protocol instead of asking the terminal [env: DESCVIEW_PROTOCOL].
    #[arg(long, global = true, value_enum, value_name = "PROTOCOL")]
    pub protocol: Option<ProtocolArg>,

    /// Where saved pictures go [env: DESCVIEW_DOWNLOAD_DIR] [default: your Downloads folder].
    #[arg(long, global = true, value_name = "DIR")]
    pub download_dir: Option<PathBuf>,

    /// Memory for decoded pictures, e.g. 512MB [env: DESCVIEW_CACHE_SIZE] [default: 256MB].
    #[arg(long, global = true, value_name = "SIZE", value_parser = config::parse_size)]
    pub cache_size: Option<usize>,

    /// The most bytes copied through the terminal (OSC 52); longer text goes to the system
    /// clipboard or a file [env: DESCVIEW_OSC52_LIMIT] [default: 74000].
    #[arg(long, global = true, value_name = "BYTES", value_parser = config::parse_size)]
    pub osc52_limit: Option<usize>,

    /// The log file; RUST_LOG sets what is logged [env: DESCVIEW_LOG_FILE] [default:
    /// descview.log in the state directory].
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// No colours in the browser (also NO_COLOR=1).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// The limit in seconds for one API call, retries included [default: 60, as the API
    /// asks]. Hidden: for tests and for trying a flaky network.
    #[arg(long, global = true, hide = true, value_name = "SECS", value_parser = parse_seconds)]
    pub api_timeout: Option<Duration>,

    /// Fetch offers again even when the local store holds them (one API call each).
    #[arg(long, global = true, conflicts_with = "offline")]
    pub refresh: bool,

    /// Never call the API: use only the offers the local store holds, and say which are
    /// missing.
    #[arg(long, global = true)]
    pub offline: bool,
}

/// A positive number of seconds, fractions allowed.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| *seconds > 0.0)
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

impl Global {
    /// When the API may be called (`--refresh`, `--offline`).
    pub fn policy(&self) -> Policy {
        Policy {
            refresh: self.refresh,
            offline: self.offline,
        }
    }

    /// The settings given as flags, which win over the environment and the config file.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            api_base: self.api_base.clone(),
            auth: self.auth.map(|auth| match auth {
                AuthArg::Query => AuthMode::Query,
                AuthArg::Header => AuthMode::Header,
            }),
            download_dir: self.download_dir.clone(),
            cache_size: self.cache_size,
            protocol: self.protocol.map(|protocol| match protocol {
                ProtocolArg::Auto => Protocol::Auto,
                ProtocolArg::Halfblocks => Protocol::Halfblocks,
                ProtocolArg::Sixel => Protocol::Sixel,
                ProtocolArg::Kitty => Protocol::Kitty,
                ProtocolArg::Iterm2 => Protocol::Iterm2,
            }),
            osc52_limit: self.osc52_limit,
            log_file: self.log_file.clone(),
            no_color: self.no_color,
            api_timeout: self.api_timeout,
        }
    }
}

/// `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// `apiToken` query parameter.
    Query,
    /// `apikey` header.
    Header,
}

/// `--protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
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

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the description's picture URLs, one a line, or as JSON.
    Get {
        /// A 1688 offer ID or link.
        item: String,
        /// Print an object with item_id, pictures (url, source) and detail_html.
        #[arg(long)]
        json: bool,
    },
    /// Print pictures into the terminal's scrollback.
    Show {
        /// A 1688 offer ID or link, a picture file, or a picture URL.
        target: String,
        /// Only the picture at this position in the offer's list (1 is the first).
        #[arg(long, value_name = "N")]
        index: Option<usize>,
        /// Width in terminal columns (default: the terminal's width).
        #[arg(long, value_name = "COLS", value_parser = clap::value_parser!(u16).range(1..))]
        width: Option<u16>,
    },
    /// Save the pictures of many offers to `<out>/<item>/NN.<ext>`, with a manifest.jsonl;
    /// a second run into the same folder fetches only what is missing.
    Download(DownloadArgs),
    /// Run the local stand-in for TMAPI and the picture CDN with the demo catalogue.
    MockServer {
        /// Address to listen on: HOST:PORT, e.g. 127.0.0.1:8686 or localhost:8686 (port 0
        /// picks a free one).
        #[arg(long, default_value = "127.0.0.1:8686", value_parser = parse_listen_addr)]
        addr: SocketAddr,
        /// Serve a made-up catalogue of OFFERSxPICTURES (e.g. 200x15) instead, for
        /// benchmarks; needs a fixed port in --addr.
        #[arg(long, value_name = "SHAPE", hide = true)]
        bench_catalogue: Option<String>,
        /// Answer every request this many milliseconds late, like a distant server.
        #[arg(long, value_name = "MS", hide = true)]
        latency_ms: Option<u64>,
    },
    /// Store your TMAPI token (from standard input, or typed at a prompt that does not echo)
    /// in the config directory, readable only by you.
    Login {
        /// Store the token without checking it. The check is one billed item_desc call.
        #[arg(long)]
        no_check: bool,
    },
    /// Remove the stored token.
    Logout,
    /// Show where the config file is, or every setting and where it comes from.
    Config {
        /// What to show.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Check the terminal, the clipboard, the paths, the token and whether the API answers
    /// (without a billed call).
    Doctor,
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// `descview download ...`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// 1688 offer IDs or links.
    #[arg(value_name = "ITEM")]
    pub items: Vec<String>,
    /// Read more offers from FILE, one ID or link per line (`-`: standard input); blank lines
    /// and lines starting with # are skipped.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// The output folder [default: the download folder, see --download-dir].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write one zip per offer instead of a folder.
    #[arg(long)]
    pub zip: bool,
    /// The most pictures fetched at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// The most API calls at once (the API answers 503 beyond its concurrency limit).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=16))]
    pub api_jobs: u16,
}

/// `descview config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path.
    Path,
    /// Print the settings in force, each with where it comes from (the token only as set or
    /// not set).
    Show,
}

/// `--addr`: an IP address and port, or a host name that resolves to one (`localhost:8686`).
fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .map_err(|e| format!("{text:?} is not an address to listen on ({e}); give HOST:PORT"))?
        .next()
        .ok_or_else(|| format!("{text:?} names no address; give HOST:PORT"))
}
