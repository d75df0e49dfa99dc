//! Every stdio fault of the fixture server, through our stdio transport and rmcp's client: each gives a
//! typed error, the right retry decision, within a bounded time, and leaves no process behind.
//!
//! These run real processes, so they take real (bounded) time; nothing waits by sleeping.

use std::time::{Duration, Instant};

use mcp_retry::{Decision, Retryable};
use mcp_tests::support::{
    eventually, eventually_some, reaped, running, stdio_fixture_args, text_of,
};
use mcp_transport::TransportError;
use mcp_transport::error::{ExitInfo, ExitPhase};
use mcp_transport::stdio::{ShutdownTimings, StdioProcess, StdioSpec, StdioTransport};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{RoleClient, RunningService};

use crate::{FIXTURE, client_config};

/// The bound on anything a healthy machine does in milliseconds.
const BOUND: Duration = Duration::from_secs(10);

type Client = RunningService<RoleClient, ClientConfig>;

fn spec(faults: &[&str]) -> StdioSpec {
    // Misbehaving fixtures often ignore stdin close; don't spend the default 2 s being polite.
    StdioSpec::new(FIXTURE)
        .args(stdio_fixture_args(faults))
        .shutdown(ShutdownTimings {
            after_stdin_close: Duration::from_millis(200),
            after_sigterm: Duration::from_millis(200),
        })
}

/// Spawns the fixture and runs the handshake; on failure, the transport's own reason.
async fn connect(faults: &[&str]) -> (Result<Client, TransportError>, StdioProcess) {
    let transport = StdioTransport::spawn("fixture", &spec(faults)).expect("the fixture starts");
    let process = transport.process();
    let result = rmcp::serve_client(client_config(), transport)
        .await
        .map_err(|error| {
            process
                .close_reason()
                .or_else(|| TransportError::find_in(&error))
                .unwrap_or_else(|| TransportError::Protocol {
                    detail: error.to_string(),
                })
        });
    (result, process)
}

fn echo(text: &str) -> CallToolRequestParams {
    let arguments = serde_json::json!({ "text": text });
    CallToolRequestParams::new("echo")
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

#[tokio::test]
async fn healthy_server_connects_answers_and_closes_cleanly() {
    let (client, process) = connect(&[]).await;
    let mut client = client.expect("connected");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|server| server.name.as_str()),
        Some("mcp-fixture-server")
    );
    let result = client.call_tool(echo("hello")).await.expect("echo answers");
    assert_eq!(text_of(&result), "hello");
    client.close().await.expect("the service loop ends");
    assert_eq!(
        process.exit_status(),
        Some(ExitInfo::Code(0)),
        "stdin close ends it"
    );
    eventually("the server is reaped", || reaped(process.pid())).await;
}

