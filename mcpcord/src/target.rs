//! Turning what the user typed into servers to connect: configured names, URLs, or a command,
//! the ad-hoc ones with the flags that shape them (`--env`, `--header`, `--retries`, ...).
//!
//! Those flags are refused (exit 2, naming the flag) for a configured server rather than applied
//! on top of its configuration: one place says how a configured server is reached, and a flag that
//! would silently not apply (a header for a stdio server) cannot be mistaken for one that did.

use std::path::PathBuf;
use std::time::Duration;

use mcp_manager::config::{Config, ProtocolEra, ServerConfig};
use mcp_manager::retry::RetryPolicy;
use mcp_manager::transport::EnvPolicy;

use crate::{AdHocArgs, Cli};

/// Which servers an ad-hoc flag is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum For {
    Stdio,
    Http,
    Both,
}

/// The ad-hoc flags, checked: what they change in the configuration of a server given ad hoc.
#[derive(Debug, Default)]
struct AdHoc {
    /// The flags given, by name, in the order `--help` lists them.
    given: Vec<(&'static str, For)>,
    env: Vec<(String, String)>,
    inherit_env: bool,
    cwd: Option<PathBuf>,
    headers: Vec<(String, String)>,
    bearer_env: Option<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    protocol: Option<ProtocolEra>,
}

impl AdHoc {
    fn parse(args: &AdHocArgs) -> Result<Self, String> {
        let mut ad_hoc = AdHoc {
            given: given(args),
            inherit_env: args.inherit_env,
            bearer_env: args.bearer_env.clone(),
            protocol: args.protocol.map(Into::into),
            ..AdHoc::default()
        };
        for text in &args.env {
            ad_hoc.env.push(env_var(text)?);
        }
        for text in &args.header {
            let (name, value) = header(text)?;
            if ad_hoc
                .headers
                .iter()
                .any(|(seen, _)| seen.eq_ignore_ascii_case(&name))
            {
                return Err(format!(
                    "--header {name} is given twice (header names ignore case); keep one"
                ));
            }
            ad_hoc.headers.push((name, value));
        }
        if let Some(variable) = &args.bearer_env
            && (variable.is_empty() || variable.contains('='))
        {
            return Err(format!(
                "--bearer-env takes the name of an environment variable, such as \
                 --bearer-env API_TOKEN; got {}",
                quoted(variable)
            ));
        }
        if let Some(cwd) = &args.cwd {
            // Absolute, so that an error names the directory the server was to run in.
            ad_hoc.cwd = Some(std::path::absolute(cwd).unwrap_or_else(|_| cwd.clone()));
        }
        ad_hoc.connect_timeout = duration("--connect-timeout", args.connect_timeout.as_deref())?;
        ad_hoc.request_timeout = duration("--request-timeout", args.request_timeout.as_deref())?;
        if let Some(attempts) = args.retries {
            let policy = RetryPolicy::builder()
                .max_attempts(attempts)
                .build()
                .map_err(|error| format!("--retries {attempts}: {error}"))?;
            ad_hoc.retry = Some(policy);
        }
        Ok(ad_hoc)
    }

    /// The first flag given that is not for `kind` servers.
    fn misplaced(&self, kind: For) -> Option<&'static str> {
        self.given
            .iter()
            .find(|(_, scope)| *scope != For::Both && *scope != kind)
            .map(|(flag, _)| *flag)
    }

    /// Refuses the flags for a configured server (`None`: every configured server).
    fn refuse_for_configured(&self, server: Option<&str>) -> Result<(), String> {
        let Some((flag, _)) = self.given.first() else {
            return Ok(());
        };
        let which = match server {
            Some(server) => format!("{server:?} is a configured server"),
            None => "the configured servers take theirs from the configuration".to_owned(),
        };
        Err(format!(
            "{flag} applies only to a server given ad hoc (an http(s):// URL or a command after \
             --); {which}: set it in the configuration file"
        ))
    }

