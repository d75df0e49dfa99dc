//! The Manager against the fixture server: retry, timeouts, health and recovery, results kept whole,
//! isolated sessions, shutdown racing connects, and drop from a plain thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_manager::config::{ProtocolEra, ServerConfig};
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
use mcp_manager::rmcp::model::LoggingLevel;
use mcp_manager::{
    AttemptError, CallError, ConnectError, Health, Manager, ManagerEvent, ManagerOptions, Url,
};
use mcp_retry::{Jitter, RetryPolicy, StopReason};
use mcp_tests::http_fixture::HttpFixture;
use mcp_tests::support::{
    eventually, eventually_blocking, reaped, refused_port, stdio_fixture_args, text_of,
};
use serde_json::json;

use crate::FIXTURE;

const BOUND: Duration = Duration::from_secs(10);

fn fixture(faults: &[&str]) -> ServerConfig {
    ServerConfig::stdio(FIXTURE, stdio_fixture_args(faults))
}

fn manager() -> Manager {
    let mut options = ManagerOptions::default();
    options.http.proxy = mcp_transport::http::ProxyConfig::Direct;
    Manager::new(options).expect("a manager")
}

fn exact_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(attempts)
        .jitter(Jitter::None)
        .build()
        .expect("a policy")
}

#[tokio::test]
async fn connect_discovers_everything_and_calls_keep_whole_results() {
    let manager = manager();
    let id = manager
        .connect("fixture", &fixture(&[]))
        .await
        .expect("connected");
    let discovery = manager.listing(id).expect("known");
    assert_eq!(discovery.server_name(), "mcp-fixture-server");
    assert_eq!(discovery.tools.len(), 8);
    // Three resources, one per page: discovery followed the cursor.
    assert_eq!(discovery.resources.len(), 3);
    assert_eq!(discovery.resource_templates.len(), 1);
    assert_eq!(discovery.prompts.len(), 1);

    let echoed = manager
        .call_tool(id, "echo", json!({"text": "hi"}))
        .await
        .expect("echo");
    assert_eq!(text_of(&echoed), "hi");
    let sum = manager
        .call_tool(id, "add", json!({"a": 2, "b": 3}))
        .await
        .expect("add");
    assert_eq!(sum.structured_content, Some(json!({"sum": 5})));

    match manager.call_tool(id, "fail", ()).await {
        Err(CallError::ToolFailed { tool, result, .. }) => {
            assert_eq!(tool, "fail");
            assert_eq!(result.is_error, Some(true));
            assert_eq!(text_of(&result), "fixture failure");
        }
        other => panic!("isError must be a failure, got {other:?}"),
    }
    let resource = manager
        .read_resource(id, "fixture://greeting")
        .await
        .expect("read");
    assert_eq!(resource.contents.len(), 1);
    let prompt = manager
        .get_prompt(id, "greet", json!({"name": "Ada"}))
        .await
        .expect("prompt");
    assert_eq!(prompt.messages.len(), 1);
    manager.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn names_are_unique() {
    let manager = manager();
    manager
        .connect("one", &fixture(&[]))
        .await
        .expect("connected");
    let error = manager
        .connect("one", &fixture(&[]))
        .await
        .expect_err("a duplicate");
    assert!(matches!(error, ConnectError::DuplicateName(name) if name == "one"));
}

#[tokio::test]
async fn catalog_qualifies_names_and_routes_calls() {
    let manager = manager();
    manager
        .connect("alpha", &fixture(&[]))
        .await
        .expect("connected");
    manager
        .connect("beta", &fixture(&[]))
        .await
        .expect("connected");
    let catalog = manager.catalog();
    assert!(catalog.tools.contains_key("alpha__echo"));
    assert!(catalog.tools.contains_key("beta__echo"));
    assert_eq!(catalog.tools.len(), 16);
    let result = manager
        .call_qualified("beta__echo", json!({"text": "routed"}))
        .await
        .expect("routed");
    assert_eq!(text_of(&result), "routed");
    let unknown = manager.call_qualified("gamma__echo", ()).await;
    assert!(
        matches!(unknown, Err(CallError::UnknownTool(_))),
        "{unknown:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn refused_port_is_retried_with_exact_backoff() {
    let port = refused_port();
    let manager = manager();
    let mut events = manager.events();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/mcp")).expect("a URL");
    let config = ServerConfig::http(url).with_retry(exact_retry(3));
    let error = manager
        .connect("down", &config)
        .await
        .expect_err("nothing listens");
    assert_eq!(error.attempts(), 3);
    assert!(
        matches!(error.last_error(), Some(AttemptError::Transport(transport)) if transport.is_connection_refused()),
        "{error:?}"
    );
    let mut delays = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let ManagerEvent::Retrying { delay, attempt, .. } = event {
            delays.push((attempt, delay));
        }
    }
    assert_eq!(
        delays,
        [(1, Duration::from_secs(1)), (2, Duration::from_secs(2))]
    );
    assert!(error.to_string().contains("after 3 attempts"), "{error}");
}

#[tokio::test]
async fn missing_program_is_not_retried() {
    let manager = manager();
    let config = ServerConfig::stdio("no-such-mcp-server-anywhere", Vec::<String>::new());
    let error = manager
        .connect("ghost", &config)
        .await
        .expect_err("no such program");
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.code(), "spawn");
    match &error {
        ConnectError::Failed { error, .. } => assert_eq!(error.reason(), StopReason::NotRetryable),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_hang_at_initialize_is_bounded_by_connect_timeout() {
    let manager = manager();
    let config = fixture(&["hang-before-initialize"])
        .with_connect_timeout(Duration::from_millis(300))
        .with_retry(exact_retry(1));
    let started = Instant::now();
    let error = manager
        .connect("hung", &config)
        .await
        .expect_err("times out");
    assert!(started.elapsed() < BOUND);
    assert!(
        matches!(error.last_error(), Some(AttemptError::Timeout(limit)) if *limit == Duration::from_millis(300))
    );
    assert!(
        error.to_string().contains("connect timed out after 300ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_crash_mid_call_marks_unhealthy_and_recover_works() {
    let manager = manager();
    let config = fixture(&[]).with_auto_recover(false);
    let id = manager.connect("crashy", &config).await.expect("connected");
    let old_pid = manager.pid(id).expect("known").expect("a stdio pid");
    let started = Instant::now();
    let error = manager
        .call_tool(id, "crash", ())
        .await
        .expect_err("the server died");
    assert!(started.elapsed() < BOUND);
    assert!(
        matches!(error, CallError::ConnectionLost { .. }),
        "{error:?}"
    );
    let health = manager.health(id).expect("known");
    let cause = health.cause().expect("unhealthy");
    assert!(cause.contains("server exited (status 3)"), "{cause}");
    // Calls fail fast with the cause while recovery is off.
    let error = manager
        .call_tool(id, "echo", json!({"text": "x"}))
        .await
        .expect_err("unhealthy");
    assert!(matches!(error, CallError::Unhealthy { .. }), "{error:?}");

    manager.recover(id).await.expect("recovered");
    assert_eq!(manager.health(id).expect("known"), Health::Healthy);
    let new_pid = manager.pid(id).expect("known").expect("a stdio pid");
    assert_ne!(old_pid, new_pid);
    let echoed = manager
        .call_tool(id, "echo", json!({"text": "back"}))
        .await
        .expect("echo");
    assert_eq!(text_of(&echoed), "back");
}

#[tokio::test]
async fn auto_recover_reconnects_before_the_next_call() {
    let manager = manager();
    let id = manager
        .connect("phoenix", &fixture(&[]))
        .await
        .expect("connected");
    let _ = manager
        .call_tool(id, "crash", ())
        .await
        .expect_err("the server died");
    let echoed = manager
        .call_tool(id, "echo", json!({"text": "reborn"}))
        .await
        .expect("auto-recovered");
    assert_eq!(text_of(&echoed), "reborn");
}

#[tokio::test]
async fn a_request_timeout_is_typed_and_the_connection_stays_usable() {
    let manager = manager();
    let config = fixture(&[]).with_request_timeout(Duration::from_millis(200));
    let id = manager.connect("slow", &config).await.expect("connected");
    let error = manager
        .call_tool(id, "sleep", json!({"ms": 5000}))
        .await
        .expect_err("too slow");
    assert!(matches!(error, CallError::Timeout { .. }), "{error:?}");
    let echoed = manager
        .call_tool(id, "echo", json!({"text": "still"}))
        .await
        .expect("echo");
    assert_eq!(text_of(&echoed), "still");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_isolated_sessions_in_fifty_tasks() {
    let manager = Arc::new(manager());
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let manager = Arc::clone(&manager);
            tokio::spawn(async move {
                let session = manager.isolated(&fixture(&[])).await.expect("connected");
                let text = format!("session {n}");
                let result = session
                    .call_tool("echo", json!({"text": text}))
                    .await
                    .expect("echo");
                assert_eq!(text_of(&result), text);
                let pid = session.pid().expect("a pid");
                assert!(
                    session.close(Duration::from_secs(2)).await,
                    "closed gracefully"
                );
                pid
            })
        })
        .collect();
    let mut pids = Vec::new();
    for task in tasks {
        pids.push(task.await.expect("the task finished"));
    }
    assert_eq!(
        manager.servers().len(),
        0,
        "isolated sessions are not registered"
    );
    eventually("every session's server is reaped", || {
        pids.iter().all(|pid| reaped(*pid))
    })
    .await;
}

#[tokio::test]
async fn dropping_an_isolated_session_kills_its_server() {
    let manager = manager();
    let session = manager.isolated(&fixture(&[])).await.expect("connected");
    let pid = session.pid().expect("a pid");
    drop(session);
    eventually("the server is reaped", || reaped(pid)).await;
}

#[tokio::test]
async fn shutdown_cancels_connects_in_flight() {
    let manager = Arc::new(manager());
    let connecting = {
        let manager = Arc::clone(&manager);
        tokio::spawn(async move {
            manager
                .connect("hung", &fixture(&["hang-before-initialize"]))
                .await
        })
    };
    let id = manager
        .connect("fine", &fixture(&[]))
        .await
        .expect("connected");
    let pid = manager.pid(id).expect("known").expect("a pid");
    let report = manager.shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.graceful, ["fine"]);
    let outcome = connecting.await.expect("the task finished");
    assert!(
        matches!(outcome, Err(ConnectError::ShutDown(_))),
        "{outcome:?}"
    );
    let late = manager.connect("late", &fixture(&[])).await;
    assert!(matches!(late, Err(ConnectError::ShutDown(_))), "{late:?}");
    eventually("the server is reaped", || reaped(pid)).await;
    // Idempotent.
    assert_eq!(
        manager.shutdown(Duration::from_secs(1)).await,
        Default::default()
    );
}

#[test]
fn dropping_the_manager_from_a_plain_thread_leaves_no_child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (manager, pids) = runtime.block_on(async {
        let manager = manager();
        let mut pids = Vec::new();
        for name in ["a", "b", "c"] {
            let id = manager
                .connect(name, &fixture(&["spawn-grandchild"]))
                .await
                .expect("connected");
            pids.push(manager.pid(id).expect("known").expect("a pid"));
        }
        (manager, pids)
    });
    let started = Instant::now();
    std::thread::spawn(move || drop(manager))
        .join()
        .expect("drop does not panic");
    let dropped_in = started.elapsed();
    assert!(
        dropped_in < Duration::from_secs(1),
        "drop took {dropped_in:?}"
    );
    eventually_blocking("every server is reaped", || {
        pids.iter().all(|pid| reaped(*pid))
    });
    drop(runtime);
}

#[tokio::test]
async fn disconnect_closes_and_forgets() {
    let manager = manager();
    let id = manager
        .connect("brief", &fixture(&[]))
        .await
        .expect("connected");
    let pid = manager.pid(id).expect("known").expect("a pid");
    manager.disconnect(id).await.expect("disconnected");
    assert!(manager.servers().is_empty());
    let forgotten = manager.call_tool(id, "echo", ()).await;
    assert!(
        matches!(forgotten, Err(CallError::UnknownServer(_))),
        "{forgotten:?}"
    );
    eventually("the server is reaped", || reaped(pid)).await;
    // The name is free again.
    manager
        .connect("brief", &fixture(&[]))
        .await
        .expect("reconnected");
}

#[tokio::test]
async fn http_servers_connect_and_answer_through_the_manager() {
    let server = HttpFixture::start(FIXTURE, &[]).await;
    let url = Url::parse(server.url()).expect("the fixture's URL");
    let manager = manager();
    let id = manager
        .connect("remote", &ServerConfig::http(url))
        .await
        .expect("connected");
    assert_eq!(manager.pid(id).expect("known"), None);
    let echoed = manager
        .call_tool(id, "echo", json!({"text": "web"}))
        .await
        .expect("echo");
    assert_eq!(text_of(&echoed), "web");
    let report = manager.shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.graceful, ["remote"]);
    drop(server);
}

