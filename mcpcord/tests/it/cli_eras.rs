//! `health`, `inspect`, `call` and `bench` against a server of each protocol era, with no
//! configuration: the demo serving only 2026-07-28 (no `initialize`), only the revisions with
//! `initialize`, or both, over stdio and HTTP. The version spoken is in the JSON output.

use std::process::Output;

use mcp_tests::support::{TempDir, mcpcord_command};

use crate::{HttpDemo, MCPCORD, json_of};

/// Each era the demo can speak, and the revision mcpcord ends up speaking with it.
const ERAS: &[(&str, &str)] = &[
    ("legacy", "2025-11-25"),
    ("modern", "2026-07-28"),
    ("both", "2026-07-28"),
];

/// How a test names its server: a URL right after the command, or a stdio command after `--`.
enum Target<'a> {
    Url(&'a str),
    Stdio(&'a [&'a str]),
}

/// `mcpcord --json COMMAND [URL] ARGS... [-- STDIO...]` with a home of its own.
fn run(command: &str, args: &[&str], target: &Target<'_>) -> Output {
    let home = TempDir::new("mcpcord-eras");
    let mut mcpcord = mcpcord_command(MCPCORD, home.path());
    mcpcord.args(["--json", command]);
    if let Target::Url(url) = target {
        mcpcord.arg(url);
    }
    mcpcord.args(args);
    if let Target::Stdio(stdio) = target {
        mcpcord.arg("--").args(*stdio);
    }
    mcpcord.output().expect("mcpcord runs")
}

/// The JSON document of a run that must succeed.
fn succeeded(output: &Output, what: &str) -> serde_json::Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_of(&output.stdout, &output.stderr)
}

/// Every command, against the server `target` names, expecting `version`.
fn every_command(target: &Target<'_>, version: &str, what: &str) {
    let health = succeeded(&run("health", &[], target), what);
    let server = &health["servers"][0];
    assert_eq!(server["ok"], true, "{what}: {server}");
    assert_eq!(server["protocol_version"], version, "{what}: {server}");

    let inspect = succeeded(&run("inspect", &[], target), what);
    let inspected = inspect["servers"].get(0).unwrap_or(&inspect).clone();
    assert_eq!(
        inspected["protocol_version"], version,
        "{what}: {inspected}"
    );
    assert!(
        inspected["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|tool| tool["name"] == "echo")),
        "{what}: {inspected}"
    );

    let call = succeeded(
        &run("call", &["echo", "--args", r#"{"text":"eras"}"#], target),
        what,
    );
    assert_eq!(call["content"][0]["text"], "eras", "{what}: {call}");

    let bench = succeeded(
        &run("bench", &["--sessions", "2", "--calls", "5"], target),
        what,
    );
    assert_eq!(bench["calls"], 10, "{what}: {bench}");
    assert_eq!(bench["errors"], 0, "{what}: {bench}");
}

#[test]
fn every_command_works_against_a_stdio_server_of_either_era_unconfigured() {
    for (era, version) in ERAS {
        let command = [MCPCORD, "serve-demo", "--stdio", "--era", era];
        every_command(&Target::Stdio(&command), version, &format!("stdio {era}"));
    }
}

#[test]
fn every_command_works_against_an_http_server_of_either_era_unconfigured() {
    for (era, version) in ERAS {
        let demo = HttpDemo::start(&["--era", era]);
        every_command(&Target::Url(&demo.url), version, &format!("http {era}"));
    }
}

/// `--protocol` holds an ad-hoc server to one era: the dual-era demo speaks whichever is asked,
/// and a demo of the other era only is a connect failure that names the versions.
#[test]
fn protocol_holds_an_ad_hoc_server_to_one_era() {
    for (protocol, version) in [("legacy", "2025-11-25"), ("modern", "2026-07-28")] {
        let command = [MCPCORD, "serve-demo", "--stdio", "--era", "both"];
        let health = succeeded(
            &run(
                "health",
                &["--protocol", protocol],
                &Target::Stdio(&command),
            ),
            protocol,
        );
        assert_eq!(
            health["servers"][0]["protocol_version"], version,
            "{protocol}: {health}"
        );
    }
    let modern_only = [MCPCORD, "serve-demo", "--stdio", "--era", "modern"];
    let refused = run(
        "health",
        &["--protocol", "legacy", "--retries", "1"],
        &Target::Stdio(&modern_only),
    );
    assert_eq!(refused.status.code(), Some(1));
    let health = json_of(&refused.stdout, &refused.stderr);
    let message = health["servers"][0]["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("2026-07-28"),
        "the versions are named: {health}"
    );
}
