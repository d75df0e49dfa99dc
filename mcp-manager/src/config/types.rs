//! What a configuration says, once read and checked: the servers and how to reach each.
//!
//! Secrets are named, not held: a file names the variables that hold them, and `Debug` shows the
//! names of environment variables and headers, never their values.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mcp_oauth::TokenAuthMethod;
use mcp_retry::RetryPolicy;
use mcp_transport::{EnvPolicy, StdioSpec};
use url::Url;

use super::error::Problem;

/// Every configured server, by name (names are unique; order is the file's).
///
/// Read from another client's JSON file, a configuration may also hold what was not run and why:
/// servers switched off, servers skipped for problems in their entries, and warnings about keys
/// that were read but not used. A caller shows these (each [`Problem`] prints as
/// `LINE:COLUMN: KEY: MESSAGE`, after the file's path). From TOML they are always empty: any
/// problem there fails the file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// The servers, in the order the file lists them.
    pub servers: Vec<(String, ServerConfig)>,
    /// The file it was read from, if any.
    pub source: Option<PathBuf>,
    /// Servers marked `"disabled": true`, in file order: not run, and not checked further.
    pub disabled: Vec<String>,
    /// Servers skipped because their entries have problems, in file order, each with every
    /// problem found in it.
    pub invalid: Vec<(String, Vec<Problem>)>,
    /// Keys read but not used (another client's settings), in file order; the file still loads.
    pub warnings: Vec<Problem>,
}

impl Config {
    /// The server called `name`.
    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, config)| config)
    }
}

/// One server: how to reach it and how patient to be with it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// stdio or streamable HTTP.
    pub transport: TransportConfig,
    /// The limit on one whole connect attempt: spawn or open, handshake and discovery. Default 30 s.
    pub connect_timeout: Duration,
    /// The limit on each request. Default 60 s.
    pub request_timeout: Duration,
    /// How connect attempts are retried. Default: 3 attempts from 1 s, doubling.
    pub retry: RetryPolicy,
    /// Ping the server this often; a missed ping marks the connection unhealthy. Default off.
    pub keep_alive: Option<Duration>,
    /// Reconnect (2 attempts) before the next call when the connection is unhealthy. Default on.
    pub auto_recover: bool,
    /// Which protocol era to speak. Default: found out (2026-07-28 first, else `initialize`).
    pub protocol: ProtocolEra,
}

impl ServerConfig {
    /// A server reached by `transport`, with the defaults.
    pub fn new(transport: TransportConfig) -> Self {
        Self {
            transport,
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            keep_alive: None,
            auto_recover: true,
            protocol: ProtocolEra::Auto,
        }
    }

    /// A stdio server running `command` with `args`, with the defaults.
    pub fn stdio<I, S>(command: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(TransportConfig::Stdio(StdioConfig {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            cwd: None,
            env_policy: EnvPolicy::Safe,
        }))
    }

