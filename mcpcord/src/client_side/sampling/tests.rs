//! The sampling command: what it is given, what it must print, and the bounds it runs within.

use std::time::Duration;

use mcp_manager::rmcp::model::{
    CreateMessageRequestParams, Role, SamplingMessage, SamplingMessageContentBlock,
};
use mcp_tests::support::{KillOnDrop, TempDir, eventually, read_pid, running};

use super::{SamplingCommandError, run};

/// Well above what `sh` needs to start and answer on a loaded machine.
const ENOUGH: Duration = Duration::from_secs(20);

fn params() -> CreateMessageRequestParams {
    CreateMessageRequestParams::new(
        vec![SamplingMessage::new(
            Role::User,
            SamplingMessageContentBlock::text("What is MCP?"),
        )],
        7,
    )
}

const ANSWER: &str =
    r#"{"role":"assistant","content":{"type":"text","text":"a protocol"},"model":"script"}"#;

#[tokio::test]
async fn the_command_gets_the_params_on_stdin_and_its_json_is_the_result() {
    // Answers only if its input holds the request, and names the server in the model.
    let command = r#"input=$(cat); case "$input" in *'"maxTokens":7'*'What is MCP?'*|*'What is MCP?'*'"maxTokens":7'*) ;; *) exit 3;; esac
printf '{"role":"assistant","content":{"type":"text","text":"a protocol"},"model":"%s"}' "$MCPCORD_SERVER""#;
    let result = run(command, "everything", &params(), ENOUGH, 4096)
        .await
        .expect("an answer");
    assert_eq!(result.model, "everything");
    assert_eq!(result.message.role, Role::Assistant);
    let text = serde_json::to_value(&result.message.content).expect("JSON");
    assert_eq!(text["text"], "a protocol", "{text}");
}

#[tokio::test]
async fn a_command_that_ignores_its_input_still_answers() {
    let command = format!("printf '%s' '{ANSWER}'");
    let result = run(&command, "s", &params(), ENOUGH, 4096).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn output_that_is_not_a_create_message_result_is_a_typed_error() {
    let error = run("echo 'the answer is 42'", "s", &params(), ENOUGH, 4096)
        .await
        .expect_err("not JSON");
    assert!(
        matches!(error, SamplingCommandError::BadOutput(_)),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("its output is not a CreateMessageResult in JSON"),
        "{error}"
    );
    let error = run("echo '{\"model\":\"m\"}'", "s", &params(), ENOUGH, 4096)
        .await
        .expect_err("JSON, but no message");
    assert!(
        matches!(error, SamplingCommandError::BadOutput(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failing_command_is_reported_with_its_exit_status() {
    let command = format!("printf '%s' '{ANSWER}'; exit 4");
    let error = run(&command, "s", &params(), ENOUGH, 4096)
        .await
        .expect_err("exit 4");
    assert!(
        matches!(error, SamplingCommandError::Failed(_)),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "it failed (exit status: 4)");
}

#[tokio::test]
async fn too_much_output_is_cut_short_and_the_command_killed() {
    let error = run("yes", "s", &params(), ENOUGH, 1000)
        .await
        .expect_err("endless output");
    assert!(
        matches!(error, SamplingCommandError::TooMuchOutput(1000)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_dropped_request_kills_the_commands_whole_group() {
    let dir = TempDir::new("mcpcord-sampling-timeout");
    let pid_file = dir.join("pid");
    // A grandchild in the command's group, which a kill of `sh` alone would leave running.
    let command = format!(
        "sleep 1000 & echo $! > {pid}.tmp && mv {pid}.tmp {pid}; wait",
        pid = pid_file.display()
    );
    let params = params();
    let mut run = Box::pin(run(&command, "s", &params, ENOUGH, 4096));
    tokio::select! {
        outcome = &mut run => panic!("ended on its own: {outcome:?}"),
        () = eventually("the command wrote its pid", || pid_file.exists()) => {}
    }
    let sleeper = read_pid(&pid_file);
    let _cleanup = KillOnDrop(sleeper);
    assert!(running(sleeper));
    drop(run);
    eventually("the dropped command's group is killed", || {
        !running(sleeper)
    })
    .await;
}

#[tokio::test]
async fn a_command_that_does_not_answer_in_time_is_a_timeout_and_killed() {
    let dir = TempDir::new("mcpcord-sampling-timeout");
    let pid_file = dir.join("pid");
    let command = format!(
        "echo $$ > {pid}.tmp && mv {pid}.tmp {pid}; exec sleep 1000",
        pid = pid_file.display()
    );
    let error = run(&command, "s", &params(), Duration::from_secs(1), 4096)
        .await
        .expect_err("no answer");
    assert!(
        matches!(error, SamplingCommandError::TimedOut(limit) if limit == Duration::from_secs(1)),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "no answer within 1s; it was killed");
    // A second is plenty for `sh` to start and write its pid.
    let sleeper = read_pid(&pid_file);
    let _cleanup = KillOnDrop(sleeper);
    eventually("the command is killed", || !running(sleeper)).await;
}
