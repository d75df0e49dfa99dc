//! `watch`: one session's notifications, streamed until Ctrl+C.
//!
//! It connects to one server, sets the log level if asked (first, so that what follows is logged
//! at it), subscribes to the `--resource`s (if the server declared `resources.subscribe`; if not,
//! it says so and streams the rest) and optionally calls one tool in the same session, then
//! prints every event of that session as it arrives:
//! lists that changed, resource updates, log messages and progress. One line each for people; with
//! `--json` one JSON object per line, each with `kind` and `server`:
//!
//! | `kind` | other fields |
//! | --- | --- |
//! | `subscribed` | `uri` |
//! | `subscribe_failed` | `uri`, `error: {kind, message}` (`kind` is `subscriptions_unsupported` when the server did not declare them) |
//! | `list_changed` | `tools`, `resources`, `templates`, `prompts` (the counts after the change) |
//! | `resource_updated` | `uri` |
//! | `log` | `level`, `logger` (or null), `data` (as the server sent it) |
//! | `progress` | `progress`, `total` (or null), `message` (or null) |
//! | `call_result` | `tool`, `is_error`, `result` (MCP's `CallToolResult`) |
//! | `call_failed` | `tool`, `error: {kind, message}`, and `code`, `data` for a JSON-RPC error (no result: a timeout...) |
//! | `missed` | `count`: events dropped because the output fell behind |
//! | `unhealthy` | `cause`: the session ended; `watch` exits 1 |
//!
//! A stop signal ends it (exit 130 for Ctrl+C, as for every command): `main` then releases the
//! [`Subscriptions`] (each unsubscribed, best effort and bounded) before shutting the manager down.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use mcp_manager::{CallError, Manager, ManagerEvent, ServerId};
use rmcp::model::CallToolResult;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::commands::{call_error_json, fail_to_connect, parse_args, single};
use crate::content;
use crate::live::{self, log_text};
use crate::render::{self, one_line, progress_number, shown};
use crate::requests::parse_level;
use crate::{Cli, Outcome, WatchArgs};

/// How long unsubscribing may hold up the end of `watch`: a server that does not answer must not
/// keep the user waiting after Ctrl+C.
const UNSUBSCRIBE_WAIT: Duration = Duration::from_secs(1);

/// The resources `watch` subscribed to, so that whoever ends it (the command itself, or `main`
/// on a stop signal) can unsubscribe.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions(Mutex<Vec<(ServerId, String)>>);

impl Subscriptions {
    fn add(&self, id: ServerId, uri: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((id, uri.to_owned()));
    }

    /// Unsubscribes from every resource, all at once, waiting at most [`UNSUBSCRIBE_WAIT`];
    /// failures are ignored (the session is about to close anyway, and with it the server's
    /// record of it).
    pub(crate) async fn release(&self, manager: &Manager) {
        let held = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        if held.is_empty() {
            return;
        }
        let all = futures::future::join_all(
            held.iter()
                .map(|(id, uri)| manager.unsubscribe_resource(*id, uri)),
        );
        let _ = tokio::time::timeout(UNSUBSCRIBE_WAIT, all).await;
    }
}

/// Why a resource could not be subscribed to.
#[derive(Debug)]
enum SubscribeError {
    /// The server did not declare `resources.subscribe`: it sends no updates.
    Unsupported,
    /// The request failed.
    Failed(CallError),
}

impl SubscribeError {
    /// A stable name, for `--json`.
    fn code(&self) -> &'static str {
        match self {
            SubscribeError::Unsupported => "subscriptions_unsupported",
            SubscribeError::Failed(error) => error.code(),
        }
    }

    fn message(&self) -> String {
        match self {
            SubscribeError::Unsupported => "the server does not offer resource subscriptions (it \
                 did not declare resources.subscribe): no updates will come; still streaming the \
                 rest"
                .to_owned(),
            SubscribeError::Failed(error) => format!("could not subscribe: {error}"),
        }
    }
}

