//! The stdio transport against tiny `sh` scripts standing in for servers.
//!
//! Real processes take real time to exit, so these tests wait for them, always with a bound.

use std::time::Duration;

use mcp_transport::TransportError;
use mcp_transport::error::{ExitInfo, ExitPhase, SpawnFailure};
use mcp_transport::stdio::{
    ShutdownTimings, StderrHandling, StdioLimits, StdioProcess, StdioSpec, StdioTransport,
};
use rmcp::model::ServerJsonRpcMessage;
use rmcp::service::RoleClient;
use rmcp::transport::Transport;

use crate::support::{eventually, eventually_blocking, reaped, running};

fn script(body: &str) -> StdioSpec {
    StdioSpec::new("sh").args(["-c", body])
}

/// A JSON-RPC notification line carrying `$1` as its data, for scripts to report a value.
const REPORT: &str = r#"report() { printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"%s"}}\n' "$1"; }
"#;

fn reported(message: &ServerJsonRpcMessage) -> String {
    let value = serde_json::to_value(message).expect("messages serialise");
    value["params"]["data"]
        .as_str()
        .expect("a reported value")
        .to_owned()
}

#[tokio::test]
async fn missing_program_is_a_spawn_error_naming_it_and_not_retryable() {
    let error =
        StdioTransport::spawn("ghost", &StdioSpec::new("no-such-mcp-server-xyz")).unwrap_err();
    assert!(error.is_spawn(), "{error:?}");
    assert!(!error.is_retryable());
    assert!(matches!(
        &error,
        TransportError::Spawn { command, reason: SpawnFailure::NotFound { .. } } if command == "no-such-mcp-server-xyz"
    ));
    let message = error.to_string();
    assert!(
        message.starts_with("could not start `no-such-mcp-server-xyz`: command not found"),
        "{message}"
    );
}

