//! The live display under a real terminal: `mcpcord`'s stderr is the secondary side of a
//! pseudo-terminal this test opens (rustix's `pty`), its stdout a pipe, and what it draws is read
//! from the primary side. On the terminal: the connect spinner with what it waits for, the progress
//! bar of a call, `bench`'s progress, the servers' log lines. On stdout, never any of it; with
//! `--json`, none of it anywhere. Off a terminal, log lines are plain lines on stderr.
//!
//! The servers are real: the reference server (its `trigger-long-running-operation` reports
//! progress) and `tests/node/chatty_server.cjs` on the official TypeScript SDK, which logs at three
//! levels, one message carrying an escape sequence. Both are installed by `cargo xtask npm-deps`.
//! Nothing waits by sleeping: each run is awaited, bounded, to its end.

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use mcp_tests::support::{TempDir, eventually_blocking, eventually_some_blocking, mcpcord_command};

use crate::MCPCORD;
use crate::cli_watch::everything_config;
use crate::support::{Pty, collect, node_modules_with};

/// What one run left: its exit, everything drawn on the terminal, and its stdout.
struct Run {
    status: ExitStatus,
    screen: String,
    stdout: String,
}

/// Runs `command` to its end with stderr on a new terminal and stdout on a pipe.
fn on_terminal(mut command: Command) -> Run {
    let pty = Pty::open(24, 120);
    let mut child = command
        .env("TERM", "xterm-256color")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(pty.secondary))
        .spawn()
        .expect("mcpcord starts");
    // `command` still holds the secondary side: dropped, only mcpcord holds it, and reading the
    // primary side ends when mcpcord does.
    drop(command);
    let screen = collect(pty.primary);
    let stdout = collect(child.stdout.take().expect("stdout"));
    let status = eventually_some_blocking("mcpcord ends", || child.try_wait().expect("waitable"));
    eventually_blocking("all it wrote is read", || {
        screen.is_done() && stdout.is_done()
    });
    Run {
        status,
        screen: screen.text(),
        stdout: stdout.text(),
    }
}

/// `tests/node/chatty_server.cjs`, configured as `chatty` in `home`'s `mcpcord.toml`.
fn chatty_config(home: &TempDir) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let node_modules = node_modules_with("@modelcontextprotocol/sdk");
    let script = root.join("tests/node/chatty_server.cjs");
    std::fs::write(
        home.join("mcpcord.toml"),
        format!(
            "[servers.chatty]\ncommand = \"node\"\nargs = [{:?}]\nenv = {{ NODE_PATH = {:?} }}\n",
            script.display().to_string(),
            node_modules.display().to_string()
        ),
    )
    .expect("written");
}

/// The reference server's long operation: 4 steps, each reported as progress.
const LONG_OPERATION: [&str; 5] = [
    "call",
    "everything",
    "trigger-long-running-operation",
    "--args",
    r#"{"duration": 1, "steps": 4}"#,
];

#[test]
fn a_call_that_reports_progress_draws_a_bar_on_the_terminal_and_only_its_result_on_stdout() {
    let home = TempDir::new("mcpcord-tty-progress");
    everything_config(&home);
    let run = on_terminal({
        let mut command = mcpcord_command(MCPCORD, home.path());
        command.args(LONG_OPERATION);
        command
    });
    assert_eq!(run.status.code(), Some(0), "{}", run.screen);
    assert!(
        run.screen.contains("trigger-long-running-operation ["),
        "{:?}",
        run.screen
    );
    assert!(run.screen.contains(" of 4"), "{:?}", run.screen);
    assert!(run.screen.contains("=>"), "{:?}", run.screen);
    assert_eq!(
        run.stdout.trim_end(),
        "Long running operation completed. Duration: 1 seconds, Steps: 4."
    );
}

#[test]
fn with_json_nothing_is_drawn_and_stdout_is_the_json_result() {
    let home = TempDir::new("mcpcord-tty-json");
    everything_config(&home);
    let run = on_terminal({
        let mut command = mcpcord_command(MCPCORD, home.path());
        command.arg("--json").args(LONG_OPERATION);
        command
    });
    assert_eq!(run.status.code(), Some(0), "{}", run.screen);
    assert!(!run.screen.contains(" of 4"), "{:?}", run.screen);
    assert!(!run.screen.contains("connecting to"), "{:?}", run.screen);
    assert!(!run.screen.contains('\u{1b}'), "{:?}", run.screen);
    let document = crate::json_of(&run.stdout, &run.screen);
    assert!(
        document["content"][0]["text"]
            .as_str()
            .is_some_and(|text| text.starts_with("Long running operation completed")),
        "{document}"
    );
}

