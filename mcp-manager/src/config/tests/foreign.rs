//! Other clients' JSON files load: their own keys are accepted, honoured or warned about, and one
//! bad server entry skips that server while the others run. TOML, our own format, stays strict.

use super::files::TempDir;
use super::*;

/// A JSON file at `origin`, read with `HOME=/home/ada` and `TOKEN=s3cret` in the environment.
fn json_at(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let env = |name: &str| match name {
        "HOME" => Ok("/home/ada".to_owned()),
        "TOKEN" => Ok("s3cret".to_owned()),
        _ => Err(VarError::NotPresent),
    };
    parse(text, origin, Format::Json, &env)
}

#[test]
fn a_claude_desktop_file_with_other_clients_keys_loads_without_warnings() {
    let config = json(
        r#"{"mcpServers": {
            "fs": {"type": "stdio", "command": "npx", "args": ["-y", "fs"],
                   "autoApprove": ["read_file"], "alwaysAllow": ["list"], "disabled": false}
        }}"#,
    )
    .unwrap();
    assert_eq!(stdio(config.server("fs").unwrap()).args, ["-y", "fs"]);
    assert_eq!(warnings(&config), Vec::<String>::new());
    assert!(config.disabled.is_empty() && config.invalid.is_empty());
}

#[test]
fn a_disabled_server_is_not_run_not_checked_and_listed() {
    let config = json(
        r#"{"mcpServers": {
            "on": {"command": "a"},
            "off": {"command": "b", "disabled": true},
            "half-written": {"disabled": true, "args": 3}
        }}"#,
    )
    .unwrap();
    let names: Vec<_> = config
        .servers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["on"]);
    assert_eq!(config.disabled, ["off", "half-written"]);
    assert!(config.invalid.is_empty() && config.warnings.is_empty());
}

#[test]
fn disabled_must_be_true_or_false() {
    let problem = only_problem(json(
        r#"{"mcpServers": {"s": {"command": "a", "disabled": "yes"}}}"#,
    ));
    assert_eq!(
        problem,
        "1:51: mcpServers.s.disabled: expected true or false, found a string"
    );
}

#[test]
fn one_bad_server_entry_is_skipped_with_its_problems_and_the_others_load() {
    let config = json(
        r#"{"mcpServers": {
  "good": {"command": "a"},
  "bad": {"url": "ftp://x", "timeout": "soon"},
  "also-good": {"url": "https://x.example/mcp"}
}}"#,
    )
    .unwrap();
    let names: Vec<_> = config
        .servers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["good", "also-good"]);
    let (name, problems) = &config.invalid[0];
    assert_eq!(name, "bad");
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(
        problems[0],
        "3:18: mcpServers.bad.url: \"ftp://x\" is not an http:// or https:// URL"
    );
    assert!(
        problems[1].starts_with("3:40: mcpServers.bad.timeout: invalid duration \"soon\""),
        "{problems:#?}"
    );
    assert_eq!(config.invalid.len(), 1);
}

#[test]
fn a_problem_outside_the_server_entries_still_fails_the_file_and_lists_everything() {
    let problems = problems(json(
        r#"{"mcpServers": {"s": {"command": ""}}, "mcpServer": {}}"#,
    ));
    assert_eq!(
        problems,
        [
            "1:34: mcpServers.s.command: is empty",
            "1:40: unknown key \"mcpServer\" (did you mean \"mcpServers\"?)",
        ]
    );
}

#[test]
fn unknown_keys_in_json_are_warnings_and_the_server_still_loads() {
    let config =
        json(r#"{"servers": {"s": {"command": "a", "description": "files", "gallery": true}}}"#)
            .unwrap();
    assert!(config.server("s").is_some());
    assert_eq!(
        warnings(&config),
        [
            "1:36: servers.s: unknown key \"description\"; ignored",
            "1:60: servers.s: unknown key \"gallery\"; ignored",
        ]
    );
}

#[test]
fn toml_stays_strict_about_other_clients_keys() {
    let problems = problems(toml(
        "[servers.s]\ncommand = \"a\"\ndisabled = true\nautoApprove = []\n",
    ));
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("3:1: servers.s: unknown key \"disabled\""),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with("4:1: servers.s: unknown key \"autoApprove\""),
        "{problems:#?}"
    );
}

