//! `mcpcord serve-demo --stdio` as a real child process: the demo server over its stdin and stdout,
//! until stdin closes.

use std::{process::Stdio, time::Duration};

use mcp_tests::support::{TempDir, mcpcord_command, text_of};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};

use crate::MCPCORD;
/// The most any step may take; reaching it is a failure, never a wait.
const BOUND: Duration = Duration::from_secs(10);

#[tokio::test]
async fn demo_over_stdio_answers_and_exits_cleanly_when_stdin_closes() {
    let home = TempDir::new("mcpcord-demo-stdio");
    let mut child = tokio::process::Command::from(mcpcord_command(MCPCORD, home.path()))
        .args(["serve-demo", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("mcpcord starts");
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");

    let config =
        ClientConfig::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE);
    let client = tokio::time::timeout(BOUND, rmcp::serve_client(config, (stdout, stdin)))
        .await
        .expect("initialized in time")
        .expect("the demo initializes");
    let server = client.peer_info().expect("the initialize result");
    let name = server.server_info.as_ref().map(|info| info.name.as_str());
    assert_eq!(name, Some("mcpcord-demo"));
    let arguments = serde_json::json!({ "text": "over stdio" })
        .as_object()
        .cloned()
        .expect("an object");
    let result = tokio::time::timeout(
        BOUND,
        client.call_tool(CallToolRequestParams::new("echo").with_arguments(arguments)),
    )
    .await
    .expect("answered in time")
    .expect("echo answers");
    assert_eq!(text_of(&result), "over stdio");

    // Cancelling the client closes the child's stdin: the session ends, and so does the process.
    tokio::time::timeout(BOUND, client.cancel())
        .await
        .expect("the client stops in time")
        .expect("the client stops");
    let status = tokio::time::timeout(BOUND, child.wait())
        .await
        .expect("the demo exits once stdin closes")
        .expect("an exit status");
    assert!(status.success(), "{status}");
}

/// The same steps as the crate documentation's first program (`mcp-manager`'s lib.rs), against the
/// demo server instead of server-everything (which needs Node.js): connect one stdio server, list
/// its tools, call one, shut down.
#[tokio::test]
async fn the_ten_line_library_program_runs_against_the_demo() {
    use mcp_manager::{Manager, ManagerOptions, ServerConfig};
    use serde_json::json;

    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let demo = ServerConfig::stdio(MCPCORD, ["serve-demo", "--stdio"]);
    let server = manager.connect("demo", &demo).await.expect("connected");
    let names: Vec<String> = manager
        .listing(server)
        .expect("a known server")
        .tools
        .iter()
        .map(|tool| tool.name.to_string())
        .collect();
    assert!(names.iter().any(|name| name == "echo"), "{names:?}");
    let result = manager
        .call_tool(server, "echo", json!({ "text": "hi" }))
        .await
        .expect("echo answers");
    assert_eq!(text_of(&result), "hi");
    let report = manager.shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.graceful, ["demo"], "{report:?}");
}

/// Arguments that are not a JSON object are refused before anything is sent, with a typed error
/// naming the tool and what was given.
#[tokio::test]
async fn tool_arguments_that_are_not_an_object_are_refused_with_a_typed_error() {
    use mcp_manager::{CallError, Manager, ManagerOptions, ServerConfig};

    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let demo = ServerConfig::stdio(MCPCORD, ["serve-demo", "--stdio"]);
    let server = manager.connect("demo", &demo).await.expect("connected");
    let error = manager
        .call_tool(server, "echo", ["not", "an", "object"])
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, CallError::InvalidArguments { name, .. } if name == "echo"),
        "{error:?}"
    );
    assert_eq!(error.code(), "invalid_arguments");
    assert!(error.to_string().contains("not an array"), "{error}");
    // The session is unharmed: nothing was sent.
    manager
        .call_tool(server, "echo", serde_json::json!({ "text": "still fine" }))
        .await
        .expect("echo answers");
    manager.shutdown(Duration::from_secs(2)).await;
}
