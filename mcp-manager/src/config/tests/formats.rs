//! Each format's happy path, and the defaults of what a file leaves out.

use url::Url;

use super::*;

#[test]
fn design_example_toml_parses_to_the_expected_values() {
    let config = toml(
        r#"
[servers.everything]                 # stdio
command = "npx"
args = ["-y", "@modelcontextprotocol/server-everything"]
env = { DEBUG = "1" }
cwd = "."
[servers.remote]                     # streamable HTTP
url = "https://example.com/mcp"
headers = { "X-Tenant" = "acme" }
bearer_token_env = "REMOTE_TOKEN"    # token read from this env var, never written in the file
auth = "auto"                        # auto (OAuth on 401) | oauth | bearer | none
oauth = { client_id = "...", scopes = ["read"], callback_port = 0, client_metadata_url = "https://..." }
connect_timeout = "30s"
request_timeout = "60s"
retry = { attempts = 3, base_delay = "1s", max_delay = "30s" }
"#,
    )
    .unwrap();

    assert_eq!(config.source.as_deref(), Some(Path::new(ORIGIN)));
    let expected_everything = ServerConfig::new(TransportConfig::Stdio(StdioConfig {
        command: "npx".into(),
        args: vec![
            "-y".into(),
            "@modelcontextprotocol/server-everything".into(),
        ],
        env: map(&[("DEBUG", "1")]),
        cwd: Some(PathBuf::from("/srv/project")),
        env_policy: EnvPolicy::Safe,
    }));
    let expected_remote = ServerConfig::new(TransportConfig::Http(HttpConfig {
        url: Url::parse("https://example.com/mcp").unwrap(),
        headers: map(&[("X-Tenant", "acme")]),
        bearer_token_env: Some("REMOTE_TOKEN".into()),
        auth: AuthMode::Auto,
        oauth: Some(OAuthConfig {
            client_id: Some("...".into()),
            client_secret_env: None,
            scopes: vec!["read".into()],
            callback_port: Some(0),
            client_metadata_url: Some(Url::parse("https://...").unwrap()),
            ..OAuthConfig::default()
        }),
        transport: HttpTransportKind::Auto,
    }));
    assert_eq!(
        config.servers,
        vec![
            ("everything".to_owned(), expected_everything),
            ("remote".to_owned(), expected_remote),
        ]
    );
}

#[test]
fn claude_desktop_json_reads_stdio_and_http_servers_and_ignores_the_apps_settings() {
    let config = json(
        r#"{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"],
      "env": {"DEBUG": "1"}
    },
    "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"X-Tenant": "acme"}},
    "cursor": {"url": "https://example.org/mcp"},
    "claude-code": {"type": "stdio", "command": "./server", "cwd": "tools"}
  }
}"#,
    )
    .unwrap();
    let names: Vec<_> = config.servers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["filesystem", "remote", "cursor", "claude-code"]);

    let filesystem = stdio(config.server("filesystem").unwrap());
    assert_eq!(filesystem.command, "npx");
    assert_eq!(filesystem.args.len(), 3);
    assert_eq!(filesystem.env, map(&[("DEBUG", "1")]));
    assert_eq!(filesystem.cwd, None);

    let remote = http(config.server("remote").unwrap());
    assert_eq!(remote.url.as_str(), "https://example.com/mcp");
    assert_eq!(remote.headers, map(&[("X-Tenant", "acme")]));
    assert_eq!(remote.auth, AuthMode::Auto);

    assert_eq!(
        http(config.server("cursor").unwrap()).url.as_str(),
        "https://example.org/mcp"
    );
    assert_eq!(
        stdio(config.server("claude-code").unwrap()).cwd.as_deref(),
        Some(Path::new("/srv/project/tools"))
    );
}

