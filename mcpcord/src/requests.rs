//! One MCP request per command: `read`, `prompt`, `complete`, `list`, `ping`, `log-level`.
//!
//! Each takes one server as `call` does (a configured name, a URL, or a command after `--`, then
//! the name is left out), checks its own arguments before connecting (a usage error is exit 2),
//! and prints the result: with `--json`, MCP's own JSON for it; else its text, every string the
//! server sent passed through `render::shown` or `render::shown_output`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use mcp_manager::{CallError, Manager, ServerId};
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
use rmcp::model::LoggingLevel;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, ContentBlock, Reference, ResourceContents, Role,
};
use serde_json::json;

use crate::commands::{fail, fail_to_connect, parse_args, single, with_progress};
use crate::render::{self, shown, shown_output};
use crate::{Cli, CompleteArgs, ListArgs, LogLevelArgs, Outcome, PingArgs, PromptArgs, ReadArgs};

/// The levels `log-level` accepts, by their MCP names.
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
const LEVELS: [(&str, LoggingLevel); 8] = [
    ("debug", LoggingLevel::Debug),
    ("info", LoggingLevel::Info),
    ("notice", LoggingLevel::Notice),
    ("warning", LoggingLevel::Warning),
    ("error", LoggingLevel::Error),
    ("critical", LoggingLevel::Critical),
    ("alert", LoggingLevel::Alert),
    ("emergency", LoggingLevel::Emergency),
];

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
    fail(cli, error.code(), &message)
}

/// The positionals after the server: the server (unless given after `--`) and the `wanted` rest.
fn split<'a>(
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
async fn connect(
    cli: &Cli,
    manager: &Manager,
    server: Option<&String>,
    command: &[String],
) -> Result<(String, ServerId), Outcome> {
    let (name, config) = single(cli, server, command).map_err(Outcome::Usage)?;
    match with_progress(cli, manager, manager.connect(&name, &config)).await {
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
    if let Some(dir) = &args.save
        && !dir.is_dir()
    {
        return Outcome::Usage(format!("--save: {} is not a directory", dir.display()));
    }
    let (_, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let result = match manager.read_resource(id, uri).await {
        Ok(result) => result,
        Err(error) => return fail_request(cli, &error, "resources"),
    };
    if let Some(dir) = &args.save {
        for contents in &result.contents {
            if let ResourceContents::BlobResourceContents { uri, blob, .. } = contents {
                match save_blob(dir, uri, blob) {
                    Ok(path) => eprintln!("saved {} to {}", shown(uri), path.display()),
                    Err(message) => return fail(cli, "save", &message),
                }
            }
        }
    }
    if cli.json {
        render::print_json(&serde_json::to_value(&result).unwrap_or_default());
        return Outcome::Ok;
    }
    for contents in &result.contents {
        match contents {
            ResourceContents::TextResourceContents { text, .. } => {
                out!("{}", shown_output(text));
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => {
                if args.save.is_some() {
                    continue;
                }
                let mime = shown(mime_type.as_deref().unwrap_or("unknown type"));
                match base64::engine::general_purpose::STANDARD.decode(blob) {
                    Ok(bytes) => out!(
                        "{}: binary, {mime}, {} bytes (save it with --save DIR)",
                        shown(uri),
                        bytes.len()
                    ),
                    Err(_) => out!(
                        "{}: binary, {mime}, {} characters of invalid base64",
                        shown(uri),
                        blob.len()
                    ),
                }
            }
            // A kind of contents newer than this client: as JSON, whose escapes need only a bound.
            #[allow(unreachable_patterns)]
            other => out!(
                "{}",
                shown_output(&serde_json::to_string(other).unwrap_or_default())
            ),
        }
    }
    Outcome::Ok
}

/// A file name for a resource: the last segment of its URI (without query or fragment), with
/// anything but ASCII letters, digits, `.`, `-` and `_` replaced by `_`, and never empty, `.`,
/// `..` or hidden. It holds no `/`, so it names a file directly in the directory it is joined to.
fn file_name(uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let name: String = last
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("resource{}", name.trim_start_matches('.'))
    } else {
        name
    }
}

/// Decodes `blob` into a new file in `dir`. An existing file (or a link planted in its place) is
/// never overwritten.
fn save_blob(dir: &Path, uri: &str, blob: &str) -> Result<PathBuf, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|error| format!("{uri}: the server sent invalid base64 ({error})"))?;
    let path = dir.join(file_name(uri));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    file.write_all(&bytes)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}

