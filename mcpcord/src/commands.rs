//! `health`, `inspect`, `call` and `bench`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mcp_manager::config::ServerConfig;
use mcp_manager::{CallError, ConnectError, Manager, ManagerEvent};
use serde_json::{Map, Value, json};

use crate::render::{self, HealthRow};
use crate::target::resolve;
use crate::{BenchArgs, CallArgs, Cli, Outcome, Targets};

/// Prints connection progress on stderr while `work` runs, when stderr is a terminal.
pub(crate) async fn with_progress<T>(
    cli: &Cli,
    manager: &Manager,
    work: impl Future<Output = T>,
) -> T {
    if cli.json || cli.quiet || !std::io::stderr().is_terminal() {
        return work.await;
    }
    let mut events = manager.events();
    let printer = async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    return std::future::pending::<std::convert::Infallible>().await;
                }
            };
            match event {
                ManagerEvent::Connecting { server, attempt } if attempt > 1 => {
                    eprintln!("  {server}: attempt {attempt}");
                }
                ManagerEvent::Retrying {
                    server,
                    delay,
                    cause,
                    ..
                } => {
                    eprintln!(
                        "  {server}: {}; retrying in {}",
                        render::shown(&cause),
                        humantime::format_duration(delay)
                    );
                }
                ManagerEvent::Ready { server, .. } => eprintln!("  {server}: ready"),
                ManagerEvent::Failed { server, .. } => eprintln!("  {server}: failed"),
                ManagerEvent::AuthRequired { server, .. } => {
                    eprintln!("  {server}: needs a login (mcpcord login {server})");
                }
                ManagerEvent::TransportFallback {
                    server,
                    transport,
                    reason,
                    ..
                } => {
                    eprintln!(
                        "  {server}: not streamable HTTP ({}); using {transport}",
                        render::shown(&reason)
                    );
                }
                _ => {}
            }
        }
    };
    tokio::select! {
        output = work => output,
        never = printer => match never {},
    }
}

/// Connects every server in parallel and measures each.
pub(crate) async fn connect_rows(
    manager: &Manager,
    servers: &[(String, ServerConfig)],
) -> Vec<HealthRow> {
    let mut events = manager.events();
    let attempts = |events: &mut tokio::sync::broadcast::Receiver<ManagerEvent>,
                    name: &str,
                    pending: &mut Vec<ManagerEvent>| {
        while let Ok(event) = events.try_recv() {
            pending.push(event);
        }
        pending
            .iter()
            .filter(
                |event| matches!(event, ManagerEvent::Connecting { server, .. } if server == name),
            )
            .count() as u32
    };
    let outcomes: Vec<_> = futures::stream::iter(servers.iter().map(|(name, config)| async move {
        let started = Instant::now();
        let result = manager.connect(name, config).await;
        (name, config, started.elapsed(), result)
    }))
    .buffered(16)
    .collect()
    .await;
    let mut seen = Vec::new();
    outcomes
        .into_iter()
        .map(|(name, config, elapsed, result)| match result {
            Ok(id) => HealthRow {
                name: name.clone(),
                // What it was reached through: an HTTP server's found-out transport.
                transport: manager
                    .transport(id)
                    .map_or(config.transport_name(), |kind| kind.as_str()),
                attempts: attempts(&mut events, name, &mut seen).max(1),
                connect: elapsed,
                result: manager
                    .listing(id)
                    .map_err(|error| ("unknown".to_owned(), error.to_string())),
            },
            Err(error) => HealthRow::failed(name, config.transport_name(), elapsed, &error),
        })
        .collect()
}

