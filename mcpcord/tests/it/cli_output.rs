//! Output a script or a person can count on: `--json` errors (JSON-RPC ones with `code` and
//! `data`, usage errors too), bench's errors by kind, a health table that stays aligned, `--help`,
//! and the generated shell completions and man page. The built-in demo server is the server.

use mcp_tests::support::TempDir;

use crate::support::{against_demo, assert_exit, mcpcord, stderr, stdout};
use crate::{MCPCORD, json_of};

#[test]
fn a_json_rpc_error_under_json_carries_kind_code_and_data() {
    let output = against_demo(&["--json", "read", "demo://nothing"]);
    assert_exit(&output, 1);
    let document = json_of(&output.stdout, &output.stderr);
    let error = &document["error"];
    assert_eq!(error["kind"], "rpc");
    assert!(error["code"].is_i64(), "{document}");
    assert_eq!(
        error["data"],
        serde_json::json!({ "uri": "demo://nothing" })
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.contains("demo://nothing")),
        "{document}"
    );
}

#[test]
fn a_usage_error_under_json_is_a_json_error_of_kind_usage() {
    let output = against_demo(&["--json", "prompt", "greet", "--args", "[1]"]);
    assert_exit(&output, 2);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["error"]["kind"], "usage");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("JSON object")),
        "{document}"
    );
}

#[test]
fn a_command_line_clap_rejects_under_json_is_a_json_error_too() {
    let output = mcpcord(&["--json", "health", "--no-such-flag"]);
    assert_exit(&output, 2);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["error"]["kind"], "usage");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("--no-such-flag")),
        "{document}"
    );
    assert!(
        stderr(&output).contains("Usage:"),
        "clap's own message on stderr: {}",
        stderr(&output)
    );

    let output = mcpcord(&["--json", "call"]);
    assert_exit(&output, 2);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(
        document["error"]["message"],
        "the following required arguments were not provided: <SERVER TOOL>...",
        "what is missing, on one line"
    );
}

#[test]
fn a_command_line_clap_rejects_without_json_prints_nothing_on_stdout() {
    let output = mcpcord(&["health", "--no-such-flag"]);
    assert_exit(&output, 2);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("--no-such-flag"));
}

#[test]
fn bench_reports_errors_by_kind_with_a_sample_and_what_calls_per_second_covers() {
    let output = against_demo(&["bench", "--tool", "fail", "--sessions", "2", "--calls", "3"]);
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(
        text.contains("errors by kind (count, first message):\n  tool_failed  6  "),
        "{text}"
    );
    assert!(text.contains("this tool always fails"), "{text}");
    assert!(
        text.lines().any(
            |line| line.starts_with("0 calls/s: successful calls over the ")
                && line.contains("connects excluded")
        ),
        "{text}"
    );

    let output = against_demo(&[
        "--json",
        "bench",
        "--tool",
        "fail",
        "--sessions",
        "2",
        "--calls",
        "3",
    ]);
    assert_exit(&output, 1);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["errors"], 6);
    assert_eq!(document["errors_by_kind"]["tool_failed"]["count"], 6);
    assert!(
        document["errors_by_kind"]["tool_failed"]["sample"]
            .as_str()
            .is_some_and(|sample| sample.contains("always fails")),
        "{document}"
    );
    assert!(document["calls_phase_ms"].is_u64(), "{document}");
}

#[test]
fn the_health_table_stays_aligned_with_a_long_server_name() {
    let dir = TempDir::new("mcpcord-output");
    let long = "a-demo-server-with-a-name-longer-than-twenty";
    let mut config = String::new();
    for name in [long, "short"] {
        config.push_str(&format!(
            "[servers.{name}]\ncommand = {MCPCORD:?}\nargs = [\"serve-demo\", \"--stdio\"]\n\n"
        ));
    }
    let file = dir.join("mcpcord.toml");
    std::fs::write(&file, config).expect("written");
    let output = mcpcord(&["--config", &file.to_string_lossy(), "health"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let transport = lines[0].find("TRANSPORT");
    let tools = lines[0]
        .find("TOOLS")
        .map(|start| start..start + "TOOLS".len());
    for row in &lines[1..] {
        assert_eq!(row.find("stdio"), transport, "{text}");
        // TOOLS is right-aligned: each count ends where its heading does.
        let cell = tools.clone().and_then(|range| row.get(range));
        assert!(
            cell.is_some_and(
                |cell| cell.starts_with(' ') && cell.trim_start().parse::<usize>().is_ok()
            ),
            "{cell:?} in {text}"
        );
    }
    assert!(lines[1].starts_with(long), "{text}");
}

#[test]
fn help_opens_with_what_the_tool_is() {
    let output = mcpcord(&["--help"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "The command-line client for testing MCP (Model Context Protocol) servers.\n\n\
             mcpcord connects to MCP servers"
        ),
        "{text}"
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_mcpcord()"),
        ("zsh", "#compdef mcpcord"),
        ("fish", "complete -c mcpcord"),
        ("elvish", "edit:completion:arg-completer[mcpcord]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = mcpcord(&["completions", shell]);
        assert_exit(&output, 0);
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("inspect"), "{shell} completes commands");
        assert!(script.contains("--save"), "{shell} completes flags");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = mcpcord(&["completions", "tcsh"]);
    assert_exit(&output, 2);
}

#[test]
fn the_man_page_is_roff_naming_every_command() {
    let output = mcpcord(&["man"]);
    assert_exit(&output, 0);
    let page = stdout(&output);
    assert!(page.contains("\n.TH mcpcord 1 "), "{page}");
    assert!(
        page.contains(
            ".SH NAME\nmcpcord \\- The command\\-line client for testing MCP (Model Context \
             Protocol) servers\n"
        ),
        "{page}"
    );
    for command in [
        "health",
        "inspect",
        "call",
        "read",
        "bench",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!("\nmcpcord\\-{command}(1)\n")),
            "{command} is named: {page}"
        );
    }
}

#[test]
fn each_command_has_a_man_page_of_its_own() {
    let output = mcpcord(&["man", "call"]);
    assert_exit(&output, 0);
    let page = stdout(&output);
    assert!(page.contains("\n.TH mcpcord-call 1 "), "{page}");
    assert!(page.contains("\\-\\-save"), "its flags: {page}");

    let output = mcpcord(&["--json", "man", "nothing"]);
    assert_exit(&output, 2);
    assert_eq!(
        json_of(&output.stdout, &output.stderr)["error"]["kind"],
        "usage"
    );
}