/// `mcpcord watch SERVER [--resource URI]... [--log-level L] [--call TOOL [--args JSON]]`.
pub(crate) async fn watch(
    cli: &Cli,
    manager: &Manager,
    args: &WatchArgs,
    subscriptions: &Subscriptions,
) -> Outcome {
    if args.server.is_some() && !args.command.is_empty() {
        return Outcome::Usage(
            "with a command after --, leave SERVER out: mcpcord watch [--resource URI]... -- COMMAND"
                .to_owned(),
        );
    }
    let level = match args.log_level.as_deref().map(parse_level).transpose() {
        Ok(level) => level.map(|(_, level)| level),
        Err(message) => return Outcome::Usage(message),
    };
    let arguments = match parse_args(args.args.as_deref()) {
        Ok(arguments) => arguments,
        Err(message) => return Outcome::Usage(message),
    };
    let (name, config) = match single(cli, args.server.as_ref(), &args.command) {
        Ok(server) => server,
        Err(message) => return Outcome::Usage(message),
    };
    // Listening before connecting: a list that changes right after the handshake is seen too.
    let mut events = manager.events();
    let connect = manager.connect(&name, &config);
    let id = match live::connecting(manager, [(&name, &config)], connect).await {
        Ok(id) => id,
        Err(error) => return fail_to_connect(cli, &name, &error),
    };
    let printer = Printer {
        json: cli.json,
        server: &name,
    };
    // The level first, so that what subscribing and the call log is already at it.
    if let Some(level) = level
        && let Err(error) = manager.set_log_level(id, level).await
    {
        // Not fatal: the server may still log at its own level.
        live::eprint_line(&format!(
            "mcpcord: could not set the log level: {}",
            render::one_line(&error.to_string())
        ));
    }
    let declared = manager.listing(id).is_ok_and(|listing| {
        listing
            .capabilities
            .resources
            .as_ref()
            .is_some_and(|resources| resources.subscribe == Some(true))
    });
    for uri in &args.resources {
        let subscribed = if declared {
            manager
                .subscribe_resource(id, uri)
                .await
                .map_err(SubscribeError::Failed)
        } else {
            Err(SubscribeError::Unsupported)
        };
        match subscribed {
            Ok(()) => {
                subscriptions.add(id, uri);
                printer.event("subscribed", json!({ "uri": uri }), || {
                    format!("subscribed to {}", shown(uri))
                });
            }
            Err(error) => printer.subscribe_failed(uri, &error),
        }
    }
    if !cli.quiet && !cli.json {
        live::eprint_line(&format!("watching {}; Ctrl+C to stop", one_line(&name)));
    }
    let mut call = std::pin::pin!(async {
        match &args.call {
            Some(tool) => Some((tool, manager.call_tool(id, tool, arguments).await)),
            None => None,
        }
    });
    let mut calling = args.call.is_some();
    let outcome = loop {
        tokio::select! {
            // Events first: progress the server sent before its answer is printed before it.
            biased;
            event = events.recv() => match event {
                Ok(event) => {
                    if let Some(ended) = printer.manager_event(manager, id, event) {
                        break ended;
                    }
                }
                Err(RecvError::Lagged(count)) => {
                    printer.event("missed", json!({ "count": count }), || {
                        format!("{count} events were missed (the output fell behind)")
                    });
                }
                Err(RecvError::Closed) => break Outcome::Failed,
            },
            done = &mut call, if calling => {
                calling = false;
                if let Some((tool, result)) = done {
                    match result {
                        Ok(result) => printer.call_result(tool, &result),
                        Err(CallError::ToolFailed { result, .. }) => {
                            printer.call_result(tool, &result);
                        }
                        Err(error) => printer.call_failed(tool, &error),
                    }
                }
            }
        }
    };
    subscriptions.release(manager).await;
    outcome
}

/// Prints `watch`'s events for one server, as lines or JSON lines.
struct Printer<'a> {
    json: bool,
    server: &'a str,
}

