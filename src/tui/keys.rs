//! Key bindings: which key runs which `Command` outside the input line.
//!
//! The input line takes keys literally (typing `q` types a q); everywhere else a key is looked
//! up here. The help screen is drawn from the same table, so it always shows the bindings in
//! force.

use super::action::Key;

/// Something the user can ask for with a key, named as a verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Leave the browser and restore the terminal.
    Quit,
    /// Show or hide the key help.
    ToggleHelp,
    /// Put the cursor in the input line to type an offer ID or link.
    FocusInput,
    /// Move the focus to the next pane (list, preview, HTML).
    FocusNext,
    /// Move the focus to the previous pane.
    FocusPrevious,
    /// Move up one line (or select the previous picture).
    MoveUp,
    /// Move down one line (or select the next picture).
    MoveDown,
    /// Move up one page.
    PageUp,
    /// Move down one page.
    PageDown,
    /// Go to the first line or picture.
    MoveTop,
    /// Go to the last line or picture.
    MoveBottom,
    /// Scroll the HTML to the left.
    ScrollLeft,
    /// Scroll the HTML to the right.
    ScrollRight,
    /// Copy the selected picture's URL.
    CopyUrl,
    /// Copy every picture URL, one a line.
    CopyAllUrls,
    /// Copy the description HTML.
    CopyHtml,
    /// Open the selected picture in the default browser.
    OpenPicture,
    /// Switch the preview between fitting the pane and filling its width.
    ToggleFitWidth,
    /// Show or hide the HTML panel.
    ToggleHtml,
    /// Cancel a running fetch, or leave the input line.
    Cancel,
    /// Redraw the whole screen.
    Redraw,
    /// Fetch the offer on screen again (one API call).
    Refresh,
    /// Show the offers opened before.
    History,
    /// Save the selected picture into the download folder.
    Download,
    /// Save all of the offer's pictures into the download folder.
    DownloadAll,
}

impl Command {
    /// Every command, in the help screen's order.
    pub const ALL: [Command; 25] = [
        Command::Quit,
        Command::ToggleHelp,
        Command::FocusInput,
        Command::FocusNext,
        Command::FocusPrevious,
        Command::MoveUp,
        Command::MoveDown,
        Command::PageUp,
        Command::PageDown,
        Command::MoveTop,
        Command::MoveBottom,
        Command::ScrollLeft,
        Command::ScrollRight,
        Command::CopyUrl,
        Command::CopyAllUrls,
        Command::CopyHtml,
        Command::OpenPicture,
        Command::ToggleFitWidth,
        Command::ToggleHtml,
        Command::Refresh,
        Command::History,
        Command::Download,
        Command::DownloadAll,
        Command::Cancel,
        Command::Redraw,
    ];

    /// The command's name in the configuration file (`copy_url = "y"`).
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::ToggleHelp => "help",
            Command::FocusInput => "focus_input",
            Command::FocusNext => "focus_next",
            Command::FocusPrevious => "focus_previous",
            Command::MoveUp => "up",
            Command::MoveDown => "down",
            Command::PageUp => "page_up",
            Command::PageDown => "page_down",
            Command::MoveTop => "top",
            Command::MoveBottom => "bottom",
            Command::ScrollLeft => "scroll_left",
            Command::ScrollRight => "scroll_right",
            Command::CopyUrl => "copy_url",
            Command::CopyAllUrls => "copy_all_urls",
            Command::CopyHtml => "copy_html",
            Command::OpenPicture => "open_picture",
            Command::ToggleFitWidth => "toggle_fit_width",
            Command::ToggleHtml => "toggle_html",
            Command::Cancel => "cancel",
            Command::Redraw => "redraw",
            Command::Refresh => "refresh",
            Command::History => "history",
            Command::Download => "download",
            Command::DownloadAll => "download_all",
        }
    }

    /// The command with this configuration name.
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What the command does, for the help screen.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::ToggleHelp => "show or hide this help",
            Command::FocusInput => "type an offer ID or link",
            Command::FocusNext => "next pane",
            Command::FocusPrevious => "previous pane",
            Command::MoveUp => "up",
            Command::MoveDown => "down",
            Command::PageUp => "page up",
            Command::PageDown => "page down",
            Command::MoveTop => "first",
            Command::MoveBottom => "last",
            Command::ScrollLeft => "scroll HTML left",
            Command::ScrollRight => "scroll HTML right",
            Command::CopyUrl => "copy the selected picture's URL",
            Command::CopyAllUrls => "copy all picture URLs, one a line",
            Command::CopyHtml => "copy the description HTML",
            Command::OpenPicture => "open the selected picture in the browser",
            Command::ToggleFitWidth => "preview: fit the pane / fill its width",
            Command::ToggleHtml => "show or hide the HTML panel",
            Command::Cancel => "cancel the fetch, or leave the input",
            Command::Redraw => "redraw the screen",
            Command::Refresh => "fetch the offer again (one API call)",
            Command::History => "offers opened before",
            Command::Download => "save the selected picture",
            Command::DownloadAll => "save all pictures of the offer",
        }
    }
}

