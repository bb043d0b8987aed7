//! `descview login` and `descview logout`: taking the token from the user, checking it with
//! one call, and keeping it in a file that only the user can read.
//!
//! The token is read from standard input when that is not a terminal (`descview login <
//! token.txt`, or a password manager's pipe), else at a prompt on the terminal that does not
//! echo. It is stored in `token` in the config directory, created with mode 0600 inside a
//! directory created with mode 0700, written to a fresh file first and then renamed over the
//! old one, so that no moment exists where a half-written or world-readable token is on disk.
//! Nothing here prints, logs or returns the token in a message, not even its length.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use crate::config::{Paths, Settings};
use crate::item_id::ItemId;
use crate::tmapi::{ApiError, Client, ClientConfig, RetryPolicy, Token};

/// The offer that the check asks for: the example in the API's documentation, which exists
/// and has a small description.
pub const CHECK_ITEM: &str = "622619146604";

/// Why logging in or out failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Standard input was not a terminal and held no token.
    #[error(
        "no token on standard input: pipe it in (`descview login < token.txt`), or run \
         `descview login` in a terminal to type it"
    )]
    NoInput,
    /// The input holds more than one word, so it is not a token alone.
    #[error("the input holds more than the token (spaces or several lines): give the token alone")]
    NotAToken,
    /// The token could not be read.
    #[error("could not read the token: {0}")]
    Read(io::Error),
    /// The token file could not be written.
    #[error(
        "could not store the token in {}: {source}: check the directory's permissions, or set \
         DESCVIEW_CONFIG_DIR", path.display()
    )]
    Store {
        /// The file or directory that failed.
        path: PathBuf,
        /// What the system reported.
        source: io::Error,
    },
    /// The token file could not be removed.
    #[error("could not remove the stored token {}: {source}: remove it by hand", path.display())]
    Remove {
        /// The file.
        path: PathBuf,
        /// What the system reported.
        source: io::Error,
    },
}

/// What the check call said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The call succeeded: the token works.
    Works,
    /// The API knows the token but the account has no balance (439).
    NoBalance,
    /// The API refused the token (401 or 403).
    Refused {
        /// The status.
        status: u16,
    },
}

/// Reads the token: from standard input when it is not a terminal, else at a prompt (on the
/// terminal itself, not on standard output) that does not echo what is typed.
pub fn read_token() -> Result<Token, LoginError> {
    let text = if io::stdin().is_terminal() {
        rpassword::prompt_password("TMAPI token (typing is not shown): ")
            .map_err(LoginError::Read)?
    } else {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(LoginError::Read)?;
        text
    };
    token_from_text(&text)
}

/// The token in `text`: the text without surrounding whitespace, which must be one word.
pub fn token_from_text(text: &str) -> Result<Token, LoginError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(LoginError::NoInput);
    }
    if trimmed.contains(char::is_whitespace) {
        return Err(LoginError::NotAToken);
    }
    Ok(Token::new(trimmed))
}

/// Asks the API for the description of `item` (give [`CHECK_ITEM`]) with `token`, once (no
/// retries: each call is billed), with the settings' API base and auth mode.
///
/// A refusal or a 439 is an answer about the token; any other failure is returned as the
/// error, because it says nothing about the token either way.
pub async fn check_token(
    settings: &Settings,
    token: &Token,
    item: &ItemId,
) -> Result<CheckOutcome, ApiError> {
    let mut config = ClientConfig::new(settings.api_base.value.clone(), Some(token.clone()));
    config.auth = settings.auth.value;
    config.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let client = Client::new(config)?;
    match client.item_desc(item).await {
        Ok(_) => Ok(CheckOutcome::Works),
        Err(ApiError::TokenRefused { status }) => Ok(CheckOutcome::Refused { status }),
        Err(ApiError::SubscriptionExhausted) => Ok(CheckOutcome::NoBalance),
        Err(error) => Err(error),
    }
}

/// Stores the token in the config directory's token file, readable and writable only by the
/// user; returns the file's path.
pub fn store_token(paths: &Paths, token: &Token) -> Result<PathBuf, LoginError> {
    let dir = &paths.config_dir;
    create_private_dir(dir).map_err(|source| LoginError::Store {
        path: dir.clone(),
        source,
    })?;

    let path = paths.token_file();
    let fresh = dir.join(format!("{}.new", crate::config::TOKEN_FILE_NAME));
    let failed = |source| LoginError::Store {
        path: path.clone(),
        source,
    };
    // A leftover from an interrupted login may have other permissions; mode bits apply only
    // to a file being created, so it goes first.
    match std::fs::remove_file(&fresh) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(failed(error)),
        _ => {}
    }
    let mut file = create_private_file(&fresh).map_err(failed)?;
    file.write_all(token.expose().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    drop(file);
    std::fs::rename(&fresh, &path).map_err(failed)?;
    Ok(path)
}

/// Removes the stored token; `false` when there was none.
pub fn remove_token(paths: &Paths) -> Result<bool, LoginError> {
    let path = paths.token_file();
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(LoginError::Remove { path, source }),
    }
}

/// Whether a token file can be read by others than its owner (group or other permission
/// bits set); always false where files have no such bits.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|metadata| metadata.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths_in(dir: &Path) -> Paths {
        Paths {
            config_dir: dir.join("config"),
            data_dir: dir.join("data"),
            state_dir: dir.join("state"),
        }
    }

    #[test]
    fn the_check_item_is_an_offer() {
        assert_eq!(CHECK_ITEM.parse::<ItemId>().unwrap().as_str(), CHECK_ITEM);
    }

    #[test]
    fn a_token_is_one_word() {
        assert_eq!(token_from_text("  abc-123\n").unwrap().expose(), "abc-123");
        assert!(matches!(token_from_text(" \n"), Err(LoginError::NoInput)));
        assert!(matches!(
            token_from_text("abc\ndef\n"),
            Err(LoginError::NotAToken)
        ));
    }

    #[test]
    fn the_token_is_stored_privately_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths_in(dir.path());
        let path = store_token(&paths, &Token::new("test-token")).unwrap();
        assert_eq!(path, paths.token_file());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "test-token\n");
        assert!(!readable_by_others(&path));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&paths.config_dir), 0o700);
        }

        // Storing again replaces the token.
        store_token(&paths, &Token::new("other-token")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "other-token\n");

        assert!(remove_token(&paths).unwrap());
        assert!(!path.exists());
        assert!(!remove_token(&paths).unwrap());
    }
}