#[tokio::test]
async fn http_calls_survive_the_server_forgetting_the_session() {
    // Every session ends after 8 POSTs: the handshake's 2, the 4 discovery lists (at once, so the
    // session must outlive them all), then calls. A call the server refuses with 404 goes through
    // rmcp, which starts a new session and replays it; the calls after it join the new session.
    let server = HttpFixture::start(FIXTURE, &["expire-session-after:8"]).await;
    let manager = manager();
    let id = manager
        .connect(
            "remote",
            &ServerConfig::http(Url::parse(server.url()).expect("the fixture's URL")),
        )
        .await
        .expect("connected");
    for round in 0..12 {
        let text = format!("round {round}");
        let echoed = manager
            .call_tool(id, "echo", json!({ "text": text }))
            .await
            .unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(text_of(&echoed), text);
    }
    assert_eq!(
        manager.health(id).expect("known"),
        Health::Healthy,
        "no failure recorded"
    );
    drop(server);
}

#[tokio::test]
async fn a_missed_keep_alive_ping_marks_the_connection_unhealthy() {
    let manager = manager();
    let config = fixture(&[])
        .with_keep_alive(Some(Duration::from_millis(50)))
        .with_auto_recover(false);
    let id = manager.connect("sleepy", &config).await.expect("connected");
    let pid = manager.pid(id).expect("known").expect("a pid");
    let mut events = manager.events();
    // Freeze the server: it can no longer answer pings.
    let frozen = rustix::process::Pid::from_raw(i32::try_from(pid).expect("a pid")).expect("a pid");
    rustix::process::kill_process(frozen, rustix::process::Signal::STOP).expect("stopped");
    let cause = tokio::time::timeout(BOUND, async {
        loop {
            if let Ok(ManagerEvent::Unhealthy { cause, .. }) = events.recv().await {
                return cause;
            }
        }
    })
    .await
    .expect("the missed ping is noticed");
    let _ = rustix::process::kill_process(frozen, rustix::process::Signal::CONT);
    assert!(cause.starts_with("missed a keep-alive ping"), "{cause}");
    assert_eq!(
        manager.health(id).expect("known"),
        Health::Unhealthy { cause }
    );
}

