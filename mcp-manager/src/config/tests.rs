//! The loader's behaviour, end to end: text in, `Config` or located problems out.

use std::collections::BTreeMap;
use std::env::VarError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_retry::RetryPolicy;
use mcp_transport::stdio::EnvPolicy;

use super::document::Format;
use super::load::{find_in, parse};
use super::*;

const ORIGIN: &str = "/srv/project/mcpcord.toml";
const SECRET: &str = "tok-9f8e7d6c5b4a";

fn env(name: &str) -> Result<String, VarError> {
    match name {
        "REMOTE_TOKEN" => Ok(SECRET.to_owned()),
        "TENANT" => Ok("acme".to_owned()),
        "BROKEN" => Ok(format!("{SECRET}\r\nX-Injected: 1")),
        _ => Err(VarError::NotPresent),
    }
}

fn toml(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new(ORIGIN), Format::Toml, &env)
}

fn json(text: &str) -> Result<Config, ConfigError> {
    parse(
        text,
        Path::new("/srv/project/.mcp.json"),
        Format::Json,
        &env,
    )
}

/// Each problem as `LINE:COLUMN: KEY: MESSAGE`.
fn problems(result: Result<Config, ConfigError>) -> Vec<String> {
    match result {
        Ok(config) => panic!("expected problems, got {config:#?}"),
        Err(error) => {
            assert!(!error.problems().is_empty(), "{error}");
            error.problems().iter().map(ToString::to_string).collect()
        }
    }
}

fn only_problem(result: Result<Config, ConfigError>) -> String {
    let problems = problems(result);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems.into_iter().next().unwrap()
}

fn stdio(config: &ServerConfig) -> &StdioConfig {
    match &config.transport {
        TransportConfig::Stdio(stdio) => stdio,
        other => panic!("not stdio: {other:?}"),
    }
}

