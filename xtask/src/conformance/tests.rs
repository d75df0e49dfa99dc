//! The conformance task's parsing and judging, on recorded suite output.

use super::output::*;
use super::verdicts::*;
use super::*;

const LIST_OUTPUT: &str = "Client scenarios (test against a client):\n  \
    - initialize [2025-06-18,2025-11-25]\n  \
    - auth/metadata-default [2025-11-25]\n  \
    - auth/cross-app-access-complete-flow [extension]\n";

const PASSING_RUN: &str = "\
Starting scenario: tools_call
Executing client: /x/mcp-conformance-client http://localhost:35035/mcp
loopback-preload: listening on 127.0.0.1:35035
Checks:
2026-11-24T07:54:46.106Z [incoming-request ] INFO    Received POST request for /mcp (method: initialize)
2026-11-24T07:54:46.138Z [tool-add-numbers ] SUCCESS Validates that the add_numbers tool works correctly

Test Results:
Passed: 1/1, 0 failed, 0 warnings

\u{2705} OVERALL: PASSED
";

const FAILING_RUN: &str = "\
Starting scenario: auth/metadata-default
Client exited with code 1

Stderr:
2026-11-24T07:54:59.027382Z ERROR rmcp::transport::worker: Received nothing [oops]
Checks:
2026-11-24T07:55:14.247Z [prm-pathbased-requested      ] FAILURE Expected Check Missing: prm-pathbased-requested
2026-11-24T07:55:14.248Z [incoming-request             ] FAILURE Expected Check Missing: incoming-request
2026-11-24T07:55:14.248Z [prm-pathbased-requested      ] FAILURE Expected Check Missing: prm-pathbased-requested

Test Results:
Passed: 0/5, 5 failed, 0 warnings

Failed Checks:
  - Expected Check Missing: prm-pathbased-requested: Expected Check Missing: prm-pathbased-requested

\u{274c} OVERALL: FAILED
";

#[test]
fn scenario_names_are_read_from_the_list_output() {
    assert_eq!(
        parse_scenario_list(LIST_OUTPUT),
        [
            "initialize",
            "auth/metadata-default",
            "auth/cross-app-access-complete-flow"
        ]
    );
}

#[test]
fn a_list_without_scenario_lines_has_no_scenarios() {
    assert!(parse_scenario_list("Client scenarios (test against a client):\n\n").is_empty());
}

#[test]
fn a_passing_run_reports_counts_and_a_request() {
    let report = parse_run(PASSING_RUN);
    assert_eq!(
        report,
        RunReport {
            passed: Some((1, 1)),
            failed_checks: vec![],
            overall_passed: true,
            reached_server: true,
        }
    );
    assert_eq!(verdict(&Exit::Success, &report), Ok(()));
}

#[test]
fn failed_check_ids_are_collected_once_each_in_order() {
    let report = parse_run(FAILING_RUN);
    assert_eq!(report.passed, Some((0, 5)));
    assert_eq!(
        report.failed_checks,
        ["prm-pathbased-requested", "incoming-request"]
    );
    assert!(!report.overall_passed);
}

#[test]
fn missing_request_checks_and_client_log_lines_do_not_count_as_reaching_the_server() {
    assert!(!parse_run(FAILING_RUN).reached_server);
}

#[test]
fn a_passing_suite_with_no_request_is_a_failure() {
    let run = "Checks:\n\nTest Results:\nPassed: 1/1, 0 failed, 0 warnings\n\nOVERALL: PASSED\n";
    let report = parse_run(run);
    assert!(report.overall_passed);
    assert_eq!(
        verdict(&Exit::Success, &report),
        Err("client never reached the server".to_owned())
    );
}

#[test]
fn the_initialize_check_counts_as_reaching_the_server() {
    let run = "2026-11-24T07:54:12.029Z [mcp-client-initialization] SUCCESS Validates that MCP client properly initializes with server\n";
    assert!(parse_run(run).reached_server);
}

#[test]
fn a_received_description_counts_as_reaching_the_server() {
    let run = "2026-11-24T07:54:48.624Z [incoming-auth-request ] INFO    Received GET request for /authorize\n";
    assert!(parse_run(run).reached_server);
}