    /// An HTTP server at `url`, with the defaults: its transport is found out (streamable HTTP, else
    /// legacy HTTP+SSE); [`with_http_transport`](Self::with_http_transport) fixes it.
    ///
    /// ```
    /// use mcp_manager::{ServerConfig, Url};
    ///
    /// let config = ServerConfig::http(Url::parse("https://mcp.example.com/mcp")?);
    /// assert_eq!(config.transport_name(), "http");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http(url: Url) -> Self {
        Self::new(TransportConfig::Http(HttpConfig {
            url,
            headers: BTreeMap::new(),
            bearer_token_env: None,
            auth: AuthMode::Auto,
            oauth: None,
            transport: HttpTransportKind::Auto,
        }))
    }

    /// Fixes which HTTP transport the server speaks (no effect on a stdio server).
    pub fn with_http_transport(mut self, kind: HttpTransportKind) -> Self {
        if let TransportConfig::Http(http) = &mut self.transport {
            http.transport = kind;
        }
        self
    }

    /// Adds a header to every request to an HTTP server (no effect on a stdio server).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let TransportConfig::Http(http) = &mut self.transport {
            http.headers.insert(name.into(), value.into());
        }
        self
    }

    /// Sends the bearer token held by this environment variable to an HTTP server (no effect on a
    /// stdio server); the token itself is read at connect time, never kept in the configuration.
    pub fn with_bearer_token_env(mut self, variable: impl Into<String>) -> Self {
        if let TransportConfig::Http(http) = &mut self.transport {
            http.bearer_token_env = Some(variable.into());
        }
        self
    }

    /// Sets how an HTTP server is authenticated (no effect on a stdio server).
    pub fn with_auth(mut self, auth: AuthMode) -> Self {
        if let TransportConfig::Http(http) = &mut self.transport {
            http.auth = auth;
        }
        self
    }

    /// Sets an HTTP server's OAuth settings (no effect on a stdio server).
    pub fn with_oauth(mut self, oauth: OAuthConfig) -> Self {
        if let TransportConfig::Http(http) = &mut self.transport {
            http.oauth = Some(oauth);
        }
        self
    }

    /// Sets an environment variable for a stdio server (no effect on an HTTP server).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let TransportConfig::Stdio(stdio) = &mut self.transport {
            stdio.env.insert(name.into(), value.into());
        }
        self
    }

    /// Sets a stdio server's working directory (no effect on an HTTP server).
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        if let TransportConfig::Stdio(stdio) = &mut self.transport {
            stdio.cwd = Some(cwd.into());
        }
        self
    }

    /// Which of our environment variables a stdio server inherits (no effect on an HTTP server).
    pub fn with_env_policy(mut self, policy: EnvPolicy) -> Self {
        if let TransportConfig::Stdio(stdio) = &mut self.transport {
            stdio.env_policy = policy;
        }
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the connect retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the keep-alive ping interval.
    pub fn with_keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval;
        self
    }

    /// Turns automatic recovery on or off.
    pub fn with_auto_recover(mut self, auto_recover: bool) -> Self {
        self.auto_recover = auto_recover;
        self
    }

    /// Fixes the protocol era instead of finding it out.
    pub fn with_protocol(mut self, protocol: ProtocolEra) -> Self {
        self.protocol = protocol;
        self
    }

    /// `"stdio"` or `"http"`, as the CLI's JSON output names transports.
    pub fn transport_name(&self) -> &'static str {
        match &self.transport {
            TransportConfig::Stdio(_) => "stdio",
            TransportConfig::Http(http) => match http.transport {
                HttpTransportKind::StreamableHttp => "streamable-http",
                HttpTransportKind::LegacySse => "sse",
                // Not known until a connect has found it out.
                _ => "http",
            },
        }
    }
}

/// Which era of the protocol a server speaks (the `protocol` key): the handshake-free revision
/// 2026-07-28 and later ("modern": `server/discover`, and every request carries its protocol
/// version and our capabilities in `_meta`), or the revisions up to 2025-11-25 that open with
/// `initialize` ("legacy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProtocolEra {
    /// Found out as the specification's versioning section says: probe with `server/discover`
    /// (on HTTP, the probe's POST); a discover result or a recognised modern error (such as an
    /// unsupported version, retried at one the server lists) means modern; any other error, or
    /// silence for 10 s, means legacy, and the connection falls back to `initialize`. A
    /// connection keeps what it found for its life, reconnects included.
    #[default]
    Auto,
    /// Modern only: a server that answers `server/discover` with something else fails to connect.
    Modern,
    /// Legacy only: `initialize`, without a probe.
    Legacy,
}

impl ProtocolEra {
    /// The name a configuration file uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolEra::Auto => "auto",
            ProtocolEra::Modern => "modern",
            ProtocolEra::Legacy => "legacy",
        }
    }

    /// The era a configuration names: `"auto"`, `"modern"` (or the revision `"2026-07-28"`),
    /// `"legacy"` (or `"2025-11-25"`, `"initialize"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "modern" | "2026-07-28" => Some(Self::Modern),
            "legacy" | "initialize" | "2025-11-25" => Some(Self::Legacy),
            _ => None,
        }
    }
}

/// How a server is reached.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// A few configurations exist per program, built once: boxing the larger variant would only make
// them clumsier to build and match.
#[allow(clippy::large_enum_variant)]
pub enum TransportConfig {
    /// A child process speaking JSON-RPC on its stdin and stdout.
    Stdio(StdioConfig),
    /// A streamable HTTP endpoint.
    Http(HttpConfig),
}

