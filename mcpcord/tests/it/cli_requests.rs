//! One request per command (`read`, `prompt`, `complete`, `list`, `ping`, `log-level`, `skills`)
//! against the built-in demo server: what each prints, its `--json` shape, and its exit code. The
//! demo offers neither completion, logging nor skills, so those are tested by their failures.
//! Last, `Manager::ping` itself.

use std::process::Output;

use crate::support::{against_demo, assert_exit, stderr, stdout};
use crate::{MCPCORD, json_of};

#[test]
fn read_prints_a_text_resource() {
    let output = against_demo(&["read", "demo://items/7"]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "item 7\n");
}

#[test]
fn read_json_is_the_read_resource_result() {
    let output = against_demo(&["--json", "read", "demo://readme"]);
    assert_exit(&output, 0);
    let document = json_of(&output.stdout, &output.stderr);
    let contents = &document["contents"][0];
    assert_eq!(contents["uri"], "demo://readme");
    assert_eq!(contents["mimeType"], "text/markdown");
    assert!(
        contents["text"]
            .as_str()
            .is_some_and(|text| text.starts_with("# The mcpcord demo server")),
        "{document}"
    );
}

#[test]
fn saving_into_something_that_is_not_a_directory_is_a_usage_error() {
    let output = against_demo(&["read", "demo://readme", "--save", "/dev/null"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("not a directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn reading_an_unknown_resource_exits_1_with_a_json_error() {
    let output = against_demo(&["--json", "read", "demo://nothing"]);
    assert_rpc_error(&output, "demo://nothing");
}

#[test]
fn prompt_prints_each_message_as_role_and_text() {
    let output = against_demo(&["prompt", "greet", "--args", r#"{"name":"Ada"}"#]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        "user: Please greet Ada warmly, in one short sentence.\n"
    );
}

#[test]
fn prompt_json_is_the_get_prompt_result() {
    let output = against_demo(&["--json", "prompt", "greet", "--args", r#"{"name":"Ada"}"#]);
    assert_exit(&output, 0);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["messages"][0]["role"], "user");
    assert_eq!(
        document["messages"][0]["content"]["text"],
        "Please greet Ada warmly, in one short sentence."
    );
}

#[test]
fn prompt_args_that_are_not_an_object_are_a_usage_error() {
    let output = against_demo(&["prompt", "greet", "--args", "[1]"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("JSON object"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn list_tools_prints_names_and_descriptions() {
    let output = against_demo(&["list", "tools"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|line| line == "echo - Return the given text unchanged"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5, "{text}");
}

#[test]
fn list_prompts_json_is_the_array_of_prompts() {
    let output = against_demo(&["--json", "list", "prompts"]);
    assert_exit(&output, 0);
    let document = json_of(&output.stdout, &output.stderr);
    let mut names: Vec<&str> = document
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|prompt| prompt["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["greet", "summarize"]);
}

#[test]
fn list_templates_names_each_by_its_uri_template() {
    let output = against_demo(&["list", "templates"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("demo://items/{id} - "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn listing_an_unknown_kind_is_a_usage_error_naming_the_kinds() {
    let output = against_demo(&["list", "widgets"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("tools, resources, templates, prompts"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn ping_prints_the_round_trip() {
    let output = against_demo(&["ping"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.starts_with("mcpcord: ") && text.trim_end().ends_with(" ms"),
        "{text}"
    );
}

#[test]
fn ping_json_has_server_and_ms() {
    let output = against_demo(&["--json", "ping"]);
    assert_exit(&output, 0);
    let document = json_of(&output.stdout, &output.stderr);
    let mut keys: Vec<&String> = document.as_object().expect("an object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["ms", "server"]);
    assert_eq!(document["server"], "mcpcord");
    assert!(
        document["ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{document}"
    );
}

#[test]
fn an_unknown_log_level_exits_2_listing_the_valid_ones() {
    let output = against_demo(&["log-level", "loud"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains(
            "valid levels: debug, info, notice, warning, error, critical, alert, emergency"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn log_level_on_a_server_without_logging_exits_1_with_a_json_error() {
    // The demo speaks the modern era, where the log level travels with each request: mcpcord
    // refuses without asking a server that declares no logging.
    let output = against_demo(&["--json", "log-level", "WARNING"]);
    assert_exit(&output, 1);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["error"]["kind"], "unsupported", "{document}");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("no logging capability")),
        "{document}"
    );
}

#[test]
fn complete_on_a_server_without_completions_exits_1_with_a_json_error() {
    let output = against_demo(&["--json", "complete", "--prompt", "greet", "name", "A"]);
    assert_rpc_error(&output, "the server does not offer completions");
}

#[test]
fn complete_needs_a_prompt_or_a_resource() {
    let output = against_demo(&["complete", "name", "A"]);
    assert_exit(&output, 2);
    assert_eq!(output.stdout, b"", "nothing on stdout");
}

#[test]
fn a_server_name_beside_a_command_is_a_usage_error() {
    let output = against_demo(&["read", "everything", "demo://readme"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("leave SERVER out"),
        "{}",
        stderr(&output)
    );
}

/// `Manager::ping`, under the commands: a pong within the request timeout, and an unknown id is
/// refused without anything sent.
#[tokio::test]
async fn manager_ping_measures_a_round_trip_and_refuses_an_unknown_server() {
    use std::time::Duration;

    use mcp_manager::{CallError, Manager, ManagerOptions, ServerConfig};

    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let demo = ServerConfig::stdio(MCPCORD, ["serve-demo", "--stdio"]);
    let server = manager.connect("demo", &demo).await.expect("connected");
    let round_trip = manager.ping(server).await.expect("a pong");
    assert!(round_trip < Duration::from_secs(10), "{round_trip:?}");
    manager.disconnect(server).await.expect("disconnected");
    let error = manager.ping(server).await.expect_err("no such server");
    assert!(matches!(error, CallError::UnknownServer(_)), "{error:?}");
    manager.shutdown(Duration::from_secs(2)).await;
}

/// `output` is exit 1 with `{"error": {"kind": "rpc", "message"}}` on stdout, the message saying
/// `text`.
fn assert_rpc_error(output: &Output, text: &str) {
    assert_exit(output, 1);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["error"]["kind"], "rpc");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains(text)),
        "{document}"
    );
}

#[test]
fn skills_of_a_server_without_the_extension_is_exit_1_and_asks_nothing() {
    let output = against_demo(&["--json", "skills"]);
    assert_exit(&output, 1);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["error"]["kind"], "skills_not_offered");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("io.modelcontextprotocol/skills")),
        "{document}"
    );
}
