//! What a configuration may say: the keys of a server, their types and their rules.
//!
//! Walks a [`Node`] tree (from either format), builds the servers, and collects every problem on
//! the way rather than stopping at the first, so one run shows the user everything to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_retry::{Jitter, RetryPolicy};
use mcp_transport::stdio::EnvPolicy;
use serde::Deserialize;
use serde::de::value::{Error as PlainError, StrDeserializer};

use super::document::{Entry, Format, Node, Span, Value, table_word};
use super::placeholder::{EnvLookup, expand, is_env_name};
use super::suggest::did_you_mean;
use super::types::{
    AuthMode, HttpConfig, OAuthConfig, OAuthGrant, ServerConfig, StdioConfig, TransportConfig,
};

/// Keys only a stdio server takes.
const STDIO_KEYS: &[&str] = &["command", "args", "env", "cwd", "inherit_env"];
/// Keys only an HTTP server takes.
const HTTP_KEYS: &[&str] = &["url", "headers", "bearer_token_env", "auth", "oauth"];
/// Keys every server takes.
const COMMON_KEYS: &[&str] = &[
    "connect_timeout",
    "request_timeout",
    "keep_alive",
    "auto_recover",
    "retry",
];
/// The JSON forms also say which transport a server uses.
const TYPE_KEY: &str = "type";
/// Keys of the `oauth` table.
const OAUTH_KEYS: &[&str] = &[
    "client_id",
    "client_secret_env",
    "scopes",
    "callback_port",
    "client_metadata_url",
    "grant",
    "token_endpoint_auth_method",
    "private_key_env",
    "idp_token_endpoint",
    "idp_client_id",
    "id_token_env",
];
/// The token endpoint authentication methods a pre-registered client may use.
const AUTH_METHODS: &[&str] = &[
    "none",
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];
/// Keys of `mcp_retry`'s table form, its alias included; a test holds this list to that form.
pub(super) const RETRY_KEYS: &[&str] = &[
    "attempts",
    "max_attempts",
    "base_delay",
    "max_delay",
    "factor",
    "jitter",
    "max_elapsed",
];
/// What other clients call our keys, for "did you mean".
const OTHER_CLIENTS_NAMES: &[(&str, &str)] = &[
    ("serverUrl", "url"),
    ("httpUrl", "url"),
    ("workingDirectory", "cwd"),
];

/// One problem, located by byte offset; the loader turns offsets into lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawProblem {
    pub(super) offset: usize,
    pub(super) key: String,
    pub(super) message: String,
}

/// The servers a document describes, in file order, or every problem with it.
pub(super) fn read_servers(
    root: &Node,
    format: Format,
    base_dir: &Path,
    env: EnvLookup<'_>,
) -> Result<Vec<(String, ServerConfig)>, Vec<RawProblem>> {
    let mut schema = Schema {
        format,
        base_dir,
        env,
        problems: Vec::new(),
    };
    let servers = schema.document(root);
    if schema.problems.is_empty() {
        Ok(servers)
    } else {
        Err(schema.problems)
    }
}

struct Schema<'a> {
    format: Format,
    /// The config file's directory, against which a relative `cwd` is resolved.
    base_dir: &'a Path,
    env: EnvLookup<'a>,
    problems: Vec<RawProblem>,
}

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

/// A server's entries, by key.
#[derive(Default)]
struct Fields<'n> {
    command: Option<&'n Entry>,
    args: Option<&'n Entry>,
    env: Option<&'n Entry>,
    cwd: Option<&'n Entry>,
    inherit_env: Option<&'n Entry>,
    url: Option<&'n Entry>,
    headers: Option<&'n Entry>,
    bearer_token_env: Option<&'n Entry>,
    auth: Option<&'n Entry>,
    oauth: Option<&'n Entry>,
    connect_timeout: Option<&'n Entry>,
    request_timeout: Option<&'n Entry>,
    keep_alive: Option<&'n Entry>,
    auto_recover: Option<&'n Entry>,
    retry: Option<&'n Entry>,
    kind: Option<&'n Entry>,
}