    fn apply(&self, mut config: ServerConfig) -> ServerConfig {
        for (name, value) in &self.env {
            config = config.with_env(name, value);
        }
        if self.inherit_env {
            config = config.with_env_policy(EnvPolicy::InheritAll);
        }
        if let Some(cwd) = &self.cwd {
            config = config.with_cwd(cwd.clone());
        }
        for (name, value) in &self.headers {
            config = config.with_header(name, value);
        }
        if let Some(variable) = &self.bearer_env {
            config = config.with_bearer_token_env(variable);
        }
        if let Some(timeout) = self.connect_timeout {
            config = config.with_connect_timeout(timeout);
        }
        if let Some(timeout) = self.request_timeout {
            config = config.with_request_timeout(timeout);
        }
        if let Some(retry) = self.retry {
            config = config.with_retry(retry);
        }
        if let Some(protocol) = self.protocol {
            config = config.with_protocol(protocol);
        }
        config
    }
}

/// The ad-hoc flags given, by name, in the order `--help` lists them.
fn given(args: &AdHocArgs) -> Vec<(&'static str, For)> {
    [
        ("--env", For::Stdio, !args.env.is_empty()),
        ("--inherit-env", For::Stdio, args.inherit_env),
        ("--cwd", For::Stdio, args.cwd.is_some()),
        ("--header", For::Http, !args.header.is_empty()),
        ("--bearer-env", For::Http, args.bearer_env.is_some()),
        (
            "--connect-timeout",
            For::Both,
            args.connect_timeout.is_some(),
        ),
        (
            "--request-timeout",
            For::Both,
            args.request_timeout.is_some(),
        ),
        ("--retries", For::Both, args.retries.is_some()),
        ("--protocol", For::Both, args.protocol.is_some()),
    ]
    .into_iter()
    .filter(|(_, _, given)| *given)
    .map(|(flag, scope, _)| (flag, scope))
    .collect()
}

/// Refuses the ad-hoc flags for `command`, which connects to no server the user gives.
pub(crate) fn refuse_ad_hoc_flags(args: &AdHocArgs, command: &str) -> Result<(), String> {
    match given(args).first() {
        Some((flag, _)) => Err(format!(
            "{flag} applies to a server given ad hoc; {command} takes none"
        )),
        None => Ok(()),
    }
}

/// What the user typed, for a message: control characters escaped, at most 40 characters.
fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head:?}...")
    }
}

/// `--env NAME=VALUE`.
fn env_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!(
            "--env takes NAME=VALUE, such as --env DEBUG=1; got {}",
            quoted(text)
        )),
    }
}

/// `--header "NAME: VALUE"`, checked as the configuration checks its headers. The value is never
/// quoted back: it is often a secret (`Authorization: Bearer ...`), and messages end up in logs.
fn header(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        // Up to the first space only: "Authorization Bearer xyz" names the header, not the token.
        let head = text.split_whitespace().next().unwrap_or("");
        let more = if head.len() < text.trim().len() {
            "..."
        } else {
            ""
        };
        return Err(format!(
            "--header takes \"NAME: VALUE\", such as --header \"X-Api-Key: ...\"; {}{more} has \
             no colon",
            quoted(head)
        ));
    };
    let (name, value) = (name.trim(), value.trim());
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!(
            "--header {} is not a valid HTTP header name (letters, digits and \
             !#$%&'*+-.^_`|~; no spaces)",
            quoted(name)
        ));
    }
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!(
            "--header {name}: the value is not a valid HTTP header value (it holds a line break, \
             another control character or a non-ASCII character; not shown, as it may be a secret)"
        ));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// `--connect-timeout` or `--request-timeout`, in humantime's syntax (`30s`, `500ms`, `2m`).
