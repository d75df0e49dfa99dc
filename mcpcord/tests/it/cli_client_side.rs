//! The client side of the protocol from the CLI, against the official servers `cargo xtask
//! npm-deps` installs: roots (`--root`, with the filesystem server), elicitation (`--no-input`,
//! `--elicit defaults`, and a form on a pseudo-terminal, with server-everything) and sampling
//! (`--sampling-command`, or declined).
//!
//! Nothing here waits by sleeping: output is read as it comes, with bounded waits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use mcp_manager::{ClientRoot, Manager, ManagerOptions, ServerConfig};
use mcp_tests::support::{
    BOUND, KillOnDrop, TempDir, eventually_blocking, eventually_some_blocking, mcpcord_command,
    read_pid, running, text_of,
};

use crate::MCPCORD;
use crate::support::{
    Collected, Pty, assert_exit, collect, everything, interrupt, npm_server, stderr, stdout,
};

fn filesystem() -> Vec<String> {
    let entry = npm_server("@modelcontextprotocol/server-filesystem");
    vec!["node".to_owned(), entry.display().to_string()]
}

/// `mcpcord ARGS -- SERVER...`, off a terminal, with a home of its own.
fn mcpcord(args: &[&str], server: &[String]) -> Output {
    let home = TempDir::new("mcpcord-client-side");
    mcpcord_command(MCPCORD, home.path())
        .args(args)
        .arg("--")
        .args(server)
        .output()
        .expect("mcpcord runs")
}

// Elicitation, off a terminal.

#[test]
fn with_no_input_an_elicitation_is_declined_and_the_person_told() {
    let output = mcpcord(
        &["--no-input", "call", "trigger-elicitation-request"],
        &everything(),
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("User declined to provide the requested information"),
        "{}",
        stdout(&output)
    );
    let stderr = stderr(&output);
    assert!(
        stderr.contains(
            "mcpcord: server node asked for input (Please provide inputs for the following \
             fields:); declined: --no-input; --elicit defaults accepts with the form's defaults"
        ),
        "{stderr}"
    );
}

#[test]
fn off_a_terminal_an_elicitation_is_declined() {
    let output = mcpcord(&["call", "trigger-elicitation-request"], &everything());
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("User declined"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("declined: not on a terminal"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_url_elicitation_is_declined_with_no_input() {
    let output = mcpcord(
        &[
            "--no-input",
            "call",
            "trigger-url-elicitation",
            "--args",
            r#"{"url":"https://example.com/consent"}"#,
        ],
        &everything(),
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("User declined to open the URL"),
        "{}",
        stdout(&output)
    );
}

/// server-everything's form requires `name`, which has no default: the defaults do not answer
/// it, so it is declined rather than sent incomplete.
#[test]
fn elicit_defaults_declines_a_form_whose_required_field_has_no_default() {
    let output = mcpcord(
        &[
            "--elicit",
            "defaults",
            "call",
            "trigger-elicitation-request",
        ],
        &everything(),
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("User declined to provide the requested information"),
        "{}",
        stdout(&output)
    );
    let stderr = stderr(&output);
    assert!(
        stderr.contains(
            "mcpcord: server node asked for input (Please provide inputs for the following \
             fields:); declined: --elicit defaults cannot answer it (field \"name\": a value is \
             required)"
        ),
        "{stderr}"
    );
}

#[test]
fn no_input_with_elicit_ask_is_a_usage_error() {
    let output = mcpcord(
        &["--no-input", "--elicit", "ask", "list", "tools"],
        &everything(),
    );
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("--no-input asks nothing, and --elicit ask asks"),
        "{}",
        stderr(&output)
    );
}

// Sampling.

#[test]
fn without_a_sampling_command_sampling_is_declined_with_a_message() {
    let output = mcpcord(
        &[
            "call",
            "trigger-sampling-request",
            "--args",
            r#"{"prompt":"hi"}"#,
        ],
        &everything(),
    );
    assert_exit(&output, 1);
    let stderr = stderr(&output);
    assert!(
        stderr.contains(
            "mcpcord: server node asked for an LLM completion (sampling); declined: mcpcord \
             has no model (--sampling-command CMD answers with a program of yours)"
        ),
        "{stderr}"
    );
    // What the server was told, as it reports it.
    assert!(
        stdout(&output).contains("sampling declined: this client (mcpcord) has no model"),
        "{}",
        stdout(&output)
    );
    // rmcp's own warning about the error answered, a `Debug` dump, is left to -vv.
    assert!(!stderr.contains("ErrorData"), "{stderr}");
}

/// A sampling command written into `dir`: it checks that its input is the request, then answers.
fn sampling_script(dir: &TempDir) -> PathBuf {
    let script = dir.join("sample.sh");
    std::fs::write(
        &script,
        r#"#!/bin/sh
input=$(cat)
case "$input" in
  *'"maxTokens":100'*) ;;
  *) echo "unexpected input: $input" >&2; exit 3 ;;
esac
printf '{"role":"assistant","content":{"type":"text","text":"hello from %s"},"model":"script","stopReason":"endTurn"}' "$MCPCORD_SERVER"
"#,
    )
    .expect("the script is written");
    make_executable(&script);
    script
}

