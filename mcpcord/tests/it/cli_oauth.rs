//! `mcpcord login`, `logout`, and a login-protected server used without a browser, against
//! `mcpcord serve-demo --http 127.0.0.1:0 --oauth` (the demo behind its built-in authorization server).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use mcp_tests::support::{TempDir, files_under, mcpcord_command};

use crate::{HttpDemo, MCPCORD};

/// `mcpcord ARGS` with `home` as its token home, no configured browser, stdin not a terminal.
fn mcpcord(home: &Path, args: &[&str]) -> Output {
    mcpcord_command(MCPCORD, home)
        .args(args)
        .output()
        .expect("mcpcord runs")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn login_then_use_without_a_browser_then_logout() {
    let demo = HttpDemo::start(&["--oauth"]);
    let home = TempDir::new("mcpcord-oauth-login");
    let echo = [
        "call",
        demo.url.as_str(),
        "echo",
        "--args",
        r#"{"text":"hi"}"#,
    ];

    // Not logged in, no browser, no terminal: the error says what to do.
    let before = mcpcord(home.path(), &echo);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    let stderr = String::from_utf8_lossy(&before.stderr);
    assert!(
        stderr.contains(&format!("mcpcord login {}", demo.url)),
        "{}",
        text(&before)
    );

    let login = mcpcord(home.path(), &["login", &demo.url, "--browser", "follow"]);
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));
    assert!(
        String::from_utf8_lossy(&login.stdout).contains("logged in to"),
        "{}",
        text(&login)
    );
    let tokens: Vec<PathBuf> = files_under(home.path())
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    assert!(!tokens.is_empty(), "a token file under MCPCORD_HOME");
    for file in &tokens {
        let mode = std::fs::metadata(file)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        let content = std::fs::read_to_string(file).expect("read");
        assert!(!content.is_empty());
    }

    // The stored login is used without a browser.
    let call = mcpcord(home.path(), &echo);
    assert_eq!(call.status.code(), Some(0), "{}", text(&call));
    assert!(String::from_utf8_lossy(&call.stdout).contains("hi"));

    let logout = mcpcord(home.path(), &["logout", &demo.url]);
    assert_eq!(logout.status.code(), Some(0), "{}", text(&logout));
    assert!(String::from_utf8_lossy(&logout.stdout).contains("logged out"));
    let after = mcpcord(home.path(), &echo);
    assert_eq!(after.status.code(), Some(1), "{}", text(&after));

    let again = mcpcord(home.path(), &["logout", &demo.url]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("no stored tokens"),
        "{}",
        text(&again)
    );
}