#[tokio::test]
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
async fn refresh_lists_again_and_unsupported_requests_are_typed_errors() {
    let manager = manager();
    let id = manager
        .connect("fixture", &fixture(&[]))
        .await
        .expect("connected");
    let discovery = manager.refresh(id).await.expect("listed again");
    assert_eq!(discovery.tools.len(), 8);
    // The fixture does not advertise logging. In the modern era (what the fixture speaks by
    // default) the log level travels with each request, so we refuse without asking; in the
    // legacy era the server's JSON-RPC error comes back typed.
    let error = manager
        .set_log_level(id, LoggingLevel::Debug)
        .await
        .expect_err("not supported");
    assert!(error.is_unsupported(), "{error:?}");
    assert!(
        error.to_string().contains("no logging capability"),
        "{error}"
    );
    let legacy = manager
        .connect("legacy", &fixture(&[]).with_protocol(ProtocolEra::Legacy))
        .await
        .expect("connected");
    let error = manager
        .set_log_level(legacy, LoggingLevel::Debug)
        .await
        .expect_err("not supported");
    assert!(matches!(error, CallError::Rpc { .. }), "{error:?}");
}

#[tokio::test]
async fn list_changed_makes_the_manager_list_again() {
    let manager = manager();
    let id = manager
        .connect("fixture", &fixture(&[]))
        .await
        .expect("connected");
    let mut events = manager.events();
    manager
        .call_tool(id, "announce", ())
        .await
        .expect("announced");
    let refreshed = tokio::time::timeout(BOUND, async {
        loop {
            if let Ok(ManagerEvent::Refreshed { id: refreshed, .. }) = events.recv().await {
                return refreshed;
            }
        }
    })
    .await
    .expect("the list_changed notification leads to a refresh");
    assert_eq!(refreshed, id);
}

