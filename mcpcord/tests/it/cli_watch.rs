//! `watch --json` against real servers: the reference server (`@modelcontextprotocol/server-everything`,
//! installed under `target/npm/` by `cargo xtask npm-deps`), which declares resource subscriptions,
//! logs, reports progress and changes its tool list right after the handshake; and the built-in
//! demo server, which declares no subscriptions. Each test waits for the lines it expects (bounded),
//! then stops `mcpcord` with SIGINT as Ctrl+C would, and checks the clean exit (130) and that every
//! line on stdout is one JSON event.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use mcp_tests::support::{TempDir, eventually_some_blocking, mcpcord_command};
use serde_json::Value;

use crate::MCPCORD;
use crate::support::{interrupt, npm_server};

/// A `mcpcord.toml` in `home` naming the reference server (over stdio) `everything`.
pub(crate) fn everything_config(home: &TempDir) {
    let script = npm_server("@modelcontextprotocol/server-everything");
    std::fs::write(
        home.join("mcpcord.toml"),
        format!(
            "[servers.everything]\ncommand = \"node\"\nargs = [{:?}, \"stdio\"]\n",
            script.display().to_string()
        ),
    )
    .expect("written");
}

/// A running `mcpcord`, its stdout collected line by line and its stderr whole, as they come.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    _home: TempDir,
}

