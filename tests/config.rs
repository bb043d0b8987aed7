//! The settings through the binary: the precedence table (flag over environment variable
//! over config file over default) for every setting, as `descview config show` reports it,
//! and the config file's errors, paths and key bindings.

#[path = "support/cli.rs"]
mod support;

use std::collections::BTreeMap;

use descview::config::{Environment, Overrides, Settings};
use descview::tui::action::Key;
use descview::tui::keys::Command as KeyCommand;
use support::{run, stderr, stdout, Sandbox};

/// One setting's row of the precedence table: its name in the file and in `config show`,
/// and a distinct value for each layer, as the layer writes it and as `config show` prints it.
struct Row {
    name: &'static str,
    file: (&'static str, &'static str),
    env: (&'static str, &'static str, &'static str),
    flag: (&'static str, &'static str, &'static str),
    default: &'static str,
}

/// Every setting that all three layers can give. `{tmp}` stands for the sandbox.
const TABLE: [Row; 7] = [
    Row {
        name: "api_base",
        file: ("\"http://file.example\"", "\"http://file.example/\""),
        env: (
            "TMAPI_BASE",
            "https://env.example",
            "\"https://env.example/\"",
        ),
        flag: (
            "--api-base",
            "https://flag.example",
            "\"https://flag.example/\"",
        ),
        default: "\"http://api.tmapi.top/\"",
    },
    Row {
        name: "auth",
        file: ("\"header\"", "\"header\""),
        env: ("TMAPI_AUTH", "query", "\"query\""),
        flag: ("--auth", "header", "\"header\""),
        default: "\"query\"",
    },
    Row {
        name: "download_dir",
        file: ("\"{tmp}/file-dl\"", "\"{tmp}/file-dl\""),
        env: ("DESCVIEW_DOWNLOAD_DIR", "{tmp}/env-dl", "\"{tmp}/env-dl\""),
        flag: ("--download-dir", "{tmp}/flag-dl", "\"{tmp}/flag-dl\""),
        default: "\"{tmp}/Downloads\"",
    },
    Row {
        name: "cache_size",
        file: ("\"64MB\"", "\"64 MiB\""),
        env: ("DESCVIEW_CACHE_SIZE", "128m", "\"128 MiB\""),
        flag: ("--cache-size", "1GiB", "\"1 GiB\""),
        default: "\"256 MiB\"",
    },
    Row {
        name: "protocol",
        file: ("\"kitty\"", "\"kitty\""),
        env: ("DESCVIEW_PROTOCOL", "sixel", "\"sixel\""),
        flag: ("--protocol", "halfblocks", "\"halfblocks\""),
        default: "\"auto\"",
    },
    Row {
        name: "osc52_limit",
        file: ("1000", "1000"),
        env: ("DESCVIEW_OSC52_LIMIT", "2000", "2000"),
        flag: ("--osc52-limit", "3000", "3000"),
        default: "74000",
    },
    Row {
        name: "log_file",
        file: ("\"{tmp}/file.log\"", "\"{tmp}/file.log\""),
        env: ("DESCVIEW_LOG_FILE", "{tmp}/env.log", "\"{tmp}/env.log\""),
        flag: ("--log-file", "{tmp}/flag.log", "\"{tmp}/flag.log\""),
        default: "\"{tmp}/state/descview.log\"",
    },
];

/// The layers a run gives, from none to all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layers {
    None,
    File,
    FileAndEnv,
    All,
}

/// `config show` as a map from setting to (value, source).
fn show(sandbox: &Sandbox, layers: Layers) -> BTreeMap<String, (String, String)> {
    let tmp = sandbox.root().to_str().expect("a UTF-8 temporary path");
    let fill = |text: &str| text.replace("{tmp}", tmp);

    if layers >= Layers::File {
        let file: String = TABLE
            .iter()
            .map(|row| format!("{} = {}\n", row.name, fill(row.file.0)))
            .collect();
        sandbox.write_config(&file);
    }
    let mut command = sandbox.command();
    command.args(["config", "show"]);
    if layers >= Layers::FileAndEnv {
        for row in &TABLE {
            command.env(row.env.0, fill(row.env.1));
        }
    }
    if layers >= Layers::All {
        for row in &TABLE {
            command.args([row.flag.0, &fill(row.flag.1)]);
        }
    }
    let output = run(command, None);
    assert!(output.status.success(), "{layers:?}: {}", stderr(&output));

    stdout(&output)
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with('['))
        .filter_map(|line| {
            let (setting, rest) = line.split_once(" = ")?;
            let (value, source) = rest.split_once("  # ")?;
            Some((setting.to_string(), (value.to_string(), source.to_string())))
        })
        .collect()
}