#[test]
fn a_failing_exit_without_failed_checks_is_a_failure() {
    let report = parse_run(PASSING_RUN);
    assert_eq!(
        verdict(&Exit::Failure("exit status: 1".to_owned()), &report),
        Err("suite failed (exit status: 1)".to_owned())
    );
}

#[test]
fn a_timeout_is_a_failure_even_after_a_pass() {
    let report = parse_run(PASSING_RUN);
    assert_eq!(
        verdict(&Exit::TimedOut(Duration::from_secs(120)), &report),
        Err("killed after 120s".to_owned())
    );
}

#[test]
fn ansi_colour_codes_are_stripped() {
    let coloured =
        "\u{1b}[90m2026-11-24T07:54:12.029Z\u{1b}[0m [server-info] \u{1b}[36mINFO   \u{1b}[0m ok";
    assert_eq!(
        strip_ansi(coloured),
        "2026-11-24T07:54:12.029Z [server-info] INFO    ok"
    );
}

#[test]
fn osc_and_other_escapes_are_stripped() {
    assert_eq!(
        strip_ansi("a\u{1b}]0;title\u{7}b\u{1b}]8;;x\u{1b}\\c\u{1b}(Bd\u{1b}=e"),
        "abcde"
    );
}

#[test]
fn coloured_output_parses_once_stripped() {
    let run = "\u{1b}[90m2026-11-24T07:55:14.247Z\u{1b}[0m [token-request] \u{1b}[31mFAILURE\u{1b}[0m no token\n";
    assert_eq!(parse_run(&strip_ansi(run)).failed_checks, ["token-request"]);
}

#[test]
fn preload_lines_are_not_shown() {
    assert_eq!(
        shown_output("a\nloopback-preload: listening on 127.0.0.1:1\nb"),
        "    a\n    b"
    );
}

#[test]
fn expected_failures_are_read_with_their_reasons() {
    let text = "# header\n\n  # indented comment\nauth/x  # needs SEP-1\ninitialize#a # b\n";
    let entries = parse_expected_failures(text).expect("valid");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries["auth/x"], "needs SEP-1");
    assert_eq!(entries["initialize"], "a # b");
}

#[test]
fn comments_and_blank_lines_alone_are_an_empty_list() {
    assert!(
        parse_expected_failures("# format\n\n#\n")
            .expect("valid")
            .is_empty()
    );
}

#[test]
fn an_entry_without_a_reason_is_an_error_naming_its_line() {
    let error = parse_expected_failures("# header\nauth/x\n").expect_err("no reason");
    assert!(error.starts_with("2: no `# reason`"), "{error}");
    let error = parse_expected_failures("auth/x  #   \n").expect_err("empty reason");
    assert!(error.starts_with("1: an empty reason"), "{error}");
}

#[test]
fn an_entry_with_two_names_or_listed_twice_is_an_error() {
    let error = parse_expected_failures("a b # why\n").expect_err("two names");
    assert!(error.starts_with("1: not one scenario name"), "{error}");
    let error = parse_expected_failures("a # why\na # again\n").expect_err("twice");
    assert!(error.starts_with("2: a scenario listed twice"), "{error}");
}

fn row(scenario: &str, verdict: Verdict) -> Row {
    Row {
        scenario: scenario.to_owned(),
        verdict,
        checks: "1/1".to_owned(),
        detail: String::new(),
    }
}

#[test]
fn expected_failures_pass_and_stale_or_unknown_entries_fail() {
    let expected: HashMap<String, String> =
        [("b".to_owned(), "why".to_owned())].into_iter().collect();
    assert!(
        judge(
            &[row("a", Verdict::Pass), row("b", Verdict::ExpectedFail)],
            &expected
        )
        .is_ok()
    );
    let stale = judge(
        &[row("a", Verdict::Pass), row("b", Verdict::Pass)],
        &expected,
    )
    .expect_err("stale");
    assert!(
        stale.to_string().contains("now pass (remove them): b"),
        "{stale}"
    );
    let unknown = judge(&[row("a", Verdict::Pass)], &expected).expect_err("unknown");
    assert!(unknown.to_string().contains("not a scenario"), "{unknown}");
    let failed = judge(
        &[row("a", Verdict::Fail), row("b", Verdict::ExpectedFail)],
        &expected,
    )
    .expect_err("failed");
    assert_eq!(failed.to_string(), "failed: a");
}