/// A stdio server. Its `Debug` shows environment variable names, never their values.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct StdioConfig {
    /// The program, looked up on `PATH` unless it contains a `/`.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables, with `${env:NAME}` already expanded.
    pub env: BTreeMap<String, String>,
    /// The working directory (relative paths are resolved against the config file's directory).
    pub cwd: Option<PathBuf>,
    /// Which of our variables the server inherits. Default: a safe set.
    pub env_policy: EnvPolicy,
}

impl StdioConfig {
    /// What the transport spawns: the command, its arguments, environment and directory.
    pub fn spec(&self) -> StdioSpec {
        let mut spec = StdioSpec::new(self.command.clone())
            .args(self.args.iter().cloned())
            .env_policy(self.env_policy);
        for (key, value) in &self.env {
            spec = spec.env(key.clone(), value.clone());
        }
        if let Some(cwd) = &self.cwd {
            spec = spec.cwd(cwd.clone());
        }
        spec
    }
}

/// A streamable HTTP server. Its `Debug` shows header names, never their values.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The endpoint, `http://` or `https://`.
    pub url: Url,
    /// Extra headers, with `${env:NAME}` already expanded.
    pub headers: BTreeMap<String, String>,
    /// The environment variable holding a bearer token (never the token itself).
    pub bearer_token_env: Option<String>,
    /// How to authenticate.
    pub auth: AuthMode,
    /// OAuth settings, for `auth = "auto"` or `"oauth"`.
    pub oauth: Option<OAuthConfig>,
    /// Which HTTP transport the server speaks. Default: found out (streamable HTTP, else the
    /// legacy HTTP+SSE transport).
    pub transport: HttpTransportKind,
}

/// Which HTTP transport a server speaks: the `transport` key (TOML and JSON) or the JSON forms'
/// `"type"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpTransportKind {
    /// Found out as the specification's backwards-compatibility section says: `POST` the
    /// `initialize` request as streamable HTTP; on HTTP 400, 404 or 405, `GET` the URL as a
    /// legacy SSE stream and use it if it names an endpoint. Only servers that need the fallback
    /// pay its extra request, and a connection remembers what worked (recover goes straight to it).
    #[default]
    Auto,
    /// Streamable HTTP only (`"http"`, `"streamable-http"`).
    StreamableHttp,
    /// The legacy HTTP+SSE transport of protocol 2024-11-05 only (`"sse"`): `url` is the SSE URL.
    LegacySse,
}

impl HttpTransportKind {
    /// The name a configuration file uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpTransportKind::Auto => "auto",
            HttpTransportKind::StreamableHttp => "streamable-http",
            HttpTransportKind::LegacySse => "sse",
        }
    }
}

/// How an HTTP server is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// A bearer token if `bearer_token_env` is set; OAuth when the server answers 401.
    #[default]
    Auto,
    /// Always OAuth.
    OAuth,
    /// Only the bearer token from `bearer_token_env`.
    Bearer,
    /// No credentials.
    None,
}

/// OAuth settings for one server.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// A pre-registered client id.
    pub client_id: Option<String>,
    /// The environment variable holding the pre-registered client's secret.
    pub client_secret_env: Option<String>,
    /// Scopes to request (else the server's challenge or metadata decides).
    pub scopes: Vec<String>,
    /// A fixed loopback port for the redirect (0 or unset: any free port).
    pub callback_port: Option<u16>,
    /// A client metadata document URL (CIMD); a file may give only https (http on loopback).
    pub client_metadata_url: Option<Url>,
    /// Which grant obtains tokens.
    pub grant: OAuthGrant,
    /// How the pre-registered client authenticates at the token endpoint (`none`,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt`); unset: chosen from the
    /// secret or key given and what the server supports.
    pub token_endpoint_auth_method: Option<TokenAuthMethod>,
    /// The environment variable holding the client's P-256 private key (PEM), for
    /// `private_key_jwt`.
    pub private_key_env: Option<String>,
    /// The client secret itself, for programs that build a configuration in code (a file can
    /// only name a variable, `client_secret_env`, which wins when both are set). Never printed.
    pub client_secret: Option<String>,
    /// The P-256 private key (PEM) itself, for programs that build a configuration in code (a file
    /// can only name a variable, `private_key_env`). Never printed.
    pub private_key_pem: Option<String>,
    /// For `grant = "enterprise_managed"`: the identity provider's token endpoint; a file may
    /// give only https (http on loopback).
    pub idp_token_endpoint: Option<Url>,
    /// For `grant = "enterprise_managed"`: this client's id at the identity provider.
    pub idp_client_id: Option<String>,
    /// For `grant = "enterprise_managed"`: the environment variable holding the user's ID token.
    pub id_token_env: Option<String>,
    /// The ID token itself, for programs that build a configuration in code. Never printed.
    pub id_token: Option<String>,
    /// For `grant = "jwt_bearer"`: the environment variable holding the workload's identity token
    /// (a JWT), read for every token request.
    pub assertion_env: Option<String>,
    /// For `grant = "jwt_bearer"`: the file holding the workload's identity token (a JWT), read for
    /// every token request, as platforms rotate it.
    pub assertion_file: Option<PathBuf>,
    /// The workload's identity token itself, for programs that build a configuration in code.
    /// Never printed.
    pub assertion: Option<String>,
    /// Whether tokens may be bound to a key (DPoP, RFC 9449) when the authorization server offers
    /// it; `None` (the default) and `Some(true)` allow it, `Some(false)` asks for bearer tokens
    /// only.
    pub dpop: Option<bool>,
}

