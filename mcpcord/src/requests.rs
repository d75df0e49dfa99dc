//! One MCP request per command: `read`, `prompt`, `complete`, `list`, `ping`, `log-level`.
//!
//! Each takes one server as `call` does (a configured name, a URL, or a command after `--`, then
//! the name is left out), checks its own arguments before connecting (a usage error is exit 2),
//! and prints the result: with `--json`, MCP's own JSON for it; else its text, every string the
//! server sent passed through `render::shown` or `render::shown_output`, and images, audio and
//! resources made readable by `content` (`read --save` and `prompt --save` write binary items
//! to files).

use mcp_manager::{CallError, Manager, ServerId};
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
use rmcp::model::LoggingLevel;
use rmcp::model::{ArgumentInfo, CompleteRequestParams, Reference, Role};
use serde_json::json;

use crate::commands::{fail, fail_call, fail_to_connect, parse_args, single};
use crate::content::{Printer, SaveDir};
use crate::render::{self, shown};
use crate::{Cli, CompleteArgs, ListArgs, LogLevelArgs, Outcome, PingArgs, PromptArgs, ReadArgs};

/// The MCP log levels by their names, least severe first: what `log-level` and `watch
/// --log-level` accept, and how `live` ranks a server's log messages.
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
pub(crate) const LEVELS: [(&str, LoggingLevel); 8] = [
    ("debug", LoggingLevel::Debug),
    ("info", LoggingLevel::Info),
    ("notice", LoggingLevel::Notice),
    ("warning", LoggingLevel::Warning),
    ("error", LoggingLevel::Error),
    ("critical", LoggingLevel::Critical),
    ("alert", LoggingLevel::Alert),
    ("emergency", LoggingLevel::Emergency),
];

/// The level named `typed` (in any case), or the usage error that lists the valid ones.
#[allow(deprecated)] // as LEVELS
pub(crate) fn parse_level(typed: &str) -> Result<(&'static str, LoggingLevel), String> {
    match LEVELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(typed))
    {
        Some(&level) => Ok(level),
        None => {
            let valid: Vec<&str> = LEVELS.iter().map(|(name, _)| *name).collect();
            Err(format!(
                "unknown log level {typed:?}; valid levels: {}",
                valid.join(", ")
            ))
        }
    }
}

/// What `list` lists, by the names it is given.
const KINDS: [(&str, Kind); 4] = [
    ("tools", Kind::Tools),
    ("resources", Kind::Resources),
    ("templates", Kind::Templates),
    ("prompts", Kind::Prompts),
];

/// One kind of what a server offers.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Tools,
    Resources,
    Templates,
    Prompts,
}

/// JSON-RPC's "method not found": what a server that lacks a capability answers.
const METHOD_NOT_FOUND: i32 = -32601;

/// A failed request, as `fail` reports it; when the server does not know the method, saying which
/// capability it lacks.
fn fail_request(cli: &Cli, error: &CallError, capability: &str) -> Outcome {
    let mut message = error.to_string();
    if matches!(
        error,
        CallError::Rpc {
            code: METHOD_NOT_FOUND,
            ..
        }
    ) {
        message.push_str(&format!("; the server does not offer {capability}"));
    }
    fail_call(cli, error, &message)
}

/// The positionals after the server: the server (unless given after `--`) and the `wanted` rest.
pub(crate) fn split<'a>(
    positionals: &'a [String],
    command: &[String],
    wanted: usize,
    usage: &str,
) -> Result<(Option<&'a String>, &'a [String]), String> {
    match (command.is_empty(), positionals.split_first()) {
        (true, Some((server, rest))) if rest.len() == wanted => Ok((Some(server), rest)),
        (false, _) if positionals.len() == wanted => Ok((None, positionals)),
        (true, _) => Err(format!("usage: mcpcord {usage}")),
        (false, _) => Err(format!(
            "with a command after --, leave SERVER out: mcpcord {}",
            usage.replacen("SERVER ", "", 1)
        )),
    }
}