impl Running {
    fn start(home: TempDir, args: &[&str]) -> Self {
        let mut child = mcpcord_command(MCPCORD, home.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mcpcord starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                collected.lock().expect("lines").push(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read @ 1..) = pipe.read(&mut buffer) {
                collected
                    .lock()
                    .expect("stderr")
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Self {
            child,
            lines,
            stderr,
            _home: home,
        }
    }

    /// Every line so far, as printed.
    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Every line so far, parsed; panics on a line that is not one JSON object.
    fn events(&self) -> Vec<Value> {
        self.lines
            .lock()
            .expect("lines")
            .iter()
            .map(|line| {
                let event: Value = serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line:?}"));
                assert!(event.is_object(), "not an object: {line}");
                event
            })
            .collect()
    }

    /// Waits (bounded) until an event of `kind` matching `also` has been printed; returns it.
    fn wait_for(&self, kind: &str, also: impl Fn(&Value) -> bool) -> Value {
        eventually_some_blocking(&format!("a {kind} event is printed"), || {
            self.events()
                .into_iter()
                .find(|event| event["kind"] == kind && also(event))
        })
    }

    /// Sends SIGINT, as Ctrl+C would, and waits (bounded) for the exit.
    fn interrupt(&mut self) -> ExitStatus {
        interrupt(&mut self.child)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every event names the server and says what it is.
fn assert_all_are_events(running: &Running) {
    for event in running.events() {
        assert_eq!(event["server"], "everything", "{event}");
        assert!(event["kind"].is_string(), "{event}");
    }
}

#[test]
fn watch_json_streams_subscriptions_updates_logs_and_list_changes_until_ctrl_c() {
    let home = TempDir::new("mcpcord-watch");
    everything_config(&home);
    let uri = "demo://resource/static/document/features.md";
    let mut running = Running::start(
        home,
        &[
            "--json",
            "watch",
            "everything",
            "--resource",
            uri,
            "--call",
            "toggle-subscriber-updates",
        ],
    );
    running.wait_for("subscribed", |event| event["uri"] == uri);
    // The server acknowledges a subscription with a log message at info.
    let log = running.wait_for("log", |event| {
        event["data"]
            .as_str()
            .is_some_and(|data| data.contains("Subscribe") && data.contains(uri))
    });
    assert_eq!(log["level"], "info", "{log}");
    assert!(log["logger"].is_null(), "{log}");
    // Registering a tool once initialized makes it send tools/list_changed.
    let changed = running.wait_for("list_changed", |_| true);
    assert!(
        changed["tools"].as_u64().is_some_and(|tools| tools > 0),
        "{changed}"
    );
    // The tool called in the same session starts the updates of what it subscribed to.
    let result = running.wait_for("call_result", |_| true);
    assert_eq!(result["tool"], "toggle-subscriber-updates");
    assert_eq!(result["is_error"], false);
    running.wait_for("resource_updated", |event| event["uri"] == uri);

    let status = running.interrupt();
    assert_eq!(status.code(), Some(130), "stderr: {}", running.stderr());
    assert!(
        running.stderr().contains("interrupted"),
        "{}",
        running.stderr()
    );
    assert_all_are_events(&running);
}

#[test]
fn the_log_level_is_set_before_subscribing() {
    let home = TempDir::new("mcpcord-watch-level");
    everything_config(&home);
    let uri = "demo://resource/static/document/features.md";
    let mut running = Running::start(
        home,
        &[
            "--json",
            "watch",
            "everything",
            "--log-level",
            "error",
            "--resource",
            uri,
            "--call",
            "toggle-subscriber-updates",
        ],
    );
    running.wait_for("subscribed", |event| event["uri"] == uri);
    running.wait_for("call_result", |_| true);
    running.wait_for("resource_updated", |event| event["uri"] == uri);
    assert_eq!(running.interrupt().code(), Some(130));
    // The server acknowledges a subscription with a log message at info: below the level set.
    let logs: Vec<Value> = running
        .events()
        .into_iter()
        .filter(|event| event["kind"] == "log" && event["level"] == "info")
        .collect();
    assert!(logs.is_empty(), "{logs:?}");
}

#[test]
fn watch_json_streams_the_progress_of_the_call() {
    let home = TempDir::new("mcpcord-watch-progress");
    everything_config(&home);
    let mut running = Running::start(
        home,
        &[
            "--json",
            "watch",
            "everything",
            "--call",
            "trigger-long-running-operation",
            "--args",
            r#"{"duration": 0.2, "steps": 2}"#,
        ],
    );
    let first = running.wait_for("progress", |event| event["progress"] == 1);
    assert_eq!(first["total"], 2, "{first}");
    running.wait_for("progress", |event| event["progress"] == 2);
    running.wait_for("call_result", |event| event["is_error"] == false);

    assert_eq!(running.interrupt().code(), Some(130));
    assert_all_are_events(&running);
}

#[test]
fn watching_a_server_without_subscriptions_says_so_and_keeps_streaming() {
    let home = TempDir::new("mcpcord-watch-demo");
    let mut running = Running::start(
        home,
        &[
            "--json",
            "watch",
            "--resource",
            "demo://readme",
            "--call",
            "echo",
            "--args",
            r#"{"text": "still here"}"#,
            "--",
            MCPCORD,
            "serve-demo",
            "--stdio",
        ],
    );
    let refused = running.wait_for("subscribe_failed", |_| true);
    assert_eq!(refused["uri"], "demo://readme");
    assert_eq!(refused["error"]["kind"], "subscriptions_unsupported");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("resources.subscribe")),
        "{refused}"
    );
    // Still watching: the call in the same session goes through and is reported.
    let result = running.wait_for("call_result", |_| true);
    assert_eq!(result["result"]["content"][0]["text"], "still here");

    assert_eq!(running.interrupt().code(), Some(130));
    assert!(
        running
            .events()
            .iter()
            .all(|event| event["kind"].is_string())
    );
}

#[test]
fn watch_refuses_an_unknown_log_level_before_connecting() {
    let home = TempDir::new("mcpcord-watch-usage");
    let output = mcpcord_command(MCPCORD, home.path())
        .args([
            "watch",
            "--log-level",
            "loud",
            "--",
            MCPCORD,
            "serve-demo",
            "--stdio",
        ])
        .output()
        .expect("mcpcord runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown log level"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_call_that_fails_is_an_event_and_the_watch_goes_on() {
    let home = TempDir::new("mcpcord-watch-call-fails");
    let mut running = Running::start(
        home,
        &[
            "--json",
            "watch",
            "--call",
            "no-such-tool",
            "--",
            MCPCORD,
            "serve-demo",
            "--stdio",
        ],
    );
    let failed = running.wait_for("call_failed", |_| true);
    assert_eq!(failed["tool"], "no-such-tool");
    assert!(failed["error"]["kind"].is_string(), "{failed}");
    assert!(failed["error"]["message"].is_string(), "{failed}");
    // A JSON-RPC error: its code and data, as `call --json` reports them.
    assert_eq!(failed["error"]["code"], -32602, "{failed}");
    assert!(failed["error"].get("data").is_some(), "{failed}");
    // Still running until stopped.
    assert_eq!(running.interrupt().code(), Some(130));
    assert!(
        running
            .events()
            .iter()
            .all(|event| event["kind"].is_string())
    );
}

/// The annotated message and image server-everything returns, with a priority of 0.7.
const ANNOTATED: [&str; 4] = [
    "--call",
    "get-annotated-message",
    "--args",
    r#"{"messageType": "success", "includeImage": true}"#,
];

#[test]
fn a_call_result_keeps_its_numbers_as_the_server_wrote_them() {
    let home = TempDir::new("mcpcord-watch-numbers");
    everything_config(&home);
    let mut args = vec!["--json", "watch", "everything"];
    args.extend(ANNOTATED);
    let mut running = Running::start(home, &args);
    let result = running.wait_for("call_result", |_| true);
    let priority = &result["result"]["content"][0]["annotations"]["priority"];
    // An f32 0.7, not widened to 0.699999988079071.
    assert_eq!(priority.to_string(), "0.7", "{result}");
    assert_eq!(running.interrupt().code(), Some(130));
}

#[test]
fn without_json_a_call_result_shows_each_block_as_call_does() {
    let home = TempDir::new("mcpcord-watch-result-lines");
    everything_config(&home);
    let mut args = vec!["watch", "everything"];
    args.extend(ANNOTATED);
    let mut running = Running::start(home, &args);
    let line = eventually_some_blocking("the call's result is printed", || {
        running
            .lines()
            .into_iter()
            .find(|line| line.starts_with("everything: get-annotated-message returned: "))
    });
    assert!(line.contains("[image] image/png, "), "{line}");
    assert!(line.contains(" px"), "{line}");
    assert!(line.contains("priority: 0.7"), "{line}");
    assert!(!line.contains(r#""data""#), "no raw JSON: {line}");
    assert_eq!(running.interrupt().code(), Some(130));
}

#[test]
fn without_json_each_event_is_one_line_named_by_the_server() {
    let home = TempDir::new("mcpcord-watch-lines");
    everything_config(&home);
    let uri = "demo://resource/static/document/features.md";
    let mut running = Running::start(
        home,
        &[
            "watch",
            "everything",
            "--resource",
            uri,
            "--call",
            "toggle-subscriber-updates",
        ],
    );
    let updated = format!("everything: updated {uri}");
    eventually_some_blocking("the update is printed", || {
        running.lines().contains(&updated).then_some(())
    });
    let lines = running.lines();
    assert!(
        lines.contains(&format!("everything: subscribed to {uri}")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("everything: info: Received Subscribe Resource request")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|line| line.starts_with("everything: ") && !line.contains('\u{1b}')),
        "{lines:?}"
    );
    assert_eq!(running.interrupt().code(), Some(130));
    assert!(
        running
            .stderr()
            .contains("watching everything; Ctrl+C to stop"),
        "{}",
        running.stderr()
    );
}
