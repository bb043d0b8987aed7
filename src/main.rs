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
use descview::download::{self, progress, synthetic, BatchContext, BatchOptions};
use descview::item_id::ItemId;
use descview::mock;
use descview::output::{self, GetJson, ShowProtocol};
use descview::session::Session;
use descview::store::{self, Answer, Policy};
use descview::text;
use descview::tui;

use cli::{Cli, Command, ConfigCommand, DownloadArgs};

/// A failure and the exit status it gets.
enum Failure {
    /// Bad usage or input: exit 2.
    Usage(String),
    /// Anything else: exit 1.
    Other(String),
    /// Ended by a signal: exit 128 + its number, as shells expect, without a message.
    Signal(i32),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Other(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match local_picture(&cli) {
        Some((path, width)) => show_file(&cli.global, path, width),
        None => run_in_runtime(cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure),
    }
}

fn run_in_runtime(cli: Cli) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Other(format!("could not start the runtime: {error}")))?;
    let result = runtime.block_on(run(cli));
    // Background tasks (a stalled picture fetch) must not keep the process alive.
    runtime.shutdown_background();
    result
}

fn report(failure: Failure) -> ExitCode {
    let (message, code) = match failure {
        Failure::Usage(message) => (message, 2),
        Failure::Other(message) => (message, 1),
        Failure::Signal(number) => return ExitCode::from(128u8.saturating_add(number as u8)),
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
        None => {
            let settings = commands::settings(global)?;
            browse(&settings, demo, global.policy(), cli.item.as_deref()).await
        }
        Some(Command::Get { item, json }) => {
            let policy = global.policy();
            get(&commands::settings(global)?, demo, policy, &item, json).await
        }
        Some(Command::Show {
            target,
            index,
            width,
        }) => {
            let settings = commands::settings(global)?;
            show(&settings, demo, global.policy(), &target, index, width).await
        }
        Some(Command::Download(args)) => {
            let settings = commands::settings(global)?;
            download_offers(&settings, demo, global.policy(), args).await
        }
        Some(Command::MockServer {
            addr,
            bench_catalogue,
            latency_ms,
        }) => {
            commands::settings(global)?;
            mock_server(addr, bench_catalogue.as_deref(), latency_ms).await
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

async fn browse(
    settings: &Settings,
    demo: bool,
    policy: Policy,
    item: Option<&str>,
) -> Result<(), Failure> {
    use std::io::IsTerminal;

    let item = item.map(parse_item).transpose()?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "the browser needs a terminal; for scripts use `descview get ITEM`".to_string(),
        ));
    }
    if std::env::var_os("TERM").is_some_and(|term| term == "dumb") {
        return Err(Failure::Usage(
            "the browser needs a terminal that can move the cursor, and TERM=dumb says this one \
             cannot; run it in a full terminal, or list the pictures here with `descview get \
             ITEM`"
                .to_string(),
        ));
    }
    let session = open_session(settings, demo).await?;
    let start = tui::state::StartInfo {
        demo_offers: session.demo_offers.clone(),
        api_host: session.api_host(),
        token_missing: !session.has_token(),
        offline: policy.offline,
    };
    let options = tui::Options {
        start,
        item,
        protocol: settings.protocol.value.forced(),
        osc52_limit: settings.osc52_limit.value,
        cache_bytes: settings.cache_size.value,
        keymap: settings.keymap.clone(),
        theme: settings.theme,
    };
    let services = tui::Services {
        client: session.client.clone(),
        fetcher: session.fetcher.clone(),
        store: session.store.clone(),
        scope: session.scope(),
        offline: policy.offline,
        download_dir: settings.download_dir.value.clone(),
    };
    match tui::run(services, options).await {
        Ok(tui::Ended::Quit) => Ok(()),
        Ok(tui::Ended::Signal(number)) => Err(Failure::Signal(number)),
        Err(error) => Err(Failure::Other(error.to_string())),
    }
}

