//! Configuration files: which servers to connect to, and how.
//!
//! mcpcord's own format is TOML; the JSON files other MCP clients write are read too, so an existing
//! Claude Desktop, Cursor, Claude Code (`.mcp.json`) or VS Code (`mcp.json`) file works as it is.
//!
//! ```toml
//! [servers.everything]                 # stdio: a child process
//! command = "npx"
//! args = ["-y", "@modelcontextprotocol/server-everything"]
//! env = { DEBUG = "1", API_KEY = "${env:EVERYTHING_KEY}" }
//! cwd = "."                            # relative to this file's directory
//! keep_alive = "30s"                   # a ping every 30 s
//!
//! [servers.remote]                     # HTTP
//! url = "https://example.com/mcp"
//! transport = "auto"                   # auto | streamable-http | sse
//! headers = { "X-Tenant" = "acme" }
//! bearer_token_env = "REMOTE_TOKEN"    # the token is read from this variable at connect time
//! auth = "auto"                        # auto | oauth | bearer | none
//! oauth = { client_id = "mcpcord", scopes = ["read"] }   # optional; see below
//! connect_timeout = "30s"
//! request_timeout = "60s"
//! retry = { attempts = 3, base_delay = "1s", max_delay = "30s" }
//! ```
//!
//! Durations are written with a unit: `"250ms"`, `"30s"`, `"2m"`.
//!
//! # Every server
//! Either `command` (a stdio server) or `url` (an HTTP server), and optionally:
//! - `connect_timeout` (default 30 s): the limit on one whole connect attempt: starting the server
//!   or opening the connection, the MCP handshake and discovery (extended by the manager's login
//!   timeout when a person may have to sign in).
//! - `request_timeout` (default 60 s): the limit on each request, after which the server is told
//!   to cancel it.
//! - `keep_alive` (default off): a ping at this interval; a ping that goes unanswered marks the
//!   connection unhealthy.
//! - `auto_recover` (default on): a request on an unhealthy connection reconnects it first.
//! - `protocol = "auto" | "modern" | "legacy"` (default `"auto"`): which era of the protocol to
//!   speak. `auto` probes with `server/discover` (revision 2026-07-28, no handshake) and falls back
//!   to `initialize` when the server does not know it, as the specification's versioning section
//!   says; `"modern"` (also `"2026-07-28"`) never falls back; `"legacy"` (also `"2025-11-25"`)
//!   never probes. See [`ProtocolEra`].
//! - `retry`: how connect attempts are retried, the table [`mcp_retry::RetryPolicy`] reads:
//!   `attempts`, `base_delay`, `factor`, `max_delay`, `jitter` (`"full"`, `"equal"`, `"none"`),
//!   `max_elapsed`. The default is `{ attempts = 3, base_delay = "1s", factor = 2.0, max_delay =
//!   "30s", jitter = "full" }`, with no `max_elapsed`.
//!
//! # Stdio servers
//! - `command` (looked up on `PATH` unless it contains a `/`) and `args`.
//! - `env`: variables to set; a value may use `${env:NAME}`. (JSON forms: also `envFile`.)
//! - `cwd`: the working directory, relative to the file's directory (default: ours).
//! - `inherit_env` (default `false`): whether the server gets our whole environment. When false it
//!   gets only `HOME`, `LOGNAME`, `PATH`, `SHELL`, `TERM`, `USER`, `LANG`, `TMPDIR` and `LC_*`
//!   from it (plus its `env`), so our secrets (tokens, cloud credentials) do not leak into
//!   third-party servers.
//!
//! # HTTP servers
//! - `url`: `http://` or `https://`.
//! - `transport = "auto" | "streamable-http" | "sse"` (default `"auto"`): `auto` speaks streamable
//!   HTTP and falls back to the legacy HTTP+SSE transport (protocol 2024-11-05) when the server
//!   answers the `initialize` POST with 400, 404 or 405; `"sse"` speaks only the legacy
//!   transport, and `url` is then its SSE endpoint.
//! - `headers`: sent with every request; a value may use `${env:NAME}`.
//! - `bearer_token_env`: the environment variable holding a bearer token.
//! - `auth`: `"auto"` (the default) sends the bearer token from `bearer_token_env` if that is set,
//!   and only otherwise uses OAuth, when the server answers 401; `"oauth"` always OAuth;
//!   `"bearer"` only the token from `bearer_token_env` (which it then requires); `"none"` no
//!   credentials.
//! - `oauth`: a table, all of it optional:
//!   - `client_id`, and `client_secret_env` (the variable holding its secret): a pre-registered
//!     client. Without one, a client metadata document (`client_metadata_url`) is used where the
//!     server supports it, else dynamic registration.
//!   - `scopes`: the scopes to request; unset, the server's challenge or metadata decides.
//!   - `callback_port`: a fixed loopback port for the redirect after a browser login; unset or 0,
//!     any free port.
//!   - `grant` (default `"authorization_code"`, a person signs in in a browser):
//!     `"client_credentials"` (a machine, as itself; needs `client_id`), `"enterprise_managed"`
//!     (SEP-990; also needs `idp_token_endpoint`, `idp_client_id` and `id_token_env`) or
//!     `"jwt_bearer"` (workload identity federation, SEP-1933: the workload's identity token, a
//!     JWT from its platform, is traded for an access token; needs exactly one of
//!     `assertion_file`, a file relative to this one, and `assertion_env`, a variable; either is
//!     read anew for every token request, as platforms rotate the token).
//!   - `token_endpoint_auth_method`: `none`, `client_secret_basic`, `client_secret_post` or
//!     `private_key_jwt`. Unset: `client_secret_basic` with a secret (`client_secret_post` if the
//!     server lists only that), `private_key_jwt` with a key, else `none`.
//!   - `private_key_env`: the variable holding a P-256 key in PEM, for `private_key_jwt`.
//!   - `dpop` (default `true`): bind tokens to a key (DPoP, RFC 9449) when the authorization
//!     server offers ES256 proofs; `false` asks only for bearer tokens. The key is kept with the
//!     tokens in the store, and every request they authorize carries a fresh proof.
//!
//! # The JSON forms
//! `{"mcpServers": {NAME: {...}}}` and `{"servers": {NAME: {...}}}`, whose entries take the same
//! keys plus `"type"`: `"stdio"`; `"http"` (found out, as `transport = "auto"`: VS Code's files use
//! it for every remote server); `"streamable-http"` (streamable HTTP only); or `"sse"` (the legacy
//! HTTP+SSE transport only). Without a `"type"`, `command` or `url` decides, and an HTTP server's
//! `transport` is `auto`; with both, `"type"` and `transport` must agree.
//!
//! They also take other clients' keys, so that a Claude Desktop, Cursor, Windsurf, Cline, VS Code
//! or Claude Code file loads as it is:
//! - `"disabled": true`: the server is not run (nor checked further) and is listed in
//!   [`Config::disabled`].
//! - `"autoApprove"`, `"alwaysAllow"`: accepted and ignored (mcpcord asks no one before a call).
//! - `"timeout"`: with a unit (`"90s"`), the request timeout. A bare number is ignored with a
//!   warning: Cline and Roo Code read it as seconds, Claude Code and Gemini CLI as milliseconds,
//!   and a guess wrong by a factor of 1000 is worse than the default. `request_timeout` wins over
//!   it.
//! - `"envFile"` (stdio): a dotenv file, relative to the config file's directory, at most 64 KiB,
//!   of `NAME=VALUE` lines (`#` comments, `export ` and one pair of quotes around a value
//!   allowed); its variables are added to `env`, whose own values win.
//! - VS Code's `${workspaceFolder}` (the config file's directory, or its parent when the file is
//!   in `.vscode/`) and `${userHome}` (`$HOME`), in `command`, `args`, `cwd`, `envFile`, `url`, and
//!   `env` and `headers` values. (TOML files may use them too.)
//!
//! A JSON file is another client's, so it is read leniently: a key we do not use is a warning
//! ([`Config::warnings`]) and the server still loads; a problem inside one server entry skips that
//! server, which is listed with its problems ([`Config::invalid`]), and the others load. A syntax
//! error, or a problem outside every server entry (no server list, a misspelt `"mcpServers"`, a
//! server name written twice), still fails the whole file, listing every problem.
//!
//! # Secrets
//! Secrets never need to be written in the file: `bearer_token_env`, `oauth.client_secret_env`,
//! `oauth.private_key_env`, `oauth.id_token_env` and `oauth.assertion_env` name environment
//! variables (`oauth.assertion_file` a file), and `${env:NAME}` in an `env` or `headers` value is
//! replaced by that variable when the file is read (`$${` writes a literal `${`). `${env:NAME}` is
//! expanded nowhere else: `command`, `args` and `url` show in process listings and logs.
//!
//! # Size
//! A file may hold at most 1 MiB ([`MAX_CONFIG_BYTES`]): a larger one, or a "file" that never ends
//! such as `/dev/zero`, is refused at once with an error naming the file and the limit (`mcpcord`
//! exits 2).
//!
//! # Errors name the line
//! A file is checked as a whole, and [`ConfigError`] lists every problem at once, each with the
//! line, column and key it is about. In TOML, unknown keys are errors, with a suggestion when one
//! is close; in the JSON forms they are warnings (see above).
//!
//! ```
//! use std::path::Path;
//! use std::time::Duration;
//! use mcp_manager::config::{Config, TransportConfig};
//!
//! let config = Config::from_toml_str(
//!     r#"
//!     [servers.everything]
//!     command = "npx"
//!     args = ["-y", "@modelcontextprotocol/server-everything"]
//!
//!     [servers.remote]
//!     url = "https://example.com/mcp"
//!     request_timeout = "2m"
//!     "#,
//!     Path::new("mcpcord.toml"),
//! )?;
//! let names: Vec<_> = config.servers.iter().map(|(name, _)| name.as_str()).collect();
//! assert_eq!(names, ["everything", "remote"]);
//! let remote = config.server("remote").expect("configured");
//! assert!(matches!(remote.transport, TransportConfig::Http(_)));
//! assert_eq!(remote.request_timeout, Duration::from_secs(120));
//!
//! let error = Config::from_toml_str(
//!     "[servers.everything]\ncomand = \"npx\"\n\n[servers.remote]\nurl = \"ftp://x\"\n",
//!     Path::new("mcpcord.toml"),
//! )
//! .unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "mcpcord.toml:1:10: servers.everything: needs \"command\" (to run a stdio server) or \"url\" \
//!      (to reach a streamable HTTP server)\n\
//!      mcpcord.toml:2:1: servers.everything: unknown key \"comand\" (did you mean \"command\"?)\n\
//!      mcpcord.toml:5:7: servers.remote.url: \"ftp://x\" is not an http:// or https:// URL"
//! );
//! # Ok::<(), mcp_manager::config::ConfigError>(())
//! ```
//!
//! A JSON file with another client's keys, a switched-off server and a broken one:
//!
//! ```
//! # use std::path::Path;
//! # use mcp_manager::config::Config;
//! let config = Config::from_json_str(
//!     r#"{"mcpServers": {
//!       "files": {"command": "npx", "args": ["-y", "fs"], "autoApprove": ["read"], "note": "x"},
//!       "old": {"command": "legacy", "disabled": true},
//!       "broken": {"url": "ftp://x"}
//!     }}"#,
//!     Path::new(".mcp.json"),
//! )?;
//! assert_eq!(config.servers.len(), 1);
//! assert_eq!(config.disabled, ["old"]);
//! assert_eq!(config.invalid[0].0, "broken");
//! assert_eq!(
//!     config.invalid[0].1[0].to_string(),
//!     "4:25: mcpServers.broken.url: \"ftp://x\" is not an http:// or https:// URL"
//! );
//! assert_eq!(
//!     config.warnings[0].to_string(),
//!     "2:82: mcpServers.files: unknown key \"note\"; ignored"
//! );
//! # Ok::<(), mcp_manager::config::ConfigError>(())
//! ```
//!
//! # Finding the file
//! [`Config::find`] looks, in order, at the path given (`mcpcord --config`), `$MCPCORD_CONFIG`,
//! `./mcpcord.toml` and `./.mcp.json`. A file named by the first two must exist.

mod document;
mod error;
mod json_syntax;
mod load;
mod placeholder;
mod schema;
mod suggest;
mod toml_syntax;
mod types;

#[cfg(test)]
mod tests;

pub use error::{ConfigError, NamedBy, Problem};
pub use load::{CONFIG_ENV_VAR, DEFAULT_CONFIG_FILES, MAX_CONFIG_BYTES};
pub use types::{
    AuthMode, Config, HttpConfig, HttpTransportKind, OAuthConfig, OAuthGrant, ProtocolEra,
    ServerConfig, StdioConfig, TransportConfig,
};