/// Connects to the one server named (or given after `--`); its name and id, or how it ended.
pub(crate) async fn connect(
    cli: &Cli,
    manager: &Manager,
    server: Option<&String>,
    command: &[String],
) -> Result<(String, ServerId), Outcome> {
    let (name, config) = single(cli, server, command).map_err(Outcome::Usage)?;
    let connect = manager.connect(&name, &config);
    match crate::live::connecting(manager, [(&name, &config)], connect).await {
        Ok(id) => Ok((name, id)),
        Err(error) => Err(fail_to_connect(cli, &name, &error)),
    }
}

pub(crate) async fn read(cli: &Cli, manager: &Manager, args: &ReadArgs) -> Outcome {
    let usage = "read SERVER URI [--save DIR]";
    let (server, uri) = match split(&args.positionals, &args.command, 1, usage) {
        Ok((server, [uri])) => (server, uri),
        Ok(_) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
        Err(message) => return Outcome::Usage(message),
    };
    let save = match args.save.as_deref().map(SaveDir::open).transpose() {
        Ok(save) => save,
        Err(message) => return Outcome::Usage(message),
    };
    let (_, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let result = match manager.read_resource(id, uri).await {
        Ok(result) => result,
        Err(error) => return fail_request(cli, &error, "resources"),
    };
    let mut printer = Printer::new(cli.json, save.as_ref(), uri);
    for contents in &result.contents {
        printer.contents(contents);
    }
    finish(cli, &printer, &result)
}

/// After a result's content went through `printer`: with `--json` the result, or the failed save
/// as the JSON error instead; a failed save is exit 1 either way.
fn finish(cli: &Cli, printer: &Printer<'_>, result: &impl serde::Serialize) -> Outcome {
    printer.done();
    match (printer.error(), cli.json) {
        (Some(message), true) => fail(cli, "save", message),
        // Said on stderr as it happened.
        (Some(_), false) => Outcome::Failed,
        (None, true) => {
            render::print_json(result);
            Outcome::Ok
        }
        (None, false) => Outcome::Ok,
    }
}

pub(crate) async fn prompt(cli: &Cli, manager: &Manager, args: &PromptArgs) -> Outcome {
    let usage = "prompt SERVER NAME [--args JSON] [--save DIR]";
    let (server, name) = match split(&args.positionals, &args.command, 1, usage) {
        Ok((server, [name])) => (server, name),
        Ok(_) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
        Err(message) => return Outcome::Usage(message),
    };
    let arguments = match parse_args(args.args.as_deref()) {
        Ok(arguments) => arguments,
        Err(message) => return Outcome::Usage(message),
    };
    let save = match args.save.as_deref().map(SaveDir::open).transpose() {
        Ok(save) => save,
        Err(message) => return Outcome::Usage(message),
    };
    let (_, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let result = match manager.get_prompt(id, name, arguments).await {
        Ok(result) => result,
        Err(error) => return fail_request(cli, &error, "prompts"),
    };
    let mut printer = Printer::new(cli.json, save.as_ref(), name);
    for message in &result.messages {
        let role = match message.role {
            Role::User => "user: ",
            Role::Assistant => "assistant: ",
        };
        printer.block(role, &message.content);
    }
    finish(cli, &printer, &result)
}

pub(crate) async fn complete(cli: &Cli, manager: &Manager, args: &CompleteArgs) -> Outcome {
    let usage = "complete SERVER (--prompt NAME | --resource TEMPLATE) ARG VALUE";
    let (server, argument, value) = match split(&args.positionals, &args.command, 2, usage) {
        Ok((server, [argument, value])) => (server, argument, value),
        Ok(_) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
        Err(message) => return Outcome::Usage(message),
    };
    // clap's group makes exactly one of them present.
    let reference = match (&args.prompt, &args.resource) {
        (Some(prompt), _) => Reference::for_prompt(prompt.clone()),
        (None, Some(template)) => Reference::for_resource(template.clone()),
        (None, None) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
    };
    let (_, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let params = CompleteRequestParams::new(reference, ArgumentInfo::new(argument, value));
    let result = match manager.complete(id, params).await {
        Ok(result) => result,
        Err(error) => return fail_request(cli, &error, "completions"),
    };
    if cli.json {
        render::print_json(&result);
        return Outcome::Ok;
    }
    for value in &result.completion.values {
        out!("{}", shown(value));
    }
    if result.completion.has_more_results() {
        let total = result
            .completion
            .total
            .map_or_else(String::new, |total| format!(" (of {total})"));
        eprintln!("more values exist{total}: type more of the value to narrow them");
    }
    Outcome::Ok
}

pub(crate) async fn list(cli: &Cli, manager: &Manager, args: &ListArgs) -> Outcome {
    let usage = "list SERVER tools|resources|templates|prompts";
    let (server, typed) = match split(&args.positionals, &args.command, 1, usage) {
        Ok((server, [kind])) => (server, kind),
        Ok(_) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
        Err(message) => return Outcome::Usage(message),
    };
    let Some(&(_, kind)) = KINDS.iter().find(|(name, _)| name == typed) else {
        let names: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
        return Outcome::Usage(format!(
            "unknown kind {typed:?}; list one of: {}",
            names.join(", ")
        ));
    };
    let (_, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let listing = match manager.listing(id) {
        Ok(listing) => listing,
        Err(error) => return fail(cli, error.code(), &error.to_string()),
    };
    // (name, description) per item; a resource is named by its URI, a template by its URI template.
    let (document, rows) = match kind {
        Kind::Tools => listed(&listing.tools, |tool| {
            (tool.name.to_string(), tool.description.as_deref())
        }),
        Kind::Resources => listed(&listing.resources, |resource| {
            (resource.uri.clone(), resource.description.as_deref())
        }),
        Kind::Templates => listed(&listing.resource_templates, |template| {
            (
                template.uri_template.clone(),
                template.description.as_deref(),
            )
        }),
        Kind::Prompts => listed(&listing.prompts, |prompt| {
            (prompt.name.clone(), prompt.description.as_deref())
        }),
    };
    if cli.json {
        render::print_json(&document);
        return Outcome::Ok;
    }
    for (name, description) in rows {
        match description {
            Some(description) if !description.is_empty() => {
                out!("{} - {}", shown(&name), shown(description));
            }
            _ => out!("{}", shown(&name)),
        }
    }
    Outcome::Ok
}

pub(crate) async fn ping(cli: &Cli, manager: &Manager, args: &PingArgs) -> Outcome {
    if args.server.is_some() && !args.command.is_empty() {
        return Outcome::Usage(
            "with a command after --, leave SERVER out: mcpcord ping -- COMMAND".to_owned(),
        );
    }
    let (name, id) = match connect(cli, manager, args.server.as_ref(), &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let round_trip = match manager.ping(id).await {
        Ok(round_trip) => round_trip,
        Err(error) => return fail_call(cli, &error, &error.to_string()),
    };
    // Microseconds matter: a local server answers in well under a millisecond.
    let ms = (round_trip.as_secs_f64() * 1_000_000.0).round() / 1_000.0;
    if cli.json {
        render::print_json(&json!({ "server": name, "ms": ms }));
    } else {
        out!("{}: {ms:.3} ms", shown(&name));
    }
    Outcome::Ok
}

pub(crate) async fn log_level(cli: &Cli, manager: &Manager, args: &LogLevelArgs) -> Outcome {
    let usage = "log-level SERVER LEVEL";
    let (server, typed) = match split(&args.positionals, &args.command, 1, usage) {
        Ok((server, [level])) => (server, level),
        Ok(_) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
        Err(message) => return Outcome::Usage(message),
    };
    let (name, level) = match parse_level(typed) {
        Ok(level) => level,
        Err(message) => return Outcome::Usage(message),
    };
    let (server, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    if let Err(error) = manager.set_log_level(id, level).await {
        return fail_request(cli, &error, "logging");
    }
    if cli.json {
        render::print_json(&json!({ "server": server, "level": name }));
    } else {
        out!("{}: log level set to {name}", shown(&server));
    }
    Outcome::Ok
}

/// One kind of item as `list` shows it: the items as JSON, and a (name, description) row each (a
/// resource is named by its URI, a template by its URI template).
fn listed<'a, T: serde::Serialize>(
    items: &'a [T],
    row: impl Fn(&'a T) -> (String, Option<&'a str>),
) -> (serde_json::Value, Vec<(String, Option<&'a str>)>) {
    (render::json_value(&items), items.iter().map(row).collect())
}