pub(crate) async fn health(cli: &Cli, manager: &Manager, targets: &Targets) -> Outcome {
    let servers = match resolve(cli, &targets.servers, &targets.command, true) {
        Ok(servers) => servers,
        Err(message) => return Outcome::Usage(message),
    };
    let rows = with_progress(cli, manager, connect_rows(manager, &servers)).await;
    render::health(&rows, cli.json);
    if rows.iter().all(|row| row.result.is_ok()) {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}

pub(crate) fn single(
    cli: &Cli,
    server: Option<&String>,
    command: &[String],
) -> Result<(String, ServerConfig), String> {
    let named: Vec<String> = server.cloned().into_iter().collect();
    let mut servers = resolve(cli, &named, command, false)?;
    servers
        .pop()
        .ok_or_else(|| "name a server (or give a command after --)".to_owned())
}

pub(crate) async fn inspect(cli: &Cli, manager: &Manager, targets: &Targets) -> Outcome {
    if targets.servers.len() > 1 {
        return inspect_several(cli, manager, targets).await;
    }
    let (name, config) = match single(cli, targets.servers.first(), &targets.command) {
        Ok(server) => server,
        Err(message) => return Outcome::Usage(message),
    };
    match with_progress(cli, manager, manager.connect(&name, &config)).await {
        Ok(id) => match manager.listing(id) {
            Ok(discovery) => {
                let transport = manager
                    .transport(id)
                    .map_or(config.transport_name(), |kind| kind.as_str());
                render::inspect(&discovery, transport, cli.json);
                Outcome::Ok
            }
            Err(error) => fail(cli, error.code(), &error.to_string()),
        },
        Err(error) => fail_to_connect(cli, &name, &error),
    }
}

/// `inspect A B ...`: every server connected in parallel, then each described in turn (under a
/// heading of its name), or with `--json` one document `{"ok", "servers": [{"name", "ok", ...}]}`
/// whose entries are the single-server document, or `{"error": {"kind", "message"}}`. Exit 1 when
/// any failed.
async fn inspect_several(cli: &Cli, manager: &Manager, targets: &Targets) -> Outcome {
    let servers = match resolve(cli, &targets.servers, &targets.command, false) {
        Ok(servers) => servers,
        Err(message) => return Outcome::Usage(message),
    };
    let connected = with_progress(cli, manager, manager.connect_all(&servers)).await;
    let mut ok = true;
    let mut documents = Vec::new();
    for ((name, result), (_, config)) in connected.into_iter().zip(&servers) {
        let described = result
            .map_err(|error| (error.code(), render::connect_failure(&name, &error)))
            .and_then(|id| {
                let transport = manager
                    .transport(id)
                    .map_or(config.transport_name(), |kind| kind.as_str());
                manager
                    .listing(id)
                    .map(|listing| (listing, transport))
                    .map_err(|error| (error.code(), error.to_string()))
            });
        match (described, cli.json) {
            (Ok((listing, transport)), true) => {
                let mut document = render::inspect_json(&listing, transport);
                if let Value::Object(object) = &mut document {
                    object.insert("name".into(), json!(name));
                    object.insert("ok".into(), json!(true));
                }
                documents.push(document);
            }
            (Ok((listing, transport)), false) => {
                out!("== {} ==", render::shown(&name));
                render::inspect(&listing, transport, false);
                out!();
            }
            (Err((kind, message)), as_json) => {
                ok = false;
                if as_json {
                    documents.push(json!({
                        "name": name,
                        "ok": false,
                        "error": { "kind": kind, "message": message },
                    }));
                } else {
                    out!("== {} ==", render::shown(&name));
                    eprintln!("mcpcord: {}", render::shown(&message));
                    out!();
                }
            }
        }
    }
    if cli.json {
        render::print_json(&json!({ "ok": ok, "servers": documents }));
    }
    if ok { Outcome::Ok } else { Outcome::Failed }
}

/// A failed connect: its error, and what to do when the server needs a login.
pub(crate) fn fail_to_connect(cli: &Cli, name: &str, error: &ConnectError) -> Outcome {
    fail(cli, error.code(), &render::connect_failure(name, error))
}

/// A failure: with `--json`, `{"error": {"kind", "message"}}` on stdout (`kind` is the error's
/// stable `code()`); the message on stderr either way.
pub(crate) fn fail(cli: &Cli, kind: &str, message: &str) -> Outcome {
    if cli.json {
        render::print_json(&json!({ "error": { "kind": kind, "message": message } }));
    }
    // The message may quote the server (a JSON-RPC error's text); stderr is a terminal's too.
    eprintln!("mcpcord: {}", render::shown(message));
    Outcome::Failed
}

pub(crate) fn parse_args(text: Option<&str>) -> Result<Option<Map<String, Value>>, String> {
    match text {
        None => Ok(None),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err("--args must be a JSON object, e.g. '{\"text\": \"hi\"}'".to_owned()),
            Err(error) => Err(format!("--args is not valid JSON: {error}")),
        },
    }
}

pub(crate) async fn call(cli: &Cli, manager: &Manager, args: &CallArgs) -> Outcome {
    let (server, tool) = match (args.command.is_empty(), args.positionals.as_slice()) {
        (true, [server, tool]) => (Some(server), tool),
        (false, [tool]) => (None, tool),
        (true, _) => {
            return Outcome::Usage("usage: mcpcord call SERVER TOOL [--args JSON]".to_owned());
        }
        (false, _) => {
            return Outcome::Usage("with a command after --, give only the TOOL: mcpcord call TOOL --args JSON -- COMMAND".to_owned());
        }
    };
    let arguments = match parse_args(args.args.as_deref()) {
        Ok(arguments) => arguments,
        Err(message) => return Outcome::Usage(message),
    };
    let (name, config) = match single(cli, server, &args.command) {
        Ok(server) => server,
        Err(message) => return Outcome::Usage(message),
    };
    let id = match with_progress(cli, manager, manager.connect(&name, &config)).await {
        Ok(id) => id,
        Err(error) => return fail_to_connect(cli, &name, &error),
    };
    match manager.call_tool(id, tool, arguments).await {
        Ok(result) => {
            render::call_result(&result, cli.json);
            Outcome::Ok
        }
        Err(CallError::ToolFailed { result, .. }) => {
            render::call_result(&result, cli.json);
            Outcome::Failed
        }
        Err(error) => fail(cli, error.code(), &error.to_string()),
    }
}