#[tokio::test]
async fn non_executable_file_is_permission_denied() {
    let dir = std::env::temp_dir().join(format!("mcp-transport-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("not-executable");
    std::fs::write(&file, "#!/bin/sh\n").unwrap();
    let error =
        StdioTransport::spawn("x", &StdioSpec::new(file.display().to_string())).unwrap_err();
    assert!(
        matches!(
            error,
            TransportError::Spawn {
                reason: SpawnFailure::PermissionDenied,
                ..
            }
        ),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn missing_working_directory_is_named() {
    let spec = script("true").cwd("/no/such/dir");
    let error = StdioTransport::spawn("x", &spec).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("working directory /no/such/dir does not exist"),
        "{error}"
    );
}

#[test]
fn spawn_outside_a_runtime_is_an_error_not_a_panic() {
    let error = StdioTransport::spawn("x", &script("true")).unwrap_err();
    assert!(
        error.to_string().contains("needs a tokio runtime"),
        "{error}"
    );
}

#[tokio::test]
async fn only_safe_variables_and_configured_ones_are_inherited() {
    // SAFETY-free: set_var is unsafe in edition 2024, so use a variable the test runner already has.
    let spec = script(&format!(
        "{REPORT} report \"$(env | cut -d= -f1 | sort | tr '\\n' ' ')\""
    ))
    .env("MCP_TEST_SETTING", "1");
    let mut transport = StdioTransport::spawn("env", &spec).unwrap();
    let names = reported(&transport.receive().await.expect("one line"));
    let names: Vec<&str> = names.split_whitespace().collect();
    assert!(names.contains(&"MCP_TEST_SETTING"), "{names:?}");
    assert!(names.contains(&"PATH"), "{names:?}");
    for name in &names {
        let allowed = mcp_transport::stdio::SAFE_INHERITED_VARS.contains(name)
            || name.starts_with("LC_")
            || *name == "MCP_TEST_SETTING"
            // set by sh itself
            || matches!(*name, "PWD" | "SHLVL" | "_" | "OLDPWD");
        assert!(allowed, "{name} leaked into the child's environment");
    }
}

#[tokio::test]
async fn exit_during_initialize_reports_status_and_stderr_tail() {
    let mut transport =
        StdioTransport::spawn("crashy", &script("echo 'fatal: no config' >&2; exit 1")).unwrap();
    let process = transport.process();
    assert!(transport.receive().await.is_none());
    let reason = process.close_reason().expect("a reason");
    match &reason {
        TransportError::ServerExited {
            phase,
            status,
            stderr_tail,
        } => {
            assert_eq!(*phase, ExitPhase::Initialize);
            assert_eq!(*status, Some(ExitInfo::Code(1)));
            assert_eq!(stderr_tail.lines(), ["fatal: no config"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        reason.to_string(),
        "server exited during initialize (status 1): fatal: no config"
    );
    assert!(reason.is_retryable());
}

#[tokio::test]
async fn exit_after_messages_is_reported_as_running() {
    let mut transport =
        StdioTransport::spawn("s", &script(&format!("{REPORT} report hi; exit 7"))).unwrap();
    let process = transport.process();
    assert_eq!(reported(&transport.receive().await.unwrap()), "hi");
    assert!(transport.receive().await.is_none());
    assert!(matches!(
        process.close_reason(),
        Some(TransportError::ServerExited {
            phase: ExitPhase::Running,
            status: Some(ExitInfo::Code(7)),
            ..
        })
    ));
}

#[tokio::test]
async fn garbage_on_stdout_is_a_protocol_error_that_closes_the_stream() {
    let mut transport =
        StdioTransport::spawn("g", &script("echo 'Server listening on stdio'; sleep 30")).unwrap();
    let process = transport.process();
    assert!(transport.receive().await.is_none());
    let reason = process.close_reason().expect("a reason");
    assert!(reason.is_protocol(), "{reason:?}");
    assert!(!reason.is_retryable());
    assert!(
        reason.to_string().contains("Server listening on stdio"),
        "{reason}"
    );
    assert!(
        transport.receive().await.is_none(),
        "the stream stays closed"
    );
}

#[tokio::test]
async fn oversized_line_is_rejected_without_buffering_it() {
    let spec =
        script("head -c 100000 /dev/zero | tr '\\0' x; echo; sleep 30").limits(StdioLimits {
            max_line_bytes: 4096,
        });
    let mut transport = StdioTransport::spawn("big", &spec).unwrap();
    let process = transport.process();
    assert!(transport.receive().await.is_none());
    let reason = process.close_reason().expect("a reason");
    assert!(
        matches!(reason, TransportError::MessageTooLarge { limit: 4096, .. }),
        "{reason}"
    );
    assert_eq!(
        reason.to_string(),
        "a line on the server's stdout exceeds the 4096-byte limit"
    );
}

#[tokio::test]
async fn blank_lines_are_skipped() {
    let mut transport = StdioTransport::spawn(
        "b",
        &script(&format!("echo; echo '   '; {REPORT} report after")),
    )
    .unwrap();
    assert_eq!(reported(&transport.receive().await.unwrap()), "after");
}

#[tokio::test]
async fn messages_sent_arrive_on_stdin() {
    let spec = script(&format!(
        r#"{REPORT} read line; case "$line" in '{{"jsonrpc":"2.0","id":1,"method":"ping"}}') report ping ;; *) report "other" ;; esac"#
    ));
    let mut transport = StdioTransport::spawn("echo", &spec).unwrap();
    let ping: rmcp::model::ClientJsonRpcMessage =
        serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
    Transport::<RoleClient>::send(&mut transport, ping)
        .await
        .unwrap();
    assert_eq!(reported(&transport.receive().await.unwrap()), "ping");
}

#[tokio::test]
async fn send_after_the_server_exited_is_server_exited() {
    let mut transport = StdioTransport::spawn("s", &script("exit 0")).unwrap();
    let process = transport.process();
    process.exited().await;
    let ping: rmcp::model::ClientJsonRpcMessage =
        serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
    let error = Transport::<RoleClient>::send(&mut transport, ping)
        .await
        .unwrap_err();
    assert!(error.is_server_exited(), "{error:?}");
}

fn quick_shutdown() -> ShutdownTimings {
    ShutdownTimings {
        after_stdin_close: Duration::from_millis(100),
        after_sigterm: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn close_ends_a_server_that_exits_on_stdin_close() {
    let spec = script("cat >/dev/null").shutdown(ShutdownTimings {
        after_stdin_close: Duration::from_secs(10),
        after_sigterm: Duration::from_secs(10),
    });
    let mut transport = StdioTransport::spawn("polite", &spec).unwrap();
    let process = transport.process();
    Transport::<RoleClient>::close(&mut transport)
        .await
        .unwrap();
    assert_eq!(process.exit_status(), Some(ExitInfo::Code(0)));
}

#[tokio::test]
async fn close_sends_sigterm_when_stdin_close_is_ignored() {
    let spec = script("exec sleep 30").shutdown(ShutdownTimings {
        after_stdin_close: Duration::from_millis(50),
        after_sigterm: Duration::from_secs(10),
    });
    let mut transport = StdioTransport::spawn("deaf", &spec).unwrap();
    let process = transport.process();
    Transport::<RoleClient>::close(&mut transport)
        .await
        .unwrap();
    assert_eq!(process.exit_status(), Some(ExitInfo::Signal(15)));
}

#[tokio::test]
async fn close_kills_a_server_that_ignores_sigterm() {
    let spec = script("trap '' TERM; exec sleep 30").shutdown(quick_shutdown());
    let mut transport = StdioTransport::spawn("stubborn", &spec).unwrap();
    let process = transport.process();
    Transport::<RoleClient>::close(&mut transport)
        .await
        .unwrap();
    assert_eq!(process.exit_status(), Some(ExitInfo::Signal(9)));
    eventually("the leader is reaped", || reaped(process.pid())).await;
}

/// Starts a server that runs a grandchild in its group and reports the grandchild's pid.
async fn with_grandchild() -> (StdioTransport, u32) {
    let spec = script(&format!("{REPORT} sleep 300 & report $!; wait")).shutdown(quick_shutdown());
    let mut transport = StdioTransport::spawn("wrapper", &spec).expect("sh starts");
    let grandchild: u32 = reported(&transport.receive().await.expect("the pid line"))
        .parse()
        .expect("a pid");
    assert!(running(grandchild));
    (transport, grandchild)
}

#[tokio::test]
async fn drop_kills_the_whole_group_and_reaps_the_leader() {
    let (transport, grandchild) = with_grandchild().await;
    let leader = transport.process().pid();
    drop(transport);
    eventually("the grandchild is dead", || !running(grandchild)).await;
    eventually("the leader is reaped", || reaped(leader)).await;
}

#[tokio::test]
async fn kill_all_kills_every_group_and_reaps_every_leader() {
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(with_grandchild().await);
    }
    let processes: Vec<StdioProcess> = servers
        .iter()
        .map(|(transport, _)| transport.process())
        .collect();
    StdioProcess::kill_all(&processes);
    for (process, (_, grandchild)) in processes.iter().zip(&servers) {
        assert_eq!(process.exit_status(), Some(ExitInfo::Signal(9)));
        eventually("the grandchild is dead", || !running(*grandchild)).await;
        eventually("the leader is reaped", || reaped(process.pid())).await;
    }
}

#[tokio::test]
async fn close_kills_grandchildren_too() {
    let (mut transport, grandchild) = with_grandchild().await;
    let leader = transport.process().pid();
    Transport::<RoleClient>::close(&mut transport)
        .await
        .unwrap();
    // SIGKILL is delivered at once, but the kernel tears the process down asynchronously.
    eventually("the grandchild is dead", || !running(grandchild)).await;
    eventually("the leader is reaped", || reaped(leader)).await;
}

#[tokio::test]
async fn a_leader_that_exits_by_itself_takes_its_orphans_with_it() {
    let spec = script(&format!(
        "{REPORT} sleep 300 & report $!; read line; exit 0"
    ));
    let mut transport = StdioTransport::spawn("leaky", &spec).unwrap();
    let process = transport.process();
    let grandchild: u32 = reported(&transport.receive().await.unwrap())
        .parse()
        .unwrap();
    let ping: rmcp::model::ClientJsonRpcMessage =
        serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
    Transport::<RoleClient>::send(&mut transport, ping)
        .await
        .unwrap();
    assert_eq!(process.exited().await, ExitInfo::Code(0));
    eventually("the orphaned grandchild is dead", || !running(grandchild)).await;
}

#[test]
fn drop_outside_any_runtime_kills_and_reaps_without_panicking() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (transport, grandchild) = runtime.block_on(with_grandchild());
    let leader = transport.process().pid();
    drop(runtime);
    std::thread::spawn(move || drop(transport))
        .join()
        .expect("drop does not panic");
    eventually_blocking("the grandchild is dead", || !running(grandchild));
    eventually_blocking("the leader is reaped", || reaped(leader));
}

#[tokio::test]
async fn stderr_flood_is_drained_and_bounded() {
    // 10 MB of stderr would block a server whose stderr nobody reads; drained, it runs to completion.
    let spec = script(&format!(
        "{REPORT} head -c 10000000 /dev/zero | tr '\\0' 'e' | fold -w 100 >&2; report done"
    ));
    let mut transport = StdioTransport::spawn("noisy", &spec).unwrap();
    let process = transport.process();
    assert_eq!(reported(&transport.receive().await.unwrap()), "done");
    let tail = process.stderr_tail();
    assert!(tail.lines().len() <= 64);
    assert!(tail.lines().iter().map(String::len).sum::<usize>() <= 16 * 1024);
}

#[tokio::test]
async fn discarded_stderr_goes_to_the_null_device_and_leaves_the_tail_empty() {
    // The server reports where its stderr leads, then writes to it and exits.
    let spec = script(&format!(
        "{REPORT} report \"$(readlink /proc/self/fd/2)\"; echo 'logged' >&2"
    ))
    .stderr(StderrHandling::Discard);
    let mut transport = StdioTransport::spawn("quiet", &spec).unwrap();
    let process = transport.process();
    assert_eq!(reported(&transport.receive().await.unwrap()), "/dev/null");
    assert!(transport.receive().await.is_none());
    assert!(process.stderr_tail().lines().is_empty());
    assert!(process.stderr_tail().is_discarded());
    let reason = process.close_reason().expect("a reason");
    assert!(
        matches!(
            reason,
            TransportError::ServerExited {
                status: Some(ExitInfo::Code(0)),
                ..
            }
        ),
        "{reason:?}"
    );
    // It wrote to stderr; the message must not claim it wrote nothing.
    assert!(
        reason.to_string().ends_with("; its stderr was discarded"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_server_that_negotiates_down_to_2025_03_26_is_accepted() {
    // A minimal server of the 2025-03-26 era: answers initialize with its own version, then idles.
    let reply = r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26","capabilities":{"tools":{}},"serverInfo":{"name":"old-server","version":"1.0.0"}}}"#;
    let spec = script(&format!(
        "read line; printf '%s\\n' '{reply}'; cat >/dev/null"
    ));
    let transport = StdioTransport::spawn("old", &spec).expect("sh starts");
    let config = rmcp::model::ClientConfig::default()
        .with_protocol_version(rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE);
    let client = rmcp::serve_client(config, transport)
        .await
        .expect("the older version is accepted");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.protocol_version,
        rmcp::model::ProtocolVersion::V_2025_03_26
    );
    assert_eq!(
        info.server_info.as_ref().map(|server| server.name.as_str()),
        Some("old-server")
    );
}