fn http(config: &ServerConfig) -> &HttpConfig {
    match &config.transport {
        TransportConfig::Http(http) => http,
        other => panic!("not http: {other:?}"),
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Each format's happy path

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
        url: "https://example.com/mcp".into(),
        headers: map(&[("X-Tenant", "acme")]),
        bearer_token_env: Some("REMOTE_TOKEN".into()),
        auth: AuthMode::Auto,
        oauth: Some(OAuthConfig {
            client_id: Some("...".into()),
            client_secret_env: None,
            scopes: vec!["read".into()],
            callback_port: Some(0),
            client_metadata_url: Some("https://...".into()),
            ..OAuthConfig::default()
        }),
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
    assert_eq!(remote.url, "https://example.com/mcp");
    assert_eq!(remote.headers, map(&[("X-Tenant", "acme")]));
    assert_eq!(remote.auth, AuthMode::Auto);

    assert_eq!(
        http(config.server("cursor").unwrap()).url,
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
        http(config.server("github").unwrap()).url,
        "https://api.githubcopilot.com/mcp/"
    );
    assert_eq!(config.server("local").unwrap().transport_name(), "http");
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

// ---------------------------------------------------------------------------------------------
// Secrets and environment placeholders

#[test]
fn env_placeholders_are_expanded_in_env_and_header_values() {
    let config = toml(
        r#"
[servers.s]
command = "srv"
env = { TOKEN = "${env:REMOTE_TOKEN}", LITERAL = "$${env:REMOTE_TOKEN}" }
[servers.h]
url = "https://example.com/mcp"
headers = { Authorization = "Bearer ${env:REMOTE_TOKEN}", "X-Tenant" = "${env:TENANT}" }
"#,
    )
    .unwrap();
    assert_eq!(
        stdio(config.server("s").unwrap()).env,
        map(&[("TOKEN", SECRET), ("LITERAL", "${env:REMOTE_TOKEN}")])
    );
    assert_eq!(
        http(config.server("h").unwrap()).headers,
        map(&[
            ("Authorization", &format!("Bearer {SECRET}")),
            ("X-Tenant", "acme")
        ])
    );
}

#[test]
fn missing_env_variable_is_a_problem_naming_the_variable_and_the_key() {
    let problem = only_problem(toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\nheaders = { \"X-Key\" = \"${env:NOT_SET}\" }\n",
    ));
    assert_eq!(
        problem,
        "3:23: servers.h.headers.X-Key: environment variable NOT_SET is not set \
         (read by \"${env:NOT_SET}\")"
    );
}

#[test]
fn a_secret_is_never_quoted_in_a_message() {
    let error = toml(
        r#"
[servers.h]
url = "https://x.example/mcp"
headers = { Authorization = "${env:BROKEN}" }
auth = "tok-9f8e7d6c5b4a"
bearer_token_env = "tok-9f8e7d6c5b4a"
"#,
    )
    .unwrap_err();
    let text = error.to_string();
    assert_eq!(error.problems().len(), 3, "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("once its placeholders are expanded"),
        "{text}"
    );
    assert!(
        text.contains("must be the name of the environment variable that holds the token"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Problems: located, named, all at once

#[test]
fn unknown_key_is_reported_with_its_line_and_a_suggestion() {
    let error = toml("# servers\n\n[servers.everything]\ncomand = \"npx\"\ncommand = \"npx\"\n")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{ORIGIN}:4:1: servers.everything: unknown key \"comand\" (did you mean \"command\"?)"
        )
    );
    let problem = &error.problems()[0];
    assert_eq!((problem.line(), problem.column()), (4, 1));
    assert_eq!(problem.key(), "servers.everything");
}

#[test]
fn unknown_key_without_a_close_match_lists_the_known_keys() {
    let problem = only_problem(toml(
        "[servers.s]\ncommand = \"x\"\nretry = { attempts = 2, backoff = \"1s\" }\n",
    ));
    assert!(
        problem
            .starts_with("3:25: servers.s.retry: unknown key \"backoff\" (known keys: attempts,"),
        "{problem}"
    );
}

#[test]
fn other_clients_spellings_get_a_suggestion() {
    let problem = only_problem(json(
        r#"{"mcpServers": {"w": {"serverUrl": "https://x.example/mcp", "url": "https://x.example/mcp"}}}"#,
    ));
    assert!(problem.contains("did you mean \"url\"?"), "{problem}");
    let problem = only_problem(json(
        r#"{"mcpServers": {"c": {"command": "x", "connectTimeout": "5s"}}}"#,
    ));
    assert!(
        problem.contains("did you mean \"connect_timeout\"?"),
        "{problem}"
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = r#"[servers.everything]
comand = "npx"

[servers.remote]
url = "ftp://x"
connect_timeout = "30"
retry = { attempts = 0 }
auth = "bearer"

[servers."bad name"]
command = ""
headers = { "X Tenant" = "acme" }
"#;
    let error = toml(text).unwrap_err();
    let text = error.to_string();
    let listing: Vec<&str> = text.lines().map(|l| l.trim_start_matches(ORIGIN)).collect();
    assert_eq!(
        listing,
        [
            ":1:10: servers.everything: needs \"command\" (to run a stdio server) or \"url\" \
             (to reach a streamable HTTP server)",
            ":2:1: servers.everything: unknown key \"comand\" (did you mean \"command\"?)",
            ":5:7: servers.remote.url: \"ftp://x\" is not an http:// or https:// URL",
            ":6:19: servers.remote.connect_timeout: invalid duration \"30\" (time unit needed, \
             for example 30sec or 30ms); write a number and a unit, such as \"250ms\", \"30s\" \
             or \"2m\"",
            ":7:1: servers.remote.retry: max_attempts must be at least 1 (1 means a single \
             attempt and no retries), got 0",
            ":8:8: servers.remote.auth: is \"bearer\" but \"bearer_token_env\" is not set; name \
             the environment variable that holds the token",
            ":10:10: servers.\"bad name\": a server name may use only letters, digits, \"_\" and \
             \"-\" (it prefixes the names of the server's tools)",
            ":11:11: servers.\"bad name\".command: is empty",
            ":12:1: servers.\"bad name\": \"headers\" applies only to HTTP servers (ones with \
             \"url\"); this is a stdio server (it has \"command\")",
            ":12:13: servers.\"bad name\".headers.\"X Tenant\": \"X Tenant\" is not a valid HTTP \
             header name (letters, digits and !#$%&'*+-.^_`|~; no spaces or colons)",
        ]
    );
}

#[test]
fn toml_syntax_error_reports_its_line_and_column() {
    let error = toml("[servers.s]\ncommand = \"npx\"\nargs = [\"-y\",\n  oops]\n").unwrap_err();
    let problem = &error.problems()[0];
    assert_eq!((problem.line(), problem.column()), (4, 3));
    assert_eq!(problem.key(), "");
    assert!(problem.message().starts_with("invalid TOML: "), "{problem}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{ORIGIN}:4:3: invalid TOML: "))
    );
}

#[test]
fn json_syntax_error_reports_its_line_and_a_column_in_characters() {
    let problem = only_problem(json(
        "{\n  \"mcpServers\": {\n    \"日本\": {\"command\": \"é\" \"args\": []}\n  }\n}",
    ));
    assert_eq!(
        problem,
        "3:27: invalid JSON: expected `,` or `}` after an object member, found `\"` \
         (is a comma missing?)"
    );
}

#[test]
fn sse_server_is_rejected_pointing_at_streamable_http() {
    let problem = only_problem(json(
        r#"{"mcpServers": {"old": {"type": "sse", "url": "https://x.example/sse"}}}"#,
    ));
    assert!(
        problem.starts_with(
            "1:33: mcpServers.old.type: the legacy SSE transport (\"sse\") is not supported; \
             use the server's streamable HTTP endpoint"
        ),
        "{problem}"
    );
}

#[test]
fn a_server_has_exactly_one_of_command_and_url() {
    let problem = only_problem(toml(
        "[servers.s]\ncommand = \"x\"\nurl = \"https://x.example\"\n",
    ));
    assert_eq!(
        problem,
        "3:1: servers.s: a server has either \"command\" (stdio) or \"url\" (streamable HTTP), \
         not both"
    );
    let problem = only_problem(toml("[servers.s]\nargs = [\"x\"]\n"));
    assert!(
        problem.starts_with("1:10: servers.s: needs \"command\""),
        "{problem}"
    );
}

#[test]
fn a_declared_type_must_match_command_or_url() {
    let problem = only_problem(json(
        r#"{"servers": {"s": {"type": "stdio", "url": "https://x.example/mcp"}}}"#,
    ));
    assert_eq!(
        problem,
        "1:28: servers.s.type: declares a stdio server but the server has \"url\", which makes \
         it an HTTP server"
    );
    let problem = only_problem(json(r#"{"servers": {"s": {"type": "http"}}}"#));
    assert_eq!(problem, "1:14: servers.s: an HTTP server needs \"url\"");
    let problem = only_problem(json(
        r#"{"servers": {"s": {"type": "websocket", "url": "https://x.example"}}}"#,
    ));
    assert!(
        problem.contains("unknown transport type \"websocket\""),
        "{problem}"
    );
}

#[test]
fn keys_of_the_other_transport_are_rejected() {
    let problems = problems(toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\nargs = [\"a\"]\ncwd = \"/tmp\"\n",
    ));
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("3:1: servers.h: \"args\" applies only to stdio servers"));
    assert!(problems[1].starts_with("4:1: servers.h: \"cwd\" applies only to stdio servers"));
}

#[test]
fn url_scheme_must_be_http_or_https() {
    assert_eq!(
        only_problem(toml("[servers.remote]\nurl = \"ftp://x\"\n")),
        "2:7: servers.remote.url: \"ftp://x\" is not an http:// or https:// URL"
    );
    let problem = only_problem(toml("[servers.remote]\nurl = \"example.com/mcp\"\n"));
    assert!(
        problem.contains("is not a URL (relative URL without a base)"),
        "{problem}"
    );
    let problem = only_problem(toml(
        "[servers.remote]\nurl = \"ws://u:hunter2@x.example\"\n",
    ));
    assert!(!problem.contains("hunter2"), "{problem}");
}

#[test]
fn durations_need_a_unit_and_timeouts_must_be_positive() {
    let problem = only_problem(toml("[servers.s]\ncommand = \"x\"\nrequest_timeout = 30\n"));
    assert_eq!(
        problem,
        "3:19: servers.s.request_timeout: expected a duration with a unit, found the number 30 \
         (write \"30s\" for seconds or \"30ms\" for milliseconds)"
    );
    let problem = only_problem(toml(
        "[servers.s]\ncommand = \"x\"\nconnect_timeout = \"0s\"\n",
    ));
    assert_eq!(
        problem,
        "3:19: servers.s.connect_timeout: must be longer than zero"
    );
}

#[test]
fn bad_retry_values_are_reported_where_they_are_written() {
    let problems = problems(toml(
        "[servers.s]\ncommand = \"x\"\n[servers.s.retry]\natempts = 2\nbase_delay = \"soon\"\njitter = \"lots\"\nfactor = \"2\"\n",
    ));
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert_eq!(
        problems[0],
        "4:1: servers.s.retry: unknown key \"atempts\" (did you mean \"attempts\"?)"
    );
    assert!(problems[1].starts_with("5:14: servers.s.retry.base_delay: invalid duration \"soon\""));
    assert_eq!(
        problems[2],
        "6:10: servers.s.retry.jitter: unknown variant `lots`, expected one of `none`, `full`, `equal`"
    );
    assert!(problems[3].starts_with("7:10: servers.s.retry.factor: expected a number"));
}

#[test]
fn retry_rules_of_the_policy_itself_are_reported_at_the_retry_table() {
    let problem = only_problem(toml(
        "[servers.s]\ncommand = \"x\"\nretry = { base_delay = \"1m\", max_delay = \"10s\" }\n",
    ));
    assert_eq!(
        problem,
        "3:1: servers.s.retry: base_delay (1m) is longer than max_delay (10s)"
    );
}

#[test]
fn retry_keys_are_exactly_the_table_form_mcp_retry_reads() {
    // Every key we accept is one mcp-retry reads ...
    for key in super::schema::RETRY_KEYS {
        let value = match *key {
            "attempts" | "max_attempts" => "2",
            "factor" => "3",
            "jitter" => "\"none\"",
            _ => "\"1s\"",
        };
        let table = format!("{key} = {value}");
        ::toml::from_str::<RetryPolicy>(&table)
            .unwrap_or_else(|e| panic!("mcp-retry rejects {table}: {e}"));
    }
    // ... and every key it writes is one we accept.
    let full = RetryPolicy::builder()
        .max_elapsed(Some(Duration::from_secs(60)))
        .build()
        .unwrap();
    let serde_json::Value::Object(written) = serde_json::to_value(full).unwrap() else {
        panic!("a policy is written as a table");
    };
    for key in written.keys() {
        assert!(super::schema::RETRY_KEYS.contains(&key.as_str()), "{key}");
    }
}

#[test]
fn bearer_auth_needs_a_token_variable() {
    assert_eq!(
        only_problem(toml(
            "[servers.h]\nurl = \"https://x.example/mcp\"\nauth = \"bearer\"\n"
        )),
        "3:8: servers.h.auth: is \"bearer\" but \"bearer_token_env\" is not set; name the \
         environment variable that holds the token"
    );
    let config = toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\nauth = \"bearer\"\nbearer_token_env = \"T\"\n",
    )
    .unwrap();
    assert_eq!(http(config.server("h").unwrap()).auth, AuthMode::Bearer);
}

#[test]
fn contradictory_auth_settings_are_reported() {
    let problems = problems(toml(
        r#"[servers.h]
url = "https://x.example/mcp"
auth = "none"
bearer_token_env = "T"
oauth = { client_id = "c" }
headers = { authorization = "Bearer x" }
"#,
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("auth is \"none\", which sends no credentials"));
    assert!(problems[1].contains("OAuth settings are given, but auth is \"none\""));
    assert!(
        problems[2].starts_with(
            "6:13: servers.h.headers.authorization: is also set by \"bearer_token_env\""
        )
    );
}

#[test]
fn invalid_header_names_and_values_are_reported() {
    let problems = problems(json(
        r#"{"servers": {"h": {"url": "https://x.example/mcp", "headers": {
            "Bad:Name": "v", "X-Ok": "line\nbreak", "x-ok": "again"}}}}"#,
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("\"Bad:Name\" is not a valid HTTP header name"));
    assert!(problems[1].contains(
        "servers.h.headers.X-Ok: is not a valid HTTP header value: it contains a line break"
    ));
    assert!(
        problems[2].contains("servers.h.headers.x-ok: is written twice (header names ignore case)")
    );
}

