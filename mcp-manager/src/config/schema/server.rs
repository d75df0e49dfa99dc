//! The document's server list and each server entry: stdio (`command`) or HTTP (`url`), checked
//! against a JSON `"type"`, keys of the other transport refused, and the [`ServerConfig`] built.

use std::time::Duration;

use mcp_transport::EnvPolicy;

use super::super::document::{Entry, Format, Node, Value};
use super::super::suggest::did_you_mean;
use super::super::types::{
    HttpConfig, HttpTransportKind, ProtocolEra, ServerConfig, StdioConfig, TransportConfig,
};
use super::keys::{Fields, TYPE_KEY};
use super::{Schema, is_bare, join};

/// Which transport a server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stdio,
    Http,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Stdio => "stdio server",
            Kind::Http => "HTTP server",
        }
    }

    fn a_noun(self) -> &'static str {
        match self {
            Kind::Stdio => "a stdio server",
            Kind::Http => "an HTTP server",
        }
    }

    /// The key that makes a server this kind.
    fn key(self) -> &'static str {
        match self {
            Kind::Stdio => "command",
            Kind::Http => "url",
        }
    }
}

impl Schema<'_> {
    pub(super) fn document(&mut self, root: &Node) -> Vec<(String, ServerConfig)> {
        let Value::Table(entries) = &root.value else {
            self.report(
                &root.span,
                "",
                format!(
                    "a config file is an object with a \"mcpServers\" (or \"servers\") object, \
                     found {}",
                    root.value.describe(self.format)
                ),
            );
            return Vec::new();
        };
        let mut list: Option<&Entry> = None;
        for entry in self.unique(entries, "") {
            let is_list = entry.key == "servers"
                || (self.format == Format::Json && entry.key == "mcpServers");
            if is_list {
                if let Some(first) = list {
                    self.report(
                        &entry.key_span,
                        "",
                        format!(
                            "both {:?} and {:?} list servers; keep one",
                            first.key, entry.key
                        ),
                    );
                } else {
                    list = Some(entry);
                }
                continue;
            }
            match self.format {
                Format::Toml => self.unknown_key(entry, "", &["servers"]),
                // Claude Desktop's file also holds the application's own settings; only a key that
                // looks like a misspelt server list is an error.
                Format::Json => {
                    if did_you_mean(&entry.key, &["mcpServers", "servers"]).is_some() {
                        self.unknown_key(entry, "", &["mcpServers", "servers"]);
                    }
                }
            }
        }
        let Some(list) = list else {
            return Vec::new();
        };
        let path = join("", &list.key);
        let Some(entries) = self.table(&list.value, &path) else {
            return Vec::new();
        };
        let mut servers = Vec::new();
        for entry in self.unique(entries, &path) {
            if self.format == Format::Json && is_disabled(entry) {
                self.found.disabled.push(entry.key.clone());
                continue;
            }
            let server_path = join(&path, &entry.key);
            let before = self.problems.len();
            let named = is_bare(&entry.key);
            if !named {
                self.report(
                    &entry.key_span,
                    &server_path,
                    "a server name may use only letters, digits, \"_\" and \"-\" \
                     (it prefixes the names of the server's tools)",
                );
            }
            if let Some(server) = self.server(entry, &server_path)
                && named
            {
                servers.push((entry.key.clone(), server));
            }
            // Another client's file: one bad entry skips that server, not the whole file.
            if self.format == Format::Json && self.problems.len() > before {
                let problems = self.problems.split_off(before);
                self.found.invalid.push((entry.key.clone(), problems));
            }
        }
        servers
    }

    fn server(&mut self, server: &Entry, path: &str) -> Option<ServerConfig> {
        let entries = self.table(&server.value, path)?;
        let before = self.problems.len();
        let f = self.fields(entries, path);
        let kind = self.kind(server, &f, path);
        let http_transport = self.http_transport(&f, path);
        if let Some(kind) = kind {
            self.foreign_keys(&f, kind, path);
        }

        let sub = |entry: &Entry| join(path, &entry.key);
        // Checked for its type only: a disabled server never gets here.
        let _ = f.disabled.and_then(|e| self.bool(&e.value, &sub(e)));
        let command = f.command.and_then(|e| {
            let text = self.non_empty_string(&e.value, &sub(e))?;
            self.paths_expanded(&e.value, &sub(e), text)
        });
        let args = f.args.and_then(|e| {
            let args = self.string_list(&e.value, &sub(e))?;
            args.iter()
                .map(|arg| self.paths_expanded(&e.value, &sub(e), arg))
                .collect::<Option<Vec<_>>>()
        });
        // Read only for a stdio server: on any other it is already a problem.
        let env_file = f
            .env_file
            .filter(|_| kind == Some(Kind::Stdio))
            .and_then(|e| self.env_file(&e.value, &sub(e)));
        let env = match f.env {
            Some(e) => self.env_vars(&e.value, &sub(e)),
            None => Some(Default::default()),
        };
        let cwd = f.cwd.and_then(|e| self.cwd(&e.value, &sub(e)));
        let inherit_env = f.inherit_env.and_then(|e| self.bool(&e.value, &sub(e)));
        let url = f.url.and_then(|e| self.http_url(&e.value, &sub(e)));
        let headers = f.headers.and_then(|e| self.headers(&e.value, &sub(e)));
        let bearer_token_env = f
            .bearer_token_env
            .and_then(|e| self.env_name(&e.value, &sub(e), "the token"));
        let auth = f.auth.and_then(|e| self.auth(&e.value, &sub(e)));
        let oauth = f.oauth.and_then(|e| self.oauth(&e.value, &sub(e)));
        let connect_timeout = f
            .connect_timeout
            .and_then(|e| self.duration(&e.value, &sub(e), false));
        let request_timeout = f
            .request_timeout
            .and_then(|e| self.duration(&e.value, &sub(e), false));
        let foreign_timeout = self.foreign_timeout(&f, path);
        let request_timeout = request_timeout.or(foreign_timeout);
        let keep_alive = f
            .keep_alive
            .and_then(|e| self.duration(&e.value, &sub(e), false));
        let auto_recover = f.auto_recover.and_then(|e| self.bool(&e.value, &sub(e)));
        let retry = f.retry.and_then(|e| self.retry(e, &sub(e)));
        let protocol = f
            .protocol
            .and_then(|e| self.protocol_era(&e.value, &sub(e)));

        if kind == Some(Kind::Http) {
            self.http_consistency(&f, auth, path);
        }
        if self.problems.len() > before {
            return None;
        }

        let transport = match kind? {
            Kind::Stdio => TransportConfig::Stdio(StdioConfig {
                command: command?,
                args: args.unwrap_or_default(),
                // The file's own `env` wins over the `envFile`'s.
                env: env_file
                    .unwrap_or_default()
                    .into_iter()
                    .chain(env?)
                    .collect(),
                cwd,
                env_policy: if inherit_env.unwrap_or(false) {
                    EnvPolicy::InheritAll
                } else {
                    EnvPolicy::Safe
                },
            }),
            Kind::Http => TransportConfig::Http(HttpConfig {
                url: url?,
                headers: headers.unwrap_or_default(),
                bearer_token_env,
                auth: auth.unwrap_or_default(),
                oauth,
                transport: http_transport?,
            }),
        };
        let mut config = ServerConfig::new(transport);
        if let Some(timeout) = connect_timeout {
            config.connect_timeout = timeout;
        }
        if let Some(timeout) = request_timeout {
            config.request_timeout = timeout;
        }
        if let Some(retry) = retry {
            config.retry = retry;
        }
        config.keep_alive = keep_alive;
        if let Some(auto_recover) = auto_recover {
            config.auto_recover = auto_recover;
        }
        if let Some(protocol) = protocol {
            config.protocol = protocol;
        }
        Some(config)
    }

    /// stdio or HTTP, from `command` or `url`, checked against a JSON `"type"`.
    fn kind(&mut self, server: &Entry, f: &Fields<'_>, path: &str) -> Option<Kind> {
        let declared = f
            .kind
            .and_then(|e| self.declared_kind(&e.value, &join(path, TYPE_KEY)));
        let rejected_type = f.kind.is_some() && declared.is_none();
        let kind = match (f.command, f.url) {
            (Some(command), Some(url)) => {
                let later = if command.key_span.start > url.key_span.start {
                    command
                } else {
                    url
                };
                self.report(
                    &later.key_span,
                    path,
                    "a server has either \"command\" (stdio) or \"url\" (streamable HTTP), \
                     not both",
                );
                return None;
            }
            (Some(_), None) => Kind::Stdio,
            (None, Some(_)) => Kind::Http,
            (None, None) => {
                let message = match declared {
                    Some(Kind::Stdio) => "a stdio server needs \"command\"",
                    Some(Kind::Http) => "an HTTP server needs \"url\"",
                    // The type's own problem says enough.
                    None if rejected_type => return None,
                    None => {
                        "needs \"command\" (to run a stdio server) or \"url\" (to reach a \
                         streamable HTTP server)"
                    }
                };
                self.report(&server.key_span, path, message);
                return None;
            }
        };
        if let (Some(declared), Some(entry)) = (declared, f.kind)
            && declared != kind
        {
            self.report(
                &entry.value.span,
                &join(path, TYPE_KEY),
                format!(
                    "declares {} but the server has {:?}, which makes it {}",
                    declared.a_noun(),
                    kind.key(),
                    kind.a_noun()
                ),
            );
            return None;
        }
        Some(kind)
    }

    fn declared_kind(&mut self, node: &Node, path: &str) -> Option<Kind> {
        match self.string(node, path)? {
            "stdio" => Some(Kind::Stdio),
            "http" | "streamable-http" | "streamableHttp" | "sse" => Some(Kind::Http),
            other => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "unknown transport type {other:?}; use \"stdio\", \"http\" (streamable \
                         HTTP) or \"sse\" (the legacy HTTP+SSE transport)"
                    ),
                );
                None
            }
        }
    }

    /// Which protocol era: `protocol = "auto" | "modern" | "legacy"`.
    fn protocol_era(&mut self, value: &Node, path: &str) -> Option<ProtocolEra> {
        let name = self.string(value, path)?;
        let era = ProtocolEra::from_name(name);
        if era.is_none() {
            self.report(
                &value.span,
                path,
                format!(
                    "unknown protocol era {name:?}; use \"auto\" (found out, the default), \
                     \"modern\" (2026-07-28: server/discover, no initialize) or \"legacy\" \
                     (initialize, 2025-11-25 and before)"
                ),
            );
        }
        era
    }

    /// Which HTTP transport: `transport = "..."`, or a JSON `"type"` that names one (`"sse"`,
    /// `"http"`); both given must agree. `None` after a reported problem.
    fn http_transport(&mut self, f: &Fields<'_>, path: &str) -> Option<HttpTransportKind> {
        let from_type = f.kind.and_then(|entry| match &entry.value.value {
            Value::String(name) => http_transport_named(name),
            _ => None,
        });
        let Some(entry) = f.transport else {
            return Some(from_type.unwrap_or_default());
        };
        let key_path = join(path, "transport");
        let name = self.string(&entry.value, &key_path)?;
        let Some(named) =
            http_transport_named(name).or((name == "auto").then_some(HttpTransportKind::Auto))
        else {
            self.report(
                &entry.value.span,
                &key_path,
                format!(
                    "unknown HTTP transport {name:?}; use \"auto\" (found out, the default), \
                     \"streamable-http\" or \"sse\" (the legacy HTTP+SSE transport)"
                ),
            );
            return None;
        };
        if let Some(declared) = from_type
            && declared != named
        {
            self.report(
                &entry.value.span,
                &key_path,
                format!(
                    "says {:?} but \"type\" says {:?}",
                    named.as_str(),
                    declared.as_str()
                ),
            );
            return None;
        }
        Some(named)
    }

    /// Another client's `"timeout"`, as the request timeout when its meaning is clear.
    ///
    /// A string with a unit (`"90s"`) is. A bare number is not: Cline and Roo Code read it as
    /// seconds, Claude Code and Gemini CLI as milliseconds, and guessing wrong by a factor of 1000
    /// is worse than the default, so it is ignored with a warning. Our own `request_timeout` wins
    /// over it.
    fn foreign_timeout(&mut self, f: &Fields<'_>, path: &str) -> Option<Duration> {
        let entry = f.timeout?;
        let key_path = join(path, "timeout");
        if f.request_timeout.is_some() {
            self.warn(
                &entry.key_span,
                &key_path,
                "ignored: \"request_timeout\" is set",
            );
            return None;
        }
        match &entry.value.value {
            Value::Integer(_) | Value::Float(_) => {
                self.warn(
                    &entry.value.span,
                    &key_path,
                    "ignored: a number without a unit is seconds to some clients and \
                     milliseconds to others; write \"request_timeout\": \"60s\" (or \"timeout\": \
                     \"60s\")",
                );
                None
            }
            _ => self.duration(&entry.value, &key_path, false),
        }
    }

    /// Keys that belong to the other transport are mistakes, not things to ignore.
    fn foreign_keys(&mut self, f: &Fields<'_>, kind: Kind, path: &str) {
        let (foreign, owner) = match kind {
            Kind::Stdio => (
                vec![f.headers, f.bearer_token_env, f.auth, f.oauth, f.transport],
                Kind::Http,
            ),
            Kind::Http => (
                vec![f.args, f.env, f.env_file, f.cwd, f.inherit_env],
                Kind::Stdio,
            ),
        };
        for entry in foreign.into_iter().flatten() {
            self.report(
                &entry.key_span,
                path,
                format!(
                    "{:?} applies only to {}s (ones with {:?}); this is {} (it has {:?})",
                    entry.key,
                    owner.noun(),
                    owner.key(),
                    kind.a_noun(),
                    kind.key()
                ),
            );
        }
    }
}

/// Whether a server entry says `"disabled": true` (Claude Desktop, Cursor, Cline, Windsurf): it is
/// then listed as disabled and not checked further, so a half-finished entry can be switched off.
fn is_disabled(entry: &Entry) -> bool {
    let Value::Table(entries) = &entry.value.value else {
        return false;
    };
    entries
        .iter()
        .any(|e| e.key == "disabled" && e.value.value == Value::Bool(true))
}

/// The HTTP transport a `"type"` or `transport` value names, if it names one.
///
/// `"http"` is found out, as VS Code does with it: the JSON forms use it for any remote server,
/// legacy ones included; the explicit names fix one.
fn http_transport_named(name: &str) -> Option<HttpTransportKind> {
    match name {
        "http" => Some(HttpTransportKind::Auto),
        "streamable-http" | "streamableHttp" => Some(HttpTransportKind::StreamableHttp),
        "sse" => Some(HttpTransportKind::LegacySse),
        _ => None,
    }
}