#[test]
fn a_timeout_with_a_unit_is_the_request_timeout() {
    let config = json(r#"{"mcpServers": {"s": {"command": "a", "timeout": "90s"}}}"#).unwrap();
    assert_eq!(
        config.server("s").unwrap().request_timeout,
        Duration::from_secs(90)
    );
    assert!(config.warnings.is_empty());
}

#[test]
fn a_bare_number_timeout_is_ambiguous_and_ignored_with_a_warning() {
    let config = json(r#"{"mcpServers": {"s": {"command": "a", "timeout": 60}}}"#).unwrap();
    assert_eq!(
        config.server("s").unwrap().request_timeout,
        Duration::from_secs(60)
    );
    let warnings = warnings(&config);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with(
            "1:50: mcpServers.s.timeout: ignored: a number without a unit is seconds to some \
             clients and milliseconds to others"
        ),
        "{warnings:#?}"
    );
}

#[test]
fn request_timeout_wins_over_timeout_with_a_warning() {
    let config = json(
        r#"{"mcpServers": {"s": {"command": "a", "timeout": "5s", "request_timeout": "2m"}}}"#,
    )
    .unwrap();
    assert_eq!(
        config.server("s").unwrap().request_timeout,
        Duration::from_secs(120)
    );
    assert_eq!(
        warnings(&config),
        ["1:39: mcpServers.s.timeout: ignored: \"request_timeout\" is set"]
    );
}

#[test]
fn env_file_is_read_relative_to_the_config_and_explicit_env_wins() {
    let dir = TempDir::new("env-file");
    dir.file(".env", "# secrets\nAPI_KEY=from-file\nexport MODE='dev'\n");
    let config = json_at(
        r#"{"servers": {"s": {"command": "a", "envFile": ".env", "env": {"MODE": "prod"}}}}"#,
        &dir.0.join("mcp.json"),
    )
    .unwrap();
    assert_eq!(
        stdio(config.server("s").unwrap()).env,
        map(&[("API_KEY", "from-file"), ("MODE", "prod")])
    );
}

#[test]
fn env_file_may_name_the_workspace_folder() {
    let dir = TempDir::new("env-file-workspace");
    dir.file(".env", "A=1\n");
    std::fs::create_dir(dir.0.join(".vscode")).unwrap();
    let config = json_at(
        r#"{"servers": {"s": {"command": "a", "envFile": "${workspaceFolder}/.env"}}}"#,
        &dir.0.join(".vscode/mcp.json"),
    )
    .unwrap();
    assert_eq!(stdio(config.server("s").unwrap()).env, map(&[("A", "1")]));
}

#[test]
fn a_missing_or_malformed_env_file_skips_only_its_server() {
    let dir = TempDir::new("env-file-bad");
    dir.file("bad.env", "A=1\nnot a pair\n");
    let config = json_at(
        r#"{"servers": {
            "missing": {"command": "a", "envFile": "nope.env"},
            "malformed": {"command": "a", "envFile": "bad.env"},
            "fine": {"command": "a"}
        }}"#,
        &dir.0.join("mcp.json"),
    )
    .unwrap();
    assert!(config.server("fine").is_some());
    let skipped: Vec<(&str, String)> = config
        .invalid
        .iter()
        .map(|(name, problems)| (name.as_str(), problems[0].message().to_owned()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:#?}");
    assert!(skipped[0].1.starts_with("cannot read "), "{skipped:#?}");
    assert!(
        skipped[1]
            .1
            .ends_with("bad.env line 2: expected NAME=VALUE (a name of letters, digits and \"_\")"),
        "{skipped:#?}"
    );
}

#[test]
fn an_env_file_larger_than_64_kib_is_refused() {
    let dir = TempDir::new("env-file-large");
    dir.file("big.env", &"A=1\n".repeat(20_000));
    let problem = only_problem(json_at(
        r#"{"servers": {"s": {"command": "a", "envFile": "big.env"}}}"#,
        &dir.0.join("mcp.json"),
    ));
    assert!(
        problem.ends_with("is larger than the limit of 64 KiB for an env file"),
        "{problem}"
    );
}

#[test]
fn env_file_applies_only_to_stdio_servers() {
    let problem = only_problem(json(
        r#"{"servers": {"h": {"url": "https://x.example/mcp", "envFile": ".env"}}}"#,
    ));
    assert!(
        problem.contains("\"envFile\" applies only to stdio servers"),
        "{problem}"
    );
}

#[test]
fn vs_code_path_variables_are_expanded_in_every_string_value() {
    let config = json_at(
        r#"{"servers": {
            "s": {"command": "${userHome}/bin/server", "args": ["--root", "${workspaceFolder}"],
                  "cwd": "${workspaceFolder}/sub", "env": {"DATA": "${userHome}/data"}},
            "h": {"url": "https://x.example/mcp", "headers": {"X-Root": "${workspaceFolder}"}}
        }}"#,
        Path::new("/work/project/.vscode/mcp.json"),
    )
    .unwrap();
    let s = stdio(config.server("s").unwrap());
    assert_eq!(s.command, "/home/ada/bin/server");
    assert_eq!(s.args, ["--root", "/work/project"]);
    assert_eq!(s.cwd.as_deref(), Some(Path::new("/work/project/sub")));
    assert_eq!(s.env, map(&[("DATA", "/home/ada/data")]));
    assert_eq!(
        http(config.server("h").unwrap()).headers,
        map(&[("X-Root", "/work/project")])
    );
}

#[test]
fn outside_dot_vscode_the_workspace_folder_is_the_files_directory() {
    let config = json_at(
        r#"{"mcpServers": {"s": {"command": "a", "args": ["${workspaceFolder}"]}}}"#,
        Path::new("/work/project/.mcp.json"),
    )
    .unwrap();
    assert_eq!(stdio(config.server("s").unwrap()).args, ["/work/project"]);
}

#[test]
fn a_url_takes_path_variables_but_never_a_secret() {
    let config = json_at(
        r#"{"servers": {"h": {"url": "http://localhost:8080${userHome}"}}}"#,
        Path::new("/p/mcp.json"),
    )
    .unwrap();
    assert_eq!(
        http(config.server("h").unwrap()).url.as_str(),
        "http://localhost:8080/home/ada"
    );
    let problem = only_problem(json_at(
        r#"{"servers": {"h": {"url": "https://x.example/${env:TOKEN}"}}}"#,
        Path::new("/p/mcp.json"),
    ));
    assert!(
        problem.contains("placeholders are not expanded in a URL"),
        "{problem}"
    );
}

#[test]
fn user_home_without_home_set_is_a_problem() {
    let problem = only_problem(json(
        r#"{"mcpServers": {"s": {"command": "a", "args": ["${userHome}"]}}}"#,
    ));
    assert!(
        problem.ends_with("mcpServers.s.args: \"${userHome}\" is used but HOME is not set"),
        "{problem}"
    );
}
