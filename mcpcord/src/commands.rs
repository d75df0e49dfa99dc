//! `health`, `inspect`, `call` and `bench`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use mcp_manager::config::ServerConfig;
use mcp_manager::{CallError, ConnectError, Manager, ManagerEvent};
use serde_json::{Map, Value, json};

use crate::content::SaveDir;
use crate::live;
use crate::render::{self, HealthRow};
use crate::target::resolve;
use crate::{BenchArgs, CallArgs, Cli, Outcome, Targets};

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
    let expected = servers.iter().map(|(name, config)| (name, config));
    let rows = live::connecting(manager, expected, connect_rows(manager, &servers)).await;
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
    let connect = manager.connect(&name, &config);
    match live::connecting(manager, [(&name, &config)], connect).await {
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
    let expected = servers.iter().map(|(name, config)| (name, config));
    let connected = live::connecting(manager, expected, manager.connect_all(&servers)).await;
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
    fail_with(cli, kind, message, Map::new())
}

/// A failed request, as [`fail`] reports it; a JSON-RPC error's JSON also carries the server's
/// `code` and `data` (`null` when it sent none), so a script can tell "not found" from "invalid
/// params" without reading the message.
pub(crate) fn fail_call(cli: &Cli, error: &CallError, message: &str) -> Outcome {
    fail_json(cli, call_error_json(error, message), message)
}

/// The JSON error object of a failed request (`fail_call`, `watch`'s `call_failed`): `kind` and
/// `message`, and for a JSON-RPC error the server's `code` and `data` (`null` when it sent none).
pub(crate) fn call_error_json(error: &CallError, message: &str) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("kind".into(), json!(error.code()));
    object.insert("message".into(), json!(message));
    if let Some(code) = error.rpc_code() {
        object.insert("code".into(), json!(code));
        object.insert(
            "data".into(),
            error.rpc_data().cloned().unwrap_or(Value::Null),
        );
    }
    object
}

/// [`fail`] with more members in the JSON error object.
fn fail_with(cli: &Cli, kind: &str, message: &str, extra: Map<String, Value>) -> Outcome {
    let mut error = Map::new();
    error.insert("kind".into(), json!(kind));
    error.insert("message".into(), json!(message));
    error.extend(extra);
    fail_json(cli, error, message)
}

