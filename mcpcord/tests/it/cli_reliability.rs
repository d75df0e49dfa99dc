//! The `mcpcord` binary against hostile or broken surroundings: a program that is not an MCP server,
//! output that cannot be written, a configuration "file" that never ends, a malformed URL.
//! Every run is bounded, so a regression fails instead of hanging.

use std::io::Read;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mcp_tests::support::{TempDir, mcpcord_command};

use crate::{MCPCORD, json_of};

/// What a bounded run of mcpcord left behind.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `mcpcord ARGS` with stdout going to `stdout`, killing it if it runs past `bound`.
fn run_bounded(args: &[&str], stdout: Stdio, bound: Duration) -> Run {
    let home = TempDir::new("mcpcord-bounded");
    let started = Instant::now();
    let mut child = mcpcord_command(MCPCORD, home.path())
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("mcpcord runs");
    // The pipes are read on threads of their own, so a full pipe never holds mcpcord up.
    let stdout = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("mcpcord can be waited for") {
            break status;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            let shown: Vec<String> = args
                .iter()
                .map(|arg| arg.chars().take(80).collect())
                .collect();
            panic!("mcpcord {shown:?} still running after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let text = |reader: Option<std::thread::JoinHandle<String>>| {
        reader
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default()
    };
    Run {
        status,
        stdout: text(stdout),
        stderr: text(stderr),
        took,
    }
}

fn run(args: &[&str]) -> Run {
    run_bounded(args, Stdio::piped(), Duration::from_secs(20))
}

#[test]
fn a_program_that_echoes_initialize_back_fails_at_once_without_retries() {
    // `cat` sends our `initialize` back to us: a request where its answer should be.
    let run = run(&["--json", "health", "--", "cat"]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.took < Duration::from_secs(10),
        "well under connect_timeout (30 s), took {:?}",
        run.took
    );
    let server = &json_of(&run.stdout, &run.stderr)["servers"][0];
    assert_eq!(server["attempts"], 1, "not retried: {server}");
    assert_eq!(server["error"]["kind"], "handshake", "{server}");
    let message = server["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not an MCP server"), "{message}");
    assert!(
        message.contains("answered our first request with a request"),
        "{message}"
    );
}

#[test]
fn a_json_rpc_error_for_initialize_fails_at_once_without_retries() {
    // A legacy server: it refuses the `server/discover` probe (id 0) as an unknown method, then
    // refuses `initialize` (id 1) too.
    let script = r#"read -r line; printf '{"jsonrpc":"2.0","id":0,"error":{"code":-32601,"message":"no"}}\n'; read -r line; printf '{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"no"}}\n'; read -r rest"#;
    let run = run(&["--json", "health", "--", "sh", "-c", script]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let server = &json_of(&run.stdout, &run.stderr)["servers"][0];
    assert_eq!(server["attempts"], 1, "not retried: {server}");
    assert_eq!(server["error"]["kind"], "handshake", "{server}");
}

#[test]
fn an_invalid_url_is_a_usage_error() {
    for url in ["http://exa mple.com/mcp", "https://[::1/mcp", "http://"] {
        let run = run(&["health", url]);
        assert_eq!(run.status.code(), Some(2), "{url}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a valid URL"),
            "{url}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_endless_config_file_is_refused_at_once_naming_the_file_and_the_bound() {
    let run = run_bounded(
        &["--config", "/dev/zero", "health"],
        Stdio::piped(),
        Duration::from_secs(10),
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("/dev/zero"), "{}", run.stderr);
    assert!(run.stderr.contains("1 MiB"), "{}", run.stderr);
}

#[test]
fn a_config_file_over_the_bound_is_refused() {
    let dir = TempDir::new("mcpcord-big-config");
    let file = dir.join("mcpcord.toml");
    // A comment, so the only thing wrong with it is its size.
    let mut text = String::from("[servers.demo]\ncommand = \"true\"\n");
    text.push_str(&format!("# {}\n", "x".repeat(1024 * 1024)));
    std::fs::write(&file, text).expect("written");
    let path = file.display().to_string();
    let run = run(&["--config", &path, "health"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains(&path), "{}", run.stderr);
    assert!(run.stderr.contains("1 MiB"), "{}", run.stderr);
}

/// `mcpcord --json call echo` on the demo server, with stdout going to `stdout`.
fn call_echo(stdout: Stdio) -> Run {
    run_bounded(
        &[
            "--json",
            "call",
            "echo",
            "--args",
            r#"{"text":"hi"}"#,
            "--",
            MCPCORD,
            "serve-demo",
            "--stdio",
        ],
        stdout,
        Duration::from_secs(20),
    )
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens");
    let run = call_echo(Stdio::from(full));
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("could not write the output"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // A pipe whose reader is gone before mcpcord writes, as after `mcpcord ... | head -0`.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let run = call_echo(Stdio::from(writer));
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("could not write"), "{}", run.stderr);
}

/// A stdio "server" in `sh` whose every string is hostile: terminal escapes (`ESC ]0;` sets the
/// window title, `ESC [2J` clears the screen), carriage returns, and a 5 MB JSON-RPC error message.
/// (Backslashes are doubled for printf, so the JSON carries `\u001b`, `\r` and `\n` escapes.)
const HOSTILE_SERVER: &str = r#"
id_of() { printf '%s' "$1" | sed 's/.*"id":\("[^"]*"\|[0-9]*\).*/\1/'; }
read -r line
case "$line" in *'"server/discover"'*)
  printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"Method not found"}}\n' "$(id_of "$line")"
  read -r line ;;