#[test]
fn bench_with_many_sessions_logs_in_once_and_keeps_that_login() {
    let demo = HttpDemo::start(&["--oauth"]);
    let home = TempDir::new("mcpcord-oauth-bench");
    let bench = mcpcord(
        home.path(),
        &[
            "--browser",
            "follow",
            "bench",
            &demo.url,
            "--sessions",
            "8",
            "--calls",
            "1",
        ],
    );
    assert_eq!(bench.status.code(), Some(0), "{}", text(&bench));
    // One login: one token file, under the server's own name.
    let tokens: Vec<PathBuf> = files_under(&home.join("tokens"))
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    // And it is the server's login: used later without a browser.
    let call = mcpcord(
        home.path(),
        &["call", &demo.url, "echo", "--args", r#"{"text":"hi"}"#],
    );
    assert_eq!(call.status.code(), Some(0), "{}", text(&call));
}

#[test]
fn an_unknown_browser_mode_is_a_usage_error() {
    let home = TempDir::new("mcpcord-oauth-mode");
    let output = mcpcord(
        home.path(),
        &["--browser", "lynx", "health", "http://127.0.0.1:9/mcp"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("system") && stderr.contains("follow"),
        "{stderr}"
    );
}

#[test]
fn login_to_a_stdio_server_is_a_clear_error() {
    let home = TempDir::new("mcpcord-oauth-stdio");
    let config = home.join("mcpcord.toml");
    std::fs::write(&config, "[servers.local]\ncommand = \"true\"\n").expect("config");
    let output = mcpcord(
        home.path(),
        &[
            "--config",
            config.to_str().expect("utf-8"),
            "login",
            "local",
            "--browser",
            "none",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("HTTP servers"),
        "{}",
        text(&output)
    );
}

/// `mcpcord` with `HOME` as its only guide to where state lives (no `MCPCORD_HOME`, `MCPM_HOME` or
/// `XDG_CONFIG_HOME`).
fn mcpcord_in_home(home: &Path, args: &[&str]) -> Output {
    mcpcord_command(MCPCORD, home)
        .env_remove("MCPCORD_HOME")
        .args(args)
        .output()
        .expect("mcpcord runs")
}

#[test]
fn a_login_stored_under_the_old_name_is_imported_once_and_the_old_files_are_left_alone() {
    let demo = HttpDemo::start(&["--oauth"]);
    let home = TempDir::new("mcpcord-oauth-old-store");
    let old_store = home.join(".config").join("mcpm");
    std::fs::create_dir_all(&old_store).expect("the old directory");
    std::fs::set_permissions(&old_store, std::fs::Permissions::from_mode(0o700)).expect("private");
    // A login made by the version of this tool that was called mcpm: the same store, there.
    let login = mcpcord(&old_store, &["login", &demo.url, "--browser", "follow"]);
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));
    // The other tool called mcpm keeps its own files in the same directory.
    let foreign = old_store.join("servers.json");
    std::fs::write(&foreign, r#"{"servers": {"fs": {"command": "npx"}}}"#).expect("written");
    let before: Vec<(PathBuf, Vec<u8>)> = files_under(&old_store)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read");
            (path, bytes)
        })
        .collect();

    let echo = [
        "call",
        demo.url.as_str(),
        "echo",
        "--args",
        r#"{"text":"hi"}"#,
    ];
    let first = mcpcord_in_home(home.path(), &echo);
    assert_eq!(
        first.status.code(),
        Some(0),
        "the imported login is used: {}",
        text(&first)
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("used to be called mcpm") && stderr.contains("imported 1 login"),
        "{}",
        text(&first)
    );
    let new_store = home.join(".config").join("mcpcord");
    assert!(
        files_under(&new_store.join("tokens"))
            .iter()
            .any(|path| path.extension().is_some_and(|ext| ext == "json")),
        "the login is in the new store"
    );
    assert!(
        !new_store.join("servers.json").exists(),
        "another tool's file is never copied"
    );
    let after: Vec<(PathBuf, Vec<u8>)> = files_under(&old_store)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read");
            (path, bytes)
        })
        .collect();
    assert_eq!(before, after, "nothing under the old directory changed");

    // Once: the next run says nothing about it.
    let second = mcpcord_in_home(home.path(), &echo);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(
        !String::from_utf8_lossy(&second.stderr).contains("mcpm"),
        "{}",
        text(&second)
    );
}

#[test]
fn check_presents_the_stored_login_and_without_one_says_to_sign_in() {
    let demo = HttpDemo::start(&["--oauth"]);
    let home = TempDir::new("mcpcord-oauth-check");
    let check = [
        "--json",
        "check",
        demo.url.as_str(),
        "--spec",
        "2025-11-25",
        "--only",
        "server-initialize,ping",
    ];

    // Not logged in: no report of the server's compliance, but what to do.
    let before = mcpcord(home.path(), &check);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    let error: serde_json::Value = serde_json::from_slice(&before.stdout).expect("a JSON error");
    assert_eq!(error["error"]["kind"], "auth_required", "{}", text(&before));
    assert!(
        String::from_utf8_lossy(&before.stderr).contains(&format!("mcpcord login {}", demo.url)),
        "{}",
        text(&before)
    );

    let login = mcpcord(home.path(), &["login", &demo.url, "--browser", "follow"]);
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));
    let after = mcpcord(home.path(), &check);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    let report: serde_json::Value = serde_json::from_slice(&after.stdout).expect("a JSON report");
    assert_eq!(report["scenarios"]["ping"], "pass", "{}", text(&after));
}