#[test]
fn connecting_shows_what_it_waits_for_and_for_how_long() {
    let home = TempDir::new("mcpcord-tty-connect");
    // A "server" that never answers: the spinner is up for the whole connect timeout.
    let run = on_terminal({
        let mut command = mcpcord_command(MCPCORD, home.path());
        command.args([
            "--connect-timeout",
            "2s",
            "--retries",
            "1",
            "ping",
            "--",
            "sleep",
            "30",
        ]);
        command
    });
    assert_eq!(run.status.code(), Some(1), "{}", run.screen);
    assert!(
        run.screen
            .contains("connecting to sleep: waiting for initialize, "),
        "{:?}",
        run.screen
    );
    assert!(run.screen.contains(" s of 2 s"), "{:?}", run.screen);
    assert!(run.stdout.is_empty(), "{:?}", run.stdout);
}

#[test]
fn bench_shows_its_progress_on_the_terminal_and_its_report_on_stdout() {
    let home = TempDir::new("mcpcord-tty-bench");
    everything_config(&home);
    let run = on_terminal({
        let mut command = mcpcord_command(MCPCORD, home.path());
        command.args([
            "bench",
            "everything",
            "--sessions",
            "2",
            "--calls",
            "5",
            "--tool",
            "echo",
            "--args",
            r#"{"message": "hi"}"#,
        ]);
        command
    });
    assert_eq!(run.status.code(), Some(0), "{}", run.screen);
    assert!(
        run.screen.contains("bench: sessions connected"),
        "{:?}",
        run.screen
    );
    assert!(
        run.stdout.contains("2 sessions x 5 calls"),
        "{:?}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
}

#[test]
fn server_logs_are_one_sanitised_line_each_named_by_their_server() {
    let home = TempDir::new("mcpcord-tty-logs");
    chatty_config(&home);
    let run = on_terminal({
        let mut command = mcpcord_command(MCPCORD, home.path());
        command.args(["call", "chatty", "chatty"]);
        command
    });
    assert_eq!(run.status.code(), Some(0), "{}", run.screen);
    // The escape sequence and the line break are spaces; the object is compact JSON.
    assert!(
        run.screen.contains("chatty: info: line one [2J line two"),
        "{:?}",
        run.screen
    );
    assert!(!run.screen.contains("\u{1b}[2J"), "{:?}", run.screen);
    assert!(
        run.screen
            .contains(r#"chatty: warning storage: {"disk":"low"}"#),
        "{:?}",
        run.screen
    );
    // Below info: not shown by default.
    assert!(!run.screen.contains("hidden debug"), "{:?}", run.screen);
    assert_eq!(run.stdout, "done\n");
}

#[test]
fn off_a_terminal_server_logs_are_plain_lines_on_stderr() {
    let home = TempDir::new("mcpcord-logs-plain");
    chatty_config(&home);
    let output = mcpcord_command(MCPCORD, home.path())
        .args(["call", "chatty", "chatty"])
        .output()
        .expect("mcpcord runs");
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut lines: Vec<&str> = stderr.lines().collect();
    // rmcp hands each notification to a task of its own: they may arrive in any order.
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "chatty: info: line one [2J line two",
            r#"chatty: warning storage: {"disk":"low"}"#,
        ],
        "{stderr:?}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "done\n");
}

#[test]
fn a_login_shows_what_it_waits_for_on_the_terminal() {
    let demo = crate::HttpDemo::start(&["--oauth"]);
    let home = TempDir::new("mcpcord-tty-login");
    let run = on_terminal({
        let mut command = mcpcord_command(MCPCORD, home.path());
        command.args(["login", &demo.url, "--browser", "follow"]);
        command
    });
    assert_eq!(run.status.code(), Some(0), "{}", run.screen);
    assert!(
        run.screen
            .contains(&format!("logging in to {}: ", demo.url)),
        "{:?}",
        run.screen
    );
    assert!(run.stdout.contains("logged in to"), "{:?}", run.stdout);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
}

#[test]
fn verbose_logging_shows_server_messages_once_and_never_as_debug_dumps() {
    let home = TempDir::new("mcpcord-logs-verbose");
    chatty_config(&home);
    let output = mcpcord_command(MCPCORD, home.path())
        .args(["-v", "call", "chatty", "chatty"])
        .output()
        .expect("mcpcord runs");
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("LoggingMessageNotification"), "{stderr}");
    assert_eq!(stderr.matches("line one").count(), 1, "{stderr}");
}
