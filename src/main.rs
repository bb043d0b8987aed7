//! The `descview` binary: parse the command line, run the command, report errors, set the
//! exit status (0 success, 2 bad usage or input, 1 anything else).
#![forbid(unsafe_code)]

mod cli;
mod commands;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use descview::config::{Protocol, Settings};
use descview::description;
use descview::item_id::ItemId;
use descview::mock;
use descview::output::{self, GetJson, ShowProtocol};
use descview::session::Session;
use descview::text;
use descview::tui;

use cli::{Cli, Command, ConfigCommand};

/// A failure and the exit status it gets.
enum Failure {
    /// Bad usage or input: exit 2.
    Usage(String),
    /// Anything else: exit 1.
    Other(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Other(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return report(Failure::Other(format!(
                "could not start the runtime: {error}"
            )))
        }
    };
    let result = runtime.block_on(run(cli));
    // Background tasks (a stalled picture fetch) must not keep the process alive.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure),
    }
}

fn report(failure: Failure) -> ExitCode {
    let (message, code) = match failure {
        Failure::Usage(message) => (message, 2),
        Failure::Other(message) => (message, 1),
    };
    let _ = writeln!(std::io::stderr(), "descview: {}", text::sanitize(&message));
    ExitCode::from(code)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    if cli.command.is_some() && cli.item.is_some() {
        return Err(Failure::Usage(
            "give the offer after the command, e.g. `descview get 622619146604`".to_string(),
        ));
    }
    let global = &cli.global;
    let demo = global.demo;
    match cli.command {
        None => browse(&commands::settings(global)?, demo, cli.item.as_deref()).await,
        Some(Command::Get { item, json }) => {
            get(&commands::settings(global)?, demo, &item, json).await
        }
        Some(Command::Show {
            target,
            index,
            width,
        }) => show(&commands::settings(global)?, demo, &target, index, width).await,
        Some(Command::MockServer { addr }) => {
            commands::settings(global)?;
            mock_server(addr).await
        }
        Some(Command::Login { no_check }) => {
            commands::login(&commands::settings(global)?, demo, no_check).await
        }
        Some(Command::Config {
            command: ConfigCommand::Show,
        }) => commands::config_show(&commands::settings(global)?),
        // These work whatever the config file holds: they help to fix it.
        Some(Command::Config {
            command: ConfigCommand::Path,
        }) => commands::config_path(),
        Some(Command::Logout) => commands::logout(),
        Some(Command::Doctor) => commands::doctor(global).await,
        Some(Command::Completions { shell }) => commands::completions(shell),
        Some(Command::Man) => commands::man(),
    }
}

fn parse_item(text: &str) -> Result<ItemId, Failure> {
    text.parse::<ItemId>()
        .map_err(|e| Failure::Usage(e.to_string()))
}

async fn browse(settings: &Settings, demo: bool, item: Option<&str>) -> Result<(), Failure> {
    use std::io::IsTerminal;

    let item = item.map(parse_item).transpose()?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "the browser needs a terminal; for scripts use `descview get ITEM`".to_string(),
        ));
    }
    let session = Session::open(&settings.session_config(demo)).await?;
    let start = tui::state::StartInfo {
        demo_offers: session.demo_offers.clone(),
        api_host: session.api_host(),
        token_missing: !session.has_token(),
    };
    let options = tui::Options {
        start,
        item,
        protocol: settings.protocol.value.forced(),
        osc52_limit: settings.osc52_limit.value,
        cache_bytes: settings.cache_size.value,
    };
    let services = tui::Services {
        client: session.client.clone(),
        fetcher: session.fetcher.clone(),
    };
    tui::run(services, options)
        .await
        .map_err(|e| Failure::Other(e.to_string()))
}

