//! Turning what the user typed into servers to connect: configured names, URLs, or a command.

use mcp_manager::config::{Config, ServerConfig};

use crate::Cli;

/// Loads the configuration, if one is given or found.
fn load(cli: &Cli) -> Result<Option<Config>, String> {
    let Some(path) = Config::find(cli.config.as_deref()).map_err(|error| error.to_string())? else {
        return Ok(None);
    };
    Config::from_path(&path)
        .map(Some)
        .map_err(|error| error.to_string())
}

/// A name for an ad-hoc server: its program's file name.
fn command_name(command: &[String]) -> String {
    command
        .first()
        .map(|program| {
            std::path::Path::new(program).file_name().map_or_else(
                || program.clone(),
                |name| name.to_string_lossy().into_owned(),
            )
        })
        .unwrap_or_else(|| "server".to_owned())
}

/// One server given as a name or URL.
fn one(config: &Option<Config>, server: &str) -> Result<(String, ServerConfig), String> {
    if server.starts_with("http://") || server.starts_with("https://") {
        // Checked here, as a configuration file's URLs are when it is read: a URL that cannot be
        // parsed is the user's typo (exit 2), not a server that failed (exit 1).
        let url = url::Url::parse(server).map_err(|cause| {
            format!(
                "{server:?} is not a valid URL ({cause}); write it in full, such as \
                 \"https://example.com/mcp\""
            )
        })?;
        return Ok((server.to_owned(), ServerConfig::http(url)));
    }
    match config {
        Some(config) => config
            .server(server)
            .map(|found| (server.to_owned(), found.clone()))
            .ok_or_else(|| {
                let known: Vec<&str> = config
                    .servers
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect();
                format!(
                    "no server named {server:?} in the configuration (known: {})",
                    known.join(", ")
                )
            }),
        None => Err(format!(
            "no configuration file to look {server:?} up in (use --config, $MCPCORD_CONFIG, ./mcpcord.toml or ./.mcp.json), \
             or give an http(s):// URL, or a command after --"
        )),
    }
}

/// The servers to work on: the ad-hoc command if given, else the named ones, else (when `all_if_none`)
/// every configured server.
pub(crate) fn resolve(
    cli: &Cli,
    servers: &[String],
    command: &[String],
    all_if_none: bool,
) -> Result<Vec<(String, ServerConfig)>, String> {
    if !command.is_empty() {
        if !servers.is_empty() {
            return Err("give either server names or a command after --, not both".to_owned());
        }
        let program = command[0].clone();
        return Ok(vec![(
            command_name(command),
            ServerConfig::stdio(program, command[1..].to_vec()),
        )]);
    }
    let needs_config = servers.is_empty() || servers.iter().any(|server| !server.contains("://"));
    let config = if needs_config { load(cli)? } else { None };
    if servers.is_empty() {
        if !all_if_none {
            return Err("name a server (or give a command after --)".to_owned());
        }
        return match config {
            Some(config) if !config.servers.is_empty() => Ok(config.servers),
            _ => Err(
                "no servers configured: name one, give an http(s):// URL, or a command after --"
                    .to_owned(),
            ),
        };
    }
    servers.iter().map(|server| one(&config, server)).collect()
}
