//! `mcpcord check`: the report on a terminal, as JSON and as JUnit XML, exit codes, `--only` and
//! `--spec`, against the official reference server (server-everything, over stdio) and the demo
//! (over HTTP, where it has no DNS-rebinding protection to show). What each check finds is tested
//! against deliberately broken servers in `tests/tests/it/check.rs`.

use std::process::Output;

use mcp_tests::support::{TempDir, mcpcord_command};

use crate::support::{assert_exit, everything, stdout};
use crate::{HttpDemo, MCPCORD, json_of};

/// `mcpcord ARGS` with a home of its own.
fn run_in(home: &TempDir, args: &[&str]) -> Output {
    mcpcord_command(MCPCORD, home.path())
        .args(args)
        .output()
        .expect("mcpcord runs")
}

/// `mcpcord check ARGS -- node server-everything stdio`.
fn check_everything(home: &TempDir, args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.push("--");
    let server = everything();
    all.extend(server.iter().map(String::as_str));
    run_in(home, &all)
}

#[test]
fn server_everything_over_stdio_passes_every_must_and_the_report_says_why_the_rest_did_not_run() {
    let home = TempDir::new("mcpcord-check");
    let output = check_everything(&home, &[]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.starts_with("node (mcp-servers/everything ")
            && text.contains("over stdio, checked against 2025-11-25"),
        "{text}"
    );
    for line in [
        "  ok   server-initialize",
        "  ok   stdio-stdout-only-jsonrpc",
        "  ok   jsonrpc-envelope",
    ] {
        assert!(text.contains(line), "no {line:?} in {text}");
    }
    // server-everything answers an unknown tool with an isError result, which the spec does not
    // forbid but does not ask for: a warning with its evidence.
    assert!(
        text.contains("  warn tools-call-unknown-tool-protocol-error"),
        "{text}"
    );
    assert!(text.contains("received: {\"id\":"), "{text}");
    assert!(text.contains("  skip streamable HTTP only: "), "{text}");
    assert!(
        text.lines()
            .last()
            .is_some_and(|last| last.starts_with("PASS: ")),
        "{text}"
    );
}

#[test]
fn json_gives_every_check_with_its_level_and_section_and_each_scenario_verdict() {
    let home = TempDir::new("mcpcord-check");
    let output = check_everything(&home, &["--json"]);
    assert_exit(&output, 0);
    let report = json_of(&output.stdout, &output.stderr);
    assert_eq!(report["ok"], true);
    assert_eq!(report["transport"], "stdio");
    assert_eq!(report["spec"], "2025-11-25");
    let checks = report["checks"].as_array().expect("checks");
    assert!(checks.len() > 60, "{}", checks.len());
    for check in checks {
        assert!(
            check["id"].is_string()
                && check["section"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("https://")),
            "{check}"
        );
        assert!(
            ["MUST", "SHOULD", "INFO"].contains(&check["level"].as_str().unwrap_or_default()),
            "{check}"
        );
        assert!(
            ["pass", "fail", "skip"].contains(&check["status"].as_str().unwrap_or_default()),
            "{check}"
        );
    }
    assert_eq!(report["scenarios"]["tools-list"], "pass");
    assert_eq!(
        report["scenarios"]["tools-call-image"], "skip",
        "no test_image_content tool"
    );
    assert_eq!(report["summary"]["failed"], 0);
}

#[test]
fn junit_writes_one_test_case_per_check_beside_the_usual_report() {
    let home = TempDir::new("mcpcord-check");
    let file = home.join("check.xml");
    let file_arg = file.display().to_string();
    let output = check_everything(&home, &["--junit", &file_arg, "--only", "tools,ping"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("  ok   tools-list"),
        "{}",
        stdout(&output)
    );
    let xml = std::fs::read_to_string(&file).expect("the JUnit file");
    assert!(
        xml.starts_with("<?xml") && xml.contains("<testsuites name=\"mcpcord check\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase classname=\"tools-list\" name=\"tools-list\">"),
        "{xml}"
    );
    assert!(xml.contains("<skipped message="), "{xml}");
    assert!(
        !xml.contains("name=\"jsonrpc-envelope\""),
        "--only left it out: {xml}"
    );
}

#[test]
fn a_failed_must_exits_1_and_shows_what_came_back_and_the_spec_section() {
    // server-everything behind a wrapper that writes a line of its own to stdout first.
    let server = everything();
    let wrapped = format!("echo 'starting up'; exec {}", server.join(" "));
    let home = TempDir::new("mcpcord-check");
    let output = run_in(
        &home,
        &["check", "--only", "stdio", "--", "sh", "-c", &wrapped],
    );
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("  FAIL stdio-stdout-only-jsonrpc"), "{text}");
    assert!(
        text.contains(
            "         why:      1 line(s) on stdout were not JSON-RPC; the first: starting up"
        ),
        "{text}"
    );
    assert!(
        text.contains("         spec:     https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio"),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .is_some_and(|last| last.starts_with("FAIL: ")),
        "{text}"
    );
}

#[test]
fn the_demo_over_http_refuses_a_foreign_host_and_serves_its_own() {
    let demo = HttpDemo::start(&["--era", "legacy"]);
    let home = TempDir::new("mcpcord-check");
    let output = run_in(
        &home,
        &[
            "--json",
            "check",
            &demo.url,
            "--only",
            "dns-rebinding-protection",
        ],
    );
    assert_exit(&output, 0);
    let report = json_of(&output.stdout, &output.stderr);
    assert_eq!(
        report["scenarios"]["dns-rebinding-protection"], "pass",
        "{report}"
    );
    assert_eq!(
        report["checks"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
}

#[test]
fn a_refused_handshake_is_a_failed_check_and_every_other_check_is_skipped_for_want_of_a_session() {
    let demo = HttpDemo::start(&["--era", "legacy"]);
    let home = TempDir::new("mcpcord-check");
    let output = run_in(
        &home,
        &["--json", "check", &demo.url, "--spec", "2026-07-28"],
    );
    assert_exit(&output, 1);
    let report = json_of(&output.stdout, &output.stderr);
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["handshake_refused"], true, "{report}");
    assert_eq!(
        report["transport"], "http",
        "the legacy SSE fallback did no better"
    );
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<&str> = checks
        .iter()
        .filter(|check| check["status"] == "fail")
        .filter_map(|check| check["id"].as_str())
        .collect();
    assert_eq!(failed, ["sep-2575-server-implements-discover"], "{report}");
    assert!(
        checks
            .iter()
            .filter(|check| check["status"] == "skip")
            .all(|check| check["detail"]
                .as_str()
                .is_some_and(|why| why.starts_with("no session: server/discover was refused"))),
        "{report}"
    );
    assert_eq!(report["scenarios"]["server-stateless"], "fail");
}

#[test]
fn a_server_that_is_not_there_is_unreachable_not_a_report() {
    let home = TempDir::new("mcpcord-check");
    let port = mcp_tests::support::refused_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let output = run_in(&home, &["--json", "check", &url]);
    assert_exit(&output, 1);
    assert_eq!(
        json_of(&output.stdout, &output.stderr)["error"]["kind"],
        "unreachable"
    );
}