async fn get(settings: &Settings, demo: bool, item: &str, json: bool) -> Result<(), Failure> {
    let item = parse_item(item)?;
    let session = Session::open(&settings.session_config(demo)).await?;
    let desc = session.client.item_desc(&item).await?;
    let description = description::extract(&desc.detail_imgs, &desc.detail_html);

    let mut stdout = std::io::stdout().lock();
    if json {
        writeln!(
            stdout,
            "{}",
            GetJson::new(&item, &description, &desc.detail_html).to_terminal_json()
        )?;
    } else {
        for picture in &description.pictures {
            writeln!(stdout, "{}", picture.url)?;
        }
    }
    for unusable in &description.unusable {
        eprintln!(
            "descview: not a usable picture URL, skipped: {} ({})",
            unusable.raw, unusable.reason
        );
    }
    Ok(())
}

async fn show(
    settings: &Settings,
    demo: bool,
    target: &str,
    index: Option<usize>,
    width: Option<u16>,
) -> Result<(), Failure> {
    let cols = width.unwrap_or_else(|| crossterm::terminal::size().map(|(w, _)| w).unwrap_or(80));
    let protocol = show_protocol(settings.protocol.value);

    // A file on disk needs no session at all.
    let path = std::path::Path::new(target);
    if path.is_file() {
        let bytes = std::fs::read(path)?;
        return output::print_picture(&bytes, cols, protocol).map_err(Failure::Other);
    }

    let session = Session::open(&settings.session_config(demo)).await?;
    let is_offer = target.parse::<ItemId>();
    let urls: Vec<String> = match (is_offer, target.starts_with("http")) {
        (Ok(item), _) => {
            let desc = session.client.item_desc(&item).await?;
            let pictures = description::extract(&desc.detail_imgs, &desc.detail_html).pictures;
            let urls: Vec<String> = pictures.into_iter().map(|p| p.url).collect();
            match index {
                None => urls,
                Some(n) => match urls.get(n.wrapping_sub(1)) {
                    Some(url) => vec![url.clone()],
                    None => {
                        return Err(Failure::Usage(format!(
                            "offer {item} has {} pictures; --index takes 1 to {}",
                            urls.len(),
                            urls.len()
                        )))
                    }
                },
            }
        }
        (Err(_), true) => vec![target.to_string()],
        (Err(error), false) => {
            return Err(Failure::Usage(format!(
                "{target:?} is not a file, a picture URL or an offer: {error}"
            )))
        }
    };

    let total = urls.len();
    let mut failed = 0;
    for (n, url) in urls.iter().enumerate() {
        if total > 1 {
            println!("{}/{} {}", n + 1, total, text::sanitize(url));
        }
        let printed = match session.fetcher.fetch(url).await {
            Ok(fetched) => output::print_picture(&fetched.bytes, cols, protocol),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = printed {
            failed += 1;
            eprintln!(
                "descview: {}: {}",
                text::sanitize(url),
                text::sanitize(&error)
            );
        }
    }
    if failed > 0 {
        return Err(Failure::Other(format!(
            "{failed} of {total} pictures could not be shown"
        )));
    }
    Ok(())
}

fn show_protocol(protocol: Protocol) -> ShowProtocol {
    use std::io::IsTerminal;
    match protocol {
        Protocol::Kitty => ShowProtocol::Kitty,
        Protocol::Iterm2 => ShowProtocol::Iterm2,
        Protocol::Halfblocks | Protocol::Sixel => ShowProtocol::Halfblocks,
        // viuer asks the terminal about kitty and iTerm2; into a pipe that query would end
        // up in the output, so only ask a terminal.
        Protocol::Auto if std::io::stdout().is_terminal() => ShowProtocol::Detect,
        Protocol::Auto => ShowProtocol::Halfblocks,
    }
}

async fn mock_server(addr: std::net::SocketAddr) -> Result<(), Failure> {
    let handle = mock::start(
        addr,
        mock::Catalogue::embedded(),
        mock::MockOptions::default(),
    )
    .await?;
    println!("descview mock-server listening on http://{}", handle.addr());
    println!(
        "  API:      {}1688/item_desc?item_id=ID&apiToken={}",
        handle.api_base(),
        mock::DEMO_TOKEN
    );
    println!("  pictures: {}HOST/PATH", handle.cdn_base());
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    Ok(())
}