#[test]
fn flags_win_over_variables_over_the_file_over_the_defaults() {
    let sandbox = Sandbox::new();
    let tmp = sandbox.root().to_str().expect("a UTF-8 temporary path");
    let fill = |text: &str| text.replace("{tmp}", tmp);

    for layers in [Layers::None, Layers::File, Layers::FileAndEnv, Layers::All] {
        let shown = show(&sandbox, layers);
        for row in &TABLE {
            let (value, source) = match layers {
                Layers::None => (fill(row.default), "default".to_string()),
                Layers::File => (fill(row.file.1), "config file".to_string()),
                Layers::FileAndEnv => (fill(row.env.2), format!("env {}", row.env.0)),
                Layers::All => (fill(row.flag.2), format!("flag {}", row.flag.0)),
            };
            assert_eq!(
                shown.get(row.name),
                Some(&(value, source)),
                "{} with {layers:?}",
                row.name
            );
        }
    }
}

#[test]
fn the_token_comes_from_the_variable_over_the_stored_file_and_is_never_shown() {
    let sandbox = Sandbox::new();
    let token_line = |output: &std::process::Output| {
        stdout(output)
            .lines()
            .find(|line| line.starts_with("# token:"))
            .map(str::to_string)
    };
    let show = |env_token: Option<&str>| {
        let mut command = sandbox.command();
        command.args(["config", "show"]);
        if let Some(token) = env_token {
            command.env("TMAPI_TOKEN", token);
        }
        let output = run(command, None);
        assert!(output.status.success(), "{}", stderr(&output));
        output
    };

    let none = show(None);
    assert_eq!(token_line(&none).as_deref(), Some("# token: not set"));

    std::fs::create_dir_all(sandbox.config_dir()).unwrap();
    let token_file = sandbox.config_dir().join("token");
    std::fs::write(&token_file, "stored-test-token\n").unwrap();
    let stored = show(None);
    assert_eq!(
        token_line(&stored),
        Some(format!(
            "# token: set (from the token file {})",
            token_file.display()
        ))
    );

    let from_env = show(Some("env-test-token"));
    assert_eq!(
        token_line(&from_env).as_deref(),
        Some("# token: set (from TMAPI_TOKEN)")
    );

    for output in [&none, &stored, &from_env] {
        let all = format!("{}{}", stdout(output), stderr(output));
        assert!(!all.contains("test-token"), "{all}");
    }
}

#[test]
fn colours_come_from_the_file_and_no_color_or_the_flag_turns_them_off() {
    let sandbox = Sandbox::new();
    sandbox.write_config("[colors]\naccent = \"magenta\"\ndim = \"#808080\"\n");
    let colors_header = |extra_env: Option<(&str, &str)>, flag: bool| {
        let mut command = sandbox.command();
        command.args(["config", "show"]);
        if let Some((var, value)) = extra_env {
            command.env(var, value);
        }
        if flag {
            command.arg("--no-color");
        }
        let output = run(command, None);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };

    let shown = colors_header(None, false);
    assert!(shown.contains("\n[colors]\n"), "{shown}");
    assert!(
        shown.contains("accent = \"magenta\"  # config file"),
        "{shown}"
    );
    assert!(
        shown.contains("dim = \"#808080\"  # config file"),
        "{shown}"
    );
    assert!(shown.contains("error = \"red\"  # default"), "{shown}");

    let shown = colors_header(Some(("NO_COLOR", "1")), false);
    assert!(
        shown.contains("[colors]  # colours are off (env NO_COLOR)"),
        "{shown}"
    );
    // NO_COLOR only counts when it is not empty.
    let shown = colors_header(Some(("NO_COLOR", "")), false);
    assert!(shown.contains("\n[colors]\n"), "{shown}");

    let shown = colors_header(Some(("NO_COLOR", "1")), true);
    assert!(
        shown.contains("[colors]  # colours are off (flag --no-color)"),
        "{shown}"
    );
}