#[tokio::test]
async fn exit_during_initialize_is_server_exited_with_stderr_and_retryable() {
    let started = Instant::now();
    let (client, process) = connect(&["exit-during-initialize"]).await;
    let Err(error) = client else {
        panic!("the handshake should fail")
    };
    assert!(started.elapsed() < BOUND);
    match &error {
        TransportError::ServerExited {
            phase,
            status,
            stderr_tail,
        } => {
            assert_eq!(*phase, ExitPhase::Initialize);
            assert_eq!(*status, Some(ExitInfo::Code(1)));
            assert!(
                stderr_tail
                    .lines()
                    .iter()
                    .any(|line| line == "fixture: exiting during initialize"),
                "{stderr_tail:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.retry_decision(), Decision::Retry);
    assert!(
        error
            .to_string()
            .starts_with("server exited during initialize (status 1): fixture: exiting"),
        "{error}"
    );
    eventually("the server is reaped", || reaped(process.pid())).await;
}

#[tokio::test]
async fn hang_before_initialize_is_cut_by_the_caller_timeout_and_killed() {
    let started = Instant::now();
    let transport =
        StdioTransport::spawn("fixture", &spec(&["hang-before-initialize"])).expect("starts");
    let process = transport.process();
    let timeout = Duration::from_millis(500);
    let outcome =
        tokio::time::timeout(timeout, rmcp::serve_client(client_config(), transport)).await;
    if let Ok(handshake) = outcome {
        panic!(
            "the handshake never completes, yet it ended: {:?}",
            handshake.map(|client| client.peer_info())
        );
    }
    assert!(started.elapsed() < timeout + BOUND);
    // Dropping the handshake future dropped the transport, which killed the group.
    eventually("the hung server is killed and reaped", || {
        reaped(process.pid())
    })
    .await;
    assert_eq!(process.exit_status(), Some(ExitInfo::Signal(9)));
}

#[tokio::test]
async fn garbage_on_stdout_closes_the_connection_with_a_protocol_error() {
    let (client, process) = connect(&["garbage-stdout"]).await;
    // The initialize reply came first, so the handshake may succeed; the next line ends the stream.
    if let Ok(client) = client {
        let _ = client.waiting().await;
    }
    let reason = process.close_reason().expect("a reason");
    assert!(reason.is_protocol(), "{reason:?}");
    assert_eq!(reason.retry_decision(), Decision::Stop);
    assert!(reason.to_string().contains("this is not json"), "{reason}");
    eventually("the server is reaped", || reaped(process.pid())).await;
}

#[tokio::test]
async fn oversized_line_is_refused_at_the_limit() {
    let (client, process) = connect(&["oversized-line"]).await;
    if let Ok(client) = client {
        let _ = client.waiting().await;
    }
    let reason = process.close_reason().expect("a reason");
    assert!(
        matches!(reason, TransportError::MessageTooLarge { limit, .. } if limit == 16 * 1024 * 1024),
        "{reason:?}"
    );
    assert_eq!(reason.retry_decision(), Decision::Stop);
    eventually("the server is reaped", || reaped(process.pid())).await;
}

#[tokio::test]
async fn stderr_flood_is_drained_so_the_server_keeps_working() {
    let (client, process) = connect(&["stderr-flood"]).await;
    let client = client.expect("connected despite 10 MB of stderr");
    client
        .call_tool(echo("still here"))
        .await
        .expect("echo answers");
    let tail = process.stderr_tail();
    assert!(tail.lines().len() <= 64);
    assert!(tail.lines().iter().map(String::len).sum::<usize>() <= 16 * 1024);
    drop(client);
    eventually("the server is reaped", || reaped(process.pid())).await;
}

#[tokio::test]
async fn crash_mid_call_fails_the_call_and_reports_the_exit() {
    let (client, process) = connect(&[]).await;
    let client = client.expect("connected");
    let started = Instant::now();
    let error = client
        .call_tool(CallToolRequestParams::new("crash"))
        .await
        .expect_err("the server died mid-call");
    assert!(started.elapsed() < BOUND, "{error}");
    let _ = client.waiting().await;
    let reason = process.close_reason().expect("a reason");
    assert!(
        matches!(
            reason,
            TransportError::ServerExited {
                phase: ExitPhase::Running,
                status: Some(ExitInfo::Code(3)),
                ..
            }
        ),
        "{reason:?}"
    );
    assert!(reason.is_retryable());
}

/// Connects to a fixture that runs a grandchild in its group; returns the grandchild's pid.
async fn with_grandchild() -> (Client, StdioProcess, u32) {
    let (client, process) = connect(&["spawn-grandchild"]).await;
    let client = client.expect("connected");
    let grandchild = eventually_some("the fixture reports its grandchild", || {
        process.stderr_tail().lines().iter().find_map(|line| {
            line.strip_prefix("fixture: grandchild pid ")
                .and_then(|pid| pid.trim().parse::<u32>().ok())
        })
    })
    .await;
    assert!(running(grandchild));
    (client, process, grandchild)
}

#[tokio::test]
async fn graceful_close_leaves_no_grandchild() {
    let (mut client, process, grandchild) = with_grandchild().await;
    client.close().await.expect("the service loop ends");
    eventually("the grandchild is dead", || !running(grandchild)).await;
    eventually("the server is reaped", || reaped(process.pid())).await;
}

#[tokio::test]
async fn dropping_everything_leaves_no_grandchild() {
    let (client, process, grandchild) = with_grandchild().await;
    let leader = process.pid();
    // The handle kills at once, whatever rmcp's background close is doing.
    drop(client);
    process.kill();
    drop(process);
    eventually("the grandchild is dead", || !running(grandchild)).await;
    eventually("the server is reaped", || reaped(leader)).await;
}

#[tokio::test]
async fn missing_program_is_not_retryable() {
    let error = StdioTransport::spawn("x", &StdioSpec::new("definitely-not-an-mcp-server"))
        .expect_err("no such program");
    assert!(error.is_spawn(), "{error:?}");
    assert_eq!(error.retry_decision(), Decision::Stop);
}

#[tokio::test]
async fn discover_lifecycle_works_over_stdio() {
    let transport = StdioTransport::spawn("fixture", &spec(&[])).expect("starts");
    let lifecycle = rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    let client = rmcp::service::serve_client_with_lifecycle(client_config(), transport, lifecycle)
        .await
        .expect("discover works");
    let negotiated = client.peer_info().map(|info| info.protocol_version.clone());
    assert_eq!(negotiated, Some(ProtocolVersion::V_2026_07_28));
    client
        .call_tool(echo("modern"))
        .await
        .expect("echo answers");
}

#[tokio::test]
async fn auto_lifecycle_uses_discover_when_the_server_speaks_it() {
    let transport = StdioTransport::spawn("fixture", &spec(&[])).expect("starts");
    let lifecycle = rmcp::service::ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
    };
    let client = rmcp::service::serve_client_with_lifecycle(client_config(), transport, lifecycle)
        .await
        .expect("auto works");
    let negotiated = client.peer_info().map(|info| info.protocol_version.clone());
    assert_eq!(negotiated, Some(ProtocolVersion::V_2026_07_28));
    client.call_tool(echo("auto")).await.expect("echo answers");
}
