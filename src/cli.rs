//! The command line: `descview [ITEM]`, `get`, `show`, `mock-server`, and the options they
//! share.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Browse the description pictures of 1688 offers in the terminal, through TMAPI's item_desc.
#[derive(Debug, Parser)]
#[command(name = "descview", version, about, long_about = None, after_help = EXAMPLES)]
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
  descview show https://detail.1688.com/offer/652702302959.html --demo --index 1";

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Use the embedded demo catalogue through a local stand-in for the API (no token, no
    /// network, nothing billed).
    #[arg(long, global = true)]
    pub demo: bool,

    /// The API base URL.
    #[arg(long, global = true, env = "TMAPI_BASE", value_name = "URL")]
    pub api_base: Option<String>,

    /// Where the token goes: the `apiToken` query parameter (as documented) or an `apikey`
    /// header (keeps it out of URLs and proxy logs).
    #[arg(long, global = true, env = "TMAPI_AUTH", value_enum, default_value_t = AuthArg::Query)]
    pub auth: AuthArg,

    /// Force a picture protocol instead of asking the terminal.
    #[arg(long, global = true, value_enum, value_name = "PROTOCOL")]
    pub protocol: Option<ProtocolArg>,
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
        #[arg(long, value_name = "COLS")]
        width: Option<u16>,
    },
    /// Run the local stand-in for TMAPI and the picture CDN with the demo catalogue.
    MockServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8686")]
        addr: SocketAddr,
    },
}