/// Which OAuth grant a server's tokens come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OAuthGrant {
    /// A person signs in through a browser (authorization code with PKCE).
    #[default]
    AuthorizationCode,
    /// A machine authenticates as itself (client credentials; needs a pre-registered client).
    ClientCredentials,
    /// The user's enterprise identity provider vouches for them (SEP-990: token exchange, then
    /// the JWT bearer grant; needs a pre-registered client and the `idp_*` settings).
    EnterpriseManaged,
    /// A workload proves itself with the identity token its platform issued (SEP-1933, workload
    /// identity federation: the JWT bearer grant; needs `assertion_env` or `assertion_file`).
    JwtBearer,
}

/// Values (expanded from `${env:...}`) may be secrets: logs and panics show only the names.
fn redacted(map: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    map.keys().map(|key| (key.as_str(), "<redacted>")).collect()
}

impl std::fmt::Debug for StdioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdioConfig")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &redacted(&self.env))
            .field("cwd", &self.cwd)
            .field("env_policy", &self.env_policy)
            .finish()
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("url", &self.url.as_str())
            .field("headers", &redacted(&self.headers))
            .field("bearer_token_env", &self.bearer_token_env)
            .field("auth", &self.auth)
            .field("oauth", &self.oauth)
            .field("transport", &self.transport)
            .finish()
    }
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret_env", &self.client_secret_env)
            .field("client_secret", &hidden(&self.client_secret))
            .field("scopes", &self.scopes)
            .field("callback_port", &self.callback_port)
            .field(
                "client_metadata_url",
                &self.client_metadata_url.as_ref().map(Url::as_str),
            )
            .field("grant", &self.grant)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .field("private_key_env", &self.private_key_env)
            .field("private_key_pem", &hidden(&self.private_key_pem))
            .field(
                "idp_token_endpoint",
                &self.idp_token_endpoint.as_ref().map(Url::as_str),
            )
            .field("idp_client_id", &self.idp_client_id)
            .field("id_token_env", &self.id_token_env)
            .field("id_token", &hidden(&self.id_token))
            .field("assertion_env", &self.assertion_env)
            .field("assertion_file", &self.assertion_file)
            .field("assertion", &hidden(&self.assertion))
            .field("dpop", &self.dpop)
            .finish()
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn debug_never_shows_header_or_env_values() {
        let url = Url::parse("https://example.test/mcp").expect("a URL");
        let mut http = match ServerConfig::http(url).transport {
            TransportConfig::Http(http) => http,
            TransportConfig::Stdio(_) => unreachable!("built as HTTP"),
        };
        http.headers
            .insert("X-Api-Key".into(), "secret-value".into());
        let shown = format!("{http:?}");
        assert!(
            shown.contains("X-Api-Key") && !shown.contains("secret-value"),
            "{shown}"
        );
        let mut stdio = match ServerConfig::stdio("server", ["--x"]).transport {
            TransportConfig::Stdio(stdio) => stdio,
            TransportConfig::Http(_) => unreachable!("built as stdio"),
        };
        stdio.env.insert("TOKEN".into(), "secret-value".into());
        let shown = format!("{stdio:?}");
        assert!(
            shown.contains("TOKEN") && !shown.contains("secret-value"),
            "{shown}"
        );
    }
}