impl Schema<'_> {
    fn report(&mut self, span: &Span, key: &str, message: impl Into<String>) {
        self.problems.push(RawProblem {
            offset: span.start,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    /// "expected X, found Y" at `node`.
    fn expected(&mut self, node: &Node, path: &str, what: &str) {
        let found = node.value.describe(self.format);
        let hint = match &node.value {
            Value::Integer(_) | Value::Float(_) | Value::Bool(_) if what.contains("string") => {
                format!(" (in quotes: \"{}\")", scalar_text(&node.value))
            }
            Value::String(_) if what.contains("array") => {
                " (write a list, such as [\"a\", \"b\"])".to_owned()
            }
            _ => String::new(),
        };
        self.report(
            &node.span,
            path,
            format!("expected {what}, found {found}{hint}"),
        );
    }

    fn unknown_key(&mut self, entry: &Entry, path: &str, known: &[&str]) {
        let suggestion = did_you_mean(&entry.key, known).or_else(|| {
            OTHER_CLIENTS_NAMES
                .iter()
                .find(|(theirs, ours)| *theirs == entry.key && known.contains(ours))
                .map(|(_, ours)| *ours)
        });
        let message = match suggestion {
            Some(key) => format!("unknown key {:?} (did you mean {key:?}?)", entry.key),
            None => format!(
                "unknown key {:?} (known keys: {})",
                entry.key,
                known.join(", ")
            ),
        };
        self.report(&entry.key_span, path, message);
    }

    /// The entries of a table with repeated keys reported and dropped (JSON allows writing a key
    /// twice; which one wins is not something a user should have to guess).
    fn unique<'n>(&mut self, entries: &'n [Entry], path: &str) -> Vec<&'n Entry> {
        let mut seen: Vec<&'n Entry> = Vec::with_capacity(entries.len());
        for entry in entries {
            if seen.iter().any(|earlier| earlier.key == entry.key) {
                self.report(
                    &entry.key_span,
                    path,
                    format!("key {:?} is written twice; keep one", entry.key),
                );
            } else {
                seen.push(entry);
            }
        }
        seen
    }

    fn table<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Entry]> {
        match &node.value {
            Value::Table(entries) => Some(entries),
            _ => {
                self.expected(node, path, table_word(self.format));
                None
            }
        }
    }

    fn string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        match &node.value {
            Value::String(s) => Some(s),
            _ => {
                self.expected(node, path, "a string");
                None
            }
        }
    }

    fn non_empty_string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        let s = self.string(node, path)?;
        if s.trim().is_empty() {
            self.report(&node.span, path, "is empty");
            return None;
        }
        Some(s)
    }

    fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.expected(node, path, "true or false");
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let Value::Array(items) = &node.value else {
            self.expected(node, path, "an array of strings");
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.string(item, &format!("{path}[{i}]")) {
                Some(s) => strings.push(s.to_owned()),
                None => ok = false,
            }
        }
        ok.then_some(strings)
    }

    /// A variable name for a secret: checked, never quoted back (it may be the secret itself).
    fn env_name(&mut self, node: &Node, path: &str, holds: &str) -> Option<String> {
        let name = self.string(node, path)?;
        if is_env_name(name) {
            Some(name.to_owned())
        } else {
            self.report(
                &node.span,
                path,
                format!(
                    "must be the name of the environment variable that holds {holds} \
                     (letters, digits and \"_\", not starting with a digit), not {holds} itself"
                ),
            );
            None
        }
    }

    /// A string with its `${env:NAME}` placeholders expanded.
    fn expanded(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.string(node, path)?;
        match expand(text, self.env) {
            Ok(value) => Some(value),
            Err(problems) => {
                for problem in problems {
                    self.report(&node.span, path, problem);
                }
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, path: &str, zero_allowed: bool) -> Option<Duration> {
        match &node.value {
            Value::String(text) => match humantime::parse_duration(text) {
                Ok(duration) if duration.is_zero() && !zero_allowed => {
                    self.report(&node.span, path, "must be longer than zero");
                    None
                }
                Ok(duration) => Some(duration),
                Err(cause) => {
                    self.report(
                        &node.span,
                        path,
                        format!(
                            "invalid duration {text:?} ({cause}); write a number and a unit, \
                             such as \"250ms\", \"30s\" or \"2m\""
                        ),
                    );
                    None
                }
            },
            Value::Integer(n) => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "expected a duration with a unit, found the number {n} \
                         (write \"{n}s\" for seconds or \"{n}ms\" for milliseconds)"
                    ),
                );
                None
            }
            _ => {
                self.expected(node, path, "a duration such as \"30s\"");
                None
            }
        }
    }

    /// An `http://` or `https://` URL, kept as written.
    fn http_url(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.string(node, path)?;
        if text.contains("${") {
            self.report(
                &node.span,
                path,
                "placeholders are not expanded in a URL; pass secrets in \"headers\" \
                 (such as \"Authorization\": \"Bearer ${env:TOKEN}\") or with \"bearer_token_env\"",
            );
            return None;
        }
        let url = self.url(node, path, text)?;
        if matches!(url.scheme(), "http" | "https") {
            Some(text.to_owned())
        } else {
            self.report(
                &node.span,
                path,
                format!(
                    "{} is not an http:// or https:// URL",
                    shown_url(text, &url)
                ),
            );
            None
        }
    }

    fn url(&mut self, node: &Node, path: &str, text: &str) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(url) => Some(url),
            Err(cause) => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "{text:?} is not a URL ({cause}); write it in full, such as \
                         \"https://example.com/mcp\""
                    ),
                );
                None
            }
        }
    }

    fn document(&mut self, root: &Node) -> Vec<(String, ServerConfig)> {
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
            let server_path = join(&path, &entry.key);
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
        }
        servers
    }

    fn server_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = [STDIO_KEYS, HTTP_KEYS, COMMON_KEYS].concat();
        if self.format == Format::Json {
            keys.push(TYPE_KEY);
        }
        keys
    }

    fn fields<'n>(&mut self, entries: &'n [Entry], path: &str) -> Fields<'n> {
        let mut fields = Fields::default();
        let known = self.server_keys();
        for entry in self.unique(entries, path) {
            let slot = match entry.key.as_str() {
                "command" => &mut fields.command,
                "args" => &mut fields.args,
                "env" => &mut fields.env,
                "cwd" => &mut fields.cwd,
                "inherit_env" => &mut fields.inherit_env,
                "url" => &mut fields.url,
                "headers" => &mut fields.headers,
                "bearer_token_env" => &mut fields.bearer_token_env,
                "auth" => &mut fields.auth,
                "oauth" => &mut fields.oauth,
                "connect_timeout" => &mut fields.connect_timeout,
                "request_timeout" => &mut fields.request_timeout,
                "keep_alive" => &mut fields.keep_alive,
                "auto_recover" => &mut fields.auto_recover,
                "retry" => &mut fields.retry,
                TYPE_KEY if self.format == Format::Json => &mut fields.kind,
                _ => {
                    self.unknown_key(entry, path, &known);
                    continue;
                }
            };
            *slot = Some(entry);
        }
        fields
    }

    fn server(&mut self, server: &Entry, path: &str) -> Option<ServerConfig> {
        let entries = self.table(&server.value, path)?;
        let before = self.problems.len();
        let f = self.fields(entries, path);
        let kind = self.kind(server, &f, path);
        if let Some(kind) = kind {
            self.foreign_keys(&f, kind, path);
        }

        let sub = |entry: &Entry| join(path, &entry.key);
        let command = f
            .command
            .and_then(|e| self.non_empty_string(&e.value, &sub(e)))
            .map(str::to_owned);
        let args = f.args.and_then(|e| self.string_list(&e.value, &sub(e)));
        let env = f.env.and_then(|e| self.env_vars(&e.value, &sub(e)));
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
        let keep_alive = f
            .keep_alive
            .and_then(|e| self.duration(&e.value, &sub(e), false));
        let auto_recover = f.auto_recover.and_then(|e| self.bool(&e.value, &sub(e)));
        let retry = f.retry.and_then(|e| self.retry(e, &sub(e)));

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
                env: env.unwrap_or_default(),
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
            "http" | "streamable-http" | "streamableHttp" => Some(Kind::Http),
            "sse" => {
                self.report(
                    &node.span,
                    path,
                    "the legacy SSE transport (\"sse\") is not supported; use the server's \
                     streamable HTTP endpoint (\"type\": \"http\"), often the same URL with \
                     /mcp in place of /sse",
                );
                None
            }
            other => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "unknown transport type {other:?}; use \"stdio\" or \"http\" \
                         (streamable HTTP)"
                    ),
                );
                None
            }
        }
    }

    /// Keys that belong to the other transport are mistakes, not things to ignore.
    fn foreign_keys(&mut self, f: &Fields<'_>, kind: Kind, path: &str) {
        let (foreign, owner) = match kind {
            Kind::Stdio => ([f.headers, f.bearer_token_env, f.auth, f.oauth], Kind::Http),
            Kind::Http => ([f.args, f.env, f.cwd, f.inherit_env], Kind::Stdio),
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

impl Schema<'_> {
    fn env_vars(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        let entries = self.table(node, path)?;
        let mut vars = BTreeMap::new();
        let mut ok = true;
        for entry in self.unique(entries, path) {
            let var_path = join(path, &entry.key);
            if entry.key.is_empty() || entry.key.contains(['=', '\0']) {
                self.report(
                    &entry.key_span,
                    &var_path,
                    "is not a valid environment variable name (it must be non-empty, without \"=\")",
                );
                ok = false;
            }
            let Some(value) = self.expanded(&entry.value, &var_path) else {
                ok = false;
                continue;
            };
            if value.contains('\0') {
                self.report(&entry.value.span, &var_path, "contains a NUL character");
                ok = false;
            }
            vars.insert(entry.key.clone(), value);
        }
        ok.then_some(vars)
    }

    /// The working directory, relative to the config file's directory unless absolute.
    fn cwd(&mut self, node: &Node, path: &str) -> Option<PathBuf> {
        let dir = self.non_empty_string(node, path)?;
        // `components()` drops the `.` segments that `cwd = "."` would otherwise leave behind.
        Some(self.base_dir.join(dir).components().collect())
    }

    fn headers(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        let entries = self.table(node, path)?;
        let mut headers = BTreeMap::new();
        let mut names = BTreeSet::new();
        let mut ok = true;
        for entry in self.unique(entries, path) {
            let header_path = join(path, &entry.key);
            if http::HeaderName::from_bytes(entry.key.as_bytes()).is_err() {
                self.report(
                    &entry.key_span,
                    &header_path,
                    format!(
                        "{:?} is not a valid HTTP header name (letters, digits and \
                         !#$%&'*+-.^_`|~; no spaces or colons)",
                        entry.key
                    ),
                );
                ok = false;
            } else if !names.insert(entry.key.to_ascii_lowercase()) {
                self.report(
                    &entry.key_span,
                    &header_path,
                    "is written twice (header names ignore case); keep one",
                );
                ok = false;
            }
            let Some(value) = self.expanded(&entry.value, &header_path) else {
                ok = false;
                continue;
            };
            if http::HeaderValue::from_str(&value).is_err() {
                // The value is not quoted back: it may hold a secret read from the environment.
                let expanded =
                    matches!(&entry.value.value, Value::String(raw) if raw.contains("${env:"));
                let when = if expanded {
                    " once its placeholders are expanded"
                } else {
                    ""
                };
                self.report(
                    &entry.value.span,
                    &header_path,
                    format!(
                        "is not a valid HTTP header value{when}: it contains a line break or \
                         another control character"
                    ),
                );
                ok = false;
                continue;
            }
            headers.insert(entry.key.clone(), value);
        }
        ok.then_some(headers)
    }

    fn auth(&mut self, node: &Node, path: &str) -> Option<AuthMode> {
        match self.string(node, path)? {
            "auto" => Some(AuthMode::Auto),
            "oauth" => Some(AuthMode::OAuth),
            "bearer" => Some(AuthMode::Bearer),
            "none" => Some(AuthMode::None),
            // Not quoted back: a token pasted here by mistake must not end up in a log.
            _ => {
                self.report(
                    &node.span,
                    path,
                    "must be \"auto\", \"oauth\", \"bearer\" or \"none\"",
                );
                None
            }
        }
    }

    fn oauth(&mut self, node: &Node, path: &str) -> Option<OAuthConfig> {
        let entries = self.table(node, path)?;
        let before = self.problems.len();
        let mut oauth = OAuthConfig::default();
        let mut client_id_given = false;
        let mut secret_entry = None;
        for entry in self.unique(entries, path) {
            let key_path = join(path, &entry.key);
            match entry.key.as_str() {
                "client_id" => {
                    client_id_given = true;
                    oauth.client_id = self
                        .non_empty_string(&entry.value, &key_path)
                        .map(str::to_owned);
                }
                "client_secret_env" => {
                    secret_entry = Some(entry);
                    oauth.client_secret_env =
                        self.env_name(&entry.value, &key_path, "the client secret");
                }
                "scopes" => {
                    if let Some(scopes) = self.scopes(&entry.value, &key_path) {
                        oauth.scopes = scopes;
                    }
                }
                "callback_port" => oauth.callback_port = self.port(&entry.value, &key_path),
                "client_metadata_url" => {
                    oauth.client_metadata_url = self.metadata_url(&entry.value, &key_path);
                }
                "grant" => match self.string(&entry.value, &key_path) {
                    Some("authorization_code") => oauth.grant = OAuthGrant::AuthorizationCode,
                    Some("client_credentials") => oauth.grant = OAuthGrant::ClientCredentials,
                    Some("enterprise_managed") => oauth.grant = OAuthGrant::EnterpriseManaged,
                    Some(_) => self.report(
                        &entry.value.span,
                        &key_path,
                        "must be \"authorization_code\", \"client_credentials\" or \"enterprise_managed\"",
                    ),
                    None => {}
                },
                "token_endpoint_auth_method" => match self.string(&entry.value, &key_path) {
                    Some(method) if AUTH_METHODS.contains(&method) => {
                        oauth.token_endpoint_auth_method = Some(method.to_owned());
                    }
                    Some(_) => self.report(
                        &entry.value.span,
                        &key_path,
                        format!("must be one of {}", quoted_list(AUTH_METHODS)),
                    ),
                    None => {}
                },
                "private_key_env" => {
                    oauth.private_key_env =
                        self.env_name(&entry.value, &key_path, "the client's private key");
                }
                "idp_token_endpoint" => {
                    oauth.idp_token_endpoint = self.metadata_url(&entry.value, &key_path);
                }
                "idp_client_id" => {
                    oauth.idp_client_id = self
                        .non_empty_string(&entry.value, &key_path)
                        .map(str::to_owned);
                }
                "id_token_env" => {
                    oauth.id_token_env =
                        self.env_name(&entry.value, &key_path, "the user's ID token");
                }
                _ => self.unknown_key(entry, path, OAUTH_KEYS),
            }
        }
        if let (Some(entry), false) = (secret_entry, client_id_given) {
            self.report(
                &entry.key_span,
                path,
                "\"client_secret_env\" needs \"client_id\": a client secret belongs to a \
                 pre-registered client",
            );
        }
        if oauth.grant == OAuthGrant::ClientCredentials && !client_id_given {
            self.report(
                &node.span,
                path,
                "grant = \"client_credentials\" needs \"client_id\": the client credentials \
                 grant is for a pre-registered client",
            );
        }
        if oauth.grant == OAuthGrant::EnterpriseManaged
            && (!client_id_given
                || oauth.idp_token_endpoint.is_none()
                || oauth.idp_client_id.is_none()
                || oauth.id_token_env.is_none())
        {
            self.report(
                &node.span,
                path,
                "grant = \"enterprise_managed\" needs \"client_id\", \"idp_token_endpoint\", \
                 \"idp_client_id\" and \"id_token_env\"",
            );
        }
        (self.problems.len() == before).then_some(oauth)
    }

    fn scopes(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let scopes = self.string_list(node, path)?;
        let Value::Array(items) = &node.value else {
            return None;
        };
        let mut ok = true;
        for (i, (scope, item)) in scopes.iter().zip(items).enumerate() {
            if scope.is_empty() || scope.contains(char::is_whitespace) {
                self.report(
                    &item.span,
                    &format!("{path}[{i}]"),
                    "a scope is one word; list several as separate strings, such as \
                     [\"read\", \"write\"]",
                );
                ok = false;
            }
        }
        ok.then_some(scopes)
    }

    fn port(&mut self, node: &Node, path: &str) -> Option<u16> {
        let Value::Integer(n) = node.value else {
            self.expected(node, path, "a port number");
            return None;
        };
        match u16::try_from(n) {
            Ok(port) => Some(port),
            Err(_) => {
                self.report(
                    &node.span,
                    path,
                    format!("{n} is not a port number (0 to 65535; 0 means any free port)"),
                );
                None
            }
        }
    }

    /// A client ID metadata document's URL, which is the client's ID: https (http only on
    /// loopback, for local testing). Whether the document is acceptable is the authorization
    /// server's to say.
    fn metadata_url(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.string(node, path)?;
        let url = self.url(node, path, text)?;
        let loopback = match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            self.report(
                &node.span,
                path,
                format!(
                    "{} must be an https:// URL (http:// only on localhost)",
                    shown_url(text, &url)
                ),
            );
            return None;
        }
        Some(text.to_owned())
    }

    /// The retry table: keys and value types checked here, so each problem has its line; the
    /// policy itself built by `mcp_retry`'s own deserialiser, so the file form is exactly the one
    /// that crate documents.
    fn retry(&mut self, entry: &Entry, path: &str) -> Option<RetryPolicy> {
        let entries = self.table(&entry.value, path)?;
        let before = self.problems.len();
        for field in self.unique(entries, path) {
            let key_path = join(path, &field.key);
            let node = &field.value;
            match field.key.as_str() {
                "attempts" | "max_attempts" => match node.value {
                    Value::Integer(n) if u32::try_from(n).is_ok() => {}
                    Value::Integer(n) => self.report(
                        &node.span,
                        &key_path,
                        format!("{n} is not a number of attempts (1 or more)"),
                    ),
                    _ => self.expected(node, &key_path, "a whole number of attempts"),
                },
                "base_delay" | "max_delay" | "max_elapsed" => {
                    self.duration(node, &key_path, true);
                }
                "factor" => {
                    if !matches!(node.value, Value::Integer(_) | Value::Float(_)) {
                        self.expected(node, &key_path, "a number, such as 2 or 1.5");
                    }
                }
                "jitter" => {
                    if let Some(text) = self.string(node, &key_path) {
                        let jitter = StrDeserializer::<PlainError>::new(text);
                        if let Err(cause) = Jitter::deserialize(jitter) {
                            self.report(&node.span, &key_path, cause.to_string());
                        }
                    }
                }
                _ => self.unknown_key(field, path, RETRY_KEYS),
            }
        }
        if self.problems.len() > before {
            return None;
        }
        match RetryPolicy::deserialize(entry.value.value.to_json()) {
            Ok(policy) => Some(policy),
            Err(cause) => {
                // What is left is the policy's own rule (`PolicyError`), about the table as a whole.
                self.report(&entry.key_span, path, cause.to_string());
                None
            }
        }
    }

    /// Settings of an HTTP server that contradict each other.
    fn http_consistency(&mut self, f: &Fields<'_>, auth: Option<AuthMode>, path: &str) {
        if f.auth.is_some() && auth.is_none() {
            return; // The auth value itself was wrong, and said so.
        }
        let mode = auth.unwrap_or_default();
        match (mode, f.auth, f.bearer_token_env) {
            (AuthMode::Bearer, Some(auth), None) => self.report(
                &auth.value.span,
                &join(path, "auth"),
                "is \"bearer\" but \"bearer_token_env\" is not set; name the environment \
                 variable that holds the token",
            ),
            (AuthMode::None, _, Some(token)) => self.report(
                &token.key_span,
                path,
                "\"bearer_token_env\" is set, but auth is \"none\", which sends no credentials",
            ),
            _ => {}
        }
        if let Some(oauth) = f.oauth
            && matches!(mode, AuthMode::Bearer | AuthMode::None)
        {
            self.report(
                &oauth.key_span,
                path,
                format!(
                    "OAuth settings are given, but auth is {:?}, which never uses OAuth",
                    auth_word(mode)
                ),
            );
        }
        let Some(Value::Table(headers)) = f.headers.map(|e| &e.value.value) else {
            return;
        };
        let Some(header) = headers
            .iter()
            .find(|h| h.key.eq_ignore_ascii_case("authorization"))
        else {
            return;
        };
        let also = if f.bearer_token_env.is_some() {
            "\"bearer_token_env\""
        } else if mode == AuthMode::OAuth {
            "auth = \"oauth\""
        } else {
            return;
        };
        self.report(
            &header.key_span,
            &join(&join(path, "headers"), &header.key),
            format!("is also set by {also}; use one"),
        );
    }
}

fn auth_word(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Auto => "auto",
        AuthMode::OAuth => "oauth",
        AuthMode::Bearer => "bearer",
        AuthMode::None => "none",
    }
}

/// A dotted key path, with segments that are not bare keys quoted: `servers."my server".url`.
pub(super) fn join(parent: &str, key: &str) -> String {
    let segment = if is_bare(key) {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        segment
    } else {
        format!("{parent}.{segment}")
    }
}

/// Letters, digits, `_` and `-`: a bare key in TOML, and the rule for server names, which become
/// tool-name prefixes.
fn is_bare(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A URL for a message, quoted, with any credentials in it masked.
fn shown_url(text: &str, url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return format!("{text:?}");
    }
    let mut masked = url.clone();
    // Only fails for URLs that cannot have credentials, which these have.
    let _ = masked.set_username("***");
    if masked.password().is_some() {
        let _ = masked.set_password(Some("***"));
    }
    format!("{:?}", masked.as_str())
}

/// `"a", "b" or "c"`, for messages listing the valid values.
fn quoted_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|value| format!("{value:?}")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
