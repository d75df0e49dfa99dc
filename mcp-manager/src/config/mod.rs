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
//!
//! [servers.remote]                     # streamable HTTP
//! url = "https://example.com/mcp"
//! headers = { "X-Tenant" = "acme" }
//! bearer_token_env = "REMOTE_TOKEN"    # the token is read from this variable at connect time
//! auth = "auto"                        # auto (OAuth on 401) | oauth | bearer | none
//! oauth = { client_id = "mcpcord", scopes = ["read"] }   # optional; see below
//! connect_timeout = "30s"
//! request_timeout = "60s"
//! retry = { attempts = 3, base_delay = "1s", max_delay = "30s" }
//! ```
//!
//! Every server has either `command` (stdio: also `args`, `env`, `cwd`, `inherit_env`) or `url`
//! (streamable HTTP: also `headers`, `bearer_token_env`, `auth`, `oauth`), and may set
//! `connect_timeout` (default 30 s), `request_timeout` (60 s), `keep_alive` (off), `auto_recover`
//! (on) and `retry` (3 attempts from 1 s, doubling; the table [`mcp_retry::RetryPolicy`] reads).
//! Durations are written with a unit: `"250ms"`, `"30s"`, `"2m"`.
//!
//! The `oauth` table takes `client_id` and `client_secret_env` (a pre-registered client), `scopes`,
//! `callback_port`, `client_metadata_url`, `grant` (`"authorization_code"`,
//! `"client_credentials"`, which needs `client_id`, or `"enterprise_managed"`, which also needs
//! `idp_token_endpoint`, `idp_client_id` and `id_token_env`), `token_endpoint_auth_method` (`none`,
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt`) and `private_key_env` (a P-256
//! key in PEM, for `private_key_jwt`).
//!
//! The JSON forms are `{"mcpServers": {NAME: {...}}}` and `{"servers": {NAME: {...}}}`, whose
//! entries take the same keys plus `"type"` (`"stdio"`, or `"http"` for streamable HTTP; the
//! legacy `"sse"` transport is refused).
//!
//! Secrets never need to be written in the file: `bearer_token_env`, `oauth.client_secret_env` and
//! `oauth.private_key_env` name environment variables, and `${env:NAME}` in an `env` or `headers` value is replaced by
//! that variable when the file is read (`$${` writes a literal `${`).
//!
//! # Errors name the line
//! A file is checked as a whole, and [`ConfigError`] lists every problem at once, each with the
//! line, column and key it is about. Unknown keys are errors, with a suggestion when one is close.
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
    AuthMode, Config, HttpConfig, OAuthConfig, OAuthGrant, ServerConfig, StdioConfig,
    TransportConfig,
};
