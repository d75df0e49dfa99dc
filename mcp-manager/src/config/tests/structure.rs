//! Problems with a file's structure, located, named and all reported at once: unknown and
//! repeated keys, syntax errors, server entries (stdio or HTTP, names, types of values) and the top
//! level.

use super::*;

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
fn other_clients_spellings_get_a_suggestion_in_a_warning() {
    let config = json(
        r#"{"mcpServers": {"w": {"serverUrl": "https://x.example/mcp", "url": "https://x.example/mcp"}}}"#,
    )
    .unwrap();
    assert_eq!(
        warnings(&config),
        ["1:23: mcpServers.w: unknown key \"serverUrl\" (did you mean \"url\"?); ignored"]
    );
    let config =
        json(r#"{"mcpServers": {"c": {"command": "x", "connectTimeout": "5s"}}}"#).unwrap();
    assert_eq!(
        warnings(&config),
        [
            "1:39: mcpServers.c: unknown key \"connectTimeout\" (did you mean \"connect_timeout\"?); \
          ignored"
        ]
    );
    assert_eq!(
        config.server("c").unwrap().connect_timeout,
        Duration::from_secs(30)
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
fn the_http_transport_comes_from_type_or_transport_and_defaults_to_found_out() {
    let config = json(
        r#"{"mcpServers": {
            "old": {"type": "sse", "url": "https://x.example/sse"},
            "new": {"type": "streamable-http", "url": "https://x.example/mcp"},
            "either": {"type": "http", "url": "https://x.example/mcp"},
            "plain": {"url": "https://x.example/mcp"},
            "keyed": {"url": "https://x.example/sse", "transport": "sse"}
        }}"#,
    )
    .unwrap();
    let kind = |name: &str| http(config.server(name).unwrap()).transport;
    assert_eq!(kind("old"), HttpTransportKind::LegacySse);
    assert_eq!(kind("new"), HttpTransportKind::StreamableHttp);
    assert_eq!(kind("either"), HttpTransportKind::Auto);
    assert_eq!(kind("plain"), HttpTransportKind::Auto);
    assert_eq!(kind("keyed"), HttpTransportKind::LegacySse);

    let config = toml(
        "[servers.a]\nurl = \"https://x.example/sse\"\ntransport = \"sse\"\n\
         [servers.b]\nurl = \"https://x.example/mcp\"\ntransport = \"auto\"\n",
    )
    .unwrap();
    assert_eq!(
        http(config.server("a").unwrap()).transport,
        HttpTransportKind::LegacySse
    );
    assert_eq!(
        http(config.server("b").unwrap()).transport,
        HttpTransportKind::Auto
    );
}

#[test]
fn an_unknown_or_contradicting_http_transport_is_a_problem_and_stdio_takes_none() {
    let problem = only_problem(toml(
        "[servers.s]\nurl = \"https://x.example\"\ntransport = \"websocket\"\n",
    ));
    assert!(
        problem.starts_with("3:13: servers.s.transport: unknown HTTP transport \"websocket\""),
        "{problem}"
    );
    let problem = only_problem(json(
        r#"{"mcpServers": {"s": {"type": "streamable-http", "transport": "sse", "url": "https://x.example"}}}"#,
    ));
    assert!(
        problem
            .contains("mcpServers.s.transport: says \"sse\" but \"type\" says \"streamable-http\""),
        "{problem}"
    );
    let problem = only_problem(toml("[servers.s]\ncommand = \"x\"\ntransport = \"sse\"\n"));
    assert!(
        problem.contains("\"transport\" applies only to HTTP servers"),
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