/// Opens the session with its local store. A store that cannot be opened is reported and left
/// out: the command still works, and each offer then costs an API call.
async fn open_session(settings: &Settings, demo: bool) -> Result<Session, Failure> {
    let mut session = Session::open(&settings.session_config(demo)).await?;
    let location = store::Location::with_data_dir(settings.paths.data_dir.clone());
    if let Err(error) = session.open_store(&location) {
        eprintln!("descview: {}", text::sanitize(&error.to_string()));
    }
    Ok(session)
}

/// The offer's description through the store, noting its age on a terminal when it came from
/// there, and recording the opening in the history.
async fn open_offer(session: &Session, item: &ItemId, policy: Policy) -> Result<Answer, Failure> {
    use std::io::IsTerminal;

    let answer = session.item_desc(item, policy).await?;
    if let (Some(age), true) = (answer.age(), std::io::stderr().is_terminal()) {
        eprintln!(
            "descview: offer {item} from the local store, fetched {} (--refresh fetches it again)",
            store::describe_age(age)
        );
    }
    if let Some(kept) = &session.store {
        let count = description::extract(&answer.desc.detail_imgs, &answer.desc.detail_html)
            .pictures
            .len();
        let label = store::label_for(&answer.desc, count);
        if let Err(error) = kept.record_open(&session.scope(), item, count, &label) {
            tracing::warn!(%error, "could not record the opening in the history");
        }
    }
    Ok(answer)
}

async fn get(
    settings: &Settings,
    demo: bool,
    policy: Policy,
    item: &str,
    json: bool,
) -> Result<(), Failure> {
    let item = parse_item(item)?;
    let session = open_session(settings, demo).await?;
    let desc = open_offer(&session, &item, policy).await?.desc;
    let description = description::extract(&desc.detail_imgs, &desc.detail_html);

    let text = if json {
        GetJson::new(&item, &description, &desc.detail_html).to_terminal_json() + "\n"
    } else {
        description
            .pictures
            .iter()
            .map(|p| p.url.clone() + "\n")
            .collect()
    };
    print_to_stdout(&text)?;
    for unusable in &description.unusable {
        eprintln!(
            "descview: not a usable picture URL, skipped: {} ({})",
            unusable.raw, unusable.reason
        );
    }
    Ok(())
}

/// Prints to standard output. A reader that stopped reading (`descview get ... | head -1`) is
/// not an error: what it wanted, it got.
fn print_to_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

