//! `demo` (the built-in tour) and `serve-demo` (the demo server alone).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mcp_demo::{DemoAuthOptions, DemoAuthServer, DemoEra, DemoHttpServer, serve_stdio_era};
use mcp_manager::config::ServerConfig;
use mcp_manager::{CallError, Manager, Url};
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::commands::connect_rows;
use crate::procs::live_children;
use crate::render;
use crate::{Cli, GRACE, Outcome};

/// `mcpcord serve-demo --stdio | --http ADDR`.
pub(crate) async fn serve_demo(
    stdio: bool,
    http: Option<SocketAddr>,
    oauth: bool,
    era: DemoEra,
) -> ExitCode {
    if stdio {
        return match serve_stdio_era(era).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("mcpcord serve-demo: {error}");
                ExitCode::from(1)
            }
        };
    }
    let Some(addr) = http else {
        eprintln!("mcpcord serve-demo: give --stdio or --http ADDR");
        return ExitCode::from(2);
    };
    if oauth {
        let server = match DemoAuthServer::bind(addr, DemoAuthOptions::default()).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("mcpcord serve-demo: {error}");
                return ExitCode::from(2);
            }
        };
        out!("listening on {}", server.url());
        out!("legacy SSE on {}", server.sse_url());
        eprintln!(
            "authorization server {} (approves every request: a demo only)",
            server.issuer()
        );
        return serve_until_stopped(server.serve()).await;
    }
    let server = match DemoHttpServer::bind(addr).await {
        Ok(server) => server.with_era(era),
        Err(error) => {
            eprintln!("mcpcord serve-demo: {error}");
            return ExitCode::from(2);
        }
    };
    out!("listening on {}", server.url());
    out!("legacy SSE on {}", server.sse_url());
    serve_until_stopped(server.serve()).await
}

/// Serves until killed, interrupted, or stdin closes (so a parent that exits takes the server
/// with it).
async fn serve_until_stopped(
    serve: impl Future<Output = Result<(), mcp_demo::DemoError>>,
) -> ExitCode {
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 256];
        while matches!(stdin.read(&mut buffer).await, Ok(read) if read > 0) {}
    };
    tokio::select! {
        outcome = serve => match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("mcpcord serve-demo: {error}");
                ExitCode::from(1)
            }
        },
        () = stdin_closed => ExitCode::SUCCESS,
        _ = tokio::signal::ctrl_c() => ExitCode::from(130),
    }
}