#[test]
fn oauth_settings_are_checked() {
    let problems = problems(toml(
        r#"[servers.h]
url = "https://x.example/mcp"
[servers.h.oauth]
client_secret_env = "SECRET"
scopes = ["read write"]
callback_port = 70000
client_metadata_url = "http://example.com/client.json"
redirect = "x"
"#,
    ));
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert!(problems[0].contains("\"client_secret_env\" needs \"client_id\""));
    assert!(problems[1].contains("servers.h.oauth.scopes[0]: a scope is one word"));
    assert!(problems[2].contains("70000 is not a port number"));
    assert!(problems[3].contains("must be an https:// URL (http:// only on localhost)"));
    assert!(problems[4].contains("unknown key \"redirect\""));
    let config = toml(
        "[servers.h]\nurl = \"https://x.example/mcp\"\noauth = { client_id = \"c\", client_secret_env = \"S\", client_metadata_url = \"http://127.0.0.1:8080/c.json\" }\n",
    )
    .unwrap();
    let oauth = http(config.server("h").unwrap()).oauth.clone().unwrap();
    assert_eq!(oauth.client_secret_env.as_deref(), Some("S"));
    assert_eq!(oauth.callback_port, None);
}

#[test]
fn oauth_grants_and_client_authentication_are_checked() {
    let problems = problems(toml(
        r#"[servers.h]
url = "https://x.example/mcp"
[servers.h.oauth]
grant = "password"
token_endpoint_auth_method = "tls_client_auth"
private_key_env = "not a name"
[servers.m]
url = "https://x.example/mcp"
oauth = { grant = "client_credentials" }
"#,
    ));
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains(
        "must be \"authorization_code\", \"client_credentials\" or \"enterprise_managed\""
    ));
    assert!(problems[1].contains(
        "\"none\", \"client_secret_basic\", \"client_secret_post\" or \"private_key_jwt\""
    ));
    assert!(problems[2].contains("servers.h.oauth.private_key_env"));
    assert!(problems[3].contains("needs \"client_id\""));
    let config = toml(
        "[servers.m]\nurl = \"https://x.example/mcp\"\noauth = { client_id = \"m\", grant = \"client_credentials\", token_endpoint_auth_method = \"private_key_jwt\", private_key_env = \"KEY_PEM\" }\n",
    )
    .unwrap();
    let oauth = http(config.server("m").unwrap()).oauth.clone().unwrap();
    assert_eq!(oauth.grant, crate::config::OAuthGrant::ClientCredentials);
    assert_eq!(
        oauth.token_endpoint_auth_method.as_deref(),
        Some("private_key_jwt")
    );
    assert_eq!(oauth.private_key_env.as_deref(), Some("KEY_PEM"));
}