/// The key that quits whatever the configuration says, so that no key table can leave the
/// user without a way out.
pub const ALWAYS_QUITS: Key = Key::Ctrl('c');

/// The key table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Key, Command)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use Command::*;
        let bindings = vec![
            (Key::Char('q'), Quit),
            (Key::Ctrl('c'), Quit),
            (Key::Char('?'), ToggleHelp),
            (Key::Char('/'), FocusInput),
            (Key::Char('i'), FocusInput),
            (Key::Tab, FocusNext),
            (Key::BackTab, FocusPrevious),
            (Key::Char('k'), MoveUp),
            (Key::Up, MoveUp),
            (Key::Char('j'), MoveDown),
            (Key::Down, MoveDown),
            (Key::PageUp, PageUp),
            (Key::Ctrl('b'), PageUp),
            (Key::PageDown, PageDown),
            (Key::Ctrl('f'), PageDown),
            (Key::Home, MoveTop),
            (Key::Char('g'), MoveTop),
            (Key::End, MoveBottom),
            (Key::Char('G'), MoveBottom),
            (Key::Char('h'), ScrollLeft),
            (Key::Left, ScrollLeft),
            (Key::Char('l'), ScrollRight),
            (Key::Right, ScrollRight),
            (Key::Char('y'), CopyUrl),
            (Key::Char('Y'), CopyAllUrls),
            (Key::Char('c'), CopyHtml),
            (Key::Char('o'), OpenPicture),
            (Key::Char('z'), ToggleFitWidth),
            (Key::Char('t'), ToggleHtml),
            (Key::Char('r'), Refresh),
            (Key::Char('H'), History),
            (Key::Char('d'), Download),
            (Key::Char('D'), DownloadAll),
            (Key::Esc, Cancel),
            (Key::Ctrl('l'), Redraw),
        ];
        Keymap { bindings }
    }
}

impl Keymap {
    /// The command bound to a key, if any.
    pub fn command(&self, key: Key) -> Option<Command> {
        self.bindings
            .iter()
            .find(|(bound, _)| *bound == key)
            .map(|(_, command)| *command)
    }

    /// Every key bound to a command, in table order.
    pub fn keys_for(&self, command: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(_, bound)| *bound == command)
            .map(|(key, _)| *key)
            .collect()
    }

    /// The first key bound to a command, written for a key hint.
    pub fn hint(&self, command: Command) -> String {
        self.keys_for(command)
            .first()
            .map(|key| key_name(*key))
            .unwrap_or_else(|| "unbound".to_string())
    }

    /// Every command, each once, in the help screen's order.
    pub fn commands(&self) -> Vec<Command> {
        Command::ALL.to_vec()
    }

    /// Binds `keys` to `command` in place of its current keys; a key taken by another
    /// command is taken away from it (the configuration file wins over the defaults).
    pub fn rebind(&mut self, command: Command, keys: &[Key]) {
        let fixed = |key: &Key| *key == ALWAYS_QUITS;
        self.bindings
            .retain(|(key, bound)| !fixed(key) && *bound != command && !keys.contains(key));
        self.bindings.extend(
            keys.iter()
                .filter(|key| !fixed(key))
                .map(|key| (*key, command)),
        );
        // Ctrl-C goes after the keys the user chose, so that the hints name those.
        self.bindings.push((ALWAYS_QUITS, Command::Quit));
    }
}

/// Reads a key as the configuration file and the help screen write it: `q`, `Y`, `Ctrl-L`,
/// `Enter`, `Esc`, `Tab`, `Shift-Tab`, `Up`, `PageDown`, `Space`, ... (case-insensitive for
/// named keys).
pub fn parse_key(text: &str) -> Option<Key> {
    let text = text.trim();
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(Key::Char(c));
    }
    let lower = text.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("ctrl-")
        .or_else(|| lower.strip_prefix("ctrl+"))
    {
        let mut rest_chars = rest.chars();
        return match (rest_chars.next(), rest_chars.next()) {
            (Some(c), None) if c.is_ascii_alphanumeric() => Some(Key::Ctrl(c)),
            _ => None,
        };
    }
    Some(match lower.as_str() {
        "space" => Key::Char(' '),
        "enter" | "return" => Key::Enter,
        "esc" | "escape" => Key::Esc,
        "tab" => Key::Tab,
        "shift-tab" | "backtab" => Key::BackTab,
        "backspace" => Key::Backspace,
        "delete" | "del" => Key::Delete,
        "up" => Key::Up,
        "down" => Key::Down,
        "left" => Key::Left,
        "right" => Key::Right,
        "pageup" | "page-up" => Key::PageUp,
        "pagedown" | "page-down" => Key::PageDown,
        "home" => Key::Home,
        "end" => Key::End,
        _ => return None,
    })
}