fn make_executable(script: &Path) {
    let mut permissions = std::fs::metadata(script).expect("metadata").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(script, permissions).expect("chmod");
}

#[test]
fn the_sampling_command_answers_a_sampling_request() {
    let dir = TempDir::new("mcpcord-sampling");
    let script = sampling_script(&dir);
    let output = mcpcord(
        &[
            "--sampling-command",
            &script.display().to_string(),
            "call",
            "trigger-sampling-request",
            "--args",
            r#"{"prompt":"hi"}"#,
        ],
        &everything(),
    );
    assert_exit(&output, 0);
    let stdout = stdout(&output);
    assert!(stdout.contains("LLM sampling result"), "{stdout}");
    assert!(stdout.contains(r#""text": "hello from node""#), "{stdout}");
    assert!(stdout.contains(r#""model": "script""#), "{stdout}");
}

#[test]
fn a_sampling_command_printing_other_than_a_result_fails_the_request_saying_why() {
    let output = mcpcord(
        &[
            "--sampling-command",
            "cat >/dev/null; echo 42",
            "call",
            "trigger-sampling-request",
            "--args",
            r#"{"prompt":"hi"}"#,
        ],
        &everything(),
    );
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains(
            "mcpcord: server node asked for an LLM completion (sampling); --sampling-command \
             failed: its output is not a CreateMessageResult in JSON"
        ),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("the client's sampling command failed"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_sampling_commands_output_quoted_in_an_error_is_shown_on_one_line_defused() {
    // serde quotes an unknown variant as it is: here an escape sequence and a line break.
    let output = mcpcord(
        &[
            "--sampling-command",
            r#"cat >/dev/null; printf '%s' '{"role":"\u001b[2Jevil\nnexthalf","content":{"type":"text","text":"x"},"model":"m"}'"#,
            "call",
            "trigger-sampling-request",
            "--args",
            r#"{"prompt":"hi"}"#,
        ],
        &everything(),
    );
    assert_exit(&output, 1);
    let stderr = stderr(&output);
    let line = stderr
        .lines()
        .find(|line| line.contains("--sampling-command failed"))
        .unwrap_or_else(|| panic!("no failure note: {stderr}"));
    assert!(line.contains("evil"), "{stderr}");
    assert!(
        line.contains("nexthalf"),
        "the rest is on the same line: {stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

/// The call gives up while the sampling command still runs: mcpcord exits, and the command with
/// it.
#[test]
fn a_sampling_command_still_running_when_the_call_times_out_is_killed() {
    let dir = TempDir::new("mcpcord-sampling");
    let pid_file = dir.join("pid");
    let script = dir.join("sample.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > {pid}.tmp && mv {pid}.tmp {pid}\nexec sleep 100\n",
            pid = pid_file.display()
        ),
    )
    .expect("the script is written");
    make_executable(&script);
    let output = mcpcord(
        &[
            "--request-timeout",
            "3s",
            "--sampling-command",
            &script.display().to_string(),
            "call",
            "trigger-sampling-request",
            "--args",
            r#"{"prompt":"hi"}"#,
        ],
        &everything(),
    );
    assert_exit(&output, 1);
    let sleeper = read_pid(&pid_file);
    let _cleanup = KillOnDrop(sleeper);
    eventually_blocking("the sampling command is killed", || !running(sleeper));
}

// Roots.

#[test]
fn a_root_that_does_not_exist_is_a_usage_error() {
    let dir = TempDir::new("mcpcord-roots");
    let missing = dir.join("missing");
    let output = mcpcord(
        &["--root", &missing.display().to_string(), "list", "tools"],
        &filesystem(),
    );
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains(&format!("--root {}: no such directory", missing.display())),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_root_that_is_a_file_is_a_usage_error() {
    let dir = TempDir::new("mcpcord-roots");
    let file = dir.join("file");
    std::fs::write(&file, "").expect("a file");
    let output = mcpcord(
        &["--root", &file.display().to_string(), "list", "tools"],
        &filesystem(),
    );
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("is not a directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn serve_demo_refuses_the_client_side_flags() {
    let home = TempDir::new("mcpcord-client-side");
    let output = mcpcord_command(MCPCORD, home.path())
        .args(["serve-demo", "--stdio", "--root", "."])
        .output()
        .expect("mcpcord runs");
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("--root is for the servers mcpcord connects to"),
        "{}",
        stderr(&output)
    );
}

/// `mcpcord -v ARGS watch -- filesystem-server SERVER_ARGS` until its stderr holds `until`
/// (bounded); then Ctrl+C. Its whole stderr.
fn watch_filesystem_until(args: &[&str], server_args: &[&str], until: &str) -> String {
    let home = TempDir::new("mcpcord-roots");
    let mut child = mcpcord_command(MCPCORD, home.path())
        .arg("-v")
        .args(args)
        .arg("watch")
        .arg("--")
        .args(filesystem())
        .args(server_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mcpcord starts");
    let _cleanup = KillOnDrop(child.id());
    let seen = collect(child.stderr.take().expect("stderr"));
    eventually_blocking(&format!("mcpcord's stderr holds {until:?}"), || {
        seen.text().contains(until)
    });
    assert_eq!(interrupt(&mut child).code(), Some(130));
    seen.text()
}

#[test]
fn without_roots_the_filesystem_server_says_the_client_does_not_support_them() {
    let dir = TempDir::new("mcpcord-roots");
    let dir = dir.path().display().to_string();
    let stderr = watch_filesystem_until(&[], &[&dir], "Client does not support MCP Roots");
    assert!(!stderr.contains("Updated allowed directories"), "{stderr}");
}

#[test]
fn with_a_root_the_filesystem_server_takes_it_as_its_allowed_directory() {
    let root = TempDir::new("mcpcord-roots");
    let stderr = watch_filesystem_until(
        &["--root", &root.path().display().to_string()],
        &[],
        "Updated allowed directories from MCP roots: 1 valid directories",
    );
    // The server asks for roots once initialized, and says this instead when a client has none.
    assert!(
        !stderr.contains("Client does not support MCP Roots"),
        "{stderr}"
    );
    assert!(!stderr.contains("Server cannot operate"), "{stderr}");
}

/// The server applies the roots it is given a moment after the handshake, so its list of allowed
/// directories is polled, bounded, in one session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filesystem_server_lists_the_roots_offered_as_its_allowed_directories() {
    let root = TempDir::new("mcpcord-roots");
    let canonical = std::fs::canonicalize(root.path()).expect("the root exists");
    let mut options = ManagerOptions::default();
    options.roots = vec![ClientRoot {
        uri: mcp_manager::Url::from_file_path(&canonical)
            .expect("an absolute path")
            .to_string(),
        name: Some("root".to_owned()),
    }];
    let manager = Manager::new(options).expect("a manager");
    let server = filesystem();
    let id = manager
        .connect(
            "filesystem",
            &ServerConfig::stdio(&server[0], server[1..].to_vec()),
        )
        .await
        .expect("connects");
    let expected = canonical.display().to_string();
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        let result = manager
            .call_tool(id, "list_allowed_directories", serde_json::json!({}))
            .await
            .expect("the call");
        let listed = text_of(&result).to_owned();
        if listed.lines().any(|line| line == expected) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "after {BOUND:?} the server still lists {listed:?}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    manager.shutdown(Duration::from_secs(2)).await;
}

// On a terminal.

/// mcpcord on a pseudo-terminal (stdin, stdout and stderr), 40 rows by 120 columns, without
/// colours; what it writes gathered as it comes.
struct Tty {
    child: Child,
    master: std::fs::File,
    seen: Collected,
    /// Where the next `expect` starts looking.
    cursor: usize,
    _home: TempDir,
}

impl Tty {
    fn start(args: &[&str], server: &[String]) -> Self {
        let pty = Pty::open(40, 120);
        let home = TempDir::new("mcpcord-tty");
        let slave = std::fs::File::from(pty.secondary);
        let child = {
            let mut command = mcpcord_command(MCPCORD, home.path());
            command
                .args(args)
                .arg("--")
                .args(server)
                .env("TERM", "xterm")
                .env("NO_COLOR", "1")
                .env("CLICOLOR", "0")
                .stdin(slave.try_clone().expect("dup"))
                .stdout(slave.try_clone().expect("dup"))
                .stderr(slave);
            command.spawn().expect("mcpcord starts")
        };
        let master = pty.primary;
        let seen = collect(master.try_clone().expect("dup"));
        Self {
            child,
            master,
            seen,
            cursor: 0,
            _home: home,
        }
    }

    /// Waits until `text` appears after what was already expected.
    fn expect(&mut self, text: &str) {
        let cursor = self.cursor;
        let seen = &self.seen;
        let end = eventually_some_blocking(&format!("the terminal shows {text:?}"), || {
            let screen = seen.bytes();
            let after = String::from_utf8_lossy(screen.get(cursor..).unwrap_or_default());
            after
                .find(text)
                .map(|at| cursor + after[..at].len() + text.len())
        });
        self.cursor = end;
    }

    /// Types `keys`.
    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("typed");
        self.master.flush().expect("typed");
    }

    /// Everything shown, once mcpcord has exited with `code`.
    fn finish(&mut self, code: i32) -> String {
        let child = &mut self.child;
        let status = eventually_some_blocking("mcpcord exits", || child.try_wait().ok().flatten());
        assert_eq!(status.code(), Some(code), "{}", self.seen.text());
        self.seen.text()
    }
}

impl Tty {
    /// Whether the terminal is in its usual line mode, echoing what is typed (not raw).
    fn is_cooked(&self) -> bool {
        use rustix::termios::{LocalModes, tcgetattr};
        let modes = tcgetattr(&self.master).expect("the terminal's settings");
        modes
            .local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";

#[test]
fn on_a_terminal_the_person_fills_in_the_form_and_values_are_checked_as_typed() {
    let mut tty = Tty::start(
        &["--browser", "none", "call", "trigger-elicitation-request"],
        &everything(),
    );
    tty.expect("Server node asks for input:");
    tty.expect("Please provide inputs for the following fields:");
    tty.expect("Answer it?");
    tty.send(ENTER); // Fill in the form
    tty.expect("Your full, legal name");
    tty.expect("String (name) *");
    tty.send("Ada Lovelace");
    tty.send(ENTER);
    tty.expect("Boolean (check)");
    tty.send(ENTER); // yes
    tty.expect("String with default (firstLine)");
    tty.send(ENTER); // the default
    tty.expect("String with email format (email) [an email address");
    tty.send("not-an-address");
    tty.send(ENTER);
    tty.expect("must be an email address");
    tty.send("ada@example.com");
    tty.send(ENTER);
    tty.expect("String with uri format (homepage)");
    tty.send(ENTER); // left empty
    tty.expect("String with date format (birthdate)");
    tty.send(ENTER);
    tty.expect("Integer (integer) [an integer, 1 to 100]");
    tty.send("500");
    tty.send(ENTER);
    tty.expect("must be at most 100");
    tty.send("7");
    tty.send(ENTER);
    tty.expect("Number in range 1-1000 (number) [a number, 0 to 1000]");
    tty.send(ENTER); // the default, 3.14
    tty.expect("Untitled Single Select Enum");
    tty.send(DOWN); // Rachel
    tty.send(ENTER);
    tty.expect("Untitled Multiple Select Enum");
    tty.send(ENTER); // Guitar, checked by default
    tty.expect("Titled Single Select Enum");
    tty.send(ENTER); // Superman
    tty.expect("Titled Multiple Select Enum");
    tty.send(ENTER); // Tuna
    tty.expect("Legacy Titled Single Select Enum");
    tty.expect("Cats");
    tty.send(ENTER);
    tty.expect("Send these values?");
    tty.send(ENTER);
    let shown = tty.finish(0);
    assert!(
        shown.contains("User provided the requested information"),
        "{shown}"
    );
    assert!(shown.contains("- Name: Ada Lovelace"), "{shown}");
    assert!(shown.contains("- Email: ada@example.com"), "{shown}");
    assert!(shown.contains("- Favorite Integer: 7"), "{shown}");
    assert!(shown.contains("- Favorite Number: 3.14"), "{shown}");
    assert!(
        shown.contains(r#""untitledSingleSelectEnum": "Rachel""#),
        "{shown}"
    );
    assert!(shown.contains(r#""check": true"#), "{shown}");
    assert!(!shown.contains(r#""homepage""#), "{shown}");
}

#[test]
fn on_a_terminal_the_person_may_decline() {
    let mut tty = Tty::start(&["call", "trigger-elicitation-request"], &everything());
    tty.expect("Answer it?");
    tty.send(DOWN); // Decline
    tty.send(ENTER);
    let shown = tty.finish(0);
    assert!(
        shown.contains("User declined to provide the requested information"),
        "{shown}"
    );
}

#[test]
fn on_a_terminal_a_url_is_shown_whole_and_opened_only_when_the_person_agrees() {
    let mut tty = Tty::start(
        &[
            "--browser",
            "none",
            "call",
            "trigger-url-elicitation",
            "--args",
            r#"{"url":"https://example.com/consent?step=1","message":"Approve\u001b[2J the payment"}"#,
        ],
        &everything(),
    );
    tty.expect("Server node asks you to open a URL:");
    // The server's escape sequence is shown defused, not obeyed.
    tty.expect("Approve [2J the payment");
    tty.expect("URL: https://example.com/consent?step=1");
    tty.expect("Accept (open it yourself)");
    tty.send(ENTER);
    let shown = tty.finish(0);
    assert!(
        shown.contains("User completed the URL elicitation flow"),
        "{shown}"
    );
}

#[test]
fn a_form_still_waiting_when_the_call_times_out_leaves_the_terminal_as_it_was() {
    let mut tty = Tty::start(
        &[
            "--request-timeout",
            "1s",
            "call",
            "trigger-elicitation-request",
        ],
        &everything(),
    );
    assert!(tty.is_cooked(), "the pty starts in line mode");
    tty.expect("Answer it?");
    // The prompt now waits for a key, the terminal raw and the cursor hidden, until the call's
    // second is up.
    let shown = tty.finish(1);
    assert!(tty.is_cooked(), "{shown}");
    let hidden = shown.rfind("\x1b[?25l").expect("the list hid the cursor");
    assert!(shown[hidden..].contains("\x1b[?25h"), "{shown:?}");
}
