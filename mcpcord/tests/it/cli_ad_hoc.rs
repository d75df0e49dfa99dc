//! The flags that shape a server given ad hoc (`--env`, `--inherit-env`, `--cwd`, `--header`,
//! `--bearer-env`, `--connect-timeout`, `--request-timeout`, `--retries`): applied to a URL or a
//! command after `--`, refused for a configured server, and bad values refused as usage errors.

use std::process::Output;

use mcp_tests::support::{TempDir, mcpcord_command, refused_port};

use crate::support::stderr;
use crate::{HttpDemo, MCPCORD, json_of};

/// `mcpcord ARGS` to its end, with a home of its own and `extra_env` added to its environment.
fn mcpcord_with(args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let home = TempDir::new("mcpcord-ad-hoc");
    mcpcord_command(MCPCORD, home.path())
        .args(args)
        .envs(extra_env.iter().copied())
        .output()
        .expect("mcpcord runs")
}

fn mcpcord(args: &[&str]) -> Output {
    mcpcord_with(args, &[])
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `health` of a stdio server that is the demo only if `condition` (a `sh` test) holds, and
/// otherwise exits 3 before speaking: what the server's environment was, seen from outside.
fn health_if(flags: &[&str], condition: &str, extra_env: &[(&str, &str)]) -> Output {
    let script = format!("{condition} || exit 3; exec \"$0\" serve-demo --stdio");
    let mut args = vec!["--json", "health", "--retries", "1"];
    args.extend_from_slice(flags);
    args.extend(["--", "sh", "-c", script.as_str(), MCPCORD]);
    mcpcord_with(&args, extra_env)
}

#[test]
fn env_reaches_the_stdio_server() {
    let output = health_if(
        &["--env", "GREETING=hello there"],
        r#"test "$GREETING" = "hello there""#,
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let without = health_if(&[], r#"test "$GREETING" = "hello there""#, &[]);
    assert_eq!(without.status.code(), Some(1), "{}", text(&without));
}

#[test]
fn a_stdio_server_gets_only_the_safe_environment_unless_inherit_env() {
    let secret = [("MCPCORD_TEST_SECRET", "s3cret")];
    let safe = health_if(&[], r#"test -z "$MCPCORD_TEST_SECRET""#, &secret);
    assert_eq!(
        safe.status.code(),
        Some(0),
        "withheld by default: {}",
        text(&safe)
    );
    let inherited = health_if(
        &["--inherit-env"],
        r#"test "$MCPCORD_TEST_SECRET" = s3cret"#,
        &secret,
    );
    assert_eq!(inherited.status.code(), Some(0), "{}", text(&inherited));
}

#[test]
fn cwd_runs_the_server_there_and_a_missing_one_is_named() {
    let dir = TempDir::new("mcpcord-ad-hoc-cwd");
    let there = dir.path().display().to_string();
    let output = health_if(
        &["--cwd", &there],
        &format!("test \"$(pwd -P)\" = \"$(cd {there:?} && pwd -P)\""),
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let missing = dir.path().join("no-such-dir").display().to_string();
    let output = mcpcord(&[
        "health",
        "--cwd",
        &missing,
        "--",
        MCPCORD,
        "serve-demo",
        "--stdio",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(stderr(&output).contains(&missing), "{}", text(&output));
}

#[test]
fn a_header_without_a_colon_is_a_usage_error_that_does_not_show_the_rest() {
    let url = format!("http://127.0.0.1:{}/mcp", refused_port());
    let output = mcpcord(&["health", "--header", "Authorization Bearer tok-123", &url]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let message = stderr(&output);
    assert!(
        message.contains("--header") && message.contains("\"Authorization\""),
        "{message}"
    );
    assert!(message.contains("no colon"), "{message}");
    assert!(
        !message.contains("tok-123"),
        "the token is not shown: {message}"
    );
}

#[test]
fn an_invalid_header_name_or_value_is_a_usage_error() {
    let url = format!("http://127.0.0.1:{}/mcp", refused_port());
    let output = mcpcord(&["health", "--header", "Bad Name: x", &url]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("--header \"Bad Name\" is not a valid HTTP header name"),
        "{}",
        text(&output)
    );

    let output = mcpcord(&["health", "--header", "X-Key: abc\u{1b}[2Jdef", &url]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let message = stderr(&output);
    assert!(message.contains("--header X-Key"), "{message}");
    assert!(
        !message.contains("abc") && !message.contains('\u{1b}'),
        "the value is not shown: {message}"
    );
}

#[test]
fn env_without_an_equals_sign_is_a_usage_error() {
    let output = mcpcord(&[
        "health",
        "--env",
        "DEBUG",
        "--",
        MCPCORD,
        "serve-demo",
        "--stdio",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("--env takes NAME=VALUE") && stderr(&output).contains("\"DEBUG\""),
        "{}",
        text(&output)
    );
}

#[test]
fn an_unparsable_duration_is_a_usage_error_naming_flag_and_value() {
    let output = mcpcord(&[
        "health",
        "--request-timeout",
        "soon\u{7}",
        "--",
        MCPCORD,
        "serve-demo",
        "--stdio",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let message = stderr(&output);
    assert!(
        message.contains(r#"--request-timeout "soon\u{7}" is not a duration"#),
        "{message}"
    );
    assert!(
        !message.contains('\u{7}'),
        "control characters are escaped: {message}"
    );
}

#[test]
fn retries_1_makes_exactly_one_attempt_against_a_refused_url() {
    let url = format!("http://127.0.0.1:{}/mcp", refused_port());
    let output = mcpcord(&[
        "--json",
        "health",
        "--retries",
        "1",
        "--connect-timeout",
        "5s",
        &url,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let document = json_of(&output.stdout, &output.stderr);
    let server = &document["servers"][0];
    assert_eq!(server["attempts"], 1, "{server}");
    assert_eq!(server["error"]["kind"], "connection_refused", "{server}");
}

#[test]
fn retries_0_is_a_usage_error() {
    let output = mcpcord(&["health", "--retries", "0", "http://127.0.0.1:9/mcp"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(stderr(&output).contains("--retries"), "{}", text(&output));
}

#[test]
fn flags_for_the_other_kind_of_server_are_usage_errors() {
    let output = mcpcord(&[
        "health",
        "--header",
        "X-A: 1",
        "--",
        MCPCORD,
        "serve-demo",
        "--stdio",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("--header applies to an HTTP server"),
        "{}",
        text(&output)
    );

    let output = mcpcord(&["health", "--cwd", "/", "http://127.0.0.1:9/mcp"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("--cwd applies to a stdio server"),
        "{}",
        text(&output)
    );
}

#[test]
fn ad_hoc_flags_are_refused_for_a_configured_server() {
    let dir = TempDir::new("mcpcord-ad-hoc-config");
    let file = dir.path().join("mcpcord.toml");
    std::fs::write(
        &file,
        format!("[servers.demo]\ncommand = {MCPCORD:?}\nargs = [\"serve-demo\", \"--stdio\"]\n"),
    )
    .expect("written");
    let config = file.display().to_string();
    for args in [
        vec![
            "--config",
            config.as_str(),
            "health",
            "demo",
            "--retries",
            "1",
        ],
        vec!["--config", config.as_str(), "health", "--retries", "1"],
    ] {
        let output = mcpcord(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(
            stderr(&output).contains("--retries applies only to a server given ad hoc"),
            "{args:?}: {}",
            text(&output)
        );
    }
}

#[test]
fn a_valid_header_and_timeouts_work_against_the_http_demo() {
    let demo = HttpDemo::start(&[]);
    let output = mcpcord(&[
        "--json",
        "call",
        demo.url.as_str(),
        "echo",
        "--args",
        r#"{"text":"hi"}"#,
        "--header",
        "X-Trace: abc 123",
        "--connect-timeout",
        "10s",
        "--request-timeout",
        "10s",
        "--retries",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn ad_hoc_flags_are_refused_by_commands_without_a_server() {
    let output = mcpcord(&["serve-demo", "--stdio", "--retries", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output)
            .contains("--retries applies to a server given ad hoc; serve-demo takes none"),
        "{}",
        text(&output)
    );
}