/// How a key is written in hints and the help screen.
pub fn key_name(key: Key) -> String {
    match key {
        Key::Char(' ') => "Space".to_string(),
        Key::Char(c) => c.to_string(),
        Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
        Key::Enter => "Enter".to_string(),
        Key::Esc => "Esc".to_string(),
        Key::Tab => "Tab".to_string(),
        Key::BackTab => "Shift-Tab".to_string(),
        Key::Backspace => "Backspace".to_string(),
        Key::Delete => "Delete".to_string(),
        Key::Up => "Up".to_string(),
        Key::Down => "Down".to_string(),
        Key::Left => "Left".to_string(),
        Key::Right => "Right".to_string(),
        Key::PageUp => "PageUp".to_string(),
        Key::PageDown => "PageDown".to_string(),
        Key::Home => "Home".to_string(),
        Key::End => "End".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_default_key() {
        let keymap = Keymap::default();
        for command in keymap.commands() {
            assert!(!keymap.keys_for(command).is_empty(), "{command:?}");
        }
        assert_eq!(keymap.command(Key::Char('y')), Some(Command::CopyUrl));
        assert_eq!(keymap.command(Key::Char('Y')), Some(Command::CopyAllUrls));
        assert_eq!(keymap.command(Key::Char('x')), None);
    }

    #[test]
    fn every_command_is_listed_once_and_has_a_name() {
        let keymap = Keymap::default();
        let mut bound: Vec<Command> = keymap.bindings.iter().map(|(_, c)| *c).collect();
        bound.sort_by_key(|c| c.name());
        bound.dedup();
        assert_eq!(
            bound.len(),
            Command::ALL.len(),
            "ALL lists every bound command"
        );
        for command in Command::ALL {
            assert_eq!(Command::from_name(command.name()), Some(command));
        }
    }

    #[test]
    fn key_names_read_back() {
        for key in [
            Key::Char('q'),
            Key::Ctrl('l'),
            Key::BackTab,
            Key::PageDown,
            Key::Char(' '),
            Key::Char('Y'),
            Key::Esc,
        ] {
            assert_eq!(parse_key(&key_name(key)), Some(key), "{key:?}");
        }
        assert_eq!(parse_key("ctrl+x"), Some(Key::Ctrl('x')));
        assert_eq!(parse_key("nonsense"), None);
    }

    #[test]
    fn rebinding_moves_a_key_to_the_new_command() {
        let mut keymap = Keymap::default();
        keymap.rebind(Command::CopyUrl, &[Key::Char('x'), Key::Char('q')]);
        assert_eq!(keymap.command(Key::Char('x')), Some(Command::CopyUrl));
        assert_eq!(keymap.command(Key::Char('q')), Some(Command::CopyUrl));
        assert_eq!(keymap.command(Key::Char('y')), None, "the old key is free");
        assert_eq!(keymap.keys_for(Command::Quit), vec![Key::Ctrl('c')]);
    }

    #[test]
    fn ctrl_c_quits_whatever_is_rebound() {
        let mut keymap = Keymap::default();
        keymap.rebind(Command::Quit, &[]);
        keymap.rebind(Command::CopyHtml, &[Key::Ctrl('c')]);
        assert_eq!(keymap.command(Key::Ctrl('c')), Some(Command::Quit));
        assert_eq!(keymap.keys_for(Command::CopyHtml), Vec::<Key>::new());
    }

    #[test]
    fn hints_name_the_quit_key_the_user_chose_before_ctrl_c() {
        let mut keymap = Keymap::default();
        keymap.rebind(Command::Quit, &[Key::Char('Q')]);
        assert_eq!(keymap.hint(Command::Quit), "Q");
        assert_eq!(
            keymap.keys_for(Command::Quit),
            vec![Key::Char('Q'), Key::Ctrl('c')]
        );
        keymap.rebind(Command::CopyUrl, &[Key::Char('x')]);
        assert_eq!(keymap.hint(Command::Quit), "Q");
    }

    #[test]
    fn hints_name_keys_the_way_a_user_types_them() {
        let keymap = Keymap::default();
        assert_eq!(keymap.hint(Command::Quit), "q");
        assert_eq!(keymap.hint(Command::FocusPrevious), "Shift-Tab");
        assert_eq!(key_name(Key::Ctrl('l')), "Ctrl-L");
    }
}
