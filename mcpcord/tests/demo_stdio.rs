//! `mcpcord serve-demo --stdio` as a real child process: the demo server over its stdin and stdout,
//! until stdin closes.

use std::{process::Stdio, time::Duration};

use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};

const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");
/// The most any step may take; reaching it is a failure, never a wait.
const BOUND: Duration = Duration::from_secs(10);

#[tokio::test]
async fn demo_over_stdio_answers_and_exits_cleanly_when_stdin_closes() {
    let mut child = tokio::process::Command::new(MCPCORD)
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
    assert_eq!(
        result.content[0].as_text().map(|text| text.text.as_str()),
        Some("over stdio")
    );

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
