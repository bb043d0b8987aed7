//! The commands that fit descview to its user: reading the settings (and starting the log)
//! for every command, `login`, `logout`, `config path|show`, `doctor`, `completions` and
//! `man`.
//!
//! What a command produces goes to standard output; notes and warnings go to standard error.
//! None of them ever prints the token, nor anything derived from it such as its length.

use std::io::Write;

use clap::CommandFactory;
use descview::config::{self, Environment, Paths, Settings, Source, TokenSource};
use descview::login::{self, CheckOutcome};
use descview::{doctor, logging, mock};

use crate::cli::{Cli, Global, VERSION};
use crate::Failure;

/// Reads the settings (flags over environment over config file over defaults) and starts
/// the log. A broken config file or variable is bad input (exit 2).
pub fn settings(global: &Global) -> Result<Settings, Failure> {
    let settings = settings_without_log(global)?;
    start_logging(&settings, global.demo)?;
    Ok(settings)
}

/// The settings in force, for a command that writes no log.
pub fn settings_without_log(global: &Global) -> Result<Settings, Failure> {
    Settings::resolve(&global.overrides(), &Environment::from_process())
        .map_err(|error| Failure::Usage(error.to_string()))
}

/// Starts the log. Failing to open the default log file is not worth stopping for (`doctor`
/// reports it); failing to open the one the user named is.
fn start_logging(settings: &Settings, demo: bool) -> Result<(), Failure> {
    let mut secrets: Vec<&str> = Vec::new();
    if let Some(token) = &settings.token {
        secrets.push(token.expose());
    }
    if demo {
        secrets.push(mock::DEMO_TOKEN);
    }
    match logging::init(
        &settings.log_file.value,
        &settings.log_filter.value,
        &secrets,
    ) {
        Ok(()) => Ok(()),
        Err(_) if settings.log_file.source == Source::Default => Ok(()),
        Err(error) => Err(Failure::Other(error.to_string())),
    }
}

/// `descview login`: reads the token, checks it with one billed call unless `no_check`,
/// and stores it.
pub async fn login(settings: &Settings, demo: bool, no_check: bool) -> Result<(), Failure> {
    if demo {
        return Err(Failure::Usage(
            "login stores a token for the real API; --demo needs none".to_string(),
        ));
    }
    let token = login::read_token().map_err(|error| Failure::Usage(error.to_string()))?;

    let outcome = if no_check {
        None
    } else {
        let base = &settings.api_base.value;
        let billing = if is_tmapi_host(base) {
            "TMAPI bills this call"
        } else {
            "a call to TMAPI would be billed"
        };
        eprintln!(
            "checking the token with one item_desc call for offer {} (the API documentation's \
             example) at {}; {billing} (--no-check skips it)",
            login::CHECK_ITEM,
            host_of(base)
        );
        let item = crate::parse_item(login::CHECK_ITEM)?;
        match login::check_token(settings, &token, &item).await {
            Ok(outcome) => Some(outcome),
            Err(error) => {
                return Err(Failure::Other(format!(
                    "the token was not stored, because the check failed: {error}; to store it \
                     unchecked, run `descview login --no-check`"
                )))
            }
        }
    };
    if let Some(CheckOutcome::Refused { status }) = outcome {
        return Err(Failure::Other(format!(
            "the API refused the token ({status}), so it was not stored: copy it again from \
             the TMAPI console"
        )));
    }

    let path = login::store_token(&settings.paths, &token)?;
    match outcome {
        Some(CheckOutcome::Works) => println!("the token works"),
        Some(CheckOutcome::NoBalance) => eprintln!(
            "descview: warning: the token is valid, but the subscription has expired or the \
             balance is too low (439): top up in the TMAPI console"
        ),
        Some(CheckOutcome::Refused { .. }) | None => {}
    }
    println!(
        "stored the token in {} (readable only by you)",
        path.display()
    );
    if settings.token_source == TokenSource::Env {
        eprintln!(
            "descview: note: TMAPI_TOKEN is set in this environment and wins over the stored \
             token; unset it to use the stored one"
        );
    }
    Ok(())
}

/// Whether a base is TMAPI's own (so a call there is billed), not the stand-in or a proxy.
fn is_tmapi_host(base: &url::Url) -> bool {
    base.host_str()
        .is_some_and(|host| host.split('.').rev().nth(1) == Some("tmapi"))
}

/// The host and port of a base, for messages (never its query).
fn host_of(base: &url::Url) -> String {
    match (base.host_str(), base.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => "the API".to_string(),
    }
}

/// `descview logout`: removes the stored token. Needs only the directories, so it works
/// even when the config file is broken.
pub fn logout() -> Result<(), Failure> {
    let environment = Environment::from_process();
    let paths = Paths::resolve(&environment).map_err(|error| Failure::Usage(error.to_string()))?;
    let path = paths.token_file();
    if login::remove_token(&paths)? {
        println!("removed the stored token {}", path.display());
    } else {
        println!("no stored token at {}", path.display());
    }
    if let Ok(Some(_)) = environment.get(config::env::TOKEN) {
        eprintln!("descview: note: TMAPI_TOKEN is still set in this environment");
    }
    Ok(())
}

/// `descview config path`: the config file's path, whether or not it exists.
pub fn config_path() -> Result<(), Failure> {
    let paths = Paths::resolve(&Environment::from_process())
        .map_err(|error| Failure::Usage(error.to_string()))?;
    println!("{}", paths.config_file().display());
    Ok(())
}

/// `descview config show`: every setting in force and where it comes from.
pub fn config_show(settings: &Settings) -> Result<(), Failure> {
    print_out(settings.render().as_bytes())
}

/// `descview doctor`. A broken config file is one of the things it reports, so the checks
/// go on with the settings read without it.
pub async fn doctor(global: &Global) -> Result<(), Failure> {
    let environment = Environment::from_process();
    let overrides = global.overrides();
    let (settings, problem) = match Settings::resolve(&overrides, &environment) {
        Ok(settings) => (settings, None),
        Err(error) => match Settings::resolve_without_file(&overrides, &environment) {
            Ok(settings) => (settings, Some(error)),
            Err(_) => return Err(Failure::Usage(error.to_string())),
        },
    };
    // The log file's own check says when it cannot be written.
    let _ = start_logging(&settings, global.demo);

    let report = doctor::examine(&settings, problem.as_ref(), global.demo).await;
    print_out(format!("descview {VERSION}\n{}", report.render()).as_bytes())?;
    match report.failed() {
        0 => Ok(()),
        1 => Err(Failure::Other(
            "1 check failed: see the line marked fail".to_string(),
        )),
        n => Err(Failure::Other(format!(
            "{n} checks failed: see the lines marked fail"
        ))),
    }
}

/// `descview completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "descview", &mut script);
    print_out(&script)
}

/// `descview man`: the man page in roff.
pub fn man() -> Result<(), Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    print_out(&page)
}

/// Writes to standard output; a reader that went away (`descview man | head`) is not an
/// error worth a message.
fn print_out(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::is_tmapi_host;

    #[test]
    fn only_tmapi_hosts_are_called_billed() {
        for (base, billed) in [
            ("http://api.tmapi.top", true),
            ("https://api.tmapi.io/", true),
            ("http://127.0.0.1:8080", false),
            ("http://tmapi.example.com", false),
            ("http://localhost", false),
        ] {
            let url = url::Url::parse(base).unwrap();
            assert_eq!(is_tmapi_host(&url), billed, "{base}");
        }
    }
}