impl Printer<'_> {
    /// One event: with `--json`, `fields` with `kind` and `server` added; else `SERVER: TEXT`.
    fn event(&self, kind: &str, mut fields: Value, text: impl FnOnce() -> String) {
        if self.json {
            if let Value::Object(object) = &mut fields {
                object.insert("kind".into(), json!(kind));
                object.insert("server".into(), json!(self.server));
            }
            out!("{fields}");
        } else {
            out!("{}: {}", one_line(self.server), text());
        }
    }

    fn subscribe_failed(&self, uri: &str, error: &SubscribeError) {
        let message = error.message();
        self.event(
            "subscribe_failed",
            json!({ "uri": uri, "error": { "kind": error.code(), "message": message } }),
            || format!("{}: {}", shown(uri), one_line(&message)),
        );
    }

    /// Prints an event of this server's session; `Some` when it ends the watch.
    fn manager_event(
        &self,
        manager: &Manager,
        id: ServerId,
        event: ManagerEvent,
    ) -> Option<Outcome> {
        match event {
            ManagerEvent::Refreshed { id: from, .. } if from == id => {
                let counts = manager.listing(id).ok().map_or_else(
                    || json!({}),
                    |listing| {
                        json!({
                            "tools": listing.tools.len(),
                            "resources": listing.resources.len(),
                            "templates": listing.resource_templates.len(),
                            "prompts": listing.prompts.len(),
                        })
                    },
                );
                let text = format!(
                    "lists changed: {} tools, {} resources, {} templates, {} prompts",
                    counts["tools"], counts["resources"], counts["templates"], counts["prompts"]
                );
                self.event("list_changed", counts, || text);
            }
            ManagerEvent::ResourceUpdated { server, uri } if server == self.server => {
                self.event("resource_updated", json!({ "uri": uri }), || {
                    format!("updated {}", shown(&uri))
                });
            }
            ManagerEvent::Log {
                server,
                level,
                logger,
                data,
            } if server == self.server => {
                let named = logger
                    .as_deref()
                    .map_or_else(String::new, |logger| format!(" {}", one_line(logger)));
                let text = format!(
                    "{}{named}: {}",
                    one_line(&level),
                    one_line(&log_text(&data))
                );
                self.event(
                    "log",
                    json!({ "level": level, "logger": logger, "data": data }),
                    || text,
                );
            }
            ManagerEvent::Progress {
                server,
                progress,
                total,
                message,
            } if server == self.server => {
                let text = format!(
                    "progress {}{}{}",
                    progress_number(progress),
                    total.map_or_else(String::new, |total| format!(
                        " of {}",
                        progress_number(total)
                    )),
                    message
                        .as_deref()
                        .map_or_else(String::new, |message| format!(": {}", one_line(message)))
                );
                self.event(
                    "progress",
                    json!({
                        "progress": progress_number(progress),
                        "total": total.map(progress_number),
                        "message": message,
                    }),
                    || text,
                );
            }
            ManagerEvent::Unhealthy {
                id: from, cause, ..
            } if from == id => {
                self.event("unhealthy", json!({ "cause": cause }), || {
                    format!("stopped working: {}", one_line(&cause))
                });
                return Some(Outcome::Failed);
            }
            ManagerEvent::Closed { id: from, .. } if from == id => {
                return Some(Outcome::Failed);
            }
            _ => {}
        }
        None
    }

    fn call_failed(&self, tool: &str, error: &CallError) {
        let message = error.to_string();
        let text = format!("{} failed: {}", shown(tool), one_line(&message));
        self.event(
            "call_failed",
            json!({ "tool": tool, "error": call_error_json(error, &message) }),
            || text,
        );
    }

    fn call_result(&self, tool: &str, result: &CallToolResult) {
        let failed = result.is_error == Some(true);
        let text = || {
            // Each block as `call` shows it (an image's header line, ...), on this one line.
            let mut printer = content::Printer::new(false, None, tool);
            let parts: Vec<String> = result
                .content
                .iter()
                .flat_map(|block| printer.block_lines(block))
                .map(|line| one_line(&line))
                .collect();
            let verb = if failed { "failed" } else { "returned" };
            format!("{} {verb}: {}", shown(tool), parts.join(" "))
        };
        self.event(
            "call_result",
            json!({
                "tool": tool,
                "is_error": failed,
                "result": render::json_value(result),
            }),
            text,
        );
    }
}
