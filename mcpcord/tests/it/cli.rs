//! The `mcpcord` binary as users and scripts see it: `--json` shapes, exit codes, config errors, Ctrl+C.
//! The built-in demo server (`mcpcord serve-demo --stdio`) is the server under test.

use std::io::Read;
use std::process::Stdio;

use mcp_tests::support::{
    TempDir, eventually_blocking, eventually_some_blocking, live_children_of, mcpcord_command,
    refused_port, running,
};
use serde_json::Value;

use crate::support::{against_demo, mcpcord};
use crate::{MCPCORD, json_of};

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn health_json_has_the_documented_shape() {
    let output = against_demo(&["--json", "health"]);
    let document = succeeded_json(&output);
    assert_eq!(keys(&document), ["ok", "servers"]);
    assert_eq!(document["ok"], true);
    let server = &document["servers"][0];
    assert_eq!(
        keys(server),
        [
            "attempts",
            "connect_ms",
            "error",
            "name",
            "ok",
            "prompts",
            "protocol_version",
            "resource_templates",
            "resources",
            "server",
            "tools",
            "transport"
        ]
    );
    assert_eq!(server["transport"], "stdio");
    assert_eq!(server["server"]["name"], "mcpcord-demo");
    assert_eq!(server["tools"], 5);
    assert_eq!(server["error"], Value::Null);
}

#[test]
fn inspect_json_has_the_documented_shape() {
    let output = against_demo(&["--json", "inspect"]);
    assert_eq!(output.status.code(), Some(0));
    let document = json_of(&output.stdout, &output.stderr);
    for key in [
        "server",
        "protocol_version",
        "tools",
        "resources",
        "resource_templates",
        "prompts",
    ] {
        assert!(document.get(key).is_some(), "missing {key}");
    }
    assert!(
        document["tools"][0]["inputSchema"].is_object(),
        "MCP's own JSON for tools"
    );
}