#[test]
fn a_key_changed_in_the_file_is_in_force() {
    let sandbox = Sandbox::new();
    sandbox.write_config("[keys]\ncopy_url = \"x\"\nquit = [\"Q\", \"Ctrl-Q\"]\n");

    let mut command = sandbox.command();
    command.args(["config", "show"]);
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(
        shown.contains("copy_url = [\"x\"]  # config file"),
        "{shown}"
    );
    assert!(
        shown.contains("quit = [\"Q\", \"Ctrl-Q\", \"Ctrl-C\"]  # config file"),
        "Ctrl-C always quits besides the keys given: {shown}"
    );
    assert!(shown.contains("quit = ["), "{shown}");
    assert!(shown.contains("copy_html = [\"c\"]  # default"), "{shown}");

    // The same file read through the library gives the browser this key table.
    let config_dir = sandbox.config_dir();
    let dir = config_dir.to_str().unwrap();
    let environment = Environment::from_pairs([
        ("DESCVIEW_CONFIG_DIR", dir),
        ("DESCVIEW_DATA_DIR", dir),
        ("DESCVIEW_STATE_DIR", dir),
    ]);
    let settings = Settings::resolve(&Overrides::default(), &environment).unwrap();
    assert_eq!(
        settings.keymap.command(Key::Char('x')),
        Some(KeyCommand::CopyUrl)
    );
    assert_eq!(settings.keymap.command(Key::Char('y')), None);
    assert_eq!(
        settings.keymap.command(Key::Ctrl('q')),
        Some(KeyCommand::Quit)
    );
    assert_eq!(settings.keymap.command(Key::Char('q')), None);
}

#[test]
fn errors_name_the_file_the_line_and_the_key_and_exit_2() {
    let sandbox = Sandbox::new();
    let cases = [
        (
            "auth = \"query\"\ncache_size = \"huge\"\n",
            "line 2",
            "`cache_size`",
        ),
        ("\n\nprotcol = \"kitty\"\n", "line 3", "protcol"),
        ("[keys]\ncopy_link = \"y\"\n", "line 2", "copy_link"),
        ("[keys]\ncopy_url = \"Super-Y\"\n", "line 2", "copy_url"),
        // Ctrl-C always quits: a file that takes it away could leave no way out.
        (
            "[keys]\ncopy_html = \"Ctrl-C\"\n",
            "line 2",
            "Ctrl-C always quits",
        ),
        ("[colors]\naccent = \"blurple\"\n", "line 2", "accent"),
        // A number is a size's, not a folder's.
        (
            "cache_size = 1000000\ndownload_dir = 5\n",
            "line 2",
            "`download_dir`: a number where text belongs",
        ),
        (
            "token = \"pasted-test-token\"\n",
            "line 1",
            "descview login",
        ),
    ];
    for (file, line, key) in cases {
        sandbox.write_config(file);
        let mut command = sandbox.command();
        command.args(["get", "622619146604", "--demo"]);
        let output = run(command, None);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{file:?}: {message}");
        let config_file = sandbox.config_dir().join("config.toml");
        assert!(
            message.contains(&format!("config file {}", config_file.display())),
            "{message}"
        );
        assert!(message.contains(line), "{file:?}: {message}");
        assert!(message.contains(key), "{file:?}: {message}");
        assert!(!message.contains("pasted-test-token"), "{message}");
        assert!(stdout(&output).is_empty());
    }
}

#[test]
fn bad_variables_and_flags_are_named() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command
        .args(["config", "show"])
        .env("DESCVIEW_PROTOCOL", "braille");
    let output = run(command, None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("DESCVIEW_PROTOCOL"),
        "{}",
        stderr(&output)
    );

    let mut command = sandbox.command();
    command.args(["config", "show", "--cache-size", "lots"]);
    let output = run(command, None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--cache-size"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_path_prints_the_file_even_when_it_is_broken() {
    let sandbox = Sandbox::new();
    sandbox.write_config("this is not toml [");
    let mut command = sandbox.command();
    command.args(["config", "path"]);
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim_end(),
        sandbox.config_dir().join("config.toml").to_str().unwrap()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_platform_directories_follow_xdg() {
    let sandbox = Sandbox::new();
    let xdg = sandbox.root().join("xdg-config");
    let mut command = sandbox.command();
    command
        .env_remove("DESCVIEW_CONFIG_DIR")
        .env("XDG_CONFIG_HOME", &xdg)
        .args(["config", "path"]);
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim_end(),
        xdg.join("descview").join("config.toml").to_str().unwrap()
    );

    // Without XDG_STATE_HOME the log goes to ~/.local/state/descview.
    let mut command = sandbox.command();
    command
        .env_remove("DESCVIEW_STATE_DIR")
        .args(["config", "show"]);
    let output = run(command, None);
    let expected = format!(
        "log_file = \"{}\"  # default",
        sandbox
            .root()
            .join(".local/state/descview/descview.log")
            .display()
    );
    assert!(stdout(&output).contains(&expected), "{}", stdout(&output));
}