/// In both eras: a legacy server asks with a request of its own, a modern one with an
/// `input_required` result whose `requestState` the fixture checks came back untouched.
#[tokio::test]
async fn elicitation_is_declined_by_default_and_answered_with_defaults_when_asked() {
    for era in [ProtocolEra::Legacy, ProtocolEra::Modern] {
        let config = fixture(&[]).with_protocol(era);
        let declining = manager();
        let id = declining
            .connect("asker", &config)
            .await
            .expect("connected");
        let answer = declining
            .call_tool(id, "confirm", ())
            .await
            .expect("answered");
        assert_eq!(text_of(&answer), "decline", "{era:?}");

        let mut options = ManagerOptions::default();
        options.elicitation = mcp_manager::ElicitationPolicy::AcceptDefaults;
        let accepting = Manager::new(options).expect("a manager");
        let id = accepting
            .connect("asker", &config)
            .await
            .expect("connected");
        let answer = accepting
            .call_tool(id, "confirm", ())
            .await
            .expect("answered");
        assert_eq!(text_of(&answer), r#"accept {"proceed":true}"#, "{era:?}");
        let protocol = accepting
            .listing(id)
            .expect("listed")
            .protocol_version
            .clone();
        let expected = match era {
            ProtocolEra::Modern => "2026-07-28",
            _ => "2025-11-25",
        };
        assert_eq!(protocol.expect("a version").as_str(), expected);
    }
}