#[test]
fn server_names_must_be_usable_as_tool_prefixes() {
    let problems = problems(json(
        r#"{"mcpServers": {"my server": {"command": "x"}, "a.b": {"command": "x"}, "": {"command": "x"}, "ok_name-2": {"command": "x"}}}"#,
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("mcpServers.\"my server\": a server name may use only letters"));
    assert!(problems[2].contains("mcpServers.\"\": a server name"));
}

#[test]
fn wrong_value_types_say_what_was_expected_and_found() {
    let problems = problems(json(
        r#"{"mcpServers": {"s": {"command": "x", "args": ["--port", 8080], "env": {"PORT": 8080}, "auto_recover": "yes"}}}"#,
    ));
    assert_eq!(
        problems
            .iter()
            .map(|p| p.split_once(' ').unwrap().1)
            .collect::<Vec<_>>(),
        [
            "mcpServers.s.args[1]: expected a string, found the number 8080 (in quotes: \"8080\")",
            "mcpServers.s.env.PORT: expected a string, found the number 8080 (in quotes: \"8080\")",
            "mcpServers.s.auto_recover: expected true or false, found a string",
        ]
    );
    let problem = only_problem(toml("[servers.s]\ncommand = \"x\"\nargs = \"-y pkg\"\n"));
    assert!(
        problem.ends_with(
            "expected an array of strings, found a string (write a list, such as [\"a\", \"b\"])"
        ),
        "{problem}"
    );
}

#[test]
fn repeated_json_keys_are_reported() {
    let problems = problems(json(
        r#"{"mcpServers": {"s": {"command": "a", "command": "b"}, "s": {"command": "c"}}}"#,
    ));
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("mcpServers.s: key \"command\" is written twice"));
    assert!(problems[1].contains("mcpServers: key \"s\" is written twice"));
}

