//! `mcpcord login`, `logout`, and a login-protected server used without a browser, against
//! `mcpcord serve-demo --http 127.0.0.1:0 --oauth` (the demo behind its built-in authorization server).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");

/// The OAuth demo server as a child process; killed on drop.
struct OAuthDemo {
    child: Child,
    url: String,
}

impl OAuthDemo {
    fn start() -> Self {
        let mut child = Command::new(MCPCORD)
            .args(["serve-demo", "--http", "127.0.0.1:0", "--oauth"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve-demo starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for OAuthDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_home(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpcord-oauth-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// `mcpcord ARGS` with its own token home, no configured browser, stdin not a terminal.
fn mcpcord(home: &Path, args: &[&str]) -> Output {
    Command::new(MCPCORD)
        .args(args)
        .env("MCPCORD_HOME", home)
        .env_remove("MCPCORD_BROWSER")
        .env_remove("MCPCORD_CONFIG")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .stdin(Stdio::null())
        .current_dir(std::env::temp_dir())
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

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn login_then_use_without_a_browser_then_logout() {
    let demo = OAuthDemo::start();
    let home = temp_home("login");
    let echo = [
        "call",
        demo.url.as_str(),
        "echo",
        "--args",
        r#"{"text":"hi"}"#,
    ];

    // Not logged in, no browser, no terminal: the error says what to do.
    let before = mcpcord(&home, &echo);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    let stderr = String::from_utf8_lossy(&before.stderr);
    assert!(
        stderr.contains(&format!("mcpcord login {}", demo.url)),
        "{}",
        text(&before)
    );

    let login = mcpcord(&home, &["login", &demo.url, "--browser", "follow"]);
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));
    assert!(
        String::from_utf8_lossy(&login.stdout).contains("logged in to"),
        "{}",
        text(&login)
    );
    let tokens: Vec<PathBuf> = files_under(&home)
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
    let call = mcpcord(&home, &echo);
    assert_eq!(call.status.code(), Some(0), "{}", text(&call));
    assert!(String::from_utf8_lossy(&call.stdout).contains("hi"));

    let logout = mcpcord(&home, &["logout", &demo.url]);
    assert_eq!(logout.status.code(), Some(0), "{}", text(&logout));
    assert!(String::from_utf8_lossy(&logout.stdout).contains("logged out"));
    let after = mcpcord(&home, &echo);
    assert_eq!(after.status.code(), Some(1), "{}", text(&after));

    let again = mcpcord(&home, &["logout", &demo.url]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("no stored tokens"),
        "{}",
        text(&again)
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn bench_with_many_sessions_logs_in_once_and_keeps_that_login() {
    let demo = OAuthDemo::start();
    let home = temp_home("bench");
    let bench = mcpcord(
        &home,
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
        &home,
        &["call", &demo.url, "echo", "--args", r#"{"text":"hi"}"#],
    );
    assert_eq!(call.status.code(), Some(0), "{}", text(&call));
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn an_unknown_browser_mode_is_a_usage_error() {
    let home = temp_home("mode");
    let output = mcpcord(
        &home,
        &["--browser", "lynx", "health", "http://127.0.0.1:9/mcp"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("system") && stderr.contains("follow"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn login_to_a_stdio_server_is_a_clear_error() {
    let home = temp_home("stdio");
    let config = home.join("mcpcord.toml");
    std::fs::write(&config, "[servers.local]\ncommand = \"true\"\n").expect("config");
    let output = mcpcord(
        &home,
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
    let _ = std::fs::remove_dir_all(&home);
}