#[test]
fn vs_code_json_with_comments_types_and_trailing_commas_is_read() {
    let config = json(
        r#"{
  // VS Code: .vscode/mcp.json
  "inputs": [],
  "servers": {
    "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"], },
    "github": { "type": "streamable-http", "url": "https://api.githubcopilot.com/mcp/" },
    "local": { "type": "streamableHttp", "url": "http://127.0.0.1:3000/mcp" },
  },
}"#,
    )
    .unwrap();
    assert_eq!(
        stdio(config.server("fetch").unwrap()).args,
        ["mcp-server-fetch"]
    );
    assert_eq!(
        http(config.server("github").unwrap()).url.as_str(),
        "https://api.githubcopilot.com/mcp/"
    );
    assert_eq!(
        config.server("local").unwrap().transport_name(),
        "streamable-http"
    );
}

#[test]
fn json_entries_take_the_same_optional_keys_as_toml() {
    let config = json(
        r#"{"mcpServers": {"s": {
            "command": "srv", "inherit_env": true,
            "connect_timeout": "5s", "request_timeout": "2m", "keep_alive": "15s",
            "auto_recover": false,
            "retry": {"attempts": 5, "base_delay": "250ms", "max_delay": "10s", "jitter": "none"}
        }}}"#,
    )
    .unwrap();
    let server = config.server("s").unwrap();
    assert_eq!(server.connect_timeout, Duration::from_secs(5));
    assert_eq!(server.request_timeout, Duration::from_secs(120));
    assert_eq!(server.keep_alive, Some(Duration::from_secs(15)));
    assert!(!server.auto_recover);
    assert_eq!(stdio(server).env_policy, EnvPolicy::InheritAll);
    assert_eq!(server.retry.max_attempts(), 5);
    assert_eq!(server.retry.base_delay(), Duration::from_millis(250));
    assert_eq!(server.retry.max_delay(), Duration::from_secs(10));
    assert_eq!(server.retry.jitter(), mcp_retry::Jitter::None);
}

#[test]
fn servers_keep_the_order_the_file_gives_them() {
    let config =
        toml("[servers.zeta]\ncommand = \"z\"\n[servers.alpha]\ncommand = \"a\"\n").unwrap();
    let names: Vec<_> = config.servers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha"]);
}

#[test]
fn an_empty_file_has_no_servers() {
    assert!(toml("").unwrap().servers.is_empty());
    assert!(json("{}").unwrap().servers.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Defaults

#[test]
fn defaults_are_30s_connect_60s_request_3_attempts_from_1s_and_auto_recover() {
    let config = toml("[servers.s]\ncommand = \"srv\"\n").unwrap();
    let server = config.server("s").unwrap();
    assert_eq!(server.connect_timeout, Duration::from_secs(30));
    assert_eq!(server.request_timeout, Duration::from_secs(60));
    assert_eq!(server.retry, RetryPolicy::default());
    assert_eq!(server.retry.max_attempts(), 3);
    assert_eq!(server.retry.base_delay(), Duration::from_secs(1));
    assert!(server.auto_recover);
    assert_eq!(server.keep_alive, None);
    let stdio = stdio(server);
    assert_eq!(stdio.env_policy, EnvPolicy::Safe);
    assert!(stdio.args.is_empty() && stdio.env.is_empty() && stdio.cwd.is_none());

    let config = toml("[servers.h]\nurl = \"https://example.com/mcp\"\n").unwrap();
    let http = http(config.server("h").unwrap());
    assert_eq!(http.auth, AuthMode::Auto);
    assert!(http.headers.is_empty() && http.bearer_token_env.is_none() && http.oauth.is_none());
}

#[test]
fn a_partial_retry_table_keeps_the_other_defaults() {
    let config =
        toml("[servers.s]\ncommand = \"srv\"\nretry = { attempts = 5, factor = 3 }\n").unwrap();
    let retry = config.server("s").unwrap().retry;
    assert_eq!(retry.max_attempts(), 5);
    assert_eq!(retry.factor(), 3.0);
    assert_eq!(retry.base_delay(), RetryPolicy::default().base_delay());
    assert_eq!(retry.max_delay(), RetryPolicy::default().max_delay());
}