/// `mcpcord demo`: the demo server as a real child over stdio, in-process over HTTP, and in-process
/// behind its demo OAuth server (logged in to with the `follow` browser, the tokens kept in memory),
/// all through the Manager; health, discovery, calls; then shutdown and a count of what was left
/// running.
pub(crate) async fn demo(cli: &Cli, manager: &Manager) -> Outcome {
    let started = Instant::now();
    let http = match DemoHttpServer::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await {
        Ok(server) => server.spawn(),
        Err(error) => {
            return Outcome::Usage(format!("could not start the demo HTTP server: {error}"));
        }
    };
    let listener = http.watch();
    let http_addr = http.local_addr();
    let oauth = match DemoAuthServer::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        DemoAuthOptions::default(),
    )
    .await
    {
        Ok(server) => server.spawn(),
        Err(error) => {
            return Outcome::Usage(format!("could not start the OAuth demo server: {error}"));
        }
    };
    let oauth_listener = oauth.watch();
    let oauth_addr = oauth.local_addr();
    let program = match std::env::current_exe() {
        Ok(program) => program.display().to_string(),
        Err(error) => {
            return Outcome::Usage(format!("cannot find the mcpcord executable: {error}"));
        }
    };
    let parse = |url: String| {
        Url::parse(&url)
            .map_err(|error| format!("the demo server's URL {url:?} is not valid: {error}"))
    };
    let (http_url, oauth_url) = match (parse(http.url()), parse(oauth.url())) {
        (Ok(http_url), Ok(oauth_url)) => (http_url, oauth_url),
        (Err(message), _) | (_, Err(message)) => return Outcome::Usage(message),
    };
    let servers = vec![
        (
            "demo-stdio".to_owned(),
            ServerConfig::stdio(program, ["serve-demo", "--stdio"]),
        ),
        ("demo-http".to_owned(), ServerConfig::http(http_url)),
        ("demo-oauth".to_owned(), ServerConfig::http(oauth_url)),
    ];
    let say = |text: String| {
        if !cli.json {
            out!("{text}");
        }
    };
    say(format!(
        "Starting the demo server over stdio (a child process), over streamable HTTP at {}, and \
         behind OAuth at {} (its built-in authorization server approves every request; the login \
         is driven by the `follow` browser and its tokens are kept in memory)",
        http.url(),
        oauth.url()
    ));
    let rows = connect_rows(manager, &servers).await;
    if !cli.json {
        out!();
        render::health(&rows, false);
    }
    let healthy = rows.iter().all(|row| row.result.is_ok());

    let mut calls = Vec::new();
    if healthy {
        if !cli.json {
            out!("\nDiscovery:");
            for row in &rows {
                if let Ok(discovery) = &row.result {
                    let tools: Vec<&str> = discovery
                        .tools
                        .iter()
                        .map(|tool| tool.name.as_ref())
                        .collect();
                    out!(
                        "  {}: {} {} ({}), tools: {}; {} resources, {} templates, {} prompts",
                        row.name,
                        discovery.server_name(),
                        discovery
                            .server_info
                            .as_ref()
                            .map_or("?", |info| info.version.as_str()),
                        discovery
                            .protocol_version
                            .as_ref()
                            .map_or("?", |version| version.as_str()),
                        tools.join(", "),
                        discovery.resources.len(),
                        discovery.resource_templates.len(),
                        discovery.prompts.len()
                    );
                }
            }
        }
        for (qualified, arguments) in [
            ("demo-stdio__add", json!({"a": 2, "b": 3})),
            ("demo-http__echo", json!({"text": "hello over HTTP"})),
            ("demo-http__fail", json!({})),
            (
                "demo-oauth__echo",
                json!({"text": "hello after an OAuth login"}),
            ),
        ] {
            let outcome = manager
                .call_qualified(qualified, arguments.as_object().cloned())
                .await;
            let (ok, shown) = match &outcome {
                Ok(result) => (true, render::json_value(result)),
                Err(CallError::ToolFailed { result, .. }) => (false, render::json_value(result)),
                // The shape of every JSON error of mcpcord's.
                Err(error) => (
                    false,
                    json!({ "error": { "kind": error.code(), "message": error.to_string() } }),
                ),
            };
            say(format!(
                "\ncall {qualified} {arguments} -> {}\n  {shown}",
                if ok {
                    "ok"
                } else {
                    "tool error (as expected for `fail`)"
                }
            ));
            calls.push(
                json!({ "tool": qualified, "arguments": arguments, "ok": ok, "result": shown }),
            );
        }
    }

    let shutdown_started = Instant::now();
    let report = manager.shutdown(GRACE).await;
    let http_closed = http.close().await.is_ok() && oauth.close().await.is_ok();
    let shutdown = shutdown_started.elapsed();
    // What was left running: child processes of ours, and whether the listener still accepts.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut children = live_children();
    while children > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        children = live_children();
    }
    let mut listeners = 0;
    for (watch, addr) in [(&listener, http_addr), (&oauth_listener, oauth_addr)] {
        if watch.is_open() || tokio::net::TcpStream::connect(addr).await.is_ok() {
            listeners += 1;
        }
    }
    let clean = children == 0 && listeners == 0 && http_closed;
    if cli.json {
        render::print_json(&json!({
            "ok": healthy && clean,
            "servers": rows.iter().map(render::HealthRow::json).collect::<Vec<_>>(),
            "calls": calls,
            "shutdown": {
                "graceful": report.graceful,
                "forced": report.forced,
                "ms": shutdown.as_millis() as u64,
            },
            "left_running": { "children": children, "listeners": listeners },
            "wall_ms": started.elapsed().as_millis() as u64,
        }));
    } else {
        out!(
            "\nShut down in {} ms ({} closed gracefully, {} forced). Left running: {children} child processes, {listeners} listeners.",
            shutdown.as_millis(),
            report.graceful.len(),
            report.forced.len()
        );
    }
    if healthy && clean {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}
