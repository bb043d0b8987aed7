//! The commands that fit descview to its user, run as a user runs them: `login` and `logout`
//! against the local stand-in, the log file, `doctor`, `--help`, `--version`, completions
//! and the man page. Every run uses a sandbox (see `support/cli.rs`), never the real user's
//! files.

#[path = "support/cli.rs"]
mod support;

use std::net::SocketAddr;

use descview::mock::{self, Catalogue, MockHandle, MockOptions, OfferAnswer};
use support::{run, stderr, stdout, Sandbox};

const TOKEN: &str = "test-token-4f1c9e";

/// The offer that `login` checks the token with.
const CHECK_ITEM: &str = "622619146604";

async fn start_mock(catalogue: Catalogue) -> MockHandle {
    mock::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        catalogue,
        MockOptions::default().with_token(TOKEN),
    )
    .await
    .expect("the stand-in starts on loopback")
}

/// Runs the binary off the async test's thread, so the stand-in keeps answering meanwhile.
async fn run_blocking(
    command: std::process::Command,
    stdin: Option<Vec<u8>>,
) -> std::process::Output {
    tokio::task::spawn_blocking(move || run(command, stdin.as_deref()))
        .await
        .expect("the run finishes")
}

fn assert_no_token(output: &std::process::Output) {
    let all = format!("{}{}", stdout(output), stderr(output));
    assert!(!all.contains(TOKEN), "the token was printed: {all}");
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_checks_with_one_call_and_stores_the_token_privately() {
    let mock = start_mock(Catalogue::embedded()).await;
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.args(["login", "--api-base", mock.api_base().as_str()]);
    let output = run_blocking(command, Some(format!("{TOKEN}\n").into_bytes())).await;

    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_token(&output);
    assert!(
        stderr(&output).contains("a call to TMAPI would be billed"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("the token works"));
    assert_eq!(mock.requests("/1688/item_desc"), 1, "exactly one call");

    let token_file = sandbox.config_dir().join("token");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), TOKEN);
    #[cfg(unix)]
    {
        assert_eq!(mode(&token_file), 0o600);
        assert_eq!(mode(&sandbox.config_dir()), 0o700);
    }

    // The stored token is the one used from now on.
    let mut command = sandbox.command();
    command.args(["get", CHECK_ITEM, "--api-base", mock.api_base().as_str()]);
    let output = run_blocking(command, None).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("alicdn.com"));

    let mut command = sandbox.command();
    command.arg("logout");
    let output = run_blocking(command, None).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!token_file.exists());
    assert!(stdout(&output).contains("removed the stored token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_not_stored() {
    let mock = start_mock(Catalogue::embedded()).await;
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.args(["login", "--api-base", mock.api_base().as_str()]);
    let output = run_blocking(command, Some(b"wrong-test-token\n".to_vec())).await;

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("wrong-test-token"));
    assert!(!sandbox.config_dir().join("token").exists());
    assert_eq!(mock.requests("/1688/item_desc"), 1, "no retry of a refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_balance_is_stored_with_a_warning() {
    let mut catalogue = Catalogue::empty();
    catalogue.add_offer(CHECK_ITEM, "no balance", OfferAnswer::Status(439));
    let mock = start_mock(catalogue).await;
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.args(["login", "--api-base", mock.api_base().as_str()]);
    let output = run_blocking(command, Some(TOKEN.as_bytes().to_vec())).await;

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("439"), "{}", stderr(&output));
    assert_no_token(&output);
    assert!(sandbox.config_dir().join("token").is_file());
    assert_eq!(mock.requests("/1688/item_desc"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_check_makes_no_call() {
    let mock = start_mock(Catalogue::embedded()).await;
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.args([
        "login",
        "--no-check",
        "--api-base",
        mock.api_base().as_str(),
    ]);
    let output = run_blocking(command, Some(TOKEN.as_bytes().to_vec())).await;

    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_token(&output);
    assert!(!stderr(&output).contains("bills"));
    assert_eq!(mock.requests(""), 0);
    assert!(sandbox.config_dir().join("token").is_file());
}

#[test]
fn login_without_a_token_says_how_to_give_one() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.args(["login", "--no-check"]);
    let output = run(command, Some(b"\n"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no token on standard input"),
        "{}",
        stderr(&output)
    );
    assert!(!sandbox.config_dir().join("token").exists());
}

/// The log lines about `item_desc` calls in `log`.
fn call_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("status received"))
        .collect()
}

#[test]
fn the_log_has_one_line_per_call_and_never_the_token() {
    let sandbox = Sandbox::new();
    let log = sandbox.root().join("logs").join("run.log");
    let mut command = sandbox.command();
    command
        .args(["get", CHECK_ITEM, "--demo", "--log-file"])
        .arg(&log)
        .env("RUST_LOG", "trace");
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));

    let text = std::fs::read_to_string(&log).expect("the log file was written");
    let calls = call_lines(&text);
    assert_eq!(calls.len(), 1, "{text}");
    let line = calls[0];
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains(&format!("item={CHECK_ITEM}")), "{line}");
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("elapsed_ms="), "{line}");
    assert!(!text.contains(mock::DEMO_TOKEN), "{text}");
    // Nothing even tried to log the token: the log's last guard had nothing to hide.
    assert!(!text.contains("***"), "{text}");
    // The log is the only place these lines go.
    assert!(!stderr(&output).contains("status received"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_log_is_in_the_state_directory() {
    let mock = start_mock(Catalogue::embedded()).await;
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command
        .args(["get", CHECK_ITEM, "--api-base", mock.api_base().as_str()])
        .args(["--auth", "header"])
        .env("TMAPI_TOKEN", TOKEN);
    let output = run_blocking(command, None).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_token(&output);

    let log = sandbox.state_dir().join("descview.log");
    let text = std::fs::read_to_string(&log).expect("the default log file");
    assert_eq!(call_lines(&text).len(), 1, "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

/// Replaces what changes from run to run in doctor's output: the sandbox, the stand-in's
/// port and the version line.
fn normalise(text: &str, sandbox: &Sandbox, port: Option<u16>) -> String {
    let mut text = text.replace(sandbox.root().to_str().unwrap(), "[TMP]");
    if let Some(port) = port {
        text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:[PORT]");
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if let Some(first) = lines.first_mut() {
        if first.starts_with("descview ") {
            *first = "descview [VERSION]".to_string();
        }
    }
    lines.join("\n") + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_each_check_with_what_to_do() {
    let mock = start_mock(Catalogue::embedded()).await;
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.root().join("Downloads")).unwrap();
    sandbox.write_config("[keys]\ncopy_url = \"x\"\n");
    let mut command = sandbox.command();
    command
        .args(["doctor", "--api-base", mock.api_base().as_str()])
        .env("TMAPI_TOKEN", TOKEN);
    let output = run_blocking(command, None).await;

    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_token(&output);
    assert_eq!(mock.requests("/1688/item_desc"), 0, "no billed call");
    assert!(mock.requests("/") >= 1, "the API was asked");
    let text = normalise(&stdout(&output), &sandbox, Some(mock.addr().port()));
    insta::assert_snapshot!("doctor", text);
}

#[test]
fn doctor_reports_a_broken_config_file_and_an_unreachable_api() {
    // A port that nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = Sandbox::new();
    sandbox.write_config("cache_size = \"plenty\"\n");
    let mut command = sandbox.command();
    command.args(["doctor", "--api-base", &format!("http://127.0.0.1:{port}")]);
    let output = run(command, None);

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let line = |topic: &str| {
        text.lines()
            .find(|line| {
                line.get(6..)
                    .is_some_and(|rest| rest.starts_with(&format!("{topic:<13} ")))
            })
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("config file").starts_with("fail "), "{text}");
    assert!(line("config file").contains("line 1"), "{text}");
    assert!(line("api").starts_with("fail "), "{text}");
    assert!(line("token").starts_with("warn "), "{text}");
    assert!(line("token").contains("descview login"), "{text}");
    assert!(
        stderr(&output).contains("2 checks failed"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn doctor_with_the_demo_asks_the_stand_in() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.args(["doctor", "--demo"]);
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("ok    token         not needed with --demo"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.starts_with("ok    api ") && line.contains("127.0.0.1")),
        "{text}"
    );
}

#[test]
fn help_shows_examples_and_every_setting() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.arg("--help").env("COLUMNS", "100");
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains('\x1b'), "no colour codes in help");
    insta::assert_snapshot!("help", text);
}

#[test]
fn version_names_the_commit() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.arg("--version");
    let output = run(command, None);
    assert!(output.status.success());
    let text = stdout(&output);
    let commit = text
        .trim()
        .strip_prefix(concat!("descview ", env!("CARGO_PKG_VERSION"), " (commit "))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected version line: {text}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
}

#[test]
fn completions_for_every_shell() {
    let sandbox = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef descview"),
        ("fish", "complete -c descview"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let mut command = sandbox.command();
        command.args(["completions", shell]);
        let output = run(command, None);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("doctor"), "{shell} completes the commands");
        assert!(
            script.contains("osc52-limit"),
            "{shell} completes the flags"
        );
    }
}

#[test]
fn the_man_page_is_roff() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.arg("man");
    let output = run(command, None);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH descview"),
        "{page}"
    );
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains("login"), "{page}");
}

#[test]
fn doctor_reports_a_local_store_that_does_not_open() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.data_dir()).unwrap();
    let database = sandbox.data_dir().join("descview.sqlite3");
    std::fs::write(&database, vec![0x5a; 5000]).unwrap();
    let mut command = sandbox.command();
    command.args(["doctor", "--demo"]);
    let output = run(command, None);
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|line| line.contains("local store"))
        .unwrap_or_default();
    assert!(line.starts_with("fail "), "{text}");
    assert!(line.contains("move") && line.contains("aside"), "{text}");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}