#[test]
fn call_prints_the_result_as_mcp_json() {
    let output = against_demo(&["--json", "call", "echo", "--args", r#"{"text":"hi"}"#]);
    assert_eq!(output.status.code(), Some(0));
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["content"][0]["text"], "hi");
    assert_eq!(document["isError"], false);
}

#[test]
fn a_tool_error_exits_1_and_still_prints_the_result() {
    let output = against_demo(&["--json", "call", "fail"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_of(&output.stdout, &output.stderr)["isError"], true);
}

#[test]
fn bench_json_has_the_documented_shape() {
    let output = against_demo(&["--json", "bench", "--sessions", "3", "--calls", "5"]);
    let document = succeeded_json(&output);
    assert_eq!(
        keys(&document),
        [
            "call_us",
            "calls",
            "calls_per_s",
            "calls_phase_ms",
            "connect_ms",
            "errors",
            "errors_by_kind",
            "sessions",
            "wall_ms"
        ]
    );
    assert_eq!(document["sessions"], 3);
    assert_eq!(document["calls"], 15);
    assert_eq!(document["errors"], 0);
    assert_eq!(document["errors_by_kind"], serde_json::json!({}));
    assert_eq!(keys(&document["call_us"]), ["max", "p50", "p99"]);
}

#[test]
fn bad_args_json_is_a_usage_error() {
    let output = against_demo(&["call", "echo", "--args", "{not json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--args is not valid JSON"));
}

#[test]
fn no_server_and_no_config_is_a_usage_error() {
    let output = mcpcord(&["health"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn config_errors_name_the_file_and_line_and_exit_2() {
    let dir = TempDir::new("mcpcord-bad-config");
    let file = dir.join("mcpcord.toml");
    std::fs::write(&file, "[servers.demo]\ncomand = \"mcpcord\"\n").expect("written");
    let output = mcpcord(&["--config", &file.display().to_string(), "health"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mcpcord.toml:2"), "{stderr}");
    assert!(stderr.contains("comand"), "{stderr}");
}

/// A `mcpcord.toml` in `dir` with a demo stdio server under each of `names`, then `down`, an HTTP
/// server whose port refuses (one attempt); its path.
fn demos_and_a_refused_server(dir: &TempDir, names: &[&str]) -> String {
    let mut text = String::new();
    for name in names {
        text.push_str(&format!(
            "[servers.{name}]\ncommand = {MCPCORD:?}\nargs = [\"serve-demo\", \"--stdio\"]\n\n"
        ));
    }
    let port = refused_port();
    text.push_str(&format!(
        "[servers.down]\nurl = \"http://127.0.0.1:{port}/mcp\"\nretry = {{ attempts = 1 }}\n"
    ));
    let file = dir.join("mcpcord.toml");
    std::fs::write(&file, text).expect("written");
    file.display().to_string()
}

#[test]
fn configured_servers_are_checked_and_a_failure_exits_1() {
    let dir = TempDir::new("mcpcord-config");
    let config = demos_and_a_refused_server(&dir, &["demo"]);
    let output = mcpcord(&["--json", "--config", &config, "health"]);
    assert_eq!(output.status.code(), Some(1));
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["ok"], false);
    assert_eq!(document["servers"][0]["name"], "demo");
    assert_eq!(document["servers"][0]["ok"], true);
    assert_eq!(
        document["servers"][1]["error"]["kind"],
        "connection_refused"
    );
}

/// `inspect` of several servers: each described, in the order given; one that fails makes exit 1
/// and an error entry, without hiding the others.
#[test]
fn inspect_takes_several_servers() {
    let dir = TempDir::new("mcpcord-inspect-several");
    let config = demos_and_a_refused_server(&dir, &["one", "two"]);
    let output = mcpcord(&["--json", "--config", &config, "inspect", "one", "two"]);
    let document = succeeded_json(&output);
    assert_eq!(document["ok"], true);
    assert_eq!(document["servers"][0]["name"], "one");
    assert_eq!(document["servers"][1]["name"], "two");
    assert_eq!(document["servers"][1]["transport"], "stdio");
    assert!(
        document["servers"][0]["tools"]
            .as_array()
            .is_some_and(|tools| !tools.is_empty())
    );

    let output = mcpcord(&["--json", "--config", &config, "inspect", "one", "down"]);
    assert_eq!(output.status.code(), Some(1));
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["ok"], false);
    assert_eq!(document["servers"][0]["ok"], true);
    assert_eq!(
        document["servers"][1]["error"]["kind"],
        "connection_refused"
    );

    let output = mcpcord(&["--config", &config, "inspect", "one", "two"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("== one ==") && stdout.contains("== two =="),
        "{stdout}"
    );
}

/// Another client's JSON file: a disabled server is skipped and said, a broken entry is skipped
/// with its problem, an unused key is a warning, and the good server still runs.
#[test]
fn a_foreign_config_runs_its_good_servers_and_says_what_it_skipped() {
    let dir = TempDir::new("mcpcord-foreign");
    let file = dir.join("claude_desktop_config.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"mcpServers": {{
  "demo": {{"command": {MCPCORD:?}, "args": ["serve-demo", "--stdio"], "autoApprove": ["echo"], "someFutureKey": 1}},
  "off": {{"command": "nowhere", "disabled": true}},
  "broken": {{"command": 42}}
}}}}"#
        ),
    )
    .expect("written");
    let config = file.display().to_string();
    let output = mcpcord(&["--json", "--config", &config, "health"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document = json_of(&output.stdout, &output.stderr);
    let names: Vec<&str> = document["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .filter_map(|server| server["name"].as_str())
        .collect();
    assert_eq!(names, ["demo"]);
    assert!(
        stderr.contains("someFutureKey") && stderr.contains("(warning)"),
        "{stderr}"
    );
    assert!(stderr.contains("server broken is skipped"), "{stderr}");
    assert!(stderr.contains("server off is disabled"), "{stderr}");
    let output = mcpcord(&["--config", &config, "call", "off", "echo"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("\"off\" is disabled"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn demo_runs_end_to_end_and_leaves_nothing_running() {
    let output = mcpcord(&["--json", "demo"]);
    let document = succeeded_json(&output);
    assert_eq!(document["ok"], true);
    assert_eq!(document["left_running"]["children"], 0);
    assert_eq!(document["left_running"]["listeners"], 0);
    assert_eq!(document["servers"].as_array().map(Vec::len), Some(3));
    let oauth = &document["servers"][2];
    assert_eq!(oauth["name"], "demo-oauth");
    assert_eq!(oauth["ok"], true, "the OAuth demo logged in: {oauth}");
    let calls = document["calls"].as_array().expect("calls");
    assert!(
        calls
            .iter()
            .any(|call| call["tool"] == "demo-oauth__echo" && call["ok"] == true),
        "{calls:?}"
    );
}

/// The end of an mcpcord command line that calls `sleep` for 10 s on a demo server over stdio.
const SLEEP_ON_A_DEMO_SERVER: [&str; 6] = [
    "--args",
    r#"{"ms":10000}"#,
    "--",
    MCPCORD,
    "serve-demo",
    "--stdio",
];

/// Runs `mcpcord ARGS`, waits until it has started `servers` servers, interrupts it (SIGINT, as
/// Ctrl+C does) and checks it exits 130. Returns the servers' pids and what mcpcord wrote on stderr.
fn interrupt_once_started(args: &[&str], servers: usize) -> (Vec<u32>, String) {
    let home = TempDir::new("mcpcord-interrupted");
    let mut child = mcpcord_command(MCPCORD, home.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mcpcord runs");
    let started =
        eventually_some_blocking(&format!("mcpcord has started {servers} servers"), || {
            let started = live_children_of(child.id());
            (started.len() == servers).then_some(started)
        });
    let pid =
        rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("a pid")).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("signalled");
    let status = child.wait().expect("mcpcord exits");
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .map(|mut pipe| pipe.read_to_string(&mut stderr));
    (started, stderr)
}

/// Waits (bounded) until `server` has exited: gone, or a zombie of a parent that is gone too.
fn wait_until_gone(server: u32) {
    eventually_blocking("the server has exited with mcpcord", || !running(server));
}

#[test]
fn ctrl_c_shuts_down_kills_children_and_exits_130() {
    let (servers, stderr) = interrupt_once_started(
        &[&["call", "sleep"][..], &SLEEP_ON_A_DEMO_SERVER].concat(),
        1,
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    servers.into_iter().for_each(wait_until_gone);
}

#[test]
fn ctrl_c_during_a_bench_kills_every_session_server() {
    // The sessions' calls run on tasks of their own; all three servers must die with mcpcord.
    let bench = [
        "bench",
        "--sessions",
        "3",
        "--calls",
        "1",
        "--tool",
        "sleep",
    ];
    let (servers, _) = interrupt_once_started(&[&bench[..], &SLEEP_ON_A_DEMO_SERVER].concat(), 3);
    servers.into_iter().for_each(wait_until_gone);
}

/// The JSON document of a run that exited 0; otherwise a failure showing its stderr.
fn succeeded_json(output: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_of(&output.stdout, &output.stderr)
}