fn duration(flag: &str, text: Option<&str>) -> Result<Option<Duration>, String> {
    let Some(text) = text else {
        return Ok(None);
    };
    match humantime::parse_duration(text) {
        Ok(duration) if !duration.is_zero() => Ok(Some(duration)),
        Ok(_) => Err(format!(
            "{flag} must be longer than 0; got {}",
            quoted(text)
        )),
        Err(cause) => Err(format!(
            "{flag} {} is not a duration ({cause}); write it like 30s, 500ms or 2m",
            quoted(text)
        )),
    }
}

/// Loads the configuration, if one is given or found.
fn load(cli: &Cli) -> Result<Option<Config>, String> {
    let Some(path) = Config::find(cli.config.as_deref()).map_err(|error| error.to_string())? else {
        return Ok(None);
    };
    let config = Config::from_path(&path).map_err(|error| error.to_string())?;
    if !cli.quiet {
        // Other clients' files are read leniently: what was ignored or skipped is said, once.
        let shown = path.display();
        for warning in &config.warnings {
            eprintln!("mcpcord: {shown}:{warning} (warning)");
        }
        for (name, problems) in &config.invalid {
            for problem in problems {
                eprintln!("mcpcord: {shown}:{problem}");
            }
            eprintln!("mcpcord: server {name} is skipped: its entry has the problems above");
        }
        for name in &config.disabled {
            eprintln!("mcpcord: server {name} is disabled in {shown}");
        }
    }
    Ok(Some(config))
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
fn one(
    config: &Option<Config>,
    ad_hoc: &AdHoc,
    server: &str,
) -> Result<(String, ServerConfig), String> {
    if server.starts_with("http://") || server.starts_with("https://") {
        // Checked here, as a configuration file's URLs are when it is read: a URL that cannot be
        // parsed is the user's typo (exit 2), not a server that failed (exit 1).
        let url = url::Url::parse(server).map_err(|cause| {
            format!(
                "{server:?} is not a valid URL ({cause}); write it in full, such as \
                 \"https://example.com/mcp\""
            )
        })?;
        if let Some(flag) = ad_hoc.misplaced(For::Http) {
            return Err(format!(
                "{flag} applies to a stdio server given after --; {server:?} is an HTTP server"
            ));
        }
        return Ok((server.to_owned(), ad_hoc.apply(ServerConfig::http(url))));
    }
    ad_hoc.refuse_for_configured(Some(server))?;
    match config {
        Some(config) => config
            .server(server)
            .map(|found| (server.to_owned(), found.clone()))
            .ok_or_else(|| {
                if config.disabled.iter().any(|name| name == server) {
                    return format!("server {server:?} is disabled in the configuration (\"disabled\": true)");
                }
                if config.invalid.iter().any(|(name, _)| name == server) {
                    return format!("server {server:?} is skipped: its configuration entry has problems (see above)");
                }
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
    let ad_hoc = AdHoc::parse(&cli.ad_hoc)?;
    if !command.is_empty() {
        if !servers.is_empty() {
            return Err("give either server names or a command after --, not both".to_owned());
        }
        if let Some(flag) = ad_hoc.misplaced(For::Stdio) {
            return Err(format!(
                "{flag} applies to an HTTP server given by URL, not to a command after --"
            ));
        }
        let program = command[0].clone();
        return Ok(vec![(
            command_name(command),
            ad_hoc.apply(ServerConfig::stdio(program, command[1..].to_vec())),
        )]);
    }
    let needs_config = servers.is_empty() || servers.iter().any(|server| !server.contains("://"));
    let config = if needs_config { load(cli)? } else { None };
    if servers.is_empty() {
        if !all_if_none {
            return Err("name a server (or give a command after --)".to_owned());
        }
        return match config {
            Some(config) if !config.servers.is_empty() => {
                ad_hoc.refuse_for_configured(None)?;
                Ok(config.servers)
            }
            _ => Err(
                "no servers configured: name one, give an http(s):// URL, or a command after --"
                    .to_owned(),
            ),
        };
    }
    servers
        .iter()
        .map(|server| one(&config, &ad_hoc, server))
        .collect()
}
