//! Which keys exist: a server's (by transport, and the JSON forms' `"type"`), the `oauth` and
//! `retry` tables', and a server's entries sorted by key.

use super::super::document::{Entry, Format};
use super::Schema;

/// Keys only a stdio server takes.
pub(super) const STDIO_KEYS: &[&str] = &["command", "args", "env", "cwd", "inherit_env"];

/// Keys only an HTTP server takes.
pub(super) const HTTP_KEYS: &[&str] = &[
    "url",
    "transport",
    "headers",
    "bearer_token_env",
    "auth",
    "oauth",
];

/// Keys every server takes.
pub(super) const COMMON_KEYS: &[&str] = &[
    "connect_timeout",
    "request_timeout",
    "keep_alive",
    "auto_recover",
    "retry",
    "protocol",
];

/// The JSON forms also say which transport a server uses.
pub(super) const TYPE_KEY: &str = "type";

/// Other clients' keys that the JSON forms also take: `"type"`; `"disabled"` (honoured: the server
/// is not run); `"timeout"` (see `Schema::foreign_timeout`); and VS Code's `"envFile"` (a stdio
/// server's dotenv file).
pub(super) const JSON_KEYS: &[&str] = &[TYPE_KEY, "disabled", "timeout", "envFile"];

/// Other clients' keys that the JSON forms accept and ignore without a warning: which tools to
/// run without asking (Cline, Roo Code, Cursor, Windsurf). mcpcord asks no one.
pub(super) const IGNORED_JSON_KEYS: &[&str] = &["autoApprove", "alwaysAllow"];

/// Keys of the `oauth` table.
pub(super) const OAUTH_KEYS: &[&str] = &[
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
    "assertion_env",
    "assertion_file",
    "dpop",
];

/// Keys of `mcp_retry`'s table form, its alias included; a test holds this list to that form.
pub(in crate::config) const RETRY_KEYS: &[&str] = &[
    "attempts",
    "max_attempts",
    "base_delay",
    "max_delay",
    "factor",
    "jitter",
    "max_elapsed",
];

/// A server's entries, by key.
#[derive(Default)]
pub(super) struct Fields<'n> {
    pub(super) command: Option<&'n Entry>,
    pub(super) args: Option<&'n Entry>,
    pub(super) env: Option<&'n Entry>,
    pub(super) cwd: Option<&'n Entry>,
    pub(super) inherit_env: Option<&'n Entry>,
    pub(super) url: Option<&'n Entry>,
    pub(super) transport: Option<&'n Entry>,
    pub(super) headers: Option<&'n Entry>,
    pub(super) bearer_token_env: Option<&'n Entry>,
    pub(super) auth: Option<&'n Entry>,
    pub(super) oauth: Option<&'n Entry>,
    pub(super) connect_timeout: Option<&'n Entry>,
    pub(super) request_timeout: Option<&'n Entry>,
    pub(super) keep_alive: Option<&'n Entry>,
    pub(super) auto_recover: Option<&'n Entry>,
    pub(super) retry: Option<&'n Entry>,
    pub(super) protocol: Option<&'n Entry>,
    pub(super) kind: Option<&'n Entry>,
    pub(super) disabled: Option<&'n Entry>,
    pub(super) timeout: Option<&'n Entry>,
    pub(super) env_file: Option<&'n Entry>,
}

impl Schema<'_> {
    fn server_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = [STDIO_KEYS, HTTP_KEYS, COMMON_KEYS].concat();
        if self.format == Format::Json {
            keys.extend(JSON_KEYS);
        }
        keys
    }

    pub(super) fn fields<'n>(&mut self, entries: &'n [Entry], path: &str) -> Fields<'n> {
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
                "transport" => &mut fields.transport,
                "headers" => &mut fields.headers,
                "bearer_token_env" => &mut fields.bearer_token_env,
                "auth" => &mut fields.auth,
                "oauth" => &mut fields.oauth,
                "connect_timeout" => &mut fields.connect_timeout,
                "request_timeout" => &mut fields.request_timeout,
                "keep_alive" => &mut fields.keep_alive,
                "auto_recover" => &mut fields.auto_recover,
                "retry" => &mut fields.retry,
                "protocol" => &mut fields.protocol,
                key if self.format == Format::Json && IGNORED_JSON_KEYS.contains(&key) => continue,
                TYPE_KEY if self.format == Format::Json => &mut fields.kind,
                "disabled" if self.format == Format::Json => &mut fields.disabled,
                "timeout" if self.format == Format::Json => &mut fields.timeout,
                "envFile" if self.format == Format::Json => &mut fields.env_file,
                _ => {
                    self.unknown_server_key(entry, path, &known);
                    continue;
                }
            };
            *slot = Some(entry);
        }
        fields
    }
}