async fn show(
    settings: &Settings,
    demo: bool,
    policy: Policy,
    target: &str,
    index: Option<usize>,
    width: Option<u16>,
) -> Result<(), Failure> {
    let cols = show_columns(width);
    let protocol = show_protocol(settings.protocol.value);
    let session = open_session(settings, demo).await?;
    let is_offer = target.parse::<ItemId>();
    let urls: Vec<String> = match (is_offer, target.starts_with("http")) {
        (Ok(item), _) => {
            let desc = open_offer(&session, &item, policy).await?.desc;
            let pictures = description::extract(&desc.detail_imgs, &desc.detail_html).pictures;
            let urls: Vec<String> = pictures.into_iter().map(|p| p.url).collect();
            match index {
                None => urls,
                Some(n) => match urls.get(n.wrapping_sub(1)) {
                    Some(url) => vec![url.clone()],
                    None => {
                        return Err(Failure::Usage(format!(
                            "offer {item} has {}; --index takes 1 to {}",
                            text::count(urls.len(), "picture"),
                            urls.len()
                        )))
                    }
                },
            }
        }
        (Err(_), true) => vec![target.to_string()],
        (Err(_), false) if std::path::Path::new(target).is_dir() => {
            return Err(Failure::Usage(format!(
                "{target:?} is a folder; show takes a picture file, a picture URL or an offer"
            )))
        }
        // Looks like a path (a separator or an extension), not like an offer ID.
        (Err(_), false)
            if target.contains(std::path::MAIN_SEPARATOR)
                || std::path::Path::new(target).extension().is_some() =>
        {
            return Err(Failure::Usage(format!(
                "there is no file {target:?}; show takes a picture file, a picture URL or an \
                 offer"
            )))
        }
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
        let printed = match store::fetch_cached(session.store.as_ref(), &session.fetcher, url).await
        {
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

/// `show FILE` with a picture file on disk: its path and `--width`. Such a run reads one
/// file and prints it, so `main` runs it without the tokio runtime and without a session
/// (no HTTP client, no store): starting those took longer than printing a picture.
fn local_picture(cli: &Cli) -> Option<(&std::path::Path, Option<u16>)> {
    match &cli.command {
        Some(Command::Show { target, width, .. }) if cli.item.is_none() => {
            let path = std::path::Path::new(target);
            path.is_file().then_some((path, *width))
        }
        _ => None,
    }
}

/// `descview show FILE`: the settings (for `--protocol` and the config file's choice), then
/// the picture.
fn show_file(
    global: &cli::Global,
    path: &std::path::Path,
    width: Option<u16>,
) -> Result<(), Failure> {
    // No log: nothing here calls the API, and starting the log (its filter compiles patterns)
    // cost more memory than a picture.
    let settings = commands::settings_without_log(global)?;
    let protocol = show_protocol(settings.protocol.value);
    let bytes = std::fs::read(path)
        .map_err(|error| Failure::Other(format!("could not read {}: {error}", path.display())))?;
    output::print_picture(&bytes, show_columns(width), protocol).map_err(Failure::Other)
}

/// `--width`, else the terminal's width, else 80 columns.
fn show_columns(width: Option<u16>) -> u16 {
    width.unwrap_or_else(|| crossterm::terminal::size().map(|(w, _)| w).unwrap_or(80))
}

/// How `show` draws: the forced protocol, or on a terminal what it supports. iTerm2 is known
/// from the environment; kitty only from the terminal's answer to a short query, asked here
/// once and never by viuer (whose query echoes the answer and waits forever on a terminal that
/// does not answer). Inside tmux pictures are half-blocks: tmux does not pass kitty pictures
/// on. Sixel is not drawn into the scrollback: half-blocks instead.
fn show_protocol(protocol: Protocol) -> ShowProtocol {
    use std::io::IsTerminal;
    let in_tmux = std::env::var_os("TMUX").is_some();
    match protocol {
        Protocol::Kitty => ShowProtocol::Kitty {
            cell: descview::tui::terminal::query_for_printing().1,
        },
        Protocol::Iterm2 => ShowProtocol::Iterm2,
        Protocol::Halfblocks | Protocol::Sixel => ShowProtocol::Halfblocks,
        Protocol::Auto if !std::io::stdout().is_terminal() || in_tmux => ShowProtocol::Halfblocks,
        Protocol::Auto if viuer::is_iterm_supported() => ShowProtocol::Iterm2,
        Protocol::Auto => match descview::tui::terminal::query_for_printing() {
            (true, cell) => ShowProtocol::Kitty { cell },
            (false, _) => ShowProtocol::Halfblocks,
        },
    }
}

/// `descview download`: the offers given and listed, into `--out` (or the download folder),
/// with progress on stderr and a summary; exit status 1 when anything failed.
async fn download_offers(
    settings: &Settings,
    demo: bool,
    policy: Policy,
    args: DownloadArgs,
) -> Result<(), Failure> {
    use std::io::{IsTerminal, Read};

    let mut items = args
        .items
        .iter()
        .map(|text| {
            // With many offers given, the message must say which one is wrong.
            text.parse::<ItemId>()
                .map_err(|error| Failure::Usage(format!("{text:?}: {error}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut rejected = 0;
    if let Some(from) = &args.from {
        let mut text = String::new();
        let read = if from.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut text).map(drop)
        } else {
            std::fs::read_to_string(from).map(|read| text = read)
        };
        read.map_err(|error| {
            Failure::Usage(format!(
                "could not read the offer list {}: {error}",
                from.display()
            ))
        })?;
        let (listed, bad) = download::parse_item_list(&text);
        let source = if from.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            from.display().to_string()
        };
        for (line, error) in &bad {
            eprintln!("descview: {source} line {line}: {error}");
        }
        rejected = bad.len();
        if listed.is_empty() && items.is_empty() && rejected > 0 {
            return Err(Failure::Usage(format!(
                "no line of {source} is an offer ID or link ({})",
                text::count(rejected, "line")
            )));
        }
        items.extend(listed);
    }
    if items.is_empty() && rejected == 0 {
        return Err(Failure::Usage(
            "give the offers to download: IDs or links, or --from FILE (- reads standard input)"
                .to_string(),
        ));
    }

    let session = open_session(settings, demo).await?;
    let mut options = BatchOptions::new(
        args.out
            .unwrap_or_else(|| settings.download_dir.value.clone()),
    );
    options.jobs = usize::from(args.jobs);
    options.api_jobs = usize::from(args.api_jobs);
    options.zip = args.zip;
    options.policy = policy;
    let context = BatchContext {
        client: session.client.clone(),
        fetcher: session.fetcher.clone(),
        store: session.store.clone(),
        scope: session.scope(),
    };
    let reporter = progress::Reporter::new(items.len(), std::io::stderr().is_terminal());
    let summary = tokio::select! {
        summary = download::run(&context, items, &options, reporter.sink()) => summary?,
        _ = tokio::signal::ctrl_c() => {
            reporter.finish();
            return Err(Failure::Other(
                "stopped; run the same command again to fetch what is missing".to_string(),
            ));
        }
    };
    reporter.finish();
    eprintln!("{}", progress::summary_text(&summary));
    let mut problems = Vec::new();
    if summary.failed() {
        problems.push(format!(
            "{} and {} failed; run again to retry them",
            text::count(summary.offers_failed, "offer"),
            text::count(summary.pictures_failed, "picture")
        ));
    }
    if rejected > 0 {
        problems.push(format!(
            "not offers: {} of the list",
            text::count(rejected, "line")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Other(problems.join("; ")))
    }
}

/// `descview mock-server`: the demo catalogue, or a made-up one for benchmarks, optionally
/// answering every request late.
async fn mock_server(
    addr: std::net::SocketAddr,
    bench_catalogue: Option<&str>,
    latency_ms: Option<u64>,
) -> Result<(), Failure> {
    let mut options = mock::MockOptions::default();
    if let Some(ms) = latency_ms {
        let late = [mock::Fault::Delay(std::time::Duration::from_millis(ms))];
        options = options
            .with_faults(mock::FaultTarget::AnyOffer, late.clone())
            .with_faults(mock::FaultTarget::AnyPicture, late);
    }
    let catalogue = match bench_catalogue {
        None => mock::Catalogue::embedded(),
        Some(shape) => {
            let (offers, pictures) = synthetic::parse_shape(shape).ok_or_else(|| {
                Failure::Usage("--bench-catalogue takes OFFERSxPICTURES, e.g. 200x15".to_string())
            })?;
            if addr.port() == 0 {
                return Err(Failure::Usage(
                    "--bench-catalogue needs a fixed port in --addr: its answers name it"
                        .to_string(),
                ));
            }
            let cdn = url::Url::parse(&format!("http://{addr}/cdn/"))?;
            synthetic::catalogue(offers, pictures, 64 * 1024, &cdn).catalogue
        }
    };
    let handle = mock::start(addr, catalogue, options)
        .await
        .map_err(|e| Failure::Other(format!("could not listen on {addr}: {e}")))?;
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