esac
printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"evil\\u001b]0;pwned-name\\u0007","version":"1\\u001b[2J"},"instructions":"read\\rme\\u001b[31m"}}\n' "$(id_of "$line")"
read -r line
while read -r line; do
  id=$(id_of "$line")
  case "$line" in
    *'"tools/list"'*)
      printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"hostile\\u001b[2J","description":"clears\\u001b[2Jthe screen\\r","inputSchema":{"type":"object"}},{"name":"huge","inputSchema":{"type":"object"}}]}}\n' "$id" ;;
    *'"huge"'*)
      printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"' "$id"
      head -c 5000000 /dev/zero | tr '\0' 'x'
      printf '"}}\n' ;;
    *'"tools/call"'*)
      printf '{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"line one\\nline\\u001b]0;pwned-title\\u0007 two\\rover"}]}}\n' "$id" ;;
    *'"id"'*)
      printf '{"jsonrpc":"2.0","id":%s,"result":{}}\n' "$id" ;;
  esac
done
"#;

fn against_hostile(args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--", "sh", "-c", HOSTILE_SERVER]);
    run(&all)
}

/// Fails if `text` holds a control character a terminal would act on (all but newline and tab).
fn assert_no_terminal_controls(what: &str, text: &str) {
    let found: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(found.is_empty(), "{what} holds {found:?}: {text:?}");
}

#[test]
fn inspect_shows_a_servers_strings_without_their_control_characters() {
    let run = against_hostile(&["inspect"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert_no_terminal_controls("stdout", &run.stdout);
    assert!(
        run.stdout.contains("pwned-name"),
        "still shown: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("the screen"),
        "still shown: {}",
        run.stdout
    );
}

#[test]
fn call_shows_tool_output_without_its_control_characters_but_keeps_its_lines() {
    let run = against_hostile(&["call", "hostile"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert_no_terminal_controls("stdout", &run.stdout);
    assert!(run.stdout.contains("line one\nline"), "{}", run.stdout);
}

#[test]
fn a_huge_json_rpc_error_message_is_shown_shortened_without_control_characters() {
    let run = against_hostile(&["call", "huge"]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr.len() < 20_000,
        "{} bytes on stderr",
        run.stderr.len()
    );
    assert!(run.stderr.contains("more characters"), "{}", run.stderr);
    assert_no_terminal_controls("stderr", &run.stderr);
}

#[test]
fn json_output_keeps_a_servers_strings_whole_and_escaped() {
    let run = against_hostile(&["--json", "call", "hostile"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert_no_terminal_controls("stdout", &run.stdout);
    assert_eq!(
        json_of(&run.stdout, &run.stderr)["content"][0]["text"],
        "line one\nline\u{1b}]0;pwned-title\u{7} two\rover"
    );
}

/// A stdio "server" in `sh` that completes the handshake and lists one tool, then stops reading
/// its stdin for good.
const STOPS_READING: &str = r#"
id_of() { printf '%s' "$1" | sed 's/.*"id":\("[^"]*"\|[0-9]*\).*/\1/'; }
read -r line
case "$line" in *'"server/discover"'*)
  printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"Method not found"}}\n' "$(id_of "$line")"
  read -r line ;;
esac
printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"stuck","version":"1"}}}\n' "$(id_of "$line")"
read -r line
read -r line
printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}\n' "$(id_of "$line")"
exec sleep 1000
"#;

#[test]
fn a_call_too_large_for_a_server_that_stops_reading_times_out() {
    let dir = TempDir::new("mcpcord-stops-reading");
    let file = dir.join("mcpcord.toml");
    let config = format!(
        "[servers.stuck]\ncommand = \"sh\"\nargs = [\"-c\", {STOPS_READING:?}]\nrequest_timeout = \"1s\"\n"
    );
    std::fs::write(&file, config).expect("written");
    // More than a pipe holds (64 KiB), so the write itself waits for the server; less than one
    // command-line argument may be (128 KiB).
    let arguments = format!(r#"{{"text":"{}"}}"#, "x".repeat(100 * 1024));
    let path = file.display().to_string();
    let run = run(&[
        "--config", &path, "call", "stuck", "echo", "--args", &arguments,
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("request_timeout"), "{}", run.stderr);
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
}