/// Reports a failure: `error` as `{"error": ...}` on stdout with `--json`, and `message` on
/// stderr.
fn fail_json(cli: &Cli, error: Map<String, Value>, message: &str) -> Outcome {
    if cli.json {
        render::print_json(&json!({ "error": error }));
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
    let save = match args.save.as_deref().map(SaveDir::open).transpose() {
        Ok(save) => save,
        Err(message) => return Outcome::Usage(message),
    };
    let (name, id) = match crate::requests::connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let called = manager.call_tool(id, tool, arguments);
    let called = live::with_call_progress(manager, &name, tool, called).await;
    let (result, outcome) = match called {
        Ok(result) => (result, Outcome::Ok),
        Err(CallError::ToolFailed { result, .. }) => (*result, Outcome::Failed),
        Err(error) => return fail_call(cli, &error, &error.to_string()),
    };
    match render::call_result(&result, cli.json, save.as_ref(), tool) {
        Ok(()) => outcome,
        Err(message) if cli.json => fail(cli, "save", &message),
        // Said on stderr as it happened.
        Err(_) => Outcome::Failed,
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
    let mut display = live::BenchDisplay::start(args.sessions, args.calls);
    let started = Instant::now();
    let connected = futures::future::join_all((0..args.sessions).map(|_| async {
        let connect_started = Instant::now();
        // Under the server's own name: every session shares its stored login and its single
        // flight, so N sessions to a server that needs a login make one login, not N.
        let session = manager
            .isolated_named(&name, &config)
            .await
            .map_err(|error| (error.code(), render::connect_failure(&name, &error)))?;
        display.connected();
        Ok::<_, (&'static str, String)>((connect_started.elapsed(), session))
    }))
    .await;
    // Each session's calls run on a task of their own: on the multi-threaded runtime they spread
    // over the cores, and an answer wakes its caller on the worker that read it rather than this
    // thread (one wake-up of another core per call less). Dropping the set (Ctrl+C) aborts them,
    // and each session's `Drop` then kills its server.
    let counter = display.calling();
    let mut sessions = tokio::task::JoinSet::new();
    let mut results = Vec::with_capacity(args.sessions);
    for connected in connected {
        let (connect, session) = match connected {
            Ok(connected) => connected,
            Err(failure) => {
                results.push(Err(failure));
                continue;
            }
        };
        let arguments = explicit
            .clone()
            .or_else(|| default_bench_args(session.listing(), &args.tool));
        let tool = args.tool.clone();
        let calls = args.calls;
        let counter = counter.clone();
        sessions.spawn(async move {
            let mut latencies = Vec::with_capacity(calls);
            let mut errors = ErrorTally::default();
            let calls_started = Instant::now();
            for _ in 0..calls {
                let call_started = Instant::now();
                match session.call_tool(&tool, arguments.clone()).await {
                    Ok(_) => latencies.push(call_started.elapsed().as_micros() as u64),
                    Err(error) => errors.add(error.code(), || error.to_string()),
                }
                counter.inc(1);
            }
            let window = (calls_started, Instant::now());
            session.close(Duration::from_secs(2)).await;
            (connect, latencies, errors, window)
        });
    }
    while let Some(joined) = sessions.join_next().await {
        results.push(joined.map_err(|error| {
            (
                "session_stopped",
                format!("a session's calls stopped: {error}"),
            )
        }));
    }
    let wall = started.elapsed();
    display.finish();
    let mut connect_ms = Vec::new();
    let mut call_us = Vec::new();
    let mut errors = ErrorTally::default();
    let (mut phase_start, mut phase_end): (Option<Instant>, Option<Instant>) = (None, None);
    for result in results {
        match result {
            Ok((connect, latencies, failed, (from, to))) => {
                connect_ms.push(connect.as_millis() as u64);
                call_us.extend(latencies);
                errors.merge(failed);
                phase_start = Some(phase_start.map_or(from, |start| start.min(from)));
                phase_end = Some(phase_end.map_or(to, |end| end.max(to)));
            }
            Err((kind, message)) => errors.add(kind, || message),
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
    let phase_ms = phase.as_millis() as u64;
    let document = json!({
        "sessions": args.sessions,
        "calls": call_us.len(),
        "errors": errors.total(),
        "errors_by_kind": errors.json(),
        "wall_ms": wall.as_millis() as u64,
        "calls_per_s": (calls_per_s * 10.0).round() / 10.0,
        "calls_phase_ms": phase_ms,
        "connect_ms": { "p50": c50, "p99": c99, "max": cmax },
        "call_us": { "p50": u50, "p99": u99, "max": umax },
    });
    if cli.json {
        render::print_json(&document);
    } else {
        out!(
            "{} sessions x {} calls: {} calls ok, {} errors, wall {} ms",
            args.sessions,
            args.calls,
            call_us.len(),
            errors.total(),
            wall.as_millis()
        );
        out!(
            "{calls_per_s:.0} calls/s: successful calls over the {phase_ms} ms from the first call \
             to the last answer, all sessions together (connects excluded)"
        );
        let rows = [
            ("connect ms", [c50, c99, cmax]),
            ("call µs", [u50, u99, umax]),
        ]
        .map(|(what, values)| {
            std::iter::once(what.to_owned())
                .chain(values.map(|value| value.to_string()))
                .collect::<Vec<_>>()
        });
        for line in render::table(
            &["", "p50", "p99", "max"],
            &[false, true, true, true],
            &rows,
        ) {
            out!("{line}");
        }
        for line in errors.lines() {
            out!("{line}");
        }
    }
    if errors.total() == 0 {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}

/// A bench's failures by kind (a `code()` such as `timeout` or `rpc`): how many of each, and the
/// first message of each as its sample.
#[derive(Debug, Default)]
struct ErrorTally {
    kinds: std::collections::BTreeMap<&'static str, (usize, String)>,
}

impl ErrorTally {
    /// Counts one failure; `message` is made only for the first of its kind.
    fn add(&mut self, kind: &'static str, message: impl FnOnce() -> String) {
        self.kinds
            .entry(kind)
            .and_modify(|(count, _)| *count += 1)
            .or_insert_with(|| (1, message()));
    }

    /// Adds another session's tally, keeping the samples seen first.
    fn merge(&mut self, other: ErrorTally) {
        for (kind, (count, sample)) in other.kinds {
            self.kinds
                .entry(kind)
                .and_modify(|(total, _)| *total += count)
                .or_insert((count, sample));
        }
    }

    fn total(&self) -> usize {
        self.kinds.values().map(|(count, _)| count).sum()
    }

    /// `{"KIND": {"count": N, "sample": "..."}}`.
    fn json(&self) -> Value {
        self.kinds
            .iter()
            .map(|(kind, (count, sample))| {
                (
                    (*kind).to_owned(),
                    json!({ "count": count, "sample": sample }),
                )
            })
            .collect::<Map<String, Value>>()
            .into()
    }

    /// For people: a heading, then one aligned line per kind with its count and sample (which may
    /// quote the server).
    fn lines(&self) -> Vec<String> {
        if self.kinds.is_empty() {
            return Vec::new();
        }
        let width = self.kinds.keys().map(|kind| kind.len()).max().unwrap_or(0);
        let counts = self
            .kinds
            .values()
            .map(|(count, _)| count.to_string().len())
            .max()
            .unwrap_or(0);
        let mut lines = vec!["errors by kind (count, first message):".to_owned()];
        lines.extend(self.kinds.iter().map(|(kind, (count, sample))| {
            format!(
                "  {kind:<width$}  {count:>counts$}  {}",
                render::shown(sample).replace('\n', " ")
            )
        }));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_errors_are_counted_by_kind_with_the_first_message_as_sample() {
        let mut session = ErrorTally::default();
        session.add("timeout", || "first timeout".to_owned());
        session.add("timeout", || unreachable!("only the first message is made"));
        let mut all = ErrorTally::default();
        all.add("rpc", || "s: bad (JSON-RPC error -32602)".to_owned());
        all.add("timeout", || "earlier timeout".to_owned());
        all.merge(session);
        assert_eq!(all.total(), 4);
        assert_eq!(
            all.json(),
            json!({
                "rpc": { "count": 1, "sample": "s: bad (JSON-RPC error -32602)" },
                "timeout": { "count": 3, "sample": "earlier timeout" },
            })
        );
        assert_eq!(
            all.lines(),
            [
                "errors by kind (count, first message):",
                "  rpc      1  s: bad (JSON-RPC error -32602)",
                "  timeout  3  earlier timeout",
            ]
        );
    }
}