/// Arguments for the benchmarked tool when none are given: a guess from its input schema.
fn default_bench_args(discovery: &mcp_manager::Listing, tool: &str) -> Option<Map<String, Value>> {
    let schema = discovery
        .tools
        .iter()
        .find(|candidate| candidate.name == tool)?;
    let properties = schema.input_schema.get("properties")?.as_object()?;
    let mut arguments = Map::new();
    for name in ["text", "message"] {
        if properties.contains_key(name) {
            arguments.insert(name.to_owned(), json!("bench"));
        }
    }
    Some(arguments)
}

pub(crate) async fn bench(cli: &Cli, manager: &Manager, args: &BenchArgs) -> Outcome {
    let (name, config) = match single(cli, args.server.as_ref(), &args.command) {
        Ok(server) => server,
        Err(message) => return Outcome::Usage(message),
    };
    let explicit = match parse_args(args.args.as_deref()) {
        Ok(arguments) => arguments,
        Err(message) => return Outcome::Usage(message),
    };
    if args.sessions == 0 {
        return Outcome::Usage("--sessions must be at least 1".to_owned());
    }
    let started = Instant::now();
    let connected = futures::future::join_all((0..args.sessions).map(|_| async {
        let connect_started = Instant::now();
        // Under the server's own name: every session shares its stored login and its single
        // flight, so N sessions to a server that needs a login make one login, not N.
        let session = manager
            .isolated_named(&name, &config)
            .await
            .map_err(|error| render::connect_failure(&name, &error))?;
        Ok::<_, String>((connect_started.elapsed(), session))
    }))
    .await;
    // Each session's calls run on a task of their own: on the multi-threaded runtime they spread
    // over the cores, and an answer wakes its caller on the worker that read it rather than this
    // thread (one wake-up of another core per call less). Dropping the set (Ctrl+C) aborts them,
    // and each session's `Drop` then kills its server.
    let mut sessions = tokio::task::JoinSet::new();
    let mut results = Vec::with_capacity(args.sessions);
    for connected in connected {
        let (connect, session) = match connected {
            Ok(connected) => connected,
            Err(message) => {
                results.push(Err(message));
                continue;
            }
        };
        let arguments = explicit
            .clone()
            .or_else(|| default_bench_args(session.listing(), &args.tool));
        let tool = args.tool.clone();
        let calls = args.calls;
        sessions.spawn(async move {
            let mut latencies = Vec::with_capacity(calls);
            let mut errors = 0usize;
            let calls_started = Instant::now();
            for _ in 0..calls {
                let call_started = Instant::now();
                match session.call_tool(&tool, arguments.clone()).await {
                    Ok(_) => latencies.push(call_started.elapsed().as_micros() as u64),
                    Err(_) => errors += 1,
                }
            }
            let window = (calls_started, Instant::now());
            session.close(Duration::from_secs(2)).await;
            (connect, latencies, errors, window)
        });
    }
    while let Some(joined) = sessions.join_next().await {
        results.push(joined.map_err(|error| format!("a session's calls stopped: {error}")));
    }
    let wall = started.elapsed();
    let mut connect_ms = Vec::new();
    let mut call_us = Vec::new();
    let mut errors = 0usize;
    let mut first_message = None;
    let (mut phase_start, mut phase_end): (Option<Instant>, Option<Instant>) = (None, None);
    for result in results {
        match result {
            Ok((connect, latencies, failed, (from, to))) => {
                connect_ms.push(connect.as_millis() as u64);
                call_us.extend(latencies);
                errors += failed;
                phase_start = Some(phase_start.map_or(from, |start| start.min(from)));
                phase_end = Some(phase_end.map_or(to, |end| end.max(to)));
            }
            Err(message) => {
                errors += 1;
                first_message.get_or_insert(message);
            }
        }
    }
    let phase = match (phase_start, phase_end) {
        (Some(start), Some(end)) => end.duration_since(start),
        _ => Duration::ZERO,
    };
    let calls_per_s = if phase.is_zero() {
        0.0
    } else {
        call_us.len() as f64 / phase.as_secs_f64()
    };
    let (c50, c99, cmax) = render::percentiles(&mut connect_ms);
    let (u50, u99, umax) = render::percentiles(&mut call_us);
    let document = json!({
        "sessions": args.sessions,
        "calls": call_us.len(),
        "errors": errors,
        "wall_ms": wall.as_millis() as u64,
        "calls_per_s": (calls_per_s * 10.0).round() / 10.0,
        "connect_ms": { "p50": c50, "p99": c99, "max": cmax },
        "call_us": { "p50": u50, "p99": u99, "max": umax },
    });
    if cli.json {
        render::print_json(&document);
    } else {
        out!(
            "{} sessions x {} calls: {} calls ok, {errors} errors, {:.0} calls/s, wall {} ms",
            args.sessions,
            args.calls,
            call_us.len(),
            calls_per_s,
            wall.as_millis()
        );
        out!("connect ms  p50 {c50}  p99 {c99}  max {cmax}");
        out!("call µs     p50 {u50}  p99 {u99}  max {umax}");
        if let Some(message) = &first_message {
            eprintln!("first session error: {}", render::shown(message));
        }
    }
    if errors == 0 {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}