pub(crate) async fn prompt(cli: &Cli, manager: &Manager, args: &PromptArgs) -> Outcome {
    let usage = "prompt SERVER NAME [--args JSON]";
    let (server, name) = match split(&args.positionals, &args.command, 1, usage) {
        Ok((server, [name])) => (server, name),
        Ok(_) => return Outcome::Usage(format!("usage: mcpcord {usage}")),
        Err(message) => return Outcome::Usage(message),
    };
    let arguments = match parse_args(args.args.as_deref()) {
        Ok(arguments) => arguments,
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
    if cli.json {
        render::print_json(&serde_json::to_value(&result).unwrap_or_default());
        return Outcome::Ok;
    }
    for message in &result.messages {
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        match &message.content {
            ContentBlock::Text(text) => out!("{role}: {}", shown_output(&text.text)),
            // JSON escapes control characters; only the length needs a bound.
            other => out!(
                "{role}: {}",
                shown_output(&serde_json::to_string(other).unwrap_or_default())
            ),
        }
    }
    Outcome::Ok
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
        render::print_json(&serde_json::to_value(&result).unwrap_or_default());
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
    let (document, rows): (
        serde_json::Result<serde_json::Value>,
        Vec<(String, Option<&str>)>,
    ) = match kind {
        Kind::Tools => (
            serde_json::to_value(&listing.tools),
            listing
                .tools
                .iter()
                .map(|tool| (tool.name.to_string(), tool.description.as_deref()))
                .collect(),
        ),
        Kind::Resources => (
            serde_json::to_value(&listing.resources),
            listing
                .resources
                .iter()
                .map(|resource| (resource.uri.clone(), resource.description.as_deref()))
                .collect(),
        ),
        Kind::Templates => (
            serde_json::to_value(&listing.resource_templates),
            listing
                .resource_templates
                .iter()
                .map(|template| {
                    (
                        template.uri_template.clone(),
                        template.description.as_deref(),
                    )
                })
                .collect(),
        ),
        Kind::Prompts => (
            serde_json::to_value(&listing.prompts),
            listing
                .prompts
                .iter()
                .map(|prompt| (prompt.name.clone(), prompt.description.as_deref()))
                .collect(),
        ),
    };
    if cli.json {
        render::print_json(&document.unwrap_or_default());
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
        Err(error) => return fail(cli, error.code(), &error.to_string()),
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
    let Some(&(name, level)) = LEVELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(typed))
    else {
        let valid: Vec<&str> = LEVELS.iter().map(|(name, _)| *name).collect();
        return Outcome::Usage(format!(
            "unknown log level {typed:?}; valid levels: {}",
            valid.join(", ")
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_the_uris_last_segment_made_safe() {
        assert_eq!(file_name("demo://images/cat.png"), "cat.png");
        assert_eq!(file_name("file:///tmp/a%20b.txt?x=1#y"), "a_20b.txt");
        assert_eq!(file_name("demo://items/"), "items");
    }

    #[test]
    fn file_names_never_leave_the_directory_or_hide() {
        for uri in [
            "demo://x/..",
            "demo://x/.",
            "demo://x/.bashrc",
            "demo:",
            "",
            "/",
        ] {
            let name = file_name(uri);
            assert!(!name.is_empty(), "{uri:?}");
            assert!(!name.starts_with('.'), "{uri:?} gave {name:?}");
            assert!(!name.contains(['/', '\\', ':']), "{uri:?} gave {name:?}");
        }
    }
}