#[test]
fn json_top_level_typos_and_both_lists_are_reported() {
    let problem = only_problem(json(r#"{"mcpServer": {"s": {"command": "x"}}}"#));
    assert_eq!(
        problem,
        "1:2: unknown key \"mcpServer\" (did you mean \"mcpServers\"?)"
    );
    let problem = only_problem(json(r#"{"servers": {}, "mcpServers": {}}"#));
    assert!(
        problem.contains("both \"servers\" and \"mcpServers\" list servers"),
        "{problem}"
    );
    let problem = only_problem(json("[]"));
    assert!(
        problem.starts_with("1:1: a config file is an object"),
        "{problem}"
    );
}

#[test]
fn toml_top_level_takes_only_servers() {
    assert_eq!(
        only_problem(toml("[server.s]\ncommand = \"x\"\n")),
        "1:2: unknown key \"server\" (did you mean \"servers\"?)"
    );
}

// ---------------------------------------------------------------------------------------------
// Paths

#[test]
fn relative_cwd_resolves_against_the_config_files_directory() {
    let text = "[servers.a]\ncommand = \"x\"\ncwd = \"sub/dir\"\n[servers.b]\ncommand = \"x\"\ncwd = \"/abs\"\n[servers.c]\ncommand = \"x\"\ncwd = \"..\"\n";
    let config = parse(
        text,
        Path::new("/etc/mcpcord/mcpcord.toml"),
        Format::Toml,
        &env,
    )
    .unwrap();
    let cwd = |name| stdio(config.server(name).unwrap()).cwd.clone().unwrap();
    assert_eq!(cwd("a"), Path::new("/etc/mcpcord/sub/dir"));
    assert_eq!(cwd("b"), Path::new("/abs"));
    assert_eq!(cwd("c"), Path::new("/etc/mcpcord/.."));
}

#[test]
fn relative_config_path_still_gives_an_absolute_cwd() {
    let config = parse(
        "[servers.a]\ncommand = \"x\"\ncwd = \".\"\n",
        Path::new("mcpcord.toml"),
        Format::Toml,
        &env,
    )
    .unwrap();
    let cwd = stdio(config.server("a").unwrap()).cwd.clone().unwrap();
    assert_eq!(cwd, std::env::current_dir().unwrap());
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcpcord-config-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn lookup_prefers_the_explicit_path_then_the_env_var_then_mcpcord_toml_then_mcp_json() {
    let dir = TempDir::new("order");
    let explicit = dir.file("explicit.toml", "");
    let from_env = dir.file("env.json", "{}");
    let env_value = Some(OsString::from(&from_env));

    assert_eq!(find_in(None, None, &dir.0).unwrap(), None);
    let mcp_json = dir.file(".mcp.json", "{}");
    assert_eq!(find_in(None, None, &dir.0).unwrap(), Some(mcp_json));
    let mcpcord_toml = dir.file("mcpcord.toml", "");
    assert_eq!(find_in(None, None, &dir.0).unwrap(), Some(mcpcord_toml));
    assert_eq!(
        find_in(None, env_value.clone(), &dir.0).unwrap(),
        Some(from_env)
    );
    assert_eq!(
        find_in(Some(&explicit), env_value, &dir.0).unwrap(),
        Some(explicit)
    );
}

#[test]
fn an_empty_env_var_counts_as_unset() {
    let dir = TempDir::new("empty-env");
    let mcpcord_toml = dir.file("mcpcord.toml", "");
    assert_eq!(
        find_in(None, Some(OsString::new()), &dir.0).unwrap(),
        Some(mcpcord_toml)
    );
}

#[test]
fn a_named_file_that_does_not_exist_is_an_error_naming_it() {
    let dir = TempDir::new("missing");
    dir.file("mcpcord.toml", "");
    let missing = dir.0.join("nope.toml");

    let error = find_in(Some(&missing), None, &dir.0).unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(error.path(), missing);
    assert_eq!(
        error.to_string(),
        format!("config file {} does not exist", missing.display())
    );

    let error = find_in(None, Some(missing.clone().into()), &dir.0).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::NotFound {
            named_by: NamedBy::Environment,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "config file {} (named by $MCPCORD_CONFIG) does not exist",
            missing.display()
        )
    );
}

#[test]
fn from_path_chooses_the_format_by_extension() {
    let dir = TempDir::new("formats");
    let toml_path = dir.file("a.toml", "[servers.t]\ncommand = \"x\"\n");
    let json_path = dir.file("b.JSON", r#"{"mcpServers": {"j": {"command": "x"}}}"#);
    let config = Config::from_path(&toml_path).unwrap();
    assert!(config.server("t").is_some());
    assert_eq!(config.source.as_deref(), Some(toml_path.as_path()));
    assert!(Config::from_path(&json_path).unwrap().server("j").is_some());

    let yaml = dir.file("c.yaml", "servers: {}");
    let error = Config::from_path(&yaml).unwrap_err();
    assert!(
        matches!(error, ConfigError::UnknownFormat { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("name it *.toml"), "{error}");

    let error = Config::from_path(dir.0.join("absent.toml")).unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[test]
fn from_path_reports_bad_encoding_and_accepts_a_byte_order_mark() {
    let dir = TempDir::new("encoding");
    let path = dir.0.join("latin1.toml");
    std::fs::write(&path, b"[servers.s]\ncommand = \"caf\xe9\"\n").unwrap();
    let error = Config::from_path(&path).unwrap_err();
    assert_eq!(
        error.problems()[0].to_string(),
        "2:15: the file is not UTF-8 text"
    );

    let bom = dir.file("bom.json", "\u{feff}{\"mcpServers\": {}}");
    assert!(Config::from_path(&bom).unwrap().servers.is_empty());
}

#[test]
fn a_file_that_never_ends_is_refused_once_past_the_limit() {
    let error = Config::from_path("/dev/zero").expect_err("/dev/zero is no configuration");
    assert!(error.is_too_large(), "{error:?}");
    assert_eq!(error.path(), Path::new("/dev/zero"));
    let message = error.to_string();
    assert!(
        message.contains("/dev/zero") && message.contains("1 MiB"),
        "{message}"
    );
}
